/* cashback status: what the spool and the sender are doing. */
#include "cli.h"

#include <time.h>

static const char usage[] =
    "usage: cashback status [--json] [--order ID]\n"
    "\n"
    "Queued events and bytes, the age of the oldest, the quarantine, the\n"
    "last error and the last success, whether sending is paused (the key\n"
    "was refused), and when the next retry is due.\n"
    "\n"
    "  --json      one JSON object (fields in docs/cli.md)\n"
    "  --order ID  one order from the per-order ledger: sale, refunds, new\n"
    "              total, state, order time, the network's reference\n"
    "  --config FILE, --connection-file FILE, --connection STRING|-,\n"
    "  --verbose, --help\n";

#define IN_FLIGHT_SLOW_S 5 /* an attempt this long is not answered */

static void json_time(const char *name, int64_t t) {
  char iso[40];
  cli_iso_time(t, iso, sizeof(iso));
  printf(",\"%s\":", name);
  if (t > 0)
    cli_json_string(stdout, iso);
  else
    fputs("null", stdout);
}

static void print_json(cashback_client *client,
                       const cashback_queue_status *q) {
  printf("{\"merchant_id\":");
  cli_json_string(stdout, cashback_client_merchant_id(client));
  printf(",\"queued_events\":%llu,\"queued_bytes\":%llu,"
         "\"oldest_age_s\":%lld,\"quarantined\":%llu,\"corrupt_skipped\":%llu",
         (unsigned long long)q->queued_events,
         (unsigned long long)q->queued_bytes, (long long)q->oldest_age_s,
         (unsigned long long)q->quarantined,
         (unsigned long long)q->corrupt_skipped);
  json_time("last_success", q->last_success);
  json_time("next_attempt", q->next_attempt);
  printf(",\"paused\":%s,\"last_status\":%d,\"last_status_text\":",
         q->paused ? "true" : "false", (int)q->last_status);
  cli_json_string(stdout, cashback_strerror(q->last_status));
  printf(",\"last_error\":");
  cli_json_string(stdout, q->last_error);
  printf(",\"path_fault\":%ld", q->path_fault);
  printf(",\"quarantine_damaged\":%llu",
         (unsigned long long)q->quarantine_damaged);
  printf(",\"read_errors\":%llu,\"unreadable_files\":%llu,\"spool_problem\":",
         (unsigned long long)q->read_errors,
         (unsigned long long)q->unreadable_files);
  cli_json_string(stdout, q->spool_problem);
  printf(",\"state_damaged\":%llu", (unsigned long long)q->state_damaged);
  printf(",\"deferred\":%llu", (unsigned long long)q->deferred);
  json_time("deferred_next", q->deferred_next);
  printf(",\"spool_status\":%d,\"spool_error\":", (int)q->spool_status);
  cli_json_string(stdout, q->spool_error);
  json_time("in_flight_since", q->in_flight_since);
  json_time("paced_until", q->paced_until);
  printf(",\"submission\":");
  cli_json_string(stdout, q->submission);
  printf("}\n");
}

/* What the spool holds: queued, deferred, quarantined, damaged. */
static void print_spool(const cashback_queue_status *q) {
  char a[64];
  /* A text from the spool's files, shown printable (cli_shown()). */
  char problem[4 * CASHBACK_ERROR_MAX];
  cli_shown(problem, sizeof(problem), q->spool_problem);
  cli_bytes(q->queued_bytes, a, sizeof(a));
  printf("queued:        %llu event%s (%s)\n",
         (unsigned long long)q->queued_events, q->queued_events == 1 ? "" : "s",
         a);
  if (q->queued_events) {
    cli_duration(q->oldest_age_s, a, sizeof(a));
    printf("oldest:        %s old\n", a);
  }
  if (q->deferred) {
    printf("deferred:      %llu event%s the network asked for later (a "
           "follow-up before its sale)",
           (unsigned long long)q->deferred, q->deferred == 1 ? "" : "s");
    if (q->deferred_next) {
      cli_iso_time(q->deferred_next, a, sizeof(a));
      printf(", next %s", a);
    }
    printf("\n");
  }
  printf("quarantined:   %llu%s\n", (unsigned long long)q->quarantined,
         q->quarantined ? " (see 'cashback quarantine list')" : "");
  if (q->quarantine_damaged)
    printf("quarantine:    %llu damaged region%s in quarantine.log, cannot be "
           "read (kept in the file)\n",
           (unsigned long long)q->quarantine_damaged,
           q->quarantine_damaged == 1 ? "" : "s");
  if (q->corrupt_skipped)
    printf("corrupt:       %llu damaged record%s skipped\n",
           (unsigned long long)q->corrupt_skipped,
           q->corrupt_skipped == 1 ? "" : "s");
  if (q->unreadable_files)
    printf("unreadable:    %llu file%s skipped in the spool: %s\n",
           (unsigned long long)q->unreadable_files,
           q->unreadable_files == 1 ? "" : "s", problem);
  if (q->read_errors)
    printf("read errors:   %llu (segments kept and read again)%s%s\n",
           (unsigned long long)q->read_errors,
           q->unreadable_files || !q->spool_problem[0] ? "" : ": ",
           q->unreadable_files ? "" : problem);
}

