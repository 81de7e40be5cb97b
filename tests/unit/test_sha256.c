/* Unit tests for the SHA-256 of sdk/cashback_crypto.c (mbedTLS's, on the
 * stack): the FIPS 180-4 examples, and every length 0-1100 fed as one part
 * and as several uneven parts, against mbedtls_sha256_ret. */
#include "cashback_crypto.h"
#include "tests.h"

#include <mbedtls/sha256.h>
#include <stdlib.h>
#include <string.h>

static void digest_hex(const void *p, size_t len, char *hex) {
  cashback__span part = {p, len};
  uint8_t d[32];
  ck_assert_int_eq(cashback__sha256(&part, 1, d), CASHBACK_OK);
  cashback__hex(d, sizeof(d), hex);
}

START_TEST(fips_examples) {
  char hex[65];
  digest_hex(NULL, 0, hex);
  ck_assert_str_eq(
      hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  digest_hex("abc", 3, hex);
  ck_assert_str_eq(
      hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  static const char m448[] =
      "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
  digest_hex(m448, sizeof(m448) - 1, hex);
  ck_assert_str_eq(
      hex, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  /* A million 'a', in 1000 parts of 1000. */
  static char a[1000];
  memset(a, 'a', sizeof(a));
  cashback__span *parts = malloc(1000 * sizeof(*parts));
  ck_assert_ptr_nonnull(parts);
  for (int i = 0; i < 1000; i++)
    parts[i] = (cashback__span){a, sizeof(a)};
  uint8_t d[32];
  ck_assert_int_eq(cashback__sha256(parts, 1000, d), CASHBACK_OK);
  free(parts);
  cashback__hex(d, sizeof(d), hex);
  ck_assert_str_eq(
      hex, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}
END_TEST

START_TEST(parts_give_the_digest_of_the_whole) {
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
    size_t cut = (len * 7) / 13;
    cashback__span parts[3] = {{buf, cut}, {NULL, 0}, {buf + cut, len - cut}};
    ck_assert_int_eq(cashback__sha256(parts, 3, got), CASHBACK_OK);
    ck_assert_mem_eq(got, want, 32);
  }
}
END_TEST

TCase *cashback_test_sha256(void) {
  TCase *tc = tcase_create("sha256");
  tcase_add_test(tc, fips_examples);
  tcase_add_test(tc, parts_give_the_digest_of_the_whole);
  return tc;
}
