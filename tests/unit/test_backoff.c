/* Unit tests for sdk/cashback_backoff.c: full-jitter bounds and spread,
 * Retry-After as delta-seconds and as each HTTP-date form, garbage. */
#include "tests.h"

#include "cashback_backoff.h"

#include <check.h>
#include <string.h>

/* A small deterministic generator (splitmix64) for the draws. */
static uint64_t next_random(uint64_t *state) {
  uint64_t z = (*state += UINT64_C(0x9e3779b97f4a7c15));
  z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
  z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
  return z ^ (z >> 31);
}

START_TEST(backoff_extremes_of_the_draw) {
  /* random 0 gives 0; the largest random value never exceeds the ceiling. */
  ck_assert_int_eq(cashback__backoff_ms(1, 500, 60000, 0), 0);
  ck_assert_int_eq(cashback__backoff_ms(1, 500, 60000, 500), 500);
  ck_assert_int_eq(cashback__backoff_ms(1, 500, 60000, 501), 0);
  ck_assert_int_eq(cashback__backoff_ms(3, 500, 60000, 2000), 2000);
  ck_assert_int_eq(cashback__backoff_ms(3, 500, 60000, 2001), 0);
  /* Attempt 0 is taken as the first retry. */
  ck_assert_int_eq(cashback__backoff_ms(0, 500, 60000, 500), 500);
  /* A base above the cap is cut to the cap. */
  ck_assert_int_eq(cashback__backoff_ms(1, 90000, 60000, 60000), 60000);
  ck_assert_int_eq(cashback__backoff_ms(1, 90000, 60000, 60001), 0);
  /* Nonsense parameters give no delay rather than a negative one. */
  ck_assert_int_eq(cashback__backoff_ms(5, 0, 60000, 12345), 0);
  ck_assert_int_eq(cashback__backoff_ms(5, -1, 60000, 12345), 0);
  ck_assert_int_eq(cashback__backoff_ms(5, 500, 0, 12345), 0);
  ck_assert_int_eq(cashback__backoff_ms(5, 500, -7, 12345), 0);
}
END_TEST

START_TEST(backoff_bounds_for_every_attempt) {
  uint64_t state = 42;
  const unsigned attempts[] = {
      1,  2,  3,  4,   5,    10,    20,       31,          32,        62,
      63, 64, 65, 100, 1000, 65535, 1u << 20, 4000000000u, UINT32_MAX};
  for (size_t a = 0; a < sizeof(attempts) / sizeof(attempts[0]); a++) {
    unsigned n = attempts[a];
    /* The ceiling: base * 2^(n-1), capped at 60000. */
    int64_t ceiling = 60000;
    if (n < 8)
      ceiling =
          (int64_t)500 << (n - 1) < 60000 ? (int64_t)500 << (n - 1) : 60000;
    for (int i = 0; i < 200; i++) {
      int64_t d = cashback__backoff_ms(n, 500, 60000, next_random(&state));
      ck_assert_int_ge(d, 0);
      ck_assert_int_le(d, ceiling);
    }
    ck_assert_int_eq(cashback__backoff_ms(n, 500, 60000, (uint64_t)ceiling),
                     ceiling);
    /* A cap near INT64_MAX, and the largest random: still no overflow. */
    int64_t big = cashback__backoff_ms(n, INT64_MAX / 3, INT64_MAX, UINT64_MAX);
    ck_assert_int_ge(big, 0);
    ck_assert_int_eq(cashback__backoff_ms(n, 1, INT64_MAX, UINT64_MAX) >= 0, 1);
  }
  /* With a cap of INT64_MAX the ceiling reaches it, and random = cap hits
   * it exactly. */
  ck_assert_int_eq(
      cashback__backoff_ms(UINT32_MAX, 1, INT64_MAX, (uint64_t)INT64_MAX),
      INT64_MAX);
}
END_TEST

