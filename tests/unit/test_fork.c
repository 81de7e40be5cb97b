/* A client made before fork(): the parent goes on as before, the child can
 * report, flush and free, and nothing the child inherited keeps the
 * parent's locks or files alive (sdk/cashback_fork.c). Every child is
 * bounded by alarm(), every wait for one by a deadline: a hang fails. */
#include "cashback.h"
#include "receiver.h"
#include "tests.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/stat.h>

#define SECRET "fork-test-secret-0123456789"
#define CHILD_ALARM_S 10

static receiver rx;
static char spool_root[64];
static char spool_dir[128];

static void setup(void) {
  receiver_start(&rx, "k1:" SECRET);
  snprintf(spool_root, sizeof(spool_root), "/tmp/cbfork-XXXXXX");
  ck_assert_ptr_nonnull(mkdtemp(spool_root));
  snprintf(spool_dir, sizeof(spool_dir), "%s/spool", spool_root);
}

static void teardown(void) {
  receiver_stop(&rx);
  char cmd[128];
  snprintf(cmd, sizeof(cmd), "rm -rf '%s'", spool_root);
  ck_assert_int_eq(system(cmd), 0);
}

/* A client of shop-1; `endpoint` NULL: the receiver. */
static cashback_client *client_at(const char *endpoint) {
  cashback_options *o = cashback_options_new();
  ck_assert_int_eq(cashback_options_set_merchant_id(o, "shop-1"), CASHBACK_OK);
  ck_assert_int_eq(cashback_options_set_key(o, "k1", SECRET), CASHBACK_OK);
  ck_assert_int_eq(
      cashback_options_set_endpoint(o, endpoint ? endpoint : rx.endpoint),
      CASHBACK_OK);
  ck_assert_int_eq(cashback_options_set_spool_dir(o, spool_dir), CASHBACK_OK);
  ck_assert_int_eq(cashback_options_set_backoff(o, 50, 400), CASHBACK_OK);
  ck_assert_int_eq(cashback_options_set_timeouts(o, 1000, 700), CASHBACK_OK);
  cashback_client *c = NULL;
  char d[CASHBACK_ERROR_MAX + 1];
  ck_assert_msg(cashback_client_new(o, &c, d, sizeof(d)) == CASHBACK_OK, "%s",
                d);
  return c;
}

static cashback_status report(cashback_client *c, const char *order) {
  cashback_event *ev = cashback_event_new(CASHBACK_EVENT_SALE, order);
  if (!ev || cashback_event_set_click(ev, "tok") != CASHBACK_OK ||
      cashback_event_set_amount(ev, 1250, "EUR") != CASHBACK_OK) {
    cashback_event_free(ev);
    return CASHBACK_E_INTERNAL;
  }
  cashback_status st = cashback_report(c, ev, NULL);
  cashback_event_free(ev);
  return st;
}

/* 1 when some process holds the flock of `name` in the spool. */
static int locked(const char *name) {
  char path[256];
  snprintf(path, sizeof(path), "%s/%s", spool_dir, name);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0 && errno == ENOENT)
    return 0;
  ck_assert_msg(fd >= 0, "%s: %s", path, strerror(errno));
  int held = flock(fd, LOCK_EX | LOCK_NB) != 0;
  close(fd);
  return held;
}

/* Waits (at most 10 s) until the sender lock is held. */
static void wait_locked(void) {
  for (int i = 0; i < 200 && !locked("sender.lock"); i++)
    receiver_sleep_ms(50);
  ck_assert_msg(locked("sender.lock"), "the sender thread took no lock");
}

/* The name of the one segment in the spool ("" when none). */
static void the_segment(char *out, size_t size) {
  out[0] = '\0';
  char cmd[256];
  snprintf(cmd, sizeof(cmd), "cd '%s' && ls seg-*.log 2>/dev/null", spool_dir);
  FILE *p = popen(cmd, "r");
  ck_assert_ptr_nonnull(p);
  if (!fgets(out, (int)size, p))
    out[0] = '\0';
  pclose(p);
  out[strcspn(out, "\n")] = '\0';
}

/* In a child: dies of SIGALRM after CHILD_ALARM_S, whatever the test
 * runner did with the signal. */
static void bound_child(void) {
  signal(SIGALRM, SIG_DFL);
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGALRM);
  sigprocmask(SIG_UNBLOCK, &set, NULL);
  alarm(CHILD_ALARM_S);
}

/* The exit status of child `pid`, waiting at most 20 s (then it is killed
 * and the test fails: a hang). */
