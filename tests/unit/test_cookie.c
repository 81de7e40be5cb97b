/* Unit tests: sdk/cashback_cookie.c */
#include "tests.h"

#include "cashback_cookie.h"

#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* Iterates `h` (`len` bytes) and writes "name=value|" for every pair into
 * `out`, checking that the pointers stay inside `h`. Returns the count. */
static int collect_n(const char *h, size_t len, char *out, size_t size) {
  size_t pos = 0, used = 0;
  int count = 0;
  const char *n, *v;
  size_t nl, vl;
  out[0] = '\0';
  while (cashback__cookie_next(h, len, &pos, &n, &nl, &v, &vl)) {
    ck_assert((uintptr_t)n >= (uintptr_t)h);
    ck_assert((uintptr_t)(n + nl) <= (uintptr_t)(h + len));
    ck_assert((uintptr_t)v >= (uintptr_t)h);
    ck_assert((uintptr_t)(v + vl) <= (uintptr_t)(h + len));
    ck_assert_uint_le(pos, len);
    int w =
        snprintf(out + used, size - used, "%.*s=%.*s|", (int)nl, n, (int)vl, v);
    ck_assert_int_ge(w, 0);
    ck_assert_uint_lt((size_t)w, size - used);
    used += (size_t)w;
    count++;
  }
  /* The end is sticky. */
  ck_assert_int_eq(cashback__cookie_next(h, len, &pos, &n, &nl, &v, &vl), 0);
  return count;
}

static int collect(const char *h, char *out, size_t size) {
  return collect_n(h, strlen(h), out, size);
}

#define EXPECT_PAIRS(h, count, want)                                           \
  do {                                                                         \
    char got_[1024];                                                           \
    ck_assert_int_eq(collect((h), got_, sizeof got_), (count));                \
    ck_assert_str_eq(got_, (want));                                            \
  } while (0)

START_TEST(cookie_basic) {
  EXPECT_PAIRS("a=1", 1, "a=1|");
  EXPECT_PAIRS("a=1; b=2", 2, "a=1|b=2|");
  EXPECT_PAIRS("a=1;b=2;c=3", 3, "a=1|b=2|c=3|");
  EXPECT_PAIRS("cb=1.170.ab.awc.tok", 1, "cb=1.170.ab.awc.tok|");
}
END_TEST

START_TEST(cookie_spaces) {
  EXPECT_PAIRS("  a = 1 ;  b=2  ", 2, "a=1|b=2|");
  EXPECT_PAIRS("\ta=1\t;\tb=\t2", 2, "a=1|b=2|");
  /* Inner spaces stay. */
  EXPECT_PAIRS("a=x y; b c=2", 2, "a=x y|b c=2|");
}
END_TEST

START_TEST(cookie_quotes) {
  EXPECT_PAIRS("a=\"1\"", 1, "a=1|");
  EXPECT_PAIRS("a= \"x y\" ; b=2", 2, "a=x y|b=2|");
  /* Only one pair of quotes is removed. */
  EXPECT_PAIRS("a=\"\"1\"\"", 1, "a=\"1\"|");
  EXPECT_PAIRS("a=\"\"", 1, "a=|");
  /* Unbalanced quotes stay. */
  EXPECT_PAIRS("a=\"1", 1, "a=\"1|");
  EXPECT_PAIRS("a=1\"", 1, "a=1\"|");
  EXPECT_PAIRS("a=\"", 1, "a=\"|");
}
END_TEST

START_TEST(cookie_empty) {
  EXPECT_PAIRS("", 0, "");
  EXPECT_PAIRS(";", 0, "");
  EXPECT_PAIRS(" ; ;; ", 0, "");
  EXPECT_PAIRS("a=", 1, "a=|");
  EXPECT_PAIRS("a= ; b=", 2, "a=|b=|");
  /* An empty name is returned as such. */
  EXPECT_PAIRS("=v", 1, "=v|");
  EXPECT_PAIRS(" = ", 1, "=|");
}
END_TEST

