#include "cashback_buf.h"
#include "tests.h"

#include <stdlib.h>
#include <string.h>

START_TEST(grows_and_terminates) {
  cashback__buf b;
  cashback__buf_init(&b, 1 << 20);
  for (int i = 0; i < 1000; i++)
    ck_assert_int_eq(cashback__buf_add(&b, "abc", 3), CASHBACK_OK);
  ck_assert_uint_eq(b.len, 3000);
  ck_assert_int_eq(b.data[b.len], '\0');
  ck_assert_int_eq(memcmp(b.data + 2997, "abc", 3), 0);
  ck_assert_int_eq(cashback__buf_addf(&b, "%d-%s", 42, "x"), CASHBACK_OK);
  ck_assert_str_eq(b.data + 3000, "42-x");
  cashback__buf_reset(&b);
  ck_assert_uint_eq(b.len, 0);
  ck_assert_str_eq(b.data, "");
  cashback__buf_free(&b);
  ck_assert_ptr_null(b.data);
}
END_TEST

START_TEST(cap_is_enforced_and_content_kept) {
  cashback__buf b;
  cashback__buf_init(&b, 10);
  ck_assert_int_eq(cashback__buf_adds(&b, "0123456789"), CASHBACK_OK);
  ck_assert_int_eq(cashback__buf_add(&b, "x", 1), CASHBACK_E_TOO_BIG);
  ck_assert_int_eq(cashback__buf_addf(&b, "%s", "y"), CASHBACK_E_TOO_BIG);
  ck_assert_str_eq(b.data, "0123456789");
  cashback__buf_reset(&b);
  ck_assert_int_eq(cashback__buf_add(&b, "0123456789a", 11),
                   CASHBACK_E_TOO_BIG);
  ck_assert_uint_eq(b.len, 0);
  ck_assert_int_eq(cashback__buf_add(&b, "x", SIZE_MAX), CASHBACK_E_TOO_BIG);
  cashback__buf_free(&b);
}
END_TEST

START_TEST(detach_hands_over) {
  cashback__buf b;
  cashback__buf_init(&b, 100);
  size_t len = 99;
  char *empty = cashback__buf_detach(&b, &len);
  ck_assert_ptr_nonnull(empty);
  ck_assert_str_eq(empty, "");
  ck_assert_uint_eq(len, 0);
  free(empty);
  ck_assert_int_eq(cashback__buf_adds(&b, "hello"), CASHBACK_OK);
  char *s = cashback__buf_detach(&b, &len);
  ck_assert_str_eq(s, "hello");
  ck_assert_uint_eq(len, 5);
  ck_assert_ptr_null(b.data);
  ck_assert_uint_eq(b.len, 0);
  free(s);
  cashback__buf_free(&b);
}
END_TEST

TCase *cashback_test_buf(void) {
  TCase *tc = tcase_create("buf");
  tcase_add_test(tc, grows_and_terminates);
  tcase_add_test(tc, cap_is_enforced_and_content_kept);
  tcase_add_test(tc, detach_hands_over);
  return tc;
}
