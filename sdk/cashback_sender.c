/*
 * The sender: collects a batch from the spool, signs it at send time, posts
 * it, and settles each event by the answer (docs/protocol.md):
 *
 *   200, per event: accepted or duplicate   -> delivered, cursor moves on
 *                   rejected                -> quarantined, cursor moves on
 *                   missing from the answer -> sent again
 *   401, 403                                -> paused (backoff at its cap)
 *   408, 429, 5xx, network error, timeout   -> retry: full-jitter backoff,
 *                                              plus Retry-After when given
 *   413, other 4xx                          -> halve the batch; one event
 *                                              alone is quarantined if the
 *                                              endpoint settled another
 *                                              event since the 4xx began
 *                                              (else a probe, then a path
 *                                              fault: kept, backoff)
 *
 * Each event id goes once per request; its copies in the spool are settled
 * by that one answer.
 *
 * Nothing is removed from the spool before the network answered for it, and
 * the retry schedule lives in the spool's `state` file so that every
 * process (a daemon, cron runs) keeps to it.
 */
#include "cashback_sender.h"
#include "cashback_ascii.h"
#include "cashback_backoff.h"
#include "cashback_core.h"
#include "cashback_crc32c.h"
#include "cashback_crypto.h"
#include "cashback_decide.h"
#include "cashback_deferred.h"
#include "cashback_fork.h"
#include "cashback_http.h"
#include "cashback_ledger.h"
#include "cashback_pace.h"
#include "cashback_profile.h"
#include "cashback_quarantine.h"
#include "cashback_request.h"
#include "cashback_record.h"
#include "cashback_response.h"
#include "cashback_sign.h"
#include "cashback_text.h"
#include "cashback_time.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define STANDBY_MS 2000    /* a standby sender tries for the lock this often */
#define MIN_ATTEMPT_MS 100 /* no request is started with less time left */
#define IDLE_POLL_MS 1000
#define PROBE_COLLECT 64 /* records read to find an event after the head */

struct cashback__sender {
  cashback_client *c;
  cashback__spool *spool;
  pthread_mutex_t step_lock;       /* one step at a time (thread and flush) */
  cashback__fork_owner step_owner; /* who holds step_lock (for fork) */
  cashback__http *http;
  const cashback__profile *profile; /* the transport (cashback_profile.h) */
  cashback__profile_orders orders;  /* the ledger, as profiles ask for it */
  cashback__batch batch;
  size_t batch_limit; /* shrinks on 400/413, grows back on success */
  int probe;          /* the next step sends the event after the head alone */
  cashback__deferred deferred; /* the spool's `deferred` file, as loaded */
  int deferred_loaded;         /* 0: read it again before use */
  int deferred_broken;         /* unreadable: nothing is deferred */
  cashback__sender_state state;
  int state_loaded;
  /* The acquisition of sender.lock that `state` and `deferred` were read
   * under (cashback__spool_sender_gen). They are valid only while that
   * same acquisition is held: a new one reloads both, and nothing is
   * written once it is lost (a fork, a directory reopen, a let go). */
  uint64_t lock_gen;
  int saved_in_flight; /* the state file says a request is in flight */
  /* The names of the quarantine's entries for records that are not events,
   * read once per step (not once per such record) and freed at its end. */
  cashback__quarantine_seen qseen;
  char spool_problem[256]; /* the last one logged (logged when it changes) */
  char seq_problem[512];   /* why `seq` cannot be used, as last logged */
  /* The linger (step_linger): when a step of the thread first held a batch
   * that is not full back, CLOCK_MONOTONIC ms; 0: none held. Under
   * step_lock. */
  int64_t linger_since;

  pthread_mutex_t mu; /* the thread's control */
  pthread_cond_t cv;
  pthread_t thread;
  pid_t thread_pid; /* the process the thread runs in */
  int running;
  int stopping;
  int woken;
  int waiting;          /* what the thread waits for (WAITING_*) */
  uint64_t reports;     /* wakes so far: one per event reported */
  uint64_t linger_mark; /* `reports` before the lingering step collected */
  uint64_t linger_need; /* the reports after it that fill its batch */
  int64_t stop_deadline_ms;
  cashback__fork_node fork_node;
};

/* What the thread waits for, so that a report wakes it only when it is
 * waited for. */
enum {
  WAITING_NONE = 0, /* stepping, or a backoff: nothing a report changes */
  WAITING_REPORT,   /* idle: any report */
  WAITING_FULL      /* lingering: reports enough to fill the batch */
};

int64_t cashback__wall_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Whether this sender still holds the acquisition of sender.lock that its
 * state and deferred list were read under. When not, both are dropped (read
 * again at the next acquisition) and the caller writes nothing. */
static int lock_held(cashback__sender *s) {
  if (s->lock_gen && cashback__spool_sender_gen(s->spool) == s->lock_gen)
    return 1;
  s->state_loaded = 0;
  s->deferred_loaded = 0;
  s->deferred_broken = 0;
  return 0;
}

static void save_state(cashback__sender *s) {
  if (!lock_held(s))
    return; /* another sender's file now, or a stale copy of ours */
  if (cashback__sender_state_write(s->spool, &s->state) != CASHBACK_OK)
    cashback__log(s->c, CASHBACK_LOG_WARN, "spool %s: cannot write state",
                  cashback__spool_dir(s->spool));
  else
    s->saved_in_flight = s->state.in_flight_since != 0;
}

/* Keeps the retry time within the delay it was scheduled with from now
 * (the clock may have been set back since, or the file damaged). */
static void clamp_retry(cashback__sender *s, int64_t now_ms) {
  cashback__sender_state *S = &s->state;
  int64_t next =
      cashback__sender_state_next_ms(S, now_ms, s->c->opts.backoff_cap_ms);
  if (next == S->next_attempt_ms)
    return;
  cashback__log(s->c, CASHBACK_LOG_WARN,
                "spool %s: the next retry was %" PRId64
                " s away, further than it was scheduled (the clock was set "
                "back?); retrying in %" PRId64 " ms",
                cashback__spool_dir(s->spool),
                (S->next_attempt_ms - now_ms) / 1000, next - now_ms);
  S->next_attempt_ms = next;
  save_state(s);
}

static void load_state(cashback__sender *s) {
  int found = 0, rewrite = 0;
  cashback_status rd = cashback__sender_state_read(s->spool, &s->state, &found);
  if (rd == CASHBACK_E_NOT_FOUND) {
    /* a new spool */
  } else if (rd != CASHBACK_OK) {
    /* Unreadable: start afresh in memory; the write below says more. */
    cashback__log(s->c, CASHBACK_LOG_WARN,
                  "spool %s: cannot read the state file; starting afresh",
                  cashback__spool_dir(s->spool));
  } else if (found == CASHBACK__STATE_DAMAGED) {
    cashback__log(s->c, CASHBACK_LOG_ERROR,
                  "spool %s: the state file is damaged (checksum); ignored: "
                  "the retry schedule starts afresh (state_damaged=%" PRIu64
                  ")",
                  cashback__spool_dir(s->spool), s->state.state_damaged);
    rewrite = 1;
  } else if (found == CASHBACK__STATE_LEGACY) {
    rewrite = 1; /* with a checksum from now on */
  }
  /* A pause was about the key the network refused; a request in flight
   * was another sender's (we hold the sender lock). */
  cashback__key pk;
  cashback__profile_pause_key(&s->c->opts, &pk);
  if (cashback__sender_state_adopt(&s->state, &pk))
    rewrite = 1;
  cashback__wipe(&pk, sizeof(pk));
  s->state_loaded = 1;
  if (rewrite)
    save_state(s);
  clamp_retry(s, cashback__wall_ms());
}

/* --- Construction ------------------------------------------------------- */

/* In a child made by fork(): the thread, the lock it held and the HTTP
 * connection are the parent's. The child has no sender thread (it may start
 * its own), stepping and flushing work, and free() joins nothing. The spool's
 * own hooks close the parent's sender.lock descriptor. */
static void sender_fork_child(void *p) {
  cashback__sender *s = p;
  /* A step under way in the forking thread itself (a fork() from a log
   * callback run inside a step) is on the child's stack: it resumes there,
   * so its lock and batch are left alone. It sends nothing more (its
   * connection is dropped below: a request fails) and writes nothing (the
   * sender.lock it read its state under is the parent's, see lock_held).
   * Such a child should exec(). */
  if (cashback__fork_reset_owned_mutex(&s->step_lock, &s->step_owner) == 1) {
    /* A step was under way in another thread of the parent, which the
     * child does not have: its batch may be torn. It stays allocated (the
     * child owns none of its pieces for sure). */
    cashback__batch_init(&s->batch, s->c->opts.batch_max_bytes);
  }
  cashback__fork_reset_mutex(&s->mu);
  pthread_cond_init(&s->cv, NULL);
  s->running = 0;
  s->stopping = 0;
  s->woken = 0;
  s->waiting = WAITING_NONE;
  s->linger_since = 0;
  /* Both read again at the child's own acquisition of sender.lock: the
   * parent's sender goes on writing them (and its list may be torn). */
  s->state_loaded = 0;
  s->deferred_loaded = 0;
  s->deferred_broken = 0;
  s->lock_gen = 0;
  cashback__http_abandon(s->http);
  s->http = NULL; /* made again at the next step */
}

static const cashback__fork_hooks sender_fork_hooks = {NULL, NULL,
                                                       sender_fork_child};

cashback_status cashback__sender_new(cashback_client *c, cashback__spool *spool,
                                     cashback__sender **out) {
  *out = NULL;
  cashback__sender *s = calloc(1, sizeof(*s));
  if (!s)
    return CASHBACK_E_NOMEM;
  s->c = c;
  s->spool = spool;
  s->profile = cashback__profile_of(&c->opts);
  s->orders = cashback__ledger_profile_orders(c);
  cashback__http_config hc;
  cashback__client_http_config(c, &hc);
  cashback_status st = cashback__http_new(&hc, &s->http);
  if (st != CASHBACK_OK) {
    free(s);
    return st;
  }
  cashback__batch_init(&s->batch, c->opts.batch_max_bytes);
  s->batch_limit = c->opts.batch_max_events;
  pthread_mutex_init(&s->step_lock, NULL);
  pthread_mutex_init(&s->mu, NULL);
  pthread_cond_init(&s->cv, NULL);
  cashback__fork_register(&s->fork_node, &sender_fork_hooks, s);
  *out = s;
  return CASHBACK_OK;
}

