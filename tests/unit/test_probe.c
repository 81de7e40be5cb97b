/* Unit tests for sdk/cashback_probe.c: the test event against the in-tree
 * receiver (tests/receiver/receiver.py), and the spool directory check. */
#include "tests.h"

#include "capture.h"
#include "fixture.h"
#include "receiver.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

static int64_t offset_clock(void *ud) {
  return (int64_t)time(NULL) + *(int64_t *)ud;
}

/* A client of shop-42 with key k1 posting to `endpoint`; its clock is the
 * system's plus *offset when `offset` is not NULL. */
static cashback_client *probe_client(const char *endpoint, const char *secret,
                                     int64_t *offset) {
  cashback_options *o = cashback_options_new();
  ck_assert_ptr_nonnull(o);
  ck_assert_int_eq(cashback_options_set_merchant_id(o, "shop-42"), CASHBACK_OK);
  ck_assert_int_eq(cashback_options_set_key(o, "k1", secret), CASHBACK_OK);
  ck_assert_int_eq(cashback_options_set_endpoint(o, endpoint), CASHBACK_OK);
  ck_assert_int_eq(cashback_options_set_timeouts(o, 2000, 5000), CASHBACK_OK);
  if (offset)
    ck_assert_int_eq(cashback_options_set_clock(o, offset_clock, offset),
                     CASHBACK_OK);
  cashback_client *c = NULL;
  ck_assert_int_eq(cashback_client_new(o, &c, NULL, 0), CASHBACK_OK);
  return c;
}

static int seen_by(receiver *r, const char *id) {
  cJSON *j = receiver_stats(r);
  cJSON *events = cJSON_GetObjectItem(j, "events");
  int n = cJSON_IsNumber(cJSON_GetObjectItem(events, id))
              ? (int)cJSON_GetObjectItem(events, id)->valuedouble
              : 0;
  cJSON_Delete(j);
  return n;
}

START_TEST(probe_outcomes) {
  receiver r;
  receiver_start(&r, "k1:" FIXTURE_SECRET);
  cashback_client *c = probe_client(r.endpoint, FIXTURE_SECRET, NULL);
  cashback_probe_result p = {.size = sizeof(p)};
  time_t before = time(NULL);
  ck_assert_int_eq(cashback_probe(c, &p), CASHBACK_OK);
  ck_assert_int_eq(p.http_status, 200);
  ck_assert_str_eq(p.outcome, "accepted");
  ck_assert_int_eq(p.tls, 0); /* plain http on loopback */
  ck_assert_int_eq(p.tls_error, 0);
  ck_assert_uint_eq(strlen(p.event_id), CASHBACK_EVENT_ID_LEN);
  ck_assert_int_eq(seen_by(&r, p.event_id), 1);
  /* Date has one-second resolution; both clocks are this machine's. */
  ck_assert_int_ge(p.server_time, (int64_t)before - 1);
  ck_assert_int_le(p.clock_skew_s, 2);
  ck_assert_int_ge(p.clock_skew_s, -2);
  ck_assert_int_ge(p.elapsed_ms, 0);

  /* The network rejects the event: still an answer. */
  receiver_control(&r, "{\"reject_index\":0,\"count\":1}");
  ck_assert_int_eq(cashback_probe(c, &p), CASHBACK_OK);
  ck_assert_str_eq(p.outcome, "rejected");
  ck_assert_str_eq(p.reason, "rejected_by_test");
  ck_assert_str_eq(p.detail, "rejected by the test receiver");

  /* A 503 is an HTTP error, with the body as detail. */
  receiver_control(&r, "{\"status\":503,\"count\":1}");
  ck_assert_int_eq(cashback_probe(c, &p), CASHBACK_E_HTTP);
  ck_assert_int_eq(p.http_status, 503);
  ck_assert_str_eq(p.outcome, "");
  char err[CASHBACK_ERROR_MAX + 1];
  ck_assert_int_eq(cashback_client_last_error(c, err, sizeof(err)),
                   CASHBACK_E_HTTP);
  ck_assert_ptr_nonnull(strstr(err, "answered 503"));
  cashback_client_free(c);

  /* A clock an hour ahead: refused, and the skew says why. */
  int64_t ahead = 3600;
  c = probe_client(r.endpoint, FIXTURE_SECRET, &ahead);
  ck_assert_int_eq(cashback_probe(c, &p), CASHBACK_E_AUTH);
  ck_assert_int_eq(p.http_status, 401);
  ck_assert_ptr_nonnull(strstr(p.detail, "timestamp"));
  ck_assert_int_ge(p.clock_skew_s, 3598);
  ck_assert_int_le(p.clock_skew_s, 3602);
  cashback_client_free(c);

  /* The wrong secret. */
  c = probe_client(r.endpoint, "another-secret-0123456789", NULL);
  ck_assert_int_eq(cashback_probe(c, &p), CASHBACK_E_AUTH);
  ck_assert_int_eq(p.http_status, 401);
  ck_assert_ptr_nonnull(strstr(p.detail, "mismatch"));
  cashback_client_free(c);

  /* Nobody listening any more: no answer. */
  char endpoint[sizeof(r.endpoint)];
  memcpy(endpoint, r.endpoint, sizeof(endpoint));
  receiver_stop(&r);
  c = probe_client(endpoint, FIXTURE_SECRET, NULL);
  ck_assert_int_eq(cashback_probe(c, &p), CASHBACK_E_NETWORK);
  ck_assert_int_eq(p.http_status, 0);
  ck_assert_int_eq(p.tls_error, 0);
  ck_assert_int_eq(p.server_time, 0);
  ck_assert_ptr_nonnull(strstr(p.detail, "curl error"));
  ck_assert_int_eq(cashback_probe(NULL, &p), CASHBACK_E_INVALID_ARGUMENT);
  ck_assert_int_eq(cashback_probe(c, NULL), CASHBACK_E_INVALID_ARGUMENT);
  cashback_client_free(c);
}
END_TEST

