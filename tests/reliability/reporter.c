/*
 * The reliability tests' shop: reports sales into a spool, or drains it, with
 * the public API only (tests/reliability/reliability.py drives it).
 *
 * Report mode:
 *   reporter --spool DIR --endpoint URL --prefix P --count N [--start K]
 *            [--threads T] [--durability sync|process] [--max-bytes B]
 *            [--log FILE] [--fail-log FILE] [--max-fail K] [--sender]
 * reports the sales P<K> .. P<K+N-1> (or, with --orders A,B,..., those
 * orders instead of --prefix and --count); --type refund|cancel|confirm
 * reports that follow-up of each order instead (a refund of 100 + i % 50
 * cents with refund id R-<order>). The oracle: after cashback_report()
 * returned CASHBACK_OK, "<order id> <event id>\n" is appended to --log with
 * one write() and an fdatasync(), outside the SDK. A failed report appends
 * "<order id> <event id> <status>\n" to --fail-log. --sender runs the SDK's
 * sender thread at the same time. Exit 0 when every report succeeded, 3 when
 * some failed.
 *
 * Send mode:
 *   reporter --send --spool DIR --endpoint URL --seconds S [--go FILE]
 *            [--linger] [--thread]
 * waits for FILE to exist (with --go), then calls cashback_flush() until the
 * spool is empty and nothing is deferred (exit 0), S seconds pass (exit 2)
 * or the network refuses the
 * key (exit 4). --linger keeps draining until S seconds pass or SIGTERM;
 * --thread runs cashback_sender_start() for S seconds instead. Prints the
 * status (cashback_get_status()) as "key=value" lines at the end.
 *
 * Command mode:
 *   reporter --commands --spool DIR --endpoint URL [--log FILE]
 * reads lines "sale|refund|cancel|confirm ORDER [AMOUNT [REFUND_ID]]" (amount
 * in EUR cents) from stdin, reports each, and only then answers on stdout
 * "ORDER TYPE EVENT_ID STATUS" (flushed): a driver that waits for the answer
 * knows the report returned. Successes go to --log as "ORDER EVENT_ID TYPE".
 * Exit 0 at the end of stdin.
 *
 * Status and quarantine modes: --status prints the status; --quarantine
 * prints the id of each quarantined event.
 *
 * Common: --merchant ID, --key KID:SECRET, --batch N, --backoff BASE,CAP
 * (ms), --timeouts CONNECT,TOTAL (ms), --followup-wait MS, --verbose (SDK
 * log to stderr).
 */
#include <cashback.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

typedef struct config {
  const char *spool, *endpoint, *merchant, *key, *prefix, *log, *fail_log;
  const char *go, *durability, *type;
  char **orders; /* --orders, split; NULL for --prefix */
  long count, start, threads, max_fail, batch, seconds;
  long backoff_base, backoff_cap, connect_ms, total_ms, followup_wait;
  unsigned long long max_bytes;
  int send, linger, thread, status, quarantine, sender, verbose, commands;
} config;

typedef struct shared {
  const config *cfg;
  cashback_client *c;
  int log_fd, fail_fd;
  pthread_mutex_t mu;
  long failures; /* under mu */
  int io_error;  /* the oracle log could not be written */
} shared;

typedef struct worker {
  shared *sh;
  long first; /* this thread reports first, first + T, ... */
} worker;

static volatile sig_atomic_t terminated;

static void on_term(int sig) {
  (void)sig;
  terminated = 1;
}

static void usage(void) {
  fputs("usage: reporter --spool DIR --endpoint URL (--prefix P --count N | "
        "--send --seconds S | --status | --quarantine) [options]; see the "
        "comment at the top of tests/reliability/reporter.c\n",
        stderr);
  exit(2);
}

static long num(const char *s) {
  char *end;
  errno = 0;
  long v = strtol(s, &end, 10);
  if (errno || end == s || *end)
    usage();
  return v;
}

static void pair(const char *s, long *a, long *b) {
  char *end;
  *a = strtol(s, &end, 10);
  if (*end != ',')
    usage();
  *b = num(end + 1);
}

/* --orders A,B,C: the order ids to report, in that order. */
static void split_orders(config *cfg, const char *list) {
  size_t n = 1;
  for (const char *p = list; *p; p++)
    n += *p == ',';
  char *copy = strdup(list);
  cfg->orders = calloc(n + 1, sizeof(char *));
  if (!copy || !cfg->orders)
    exit(1);
  size_t k = 0;
  for (char *save = NULL, *t = strtok_r(copy, ",", &save); t;
       t = strtok_r(NULL, ",", &save))
    cfg->orders[k++] = t;
  cfg->count = (long)k;
}

