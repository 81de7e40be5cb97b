#include "cashback.h"
#include "cashback_event.h"
#include "cashback_crypto.h"
#include "fixture.h"
#include "tests.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CORPUS_DIGEST                                                          \
  "64a39f7ebecb1104caa7a045ea042eb79e9d3d1a47a23fd75ae0e0779c14a408"

static int64_t now = 1764000000; /* 2025-11-24T16:00:00Z */

/* Parses the event's wire JSON (finalizing it). */
static cJSON *to_json(cashback_client *c, cashback_event *ev) {
  char *text = NULL;
  size_t len = 0;
  ck_assert_int_eq(cashback_event_to_json(c, ev, &text, &len), CASHBACK_OK);
  ck_assert_uint_eq(len, strlen(text));
  cJSON *j = cJSON_Parse(text);
  ck_assert_ptr_nonnull(j);
  cashback_free(text);
  return j;
}

static cashback_event *sale(const char *order) {
  cashback_event *ev = cashback_event_new(CASHBACK_EVENT_SALE, order);
  ck_assert_ptr_nonnull(ev);
  ck_assert_int_eq(cashback_event_set_click(ev, "tok-1"), CASHBACK_OK);
  ck_assert_int_eq(cashback_event_set_amount_decimal(ev, "49.90", "EUR"),
                   CASHBACK_OK);
  return ev;
}

START_TEST(new_validates_order_id) {
  ck_assert_ptr_null(cashback_event_new(CASHBACK_EVENT_SALE, NULL));
  ck_assert_ptr_null(cashback_event_new(CASHBACK_EVENT_SALE, ""));
  ck_assert_ptr_null(cashback_event_new(CASHBACK_EVENT_SALE, "a b"));
  ck_assert_ptr_null(cashback_event_new(CASHBACK_EVENT_SALE, "a\nb"));
  ck_assert_ptr_null(cashback_event_new((cashback_event_type)9, "1"));
  char long_id[CASHBACK_ID_MAX + 2];
  memset(long_id, 'x', sizeof(long_id) - 1);
  long_id[sizeof(long_id) - 1] = '\0';
  ck_assert_ptr_null(cashback_event_new(CASHBACK_EVENT_SALE, long_id));
  long_id[CASHBACK_ID_MAX] = '\0';
  cashback_event *ev = cashback_event_new(CASHBACK_EVENT_SALE, long_id);
  ck_assert_ptr_nonnull(ev);
  cashback_event_free(ev);
  cashback_event_free(NULL);
}
END_TEST

START_TEST(type_names) {
  ck_assert_str_eq(cashback_event_type_name(CASHBACK_EVENT_SALE), "sale");
  ck_assert_str_eq(cashback_event_type_name(CASHBACK_EVENT_REFUND), "refund");
  ck_assert_str_eq(cashback_event_type_name(CASHBACK_EVENT_CANCEL), "cancel");
  ck_assert_str_eq(cashback_event_type_name(CASHBACK_EVENT_CONFIRM), "confirm");
  ck_assert_ptr_null(cashback_event_type_name((cashback_event_type)0));
  ck_assert_ptr_null(cashback_event_type_name((cashback_event_type)5));
}
END_TEST

START_TEST(sale_id_is_stable_and_documented) {
  cashback_client *c = fixture_client("shop-42", &now);
  char id1[CASHBACK_EVENT_ID_LEN + 1], id2[CASHBACK_EVENT_ID_LEN + 1];
  cashback_event *a = sale("1001"), *b = sale("1001");
  /* A reloaded thank-you page: another amount, the same order. */
  ck_assert_int_eq(cashback_event_set_amount(b, 100, "EUR"), CASHBACK_OK);
  ck_assert_int_eq(cashback_event_finalize(c, a, id1), CASHBACK_OK);
  ck_assert_int_eq(cashback_event_finalize(c, b, id2), CASHBACK_OK);
  /* docs/protocol.md: sha256("cashback-event-v1\0shop-42\0sale\01001"). */
  ck_assert_str_eq(id1, "c8a9d4c385cc850fbc2aa93b160c738f");
  ck_assert_str_eq(id1, id2);
  cashback_event_free(a);
  cashback_event_free(b);
  /* Another merchant, the same order number: another sale. */
  cashback_client *other = fixture_client("shop-43", &now);
  a = sale("1001");
  ck_assert_int_eq(cashback_event_finalize(other, a, id1), CASHBACK_OK);
  ck_assert_str_eq(id1, "13fcb7d1ecdf300c6346c83f8e290464");
  /* Finalized for shop-43, it cannot be reported as shop-42's. */
  ck_assert_int_eq(cashback_event_finalize(c, a, id1), CASHBACK_E_FIELD);
  cashback_event_free(a);
  cashback_client_free(other);
  cashback_client_free(c);
}
END_TEST

START_TEST(refund_ids) {
  cashback_client *c = fixture_client("shop-42", &now);
  char id1[CASHBACK_EVENT_ID_LEN + 1], id2[CASHBACK_EVENT_ID_LEN + 1];
  cashback_event *r1 = cashback_event_new(CASHBACK_EVENT_REFUND, "1001");
  cashback_event *r2 = cashback_event_new(CASHBACK_EVENT_REFUND, "1001");
  ck_assert_int_eq(cashback_event_set_amount(r1, 500, "EUR"), CASHBACK_OK);
  ck_assert_int_eq(cashback_event_set_amount(r2, 500, "EUR"), CASHBACK_OK);
  /* Without a refund id every refund is its own event. */
  ck_assert_int_eq(cashback_event_finalize(c, r1, id1), CASHBACK_OK);
  ck_assert_int_eq(cashback_event_finalize(c, r2, id2), CASHBACK_OK);
  ck_assert_str_ne(id1, id2);
  ck_assert_uint_eq(strlen(id1), CASHBACK_EVENT_ID_LEN);
  /* Finalizing again keeps the id. */
  char again[CASHBACK_EVENT_ID_LEN + 1];
  ck_assert_int_eq(cashback_event_finalize(c, r1, again), CASHBACK_OK);
  ck_assert_str_eq(id1, again);
  cashback_event_free(r1);
  cashback_event_free(r2);
  /* With one, the same refund reported twice has one id. */
  r1 = cashback_event_new(CASHBACK_EVENT_REFUND, "1001");
  ck_assert_int_eq(cashback_event_set_amount(r1, 500, "EUR"), CASHBACK_OK);
  ck_assert_int_eq(cashback_event_set_refund_id(r1, "CN-1"), CASHBACK_OK);
  ck_assert_int_eq(cashback_event_finalize(c, r1, id1), CASHBACK_OK);
  ck_assert_str_eq(id1, "8559ff5872e7ee0cf560e2faf0c8e87d");
  cashback_event_free(r1);
  cashback_client_free(c);
}
END_TEST