void cashback__sender_free(cashback__sender *s) {
  if (!s)
    return;
  cashback__sender_stop(s, 0);
  cashback__fork_unregister(&s->fork_node);
  cashback__http_free(s->http);
  cashback__batch_free(&s->batch);
  cashback__deferred_free(&s->deferred);
  pthread_cond_destroy(&s->cv);
  pthread_mutex_destroy(&s->mu);
  pthread_mutex_destroy(&s->step_lock);
  free(s);
}

/* --- One step ----------------------------------------------------------- */

/* The id an event payload starts with: {"id":"<32 hex>", as we write it. */
static int payload_id(const char *p, size_t len, char id[33]) {
  static const char pre[] = "{\"id\":\"";
  size_t pl = sizeof(pre) - 1;
  if (len < pl + 33 || memcmp(p, pre, pl) != 0 || p[pl + 32] != '"')
    return 0;
  if (!cashback__ascii_all(p + pl, 32, 32, 32, CASHBACK__ASCII_HEX))
    return 0;
  memcpy(id, p + pl, 32);
  id[32] = '\0';
  return 1;
}

/* Records a failed attempt and that the next one is `delay` ms away. */
static void schedule_in(cashback__sender *s, cashback_status st, int64_t delay,
                        const char *fmt, va_list ap) {
  cashback__sender_state *S = &s->state;
  cashback__vprintablef(S->last_error, sizeof(S->last_error), fmt, ap);
  delay = cashback__sender_state_retry_in(S, st, delay, cashback__wall_ms(),
                                          s->c->opts.backoff_cap_ms);
  cashback__fail(s->c, st, "%s; retry %u in %" PRId64 " ms", S->last_error,
                 S->attempt, delay);
  save_state(s);
}

/* Records a failed attempt and when to try again: the full-jitter backoff,
 * plus `retry_after_ms` when the network asked for it (< 0: not asked). */
