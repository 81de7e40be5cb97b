/*
 * cashback-sandbox: a reference receiver of the libcashback protocol, for
 * network partners testing a merchant's integration and for the demo.
 * This file: the command line, the merchants and their keys, signals.
 * See docs/sandbox.md and cashback-sandbox(1).
 */
#include "sandbox.h"

#include <microhttpd.h>

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define DEFAULT_LISTEN "127.0.0.1:8787"
#define DEFAULT_DB "sandbox.db"

static const char usage_text[] =
    "Usage: cashback-sandbox [OPTION]...\n"
    "A reference receiver of the libcashback protocol (docs/protocol.md).\n"
    "\n"
    "  --listen HOST:PORT    listen address (default " DEFAULT_LISTEN
    "; PORT 0 picks a\n"
    "                        free port)\n"
    "  --port-file FILE      write the port to FILE once listening\n"
    "  --merchant M:KEY:SECRET[,KEY:SECRET]...\n"
    "                        accept merchant M signed with these keys "
    "(repeatable)\n"
    "  --keys-file FILE      merchants and keys, one 'merchant key_id secret' "
    "per\n"
    "                        line; the file must not be readable by others\n"
    "  --db FILE             SQLite database (default ./" DEFAULT_DB ")\n"
    "  --log FILE            append the log to FILE (default: standard "
    "error)\n"
    "  --fail-mode MODE      ok, down, 503, slow, drop or 429 (default ok)\n"
    "  --slow-ms N           delay of the slow mode in ms (default 2000, at "
    "most 60000)\n"
    "  --tolerance SECONDS   signature timestamp window (default 300)\n"
    "  --followups MODE      a refund, cancel or confirm before its sale: "
    "hold\n"
    "                        (recorded, counted once the sale arrives; the\n"
    "                        default) or retry (answered \"retry\")\n"
    "  --request-timeout SECONDS\n"
    "                        a request must be complete within this time of "
    "its\n"
    "                        connection's start or previous request (default "
    "30)\n"
    "  --max-seconds N       exit by itself after N seconds\n"
    "\n"
    "Network modes (answer as a network's own API, docs/sandbox.md):\n"
    "  --network NAME        cashback (the protocol, default), awin or impact\n"
    "  --account ID          Awin advertiser id or Impact account SID\n"
    "  --api-key KEY         Awin: the Conversion API's x-api-key\n"
    "  --api-token TOKEN     Awin: the transaction API's bearer token;\n"
    "                        Impact: the auth token (also --auth-token)\n"
    "  --credentials-file FILE\n"
    "                        'account', 'api_key', 'api_token', 'campaign'\n"
    "                        lines ('name value'); not readable by others\n"
    "  --campaign ID         Impact: the only CampaignId taken (default any)\n"
    "  --rate-limit CALLS/SECONDS\n"
    "                        sale calls in a sliding window (Awin default "
    "20/60,\n"
    "                        Impact none; 0 for none)\n"
    "  -h, --help            this help\n"
    "  -V, --version         the version\n"
    "\n"
    "Endpoints: POST /cashback/v1/events, GET /, GET /api/totals,\n"
    "GET and POST /_admin/mode (loopback only); in a network mode the\n"
    "network's API, GET /api/orders and GET /_admin/last-request.\n";

static void die_usage(const char *fmt, ...)
    __attribute__((format(printf, 1, 2))) __attribute__((noreturn));

/* "cashback-sandbox: <message>" on stderr, made printable (it echoes
 * arguments). */
static void vsay(const char *fmt, va_list ap) {
  char shown[1024];
  cashback_vprintablef(shown, sizeof(shown), fmt, ap);
  fprintf(stderr, "cashback-sandbox: %s\n", shown);
}

static void die_usage(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsay(fmt, ap);
  fputs("(see cashback-sandbox --help)\n", stderr);
  va_end(ap);
  exit(2);
}

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2)))
__attribute__((noreturn));

static void die(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsay(fmt, ap);
  va_end(ap);
  exit(1);
}

