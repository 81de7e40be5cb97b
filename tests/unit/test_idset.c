/* Unit tests for sdk/cashback_idset.c. */
#include "cashback_idset.h"
#include "tests.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

START_TEST(put_and_get) {
  cashback__idset s;
  ck_assert_int_eq(cashback__idset_init(&s, 3), CASHBACK_OK);
  ck_assert_uint_eq(cashback__idset_get(&s, "a"), SIZE_MAX);
  ck_assert_uint_eq(cashback__idset_put(&s, "a", 7), 7);
  ck_assert_uint_eq(cashback__idset_put(&s, "b", 8), 8);
  /* Already there: the earlier value, unchanged. */
  ck_assert_uint_eq(cashback__idset_put(&s, "a", 9), 7);
  ck_assert_uint_eq(cashback__idset_get(&s, "a"), 7);
  ck_assert_uint_eq(cashback__idset_get(&s, "b"), 8);
  ck_assert_uint_eq(cashback__idset_get(&s, ""), SIZE_MAX);
  ck_assert_uint_eq(cashback__idset_put(&s, "", 1), 1);
  /* Full: a new id is refused, those there are still found. */
  ck_assert_uint_eq(cashback__idset_put(&s, "c", 2), SIZE_MAX);
  ck_assert_uint_eq(cashback__idset_get(&s, "c"), SIZE_MAX);
  ck_assert_uint_eq(cashback__idset_put(&s, "b", 3), 8);
  cashback__idset_free(&s);
  /* An empty set. */
  ck_assert_int_eq(cashback__idset_init(&s, 0), CASHBACK_OK);
  ck_assert_uint_eq(cashback__idset_get(&s, "a"), SIZE_MAX);
  ck_assert_uint_eq(cashback__idset_put(&s, "a", 0), SIZE_MAX);
  cashback__idset_free(&s);
  cashback__idset_free(&s); /* twice is harmless */
}
END_TEST

/* 5000 ids sharing a long prefix of zeros, each put twice: every one found
 * with its first value, strangers not. */
START_TEST(many_ids) {
  enum { N = 5000 };
  char(*id)[40] = malloc(sizeof(*id) * (N + 100));
  ck_assert_ptr_nonnull(id);
  for (size_t i = 0; i < N + 100; i++)
    snprintf(id[i], sizeof(id[i]), "%032zx", i * 2654435761u);
  cashback__idset s;
  ck_assert_int_eq(cashback__idset_init(&s, N), CASHBACK_OK);
  for (size_t i = 0; i < N; i++)
    ck_assert_uint_eq(cashback__idset_put(&s, id[i], i), i);
  for (size_t i = 0; i < N; i++)
    ck_assert_uint_eq(cashback__idset_put(&s, id[i], i + N), i);
  for (size_t i = 0; i < N; i++)
    ck_assert_uint_eq(cashback__idset_get(&s, id[i]), i);
  for (size_t i = N; i < N + 100; i++)
    ck_assert_uint_eq(cashback__idset_get(&s, id[i]), SIZE_MAX);
  cashback__idset_free(&s);
  free(id);
}
END_TEST

TCase *cashback_test_idset(void) {
  TCase *tc = tcase_create("idset");
  tcase_add_test(tc, put_and_get);
  tcase_add_test(tc, many_ids);
  return tc;
}
