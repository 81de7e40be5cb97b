/*
 * --network awin: the sandbox answers as Awin's APIs, in the shapes of
 * /work/notes/networks-spec.md (docs/sandbox.md, "Network modes"):
 *   POST /s2s/advertiser/{id}/orders                 Conversion API
 *   POST /advertisers/{id}/transactions/batch        transaction batch API
 * Sales are stored by orderReference (the dedupe); amend, decline and
 * approve change the stored orders. Fuzzed by tests/fuzz/fuzz_sandbox_awin.c.
 */
#include "sandbox_net.h"

#include <cashback.h>
#include <cjson/cJSON.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define ORDERS_PREFIX "/s2s/advertiser/"
#define ORDERS_SUFFIX "/orders"
#define BATCH_PREFIX "/advertisers/"
#define BATCH_SUFFIX "/transactions/batch"

/* {"error":code,"description":text} */
static void awin_error(sb_net_answer *a, unsigned status, const char *code,
                       const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void awin_error(sb_net_answer *a, unsigned status, const char *code,
                       const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  sb_net_error(a, status, "error", code, "description", NULL, fmt, ap);
  va_end(ap);
}

/* The {id} of PREFIX{id}SUFFIX in `path` into `id`: 1, or 0 when `path`
 * is not of that shape. */
static int path_id(const char *path, const char *prefix, const char *suffix,
                   char *id, size_t size) {
  size_t pl = strlen(prefix), sl = strlen(suffix), n = strlen(path);
  if (n <= pl + sl || strncmp(path, prefix, pl) != 0 ||
      strcmp(path + n - sl, suffix) != 0)
    return 0;
  size_t il = n - pl - sl;
  if (il >= size || memchr(path + pl, '/', il))
    return 0;
  memcpy(id, path + pl, il);
  id[il] = '\0';
  return 1;
}

static int is_json(const sb_net_request *rq) {
  const char *t = rq->content_type;
  return t && strncasecmp(t, "application/json", 16) == 0 &&
         (t[16] == '\0' || t[16] == ';' || t[16] == ' ');
}

/* The body as JSON, or NULL with the 400 made: the Content-Type is not
 * application/json, or the body is not JSON. */
static cJSON *json_body(const sb_net_request *rq, sb_net_answer *a) {
  if (!is_json(rq)) {
    awin_error(a, 400, "invalid_content_type",
               "Content-Type must be application/json");
    return NULL;
  }
  cJSON *root = cJSON_ParseWithLength(rq->body, rq->len);
  if (!root)
    awin_error(a, 400, "invalid_json", "the body is not JSON");
  return root;
}

/* A JSON number of money in `currency` into minor units: 0, or -1 with
 * the reason in `msg`. The value must have no more decimals than the
 * currency has (49.90 EUR, 500 JPY); it is read through the nearest
 * double, exact for every amount up to 10^13 major units. */
static int json_amount(const cJSON *v, const char *name, const char *currency,
                       int64_t *minor, char *msg, size_t size) {
  if (!v) {
    snprintf(msg, size, "%s is missing", name);
    return -1;
  }
  if (!cJSON_IsNumber(v)) {
    snprintf(msg, size, "%s is not a number", name);
    return -1;
  }
  double d = v->valuedouble;
  if (d < 0) {
    snprintf(msg, size, "%s is negative", name);
    return -1;
  }
  if (!(d <= 1e13)) { /* NaN too */
    snprintf(msg, size, "%s is out of range", name);
    return -1;
  }
  int exp = cashback_currency_exponent(currency);
  char text[64];
  snprintf(text, sizeof(text), "%.*f", exp < 0 ? 0 : exp, d);
  if (exp < 0 || strtod(text, NULL) != d ||
      cashback_money_parse(text, strlen(text), currency, minor) !=
          CASHBACK_OK) {
    snprintf(msg, size, "%s %.6g has more decimals than %s has (%d)", name, d,
             currency, exp);
    return -1;
  }
  return 0;
}

/* A string member `name` of `o`: NULL with the reason in `msg` when it is
 * missing (and `required`), not a string, empty or longer than `max`. */
static const char *json_text(const cJSON *o, const char *name, int required,
                             size_t max, char *msg, size_t size, int *bad) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
  if (!v) {
    if (required) {
      snprintf(msg, size, "%s is missing", name);
      *bad = 1;
    }
    return NULL;
  }
  if (!cJSON_IsString(v) || !v->valuestring) {
    snprintf(msg, size, "%s is not a string", name);
    *bad = 1;
    return NULL;
  }
  size_t n = strlen(v->valuestring);
  if (n == 0 || n > max) {
    snprintf(msg, size,
             n ? "%s is longer than %zu characters (%zu)" : "%s is empty", name,
             max, n);
    *bad = 1;
    return NULL;
  }
  for (size_t i = 0; i < n; i++)
    if ((unsigned char)v->valuestring[i] < 0x20) {
      snprintf(msg, size, "%s holds a control character", name);
      *bad = 1;
      return NULL;
    }
  return v->valuestring;
}