static void schedule_retry(cashback__sender *s, cashback_status st,
                           int64_t retry_after_ms, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void schedule_retry(cashback__sender *s, cashback_status st,
                           int64_t retry_after_ms, const char *fmt, ...) {
  uint64_t r = 0;
  if (cashback__random(&r, sizeof(r)) != CASHBACK_OK)
    r = (uint64_t)cashback__wall_ms() * 0x9e3779b97f4a7c15u;
  int64_t delay = cashback__sender_state_backoff(
      &s->state, s->c->opts.backoff_base_ms, s->c->opts.backoff_cap_ms, r,
      retry_after_ms);
  va_list ap;
  va_start(ap, fmt);
  schedule_in(s, st, delay, fmt, ap);
  va_end(ap);
}

/* Records a refused key: sending pauses for the backoff cap. */
static void schedule_pause(cashback__sender *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void schedule_pause(cashback__sender *s, const char *fmt, ...) {
  cashback__key pk;
  cashback__profile_pause_key(&s->c->opts, &pk);
  int64_t delay =
      cashback__sender_state_pause(&s->state, &pk, s->c->opts.backoff_cap_ms);
  cashback__wipe(&pk, sizeof(pk));
  va_list ap;
  va_start(ap, fmt);
  schedule_in(s, CASHBACK_E_AUTH, delay, fmt, ap);
  va_end(ap);
}

static void record_success(cashback__sender *s) {
  cashback__sender_state *S = &s->state;
  cashback__sender_state_success(S, cashback__wall_ms(), 1);
  size_t max = s->c->opts.batch_max_events;
  s->batch_limit = s->batch_limit * 2 > max ? max : s->batch_limit * 2;
  if (s->batch_limit == max) { /* recovered: a later 4xx is a new streak */
    S->fault_streak = 0;
    S->fault_accepted = 0;
  }
  save_state(s);
}

/* A deferred event was settled: the network takes events, so the retry
 * schedule starts over, but the spool's batch size and 4xx streak are left
 * alone (record_success() would undo a halving in progress). */
static void deferred_success(cashback__sender *s) {
  cashback__sender_state_success(&s->state, cashback__wall_ms(), 0);
  save_state(s);
}

/* The path refuses every batch, also a second event alone, and has not
 * settled an event since: keep everything, back off, and say so. */
static void path_fault(cashback__sender *s, long http_status,
                       const char *method, const char *url,
                       const char *detail) {
  s->state.path_fault = http_status;
  schedule_retry(s, CASHBACK_E_HTTP, -1,
                 "%s %s: HTTP %ld to every batch, a single event and "
                 "another: a fault of the path (proxy, endpoint), not of the "
                 "events; nothing is quarantined, sending backs off: %s",
                 method, url, http_status, detail);
}

uint64_t cashback__sender_quarantine_scans(cashback__sender *s) {
  pthread_mutex_lock(&s->step_lock); /* no callback runs under it here */
  uint64_t n = s->qseen.scans;
  pthread_mutex_unlock(&s->step_lock);
  return n;
}

/* Quarantines the payload `p` (`len` bytes: a batch item, or a deferred
 * event) with a reason (cashback__quarantine_put); 0 when it is safely
 * stored. `id` is "unknown" for a record that is not an event. `kept` says
 * where it stays when it cannot be stored. */
static int quarantine_bytes(cashback__sender *s, const char *p, size_t len,
                            const char *id, const char *reason,
                            const char *message, long http_status,
                            const char *kept) {
  char name[64];
  cashback_status st = cashback__quarantine_put(
      s->spool, &s->qseen, p, len, id, reason, message, http_status,
      cashback__wall_ms(), name, sizeof(name));
  if (st == CASHBACK_OK)
    cashback__log(s->c, CASHBACK_LOG_WARN,
                  "event %s quarantined: %s%s%s (replay with "
                  "cashback_quarantine_replay)",
                  name, reason, message[0] ? ": " : "", message);
  else
    cashback__fail(s->c, CASHBACK_E_IO,
                   "event %s: cannot write the quarantine; kept %s", name,
                   kept);
  return st == CASHBACK_OK ? 0 : -1;
}

/* Quarantines batch item i; see quarantine_bytes(). */
static int quarantine_item(cashback__sender *s, size_t i, const char *id,
                           const char *reason, const char *message,
                           long http_status) {
  const cashback__batch_item *it = &s->batch.items[i];
  return quarantine_bytes(s, s->batch.data.data + it->off, it->len, id, reason,
                          message, http_status, "in the spool");
}

/* --- Deferred events (cashback_deferred.h) ------------------------------ */

static void load_deferred(cashback__sender *s) {
  /* Under the sender lock: any deferred.<pid>.tmp is a crash's leftover. */
  size_t swept = cashback__spool_sweep_tmp(s->spool, "deferred");
  if (swept)
    cashback__log(s->c, CASHBACK_LOG_INFO,
                  "spool %s: removed %zu stale temporary deferred file(s)",
                  cashback__spool_dir(s->spool), swept);
  char why[256] = "";
  cashback_status st =
      cashback__deferred_load_why(s->spool, &s->deferred, why, sizeof(why));
  s->deferred_loaded = 1;
  s->deferred_broken = st != CASHBACK_OK;
  if (st != CASHBACK_OK) {
    cashback__deferred_free(&s->deferred);
    s->deferred_loaded = 0; /* tried again at the next step */
    cashback__log(s->c, CASHBACK_LOG_ERROR,
                  "spool %s: cannot read the deferred events (%s); none is "
                  "deferred until it can be read",
                  cashback__spool_dir(s->spool),
                  why[0] ? why : cashback_strerror(st));
  } else if (s->deferred.damaged) {
    s->state.corrupt += s->deferred.damaged;
    cashback__log(s->c, CASHBACK_LOG_ERROR,
                  "spool %s: skipped %" PRIu64 " damaged deferred record(s)",
                  cashback__spool_dir(s->spool), s->deferred.damaged);
    save_state(s);
  }
}

/* When a deferred event is due again after `attempts` "retry" answers:
 * half the exponential backoff plus a random half (never at once). */
static int64_t deferred_delay(const cashback__sender *s, unsigned attempts) {
  int64_t base = s->c->opts.backoff_base_ms, cap = s->c->opts.backoff_cap_ms;
  int64_t ceiling = base < cap ? base : cap;
  for (unsigned i = 1; i < attempts && ceiling < cap; i++)
    ceiling = ceiling > cap / 2 ? cap : ceiling * 2;
  uint64_t r = 0;
  if (cashback__random(&r, sizeof(r)) != CASHBACK_OK)
    r = (uint64_t)cashback__wall_ms() * 0x9e3779b97f4a7c15u;
  return ceiling / 2 + (int64_t)(r % ((uint64_t)(ceiling / 2) + 1));
}

static void human_ms(int64_t ms, char *out, size_t size) {
  if (ms % (INT64_C(3600) * 1000) == 0)
    snprintf(out, size, "%" PRId64 " h", ms / (INT64_C(3600) * 1000));
  else if (ms % 60000 == 0)
    snprintf(out, size, "%" PRId64 " min", ms / 60000);
  else if (ms % 1000 == 0)
    snprintf(out, size, "%" PRId64 " s", ms / 1000);
  else
    snprintf(out, size, "%" PRId64 " ms", ms);
}

/* Saves the deferred list; logs a failure. 0 when saved. */
static int save_deferred(cashback__sender *s) {
  if (!lock_held(s)) {
    cashback__log(s->c, CASHBACK_LOG_WARN,
                  "spool %s: sender.lock was lost during the step; the "
                  "deferred events are not written (read again next step)",
                  cashback__spool_dir(s->spool));
    return -1;
  }
  cashback_status st = cashback__deferred_save(s->spool, &s->deferred);
  if (st == CASHBACK_OK)
    return 0;
  cashback__log(s->c, CASHBACK_LOG_ERROR,
                "spool %s: cannot write the deferred events: %s",
                cashback__spool_dir(s->spool), cashback_strerror(st));
  return -1;
}

/* Acknowledges the batch's resolved records, only while the acquisition of
 * sender.lock the batch was read under is held: after a directory reopen,
 * the segment names would be the old directory's. */
static cashback_status ack_batch(cashback__sender *s,
                                 const unsigned char *resolved) {
  if (!lock_held(s))
    return CASHBACK_E_BUSY;
  cashback__ledger_commit_settled(s->c); /* before the cursor passes them */
  return cashback__spool_ack(s->spool, &s->batch, resolved);
}

static cashback_status build_request(cashback__sender *s, const char **texts,
                                     const size_t *lens,
                                     cashback__result *results, size_t n,
                                     cashback__prequest *req);
static int paced(cashback__sender *s);
static cashback_status send_request(cashback__sender *s,
                                    const cashback__prequest *req,
                                    int64_t mono_deadline_ms,
                                    cashback__http_response *resp);
static const char *refused(const cashback__sender *s,
                           const cashback__prequest *req, char *buf,
                           size_t size);
static void classify(cashback__sender *s, const cashback__prequest *req,
                     const cashback__answer *a, cashback__sent *b,
                     cashback__decision *d);

/* Puts batch item i, answered "retry", into the deferred list (in memory;
 * the caller saves it). CASHBACK_OK when it is there, else why not. */
static cashback_status defer_item(cashback__sender *s, size_t i,
                                  const cashback__result *r, int64_t now_ms) {
  if (s->deferred_broken || !s->deferred_loaded) {
    cashback__log(s->c, CASHBACK_LOG_WARN,
                  "event %s: the network asked for it later (%s), but the "
                  "deferred events cannot be read; it stays queued",
                  r->id, r->reason[0] ? r->reason : "retry");
    return CASHBACK_E_IO;
  }
  if (cashback__deferred_find(&s->deferred, r->id) < s->deferred.n)
    return CASHBACK_OK; /* already deferred (a copy sent again after a crash) */
  const cashback__batch_item *it = &s->batch.items[i];
  cashback_status st = cashback__deferred_add(
      &s->deferred, r->id, s->batch.data.data + it->off, it->len, now_ms,
      now_ms + deferred_delay(s, 1), r->reason, r->message);
  if (st != CASHBACK_OK) {
    cashback__log(s->c, CASHBACK_LOG_WARN,
                  "event %s: the network asked for it later (%s), but it "
                  "cannot be deferred (%s); it stays queued",
                  r->id, r->reason[0] ? r->reason : "retry",
                  cashback_strerror(st));
    return st;
  }
  cashback__log(s->c, CASHBACK_LOG_INFO,
                "event %s deferred: the network asked for it later (%s%s%s)",
                r->id, r->reason[0] ? r->reason : "retry",
                r->message[0] ? ": " : "", r->message);
  return CASHBACK_OK;
}

/* Batch item i was answered "retry" and cannot be deferred: once it was
 * written followup_wait ago, it goes to the quarantine as a deferred event
 * would (so that followup_wait bounds it too). 0 when quarantined. */
static int expire_undeferred(cashback__sender *s, size_t i,
                             const cashback__result *r, int64_t now_ms) {
  int64_t wait = s->c->opts.followup_wait_ms;
  if (now_ms - s->batch.items[i].time_ms < wait)
    return -1;
  char waited[32], msg[CASHBACK_ERROR_MAX + 160];
  human_ms(wait, waited, sizeof(waited));
  snprintf(msg, sizeof(msg),
           "the network did not see the sale within %s of the report, and "
           "the event could not be deferred%s%s",
           waited, r->message[0] ? ": " : "", r->message);
  return quarantine_item(s, i, r->id,
                         r->reason[0] ? r->reason : "retry_expired", msg, 200);
}

/* The deferred events that are due, oldest deferral first, within the
 * batch caps (at least one): their indexes in `*idx`, their count. The
 * per-order barrier: an entry goes only when no earlier one of its order is
 * still deferred (so one order's events keep their order). */
static size_t deferred_due(cashback__sender *s, int64_t now_ms, size_t **idx) {
  cashback__deferred *d = &s->deferred;
  size_t limit = s->batch_limit ? s->batch_limit : 1, k = 0, bytes = 0;
  *idx = NULL;
  unsigned char *head = calloc(d->n, 1);
  if (!head || cashback__deferred_heads(d, head) != CASHBACK_OK) {
    free(head);
    cashback__fail(s->c, CASHBACK_E_NOMEM, "sender: out of memory");
    return 0;
  }
  for (size_t i = 0; i < d->n; i++)
    if (head[i] && d->e[i].next_ms <= now_ms) {
      if (k && bytes + d->e[i].event_len > s->c->opts.batch_max_bytes)
        break;
      if (!*idx && !(*idx = calloc(d->n, sizeof(**idx))))
        break;
      (*idx)[k++] = i;
      bytes += d->e[i].event_len;
      if (k == limit)
        break;
    }
  free(head);
  return k;
}

/* Settles deferred entry `x` by its result `r` (outcome PENDING when the
 * request was not answered): 1 delivered, 2 quarantined (both: drop it),
 * 0 deferred again on its own backoff. */
static int deferred_settle(cashback__sender *s, cashback__deferred_entry *x,
                           const cashback__result *r, int64_t now_ms) {
  cashback__outcome o = r->outcome;
  if (o == CASHBACK__OUTCOME_ACCEPTED || o == CASHBACK__OUTCOME_DUPLICATE) {
    cashback__ledger_settled(s->c, s->spool, x->event, x->event_len, now_ms);
    return 1;
  }
  int64_t wait = s->c->opts.followup_wait_ms;
  if (o == CASHBACK__OUTCOME_RETRY && r->reason[0]) {
    memcpy(x->reason, r->reason, sizeof(x->reason));
    memcpy(x->message, r->message, sizeof(x->message));
  }
  if (o == CASHBACK__OUTCOME_REJECTED ||
      (o == CASHBACK__OUTCOME_RETRY && now_ms - x->first_ms >= wait)) {
    char msg[CASHBACK_ERROR_MAX + 160], waited[32];
    human_ms(wait, waited, sizeof(waited));
    if (o == CASHBACK__OUTCOME_REJECTED)
      snprintf(msg, sizeof(msg), "%s", r->message);
    else
      snprintf(msg, sizeof(msg),
               "the network did not see the sale within %s (%u retry "
               "answers)%s%s",
               waited, x->attempts + 1, x->message[0] ? ": " : "", x->message);
    const char *reason = o == CASHBACK__OUTCOME_REJECTED ? r->reason
                         : x->reason[0]                  ? x->reason
                                                         : "retry_expired";
    if (quarantine_bytes(s, x->event, x->event_len, x->id,
                         reason[0] ? reason : "other", msg, 200,
                         "deferred") == 0)
      return 2;
  }
  if (x->attempts < 1000000000)
    x->attempts++;
  x->next_ms = now_ms + deferred_delay(s, x->attempts);
  return 0;
}

/* Sends the deferred events that are due, oldest deferral first, in one
 * request of their own (so that they never hold the spool's events back),
 * and settles them by the answer (cashback_decide.c): accepted or
 * duplicate: gone; rejected: quarantined; "retry" again: its own backoff,
 * or the quarantine once followup_wait has passed; anything else (a failed
 * request, no answer for it): its own backoff. The spool's step runs next
 * and meets any fault of the path itself. A 401/403 pauses sending, as for
 * the spool's events (-1). Returns 1 when some were settled (progress: step
 * again); events asked for again are no progress, so that a flush ends
 * once each due one was tried. */
static void excerpt(const cashback__buf *b, char *out, size_t size);

static int deferred_step(cashback__sender *s, int64_t now_ms,
                         int64_t mono_deadline_ms) {
  cashback__deferred *d = &s->deferred;
  size_t *idx = NULL;
  size_t k = d->n ? deferred_due(s, now_ms, &idx) : 0;
  if (k == 0) {
    free(idx);
    return 0;
  }
  const char **texts = calloc(k, sizeof(*texts));
  size_t *lens = calloc(k, sizeof(*lens));
  cashback__result *res = calloc(k, sizeof(*res));
  unsigned char *drop = calloc(d->n, 1);
  cashback__prequest req;
  cashback__prequest_init(&req);
  cashback__http_response resp;
  cashback__http_response_init(&resp);
  int progress = 0;
  if (!texts || !lens || !res || !drop) {
    cashback__fail(s->c, CASHBACK_E_NOMEM, "sender: out of memory");
    goto out;
  }
  for (size_t j = 0; j < k; j++) {
    const cashback__deferred_entry *x = &d->e[idx[j]];
    texts[j] = x->event;
    lens[j] = x->event_len;
    memcpy(res[j].id, x->id, sizeof(res[j].id));
  }
  cashback_status st = build_request(s, texts, lens, res, k, &req);
  /* The profile may cover fewer (the rest wait for the next round, not
   * tried), or settle them itself (nothing sent). */
  if (st == CASHBACK_OK)
    k = req.n;
  const char *url = st == CASHBACK_OK ? req.url : s->c->opts.endpoint;
  cashback__decision dec;
  if (st == CASHBACK_OK && req.local) {
    memset(&dec, 0, sizeof(dec));
    dec.next = CASHBACK__NEXT_SETTLE;
  } else {
    if (st == CASHBACK_OK && paced(s))
      goto out; /* nothing tried: the pacing's wait is scheduled */
    if (st == CASHBACK_OK)
      st = send_request(s, &req, mono_deadline_ms, &resp);
    cashback__answer a;
    cashback__answer_of(&a, st, &resp, cashback__wall_ms() / 1000);
    cashback__sent b = {res, k, k, 0, 0};
    classify(s, &req, &a, &b, &dec);
  }
  if (dec.next == CASHBACK__NEXT_PAUSE) {
    /* A refused key refuses the spool's events too: pause, as there. */
    char ex[200], who[CASHBACK_ID_MAX + 16];
    excerpt(&resp.body, ex, sizeof(ex));
    schedule_pause(s,
                   "%s %s: HTTP %ld to %zu deferred events: the network "
                   "refused %s; sending is paused, nothing is dropped: "
                   "%s",
                   req.method[0] ? req.method : "POST", url, resp.status, k,
                   refused(s, &req, who, sizeof(who)), ex);
    progress = -1;
    goto out;
  }
  /* Results that settle none are an answer, each event pending. */
  int answered = dec.next == CASHBACK__NEXT_SETTLE ||
                 dec.cause == CASHBACK__CAUSE_SETTLED_NONE;
  size_t settled[3] = {0, 0, 0}; /* again, delivered, quarantined */
  for (size_t j = 0; j < k; j++) {
    int r = deferred_settle(s, &d->e[idx[j]], &res[j], now_ms);
    settled[r]++;
    drop[idx[j]] = r != 0;
  }
  for (size_t i = d->n; i-- > 0;)
    if (drop[i])
      cashback__deferred_remove(d, i);
  cashback__ledger_commit_settled(s->c); /* before they leave `deferred` */
  save_deferred(s);
  if (answered)
    cashback__log(s->c, CASHBACK_LOG_INFO,
                  "sent %zu deferred events: %zu delivered, %zu quarantined, "
                  "%zu deferred again",
                  k, settled[1], settled[2], settled[0]);
  else
    cashback__log(s->c, CASHBACK_LOG_WARN,
                  "%s %s: %zu deferred events not answered (%s, HTTP %ld); "
                  "each tried again on its own backoff",
                  req.method[0] ? req.method : "POST", url, k,
                  resp.error[0] ? resp.error : "no valid results", resp.status);
  if (settled[1] + settled[2] > 0)
    deferred_success(s);
  progress = settled[1] + settled[2] > 0;
out:
  cashback__http_response_free(&resp);
  cashback__prequest_free(&req);
  free(idx);
  free(texts);
  free(lens);
  free(res);
  free(drop);
  return progress;
}

/* A short, printable excerpt of a response body for messages. */
static void excerpt(const cashback__buf *b, char *out, size_t size) {
  cashback__printable(out, size < 161 ? size : 161, b->data,
                      b->data ? b->len : 0);
}

/* Builds the request for the first of `n` events with the sender's profile
 * (the built-in one signs at send time, by the client's clock, as
 * cashback_request_new() builds the demo's). */
static cashback_status build_request(cashback__sender *s, const char **texts,
                                     const size_t *lens,
                                     cashback__result *results, size_t n,
                                     cashback__prequest *req) {
  return s->profile->build(&s->c->opts, &s->orders, cashback__now(s->c), texts,
                           lens, results, n, req);
}

/* The profile reads the answer; what the network said it queued (a job, a
 * URI to poll) is kept in the state for status. */
static void classify(cashback__sender *s, const cashback__prequest *req,
                     const cashback__answer *a, cashback__sent *b,
                     cashback__decision *d) {
  char submission[CASHBACK__SUBMISSION_MAX + 1] = "";
  s->profile->classify(&s->c->opts, req, a, b, d, submission);
  if (submission[0])
    memcpy(s->state.submission, submission, sizeof(s->state.submission));
}

/* What a 401/403 refused, for the message: the signing key by its id, or
 * the profile's credential by its key name (never a secret). */
static const char *refused(const cashback__sender *s,
                           const cashback__prequest *req, char *buf,
                           size_t size) {
  if (req->credential)
    snprintf(buf, size, "%s", req->credential);
  else
    snprintf(buf, size, "key '%s'", s->c->opts.key.id);
  return buf;
}

/* 1 when the profile's rate limit holds the next request back: the wait
 * is scheduled (status shows "paced until"), no attempt counted. */
static int paced(cashback__sender *s) {
  const cashback__profile *p = s->profile;
  cashback__sender_state *S = &s->state;
  if (!p->pace_calls)
    return 0;
  int64_t now = cashback__wall_ms();
  int64_t next =
      cashback__pace_next_ms(&S->pace, p->pace_calls, p->pace_window_ms, now);
  if (next <= now)
    return 0;
  S->paced_until_ms = next;
  S->next_attempt_ms = next;
  S->retry_delay_ms = next - now;
  cashback__log(s->c, CASHBACK_LOG_INFO,
                "%s: %zu calls in the last %" PRId64
                " s, its rate limit; the next in %" PRId64 " ms",
                p->name, p->pace_calls, p->pace_window_ms / 1000, next - now);
  save_state(s);
  return 1;
}

/* Sends one built request (`req`, not local) by the deadline. Status shows
 * that an attempt is in flight, and since when (a network that accepts and
 * never answers looks like success otherwise); a paced profile counts it
 * in its window. */
static cashback_status send_request(cashback__sender *s,
                                    const cashback__prequest *req,
                                    int64_t mono_deadline_ms,
                                    cashback__http_response *resp) {
  s->state.in_flight_since = cashback__wall_ms();
  if (s->profile->pace_calls) {
    cashback__pace_record(&s->state.pace, s->profile->pace_calls,
                          s->state.in_flight_since);
    s->state.paced_until_ms = 0;
  }
  save_state(s);
  const char *lines[CASHBACK__PROFILE_HEADERS];
  for (size_t i = 0; i < req->n_headers; i++)
    lines[i] = req->headers[i];
  cashback_status st = cashback__http_send_by(
      s->http, req->method, req->url, lines, req->n_headers, req->body.data,
      req->body.len, mono_deadline_ms, resp);
  s->state.in_flight_since = 0;
  save_state(s);
  return st;
}

cashback__step cashback__sender_step(cashback__sender *s, int64_t *wait_ms) {
  return cashback__sender_step_by(s, 0, wait_ms);
}

/* The CLOCK_REALTIME time `ms` milliseconds from now (0 when `ms` < 0), the
 * absolute timeout pthread_mutex_timedlock() and pthread_cond_timedwait()
 * take. */
static struct timespec realtime_after(int64_t ms) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  if (ms < 0)
    ms = 0;
  ts.tv_sec += (time_t)(ms / 1000);
  ts.tv_nsec += (long)(ms % 1000) * 1000000L;
  if (ts.tv_nsec >= 1000000000L) {
    ts.tv_sec++;
    ts.tv_nsec -= 1000000000L;
  }
  return ts;
}

/* Takes the step lock, by the deadline when there is one (a flush must not
 * wait out the sender thread's request); 0 when taken. */
static int lock_step_raw(cashback__sender *s, int64_t mono_deadline_ms) {
  if (mono_deadline_ms <= 0)
    return pthread_mutex_lock(&s->step_lock);
  struct timespec ts = realtime_after(mono_deadline_ms - cashback__mono_ms());
  return pthread_mutex_timedlock(&s->step_lock, &ts);
}

static int lock_step(cashback__sender *s, int64_t mono_deadline_ms) {
  int rc = lock_step_raw(s, mono_deadline_ms);
  if (rc == 0)
    cashback__fork_owner_set(&s->step_owner);
  return rc;
}

static void unlock_step(cashback__sender *s) {
  cashback__fork_owner_clear(&s->step_owner);
  pthread_mutex_unlock(&s->step_lock);
}

/* One step's working set: the records collected, what is sent of them, and
 * the answer. Freed by step_free(). */
typedef struct step_ctx {
  cashback__sender *s;
  int64_t deadline;          /* CLOCK_MONOTONIC ms; 0: none */
  int64_t now_ms;            /* wall ms the step began at */
  size_t n;                  /* records collected */
  cashback__result *results; /* per record: its id */
  unsigned char *resolved;   /* per record: settled, the cursor passes it */
  const char **texts;        /* per record: the event; NULL: not to send */
  size_t *lens;
  size_t valid;           /* events to send */
  size_t invalid_unsaved; /* records that are not events, not stored */
  /* The request: `valid` events, each id once. */
  size_t *map;          /* sent entry -> its first record */
  size_t *rep;          /* record -> the sent entry settling it; SIZE_MAX */
  unsigned char *qdone; /* per sent entry: what settling did (SETTLED_*) */
  const char **send_texts;
  size_t *send_lens;
  cashback__result *send_results;
  int probe;               /* this request is a probe */
  int linger;              /* the thread's step: a batch may wait to fill */
  uint64_t reports_before; /* with linger: the sender's `reports` before */
  int64_t linger_left;     /* STEP_LINGER: ms the batch may wait still */
  cashback_status posted;
  int64_t budget; /* the time the request was given, ms */
  const char *url;
  char ex[200];           /* an excerpt of the answer's body */
  cashback__prequest req; /* as the profile built it */
  cashback__http_response resp;
} step_ctx;

/* What settling did with a sent entry, once per event (all its copies). */
enum {
  SETTLED_NOT_YET = 0,
  SETTLED_QUARANTINED,  /* rejected, in the quarantine */
  SETTLED_UNSAVED,      /* rejected, the quarantine could not be written */
  SETTLED_DEFERRED,     /* "retry", in the deferred list */
  SETTLED_UNDEFERRED,   /* "retry", could not be deferred: stays queued */
  SETTLED_EXPIRED,      /* "retry", undeferrable and past followup_wait:
                           in the quarantine */
  SETTLED_DEFER_UNSAVED /* deferred, but the list could not be saved */
};

static void step_free(step_ctx *x) {
  free(x->map);
  free(x->rep);
  free(x->qdone);
  free(x->send_texts);
  free(x->send_lens);
  free(x->send_results);
  cashback__http_response_free(&x->resp);
  cashback__prequest_free(&x->req);
  free(x->results);
  free(x->resolved);
  free(x->texts);
  free(x->lens);
}

/* Makes the HTTP transport again (after a fork). */
static cashback_status renew_http(cashback__sender *s) {
  cashback__http_config hc;
  cashback__client_http_config(s->c, &hc);
  cashback__http *h = NULL;
  cashback_status st = cashback__http_new(&hc, &h);
  if (st != CASHBACK_OK) {
    cashback__fail(s->c, st, "sender: cannot set up the HTTP transport");
    return st;
  }
  /* Replaced under s->mu too: stop() reads it there to cut a request at
   * its deadline, and one already stopping cuts this one. */
  pthread_mutex_lock(&s->mu);
  s->http = h;
  if (s->stopping)
    cashback__http_abort_at(h, s->stop_deadline_ms);
  pthread_mutex_unlock(&s->mu);
  return CASHBACK_OK;
}

/* Takes sender.lock, reads the state under it, and sends the deferred
 * events that are due. -1: go on to the spool's events. */
static int step_begin(step_ctx *x) {
  cashback__sender *s = x->s;
  char lockerr[CASHBACK_ERROR_MAX + 1] = "";
  cashback_status st =
      cashback__spool_take_sender(s->spool, lockerr, sizeof(lockerr));
  if (st == CASHBACK_E_BUSY) {
    s->state_loaded = 0; /* another process owns the state now */
    s->deferred_loaded = 0;
    return CASHBACK__STEP_BUSY;
  }
  if (st != CASHBACK_OK) {
    cashback__fail_spool(s->c, st, "cannot take the sender lock: %s", lockerr);
    return CASHBACK__STEP_ERROR;
  }
  cashback__spool_ok(s->c);
  uint64_t gen = cashback__spool_sender_gen(s->spool);
  if (gen != s->lock_gen) { /* a new acquisition: nothing read is valid */
    s->lock_gen = gen;
    s->state_loaded = 0;
    s->deferred_loaded = 0;
    s->deferred_broken = 0;
  }
  if (!gen) /* lost again at once (a directory reopen) */
    return CASHBACK__STEP_BUSY;
  if (!s->http && renew_http(s) != CASHBACK_OK)
    return CASHBACK__STEP_ERROR;
  if (!s->state_loaded)
    load_state(s);
  if (!s->deferred_loaded)
    load_deferred(s);
  x->now_ms = cashback__wall_ms();
  clamp_retry(s, x->now_ms);
  if (s->state.next_attempt_ms > x->now_ms)
    return CASHBACK__STEP_WAIT;
  /* (Deferred events too are sent only with time for a request left.) */
  int sent_deferred =
      x->deadline <= 0 || x->deadline - cashback__mono_ms() >= MIN_ATTEMPT_MS
          ? deferred_step(s, x->now_ms, x->deadline)
          : 0;
  if (sent_deferred > 0)
    return CASHBACK__STEP_SENT;
  if (sent_deferred < 0) /* paused */
    return CASHBACK__STEP_WAIT;
  return -1;
}

/* Counts and logs what the collection met besides events. */
static void note_collection(cashback__sender *s, cashback_status st) {
  /* Order across processes without `seq` is the wall clock's: said once
   * when it starts (and when the reason changes), not every round. */
  char why[sizeof(s->seq_problem)];
  if (cashback__spool_seq_problem(s->spool, why, sizeof(why)) != 0) {
    if (strcmp(why, s->seq_problem) != 0)
      cashback__log(s->c, CASHBACK_LOG_WARN, "spool: %s", why);
    memcpy(s->seq_problem, why, sizeof(why));
  } else {
    s->seq_problem[0] = '\0';
  }
  if (s->batch.corrupt_regions) {
    s->state.corrupt += s->batch.corrupt_regions;
    cashback__log(s->c, CASHBACK_LOG_ERROR,
                  "spool %s: skipped %" PRIu64 " damaged region(s), %" PRIu64
                  " bytes",
                  cashback__spool_dir(s->spool), s->batch.corrupt_regions,
                  s->batch.corrupt_bytes);
    save_state(s);
  }
  if (s->batch.read_errors) {
    /* Left as it was, read again next time; the rest goes on. */
    s->state.read_errors += s->batch.read_errors;
    snprintf(s->state.read_error, sizeof(s->state.read_error), "%s",
             s->batch.read_problem);
    cashback__log(s->c, CASHBACK_LOG_ERROR,
                  "spool: %" PRIu64 " segment read(s) failed, kept for the "
                  "next round: %s",
                  s->batch.read_errors, s->batch.read_problem);
    save_state(s);
  } else if (s->state.read_errors && st == CASHBACK_OK) {
    /* Read without an error again: the count is of the failures since
     * the last collection that had none, so a transient EIO does not
     * leave doctor warning for good. */
    s->state.read_errors = 0;
    s->state.read_error[0] = '\0';
    save_state(s);
  }
  if (s->batch.unreadable) {
    /* Skipped and left alone; logged when it changes, not every round. */
    if (strcmp(s->spool_problem, s->batch.problem) != 0)
      cashback__log(s->c, CASHBACK_LOG_ERROR,
                    "spool: skipped %" PRIu64 " file(s) that cannot be read: "
                    "%s",
                    s->batch.unreadable, s->batch.problem);
    snprintf(s->spool_problem, sizeof(s->spool_problem), "%s",
             s->batch.problem);
  } else {
    s->spool_problem[0] = '\0';
  }
}

/* The linger (cashback_options_set_linger): a step of the thread that
 * collected a batch short of a full request holds it back, untouched (read
 * again by the next step), so that the reports still arriving go in the
 * same request; at most `linger` ms from when a step first held one back,
 * and never longer than that past the oldest record's report (a backlog
 * found goes at once). A flush (its steps have no `linger`), a probe and a
 * full batch do not wait. STEP_LINGER, with `linger_left` and what fills
 * the batch for the thread's wait; -1: go on. */
static int step_linger(step_ctx *x) {
  cashback__sender *s = x->s;
  const cashback__batch *b = &s->batch;
  int64_t linger = s->c->opts.linger_ms;
  size_t n = b->n, limit = s->batch_limit;
  size_t need = limit > n ? limit - n : 0;
  if (n) { /* records of this batch's mean size that still fit */
    size_t mean = b->data.len / n + 1, cap = s->c->opts.batch_max_bytes;
    size_t room = cap > b->data.len ? (cap - b->data.len) / mean : 0;
    need = room < need ? room : need;
  }
  if (!x->linger || linger <= 0 || n == 0 || s->probe || need == 0) {
    s->linger_since = 0;
    return -1;
  }
  int64_t now = cashback__mono_ms();
  if (!s->linger_since)
    s->linger_since = now;
  int64_t left = s->linger_since + linger - now, oldest = b->items[0].time_ms;
  for (size_t i = 1; i < n; i++)
    oldest = b->items[i].time_ms < oldest ? b->items[i].time_ms : oldest;
  int64_t by_age = oldest + linger - x->now_ms;
  left = by_age < left ? by_age : left;
  if (left <= 0) {
    s->linger_since = 0;
    return -1;
  }
  x->linger_left = left;
  pthread_mutex_lock(&s->mu);
  s->linger_mark = x->reports_before;
  s->linger_need = need;
  pthread_mutex_unlock(&s->mu);
  return CASHBACK__STEP_LINGER;
}

/* Collects a batch from the spool and quarantines the records in it that
 * are not events. -1: go on. */
static int step_collect(step_ctx *x) {
  cashback__sender *s = x->s;
  cashback__spool_usage_refresh(s->spool); /* at most once a second */
  cashback_status st = cashback__spool_collect(
      s->spool, s->probe ? PROBE_COLLECT : s->batch_limit, &s->batch);
  if (st == CASHBACK_OK && step_linger(x) >= 0)
    return CASHBACK__STEP_LINGER; /* noted by the step that sends it */
  note_collection(s, st);
  if (st != CASHBACK_OK) {
    cashback__fail_spool(s->c, st, "spool %s: cannot read",
                         cashback__spool_dir(s->spool));
    return CASHBACK__STEP_ERROR;
  }
  size_t n = x->n = s->batch.n;
  if (n == 0)
    return CASHBACK__STEP_IDLE;
  x->results = calloc(n, sizeof(*x->results));
  x->resolved = calloc(n, 1);
  x->texts = calloc(n, sizeof(*x->texts));
  x->lens = calloc(n, sizeof(*x->lens));
  if (!x->results || !x->resolved || !x->texts || !x->lens) {
    cashback__fail(s->c, CASHBACK_E_NOMEM, "sender: out of memory");
    return CASHBACK__STEP_ERROR;
  }
  for (size_t i = 0; i < n; i++) {
    const cashback__batch_item *it = &s->batch.items[i];
    const char *p = s->batch.data.data + it->off;
    x->texts[i] = p;
    x->lens[i] = it->len;
    if (!payload_id(p, it->len, x->results[i].id)) {
      /* Not an event we wrote: keep it, out of the way. */
      snprintf(x->results[i].id, sizeof(x->results[i].id), "unknown");
      if (quarantine_item(s, i, "unknown", "invalid_record",
                          "spool record is not an event", 0) == 0)
        x->resolved[i] = 1;
      else
        x->invalid_unsaved++;
      x->texts[i] = NULL;
      continue;
    }
    x->valid++;
  }
  return -1;
}

/* The per-order barrier (docs/reliability.md, section 13): an event of an
 * order that has a deferred event goes behind it into the deferred list,
 * due once the earlier ones are settled, instead of to the network before
 * it. When that cannot be done, nothing is sent: back off. -1: go on. */
static int step_order_barrier(step_ctx *x) {
  cashback__sender *s = x->s;
  size_t n = x->n, norders = 0, before = s->deferred.n, nb = 0;
  const char **orders = cashback__deferred_orders(&s->deferred, &norders);
  char(*bo)[CASHBACK_ID_MAX + 1] = calloc(n, sizeof(*bo));
  size_t *bi = calloc(n, sizeof(*bi));
  cashback_status bst = orders && bo && bi ? CASHBACK_OK : CASHBACK_E_NOMEM;
  for (size_t i = 0; bst == CASHBACK_OK && i < n; i++) {
    if (!x->texts[i] ||
        !cashback__deferred_event_order(x->texts[i], x->lens[i], bo[nb]))
      continue;
    int has = cashback__deferred_orders_has(orders, norders, bo[nb]);
    for (size_t j = 0; !has && j < nb; j++)
      has = strcmp(bo[j], bo[nb]) == 0;
    if (has)
      bi[nb++] = i;
  }
  free(orders); /* it points into the list, which the adds may move */
  for (size_t k = 0; bst == CASHBACK_OK && k < nb; k++) {
    size_t i = bi[k];
    char msg[CASHBACK_ID_MAX + 64];
    snprintf(msg, sizeof(msg), "behind a deferred event of order %s", bo[k]);
    if (cashback__deferred_find(&s->deferred, x->results[i].id) >=
        s->deferred.n)
      bst = cashback__deferred_add(&s->deferred, x->results[i].id, x->texts[i],
                                   x->lens[i], x->now_ms, x->now_ms, "", msg);
  }
  if (bst == CASHBACK_OK && s->deferred.n > before && save_deferred(s) != 0)
    bst = CASHBACK_E_IO;
  int result = -1;
  if (bst != CASHBACK_OK) {
    cashback__deferred_truncate(&s->deferred, before);
    schedule_retry(s, bst, -1,
                   "spool %s: event %s of order %s cannot wait behind its "
                   "order's deferred events (%s); nothing is sent before "
                   "them, sending backs off",
                   cashback__spool_dir(s->spool),
                   nb ? x->results[bi[0]].id : "?", nb ? bo[0] : "?",
                   cashback_strerror(bst));
    result = CASHBACK__STEP_WAIT;
  } else {
    for (size_t k = 0; k < nb; k++) {
      x->resolved[bi[k]] = 1;
      x->texts[bi[k]] = NULL;
      x->valid--;
    }
    if (nb)
      cashback__log(s->c, CASHBACK_LOG_INFO,
                    "%zu events wait behind deferred events of their order "
                    "(first %s, order %s)",
                    nb, x->results[bi[0]].id, bo[0]);
  }
  free(bo);
  free(bi);
  return result;
}

/* Nothing to send: the cursor passes the records settled already. */
static int step_nothing_to_send(step_ctx *x) {
  cashback__sender *s = x->s;
  cashback_status acked = ack_batch(s, x->resolved);
  if (acked == CASHBACK_OK)
    return CASHBACK__STEP_SENT; /* invalid_unsaved: the back-off at the end */
  schedule_retry(s, acked, -1,
                 "spool %s: cannot move the cursor past records that are "
                 "not events",
                 cashback__spool_dir(s->spool));
  return CASHBACK__STEP_WAIT;
}

/* 1 when record i goes in the request: with a probe (section 7 of
 * docs/protocol.md) the batch's first event is held back and the next one
 * of another order goes alone (an event of the head's own order, its
 * cancel say, must not go before it). */
static int probe_takes(step_ctx *x, size_t i, const char *head_id,
                       const char *head_order, int head_has_order, size_t k) {
  char order[CASHBACK_ID_MAX + 1];
  if (strcmp(x->results[i].id, head_id) == 0 || k == 1)
    return 0;
  /* A head without an order id: nothing is known to be of another order,
   * so nothing probes. */
  return head_has_order &&
         cashback__deferred_event_order(x->texts[i], x->lens[i], order) &&
         strcmp(order, head_order) != 0;
}

/* Picks the events to send: those with an id, each id once (a reloaded
 * page may spool one event twice; every copy is settled by the one answer),
 * or the one a probe sends. -1: go on. */
static int step_pick(step_ctx *x) {
  cashback__sender *s = x->s;
  size_t n = x->n, valid = x->valid;
  x->map = calloc(valid, sizeof(*x->map));
  x->rep = calloc(n, sizeof(*x->rep));
  x->qdone = calloc(valid, 1);
  x->send_texts = calloc(valid, sizeof(*x->send_texts));
  x->send_lens = calloc(valid, sizeof(*x->send_lens));
  x->send_results = calloc(valid, sizeof(*x->send_results));
  if (!x->map || !x->rep || !x->qdone || !x->send_texts || !x->send_lens ||
      !x->send_results) {
    cashback__fail(s->c, CASHBACK_E_NOMEM, "sender: out of memory");
    return CASHBACK__STEP_ERROR;
  }
  x->probe = s->probe;
  s->probe = 0;
  const char *head_id = NULL;
  char head_order[CASHBACK_ID_MAX + 1] = "";
  int head_has_order = 0;
  size_t k = 0;
  for (size_t i = 0; i < n; i++) {
    x->rep[i] = SIZE_MAX;
    if (!x->texts[i])
      continue;
    if (!head_id) {
      head_id = x->results[i].id;
      if (x->probe)
        head_has_order =
            cashback__deferred_event_order(x->texts[i], x->lens[i], head_order);
    }
    if (x->probe && !probe_takes(x, i, head_id, head_order, head_has_order, k))
      continue;
    size_t j = 0;
    while (j < k && strcmp(x->send_results[j].id, x->results[i].id) != 0)
      j++;
    x->rep[i] = j;
    if (j < k)
      continue; /* a copy of an event already in the request */
    x->map[k] = i;
    x->send_texts[k] = x->texts[i];
    x->send_lens[k] = x->lens[i];
    x->send_results[k] = x->results[i];
    k++;
  }
  x->valid = k;
  if (k == 0) {
    /* A probe with no other event to send: nothing proves the path. */
    path_fault(s, s->state.path_fault ? s->state.path_fault : 400, "POST",
               s->c->opts.endpoint,
               "no event of another order to probe the path with");
    return CASHBACK__STEP_WAIT;
  }
  return -1;
}

/* The request covers the first `k` events picked (a profile may take fewer):
 * the others are left as a probe leaves those it holds back, unsent and
 * unsettled, for the next step. */
static void narrow(step_ctx *x, size_t k) {
  if (k >= x->valid)
    return;
  for (size_t i = 0; i < x->n; i++)
    if (x->rep[i] != SIZE_MAX && x->rep[i] >= k)
      x->rep[i] = SIZE_MAX;
  x->valid = k;
}

/* Posts the request the profile builds, by the deadline: never started
 * without time for it, and given no more than the time left. -1: answered,
 * failed or settled by the profile, go on. */
static int step_post(step_ctx *x) {
  cashback__sender *s = x->s;
  x->url = s->c->opts.endpoint;
  x->budget = s->c->opts.total_timeout_ms;
  int64_t left =
      x->deadline > 0 ? x->deadline - cashback__mono_ms() : x->budget;
  if (left < x->budget)
    x->budget = left;
  if (x->deadline > 0 && left < MIN_ATTEMPT_MS) {
    /* As when the next retry is due after the deadline: the last
     * attempt's failure, if any, says why events remain. */
    if (s->state.last_status != CASHBACK_OK)
      cashback__fail(s->c, s->state.last_status, "%s", s->state.last_error);
    else
      cashback__fail(s->c, CASHBACK_E_TIMEOUT,
                     "events remain: no time left for a request before "
                     "the deadline");
    return CASHBACK__STEP_DEADLINE;
  }
  cashback_status st = build_request(s, x->send_texts, x->send_lens,
                                     x->send_results, x->valid, &x->req);
  if (st != CASHBACK_OK) {
    cashback__fail(s->c, st, "sender: cannot build a batch of %zu events",
                   x->valid);
    return CASHBACK__STEP_ERROR;
  }
  narrow(x, x->req.n);
  x->url = x->req.url;
  if (x->req.local)
    return -1; /* settled by the profile: nothing to send */
  if (paced(s))
    return CASHBACK__STEP_WAIT;
  x->posted = send_request(s, &x->req, x->deadline, &x->resp);
  excerpt(&x->resp.body, x->ex, sizeof(x->ex));
  return -1;
}

/* What settling a 200's results did, in counts. */
typedef struct settle_tally {
  size_t delivered, rejected, pending, unsaved;
  size_t deferred, deferred_before, undeferred;
  cashback_status defer_st; /* why the first undeferred one could not be */
  const char *undeferred_id;
} settle_tally;

/* Settles record i by the result of its sent entry j: delivered,
 * quarantined or deferred (once per event, whatever its copies). */
static void settle_record(step_ctx *x, size_t i, size_t j, settle_tally *t) {
  cashback__sender *s = x->s;
  const cashback__result *r = &x->send_results[j];
  unsigned char *q = &x->qdone[j];
  switch (r->outcome) {
  case CASHBACK__OUTCOME_ACCEPTED:
  case CASHBACK__OUTCOME_DUPLICATE:
    cashback__ledger_settled(s->c, s->spool, x->texts[i], x->lens[i],
                             x->now_ms); /* never fails the event */
    x->resolved[i] = 1;
    t->delivered++;
    break;
  case CASHBACK__OUTCOME_REJECTED:
    if (!*q)
      *q = quarantine_item(s, i, r->id, r->reason[0] ? r->reason : "other",
                           r->message, x->resp.status) == 0
               ? SETTLED_QUARANTINED
               : SETTLED_UNSAVED;
    if (*q == SETTLED_QUARANTINED) {
      x->resolved[i] = 1;
      t->rejected++;
    } else {
      t->unsaved++;
    }
    break;
  case CASHBACK__OUTCOME_RETRY:
    /* Not now (a follow-up before its sale): out of the spool's way, into
     * the deferred list. */
    if (!*q) {
      cashback_status ds = defer_item(s, i, r, x->now_ms);
      *q = ds == CASHBACK_OK                            ? SETTLED_DEFERRED
           : expire_undeferred(s, i, r, x->now_ms) == 0 ? SETTLED_EXPIRED
                                                        : SETTLED_UNDEFERRED;
      if (*q == SETTLED_UNDEFERRED && t->defer_st == CASHBACK_OK) {
        t->defer_st = ds;
        t->undeferred_id = r->id;
      }
    }
    if (*q == SETTLED_DEFERRED) {
      x->resolved[i] = 1;
      t->deferred++;
    } else if (*q == SETTLED_EXPIRED) {
      x->resolved[i] = 1;
      t->rejected++;
    } else {
      t->pending++;
      t->undeferred++;
    }
    break;
  case CASHBACK__OUTCOME_PENDING:
    t->pending++;
    break;
  }
}

/* The deferred list could not be saved: the events deferred this step are
 * not (the cursor must not pass them); those past followup_wait go to the
 * quarantine instead. */
static void undo_deferrals(step_ctx *x, settle_tally *t) {
  cashback__sender *s = x->s;
  cashback__deferred_truncate(&s->deferred, t->deferred_before);
  for (size_t i = 0; i < x->n; i++) {
    size_t j = x->rep[i];
    if (j == SIZE_MAX || (x->qdone[j] != SETTLED_DEFERRED &&
                          x->qdone[j] != SETTLED_DEFER_UNSAVED))
      continue;
    if (x->qdone[j] == SETTLED_DEFERRED) /* once per event */
      x->qdone[j] = expire_undeferred(s, i, &x->send_results[j], x->now_ms) == 0
                        ? SETTLED_EXPIRED
                        : SETTLED_DEFER_UNSAVED;
    if (x->qdone[j] == SETTLED_EXPIRED) {
      t->rejected++;
      continue;
    }
    x->resolved[i] = 0;
    t->pending++;
    t->undeferred++;
    if (!t->undeferred_id)
      t->undeferred_id = x->send_results[j].id;
  }
  t->defer_st = CASHBACK_E_IO;
  t->deferred = 0;
}

/* Settled records behind an unsettled one of their segment; `*holder` is
 * the first unsettled one. Those hold the cursor there: the settled ones
 * would go again at once, the unsettled one with them, in a loop. (The
 * events a probe holds back are not sent, and its next step settles them.) */
static size_t held_back(step_ctx *x, const char **holder) {
  size_t held = 0, nsegs = x->s->batch.nsegs;
  *holder = NULL;
  unsigned char *seg_held = calloc(nsegs ? nsegs : 1, 1);
  for (size_t i = 0; seg_held && i < x->n; i++) {
    size_t g = x->s->batch.items[i].seg;
    if (g >= nsegs)
      continue;
    if (!x->resolved[i]) {
      if (x->texts[i] && x->rep[i] == SIZE_MAX)
        continue; /* held back by the probe */
      if (!seg_held[g] && !*holder)
        *holder = x->results[i].id;
      seg_held[g] = 1;
    } else if (seg_held[g]) {
      held++;
    }
  }
  free(seg_held);
  return held;
}

/* After the cursor moved: what comes next, by what settling could not do. */
static int settle_next(step_ctx *x, const settle_tally *t,
                       cashback_status acked, size_t held, const char *holder) {
  cashback__sender *s = x->s;
  if (acked != CASHBACK_OK) {
    /* The same events would go again at once: not in a loop. */
    schedule_retry(s, acked, -1,
                   "spool %s: cannot move the cursor past %zu settled "
                   "events; they will be sent again",
                   cashback__spool_dir(s->spool), t->delivered + t->rejected);
  } else if (t->unsaved || x->invalid_unsaved) {
    /* A full disk: the same events would be answered again at once. */
    schedule_retry(s, CASHBACK_E_IO, -1,
                   "spool %s: cannot write the quarantine; %zu rejected "
                   "events and %zu records that are not events kept in "
                   "the spool",
                   cashback__spool_dir(s->spool), t->unsaved,
                   x->invalid_unsaved);
    x->invalid_unsaved = 0; /* said */
  } else if (t->undeferred) {
    /* "Retry" for an event that cannot be deferred: it stays at the head
     * of its segment; asking again at once would loop. */
    cashback_status why =
        t->defer_st != CASHBACK_OK ? t->defer_st : CASHBACK_E_IO;
    schedule_retry(s, why, -1,
                   "spool %s: the network asked for %zu events later "
                   "(first %s), but they cannot be deferred (%s); they "
                   "stay queued and sending backs off until followup_wait "
                   "has passed for them",
                   cashback__spool_dir(s->spool), t->undeferred,
                   t->undeferred_id ? t->undeferred_id : "?",
                   cashback_strerror(why));
  } else if (held) {
    schedule_retry(s, CASHBACK_E_PROTOCOL, -1,
                   "%s %s: the answer left event %s unsettled ahead of "
                   "%zu settled events of its segment; they go again "
                   "after a back-off",
                   x->req.method, x->url, holder ? holder : "?", held);
  } else if (t->delivered + t->rejected + t->deferred > 0) {
    record_success(s);
    return CASHBACK__STEP_SENT;
  } else {
    schedule_retry(s, CASHBACK_E_PROTOCOL, -1,
                   "%s %s: the answer settled none of %zu events",
                   x->req.method, x->url, x->valid);
  }
  return CASHBACK__STEP_WAIT;
}

/* A 200 with results: settles every record by its event's outcome, moves
 * the cursor past the settled ones, and says what comes next. */
static int settle_results(step_ctx *x) {
  cashback__sender *s = x->s;
  settle_tally t = {0};
  t.deferred_before = s->deferred.n;
  for (size_t i = 0; i < x->n; i++)
    if (x->rep[i] != SIZE_MAX)
      settle_record(x, i, x->rep[i], &t);
  /* The deferred list is on disk before the cursor moves past them. */
  if (t.deferred && s->deferred.n > t.deferred_before && save_deferred(s) != 0)
    undo_deferrals(x, &t);
  /* The endpoint settled events: whatever 4xx came before were about
   * events, not the path. */
  if (t.delivered + t.rejected + t.deferred > 0) {
    if (s->state.fault_streak)
      s->state.fault_accepted = 1;
    s->state.path_fault = 0;
  }
  const char *holder = NULL;
  size_t held = held_back(x, &holder);
  cashback_status acked = ack_batch(s, x->resolved);
  cashback__log(s->c, CASHBACK_LOG_INFO,
                "sent %zu events: %zu delivered, %zu quarantined, %zu "
                "deferred, %zu to send again",
                x->valid, t.delivered, t.rejected, t.deferred,
                t.pending + t.unsaved);
  return settle_next(x, &t, acked, held, holder);
}

/* A batch-level 4xx (decided: split, probe, quarantine or path fault). */
static int settle_4xx(step_ctx *x, const cashback__decision *d) {
  cashback__sender *s = x->s;
  cashback__sender_state *S = &s->state;
  long code = x->resp.status;
  const char *id = x->send_results[0].id;
  if (d->next == CASHBACK__NEXT_PATH_FAULT) {
    path_fault(s, code, x->req.method, x->url, x->ex);
    return CASHBACK__STEP_WAIT;
  }
  if (d->next == CASHBACK__NEXT_SPLIT) {
    /* One bad event must not hold the others back: halve until alone. */
    s->batch_limit = d->batch_limit;
    cashback__log(s->c, CASHBACK_LOG_WARN,
                  "%s %s: HTTP %ld for %zu events; retrying in batches "
                  "of %zu",
                  x->req.method, x->url, code, x->valid, s->batch_limit);
    save_state(s);
    return CASHBACK__STEP_SENT;
  }
  if (d->next == CASHBACK__NEXT_PROBE) {
    /* Alone, and nothing settled since the streak began: send the next
     * event alone to tell a bad event from a bad path. */
    s->probe = 1;
    cashback__log(s->c, CASHBACK_LOG_WARN,
                  "%s %s: HTTP %ld for event %s alone; probing the path "
                  "with the next event",
                  x->req.method, x->url, code, id);
    save_state(s);
    return CASHBACK__STEP_SENT;
  }
  char reason[32];
  snprintf(reason, sizeof(reason), "http_%ld", code);
  int saved = quarantine_item(s, x->map[0], id, reason, x->ex, code) == 0;
  for (size_t i = 0; saved && i < x->n; i++)
    if (x->rep[i] == 0)
      x->resolved[i] = 1;
  cashback_status acked = saved ? ack_batch(s, x->resolved) : CASHBACK_E_IO;
  if (acked != CASHBACK_OK) {
    schedule_retry(s, acked, -1,
                   "%s %s: HTTP %ld for event %s; %s, it stays in the "
                   "spool",
                   x->req.method, x->url, code, id,
                   saved ? "cannot move the cursor past it"
                         : "cannot write the quarantine");
    return CASHBACK__STEP_WAIT;
  }
  S->fault_streak = 0; /* the bad event is found */
  S->fault_accepted = 0;
  save_state(s);
  return CASHBACK__STEP_SENT;
}

/* A retry the decision asked for: the backoff, and why. */
static void settle_retry(step_ctx *x, const cashback__decision *d) {
  cashback__sender *s = x->s;
  const char *url = x->url, *m = x->req.method;
  switch (d->cause) {
  case CASHBACK__CAUSE_DEADLINE:
    if (x->deadline > 0)
      schedule_retry(s, d->status, -1,
                     "%s %s: no answer within the %" PRId64
                     " ms left before the deadline (request_timeout %" PRId64
                     " ms): the network is not answering in time",
                     m, url, x->budget, s->c->opts.total_timeout_ms);
    else
      schedule_retry(s, d->status, -1,
                     "%s %s: no answer yet when the sender was stopped", m,
                     url);
    break;
  case CASHBACK__CAUSE_TRANSPORT:
    schedule_retry(s, d->status, -1, "%s %s: %s", m, url,
                   x->resp.error[0] ? x->resp.error : "transport error");
    break;
  case CASHBACK__CAUSE_NO_RESULTS:
    schedule_retry(s, d->status, -1,
                   "%s %s: HTTP 200 without valid results: %s", m, url, x->ex);
    break;
  default:
    schedule_retry(s, d->status, d->retry_after_ms, "%s %s: HTTP %ld%s%s", m,
                   url, x->resp.status, x->ex[0] ? ": " : "", x->ex);
    break;
  }
}

/* Decides what the answer means (cashback_decide.c) and acts on it. */
static int step_settle(step_ctx *x) {
  cashback__sender *s = x->s;
  cashback__sender_state *S = &s->state;
  const cashback__http_response *resp = &x->resp;
  if (x->req.local) /* the profile settled them itself */
    return settle_results(x);
  cashback__answer a;
  cashback__answer_of(&a, x->posted, resp, cashback__wall_ms() / 1000);
  cashback__sent b = {x->send_results, x->valid, x->n, x->probe,
                      S->fault_streak ? S->fault_accepted : 0};
  cashback__decision d;
  classify(s, &x->req, &a, &b, &d);
  char who[CASHBACK_ID_MAX + 16];
  switch (d.next) {
  case CASHBACK__NEXT_SETTLE:
    return settle_results(x);
  case CASHBACK__NEXT_PAUSE:
    schedule_pause(s,
                   "%s %s: HTTP %ld: the network refused %s; sending "
                   "is paused, nothing is dropped: %s",
                   x->req.method, x->url, resp->status,
                   refused(s, &x->req, who, sizeof(who)), x->ex);
    return CASHBACK__STEP_WAIT;
  case CASHBACK__NEXT_RETRY:
    /* Results that settle none still move the cursor past the records
     * settled before the request (not events, behind a deferred one). */
    if (d.cause == CASHBACK__CAUSE_SETTLED_NONE)
      return settle_results(x);
    settle_retry(x, &d);
    return CASHBACK__STEP_WAIT;
  default: /* a batch-level 4xx: a new streak, or one more in it */
    if (S->fault_streak == 0)
      S->fault_accepted = 0;
    if (S->fault_streak < 1000000)
      S->fault_streak++;
    return settle_4xx(x, &d);
  }
}

/* The end of every step: a back-off for what could not be stored, the
 * wait, and the state no longer in flight. */
static cashback__step step_finish(step_ctx *x, cashback__step result,
                                  int64_t *wait_ms) {
  cashback__sender *s = x->s;
  if (x->invalid_unsaved && result == CASHBACK__STEP_SENT) {
    /* Tried again at once, it would fail again at once: a hot loop. */
    schedule_retry(s, CASHBACK_E_IO, -1,
                   "spool %s: cannot write the quarantine; %zu records that "
                   "are not events kept in the spool",
                   cashback__spool_dir(s->spool), x->invalid_unsaved);
    result = CASHBACK__STEP_WAIT;
  }
  if (result == CASHBACK__STEP_WAIT)
    *wait_ms = s->state.next_attempt_ms - cashback__wall_ms();
  if (*wait_ms < 0)
    *wait_ms = 0;
  if (s->saved_in_flight) { /* a branch above did not save the state */
    s->state.in_flight_since = 0;
    save_state(s);
  }
  /* the quarantine's names are read again next step */
  cashback__quarantine_seen_clear(&s->qseen);
  return result;
}

/* A step (see cashback__sender_step_by); `linger`: the thread's, which may
 * hold a batch back (step_linger). */
static cashback__step step_run(cashback__sender *s, int64_t mono_deadline_ms,
                               int linger, int64_t *wait_ms) {
  *wait_ms = 0;
  if (lock_step(s, mono_deadline_ms) != 0) {
    cashback__fail(s->c, CASHBACK_E_TIMEOUT,
                   "spool %s: the deadline came while this client's sender "
                   "thread had a request in flight",
                   cashback__spool_dir(s->spool));
    return CASHBACK__STEP_DEADLINE;
  }
  step_ctx x;
  memset(&x, 0, sizeof(x));
  x.s = s;
  x.deadline = mono_deadline_ms;
  x.linger = linger && mono_deadline_ms <= 0;
  x.posted = CASHBACK_OK;
  cashback__prequest_init(&x.req);
  cashback__http_response_init(&x.resp);
  /* Collect, pick, post, decide, settle: each says -1 to go on. */
  int r = step_begin(&x);
  if (r < 0 && x.linger) {
    pthread_mutex_lock(&s->mu); /* before the collection: counted twice at
                                   worst, which only ends a linger early */
    x.reports_before = s->reports;
    pthread_mutex_unlock(&s->mu);
  }
  if (r < 0)
    r = step_collect(&x);
  if (r < 0 && x.valid && s->deferred.n && s->deferred_loaded &&
      !s->deferred_broken)
    r = step_order_barrier(&x);
  if (r < 0 && x.valid == 0)
    r = step_nothing_to_send(&x);
  if (r < 0)
    r = step_pick(&x);
  if (r < 0)
    r = step_post(&x);
  if (r < 0)
    r = step_settle(&x);
  if (r == CASHBACK__STEP_LINGER)
    *wait_ms = x.linger_left;
  cashback__step result = step_finish(&x, (cashback__step)r, wait_ms);
  step_free(&x);
  unlock_step(s);
  return result;
}

cashback__step cashback__sender_step_by(cashback__sender *s,
                                        int64_t mono_deadline_ms,
                                        int64_t *wait_ms) {
  return step_run(s, mono_deadline_ms, 0, wait_ms);
}

cashback__step cashback__sender_step_linger(cashback__sender *s,
                                            int64_t *wait_ms) {
  return step_run(s, 0, 1, wait_ms);
}

/* --- Flush and the thread ---------------------------------------------- */

static void sleep_ms(int64_t ms) {
  if (ms <= 0)
    return;
  struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};
  while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
    ;
}

