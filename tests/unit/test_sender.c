/* The sender against the in-tree receiver (tests/receiver/receiver.py) on
 * 127.0.0.1, scripted per case through its /_control endpoint. */
#include "cashback.h"
#include "cashback_sender.h"
#include "cashback_spool.h"
#include "receiver.h"
#include "tests.h"

#include <sys/stat.h>

#define SECRET "sender-test-secret-0123456789"

static receiver rx;
static char spool_root[64];

static void setup(void) {
  receiver_start(&rx, "k1:" SECRET);
  snprintf(spool_root, sizeof(spool_root), "/tmp/cbsend-XXXXXX");
  ck_assert_ptr_nonnull(mkdtemp(spool_root));
}

static void teardown(void) {
  receiver_stop(&rx);
  char cmd[128];
  snprintf(cmd, sizeof(cmd), "rm -rf '%s'", spool_root);
  ck_assert_int_eq(system(cmd), 0);
}

/* A client of shop-1 on the receiver, spooling under spool_root. */
static cashback_client *client_with(const char *secret, size_t batch) {
  cashback_options *o = cashback_options_new();
  char dir[128];
  snprintf(dir, sizeof(dir), "%s/spool", spool_root);
  ck_assert_int_eq(cashback_options_set_merchant_id(o, "shop-1"), CASHBACK_OK);
  ck_assert_int_eq(cashback_options_set_key(o, "k1", secret), CASHBACK_OK);
  ck_assert_int_eq(cashback_options_set_endpoint(o, rx.endpoint), CASHBACK_OK);
  ck_assert_int_eq(cashback_options_set_spool_dir(o, dir), CASHBACK_OK);
  ck_assert_int_eq(cashback_options_set_backoff(o, 50, 400), CASHBACK_OK);
  ck_assert_int_eq(cashback_options_set_timeouts(o, 1000, 700), CASHBACK_OK);
  ck_assert_int_eq(cashback_options_set_batch(o, batch, 1u << 20), CASHBACK_OK);
  cashback_client *c = NULL;
  char d[CASHBACK_ERROR_MAX + 1];
  ck_assert_msg(cashback_client_new(o, &c, d, sizeof(d)) == CASHBACK_OK, "%s",
                d);
  return c;
}

static cashback_client *client(void) {
  return client_with(SECRET, 500);
}

static void report_sale(cashback_client *c, const char *order) {
  cashback_event *ev = cashback_event_new(CASHBACK_EVENT_SALE, order);
  ck_assert_int_eq(cashback_event_set_click(ev, "tok"), CASHBACK_OK);
  ck_assert_int_eq(cashback_event_set_amount(ev, 4990, "EUR"), CASHBACK_OK);
  ck_assert_int_eq(cashback_report(c, ev, NULL), CASHBACK_OK);
  cashback_event_free(ev);
}

static void report_n(cashback_client *c, int n, const char *prefix) {
  char order[32];
  for (int i = 0; i < n; i++) {
    snprintf(order, sizeof(order), "%s%d", prefix, i);
    report_sale(c, order);
  }
}

static uint64_t queued(cashback_client *c) {
  cashback_queue_status s;
  ck_assert_int_eq(cashback_get_status(c, &s), CASHBACK_OK);
  return s.queued_events;
}

/* Number of batch requests the receiver logged with this status. */
static int requests_with(int status) {
  cJSON *j = receiver_stats(&rx);
  int n = 0;
  cJSON *e;
  cJSON_ArrayForEach(e, cJSON_GetObjectItem(j, "log")) {
    if ((int)cJSON_GetObjectItem(e, "status")->valuedouble == status)
      n++;
  }
  cJSON_Delete(j);
  return n;
}

