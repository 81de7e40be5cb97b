/*
 * The per-order ledger (cashback_ledger.h; docs/reliability.md, "The
 * per-order ledger"): ledger.log's records, the orders in memory (an open
 * addressing table by order id), reading what another process wrote,
 * appending, pruning and the compaction by rename.
 *
 * A record's payload is the whole order after a change, compact JSON:
 *   {"v":1,"o":"1001","st":"open","u":<ms>,"sale":{"id":"<32 hex>",
 *    "cur":"EUR","amt":4990,"ot":"2026-12-01T10:15:00+01:00","off":60},
 *    "ref":"<remote ref>","r":[["<32 hex>",1995,"EUR"],...]}
 * ("sale" absent: refunds seen before any sale; "ref" absent: none), or
 * the removal of an order: {"v":1,"o":"1001","gone":1}.
 */
#include "cashback_ledger.h"
#include "cashback_ascii.h"
#include "cashback_fork.h"
#include "cashback_record.h"
#include "cashback_time.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define LEDGER_FILE "ledger.log"
#define LEDGER_TMP "ledger" /* ledger.<pid>.tmp */
#define PRUNE_EVERY_MS (3600 * 1000LL)
#define COMPACT_MIN_DEFAULT (64 * 1024)
#define AMOUNT_MAX 1000000000000000LL /* 10^15 minor units */

typedef struct refund {
  char id[CASHBACK_EVENT_ID_LEN + 1];
  int64_t minor;
  char cur[4];
} refund;

typedef struct entry {
  cashback__ledger_order o; /* refunded_minor, refunds, mixed: from r */
  refund *r;
  size_t nr;
  uint64_t rec_bytes; /* its latest record in the log */
} entry;

struct cashback__ledger {
  cashback__spool *spool;
  size_t max_orders;
  int64_t window_ms;
  pthread_mutex_t mu;
  int sync;
  int group;     /* appends are synced by cashback__ledger_commit() */
  int dirty;     /* appended since the last sync (group commit) */
  int dir_dirty; /* ... and the file is new: the directory too */
  uint64_t compact_min;
  int crash_at;
  entry **slot; /* cap slots, a power of two (or 0) */
  size_t cap, n;
  int fd; /* ledger.log as read (pins its inode), -1: none */
  dev_t dev;
  ino_t ino;
  uint64_t size;      /* bytes of fd's file read or written */
  uint64_t valid_end; /* just past the last whole record read */
  int64_t pruned_at_ms;
  int pruned_once;
  int swept;
  cashback__ledger_stats st;
  cashback__fork_node fork_node;
};

