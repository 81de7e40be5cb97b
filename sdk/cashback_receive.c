/*
 * Receiving a batch (docs/protocol.md sections 2 to 4): the body as a whole,
 * then each event on its own. An event is checked by building it again with
 * the public setters, so that a receiver applies exactly the rules the
 * sender's SDK applies when it builds one; only what the setters cannot see
 * (JSON types, the id, reported_at) is checked here.
 */
#include "cashback_ascii.h"
#include "cashback_event.h"
#include "cashback_money.h"
#include "cashback_request.h"
#include "cashback_sign.h"
#include "cashback_sized.h"
#include "cashback_text.h"
#include "cashback_time.h"

#include <cjson/cJSON.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* One event of a batch: the answer in its public shape, whose text members
 * point at the buffers after it (rx_texts()), so that cashback_batch_event()
 * copies it as it is. */
typedef struct rx_event {
  cashback_received_event pub;
  char error[CASHBACK_ERROR_MAX + 1];
  char id[CASHBACK_ID_MAX + 1];
  char order_id[CASHBACK_ID_MAX + 1];
  char currency[4];
  char token[CASHBACK_TOKEN_MAX + 1];
  char refund_id[CASHBACK_ID_MAX + 1];
  char *json; /* cJSON_PrintUnformatted(), freed with cJSON_free() */
} rx_event;

struct cashback_batch {
  char merchant_id[CASHBACK_ID_MAX + 1];
  size_t n;
  rx_event *events;
};

