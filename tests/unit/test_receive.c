/* Unit tests for sdk/cashback_receive.c: the protocol's vector 1, a round trip
 * of what the SDK itself sends, bodies malformed as a whole, each way an
 * event can break the protocol (the others of the batch stay valid), the
 * derived-id check, null as absent, unknown fields, and the sanitising of
 * echoed ids. */
#include "tests.h"

#include "fixture.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SALE_1001_ID "c8a9d4c385cc850fbc2aa93b160c738f"
#define REFUND_CN7_ID "f7fb6bfdbcff1d2d64530ddcd094ba48"
#define CANCEL_1001_ID "27e733926226523f0c2ad8f2f7f9d0c5"
#define TIMES                                                                  \
  "\"reported_at\":\"2026-11-23T18:41:57Z\",\"order_time\":\"2026-11-23T19:"   \
  "41:50+01:00\""
#define GOOD_SALE                                                              \
  "{\"id\":\"" SALE_1001_ID                                                    \
  "\",\"type\":\"sale\",\"order_id\":\"1001\"," TIMES                          \
  ",\"click\":{\"token\":\"tok_9f8e7d\"},\"amount\":4990,"                     \
  "\"currency\":\"EUR\"}"

static const char vector1[] =
    "{\"protocol\":1,\"merchant_id\":\"shop-42\",\"sent_at\":\"2026-11-23T18:"
    "42:00Z\",\"events\":[{\"id\":\"c8a9d4c385cc850fbc2aa93b160c738f\",\"type\""
    ":\"sale\",\"order_id\":\"1001\",\"reported_at\":\"2026-11-23T18:41:57Z\","
    "\"order_time\":\"2026-11-23T19:41:50+01:00\",\"click\":{\"token\":\"tok_"
    "9f8e7d\",\"source\":\"cb_click\",\"captured_at\":\"2026-11-20T09:15:00Z\""
    "},\"amount\":4990,\"currency\":\"EUR\"}]}";

static cashback_batch *parse_ok(const char *body, unsigned flags) {
  cashback_batch *b = NULL;
  char detail[CASHBACK_ERROR_MAX + 1];
  cashback_status st = cashback_batch_parse(body, strlen(body), flags, &b,
                                            detail, sizeof(detail));
  ck_assert_msg(st == CASHBACK_OK, "parse: %s (%s)", cashback_strerror(st),
                detail);
  ck_assert_str_eq(detail, "");
  ck_assert_ptr_nonnull(b);
  return b;
}

/* A batch of shop-42 with the given events (a JSON array's inside). */
static char *batch_of(const char *events) {
  static const char fmt[] =
      "{\"protocol\":1,\"merchant_id\":\"shop-42\",\"sent_at\":"
      "\"2026-11-23T18:42:00Z\",\"events\":[%s]}";
  size_t n = strlen(events) + sizeof(fmt);
  char *s = malloc(n);
  ck_assert_ptr_nonnull(s);
  snprintf(s, n, fmt, events);
  return s;
}

static cashback_received_event event_at(const cashback_batch *b, size_t i) {
  cashback_received_event e = {.size = sizeof(e)};
  ck_assert_int_eq(cashback_batch_event(b, i, &e), CASHBACK_OK);
  return e;
}

