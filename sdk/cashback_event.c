/*
 * Events: sale, refund, cancel, confirm. Setters validate each field and
 * name it on failure; cashback_event_finalize() checks completeness for the
 * type and fixes the event id (the idempotency key, see docs/protocol.md).
 */
#include "cashback_event.h"
#include "cashback_buf.h"
#include "cashback_ascii.h"
#include "cashback_core.h"
#include "cashback_crypto.h"
#include "cashback_money.h"
#include "cashback_sign.h"
#include "cashback_text.h"
#include "cashback_time.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NAME_MAX_LEN 256
#define ITEMS_MAX 1000
#define VOUCHERS_MAX 20

typedef struct item {
  char sku[CASHBACK_ID_MAX + 1];
  char *name;     /* NULL: none */
  char *category; /* NULL: none */
  int64_t quantity;
  int64_t unit_price;
} item;

typedef struct meta {
  char *key;
  char *value;
} meta;

struct cashback_event {
  cashback_event_type type;
  char order_id[CASHBACK_ID_MAX + 1];
  char token[CASHBACK_TOKEN_MAX + 1]; /* empty: none */
  char source[CASHBACK_PARAM_MAX + 1];
  int64_t captured_at; /* 0: unknown */
  int has_amount;
  int64_t amount;
  char currency[4];
  int has_order_time;
  int64_t order_time;
  int utc_offset;
  item *items;
  size_t n_items;
  size_t cap_items;
  char vouchers[VOUCHERS_MAX][CASHBACK_ID_MAX + 1];
  size_t n_vouchers;
  meta *meta;
  size_t n_meta;
  size_t meta_bytes;
  size_t var_json; /* items, vouchers, metadata as serialized, separators
                      and wrappers included */
  cashback_customer customer;
  char refund_id[CASHBACK_ID_MAX + 1];
  char reason[CASHBACK_ID_MAX + 1];
  int test;
  /* Set by finalize. */
  char id[CASHBACK_EVENT_ID_LEN + 1];
  char id_merchant[CASHBACK_ID_MAX + 1];
  int64_t reported_at;
  char error[CASHBACK_ERROR_MAX + 1];
};

_Static_assert(CASHBACK_EVENT_JSON_MAX == CASHBACK__EVENT_JSON_MAX,
               "the public and the internal event cap agree");

static size_t digits(int64_t v) {
  size_t n = v < 0 ? 2 : 1;
  for (; v >= 10 || v <= -10; v /= 10)
    n++;
  return n;
}

size_t cashback__event_size_bound(const cashback_event *ev) {
  return CASHBACK__EVENT_FIXED_MAX + ev->var_json;
}

/* CASHBACK_OK when `more` serialized bytes still fit the event cap. */
static int fits(const cashback_event *ev, size_t more) {
  return cashback__event_size_bound(ev) + more <= CASHBACK__EVENT_JSON_MAX;
}

cashback_status cashback__event_fail(cashback_event *ev, cashback_status st,
                                     const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  cashback__vprintablef(ev->error, sizeof(ev->error), fmt, ap);
  va_end(ap);
  return st;
}

/* A NUL byte inside a counted string: refused, never cut at. */
#define HAS_NUL(s, len) ((len) > 0 && memchr((s), '\0', (len)) != NULL)

/* 1-64 bytes of printable ASCII without space: order ids, refund ids, skus,
 * vouchers. (Reasons and metadata keys are cashback__id_valid().) */
static int id_text_valid(const char *s, size_t len) {
  return cashback__ascii_all(s, len, 1, CASHBACK_ID_MAX, CASHBACK__ASCII_GRAPH);
}

/* Valid UTF-8 (no overlongs, surrogates or code points past U+10FFFF) of at
 * most `max` bytes without control characters (NUL included) other than tab
 * and newline when `allow_newline`. */
static int text_valid(const char *s, size_t len, size_t max,
                      int allow_newline) {
  const unsigned char *p = (const unsigned char *)s;
  if (len > max)
    return 0;
  size_t i = 0;
  while (i < len) {
    unsigned char c = p[i];
    if (c < 0x80) {
      if ((c < 0x20 && !(allow_newline && (c == '\n' || c == '\t'))) ||
          c == 0x7f)
        return 0;
      i++;
      continue;
    }
    size_t n;
    uint32_t cp;
    if (c >= 0xc2 && c <= 0xdf) {
      n = 2;
      cp = c & 0x1f;
    } else if (c >= 0xe0 && c <= 0xef) {
      n = 3;
      cp = c & 0x0f;
    } else if (c >= 0xf0 && c <= 0xf4) {
      n = 4;
      cp = c & 0x07;
    } else {
      return 0;
    }
    if (len - i < n)
      return 0;
    for (size_t k = 1; k < n; k++) {
      if ((p[i + k] & 0xc0) != 0x80)
        return 0;
      cp = (cp << 6) | (p[i + k] & 0x3f);
    }
    if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) || cp > 0x10ffff ||
        (cp >= 0xd800 && cp <= 0xdfff))
      return 0;
    i += n;
  }
  return 1;
}

static int token_valid(const char *s, size_t n) {
  return cashback__ascii_all(s, n, 1, CASHBACK_TOKEN_MAX,
                             CASHBACK__ASCII_TOKEN);
}

