#include "cashback_sized.h"
#include "cashback_core.h"
#include "fixture.h"
#include "tests.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Two layouts of one struct: what an older caller was built with (v1) and
 * what this library fills (v2, one member more). */
typedef struct v1 {
  size_t size;
  int a;
  char b[8];
} v1;
typedef struct v2 {
  size_t size;
  int a;
  char b[8];
  long c;
} v2;

/* An older caller's struct gets only its prefix: the bytes after it (a
 * canary) are untouched, and `size` stays what the caller set. */
START_TEST(older_caller_gets_its_prefix) {
  struct {
    v1 s;
    unsigned char canary[32];
  } buf;
  memset(&buf, 0xA5, sizeof(buf));
  buf.s.size = sizeof(v1);
  v2 full = {.size = 12345, .a = 7, .b = "abc", .c = 99};
  ck_assert_int_eq(cashback__sized_check(buf.s.size, CASHBACK__SIZED_MIN(v1, b),
                                         "s.size", sizeof(v2), NULL, 0),
                   CASHBACK_OK);
  cashback__sized_copy(&buf.s, &full, sizeof(full));
  ck_assert_uint_eq(buf.s.size, sizeof(v1));
  ck_assert_int_eq(buf.s.a, 7);
  ck_assert_str_eq(buf.s.b, "abc");
  for (size_t i = 0; i < sizeof(buf.canary); i++)
    ck_assert_uint_eq(buf.canary[i], 0xA5);
  /* A newer caller's larger struct keeps its extra bytes. */
  struct {
    v2 s;
    unsigned char more[16];
  } big;
  memset(&big, 0x5A, sizeof(big));
  big.s.size = sizeof(big);
  cashback__sized_copy(&big.s, &full, sizeof(full));
  ck_assert_int_eq(big.s.c, 99);
  for (size_t i = 0; i < sizeof(big.more); i++)
    ck_assert_uint_eq(big.more[i], 0x5A);
}
END_TEST

START_TEST(too_small_is_refused_with_a_reason) {
  char why[CASHBACK_ERROR_MAX + 1];
  size_t min = CASHBACK__SIZED_MIN(v1, b);
  ck_assert_int_eq(
      cashback__sized_check(0, min, "out->size", sizeof(v2), why, sizeof(why)),
      CASHBACK_E_INVALID_ARGUMENT);
  ck_assert_msg(strstr(why, "out->size is 0") && strstr(why, "sizeof"), "%s",
                why);
  ck_assert_int_eq(cashback__sized_check(min - 1, min, "out->size", sizeof(v2),
                                         why, sizeof(why)),
                   CASHBACK_E_INVALID_ARGUMENT);
  ck_assert_int_eq(
      cashback__sized_check(min, min, "out->size", sizeof(v2), NULL, 0),
      CASHBACK_OK);
}
END_TEST

/* Every public function that fills a caller's struct: size 0 is refused
 * with a detail naming the member, and nothing past `size` is written. */
START_TEST(public_fillers_check_size) {
  int64_t now = 1700000000;
  char dir[] = "/tmp/cashback-sized-XXXXXX";
  ck_assert_ptr_nonnull(mkdtemp(dir));
  cashback_options *o = cashback_options_new();
  ck_assert_int_eq(cashback_options_set_merchant_id(o, "shop-1"), CASHBACK_OK);
  ck_assert_int_eq(cashback_options_set_key(o, "k1", FIXTURE_SECRET),
                   CASHBACK_OK);
  ck_assert_int_eq(
      cashback_options_set_endpoint(o, "http://127.0.0.1:9/v1/events"),
      CASHBACK_OK);
  ck_assert_int_eq(cashback_options_set_spool_dir(o, dir), CASHBACK_OK);
  ck_assert_int_eq(cashback_options_set_clock(o, fixture_clock, &now),
                   CASHBACK_OK);
  cashback_client *c = NULL;
  ck_assert_int_eq(cashback_client_new(o, &c, NULL, 0), CASHBACK_OK);
  char d[CASHBACK_ERROR_MAX + 1];

  cashback_queue_status qs = {.size = 0};
  ck_assert_int_eq(cashback_get_status(c, &qs), CASHBACK_E_INVALID_ARGUMENT);
  ck_assert_int_eq(cashback_client_last_error(c, d, sizeof(d)),
                   CASHBACK_E_INVALID_ARGUMENT);
  ck_assert_msg(strstr(d, "cashback_get_status: out->size is 0"), "%s", d);
  /* Short of the first published layout (which ends at in_flight_since;
   * paced_until and submission came after). */
  qs.size = offsetof(cashback_queue_status, in_flight_since) +
            sizeof(qs.in_flight_since) - 1;
  ck_assert_int_eq(cashback_get_status(c, &qs), CASHBACK_E_INVALID_ARGUMENT);
  qs.size = offsetof(cashback_queue_status, paced_until);
  ck_assert_int_eq(cashback_get_status(c, &qs), CASHBACK_OK);

  cashback_spool_info si = {.size = 0};
  ck_assert_int_eq(cashback_spool_check(c, &si), CASHBACK_E_INVALID_ARGUMENT);
  cashback_client_last_error(c, d, sizeof(d));
  ck_assert_msg(strstr(d, "cashback_spool_check: out->size is 0"), "%s", d);

  cashback_probe_result pr = {.size = 0};
  ck_assert_int_eq(cashback_probe(c, &pr), CASHBACK_E_INVALID_ARGUMENT);
  cashback_client_last_error(c, d, sizeof(d));
  ck_assert_msg(strstr(d, "cashback_probe: out->size is 0"), "%s", d);

  cashback_import_stats is = {.size = 0};
  ck_assert_int_eq(
      cashback_import_csv(c, "/nonexistent.csv", 0, NULL, NULL, &is),
      CASHBACK_E_INVALID_ARGUMENT);
  cashback_client_last_error(c, d, sizeof(d));
  ck_assert_msg(strstr(d, "cashback_import_csv: stats->size is 0"), "%s", d);

  /* A caller whose struct is larger (built against a newer header): only
   * this version's bytes are written, the rest stays. */
  struct {
    cashback_queue_status s;
    unsigned char canary[64];
  } big;
  memset(&big, 0xA5, sizeof(big));
  big.s.size = sizeof(big);
  ck_assert_int_eq(cashback_get_status(c, &big.s), CASHBACK_OK);
  ck_assert_uint_eq(big.s.size, sizeof(big));
  ck_assert_uint_eq(big.s.queued_events, 0);
  for (size_t i = 0; i < sizeof(big.canary); i++)
    ck_assert_uint_eq(big.canary[i], 0xA5);
  struct {
    cashback_spool_info s;
    unsigned char canary[64];
  } bsi;
  memset(&bsi, 0xA5, sizeof(bsi));
  bsi.s.size = sizeof(bsi);
  ck_assert_int_eq(cashback_spool_check(c, &bsi.s), CASHBACK_OK);
  ck_assert_str_eq(bsi.s.dir, dir);
  for (size_t i = 0; i < sizeof(bsi.canary); i++)
    ck_assert_uint_eq(bsi.canary[i], 0xA5);
  cashback_client_free(c);
  char cmd[128];
  snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
  ck_assert_int_eq(system(cmd), 0);
}
END_TEST

