/*
 * Delivery profiles (cashback_profile.h): the request as plain data, what
 * every profile shares (the spool payload read back, form encoding,
 * settling by order id), and the built-in libcashback protocol as one
 * profile: cashback__request_build() signs the batch, cashback__decide()
 * reads the answer, byte for byte what the sender did before profiles.
 */
#include "cashback_profile.h"
#include "cashback_crypto.h"
#include "cashback_money.h"
#include "cashback_request.h"
#include "cashback_sign.h"
#include "cashback_text.h"
#include "cashback_time.h"

#include <cjson/cJSON.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* --- Requests ----------------------------------------------------------- */

void cashback__prequest_init(cashback__prequest *r) {
  memset(r, 0, sizeof(*r));
  cashback__buf_init(&r->body, CASHBACK__BATCH_MAX_BYTES + 4096);
}

void cashback__prequest_free(cashback__prequest *r) {
  cashback__buf_free(&r->body);
  free(r->orders);
  cashback__wipe(r->headers, sizeof(r->headers));
  cashback__prequest_init(r);
}

cashback_status cashback__prequest_header(cashback__prequest *r,
                                          const char *name, const char *value) {
  if (r->n_headers == CASHBACK__PROFILE_HEADERS)
    return CASHBACK_E_TOO_BIG;
  char *h = r->headers[r->n_headers];
  int m = snprintf(h, CASHBACK__PROFILE_HEADER_MAX + 1, "%s: %s", name, value);
  if (m < 0 || m > CASHBACK__PROFILE_HEADER_MAX) {
    cashback__wipe(h, CASHBACK__PROFILE_HEADER_MAX + 1);
    return CASHBACK_E_TOO_BIG;
  }
  r->n_headers++;
  return CASHBACK_OK;
}

cashback_status cashback__prequest_orders(cashback__prequest *req, size_t n) {
  free(req->orders);
  req->orders = calloc(n ? n : 1, sizeof(*req->orders));
  return req->orders ? CASHBACK_OK : CASHBACK_E_NOMEM;
}

/* --- Outcomes ----------------------------------------------------------- */

static void set_text(char *out, size_t size, const char *s) {
  cashback__printable(out, size, s ? s : "", s ? strlen(s) : 0);
}

void cashback__profile_settle(cashback__result *r, cashback__outcome o,
                              const char *reason, const char *message) {
  r->outcome = o;
  set_text(r->reason, sizeof(r->reason), reason);
  set_text(r->message, sizeof(r->message), message);
}

void cashback__profile_by_order(const cashback__prequest *req,
                                const char *order_id, cashback__result *res,
                                cashback__outcome o, const char *reason,
                                const char *message) {
  for (size_t i = 0; req->orders && i < req->n; i++)
    if (strcmp(req->orders[i], order_id) == 0 &&
        (res[i].outcome == CASHBACK__OUTCOME_PENDING ||
         o == CASHBACK__OUTCOME_REJECTED))
      cashback__profile_settle(&res[i], o, reason, message);
}

void cashback__profile_reset(cashback__sent *b, char *submission) {
  submission[0] = '\0';
  for (size_t i = 0; i < b->n; i++)
    cashback__profile_settle(&b->results[i], CASHBACK__OUTCOME_PENDING, "", "");
}

const char *cashback__json_str(const void *obj, const char *name) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive((const cJSON *)obj, name);
  return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* --- The spool payload, read back --------------------------------------- */

/* An integer JSON number within +-CASHBACK__AMOUNT_MAX (cJSON keeps it as
 * a double: exact below 2^53). 0 when so. */
static int int_of(const cJSON *o, const char *name, int64_t *out) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
  if (!cJSON_IsNumber(v))
    return -1;
  double d = v->valuedouble;
  if (!(d >= -(double)CASHBACK__AMOUNT_MAX &&
        d <= (double)CASHBACK__AMOUNT_MAX))
    return -1;
  int64_t i = (int64_t)d;
  if ((double)i != d)
    return -1;
  *out = i;
  return 0;
}

void cashback__pevent_free(cashback__pevent *ev) {
  cJSON_Delete(ev->json);
  free(ev->items);
  memset(ev, 0, sizeof(*ev));
}

