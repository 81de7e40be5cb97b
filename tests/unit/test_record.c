#include "cashback_record.h"
#include "tests.h"

#include <stdlib.h>
#include <string.h>

static size_t make(uint8_t *out, const char *payload, int64_t t) {
  size_t n = strlen(payload);
  cashback__record_header(out, payload, n, t);
  memcpy(out + CASHBACK__RECORD_HEADER, payload, n);
  return CASHBACK__RECORD_HEADER + n;
}

START_TEST(round_trip) {
  uint8_t buf[256];
  size_t n = make(buf, "{\"id\":\"x\"}", INT64_C(1764000000123));
  size_t len = 0;
  int64_t t = 0;
  ck_assert_int_eq(cashback__record_decode(buf, n, &len, &t), CASHBACK__REC_OK);
  ck_assert_uint_eq(len, 10);
  ck_assert_int_eq(t, INT64_C(1764000000123));
  ck_assert_int_eq(memcmp(buf + CASHBACK__RECORD_HEADER, "{\"id\":\"x\"}", 10),
                   0);
}
END_TEST

START_TEST(every_truncation_is_short) {
  uint8_t buf[256];
  size_t n = make(buf, "payload-bytes", 1);
  size_t len;
  for (size_t cut = 1; cut < n; cut++) {
    /* Exact-size heap copies let ASan catch any read past `avail`. */
    uint8_t *p = malloc(cut);
    memcpy(p, buf, cut);
    ck_assert_int_eq(cashback__record_decode(p, cut, &len, NULL),
                     CASHBACK__REC_SHORT);
    free(p);
  }
}
END_TEST

START_TEST(every_bit_flip_is_caught) {
  uint8_t buf[256];
  size_t n = make(buf, "{\"id\":\"0123456789abcdef\"}", 77);
  size_t len;
  for (size_t bit = 0; bit < n * 8; bit++) {
    buf[bit / 8] ^= (uint8_t)(1u << (bit % 8));
    cashback__rec r = cashback__record_decode(buf, n, &len, NULL);
    /* A flipped length may make the record look longer: SHORT is fine
     * too, but never OK. */
    ck_assert_msg(r != CASHBACK__REC_OK, "bit %zu flipped, still OK", bit);
    buf[bit / 8] ^= (uint8_t)(1u << (bit % 8));
  }
  ck_assert_int_eq(cashback__record_decode(buf, n, &len, NULL),
                   CASHBACK__REC_OK);
}
END_TEST

START_TEST(bad_lengths_are_corrupt) {
  uint8_t buf[64];
  make(buf, "x", 0);
  buf[4] = buf[5] = buf[6] = buf[7] = 0; /* length 0 */
  size_t len;
  ck_assert_int_eq(cashback__record_decode(buf, sizeof(buf), &len, NULL),
                   CASHBACK__REC_CORRUPT);
  buf[7] = 0x7f; /* far past the maximum */
  ck_assert_int_eq(cashback__record_decode(buf, sizeof(buf), &len, NULL),
                   CASHBACK__REC_CORRUPT);
  memset(buf, 0, sizeof(buf)); /* a zero-filled tail */
  ck_assert_int_eq(cashback__record_decode(buf, sizeof(buf), &len, NULL),
                   CASHBACK__REC_CORRUPT);
}
END_TEST

START_TEST(resync_finds_the_next_record) {
  uint8_t buf[512];
  size_t a = make(buf, "first", 1);
  memset(buf + a, 'C', 37); /* garbage that starts like a magic */
  size_t b = make(buf + a + 37, "second", 2);
  size_t total = a + 37 + b;
  buf[a - 1] ^= 1; /* damage the first */
  ck_assert_uint_eq(cashback__record_resync(buf, total, 1), a + 37);
  ck_assert_uint_eq(cashback__record_resync(buf, total, a + 38), total);
  ck_assert_uint_eq(cashback__record_resync(buf, 3, 0), 3);
}
END_TEST

TCase *cashback_test_record(void) {
  TCase *tc = tcase_create("record");
  tcase_add_test(tc, round_trip);
  tcase_add_test(tc, every_truncation_is_short);
  tcase_add_test(tc, every_bit_flip_is_caught);
  tcase_add_test(tc, bad_lengths_are_corrupt);
  tcase_add_test(tc, resync_finds_the_next_record);
  return tc;
}
