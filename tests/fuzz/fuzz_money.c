/*
 * Fuzz target for sdk/cashback_money.c. Input: a currency code, a newline,
 * then the amount text ("EUR\n49.90"); without a newline the first 3 bytes
 * are the code. The amount goes through the internal parser with every
 * exponent 0..4 (and the public one with the code); whatever parses must
 * stay within the cap, format back, and parse again to the same value.
 */
#include "cashback_money.h"
#include "fuzz.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static void roundtrip(int64_t v, int exponent) {
  char buf[32];
  int64_t back = 0;
  CHECK(v >= -CASHBACK__AMOUNT_MAX && v <= CASHBACK__AMOUNT_MAX);
  CHECK(cashback__money_format(v, exponent, buf, sizeof buf) == CASHBACK_OK);
  size_t n = strlen(buf);
  CHECK(cashback__money_parse(buf, n, exponent, &back) == CASHBACK_OK);
  CHECK(back == v);
  /* The formatted text is canonical: formatting again gives the same. */
  char again[32];
  CHECK(cashback__money_format(back, exponent, again, sizeof again) ==
        CASHBACK_OK);
  CHECK(strcmp(buf, again) == 0);
  /* Exactly the needed size works, one byte less is refused. */
  CHECK(cashback__money_format(v, exponent, again, n + 1) == CASHBACK_OK);
  CHECK(cashback__money_format(v, exponent, again, n) == CASHBACK_E_TOO_BIG);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const char *in = (const char *)data;
  const char *nl = memchr(in, '\n', size);
  size_t code_len = nl ? (size_t)(nl - in) : (size < 3 ? size : 3);
  const char *amount = in + code_len + (nl ? 1 : 0);
  size_t amount_len = size - code_len - (nl ? 1 : 0);

  /* Copy the amount to an exact-size heap block so ASan sees any read past
   * `len`. */
  char *exact = malloc(amount_len ? amount_len : 1);
  if (exact == NULL)
    return 0;
  memcpy(exact, amount, amount_len);

  int64_t prev = 0;
  int prev_ok = 0;
  for (int e = 0; e <= 4; e++) {
    int64_t v = 0;
    cashback_status st = cashback__money_parse(exact, amount_len, e, &v);
    CHECK(st == CASHBACK_OK || st == CASHBACK_E_AMOUNT);
    if (st == CASHBACK_OK) {
      roundtrip(v, e);
      /* One more allowed fraction digit scales the value by ten. */
      if (prev_ok)
        CHECK(v == prev * 10);
    } else {
      /* Accepting with exponent e and then refusing with e+1 is only
       * possible when the scaled value passes the cap. */
      if (prev_ok)
        CHECK(prev > CASHBACK__AMOUNT_MAX / 10 ||
              prev < -(CASHBACK__AMOUNT_MAX / 10));
    }
    prev = v;
    prev_ok = st == CASHBACK_OK;
  }

  /* The public entry point, with the code as a NUL-terminated string (an
   * embedded NUL just shortens it). */
  char code[8];
  if (code_len < sizeof code) {
    memcpy(code, in, code_len);
    code[code_len] = '\0';
    int e = cashback_currency_exponent(code);
    CHECK(e == cashback__currency_exponent(code, strlen(code)));
    CHECK(e >= -1 && e <= 4);
    int64_t v = 0;
    cashback_status st = cashback_money_parse(exact, amount_len, code, &v);
    if (e < 0) {
      CHECK(st == CASHBACK_E_CURRENCY);
    } else {
      int64_t w = 0;
      CHECK(st == cashback__money_parse(exact, amount_len, e, &w));
      if (st == CASHBACK_OK) {
        char buf[32];
        int64_t back = 0;
        CHECK(v == w);
        CHECK(cashback_money_format(v, code, buf, sizeof buf) == CASHBACK_OK);
        CHECK(cashback_money_parse(buf, strlen(buf), code, &back) ==
              CASHBACK_OK);
        CHECK(back == v);
      }
    }
  }
  free(exact);
  return 0;
}