/* A NUL-terminated heap copy of `len` bytes, or NULL. */
static char *dup_n(const char *s, size_t len) {
  char *p = malloc(len + 1);
  if (p) {
    memcpy(p, s, len);
    p[len] = '\0';
  }
  return p;
}

/* The length of a NUL-terminated argument of a wrapper; 0 for NULL (the _n
 * call then refuses the NULL pointer). */
static size_t len_of(const char *s) {
  return s ? strlen(s) : 0;
}

const char *cashback_event_type_name(cashback_event_type t) {
  switch (t) {
  case CASHBACK_EVENT_SALE:
    return "sale";
  case CASHBACK_EVENT_REFUND:
    return "refund";
  case CASHBACK_EVENT_CANCEL:
    return "cancel";
  case CASHBACK_EVENT_CONFIRM:
    return "confirm";
  }
  return NULL;
}

int cashback__event_type_from_name(const char *s, size_t len,
                                   cashback_event_type *out) {
  static const cashback_event_type all[] = {
      CASHBACK_EVENT_SALE, CASHBACK_EVENT_REFUND, CASHBACK_EVENT_CANCEL,
      CASHBACK_EVENT_CONFIRM};
  for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
    const char *n = cashback_event_type_name(all[i]);
    if (strlen(n) == len && memcmp(n, s, len) == 0) {
      *out = all[i];
      return 0;
    }
  }
  return -1;
}

cashback_status cashback_event_create(cashback_event_type type,
                                      const char *order_id, size_t len,
                                      cashback_event **out, char *detail,
                                      size_t detail_size) {
  if (detail && detail_size)
    detail[0] = '\0';
  if (!out) {
    if (detail && detail_size)
      cashback__printablef(detail, detail_size, "event: out is NULL");
    return CASHBACK_E_INVALID_ARGUMENT;
  }
  *out = NULL;
  const char *why = NULL;
  cashback_status st = CASHBACK_E_FIELD;
  if (!cashback_event_type_name(type)) {
    why = "type: must be sale, refund, cancel or confirm";
    st = CASHBACK_E_INVALID_ARGUMENT;
  } else if (!order_id) {
    why = "order_id: must not be NULL";
    st = CASHBACK_E_INVALID_ARGUMENT;
  } else if (HAS_NUL(order_id, len)) {
    why = "order_id: contains a NUL byte";
  } else if (!id_text_valid(order_id, len)) {
    why = "order_id: must be 1-64 printable ASCII characters, no space";
  }
  if (why) {
    if (detail && detail_size)
      cashback__printablef(detail, detail_size, "%s", why);
    return st;
  }
  cashback_event *ev = calloc(1, sizeof(*ev));
  if (!ev) {
    if (detail && detail_size)
      cashback__printablef(detail, detail_size, "event: out of memory");
    return CASHBACK_E_NOMEM;
  }
  ev->type = type;
  cashback__ascii_copy(ev->order_id, sizeof(ev->order_id), order_id, len);
  *out = ev;
  return CASHBACK_OK;
}

cashback_event *cashback_event_new(cashback_event_type type,
                                   const char *order_id) {
  cashback_event *ev;
  return cashback_event_create(type, order_id, len_of(order_id), &ev, NULL,
                               0) == CASHBACK_OK
             ? ev
             : NULL;
}

void cashback_event_free(cashback_event *ev) {
  if (!ev)
    return;
  for (size_t i = 0; i < ev->n_items; i++) {
    free(ev->items[i].name);
    free(ev->items[i].category);
  }
  free(ev->items);
  for (size_t i = 0; i < ev->n_meta; i++) {
    free(ev->meta[i].key);
    free(ev->meta[i].value);
  }
  free(ev->meta);
  free(ev);
}

const char *cashback_event_last_error(const cashback_event *ev) {
  return ev ? ev->error : "event: must not be NULL";
}

/* A change after finalize would make the id lie about the content. */
#define CHECK_EV(ev)                                                           \
  do {                                                                         \
    if (!(ev))                                                                 \
      return CASHBACK_E_INVALID_ARGUMENT;                                      \
    if ((ev)->id[0])                                                           \
      return cashback__event_fail(                                             \
          (ev), CASHBACK_E_FIELD,                                              \
          "event: already finalized, it cannot change");                       \
  } while (0)

/* A counted string argument holds no NUL byte (NULL is refused by the
 * field's own rule). */
#define CHECK_STR(ev, s, len, name)                                            \
  do {                                                                         \
    if ((s) && HAS_NUL((s), (len)))                                            \
      return cashback__event_fail((ev), CASHBACK_E_FIELD,                      \
                                  "%s: contains a NUL byte", (name));          \
  } while (0)

cashback_status cashback_event_set_click_n(cashback_event *ev,
                                           const char *token, size_t len) {
  CHECK_EV(ev);
  CHECK_STR(ev, token, len, "click");
  if (!token_valid(token, len))
    return cashback__event_fail(ev, CASHBACK_E_FIELD,
                                "click: must be 1-%d of [A-Za-z0-9._~-]",
                                CASHBACK_TOKEN_MAX);
  cashback__ascii_copy(ev->token, sizeof(ev->token), token, len);
  ev->source[0] = '\0';
  ev->captured_at = 0;
  return CASHBACK_OK;
}

cashback_status cashback_event_set_click(cashback_event *ev,
                                         const char *token) {
  return cashback_event_set_click_n(ev, token, len_of(token));
}

