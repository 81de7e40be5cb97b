/*
 * cashback_get_status(): what a client's spool holds and what its sender
 * last did, read from the spool's files (any process's sender), with every
 * text made printable.
 */
#include "cashback_backoff.h"
#include "cashback_client.h"
#include "cashback_deferred.h"
#include "cashback_quarantine.h"
#include "cashback_sender.h"
#include "cashback_ledger.h"
#include "cashback_sized.h"
#include "cashback_spool.h"
#include "cashback_text.h"
#include "cashback_time.h"

#include <stdio.h>
#include <string.h>

/* A text field of the status made printable in place (cashback_text.h):
 * it holds the configured spool path and what the spool's files say. */
static void shown(char *field, size_t size) {
  char raw[CASHBACK_ERROR_MAX + 1];
  size_t len = strnlen(field, size < sizeof(raw) ? size : sizeof(raw));
  memcpy(raw, field, len);
  cashback__printable(field, size, raw, len);
}

/* Fills all of `out` (this version's layout). */
static cashback_status fill_status(cashback_client *c, void *full) {
  cashback_queue_status *out = full;
  cashback__spool *spool;
  cashback_status st = cashback__client_spool(c, &spool);
  if (st != CASHBACK_OK)
    return st;
  int64_t oldest_ms = 0;
  cashback__spool_issues issues;
  st = cashback__spool_usage(spool, &out->queued_events, &out->queued_bytes,
                             &oldest_ms, &issues);
  cashback__quarantine_damage damage;
  if (st == CASHBACK_OK)
    st = cashback__quarantine_count(spool, &out->quarantined, &damage);
  if (st == CASHBACK_OK)
    out->quarantine_damaged = damage.regions;
  if (st != CASHBACK_OK)
    return cashback__fail(c, st, "spool %s: cannot read its status",
                          cashback__spool_dir(spool));
  cashback__deferred d;
  cashback__deferred_init(&d);
  if (cashback__deferred_load(spool, &d) == CASHBACK_OK) {
    out->deferred = d.n;
    /* The first that may go (the per-order barrier holds the others). */
    int64_t due_ms = cashback__deferred_next_due(&d);
    out->deferred_next = due_ms > 0 ? (due_ms + 999) / 1000 : 0;
  }
  cashback__deferred_free(&d);
  int64_t now_ms = cashback__wall_ms();
  if (oldest_ms > 0)
    out->oldest_age_s = now_ms > oldest_ms ? (now_ms - oldest_ms) / 1000 : 0;
  out->spool_status =
      cashback__spool_error(c, out->spool_error, sizeof(out->spool_error));
  if (out->spool_status == CASHBACK_OK) {
    /* Another process's failure leaves no trace it could write; what
     * causes it is on disk. */
    char why[CASHBACK_ERROR_MAX + 1 - 8];
    if (cashback__spool_foreign(spool, why, sizeof(why)) > 0) {
      out->spool_status = CASHBACK_E_IO;
      snprintf(out->spool_error, sizeof(out->spool_error), "spool: %s", why);
    }
  }
  /* A damaged file reads as a fresh state with its damage counted, as the
   * sender will take it. */
  cashback__sender_state s;
  int found;
  if (cashback__sender_state_read(spool, &s, &found) == CASHBACK_OK) {
    out->corrupt_skipped = s.corrupt;
    out->last_success = s.last_success;
    /* Never further than it was scheduled for, whatever the clock or the
     * file says (as the sender keeps to it). */
    int64_t next =
        cashback__sender_state_next_ms(&s, now_ms, c->opts.backoff_cap_ms);
    out->next_attempt = next > now_ms ? (next + 999) / 1000 : 0;
    out->paused = s.paused;
    out->path_fault = s.path_fault;
    out->last_status = s.last_status;
    snprintf(out->last_error, sizeof(out->last_error), "%s", s.last_error);
    out->read_errors = s.read_errors;
    snprintf(out->spool_problem, sizeof(out->spool_problem), "%s",
             s.read_error);
    out->state_damaged = s.state_damaged;
    /* A request lasts at most request_timeout: an older mark is of a
     * sender that went away mid-request (the next one clears it). */
    if (s.in_flight_since > 0 &&
        now_ms - s.in_flight_since <= c->opts.total_timeout_ms + 60000)
      out->in_flight_since = s.in_flight_since / 1000;
    out->paced_until =
        s.paced_until_ms > now_ms ? (s.paced_until_ms + 999) / 1000 : 0;
    snprintf(out->submission, sizeof(out->submission), "%s", s.submission);
  }
  out->unreadable_files = issues.unreadable;
  out->read_errors += issues.read_errors; /* this status's own reads */
  if (issues.first[0])
    snprintf(out->spool_problem, sizeof(out->spool_problem), "%s",
             issues.first);
  else if (issues.read_first[0])
    snprintf(out->spool_problem, sizeof(out->spool_problem), "%s",
             issues.read_first);
  /* With nothing else to name: `seq`, if it cannot be used (the stamps
   * then follow each process's clock). */
  (void)cashback__spool_stamp(spool);
  if (!out->spool_problem[0])
    cashback__spool_seq_problem(spool, out->spool_problem,
                                sizeof(out->spool_problem));
  /* The texts reach terminals, logs and pages: printable, whatever bytes
   * the path or another process's state file held. */
  shown(out->last_error, sizeof(out->last_error));
  shown(out->spool_problem, sizeof(out->spool_problem));
  shown(out->spool_error, sizeof(out->spool_error));
  shown(out->submission, sizeof(out->submission));
  return CASHBACK_OK;
}

