/*
 * The sandbox's HTTP side (libmicrohttpd: a few threads polling every
 * connection with epoll, so that a slow client holds a socket, never a
 * thread):
 *   POST /cashback/v1/events   a batch: verify, parse, record, answer
 *   GET  /                     the conversions page
 *   GET  /api/totals           the same as JSON
 *   GET|POST /_admin/mode      the fault mode (loopback clients only)
 * The fault modes apply to the events endpoint only, so that the page and
 * the admin endpoint keep working while "the network" is down.
 *
 * Slow clients: every request must be complete within the request timeout
 * (--request-timeout) of the connection's start or of its previous
 * request's end, however it trickles; a sweeper thread shuts down the
 * socket of one that is not (libmicrohttpd's own timeout is an idle
 * timeout, reset by every byte). A slow-mode answer suspends its
 * connection and a waker thread resumes it: no thread sleeps.
 */
#include "sandbox.h"

#include <cjson/cJSON.h>
#include <microhttpd.h>

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>

#define EVENTS_PATH "/cashback/v1/events"
#define BODY_MAX (4u * 1024 * 1024)
#define ADMIN_BODY_MAX 4096
#define DISCARD_MAX (64u * 1024 * 1024)

typedef enum route {
  R_EVENTS,   /* the protocol's batches */
  R_ADMIN,    /* /_admin/mode */
  R_OTHER,    /* the pages */
  R_NET,      /* a network mode's API: any other path */
  R_NET_LAST, /* /_admin/last-request */
} route;

typedef struct request {
  char *uri;   /* the request target as received, with its query */
  int started; /* the headers were seen */
  route route;
  sb_mode fault; /* the fault mode taken for this request */
  int slow_ms;
  char *body;
  size_t len, cap, max;
  size_t dropped; /* bytes read past `max` */
  int too_big;
  int cannot_verify;      /* no configured key can sign it: read and dropped */
  cashback_status sig_st; /* why (for the 401), when `cannot_verify` */
  char *pending;          /* slow mode: the answer, sent once resumed */
  unsigned pending_status;
  int pending_retry; /* its Retry-After, 0 for none */
  int suspended;     /* counted in sb_http.n_suspended until done */
} request;

/* One TCP connection (its MHD socket context), in the list the sweeper
 * reads. The fd is valid while the entry is listed: libmicrohttpd calls
 * the CLOSED notification, which unlists it, before closing the fd. */
typedef struct conn {
  struct conn *prev, *next;
  struct MHD_Connection *c;
  int fd;
  int64_t deadline_ms; /* monotonic: the current request must end by then */
  int shut;            /* the sweeper shut it down */
} conn;

/* A suspended slow-mode connection, resumed at `due_ms`. */
typedef struct wake {
  struct wake *next;
  struct MHD_Connection *c;
  int64_t due_ms;
  int ready; /* MHD_suspend_connection() has returned */
} wake;

struct sb_http {
  sandbox *sb;
  struct MHD_Daemon *d;
  int64_t timeout_ms;
  pthread_mutex_t mu; /* conns, waits, stop, n_conns */
  pthread_cond_t cv;
  conn *conns;
  size_t n_conns;
  wake *waits;
  size_t n_suspended; /* slow-mode requests not yet done */
  int stop;
  pthread_t sweeper, waker;
  int have_sweeper, have_waker;
};

static int64_t mono_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void abs_time(int64_t mono_deadline, struct timespec *out) {
  /* pthread_cond_timedwait on a CLOCK_MONOTONIC condition variable. */
  out->tv_sec = (time_t)(mono_deadline / 1000);
  out->tv_nsec = (long)(mono_deadline % 1000) * 1000000L;
}

/* ------------------------------------------------------------- answers */

static enum MHD_Result answer_retry(struct MHD_Connection *c, unsigned status,
                                    const char *type, char *body, size_t len,
                                    int retry_after) {
  /* `body` is malloc'ed and handed over (NULL: an empty body). */
  struct MHD_Response *r = MHD_create_response_from_buffer(
      len, body ? body : (void *)"",
      body ? MHD_RESPMEM_MUST_FREE : MHD_RESPMEM_PERSISTENT);
  if (!r) {
    free(body);
    return MHD_NO;
  }
  MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
  MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
  if (retry_after > 0) {
    char ra[16];
    snprintf(ra, sizeof(ra), "%d", retry_after);
    MHD_add_response_header(r, MHD_HTTP_HEADER_RETRY_AFTER, ra);
  }
  enum MHD_Result ret = MHD_queue_response(c, status, r);
  MHD_destroy_response(r);
  return ret;
}

/* A 503 says Retry-After: 1. */
static enum MHD_Result answer(struct MHD_Connection *c, unsigned status,
                              const char *type, char *body, size_t len) {
  return answer_retry(c, status, type, body, len,
                      status == MHD_HTTP_SERVICE_UNAVAILABLE ||
                              status == MHD_HTTP_TOO_MANY_REQUESTS
                          ? 1
                          : 0);
}

/* {"error":code[,"message":message]} */
static enum MHD_Result answer_error(struct MHD_Connection *c, unsigned status,
                                    const char *code, const char *message) {
  cJSON *o = cJSON_CreateObject();
  char *text = NULL;
  if (o && cJSON_AddStringToObject(o, "error", code) &&
      (!message || cJSON_AddStringToObject(o, "message", message)))
    text = cJSON_PrintUnformatted(o);
  cJSON_Delete(o);
  char *body = text ? strdup(text) : NULL;
  cJSON_free(text);
  return answer(c, status, "application/json", body, body ? strlen(body) : 0);
}

static enum MHD_Result answer_json(struct MHD_Connection *c, unsigned status,
                                   cJSON *o) {
  char *text = o ? cJSON_PrintUnformatted(o) : NULL;
  cJSON_Delete(o);
  char *body = text ? strdup(text) : NULL;
  cJSON_free(text);
  if (!body)
    return answer_error(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "internal", NULL);
  return answer(c, status, "application/json", body, strlen(body));
}

/* ----------------------------------------------------------- helpers */