START_TEST(backoff_draws_span_the_range) {
  uint64_t state = 7;
  int64_t lo = INT64_MAX, hi = -1;
  int64_t sum = 0;
  for (int i = 0; i < 1000; i++) {
    int64_t d = cashback__backoff_ms(10, 1000, 30000, next_random(&state));
    ck_assert_int_ge(d, 0);
    ck_assert_int_le(d, 30000);
    lo = d < lo ? d : lo;
    hi = d > hi ? d : hi;
    sum += d;
  }
  /* Full jitter: the draws reach close to 0 and close to the cap... */
  ck_assert_int_lt(lo, 300);
  ck_assert_int_gt(hi, 29700);
  /* ...and average near the middle. */
  ck_assert_int_gt(sum / 1000, 13000);
  ck_assert_int_lt(sum / 1000, 17000);
}
END_TEST

static int ra(const char *v, int64_t now, int64_t *ms) {
  return cashback__retry_after_ms(v, strlen(v), NULL, 0, now, ms);
}

START_TEST(retry_after_seconds) {
  int64_t ms = -1;
  ck_assert_int_eq(ra("0", 1000, &ms), 0);
  ck_assert_int_eq(ms, 0);
  ck_assert_int_eq(ra("120", 1000, &ms), 0);
  ck_assert_int_eq(ms, 120000);
  ck_assert_int_eq(ra("  5 ", 1000, &ms), 0);
  ck_assert_int_eq(ms, 5000);
  ck_assert_int_eq(ra("\t7\t", 1000, &ms), 0);
  ck_assert_int_eq(ms, 7000);
  /* A huge delta is clamped, never wraps negative. */
  ck_assert_int_eq(ra("99999999999999999999999999", 1000, &ms), 0);
  ck_assert_int_gt(ms, INT64_C(1) << 50);
  /* Only `len` bytes are read. */
  ck_assert_int_eq(cashback__retry_after_ms("12junk", 2, NULL, 0, 0, &ms), 0);
  ck_assert_int_eq(ms, 12000);
}
END_TEST

START_TEST(retry_after_garbage) {
  int64_t ms = 4242;
  const char *bad[] = {"-1",
                       "abc",
                       "",
                       "   ",
                       "1.5",
                       "5s",
                       "+5",
                       "0x10",
                       "1 2",
                       "5,6",
                       "\x01",
                       "Sun, 06 Nov 1994 08:49:37 UTC",
                       "Sun, 31 Nov 1994 08:49:37 GMT",   /* 31 November */
                       "Sun, 06 Nov 1994 24:00:00 GMT",   /* hour 24 */
                       "Sun, 06 Nov 1994 08:60:00 GMT",   /* minute 60 */
                       "Sun, 06 Nov 94 08:49:37 GMT",     /* 2-digit year */
                       "Sun, 6 Nov 1994 08:49:37 GMT",    /* 1-digit day */
                       "Sun, 06 Nov 1994 08:49:37 GMT x", /* trailing */
                       "Xyz, 06 Nov 1994 08:49:37 GMT",   /* no such day */
                       "Sun, 06 Foo 1994 08:49:37 GMT",   /* no such month */
                       "Sunday, 06-Nov-1994 08:49:37 GMT",
                       "Sun Nov 6 08:49:37 1994", /* asctime needs 2 cols */
                       "Sun Nov  6 08:49:37 94",
                       "Sun, 29 Feb 2023 00:00:00 GMT"};
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    ck_assert_msg(ra(bad[i], 0, &ms) == -1, "accepted '%s'", bad[i]);
    ck_assert_int_eq(ms, 4242); /* untouched on error */
  }
  ck_assert_int_eq(cashback__retry_after_ms(NULL, 0, NULL, 0, 0, &ms), -1);
  ck_assert_int_eq(cashback__retry_after_ms("5", 1, NULL, 0, 0, NULL), -1);
}
END_TEST

/* 1994-11-06T08:49:37Z */
#define T1994 INT64_C(784111777)