/* A currency member: a known ISO 4217 code, or NULL with `msg`. */
static const char *json_currency(const cJSON *o, const char *name, char *msg,
                                 size_t size, int *bad) {
  const char *c = json_text(o, name, 1, 3, msg, size, bad);
  if (c && cashback_currency_exponent(c) < 0) {
    snprintf(msg, size, "%s %s is not an ISO 4217 currency code", name, c);
    *bad = 1;
    return NULL;
  }
  return c;
}

/* One commission group: {"code":..,"amount":..}. */
static int check_group(const cJSON *e, const char *currency, char *msg,
                       size_t size) {
  int bad = 0;
  int64_t minor;
  if (!json_text(e, "code", 1, 64, msg, size, &bad))
    return -1;
  return json_amount(cJSON_GetObjectItemCaseSensitive(e, "amount"), "amount",
                     currency, &minor, msg, size);
}

/* One basket line: an id, a price, a whole quantity >= 1. */
static int check_line(const cJSON *e, const char *currency, char *msg,
                      size_t size) {
  int bad = 0;
  int64_t minor;
  const cJSON *q = cJSON_GetObjectItemCaseSensitive(e, "quantity");
  if (!json_text(e, "id", 1, 256, msg, size, &bad) ||
      json_amount(cJSON_GetObjectItemCaseSensitive(e, "price"), "price",
                  currency, &minor, msg, size) != 0)
    return -1;
  if (!(cJSON_IsNumber(q) && q->valuedouble >= 1 && q->valuedouble <= 1e9 &&
        q->valuedouble == (double)(long)q->valuedouble)) {
    snprintf(msg, size, "quantity is not a whole number >= 1");
    return -1;
  }
  return 0;
}

/* The optional array `name` of `o` (commissionGroups, basket): each entry
 * an object that `one` accepts; else -1 with "name[i].<what one said>". */
static int check_array(const cJSON *o, const char *name, const char *currency,
                       int (*one)(const cJSON *e, const char *currency,
                                  char *msg, size_t size),
                       char *msg, size_t size) {
  const cJSON *list = cJSON_GetObjectItemCaseSensitive(o, name);
  if (!list)
    return 0;
  if (!cJSON_IsArray(list)) {
    snprintf(msg, size, "%s is not an array", name);
    return -1;
  }
  int i = 0;
  const cJSON *e;
  cJSON_ArrayForEach(e, list) {
    char inner[SB_NET_MESSAGE_MAX + 1];
    if (!cJSON_IsObject(e)) {
      snprintf(msg, size, "%s[%d] is not an object", name, i);
      return -1;
    }
    if (one(e, currency, inner, sizeof(inner)) != 0) {
      snprintf(msg, size, "%s[%d].%.200s", name, i, inner);
      return -1;
    }
    i++;
  }
  return 0;
}

