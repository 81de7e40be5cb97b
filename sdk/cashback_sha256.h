/* SHA-256 (FIPS 180-4), incremental. Two block functions give the same
 * value: the x86 SHA extensions where the CPU has them (asked at run time),
 * else portable C. */
#ifndef CASHBACK_SHA256_H
#define CASHBACK_SHA256_H

#include <stddef.h>
#include <stdint.h>

/* A hash in progress, on the caller's stack: no allocation. Not shared
 * between threads while in use; wipe it (cashback__wipe) when it hashed a
 * secret. */
typedef struct cashback__sha256_ctx {
  uint32_t h[8];
  uint64_t bytes;    /* hashed so far */
  uint8_t block[64]; /* the partial block */
  size_t fill;       /* bytes in `block` */
  int hw;            /* 1: the SHA extensions */
} cashback__sha256_ctx;

/* Starts a hash; `hw` 1 uses the SHA extensions, which only
 * cashback__sha256_hw_available() may allow; -1 chooses. */
void cashback__sha256_init(cashback__sha256_ctx *x, int hw);
/* Hashes `len` more bytes (`p` may be NULL when `len` is 0). */
void cashback__sha256_update(cashback__sha256_ctx *x, const void *p,
                             size_t len);
/* The digest; the context must be started again to be used again. */
void cashback__sha256_final(cashback__sha256_ctx *x, uint8_t out[32]);
/* 1 when this CPU has the SHA extensions (and SSSE3, SSE4.1). */
int cashback__sha256_hw_available(void);

#endif
