/* Unit tests for sdk/cashback_response.c: every outcome, partial answers,
 * unknown ids, repeated ids, bodies that are not the protocol's JSON, wrong
 * types, and the sanitising of reason and message. */
#include "tests.h"

#include "cashback_response.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ID_A "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define ID_B "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
#define ID_C "cccccccccccccccccccccccccccccccc"
#define ID_X "0123456789abcdef0123456789abcdef"

/* Three results with ids A, B, C, and outputs filled with junk so that the
 * parser's reset is visible. */
static void three(cashback__result r[3]) {
  const char *ids[3] = {ID_A, ID_B, ID_C};
  for (int i = 0; i < 3; i++) {
    memset(&r[i], 'j', sizeof(r[i]));
    memcpy(r[i].id, ids[i], CASHBACK_EVENT_ID_LEN + 1);
    r[i].outcome = CASHBACK__OUTCOME_ACCEPTED;
  }
}

static cashback_status parse(const char *body, cashback__result *r, size_t n) {
  return cashback__response_parse(body, strlen(body), r, n);
}

static void assert_pending(const cashback__result *r, size_t n) {
  for (size_t i = 0; i < n; i++) {
    ck_assert_int_eq(r[i].outcome, CASHBACK__OUTCOME_PENDING);
    ck_assert_str_eq(r[i].reason, "");
    ck_assert_str_eq(r[i].message, "");
  }
}

START_TEST(response_every_outcome) {
  cashback__result r[3];
  three(r);
  ck_assert_int_eq(
      parse("{\"results\":[{\"id\":\"" ID_C "\",\"status\":\"rejected\","
            "\"reason\":\"unknown_click\",\"message\":\"no such click\"},"
            "{\"id\":\"" ID_A "\",\"status\":\"accepted\"},"
            "{\"id\":\"" ID_B "\",\"status\":\"duplicate\"}]}",
            r, 3),
      CASHBACK_OK);
  ck_assert_int_eq(r[0].outcome, CASHBACK__OUTCOME_ACCEPTED);
  ck_assert_int_eq(r[1].outcome, CASHBACK__OUTCOME_DUPLICATE);
  ck_assert_int_eq(r[2].outcome, CASHBACK__OUTCOME_REJECTED);
  ck_assert_str_eq(r[2].reason, "unknown_click");
  ck_assert_str_eq(r[2].message, "no such click");
  /* Only rejections carry a reason. */
  ck_assert_str_eq(r[0].reason, "");
  ck_assert_str_eq(r[1].message, "");
  /* The ids are left alone. */
  ck_assert_str_eq(r[0].id, ID_A);
  ck_assert_str_eq(r[2].id, ID_C);
}
END_TEST

START_TEST(response_partial_and_unknown) {
  cashback__result r[3];
  three(r);
  /* B is missing, X is not in the batch, C has an unknown status, and extra
   * fields are everywhere: A accepted, the rest PENDING. */
  ck_assert_int_eq(
      parse(" {\"version\":3,\"results\":[{\"id\":\"" ID_X
            "\",\"status\":\"accepted\"},{\"id\":\"" ID_C
            "\",\"status\":\"queued\"},{\"extra\":[1,{}],\"id\":\"" ID_A
            "\",\"status\":\"accepted\",\"at\":null}],\"note\":\"hi\"}\r\n",
            r, 3),
      CASHBACK_OK);
  ck_assert_int_eq(r[0].outcome, CASHBACK__OUTCOME_ACCEPTED);
  assert_pending(&r[1], 2);
  /* An empty list: all PENDING, and that is not an error. */
  three(r);
  ck_assert_int_eq(parse("{\"results\":[]}", r, 3), CASHBACK_OK);
  assert_pending(r, 3);
  /* No results to fill at all. */
  ck_assert_int_eq(parse("{\"results\":[{\"id\":\"" ID_A
                         "\",\"status\":\"accepted\"}]}",
                         NULL, 0),
                   CASHBACK_OK);
}
END_TEST