START_TEST(completeness_per_type) {
  cashback_client *c = fixture_client("shop-42", &now);
  cashback_event *ev = cashback_event_new(CASHBACK_EVENT_SALE, "1");
  ck_assert_int_eq(cashback_event_finalize(c, ev, NULL), CASHBACK_E_FIELD);
  ck_assert_ptr_nonnull(strstr(cashback_event_last_error(ev), "amount"));
  char detail[CASHBACK_ERROR_MAX + 1];
  ck_assert_int_eq(cashback_client_last_error(c, detail, sizeof(detail)),
                   CASHBACK_E_FIELD);
  ck_assert_ptr_nonnull(strstr(detail, "order 1: amount"));
  ck_assert_int_eq(cashback_event_set_amount(ev, 100, "EUR"), CASHBACK_OK);
  ck_assert_int_eq(cashback_event_finalize(c, ev, NULL), CASHBACK_E_FIELD);
  ck_assert_ptr_nonnull(strstr(cashback_event_last_error(ev), "click"));
  /* A voucher alone can attribute a sale. */
  ck_assert_int_eq(cashback_event_add_voucher(ev, "SAVE10"), CASHBACK_OK);
  ck_assert_int_eq(cashback_event_finalize(c, ev, NULL), CASHBACK_OK);
  cashback_event_free(ev);

  ev = cashback_event_new(CASHBACK_EVENT_REFUND, "1");
  ck_assert_int_eq(cashback_event_finalize(c, ev, NULL), CASHBACK_E_FIELD);
  ck_assert_int_eq(cashback_event_set_amount(ev, 0, "EUR"), CASHBACK_OK);
  ck_assert_int_eq(cashback_event_finalize(c, ev, NULL), CASHBACK_E_AMOUNT);
  cashback_event_free(ev);

  ev = cashback_event_new(CASHBACK_EVENT_CANCEL, "1");
  ck_assert_int_eq(cashback_event_set_reason(ev, "CONS_FRAUD"), CASHBACK_OK);
  ck_assert_int_eq(cashback_event_finalize(c, ev, NULL), CASHBACK_OK);
  cashback_event_free(ev);

  ev = cashback_event_new(CASHBACK_EVENT_CONFIRM, "1");
  ck_assert_int_eq(cashback_event_finalize(c, ev, NULL), CASHBACK_OK);
  cashback_event_free(ev);

  /* Items need the currency of the event. */
  ev = cashback_event_new(CASHBACK_EVENT_CONFIRM, "1");
  ck_assert_int_eq(cashback_event_add_item(ev, "A", NULL, 1, 1, NULL),
                   CASHBACK_OK);
  ck_assert_int_eq(cashback_event_finalize(c, ev, NULL), CASHBACK_E_FIELD);
  ck_assert_ptr_nonnull(strstr(cashback_event_last_error(ev), "items"));
  cashback_event_free(ev);
  cashback_client_free(c);
}
END_TEST

