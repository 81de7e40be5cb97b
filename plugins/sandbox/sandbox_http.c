/*
 * The sandbox's HTTP side (libmicrohttpd, one thread per connection):
 *   POST /cashback/v1/events   a batch: verify, parse, record, answer
 *   GET  /                     the conversions page
 *   GET  /api/totals           the same as JSON
 *   GET|POST /_admin/mode      the fault mode (loopback clients only)
 * The fault modes apply to the events endpoint only, so that the page and
 * the admin endpoint keep working while "the network" is down.
 */
#include "sandbox.h"

#include <cjson/cJSON.h>
#include <microhttpd.h>

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#define EVENTS_PATH "/cashback/v1/events"
#define BODY_MAX (4u * 1024 * 1024)
#define ADMIN_BODY_MAX 4096
#define DISCARD_MAX (64u * 1024 * 1024)

typedef enum route { R_EVENTS, R_ADMIN, R_OTHER } route;

typedef struct request {
  route route;
  char *body;
  size_t len, cap, max;
  size_t dropped; /* bytes read past `max` */
  int too_big;
} request;

/* ------------------------------------------------------------- answers */

static enum MHD_Result answer(struct MHD_Connection *c, unsigned status,
                              const char *type, char *body, size_t len) {
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
  if (status == MHD_HTTP_SERVICE_UNAVAILABLE)
    MHD_add_response_header(r, MHD_HTTP_HEADER_RETRY_AFTER, "1");
  enum MHD_Result ret = MHD_queue_response(c, status, r);
  MHD_destroy_response(r);
  return ret;
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

static void current_mode(sandbox *sb, sb_mode *mode, int *slow_ms) {
  pthread_mutex_lock(&sb->lock);
  *mode = sb->mode;
  *slow_ms = sb->slow_ms;
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

static enum MHD_Result post_events(sandbox *sb, struct MHD_Connection *c,
                                   request *rq) {
  char remote[64];
  remote_of(c, remote, sizeof(remote));
  if (rq->too_big) {
    sb_log(sb, "413 from %s: body over %u bytes", remote, BODY_MAX);
    return answer_error(c, MHD_HTTP_CONTENT_TOO_LARGE, "too_large",
                        "the body is over 4 MiB");
  }
  char detail[CASHBACK_ERROR_MAX + 1];
  cashback_batch *b = NULL;
  cashback_status st = cashback_batch_parse(rq->body ? rq->body : "", rq->len,
                                            CASHBACK_BATCH_CHECK_IDS, &b,
                                            detail, sizeof(detail));
  if (st == CASHBACK_E_TOO_BIG) {
    sb_log(sb, "413 from %s: %s", remote, detail);
    return answer_error(c, MHD_HTTP_CONTENT_TOO_LARGE, "too_large", detail);
  }
  if (st != CASHBACK_OK) {
    sb_log(sb, "400 from %s: %s", remote,
           st == CASHBACK_E_PROTOCOL ? detail : cashback_strerror(st));
    if (st != CASHBACK_E_PROTOCOL)
      return answer_error(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "internal",
                          cashback_strerror(st));
    return answer_error(c, MHD_HTTP_BAD_REQUEST, "malformed_body", detail);
  }
  const char *merchant = cashback_batch_merchant_id(b);
  const sb_merchant *m = sb_find_merchant(sb, merchant);
  if (!m) {
    sb_log(sb, "403 from %s: unknown merchant %s", remote, merchant);
    cashback_batch_free(b);
    return answer_error(c, MHD_HTTP_FORBIDDEN, "unknown_merchant",
                        "no such merchant");
  }
  const char *sig = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
                                                CASHBACK_SIGNATURE_HEADER);
  int64_t now = (int64_t)time(NULL);
  char key_id[CASHBACK_ID_MAX + 1] = "";
  st = sig ? cashback_verifier_verify(m->verifier, sig, strlen(sig), rq->body,
                                      rq->len, now, key_id)
           : CASHBACK_E_SIG_MALFORMED;
  if (st == CASHBACK_E_SIG_UNKNOWN_KEY) {
    /* A key of another merchant: the key is good, the merchant is not. */
    for (size_t i = 0; i < sb->n_merchants; i++) {
      char other[CASHBACK_ID_MAX + 1];
      if (&sb->merchants[i] != m &&
          cashback_verifier_verify(sb->merchants[i].verifier, sig, strlen(sig),
                                   rq->body, rq->len, now,
                                   other) == CASHBACK_OK) {
        sb_log(sb, "403 from %s: merchant %s signed with key %s of %s", remote,
               merchant, other, sb->merchants[i].id);
        cashback_batch_free(b);
        return answer_error(c, MHD_HTTP_FORBIDDEN, "merchant_mismatch",
                            "the key belongs to another merchant");
      }
    }
  }
  if (st != CASHBACK_OK) {
    sb_log(sb, "401 from %s: merchant %s: %s%s", remote, merchant,
           sig_error(st), sig ? "" : " (no Cashback-Signature header)");
    cashback_batch_free(b);
    return answer_error(c, MHD_HTTP_UNAUTHORIZED, sig_error(st),
                        sig ? cashback_strerror(st)
                            : "no Cashback-Signature header");
  }

  size_t n = cashback_batch_count(b);
  sb_result *results = calloc(n, sizeof(*results));
  char err[256];
  if (!results ||
      sb_store_batch(sb->store, b, key_id, remote, rq->body, rq->len, now,
                     results, err, sizeof(err)) != 0) {
    sb_log(sb, "500 from %s: merchant %s: %s", remote, merchant,
           results ? err : "out of memory");
    free(results);
    cashback_batch_free(b);
    return answer_error(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "storage",
                        "the events were not recorded; send them again");
  }
  cJSON *root = cJSON_CreateObject();
  cJSON *list = root ? cJSON_AddArrayToObject(root, "results") : NULL;
  int ok = list != NULL;
  for (size_t i = 0; i < n; i++) {
    cashback_received_event e;
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
  free(results);
  cashback_batch_free(b);
  if (!ok) {
    cJSON_Delete(root);
    root = NULL;
  }
  sb_mode mode;
  int slow_ms;
  current_mode(sb, &mode, &slow_ms);
  if (mode == SB_MODE_SLOW)
    sb_sleep(sb, slow_ms); /* recorded already: a retry sees "duplicate" */
  return answer_json(c, MHD_HTTP_OK, root);
}

/* --------------------------------------------------------------- admin */

static cJSON *mode_json(sandbox *sb) {
  sb_mode mode;
  int slow_ms;
  current_mode(sb, &mode, &slow_ms);
  cJSON *o = cJSON_CreateObject();
  if (o && (!cJSON_AddStringToObject(o, "mode", sb_mode_name(mode)) ||
            !cJSON_AddNumberToObject(o, "slow_ms", slow_ms))) {
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
  sb_mode m;
  int bad = !cJSON_IsObject(o) || !cJSON_IsString(mode) ||
            sb_mode_parse(mode->valuestring, &m) != 0 ||
            (slow && !(cJSON_IsNumber(slow) && slow->valuedouble >= 0 &&
                       slow->valuedouble <= SB_SLOW_MS_MAX));
  if (bad) {
    cJSON_Delete(o);
    return answer_error(c, MHD_HTTP_BAD_REQUEST, "bad_mode",
                        "expected {\"mode\":\"ok\"|\"down\"|\"503\"|\"slow\","
                        "\"slow_ms\":0-60000}");
  }
  pthread_mutex_lock(&sb->lock);
  sb->mode = m;
  if (slow)
    sb->slow_ms = (int)slow->valuedouble;
  int slow_ms = sb->slow_ms;
  pthread_mutex_unlock(&sb->lock);
  cJSON_Delete(o);
  sb_log(sb, "mode %s (slow_ms %d)", sb_mode_name(m), slow_ms);
  return answer_json(c, MHD_HTTP_OK, mode_json(sb));
}

/* ------------------------------------------------------------ dispatch */

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c,
                                  const char *url, const char *method,
                                  const char *version, const char *data,
                                  size_t *data_size, void **ctx) {
  sandbox *sb = cls;
  request *rq = *ctx;
  (void)version;
  if (!rq) { /* headers are in: route, and refuse early what we can */
    route r = strcmp(url, EVENTS_PATH) == 0      ? R_EVENTS
              : strcmp(url, "/_admin/mode") == 0 ? R_ADMIN
                                                 : R_OTHER;
    int post = strcmp(method, "POST") == 0;
    int get = strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0;
    if (r == R_ADMIN && !is_loopback(c))
      return answer_error(c, MHD_HTTP_FORBIDDEN, "forbidden",
                          "the admin endpoint is for loopback clients");
    if (r == R_EVENTS) {
      if (!post)
        return answer_error(c, MHD_HTTP_METHOD_NOT_ALLOWED, "method",
                            "POST a batch here");
      sb_mode mode;
      int slow_ms;
      current_mode(sb, &mode, &slow_ms);
      if (mode == SB_MODE_DOWN)
        return MHD_NO; /* closes the connection without an answer */
      if (mode == SB_MODE_503) {
        sb_log(sb, "503 (fault mode)");
        return answer_error(c, MHD_HTTP_SERVICE_UNAVAILABLE, "unavailable",
                            "fault mode 503");
      }
    } else if (r == R_ADMIN ? !(post || get) : !get) {
      return answer_error(c, MHD_HTTP_METHOD_NOT_ALLOWED, "method", NULL);
    }
    if (r == R_OTHER) {
      size_t len = 0;
      char *body = NULL;
      if (strcmp(url, "/") == 0) {
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
    const char *cl = MHD_lookup_connection_value(
        c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
    size_t max = r == R_EVENTS ? BODY_MAX : ADMIN_BODY_MAX;
    unsigned long long declared = cl ? strtoull(cl, NULL, 10) : 0;
    /* A body a little too big is read and dropped, so that the client,
     * still sending, gets the 413; a huge one is answered at once. */
    if (declared > DISCARD_MAX)
      return answer_error(c, MHD_HTTP_CONTENT_TOO_LARGE, "too_large",
                          "the body is over 4 MiB");
    rq = calloc(1, sizeof(*rq));
    if (!rq)
      return MHD_NO;
    rq->route = r;
    rq->max = max;
    rq->too_big = declared > max;
    *ctx = rq;
    return MHD_YES;
  }
  if (*data_size) { /* a piece of the body */
    size_t n = *data_size;
    *data_size = 0;
    if (rq->too_big || rq->len + n > rq->max) {
      rq->too_big = 1; /* read and dropped; answered 413 at the end */
      rq->dropped += n;
      return rq->dropped + rq->len <= DISCARD_MAX ? MHD_YES : MHD_NO;
    }
    if (rq->len + n + 1 > rq->cap) {
      size_t cap = rq->cap ? rq->cap : 16384;
      while (cap < rq->len + n + 1)
        cap *= 2;
      char *p = realloc(rq->body, cap);
      if (!p)
        return MHD_NO;
      rq->body = p;
      rq->cap = cap;
    }
    memcpy(rq->body + rq->len, data, n);
    rq->len += n;
    rq->body[rq->len] = '\0';
    return MHD_YES;
  }
  if (rq->route == R_EVENTS)
    return post_events(sb, c, rq);
  return admin_mode(sb, c, method, rq);
}

static void on_done(void *cls, struct MHD_Connection *c, void **ctx,
                    enum MHD_RequestTerminationCode toe) {
  (void)cls;
  (void)c;
  (void)toe;
  request *rq = *ctx;
  if (rq) {
    free(rq->body);
    free(rq);
    *ctx = NULL;
  }
}

static void on_mhd_log(void *cls, const char *fmt, va_list ap) {
  char buf[512];
  vsnprintf(buf, sizeof(buf), fmt, ap);
  size_t n = strlen(buf);
  while (n && buf[n - 1] == '\n')
    buf[--n] = '\0';
  sb_log(cls, "http: %s", buf);
}

/* "HOST:PORT", "[V6]:PORT"; HOST a name or a numeric address. */
struct MHD_Daemon *sb_http_start(sandbox *sb, const char *listen,
                                 unsigned *port, char *err, size_t size) {
  char host[256];
  const char *colon = strrchr(listen, ':');
  const char *h = listen;
  size_t hlen = colon ? (size_t)(colon - listen) : 0;
  if (hlen >= 2 && listen[0] == '[' && listen[hlen - 1] == ']') {
    h++;
    hlen -= 2;
  }
  char *end = NULL;
  unsigned long p = colon ? strtoul(colon + 1, &end, 10) : 0;
  if (!colon || hlen == 0 || hlen >= sizeof(host) || !colon[1] || *end ||
      p > 65535) {
    snprintf(err, size, "expected HOST:PORT, e.g. 127.0.0.1:8787");
    return NULL;
  }
  memcpy(host, h, hlen);
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
  unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD |
                   MHD_USE_THREAD_PER_CONNECTION | MHD_USE_POLL |
                   MHD_USE_ERROR_LOG;
  if (ai->ai_family == AF_INET6)
    flags |= MHD_USE_IPv6;
  struct MHD_Daemon *d = MHD_start_daemon(
      flags, 0, NULL, NULL, on_request, sb, MHD_OPTION_EXTERNAL_LOGGER,
      on_mhd_log, sb, MHD_OPTION_SOCK_ADDR, ai->ai_addr,
      MHD_OPTION_NOTIFY_COMPLETED, on_done, sb, MHD_OPTION_CONNECTION_LIMIT,
      (unsigned)64, MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)30,
      MHD_OPTION_END);
  freeaddrinfo(ai);
  if (!d) {
    snprintf(err, size, "cannot listen (address in use or not available)");
    return NULL;
  }
  const union MHD_DaemonInfo *di =
      MHD_get_daemon_info(d, MHD_DAEMON_INFO_LISTEN_FD);
  struct sockaddr_storage ss;
  socklen_t sl = sizeof(ss);
  if (!di || getsockname(di->listen_fd, (struct sockaddr *)&ss, &sl) != 0) {
    MHD_stop_daemon(d);
    snprintf(err, size, "cannot read the listening port");
    return NULL;
  }
  *port =
      ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
                                     : ((struct sockaddr_in *)&ss)->sin_port);
  return d;
}