START_TEST(delivers_and_empties_the_spool) {
  cashback_client *c = client();
  report_n(c, 3, "A");
  ck_assert_uint_eq(queued(c), 3);
  ck_assert_int_eq(cashback_flush(c, 10000), CASHBACK_OK);
  ck_assert_int_eq(receiver_stat(&rx, "accepted"), 3);
  ck_assert_int_eq(receiver_stat(&rx, "bad_signature"), 0);
  ck_assert_uint_eq(queued(c), 0);
  cashback_queue_status s;
  cashback_get_status(c, &s);
  ck_assert_int_gt(s.last_success, 0);
  ck_assert_int_eq(s.last_status, CASHBACK_OK);
  /* A reloaded thank-you page: the same sale again is a duplicate. */
  report_sale(c, "A1");
  ck_assert_int_eq(cashback_flush(c, 10000), CASHBACK_OK);
  ck_assert_int_eq(receiver_stat(&rx, "accepted"), 3);
  ck_assert_int_eq(receiver_stat(&rx, "duplicates"), 1);
  /* Nothing queued: flush is immediate. */
  ck_assert_int_eq(cashback_flush(c, 1000), CASHBACK_OK);
  cashback_client_free(c);
}
END_TEST

START_TEST(batches_are_bounded) {
  cashback_client *c = client_with(SECRET, 10);
  report_n(c, 35, "B");
  ck_assert_int_eq(cashback_flush(c, 10000), CASHBACK_OK);
  cJSON *j = receiver_stats(&rx);
  cJSON *log = cJSON_GetObjectItem(j, "log");
  ck_assert_int_eq(cJSON_GetArraySize(log), 4);
  int sizes[4];
  for (int i = 0; i < 4; i++)
    sizes[i] = (int)cJSON_GetObjectItem(cJSON_GetArrayItem(log, i), "events")
                   ->valuedouble;
  ck_assert_int_eq(sizes[0], 10);
  ck_assert_int_eq(sizes[3], 5);
  cJSON_Delete(j);
  ck_assert_int_eq(receiver_stat(&rx, "accepted"), 35);
  cashback_client_free(c);
}
END_TEST

START_TEST(retries_5xx_with_backoff) {
  cashback_client *c = client();
  report_n(c, 2, "C");
  receiver_control(&rx, "{\"status\":500,\"count\":2}");
  ck_assert_int_eq(cashback_flush(c, 10000), CASHBACK_OK);
  ck_assert_int_eq(requests_with(500), 2);
  ck_assert_int_eq(receiver_stat(&rx, "accepted"), 2);
  cashback_client_free(c);
}
END_TEST

START_TEST(honours_retry_after) {
  cashback_client *c = client();
  report_n(c, 1, "D");
  receiver_control(&rx, "{\"status\":503,\"count\":1,\"retry_after\":\"1\"}");
  /* The first attempt fails and schedules the retry 1 s later (more than
   * the 400 ms backoff cap), and a short flush gives up before then. */
  ck_assert_int_eq(cashback_flush(c, 300), CASHBACK_E_HTTP);
  cashback_queue_status s;
  cashback_get_status(c, &s);
  ck_assert_int_eq(s.last_status, CASHBACK_E_HTTP);
  ck_assert_ptr_nonnull(strstr(s.last_error, "503"));
  ck_assert_int_gt(s.next_attempt, 0);
  ck_assert_int_eq(cashback_flush(c, 5000), CASHBACK_OK);
  cJSON *j = receiver_stats(&rx);
  cJSON *log = cJSON_GetObjectItem(j, "log");
  ck_assert_int_eq(cJSON_GetArraySize(log), 2);
  double t0 = cJSON_GetObjectItem(cJSON_GetArrayItem(log, 0), "t")->valuedouble;
  double t1 = cJSON_GetObjectItem(cJSON_GetArrayItem(log, 1), "t")->valuedouble;
  ck_assert_msg(t1 - t0 >= 0.9, "retried after %.3f s, before Retry-After",
                t1 - t0);
  cJSON_Delete(j);
  cashback_client_free(c);
}
END_TEST

START_TEST(survives_resets_and_hangs) {
  cashback_client *c = client();
  report_n(c, 3, "E");
  receiver_control(&rx, "{\"reset\":true,\"count\":1}");
  receiver_control(&rx, "{\"hang\":true,\"count\":1}");
  ck_assert_int_eq(cashback_flush(c, 15000), CASHBACK_OK);
  ck_assert_int_eq(receiver_stat(&rx, "accepted"), 3);
  cashback_client_free(c);
}
END_TEST

