/* The Cashback-Signature header: building, parsing, checking. */
#ifndef CASHBACK_SIGN_H
#define CASHBACK_SIGN_H

#include "cashback.h"
#include "cashback_crypto.h"

#include <stddef.h>
#include <stdint.h>

#define CASHBACK__SIG_MAX 8 /* signatures in one header */
#define CASHBACK__SECRET_MIN 16
#define CASHBACK__SECRET_MAX 256
#define CASHBACK__SIG_HEADER_MAX 1024 /* a header we build */

/* A signing key: id and secret (the secret's bytes are the HMAC key). */
typedef struct cashback__key {
  char id[CASHBACK_ID_MAX + 1];
  char secret[CASHBACK__SECRET_MAX + 1];
} cashback__key;

/* 1 when `s` (len bytes) is a valid key id, merchant id or reason:
 * 1-64 of [A-Za-z0-9._-]. */
int cashback__id_valid(const char *s, size_t len);
/* 1 when `s` is a valid secret: 16-256 printable ASCII, no ' ', ';', '#'. */
int cashback__secret_valid(const char *s, size_t len);

/* The v1 MAC: HMAC-SHA256(secret, "v1:" || decimal(ts) || ":" || body). */
cashback_status cashback__sign_mac(const char *secret, int64_t ts,
                                   const void *body, size_t body_len,
                                   uint8_t mac[CASHBACK__SHA256_LEN]);

/* Builds "t=<ts>,v1=<id>:<hex>[,v1=<id>:<hex>]" with every key into `buf`.
 * CASHBACK_E_TOO_BIG when `size` is short. */
cashback_status cashback__sign_header(const cashback__key *keys, size_t n,
                                      int64_t ts, const void *body,
                                      size_t body_len, char *buf, size_t size);

/* A parsed header: pointers into the parsed text. */
typedef struct cashback__sig_parsed {
  int64_t t;
  size_t n;
  struct {
    const char *key_id;
    size_t key_id_len;
    uint8_t mac[CASHBACK__SHA256_LEN];
  } sigs[CASHBACK__SIG_MAX];
} cashback__sig_parsed;

/* Parses a header of `len` bytes: comma-separated items, optional spaces
 * around them; exactly one "t=" (decimal, 1-12 digits), one to
 * CASHBACK__SIG_MAX "v1=<id>:<64 hex>"; items of other schemes ("v2=...")
 * are ignored. CASHBACK_E_SIG_MALFORMED otherwise. Never reads past `len`,
 * never allocates. */
cashback_status cashback__sig_parse(const char *h, size_t len,
                                    cashback__sig_parsed *out);

#endif
