/*
 * Receiving a batch (docs/protocol.md sections 2 to 4): the body as a whole,
 * then each event on its own. An event is checked by building it again with
 * the public setters, so that a receiver applies exactly the rules the
 * sender's SDK applies when it builds one; only what the setters cannot see
 * (JSON types, the id, reported_at) is checked here.
 */
#include "cashback_ascii.h"
#include "cashback_event.h"
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

#define AMOUNT_MAX INT64_C(1000000000000000)

typedef struct rx_event {
  char error[CASHBACK_ERROR_MAX + 1];
  char id[CASHBACK_ID_MAX + 1];
  char order_id[CASHBACK_ID_MAX + 1];
  char currency[4];
  char token[CASHBACK_TOKEN_MAX + 1];
  char refund_id[CASHBACK_ID_MAX + 1];
  cashback_event_type type;
  int valid;
  int has_amount;
  int64_t amount;
  int test;
  char *json; /* cJSON_PrintUnformatted(), freed with cJSON_free() */
  size_t json_len;
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
  e->valid = 0;
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
    if (!json_int(qty, AMOUNT_MAX, &q))
      return invalid(e, "items[%zu].quantity: must be an integer", i);
    if (!json_int(price, AMOUNT_MAX, &p))
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

/* Everything but the id and order id, which the caller checked. */
static int check_fields(rx_event *e, cashback_event *ev, const cJSON *o) {
  int64_t t;
  int off;
  if (!time_of(field(o, "reported_at"), 1, &t, &off))
    return invalid(e, "reported_at: must be an ISO 8601 UTC time ending in Z");
  if (!time_of(field(o, "order_time"), 0, &t, &off))
    return invalid(e, "order_time: must be an ISO 8601 time with a UTC offset");
  if (cashback_event_set_order_time(ev, t, off) != CASHBACK_OK)
    return invalid(e, "%s", cashback_event_last_error(ev));

  const cJSON *test = field(o, "test");
  if (test && !cJSON_IsBool(test))
    return invalid(e, "test: must be true or false");
  e->test = cJSON_IsTrue(test);
  if (cashback_event_set_test(ev, e->test) != CASHBACK_OK)
    return invalid(e, "%s", cashback_event_last_error(ev));

  const cJSON *click = field(o, "click");
  if (click && !check_click(e, ev, click))
    return 0;

  const cJSON *amount = field(o, "amount"), *currency = field(o, "currency");
  if (amount || currency) {
    int64_t v;
    if (!amount)
      return invalid(e, "amount: required with a currency");
    if (!json_int(amount, AMOUNT_MAX, &v))
      return invalid(e, "amount: must be an integer of minor units, 0 to "
                        "10^15");
    if (!cJSON_IsString(currency))
      return invalid(e, "currency: required with an amount");
    if (cashback_event_set_amount(ev, v, currency->valuestring) != CASHBACK_OK)
      return invalid(e, "%s", cashback_event_last_error(ev));
    e->has_amount = 1;
    e->amount = v;
    copy_ascii(e->currency, sizeof(e->currency), currency->valuestring);
  }

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

  const cJSON *vouchers = field(o, "vouchers"), *v;
  if (vouchers) {
    if (!cJSON_IsArray(vouchers))
      return invalid(e, "vouchers: must be an array of strings");
    cJSON_ArrayForEach(v, vouchers) {
      if (!cJSON_IsString(v))
        return invalid(e, "vouchers: must be an array of strings");
      if (cashback_event_add_voucher(ev, v->valuestring) != CASHBACK_OK)
        return invalid(e, "%s", cashback_event_last_error(ev));
    }
  }

  const cJSON *items = field(o, "items");
  if (items && !check_items(e, ev, items))
    return 0;

  const cJSON *meta = field(o, "metadata");
  if (meta) {
    if (!cJSON_IsObject(meta))
      return invalid(e, "metadata: must be an object of strings");
    cJSON_ArrayForEach(v, meta) {
      if (!cJSON_IsString(v))
        return invalid(e, "metadata: must be an object of strings");
      if (cashback_event_set_metadata(ev, v->string, v->valuestring) !=
          CASHBACK_OK)
        return invalid(e, "%s", cashback_event_last_error(ev));
    }
  }

  const cJSON *refund_id = field(o, "refund_id"), *reason = field(o, "reason");
  if (refund_id) {
    if (!cJSON_IsString(refund_id) ||
        cashback_event_set_refund_id(ev, refund_id->valuestring) != CASHBACK_OK)
      return invalid(e, "%s",
                     cJSON_IsString(refund_id) ? cashback_event_last_error(ev)
                                               : "refund_id: must be a string");
    copy_ascii(e->refund_id, sizeof(e->refund_id), refund_id->valuestring);
  }
  if (reason &&
      (!cJSON_IsString(reason) ||
       cashback_event_set_reason(ev, reason->valuestring) != CASHBACK_OK))
    return invalid(e, "%s",
                   cJSON_IsString(reason) ? cashback_event_last_error(ev)
                                          : "reason: must be a string");
  return 1;
}

/* Checks one event; fills `e`. Returns CASHBACK_OK (valid or not) or
 * CASHBACK_E_NOMEM. */
static cashback_status check_event(rx_event *e, const cJSON *o,
                                   const char *merchant, unsigned flags) {
  e->valid = 1;
  e->json = cJSON_PrintUnformatted(o);
  if (!e->json)
    return CASHBACK_E_NOMEM;
  e->json_len = strlen(e->json);
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
    e->type = type_of(type->valuestring);
  if (!e->type) {
    invalid(e, "type: must be sale, refund, cancel or confirm");
    return CASHBACK_OK;
  }
  if (!cJSON_IsString(order)) {
    invalid(e, "order_id: required");
    return CASHBACK_OK;
  }

  cashback_event *ev = cashback_event_new(e->type, order->valuestring);
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
              cashback_event_type_name(e->type), e->order_id, derived);
  }
  cashback_event_free(ev);
  if (!e->valid) { /* an invalid event carries no values */
    e->has_amount = 0;
    e->amount = 0;
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
  const rx_event *e = &b->events[index];
  cashback_received_event full, *user = out;
  out = &full;
  memset(out, 0, sizeof(*out));
  out->valid = e->valid;
  out->error = e->error;
  out->id = e->id;
  out->type = e->type;
  out->order_id = e->order_id;
  out->has_amount = e->has_amount;
  out->amount = e->amount;
  out->currency = e->currency;
  out->test = e->test;
  out->click_token = e->token;
  out->refund_id = e->refund_id;
  out->json = e->json;
  out->json_len = e->json_len;
  cashback__sized_copy(user, &full, sizeof(full));
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