START_TEST(accepted_but_unanswered_is_resent_and_deduped) {
  cashback_client *c = client();
  report_n(c, 4, "F");
  receiver_control(&rx, "{\"accept_then_reset\":true,\"count\":1}");
  ck_assert_int_eq(cashback_flush(c, 10000), CASHBACK_OK);
  ck_assert_int_eq(receiver_stat(&rx, "accepted"), 4);
  ck_assert_int_eq(receiver_stat(&rx, "duplicates"), 4);
  ck_assert_uint_eq(queued(c), 0);
  cashback_client_free(c);
}
END_TEST

typedef struct qlist {
  int n;
  char id[40];
  char reason[40];
} qlist;

static int on_quarantined(const cashback_quarantined *q, void *ud) {
  qlist *l = ud;
  l->n++;
  snprintf(l->id, sizeof(l->id), "%s", q->id);
  snprintf(l->reason, sizeof(l->reason), "%s", q->reason);
  ck_assert_ptr_nonnull(strstr(q->event_json, q->id));
  return 0;
}

START_TEST(rejected_event_is_quarantined_then_replayed) {
  cashback_client *c = client();
  report_n(c, 3, "G");
  receiver_control(&rx, "{\"reject_index\":1,\"count\":1}");
  ck_assert_int_eq(cashback_flush(c, 10000), CASHBACK_OK);
  ck_assert_int_eq(receiver_stat(&rx, "accepted"), 2);
  ck_assert_int_eq(receiver_stat(&rx, "rejected"), 1);
  ck_assert_uint_eq(queued(c), 0);
  cashback_queue_status s;
  cashback_get_status(c, &s);
  ck_assert_uint_eq(s.quarantined, 1);
  qlist l = {0};
  ck_assert_int_eq(cashback_quarantine_list(c, on_quarantined, &l),
                   CASHBACK_OK);
  ck_assert_int_eq(l.n, 1);
  ck_assert_uint_eq(strlen(l.id), CASHBACK_EVENT_ID_LEN);
  ck_assert_str_ne(l.reason, "");
  size_t replayed = 0;
  ck_assert_int_eq(cashback_quarantine_replay(c, "0000", &replayed),
                   CASHBACK_E_NOT_FOUND);
  ck_assert_int_eq(cashback_quarantine_replay(c, l.id, &replayed), CASHBACK_OK);
  ck_assert_uint_eq(replayed, 1);
  cashback_get_status(c, &s);
  ck_assert_uint_eq(s.quarantined, 0);
  ck_assert_uint_eq(s.queued_events, 1);
  ck_assert_int_eq(cashback_flush(c, 10000), CASHBACK_OK);
  ck_assert_int_eq(receiver_stat(&rx, "accepted"), 3);
  cashback_client_free(c);
}
END_TEST

