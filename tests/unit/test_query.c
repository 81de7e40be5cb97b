/* Unit tests: sdk/cashback_query.c */
#include "tests.h"

#include "cashback_query.h"

#include <check.h>
#include <string.h>

/* Looks `name` up in NUL-terminated `q` with a 64-byte buffer. */
static cashback_status qp(const char *q, const char *name, char *out,
                          size_t *n) {
  return cashback__query_param(q, strlen(q), name, out, 64, n);
}

#define EXPECT_VALUE(q, name, want)                                            \
  do {                                                                         \
    char out_[64];                                                             \
    size_t n_ = 999;                                                           \
    ck_assert_int_eq(qp((q), (name), out_, &n_), CASHBACK_OK);                 \
    ck_assert_str_eq(out_, (want));                                            \
    ck_assert_uint_eq(n_, strlen(want));                                       \
  } while (0)

#define EXPECT_STATUS(q, name, st)                                             \
  do {                                                                         \
    char out_[64];                                                             \
    size_t n_ = 999;                                                           \
    memset(out_, 'x', sizeof out_);                                            \
    ck_assert_int_eq(qp((q), (name), out_, &n_), (st));                        \
    ck_assert_str_eq(out_, "");                                                \
    ck_assert_uint_eq(n_, 0);                                                  \
  } while (0)

START_TEST(query_raw_and_target) {
  EXPECT_VALUE("awc=abc", "awc", "abc");
  EXPECT_VALUE("a=1&awc=abc&b=2", "awc", "abc");
  EXPECT_VALUE("/landing/page?awc=abc", "awc", "abc");
  EXPECT_VALUE("/p?x=1&awc=abc", "awc", "abc");
  EXPECT_VALUE("https://shop.example/p?awc=abc", "awc", "abc");
  EXPECT_VALUE("?awc=abc", "awc", "abc");
  EXPECT_VALUE("HTTP://shop.example?awc=abc", "awc", "abc");
  EXPECT_VALUE("x-y+z.1://h/?awc=abc", "awc", "abc");
  /* Only the first '?' starts the query; later ones are value bytes. */
  EXPECT_VALUE("/p?awc=a?b", "awc", "a?b");
  EXPECT_VALUE("/p?next=/cart?x=1&awc=abc", "awc", "abc");
  EXPECT_VALUE("?next=/c?awc=zzz&awc=abc", "awc", "abc");
  /* A raw query is taken whole: a '?' in it (legal in RFC 3986) is a value
   * byte, and does not hide the parameters before it. */
  EXPECT_VALUE("awc=abc&next=/cart?x=1", "awc", "abc");
  EXPECT_VALUE("next=/cart?x=1&awc=abc", "awc", "abc");
  EXPECT_VALUE("next=?&awc=abc", "awc", "abc");
  EXPECT_VALUE("awc=a?b", "awc", "a?b");
  /* Not a scheme: raw query. */
  EXPECT_VALUE("1http://h?awc=abc", "1http://h?awc", "abc");
  EXPECT_STATUS("p?awc=abc", "awc", CASHBACK_E_CLICK_NONE);
  EXPECT_VALUE("p?awc=abc", "p?awc", "abc");
  /* A path without query: nothing. */
  EXPECT_STATUS("/p/awc=abc", "awc", CASHBACK_E_CLICK_NONE);
  EXPECT_STATUS("https://shop.example/p/awc=abc", "awc", CASHBACK_E_CLICK_NONE);
  EXPECT_STATUS("/p", "/p", CASHBACK_E_CLICK_NONE);
  EXPECT_STATUS("", "awc", CASHBACK_E_CLICK_NONE);
  EXPECT_STATUS("/p?", "awc", CASHBACK_E_CLICK_NONE);
}
END_TEST

START_TEST(query_fragment) {
  EXPECT_VALUE("/p?awc=abc#frag", "awc", "abc");
  EXPECT_VALUE("/p?awc=abc#awc=zzz", "awc", "abc");
  EXPECT_STATUS("/p?x=1#awc=abc", "awc", CASHBACK_E_CLICK_NONE);
  /* A '?' inside the fragment does not start a query. */
  EXPECT_STATUS("/p#x?awc=abc", "awc", CASHBACK_E_CLICK_NONE);
  EXPECT_STATUS("#awc=abc", "awc", CASHBACK_E_CLICK_NONE);
}
END_TEST

START_TEST(query_decoding) {
  EXPECT_VALUE("awc=a%2Fb", "awc", "a/b");
  EXPECT_VALUE("awc=a%2fb", "awc", "a/b");
  EXPECT_VALUE("awc=a+b", "awc", "a b");
  EXPECT_VALUE("awc=a%2Bb", "awc", "a+b");
  EXPECT_VALUE("awc=%41%42%43", "awc", "ABC");
  EXPECT_VALUE("awc=%0d%0a", "awc", "\r\n");
  EXPECT_VALUE("awc=%C3%A9", "awc", "\xc3\xa9");
  EXPECT_VALUE("awc=a=b", "awc", "a=b");
  EXPECT_VALUE("awc=%25", "awc", "%");
}
END_TEST

