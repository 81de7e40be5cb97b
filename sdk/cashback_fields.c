/*
 * The event vocabulary (docs/events.md): one table of the fields an event
 * can be given as text and the per-field code that sets each. The event
 * builder (sdk/cashback_builder.c) applies fields through it, and the
 * event text parser, the CLI, the CSV importer and the PHP shim map their
 * own names onto the same table through the builder.
 */
#include "cashback_fields.h"
#include "cashback_core.h"
#include "cashback_event.h"
#include "cashback_money.h"
#include "cashback_text.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

cashback_status cashback__fields_fail(cashback__fields *x, cashback_status st,
                                      const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  cashback__vprintablef(x->detail, sizeof(x->detail), fmt, ap);
  va_end(ap);
  return st;
}

/* After a failed event setter: its message, prefixed with the key unless
 * it already starts with it. */
static cashback_status from_event(cashback__fields *x, cashback_status st,
                                  const char *key, size_t klen) {
  if (st == CASHBACK_OK)
    return st;
  const char *e = cashback_event_last_error(x->ev);
  if (strncmp(e, key, klen) == 0 &&
      (e[klen] == ':' || e[klen] == '[' || e[klen] == '.'))
    return cashback__fields_fail(x, st, "%s", e);
  return cashback__fields_fail(x, st, "%.*s: %s", (int)klen, key, e);
}

static int word_is(const char *s, size_t n, const char *w) {
  return strlen(w) == n && strncasecmp(s, w, n) == 0;
}

/* A whole number of at most 18 digits with an optional '-'; 0 or -1. */
static int integer(const char *s, size_t n, int64_t *out) {
  int neg = n > 0 && s[0] == '-';
  size_t i = neg ? 1 : 0;
  if (n == i || n - i > 18)
    return -1;
  int64_t v = 0;
  for (; i < n; i++) {
    if (s[i] < '0' || s[i] > '9')
      return -1;
    v = v * 10 + (s[i] - '0');
  }
  *out = neg ? -v : v;
  return 0;
}

/* --- Items as text ------------------------------------------------------ */

cashback_status cashback_event_add_item_text_n(cashback_event *ev,
                                               const char *spec, size_t len,
                                               const char *currency,
                                               size_t currency_len) {
  if (!ev)
    return CASHBACK_E_INVALID_ARGUMENT;
  if (!spec || !currency)
    return cashback__event_fail(ev, CASHBACK_E_INVALID_ARGUMENT,
                                "items: the text and the currency are needed");
  int shown = (int)(len < 80 ? len : 80);
  if (memchr(spec, '\0', len))
    return cashback__event_fail(ev, CASHBACK_E_FIELD,
                                "items: the text contains a NUL byte");
  /* sku:quantity:unit_price[:name[:category]] */
  const char *part[5] = {0};
  size_t plen[5] = {0};
  size_t n = 0, pos = 0;
  for (;;) {
    const char *colon = memchr(spec + pos, ':', len - pos);
    size_t l = colon ? (size_t)(colon - (spec + pos)) : len - pos;
    if (n == 5)
      return cashback__event_fail(
          ev, CASHBACK_E_FIELD,
          "items: '%.*s' has more than 5 ':'-separated parts (a name or "
          "category cannot contain ':')",
          shown, spec);
    part[n] = spec + pos;
    plen[n++] = l;
    if (!colon)
      break;
    pos += l + 1;
  }
  if (n < 3)
    return cashback__event_fail(
        ev, CASHBACK_E_FIELD,
        "items: '%.*s' must be sku:quantity:unit_price[:name[:category]]",
        shown, spec);
  /* Past any field's cap (the setter's message is kept for the ones
   * just past it). */
  if (plen[0] > CASHBACK_ID_MAX + 1 || plen[2] >= 48 ||
      (n > 3 && plen[3] > 259) || (n > 4 && plen[4] > CASHBACK_ID_MAX + 3))
    return cashback__event_fail(
        ev, CASHBACK_E_FIELD, "items: '%.*s': a part is too long", shown, spec);
  int64_t qty = -1;
  if (plen[1] > 7 || integer(part[1], plen[1], &qty) != 0 ||
      part[1][0] == '-' || qty < 1 || qty > CASHBACK__QUANTITY_MAX)
    return cashback__event_fail(
        ev, CASHBACK_E_FIELD,
        "items: '%.*s': the quantity '%.*s' must be a whole number from 1 "
        "to 1000000",
        shown, spec, (int)(plen[1] < 20 ? plen[1] : 20), part[1]);
  int64_t minor;
  int e = memchr(currency, '\0', currency_len)
              ? -1
              : cashback__currency_exponent(currency, currency_len);
  if (e < 0)
    return cashback__event_fail(
        ev, CASHBACK_E_CURRENCY,
        "items: '%.*s' is not an active ISO 4217 currency",
        (int)(currency_len < 8 ? currency_len : 8), currency);
  if (cashback__money_parse(part[2], plen[2], e, &minor) != CASHBACK_OK ||
      minor < 0)
    return cashback__event_fail(
        ev, CASHBACK_E_AMOUNT,
        "items: '%.*s': the unit price '%.*s' is not an exact %.*s amount",
        shown, spec, (int)(plen[2] < 48 ? plen[2] : 48), part[2],
        (int)(currency_len < 8 ? currency_len : 8), currency);
  return cashback__event_add_item_minor(
      ev, part[0], plen[0], n > 3 ? part[3] : NULL, n > 3 ? plen[3] : 0, qty,
      minor, n > 4 ? part[4] : NULL, n > 4 ? plen[4] : 0);
}