static void remote_of(struct MHD_Connection *c, char *out, size_t size) {
  const union MHD_ConnectionInfo *ci =
      MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
  snprintf(out, size, "?");
  if (!ci || !ci->client_addr)
    return;
  const struct sockaddr *sa = ci->client_addr;
  socklen_t len = sa->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6)
                                            : sizeof(struct sockaddr_in);
  if (getnameinfo(sa, len, out, (socklen_t)size, NULL, 0, NI_NUMERICHOST) != 0)
    snprintf(out, size, "?");
}

static int is_loopback(struct MHD_Connection *c) {
  const union MHD_ConnectionInfo *ci =
      MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
  if (!ci || !ci->client_addr)
    return 0;
  const struct sockaddr *sa = ci->client_addr;
  if (sa->sa_family == AF_INET) {
    const struct sockaddr_in *in = (const struct sockaddr_in *)(const void *)sa;
    return (ntohl(in->sin_addr.s_addr) >> 24) == 127;
  }
  if (sa->sa_family == AF_INET6) {
    const struct sockaddr_in6 *in6 =
        (const struct sockaddr_in6 *)(const void *)sa;
    const uint8_t *a = in6->sin6_addr.s6_addr;
    if (IN6_IS_ADDR_LOOPBACK(&in6->sin6_addr))
      return 1;
    return IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr) && a[12] == 127;
  }
  return 0;
}

/* The fault mode for one request of the events endpoint or a network's
 * API; a mode set with a count is used up by as many requests. */
static void take_fault(sandbox *sb, request *rq) {
  pthread_mutex_lock(&sb->lock);
  rq->fault = sb->mode;
  rq->slow_ms = sb->slow_ms;
  if (sb->mode != SB_MODE_OK && sb->fault_count > 0 && --sb->fault_count == 0)
    sb->mode = SB_MODE_OK;
  pthread_mutex_unlock(&sb->lock);
}

static const char *sig_error(cashback_status st) {
  switch (st) {
  case CASHBACK_E_SIG_MALFORMED:
    return "signature_malformed";
  case CASHBACK_E_SIG_TIMESTAMP:
    return "signature_timestamp";
  case CASHBACK_E_SIG_UNKNOWN_KEY:
    return "signature_unknown_key";
  case CASHBACK_E_SIG_MISMATCH:
    return "signature_mismatch";
  default:
    return "signature_error";
  }
}

/* -------------------------------------------------------------- events */

static void log_event(sandbox *sb, const char *merchant,
                      const cashback_received_event *e, const sb_result *r) {
  static const char *const types[] = {"?", "sale", "refund", "cancel",
                                      "confirm"};
  const char *type = (unsigned)e->type <= 4 ? types[e->type] : "?";
  char amount[64] = "-";
  if (e->has_amount) {
    char num[40];
    if (cashback_money_format(e->amount, e->currency, num, sizeof(num)) ==
        CASHBACK_OK)
      snprintf(amount, sizeof(amount), "%s %s", num, e->currency);
  }
  if (r->reason[0])
    sb_log(sb, "%s %s order=%s amount=%s%s %s reason=%s (%s) id=%s", merchant,
           type, e->order_id[0] ? e->order_id : "-", amount,
           e->test ? " test" : "", r->status, r->reason, r->message,
           e->id[0] ? e->id : "-");
  else
    sb_log(sb, "%s %s order=%s amount=%s%s %s%s id=%s", merchant, type,
           e->order_id, amount, e->test ? " test" : "", r->status,
           r->held ? " (held until its sale arrives)" : "", e->id);
}

/* Which failure to answer when no configured merchant's keys verify the
 * request: a header-level fault (malformed, timestamp) is the same for
 * every merchant; a mismatch (a known key id, a wrong MAC) says more than
 * an unknown key. */
static int sig_rank(cashback_status st) {
  switch (st) {
  case CASHBACK_E_SIG_MALFORMED:
    return 4;
  case CASHBACK_E_SIG_TIMESTAMP:
    return 3;
  case CASHBACK_E_SIG_MISMATCH:
    return 2;
  case CASHBACK_E_SIG_UNKNOWN_KEY:
    return 1;
  default:
    return 0;
  }
}

/* The configured merchant whose key signed `body` under the header `sig`,
 * with the key id in `key_id`; NULL and the failure to answer in `*st`
 * when none did. Every merchant's keys are tried (a verifier computes a MAC
 * only for a key id of its own in the header). */
static const sb_merchant *signer_of(sandbox *sb, const char *sig,
                                    const char *body, size_t len, int64_t now,
                                    char key_id[CASHBACK_ID_MAX + 1],
                                    cashback_status *st) {
  *st = CASHBACK_E_SIG_MALFORMED;
  if (!sig)
    return NULL;
  *st = CASHBACK_E_SIG_UNKNOWN_KEY;
  for (size_t i = 0; i < sb->n_merchants; i++) {
    cashback_status one = cashback_verifier_verify(
        sb->merchants[i].verifier, sig, strlen(sig), body, len, now, key_id);
    if (one == CASHBACK_OK)
      return &sb->merchants[i];
    if (sig_rank(one) > sig_rank(*st))
      *st = one;
  }
  return NULL;
}

/* Before the body: can any configured key sign this request? The header
 * verified over an empty body fails only on the MAC (a mismatch) when it
 * is well formed, in time and names a key id of ours; anything else
 * (no header, malformed, out of time, no key id of ours) can never
 * verify, whatever the body, so the body is read and dropped rather than
 * kept: an unauthenticated client holds no memory (it held up to 4 MiB a
 * connection). */
static int can_verify(sandbox *sb, const char *sig, int64_t now,
                      cashback_status *st) {
  char kid[CASHBACK_ID_MAX + 1];
  if (signer_of(sb, sig, "", 0, now, kid, st))
    return 1;
  return *st == CASHBACK_E_SIG_MISMATCH;
}

/* Slow mode: hands `body` to the connection's request, suspends the
 * connection and has the waker resume it after `ms`. 0, or -1 when the
 * sandbox is stopping (answer at once). No libmicrohttpd function is
 * called with h->mu held. */