START_TEST(field_errors_name_the_field) {
  cashback_event *ev = cashback_event_new(CASHBACK_EVENT_SALE, "1001");
  ck_assert_int_eq(cashback_event_set_click(ev, "bad token"), CASHBACK_E_FIELD);
  ck_assert_ptr_nonnull(strstr(cashback_event_last_error(ev), "click"));
  ck_assert_int_eq(cashback_event_set_click(ev, "a;b"), CASHBACK_E_FIELD);
  ck_assert_int_eq(cashback_event_set_click(ev, ""), CASHBACK_E_FIELD);
  ck_assert_int_eq(cashback_event_set_amount(ev, -1, "EUR"), CASHBACK_E_AMOUNT);
  ck_assert_int_eq(
      cashback_event_set_amount(ev, INT64_C(1000000000000001), "EUR"),
      CASHBACK_E_AMOUNT);
  ck_assert_int_eq(cashback_event_set_amount(ev, 1, "EURO"),
                   CASHBACK_E_CURRENCY);
  ck_assert_int_eq(cashback_event_set_amount(ev, 1, "XAU"),
                   CASHBACK_E_CURRENCY);
  ck_assert_ptr_nonnull(strstr(cashback_event_last_error(ev), "currency"));
  ck_assert_int_eq(cashback_event_set_amount_decimal(ev, "49.905", "EUR"),
                   CASHBACK_E_AMOUNT);
  ck_assert_ptr_nonnull(strstr(cashback_event_last_error(ev), "49.905"));
  ck_assert_int_eq(cashback_event_set_amount_decimal(ev, "4.9e1", "EUR"),
                   CASHBACK_E_AMOUNT);
  ck_assert_int_eq(cashback_event_set_amount_decimal(ev, "-1.00", "EUR"),
                   CASHBACK_E_AMOUNT);
  ck_assert_int_eq(cashback_event_set_order_time(ev, 0, 841), CASHBACK_E_FIELD);
  ck_assert_int_eq(cashback_event_set_order_time(ev, -5, 0), CASHBACK_E_FIELD);
  ck_assert_int_eq(cashback_event_add_item(ev, "", "n", 1, 1, NULL),
                   CASHBACK_E_FIELD);
  ck_assert_int_eq(cashback_event_add_item(ev, "A", "n", 0, 1, NULL),
                   CASHBACK_E_FIELD);
  ck_assert_ptr_nonnull(
      strstr(cashback_event_last_error(ev), "items[0].quantity"));
  ck_assert_int_eq(cashback_event_add_item(ev, "A", "bad\xff", 1, 1, NULL),
                   CASHBACK_E_FIELD);
  ck_assert_int_eq(cashback_event_add_item(ev, "A", "\xc0\xaf", 1, 1, NULL),
                   CASHBACK_E_FIELD); /* overlong '/' */
  ck_assert_int_eq(cashback_event_add_item(ev, "A", "\xed\xa0\x80", 1, 1, NULL),
                   CASHBACK_E_FIELD); /* surrogate */
  ck_assert_int_eq(cashback_event_add_item(ev, "A", "a\r\nb", 1, 1, NULL),
                   CASHBACK_E_FIELD);
  ck_assert_int_eq(cashback_event_add_item(ev, "A",
                                           "Bl\xc3\xa5"
                                           "b\xc3\xa6r",
                                           2, -1, NULL),
                   CASHBACK_E_AMOUNT);
  ck_assert_int_eq(cashback_event_add_voucher(ev, "has space"),
                   CASHBACK_E_FIELD);
  ck_assert_int_eq(cashback_event_set_customer(ev, (cashback_customer)7),
                   CASHBACK_E_FIELD);
  ck_assert_int_eq(cashback_event_set_metadata(ev, "bad key", "v"),
                   CASHBACK_E_FIELD);
  ck_assert_int_eq(cashback_event_set_metadata(ev, "k", "\x01"),
                   CASHBACK_E_FIELD);
  ck_assert_int_eq(cashback_event_set_refund_id(ev, "R1"), CASHBACK_E_FIELD);
  ck_assert_ptr_nonnull(strstr(cashback_event_last_error(ev), "refund_id"));
  ck_assert_int_eq(cashback_event_set_reason(ev, "x"), CASHBACK_E_FIELD);
  ck_assert_int_eq(cashback_event_set_click(NULL, "x"),
                   CASHBACK_E_INVALID_ARGUMENT);
  cashback_event_free(ev);
}
END_TEST

START_TEST(caps) {
  cashback_event *ev = cashback_event_new(CASHBACK_EVENT_SALE, "1001");
  for (int i = 0; i < 1000; i++)
    ck_assert_int_eq(cashback_event_add_item(ev, "SKU", NULL, 1, 1, NULL),
                     CASHBACK_OK);
  ck_assert_int_eq(cashback_event_add_item(ev, "SKU", NULL, 1, 1, NULL),
                   CASHBACK_E_TOO_BIG);
  char code[8];
  for (int i = 0; i < 20; i++) {
    snprintf(code, sizeof(code), "V%d", i);
    ck_assert_int_eq(cashback_event_add_voucher(ev, code), CASHBACK_OK);
  }
  ck_assert_int_eq(cashback_event_add_voucher(ev, "V0"), CASHBACK_E_TOO_BIG);
  char big[2100];
  memset(big, 'v', sizeof(big) - 1);
  big[sizeof(big) - 1] = '\0';
  ck_assert_int_eq(cashback_event_set_metadata(ev, "a", big), CASHBACK_OK);
  ck_assert_int_eq(cashback_event_set_metadata(ev, "b", big),
                   CASHBACK_E_TOO_BIG);
  ck_assert_ptr_nonnull(strstr(cashback_event_last_error(ev), "metadata.b"));
  /* Replacing a value frees its share of the cap. */
  ck_assert_int_eq(cashback_event_set_metadata(ev, "a", "small"), CASHBACK_OK);
  ck_assert_int_eq(cashback_event_set_metadata(ev, "b", big), CASHBACK_OK);
  cashback_event_free(ev);
}
END_TEST

/* --- The size cap: what the setters take always serializes ------------- */

static void fill(char *buf, size_t n, char ch) {
  memset(buf, ch, n);
  buf[n] = '\0';
}

/* A sale with every field but items, vouchers and metadata at its longest
 * and most escaped. */
static cashback_event *longest_sale(void) {
  char oid[CASHBACK_ID_MAX + 1];
  fill(oid, CASHBACK_ID_MAX, '"');
  cashback_event *ev = cashback_event_new(CASHBACK_EVENT_SALE, oid);
  ck_assert_ptr_nonnull(ev);
  cashback_click click = {.captured_at = INT64_C(253402300799)};
  fill(click.token, CASHBACK_TOKEN_MAX, '~');
  fill(click.source, CASHBACK_PARAM_MAX, '_');
  ck_assert_int_eq(cashback_event_set_click_full(ev, &click), CASHBACK_OK);
  ck_assert_int_eq(
      cashback_event_set_amount(ev, INT64_C(1000000000000000), "BHD"),
      CASHBACK_OK);
  ck_assert_int_eq(
      cashback_event_set_order_time(ev, INT64_C(253402300799) - 86400, -840),
      CASHBACK_OK);
  ck_assert_int_eq(cashback_event_set_customer(ev, CASHBACK_CUSTOMER_RETURNING),
                   CASHBACK_OK);
  ck_assert_int_eq(cashback_event_set_test(ev, 1), CASHBACK_OK);
  return ev;
}

static size_t json_len(cashback_client *c, cashback_event *ev) {
  char *text = NULL;
  size_t len = 0;
  ck_assert_msg(cashback_event_to_json(c, ev, &text, &len) == CASHBACK_OK, "%s",
                cashback_event_last_error(ev));
  cJSON *j = cJSON_Parse(text);
  ck_assert_ptr_nonnull(j);
  cJSON_Delete(j);
  cashback_free(text);
  return len;
}