cashback_status cashback__pevent_parse(const char *text, size_t len,
                                       cashback__pevent *ev) {
  memset(ev, 0, sizeof(*ev));
  cJSON *root = cJSON_ParseWithLength(text, len);
  ev->json = root;
  if (!cJSON_IsObject(root))
    goto bad;
  ev->id = cashback__json_str(root, "id");
  ev->type = cashback__json_str(root, "type");
  ev->order_id = cashback__json_str(root, "order_id");
  ev->order_time = cashback__json_str(root, "order_time");
  ev->reported_at = cashback__json_str(root, "reported_at");
  if (!ev->id || !ev->type || !ev->order_id || !ev->order_id[0] ||
      strlen(ev->order_id) > CASHBACK_ID_MAX || !ev->order_time ||
      cashback__iso8601_parse(ev->order_time, strlen(ev->order_time),
                              &ev->order_unix,
                              &ev->order_offset) != CASHBACK_OK)
    goto bad;
  /* cashback_event_finalize() writes the report time when none was given. */
  ev->order_time_given =
      !ev->reported_at || strcmp(ev->order_time, ev->reported_at) != 0;
  ev->test = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(root, "test"));
  const cJSON *click = cJSON_GetObjectItemCaseSensitive(root, "click");
  ev->click = cJSON_IsObject(click) ? cashback__json_str(click, "token") : NULL;
  if (ev->click && !ev->click[0])
    ev->click = NULL;
  if (cJSON_GetObjectItemCaseSensitive(root, "amount")) {
    ev->currency = cashback__json_str(root, "currency");
    if (int_of(root, "amount", &ev->amount) != 0 || !ev->currency)
      goto bad;
    ev->has_amount = 1;
  } else {
    ev->currency = cashback__json_str(root, "currency");
  }
  ev->exponent =
      ev->currency
          ? cashback__currency_exponent(ev->currency, strlen(ev->currency))
          : 2;
  if (ev->exponent < 0)
    goto bad;
  ev->customer = cashback__json_str(root, "customer");
  const cJSON *v, *vs = cJSON_GetObjectItemCaseSensitive(root, "vouchers");
  const cJSON *items = cJSON_GetObjectItemCaseSensitive(root, "items");
  /* cJSON_ArrayForEach walks an object's members too: lists only. */
  if ((vs && !cJSON_IsArray(vs)) || (items && !cJSON_IsArray(items)))
    goto bad;
  cJSON_ArrayForEach(v, vs) {
    if (!cJSON_IsString(v) || ev->n_vouchers == CASHBACK__PROFILE_VOUCHERS_MAX)
      goto bad;
    ev->vouchers[ev->n_vouchers++] = v->valuestring;
  }
  int n_items = cJSON_IsArray(items) ? cJSON_GetArraySize(items) : 0;
  if (n_items > CASHBACK__PROFILE_ITEMS_MAX)
    goto bad;
  if (n_items > 0) {
    ev->items = calloc((size_t)n_items, sizeof(*ev->items));
    if (!ev->items) {
      cashback__pevent_free(ev);
      return CASHBACK_E_NOMEM;
    }
  }
  cJSON_ArrayForEach(v, items) {
    cashback__pitem *it = &ev->items[ev->n_items];
    it->sku = cashback__json_str(v, "sku");
    it->name = cashback__json_str(v, "name");
    it->category = cashback__json_str(v, "category");
    if (!it->sku || int_of(v, "quantity", &it->quantity) != 0 ||
        int_of(v, "unit_price", &it->unit_price) != 0 || it->quantity < 1 ||
        it->quantity > 1000000)
      goto bad;
    if (it->name && !it->name[0])
      it->name = NULL;
    if (it->category && !it->category[0])
      it->category = NULL;
    ev->n_items++;
  }
  ev->reason = cashback__json_str(root, "reason");
  if (ev->reason && !ev->reason[0])
    ev->reason = NULL;
  return CASHBACK_OK;
bad:
  cashback__pevent_free(ev);
  return CASHBACK_E_PROTOCOL;
}

/* --- Form encoding ------------------------------------------------------ */