static void parse(int argc, char **argv, config *cfg) {
  memset(cfg, 0, sizeof(*cfg));
  cfg->merchant = "shop-rel";
  cfg->key = "k1:reliability-secret-0123456789";
  cfg->durability = "sync";
  cfg->type = "sale";
  cfg->threads = 1;
  cfg->batch = 100;
  cfg->backoff_base = 50;
  cfg->backoff_cap = 400;
  cfg->connect_ms = 2000;
  cfg->total_ms = 5000;
  cfg->seconds = 30;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    const char *v = i + 1 < argc ? argv[i + 1] : NULL;
#define OPT(name) (strcmp(a, name) == 0 && v && ++i)
#define FLAG(name) (strcmp(a, name) == 0)
    if (OPT("--spool"))
      cfg->spool = v;
    else if (OPT("--endpoint"))
      cfg->endpoint = v;
    else if (OPT("--merchant"))
      cfg->merchant = v;
    else if (OPT("--key"))
      cfg->key = v;
    else if (OPT("--prefix"))
      cfg->prefix = v;
    else if (OPT("--orders"))
      split_orders(cfg, v);
    else if (OPT("--count"))
      cfg->count = num(v);
    else if (OPT("--start"))
      cfg->start = num(v);
    else if (OPT("--threads"))
      cfg->threads = num(v);
    else if (OPT("--durability"))
      cfg->durability = v;
    else if (OPT("--type"))
      cfg->type = v;
    else if (OPT("--followup-wait"))
      cfg->followup_wait = num(v);
    else if (OPT("--max-bytes"))
      cfg->max_bytes = (unsigned long long)num(v);
    else if (OPT("--log"))
      cfg->log = v;
    else if (OPT("--fail-log"))
      cfg->fail_log = v;
    else if (OPT("--max-fail"))
      cfg->max_fail = num(v);
    else if (OPT("--seconds"))
      cfg->seconds = num(v);
    else if (OPT("--go"))
      cfg->go = v;
    else if (OPT("--batch"))
      cfg->batch = num(v);
    else if (OPT("--backoff"))
      pair(v, &cfg->backoff_base, &cfg->backoff_cap);
    else if (OPT("--timeouts"))
      pair(v, &cfg->connect_ms, &cfg->total_ms);
    else if (FLAG("--send"))
      cfg->send = 1;
    else if (FLAG("--linger"))
      cfg->linger = 1;
    else if (FLAG("--thread"))
      cfg->thread = 1;
    else if (FLAG("--status"))
      cfg->status = 1;
    else if (FLAG("--quarantine"))
      cfg->quarantine = 1;
    else if (FLAG("--sender"))
      cfg->sender = 1;
    else if (FLAG("--verbose"))
      cfg->verbose = 1;
    else if (FLAG("--commands"))
      cfg->commands = 1;
    else
      usage();
#undef OPT
#undef FLAG
  }
  int modes = cfg->send + cfg->status + cfg->quarantine + cfg->commands +
              (cfg->prefix != NULL || cfg->orders != NULL);
  if (!cfg->spool || !cfg->endpoint || modes != 1 || cfg->threads < 1 ||
      cfg->threads > 64 || cfg->count < 0 || cfg->seconds < 0)
    usage();
}

static void log_stderr(cashback_log_level level, const char *message,
                       void *ud) {
  (void)ud;
  static const char *const names[] = {"debug", "info", "warn", "error"};
  fprintf(stderr, "reporter[%ld] %s: %s\n", (long)getpid(),
          names[level >= 0 && level <= 3 ? level : 3], message);
}

static int fail(cashback_client *c, const char *what, cashback_status st) {
  char detail[CASHBACK_ERROR_MAX + 1] = "";
  if (c)
    cashback_client_last_error(c, detail, sizeof(detail));
  fprintf(stderr, "reporter: %s: %s (%s)\n", what, cashback_strerror(st),
          detail);
  return 1;
}