static void errf(char *err, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void errf(char *err, size_t size, const char *fmt, ...) {
  if (!err || !size)
    return;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(err, size, fmt, ap);
  va_end(ap);
}

const char *cashback__ledger_state_name(cashback__ledger_state st) {
  switch (st) {
  case CASHBACK__LEDGER_CANCELLED:
    return "cancelled";
  case CASHBACK__LEDGER_CONFIRMED:
    return "confirmed";
  case CASHBACK__LEDGER_OPEN:
    break;
  }
  return "open";
}

/* --- Validation --------------------------------------------------------- */

static int valid_order_id(const char *s) {
  size_t n = s ? strlen(s) : 0;
  if (n == 0 || n > CASHBACK_ID_MAX)
    return 0;
  for (size_t i = 0; i < n; i++)
    if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
      return 0;
  return 1;
}

static int valid_event_id(const char *s) {
  if (!s || strlen(s) != CASHBACK_EVENT_ID_LEN)
    return 0;
  for (size_t i = 0; i < CASHBACK_EVENT_ID_LEN; i++)
    if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
      return 0;
  return 1;
}

static int valid_currency(const char *s) {
  if (!s || strlen(s) != 3)
    return 0;
  for (int i = 0; i < 3; i++)
    if (s[i] < 'A' || s[i] > 'Z')
      return 0;
  return 1;
}

static int valid_text(const char *s, size_t max) {
  size_t n = strlen(s);
  if (n > max)
    return 0;
  for (size_t i = 0; i < n; i++)
    if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
      return 0;
  return 1;
}

/* --- Orders in memory --------------------------------------------------- */

static void entry_free(entry *e) {
  if (e) {
    free(e->r);
    free(e);
  }
}

/* The summary fields of e->o from its refunds. */
static void entry_sum(entry *e) {
  int64_t sum = 0;
  int mixed = 0;
  for (size_t i = 0; i < e->nr; i++) {
    sum += e->r[i].minor;
    if (strcmp(e->r[i].cur, e->o.currency) != 0)
      mixed = 1;
  }
  e->o.refunded_minor = sum;
  e->o.refunds = e->nr;
  e->o.mixed_currency = mixed;
}

static entry *entry_copy(const entry *from, const char *order_id) {
  entry *e = calloc(1, sizeof(*e));
  if (!e)
    return NULL;
  if (from) {
    *e = *from;
    e->r = NULL;
    if (from->nr) {
      e->r = malloc(from->nr * sizeof(*e->r));
      if (!e->r) {
        free(e);
        return NULL;
      }
      memcpy(e->r, from->r, from->nr * sizeof(*e->r));
    }
  } else {
    snprintf(e->o.order_id, sizeof(e->o.order_id), "%s", order_id);
  }
  return e;
}

static uint64_t hash_id(const char *s) {
  uint64_t h = 1469598103934665603ULL;
  for (; *s; s++)
    h = (h ^ (unsigned char)*s) * 1099511628211ULL;
  return h;
}

/* The slot of `id`, or the empty slot where it would go. */
static size_t find_slot(const cashback__ledger *l, const char *id) {
  size_t mask = l->cap - 1, i = (size_t)hash_id(id) & mask;
  while (l->slot[i] && strcmp(l->slot[i]->o.order_id, id) != 0)
    i = (i + 1) & mask;
  return i;
}

static entry *find(const cashback__ledger *l, const char *id) {
  return l->cap ? l->slot[find_slot(l, id)] : NULL;
}

static int grow(cashback__ledger *l) {
  if ((l->n + 1) * 2 <= l->cap)
    return 0;
  size_t cap = l->cap ? l->cap * 2 : 64;
  entry **old = l->slot;
  size_t old_cap = l->cap;
  l->slot = calloc(cap, sizeof(*l->slot));
  if (!l->slot) {
    l->slot = old;
    return -1;
  }
  l->cap = cap;
  for (size_t i = 0; i < old_cap; i++)
    if (old[i])
      l->slot[find_slot(l, old[i]->o.order_id)] = old[i];
  free(old);
  return 0;
}

/* Puts `e` in place of the order of its id (freeing that one). */
static int put(cashback__ledger *l, entry *e) {
  if (grow(l) != 0)
    return -1;
  size_t i = find_slot(l, e->o.order_id);
  if (l->slot[i]) {
    l->st.live_bytes -= l->slot[i]->rec_bytes;
    entry_free(l->slot[i]);
  } else {
    l->n++;
  }
  l->slot[i] = e;
  l->st.live_bytes += e->rec_bytes;
  return 0;
}

/* Removes the order in slot i (linear probing: the run after it moves
 * back). */
static void remove_slot(cashback__ledger *l, size_t i) {
  size_t mask = l->cap - 1;
  l->st.live_bytes -= l->slot[i]->rec_bytes;
  entry_free(l->slot[i]);
  l->slot[i] = NULL;
  l->n--;
  for (size_t j = (i + 1) & mask; l->slot[j]; j = (j + 1) & mask) {
    size_t home = (size_t)hash_id(l->slot[j]->o.order_id) & mask;
    /* Moves back when its home is not in (i, j] cyclically. */
    if ((j > i && (home <= i || home > j)) ||
        (j < i && (home <= i && home > j))) {
      l->slot[i] = l->slot[j];
      l->slot[j] = NULL;
      i = j;
    }
  }
}

static void remove_id(cashback__ledger *l, const char *id) {
  if (!l->cap)
    return;
  size_t i = find_slot(l, id);
  if (l->slot[i])
    remove_slot(l, i);
}

static void clear(cashback__ledger *l) {
  for (size_t i = 0; i < l->cap; i++)
    entry_free(l->slot[i]);
  free(l->slot);
  l->slot = NULL;
  l->cap = l->n = 0;
  l->st.live_bytes = 0;
}

/* --- Record payloads ---------------------------------------------------- */

static int json_int(const cJSON *j, int64_t lo, int64_t hi, int64_t *out) {
  if (!cJSON_IsNumber(j))
    return -1;
  double d = j->valuedouble;
  if (!(d >= (double)lo && d <= (double)hi) || d != (double)(int64_t)d)
    return -1;
  *out = (int64_t)d;
  return 0;
}

static int json_str(const cJSON *j, char *out, size_t size) {
  if (!cJSON_IsString(j) || !j->valuestring)
    return -1;
  size_t n = strlen(j->valuestring);
  if (n >= size)
    return -1;
  memcpy(out, j->valuestring, n + 1);
  return 0;
}

static int parse_state(const char *s, cashback__ledger_state *out) {
  for (int i = 0; i <= CASHBACK__LEDGER_CONFIRMED; i++)
    if (strcmp(s, cashback__ledger_state_name((cashback__ledger_state)i)) ==
        0) {
      *out = (cashback__ledger_state)i;
      return 0;
    }
  return -1;
}

/* Parses one record's payload: an order (*out, 0) or its removal (*gone
 * set, `id` its order id). -1 for anything else. */
static int parse_payload(const uint8_t *p, size_t len, entry **out, int *gone,
                         char id[CASHBACK_ID_MAX + 1]) {
  *out = NULL;
  *gone = 0;
  cJSON *j = cJSON_ParseWithLength((const char *)p, len);
  entry *e = calloc(1, sizeof(*e));
  int64_t v = 0;
  int ok = j && e && cJSON_IsObject(j) &&
           json_int(cJSON_GetObjectItemCaseSensitive(j, "v"), 1, 1, &v) == 0 &&
           json_str(cJSON_GetObjectItemCaseSensitive(j, "o"), id,
                    CASHBACK_ID_MAX + 1) == 0 &&
           valid_order_id(id);
  if (ok && cJSON_GetObjectItemCaseSensitive(j, "gone")) {
    *gone = 1;
    cJSON_Delete(j);
    free(e);
    return 0;
  }
  char st[16];
  if (ok) {
    memcpy(e->o.order_id, id, sizeof(e->o.order_id));
    ok = json_str(cJSON_GetObjectItemCaseSensitive(j, "st"), st, sizeof(st)) ==
             0 &&
         parse_state(st, &e->o.state) == 0 &&
         json_int(cJSON_GetObjectItemCaseSensitive(j, "u"), 0, INT64_MAX / 2,
                  &e->o.updated_ms) == 0;
  }
  const cJSON *sale = ok ? cJSON_GetObjectItemCaseSensitive(j, "sale") : NULL;
  if (ok && sale) {
    int64_t off = 0;
    e->o.has_sale = 1;
    ok = cJSON_IsObject(sale) &&
         json_str(cJSON_GetObjectItemCaseSensitive(sale, "id"), e->o.sale_id,
                  sizeof(e->o.sale_id)) == 0 &&
         valid_event_id(e->o.sale_id) &&
         json_int(cJSON_GetObjectItemCaseSensitive(sale, "amt"), 0, AMOUNT_MAX,
                  &e->o.sale_minor) == 0 &&
         json_str(cJSON_GetObjectItemCaseSensitive(sale, "ot"), e->o.order_time,
                  sizeof(e->o.order_time)) == 0 &&
         valid_text(e->o.order_time, CASHBACK__LEDGER_TIME_MAX - 1) &&
         json_int(cJSON_GetObjectItemCaseSensitive(sale, "off"), -14 * 60,
                  14 * 60, &off) == 0;
    e->o.utc_offset_min = (int)off;
  }
  /* The order's currency: the sale's, else the first refund's. */
  const cJSON *cur = sale ? cJSON_GetObjectItemCaseSensitive(sale, "cur")
                          : cJSON_GetObjectItemCaseSensitive(j, "cur");
  ok = ok && json_str(cur, e->o.currency, sizeof(e->o.currency)) == 0 &&
       valid_currency(e->o.currency);
  const cJSON *ref = ok ? cJSON_GetObjectItemCaseSensitive(j, "ref") : NULL;
  if (ok && ref)
    ok = json_str(ref, e->o.remote_ref, sizeof(e->o.remote_ref)) == 0 &&
         valid_text(e->o.remote_ref, CASHBACK__LEDGER_REF_MAX);
  const cJSON *rs = ok ? cJSON_GetObjectItemCaseSensitive(j, "r") : NULL;
  if (ok && rs) {
    int n = cJSON_GetArraySize(rs);
    ok = cJSON_IsArray(rs) && n >= 0 && n <= CASHBACK__LEDGER_REFUNDS_MAX;
    if (ok && n > 0) {
      e->r = calloc((size_t)n, sizeof(*e->r));
      ok = e->r != NULL;
    }
    const cJSON *it;
    cJSON_ArrayForEach(it, rs) {
      if (!ok)
        break;
      refund *r = &e->r[e->nr];
      ok = cJSON_IsArray(it) && cJSON_GetArraySize(it) == 3 &&
           json_str(cJSON_GetArrayItem(it, 0), r->id, sizeof(r->id)) == 0 &&
           valid_event_id(r->id) &&
           json_int(cJSON_GetArrayItem(it, 1), 1, AMOUNT_MAX, &r->minor) == 0 &&
           json_str(cJSON_GetArrayItem(it, 2), r->cur, sizeof(r->cur)) == 0 &&
           valid_currency(r->cur);
      for (size_t k = 0; ok && k < e->nr; k++)
        ok = strcmp(e->r[k].id, r->id) != 0; /* each refund once */
      if (ok)
        e->nr++;
    }
  }
  ok = ok && (e->o.has_sale || e->nr > 0);
  cJSON_Delete(j);
  if (!ok) {
    entry_free(e);
    return -1;
  }
  entry_sum(e);
  *out = e;
  return 0;
}

static int add_raw_int(cJSON *o, const char *name, int64_t v) {
  char num[24];
  snprintf(num, sizeof(num), "%" PRId64, v);
  return cJSON_AddRawToObject(o, name, num) != NULL;
}

/* The payload of an order's record (or of its removal, `e` NULL); free()
 * it. */
static char *encode_payload(const entry *e, const char *gone_id) {
  cJSON *j = cJSON_CreateObject();
  int ok = j && add_raw_int(j, "v", 1) &&
           cJSON_AddStringToObject(j, "o", e ? e->o.order_id : gone_id);
  if (ok && !e) {
    ok = add_raw_int(j, "gone", 1);
  } else if (ok) {
    ok = cJSON_AddStringToObject(j, "st",
                                 cashback__ledger_state_name(e->o.state)) &&
         add_raw_int(j, "u", e->o.updated_ms);
    if (ok && e->o.has_sale) {
      cJSON *s = cJSON_AddObjectToObject(j, "sale");
      ok = s && cJSON_AddStringToObject(s, "id", e->o.sale_id) &&
           cJSON_AddStringToObject(s, "cur", e->o.currency) &&
           add_raw_int(s, "amt", e->o.sale_minor) &&
           cJSON_AddStringToObject(s, "ot", e->o.order_time) &&
           add_raw_int(s, "off", e->o.utc_offset_min);
    } else if (ok) {
      ok = cJSON_AddStringToObject(j, "cur", e->o.currency) != NULL;
    }
    if (ok && e->o.remote_ref[0])
      ok = cJSON_AddStringToObject(j, "ref", e->o.remote_ref) != NULL;
    if (ok && e->nr) {
      cJSON *a = cJSON_AddArrayToObject(j, "r");
      ok = a != NULL;
      for (size_t i = 0; ok && i < e->nr; i++) {
        cJSON *r = cJSON_CreateArray();
        char num[24];
        snprintf(num, sizeof(num), "%" PRId64, e->r[i].minor);
        cJSON *amt = cJSON_CreateRaw(num);
        ok = r && cJSON_AddItemToArray(a, r) && amt &&
             cJSON_AddItemToArray(r, cJSON_CreateString(e->r[i].id)) &&
             cJSON_AddItemToArray(r, amt) &&
             cJSON_AddItemToArray(r, cJSON_CreateString(e->r[i].cur));
        if (!ok && amt && !r)
          cJSON_Delete(amt);
      }
    }
  }
  char *text = ok ? cJSON_PrintUnformatted(j) : NULL;
  cJSON_Delete(j);
  return text;
}

/* Appends the record of `e` (or of the removal of `gone_id`) to `b`. */
static int add_record(uint8_t **b, size_t *len, size_t *cap, const entry *e,
                      const char *gone_id, int64_t now_ms, size_t *rec_len) {
  char *payload = encode_payload(e, gone_id);
  if (!payload)
    return -1;
  size_t total = 0;
  uint8_t *rec =
      cashback__record_encode(payload, strlen(payload), now_ms, &total);
  cJSON_free(payload);
  if (!rec)
    return -1;
  if (*len + total > *cap) {
    size_t nc = (*cap ? *cap * 2 : 4096);
    while (nc < *len + total)
      nc *= 2;
    uint8_t *nb = realloc(*b, nc);
    if (!nb) {
      free(rec);
      return -1;
    }
    *b = nb;
    *cap = nc;
  }
  memcpy(*b + *len, rec, total);
  *len += total;
  free(rec);
  if (rec_len)
    *rec_len = total;
  return 0;
}

/* --- Reading ledger.log ------------------------------------------------- */

/* Takes the records in `p` (`n` bytes read at file offset `base`). */
static void take_records(cashback__ledger *l, const uint8_t *p, size_t n,
                         uint64_t base) {
  size_t pos = 0;
  l->st.torn_bytes = 0;
  while (pos < n) {
    size_t len = 0;
    int64_t t = 0;
    cashback__rec r = cashback__record_decode(p + pos, n - pos, &len, &t);
    if (r == CASHBACK__REC_OK) {
      size_t total = CASHBACK__RECORD_HEADER + len;
      entry *e = NULL;
      int gone = 0;
      char id[CASHBACK_ID_MAX + 1];
      if (parse_payload(p + pos + CASHBACK__RECORD_HEADER, len, &e, &gone,
                        id) != 0) {
        l->st.bad_records++;
      } else if (gone) {
        remove_id(l, id);
      } else {
        e->rec_bytes = total;
        if (put(l, e) != 0) {
          entry_free(e);
          l->st.bad_records++; /* out of memory: counted, skipped */
        }
      }
      pos += total;
      l->valid_end = base + pos;
      continue;
    }
    /* Damage, or a partial record: one that a valid record follows is
     * damage; at the end, a write in progress or a torn tail. */
    size_t next = cashback__record_resync(p, n, pos + 1);
    if (r == CASHBACK__REC_SHORT && next >= n) {
      l->st.torn_bytes = n - pos;
      break;
    }
    l->st.damaged++;
    pos = next;
    l->valid_end = base + pos;
  }
}

static void drop_file(cashback__ledger *l) {
  if (l->fd >= 0)
    close(l->fd);
  l->fd = -1;
  l->size = l->valid_end = 0;
}

/* Reads what changed in ledger.log since this object last looked. */
static cashback_status refresh(cashback__ledger *l, char *err,
                               size_t err_size) {
  int fd =
      cashback__spool_openat(l->spool, LEDGER_FILE, O_RDONLY | O_NONBLOCK, 0);
  if (fd < 0) {
    int e = errno;
    if (e == ENOENT) {
      drop_file(l);
      clear(l);
      l->st.damaged = l->st.bad_records = l->st.torn_bytes = 0;
      return CASHBACK_OK;
    }
    errf(err, err_size, "%s/%s: cannot open: %s (euid %u)",
         cashback__spool_dir(l->spool), LEDGER_FILE, strerror(e),
         (unsigned)geteuid());
    return CASHBACK_E_IO;
  }
  struct stat sb;
  if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
    errf(err, err_size, "%s/%s: not a regular file",
         cashback__spool_dir(l->spool), LEDGER_FILE);
    close(fd);
    return CASHBACK_E_IO;
  }
  uint64_t fsize = (uint64_t)sb.st_size;
  if (fsize > CASHBACK__LEDGER_FILE_MAX) {
    errf(err, err_size, "%s/%s: %" PRIu64 " bytes, more than the %llu allowed",
         cashback__spool_dir(l->spool), LEDGER_FILE, fsize,
         (unsigned long long)CASHBACK__LEDGER_FILE_MAX);
    close(fd);
    return CASHBACK_E_TOO_BIG;
  }
  uint64_t from;
  if (l->fd >= 0 && sb.st_dev == l->dev && sb.st_ino == l->ino &&
      fsize >= l->size) {
    close(fd);
    if (fsize == l->size)
      return CASHBACK_OK;
    from = l->valid_end; /* appended since */
  } else {
    drop_file(l);
    clear(l);
    l->fd = fd;
    l->dev = sb.st_dev;
    l->ino = sb.st_ino;
    l->st.damaged = l->st.bad_records = 0;
    l->st.reloads++;
    from = 0;
  }
  size_t n = (size_t)(fsize - from);
  uint8_t *buf = malloc(n ? n : 1);
  if (!buf) {
    errf(err, err_size, "%s: out of memory reading %zu bytes", LEDGER_FILE, n);
    drop_file(l);
    clear(l);
    return CASHBACK_E_NOMEM;
  }
  size_t got = 0;
  while (got < n) {
    ssize_t r = pread(l->fd, buf + got, n - got, (off_t)(from + got));
    if (r < 0 && errno == EINTR)
      continue;
    if (r < 0) {
      int e = errno;
      errf(err, err_size, "%s/%s: cannot read: %s",
           cashback__spool_dir(l->spool), LEDGER_FILE, strerror(e));
      free(buf);
      drop_file(l);
      clear(l);
      return CASHBACK_E_IO;
    }
    if (r == 0)
      break; /* cut meanwhile: read again from the start next time */
    got += (size_t)r;
  }
  take_records(l, buf, got, from);
  l->size = from + got;
  free(buf);
  return CASHBACK_OK;
}