cashback_status cashback_event_add_item_text(cashback_event *ev,
                                             const char *spec,
                                             const char *currency) {
  return cashback_event_add_item_text_n(ev, spec, spec ? strlen(spec) : 0,
                                        currency,
                                        currency ? strlen(currency) : 0);
}

/* --- The per-field code ------------------------------------------------- */

#define NEED_EVENT(x)                                                          \
  do {                                                                         \
    if (!(x)->ev)                                                              \
      return cashback__fields_fail((x), CASHBACK_E_INTERNAL,                   \
                                   "%.*s: set before the event exists",        \
                                   (int)klen, key);                            \
  } while (0)

static cashback_status set_type(cashback__fields *x, const char *key,
                                size_t klen, const char *v, size_t n) {
  static const cashback_event_type all[] = {
      CASHBACK_EVENT_SALE, CASHBACK_EVENT_REFUND, CASHBACK_EVENT_CANCEL,
      CASHBACK_EVENT_CONFIRM};
  for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
    if (word_is(v, n, cashback_event_type_name(all[i]))) {
      x->type = all[i];
      x->has_type = 1;
      return CASHBACK_OK;
    }
  return cashback__fields_fail(
      x, CASHBACK_E_FIELD,
      "%.*s: '%.*s' must be sale, refund, cancel or confirm", (int)klen, key,
      (int)(n < 32 ? n : 32), v);
}

static cashback_status set_order_id(cashback__fields *x, const char *key,
                                    size_t klen, const char *v, size_t n) {
  (void)key;
  (void)klen;
  /* Checked by cashback_event_create(); kept (cut past the cap, which
   * create then refuses) until the type is known too. */
  if (n > CASHBACK_ID_MAX || memchr(v, '\0', n) || n == 0)
    return cashback__fields_fail(
        x, CASHBACK_E_FIELD,
        "order_id: must be 1-64 printable ASCII characters, no space");
  memcpy(x->order_id, v, n);
  x->order_id[n] = '\0';
  x->order_id_len = n;
  return CASHBACK_OK;
}

static cashback_status set_currency(cashback__fields *x, const char *key,
                                    size_t klen, const char *v, size_t n) {
  if (n != 3 || cashback__currency_exponent(v, n) < 0)
    return cashback__fields_fail(x, CASHBACK_E_CURRENCY,
                                 "%.*s: '%.*s' is not an active ISO 4217 code",
                                 (int)klen, key, (int)(n < 8 ? n : 8), v);
  memcpy(x->currency, v, n);
  x->currency[n] = '\0';
  x->currency_len = n;
  return CASHBACK_OK;
}

