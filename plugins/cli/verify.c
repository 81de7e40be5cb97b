/* cashback verify: check a body and its Cashback-Signature header, for
 * network engineers (cashback_verifier_verify() does the checking). */
#include "cli.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

static const char usage[] =
    "usage: cashback verify --key KEY_ID:SECRET [--key ...] --signature "
    "HEADER\n"
    "                       --body FILE [--now TIME] [--tolerance SECONDS]\n"
    "\n"
    "Checks that HEADER (the Cashback-Signature value, with or without the\n"
    "'Cashback-Signature:' name) signs the exact bytes of FILE ('-': stdin)\n"
    "with one of the keys, at a time within the tolerance of now, and says\n"
    "which check failed: malformed, timestamp, unknown key or mismatch.\n"
    "Exit status: 0 valid, 1 invalid, 2 usage.\n"
    "\n"
    "  --key KEY_ID:SECRET     a key to accept (repeat, at most 16); a\n"
    "                          command line is visible to other users: on a\n"
    "                          shared machine prefer --key-file\n"
    "  --key-file FILE         keys, one KEY_ID:SECRET per line, '#' "
    "comments;\n"
    "                          refused unless 0600 (or 0640) and owned by\n"
    "                          this user or root; '-' reads standard input\n"
    "  --signature HEADER      the header's value\n"
    "  --body FILE             the request body as received\n"
    "  --now TIME              Unix seconds or RFC 3339 (default: the clock)\n"
    "  --tolerance SECONDS     the replay window, default 300\n"
    "  --help\n";

#define BODY_MAX (64u * 1024 * 1024)

/* Adds "KEY_ID:SECRET"; never echoes the secret. */
static int add_key(cli *c, cashback_verifier *v, const char *spec,
                   const char *where) {
  const char *colon = strchr(spec, ':');
  char id[CASHBACK_ID_MAX + 2];
  size_t n = colon ? (size_t)(colon - spec) : 0;
  if (!colon || n == 0 || n >= sizeof(id))
    return cli_error(c, CLI_USAGE,
                     "%s: must be KEY_ID:SECRET (key id 1-64 characters)",
                     where);
  memcpy(id, spec, n);
  id[n] = '\0';
  cashback_status st = cashback_verifier_add_key(v, id, colon + 1);
  if (st != CASHBACK_OK)
    /* Not even the id: a KEY_ID:SECRET written the other way round has the
     * secret before the ':'. */
    return cli_error(c, CLI_USAGE,
                     "%s: %s (the id is 1-64 of [A-Za-z0-9._-]; the "
                     "secret 16-256 printable characters without space, ';' "
                     "or '#'; at most 16 keys)",
                     where, cashback_strerror(st));
  return CLI_OK;
}

static int add_key_file(cli *c, cashback_verifier *v, const char *path,
                        int *count) {
  /* libcashback's rule for files holding a secret (owner, mode); "-" is
   * standard input (a pipe: off the command line, out of any file). */
  char err[CASHBACK_ERROR_MAX + 1];
  int fd;
  FILE *f = stdin;
  if (strcmp(path, "-") != 0) {
    if (cashback_secret_file_open(path, &fd, err, sizeof(err)) != CASHBACK_OK)
      return cli_error(c, CLI_USAGE, "--key-file: %s", err);
    f = fdopen(fd, "r");
    if (!f) {
      close(fd);
      return cli_error(c, CLI_USAGE, "--key-file: %s", strerror(errno));
    }
  }
  char line[1024];
  int rc = CLI_OK, ln = 0;
  while (rc == CLI_OK && fgets(line, sizeof(line), f)) {
    ln++;
    line[strcspn(line, "\r\n")] = '\0';
    char *p = line + strspn(line, " \t");
    if (*p == '\0' || *p == '#')
      continue;
    char where[64];
    snprintf(where, sizeof(where), "--key-file %.20s line %d", path, ln);
    rc = add_key(c, v, p, where);
    (*count)++;
  }
  memset(line, 0, sizeof(line));
  if (f != stdin)
    fclose(f);
  return rc;
}

