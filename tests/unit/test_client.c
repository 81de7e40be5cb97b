#include "cashback.h"
#include "fixture.h"
#include "tests.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

START_TEST(missing_keys_are_named) {
  static const char *const keys[] = {"merchant_id", "key_id", "endpoint"};
  for (size_t k = 0; k < 3; k++) {
    cashback_options *o = cashback_options_new();
    if (k != 0)
      ck_assert_int_eq(cashback_options_set_merchant_id(o, "shop-1"),
                       CASHBACK_OK);
    if (k != 1)
      ck_assert_int_eq(cashback_options_set_key(o, "k1", FIXTURE_SECRET),
                       CASHBACK_OK);
    if (k != 2)
      ck_assert_int_eq(
          cashback_options_set_endpoint(o, "https://n.example/v1/events"),
          CASHBACK_OK);
    cashback_client *c = (cashback_client *)&o; /* must be reset to NULL */
    char detail[CASHBACK_ERROR_MAX + 1];
    ck_assert_int_eq(cashback_client_new(o, &c, detail, sizeof(detail)),
                     CASHBACK_E_CONFIG);
    ck_assert_ptr_null(c);
    ck_assert_msg(strstr(detail, keys[k]), "'%s' lacks %s", detail, keys[k]);
  }
  cashback_client *c;
  ck_assert_int_eq(cashback_client_new(NULL, &c, NULL, 0),
                   CASHBACK_E_INVALID_ARGUMENT);
  /* Options are taken even when `out` is missing (no leak under ASan). */
  ck_assert_int_eq(cashback_client_new(cashback_options_new(), NULL, NULL, 0),
                   CASHBACK_E_INVALID_ARGUMENT);
}
END_TEST

/* ca_file: the setter refuses what cannot be a path; the client refuses a
 * file it cannot read, naming the option; a readable file is taken. */
START_TEST(ca_file_checked) {
  cashback_options *o = cashback_options_new();
  static const char *const bad[] = {"", "ca.pem", "/etc/ca\n.pem"};
  for (size_t i = 0; i < 3; i++) {
    ck_assert_int_eq(cashback_options_set_ca_file(o, bad[i]),
                     CASHBACK_E_CONFIG);
    ck_assert_msg(strstr(cashback_options_last_error(o), "ca_file"), "%s",
                  cashback_options_last_error(o));
  }
  ck_assert_int_eq(cashback_options_set_ca_file(o, NULL),
                   CASHBACK_E_INVALID_ARGUMENT);
  ck_assert_int_eq(cashback_options_set_ca_file(NULL, "/x"),
                   CASHBACK_E_INVALID_ARGUMENT);
  static const char *const unreadable[] = {"/nonexistent/cashback-ca.pem",
                                           "/tmp"};
  char detail[CASHBACK_ERROR_MAX + 1];
  cashback_client *c = NULL;
  for (size_t i = 0; i < 2; i++) {
    if (!o)
      o = cashback_options_new();
    ck_assert_int_eq(cashback_options_set_merchant_id(o, "shop-1"),
                     CASHBACK_OK);
    ck_assert_int_eq(cashback_options_set_key(o, "k1", FIXTURE_SECRET),
                     CASHBACK_OK);
    ck_assert_int_eq(
        cashback_options_set_endpoint(o, "https://n.example/v1/events"),
        CASHBACK_OK);
    ck_assert_int_eq(cashback_options_set_ca_file(o, unreadable[i]),
                     CASHBACK_OK);
    ck_assert_int_eq(cashback_client_new(o, &c, detail, sizeof(detail)),
                     CASHBACK_E_CONFIG);
    o = NULL; /* taken by cashback_client_new() */
    ck_assert_ptr_null(c);
    ck_assert_msg(strstr(detail, "ca_file") && strstr(detail, unreadable[i]),
                  "%s", detail);
  }
  /* The text key, through the one option table. */
  o = cashback_options_new();
  ck_assert_int_eq(cashback_options_set_merchant_id(o, "shop-1"), CASHBACK_OK);
  ck_assert_int_eq(cashback_options_set_key(o, "k1", FIXTURE_SECRET),
                   CASHBACK_OK);
  ck_assert_int_eq(
      cashback_options_set_endpoint(o, "https://n.example/v1/events"),
      CASHBACK_OK);
  ck_assert_int_eq(cashback_options_set(o, "ca_file", "/dev/null/x"),
                   CASHBACK_OK);
  ck_assert_int_eq(cashback_client_new(o, &c, detail, sizeof(detail)),
                   CASHBACK_E_CONFIG);
  char path[] = "/tmp/cbca-XXXXXX";
  int fd = mkstemp(path);
  ck_assert_int_ge(fd, 0);
  close(fd);
  o = cashback_options_new();
  ck_assert_int_eq(cashback_options_set_merchant_id(o, "shop-1"), CASHBACK_OK);
  ck_assert_int_eq(cashback_options_set_key(o, "k1", FIXTURE_SECRET),
                   CASHBACK_OK);
  ck_assert_int_eq(
      cashback_options_set_endpoint(o, "https://n.example/v1/events"),
      CASHBACK_OK);
  ck_assert_int_eq(cashback_options_set(o, "ca_file", path), CASHBACK_OK);
  ck_assert_int_eq(cashback_client_new(o, &c, detail, sizeof(detail)),
                   CASHBACK_OK);
  cashback_client_free(c);
  unlink(path);
}
END_TEST

