/*
 * Fuzz target for sdk/cashback_query.c and cashback_capture(). The input is
 * a landing request target. Checks:
 * - the parser, for a few names and output sizes: on success the value is
 *   non-empty, NUL-terminated within the buffer, has no NUL inside, and
 *   percent-encoding it and parsing again gives it back; on failure the
 *   buffer holds "";
 * - capture, with a client built once (fixed clock): on success the
 *   Set-Cookie value has no CR, LF, NUL or other control byte, fits
 *   CASHBACK_SET_COOKIE_MAX, and reads back through cashback_click_read() to
 *   the token the parser found for the winning parameter.
 */
#include "cashback.h"
#include "fuzz.h"
#include "cashback_query.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define LANDING "cb_click,awc,utm.click"

static const char *const names[] = {"cb_click", "awc", "utm.click", "a", ""};

/* The target's own options (fuzz.h sets the common ones). */
static void query_options(cashback_options *o) {
  CHECK(cashback_options_set_landing_params(o, LANDING) == CASHBACK_OK);
}

static cashback_client *fuzz_client(void) {
  return fuzz_client_with(query_options);
}

static void check_param(const char *q, size_t len, const char *name,
                        size_t size) {
  char out[600];
  size_t n = 12345;
  CHECK(size <= sizeof(out));
  memset(out, 'Z', sizeof(out));
  cashback_status st = cashback__query_param(q, len, name, out, size, &n);
  if (st != CASHBACK_OK) {
    CHECK(st == CASHBACK_E_CLICK_NONE || st == CASHBACK_E_CLICK_MALFORMED);
    CHECK(out[0] == '\0' && n == 0);
    return;
  }
  CHECK(n >= 1 && n < size);
  CHECK(out[n] == '\0');
  CHECK(memchr(out, '\0', n) == NULL);
  for (size_t i = size; i < sizeof(out); i++)
    CHECK(out[i] == 'Z'); /* nothing written past `size` */

  /* Round trip: "name=%XX%XX..." parses back to the same bytes. */
  static const char hex[] = "0123456789ABCDEF";
  char enc[64 + 3 * sizeof(out)];
  size_t nl = strlen(name), e = 0;
  memcpy(enc, name, nl);
  e = nl;
  enc[e++] = '=';
  for (size_t i = 0; i < n; i++) {
    unsigned char b = (unsigned char)out[i];
    enc[e++] = '%';
    enc[e++] = hex[b >> 4];
    enc[e++] = hex[b & 15];
  }
  char back[sizeof(out)];
  size_t bn = 0;
  /* A '?' or '#' in the name would change what the parser skips. */
  if (strpbrk(name, "?#&=") == NULL) {
    CHECK(cashback__query_param(enc, e, name, back, size, &bn) == CASHBACK_OK);
    CHECK(bn == n && memcmp(back, out, n) == 0);
  }
}

static void check_capture(const char *q, size_t len) {
  cashback_client *c = fuzz_client();
  char sc[CASHBACK_SET_COOKIE_MAX + 1];
  cashback_status st = cashback_capture(c, q, len, sc, sizeof(sc));
  if (st != CASHBACK_OK) {
    CHECK(st == CASHBACK_E_CLICK_NONE || st == CASHBACK_E_CLICK_MALFORMED);
    CHECK(sc[0] == '\0');
    return;
  }
  size_t n = strlen(sc);
  CHECK(n > 0 && n <= CASHBACK_SET_COOKIE_MAX);
  for (size_t i = 0; i < n; i++) {
    unsigned char b = (unsigned char)sc[i];
    CHECK(b >= 0x20 && b < 0x7f);
  }
  /* The cookie pair: no space, quote, comma or ';' inside the value. */
  const char *semi = strchr(sc, ';');
  CHECK(semi != NULL);
  size_t pair_len = (size_t)(semi - sc);
  for (size_t i = 0; i < pair_len; i++)
    CHECK(strchr(" \",\\", sc[i]) == NULL);

  cashback_click click = {.size = sizeof(cashback_click)};
  CHECK(cashback_click_read(c, sc, pair_len, &click) == CASHBACK_OK);
  CHECK(click.captured_at == FUZZ_NOW);
  /* The winner is the first configured parameter with a valid token. */
  char tok[CASHBACK_TOKEN_MAX + 1];
  size_t tn = 0;
  CHECK(cashback__query_param(q, len, click.source, tok, sizeof(tok), &tn) ==
        CASHBACK_OK);
  CHECK(strcmp(tok, click.token) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const char *q = (const char *)data;
  static const size_t sizes[] = {1, 2, 17, 129, 600};
  for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
    for (size_t j = 0; j < sizeof(sizes) / sizeof(sizes[0]); j++)
      check_param(q, size, names[i], sizes[j]);
  check_capture(q, size);
  return 0;
}