/* A received event: size 0 refused (no client: the status says it). */
START_TEST(received_event_checks_size) {
  static const char body[] =
      "{\"protocol\":1,\"merchant_id\":\"shop-1\",\"sent_at\":1700000000,"
      "\"events\":[{\"id\":\"x\",\"type\":\"confirm\",\"order_id\":\"1\"}]}";
  cashback_batch *b = NULL;
  ck_assert_int_eq(cashback_batch_parse(body, sizeof(body) - 1, 0, &b, NULL, 0),
                   CASHBACK_OK);
  struct {
    cashback_received_event e;
    unsigned char canary[16];
  } big;
  memset(&big, 0xA5, sizeof(big));
  big.e.size = 0;
  ck_assert_int_eq(cashback_batch_event(b, 0, &big.e),
                   CASHBACK_E_INVALID_ARGUMENT);
  big.e.size = sizeof(big);
  ck_assert_int_eq(cashback_batch_event(b, 0, &big.e), CASHBACK_OK);
  ck_assert_str_eq(big.e.order_id, "1");
  for (size_t i = 0; i < sizeof(big.canary); i++)
    ck_assert_uint_eq(big.canary[i], 0xA5);
  cashback_batch_free(b);
}
END_TEST

/* cashback__sized_begin(), the opening every filler shares: the call
 * begun (an earlier failure's detail dropped), client and struct checked,
 * nothing of the struct written. */
START_TEST(sized_begin_opens_a_call) {
  size_t min = CASHBACK__SIZED_MIN(v1, b);
  v2 s;
  memset(&s, 0x5A, sizeof(s));
  s.size = sizeof(s);
  ck_assert_int_eq(cashback__sized_begin(NULL, &s, 0, min, sizeof(s), "f: s"),
                   CASHBACK_E_INVALID_ARGUMENT);
  cashback_client *c = fixture_client("shop-1", NULL);
  char d[CASHBACK_ERROR_MAX + 1];
  ck_assert_int_eq(cashback__sized_begin(c, NULL, 0, min, sizeof(s), "f: s"),
                   CASHBACK_E_INVALID_ARGUMENT);
  ck_assert_int_eq(cashback_client_last_error(c, d, sizeof(d)),
                   CASHBACK_E_INVALID_ARGUMENT);
  ck_assert_str_eq(d, "f: s must not be NULL");
  /* Optional: NULL is fine, and the call's start dropped that detail. */
  ck_assert_int_eq(cashback__sized_begin(c, NULL, 1, min, sizeof(s), "f: s"),
                   CASHBACK_OK);
  ck_assert_int_eq(cashback_client_last_error(c, d, sizeof(d)), CASHBACK_OK);
  s.size = min - 1;
  ck_assert_int_eq(cashback__sized_begin(c, &s, 1, min, sizeof(s), "f: s"),
                   CASHBACK_E_INVALID_ARGUMENT);
  cashback_client_last_error(c, d, sizeof(d));
  ck_assert_msg(strstr(d, "f: s->size is ") && strstr(d, "sizeof"), "%s", d);
  ck_assert_uint_eq(s.size, min - 1);
  ck_assert_int_eq(s.a, 0x5A5A5A5A); /* nothing written */
  s.size = min;
  ck_assert_int_eq(cashback__sized_begin(c, &s, 0, min, sizeof(s), "f: s"),
                   CASHBACK_OK);
  ck_assert_int_eq(cashback_client_last_error(c, d, sizeof(d)), CASHBACK_OK);
  ck_assert_int_eq(s.a, 0x5A5A5A5A);
  cashback_client_free(c);
}
END_TEST

TCase *cashback_test_sized(void) {
  TCase *tc = tcase_create("sized");
  tcase_add_test(tc, older_caller_gets_its_prefix);
  tcase_add_test(tc, too_small_is_refused_with_a_reason);
  tcase_add_test(tc, public_fillers_check_size);
  tcase_add_test(tc, received_event_checks_size);
  tcase_add_test(tc, sized_begin_opens_a_call);
  return tc;
}