typedef struct log_capture {
  int count;
  cashback_log_level last_level;
  char text[4096];
} log_capture;

static void capture_log(cashback_log_level level, const char *msg, void *ud) {
  log_capture *lc = ud;
  lc->count++;
  lc->last_level = level;
  size_t used = strlen(lc->text);
  snprintf(lc->text + used, sizeof(lc->text) - used, "%s\n", msg);
}

START_TEST(logs_and_last_error_without_secrets) {
  log_capture lc = {0};
  cashback_options *o = cashback_options_new();
  ck_assert_int_eq(cashback_options_set_merchant_id(o, "shop-1"), CASHBACK_OK);
  ck_assert_int_eq(cashback_options_set_key(o, "k1", FIXTURE_SECRET),
                   CASHBACK_OK);
  ck_assert_int_eq(
      cashback_options_set_endpoint(o, "https://n.example/v1/events"),
      CASHBACK_OK);
  ck_assert_int_eq(
      cashback_options_set_logger(o, capture_log, &lc, CASHBACK_LOG_DEBUG),
      CASHBACK_OK);
  cashback_client *c = NULL;
  ck_assert_int_eq(cashback_client_new(o, &c, NULL, 0), CASHBACK_OK);
  ck_assert_int_ge(lc.count, 1);
  ck_assert_str_eq(cashback_client_merchant_id(c), "shop-1");

  char detail[CASHBACK_ERROR_MAX + 1];
  ck_assert_int_eq(cashback_client_last_error(c, detail, sizeof(detail)),
                   CASHBACK_OK);
  ck_assert_str_eq(detail, "");
  /* A failure is recorded, logged at WARN, and holds no secret. */
  cashback_event *ev = cashback_event_new(CASHBACK_EVENT_SALE, "77");
  ck_assert_int_eq(cashback_event_finalize(c, ev, NULL), CASHBACK_E_FIELD);
  cashback_event_free(ev);
  ck_assert_int_eq(cashback_client_last_error(c, detail, sizeof(detail)),
                   CASHBACK_E_FIELD);
  ck_assert_ptr_nonnull(strstr(detail, "order 77"));
  ck_assert_int_eq(lc.last_level, CASHBACK_LOG_WARN);
  ck_assert_ptr_nonnull(strstr(lc.text, "order 77"));
  ck_assert_ptr_null(strstr(lc.text, FIXTURE_SECRET));
  /* Truncation is safe. */
  char tiny[4];
  cashback_client_last_error(c, tiny, sizeof(tiny));
  ck_assert_uint_eq(strlen(tiny), 3);
  cashback_client_free(c);
}
END_TEST

START_TEST(log_level_filter) {
  log_capture lc = {0};
  cashback_options *o = cashback_options_new();
  ck_assert_int_eq(cashback_options_set_merchant_id(o, "shop-1"), CASHBACK_OK);
  ck_assert_int_eq(cashback_options_set_key(o, "k1", FIXTURE_SECRET),
                   CASHBACK_OK);
  ck_assert_int_eq(
      cashback_options_set_endpoint(o, "https://n.example/v1/events"),
      CASHBACK_OK);
  ck_assert_int_eq(
      cashback_options_set_logger(o, capture_log, &lc, CASHBACK_LOG_ERROR),
      CASHBACK_OK);
  cashback_client *c = NULL;
  ck_assert_int_eq(cashback_client_new(o, &c, NULL, 0), CASHBACK_OK);
  cashback_event *ev = cashback_event_new(CASHBACK_EVENT_SALE, "77");
  ck_assert_int_eq(cashback_event_finalize(c, ev, NULL), CASHBACK_E_FIELD);
  cashback_event_free(ev);
  ck_assert_int_eq(lc.count, 0); /* INFO and WARN are below ERROR */
  cashback_client_free(c);
}
END_TEST

