/*
 * What the fuzz targets share: the CHECK macro, the fixed clock and the one
 * client a target builds on its first input and keeps (a fuzzer may hold
 * state; it stays reachable, so it is not a leak). Header-only: each target
 * is its own program.
 */
#ifndef CASHBACK_FUZZ_H
#define CASHBACK_FUZZ_H

#include "cashback.h"

#include <stdint.h>
#include <stdlib.h>

#define CHECK(cond)                                                            \
  do {                                                                         \
    if (!(cond))                                                               \
      abort();                                                                 \
  } while (0)

/* The fuzz clients' "now", in seconds. */
#define FUZZ_NOW INT64_C(1790000000)

static inline int64_t fuzz_fixed_clock(void *userdata) {
  (void)userdata;
  return FUZZ_NOW;
}

/* The target's client: merchant "fuzz-shop", a fixed key and endpoint, the
 * fixed clock; `extra`, when not NULL, sets the target's own options before
 * the client is made. */
static inline cashback_client *
fuzz_client_with(void (*extra)(cashback_options *)) {
  static cashback_client *c;
  if (c == NULL) {
    cashback_options *o = cashback_options_new();
    CHECK(o != NULL);
    CHECK(cashback_options_set_merchant_id(o, "fuzz-shop") == CASHBACK_OK);
    CHECK(cashback_options_set_key(o, "k1", "fuzz-secret-0123456789") ==
          CASHBACK_OK);
    CHECK(cashback_options_set_endpoint(
              o, "https://api.network.example/v1/events") == CASHBACK_OK);
    CHECK(cashback_options_set_clock(o, fuzz_fixed_clock, NULL) == CASHBACK_OK);
    if (extra != NULL)
      extra(o);
    CHECK(cashback_client_new(o, &c, NULL, 0) == CASHBACK_OK);
  }
  return c;
}

#endif
