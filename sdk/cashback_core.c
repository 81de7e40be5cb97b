/*
 * The core of a client (layer 1, sdk/LAYERS; cashback_core.h): the
 * per-thread last errors, the log, the clock and the transport settings,
 * which the layers above use; the client as owner of a spool and a sender
 * is cashback_client.c.
 */
#include "cashback_core.h"
#include "cashback_ascii.h"
#include "cashback_crypto.h"
#include "cashback_http.h"
#include "cashback_sized.h"
#include "cashback_text.h"
#include "cashback_time.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void cashback__copy_detail(char *detail, size_t size, const char *text) {
  if (detail)
    cashback__ascii_copy(detail, size, text, strlen(text));
}

/*
 * Last errors, per thread. cashback_client_last_error() shows the calling
 * thread's most recent failed call on this client, never another thread's
 * (a failing report in one request is not overwritten by the invalid
 * cookies of bot traffic in the next). Each public call that can fail starts
 * with cashback__call_begin(), which drops the calling thread's record, so a
 * record only exists for a thread whose last call failed, and its detail is
 * that call's.
 *
 * The records are a small array per client, keyed by a thread id under
 * error_lock. The id is not the pthread_t: glibc hands a new thread the
 * pthread_t of one that just exited, which would then read the dead
 * thread's detail before its own first call. It is a number given to each
 * thread at its first use, from a process-wide counter, never reused: the
 * one piece of process-wide state in the library (a thread's identity is
 * process-wide by nature; nothing else is kept there). Not a pthread key: keys
 * are a process-wide resource (PTHREAD_KEYS_MAX, 1024 on glibc, would cap the
 * clients of a process) and a key's destructor, run at a thread's exit, can
 * race with cashback_client_free(). What that leaves, and how it is bounded:
 * - a thread that exits right after a failed call leaves its record; no
 *   other thread ever reads it; it is dropped when CASHBACK__ERROR_THREADS
 * records are in use and another thread fails (the least recently written one
 * goes; that thread's last_error then reads CASHBACK_OK, ""), and freed with
 * the client;
 * - in a child made by fork() only the forking thread exists: the other
 *   threads' records are dropped there (client_fork_child).
 * A call that succeeds costs one atomic load while no thread has a record.
 */
typedef struct cashback__thread_error {
  uint64_t thread; /* thread_id() of its thread */
  uint64_t stamp;  /* order of writing, for dropping the oldest */
  cashback_status status;
  char detail[CASHBACK_ERROR_MAX + 1];
} cashback__thread_error;

/* The calling thread's id: 1, 2, ... in the order threads first ask, never
 * reused in the process (64 bits do not wrap). A fork child's thread keeps
 * the id of the thread that forked. */
static _Atomic uint64_t thread_ids;
static _Thread_local uint64_t this_thread_id;

static uint64_t thread_id(void) {
  if (this_thread_id == 0)
    this_thread_id = atomic_fetch_add(&thread_ids, 1) + 1;
  return this_thread_id;
}

/* The calling thread's record, or -1. Under error_lock. */
static ptrdiff_t find_record(const cashback_client *c) {
  size_t n = atomic_load(&c->n_errors);
  uint64_t self = thread_id();
  for (size_t i = 0; i < n; i++)
    if (c->errors[i].thread == self)
      return (ptrdiff_t)i;
  return -1;
}

/* Drops record i. Under error_lock. */
static void drop_record(cashback_client *c, size_t i) {
  size_t n = atomic_load(&c->n_errors);
  if (i + 1 < n)
    c->errors[i] = c->errors[n - 1];
  atomic_store(&c->n_errors, n - 1);
}

/* The calling thread's record, made when missing (growing the array, or
 * reusing the oldest record at the cap); NULL only when memory is short.
 * Under error_lock. */