START_TEST(bad_batch_is_split_down_to_the_bad_event) {
  cashback_client *c = client();
  report_n(c, 8, "H");
  /* Every batch of more than one event is refused once; then singles. */
  receiver_control(&rx, "{\"status\":400,\"count\":3}");
  ck_assert_int_eq(cashback_flush(c, 10000), CASHBACK_OK);
  /* 8 refused, then 4, then 2: the first accepted batch is a single
   * event, and the batch grows back after each success (1, 2, 4, 1). */
  ck_assert_int_eq(requests_with(400), 3);
  cJSON *j = receiver_stats(&rx);
  cJSON *log = cJSON_GetObjectItem(j, "log");
  int sizes[8], k = 0;
  cJSON *e;
  cJSON_ArrayForEach(e, log) {
    if ((int)cJSON_GetObjectItem(e, "status")->valuedouble == 200 && k < 8)
      sizes[k++] = (int)cJSON_GetObjectItem(e, "events")->valuedouble;
  }
  cJSON_Delete(j);
  ck_assert_int_eq(k, 4);
  ck_assert_int_eq(sizes[0], 1);
  ck_assert_int_eq(sizes[1], 2);
  ck_assert_int_eq(sizes[2], 4);
  ck_assert_int_eq(receiver_stat(&rx, "accepted"), 8);
  ck_assert_uint_eq(queued(c), 0);
  /* An event the endpoint refuses with 400 wherever it is, while it takes
   * the others: that event alone is quarantined, not retried forever. */
  receiver_control(&rx, "{\"bad_orders\":[\"H-bad\"]}");
  report_sale(c, "H-bad");
  report_sale(c, "H-good");
  ck_assert_int_eq(cashback_flush(c, 10000), CASHBACK_OK);
  cashback_queue_status s;
  cashback_get_status(c, &s);
  ck_assert_uint_eq(s.quarantined, 1);
  ck_assert_uint_eq(s.queued_events, 0);
  ck_assert_int_eq(s.path_fault, 0);
  ck_assert_int_eq(receiver_stat(&rx, "accepted"), 9);
  qlist l = {0};
  cashback_quarantine_list(c, on_quarantined, &l);
  ck_assert_str_eq(l.reason, "http_400");
  cashback_client_free(c);
}
END_TEST

/* A path that answers 400 to everything (a proxy, a wrong endpoint) is not
 * 40 bad events: nothing is quarantined, the sender backs off instead of
 * halving down to single events and quarantining each, and status says
 * so. Sending resumes once the path is fixed. */
START_TEST(a_path_refusing_everything_quarantines_nothing) {
  cashback_client *c = client();
  report_n(c, 40, "P");
  receiver_control(&rx, "{\"status\":400,\"count\":-1}");
  ck_assert_int_ne(cashback_flush(c, 3000), CASHBACK_OK);
  cashback_queue_status s;
  ck_assert_int_eq(cashback_get_status(c, &s), CASHBACK_OK);
  ck_assert_uint_eq(s.quarantined, 0);
  ck_assert_uint_eq(s.queued_events, 40);
  ck_assert_int_eq(s.path_fault, 400);
  ck_assert_ptr_nonnull(strstr(s.last_error, "fault of the path"));
  /* Halving (40, 20, 10, 5, 2, 1), then two requests per backoff. The
   * bound is loose (3 s of backoff from 50 ms to 400 ms): a storm is
   * hundreds. */
  long storm = receiver_stat(&rx, "requests");
  ck_assert_int_le(storm, 60);
  /* Another flush while backing off does not hammer the path either. */
  cashback_flush(c, 100);
  ck_assert_int_le(receiver_stat(&rx, "requests"), storm + 2);
  receiver_control(&rx, "{\"clear\":true}");
  ck_assert_int_eq(cashback_flush(c, 10000), CASHBACK_OK);
  ck_assert_int_eq(receiver_stat(&rx, "accepted"), 40);
  ck_assert_int_eq(cashback_get_status(c, &s), CASHBACK_OK);
  ck_assert_int_eq(s.path_fault, 0);
  ck_assert_uint_eq(s.quarantined, 0);
  cashback_client_free(c);
}
END_TEST

/* A full disk under a 400: the bad event cannot be quarantined. It stays
 * in the spool and the sender backs off; no hot loop. */