static int suspend_for(sb_http *h, struct MHD_Connection *c, request *rq,
                       unsigned status, int retry_after, char *body, int ms) {
  wake *w = calloc(1, sizeof(*w));
  if (!w)
    return -1;
  const union MHD_ConnectionInfo *ci =
      MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
  conn *k = ci ? ci->socket_context : NULL;
  pthread_mutex_lock(&h->mu);
  if (h->stop) {
    pthread_mutex_unlock(&h->mu);
    free(w);
    return -1;
  }
  rq->pending = body;
  rq->pending_status = status;
  rq->pending_retry = retry_after;
  rq->suspended = 1;
  h->n_suspended++;
  w->c = c;
  w->due_ms = mono_ms() + ms;
  w->next = h->waits;
  h->waits = w;
  /* The slow wait is the sandbox's, not the client's: not held against
   * its request timeout. */
  if (k)
    k->deadline_ms += ms;
  pthread_mutex_unlock(&h->mu);
  MHD_suspend_connection(c);
  pthread_mutex_lock(&h->mu);
  w->ready = 1; /* suspended: the waker may resume it now */
  pthread_cond_broadcast(&h->cv);
  pthread_mutex_unlock(&h->mu);
  return 0;
}

/* One POST of a batch, as post_events() takes it through its steps. Each
 * step returns 0 to go on, or -1 with the answer queued in `*ret`. */
typedef struct batch_post {
  sb_http *h;
  struct MHD_Connection *c;
  request *rq;
  char remote[64];
  const char *sig; /* the signature header, or NULL */
  const char *body;
  int64_t now;
  char key_id[CASHBACK_ID_MAX + 1]; /* of the key that signed it */
  const sb_merchant *signer;
  cashback_batch *b; /* freed by post_events() */
} batch_post;

/* A body over BODY_MAX (413), then the signature, before anything reads
 * the body: the keys of every configured merchant are tried (a verifier
 * computes a MAC only for a key id of its own in the header). Who the body
 * says it is does not matter yet, so an unknown merchant is answered
 * exactly like a bad signature (401). */
static int post_authenticate(batch_post *p, enum MHD_Result *ret) {
  sandbox *sb = p->h->sb;
  request *rq = p->rq;
  if (rq->too_big && !rq->cannot_verify) {
    sb_log(sb, "413 from %s: body over %u bytes", p->remote, BODY_MAX);
    *ret = answer_error(p->c, MHD_HTTP_CONTENT_TOO_LARGE, "too_large",
                        "the body is over 4 MiB");
    return -1;
  }
  cashback_status st = rq->sig_st;
  p->signer = rq->cannot_verify ? NULL
                                : signer_of(sb, p->sig, p->body, rq->len,
                                            p->now, p->key_id, &st);
  if (p->signer)
    return 0;
  sb_log(sb, "401 from %s: %s%s", p->remote, sig_error(st),
         p->sig ? "" : " (no Cashback-Signature header)");
  *ret = answer_error(p->c, MHD_HTTP_UNAUTHORIZED, sig_error(st),
                      p->sig ? cashback_strerror(st)
                             : "no Cashback-Signature header");
  return -1;
}

/* The batch parsed into p->b: too big (413), not of the protocol (400),
 * or the parser failing otherwise (500). */
static int post_parse(batch_post *p, enum MHD_Result *ret) {
  sandbox *sb = p->h->sb;
  char detail[CASHBACK_ERROR_MAX + 1];
  cashback_status st =
      cashback_batch_parse(p->body, p->rq->len, CASHBACK_BATCH_CHECK_IDS, &p->b,
                           detail, sizeof(detail));
  if (st == CASHBACK_OK)
    return 0;
  if (st == CASHBACK_E_TOO_BIG) {
    sb_log(sb, "413 from %s: merchant %s: %s", p->remote, p->signer->id,
           detail);
    *ret = answer_error(p->c, MHD_HTTP_CONTENT_TOO_LARGE, "too_large", detail);
    return -1;
  }
  sb_log(sb, "400 from %s: merchant %s: %s", p->remote, p->signer->id,
         st == CASHBACK_E_PROTOCOL ? detail : cashback_strerror(st));
  if (st != CASHBACK_E_PROTOCOL)
    *ret = answer_error(p->c, MHD_HTTP_INTERNAL_SERVER_ERROR, "internal",
                        cashback_strerror(st));
  else
    *ret = answer_error(p->c, MHD_HTTP_BAD_REQUEST, "malformed_body", detail);
  return -1;
}

/* The body's merchant must be the signer. Two merchants may share a key
 * (id and secret): the body's own merchant decides then, and p->key_id
 * becomes its key. Otherwise the key is not one of its keys, whether that
 * merchant is configured or not: one answer for both (403). */
static int post_check_merchant(batch_post *p, enum MHD_Result *ret) {
  const char *merchant = cashback_batch_merchant_id(p->b);
  if (strcmp(merchant, p->signer->id) == 0)
    return 0;
  const sb_merchant *m = sb_find_merchant(p->h->sb, merchant);
  char kid[CASHBACK_ID_MAX + 1];
  if (m &&
      cashback_verifier_verify(m->verifier, p->sig, strlen(p->sig), p->body,
                               p->rq->len, p->now, kid) == CASHBACK_OK) {
    memcpy(p->key_id, kid, sizeof(kid));
    return 0;
  }
  sb_log(p->h->sb,
         "403 from %s: a batch of merchant %s signed with key %s of %s",
         p->remote, merchant, p->key_id, p->signer->id);
  *ret = answer_error(p->c, MHD_HTTP_FORBIDDEN, "merchant_mismatch",
                      "the signing key is not a key of this merchant");
  return -1;
}

/* The answer's {"results":[...]}, one entry (logged) per event; NULL when
 * out of memory. */
static cJSON *results_json(sandbox *sb, const cashback_batch *b,
                           const sb_result *results) {
  const char *merchant = cashback_batch_merchant_id(b);
  cJSON *root = cJSON_CreateObject();
  cJSON *list = root ? cJSON_AddArrayToObject(root, "results") : NULL;
  int ok = list != NULL;
  for (size_t i = 0; i < cashback_batch_count(b); i++) {
    cashback_received_event e = {.size = sizeof(e)};
    if (cashback_batch_event(b, i, &e) != CASHBACK_OK)
      continue;
    log_event(sb, merchant, &e, &results[i]);
    cJSON *r = ok ? cJSON_CreateObject() : NULL;
    ok = r && cJSON_AddItemToArray(list, r) &&
         cJSON_AddStringToObject(r, "id", e.id) &&
         cJSON_AddStringToObject(r, "status", results[i].status);
    if (ok && results[i].reason[0])
      ok = cJSON_AddStringToObject(r, "reason", results[i].reason) &&
           cJSON_AddStringToObject(r, "message", results[i].message);
  }
  if (!ok) {
    cJSON_Delete(root);
    root = NULL;
  }
  return root;
}

