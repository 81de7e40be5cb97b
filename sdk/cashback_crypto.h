/* The only file that knows mbedTLS: hashes, HMAC, random, hex. */
#ifndef CASHBACK_CRYPTO_H
#define CASHBACK_CRYPTO_H

#include "cashback.h"

#include <stddef.h>
#include <stdint.h>

#define CASHBACK__SHA256_LEN 32

/* One piece of a message that is hashed as the concatenation of pieces. */
typedef struct cashback__span {
  const void *p;
  size_t len;
} cashback__span;

/* HMAC-SHA256 of the concatenation of `n` pieces. */
cashback_status cashback__hmac_sha256(const void *key, size_t key_len,
                                      const cashback__span *parts, size_t n,
                                      uint8_t out[CASHBACK__SHA256_LEN]);
/* SHA-256 of the concatenation of `n` pieces. */
cashback_status cashback__sha256(const cashback__span *parts, size_t n,
                                 uint8_t out[CASHBACK__SHA256_LEN]);
/* 1 when equal, 0 otherwise; time depends on `n` only. */
int cashback__ct_equal(const void *a, const void *b, size_t n);
/* `n` bytes from the system's entropy source (safe across fork()). */
cashback_status cashback__random(void *out, size_t n);
/* Lowercase hex of `n` bytes into `out` (2n + 1 bytes, NUL-terminated). */
void cashback__hex(const uint8_t *in, size_t n, char *out);
/* Value of a hex digit of either case, or -1. */
int cashback__hex_digit(int c);
/* Decodes exactly 2n lowercase or uppercase hex digits; 0 on success. */
int cashback__unhex(const char *in, size_t in_len, uint8_t *out, size_t n);
/* Overwrites memory in a way the compiler keeps. */
void cashback__wipe(void *p, size_t n);

#endif