START_TEST(unwritable_quarantine_backs_off) {
  cashback_client *c = client();
  receiver_control(&rx, "{\"bad_orders\":[\"Q-bad\"]}");
  report_sale(c, "Q-bad");
  report_sale(c, "Q-good");
  char path[160];
  snprintf(path, sizeof(path), "%s/spool/quarantine.log", spool_root);
  unlink(path);
  ck_assert_int_eq(mkdir(path, 0700), 0); /* appends to it fail */
  ck_assert_int_ne(cashback_flush(c, 2000), CASHBACK_OK);
  /* About one request per backoff (50-400 ms); a hot loop is hundreds. */
  ck_assert_int_le(receiver_stat(&rx, "requests"), 30);
  ck_assert_int_eq(receiver_stat(&rx, "accepted"), 1);
  ck_assert_int_eq(rmdir(path), 0);
  cashback_queue_status s;
  ck_assert_int_eq(cashback_get_status(c, &s), CASHBACK_OK);
  ck_assert_int_eq(s.last_status, CASHBACK_E_IO);
  ck_assert_ptr_nonnull(strstr(s.last_error, "cannot write the quarantine"));
  /* Both kept: the cursor cannot pass the bad event (the good one goes
   * again, a duplicate). */
  ck_assert_uint_eq(s.queued_events, 2);
  receiver_control(&rx, "{\"clear\":true}");
  ck_assert_int_eq(cashback_flush(c, 10000), CASHBACK_OK);
  ck_assert_int_eq(receiver_stat(&rx, "accepted"), 2);
  cashback_client_free(c);
}
END_TEST

/* A reloaded page reported the same cancel twice and both copies are in
 * one batch: the id is sent once and both copies are settled by that one
 * answer, even by a network that rejects a repeated id in a batch. */
START_TEST(one_id_twice_in_a_batch_is_sent_once) {
  cashback_client *c = client();
  report_sale(c, "R1");
  char id[CASHBACK_EVENT_ID_LEN + 1];
  for (int i = 0; i < 2; i++) {
    cashback_event *ev = cashback_event_new(CASHBACK_EVENT_CANCEL, "R1");
    ck_assert_int_eq(cashback_report(c, ev, id), CASHBACK_OK);
    cashback_event_free(ev);
  }
  report_sale(c, "R2");
  ck_assert_uint_eq(queued(c), 4);
  receiver_control(&rx, "{\"reject_repeats\":true}");
  ck_assert_int_eq(cashback_flush(c, 10000), CASHBACK_OK);
  cashback_queue_status s;
  cashback_get_status(c, &s);
  ck_assert_uint_eq(s.quarantined, 0);
  ck_assert_uint_eq(s.queued_events, 0);
  ck_assert_int_eq(receiver_stat(&rx, "accepted"), 3);
  ck_assert_int_eq(receiver_stat(&rx, "rejected"), 0);
  cJSON *j = receiver_stats(&rx);
  cJSON *times = cJSON_GetObjectItem(cJSON_GetObjectItem(j, "events"), id);
  ck_assert_ptr_nonnull(times);
  ck_assert_int_eq((int)times->valuedouble, 1);
  cJSON_Delete(j);
  cashback_client_free(c);
}
END_TEST

START_TEST(wrong_key_pauses_and_keeps_everything) {
  cashback_client *bad = client_with("not-the-right-secret-0000", 500);
  report_n(bad, 2, "I");
  ck_assert_int_eq(cashback_flush(bad, 3000), CASHBACK_E_AUTH);
  cashback_queue_status s;
  cashback_get_status(bad, &s);
  ck_assert_int_eq(s.paused, 1);
  ck_assert_uint_eq(s.queued_events, 2);
  ck_assert_ptr_nonnull(strstr(s.last_error, "refused key 'k1'"));
  ck_assert_ptr_null(strstr(s.last_error, "not-the-right"));
  /* Paused: another flush with the same key does not hammer the network. */
  long before = receiver_stat(&rx, "requests");
  ck_assert_int_eq(cashback_flush(bad, 200), CASHBACK_E_AUTH);
  ck_assert_int_eq(receiver_stat(&rx, "requests"), before);
  cashback_client_free(bad);
  /* The operator fixes the secret: sending resumes at once. */
  cashback_client *good = client();
  ck_assert_int_eq(cashback_flush(good, 5000), CASHBACK_OK);
  ck_assert_int_eq(receiver_stat(&rx, "accepted"), 2);
  cashback_get_status(good, &s);
  ck_assert_int_eq(s.paused, 0);
  cashback_client_free(good);
}
END_TEST

