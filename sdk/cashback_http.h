/* HTTP transport: the only file that knows libcurl. */
#ifndef CASHBACK_HTTP_H
#define CASHBACK_HTTP_H

#include "cashback.h"
#include "cashback_buf.h"

#include <stddef.h>
#include <stdint.h>

#define CASHBACK__RESPONSE_MAX (1024 * 1024) /* longest response body */

/* A keep-alive connection cache (one curl easy handle). Not thread-safe:
 * one sender thread uses it. */
typedef struct cashback__http cashback__http;

typedef struct cashback__http_config {
  int64_t connect_timeout_ms; /* default 10000 */
  int64_t total_timeout_ms;   /* default 30000 */
  int allow_insecure;         /* plain http:// to non-loopback hosts */
  const char *user_agent;     /* "libcashback/<version>" */
  const char *ca_file;        /* NULL: the system's CA store */
} cashback__http_config;

typedef struct cashback__http_response {
  long status;          /* HTTP status; 0 when no response */
  int transport_error;  /* 1: connection failed, reset, timed out */
  int timed_out;        /* 1: the timeout hit */
  int tls_error;        /* 1: the TLS handshake or certificate check failed */
  int deadline_cut;     /* 1: the caller's deadline, not the configured
                           timeout, bounded the request */
  int too_big;          /* 1: the body passed CASHBACK__RESPONSE_MAX; the
                           transfer was aborted there (a transport error) */
  char retry_after[64]; /* the Retry-After header's value, or "" */
  char date[64];        /* the Date header's value, or "" */
  cashback__buf body;   /* capped at CASHBACK__RESPONSE_MAX */
  char error[CASHBACK_ERROR_MAX + 1]; /* transport error text */
} cashback__http_response;

cashback_status cashback__http_new(const cashback__http_config *cfg,
                                   cashback__http **out);
/* In a child made by fork(): closes this process's copy of the socket of
 * the connection kept alive (the parent's connection, which the parent goes
 * on using) and leaves the handle alone: cleaning it up would speak on that
 * connection (a TLS close). The handle is not to be used or freed after. */
void cashback__http_abandon(cashback__http *h);
void cashback__http_free(cashback__http *h);

/* POSTs `body` with Content-Type: application/json and the signature
 * header. Returns CASHBACK_OK when an HTTP response arrived (any status),
 * CASHBACK_E_NETWORK on a transport failure (details in `resp`), which
 * includes a body longer than CASHBACK__RESPONSE_MAX (`resp->too_big`; the
 * transfer stops at the cap). `resp`
 * must be initialised with cashback__http_response_init() and freed with
 * cashback__http_response_free(). */
cashback_status cashback__http_post(cashback__http *h, const char *url,
                                    const char *signature, const void *body,
                                    size_t len, cashback__http_response *resp);

/* The same, ending by `mono_deadline_ms` (CLOCK_MONOTONIC milliseconds; 0:
 * none): the request's timeout is the configured one or the time left,
 * whichever is shorter, and `resp->deadline_cut` says when it was the time
 * left. No time left: CASHBACK_E_NETWORK at once, nothing sent. */
cashback_status cashback__http_post_by(cashback__http *h, const char *url,
                                       const char *signature, const void *body,
                                       size_t len, int64_t mono_deadline_ms,
                                       cashback__http_response *resp);

/* Sends one request a delivery profile built (cashback_profile.h): `method`
 * POST, PUT or DELETE, `url`, the header lines ("Name: value", sent in
 * order, then an empty Expect), and `body` (`len` bytes; a DELETE of none
 * is sent without one). The same checks, deadline and answer as
 * cashback__http_post_by(). A header line is never put in an error. */
cashback_status cashback__http_send_by(cashback__http *h, const char *method,
                                       const char *url,
                                       const char *const *header_lines,
                                       size_t n_headers, const void *body,
                                       size_t len, int64_t mono_deadline_ms,
                                       cashback__http_response *resp);

/* Ends the transfer in progress, and any later one, by `mono_deadline_ms`
 * (0: no such limit any more), within about a second (libcurl's progress
 * callback). The one call that another thread may make on a handle in
 * use. */
void cashback__http_abort_at(cashback__http *h, int64_t mono_deadline_ms);

void cashback__http_response_init(cashback__http_response *r);
void cashback__http_response_free(cashback__http_response *r);

#endif