START_TEST(batch_vector1) {
  cashback_batch *b = parse_ok(vector1, CASHBACK_BATCH_CHECK_IDS);
  ck_assert_str_eq(cashback_batch_merchant_id(b), "shop-42");
  ck_assert_uint_eq(cashback_batch_count(b), 1);
  cashback_received_event e = event_at(b, 0);
  ck_assert_msg(e.valid, "%s", e.error);
  ck_assert_str_eq(e.error, "");
  ck_assert_str_eq(e.id, SALE_1001_ID);
  ck_assert_int_eq(e.type, CASHBACK_EVENT_SALE);
  ck_assert_str_eq(e.order_id, "1001");
  ck_assert_int_eq(e.has_amount, 1);
  ck_assert_int_eq(e.amount, 4990);
  ck_assert_str_eq(e.currency, "EUR");
  ck_assert_int_eq(e.test, 0);
  ck_assert_str_eq(e.click_token, "tok_9f8e7d");
  ck_assert_str_eq(e.refund_id, "");
  ck_assert_uint_eq(strlen(e.json), e.json_len);
  ck_assert_ptr_nonnull(
      strstr(e.json, "\"captured_at\":\"2026-11-20T09:15:00Z\""));
  ck_assert_int_eq(e.json[0], '{');
  cashback_received_event out = {.size = sizeof(out)};
  ck_assert_int_eq(cashback_batch_event(b, 1, &out),
                   CASHBACK_E_INVALID_ARGUMENT);
  cashback_batch_free(b);
  cashback_batch_free(NULL);
}
END_TEST

/* Whatever the SDK sends, the receiver side takes, ids included. */
START_TEST(batch_sdk_round_trip) {
  int64_t now = 1795459320;
  cashback_client *c = fixture_client("shop-42", &now);
  cashback_event *ev[5];
  ev[0] = cashback_event_new(CASHBACK_EVENT_SALE, "1001");
  ck_assert_int_eq(cashback_event_set_click(ev[0], "tok_9f8e7d"), CASHBACK_OK);
  ck_assert_int_eq(cashback_event_set_amount(ev[0], 4990, "EUR"), CASHBACK_OK);
  ck_assert_int_eq(cashback_event_add_item(ev[0], "A-1", "Teapot \xc3\xbc", 2,
                                           1995, "kitchen"),
                   CASHBACK_OK);
  ck_assert_int_eq(cashback_event_add_voucher(ev[0], "WELCOME10"), CASHBACK_OK);
  ck_assert_int_eq(cashback_event_set_metadata(ev[0], "channel", "web"),
                   CASHBACK_OK);
  ck_assert_int_eq(cashback_event_set_customer(ev[0], CASHBACK_CUSTOMER_NEW),
                   CASHBACK_OK);
  ck_assert_int_eq(cashback_event_set_order_time(ev[0], 1795455710, -300),
                   CASHBACK_OK);
  ev[1] = cashback_event_new(CASHBACK_EVENT_REFUND, "1001");
  ck_assert_int_eq(cashback_event_set_amount(ev[1], 1500, "EUR"), CASHBACK_OK);
  ck_assert_int_eq(cashback_event_set_refund_id(ev[1], "CN-7"), CASHBACK_OK);
  ck_assert_int_eq(cashback_event_set_reason(ev[1], "returned"), CASHBACK_OK);
  ev[2] = cashback_event_new(CASHBACK_EVENT_CANCEL, "1001");
  ev[3] = cashback_event_new(CASHBACK_EVENT_SALE, "T-1");
  ck_assert_int_eq(cashback_event_add_voucher(ev[3], "V"), CASHBACK_OK);
  ck_assert_int_eq(cashback_event_set_amount(ev[3], 1000, "JPY"), CASHBACK_OK);
  ck_assert_int_eq(cashback_event_set_test(ev[3], 1), CASHBACK_OK);
  ev[4] = cashback_event_new(CASHBACK_EVENT_REFUND, "1001"); /* random id */
  ck_assert_int_eq(cashback_event_set_amount(ev[4], 1, "EUR"), CASHBACK_OK);
  cashback_request *req = NULL;
  ck_assert_int_eq(cashback_request_new(c, ev, 5, &req), CASHBACK_OK);
  size_t len;
  const char *body = cashback_request_body(req, &len);
  char *copy = strndup(body, len);
  cashback_batch *b = parse_ok(copy, CASHBACK_BATCH_CHECK_IDS);
  ck_assert_uint_eq(cashback_batch_count(b), 5);
  static const cashback_event_type types[5] = {
      CASHBACK_EVENT_SALE, CASHBACK_EVENT_REFUND, CASHBACK_EVENT_CANCEL,
      CASHBACK_EVENT_SALE, CASHBACK_EVENT_REFUND};
  for (size_t i = 0; i < 5; i++) {
    cashback_received_event e = event_at(b, i);
    ck_assert_msg(e.valid, "event %zu: %s", i, e.error);
    ck_assert_int_eq(e.type, types[i]);
    char id[CASHBACK_EVENT_ID_LEN + 1];
    ck_assert_int_eq(cashback_event_finalize(c, ev[i], id), CASHBACK_OK);
    ck_assert_str_eq(e.id, id);
  }
  ck_assert_str_eq(event_at(b, 0).id, SALE_1001_ID);
  ck_assert_str_eq(event_at(b, 1).id, REFUND_CN7_ID);
  ck_assert_str_eq(event_at(b, 1).refund_id, "CN-7");
  ck_assert_int_eq(event_at(b, 1).amount, 1500);
  ck_assert_str_eq(event_at(b, 2).id, CANCEL_1001_ID);
  ck_assert_int_eq(event_at(b, 2).has_amount, 0);
  ck_assert_str_eq(event_at(b, 2).currency, "");
  ck_assert_int_eq(event_at(b, 3).test, 1);
  ck_assert_str_eq(event_at(b, 3).currency, "JPY");
  ck_assert_str_eq(event_at(b, 3).click_token, "");
  cashback_batch_free(b);
  free(copy);
  cashback_request_free(req);
  for (size_t i = 0; i < 5; i++)
    cashback_event_free(ev[i]);
  cashback_client_free(c);
}
END_TEST