cashback_status cashback__sender_flush(cashback__sender *s,
                                       int64_t timeout_ms) {
  int64_t deadline = cashback__mono_ms() + (timeout_ms > 0 ? timeout_ms : 0);
  for (;;) {
    int64_t wait = 0;
    cashback__step r = cashback__sender_step_by(s, deadline, &wait);
    switch (r) {
    case CASHBACK__STEP_IDLE:
      return CASHBACK_OK;
    case CASHBACK__STEP_DEADLINE: { /* the step said why */
      char d[8];
      cashback_status st = cashback_client_last_error(s->c, d, sizeof(d));
      return st != CASHBACK_OK ? st : CASHBACK_E_TIMEOUT;
    }
    case CASHBACK__STEP_BUSY:
      return cashback__fail(s->c, CASHBACK_E_BUSY,
                            "spool %s: another sender is draining it",
                            cashback__spool_dir(s->spool));
    case CASHBACK__STEP_ERROR: {
      char d[8];
      cashback_status st = cashback_client_last_error(s->c, d, sizeof(d));
      return st != CASHBACK_OK ? st : CASHBACK_E_INTERNAL;
    }
    case CASHBACK__STEP_LINGER: /* not in a flush's steps */
    case CASHBACK__STEP_SENT:
      if (cashback__mono_ms() >= deadline)
        return cashback__fail(s->c, CASHBACK_E_TIMEOUT,
                              "flush: events remain after %" PRId64 " ms",
                              timeout_ms);
      break;
    case CASHBACK__STEP_WAIT: {
      if (lock_step(s, deadline) != 0)
        return cashback__fail(s->c, CASHBACK_E_TIMEOUT,
                              "flush: events remain after %" PRId64 " ms",
                              timeout_ms);
      cashback_status last = s->state.last_status;
      int paused = s->state.paused;
      unlock_step(s);
      if (paused)
        return CASHBACK_E_AUTH;
      /* A retry due with too little time left for its request is one this
       * flush will not make: it ends now, the retry scheduled. */
      if (cashback__mono_ms() + wait + MIN_ATTEMPT_MS > deadline)
        return last != CASHBACK_OK ? last : CASHBACK_E_TIMEOUT;
      sleep_ms(wait);
      break;
    }
    }
  }
}

