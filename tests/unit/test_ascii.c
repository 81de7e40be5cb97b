/* Unit tests for sdk/cashback_ascii.c: locale-free case folding, comparison
 * and trimming of counted text. */
#include "cashback_ascii.h"
#include "tests.h"

#include <string.h>

START_TEST(ascii_case) {
  ck_assert_int_eq(cashback__ascii_lower('A'), 'a');
  ck_assert_int_eq(cashback__ascii_lower('Z'), 'z');
  ck_assert_int_eq(cashback__ascii_lower('a'), 'a');
  ck_assert_int_eq(cashback__ascii_lower('@'), '@');
  ck_assert_int_eq(cashback__ascii_lower(0xc4), 0xc4); /* not ASCII */
  ck_assert_int_eq(cashback__ascii_ieq("Content-Type", 12, "content-type"), 1);
  ck_assert_int_eq(cashback__ascii_ieq("Content-Type", 7, "content-type"), 0);
  ck_assert_int_eq(cashback__ascii_iprefix("CASHBACK:x", 10, "cashback:"), 1);
  ck_assert_int_eq(cashback__ascii_iprefix("CASH", 4, "cashback:"), 0);
}
END_TEST

static void trimmed(const char *in, size_t len, const char *blanks,
                    const char *want) {
  const char *s = in;
  size_t n = len;
  cashback__ascii_trim(&s, &n, blanks);
  ck_assert_msg(n == strlen(want) && memcmp(s, want, n) == 0,
                "trim of '%.*s' gave '%.*s', want '%s'", (int)len, in, (int)n,
                s, want);
  ck_assert_msg(s >= in && s + n <= in + len, "trim left the input");
}

START_TEST(ascii_trim) {
  trimmed("  a b\t", 6, " \t", "a b");
  trimmed("a", 1, " \t", "a");
  trimmed("", 0, " \t", "");
  trimmed(" \t ", 3, " \t", "");
  trimmed("x \r\n", 4, " \t", "x \r\n"); /* CR LF only when asked */
  trimmed("x \r\n", 4, " \t\r\n", "x");
  trimmed("\r\n x", 4, " \t\r\n", "x");
  /* Only `len` bytes are read: the blank past them is not looked at. */
  trimmed(" ab ", 3, " \t", "ab");
  /* A NUL byte is never a blank. */
  const char *s = " a\0";
  size_t n = 3;
  cashback__ascii_trim(&s, &n, " \t");
  ck_assert_int_eq(n, 2);
  ck_assert_int_eq(s[0], 'a');
}
END_TEST

TCase *cashback_test_ascii(void) {
  TCase *tc = tcase_create("ascii");
  tcase_add_test(tc, ascii_case);
  tcase_add_test(tc, ascii_trim);
  return tc;
}