/* --- Writing ------------------------------------------------------------ */

static cashback_status io_status(int e) {
  return e == ENOSPC || e == EDQUOT ? CASHBACK_E_DISK_FULL : CASHBACK_E_IO;
}

/* Appends `len` bytes of whole records with one write(). */
static cashback_status append(cashback__ledger *l, const uint8_t *b, size_t len,
                              char *err, size_t err_size) {
  int fd = cashback__spool_openat(l->spool, LEDGER_FILE,
                                  O_WRONLY | O_CREAT | O_APPEND, 0600);
  struct stat sb;
  int e = 0;
  if (fd < 0 || fstat(fd, &sb) != 0)
    e = errno;
  if (!e) {
    ssize_t w;
    do
      w = write(fd, b, len);
    while (w < 0 && errno == EINTR);
    if (w != (ssize_t)len) {
      e = w < 0 ? errno : ENOSPC;
      if (w > 0 && ftruncate(fd, sb.st_size) != 0) {
        /* left as a torn tail: readers skip it, the next apply rewrites */
      }
    } else if (l->sync && l->group) {
      l->dirty = 1;
      l->dir_dirty |= sb.st_size == 0;
    } else if (l->sync && (fdatasync(fd) != 0 ||
                           (sb.st_size == 0 &&
                            fsync(cashback__spool_dirfd(l->spool)) != 0))) {
      e = errno;
    }
  }
  if (e) {
    if (fd >= 0)
      close(fd);
    errf(err, err_size, "%s/%s: cannot append: %s (euid %u)",
         cashback__spool_dir(l->spool), LEDGER_FILE, strerror(e),
         (unsigned)geteuid());
    return io_status(e);
  }
  if (l->fd >= 0 && sb.st_dev == l->dev && sb.st_ino == l->ino &&
      (uint64_t)sb.st_size == l->size) {
    close(fd);
    if (l->valid_end == l->size)
      l->valid_end += len;
    l->size += len;
  } else {
    /* A new file (or one we did not read): pin it, ours from its start. */
    drop_file(l);
    int rfd =
        cashback__spool_openat(l->spool, LEDGER_FILE, O_RDONLY | O_NONBLOCK, 0);
    struct stat rb;
    close(fd);
    if (rfd >= 0 && fstat(rfd, &rb) == 0 && rb.st_ino == sb.st_ino &&
        rb.st_dev == sb.st_dev && sb.st_size == 0) {
      l->fd = rfd;
      l->dev = rb.st_dev;
      l->ino = rb.st_ino;
      l->size = l->valid_end = len;
    } else if (rfd >= 0) {
      close(rfd); /* read whole next time */
    }
  }
  l->st.file_bytes = l->size;
  return CASHBACK_OK;
}

