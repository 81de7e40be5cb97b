/* cashback report: one event from the command line into the spool. The
 * flags are a mapping onto the event vocabulary (docs/events.md): each
 * names a field, and the SDK's event builder checks and applies them. */
#include "cli.h"

#include <stdlib.h>
#include <string.h>

/* One flag of `cashback report`. */
typedef struct flag {
  const char *name;  /* --name */
  const char *arg;   /* its argument, for the usage; NULL: takes none */
  const char *key;   /* the field it sets; ending in '.': a prefix, the
                        argument being KEY=VALUE; NULL: not a field */
  const char *value; /* a flag without argument: the field's value */
  const char *help;  /* the usage's text */
  /* A value the SDK refuses, in the CLI's words: "--name: 'VALUE' <bad>";
   * NULL: "--name: " and the SDK's detail. */
  const char *bad;
  /* The event error path this flag is the hint for, when the event is
   * refused as incomplete ("click: a sale needs ..."), and the hint's
   * options (NULL: --name). */
  const char *path, *use;
} flag;

static const flag flags[] = {
    {"order", "ID", "order_id", NULL, "the shop's order number (required)",
     "must be 1-64 printable ASCII characters, no space", NULL, NULL},
    {"click", "TOKEN|HANDLE", "click_token", NULL,
     "the click token, or the click handle, stored with the order", NULL,
     "click", "--click or --voucher"},
    {"amount", "DECIMAL", "amount", NULL, "e.g. 49.90, exact (with --currency)",
     NULL, "amount", "--amount and --currency"},
    {"currency", "CODE", "currency", NULL, "ISO 4217, e.g. EUR", NULL,
     "currency", NULL},
    {"item", "SKU:QTY:UNIT_PRICE[:NAME[:CATEGORY]]", "item", NULL,
     "an order line (repeat)", NULL, "items",
     "--item, with --amount and --currency"},
    {"voucher", "CODE", "voucher", NULL, "a voucher code used (repeat)", NULL,
     NULL, NULL},
    {"customer", "new|returning|unknown", "customer", NULL,
     "whether the customer is new to the shop",
     "must be new, returning or unknown", NULL, NULL},
    {"order-time", "TIME", "order_time", NULL,
     "RFC 3339, e.g. 2026-11-23T19:42:00+01:00, or Unix seconds",
     "is neither Unix seconds nor an RFC 3339 time with a UTC offset, such "
     "as 2026-11-23T19:42:00+01:00",
     "order_time", NULL},
    {"refund-id", "ID", "refund_id", NULL,
     "the shop's id of a refund (makes it idempotent)", NULL, "refund_id",
     NULL},
    {"reason", "CODE", "reason", NULL, "reason of a refund or cancel", NULL,
     "reason", NULL},
    {"meta", "KEY=VALUE", "meta.", NULL, "metadata (repeat)", NULL, NULL, NULL},
    {"test", NULL, "test", "true", "a test event: recorded, never paid", NULL,
     NULL, NULL},
    {"json", NULL, NULL, NULL, "print {\"id\":...} instead of the bare id",
     NULL, NULL, NULL},
    {"dry-run", NULL, NULL, NULL, "print the event as JSON; store nothing",
     NULL, NULL, NULL},
};

#define N_FLAGS (sizeof(flags) / sizeof(flags[0]))
#define OPT_BASE 256 /* getopt_long()'s value of flags[i]: OPT_BASE + i */
_Static_assert(N_FLAGS <= CLI_OWN_OPTIONS_MAX, "cli_parse_options() cap");

/* The index of the flag `name`. */
static size_t flag_named(const char *name) {
  size_t i = 0;
  while (i < N_FLAGS && strcmp(flags[i].name, name) != 0)
    i++;
  return i;
}

/* The usage, from the table. */
static void usage_of(char *buf, size_t size) {
  size_t o = (size_t)snprintf(
      buf, size,
      "usage: cashback report sale|refund|cancel|confirm --order ID "
      "[options]\n\n"
      "Stores the event in the spool (durably) and prints its id; a sender\n"
      "('cashback send', or the daemon) delivers it. The flags are the event\n"
      "fields of docs/events.md.\n\n");
  for (size_t i = 0; i < N_FLAGS && o < size; i++) {
    char left[64];
    snprintf(left, sizeof(left), "--%s%s%s", flags[i].name,
             flags[i].arg ? " " : "", flags[i].arg ? flags[i].arg : "");
    o += (size_t)snprintf(buf + o, size - o, "  %-21s%s%s\n", left,
                          strlen(left) >= 21 ? "   " : " ", flags[i].help);
  }
  if (o < size)
    snprintf(buf + o, size - o,
             "  --config FILE, --connection-file FILE, --connection STRING|-,\n"
             "  --verbose, --help\n");
}

/* A field named on the command line. */
typedef struct pair {
  const flag *f;
  char key[CASHBACK_ID_MAX + 8]; /* "meta." and a key cut past 64 + 1 */
  const char *value;
} pair;

