/* cashback send: deliver the spool once, or run as the sender daemon. */
#include "cli.h"

#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <time.h>

static const char usage[] =
    "usage: cashback send [--timeout SECONDS] [--progress|--no-progress]\n"
    "       cashback send --watch [--stop-timeout SECONDS]\n"
    "\n"
    "Without --watch: sends what is in the spool now and exits, 0 when the\n"
    "spool is empty (everything delivered or quarantined), 5 when events\n"
    "remain (network down, key refused, another sender busy, timeout).\n"
    "With --watch: runs the sender until SIGTERM or SIGINT, then makes a\n"
    "final flush of at most --stop-timeout seconds (default 10) and exits 0.\n"
    "\n"
    "  --timeout SECONDS       how long to try, the request in flight\n"
    "                          included; default 60 (1-86400)\n"
    "  --progress, --no-progress   a progress bar on a terminal (default:\n"
    "                          when 1000 or more events are queued)\n"
    "  --quiet                 no summary line\n"
    "  --config FILE, --connection-file FILE, --connection STRING|-,\n"
    "  --verbose, --help\n";

#define PROGRESS_THRESHOLD 1000

typedef struct flush_job {
  cashback_client *client;
  int64_t timeout_ms;
  cashback_status st;
  volatile int done;
  pthread_mutex_t mu;
} flush_job;

static void *flush_thread(void *p) {
  flush_job *j = p;
  cashback_status st = cashback_flush(j->client, j->timeout_ms);
  pthread_mutex_lock(&j->mu);
  j->st = st;
  j->done = 1;
  pthread_mutex_unlock(&j->mu);
  return NULL;
}

static int job_done(flush_job *j) {
  pthread_mutex_lock(&j->mu);
  int d = j->done;
  pthread_mutex_unlock(&j->mu);
  return d;
}

/* Flushes in a thread while this one draws the bar from the spool's
 * status. */
static cashback_status flush_with_progress(cashback_client *client,
                                           int64_t timeout_ms,
                                           uint64_t backlog) {
  flush_job j = {client, timeout_ms, CASHBACK_OK, 0, PTHREAD_MUTEX_INITIALIZER};
  pthread_t t;
  if (pthread_create(&t, NULL, flush_thread, &j) != 0)
    return cashback_flush(client, timeout_ms);
  cli_progress bar;
  cli_progress_start(&bar, "sending", 1);
  while (!job_done(&j)) {
    cashback_queue_status qs = {.size = sizeof(qs)};
    if (cashback_get_status(client, &qs) == CASHBACK_OK)
      cli_progress_draw(
          &bar, qs.queued_events < backlog ? backlog - qs.queued_events : 0,
          backlog, "events");
    struct timespec ts = {0, 200 * 1000000L};
    nanosleep(&ts, NULL);
  }
  pthread_join(t, NULL);
  cashback_queue_status qs = {.size = sizeof(qs)};
  if (cashback_get_status(client, &qs) == CASHBACK_OK)
    cli_progress_draw(
        &bar, qs.queued_events < backlog ? backlog - qs.queued_events : 0,
        backlog, "events");
  cli_progress_end(&bar);
  pthread_mutex_destroy(&j.mu);
  return j.st;
}

static int once(cli *c, cashback_client *client, int64_t timeout_s,
                int progress, int quiet) {
  cashback_queue_status before = {.size = sizeof(before)};
  cashback_status st = cashback_get_status(client, &before);
  if (st != CASHBACK_OK)
    return cli_sdk_error(c, client, "cannot read the spool", st);
  if (progress < 0)
    progress = before.queued_events >= PROGRESS_THRESHOLD;
  st = progress
           ? flush_with_progress(client, timeout_s * 1000, before.queued_events)
           : cashback_flush(client, timeout_s * 1000);
  cashback_queue_status after = {.size = sizeof(after)};
  cashback_status gst = cashback_get_status(client, &after);
  if (gst != CASHBACK_OK && st == CASHBACK_OK)
    return cli_sdk_error(c, client, "cannot read the spool after sending", gst);
  if (!quiet && gst == CASHBACK_OK) {
    uint64_t gone = before.queued_events > after.queued_events
                        ? before.queued_events - after.queued_events
                        : 0;
    uint64_t newly_quarantined = after.quarantined > before.quarantined
                                     ? after.quarantined - before.quarantined
                                     : 0;
    uint64_t newly_deferred =
        after.deferred > before.deferred ? after.deferred - before.deferred : 0;
    uint64_t settled = newly_quarantined + newly_deferred;
    uint64_t delivered = gone > settled ? gone - settled : 0;
    printf("delivered %llu event%s, quarantined %llu; %llu queued, %llu in "
           "quarantine",
           (unsigned long long)delivered, delivered == 1 ? "" : "s",
           (unsigned long long)newly_quarantined,
           (unsigned long long)after.queued_events,
           (unsigned long long)after.quarantined);
    if (after.deferred)
      printf(", %llu deferred (the network asked for them later)",
             (unsigned long long)after.deferred);
    printf("\n");
  }
  if (st == CASHBACK_OK)
    return CLI_OK;
  if (st == CASHBACK_E_BUSY)
    return cli_error(c, CLI_NETWORK,
                     "another sender is draining this spool (a 'cashback send "
                     "--watch' daemon, or a shop process); it will deliver "
                     "the events");
  if (st == CASHBACK_E_AUTH)
    return cli_error(c, CLI_NETWORK,
                     "the network refused the key: sending is paused (%s). "
                     "Check key_id and secret, and the clock; 'cashback "
                     "doctor' helps",
                     after.last_error[0] ? after.last_error : "no detail");
  if (st == CASHBACK_E_TIMEOUT || st == CASHBACK_E_NETWORK ||
      st == CASHBACK_E_HTTP || st == CASHBACK_E_PROTOCOL) {
    char when[64] = "";
    if (after.next_attempt)
      cli_iso_time(after.next_attempt, when, sizeof(when));
    return cli_error(c, CLI_NETWORK,
                     "%llu event%s not delivered yet: %s%s%s%s%s%s",
                     (unsigned long long)after.queued_events,
                     after.queued_events == 1 ? "" : "s", cashback_strerror(st),
                     after.last_error[0] ? " (" : "", after.last_error,
                     after.last_error[0] ? ")" : "",
                     when[0] ? "; next retry due at " : "", when);
  }
  return cli_sdk_error(c, client, "send", st);
}

