/*
 * The Impact profile (docs/networks.md; the wire shapes of
 * /work/notes/networks-spec.md): one request per event. A sale is a
 * conversion (form POST to the Conversions API, answered QUEUED with a URI
 * to poll, which is recorded), a refund modifies the action to the new
 * total (PUT, the total from the ledger), a cancel or a refund to zero
 * reverses it (DELETE). A confirm, and a test event unless
 * impact_send_test, is settled here: Impact locks actions itself and has
 * no test flag.
 */
#include "cashback_money.h"
#include "cashback_profile.h"
#include "cashback_text.h"

#include <cjson/cJSON.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define IMPACT_DEFAULT_BASE "https://api.impact.com"

enum { API_CONVERSIONS = 1, API_ACTIONS = 2 };

static const char *base_url(const cashback_options *o) {
  return o->impact_base_url[0] ? o->impact_base_url : IMPACT_DEFAULT_BASE;
}

static void base64(const unsigned char *in, size_t n, char *out) {
  static const char tab[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  size_t k = 0;
  for (size_t i = 0; i < n; i += 3) {
    unsigned v = (unsigned)in[i] << 16;
    if (i + 1 < n)
      v |= (unsigned)in[i + 1] << 8;
    if (i + 2 < n)
      v |= in[i + 2];
    out[k++] = tab[(v >> 18) & 63];
    out[k++] = tab[(v >> 12) & 63];
    out[k++] = i + 1 < n ? tab[(v >> 6) & 63] : '=';
    out[k++] = i + 2 < n ? tab[v & 63] : '=';
  }
  out[k] = '\0';
}

/* Authorization and Accept, on every call. */
static cashback_status auth_headers(const cashback_options *o,
                                    cashback__prequest *req) {
  char pair[CASHBACK_ID_MAX + CASHBACK__CREDENTIAL_MAX + 2];
  char header[6 + (sizeof(pair) + 2) / 3 * 4 + 1];
  int m = snprintf(pair, sizeof(pair), "%s:%s", o->impact_account_sid,
                   o->impact_auth_token);
  cashback_status st = CASHBACK_E_TOO_BIG;
  if (m > 0 && (size_t)m < sizeof(pair)) {
    memcpy(header, "Basic ", 6);
    base64((const unsigned char *)pair, (size_t)m, header + 6);
    st = cashback__prequest_header(req, "Authorization", header);
  }
  cashback__wipe(pair, sizeof(pair));
  cashback__wipe(header, sizeof(header));
  req->credential = "impact_auth_token";
  if (st == CASHBACK_OK)
    st = cashback__prequest_header(req, "Accept", "application/json");
  return st;
}

static cashback_status money_field(cashback__buf *b, const char *name,
                                   int64_t minor, int exponent) {
  char num[48];
  cashback_status st =
      cashback__money_format(minor, exponent, num, sizeof(num));
  return st == CASHBACK_OK ? cashback__form_field(b, name, num) : st;
}

/* Impact's disposition codes are [A-Z_]+: the event's reason when it is
 * one, else `fallback`. */
static const char *disposition(const cashback__pevent *ev,
                               const char *fallback) {
  const char *r = ev->reason;
  if (!r || !r[0])
    return fallback;
  for (const char *p = r; *p; p++)
    if (!((*p >= 'A' && *p <= 'Z') || *p == '_'))
      return fallback;
  return r;
}

/* The Conversions API's form for a sale. */
static cashback_status sale_form(const cashback_options *o,
                                 const cashback__pevent *ev, cashback__buf *b) {
  cashback_status st =
      cashback__form_field(b, "CampaignId", o->impact_campaign_id);
#define FIELD(name, value)                                                     \
  do {                                                                         \
    if (st == CASHBACK_OK)                                                     \
      st = cashback__form_field(b, name, value);                               \
  } while (0)
  FIELD("ActionTrackerId", o->impact_action_tracker_id);
  FIELD("EventDate", ev->order_time);
  FIELD("OrderId", ev->order_id);
  if (ev->click)
    FIELD("ClickId", ev->click);
  if (ev->currency)
    FIELD("CurrencyCode", ev->currency);
  if (ev->customer)
    FIELD("CustomerStatus",
          strcmp(ev->customer, "new") == 0 ? "New" : "Returning");
  if (ev->n_vouchers) {
    cashback__buf codes;
    cashback__buf_init(&codes, 64 * 1024);
    for (size_t i = 0; st == CASHBACK_OK && i < ev->n_vouchers; i++) {
      if (i)
        st = cashback__buf_add(&codes, ",", 1);
      if (st == CASHBACK_OK)
        st = cashback__buf_adds(&codes, ev->vouchers[i]);
    }
    FIELD("OrderPromoCode", codes.data);
    cashback__buf_free(&codes);
  }
  for (size_t i = 0; st == CASHBACK_OK && i < ev->n_items; i++) {
    const cashback__pitem *it = &ev->items[i];
    char name[48], qty[24];
    size_t k = i + 1;
    snprintf(name, sizeof(name), "ItemSku%zu", k);
    FIELD(name, it->sku);
    if (it->category) {
      snprintf(name, sizeof(name), "ItemCategory%zu", k);
      FIELD(name, it->category);
    }
    if (it->name) {
      snprintf(name, sizeof(name), "ItemName%zu", k);
      FIELD(name, it->name);
    }
    snprintf(name, sizeof(name), "ItemPrice%zu", k);
    if (st == CASHBACK_OK)
      st = money_field(b, name, it->unit_price, ev->exponent);
    snprintf(name, sizeof(name), "ItemQuantity%zu", k);
    snprintf(qty, sizeof(qty), "%lld", (long long)it->quantity);
    FIELD(name, qty);
    /* quantity <= 10^6 and |price| <= 10^15: the product can pass int64
     * only in theory; the event's checks keep it far below. */
    snprintf(name, sizeof(name), "ItemSubTotal%zu", k);
    if (st == CASHBACK_OK)
      st = money_field(b, name, it->unit_price * it->quantity, ev->exponent);
  }
  if (st == CASHBACK_OK && ev->n_items == 0) {
    /* Impact needs an amount somewhere: the order as one line. */
    st = money_field(b, "ItemSubTotal1", ev->amount, ev->exponent);
    FIELD("ItemSku1", "order");
  }
#undef FIELD
  return st;
}

static cashback_status
impact_build(const cashback_options *o, const cashback__profile_orders *orders,
             int64_t now_s, const char *const *texts, const size_t *lens,
             cashback__result *results, size_t n, cashback__prequest *req) {
  (void)now_s;
  (void)n;
  cashback__pevent ev;
  cashback_status st = cashback__prequest_orders(req, 1);
  if (st != CASHBACK_OK)
    return st;
  req->n = 1;
  st = cashback__pevent_parse(texts[0], lens[0], &ev);
  if (st == CASHBACK_E_NOMEM)
    return st;
  if (st != CASHBACK_OK) {
    req->local = 1;
    cashback__profile_settle(&results[0], CASHBACK__OUTCOME_REJECTED,
                             "invalid_event",
                             "the spool record is not an event this profile "
                             "can read");
    return CASHBACK_OK;
  }
  snprintf(req->orders[0], sizeof(req->orders[0]), "%s", ev.order_id);
  int refund = strcmp(ev.type, "refund") == 0;
  int cancel = strcmp(ev.type, "cancel") == 0;
  int sale = strcmp(ev.type, "sale") == 0;
  cashback__profile_sale s;
  memset(&s, 0, sizeof(s));
  req->local = 1;
  st = CASHBACK_OK;
  if (ev.test && !o->impact_send_test) {
    cashback__profile_settle(&results[0], CASHBACK__OUTCOME_ACCEPTED, "",
                             "a test event: not sent to Impact "
                             "(impact_send_test=0)");
  } else if (!sale && !refund && !cancel) {
    cashback__profile_settle(&results[0], CASHBACK__OUTCOME_ACCEPTED, "",
                             "a confirm: Impact locks actions itself");
  } else if ((sale || refund) && !ev.has_amount) {
    cashback__profile_settle(&results[0], CASHBACK__OUTCOME_REJECTED,
                             "impact_needs_amount",
                             "Impact needs the amount of a sale or refund");
  } else if (refund && !(orders && orders->lookup &&
                         orders->lookup(orders->ctx, ev.order_id, ev.id,
                                        ev.amount, &s) == 0)) {
    cashback__profile_settle(
        &results[0], CASHBACK__OUTCOME_REJECTED, "impact_needs_sale",
        "the ledger has no sale for this order (reported through another "
        "spool?): Impact wants the new total; replay it once the ledger "
        "knows the sale");
  } else {
    req->local = 0;
  }
  if (req->local) {
    cashback__pevent_free(&ev);
    return CASHBACK_OK;
  }
  int m;
  if (sale) {
    req->api = API_CONVERSIONS;
    memcpy(req->method, "POST", 5);
    m = snprintf(req->url, sizeof(req->url), "%s/Advertisers/%s/Conversions",
                 base_url(o), o->impact_account_sid);
    st = sale_form(o, &ev, &req->body);
  } else if (refund && s.new_total > 0) {
    req->api = API_ACTIONS;
    memcpy(req->method, "PUT", 4);
    m = snprintf(req->url, sizeof(req->url), "%s/Advertisers/%s/Actions",
                 base_url(o), o->impact_account_sid);
    const char *cur = s.currency[0] ? s.currency : ev.currency;
    int exp = cur ? cashback__currency_exponent(cur, strlen(cur)) : -1;
    st = exp < 0 ? CASHBACK_E_PROTOCOL
                 : cashback__form_field(&req->body, "CampaignId",
                                        o->impact_campaign_id);
    if (st == CASHBACK_OK)
      st = cashback__form_field(&req->body, "OrderId", ev.order_id);
    if (st == CASHBACK_OK)
      st = money_field(&req->body, "Amount", s.new_total, exp);
    if (st == CASHBACK_OK)
      st = cashback__form_field(&req->body, "Reason",
                                disposition(&ev, "ITEM_RETURNED"));
  } else {
    /* A cancel, or a refund to zero: the action is reversed. */
    req->api = API_ACTIONS;
    memcpy(req->method, "DELETE", 7);
    cashback__buf q;
    cashback__buf_init(&q, 4096);
    st = cashback__form_field(&q, "CampaignId", o->impact_campaign_id);
    if (st == CASHBACK_OK)
      st = cashback__form_field(&q, "OrderId", ev.order_id);
    if (st == CASHBACK_OK)
      st = cashback__form_field(
          &q, "Reason",
          disposition(&ev, cancel ? "ORDER_CANCELLED" : "ITEM_RETURNED"));
    m = snprintf(req->url, sizeof(req->url), "%s/Advertisers/%s/Actions?%s",
                 base_url(o), o->impact_account_sid, q.data ? q.data : "");
    cashback__buf_free(&q);
  }
  cashback__pevent_free(&ev);
  if (st == CASHBACK_OK && (m < 0 || (size_t)m >= sizeof(req->url)))
    st = CASHBACK_E_TOO_BIG;
  if (st == CASHBACK_OK)
    st = auth_headers(o, req);
  if (st == CASHBACK_OK && req->body.len)
    st = cashback__prequest_header(req, "Content-Type",
                                   "application/x-www-form-urlencoded");
  return st;
}

static void settle_one(cashback__sent *b, cashback__decision *d,
                       cashback__outcome o, const char *reason,
                       const char *message) {
  memset(d, 0, sizeof(*d));
  d->retry_after_ms = -1;
  cashback__profile_settle(&b->results[0], o, reason, message);
  d->next = CASHBACK__NEXT_SETTLE;
  d->cause = CASHBACK__CAUSE_RESULTS;
  d->outcomes[o] = 1;
}

static int starts_with_i(const char *s, const char *prefix) {
  for (; *prefix; s++, prefix++)
    if (!*s || (*s | 0x20) != (*prefix | 0x20))
      return 0;
  return 1;
}

static void impact_classify(const cashback_options *o,
                            const cashback__prequest *req,
                            const cashback__answer *a, cashback__sent *b,
                            cashback__decision *d, char *submission) {
  (void)o;
  /* The generic table for what Impact answers as any API does (no answer,
   * 401/403, 429, 5xx, another 4xx); its 200, 400 and 404 are read here. */
  cashback__profile_reset(b, submission);
  cashback__decide(a, b, d);
  if (a->transport != CASHBACK_OK || b->n != 1 ||
      (a->status != 200 && a->status != 400 && a->status != 404))
    return;
  cashback__profile_settle(&b->results[0], CASHBACK__OUTCOME_PENDING, "", "");
  cJSON *root = a->body && a->body_len
                    ? cJSON_ParseWithLength(a->body, a->body_len)
                    : NULL;
  const char *status =
      cJSON_IsObject(root) ? cashback__json_str(root, "Status") : NULL;
  const char *message =
      cJSON_IsObject(root) ? cashback__json_str(root, "Message") : NULL;
  if (a->status == 200) {
    if (status && (strcmp(status, "QUEUED") == 0 || strcmp(status, "OK") == 0 ||
                   strcmp(status, "COMPLETED") == 0)) {
      const char *uri = cashback__json_str(root, "QueuedUri");
      if (uri)
        cashback__printable(submission, CASHBACK__SUBMISSION_MAX + 1, uri,
                            strlen(uri));
      settle_one(b, d, CASHBACK__OUTCOME_ACCEPTED, "", "");
    } else if (status && strcmp(status, "ERROR") == 0) {
      settle_one(b, d, CASHBACK__OUTCOME_REJECTED, "impact_error", message);
    } else {
      memset(d, 0, sizeof(*d));
      d->retry_after_ms = -1;
      d->next = CASHBACK__NEXT_RETRY;
      d->cause = CASHBACK__CAUSE_NO_RESULTS;
      d->status = CASHBACK_E_PROTOCOL;
    }
  } else if (a->status == 400 && status && strcmp(status, "ERROR") == 0) {
    /* Impact dedupes by OrderId (assumed wording, docs/networks.md). */
    if (message && starts_with_i(message, "Duplicate"))
      settle_one(b, d, CASHBACK__OUTCOME_DUPLICATE, "", "");
    else
      settle_one(b, d, CASHBACK__OUTCOME_REJECTED, "impact_error", message);
  } else if (a->status == 404 && req->api == API_ACTIONS) {
    settle_one(b, d, CASHBACK__OUTCOME_REJECTED, "impact_no_action",
               message ? message : "No action found");
  }
  cJSON_Delete(root);
}

const cashback__profile cashback__profile_impact = {"impact", impact_build,
                                                    impact_classify, 0, 0};