static int wait_child(pid_t pid) {
  int status = 0;
  for (int i = 0; i < 400; i++) {
    pid_t r = waitpid(pid, &status, WNOHANG);
    if (r == pid) {
      if (WIFSIGNALED(status))
        ck_abort_msg("the child died of signal %d (SIGALRM %d: it hung)",
                     WTERMSIG(status), SIGALRM);
      return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    }
    receiver_sleep_ms(50);
  }
  kill(pid, SIGKILL);
  waitpid(pid, &status, 0);
  ck_abort_msg("the child hung");
  return -1;
}

START_TEST(child_reports_flushes_and_frees_while_the_parent_sends) {
  /* The parent's sender thread holds the spool (its network is down, so it
   * keeps it); a child made now is not that sender. */
  cashback_client *c = client_at("http://127.0.0.1:9/v1/events");
  ck_assert_int_eq(report(c, "P1"), CASHBACK_OK);
  ck_assert_int_eq(cashback_sender_start(c), CASHBACK_OK);
  wait_locked();
  pid_t pid = fork();
  ck_assert_int_ge(pid, 0);
  if (pid == 0) {
    bound_child();
    int rc = 0;
    if (report(c, "C1") != CASHBACK_OK)
      rc = 1;
    /* The parent's sender holds the lock: the child must not drain. */
    else if (cashback_flush(c, 500) != CASHBACK_E_BUSY)
      rc = 2;
    else if (cashback_sender_stop(c, 0) != CASHBACK_OK)
      rc = 3;
    cashback_client_free(c); /* hung in pthread_cond_destroy / join */
    _exit(rc);
  }
  int rc = wait_child(pid);
  ck_assert_msg(rc == 0, "child failed at step %d", rc);
  /* The parent goes on: it reports, and its sender still holds the spool. */
  ck_assert_int_eq(report(c, "P2"), CASHBACK_OK);
  ck_assert(locked("sender.lock"));
  cashback_queue_status q = {.size = sizeof(q)};
  ck_assert_int_eq(cashback_get_status(c, &q), CASHBACK_OK);
  ck_assert_uint_eq(q.queued_events, 3);
  ck_assert_int_eq(cashback_sender_stop(c, 0), CASHBACK_OK);
  cashback_client_free(c);
  /* Everything reaches the network once a sender can. */
  cashback_client *d = client_at(NULL);
  ck_assert_int_eq(cashback_flush(d, 10000), CASHBACK_OK);
  ck_assert_int_eq(receiver_stat(&rx, "accepted"), 3);
  cashback_client_free(d);
}
END_TEST

START_TEST(a_child_keeps_no_lock_or_segment_of_the_parent) {
  cashback_client *c = client_at("http://127.0.0.1:9/v1/events");
  ck_assert_int_eq(report(c, "P1"), CASHBACK_OK);
  ck_assert_int_eq(cashback_sender_start(c), CASHBACK_OK);
  wait_locked();
  char seg[128];
  the_segment(seg, sizeof(seg));
  ck_assert_msg(seg[0], "no segment");
  ck_assert(locked(seg)); /* the parent's open segment */
  int gate[2], ready[2];
  ck_assert_int_eq(pipe(gate), 0);
  ck_assert_int_eq(pipe(ready), 0);
  pid_t pid = fork();
  ck_assert_int_ge(pid, 0);
  if (pid == 0) {
    /* A worker that never calls libcashback: it lives until told. */
    bound_child();
    close(gate[1]);
    close(ready[0]);
    /* fork() has returned here: the child's copies are closed by now. */
    if (write(ready[1], "r", 1) != 1)
      _exit(3);
    char b;
    while (read(gate[0], &b, 1) < 0 && errno == EINTR)
      ;
    _exit(0);
  }
  close(gate[0]);
  close(ready[1]);
  char r;
  ck_assert_int_eq(read(ready[0], &r, 1), 1); /* the child runs */
  close(ready[0]);
  /* The parent is done with its client while the child lives on. */
  ck_assert_int_eq(cashback_sender_stop(c, 0), CASHBACK_OK);
  cashback_client_free(c);
  int lock_free = !locked("sender.lock");
  int seg_free = !locked(seg);
  /* Another sender (the next process) can take the spool at once. */
  cashback_client *d = client_at(NULL);
  cashback_status flushed = cashback_flush(d, 10000);
  close(gate[1]);
  ck_assert_int_eq(wait_child(pid), 0);
  ck_assert_msg(lock_free, "the child kept the parent's sender lock");
  ck_assert_msg(seg_free, "the child kept the parent's segment locked");
  ck_assert_int_eq(flushed, CASHBACK_OK);
  ck_assert_int_eq(receiver_stat(&rx, "accepted"), 1);
  cashback_client_free(d);
}
END_TEST

