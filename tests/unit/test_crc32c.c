#include "cashback_crc32c.h"
#include "tests.h"

#include <string.h>

START_TEST(crc32c_known_answers) {
  /* RFC 3720 B.4 and the usual check value. */
  ck_assert_uint_eq(cashback__crc32c(0, "123456789", 9), 0xe3069283u);
  uint8_t zeros[32] = {0}, ones[32];
  memset(ones, 0xff, sizeof(ones));
  ck_assert_uint_eq(cashback__crc32c(0, zeros, 32), 0x8a9136aau);
  ck_assert_uint_eq(cashback__crc32c(0, ones, 32), 0x62a8ab43u);
  /* Incremental equals one-shot. */
  uint32_t c = cashback__crc32c(0, "1234", 4);
  ck_assert_uint_eq(cashback__crc32c(c, "56789", 5), 0xe3069283u);
}
END_TEST

START_TEST(every_single_bit_error_changes_it) {
  uint8_t buf[64];
  for (size_t i = 0; i < sizeof(buf); i++)
    buf[i] = (uint8_t)(i * 37);
  uint32_t good = cashback__crc32c(0, buf, sizeof(buf));
  for (size_t bit = 0; bit < sizeof(buf) * 8; bit++) {
    buf[bit / 8] ^= (uint8_t)(1u << (bit % 8));
    ck_assert_uint_ne(cashback__crc32c(0, buf, sizeof(buf)), good);
    buf[bit / 8] ^= (uint8_t)(1u << (bit % 8));
  }
  ck_assert_uint_eq(cashback__crc32c(0, NULL, 0), 0);
}
END_TEST

/* The definition, a bit at a time, as the reference for both
 * implementations. */
static uint32_t crc_bitwise(uint32_t crc, const uint8_t *p, size_t len) {
  crc = ~crc;
  while (len--) {
    crc ^= *p++;
    for (int k = 0; k < 8; k++)
      crc = crc & 1 ? (crc >> 1) ^ 0x82f63b78u : crc >> 1;
  }
  return ~crc;
}

typedef uint32_t (*crc_fn)(uint32_t, const void *, size_t);

static void check_vectors(crc_fn f) {
  ck_assert_uint_eq(f(0, "123456789", 9), 0xe3069283u);
  uint8_t zeros[32] = {0}, ones[32], inc[32], dec[32];
  memset(ones, 0xff, sizeof(ones));
  for (int i = 0; i < 32; i++) {
    inc[i] = (uint8_t)i;
    dec[i] = (uint8_t)(31 - i);
  }
  /* RFC 3720 B.4 */
  ck_assert_uint_eq(f(0, zeros, 32), 0x8a9136aau);
  ck_assert_uint_eq(f(0, ones, 32), 0x62a8ab43u);
  ck_assert_uint_eq(f(0, inc, 32), 0x46dd794eu);
  ck_assert_uint_eq(f(0, dec, 32), 0x113fdb5cu);
  ck_assert_uint_eq(f(0, NULL, 0), 0);
  ck_assert_uint_eq(f(0x12345678u, NULL, 0), 0x12345678u);
}

/* Every length from 0 to 600 at every alignment 0-7, whole and split at
 * each of several points: the same value as a bit at a time. */
static void check_against_bitwise(crc_fn f) {
  static uint8_t buf[608];
  uint64_t x = 0x9e3779b97f4a7c15u;
  for (size_t i = 0; i < sizeof(buf); i++) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    buf[i] = (uint8_t)x;
  }
  for (size_t off = 0; off < 8; off++)
    for (size_t len = 0; len + off <= 600; len++) {
      uint32_t want = crc_bitwise(0, buf + off, len);
      ck_assert_uint_eq(f(0, buf + off, len), want);
      size_t cut = len / 3;
      ck_assert_uint_eq(f(f(0, buf + off, cut), buf + off + cut, len - cut),
                        want);
    }
}

START_TEST(portable_gives_the_known_answers) {
  check_vectors(cashback__crc32c_portable);
  check_against_bitwise(cashback__crc32c_portable);
}
END_TEST

START_TEST(hardware_gives_the_known_answers) {
  if (!cashback__crc32c_hw_available())
    return; /* no such CPU here: cashback__crc32c is the portable one */
  check_vectors(cashback__crc32c_hw);
  check_against_bitwise(cashback__crc32c_hw);
}
END_TEST

START_TEST(the_chosen_one_gives_the_known_answers) {
  check_against_bitwise(cashback__crc32c);
}
END_TEST

TCase *cashback_test_crc32c(void) {
  TCase *tc = tcase_create("crc32c");
  tcase_add_test(tc, crc32c_known_answers);
  tcase_add_test(tc, every_single_bit_error_changes_it);
  tcase_add_test(tc, portable_gives_the_known_answers);
  tcase_add_test(tc, hardware_gives_the_known_answers);
  tcase_add_test(tc, the_chosen_one_gives_the_known_answers);
  return tc;
}
