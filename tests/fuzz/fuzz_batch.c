/* Fuzzes the received-batch parser (cashback_batch_parse) with and without
 * the derived-id check. Checks: a failure leaves no batch and a known
 * status; a batch has 1-1000 events and a valid merchant id; every event's
 * strings are NUL-terminated; the echoed id and order id are printable
 * ASCII of at most 64; an event is valid exactly when its error is empty,
 * and a valid event has a 32-hex id, a type, an order id, and an amount
 * within range with a currency; the JSON text has the stated length. */
#include "cashback.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void printable(const char *s, size_t max) {
  size_t n = strlen(s);
  if (n > max)
    abort();
  for (size_t i = 0; i < n; i++)
    if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] > 0x7e)
      abort();
}

static void check(const char *body, size_t size, unsigned flags) {
  cashback_batch *b = (cashback_batch *)&flags;
  char detail[CASHBACK_ERROR_MAX + 1];
  cashback_status st =
      cashback_batch_parse(body, size, flags, &b, detail, sizeof(detail));
  if (!memchr(detail, '\0', sizeof(detail)))
    abort();
  if (st != CASHBACK_OK) {
    if (b ||
        (st != CASHBACK_E_PROTOCOL && st != CASHBACK_E_TOO_BIG &&
         st != CASHBACK_E_NOMEM) ||
        (st != CASHBACK_E_NOMEM && !detail[0]))
      abort();
    return;
  }
  size_t n = cashback_batch_count(b);
  if (!b || n < 1 || n > 1000 || detail[0])
    abort();
  const char *m = cashback_batch_merchant_id(b);
  if (!*m || strlen(m) > CASHBACK_ID_MAX)
    abort();
  for (size_t i = 0; i < n; i++) {
    cashback_received_event e = {.size = sizeof(e)};
    if (cashback_batch_event(b, i, &e) != CASHBACK_OK)
      abort();
    printable(e.id, CASHBACK_ID_MAX);
    printable(e.order_id, CASHBACK_ID_MAX);
    printable(e.currency, 3);
    printable(e.click_token, CASHBACK_TOKEN_MAX);
    printable(e.refund_id, CASHBACK_ID_MAX);
    if (strlen(e.json) != e.json_len || e.valid != !e.error[0])
      abort();
    if (!e.valid)
      continue;
    if (strlen(e.id) != CASHBACK_EVENT_ID_LEN || !e.order_id[0] ||
        e.type < CASHBACK_EVENT_SALE || e.type > CASHBACK_EVENT_CONFIRM)
      abort();
    if (e.has_amount && (e.amount < 0 || e.amount > INT64_C(1000000000000000) ||
                         cashback_currency_exponent(e.currency) < 0))
      abort();
    if (!e.has_amount &&
        (e.type == CASHBACK_EVENT_SALE || e.type == CASHBACK_EVENT_REFUND))
      abort();
  }
  cashback_received_event e = {.size = sizeof(e)};
  if (cashback_batch_event(b, n, &e) != CASHBACK_E_INVALID_ARGUMENT)
    abort();
  cashback_batch_free(b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  /* A heap copy of exactly `size` bytes: ASan catches any read past it. */
  char *body = malloc(size ? size : 1);
  if (!body)
    return 0;
  if (size)
    memcpy(body, data, size);
  check(body, size, 0);
  check(body, size, CASHBACK_BATCH_CHECK_IDS);
  free(body);
  return 0;
}