static void set_detail(char *detail, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void set_detail(char *detail, size_t size, const char *fmt, ...) {
  if (!detail || size == 0)
    return;
  if (size > CASHBACK_ERROR_MAX + 1)
    size = CASHBACK_ERROR_MAX + 1;
  va_list ap;
  va_start(ap, fmt);
  cashback__vprintablef(detail, size, fmt, ap);
  va_end(ap);
}

static int invalid(rx_event *e, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int invalid(rx_event *e, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  cashback__vprintablef(e->error, sizeof(e->error), fmt, ap);
  va_end(ap);
  e->pub.valid = 0;
  return 0;
}

/* Copies text made printable, cut to fit: the id and order id of an
 * invalid event are echoed in answers and logs. */
static void copy_ascii(char *dst, size_t size, const char *src) {
  cashback__printable(dst, size, src, strlen(src));
}

/* A JSON number that is an integer from 0 to `max`. cJSON holds numbers as
 * doubles, which are exact up to 2^53, far above 10^15. */
static int json_int(const cJSON *n, int64_t max, int64_t *out) {
  if (!cJSON_IsNumber(n))
    return 0;
  double d = n->valuedouble;
  if (!(d >= 0.0 && d <= (double)max))
    return 0;
  int64_t v = (int64_t)d;
  if ((double)v != d)
    return 0;
  *out = v;
  return 1;
}

static const cJSON *field(const cJSON *o, const char *name) {
  const cJSON *f = cJSON_GetObjectItemCaseSensitive(o, name);
  return cJSON_IsNull(f) ? NULL : f; /* null is absent */
}

static int id_hex(const char *s) {
  return cashback__ascii_all(s, strlen(s), CASHBACK_EVENT_ID_LEN,
                             CASHBACK_EVENT_ID_LEN, CASHBACK__ASCII_HEX);
}

static cashback_event_type type_of(const char *s) {
  static const cashback_event_type all[] = {
      CASHBACK_EVENT_SALE, CASHBACK_EVENT_REFUND, CASHBACK_EVENT_CANCEL,
      CASHBACK_EVENT_CONFIRM};
  for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
    if (strcmp(s, cashback_event_type_name(all[i])) == 0)
      return all[i];
  return (cashback_event_type)0;
}

static int time_of(const cJSON *s, int utc_only, int64_t *t, int *off) {
  if (!cJSON_IsString(s))
    return 0;
  size_t len = strlen(s->valuestring);
  if (cashback__iso8601_parse(s->valuestring, len, t, off) != CASHBACK_OK)
    return 0;
  return !utc_only || (*off == 0 && len && s->valuestring[len - 1] == 'Z');
}

/* The click object: token, and source and captured_at when known. */
static int check_click(rx_event *e, cashback_event *ev, const cJSON *click) {
  if (!cJSON_IsObject(click))
    return invalid(e, "click: must be an object");
  const cJSON *token = field(click, "token");
  const cJSON *source = field(click, "source");
  const cJSON *captured = field(click, "captured_at");
  if (!cJSON_IsString(token) ||
      cashback_event_set_click(ev, token->valuestring) != CASHBACK_OK)
    return invalid(e, "click.token: must be 1-%d of [A-Za-z0-9._~-]",
                   CASHBACK_TOKEN_MAX);
  cashback_click c;
  memset(&c, 0, sizeof(c));
  copy_ascii(c.token, sizeof(c.token), token->valuestring);
  if (source) {
    if (!cJSON_IsString(source) ||
        strlen(source->valuestring) > CASHBACK_PARAM_MAX ||
        !cashback__id_valid(source->valuestring, strlen(source->valuestring)))
      return invalid(e, "click.source: must be 1-%d of [A-Za-z0-9._-]",
                     CASHBACK_PARAM_MAX);
    copy_ascii(c.source, sizeof(c.source), source->valuestring);
  }
  if (captured) {
    int off;
    if (!time_of(captured, 1, &c.captured_at, &off))
      return invalid(e, "click.captured_at: must be an ISO 8601 UTC time "
                        "ending in Z");
  }
  if (cashback_event_set_click_full(ev, &c) != CASHBACK_OK)
    return invalid(e, "%s", cashback_event_last_error(ev));
  copy_ascii(e->token, sizeof(e->token), token->valuestring);
  return 1;
}

static int check_items(rx_event *e, cashback_event *ev, const cJSON *items) {
  if (!cJSON_IsArray(items))
    return invalid(e, "items: must be an array");
  size_t i = 0;
  const cJSON *it;
  cJSON_ArrayForEach(it, items) {
    const cJSON *sku = field(it, "sku"), *name = field(it, "name"),
                *qty = field(it, "quantity"), *price = field(it, "unit_price"),
                *cat = field(it, "category");
    int64_t q, p;
    if (!cJSON_IsObject(it))
      return invalid(e, "items[%zu]: must be an object", i);
    if (!cJSON_IsString(sku))
      return invalid(e, "items[%zu].sku: must be a string", i);
    if ((name && !cJSON_IsString(name)) || (cat && !cJSON_IsString(cat)))
      return invalid(e, "items[%zu]: name and category must be strings", i);
    if (!json_int(qty, CASHBACK__AMOUNT_MAX, &q))
      return invalid(e, "items[%zu].quantity: must be an integer", i);
    if (!json_int(price, CASHBACK__AMOUNT_MAX, &p))
      return invalid(e,
                     "items[%zu].unit_price: must be an integer of minor "
                     "units, 0 to 10^15",
                     i);
    if (cashback_event_add_item(ev, sku->valuestring,
                                name ? name->valuestring : NULL, q, p,
                                cat ? cat->valuestring : NULL) != CASHBACK_OK)
      return invalid(e, "%s", cashback_event_last_error(ev));
    i++;
  }
  return 1;
}

/* reported_at (UTC) and order_time (with its offset). */
static int check_times(rx_event *e, cashback_event *ev, const cJSON *o) {
  int64_t t;
  int off;
  if (!time_of(field(o, "reported_at"), 1, &t, &off))
    return invalid(e, "reported_at: must be an ISO 8601 UTC time ending in Z");
  if (!time_of(field(o, "order_time"), 0, &t, &off))
    return invalid(e, "order_time: must be an ISO 8601 time with a UTC offset");
  if (cashback_event_set_order_time(ev, t, off) != CASHBACK_OK)
    return invalid(e, "%s", cashback_event_last_error(ev));
  return 1;
}

/* The test flag: true, false or absent. */
static int check_test(rx_event *e, cashback_event *ev, const cJSON *o) {
  const cJSON *test = field(o, "test");
  if (test && !cJSON_IsBool(test))
    return invalid(e, "test: must be true or false");
  e->pub.test = cJSON_IsTrue(test);
  if (cashback_event_set_test(ev, e->pub.test) != CASHBACK_OK)
    return invalid(e, "%s", cashback_event_last_error(ev));
  return 1;
}

/* amount and currency: both or neither. */
static int check_amount(rx_event *e, cashback_event *ev, const cJSON *o) {
  const cJSON *amount = field(o, "amount"), *currency = field(o, "currency");
  if (amount || currency) {
    int64_t v;
    if (!amount)
      return invalid(e, "amount: required with a currency");
    if (!json_int(amount, CASHBACK__AMOUNT_MAX, &v))
      return invalid(e, "amount: must be an integer of minor units, 0 to "
                        "10^15");
    if (!cJSON_IsString(currency))
      return invalid(e, "currency: required with an amount");
    if (cashback_event_set_amount(ev, v, currency->valuestring) != CASHBACK_OK)
      return invalid(e, "%s", cashback_event_last_error(ev));
    e->pub.has_amount = 1;
    e->pub.amount = v;
    copy_ascii(e->currency, sizeof(e->currency), currency->valuestring);
  }
  return 1;
}

/* customer: "new", "returning" or absent. */
static int check_customer(rx_event *e, cashback_event *ev, const cJSON *o) {
  const cJSON *customer = field(o, "customer");
  if (customer) {
    cashback_customer c = CASHBACK_CUSTOMER_UNKNOWN;
    if (cJSON_IsString(customer) && strcmp(customer->valuestring, "new") == 0)
      c = CASHBACK_CUSTOMER_NEW;
    else if (cJSON_IsString(customer) &&
             strcmp(customer->valuestring, "returning") == 0)
      c = CASHBACK_CUSTOMER_RETURNING;
    else
      return invalid(e, "customer: must be \"new\" or \"returning\"");
    if (cashback_event_set_customer(ev, c) != CASHBACK_OK)
      return invalid(e, "%s", cashback_event_last_error(ev));
  }
  return 1;
}

/* Gives each member of `list` to `add`; `list` is absent, or a JSON array
 * (`object` 0) or object (`object` 1) whose members are all strings, else
 * `what` is the reason. vouchers and metadata. */
static int each_string(rx_event *e, cashback_event *ev, const cJSON *list,
                       int object, const char *what,
                       cashback_status (*add)(cashback_event *,
                                              const cJSON *)) {
  if (!list)
    return 1;
  if (object ? !cJSON_IsObject(list) : !cJSON_IsArray(list))
    return invalid(e, "%s", what);
  const cJSON *v;
  cJSON_ArrayForEach(v, list) {
    if (!cJSON_IsString(v))
      return invalid(e, "%s", what);
    if (add(ev, v) != CASHBACK_OK)
      return invalid(e, "%s", cashback_event_last_error(ev));
  }
  return 1;
}

static cashback_status add_voucher(cashback_event *ev, const cJSON *v) {
  return cashback_event_add_voucher(ev, v->valuestring);
}

static cashback_status add_metadata(cashback_event *ev, const cJSON *v) {
  return cashback_event_set_metadata(ev, v->string, v->valuestring);
}

/* Gives the string `s` to `set`: "<name>: must be a string" when it is
 * none, else the setter's refusal. refund_id and reason. */
static int set_string(rx_event *e, cashback_event *ev, const cJSON *s,
                      const char *name,
                      cashback_status (*set)(cashback_event *, const char *)) {
  if (!cJSON_IsString(s))
    return invalid(e, "%s: must be a string", name);
  if (set(ev, s->valuestring) != CASHBACK_OK)
    return invalid(e, "%s", cashback_event_last_error(ev));
  return 1;
}

/* refund_id and reason, each when present. */
static int check_refund(rx_event *e, cashback_event *ev, const cJSON *o) {
  const cJSON *refund_id = field(o, "refund_id"), *reason = field(o, "reason");
  if (refund_id) {
    if (!set_string(e, ev, refund_id, "refund_id",
                    cashback_event_set_refund_id))
      return 0;
    copy_ascii(e->refund_id, sizeof(e->refund_id), refund_id->valuestring);
  }
  return !reason ||
         set_string(e, ev, reason, "reason", cashback_event_set_reason);
}

/* Everything but the id and order id, which the caller checked, field by
 * field in this order: the first refusal is the event's error. */
static int check_fields(rx_event *e, cashback_event *ev, const cJSON *o) {
  const cJSON *click = field(o, "click"), *items = field(o, "items");
  return check_times(e, ev, o) && check_test(e, ev, o) &&
         (!click || check_click(e, ev, click)) && check_amount(e, ev, o) &&
         check_customer(e, ev, o) &&
         each_string(e, ev, field(o, "vouchers"), 0,
                     "vouchers: must be an array of strings", add_voucher) &&
         (!items || check_items(e, ev, items)) &&
         each_string(e, ev, field(o, "metadata"), 1,
                     "metadata: must be an object of strings", add_metadata) &&
         check_refund(e, ev, o);
}

/* Points the text members of `e->pub` at `e`'s buffers. */
static void rx_texts(rx_event *e) {
  cashback_received_event *p = &e->pub;
  p->error = e->error;
  p->id = e->id;
  p->order_id = e->order_id;
  p->currency = e->currency;
  p->click_token = e->token;
  p->refund_id = e->refund_id;
}

/* Checks one event; fills `e`. Returns CASHBACK_OK (valid or not) or
 * CASHBACK_E_NOMEM. */
static cashback_status check_event(rx_event *e, const cJSON *o,
                                   const char *merchant, unsigned flags) {
  rx_texts(e);
  e->pub.valid = 1;
  e->json = cJSON_PrintUnformatted(o);
  if (!e->json)
    return CASHBACK_E_NOMEM;
  e->pub.json = e->json;
  e->pub.json_len = strlen(e->json);
  if (!cJSON_IsObject(o)) {
    invalid(e, "event: must be a JSON object");
    return CASHBACK_OK;
  }

  const cJSON *id = field(o, "id"), *type = field(o, "type"),
              *order = field(o, "order_id");
  if (cJSON_IsString(id))
    copy_ascii(e->id, sizeof(e->id), id->valuestring);
  if (cJSON_IsString(order))
    copy_ascii(e->order_id, sizeof(e->order_id), order->valuestring);
  if (!cJSON_IsString(id) || !id_hex(id->valuestring)) {
    invalid(e, "id: must be 32 lowercase hex digits");
    return CASHBACK_OK;
  }
  if (cJSON_IsString(type))
    e->pub.type = type_of(type->valuestring);
  if (!e->pub.type) {
    invalid(e, "type: must be sale, refund, cancel or confirm");
    return CASHBACK_OK;
  }
  if (!cJSON_IsString(order)) {
    invalid(e, "order_id: required");
    return CASHBACK_OK;
  }

  cashback_event *ev = cashback_event_new(e->pub.type, order->valuestring);
  if (!ev) {
    invalid(e,
            "order_id: must be 1-%d printable ASCII characters, "
            "no space",
            CASHBACK_ID_MAX);
    return CASHBACK_OK;
  }
  if (check_fields(e, ev, o)) {
    char derived[CASHBACK_EVENT_ID_LEN + 1];
    cashback_status st = cashback__event_check(ev, merchant, derived);
    if (st == CASHBACK_E_NOMEM) {
      cashback_event_free(ev);
      return st;
    }
    if (st != CASHBACK_OK)
      invalid(e, "%s", cashback_event_last_error(ev));
    else if ((flags & CASHBACK_BATCH_CHECK_IDS) && derived[0] &&
             strcmp(derived, e->id) != 0)
      invalid(e, "id: not the id derived for this %s of order %s (%s)",
              cashback_event_type_name(e->pub.type), e->order_id, derived);
  }
  cashback_event_free(ev);
  if (!e->pub.valid) { /* an invalid event carries no values */
    e->pub.has_amount = 0;
    e->pub.amount = 0;
    e->currency[0] = e->token[0] = e->refund_id[0] = '\0';
  }
  return CASHBACK_OK;
}

cashback_status cashback_batch_parse(const char *body, size_t len,
                                     unsigned flags, cashback_batch **out,
                                     char *detail, size_t detail_size) {
  set_detail(detail, detail_size, "%s", "");
  if (!out || (!body && len))
    return CASHBACK_E_INVALID_ARGUMENT;
  *out = NULL;
  if (len > CASHBACK__BATCH_MAX_BYTES) {
    set_detail(detail, detail_size, "body: larger than %d bytes",
               CASHBACK__BATCH_MAX_BYTES);
    return CASHBACK_E_TOO_BIG;
  }
  const char *end = NULL;
  cJSON *root = len ? cJSON_ParseWithLengthOpts(body, len, &end, 0) : NULL;
  size_t used = root ? (size_t)(end - body) : 0;
  while (root && used < len &&
         (body[used] == ' ' || body[used] == '\t' || body[used] == '\r' ||
          body[used] == '\n'))
    used++;
  cashback_status st = CASHBACK_E_PROTOCOL;
  const cJSON *proto = cJSON_GetObjectItemCaseSensitive(root, "protocol");
  const cJSON *merchant = cJSON_GetObjectItemCaseSensitive(root, "merchant_id");
  const cJSON *events = cJSON_GetObjectItemCaseSensitive(root, "events");
  int n = cJSON_IsArray(events) ? cJSON_GetArraySize(events) : 0;
  int64_t version = 0;
  if (!root || used != len)
    set_detail(detail, detail_size, "body: not JSON");
  else if (!cJSON_IsObject(root))
    set_detail(detail, detail_size, "body: not a JSON object");
  else if (!json_int(proto, 1000000, &version) ||
           version != CASHBACK__PROTOCOL_VERSION)
    set_detail(detail, detail_size, "protocol: must be %d",
               CASHBACK__PROTOCOL_VERSION);
  else if (!cJSON_IsString(merchant) ||
           !cashback__id_valid(merchant->valuestring,
                               strlen(merchant->valuestring)))
    set_detail(detail, detail_size,
               "merchant_id: must be 1-64 of [A-Za-z0-9._-]");
  else if (!cJSON_IsArray(events) || n < 1)
    set_detail(detail, detail_size,
               "events: must be an array of 1 to %d "
               "events",
               CASHBACK__BATCH_MAX_EVENTS);
  else if (n > CASHBACK__BATCH_MAX_EVENTS) {
    set_detail(detail, detail_size, "events: more than %d",
               CASHBACK__BATCH_MAX_EVENTS);
    st = CASHBACK_E_TOO_BIG;
  } else
    st = CASHBACK_OK;
  if (st != CASHBACK_OK) {
    cJSON_Delete(root);
    return st;
  }

  cashback_batch *b = calloc(1, sizeof(*b));
  if (b)
    b->events = calloc((size_t)n, sizeof(*b->events));
  if (!b || !b->events) {
    free(b);
    cJSON_Delete(root);
    return CASHBACK_E_NOMEM;
  }
  copy_ascii(b->merchant_id, sizeof(b->merchant_id), merchant->valuestring);
  const cJSON *o;
  cJSON_ArrayForEach(o, events) {
    st = check_event(&b->events[b->n++], o, b->merchant_id, flags);
    if (st != CASHBACK_OK) {
      cJSON_Delete(root);
      cashback_batch_free(b);
      return st;
    }
  }
  cJSON_Delete(root);
  *out = b;
  return CASHBACK_OK;
}

const char *cashback_batch_merchant_id(const cashback_batch *b) {
  return b ? b->merchant_id : "";
}

size_t cashback_batch_count(const cashback_batch *b) {
  return b ? b->n : 0;
}

cashback_status cashback_batch_event(const cashback_batch *b, size_t index,
                                     cashback_received_event *out) {
  /* No client to hold a detail: the header says what is refused. */
  if (!b || !out || index >= b->n ||
      cashback__sized_check(
          out->size, CASHBACK__SIZED_MIN(cashback_received_event, json_len),
          "out->size", sizeof(*out), NULL, 0) != CASHBACK_OK)
    return CASHBACK_E_INVALID_ARGUMENT;
  const cashback_received_event *full = &b->events[index].pub;
  cashback__sized_copy(out, full, sizeof(*full));
  return CASHBACK_OK;
}

void cashback_batch_free(cashback_batch *b) {
  if (!b)
    return;
  for (size_t i = 0; i < b->n; i++)
    cJSON_free(b->events[i].json);
  free(b->events);
  free(b);
}
