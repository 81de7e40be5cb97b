/*
 * The reporting API: report into the spool, the sender's controls, status
 * and the quarantine. The spool and the sender of a client are made on
 * first use, so a client that only captures clicks touches no disk.
 */
#include "cashback_buf.h"
#include "cashback_backoff.h"
#include "cashback_client.h"
#include "cashback_crc32c.h"
#include "cashback_crypto.h"
#include "cashback_deferred.h"
#include "cashback_event.h"
#include "cashback_sender.h"
#include "cashback_spool.h"
#include "cashback_text.h"
#include "cashback_time.h"

#include <cjson/cJSON.h>
#include <inttypes.h>
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

cashback_status cashback__client_spool(cashback_client *c,
                                       cashback__spool **out) {
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
          .durability = c->opts.durability,
          .max_bytes = c->opts.spool_max_bytes,
          .segment_bytes = 0,
      };
      char err[CASHBACK_ERROR_MAX + 1] = "";
      st = cashback__spool_open(&cfg, &c->spool, err, sizeof(err));
      if (st != CASHBACK_OK)
        cashback__fail_spool(c, st, "%s", err);
    }
  }
  *out = c->spool;
  pthread_mutex_unlock(&c->lazy_lock);
  return st;
}

static cashback_status get_sender(cashback_client *c, cashback__sender **out) {
  cashback__spool *spool;
  cashback_status st = cashback__client_spool(c, &spool);
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
  cashback__call_begin(c);
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
    st = cashback__client_spool(c, &spool);
  if (st == CASHBACK_OK) {
    char err[CASHBACK_ERROR_MAX + 1] = "";
    st = cashback__spool_append(spool, json.data, json.len, cashback__wall_ms(),
                                err, sizeof(err));
    if (st != CASHBACK_OK)
      cashback__fail_spool(c, st, "%s", err);
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
  cashback__call_begin(c);
  if (!c)
    return CASHBACK_E_INVALID_ARGUMENT;
  cashback__sender *s;
  cashback_status st = get_sender(c, &s);
  return st != CASHBACK_OK ? st : cashback__sender_start(s);
}

cashback_status cashback_sender_stop(cashback_client *c,
                                     int64_t flush_timeout_ms) {
  cashback__call_begin(c);
  if (!c)
    return CASHBACK_E_INVALID_ARGUMENT;
  pthread_mutex_lock(&c->lazy_lock);
  cashback__sender *s = c->sender;
  pthread_mutex_unlock(&c->lazy_lock);
  return s ? cashback__sender_stop(s, flush_timeout_ms) : CASHBACK_OK;
}

cashback_status cashback_flush(cashback_client *c, int64_t timeout_ms) {
  cashback__call_begin(c);
  if (!c)
    return CASHBACK_E_INVALID_ARGUMENT;
  cashback__sender *s;
  cashback_status st = get_sender(c, &s);
  return st != CASHBACK_OK ? st : cashback__sender_flush(s, timeout_ms);
}

/* --- Quarantine --------------------------------------------------------- */

static const char *str_field(const cJSON *o, const char *name) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
  return cJSON_IsString(v) ? v->valuestring : "";
}

/* `n` bytes as a JSON string whose characters U+0000-U+00FF are the bytes
 * (printable ASCII as it is, the rest escaped as \u00XX); free() it. */
static char *bytes_as_json_string(const uint8_t *p, size_t n) {
  cashback__buf b;
  cashback__buf_init(&b, SIZE_MAX / 2);
  cashback_status st = cashback__buf_add(&b, "\"", 1);
  for (size_t i = 0; i < n && st == CASHBACK_OK; i++) {
    uint8_t ch = p[i];
    if (ch == '"' || ch == '\\')
      st = cashback__buf_addf(&b, "\\%c", ch);
    else if (ch >= 0x20 && ch < 0x7f)
      st = cashback__buf_add(&b, (const char *)&ch, 1);
    else
      st = cashback__buf_addf(&b, "\\u%04x", ch);
  }
  if (st == CASHBACK_OK)
    st = cashback__buf_add(&b, "\"", 1);
  if (st != CASHBACK_OK) {
    cashback__buf_free(&b);
    return NULL;
  }
  return b.data; /* NUL-terminated by cashback__buf */
}

