/* Unit tests for sdk/cashback_decide.c: the status table of docs/protocol.md,
 * section 7, one row per status class and response shape, without a
 * network. */
#include "tests.h"

#include "cashback_decide.h"

#include <check.h>
#include <stdio.h>
#include <string.h>

#define ID_A "0123456789abcdef0123456789abcdef"
#define ID_B "fedcba9876543210fedcba9876543210"

/* The answer's body for two events: A's status and B's ("" leaves one out
 * of the answer). */
static void results_body(char *out, size_t size, const char *a, const char *b) {
  char ea[96] = "", eb[96] = "";
  if (a[0])
    snprintf(ea, sizeof(ea), "{\"id\":\"" ID_A "\",\"status\":\"%s\"}", a);
  if (b[0])
    snprintf(eb, sizeof(eb), "{\"id\":\"" ID_B "\",\"status\":\"%s\"}", b);
  snprintf(out, size, "{\"results\":[%s%s%s]}", ea, a[0] && b[0] ? "," : "",
           eb);
}

typedef struct row {
  const char *name;
  cashback_status transport;
  int deadline_cut;
  long status;
  const char *body;        /* NULL: results_body(a, b) */
  const char *a, *b;       /* the outcomes answered for A and B */
  const char *retry_after; /* NULL: none */
  const char *date;        /* NULL: none */
  size_t n;                /* events sent: 1 (A) or 2 (A, B) */
  int probe, settled_since_fault;
  /* Expected: */
  cashback__next next;
  cashback__cause cause;
  cashback_status why;
  int64_t retry_after_ms; /* -1: none */
  size_t batch_limit;
  cashback__outcome out_a, out_b;
} row;

#define NOW 1700000000 /* the answer's time, Unix s */