/* A path with a terminal escape reaches the last error and the log line
 * made printable: no ESC (or any other control byte) gets through. */
START_TEST(last_error_and_log_are_printable) {
  log_capture lc = {0};
  cashback_options *o = cashback_options_new();
  ck_assert_int_eq(cashback_options_set_merchant_id(o, "shop-1"), CASHBACK_OK);
  ck_assert_int_eq(cashback_options_set_key(o, "k1", FIXTURE_SECRET),
                   CASHBACK_OK);
  ck_assert_int_eq(
      cashback_options_set_endpoint(o, "https://n.example/v1/events"),
      CASHBACK_OK);
  ck_assert_int_eq(
      cashback_options_set_logger(o, capture_log, &lc, CASHBACK_LOG_DEBUG),
      CASHBACK_OK);
  cashback_client *c = NULL;
  ck_assert_int_eq(cashback_client_new(o, &c, NULL, 0), CASHBACK_OK);
  ck_assert_int_eq(cashback_import_csv(c,
                                       "/nonexistent/\x1b[2J\x1b]0;t\x07\xff",
                                       0, NULL, NULL, NULL),
                   CASHBACK_E_IO);
  char detail[CASHBACK_ERROR_MAX + 1];
  cashback_client_last_error(c, detail, sizeof(detail));
  ck_assert_ptr_nonnull(
      strstr(detail, "'/nonexistent/\\x1b[2J\\x1b]0;t\\x07\\xff'"));
  for (const char *p = detail; *p; p++)
    ck_assert_int_ge((unsigned char)*p, 0x20);
  /* The log lines joined by '\n' (the capture's own separator). */
  ck_assert_ptr_nonnull(strstr(lc.text, "\\x1b[2J"));
  for (const char *p = lc.text; *p; p++)
    ck_assert_msg(*p == '\n' ||
                      ((unsigned char)*p >= 0x20 && (unsigned char)*p < 0x7f),
                  "byte 0x%02x in the log", (unsigned char)*p);
  cashback_client_free(c);
}
END_TEST

static void *fail_many(void *arg) {
  cashback_client *c = arg;
  for (int i = 0; i < 200; i++) {
    cashback_event *ev = cashback_event_new(CASHBACK_EVENT_REFUND, "9");
    if (cashback_event_finalize(c, ev, NULL) != CASHBACK_E_FIELD)
      return (void *)1;
    cashback_event_free(ev);
    char d[CASHBACK_ERROR_MAX + 1];
    if (cashback_client_last_error(c, d, sizeof(d)) != CASHBACK_E_FIELD ||
        !strstr(d, "order 9"))
      return (void *)1;
  }
  return NULL;
}

START_TEST(one_client_many_threads) {
  cashback_client *c = fixture_client("shop-1", NULL);
  pthread_t t[4];
  for (int i = 0; i < 4; i++)
    ck_assert_int_eq(pthread_create(&t[i], NULL, fail_many, c), 0);
  for (int i = 0; i < 4; i++) {
    void *r;
    pthread_join(t[i], &r);
    ck_assert_ptr_null(r);
  }
  cashback_client_free(c);
}
END_TEST

START_TEST(clients_are_independent) {
  int64_t t1 = 1000000, t2 = 2000000;
  cashback_client *a = fixture_client("shop-a", &t1);
  cashback_client *b = fixture_client("shop-b", &t2);
  char ida[CASHBACK_EVENT_ID_LEN + 1], idb[CASHBACK_EVENT_ID_LEN + 1];
  cashback_event *ea = cashback_event_new(CASHBACK_EVENT_CONFIRM, "1");
  cashback_event *eb = cashback_event_new(CASHBACK_EVENT_CONFIRM, "1");
  ck_assert_int_eq(cashback_event_finalize(a, ea, ida), CASHBACK_OK);
  ck_assert_int_eq(cashback_event_finalize(b, eb, idb), CASHBACK_OK);
  ck_assert_str_ne(ida, idb);
  /* A cookie of shop-a means nothing to shop-b, whose key differs. */
  char sc[CASHBACK_SET_COOKIE_MAX + 1];
  ck_assert_int_eq(cashback_capture(a, "cb_click=T1", 11, sc, sizeof(sc)),
                   CASHBACK_OK);
  char cookie[CASHBACK_SET_COOKIE_MAX + 1];
  size_t n = strcspn(sc, ";");
  memcpy(cookie, sc, n);
  cookie[n] = '\0';
  cashback_click click = {.size = sizeof(cashback_click)};
  ck_assert_int_eq(cashback_click_read(a, cookie, n, &click), CASHBACK_OK);
  ck_assert_int_eq(click.captured_at, 1000000);
  ck_assert_int_eq(cashback_click_read(b, cookie, n, &click),
                   CASHBACK_E_CLICK_TAMPERED);
  cashback_event_free(ea);
  cashback_event_free(eb);
  cashback_client_free(a);
  cashback_client_free(b);
  cashback_client_free(NULL);
}
END_TEST

