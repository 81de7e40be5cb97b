/*
 * The quarantine (cashback_quarantine.h): quarantine.log's storage, the
 * entries the sender writes into it, and the reading back for status, the
 * list and the replay. The only code that knows the file or the entry's
 * format.
 */
#include "cashback_quarantine.h"
#include "cashback_buf.h"
#include "cashback_core.h"
#include "cashback_crc32c.h"
#include "cashback_crypto.h"
#include "cashback_record.h"
#include "cashback_text.h"
#include "cashback_time.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

/* --- Storage ------------------------------------------------------------ */

static int lock_quarantine(cashback__spool *s) {
  int fd = cashback__spool_openat(s, "quarantine.lock", O_RDWR | O_CREAT, 0600);
  if (fd >= 0 && flock(fd, LOCK_EX) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

cashback_status cashback__quarantine_append(cashback__spool *s,
                                            const void *payload, size_t len,
                                            int64_t time_ms) {
  if (len == 0 || len > CASHBACK__RECORD_MAX)
    return CASHBACK_E_TOO_BIG;
  size_t total;
  uint8_t *rec = cashback__record_encode(payload, len, time_ms, &total);
  if (!rec)
    return CASHBACK_E_NOMEM;
  cashback_status st = CASHBACK_E_IO;
  int lk = lock_quarantine(s);
  int fd = lk < 0 ? -1
                  : cashback__spool_openat(s, "quarantine.log",
                                           O_WRONLY | O_CREAT | O_APPEND, 0600);
  struct stat sb;
  if (fd >= 0 && fstat(fd, &sb) == 0) {
    ssize_t n = write(fd, rec, total);
    if (n == (ssize_t)total && fdatasync(fd) == 0 &&
        (sb.st_size > 0 || fsync(cashback__spool_dirfd(s)) == 0))
      st = CASHBACK_OK;
    else if (n > 0 && n != (ssize_t)total && ftruncate(fd, sb.st_size) != 0)
      st = CASHBACK_E_IO;
  }
  if (fd >= 0)
    close(fd);
  if (lk >= 0)
    close(lk);
  free(rec);
  return st;
}

/* Reads all of quarantine.log (it is small: rejected events only). */
static cashback_status read_quarantine(cashback__spool *s, uint8_t **data,
                                       size_t *size) {
  *data = NULL;
  *size = 0;
  int fd = cashback__spool_openat(s, "quarantine.log", O_RDONLY, 0);
  if (fd < 0)
    return errno == ENOENT ? CASHBACK_OK : CASHBACK_E_IO;
  struct stat sb;
  cashback_status st = CASHBACK_E_IO;
  if (fstat(fd, &sb) == 0) {
    size_t n = (size_t)sb.st_size;
    uint8_t *p = malloc(n ? n : 1);
    if (!p)
      st = CASHBACK_E_NOMEM;
    else if (n && pread(fd, p, n, 0) != (ssize_t)n)
      free(p);
    else {
      *data = p;
      *size = n;
      st = CASHBACK_OK;
    }
  }
  close(fd);
  return st;
}

/* Walks `p` (`n` bytes of quarantine.log): calls `fn` for each whole valid
 * record (payload, and the record's own bytes at `rec`, `rec_len`) and
 * `damage` for each damaged span between them (bad magic, length or
 * checksum, or a torn tail), up to where a valid record starts again. Stops
 * when `fn` returns non-zero and `stop` is set. */
typedef struct walk_fns {
  int (*fn)(const uint8_t *rec, size_t rec_len, const char *payload, size_t len,
            int64_t t, void *ud);
  void (*damage)(const uint8_t *p, size_t len, void *ud);
  int stop;
} walk_fns;

static void walk_quarantine(const uint8_t *p, size_t n, const walk_fns *w,
                            void *ud) {
  size_t pos = 0;
  while (pos < n) {
    cashback__record_info in;
    if (cashback__record_parse(p + pos, n - pos, &in) == CASHBACK__REC_OK) {
      size_t rec_len = in.header + in.len; /* either record version */
      int r = w->fn(p + pos, rec_len, (const char *)p + pos + in.header, in.len,
                    in.time_ms, ud);
      if (w->stop && r)
        return;
      pos += rec_len;
    } else {
      size_t next = cashback__record_resync(p, n, pos + 1);
      if (w->damage)
        w->damage(p + pos, next - pos, ud);
      pos = next;
    }
  }
}

typedef struct scan_ctx {
  cashback__record_fn fn;
  void *ud;
  cashback__quarantine_damage *damage;
} scan_ctx;

static int scan_one(const uint8_t *rec, size_t rec_len, const char *payload,
                    size_t len, int64_t t, void *ud) {
  (void)rec;
  (void)rec_len;
  scan_ctx *c = ud;
  return c->fn(payload, len, t, c->ud);
}

static void scan_damage(const uint8_t *p, size_t len, void *ud) {
  (void)p;
  scan_ctx *c = ud;
  if (c->damage) {
    c->damage->regions++;
    c->damage->bytes += len;
  }
}

cashback_status cashback__quarantine_scan(cashback__spool *s,
                                          cashback__record_fn fn, void *ud,
                                          cashback__quarantine_damage *damage) {
  if (damage)
    memset(damage, 0, sizeof(*damage));
  uint8_t *p;
  size_t n;
  cashback_status st = read_quarantine(s, &p, &n);
  if (st == CASHBACK_OK) {
    scan_ctx c = {fn, ud, damage};
    walk_fns w = {scan_one, scan_damage, 1};
    walk_quarantine(p, n, &w, &c);
  }
  free(p);
  return st;
}

static int count_one(const char *p, size_t len, int64_t t, void *ud) {
  (void)p;
  (void)len;
  (void)t;
  (*(uint64_t *)ud)++;
  return 0;
}

cashback_status
cashback__quarantine_count(cashback__spool *s, uint64_t *entries,
                           cashback__quarantine_damage *damage) {
  *entries = 0;
  return cashback__quarantine_scan(s, count_one, entries, damage);
}

typedef struct filter_ctx {
  cashback__record_fn keep;
  void *ud;
  int fd;
  size_t removed;
  int failed;
} filter_ctx;

static void filter_write(filter_ctx *f, const uint8_t *p, size_t len) {
  while (!f->failed && len > 0) {
    ssize_t k = write(f->fd, p, len);
    if (k < 0 && errno == EINTR)
      continue;
    if (k <= 0) {
      f->failed = 1;
      return;
    }
    p += k;
    len -= (size_t)k;
  }
}

/* A kept record is copied byte for byte (header and checksum included), so
 * a rewrite never turns a record into another or drops its checksum. */
static int filter_one(const uint8_t *rec, size_t rec_len, const char *payload,
                      size_t len, int64_t t, void *ud) {
  filter_ctx *f = ud;
  if (!f->keep(payload, len, t, f->ud))
    f->removed++;
  else
    filter_write(f, rec, rec_len);
  return 0;
}

/* Damage is kept as it is: it stays counted, and its bytes stay there for
 * whoever wants to look at them. */
static void filter_damage(const uint8_t *p, size_t len, void *ud) {
  filter_write(ud, p, len);
}

cashback_status cashback__quarantine_filter(cashback__spool *s,
                                            cashback__record_fn keep, void *ud,
                                            size_t *removed) {
  *removed = 0;
  int lk = lock_quarantine(s);
  if (lk < 0)
    return CASHBACK_E_IO;
  int dfd = cashback__spool_dirfd(s);
  uint8_t *p = NULL;
  size_t n = 0;
  cashback_status st = read_quarantine(s, &p, &n);
  filter_ctx f = {keep, ud, -1, 0, 0};
  if (st == CASHBACK_OK) {
    f.fd = cashback__spool_openat(s, "quarantine.tmp",
                                  O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (f.fd < 0)
      st = CASHBACK_E_IO;
  }
  if (st == CASHBACK_OK) {
    walk_fns w = {filter_one, filter_damage, 0};
    walk_quarantine(p, n, &w, &f);
    if (f.failed || fdatasync(f.fd) != 0)
      st = CASHBACK_E_IO;
    close(f.fd);
    if (st == CASHBACK_OK && f.removed &&
        (renameat(dfd, "quarantine.tmp", dfd, "quarantine.log") != 0 ||
         fsync(dfd) != 0))
      st = CASHBACK_E_IO;
    unlinkat(dfd, "quarantine.tmp", 0);
  }
  free(p);
  close(lk);
  if (st == CASHBACK_OK)
    *removed = f.removed;
  return st;
}

/* --- Writing entries ---------------------------------------------------- */

/* Quarantine entries (docs/reliability.md, "The quarantine"): one record of
 * JSON each,
 *   {"id","reason","message","http_status","quarantined_at","event":{...}}
 * with the event spliced in as sent. A payload that is not one whole JSON
 * value (a spool record that is not an event, or an event the network
 * refused that is not valid JSON) is never spliced: its exact bytes go in
 * "event_hex" with "raw_len", split over several entries ("part", "parts",
 * "raw_offset") when the hex would pass the record cap. So is an event whose
 * entry would pass the cap (the event setters keep new ones below it). */
#define QUARANTINE_HEX_PART ((CASHBACK__RECORD_MAX - 4096) / 2)

/* 1 when `p` (`len` bytes, NUL-terminated at p[len]) is exactly one JSON
 * value and nothing else. */
static int is_one_json_value(const char *p, size_t len) {
  if (memchr(p, '\0', len))
    return 0;
  const char *end = NULL;
  cJSON *v = cJSON_ParseWithLengthOpts(p, len + 1, &end, 1);
  cJSON_Delete(v);
  return v != NULL;
}

/* What every entry of one put says besides its event. */
typedef struct entry_meta {
  const char *reason, *message;
  long http_status;
  char iso[CASHBACK__ISO8601_MAX]; /* quarantined_at */
  int64_t now_ms;
} entry_meta;

static cJSON *entry_head(const char *id, const entry_meta *m) {
  cJSON *o = cJSON_CreateObject();
  if (o && cJSON_AddStringToObject(o, "id", id) &&
      cJSON_AddStringToObject(o, "reason", m->reason) &&
      cJSON_AddStringToObject(o, "message", m->message) &&
      cJSON_AddNumberToObject(o, "http_status", (double)m->http_status) &&
      cJSON_AddStringToObject(o, "quarantined_at", m->iso))
    return o;
  cJSON_Delete(o);
  return NULL;
}

/* Appends entry `o` (and frees it): CASHBACK_OK, CASHBACK_E_TOO_BIG when it
 * would pass the record cap, or the failure. */
static cashback_status append_entry(cashback__spool *s, cJSON *o,
                                    int64_t now_ms) {
  char *text = o ? cJSON_PrintUnformatted(o) : NULL;
  cJSON_Delete(o);
  if (!text)
    return CASHBACK_E_NOMEM;
  size_t n = strlen(text);
  cashback_status st = n > CASHBACK__RECORD_MAX
                           ? CASHBACK_E_TOO_BIG
                           : cashback__quarantine_append(s, text, n, now_ms);
  cJSON_free(text);
  return st;
}

/* The bytes of `p` as hex entries; `id` names them. */
static cashback_status append_hex(cashback__spool *s, const char *id,
                                  const entry_meta *m, const char *p,
                                  size_t len) {
  size_t parts =
      len ? (len + QUARANTINE_HEX_PART - 1) / QUARANTINE_HEX_PART : 1;
  char *hex =
      malloc(2 * (len < QUARANTINE_HEX_PART ? len : QUARANTINE_HEX_PART) + 1);
  if (!hex)
    return CASHBACK_E_NOMEM;
  cashback_status st = CASHBACK_OK;
  for (size_t k = 0; k < parts && st == CASHBACK_OK; k++) {
    size_t off = k * QUARANTINE_HEX_PART;
    size_t n =
        len - off < QUARANTINE_HEX_PART ? len - off : QUARANTINE_HEX_PART;
    char part_id[128];
    if (parts > 1)
      snprintf(part_id, sizeof(part_id), "%s-p%zuof%zu", id, k + 1, parts);
    else
      snprintf(part_id, sizeof(part_id), "%s", id);
    cashback__hex((const uint8_t *)p + off, n, hex);
    cJSON *o = entry_head(part_id, m);
    if (o && (!cJSON_AddStringToObject(o, "event_hex", hex) ||
              !cJSON_AddNumberToObject(o, "raw_len", (double)len) ||
              (parts > 1 &&
               (!cJSON_AddNumberToObject(o, "part", (double)(k + 1)) ||
                !cJSON_AddNumberToObject(o, "parts", (double)parts) ||
                !cJSON_AddNumberToObject(o, "raw_offset", (double)off))))) {
      cJSON_Delete(o);
      o = NULL;
    }
    st = o ? append_entry(s, o, m->now_ms) : CASHBACK_E_NOMEM;
  }
  free(hex);
  return st;
}

/* Adds `name` (`len` bytes) to the set of quarantined names. */
static void seen_add(cashback__quarantine_seen *seen, const char *name,
                     size_t len) {
  if (len >= sizeof(seen->names[0]))
    return;
  char(*q)[48] =
      cashback__grow(seen->names, seen->n, &seen->cap, sizeof(*q), 32);
  if (!q)
    return; /* then it may be stored twice, never lost */
  seen->names = q;
  memcpy(seen->names[seen->n], name, len);
  seen->names[seen->n][len] = '\0';
  seen->n++;
}

static int collect_invalid(const char *p, size_t len, int64_t t, void *ud) {
  (void)t;
  static const char pre[] = "{\"id\":\"invalid-";
  size_t pl = sizeof(pre) - 1, k = 7; /* the name starts after {"id":" */
  if (len < pl || memcmp(p, pre, pl) != 0)
    return 0;
  size_t end = k;
  while (end < len && p[end] != '"')
    end++;
  /* "invalid-<crc>-<len>" or its first part "...-p1of<n>". */
  size_t nl = end - k;
  for (size_t j = 0; j + 1 < nl; j++)
    if (p[k + j] == '-' && p[k + j + 1] == 'p') {
      nl = j;
      break;
    }
  seen_add(ud, p + k, nl);
  return 0;
}

/* 1 when the quarantine has an entry named `name` (or its first part). The
 * quarantine is read once per step for this, whatever the number of such
 * records (each used to read it whole: O(n^2) for n of them). */
static int quarantined_already(cashback__spool *s,
                               cashback__quarantine_seen *seen,
                               const char *name) {
  if (!seen->scanned) {
    seen->scans++;
    seen->n = 0;
    if (cashback__quarantine_scan(s, collect_invalid, seen, NULL) !=
        CASHBACK_OK)
      return 0; /* then it is stored again: a copy, never a loss */
    seen->scanned = 1;
  }
  for (size_t i = 0; i < seen->n; i++)
    if (strcmp(seen->names[i], name) == 0)
      return 1;
  return 0;
}

void cashback__quarantine_seen_clear(cashback__quarantine_seen *seen) {
  free(seen->names);
  seen->names = NULL;
  seen->n = seen->cap = 0;
  seen->scanned = 0;
}

cashback_status cashback__quarantine_put(
    cashback__spool *s, cashback__quarantine_seen *seen, const char *p,
    size_t len, const char *id, const char *reason, const char *message,
    long http_status, int64_t now_ms, char *name, size_t name_size) {
  entry_meta m = {reason, message, http_status, "", now_ms};
  char *event = malloc(len + 1);
  snprintf(name, name_size, "%s", id);
  cashback_status st = CASHBACK_E_NOMEM;
  if (event && cashback__iso8601(now_ms / 1000, 0, m.iso) == CASHBACK_OK) {
    memcpy(event, p, len);
    event[len] = '\0';
    int invalid = strcmp(reason, "invalid_record") == 0;
    st = CASHBACK_E_TOO_BIG;
    if (!invalid && is_one_json_value(event, len)) {
      cJSON *o = entry_head(id, &m);
      if (o && !cJSON_AddRawToObject(o, "event", event)) {
        cJSON_Delete(o);
        o = NULL;
      }
      st = o ? append_entry(s, o, now_ms) : CASHBACK_E_NOMEM;
    }
    if (st == CASHBACK_E_TOO_BIG) {
      if (invalid || strcmp(id, "unknown") == 0)
        snprintf(name, name_size, "invalid-%08" PRIx32 "-%zu",
                 cashback__crc32c(0, p, len), len);
      /* Such a record is quarantined before the batch is sent, and read
       * again when the batch is not settled (a failed attempt, a batch
       * halved): stored once, named by its bytes. */
      if (invalid && quarantined_already(s, seen, name))
        st = CASHBACK_OK;
      else
        st = append_hex(s, name, &m, p, len);
      if (invalid && st == CASHBACK_OK && seen->scanned)
        seen_add(seen, name, strlen(name));
    }
  }
  free(event);
  return st;
}

/* --- Reading entries ---------------------------------------------------- */

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
  entry e = {
      .q = {.size = sizeof(cashback_quarantined), .quarantined_at = t / 1000}};
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

cashback_status cashback__quarantine_list(cashback_client *c,
                                          cashback__spool *spool,
                                          cashback_quarantine_fn fn,
                                          void *userdata) {
  list_ctx l = {fn, userdata, 0};
  cashback__quarantine_damage damage;
  cashback_status st = cashback__quarantine_scan(spool, list_one, &l, &damage);
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
  int64_t now_ms;
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
  cashback_status st = cashback__spool_append(
      r->spool, q->event_json, q->event_len, r->now_ms, err, sizeof(err));
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

cashback_status cashback__quarantine_replay(cashback_client *c,
                                            cashback__spool *spool,
                                            const char *id, int64_t now_ms,
                                            size_t *replayed) {
  replay_ctx r = {c, spool, id, now_ms, 0, 0, 0, CASHBACK_OK};
  size_t removed = 0;
  cashback_status st =
      cashback__quarantine_filter(spool, replay_keep, &r, &removed);
  if (st != CASHBACK_OK)
    return cashback__fail(c, st, "quarantine: cannot rewrite");
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
  return CASHBACK_OK;
}