START_TEST(cookie_no_equals) {
  EXPECT_PAIRS("flag", 0, "");
  EXPECT_PAIRS("flag; a=1", 1, "a=1|");
  EXPECT_PAIRS("a=1; flag; b=2", 2, "a=1|b=2|");
  EXPECT_PAIRS("a=1; flag", 1, "a=1|");
}
END_TEST

START_TEST(cookie_equals_in_value) {
  EXPECT_PAIRS("a=b=c", 1, "a=b=c|");
  EXPECT_PAIRS("a==", 1, "a==|");
}
END_TEST

START_TEST(cookie_trailing_semicolon) {
  EXPECT_PAIRS("a=1;", 1, "a=1|");
  EXPECT_PAIRS("a=1; ", 1, "a=1|");
  EXPECT_PAIRS("a=1;;;", 1, "a=1|");
}
END_TEST

START_TEST(cookie_many) {
  char h[4096], want[4096];
  size_t hl = 0, wl = 0;
  for (int i = 0; i < 200; i++) {
    int w = snprintf(h + hl, sizeof h - hl, "%sc%d=v%d", i ? "; " : "", i, i);
    ck_assert_int_gt(w, 0);
    hl += (size_t)w;
    w = snprintf(want + wl, sizeof want - wl, "c%d=v%d|", i, i);
    ck_assert_int_gt(w, 0);
    wl += (size_t)w;
  }
  char got[4096];
  ck_assert_int_eq(collect(h, got, sizeof got), 200);
  ck_assert_str_eq(got, want);
}
END_TEST

START_TEST(cookie_length_respected) {
  /* Only `len` bytes are read: the pair is cut there. */
  const char *h = "a=12345; b=2";
  char got[64];
  ck_assert_int_eq(collect_n(h, 4, got, sizeof got), 1);
  ck_assert_str_eq(got, "a=12|");
  ck_assert_int_eq(collect_n(h, 1, got, sizeof got), 0);
  ck_assert_int_eq(collect_n(h, 0, got, sizeof got), 0);
  /* Embedded NUL bytes are ordinary bytes. */
  const char raw[] = "a=\0x; b=2";
  ck_assert_int_eq(collect_n(raw, sizeof raw - 1, got, sizeof got), 2);
}
END_TEST

START_TEST(cookie_null_args) {
  size_t pos = 0, nl, vl;
  const char *n, *v;
  ck_assert_int_eq(cashback__cookie_next(NULL, 3, &pos, &n, &nl, &v, &vl), 0);
  ck_assert_int_eq(cashback__cookie_next("a=1", 3, NULL, &n, &nl, &v, &vl), 0);
  ck_assert_int_eq(cashback__cookie_next("a=1", 3, &pos, NULL, &nl, &v, &vl),
                   0);
  ck_assert_int_eq(cashback__cookie_next("a=1", 3, &pos, &n, &nl, &v, NULL), 0);
  /* A position past the end ends the iteration. */
  pos = 10;
  ck_assert_int_eq(cashback__cookie_next("a=1", 3, &pos, &n, &nl, &v, &vl), 0);
  pos = 0;
  ck_assert_int_eq(cashback__cookie_next("a=1", 3, &pos, &n, &nl, &v, &vl), 1);
}
END_TEST

TCase *cashback_test_cookie(void) {
  TCase *tc = tcase_create("cookie");
  tcase_add_test(tc, cookie_basic);
  tcase_add_test(tc, cookie_spaces);
  tcase_add_test(tc, cookie_quotes);
  tcase_add_test(tc, cookie_empty);
  tcase_add_test(tc, cookie_no_equals);
  tcase_add_test(tc, cookie_equals_in_value);
  tcase_add_test(tc, cookie_trailing_semicolon);
  tcase_add_test(tc, cookie_many);
  tcase_add_test(tc, cookie_length_respected);
  tcase_add_test(tc, cookie_null_args);
  return tc;
}
