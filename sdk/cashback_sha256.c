/*
 * SHA-256 (FIPS 180-4). The block function is the x86 SHA extensions'
 * (sha256rnds2, sha256msg1/2) where the CPU has them, else portable C;
 * both are checked against the standard's vectors and each other.
 */
#include "cashback_sha256.h"

#include <string.h>

#if (defined(__x86_64__) || defined(__i386__)) &&                              \
    (defined(__GNUC__) || defined(__clang__))
#define CASHBACK__SHA256_X86 1
#include <cpuid.h>
#include <immintrin.h>
#include <pthread.h>
#endif

/* The first 32 bits of the fractional parts of the cube roots of the first
 * 64 primes. */
static const uint32_t K[64] = {
    0x428a2f98u, 0x71374491u, 0xb5c0fbcfu, 0xe9b5dba5u, 0x3956c25bu,
    0x59f111f1u, 0x923f82a4u, 0xab1c5ed5u, 0xd807aa98u, 0x12835b01u,
    0x243185beu, 0x550c7dc3u, 0x72be5d74u, 0x80deb1feu, 0x9bdc06a7u,
    0xc19bf174u, 0xe49b69c1u, 0xefbe4786u, 0x0fc19dc6u, 0x240ca1ccu,
    0x2de92c6fu, 0x4a7484aau, 0x5cb0a9dcu, 0x76f988dau, 0x983e5152u,
    0xa831c66du, 0xb00327c8u, 0xbf597fc7u, 0xc6e00bf3u, 0xd5a79147u,
    0x06ca6351u, 0x14292967u, 0x27b70a85u, 0x2e1b2138u, 0x4d2c6dfcu,
    0x53380d13u, 0x650a7354u, 0x766a0abbu, 0x81c2c92eu, 0x92722c85u,
    0xa2bfe8a1u, 0xa81a664bu, 0xc24b8b70u, 0xc76c51a3u, 0xd192e819u,
    0xd6990624u, 0xf40e3585u, 0x106aa070u, 0x19a4c116u, 0x1e376c08u,
    0x2748774cu, 0x34b0bcb5u, 0x391c0cb3u, 0x4ed8aa4au, 0x5b9cca4fu,
    0x682e6ff3u, 0x748f82eeu, 0x78a5636fu, 0x84c87814u, 0x8cc70208u,
    0x90befffau, 0xa4506cebu, 0xbef9a3f7u, 0xc67178f2u,
};

static uint32_t ror(uint32_t x, int n) {
  return (x >> n) | (x << (32 - n));
}

static uint32_t load_be32(const uint8_t *p) {
  return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 |
         (uint32_t)p[3];
}

static void blocks_portable(uint32_t h[8], const uint8_t *p, size_t n) {
  for (; n > 0; n--, p += 64) {
    uint32_t w[64];
    for (int t = 0; t < 16; t++)
      w[t] = load_be32(p + 4 * t);
    for (int t = 16; t < 64; t++) {
      uint32_t s0 = ror(w[t - 15], 7) ^ ror(w[t - 15], 18) ^ (w[t - 15] >> 3);
      uint32_t s1 = ror(w[t - 2], 17) ^ ror(w[t - 2], 19) ^ (w[t - 2] >> 10);
      w[t] = w[t - 16] + s0 + w[t - 7] + s1;
    }
    uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4], f = h[5],
             g = h[6], hh = h[7];
#pragma GCC unroll 8
    for (int t = 0; t < 64; t++) {
      uint32_t t1 = hh + (ror(e, 6) ^ ror(e, 11) ^ ror(e, 25)) +
                    ((e & f) ^ (~e & g)) + K[t] + w[t];
      uint32_t t2 =
          (ror(a, 2) ^ ror(a, 13) ^ ror(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));
      hh = g;
      g = f;
      f = e;
      e = d + t1;
      d = c;
      c = b;
      b = a;
      a = t1 + t2;
    }
    h[0] += a;
    h[1] += b;
    h[2] += c;
    h[3] += d;
    h[4] += e;
    h[5] += f;
    h[6] += g;
    h[7] += hh;
  }
}

#ifdef CASHBACK__SHA256_X86
/* CPUID (leaf 7: SHA in EBX bit 29; leaf 1: SSSE3 in ECX bit 9, SSE4.1 bit
 * 19), asked once per process: under a hypervisor every CPUID is a trip
 * out of the guest. Written once under `hw_once`, read-only after. */
static int hw_ok;
static pthread_once_t hw_once = PTHREAD_ONCE_INIT;

static void hw_probe(void) {
  unsigned a, b, c, d;
  if (!__get_cpuid(1, &a, &b, &c, &d) || !(c & (1u << 9)) || !(c & (1u << 19)))
    return;
  if (__get_cpuid_max(0, NULL) < 7)
    return;
  __cpuid_count(7, 0, a, b, c, d);
  hw_ok = (b >> 29) & 1;
}

int cashback__sha256_hw_available(void) {
  pthread_once(&hw_once, hw_probe);
  return hw_ok;
}

/* The state is kept as ABEF and CDGH, as sha256rnds2 takes it; each call
 * of it does two rounds, with the round constant already added to the
 * message words. */
