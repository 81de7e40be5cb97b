/*
 * The quarantine: events the network refused for good, kept in the spool
 * directory's quarantine.log until a human replays them (docs/reliability.md,
 * "Rejected events are kept"). Everything about it is in
 * cashback_quarantine.c:
 *
 *   - the storage: quarantine.log is a file of records in the spool's
 *     record format (cashback_record.h), appended and synced one at a
 *     time, read whole, rewritten by rename, under quarantine.lock;
 *   - the entry: one JSON object per record,
 *       {"id","reason","message","http_status","quarantined_at","event":{...}}
 *     written for the sender by cashback__quarantine_put();
 *   - reading it back: counting for status, the list and the replay behind
 *     cashback_quarantine_list() and cashback_quarantine_replay().
 */
#ifndef CASHBACK_QUARANTINE_H
#define CASHBACK_QUARANTINE_H

#include "cashback.h"
#include "cashback_spool.h"

#include <stddef.h>
#include <stdint.h>

/* --- Storage ------------------------------------------------------------ */

/* Appends a record to quarantine.log and fdatasyncs it. */
cashback_status cashback__quarantine_append(cashback__spool *s,
                                            const void *payload, size_t len,
                                            int64_t time_ms);

/* Damage in quarantine.log: spans that are not whole valid records (bad
 * magic, length or checksum, a torn tail), each up to where a valid record
 * starts again. */
typedef struct cashback__quarantine_damage {
  uint64_t regions;
  uint64_t bytes;
} cashback__quarantine_damage;

/* Calls `fn` for each quarantined record in order; stops when it returns
 * non-zero. `*damage` (may be NULL) counts the damage met on the way (all
 * of it when `fn` never stops the walk). */
typedef int (*cashback__record_fn)(const char *payload, size_t len,
                                   int64_t time_ms, void *ud);
cashback_status cashback__quarantine_scan(cashback__spool *s,
                                          cashback__record_fn fn, void *ud,
                                          cashback__quarantine_damage *damage);

/* Rewrites quarantine.log keeping the records for which `keep` returns
 * non-zero (atomically: temporary file, fsync, rename). Kept records and
 * damaged spans are copied byte for byte, so the damage stays counted.
 * `*removed` counts the others. */
cashback_status cashback__quarantine_filter(cashback__spool *s,
                                            cashback__record_fn keep, void *ud,
                                            size_t *removed);

/* --- Writing entries (the sender) --------------------------------------- */

/* The names of the entries already stored for records that are not events
 * ("invalid-<crc32c>-<length>"), read from the file once per sender step
 * (not once per such record) and forgotten at its end. Zero-initialised. */
typedef struct cashback__quarantine_seen {
  char (*names)[48];
  size_t n, cap;
  int scanned;
  uint64_t scans; /* whole reads of the quarantine, for tests */
} cashback__quarantine_seen;

/* Forgets the names (the next put reads the file again). */
void cashback__quarantine_seen_clear(cashback__quarantine_seen *seen);

/* Stores `p` (`len` bytes: a spool record or a deferred event) as an entry
 * with its reason, the network's message and the HTTP status, quarantined
 * at `now_ms`. An event that is one JSON value is spliced in as "event";
 * anything else (reason "invalid_record", or a payload that is not one JSON
 * value, or an entry that would pass the record cap) goes as "event_hex"
 * over as many entries as the record cap needs. `id` "unknown" or reason
 * "invalid_record" names it by its bytes, and an invalid record already
 * stored (`seen`) is not stored again. `name` (`name_size` bytes) gets the
 * name it was stored under. CASHBACK_OK once it is synced. */
cashback_status cashback__quarantine_put(
    cashback__spool *s, cashback__quarantine_seen *seen, const char *p,
    size_t len, const char *id, const char *reason, const char *message,
    long http_status, int64_t now_ms, char *name, size_t name_size);

/* --- Reading entries (status, list, replay) ----------------------------- */

/* Counts the entries (every valid record is one) and the damage. */
cashback_status cashback__quarantine_count(cashback__spool *s,
                                           uint64_t *entries,
                                           cashback__quarantine_damage *damage);

/* cashback_quarantine_list() on the client's spool `s`: failures are
 * recorded on `c` (cashback__fail), damage is logged. */
cashback_status cashback__quarantine_list(cashback_client *c,
                                          cashback__spool *s,
                                          cashback_quarantine_fn fn,
                                          void *userdata);

/* cashback_quarantine_replay() on the client's spool `s`: puts the entry
 * `id` (NULL: every entry that is an event) back into the spool, stamped
 * `now_ms`; `*replayed` counts them. */
cashback_status cashback__quarantine_replay(cashback_client *c,
                                            cashback__spool *s, const char *id,
                                            int64_t now_ms, size_t *replayed);

#endif
