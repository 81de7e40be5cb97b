/* Delivery profiles (docs/networks.md): the sender's transport as an
 * interface. A profile turns the events the sender picked into one request
 * (plain data: method, URL, headers, body) and reads the answer into
 * per-event outcomes and the sender's next action (cashback_decide.h). The
 * spool, ordering, ids, backoff, quarantine, status and CLI stay the
 * sender's. The built-in libcashback protocol is one profile, Awin's and
 * Impact's APIs are others (cashback_profile_awin.c, _impact.c).
 *
 * Every function here is pure: no I/O, no clock (the time is passed in),
 * no client. A profile is a constant table; it may be used from any thread.
 * Requests hold credentials in their headers: cashback__prequest_free()
 * wipes them; nothing of a request is logged but its method and URL, which
 * never hold a secret. */
#ifndef CASHBACK_PROFILE_H
#define CASHBACK_PROFILE_H

#include "cashback.h"
#include "cashback_buf.h"
#include "cashback_decide.h"
#include "cashback_options.h"
#include "cashback_response.h"

#include <stddef.h>
#include <stdint.h>

#define CASHBACK__PROFILE_HEADERS 6
#define CASHBACK__PROFILE_HEADER_MAX 3200 /* a Bearer token of 2 KiB fits */
#define CASHBACK__PROFILE_URL_MAX (CASHBACK__ENDPOINT_MAX + 512)
#define CASHBACK__SUBMISSION_MAX 256

/* One request as plain data: built by a profile, sent by the sender. */
typedef struct cashback__prequest {
  int local;      /* 1: nothing to send; the results were settled by the
                     profile itself (a test event Impact is not sent, a
                     confirm, an order id the network cannot take) */
  char method[8]; /* "POST", "PUT", "DELETE" */
  char url[CASHBACK__PROFILE_URL_MAX + 1];
  char headers[CASHBACK__PROFILE_HEADERS][CASHBACK__PROFILE_HEADER_MAX + 1];
  size_t n_headers;       /* "Name: value", in the order sent */
  cashback__buf body;     /* may be empty (DELETE) */
  int api;                /* the profile's own: which of its APIs */
  const char *credential; /* what a 401/403 refused, for the message:
                             "key 'k1'", "awin_api_key"; never a secret */
  /* Per event covered: its order id (what the network answers by). */
  char (*orders)[CASHBACK_ID_MAX + 1];
  size_t n; /* events covered: the first `n` given to build() */
} cashback__prequest;

void cashback__prequest_init(cashback__prequest *r);
/* Frees the body and the order list; wipes the headers. */
void cashback__prequest_free(cashback__prequest *r);
/* Appends header `name: value`; CASHBACK_E_TOO_BIG past the limits. */
cashback_status cashback__prequest_header(cashback__prequest *r,
                                          const char *name, const char *value);

/* What the per-order ledger (cashback_ledger.h) knows of an order, as a
 * profile asks for it. */
typedef struct cashback__profile_sale {
  int64_t amount;     /* the sale's amount, minor units */
  char currency[4];   /* "" when the ledger did not record it */
  int64_t order_time; /* Unix s of the sale's order time; 0: unknown */
  int utc_offset;     /* minutes */
  int64_t new_total;  /* for a refund: the sale's amount minus every
                         refund so far, this one included */
} cashback__profile_sale;

/* The sender's view of the ledger. `lookup` fills `*out` for order
 * `order_id` and returns 0, or -1 when the ledger has no sale for it;
 * `refund` (minor units, 0 for another type) is the refund of event
 * `event_id` to count in new_total (once, however often it is asked). */
typedef struct cashback__profile_orders {
  int (*lookup)(void *ctx, const char *order_id, const char *event_id,
                int64_t refund, cashback__profile_sale *out);
  void *ctx;
} cashback__profile_orders;