cashback_status cashback_event_set_click_full(cashback_event *ev,
                                              const cashback_click *click) {
  CHECK_EV(ev);
  if (!click)
    return cashback__event_fail(ev, CASHBACK_E_INVALID_ARGUMENT,
                                "click: must not be NULL");
  if (!memchr(click->token, '\0', sizeof(click->token)) ||
      !memchr(click->source, '\0', sizeof(click->source)))
    return cashback__event_fail(ev, CASHBACK_E_FIELD,
                                "click: not NUL-terminated");
  if (click->source[0] &&
      !cashback__id_valid(click->source, strlen(click->source)))
    return cashback__event_fail(ev, CASHBACK_E_FIELD,
                                "click.source: invalid parameter name");
  if (click->captured_at < 0)
    return cashback__event_fail(ev, CASHBACK_E_FIELD,
                                "click.captured_at: negative");
  cashback_status st = cashback_event_set_click(ev, click->token);
  if (st != CASHBACK_OK)
    return st;
  cashback__ascii_copy(ev->source, sizeof(ev->source), click->source,
                       strlen(click->source));
  ev->captured_at = click->captured_at;
  return CASHBACK_OK;
}

cashback_status cashback_event_set_click_default(cashback_event *ev,
                                                 const cashback_click *click) {
  CHECK_EV(ev);
  /* Only a sale without a click takes it; a NULL click is refused by
   * cashback_event_set_click_full() for every event. */
  if (click && (ev->type != CASHBACK_EVENT_SALE || ev->token[0]))
    return CASHBACK_OK;
  return cashback_event_set_click_full(ev, click);
}

static cashback_status check_currency(cashback_event *ev, const char *currency,
                                      size_t len, int *exponent) {
  if (!currency)
    return cashback__event_fail(ev, CASHBACK_E_CURRENCY,
                                "currency: must not be NULL");
  int e =
      HAS_NUL(currency, len) ? -1 : cashback__currency_exponent(currency, len);
  if (e < 0)
    return cashback__event_fail(
        ev, CASHBACK_E_CURRENCY,
        "currency: '%.*s' is not an active ISO 4217 code",
        (int)(len < 8 ? len : 8), currency);
  if (exponent)
    *exponent = e;
  return CASHBACK_OK;
}

/* The amount, `minor` units of the checked `currency` (`clen` bytes): 0 to
 * CASHBACK__AMOUNT_MAX. */
static cashback_status store_amount(cashback_event *ev, int64_t minor,
                                    const char *currency, size_t clen) {
  if (minor < 0 || minor > CASHBACK__AMOUNT_MAX)
    return cashback__event_fail(ev, CASHBACK_E_AMOUNT,
                                "amount: must be 0 to 10^15 minor units");
  ev->has_amount = 1;
  ev->amount = minor;
  cashback__ascii_copy(ev->currency, sizeof(ev->currency), currency, clen);
  return CASHBACK_OK;
}

cashback_status cashback_event_set_amount(cashback_event *ev, int64_t minor,
                                          const char *currency) {
  CHECK_EV(ev);
  size_t clen = len_of(currency);
  cashback_status st = check_currency(ev, currency, clen, NULL);
  return st != CASHBACK_OK ? st : store_amount(ev, minor, currency, clen);
}

/* An exact decimal amount of `currency` into minor units; names `what`. */
static cashback_status decimal_minor(cashback_event *ev, const char *what,
                                     const char *decimal, size_t len,
                                     const char *currency, size_t clen,
                                     int64_t *minor) {
  int e;
  cashback_status st = check_currency(ev, currency, clen, &e);
  if (st != CASHBACK_OK)
    return st;
  if (!decimal || HAS_NUL(decimal, len) ||
      cashback__money_parse(decimal, len, e, minor) != CASHBACK_OK)
    return cashback__event_fail(
        ev, CASHBACK_E_AMOUNT,
        "%s: '%.*s' is not an exact %.3s amount (at most %d "
        "decimals, no exponent or spaces)",
        what, decimal ? (int)(len < 40 ? len : 40) : 6,
        decimal ? decimal : "(null)", currency, e);
  return CASHBACK_OK;
}

cashback_status cashback_event_set_amount_decimal_n(cashback_event *ev,
                                                    const char *decimal,
                                                    size_t len,
                                                    const char *currency,
                                                    size_t currency_len) {
  CHECK_EV(ev);
  int64_t minor;
  cashback_status st =
      decimal_minor(ev, "amount", decimal, len, currency, currency_len, &minor);
  return st != CASHBACK_OK ? st
                           : store_amount(ev, minor, currency, currency_len);
}

cashback_status cashback_event_set_amount_decimal(cashback_event *ev,
                                                  const char *decimal,
                                                  const char *currency) {
  return cashback_event_set_amount_decimal_n(ev, decimal, len_of(decimal),
                                             currency, len_of(currency));
}