static cashback_status need_currency(cashback__fields *x, const char *key,
                                     size_t klen) {
  if (x->currency_len)
    return CASHBACK_OK;
  return cashback__fields_fail(x, CASHBACK_E_CURRENCY,
                               "%.*s: needs currency (an ISO 4217 code such "
                               "as EUR)",
                               (int)klen, key);
}

/* For a field whose value is money of `currency`: the event and the
 * currency must be there. */
#define NEED_EVENT_AND_CURRENCY(x)                                             \
  do {                                                                         \
    NEED_EVENT(x);                                                             \
    cashback_status need_st = need_currency((x), key, klen);                   \
    if (need_st != CASHBACK_OK)                                                \
      return need_st;                                                          \
  } while (0)

static cashback_status set_amount(cashback__fields *x, const char *key,
                                  size_t klen, const char *v, size_t n) {
  NEED_EVENT_AND_CURRENCY(x);
  return from_event(x,
                    cashback_event_set_amount_decimal_n(
                        x->ev, v, n, x->currency, x->currency_len),
                    key, klen);
}

static cashback_status set_amount_minor(cashback__fields *x, const char *key,
                                        size_t klen, const char *v, size_t n) {
  NEED_EVENT_AND_CURRENCY(x);
  int64_t m;
  if (integer(v, n, &m) != 0)
    return cashback__fields_fail(
        x, CASHBACK_E_AMOUNT,
        "%.*s: '%.*s' must be a whole number of minor units", (int)klen, key,
        (int)(n < 32 ? n : 32), v);
  return from_event(x, cashback_event_set_amount(x->ev, m, x->currency), key,
                    klen);
}

/* A field that is one counted event setter (the entry's `counted`). */
static cashback_status set_counted(cashback__fields *x, const char *key,
                                   size_t klen, const char *v, size_t n) {
  NEED_EVENT(x);
  const cashback__field *f = cashback__field_find(key, klen);
  return from_event(x, f->counted(x->ev, v, n), key, klen);
}

/* A click handle: the signed cookie value, verified like the cookie by
 * cashback_click_verify(); the event keeps token, landing parameter and
 * capture time. */
static cashback_status set_click(cashback__fields *x, const char *key,
                                 size_t klen, const char *v, size_t n) {
  NEED_EVENT(x);
  if (!x->client)
    return cashback__fields_fail(x, CASHBACK_E_INVALID_ARGUMENT,
                                 "%.*s: a click handle needs a client to "
                                 "verify it",
                                 (int)klen, key);
  cashback_click click = {.size = sizeof(click)};
  cashback_status st = cashback_click_verify(x->client, v, n, &click);
  if (st != CASHBACK_OK) {
    char why[CASHBACK_ERROR_MAX + 1];
    /* The verifier's own reason; its status is the failure's, so only an
     * empty detail falls back to the status's text. */
    (void)cashback_client_last_error(x->client, why, sizeof(why));
    if (!why[0])
      cashback__printablef(why, sizeof(why), "%s", cashback_strerror(st));
    return cashback__fields_fail(
        x, st == CASHBACK_E_CLICK_NONE ? CASHBACK_E_CLICK_MALFORMED : st,
        "%.*s: the click handle is not valid: %s", (int)klen, key, why);
  }
  return from_event(x, cashback_event_set_click_full(x->ev, &click), key, klen);
}

static cashback_status set_customer(cashback__fields *x, const char *key,
                                    size_t klen, const char *v, size_t n) {
  NEED_EVENT(x);
  cashback_customer c;
  if (word_is(v, n, "new"))
    c = CASHBACK_CUSTOMER_NEW;
  else if (word_is(v, n, "returning"))
    c = CASHBACK_CUSTOMER_RETURNING;
  else if (word_is(v, n, "unknown"))
    c = CASHBACK_CUSTOMER_UNKNOWN;
  else
    return cashback__fields_fail(
        x, CASHBACK_E_FIELD, "%.*s: '%.*s' must be new, returning or unknown",
        (int)klen, key, (int)(n < 32 ? n : 32), v);
  return from_event(x, cashback_event_set_customer(x->ev, c), key, klen);
}

static cashback_status set_item(cashback__fields *x, const char *key,
                                size_t klen, const char *v, size_t n) {
  NEED_EVENT_AND_CURRENCY(x);
  return from_event(
      x,
      cashback_event_add_item_text_n(x->ev, v, n, x->currency, x->currency_len),
      key, klen);
}