__attribute__((target("sha,sse4.1,ssse3"))) static void
blocks_hw(uint32_t h[8], const uint8_t *p, size_t n) {
  const __m128i bswap =
      _mm_set_epi64x(0x0c0d0e0f08090a0bLL, 0x0405060700010203LL);
  __m128i t = _mm_loadu_si128((const __m128i *)(const void *)&h[0]);
  __m128i s1 = _mm_loadu_si128((const __m128i *)(const void *)&h[4]);
  t = _mm_shuffle_epi32(t, 0xb1);         /* CDAB */
  s1 = _mm_shuffle_epi32(s1, 0x1b);       /* EFGH */
  __m128i s0 = _mm_alignr_epi8(t, s1, 8); /* ABEF */
  s1 = _mm_blend_epi16(s1, t, 0xf0);      /* CDGH */
  for (; n > 0; n--, p += 64) {
    __m128i abef = s0, cdgh = s1, m[4];
#pragma GCC unroll 16
    for (int i = 0; i < 16; i++) {
      __m128i w;
      if (i < 4) {
        w = _mm_shuffle_epi8(
            _mm_loadu_si128((const __m128i *)(const void *)(p + 16 * i)),
            bswap);
      } else {
        /* W[t-16] + s0(W[t-15]), + W[t-7], then + s1(W[t-2]). */
        w = _mm_sha256msg1_epu32(m[i % 4], m[(i + 1) % 4]);
        w = _mm_add_epi32(w,
                          _mm_alignr_epi8(m[(i + 3) % 4], m[(i + 2) % 4], 4));
        w = _mm_sha256msg2_epu32(w, m[(i + 3) % 4]);
      }
      m[i % 4] = w;
      __m128i k = _mm_add_epi32(
          w, _mm_loadu_si128((const __m128i *)(const void *)&K[4 * i]));
      s1 = _mm_sha256rnds2_epu32(s1, s0, k);
      s0 = _mm_sha256rnds2_epu32(s0, s1, _mm_shuffle_epi32(k, 0x0e));
    }
    s0 = _mm_add_epi32(s0, abef);
    s1 = _mm_add_epi32(s1, cdgh);
  }
  t = _mm_shuffle_epi32(s0, 0x1b);   /* FEBA */
  s1 = _mm_shuffle_epi32(s1, 0xb1);  /* DCHG */
  s0 = _mm_blend_epi16(t, s1, 0xf0); /* DCBA */
  s1 = _mm_alignr_epi8(s1, t, 8);    /* HGFE */
  _mm_storeu_si128((__m128i *)(void *)&h[0], s0);
  _mm_storeu_si128((__m128i *)(void *)&h[4], s1);
}
#else
int cashback__sha256_hw_available(void) {
  return 0;
}

static void blocks_hw(uint32_t h[8], const uint8_t *p, size_t n) {
  blocks_portable(h, p, n);
}
#endif

static void blocks(cashback__sha256_ctx *x, const uint8_t *p, size_t n) {
  if (x->hw)
    blocks_hw(x->h, p, n);
  else
    blocks_portable(x->h, p, n);
}

void cashback__sha256_init(cashback__sha256_ctx *x, int hw) {
  static const uint32_t h0[8] = {0x6a09e667u, 0xbb67ae85u, 0x3c6ef372u,
                                 0xa54ff53au, 0x510e527fu, 0x9b05688cu,
                                 0x1f83d9abu, 0x5be0cd19u};
  memcpy(x->h, h0, sizeof(h0));
  x->bytes = 0;
  x->fill = 0;
  x->hw = hw < 0 ? cashback__sha256_hw_available() : hw;
}

void cashback__sha256_update(cashback__sha256_ctx *x, const void *data,
                             size_t len) {
  const uint8_t *p = data;
  if (len == 0)
    return; /* p may be NULL */
  x->bytes += len;
  if (x->fill) {
    size_t take = 64 - x->fill < len ? 64 - x->fill : len;
    memcpy(x->block + x->fill, p, take);
    x->fill += take;
    p += take;
    len -= take;
    if (x->fill < 64)
      return;
    blocks(x, x->block, 1);
    x->fill = 0;
  }
  if (len >= 64) {
    blocks(x, p, len / 64);
    p += len / 64 * 64;
    len %= 64;
  }
  if (len) {
    memcpy(x->block, p, len);
    x->fill = len;
  }
}

void cashback__sha256_final(cashback__sha256_ctx *x, uint8_t out[32]) {
  uint64_t bits = x->bytes * 8;
  uint8_t pad[72] = {0x80};
  size_t n = (x->fill < 56 ? 56 : 120) - x->fill;
  for (int i = 0; i < 8; i++)
    pad[n + (size_t)i] = (uint8_t)(bits >> (56 - 8 * i));
  cashback__sha256_update(x, pad, n + 8);
  for (int i = 0; i < 8; i++) {
    out[4 * i] = (uint8_t)(x->h[i] >> 24);
    out[4 * i + 1] = (uint8_t)(x->h[i] >> 16);
    out[4 * i + 2] = (uint8_t)(x->h[i] >> 8);
    out[4 * i + 3] = (uint8_t)x->h[i];
  }
}
