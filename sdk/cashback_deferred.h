/*
 * Deferred events: those the network answered "retry" (docs/protocol.md,
 * section 6), typically a refund, cancel or confirm that reached it before
 * its sale (another server's spool had not delivered the sale yet). They
 * leave the spool's segments, so that the rest moves on, and wait in the
 * spool's `deferred` file, each with its own backoff, until the network
 * takes them or `followup_wait` has passed since the first "retry" (then
 * they are quarantined).
 *
 * The file is a sequence of spool records (cashback_record.h), one per
 * event, in the order they were deferred. Each payload is one line of
 * JSON with the bookkeeping, a newline, and the event's wire JSON exactly
 * as it was spooled:
 *
 *   {"id":"<32 hex>","first_ms":..,"next_ms":..,"attempts":..,
 *    "reason":"unknown_order","message":".."}\n{"id":"<32 hex>",...}
 *
 * It is replaced whole (temporary file, fsync, rename) on every change, and
 * always written before the spool's cursor moves past an event it takes:
 * a crash in between sends the event twice (the network dedupes), never
 * loses it. A damaged record is skipped and counted.
 */
#ifndef CASHBACK_DEFERRED_H
#define CASHBACK_DEFERRED_H

#include "cashback.h"
#include "cashback_buf.h"
#include "cashback_spool.h"

#include <stddef.h>
#include <stdint.h>

/* The list's bounds: events, and bytes of the file (each entry counts its
 * event plus 1 KiB, a bound of its bookkeeping). Past either, an event
 * answered "retry" cannot be deferred: it stays queued, the sender backs
 * off, and followup_wait after its report quarantines it. A larger file is
 * not read at all (CASHBACK_E_TOO_BIG). The whole file is rewritten per
 * change, so one change writes at most CASHBACK__DEFERRED_MAX_BYTES. */
#define CASHBACK__DEFERRED_MAX 10000
#define CASHBACK__DEFERRED_MAX_BYTES ((size_t)16 << 20)

typedef struct cashback__deferred_entry {
  char id[CASHBACK_EVENT_ID_LEN + 1];
  int64_t first_ms;  /* Unix ms of the first "retry" answer */
  int64_t next_ms;   /* Unix ms when it is due again */
  unsigned attempts; /* "retry" answers so far */
  char reason[CASHBACK_ID_MAX + 1];
  char message[CASHBACK_ERROR_MAX + 1];
  char order[CASHBACK_ID_MAX + 1]; /* its order_id ("": none), not stored */
  char *event; /* the event's wire JSON, owned; not NUL-terminated */
  size_t event_len;
} cashback__deferred_entry;

typedef struct cashback__deferred {
  cashback__deferred_entry *e;
  size_t n, cap;
  size_t bytes;     /* what the entries count against the byte bound */
  uint64_t damaged; /* records skipped by the last decode */
} cashback__deferred;

void cashback__deferred_init(cashback__deferred *d);
void cashback__deferred_free(cashback__deferred *d); /* empty, reusable */

/* The file's bytes from the list, and the list from them (replacing it;
 * damaged records are skipped and counted in d->damaged). */
cashback_status cashback__deferred_encode(const cashback__deferred *d,
                                          cashback__buf *out);
cashback_status cashback__deferred_decode(const void *data, size_t len,
                                          cashback__deferred *d);

/* Reads / replaces the spool's `deferred` file (none: an empty list). The
 * caller holds the sender lock. */
cashback_status cashback__deferred_load(cashback__spool *s,
                                        cashback__deferred *d);
/* The same, naming the problem in `why` (may be NULL with size 0). */
cashback_status cashback__deferred_load_why(cashback__spool *s,
                                            cashback__deferred *d, char *why,
                                            size_t why_size);
cashback_status cashback__deferred_save(cashback__spool *s,
                                        const cashback__deferred *d);

/* The index of the entry with that id, or d->n. */
size_t cashback__deferred_find(const cashback__deferred *d, const char *id);
/* Appends an entry (copying the event); CASHBACK_E_SPOOL_FULL past
 * CASHBACK__DEFERRED_MAX. */
cashback_status cashback__deferred_add(cashback__deferred *d, const char *id,
                                       const char *event, size_t event_len,
                                       int64_t now_ms, int64_t next_ms,
                                       const char *reason, const char *message);
/* Removes entry i, keeping the order of the others. */
void cashback__deferred_remove(cashback__deferred *d, size_t i);

/* The per-order barrier: head[i] (d->n bytes) is set to 1 when no earlier
 * entry is of entry i's order, 0 otherwise (an entry without an order id
 * is its own). Only a head may be sent: one order's deferred events go in
 * the order they were deferred. CASHBACK_E_NOMEM when out of memory. */
cashback_status cashback__deferred_heads(const cashback__deferred *d,
                                         unsigned char *head);

/* The order ids of the list, sorted, for cashback__deferred_orders_has();
 * NULL (and *n 0) for none or out of memory. free() it. */
const char **cashback__deferred_orders(const cashback__deferred *d, size_t *n);
int cashback__deferred_orders_has(const char **orders, size_t n,
                                  const char *order);

/* When the first entry that may be sent (a head) is due; 0 for none. */
int64_t cashback__deferred_next_due(const cashback__deferred *d);

/* The top-level "order_id" of an event's JSON into out; 0 when none. */
int cashback__deferred_event_order(const char *event, size_t len,
                                   char out[CASHBACK_ID_MAX + 1]);
/* Drops the entries from index n on. */
void cashback__deferred_truncate(cashback__deferred *d, size_t n);

#endif