/* An order of the Conversion API, checked: 0, or -1 with the rejection's
 * message. Its amount into `*minor`, its time into `*instant`. */
static int check_order(const cJSON *o, int64_t now, int64_t *minor,
                       int64_t *instant, int *has_instant, char *msg,
                       size_t size) {
  int bad = 0;
  *has_instant = 0;
  if (!json_text(o, "orderReference", 1, SB_AWIN_REF_MAX, msg, size, &bad))
    return -1;
  const char *cur = json_currency(o, "currency", msg, size, &bad);
  if (!cur || json_amount(cJSON_GetObjectItemCaseSensitive(o, "amount"),
                          "amount", cur, minor, msg, size) != 0)
    return -1;
  const char *names[] = {"channel", "voucher", "awc"};
  for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
    json_text(o, names[i], 0, 256, msg, size, &bad);
    if (bad)
      return -1;
  }
  const char *ca = json_text(o, "customerAcquisition", 0, 16, msg, size, &bad);
  if (bad || (ca && strcmp(ca, "NEW") != 0 && strcmp(ca, "RETURNING") != 0)) {
    if (!bad)
      snprintf(msg, size, "customerAcquisition %s is not NEW or RETURNING", ca);
    return -1;
  }
  const cJSON *t = cJSON_GetObjectItemCaseSensitive(o, "isTest");
  if (t && !cJSON_IsBool(t)) {
    snprintf(msg, size, "isTest is not true or false");
    return -1;
  }
  const char *date = json_text(o, "transactionDate", 0, 39, msg, size, &bad);
  int off;
  if (bad)
    return -1;
  if (date) {
    if (cashback_time_parse(date, strlen(date), instant, &off) != CASHBACK_OK) {
      snprintf(msg, size,
               "transactionDate %s is not an RFC 3339 time with a UTC offset",
               date);
      return -1;
    }
    if (*instant > now + SB_NET_FUTURE_MAX) {
      snprintf(msg, size, "transactionDate %s is in the future", date);
      return -1;
    }
    *has_instant = 1;
  }
  if (check_array(o, "commissionGroups", cur, check_group, msg, size) != 0)
    return -1;
  return check_array(o, "basket", cur, check_line, msg, size);
}

/* One order of a Conversion API call: decided, stored, answered into
 * `results`. The store is locked. */
static void one_order(sb_net *n, int64_t now, const cJSON *o, cJSON *results,
                      int counts[3], int test_call) {
  char msg[SB_NET_MESSAGE_MAX + 1] = "";
  int64_t minor = 0, instant = 0;
  int has_instant = 0;
  const cJSON *ref = cJSON_GetObjectItemCaseSensitive(o, "orderReference");
  const char *r =
      cJSON_IsString(ref) && ref->valuestring ? ref->valuestring : "";
  const char *status = "accepted";
  sb_net_order *found = NULL;
  if (check_order(o, now, &minor, &instant, &has_instant, msg, sizeof(msg)) !=
      0) {
    status = "rejected";
  } else if ((found = sb_net_find_locked(n, r)) != NULL) {
    status = "duplicate";
    found->received++;
    found->duplicates++;
  } else if (!(found = sb_net_add_locked(n, r))) {
    status = "rejected";
    snprintf(msg, sizeof(msg), "the sandbox's store is full");
  } else {
    const char *cur =
        cJSON_GetObjectItemCaseSensitive(o, "currency")->valuestring;
    const cJSON *awc = cJSON_GetObjectItemCaseSensitive(o, "awc");
    const cJSON *date = cJSON_GetObjectItemCaseSensitive(o, "transactionDate");
    snprintf(found->currency, sizeof(found->currency), "%s", cur);
    found->sale = found->amount = minor;
    found->test = test_call;
    found->instant = instant;
    found->has_instant = has_instant;
    if (date)
      snprintf(found->date, sizeof(found->date), "%s", date->valuestring);
    if (awc)
      snprintf(found->click, sizeof(found->click), "%s", awc->valuestring);
    found->received = 1;
    found->raw = cJSON_PrintUnformatted(o);
  }
  counts[status[0] == 'a' ? 0 : status[0] == 'd' ? 1 : 2]++;
  if (status[0] == 'r')
    sb_net_reject_locked(n, r, msg);
  char amount[48] = "-";
  if (found)
    sb_net_money_text(found->sale, found->currency, amount, sizeof(amount));
  if (msg[0])
    sb_net_log(n, "awin order %.64s %s: %s", r[0] ? r : "-", status, msg);
  else
    sb_net_log(n, "awin order %.64s amount=%s %s%s %s", r, amount,
               found->currency, test_call ? " test" : "", status);
  cJSON *e = cJSON_CreateObject();
  if (!e)
    return;
  if (!cJSON_AddItemToArray(results, e)) {
    cJSON_Delete(e);
    return;
  }
  cJSON_AddStringToObject(e, "orderReference", r);
  cJSON_AddStringToObject(e, "status", status);
  if (msg[0])
    cJSON_AddStringToObject(e, "message", msg);
}