START_TEST(response_repeated_ids) {
  cashback__result r[3];
  /* Rejected wins over accepted and duplicate, whatever the order; the
   * reason is the rejection's. */
  const char *rejected_last =
      "{\"results\":[{\"id\":\"" ID_A "\",\"status\":\"accepted\"},"
      "{\"id\":\"" ID_A "\",\"status\":\"rejected\",\"reason\":\"r1\"},"
      "{\"id\":\"" ID_A "\",\"status\":\"duplicate\"}]}";
  const char *rejected_first =
      "{\"results\":[{\"id\":\"" ID_A "\",\"status\":\"rejected\","
      "\"reason\":\"r1\"},{\"id\":\"" ID_A "\",\"status\":\"rejected\","
      "\"reason\":\"r2\"},{\"id\":\"" ID_A "\",\"status\":\"accepted\"}]}";
  three(r);
  ck_assert_int_eq(parse(rejected_last, r, 3), CASHBACK_OK);
  ck_assert_int_eq(r[0].outcome, CASHBACK__OUTCOME_REJECTED);
  ck_assert_str_eq(r[0].reason, "r1");
  three(r);
  ck_assert_int_eq(parse(rejected_first, r, 3), CASHBACK_OK);
  ck_assert_int_eq(r[0].outcome, CASHBACK__OUTCOME_REJECTED);
  ck_assert_str_eq(r[0].reason, "r1"); /* the first rejection's */
  /* Accepted over duplicate. */
  three(r);
  ck_assert_int_eq(parse("{\"results\":[{\"id\":\"" ID_B
                         "\",\"status\":\"duplicate\"},{\"id\":\"" ID_B
                         "\",\"status\":\"accepted\"}]}",
                         r, 3),
                   CASHBACK_OK);
  ck_assert_int_eq(r[1].outcome, CASHBACK__OUTCOME_ACCEPTED);
  /* The same id twice in the batch: both get the outcome. */
  three(r);
  memcpy(r[2].id, ID_A, sizeof(ID_A));
  ck_assert_int_eq(parse("{\"results\":[{\"id\":\"" ID_A
                         "\",\"status\":\"duplicate\"}]}",
                         r, 3),
                   CASHBACK_OK);
  ck_assert_int_eq(r[0].outcome, CASHBACK__OUTCOME_DUPLICATE);
  ck_assert_int_eq(r[1].outcome, CASHBACK__OUTCOME_PENDING);
  ck_assert_int_eq(r[2].outcome, CASHBACK__OUTCOME_DUPLICATE);
}
END_TEST

/* "retry" (docs/protocol.md, section 6): kept and sent again later, with
 * its reason; it outranks accepted and duplicate in a contradictory answer
 * (the event is kept), and a rejection outranks it. */
START_TEST(response_retry) {
  cashback__result r[3];
  three(r);
  ck_assert_int_eq(
      parse("{\"results\":[{\"id\":\"" ID_A "\",\"status\":\"retry\","
            "\"reason\":\"unknown_order\",\"message\":\"no sale of 1001 yet\"},"
            "{\"id\":\"" ID_B "\",\"status\":\"accepted\"},"
            "{\"id\":\"" ID_B "\",\"status\":\"retry\"},"
            "{\"id\":\"" ID_C "\",\"status\":\"retry\","
            "\"reason\":\"unknown_order\"},"
            "{\"id\":\"" ID_C "\",\"status\":\"rejected\","
            "\"reason\":\"amount_mismatch\"}]}",
            r, 3),
      CASHBACK_OK);
  ck_assert_int_eq(r[0].outcome, CASHBACK__OUTCOME_RETRY);
  ck_assert_str_eq(r[0].reason, "unknown_order");
  ck_assert_str_eq(r[0].message, "no sale of 1001 yet");
  ck_assert_int_eq(r[1].outcome, CASHBACK__OUTCOME_RETRY);
  ck_assert_str_eq(r[1].reason, "");
  ck_assert_int_eq(r[2].outcome, CASHBACK__OUTCOME_REJECTED);
  ck_assert_str_eq(r[2].reason, "amount_mismatch");
  /* Case matters, as for every status. */
  three(r);
  ck_assert_int_eq(
      parse("{\"results\":[{\"id\":\"" ID_A "\",\"status\":\"Retry\"}]}", r, 1),
      CASHBACK_OK);
  ck_assert_int_eq(r[0].outcome, CASHBACK__OUTCOME_PENDING);
}
END_TEST