/* The whole file, or stdin for "-"; NULL with a message. */
static char *read_body(cli *c, const char *path, size_t *len) {
  FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
  if (!f) {
    cli_error(c, CLI_USAGE, "--body: cannot open '%s': %s", path,
              strerror(errno));
    return NULL;
  }
  size_t cap = 65536, n = 0;
  char *buf = malloc(cap);
  while (buf) {
    if (n == cap) {
      if (cap >= BODY_MAX) {
        cli_error(c, CLI_USAGE, "--body: '%s' is larger than 64 MiB", path);
        free(buf);
        buf = NULL;
        break;
      }
      char *p = realloc(buf, cap * 2);
      if (!p) {
        free(buf);
        buf = NULL;
        break;
      }
      buf = p;
      cap *= 2;
    }
    size_t r = fread(buf + n, 1, cap - n, f);
    n += r;
    if (r == 0) {
      if (ferror(f)) {
        cli_error(c, CLI_USAGE, "--body: cannot read '%s'", path);
        free(buf);
        buf = NULL;
      }
      break;
    }
  }
  if (f != stdin)
    fclose(f);
  *len = n;
  return buf;
}

/* The header's t= value, for messages; -1 when there is none. */
static long long header_t(const char *h) {
  for (const char *p = h; (p = strstr(p, "t=")) != NULL; p += 2)
    if (p == h || p[-1] == ',' || p[-1] == ' ' || p[-1] == '\t')
      return strtoll(p + 2, NULL, 10);
  return -1;
}

/* The key ids of the header's v1 items, for messages. */
static void header_keys(const char *h, char *out, size_t size) {
  size_t o = 0;
  out[0] = '\0';
  for (const char *p = h; (p = strstr(p, "v1=")) != NULL; p += 3) {
    size_t n = strcspn(p + 3, ":,");
    if (n > 64)
      n = 64;
    int w =
        snprintf(out + o, size - o, "%s'%.*s'", o ? ", " : "", (int)n, p + 3);
    if (w < 0 || (size_t)w >= size - o)
      break;
    o += (size_t)w;
  }
}

enum { O_KEY = 256, O_KEY_FILE, O_SIG, O_BODY, O_NOW, O_TOL };

/* What the command line asks for. */
typedef struct request {
  cashback_verifier *v; /* takes the keys */
  const char *sig, *body_path;
  int64_t now, tol;
  int keys, stdin_keys;
} request;

/* One option into the request `ud` (keys into its verifier); an exit
 * code. */
static int take_option(cli *c, int opt, const char *arg, void *ud) {
  request *r = ud;
  cashback_verifier *v = r->v;
  switch (opt) {
  case O_KEY:
    r->keys++;
    return add_key(c, v, arg, "--key");
  case O_KEY_FILE: {
    int rc;
    if (strcmp(arg, "-") == 0 && r->body_path && strcmp(r->body_path, "-") == 0)
      rc = cli_error(c, CLI_USAGE,
                     "--key-file - and --body - cannot both read standard "
                     "input");
    else
      rc = add_key_file(c, v, arg, &r->keys);
    r->stdin_keys |= strcmp(arg, "-") == 0;
    return rc;
  }
  case O_SIG:
    r->sig = arg;
    return CLI_OK;
  case O_BODY:
    r->body_path = arg;
    return CLI_OK;
  case O_NOW: {
    int off;
    if (cli_parse_int(arg, 0, INT64_C(253402300799), &r->now) != 0 &&
        cashback_time_parse(arg, strlen(arg), &r->now, &off) != CASHBACK_OK)
      return cli_error(c, CLI_USAGE,
                       "--now: '%s' must be Unix seconds or an RFC 3339 time",
                       arg);
    return CLI_OK;
  }
  case O_TOL:
    if (cli_parse_int(arg, 0, INT64_C(31536000), &r->tol) != 0 ||
        cashback_verifier_set_tolerance(v, r->tol) != CASHBACK_OK)
      return cli_error(c, CLI_USAGE,
                       "--tolerance: '%s' must be 0 to 31536000 "
                       "seconds",
                       arg);
    return CLI_OK;
  default:
    return CLI_USAGE;
  }
}