static const row ROWS[] = {
    /* No answer. */
    {"deadline cut", CASHBACK_E_TIMEOUT, 1, 0, "", "", "", NULL, NULL, 2, 0, 0,
     CASHBACK__NEXT_RETRY, CASHBACK__CAUSE_DEADLINE, CASHBACK_E_TIMEOUT, -1, 0,
     0, 0},
    {"request timeout", CASHBACK_E_TIMEOUT, 0, 0, "", "", "", NULL, NULL, 2, 0,
     0, CASHBACK__NEXT_RETRY, CASHBACK__CAUSE_TRANSPORT, CASHBACK_E_NETWORK, -1,
     0, 0, 0},
    {"connection refused", CASHBACK_E_NETWORK, 0, 0, "", "", "", "5", NULL, 1,
     0, 0, CASHBACK__NEXT_RETRY, CASHBACK__CAUSE_TRANSPORT, CASHBACK_E_NETWORK,
     -1, 0, 0, 0},
    /* 200 and its shapes. */
    {"200 accepted and duplicate", CASHBACK_OK, 0, 200, NULL, "accepted",
     "duplicate", NULL, NULL, 2, 0, 0, CASHBACK__NEXT_SETTLE,
     CASHBACK__CAUSE_RESULTS, CASHBACK_OK, -1, 0, CASHBACK__OUTCOME_ACCEPTED,
     CASHBACK__OUTCOME_DUPLICATE},
    {"200 rejected and retry", CASHBACK_OK, 0, 200, NULL, "rejected", "retry",
     NULL, NULL, 2, 0, 0, CASHBACK__NEXT_SETTLE, CASHBACK__CAUSE_RESULTS,
     CASHBACK_OK, -1, 0, CASHBACK__OUTCOME_REJECTED, CASHBACK__OUTCOME_RETRY},
    {"200 one missing from the answer", CASHBACK_OK, 0, 200, NULL, "accepted",
     "", NULL, NULL, 2, 0, 0, CASHBACK__NEXT_SETTLE, CASHBACK__CAUSE_RESULTS,
     CASHBACK_OK, -1, 0, CASHBACK__OUTCOME_ACCEPTED, CASHBACK__OUTCOME_PENDING},
    {"200 an unknown status only", CASHBACK_OK, 0, 200, NULL, "later", "", NULL,
     NULL, 2, 0, 0, CASHBACK__NEXT_RETRY, CASHBACK__CAUSE_SETTLED_NONE,
     CASHBACK_E_PROTOCOL, -1, 0, 0, 0},
    {"200 empty results", CASHBACK_OK, 0, 200, "{\"results\":[]}", "", "", NULL,
     NULL, 2, 0, 0, CASHBACK__NEXT_RETRY, CASHBACK__CAUSE_SETTLED_NONE,
     CASHBACK_E_PROTOCOL, -1, 0, 0, 0},
    {"200 not JSON", CASHBACK_OK, 0, 200, "<html>ok</html>", "", "", NULL, NULL,
     2, 0, 0, CASHBACK__NEXT_RETRY, CASHBACK__CAUSE_NO_RESULTS,
     CASHBACK_E_PROTOCOL, -1, 0, 0, 0},
    {"200 empty body", CASHBACK_OK, 0, 200, "", "", "", NULL, NULL, 1, 0, 0,
     CASHBACK__NEXT_RETRY, CASHBACK__CAUSE_NO_RESULTS, CASHBACK_E_PROTOCOL, -1,
     0, 0, 0},
    /* The key refused. */
    {"401", CASHBACK_OK, 0, 401, "{\"error\":\"bad_signature\"}", "", "", "9",
     NULL, 2, 0, 0, CASHBACK__NEXT_PAUSE, CASHBACK__CAUSE_STATUS,
     CASHBACK_E_AUTH, -1, 0, 0, 0},
    {"403", CASHBACK_OK, 0, 403, "", "", "", NULL, NULL, 1, 1, 1,
     CASHBACK__NEXT_PAUSE, CASHBACK__CAUSE_STATUS, CASHBACK_E_AUTH, -1, 0, 0,
     0},
    /* Batch-level 4xx. */
    {"413 several events", CASHBACK_OK, 0, 413, "", "", "", NULL, NULL, 2, 0, 0,
     CASHBACK__NEXT_SPLIT, CASHBACK__CAUSE_STATUS, CASHBACK_OK, -1, 1, 0, 0},
    {"400 one event, nothing settled since", CASHBACK_OK, 0, 400, "", "", "",
     NULL, NULL, 1, 0, 0, CASHBACK__NEXT_PROBE, CASHBACK__CAUSE_STATUS,
     CASHBACK_OK, -1, 0, 0, 0},
    {"422 one event, another settled since", CASHBACK_OK, 0, 422, "", "", "",
     NULL, NULL, 1, 0, 1, CASHBACK__NEXT_QUARANTINE, CASHBACK__CAUSE_STATUS,
     CASHBACK_OK, -1, 0, 0, 0},
    {"400 to a probe", CASHBACK_OK, 0, 400, "", "", "", "30", NULL, 1, 1, 0,
     CASHBACK__NEXT_PATH_FAULT, CASHBACK__CAUSE_STATUS, CASHBACK_E_HTTP, -1, 0,
     0, 0},
    /* Retryable statuses, Retry-After. */
    {"503", CASHBACK_OK, 0, 503, "busy", "", "", NULL, NULL, 2, 0, 0,
     CASHBACK__NEXT_RETRY, CASHBACK__CAUSE_STATUS, CASHBACK_E_HTTP, -1, 0, 0,
     0},
    {"429 Retry-After seconds", CASHBACK_OK, 0, 429, "", "", "", "120", NULL, 2,
     0, 0, CASHBACK__NEXT_RETRY, CASHBACK__CAUSE_STATUS, CASHBACK_E_HTTP,
     120000, 0, 0, 0},
    {"408 Retry-After garbage", CASHBACK_OK, 0, 408, "", "", "", "soon", NULL,
     1, 0, 0, CASHBACK__NEXT_RETRY, CASHBACK__CAUSE_STATUS, CASHBACK_E_HTTP, -1,
     0, 0, 0},
    {"502 Retry-After date against Date", CASHBACK_OK, 0, 502, "", "", "",
     "Wed, 21 Oct 2015 07:28:30 GMT", "Wed, 21 Oct 2015 07:28:00 GMT", 2, 0, 0,
     CASHBACK__NEXT_RETRY, CASHBACK__CAUSE_STATUS, CASHBACK_E_HTTP, 30000, 0, 0,
     0},
    {"500 Retry-After date, no Date: against now", CASHBACK_OK, 0, 500, "", "",
     "", "Tue, 14 Nov 2023 22:14:20 GMT", NULL, 2, 0, 0, CASHBACK__NEXT_RETRY,
     CASHBACK__CAUSE_STATUS, CASHBACK_E_HTTP, 60000, 0, 0, 0},
    /* Anything else is not the protocol. */
    {"302", CASHBACK_OK, 0, 302, "", "", "", "10", NULL, 2, 0, 0,
     CASHBACK__NEXT_RETRY, CASHBACK__CAUSE_STATUS, CASHBACK_E_PROTOCOL, 10000,
     0, 0, 0},
    {"204", CASHBACK_OK, 0, 204, "", "", "", NULL, NULL, 2, 0, 0,
     CASHBACK__NEXT_RETRY, CASHBACK__CAUSE_STATUS, CASHBACK_E_PROTOCOL, -1, 0,
     0, 0},
};

