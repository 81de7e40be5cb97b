/* The reporting API on a real spool directory (the sender's side is in
 * test_sender.c, against the in-tree receiver). */
#include "cashback.h"
#include "cashback_crc32c.h"
#include "cashback_record.h"
#include "cashback_quarantine.h"
#include "cashback_spool.h"
#include "fixture.h"
#include "tests.h"

#include <inttypes.h>
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
  ck_assert_int_eq(cashback_options_set_merchant_id(o, "shop-1"), CASHBACK_OK);
  ck_assert_int_eq(cashback_options_set_key(o, "k1", FIXTURE_SECRET),
                   CASHBACK_OK);
  ck_assert_int_eq(
      cashback_options_set_endpoint(o, "https://api.network.example/v1/events"),
      CASHBACK_OK);
  ck_assert_int_eq(cashback_options_set_spool_dir(o, dir), CASHBACK_OK);
  if (max_bytes)
    ck_assert_int_eq(cashback_options_set_spool_max_bytes(o, max_bytes),
                     CASHBACK_OK);
  ck_assert_int_eq(cashback_options_set_durability(o, d), CASHBACK_OK);
  cashback_client *c = NULL;
  ck_assert_int_eq(cashback_client_new(o, &c, NULL, 0), CASHBACK_OK);
  return c;
}

/* No ck_assert here: report_many() calls it from its threads. A refused
 * setter gives NULL, which cashback_report() refuses, so the caller's check
 * of the report fails. */