/* x-api-key against the advertiser's key, then the advertiser of the path:
 * 0, or -1 with the answer made. */
static int check_api_key(sb_net *n, const sb_net_request *rq, const char *id,
                         sb_net_answer *a) {
  const sb_net_config *cfg = sb_net_config_of(n);
  if (!rq->api_key) {
    awin_error(a, 401, "unauthorized", "no x-api-key header");
    return -1;
  }
  if (!sb_secret_equal(rq->api_key, cfg->api_key)) {
    awin_error(a, 401, "unauthorized", "the x-api-key is not valid");
    return -1;
  }
  if (strcmp(id, cfg->account) != 0) {
    awin_error(a, 403, "forbidden",
               "the x-api-key is not a key of advertiser %.64s", id);
    return -1;
  }
  return 0;
}

/* POST /s2s/advertiser/{id}/orders */
static void conversion_api(sb_net *n, const sb_net_request *rq, const char *id,
                           sb_net_answer *a) {
  if (check_api_key(n, rq, id, a) != 0)
    return;
  const sb_net_config *cfg = sb_net_config_of(n);
  int wait = sb_net_rate_take(n, rq->now_ms);
  if (wait) {
    a->retry_after = wait;
    awin_error(a, 429, "too_many_requests",
               "more than %d calls in %d s; retry after %d s", cfg->rate_calls,
               cfg->rate_seconds, wait);
    sb_net_log(n, "awin orders: 429, retry after %d s", wait);
    return;
  }
  cJSON *root = json_body(rq, a);
  if (!root)
    return;
  const cJSON *orders = cJSON_GetObjectItemCaseSensitive(root, "orders");
  int count = cJSON_GetArraySize(orders);
  if (!cJSON_IsObject(root) || !cJSON_IsArray(orders)) {
    awin_error(a, 400, "invalid_body",
               "the body must be an object with an array \"orders\"");
  } else if (count == 0) {
    awin_error(a, 400, "invalid_body", "\"orders\" is empty");
  } else if (count > SB_AWIN_ORDERS_MAX) {
    awin_error(a, 413, "too_many_orders", "%d orders in one call; at most %d",
               count, SB_AWIN_ORDERS_MAX);
  } else {
    const cJSON *o;
    int i = 0;
    cJSON_ArrayForEach(o, orders) {
      if (!cJSON_IsObject(o))
        break;
      i++;
    }
    if (i < count) {
      awin_error(a, 400, "invalid_body", "orders[%d] is not an object", i);
    } else {
      cJSON *answer = cJSON_CreateObject();
      cJSON *results = answer ? cJSON_AddArrayToObject(answer, "orders") : NULL;
      int counts[3] = {0, 0, 0};
      sb_net_lock(n);
      cJSON_ArrayForEach(o, orders) {
        const cJSON *t = cJSON_GetObjectItemCaseSensitive(o, "isTest");
        if (results)
          one_order(n, rq->now, o, results, counts, cJSON_IsTrue(t));
      }
      sb_net_unlock(n);
      sb_net_log(n, "awin orders: %d accepted, %d duplicate, %d rejected",
                 counts[0], counts[1], counts[2]);
      sb_net_answer_json(a, 200, results ? answer : NULL);
      if (!results)
        cJSON_Delete(answer);
    }
  }
  cJSON_Delete(root);
}