static cashback_client *make_client(const config *cfg) {
  char kid[CASHBACK_ID_MAX + 1];
  const char *colon = strchr(cfg->key, ':');
  size_t kn = colon ? (size_t)(colon - cfg->key) : 0;
  if (!colon || kn == 0 || kn >= sizeof(kid))
    usage();
  memcpy(kid, cfg->key, kn);
  kid[kn] = '\0';
  cashback_options *o = cashback_options_new();
  if (!o)
    return NULL;
  cashback_durability d = strcmp(cfg->durability, "process") == 0
                              ? CASHBACK_DURABLE_PROCESS
                              : CASHBACK_DURABLE_SYNC;
  cashback_status st = cashback_options_set_merchant_id(o, cfg->merchant);
  if (!st)
    st = cashback_options_set_key(o, kid, colon + 1);
  if (!st)
    st = cashback_options_set_endpoint(o, cfg->endpoint);
  if (!st)
    st = cashback_options_set_spool_dir(o, cfg->spool);
  if (!st)
    st = cashback_options_set_durability(o, d);
  if (!st && cfg->max_bytes)
    st = cashback_options_set_spool_max_bytes(o, cfg->max_bytes);
  if (!st)
    st = cashback_options_set_batch(o, (size_t)cfg->batch, 1u << 20);
  if (!st)
    st = cashback_options_set_backoff(o, cfg->backoff_base, cfg->backoff_cap);
  if (!st)
    st = cashback_options_set_timeouts(o, cfg->connect_ms, cfg->total_ms);
  if (!st && cfg->followup_wait)
    st = cashback_options_set_followup_wait(o, cfg->followup_wait);
  if (!st && cfg->verbose)
    st = cashback_options_set_logger(o, log_stderr, NULL, CASHBACK_LOG_INFO);
  if (st) {
    fprintf(stderr, "reporter: options: %s (%s)\n", cashback_strerror(st),
            cashback_options_last_error(o));
    cashback_options_free(o);
    return NULL;
  }
  cashback_client *c = NULL;
  char detail[CASHBACK_ERROR_MAX + 1] = "";
  st = cashback_client_new(o, &c, detail, sizeof(detail));
  if (st) {
    fprintf(stderr, "reporter: client: %s (%s)\n", cashback_strerror(st),
            detail);
    return NULL;
  }
  return c;
}

/* Appends one line with a single write(); with `sync`, fdatasync()s it. */
static int append_line(int fd, const char *line, int sync) {
  size_t len = strlen(line);
  ssize_t n;
  do
    n = write(fd, line, len);
  while (n < 0 && errno == EINTR);
  if (n != (ssize_t)len)
    return -1;
  return sync && fdatasync(fd) != 0 ? -1 : 0;
}

static void *report_thread(void *arg) {
  worker *w = arg;
  shared *sh = w->sh;
  const config *cfg = sh->cfg;
  for (long i = w->first; i < cfg->count; i += cfg->threads) {
    char order[CASHBACK_ID_MAX + 1], id[CASHBACK_EVENT_ID_LEN + 1] = "";
    char line[200];
    if (cfg->orders)
      snprintf(order, sizeof(order), "%s", cfg->orders[i]);
    else
      snprintf(order, sizeof(order), "%s%ld", cfg->prefix, cfg->start + i);
    cashback_event_type type =
        strcmp(cfg->type, "refund") == 0    ? CASHBACK_EVENT_REFUND
        : strcmp(cfg->type, "cancel") == 0  ? CASHBACK_EVENT_CANCEL
        : strcmp(cfg->type, "confirm") == 0 ? CASHBACK_EVENT_CONFIRM
                                            : CASHBACK_EVENT_SALE;
    cashback_event *ev = cashback_event_new(type, order);
    char refund_id[CASHBACK_ID_MAX + 8];
    snprintf(refund_id, sizeof(refund_id), "R-%s", order);
    int built = ev != NULL;
    if (built && type == CASHBACK_EVENT_SALE)
      built = cashback_event_set_click(ev, "rel-click") == CASHBACK_OK &&
              cashback_event_set_amount(ev, 1000 + (i % 9000), "EUR") ==
                  CASHBACK_OK;
    if (built && type == CASHBACK_EVENT_REFUND)
      built =
          cashback_event_set_amount(ev, 100 + (i % 50), "EUR") == CASHBACK_OK &&
          cashback_event_set_refund_id(ev, refund_id) == CASHBACK_OK;
    if (!built) {
      fprintf(stderr, "reporter: cannot build the event of %s\n", order);
      cashback_event_free(ev);
      sh->io_error = 1;
      break;
    }
    cashback_status st = cashback_report(sh->c, ev, id);
    cashback_event_free(ev);
    if (st == CASHBACK_OK) {
      /* The oracle: only now has the shop been told the sale is safe. */
      snprintf(line, sizeof(line), "%s %s\n", order, id);
      if (sh->log_fd >= 0 && append_line(sh->log_fd, line, 1) != 0) {
        perror("reporter: oracle log");
        sh->io_error = 1;
        break;
      }
      continue;
    }
    char detail[CASHBACK_ERROR_MAX + 1] = "";
    cashback_client_last_error(sh->c, detail, sizeof(detail));
    snprintf(line, sizeof(line), "%s %s %d\n", order, id[0] ? id : "-",
             (int)st);
    pthread_mutex_lock(&sh->mu);
    long nf = ++sh->failures;
    if (nf <= 3)
      fprintf(stderr, "reporter: report %s: %s (%s)\n", order,
              cashback_strerror(st), detail);
    if (sh->fail_fd >= 0 && append_line(sh->fail_fd, line, 0) != 0)
      sh->io_error = 1;
    pthread_mutex_unlock(&sh->mu);
    if (cfg->max_fail > 0 && nf >= cfg->max_fail)
      break;
  }
  return NULL;
}

