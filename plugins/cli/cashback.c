/*
 * cashback: the command line over libcashback. Dispatches to one function
 * per subcommand, and holds what they share: configuration, messages, exit
 * codes, output helpers, the progress bar.
 */
#include "cli.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const char usage_text[] =
    "usage: cashback [--config FILE] [--connection-file FILE|-]\n"
    "                [--connection STRING|-] COMMAND [ARGS]\n"
    "\n"
    "Commands:\n"
    "  report sale|refund|cancel|confirm --order ID ...  store an event\n"
    "  send [--watch] [--timeout S]     deliver the spool (once, or as a "
    "daemon)\n"
    "  status [--json]                  what is queued, quarantined, failing\n"
    "  quarantine list|show ID|replay [ID|--all]   rejected events\n"
    "  import FILE.csv                  report a shop's CSV export\n"
    "  verify --key KID:SECRET --signature H --body FILE   check a "
    "signature\n"
    "  doctor                           check the setup, and what to fix\n"
    "\n"
    "The configuration comes from CASHBACK_CONFIG, CASHBACK_CONNECTION and\n"
    "CASHBACK_<KEY>, then --config FILE, then --connection-file FILE, then\n"
    "--connection STRING (later wins). A command line is visible to every\n"
    "user of the machine (ps): give the connection string in\n"
    "CASHBACK_CONNECTION, in a 0600 --connection-file, or as\n"
    "'--connection -' (one line of standard input), not as STRING.\n"
    "'cashback COMMAND --help' and 'man cashback-COMMAND' say more.\n"
    "Exit status: 0 ok, 1 failure, 2 usage, 3 configuration, 4 spool or "
    "disk,\n"
    "5 network (not delivered).\n";

const char *cli_shown(char *buf, size_t size, const char *s) {
  cashback_printable(buf, size, s, s ? strlen(s) : 0);
  return buf;
}

int cli_error(const cli *c, int code, const char *fmt, ...) {
  char shown[2048];
  va_list ap;
  va_start(ap, fmt);
  cashback_vprintablef(shown, sizeof(shown), fmt, ap);
  va_end(ap);
  fprintf(stderr, "cashback%s%s: %s\n", c && c->command ? " " : "",
          c && c->command ? c->command : "", shown);
  return code;
}

/* The options every subcommand takes, and `cashback` itself. */
#define COMMON_OPTIONS                                                         \
  {"config", required_argument, NULL, 'C'},                                    \
      {"connection", required_argument, NULL, 'K'},                            \
      {"connection-file", required_argument, NULL, 'F'},                       \
      {"verbose", no_argument, NULL, 'v'}, {                                   \
    "help", no_argument, NULL, 'h'                                             \
  }

int cli_common_option(cli *c, int opt, const char *usage) {
  switch (opt) {
  case 'C':
    c->config = optarg;
    return 1;
  case 'K':
    c->connection = optarg;
    return 1;
  case 'F':
    c->connection_file = optarg;
    return 1;
  case 'v':
    c->verbose = 1;
    return 1;
  case 'h':
    fputs(usage, stdout);
    exit(CLI_OK);
  case '?':
    fprintf(stderr, "Try 'cashback%s%s --help'.\n", c->command ? " " : "",
            c->command ? c->command : "");
    return -1;
  default:
    return 0;
  }
}

int cli_parse_options(cli *c, int argc, char **argv, const cli_options *o) {
  static const struct option common[] = {COMMON_OPTIONS};
  enum { N_COMMON = sizeof(common) / sizeof(common[0]) };
  struct option all[N_COMMON + CLI_OWN_OPTIONS_MAX + 1];
  size_t n = 0;
  for (; n < N_COMMON; n++)
    all[n] = common[n];
  for (const struct option *p = o->own; p && p->name; p++) {
    if (n == N_COMMON + CLI_OWN_OPTIONS_MAX)
      return cli_error(c, CLI_FAIL, "too many options (CLI_OWN_OPTIONS_MAX)");
    all[n++] = *p;
  }
  all[n] = (struct option){NULL, 0, NULL, 0};
  int opt;
  while ((opt = getopt_long(argc, argv, "vh", all, NULL)) != -1) {
    int common_rc = cli_common_option(c, opt, o->usage);
    if (common_rc < 0)
      return CLI_USAGE;
    if (common_rc || opt == 0) /* 0: getopt_long() set the flag */
      continue;
    int rc = o->take ? o->take(c, opt, optarg, o->ud) : CLI_USAGE;
    if (rc != CLI_OK)
      return rc;
  }
  if (o->operands >= 0 && argc - optind > o->operands)
    return cli_error(c, CLI_USAGE, "unexpected argument '%s'",
                     argv[optind + o->operands]);
  return CLI_OK;
}

