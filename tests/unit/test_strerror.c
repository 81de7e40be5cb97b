#include "cashback.h"
#include "tests.h"

#include <string.h>

START_TEST(every_status_has_distinct_text) {
  const char *seen[CASHBACK_E_PROTOCOL + 1];
  for (int s = CASHBACK_OK; s <= CASHBACK_E_PROTOCOL; s++) {
    const char *t = cashback_strerror((cashback_status)s);
    ck_assert_ptr_nonnull(t);
    ck_assert_str_ne(t, "unknown status");
    for (int k = 0; k < s; k++)
      ck_assert_str_ne(t, seen[k]);
    seen[s] = t;
  }
  ck_assert_str_eq(cashback_strerror((cashback_status)9999), "unknown status");
  ck_assert_str_eq(cashback_strerror((cashback_status)-1), "unknown status");
}
END_TEST

START_TEST(numbers_are_fixed) {
  /* These numbers are part of the ABI and of docs/errors.md. */
  ck_assert_int_eq(CASHBACK_OK, 0);
  ck_assert_int_eq(CASHBACK_E_CONFIG, 3);
  ck_assert_int_eq(CASHBACK_E_CLICK_TAMPERED, 6);
  ck_assert_int_eq(CASHBACK_E_SIG_MISMATCH, 15);
  ck_assert_int_eq(CASHBACK_E_INTERNAL, 18);
  ck_assert_int_eq(CASHBACK_E_PROTOCOL, 27);
  ck_assert_str_eq(cashback_version(), CASHBACK_VERSION);
}
END_TEST

TCase *cashback_test_strerror(void) {
  TCase *tc = tcase_create("strerror");
  tcase_add_test(tc, every_status_has_distinct_text);
  tcase_add_test(tc, numbers_are_fixed);
  return tc;
}
