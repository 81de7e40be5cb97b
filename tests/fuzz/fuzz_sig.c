/* Fuzzes the Cashback-Signature parser; a parsed header is rebuilt and
 * re-parsed to the same value, and verified with a fixed verifier. */
#include "cashback_sign.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  cashback__sig_parsed p, q;
  char *h = NULL;
  char rebuilt[CASHBACK__SIG_HEADER_MAX * 4];
  char hex[2 * CASHBACK__SHA256_LEN + 1];
  int n;

  /* A private copy: the parser must not read one byte past `size`, which
   * ASan reports on a heap copy of exactly that size. */
  if (size > 0) {
    h = malloc(size);
    if (h == NULL)
      return 0;
    memcpy(h, data, size);
  }
  if (cashback__sig_parse(h, size, &p) != CASHBACK_OK) {
    free(h);
    return 0;
  }

  /* Invariants of a successful parse. */
  if (p.n < 1 || p.n > CASHBACK__SIG_MAX || p.t < 0 ||
      p.t > INT64_C(999999999999))
    abort();
  for (size_t i = 0; i < p.n; i++) {
    if (p.sigs[i].key_id < h ||
        p.sigs[i].key_id + p.sigs[i].key_id_len > h + size ||
        !cashback__id_valid(p.sigs[i].key_id, p.sigs[i].key_id_len))
      abort();
  }

  /* Round trip: the canonical form parses to the same value. */
  n = snprintf(rebuilt, sizeof rebuilt, "t=%lld", (long long)p.t);
  for (size_t i = 0; i < p.n; i++) {
    cashback__hex(p.sigs[i].mac, CASHBACK__SHA256_LEN, hex);
    n += snprintf(rebuilt + n, sizeof rebuilt - (size_t)n, ",v1=%.*s:%s",
                  (int)p.sigs[i].key_id_len, p.sigs[i].key_id, hex);
  }
  if (cashback__sig_parse(rebuilt, (size_t)n, &q) != CASHBACK_OK ||
      q.t != p.t || q.n != p.n)
    abort();
  for (size_t i = 0; i < p.n; i++) {
    if (q.sigs[i].key_id_len != p.sigs[i].key_id_len ||
        memcmp(q.sigs[i].key_id, p.sigs[i].key_id, p.sigs[i].key_id_len) != 0 ||
        memcmp(q.sigs[i].mac, p.sigs[i].mac, CASHBACK__SHA256_LEN) != 0)
      abort();
  }

  /* Verifying must not crash, and give one of the documented statuses. */
  cashback_verifier *v = cashback_verifier_new();
  if (v != NULL &&
      cashback_verifier_add_key(v, "k", "fuzz-secret-0123456789") ==
          CASHBACK_OK &&
      cashback_verifier_add_key(v, "key-2026-01",
                                "s3cr3t-for-tests-only-0001") == CASHBACK_OK) {
    char id[CASHBACK_ID_MAX + 1];
    cashback_status st =
        cashback_verifier_verify(v, h, size, data, size, p.t, id);
    if (st != CASHBACK_OK && st != CASHBACK_E_SIG_UNKNOWN_KEY &&
        st != CASHBACK_E_SIG_MISMATCH)
      abort();
    if (st == CASHBACK_OK && strcmp(id, "k") != 0 &&
        strcmp(id, "key-2026-01") != 0)
      abort();
    /* outside the default window: always a timestamp failure */
    if (cashback_verifier_verify(v, h, size, "", 0, p.t + 301, NULL) !=
        CASHBACK_E_SIG_TIMESTAMP)
      abort();
  }
  cashback_verifier_free(v);
  free(h);
  return 0;
}