static void whole_fails(const char *body, cashback_status want,
                        const char *detail_part) {
  cashback_batch *b = (cashback_batch *)1;
  char detail[CASHBACK_ERROR_MAX + 1];
  cashback_status st =
      cashback_batch_parse(body, strlen(body), 0, &b, detail, sizeof(detail));
  ck_assert_msg(st == want, "%s: got %s", body, cashback_strerror(st));
  ck_assert_ptr_null(b);
  ck_assert_msg(strstr(detail, detail_part), "%s: detail '%s'", body, detail);
}

START_TEST(batch_malformed_as_a_whole) {
  whole_fails("", CASHBACK_E_PROTOCOL, "body: not JSON");
  whole_fails("{\"protocol\":1", CASHBACK_E_PROTOCOL, "body: not JSON");
  whole_fails("{} x", CASHBACK_E_PROTOCOL, "body: not JSON");
  whole_fails("[1]", CASHBACK_E_PROTOCOL, "not a JSON object");
  whole_fails("{\"protocol\":2,\"merchant_id\":\"m\",\"events\":[{}]}",
              CASHBACK_E_PROTOCOL, "protocol: must be 1");
  whole_fails("{\"protocol\":\"1\",\"merchant_id\":\"m\",\"events\":[{}]}",
              CASHBACK_E_PROTOCOL, "protocol");
  whole_fails("{\"protocol\":1,\"events\":[{}]}", CASHBACK_E_PROTOCOL,
              "merchant_id");
  whole_fails("{\"protocol\":1,\"merchant_id\":\"a b\",\"events\":[{}]}",
              CASHBACK_E_PROTOCOL, "merchant_id");
  whole_fails("{\"protocol\":1,\"merchant_id\":\"m\",\"events\":[]}",
              CASHBACK_E_PROTOCOL, "events");
  whole_fails("{\"protocol\":1,\"merchant_id\":\"m\",\"events\":{}}",
              CASHBACK_E_PROTOCOL, "events");
  /* Trailing white space is fine. */
  cashback_batch *b = NULL;
  const char ok[] =
      "{\"protocol\":1,\"merchant_id\":\"m\",\"events\":[{}]}\r\n";
  ck_assert_int_eq(cashback_batch_parse(ok, strlen(ok), 0, &b, NULL, 0),
                   CASHBACK_OK);
  ck_assert_int_eq(event_at(b, 0).valid, 0);
  cashback_batch_free(b);

  /* 1001 events: 413. */
  size_t n = 1001 * 3 + 100;
  char *many = malloc(n), *p = many;
  p += snprintf(p, n, "{\"protocol\":1,\"merchant_id\":\"m\",\"events\":[");
  for (int i = 0; i < 1001; i++)
    p += snprintf(p, n - (size_t)(p - many), "%s{}", i ? "," : "");
  snprintf(p, n - (size_t)(p - many), "]}");
  whole_fails(many, CASHBACK_E_TOO_BIG, "more than 1000");
  free(many);
  /* Over 4 MiB, whatever it holds. */
  size_t big = 4 * 1024 * 1024 + 1;
  char *huge = malloc(big);
  memset(huge, ' ', big);
  char detail[CASHBACK_ERROR_MAX + 1];
  ck_assert_int_eq(
      cashback_batch_parse(huge, big, 0, &b, detail, sizeof(detail)),
      CASHBACK_E_TOO_BIG);
  free(huge);
  ck_assert_int_eq(cashback_batch_parse(NULL, 3, 0, &b, NULL, 0),
                   CASHBACK_E_INVALID_ARGUMENT);
  ck_assert_int_eq(cashback_batch_parse("{}", 2, 0, NULL, NULL, 0),
                   CASHBACK_E_INVALID_ARGUMENT);
  ck_assert_str_eq(cashback_batch_merchant_id(NULL), "");
  ck_assert_uint_eq(cashback_batch_count(NULL), 0);
}
END_TEST

