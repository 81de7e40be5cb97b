/* The spool's list of deferred events; see cashback_deferred.h. */
#include "cashback_deferred.h"
#include "cashback_buf.h"
#include "cashback_ascii.h"
#include "cashback_record.h"

#include <cjson/cJSON.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEFERRED_FILE "deferred"
#define FILE_MAX CASHBACK__DEFERRED_MAX_BYTES
#define ENTRY_COST(len) ((len) + 1024) /* an upper bound of its record */

int cashback__deferred_event_order(const char *event, size_t len,
                                   char out[CASHBACK_ID_MAX + 1]) {
  cJSON *o = cJSON_ParseWithLength(event, len);
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, "order_id");
  int ok = cJSON_IsString(v) && v->valuestring[0] &&
           strlen(v->valuestring) <= CASHBACK_ID_MAX;
  out[0] = '\0';
  if (ok)
    snprintf(out, CASHBACK_ID_MAX + 1, "%s", v->valuestring);
  cJSON_Delete(o);
  return ok;
}

void cashback__deferred_init(cashback__deferred *d) {
  memset(d, 0, sizeof(*d));
}

void cashback__deferred_free(cashback__deferred *d) {
  for (size_t i = 0; i < d->n; i++)
    free(d->e[i].event);
  free(d->e);
  cashback__deferred_init(d);
}

static void copy_text(char *dst, size_t size, const char *src) {
  cashback__ascii_copy(dst, size, src, src ? strlen(src) : 0);
}

static int valid_id(const char *id) {
  return id && cashback__ascii_all(id, strlen(id), CASHBACK_EVENT_ID_LEN,
                                   CASHBACK_EVENT_ID_LEN, CASHBACK__ASCII_HEX);
}

cashback_status cashback__deferred_add(cashback__deferred *d, const char *id,
                                       const char *event, size_t event_len,
                                       int64_t now_ms, int64_t next_ms,
                                       const char *reason,
                                       const char *message) {
  if (!valid_id(id) || !event || event_len == 0 ||
      event_len > CASHBACK__RECORD_MAX - 1024)
    return CASHBACK_E_INVALID_ARGUMENT;
  if (d->n >= CASHBACK__DEFERRED_MAX ||
      d->bytes + ENTRY_COST(event_len) > CASHBACK__DEFERRED_MAX_BYTES)
    return CASHBACK_E_SPOOL_FULL;
  cashback__deferred_entry *e =
      cashback__grow(d->e, d->n, &d->cap, sizeof(*e), 16);
  if (!e)
    return CASHBACK_E_NOMEM;
  d->e = e;
  cashback__deferred_entry *x = &d->e[d->n];
  memset(x, 0, sizeof(*x));
  x->event = malloc(event_len);
  if (!x->event)
    return CASHBACK_E_NOMEM;
  memcpy(x->event, event, event_len);
  x->event_len = event_len;
  memcpy(x->id, id, CASHBACK_EVENT_ID_LEN + 1);
  x->first_ms = now_ms;
  x->next_ms = next_ms;
  x->attempts = 1;
  d->bytes += ENTRY_COST(event_len);
  copy_text(x->reason, sizeof(x->reason), reason);
  copy_text(x->message, sizeof(x->message), message);
  cashback__deferred_event_order(event, event_len, x->order);
  d->n++;
  return CASHBACK_OK;
}

size_t cashback__deferred_find(const cashback__deferred *d, const char *id) {
  for (size_t i = 0; i < d->n; i++)
    if (strcmp(d->e[i].id, id) == 0)
      return i;
  return d->n;
}

void cashback__deferred_remove(cashback__deferred *d, size_t i) {
  if (i >= d->n)
    return;
  d->bytes -= ENTRY_COST(d->e[i].event_len);
  free(d->e[i].event);
  memmove(&d->e[i], &d->e[i + 1], (d->n - i - 1) * sizeof(d->e[0]));
  d->n--;
}

typedef struct order_ref {
  const char *order;
  size_t i;
} order_ref;

static int cmp_ref(const void *a, const void *b) {
  const order_ref *x = a, *y = b;
  int c = strcmp(x->order, y->order);
  return c ? c : x->i < y->i ? -1 : x->i > y->i;
}

