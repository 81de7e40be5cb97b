#include "cashback_crypto.h"
#include "cashback_pct.h"
#include "tests.h"

#include <stdlib.h>
#include <string.h>

/* Decodes all of `s`; -1 at the first bad escape. */
static int decode(const char *s, int plus, char *out) {
  size_t i = 0, n = 0, len = strlen(s);
  while (i < len) {
    int b = cashback__pct_next(s, len, &i, plus);
    if (b < 0)
      return -1;
    out[n++] = (char)b;
  }
  out[n] = '\0';
  return (int)n;
}

START_TEST(decodes) {
  char out[64];
  ck_assert_int_eq(decode("a%41%62c", 0, out), 4);
  ck_assert_str_eq(out, "aAbc");
  ck_assert_int_eq(decode("a+b%2B", 1, out), 4);
  ck_assert_str_eq(out, "a b+");
  ck_assert_int_eq(decode("a+b", 0, out), 3);
  ck_assert_str_eq(out, "a+b");
  ck_assert_int_eq(decode("%3b%3B", 0, out), 2);
  ck_assert_str_eq(out, ";;");
  size_t i = 0;
  ck_assert_int_eq(cashback__pct_next("%00", 3, &i, 0), 0); /* caller's call */
  ck_assert_uint_eq(i, 3);
}
END_TEST

START_TEST(refuses_bad_escapes_without_overreading) {
  char out[64];
  ck_assert_int_eq(decode("%", 0, out), -1);
  ck_assert_int_eq(decode("%4", 0, out), -1);
  ck_assert_int_eq(decode("%G1", 0, out), -1);
  ck_assert_int_eq(decode("%1g", 0, out), -1);
  ck_assert_int_eq(decode("ab%", 0, out), -1);
  /* Exactly-sized heap copies: ASan sees any read past `len`. */
  char *p = malloc(2);
  memcpy(p, "%4", 2);
  size_t i = 0;
  ck_assert_int_eq(cashback__pct_next(p, 2, &i, 0), -1);
  free(p);
  ck_assert_int_eq(cashback__hex_digit('f'), 15);
  ck_assert_int_eq(cashback__hex_digit('F'), 15);
  ck_assert_int_eq(cashback__hex_digit('g'), -1);
  ck_assert_int_eq(cashback__hex_digit('/'), -1);
}
END_TEST

TCase *cashback_test_pct(void) {
  TCase *tc = tcase_create("pct");
  tcase_add_test(tc, decodes);
  tcase_add_test(tc, refuses_bad_escapes_without_overreading);
  return tc;
}
