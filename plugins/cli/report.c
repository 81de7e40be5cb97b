/* cashback report: one event from the command line into the spool. */
#include "cli.h"

#include <stdlib.h>
#include <string.h>

static const char usage[] =
    "usage: cashback report sale|refund|cancel|confirm --order ID [options]\n"
    "\n"
    "Stores the event in the spool (durably) and prints its id; a sender\n"
    "('cashback send', or the daemon) delivers it.\n"
    "\n"
    "  --order ID            the shop's order number (required)\n"
    "  --click TOKEN         the click token stored with the order\n"
    "  --amount DECIMAL      e.g. 49.90, exact (with --currency)\n"
    "  --currency CODE       ISO 4217, e.g. EUR\n"
    "  --item SKU:QTY:UNIT_PRICE[:NAME[:CATEGORY]]   an order line "
    "(repeat)\n"
    "  --voucher CODE        a voucher code used (repeat)\n"
    "  --customer new|returning\n"
    "  --order-time TIME     RFC 3339, e.g. 2026-11-23T19:42:00+01:00\n"
    "  --refund-id ID        the shop's id of a refund (makes it idempotent)\n"
    "  --reason CODE         reason of a refund or cancel\n"
    "  --meta KEY=VALUE      metadata (repeat)\n"
    "  --test                a test event: recorded, never paid\n"
    "  --json                print {\"id\":...} instead of the bare id\n"
    "  --dry-run             print the event as JSON; store nothing\n"
    "  --config FILE, --connection-file FILE, --connection STRING|-,\n"
    "  --verbose, --help\n";

enum {
  O_ORDER = 256,
  O_CLICK,
  O_AMOUNT,
  O_CURRENCY,
  O_ITEM,
  O_VOUCHER,
  O_CUSTOMER,
  O_ORDER_TIME,
  O_REFUND_ID,
  O_REASON,
  O_META,
  O_TEST,
  O_JSON,
  O_DRY_RUN
};

/* A hint naming the options that set the field an event error is about. */
static const char *hint(const char *error) {
  static const struct {
    const char *field, *hint;
  } map[] = {{"amount", " (use --amount and --currency)"},
             {"currency", " (use --currency)"},
             {"click", " (use --click or --voucher)"},
             {"items", " (use --item, with --amount and --currency)"},
             {"refund_id", " (use --refund-id)"},
             {"reason", " (use --reason)"},
             {"order_time", " (use --order-time)"}};
  for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
    size_t n = strlen(map[i].field);
    if (strncmp(error, map[i].field, n) == 0 &&
        (error[n] == ':' || error[n] == '[' || error[n] == '.'))
      return map[i].hint;
  }
  return "";
}

typedef struct args {
  const char *order, *click, *amount, *currency, *customer, *order_time;
  const char *refund_id, *reason;
  int test, json, dry_run;
  const char **items, **vouchers, **meta;
  size_t n_items, n_vouchers, n_meta;
} args;