cashback_status cashback__deferred_heads(const cashback__deferred *d,
                                         unsigned char *head) {
  if (d->n == 0)
    return CASHBACK_OK;
  order_ref *r = malloc(d->n * sizeof(*r));
  if (!r)
    return CASHBACK_E_NOMEM;
  for (size_t i = 0; i < d->n; i++)
    r[i] = (order_ref){d->e[i].order, i};
  qsort(r, d->n, sizeof(*r), cmp_ref);
  for (size_t k = 0; k < d->n; k++)
    head[r[k].i] =
        !r[k].order[0] || k == 0 || strcmp(r[k - 1].order, r[k].order) != 0;
  free(r);
  return CASHBACK_OK;
}

static int cmp_str(const void *a, const void *b) {
  return strcmp(*(const char *const *)a, *(const char *const *)b);
}

const char **cashback__deferred_orders(const cashback__deferred *d, size_t *n) {
  *n = 0;
  const char **o = d->n ? malloc(d->n * sizeof(*o)) : NULL;
  if (!o)
    return NULL;
  for (size_t i = 0; i < d->n; i++)
    if (d->e[i].order[0])
      o[(*n)++] = d->e[i].order;
  qsort(o, *n, sizeof(*o), cmp_str);
  return o;
}

int cashback__deferred_orders_has(const char **orders, size_t n,
                                  const char *order) {
  return order[0] && n &&
         bsearch(&order, orders, n, sizeof(*orders), cmp_str) != NULL;
}

int64_t cashback__deferred_next_due(const cashback__deferred *d) {
  unsigned char *head = d->n ? calloc(d->n, 1) : NULL;
  int64_t due = 0;
  int ok = head && cashback__deferred_heads(d, head) == CASHBACK_OK;
  for (size_t i = 0; i < d->n; i++)
    if ((!ok || head[i]) && (!due || d->e[i].next_ms < due))
      due = d->e[i].next_ms;
  free(head);
  return due;
}

void cashback__deferred_truncate(cashback__deferred *d, size_t n) {
  while (d->n > n) {
    d->n--;
    d->bytes -= ENTRY_COST(d->e[d->n].event_len);
    free(d->e[d->n].event);
  }
}

/* The bookkeeping line of one entry (cJSON_free() it). */
static char *meta_json(const cashback__deferred_entry *x) {
  cJSON *o = cJSON_CreateObject();
  char num[3][24];
  snprintf(num[0], sizeof(num[0]), "%lld", (long long)x->first_ms);
  snprintf(num[1], sizeof(num[1]), "%lld", (long long)x->next_ms);
  snprintf(num[2], sizeof(num[2]), "%u", x->attempts);
  char *text = NULL;
  if (o && cJSON_AddStringToObject(o, "id", x->id) &&
      cJSON_AddRawToObject(o, "first_ms", num[0]) &&
      cJSON_AddRawToObject(o, "next_ms", num[1]) &&
      cJSON_AddRawToObject(o, "attempts", num[2]) &&
      cJSON_AddStringToObject(o, "reason", x->reason) &&
      cJSON_AddStringToObject(o, "message", x->message))
    text = cJSON_PrintUnformatted(o);
  cJSON_Delete(o);
  return text;
}

cashback_status cashback__deferred_encode(const cashback__deferred *d,
                                          cashback__buf *out) {
  cashback__buf_reset(out);
  cashback__buf payload;
  cashback__buf_init(&payload, CASHBACK__RECORD_MAX);
  cashback_status st = CASHBACK_OK;
  for (size_t i = 0; st == CASHBACK_OK && i < d->n; i++) {
    const cashback__deferred_entry *x = &d->e[i];
    char *meta = meta_json(x);
    cashback__buf_reset(&payload);
    st = meta ? cashback__buf_adds(&payload, meta) : CASHBACK_E_NOMEM;
    cJSON_free(meta);
    if (st == CASHBACK_OK)
      st = cashback__buf_add(&payload, "\n", 1);
    if (st == CASHBACK_OK)
      st = cashback__buf_add(&payload, x->event, x->event_len);
    if (st != CASHBACK_OK)
      break;
    size_t total = 0;
    uint8_t *rec =
        cashback__record_encode(payload.data, payload.len, x->first_ms, &total);
    st = rec ? cashback__buf_add(out, rec, total) : CASHBACK_E_NOMEM;
    free(rec);
  }
  cashback__buf_free(&payload);
  return st;
}

