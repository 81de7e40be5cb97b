#include "cashback_pct.h"
#include "cashback_crypto.h"

int cashback__pct_next(const char *v, size_t len, size_t *i,
                       int plus_is_space) {
  unsigned char c = (unsigned char)v[*i];
  if (c == '+' && plus_is_space) {
    (*i)++;
    return ' ';
  }
  if (c != '%') {
    (*i)++;
    return c;
  }
  if (len - *i < 3)
    return -1;
  int hi = cashback__hex_digit((unsigned char)v[*i + 1]);
  int lo = cashback__hex_digit((unsigned char)v[*i + 2]);
  if (hi < 0 || lo < 0)
    return -1;
  *i += 3;
  return hi * 16 + lo;
}