START_TEST(a_child_drains_when_no_sender_holds_the_spool) {
  /* The parent reported but sends nothing: the child's flush delivers the
   * parent's and its own events; the parent's client still works after. */
  cashback_client *c = client_at(NULL);
  ck_assert_int_eq(report(c, "P1"), CASHBACK_OK);
  pid_t pid = fork();
  ck_assert_int_ge(pid, 0);
  if (pid == 0) {
    bound_child();
    int rc = report(c, "C1") != CASHBACK_OK            ? 1
             : cashback_flush(c, 10000) != CASHBACK_OK ? 2
                                                       : 0;
    cashback_client_free(c);
    _exit(rc);
  }
  int rc = wait_child(pid);
  ck_assert_msg(rc == 0, "child failed at step %d", rc);
  ck_assert_int_eq(receiver_stat(&rx, "accepted"), 2);
  ck_assert_int_eq(report(c, "P2"), CASHBACK_OK);
  ck_assert_int_eq(cashback_flush(c, 10000), CASHBACK_OK);
  ck_assert_int_eq(receiver_stat(&rx, "accepted"), 3);
  cashback_client_free(c);
}
END_TEST

START_TEST(a_child_of_a_child_of_a_busy_parent) {
  /* Forks while reporting threads are busy: the child's first report must
   * not wait for a lock a thread of the parent held. */
  cashback_client *c = client_at("http://127.0.0.1:9/v1/events");
  ck_assert_int_eq(cashback_sender_start(c), CASHBACK_OK);
  for (int round = 0; round < 20; round++) {
    char order[32];
    snprintf(order, sizeof(order), "R%d", round);
    ck_assert_int_eq(report(c, order), CASHBACK_OK);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
      bound_child();
      int rc = report(c, "child") == CASHBACK_OK ? 0 : 1;
      pid_t g = fork(); /* and its own child */
      if (g == 0) {
        bound_child();
        int r2 = report(c, "grandchild") == CASHBACK_OK ? 0 : 1;
        cashback_client_free(c);
        _exit(r2);
      }
      int st = 0;
      waitpid(g, &st, 0);
      if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
        rc = 2;
      cashback_client_free(c);
      _exit(rc);
    }
    ck_assert_int_eq(wait_child(pid), 0);
  }
  cashback_queue_status q = {.size = sizeof(q)};
  ck_assert_int_eq(cashback_get_status(c, &q), CASHBACK_OK);
  ck_assert_uint_eq(q.queued_events, 60);
  ck_assert_int_eq(cashback_sender_stop(c, 0), CASHBACK_OK);
  cashback_client_free(c);
}
END_TEST

static void report_cancel(cashback_client *c, const char *order) {
  cashback_event *ev = cashback_event_new(CASHBACK_EVENT_CANCEL, order);
  ck_assert_ptr_nonnull(ev);
  ck_assert_int_eq(cashback_report(c, ev, NULL), CASHBACK_OK);
  cashback_event_free(ev);
}

static uint64_t deferred_now(cashback_client *c) {
  cashback_queue_status q = {.size = sizeof(q)};
  ck_assert_int_eq(cashback_get_status(c, &q), CASHBACK_OK);
  return q.deferred;
}

/* The parent's sender read the (empty) deferred list, then forked; after
 * the fork the parent defers X (its cursor moves past X) and goes away. The
 * child's flush takes sender.lock anew: it must read the list again, not
 * save its fork-time copy over the file (X was lost: acknowledged to the
 * application, in no segment and no longer deferred). */
