/*
 * The SDK against cashback-sandbox, for tests/scripts/sandbox.sh: reports
 * through the spool and flushes, and checks what the SDK made of the
 * sandbox's answers.
 *
 *   sdk_client ENDPOINT SPOOL_DIR STEP
 *     deliver     a sale and a partial refund: delivered, spool empty
 *     held        a cancel of an order the sandbox has no sale of yet (the
 *                 sale is on another server): the sandbox holds it and
 *                 answers accepted; nothing is quarantined or deferred
 *     late-sale   that order's sale, from another spool (another server):
 *                 delivered, the order ends cancelled
 *     outage      a sale while the sandbox is down: the flush fails, the
 *                 event stays queued
 *     recover     the sandbox is back: the queued sale is delivered
 *
 * Exit 0 when the step's checks hold, 1 otherwise (the reason on stderr).
 */
#include <cashback.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SECRET "s3cr3t-for-tests-only-0001"

static int fail(const char *what, cashback_status st) {
  fprintf(stderr, "sdk_client: %s: %s\n", what, cashback_strerror(st));
  return 1;
}

static int report(cashback_client *c, cashback_event_type type,
                  const char *order, const char *amount, const char *refund) {
  cashback_event *ev = cashback_event_new(type, order);
  cashback_status st = ev ? CASHBACK_OK : CASHBACK_E_NOMEM;
  if (st == CASHBACK_OK && type == CASHBACK_EVENT_SALE)
    st = cashback_event_set_click(ev, "tok_sdk");
  if (st == CASHBACK_OK && amount)
    st = cashback_event_set_amount_decimal(ev, amount, "EUR");
  if (st == CASHBACK_OK && refund)
    st = cashback_event_set_refund_id(ev, refund);
  if (st == CASHBACK_OK)
    st = cashback_report(c, ev, NULL);
  if (st != CASHBACK_OK)
    fprintf(stderr, "sdk_client: report %s: %s\n", order,
            ev ? cashback_event_last_error(ev) : "out of memory");
  cashback_event_free(ev);
  return st == CASHBACK_OK ? 0 : 1;
}

static int queue(cashback_client *c, uint64_t queued, uint64_t quarantined) {
  cashback_queue_status s = {.size = sizeof(s)};
  cashback_status st = cashback_get_status(c, &s);
  if (st != CASHBACK_OK)
    return fail("status", st);
  printf("sdk_client: queued %" PRIu64 ", quarantined %" PRIu64
         ", last: %s%s%s\n",
         s.queued_events, s.quarantined, cashback_strerror(s.last_status),
         s.last_error[0] ? ": " : "", s.last_error);
  if (s.queued_events != queued || s.quarantined != quarantined) {
    fprintf(stderr,
            "sdk_client: want queued %" PRIu64 ", quarantined %" PRIu64 "\n",
            queued, quarantined);
    return 1;
  }
  return 0;
}

static int run(cashback_client *c, const char *step) {
  cashback_status st;
  if (strcmp(step, "deliver") == 0) {
    if (report(c, CASHBACK_EVENT_SALE, "S-1", "12.34", NULL) ||
        report(c, CASHBACK_EVENT_REFUND, "S-1", "2.34", "R-1"))
      return 1;
    if ((st = cashback_flush(c, 10000)) != CASHBACK_OK)
      return fail("flush", st);
    return queue(c, 0, 0);
  }
  if (strcmp(step, "held") == 0) {
    if (report(c, CASHBACK_EVENT_CANCEL, "S-404", NULL, NULL))
      return 1;
    if ((st = cashback_flush(c, 10000)) != CASHBACK_OK)
      return fail("flush", st);
    cashback_queue_status s = {.size = sizeof(s)};
    if ((st = cashback_get_status(c, &s)) != CASHBACK_OK)
      return fail("status", st);
    if (s.deferred != 0) {
      fprintf(stderr, "sdk_client: %" PRIu64 " deferred, want 0\n", s.deferred);
      return 1;
    }
    return queue(c, 0, 0);
  }
  if (strcmp(step, "late-sale") == 0) {
    if (report(c, CASHBACK_EVENT_SALE, "S-404", "5.00", NULL))
      return 1;
    if ((st = cashback_flush(c, 10000)) != CASHBACK_OK)
      return fail("flush", st);
    return queue(c, 0, 0);
  }
  if (strcmp(step, "outage") == 0) {
    if (report(c, CASHBACK_EVENT_SALE, "S-2", "5.00", NULL))
      return 1;
    st = cashback_flush(c, 2000);
    printf("sdk_client: flush while down: %s\n", cashback_strerror(st));
    if (st == CASHBACK_OK)
      return fail("flush while down succeeded", st);
    return queue(c, 1, 0);
  }
  if (strcmp(step, "recover") == 0) {
    if ((st = cashback_flush(c, 10000)) != CASHBACK_OK)
      return fail("flush", st);
    return queue(c, 0, 0);
  }
  fprintf(stderr, "sdk_client: unknown step '%s'\n", step);
  return 1;
}

int main(int argc, char **argv) {
  if (argc != 4) {
    fprintf(stderr, "usage: sdk_client ENDPOINT SPOOL_DIR STEP\n");
    return 2;
  }
  cashback_options *o = cashback_options_new();
  if (!o)
    return 1;
  cashback_status st = cashback_options_set_merchant_id(o, "shop-42");
  if (st == CASHBACK_OK)
    st = cashback_options_set_key(o, "k1", SECRET);
  if (st == CASHBACK_OK)
    st = cashback_options_set_endpoint(o, argv[1]);
  if (st == CASHBACK_OK)
    st = cashback_options_set_spool_dir(o, argv[2]);
  if (st == CASHBACK_OK)
    st = cashback_options_set_backoff(o, 100, 200);
  if (st == CASHBACK_OK)
    st = cashback_options_set_timeouts(o, 2000, 5000);
  if (st != CASHBACK_OK) {
    fprintf(stderr, "sdk_client: options: %s\n",
            cashback_options_last_error(o));
    cashback_options_free(o);
    return 1;
  }
  cashback_client *c = NULL;
  char detail[CASHBACK_ERROR_MAX + 1];
  if ((st = cashback_client_new(o, &c, detail, sizeof(detail))) !=
      CASHBACK_OK) {
    fprintf(stderr, "sdk_client: client: %s\n", detail);
    return 1;
  }
  int rc = run(c, argv[3]);
  cashback_client_free(c);
  return rc;
}