cashback_status cashback_get_status(cashback_client *c,
                                    cashback_queue_status *out) {
  cashback_queue_status full;
  return cashback__sized_call(
      c, out, CASHBACK__SIZED_MIN(cashback_queue_status, in_flight_since),
      &full, sizeof(full), "cashback_get_status: out", fill_status);
}

cashback_status cashback_order_status(cashback_client *c, const char *order_id,
                                      cashback_order_info *out) {
  cashback_status st = cashback__sized_begin(
      c, out, 0, CASHBACK__SIZED_MIN(cashback_order_info, remote_ref),
      sizeof(cashback_order_info), "cashback_order_status: out");
  if (st != CASHBACK_OK)
    return st;
  if (!order_id)
    return cashback__fail(c, CASHBACK_E_INVALID_ARGUMENT,
                          "cashback_order_status: order_id must not be NULL");
  cashback_order_info full;
  memset(&full, 0, sizeof(full));
  cashback__spool *spool;
  st = cashback__client_spool(c, &spool);
  cashback__ledger *l = NULL;
  char err[CASHBACK_ERROR_MAX + 1] = "";
  if (st == CASHBACK_OK)
    st = cashback__client_ledger(c, spool, &l, err, sizeof(err));
  cashback__ledger_order o;
  if (st == CASHBACK_OK)
    st = cashback__ledger_lookup(l, order_id, &o, err, sizeof(err));
  if (st == CASHBACK_OK) {
    snprintf(full.order_id, sizeof(full.order_id), "%s", o.order_id);
    full.has_sale = o.has_sale;
    memcpy(full.currency, o.currency, sizeof(full.currency));
    full.sale_amount = o.sale_minor;
    full.refunded_amount = o.refunded_minor;
    full.refunds = o.refunds;
    int64_t t = o.sale_minor - o.refunded_minor;
    full.total = o.has_sale && t > 0 ? t : 0;
    full.mixed_currency = o.mixed_currency;
    full.state = (cashback_order_state)o.state;
    snprintf(full.order_time, sizeof(full.order_time), "%s", o.order_time);
    full.utc_offset = o.utc_offset_min;
    full.updated_ms = o.updated_ms;
    snprintf(full.remote_ref, sizeof(full.remote_ref), "%s", o.remote_ref);
    shown(full.order_id, sizeof(full.order_id));
    shown(full.order_time, sizeof(full.order_time));
    shown(full.remote_ref, sizeof(full.remote_ref));
  } else if (st == CASHBACK_E_NOT_FOUND) {
    cashback__fail(c, st,
                   "order not in the ledger (not delivered through "
                   "this spool, or pruned)");
  } else if (st != CASHBACK_OK && err[0]) {
    cashback__fail(c, st, "ledger: %s", err);
  }
  full.size = sizeof(full);
  cashback__sized_copy(out, &full, sizeof(full));
  return st;
}