cashback_status cashback__form_add(cashback__buf *b, const char *s,
                                   size_t len) {
  static const char hex[] = "0123456789ABCDEF";
  cashback_status st = CASHBACK_OK;
  for (size_t i = 0; st == CASHBACK_OK && i < len; i++) {
    unsigned char c = (unsigned char)s[i];
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
        (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' ||
        c == '~') {
      st = cashback__buf_add(b, s + i, 1);
    } else {
      char e[3] = {'%', hex[c >> 4], hex[c & 15]};
      st = cashback__buf_add(b, e, 3);
    }
  }
  return st;
}

cashback_status cashback__form_field(cashback__buf *b, const char *name,
                                     const char *value) {
  cashback_status st = b->len ? cashback__buf_add(b, "&", 1) : CASHBACK_OK;
  if (st == CASHBACK_OK)
    st = cashback__buf_adds(b, name);
  if (st == CASHBACK_OK)
    st = cashback__buf_add(b, "=", 1);
  if (st == CASHBACK_OK)
    st = cashback__form_add(b, value, strlen(value));
  return st;
}

/* --- The built-in protocol ---------------------------------------------- */

static cashback_status
builtin_build(const cashback_options *o, const cashback__profile_orders *orders,
              int64_t now_s, const char *const *texts, const size_t *lens,
              cashback__result *results, size_t n, cashback__prequest *req) {
  (void)orders;
  (void)results;
  char sig[CASHBACK__SIG_HEADER_MAX + 1];
  cashback_status st =
      cashback__request_build(o->merchant_id, &o->key, &o->next_key, now_s,
                              texts, lens, n, &req->body, sig, sizeof(sig));
  if (st != CASHBACK_OK)
    return st;
  req->n = n;
  memcpy(req->method, "POST", 5);
  snprintf(req->url, sizeof(req->url), "%s", o->endpoint);
  st = cashback__prequest_header(req, "Content-Type", "application/json");
  if (st == CASHBACK_OK)
    st = cashback__prequest_header(req, "Accept", "application/json");
  if (st == CASHBACK_OK)
    st = cashback__prequest_header(req, CASHBACK_SIGNATURE_HEADER, sig);
  req->credential = NULL; /* the sender names the key itself */
  return st;
}

static void builtin_classify(const cashback_options *o,
                             const cashback__prequest *req,
                             const cashback__answer *a, cashback__sent *b,
                             cashback__decision *d, char *submission) {
  (void)o;
  (void)req;
  submission[0] = '\0';
  cashback__decide(a, b, d);
}

const cashback__profile cashback__profile_builtin = {
    "libcashback", builtin_build, builtin_classify, 0, 0};

const cashback__profile *cashback__profile_of(const cashback_options *o) {
  switch (o->profile) {
  case CASHBACK__PROFILE_AWIN:
    return &cashback__profile_awin;
  case CASHBACK__PROFILE_IMPACT:
    return &cashback__profile_impact;
  case CASHBACK__PROFILE_BUILTIN:
    break;
  }
  return &cashback__profile_builtin;
}

void cashback__profile_pause_key(const cashback_options *o,
                                 cashback__key *out) {
  memset(out, 0, sizeof(*out));
  if (o->profile == CASHBACK__PROFILE_BUILTIN) {
    *out = o->key;
    return;
  }
  /* The credentials' digest stands for them: a pause ends when they
   * change, and the state file names only its HMAC fingerprint. */
  int awin = o->profile == CASHBACK__PROFILE_AWIN;
  const char *a = awin ? o->awin_api_key : o->impact_account_sid;
  const char *b = awin ? o->awin_api_token : o->impact_auth_token;
  cashback__span parts[3] = {{a, strlen(a)}, {"\n", 1}, {b, strlen(b)}};
  uint8_t digest[CASHBACK__SHA256_LEN];
  if (cashback__sha256(parts, 3, digest) != CASHBACK_OK)
    memset(digest, 0, sizeof(digest));
  cashback__hex(digest, sizeof(digest), out->secret);
  cashback__wipe(digest, sizeof(digest));
  snprintf(out->id, sizeof(out->id), "%s", awin ? "awin" : "impact");
}