cashback_status cashback_event_set_order_time(cashback_event *ev,
                                              int64_t unix_time,
                                              int utc_offset_min) {
  CHECK_EV(ev);
  char tmp[CASHBACK__ISO8601_MAX];
  if (utc_offset_min < -840 || utc_offset_min > 840)
    return cashback__event_fail(
        ev, CASHBACK_E_FIELD,
        "order_time: UTC offset must be -840 to 840 minutes");
  if (cashback__iso8601(unix_time, utc_offset_min, tmp) != CASHBACK_OK)
    return cashback__event_fail(ev, CASHBACK_E_FIELD,
                                "order_time: must be between 1970 and 9999");
  ev->has_order_time = 1;
  ev->order_time = unix_time;
  ev->utc_offset = utc_offset_min;
  return CASHBACK_OK;
}

/* An item's optional text, `what` of items[i] (name, category; `s` NULL
 * when none, `len` then 0): no NUL byte, UTF-8 of at most `max` bytes
 * without control characters. */
static cashback_status item_text(cashback_event *ev, size_t i, const char *what,
                                 const char *s, size_t len, size_t max) {
  if (HAS_NUL(s, len))
    return cashback__event_fail(ev, CASHBACK_E_FIELD,
                                "items[%zu].%s: contains a NUL byte", i, what);
  if (!text_valid(s ? s : "", len, max, 0))
    return cashback__event_fail(ev, CASHBACK_E_FIELD,
                                "items[%zu].%s: must be UTF-8 of at most %zu "
                                "bytes without control characters",
                                i, what, max);
  return CASHBACK_OK;
}

static cashback_status add_item(cashback_event *ev, const char *sku,
                                size_t sku_len, const char *name,
                                size_t name_len, int64_t quantity,
                                int64_t unit_price_minor, const char *category,
                                size_t category_len) {
  size_t i = ev->n_items;
  char field[48];
  if (i >= ITEMS_MAX)
    return cashback__event_fail(ev, CASHBACK_E_TOO_BIG,
                                "items: at most %d items", ITEMS_MAX);
  snprintf(field, sizeof(field), "items[%zu].sku", i);
  CHECK_STR(ev, sku, sku_len, field);
  if (!id_text_valid(sku, sku_len))
    return cashback__event_fail(
        ev, CASHBACK_E_FIELD,
        "items[%zu].sku: must be 1-64 printable characters, no space", i);
  if (!name)
    name_len = 0;
  if (!category)
    category_len = 0;
  cashback_status st = item_text(ev, i, "name", name, name_len, NAME_MAX_LEN);
  if (st != CASHBACK_OK)
    return st;
  if (quantity < 1 || quantity > CASHBACK__QUANTITY_MAX)
    return cashback__event_fail(ev, CASHBACK_E_FIELD,
                                "items[%zu].quantity: must be 1 to 1000000", i);
  if (unit_price_minor < 0 || unit_price_minor > CASHBACK__AMOUNT_MAX)
    return cashback__event_fail(
        ev, CASHBACK_E_AMOUNT,
        "items[%zu].unit_price: must be 0 to 10^15 minor units", i);
  st = item_text(ev, i, "category", category, category_len, CASHBACK_ID_MAX);
  if (st != CASHBACK_OK)
    return st;
  /* {"sku":..,"name":..,"quantity":..,"unit_price":..,"category":..}, and
   * a comma before it, or ,"items":[] around the first */
  size_t size = 7 + cashback__json_string_len(sku, sku_len) + 12 +
                digits(quantity) + 14 + digits(unit_price_minor) + 1 +
                (i == 0 ? 11 : 1);
  if (name_len)
    size += 8 + cashback__json_string_len(name, name_len);
  if (category_len)
    size += 12 + cashback__json_string_len(category, category_len);
  if (!fits(ev, size))
    return cashback__event_fail(
        ev, CASHBACK_E_TOO_BIG,
        "items[%zu]: the event would pass %d bytes serialized (the "
        "cap of one event; %zu items fit so far)",
        i, CASHBACK__EVENT_JSON_MAX, i);
  item *p =
      cashback__grow(ev->items, ev->n_items, &ev->cap_items, sizeof(*p), 4);
  if (!p)
    return cashback__event_fail(ev, CASHBACK_E_NOMEM, "items: out of memory");
  ev->items = p;
  item it = {0};
  cashback__ascii_copy(it.sku, sizeof(it.sku), sku, sku_len);
  it.quantity = quantity;
  it.unit_price = unit_price_minor;
  if ((name_len && !(it.name = dup_n(name, name_len))) ||
      (category_len && !(it.category = dup_n(category, category_len)))) {
    free(it.name);
    return cashback__event_fail(ev, CASHBACK_E_NOMEM, "items: out of memory");
  }
  ev->items[ev->n_items++] = it;
  ev->var_json += size;
  return CASHBACK_OK;
}

cashback_status cashback_event_add_item(cashback_event *ev, const char *sku,
                                        const char *name, int64_t quantity,
                                        int64_t unit_price_minor,
                                        const char *category) {
  CHECK_EV(ev);
  return add_item(ev, sku, len_of(sku), name, len_of(name), quantity,
                  unit_price_minor, category, len_of(category));
}

cashback_status cashback__event_add_item_minor(
    cashback_event *ev, const char *sku, size_t sku_len, const char *name,
    size_t name_len, int64_t quantity, int64_t unit_price_minor,
    const char *category, size_t category_len) {
  CHECK_EV(ev);
  return add_item(ev, sku, sku_len, name, name_len, quantity, unit_price_minor,
                  category, category_len);
}

