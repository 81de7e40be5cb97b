/* The request builder: batch bodies of the wire protocol (docs/protocol.md).
 */
#ifndef CASHBACK_REQUEST_H
#define CASHBACK_REQUEST_H

#include "cashback.h"
#include "cashback_buf.h"
#include "cashback_sign.h"

#include <stdint.h>

#define CASHBACK__PROTOCOL_VERSION 1
#define CASHBACK__BATCH_MAX_EVENTS 1000
#define CASHBACK__BATCH_MAX_BYTES (4 * 1024 * 1024)

/* Builds a batch body from `n` already serialized event objects:
 * {"protocol":1,"merchant_id":"...","sent_at":"...Z","events":[e1,e2,...]}
 */
cashback_status cashback__batch_body(const char *merchant_id, int64_t sent_at,
                                     const char *const *events,
                                     const size_t *lens, size_t n,
                                     cashback__buf *out);

/* Builds the body of one request of `n` already serialized events, sent at
 * `now_s` (Unix s), and its Cashback-Signature header (`sig`, `sig_size`
 * bytes, at least CASHBACK__SIG_HEADER_MAX + 1) under `key` and, during a
 * rotation (`next_key` with an id), `next_key` too: the one signing-key
 * choice. The sender's requests and cashback_request_new() are both built
 * here, so what the demo shows is what the sender sends. Appends to `body`
 * (the caller's buffer: its cap bounds the body). */
cashback_status
cashback__request_build(const char *merchant_id, const cashback__key *key,
                        const cashback__key *next_key, int64_t now_s,
                        const char *const *events, const size_t *lens, size_t n,
                        cashback__buf *body, char *sig, size_t sig_size);

#endif
