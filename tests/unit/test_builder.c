/* Unit tests: sdk/cashback_builder.c, the event builder
 * (cashback_event_builder_*) and the event text parser on it. */
#include "cashback.h"
#include "fixture.h"
#include "tests.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int64_t now = 1764000000; /* 2025-11-24T16:00:00Z */

static cashback_status set(cashback_event_builder *b, const char *key,
                           const char *value) {
  return cashback_event_builder_set(b, key, strlen(key), value, strlen(value));
}

/* The event's wire JSON (caller frees). */
static char *json_of(cashback_client *c, cashback_event *ev) {
  char *text = NULL;
  size_t len = 0;
  ck_assert_int_eq(cashback_event_to_json(c, ev, &text, &len), CASHBACK_OK);
  return text;
}

/* The builder's failure is `st`, about `key`, with a detail holding
 * `want`. */
static void failed(const cashback_event_builder *b, cashback_status st,
                   const char *key, const char *want) {
  const char *k = NULL;
  size_t klen = 99;
  char detail[CASHBACK_ERROR_MAX + 1];
  cashback_status got =
      cashback_event_builder_error(b, &k, &klen, detail, sizeof(detail));
  ck_assert_msg(got == st, "status %d, want %d (%s)", got, st, detail);
  ck_assert_uint_eq(klen, strlen(key));
  ck_assert_msg(memcmp(k, key, klen) == 0, "key '%.*s', want '%s'", (int)klen,
                k, key);
  ck_assert_msg(strstr(detail, want) != NULL, "detail '%s' lacks '%s'", detail,
                want);
  ck_assert(test_all_printable(detail));
}

/* Fields given in any order build the event the text form gives. */
START_TEST(any_order_builds_what_the_text_builds) {
  cashback_client *c = fixture_client("shop-1", &now);
  const char *text = "type=sale;order_id=1001;currency=EUR;amount=49.90;"
                     "click_token=tok-1;voucher=A;voucher=B;customer=unknown;"
                     "item=SKU1:2:19.95:Shoes;order_time=1764000000;"
                     "utc_offset=60;meta.note=x";
  cashback_event *want = NULL;
  char detail[CASHBACK_ERROR_MAX + 1];
  ck_assert_int_eq(cashback_event_parse(c, text, strlen(text), &want, detail,
                                        sizeof(detail)),
                   CASHBACK_OK);
  /* The amount and the item before the currency, the type last. */
  cashback_event_builder *b = cashback_event_builder_new(c);
  ck_assert_ptr_nonnull(b);
  ck_assert_int_eq(set(b, "item", "SKU1:2:19.95:Shoes"), CASHBACK_OK);
  ck_assert_int_eq(set(b, "amount", "49.90"), CASHBACK_OK);
  ck_assert_int_eq(set(b, "meta.note", "x"), CASHBACK_OK);
  ck_assert_int_eq(set(b, "order_time", "1764000000"), CASHBACK_OK);
  ck_assert_int_eq(set(b, "voucher", "A"), CASHBACK_OK);
  ck_assert_int_eq(set(b, "customer", "unknown"), CASHBACK_OK);
  ck_assert_int_eq(set(b, "click_token", "tok-1"), CASHBACK_OK);
  ck_assert_int_eq(set(b, "utc_offset", "60"), CASHBACK_OK);
  ck_assert_int_eq(set(b, "currency", "EUR"), CASHBACK_OK);
  ck_assert_int_eq(set(b, "voucher", "B"), CASHBACK_OK);
  ck_assert_int_eq(set(b, "order_id", "1001"), CASHBACK_OK);
  ck_assert_int_eq(set(b, "type", "sale"), CASHBACK_OK);
  cashback_event *ev = (cashback_event *)1;
  ck_assert_int_eq(cashback_event_builder_finish(b, &ev), CASHBACK_OK);
  ck_assert_ptr_nonnull(ev);
  ck_assert_int_eq(
      cashback_event_builder_error(b, NULL, NULL, detail, sizeof(detail)),
      CASHBACK_OK);
  ck_assert_str_eq(detail, "");
  cashback_event_builder_free(b);
  /* The event is the caller's: it outlives the builder. */
  char *a = json_of(c, want), *got = json_of(c, ev);
  ck_assert_str_eq(got, a);
  cashback_free(a);
  cashback_free(got);
  cashback_event_free(ev);
  cashback_event_free(want);
  cashback_client_free(c);
}
END_TEST