static cashback_status set_order_time(cashback__fields *x, const char *key,
                                      size_t klen, const char *v, size_t n) {
  NEED_EVENT(x);
  int64_t t;
  int off = 0;
  if (integer(v, n, &t) == 0) {
    off = x->utc_offset; /* Unix seconds: the offset comes from utc_offset */
  } else if (cashback_time_parse(v, n, &t, &off) != CASHBACK_OK) {
    return cashback__fields_fail(
        x, CASHBACK_E_FIELD,
        "%.*s: '%.*s' is neither Unix seconds nor an RFC 3339 time with a "
        "UTC offset, such as 2026-11-23T19:42:00+01:00",
        (int)klen, key, (int)(n < 64 ? n : 64), v);
  } else if (x->has_offset) {
    return cashback__fields_fail(x, CASHBACK_E_FIELD,
                                 "utc_offset: only with an order_time in Unix "
                                 "seconds (an RFC 3339 time has its own)");
  }
  x->has_time = 1;
  return from_event(x, cashback_event_set_order_time(x->ev, t, off), key, klen);
}

static cashback_status set_utc_offset(cashback__fields *x, const char *key,
                                      size_t klen, const char *v, size_t n) {
  int64_t m;
  if (integer(v, n, &m) != 0 || m < -840 || m > 840)
    return cashback__fields_fail(
        x, CASHBACK_E_FIELD,
        "%.*s: '%.*s' must be whole minutes from -840 to 840", (int)klen, key,
        (int)(n < 32 ? n : 32), v);
  x->has_offset = 1;
  x->utc_offset = (int)m;
  return CASHBACK_OK;
}

static cashback_status set_test(cashback__fields *x, const char *key,
                                size_t klen, const char *v, size_t n) {
  NEED_EVENT(x);
  int yes = word_is(v, n, "1") || word_is(v, n, "true") || word_is(v, n, "yes");
  int no = word_is(v, n, "0") || word_is(v, n, "false") || word_is(v, n, "no");
  if (!yes && !no)
    return cashback__fields_fail(
        x, CASHBACK_E_FIELD,
        "%.*s: '%.*s' must be true, false, yes, no, 1 or 0", (int)klen, key,
        (int)(n < 32 ? n : 32), v);
  return from_event(x, cashback_event_set_test(x->ev, yes), key, klen);
}

#define META_PREFIX "meta."
#define META_PREFIX_LEN (sizeof(META_PREFIX) - 1)

static cashback_status set_meta(cashback__fields *x, const char *key,
                                size_t klen, const char *v, size_t n) {
  NEED_EVENT(x);
  const char *k = key + META_PREFIX_LEN;
  size_t kn = klen - META_PREFIX_LEN;
  if (cashback__event_has_metadata(x->ev, k, kn))
    return cashback__fields_fail(x, CASHBACK_E_FIELD, "%.*s: given twice",
                                 (int)(klen < 80 ? klen : 80), key);
  cashback_status st = cashback_event_set_metadata_n(x->ev, k, kn, v, n);
  if (st == CASHBACK_OK)
    return st;
  return cashback__fields_fail(x, st, "%.*s: %s", (int)(klen < 80 ? klen : 80),
                               key, cashback_event_last_error(x->ev));
}

/* --- The table ---------------------------------------------------------- */

/* The one list of event fields (docs/events.md lists the same names, in
 * this order; tests/scripts/events-doc.sh checks it). Early fields are
 * applied first whatever the order of the text. */