/* The network answers "retry" for the test event (a follow-up before its
 * sale, say): an answer, named as the protocol names it, with its reason.
 * (The probe's own table indexed its names by the outcome and read past
 * them for "retry".) */
START_TEST(probe_reports_a_retry_answer) {
  capture cap;
  capture_start(&cap, "retry");
  cashback_client *c = probe_client(cap.url, FIXTURE_SECRET, NULL);
  cashback_probe_result p = {.size = sizeof(p)};
  ck_assert_int_eq(cashback_probe(c, &p), CASHBACK_OK);
  ck_assert_int_eq(p.http_status, 200);
  ck_assert_str_eq(p.outcome, "retry");
  pthread_mutex_lock(&cap.mu);
  ck_assert_int_eq(cap.requests, 1);
  ck_assert_ptr_nonnull(strstr(cap.body, p.event_id));
  pthread_mutex_unlock(&cap.mu);
  cashback_client_free(c);
  capture_stop(&cap);
}
END_TEST

START_TEST(spool_directory) {
  char dir[64], spool[96];
  snprintf(dir, sizeof(dir), "/tmp/cbprobe-XXXXXX");
  ck_assert_ptr_nonnull(mkdtemp(dir));
  snprintf(spool, sizeof(spool), "%s/spool", dir);
  cashback_options *o = cashback_options_new();
  ck_assert_int_eq(cashback_options_set_merchant_id(o, "shop-42"), CASHBACK_OK);
  ck_assert_int_eq(cashback_options_set_key(o, "k1", FIXTURE_SECRET),
                   CASHBACK_OK);
  ck_assert_int_eq(
      cashback_options_set_endpoint(o, "http://127.0.0.1:9/v1/events"),
      CASHBACK_OK);
  ck_assert_int_eq(cashback_options_set_spool_dir(o, spool), CASHBACK_OK);
  ck_assert_int_eq(cashback_options_set_spool_max_bytes(o, 1 << 20),
                   CASHBACK_OK);
  cashback_client *c = NULL;
  ck_assert_int_eq(cashback_client_new(o, &c, NULL, 0), CASHBACK_OK);
  cashback_spool_info si = {.size = sizeof(si)};
  ck_assert_int_eq(cashback_spool_check(c, &si), CASHBACK_OK);
  ck_assert_str_eq(si.dir, spool);
  ck_assert_uint_eq(si.mode, 0700); /* created by the check */
  ck_assert_int_eq(si.owned, 1);
  ck_assert_int_eq(si.writable, 1);
  ck_assert_uint_gt(si.free_bytes, 0);
  ck_assert_uint_ge(si.total_bytes, si.free_bytes);
  ck_assert_uint_eq(si.queued_bytes, 0);
  ck_assert_uint_eq(si.max_bytes, 1 << 20);

  /* A directory others may read is seen as such. */
  ck_assert_int_eq(chmod(spool, 0755), 0);
  ck_assert_int_eq(cashback_spool_check(c, &si), CASHBACK_OK);
  ck_assert_uint_eq(si.mode, 0755);
  ck_assert_int_eq(cashback_spool_check(NULL, &si),
                   CASHBACK_E_INVALID_ARGUMENT);
  cashback_client_free(c);
  char cmd[128];
  snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
  ck_assert_int_eq(system(cmd), 0);
}
END_TEST

TCase *cashback_test_probe(void) {
  TCase *tc = tcase_create("probe");
  tcase_set_timeout(tc, 60);
  tcase_add_test(tc, probe_outcomes);
  tcase_add_test(tc, probe_reports_a_retry_answer);
  tcase_add_test(tc, spool_directory);
  return tc;
}
