/* The rate-limit pacer (sdk/cashback_pace.c), on an injected clock: the
 * times are given, nothing sleeps and nothing is timed. */
#include "cashback_pace.h"
#include "tests.h"

#include <string.h>

#define T0 INT64_C(1764580000000)

/* Awin's limit: the 21st call inside any 60 s waits for the 1st to leave
 * the window; calls spread out never wait. */
START_TEST(pace_twenty_a_minute) {
  cashback__pace p;
  memset(&p, 0, sizeof(p));
  int64_t now = T0;
  for (int i = 0; i < 20; i++) {
    ck_assert_int_eq(cashback__pace_next_ms(&p, 20, 60000, now), now);
    cashback__pace_record(&p, 20, now);
    now += 1000; /* 20 calls in 19 s */
  }
  /* now = T0 + 20 s: the 21st waits until the 1st is 60 s old. */
  ck_assert_int_eq(cashback__pace_next_ms(&p, 20, 60000, now), T0 + 60000);
  ck_assert_int_eq(cashback__pace_next_ms(&p, 20, 60000, T0 + 60000),
                   T0 + 60000);
  cashback__pace_record(&p, 20, T0 + 60000);
  /* The window slides: the next waits for the 2nd call (T0 + 1 s). */
  ck_assert_int_eq(cashback__pace_next_ms(&p, 20, 60000, T0 + 60000),
                   T0 + 61000);
  ck_assert_uint_eq(p.n, 20);
  /* No sliding window of 60 s ever held more than 20 of the calls. */
  for (size_t i = 0; i + 20 < p.n; i++)
    ck_assert_int_ge(p.at[i + 20] - p.at[i], 60000);
  /* No limit: never waits. */
  ck_assert_int_eq(cashback__pace_next_ms(&p, 0, 60000, now), now);
}
END_TEST

/* A clock set back makes no call wait longer than one window. */
START_TEST(pace_clock_set_back) {
  cashback__pace p;
  memset(&p, 0, sizeof(p));
  for (int i = 0; i < 3; i++)
    cashback__pace_record(&p, 3, T0 + i);
  ck_assert_int_eq(cashback__pace_next_ms(&p, 3, 60000, T0 - 3600000),
                   T0 - 3600000 + 60000);
}
END_TEST

START_TEST(pace_state_line_round_trip) {
  cashback__pace p, q;
  memset(&p, 0, sizeof(p));
  for (int i = 0; i < 20; i++)
    cashback__pace_record(&p, 20, T0 + i * 1500);
  char line[CASHBACK__PACE_MAX * 21 + 1];
  cashback__pace_format(&p, line, sizeof(line));
  cashback__pace_parse(&q, line, strlen(line));
  ck_assert_uint_eq(q.n, 20);
  ck_assert_mem_eq(q.at, p.at, sizeof(p.at[0]) * 20);
  cashback__pace_parse(&q, "12,x3", 5); /* malformed: no calls */
  ck_assert_uint_eq(q.n, 0);
  char small[8];
  cashback__pace_format(&p, small, sizeof(small)); /* too small: "" */
  ck_assert_str_eq(small, "");
}
END_TEST

TCase *cashback_test_pace(void) {
  TCase *tc = tcase_create("pace");
  tcase_add_test(tc, pace_twenty_a_minute);
  tcase_add_test(tc, pace_clock_set_back);
  tcase_add_test(tc, pace_state_line_round_trip);
  return tc;
}