/* What the sender did and will do. */
static void print_sender(const cashback_queue_status *q) {
  char a[64], b[64];
  /* Texts from the spool's files, shown printable (cli_shown()). */
  char last[4 * CASHBACK_ERROR_MAX], spool[4 * CASHBACK_ERROR_MAX];
  cli_shown(last, sizeof(last), q->last_error);
  cli_shown(spool, sizeof(spool), q->spool_error);
  int64_t now = (int64_t)time(NULL);
  if (q->last_success) {
    cli_iso_time(q->last_success, a, sizeof(a));
    cli_duration(now - q->last_success, b, sizeof(b));
    printf("last success:  %s (%s ago)\n", a, b);
  } else {
    printf("last success:  never\n");
  }
  if (q->last_status != CASHBACK_OK)
    printf("last error:    %s%s%s%s\n", cashback_strerror(q->last_status),
           q->last_error[0] ? " (" : "", last, q->last_error[0] ? ")" : "");
  else
    printf("last error:    none\n");
  if (q->spool_status != CASHBACK_OK)
    printf("spool error:   %s (%s)\n", cashback_strerror(q->spool_status),
           spool);
  if (q->paused)
    printf("paused:        yes: the network refused the key; check key_id, "
           "secret and the clock ('cashback doctor')\n");
  else
    printf("paused:        no\n");
  if (q->path_fault)
    printf("path fault:    HTTP %ld to every batch: check the endpoint and "
           "any proxy; nothing is quarantined for it\n",
           q->path_fault);
  if (q->next_attempt) {
    cli_iso_time(q->next_attempt, a, sizeof(a));
    cli_duration(q->next_attempt - now, b, sizeof(b));
    printf("next attempt:  %s (in %s)\n", a, b);
  }
  if (q->paced_until) {
    cli_iso_time(q->paced_until, a, sizeof(a));
    cli_duration(q->paced_until - now, b, sizeof(b));
    printf("paced until:   %s (in %s): the network's rate limit\n", a, b);
  }
  if (q->submission[0]) {
    char sub[4 * sizeof(q->submission)];
    cli_shown(sub, sizeof(sub), q->submission);
    printf("submission:    %s (the network queued it)\n", sub);
  }
  if (q->in_flight_since) {
    /* Past a few seconds, a network that accepted the request and does not
     * answer (or drips): say so, not "success". */
    int64_t age = now > q->in_flight_since ? now - q->in_flight_since : 0;
    cli_iso_time(q->in_flight_since, a, sizeof(a));
    cli_duration(age, b, sizeof(b));
    printf("in flight:     a request since %s (%s)%s\n", a, b,
           age >= IN_FLIGHT_SLOW_S ? ": the network is not answering" : "");
  }
  if (q->state_damaged)
    printf("state file:    found damaged %llu time%s and ignored (the retry "
           "schedule started afresh; the log has when)\n",
           (unsigned long long)q->state_damaged,
           q->state_damaged == 1 ? "" : "s");
}

static void print_text(cashback_client *client,
                       const cashback_queue_status *q) {
  printf("merchant:      %s\n", cashback_client_merchant_id(client));
  print_spool(q);
  print_sender(q);
}