START_TEST(response_not_the_protocol) {
  const char *bad[] = {
      "",
      "   ",
      "not json",
      "<html>502 Bad Gateway</html>",
      "[]",
      "null",
      "42",
      "\"results\"",
      "{}",
      "{\"results\":{}}",
      "{\"results\":null}",
      "{\"results\":\"accepted\"}",
      "{\"Results\":[]}",
      "{\"results\":[]",                        /* cut short */
      "{\"results\":[]} {\"results\":[]}",      /* two documents */
      "{\"results\":[]} x",                     /* trailing garbage */
      "{\"results\":[{\"id\":\"" ID_A "\",}]}", /* trailing comma */
  };
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    cashback__result r[3];
    three(r);
    ck_assert_msg(parse(bad[i], r, 3) == CASHBACK_E_PROTOCOL, "accepted '%s'",
                  bad[i]);
    assert_pending(r, 3);
  }
  /* Only `len` bytes are read: the valid prefix parses, a cut one fails. */
  const char *doc =
      "{\"results\":[{\"id\":\"" ID_A "\",\"status\":\"accepted\"}]}GARBAGE";
  cashback__result r[3];
  three(r);
  ck_assert_int_eq(cashback__response_parse(doc, strlen(doc) - 7, r, 3),
                   CASHBACK_OK);
  ck_assert_int_eq(r[0].outcome, CASHBACK__OUTCOME_ACCEPTED);
  three(r);
  ck_assert_int_eq(cashback__response_parse(doc, 20, r, 3),
                   CASHBACK_E_PROTOCOL);
  assert_pending(r, 3);
  /* Argument errors. */
  ck_assert_int_eq(cashback__response_parse(NULL, 3, r, 3),
                   CASHBACK_E_INVALID_ARGUMENT);
  ck_assert_int_eq(cashback__response_parse("{}", 2, NULL, 3),
                   CASHBACK_E_INVALID_ARGUMENT);
  ck_assert_int_eq(cashback__response_parse(NULL, 0, r, 3),
                   CASHBACK_E_PROTOCOL);
}
END_TEST

START_TEST(response_wrong_types) {
  cashback__result r[3];
  three(r);
  /* Entries that are not results are skipped, the valid one is applied. */
  ck_assert_int_eq(
      parse("{\"results\":[1,\"x\",null,[],{\"id\":7,\"status\":\"accepted\"},"
            "{\"id\":\"" ID_B "\",\"status\":true},"
            "{\"id\":\"" ID_B "\"},"
            "{\"status\":\"accepted\"},"
            "{\"id\":[\"" ID_C "\"],\"status\":\"accepted\"},"
            "{\"id\":\"" ID_C "\",\"status\":\"ACCEPTED\"},"
            "{\"id\":\"" ID_A "\",\"status\":\"rejected\",\"reason\":5,"
            "\"message\":{\"m\":1}}]}",
            r, 3),
      CASHBACK_OK);
  ck_assert_int_eq(r[0].outcome, CASHBACK__OUTCOME_REJECTED);
  ck_assert_str_eq(r[0].reason, ""); /* not a string: none */
  ck_assert_str_eq(r[0].message, "");
  assert_pending(&r[1], 2);
}
END_TEST

START_TEST(response_sanitised_text) {
  cashback__result r[3];
  three(r);
  /* Control characters (JSON-escaped or not), DEL and every byte of UTF-8
   * sequences are shown as \xNN (cashback_text.h). */
  ck_assert_int_eq(parse("{\"results\":[{\"id\":\"" ID_A
                         "\",\"status\":\"rejected\","
                         "\"reason\":\"bad\\nclick\\u0007\","
                         "\"message\":\"Gr\xc3\xbc\xc3\x9f"
                         "e \xe2\x82\xac\\t\\r\x7f ok\"}]}",
                         r, 3),
                   CASHBACK_OK);
  ck_assert_str_eq(r[0].reason, "bad\\x0aclick\\x07");
  ck_assert_str_eq(r[0].message,
                   "Gr\\xc3\\xbc\\xc3\\x9fe \\xe2\\x82\\xac\\x09\\x0d\\x7f ok");

  /* Very long texts are cut at the field's size, marked "...". */
  size_t big = 5000;
  char *reason = malloc(big + 1);
  char *message = malloc(big + 1);
  char *doc = malloc(3 * big);
  ck_assert_ptr_nonnull(reason);
  ck_assert_ptr_nonnull(message);
  ck_assert_ptr_nonnull(doc);
  memset(reason, 'r', big);
  reason[big] = '\0';
  memset(message, 'm', big);
  message[big] = '\0';
  snprintf(doc, 3 * big,
           "{\"results\":[{\"id\":\"" ID_B "\",\"status\":\"rejected\","
           "\"reason\":\"%s\",\"message\":\"%s\"}]}",
           reason, message);
  three(r);
  ck_assert_int_eq(parse(doc, r, 3), CASHBACK_OK);
  ck_assert_uint_eq(strlen(r[1].reason), CASHBACK_ID_MAX);
  ck_assert_uint_eq(strlen(r[1].message), CASHBACK_ERROR_MAX);
  ck_assert_int_eq(r[1].reason[0], 'r');
  ck_assert_int_eq(r[1].message[CASHBACK_ERROR_MAX - 4], 'm');
  ck_assert_str_eq(r[1].message + CASHBACK_ERROR_MAX - 3, "...");
  free(reason);
  free(message);
  free(doc);
}
END_TEST