void sb_log(sandbox *sb, const char *fmt, ...) {
  char line[2048], stamp[32];
  va_list ap;
  /* One line, printable: values come from the network's clients. */
  va_start(ap, fmt);
  cashback_vprintablef(line, sizeof(line), fmt, ap);
  va_end(ap);
  time_t now = time(NULL);
  struct tm tm;
  gmtime_r(&now, &tm);
  strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%SZ", &tm);
  pthread_mutex_lock(&sb->log_lock);
  fprintf(sb->log, "%s %s\n", stamp, line);
  fflush(sb->log);
  pthread_mutex_unlock(&sb->log_lock);
}

const char *sb_mode_name(sb_mode m) {
  switch (m) {
  case SB_MODE_DOWN:
    return "down";
  case SB_MODE_503:
    return "503";
  case SB_MODE_SLOW:
    return "slow";
  case SB_MODE_DROP:
    return "drop";
  case SB_MODE_429:
    return "429";
  default:
    return "ok";
  }
}

int sb_mode_parse(const char *s, sb_mode *out) {
  static const sb_mode all[] = {SB_MODE_OK,   SB_MODE_DOWN, SB_MODE_503,
                                SB_MODE_SLOW, SB_MODE_DROP, SB_MODE_429};
  for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
    if (strcmp(s, sb_mode_name(all[i])) == 0) {
      *out = all[i];
      return 0;
    }
  return -1;
}

const sb_merchant *sb_find_merchant(const sandbox *sb, const char *id) {
  for (size_t i = 0; i < sb->n_merchants; i++)
    if (strcmp(sb->merchants[i].id, id) == 0)
      return &sb->merchants[i];
  return NULL;
}

int sb_append(char **buf, size_t *len, size_t *cap, size_t first,
              const void *data, size_t n) {
  if (*len + n + 1 > *cap) {
    size_t c = *cap ? *cap : first;
    while (c < *len + n + 1)
      c *= 2;
    char *p = realloc(*buf, c);
    if (!p)
      return -1;
    *buf = p;
    *cap = c;
  }
  memcpy(*buf + *len, data, n);
  *len += n;
  (*buf)[*len] = '\0';
  return 0;
}

static int parse_long(const char *s, long min, long max, long *out) {
  char *end;
  errno = 0;
  long v = strtol(s, &end, 10);
  if (errno || end == s || *end || v < min || v > max)
    return -1;
  *out = v;
  return 0;
}

/* Adds one key to merchant `mid`, creating the merchant on first use. The
 * error names the merchant and key, never the secret. */
static void add_key(sandbox *sb, const char *mid, const char *key_id,
                    const char *secret, const char *where) {
  if (!*mid || strlen(mid) > CASHBACK_ID_MAX)
    die_usage("%s: bad merchant id '%.80s'", where, mid);
  sb_merchant *m = (sb_merchant *)sb_find_merchant(sb, mid);
  if (!m) {
    sb_merchant *p = realloc(sb->merchants, (sb->n_merchants + 1) * sizeof(*p));
    if (!p)
      die("out of memory");
    sb->merchants = p;
    m = &sb->merchants[sb->n_merchants++];
    memset(m, 0, sizeof(*m));
    memcpy(m->id, mid, strlen(mid) + 1);
    m->verifier = cashback_verifier_new();
    if (!m->verifier)
      die("out of memory");
  }
  if (m->n_keys >= SB_KEYS_MAX)
    die_usage("%s: merchant %s has more than %d keys", where, mid, SB_KEYS_MAX);
  cashback_status st = cashback_verifier_add_key(m->verifier, key_id, secret);
  /* Not even the key id: KEY:SECRET the other way round has the secret
   * where the id should be. */
  if (st != CASHBACK_OK)
    die_usage("%s: merchant %s, key %zu: %s (a key id is 1-64 of "
              "[A-Za-z0-9._-]; a secret 16-256 printable characters without "
              "space, ';' or '#')",
              where, mid, m->n_keys + 1, cashback_strerror(st));
  size_t n = strlen(key_id);
  memcpy(m->key_ids[m->n_keys++], key_id, n + 1);
}