static cashback__thread_error *own_record(cashback_client *c) {
  ptrdiff_t at = find_record(c);
  if (at >= 0)
    return &c->errors[at];
  size_t n = atomic_load(&c->n_errors);
  if (n == c->cap_errors && n < CASHBACK__ERROR_THREADS) {
    size_t cap = n ? 2 * n : 4;
    if (cap > CASHBACK__ERROR_THREADS)
      cap = CASHBACK__ERROR_THREADS;
    cashback__thread_error *grown =
        realloc(c->errors, cap * sizeof(*c->errors));
    if (!grown)
      return NULL;
    c->errors = grown;
    c->cap_errors = cap;
  }
  cashback__thread_error *r;
  if (n < c->cap_errors) {
    r = &c->errors[n];
    atomic_store(&c->n_errors, n + 1);
  } else { /* at the cap: the least recently written goes */
    r = &c->errors[0];
    for (size_t i = 1; i < n; i++)
      if (c->errors[i].stamp < r->stamp)
        r = &c->errors[i];
  }
  r->thread = thread_id();
  return r;
}

void cashback__call_begin(cashback_client *c) {
  if (!c || atomic_load(&c->n_errors) == 0)
    return; /* only this thread adds its own record */
  pthread_mutex_lock(&c->error_lock);
  ptrdiff_t at = find_record(c);
  if (at >= 0)
    drop_record(c, (size_t)at);
  pthread_mutex_unlock(&c->error_lock);
}

cashback_status cashback__sized_begin(cashback_client *c, const void *out,
                                      int optional, size_t min, size_t full,
                                      const char *what) {
  cashback__call_begin(c);
  if (!c)
    return CASHBACK_E_INVALID_ARGUMENT;
  if (!out)
    return optional ? CASHBACK_OK
                    : cashback__fail(c, CASHBACK_E_INVALID_ARGUMENT,
                                     "%s must not be NULL", what);
  size_t size;
  memcpy(&size, out, sizeof(size));
  char name[64], why[CASHBACK_ERROR_MAX + 1];
  snprintf(name, sizeof(name), "%s->size", what);
  if (cashback__sized_check(size, min, name, full, why, sizeof(why)) !=
      CASHBACK_OK)
    return cashback__fail(c, CASHBACK_E_INVALID_ARGUMENT, "%s", why);
  return CASHBACK_OK;
}

cashback_status
cashback__sized_call(cashback_client *c, void *out, size_t min, void *full,
                     size_t full_size, const char *what,
                     cashback_status (*fill)(cashback_client *c, void *full)) {
  cashback_status st = cashback__sized_begin(c, out, 0, min, full_size, what);
  if (st != CASHBACK_OK)
    return st;
  memset(full, 0, full_size);
  st = fill(c, full);
  cashback__sized_copy(out, full, full_size);
  return st;
}

cashback_status cashback__core_init(cashback_client *c) {
  return pthread_mutex_init(&c->error_lock, NULL) == 0 ? CASHBACK_OK
                                                       : CASHBACK_E_INTERNAL;
}

void cashback__core_fini(cashback_client *c) {
  pthread_mutex_destroy(&c->error_lock);
  if (c->errors)
    cashback__wipe(c->errors, c->cap_errors * sizeof(*c->errors));
  free(c->errors);
  c->errors = NULL;
}

/* In a child made by fork(): a lock held by a thread of the parent (its
 * sender thread setting an error) would stay held forever in the child; the
 * records of the parent's other threads belong to threads the child does
 * not have. */
void cashback__core_fork_child(cashback_client *c) {
  cashback__fork_reset_mutex(&c->error_lock);
  size_t n = atomic_load(&c->n_errors), kept = 0;
  for (size_t i = 0; i < n; i++)
    if (c->errors[i].thread == thread_id())
      c->errors[kept++] = c->errors[i];
  atomic_store(&c->n_errors, kept);
}

const char *cashback_client_merchant_id(const cashback_client *c) {
  return c ? c->opts.merchant_id : "";
}

const char *cashback_client_cookie_name(const cashback_client *c) {
  return c ? c->opts.cookie_name : "";
}

