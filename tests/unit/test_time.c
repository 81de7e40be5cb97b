/* Unit tests for sdk/cashback_time.c: ISO 8601 timestamps, durations, the
 * system clock. */
#if !defined(_GNU_SOURCE) && !defined(_POSIX_C_SOURCE)
#define _POSIX_C_SOURCE 200809L /* gmtime_r() as an oracle */
#endif

#include "tests.h"

#include "cashback_time.h"

#include <check.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static void expect_iso(int64_t t, int off, const char *want) {
  char out[CASHBACK__ISO8601_MAX];
  memset(out, 'x', sizeof out);
  cashback_status st = cashback__iso8601(t, off, out);
  ck_assert_msg(st == CASHBACK_OK, "%lld %+d: status %d", (long long)t, off,
                (int)st);
  ck_assert_msg(strcmp(out, want) == 0, "%lld %+d: got '%s', want '%s'",
                (long long)t, off, out, want);
}

static void expect_iso_error(int64_t t, int off) {
  char out[CASHBACK__ISO8601_MAX] = "garbage";
  ck_assert_msg(cashback__iso8601(t, off, out) == CASHBACK_E_INVALID_ARGUMENT,
                "%lld %+d accepted", (long long)t, off);
  ck_assert_str_eq(out, "");
}

START_TEST(iso_known_utc) {
  expect_iso(0, 0, "1970-01-01T00:00:00Z");
  expect_iso(1, 0, "1970-01-01T00:00:01Z");
  expect_iso(86399, 0, "1970-01-01T23:59:59Z");
  expect_iso(68169600, 0, "1972-02-29T00:00:00Z"); /* first leap day */
  expect_iso(946684799, 0, "1999-12-31T23:59:59Z");
  expect_iso(951782400, 0, "2000-02-29T00:00:00Z"); /* 400-year leap */
  expect_iso(1234567890, 0, "2009-02-13T23:31:30Z");
  expect_iso(1582934400, 0, "2020-02-29T00:00:00Z");
  expect_iso(1709164800, 0, "2024-02-29T00:00:00Z");
  expect_iso(2147483647, 0, "2038-01-19T03:14:07Z"); /* 32-bit edge */
  expect_iso(2147483648, 0, "2038-01-19T03:14:08Z");
  expect_iso(4102444800, 0, "2100-01-01T00:00:00Z");
  expect_iso(4107456000 + 86400, 0, "2100-03-01T00:00:00Z"); /* 2100: no 29 */
  expect_iso(13574606400, 0, "2400-02-29T12:00:00Z");
  expect_iso(253402300799, 0, "9999-12-31T23:59:59Z");
}
END_TEST

START_TEST(iso_offsets) {
  expect_iso(0, 330, "1970-01-01T05:30:00+05:30");
  expect_iso(0, -180, "1969-12-31T21:00:00-03:00"); /* local 1969: fine */
  expect_iso(0, -840, "1969-12-31T10:00:00-14:00");
  expect_iso(0, 840, "1970-01-01T14:00:00+14:00");
  expect_iso(0, 1, "1970-01-01T00:01:00+00:01");
  expect_iso(0, -1, "1969-12-31T23:59:00-00:01");
  /* Year boundary, both directions. */
  expect_iso(1704067199, 60, "2024-01-01T00:59:59+01:00");
  expect_iso(1704067200, -60, "2023-12-31T23:00:00-01:00");
  /* Leap day boundary. */
  expect_iso(951782400 - 1, 60, "2000-02-29T00:59:59+01:00");
  expect_iso(951782400 + 86400, -330, "2000-02-29T18:30:00-05:30");
  expect_iso(4107456000 + 86399, 60, "2100-03-01T00:59:59+01:00");
  /* The last representable local time. */
  expect_iso(253402300799, -60, "9999-12-31T22:59:59-01:00");
  expect_iso(253402300799 - 3600, 60, "9999-12-31T23:59:59+01:00");
  expect_iso(1795459320, 60, "2026-11-23T19:42:00+01:00");
  expect_iso(1795459320, 0, "2026-11-23T18:42:00Z");
}
END_TEST

