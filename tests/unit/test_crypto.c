/* Unit tests for sdk/cashback_crypto.c: known answers from RFC 4231 and
 * FIPS 180-2, piecewise hashing, constant-time compare, random, hex. */
#include "tests.h"

#include "cashback_crypto.h"

#include <check.h>
#include <string.h>

/* HMAC-SHA256 of one piece, as lowercase hex (65 bytes). */
static void hmac_hex(const void *key, size_t key_len, const void *msg,
                     size_t msg_len, char *hex) {
  uint8_t mac[CASHBACK__SHA256_LEN];
  cashback__span part = {msg, msg_len};
  ck_assert_int_eq(cashback__hmac_sha256(key, key_len, &part, 1, mac),
                   CASHBACK_OK);
  cashback__hex(mac, sizeof mac, hex);
}

static void fill(uint8_t *p, uint8_t v, size_t n) {
  memset(p, v, n);
}

/* RFC 4231 section 4.2 */
START_TEST(rfc4231_case1) {
  uint8_t key[20];
  char hex[65];
  fill(key, 0x0b, sizeof key);
  hmac_hex(key, sizeof key, "Hi There", 8, hex);
  ck_assert_str_eq(
      hex, "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
}
END_TEST

/* RFC 4231 section 4.3: a key shorter than the output. */
START_TEST(rfc4231_case2) {
  char hex[65];
  const char *msg = "what do ya want for nothing?";
  hmac_hex("Jefe", 4, msg, strlen(msg), hex);
  ck_assert_str_eq(
      hex, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}
END_TEST

/* RFC 4231 section 4.4 */
START_TEST(rfc4231_case3) {
  uint8_t key[20], msg[50];
  char hex[65];
  fill(key, 0xaa, sizeof key);
  fill(msg, 0xdd, sizeof msg);
  hmac_hex(key, sizeof key, msg, sizeof msg, hex);
  ck_assert_str_eq(
      hex, "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe");
}
END_TEST

/* RFC 4231 section 4.5 */
START_TEST(rfc4231_case4) {
  uint8_t key[25], msg[50];
  char hex[65];
  for (size_t i = 0; i < sizeof key; i++)
    key[i] = (uint8_t)(i + 1);
  fill(msg, 0xcd, sizeof msg);
  hmac_hex(key, sizeof key, msg, sizeof msg, hex);
  ck_assert_str_eq(
      hex, "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b");
}
END_TEST

/* RFC 4231 section 4.6: the output truncated to 128 bits. */
START_TEST(rfc4231_case5) {
  uint8_t key[20];
  char hex[65];
  fill(key, 0x0c, sizeof key);
  hmac_hex(key, sizeof key, "Test With Truncation", 20, hex);
  ck_assert_int_eq(strncmp(hex, "a3b6167473100ee06e0c796c2955552b", 32), 0);
}
END_TEST

/* RFC 4231 section 4.7: a key longer than the block is hashed first. */
START_TEST(rfc4231_case6) {
  uint8_t key[131];
  char hex[65];
  const char *msg = "Test Using Larger Than Block-Size Key - Hash Key First";
  fill(key, 0xaa, sizeof key);
  hmac_hex(key, sizeof key, msg, strlen(msg), hex);
  ck_assert_str_eq(
      hex, "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
}
END_TEST

/* RFC 4231 section 4.8: key and data both longer than the block. */
START_TEST(rfc4231_case7) {
  uint8_t key[131];
  char hex[65];
  const char *msg = "This is a test using a larger than block-size key and a "
                    "larger than block-size data. The key needs to be hashed "
                    "before being used by the HMAC algorithm.";
  fill(key, 0xaa, sizeof key);
  hmac_hex(key, sizeof key, msg, strlen(msg), hex);
  ck_assert_str_eq(
      hex, "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2");
}
END_TEST

START_TEST(sha256_known) {
  uint8_t d[CASHBACK__SHA256_LEN];
  char hex[65];
  cashback__span abc = {"abc", 3};
  ck_assert_int_eq(cashback__sha256(&abc, 1, d), CASHBACK_OK);
  cashback__hex(d, sizeof d, hex);
  ck_assert_str_eq(
      hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");

  /* the empty message, as zero pieces and as one empty piece */
  ck_assert_int_eq(cashback__sha256(NULL, 0, d), CASHBACK_OK);
  cashback__hex(d, sizeof d, hex);
  ck_assert_str_eq(
      hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  cashback__span empty = {"", 0};
  ck_assert_int_eq(cashback__sha256(&empty, 1, d), CASHBACK_OK);
  cashback__hex(d, sizeof d, hex);
  ck_assert_str_eq(
      hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}
END_TEST

/* The hash of pieces is the hash of their concatenation, wherever the
 * message is cut (including empty and NULL pieces). */
START_TEST(pieces_split_anywhere) {
  const char *msg = "what do ya want for nothing?";
  size_t len = strlen(msg);
  uint8_t whole[CASHBACK__SHA256_LEN], part[CASHBACK__SHA256_LEN];
  uint8_t hwhole[CASHBACK__SHA256_LEN], hpart[CASHBACK__SHA256_LEN];
  cashback__span one = {msg, len};

  ck_assert_int_eq(cashback__hmac_sha256("Jefe", 4, &one, 1, whole),
                   CASHBACK_OK);
  ck_assert_int_eq(cashback__sha256(&one, 1, hwhole), CASHBACK_OK);
  for (size_t a = 0; a <= len; a++) {
    for (size_t b = a; b <= len; b += 3) {
      cashback__span three[4] = {
          {msg, a}, {NULL, 0}, {msg + a, b - a}, {msg + b, len - b}};
      ck_assert_int_eq(cashback__hmac_sha256("Jefe", 4, three, 4, part),
                       CASHBACK_OK);
      ck_assert_mem_eq(part, whole, sizeof whole);
      ck_assert_int_eq(cashback__sha256(three, 4, hpart), CASHBACK_OK);
      ck_assert_mem_eq(hpart, hwhole, sizeof hwhole);
    }
  }
  /* a different cut of different bytes must differ */
  cashback__span other = {"what do ya want for nothing!", len};
  ck_assert_int_eq(cashback__hmac_sha256("Jefe", 4, &other, 1, part),
                   CASHBACK_OK);
  ck_assert_int_ne(memcmp(part, whole, sizeof whole), 0);
}
END_TEST

START_TEST(hmac_empty_key_and_args) {
  uint8_t mac[CASHBACK__SHA256_LEN], mac2[CASHBACK__SHA256_LEN];
  char hex[65];
  cashback__span part = {"x", 1};
  cashback__span bad = {NULL, 1};

  /* an empty key is valid HMAC: python3 hmac.new(b"", b"", sha256) */
  ck_assert_int_eq(cashback__hmac_sha256(NULL, 0, NULL, 0, mac), CASHBACK_OK);
  cashback__hex(mac, sizeof mac, hex);
  ck_assert_str_eq(
      hex, "b613679a0814d9ec772f95d778c35fc5ff1697c493715653c6c712144292c5ad");
  ck_assert_int_eq(cashback__hmac_sha256("", 0, NULL, 0, mac2), CASHBACK_OK);
  ck_assert_mem_eq(mac, mac2, sizeof mac);

  ck_assert_int_eq(cashback__hmac_sha256("k", 1, &part, 1, NULL),
                   CASHBACK_E_INVALID_ARGUMENT);
  ck_assert_int_eq(cashback__hmac_sha256(NULL, 3, &part, 1, mac),
                   CASHBACK_E_INVALID_ARGUMENT);
  ck_assert_int_eq(cashback__hmac_sha256("k", 1, NULL, 2, mac),
                   CASHBACK_E_INVALID_ARGUMENT);
  ck_assert_int_eq(cashback__hmac_sha256("k", 1, &bad, 1, mac),
                   CASHBACK_E_INVALID_ARGUMENT);
  ck_assert_int_eq(cashback__sha256(&bad, 1, mac), CASHBACK_E_INVALID_ARGUMENT);
  ck_assert_int_eq(cashback__sha256(&part, 1, NULL),
                   CASHBACK_E_INVALID_ARGUMENT);
  ck_assert_int_eq(cashback__sha256(NULL, 1, mac), CASHBACK_E_INVALID_ARGUMENT);
}
END_TEST

START_TEST(ct_equal_cases) {
  uint8_t a[32], b[32];
  for (size_t i = 0; i < sizeof a; i++)
    a[i] = b[i] = (uint8_t)(i * 7);
  ck_assert_int_eq(cashback__ct_equal(a, b, sizeof a), 1);
  ck_assert_int_eq(cashback__ct_equal(a, b, 0), 1);
  /* a difference in any byte, any bit */
  for (size_t i = 0; i < sizeof a; i++) {
    for (int bit = 0; bit < 8; bit++) {
      b[i] ^= (uint8_t)(1u << bit);
      ck_assert_int_eq(cashback__ct_equal(a, b, sizeof a), 0);
      ck_assert_int_eq(cashback__ct_equal(a, b, i), 1); /* before it */
      b[i] ^= (uint8_t)(1u << bit);
    }
  }
  ck_assert_int_eq(cashback__ct_equal("\xff", "\x00", 1), 0);
  ck_assert_int_eq(cashback__ct_equal("\x80", "\x7f", 1), 0);
}
END_TEST

START_TEST(random_differs) {
  uint8_t a[32], b[32], zero[32] = {0};
  uint8_t big[200]; /* more than one entropy block */
  ck_assert_int_eq(cashback__random(a, sizeof a), CASHBACK_OK);
  ck_assert_int_eq(cashback__random(b, sizeof b), CASHBACK_OK);
  ck_assert_int_ne(memcmp(a, b, sizeof a), 0);
  ck_assert_int_ne(memcmp(a, zero, sizeof a), 0);

  memset(big, 0, sizeof big);
  ck_assert_int_eq(cashback__random(big, sizeof big), CASHBACK_OK);
  /* the tail past the first 64-byte block was written too */
  ck_assert_int_ne(memcmp(big + 168, zero, 32), 0);
  /* consecutive blocks are not copies of each other */
  ck_assert_int_ne(memcmp(big, big + 64, 64), 0);

  ck_assert_int_eq(cashback__random(a, 0), CASHBACK_OK);
  ck_assert_int_eq(cashback__random(NULL, 0), CASHBACK_OK);
  ck_assert_int_eq(cashback__random(NULL, 4), CASHBACK_E_INVALID_ARGUMENT);
}
END_TEST

START_TEST(hex_roundtrip) {
  uint8_t in[4] = {0x00, 0x9f, 0xab, 0xff}, out[4];
  char hex[9];
  cashback__hex(in, sizeof in, hex);
  ck_assert_str_eq(hex, "009fabff");
  ck_assert_int_eq(cashback__unhex(hex, 8, out, 4), 0);
  ck_assert_mem_eq(out, in, 4);
  ck_assert_int_eq(cashback__unhex("009FABFF", 8, out, 4), 0);
  ck_assert_mem_eq(out, in, 4);
  cashback__hex(in, 0, hex);
  ck_assert_str_eq(hex, "");
  ck_assert_int_eq(cashback__unhex("", 0, out, 0), 0);
}
END_TEST

START_TEST(unhex_errors) {
  uint8_t out[4];
  /* wrong length: short, long, odd */
  ck_assert_int_eq(cashback__unhex("009fab", 6, out, 4), -1);
  ck_assert_int_eq(cashback__unhex("009fabff00", 10, out, 4), -1);
  ck_assert_int_eq(cashback__unhex("009fabf", 7, out, 4), -1);
  /* a non-hex digit at each position */
  const char *bad[] = {"g09fabff",  "0g9fabff", "009fabf-", "009f ab",
                       "009fabf\0", "0x9fabff", "009fab:f"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
    ck_assert_msg(cashback__unhex(bad[i], 8, out, 4) == -1, "accepted %zu", i);
  /* reads only in_len bytes: the digits after are not looked at */
  ck_assert_int_eq(cashback__unhex("0102zz", 4, out, 2), 0);
  ck_assert_int_eq(out[0], 1);
  ck_assert_int_eq(out[1], 2);
  ck_assert_int_eq(cashback__unhex(NULL, 0, out, 0), -1);
  ck_assert_int_eq(cashback__unhex("00", 2, NULL, 1), -1);
}
END_TEST

START_TEST(wipe_zeroes) {
  uint8_t buf[16];
  memset(buf, 0x5a, sizeof buf);
  cashback__wipe(buf + 4, 8);
  for (size_t i = 0; i < sizeof buf; i++)
    ck_assert_int_eq(buf[i], (i >= 4 && i < 12) ? 0 : 0x5a);
  cashback__wipe(NULL, 10); /* harmless */
  cashback__wipe(buf, 0);
}
END_TEST

TCase *cashback_test_crypto(void) {
  TCase *tc = tcase_create("crypto");
  tcase_add_test(tc, rfc4231_case1);
  tcase_add_test(tc, rfc4231_case2);
  tcase_add_test(tc, rfc4231_case3);
  tcase_add_test(tc, rfc4231_case4);
  tcase_add_test(tc, rfc4231_case5);
  tcase_add_test(tc, rfc4231_case6);
  tcase_add_test(tc, rfc4231_case7);
  tcase_add_test(tc, sha256_known);
  tcase_add_test(tc, pieces_split_anywhere);
  tcase_add_test(tc, hmac_empty_key_and_args);
  tcase_add_test(tc, ct_equal_cases);
  tcase_add_test(tc, random_differs);
  tcase_add_test(tc, hex_roundtrip);
  tcase_add_test(tc, unhex_errors);
  tcase_add_test(tc, wipe_zeroes);
  return tc;
}