/* Values are plain: ';', '=' and '%' are kept as given, not decoded. */
START_TEST(values_are_plain_not_percent_encoded) {
  cashback_client *c = fixture_client("shop-1", &now);
  cashback_event_builder *b = cashback_event_builder_new(NULL);
  ck_assert_int_eq(set(b, "type", "sale"), CASHBACK_OK);
  ck_assert_int_eq(set(b, "order_id", "1"), CASHBACK_OK);
  ck_assert_int_eq(set(b, "meta.note", "a;b=c 50%25"), CASHBACK_OK);
  ck_assert_int_eq(set(b, "amount", "1"), CASHBACK_OK);
  ck_assert_int_eq(set(b, "currency", "EUR"), CASHBACK_OK);
  ck_assert_int_eq(set(b, "voucher", "V"), CASHBACK_OK);
  cashback_event *ev = NULL;
  ck_assert_int_eq(cashback_event_builder_finish(b, &ev), CASHBACK_OK);
  char *j = json_of(c, ev);
  ck_assert_msg(strstr(j, "\"note\":\"a;b=c 50%25\"") != NULL, "%s", j);
  cashback_free(j);
  cashback_event_free(ev);
  cashback_event_builder_free(b);
  cashback_client_free(c);
}
END_TEST

/* Checked at once, the key named; the first failure sticks. */
START_TEST(first_failure_sticks_and_names_its_key) {
  cashback_event_builder *b = cashback_event_builder_new(NULL);
  ck_assert_int_eq(set(b, "type", "sale"), CASHBACK_OK);
  ck_assert_int_eq(set(b, "colour", "red"), CASHBACK_E_FIELD);
  failed(b, CASHBACK_E_FIELD, "colour", "unknown key 'colour'");
  /* Later calls return the same failure and change nothing. */
  ck_assert_int_eq(set(b, "order_id", "1"), CASHBACK_E_FIELD);
  ck_assert_int_eq(set(b, "type", "bogus"), CASHBACK_E_FIELD);
  cashback_event *ev = (cashback_event *)1;
  ck_assert_int_eq(cashback_event_builder_finish(b, &ev), CASHBACK_E_FIELD);
  ck_assert_ptr_null(ev);
  failed(b, CASHBACK_E_FIELD, "colour", "unknown key 'colour'");
  cashback_event_builder_free(b);

  /* A field that is not repeatable, given twice. */
  b = cashback_event_builder_new(NULL);
  ck_assert_int_eq(set(b, "currency", "EUR"), CASHBACK_OK);
  ck_assert_int_eq(set(b, "currency", "USD"), CASHBACK_E_FIELD);
  failed(b, CASHBACK_E_FIELD, "currency", "currency: given twice");
  cashback_event_builder_free(b);

  /* A NUL byte, and a value past its field's cap. */
  b = cashback_event_builder_new(NULL);
  ck_assert_int_eq(cashback_event_builder_set(b, "voucher", 7, "A\0B", 3),
                   CASHBACK_E_FIELD);
  failed(b, CASHBACK_E_FIELD, "voucher", "voucher: the value contains a NUL");
  cashback_event_builder_free(b);
  b = cashback_event_builder_new(NULL);
  char big[80];
  memset(big, 'V', 65);
  big[65] = '\0';
  ck_assert_int_eq(set(b, "voucher", big), CASHBACK_E_FIELD);
  failed(b, CASHBACK_E_FIELD, "voucher", "longer than 64 bytes");
  cashback_event_builder_free(b);
}
END_TEST

/* What needs other fields is checked by finish, naming the field. */
START_TEST(finish_names_the_field_that_fails) {
  static const struct {
    const char *keys[5], *values[5];
    cashback_status st;
    const char *key, *want;
  } cases[] = {
      {{"order_id", "amount"},
       {"1", "2"},
       CASHBACK_E_FIELD,
       "type",
       "type: required"},
      {{"type", "amount"},
       {"sale", "2"},
       CASHBACK_E_FIELD,
       "order_id",
       "order_id: required"},
      {{"type", "order_id", "amount"},
       {"sale", "1", "2"},
       CASHBACK_E_CURRENCY,
       "amount",
       "amount: needs currency"},
      {{"amount", "currency", "order_id", "type"},
       {"49.999", "EUR", "1", "sale"},
       CASHBACK_E_AMOUNT,
       "amount",
       "amount: '49.999' is not an exact EUR amount"},
      {{"type", "order_id", "utc_offset"},
       {"sale", "1", "60"},
       CASHBACK_E_FIELD,
       "utc_offset",
       "utc_offset: needs order_time"},
      {{"type", "order_id", "currency", "amount_minor", "amount"},
       {"sale", "1", "EUR", "1", "1"},
       CASHBACK_E_FIELD,
       "amount",
       "give amount or amount_minor, not both"},
      {{"type", "order_id", "customer"},
       {"sale", "1", "old"},
       CASHBACK_E_FIELD,
       "customer",
       "customer: 'old' must be new, returning or unknown"},
  };
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    cashback_event_builder *b = cashback_event_builder_new(NULL);
    for (size_t k = 0; k < 5 && cases[i].keys[k]; k++)
      ck_assert_int_eq(set(b, cases[i].keys[k], cases[i].values[k]),
                       CASHBACK_OK);
    cashback_event *ev = (cashback_event *)1;
    ck_assert_int_eq(cashback_event_builder_finish(b, &ev), cases[i].st);
    ck_assert_ptr_null(ev);
    failed(b, cases[i].st, cases[i].key, cases[i].want);
    cashback_event_builder_free(b);
  }
}
END_TEST