typedef struct args {
  pair *pairs; /* in command-line order; at most argc */
  size_t n;
  int given[N_FLAGS]; /* how often each flag was given */
} args;

/* One flag into `ud`, an args; an exit code. */
static int take(cli *c, int opt, const char *arg, void *ud) {
  args *a = ud;
  size_t i = (size_t)(opt - OPT_BASE);
  if (opt < OPT_BASE || i >= N_FLAGS)
    return CLI_USAGE;
  const flag *f = &flags[i];
  a->given[i]++;
  if (!f->key)
    return CLI_OK;
  pair *p = &a->pairs[a->n++];
  p->f = f;
  p->value = arg ? arg : f->value;
  size_t kn = strlen(f->key);
  if (f->key[kn - 1] != '.') {
    snprintf(p->key, sizeof(p->key), "%s", f->key);
    return CLI_OK;
  }
  const char *eq = strchr(arg, '=');
  if (!eq || eq == arg)
    return cli_error(c, CLI_USAGE, "--%s: '%s' must be KEY=VALUE", f->name,
                     arg);
  /* A key too long is cut, still too long: the SDK refuses it. */
  snprintf(p->key, sizeof(p->key), "%s%.*s", f->key, (int)(eq - arg), arg);
  p->value = eq + 1;
  return CLI_OK;
}

/* The field of --click: a click handle when the client takes it for one
 * (the builder verifies it, and the event keeps the click's landing
 * parameter and capture time), else a bare click token. */
static const char *click_key(cashback_client *client, const char *v) {
  size_t n = strlen(v);
  if (n > CASHBACK_TOKEN_MAX)
    return "click";
  cashback_click k = {.size = sizeof(k)};
  cashback_status st = cashback_click_verify(client, v, n, &k);
  return st == CASHBACK_E_CLICK_MALFORMED || st == CASHBACK_E_CLICK_NONE
             ? "click_token"
             : "click";
}

/* The pair that set `key`, or NULL. */
static const pair *pair_of(const args *a, const char *key, size_t klen) {
  for (size_t i = 0; i < a->n; i++)
    if (strlen(a->pairs[i].key) == klen &&
        memcmp(a->pairs[i].key, key, klen) == 0)
      return &a->pairs[i];
  return NULL;
}

/* The builder's detail about `key`, its field path once: "item: items:
 * 'A:0:1': ..." (the key, then the event's own path that starts with it)
 * is "items: 'A:0:1': ...", as docs/events.md's details read. */
static const char *field_detail(const char *detail, const char *key,
                                size_t klen) {
  if (klen && strncmp(detail, key, klen) == 0 && detail[klen] == ':' &&
      detail[klen + 1] == ' ' && strncmp(detail + klen + 2, key, klen) == 0)
    return detail + klen + 2;
  return detail;
}

/* The builder's first failure, in the CLI's words; an exit code. */
static int refused(cli *c, const args *a, const cashback_event_builder *b,
                   const char *type) {
  const char *key = "";
  size_t klen = 0;
  char detail[CASHBACK_ERROR_MAX + 1];
  cashback_status st =
      cashback_event_builder_error(b, &key, &klen, detail, sizeof(detail));
  int code = cli_exit_code(st);
  const pair *p = pair_of(a, key, klen);
  if (klen == 4 && memcmp(key, "type", 4) == 0)
    return cli_error(
        c, code, "unknown event type '%s' (sale, refund, cancel or confirm)",
        type);
  if (!p) {
    /* "order_id: required": the flag that sets it. */
    size_t i = 0;
    while (i < N_FLAGS && !(flags[i].key && strlen(flags[i].key) == klen &&
                            memcmp(flags[i].key, key, klen) == 0))
      i++;
    if (i < N_FLAGS && strlen(detail) >= klen &&
        strcmp(detail + klen, ": required") == 0)
      return cli_error(c, code, "--%s %s is required", flags[i].name,
                       flags[i].arg);
    return cli_error(c, code, "%s", detail);
  }
  if (st == CASHBACK_E_CURRENCY && !a->given[flag_named("currency")])
    return cli_error(c, code, "--%s needs --currency", p->f->name);
  if (p->f->bad)
    return cli_error(c, code, "--%s: '%s' %s", p->f->name, p->value, p->f->bad);
  return cli_error(c, code, "--%s: %s", p->f->name,
                   field_detail(detail, key, klen));
}