cashback_status cashback_client_last_error(cashback_client *c, char *buf,
                                           size_t size) {
  if (!c) {
    cashback__copy_detail(buf, size, "");
    return CASHBACK_E_INVALID_ARGUMENT;
  }
  cashback_status st = CASHBACK_OK;
  const char *detail = "";
  pthread_mutex_lock(&c->error_lock);
  ptrdiff_t at = find_record(c);
  if (at >= 0) {
    st = c->errors[at].status;
    detail = c->errors[at].detail;
  }
  cashback__copy_detail(buf, size, detail);
  pthread_mutex_unlock(&c->error_lock);
  return st;
}

int64_t cashback__now(const cashback_client *c) {
  if (c && c->opts.clock_fn)
    return c->opts.clock_fn(c->opts.clock_userdata);
  return cashback__system_now();
}

static void vlog(const cashback_client *c, cashback_log_level level,
                 const char *fmt, va_list ap) {
  if (!c->opts.log_fn || level < c->opts.log_min)
    return;
  char msg[CASHBACK_ERROR_MAX + 64];
  cashback__vprintablef(msg, sizeof(msg), fmt, ap);
  c->opts.log_fn(level, msg, c->opts.log_userdata);
}

void cashback__log(const cashback_client *c, cashback_log_level level,
                   const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vlog(c, level, fmt, ap);
  va_end(ap);
}

/* The one writer of a failure's detail: `fmt` formatted (printable) as the
 * calling thread's last error on `c` and, when `spool`, as the spool's
 * error too (under the same lock); logged at WARN. Returns `st`. */
static cashback_status vfail(cashback_client *c, cashback_status st, int spool,
                             const char *fmt, va_list ap) {
  char detail[CASHBACK_ERROR_MAX + 1];
  cashback__vprintablef(detail, sizeof(detail), fmt, ap);
  pthread_mutex_lock(&c->error_lock);
  if (spool) {
    c->spool_status = st;
    memcpy(c->spool_error, detail, sizeof(detail));
  }
  cashback__thread_error *r = own_record(c);
  if (r) { /* else out of memory: the status still tells the failure */
    r->stamp = ++c->error_stamp;
    r->status = st;
    memcpy(r->detail, detail, sizeof(detail));
  }
  pthread_mutex_unlock(&c->error_lock);
  cashback__log(c, CASHBACK_LOG_WARN, "%s: %s", cashback_strerror(st), detail);
  return st;
}

/* cashback__fail() and cashback__fail_spool(): vfail() with or without the
 * spool mark. */
#define DEFINE_FAIL(name, spool)                                               \
  cashback_status name(cashback_client *c, cashback_status st,                 \
                       const char *fmt, ...) {                                 \
    va_list ap;                                                                \
    va_start(ap, fmt);                                                         \
    vfail(c, st, (spool), fmt, ap);                                            \
    va_end(ap);                                                                \
    return st;                                                                 \
  }

DEFINE_FAIL(cashback__fail, 0)
DEFINE_FAIL(cashback__fail_spool, 1)

void cashback__spool_ok(cashback_client *c) {
  pthread_mutex_lock(&c->error_lock);
  c->spool_status = CASHBACK_OK;
  c->spool_error[0] = '\0';
  pthread_mutex_unlock(&c->error_lock);
}

cashback_status cashback__spool_error(cashback_client *c, char *buf,
                                      size_t size) {
  pthread_mutex_lock(&c->error_lock);
  cashback_status st = c->spool_status;
  cashback__copy_detail(buf, size, c->spool_error);
  pthread_mutex_unlock(&c->error_lock);
  return st;
}

void cashback__client_http_config(const cashback_client *c,
                                  cashback__http_config *hc) {
  memset(hc, 0, sizeof(*hc));
  hc->connect_timeout_ms = c->opts.connect_timeout_ms;
  hc->total_timeout_ms = c->opts.total_timeout_ms;
  hc->allow_insecure = c->opts.allow_insecure_http;
  hc->user_agent = "libcashback/" CASHBACK_VERSION;
  hc->ca_file = c->opts.ca_file[0] ? c->opts.ca_file : NULL; /* NULL: system */
}
