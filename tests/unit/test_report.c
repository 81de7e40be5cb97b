/* The reporting API on a real spool directory (the sender's side is in
 * test_sender.c, against the in-tree receiver). */
#include "cashback.h"
#include "fixture.h"
#include "tests.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char root[64];

static void setup(void) {
  snprintf(root, sizeof(root), "/tmp/cbreport-XXXXXX");
  ck_assert_ptr_nonnull(mkdtemp(root));
}

static void teardown(void) {
  char cmd[128];
  snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
  ck_assert_int_eq(system(cmd), 0);
}

static cashback_client *client(const char *sub, uint64_t max_bytes,
                               cashback_durability d) {
  cashback_options *o = cashback_options_new();
  char dir[128];
  snprintf(dir, sizeof(dir), "%s/%s", root, sub);
  cashback_options_set_merchant_id(o, "shop-1");
  cashback_options_set_key(o, "k1", FIXTURE_SECRET);
  cashback_options_set_endpoint(o, "https://api.network.example/v1/events");
  ck_assert_int_eq(cashback_options_set_spool_dir(o, dir), CASHBACK_OK);
  if (max_bytes)
    ck_assert_int_eq(cashback_options_set_spool_max_bytes(o, max_bytes),
                     CASHBACK_OK);
  ck_assert_int_eq(cashback_options_set_durability(o, d), CASHBACK_OK);
  cashback_client *c = NULL;
  ck_assert_int_eq(cashback_client_new(o, &c, NULL, 0), CASHBACK_OK);
  return c;
}

static cashback_event *sale(const char *order) {
  cashback_event *ev = cashback_event_new(CASHBACK_EVENT_SALE, order);
  cashback_event_set_click(ev, "tok");
  cashback_event_set_amount(ev, 100, "EUR");
  return ev;
}

START_TEST(report_stores_and_counts) {
  cashback_client *c = client("s", 0, CASHBACK_DURABLE_SYNC);
  cashback_event *ev = sale("1");
  char id[CASHBACK_EVENT_ID_LEN + 1], fin[CASHBACK_EVENT_ID_LEN + 1];
  ck_assert_int_eq(cashback_report(c, ev, id), CASHBACK_OK);
  ck_assert_int_eq(cashback_event_finalize(c, ev, fin), CASHBACK_OK);
  ck_assert_str_eq(id, fin);
  /* The reloaded thank-you page: stored again, under the same id. */
  ck_assert_int_eq(cashback_report(c, ev, fin), CASHBACK_OK);
  ck_assert_str_eq(id, fin);
  cashback_event_free(ev);
  cashback_queue_status s;
  ck_assert_int_eq(cashback_get_status(c, &s), CASHBACK_OK);
  ck_assert_uint_eq(s.queued_events, 2);
  ck_assert_uint_gt(s.queued_bytes, 0);
  ck_assert_int_ge(s.oldest_age_s, 0);
  ck_assert_uint_eq(s.quarantined, 0);
  ck_assert_int_eq(s.last_success, 0);
  ck_assert_str_eq(s.last_error, "");
  cashback_client_free(c);
}
END_TEST

START_TEST(invalid_event_touches_no_disk) {
  cashback_client *c = client("never", 0, CASHBACK_DURABLE_SYNC);
  cashback_event *ev = cashback_event_new(CASHBACK_EVENT_SALE, "1");
  ck_assert_int_eq(cashback_report(c, ev, NULL), CASHBACK_E_FIELD);
  char path[128];
  snprintf(path, sizeof(path), "%s/never", root);
  struct stat st;
  ck_assert_int_ne(stat(path, &st), 0);
  ck_assert_int_eq(cashback_report(NULL, ev, NULL),
                   CASHBACK_E_INVALID_ARGUMENT);
  ck_assert_int_eq(cashback_report(c, NULL, NULL), CASHBACK_E_INVALID_ARGUMENT);
  cashback_event_free(ev);
  cashback_client_free(c);
}
END_TEST

START_TEST(full_spool_is_a_clear_error) {
  cashback_client *c = client("full", 64 * 1024, CASHBACK_DURABLE_PROCESS);
  char order[32], detail[CASHBACK_ERROR_MAX + 1];
  cashback_status st = CASHBACK_OK;
  int stored = 0;
  for (int i = 0; i < 10000 && st == CASHBACK_OK; i++) {
    snprintf(order, sizeof(order), "o%d", i);
    cashback_event *ev = sale(order);
    st = cashback_report(c, ev, NULL);
    cashback_event_free(ev);
    if (st == CASHBACK_OK)
      stored++;
  }
  ck_assert_int_eq(st, CASHBACK_E_SPOOL_FULL);
  ck_assert_int_eq(cashback_client_last_error(c, detail, sizeof(detail)),
                   CASHBACK_E_SPOOL_FULL);
  ck_assert_ptr_nonnull(strstr(detail, "not stored"));
  cashback_queue_status s;
  ck_assert_int_eq(cashback_get_status(c, &s), CASHBACK_OK);
  ck_assert_uint_eq(s.queued_events, (uint64_t)stored);
  ck_assert_uint_le(s.queued_bytes, 64 * 1024);
  cashback_client_free(c);
}
END_TEST

