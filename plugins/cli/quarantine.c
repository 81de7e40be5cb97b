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

static int list(cli *c, cashback_client *client, ctx *x) {
  if (x->json)
    printf("[");
  cashback_status st = cashback_quarantine_list(client, list_one, x);
  if (x->json)
    printf("]\n");
  cashback_queue_status qs = {.size = sizeof(qs)};
  uint64_t damaged = 0;
  if (st == CASHBACK_OK && cashback_get_status(client, &qs) == CASHBACK_OK)
    damaged = qs.quarantine_damaged;
  if (st == CASHBACK_OK && !x->json && x->n == 0 && damaged == 0)
    printf("the quarantine is empty\n");
  if (damaged) /* on stderr with --json, which stays one array */
    fprintf(x->json ? stderr : stdout,
            "%llu damaged region%s in quarantine.log: cannot be read, kept "
            "in the file\n",
            (unsigned long long)damaged, damaged == 1 ? "" : "s");
  if (st != CASHBACK_OK)
    return cli_sdk_error(c, client, "cannot read the quarantine", st);
  return CLI_OK;
}

static int show(cli *c, cashback_client *client, ctx *x) {
  cashback_status st = cashback_quarantine_list(client, show_one, x);
  if (st != CASHBACK_OK)
    return cli_sdk_error(c, client, "cannot read the quarantine", st);
  if (x->n == 0)
    return cli_error(c, CLI_FAIL, "no quarantined event with id '%s'", x->id);
  return CLI_OK;
}

/* `x->id`, or all of them when it is NULL. */
static int replay(cli *c, cashback_client *client, ctx *x) {
  size_t n = 0;
  cashback_status st = cashback_quarantine_replay(client, x->id, &n);
  if (st == CASHBACK_E_NOT_FOUND)
    return cli_error(c, CLI_FAIL, "no quarantined event with id '%s'", x->id);
  if (st != CASHBACK_OK)
    return cli_sdk_error(c, client, "replay", st);
  printf("replayed %zu event%s: back in the spool, to be sent again\n", n,
         n == 1 ? "" : "s");
  return CLI_OK;
}

typedef int (*action_fn)(cli *c, cashback_client *client, ctx *x);

/* The action the command line names, its operands checked; NULL with a
 * message. */
static action_fn action_of(cli *c, const char *action, const char *id, int json,
                           int all) {
  int is_list = strcmp(action, "list") == 0;
  int is_show = strcmp(action, "show") == 0;
  int is_replay = strcmp(action, "replay") == 0;
  const char *wrong = NULL;
  if (!is_list && !is_show && !is_replay) {
    cli_error(c, CLI_USAGE,
              "unknown action '%s' (list, show ID, replay ID|--all)", action);
    return NULL;
  }
  if (is_list && id)
    wrong = "list takes no id";
  else if (is_show && !id)
    wrong = "show needs an event id";
  else if (is_replay && !id == !all)
    wrong = "replay needs an event id, or --all";
  else if (all && !is_replay)
    wrong = "--all goes with replay";
  else if (json && !is_list)
    wrong = "--json goes with list";
  if (wrong) {
    cli_error(c, CLI_USAGE, "%s", wrong);
    return NULL;
  }
  return is_list ? list : is_show ? show : replay;
}

int cli_quarantine(cli *c, int argc, char **argv) {
  int json = 0, all = 0;
  const struct option own[] = {{"json", no_argument, &json, 1},
                               {"all", no_argument, &all, 1},
                               {NULL, 0, NULL, 0}};
  int rc = cli_parse_options(
      c, argc, argv, &(cli_options){.usage = usage, .own = own, .operands = 2});
  if (rc != CLI_OK)
    return rc;
  if (optind >= argc) {
    cli_error(c, CLI_USAGE, "list, show ID or replay ID|--all?");
    fputs(usage, stderr);
    return CLI_USAGE;
  }
  const char *id = optind + 1 < argc ? argv[optind + 1] : NULL;
  action_fn run = action_of(c, argv[optind], id, json, all);
  if (!run)
    return CLI_USAGE;
  cashback_client *client;
  rc = cli_client(c, &client);
  if (rc != CLI_OK)
    return rc;
  ctx x = {json, id, 0};
  rc = run(c, client, &x);
  cashback_client_free(client);
  return rc;
}
