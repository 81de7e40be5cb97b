/*
 * The reporting API: report into the spool, the sender's controls, status
 * and the quarantine. The spool and the sender of a client are made on
 * first use, so a client that only captures clicks touches no disk.
 */
#include "cashback_client.h"
#include "cashback_event.h"
#include "cashback_sender.h"
#include "cashback_spool.h"
#include "cashback_time.h"

#include <cjson/cJSON.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The default spool directory for this merchant. */
static int default_dir(const cashback_client *c, char *out, size_t size) {
  const char *m = c->opts.merchant_id;
  int n;
  if (geteuid() == 0) {
    n = snprintf(out, size, "/var/spool/cashback/%s", m);
  } else {
    const char *xdg = getenv("XDG_STATE_HOME");
    const char *home = getenv("HOME");
    if (xdg && xdg[0] == '/')
      n = snprintf(out, size, "%s/cashback/%s", xdg, m);
    else if (home && home[0] == '/')
      n = snprintf(out, size, "%s/.local/state/cashback/%s", home, m);
    else
      return -1;
  }
  return n > 0 && (size_t)n < size ? 0 : -1;
}

/* The client's spool, opened on first use. */
static cashback_status get_spool(cashback_client *c, cashback__spool **out) {
  cashback_status st = CASHBACK_OK;
  pthread_mutex_lock(&c->lazy_lock);
  if (!c->spool) {
    char dir[PATH_MAX];
    if (c->opts.spool_dir[0])
      snprintf(dir, sizeof(dir), "%s", c->opts.spool_dir);
    else if (default_dir(c, dir, sizeof(dir)) != 0)
      st = cashback__fail(c, CASHBACK_E_CONFIG,
                          "spool_dir: not set, and neither XDG_STATE_HOME "
                          "nor HOME gives a default");
    if (st == CASHBACK_OK) {
      cashback__spool_config cfg = {
          .dir = dir,
          .durability = c->opts.durability == CASHBACK_DURABLE_PROCESS
                            ? CASHBACK__DURABLE_PROCESS
                            : CASHBACK__DURABLE_SYNC,
          .max_bytes = c->opts.spool_max_bytes,
          .segment_bytes = 0,
      };
      char err[CASHBACK_ERROR_MAX + 1] = "";
      st = cashback__spool_open(&cfg, &c->spool, err, sizeof(err));
      if (st != CASHBACK_OK)
        cashback__fail(c, st, "%s", err);
    }
  }
  *out = c->spool;
  pthread_mutex_unlock(&c->lazy_lock);
  return st;
}

static cashback_status get_sender(cashback_client *c, cashback__sender **out) {
  cashback__spool *spool;
  cashback_status st = get_spool(c, &spool);
  if (st != CASHBACK_OK)
    return st;
  pthread_mutex_lock(&c->lazy_lock);
  if (!c->sender) {
    st = cashback__sender_new(c, spool, &c->sender);
    if (st != CASHBACK_OK)
      cashback__fail(c, st, "sender: cannot set up the HTTP transport");
  }
  *out = c->sender;
  pthread_mutex_unlock(&c->lazy_lock);
  return st;
}

void cashback__client_release_spool(cashback_client *c) {
  cashback__sender_free(c->sender);
  c->sender = NULL;
  cashback__spool_close(c->spool);
  c->spool = NULL;
}

cashback_status cashback_report(cashback_client *c, cashback_event *ev,
                                char *id) {
  if (!c || !ev)
    return CASHBACK_E_INVALID_ARGUMENT;
  cashback_status st = cashback_event_finalize(c, ev, id);
  if (st != CASHBACK_OK)
    return st;
  cashback__buf json;
  cashback__buf_init(&json, CASHBACK__EVENT_JSON_MAX);
  st = cashback__event_json(c, ev, &json);
  cashback__spool *spool = NULL;
  if (st == CASHBACK_OK)
    st = get_spool(c, &spool);
  if (st == CASHBACK_OK) {
    char err[CASHBACK_ERROR_MAX + 1] = "";
    st = cashback__spool_append(spool, json.data, json.len, cashback__wall_ms(),
                                err, sizeof(err));
    if (st != CASHBACK_OK)
      cashback__fail(c, st, "%s", err);
  }
  cashback__buf_free(&json);
  if (st == CASHBACK_OK) {
    pthread_mutex_lock(&c->lazy_lock);
    if (c->sender)
      cashback__sender_wake(c->sender);
    pthread_mutex_unlock(&c->lazy_lock);
  }
  return st;
}