static void *report_many(void *arg) {
  cashback_client *c = arg;
  char order[48];
  for (int i = 0; i < 100; i++) {
    snprintf(order, sizeof(order), "t%lu-%d", (unsigned long)pthread_self(), i);
    cashback_event *ev = sale(order);
    cashback_status st = cashback_report(c, ev, NULL);
    cashback_event_free(ev);
    if (st != CASHBACK_OK)
      return (void *)1;
  }
  return NULL;
}

START_TEST(threads_share_a_client) {
  cashback_client *c = client("threads", 0, CASHBACK_DURABLE_SYNC);
  pthread_t t[4];
  for (int i = 0; i < 4; i++)
    pthread_create(&t[i], NULL, report_many, c);
  for (int i = 0; i < 4; i++) {
    void *r;
    pthread_join(t[i], &r);
    ck_assert_ptr_null(r);
  }
  cashback_queue_status s;
  ck_assert_int_eq(cashback_get_status(c, &s), CASHBACK_OK);
  ck_assert_uint_eq(s.queued_events, 400);
  cashback_client_free(c);
}
END_TEST

static int never(const cashback_quarantined *q, void *ud) {
  (void)q;
  (*(int *)ud)++;
  return 0;
}

START_TEST(empty_quarantine) {
  cashback_client *c = client("q", 0, CASHBACK_DURABLE_SYNC);
  int calls = 0;
  ck_assert_int_eq(cashback_quarantine_list(c, never, &calls), CASHBACK_OK);
  ck_assert_int_eq(calls, 0);
  size_t n = 5;
  ck_assert_int_eq(cashback_quarantine_replay(c, NULL, &n), CASHBACK_OK);
  ck_assert_uint_eq(n, 0);
  ck_assert_int_eq(cashback_quarantine_replay(c, "abc", &n),
                   CASHBACK_E_NOT_FOUND);
  ck_assert_int_eq(cashback_quarantine_list(c, NULL, NULL),
                   CASHBACK_E_INVALID_ARGUMENT);
  ck_assert_int_eq(cashback_get_status(c, NULL), CASHBACK_E_INVALID_ARGUMENT);
  ck_assert_int_eq(cashback_sender_stop(c, 0), CASHBACK_OK); /* not running */
  cashback_client_free(c);
}
END_TEST

START_TEST(default_spool_directory) {
  /* Without spool_dir: $XDG_STATE_HOME/cashback/<merchant> for a normal
   * user, /var/spool/cashback/<merchant> for root. */
  char xdg[128], merchant[64], want[256];
  snprintf(xdg, sizeof(xdg), "%s/state", root);
  setenv("XDG_STATE_HOME", xdg, 1);
  snprintf(merchant, sizeof(merchant), "unit-test-%ld", (long)getpid());
  if (geteuid() == 0)
    snprintf(want, sizeof(want), "/var/spool/cashback/%s", merchant);
  else
    snprintf(want, sizeof(want), "%s/cashback/%s", xdg, merchant);
  cashback_options *o = cashback_options_new();
  cashback_options_set_merchant_id(o, merchant);
  cashback_options_set_key(o, "k1", FIXTURE_SECRET);
  cashback_options_set_endpoint(o, "https://api.network.example/v1/events");
  cashback_client *c = NULL;
  ck_assert_int_eq(cashback_client_new(o, &c, NULL, 0), CASHBACK_OK);
  cashback_event *ev = sale("1");
  ck_assert_int_eq(cashback_report(c, ev, NULL), CASHBACK_OK);
  cashback_event_free(ev);
  cashback_client_free(c);
  struct stat st;
  ck_assert_int_eq(stat(want, &st), 0);
  ck_assert_int_eq(st.st_mode & 0777, 0700);
  char cmd[300];
  snprintf(cmd, sizeof(cmd), "rm -rf '%s'", want);
  ck_assert_int_eq(system(cmd), 0);
}
END_TEST

TCase *cashback_test_report(void) {
  TCase *tc = tcase_create("report");
  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_set_timeout(tc, 60);
  tcase_add_test(tc, report_stores_and_counts);
  tcase_add_test(tc, invalid_event_touches_no_disk);
  tcase_add_test(tc, full_spool_is_a_clear_error);
  tcase_add_test(tc, threads_share_a_client);
  tcase_add_test(tc, empty_quarantine);
  tcase_add_test(tc, default_spool_directory);
  return tc;
}