static int crashed(cashback__ledger *l, int step) {
  if (l->crash_at != step)
    return 0;
  l->crash_at = 0;
  return 1;
}

static cashback_status compact_locked(cashback__ledger *l, int64_t now_ms) {
  if (!l->swept) {
    cashback__spool_sweep_tmp(l->spool, LEDGER_TMP);
    l->swept = 1;
  }
  uint8_t *b = NULL;
  size_t len = 0, cap = 0;
  uint64_t live = 0;
  struct stat sb;
  memset(&sb, 0, sizeof(sb));
  for (size_t i = 0; i < l->cap; i++) {
    entry *e = l->slot[i];
    if (!e)
      continue;
    size_t rl = 0;
    if (add_record(&b, &len, &cap, e, NULL, now_ms, &rl) != 0) {
      free(b);
      return CASHBACK_E_NOMEM;
    }
    e->rec_bytes = rl;
    live += rl;
  }
  l->st.live_bytes = live;
  char tmp[64];
  snprintf(tmp, sizeof(tmp), LEDGER_TMP ".%ld.tmp", (long)getpid());
  int dirfd = cashback__spool_dirfd(l->spool);
  int fd =
      cashback__spool_openat(l->spool, tmp, O_WRONLY | O_CREAT | O_TRUNC, 0600);
  int e = fd < 0 ? errno : 0;
  if (!e && crashed(l, 1))
    goto crash;
  for (size_t off = 0; !e && off < len;) {
    ssize_t w = write(fd, b + off, len - off);
    if (w < 0 && errno == EINTR)
      continue;
    if (w <= 0)
      e = w < 0 ? errno : ENOSPC;
    else
      off += (size_t)w;
  }
  if (!e && crashed(l, 2))
    goto crash;
  if (!e && l->sync && fsync(fd) != 0)
    e = errno;
  if (!e && crashed(l, 3))
    goto crash;
  if (!e && fstat(fd, &sb) != 0)
    e = errno;
  if (!e && renameat(dirfd, tmp, dirfd, LEDGER_FILE) != 0)
    e = errno;
  if (!e && crashed(l, 4)) {
    drop_file(l); /* read the new file whole next time */
    goto crash;
  }
  if (!e && l->sync && fsync(dirfd) != 0)
    e = errno; /* renamed: the new file is the ledger either way */
  free(b);
  if (fd >= 0)
    close(fd);
  if (e) {
    unlinkat(dirfd, tmp, 0);
    drop_file(l); /* read whatever the name holds next time */
    return io_status(e);
  }
  drop_file(l);
  int rfd =
      cashback__spool_openat(l->spool, LEDGER_FILE, O_RDONLY | O_NONBLOCK, 0);
  struct stat rb;
  if (rfd >= 0 && fstat(rfd, &rb) == 0 && rb.st_ino == sb.st_ino &&
      rb.st_dev == sb.st_dev) {
    l->fd = rfd;
    l->dev = rb.st_dev;
    l->ino = rb.st_ino;
    l->size = l->valid_end = len;
  } else if (rfd >= 0) {
    close(rfd);
  }
  l->st.damaged = l->st.bad_records = l->st.torn_bytes = 0;
  l->st.file_bytes = len;
  l->st.compactions++;
  l->dirty = l->dir_dirty = 0; /* the new file was synced whole */
  return CASHBACK_OK;
crash:
  free(b);
  if (fd >= 0)
    close(fd);
  return CASHBACK_E_IO;
}