START_TEST(iso_against_gmtime) {
  /* A spread over the whole range, checked against the C library. */
  uint64_t x = 12345;
  for (int i = 0; i < 20000; i++) {
    x = x * 6364136223846793005u + 1442695040888963407u;
    int64_t t = (int64_t)((x >> 16) % (uint64_t)253402300800);
    int off = (int)((x >> 3) % 1681) - 840;
    time_t lt = (time_t)(t + (int64_t)off * 60);
    struct tm tm;
    if (lt > 253402300799 || gmtime_r(&lt, &tm) == NULL)
      continue;
    char want[64];
    char sign = off < 0 ? '-' : '+';
    int a = off < 0 ? -off : off;
    if (off == 0)
      snprintf(want, sizeof want, "%04d-%02d-%02dT%02d:%02d:%02dZ",
               tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
               tm.tm_min, tm.tm_sec);
    else
      snprintf(want, sizeof want, "%04d-%02d-%02dT%02d:%02d:%02d%c%02d:%02d",
               tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
               tm.tm_min, tm.tm_sec, sign, a / 60, a % 60);
    expect_iso(t, off, want);
  }
}
END_TEST

START_TEST(iso_range_errors) {
  expect_iso_error(-1, 0);
  expect_iso_error(-86400, 600);
  expect_iso_error(INT64_MIN, 0);
  expect_iso_error(253402300800, 0);
  expect_iso_error(253402300800, -60);
  expect_iso_error(INT64_MAX, 0);
  expect_iso_error(253402300799, 1); /* local time in year 10000 */
  expect_iso_error(253402300799 - 3600, 61);
  expect_iso_error(0, 841);
  expect_iso_error(0, -841);
  expect_iso_error(1000, 100000);
  expect_iso_error(1000, -100000);
  ck_assert_int_eq(cashback__iso8601(0, 0, NULL), CASHBACK_E_INVALID_ARGUMENT);
}
END_TEST

/* ---- durations ---------------------------------------------------------- */

static void expect_duration(const char *s, int64_t want) {
  int64_t v = -1;
  cashback_status st = cashback__duration_parse(s, strlen(s), &v);
  ck_assert_msg(st == CASHBACK_OK, "'%s': status %d", s, (int)st);
  ck_assert_msg(v == want, "'%s': got %lld", s, (long long)v);
}

START_TEST(duration_known) {
  expect_duration("30d", 2592000);
  expect_duration("12h", 43200);
  expect_duration("90m", 5400);
  expect_duration("45s", 45);
  expect_duration("3600", 3600);
  expect_duration("0", 0);
  expect_duration("0d", 0);
  expect_duration("007s", 7);
  expect_duration("400d", 34560000);
  expect_duration("9223372036854775807", INT64_MAX);
  expect_duration("9223372036854775807s", INT64_MAX);
  expect_duration("106751991167300d", INT64_C(106751991167300) * 86400);
  expect_duration("153722867280912930m", INT64_C(153722867280912930) * 60);
  expect_duration("00000000000000000000000000001h", 3600);
}
END_TEST

START_TEST(duration_errors) {
  static const char *const bad[] = {
      "",
      "d",
      "s",
      "-5",
      "+5",
      "-5d",
      " 5",
      "5 ",
      "5 d",
      "5x",
      "5D",
      "5H",
      "5dd",
      "5ds",
      "5w",
      "1.5h",
      "1e3",
      "0x10",
      "5d5",
      "9223372036854775808",  /* INT64_MAX + 1 */
      "99999999999999999999", /* far past */
      "106751991167301d",     /* overflows once scaled */
      "153722867280912931m",
      "2562047788015216h",
      "9223372036854775808s",
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    int64_t v = 42;
    ck_assert_msg(cashback__duration_parse(bad[i], strlen(bad[i]), &v) ==
                      CASHBACK_E_CONFIG,
                  "'%s' accepted", bad[i]);
    ck_assert_int_eq(v, 42);
  }
  int64_t v = 42;
  ck_assert_int_eq(cashback__duration_parse(NULL, 0, &v),
                   CASHBACK_E_INVALID_ARGUMENT);
  ck_assert_int_eq(cashback__duration_parse("5", 1, NULL),
                   CASHBACK_E_INVALID_ARGUMENT);
  ck_assert_int_eq(v, 42);
}
END_TEST

START_TEST(duration_honours_length) {
  int64_t v = 0;
  ck_assert_int_eq(cashback__duration_parse("30dx", 3, &v), CASHBACK_OK);
  ck_assert_int_eq(v, 2592000);
  ck_assert_int_eq(cashback__duration_parse("30d", 2, &v), CASHBACK_OK);
  ck_assert_int_eq(v, 30);
  ck_assert_int_eq(cashback__duration_parse("30d", 0, &v), CASHBACK_E_CONFIG);
  ck_assert_int_eq(cashback__duration_parse("3\0d", 3, &v), CASHBACK_E_CONFIG);
  char raw[2] = {'9', 'h'};
  ck_assert_int_eq(cashback__duration_parse(raw, sizeof raw, &v), CASHBACK_OK);
  ck_assert_int_eq(v, 32400);
}
END_TEST

