/* Unit tests for sdk/cashback_ascii.c: locale-free case folding, comparison,
 * trimming of counted text and the character classes. */
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

START_TEST(ascii_classes) {
  /* Each class, byte by byte over all 256 values. */
  for (int c = 0; c < 256; c++) {
    char b = (char)c;
    int alnum = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                (c >= '0' && c <= '9');
    int id = alnum || c == '.' || c == '_' || c == '-';
    ck_assert_int_eq(cashback__ascii_span(&b, 1, CASHBACK__ASCII_ID), id);
    ck_assert_int_eq(cashback__ascii_span(&b, 1, CASHBACK__ASCII_TOKEN),
                     id || c == '~');
    ck_assert_int_eq(cashback__ascii_span(&b, 1, CASHBACK__ASCII_GRAPH),
                     c > 0x20 && c < 0x7f);
    ck_assert_int_eq(cashback__ascii_span(&b, 1, CASHBACK__ASCII_HEX),
                     (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'));
  }
  /* The span stops at the first byte outside, and reads only `len`. */
  ck_assert_int_eq(cashback__ascii_span("ab-c d", 6, CASHBACK__ASCII_ID), 4);
  ck_assert_int_eq(cashback__ascii_span("a~b", 3, CASHBACK__ASCII_ID), 1);
  ck_assert_int_eq(cashback__ascii_span("a~b", 3, CASHBACK__ASCII_TOKEN), 3);
  ck_assert_int_eq(cashback__ascii_span("abc!", 3, CASHBACK__ASCII_ID), 3);
  ck_assert_int_eq(cashback__ascii_span("a\0b", 3, CASHBACK__ASCII_GRAPH), 1);
  ck_assert_int_eq(cashback__ascii_span("", 0, CASHBACK__ASCII_HEX), 0);
  ck_assert_int_eq(cashback__ascii_span("0fA", 3, CASHBACK__ASCII_HEX), 2);
}
END_TEST

START_TEST(ascii_all_bounds) {
  /* Length bounds are inclusive at both ends. */
  ck_assert_int_eq(cashback__ascii_all("ab", 2, 1, 2, CASHBACK__ASCII_ID), 1);
  ck_assert_int_eq(cashback__ascii_all("abc", 3, 1, 2, CASHBACK__ASCII_ID), 0);
  ck_assert_int_eq(cashback__ascii_all("", 0, 1, 2, CASHBACK__ASCII_ID), 0);
  ck_assert_int_eq(cashback__ascii_all("", 0, 0, 2, CASHBACK__ASCII_ID), 1);
  ck_assert_int_eq(cashback__ascii_all("a b", 3, 1, 9, CASHBACK__ASCII_ID), 0);
  ck_assert_int_eq(cashback__ascii_all("a b", 3, 1, 9, CASHBACK__ASCII_GRAPH),
                   0);
  ck_assert_int_eq(cashback__ascii_all("A#1", 3, 1, 9, CASHBACK__ASCII_GRAPH),
                   1);
  ck_assert_int_eq(cashback__ascii_all(NULL, 0, 0, 9, CASHBACK__ASCII_ID), 0);
  /* An event id: exactly 32 lowercase hex digits. */
  const char *id = "0123456789abcdef0123456789abcdef";
  ck_assert_int_eq(cashback__ascii_all(id, 32, 32, 32, CASHBACK__ASCII_HEX), 1);
  ck_assert_int_eq(cashback__ascii_all(id, 31, 32, 32, CASHBACK__ASCII_HEX), 0);
  ck_assert_int_eq(cashback__ascii_all("0123456789ABCDEF0123456789abcdef", 32,
                                       32, 32, CASHBACK__ASCII_HEX),
                   0);
}
END_TEST

START_TEST(ascii_copy) {
  char buf[5];
  memset(buf, 'x', sizeof(buf));
  ck_assert_int_eq(cashback__ascii_copy(buf, sizeof(buf), "abc", 3), 3);
  ck_assert_str_eq(buf, "abc");
  ck_assert_int_eq(buf[4], 'x'); /* nothing written past the NUL */
  /* Cut to size - 1, always NUL-terminated. */
  ck_assert_int_eq(cashback__ascii_copy(buf, sizeof(buf), "abcdefg", 7), 4);
  ck_assert_str_eq(buf, "abcd");
  ck_assert_int_eq(cashback__ascii_copy(buf, sizeof(buf), "abcd", 4), 4);
  ck_assert_str_eq(buf, "abcd");
  /* Only `len` bytes are read, a NUL among them is copied as a byte. */
  ck_assert_int_eq(cashback__ascii_copy(buf, sizeof(buf), "ab\0cd", 4), 4);
  ck_assert_int_eq(memcmp(buf, "ab\0c\0", 5), 0);
  ck_assert_int_eq(cashback__ascii_copy(buf, sizeof(buf), "abc", 1), 1);
  ck_assert_str_eq(buf, "a");
  ck_assert_int_eq(cashback__ascii_copy(buf, sizeof(buf), NULL, 0), 0);
  ck_assert_str_eq(buf, "");
  /* Size 1 holds only the NUL; size 0 writes nothing. */
  ck_assert_int_eq(cashback__ascii_copy(buf, 1, "abc", 3), 0);
  ck_assert_int_eq(buf[0], '\0');
  buf[0] = 'y';
  ck_assert_int_eq(cashback__ascii_copy(buf, 0, "abc", 3), 0);
  ck_assert_int_eq(buf[0], 'y');
}
END_TEST

/* cashback__ascii_list_next(): each comma-separated item, blanks cut,
 * empty ones (leading, doubled, trailing comma) included, then none. */
START_TEST(ascii_list_next) {
  static const struct {
    const char *list;
    const char *items; /* the items joined by '|' */
  } cases[] = {
      {"a,b", "a|b"},       {" a , b\t", "a|b"}, {"", ""},
      {",a,,b,", "|a||b|"}, {"one", "one"},      {" , ", "|"},
  };
  for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
    char got[64] = "";
    size_t pos = 0, ilen, at = 0, k = 0;
    const char *item;
    const char *s = cases[c].list;
    while (cashback__ascii_list_next(s, strlen(s), &pos, &item, &ilen)) {
      if (k++)
        got[at++] = '|';
      memcpy(got + at, item, ilen);
      at += ilen;
    }
    got[at] = '\0';
    ck_assert_msg(strcmp(got, cases[c].items) == 0, "'%s': got '%s'", s, got);
    ck_assert_uint_eq(pos, strlen(s) + 1);
  }
  size_t pos = 4, ilen;
  const char *item;
  ck_assert_int_eq(cashback__ascii_list_next("abc", 3, &pos, &item, &ilen), 0);
}
END_TEST

TCase *cashback_test_ascii(void) {
  TCase *tc = tcase_create("ascii");
  tcase_add_test(tc, ascii_case);
  tcase_add_test(tc, ascii_trim);
  tcase_add_test(tc, ascii_classes);
  tcase_add_test(tc, ascii_all_bounds);
  tcase_add_test(tc, ascii_copy);
  tcase_add_test(tc, ascii_list_next);
  return tc;
}
