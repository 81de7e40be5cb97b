/* The only file that knows mbedTLS: hashes, HMAC, random, hex. */
#include "cashback_crypto.h"

#include <mbedtls/entropy.h>
#include <mbedtls/platform_util.h>
#include <mbedtls/sha256.h>

#include <string.h>

static int parts_ok(const cashback__span *parts, size_t n) {
  if (n > 0 && parts == NULL)
    return 0;
  for (size_t i = 0; i < n; i++)
    if (parts[i].p == NULL && parts[i].len > 0)
      return 0;
  return 1;
}

static int hash_parts(mbedtls_sha256_context *x, const cashback__span *parts,
                      size_t n) {
  for (size_t i = 0; i < n; i++)
    if (parts[i].len &&
        mbedtls_sha256_update_ret(x, parts[i].p, parts[i].len) != 0)
      return -1;
  return 0;
}

/* One SHA-256 of `pre` (may be empty) then the parts, with mbedTLS's
 * SHA-256 context on the stack: no allocation (mbedtls_md_setup allocated
 * one per call). */
static int sha256_of(const uint8_t *pre, size_t pre_len,
                     const cashback__span *parts, size_t n,
                     uint8_t out[CASHBACK__SHA256_LEN]) {
  mbedtls_sha256_context x;
  mbedtls_sha256_init(&x);
  int rc = mbedtls_sha256_starts_ret(&x, 0) != 0 ||
                   (pre_len && mbedtls_sha256_update_ret(&x, pre, pre_len)) ||
                   hash_parts(&x, parts, n) != 0 ||
                   mbedtls_sha256_finish_ret(&x, out) != 0
               ? -1
               : 0;
  mbedtls_sha256_free(&x); /* zeroizes the state */
  return rc;
}

/* HMAC (RFC 2104) over mbedTLS's SHA-256, on the stack: no allocation;
 * everything derived from the key is wiped. */
cashback_status cashback__hmac_sha256(const void *key, size_t key_len,
                                      const cashback__span *parts, size_t n,
                                      uint8_t out[CASHBACK__SHA256_LEN]) {
  if (out == NULL || (key == NULL && key_len > 0) || !parts_ok(parts, n))
    return CASHBACK_E_INVALID_ARGUMENT;
  uint8_t pad[64] = {0}, inner[CASHBACK__SHA256_LEN];
  int rc = 0;
  if (key_len > sizeof(pad)) {
    cashback__span k = {key, key_len};
    rc = sha256_of(NULL, 0, &k, 1, pad);
  } else if (key_len) {
    memcpy(pad, key, key_len);
  }
  for (size_t i = 0; i < sizeof(pad); i++)
    pad[i] ^= 0x36;
  if (rc == 0)
    rc = sha256_of(pad, sizeof(pad), parts, n, inner);
  for (size_t i = 0; i < sizeof(pad); i++)
    pad[i] ^= 0x36 ^ 0x5c;
  cashback__span in = {inner, sizeof(inner)};
  if (rc == 0)
    rc = sha256_of(pad, sizeof(pad), &in, 1, out);
  mbedtls_platform_zeroize(pad, sizeof(pad));
  mbedtls_platform_zeroize(inner, sizeof(inner));
  if (rc != 0) {
    mbedtls_platform_zeroize(out, CASHBACK__SHA256_LEN);
    return CASHBACK_E_CRYPTO;
  }
  return CASHBACK_OK;
}

cashback_status cashback__sha256(const cashback__span *parts, size_t n,
                                 uint8_t out[CASHBACK__SHA256_LEN]) {
  if (out == NULL || !parts_ok(parts, n))
    return CASHBACK_E_INVALID_ARGUMENT;
  if (sha256_of(NULL, 0, parts, n, out) != 0) {
    mbedtls_platform_zeroize(out, CASHBACK__SHA256_LEN);
    return CASHBACK_E_CRYPTO;
  }
  return CASHBACK_OK;
}

int cashback__ct_equal(const void *a, const void *b, size_t n) {
  const volatile unsigned char *x = (const volatile unsigned char *)a;
  const volatile unsigned char *y = (const volatile unsigned char *)b;
  volatile unsigned char acc = 0;
  for (size_t i = 0; i < n; i++)
    acc |= (unsigned char)(x[i] ^ y[i]);
  /* 1 when acc == 0, without a data-dependent branch. */
  return (int)(1 & (((unsigned)acc - 1u) >> 8));
}

cashback_status cashback__random(void *out, size_t n) {
  /* A fresh entropy context per call: no shared state, nothing to reseed
   * after fork(); the platform source reads getrandom() / /dev/urandom. */
  mbedtls_entropy_context ent;
  unsigned char block[MBEDTLS_ENTROPY_BLOCK_SIZE];
  unsigned char *p = out;
  cashback_status st = CASHBACK_OK;

  if (out == NULL && n > 0)
    return CASHBACK_E_INVALID_ARGUMENT;
  mbedtls_entropy_init(&ent);
  while (n > 0) {
    size_t take = n < sizeof block ? n : sizeof block;
    if (mbedtls_entropy_func(&ent, block, sizeof block) != 0) {
      st = CASHBACK_E_CRYPTO;
      break;
    }
    memcpy(p, block, take);
    p += take;
    n -= take;
  }
  mbedtls_platform_zeroize(block, sizeof block);
  mbedtls_entropy_free(&ent);
  return st;
}

void cashback__hex(const uint8_t *in, size_t n, char *out) {
  static const char digits[] = "0123456789abcdef";
  for (size_t i = 0; i < n; i++) {
    out[2 * i] = digits[in[i] >> 4];
    out[2 * i + 1] = digits[in[i] & 0x0f];
  }
  out[2 * n] = '\0';
}

int cashback__hex_digit(int c) {
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

int cashback__unhex(const char *in, size_t in_len, uint8_t *out, size_t n) {
  if (in == NULL || out == NULL || n > SIZE_MAX / 2 || in_len != 2 * n)
    return -1;
  for (size_t i = 0; i < n; i++) {
    int hi = cashback__hex_digit((unsigned char)in[2 * i]);
    int lo = cashback__hex_digit((unsigned char)in[2 * i + 1]);
    if (hi < 0 || lo < 0)
      return -1;
    out[i] = (uint8_t)(hi << 4 | lo);
  }
  return 0;
}

void cashback__wipe(void *p, size_t n) {
  if (p != NULL && n > 0)
    mbedtls_platform_zeroize(p, n);
}
