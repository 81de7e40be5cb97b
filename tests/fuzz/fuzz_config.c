/* Fuzzes the config parsers. The first byte selects the parser (even: config
 * file text, odd: connection string); the rest is its input. Invariants: no
 * crash, no leak, on error the options are byte-identical outside the error
 * field and the error is set, on success every field is still well formed. */
#include "cashback_config.h"
#include "cashback_options.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define SECRET "fuzz-secret-0123456789"

/* 1 when `needle` occurs in the `len` bytes at `p`. */
static int contains(const uint8_t *p, size_t len, const char *needle) {
  size_t n = strlen(needle);
  for (size_t i = 0; i + n <= len; i++)
    if (memcmp(p + i, needle, n) == 0)
      return 1;
  return 0;
}

static void check_field(const char *f, size_t size) {
  if (memchr(f, '\0', size) == NULL)
    abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 1)
    return 0;
  cashback_options o, before;
  cashback__options_defaults(&o);
  /* Start from a complete configuration so that failures have something
   * to (not) change. */
  if (cashback_options_set(&o, "merchant_id", "shop-42") != CASHBACK_OK ||
      cashback_options_set(&o, "key_id", "k2026") != CASHBACK_OK ||
      cashback_options_set(&o, "secret", SECRET) != CASHBACK_OK ||
      cashback_options_set(&o, "endpoint", "https://n.example/e") !=
          CASHBACK_OK)
    abort();
  memcpy(&before, &o, sizeof(o));

  const char *text = (const char *)data + 1;
  size_t len = size - 1;
  cashback_status st = (data[0] & 1)
                           ? cashback__config_parse_connection(&o, text, len)
                           : cashback__config_parse_text(&o, text, len, "fuzz");
  if (st != CASHBACK_OK) {
    size_t at = offsetof(cashback_options, error);
    size_t after = at + sizeof(o.error);
    if (memcmp(&o, &before, at) != 0 ||
        memcmp((char *)&o + after, (char *)&before + after,
               sizeof(o) - after) != 0)
      abort(); /* a failed load changed the options */
    if (o.error[0] == '\0')
      abort(); /* no detail */
    /* The stored secret never shows up in a detail (unless the input itself
     * carries that text, e.g. as an unknown key's name). */
    if (strstr(o.error, SECRET) && !contains(data, size, SECRET))
      abort();
  }
  check_field(o.error, sizeof(o.error));
  check_field(o.merchant_id, sizeof(o.merchant_id));
  check_field(o.key.id, sizeof(o.key.id));
  check_field(o.key.secret, sizeof(o.key.secret));
  check_field(o.next_key.id, sizeof(o.next_key.id));
  check_field(o.next_key.secret, sizeof(o.next_key.secret));
  check_field(o.endpoint, sizeof(o.endpoint));
  check_field(o.cookie_name, sizeof(o.cookie_name));
  check_field(o.cookie_domain, sizeof(o.cookie_domain));
  if (o.n_landing < 1 || o.n_landing > CASHBACK__LANDING_MAX)
    abort();
  for (size_t i = 0; i < o.n_landing; i++) {
    check_field(o.landing[i], sizeof(o.landing[i]));
    if (o.landing[i][0] == '\0')
      abort();
  }
  if (o.window < 1 || o.window > CASHBACK__WINDOW_MAX)
    abort();
  if ((int)o.log_min < 0 || (int)o.log_min > 3)
    abort();
  /* What was accepted can be set again through the text table. */
  if (st == CASHBACK_OK) {
    cashback_options again = o;
    if (cashback_options_set(&again, "merchant_id", o.merchant_id) !=
            CASHBACK_OK ||
        cashback_options_set(&again, "endpoint", o.endpoint) != CASHBACK_OK ||
        cashback_options_set(&again, "cookie_name", o.cookie_name) !=
            CASHBACK_OK ||
        cashback_options_set(&again, "cookie_domain", o.cookie_domain) !=
            CASHBACK_OK)
      abort();
    (void)cashback__options_check(&again);
  }
  return 0;
}