START_TEST(background_thread_delivers) {
  cashback_client *c = client();
  ck_assert_int_eq(cashback_sender_start(c), CASHBACK_OK);
  ck_assert_int_eq(cashback_sender_start(c), CASHBACK_OK);
  report_n(c, 5, "J");
  ck_assert_int_eq(receiver_wait_stat(&rx, "accepted", 5, 10000), 5);
  /* A second client (another process, say) stands by: the spool is busy. */
  cashback_client *other = client();
  ck_assert_int_eq(cashback_flush(other, 1000), CASHBACK_E_BUSY);
  report_n(c, 3, "K");
  ck_assert_int_eq(cashback_sender_stop(c, 5000), CASHBACK_OK);
  ck_assert_int_eq(receiver_stat(&rx, "accepted"), 8);
  ck_assert_int_eq(cashback_sender_stop(c, 0), CASHBACK_OK);
  /* Stopped: the lock is free for the other one. */
  report_n(c, 1, "L");
  ck_assert_int_eq(cashback_flush(other, 5000), CASHBACK_OK);
  ck_assert_int_eq(receiver_stat(&rx, "accepted"), 9);
  cashback_client_free(other);
  cashback_client_free(c);
}
END_TEST

START_TEST(endless_response_is_a_failed_attempt) {
  /* A receiver (or a proxy) that answers 200 with a body without end: each
   * attempt stops at the 1 MiB cap (it used to read on until the request
   * timed out), fails with a clear error, backs off, and keeps the events. */
  cashback_client *c = client();
  report_n(c, 3, "M");
  receiver_control(&rx, "{\"endless_body\":true,\"count\":-1}");
  ck_assert_int_eq(cashback_flush(c, 1500), CASHBACK_E_NETWORK);
  cashback_queue_status s;
  ck_assert_int_eq(cashback_get_status(c, &s), CASHBACK_OK);
  ck_assert_uint_eq(s.queued_events, 3);
  ck_assert_uint_eq(s.quarantined, 0);
  ck_assert_int_eq(s.last_status, CASHBACK_E_NETWORK);
  ck_assert_msg(strstr(s.last_error, "response larger than 1 MiB"), "%s",
                s.last_error);
  long attempts = receiver_stat(&rx, "requests");
  long streamed = receiver_stat(&rx, "streamed_bytes");
  ck_assert_int_ge(attempts, 1);
  /* Per attempt: the cap plus what the sockets buffer, never the body. */
  ck_assert_msg(streamed < attempts * (64L << 20),
                "%ld bytes streamed in %ld attempts", streamed, attempts);
  ck_assert_int_eq(receiver_stat(&rx, "accepted"), 0);
  receiver_control(&rx, "{\"clear\":true}");
  ck_assert_int_eq(cashback_flush(c, 10000), CASHBACK_OK);
  ck_assert_int_eq(receiver_stat(&rx, "accepted"), 3);
  ck_assert_uint_eq(queued(c), 0);
  cashback_client_free(c);
}
END_TEST

typedef struct qall {
  int n;
  char ids[4][80];
  char reasons[4][40];
  char events[4][160];
} qall;

static int on_any(const cashback_quarantined *q, void *ud) {
  qall *l = ud;
  if (l->n < 4) {
    snprintf(l->ids[l->n], sizeof(l->ids[0]), "%s", q->id);
    snprintf(l->reasons[l->n], sizeof(l->reasons[0]), "%s", q->reason);
    snprintf(l->events[l->n], sizeof(l->events[0]), "%.*s", (int)q->event_len,
             q->event_json);
    /* Always JSON: an object for an event, a string for bytes. */
    cJSON *j = cJSON_ParseWithLength(q->event_json, q->event_len);
    ck_assert_msg(j != NULL, "not JSON: %s", q->event_json);
    cJSON_Delete(j);
  }
  l->n++;
  return 0;
}