static void log_line(cashback_log_level level, const char *message,
                     void *userdata) {
  static const char *const names[] = {"debug", "info", "warning", "error"};
  char shown[CASHBACK_ERROR_MAX * 2];
  (void)userdata;
  fprintf(stderr, "cashback: %s: %s\n",
          level >= CASHBACK_LOG_DEBUG && level <= CASHBACK_LOG_ERROR
              ? names[level]
              : "log",
          cli_shown(shown, sizeof(shown), message));
}

#define CONNECTION_MAX 65536 /* as the SDK's cap on a connection string */

/* A connection string kept off the command line: the file `path` (under
 * libcashback's rule for files holding a secret), or, for "-", standard
 * input; `line` reads up to the first newline only (read byte by byte, so
 * that nothing after it is taken from a command's own input). Returns a
 * malloc'ed string the caller wipes and frees, or NULL with a message. */
static char *read_connection(cli *c, const char *what, const char *path,
                             int line) {
  int fd = STDIN_FILENO;
  if (strcmp(path, "-") != 0) {
    char err[CASHBACK_ERROR_MAX + 1];
    if (cashback_secret_file_open(path, &fd, err, sizeof(err)) != CASHBACK_OK) {
      cli_error(c, CLI_CONFIG, "configuration (%s): %s", what, err);
      return NULL;
    }
  }
  char *buf = malloc(CONNECTION_MAX + 2);
  size_t n = 0;
  int failed = buf == NULL;
  while (buf && n < CONNECTION_MAX + 1) {
    ssize_t r = read(fd, buf + n, line ? 1 : CONNECTION_MAX + 1 - n);
    if (r < 0 && errno == EINTR)
      continue;
    if (r < 0) {
      failed = 1;
      break;
    }
    if (r == 0 || (line && buf[n] == '\n'))
      break;
    n += (size_t)r;
  }
  if (fd != STDIN_FILENO)
    close(fd);
  if (failed || n > CONNECTION_MAX) {
    cli_error(c, CLI_CONFIG, "configuration (%s): %s", what,
              failed ? "cannot read it" : "larger than 65536 bytes");
    if (buf)
      memset(buf, 0, CONNECTION_MAX + 2);
    free(buf);
    return NULL;
  }
  buf[n] = '\0';
  return buf;
}

/* Loads the connection string of `what` (--connection-file, or
 * --connection -) into `o`. */
static cashback_status load_connection_from(cli *c, cashback_options *o,
                                            const char *what, const char *path,
                                            int line, int *printed) {
  char *text = read_connection(c, what, path, line);
  if (!text) {
    *printed = 1;
    return CASHBACK_E_CONFIG;
  }
  if (text[strspn(text, " \t\r\n")] == '\0') {
    cli_error(c, CLI_CONFIG,
              "configuration (%s): %s is empty (it holds one "
              "connection string, 'cashback:...')",
              what, strcmp(path, "-") == 0 ? "standard input" : "the file");
    free(text);
    *printed = 1;
    return CASHBACK_E_CONFIG;
  }
  cashback_status st = cashback_options_load_connection_string(o, text);
  memset(text, 0, strlen(text));
  free(text);
  return st;
}

