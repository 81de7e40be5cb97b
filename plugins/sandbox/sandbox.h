/* cashback-sandbox: the reference receiver of docs/protocol.md. */
#ifndef CASHBACK_SANDBOX_H
#define CASHBACK_SANDBOX_H

#include "sandbox_net.h"

#include <cashback.h>

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define SB_KEYS_MAX 16 /* keys of one merchant (the verifier's cap) */
#define SB_SLOW_MS_MAX 60000
#define SB_SLOW_MS_DEFAULT 2000
#define SB_REQUEST_TIMEOUT_DEFAULT 30 /* seconds a request may take */
#define SB_REQUEST_TIMEOUT_MAX 3600
#define SB_HTTP_THREADS 4         /* libmicrohttpd's thread pool */
#define SB_CONNECTIONS_MAX 10000u /* at once, within the fd limit */
/* The largest amount of docs/protocol.md section 3, in minor units. */
#define SB_AMOUNT_MAX INT64_C(1000000000000000)

typedef struct sb_merchant {
  char id[CASHBACK_ID_MAX + 1];
  cashback_verifier *verifier;
  size_t n_keys;
  char key_ids[SB_KEYS_MAX][CASHBACK_ID_MAX + 1];
} sb_merchant;

typedef enum sb_mode {
  SB_MODE_OK = 0,   /* answer normally */
  SB_MODE_DOWN = 1, /* close event connections without an answer */
  SB_MODE_503 = 2,  /* answer 503 with Retry-After: 1 */
  SB_MODE_SLOW = 3, /* answer after slow_ms */
  SB_MODE_DROP = 4, /* record, then close the connection without an answer */
  SB_MODE_429 = 5   /* answer 429 with Retry-After: 1 */
} sb_mode;

typedef struct sb_store sb_store;

typedef struct sandbox {
  sb_merchant *merchants;
  size_t n_merchants;
  sb_store *store;
  int64_t tolerance;
  FILE *log;
  pthread_mutex_t log_lock;
  pthread_mutex_t lock; /* mode, slow_ms, fault_count */
  sb_mode mode;
  int slow_ms;
  int fault_count;      /* the mode is for this many more requests, then ok;
                           0: until changed */
  sb_net_config netcfg; /* --network and its credentials */
  sb_net *net;          /* a network mode's store; NULL for cashback */
  int followups_retry;  /* --followups retry */
  int request_timeout;  /* --request-timeout, seconds */
} sandbox;

/* sandbox.c */
void sb_log(sandbox *sb, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
const char *sb_mode_name(sb_mode m);
int sb_mode_parse(const char *s, sb_mode *out);
const sb_merchant *sb_find_merchant(const sandbox *sb, const char *id);
/* Appends `n` bytes of `data` to the text `*buf` (`*len` bytes, `*cap`
 * allocated), keeping it NUL-terminated; grows it by doubling, from
 * `first` bytes. 0, or -1 when out of memory (the text left as it was). */
int sb_append(char **buf, size_t *len, size_t *cap, size_t first,
              const void *data, size_t n);

/* sandbox_store.c: the SQLite database. Every function is thread-safe. */
typedef struct sb_result {
  const char *status; /* "accepted", "duplicate", "rejected", "retry" */
  int held;           /* accepted, and held until its sale arrives */
  char reason[CASHBACK_ID_MAX + 1];
  char message[CASHBACK_ERROR_MAX + 1];
} sb_result;

/* Opens or creates the database. A file of the schema before per-merchant
 * dedupe (version 1) is migrated, and *migrated set; a file of another
 * schema is refused with the reason in `err`. */
int sb_store_open(const char *path, sb_store **out, int *migrated, char *err,
                  size_t size);
void sb_store_close(sb_store *s);
/* How a refund, cancel or confirm for an order with no sale yet is answered
 * (docs/protocol.md, section 6): held (0, the default: recorded, answered
 * "accepted", counted once the sale arrives) or "retry" (1: not recorded). */
void sb_store_set_followups(sb_store *s, int retry);
/* Records a verified batch in one transaction and decides each event's
 * answer into `results` (cashback_batch_count() entries). 0, or -1 with
 * `err` when the database failed (nothing recorded). */
int sb_store_batch(sb_store *s, const cashback_batch *b, const char *key_id,
                   const char *remote, const char *body, size_t len,
                   int64_t now, sb_result *results, char *err, size_t size);

/* One order as the report shows it. */
typedef struct sb_order {
  const char *merchant;
  const char *order_id;
  int test;
  const char *currency;
  int64_t sale;
  int64_t refunded;
  int refunds;
  int cancelled;
  int confirmed;
  int has_confirmed_amount;
  int64_t confirmed_amount;
  int64_t net; /* what commission is on: 0 when cancelled */
  int64_t first_seen;
  int held; /* follow-ups only, no sale yet: counted in no total */
} sb_order;

typedef struct sb_rejection {
  const char *merchant;
  const char *id;
  const char *type;
  const char *order_id;
  const char *reason;
  const char *message;
  int64_t received_at;
} sb_rejection;

/* Calls `fn` for every order, by merchant, then first seen; for every
 * recent rejection (newest first, at most `max_rejections` per merchant);
 * and for every merchant with anything stored. Returns 0 or -1. */
typedef struct sb_report_fns {
  void (*merchant)(void *ud, const char *merchant);
  void (*order)(void *ud, const sb_order *o);
  void (*rejection)(void *ud, const sb_rejection *r);
} sb_report_fns;
int sb_store_report(sb_store *s, const sb_report_fns *fns, void *ud,
                    int max_rejections, char *err, size_t size);

/* sandbox_report.c: GET / and GET /api/totals. Return malloc'ed text, or
 * NULL on failure. */
char *sb_report_html(sandbox *sb, size_t *len);
char *sb_report_json(sandbox *sb, size_t *len);

/* sandbox_http.c: the HTTP server, running until sb_http_stop(). */
typedef struct sb_http sb_http;
sb_http *sb_http_start(sandbox *sb, const char *listen, unsigned *port,
                       char *err, size_t size);
/* Resumes slow-mode answers, waits for requests in progress, stops. */
void sb_http_stop(sb_http *h);

#endif