START_TEST(record_that_is_not_json_is_quarantined_listably) {
  /* Two spool records that are not JSON (another program's, or damage
   * that kept its checksum): one without an event id, one that starts
   * like an event, goes to the network and is refused with 400. Both used
   * to be spliced into their quarantine entries as they were, which made
   * the entries unreadable: counted by status, missing from the list. */
  cashback_client *c = client();
  report_n(c, 2, "N");
  char dir[128];
  snprintf(dir, sizeof(dir), "%s/spool", spool_root);
  cashback__spool_config cfg = {dir, CASHBACK__DURABLE_SYNC, 0, 0};
  cashback__spool *side = NULL;
  char err[256] = "";
  ck_assert_int_eq(cashback__spool_open(&cfg, &side, err, sizeof(err)),
                   CASHBACK_OK);
  static const char junk[] = "no\"t\\ json\x01\xff\x00z";
  ck_assert_int_eq(cashback__spool_append(side, junk, sizeof(junk) - 1, 1000,
                                          err, sizeof(err)),
                   CASHBACK_OK);
  static const char half[] =
      "{\"id\":\"0123456789abcdef0123456789abcdef\",\"type\":";
  ck_assert_int_eq(cashback__spool_append(side, half, sizeof(half) - 1, 1000,
                                          err, sizeof(err)),
                   CASHBACK_OK);
  cashback__spool_close(side);
  ck_assert_int_eq(cashback_flush(c, 10000), CASHBACK_OK);
  ck_assert_int_eq(receiver_stat(&rx, "accepted"), 2);
  cashback_queue_status s;
  ck_assert_int_eq(cashback_get_status(c, &s), CASHBACK_OK);
  ck_assert_uint_eq(s.queued_events, 0);
  ck_assert_uint_eq(s.quarantined, 2);
  ck_assert_uint_eq(s.quarantine_damaged, 0);
  qall l = {0};
  ck_assert_int_eq(cashback_quarantine_list(c, on_any, &l), CASHBACK_OK);
  ck_assert_int_eq(l.n, 2); /* the list agrees with the count */
  ck_assert_str_eq(l.reasons[0], "invalid_record");
  ck_assert_str_eq(l.ids[0], "invalid-987ec5a1-14");
  /* The exact bytes, escaped, as a JSON string. */
  ck_assert_str_eq(l.events[0], "\"no\\\"t\\\\ json\\u0001\\u00ff\\u0000z\"");
  ck_assert_str_eq(l.reasons[1], "http_400");
  ck_assert_str_eq(l.ids[1], "0123456789abcdef0123456789abcdef");
  ck_assert_str_eq(l.events[1], "\"{\\\"id\\\":\\\"0123456789abcdef0123456789"
                                "abcdef\\\",\\\"type\\\":\"");
  /* Not events: a replay by id says so; --all leaves them. */
  size_t replayed = 9;
  ck_assert_int_eq(cashback_quarantine_replay(c, l.ids[0], &replayed),
                   CASHBACK_E_INVALID_ARGUMENT);
  ck_assert_int_eq(cashback_quarantine_replay(c, NULL, &replayed), CASHBACK_OK);
  ck_assert_uint_eq(replayed, 0);
  ck_assert_int_eq(cashback_get_status(c, &s), CASHBACK_OK);
  ck_assert_uint_eq(s.quarantined, 2);
  ck_assert_uint_eq(s.queued_events, 0);
  cashback_client_free(c);
}
END_TEST

