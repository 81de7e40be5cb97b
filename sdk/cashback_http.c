/*
 * HTTP transport over libcurl: the only file that knows libcurl. One easy
 * handle per cashback__http, reused so that libcurl keeps the connection
 * alive between batches. TLS verification is always on; only http and https
 * are spoken, redirects are never followed; a URL is checked by
 * cashback__url_allowed() (cashback_url.h) before each request.
 */
#include "cashback_http.h"
#include "cashback_ascii.h"
#include "cashback_time.h"
#include "cashback_url.h"

#include <curl/curl.h>

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <time.h>

struct cashback__http {
  CURL *easy;
  char *user_agent;
  char *ca_file;
  int allow_insecure;
  int nomem;                 /* the write callback ran out of memory */
  long connect_ms, total_ms; /* the configured timeouts */
  int64_t deadline;          /* of the call in progress (monotonic ms), 0 */
  int stopped;               /* the progress callback ended the transfer */
  _Atomic int64_t abort_at;  /* cashback__http_abort_at(), 0: none */
  char errbuf[CURL_ERROR_SIZE];
};

/*
 * curl_global_init() is the one process-wide state libcashback touches, and
 * it is libcurl's, not ours: it is run once, on the first
 * cashback__http_new(), through pthread_once. libcurl >= 7.84 makes the call
 * itself thread-safe, so another library in the process calling it too is
 * harmless. curl_global_cleanup() is never called: others may still use
 * libcurl.
 */
static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_result = CURLE_FAILED_INIT;

static void curl_init_once(void) {
  curl_init_result = curl_global_init(CURL_GLOBAL_DEFAULT);
}

/* ------------------------------------------------------------------------
 * Responses
 * --------------------------------------------------------------------- */

void cashback__http_response_init(cashback__http_response *r) {
  if (!r)
    return;
  memset(r, 0, sizeof(*r));
  cashback__buf_init(&r->body, CASHBACK__RESPONSE_MAX);
}

void cashback__http_response_free(cashback__http_response *r) {
  if (!r)
    return;
  cashback__buf_free(&r->body);
  cashback__http_response_init(r);
}

/* Empties `r` for a new request, keeping the body's memory. */
static void response_reset(cashback__http_response *r) {
  r->status = 0;
  r->transport_error = 0;
  r->timed_out = 0;
  r->tls_error = 0;
  r->too_big = 0;
  r->deadline_cut = 0;
  r->retry_after[0] = '\0';
  r->date[0] = '\0';
  r->error[0] = '\0';
  cashback__buf_reset(&r->body);
}

/* When the header line `p` (`n` bytes, CR LF included) is `name: value`,
 * copies the trimmed value into `out`. A value too long for `out` or with
 * a control character is dropped ("" ), never cut. */
static void capture_header(const char *p, size_t n, const char *name, char *out,
                           size_t size) {
  size_t k = strlen(name);
  if (n <= k || p[k] != ':' || !cashback__ascii_iprefix(p, n, name))
    return;
  const char *v = p + k + 1;
  size_t vlen = n - k - 1;
  cashback__ascii_trim(&v, &vlen, " \t\r\n");
  out[0] = '\0';
  if (vlen >= size)
    return;
  for (size_t i = 0; i < vlen; i++)
    if ((unsigned char)v[i] < 0x20 && v[i] != '\t')
      return;
  memcpy(out, v, vlen);
  out[vlen] = '\0';
}

static size_t on_header(char *p, size_t size, size_t nitems, void *ud) {
  cashback__http_response *r = ud;
  size_t n = size * nitems;
  /* A status line starts a new response (after a 1xx): forget the old. */
  if (n >= 5 && memcmp(p, "HTTP/", 5) == 0) {
    r->retry_after[0] = '\0';
    r->date[0] = '\0';
  }
  capture_header(p, n, "retry-after", r->retry_after, sizeof(r->retry_after));
  capture_header(p, n, "date", r->date, sizeof(r->date));
  return n;
}

typedef struct write_ctx {
  cashback__http *h;
  cashback__http_response *r;
} write_ctx;

/* Keeps the body up to CASHBACK__RESPONSE_MAX bytes. A body that would pass
 * it is not an answer: a short count makes curl abort the transfer at once
 * (CURLE_WRITE_ERROR) instead of reading on until the timeout. */
static size_t on_body(char *p, size_t size, size_t nmemb, void *ud) {
  write_ctx *w = ud;
  size_t n = size * nmemb;
  if (n > w->r->body.max - w->r->body.len) {
    w->r->too_big = 1;
    return 0;
  }
  if (n && cashback__buf_add(&w->r->body, p, n) != CASHBACK_OK) {
    w->h->nomem = 1;
    return 0; /* makes curl stop with CURLE_WRITE_ERROR */
  }
  return n;
}