/* Whether the reports since the lingering step's collection fill its
 * batch. Under s->mu. */
static int linger_filled(const cashback__sender *s) {
  return s->reports - s->linger_mark >= s->linger_need;
}

static void *thread_main(void *arg) {
  cashback__sender *s = arg;
  pthread_mutex_lock(&s->mu);
  while (!s->stopping) {
    pthread_mutex_unlock(&s->mu);
    int64_t wait = 0;
    cashback__step r = cashback__sender_step_linger(s, &wait);
    pthread_mutex_lock(&s->mu);
    int64_t delay;
    int wake_ok;    /* may a new report cut the wait short? */
    int filled = 0; /* lingering: may reports that fill the batch? */
    switch (r) {
    case CASHBACK__STEP_SENT:
      continue;
    case CASHBACK__STEP_LINGER:
      delay = wait;
      wake_ok = 0;
      filled = 1;
      break;
    case CASHBACK__STEP_WAIT:
      delay = wait;
      wake_ok = 0; /* no retry storm: reports wait for the backoff too */
      break;
    case CASHBACK__STEP_BUSY:
      delay = STANDBY_MS;
      wake_ok = 0;
      break;
    case CASHBACK__STEP_IDLE:
      delay = IDLE_POLL_MS;
      wake_ok = 1;
      break;
    default:
      delay = STANDBY_MS;
      wake_ok = 0;
      break;
    }
    int64_t until = cashback__mono_ms() + delay;
    if ((wake_ok && s->woken) || (filled && linger_filled(s))) {
      s->woken = 0;
      continue;
    }
    s->waiting = wake_ok  ? WAITING_REPORT
                 : filled ? WAITING_FULL
                          : WAITING_NONE;
    while (!s->stopping && cashback__mono_ms() < until &&
           !(wake_ok && s->woken) && !(filled && linger_filled(s))) {
      int64_t left = until - cashback__mono_ms();
      struct timespec ts = realtime_after(left > 1000 ? 1000 : left);
      pthread_cond_timedwait(&s->cv, &s->mu, &ts);
    }
    s->waiting = WAITING_NONE;
    s->woken = 0;
  }
  /* The final flush, bounded by the deadline stop() gave. */
  int64_t left = s->stop_deadline_ms - cashback__mono_ms();
  pthread_mutex_unlock(&s->mu);
  if (left > 0)
    cashback__sender_flush(s, left);
  cashback__spool_unlock_sender(s->spool);
  cashback__call_begin(s->c); /* drops this thread's last-error record */
  return NULL;
}