START_TEST(largest_event_the_setters_take_serializes) {
  int64_t t = now;
  cashback_client *c = fixture_client("shop-1", &t);
  /* Without items, vouchers and metadata: within the fixed bound. */
  cashback_event *base = longest_sale();
  size_t len0 = json_len(c, base);
  ck_assert_uint_le(len0, CASHBACK__EVENT_FIXED_MAX);
  cashback_event_free(base);
  cashback_event *refund = cashback_event_new(CASHBACK_EVENT_REFUND, "1");
  char rid[CASHBACK_ID_MAX + 1], why[CASHBACK_ID_MAX + 1];
  fill(rid, CASHBACK_ID_MAX, '\\');
  fill(why, CASHBACK_ID_MAX, 'r');
  char oid[CASHBACK_ID_MAX + 1];
  fill(oid, CASHBACK_ID_MAX, '"');
  cashback_event_free(refund);
  refund = cashback_event_new(CASHBACK_EVENT_REFUND, oid);
  ck_assert_int_eq(cashback_event_set_refund_id(refund, rid), CASHBACK_OK);
  ck_assert_int_eq(cashback_event_set_reason(refund, why), CASHBACK_OK);
  ck_assert_int_eq(cashback_event_set_amount(refund, 1, "EUR"), CASHBACK_OK);
  ck_assert_int_eq(cashback_event_set_test(refund, 1), CASHBACK_OK);
  ck_assert_uint_le(json_len(c, refund), CASHBACK__EVENT_FIXED_MAX);
  cashback_event_free(refund);

  /* Then vouchers, metadata and items, every one at its longest and most
   * escaped, until a setter refuses: that is the item that would pass the
   * cap (it used to take 1000 of them and fail at serialization). */
  cashback_event *ev = longest_sale();
  char code[CASHBACK_ID_MAX + 1];
  for (int i = 0; i < 20; i++) {
    fill(code, CASHBACK_ID_MAX, '"');
    code[0] = (char)('A' + i);
    ck_assert_int_eq(cashback_event_add_voucher(ev, code), CASHBACK_OK);
  }
  char key[CASHBACK_ID_MAX + 1], value[2001];
  fill(key, CASHBACK_ID_MAX, 'k');
  fill(value, 2000, '\n');
  ck_assert_int_eq(cashback_event_set_metadata(ev, key, value), CASHBACK_OK);
  char sku[CASHBACK_ID_MAX + 1], name[257], cat[CASHBACK_ID_MAX + 1];
  fill(sku, CASHBACK_ID_MAX, '"');
  fill(name, 256, '\\');
  fill(cat, CASHBACK_ID_MAX, '"');
  size_t k = 0;
  cashback_status st;
  while ((st = cashback_event_add_item(ev, sku, name, 1000000,
                                       INT64_C(1000000000000000), cat)) ==
         CASHBACK_OK)
    k++;
  ck_assert_int_eq(st, CASHBACK_E_TOO_BIG);
  ck_assert_uint_lt(k, 1000);
  ck_assert_uint_gt(k, 250);
  char want[32];
  snprintf(want, sizeof(want), "items[%zu]: ", k);
  ck_assert_msg(strncmp(cashback_event_last_error(ev), want, strlen(want)) == 0,
                "%s", cashback_event_last_error(ev));
  ck_assert_ptr_nonnull(strstr(cashback_event_last_error(ev), "258048 bytes"));

  /* The cap is counted in bytes: an item of exactly the bytes left fits. */
  size_t left = CASHBACK__EVENT_JSON_MAX - cashback__event_size_bound(ev);
  char filler[201];
  fill(filler, 200, 'f');
  for (; left > 340; left -= 250, k++) /* 250 bytes each */
    ck_assert_int_eq(cashback_event_add_item(ev, "s", filler, 1, 0, NULL),
                     CASHBACK_OK);
  ck_assert_uint_eq(left,
                    CASHBACK__EVENT_JSON_MAX - cashback__event_size_bound(ev));
  ck_assert_uint_ge(left, 40);
  size_t r = left - 40; /* {"sku":"s","quantity":1,"unit_price":0}, */
  char nm[257] = "", ct[CASHBACK_ID_MAX + 1] = "";
  if (r >= 10) {
    size_t m = r - 10 < 256 ? r - 10 : 256;
    fill(nm, m, 'n');
    r -= 10 + m;
  }
  if (r > 15) {
    size_t m = r - 14 < CASHBACK_ID_MAX ? r - 14 : CASHBACK_ID_MAX;
    fill(ct, m, 'c');
    r -= 14 + m;
  }
  ck_assert_uint_le(r, 15);
  int64_t price = 0;
  for (size_t i = 0; i < r; i++)
    price = price * 10 + 9; /* r + 1 digits */
  if (r)
    price = price * 10 + 9;
  ck_assert_int_eq(cashback_event_add_item(ev, "s", nm[0] ? nm : NULL, 1, price,
                                           ct[0] ? ct : NULL),
                   CASHBACK_OK);
  ck_assert_uint_eq(cashback__event_size_bound(ev), CASHBACK__EVENT_JSON_MAX);
  /* One more byte of anything fails at its setter, naming it. */
  ck_assert_int_eq(cashback_event_add_item(ev, "s", NULL, 1, 0, NULL),
                   CASHBACK_E_TOO_BIG);
  snprintf(want, sizeof(want), "items[%zu]: ", k + 1);
  ck_assert_msg(strncmp(cashback_event_last_error(ev), want, strlen(want)) == 0,
                "%s", cashback_event_last_error(ev));
  ck_assert_int_eq(cashback_event_set_metadata(ev, "z", "1"),
                   CASHBACK_E_TOO_BIG);
  ck_assert_ptr_nonnull(strstr(cashback_event_last_error(ev), "metadata.z: "));

  /* It serializes, within the cap, and the setters' count is exact. */
  size_t len = json_len(c, ev);
  ck_assert_uint_le(len, CASHBACK__EVENT_JSON_MAX);
  ck_assert_uint_eq(len - len0,
                    cashback__event_size_bound(ev) - CASHBACK__EVENT_FIXED_MAX);
  cashback_event_free(ev);
  cashback_client_free(c);
}
END_TEST

