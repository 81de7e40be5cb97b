/*
 * The event builder (cashback_event_builder_*) and the event text parser
 * on it (cashback_event_parse(), the value of the X-Cashback-Event report
 * header). A builder collects the fields of one event by their names in
 * the vocabulary (sdk/cashback_fields.c, docs/events.md) in any order, as
 * a CLI, a CSV row or a PHP array gives them, and applies them in the
 * order the event needs: the early fields (type, order_id, currency,
 * utc_offset) first, then the event is created, then the rest in the
 * order given. Its memory is capped: the fields held, counted as their
 * text form (key=value pairs joined by ';'), never pass
 * CASHBACK__EVENT_TEXT_MAX, which also bounds the number of fields.
 */
#include "cashback_buf.h"
#include "cashback_core.h"
#include "cashback_fields.h"
#include "cashback_pairs.h"
#include "cashback_text.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Longest key kept for the failure's report: a metadata key is longer, and
 * is named cut. */
#define KEY_SHOWN_MAX 80

/* One field given: where its key and value are in `bytes`. */
typedef struct {
  const cashback__field *f;
  size_t key, klen, value, vlen;
} held;

struct cashback_event_builder {
  cashback_client *client;
  char *bytes; /* the keys and values, back to back */
  size_t used, room;
  held *fields;
  size_t n, cap;
  size_t text_len; /* the fields as text: key=value;key=value... */
  uint32_t seen;   /* one bit per table entry given */
  cashback_status st;
  char key[KEY_SHOWN_MAX + 1]; /* the key the first failure is about */
  size_t key_len;
  char detail[CASHBACK_ERROR_MAX + 1];
};

/* Records the first failure (about `key`, `klen` bytes, or none); returns
 * the status that sticks. */
