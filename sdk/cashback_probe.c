/*
 * Diagnostics: one signed test event straight to the network (not through
 * the spool), to learn whether the endpoint answers, over verified TLS,
 * with the key accepted, and how far this clock is from the network's; and
 * the state of the spool directory on disk.
 */
#include "cashback_backoff.h"
#include "cashback_client.h"
#include "cashback_decide.h"
#include "cashback_sized.h"
#include "cashback_http.h"
#include "cashback_response.h"
#include "cashback_spool.h"
#include "cashback_text.h"
#include "cashback_time.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#define PROBE_TOKEN "cashback-probe"

/* The test event: a zero-amount sale of its own order, marked test. */
static cashback_status test_event(cashback_client *c, cashback_event **out) {
  char order[48];
  snprintf(order, sizeof(order), "probe-%lld", (long long)cashback__now(c));
  cashback_event *ev = cashback_event_new(CASHBACK_EVENT_SALE, order);
  cashback_status st = ev ? CASHBACK_OK : CASHBACK_E_NOMEM;
  if (st == CASHBACK_OK)
    st = cashback_event_set_amount(ev, 0, "EUR");
  if (st == CASHBACK_OK)
    st = cashback_event_set_click(ev, PROBE_TOKEN);
  if (st == CASHBACK_OK)
    st = cashback_event_set_test(ev, 1);
  if (st == CASHBACK_OK)
    st = cashback_event_set_metadata(ev, "probe", "cashback_probe");
  if (st != CASHBACK_OK) {
    cashback_event_free(ev);
    ev = NULL;
  }
  *out = ev;
  return st;
}

/* Reads the answer of a completed exchange into `out`, by the sender's
 * table (cashback_decide.c); the status. */
static cashback_status judge(cashback_client *c,
                             const cashback__http_response *resp,
                             cashback_probe_result *out) {
  long code = resp->status;
  cashback__result r;
  memset(&r, 0, sizeof(r));
  memcpy(r.id, out->event_id, sizeof(r.id));
  cashback__answer a;
  cashback__answer_of(&a, CASHBACK_OK, resp, cashback__now(c));
  cashback__sent b = {&r, 1, 1, 1, 0};
  cashback__decision d;
  cashback__decide(&a, &b, &d);
  if (d.next == CASHBACK__NEXT_SETTLE) {
    snprintf(out->outcome, sizeof(out->outcome), "%s",
             cashback__outcome_name(r.outcome));
    if (r.outcome == CASHBACK__OUTCOME_REJECTED ||
        r.outcome == CASHBACK__OUTCOME_RETRY) {
      snprintf(out->reason, sizeof(out->reason), "%s", r.reason);
      snprintf(out->detail, sizeof(out->detail), "%s", r.message);
    }
    return CASHBACK_OK;
  }
  cashback__printable(out->detail, sizeof(out->detail), resp->body.data,
                      resp->body.len);
  if (d.cause == CASHBACK__CAUSE_NO_RESULTS ||
      d.cause == CASHBACK__CAUSE_SETTLED_NONE)
    return cashback__fail(c, CASHBACK_E_PROTOCOL,
                          "probe: the answer has no result for the test "
                          "event %s",
                          out->event_id);
  return cashback__fail(
      c, d.next == CASHBACK__NEXT_PAUSE ? CASHBACK_E_AUTH : CASHBACK_E_HTTP,
      "probe: the network answered %ld: %.120s", code, out->detail);
}

