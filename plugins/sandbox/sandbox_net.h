/*
 * cashback-sandbox's network modes (--network awin, --network impact):
 * the sandbox answers as Awin's and Impact's APIs do, as
 * /work/notes/networks-spec.md and docs/sandbox.md describe. These files
 * know nothing of libmicrohttpd: sandbox_http.c hands them a request
 * (sb_net_request) and sends the answer they make (sb_net_answer), so that
 * the fuzz targets can drive them directly.
 *
 *   sandbox_decode.c    form bodies and query strings, Basic credentials
 *   sandbox_netstore.c  the orders, the rate window, the last request, the
 *                       view tests read (GET /api/orders)
 *   sandbox_awin.c      Awin's Conversion API and transaction batch API
 *   sandbox_impact.c    Impact's Conversions, APISubmissions and Actions
 */
#ifndef CASHBACK_SANDBOX_NET_H
#define CASHBACK_SANDBOX_NET_H

#include <pthread.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

typedef enum sb_network {
  SB_NET_CASHBACK = 0, /* the libcashback protocol (the default) */
  SB_NET_AWIN = 1,
  SB_NET_IMPACT = 2
} sb_network;

#define SB_NET_ACCOUNT_MAX 64 /* an advertiser id or account SID */
#define SB_NET_SECRET_MAX 256
#define SB_NET_REF_MAX 64 /* Impact's OrderId; Awin's is at most 50 */
#define SB_AWIN_REF_MAX 50
#define SB_AWIN_ORDERS_MAX 1000    /* orders of one Conversion API call */
#define SB_AWIN_ENTRIES_MAX 40000  /* entries of one transaction batch */
#define SB_NET_ORDERS_MAX 200000   /* orders the store keeps */
#define SB_NET_REJECTIONS_KEPT 20  /* recent rejections shown */
#define SB_NET_RATE_CALLS_MAX 1000 /* --rate-limit CALLS */
#define SB_NET_MESSAGE_MAX 256
/* An order time later than this many seconds past the sandbox's clock is
 * rejected ("is in the future"), as a network would. */
#define SB_NET_FUTURE_MAX 3600

/* What the command line configured for a network mode. The secrets are
 * compared, never logged, never shown. */
typedef struct sb_net_config {
  sb_network network;
  char account[SB_NET_ACCOUNT_MAX + 1];  /* advertiser id / account SID */
  char api_key[SB_NET_SECRET_MAX + 1];   /* Awin: x-api-key */
  char api_token[SB_NET_SECRET_MAX + 1]; /* Awin: bearer; Impact: token */
  char campaign[SB_NET_ACCOUNT_MAX + 1]; /* Impact: "" takes any */
  int rate_calls;   /* sale calls allowed per window; 0: no limit */
  int rate_seconds; /* the sliding window */
} sb_net_config;

/* One request, whole. Every pointer is valid for the call only. */
typedef struct sb_net_request {
  const char *method;
  const char *path;  /* without the query */
  const char *query; /* the raw query after '?', "" for none */
  const char *body;
  size_t len;
  const char *api_key;       /* the x-api-key header, or NULL */
  const char *authorization; /* the Authorization header, or NULL */
  const char *content_type;  /* or NULL */
  int64_t now_ms;            /* a monotonic clock, for the rate window */
  int64_t now;               /* Unix seconds */
} sb_net_request;

/* The answer: `body` is malloc'ed (JSON) and owned by the caller. */
typedef struct sb_net_answer {
  unsigned status;
  char *body;
  int retry_after; /* seconds for a Retry-After header; 0: none */
} sb_net_answer;

/* ------------------------------------------------------ sandbox_decode.c */

/* One name=value pair of a form body or query string, percent-decoded
 * ('+' is a space). */
typedef struct sb_form_field {
  char *name;
  char *value;
} sb_form_field;

typedef struct sb_form {
  sb_form_field *fields;
  size_t n;
} sb_form;

#define SB_FORM_FIELDS_MAX 1000

/* Decodes `len` bytes of application/x-www-form-urlencoded text into
 * `form` (empty pairs, "a&&b", are skipped). 0, or -1 with the reason in
 * `err` (`size` bytes): a bad %-escape, a NUL byte, a field without '=',
 * a name given twice, more than SB_FORM_FIELDS_MAX fields, out of memory.
 * `form` is empty after a failure. Free with sb_form_free(). Thread-safe. */
int sb_form_decode(const char *text, size_t len, sb_form *form, char *err,
                   size_t size);
void sb_form_free(sb_form *form);
/* The value of `name`, or NULL. */
const char *sb_form_get(const sb_form *form, const char *name);

/* Decodes an "Authorization: Basic base64(user:password)" header into
 * `user` and `password` (NUL-terminated, at most `max` bytes each, `max`
 * + 1 allocated). 0, or -1 with what is wrong in `err` (never the
 * credentials). Thread-safe. */
