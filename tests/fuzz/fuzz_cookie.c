/*
 * Fuzz target for sdk/cashback_cookie.c, cashback_click_read() and
 * cashback_click_verify(). The input is a Cookie header, and also a click
 * handle. Checks:
 * - the iterator: names and values point inside the input, are trimmed, hold
 *   no ';' (and names no '='), the position only moves forward, and the
 *   iteration ends within `len` + 1 steps;
 * - read-back, with a client built once (fixed clock): the status is one of
 *   the documented ones; on success the click is a valid token from a valid
 *   source, captured within the window and not in the future; on failure
 *   the click is zeroed;
 * - the input as a handle: the status is one of the documented ones; on
 *   success the click is valid as above and its handle is the input, byte
 *   for byte, and the header "cashback_click=<input>" reads back the same
 *   click (one check for both); on failure the click is zeroed.
 * Seeds in corpus/cookie/ hold cookies signed by this very client, and bare
 * handles (handle_*).
 */
#include "cashback.h"
#include "fuzz.h"
#include "cashback_cookie.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define FUZZ_WINDOW INT64_C(2592000)

/* The target's own options (fuzz.h sets the common ones). */
static void cookie_options(cashback_options *o) {
  CHECK(cashback_options_set_attribution_window(o, FUZZ_WINDOW) == CASHBACK_OK);
}

static cashback_client *fuzz_client(void) {
  return fuzz_client_with(cookie_options);
}

static int is_ws(char c) {
  return c == ' ' || c == '\t';
}

static void check_iterator(const char *h, size_t len) {
  size_t pos = 0, steps = 0;
  const char *n, *v;
  size_t nl, vl;
  while (cashback__cookie_next(h, len, &pos, &n, &nl, &v, &vl)) {
    CHECK(++steps <= len + 1);
    CHECK(pos <= len);
    CHECK(n >= h && n + nl <= h + len);
    CHECK(v >= h && v + vl <= h + len);
    CHECK(v >= n + nl);       /* the value follows the name */
    CHECK(v + vl <= h + pos); /* both before the new position */
    CHECK(memchr(n, ';', nl) == NULL && memchr(n, '=', nl) == NULL);
    CHECK(memchr(v, ';', vl) == NULL);
    CHECK(nl == 0 || (!is_ws(n[0]) && !is_ws(n[nl - 1])));
    /* A value may end in a blank only inside removed quotes. */
    if (vl > 0 && (is_ws(v[0]) || is_ws(v[vl - 1])))
      CHECK(v > h && v[-1] == '"' && v + vl < h + len && v[vl] == '"');
  }
  CHECK(cashback__cookie_next(h, len, &pos, &n, &nl, &v, &vl) == 0);
}

static int check_failure(cashback_status st, const cashback_click *click) {
  if (st == CASHBACK_OK)
    return 0;
  CHECK(st == CASHBACK_E_CLICK_NONE || st == CASHBACK_E_CLICK_EXPIRED ||
        st == CASHBACK_E_CLICK_TAMPERED || st == CASHBACK_E_CLICK_MALFORMED);
  CHECK(click->size == sizeof(*click));
  CHECK(click->token[0] == '\0' && click->source[0] == '\0' &&
        click->handle[0] == '\0' && click->captured_at == 0);
  return 1;
}

static void check_click(const cashback_click *k) {
  const cashback_click click = *k;
  size_t hn = strnlen(click.handle, sizeof(click.handle));
  CHECK(hn >= 1 && hn <= CASHBACK_HANDLE_MAX);
  size_t tn = strnlen(click.token, sizeof(click.token));
  CHECK(tn >= 1 && tn <= CASHBACK_TOKEN_MAX);
  for (size_t i = 0; i < tn; i++)
    CHECK(strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                 "0123456789._~-",
                 click.token[i]) != NULL);
  size_t sn = strnlen(click.source, sizeof(click.source));
  CHECK(sn >= 1 && sn <= CASHBACK_PARAM_MAX);
  CHECK(click.captured_at >= FUZZ_NOW - FUZZ_WINDOW);
  CHECK(click.captured_at <= FUZZ_NOW + 300);
}

static void check_read(const char *h, size_t len) {
  cashback_client *c = fuzz_client();
  cashback_click click = {.size = sizeof(cashback_click)};
  cashback_status st = cashback_click_read(c, h, len, &click);
  if (check_failure(st, &click))
    return;
  check_click(&click);
}

static void check_verify(const char *h, size_t len) {
  cashback_client *c = fuzz_client();
  cashback_click click = {.size = sizeof(cashback_click)};
  cashback_status st = cashback_click_verify(c, h, len, &click);
  if (check_failure(st, &click))
    return;
  check_click(&click);
  CHECK(len <= CASHBACK_HANDLE_MAX && strlen(click.handle) == len &&
        memcmp(click.handle, h, len) == 0);
  char header[sizeof("cashback_click=") + CASHBACK_HANDLE_MAX];
  memcpy(header, "cashback_click=", 15);
  memcpy(header + 15, h, len);
  cashback_click read = {.size = sizeof(cashback_click)};
  CHECK(cashback_click_read(c, header, 15 + len, &read) == CASHBACK_OK);
  CHECK(strcmp(read.token, click.token) == 0 &&
        strcmp(read.source, click.source) == 0 &&
        strcmp(read.handle, click.handle) == 0 &&
        read.captured_at == click.captured_at);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const char *h = (const char *)data;
  check_iterator(h, size);
  check_read(h, size);
  check_verify(h, size);
  return 0;
}
