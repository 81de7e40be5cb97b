/* What an answer to a batch means (docs/protocol.md, section 7): a pure
 * function from the exchange to per-event outcomes and the next action. No
 * I/O, no clock, no client: the sender and the probe act on its decision. */
#ifndef CASHBACK_DECIDE_H
#define CASHBACK_DECIDE_H

#include "cashback.h"
#include "cashback_http.h"
#include "cashback_response.h"

#include <stddef.h>
#include <stdint.h>

/* The next action after an exchange. */
typedef enum cashback__next {
  CASHBACK__NEXT_SETTLE = 0, /* 200 with results: settle each event by its
                                outcome (results[].outcome) */
  CASHBACK__NEXT_RETRY,      /* back off (plus retry_after_ms when >= 0) */
  CASHBACK__NEXT_PAUSE,      /* 401, 403: the key was refused; pause */
  CASHBACK__NEXT_SPLIT,      /* a batch-level 4xx to several events: send
                                batches of batch_limit */
  CASHBACK__NEXT_PROBE,      /* a batch-level 4xx to one event, nothing
                                settled since the 4xx began: send the next
                                event alone to tell event from path */
  CASHBACK__NEXT_QUARANTINE, /* a batch-level 4xx to one event after the
                                endpoint settled another: it is the bad one */
  CASHBACK__NEXT_PATH_FAULT  /* a batch-level 4xx to a probe too: a fault
                                of the path; keep everything, back off */
} cashback__next;

/* Why: which row of the table gave the decision. */
typedef enum cashback__cause {
  CASHBACK__CAUSE_RESULTS = 0,  /* 200 whose results settle events */
  CASHBACK__CAUSE_DEADLINE,     /* no answer before the caller's deadline */
  CASHBACK__CAUSE_TRANSPORT,    /* no answer: connection, TLS, reset, ... */
  CASHBACK__CAUSE_NO_RESULTS,   /* 200 without valid results */
  CASHBACK__CAUSE_SETTLED_NONE, /* 200 whose results settle none sent */
  CASHBACK__CAUSE_STATUS        /* the HTTP status itself */
} cashback__cause;

/* The exchange, as the transport gave it. Pointers may be NULL when their
 * length is 0. */
typedef struct cashback__answer {
  cashback_status transport; /* CASHBACK_OK when an HTTP answer came */
  int deadline_cut;          /* no answer: cut at the caller's deadline */
  long status;               /* the HTTP status */
  const char *retry_after;   /* the Retry-After header's value */
  size_t retry_after_len;
  const char *date; /* the Date header's value (a Retry-After date is read
                       against it) */
  size_t date_len;
  const char *body;
  size_t body_len;
  int64_t now_s; /* Unix s the answer came at: a Retry-After date is read
                    against it when Date is missing */
} cashback__answer;

/* The answer as the transport gave it (`transport`: what the post returned,
 * `resp`: its response, read not kept), at `now_s`. */
void cashback__answer_of(cashback__answer *a, cashback_status transport,
                         const cashback__http_response *resp, int64_t now_s);

/* The request the answer is about. */
typedef struct cashback__sent {
  cashback__result *results; /* in: the ids sent, each once; out: outcomes
                                (all PENDING unless the answer is a 200
                                with results) */
  size_t n;                  /* events in the request (>= 1) */
  size_t collected;          /* records in the batch they were picked from */
  int probe;                 /* the request is a probe (one event alone) */
  int settled_since_fault;   /* the endpoint settled an event since the
                                current streak of batch-level 4xx began */
} cashback__sent;

typedef struct cashback__decision {
  cashback__next next;
  cashback__cause cause;
  cashback_status status; /* what a RETRY, PAUSE or PATH_FAULT records:
                             CASHBACK_E_TIMEOUT, _NETWORK, _PROTOCOL,
                             _HTTP, _AUTH; CASHBACK_OK otherwise */
  int64_t retry_after_ms; /* RETRY: what the network asked for, < 0: none */
  size_t batch_limit;     /* SPLIT: the new batch size */
  size_t outcomes[5];     /* SETTLE: events sent per cashback__outcome */
} cashback__decision;

/* Decides what answer `a` to request `b` means, filling `b->results` with
 * the per-event outcomes and `*d` with the next action. The table:
 *
 *   no answer, cut at the deadline            -> RETRY  E_TIMEOUT
 *   no answer                                 -> RETRY  E_NETWORK
 *   200 with results settling some event      -> SETTLE (per event:
 *       accepted, duplicate: delivered; rejected: quarantine; retry:
 *       deferred; missing: sent again)
 *   200 without valid results, or settling none -> RETRY E_PROTOCOL
 *   401, 403                                  -> PAUSE  E_AUTH
 *   413, 4xx but 408 and 429: to a probe      -> PATH_FAULT E_HTTP
 *                             several events  -> SPLIT (half the batch)
 *                             one, none settled since -> PROBE
 *                             one, another settled since -> QUARANTINE
 *   408, 429, 5xx                             -> RETRY  E_HTTP, with
 *                                                Retry-After when valid
 *   anything else (1xx, 2xx but 200, 3xx)     -> RETRY  E_PROTOCOL, likewise
 */
void cashback__decide(const cashback__answer *a, cashback__sent *b,
                      cashback__decision *d);

/* The name of an outcome as the protocol spells it ("" for PENDING). */
const char *cashback__outcome_name(cashback__outcome o);

#endif
