/*
 * --network impact: the sandbox answers as Impact's APIs, in the shapes of
 * /work/notes/networks-spec.md (docs/sandbox.md, "Network modes"):
 *   POST   /Advertisers/{sid}/Conversions          one conversion, a form
 *   GET    /Advertisers/{sid}/APISubmissions/{id}  the queued submission
 *   PUT    /Advertisers/{sid}/Actions              a new amount, a form
 *   DELETE /Advertisers/{sid}/Actions?...          a reversal
 * Basic credentials (account SID : auth token) on every call. Conversions
 * are stored by OrderId (the dedupe). Fuzzed by
 * tests/fuzz/fuzz_sandbox_decode.c.
 */
#include "sandbox_net.h"

#include <cashback.h>
#include <cjson/cJSON.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define PREFIX "/Advertisers/"
#define ERRORS_MAX 10

/* {"Status":"ERROR","Message":text[,"Errors":errors]}; `errors` (an array,
 * or NULL) is handed over. */
static void impact_error(sb_net_answer *a, unsigned status, cJSON *errors,
                         const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void impact_error(sb_net_answer *a, unsigned status, cJSON *errors,
                         const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  sb_net_error(a, status, "Status", "ERROR", "Message", errors, fmt, ap);
  va_end(ap);
}

static void impact_ok(sb_net_answer *a, cJSON *o) {
  if (o && !cJSON_AddStringToObject(o, "Status", "OK")) {
    cJSON_Delete(o);
    o = NULL;
  }
  sb_net_answer_json(a, 200, o);
}

/* The field errors of one request: {"Field":..,"Message":..}, the first
 * also kept as the answer's Message. */
typedef struct field_errors {
  cJSON *list;
  char first[SB_NET_MESSAGE_MAX + 1];
  int n;
} field_errors;

static void field_error(field_errors *fe, const char *field, const char *fmt,
                        ...) __attribute__((format(printf, 3, 4)));

static void field_error(field_errors *fe, const char *field, const char *fmt,
                        ...) {
  char text[SB_NET_MESSAGE_MAX + 1];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(text, sizeof(text), fmt, ap);
  va_end(ap);
  if (fe->n++ == 0)
    snprintf(fe->first, sizeof(fe->first), "%s", text);
  if (fe->n > ERRORS_MAX)
    return;
  if (!fe->list)
    fe->list = cJSON_CreateArray();
  cJSON *e = fe->list ? cJSON_CreateObject() : NULL;
  if (e && !cJSON_AddItemToArray(fe->list, e)) {
    cJSON_Delete(e);
    e = NULL;
  }
  if (e) {
    cJSON_AddStringToObject(e, "Field", field);
    cJSON_AddStringToObject(e, "Message", text);
  }
}

/* Answers the request's field errors (400) when there are any: 1, or 0. */
static int errors_answered(field_errors *fe, sb_net *n, const char *ref,
                           const char *what, sb_net_answer *a) {
  if (!fe->n)
    return 0;
  sb_net_lock(n);
  sb_net_reject_locked(n, ref, fe->first);
  sb_net_unlock(n);
  sb_net_log(n, "impact %s %.64s: 400: %s", what, ref ? ref : "-", fe->first);
  impact_error(a, 400, fe->list, "%s", fe->first);
  fe->list = NULL;
  return 1;
}

static int all_digits(const char *s) {
  if (!*s)
    return 0;
  for (; *s; s++)
    if (*s < '0' || *s > '9')
      return 0;
  return 1;
}

/* A required field: its value, or NULL with an error. */
static const char *required(const sb_form *f, const char *name, size_t max,
                            field_errors *fe) {
  const char *v = sb_form_get(f, name);
  if (!v || !*v) {
    field_error(fe, name, "%s is required", name);
    return NULL;
  }
  if (strlen(v) > max) {
    field_error(fe, name, "%s is longer than %zu characters", name, max);
    return NULL;
  }
  return v;
}

/* CampaignId: digits, and the configured campaign's when one is. */
static void check_campaign(const sb_net_config *cfg, const sb_form *f,
                           field_errors *fe) {
  const char *c = required(f, "CampaignId", 20, fe);
  if (!c)
    return;
  if (!all_digits(c))
    field_error(fe, "CampaignId", "CampaignId %s is not a number", c);
  else if (cfg->campaign[0] && strcmp(c, cfg->campaign) != 0)
    field_error(fe, "CampaignId", "CampaignId %s is not a campaign of %s", c,
                cfg->account);
}

/* A Reason: one of Impact's disposition codes, [A-Z_]+. */
static void check_reason(const sb_form *f, field_errors *fe) {
  const char *r = sb_form_get(f, "Reason");
  if (!r)
    return;
  size_t n = strlen(r);
  int ok = n > 0 && n <= 64;
  for (size_t i = 0; ok && i < n; i++)
    ok = (r[i] >= 'A' && r[i] <= 'Z') || r[i] == '_';
  if (!ok)
    field_error(fe, "Reason",
                "Reason %.64s is not a disposition code "
                "([A-Z_]+, e.g. ITEM_RETURNED)",
                r);
}

/* A decimal amount of `currency` (e.g. 49.90 EUR) into minor units, >= 0. */
static int form_amount(const char *field, const char *text,
                       const char *currency, int64_t *minor, field_errors *fe) {
  if (cashback_money_parse(text, strlen(text), currency, minor) !=
          CASHBACK_OK ||
      *minor < 0) {
    field_error(fe, field, "%s %.40s is not an amount of %s (e.g. 49.90)",
                field, text, currency);
    return -1;
  }
  return 0;
}

/* The items: ItemSubTotal1..N (each with its ItemSku), summed into the
 * conversion's amount; no Item field of an index past N. */
static void check_items(const sb_form *f, const char *cur, int64_t *amount,
                        field_errors *fe) {
  int count = 0;
  *amount = 0;
  for (;;) {
    char name[32];
    snprintf(name, sizeof(name), "ItemSubTotal%d", count + 1);
    const char *st = sb_form_get(f, name);
    if (!st)
      break;
    count++;
    int64_t minor = 0;
    if (cur && form_amount(name, st, cur, &minor, fe) == 0)
      *amount += minor; /* at most 1000 items of 10^15 */
    snprintf(name, sizeof(name), "ItemSku%d", count);
    required(f, name, 256, fe);
    snprintf(name, sizeof(name), "ItemQuantity%d", count);
    const char *q = sb_form_get(f, name);
    if (q && (!all_digits(q) || strlen(q) > 9 || atol(q) < 1))
      field_error(fe, name, "%s %.20s is not a whole number >= 1", name, q);
    snprintf(name, sizeof(name), "ItemPrice%d", count);
    const char *p = sb_form_get(f, name);
    if (p && cur)
      form_amount(name, p, cur, &minor, fe);
  }
  if (count == 0)
    field_error(fe, "ItemSubTotal1",
                "no item: ItemSubTotal1 and ItemSku1 are required (the "
                "conversion's amount is the sum of the ItemSubTotals)");
  for (size_t i = 0; i < f->n; i++) {
    const char *nm = f->fields[i].name;
    if (strncmp(nm, "Item", 4) != 0)
      continue;
    size_t l = strlen(nm), d = l;
    while (d > 4 && nm[d - 1] >= '0' && nm[d - 1] <= '9')
      d--;
    long idx = d < l && l - d <= 4 ? atol(nm + d) : -1;
    if (idx < 1 || idx > count)
      field_error(fe, nm, "%.64s has no ItemSubTotal of its index", nm);
  }
}

static int is_form(const sb_net_request *rq) {
  const char *t = rq->content_type;
  size_t k = strlen("application/x-www-form-urlencoded");
  return t && strncasecmp(t, "application/x-www-form-urlencoded", k) == 0 &&
         (t[k] == '\0' || t[k] == ';' || t[k] == ' ');
}

/* Decodes the form body (or the query) `text`: 0, or -1 with the answer. */
static int decode(sb_net *n, const char *text, size_t len, const char *what,
                  sb_form *f, sb_net_answer *a) {
  char err[SB_NET_MESSAGE_MAX + 1];
  if (sb_form_decode(text, len, f, err, sizeof(err)) == 0)
    return 0;
  sb_net_log(n, "impact %s: 400: %s", what, err);
  impact_error(a, 400, NULL, "the %s is not a form: %s",
               strcmp(what, "reversal") == 0 ? "query" : "body", err);
  return -1;
}

/* POST /Advertisers/{sid}/Conversions */
static void conversions(sb_net *n, const sb_net_request *rq, const char *sid,
                        sb_net_answer *a) {
  const sb_net_config *cfg = sb_net_config_of(n);
  int wait = sb_net_rate_take(n, rq->now_ms);
  if (wait) {
    a->retry_after = wait;
    sb_net_log(n, "impact conversion: 429, retry after %d s", wait);
    impact_error(a, 429, NULL, "Too many requests: at most %d in %d s",
                 cfg->rate_calls, cfg->rate_seconds);
    return;
  }
  if (!is_form(rq)) {
    impact_error(a, 400, NULL,
                 "Content-Type must be application/x-www-form-urlencoded");
    return;
  }
  sb_form f;
  if (decode(n, rq->body, rq->len, "conversion", &f, a) != 0)
    return;
  field_errors fe = {0};
  check_campaign(cfg, &f, &fe);
  const char *tracker = required(&f, "ActionTrackerId", 20, &fe);
  if (tracker && !all_digits(tracker))
    field_error(&fe, "ActionTrackerId", "ActionTrackerId %s is not a number",
                tracker);
  const char *date = required(&f, "EventDate", 39, &fe);
  int64_t instant = 0;
  int off;
  if (date &&
      cashback_time_parse(date, strlen(date), &instant, &off) != CASHBACK_OK)
    field_error(&fe, "EventDate",
                "EventDate %s is not an RFC 3339 time with a UTC offset", date);
  else if (date && instant > rq->now + SB_NET_FUTURE_MAX)
    field_error(&fe, "EventDate", "EventDate %s is in the future", date);
  const char *ref = required(&f, "OrderId", SB_NET_REF_MAX, &fe);
  const char *cur = required(&f, "CurrencyCode", 3, &fe);
  if (cur && cashback_currency_exponent(cur) < 0) {
    field_error(&fe, "CurrencyCode",
                "CurrencyCode %s is not an ISO 4217 currency code", cur);
    cur = NULL;
  }
  const char *cs = sb_form_get(&f, "CustomerStatus");
  if (cs && strcmp(cs, "New") != 0 && strcmp(cs, "Returning") != 0)
    field_error(&fe, "CustomerStatus",
                "CustomerStatus %.20s is not New or Returning", cs);
  int64_t amount = 0;
  check_items(&f, cur, &amount, &fe);
  if (errors_answered(&fe, n, ref, "conversion", a)) {
    sb_form_free(&f);
    return;
  }
  sb_net_lock(n);
  sb_net_order *o = sb_net_find_locked(n, ref);
  char id[24] = "";
  int dup = o != NULL;
  if (dup) {
    o->received++;
    o->duplicates++;
  } else if ((o = sb_net_add_locked(n, ref)) != NULL) {
    const char *click = sb_form_get(&f, "ClickId");
    snprintf(o->currency, sizeof(o->currency), "%s", cur);
    o->sale = o->amount = amount;
    o->instant = instant;
    o->has_instant = 1;
    snprintf(o->date, sizeof(o->date), "%s", date);
    if (click)
      snprintf(o->click, sizeof(o->click), "%s", click);
    o->received = 1;
    sb_net_next_id_locked(n, id, sizeof(id));
    snprintf(o->submission, sizeof(o->submission), "%s", id);
    o->raw = malloc(rq->len + 1);
    if (o->raw) {
      memcpy(o->raw, rq->body, rq->len);
      o->raw[rq->len] = '\0';
    }
  }
  sb_net_unlock(n);
  char money[48];
  sb_net_money_text(amount, cur, money, sizeof(money));
  if (dup) {
    sb_net_log(n, "impact conversion %s amount=%s %s duplicate", ref, money,
               cur);
    impact_error(a, 400, NULL,
                 "Duplicate OrderId %s: a conversion with this OrderId was "
                 "submitted already",
                 ref);
  } else if (!o) {
    impact_error(a, 500, NULL, "the sandbox's store is full");
  } else {
    char uri[SB_NET_ACCOUNT_MAX + 64];
    snprintf(uri, sizeof(uri), PREFIX "%s/APISubmissions/%s", sid, id);
    sb_net_log(n, "impact conversion %s amount=%s %s queued %s", ref, money,
               cur, id);
    cJSON *j = cJSON_CreateObject();
    if (j && (!cJSON_AddStringToObject(j, "Status", "QUEUED") ||
              !cJSON_AddStringToObject(j, "QueuedUri", uri))) {
      cJSON_Delete(j);
      j = NULL;
    }
    sb_net_answer_json(a, 200, j);
  }
  sb_form_free(&f);
}

/* GET /Advertisers/{sid}/APISubmissions/{id}: every submission the sandbox
 * took is COMPLETED at once. */
static void submission(sb_net *n, const char *sid, const char *id,
                       sb_net_answer *a) {
  sb_net_lock(n);
  sb_net_order *o = sb_net_find_submission_locked(n, id);
  char ref[SB_NET_REF_MAX + 1] = "";
  if (o)
    snprintf(ref, sizeof(ref), "%s", o->ref);
  sb_net_unlock(n);
  if (!o) {
    impact_error(a, 404, NULL, "No submission %.24s", id);
    return;
  }
  char uri[SB_NET_ACCOUNT_MAX + 64];
  snprintf(uri, sizeof(uri), PREFIX "%s/APISubmissions/%s", sid, id);
  cJSON *j = cJSON_CreateObject();
  if (j && (!cJSON_AddStringToObject(j, "Status", "COMPLETED") ||
            !cJSON_AddStringToObject(j, "QueuedUri", uri) ||
            !cJSON_AddStringToObject(j, "OrderId", ref))) {
    cJSON_Delete(j);
    j = NULL;
  }
  sb_net_answer_json(a, 200, j);
}

/* PUT (a new amount, the form body) and DELETE (a reversal, the query) of
 * /Advertisers/{sid}/Actions. */
static void actions(sb_net *n, const sb_net_request *rq, int reverse,
                    sb_net_answer *a) {
  const char *what = reverse ? "reversal" : "modification";
  if (!reverse && !is_form(rq)) {
    impact_error(a, 400, NULL,
                 "Content-Type must be application/x-www-form-urlencoded");
    return;
  }
  sb_form f;
  if (reverse ? decode(n, rq->query, strlen(rq->query), what, &f, a)
              : decode(n, rq->body, rq->len, what, &f, a))
    return;
  field_errors fe = {0};
  check_campaign(sb_net_config_of(n), &f, &fe);
  const char *ref = required(&f, "OrderId", SB_NET_REF_MAX, &fe);
  const char *amount = reverse ? NULL : required(&f, "Amount", 40, &fe);
  check_reason(&f, &fe);
  if (errors_answered(&fe, n, ref, what, a)) {
    sb_form_free(&f);
    return;
  }
  const char *reason = sb_form_get(&f, "Reason");
  sb_net_lock(n);
  sb_net_order *o = sb_net_find_locked(n, ref);
  int64_t minor = 0;
  int was_reversed = o && strcmp(o->status, "reversed") == 0;
  if (o && !reverse && form_amount("Amount", amount, o->currency, &minor, &fe))
    o = NULL; /* answered below with the field error */
  if (o && !reverse && was_reversed)
    field_error(&fe, "OrderId", "the action of OrderId %s is reversed", ref);
  char money[48] = "";
  if (o && !fe.n) {
    o->changes++;
    o->amount = reverse ? 0 : minor;
    if (reverse)
      o->status = "reversed";
    if (reason)
      snprintf(o->reason, sizeof(o->reason), "%s", reason);
    sb_net_money_text(o->amount, o->currency, money, sizeof(money));
  }
  int found = o != NULL || fe.n;
  sb_net_unlock(n);
  if (errors_answered(&fe, n, ref, what, a)) {
    sb_form_free(&f);
    return;
  }
  if (!found) {
    sb_net_lock(n);
    sb_net_reject_locked(n, ref, "No action found");
    sb_net_unlock(n);
    sb_net_log(n, "impact %s %s: 404: no such order", what, ref);
    impact_error(a, 404, NULL, "No action found for OrderId %s", ref);
  } else {
    sb_net_log(n, "impact %s %s amount=%s%s%s", what, ref, money,
               reason ? " reason=" : "", reason ? reason : "");
    cJSON *j = cJSON_CreateObject();
    if (j && (!cJSON_AddStringToObject(j, "OrderId", ref) ||
              !cJSON_AddStringToObject(j, "Amount", money))) {
      cJSON_Delete(j);
      j = NULL;
    }
    impact_ok(a, j);
  }
  sb_form_free(&f);
}

/* The Basic credentials against the account's, then the account of the
 * path: 0, or -1 with the answer made. */
static int check_auth(sb_net *n, const sb_net_request *rq, const char *sid,
                      sb_net_answer *a) {
  const sb_net_config *cfg = sb_net_config_of(n);
  char user[SB_NET_SECRET_MAX + 1], pass[SB_NET_SECRET_MAX + 1];
  char err[SB_NET_MESSAGE_MAX + 1];
  int rc = -1;
  if (sb_basic_decode(rq->authorization, user, pass, SB_NET_SECRET_MAX, err,
                      sizeof(err)) != 0)
    impact_error(a, 401, NULL, "Unauthorized: %s", err);
  else if (strcmp(user, cfg->account) != 0 ||
           !sb_secret_equal(pass, cfg->api_token))
    impact_error(a, 401, NULL,
                 "Unauthorized: the account SID and auth token do not match");
  else if (strcmp(sid, cfg->account) != 0)
    impact_error(a, 403, NULL,
                 "Forbidden: these credentials are not account %.64s's", sid);
  else
    rc = 0;
  memset(pass, 0, sizeof(pass));
  return rc;
}

void sb_impact_handle(sb_net *n, const sb_net_request *rq, sb_net_answer *out) {
  memset(out, 0, sizeof(out[0]));
  const char *p = rq->path;
  char sid[SB_NET_ACCOUNT_MAX + 1];
  const char *rest = NULL;
  size_t pl = strlen(PREFIX);
  if (strncmp(p, PREFIX, pl) == 0) {
    const char *slash = strchr(p + pl, '/');
    size_t l = slash ? (size_t)(slash - p - pl) : 0;
    if (slash && l > 0 && l < sizeof(sid)) {
      memcpy(sid, p + pl, l);
      sid[l] = '\0';
      rest = slash;
    }
  }
  const char *m = rq->method;
  const char *sub = "/APISubmissions/";
  int conv = rest && strcmp(rest, "/Conversions") == 0;
  int act = rest && strcmp(rest, "/Actions") == 0;
  int queued = rest && strncmp(rest, sub, strlen(sub)) == 0 &&
               rest[strlen(sub)] && !strchr(rest + strlen(sub), '/');
  if (!conv && !act && !queued) {
    impact_error(out, 404, NULL,
                 "No such endpoint: /Advertisers/{sid}/Conversions, "
                 "/Actions or /APISubmissions/{id}");
    return;
  }
  int allowed = conv     ? strcmp(m, "POST") == 0
                : queued ? strcmp(m, "GET") == 0
                         : strcmp(m, "PUT") == 0 || strcmp(m, "DELETE") == 0;
  if (!allowed) {
    impact_error(out, 405, NULL, "Method %.16s is not allowed here", m);
    return;
  }
  if (check_auth(n, rq, sid, out) != 0)
    return;
  if (conv)
    conversions(n, rq, sid, out);
  else if (queued)
    submission(n, sid, rest + strlen(sub), out);
  else
    actions(n, rq, strcmp(m, "DELETE") == 0, out);
}