/* Records the batch and makes the answer's results into `*root` (NULL
 * when out of memory): 500 when it was not recorded. */
static int post_record(batch_post *p, cJSON **root, enum MHD_Result *ret) {
  sandbox *sb = p->h->sb;
  sb_result *results = calloc(cashback_batch_count(p->b), sizeof(*results));
  char err[256];
  if (!results ||
      sb_store_batch(sb->store, p->b, p->key_id, p->remote, p->body, p->rq->len,
                     p->now, results, err, sizeof(err)) != 0) {
    sb_log(sb, "500 from %s: merchant %s: %s", p->remote,
           cashback_batch_merchant_id(p->b), results ? err : "out of memory");
    free(results);
    *ret = answer_error(p->c, MHD_HTTP_INTERNAL_SERVER_ERROR, "storage",
                        "the events were not recorded; send them again");
    return -1;
  }
  *root = results_json(sb, p->b, results);
  free(results);
  return 0;
}

/* Answers the results (200): in slow mode after the slow wait, in drop
 * mode not at all (the connection is closed: recorded, never heard). */
static enum MHD_Result post_answer(batch_post *p, cJSON *root) {
  request *rq = p->rq;
  if (rq->fault == SB_MODE_DROP) {
    sb_log(p->h->sb, "answer dropped (fault mode drop)");
    cJSON_Delete(root);
    return MHD_NO;
  }
  if (rq->fault == SB_MODE_SLOW && rq->slow_ms > 0 && root) {
    /* Recorded already: a retry sees "duplicate". */
    char *text = cJSON_PrintUnformatted(root);
    char *copy = text ? strdup(text) : NULL;
    cJSON_free(text);
    if (copy) {
      cJSON_Delete(root);
      if (suspend_for(p->h, p->c, rq, MHD_HTTP_OK, 0, copy, rq->slow_ms) == 0)
        return MHD_YES;
      return answer(p->c, MHD_HTTP_OK, "application/json", copy, strlen(copy));
    }
  }
  return answer_json(p->c, MHD_HTTP_OK, root);
}

/* POST /cashback/v1/events, the whole body in: authenticate, parse, check
 * the merchant, record, answer. */
static enum MHD_Result post_events(sb_http *h, struct MHD_Connection *c,
                                   request *rq) {
  batch_post p = {.h = h, .c = c, .rq = rq};
  remote_of(c, p.remote, sizeof(p.remote));
  p.sig = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
                                      CASHBACK_SIGNATURE_HEADER);
  p.body = rq->body ? rq->body : "";
  p.now = (int64_t)time(NULL);
  enum MHD_Result ret = MHD_NO;
  cJSON *root = NULL;
  int ok = post_authenticate(&p, &ret) == 0 && post_parse(&p, &ret) == 0 &&
           post_check_merchant(&p, &ret) == 0 &&
           post_record(&p, &root, &ret) == 0;
  cashback_batch_free(p.b);
  return ok ? post_answer(&p, root) : ret;
}

/* --------------------------------------------------------------- admin */

static cJSON *mode_json(sandbox *sb) {
  pthread_mutex_lock(&sb->lock);
  sb_mode mode = sb->mode;
  int slow_ms = sb->slow_ms, count = sb->fault_count;
  pthread_mutex_unlock(&sb->lock);
  cJSON *o = cJSON_CreateObject();
  if (o && (!cJSON_AddStringToObject(o, "mode", sb_mode_name(mode)) ||
            !cJSON_AddNumberToObject(o, "slow_ms", slow_ms) ||
            !cJSON_AddNumberToObject(o, "count", count))) {
    cJSON_Delete(o);
    return NULL;
  }
  return o;
}

static enum MHD_Result admin_mode(sandbox *sb, struct MHD_Connection *c,
                                  const char *method, request *rq) {
  if (strcmp(method, "GET") == 0)
    return answer_json(c, MHD_HTTP_OK, mode_json(sb));
  if (rq->too_big)
    return answer_error(c, MHD_HTTP_CONTENT_TOO_LARGE, "too_large", NULL);
  cJSON *o = cJSON_ParseWithLength(rq->body ? rq->body : "", rq->len);
  const cJSON *mode = cJSON_GetObjectItemCaseSensitive(o, "mode");
  const cJSON *slow = cJSON_GetObjectItemCaseSensitive(o, "slow_ms");
  const cJSON *count = cJSON_GetObjectItemCaseSensitive(o, "count");
  sb_mode m;
  int bad = !cJSON_IsObject(o) || !cJSON_IsString(mode) ||
            sb_mode_parse(mode->valuestring, &m) != 0 ||
            (slow && !(cJSON_IsNumber(slow) && slow->valuedouble >= 0 &&
                       slow->valuedouble <= SB_SLOW_MS_MAX)) ||
            (count && !(cJSON_IsNumber(count) && count->valuedouble >= 0 &&
                        count->valuedouble <= 1000000 &&
                        count->valuedouble == (int)count->valuedouble));
  if (bad) {
    cJSON_Delete(o);
    return answer_error(c, MHD_HTTP_BAD_REQUEST, "bad_mode",
                        "expected {\"mode\":\"ok\"|\"down\"|\"503\"|\"slow\"|"
                        "\"drop\"|\"429\",\"slow_ms\":0-60000,"
                        "\"count\":0-1000000}");
  }
  pthread_mutex_lock(&sb->lock);
  sb->mode = m;
  if (slow)
    sb->slow_ms = (int)slow->valuedouble;
  sb->fault_count = count ? (int)count->valuedouble : 0;
  int slow_ms = sb->slow_ms, left = sb->fault_count;
  pthread_mutex_unlock(&sb->lock);
  cJSON_Delete(o);
  sb_log(sb, "mode %s (slow_ms %d%s%d)", sb_mode_name(m), slow_ms,
         left ? ", requests " : "", left);
  return answer_json(c, MHD_HTTP_OK, mode_json(sb));
}

/* ------------------------------------------------------ network modes */