static const cashback__field fields[] = {
    /* name, kind, repeatable, early, max, setter[, counted event setter] */
    {"type", "sale|refund|cancel|confirm", 0, 1, 32, set_type, NULL},
    {"order_id", "id", 0, 1, CASHBACK_ID_MAX, set_order_id, NULL},
    {"currency", "currency", 0, 1, 32, set_currency, NULL},
    {"amount", "decimal", 0, 0, 40, set_amount, NULL},
    {"amount_minor", "integer", 0, 0, 32, set_amount_minor, NULL},
    {"click", "click handle", 0, 0, CASHBACK_HANDLE_MAX, set_click, NULL},
    {"click_token", "token", 0, 0, CASHBACK_TOKEN_MAX, set_counted,
     cashback_event_set_click_n},
    {"voucher", "id", 1, 0, CASHBACK_ID_MAX, set_counted,
     cashback_event_add_voucher_n},
    {"customer", "new|returning|unknown", 0, 0, 32, set_customer, NULL},
    {"item", "item", 1, 0, 512, set_item, NULL},
    {"order_time", "time", 0, 0, 64, set_order_time, NULL},
    {"utc_offset", "integer", 0, 1, 32, set_utc_offset, NULL},
    {"refund_id", "id", 0, 0, CASHBACK_ID_MAX, set_counted,
     cashback_event_set_refund_id_n},
    {"reason", "word", 0, 0, CASHBACK_ID_MAX, set_counted,
     cashback_event_set_reason_n},
    {"test", "bool", 0, 0, 32, set_test, NULL},
    {META_PREFIX, "text", 1, 0, CASHBACK_METADATA_MAX, set_meta, NULL},
};

#define N_FIELDS (sizeof(fields) / sizeof(fields[0]))
_Static_assert(N_FIELDS <= 32, "cashback__fields.seen has a bit per field");

/* Which pairs of fields exclude each other. */
static const struct {
  const char *a, *b;
} exclusive[] = {{"amount", "amount_minor"}, {"click", "click_token"}};

const cashback__field *cashback__field_at(size_t i) {
  return i < N_FIELDS ? &fields[i] : NULL;
}

const cashback__field *cashback__field_find(const char *key, size_t len) {
  if (len > META_PREFIX_LEN && memcmp(key, META_PREFIX, META_PREFIX_LEN) == 0)
    return &fields[N_FIELDS - 1];
  for (size_t i = 0; i + 1 < N_FIELDS; i++)
    if (strlen(fields[i].name) == len && memcmp(fields[i].name, key, len) == 0)
      return &fields[i];
  return NULL;
}

static size_t index_of(const char *name) {
  size_t i = 0;
  while (i < N_FIELDS && strcmp(fields[i].name, name) != 0)
    i++;
  return i;
}

void cashback__fields_init(cashback__fields *x, cashback_client *client) {
  memset(x, 0, sizeof(*x));
  x->client = client;
}

size_t cashback__field_index(const cashback__field *f) {
  return (size_t)(f - fields);
}

cashback_status cashback__fields_set(cashback__fields *x,
                                     const cashback__field *f, const char *key,
                                     size_t klen, const char *v, size_t vlen) {
  size_t i = cashback__field_index(f);
  for (size_t e = 0; e < sizeof(exclusive) / sizeof(exclusive[0]); e++) {
    size_t a = index_of(exclusive[e].a), b = index_of(exclusive[e].b);
    size_t other = i == a ? b : i == b ? a : N_FIELDS;
    if (other < N_FIELDS && (x->seen & (UINT32_C(1) << other)))
      return cashback__fields_fail(x, CASHBACK_E_FIELD,
                                   "%s: give %s or %s, not both", f->name,
                                   exclusive[e].a, exclusive[e].b);
  }
  x->seen |= UINT32_C(1) << i;
  return f->set(x, key, klen, v, vlen);
}

cashback_status cashback__fields_start(cashback__fields *x) {
  if (!x->has_type)
    return cashback__fields_fail(x, CASHBACK_E_FIELD,
                                 "type: required (sale, refund, cancel or "
                                 "confirm)");
  if (!x->order_id_len)
    return cashback__fields_fail(x, CASHBACK_E_FIELD, "order_id: required");
  return cashback_event_create(x->type, x->order_id, x->order_id_len, &x->ev,
                               x->detail, sizeof(x->detail));
}

cashback_status cashback__fields_finish(cashback__fields *x,
                                        cashback_event **out) {
  if (x->has_offset && !x->has_time)
    return cashback__fields_fail(x, CASHBACK_E_FIELD,
                                 "utc_offset: needs order_time");
  *out = x->ev;
  x->ev = NULL;
  return CASHBACK_OK;
}

void cashback__fields_free(cashback__fields *x) {
  cashback_event_free(x->ev);
  x->ev = NULL;
}