cashback_status cashback_sender_start(cashback_client *c) {
  if (!c)
    return CASHBACK_E_INVALID_ARGUMENT;
  cashback__sender *s;
  cashback_status st = get_sender(c, &s);
  return st != CASHBACK_OK ? st : cashback__sender_start(s);
}

cashback_status cashback_sender_stop(cashback_client *c,
                                     int64_t flush_timeout_ms) {
  if (!c)
    return CASHBACK_E_INVALID_ARGUMENT;
  pthread_mutex_lock(&c->lazy_lock);
  cashback__sender *s = c->sender;
  pthread_mutex_unlock(&c->lazy_lock);
  return s ? cashback__sender_stop(s, flush_timeout_ms) : CASHBACK_OK;
}

cashback_status cashback_flush(cashback_client *c, int64_t timeout_ms) {
  if (!c)
    return CASHBACK_E_INVALID_ARGUMENT;
  cashback__sender *s;
  cashback_status st = get_sender(c, &s);
  return st != CASHBACK_OK ? st : cashback__sender_flush(s, timeout_ms);
}

static int count_one(const char *p, size_t len, int64_t t, void *ud) {
  (void)p;
  (void)len;
  (void)t;
  (*(uint64_t *)ud)++;
  return 0;
}

cashback_status cashback_get_status(cashback_client *c,
                                    cashback_queue_status *out) {
  if (!c || !out)
    return CASHBACK_E_INVALID_ARGUMENT;
  memset(out, 0, sizeof(*out));
  cashback__spool *spool;
  cashback_status st = get_spool(c, &spool);
  if (st != CASHBACK_OK)
    return st;
  int64_t oldest_ms = 0;
  st = cashback__spool_usage(spool, &out->queued_events, &out->queued_bytes,
                             &oldest_ms);
  if (st == CASHBACK_OK)
    st = cashback__quarantine_scan(spool, count_one, &out->quarantined);
  if (st != CASHBACK_OK)
    return cashback__fail(c, st, "spool %s: cannot read its status",
                          cashback__spool_dir(spool));
  int64_t now_ms = cashback__wall_ms();
  if (oldest_ms > 0)
    out->oldest_age_s = now_ms > oldest_ms ? (now_ms - oldest_ms) / 1000 : 0;
  char text[CASHBACK_ERROR_MAX + 512];
  if (cashback__spool_state_read(spool, text, sizeof(text)) == CASHBACK_OK) {
    cashback__sender_state s;
    cashback__sender_state_parse(text, &s);
    out->corrupt_skipped = s.corrupt;
    out->last_success = s.last_success;
    out->next_attempt =
        s.next_attempt_ms > now_ms ? (s.next_attempt_ms + 999) / 1000 : 0;
    out->paused = s.paused;
    out->path_fault = s.path_fault;
    out->last_status = s.last_status;
    snprintf(out->last_error, sizeof(out->last_error), "%s", s.last_error);
  }
  return CASHBACK_OK;
}

/* --- Quarantine --------------------------------------------------------- */

static const char *str_field(const cJSON *o, const char *name) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
  return cJSON_IsString(v) ? v->valuestring : "";
}

typedef struct list_ctx {
  cashback_quarantine_fn fn;
  void *ud;
} list_ctx;