/* A profile: a constant table of functions. */
typedef struct cashback__profile {
  const char *name; /* "libcashback", "awin", "impact" */
  /* Builds the request for the first events of `texts` (`n` >= 1 spool
   * payloads, `lens` bytes each; `results[i].id` their ids) into `req`
   * (initialised): req->n of them, at least 1, in order. Or settles them
   * without a request (req->local, results[0..req->n) set). `orders` may
   * have no lookup (no ledger). CASHBACK_OK, or why nothing can be built
   * (an out-of-memory, a body over its cap). */
  cashback_status (*build)(const cashback_options *o,
                           const cashback__profile_orders *orders,
                           int64_t now_s, const char *const *texts,
                           const size_t *lens, cashback__result *results,
                           size_t n, cashback__prequest *req);
  /* Reads answer `a` to `req`: the outcomes of its req->n events into
   * b->results (b->n == req->n) and the next action into `*d`, as
   * cashback__decide() does for the built-in protocol. `submission`
   * (CASHBACK__SUBMISSION_MAX + 1 bytes) gets what the network said it
   * queued (a job id, a URI to poll), or "". */
  void (*classify)(const cashback_options *o, const cashback__prequest *req,
                   const cashback__answer *a, cashback__sent *b,
                   cashback__decision *d, char *submission);
  /* Pacing: at most `pace_calls` requests in any `pace_window_ms`
   * (0: none; cashback_pace.h). */
  size_t pace_calls;
  int64_t pace_window_ms;
} cashback__profile;

extern const cashback__profile cashback__profile_builtin;
extern const cashback__profile cashback__profile_awin;
extern const cashback__profile cashback__profile_impact;

/* The profile the options name (the built-in one by default). */
const cashback__profile *cashback__profile_of(const cashback_options *o);

/* What a 401/403 pause is about, as a signing key (the sender's state names
 * it by a fingerprint, cashback__sender_key_fingerprint(), and lifts the
 * pause when it changes): the built-in key, or the profile's credentials.
 * The caller wipes `*out`. */
void cashback__profile_pause_key(const cashback_options *o, cashback__key *out);

/* --- Shared by the profiles ------------------------------------------- */

#define CASHBACK__PROFILE_ITEMS_MAX 1000
#define CASHBACK__PROFILE_VOUCHERS_MAX 32

typedef struct cashback__pitem {
  const char *sku, *name, *category; /* name, category: NULL when none */
  int64_t quantity, unit_price;
} cashback__pitem;

/* A spool payload (cashback_event.c writes it) as a profile reads it. The
 * strings point into `json`, a cJSON tree freed by
 * cashback__pevent_free(). */
typedef struct cashback__pevent {
  void *json;
  const char *id, *type, *order_id;
  const char *order_time;  /* RFC 3339 with the order's offset */
  const char *reported_at; /* RFC 3339 UTC */
  int order_time_given;    /* 0: order_time is reported_at (none given) */
  int64_t order_unix;
  int order_offset;
  int test;
  const char *click; /* the click token; NULL: none */
  int has_amount;
  int64_t amount;
  const char *currency; /* NULL without an amount */
  int exponent;
  const char *customer; /* "new", "returning", NULL */
  const char *vouchers[CASHBACK__PROFILE_VOUCHERS_MAX];
  size_t n_vouchers;
  cashback__pitem *items;
  size_t n_items;
  const char *reason; /* NULL: none */
} cashback__pevent;

/* Parses `len` bytes of a spool payload; CASHBACK_E_PROTOCOL when it is not
 * an event as libcashback writes them (the sender quarantines it). */
cashback_status cashback__pevent_parse(const char *text, size_t len,
                                       cashback__pevent *ev);
void cashback__pevent_free(cashback__pevent *ev);

/* Appends `len` bytes of `s` percent-encoded (RFC 3986 unreserved kept,
 * space as %20). */
cashback_status cashback__form_add(cashback__buf *b, const char *s, size_t len);
/* Appends "&name=value" ("name=value" on an empty buffer), value encoded. */
cashback_status cashback__form_field(cashback__buf *b, const char *name,
                                     const char *value);

/* Sets every result of a local settlement: `o`, with reason and message. */
void cashback__profile_settle(cashback__result *r, cashback__outcome o,
                              const char *reason, const char *message);

/* Every event of `b` pending, without reason or message, and `submission`
 * empty: where a profile's classify starts. */
void cashback__profile_reset(cashback__sent *b, char *submission);

/* The string member `name` of the cJSON object `obj`, or NULL. */
const char *cashback__json_str(const void *obj, const char *name);

/* Allocates req->orders for `n` events. */
cashback_status cashback__prequest_orders(cashback__prequest *req, size_t n);

/* Settles with `o` every event of `req` whose order id is `order_id` (an
 * answer that names orders, not events): a pending one, or any when `o` is
 * REJECTED (the strongest: the event is kept, not dropped). */
void cashback__profile_by_order(const cashback__prequest *req,
                                const char *order_id, cashback__result *res,
                                cashback__outcome o, const char *reason,
                                const char *message);

#endif
