/*
 * The Awin profile (docs/networks.md; the wire shapes of
 * /work/notes/networks-spec.md): sales go to the Conversion API as order
 * batches, refunds, cancels and confirms to the transaction batch API as
 * amend (the new total, from the ledger), decline and approve. One request
 * covers a run of events of one API, each order at most once (a second
 * refund of an order waits for the first one's answer, so that its new
 * total counts it), at most 1000.
 */
#include "cashback_money.h"
#include "cashback_profile.h"
#include "cashback_text.h"
#include "cashback_time.h"

#include <cjson/cJSON.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define AWIN_ORDERS_MAX 1000
#define AWIN_ORDER_REF_MAX 50
#define AWIN_DEFAULT_BASE "https://api.awin.com"

enum { API_CONVERSION = 1, API_TRANSACTIONS = 2 };

static const char *base_url(const cashback_options *o) {
  return o->awin_base_url[0] ? o->awin_base_url : AWIN_DEFAULT_BASE;
}

static const char *group(const cashback_options *o) {
  return o->awin_commission_group[0] ? o->awin_commission_group : "DEFAULT";
}

/* Adds `minor` as a JSON number of `exponent` decimals (never a float). */
static int add_money(cJSON *obj, const char *name, int64_t minor,
                     int exponent) {
  char num[48];
  return cashback__money_format(minor, exponent, num, sizeof(num)) ==
             CASHBACK_OK &&
         cJSON_AddRawToObject(obj, name, num) != NULL;
}

static int add_str(cJSON *obj, const char *name, const char *v) {
  return cJSON_AddStringToObject(obj, name, v) != NULL;
}

static int add_groups(const cashback_options *o, cJSON *obj, int64_t amount,
                      int exponent) {
  cJSON *groups = cJSON_AddArrayToObject(obj, "commissionGroups");
  cJSON *g = groups ? cJSON_CreateObject() : NULL;
  if (!g || !cJSON_AddItemToArray(groups, g))
    return 0;
  return add_str(g, "code", group(o)) &&
         add_money(g, "amount", amount, exponent);
}

/* One order of the Conversion API. */
static int sale_entry(const cashback_options *o, const cashback__pevent *ev,
                      cJSON *orders) {
  cJSON *e = cJSON_CreateObject();
  if (!e || !cJSON_AddItemToArray(orders, e))
    return 0;
  int ok = add_str(e, "orderReference", ev->order_id) &&
           add_money(e, "amount", ev->amount, ev->exponent) &&
           add_str(e, "channel", "aw") && add_str(e, "currency", ev->currency);
  if (ok && ev->n_vouchers)
    ok = add_str(e, "voucher", ev->vouchers[0]); /* Awin takes one */
  if (ok && ev->customer)
    ok = add_str(e, "customerAcquisition",
                 strcmp(ev->customer, "new") == 0 ? "NEW" : "RETURNING");
  ok = ok && cJSON_AddBoolToObject(e, "isTest", ev->test) != NULL;
  if (ok && ev->click)
    ok = add_str(e, "awc", ev->click);
  ok = ok && add_str(e, "transactionDate", ev->order_time) &&
       add_groups(o, e, ev->amount, ev->exponent);
  if (ok && ev->n_items) {
    cJSON *basket = cJSON_AddArrayToObject(e, "basket");
    ok = basket != NULL;
    for (size_t i = 0; ok && i < ev->n_items; i++) {
      const cashback__pitem *it = &ev->items[i];
      cJSON *b = cJSON_CreateObject();
      char qty[24];
      snprintf(qty, sizeof(qty), "%lld", (long long)it->quantity);
      ok = b && cJSON_AddItemToArray(basket, b) && add_str(b, "id", it->sku);
      if (ok && it->name)
        ok = add_str(b, "name", it->name);
      ok = ok && add_money(b, "price", it->unit_price, ev->exponent) &&
           cJSON_AddRawToObject(b, "quantity", qty) != NULL;
      if (ok && it->category)
        ok = add_str(b, "category", it->category);
      ok = ok && add_str(b, "commissionGroupCode", group(o));
    }
  }
  return ok;
}

/* The sale's order time as Awin's transaction API keys it: UTC, no
 * offset ("2026-12-01T09:15:00"), with "timezone":"UTC". */
static int utc_date(int64_t t, char out[CASHBACK__ISO8601_MAX]) {
  if (cashback__iso8601(t, 0, out) != CASHBACK_OK)
    return 0;
  size_t n = strlen(out);
  if (n && out[n - 1] == 'Z')
    out[n - 1] = '\0';
  return 1;
}