/* Issue 11: the last error is per thread. One thread's report fails; while
 * it holds that failure, another thread reads a stream of forged click
 * cookies (bot traffic). Each must see its own detail: before, the clicks'
 * detail overwrote the report's (one record per client). */
typedef struct {
  cashback_client *c;
  pthread_barrier_t *b;
  const char *cookie;
  size_t len;
  int bad; /* what went wrong, for the message */
} errors_arg;

static void *report_fails(void *arg) {
  errors_arg *a = arg;
  cashback_event *ev = cashback_event_new(CASHBACK_EVENT_SALE, "4242");
  if (cashback_report(a->c, ev, NULL) != CASHBACK_E_FIELD)
    a->bad = 1;
  cashback_event_free(ev);
  pthread_barrier_wait(a->b); /* failed: the clicks may begin */
  pthread_barrier_wait(a->b); /* the clicks are done */
  char d[CASHBACK_ERROR_MAX + 1];
  if (cashback_client_last_error(a->c, d, sizeof(d)) != CASHBACK_E_FIELD ||
      !strstr(d, "order 4242"))
    a->bad = 2;
  return NULL;
}

static void *bad_clicks(void *arg) {
  errors_arg *a = arg;
  pthread_barrier_wait(a->b);
  for (int i = 0; i < 100 && !a->bad; i++) {
    cashback_click click = {.size = sizeof(cashback_click)};
    if (cashback_click_read(a->c, a->cookie, a->len, &click) !=
        CASHBACK_E_CLICK_TAMPERED)
      a->bad = 3;
    char d[CASHBACK_ERROR_MAX + 1];
    if (cashback_client_last_error(a->c, d, sizeof(d)) !=
            CASHBACK_E_CLICK_TAMPERED ||
        strstr(d, "4242"))
      a->bad = 4;
  }
  pthread_barrier_wait(a->b);
  return NULL;
}

START_TEST(last_error_is_per_thread) {
  int64_t now = 1000000;
  cashback_client *c = fixture_client("shop-1", &now);
  char sc[CASHBACK_SET_COOKIE_MAX + 1];
  ck_assert_int_eq(cashback_capture(c, "cb_click=T1", 11, sc, sizeof(sc)),
                   CASHBACK_OK);
  char cookie[CASHBACK_SET_COOKIE_MAX + 1];
  size_t n = strcspn(sc, ";");
  memcpy(cookie, sc, n);
  cookie[n] = '\0';
  cookie[n - 1] = cookie[n - 1] == 'A' ? 'B' : 'A'; /* a forged MAC */
  pthread_barrier_t b;
  ck_assert_int_eq(pthread_barrier_init(&b, NULL, 2), 0);
  errors_arg ra = {c, &b, NULL, 0, 0}, ca = {c, &b, cookie, n, 0};
  pthread_t t1, t2;
  ck_assert_int_eq(pthread_create(&t1, NULL, report_fails, &ra), 0);
  ck_assert_int_eq(pthread_create(&t2, NULL, bad_clicks, &ca), 0);
  pthread_join(t1, NULL);
  pthread_join(t2, NULL);
  pthread_barrier_destroy(&b);
  ck_assert_msg(ra.bad == 0, "the report's thread: case %d", ra.bad);
  ck_assert_msg(ca.bad == 0, "the clicks' thread: case %d", ca.bad);
  /* Neither thread's failure shows in this one, which made no call. */
  char d[CASHBACK_ERROR_MAX + 1];
  ck_assert_int_eq(cashback_client_last_error(c, d, sizeof(d)), CASHBACK_OK);
  ck_assert_str_eq(d, "");
  cashback_client_free(c);
}
END_TEST