/* The request line and headers as received, credentials hidden, into
 * `*buf` (NUL-terminated, `*len` bytes). */
typedef struct head_text {
  char *buf;
  size_t len, cap;
} head_text;

static enum MHD_Result add_header(void *cls, enum MHD_ValueKind kind,
                                  const char *key, const char *value) {
  head_text *t = cls;
  (void)kind;
  int secret = strcasecmp(key, "Authorization") == 0 ||
               strcasecmp(key, "x-api-key") == 0;
  const char *v = secret ? "(hidden)" : value ? value : "";
  if (secret && value && strncasecmp(value, "Bearer ", 7) == 0)
    v = "Bearer (hidden)";
  else if (secret && value && strncasecmp(value, "Basic ", 6) == 0)
    v = "Basic (hidden)";
  return sb_append(&t->buf, &t->len, &t->cap, 1024, key, strlen(key)) == 0 &&
                 sb_append(&t->buf, &t->len, &t->cap, 1024, ": ", 2) == 0 &&
                 sb_append(&t->buf, &t->len, &t->cap, 1024, v, strlen(v)) ==
                     0 &&
                 sb_append(&t->buf, &t->len, &t->cap, 1024, "\r\n", 2) == 0
             ? MHD_YES
             : MHD_NO;
}

static void record_request(sb_net *n, struct MHD_Connection *c,
                           const char *method, const char *target,
                           const char *version, const request *rq) {
  head_text t = {0};
  int ok =
      sb_append(&t.buf, &t.len, &t.cap, 1024, method, strlen(method)) == 0 &&
      sb_append(&t.buf, &t.len, &t.cap, 1024, " ", 1) == 0 &&
      sb_append(&t.buf, &t.len, &t.cap, 1024, target, strlen(target)) == 0 &&
      sb_append(&t.buf, &t.len, &t.cap, 1024, " ", 1) == 0 &&
      sb_append(&t.buf, &t.len, &t.cap, 1024, version, strlen(version)) == 0 &&
      sb_append(&t.buf, &t.len, &t.cap, 1024, "\r\n", 2) == 0;
  if (ok)
    MHD_get_connection_values(c, MHD_HEADER_KIND, add_header, &t);
  if (ok && sb_append(&t.buf, &t.len, &t.cap, 1024, "\r\n", 2) == 0)
    sb_net_record_request(n, t.buf, t.len, rq->body ? rq->body : "", rq->len);
  free(t.buf);
}

/* A fault's answer in the network's own error shape. */
static void net_fault_answer(sandbox *sb, unsigned status, const char *what,
                             sb_net_answer *a) {
  cJSON *o = cJSON_CreateObject();
  if (o && sb->netcfg.network == SB_NET_IMPACT) {
    cJSON_AddStringToObject(o, "Status", "ERROR");
    cJSON_AddStringToObject(o, "Message", what);
  } else if (o) {
    cJSON_AddStringToObject(o, "error",
                            status == 429 ? "too_many_requests"
                                          : "service_unavailable");
    cJSON_AddStringToObject(o, "description", what);
  }
  sb_net_answer_json(a, status, o);
  a->retry_after = 1;
}

/* Any request of a network mode's API, the whole body in: recorded,
 * answered by the network's handler, then the fault applied (slow: the
 * answer waits; drop: no answer). */
static enum MHD_Result net_request(sb_http *h, struct MHD_Connection *c,
                                   const char *url, const char *method,
                                   const char *version, request *rq) {
  sandbox *sb = h->sb;
  const char *target = rq->uri ? rq->uri : url;
  const char *q = strchr(target, '?');
  char *path = strndup(target, q ? (size_t)(q - target) : strlen(target));
  if (!path)
    return MHD_NO;
  record_request(sb->net, c, method, target, version, rq);
  sb_net_answer a = {0};
  if (rq->too_big) {
    net_fault_answer(sb, MHD_HTTP_CONTENT_TOO_LARGE, "the body is over 4 MiB",
                     &a);
    a.retry_after = 0;
  } else {
    sb_net_request nr = {
        .method = method,
        .path = path,
        .query = q ? q + 1 : "",
        .body = rq->body ? rq->body : "",
        .len = rq->len,
        .api_key = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "x-api-key"),
        .authorization = MHD_lookup_connection_value(
            c, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION),
        .content_type = MHD_lookup_connection_value(
            c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE),
        .now_ms = mono_ms(),
        .now = (int64_t)time(NULL)};
    if (sb->netcfg.network == SB_NET_AWIN)
      sb_awin_handle(sb->net, &nr, &a);
    else
      sb_impact_handle(sb->net, &nr, &a);
  }
  free(path);
  if (a.status != MHD_HTTP_OK && a.status != 0)
    sb_log(sb, "%u to %s %s", a.status, method, url);
  if (rq->fault == SB_MODE_DROP) {
    sb_log(sb, "answer dropped (fault mode drop)");
    free(a.body);
    return MHD_NO;
  }
  sb_net_count_answer(sb->net, a.status);
  if (rq->fault == SB_MODE_SLOW && rq->slow_ms > 0 && a.body &&
      suspend_for(h, c, rq, a.status, a.retry_after, a.body, rq->slow_ms) == 0)
    return MHD_YES;
  return answer_retry(c, a.status, "application/json", a.body,
                      a.body ? strlen(a.body) : 0, a.retry_after);
}

/* GET /_admin/last-request: the last request of the network's API as
 * received (credentials hidden); 404 before the first. */
static enum MHD_Result answer_last_request(sandbox *sb,
                                           struct MHD_Connection *c) {
  char *text;
  size_t len;
  if (sb_net_last_request(sb->net, &text, &len) != 0)
    return answer_error(c, MHD_HTTP_NOT_FOUND, "no_request",
                        "no request of the network's API yet");
  return answer(c, MHD_HTTP_OK, "application/octet-stream", text, len);
}

/* ------------------------------------------------------------ dispatch */

/* What the path is, by mode. */
static route route_of(const sandbox *sb, const char *url) {
  if (strcmp(url, "/_admin/mode") == 0)
    return R_ADMIN;
  if (!sb->net)
    return strcmp(url, EVENTS_PATH) == 0 ? R_EVENTS : R_OTHER;
  if (strcmp(url, "/_admin/last-request") == 0)
    return R_NET_LAST;
  return strcmp(url, "/") == 0 || strcmp(url, "/api/orders") == 0 ? R_OTHER
                                                                  : R_NET;
}