START_TEST(retry_after_dates) {
  int64_t ms = -1;
  /* IMF-fixdate, 30 s in the future. */
  ck_assert_int_eq(ra("Sun, 06 Nov 1994 08:49:37 GMT", T1994 - 30, &ms), 0);
  ck_assert_int_eq(ms, 30000);
  /* In the past, or now: no delay. */
  ck_assert_int_eq(ra("Sun, 06 Nov 1994 08:49:37 GMT", T1994 + 3600, &ms), 0);
  ck_assert_int_eq(ms, 0);
  ck_assert_int_eq(ra("Sun, 06 Nov 1994 08:49:37 GMT", T1994, &ms), 0);
  ck_assert_int_eq(ms, 0);
  /* RFC 850 and asctime, with surrounding spaces. */
  ck_assert_int_eq(ra(" Sunday, 06-Nov-94 08:49:37 GMT ", T1994 - 2, &ms), 0);
  ck_assert_int_eq(ms, 2000);
  ck_assert_int_eq(ra("Sun Nov  6 08:49:37 1994", T1994 - 1, &ms), 0);
  ck_assert_int_eq(ms, 1000);
  /* A far-future date against a far-past clock: clamped, no overflow. */
  ck_assert_int_eq(ra("Fri, 31 Dec 9999 23:59:59 GMT", INT64_MIN, &ms), 0);
  ck_assert_int_gt(ms, 0);
}
END_TEST

static int64_t date_of(const char *v) {
  int64_t t = -1;
  ck_assert_msg(cashback__http_date(v, strlen(v), &t) == 0, "rejected '%s'", v);
  return t;
}

START_TEST(http_date_forms) {
  ck_assert_int_eq(date_of("Sun, 06 Nov 1994 08:49:37 GMT"), T1994);
  ck_assert_int_eq(date_of("Sunday, 06-Nov-94 08:49:37 GMT"), T1994);
  ck_assert_int_eq(date_of("Sun Nov  6 08:49:37 1994"), T1994);
  ck_assert_int_eq(date_of("Sun Nov 06 08:49:37 1994"), T1994);
  /* Names are matched without regard to case. */
  ck_assert_int_eq(date_of("sun, 06 NOV 1994 08:49:37 GMT"), T1994);
  ck_assert_int_eq(date_of("Thu, 01 Jan 1970 00:00:00 GMT"), 0);
  ck_assert_int_eq(date_of("Thursday, 01-Jan-70 00:00:00 GMT"), 0);
  /* RFC 850 years below 70 are 20yy. */
  ck_assert_int_eq(date_of("Monday, 23-Nov-26 18:42:00 GMT"),
                   INT64_C(1795459320));
  ck_assert_int_eq(date_of("Mon, 23 Nov 2026 18:42:00 GMT"),
                   INT64_C(1795459320));
  /* Leap days and the end of a leap year. */
  ck_assert_int_eq(date_of("Thu, 29 Feb 2024 12:00:00 GMT"),
                   INT64_C(1709208000));
  ck_assert_int_eq(date_of("Tue, 29 Feb 2000 00:00:00 GMT"),
                   INT64_C(951782400));
  ck_assert_int_eq(date_of("Sat, 31 Dec 2016 23:59:60 GMT"),
                   INT64_C(1483228800));
  ck_assert_int_eq(date_of("Fri, 31 Dec 9999 23:59:59 GMT"),
                   INT64_C(253402300799));
  int64_t t = 5;
  ck_assert_int_eq(cashback__http_date("Mon, 29 Feb 1900 00:00:00 GMT", 29, &t),
                   -1);
  /* A cut-off value is not read past its length. */
  ck_assert_int_eq(cashback__http_date("Sun, 06 Nov 1994 08:49:37 GMT", 28, &t),
                   -1);
  ck_assert_int_eq(t, 5);
  ck_assert_int_eq(cashback__http_date(NULL, 0, &t), -1);
  ck_assert_int_eq(cashback__http_date("x", 1, NULL), -1);
}
END_TEST

