/* Unit tests for sdk/cashback_sha256.c: the FIPS 180-4 examples, and every
 * length against mbedTLS's SHA-256, for both block functions. */
#include "cashback_crypto.h"
#include "cashback_sha256.h"
#include "tests.h"

#include <mbedtls/sha256.h>
#include <stdlib.h>
#include <string.h>

static void digest_hex(int hw, const void *p, size_t len, char *hex) {
  cashback__sha256_ctx x;
  uint8_t d[32];
  cashback__sha256_init(&x, hw);
  cashback__sha256_update(&x, p, len);
  cashback__sha256_final(&x, d);
  cashback__hex(d, sizeof(d), hex);
}

static void check_examples(int hw) {
  char hex[65];
  digest_hex(hw, NULL, 0, hex);
  ck_assert_str_eq(
      hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  digest_hex(hw, "abc", 3, hex);
  ck_assert_str_eq(
      hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  static const char m448[] =
      "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
  digest_hex(hw, m448, sizeof(m448) - 1, hex);
  ck_assert_str_eq(
      hex, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  static const char m896[] =
      "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnop"
      "jklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu";
  digest_hex(hw, m896, sizeof(m896) - 1, hex);
  ck_assert_str_eq(
      hex, "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1");
  /* A million 'a', fed in pieces of 1000. */
  char a[1000];
  memset(a, 'a', sizeof(a));
  cashback__sha256_ctx x;
  uint8_t d[32];
  cashback__sha256_init(&x, hw);
  for (int i = 0; i < 1000; i++)
    cashback__sha256_update(&x, a, sizeof(a));
  cashback__sha256_final(&x, d);
  cashback__hex(d, sizeof(d), hex);
  ck_assert_str_eq(
      hex, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

/* Every length 0-1100 (every padding case, several blocks), fed whole and
 * in two uneven pieces: mbedTLS's digest. */
static void check_against_mbedtls(int hw) {
  static uint8_t buf[1100];
  uint64_t s = 0x6a09e667f3bcc908u;
  for (size_t i = 0; i < sizeof(buf); i++) {
    s ^= s << 13;
    s ^= s >> 7;
    s ^= s << 17;
    buf[i] = (uint8_t)s;
  }
  for (size_t len = 0; len <= sizeof(buf); len++) {
    uint8_t want[32], got[32];
    ck_assert_int_eq(mbedtls_sha256_ret(buf, len, want, 0), 0);
    cashback__sha256_ctx x;
    cashback__sha256_init(&x, hw);
    cashback__sha256_update(&x, buf, len);
    cashback__sha256_final(&x, got);
    ck_assert_mem_eq(got, want, 32);
    size_t cut = (len * 7) / 13;
    cashback__sha256_init(&x, hw);
    cashback__sha256_update(&x, buf, cut);
    cashback__sha256_update(&x, NULL, 0);
    cashback__sha256_update(&x, buf + cut, len - cut);
    cashback__sha256_final(&x, got);
    ck_assert_mem_eq(got, want, 32);
  }
}

START_TEST(portable_known_answers) {
  check_examples(0);
  check_against_mbedtls(0);
}
END_TEST

START_TEST(hardware_known_answers) {
  if (!cashback__sha256_hw_available())
    return; /* no SHA extensions here: the portable one is used */
  check_examples(1);
  check_against_mbedtls(1);
}
END_TEST

START_TEST(chosen_known_answers) {
  check_examples(-1);
}
END_TEST

TCase *cashback_test_sha256(void) {
  TCase *tc = tcase_create("sha256");
  tcase_add_test(tc, portable_known_answers);
  tcase_add_test(tc, hardware_known_answers);
  tcase_add_test(tc, chosen_known_answers);
  return tc;
}