/* "M:KEY:SECRET[,KEY:SECRET]...": the merchant and key ids never contain
 * ':' or ','; a secret containing ',' must come from a keys file. */
static void add_merchant_arg(sandbox *sb, char *arg) {
  char *colon = strchr(arg, ':');
  if (!colon)
    die_usage("--merchant: expected MERCHANT:KEY_ID:SECRET");
  *colon = '\0';
  const char *mid = arg;
  char *rest = colon + 1;
  for (;;) {
    char *comma = strchr(rest, ',');
    if (comma)
      *comma = '\0';
    char *sep = strchr(rest, ':');
    if (!sep)
      die_usage("--merchant %s: expected KEY_ID:SECRET after the merchant",
                mid);
    *sep = '\0';
    add_key(sb, mid, rest, sep + 1, "--merchant");
    if (!comma)
      break;
    rest = comma + 1;
  }
}

#define WORDS_MAX 3

/* Reads `path`, a file holding secrets under libcashback's one rule for
 * them (owner, mode), and hands each line's words (spaces or tabs between
 * them, '#' starting a comment; lines without any skipped) to `line`, with
 * `n` the count (WORDS_MAX + 1: more than WORDS_MAX) and "path:line" in
 * `where`. `option` names it in errors. The lines are wiped after use. */
static void read_secret_file(sandbox *sb, const char *path, const char *option,
                             void (*line)(sandbox *sb, char **words, int n,
                                          const char *where)) {
  char err[CASHBACK_ERROR_MAX + 1];
  int fd;
  if (cashback_secret_file_open(path, &fd, err, sizeof(err)) != CASHBACK_OK)
    die("%s: %s", option, err);
  FILE *f = fdopen(fd, "r");
  if (!f)
    die("%s: %s", option, strerror(errno));
  char text[1024], where[PATH_MAX + 32];
  unsigned lineno = 0;
  while (fgets(text, sizeof(text), f)) {
    lineno++;
    snprintf(where, sizeof(where), "%s:%u", path, lineno);
    if (!strchr(text, '\n') && !feof(f))
      die_usage("%s: line too long", where);
    char *hash = strchr(text, '#');
    if (hash)
      *hash = '\0';
    char *save = NULL, *words[WORDS_MAX + 1];
    int n = 0;
    for (char *w = strtok_r(text, " \t\r\n", &save); w && n <= WORDS_MAX;
         w = strtok_r(NULL, " \t\r\n", &save))
      words[n++] = w;
    if (n)
      line(sb, words, n, where);
  }
  memset(text, 0, sizeof(text));
  fclose(f);
}

/* A line of --keys-file: "merchant key_id secret". */
static void keys_line(sandbox *sb, char **words, int n, const char *where) {
  if (n != 3)
    die_usage("%s: expected 'merchant key_id secret'", where);
  add_key(sb, words[0], words[1], words[2], where);
}

static void write_port_file(const char *path, unsigned port) {
  char tmp[PATH_MAX];
  if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= sizeof(tmp))
    die("--port-file: path too long");
  FILE *f = fopen(tmp, "w");
  if (!f || fprintf(f, "%u\n", port) < 0 || fclose(f) != 0 ||
      rename(tmp, path) != 0)
    die("--port-file %s: %s", path, strerror(errno));
}

/* What the command line gives besides the sandbox's own settings. */
typedef struct settings {
  const char *listen, *port_file, *db, *log_path, *keys_file;
  const char *credentials_file;
  long max_seconds;
  int rate_given; /* --rate-limit */
} settings;

enum {
  O_LISTEN = 256,
  O_PORT_FILE,
  O_MERCHANT,
  O_KEYS_FILE,
  O_DB,
  O_LOG,
  O_FAIL_MODE,
  O_SLOW_MS,
  O_TOLERANCE,
  O_MAX_SECONDS,
  O_FOLLOWUPS,
  O_REQUEST_TIMEOUT,
  O_NETWORK,
  O_ACCOUNT,
  O_API_KEY,
  O_API_TOKEN,
  O_CREDENTIALS_FILE,
  O_CAMPAIGN,
  O_RATE_LIMIT
};