#define EV(type, rest)                                                         \
  "{\"id\":\"" SALE_1001_ID "\",\"type\":\"" type                              \
  "\",\"order_id\":\"1001\"," TIMES rest "}"

/* Each case: one event and a piece of its error. */
static const struct {
  const char *event;
  const char *error;
} bad[] = {
    {"42", "event: must be a JSON object"},
    {"{\"id\":\"C8A9D4C385CC850FBC2AA93B160C738F\",\"type\":\"sale\"}", "id:"},
    {"{\"id\":\"c8a9\",\"type\":\"sale\"}", "id:"},
    {"{\"type\":\"sale\"}", "id:"},
    {"{\"id\":\"" SALE_1001_ID "\",\"type\":\"sold\"}", "type:"},
    {"{\"id\":\"" SALE_1001_ID "\",\"type\":\"sale\"}", "order_id: required"},
    {"{\"id\":\"" SALE_1001_ID "\",\"type\":\"sale\",\"order_id\":\"10 01\"}",
     "order_id:"},
    {"{\"id\":\"" SALE_1001_ID "\",\"type\":\"sale\",\"order_id\":\"1001\"}",
     "reported_at:"},
    {"{\"id\":\"" SALE_1001_ID "\",\"type\":\"sale\",\"order_id\":\"1001\","
     "\"reported_at\":\"2026-11-23T18:41:57+01:00\",\"order_time\":"
     "\"2026-11-23T18:41:57Z\"}",
     "reported_at:"},
    {"{\"id\":\"" SALE_1001_ID "\",\"type\":\"sale\",\"order_id\":\"1001\","
     "\"reported_at\":\"2026-11-23T18:41:57Z\",\"order_time\":"
     "\"2026-11-23T18:41:57\"}",
     "order_time:"},
    {EV("sale", ",\"click\":{\"token\":\"t\"},\"amount\":49.9,\"currency\":"
                "\"EUR\""),
     "amount: must be an integer"},
    {EV("sale", ",\"click\":{\"token\":\"t\"},\"amount\":\"4990\","
                "\"currency\":\"EUR\""),
     "amount: must be an integer"},
    {EV("sale", ",\"click\":{\"token\":\"t\"},\"amount\":-1,\"currency\":"
                "\"EUR\""),
     "amount: must be an integer"},
    {EV("sale", ",\"click\":{\"token\":\"t\"},\"amount\":1e16,\"currency\":"
                "\"EUR\""),
     "amount: must be an integer"},
    {EV("sale", ",\"click\":{\"token\":\"t\"},\"currency\":\"EUR\""),
     "amount: required with a currency"},
    {EV("sale", ",\"click\":{\"token\":\"t\"},\"amount\":1"),
     "currency: required"},
    {EV("sale", ",\"click\":{\"token\":\"t\"},\"amount\":1,\"currency\":"
                "\"ABC\""),
     "currency:"},
    {EV("sale", ",\"click\":{\"token\":\"t\"}"), "amount: required for a sale"},
    {EV("sale", ",\"amount\":1,\"currency\":\"EUR\""), "click:"},
    {EV("sale", ",\"click\":{\"token\":\"a b\"},\"amount\":1,\"currency\":"
                "\"EUR\""),
     "click.token:"},
    {EV("sale", ",\"click\":\"tok\",\"amount\":1,\"currency\":\"EUR\""),
     "click: must be an object"},
    {EV("sale", ",\"click\":{\"token\":\"t\",\"captured_at\":\"yesterday\"},"
                "\"amount\":1,\"currency\":\"EUR\""),
     "click.captured_at:"},
    {EV("sale", ",\"click\":{\"token\":\"t\",\"source\":\"a/b\"},"
                "\"amount\":1,\"currency\":\"EUR\""),
     "click.source:"},
    {EV("refund", ",\"amount\":0,\"currency\":\"EUR\""),
     "a refund must be above 0"},
    {EV("sale", ",\"click\":{\"token\":\"t\"},\"amount\":1,\"currency\":"
                "\"EUR\",\"refund_id\":\"CN-1\""),
     "refund_id: only for a refund"},
    {EV("sale", ",\"click\":{\"token\":\"t\"},\"amount\":1,\"currency\":"
                "\"EUR\",\"reason\":\"x\""),
     "reason: only for"},
    {EV("cancel", ",\"reason\":\"not a code\""), "reason:"},
    {EV("cancel", ",\"test\":\"yes\""), "test: must be true or false"},
    {EV("sale", ",\"vouchers\":[\"V\"],\"amount\":1,\"currency\":\"EUR\","
                "\"items\":[{\"sku\":\"A\",\"quantity\":0,\"unit_price\":1}]"),
     "items[0].quantity"},
    {EV("sale", ",\"vouchers\":[\"V\"],\"amount\":1,\"currency\":\"EUR\","
                "\"items\":[{\"quantity\":1,\"unit_price\":1}]"),
     "items[0].sku"},
    {EV("sale",
        ",\"vouchers\":[\"V\"],\"amount\":1,\"currency\":\"EUR\","
        "\"items\":[{\"sku\":\"A\",\"quantity\":1,\"unit_price\":0.5}]"),
     "items[0].unit_price"},
    {EV("sale", ",\"vouchers\":[1],\"amount\":1,\"currency\":\"EUR\""),
     "vouchers:"},
    {EV("cancel", ",\"metadata\":{\"k\":1}"), "metadata:"},
    {EV("cancel", ",\"metadata\":{\"bad key\":\"v\"}"), "metadata:"},
    {EV("sale", ",\"vouchers\":[\"V\"],\"amount\":1,\"currency\":\"EUR\","
                "\"customer\":\"old\""),
     "customer:"},
};