/* ------------------------------------------------- transaction batch */

typedef enum action { A_AMEND, A_DECLINE, A_APPROVE } action;

/* One entry of a transaction batch, checked. */
typedef struct entry {
  action act;
  const char *ref;
  const char *date; /* local time, as sent */
  int64_t instant;
  int64_t amount; /* amend */
  const char *currency;
  const char *reason;
} entry;

/* "YYYY-MM-DDTHH:MM:SS", a local time without an offset, in `zone` (the
 * sandbox converts UTC only): its instant, or -1 with `msg`. */
static int local_time(const char *date, const char *zone, int64_t *instant,
                      char *msg, size_t size) {
  char z[24];
  int off;
  if (strcmp(zone, "UTC") != 0 && strcmp(zone, "Etc/UTC") != 0 &&
      strcmp(zone, "GMT") != 0) {
    snprintf(msg, size,
             "timezone %.40s: the sandbox converts UTC only (networks-spec.md)",
             zone);
    return -1;
  }
  if (strlen(date) != 19 || date[10] != 'T' ||
      snprintf(z, sizeof(z), "%sZ", date) != 20 ||
      cashback_time_parse(z, 20, instant, &off) != CASHBACK_OK) {
    snprintf(msg, size,
             "transactionDate %.40s is not a local time YYYY-MM-DDTHH:MM:SS",
             date);
    return -1;
  }
  return 0;
}

/* The entry `j`, checked into `e`: 0, or -1 with `msg`. */
static int check_entry(const cJSON *j, entry *e, char *msg, size_t size) {
  static const char *const acts[] = {"amend", "decline", "approve"};
  static const char *const objs[] = {"amendTransaction", "declineTransaction",
                                     "approveTransaction"};
  static const char *const reasons[] = {"amendReason", "declineReason", NULL};
  int bad = 0;
  memset(e, 0, sizeof(*e));
  if (!cJSON_IsObject(j)) {
    snprintf(msg, size, "not an object");
    return -1;
  }
  const char *act = json_text(j, "action", 1, 16, msg, size, &bad);
  if (!act)
    return -1;
  size_t k = 0;
  while (k < 3 && strcmp(act, acts[k]) != 0)
    k++;
  if (k == 3) {
    snprintf(msg, size, "action %s is not amend, decline or approve", act);
    return -1;
  }
  e->act = (action)k;
  const cJSON *t = cJSON_GetObjectItemCaseSensitive(j, objs[k]);
  if (!cJSON_IsObject(t)) {
    snprintf(msg, size, "%s is missing or not an object", objs[k]);
    return -1;
  }
  e->ref = json_text(t, "orderRef", 1, SB_AWIN_REF_MAX, msg, size, &bad);
  e->date =
      e->ref ? json_text(t, "transactionDate", 1, 19, msg, size, &bad) : NULL;
  const char *zone =
      e->date ? json_text(t, "timezone", 1, 40, msg, size, &bad) : NULL;
  if (!zone || local_time(e->date, zone, &e->instant, msg, size) != 0)
    return -1;
  if (reasons[k]) {
    e->reason =
        json_text(t, reasons[k], 0, SB_NET_MESSAGE_MAX, msg, size, &bad);
    if (bad)
      return -1;
  }
  if (e->act != A_AMEND)
    return 0;
  const cJSON *tx = cJSON_GetObjectItemCaseSensitive(t, "transaction");
  if (!cJSON_IsObject(tx)) {
    snprintf(msg, size, "transaction is missing or not an object");
    return -1;
  }
  e->currency = json_currency(tx, "currency", msg, size, &bad);
  if (!e->currency ||
      json_amount(cJSON_GetObjectItemCaseSensitive(tx, "amount"), "amount",
                  e->currency, &e->amount, msg, size) != 0)
    return -1;
  return check_array(tx, "commissionGroups", e->currency, check_group, msg,
                     size);
}