/* A date is read against the response's Date header, not the local
 * clock: a sender an hour ahead or behind waits what the network meant. */
START_TEST(retry_after_date_against_the_date_header) {
  const char *at = "Sun, 06 Nov 1994 08:49:37 GMT";
  const char *date = "Sun, 06 Nov 1994 08:49:07 GMT"; /* 30 s before */
  int64_t ms = -1;
  int64_t clocks[] = {T1994 - 30, T1994 + 3600, T1994 - 3600, 0, INT64_MIN};
  for (size_t i = 0; i < sizeof(clocks) / sizeof(clocks[0]); i++) {
    ms = -1;
    ck_assert_int_eq(cashback__retry_after_ms(at, strlen(at), date,
                                              strlen(date), clocks[i], &ms),
                     0);
    ck_assert_int_eq(ms, 30000);
  }
  /* A date not after the network's Date: no extra wait. */
  ck_assert_int_eq(
      cashback__retry_after_ms(date, strlen(date), at, strlen(at), 0, &ms), 0);
  ck_assert_int_eq(ms, 0);
  /* Delta-seconds do not need a Date. */
  ck_assert_int_eq(
      cashback__retry_after_ms("5", 1, date, strlen(date), T1994 + 99999, &ms),
      0);
  ck_assert_int_eq(ms, 5000);
  /* No Date, or one that is not an HTTP-date: the local clock. */
  const char *bad_dates[] = {"", "yesterday", "Sun, 06 Nov 1994 08:49 GMT"};
  for (size_t i = 0; i < sizeof(bad_dates) / sizeof(bad_dates[0]); i++) {
    ck_assert_int_eq(cashback__retry_after_ms(at, strlen(at), bad_dates[i],
                                              strlen(bad_dates[i]), T1994 - 2,
                                              &ms),
                     0);
    ck_assert_int_eq(ms, 2000);
  }
  ck_assert_int_eq(
      cashback__retry_after_ms(at, strlen(at), NULL, 5, T1994 - 3, &ms), 0);
  ck_assert_int_eq(ms, 3000);
}
END_TEST

#define CAP INT64_C(600000)
#define RA_MAX CASHBACK__RETRY_AFTER_MAX_MS

/* Retry-After adds to the backoff and never shortens it; the sum is
 * bounded. */
START_TEST(retry_delay_adds_retry_after_to_the_backoff) {
  ck_assert_int_eq(cashback__retry_delay_ms(300, -1, CAP), 300);
  ck_assert_int_eq(cashback__retry_delay_ms(300, 0, CAP), 300);
  ck_assert_int_eq(cashback__retry_delay_ms(300, 1000, CAP), 1300);
  ck_assert_int_eq(cashback__retry_delay_ms(0, 0, CAP), 0);
  ck_assert_int_eq(cashback__retry_delay_ms(-5, -1, CAP), 0);
  /* At most RA_MAX of a Retry-After counts, and the sum stays within the
   * bound (the larger of the cap and RA_MAX). */
  ck_assert_int_eq(cashback__retry_bound_ms(CAP), RA_MAX);
  ck_assert_int_eq(cashback__retry_bound_ms(RA_MAX * 24), RA_MAX * 24);
  ck_assert_int_eq(cashback__retry_delay_ms(CAP, INT64_MAX, CAP), RA_MAX);
  ck_assert_int_eq(cashback__retry_delay_ms(INT64_MAX, INT64_MAX, CAP), RA_MAX);
  ck_assert_int_eq(cashback__retry_delay_ms(1000, 5000, RA_MAX * 24), 6000);
  ck_assert_int_eq(cashback__retry_delay_ms(RA_MAX * 24, 5000, RA_MAX * 24),
                   RA_MAX * 24);
  uint64_t st = 7;
  for (int i = 0; i < 10000; i++) {
    int64_t b = (int64_t)(next_random(&st) % (uint64_t)(CAP + 1));
    int64_t ra = (int64_t)(next_random(&st) % (uint64_t)(2 * RA_MAX)) - 1000;
    int64_t d = cashback__retry_delay_ms(b, ra, CAP);
    ck_assert_int_ge(d, b);
    ck_assert_int_ge(d, ra < RA_MAX ? ra : RA_MAX);
    ck_assert_int_le(d, RA_MAX);
  }
}
END_TEST