cashback_status cashback_event_add_item_decimal(
    cashback_event *ev, const char *sku, size_t sku_len, const char *name,
    size_t name_len, int64_t quantity, const char *unit_price,
    size_t unit_price_len, const char *currency, size_t currency_len,
    const char *category, size_t category_len) {
  CHECK_EV(ev);
  char what[48];
  snprintf(what, sizeof(what), "items[%zu].unit_price", ev->n_items);
  int64_t minor;
  cashback_status st = decimal_minor(ev, what, unit_price, unit_price_len,
                                     currency, currency_len, &minor);
  if (st != CASHBACK_OK)
    return st;
  return add_item(ev, sku, sku_len, name, name_len, quantity, minor, category,
                  category_len);
}

cashback_status cashback_event_add_voucher_n(cashback_event *ev,
                                             const char *code, size_t len) {
  CHECK_EV(ev);
  if (ev->n_vouchers >= VOUCHERS_MAX)
    return cashback__event_fail(ev, CASHBACK_E_TOO_BIG,
                                "vouchers: at most %d codes", VOUCHERS_MAX);
  if (code && HAS_NUL(code, len))
    return cashback__event_fail(ev, CASHBACK_E_FIELD,
                                "vouchers[%zu]: contains a NUL byte",
                                ev->n_vouchers);
  if (!code || !id_text_valid(code, len))
    return cashback__event_fail(
        ev, CASHBACK_E_FIELD,
        "vouchers[%zu]: must be 1-64 printable characters, no space",
        ev->n_vouchers);
  for (size_t i = 0; i < ev->n_vouchers; i++)
    if (strlen(ev->vouchers[i]) == len &&
        memcmp(ev->vouchers[i], code, len) == 0)
      return CASHBACK_OK; /* the same code twice is one code */
  /* the code, and a comma, or ,"vouchers":[] around the first */
  size_t size =
      cashback__json_string_len(code, len) + (ev->n_vouchers ? 1 : 14);
  if (!fits(ev, size))
    return cashback__event_fail(
        ev, CASHBACK_E_TOO_BIG,
        "vouchers[%zu]: the event would pass %d bytes serialized (the "
        "cap of one event)",
        ev->n_vouchers, CASHBACK__EVENT_JSON_MAX);
  cashback__ascii_copy(ev->vouchers[ev->n_vouchers++], sizeof(ev->vouchers[0]),
                       code, len);
  ev->var_json += size;
  return CASHBACK_OK;
}

cashback_status cashback_event_add_voucher(cashback_event *ev,
                                           const char *code) {
  return cashback_event_add_voucher_n(ev, code, len_of(code));
}

cashback_status cashback_event_set_customer(cashback_event *ev,
                                            cashback_customer customer) {
  CHECK_EV(ev);
  if (customer != CASHBACK_CUSTOMER_UNKNOWN &&
      customer != CASHBACK_CUSTOMER_NEW &&
      customer != CASHBACK_CUSTOMER_RETURNING)
    return cashback__event_fail(ev, CASHBACK_E_FIELD,
                                "customer: unknown value %d", (int)customer);
  ev->customer = customer;
  return CASHBACK_OK;
}

/* The index of metadata `key`, or ev->n_meta. */
static size_t meta_find(const cashback_event *ev, const char *key,
                        size_t klen) {
  size_t i = 0;
  while (i < ev->n_meta && !(strlen(ev->meta[i].key) == klen &&
                             memcmp(ev->meta[i].key, key, klen) == 0))
    i++;
  return i;
}

int cashback__event_has_metadata(const cashback_event *ev, const char *key,
                                 size_t klen) {
  return meta_find(ev, key, klen) < ev->n_meta;
}

cashback_status cashback_event_set_metadata_n(cashback_event *ev,
                                              const char *key, size_t klen,
                                              const char *value, size_t vlen) {
  CHECK_EV(ev);
  if (key && HAS_NUL(key, klen))
    return cashback__event_fail(ev, CASHBACK_E_FIELD,
                                "metadata: the key contains a NUL byte");
  if (!key || !cashback__id_valid(key, klen))
    return cashback__event_fail(ev, CASHBACK_E_FIELD,
                                "metadata: key must be 1-64 of [A-Za-z0-9._-]");
  if (value && HAS_NUL(value, vlen))
    return cashback__event_fail(ev, CASHBACK_E_FIELD,
                                "metadata.%.*s: the value contains a NUL byte",
                                (int)klen, key);
  if (!value || !text_valid(value, vlen, CASHBACK_METADATA_MAX, 1))
    return cashback__event_fail(
        ev, CASHBACK_E_FIELD,
        "metadata.%.*s: value must be UTF-8 without control characters",
        (int)klen, key);
  size_t i = meta_find(ev, key, klen);
  size_t old = i < ev->n_meta ? klen + strlen(ev->meta[i].value) : 0;
  if (ev->meta_bytes - old + klen + vlen > CASHBACK_METADATA_MAX)
    return cashback__event_fail(
        ev, CASHBACK_E_TOO_BIG,
        "metadata.%.*s: all metadata together must fit %d bytes", (int)klen,
        key, CASHBACK_METADATA_MAX);
  /* "key":"value", and a comma, or ,"metadata":{} around the first; a
   * new value for a key keeps its share of those */
  size_t size = cashback__json_string_len(key, klen) + 1 +
                cashback__json_string_len(value, vlen) +
                (i < ev->n_meta ? 0
                 : ev->n_meta   ? 1
                                : 14);
  size_t old_size =
      i < ev->n_meta ? cashback__json_string_len(key, klen) + 1 +
                           cashback__json_string_len(ev->meta[i].value,
                                                     strlen(ev->meta[i].value))
                     : 0;
  if (!fits(ev, size > old_size ? size - old_size : 0))
    return cashback__event_fail(
        ev, CASHBACK_E_TOO_BIG,
        "metadata.%.*s: the event would pass %d bytes serialized (the "
        "cap of one event)",
        (int)klen, key, CASHBACK__EVENT_JSON_MAX);
  char *v = dup_n(value, vlen);
  if (!v)
    return cashback__event_fail(ev, CASHBACK_E_NOMEM,
                                "metadata: out of memory");
  if (i < ev->n_meta) {
    free(ev->meta[i].value);
    ev->meta[i].value = v;
  } else {
    meta *p = realloc(ev->meta, (ev->n_meta + 1) * sizeof(*p));
    char *k = p ? dup_n(key, klen) : NULL;
    if (p)
      ev->meta = p;
    if (!k) {
      free(v);
      return cashback__event_fail(ev, CASHBACK_E_NOMEM,
                                  "metadata: out of memory");
    }
    ev->meta[ev->n_meta].key = k;
    ev->meta[ev->n_meta].value = v;
    ev->n_meta++;
  }
  ev->meta_bytes = ev->meta_bytes - old + klen + vlen;
  ev->var_json = ev->var_json - old_size + size;
  return CASHBACK_OK;
}