cashback_status cashback__sender_start(cashback__sender *s) {
  pthread_mutex_lock(&s->mu);
  cashback_status st = CASHBACK_OK;
  if (!s->running) {
    s->stopping = 0;
    s->woken = 1;
    if (pthread_create(&s->thread, NULL, thread_main, s) != 0) {
      st = CASHBACK_E_INTERNAL;
    } else {
      s->running = 1;
      s->thread_pid = getpid();
    }
  }
  pthread_mutex_unlock(&s->mu);
  return st;
}

cashback_status cashback__sender_stop(cashback__sender *s,
                                      int64_t flush_timeout_ms) {
  pthread_mutex_lock(&s->mu);
  if (s->running && s->thread_pid != getpid())
    s->running = 0; /* the parent's thread (a child without the hooks) */
  if (!s->running) {
    pthread_mutex_unlock(&s->mu);
    return CASHBACK_OK;
  }
  s->stopping = 1;
  s->stop_deadline_ms =
      cashback__mono_ms() + (flush_timeout_ms > 0 ? flush_timeout_ms : 0);
  /* A request in flight ends by the deadline too, not by its timeout. */
  cashback__http_abort_at(s->http, s->stop_deadline_ms);
  pthread_cond_broadcast(&s->cv);
  pthread_t t = s->thread;
  pthread_mutex_unlock(&s->mu);
  pthread_join(t, NULL);
  pthread_mutex_lock(&s->mu);
  cashback__http_abort_at(s->http, 0);
  s->running = 0;
  pthread_mutex_unlock(&s->mu);
  return CASHBACK_OK;
}

void cashback__sender_wake(cashback__sender *s) {
  pthread_mutex_lock(&s->mu);
  s->woken = 1;
  s->reports++;
  /* Only a wait this report ends: a wake per report costs the reporter and
   * the thread a context switch each under steady load. */
  if (s->waiting == WAITING_REPORT ||
      (s->waiting == WAITING_FULL && linger_filled(s)))
    pthread_cond_broadcast(&s->cv);
  pthread_mutex_unlock(&s->mu);
}