static cashback_status maybe_compact(cashback__ledger *l, int64_t now_ms) {
  if (l->size < l->compact_min || l->size <= 2 * l->st.live_bytes)
    return CASHBACK_OK;
  return compact_locked(l, now_ms);
}

/* Removes the orders `ids` (n of them, order ids of entries held) with one
 * append of their removal records. */
static cashback_status drop_orders(cashback__ledger *l, char (*ids)[65],
                                   size_t n, int64_t now_ms) {
  if (n == 0)
    return CASHBACK_OK;
  uint8_t *b = NULL;
  size_t len = 0, cap = 0;
  for (size_t i = 0; i < n; i++)
    if (add_record(&b, &len, &cap, NULL, ids[i], now_ms, NULL) != 0) {
      free(b);
      return CASHBACK_E_NOMEM;
    }
  cashback_status st = append(l, b, len, NULL, 0);
  free(b);
  if (st != CASHBACK_OK)
    return st;
  for (size_t i = 0; i < n; i++)
    remove_id(l, ids[i]);
  return CASHBACK_OK;
}

static cashback_status prune_locked(cashback__ledger *l, int64_t now_ms) {
  l->pruned_at_ms = now_ms;
  l->pruned_once = 1;
  size_t n = 0, cap = 0;
  char(*ids)[65] = NULL;
  for (size_t i = 0; i < l->cap; i++) {
    entry *e = l->slot[i];
    if (!e)
      continue;
    int64_t age = now_ms - e->o.updated_ms;
    int go = e->o.state == CASHBACK__LEDGER_CONFIRMED
                 ? age >= CASHBACK__LEDGER_CONFIRMED_KEEP_MS
                 : age >= l->window_ms;
    if (!go)
      continue;
    if (n == cap) {
      size_t nc = cap ? cap * 2 : 16;
      void *p = realloc(ids, nc * sizeof(*ids));
      if (!p)
        break;
      ids = p;
      cap = nc;
    }
    memcpy(ids[n++], e->o.order_id, sizeof(ids[0]));
  }
  cashback_status st = drop_orders(l, ids, n, now_ms);
  free(ids);
  if (st == CASHBACK_OK)
    l->st.pruned += n;
  return st != CASHBACK_OK ? st : maybe_compact(l, now_ms);
}

static int by_age(const void *a, const void *b) {
  const entry *x = *(entry *const *)a, *y = *(entry *const *)b;
  if (x->o.updated_ms != y->o.updated_ms)
    return x->o.updated_ms < y->o.updated_ms ? -1 : 1;
  return strcmp(x->o.order_id, y->o.order_id);
}

/* Keeps at most `keep` orders: drops those updated longest ago, with one
 * append. */
static cashback_status trim(cashback__ledger *l, size_t keep, int64_t now_ms) {
  if (l->n <= keep)
    return CASHBACK_OK;
  entry **all = malloc(l->n * sizeof(*all));
  size_t drop = l->n - keep;
  char(*ids)[65] = malloc(drop * sizeof(*ids));
  cashback_status st = CASHBACK_E_NOMEM;
  if (all && ids) {
    size_t k = 0;
    for (size_t i = 0; i < l->cap; i++)
      if (l->slot[i])
        all[k++] = l->slot[i];
    qsort(all, k, sizeof(*all), by_age);
    for (size_t i = 0; i < drop; i++)
      memcpy(ids[i], all[i]->o.order_id, sizeof(ids[0]));
    st = drop_orders(l, ids, drop, now_ms);
    if (st == CASHBACK_OK)
      l->st.evicted += drop;
  }
  free(all);
  free(ids);
  return st;
}

/* --- The calls ---------------------------------------------------------- */

static void ledger_fork_child(void *p) {
  cashback__ledger *l = p;
  if (cashback__fork_reset_mutex(&l->mu))
    l->size = UINT64_MAX; /* possibly torn: read again (a new inode check) */
}

static const cashback__fork_hooks ledger_fork_hooks = {NULL, NULL,
                                                       ledger_fork_child};

cashback_status cashback__ledger_open(cashback__spool *spool, size_t max_orders,
                                      int64_t window_ms, cashback__ledger **out,
                                      char *err, size_t err_size) {
  errf(err, err_size, "%s", "");
  if (out)
    *out = NULL;
  if (!spool || !out || window_ms <= 0 ||
      max_orders > CASHBACK__LEDGER_ORDERS_MAX) {
    errf(err, err_size, "ledger: %s",
         !spool || !out   ? "spool and out must not be NULL"
         : window_ms <= 0 ? "the window must be above 0"
                          : "max_orders: at most 10000000");
    return CASHBACK_E_INVALID_ARGUMENT;
  }
  cashback__ledger *l = calloc(1, sizeof(*l));
  if (!l || pthread_mutex_init(&l->mu, NULL) != 0) {
    free(l);
    errf(err, err_size, "ledger: out of memory");
    return CASHBACK_E_NOMEM;
  }
  l->spool = spool;
  l->max_orders = max_orders ? max_orders : CASHBACK__LEDGER_ORDERS_DEFAULT;
  l->window_ms = window_ms;
  l->sync = 1;
  l->compact_min = COMPACT_MIN_DEFAULT;
  l->fd = -1;
  cashback_status st = refresh(l, err, err_size);
  if (st != CASHBACK_OK) {
    pthread_mutex_destroy(&l->mu);
    clear(l);
    drop_file(l);
    free(l);
    return st;
  }
  cashback__fork_register(&l->fork_node, &ledger_fork_hooks, l);
  *out = l;
  return CASHBACK_OK;
}