static const char *order_state(cashback_order_state st) {
  return st == CASHBACK_ORDER_CANCELLED   ? "cancelled"
         : st == CASHBACK_ORDER_CONFIRMED ? "confirmed"
                                          : "open";
}

static void money(int64_t minor, const char *cur, char *out, size_t size) {
  if (!cur[0] || cashback_money_format(minor, cur, out, size) != CASHBACK_OK)
    snprintf(out, size, "%lld", (long long)minor);
}

static void print_order(const cashback_order_info *o, int json) {
  char sale[48], refunded[48], total[48], when[40];
  money(o->sale_amount, o->currency, sale, sizeof(sale));
  money(o->refunded_amount, o->currency, refunded, sizeof(refunded));
  money(o->total, o->currency, total, sizeof(total));
  cli_iso_time(o->updated_ms / 1000, when, sizeof(when));
  if (json) {
    printf("{\"order_id\":");
    cli_json_string(stdout, o->order_id);
    printf(",\"has_sale\":%s,\"currency\":", o->has_sale ? "true" : "false");
    cli_json_string(stdout, o->currency);
    printf(",\"sale\":\"%s\",\"sale_minor\":%lld,\"refunded\":\"%s\","
           "\"refunded_minor\":%lld,\"refunds\":%llu,\"total\":\"%s\","
           "\"total_minor\":%lld,\"state\":\"%s\",\"order_time\":",
           sale, (long long)o->sale_amount, refunded,
           (long long)o->refunded_amount, (unsigned long long)o->refunds, total,
           (long long)o->total, order_state(o->state));
    cli_json_string(stdout, o->order_time);
    printf(",\"utc_offset\":%d,\"updated\":", o->utc_offset);
    cli_json_string(stdout, when);
    printf(",\"remote_ref\":");
    cli_json_string(stdout, o->remote_ref);
    printf("}\n");
    return;
  }
  printf("order:         %s\n", o->order_id);
  if (o->has_sale)
    printf("sale:          %s %s\n", sale, o->currency);
  else
    printf("sale:          not seen (refunds delivered before any sale)\n");
  printf("refunds:       %llu, %s %s%s\n", (unsigned long long)o->refunds,
         refunded, o->currency,
         o->mixed_currency ? " (one in another currency)" : "");
  printf("new total:     %s %s\n", total, o->currency);
  printf("state:         %s\n", order_state(o->state));
  printf("order time:    %s\n", o->order_time[0] ? o->order_time : "unknown");
  printf("remote ref:    %s\n", o->remote_ref[0] ? o->remote_ref : "none");
  printf("updated:       %s\n", when);
}

static int take_order(cli *c, int opt, const char *arg, void *ud) {
  (void)c;
  (void)opt;
  *(const char **)ud = arg;
  return CLI_OK;
}

int cli_status(cli *c, int argc, char **argv) {
  int json = 0;
  const char *order = NULL;
  const struct option own[] = {{"json", no_argument, &json, 1},
                               {"order", required_argument, NULL, 'O'},
                               {NULL, 0, NULL, 0}};
  int rc = cli_parse_options(
      c, argc, argv,
      &(cli_options){
          .usage = usage, .own = own, .take = take_order, .ud = &order});
  cashback_client *client;
  if (rc == CLI_OK)
    rc = cli_client(c, &client);
  if (rc != CLI_OK)
    return rc;
  if (order) {
    cashback_order_info o = {.size = sizeof(o)};
    cashback_status ost = cashback_order_status(client, order, &o);
    if (ost != CASHBACK_OK)
      rc = cli_sdk_error(c, client, "cannot answer for the order", ost);
    else
      print_order(&o, json);
    cashback_client_free(client);
    return rc;
  }
  cashback_queue_status q = {.size = sizeof(q)};
  cashback_status st = cashback_get_status(client, &q);
  if (st != CASHBACK_OK)
    rc = cli_sdk_error(c, client, "cannot read the spool", st);
  else if (json)
    print_json(client, &q);
  else
    print_text(client, &q);
  cashback_client_free(client);
  return rc;
}
