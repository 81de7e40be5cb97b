/* Fuzzes what the delivery profiles read of a spool payload
 * (cashback__pevent_parse(), cashback_profile.c) and build from it: the
 * input, split at the first NUL, is one or two payloads, built by the Awin
 * and the Impact profile with a ledger that knows order "1001". Checks: a
 * build covers 1 to n events, a local settlement gives printable reason
 * and message, a request has a method, a URL and a body within its cap. */
#include "cashback_options.h"
#include "cashback_profile.h"
#include "fuzz.h"

#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int lookup(void *ctx, const char *order_id, const char *event_id,
                  int64_t refund, cashback__profile_sale *out) {
  (void)ctx;
  (void)event_id;
  if (strcmp(order_id, "1001") != 0)
    return -1;
  memset(out, 0, sizeof(*out));
  out->amount = 4990;
  memcpy(out->currency, "EUR", 4);
  out->order_time = FUZZ_NOW;
  out->new_total = 4990 - refund;
  return 0;
}

static cashback_options *options(const char *profile) {
  cashback_options *o = cashback_options_new();
  CHECK(o && cashback_options_set(o, "profile", profile) == CASHBACK_OK);
  CHECK(cashback_options_set(o, "awin_advertiser_id", "1") == CASHBACK_OK);
  CHECK(cashback_options_set(o, "awin_api_key", "k") == CASHBACK_OK);
  CHECK(cashback_options_set(o, "awin_api_token", "t") == CASHBACK_OK);
  CHECK(cashback_options_set(o, "impact_account_sid", "IR1") == CASHBACK_OK);
  CHECK(cashback_options_set(o, "impact_auth_token", "t") == CASHBACK_OK);
  CHECK(cashback_options_set(o, "impact_campaign_id", "1") == CASHBACK_OK);
  CHECK(cashback_options_set(o, "impact_action_tracker_id", "2") ==
        CASHBACK_OK);
  return o;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static cashback_options *o[2];
  if (!o[0]) {
    o[0] = options("awin");
    o[1] = options("impact");
  }
  /* Heap copies of exactly each payload: ASan catches a read past one. */
  const uint8_t *nul = memchr(data, 0, size);
  size_t lens[2] = {nul ? (size_t)(nul - data) : size, 0};
  size_t n = 1;
  if (nul) {
    lens[1] = size - lens[0] - 1;
    n = 2;
  }
  char *texts[2] = {malloc(lens[0] ? lens[0] : 1), NULL};
  CHECK(texts[0]);
  memcpy(texts[0], data, lens[0]);
  if (n == 2) {
    texts[1] = malloc(lens[1] ? lens[1] : 1);
    CHECK(texts[1]);
    memcpy(texts[1], nul + 1, lens[1]);
  }
  cashback__profile_orders orders = {lookup, NULL};
  for (int p = 0; p < 2; p++) {
    cashback__result r[2];
    memset(r, 0, sizeof(r));
    cashback__prequest req;
    cashback__prequest_init(&req);
    cashback_status st = cashback__profile_of(o[p])->build(
        o[p], &orders, FUZZ_NOW, (const char *const *)texts, lens, r, n, &req);
    CHECK(st == CASHBACK_OK || st == CASHBACK_E_NOMEM ||
          st == CASHBACK_E_TOO_BIG || st == CASHBACK_E_PROTOCOL);
    if (st == CASHBACK_OK) {
      CHECK(req.n >= 1 && req.n <= n);
      if (req.local) {
        CHECK(r[0].outcome == CASHBACK__OUTCOME_ACCEPTED ||
              r[0].outcome == CASHBACK__OUTCOME_REJECTED);
        for (const char *s = r[0].reason; *s; s++)
          CHECK(*s >= 0x20 && *s <= 0x7e);
        for (const char *s = r[0].message; *s; s++)
          CHECK(*s >= 0x20 && *s <= 0x7e);
      } else {
        CHECK(req.method[0] && req.url[0] && req.n_headers >= 2);
        CHECK(req.body.len <= req.body.max);
      }
    }
    cashback__prequest_free(&req);
  }
  free(texts[0]);
  free(texts[1]);
  return 0;
}
