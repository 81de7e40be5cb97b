/*
 * The request builder (docs/protocol.md): batch bodies, and requests built as
 * plain data (URL, body, signature) before any network I/O.
 */
#include "cashback_request.h"
#include "cashback_core.h"
#include "cashback_event.h"
#include "cashback_sign.h"
#include "cashback_time.h"

#include <stdlib.h>
#include <string.h>

struct cashback_request {
  char *url;
  char *body;
  size_t body_len;
  char signature[CASHBACK__SIG_HEADER_MAX + 1];
};

cashback_status cashback__batch_body(const char *merchant_id, int64_t sent_at,
                                     const char *const *events,
                                     const size_t *lens, size_t n,
                                     cashback__buf *out) {
  char iso[CASHBACK__ISO8601_MAX];
  if (n == 0 || n > CASHBACK__BATCH_MAX_EVENTS ||
      !cashback__id_valid(merchant_id, strlen(merchant_id)))
    return CASHBACK_E_INVALID_ARGUMENT;
  cashback_status st = cashback__iso8601(sent_at, 0, iso);
  if (st != CASHBACK_OK)
    return st;
  /* The whole body at once, as a rule: the head, the events and their
   * commas (a failure only means the appends grow the buffer). */
  size_t total = 96 + strlen(merchant_id) + n;
  for (size_t i = 0; i < n && total <= out->max; i++)
    total += lens[i];
  if (total <= out->max)
    (void)cashback__buf_reserve(out, total);
  /* merchant_id is [A-Za-z0-9._-] only: it needs no JSON escaping. */
  st = cashback__buf_addf(out,
                          "{\"protocol\":%d,\"merchant_id\":\"%s\","
                          "\"sent_at\":\"%s\",\"events\":[",
                          CASHBACK__PROTOCOL_VERSION, merchant_id, iso);
  for (size_t i = 0; st == CASHBACK_OK && i < n; i++) {
    if (i)
      st = cashback__buf_add(out, ",", 1);
    if (st == CASHBACK_OK)
      st = cashback__buf_add(out, events[i], lens[i]);
  }
  if (st == CASHBACK_OK)
    st = cashback__buf_add(out, "]}", 2);
  return st;
}

cashback_status
cashback__request_build(const char *merchant_id, const cashback__key *key,
                        const cashback__key *next_key, int64_t now_s,
                        const char *const *events, const size_t *lens, size_t n,
                        cashback__buf *body, char *sig, size_t sig_size) {
  cashback_status st =
      cashback__batch_body(merchant_id, now_s, events, lens, n, body);
  if (st != CASHBACK_OK)
    return st;
  /* The current key, and the next one during a rotation. */
  cashback__key keys[2];
  size_t nk = 0;
  keys[nk++] = *key;
  if (next_key && next_key->id[0])
    keys[nk++] = *next_key;
  st = cashback__sign_header(keys, nk, now_s, body->data, body->len, sig,
                             sig_size);
  cashback__wipe(keys, sizeof(keys));
  return st;
}

cashback_status cashback_request_new(cashback_client *c,
                                     cashback_event *const *events, size_t n,
                                     cashback_request **out) {
  cashback__call_begin(c);
  if (!c || !events || !out)
    return CASHBACK_E_INVALID_ARGUMENT;
  *out = NULL;
  if (n == 0 || n > CASHBACK__BATCH_MAX_EVENTS)
    return cashback__fail(c, CASHBACK_E_INVALID_ARGUMENT,
                          "request: a batch has 1 to %d events, not %zu",
                          CASHBACK__BATCH_MAX_EVENTS, n);
  cashback_status st = CASHBACK_OK;
  cashback__buf all;
  cashback__buf_init(&all, CASHBACK__BATCH_MAX_BYTES);
  size_t *offs = calloc(n, sizeof(*offs));
  size_t *lens = calloc(n, sizeof(*lens));
  const char **texts = calloc(n, sizeof(*texts));
  cashback_request *req = calloc(1, sizeof(*req));
  if (!offs || !lens || !texts || !req)
    st = cashback__fail(c, CASHBACK_E_NOMEM, "request: out of memory");
  for (size_t i = 0; st == CASHBACK_OK && i < n; i++) {
    if (!events[i]) {
      st = cashback__fail(c, CASHBACK_E_INVALID_ARGUMENT,
                          "request: events[%zu] is NULL", i);
      break;
    }
    st = cashback_event_finalize(c, events[i], NULL);
    offs[i] = all.len;
    if (st == CASHBACK_OK)
      st = cashback__event_json(c, events[i], &all);
    lens[i] = all.len - offs[i];
  }
  if (st == CASHBACK_OK) {
    for (size_t i = 0; i < n; i++)
      texts[i] = all.data + offs[i];
    cashback__buf body;
    cashback__buf_init(&body, CASHBACK__BATCH_MAX_BYTES);
    st = cashback__request_build(
        c->opts.merchant_id, &c->opts.key, &c->opts.next_key, cashback__now(c),
        texts, lens, n, &body, req->signature, sizeof(req->signature));
    if (st == CASHBACK_OK) {
      req->url = strdup(c->opts.endpoint);
      req->body = cashback__buf_detach(&body, &req->body_len);
      if (!req->url || !req->body)
        st = CASHBACK_E_NOMEM;
    }
    cashback__buf_free(&body);
    if (st != CASHBACK_OK)
      cashback__fail(c, st, "request: cannot build a batch of %zu events", n);
  }
  cashback__buf_free(&all);
  free(offs);
  free(lens);
  free(texts);
  if (st != CASHBACK_OK) {
    cashback_request_free(req);
    return st;
  }
  *out = req;
  return CASHBACK_OK;
}

const char *cashback_request_url(const cashback_request *req) {
  return req ? req->url : NULL;
}

const char *cashback_request_body(const cashback_request *req, size_t *len) {
  if (!req)
    return NULL;
  if (len)
    *len = req->body_len;
  return req->body;
}

const char *cashback_request_signature(const cashback_request *req) {
  return req ? req->signature : NULL;
}

void cashback_request_free(cashback_request *req) {
  if (!req)
    return;
  free(req->url);
  free(req->body);
  free(req);
}