/* What is refused as soon as the headers are in: the admin endpoints for
 * a client off loopback (403), a method the route does not take (405), and
 * on the events endpoint or a network's API the fault modes down (no
 * answer), 503 and 429. 1 with the answer in `*ret`, or 0. */
static int refuse_early(sandbox *sb, struct MHD_Connection *c, request *rq,
                        const char *method, enum MHD_Result *ret) {
  route r = rq->route;
  int post = strcmp(method, "POST") == 0;
  int get = strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0;
  if ((r == R_ADMIN || r == R_NET_LAST) && !is_loopback(c)) {
    *ret = answer_error(c, MHD_HTTP_FORBIDDEN, "forbidden",
                        "the admin endpoint is for loopback clients");
    return 1;
  }
  if (r != R_EVENTS && r != R_NET) {
    if (r == R_ADMIN ? post || get : get)
      return 0;
    *ret = answer_error(c, MHD_HTTP_METHOD_NOT_ALLOWED, "method", NULL);
    return 1;
  }
  if (r == R_EVENTS && !post) {
    *ret = answer_error(c, MHD_HTTP_METHOD_NOT_ALLOWED, "method",
                        "POST a batch here");
    return 1;
  }
  take_fault(sb, rq);
  if (rq->fault == SB_MODE_DOWN) {
    *ret = MHD_NO; /* closes the connection without an answer */
    return 1;
  }
  if (rq->fault != SB_MODE_503 && rq->fault != SB_MODE_429)
    return 0;
  unsigned status = rq->fault == SB_MODE_503 ? MHD_HTTP_SERVICE_UNAVAILABLE
                                             : MHD_HTTP_TOO_MANY_REQUESTS;
  sb_log(sb, "%u (fault mode)", status);
  if (r == R_NET) {
    sb_net_answer a = {0};
    net_fault_answer(sb, status,
                     status == 503 ? "fault mode 503" : "fault mode 429", &a);
    sb_net_count_answer(sb->net, a.status);
    *ret = answer_retry(c, a.status, "application/json", a.body,
                        a.body ? strlen(a.body) : 0, a.retry_after);
  } else {
    *ret =
        answer_error(c, status, status == 503 ? "unavailable" : "rate_limited",
                     status == 503 ? "fault mode 503" : "fault mode 429");
  }
  return 1;
}

/* GET / and GET /api/totals (a network mode: GET / and GET /api/orders,
 * its orders as JSON); 404 for any other path. */
static enum MHD_Result answer_page(sandbox *sb, struct MHD_Connection *c,
                                   const char *url) {
  size_t len = 0;
  char *body = NULL;
  if (sb->net) {
    body = sb_net_view_json(sb->net, &len);
    if (body)
      return answer(c, MHD_HTTP_OK, "application/json", body, len);
  } else if (strcmp(url, "/") == 0) {
    body = sb_report_html(sb, &len);
    if (body)
      return answer(c, MHD_HTTP_OK, "text/html; charset=utf-8", body, len);
  } else if (strcmp(url, "/api/totals") == 0) {
    body = sb_report_json(sb, &len);
    if (body)
      return answer(c, MHD_HTTP_OK, "application/json", body, len);
  } else {
    return answer_error(c, MHD_HTTP_NOT_FOUND, "not_found", NULL);
  }
  return answer_error(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "internal", NULL);
}

/* Before the headers are read: the request, with its target as received
 * (libmicrohttpd hands on_request the path only, decoded). */
static void *on_uri(void *cls, const char *uri, struct MHD_Connection *c) {
  (void)cls;
  (void)c;
  request *rq = calloc(1, sizeof(*rq));
  if (rq && uri)
    rq->uri = strdup(uri);
  return rq;
}

/* The headers are in: route, refuse early what we can, answer a page, or
 * make the request collect the body of an events, admin or network
 * request. */
static enum MHD_Result on_headers(sandbox *sb, struct MHD_Connection *c,
                                  const char *url, const char *method,
                                  request *rq) {
  rq->started = 1;
  rq->route = route_of(sb, url);
  enum MHD_Result ret;
  if (refuse_early(sb, c, rq, method, &ret))
    return ret;
  if (rq->route == R_OTHER)
    return answer_page(sb, c, url);
  if (rq->route == R_NET_LAST)
    return answer_last_request(sb, c);
  const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
                                               MHD_HTTP_HEADER_CONTENT_LENGTH);
  size_t max = rq->route == R_ADMIN ? ADMIN_BODY_MAX : BODY_MAX;
  unsigned long long declared = cl ? strtoull(cl, NULL, 10) : 0;
  /* A body a little too big is read and dropped, so that the client,
   * still sending, gets the 413; a huge one is answered at once. */
  if (declared > DISCARD_MAX)
    return answer_error(c, MHD_HTTP_CONTENT_TOO_LARGE, "too_large",
                        "the body is over 4 MiB");
  rq->max = max;
  rq->too_big = declared > max;
  if (rq->route == R_EVENTS &&
      !can_verify(sb,
                  MHD_lookup_connection_value(c, MHD_HEADER_KIND,
                                              CASHBACK_SIGNATURE_HEADER),
                  (int64_t)time(NULL), &rq->sig_st))
    rq->cannot_verify = 1; /* answered 401 at the end */
  return MHD_YES;
}

/* A piece of the body: kept up to the request's max; past it, or when no
 * key can verify the request, read and dropped (up to DISCARD_MAX, then
 * the connection is closed). */
static enum MHD_Result on_body_piece(request *rq, const char *data, size_t n) {
  if (rq->cannot_verify) { /* never kept: it cannot verify */
    rq->dropped += n;
    return rq->dropped <= DISCARD_MAX ? MHD_YES : MHD_NO;
  }
  if (rq->too_big || rq->len + n > rq->max) {
    rq->too_big = 1; /* read and dropped; answered 413 at the end */
    rq->dropped += n;
    return rq->dropped + rq->len <= DISCARD_MAX ? MHD_YES : MHD_NO;
  }
  return sb_append(&rq->body, &rq->len, &rq->cap, 16384, data, n) == 0 ? MHD_YES
                                                                       : MHD_NO;
}