/* The event of the command line (type `type`); an exit code. */
static int build(cli *c, cashback_client *client, args *a, const char *type,
                 cashback_event **ev) {
  cashback_event_builder *b = cashback_event_builder_new(client);
  if (!b)
    return cli_error(c, CLI_FAIL, "out of memory");
  /* Failures stick: the first is the one refused() reports. */
  cashback_status st =
      cashback_event_builder_set(b, "type", 4, type, strlen(type));
  for (size_t i = 0; i < a->n; i++) {
    pair *p = &a->pairs[i];
    if (strcmp(p->key, "click_token") == 0)
      snprintf(p->key, sizeof(p->key), "%s", click_key(client, p->value));
    st = cashback_event_builder_set(b, p->key, strlen(p->key), p->value,
                                    strlen(p->value));
  }
  st = cashback_event_builder_finish(b, ev);
  int rc = st == CASHBACK_OK ? CLI_OK : refused(c, a, b, type);
  cashback_event_builder_free(b);
  return rc;
}

/* " (use --click or --voucher)": the flags that set the field an event
 * error is about. */
static void hint(const char *error, char *buf, size_t size) {
  buf[0] = '\0';
  for (size_t i = 0; i < N_FLAGS; i++) {
    const char *path = flags[i].path;
    size_t n = path ? strlen(path) : 0;
    if (n && strncmp(error, path, n) == 0 &&
        (error[n] == ':' || error[n] == '[' || error[n] == '.')) {
      if (flags[i].use)
        snprintf(buf, size, " (use %s)", flags[i].use);
      else
        snprintf(buf, size, " (use --%s)", flags[i].name);
      return;
    }
  }
}

/* An event error of the SDK (incomplete for its type...), with its hint. */
static int event_error(cli *c, int code, const cashback_event *ev) {
  char h[128];
  hint(cashback_event_last_error(ev), h, sizeof(h));
  return cli_error(c, code, "%s%s", cashback_event_last_error(ev), h);
}

/* Prints the event's JSON (--dry-run) or stores it and prints its id. */
static int store(cli *c, cashback_client *client, const args *a,
                 const char *type, cashback_event *ev) {
  if (a->given[flag_named("dry-run")]) {
    char *json = NULL;
    size_t len = 0;
    cashback_status st = cashback_event_to_json(client, ev, &json, &len);
    int rc = st == CASHBACK_OK ? CLI_OK : event_error(c, cli_exit_code(st), ev);
    if (st == CASHBACK_OK)
      printf("%.*s\n", (int)len, json);
    cashback_free(json);
    return rc;
  }
  char id[CASHBACK_EVENT_ID_LEN + 1];
  cashback_status st = cashback_report(client, ev, id);
  if (st == CASHBACK_E_FIELD || st == CASHBACK_E_AMOUNT ||
      st == CASHBACK_E_CURRENCY)
    return event_error(c, CLI_USAGE, ev);
  if (st != CASHBACK_OK)
    return cli_sdk_error(c, client, "not stored", st);
  if (!a->given[flag_named("json")]) {
    printf("%s\n", id);
    return CLI_OK;
  }
  /* The type as the SDK names it: it took the name in any case. */
  char name[16];
  size_t n = 0;
  for (; type[n] && n + 1 < sizeof(name); n++)
    name[n] = type[n] >= 'A' && type[n] <= 'Z' ? (char)(type[n] + 32) : type[n];
  name[n] = '\0';
  const pair *order = pair_of(a, "order_id", 8);
  printf("{\"id\":\"%s\",\"type\":\"%s\",\"order_id\":", id, name);
  cli_json_string(stdout, order ? order->value : "");
  printf(",\"test\":%s}\n", a->given[flag_named("test")] ? "true" : "false");
  return CLI_OK;
}

int cli_report(cli *c, int argc, char **argv) {
  struct option own[N_FLAGS + 1];
  for (size_t i = 0; i < N_FLAGS; i++)
    own[i] = (struct option){flags[i].name,
                             flags[i].arg ? required_argument : no_argument,
                             NULL, OPT_BASE + (int)i};
  own[N_FLAGS] = (struct option){NULL, 0, NULL, 0};
  char usage[4096];
  usage_of(usage, sizeof(usage));
  args a = {.pairs = calloc((size_t)argc, sizeof(pair))};
  if (!a.pairs)
    return cli_error(c, CLI_FAIL, "out of memory");
  int rc = cli_parse_options(
      c, argc, argv,
      &(cli_options){
          .usage = usage, .own = own, .take = take, .ud = &a, .operands = 1});
  if (rc == CLI_OK && optind >= argc) {
    rc =
        cli_error(c, CLI_USAGE, "which event? sale, refund, cancel or confirm");
    fputs(usage, stderr);
  }
  if (rc == CLI_OK && a.given[flag_named("currency")] &&
      !a.given[flag_named("amount")] && !a.given[flag_named("item")])
    rc = cli_error(c, CLI_USAGE, "--currency needs --amount");
  cashback_client *client = NULL;
  cashback_event *ev = NULL;
  if (rc == CLI_OK)
    rc = cli_client(c, &client);
  if (rc == CLI_OK)
    rc = build(c, client, &a, argv[optind], &ev);
  if (rc == CLI_OK)
    rc = store(c, client, &a, argv[optind], ev);
  cashback_event_free(ev);
  cashback_client_free(client);
  free(a.pairs);
  return rc;
}
