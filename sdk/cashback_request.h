/* The request builder: batch bodies of the wire protocol (docs/protocol.md).
 */
#ifndef CASHBACK_REQUEST_H
#define CASHBACK_REQUEST_H

#include "cashback.h"
#include "cashback_buf.h"

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

#endif
