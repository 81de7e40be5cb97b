#include "cashback_buf.h"
#include "tests.h"

#include <cjson/cJSON.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
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

/* cashback__grow(): room for one more, doubling from `first`; the content
 * kept; a size past SIZE_MAX refused with the array and its cap unchanged. */
START_TEST(grow_makes_room_for_one_more) {
  int *a = NULL;
  size_t n = 0, cap = 0;
  for (int i = 0; i < 100; i++) {
    int *p = cashback__grow(a, n, &cap, sizeof(*p), 4);
    ck_assert_ptr_nonnull(p);
    a = p;
    a[n++] = i;
    ck_assert_uint_ge(cap, n);
  }
  ck_assert_uint_eq(cap, 128); /* 4, 8, ..., 128 */
  for (int i = 0; i < 100; i++)
    ck_assert_int_eq(a[i], i);
  /* Not full: the same array, the cap unchanged. */
  ck_assert_ptr_eq(cashback__grow(a, 50, &cap, sizeof(*a), 4), a);
  ck_assert_uint_eq(cap, 128);
  /* Twice the cap would pass SIZE_MAX bytes. */
  size_t huge = SIZE_MAX / 2 + 1;
  ck_assert_ptr_null(cashback__grow(a, huge, &huge, 1, 4));
  ck_assert_uint_eq(huge, SIZE_MAX / 2 + 1);
  ck_assert_ptr_null(cashback__grow(a, 128, &cap, SIZE_MAX / 200, 4));
  ck_assert_uint_eq(cap, 128);
  ck_assert_int_eq(a[99], 99);
  free(a);
}
END_TEST

/* Every byte, alone and amid text: the bytes cJSON prints for the same
 * string, and the length cashback__json_string_len() says. */
START_TEST(json_string_is_what_cjson_prints) {
  for (int c = 1; c < 256; c++) {
    char in[8] = {'a', (char)c, 'b', (char)c, '\0'};
    for (size_t len = 1; len <= 4; len += 3) {
      const char *s = len == 1 ? in + 1 : in;
      char one[2] = {s[0], '\0'};
      cJSON *j = cJSON_CreateString(len == 1 ? one : s);
      char *want = cJSON_PrintUnformatted(j);
      cashback__buf b;
      cashback__buf_init(&b, 100);
      ck_assert_int_eq(cashback__buf_add_json_string(&b, s, len), CASHBACK_OK);
      ck_assert_str_eq(b.data, want);
      ck_assert_uint_eq(b.len, strlen(want));
      ck_assert_uint_eq(cashback__json_string_len(s, len), b.len);
      cashback__buf_free(&b);
      cJSON_free(want);
      cJSON_Delete(j);
    }
  }
  cashback__buf b;
  cashback__buf_init(&b, 100);
  ck_assert_int_eq(cashback__buf_add_json_string(&b, "", 0), CASHBACK_OK);
  ck_assert_str_eq(b.data, "\"\"");
  cashback__buf_free(&b);
  /* Past the cap: refused whole, the content as it was. */
  cashback__buf_init(&b, 8);
  ck_assert_int_eq(cashback__buf_add(&b, "ab", 2), CASHBACK_OK);
  ck_assert_int_eq(cashback__buf_add_json_string(&b, "\n\n\n", 3),
                   CASHBACK_E_TOO_BIG);
  ck_assert_str_eq(b.data, "ab");
  ck_assert_int_eq(cashback__buf_add_json_string(&b, "\n", 1), CASHBACK_OK);
  ck_assert_str_eq(b.data, "ab\"\\n\"");
  cashback__buf_free(&b);
}
END_TEST

START_TEST(int_is_decimal_like_printf) {
  static const int64_t v[] = {0,
                              1,
                              -1,
                              9,
                              10,
                              -10,
                              99,
                              100,
                              4990,
                              -4990,
                              1000000007,
                              INT32_MAX,
                              INT32_MIN,
                              INT64_MAX,
                              INT64_MIN,
                              INT64_MAX - 1,
                              INT64_MIN + 1};
  for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
    char want[32];
    snprintf(want, sizeof(want), "%" PRId64, v[i]);
    cashback__buf b;
    cashback__buf_init(&b, 100);
    ck_assert_int_eq(cashback__buf_add_int(&b, v[i]), CASHBACK_OK);
    ck_assert_str_eq(b.data, want);
    cashback__buf_free(&b);
  }
  for (int64_t x = -100000; x <= 100000; x += 7) {
    char want[32];
    snprintf(want, sizeof(want), "%" PRId64, x * 1000003);
    cashback__buf b;
    cashback__buf_init(&b, 100);
    ck_assert_int_eq(cashback__buf_add_int(&b, x * 1000003), CASHBACK_OK);
    ck_assert_str_eq(b.data, want);
    cashback__buf_free(&b);
  }
}
END_TEST

START_TEST(reserve_and_truncate) {
  cashback__buf b;
  cashback__buf_init(&b, 1000);
  ck_assert_int_eq(cashback__buf_reserve(&b, 500), CASHBACK_OK);
  ck_assert_uint_ge(b.cap, 501);
  char *p = b.data;
  for (int i = 0; i < 50; i++)
    ck_assert_int_eq(cashback__buf_add(&b, "0123456789", 10), CASHBACK_OK);
  ck_assert_ptr_eq(b.data, p); /* no reallocation */
  ck_assert_int_eq(cashback__buf_reserve(&b, 501), CASHBACK_E_TOO_BIG);
  ck_assert_uint_eq(b.len, 500);
  cashback__buf_truncate(&b, 3);
  ck_assert_str_eq(b.data, "012");
  cashback__buf_truncate(&b, 10); /* never longer */
  ck_assert_str_eq(b.data, "012");
  cashback__buf_free(&b);
}
END_TEST

TCase *cashback_test_buf(void) {
  TCase *tc = tcase_create("buf");
  tcase_add_test(tc, grows_and_terminates);
  tcase_add_test(tc, cap_is_enforced_and_content_kept);
  tcase_add_test(tc, detach_hands_over);
  tcase_add_test(tc, grow_makes_room_for_one_more);
  tcase_add_test(tc, json_string_is_what_cjson_prints);
  tcase_add_test(tc, int_is_decimal_like_printf);
  tcase_add_test(tc, reserve_and_truncate);
  return tc;
}
