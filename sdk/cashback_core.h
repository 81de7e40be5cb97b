/*
 * The core of a client (layer 1, sdk/LAYERS): its settings, the per-thread
 * errors, the log and the clock, which every layer above uses. The struct
 * is the one client type; its owner's part (the lazily opened spool and
 * sender, lazy_lock) is touched only by layer 4, through cashback_client.h.
 */
#ifndef CASHBACK_CORE_H
#define CASHBACK_CORE_H

#include "cashback.h"
#include "cashback_fork.h"
#include "cashback_options.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

struct cashback_client {
  cashback_options opts;
  /* Keys of click cookies: [0] signs new cookies; all of them are accepted
   * at read-back, so that cookies outlive a rotation of the signing key
   * (see cashback_core.c). */
  uint8_t cookie_keys[3][32];
  size_t n_cookie_keys;
  pthread_mutex_t error_lock;
  /* The last-error records, one per thread whose last call failed (see
   * cashback_core.c); under error_lock, except `n_errors`, also read
   * without it to skip the lock when there is no record at all. */
  struct cashback__thread_error *errors;
  size_t cap_errors;
  atomic_size_t n_errors;
  uint64_t error_stamp;
  /* The owner's part, opened on first use (cashback_client.c): layer 4
   * only. */
  pthread_mutex_t lazy_lock;
  struct cashback__spool *spool;
  struct cashback__sender *sender;
  /* The last local failure of the spool or the sender (not the
   * network's), for status; under error_lock. */
  cashback_status spool_status;
  char spool_error[CASHBACK_ERROR_MAX + 1];
  /* The per-order ledger (cashback_ledger.c), opened on first use by the
   * sender or an order status call; both under ledger_lock, which the
   * owner (cashback_client.c) makes and frees. */
  pthread_mutex_t ledger_lock;
  struct cashback__ledger *ledger;
  uint64_t ledger_errors; /* settled events the ledger could not take */
  cashback__fork_node fork_node;
};

struct cashback__http_config;
/* The HTTP transport settings of the client's options. */
void cashback__client_http_config(const cashback_client *c,
                                  struct cashback__http_config *hc);

/* The client's notion of now (its clock callback, or the system clock). */
int64_t cashback__now(const cashback_client *c);

/* Most threads a client keeps a last-error record for at once; past it the
 * oldest record is dropped (see cashback_core.c). */
#define CASHBACK__ERROR_THREADS 256

/* Starts a public call of the calling thread: clears its last-error record,
 * so that what cashback_client_last_error() shows next belongs to this call.
 * Cheap when no thread has a record (one atomic load). */
void cashback__call_begin(cashback_client *c);

/* The opening of a public call that fills a caller's sized struct `out`
 * (cashback_sized.h): cashback__call_begin(c), then
 * CASHBACK_E_INVALID_ARGUMENT when `c` is NULL (no client to hold a
 * detail), when `out` is NULL unless `optional` (detail "<what> must not be
 * NULL"), or when the `size_t size` that `out` starts with is less than
 * `min`, the end of the struct's first published layout (detail of
 * cashback__sized_check(), naming "<what>->size"; `full` is the struct's
 * sizeof in this version). Writes nothing of `out`. */
cashback_status cashback__sized_begin(cashback_client *c, const void *out,
                                      int optional, size_t min, size_t full,
                                      const char *what);

/* The whole of a public call that fills a caller's sized struct `out`:
 * cashback__sized_begin() (not optional), then `fill` of the zeroed struct
 * `full` (`full_size` bytes, the caller's local of this version's layout),
 * then cashback__sized_copy() of it to `out`, also when `fill` failed (what
 * it filled so far, zeros after). Returns the first failure. */
cashback_status
cashback__sized_call(cashback_client *c, void *out, size_t min, void *full,
                     size_t full_size, const char *what,
                     cashback_status (*fill)(cashback_client *c, void *full));

/* Records `st` and a detail as the calling thread's last error on `c`, logs
 * it at WARN, and returns `st`. The detail must not contain a secret. */
cashback_status cashback__fail(cashback_client *c, cashback_status st,
                               const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* cashback__fail() for a local failure of the spool or the sender: also
 * kept as the client's spool error, which status shows. */
cashback_status cashback__fail_spool(cashback_client *c, cashback_status st,
                                     const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Clears it: the spool worked again. */
void cashback__spool_ok(cashback_client *c);

/* Copies the client's spool error (status and detail, "" when none). */
cashback_status cashback__spool_error(cashback_client *c, char *buf,
                                      size_t size);

/* Logs a message if the level passes the configured minimum. */
void cashback__log(const cashback_client *c, cashback_log_level level,
                   const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Bounded copy of a detail into (detail, size), "" when size allows. */
void cashback__copy_detail(char *detail, size_t size, const char *text);

/* Sets up and tears down the core of a client (its error records and
 * their lock); cashback__core_fork_child() in the child of a fork(). */
cashback_status cashback__core_init(cashback_client *c);
void cashback__core_fini(cashback_client *c);
void cashback__core_fork_child(cashback_client *c);

#endif