/* One entry of the transaction batch API. */
static int transaction_entry(const cashback_options *o,
                             const cashback__pevent *ev,
                             const cashback__profile_sale *sale, int known,
                             cJSON *list) {
  char date[CASHBACK__ISO8601_MAX];
  if (!utc_date(known && sale->order_time ? sale->order_time : ev->order_unix,
                date))
    return 0;
  cJSON *e = cJSON_CreateObject();
  if (!e || !cJSON_AddItemToArray(list, e))
    return 0;
  const char *action, *member;
  int refund = strcmp(ev->type, "refund") == 0;
  if (refund && sale->new_total > 0) {
    action = "amend";
    member = "amendTransaction";
  } else if (refund || strcmp(ev->type, "cancel") == 0) {
    action = "decline";
    member = "declineTransaction";
  } else {
    action = "approve";
    member = "approveTransaction";
  }
  cJSON *t = NULL;
  int ok = add_str(e, "action", action) &&
           (t = cJSON_AddObjectToObject(e, member)) != NULL &&
           add_str(t, "orderRef", ev->order_id) &&
           add_str(t, "transactionDate", date) && add_str(t, "timezone", "UTC");
  if (ok && action[0] == 'a' && action[1] == 'm') {
    const char *cur = sale->currency[0] ? sale->currency : ev->currency;
    int exp = cur ? cashback__currency_exponent(cur, strlen(cur)) : -1;
    cJSON *tx = exp >= 0 ? cJSON_AddObjectToObject(t, "transaction") : NULL;
    ok = tx && add_money(tx, "amount", sale->new_total, exp) &&
         add_str(tx, "currency", cur) &&
         add_groups(o, tx, sale->new_total, exp) &&
         add_str(t, "amendReason", ev->reason ? ev->reason : "refund");
  } else if (ok && action[0] == 'd') {
    ok = add_str(t, "declineReason",
                 ev->reason ? ev->reason
                 : refund   ? "refund"
                            : "cancelled");
  }
  return ok;
}

/* Which API event `ev` goes to, with what the ledger knows of its order;
 * 0 and a local rejection in `*r` when it cannot go. */
static int classify_event(const cashback__profile_orders *orders,
                          const cashback__pevent *ev,
                          cashback__profile_sale *sale, int *known,
                          cashback__result *r) {
  memset(sale, 0, sizeof(*sale));
  *known = 0;
  if (strlen(ev->order_id) > AWIN_ORDER_REF_MAX) {
    cashback__profile_settle(r, CASHBACK__OUTCOME_REJECTED,
                             "awin_order_reference_too_long",
                             "Awin takes an orderReference of at most 50 "
                             "characters");
    return 0;
  }
  if (strcmp(ev->type, "sale") == 0) {
    if (!ev->has_amount) {
      cashback__profile_settle(r, CASHBACK__OUTCOME_REJECTED,
                               "awin_needs_amount",
                               "an Awin order needs an amount");
      return 0;
    }
    return API_CONVERSION;
  }
  int refund = strcmp(ev->type, "refund") == 0;
  if (refund && !ev->has_amount) {
    cashback__profile_settle(r, CASHBACK__OUTCOME_REJECTED, "awin_needs_amount",
                             "a refund to Awin needs its amount");
    return 0;
  }
  *known = orders && orders->lookup &&
           orders->lookup(orders->ctx, ev->order_id, ev->id,
                          refund ? ev->amount : 0, sale) == 0;
  if (!*known && (refund || !ev->order_time_given)) {
    cashback__profile_settle(
        r, CASHBACK__OUTCOME_REJECTED, "awin_needs_sale",
        refund ? "the ledger has no sale for this order (reported through "
                 "another spool?): Awin wants the new total; replay it once "
                 "the ledger knows the sale"
               : "the ledger has no sale for this order and the event has no "
                 "order_time: Awin keys a transaction by its date; replay it "
                 "once the ledger knows the sale");
    return 0;
  }
  return API_TRANSACTIONS;
}