START_TEST(system_now) {
  time_t before = time(NULL);
  int64_t now = cashback__system_now();
  time_t after = time(NULL);
  ck_assert_int_ge(now, (int64_t)before);
  ck_assert_int_le(now, (int64_t)after + 1);
  ck_assert_int_gt(now, INT64_C(1700000000)); /* after November 2023 */
}
END_TEST

static void expect_parse(const char *text, int64_t want_t, int want_off) {
  int64_t t = -1;
  int off = -9999;
  cashback_status st = cashback__iso8601_parse(text, strlen(text), &t, &off);
  ck_assert_msg(st == CASHBACK_OK, "'%s': status %d", text, (int)st);
  ck_assert_msg(t == want_t && off == want_off, "'%s': got %lld %+d", text,
                (long long)t, off);
  /* The public entry point agrees. */
  int64_t t2 = -1;
  int off2 = -9999;
  ck_assert_int_eq(cashback_time_parse(text, strlen(text), &t2, &off2),
                   CASHBACK_OK);
  ck_assert_int_eq(t2, t);
  ck_assert_int_eq(off2, off);
}

START_TEST(parse_known) {
  expect_parse("1970-01-01T00:00:00Z", 0, 0);
  expect_parse("2009-02-13T23:31:30Z", 1234567890, 0);
  expect_parse("2009-02-13t23:31:30z", 1234567890, 0);
  expect_parse("2009-02-13 23:31:30Z", 1234567890, 0);
  expect_parse("2009-02-14T00:31:30+01:00", 1234567890, 60);
  expect_parse("2009-02-13T18:01:30-05:30", 1234567890, -330);
  expect_parse("2009-02-13T23:31:30-00:00", 1234567890, 0);
  expect_parse("2009-02-13T23:31:30.999999999Z", 1234567890, 0);
  expect_parse("2009-02-13T23:31:30.5+00:00", 1234567890, 0);
  expect_parse("1969-12-31T19:00:00-05:00", 0, -300); /* the instant is 1970 */
  expect_parse("1970-01-01T14:00:00+14:00", 0, 840);
  expect_parse("2000-02-29T00:00:00Z", 951782400, 0);
  expect_parse("2024-02-29T00:00:00Z", 1709164800, 0);
  expect_parse("2038-01-19T03:14:08Z", INT64_C(2147483648), 0);
  expect_parse("2400-02-29T12:00:00Z", INT64_C(13574606400), 0);
  expect_parse("9999-12-31T23:59:59Z", INT64_C(253402300799), 0);
  expect_parse("9999-12-31T23:59:59+01:00", INT64_C(253402297199), 60);
  /* The demo's order time. */
  expect_parse("2026-11-23T19:41:50+01:00", INT64_C(1795459310), 60);
}
END_TEST