static int watch(cli *c, cashback_client *client, int64_t stop_timeout_s) {
  /* Signals are taken by sigwait() in this thread only: block them before
   * the sender thread starts, so that it inherits the mask. */
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &set, NULL);
  cashback_status st = cashback_sender_start(client);
  if (st != CASHBACK_OK)
    return cli_sdk_error(c, client, "cannot start the sender", st);
  fprintf(stderr, "cashback send: sending for %s until SIGTERM or SIGINT\n",
          cashback_client_merchant_id(client));
  int sig = 0;
  for (;;) {
    if (sigwait(&set, &sig) != 0)
      continue;
    if (sig != SIGHUP)
      break; /* SIGHUP: nothing to reload; keep running */
  }
  fprintf(stderr,
          "cashback send: %s, stopping (final flush of at most %lld s)\n",
          strsignal(sig), (long long)stop_timeout_s);
  st = cashback_sender_stop(client, stop_timeout_s * 1000);
  cashback_queue_status qs = {.size = sizeof(qs)};
  if (cashback_get_status(client, &qs) == CASHBACK_OK && qs.queued_events)
    fprintf(stderr,
            "cashback send: %llu event%s left in the spool, for the next "
            "run\n",
            (unsigned long long)qs.queued_events,
            qs.queued_events == 1 ? "" : "s");
  if (st != CASHBACK_OK && st != CASHBACK_E_TIMEOUT)
    return cli_sdk_error(c, client, "stopping the sender", st);
  return CLI_OK;
}

/* --timeout ('T') into seconds[0], --stop-timeout ('S') into seconds[1]. */
static int take(cli *c, int opt, const char *arg, void *ud) {
  int64_t *seconds = ud;
  if (opt == 'T' && cli_parse_int(arg, 1, 86400, &seconds[0]) != 0)
    return cli_error(c, CLI_USAGE, "--timeout: '%s' must be 1 to 86400 seconds",
                     arg);
  if (opt == 'S' && cli_parse_int(arg, 0, 3600, &seconds[1]) != 0)
    return cli_error(c, CLI_USAGE,
                     "--stop-timeout: '%s' must be 0 to 3600 seconds", arg);
  return opt == 'T' || opt == 'S' ? CLI_OK : CLI_USAGE;
}

int cli_send(cli *c, int argc, char **argv) {
  int watch_mode = 0, progress = -1, quiet = 0;
  int64_t seconds[2] = {60, 10}; /* --timeout, --stop-timeout */
  const struct option own[] = {{"watch", no_argument, &watch_mode, 1},
                               {"timeout", required_argument, NULL, 'T'},
                               {"stop-timeout", required_argument, NULL, 'S'},
                               {"progress", no_argument, &progress, 1},
                               {"no-progress", no_argument, &progress, 0},
                               {"quiet", no_argument, &quiet, 1},
                               {NULL, 0, NULL, 0}};
  int rc = cli_parse_options(
      c, argc, argv,
      &(cli_options){.usage = usage, .own = own, .take = take, .ud = seconds});
  if (rc != CLI_OK)
    return rc;
  int64_t timeout_s = seconds[0], stop_s = seconds[1];
  c->daemon = watch_mode;
  cashback_client *client;
  rc = cli_client(c, &client);
  if (rc != CLI_OK)
    return rc;
  rc = watch_mode ? watch(c, client, stop_s)
                  : once(c, client, timeout_s, progress, quiet);
  cashback_client_free(client);
  return rc;
}
