/* Unit tests for sdk/cashback_sender_state.c: the retry schedule's
 * transitions (the file's format and parsing: state_format_and_parse in
 * test_sender.c). */
#include "tests.h"

#include "cashback_backoff.h"
#include "cashback_sender_state.h"

#include <check.h>
#include <stdio.h>
#include <string.h>

static cashback__key key_of(const char *id, const char *secret) {
  cashback__key k;
  memset(&k, 0, sizeof(k));
  snprintf(k.id, sizeof(k.id), "%s", id);
  snprintf(k.secret, sizeof(k.secret), "%s", secret);
  return k;
}

START_TEST(pause_is_about_one_key) {
  cashback__key k1 = key_of("k1", "first-secret-0123456789");
  cashback__key k2 = key_of("k1", "second-secret-0123456789");
  cashback__sender_state st;
  memset(&st, 0, sizeof(st));
  st.attempt = 3;
  ck_assert_int_eq(cashback__sender_state_pause(&st, &k1, 600000), 600000);
  ck_assert_int_eq(st.paused, 1);
  ck_assert_uint_eq(st.attempt, 31); /* at the top of the backoff */
  char fp[CASHBACK_ID_MAX + 1];
  cashback__sender_key_fingerprint(&k1, fp);
  ck_assert_str_eq(st.paused_key, fp);
  ck_assert_uint_eq(strlen(fp), 16);
  ck_assert_ptr_null(strstr(fp, "secret"));
  /* The same key stays paused; a new secret is tried at once. */
  ck_assert_int_eq(cashback__sender_state_adopt(&st, &k1), 0);
  ck_assert_int_eq(st.paused, 1);
  st.next_attempt_ms = 12345;
  ck_assert_int_eq(cashback__sender_state_adopt(&st, &k2), 1);
  ck_assert_int_eq(st.paused, 0);
  ck_assert_uint_eq(st.attempt, 0);
  ck_assert_int_eq(st.next_attempt_ms, 0);
  /* A request in flight was another sender's. */
  st.in_flight_since = 99;
  ck_assert_int_eq(cashback__sender_state_adopt(&st, &k2), 1);
  ck_assert_int_eq(st.in_flight_since, 0);
}
END_TEST

START_TEST(retry_delay_is_bounded_and_kept) {
  cashback__sender_state st;
  memset(&st, 0, sizeof(st));
  int64_t now = 1700000000000;
  ck_assert_int_eq(
      cashback__sender_state_retry_in(&st, CASHBACK_E_HTTP, -5, now, 600000),
      0);
  ck_assert_int_eq(st.next_attempt_ms, now);
  ck_assert_int_eq(st.last_status, CASHBACK_E_HTTP);
  int64_t bound = cashback__retry_bound_ms(600000);
  ck_assert_int_eq(cashback__sender_state_retry_in(&st, CASHBACK_E_NETWORK,
                                                   INT64_MAX, now, 600000),
                   bound);
  ck_assert_int_eq(st.next_attempt_ms, now + bound);
  ck_assert_int_eq(st.retry_delay_ms, bound);
  /* Kept to from a clock set back an hour. */
  ck_assert_int_eq(cashback__sender_state_next_ms(&st, now - 3600000, 600000),
                   now - 3600000 + bound);
  /* Each backoff is one more attempt, within the ceiling, plus
   * Retry-After. */
  st.attempt = 0;
  ck_assert_int_eq(cashback__sender_state_backoff(&st, 1000, 600000, 0, -1), 0);
  ck_assert_uint_eq(st.attempt, 1);
  ck_assert_int_eq(cashback__sender_state_backoff(&st, 1000, 600000, 0, 120000),
                   120000);
  ck_assert_uint_eq(st.attempt, 2);
}
END_TEST

START_TEST(success_starts_the_schedule_over) {
  cashback__sender_state st;
  memset(&st, 0, sizeof(st));
  st.attempt = 7;
  st.paused = 1;
  st.next_attempt_ms = 5;
  st.retry_delay_ms = 5;
  st.last_status = CASHBACK_E_HTTP;
  snprintf(st.last_error, sizeof(st.last_error), "HTTP 503");
  /* A deferred event's success leaves the schedule. */
  cashback__sender_state_success(&st, 1700000000999, 0);
  ck_assert_uint_eq(st.attempt, 0);
  ck_assert_int_eq(st.paused, 0);
  ck_assert_int_eq(st.last_success, 1700000000);
  ck_assert_int_eq(st.last_status, CASHBACK_OK);
  ck_assert_str_eq(st.last_error, "");
  ck_assert_int_eq(st.next_attempt_ms, 5);
  cashback__sender_state_success(&st, 1700000001000, 1);
  ck_assert_int_eq(st.next_attempt_ms, 0);
  ck_assert_int_eq(st.retry_delay_ms, 0);
  ck_assert_int_eq(st.last_success, 1700000001);
}
END_TEST

TCase *cashback_test_sender_state(void) {
  TCase *tc = tcase_create("sender_state");
  tcase_add_test(tc, pause_is_about_one_key);
  tcase_add_test(tc, retry_delay_is_bounded_and_kept);
  tcase_add_test(tc, success_starts_the_schedule_over);
  return tc;
}