static cashback_status fail(cashback_event_builder *b, cashback_status st,
                            const char *key, size_t klen, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

static cashback_status fail(cashback_event_builder *b, cashback_status st,
                            const char *key, size_t klen, const char *fmt,
                            ...) {
  if (b->st != CASHBACK_OK)
    return b->st;
  va_list ap;
  va_start(ap, fmt);
  cashback__vprintablef(b->detail, sizeof(b->detail), fmt, ap);
  va_end(ap);
  b->st = st;
  b->key_len = klen < KEY_SHOWN_MAX ? klen : KEY_SHOWN_MAX;
  if (b->key_len)
    memcpy(b->key, key, b->key_len);
  b->key[b->key_len] = '\0';
  return st;
}

cashback_event_builder *cashback_event_builder_new(cashback_client *client) {
  cashback_event_builder *b = calloc(1, sizeof(*b));
  if (b)
    b->client = client;
  return b;
}

void cashback_event_builder_free(cashback_event_builder *b) {
  if (!b)
    return;
  free(b->bytes);
  free(b->fields);
  free(b);
}

/* Room for `need` more bytes and one more field, growing by doubling;
 * the callers have checked the text cap, which bounds both. */
static cashback_status make_room(cashback_event_builder *b, size_t need) {
  if (b->used + need > b->room) {
    size_t room = b->room ? b->room : 256;
    while (room < b->used + need)
      room *= 2;
    char *p = realloc(b->bytes, room);
    if (!p)
      return CASHBACK_E_NOMEM;
    b->bytes = p;
    b->room = room;
  }
  held *p = cashback__grow(b->fields, b->n, &b->cap, sizeof(*p), 16);
  if (!p)
    return CASHBACK_E_NOMEM;
  b->fields = p;
  return CASHBACK_OK;
}

/* Holds one field whose table entry is `f`: the checks that need no other
 * field (no NUL, the field's cap, given once unless repeatable, the text
 * cap, in this order for the builder and the text alike), then a copy of
 * key and value. */
static cashback_status hold(cashback_event_builder *b, const cashback__field *f,
                            const char *key, size_t klen, const char *v,
                            size_t vlen) {
  int shown = (int)(klen < KEY_SHOWN_MAX ? klen : KEY_SHOWN_MAX);
  uint32_t bit = UINT32_C(1) << cashback__field_index(f);
  /* The first problem in the value wins, as when the text is decoded: a
   * NUL within the cap, else the length. */
  if (memchr(v, '\0', vlen <= f->max ? vlen : f->max + 1))
    return fail(b, CASHBACK_E_FIELD, key, klen,
                "%.*s: the value contains a NUL byte", shown, key);
  if (vlen > f->max)
    return fail(b, CASHBACK_E_FIELD, key, klen,
                "%.*s: the value is longer than %zu bytes", shown, key, f->max);
  if (!f->repeatable && (b->seen & bit))
    return fail(b, CASHBACK_E_FIELD, key, klen,
                "%.*s: given twice (it is not repeatable)", shown, key);
  size_t text = klen + 1 + vlen + (b->n ? 1 : 0); /* [;]key=value */
  if (text > CASHBACK__EVENT_TEXT_MAX - b->text_len)
    return fail(b, CASHBACK_E_TOO_BIG, key, klen,
                "%.*s: the event's fields pass %d bytes", shown, key,
                CASHBACK__EVENT_TEXT_MAX);
  if (make_room(b, klen + vlen) != CASHBACK_OK)
    return fail(b, CASHBACK_E_NOMEM, key, klen, "%.*s: out of memory", shown,
                key);
  held *h = &b->fields[b->n++];
  h->f = f;
  h->key = b->used;
  h->klen = klen;
  memcpy(b->bytes + b->used, key, klen);
  b->used += klen;
  h->value = b->used;
  h->vlen = vlen;
  if (vlen)
    memcpy(b->bytes + b->used, v, vlen);
  b->used += vlen;
  b->text_len += text;
  b->seen |= bit;
  return CASHBACK_OK;
}

cashback_status cashback_event_builder_set(cashback_event_builder *b,
                                           const char *key, size_t klen,
                                           const char *value, size_t vlen) {
  if (!b)
    return CASHBACK_E_INVALID_ARGUMENT;
  if (b->st != CASHBACK_OK)
    return b->st;
  if (!key || (!value && vlen))
    return fail(b, CASHBACK_E_INVALID_ARGUMENT, NULL, 0,
                "event field: the %s is NULL", key ? "value" : "key");
  const cashback__field *f = cashback__field_find(key, klen);
  if (!f) {
    char shown[64];
    cashback__printable(shown, sizeof(shown), key, klen);
    return fail(b, CASHBACK_E_FIELD, key, klen,
                "event field: unknown key '%s' (docs/events.md lists them)",
                shown);
  }
  return hold(b, f, key, klen, value ? value : "", vlen);
}

/* Applies the held fields whose `early` flag is `early`, in the order
 * given. */
static cashback_status apply(cashback_event_builder *b, cashback__fields *x,
                             int early) {
  for (size_t i = 0; i < b->n; i++) {
    const held *h = &b->fields[i];
    if (h->f->early != early)
      continue;
    const char *key = b->bytes + h->key;
    cashback_status st = cashback__fields_set(x, h->f, key, h->klen,
                                              b->bytes + h->value, h->vlen);
    if (st != CASHBACK_OK)
      return fail(b, st, key, h->klen, "%s", x->detail);
  }
  return CASHBACK_OK;
}

/* The field a failure of cashback__fields_start() or _finish() is about:
 * its detail starts with the field's name. */
static cashback_status fail_from(cashback_event_builder *b,
                                 const cashback__fields *x,
                                 cashback_status st) {
  size_t k = strcspn(x->detail, ":");
  if (!x->detail[k] || !cashback__field_find(x->detail, k))
    k = 0;
  return fail(b, st, x->detail, k, "%s", x->detail);
}

cashback_status cashback_event_builder_finish(cashback_event_builder *b,
                                              cashback_event **out) {
  if (out)
    *out = NULL;
  if (!b)
    return CASHBACK_E_INVALID_ARGUMENT;
  if (b->st != CASHBACK_OK)
    return b->st;
  if (!out)
    return fail(b, CASHBACK_E_INVALID_ARGUMENT, NULL, 0,
                "event field: out is NULL");
  cashback__fields x;
  cashback__fields_init(&x, b->client);
  cashback_status st = apply(b, &x, 1);
  if (st == CASHBACK_OK && (st = cashback__fields_start(&x)) != CASHBACK_OK)
    st = fail_from(b, &x, st);
  if (st == CASHBACK_OK)
    st = apply(b, &x, 0);
  if (st == CASHBACK_OK &&
      (st = cashback__fields_finish(&x, out)) != CASHBACK_OK)
    st = fail_from(b, &x, st);
  cashback__fields_free(&x);
  return st;
}

cashback_status cashback_event_builder_error(const cashback_event_builder *b,
                                             const char **key, size_t *klen,
                                             char *detail, size_t detail_size) {
  if (key)
    *key = b ? b->key : "";
  if (klen)
    *klen = b ? b->key_len : 0;
  if (detail && detail_size)
    cashback__printablef(detail, detail_size, "%s",
                         b ? b->detail : "the builder is NULL");
  return b ? b->st : CASHBACK_E_INVALID_ARGUMENT;
}

/* --- The event text ----------------------------------------------------- */

/* Decodes and holds one pair of the text. */
static cashback_status text_pair(cashback_event_builder *b,
                                 const cashback__pair *p, char *value) {
  if (!p->eq || p->key_len == 0)
    return fail(b, CASHBACK_E_FIELD, NULL, 0,
                "event text: pair %zu: expected key=value", p->index);
  const cashback__field *f = cashback__field_find(p->key, p->key_len);
  if (!f) {
    char shown[64];
    cashback__printable(shown, sizeof(shown), p->key, p->key_len);
    return fail(b, CASHBACK_E_FIELD, p->key, p->key_len,
                "event text: pair %zu: unknown key '%s'", p->index, shown);
  }
  size_t n;
  int shown = (int)(p->key_len < KEY_SHOWN_MAX ? p->key_len : KEY_SHOWN_MAX);
  switch (cashback__pairs_decode(p->value, p->value_len, value, f->max, &n)) {
  case CASHBACK__PAIRS_OK:
    break;
  case CASHBACK__PAIRS_BAD_ESCAPE:
    return fail(b, CASHBACK_E_FIELD, p->key, p->key_len,
                "%.*s: bad percent-encoding ('%%' must be followed by two "
                "hex digits)",
                shown, p->key);
  case CASHBACK__PAIRS_NUL:
    return fail(b, CASHBACK_E_FIELD, p->key, p->key_len,
                "%.*s: the value contains a NUL byte", shown, p->key);
  case CASHBACK__PAIRS_TOO_LONG:
    return fail(b, CASHBACK_E_FIELD, p->key, p->key_len,
                "%.*s: the value is longer than %zu bytes", shown, p->key,
                f->max);
  }
  return hold(b, f, p->key, p->key_len, value, n);
}

/* Every pair of the text into the builder: all keys are checked before
 * any value is applied. */
static cashback_status text_hold(cashback_event_builder *b, const char *text,
                                 size_t len) {
  char value[CASHBACK__FIELD_VALUE_MAX + 1];
  cashback__pairs it;
  cashback__pair p;
  cashback__pairs_init(&it, text, len);
  while (cashback__pairs_next(&it, &p)) {
    cashback_status st = text_pair(b, &p, value);
    if (st != CASHBACK_OK)
      return st;
  }
  return CASHBACK_OK;
}

cashback_status cashback_event_parse(cashback_client *client, const char *text,
                                     size_t len, cashback_event **out,
                                     char *detail, size_t detail_size) {
  if (client)
    cashback__call_begin(client);
  if (out)
    *out = NULL;
  cashback_event_builder b = {.client = client};
  cashback_status st = CASHBACK_OK;
  if (!out || (!text && len))
    st = fail(&b, CASHBACK_E_INVALID_ARGUMENT, NULL, 0,
              "event text: %s is NULL", out ? "text" : "out");
  else if (len > CASHBACK__EVENT_TEXT_MAX)
    st = fail(&b, CASHBACK_E_TOO_BIG, NULL, 0,
              "event text: larger than %d bytes", CASHBACK__EVENT_TEXT_MAX);
  if (st == CASHBACK_OK)
    st = text_hold(&b, text ? text : "", len);
  if (st == CASHBACK_OK)
    st = cashback_event_builder_finish(&b, out);
  if (detail && detail_size)
    cashback__printablef(detail, detail_size, "%s",
                         st == CASHBACK_OK ? "" : b.detail);
  free(b.bytes);
  free(b.fields);
  return st;
}