#define STR_(x) #x
#define STR(x) STR_(x) /* a number macro as a string literal */

/* The option argument as a number from `min` to `max`; else dies with
 * "NAME: 'ARG' is not EXPECTED". */
static long number_arg(const char *name, long min, long max,
                       const char *expected) {
  long v;
  if (parse_long(optarg, min, max, &v) != 0)
    die_usage("%s: '%s' is not %s", name, optarg, expected);
  return v;
}

/* --------------------------------------------------- network modes */

static const char *network_name(sb_network n) {
  return n == SB_NET_AWIN ? "awin" : n == SB_NET_IMPACT ? "impact" : "cashback";
}

/* A credential or id into `to` (`size` bytes): 1-`size`-1 printable
 * characters without space. The error names the option, never a secret's
 * value. */
static void set_value(char *to, size_t size, const char *value,
                      const char *name, int secret) {
  size_t n = strlen(value);
  int ok = n > 0 && n < size;
  for (size_t i = 0; ok && i < n; i++)
    ok = value[i] > 0x20 && value[i] < 0x7f;
  if (!ok) {
    if (secret)
      die_usage("%s: expected 1-%zu printable characters without space", name,
                size - 1);
    die_usage("%s: '%.80s' is not 1-%zu printable characters without space",
              name, value, size - 1);
  }
  memcpy(to, value, n + 1);
}

/* --network, --account, --api-key, --api-token, --campaign, --rate-limit. */
static void take_network_option(sandbox *sb, settings *s, int c) {
  sb_net_config *n = &sb->netcfg;
  switch (c) {
  case O_NETWORK:
    if (strcmp(optarg, "cashback") == 0)
      n->network = SB_NET_CASHBACK;
    else if (strcmp(optarg, "awin") == 0)
      n->network = SB_NET_AWIN;
    else if (strcmp(optarg, "impact") == 0)
      n->network = SB_NET_IMPACT;
    else
      die_usage("--network: '%s' is not cashback, awin or impact", optarg);
    break;
  case O_ACCOUNT:
    set_value(n->account, sizeof(n->account), optarg, "--account", 0);
    break;
  case O_API_KEY:
    set_value(n->api_key, sizeof(n->api_key), optarg, "--api-key", 1);
    break;
  case O_API_TOKEN:
    set_value(n->api_token, sizeof(n->api_token), optarg, "--api-token", 1);
    break;
  case O_CAMPAIGN:
    set_value(n->campaign, sizeof(n->campaign), optarg, "--campaign", 0);
    break;
  default: { /* O_RATE_LIMIT: CALLS/SECONDS, or 0 */
    long calls, secs = 1;
    char *slash = strchr(optarg, '/');
    if (slash)
      *slash = '\0';
    if (parse_long(optarg, 0, SB_NET_RATE_CALLS_MAX, &calls) != 0 ||
        (slash && parse_long(slash + 1, 1, 86400, &secs) != 0) ||
        (!slash && calls != 0))
      die_usage("--rate-limit: expected CALLS/SECONDS (CALLS 0-%d, SECONDS "
                "1-86400), e.g. 20/60, or 0",
                SB_NET_RATE_CALLS_MAX);
    n->rate_calls = (int)calls;
    n->rate_seconds = (int)secs;
    s->rate_given = 1;
  }
  }
}

/* A line of --credentials-file: "name value", name one of account,
 * api_key, api_token (or auth_token), campaign. */
static void credentials_line(sandbox *sb, char **words, int n,
                             const char *where) {
  sb_net_config *c = &sb->netcfg;
  const struct {
    const char *name;
    char *to;
    size_t size;
    int secret;
  } keys[] = {{"account", c->account, sizeof(c->account), 0},
              {"api_key", c->api_key, sizeof(c->api_key), 1},
              {"api_token", c->api_token, sizeof(c->api_token), 1},
              {"auth_token", c->api_token, sizeof(c->api_token), 1},
              {"campaign", c->campaign, sizeof(c->campaign), 0}};
  size_t k = 0, nk = sizeof(keys) / sizeof(keys[0]);
  while (k < nk && strcmp(words[0], keys[k].name) != 0)
    k++;
  if (k == nk || n != 2)
    die_usage("%s: expected 'account|api_key|api_token|campaign VALUE'", where);
  set_value(keys[k].to, keys[k].size, words[1], where, keys[k].secret);
}