/* libmicrohttpd's request callback: first with the headers, then once per
 * piece of the body, then once with none left; again after a slow-mode
 * wait. */
static enum MHD_Result on_request(void *cls, struct MHD_Connection *c,
                                  const char *url, const char *method,
                                  const char *version, const char *data,
                                  size_t *data_size, void **ctx) {
  sb_http *h = cls;
  request *rq = *ctx;
  if (rq && rq->pending) { /* resumed after a slow-mode wait */
    char *body = rq->pending;
    rq->pending = NULL;
    return answer_retry(c, rq->pending_status, "application/json", body,
                        strlen(body), rq->pending_retry);
  }
  if (!rq) { /* on_uri was out of memory */
    if (!(rq = on_uri(h, NULL, c)))
      return MHD_NO;
    *ctx = rq;
  }
  if (!rq->started)
    return on_headers(h->sb, c, url, method, rq);
  if (*data_size) {
    size_t n = *data_size;
    *data_size = 0;
    return on_body_piece(rq, data, n);
  }
  if (rq->route == R_EVENTS)
    return post_events(h, c, rq);
  if (rq->route == R_NET)
    return net_request(h, c, url, method, version, rq);
  return admin_mode(h->sb, c, method, rq);
}

/* A request is over: the connection's next request has a full request
 * timeout from now. */
static void on_done(void *cls, struct MHD_Connection *c, void **ctx,
                    enum MHD_RequestTerminationCode toe) {
  sb_http *h = cls;
  (void)toe;
  request *rq = *ctx;
  if (rq) {
    if (rq->suspended) {
      pthread_mutex_lock(&h->mu);
      h->n_suspended--;
      pthread_cond_broadcast(&h->cv);
      pthread_mutex_unlock(&h->mu);
    }
    free(rq->body);
    free(rq->pending);
    free(rq->uri);
    free(rq);
    *ctx = NULL;
  }
  const union MHD_ConnectionInfo *ci =
      MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
  conn *k = ci ? ci->socket_context : NULL;
  if (k) {
    pthread_mutex_lock(&h->mu);
    k->deadline_ms = mono_ms() + h->timeout_ms;
    pthread_mutex_unlock(&h->mu);
  }
}

/* Connections come and go: listed for the sweeper. */
static void on_connection(void *cls, struct MHD_Connection *c, void **socket,
                          enum MHD_ConnectionNotificationCode toe) {
  sb_http *h = cls;
  if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
    conn *k = ci ? calloc(1, sizeof(*k)) : NULL;
    if (!k)
      return; /* not watched: libmicrohttpd's idle timeout still applies */
    k->c = c;
    k->fd = ci->connect_fd;
    pthread_mutex_lock(&h->mu);
    k->deadline_ms = mono_ms() + h->timeout_ms;
    k->next = h->conns;
    if (h->conns)
      h->conns->prev = k;
    h->conns = k;
    h->n_conns++;
    pthread_mutex_unlock(&h->mu);
    *socket = k;
  } else if (toe == MHD_CONNECTION_NOTIFY_CLOSED && *socket) {
    conn *k = *socket;
    pthread_mutex_lock(&h->mu);
    if (k->prev)
      k->prev->next = k->next;
    else
      h->conns = k->next;
    if (k->next)
      k->next->prev = k->prev;
    h->n_conns--;
    pthread_mutex_unlock(&h->mu);
    free(k);
    *socket = NULL;
  }
}

/* Once a second: shuts down every connection whose request is past its
 * deadline. libmicrohttpd then sees the socket fail and closes it. */
static void *sweeper_main(void *arg) {
  sb_http *h = arg;
  pthread_mutex_lock(&h->mu);
  while (!h->stop) {
    struct timespec until;
    abs_time(mono_ms() + 1000, &until);
    pthread_cond_timedwait(&h->cv, &h->mu, &until);
    int64_t now = mono_ms();
    size_t shut = 0;
    for (conn *k = h->conns; k && !h->stop; k = k->next)
      if (!k->shut && now > k->deadline_ms) {
        k->shut = 1;
        shutdown(k->fd, SHUT_RDWR);
        shut++;
      }
    if (shut) {
      pthread_mutex_unlock(&h->mu);
      sb_log(h->sb,
             "closed %zu connection(s) whose request took over %lld s "
             "(--request-timeout)",
             shut, (long long)(h->timeout_ms / 1000));
      pthread_mutex_lock(&h->mu);
    }
  }
  pthread_mutex_unlock(&h->mu);
  return NULL;
}

/* Resumes the slow-mode connections that are due; all of them once the
 * sandbox stops (libmicrohttpd must not stop with one suspended). */
static void *waker_main(void *arg) {
  sb_http *h = arg;
  pthread_mutex_lock(&h->mu);
  for (;;) {
    int64_t now = mono_ms(), next = now + 1000;
    wake *due = NULL;
    for (wake **p = &h->waits; *p;) {
      wake *w = *p;
      if (w->ready && (h->stop || w->due_ms <= now)) {
        *p = w->next;
        w->next = due;
        due = w;
      } else {
        if (w->due_ms < next)
          next = w->due_ms;
        p = &w->next;
      }
    }
    if (due) {
      pthread_mutex_unlock(&h->mu);
      while (due) {
        wake *w = due;
        due = w->next;
        MHD_resume_connection(w->c);
        free(w);
      }
      pthread_mutex_lock(&h->mu);
      continue;
    }
    if (h->stop && !h->waits)
      break;
    if (h->stop) /* one is being suspended: ready in a moment */
      next = now + 10;
    struct timespec until;
    abs_time(next, &until);
    pthread_cond_timedwait(&h->cv, &h->mu, &until);
  }
  pthread_mutex_unlock(&h->mu);
  return NULL;
}

static void on_mhd_log(void *cls, const char *fmt, va_list ap) {
  char buf[512];
  vsnprintf(buf, sizeof(buf), fmt, ap);
  size_t n = strlen(buf);
  while (n && buf[n - 1] == '\n')
    buf[--n] = '\0';
  sb_log(cls, "http: %s", buf);
}

/* How many connections at once: far more than a load test's, within the
 * file descriptors the process may open (the soft limit is raised to the
 * hard one). */
