#include "cashback.h"
#include "cashback_request.h"
#include "fixture.h"
#include "tests.h"

#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

static int64_t now = 1764000000;

START_TEST(batch_body_exact) {
  const char *events[] = {"{\"id\":\"a\"}", "{\"id\":\"b\"}"};
  size_t lens[] = {10, 10};
  cashback__buf b;
  cashback__buf_init(&b, 1 << 20);
  ck_assert_int_eq(cashback__batch_body("shop-42", now, events, lens, 2, &b),
                   CASHBACK_OK);
  ck_assert_str_eq(b.data, "{\"protocol\":1,\"merchant_id\":\"shop-42\","
                           "\"sent_at\":\"2025-11-24T16:00:00Z\",\"events\":["
                           "{\"id\":\"a\"},{\"id\":\"b\"}]}");
  cashback__buf_reset(&b);
  ck_assert_int_eq(cashback__batch_body("shop-42", now, events, lens, 0, &b),
                   CASHBACK_E_INVALID_ARGUMENT);
  ck_assert_int_eq(cashback__batch_body("bad\"id", now, events, lens, 1, &b),
                   CASHBACK_E_INVALID_ARGUMENT);
  cashback__buf_free(&b);
  /* The cap holds. */
  cashback__buf_init(&b, 20);
  ck_assert_int_eq(cashback__batch_body("shop-42", now, events, lens, 1, &b),
                   CASHBACK_E_TOO_BIG);
  cashback__buf_free(&b);
}
END_TEST

static cashback_event *confirm(const char *order) {
  cashback_event *ev = cashback_event_new(CASHBACK_EVENT_CONFIRM, order);
  ck_assert_ptr_nonnull(ev);
  return ev;
}

START_TEST(request_is_signed_and_verifiable) {
  cashback_client *c = fixture_client("shop-42", &now);
  cashback_event *evs[3] = {confirm("1"), confirm("2"), confirm("3")};
  cashback_request *req = NULL;
  ck_assert_int_eq(cashback_request_new(c, evs, 3, &req), CASHBACK_OK);
  ck_assert_str_eq(cashback_request_url(req),
                   "https://api.network.example/v1/events");
  size_t len;
  const char *body = cashback_request_body(req, &len);
  ck_assert_uint_eq(len, strlen(body));
  cJSON *j = cJSON_Parse(body);
  ck_assert_ptr_nonnull(j);
  ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(j, "events")), 3);
  ck_assert_str_eq(cJSON_GetObjectItem(j, "merchant_id")->valuestring,
                   "shop-42");
  cJSON_Delete(j);
  const char *sig = cashback_request_signature(req);
  ck_assert_ptr_nonnull(strstr(sig, "t=1764000000,v1=k1:"));

  cashback_verifier *v = cashback_verifier_new();
  ck_assert_int_eq(cashback_verifier_add_key(v, "k1", FIXTURE_SECRET),
                   CASHBACK_OK);
  char kid[CASHBACK_ID_MAX + 1];
  ck_assert_int_eq(
      cashback_verifier_verify(v, sig, strlen(sig), body, len, now, kid),
      CASHBACK_OK);
  ck_assert_str_eq(kid, "k1");
  /* One byte changed in the body: mismatch. */
  char *copy = strdup(body);
  copy[len - 3] ^= 1;
  ck_assert_int_eq(
      cashback_verifier_verify(v, sig, strlen(sig), copy, len, now, NULL),
      CASHBACK_E_SIG_MISMATCH);
  free(copy);
  cashback_verifier_free(v);
  cashback_request_free(req);
  for (int i = 0; i < 3; i++)
    cashback_event_free(evs[i]);
  cashback_client_free(c);
}
END_TEST

START_TEST(request_signs_with_both_keys_during_rotation) {
  cashback_options *o = cashback_options_new();
  ck_assert_int_eq(cashback_options_set_merchant_id(o, "shop-42"), CASHBACK_OK);
  ck_assert_int_eq(cashback_options_set_key(o, "old", FIXTURE_SECRET),
                   CASHBACK_OK);
  ck_assert_int_eq(
      cashback_options_set_next_key(o, "new", "another-secret-0123456789"),
      CASHBACK_OK);
  ck_assert_int_eq(
      cashback_options_set_endpoint(o, "https://api.network.example/v1/events"),
      CASHBACK_OK);
  ck_assert_int_eq(cashback_options_set_clock(o, fixture_clock, &now),
                   CASHBACK_OK);
  cashback_client *c = NULL;
  ck_assert_int_eq(cashback_client_new(o, &c, NULL, 0), CASHBACK_OK);
  cashback_event *ev = confirm("1");
  cashback_request *req = NULL;
  ck_assert_int_eq(cashback_request_new(c, &ev, 1, &req), CASHBACK_OK);
  const char *sig = cashback_request_signature(req);
  ck_assert_ptr_nonnull(strstr(sig, ",v1=old:"));
  ck_assert_ptr_nonnull(strstr(sig, ",v1=new:"));
  /* A network that knows only the new key accepts it. */
  cashback_verifier *v = cashback_verifier_new();
  ck_assert_int_eq(
      cashback_verifier_add_key(v, "new", "another-secret-0123456789"),
      CASHBACK_OK);
  size_t len;
  const char *body = cashback_request_body(req, &len);
  char kid[CASHBACK_ID_MAX + 1];
  ck_assert_int_eq(
      cashback_verifier_verify(v, sig, strlen(sig), body, len, now + 10, kid),
      CASHBACK_OK);
  ck_assert_str_eq(kid, "new");
  cashback_verifier_free(v);
  cashback_request_free(req);
  cashback_event_free(ev);
  cashback_client_free(c);
}
END_TEST

START_TEST(request_errors) {
  cashback_client *c = fixture_client("shop-42", &now);
  cashback_request *req = (cashback_request *)c;
  cashback_event *evs[2] = {confirm("1"), NULL};
  ck_assert_int_eq(cashback_request_new(c, evs, 0, &req),
                   CASHBACK_E_INVALID_ARGUMENT);
  ck_assert_ptr_null(req);
  ck_assert_int_eq(cashback_request_new(c, evs, 1001, &req),
                   CASHBACK_E_INVALID_ARGUMENT);
  ck_assert_int_eq(cashback_request_new(c, evs, 2, &req),
                   CASHBACK_E_INVALID_ARGUMENT);
  char d[CASHBACK_ERROR_MAX + 1];
  cashback_client_last_error(c, d, sizeof(d));
  ck_assert_ptr_nonnull(strstr(d, "events[1]"));
  /* An incomplete event fails the batch, naming the order. */
  evs[1] = cashback_event_new(CASHBACK_EVENT_SALE, "S9");
  ck_assert_int_eq(cashback_request_new(c, evs, 2, &req), CASHBACK_E_FIELD);
  cashback_client_last_error(c, d, sizeof(d));
  ck_assert_ptr_nonnull(strstr(d, "order S9"));
  ck_assert_ptr_null(cashback_request_url(NULL));
  cashback_request_free(NULL);
  cashback_event_free(evs[0]);
  cashback_event_free(evs[1]);
  cashback_client_free(c);
}
END_TEST

TCase *cashback_test_request(void) {
  TCase *tc = tcase_create("request");
  tcase_add_test(tc, batch_body_exact);
  tcase_add_test(tc, request_is_signed_and_verifiable);
  tcase_add_test(tc, request_signs_with_both_keys_during_rotation);
  tcase_add_test(tc, request_errors);
  return tc;
}