START_TEST(query_bad_escapes) {
  EXPECT_STATUS("awc=%G1", "awc", CASHBACK_E_CLICK_MALFORMED);
  EXPECT_STATUS("awc=%1G", "awc", CASHBACK_E_CLICK_MALFORMED);
  EXPECT_STATUS("awc=%4", "awc", CASHBACK_E_CLICK_MALFORMED);
  EXPECT_STATUS("awc=abc%", "awc", CASHBACK_E_CLICK_MALFORMED);
  EXPECT_STATUS("awc=%", "awc", CASHBACK_E_CLICK_MALFORMED);
  EXPECT_STATUS("awc=%4&x=1", "awc", CASHBACK_E_CLICK_MALFORMED);
  EXPECT_STATUS("awc=% 41", "awc", CASHBACK_E_CLICK_MALFORMED);
  /* A bad escape in another parameter does not matter. */
  EXPECT_VALUE("x=%G1&awc=ok", "awc", "ok");
  /* A bad escape in a repeat of the name does. */
  EXPECT_STATUS("awc=ok&awc=%G1", "awc", CASHBACK_E_CLICK_MALFORMED);
}
END_TEST

START_TEST(query_nul) {
  EXPECT_STATUS("awc=a%00b", "awc", CASHBACK_E_CLICK_MALFORMED);
  EXPECT_STATUS("awc=%00", "awc", CASHBACK_E_CLICK_MALFORMED);
  /* A raw NUL byte inside the length is malformed too. */
  char out[64];
  size_t n = 9;
  const char raw[] = "awc=a\0b";
  ck_assert_int_eq(
      cashback__query_param(raw, sizeof raw - 1, "awc", out, sizeof out, &n),
      CASHBACK_E_CLICK_MALFORMED);
  /* ...but a NUL in another parameter is not ours to judge. */
  const char raw2[] = "x=\0&awc=ok";
  ck_assert_int_eq(
      cashback__query_param(raw2, sizeof raw2 - 1, "awc", out, sizeof out, &n),
      CASHBACK_OK);
  ck_assert_str_eq(out, "ok");
}
END_TEST

START_TEST(query_repeats) {
  EXPECT_VALUE("awc=abc&awc=abc", "awc", "abc");
  EXPECT_VALUE("awc=abc&x=1&awc=abc", "awc", "abc");
  /* Identical after decoding. */
  EXPECT_VALUE("awc=a%62c&awc=abc", "awc", "abc");
  EXPECT_VALUE("awc=a+b&awc=a%20b", "awc", "a b");
  EXPECT_STATUS("awc=abc&awc=abd", "awc", CASHBACK_E_CLICK_MALFORMED);
  EXPECT_STATUS("awc=abc&awc=ab", "awc", CASHBACK_E_CLICK_MALFORMED);
  EXPECT_STATUS("awc=ab&awc=abc", "awc", CASHBACK_E_CLICK_MALFORMED);
  EXPECT_STATUS("awc=1&awc=1&awc=2", "awc", CASHBACK_E_CLICK_MALFORMED);
}
END_TEST

START_TEST(query_empty_values) {
  EXPECT_STATUS("awc=", "awc", CASHBACK_E_CLICK_NONE);
  EXPECT_STATUS("awc", "awc", CASHBACK_E_CLICK_NONE);
  EXPECT_STATUS("awc=&awc", "awc", CASHBACK_E_CLICK_NONE);
  EXPECT_STATUS("/p?awc=&x=1", "awc", CASHBACK_E_CLICK_NONE);
  /* An empty occurrence next to a valued one: the value counts. */
  EXPECT_VALUE("awc=&awc=abc", "awc", "abc");
  EXPECT_VALUE("awc=abc&awc=", "awc", "abc");
  EXPECT_VALUE("awc&awc=abc&awc", "awc", "abc");
}
END_TEST

START_TEST(query_names) {
  /* A name that is a prefix or suffix of another is not a match. */
  EXPECT_VALUE("xawc=1&awc=2", "awc", "2");
  EXPECT_VALUE("awcx=1&awc=2", "awc", "2");
  EXPECT_STATUS("xawc=1&awcx=2", "awc", CASHBACK_E_CLICK_NONE);
  /* Case-sensitive. */
  EXPECT_STATUS("AWC=1", "awc", CASHBACK_E_CLICK_NONE);
  /* Raw bytes: an encoded name is another name. */
  EXPECT_STATUS("a%77c=1", "awc", CASHBACK_E_CLICK_NONE);
  EXPECT_VALUE("a%77c=1", "a%77c", "1");
  /* Spaces are part of the name. */
  EXPECT_STATUS(" awc=1", "awc", CASHBACK_E_CLICK_NONE);
  EXPECT_VALUE("cb_click=t1&awc=t2", "cb_click", "t1");
}
END_TEST