START_TEST(decide_table) {
  for (size_t k = 0; k < sizeof(ROWS) / sizeof(ROWS[0]); k++) {
    const row *w = &ROWS[k];
    char body[512];
    if (w->body)
      snprintf(body, sizeof(body), "%s", w->body);
    else
      results_body(body, sizeof(body), w->a, w->b);
    cashback__result res[2];
    memset(res, 0, sizeof(res));
    snprintf(res[0].id, sizeof(res[0].id), "%s", ID_A);
    snprintf(res[1].id, sizeof(res[1].id), "%s", ID_B);
    res[0].outcome = res[1].outcome = CASHBACK__OUTCOME_ACCEPTED; /* stale */
    cashback__answer a = {w->transport,
                          w->deadline_cut,
                          w->status,
                          w->retry_after,
                          w->retry_after ? strlen(w->retry_after) : 0,
                          w->date,
                          w->date ? strlen(w->date) : 0,
                          body,
                          strlen(body),
                          NOW};
    cashback__sent b = {res, w->n, 2, w->probe, w->settled_since_fault};
    cashback__decision d;
    cashback__decide(&a, &b, &d);
    ck_assert_msg(d.next == w->next, "%s: next %d, not %d", w->name, d.next,
                  w->next);
    ck_assert_msg(d.cause == w->cause, "%s: cause %d, not %d", w->name, d.cause,
                  w->cause);
    ck_assert_msg(d.status == w->why, "%s: status %d, not %d", w->name,
                  d.status, w->why);
    ck_assert_msg(d.retry_after_ms == w->retry_after_ms,
                  "%s: retry_after_ms %lld, not %lld", w->name,
                  (long long)d.retry_after_ms, (long long)w->retry_after_ms);
    if (w->next == CASHBACK__NEXT_SPLIT)
      ck_assert_uint_eq(d.batch_limit, w->batch_limit);
    /* Outcomes only from a 200 with results; stale ones never survive. */
    ck_assert_msg(res[0].outcome == w->out_a, "%s: A %d, not %d", w->name,
                  res[0].outcome, w->out_a);
    if (w->n == 2)
      ck_assert_msg(res[1].outcome == w->out_b, "%s: B %d, not %d", w->name,
                    res[1].outcome, w->out_b);
    else
      ck_assert_int_eq(res[1].outcome, CASHBACK__OUTCOME_ACCEPTED); /* unread */
    size_t total = 0;
    for (size_t o = 0; o < 5; o++)
      total += d.outcomes[o];
    ck_assert_uint_eq(total, w->next == CASHBACK__NEXT_SETTLE ||
                                     w->cause == CASHBACK__CAUSE_SETTLED_NONE
                                 ? w->n
                                 : 0);
  }
}
END_TEST

START_TEST(decide_rejected_keeps_reason_and_message) {
  static const char body[] =
      "{\"results\":[{\"id\":\"" ID_A "\",\"status\":\"rejected\",\"reason\":"
      "\"unknown_click\",\"message\":\"no such click\"}]}";
  cashback__result r;
  memset(&r, 0, sizeof(r));
  snprintf(r.id, sizeof(r.id), "%s", ID_A);
  cashback__answer a = {CASHBACK_OK, 0, 200,  NULL,         0,
                        NULL,        0, body, strlen(body), NOW};
  cashback__sent b = {&r, 1, 1, 0, 0};
  cashback__decision d;
  cashback__decide(&a, &b, &d);
  ck_assert_int_eq(d.next, CASHBACK__NEXT_SETTLE);
  ck_assert_uint_eq(d.outcomes[CASHBACK__OUTCOME_REJECTED], 1);
  ck_assert_str_eq(r.reason, "unknown_click");
  ck_assert_str_eq(r.message, "no such click");
}
END_TEST

START_TEST(decide_split_halves_the_batch_collected) {
  cashback__result r[3];
  memset(r, 0, sizeof(r));
  cashback__answer a = {CASHBACK_OK, 0, 400, NULL, 0, NULL, 0, NULL, 0, NOW};
  /* 3 events sent of 7 records collected (copies, records not events). */
  cashback__sent b = {r, 3, 7, 0, 1};
  cashback__decision d;
  cashback__decide(&a, &b, &d);
  ck_assert_int_eq(d.next, CASHBACK__NEXT_SPLIT);
  ck_assert_uint_eq(d.batch_limit, 3);
}
END_TEST

START_TEST(outcome_names) {
  ck_assert_str_eq(cashback__outcome_name(CASHBACK__OUTCOME_PENDING), "");
  ck_assert_str_eq(cashback__outcome_name(CASHBACK__OUTCOME_ACCEPTED),
                   "accepted");
  ck_assert_str_eq(cashback__outcome_name(CASHBACK__OUTCOME_DUPLICATE),
                   "duplicate");
  ck_assert_str_eq(cashback__outcome_name(CASHBACK__OUTCOME_REJECTED),
                   "rejected");
  ck_assert_str_eq(cashback__outcome_name(CASHBACK__OUTCOME_RETRY), "retry");
  ck_assert_str_eq(cashback__outcome_name((cashback__outcome)99), "");
}
END_TEST

TCase *cashback_test_decide(void) {
  TCase *tc = tcase_create("decide");
  tcase_add_test(tc, decide_table);
  tcase_add_test(tc, decide_rejected_keeps_reason_and_message);
  tcase_add_test(tc, decide_split_halves_the_batch_collected);
  tcase_add_test(tc, outcome_names);
  return tc;
}