/* What an entry does to its order, checked against the order as it is:
 * 0, or -1 with `msg`. */
static int entry_applies(const entry *e, const sb_net_order *o, char *msg,
                         size_t size) {
  if (!o) {
    snprintf(msg, size, "no transaction of orderRef %s", e->ref);
    return -1;
  }
  if (o->has_instant && o->instant != e->instant) {
    snprintf(msg, size,
             "no transaction of orderRef %s at %s UTC (its transactionDate is "
             "%s)",
             e->ref, e->date, o->date);
    return -1;
  }
  if (e->act == A_AMEND && strcmp(e->currency, o->currency) != 0) {
    snprintf(msg, size, "currency %s is not the transaction's (%s)",
             e->currency, o->currency);
    return -1;
  }
  int approved = strcmp(o->status, "approved") == 0;
  int declined = strcmp(o->status, "declined") == 0;
  if ((e->act != A_APPROVE && approved) || (e->act != A_DECLINE && declined)) {
    snprintf(msg, size, "the transaction of orderRef %s is %s already", e->ref,
             o->status);
    return -1;
  }
  return 0;
}

static void apply_entry(const entry *e, sb_net_order *o) {
  static const char *const status[] = {"pending", "declined", "approved"};
  o->changes++;
  o->status = status[e->act];
  if (e->act == A_AMEND)
    o->amount = e->amount;
  else if (e->act == A_DECLINE)
    o->amount = 0;
  if (e->reason)
    snprintf(o->reason, sizeof(o->reason), "%s", e->reason);
}

/* What an order was before an entry changed it: the batch is applied
 * whole or not at all. */
typedef struct undo {
  sb_net_order *o;
  const char *status;
  int64_t amount;
  unsigned changes;
  char reason[SB_NET_MESSAGE_MAX + 1];
} undo;

/* Applies the checked entries (the store locked): 0, or -1 with the
 * failing entry's index in `*at` and `msg`, nothing changed. */
static int apply_batch(sb_net *n, const entry *es, int count, int *at,
                       char *msg, size_t size) {
  undo *u = calloc((size_t)count, sizeof(*u));
  if (!u) {
    snprintf(msg, size, "out of memory");
    *at = 0;
    return -1;
  }
  int i, rc = 0;
  for (i = 0; i < count; i++) {
    sb_net_order *o = sb_net_find_locked(n, es[i].ref);
    if (entry_applies(&es[i], o, msg, size) != 0) {
      rc = -1;
      break;
    }
    u[i].o = o;
    u[i].status = o->status;
    u[i].amount = o->amount;
    u[i].changes = o->changes;
    memcpy(u[i].reason, o->reason, sizeof(u[i].reason));
    apply_entry(&es[i], o);
  }
  if (rc != 0) {
    *at = i;
    while (i-- > 0) {
      u[i].o->status = u[i].status;
      u[i].o->amount = u[i].amount;
      u[i].o->changes = u[i].changes;
      memcpy(u[i].o->reason, u[i].reason, sizeof(u[i].reason));
    }
  }
  free(u);
  return rc;
}