/* A stored retry time is never further than it was scheduled for, nor than
 * the bound, from now: a clock set back, or a flipped bit. */
START_TEST(retry_clamp_bounds_a_stored_time) {
  int64_t now = INT64_C(1795459320000);
  /* Due, or within its delay: unchanged. */
  ck_assert_int_eq(cashback__retry_clamp_ms(0, 0, now, CAP), 0);
  ck_assert_int_eq(cashback__retry_clamp_ms(-7, 0, now, CAP), -7);
  ck_assert_int_eq(cashback__retry_clamp_ms(now - 1, 5, now, CAP), now - 1);
  ck_assert_int_eq(cashback__retry_clamp_ms(now + 4000, 5000, now, CAP),
                   now + 4000);
  ck_assert_int_eq(cashback__retry_clamp_ms(now + 5000, 5000, now, CAP),
                   now + 5000);
  /* Scheduled 5 s ahead by a clock 10 min fast, which was then fixed. */
  ck_assert_int_eq(cashback__retry_clamp_ms(now + 605000, 5000, now, CAP),
                   now + 5000);
  /* The year 2280 (a flipped bit), with and without a known delay. */
  int64_t y2280 = INT64_C(9807000000000);
  ck_assert_int_eq(cashback__retry_clamp_ms(y2280, 5000, now, CAP), now + 5000);
  ck_assert_int_eq(cashback__retry_clamp_ms(y2280, 0, now, CAP), now + RA_MAX);
  ck_assert_int_eq(cashback__retry_clamp_ms(y2280, -1, now, CAP), now + RA_MAX);
  ck_assert_int_eq(cashback__retry_clamp_ms(y2280, INT64_MAX, now, CAP),
                   now + RA_MAX);
  ck_assert_int_eq(cashback__retry_clamp_ms(INT64_MAX, 0, now, CAP),
                   now + RA_MAX);
  ck_assert_int_eq(cashback__retry_clamp_ms(INT64_MAX, 0, -now, CAP),
                   -now + RA_MAX);
  /* A clock at the end of time: no overflow. */
  ck_assert_int_eq(cashback__retry_clamp_ms(INT64_MAX, 0, INT64_MAX - 10, CAP),
                   INT64_MAX);
  /* Whatever the inputs, never further than the bound. */
  uint64_t st = 11;
  for (int i = 0; i < 10000; i++) {
    int64_t next = (int64_t)next_random(&st);
    int64_t delay = (int64_t)next_random(&st) >> (next_random(&st) % 64);
    int64_t got = cashback__retry_clamp_ms(next, delay, now, CAP);
    if (next <= now)
      ck_assert_int_eq(got, next);
    else
      ck_assert_int_le(got - now, RA_MAX);
  }
}
END_TEST

TCase *cashback_test_backoff(void) {
  TCase *tc = tcase_create("backoff");
  tcase_add_test(tc, backoff_extremes_of_the_draw);
  tcase_add_test(tc, backoff_bounds_for_every_attempt);
  tcase_add_test(tc, backoff_draws_span_the_range);
  tcase_add_test(tc, retry_after_seconds);
  tcase_add_test(tc, retry_after_garbage);
  tcase_add_test(tc, retry_after_dates);
  tcase_add_test(tc, http_date_forms);
  tcase_add_test(tc, retry_after_date_against_the_date_header);
  tcase_add_test(tc, retry_delay_adds_retry_after_to_the_backoff);
  tcase_add_test(tc, retry_clamp_bounds_a_stored_time);
  return tc;
}