/* All fields together fit 65536 bytes as text: the builder's memory is
 * capped whatever it is fed, and what was held before stays usable. */
START_TEST(fields_are_capped_as_their_text) {
  cashback_event_builder *b = cashback_event_builder_new(NULL);
  ck_assert_int_eq(set(b, "type", "sale"), CASHBACK_OK);
  ck_assert_int_eq(set(b, "order_id", "1"), CASHBACK_OK);
  /* "type=sale;order_id=1" is 20 bytes; each ";voucher=" + 64 is 73. */
  char code[65];
  memset(code, 'C', 64);
  code[64] = '\0';
  size_t text = 20, n = 0;
  while (text + 73 <= 65536) {
    snprintf(code, 4, "%03zu", n);
    code[3] = 'C';
    ck_assert_int_eq(set(b, "voucher", code), CASHBACK_OK);
    text += 73;
    n++;
  }
  ck_assert_uint_eq(n, 897);
  ck_assert_int_eq(set(b, "voucher", code), CASHBACK_E_TOO_BIG);
  failed(b, CASHBACK_E_TOO_BIG, "voucher", "pass 65536 bytes");
  cashback_event_builder_free(b);

  /* Exactly at the cap is fine: 20 + 73 * 897 + one of 65536 - that. */
  b = cashback_event_builder_new(NULL);
  ck_assert_int_eq(set(b, "type", "sale"), CASHBACK_OK);
  ck_assert_int_eq(set(b, "order_id", "1"), CASHBACK_OK);
  for (size_t i = 0; i < 897; i++) {
    snprintf(code, 4, "%03zu", i);
    code[3] = 'C';
    ck_assert_int_eq(set(b, "voucher", code), CASHBACK_OK);
  }
  size_t rest = 65536 - (20 + 73 * 897) - strlen(";meta.k=");
  char *v = malloc(rest + 1);
  memset(v, 'x', rest);
  v[rest] = '\0';
  ck_assert_int_eq(set(b, "meta.k", v), CASHBACK_OK);
  free(v);
  cashback_event *ev = NULL;
  /* Held, but the event caps vouchers at 20. */
  ck_assert_int_eq(cashback_event_builder_finish(b, &ev), CASHBACK_E_TOO_BIG);
  ck_assert_ptr_null(ev);
  failed(b, CASHBACK_E_TOO_BIG, "voucher", "at most 20 codes");
  cashback_event_builder_free(b);
}
END_TEST

