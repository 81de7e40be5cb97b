/*
 * The per-order ledger beside the spool (docs/reliability.md, "The per-order
 * ledger"): per order, the sale's amount, currency and order time, the
 * refunds applied so far (each once, by its event id), the state (open,
 * cancelled, confirmed), the last update and a reference the network gave
 * (an Awin job id, an Impact QueuedUri). A delivery profile asks it for the
 * new total of an order before it sends a refund ("amend to 39.90"), and
 * `cashback status --order` reads it.
 *
 * Storage: `<spool>/ledger.log`, an append-only log of CBR1 records
 * (cashback_record.h), each the whole state of one order after a change
 * (or its removal); the last record of an order wins. A torn or damaged
 * record is skipped. Past twice its live size the log is rewritten whole
 * (a temporary file, fsync, rename, directory fsync), so a reader sees the
 * old file or the new one, never half of either.
 *
 * Only the sender writes it (apply, prune), holding the spool's sender
 * lock; any process reads it. Every call looks at the file first and
 * reads what another process wrote since (a new sender, a compaction).
 */
#ifndef CASHBACK_LEDGER_H
#define CASHBACK_LEDGER_H

#include "cashback.h"
#include "cashback_core.h"
#include "cashback_options.h"
#include "cashback_profile.h"
#include "cashback_spool.h"

#include <stddef.h>
#include <stdint.h>

/* The default bound on the orders kept (oldest update pruned first). */
#define CASHBACK__LEDGER_ORDERS_DEFAULT CASHBACK__LEDGER_ORDERS_OPTION_DEFAULT
/* The most orders a ledger may be configured for. */
#define CASHBACK__LEDGER_ORDERS_MAX CASHBACK__LEDGER_ORDERS_OPTION_MAX
/* Distinct refunds kept per order; one more is refused
 * (CASHBACK_E_TOO_BIG), and the order's total is then unknown. */
#define CASHBACK__LEDGER_REFUNDS_MAX 100
/* A confirmed order stays this long after its confirm (for status and late
 * duplicates), then goes at the next prune. */
#define CASHBACK__LEDGER_CONFIRMED_KEEP_MS (24 * 3600 * 1000LL)
#define CASHBACK__LEDGER_TIME_MAX 40
#define CASHBACK__LEDGER_REF_MAX 256
/* ledger.log is refused past this size (CASHBACK_E_TOO_BIG) unread. */
#define CASHBACK__LEDGER_FILE_MAX (1024ULL * 1024 * 1024)

typedef struct cashback__ledger cashback__ledger;

typedef enum cashback__ledger_state {
  CASHBACK__LEDGER_OPEN = 0,
  CASHBACK__LEDGER_CANCELLED = 1,
  CASHBACK__LEDGER_CONFIRMED = 2
} cashback__ledger_state;

/* "open", "cancelled", "confirmed". */
const char *cashback__ledger_state_name(cashback__ledger_state st);

/* One order, as cashback__ledger_get() copies it out. */
typedef struct cashback__ledger_order {
  char order_id[CASHBACK_ID_MAX + 1];
  int has_sale;                            /* 0: refunds seen, no sale yet */
  char sale_id[CASHBACK_EVENT_ID_LEN + 1]; /* the sale's event id */
  char currency[4];       /* the sale's (or the first refund's) */
  int64_t sale_minor;     /* the sale's amount, minor units */
  int64_t refunded_minor; /* the distinct refunds applied, summed */
  size_t refunds;         /* how many */
  int mixed_currency;     /* a refund is in another currency than the sale */
  char order_time[CASHBACK__LEDGER_TIME_MAX]; /* the sale's, as in its
                                                 payload; "" unknown */
  int utc_offset_min;                         /* of order_time */
  cashback__ledger_state state;
  int64_t updated_ms; /* the last change, Unix ms (the caller's clock) */
  char remote_ref[CASHBACK__LEDGER_REF_MAX + 1]; /* "" none */
} cashback__ledger_order;

/* One change, after the network accepted the event. Strings are borrowed
 * for the call. */