START_TEST(response_large_answer) {
  /* 1000 results and an answer of 1000 entries in reverse order, plus 1000
   * strangers: every one matched. */
  size_t n = 1000;
  cashback__result *r = calloc(n, sizeof(*r));
  size_t cap = 3 * n * 80 + 64;
  char *doc = malloc(cap);
  ck_assert_ptr_nonnull(r);
  ck_assert_ptr_nonnull(doc);
  size_t off = (size_t)snprintf(doc, cap, "{\"results\":[");
  for (size_t i = 0; i < n; i++) {
    snprintf(r[i].id, sizeof(r[i].id), "%032zx", i * 7919);
  }
  for (size_t k = 0; k < n; k++) {
    size_t i = n - 1 - k;
    off += (size_t)snprintf(doc + off, cap - off,
                            "{\"id\":\"%032zx\",\"status\":\"%s\"},"
                            "{\"id\":\"%032zx\",\"status\":\"accepted\"},",
                            i * 7919, i % 2 ? "accepted" : "duplicate",
                            i * 7919 + 1);
  }
  snprintf(doc + off - 1, cap - off + 1, "]}");
  ck_assert_int_eq(parse(doc, r, n), CASHBACK_OK);
  for (size_t i = 0; i < n; i++)
    ck_assert_int_eq(r[i].outcome, i % 2 ? CASHBACK__OUTCOME_ACCEPTED
                                         : CASHBACK__OUTCOME_DUPLICATE);
  free(r);
  free(doc);
}
END_TEST

/* 600 results in which ids repeat (1 to 3 copies, spread apart), answered
 * in a shuffled order with strangers between: every copy of an answered id
 * gets its outcome, the unanswered stay PENDING. */
START_TEST(response_copies_spread_over_a_batch) {
  size_t n = 600, ids = 300;
  cashback__result *r = calloc(n, sizeof(*r));
  size_t cap = 2 * ids * 80 + 64;
  char *doc = malloc(cap);
  ck_assert_ptr_nonnull(r);
  ck_assert_ptr_nonnull(doc);
  for (size_t i = 0; i < n; i++)
    snprintf(r[i].id, sizeof(r[i].id), "%032zx", (i * 37) % ids);
  size_t off = (size_t)snprintf(doc, cap, "{\"results\":[");
  for (size_t k = 0; k < ids; k++) {
    size_t id = (k * 131) % ids; /* 131 and 300 are coprime: a permutation */
    if (id % 5 == 4)
      continue; /* not answered */
    off += (size_t)snprintf(doc + off, cap - off,
                            "{\"id\":\"%032zx\",\"status\":\"%s\"},"
                            "{\"id\":\"%032zx\",\"status\":\"accepted\"},",
                            id, id % 2 ? "accepted" : "duplicate", id + 100000);
  }
  snprintf(doc + off - 1, cap - off + 1, "]}");
  ck_assert_int_eq(parse(doc, r, n), CASHBACK_OK);
  for (size_t i = 0; i < n; i++) {
    size_t id = (i * 37) % ids;
    cashback__outcome want = id % 5 == 4 ? CASHBACK__OUTCOME_PENDING
                             : id % 2    ? CASHBACK__OUTCOME_ACCEPTED
                                         : CASHBACK__OUTCOME_DUPLICATE;
    ck_assert_msg(r[i].outcome == want, "result %zu (id %zu): %d", i, id,
                  (int)r[i].outcome);
  }
  free(r);
  free(doc);
}
END_TEST

TCase *cashback_test_response(void) {
  TCase *tc = tcase_create("response");
  tcase_add_test(tc, response_every_outcome);
  tcase_add_test(tc, response_partial_and_unknown);
  tcase_add_test(tc, response_repeated_ids);
  tcase_add_test(tc, response_retry);
  tcase_add_test(tc, response_not_the_protocol);
  tcase_add_test(tc, response_wrong_types);
  tcase_add_test(tc, response_sanitised_text);
  tcase_add_test(tc, response_large_answer);
  tcase_add_test(tc, response_copies_spread_over_a_batch);
  return tc;
}