START_TEST(largest_event_is_reported_and_quarantinable) {
  /* The same event through cashback_report(): it fits a spool record with
   * room for a quarantine entry around it. */
  char dir[64];
  snprintf(dir, sizeof(dir), "/tmp/cbevent-XXXXXX");
  ck_assert_ptr_nonnull(mkdtemp(dir));
  cashback_options *o = cashback_options_new();
  ck_assert_int_eq(cashback_options_set_merchant_id(o, "shop-1"), CASHBACK_OK);
  ck_assert_int_eq(cashback_options_set_key(o, "k1", FIXTURE_SECRET),
                   CASHBACK_OK);
  ck_assert_int_eq(
      cashback_options_set_endpoint(o, "https://api.network.example/v1/events"),
      CASHBACK_OK);
  char sd[96];
  snprintf(sd, sizeof(sd), "%s/spool", dir);
  ck_assert_int_eq(cashback_options_set_spool_dir(o, sd), CASHBACK_OK);
  cashback_client *c = NULL;
  ck_assert_int_eq(cashback_client_new(o, &c, NULL, 0), CASHBACK_OK);
  cashback_event *ev = longest_sale();
  char sku[CASHBACK_ID_MAX + 1], name[257];
  fill(sku, CASHBACK_ID_MAX, '"');
  fill(name, 256, '"');
  while (cashback_event_add_item(ev, sku, name, 1, 1, sku) == CASHBACK_OK)
    ;
  ck_assert_int_eq(cashback_report(c, ev, NULL), CASHBACK_OK);
  cashback_queue_status s = {.size = sizeof(s)};
  ck_assert_int_eq(cashback_get_status(c, &s), CASHBACK_OK);
  ck_assert_uint_eq(s.queued_events, 1);
  ck_assert_uint_ge(s.queued_bytes, CASHBACK__EVENT_JSON_MAX - 2048);
  ck_assert_uint_le(s.queued_bytes, CASHBACK__RECORD_MAX -
                                        CASHBACK__QUARANTINE_RESERVE +
                                        CASHBACK__RECORD_HEADER);
  cashback_event_free(ev);
  cashback_client_free(c);
  char cmd[128];
  snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
  ck_assert_int_eq(system(cmd), 0);
}
END_TEST

START_TEST(json_has_every_field_exactly) {
  cashback_client *c = fixture_client("shop-42", &now);
  cashback_event *ev = sale("1001");
  cashback_click click = {
      .token = "abc.DEF_1~2-3", .source = "awc", .captured_at = now - 3600};
  ck_assert_int_eq(cashback_event_set_click_full(ev, &click), CASHBACK_OK);
  ck_assert_int_eq(
      cashback_event_set_amount(ev, INT64_C(999999999999999), "EUR"),
      CASHBACK_OK);
  ck_assert_int_eq(cashback_event_set_order_time(ev, now - 60, 60),
                   CASHBACK_OK);
  ck_assert_int_eq(cashback_event_add_item(ev, "SKU-1", "Caf\xc3\xa9 \"x\"", 2,
                                           2495, "coffee"),
                   CASHBACK_OK);
  ck_assert_int_eq(cashback_event_add_voucher(ev, "SAVE10"), CASHBACK_OK);
  ck_assert_int_eq(cashback_event_set_customer(ev, CASHBACK_CUSTOMER_RETURNING),
                   CASHBACK_OK);
  ck_assert_int_eq(cashback_event_set_metadata(ev, "channel", "app\nv2"),
                   CASHBACK_OK);
  ck_assert_int_eq(cashback_event_set_test(ev, 1), CASHBACK_OK);
  cJSON *j = to_json(c, ev);
  ck_assert_str_eq(cJSON_GetObjectItem(j, "id")->valuestring,
                   "c8a9d4c385cc850fbc2aa93b160c738f");
  ck_assert_str_eq(cJSON_GetObjectItem(j, "type")->valuestring, "sale");
  ck_assert_str_eq(cJSON_GetObjectItem(j, "order_id")->valuestring, "1001");
  ck_assert_str_eq(cJSON_GetObjectItem(j, "reported_at")->valuestring,
                   "2025-11-24T16:00:00Z");
  ck_assert_str_eq(cJSON_GetObjectItem(j, "order_time")->valuestring,
                   "2025-11-24T16:59:00+01:00");
  ck_assert(cJSON_IsTrue(cJSON_GetObjectItem(j, "test")));
  cJSON *cl = cJSON_GetObjectItem(j, "click");
  ck_assert_str_eq(cJSON_GetObjectItem(cl, "token")->valuestring,
                   "abc.DEF_1~2-3");
  ck_assert_str_eq(cJSON_GetObjectItem(cl, "source")->valuestring, "awc");
  ck_assert_str_eq(cJSON_GetObjectItem(cl, "captured_at")->valuestring,
                   "2025-11-24T15:00:00Z");
  ck_assert_str_eq(cJSON_GetObjectItem(j, "currency")->valuestring, "EUR");
  ck_assert_str_eq(cJSON_GetObjectItem(j, "customer")->valuestring,
                   "returning");
  cJSON *item = cJSON_GetArrayItem(cJSON_GetObjectItem(j, "items"), 0);
  ck_assert_str_eq(cJSON_GetObjectItem(item, "name")->valuestring,
                   "Caf\xc3\xa9 \"x\"");
  ck_assert_str_eq(cJSON_GetObjectItem(item, "category")->valuestring,
                   "coffee");
  ck_assert_str_eq(
      cJSON_GetArrayItem(cJSON_GetObjectItem(j, "vouchers"), 0)->valuestring,
      "SAVE10");
  ck_assert_str_eq(
      cJSON_GetObjectItem(cJSON_GetObjectItem(j, "metadata"), "channel")
          ->valuestring,
      "app\nv2");
  ck_assert_ptr_null(cJSON_GetObjectItem(j, "refund_id"));
  cJSON_Delete(j);

  /* Integers are written digit for digit, never through a double. */
  char *text = NULL;
  ck_assert_int_eq(cashback_event_to_json(c, ev, &text, NULL), CASHBACK_OK);
  ck_assert_ptr_nonnull(strstr(text, "\"amount\":999999999999999,"));
  ck_assert_ptr_nonnull(strstr(text, "\"quantity\":2,\"unit_price\":2495"));
  cashback_free(text);
  /* A finalized event cannot change. */
  ck_assert_int_eq(cashback_event_set_amount(ev, 1, "EUR"), CASHBACK_E_FIELD);
  ck_assert_ptr_nonnull(strstr(cashback_event_last_error(ev), "finalized"));
  cashback_event_free(ev);
  cashback_client_free(c);
}
END_TEST