/* Applies the options to the event; an exit code. */
static int build(cli *c, const args *a, cashback_event *ev) {
  cashback_status st;
  if (a->click && cashback_event_set_click(ev, a->click) != CASHBACK_OK)
    return cli_error(c, CLI_USAGE, "--click: %s",
                     cashback_event_last_error(ev));
  if (a->amount && !a->currency)
    return cli_error(c, CLI_USAGE, "--amount needs --currency");
  if (a->n_items && !a->currency)
    return cli_error(c, CLI_USAGE, "--item needs --currency (and --amount)");
  if (a->currency && !a->amount && !a->n_items)
    return cli_error(c, CLI_USAGE, "--currency needs --amount");
  if (a->amount && (st = cashback_event_set_amount_decimal(
                        ev, a->amount, a->currency)) != CASHBACK_OK)
    return cli_error(c, CLI_USAGE, "%s: %s",
                     st == CASHBACK_E_CURRENCY ? "--currency" : "--amount",
                     cashback_event_last_error(ev));
  if (a->order_time) {
    int64_t t;
    int off;
    if (cashback_time_parse(a->order_time, strlen(a->order_time), &t, &off) !=
        CASHBACK_OK)
      return cli_error(c, CLI_USAGE,
                       "--order-time: '%s' is not an RFC 3339 time with a UTC "
                       "offset, such as 2026-11-23T19:42:00+01:00",
                       a->order_time);
    if (cashback_event_set_order_time(ev, t, off) != CASHBACK_OK)
      return cli_error(c, CLI_USAGE, "--order-time: %s",
                       cashback_event_last_error(ev));
  }
  if (a->customer) {
    cashback_customer cu;
    if (strcmp(a->customer, "new") == 0)
      cu = CASHBACK_CUSTOMER_NEW;
    else if (strcmp(a->customer, "returning") == 0)
      cu = CASHBACK_CUSTOMER_RETURNING;
    else
      return cli_error(c, CLI_USAGE,
                       "--customer: '%s' must be new or returning",
                       a->customer);
    if (cashback_event_set_customer(ev, cu) != CASHBACK_OK)
      return cli_error(c, CLI_USAGE, "--customer: %s",
                       cashback_event_last_error(ev));
  }
  for (size_t i = 0; i < a->n_items; i++)
    if (cashback_event_add_item_text(ev, a->items[i], a->currency) !=
        CASHBACK_OK)
      return cli_error(c, CLI_USAGE, "--item: %s",
                       cashback_event_last_error(ev));
  for (size_t i = 0; i < a->n_vouchers; i++)
    if (cashback_event_add_voucher(ev, a->vouchers[i]) != CASHBACK_OK)
      return cli_error(c, CLI_USAGE, "--voucher: %s",
                       cashback_event_last_error(ev));
  if (a->refund_id &&
      cashback_event_set_refund_id(ev, a->refund_id) != CASHBACK_OK)
    return cli_error(c, CLI_USAGE, "--refund-id: %s",
                     cashback_event_last_error(ev));
  if (a->reason && cashback_event_set_reason(ev, a->reason) != CASHBACK_OK)
    return cli_error(c, CLI_USAGE, "--reason: %s",
                     cashback_event_last_error(ev));
  for (size_t i = 0; i < a->n_meta; i++) {
    const char *eq = strchr(a->meta[i], '=');
    if (!eq || eq == a->meta[i])
      return cli_error(c, CLI_USAGE, "--meta: '%s' must be KEY=VALUE",
                       a->meta[i]);
    char key[CASHBACK_ID_MAX + 2];
    size_t kn = (size_t)(eq - a->meta[i]);
    if (kn >= sizeof(key))
      kn = sizeof(key) - 1; /* too long: the setter refuses it */
    memcpy(key, a->meta[i], kn);
    key[kn] = '\0';
    if (cashback_event_set_metadata(ev, key, eq + 1) != CASHBACK_OK)
      return cli_error(c, CLI_USAGE, "--meta: %s",
                       cashback_event_last_error(ev));
  }
  if (a->test && cashback_event_set_test(ev, 1) != CASHBACK_OK)
    return cli_error(c, CLI_USAGE, "--test: %s", cashback_event_last_error(ev));
  return CLI_OK;
}

static int parse_type(const char *s, cashback_event_type *t) {
  static const struct {
    const char *name;
    cashback_event_type type;
  } types[] = {{"sale", CASHBACK_EVENT_SALE},
               {"refund", CASHBACK_EVENT_REFUND},
               {"cancel", CASHBACK_EVENT_CANCEL},
               {"confirm", CASHBACK_EVENT_CONFIRM}};
  for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
    if (strcmp(s, types[i].name) == 0) {
      *t = types[i].type;
      return 0;
    }
  return -1;
}

/* One option into the args `ud`; an exit code. */
static int take(cli *c, int opt, const char *arg, void *ud) {
  (void)c;
  args *a = ud;
  switch (opt) {
  case O_ORDER:
    a->order = arg;
    return CLI_OK;
  case O_CLICK:
    a->click = arg;
    return CLI_OK;
  case O_AMOUNT:
    a->amount = arg;
    return CLI_OK;
  case O_CURRENCY:
    a->currency = arg;
    return CLI_OK;
  case O_ITEM:
    a->items[a->n_items++] = arg;
    return CLI_OK;
  case O_VOUCHER:
    a->vouchers[a->n_vouchers++] = arg;
    return CLI_OK;
  case O_CUSTOMER:
    a->customer = arg;
    return CLI_OK;
  case O_ORDER_TIME:
    a->order_time = arg;
    return CLI_OK;
  case O_REFUND_ID:
    a->refund_id = arg;
    return CLI_OK;
  case O_REASON:
    a->reason = arg;
    return CLI_OK;
  case O_META:
    a->meta[a->n_meta++] = arg;
    return CLI_OK;
  case O_TEST:
    a->test = 1;
    return CLI_OK;
  case O_JSON:
    a->json = 1;
    return CLI_OK;
  case O_DRY_RUN:
    a->dry_run = 1;
    return CLI_OK;
  default:
    return CLI_USAGE;
  }
}

