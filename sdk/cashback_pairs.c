/* The `key=value;key=value` splitter and value decoder shared by the
 * connection string (cashback_config.c) and the event text
 * (cashback_fields.c). */
#include "cashback_pairs.h"
#include "cashback_ascii.h"
#include "cashback_pct.h"

#include <string.h>

void cashback__pairs_trim(const char **s, size_t *len) {
  cashback__ascii_trim(s, len, " \t\r\n");
}

void cashback__pairs_init(cashback__pairs *it, const char *s, size_t len) {
  it->s = s;
  it->len = len;
  it->pos = 0;
  it->index = 0;
}

int cashback__pairs_next(cashback__pairs *it, cashback__pair *out) {
  while (it->pos <= it->len) {
    const char *s = it->s + it->pos;
    size_t rest = it->len - it->pos;
    const char *semi = rest ? memchr(s, ';', rest) : NULL;
    size_t n = semi ? (size_t)(semi - s) : rest;
    it->pos += n + 1;
    it->index++;
    cashback__pairs_trim(&s, &n);
    if (n == 0)
      continue; /* ";;" or a trailing ';' */
    const char *eq = memchr(s, '=', n);
    out->index = it->index;
    out->key = s;
    out->key_len = eq ? (size_t)(eq - s) : n;
    cashback__pairs_trim(&out->key, &out->key_len);
    out->eq = eq != NULL;
    out->value = NULL;
    out->value_len = 0;
    if (eq) {
      out->value = eq + 1;
      out->value_len = n - (size_t)(out->value - s);
      cashback__pairs_trim(&out->value, &out->value_len);
    }
    return 1;
  }
  return 0;
}

cashback__pct_result cashback__pairs_decode(const char *v, size_t len,
                                            char *out, size_t cap,
                                            size_t *out_len) {
  size_t n = 0;
  cashback__pct_result r = CASHBACK__PAIRS_OK;
  for (size_t i = 0; i < len;) {
    int b = cashback__pct_next(v, len, &i, 0);
    if (b < 0) {
      r = CASHBACK__PAIRS_BAD_ESCAPE;
      break;
    }
    if (b == 0) {
      r = CASHBACK__PAIRS_NUL;
      break;
    }
    if (n == cap) {
      r = CASHBACK__PAIRS_TOO_LONG;
      break;
    }
    out[n++] = (char)b;
  }
  out[n] = '\0';
  *out_len = n;
  return r;
}