/* One entry as the list shows it. `event` is 1 when it holds an event that
 * can be sent again. */
typedef struct entry {
  cashback_quarantined q;
  int event;
} entry;

/* Calls `fn` with the entry of a quarantine record (every record is one:
 * one that is not a readable entry is shown as its escaped bytes, reason
 * "unreadable_entry"); 0 when memory is short. */
static int with_entry(const char *p, size_t len, int64_t t,
                      int (*fn)(const entry *, void *), void *ud, int *rc) {
  cJSON *o = cJSON_ParseWithLength(p, len);
  const cJSON *ev = cJSON_GetObjectItemCaseSensitive(o, "event");
  const cJSON *hex = cJSON_GetObjectItemCaseSensitive(o, "event_hex");
  const cJSON *id = cJSON_GetObjectItemCaseSensitive(o, "id");
  char *event = NULL;
  uint8_t *raw = NULL;
  char name[64], sid[4 * CASHBACK_ID_MAX + 4], sreason[4 * CASHBACK_ID_MAX + 4];
  char smessage[CASHBACK_ERROR_MAX + 1];
  entry e = {.q = {.quarantined_at = t / 1000}};
  char *printed = NULL; /* cJSON's allocation, or event is ours */
  if (cJSON_IsObject(o) && cJSON_IsString(id) && ev) {
    event = printed = cJSON_PrintUnformatted(ev);
    e.event = strcmp(str_field(o, "reason"), "invalid_record") != 0;
  } else if (cJSON_IsObject(o) && cJSON_IsString(id) && cJSON_IsString(hex)) {
    size_t n = strlen(hex->valuestring) / 2;
    raw = malloc(n ? n : 1);
    if (raw && cashback__unhex(hex->valuestring, strlen(hex->valuestring), raw,
                               n) == 0)
      event = bytes_as_json_string(raw, n);
    else if (raw) {
      cJSON_Delete(o); /* not hex: shown as an unreadable entry */
      o = NULL;
    }
  } else {
    cJSON_Delete(o);
    o = NULL;
  }
  if (!o) {
    /* Not an entry this version wrote (an older one spliced records that
     * are not JSON into it): the whole record, escaped. */
    snprintf(name, sizeof(name), "unreadable-%08" PRIx32 "-%zu",
             cashback__crc32c(0, p, len), len);
    e.q.id = name;
    e.q.reason = "unreadable_entry";
    e.q.message = "the quarantine entry is not readable JSON; its bytes "
                  "are shown as they are";
    event = bytes_as_json_string((const uint8_t *)p, len);
  } else {
    /* The file's texts, made printable as they leave the SDK: the spool
     * directory is writable by the shop's user, and older versions kept
     * the network's texts as they came. The event stays JSON. */
    cashback__printable(sid, sizeof(sid), id->valuestring,
                        strlen(id->valuestring));
    const char *r = str_field(o, "reason"), *m = str_field(o, "message");
    cashback__printable(sreason, sizeof(sreason), r, strlen(r));
    cashback__printable(smessage, sizeof(smessage), m, strlen(m));
    e.q.id = sid;
    e.q.reason = sreason;
    e.q.message = smessage;
  }
  int ok = event != NULL;
  if (ok) {
    e.q.event_json = event;
    e.q.event_len = strlen(event);
    *rc = fn(&e, ud);
  }
  free(raw);
  if (printed)
    cJSON_free(printed);
  else
    free(event);
  cJSON_Delete(o);
  return ok;
}

typedef struct list_ctx {
  cashback_quarantine_fn fn;
  void *ud;
  int nomem;
} list_ctx;

static int list_fn(const entry *e, void *ud) {
  list_ctx *l = ud;
  return l->fn(&e->q, l->ud);
}