START_TEST(query_separators) {
  /* ';' is not a separator. */
  EXPECT_VALUE("awc=a;b", "awc", "a;b");
  EXPECT_STATUS("x=1;awc=2", "awc", CASHBACK_E_CLICK_NONE);
  EXPECT_VALUE("&&awc=abc&&", "awc", "abc");
  EXPECT_VALUE("=&awc=abc&=", "awc", "abc");
  EXPECT_VALUE("/p?&awc=abc", "awc", "abc");
}
END_TEST

START_TEST(query_long_values) {
  char q[400];
  memcpy(q, "awc=", 4);
  memset(q + 4, 'a', 63);
  q[67] = '\0';
  char out[64];
  size_t n = 0;
  /* 63 bytes fit a 64-byte buffer, 64 do not. */
  ck_assert_int_eq(cashback__query_param(q, 67, "awc", out, 64, &n),
                   CASHBACK_OK);
  ck_assert_uint_eq(n, 63);
  ck_assert_uint_eq(strlen(out), 63);
  q[67] = 'a';
  ck_assert_int_eq(cashback__query_param(q, 68, "awc", out, 64, &n),
                   CASHBACK_E_CLICK_MALFORMED);
  ck_assert_str_eq(out, "");
  /* Escapes count once decoded: 63 "%41" fit. */
  memcpy(q, "awc=", 4);
  for (int i = 0; i < 63; i++)
    memcpy(q + 4 + 3 * i, "%41", 3);
  ck_assert_int_eq(cashback__query_param(q, 4 + 189, "awc", out, 64, &n),
                   CASHBACK_OK);
  ck_assert_uint_eq(n, 63);
  ck_assert_int_eq(out[62], 'A');
  /* A buffer of one byte holds only the empty string. */
  ck_assert_int_eq(cashback__query_param("awc=a", 5, "awc", out, 1, &n),
                   CASHBACK_E_CLICK_MALFORMED);
}
END_TEST

START_TEST(query_length_respected) {
  /* Bytes past `len` are never looked at. */
  const char *q = "awc=abcdef";
  char out[64];
  size_t n = 0;
  ck_assert_int_eq(cashback__query_param(q, 7, "awc", out, sizeof out, &n),
                   CASHBACK_OK);
  ck_assert_str_eq(out, "abc");
  ck_assert_int_eq(cashback__query_param("awc=%41", 6, "awc", out, 64, &n),
                   CASHBACK_E_CLICK_MALFORMED);
  ck_assert_int_eq(cashback__query_param(q, 3, "awc", out, 64, &n),
                   CASHBACK_E_CLICK_NONE);
  /* out_len may be NULL. */
  ck_assert_int_eq(cashback__query_param(q, 10, "awc", out, 64, NULL),
                   CASHBACK_OK);
  ck_assert_str_eq(out, "abcdef");
}
END_TEST

START_TEST(query_null_args) {
  char out[8];
  size_t n;
  ck_assert_int_eq(cashback__query_param(NULL, 3, "awc", out, 8, &n),
                   CASHBACK_E_INVALID_ARGUMENT);
  ck_assert_int_eq(cashback__query_param("a=1", 3, NULL, out, 8, &n),
                   CASHBACK_E_INVALID_ARGUMENT);
  ck_assert_int_eq(cashback__query_param("a=1", 3, "a", NULL, 8, &n),
                   CASHBACK_E_INVALID_ARGUMENT);
  ck_assert_int_eq(cashback__query_param("a=1", 3, "a", out, 0, &n),
                   CASHBACK_E_INVALID_ARGUMENT);
  /* No query at all is fine: absent. */
  ck_assert_int_eq(cashback__query_param(NULL, 0, "a", out, 8, &n),
                   CASHBACK_E_CLICK_NONE);
}
END_TEST

TCase *cashback_test_query(void) {
  TCase *tc = tcase_create("query");
  tcase_add_test(tc, query_raw_and_target);
  tcase_add_test(tc, query_fragment);
  tcase_add_test(tc, query_decoding);
  tcase_add_test(tc, query_bad_escapes);
  tcase_add_test(tc, query_nul);
  tcase_add_test(tc, query_repeats);
  tcase_add_test(tc, query_empty_values);
  tcase_add_test(tc, query_names);
  tcase_add_test(tc, query_separators);
  tcase_add_test(tc, query_long_values);
  tcase_add_test(tc, query_length_respected);
  tcase_add_test(tc, query_null_args);
  return tc;
}