/* The command line into `r` and the keys into its verifier; an exit code. */
static int parse_args(cli *c, request *r, int argc, char **argv) {
  static const struct option own[] = {
      {"key", required_argument, NULL, O_KEY},
      {"key-file", required_argument, NULL, O_KEY_FILE},
      {"signature", required_argument, NULL, O_SIG},
      {"body", required_argument, NULL, O_BODY},
      {"now", required_argument, NULL, O_NOW},
      {"tolerance", required_argument, NULL, O_TOL},
      {NULL, 0, NULL, 0}};
  int rc = cli_parse_options(
      c, argc, argv,
      &(cli_options){.usage = usage, .own = own, .take = take_option, .ud = r});
  if (rc != CLI_OK)
    return rc;
  if (r->keys == 0)
    return cli_error(c, CLI_USAGE,
                     "--key KEY_ID:SECRET or --key-file is "
                     "required");
  if (!r->sig)
    return cli_error(c, CLI_USAGE, "--signature HEADER is required");
  if (!r->body_path)
    return cli_error(c, CLI_USAGE, "--body FILE is required");
  if (r->stdin_keys && strcmp(r->body_path, "-") == 0)
    return cli_error(c, CLI_USAGE,
                     "--key-file - and --body - cannot both read standard "
                     "input");
  return CLI_OK;
}

/* The header's value: without a leading "Cashback-Signature:" and blanks. */
static const char *header_value(const char *sig) {
  static const char name[] = CASHBACK_SIGNATURE_HEADER ":";
  if (strncasecmp(sig, name, sizeof(name) - 1) == 0)
    sig += sizeof(name) - 1;
  return sig + strspn(sig, " \t");
}

/* Prints what the verifier said of `sig` over `len` bytes of body; an exit
 * code. */
static int verdict(cli *c, const request *r, const char *sig, size_t len,
                   cashback_status st, const char *key_id) {
  long long t = header_t(sig), now = (long long)r->now;
  long long off = t > now ? t - now : now - t;
  char ids[256];
  header_keys(sig, ids, sizeof(ids));
  switch (st) {
  case CASHBACK_OK:
    printf("valid: signed by key '%s' at %lld, %lld s %s now; %zu "
           "bytes of body\n",
           key_id, t, off, t > now ? "after" : "before", len);
    return CLI_OK;
  case CASHBACK_E_SIG_MALFORMED:
    return cli_error(c, CLI_FAIL,
                     "invalid: malformed header: it must be "
                     "t=<unix seconds>,v1=<key id>:<64 hex digits>[,v1=...] "
                     "(docs/protocol.md, section 5)");
  case CASHBACK_E_SIG_TIMESTAMP:
    return cli_error(c, CLI_FAIL,
                     "invalid: timestamp: signed at t=%lld, %lld s from now "
                     "(%lld), outside the %lld s window: a replay, or a "
                     "clock that is off",
                     t, off, now, (long long)r->tol);
  case CASHBACK_E_SIG_UNKNOWN_KEY:
    return cli_error(c, CLI_FAIL,
                     "invalid: unknown key: the header is signed by %s, none "
                     "of the keys given",
                     ids[0] ? ids : "no key");
  case CASHBACK_E_SIG_MISMATCH:
    return cli_error(c, CLI_FAIL,
                     "invalid: mismatch: the signature by %s does not match "
                     "the body (a wrong secret, or a body that is not the "
                     "exact bytes that were signed)",
                     ids[0] ? ids : "the key");
  default:
    return cli_error(c, CLI_FAIL, "invalid: %s", cashback_strerror(st));
  }
}

int cli_verify(cli *c, int argc, char **argv) {
  cashback_verifier *v = cashback_verifier_new();
  if (!v)
    return cli_error(c, CLI_FAIL, "out of memory");
  request r = {.v = v, .now = (int64_t)time(NULL), .tol = 300};
  char *body = NULL;
  size_t len = 0;
  int rc = parse_args(c, &r, argc, argv);
  if (rc == CLI_OK && !(body = read_body(c, r.body_path, &len)))
    rc = CLI_USAGE;
  if (rc == CLI_OK) {
    const char *sig = header_value(r.sig);
    char key_id[CASHBACK_ID_MAX + 1] = "";
    cashback_status st =
        cashback_verifier_verify(v, sig, strlen(sig), body, len, r.now, key_id);
    rc = verdict(c, &r, sig, len, st, key_id);
  }
  free(body);
  cashback_verifier_free(v);
  return rc;
}
