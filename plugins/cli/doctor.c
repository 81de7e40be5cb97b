/* cashback doctor: checks the setup end to end and says what to fix (the
 * SDK's cashback_spool_check() and cashback_probe() do the examining). */
#include "cli.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

static const char usage[] =
    "usage: cashback doctor [--offline]\n"
    "\n"
    "Checks the configuration, the spool directory (permissions, owner, free\n"
    "space), the queue (paused, quarantine, stale events), and, unless\n"
    "--offline, the network: reachability, TLS, the clock against the\n"
    "network's Date header, and a signed test event that the network records\n"
    "as a test (nothing is paid). Prints what to fix.\n"
    "Exit status: 0 nothing failed (warnings allowed), 1 a check failed,\n"
    "3 the configuration is missing or invalid.\n"
    "\n"
    "  --offline    skip the network checks\n"
    "  --config FILE, --connection-file FILE, --connection STRING|-,\n"
    "  --verbose, --help\n";

#define MIN_FREE (64u * 1024 * 1024)

typedef struct report {
  int fails, warns;
} report;

static void line(report *r, const char *tag, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* One line of the report, made printable: it shows paths, the network's
 * answers and configured values. */
static void vshow(const char *prefix, const char *fmt, va_list ap) {
  char shown[2048];
  cashback_vprintablef(shown, sizeof(shown), fmt, ap);
  printf("%s%s\n", prefix, shown);
}

/* A line tagged "[FAIL]", "[warn]" or "[ ok ]", counted. */
static void vline(report *r, const char *tag, const char *fmt, va_list ap) {
  char prefix[16];
  snprintf(prefix, sizeof(prefix), "[%s] ", tag);
  vshow(prefix, fmt, ap);
  if (strcmp(tag, "FAIL") == 0)
    r->fails++;
  else if (strcmp(tag, "warn") == 0)
    r->warns++;
}

static void line(report *r, const char *tag, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vline(r, tag, fmt, ap);
  va_end(ap);
}

static void fix(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void fix(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vshow("       fix: ", fmt, ap);
  va_end(ap);
}

static void problem(report *r, const char *tag, const char *fix_text,
                    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* A problem (`tag` "FAIL" or "warn"): its line, then what to fix. */
static void problem(report *r, const char *tag, const char *fix_text,
                    const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vline(r, tag, fmt, ap);
  va_end(ap);
  fix("%s", fix_text);
}

/* The endpoint, read back from a request built for it. */
static void endpoint_of(cashback_client *client, char *out, size_t size) {
  out[0] = '\0';
  cashback_event *ev = cashback_event_new(CASHBACK_EVENT_CANCEL, "doctor");
  cashback_request *req = NULL;
  if (ev && cashback_request_new(client, &ev, 1, &req) == CASHBACK_OK)
    snprintf(out, size, "%s", cashback_request_url(req));
  cashback_request_free(req);
  cashback_event_free(ev);
}

static int loopback_http(const char *url) {
  static const char *const prefixes[] = {"http://127.", "http://localhost",
                                         "http://[::1]"};
  for (size_t i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++)
    if (strncasecmp(url, prefixes[i], strlen(prefixes[i])) == 0)
      return 1;
  return 0;
}

/* 1 when it reported files the shop's user cannot use. */
static int check_spool(report *r, cashback_client *client) {
  cashback_spool_info si = {.size = sizeof(si)};
  cashback_status st = cashback_spool_check(client, &si);
  if (st != CASHBACK_OK) {
    char detail[CASHBACK_ERROR_MAX + 1] = "";
    cashback_client_last_error(client, detail, sizeof(detail));
    line(r, "FAIL", "spool: %s (%s)", cashback_strerror(st), detail);
    fix("set spool_dir to a directory this user may create, or create it: "
        "mkdir -p DIR && chown USER DIR && chmod 700 DIR");
    return 0;
  }
  char free_s[32], cap_s[32], queued_s[32];
  cli_bytes(si.free_bytes, free_s, sizeof(free_s));
  cli_bytes(si.max_bytes, cap_s, sizeof(cap_s));
  cli_bytes(si.queued_bytes, queued_s, sizeof(queued_s));
  int bad = 0;
  if (!si.writable) {
    line(r, "FAIL", "spool: %s is not writable by this user (uid %u)", si.dir,
         (unsigned)geteuid());
    fix("run cashback as the user the shop runs as, or: chown USER %s", si.dir);
    bad = 1;
  }
  if (!si.owned) {
    line(r, "warn",
         "spool: %s is owned by another user than this one (uid "
         "%u)",
         si.dir, (unsigned)geteuid());
    fix("run the shop and cashback as one user: chown USER %s", si.dir);
    bad = 1;
  }
  if (si.foreign_files) {
    line(r, "FAIL",
         "spool: %llu file%s in %s that the shop's user cannot use, e.g. %s",
         (unsigned long long)si.foreign_files, si.foreign_files == 1 ? "" : "s",
         si.dir, si.foreign);
    fix("give them to the spool's owner (as root): chown -R --reference=%s "
        "%s; remove symlinks and other special files in it",
        si.dir, si.dir);
    bad = 1;
  }
  if (si.mode & 077) {
    line(r, "warn",
         "spool: %s has mode %04o: other users may read the order data", si.dir,
         (unsigned)si.mode);
    fix("chmod 700 %s", si.dir);
    bad = 1;
  }
  uint64_t room =
      si.max_bytes > si.queued_bytes ? si.max_bytes - si.queued_bytes : 0;
  if (si.free_bytes < MIN_FREE) {
    line(r, "FAIL",
         "spool: only %s free on the disk of %s: reports will fail "
         "with 'no space left'",
         free_s, si.dir);
    fix("free disk space, or move spool_dir to a larger disk");
    bad = 1;
  } else if (si.free_bytes < room) {
    line(r, "warn",
         "spool: %s free on the disk, less than the spool may still grow (cap "
         "%s): a long outage could fill the disk first",
         free_s, cap_s);
    fix("free disk space, or lower spool_max_bytes");
    bad = 1;
  }
  if (!bad)
    line(r, " ok ", "spool: %s (mode %04o, %s free, %s queued, cap %s)", si.dir,
         (unsigned)si.mode, free_s, queued_s, cap_s);
  return si.foreign_files > 0;
}

/* What the segments and the quarantine say. */
static void check_segments(report *r, const cashback_queue_status *q,
                           int foreign) {
  if (q->spool_status != CASHBACK_OK && !foreign)
    problem(r, "FAIL",
            "the reason is given above; a spool is used by one user (the "
            "shop's) or root, and root gives its files to the spool's owner",
            "spool: %s", q->spool_error);
  if (q->unreadable_files)
    problem(r, "FAIL",
            "give the file to the spool directory's owner (chown), or move "
            "away what is not a segment; the other segments are still sent",
            "queue: %llu file%s among the segments cannot be read and %s "
            "skipped: %s",
            (unsigned long long)q->unreadable_files,
            q->unreadable_files == 1 ? "" : "s",
            q->unreadable_files == 1 ? "is" : "are", q->spool_problem);
  if (q->read_errors)
    problem(r, "warn", "check the disk (dmesg, smartctl)",
            "queue: %llu segment read%s failed since the last collection "
            "without one (kept and read again)%s%s",
            (unsigned long long)q->read_errors, q->read_errors == 1 ? "" : "s",
            !q->unreadable_files && q->spool_problem[0] ? ": " : "",
            q->unreadable_files ? "" : q->spool_problem);
  if (!q->unreadable_files && !q->read_errors &&
      strstr(q->spool_problem, "/seq "))
    problem(r, "warn",
            "give the spool's seq file to the spool directory's owner, or "
            "free disk space; the events are still sent",
            "queue: %s", q->spool_problem);
  if (q->quarantined)
    problem(r, "warn",
            "cashback quarantine list; fix the cause, then cashback "
            "quarantine replay --all",
            "queue: %llu event%s in quarantine (the network rejected them)",
            (unsigned long long)q->quarantined, q->quarantined == 1 ? "" : "s");
}

/* What the sender's state says: paused, a path fault, a backlog. */
static void check_sending(report *r, const cashback_queue_status *q,
                          const char *age) {
  const char *last =
      q->last_error[0] ? q->last_error : cashback_strerror(q->last_status);
  if (q->paused)
    problem(r, "FAIL",
            "check key_id and secret against what the network gave, and the "
            "clock; sending resumes by itself once they are right",
            "queue: sending is paused: the network refused the key (%s)", last);
  if (q->path_fault)
    problem(r, "FAIL",
            "check the endpoint URL and any proxy between the shop and the "
            "network; nothing is quarantined for it, and sending resumes by "
            "itself once the path answers",
            "queue: the endpoint answers HTTP %ld to every batch, also to "
            "single events: a fault of the path, not of the events (%s)",
            q->path_fault, last);
  if (q->queued_events && q->oldest_age_s > 3600)
    problem(r, "warn",
            "make sure a sender runs: 'cashback send --watch' as a service, "
            "or 'cashback send' from cron (docs/cli.md)",
            "queue: %llu event%s waiting, the oldest %s old%s%s",
            (unsigned long long)q->queued_events,
            q->queued_events == 1 ? "" : "s", age,
            q->last_error[0] ? "; last error: " : "", q->last_error);
}

static void check_queue(report *r, cashback_client *client, int foreign) {
  cashback_queue_status q = {.size = sizeof(q)};
  cashback_status st = cashback_get_status(client, &q);
  if (st != CASHBACK_OK)
    return; /* check_spool said why */
  char age[32];
  cli_duration(q.oldest_age_s, age, sizeof(age));
  int before = r->fails + r->warns;
  check_segments(r, &q, foreign);
  check_sending(r, &q, age);
  if (r->fails + r->warns == before)
    line(r, " ok ", "queue: %llu event%s waiting%s%s%s",
         (unsigned long long)q.queued_events, q.queued_events == 1 ? "" : "s",
         q.queued_events ? ", oldest " : "", q.queued_events ? age : "",
         q.quarantined ? "" : ", none quarantined");
}

static void check_network(report *r, cashback_client *client, const char *url) {
  cashback_probe_result p = {.size = sizeof(p)};
  cashback_status st = cashback_probe(client, &p);
  /* Transport. */
  if (st == CASHBACK_E_NETWORK || st == CASHBACK_E_CONFIG) {
    if (p.tls_error) {
      line(r, "FAIL", "TLS: %s", p.detail);
      fix("the endpoint's certificate must be valid for its host name and "
          "signed by a CA in the system store (Debian: ca-certificates)");
    } else {
      line(r, "FAIL", "network: no answer from %s: %s", url,
           p.detail[0] ? p.detail : cashback_strerror(st));
      fix("check the endpoint URL, DNS, firewall and proxy; 'curl -v %s' "
          "shows the same path",
          url);
    }
    return;
  }
  if (p.tls)
    line(r, " ok ", "TLS: %s answered over https, certificate verified", url);
  else if (loopback_http(url))
    line(r, " ok ",
         "transport: plain http to a loopback address (a local "
         "sandbox or relay)");
  else {
    line(r, "warn",
         "transport: plain http to %s: order data travels "
         "unencrypted",
         url);
    fix("use the https:// endpoint the network gave");
  }
  /* Clock. */
  if (p.server_time == 0) {
    line(r, "warn",
         "clock: the network's answer has no Date header: skew "
         "unknown");
  } else {
    int64_t skew = p.clock_skew_s < 0 ? -p.clock_skew_s : p.clock_skew_s;
    if (skew > 300) {
      line(r, "FAIL",
           "clock: %lld s %s the network's: signatures are refused "
           "past 300 s",
           (long long)skew, p.clock_skew_s > 0 ? "ahead of" : "behind");
      fix("synchronise the clock (timedatectl set-ntp true, or chrony)");
    } else if (skew > 30) {
      line(r, "warn", "clock: %lld s %s the network's (refused past 300 s)",
           (long long)skew, p.clock_skew_s > 0 ? "ahead of" : "behind");
      fix("synchronise the clock (timedatectl set-ntp true, or chrony)");
    } else {
      line(r, " ok ", "clock: within %lld s of the network's", (long long)skew);
    }
  }
  /* The test event. */
  if (st == CASHBACK_E_AUTH) {
    line(r, "FAIL", "signature: the network refused the key (HTTP %ld: %s)",
         p.http_status, p.detail);
    fix("check merchant_id, key_id and secret against what the network gave "
        "(and the clock, above)");
  } else if (st == CASHBACK_E_HTTP) {
    line(r, "FAIL", "test event: the network answered HTTP %ld: %s",
         p.http_status, p.detail);
    fix("check the endpoint's path; if it is a 5xx, the network is having "
        "trouble: events wait in the spool meanwhile");
  } else if (st != CASHBACK_OK) {
    line(r, "FAIL", "test event: %s (%s)", cashback_strerror(st), p.detail);
    fix("the endpoint does not speak docs/protocol.md: check the URL");
  } else if (strcmp(p.outcome, "rejected") == 0) {
    line(r, "warn", "test event %s: signature accepted, event rejected: %s%s%s",
         p.event_id, p.reason, p.detail[0] ? ": " : "", p.detail);
    fix("ask the network what it expects of test events");
  } else {
    line(r, " ok ",
         "test event %s %s by the network in %lld ms (marked "
         "test: nothing is paid)",
         p.event_id, p.outcome, (long long)p.elapsed_ms);
  }
}

/* The check named "config file": a file holding a secret follows
 * libcashback's rule (cashback_secret_file_open(), docs/security.md). */
static void check_secret_file(report *r, const char *what, const char *path) {
  char err[CASHBACK_ERROR_MAX + 1];
  int fd;
  if (cashback_secret_file_open(path, &fd, err, sizeof(err)) != CASHBACK_OK) {
    line(r, "FAIL", "config file (%s): %s", what, err);
    fix("a file holding the secret belongs to the user cashback runs as (or "
        "root) and is not readable by others: chown USER FILE && chmod 600 "
        "FILE; to share it with the shop's workers: chown root:GROUP FILE "
        "&& chmod 640 FILE (docs/security.md)");
    return;
  }
  struct stat sb;
  int ok = fstat(fd, &sb) == 0;
  close(fd);
  line(r, " ok ",
       "config file (%s): %s (mode %04o, owner uid %u): group and others "
       "cannot change it, others cannot read it",
       what, path, ok ? (unsigned)(sb.st_mode & 07777) : 0u,
       ok ? (unsigned)sb.st_uid : 0u);
}

int cli_doctor(cli *c, int argc, char **argv) {
  int offline = 0;
  const struct option own[] = {{"offline", no_argument, &offline, 1},
                               {NULL, 0, NULL, 0}};
  int rc = cli_parse_options(c, argc, argv,
                             &(cli_options){.usage = usage, .own = own});
  if (rc != CLI_OK)
    return rc;
  report r = {0, 0};
  /* The files the configuration is read from, in cli_client()'s order. */
  const char *env_config = getenv("CASHBACK_CONFIG");
  if (env_config && env_config[0])
    check_secret_file(&r, "CASHBACK_CONFIG", env_config);
  if (c->config)
    check_secret_file(&r, "--config", c->config);
  if (c->connection_file && strcmp(c->connection_file, "-") != 0)
    check_secret_file(&r, "--connection-file", c->connection_file);
  cashback_client *client;
  rc = cli_client(c, &client);
  if (rc != CLI_OK) {
    line(&r, "FAIL", "configuration: see the message above");
    fix("the network hands over one connection string: put it in "
        "CASHBACK_CONNECTION, or a 0600 file named by CASHBACK_CONFIG "
        "(docs/onboarding.md)");
    return rc;
  }
  char url[2100];
  endpoint_of(client, url, sizeof(url));
  line(&r, " ok ", "configuration: merchant %s, endpoint %s",
       cashback_client_merchant_id(client), url);
  int foreign = check_spool(&r, client);
  check_queue(&r, client, foreign);
  if (!offline)
    check_network(&r, client, url);
  printf("%d problem%s, %d warning%s\n", r.fails, r.fails == 1 ? "" : "s",
         r.warns, r.warns == 1 ? "" : "s");
  cashback_client_free(client);
  return r.fails ? CLI_FAIL : CLI_OK;
}