START_TEST(a_child_sender_does_not_write_its_fork_time_deferred_list) {
  receiver_control(&rx, "{\"followups\":\"retry\"}");
  cashback_client *c = client_at(NULL);
  ck_assert_int_eq(report(c, "S0"), CASHBACK_OK);
  ck_assert_int_eq(cashback_flush(c, 10000), CASHBACK_OK); /* list read */
  int gate[2];
  ck_assert_int_eq(pipe(gate), 0);
  pid_t pid = fork();
  ck_assert_int_ge(pid, 0);
  if (pid == 0) {
    bound_child();
    close(gate[1]);
    char b;
    while (read(gate[0], &b, 1) < 0 && errno == EINTR)
      ;
    report_cancel(c, "Y1"); /* deferred too: the list is saved */
    cashback_status fst = cashback_flush(c, 5000);
    cashback_client_free(c);
    _exit(fst == CASHBACK_OK ? 0 : 10 + (int)fst);
  }
  close(gate[0]);
  report_cancel(c, "X1");
  ck_assert_int_eq(cashback_flush(c, 10000), CASHBACK_OK);
  ck_assert_uint_eq(deferred_now(c), 1); /* X: the cursor moved past it */
  cashback_client_free(c);               /* lets go of sender.lock */
  close(gate[1]);
  ck_assert_int_eq(wait_child(pid), 0);
  cashback_client *d = client_at(NULL);
  ck_assert_uint_eq(deferred_now(d), 2); /* X and Y (was 1: X lost) */
  /* The network can hold them now, and the sales follow (behind the
   * cancels, the per-order barrier): both cancels count, X included. */
  receiver_control(&rx, "{\"followups\":\"hold\"}");
  ck_assert_int_eq(report(d, "X1"), CASHBACK_OK);
  ck_assert_int_eq(report(d, "Y1"), CASHBACK_OK);
  for (int i = 0; i < 50 && deferred_now(d); i++) {
    ck_assert_int_eq(cashback_flush(d, 2000), CASHBACK_OK);
    receiver_sleep_ms(50);
  }
  ck_assert_uint_eq(deferred_now(d), 0);
  cJSON *j = receiver_stats(&rx);
  cJSON *orders = cJSON_GetObjectItem(j, "orders");
  ck_assert(cJSON_IsTrue(
      cJSON_GetObjectItem(cJSON_GetObjectItem(orders, "X1"), "cancelled")));
  ck_assert(cJSON_IsTrue(
      cJSON_GetObjectItem(cJSON_GetObjectItem(orders, "Y1"), "cancelled")));
  cJSON_Delete(j);
  cashback_client_free(d);
}
END_TEST

/* The logger below forks once, at the first deferral (inside a step, with
 * the step lock held by the forking thread and the batch in use). */
static pid_t logger_child = -1; /* in the parent: the child; 0 in it */

static void forking_logger(cashback_log_level level, const char *message,
                           void *ud) {
  (void)level;
  (void)ud;
  if (logger_child < 0 && strstr(message, "deferred: the network asked")) {
    logger_child = fork();
    if (logger_child == 0)
      bound_child();
  }
}

/* An application forks from its log callback in the middle of a step. The
 * child's copy of the step resumes on its own stack: its step lock and batch
 * must not be made anew under it (the next deferral then read item 1 of a
 * reset batch: SIGSEGV), and it writes nothing into the spool, whose
 * sender.lock is the parent's. The parent is unaffected. */
START_TEST(a_fork_from_a_log_callback_inside_a_step) {
  receiver_control(&rx, "{\"followups\":\"retry\"}");
  cashback_options *o = cashback_options_new();
  ck_assert_int_eq(cashback_options_set_merchant_id(o, "shop-1"), CASHBACK_OK);
  ck_assert_int_eq(cashback_options_set_key(o, "k1", SECRET), CASHBACK_OK);
  ck_assert_int_eq(cashback_options_set_endpoint(o, rx.endpoint), CASHBACK_OK);
  ck_assert_int_eq(cashback_options_set_spool_dir(o, spool_dir), CASHBACK_OK);
  ck_assert_int_eq(cashback_options_set_backoff(o, 50, 400), CASHBACK_OK);
  ck_assert_int_eq(
      cashback_options_set_logger(o, forking_logger, NULL, CASHBACK_LOG_INFO),
      CASHBACK_OK);
  cashback_client *c = NULL;
  ck_assert_int_eq(cashback_client_new(o, &c, NULL, 0), CASHBACK_OK);
  report_cancel(c, "L1");
  report_cancel(c, "L2");
  report_cancel(c, "L3");
  cashback_status fst = cashback_flush(c, 5000);
  if (logger_child == 0) { /* the child, back from its copy of the step */
    cashback_client_free(c);
    _exit(0); /* its flush is not the parent's: what it did is checked below */
  }
  ck_assert_int_eq(fst, CASHBACK_OK); /* all three deferred: none queued */
  ck_assert_int_gt(logger_child, 0);
  ck_assert_int_eq(wait_child(logger_child), 0);
  ck_assert_uint_eq(deferred_now(c), 3); /* the parent's step went on */
  cashback_client_free(c);
  cashback_client *d = client_at(NULL);
  ck_assert_uint_eq(deferred_now(d), 3);
  cashback_client_free(d);
}
END_TEST

TCase *cashback_test_fork(void) {
  TCase *tc = tcase_create("fork");
  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_set_timeout(tc, 60);
  tcase_add_test(tc, child_reports_flushes_and_frees_while_the_parent_sends);
  tcase_add_test(tc, a_child_keeps_no_lock_or_segment_of_the_parent);
  tcase_add_test(tc, a_child_drains_when_no_sender_holds_the_spool);
  tcase_add_test(tc, a_child_of_a_child_of_a_busy_parent);
  tcase_add_test(tc, a_child_sender_does_not_write_its_fork_time_deferred_list);
  tcase_add_test(tc, a_fork_from_a_log_callback_inside_a_step);
  return tc;
}