void cashback__ledger_free(cashback__ledger *l) {
  if (!l)
    return;
  cashback__fork_unregister(&l->fork_node);
  clear(l);
  drop_file(l);
  pthread_mutex_destroy(&l->mu);
  free(l);
}

cashback_status cashback__ledger_lookup(cashback__ledger *l,
                                        const char *order_id,
                                        cashback__ledger_order *out, char *err,
                                        size_t err_size) {
  errf(err, err_size, "%s", "");
  if (!l || !order_id || !out)
    return CASHBACK_E_INVALID_ARGUMENT;
  pthread_mutex_lock(&l->mu);
  cashback_status st = refresh(l, err, err_size);
  entry *e = st == CASHBACK_OK ? find(l, order_id) : NULL;
  if (e)
    *out = e->o;
  else if (st == CASHBACK_OK)
    st = CASHBACK_E_NOT_FOUND;
  pthread_mutex_unlock(&l->mu);
  return st;
}

int cashback__ledger_get(cashback__ledger *l, const char *order_id,
                         cashback__ledger_order *out) {
  return cashback__ledger_lookup(l, order_id, out, NULL, 0) == CASHBACK_OK;
}

static const refund *find_refund(const entry *e, const char *id) {
  for (size_t i = 0; i < e->nr; i++)
    if (strcmp(e->r[i].id, id) == 0)
      return &e->r[i];
  return NULL;
}

cashback_status cashback__ledger_new_total(cashback__ledger *l,
                                           const char *order_id,
                                           const char event_id[33],
                                           int64_t refund_minor,
                                           int64_t *total_minor) {
  if (!l || !order_id || !valid_event_id(event_id) || !total_minor ||
      refund_minor <= 0 || refund_minor > AMOUNT_MAX)
    return CASHBACK_E_INVALID_ARGUMENT;
  pthread_mutex_lock(&l->mu);
  cashback_status st = refresh(l, NULL, 0);
  entry *e = st == CASHBACK_OK ? find(l, order_id) : NULL;
  if (st == CASHBACK_OK && (!e || !e->o.has_sale))
    st = CASHBACK_E_NOT_FOUND;
  else if (st == CASHBACK_OK && e->o.mixed_currency)
    st = CASHBACK_E_CURRENCY;
  if (st == CASHBACK_OK) {
    int64_t t = e->o.sale_minor - e->o.refunded_minor;
    if (!find_refund(e, event_id)) {
      if (e->nr >= CASHBACK__LEDGER_REFUNDS_MAX)
        st = CASHBACK_E_TOO_BIG;
      t -= refund_minor;
    }
    *total_minor = t > 0 ? t : 0;
  }
  pthread_mutex_unlock(&l->mu);
  return st;
}

static cashback_status check_change(const cashback__ledger_change *ch,
                                    char *err, size_t err_size) {
  if (ch->type < CASHBACK_EVENT_SALE || ch->type > CASHBACK_EVENT_CONFIRM) {
    errf(err, err_size, "ledger: type %d is not an event type", (int)ch->type);
    return CASHBACK_E_INVALID_ARGUMENT;
  }
  const char *what = NULL;
  if (!valid_order_id(ch->order_id))
    what = "order_id: must be 1 to 64 bytes, no control characters";
  else if (!valid_event_id(ch->event_id))
    what = "event_id: must be 32 lowercase hex digits";
  else if ((ch->type == CASHBACK_EVENT_SALE ||
            ch->type == CASHBACK_EVENT_REFUND) &&
           !valid_currency(ch->currency))
    what = "currency: must be 3 capital letters";
  else if (ch->type == CASHBACK_EVENT_SALE &&
           (ch->amount_minor < 0 || ch->amount_minor > AMOUNT_MAX))
    what = "amount: a sale's must be 0 to 10^15 minor units";
  else if (ch->type == CASHBACK_EVENT_REFUND &&
           (ch->amount_minor <= 0 || ch->amount_minor > AMOUNT_MAX))
    what = "amount: a refund's must be 1 to 10^15 minor units";
  else if (ch->order_time &&
           !valid_text(ch->order_time, CASHBACK__LEDGER_TIME_MAX - 1))
    what = "order_time: at most 39 bytes, no control characters";
  else if (ch->utc_offset_min < -14 * 60 || ch->utc_offset_min > 14 * 60)
    what = "utc_offset: must be -14:00 to +14:00";
  else if (ch->remote_ref &&
           !valid_text(ch->remote_ref, CASHBACK__LEDGER_REF_MAX))
    what = "remote_ref: at most 256 bytes, no control characters";
  if (what) {
    errf(err, err_size, "ledger: order %s: %s",
         valid_order_id(ch->order_id) ? ch->order_id : "?", what);
    return CASHBACK_E_FIELD;
  }
  return CASHBACK_OK;
}

/* The order after `ch`: *out NULL when nothing changes. */
static cashback_status changed(const entry *cur,
                               const cashback__ledger_change *ch,
                               int64_t now_ms, entry **out, char *err,
                               size_t err_size) {
  *out = NULL;
  int ref_changes =
      ch->remote_ref && (!cur || strcmp(cur->o.remote_ref, ch->remote_ref));
  if (!cur &&
      (ch->type == CASHBACK_EVENT_CANCEL || ch->type == CASHBACK_EVENT_CONFIRM))
    return CASHBACK_OK; /* nothing to record it against */
  int same = 0;
  switch (ch->type) {
  case CASHBACK_EVENT_SALE:
    same = cur && cur->o.has_sale && !strcmp(cur->o.sale_id, ch->event_id);
    break;
  case CASHBACK_EVENT_REFUND:
    same = cur && find_refund(cur, ch->event_id);
    if (!same && cur && cur->o.has_sale &&
        strcmp(cur->o.currency, ch->currency) != 0) {
      errf(err, err_size, "ledger: order %s: a refund in %s, the sale in %s",
           ch->order_id, ch->currency, cur->o.currency);
      return CASHBACK_E_CURRENCY;
    }
    if (!same && cur && cur->nr >= CASHBACK__LEDGER_REFUNDS_MAX) {
      errf(err, err_size,
           "ledger: order %s: already %d refunds, the most it keeps",
           ch->order_id, CASHBACK__LEDGER_REFUNDS_MAX);
      return CASHBACK_E_TOO_BIG;
    }
    break;
  case CASHBACK_EVENT_CANCEL:
    same = cur->o.state == CASHBACK__LEDGER_CANCELLED;
    break;
  case CASHBACK_EVENT_CONFIRM:
    same = cur->o.state == CASHBACK__LEDGER_CONFIRMED;
    break;
  }
  if (same && !ref_changes)
    return CASHBACK_OK;
  entry *e = entry_copy(cur, ch->order_id);
  if (!e)
    return CASHBACK_E_NOMEM;
  if (!same) {
    switch (ch->type) {
    case CASHBACK_EVENT_SALE:
      e->o.has_sale = 1;
      snprintf(e->o.sale_id, sizeof(e->o.sale_id), "%s", ch->event_id);
      snprintf(e->o.currency, sizeof(e->o.currency), "%s", ch->currency);
      e->o.sale_minor = ch->amount_minor;
      snprintf(e->o.order_time, sizeof(e->o.order_time), "%s",
               ch->order_time ? ch->order_time : "");
      e->o.utc_offset_min = ch->order_time ? ch->utc_offset_min : 0;
      break;
    case CASHBACK_EVENT_REFUND: {
      refund *r = realloc(e->r, (e->nr + 1) * sizeof(*r));
      if (!r) {
        entry_free(e);
        return CASHBACK_E_NOMEM;
      }
      e->r = r;
      r = &e->r[e->nr++];
      snprintf(r->id, sizeof(r->id), "%s", ch->event_id);
      r->minor = ch->amount_minor;
      snprintf(r->cur, sizeof(r->cur), "%s", ch->currency);
      if (!cur)
        snprintf(e->o.currency, sizeof(e->o.currency), "%s", ch->currency);
      break;
    }
    case CASHBACK_EVENT_CANCEL:
      e->o.state = CASHBACK__LEDGER_CANCELLED;
      break;
    case CASHBACK_EVENT_CONFIRM:
      e->o.state = CASHBACK__LEDGER_CONFIRMED;
      break;
    }
  }
  if (ref_changes)
    snprintf(e->o.remote_ref, sizeof(e->o.remote_ref), "%s", ch->remote_ref);
  e->o.updated_ms = now_ms;
  entry_sum(e);
  *out = e;
  return CASHBACK_OK;
}