START_TEST(json_minimal_cancel) {
  cashback_client *c = fixture_client("shop-42", &now);
  cashback_event *ev = cashback_event_new(CASHBACK_EVENT_CANCEL, "A-7");
  char *text = NULL;
  ck_assert_int_eq(cashback_event_to_json(c, ev, &text, NULL), CASHBACK_OK);
  cJSON *j = cJSON_Parse(text);
  ck_assert_int_eq(cJSON_GetArraySize(j), 5); /* id type order reported ot */
  ck_assert_ptr_null(cJSON_GetObjectItem(j, "amount"));
  ck_assert_ptr_null(cJSON_GetObjectItem(j, "test"));
  cJSON_Delete(j);
  cashback_free(text);
  cashback_event_free(ev);
  ck_assert_int_eq(cashback_event_to_json(NULL, NULL, &text, NULL),
                   CASHBACK_E_INVALID_ARGUMENT);
  cashback_client_free(c);
}
END_TEST

/* No control byte, DEL or byte above 0x7e anywhere in `s`. */
static void assert_printable(const char *s) {
  for (const char *p = s; *p; p++)
    ck_assert_msg((unsigned char)*p >= 0x20 && (unsigned char)*p < 0x7f,
                  "byte 0x%02x in '%s'", (unsigned char)*p, s);
}

START_TEST(errors_show_caller_bytes_printable) {
  cashback_event *ev = cashback_event_new(CASHBACK_EVENT_SALE, "1001");
  /* A terminal escape in the currency and in the amount. */
  ck_assert_int_eq(cashback_event_set_amount(ev, 1, "E\x1b]0;x\x07"),
                   CASHBACK_E_CURRENCY);
  assert_printable(cashback_event_last_error(ev));
  ck_assert_ptr_nonnull(
      strstr(cashback_event_last_error(ev), "'E\\x1b]0;x\\x07'"));
  ck_assert_int_eq(cashback_event_set_amount_decimal(ev, "4\x1b[2J9\r", "EUR"),
                   CASHBACK_E_AMOUNT);
  assert_printable(cashback_event_last_error(ev));
  ck_assert_ptr_nonnull(
      strstr(cashback_event_last_error(ev), "'4\\x1b[2J9\\x0d'"));
  /* Bytes above 0x7e too (a C1 CSI is 0x9b in some terminals). */
  ck_assert_int_eq(cashback_event_set_amount_decimal(ev,
                                                     "\x9b"
                                                     "2J",
                                                     "EUR"),
                   CASHBACK_E_AMOUNT);
  assert_printable(cashback_event_last_error(ev));
  ck_assert_ptr_nonnull(strstr(cashback_event_last_error(ev), "\\x9b2J"));
  ck_assert_int_eq(cashback_event_set_metadata(ev, "note", "a\x1b[1mb"),
                   CASHBACK_E_FIELD);
  assert_printable(cashback_event_last_error(ev));
  cashback_event_free(ev);
}
END_TEST

/* The request's click goes to a sale that names none, and nowhere else. */
START_TEST(click_default_only_fills_a_sale_without_click) {
  cashback_client *c = fixture_client("shop-42", &now);
  const cashback_click req = {
      .token = "from-cookie", .source = "awc", .captured_at = now - 7200};
  /* A sale without a click: gets the request's, with its capture time. */
  cashback_event *ev = cashback_event_new(CASHBACK_EVENT_SALE, "2001");
  ck_assert_ptr_nonnull(ev);
  ck_assert_int_eq(cashback_event_set_amount(ev, 4990, "EUR"), CASHBACK_OK);
  ck_assert_int_eq(cashback_event_set_click_default(ev, &req), CASHBACK_OK);
  cJSON *j = to_json(c, ev);
  cJSON *click = cJSON_GetObjectItem(j, "click");
  ck_assert_ptr_nonnull(click);
  ck_assert_str_eq(cJSON_GetObjectItem(click, "token")->valuestring,
                   "from-cookie");
  ck_assert_str_eq(cJSON_GetObjectItem(click, "source")->valuestring, "awc");
  ck_assert_ptr_nonnull(cJSON_GetObjectItem(click, "captured_at"));
  cJSON_Delete(j);
  cashback_event_free(ev);
  /* A sale with its own click (even a bare token) keeps it. */
  ev = sale("2002");
  ck_assert_int_eq(cashback_event_set_click_default(ev, &req), CASHBACK_OK);
  j = to_json(c, ev);
  click = cJSON_GetObjectItem(j, "click");
  ck_assert_str_eq(cJSON_GetObjectItem(click, "token")->valuestring, "tok-1");
  ck_assert_ptr_null(cJSON_GetObjectItem(click, "captured_at"));
  cJSON_Delete(j);
  cashback_event_free(ev);
  /* A refund, a cancel, a confirm: none of the request's click. */
  const cashback_event_type others[] = {
      CASHBACK_EVENT_REFUND, CASHBACK_EVENT_CANCEL, CASHBACK_EVENT_CONFIRM};
  for (size_t i = 0; i < sizeof(others) / sizeof(others[0]); i++) {
    ev = cashback_event_new(others[i], "2003");
    ck_assert_ptr_nonnull(ev);
    if (others[i] == CASHBACK_EVENT_REFUND)
      ck_assert_int_eq(cashback_event_set_amount(ev, 100, "EUR"), CASHBACK_OK);
    ck_assert_int_eq(cashback_event_set_click_default(ev, &req), CASHBACK_OK);
    j = to_json(c, ev);
    ck_assert_ptr_null(cJSON_GetObjectItem(j, "click"));
    cJSON_Delete(j);
    cashback_event_free(ev);
  }
  /* Bad arguments, a bad click, a finalized event. */
  ck_assert_int_eq(cashback_event_set_click_default(NULL, &req),
                   CASHBACK_E_INVALID_ARGUMENT);
  ev = cashback_event_new(CASHBACK_EVENT_SALE, "2004");
  ck_assert_int_eq(cashback_event_set_click_default(ev, NULL),
                   CASHBACK_E_INVALID_ARGUMENT);
  const cashback_click bad = {.token = "a b"};
  ck_assert_int_eq(cashback_event_set_click_default(ev, &bad),
                   CASHBACK_E_FIELD);
  ck_assert_ptr_nonnull(strstr(cashback_event_last_error(ev), "click"));
  ck_assert_int_eq(cashback_event_set_amount(ev, 4990, "EUR"), CASHBACK_OK);
  ck_assert_int_eq(cashback_event_add_voucher(ev, "SAVE10"), CASHBACK_OK);
  ck_assert_int_eq(cashback_event_finalize(c, ev, NULL), CASHBACK_OK);
  ck_assert_int_eq(cashback_event_set_click_default(ev, &req),
                   CASHBACK_E_FIELD);
  cashback_event_free(ev);
  cashback_client_free(c);
}
END_TEST

