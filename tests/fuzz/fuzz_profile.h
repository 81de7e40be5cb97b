/* What the delivery profiles' answer fuzzers share (fuzz_awin_response.c,
 * fuzz_impact_response.c): the first two bytes pick the HTTP status and the
 * API, the rest is the body, for a request of one to three orders. Checks:
 * every outcome is a known one, SETTLE only with an event settled and
 * never for no answer, 401/403 or 5xx, nothing settled otherwise, reasons
 * and messages NUL-terminated printable ASCII, ids never touched, the
 * submission printable. Header-only: each target is its own program. */
#ifndef CASHBACK_FUZZ_PROFILE_H
#define CASHBACK_FUZZ_PROFILE_H

#include "cashback_options.h"
#include "cashback_profile.h"
#include "fuzz.h"

#include <string.h>

static const long STATUSES[] = {200, 200, 200, 400, 401, 403, 404,
                                413, 429, 500, 503, 302, 0};
static const char *const ORDERS[3] = {"1001", "1002", "1003"};

static void check_text(const char *s, size_t size) {
  size_t n = strnlen(s, size);
  CHECK(n < size);
  for (size_t i = 0; i < n; i++)
    CHECK((unsigned char)s[i] >= 0x20 && (unsigned char)s[i] <= 0x7e);
}

/* One input for the profile `profile` ("awin", "impact"). */
static int fuzz_profile_response(const char *profile, const uint8_t *data,
                                 size_t size) {
  static cashback_options *o;
  if (!o) {
    o = cashback_options_new();
    CHECK(o && cashback_options_set(o, "profile", profile) == CASHBACK_OK);
  }
  if (size < 2)
    return 0;
  long status = STATUSES[data[0] % (sizeof(STATUSES) / sizeof(STATUSES[0]))];
  size_t n = 1 + data[1] % 3;
  cashback__prequest req;
  cashback__prequest_init(&req);
  CHECK(cashback__prequest_orders(&req, n) == CASHBACK_OK);
  cashback__result r[3];
  for (size_t i = 0; i < n; i++) {
    memset(&r[i], 0x5a, sizeof(r[i]));
    memcpy(r[i].id, "0123456789abcdef0123456789abcde", 31);
    r[i].id[31] = (char)('0' + i);
    r[i].id[32] = '\0';
    memcpy(req.orders[i], ORDERS[i], 5);
  }
  req.n = n;
  req.api = 1 + (data[1] / 3) % 2;
  /* A heap copy of exactly the body: ASan catches a read past it. */
  size_t blen = size - 2;
  char *body = malloc(blen ? blen : 1);
  CHECK(body);
  memcpy(body, data + 2, blen);
  cashback__answer a;
  memset(&a, 0, sizeof(a));
  a.transport = status ? CASHBACK_OK : CASHBACK_E_NETWORK;
  a.status = status;
  a.body = body;
  a.body_len = blen;
  a.retry_after = "5";
  a.retry_after_len = 1;
  a.now_s = FUZZ_NOW;
  cashback__sent b = {r, n, n, 0, 0};
  cashback__decision d;
  char sub[CASHBACK__SUBMISSION_MAX + 1];
  memset(sub, 0x5a, sizeof(sub));
  cashback__profile_of(o)->classify(o, &req, &a, &b, &d, sub);
  check_text(sub, sizeof(sub));
  size_t settled = 0;
  for (size_t i = 0; i < n; i++) {
    CHECK(r[i].id[31] == (char)('0' + i) && r[i].id[32] == '\0');
    CHECK(r[i].outcome >= CASHBACK__OUTCOME_PENDING &&
          r[i].outcome <= CASHBACK__OUTCOME_RETRY);
    check_text(r[i].reason, sizeof(r[i].reason));
    check_text(r[i].message, sizeof(r[i].message));
    settled += r[i].outcome != CASHBACK__OUTCOME_PENDING;
  }
  /* Settling needs an answer that settles some event; anything else
   * leaves every event pending. */
  if (d.next == CASHBACK__NEXT_SETTLE)
    CHECK(settled > 0 && status && status != 401 && status != 403);
  else
    CHECK(settled == 0);
  if (!status || status == 401 || status == 403 || status >= 500)
    CHECK(d.next != CASHBACK__NEXT_SETTLE);
  free(body);
  cashback__prequest_free(&req);
  return 0;
}

#endif