static int64_t num_field(const cJSON *o, const char *name) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
  /* The range first: casting a double past int64_t is undefined. */
  return cJSON_IsNumber(v) && v->valuedouble >= -9e18 && v->valuedouble <= 9e18
             ? (int64_t)v->valuedouble
             : -1;
}

/* One record's payload into an entry; 0 when it is not one. */
static int decode_one(const char *p, size_t len, cashback__deferred *d) {
  const char *nl = memchr(p, '\n', len);
  if (!nl || (size_t)(nl - p) + 1 >= len)
    return 0;
  cJSON *o = cJSON_ParseWithLength(p, (size_t)(nl - p));
  const cJSON *id = cJSON_GetObjectItemCaseSensitive(o, "id");
  const cJSON *reason = cJSON_GetObjectItemCaseSensitive(o, "reason");
  const cJSON *message = cJSON_GetObjectItemCaseSensitive(o, "message");
  int64_t first = num_field(o, "first_ms"), next = num_field(o, "next_ms"),
          attempts = num_field(o, "attempts");
  int ok = 0;
  if (cJSON_IsObject(o) && cJSON_IsString(id) && first >= 0 && next >= 0 &&
      attempts >= 1 && attempts < 1000000000 &&
      cashback__deferred_add(
          d, id->valuestring, nl + 1, len - (size_t)(nl - p) - 1, first, next,
          cJSON_IsString(reason) ? reason->valuestring : "",
          cJSON_IsString(message) ? message->valuestring : "") == CASHBACK_OK) {
    d->e[d->n - 1].attempts = (unsigned)attempts;
    ok = 1;
  }
  cJSON_Delete(o);
  return ok;
}

cashback_status cashback__deferred_decode(const void *data, size_t len,
                                          cashback__deferred *d) {
  cashback__deferred_free(d);
  const uint8_t *p = data;
  size_t off = 0;
  while (off < len) {
    size_t plen = 0;
    int64_t t = 0;
    cashback__rec r = cashback__record_decode(p + off, len - off, &plen, &t);
    if (r == CASHBACK__REC_OK) {
      if (!decode_one((const char *)p + off + CASHBACK__RECORD_HEADER, plen,
                      d)) {
        if (d->n >= CASHBACK__DEFERRED_MAX ||
            d->bytes + ENTRY_COST(plen) > CASHBACK__DEFERRED_MAX_BYTES)
          return CASHBACK_E_SPOOL_FULL;
        d->damaged++;
      }
      off += CASHBACK__RECORD_HEADER + plen;
      continue;
    }
    /* Damage (or a torn tail): skip to the next whole record. */
    d->damaged++;
    off = cashback__record_resync(p, len, off + 1);
  }
  return CASHBACK_OK;
}

cashback_status cashback__deferred_load(cashback__spool *s,
                                        cashback__deferred *d) {
  return cashback__deferred_load_why(s, d, NULL, 0);
}

cashback_status cashback__deferred_load_why(cashback__spool *s,
                                            cashback__deferred *d, char *why,
                                            size_t why_size) {
  cashback__buf b;
  cashback__buf_init(&b, FILE_MAX);
  cashback_status st =
      cashback__spool_file_read(s, DEFERRED_FILE, &b, why, why_size);
  if (st == CASHBACK_OK)
    st = cashback__deferred_decode(b.data ? b.data : "", b.len, d);
  cashback__buf_free(&b);
  return st;
}

cashback_status cashback__deferred_save(cashback__spool *s,
                                        const cashback__deferred *d) {
  cashback__buf b;
  cashback__buf_init(&b, FILE_MAX);
  cashback_status st = cashback__deferred_encode(d, &b);
  if (st == CASHBACK_OK)
    st = cashback__spool_file_replace(s, DEFERRED_FILE, b.data ? b.data : "",
                                      b.len);
  cashback__buf_free(&b);
  return st;
}