cashback_status cashback_event_set_metadata(cashback_event *ev, const char *key,
                                            const char *value) {
  return cashback_event_set_metadata_n(ev, key, len_of(key), value,
                                       len_of(value));
}

/* A refund's or cancel's own field `name` (refund_id, reason): the event's
 * type allows it (`allowed`, else "only for <only>"), `s` (`len` bytes)
 * holds no NUL byte and is `valid` (else "must be <rule>"); copied into
 * `field` (`size` bytes). */
static cashback_status set_own_id(cashback_event *ev, const char *name,
                                  int allowed, const char *only, const char *s,
                                  size_t len,
                                  int (*valid)(const char *, size_t),
                                  const char *rule, char *field, size_t size) {
  if (!allowed)
    return cashback__event_fail(ev, CASHBACK_E_FIELD, "%s: only for %s", name,
                                only);
  CHECK_STR(ev, s, len, name);
  if (!s || !valid(s, len))
    return cashback__event_fail(ev, CASHBACK_E_FIELD, "%s: must be %s", name,
                                rule);
  cashback__ascii_copy(field, size, s, len);
  return CASHBACK_OK;
}

cashback_status cashback_event_set_refund_id_n(cashback_event *ev,
                                               const char *id, size_t len) {
  CHECK_EV(ev);
  return set_own_id(ev, "refund_id", ev->type == CASHBACK_EVENT_REFUND,
                    "a refund", id, len, id_text_valid,
                    "1-64 printable characters, no space", ev->refund_id,
                    sizeof(ev->refund_id));
}

cashback_status cashback_event_set_refund_id(cashback_event *ev,
                                             const char *id) {
  return cashback_event_set_refund_id_n(ev, id, len_of(id));
}

cashback_status cashback_event_set_reason_n(cashback_event *ev,
                                            const char *reason, size_t len) {
  CHECK_EV(ev);
  return set_own_id(ev, "reason",
                    ev->type == CASHBACK_EVENT_REFUND ||
                        ev->type == CASHBACK_EVENT_CANCEL,
                    "a refund or cancel", reason, len, cashback__id_valid,
                    "1-64 of [A-Za-z0-9._-]", ev->reason, sizeof(ev->reason));
}

cashback_status cashback_event_set_reason(cashback_event *ev,
                                          const char *reason) {
  return cashback_event_set_reason_n(ev, reason, len_of(reason));
}

cashback_status cashback_event_set_test(cashback_event *ev, int is_test) {
  CHECK_EV(ev);
  ev->test = is_test != 0;
  return CASHBACK_OK;
}

/* The id: SHA-256 over the fields that make the event unique, truncated to
 * 16 bytes; random for a refund without a refund id. */
static cashback_status compute_id(const char *merchant, cashback_event *ev) {
  static const char label[] = "cashback-event-v1";
  uint8_t digest[CASHBACK__SHA256_LEN];
  const char *type = cashback_event_type_name(ev->type);
  if (ev->type == CASHBACK_EVENT_REFUND && !ev->refund_id[0]) {
    cashback_status st = cashback__random(digest, 16);
    if (st != CASHBACK_OK)
      return st;
  } else {
    static const char zero = 0;
    cashback__span parts[] = {
        {label, sizeof(label) - 1},
        {&zero, 1},
        {merchant, strlen(merchant)},
        {&zero, 1},
        {type, strlen(type)},
        {&zero, 1},
        {ev->order_id, strlen(ev->order_id)},
        {&zero, 1},
        {ev->refund_id, strlen(ev->refund_id)},
    };
    size_t n = ev->refund_id[0] ? 9 : 7;
    cashback_status st = cashback__sha256(parts, n, digest);
    if (st != CASHBACK_OK)
      return st;
  }
  cashback__hex(digest, 16, ev->id);
  return CASHBACK_OK;
}

