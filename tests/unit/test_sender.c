/* The sender against the in-tree receiver (tests/receiver/receiver.py) on
 * 127.0.0.1, scripted per case through its /_control endpoint. */
#include "cashback.h"
#include "cashback_client.h"
#include "cashback_crc32c.h"
#include "cashback_sender.h"
#include "cashback_spool.h"
#include "capture.h"
#include "receiver.h"
#include "tests.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <pthread.h>
#include <pwd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define SECRET "sender-test-secret-0123456789"

static receiver rx;
static size_t batch_bytes = 1u << 20; /* of the clients a test makes */
static int64_t linger_ms = -1; /* of the clients a test makes; -1: default */
static char spool_root[64];

static void setup(void) {
  linger_ms = -1;
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

/* A client of shop-1 posting to `endpoint`, spooling under
 * spool_root/<sub>, with a backoff of `base_ms` doubling to `cap_ms`,
 * followup_wait (0: the default) and a request timeout. */
/* The failed attempts the spool's state file counts. A test asserts a
 * backoff with it, not with the status's next_attempt: the draw is full
 * jitter, so it may be 0 and already past when status is read. */
static unsigned state_attempt(const char *sub) {
  char path[256], text[4096];
  snprintf(path, sizeof(path), "%s/%s/state", spool_root, sub);
  FILE *f = fopen(path, "r");
  ck_assert_msg(f != NULL, "%s: no state file", path);
  size_t got = fread(text, 1, sizeof(text) - 1, f);
  fclose(f);
  text[got] = '\0';
  ck_assert_msg(strncmp(text, "attempt=", 8) == 0, "%s", text);
  return (unsigned)strtoul(text + 8, NULL, 10);
}

static cashback_client *client_opts(const char *sub, const char *secret,
                                    size_t batch, int64_t base_ms,
                                    int64_t cap_ms, int64_t followup_wait_ms,
                                    const char *endpoint,
                                    int64_t request_timeout_ms) {
  cashback_options *o = cashback_options_new();
  char dir[128];
  snprintf(dir, sizeof(dir), "%s/%s", spool_root, sub);
  ck_assert_int_eq(cashback_options_set_merchant_id(o, "shop-1"), CASHBACK_OK);
  ck_assert_int_eq(cashback_options_set_key(o, "k1", secret), CASHBACK_OK);
  ck_assert_int_eq(cashback_options_set_endpoint(o, endpoint), CASHBACK_OK);
  ck_assert_int_eq(cashback_options_set_spool_dir(o, dir), CASHBACK_OK);
  ck_assert_int_eq(cashback_options_set_backoff(o, base_ms, cap_ms),
                   CASHBACK_OK);
  ck_assert_int_eq(cashback_options_set_timeouts(o, 1000, request_timeout_ms),
                   CASHBACK_OK);
  ck_assert_int_eq(cashback_options_set_batch(o, batch, batch_bytes),
                   CASHBACK_OK);
  if (followup_wait_ms)
    ck_assert_int_eq(cashback_options_set_followup_wait(o, followup_wait_ms),
                     CASHBACK_OK);
  if (linger_ms >= 0)
    ck_assert_int_eq(cashback_options_set_linger(o, linger_ms), CASHBACK_OK);
  cashback_client *c = NULL;
  char d[CASHBACK_ERROR_MAX + 1];
  ck_assert_msg(cashback_client_new(o, &c, d, sizeof(d)) == CASHBACK_OK, "%s",
                d);
  return c;
}

/* On the receiver, with a 700 ms request timeout. */
static cashback_client *client_full(const char *sub, const char *secret,
                                    size_t batch, int64_t base_ms,
                                    int64_t cap_ms, int64_t followup_wait_ms) {
  return client_opts(sub, secret, batch, base_ms, cap_ms, followup_wait_ms,
                     rx.endpoint, 700);
}

/* Posting to `endpoint`. */
static cashback_client *client_at(const char *endpoint,
                                  int64_t request_timeout_ms) {
  return client_opts("spool", SECRET, 500, 50, 400, 0, endpoint,
                     request_timeout_ms);
}

static cashback_client *client_with(const char *secret, size_t batch) {
  return client_full("spool", secret, batch, 50, 400, 0);
}

static cashback_client *client_backoff(const char *secret, size_t batch,
                                       int64_t base_ms, int64_t cap_ms) {
  return client_full("spool", secret, batch, base_ms, cap_ms, 0);
}

static cashback_client *client_in(const char *sub, const char *secret,
                                  size_t batch, int64_t followup_wait_ms) {
  return client_full(sub, secret, batch, 50, 400, followup_wait_ms);
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
  cashback_queue_status s = {.size = sizeof(s)};
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

static int64_t fixed_clock(void *ud) {
  return *(const int64_t *)ud;
}

/* What the sender POSTs is what cashback_request_new() builds for the same
 * events, keys (during a rotation: both) and clock: one builder, one
 * signing-key choice, the client's clock (the sender used to sign by the
 * system clock, whatever cashback_options_set_clock said). */
START_TEST(sender_posts_what_request_new_builds) {
  capture cap;
  capture_start(&cap, "accepted");
  int64_t now = 1700000000; /* far from the system clock */
  cashback_options *o = cashback_options_new();
  char dir[128];
  snprintf(dir, sizeof(dir), "%s/same", spool_root);
  ck_assert_int_eq(cashback_options_set_merchant_id(o, "shop-1"), CASHBACK_OK);
  ck_assert_int_eq(cashback_options_set_key(o, "k1", SECRET), CASHBACK_OK);
  ck_assert_int_eq(
      cashback_options_set_next_key(o, "k2", "next-secret-0123456789abcdef"),
      CASHBACK_OK);
  ck_assert_int_eq(cashback_options_set_endpoint(o, cap.url), CASHBACK_OK);
  ck_assert_int_eq(cashback_options_set_spool_dir(o, dir), CASHBACK_OK);
  ck_assert_int_eq(cashback_options_set_clock(o, fixed_clock, &now),
                   CASHBACK_OK);
  cashback_client *c = NULL;
  ck_assert_int_eq(cashback_client_new(o, &c, NULL, 0), CASHBACK_OK);
  cashback_event *ev[2];
  const char *orders[2] = {"1001", "1002"};
  for (int i = 0; i < 2; i++) {
    ev[i] = cashback_event_new(CASHBACK_EVENT_SALE, orders[i]);
    ck_assert_int_eq(cashback_event_set_click(ev[i], "tok"), CASHBACK_OK);
    ck_assert_int_eq(cashback_event_set_amount(ev[i], 4990 + i, "EUR"),
                     CASHBACK_OK);
    ck_assert_int_eq(
        cashback_event_add_item(ev[i], "SKU-1", "Shoes", 1, 4990 + i, NULL),
        CASHBACK_OK);
    ck_assert_int_eq(cashback_report(c, ev[i], NULL), CASHBACK_OK);
  }
  ck_assert_int_eq(cashback_flush(c, 5000), CASHBACK_OK);
  ck_assert_uint_eq(queued(c), 0);
  cashback_request *req = NULL;
  ck_assert_int_eq(cashback_request_new(c, ev, 2, &req), CASHBACK_OK);
  size_t len = 0;
  const char *body = cashback_request_body(req, &len);
  pthread_mutex_lock(&cap.mu);
  ck_assert_int_eq(cap.requests, 1);
  ck_assert_ptr_nonnull(cap.body);
  ck_assert_str_eq(cap.body, body);
  ck_assert_uint_eq(cap.body_len, len);
  ck_assert_str_eq(cap.sig, cashback_request_signature(req));
  pthread_mutex_unlock(&cap.mu);
  /* Signed at the client's time, under both keys of the rotation. */
  ck_assert_ptr_nonnull(
      strstr(cashback_request_signature(req), "t=1700000000,"));
  ck_assert_ptr_nonnull(strstr(cashback_request_signature(req), ",v1=k2:"));
  ck_assert_ptr_nonnull(strstr(body, "\"sent_at\":\"2023-11-14T22:13:20Z\""));
  cashback_request_free(req);
  for (int i = 0; i < 2; i++)
    cashback_event_free(ev[i]);
  cashback_client_free(c);
  capture_stop(&cap);
}
END_TEST

START_TEST(delivers_and_empties_the_spool) {
  cashback_client *c = client();
  report_n(c, 3, "A");
  ck_assert_uint_eq(queued(c), 3);
  ck_assert_int_eq(cashback_flush(c, 10000), CASHBACK_OK);
  ck_assert_int_eq(receiver_stat(&rx, "accepted"), 3);
  ck_assert_int_eq(receiver_stat(&rx, "bad_signature"), 0);
  ck_assert_uint_eq(queued(c), 0);
  cashback_queue_status s = {.size = sizeof(s)};
  ck_assert_int_eq(cashback_get_status(c, &s), CASHBACK_OK);
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
  cashback_queue_status s = {.size = sizeof(s)};
  ck_assert_int_eq(cashback_get_status(c, &s), CASHBACK_OK);
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
  char message[300];
} qlist;

static int on_quarantined(const cashback_quarantined *q, void *ud) {
  qlist *l = ud;
  l->n++;
  snprintf(l->id, sizeof(l->id), "%s", q->id);
  snprintf(l->reason, sizeof(l->reason), "%s", q->reason);
  snprintf(l->message, sizeof(l->message), "%s", q->message);
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
  cashback_queue_status s = {.size = sizeof(s)};
  ck_assert_int_eq(cashback_get_status(c, &s), CASHBACK_OK);
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
  ck_assert_int_eq(cashback_get_status(c, &s), CASHBACK_OK);
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
  cashback_queue_status s = {.size = sizeof(s)};
  ck_assert_int_eq(cashback_get_status(c, &s), CASHBACK_OK);
  ck_assert_uint_eq(s.quarantined, 1);
  ck_assert_uint_eq(s.queued_events, 0);
  ck_assert_int_eq(s.path_fault, 0);
  ck_assert_int_eq(receiver_stat(&rx, "accepted"), 9);
  qlist l = {0};
  ck_assert_int_eq(cashback_quarantine_list(c, on_quarantined, &l),
                   CASHBACK_OK);
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
  cashback_queue_status s = {.size = sizeof(s)};
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
  ck_assert_int_ne(cashback_flush(c, 100), CASHBACK_OK); /* still queued */
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

/* A spool record that is not an event, with the quarantine unwritable
 * (quarantine.log is a directory): `followed` 1: a valid event after it in
 * its segment; 0: the record alone. The sender backs off with
 * CASHBACK_E_IO; before, the record alone was a busy loop (flush ended in
 * CASHBACK_E_TIMEOUT) and with an event behind it a request storm. */
static void invalid_record_unquarantinable(int followed) {
  cashback_client *c = client();
  char dir[128];
  snprintf(dir, sizeof(dir), "%s/spool", spool_root);
  cashback__spool_config cfg = {dir, CASHBACK_DURABLE_SYNC, 0, 0};
  cashback__spool *side = NULL;
  char err[256] = "";
  ck_assert_int_eq(cashback__spool_open(&cfg, &side, err, sizeof(err)),
                   CASHBACK_OK);
  static const char junk[] = "not an event";
  ck_assert_int_eq(cashback__spool_append(side, junk, sizeof(junk) - 1, 1000,
                                          err, sizeof(err)),
                   CASHBACK_OK);
  if (followed) {
    cashback_event *ev = cashback_event_new(CASHBACK_EVENT_SALE, "V-good");
    ck_assert_int_eq(cashback_event_set_click(ev, "tok"), CASHBACK_OK);
    ck_assert_int_eq(cashback_event_set_amount(ev, 4990, "EUR"), CASHBACK_OK);
    ck_assert_int_eq(cashback_event_finalize(c, ev, NULL), CASHBACK_OK);
    char *js = NULL;
    size_t jl = 0;
    ck_assert_int_eq(cashback_event_to_json(c, ev, &js, &jl), CASHBACK_OK);
    ck_assert_int_eq(
        cashback__spool_append(side, js, jl, 1000, err, sizeof(err)),
        CASHBACK_OK);
    cashback_free(js);
    cashback_event_free(ev);
  }
  cashback__spool_close(side);
  char path[160];
  snprintf(path, sizeof(path), "%s/spool/quarantine.log", spool_root);
  unlink(path);
  ck_assert_int_eq(mkdir(path, 0700), 0); /* appends to it fail */
  ck_assert_int_eq(cashback_flush(c, 2000), CASHBACK_E_IO);
  ck_assert_int_le(receiver_stat(&rx, "requests"), followed ? 25 : 0);
  ck_assert_int_eq(rmdir(path), 0);
  cashback_queue_status s = {.size = sizeof(s)};
  ck_assert_int_eq(cashback_get_status(c, &s), CASHBACK_OK);
  ck_assert_int_eq(s.last_status, CASHBACK_E_IO);
  ck_assert_ptr_nonnull(strstr(s.last_error, "not events"));
  ck_assert_uint_ge(state_attempt("spool"), 1); /* it backs off */
  /* Writable again: the record is quarantined and the spool drains. */
  cashback_status fst = CASHBACK_E_TIMEOUT;
  for (int i = 0; i < 20 && queued(c) > 0; i++) {
    fst = cashback_flush(c, 1000);
    receiver_sleep_ms(100);
  }
  ck_assert_uint_eq(queued(c), 0);
  ck_assert_int_eq(fst, CASHBACK_OK); /* the flush that emptied it */
  cashback_client_free(c);
}

START_TEST(invalid_record_alone_unquarantinable_backs_off) {
  invalid_record_unquarantinable(0);
}
END_TEST

START_TEST(invalid_record_before_an_event_unquarantinable_backs_off) {
  invalid_record_unquarantinable(1);
}
END_TEST

/* A full disk under a 400: the bad event cannot be quarantined. It stays
 * in the spool and the sender backs off; no hot loop. */
/* Reads of the spool fail while this is set (a test's own spool). */
static int reads_fail;

static ssize_t failing_pread(int fd, void *buf, size_t n, off_t off) {
  if (reads_fail) {
    errno = EIO;
    return -1;
  }
  return pread(fd, buf, n, off);
}

/* read_errors counts failures since the last collection without one: a
 * transient EIO no longer leaves the status (and doctor) warning for as
 * long as the spool lives. */
START_TEST(read_errors_clear_once_reads_work) {
  cashback_client *c = client();
  report_sale(c, "RE-1");
  char dir[128];
  snprintf(dir, sizeof(dir), "%s/spool", spool_root);
  cashback__spool_config cfg = {dir, CASHBACK_DURABLE_SYNC, 0, 0};
  cashback__spool *sp = NULL;
  char err[256] = "";
  ck_assert_int_eq(cashback__spool_open(&cfg, &sp, err, sizeof(err)),
                   CASHBACK_OK);
  cashback__spool_set_pread(sp, failing_pread);
  cashback__sender *snd = NULL;
  ck_assert_int_eq(cashback__sender_new(c, sp, &snd), CASHBACK_OK);
  int64_t wait_ms = 0;
  reads_fail = 1;
  (void)cashback__sender_step(snd, &wait_ms);
  cashback_queue_status q = {.size = sizeof(q)};
  ck_assert_int_eq(cashback_get_status(c, &q), CASHBACK_OK);
  ck_assert_uint_eq(q.read_errors, 1);
  reads_fail = 0;
  for (int i = 0; i < 5 && queued(c) > 0; i++)
    (void)cashback__sender_step(snd, &wait_ms);
  ck_assert_uint_eq(queued(c), 0);
  ck_assert_int_eq(cashback_get_status(c, &q), CASHBACK_OK);
  ck_assert_uint_eq(q.read_errors, 0);
  ck_assert_str_eq(q.spool_problem, "");
  cashback__sender_free(snd);
  cashback__spool_close(sp);
  cashback_client_free(c);
}
END_TEST

/* A sender of its own on the spool of a client_with() client (so that
 * a test calls its steps). */
static cashback__sender *own_sender(cashback_client *c, cashback__spool **sp) {
  char dir[128], err[256] = "";
  snprintf(dir, sizeof(dir), "%s/spool", spool_root);
  cashback__spool_config cfg = {dir, CASHBACK_DURABLE_SYNC, 0, 0};
  ck_assert_int_eq(cashback__spool_open(&cfg, sp, err, sizeof(err)),
                   CASHBACK_OK);
  cashback__sender *snd = NULL;
  ck_assert_int_eq(cashback__sender_new(c, *sp, &snd), CASHBACK_OK);
  return snd;
}

/* A client of batches of 10 with a linger of `ms`, and a sender of its
 * own on its spool. */
static cashback_client *linger_client(int64_t ms, cashback__spool **sp,
                                      cashback__sender **snd) {
  linger_ms = ms;
  cashback_client *c = client_with(SECRET, 10);
  *snd = own_sender(c, sp);
  return c;
}

/* The events of each request the receiver logged, in `sizes`; how many. */
static int request_sizes(int *sizes, int max) {
  cJSON *j = receiver_stats(&rx);
  cJSON *log = cJSON_GetObjectItem(j, "log");
  int n = cJSON_GetArraySize(log);
  for (int i = 0; i < n && i < max; i++)
    sizes[i] = (int)cJSON_GetObjectItem(cJSON_GetArrayItem(log, i), "events")
                   ->valuedouble;
  cJSON_Delete(j);
  return n;
}

/* The linger (cashback_options_set_linger): the thread's step holds a batch
 * that is not full back, posting nothing, and sends once the reports fill
 * it, all of them in one request; a step with a deadline (cashback_flush)
 * ignores the linger. */
START_TEST(linger_holds_a_short_batch_until_it_fills) {
  cashback__spool *sp = NULL;
  cashback__sender *snd = NULL;
  cashback_client *c = linger_client(10000, &sp, &snd);
  int64_t wait_ms = 0;
  report_n(c, 3, "LF");
  ck_assert_int_eq(cashback__sender_step_linger(snd, &wait_ms),
                   CASHBACK__STEP_LINGER);
  ck_assert(wait_ms > 0 && wait_ms <= 10000);
  ck_assert_int_eq(request_sizes(NULL, 0), 0);
  report_n(c, 6, "LG");
  ck_assert_int_eq(cashback__sender_step_linger(snd, &wait_ms),
                   CASHBACK__STEP_LINGER); /* 9 of 10: not full yet */
  ck_assert_int_eq(request_sizes(NULL, 0), 0);
  report_n(c, 1, "LH");
  ck_assert_int_eq(cashback__sender_step_linger(snd, &wait_ms),
                   CASHBACK__STEP_SENT);
  int sizes[4];
  ck_assert_int_eq(request_sizes(sizes, 4), 1);
  ck_assert_int_eq(sizes[0], 10);
  /* A step without the linger, and a flush shorter than the linger, send
   * a short batch at once. */
  report_n(c, 2, "LI");
  ck_assert_int_eq(cashback__sender_step_linger(snd, &wait_ms),
                   CASHBACK__STEP_LINGER);
  ck_assert_int_eq(cashback__sender_step(snd, &wait_ms), CASHBACK__STEP_SENT);
  cashback__sender_free(snd); /* lets sender.lock go, for the client's */
  cashback__spool_close(sp);
  report_n(c, 2, "LJ");
  ck_assert_int_eq(cashback_flush(c, 3000), CASHBACK_OK);
  ck_assert_int_eq(request_sizes(sizes, 4), 3);
  ck_assert_int_eq(sizes[1], 2);
  ck_assert_int_eq(sizes[2], 2);
  ck_assert_int_eq(receiver_stat(&rx, "accepted"), 14);
  cashback_client_free(c);
}
END_TEST

/* The linger ends: the step after the wait it gave sends what it held (one
 * request); a record reported longer than the linger ago goes at once (a
 * backlog does not wait); with linger 0 a short batch goes at once, as
 * before the linger. */
START_TEST(linger_expires_and_zero_sends_at_once) {
  cashback__spool *sp = NULL;
  cashback__sender *snd = NULL;
  cashback_client *c = linger_client(300, &sp, &snd);
  int64_t wait_ms = 0;
  report_n(c, 2, "LE");
  cashback__step r = cashback__sender_step_linger(snd, &wait_ms);
  if (r == CASHBACK__STEP_LINGER) { /* unless this machine stalled 300 ms */
    ck_assert(wait_ms > 0 && wait_ms <= 300);
    ck_assert_int_eq(request_sizes(NULL, 0), 0);
    receiver_sleep_ms((long)wait_ms + 1);
    r = cashback__sender_step_linger(snd, &wait_ms);
  }
  ck_assert_int_eq(r, CASHBACK__STEP_SENT);
  report_n(c, 2, "LK");
  receiver_sleep_ms(301);
  ck_assert_int_eq(cashback__sender_step_linger(snd, &wait_ms),
                   CASHBACK__STEP_SENT);
  int sizes[4];
  ck_assert_int_eq(request_sizes(sizes, 4), 2);
  ck_assert_int_eq(sizes[0], 2);
  ck_assert_int_eq(sizes[1], 2);
  cashback__sender_free(snd);
  cashback__spool_close(sp);
  cashback_client_free(c);

  c = linger_client(0, &sp, &snd);
  report_n(c, 3, "LZ");
  ck_assert_int_eq(cashback__sender_step_linger(snd, &wait_ms),
                   CASHBACK__STEP_SENT);
  ck_assert_int_eq(request_sizes(sizes, 4), 3);
  ck_assert_int_eq(sizes[2], 3);
  cashback__sender_free(snd);
  cashback__spool_close(sp);
  cashback_client_free(c);
}
END_TEST

/* The sender thread lingers: reports arriving while it waits go in the
 * request that their batch fills (one request for all 20, however the
 * reports and the thread interleave: the linger of 10 s does not run out
 * first); and cashback_sender_stop() ends a linger: its final flush of 3 s
 * delivers what the thread held back (a thread that waited out the 10 s
 * would leave no time for it). */
START_TEST(sender_thread_lingers_into_one_request) {
  linger_ms = 10000;
  cashback_client *c = client_with(SECRET, 20);
  ck_assert_int_eq(cashback_sender_start(c), CASHBACK_OK);
  report_n(c, 20, "LT");
  ck_assert_int_eq(receiver_wait_stat(&rx, "accepted", 20, 8000), 20);
  int sizes[4];
  ck_assert_int_eq(request_sizes(sizes, 4), 1);
  ck_assert_int_eq(sizes[0], 20);
  report_n(c, 3, "LS");
  ck_assert_int_eq(cashback_sender_stop(c, 3000), CASHBACK_OK);
  ck_assert_int_eq(receiver_stat(&rx, "accepted"), 23);
  ck_assert_int_eq(request_sizes(sizes, 4), 2);
  ck_assert_int_eq(sizes[1], 3);
  ck_assert_uint_eq(queued(c), 0);
  cashback_client_free(c);
}
END_TEST

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
  cashback_queue_status s = {.size = sizeof(s)};
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
  cashback_queue_status s = {.size = sizeof(s)};
  ck_assert_int_eq(cashback_get_status(c, &s), CASHBACK_OK);
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
  cashback_queue_status s = {.size = sizeof(s)};
  ck_assert_int_eq(cashback_get_status(bad, &s), CASHBACK_OK);
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
  ck_assert_int_eq(cashback_get_status(good, &s), CASHBACK_OK);
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
  cashback_queue_status s = {.size = sizeof(s)};
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
  cashback__spool_config cfg = {dir, CASHBACK_DURABLE_SYNC, 0, 0};
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
  cashback_queue_status s = {.size = sizeof(s)};
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
  cashback__spool_config cfg = {dir, CASHBACK_DURABLE_SYNC, 0, 0};
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
  cashback_queue_status s = {.size = sizeof(s)};
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

static int64_t wall_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void state_path(char *out, size_t size) {
  snprintf(out, size, "%s/spool/state", spool_root);
}

/* Replaces the spool's state file with `text`. */
static void write_state(const char *text) {
  char path[128];
  state_path(path, sizeof(path));
  FILE *f = fopen(path, "w");
  ck_assert_ptr_nonnull(f);
  ck_assert_int_eq(fputs(text, f) >= 0, 1);
  ck_assert_int_eq(fclose(f), 0);
}

static void read_state(char *out, size_t size) {
  char path[128];
  state_path(path, sizeof(path));
  FILE *f = fopen(path, "r");
  ck_assert_ptr_nonnull(f);
  size_t n = fread(out, 1, size - 1, f);
  out[n] = '\0';
  fclose(f);
}

/* `body` (key=value lines) with a crc= line of its CRC-32C, as the sender
 * writes it; `flip` != 0 flips that bit of the body afterwards (damage). */
static void write_checksummed_state(const char *body, size_t flip) {
  char text[2048];
  snprintf(text, sizeof(text), "%scrc=%08" PRIx32 "\n", body,
           cashback__crc32c(0, body, strlen(body)));
  if (flip)
    text[flip / 8] ^= (char)(1u << (flip % 8));
  write_state(text);
}

/* One flipped bit in the state file put the next retry in the year 2280
 * and delivery stopped. A damaged file is now ignored (fresh state),
 * counted in status, and replaced by a good one. */
START_TEST(damaged_state_is_ignored_and_counted) {
  cashback_client *c = client();
  report_n(c, 2, "S");
  /* "next_attempt_ms=1807..." with one bit of the first digit flipped
   * becomes "9807...": the year 2280. */
  const char *body = "attempt=3\nnext_attempt_ms=1807000000000\n"
                     "retry_delay_ms=300\npaused=0\npaused_key=\n"
                     "last_success=0\nlast_status=21\ncorrupt=0\n"
                     "state_damaged=0\nlast_error=x\n";
  size_t digit = (size_t)(strstr(body, "=1807") + 1 - body);
  write_checksummed_state(body, digit * 8 + 3); /* '1' ^ 8 == '9' */
  char text[2048];
  read_state(text, sizeof(text));
  ck_assert_ptr_nonnull(strstr(text, "next_attempt_ms=9807000000000"));
  cashback_queue_status s = {.size = sizeof(s)};
  ck_assert_int_eq(cashback_get_status(c, &s), CASHBACK_OK);
  ck_assert_int_eq(s.next_attempt, 0);
  ck_assert_int_eq(cashback_flush(c, 5000), CASHBACK_OK);
  ck_assert_int_eq(receiver_stat(&rx, "accepted"), 2);
  ck_assert_int_eq(cashback_get_status(c, &s), CASHBACK_OK);
  ck_assert_uint_eq(s.state_damaged, 1);
  /* The file was rewritten whole, with its checksum, and the count kept. */
  read_state(text, sizeof(text));
  cashback__sender_state st;
  ck_assert_int_eq(cashback__sender_state_parse(text, &st),
                   CASHBACK__STATE_VALID);
  ck_assert_uint_eq(st.state_damaged, 1);
  /* Cut short (a power cut, a full disk): damaged again, counted again,
   * in status at once and by the next sender. */
  text[strlen(text) - 5] = '\0'; /* in its crc line */
  write_state(text);
  ck_assert_int_eq(cashback_get_status(c, &s), CASHBACK_OK);
  ck_assert_uint_eq(s.state_damaged, 2);
  cashback_client_free(c);
  c = client();
  report_n(c, 1, "T");
  ck_assert_int_eq(cashback_flush(c, 5000), CASHBACK_OK);
  ck_assert_int_eq(receiver_stat(&rx, "accepted"), 3);
  ck_assert_int_eq(cashback_get_status(c, &s), CASHBACK_OK);
  ck_assert_uint_eq(s.state_damaged, 2);
  /* An empty file (a rename that a power cut left without its data). */
  write_state("");
  ck_assert_int_eq(cashback_get_status(c, &s), CASHBACK_OK);
  ck_assert_uint_eq(s.state_damaged, 1); /* nothing of the count left */
  cashback_client_free(c);
}
END_TEST

/* The retry schedule is wall-clock time: a retry scheduled 300 ms ahead by
 * a clock ten minutes fast stayed ten minutes away after the clock was
 * fixed. It is now kept within the delay it was scheduled with. */
START_TEST(clock_set_back_keeps_to_the_scheduled_delay) {
  cashback_client *c = client();
  report_n(c, 2, "U");
  char body[512];
  snprintf(body, sizeof(body),
           "attempt=1\nnext_attempt_ms=%" PRId64 "\nretry_delay_ms=300\n"
           "paused=0\npaused_key=\nlast_success=0\nlast_status=21\n"
           "corrupt=0\nstate_damaged=0\nlast_error=POST: HTTP 503\n",
           wall_ms() + 600000);
  write_checksummed_state(body, 0);
  cashback_queue_status s = {.size = sizeof(s)};
  ck_assert_int_eq(cashback_get_status(c, &s), CASHBACK_OK);
  ck_assert_int_le(s.next_attempt, wall_ms() / 1000 + 2);
  ck_assert_int_eq(cashback_flush(c, 5000), CASHBACK_OK);
  ck_assert_int_eq(receiver_stat(&rx, "accepted"), 2);
  ck_assert_int_eq(cashback_get_status(c, &s), CASHBACK_OK);
  ck_assert_uint_eq(s.state_damaged, 0);
  cashback_client_free(c);
}
END_TEST

/* A state file of a version before the checksum is read (and rewritten
 * with one), and its retry time too is bounded: by the larger of the
 * backoff cap and the Retry-After maximum (1 h), its delay being unknown. */
START_TEST(legacy_state_is_read_and_bounded) {
  cashback_client *c = client();
  report_n(c, 1, "V");
  int64_t now = wall_ms();
  char text[512];
  snprintf(text, sizeof(text),
           "attempt=2\nnext_attempt_ms=%" PRId64 "\npaused=0\n"
           "paused_key=\nlast_success=77\nlast_status=21\ncorrupt=5\n"
           "last_error=POST: HTTP 503\n",
           now + INT64_C(10) * 86400 * 1000);
  write_state(text);
  cashback_queue_status s = {.size = sizeof(s)};
  ck_assert_int_eq(cashback_get_status(c, &s), CASHBACK_OK);
  ck_assert_int_gt(s.next_attempt, now / 1000);
  ck_assert_int_le(s.next_attempt, now / 1000 + 3600 + 2);
  ck_assert_uint_eq(s.corrupt_skipped, 5);
  ck_assert_int_eq(s.last_success, 77);
  ck_assert_uint_eq(s.state_damaged, 0);
  /* A sender takes it over: bounded, rewritten with a checksum. */
  ck_assert_int_ne(cashback_flush(c, 300), CASHBACK_OK);
  read_state(text, sizeof(text));
  cashback__sender_state st;
  ck_assert_int_eq(cashback__sender_state_parse(text, &st),
                   CASHBACK__STATE_VALID);
  ck_assert_int_le(st.next_attempt_ms, wall_ms() + INT64_C(3600000));
  ck_assert_uint_eq(st.corrupt, 5);
  cashback_client_free(c);
}
END_TEST

/* Retry-After: 0 (or a date in the past) replaced the backoff: a request
 * loop (395-445 requests in 20 s, one per round trip). It adds to the
 * backoff now. With a backoff drawn from [0, 1 s], a 2 s flush against a
 * receiver answering nothing else makes about 5 requests (15 or more has
 * a probability below 1e-6: 14 draws summing under 2 s); the old loop made
 * one per round trip (about 45 in 2 s here). */
START_TEST(retry_after_zero_does_not_cut_the_backoff) {
  cashback_client *c = client_backoff(SECRET, 500, 1000, 1000);
  report_n(c, 2, "W");
  const char *controls[] = {
      "{\"status\":503,\"count\":-1,\"retry_after\":\"0\"}",
      "{\"status\":429,\"count\":-1,\"retry_after\":"
      "\"Sun, 06 Nov 1994 08:49:37 GMT\"}"};
  int statuses[] = {503, 429};
  for (int i = 0; i < 2; i++) {
    receiver_control(&rx, controls[i]);
    ck_assert_int_ne(cashback_flush(c, 2000), CASHBACK_OK);
    receiver_control(&rx, "{\"clear\":true}");
    int n = requests_with(statuses[i]);
    ck_assert_msg(n >= 1 && n < 15, "%d requests in 2 s answered %d", n,
                  statuses[i]);
  }
  ck_assert_int_eq(cashback_flush(c, 5000), CASHBACK_OK);
  ck_assert_int_eq(receiver_stat(&rx, "accepted"), 2);
  cashback_client_free(c);
}
END_TEST

static void http_date(int64_t t, char *out, size_t size) {
  time_t tt = (time_t)t;
  struct tm tm;
  gmtime_r(&tt, &tm);
  strftime(out, size, "%a, %d %b %Y %H:%M:%S GMT", &tm);
}

/* Gap between the first two logged requests, seconds. */
static double first_gap(void) {
  cJSON *j = receiver_stats(&rx);
  cJSON *log = cJSON_GetObjectItem(j, "log");
  ck_assert_int_ge(cJSON_GetArraySize(log), 2);
  double t0 = cJSON_GetObjectItem(cJSON_GetArrayItem(log, 0), "t")->valuedouble;
  double t1 = cJSON_GetObjectItem(cJSON_GetArrayItem(log, 1), "t")->valuedouble;
  cJSON_Delete(j);
  return t1 - t0;
}

/* A Retry-After date was compared with the local clock: a sender whose
 * clock was off retried at once or waited an hour. It is read against the
 * response's Date now (the receiver here says it is an hour off). */
START_TEST(retry_after_date_is_read_against_the_date_header) {
  cashback_client *c = client();
  report_n(c, 1, "X");
  char date[64], at[64], control[256];
  /* The network's clock an hour behind ours: "in 2 s" by its clock. */
  int64_t net = wall_ms() / 1000 - 3600;
  http_date(net, date, sizeof(date));
  http_date(net + 2, at, sizeof(at));
  snprintf(control, sizeof(control),
           "{\"status\":503,\"retry_after\":\"%s\",\"date\":\"%s\"}", at, date);
  receiver_control(&rx, control);
  ck_assert_int_eq(cashback_flush(c, 1000), CASHBACK_E_HTTP);
  ck_assert_int_eq(receiver_stat(&rx, "requests"), 1);
  ck_assert_int_eq(cashback_flush(c, 6000), CASHBACK_OK);
  double gap = first_gap();
  ck_assert_msg(gap >= 0.9,
                "retried %.3f s after a Retry-After 2 s ahead of "
                "the Date",
                gap);
  cashback_client_free(c);
  /* The network's clock an hour ahead: "in 1 s" is not an hour. */
  receiver_stop(&rx);
  receiver_start(&rx, "k1:" SECRET);
  c = client();
  report_n(c, 1, "Y");
  net = wall_ms() / 1000 + 3600;
  http_date(net, date, sizeof(date));
  http_date(net + 1, at, sizeof(at));
  snprintf(control, sizeof(control),
           "{\"status\":503,\"retry_after\":\"%s\",\"date\":\"%s\"}", at, date);
  receiver_control(&rx, control);
  ck_assert_int_eq(cashback_flush(c, 6000), CASHBACK_OK);
  ck_assert_int_eq(receiver_stat(&rx, "accepted"), 1);
  cashback_client_free(c);
}
END_TEST

/* A listener on 127.0.0.1 that never accepts: the kernel completes the
 * handshake (the backlog) and nothing ever answers. A blackhole. */
static int blackhole(char *endpoint, size_t size) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ck_assert_int_ge(fd, 0);
  struct sockaddr_in a;
  memset(&a, 0, sizeof(a));
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ck_assert_int_eq(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
  ck_assert_int_eq(listen(fd, 16), 0);
  socklen_t len = sizeof(a);
  ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&a, &len), 0);
  snprintf(endpoint, size, "http://127.0.0.1:%d/v1/events",
           (int)ntohs(a.sin_port));
  return fd;
}

static int64_t mono_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The generous bound on what must end by a deadline of 1-3 s: a bound on a
 * hang (the request timeout here is 30 s), not a timing benchmark. */
#define HANG_BOUND_MS 10000

/* cashback_flush(1500) against a network that accepts and never answers
 * waited out the whole 30 s request timeout; the deadline reaches the
 * request now. */
START_TEST(flush_ends_by_its_deadline_against_a_blackhole) {
  char endpoint[96];
  int bh = blackhole(endpoint, sizeof(endpoint));
  cashback_client *c = client_at(endpoint, 30000);
  report_n(c, 2, "Z");
  int64_t t0 = mono_ms();
  cashback_status st = cashback_flush(c, 1500);
  int64_t took = mono_ms() - t0;
  ck_assert_msg(took < HANG_BOUND_MS, "flush(1500) took %" PRId64 " ms", took);
  ck_assert_int_eq(st, CASHBACK_E_TIMEOUT);
  cashback_queue_status s = {.size = sizeof(s)};
  ck_assert_int_eq(cashback_get_status(c, &s), CASHBACK_OK);
  ck_assert_uint_eq(s.queued_events, 2);
  ck_assert_int_eq(s.last_status, CASHBACK_E_TIMEOUT);
  ck_assert_msg(strstr(s.last_error, "no answer within"), "%s", s.last_error);
  ck_assert_int_eq(s.in_flight_since, 0);
  /* A failed attempt: it backs off (see state_attempt()). */
  ck_assert_uint_ge(state_attempt("spool"), 1);
  /* No time left for a request: none is started. */
  ck_assert_int_eq(cashback_flush(c, 0), CASHBACK_E_TIMEOUT);
  cashback_client_free(c);
  close(bh);
}
END_TEST

typedef struct flush_job {
  cashback_client *c;
  int64_t timeout_ms;
  cashback_status st;
} flush_job;

static void *flush_thread(void *p) {
  flush_job *j = p;
  j->st = cashback_flush(j->c, j->timeout_ms);
  return NULL;
}

/* Waits up to 5 s for status to show a request in flight; its start. */
static int64_t wait_in_flight(cashback_client *c) {
  cashback_queue_status s = {.size = sizeof(s)};
  for (int i = 0; i < 250; i++) {
    ck_assert_int_eq(cashback_get_status(c, &s), CASHBACK_OK);
    if (s.in_flight_since)
      return s.in_flight_since;
    receiver_sleep_ms(20);
  }
  return 0;
}

/* During a blackhole status said "success" until the request timed out;
 * it shows the request in flight, and since when, now. */
START_TEST(status_shows_a_request_in_flight) {
  char endpoint[96];
  int bh = blackhole(endpoint, sizeof(endpoint));
  cashback_client *c = client_at(endpoint, 30000);
  report_n(c, 1, "Q");
  flush_job j = {c, 2500, CASHBACK_OK};
  pthread_t t;
  int64_t before = wall_ms() / 1000;
  ck_assert_int_eq(pthread_create(&t, NULL, flush_thread, &j), 0);
  int64_t since = wait_in_flight(c);
  ck_assert_int_ge(since, before);
  ck_assert_int_le(since, wall_ms() / 1000);
  cashback_queue_status s = {.size = sizeof(s)};
  ck_assert_int_eq(cashback_get_status(c, &s), CASHBACK_OK);
  ck_assert_int_eq(s.last_status, CASHBACK_OK); /* nothing ended yet */
  pthread_join(t, NULL);
  ck_assert_int_eq(j.st, CASHBACK_E_TIMEOUT);
  ck_assert_int_eq(cashback_get_status(c, &s), CASHBACK_OK);
  ck_assert_int_eq(s.in_flight_since, 0);
  ck_assert_int_eq(s.last_status, CASHBACK_E_TIMEOUT);
  cashback_client_free(c);
  close(bh);
}
END_TEST

/* The sender thread's request in flight: a flush on the same client and
 * the bounded stop each end by their deadline, not by the request's 30 s
 * timeout. */
START_TEST(thread_request_in_flight_does_not_hold_flush_or_stop) {
  char endpoint[96];
  int bh = blackhole(endpoint, sizeof(endpoint));
  cashback_client *c = client_at(endpoint, 30000);
  ck_assert_int_eq(cashback_sender_start(c), CASHBACK_OK);
  report_n(c, 1, "R");
  ck_assert_int_gt(wait_in_flight(c), 0);
  int64_t t0 = mono_ms();
  ck_assert_int_eq(cashback_flush(c, 1000), CASHBACK_E_TIMEOUT);
  int64_t took = mono_ms() - t0;
  ck_assert_msg(took < HANG_BOUND_MS, "flush(1000) took %" PRId64 " ms", took);
  t0 = mono_ms();
  ck_assert_int_eq(cashback_sender_stop(c, 1000), CASHBACK_OK);
  took = mono_ms() - t0;
  ck_assert_msg(took < HANG_BOUND_MS, "sender_stop(1000) took %" PRId64 " ms",
                took);
  cashback_queue_status s = {.size = sizeof(s)};
  ck_assert_int_eq(cashback_get_status(c, &s), CASHBACK_OK);
  ck_assert_int_eq(s.in_flight_since, 0);
  ck_assert_uint_eq(s.queued_events, 1);
  /* And cashback_client_free() (a stop without a final flush). */
  ck_assert_int_eq(cashback_sender_start(c), CASHBACK_OK);
  ck_assert_int_eq(cashback_flush(c, 10), CASHBACK_E_TIMEOUT);
  receiver_sleep_ms(1200); /* past the backoff: the thread sends again */
  ck_assert_int_gt(wait_in_flight(c), 0);
  t0 = mono_ms();
  cashback_client_free(c);
  took = mono_ms() - t0;
  ck_assert_msg(took < HANG_BOUND_MS, "client_free took %" PRId64 " ms", took);
  close(bh);
}
END_TEST

START_TEST(state_format_and_parse) {
  cashback__sender_state a, b;
  memset(&a, 0, sizeof(a));
  a.attempt = 4;
  a.next_attempt_ms = 123;
  a.retry_delay_ms = 45;
  a.paused = 1;
  snprintf(a.paused_key, sizeof(a.paused_key), "abcd");
  a.last_success = 77;
  a.last_status = CASHBACK_E_NETWORK;
  a.corrupt = 2;
  a.state_damaged = 3;
  snprintf(a.last_error, sizeof(a.last_error), "x=y\nz");
  a.fault_streak = 3;
  a.fault_accepted = 1;
  a.path_fault = 400;
  a.read_errors = 6;
  snprintf(a.read_error, sizeof(a.read_error), "seg-1: EIO\nuid 33");
  char text[CASHBACK__STATE_MAX];
  size_t n = cashback__sender_state_format(&a, text, sizeof(text));
  ck_assert_uint_gt(n, 0);
  ck_assert_uint_eq(n, strlen(text));
  ck_assert_int_eq(cashback__sender_state_parse(text, &b),
                   CASHBACK__STATE_VALID);
  ck_assert_uint_eq(b.attempt, 4);
  ck_assert_int_eq(b.next_attempt_ms, 123);
  ck_assert_int_eq(b.retry_delay_ms, 45);
  ck_assert_int_eq(b.paused, 1);
  ck_assert_str_eq(b.paused_key, "abcd");
  ck_assert_int_eq(b.last_success, 77);
  ck_assert_int_eq(b.last_status, CASHBACK_E_NETWORK);
  ck_assert_uint_eq(b.corrupt, 2);
  ck_assert_uint_eq(b.state_damaged, 3);
  ck_assert_str_eq(b.last_error, "x=y z");
  ck_assert_uint_eq(b.fault_streak, 3);
  ck_assert_int_eq(b.fault_accepted, 1);
  ck_assert_int_eq(b.path_fault, 400);
  ck_assert_uint_eq(b.read_errors, 6);
  ck_assert_str_eq(b.read_error, "seg-1: EIO uid 33");
  /* Too small a buffer: nothing. */
  ck_assert_uint_eq(cashback__sender_state_format(&a, text, 40), 0);
  n = cashback__sender_state_format(&a, text, sizeof(text));
  /* Every single flipped bit, and every cut, is damage; the count goes on
   * when its line is still readable. */
  for (size_t bit = 0; bit < n * 8; bit++) {
    char t[CASHBACK__STATE_MAX];
    memcpy(t, text, n + 1);
    t[bit / 8] ^= (char)(1u << (bit % 8));
    ck_assert_msg(cashback__sender_state_parse(t, &b) ==
                      CASHBACK__STATE_DAMAGED,
                  "bit %zu", bit);
    ck_assert_uint_eq(b.attempt, 0);
    ck_assert_int_eq(b.next_attempt_ms, 0);
    ck_assert_int_eq(b.paused, 0);
    ck_assert_uint_ge(b.state_damaged, 1);
  }
  for (size_t len = 0; len < n; len++) {
    char t[CASHBACK__STATE_MAX];
    memcpy(t, text, len);
    t[len] = '\0';
    ck_assert_msg(cashback__sender_state_parse(t, &b) ==
                      CASHBACK__STATE_DAMAGED,
                  "cut at %zu", len);
  }
  ck_assert_int_eq(cashback__sender_state_parse(text, &b),
                   CASHBACK__STATE_VALID);
  text[n - 2] ^= 1; /* in the crc */
  ck_assert_int_eq(cashback__sender_state_parse(text, &b),
                   CASHBACK__STATE_DAMAGED);
  ck_assert_uint_eq(b.state_damaged, 4);
  /* Unknown keys of a later version are kept out, not fatal. */
  const char *body = "attempt=2\nfuture_key=9\njunk\nlast_status=21\n";
  char t[256];
  snprintf(t, sizeof(t), "%scrc=%08" PRIx32 "\n", body,
           cashback__crc32c(0, body, strlen(body)));
  ck_assert_int_eq(cashback__sender_state_parse(t, &b), CASHBACK__STATE_VALID);
  ck_assert_uint_eq(b.attempt, 2);
  ck_assert_int_eq(b.last_status, CASHBACK_E_NETWORK);
  /* A path fault is a 4xx; anything else is no path fault. */
  body = "path_fault=503\n";
  snprintf(t, sizeof(t), "%scrc=%08" PRIx32 "\n", body,
           cashback__crc32c(0, body, strlen(body)));
  ck_assert_int_eq(cashback__sender_state_parse(t, &b), CASHBACK__STATE_VALID);
  ck_assert_int_eq(b.path_fault, 0);
  /* The format before the checksum: read, well formed only. */
  const char *legacy = "attempt=4\nnext_attempt_ms=123\npaused=1\n"
                       "paused_key=abcd\nlast_success=77\nlast_status=21\n"
                       "corrupt=2\nlast_error=x y\n";
  ck_assert_int_eq(cashback__sender_state_parse(legacy, &b),
                   CASHBACK__STATE_LEGACY);
  ck_assert_uint_eq(b.attempt, 4);
  ck_assert_int_eq(b.next_attempt_ms, 123);
  ck_assert_int_eq(b.paused, 1);
  ck_assert_str_eq(b.paused_key, "abcd");
  ck_assert_uint_eq(b.corrupt, 2);
  ck_assert_str_eq(b.last_error, "x y");
  const char *not_legacy[] = {
      "",
      "junk\n",
      "attempt=4\nnext_attempt_ms=123\npaused=1\n", /* keys missing */
      "attempt=4\nnext_attempt_ms=1x3\npaused=1\npaused_key=abcd\n"
      "last_success=77\nlast_status=21\ncorrupt=2\nlast_error=x y\n",
      "attempt=4\nnext_attempt_ms=123\npaused=1\npaused_key=abcd\n"
      "last_success=77\nlast_status=21\ncorrupt=2\nlast_error=x y",
      "attempt=4\nnext_attempt_ms=123\npaused=1\npaused_key=abcd\n"
      "last_success=77\nlast_status=21\ncorrupt=2\nlast_error=x y\n"
      "attempt=5\n",
      "attempt=4\nnext_attempt_ms=123\npaused=1\npaused_key=abcd\n"
      "last_success=77\nlast_status=21\ncorrupt=2\nlast_error=x y\n"
      "crc=zzzzzzzz\n"};
  for (size_t i = 0; i < sizeof(not_legacy) / sizeof(not_legacy[0]); i++)
    ck_assert_msg(cashback__sender_state_parse(not_legacy[i], &b) ==
                      CASHBACK__STATE_DAMAGED,
                  "accepted case %zu", i);
}
END_TEST

static void report_followup(cashback_client *c, cashback_event_type type,
                            const char *order, char id[33]) {
  cashback_event *ev = cashback_event_new(type, order);
  if (type == CASHBACK_EVENT_REFUND) {
    ck_assert_int_eq(cashback_event_set_amount(ev, 990, "EUR"), CASHBACK_OK);
    ck_assert_int_eq(cashback_event_set_refund_id(ev, "CN-1"), CASHBACK_OK);
  }
  ck_assert_int_eq(cashback_report(c, ev, id), CASHBACK_OK);
  cashback_event_free(ev);
}

/* Flushes until nothing is deferred any more (each deferred event is due
 * on its own backoff, 25-400 ms here), at most `rounds` times. */
static void flush_deferred(cashback_client *c, int rounds) {
  cashback_queue_status s = {.size = sizeof(s)};
  for (int i = 0; i < rounds; i++) {
    /* Deferred events are not queued: the spool counts as sent. */
    ck_assert_int_eq(cashback_flush(c, 2000), CASHBACK_OK);
    ck_assert_int_eq(cashback_get_status(c, &s), CASHBACK_OK);
    if (s.deferred == 0)
      return;
    receiver_sleep_ms(100);
  }
}

static cJSON *order_of(cJSON *stats, const char *order) {
  return cJSON_GetObjectItem(cJSON_GetObjectItem(stats, "orders"), order);
}

/* Two servers of one shop, each with its own spool: the cancel's server
 * delivers first, to a network that cannot hold it and answers "retry".
 * The cancel is deferred, the rest of its batch is settled and the cursor
 * moves; the deferral survives a restart of the sender; once the other
 * server delivered the sale, the cancel goes through and the order nets
 * to 0. Nothing is quarantined. */
START_TEST(followup_before_its_sale_is_deferred_then_delivered) {
  receiver_control(&rx, "{\"followups\":\"retry\"}");
  cashback_client *a = client_in("server-a", SECRET, 500, 0);
  char cancel_id[33], refund_id[33];
  report_followup(a, CASHBACK_EVENT_CANCEL, "F1", cancel_id);
  report_followup(a, CASHBACK_EVENT_REFUND, "F2", refund_id);
  report_sale(a, "F3");
  ck_assert_int_eq(cashback_flush(a, 10000), CASHBACK_OK);
  cashback_queue_status s = {.size = sizeof(s)};
  ck_assert_int_eq(cashback_get_status(a, &s), CASHBACK_OK);
  ck_assert_uint_eq(s.queued_events, 0); /* the cursor moved past them */
  ck_assert_uint_eq(s.deferred, 2);
  ck_assert_int_gt(s.deferred_next, 0);
  ck_assert_uint_eq(s.quarantined, 0);
  ck_assert_int_ge(receiver_stat(&rx, "retried"), 2);
  ck_assert_int_eq(receiver_stat(&rx, "accepted"), 1);
  /* The sender process goes away and comes back: still deferred. */
  cashback_client_free(a);
  a = client_in("server-a", SECRET, 500, 0);
  ck_assert_int_eq(cashback_get_status(a, &s), CASHBACK_OK);
  ck_assert_uint_eq(s.deferred, 2);
  /* Still no sale: retried on its own backoff, still deferred. */
  receiver_sleep_ms(450);
  ck_assert_int_eq(cashback_flush(a, 2000), CASHBACK_OK);
  ck_assert_int_ge(receiver_stat(&rx, "retried"), 4);
  ck_assert_int_eq(cashback_get_status(a, &s), CASHBACK_OK);
  ck_assert_uint_eq(s.deferred, 2);
  /* Server B delivers the sales. */
  cashback_client *b = client_in("server-b", SECRET, 500, 0);
  report_sale(b, "F1");
  report_sale(b, "F2");
  ck_assert_int_eq(cashback_flush(b, 10000), CASHBACK_OK);
  flush_deferred(a, 50);
  ck_assert_int_eq(cashback_get_status(a, &s), CASHBACK_OK);
  ck_assert_uint_eq(s.deferred, 0);
  ck_assert_uint_eq(s.quarantined, 0);
  ck_assert_uint_eq(s.queued_events, 0);
  cJSON *j = receiver_stats(&rx);
  cJSON *f1 = order_of(j, "F1"), *f2 = order_of(j, "F2");
  ck_assert(cJSON_IsTrue(cJSON_GetObjectItem(f1, "cancelled")));
  ck_assert_int_eq((int)cJSON_GetObjectItem(f1, "net")->valuedouble, 0);
  ck_assert_int_eq((int)cJSON_GetObjectItem(f2, "net")->valuedouble,
                   4990 - 990);
  cJSON_Delete(j);
  cashback_client_free(b);
  cashback_client_free(a);
}
END_TEST

/* A "retry" answer for an event that cannot be deferred (here `deferred`
 * is a directory, so the list cannot be read) with 20 events behind it in
 * its segment: the event holds the cursor, and the sender backs off
 * instead of sending the same batch again at once (it sent 43-45 requests
 * in 2 s before). */
START_TEST(undeferrable_retry_backs_off) {
  receiver_control(&rx, "{\"followups\":\"retry\"}");
  cashback_client *c = client_in("spool", SECRET, 500, 0);
  char id[33];
  report_followup(c, CASHBACK_EVENT_CONFIRM, "NEVER", id);
  report_n(c, 20, "G");
  char path[200];
  snprintf(path, sizeof(path), "%s/spool/deferred", spool_root);
  ck_assert_int_eq(mkdir(path, 0700), 0);
  cashback_status fs = cashback_flush(c, 2000);
  ck_assert_int_ne(fs, CASHBACK_OK);
  ck_assert_int_ne(fs, CASHBACK_E_TIMEOUT); /* it waits, it does not loop */
  ck_assert_int_le(receiver_stat(&rx, "requests"), 25);
  ck_assert_int_eq(receiver_stat(&rx, "accepted"), 20);
  cashback_queue_status s = {.size = sizeof(s)};
  ck_assert_int_eq(cashback_get_status(c, &s), CASHBACK_OK);
  ck_assert_ptr_nonnull(strstr(s.last_error, "cannot be deferred"));
  ck_assert_ptr_nonnull(strstr(s.last_error, id));
  ck_assert_uint_ge(state_attempt("spool"), 1); /* it backs off */
  ck_assert_uint_ge(s.queued_events, 1);
  ck_assert_uint_eq(s.quarantined, 0);
  ck_assert_int_eq(rmdir(path), 0);
  cashback_client_free(c);
}
END_TEST

/* followup_wait bounds an event that cannot be deferred too: once it was
 * reported that long ago (1 s here), a "retry" answer quarantines it, and
 * the spool drains. */
START_TEST(undeferrable_retry_expires_after_followup_wait) {
  receiver_control(&rx, "{\"followups\":\"retry\"}");
  cashback_client *c = client_in("spool", SECRET, 500, 1000);
  char id[33];
  report_followup(c, CASHBACK_EVENT_CONFIRM, "NEVER", id);
  report_n(c, 3, "X");
  char path[200];
  snprintf(path, sizeof(path), "%s/spool/deferred", spool_root);
  ck_assert_int_eq(mkdir(path, 0700), 0);
  cashback_queue_status s = {.size = sizeof(s)};
  cashback_status fst = CASHBACK_E_TIMEOUT;
  for (int i = 0; i < 40 && queued(c) > 0; i++) {
    fst = cashback_flush(c, 500);
    receiver_sleep_ms(100);
  }
  ck_assert_int_eq(fst, CASHBACK_OK); /* the flush that emptied it */
  ck_assert_int_eq(cashback_get_status(c, &s), CASHBACK_OK);
  ck_assert_uint_eq(s.queued_events, 0);
  ck_assert_uint_eq(s.quarantined, 1);
  qlist l = {0};
  ck_assert_int_eq(cashback_quarantine_list(c, on_quarantined, &l),
                   CASHBACK_OK);
  ck_assert_str_eq(l.id, id);
  ck_assert_str_eq(l.reason, "unknown_order");
  ck_assert_msg(strstr(l.message, "could not be deferred"), "%s", l.message);
  ck_assert_int_le(receiver_stat(&rx, "requests"), 40);
  ck_assert_int_eq(rmdir(path), 0);
  cashback_client_free(c);
}
END_TEST

/* A follow-up whose sale never comes is tried for followup_wait (1 s
 * here), then quarantined with a reason that says so. */
START_TEST(deferred_event_expires_into_the_quarantine) {
  receiver_control(&rx, "{\"followups\":\"retry\"}");
  cashback_client *c = client_in("spool", SECRET, 500, 1000);
  char id[33];
  report_followup(c, CASHBACK_EVENT_CONFIRM, "NEVER", id);
  report_sale(c, "OTHER");
  ck_assert_int_eq(cashback_flush(c, 10000), CASHBACK_OK);
  cashback_queue_status s = {.size = sizeof(s)};
  ck_assert_int_eq(cashback_get_status(c, &s), CASHBACK_OK);
  ck_assert_uint_eq(s.deferred, 1);
  ck_assert_uint_eq(s.quarantined, 0);
  flush_deferred(c, 60);
  ck_assert_int_eq(cashback_get_status(c, &s), CASHBACK_OK);
  ck_assert_uint_eq(s.deferred, 0);
  ck_assert_uint_eq(s.quarantined, 1);
  qlist l = {0};
  ck_assert_int_eq(cashback_quarantine_list(c, on_quarantined, &l),
                   CASHBACK_OK);
  ck_assert_str_eq(l.id, id);
  ck_assert_str_eq(l.reason, "unknown_order");
  ck_assert_msg(
      strstr(l.message, "the network did not see the sale within 1 s"), "%s",
      l.message);
  ck_assert_int_ge(receiver_stat(&rx, "retried"), 2);
  cashback_client_free(c);
}
END_TEST

/* Deferred events go again in requests within the batch caps (64 KiB of
 * events here): 40 cancels of about 3.5 KiB each, all due at once after
 * their sales arrived, take at least three requests, not one. */
START_TEST(deferred_requests_keep_to_the_batch_caps) {
  receiver_control(&rx, "{\"followups\":\"retry\"}");
  batch_bytes = 64u << 10;
  cashback_client *a = client_in("server-a", SECRET, 500, 0);
  char pad[3501], order[16];
  memset(pad, 'x', sizeof(pad) - 1);
  pad[sizeof(pad) - 1] = '\0';
  for (int i = 0; i < 40; i++) {
    snprintf(order, sizeof(order), "K%d", i);
    cashback_event *ev = cashback_event_new(CASHBACK_EVENT_CANCEL, order);
    ck_assert_int_eq(cashback_event_set_metadata(ev, "note", pad), CASHBACK_OK);
    ck_assert_int_eq(cashback_report(a, ev, NULL), CASHBACK_OK);
    cashback_event_free(ev);
  }
  ck_assert_int_eq(cashback_flush(a, 10000), CASHBACK_OK);
  cashback_queue_status s = {.size = sizeof(s)};
  ck_assert_int_eq(cashback_get_status(a, &s), CASHBACK_OK);
  ck_assert_uint_eq(s.deferred, 40);
  cashback_client *b = client_in("server-b", SECRET, 500, 0);
  report_n(b, 40, "K");
  ck_assert_int_eq(cashback_flush(b, 10000), CASHBACK_OK);
  cJSON *before = receiver_stats(&rx);
  int first = cJSON_GetArraySize(cJSON_GetObjectItem(before, "log"));
  cJSON_Delete(before);
  flush_deferred(a, 50);
  ck_assert_int_eq(cashback_get_status(a, &s), CASHBACK_OK);
  ck_assert_uint_eq(s.deferred, 0);
  ck_assert_uint_eq(s.quarantined, 0);
  cJSON *j = receiver_stats(&rx);
  cJSON *log = cJSON_GetObjectItem(j, "log");
  int biggest = 0;
  for (int i = first; i < cJSON_GetArraySize(log); i++) {
    int ev = (int)cJSON_GetObjectItem(cJSON_GetArrayItem(log, i), "events")
                 ->valuedouble;
    biggest = ev > biggest ? ev : biggest;
  }
  cJSON_Delete(j);
  ck_assert_int_le(biggest, 65536 / 3500);
  ck_assert_int_gt(biggest, 0);
  cashback_client_free(b);
  cashback_client_free(a);
}
END_TEST

/* Times the receiver was sent event `id` (0: never). */
static int times_sent(const char *id) {
  cJSON *j = receiver_stats(&rx);
  cJSON *t = cJSON_GetObjectItem(cJSON_GetObjectItem(j, "events"), id);
  int n = cJSON_IsNumber(t) ? (int)t->valuedouble : 0;
  cJSON_Delete(j);
  return n;
}

/* The per-order barrier: a refund and a cancel of one order, answered
 * "retry" in one batch, are deferred in that order, and the cancel is not
 * sent again while the refund is still deferred; a confirm of that order
 * reported later waits behind them in the deferred list instead of going
 * to the network. Once the sale is there, all three go, in order. Before,
 * each deferred event went on its own backoff (the cancel could overtake
 * the refund) and the confirm was sent at once. */
START_TEST(deferred_events_of_one_order_keep_their_order) {
  receiver_control(&rx, "{\"followups\":\"retry\"}");
  cashback_client *a = client_in("server-a", SECRET, 500, 0);
  char refund[33], cancel[33], confirm[33];
  report_followup(a, CASHBACK_EVENT_REFUND, "B1", refund);
  report_followup(a, CASHBACK_EVENT_CANCEL, "B1", cancel);
  ck_assert_int_eq(cashback_flush(a, 10000), CASHBACK_OK);
  cashback_queue_status s = {.size = sizeof(s)};
  ck_assert_int_eq(cashback_get_status(a, &s), CASHBACK_OK);
  ck_assert_uint_eq(s.deferred, 2);
  report_followup(a, CASHBACK_EVENT_CONFIRM, "B1", confirm);
  report_sale(a, "B2"); /* another order goes on */
  ck_assert_int_eq(cashback_flush(a, 2000), CASHBACK_OK);
  ck_assert_int_eq(cashback_get_status(a, &s), CASHBACK_OK);
  ck_assert_uint_eq(s.deferred, 3);
  ck_assert_uint_eq(s.queued_events, 0);
  ck_assert_int_eq(times_sent(confirm), 0);
  /* The refund is tried again on its backoff (25-400 ms); the others not. */
  for (int i = 0; i < 4; i++) {
    receiver_sleep_ms(150);
    ck_assert_int_eq(cashback_flush(a, 1000), CASHBACK_OK);
  }
  ck_assert_int_ge(times_sent(refund), 2);
  ck_assert_int_eq(times_sent(cancel), 1);
  ck_assert_int_eq(times_sent(confirm), 0);
  cashback_client *b = client_in("server-b", SECRET, 500, 0);
  report_sale(b, "B1");
  ck_assert_int_eq(cashback_flush(b, 10000), CASHBACK_OK);
  flush_deferred(a, 50);
  ck_assert_int_eq(cashback_get_status(a, &s), CASHBACK_OK);
  ck_assert_uint_eq(s.deferred, 0);
  ck_assert_uint_eq(s.quarantined, 0);
  ck_assert_int_eq(times_sent(cancel), 2);  /* once more, after the refund */
  ck_assert_int_eq(times_sent(confirm), 1); /* once, after the cancel */
  cJSON *j = receiver_stats(&rx);
  cJSON *b1 = order_of(j, "B1");
  ck_assert(cJSON_IsTrue(cJSON_GetObjectItem(b1, "cancelled")));
  ck_assert(cJSON_IsTrue(cJSON_GetObjectItem(b1, "confirmed")));
  ck_assert_int_eq((int)cJSON_GetObjectItem(b1, "refunds")->valuedouble, 1);
  cJSON_Delete(j);
  cashback_client_free(b);
  cashback_client_free(a);
}
END_TEST

/* A network that holds follow-ups answers them "accepted": nothing is
 * deferred, and the order nets correctly once its sale arrives. */
START_TEST(held_followup_nets_when_its_sale_arrives) {
  cashback_client *a = client_in("server-a", SECRET, 500, 0);
  char id[33];
  report_followup(a, CASHBACK_EVENT_REFUND, "H1", id);
  ck_assert_int_eq(cashback_flush(a, 10000), CASHBACK_OK);
  cashback_queue_status s = {.size = sizeof(s)};
  ck_assert_int_eq(cashback_get_status(a, &s), CASHBACK_OK);
  ck_assert_uint_eq(s.deferred, 0);
  ck_assert_uint_eq(s.queued_events, 0);
  cJSON *j = receiver_stats(&rx);
  ck_assert(cJSON_IsNull(cJSON_GetObjectItem(order_of(j, "H1"), "net")));
  ck_assert_int_eq(
      (int)cJSON_GetObjectItem(order_of(j, "H1"), "held")->valuedouble, 1);
  cJSON_Delete(j);
  cashback_client *b = client_in("server-b", SECRET, 500, 0);
  report_sale(b, "H1");
  ck_assert_int_eq(cashback_flush(b, 10000), CASHBACK_OK);
  j = receiver_stats(&rx);
  ck_assert_int_eq(
      (int)cJSON_GetObjectItem(order_of(j, "H1"), "net")->valuedouble,
      4990 - 990);
  cJSON_Delete(j);
  cashback_client_free(b);
  cashback_client_free(a);
}
END_TEST

START_TEST(the_shop_user_is_told_why_it_cannot_send) {
  if (geteuid() != 0) {
    fprintf(stderr, "sender: root and the shop's user: skipped (needs root)\n");
    return;
  }
  struct passwd *pw = getpwnam("nobody");
  ck_assert_ptr_nonnull(pw);
  uid_t uid = pw->pw_uid;
  gid_t gid = pw->pw_gid;
  char dir[128], lock[160];
  snprintf(dir, sizeof(dir), "%s/spool", spool_root);
  snprintf(lock, sizeof(lock), "%s/sender.lock", dir);
  ck_assert_int_eq(chmod(spool_root, 0711), 0);
  ck_assert_int_eq(mkdir(dir, 0700), 0);
  ck_assert_int_eq(chown(dir, uid, gid), 0);
  /* What a root `cashback send` of an older version left behind. */
  int fd = open(lock, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
  ck_assert_int_ge(fd, 0);
  close(fd);
  pid_t pid = fork();
  ck_assert_int_ge(pid, 0);
  if (pid == 0) {
    alarm(20);
    if (setgroups(0, NULL) != 0 || setgid(gid) != 0 || setuid(uid) != 0)
      _exit(10);
    cashback_client *c = client();
    report_sale(c, "U1");
    int rc = 0;
    char err[CASHBACK_ERROR_MAX + 1], user[32];
    snprintf(user, sizeof(user), "uid %u", (unsigned)uid);
    if (cashback_flush(c, 2000) != CASHBACK_E_IO)
      rc = 1;
    cashback_client_last_error(c, err, sizeof(err));
    if (!rc && (!strstr(err, strerror(EACCES)) || !strstr(err, user) ||
                !strstr(err, "sender.lock")))
      rc = 2;
    cashback_queue_status q = {.size = sizeof(q)};
    if (!rc && (cashback_get_status(c, &q) != CASHBACK_OK ||
                q.spool_status != CASHBACK_E_IO ||
                !strstr(q.spool_error, strerror(EACCES))))
      rc = 3;
    cashback_spool_info si = {.size = sizeof(si)};
    if (!rc && (cashback_spool_check(c, &si) != CASHBACK_OK ||
                si.foreign_files != 1 || !strstr(si.foreign, "sender.lock")))
      rc = 4;
    if (rc)
      fprintf(stderr, "as uid %u, step %d: last error '%s'\n", (unsigned)uid,
              rc, err);
    cashback_client_free(c);
    _exit(rc);
  }
  int status;
  ck_assert_int_eq(waitpid(pid, &status, 0), pid);
  ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
                "the shop's user was not told why (step %d)",
                WIFEXITED(status) ? WEXITSTATUS(status) : -1);
  /* Root sending gives the lock back to the spool's owner, and delivers. */
  cashback_client *c = client();
  ck_assert_int_eq(cashback_flush(c, 10000), CASHBACK_OK);
  ck_assert_int_eq(receiver_stat(&rx, "accepted"), 1);
  cashback_client_free(c);
  struct stat st;
  ck_assert_int_eq(stat(lock, &st), 0);
  ck_assert_uint_eq(st.st_uid, uid);
}
END_TEST

/* The path probe never sends an event of the head's order before it: a
 * sale and its cancel, two batch-level 400s (a flaky proxy), and a network
 * that rejects a follow-up of an unknown order. The probe has no event of
 * another order, so it backs off as a path fault; then the sale goes, then
 * its cancel, and nothing is quarantined (before, the probe sent the cancel
 * first and it was quarantined as unknown_order). */
START_TEST(probe_never_sends_a_followup_before_its_sale) {
  receiver_control(&rx, "{\"followups\":\"reject\"}");
  cashback_client *c = client_in("spool", SECRET, 500, 0);
  report_sale(c, "P1");
  char id[33];
  report_followup(c, CASHBACK_EVENT_CANCEL, "P1", id);
  receiver_control(&rx, "{\"status\":400,\"count\":2}");
  cashback_status fst = CASHBACK_E_TIMEOUT;
  for (int i = 0; i < 20 && queued(c) > 0; i++)
    fst = cashback_flush(c, 1000);
  ck_assert_int_eq(fst, CASHBACK_OK); /* the flush that emptied it */
  cashback_queue_status s = {.size = sizeof(s)};
  ck_assert_int_eq(cashback_get_status(c, &s), CASHBACK_OK);
  ck_assert_uint_eq(s.queued_events, 0);
  ck_assert_uint_eq(s.quarantined, 0);
  ck_assert_int_eq(requests_with(400), 2);
  cJSON *j = receiver_stats(&rx);
  cJSON *p1 = order_of(j, "P1");
  ck_assert(cJSON_IsTrue(cJSON_GetObjectItem(p1, "cancelled")));
  ck_assert_int_eq((int)cJSON_GetObjectItem(p1, "net")->valuedouble, 0);
  cJSON_Delete(j);
  cashback_client_free(c);
}
END_TEST

/* With an event of another order behind the head's cancel, the probe
 * skips the cancel and sends that one (before, it sent the cancel, which
 * was quarantined as unknown_order). */
START_TEST(probe_skips_the_heads_order) {
  receiver_control(&rx, "{\"followups\":\"reject\"}");
  cashback_client *c = client_in("spool", SECRET, 500, 0);
  report_sale(c, "P2");
  char id[33];
  report_followup(c, CASHBACK_EVENT_CANCEL, "P2", id);
  report_sale(c, "P3");
  receiver_control(&rx, "{\"status\":400,\"count\":2}");
  cashback_status fst = CASHBACK_E_TIMEOUT;
  for (int i = 0; i < 20 && queued(c) > 0; i++)
    fst = cashback_flush(c, 1000);
  ck_assert_int_eq(fst, CASHBACK_OK); /* the flush that emptied it */
  cashback_queue_status s = {.size = sizeof(s)};
  ck_assert_int_eq(cashback_get_status(c, &s), CASHBACK_OK);
  ck_assert_uint_eq(s.queued_events, 0);
  ck_assert_uint_eq(s.quarantined, 0);
  cJSON *j = receiver_stats(&rx);
  ck_assert(cJSON_IsTrue(cJSON_GetObjectItem(order_of(j, "P2"), "cancelled")));
  ck_assert_int_eq(
      (int)cJSON_GetObjectItem(order_of(j, "P3"), "net")->valuedouble, 4990);
  cJSON_Delete(j);
  cashback_client_free(c);
}
END_TEST

/* 40 spool records that are not events: the quarantine is read once for
 * the step that stores them, not once per record (that was O(n^2) bytes
 * read: 40 reads of a growing quarantine.log). */
START_TEST(invalid_records_read_the_quarantine_once_per_step) {
  cashback_client *c = client();
  report_sale(c, "R0");
  ck_assert_int_eq(cashback_flush(c, 10000), CASHBACK_OK);
  ck_assert_ptr_nonnull(c->sender);
  char dir[128];
  snprintf(dir, sizeof(dir), "%s/spool", spool_root);
  cashback__spool_config cfg = {dir, CASHBACK_DURABLE_SYNC, 0, 0};
  cashback__spool *side = NULL;
  char err[256] = "", junk[32];
  ck_assert_int_eq(cashback__spool_open(&cfg, &side, err, sizeof(err)),
                   CASHBACK_OK);
  for (int i = 0; i < 40; i++) {
    int n = snprintf(junk, sizeof(junk), "not an event %d", i);
    ck_assert_int_eq(
        cashback__spool_append(side, junk, (size_t)n, 1000, err, sizeof(err)),
        CASHBACK_OK);
  }
  cashback__spool_close(side);
  uint64_t before = cashback__sender_quarantine_scans(c->sender);
  ck_assert_int_eq(cashback_flush(c, 10000), CASHBACK_OK);
  uint64_t scans = cashback__sender_quarantine_scans(c->sender) - before;
  ck_assert_msg(scans >= 1 && scans <= 2, "%" PRIu64 " reads", scans);
  cashback_queue_status s = {.size = sizeof(s)};
  ck_assert_int_eq(cashback_get_status(c, &s), CASHBACK_OK);
  ck_assert_uint_eq(s.quarantined, 40);
  ck_assert_uint_eq(s.queued_events, 0);
  cashback_client_free(c);
}
END_TEST

/* Deferred events sent with a key the network refuses: sending pauses (it
 * did not: each deferred event only backed off, and status did not say
 * paused), and nothing is dropped. */
START_TEST(deferred_events_refused_key_pauses) {
  receiver_control(&rx, "{\"followups\":\"retry\"}");
  cashback_client *a = client_in("spool", SECRET, 500, 0);
  char id[33];
  report_followup(a, CASHBACK_EVENT_CANCEL, "K1", id);
  ck_assert_int_eq(cashback_flush(a, 10000), CASHBACK_OK);
  cashback_queue_status s = {.size = sizeof(s)};
  ck_assert_int_eq(cashback_get_status(a, &s), CASHBACK_OK);
  ck_assert_uint_eq(s.deferred, 1);
  cashback_client_free(a);
  receiver_sleep_ms(100); /* due again (25-50 ms) */
  a = client_in("spool", "a-wrong-secret-0123456789abcd", 500, 0);
  ck_assert_int_eq(cashback_flush(a, 2000), CASHBACK_E_AUTH);
  ck_assert_int_eq(cashback_get_status(a, &s), CASHBACK_OK);
  ck_assert_int_eq(s.paused, 1);
  ck_assert_ptr_nonnull(strstr(s.last_error, "deferred"));
  ck_assert_uint_eq(s.deferred, 1);
  ck_assert_uint_eq(s.quarantined, 0);
  cashback_client_free(a);
}
END_TEST

TCase *cashback_test_sender(void) {
  TCase *tc = tcase_create("sender");
  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_set_timeout(tc, 60);
  tcase_add_test(tc, delivers_and_empties_the_spool);
  tcase_add_test(tc, sender_posts_what_request_new_builds);
  tcase_add_test(tc, batches_are_bounded);
  tcase_add_test(tc, linger_holds_a_short_batch_until_it_fills);
  tcase_add_test(tc, linger_expires_and_zero_sends_at_once);
  tcase_add_test(tc, sender_thread_lingers_into_one_request);
  tcase_add_test(tc, retries_5xx_with_backoff);
  tcase_add_test(tc, honours_retry_after);
  tcase_add_test(tc, survives_resets_and_hangs);
  tcase_add_test(tc, accepted_but_unanswered_is_resent_and_deduped);
  tcase_add_test(tc, rejected_event_is_quarantined_then_replayed);
  tcase_add_test(tc, bad_batch_is_split_down_to_the_bad_event);
  tcase_add_test(tc, a_path_refusing_everything_quarantines_nothing);
  tcase_add_test(tc, unwritable_quarantine_backs_off);
  tcase_add_test(tc, read_errors_clear_once_reads_work);
  tcase_add_test(tc, invalid_record_alone_unquarantinable_backs_off);
  tcase_add_test(tc, invalid_record_before_an_event_unquarantinable_backs_off);
  tcase_add_test(tc, one_id_twice_in_a_batch_is_sent_once);
  tcase_add_test(tc, followup_before_its_sale_is_deferred_then_delivered);
  tcase_add_test(tc, deferred_event_expires_into_the_quarantine);
  tcase_add_test(tc, undeferrable_retry_backs_off);
  tcase_add_test(tc, undeferrable_retry_expires_after_followup_wait);
  tcase_add_test(tc, probe_never_sends_a_followup_before_its_sale);
  tcase_add_test(tc, probe_skips_the_heads_order);
  tcase_add_test(tc, deferred_events_of_one_order_keep_their_order);
  tcase_add_test(tc, invalid_records_read_the_quarantine_once_per_step);
  tcase_add_test(tc, deferred_events_refused_key_pauses);
  tcase_add_test(tc, held_followup_nets_when_its_sale_arrives);
  tcase_add_test(tc, deferred_requests_keep_to_the_batch_caps);
  tcase_add_test(tc, wrong_key_pauses_and_keeps_everything);
  tcase_add_test(tc, endless_response_is_a_failed_attempt);
  tcase_add_test(tc, record_that_is_not_json_is_quarantined_listably);
  tcase_add_test(tc, big_invalid_record_is_kept_whole_in_parts);
  tcase_add_test(tc, background_thread_delivers);
  tcase_add_test(tc, state_format_and_parse);
  tcase_add_test(tc, damaged_state_is_ignored_and_counted);
  tcase_add_test(tc, clock_set_back_keeps_to_the_scheduled_delay);
  tcase_add_test(tc, legacy_state_is_read_and_bounded);
  tcase_add_test(tc, retry_after_zero_does_not_cut_the_backoff);
  tcase_add_test(tc, retry_after_date_is_read_against_the_date_header);
  tcase_add_test(tc, the_shop_user_is_told_why_it_cannot_send);
  tcase_add_test(tc, flush_ends_by_its_deadline_against_a_blackhole);
  tcase_add_test(tc, status_shows_a_request_in_flight);
  tcase_add_test(tc, thread_request_in_flight_does_not_hold_flush_or_stop);
  return tc;
}
