/* cashback quarantine: the events the network rejected, kept for review. */
#include "cli.h"

#include <stdlib.h>
#include <string.h>

static const char usage[] =
    "usage: cashback quarantine list [--json]\n"
    "       cashback quarantine show ID\n"
    "       cashback quarantine replay ID | --all\n"
    "\n"
    "list     one line per rejected event: id, when, the network's reason;\n"
    "         an entry that is not an event (invalid_record,\n"
    "         unreadable_entry) with its bytes, escaped; and damaged regions\n"
    "show     one event: reason, message, and the event as it was sent\n"
    "replay   put the event (or all of them) back into the spool, same id,\n"
    "         to be sent again once the cause is fixed (the sale arrived,\n"
    "         the click is known...)\n"
    "\n"
    "  --config FILE, --connection-file FILE, --connection STRING|-,\n"
    "  --verbose, --help\n";

typedef struct ctx {
  int json;
  const char *id; /* show: the one to print */
  size_t n;
} ctx;

static int list_one(const cashback_quarantined *q, void *ud) {
  ctx *x = ud;
  char when[40];
  cli_iso_time(q->quarantined_at, when, sizeof(when));
  if (x->json) {
    printf("%s{\"id\":", x->n ? "," : "");
    cli_json_string(stdout, q->id);
    printf(",\"quarantined_at\":");
    cli_json_string(stdout, when);
    printf(",\"reason\":");
    cli_json_string(stdout, q->reason);
    printf(",\"message\":");
    cli_json_string(stdout, q->message);
    printf(",\"event\":%.*s}", (int)q->event_len, q->event_json);
  } else {
    /* What the quarantine file holds: shown printable, never as it is. */
    char id[4 * 64 + 4], reason[4 * 64 + 4], message[4 * CASHBACK_ERROR_MAX];
    printf("%s  %s  %s%s%s\n", cli_shown(id, sizeof(id), q->id), when,
           cli_shown(reason, sizeof(reason), q->reason),
           q->message[0] ? ": " : "",
           cli_shown(message, sizeof(message), q->message));
    if (q->event_len && q->event_json[0] == '"') { /* not an event: bytes */
      char bytes[4 * 200 + 1];
      cashback_printable(bytes, sizeof(bytes), q->event_json,
                         q->event_len > 200 ? 200 : q->event_len);
      printf("    bytes: %s%s\n", bytes,
             q->event_len > 200 ? "... (see show)" : "");
    }
  }
  x->n++;
  return 0;
}

static int show_one(const cashback_quarantined *q, void *ud) {
  ctx *x = ud;
  if (strcmp(q->id, x->id) != 0)
    return 0;
  char when[40];
  cli_iso_time(q->quarantined_at, when, sizeof(when));
  char id[4 * 64 + 4], reason[4 * 64 + 4], message[4 * CASHBACK_ERROR_MAX];
  size_t size = 4 * q->event_len + 1;
  char *event = malloc(size);
  if (event)
    cashback_printable(event, size, q->event_json, q->event_len);
  printf("id:          %s\nquarantined: %s\nreason:      %s\nmessage:     "
         "%s\nevent:       %s\n",
         cli_shown(id, sizeof(id), q->id), when,
         cli_shown(reason, sizeof(reason), q->reason),
         cli_shown(message, sizeof(message), q->message),
         event ? event : "(out of memory)");
  free(event);
  x->n++;
  return 1; /* found: stop */
}

int cli_quarantine(cli *c, int argc, char **argv) {
  enum { O_JSON = 256, O_ALL };
  static const struct option opts[] = {CLI_COMMON_OPTIONS,
                                       {"json", no_argument, NULL, O_JSON},
                                       {"all", no_argument, NULL, O_ALL},
                                       {NULL, 0, NULL, 0}};
  int opt, json = 0, all = 0;
  while ((opt = getopt_long(argc, argv, "vh", opts, NULL)) != -1) {
    int common = cli_common_option(c, opt, usage);
    if (common < 0)
      return CLI_USAGE;
    if (common)
      continue;
    if (opt == O_JSON)
      json = 1;
    else if (opt == O_ALL)
      all = 1;
    else
      return CLI_USAGE;
  }
  if (optind >= argc) {
    cli_error(c, CLI_USAGE, "list, show ID or replay ID|--all?");
    fputs(usage, stderr);
    return CLI_USAGE;
  }
  const char *action = argv[optind++];
  const char *id = optind < argc ? argv[optind++] : NULL;
  if (optind < argc)
    return cli_error(c, CLI_USAGE, "unexpected argument '%s'", argv[optind]);
  int is_list = strcmp(action, "list") == 0;
  int is_show = strcmp(action, "show") == 0;
  int is_replay = strcmp(action, "replay") == 0;
  if (!is_list && !is_show && !is_replay)
    return cli_error(c, CLI_USAGE,
                     "unknown action '%s' (list, show ID, replay ID|--all)",
                     action);
  if (is_list && id)
    return cli_error(c, CLI_USAGE, "list takes no id");
  if (is_show && !id)
    return cli_error(c, CLI_USAGE, "show needs an event id");
  if (is_replay && !id == !all)
    return cli_error(c, CLI_USAGE, "replay needs an event id, or --all");
  if (all && !is_replay)
    return cli_error(c, CLI_USAGE, "--all goes with replay");
  if (json && !is_list)
    return cli_error(c, CLI_USAGE, "--json goes with list");

  cashback_client *client;
  int rc = cli_client(c, &client);
  if (rc != CLI_OK)
    return rc;
  ctx x = {json, id, 0};
  cashback_status st;
  if (is_list) {
    if (json)
      printf("[");
    st = cashback_quarantine_list(client, list_one, &x);
    if (json)
      printf("]\n");
    cashback_queue_status qs = {.size = sizeof(qs)};
    uint64_t damaged = 0;
    if (st == CASHBACK_OK && cashback_get_status(client, &qs) == CASHBACK_OK)
      damaged = qs.quarantine_damaged;
    if (st == CASHBACK_OK && !json && x.n == 0 && damaged == 0)
      printf("the quarantine is empty\n");
    if (damaged) /* on stderr with --json, which stays one array */
      fprintf(json ? stderr : stdout,
              "%llu damaged region%s in quarantine.log: cannot be read, kept "
              "in the file\n",
              (unsigned long long)damaged, damaged == 1 ? "" : "s");
    if (st != CASHBACK_OK)
      rc = cli_sdk_error(c, client, "cannot read the quarantine", st);
  } else if (is_show) {
    st = cashback_quarantine_list(client, show_one, &x);
    if (st != CASHBACK_OK)
      rc = cli_sdk_error(c, client, "cannot read the quarantine", st);
    else if (x.n == 0)
      rc = cli_error(c, CLI_FAIL, "no quarantined event with id '%s'", id);
  } else {
    size_t n = 0;
    st = cashback_quarantine_replay(client, all ? NULL : id, &n);
    if (st == CASHBACK_E_NOT_FOUND)
      rc = cli_error(c, CLI_FAIL, "no quarantined event with id '%s'", id);
    else if (st != CASHBACK_OK)
      rc = cli_sdk_error(c, client, "replay", st);
    else
      printf("replayed %zu event%s: back in the spool, to be sent again\n", n,
             n == 1 ? "" : "s");
  }
  cashback_client_free(client);
  return rc;
}