static cashback_status awin_build(const cashback_options *o,
                                  const cashback__profile_orders *orders,
                                  int64_t now_s, const char *const *texts,
                                  const size_t *lens, cashback__result *results,
                                  size_t n, cashback__prequest *req) {
  (void)now_s;
  cashback_status st = cashback__prequest_orders(req, n);
  if (st != CASHBACK_OK)
    return st;
  cJSON *root = NULL, *list = NULL;
  int api = 0;
  for (size_t i = 0; i < n && i < AWIN_ORDERS_MAX; i++) {
    cashback__pevent ev;
    cashback__profile_sale sale;
    cashback__result scratch; /* an event after the first: decided later */
    int known = 0;
    cashback_status pst = cashback__pevent_parse(texts[i], lens[i], &ev);
    if (pst == CASHBACK_E_NOMEM) {
      st = pst;
      break;
    }
    int this_api = 0;
    if (pst != CASHBACK_OK) {
      if (i == 0)
        cashback__profile_settle(&results[0], CASHBACK__OUTCOME_REJECTED,
                                 "invalid_event",
                                 "the spool record is not an event this "
                                 "profile can read");
    } else {
      this_api = classify_event(orders, &ev, &sale, &known,
                                i == 0 ? &results[0] : &scratch);
    }
    /* A run of one API, each order once; a local settlement alone. */
    int again = 0;
    for (size_t j = 0; this_api && j < req->n; j++)
      again = again || strcmp(req->orders[j], ev.order_id) == 0;
    if (i > 0 && (this_api != api || again)) {
      cashback__pevent_free(&ev);
      break;
    }
    if (!this_api) { /* i == 0: settled here */
      req->local = 1;
      req->n = 1;
      cashback__pevent_free(&ev);
      break;
    }
    if (i == 0) {
      api = this_api;
      root = cJSON_CreateObject();
      list = api == API_CONVERSION ? cJSON_AddArrayToObject(root, "orders")
                                   : cJSON_CreateArray();
      if (api == API_TRANSACTIONS && list) {
        cJSON_Delete(root);
        root = list;
      }
      if (!root || !list) {
        cashback__pevent_free(&ev);
        st = CASHBACK_E_NOMEM;
        break;
      }
    }
    int ok = api == API_CONVERSION
                 ? sale_entry(o, &ev, list)
                 : transaction_entry(o, &ev, &sale, known, list);
    if (ok)
      snprintf(req->orders[req->n++], sizeof(req->orders[0]), "%s",
               ev.order_id);
    cashback__pevent_free(&ev);
    if (!ok) {
      st = CASHBACK_E_NOMEM;
      break;
    }
  }
  if (st == CASHBACK_OK && !req->local) {
    char *text = cJSON_PrintUnformatted(root);
    st = text ? cashback__buf_adds(&req->body, text) : CASHBACK_E_NOMEM;
    cJSON_free(text);
    req->api = api;
    memcpy(req->method, "POST", 5);
    int m = api == API_CONVERSION
                ? snprintf(req->url, sizeof(req->url),
                           "%s/s2s/advertiser/%s/orders", base_url(o),
                           o->awin_advertiser_id)
                : snprintf(req->url, sizeof(req->url),
                           "%s/advertisers/%s/transactions/batch", base_url(o),
                           o->awin_advertiser_id);
    if (m < 0 || (size_t)m >= sizeof(req->url))
      st = CASHBACK_E_TOO_BIG;
    if (api == API_CONVERSION) {
      req->credential = "awin_api_key";
      if (st == CASHBACK_OK)
        st = cashback__prequest_header(req, "x-api-key", o->awin_api_key);
      if (st == CASHBACK_OK)
        st = cashback__prequest_header(req, "Content-Type", "application/json");
      if (st == CASHBACK_OK)
        st = cashback__prequest_header(req, "Accept", "application/json");
    } else {
      char bearer[CASHBACK__CREDENTIAL_MAX + 8];
      snprintf(bearer, sizeof(bearer), "Bearer %s", o->awin_api_token);
      req->credential = "awin_api_token";
      if (st == CASHBACK_OK)
        st = cashback__prequest_header(req, "Authorization", bearer);
      cashback__wipe(bearer, sizeof(bearer));
      if (st == CASHBACK_OK)
        st = cashback__prequest_header(req, "Content-Type", "application/json");
    }
  }
  cJSON_Delete(root);
  return st;
}

/* The answer's body as a JSON value (NULL when it is none). */
static cJSON *body_json(const cashback__answer *a) {
  if (!a->body || a->body_len == 0)
    return NULL;
  return cJSON_ParseWithLength(a->body, a->body_len);
}

/* A reason code of Awin's made an identifier ([A-Za-z0-9._-], at most
 * CASHBACK_ID_MAX), or `fallback`. */
static void reason_of(const char *s, const char *fallback, char *out,
                      size_t size) {
  size_t k = 0;
  for (; s && s[k] && k < size - 1 && k < CASHBACK_ID_MAX; k++) {
    char c = s[k];
    out[k] = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                     (c >= '0' && c <= '9') || c == '.' || c == '-'
                 ? c
                 : '_';
  }
  out[k] = '\0';
  if (k == 0)
    snprintf(out, size, "%s", fallback);
}