cashback_status cashback__ledger_apply(cashback__ledger *l,
                                       const cashback__ledger_change *ch,
                                       int64_t now_ms, char *err,
                                       size_t err_size) {
  errf(err, err_size, "%s", "");
  if (!l || !ch) {
    errf(err, err_size, "ledger: l and ch must not be NULL");
    return CASHBACK_E_INVALID_ARGUMENT;
  }
  cashback_status st = check_change(ch, err, err_size);
  if (st != CASHBACK_OK)
    return st;
  pthread_mutex_lock(&l->mu);
  st = refresh(l, err, err_size);
  /* Damage or a torn tail: written over by a clean copy first (only the
   * sender writes, so nothing is in progress). */
  if (st == CASHBACK_OK &&
      (l->st.damaged || l->st.bad_records || l->valid_end != l->size))
    st = compact_locked(l, now_ms);
  /* The bound (lowered since the file was written, or a new order). */
  if (st == CASHBACK_OK)
    st = trim(l, l->max_orders, now_ms);
  entry *e = NULL;
  if (st == CASHBACK_OK)
    st = changed(find(l, ch->order_id), ch, now_ms, &e, err, err_size);
  if (st == CASHBACK_OK && e && !find(l, ch->order_id))
    st = trim(l, l->max_orders - 1, now_ms);
  uint8_t *b = NULL;
  size_t len = 0, cap = 0;
  if (st == CASHBACK_OK && e) {
    size_t rl = 0;
    st = add_record(&b, &len, &cap, e, NULL, now_ms, &rl) == 0
             ? append(l, b, len, err, err_size)
             : CASHBACK_E_NOMEM;
    e->rec_bytes = rl;
    if (st == CASHBACK_OK && put(l, e) != 0) {
      /* Stored but not held: read it back whole next time. */
      drop_file(l);
      st = CASHBACK_E_NOMEM;
    } else if (st == CASHBACK_OK) {
      e = NULL;
    }
  }
  free(b);
  entry_free(e);
  if (st == CASHBACK_OK &&
      (!l->pruned_once || now_ms - l->pruned_at_ms >= PRUNE_EVERY_MS))
    st = prune_locked(l, now_ms);
  else if (st == CASHBACK_OK)
    st = maybe_compact(l, now_ms);
  if (st != CASHBACK_OK && err && err_size && !err[0])
    errf(err, err_size, "ledger: %s", cashback_strerror(st));
  pthread_mutex_unlock(&l->mu);
  return st;
}

cashback_status cashback__ledger_prune(cashback__ledger *l, int64_t now_ms) {
  if (!l)
    return CASHBACK_E_INVALID_ARGUMENT;
  pthread_mutex_lock(&l->mu);
  cashback_status st = refresh(l, NULL, 0);
  if (st == CASHBACK_OK)
    st = prune_locked(l, now_ms);
  pthread_mutex_unlock(&l->mu);
  return st;
}

cashback_status cashback__ledger_compact(cashback__ledger *l) {
  if (!l)
    return CASHBACK_E_INVALID_ARGUMENT;
  pthread_mutex_lock(&l->mu);
  cashback_status st = refresh(l, NULL, 0);
  if (st == CASHBACK_OK)
    st = compact_locked(l, 0);
  pthread_mutex_unlock(&l->mu);
  return st;
}

cashback_status cashback__ledger_apply_event(cashback__ledger *l,
                                             const char *json, size_t len,
                                             int64_t now_ms, char *err,
                                             size_t err_size) {
  cJSON *j = json ? cJSON_ParseWithLength(json, len) : NULL;
  const char *type =
      cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j, "type"));
  cashback__ledger_change ch = {0};
  ch.event_id = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j, "id"));
  ch.order_id =
      cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j, "order_id"));
  ch.currency =
      cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j, "currency"));
  ch.order_time =
      cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j, "order_time"));
  for (int t = CASHBACK_EVENT_SALE; type && t <= CASHBACK_EVENT_CONFIRM; t++)
    if (strcmp(type, cashback_event_type_name((cashback_event_type)t)) == 0)
      ch.type = (cashback_event_type)t;
  const cJSON *amount = cJSON_GetObjectItemCaseSensitive(j, "amount");
  cashback_status st = CASHBACK_OK;
  if (!j || !ch.type) {
    errf(err, err_size, "ledger: not an event (%s)",
         !j ? "no JSON object" : "no known type");
    st = CASHBACK_E_FIELD;
  } else if (amount &&
             json_int(amount, -AMOUNT_MAX, AMOUNT_MAX, &ch.amount_minor) != 0) {
    errf(err, err_size, "ledger: order %s: amount: not an integer",
         ch.order_id && valid_order_id(ch.order_id) ? ch.order_id : "?");
    st = CASHBACK_E_FIELD;
  } else if (ch.order_time) {
    int64_t t;
    int off = 0;
    if (cashback__iso8601_parse(ch.order_time, strlen(ch.order_time), &t,
                                &off) != CASHBACK_OK) {
      errf(err, err_size, "ledger: order %s: order_time: not RFC 3339",
           ch.order_id && valid_order_id(ch.order_id) ? ch.order_id : "?");
      st = CASHBACK_E_FIELD;
    }
    ch.utc_offset_min = off;
  }
  if (st == CASHBACK_OK)
    st = cashback__ledger_apply(l, &ch, now_ms, err, err_size);
  cJSON_Delete(j);
  return st;
}