/* Fills all of `out` (this version's layout). */
static cashback_status probe_full(cashback_client *c, void *full) {
  cashback_probe_result *out = full;
  cashback_event *ev = NULL;
  cashback_request *req = NULL;
  cashback__http *http = NULL;
  cashback__http_response resp;
  cashback__http_response_init(&resp);
  cashback_status st = test_event(c, &ev);
  if (st == CASHBACK_OK)
    st = cashback_request_new(c, &ev, 1, &req);
  if (st == CASHBACK_OK)
    st = cashback_event_finalize(c, ev, out->event_id);
  if (st != CASHBACK_OK) {
    cashback_event_free(ev);
    return cashback__fail(c, st, "probe: cannot build the test event");
  }
  cashback__http_config hc;
  cashback__client_http_config(c, &hc);
  st = cashback__http_new(&hc, &http);
  if (st != CASHBACK_OK) {
    st = cashback__fail(c, st, "probe: cannot set up the HTTP transport");
    goto done;
  }
  size_t len;
  const char *body = cashback_request_body(req, &len);
  const char *url = cashback_request_url(req);
  int64_t t0 = cashback__mono_ms();
  st = cashback__http_post(http, url, cashback_request_signature(req), body,
                           len, &resp);
  out->elapsed_ms = cashback__mono_ms() - t0;
  out->http_status = resp.status;
  out->tls_error = resp.tls_error;
  int64_t server;
  if (resp.date[0] &&
      cashback__http_date(resp.date, strlen(resp.date), &server) == 0) {
    out->server_time = server;
    out->clock_skew_s = cashback__now(c) - server;
  }
  if (st != CASHBACK_OK) {
    snprintf(out->detail, sizeof(out->detail), "%s", resp.error);
    st = cashback__fail(c, st, "probe: %s", resp.error);
    goto done;
  }
  out->tls = strncasecmp(url, "https://", 8) == 0;
  st = judge(c, &resp, out);
done:
  cashback__http_response_free(&resp);
  cashback__http_free(http);
  cashback_request_free(req);
  cashback_event_free(ev);
  return st;
}

/* Fills all of `out` (this version's layout). */
static cashback_status spool_check_full(cashback_client *c, void *full) {
  cashback_spool_info *out = full;
  /* Opens the spool (creating its directory when missing) as a report
   * would, and counts what it holds. */
  cashback_queue_status qs = {.size = sizeof(qs)};
  cashback_status st = cashback_get_status(c, &qs);
  if (st != CASHBACK_OK)
    return st;
  out->queued_bytes = qs.queued_bytes;
  out->max_bytes = c->opts.spool_max_bytes;
  pthread_mutex_lock(&c->lazy_lock);
  const char *dir = c->spool ? cashback__spool_dir(c->spool) : "";
  snprintf(out->dir, sizeof(out->dir), "%s", dir);
  if (c->spool)
    out->foreign_files =
        cashback__spool_foreign(c->spool, out->foreign, sizeof(out->foreign));
  pthread_mutex_unlock(&c->lazy_lock);
  struct stat sb;
  if (stat(out->dir, &sb) != 0)
    return cashback__fail(c, CASHBACK_E_IO, "spool %s: cannot stat: %s",
                          out->dir, strerror(errno));
  out->mode = (uint32_t)(sb.st_mode & 07777);
  out->owned = sb.st_uid == geteuid();
  out->writable = faccessat(AT_FDCWD, out->dir, W_OK | X_OK, AT_EACCESS) == 0;
  struct statvfs vfs;
  if (statvfs(out->dir, &vfs) != 0)
    return cashback__fail(c, CASHBACK_E_IO, "spool %s: cannot statvfs: %s",
                          out->dir, strerror(errno));
  out->free_bytes = (uint64_t)vfs.f_bavail * (uint64_t)vfs.f_frsize;
  out->total_bytes = (uint64_t)vfs.f_blocks * (uint64_t)vfs.f_frsize;
  return CASHBACK_OK;
}

cashback_status cashback_probe(cashback_client *c, cashback_probe_result *out) {
  cashback_probe_result full;
  return cashback__sized_call(
      c, out, CASHBACK__SIZED_MIN(cashback_probe_result, detail), &full,
      sizeof(full), "cashback_probe: out", probe_full);
}

cashback_status cashback_spool_check(cashback_client *c,
                                     cashback_spool_info *out) {
  cashback_spool_info full;
  return cashback__sized_call(
      c, out, CASHBACK__SIZED_MIN(cashback_spool_info, foreign), &full,
      sizeof(full), "cashback_spool_check: out", spool_check_full);
}
