/* Events: sale, refund, cancel, confirm. */
#ifndef CASHBACK_EVENT_H
#define CASHBACK_EVENT_H

#include "cashback.h"
#include "cashback_buf.h"

/* The first byte of `t` (`len` bytes) outside the click-token alphabet
 * [A-Za-z0-9._~-], or `len` when there is none. */
size_t cashback__token_bad_at(const char *t, size_t len);

/* Cap of one serialized event. */
#define CASHBACK__EVENT_JSON_MAX (256 * 1024)

/* Appends the finalized event's JSON object to `out`. */
cashback_status cashback__event_json(cashback_client *c,
                                     const cashback_event *ev,
                                     cashback__buf *out);

/* For a receiver: checks that the event is complete for its type (as
 * finalize does) and writes into `id` the id it must carry when sent by
 * `merchant_id`, or "" for a refund without a refund id (random). Does not
 * finalize the event. CASHBACK_E_FIELD and friends name the field in
 * `cashback_event_last_error()`. */
cashback_status cashback__event_check(cashback_event *ev,
                                      const char *merchant_id,
                                      char id[CASHBACK_EVENT_ID_LEN + 1]);

/* Records a failure detail (naming the field) as the event's last error,
 * for setters that live in other modules; returns `st`. */
cashback_status cashback__event_fail(cashback_event *ev, cashback_status st,
                                     const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