/* Calls `fn` with a parsed quarantine record; 0 when unparsable. */
static int with_entry(const char *p, size_t len, int64_t t,
                      int (*fn)(const cashback_quarantined *, void *), void *ud,
                      int *rc) {
  cJSON *o = cJSON_ParseWithLength(p, len);
  if (!o)
    return 0;
  const cJSON *ev = cJSON_GetObjectItemCaseSensitive(o, "event");
  char *event = ev ? cJSON_PrintUnformatted(ev) : NULL;
  int ok = event != NULL;
  if (ok) {
    cashback_quarantined q = {
        .id = str_field(o, "id"),
        .reason = str_field(o, "reason"),
        .message = str_field(o, "message"),
        .quarantined_at = t / 1000,
        .event_json = event,
        .event_len = strlen(event),
    };
    *rc = fn(&q, ud);
  }
  cJSON_free(event);
  cJSON_Delete(o);
  return ok;
}

static int list_fn(const cashback_quarantined *q, void *ud) {
  list_ctx *l = ud;
  return l->fn(q, l->ud);
}

static int list_one(const char *p, size_t len, int64_t t, void *ud) {
  int rc = 0;
  with_entry(p, len, t, list_fn, ud, &rc);
  return rc;
}

cashback_status cashback_quarantine_list(cashback_client *c,
                                         cashback_quarantine_fn fn,
                                         void *userdata) {
  if (!c || !fn)
    return CASHBACK_E_INVALID_ARGUMENT;
  cashback__spool *spool;
  cashback_status st = get_spool(c, &spool);
  if (st != CASHBACK_OK)
    return st;
  list_ctx l = {fn, userdata};
  st = cashback__quarantine_scan(spool, list_one, &l);
  return st == CASHBACK_OK ? st
                           : cashback__fail(c, st, "quarantine: cannot read");
}

typedef struct replay_ctx {
  cashback_client *c;
  cashback__spool *spool;
  const char *id;
  size_t replayed;
  cashback_status st;
} replay_ctx;

static int replay_fn(const cashback_quarantined *q, void *ud) {
  replay_ctx *r = ud;
  if (r->id && strcmp(q->id, r->id) != 0)
    return 1; /* keep */
  char err[CASHBACK_ERROR_MAX + 1] = "";
  cashback_status st =
      cashback__spool_append(r->spool, q->event_json, q->event_len,
                             cashback__wall_ms(), err, sizeof(err));
  if (st != CASHBACK_OK) {
    r->st = cashback__fail(r->c, st, "quarantine replay of %s: %s", q->id, err);
    return 1; /* not back in the spool: keep it quarantined */
  }
  r->replayed++;
  return 0; /* back in the spool: drop it from the quarantine */
}

static int replay_keep(const char *p, size_t len, int64_t t, void *ud) {
  int keep = 1;
  if (!with_entry(p, len, t, replay_fn, ud, &keep))
    return 1; /* unreadable entries are kept */
  return keep;
}

cashback_status cashback_quarantine_replay(cashback_client *c, const char *id,
                                           size_t *replayed) {
  if (replayed)
    *replayed = 0;
  if (!c)
    return CASHBACK_E_INVALID_ARGUMENT;
  cashback__spool *spool;
  cashback_status st = get_spool(c, &spool);
  if (st != CASHBACK_OK)
    return st;
  replay_ctx r = {c, spool, id, 0, CASHBACK_OK};
  size_t removed = 0;
  st = cashback__quarantine_filter(spool, replay_keep, &r, &removed);
  if (st != CASHBACK_OK)
    return cashback__fail(c, st, "quarantine: cannot rewrite");
  if (replayed)
    *replayed = r.replayed;
  if (r.st != CASHBACK_OK)
    return r.st;
  if (id && r.replayed == 0)
    return cashback__fail(c, CASHBACK_E_NOT_FOUND,
                          "quarantine: no event with id '%.40s'", id);
  if (r.replayed) {
    pthread_mutex_lock(&c->lazy_lock);
    if (c->sender)
      cashback__sender_wake(c->sender);
    pthread_mutex_unlock(&c->lazy_lock);
  }
  return CASHBACK_OK;
}
