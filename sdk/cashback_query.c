/* Query-string parsing for landing requests.
 *
 * Decisions (see cashback_query.h for the contract):
 * - A request target is told from a raw query by its first bytes: it starts
 *   with '/' (origin form), '?' or "scheme://" (absolute form). Only then is
 *   everything up to the first '?' skipped (no '?': no query at all). A raw
 *   query is taken whole, so a later parameter holding an unencoded URL
 *   ("cb_click=T&next=/cart?x=1", legal in RFC 3986) does not hide the
 *   parameters before it. A '#' ends either.
 * - Names are compared as raw, undecoded bytes: "a%77c=1" is not "awc".
 *   Networks never encode their parameter names, and comparing raw bytes
 *   keeps one spelling per parameter, so two spellings cannot disagree.
 * - Values are percent-decoded strictly: '%' must be followed by two hex
 *   digits (either case); '+' is a space; every other byte is taken as is
 *   (the caller checks the character set of what it accepts).
 * - An occurrence with an empty value ("awc=" or a bare "awc") counts as
 *   absent; when the name occurs several times, every non-empty occurrence
 *   must decode to the same bytes. A bad escape in any occurrence of the
 *   name is malformed, even when another occurrence is fine. */
#include "cashback_query.h"
#include "cashback_pct.h"

#include <string.h>

/* Decodes the byte at v[*i] (of `len`), advancing *i. Returns the byte, or -1
 * for a bad escape or a decoded NUL. */
static int next_byte(const char *v, size_t len, size_t *i) {
  int b = cashback__pct_next(v, len, i, 1);
  return b == 0 ? -1 : b;
}

/* Decodes `v` into `out` (`size` bytes, room for a NUL kept). Returns the
 * decoded length, or -1 when malformed or too long. */
static long decode_into(const char *v, size_t len, char *out, size_t size) {
  size_t i = 0, n = 0;
  while (i < len) {
    int b = next_byte(v, len, &i);
    if (b < 0 || n + 1 >= size)
      return -1;
    out[n++] = (char)b;
  }
  out[n] = '\0';
  return (long)n;
}

/* Compares the decoding of `v` with `ref` (`ref_len` bytes): 1 equal,
 * 0 different, -1 malformed. */
static int decode_equals(const char *v, size_t len, const char *ref,
                         size_t ref_len) {
  size_t i = 0, n = 0;
  int same = 1;
  while (i < len) {
    int b = next_byte(v, len, &i);
    if (b < 0)
      return -1;
    if (n >= ref_len || (unsigned char)ref[n] != (unsigned char)b)
      same = 0;
    n++;
  }
  return same && n == ref_len;
}

/* 1 when `q` (`len` bytes) is a request target rather than a raw query:
 * it starts with '/', '?' or a URI scheme and "://". */
static int is_target(const char *q, size_t len) {
  if (len > 0 && (q[0] == '/' || q[0] == '?'))
    return 1;
  size_t i = 0;
  while (i < len &&
         ((q[i] >= 'A' && q[i] <= 'Z') || (q[i] >= 'a' && q[i] <= 'z') ||
          (i > 0 && ((q[i] >= '0' && q[i] <= '9') || q[i] == '+' ||
                     q[i] == '-' || q[i] == '.'))))
    i++;
  return i > 0 && len - i >= 3 && memcmp(q + i, "://", 3) == 0;
}

cashback_status cashback__query_param(const char *q, size_t len,
                                      const char *name, char *out, size_t size,
                                      size_t *out_len) {
  if ((q == NULL && len > 0) || name == NULL || out == NULL || size == 0)
    return CASHBACK_E_INVALID_ARGUMENT;
  out[0] = '\0';
  if (out_len != NULL)
    *out_len = 0;
  size_t name_len = strlen(name);
  if (len == 0)
    return CASHBACK_E_CLICK_NONE;

  /* The fragment ends everything; in a request target the query starts
   * after the first '?'. */
  const char *hash = memchr(q, '#', len);
  size_t end = hash != NULL ? (size_t)(hash - q) : len;
  size_t pos = 0;
  if (is_target(q, end)) {
    const char *qm = memchr(q, '?', end);
    pos = qm != NULL ? (size_t)(qm - q) + 1 : end;
  }

  int found = 0;
  size_t found_len = 0;
  while (pos <= end) {
    const char *amp = memchr(q + pos, '&', end - pos);
    size_t seg_end = amp != NULL ? (size_t)(amp - q) : end;
    const char *seg = q + pos;
    size_t seg_len = seg_end - pos;
    const char *eq = memchr(seg, '=', seg_len);
    size_t key_len = eq != NULL ? (size_t)(eq - seg) : seg_len;
    if (key_len == name_len && memcmp(seg, name, name_len) == 0) {
      const char *v = eq != NULL ? eq + 1 : seg + seg_len;
      size_t v_len = seg_len - (size_t)(v - seg);
      if (!found) {
        long n = decode_into(v, v_len, out, size);
        if (n < 0) {
          out[0] = '\0';
          return CASHBACK_E_CLICK_MALFORMED;
        }
        if (n > 0) {
          found = 1;
          found_len = (size_t)n;
        }
      } else {
        int eqv = decode_equals(v, v_len, out, found_len);
        /* An empty repeat is absent; any other difference is a conflict. */
        if (eqv < 0 || (eqv == 0 && v_len > 0)) {
          out[0] = '\0';
          return CASHBACK_E_CLICK_MALFORMED;
        }
      }
    }
    if (amp == NULL)
      break;
    pos = seg_end + 1;
  }
  if (!found)
    return CASHBACK_E_CLICK_NONE;
  if (out_len != NULL)
    *out_len = found_len;
  return CASHBACK_OK;
}