/* Each call starts with a clear record: after a call that succeeds the
 * detail of an earlier failure is gone, so a detail is always the last
 * call's. */
START_TEST(success_clears_the_threads_record) {
  cashback_client *c = fixture_client("shop-1", NULL);
  cashback_event *ev = cashback_event_new(CASHBACK_EVENT_SALE, "77");
  ck_assert_int_eq(cashback_event_finalize(c, ev, NULL), CASHBACK_E_FIELD);
  cashback_event_free(ev);
  char d[CASHBACK_ERROR_MAX + 1];
  ck_assert_int_eq(cashback_client_last_error(c, d, sizeof(d)),
                   CASHBACK_E_FIELD);
  char sc[CASHBACK_SET_COOKIE_MAX + 1];
  ck_assert_int_eq(cashback_capture(c, "cb_click=T1", 11, sc, sizeof(sc)),
                   CASHBACK_OK);
  ck_assert_int_eq(cashback_client_last_error(c, d, sizeof(d)), CASHBACK_OK);
  ck_assert_str_eq(d, "");
  cashback_client_free(c);
}
END_TEST

static void *fail_and_exit(void *arg) {
  cashback_event *ev = cashback_event_new(CASHBACK_EVENT_SALE, "5");
  /* No amount, no click: refused, and the refusal leaves a record. */
  cashback_status st = cashback_event_finalize(arg, ev, NULL);
  cashback_event_free(ev);
  return (void *)(intptr_t)st;
}

/* Threads that fail and exit leave records, bounded, freed with the client
 * (ASan: no leak); the main thread's own record is never theirs. */
START_TEST(exited_threads_records_are_bounded) {
  cashback_client *c = fixture_client("shop-1", NULL);
  for (int i = 0; i < 40; i++) {
    pthread_t t;
    void *st = NULL;
    ck_assert_int_eq(pthread_create(&t, NULL, fail_and_exit, c), 0);
    pthread_join(t, &st);
    ck_assert_int_ne((int)(intptr_t)st, CASHBACK_OK);
  }
  char d[CASHBACK_ERROR_MAX + 1];
  ck_assert_int_eq(cashback_client_last_error(c, d, sizeof(d)), CASHBACK_OK);
  cashback_client_free(c);
}
END_TEST

static void *read_last_error(void *arg) {
  static cashback_status seen;
  char d[CASHBACK_ERROR_MAX + 1];
  seen = cashback_client_last_error(arg, d, sizeof(d));
  return &seen;
}

/* glibc gives a new thread the pthread_t of one that just exited: a thread
 * whose first call is last_error must still not see the dead thread's
 * failure (records were keyed by pthread_t). */
START_TEST(a_new_thread_never_reads_a_dead_threads_error) {
  cashback_client *c = fixture_client("shop-1", NULL);
  int reused = 0;
  for (int i = 0; i < 20; i++) {
    pthread_t a, b;
    void *res = NULL;
    ck_assert_int_eq(pthread_create(&a, NULL, fail_and_exit, c), 0);
    pthread_join(a, NULL);
    ck_assert_int_eq(pthread_create(&b, NULL, read_last_error, c), 0);
    reused += pthread_equal(a, b) != 0;
    pthread_join(b, &res);
    ck_assert_int_eq(*(cashback_status *)res, CASHBACK_OK);
  }
  /* The case this guards is the reused pthread_t: say when it never arose
   * (another libc), rather than pass silently. */
  if (reused == 0)
    fprintf(stderr, "note: no pthread_t was reused in 20 tries\n");
  cashback_client_free(c);
}
END_TEST

TCase *cashback_test_client(void) {
  TCase *tc = tcase_create("client");
  tcase_add_test(tc, missing_keys_are_named);
  tcase_add_test(tc, ca_file_checked);
  tcase_add_test(tc, logs_and_last_error_without_secrets);
  tcase_add_test(tc, log_level_filter);
  tcase_add_test(tc, last_error_and_log_are_printable);
  tcase_add_test(tc, one_client_many_threads);
  tcase_add_test(tc, last_error_is_per_thread);
  tcase_add_test(tc, success_clears_the_threads_record);
  tcase_add_test(tc, exited_threads_records_are_bounded);
  tcase_add_test(tc, a_new_thread_never_reads_a_dead_threads_error);
  tcase_add_test(tc, clients_are_independent);
  return tc;
}