/* --- The wire bytes of a corpus of events ------------------------------- */

static uint64_t corpus_rand(uint64_t *x) {
  *x ^= *x << 13;
  *x ^= *x >> 7;
  *x ^= *x << 17;
  return *x;
}

/* `n` bytes of text drawn from `alphabet` (pieces separated by '|', each a
 * byte sequence that may be a multi-byte UTF-8 character). */
static void corpus_text(uint64_t *x, char *out, size_t cap, size_t max_pieces,
                        const char *const *pieces, size_t n_pieces) {
  size_t used = 0, k = 1 + corpus_rand(x) % max_pieces;
  for (size_t i = 0; i < k; i++) {
    const char *p = pieces[corpus_rand(x) % n_pieces];
    size_t l = strlen(p);
    if (used + l + 1 > cap)
      break;
    memcpy(out + used, p, l);
    used += l;
  }
  out[used] = '\0';
}

#define PIECES(a) a, sizeof(a) / sizeof(a[0])

static const char *const graph_pieces[] = {
    "a", "Z", "0", "9", "-", "_",  ".",     "\"", "\\", "/", "{",
    "}", "~", "!", ",", ":", "A1", "order", "#",  "%",  "'"};
static const char *const token_pieces[] = {"a", "Z", "0", "9",   "-",
                                           "_", ".", "~", "tok", "5f3a"};
static const char *const text_pieces[] = {
    "a",   " ",   "Caf\xc3\xa9", "\"",           "\\",
    "\n",  "\t",  "/",           "\xe2\x82\xac", "\xf0\x9f\x98\x80",
    "x y", "<b>", "&amp;",       "\xc2\xa0",     "'",
    "0",   "Z"};

/* A deterministic mix of every field, valid or not (a refused setter
 * leaves the field as it was). */
static cashback_event *corpus_event(uint64_t *x, long i) {
  static const cashback_event_type types[] = {
      CASHBACK_EVENT_SALE, CASHBACK_EVENT_SALE, CASHBACK_EVENT_REFUND,
      CASHBACK_EVENT_CANCEL, CASHBACK_EVENT_CONFIRM};
  char a[200], b[200], cat[200];
  corpus_text(x, a, 60, 12, PIECES(graph_pieces));
  char order[240];
  snprintf(order, sizeof(order), "%ld%s", i, a);
  cashback_event_type type = types[corpus_rand(x) % 5];
  cashback_event *ev = cashback_event_new(type, order);
  ck_assert_ptr_nonnull(ev);
  cashback_status st;
  if (corpus_rand(x) % 4) {
    cashback_click click = {.size = sizeof(click)};
    corpus_text(x, click.token, 40, 10, PIECES(token_pieces));
    if (corpus_rand(x) % 2)
      corpus_text(x, click.source, 20, 4, PIECES(token_pieces));
    if (corpus_rand(x) % 2)
      click.captured_at = now - (int64_t)(corpus_rand(x) % 86400000);
    st = cashback_event_set_click_full(ev, &click);
  }
  if (corpus_rand(x) % 5) {
    static const int64_t edge[] = {0,
                                   1,
                                   -1,
                                   9,
                                   10,
                                   99,
                                   100,
                                   INT64_C(999999999999999),
                                   INT64_C(-999999999999999),
                                   INT64_MAX,
                                   INT64_MIN};
    int64_t v = corpus_rand(x) % 3 ? (int64_t)(corpus_rand(x) % 100000000)
                                   : edge[corpus_rand(x) % 11];
    st = cashback_event_set_amount(ev, v, corpus_rand(x) % 2 ? "EUR" : "JPY");
  }
  if (corpus_rand(x) % 2)
    st = cashback_event_set_order_time(
        ev, now - (int64_t)(corpus_rand(x) % 400000000),
        (int)(corpus_rand(x) % 1681) - 840);
  for (unsigned k = corpus_rand(x) % 4; k > 0; k--) {
    corpus_text(x, a, 30, 6, PIECES(graph_pieces));
    corpus_text(x, b, 80, 10, PIECES(text_pieces));
    corpus_text(x, cat, 40, 5, PIECES(text_pieces));
    st = cashback_event_add_item(ev, a, corpus_rand(x) % 3 ? b : NULL,
                                 (int64_t)(corpus_rand(x) % 50),
                                 (int64_t)(corpus_rand(x) % 1000000) - 1000,
                                 corpus_rand(x) % 2 ? cat : NULL);
  }
  for (unsigned k = corpus_rand(x) % 3; k > 0; k--) {
    corpus_text(x, a, 30, 5, PIECES(graph_pieces));
    st = cashback_event_add_voucher(ev, a);
  }
  if (corpus_rand(x) % 2)
    st = cashback_event_set_customer(ev,
                                     (cashback_customer)(corpus_rand(x) % 3));
  for (unsigned k = corpus_rand(x) % 4; k > 0; k--) {
    corpus_text(x, a, 30, 4, PIECES(token_pieces));
    corpus_text(x, b, 100, 12, PIECES(text_pieces));
    st = cashback_event_set_metadata(ev, a, b);
  }
  /* Every refund has a refund id: without one its id is random. */
  if (corpus_rand(x) % 3 == 0 || type == CASHBACK_EVENT_REFUND) {
    corpus_text(x, a, 40, 6, PIECES(graph_pieces));
    b[0] = 'r';
    memcpy(b + 1, a, strlen(a) + 1);
    ck_assert(cashback_event_set_refund_id(ev, b) == CASHBACK_OK ||
              type != CASHBACK_EVENT_REFUND);
  }
  if (corpus_rand(x) % 3 == 0) {
    corpus_text(x, a, 40, 6, PIECES(token_pieces));
    st = cashback_event_set_reason(ev, a);
  }
  if (corpus_rand(x) % 4 == 0)
    st = cashback_event_set_test(ev, 1);
  (void)st;
  return ev;
}