START_TEST(batch_invalid_events) {
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    char events[4096];
    snprintf(events, sizeof(events), "%s,%s", bad[i].event, GOOD_SALE);
    char *body = batch_of(events);
    cashback_batch *b = parse_ok(body, 0);
    ck_assert_uint_eq(cashback_batch_count(b), 2);
    cashback_received_event e = event_at(b, 0);
    ck_assert_msg(!e.valid, "case %zu accepted: %s", i, bad[i].event);
    ck_assert_msg(strstr(e.error, bad[i].error), "case %zu: error '%s'", i,
                  e.error);
    ck_assert_int_eq(e.has_amount, 0); /* an invalid event carries no values */
    ck_assert_str_eq(e.currency, "");
    ck_assert_uint_gt(e.json_len, 0);
    cashback_received_event good = event_at(b, 1);
    ck_assert_msg(good.valid, "case %zu spoilt its neighbour: %s", i,
                  good.error);
    cashback_batch_free(b);
    free(body);
  }
}
END_TEST

START_TEST(batch_derived_ids) {
  /* The cancel's id on a sale: accepted without the flag, not with it. */
  const char wrong[] =
      "{\"id\":\"" CANCEL_1001_ID
      "\",\"type\":\"sale\",\"order_id\":\"1001\"," TIMES
      ",\"click\":{\"token\":\"t\"},\"amount\":1,\"currency\":\"EUR\"}";
  /* A refund without refund_id has a random id: fine either way. */
  const char random_refund[] =
      "{\"id\":\"00112233445566778899aabbccddeeff\",\"type\":\"refund\","
      "\"order_id\":\"1001\"," TIMES ",\"amount\":5,\"currency\":\"EUR\"}";
  char events[2048];
  snprintf(events, sizeof(events), "%s,%s", wrong, random_refund);
  char *body = batch_of(events);
  cashback_batch *b = parse_ok(body, 0);
  ck_assert_int_eq(event_at(b, 0).valid, 1);
  ck_assert_int_eq(event_at(b, 1).valid, 1);
  cashback_batch_free(b);
  b = parse_ok(body, CASHBACK_BATCH_CHECK_IDS);
  cashback_received_event e = event_at(b, 0);
  ck_assert_int_eq(e.valid, 0);
  ck_assert_ptr_nonnull(strstr(e.error, "id: not the id derived"));
  ck_assert_ptr_nonnull(strstr(e.error, SALE_1001_ID));
  ck_assert_int_eq(event_at(b, 1).valid, 1);
  cashback_batch_free(b);
  free(body);
}
END_TEST