static void settled(cashback__sent *b, cashback__decision *d) {
  memset(d->outcomes, 0, sizeof(d->outcomes));
  for (size_t i = 0; i < b->n; i++)
    d->outcomes[b->results[i].outcome]++;
  d->cause = CASHBACK__CAUSE_RESULTS;
  d->status = CASHBACK_OK;
  d->next = CASHBACK__NEXT_SETTLE;
  if (d->outcomes[CASHBACK__OUTCOME_PENDING] == b->n) {
    d->next = CASHBACK__NEXT_RETRY;
    d->cause = CASHBACK__CAUSE_SETTLED_NONE;
    d->status = CASHBACK_E_PROTOCOL;
  }
}

static void no_results(cashback__decision *d) {
  d->next = CASHBACK__NEXT_RETRY;
  d->cause = CASHBACK__CAUSE_NO_RESULTS;
  d->status = CASHBACK_E_PROTOCOL;
}

/* 200 from the Conversion API: per order, by orderReference. */
static void conversion_200(const cashback__prequest *req, const cJSON *root,
                           cashback__sent *b, cashback__decision *d) {
  const cJSON *list = cJSON_GetObjectItemCaseSensitive(root, "orders");
  if (!cJSON_IsArray(list)) {
    no_results(d);
    return;
  }
  const cJSON *e;
  cJSON_ArrayForEach(e, list) {
    const char *ref = cashback__json_str(e, "orderReference");
    const char *status = cashback__json_str(e, "status");
    if (!ref || !status)
      continue;
    char reason[CASHBACK_ID_MAX + 1];
    if (strcmp(status, "accepted") == 0)
      cashback__profile_by_order(req, ref, b->results,
                                 CASHBACK__OUTCOME_ACCEPTED, "", "");
    else if (strcmp(status, "duplicate") == 0)
      cashback__profile_by_order(req, ref, b->results,
                                 CASHBACK__OUTCOME_DUPLICATE, "", "");
    else if (strcmp(status, "rejected") == 0) {
      const char *code = cashback__json_str(e, "reason");
      reason_of(code ? code : cashback__json_str(e, "error"), "awin_rejected",
                reason, sizeof(reason));
      cashback__profile_by_order(req, ref, b->results,
                                 CASHBACK__OUTCOME_REJECTED, reason,
                                 cashback__json_str(e, "message"));
    } /* another status: the order stays pending, sent again */
  }
  settled(b, d);
}

static void awin_classify(const cashback_options *o,
                          const cashback__prequest *req,
                          const cashback__answer *a, cashback__sent *b,
                          cashback__decision *d, char *submission) {
  (void)o;
  /* The generic table for what Awin answers as any API does (no answer,
   * 401/403, 413, 429, 5xx); its 200 and 400 are read here. */
  cashback__profile_reset(b, submission);
  if (a->transport != CASHBACK_OK || (a->status != 200 && a->status != 400)) {
    cashback__decide(a, b, d);
    return;
  }
  memset(d, 0, sizeof(*d));
  d->retry_after_ms = -1;
  cJSON *root = body_json(a);
  if (a->status == 200) {
    if (!cJSON_IsObject(root)) {
      no_results(d);
    } else if (req->api == API_CONVERSION) {
      conversion_200(req, root, b, d);
    } else {
      /* The batch is queued as a job: every entry is taken. */
      const char *job = cashback__json_str(root, "jobId");
      const char *status = cashback__json_str(root, "status");
      if (!job && !status) {
        no_results(d);
      } else {
        for (size_t i = 0; i < b->n; i++)
          cashback__profile_settle(&b->results[i], CASHBACK__OUTCOME_ACCEPTED,
                                   "", "");
        char text[CASHBACK__SUBMISSION_MAX + 1];
        snprintf(text, sizeof(text), "awin job %s (%s)", job ? job : "?",
                 status ? status : "?");
        cashback__printable(submission, CASHBACK__SUBMISSION_MAX + 1, text,
                            strlen(text));
        settled(b, d);
      }
    }
  } else if (a->status == 400) {
    /* The whole call was refused: one order is the bad one; of several,
     * each goes alone next (batch_limit 1) to find it. */
    if (b->n == 1) {
      char reason[CASHBACK_ID_MAX + 1];
      const char *err =
          cJSON_IsObject(root) ? cashback__json_str(root, "error") : NULL;
      reason_of(err, "awin_bad_request", reason, sizeof(reason));
      cashback__profile_settle(
          &b->results[0], CASHBACK__OUTCOME_REJECTED, reason,
          cJSON_IsObject(root) ? cashback__json_str(root, "description")
                               : NULL);
      settled(b, d);
    } else {
      d->next = CASHBACK__NEXT_SPLIT;
      d->cause = CASHBACK__CAUSE_STATUS;
      d->batch_limit = 1;
    }
  }
  cJSON_Delete(root);
}

const cashback__profile cashback__profile_awin = {"awin", awin_build,
                                                  awin_classify, 20, 60000};