/* A network mode's settings, whole: the account and its credentials;
 * no merchants (they are the protocol's). */
static void check_network(sandbox *sb, const settings *s) {
  sb_net_config *n = &sb->netcfg;
  const char *name = network_name(n->network);
  if (sb->n_merchants)
    die_usage("--merchant and --keys-file are for --network cashback, not %s",
              name);
  if (!n->account[0])
    die_usage("--network %s needs --account (the %s)", name,
              n->network == SB_NET_AWIN ? "advertiser id" : "account SID");
  for (const char *p = n->account; *p; p++)
    if (n->network == SB_NET_AWIN
            ? !(*p >= '0' && *p <= '9')
            : !((*p >= '0' && *p <= '9') || (*p >= 'A' && *p <= 'Z') ||
                (*p >= 'a' && *p <= 'z')))
      die_usage("--account: '%s' is not %s", n->account,
                n->network == SB_NET_AWIN ? "digits (an advertiser id)"
                                          : "letters and digits (a SID)");
  if (n->network == SB_NET_AWIN && !n->api_key[0])
    die_usage("--network awin needs --api-key (the Conversion API's key)");
  if (!n->api_token[0])
    die_usage("--network %s needs --api-token (%s)", name,
              n->network == SB_NET_AWIN ? "the transaction API's bearer token"
                                        : "the auth token");
  if (n->network == SB_NET_IMPACT && n->api_key[0])
    die_usage("--api-key is Awin's; Impact takes --account and --api-token");
  if (n->network == SB_NET_AWIN && n->campaign[0])
    die_usage("--campaign is Impact's");
  if (!s->rate_given && n->network == SB_NET_AWIN) {
    n->rate_calls = 20; /* Awin's documented limit */
    n->rate_seconds = 60;
  }
}

/* One option into `sb` or `s`; dies on a bad value; -h and -V print and
 * exit. */
static void take_option(sandbox *sb, settings *s, int c) {
  /* The options that name a file or an address: where each one goes. */
  const struct {
    int option;
    const char **to;
  } names[] = {
      {O_LISTEN, &s->listen},       {O_PORT_FILE, &s->port_file},
      {O_KEYS_FILE, &s->keys_file}, {O_DB, &s->db},
      {O_LOG, &s->log_path},        {O_CREDENTIALS_FILE, &s->credentials_file}};
  for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
    if (names[i].option == c) {
      *names[i].to = optarg;
      return;
    }
  switch (c) {
  case O_MERCHANT:
    add_merchant_arg(sb, optarg);
    break;
  case O_FAIL_MODE:
    if (sb_mode_parse(optarg, &sb->mode) != 0)
      die_usage("--fail-mode: '%s' is not ok, down, 503, slow, drop or 429",
                optarg);
    break;
  case O_SLOW_MS:
    sb->slow_ms = (int)number_arg("--slow-ms", 0, SB_SLOW_MS_MAX,
                                  "0 to " STR(SB_SLOW_MS_MAX));
    break;
  case O_TOLERANCE:
    sb->tolerance = number_arg("--tolerance", 1, 86400, "1 to 86400 seconds");
    break;
  case O_MAX_SECONDS:
    s->max_seconds = number_arg("--max-seconds", 1, 31L * 86400,
                                "a positive number of seconds");
    break;
  case O_FOLLOWUPS:
    if (strcmp(optarg, "hold") == 0)
      sb->followups_retry = 0;
    else if (strcmp(optarg, "retry") == 0)
      sb->followups_retry = 1;
    else
      die_usage("--followups: '%s' is not hold or retry", optarg);
    break;
  case O_REQUEST_TIMEOUT:
    sb->request_timeout =
        (int)number_arg("--request-timeout", 1, SB_REQUEST_TIMEOUT_MAX,
                        "1 to " STR(SB_REQUEST_TIMEOUT_MAX) " seconds");
    break;
  case O_NETWORK:
  case O_ACCOUNT:
  case O_API_KEY:
  case O_API_TOKEN:
  case O_CAMPAIGN:
  case O_RATE_LIMIT:
    take_network_option(sb, s, c);
    break;
  case 'h':
    fputs(usage_text, stdout);
    exit(0);
  case 'V':
    printf("cashback-sandbox (libcashback) %s\n", cashback_version());
    exit(0);
  default:
    die_usage("unknown option");
  }
}