START_TEST(parse_errors) {
  static const char *const bad[] = {
      "",
      "2009-02-13",                      /* no time */
      "2009-02-13T23:31:30",             /* no offset */
      "2009-02-13T23:31Z",               /* no seconds */
      "2009-02-13T23:31:60Z",            /* leap second */
      "2009-02-13T24:00:00Z",            /* hour */
      "2009-02-13T23:60:00Z",            /* minute */
      "2009-13-01T00:00:00Z",            /* month */
      "2009-00-01T00:00:00Z",            /* month */
      "2009-02-29T00:00:00Z",            /* not a leap year */
      "2100-02-29T00:00:00Z",            /* not a leap year */
      "2009-04-31T00:00:00Z",            /* April has 30 days */
      "2009-02-00T00:00:00Z",            /* day */
      "2009-2-13T23:31:30Z",             /* digits */
      "02009-02-13T23:31:30Z",           /* five-digit year */
      "2009-02-13X23:31:30Z",            /* separator */
      "2009-02-13T23:31:30.Z",           /* empty fraction */
      "2009-02-13T23:31:30.1234567890Z", /* ten fraction digits */
      "2009-02-13T23:31:30+0100",        /* offset without a colon */
      "2009-02-13T23:31:30+01",          /* offset without minutes */
      "2009-02-13T23:31:30+14:01",       /* past +14:00 */
      "2009-02-13T23:31:30-15:00",       /* past -14:00 */
      "2009-02-13T23:31:30+01:60",       /* offset minutes */
      "2009-02-13T23:31:30Z ",           /* trailing space */
      " 2009-02-13T23:31:30Z",           /* leading space */
      "2009-02-13T23:31:30ZZ",           /* trailing garbage */
      "1969-12-31T23:59:59Z",            /* before 1970 */
      "1970-01-01T00:00:00+00:01",       /* a minute before 1970 */
      "9999-12-31T23:59:59-00:01",       /* past year 9999 */
      "+2009-02-13T23:31:30Z",           /* sign */
      "2009-02-13T23:31:30\xef\xbc\xba", /* fullwidth Z */
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    int64_t t = 42;
    int off = 7;
    ck_assert_msg(cashback__iso8601_parse(bad[i], strlen(bad[i]), &t, &off) ==
                      CASHBACK_E_FIELD,
                  "'%s' accepted", bad[i]);
    ck_assert_int_eq(t, 42);
    ck_assert_int_eq(off, 7);
  }
  int64_t t = 0;
  int off = 0;
  ck_assert_int_eq(cashback__iso8601_parse(NULL, 0, &t, &off),
                   CASHBACK_E_INVALID_ARGUMENT);
  ck_assert_int_eq(cashback_time_parse("1970-01-01T00:00:00Z", 20, NULL, &off),
                   CASHBACK_E_INVALID_ARGUMENT);
  ck_assert_int_eq(cashback_time_parse("1970-01-01T00:00:00Z", 20, &t, NULL),
                   CASHBACK_E_INVALID_ARGUMENT);
}
END_TEST

START_TEST(parse_honours_length) {
  int64_t t = 0;
  int off = 0;
  const char *s = "2009-02-13T23:31:30Zjunk";
  ck_assert_int_eq(cashback__iso8601_parse(s, 20, &t, &off), CASHBACK_OK);
  ck_assert_int_eq(t, 1234567890);
  ck_assert_int_eq(cashback__iso8601_parse(s, 19, &t, &off), CASHBACK_E_FIELD);
  ck_assert_int_eq(cashback__iso8601_parse(s, 21, &t, &off), CASHBACK_E_FIELD);
  char raw[20];
  memcpy(raw, s, sizeof raw); /* not NUL-terminated */
  ck_assert_int_eq(cashback__iso8601_parse(raw, sizeof raw, &t, &off),
                   CASHBACK_OK);
  ck_assert_int_eq(t, 1234567890);
}
END_TEST

/* Whatever the formatter writes, the parser reads back to the same values. */
START_TEST(parse_roundtrip) {
  static const int offsets[] = {0, 60, -60, 330, -330, 840, -840, 1, -1};
  uint64_t x = 88172645463325252ULL; /* xorshift64 */
  for (int n = 0; n < 20000; n++) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    int64_t t = (int64_t)(x % (UINT64_C(253402300799) + 1));
    int off = offsets[(x >> 40) % (sizeof offsets / sizeof offsets[0])];
    char buf[CASHBACK__ISO8601_MAX];
    if (cashback__iso8601(t, off, buf) != CASHBACK_OK)
      continue; /* local time past 9999 */
    int64_t back = -1;
    int back_off = 0;
    ck_assert_msg(cashback__iso8601_parse(buf, strlen(buf), &back, &back_off) ==
                      CASHBACK_OK,
                  "'%s' refused", buf);
    ck_assert_msg(back == t && back_off == off, "'%s': %lld %+d", buf,
                  (long long)back, back_off);
  }
}
END_TEST

TCase *cashback_test_time(void) {
  TCase *tc = tcase_create("time");
  tcase_add_test(tc, iso_known_utc);
  tcase_add_test(tc, iso_offsets);
  tcase_add_test(tc, iso_against_gmtime);
  tcase_add_test(tc, iso_range_errors);
  tcase_add_test(tc, duration_known);
  tcase_add_test(tc, duration_errors);
  tcase_add_test(tc, duration_honours_length);
  tcase_add_test(tc, system_now);
  tcase_add_test(tc, parse_known);
  tcase_add_test(tc, parse_errors);
  tcase_add_test(tc, parse_honours_length);
  tcase_add_test(tc, parse_roundtrip);
  return tc;
}