START_TEST(big_invalid_record_is_kept_whole_in_parts) {
  /* 200000 bytes that are not JSON: as hex they pass the record cap, so
   * they fill two entries, which together hold every byte. */
  cashback_client *c = client();
  char dir[128];
  snprintf(dir, sizeof(dir), "%s/spool", spool_root);
  cashback__spool_config cfg = {dir, CASHBACK__DURABLE_SYNC, 0, 0};
  cashback__spool *side = NULL;
  char err[256] = "";
  ck_assert_int_eq(cashback__spool_open(&cfg, &side, err, sizeof(err)),
                   CASHBACK_OK);
  size_t n = 200000;
  char *junk = malloc(n);
  ck_assert_ptr_nonnull(junk);
  for (size_t i = 0; i < n; i++)
    junk[i] = (char)('a' + i % 26);
  ck_assert_int_eq(
      cashback__spool_append(side, junk, n, 1000, err, sizeof(err)),
      CASHBACK_OK);
  cashback__spool_close(side);
  receiver_control(&rx, "{\"status\":503,\"count\":2}");
  report_n(c, 1, "P");
  ck_assert_int_eq(cashback_flush(c, 10000), CASHBACK_OK);
  cashback_queue_status s;
  ck_assert_int_eq(cashback_get_status(c, &s), CASHBACK_OK);
  ck_assert_uint_eq(s.queued_events, 0);
  ck_assert_uint_eq(s.quarantined, 2); /* once, whatever the retries */
  qall l = {0};
  ck_assert_int_eq(cashback_quarantine_list(c, on_any, &l), CASHBACK_OK);
  ck_assert_int_eq(l.n, 2);
  ck_assert_ptr_nonnull(strstr(l.ids[0], "-200000-p1of2"));
  ck_assert_ptr_nonnull(strstr(l.ids[1], "-200000-p2of2"));
  ck_assert_str_eq(l.reasons[1], "invalid_record");
  ck_assert_int_eq(strncmp(l.events[0], "\"abcdefghijklmnopqrstuvwxyzab", 29),
                   0);
  free(junk);
  cashback_client_free(c);
}
END_TEST

START_TEST(state_parse_round_trip) {
  cashback__sender_state st;
  cashback__sender_state_parse("attempt=4\nnext_attempt_ms=123\npaused=1\n"
                               "paused_key=abcd\nlast_success=77\n"
                               "last_status=21\ncorrupt=2\nlast_error=x y\n"
                               "junk\nattempt_other=9\nfault_streak=3\n"
                               "fault_accepted=1\npath_fault=400\n",
                               &st);
  ck_assert_uint_eq(st.attempt, 4);
  ck_assert_int_eq(st.next_attempt_ms, 123);
  ck_assert_int_eq(st.paused, 1);
  ck_assert_str_eq(st.paused_key, "abcd");
  ck_assert_int_eq(st.last_success, 77);
  ck_assert_int_eq(st.last_status, CASHBACK_E_NETWORK);
  ck_assert_uint_eq(st.corrupt, 2);
  ck_assert_str_eq(st.last_error, "x y");
  ck_assert_uint_eq(st.fault_streak, 3);
  ck_assert_int_eq(st.fault_accepted, 1);
  ck_assert_int_eq(st.path_fault, 400);
  /* A path fault is a 4xx; anything else is no path fault. */
  cashback__sender_state_parse("path_fault=503\n", &st);
  ck_assert_int_eq(st.path_fault, 0);
  cashback__sender_state_parse("", &st);
  ck_assert_uint_eq(st.attempt, 0);
  ck_assert_int_eq(st.path_fault, 0);
}
END_TEST

TCase *cashback_test_sender(void) {
  TCase *tc = tcase_create("sender");
  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_set_timeout(tc, 60);
  tcase_add_test(tc, delivers_and_empties_the_spool);
  tcase_add_test(tc, batches_are_bounded);
  tcase_add_test(tc, retries_5xx_with_backoff);
  tcase_add_test(tc, honours_retry_after);
  tcase_add_test(tc, survives_resets_and_hangs);
  tcase_add_test(tc, accepted_but_unanswered_is_resent_and_deduped);
  tcase_add_test(tc, rejected_event_is_quarantined_then_replayed);
  tcase_add_test(tc, bad_batch_is_split_down_to_the_bad_event);
  tcase_add_test(tc, a_path_refusing_everything_quarantines_nothing);
  tcase_add_test(tc, unwritable_quarantine_backs_off);
  tcase_add_test(tc, one_id_twice_in_a_batch_is_sent_once);
  tcase_add_test(tc, wrong_key_pauses_and_keeps_everything);
  tcase_add_test(tc, endless_response_is_a_failed_attempt);
  tcase_add_test(tc, record_that_is_not_json_is_quarantined_listably);
  tcase_add_test(tc, big_invalid_record_is_kept_whole_in_parts);
  tcase_add_test(tc, background_thread_delivers);
  tcase_add_test(tc, state_parse_round_trip);
  return tc;
}