int cli_client(cli *c, cashback_client **out) {
  *out = NULL;
  cashback_options *o = cashback_options_new();
  if (!o)
    return cli_error(c, CLI_FAIL, "out of memory");
  /* A daemon logs warnings by default; the configuration's log_level may
   * change that. --verbose shows more, whatever the configuration says. */
  cashback_status st = CASHBACK_OK;
  const char *from = "daemon logger";
  if (c->daemon)
    st = cashback_options_set_logger(o, log_line, NULL, CASHBACK_LOG_WARN);
  if (st == CASHBACK_OK) {
    from = "environment";
    st = cashback_options_load_env(o);
  }
  if (st == CASHBACK_OK && c->config) {
    from = "--config";
    st = cashback_options_load_file(o, c->config);
  }
  int printed = 0;
  if (st == CASHBACK_OK && c->connection_file) {
    from = "--connection-file";
    st = load_connection_from(c, o, from, c->connection_file, 0, &printed);
  }
  if (st == CASHBACK_OK && c->connection) {
    from = "--connection";
    if (strcmp(c->connection, "-") == 0)
      st = load_connection_from(c, o, from, "-", 1, &printed);
    else
      st = cashback_options_load_connection_string(o, c->connection);
  }
  if (st == CASHBACK_OK && c->verbose)
    st = cashback_options_set_logger(o, log_line, NULL, CASHBACK_LOG_DEBUG);
  if (printed) {
    cashback_options_free(o);
    return CLI_CONFIG;
  }
  if (st != CASHBACK_OK) {
    cli_error(c, CLI_CONFIG, "configuration (%s): %s", from,
              cashback_options_last_error(o));
    cashback_options_free(o);
    return CLI_CONFIG;
  }
  char detail[CASHBACK_ERROR_MAX + 1];
  st = cashback_client_new(o, out, detail, sizeof(detail));
  if (st != CASHBACK_OK)
    return cli_error(c, CLI_CONFIG,
                     "configuration: %s (set it in CASHBACK_CONNECTION, "
                     "CASHBACK_CONFIG, --config or --connection; see "
                     "docs/onboarding.md)",
                     detail);
  return CLI_OK;
}

int cli_exit_code(cashback_status st) {
  switch (st) {
  case CASHBACK_OK:
    return CLI_OK;
  case CASHBACK_E_CONFIG:
    return CLI_CONFIG;
  case CASHBACK_E_SPOOL_FULL:
  case CASHBACK_E_DISK_FULL:
  case CASHBACK_E_IO:
    return CLI_STORAGE;
  case CASHBACK_E_NETWORK:
  case CASHBACK_E_HTTP:
  case CASHBACK_E_AUTH:
  case CASHBACK_E_BUSY:
  case CASHBACK_E_TIMEOUT:
  case CASHBACK_E_PROTOCOL:
    return CLI_NETWORK;
  case CASHBACK_E_INVALID_ARGUMENT:
  case CASHBACK_E_CLICK_NONE:
  case CASHBACK_E_CLICK_EXPIRED:
  case CASHBACK_E_CLICK_TAMPERED:
  case CASHBACK_E_CLICK_MALFORMED:
  case CASHBACK_E_AMOUNT:
  case CASHBACK_E_CURRENCY:
  case CASHBACK_E_FIELD:
  case CASHBACK_E_TOO_BIG:
    return CLI_USAGE;
  default:
    return CLI_FAIL;
  }
}

int cli_sdk_error(const cli *c, cashback_client *client, const char *what,
                  cashback_status st) {
  char detail[CASHBACK_ERROR_MAX + 1] = "";
  if (client)
    cashback_client_last_error(client, detail, sizeof(detail));
  if (detail[0])
    return cli_error(c, cli_exit_code(st), "%s: %s (%s)", what,
                     cashback_strerror(st), detail);
  return cli_error(c, cli_exit_code(st), "%s: %s", what, cashback_strerror(st));
}

void cli_json_string(FILE *f, const char *s) {
  fputc('"', f);
  for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
    if (*p == '"' || *p == '\\')
      fprintf(f, "\\%c", *p);
    else if (*p == '\n')
      fputs("\\n", f);
    else if (*p == '\r')
      fputs("\\r", f);
    else if (*p == '\t')
      fputs("\\t", f);
    else if (*p < 0x20 || *p == 0x7f)
      fprintf(f, "\\u%04x", *p);
    else
      fputc(*p, f);
  }
  fputc('"', f);
}