static int open_log(const char *path) {
  if (!path)
    return -1;
  int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (fd < 0) {
    perror(path);
    exit(1);
  }
  return fd;
}

static int do_report(const config *cfg, cashback_client *c) {
  shared sh = {.cfg = cfg, .c = c};
  sh.log_fd = open_log(cfg->log);
  sh.fail_fd = open_log(cfg->fail_log);
  pthread_mutex_init(&sh.mu, NULL);
  if (cfg->sender && cashback_sender_start(c) != CASHBACK_OK)
    return fail(c, "sender_start", CASHBACK_E_INTERNAL);
  pthread_t tids[64];
  worker ws[64];
  long started = 0;
  for (long t = 0; t < cfg->threads; t++) {
    ws[t].sh = &sh;
    ws[t].first = t;
    if (pthread_create(&tids[t], NULL, report_thread, &ws[t]) != 0)
      break;
    started++;
  }
  for (long t = 0; t < started; t++)
    pthread_join(tids[t], NULL);
  if (cfg->sender)
    cashback_sender_stop(c, 0);
  if (sh.log_fd >= 0)
    close(sh.log_fd);
  if (sh.fail_fd >= 0)
    close(sh.fail_fd);
  pthread_mutex_destroy(&sh.mu);
  if (started != cfg->threads || sh.io_error)
    return 1;
  return sh.failures ? 3 : 0;
}

static void print_status(cashback_client *c) {
  cashback_queue_status s = {.size = sizeof(s)};
  cashback_status st = cashback_get_status(c, &s);
  if (st != CASHBACK_OK) {
    fail(c, "get_status", st);
    return;
  }
  printf("queued=%" PRIu64 "\nqueued_bytes=%" PRIu64 "\nquarantined=%" PRIu64
         "\ncorrupt_skipped=%" PRIu64 "\npaused=%d\nlast_status=%d\n"
         "last_success=%" PRId64 "\nnext_attempt=%" PRId64 "\n"
         "read_errors=%" PRIu64 "\nunreadable_files=%" PRIu64 "\n",
         s.queued_events, s.queued_bytes, s.quarantined, s.corrupt_skipped,
         s.paused, (int)s.last_status, s.last_success, s.next_attempt,
         s.read_errors, s.unreadable_files);
  printf("path_fault=%ld\ndeferred=%" PRIu64 "\n", s.path_fault, s.deferred);
  fflush(stdout);
}

static void sleep_ms(long ms) {
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
  while (nanosleep(&ts, &ts) != 0 && errno == EINTR && !terminated)
    ;
}