static cashback_event *sale(const char *order) {
  cashback_event *ev = cashback_event_new(CASHBACK_EVENT_SALE, order);
  if (cashback_event_set_click(ev, "tok") != CASHBACK_OK ||
      cashback_event_set_amount(ev, 100, "EUR") != CASHBACK_OK) {
    cashback_event_free(ev);
    return NULL;
  }
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
  cashback_queue_status s = {.size = sizeof(s)};
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

/* A file among the segments that cannot be read is counted and named in
 * the status, which neither hangs on it (a FIFO) nor stops counting the
 * others. */
START_TEST(status_names_an_unreadable_file) {
  alarm(30);
  cashback_client *c = client("s", 0, CASHBACK_DURABLE_SYNC);
  cashback_event *ev = sale("1");
  ck_assert_int_eq(cashback_report(c, ev, NULL), CASHBACK_OK);
  cashback_event_free(ev);
  char fifo[256];
  snprintf(fifo, sizeof(fifo), "%s/s/seg-0000000000000001-1-fifo0000.log",
           root);
  ck_assert_int_eq(mkfifo(fifo, 0600), 0);
  cashback_queue_status s = {.size = sizeof(s)};
  ck_assert_int_eq(cashback_get_status(c, &s), CASHBACK_OK);
  ck_assert_uint_eq(s.queued_events, 1);
  ck_assert_uint_eq(s.unreadable_files, 1);
  ck_assert_uint_eq(s.read_errors, 0);
  ck_assert_ptr_nonnull(
      strstr(s.spool_problem, "seg-0000000000000001-1-fifo0000.log"));
  ck_assert_ptr_nonnull(strstr(s.spool_problem, "FIFO"));
  ck_assert_ptr_nonnull(strstr(s.spool_problem, "euid"));
  ck_assert_int_eq(unlink(fifo), 0);
  ck_assert_int_eq(cashback_get_status(c, &s), CASHBACK_OK);
  ck_assert_uint_eq(s.unreadable_files, 0);
  ck_assert_str_eq(s.spool_problem, "");
  cashback_client_free(c);
  alarm(0);
}
END_TEST

/* The status's texts come from the spool's files (the state file another
 * process, maybe of another user, wrote): they reach terminals, logs and
 * web pages, so every one is printable (cashback_printable()), whatever
 * bytes the file holds. */
START_TEST(status_texts_are_printable) {
  cashback_client *c = client("s", 0, CASHBACK_DURABLE_SYNC);
  cashback_event *ev = sale("1");
  ck_assert_int_eq(cashback_report(c, ev, NULL), CASHBACK_OK);
  cashback_event_free(ev);
  const char *body = "last_status=21\n"
                     "last_error=\x1b]0;owned\x07 sent\r\n"
                     "read_errors=1\n"
                     "read_error=seg-1: \x1b[2J\x9b"
                     "31m EIO\n";
  char path[256], text[512];
  snprintf(text, sizeof(text), "%scrc=%08" PRIx32 "\n", body,
           cashback__crc32c(0, body, strlen(body)));
  snprintf(path, sizeof(path), "%s/s/state", root);
  FILE *f = fopen(path, "w");
  ck_assert_ptr_nonnull(f);
  fputs(text, f);
  ck_assert_int_eq(fclose(f), 0);
  cashback_queue_status s = {.size = sizeof(s)};
  ck_assert_int_eq(cashback_get_status(c, &s), CASHBACK_OK);
  ck_assert_int_eq(s.last_status, CASHBACK_E_NETWORK);
  ck_assert_uint_eq(s.read_errors, 1);
  ck_assert_msg(test_all_printable(s.last_error), "last_error: %s",
                s.last_error);
  ck_assert_str_eq(s.last_error, "\\x1b]0;owned\\x07 sent\\x0d");
  ck_assert_msg(test_all_printable(s.spool_problem), "spool_problem: %s",
                s.spool_problem);
  ck_assert_str_eq(s.spool_problem, "seg-1: \\x1b[2J\\x9b31m EIO");
  ck_assert(test_all_printable(s.spool_error));
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
  cashback_queue_status s = {.size = sizeof(s)};
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
  cashback_queue_status s = {.size = sizeof(s)};
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

/* --- The quarantine file: every entry listed, damage counted and kept --- */

/* The spool `sub` opened from the side, as another process would. */
static cashback__spool *side_spool(const char *sub) {
  char dir[128];
  snprintf(dir, sizeof(dir), "%s/%s", root, sub);
  cashback__spool_config cfg = {dir, CASHBACK_DURABLE_SYNC, 0, 0};
  cashback__spool *s = NULL;
  char err[256] = "";
  ck_assert_msg(cashback__spool_open(&cfg, &s, err, sizeof(err)) == CASHBACK_OK,
                "%s", err);
  return s;
}

static void qpath(const char *sub, char *out, size_t size) {
  snprintf(out, size, "%s/%s/quarantine.log", root, sub);
}

static uint8_t *slurp(const char *path, size_t *n) {
  FILE *f = fopen(path, "rb");
  ck_assert_ptr_nonnull(f);
  uint8_t *p = malloc(1 << 20);
  ck_assert_ptr_nonnull(p);
  *n = fread(p, 1, 1 << 20, f);
  fclose(f);
  return p;
}

static void spit(const char *path, const uint8_t *p, size_t n) {
  FILE *f = fopen(path, "wb");
  ck_assert_ptr_nonnull(f);
  ck_assert_uint_eq(fwrite(p, 1, n, f), n);
  fclose(f);
}

/* An entry as the sender writes one, for a sale of `order`. */
static void put_entry(cashback__spool *s, const char *id, const char *order) {
  char text[512];
  int n =
      snprintf(text, sizeof(text),
               "{\"id\":\"%s\",\"reason\":\"unknown_click\",\"message\":"
               "\"\",\"http_status\":200,\"quarantined_at\":\"2026-01-01T00:"
               "00:00Z\",\"event\":{\"id\":\"%s\",\"type\":\"sale\","
               "\"order_id\":\"%s\"}}",
               id, id, order);
  ck_assert_int_eq(cashback__quarantine_append(s, text, (size_t)n, 1000),
                   CASHBACK_OK);
}

typedef struct seen {
  int n;
  char ids[8][64];
  char reasons[8][32];
  char events[8][256];
} seen;

static int see(const cashback_quarantined *q, void *ud) {
  seen *x = ud;
  ck_assert_uint_eq(q->size, sizeof(*q)); /* set by the library */
  if (x->n < 8) {
    snprintf(x->ids[x->n], sizeof(x->ids[0]), "%s", q->id);
    snprintf(x->reasons[x->n], sizeof(x->reasons[0]), "%s", q->reason);
    snprintf(x->events[x->n], sizeof(x->events[0]), "%.*s", (int)q->event_len,
             q->event_json);
    ck_assert_uint_eq(strlen(q->event_json), q->event_len);
  }
  x->n++;
  return 0;
}

#define ID_A "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define ID_B "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
#define ID_C "cccccccccccccccccccccccccccccccc"

START_TEST(quarantine_damage_is_counted_and_kept) {
  cashback_client *c = client("qd", 0, CASHBACK_DURABLE_SYNC);
  cashback__spool *sp = side_spool("qd");
  put_entry(sp, ID_A, "A");
  put_entry(sp, ID_B, "B");
  put_entry(sp, ID_C, "C");
  char path[192];
  qpath("qd", path, sizeof(path));
  size_t n;
  uint8_t *p = slurp(path, &n);
  size_t rec = n / 3; /* three records of one size */
  ck_assert_uint_eq(rec * 3, n);
  /* A bit flipped in B's payload, and a torn write at the end. */
  p[rec + CASHBACK__RECORD_HEADER + 10] ^= 0x04;
  memcpy(p + n, p, 30);
  n += 30;
  spit(path, p, n);

  cashback_queue_status s = {.size = sizeof(s)};
  ck_assert_int_eq(cashback_get_status(c, &s), CASHBACK_OK);
  ck_assert_uint_eq(s.quarantined, 2);
  ck_assert_uint_eq(s.quarantine_damaged, 2);
  seen x = {0};
  ck_assert_int_eq(cashback_quarantine_list(c, see, &x), CASHBACK_OK);
  ck_assert_int_eq(x.n, 2); /* the list agrees with the count */
  ck_assert_str_eq(x.ids[0], ID_A);
  ck_assert_str_eq(x.ids[1], ID_C);

  /* A replay rewrites the file: the damage stays, byte for byte, and so
   * does every other record (its checksum included). */
  size_t replayed = 0;
  ck_assert_int_eq(cashback_quarantine_replay(c, ID_A, &replayed), CASHBACK_OK);
  ck_assert_uint_eq(replayed, 1);
  size_t m;
  uint8_t *q = slurp(path, &m);
  ck_assert_uint_eq(m, n - rec);
  ck_assert_int_eq(memcmp(q, p + rec, m), 0);
  ck_assert_int_eq(cashback_get_status(c, &s), CASHBACK_OK);
  ck_assert_uint_eq(s.quarantined, 1);
  ck_assert_uint_eq(s.quarantine_damaged, 2);
  ck_assert_uint_eq(s.queued_events, 1);
  ck_assert_int_eq(cashback_quarantine_replay(c, NULL, &replayed), CASHBACK_OK);
  ck_assert_uint_eq(replayed, 1);
  ck_assert_int_eq(cashback_get_status(c, &s), CASHBACK_OK);
  ck_assert_uint_eq(s.quarantined, 0);
  /* B's damage and the torn tail are now next to each other: one span. */
  ck_assert_uint_eq(s.quarantine_damaged, 1);
  free(q);
  q = slurp(path, &m);
  ck_assert_uint_eq(m, rec + 30);
  ck_assert_int_eq(memcmp(q, p + rec, rec), 0);
  ck_assert_int_eq(memcmp(q + rec, p + 3 * rec, 30), 0);
  free(q);
  free(p);
  cashback__spool_close(sp);
  cashback_client_free(c);
}
END_TEST

START_TEST(unreadable_entry_is_listed) {
  /* Written by 0.1 for a record that was not JSON: the record is valid,
   * its JSON is not. It used to be counted and not listed (3 and 2). */
  cashback_client *c = client("qu", 0, CASHBACK_DURABLE_SYNC);
  cashback__spool *sp = side_spool("qu");
  put_entry(sp, ID_A, "A");
  static const char legacy[] = "{\"id\":\"unknown\",\"reason\":\"invalid_"
                               "record\",\"event\":not \"json\\";
  ck_assert_int_eq(
      cashback__quarantine_append(sp, legacy, strlen(legacy), 2000),
      CASHBACK_OK);
  put_entry(sp, ID_C, "C");
  cashback_queue_status s = {.size = sizeof(s)};
  ck_assert_int_eq(cashback_get_status(c, &s), CASHBACK_OK);
  ck_assert_uint_eq(s.quarantined, 3);
  ck_assert_uint_eq(s.quarantine_damaged, 0);
  seen x = {0};
  ck_assert_int_eq(cashback_quarantine_list(c, see, &x), CASHBACK_OK);
  ck_assert_int_eq(x.n, 3);
  ck_assert_str_eq(x.reasons[1], "unreadable_entry");
  ck_assert_ptr_nonnull(strstr(x.ids[1], "unreadable-"));
  /* Its bytes, escaped: a JSON string. */
  ck_assert_str_eq(x.events[1],
                   "\"{\\\"id\\\":\\\"unknown\\\",\\\"reason\\\":\\\"invalid_"
                   "record\\\",\\\"event\\\":not \\\"json\\\\\"");
  /* Not an event: replay says so, and keeps it. */
  size_t replayed = 9;
  ck_assert_int_eq(cashback_quarantine_replay(c, x.ids[1], &replayed),
                   CASHBACK_E_INVALID_ARGUMENT);
  char err[CASHBACK_ERROR_MAX + 1];
  ck_assert_int_eq(cashback_client_last_error(c, err, sizeof(err)),
                   CASHBACK_E_INVALID_ARGUMENT);
  ck_assert_msg(strstr(err, "not an event"), "%s", err);
  ck_assert_int_eq(cashback_quarantine_replay(c, NULL, &replayed), CASHBACK_OK);
  ck_assert_uint_eq(replayed, 2);
  ck_assert_int_eq(cashback_get_status(c, &s), CASHBACK_OK);
  ck_assert_uint_eq(s.quarantined, 1);
  ck_assert_uint_eq(s.queued_events, 2);
  cashback__spool_close(sp);
  cashback_client_free(c);
}
END_TEST

/* An entry holding terminal escapes (the spool directory is writable by
 * the shop's user; older versions kept the network's texts as they came):
 * its id, reason and message are listed printable, and it is replayed by
 * the id as listed. */
START_TEST(quarantine_texts_are_printable) {
  cashback_client *c = client("qp", 0, CASHBACK_DURABLE_SYNC);
  cashback__spool *sp = side_spool("qp");
  static const char hostile[] =
      "{\"id\":\"q\\u001b[2J1\",\"reason\":\"bad\\u001b]0;x\\u0007\","
      "\"message\":\"m\\u009b2J\\r\\n\",\"event\":{\"id\":\"q\","
      "\"type\":\"sale\",\"order_id\":\"1\"}}";
  ck_assert_int_eq(
      cashback__quarantine_append(sp, hostile, strlen(hostile), 1000),
      CASHBACK_OK);
  seen x = {0};
  ck_assert_int_eq(cashback_quarantine_list(c, see, &x), CASHBACK_OK);
  ck_assert_int_eq(x.n, 1);
  ck_assert_str_eq(x.ids[0], "q\\x1b[2J1");
  ck_assert_str_eq(x.reasons[0], "bad\\x1b]0;x\\x07");
  size_t replayed = 0;
  ck_assert_int_eq(cashback_quarantine_replay(c, "q\\x1b[2J1", &replayed),
                   CASHBACK_OK);
  ck_assert_uint_eq(replayed, 1);
  cashback__spool_close(sp);
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
  ck_assert_int_eq(cashback_options_set_merchant_id(o, merchant), CASHBACK_OK);
  ck_assert_int_eq(cashback_options_set_key(o, "k1", FIXTURE_SECRET),
                   CASHBACK_OK);
  ck_assert_int_eq(
      cashback_options_set_endpoint(o, "https://api.network.example/v1/events"),
      CASHBACK_OK);
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
  tcase_add_test(tc, status_names_an_unreadable_file);
  tcase_add_test(tc, status_texts_are_printable);
  tcase_add_test(tc, quarantine_damage_is_counted_and_kept);
  tcase_add_test(tc, unreadable_entry_is_listed);
  tcase_add_test(tc, quarantine_texts_are_printable);
  return tc;
}