/* Ends a transfer at the call's deadline or at the time another thread set
 * with cashback__http_abort_at() (libcurl calls this at least once a
 * second, more often while data moves). */
static int on_progress(void *ud, curl_off_t dltotal, curl_off_t dlnow,
                       curl_off_t ultotal, curl_off_t ulnow) {
  (void)dltotal;
  (void)dlnow;
  (void)ultotal;
  (void)ulnow;
  cashback__http *h = ud;
  int64_t at = atomic_load(&h->abort_at);
  if (h->deadline > 0 && (at <= 0 || h->deadline < at))
    at = h->deadline;
  if (at > 0 && cashback__mono_ms() >= at) {
    h->stopped = 1;
    return 1; /* CURLE_ABORTED_BY_CALLBACK */
  }
  return 0;
}

/* ------------------------------------------------------------------------
 * The handle
 * --------------------------------------------------------------------- */

#define SET(opt, val)                                                          \
  do {                                                                         \
    if (ok && curl_easy_setopt(h->easy, opt, val) != CURLE_OK)                 \
      ok = 0;                                                                  \
  } while (0)

cashback_status cashback__http_new(const cashback__http_config *cfg,
                                   cashback__http **out) {
  if (!out)
    return CASHBACK_E_INVALID_ARGUMENT;
  *out = NULL;
  if (!cfg)
    return CASHBACK_E_INVALID_ARGUMENT;
  if (pthread_once(&curl_once, curl_init_once) != 0 ||
      curl_init_result != CURLE_OK)
    return CASHBACK_E_INTERNAL;
  cashback__http *h = calloc(1, sizeof(*h));
  if (!h)
    return CASHBACK_E_NOMEM;
  h->allow_insecure = cfg->allow_insecure ? 1 : 0;
  h->user_agent = strdup(cfg->user_agent && cfg->user_agent[0]
                             ? cfg->user_agent
                             : "libcashback/" CASHBACK_VERSION);
  h->ca_file = cfg->ca_file ? strdup(cfg->ca_file) : NULL;
  h->easy = curl_easy_init();
  if (!h->user_agent || (cfg->ca_file && !h->ca_file) || !h->easy) {
    cashback__http_free(h);
    return CASHBACK_E_NOMEM;
  }
  long connect_ms =
      cfg->connect_timeout_ms > 0 && cfg->connect_timeout_ms < 86400000
          ? (long)cfg->connect_timeout_ms
          : 10000;
  long total_ms = cfg->total_timeout_ms > 0 && cfg->total_timeout_ms < 86400000
                      ? (long)cfg->total_timeout_ms
                      : 30000;
  h->connect_ms = connect_ms;
  h->total_ms = total_ms;
  atomic_init(&h->abort_at, 0);
  int ok = 1;
  SET(CURLOPT_NOSIGNAL, 1L); /* no SIGALRM: we run in threads */
  SET(CURLOPT_ERRORBUFFER, h->errbuf);
#if LIBCURL_VERSION_NUM >= 0x075500 /* 7.85.0 */
  SET(CURLOPT_PROTOCOLS_STR, "http,https");
  SET(CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
#else
  SET(CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
  SET(CURLOPT_REDIR_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
  SET(CURLOPT_FOLLOWLOCATION, 0L);
  SET(CURLOPT_SSL_VERIFYPEER, 1L);
  SET(CURLOPT_SSL_VERIFYHOST, 2L);
  if (h->ca_file)
    SET(CURLOPT_CAINFO, h->ca_file);
  SET(CURLOPT_TCP_KEEPALIVE, 1L);
  SET(CURLOPT_TCP_KEEPIDLE, 60L);
  SET(CURLOPT_TCP_KEEPINTVL, 30L);
  SET(CURLOPT_CONNECTTIMEOUT_MS, connect_ms);
  SET(CURLOPT_TIMEOUT_MS, total_ms);
  SET(CURLOPT_USERAGENT, h->user_agent);
  SET(CURLOPT_HEADERFUNCTION, on_header);
  SET(CURLOPT_WRITEFUNCTION, on_body);
  SET(CURLOPT_XFERINFOFUNCTION, on_progress);
  SET(CURLOPT_XFERINFODATA, h);
  SET(CURLOPT_NOPROGRESS, 0L);
  SET(CURLOPT_POST, 1L);
  if (!ok) {
    cashback__http_free(h);
    return CASHBACK_E_INTERNAL;
  }
  *out = h;
  return CASHBACK_OK;
}

void cashback__http_free(cashback__http *h) {
  if (!h)
    return;
  if (h->easy)
    curl_easy_cleanup(h->easy);
  free(h->user_agent);
  free(h->ca_file);
  free(h);
}

void cashback__http_abandon(cashback__http *h) {
  if (!h || !h->easy)
    return;
  curl_socket_t sock = CURL_SOCKET_BAD;
  if (curl_easy_getinfo(h->easy, CURLINFO_ACTIVESOCKET, &sock) == CURLE_OK &&
      sock != CURL_SOCKET_BAD)
    close(sock);
}

void cashback__http_abort_at(cashback__http *h, int64_t mono_deadline_ms) {
  if (h)
    atomic_store(&h->abort_at, mono_deadline_ms > 0 ? mono_deadline_ms : 0);
}

cashback_status cashback__http_post(cashback__http *h, const char *url,
                                    const char *signature, const void *body,
                                    size_t len, cashback__http_response *resp) {
  return cashback__http_post_by(h, url, signature, body, len, 0, resp);
}

/* Refuses what cannot be sent: a NULL handle, url, signature or body, an
 * endpoint cashback__url_allowed() refuses, a signature with a control
 * character. The reason goes to `resp->error`. */
static cashback_status post_check_args(const cashback__http *h, const char *url,
                                       const char *signature, const void *body,
                                       size_t len,
                                       cashback__http_response *resp) {
  if (!h || !url || !signature || (!body && len)) {
    snprintf(resp->error, sizeof(resp->error),
             "http: NULL handle, url, signature or body");
    return CASHBACK_E_INVALID_ARGUMENT;
  }
  if (!cashback__url_allowed(url, strlen(url), h->allow_insecure)) {
    snprintf(resp->error, sizeof(resp->error),
             "http: endpoint refused: only https://, or http:// to a "
             "loopback host unless allow_insecure is set");
    return CASHBACK_E_CONFIG;
  }
  for (const char *p = signature; *p; p++)
    if ((unsigned char)*p < 0x20 || *p == 0x7f) {
      snprintf(resp->error, sizeof(resp->error),
               "http: the signature header has a control character");
      return CASHBACK_E_INVALID_ARGUMENT;
    }
  return CASHBACK_OK;
}

/* Builds the request's header list into `*out` (the caller frees it with
 * curl_slist_free_all()): `lines`, then no Expect. */
static cashback_status list_headers(const char *const *lines, size_t n,
                                    struct curl_slist **out,
                                    cashback__http_response *resp) {
  struct curl_slist *headers = NULL, *t;
  cashback_status st = CASHBACK_OK;
  for (size_t i = 0; i <= n; i++) {
    /* no 100-continue round trip */
    t = curl_slist_append(headers, i < n ? lines[i] : "Expect:");
    if (!t) {
      st = CASHBACK_E_NOMEM;
      break;
    }
    headers = t;
  }
  if (st != CASHBACK_OK) {
    curl_slist_free_all(headers);
    snprintf(resp->error, sizeof(resp->error), "http: out of memory");
    return CASHBACK_E_NOMEM;
  }
  *out = headers;
  return CASHBACK_OK;
}

/* The protocol's header list: JSON both ways, the signature, no Expect. */
static cashback_status post_headers(const char *signature,
                                    struct curl_slist **out,
                                    cashback__http_response *resp) {
  cashback__buf line;
  cashback__buf_init(&line, 64 + strlen(signature));
  cashback_status st =
      cashback__buf_addf(&line, CASHBACK_SIGNATURE_HEADER ": %s", signature);
  if (st == CASHBACK_OK) {
    const char *lines[] = {"Content-Type: application/json",
                           "Accept: application/json", line.data};
    st = list_headers(lines, 3, out, resp);
  } else {
    snprintf(resp->error, sizeof(resp->error), "http: out of memory");
  }
  cashback__buf_free(&line); /* curl_slist_append copied it */
  return st;
}

/* The request ends by the caller's deadline (and by any abort time set
 * meanwhile): its timeouts are the configured ones or the time left,
 * whichever is shorter. No time left: CASHBACK_E_NETWORK, nothing sent. */
static cashback_status post_timeouts(cashback__http *h,
                                     int64_t mono_deadline_ms, long *total,
                                     long *connect,
                                     cashback__http_response *resp) {
  *total = h->total_ms;
  *connect = h->connect_ms;
  int64_t at = atomic_load(&h->abort_at);
  int64_t by = mono_deadline_ms > 0 && (at <= 0 || mono_deadline_ms < at)
                   ? mono_deadline_ms
                   : at;
  if (by <= 0)
    return CASHBACK_OK;
  int64_t left = by - cashback__mono_ms();
  if (left < 1) {
    resp->transport_error = 1;
    resp->timed_out = 1;
    resp->deadline_cut = 1;
    snprintf(resp->error, sizeof(resp->error),
             "http: no time left before the deadline; not sent");
    return CASHBACK_E_NETWORK;
  }
  if (left < *total) {
    *total = (long)left;
    resp->deadline_cut = 1;
  }
  if (left < *connect)
    *connect = (long)left;
  return CASHBACK_OK;
}

/* Sets this call's options on the reused handle, runs the transfer (the
 * callbacks read the status line, headers and body into `resp`) and clears
 * the options again. `*ok` is 0 when an option could not be set: then
 * nothing was sent and the result is CURLE_FAILED_INIT. */
static CURLcode post_perform(cashback__http *h, const char *method,
                             const char *url, struct curl_slist *headers,
                             const void *body, size_t len,
                             int64_t mono_deadline_ms, long total, long connect,
                             cashback__http_response *resp, int *ok_out) {
  write_ctx w = {h, resp};
  h->nomem = 0;
  h->stopped = 0;
  h->deadline = mono_deadline_ms > 0 ? mono_deadline_ms : 0;
  h->errbuf[0] = '\0';
  int ok = 1;
  SET(CURLOPT_TIMEOUT_MS, total);
  SET(CURLOPT_CONNECTTIMEOUT_MS, connect);
  SET(CURLOPT_URL, url);
  SET(CURLOPT_HTTPHEADER, headers);
  /* POST is the handle's own; a DELETE without a body is sent as one
   * without Content-Length, PUT as a POST renamed. */
  int bodyless = strcmp(method, "DELETE") == 0 && len == 0;
  if (bodyless)
    SET(CURLOPT_HTTPGET, 1L);
  else {
    SET(CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
    SET(CURLOPT_POSTFIELDS, body ? body : "");
  }
  if (strcmp(method, "POST") != 0)
    SET(CURLOPT_CUSTOMREQUEST, method);
  SET(CURLOPT_HEADERDATA, resp);
  SET(CURLOPT_WRITEDATA, &w);
  CURLcode rc = ok ? curl_easy_perform(h->easy) : CURLE_FAILED_INIT;
  /* Nothing of this call may outlive it inside the reused handle. */
  curl_easy_setopt(h->easy, CURLOPT_HTTPHEADER, NULL);
  curl_easy_setopt(h->easy, CURLOPT_POSTFIELDS, NULL);
  if (strcmp(method, "POST") != 0) {
    curl_easy_setopt(h->easy, CURLOPT_CUSTOMREQUEST, NULL);
    curl_easy_setopt(h->easy, CURLOPT_POST, 1L);
  }
  curl_easy_setopt(h->easy, CURLOPT_HEADERDATA, NULL);
  curl_easy_setopt(h->easy, CURLOPT_WRITEDATA, NULL);
  *ok_out = ok;
  return rc;
}

/* Whether the transfer failed in the TLS handshake or certificate check. */
static int is_tls_error(CURLcode rc) {
  return rc == CURLE_SSL_CONNECT_ERROR ||
         rc == CURLE_PEER_FAILED_VERIFICATION || rc == CURLE_SSL_CERTPROBLEM ||
         rc == CURLE_SSL_CIPHER || rc == CURLE_SSL_CACERT_BADFILE ||
         rc == CURLE_SSL_ISSUER_ERROR || rc == CURLE_SSL_PINNEDPUBKEYNOTMATCH ||
         rc == CURLE_SSL_INVALIDCERTSTATUS || rc == CURLE_SSL_CRL_BADFILE ||
         rc == CURLE_SSL_ENGINE_INITFAILED || rc == CURLE_USE_SSL_FAILED;
}

/* Classifies the transfer's outcome `rc`: an answer (any status), a body
 * over the cap, no memory, a request that could not be set up (`ok` 0),
 * or a transport failure (stopped at the deadline, timed out, TLS, other). */
static cashback_status post_classify(cashback__http *h, CURLcode rc, int ok,
                                     cashback__http_response *resp) {
  if (rc == CURLE_OK) {
    long code = 0;
    curl_easy_getinfo(h->easy, CURLINFO_RESPONSE_CODE, &code);
    resp->status = code;
    return CASHBACK_OK;
  }
  if (resp->too_big) {
    /* Not an answer: the attempt failed and is retried after the backoff.
     * The connection is dropped (curl closes it after a write error). */
    resp->status = 0;
    resp->transport_error = 1;
    snprintf(resp->error, sizeof(resp->error),
             "http: response larger than 1 MiB (%d bytes): transfer aborted",
             CASHBACK__RESPONSE_MAX);
    return CASHBACK_E_NETWORK;
  }
  if (h->nomem) {
    snprintf(resp->error, sizeof(resp->error),
             "http: out of memory for the response body");
    return CASHBACK_E_NOMEM;
  }
  if (!ok) {
    snprintf(resp->error, sizeof(resp->error),
             "http: cannot set up the request");
    return CASHBACK_E_INTERNAL;
  }
  /* A status may have arrived before the failure: it is not an answer. */
  resp->status = 0;
  resp->transport_error = 1;
  resp->timed_out = rc == CURLE_OPERATION_TIMEDOUT || h->stopped;
  if (h->stopped) {
    resp->deadline_cut = 1;
    snprintf(resp->error, sizeof(resp->error),
             "http: stopped at the deadline, no answer yet");
    return CASHBACK_E_NETWORK;
  }
  resp->tls_error = is_tls_error(rc);
  snprintf(resp->error, sizeof(resp->error), "http: %.200s (curl error %d)",
           h->errbuf[0] ? h->errbuf : curl_easy_strerror(rc), (int)rc);
  return CASHBACK_E_NETWORK;
}

/* The transfer of a request whose header list is built: its timeouts, the
 * transfer and its classification. Frees `headers`. */
static cashback_status send_built(cashback__http *h, const char *method,
                                  const char *url, struct curl_slist *headers,
                                  const void *body, size_t len,
                                  int64_t mono_deadline_ms,
                                  cashback__http_response *resp) {
  long total, connect;
  cashback_status st =
      post_timeouts(h, mono_deadline_ms, &total, &connect, resp);
  if (st != CASHBACK_OK) {
    curl_slist_free_all(headers);
    return st;
  }
  int ok;
  CURLcode rc = post_perform(h, method, url, headers, body, len,
                             mono_deadline_ms, total, connect, resp, &ok);
  curl_slist_free_all(headers);
  return post_classify(h, rc, ok, resp);
}

cashback_status cashback__http_post_by(cashback__http *h, const char *url,
                                       const char *signature, const void *body,
                                       size_t len, int64_t mono_deadline_ms,
                                       cashback__http_response *resp) {
  if (!resp)
    return CASHBACK_E_INVALID_ARGUMENT;
  response_reset(resp);
  cashback_status st = post_check_args(h, url, signature, body, len, resp);
  if (st != CASHBACK_OK)
    return st;
  struct curl_slist *headers = NULL;
  st = post_headers(signature, &headers, resp);
  if (st != CASHBACK_OK)
    return st;
  return send_built(h, "POST", url, headers, body, len, mono_deadline_ms, resp);
}

cashback_status cashback__http_send_by(cashback__http *h, const char *method,
                                       const char *url,
                                       const char *const *header_lines,
                                       size_t n_headers, const void *body,
                                       size_t len, int64_t mono_deadline_ms,
                                       cashback__http_response *resp) {
  if (!resp)
    return CASHBACK_E_INVALID_ARGUMENT;
  response_reset(resp);
  if (!method || (strcmp(method, "POST") != 0 && strcmp(method, "PUT") != 0 &&
                  strcmp(method, "DELETE") != 0)) {
    snprintf(resp->error, sizeof(resp->error),
             "http: method must be POST, PUT or DELETE");
    return CASHBACK_E_INVALID_ARGUMENT;
  }
  cashback_status st = post_check_args(h, url, "", body, len, resp);
  for (size_t i = 0; st == CASHBACK_OK && i < n_headers; i++)
    for (const char *p = header_lines[i]; *p; p++)
      if ((unsigned char)*p < 0x20 || *p == 0x7f) {
        /* Never the line itself: it may hold a credential. */
        snprintf(resp->error, sizeof(resp->error),
                 "http: header %zu has a control character", i + 1);
        st = CASHBACK_E_INVALID_ARGUMENT;
        break;
      }
  if (st != CASHBACK_OK)
    return st;
  struct curl_slist *headers = NULL;
  st = list_headers(header_lines, n_headers, &headers, resp);
  if (st != CASHBACK_OK)
    return st;
  return send_built(h, method, url, headers, body, len, mono_deadline_ms, resp);
}