typedef struct cashback__ledger_change {
  cashback_event_type type;
  const char *order_id;   /* 1 to CASHBACK_ID_MAX bytes */
  const char *event_id;   /* CASHBACK_EVENT_ID_LEN lowercase hex digits */
  const char *currency;   /* sale and refund: 3 letters */
  int64_t amount_minor;   /* sale: its amount (>= 0); refund: the amount
                             refunded (> 0) */
  const char *order_time; /* sale: as in the payload; NULL or "": unknown */
  int utc_offset_min;     /* of order_time */
  const char *remote_ref; /* NULL: keep the one recorded; else replaces it */
} cashback__ledger_change;

/* Counters of one ledger object, for status and tests. */
typedef struct cashback__ledger_stats {
  size_t orders;        /* orders held now */
  uint64_t file_bytes;  /* ledger.log's size as last read or written */
  uint64_t live_bytes;  /* of those, the latest record of each order */
  uint64_t damaged;     /* damaged stretches skipped by the last read */
  uint64_t bad_records; /* whole records with a payload not understood */
  uint64_t torn_bytes;  /* a partial record at the end, ignored */
  uint64_t compactions; /* rewrites done by this object */
  uint64_t evicted;     /* orders dropped for the bound */
  uint64_t pruned;      /* orders dropped after confirm or the window */
  uint64_t reloads;     /* full reads of the file */
} cashback__ledger_stats;

/* Opens the ledger of `spool` (which must outlive it) and reads it. Keeps
 * at most `max_orders` orders (0: CASHBACK__LEDGER_ORDERS_DEFAULT; at most
 * CASHBACK__LEDGER_ORDERS_MAX), and prunes an open or cancelled order
 * `window_ms` after its last update (> 0). Damaged content is skipped and
 * counted, never an error; CASHBACK_E_IO when ledger.log cannot be read
 * (not a regular file, a symlink, permission), CASHBACK_E_TOO_BIG past
 * CASHBACK__LEDGER_FILE_MAX, with `err` naming the file and the reason.
 * Writes nothing. The object is thread-safe; free it with
 * cashback__ledger_free(). */
cashback_status cashback__ledger_open(cashback__spool *spool, size_t max_orders,
                                      int64_t window_ms, cashback__ledger **out,
                                      char *err, size_t err_size);
void cashback__ledger_free(cashback__ledger *l);

/* Copies order `order_id` into `out`: 1 found, 0 not (or the file could
 * not be read: cashback__ledger_lookup() says why). */
int cashback__ledger_get(cashback__ledger *l, const char *order_id,
                         cashback__ledger_order *out);
/* The same with a status: CASHBACK_OK, CASHBACK_E_NOT_FOUND, or the read
 * error with `err`. */
cashback_status cashback__ledger_lookup(cashback__ledger *l,
                                        const char *order_id,
                                        cashback__ledger_order *out, char *err,
                                        size_t err_size);

/* The order's total once the refund `event_id` of `refund_minor` is
 * applied: the sale less every distinct refund, this one included (once:
 * when it is applied already, the total as it is), never below 0. Changes
 * nothing, so the same question gives the same answer on every retry.
 * CASHBACK_E_NOT_FOUND when the ledger has no sale for the order (pruned,
 * or the sale went through another spool); CASHBACK_E_CURRENCY when a
 * refund is in another currency than the sale; CASHBACK_E_TOO_BIG when the
 * order has CASHBACK__LEDGER_REFUNDS_MAX refunds and this is another. */
cashback_status cashback__ledger_new_total(cashback__ledger *l,
                                           const char *order_id,
                                           const char event_id[33],
                                           int64_t refund_minor,
                                           int64_t *total_minor);

/* Applies a change the network accepted, at `now_ms`, and stores it
 * before returning (fdatasync unless cashback__ledger_set_sync(l, 0); with
 * group commit, the next cashback__ledger_commit() syncs it).
 * Idempotent: a sale or refund already applied (same event id), a cancel
 * of a cancelled order, a confirm of a confirmed one change nothing and
 * write nothing. A cancel or confirm of an order the ledger does not hold
 * records nothing. A new order past max_orders pushes out the order
 * updated longest ago. Also prunes (at most once an hour) and compacts
 * when the log is past twice its live size. The caller holds the spool's
 * sender lock. Errors (with `err`): CASHBACK_E_INVALID_ARGUMENT or
 * CASHBACK_E_FIELD for a bad change, CASHBACK_E_CURRENCY (a refund in
 * another currency than the sale), CASHBACK_E_TOO_BIG (the refund bound),
 * CASHBACK_E_IO / CASHBACK_E_DISK_FULL (then nothing is changed). */