static int64_t mono_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int do_send(const config *cfg, cashback_client *c) {
  int64_t deadline = mono_ms() + (int64_t)cfg->seconds * 1000;
  if (cfg->go) {
    while (access(cfg->go, F_OK) != 0) {
      if (mono_ms() >= deadline || terminated)
        return 2;
      sleep_ms(5);
    }
  }
  int rc = 2;
  if (cfg->thread) {
    cashback_status st = cashback_sender_start(c);
    if (st != CASHBACK_OK)
      return fail(c, "sender_start", st);
    while (!terminated && mono_ms() < deadline) {
      cashback_queue_status s = {.size = sizeof(s)};
      if (!cfg->linger && cashback_get_status(c, &s) == CASHBACK_OK &&
          s.queued_events == 0) {
        rc = 0;
        break;
      }
      sleep_ms(20);
    }
    cashback_sender_stop(c, 1000);
  } else {
    while (!terminated) {
      int64_t left = deadline - mono_ms();
      if (left <= 0)
        break;
      /* In slices (SIGTERM is looked at between them), each longer than
       * a request: a flush's deadline bounds its request in flight, and a
       * hung request is to end by the request timeout here. */
      int64_t slice = (int64_t)cfg->total_ms + 1000;
      cashback_status st = cashback_flush(c, left < slice ? left : slice);
      cashback_queue_status q = {.size = sizeof(q)};
      if (st == CASHBACK_OK && cashback_get_status(c, &q) == CASHBACK_OK &&
          q.deferred) {
        rc = 2; /* deferred events are due later: keep going */
        sleep_ms(20);
      } else if (st == CASHBACK_OK) {
        rc = 0;
        if (!cfg->linger)
          break;
        sleep_ms(20);
      } else if (st == CASHBACK_E_AUTH) {
        rc = 4;
        break;
      } else {
        /* Busy, backing off, or the network failing: try again soon; flush
         * itself keeps to the backoff. */
        rc = 2;
        sleep_ms(20);
      }
    }
  }
  print_status(c);
  return rc;
}

/* One command line: reports it and answers. 0, or 1 on a local error. */
static int run_command(cashback_client *c, int log_fd, char *line) {
  char *save = NULL;
  const char *type = strtok_r(line, " \n", &save);
  const char *order = strtok_r(NULL, " \n", &save);
  const char *amount = strtok_r(NULL, " \n", &save);
  const char *refund = strtok_r(NULL, " \n", &save);
  if (!type || !order)
    return 1;
  cashback_event_type t = strcmp(type, "sale") == 0     ? CASHBACK_EVENT_SALE
                          : strcmp(type, "refund") == 0 ? CASHBACK_EVENT_REFUND
                          : strcmp(type, "cancel") == 0 ? CASHBACK_EVENT_CANCEL
                          : strcmp(type, "confirm") == 0
                              ? CASHBACK_EVENT_CONFIRM
                              : (cashback_event_type)0;
  if (!t)
    return 1;
  cashback_event *ev = cashback_event_new(t, order);
  cashback_status st = ev ? CASHBACK_OK : CASHBACK_E_NOMEM;
  if (!st && t == CASHBACK_EVENT_SALE)
    st = cashback_event_set_click(ev, "rel-click");
  if (!st && amount)
    st = cashback_event_set_amount(ev, strtoll(amount, NULL, 10), "EUR");
  if (!st && refund)
    st = cashback_event_set_refund_id(ev, refund);
  char id[CASHBACK_EVENT_ID_LEN + 1] = "";
  if (!st)
    st = cashback_report(c, ev, id);
  cashback_event_free(ev);
  char out[256];
  if (st == CASHBACK_OK && log_fd >= 0) {
    snprintf(out, sizeof(out), "%s %s %s\n", order, id, type);
    if (append_line(log_fd, out, 1) != 0)
      return 1;
  }
  printf("%s %s %s %d\n", order, type, id[0] ? id : "-", (int)st);
  fflush(stdout);
  return 0;
}

static int do_commands(const config *cfg, cashback_client *c) {
  int log_fd = open_log(cfg->log);
  char line[512];
  int rc = 0;
  while (!rc && fgets(line, sizeof(line), stdin))
    rc = run_command(c, log_fd, line);
  if (log_fd >= 0)
    close(log_fd);
  return rc;
}

static int print_quarantined(const cashback_quarantined *q, void *ud) {
  (void)ud;
  printf("%s %s\n", q->id, q->reason);
  return 0;
}

int main(int argc, char **argv) {
  config cfg;
  parse(argc, argv, &cfg);
  struct sigaction sa;
  memset(&sa, 0, sizeof(sa));
  sa.sa_handler = on_term;
  sigaction(SIGTERM, &sa, NULL);
  cashback_client *c = make_client(&cfg);
  if (!c)
    return 1;
  int rc;
  if (cfg.prefix || cfg.orders) {
    rc = do_report(&cfg, c);
  } else if (cfg.commands) {
    rc = do_commands(&cfg, c);
  } else if (cfg.send) {
    rc = do_send(&cfg, c);
  } else if (cfg.status) {
    print_status(c);
    rc = 0;
  } else {
    cashback_status st = cashback_quarantine_list(c, print_quarantined, NULL);
    rc = st == CASHBACK_OK ? 0 : fail(c, "quarantine_list", st);
  }
  fflush(stdout);
  cashback_client_free(c);
  return rc;
}