/* The command line into `sb` and `s`, then the keys file; dies on what is
 * wrong, so that nothing is opened for a bad command line. */
static void parse_args(sandbox *sb, settings *s, int argc, char **argv) {
  static const struct option longopts[] = {
      {"listen", required_argument, NULL, O_LISTEN},
      {"port-file", required_argument, NULL, O_PORT_FILE},
      {"merchant", required_argument, NULL, O_MERCHANT},
      {"keys-file", required_argument, NULL, O_KEYS_FILE},
      {"db", required_argument, NULL, O_DB},
      {"log", required_argument, NULL, O_LOG},
      {"fail-mode", required_argument, NULL, O_FAIL_MODE},
      {"slow-ms", required_argument, NULL, O_SLOW_MS},
      {"tolerance", required_argument, NULL, O_TOLERANCE},
      {"max-seconds", required_argument, NULL, O_MAX_SECONDS},
      {"followups", required_argument, NULL, O_FOLLOWUPS},
      {"request-timeout", required_argument, NULL, O_REQUEST_TIMEOUT},
      {"network", required_argument, NULL, O_NETWORK},
      {"account", required_argument, NULL, O_ACCOUNT},
      {"api-key", required_argument, NULL, O_API_KEY},
      {"api-token", required_argument, NULL, O_API_TOKEN},
      {"auth-token", required_argument, NULL, O_API_TOKEN},
      {"credentials-file", required_argument, NULL, O_CREDENTIALS_FILE},
      {"campaign", required_argument, NULL, O_CAMPAIGN},
      {"rate-limit", required_argument, NULL, O_RATE_LIMIT},
      {"help", no_argument, NULL, 'h'},
      {"version", no_argument, NULL, 'V'},
      {NULL, 0, NULL, 0}};
  int c;
  while ((c = getopt_long(argc, argv, "hV", longopts, NULL)) != -1)
    take_option(sb, s, c);
  if (optind < argc)
    die_usage("unexpected argument '%s'", argv[optind]);
  if (s->keys_file)
    read_secret_file(sb, s->keys_file, "--keys-file", keys_line);
  if (s->credentials_file)
    read_secret_file(sb, s->credentials_file, "--credentials-file",
                     credentials_line);
  if (sb->netcfg.network != SB_NET_CASHBACK) {
    check_network(sb, s);
    return;
  }
  if (sb->netcfg.account[0] || sb->netcfg.api_key[0] ||
      sb->netcfg.api_token[0] || sb->netcfg.campaign[0] || s->rate_given)
    die_usage("--account, --api-key, --api-token, --campaign and "
              "--rate-limit are for --network awin or impact");
  if (sb->n_merchants == 0)
    die_usage("no merchant: give --merchant or --keys-file");
  /* --tolerance may come after --merchant. */
  for (size_t i = 0; i < sb->n_merchants; i++)
    if (cashback_verifier_set_tolerance(sb->merchants[i].verifier,
                                        sb->tolerance) != CASHBACK_OK)
      die("cannot set the tolerance");
}

static void net_log(void *ud, const char *line) {
  sb_log(ud, "%s", line);
}

