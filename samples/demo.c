/*
 * The libcashback flow in one program, with the public API only:
 * a landing request captures a click into a cookie, checkout reads it back,
 * the paid order becomes a signed sale report, then a partial refund.
 *
 * Usage: demo [--out DIR] [--quiet]
 * Configuration comes from the environment (CASHBACK_CONNECTION, ...), or
 * the built-in demo connection string when none is set. With --out, the
 * sale's body and signature header are written to DIR/sale.body and
 * DIR/sale.sig (and DIR/refund.*) for an independent verifier.
 */
#include <cashback.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEMO_CONNECTION                                                        \
  "cashback:merchant_id=demo-shop;key_id=demo-key-1;"                          \
  "secret=demo-secret-0123456789abcdef;"                                       \
  "endpoint=http://127.0.0.1:8787/cashback/v1/"                                \
  "events;landing_params=@awin,cb_click"

static int quiet;

static void step(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void step(const char *fmt, ...) {
  if (!quiet) {
    va_list ap;
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    fputc('\n', stdout);
  }
}

static int die(cashback_client *c, const char *what, cashback_status st) {
  char detail[CASHBACK_ERROR_MAX + 1] = "";
  if (c)
    cashback_client_last_error(c, detail, sizeof(detail));
  fprintf(stderr, "demo: %s failed: %s (%s)\n", what, cashback_strerror(st),
          detail);
  return 1;
}

static int write_file(const char *dir, const char *name, const char *data,
                      size_t len) {
  char path[4096];
  snprintf(path, sizeof(path), "%s/%s", dir, name);
  FILE *f = fopen(path, "wb");
  if (!f || fwrite(data, 1, len, f) != len || fclose(f) != 0) {
    perror(path);
    return 1;
  }
  return 0;
}

/* Builds, prints and optionally saves the signed request of one event. */
static int send_one(cashback_client *c, cashback_event *ev, const char *out,
                    const char *label) {
  cashback_request *req = NULL;
  cashback_status st = cashback_request_new(c, &ev, 1, &req);
  if (st != CASHBACK_OK)
    return die(c, "building the request", st);
  size_t len;
  const char *body = cashback_request_body(req, &len);
  step("   POST %s", cashback_request_url(req));
  step("   " CASHBACK_SIGNATURE_HEADER ": %s", cashback_request_signature(req));
  step("   %.*s", (int)len, body);
  int rc = 0;
  if (out) {
    char name[64];
    snprintf(name, sizeof(name), "%s.body", label);
    rc |= write_file(out, name, body, len);
    snprintf(name, sizeof(name), "%s.sig", label);
    const char *sig = cashback_request_signature(req);
    rc |= write_file(out, name, sig, strlen(sig));
  }
  cashback_request_free(req);
  return rc;
}

int main(int argc, char **argv) {
  const char *out = NULL;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--out") == 0 && i + 1 < argc)
      out = argv[++i];
    else if (strcmp(argv[i], "--quiet") == 0)
      quiet = 1;
    else {
      fprintf(stderr, "usage: demo [--out DIR] [--quiet]\n");
      return 2;
    }
  }

  cashback_options *opts = cashback_options_new();
  if (!opts)
    return die(NULL, "cashback_options_new", CASHBACK_E_NOMEM);
  cashback_status st =
      getenv("CASHBACK_CONNECTION")
          ? cashback_options_load_env(opts)
          : cashback_options_load_connection_string(opts, DEMO_CONNECTION);
  if (st != CASHBACK_OK) {
    fprintf(stderr, "demo: configuration: %s\n",
            cashback_options_last_error(opts));
    cashback_options_free(opts);
    return 1;
  }
  char detail[CASHBACK_ERROR_MAX + 1];
  cashback_client *c = NULL;
  st = cashback_client_new(opts, &c, detail, sizeof(detail));
  if (st != CASHBACK_OK) {
    fprintf(stderr, "demo: client: %s (%s)\n", cashback_strerror(st), detail);
    return 1;
  }
  step("1. A shopper lands on the shop from the network");
  const char *landing = "/shoes/red?utm_source=net&awc=12345_1700000000_a1b2c3";
  step("   GET %s", landing);
  char set_cookie[CASHBACK_SET_COOKIE_MAX + 1];
  st = cashback_capture(c, landing, strlen(landing), set_cookie,
                        sizeof(set_cookie));
  if (st != CASHBACK_OK)
    return die(c, "capture", st);
  step("   the shop answers Set-Cookie: %s", set_cookie);

  step("2. Checkout: the browser sends the cookie back");
  char cookie_header[CASHBACK_SET_COOKIE_MAX + 64] = "session=abc123; ";
  size_t used = strlen(cookie_header);
  size_t pair = strcspn(set_cookie, ";");
  memcpy(cookie_header + used, set_cookie, pair);
  cookie_header[used + pair] = '\0';
  step("   Cookie: %s", cookie_header);
  cashback_click click = {.size = sizeof(cashback_click)};
  st = cashback_click_read(c, cookie_header, strlen(cookie_header), &click);
  if (st != CASHBACK_OK)
    return die(c, "click read-back", st);
  step("   click token '%s' from parameter '%s', stored with order 1001",
       click.token, click.source);

  step("3. Order 1001 is paid: 49.90 EUR. Reporting the sale, signed:");
  cashback_event *sale = cashback_event_new(CASHBACK_EVENT_SALE, "1001");
  if (!sale)
    return die(c, "cashback_event_new", CASHBACK_E_NOMEM);
  if ((st = cashback_event_set_click_full(sale, &click)) ||
      (st = cashback_event_set_amount_decimal(sale, "49.90", "EUR")) ||
      (st = cashback_event_add_item(sale, "SHOE-RED-42", "Red shoe", 1, 3990,
                                    "shoes")) ||
      (st = cashback_event_add_item(sale, "SOCK-3P", "Socks, 3 pairs", 2, 500,
                                    "accessories")) ||
      (st = cashback_event_add_voucher(sale, "WELCOME10")) ||
      (st = cashback_event_set_customer(sale, CASHBACK_CUSTOMER_NEW))) {
    fprintf(stderr, "demo: sale: %s\n", cashback_event_last_error(sale));
    return 1;
  }
  int rc = send_one(c, sale, out, "sale");
  char id[CASHBACK_EVENT_ID_LEN + 1];
  if (!rc && cashback_event_finalize(c, sale, id) == CASHBACK_OK)
    step("   event id %s: reporting order 1001 again gives the same id", id);
  cashback_event_free(sale);

  step("4. The shopper returns the socks: a partial refund of 10.00 EUR");
  cashback_event *refund = cashback_event_new(CASHBACK_EVENT_REFUND, "1001");
  if (!refund || cashback_event_set_amount_decimal(refund, "10.00", "EUR") ||
      cashback_event_set_refund_id(refund, "CN-1001-1") ||
      cashback_event_set_reason(refund, "ITEM_RETURNED")) {
    fprintf(stderr, "demo: refund: %s\n", cashback_event_last_error(refund));
    return 1;
  }
  rc |= send_one(c, refund, out, "refund");
  cashback_event_free(refund);
  cashback_client_free(c);
  if (!rc)
    step("Done: every report above carries its signature.");
  return rc;
}