void cashback__ledger_stats_get(cashback__ledger *l,
                                cashback__ledger_stats *out) {
  pthread_mutex_lock(&l->mu);
  *out = l->st;
  out->orders = l->n;
  out->file_bytes = l->size;
  pthread_mutex_unlock(&l->mu);
}

void cashback__ledger_set_sync(cashback__ledger *l, int sync) {
  pthread_mutex_lock(&l->mu);
  l->sync = sync;
  pthread_mutex_unlock(&l->mu);
}

void cashback__ledger_set_group_commit(cashback__ledger *l, int on) {
  pthread_mutex_lock(&l->mu);
  l->group = on;
  pthread_mutex_unlock(&l->mu);
}

cashback_status cashback__ledger_commit(cashback__ledger *l) {
  if (!l)
    return CASHBACK_OK;
  pthread_mutex_lock(&l->mu);
  int e = 0;
  if (l->dirty && (l->fd < 0 || fdatasync(l->fd) != 0))
    e = l->fd < 0 ? EBADF : errno;
  if (!e && l->dir_dirty && fsync(cashback__spool_dirfd(l->spool)) != 0)
    e = errno;
  if (!e)
    l->dirty = l->dir_dirty = 0;
  pthread_mutex_unlock(&l->mu);
  return e ? io_status(e) : CASHBACK_OK;
}

void cashback__ledger_set_compact_min(cashback__ledger *l, uint64_t bytes) {
  pthread_mutex_lock(&l->mu);
  l->compact_min = bytes;
  pthread_mutex_unlock(&l->mu);
}

void cashback__ledger_set_crash_at(cashback__ledger *l, int step) {
  pthread_mutex_lock(&l->mu);
  l->crash_at = step;
  pthread_mutex_unlock(&l->mu);
}

/* --- The client's ledger ------------------------------------------------ */

cashback_status cashback__client_ledger(cashback_client *c,
                                        cashback__spool *spool,
                                        cashback__ledger **out, char *err,
                                        size_t err_size) {
  errf(err, err_size, "%s", "");
  *out = NULL;
  if (c->opts.ledger_max_orders == 0) {
    errf(err, err_size, "ledger: off (ledger_max_orders is 0)");
    return CASHBACK_E_CONFIG;
  }
  cashback_status st = CASHBACK_OK;
  pthread_mutex_lock(&c->ledger_lock);
  if (c->ledger && c->ledger->spool != spool) {
    /* Opened over another spool (a sender of the client over a spool it
     * opened itself, since closed): the ledger reads through its spool, so
     * it is opened again over this one instead of reading a freed one. */
    cashback__ledger_free(c->ledger);
    c->ledger = NULL;
  }
  if (!c->ledger) {
    st =
        cashback__ledger_open(spool, c->opts.ledger_max_orders,
                              c->opts.window * 1000, &c->ledger, err, err_size);
    if (st == CASHBACK_OK) {
      cashback__ledger_set_sync(c->ledger,
                                c->opts.durability == CASHBACK_DURABLE_SYNC);
      cashback__ledger_set_group_commit(c->ledger, 1);
    }
  }
  *out = c->ledger;
  pthread_mutex_unlock(&c->ledger_lock);
  return st;
}

void cashback__ledger_settled(cashback_client *c, cashback__spool *spool,
                              const char *json, size_t len, int64_t now_ms) {
  if (c->opts.ledger_max_orders == 0)
    return;
  char err[CASHBACK_ERROR_MAX + 1];
  cashback__ledger *l;
  cashback_status st = cashback__client_ledger(c, spool, &l, err, sizeof(err));
  if (st == CASHBACK_OK)
    st = cashback__ledger_apply_event(l, json, len, now_ms, err, sizeof(err));
  if (st == CASHBACK_OK)
    return;
  pthread_mutex_lock(&c->ledger_lock);
  uint64_t n = ++c->ledger_errors;
  pthread_mutex_unlock(&c->ledger_lock);
  cashback__log(c, CASHBACK_LOG_WARN,
                "ledger: an accepted event was not recorded (%" PRIu64
                " so far; the event is delivered): %s: %s",
                n, cashback_strerror(st), err);
}

void cashback__ledger_commit_settled(cashback_client *c) {
  pthread_mutex_lock(&c->ledger_lock);
  cashback__ledger *l = c->ledger;
  pthread_mutex_unlock(&c->ledger_lock);
  cashback_status st = cashback__ledger_commit(l);
  if (st == CASHBACK_OK)
    return;
  pthread_mutex_lock(&c->ledger_lock);
  uint64_t n = ++c->ledger_errors;
  pthread_mutex_unlock(&c->ledger_lock);
  cashback__log(c, CASHBACK_LOG_WARN,
                "ledger: cannot sync %s/ledger.log (%" PRIu64
                " errors so far; the events are delivered): %s",
                cashback__spool_dir(l->spool), n, cashback_strerror(st));
}

static int profile_lookup(void *ctx, const char *order_id, const char *event_id,
                          int64_t refund_minor, cashback__profile_sale *out) {
  cashback_client *c = ctx;
  cashback__ledger *l = NULL;
  pthread_mutex_lock(&c->ledger_lock);
  l = c->ledger;
  pthread_mutex_unlock(&c->ledger_lock);
  char err[CASHBACK_ERROR_MAX + 1];
  if (!l && (!c->spool || cashback__client_ledger(c, c->spool, &l, err,
                                                  sizeof(err)) != CASHBACK_OK))
    return -1;
  cashback__ledger_order o;
  if (cashback__ledger_lookup(l, order_id, &o, NULL, 0) != CASHBACK_OK ||
      !o.has_sale || o.mixed_currency)
    return -1;
  int64_t total = o.sale_minor - o.refunded_minor;
  if (refund_minor > 0 &&
      cashback__ledger_new_total(l, order_id, event_id, refund_minor, &total) !=
          CASHBACK_OK)
    return -1;
  memset(out, 0, sizeof(*out));
  out->amount = o.sale_minor;
  memcpy(out->currency, o.currency, sizeof(out->currency));
  int64_t t = 0;
  int off = 0;
  if (o.order_time[0] &&
      cashback__iso8601_parse(o.order_time, strlen(o.order_time), &t, &off) ==
          CASHBACK_OK) {
    out->order_time = t;
    out->utc_offset = off;
  }
  out->new_total = total > 0 ? total : 0;
  return 0;
}

cashback__profile_orders cashback__ledger_profile_orders(cashback_client *c) {
  cashback__profile_orders o = {NULL, NULL};
  if (c->opts.ledger_max_orders > 0) {
    o.lookup = profile_lookup;
    o.ctx = c;
  }
  return o;
}