/* The log file and the database (a network mode: its store, in memory). */
static void open_files(sandbox *sb, const settings *s) {
  if (s->log_path) {
    sb->log = fopen(s->log_path, "a");
    if (!sb->log)
      die("--log %s: %s", s->log_path, strerror(errno));
  }
  if (sb->netcfg.network != SB_NET_CASHBACK) {
    sb->net = sb_net_new(&sb->netcfg, net_log, sb);
    if (!sb->net)
      die("out of memory");
    return;
  }
  char err[512];
  int migrated = 0;
  if (sb_store_open(s->db, &sb->store, &migrated, err, sizeof(err)) != 0)
    die("--db %s: %s", s->db, err);
  if (migrated)
    sb_log(sb,
           "database %s migrated from schema 1 to 2: events are now deduped "
           "per merchant (merchant id + event id)",
           s->db);
  sb_store_set_followups(sb->store, sb->followups_retry);
}

/* Starts the server (its threads inherit the signal mask set before) and
 * says where it listens. */
static sb_http *serve(sandbox *sb, const settings *s) {
  char err[512];
  unsigned port = 0;
  sb_http *d = sb_http_start(sb, s->listen, &port, err, sizeof(err));
  if (!d)
    die("--listen %s: %s", s->listen, err);
  if (s->port_file)
    write_port_file(s->port_file, port);
  for (size_t i = 0; i < sb->n_merchants; i++)
    sb_log(sb, "merchant %s: %zu key(s)", sb->merchants[i].id,
           sb->merchants[i].n_keys);
  if (sb->net) {
    const sb_net_config *c = &sb->netcfg;
    sb_log(sb,
           "listening on port %u (%s), network %s, account %s, rate limit "
           "%d/%d s, mode %s, store in memory",
           port, s->listen, network_name(c->network), c->account, c->rate_calls,
           c->rate_seconds, sb_mode_name(sb->mode));
    return d;
  }
  sb_log(sb, "listening on port %u (%s), mode %s, follow-ups %s, database %s",
         port, s->listen, sb_mode_name(sb->mode),
         sb->followups_retry ? "retry" : "hold", s->db);
  return d;
}

/* Until SIGINT or SIGTERM (blocked in `set`, taken by sigtimedwait()), or
 * --max-seconds. */
static void wait_for_stop(sandbox *sb, const sigset_t *set, long max_seconds) {
  struct timespec start;
  clock_gettime(CLOCK_MONOTONIC, &start);
  int sig = 0;
  for (;;) {
    struct timespec tick = {1, 0}, now;
    int got = sigtimedwait(set, NULL, &tick);
    if (got > 0) {
      sig = got;
      break;
    }
    clock_gettime(CLOCK_MONOTONIC, &now);
    if (max_seconds && now.tv_sec - start.tv_sec >= max_seconds)
      break;
  }
  if (sig)
    sb_log(sb, "stopping on signal %d", sig);
  else
    sb_log(sb, "stopping after --max-seconds %ld", max_seconds);
}

static void shut_down(sandbox *sb, sb_http *d, const settings *s) {
  sb_http_stop(d);
  sb_store_close(sb->store);
  sb_net_free(sb->net);
  memset(&sb->netcfg, 0, sizeof(sb->netcfg)); /* the secrets */
  if (s->port_file)
    unlink(s->port_file);
  for (size_t i = 0; i < sb->n_merchants; i++)
    cashback_verifier_free(sb->merchants[i].verifier);
  free(sb->merchants);
  sb_log(sb, "stopped");
  if (sb->log != stderr)
    fclose(sb->log);
}

int main(int argc, char **argv) {
  static sandbox sb_storage;
  sandbox *sb = &sb_storage;
  sb->tolerance = 300;
  sb->slow_ms = SB_SLOW_MS_DEFAULT;
  sb->request_timeout = SB_REQUEST_TIMEOUT_DEFAULT;
  sb->log = stderr;
  pthread_mutex_init(&sb->log_lock, NULL);
  pthread_mutex_init(&sb->lock, NULL);
  settings s = {.listen = DEFAULT_LISTEN, .db = DEFAULT_DB};

  parse_args(sb, &s, argc, argv);
  open_files(sb, &s);
  /* Signals are taken by sigtimedwait(); the server's threads inherit the
   * mask. */
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, NULL);
  signal(SIGPIPE, SIG_IGN);
  sb_http *d = serve(sb, &s);
  wait_for_stop(sb, &set, s.max_seconds);
  shut_down(sb, d, &s);
  return 0;
}