/* POST /advertisers/{id}/transactions/batch */
static void transaction_api(sb_net *n, const sb_net_request *rq, const char *id,
                            sb_net_answer *a) {
  const sb_net_config *cfg = sb_net_config_of(n);
  const char *auth = rq->authorization;
  if (!auth || strncasecmp(auth, "Bearer ", 7) != 0) {
    awin_error(a, 401, "unauthorized", "no Authorization: Bearer token");
    return;
  }
  if (!sb_secret_equal(auth + 7, cfg->api_token)) {
    awin_error(a, 401, "unauthorized", "the bearer token is not valid");
    return;
  }
  if (strcmp(id, cfg->account) != 0) {
    awin_error(a, 403, "forbidden",
               "the token is not a token of advertiser %.64s", id);
    return;
  }
  cJSON *root = json_body(rq, a);
  if (!root)
    return;
  int count = cJSON_GetArraySize(root);
  entry *es = NULL;
  char msg[SB_NET_MESSAGE_MAX + 1] = "";
  int at = -1;
  if (!cJSON_IsArray(root) || count == 0) {
    awin_error(a, 400, "invalid_body",
               "the body must be a non-empty array of transactions");
  } else if (count > SB_AWIN_ENTRIES_MAX) {
    awin_error(a, 413, "too_many_transactions",
               "%d transactions in one call; at most %d", count,
               SB_AWIN_ENTRIES_MAX);
  } else if (!(es = calloc((size_t)count, sizeof(*es)))) {
    awin_error(a, 500, "internal", "out of memory");
  } else {
    const cJSON *j;
    int i = 0;
    cJSON_ArrayForEach(j, root) {
      if (check_entry(j, &es[i], msg, sizeof(msg)) != 0) {
        at = i;
        break;
      }
      i++;
    }
    sb_net_lock(n);
    if (at < 0 && apply_batch(n, es, count, &at, msg, sizeof(msg)) == 0) {
      char job[24];
      sb_net_next_id_locked(n, job, sizeof(job));
      sb_net_unlock(n);
      sb_net_log(n, "awin transactions: job %s, %d applied", job, count);
      cJSON *o = cJSON_CreateObject();
      if (o && (!cJSON_AddStringToObject(o, "jobId", job) ||
                !cJSON_AddStringToObject(o, "status", "QUEUED"))) {
        cJSON_Delete(o);
        o = NULL;
      }
      sb_net_answer_json(a, 200, o);
    } else {
      const cJSON *bad = cJSON_GetArrayItem(root, at);
      const cJSON *r = NULL;
      for (const cJSON *c = bad ? bad->child : NULL; c && !r; c = c->next)
        if (cJSON_IsObject(c))
          r = cJSON_GetObjectItemCaseSensitive(c, "orderRef");
      const char *ref = cJSON_IsString(r) ? r->valuestring : "";
      sb_net_reject_locked(n, ref, msg);
      sb_net_unlock(n);
      sb_net_log(n, "awin transactions: 400, entry %d (orderRef %.64s): %s", at,
                 ref[0] ? ref : "-", msg);
      awin_error(a, 400, "invalid_transaction",
                 "transaction %d (orderRef %.64s): %s; nothing was applied", at,
                 ref[0] ? ref : "-", msg);
    }
  }
  free(es);
  cJSON_Delete(root);
}

void sb_awin_handle(sb_net *n, const sb_net_request *rq, sb_net_answer *out) {
  char id[SB_NET_ACCOUNT_MAX + 1];
  memset(out, 0, sizeof(*out));
  int orders = path_id(rq->path, ORDERS_PREFIX, ORDERS_SUFFIX, id, sizeof(id));
  int batch =
      !orders && path_id(rq->path, BATCH_PREFIX, BATCH_SUFFIX, id, sizeof(id));
  if (!orders && !batch)
    awin_error(out, 404, "not_found",
               "no such endpoint: POST /s2s/advertiser/{id}/orders or "
               "/advertisers/{id}/transactions/batch");
  else if (strcmp(rq->method, "POST") != 0)
    awin_error(out, 405, "method_not_allowed", "POST here");
  else if (orders)
    conversion_api(n, rq, id, out);
  else
    transaction_api(n, rq, id, out);
}