int cli_report(cli *c, int argc, char **argv) {
  static const struct option own[] = {
      {"order", required_argument, NULL, O_ORDER},
      {"click", required_argument, NULL, O_CLICK},
      {"amount", required_argument, NULL, O_AMOUNT},
      {"currency", required_argument, NULL, O_CURRENCY},
      {"item", required_argument, NULL, O_ITEM},
      {"voucher", required_argument, NULL, O_VOUCHER},
      {"customer", required_argument, NULL, O_CUSTOMER},
      {"order-time", required_argument, NULL, O_ORDER_TIME},
      {"refund-id", required_argument, NULL, O_REFUND_ID},
      {"reason", required_argument, NULL, O_REASON},
      {"meta", required_argument, NULL, O_META},
      {"test", no_argument, NULL, O_TEST},
      {"json", no_argument, NULL, O_JSON},
      {"dry-run", no_argument, NULL, O_DRY_RUN},
      {NULL, 0, NULL, 0}};
  args a = {0};
  /* Repeated options: never more than argc of each. */
  a.items = calloc((size_t)argc, sizeof(char *));
  a.vouchers = calloc((size_t)argc, sizeof(char *));
  a.meta = calloc((size_t)argc, sizeof(char *));
  int rc = CLI_OK;
  if (!a.items || !a.vouchers || !a.meta) {
    rc = cli_error(c, CLI_FAIL, "out of memory");
    goto out;
  }
  rc = cli_parse_options(
      c, argc, argv,
      &(cli_options){
          .usage = usage, .own = own, .take = take, .ud = &a, .operands = -1});
  if (rc != CLI_OK)
    goto out;
  cashback_event_type type;
  if (optind >= argc) {
    rc =
        cli_error(c, CLI_USAGE, "which event? sale, refund, cancel or confirm");
    fputs(usage, stderr);
    goto out;
  }
  if (optind + 1 < argc) {
    rc = cli_error(c, CLI_USAGE, "unexpected argument '%s'", argv[optind + 1]);
    goto out;
  }
  if (parse_type(argv[optind], &type) != 0) {
    rc = cli_error(c, CLI_USAGE,
                   "unknown event type '%s' (sale, refund, cancel or confirm)",
                   argv[optind]);
    goto out;
  }
  if (!a.order) {
    rc = cli_error(c, CLI_USAGE, "--order ID is required");
    goto out;
  }
  cashback_event *ev = cashback_event_new(type, a.order);
  if (!ev) {
    rc = cli_error(c, CLI_USAGE,
                   "--order: '%s' must be 1-64 printable ASCII characters, no "
                   "space",
                   a.order);
    goto out;
  }
  cashback_client *client = NULL;
  rc = build(c, &a, ev);
  if (rc == CLI_OK)
    rc = cli_client(c, &client);
  if (rc == CLI_OK && a.dry_run) {
    char *json = NULL;
    size_t len = 0;
    cashback_status st = cashback_event_to_json(client, ev, &json, &len);
    if (st == CASHBACK_OK)
      printf("%.*s\n", (int)len, json);
    else
      rc =
          cli_error(c, cli_exit_code(st), "%s%s", cashback_event_last_error(ev),
                    hint(cashback_event_last_error(ev)));
    cashback_free(json);
  } else if (rc == CLI_OK) {
    char id[CASHBACK_EVENT_ID_LEN + 1];
    cashback_status st = cashback_report(client, ev, id);
    if (st == CASHBACK_E_FIELD || st == CASHBACK_E_AMOUNT ||
        st == CASHBACK_E_CURRENCY) {
      rc = cli_error(c, CLI_USAGE, "%s%s", cashback_event_last_error(ev),
                     hint(cashback_event_last_error(ev)));
    } else if (st != CASHBACK_OK) {
      rc = cli_sdk_error(c, client, "not stored", st);
    } else if (a.json) {
      printf("{\"id\":\"%s\",\"type\":\"%s\",\"order_id\":", id, argv[optind]);
      cli_json_string(stdout, a.order);
      printf(",\"test\":%s}\n", a.test ? "true" : "false");
    } else {
      printf("%s\n", id);
    }
  }
  cashback_event_free(ev);
  cashback_client_free(client);
out:
  free(a.items);
  free(a.vouchers);
  free(a.meta);
  return rc;
}
