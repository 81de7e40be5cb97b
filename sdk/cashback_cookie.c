/* Cookie header parsing (RFC 6265 cookie-string, leniently).
 *
 * Pairs are separated by ';'. Spaces and tabs around names and values are
 * trimmed; a value wrapped in one pair of double quotes loses them. A piece
 * with no '=' is skipped (browsers differ on what it means); a piece with an
 * empty name ("=v") is returned with `name_len` 0, so callers never match
 * it. The first '=' splits name and value: "a=b=c" is "a" and "b=c". */
#include "cashback_cookie.h"
#include "cashback_ascii.h"

#include <string.h>

int cashback__cookie_next(const char *h, size_t len, size_t *pos,
                          const char **name, size_t *name_len,
                          const char **value, size_t *value_len) {
  if (h == NULL || pos == NULL || name == NULL || name_len == NULL ||
      value == NULL || value_len == NULL)
    return 0;
  while (*pos < len) {
    const char *piece = h + *pos;
    size_t rest = len - *pos;
    const char *semi = memchr(piece, ';', rest);
    size_t piece_len = semi != NULL ? (size_t)(semi - piece) : rest;
    *pos += piece_len + (semi != NULL ? 1 : 0);

    const char *eq = memchr(piece, '=', piece_len);
    if (eq == NULL)
      continue;
    const char *n = piece;
    size_t nl = (size_t)(eq - piece);
    const char *v = eq + 1;
    size_t vl = piece_len - nl - 1;
    cashback__ascii_trim(&n, &nl, " \t");
    cashback__ascii_trim(&v, &vl, " \t");
    if (vl >= 2 && v[0] == '"' && v[vl - 1] == '"') {
      v++;
      vl -= 2;
    }
    *name = n;
    *name_len = nl;
    *value = v;
    *value_len = vl;
    return 1;
  }
  return 0;
}