/* Completeness of the event for its type; names the missing field. */
static cashback_status check_complete(cashback_event *ev) {
  switch (ev->type) {
  case CASHBACK_EVENT_SALE:
    if (!ev->has_amount)
      return cashback__event_fail(ev, CASHBACK_E_FIELD,
                                  "amount: required for a sale");
    if (!ev->token[0] && ev->n_vouchers == 0)
      return cashback__event_fail(
          ev, CASHBACK_E_FIELD,
          "click: a sale needs a click token or a voucher code");
    break;
  case CASHBACK_EVENT_REFUND:
    if (!ev->has_amount)
      return cashback__event_fail(ev, CASHBACK_E_FIELD,
                                  "amount: required for a refund");
    if (ev->amount == 0)
      return cashback__event_fail(ev, CASHBACK_E_AMOUNT,
                                  "amount: a refund must be above 0");
    break;
  case CASHBACK_EVENT_CANCEL:
  case CASHBACK_EVENT_CONFIRM:
    break;
  }
  if (ev->n_items && !ev->has_amount)
    return cashback__event_fail(ev, CASHBACK_E_FIELD,
                                "items: need the event's amount and currency");
  return CASHBACK_OK;
}

cashback_status cashback__event_check(cashback_event *ev,
                                      const char *merchant_id,
                                      char id[CASHBACK_EVENT_ID_LEN + 1]) {
  if (!ev || !merchant_id || !id)
    return CASHBACK_E_INVALID_ARGUMENT;
  id[0] = '\0';
  cashback_status st = check_complete(ev);
  if (st != CASHBACK_OK ||
      (ev->type == CASHBACK_EVENT_REFUND && !ev->refund_id[0]))
    return st;
  /* compute_id() writes the event's own id; keep it unfinalized. */
  char saved[sizeof(ev->id)];
  memcpy(saved, ev->id, sizeof(saved));
  st = compute_id(merchant_id, ev);
  if (st == CASHBACK_OK)
    memcpy(id, ev->id, sizeof(ev->id));
  memcpy(ev->id, saved, sizeof(saved));
  return st;
}

cashback_status cashback_event_finalize(cashback_client *c, cashback_event *ev,
                                        char *id) {
  cashback__call_begin(c);
  if (!c || !ev)
    return CASHBACK_E_INVALID_ARGUMENT;
  if (ev->id[0] && strcmp(ev->id_merchant, c->opts.merchant_id) != 0)
    return cashback__fail(
        c,
        cashback__event_fail(ev, CASHBACK_E_FIELD,
                             "event: finalized for another merchant"),
        "order %s: %s", ev->order_id, ev->error);
  if (!ev->id[0]) {
    cashback_status st = check_complete(ev);
    if (st != CASHBACK_OK)
      return cashback__fail(c, st, "order %s: %s", ev->order_id, ev->error);
    st = compute_id(c->opts.merchant_id, ev);
    if (st != CASHBACK_OK)
      return cashback__fail(c, st, "order %s: cannot compute the event id",
                            ev->order_id);
    cashback__ascii_copy(ev->id_merchant, sizeof(ev->id_merchant),
                         c->opts.merchant_id, strlen(c->opts.merchant_id));
    ev->reported_at = cashback__now(c);
    if (!ev->has_order_time) {
      ev->order_time = ev->reported_at;
      ev->utc_offset = 0;
    }
  }
  if (id)
    memcpy(id, ev->id, sizeof(ev->id));
  return CASHBACK_OK;
}

/* The wire JSON, written straight into a buffer: the bytes cJSON printed
 * when it built the object (cashback__buf_add_json_string), the fields in
 * the same order. Integers are written digit for digit, never through
 * floating point. A writer keeps the first failure and skips the rest. */
typedef struct jw {
  cashback__buf *b;
  cashback_status st;
} jw;

static void jw_lit(jw *w, const char *s, size_t n) {
  if (w->st == CASHBACK_OK)
    w->st = cashback__buf_add(w->b, s, n);
}

/* `s` a string literal (its sizeof is its length + 1). */
#define JW_LIT(w, s) jw_lit((w), "" s, sizeof(s) - 1)

static void jw_str(jw *w, const char *s) {
  if (w->st == CASHBACK_OK)
    w->st = cashback__buf_add_json_string(w->b, s, strlen(s));
}

static void jw_int(jw *w, int64_t v) {
  if (w->st == CASHBACK_OK)
    w->st = cashback__buf_add_int(w->b, v);
}

static void jw_time(jw *w, int64_t t, int offset) {
  char iso[CASHBACK__ISO8601_MAX];
  if (w->st == CASHBACK_OK && cashback__iso8601(t, offset, iso) != CASHBACK_OK)
    w->st = CASHBACK_E_INTERNAL; /* a time outside 0000-9999 */
  jw_str(w, iso);
}