int sb_basic_decode(const char *header, char *user, char *password, size_t max,
                    char *err, size_t size);

/* Constant-time comparison of a credential: 1 when equal. */
int sb_secret_equal(const char *given, const char *want);

/* ---------------------------------------------------- sandbox_netstore.c */

typedef struct sb_net sb_net;

/* Creates the store of a network mode; `log`, when not NULL, is called
 * with each log line (printable already). NULL when out of memory. */
sb_net *sb_net_new(const sb_net_config *cfg,
                   void (*log)(void *ud, const char *line), void *ud);
void sb_net_free(sb_net *n);
const sb_net_config *sb_net_config_of(const sb_net *n);

/* The stored order of a network: what the API calls change. */
typedef struct sb_net_order {
  char ref[SB_NET_REF_MAX + 1];
  char currency[4];
  int64_t sale;   /* minor units, as first received */
  int64_t amount; /* minor units now (amended, 0 once reversed) */
  int test;
  const char *status; /* "pending", "approved", "declined", "reversed" */
  int64_t instant;    /* the order time, Unix seconds */
  int has_instant;
  char date[40]; /* its time as received */
  char click[SB_NET_MESSAGE_MAX + 1];
  char reason[SB_NET_MESSAGE_MAX + 1]; /* the last change's */
  unsigned received;   /* times its sale arrived (first + duplicates) */
  unsigned duplicates; /* of which answered duplicate */
  unsigned changes;    /* amends, declines, approves, Actions applied */
  char submission[24]; /* Impact: the APISubmission id */
  char *raw;           /* the sale as received (its JSON or form) */
} sb_net_order;

/* Each function below locks the store for its own duration, except the
 * sb_net_lock() / sb_net_unlock() pair: the handlers take the lock once
 * for a whole call (a batch is applied all at once) and use the _locked
 * functions inside. */
void sb_net_lock(sb_net *n);
void sb_net_unlock(sb_net *n);
/* The order `ref`, or NULL. */
sb_net_order *sb_net_find_locked(sb_net *n, const char *ref);
/* A new order (`ref` must be new); NULL when the store is full or out of
 * memory. The caller fills it in. */
sb_net_order *sb_net_add_locked(sb_net *n, const char *ref);
/* The order whose Impact submission id is `id`, or NULL. */
sb_net_order *sb_net_find_submission_locked(sb_net *n, const char *id);
/* Keeps a rejection for the view (the last SB_NET_REJECTIONS_KEPT). */
void sb_net_reject_locked(sb_net *n, const char *ref, const char *message);
/* A job id / submission id: a counter, as text. */
void sb_net_next_id_locked(sb_net *n, char *out, size_t size);

/* The rate window of the sale calls: 0 and the call counted, or the
 * seconds to wait (the call not counted). */
int sb_net_rate_take(sb_net *n, int64_t now_ms);

/* Records the last request (method, target, headers with credentials
 * hidden, body), served by GET /_admin/last-request; and counts every
 * answer by status. */
void sb_net_record_request(sb_net *n, const char *head, size_t head_len,
                           const char *body, size_t body_len);
int sb_net_last_request(sb_net *n, char **out, size_t *len);
void sb_net_count_answer(sb_net *n, unsigned status);

/* GET /api/orders: the store as JSON, malloc'ed; NULL when out of memory. */
char *sb_net_view_json(sb_net *n, size_t *len);

/* A log line. */
void sb_net_log(sb_net *n, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* The answer's body as JSON text of `o` (cJSON *, deleted here); 500 when
 * out of memory. */
struct cJSON;
void sb_net_answer_json(sb_net_answer *a, unsigned status, struct cJSON *o);

/* An error answer {k1:v1,k2:<fmt, ap>}, and "Errors":errors when `errors`
 * (a cJSON array, handed over) is not NULL: Awin's {"error":..,
 * "description":..} and Impact's {"Status":"ERROR","Message":..}. */
void sb_net_error(sb_net_answer *a, unsigned status, const char *k1,
                  const char *v1, const char *k2, struct cJSON *errors,
                  const char *fmt, va_list ap)
    __attribute__((format(printf, 7, 0)));

/* Minor units of `currency` as decimal text into `buf`. */
void sb_net_money_text(int64_t minor, const char *currency, char *buf,
                       size_t size);

/* ------------------------------------------ sandbox_awin.c, _impact.c */

/* Answers one request of the network's API (any path: 404 for one that
 * is not the network's). Thread-safe. */
void sb_awin_handle(sb_net *n, const sb_net_request *rq, sb_net_answer *out);
void sb_impact_handle(sb_net *n, const sb_net_request *rq, sb_net_answer *out);

#endif