/* The serializer's bytes are those of the cJSON-based one it replaced: the
 * SHA-256 of 3,000 serialized events (and of every status) is the value
 * the old code gave, and each text is cJSON's own print of itself. */
START_TEST(corpus_serializes_to_the_same_bytes) {
  int64_t t = now;
  cashback_client *c = fixture_client("shop-42", &t);
  uint64_t x = 0x243f6a8885a308d3u;
  uint8_t digest[CASHBACK__SHA256_LEN] = {0};
  size_t n_ok = 0, total = 0;
  for (long i = 0; i < 3000; i++) {
    cashback_event *ev = corpus_event(&x, i);
    char *text = NULL;
    size_t len = 0;
    cashback_status st = cashback_event_to_json(c, ev, &text, &len);
    char code[16];
    snprintf(code, sizeof(code), "%d:", (int)st);
    cashback__span parts[] = {{digest, sizeof(digest)},
                              {code, strlen(code)},
                              {text ? text : "", text ? len : 0}};
    ck_assert_int_eq(cashback__sha256(parts, 3, digest), CASHBACK_OK);
    if (st == CASHBACK_OK) {
      ck_assert_uint_eq(len, strlen(text));
      cJSON *j = cJSON_Parse(text);
      ck_assert_ptr_nonnull(j);
      char *again = cJSON_PrintUnformatted(j);
      ck_assert_str_eq(again, text);
      cJSON_free(again);
      cJSON_Delete(j);
      n_ok++;
      total += len;
    }
    cashback_free(text);
    cashback_event_free(ev);
  }
  char hex[2 * CASHBACK__SHA256_LEN + 1];
  cashback__hex(digest, sizeof(digest), hex);
  ck_assert_msg(n_ok > 2000, "only %zu events serialized", n_ok);
  ck_assert_str_eq(hex, CORPUS_DIGEST);
  ck_assert_uint_gt(total, n_ok * 200);
  cashback_client_free(c);
}
END_TEST

/* A serialization that does not fit leaves nothing of itself behind. */
START_TEST(json_that_does_not_fit_leaves_the_buffer_as_it_was) {
  cashback_client *c = fixture_client("shop-42", &now);
  cashback_event *ev = sale("1001");
  ck_assert_int_eq(cashback_event_finalize(c, ev, NULL), CASHBACK_OK);
  cashback__buf b;
  cashback__buf_init(&b, 120);
  ck_assert_int_eq(cashback__buf_add(&b, "[x,", 3), CASHBACK_OK);
  ck_assert_int_eq(cashback__event_json(c, ev, &b), CASHBACK_E_TOO_BIG);
  ck_assert_str_eq(b.data, "[x,");
  ck_assert_uint_eq(b.len, 3);
  char d[CASHBACK_ERROR_MAX + 1];
  cashback_client_last_error(c, d, sizeof(d));
  ck_assert_ptr_nonnull(strstr(d, "too big"));
  cashback__buf_free(&b);
  cashback_event_free(ev);
  cashback_client_free(c);
}
END_TEST

TCase *cashback_test_event(void) {
  TCase *tc = tcase_create("event");
  tcase_add_test(tc, new_validates_order_id);
  tcase_add_test(tc, type_names);
  tcase_add_test(tc, sale_id_is_stable_and_documented);
  tcase_add_test(tc, refund_ids);
  tcase_add_test(tc, completeness_per_type);
  tcase_add_test(tc, field_errors_name_the_field);
  tcase_add_test(tc, errors_show_caller_bytes_printable);
  tcase_add_test(tc, caps);
  tcase_add_test(tc, largest_event_the_setters_take_serializes);
  tcase_add_test(tc, largest_event_is_reported_and_quarantinable);
  tcase_add_test(tc, json_has_every_field_exactly);
  tcase_add_test(tc, json_minimal_cancel);
  tcase_add_test(tc, click_default_only_fills_a_sale_without_click);
  tcase_add_test(tc, corpus_serializes_to_the_same_bytes);
  tcase_add_test(tc, json_that_does_not_fit_leaves_the_buffer_as_it_was);
  return tc;
}