START_TEST(batch_null_unknown_and_echo) {
  const char events[] =
      "{\"id\":\"" SALE_1001_ID
      "\",\"type\":\"sale\",\"order_id\":\"1001\"," TIMES
      ",\"test\":null,\"customer\":null,\"items\":null,\"metadata\":null,"
      "\"vouchers\":[\"V\"],\"amount\":4990,\"currency\":\"EUR\","
      "\"future_field\":{\"x\":[1,2]}},"
      "{\"id\":\"\xc3\xa9\\u0001"
      "0123456789012345678901234567890123456789"
      "012345678901234567890123456789\",\"type\":\"sale\"}";
  char *body = batch_of(events);
  cashback_batch *b = parse_ok(body, CASHBACK_BATCH_CHECK_IDS);
  cashback_received_event e = event_at(b, 0);
  ck_assert_msg(e.valid, "%s", e.error);
  ck_assert_int_eq(e.test, 0);
  e = event_at(b, 1);
  ck_assert_int_eq(e.valid, 0);
  ck_assert_uint_eq(strlen(e.id), CASHBACK_ID_MAX);
  ck_assert_int_eq(strncmp(e.id,
                           "\\xc3\\xa9\\x01"
                           "0123",
                           16),
                   0);
  cashback_batch_free(b);
  free(body);
}
END_TEST

TCase *cashback_test_receive(void) {
  TCase *tc = tcase_create("receive");
  tcase_add_test(tc, batch_vector1);
  tcase_add_test(tc, batch_sdk_round_trip);
  tcase_add_test(tc, batch_malformed_as_a_whole);
  tcase_add_test(tc, batch_invalid_events);
  tcase_add_test(tc, batch_derived_ids);
  tcase_add_test(tc, batch_null_unknown_and_echo);
  return tc;
}