cashback_status cashback__ledger_apply(cashback__ledger *l,
                                       const cashback__ledger_change *ch,
                                       int64_t now_ms, char *err,
                                       size_t err_size);

/* Drops confirmed orders CASHBACK__LEDGER_CONFIRMED_KEEP_MS after their
 * confirm and other orders `window_ms` after their last update, and
 * compacts when that leaves the log past twice its live size. The caller
 * holds the sender lock. */
cashback_status cashback__ledger_prune(cashback__ledger *l, int64_t now_ms);

/* Applies the wire JSON of an event the network accepted (docs/protocol.md:
 * id, type, order_id, amount, currency, order_time), as the sender does
 * after a 200. */
cashback_status cashback__ledger_apply_event(cashback__ledger *l,
                                             const char *json, size_t len,
                                             int64_t now_ms, char *err,
                                             size_t err_size);

/* --- The client's ledger ----------------------------------------------- */

/* The ledger of client `c` over its spool `spool`, opened on first use
 * with the client's options (ledger_max_orders, attribution_window,
 * durability: SYNC syncs each append). CASHBACK_E_CONFIG when
 * ledger_max_orders is 0 (no ledger); a failed open is tried again by the
 * next call. Owned by the client (freed with its spool). Thread-safe. */
cashback_status cashback__client_ledger(cashback_client *c,
                                        cashback__spool *spool,
                                        cashback__ledger **out, char *err,
                                        size_t err_size);

/* The sender settled the event `json` (`len` bytes) as accepted or
 * duplicate at `now_ms`: applies it to the client's ledger. Never fails:
 * an error is logged and counted (c->ledger_errors), the event is
 * delivered all the same. Called by the sender holding the sender lock. */
void cashback__ledger_settled(cashback_client *c, cashback__spool *spool,
                              const char *json, size_t len, int64_t now_ms);

/* The client's ledger as a delivery profile asks for it (the sender's
 * `orders`, cashback_profile.h): lookup(c, order, event id, refund) fills
 * the sale's amount, currency, order time (Unix s, from the text recorded)
 * and offset, and new_total (cashback__ledger_new_total() for a refund,
 * the sale less the refunds so far otherwise), and returns 0; -1 when the
 * ledger has no sale for the order, cannot be read, is off, or cannot give
 * the total (a refund in another currency, past 100 refunds: the profile
 * then holds the refund back instead of sending a wrong total). The
 * ledger is opened on first use over the client's spool. */
cashback__profile_orders cashback__ledger_profile_orders(cashback_client *c);

/* Syncs what the sender applied since the last call (the client's ledger
 * appends without a sync each, in SYNC durability): called once per batch,
 * before the sender moves the spool's cursor or rewrites `deferred` past
 * the events, so that a power loss cannot keep the cursor move and lose
 * the ledger's change. Logs and counts a failure; never fails the events. */
void cashback__ledger_commit_settled(cashback_client *c);

void cashback__ledger_stats_get(cashback__ledger *l,
                                cashback__ledger_stats *out);

/* fdatasync after each append and fsync of the compaction (default 1). */
void cashback__ledger_set_sync(cashback__ledger *l, int sync);
/* With sync: appends are not synced one by one, but by the next
 * cashback__ledger_commit() (group commit; default 0). */
void cashback__ledger_set_group_commit(cashback__ledger *l, int on);
/* Syncs the appends made since the last commit (nothing when there are
 * none); CASHBACK_E_IO on failure. NULL: nothing to do. */
cashback_status cashback__ledger_commit(cashback__ledger *l);

/* Tests only: compact only past `bytes` as well (default 64 KiB). */
void cashback__ledger_set_compact_min(cashback__ledger *l, uint64_t bytes);
/* Tests only: the next compaction stops as if the process died right after
 * step `step` (1 temporary file created, 2 written, 3 synced, 4 renamed;
 * 0: never), leaving what it made; it returns CASHBACK_E_IO. */
void cashback__ledger_set_crash_at(cashback__ledger *l, int step);
/* Compacts now (the caller holds the sender lock). */
cashback_status cashback__ledger_compact(cashback__ledger *l);

#endif
