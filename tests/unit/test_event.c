#include "cashback.h"
#include "fixture.h"
#include "tests.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

TCase *cashback_test_event(void) {
  TCase *tc = tcase_create("event");
  tcase_add_test(tc, new_validates_order_id);
  tcase_add_test(tc, type_names);
  tcase_add_test(tc, sale_id_is_stable_and_documented);
  tcase_add_test(tc, refund_ids);
  tcase_add_test(tc, completeness_per_type);
  tcase_add_test(tc, field_errors_name_the_field);
  tcase_add_test(tc, caps);
  tcase_add_test(tc, json_has_every_field_exactly);
  tcase_add_test(tc, json_minimal_cancel);
  return tc;
}
