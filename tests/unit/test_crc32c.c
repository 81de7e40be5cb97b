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

TCase *cashback_test_crc32c(void) {
  TCase *tc = tcase_create("crc32c");
  tcase_add_test(tc, crc32c_known_answers);
  tcase_add_test(tc, every_single_bit_error_changes_it);
  return tc;
}
