/* Shared test fixture: a client on a settable clock. */
#ifndef CASHBACK_TEST_FIXTURE_H
#define CASHBACK_TEST_FIXTURE_H

#include "cashback.h"

#include <check.h>
#include <stdint.h>

#define FIXTURE_SECRET "test-secret-0123456789abcdef"

static inline int64_t fixture_clock(void *ud) {
  return *(int64_t *)ud;
}

/* A client for `merchant` whose clock reads *now. */
static inline cashback_client *fixture_client(const char *merchant,
                                              int64_t *now) {
  cashback_options *o = cashback_options_new();
  ck_assert_ptr_nonnull(o);
  ck_assert_int_eq(cashback_options_set_merchant_id(o, merchant), CASHBACK_OK);
  ck_assert_int_eq(cashback_options_set_key(o, "k1", FIXTURE_SECRET),
                   CASHBACK_OK);
  ck_assert_int_eq(
      cashback_options_set_endpoint(o, "https://api.network.example/v1/events"),
      CASHBACK_OK);
  if (now)
    ck_assert_int_eq(cashback_options_set_clock(o, fixture_clock, now),
                     CASHBACK_OK);
  cashback_client *c = NULL;
  char detail[CASHBACK_ERROR_MAX + 1];
  ck_assert_int_eq(cashback_client_new(o, &c, detail, sizeof(detail)),
                   CASHBACK_OK);
  return c;
}

/* A client for "shop-1" whose spool is `spool_dir`, capped at `max_bytes`
 * (0: the default cap). */
static inline cashback_client *fixture_spool_client(const char *spool_dir,
                                                    uint64_t max_bytes) {
  cashback_options *o = cashback_options_new();
  ck_assert_ptr_nonnull(o);
  ck_assert_int_eq(cashback_options_set_merchant_id(o, "shop-1"), CASHBACK_OK);
  ck_assert_int_eq(cashback_options_set_key(o, "k1", FIXTURE_SECRET),
                   CASHBACK_OK);
  ck_assert_int_eq(
      cashback_options_set_endpoint(o, "https://api.network.example/v1/events"),
      CASHBACK_OK);
  ck_assert_int_eq(cashback_options_set_spool_dir(o, spool_dir), CASHBACK_OK);
  if (max_bytes)
    ck_assert_int_eq(cashback_options_set_spool_max_bytes(o, max_bytes),
                     CASHBACK_OK);
  cashback_client *c = NULL;
  ck_assert_int_eq(cashback_client_new(o, &c, NULL, 0), CASHBACK_OK);
  return c;
}

#endif