START_TEST(click_handle_needs_a_client_and_is_verified) {
  cashback_client *c = fixture_client("shop-1", &now);
  char sc[CASHBACK_SET_COOKIE_MAX + 1];
  const char *target = "/landing?cb_click=tok-9";
  ck_assert_int_eq(cashback_capture(c, target, strlen(target), sc, sizeof(sc)),
                   CASHBACK_OK);
  const char *eq = strchr(sc, '='), *semi = strchr(sc, ';');
  char handle[CASHBACK_HANDLE_MAX + 1];
  size_t hn = (size_t)(semi - eq - 1);
  memcpy(handle, eq + 1, hn);
  handle[hn] = '\0';

  cashback_event_builder *b = cashback_event_builder_new(c);
  ck_assert_int_eq(set(b, "click", handle), CASHBACK_OK);
  ck_assert_int_eq(set(b, "type", "sale"), CASHBACK_OK);
  ck_assert_int_eq(set(b, "order_id", "7"), CASHBACK_OK);
  ck_assert_int_eq(set(b, "amount", "1"), CASHBACK_OK);
  ck_assert_int_eq(set(b, "currency", "EUR"), CASHBACK_OK);
  cashback_event *ev = NULL;
  ck_assert_int_eq(cashback_event_builder_finish(b, &ev), CASHBACK_OK);
  char *j = json_of(c, ev);
  ck_assert_msg(strstr(j, "\"token\":\"tok-9\"") && strstr(j, "\"cb_click\""),
                "%s", j);
  cashback_free(j);
  cashback_event_free(ev);
  cashback_event_builder_free(b);

  /* Tampered: refused by finish, naming the key. */
  handle[hn - 1] = handle[hn - 1] == 'A' ? 'B' : 'A';
  b = cashback_event_builder_new(c);
  ck_assert_int_eq(set(b, "type", "sale"), CASHBACK_OK);
  ck_assert_int_eq(set(b, "order_id", "7"), CASHBACK_OK);
  ck_assert_int_eq(set(b, "click", handle), CASHBACK_OK);
  ck_assert_int_ne(cashback_event_builder_finish(b, &ev), CASHBACK_OK);
  ck_assert_ptr_null(ev);
  const char *k;
  size_t kl;
  char d[CASHBACK_ERROR_MAX + 1];
  ck_assert_int_ne(cashback_event_builder_error(b, &k, &kl, d, sizeof(d)),
                   CASHBACK_OK);
  ck_assert_uint_eq(kl, 5);
  ck_assert(memcmp(k, "click", 5) == 0);
  ck_assert_ptr_nonnull(strstr(d, "click: the click handle is not valid"));
  cashback_event_builder_free(b);

  /* Without a client a handle cannot be verified. */
  b = cashback_event_builder_new(NULL);
  ck_assert_int_eq(set(b, "type", "sale"), CASHBACK_OK);
  ck_assert_int_eq(set(b, "order_id", "7"), CASHBACK_OK);
  ck_assert_int_eq(set(b, "click", "x"), CASHBACK_OK);
  ck_assert_int_eq(cashback_event_builder_finish(b, &ev),
                   CASHBACK_E_INVALID_ARGUMENT);
  failed(b, CASHBACK_E_INVALID_ARGUMENT, "click", "needs a client");
  cashback_event_builder_free(b);
  cashback_client_free(c);
}
END_TEST

START_TEST(null_arguments) {
  ck_assert_int_eq(cashback_event_builder_set(NULL, "type", 4, "sale", 4),
                   CASHBACK_E_INVALID_ARGUMENT);
  cashback_event *ev = (cashback_event *)1;
  ck_assert_int_eq(cashback_event_builder_finish(NULL, &ev),
                   CASHBACK_E_INVALID_ARGUMENT);
  ck_assert_ptr_null(ev);
  const char *k = "x";
  size_t kl = 9;
  ck_assert_int_eq(cashback_event_builder_error(NULL, &k, &kl, NULL, 0),
                   CASHBACK_E_INVALID_ARGUMENT);
  ck_assert_uint_eq(kl, 0);
  cashback_event_builder_free(NULL);

  cashback_event_builder *b = cashback_event_builder_new(NULL);
  ck_assert_int_eq(cashback_event_builder_set(b, "type", 4, NULL, 0),
                   CASHBACK_OK); /* an empty value: refused by finish */
  cashback_event_builder_free(b);
  b = cashback_event_builder_new(NULL);
  ck_assert_int_eq(cashback_event_builder_set(b, NULL, 0, "x", 1),
                   CASHBACK_E_INVALID_ARGUMENT);
  failed(b, CASHBACK_E_INVALID_ARGUMENT, "", "the key is NULL");
  cashback_event_builder_free(b);
  b = cashback_event_builder_new(NULL);
  ck_assert_int_eq(cashback_event_builder_set(b, "type", 4, NULL, 3),
                   CASHBACK_E_INVALID_ARGUMENT);
  cashback_event_builder_free(b);
  b = cashback_event_builder_new(NULL);
  ck_assert_int_eq(set(b, "type", "sale"), CASHBACK_OK);
  ck_assert_int_eq(cashback_event_builder_finish(b, NULL),
                   CASHBACK_E_INVALID_ARGUMENT);
  /* A small detail buffer is cut, terminated. */
  char tiny[6];
  ck_assert_int_eq(
      cashback_event_builder_error(b, NULL, NULL, tiny, sizeof(tiny)),
      CASHBACK_E_INVALID_ARGUMENT);
  ck_assert_uint_le(strlen(tiny), 5);
  cashback_event_builder_free(b);
}
END_TEST

TCase *cashback_test_builder(void) {
  TCase *tc = tcase_create("builder");
  tcase_add_test(tc, any_order_builds_what_the_text_builds);
  tcase_add_test(tc, values_are_plain_not_percent_encoded);
  tcase_add_test(tc, first_failure_sticks_and_names_its_key);
  tcase_add_test(tc, finish_names_the_field_that_fails);
  tcase_add_test(tc, fields_are_capped_as_their_text);
  tcase_add_test(tc, click_handle_needs_a_client_and_is_verified);
  tcase_add_test(tc, null_arguments);
  return tc;
}