void cli_iso_time(int64_t t, char *buf, size_t size) {
  buf[0] = '\0';
  if (t <= 0)
    return;
  time_t tt = (time_t)t;
  struct tm tm;
  if (gmtime_r(&tt, &tm))
    strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

void cli_duration(int64_t s, char *buf, size_t size) {
  if (s < 0)
    s = 0;
  if (s < 120)
    snprintf(buf, size, "%lld s", (long long)s);
  else if (s < 7200)
    snprintf(buf, size, "%lld min", (long long)(s / 60));
  else if (s < 2 * 86400)
    snprintf(buf, size, "%lld h %lld min", (long long)(s / 3600),
             (long long)(s / 60 % 60));
  else
    snprintf(buf, size, "%lld days", (long long)(s / 86400));
}

void cli_bytes(uint64_t n, char *buf, size_t size) {
  static const char *const units[] = {"bytes", "KiB", "MiB", "GiB", "TiB"};
  if (n < 1024) {
    snprintf(buf, size, "%llu bytes", (unsigned long long)n);
    return;
  }
  double v = (double)n; /* display only */
  size_t u = 0;
  while (v >= 1024 && u < 4) {
    v /= 1024;
    u++;
  }
  snprintf(buf, size, "%.1f %s", v, units[u]);
}

int cli_parse_int(const char *s, int64_t min, int64_t max, int64_t *out) {
  if (!s || !*s)
    return -1;
  char *end;
  errno = 0;
  long long v = strtoll(s, &end, 10);
  if (errno || *end || v < min || v > max || s[0] == ' ' || s[0] == '+')
    return -1;
  *out = (int64_t)v;
  return 0;
}

int64_t cli_now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void cli_progress_start(cli_progress *p, const char *label, int enabled) {
  p->on = enabled && isatty(STDERR_FILENO);
  p->label = label;
  p->start_ms = cli_now_ms();
  p->last_ms = 0;
}

void cli_progress_draw(cli_progress *p, uint64_t done, uint64_t total,
                       const char *unit) {
  if (!p->on)
    return;
  int64_t now = cli_now_ms();
  if (p->last_ms && now - p->last_ms < 100 && done < total)
    return; /* at most ten redraws a second */
  p->last_ms = now;
  if (done > total)
    done = total;
  int width = 30;
  int fill = total ? (int)(done * (uint64_t)width / total) : width;
  char bar[64];
  for (int i = 0; i < width; i++)
    bar[i] = i < fill ? '#' : '.';
  bar[width] = '\0';
  double secs = (double)(now - p->start_ms) / 1000.0;
  double rate = secs > 0.05 ? (double)done / secs : 0;
  fprintf(stderr, "\r%s [%s] %3d%% %llu/%llu %s, %.0f/s ", p->label, bar,
          total ? (int)(done * 100 / total) : 100, (unsigned long long)done,
          (unsigned long long)total, unit, rate);
  fflush(stderr);
}

void cli_progress_end(cli_progress *p) {
  if (p->on) {
    fputc('\n', stderr);
    fflush(stderr);
  }
  p->on = 0;
}

int main(int argc, char **argv) {
  cli c = {0};
  static const struct option opts[] = {
      COMMON_OPTIONS, {"version", no_argument, NULL, 'V'}, {NULL, 0, NULL, 0}};
  int opt;
  /* '+': options before the command only; the command parses its own. */
  while ((opt = getopt_long(argc, argv, "+hvV", opts, NULL)) != -1) {
    int common = cli_common_option(&c, opt, usage_text);
    if (common < 0)
      return CLI_USAGE;
    if (common)
      continue;
    if (opt != 'V') {
      fputs("Try 'cashback --help'.\n", stderr);
      return CLI_USAGE;
    }
    printf("cashback %s (libcashback %s)\n", CASHBACK_VERSION,
           cashback_version());
    return CLI_OK;
  }
  if (optind >= argc) {
    fputs(usage_text, stderr);
    return CLI_USAGE;
  }
  static const struct {
    const char *name;
    int (*run)(cli *, int, char **);
  } commands[] = {{"report", cli_report}, {"send", cli_send},
                  {"status", cli_status}, {"quarantine", cli_quarantine},
                  {"import", cli_import}, {"verify", cli_verify},
                  {"doctor", cli_doctor}};
  const char *name = argv[optind];
  if (strcmp(name, "help") == 0) {
    fputs(usage_text, stdout);
    return CLI_OK;
  }
  for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
    if (strcmp(name, commands[i].name) == 0) {
      c.command = commands[i].name;
      int sub_argc = argc - optind;
      char **sub_argv = argv + optind;
      optind = 0; /* glibc: the subcommand's getopt starts afresh */
      return commands[i].run(&c, sub_argc, sub_argv);
    }
  char shown[256];
  fprintf(stderr,
          "cashback: unknown command '%s' (report, send, status, quarantine, "
          "import, verify, doctor)\nTry 'cashback --help'.\n",
          cli_shown(shown, sizeof(shown), name));
  return CLI_USAGE;
}