static int list_one(const char *p, size_t len, int64_t t, void *ud) {
  list_ctx *l = ud;
  int rc = 0;
  if (!with_entry(p, len, t, list_fn, ud, &rc)) {
    l->nomem = 1;
    return 1;
  }
  return rc;
}

cashback_status cashback_quarantine_list(cashback_client *c,
                                         cashback_quarantine_fn fn,
                                         void *userdata) {
  cashback__call_begin(c);
  if (!c || !fn)
    return CASHBACK_E_INVALID_ARGUMENT;
  cashback__spool *spool;
  cashback_status st = cashback__client_spool(c, &spool);
  if (st != CASHBACK_OK)
    return st;
  list_ctx l = {fn, userdata, 0};
  cashback__quarantine_damage damage;
  st = cashback__quarantine_scan(spool, list_one, &l, &damage);
  if (st != CASHBACK_OK)
    return cashback__fail(c, st, "quarantine: cannot read");
  if (l.nomem)
    return cashback__fail(c, CASHBACK_E_NOMEM, "quarantine: out of memory");
  if (damage.regions)
    cashback__log(c, CASHBACK_LOG_ERROR,
                  "quarantine of %s: %" PRIu64 " damaged region(s), %" PRIu64
                  " bytes, cannot be read (kept in quarantine.log)",
                  cashback__spool_dir(spool), damage.regions, damage.bytes);
  return CASHBACK_OK;
}

typedef struct replay_ctx {
  cashback_client *c;
  cashback__spool *spool;
  const char *id;
  size_t replayed;
  size_t not_events; /* kept: not events */
  int found;
  cashback_status st;
} replay_ctx;

static int replay_fn(const entry *e, void *ud) {
  replay_ctx *r = ud;
  const cashback_quarantined *q = &e->q;
  if (r->id && strcmp(q->id, r->id) != 0)
    return 1; /* keep */
  r->found = 1;
  if (!e->event) {
    /* Not an event: sending it again could only bring it back here. */
    r->not_events++;
    if (r->id)
      r->st = cashback__fail(r->c, CASHBACK_E_INVALID_ARGUMENT,
                             "quarantine replay of %s: not an event (%s); it "
                             "is kept, its bytes are in the list",
                             q->id, q->reason);
    return 1;
  }
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
    return 1; /* out of memory: kept */
  return keep;
}

cashback_status cashback_quarantine_replay(cashback_client *c, const char *id,
                                           size_t *replayed) {
  cashback__call_begin(c);
  if (replayed)
    *replayed = 0;
  if (!c)
    return CASHBACK_E_INVALID_ARGUMENT;
  cashback__spool *spool;
  cashback_status st = cashback__client_spool(c, &spool);
  if (st != CASHBACK_OK)
    return st;
  replay_ctx r = {c, spool, id, 0, 0, 0, CASHBACK_OK};
  size_t removed = 0;
  st = cashback__quarantine_filter(spool, replay_keep, &r, &removed);
  if (st != CASHBACK_OK)
    return cashback__fail(c, st, "quarantine: cannot rewrite");
  if (replayed)
    *replayed = r.replayed;
  if (r.st != CASHBACK_OK)
    return r.st;
  if (id && !r.found)
    return cashback__fail(c, CASHBACK_E_NOT_FOUND,
                          "quarantine: no event with id '%.40s'", id);
  if (r.not_events)
    cashback__log(c, CASHBACK_LOG_WARN,
                  "quarantine replay: kept %zu entr%s that %s not events "
                  "(invalid_record, unreadable_entry)",
                  r.not_events, r.not_events == 1 ? "y" : "ies",
                  r.not_events == 1 ? "is" : "are");
  if (r.replayed) {
    pthread_mutex_lock(&c->lazy_lock);
    if (c->sender)
      cashback__sender_wake(c->sender);
    pthread_mutex_unlock(&c->lazy_lock);
  }
  return CASHBACK_OK;
}
