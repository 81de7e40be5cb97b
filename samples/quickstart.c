/* Report one sale to the cashback network and send it: the whole program.
 *
 *   cc quickstart.c $(pkg-config --cflags --libs libcashback) -o quickstart
 *   export CASHBACK_CONNECTION='cashback:merchant_id=...;key_id=...;...'
 *   ./quickstart ORDER_ID CLICK_TOKEN AMOUNT
 *
 * The connection string, from the network (docs/onboarding.md), holds the
 * signing secret: it comes from the environment, never from the source or
 * the command line (where every local user sees it in ps). AMOUNT is in EUR,
 * e.g. 49.90; CLICK_TOKEN is the one cashback_click_read() gave at checkout.
 */
#include <cashback.h>
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv) {
  if (argc != 4) {
    fprintf(stderr, "usage: %s ORDER_ID CLICK_TOKEN AMOUNT\n", argv[0]);
    return 2;
  }
  const char *connection = getenv("CASHBACK_CONNECTION");
  if (!connection) {
    fprintf(stderr, "quickstart: CASHBACK_CONNECTION is not set\n");
    return 2;
  }

  /* 1. Configure: options from the connection string, then a client. */
  cashback_options *opts = cashback_options_new();
  if (!opts)
    return 1;
  cashback_status st =
      cashback_options_load_connection_string(opts, connection);
  if (st != CASHBACK_OK) {
    fprintf(stderr, "quickstart: %s\n", cashback_options_last_error(opts));
    cashback_options_free(opts);
    return 1;
  }
  char detail[CASHBACK_ERROR_MAX + 1];
  cashback_client *client;
  /* cashback_client_new() takes opts (and frees it, even on failure). */
  st = cashback_client_new(opts, &client, detail, sizeof(detail));
  if (st != CASHBACK_OK) {
    fprintf(stderr, "quickstart: %s: %s\n", cashback_strerror(st), detail);
    return 1;
  }

  /* 2. Report the sale: once this returns OK it is on disk, and will be sent
   * even if the network is down now or the process dies. */
  char id[CASHBACK_EVENT_ID_LEN + 1];
  cashback_event *ev = cashback_event_new(CASHBACK_EVENT_SALE, argv[1]);
  if (!ev) {
    fprintf(stderr, "quickstart: bad order id (1-64 printable ASCII, no "
                    "space), or out of memory\n");
    cashback_client_free(client);
    return 1;
  }
  st = cashback_event_set_click(ev, argv[2]);
  if (st == CASHBACK_OK)
    st = cashback_event_set_amount_decimal(ev, argv[3], "EUR");
  if (st == CASHBACK_OK)
    st = cashback_report(client, ev, id);
  if (st != CASHBACK_OK) {
    /* A setter or cashback_report() names the bad field on the event; the
     * other failures (the spool, the disk) are recorded on the client. */
    const char *why = cashback_event_last_error(ev);
    if (!why[0] && cashback_client_last_error(client, detail, sizeof(detail)) ==
                       CASHBACK_OK)
      why = detail;
    fprintf(stderr, "quickstart: order %s not reported: %s: %s\n", argv[1],
            cashback_strerror(st), why);
    cashback_event_free(ev);
    cashback_client_free(client);
    return 1;
  }
  cashback_event_free(ev);

  /* 3. Flush: send the spool now, for at most 10 s (a shop's web process
   * would run cashback_sender_start() or `cashback send --watch` instead). */
  st = cashback_flush(client, 10000);
  cashback_queue_status qs = {.size = sizeof(qs)};
  if (st == CASHBACK_OK)
    st = cashback_get_status(client, &qs);
  if (st != CASHBACK_OK) {
    if (cashback_client_last_error(client, detail, sizeof(detail)) !=
        CASHBACK_OK)
      detail[0] = '\0';
    fprintf(stderr, "quickstart: sale %s stored, not sent yet: %s: %s\n", id,
            cashback_strerror(st), detail);
    cashback_client_free(client);
    return 1;
  }
  int delivered = qs.queued_events == 0 && qs.quarantined == 0;
  if (delivered)
    printf("sale %s of order %s (%s EUR) delivered\n", id, argv[1], argv[3]);
  else
    printf(
        "sale %s: %llu queued, %llu quarantined (cashback quarantine list)\n",
        id, (unsigned long long)qs.queued_events,
        (unsigned long long)qs.quarantined);
  cashback_client_free(client);
  return delivered ? 0 : 1;
}