static unsigned connection_limit(void) {
  struct rlimit rl;
  if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
    return 256;
  if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < rl.rlim_max) {
    struct rlimit up = rl;
    up.rlim_cur = rl.rlim_max == RLIM_INFINITY || rl.rlim_max > 65536
                      ? 65536
                      : rl.rlim_max;
    if (up.rlim_cur > rl.rlim_cur && setrlimit(RLIMIT_NOFILE, &up) == 0)
      rl = up;
  }
  rlim_t fds = rl.rlim_cur == RLIM_INFINITY ? 65536 : rl.rlim_cur;
  if (fds <= 128)
    return 32;
  fds -= 64; /* the database, the log, the listener, threads' pipes */
  return fds > SB_CONNECTIONS_MAX ? SB_CONNECTIONS_MAX : (unsigned)fds;
}

/* "HOST:PORT", "[V6]:PORT"; HOST a name or a numeric address. */
sb_http *sb_http_start(sandbox *sb, const char *listen, unsigned *port,
                       char *err, size_t size) {
  char host[256];
  const char *colon = strrchr(listen, ':');
  const char *hp = listen;
  size_t hlen = colon ? (size_t)(colon - listen) : 0;
  if (hlen >= 2 && listen[0] == '[' && listen[hlen - 1] == ']') {
    hp++;
    hlen -= 2;
  }
  char *end = NULL;
  unsigned long p = colon ? strtoul(colon + 1, &end, 10) : 0;
  if (!colon || hlen == 0 || hlen >= sizeof(host) || !colon[1] || *end ||
      p > 65535) {
    snprintf(err, size, "expected HOST:PORT, e.g. 127.0.0.1:8787");
    return NULL;
  }
  memcpy(host, hp, hlen);
  host[hlen] = '\0';
  struct addrinfo hints, *ai = NULL;
  memset(&hints, 0, sizeof(hints));
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICSERV | AI_PASSIVE;
  int rc = getaddrinfo(host, colon + 1, &hints, &ai);
  if (rc != 0) {
    snprintf(err, size, "%s", gai_strerror(rc));
    return NULL;
  }
  sb_http *h = calloc(1, sizeof(*h));
  if (!h) {
    freeaddrinfo(ai);
    snprintf(err, size, "out of memory");
    return NULL;
  }
  h->sb = sb;
  h->timeout_ms = (int64_t)sb->request_timeout * 1000;
  pthread_mutex_init(&h->mu, NULL);
  pthread_condattr_t ca;
  pthread_condattr_init(&ca);
  pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
  pthread_cond_init(&h->cv, &ca);
  pthread_condattr_destroy(&ca);
  unsigned limit = connection_limit();
  unsigned flags = MHD_USE_AUTO_INTERNAL_THREAD | MHD_ALLOW_SUSPEND_RESUME |
                   MHD_USE_ERROR_LOG;
  if (ai->ai_family == AF_INET6)
    flags |= MHD_USE_IPv6;
  h->d = MHD_start_daemon(
      flags, 0, NULL, NULL, on_request, h, MHD_OPTION_EXTERNAL_LOGGER,
      on_mhd_log, sb, MHD_OPTION_SOCK_ADDR, ai->ai_addr,
      MHD_OPTION_URI_LOG_CALLBACK, on_uri, h, MHD_OPTION_NOTIFY_COMPLETED,
      on_done, h, MHD_OPTION_NOTIFY_CONNECTION, on_connection, h,
      MHD_OPTION_THREAD_POOL_SIZE, (unsigned)SB_HTTP_THREADS,
      MHD_OPTION_CONNECTION_LIMIT, limit, MHD_OPTION_CONNECTION_TIMEOUT,
      (unsigned)sb->request_timeout, MHD_OPTION_END);
  freeaddrinfo(ai);
  if (!h->d) {
    snprintf(err, size, "cannot listen (address in use or not available)");
    sb_http_stop(h);
    return NULL;
  }
  const union MHD_DaemonInfo *di =
      MHD_get_daemon_info(h->d, MHD_DAEMON_INFO_LISTEN_FD);
  struct sockaddr_storage ss;
  socklen_t sl = sizeof(ss);
  if (!di || getsockname(di->listen_fd, (struct sockaddr *)&ss, &sl) != 0) {
    snprintf(err, size, "cannot read the listening port");
    sb_http_stop(h);
    return NULL;
  }
  *port =
      ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
                                     : ((struct sockaddr_in *)&ss)->sin_port);
  if ((rc = pthread_create(&h->sweeper, NULL, sweeper_main, h)) == 0)
    h->have_sweeper = 1;
  if (rc == 0 && (rc = pthread_create(&h->waker, NULL, waker_main, h)) == 0)
    h->have_waker = 1;
  if (rc != 0) {
    snprintf(err, size, "cannot start a thread: %s", strerror(rc));
    sb_http_stop(h);
    return NULL;
  }
  sb_log(sb, "at most %u connections, %d threads, request timeout %d s", limit,
         SB_HTTP_THREADS, sb->request_timeout);
  return h;
}

void sb_http_stop(sb_http *h) {
  if (!h)
    return;
  pthread_mutex_lock(&h->mu);
  h->stop = 1;
  pthread_cond_broadcast(&h->cv);
  pthread_mutex_unlock(&h->mu);
  if (h->have_waker) /* resumes every suspended connection first */
    pthread_join(h->waker, NULL);
  /* Lets the resumed slow-mode answers go out (at most 2 s): their events
   * are recorded, and a client that hears the answer need not resend. */
  pthread_mutex_lock(&h->mu);
  int64_t until_ms = mono_ms() + 2000;
  while (h->n_suspended && mono_ms() < until_ms) {
    struct timespec until;
    abs_time(until_ms, &until);
    pthread_cond_timedwait(&h->cv, &h->mu, &until);
  }
  pthread_mutex_unlock(&h->mu);
  if (h->have_sweeper)
    pthread_join(h->sweeper, NULL);
  if (h->d)
    MHD_stop_daemon(h->d);
  for (wake *w = h->waits; w;) { /* none once the waker ran */
    wake *next = w->next;
    free(w);
    w = next;
  }
  pthread_cond_destroy(&h->cv);
  pthread_mutex_destroy(&h->mu);
  free(h);
}
