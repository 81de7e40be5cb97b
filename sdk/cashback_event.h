/* Events: sale, refund, cancel, confirm. */
#ifndef CASHBACK_EVENT_H
#define CASHBACK_EVENT_H

#include "cashback.h"
#include "cashback_buf.h"
#include "cashback_record.h"

/* Room kept in a spool record for the quarantine entry that wraps an event
 * (id, reason, message, status, time: under 1 KiB). */
#define CASHBACK__QUARANTINE_RESERVE 4096

/* Cap of one serialized event (CASHBACK_EVENT_JSON_MAX): a spool record
 * holds it, and a quarantine entry around it. The setters refuse what would
 * pass it, so serialization never does. An event alone in a batch stays far
 * below the protocol's 4 MiB. */
#define CASHBACK__EVENT_JSON_MAX                                               \
  (CASHBACK__RECORD_MAX - CASHBACK__QUARANTINE_RESERVE)

/* An upper bound of the serialized size of an event without its items,
 * vouchers and metadata, every other field at its longest and most escaped
 * (test_event.c checks it); the setters count those three exactly. */
#define CASHBACK__EVENT_FIXED_MAX 2048

/* An item's quantity, at most (docs/events.md): the one cap that the
 * setters, the event text and the CSV import apply. */
#define CASHBACK__QUANTITY_MAX INT64_C(1000000)

/* The bytes the setters have counted for `ev` (the bound above plus its
 * items, vouchers and metadata as serialized); the JSON is never longer. */
size_t cashback__event_size_bound(const cashback_event *ev);

/* Appends the finalized event's JSON object to `out`. */
cashback_status cashback__event_json(cashback_client *c,
                                     const cashback_event *ev,
                                     cashback__buf *out);

/* Finalizes `ev` for `c` (cashback_event_finalize(), its id into `id` when
 * not NULL) and puts its JSON object into `out`, which it initializes
 * (capped at CASHBACK__EVENT_JSON_MAX): the caller frees `out`, also on a
 * failure, whose detail is on `c`. */
cashback_status cashback__event_finalized_json(cashback_client *c,
                                               cashback_event *ev, char *id,
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

/* The event type named `len` bytes at `s` ("sale", ...): 0 and `*out`,
 * or -1. */
int cashback__event_type_from_name(const char *s, size_t len,
                                   cashback_event_type *out);

/* 1 when the event has metadata `key` (`klen` bytes). */
int cashback__event_has_metadata(const cashback_event *ev, const char *key,
                                 size_t klen);

/* cashback_event_add_item() with counted strings (NULL or 0: absent). */
cashback_status cashback__event_add_item_minor(
    cashback_event *ev, const char *sku, size_t sku_len, const char *name,
    size_t name_len, int64_t quantity, int64_t unit_price_minor,
    const char *category, size_t category_len);

#endif
