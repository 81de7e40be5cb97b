/*
 * What an answer to a batch means: the status table of docs/protocol.md,
 * section 7, as one pure function (see cashback_decide.h). The sender
 * (cashback_sender.c) and the probe (cashback_probe.c) act on it; neither
 * reads a status code itself.
 */
#include "cashback_decide.h"
#include "cashback_backoff.h"

#include <string.h>

const char *cashback__outcome_name(cashback__outcome o) {
  switch (o) {
  case CASHBACK__OUTCOME_ACCEPTED:
    return "accepted";
  case CASHBACK__OUTCOME_DUPLICATE:
    return "duplicate";
  case CASHBACK__OUTCOME_REJECTED:
    return "rejected";
  case CASHBACK__OUTCOME_RETRY:
    return "retry";
  case CASHBACK__OUTCOME_PENDING:
    break;
  }
  return "";
}

void cashback__answer_of(cashback__answer *a, cashback_status transport,
                         const cashback__http_response *resp, int64_t now_s) {
  memset(a, 0, sizeof(*a));
  a->transport = transport;
  a->deadline_cut = resp->timed_out && resp->deadline_cut;
  a->status = resp->status;
  a->retry_after = resp->retry_after;
  a->retry_after_len = strlen(resp->retry_after);
  a->date = resp->date;
  a->date_len = strlen(resp->date);
  a->body = resp->body.data;
  a->body_len = resp->body.data ? resp->body.len : 0;
  a->now_s = now_s;
}

static void retry(cashback__decision *d, cashback__cause cause,
                  cashback_status st) {
  d->next = CASHBACK__NEXT_RETRY;
  d->cause = cause;
  d->status = st;
}

/* A 200: the per-event outcomes; settling when any event is settled. */
static void decide_200(const cashback__answer *a, cashback__sent *b,
                       cashback__decision *d) {
  if (cashback__response_parse(a->body ? a->body : "",
                               a->body ? a->body_len : 0, b->results,
                               b->n) != CASHBACK_OK) {
    retry(d, CASHBACK__CAUSE_NO_RESULTS, CASHBACK_E_PROTOCOL);
    return;
  }
  for (size_t i = 0; i < b->n; i++) {
    unsigned o = (unsigned)b->results[i].outcome;
    if (o < sizeof(d->outcomes) / sizeof(d->outcomes[0]))
      d->outcomes[o]++;
  }
  if (d->outcomes[CASHBACK__OUTCOME_PENDING] == b->n) {
    retry(d, CASHBACK__CAUSE_SETTLED_NONE, CASHBACK_E_PROTOCOL);
    return;
  }
  d->next = CASHBACK__NEXT_SETTLE;
  d->cause = CASHBACK__CAUSE_RESULTS;
}

/* A batch-level 4xx: about one bad event only if the endpoint settles other
 * events; a path that refuses everything (a proxy, a wrong endpoint) must
 * not empty the spool into the quarantine. */
static void decide_4xx(const cashback__sent *b, cashback__decision *d) {
  d->cause = CASHBACK__CAUSE_STATUS;
  if (b->probe) {
    d->next = CASHBACK__NEXT_PATH_FAULT;
    d->status = CASHBACK_E_HTTP;
  } else if (b->n > 1) {
    d->next = CASHBACK__NEXT_SPLIT;
    d->batch_limit = b->collected / 2 ? b->collected / 2 : 1;
  } else if (!b->settled_since_fault) {
    d->next = CASHBACK__NEXT_PROBE;
  } else {
    d->next = CASHBACK__NEXT_QUARANTINE;
  }
}

void cashback__decide(const cashback__answer *a, cashback__sent *b,
                      cashback__decision *d) {
  memset(d, 0, sizeof(*d));
  d->retry_after_ms = -1;
  for (size_t i = 0; i < b->n; i++)
    b->results[i].outcome = CASHBACK__OUTCOME_PENDING;
  long code = a->status;
  if (a->transport != CASHBACK_OK) {
    if (a->deadline_cut)
      retry(d, CASHBACK__CAUSE_DEADLINE, CASHBACK_E_TIMEOUT);
    else
      retry(d, CASHBACK__CAUSE_TRANSPORT, CASHBACK_E_NETWORK);
  } else if (code == 200) {
    decide_200(a, b, d);
  } else if (code == 401 || code == 403) {
    d->next = CASHBACK__NEXT_PAUSE;
    d->cause = CASHBACK__CAUSE_STATUS;
    d->status = CASHBACK_E_AUTH;
  } else if (code >= 400 && code < 500 && code != 408 && code != 429) {
    decide_4xx(b, d);
  } else {
    /* Retry-After adds to the backoff (the caller's job); a date is read
     * against the response's Date. */
    int retryable = code == 408 || code == 429 || code >= 500;
    retry(d, CASHBACK__CAUSE_STATUS,
          retryable ? CASHBACK_E_HTTP : CASHBACK_E_PROTOCOL);
    int64_t ra = -1;
    if (a->retry_after && a->retry_after_len &&
        cashback__retry_after_ms(a->retry_after, a->retry_after_len, a->date,
                                 a->date ? a->date_len : 0, a->now_s, &ra) != 0)
      ra = -1;
    d->retry_after_ms = ra;
  }
}