static void event_write(jw *w, const cashback_event *ev) {
  JW_LIT(w, "{\"id\":");
  jw_str(w, ev->id);
  JW_LIT(w, ",\"type\":");
  jw_str(w, cashback_event_type_name(ev->type));
  JW_LIT(w, ",\"order_id\":");
  jw_str(w, ev->order_id);
  JW_LIT(w, ",\"reported_at\":");
  jw_time(w, ev->reported_at, 0);
  JW_LIT(w, ",\"order_time\":");
  jw_time(w, ev->order_time, ev->utc_offset);
  if (ev->test)
    JW_LIT(w, ",\"test\":true");
  if (ev->token[0]) {
    JW_LIT(w, ",\"click\":{\"token\":");
    jw_str(w, ev->token);
    if (ev->source[0]) {
      JW_LIT(w, ",\"source\":");
      jw_str(w, ev->source);
    }
    if (ev->captured_at > 0) {
      JW_LIT(w, ",\"captured_at\":");
      jw_time(w, ev->captured_at, 0);
    }
    JW_LIT(w, "}");
  }
  if (ev->has_amount) {
    JW_LIT(w, ",\"amount\":");
    jw_int(w, ev->amount);
    JW_LIT(w, ",\"currency\":");
    jw_str(w, ev->currency);
  }
  if (ev->customer != CASHBACK_CUSTOMER_UNKNOWN) {
    JW_LIT(w, ",\"customer\":");
    jw_str(w, ev->customer == CASHBACK_CUSTOMER_NEW ? "new" : "returning");
  }
  if (ev->n_vouchers) {
    JW_LIT(w, ",\"vouchers\":[");
    for (size_t i = 0; i < ev->n_vouchers; i++) {
      if (i)
        JW_LIT(w, ",");
      jw_str(w, ev->vouchers[i]);
    }
    JW_LIT(w, "]");
  }
  if (ev->n_items) {
    JW_LIT(w, ",\"items\":[");
    for (size_t i = 0; i < ev->n_items; i++) {
      const item *it = &ev->items[i];
      if (i)
        JW_LIT(w, ",");
      JW_LIT(w, "{\"sku\":");
      jw_str(w, it->sku);
      if (it->name) {
        JW_LIT(w, ",\"name\":");
        jw_str(w, it->name);
      }
      JW_LIT(w, ",\"quantity\":");
      jw_int(w, it->quantity);
      JW_LIT(w, ",\"unit_price\":");
      jw_int(w, it->unit_price);
      if (it->category) {
        JW_LIT(w, ",\"category\":");
        jw_str(w, it->category);
      }
      JW_LIT(w, "}");
    }
    JW_LIT(w, "]");
  }
  if (ev->n_meta) {
    JW_LIT(w, ",\"metadata\":{");
    for (size_t i = 0; i < ev->n_meta; i++) {
      if (i)
        JW_LIT(w, ",");
      jw_str(w, ev->meta[i].key);
      JW_LIT(w, ":");
      jw_str(w, ev->meta[i].value);
    }
    JW_LIT(w, "}");
  }
  if (ev->refund_id[0]) {
    JW_LIT(w, ",\"refund_id\":");
    jw_str(w, ev->refund_id);
  }
  if (ev->reason[0]) {
    JW_LIT(w, ",\"reason\":");
    jw_str(w, ev->reason);
  }
  JW_LIT(w, "}");
}

cashback_status cashback__event_json(cashback_client *c,
                                     const cashback_event *ev,
                                     cashback__buf *out) {
  if (!ev->id[0])
    return cashback__fail(c, CASHBACK_E_INTERNAL,
                          "order %s: serialized before finalize", ev->order_id);
  size_t start = out->len, bound = cashback__event_size_bound(ev);
  /* One allocation for the whole event, as a rule (a failure here only
   * means the appends below grow the buffer themselves). */
  (void)cashback__buf_reserve(
      out, bound < CASHBACK__EVENT_JSON_MAX ? bound : CASHBACK__EVENT_JSON_MAX);
  jw w = {out, CASHBACK_OK};
  event_write(&w, ev);
  if (w.st == CASHBACK_OK && out->len - start > CASHBACK__EVENT_JSON_MAX)
    w.st = CASHBACK_E_TOO_BIG;
  if (w.st == CASHBACK_OK)
    return CASHBACK_OK;
  cashback__buf_truncate(out, start); /* nothing of it stays */
  if (w.st == CASHBACK_E_TOO_BIG)
    return cashback__fail(c, w.st, "order %s: event too big to serialize",
                          ev->order_id);
  return cashback__fail(c, w.st, "order %s: cannot serialize%s", ev->order_id,
                        w.st == CASHBACK_E_NOMEM ? ": out of memory" : "");
}

cashback_status cashback__event_finalized_json(cashback_client *c,
                                               cashback_event *ev, char *id,
                                               cashback__buf *out) {
  cashback__buf_init(out, CASHBACK__EVENT_JSON_MAX);
  cashback_status st = cashback_event_finalize(c, ev, id);
  return st != CASHBACK_OK ? st : cashback__event_json(c, ev, out);
}

cashback_status cashback_event_to_json(cashback_client *c, cashback_event *ev,
                                       char **json, size_t *len) {
  cashback__call_begin(c);
  if (!c || !ev || !json)
    return CASHBACK_E_INVALID_ARGUMENT;
  *json = NULL;
  cashback__buf b;
  cashback_status st = cashback__event_finalized_json(c, ev, NULL, &b);
  if (st == CASHBACK_OK) {
    *json = cashback__buf_detach(&b, len);
    if (!*json)
      st = CASHBACK_E_NOMEM;
  }
  cashback__buf_free(&b);
  return st;
}

void cashback_free(void *p) {
  free(p);
}
