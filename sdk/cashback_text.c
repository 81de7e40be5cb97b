/* Making untrusted text printable for messages (cashback_text.h). */
#include "cashback.h"
#include "cashback_text.h"

#include <stdio.h>
#include <string.h>

#define MARKER "..."
#define MARKER_LEN 3

static size_t shown_len(unsigned char c) {
  return (c >= 0x20 && c < 0x7f) ? 1 : 4;
}

static size_t show(char *out, unsigned char c) {
  static const char hex[] = "0123456789abcdef";
  if (c >= 0x20 && c < 0x7f) {
    out[0] = (char)c;
    return 1;
  }
  out[0] = '\\';
  out[1] = 'x';
  out[2] = hex[c >> 4];
  out[3] = hex[c & 0xf];
  return 4;
}

/* `cut`: the text is known to go on past `len` bytes (marked in any case). */
static size_t printable(char *out, size_t size, const unsigned char *p,
                        size_t len, int cut) {
  if (!out || size == 0)
    return 0;
  if (!p)
    len = 0;
  size_t cap = size - 1, o = 0, i = 0;
  /* Whole when everything fits; else stop where the marker still fits. */
  size_t need = 0;
  for (size_t j = 0; j < len && need <= cap; j++)
    need += shown_len(p[j]);
  if (!cut && need <= cap) {
    for (; i < len; i++)
      o += show(out + o, p[i]);
    out[o] = '\0';
    return o;
  }
  size_t room = cap >= MARKER_LEN ? cap - MARKER_LEN : 0;
  for (; i < len && o + shown_len(p[i]) <= room; i++)
    o += show(out + o, p[i]);
  size_t m = cap - o < MARKER_LEN ? cap - o : MARKER_LEN;
  memcpy(out + o, MARKER, m);
  o += m;
  out[o] = '\0';
  return o;
}

size_t cashback__printable(char *out, size_t size, const void *in, size_t len) {
  return printable(out, size, in, len, 0);
}

size_t cashback_printable(char *out, size_t size, const char *text,
                          size_t len) {
  return printable(out, size, (const unsigned char *)text, len, 0);
}

size_t cashback_vprintablef(char *out, size_t size, const char *fmt,
                            va_list ap) {
  if (!out || size == 0)
    return 0;
  /* One byte more than fits: a longer text shows its marker. */
  char buf[CASHBACK__PRINTABLEF_MAX + 1];
  size_t bsize = size + 1 <= sizeof(buf) ? size + 1 : sizeof(buf);
  int n = vsnprintf(buf, bsize, fmt, ap);
  if (n < 0)
    n = 0;
  size_t len = (size_t)n < bsize ? (size_t)n : bsize - 1;
  return printable(out, size, (const unsigned char *)buf, len, (size_t)n > len);
}

size_t cashback_printablef(char *out, size_t size, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  size_t n = cashback_vprintablef(out, size, fmt, ap);
  va_end(ap);
  return n;
}

/* strerror_r comes in two flavours (XSI returns int, GNU returns char *);
 * the right reading of its result is picked at compile time. */
__attribute__((unused)) static const char *errtext_gnu(char *r, char *buf) {
  (void)buf;
  return r;
}
__attribute__((unused)) static const char *errtext_xsi(int r, char *buf) {
  return r == 0 ? buf : "unknown error";
}

const char *cashback__errtext(int e, char *buf, size_t size) {
  if (size == 0)
    return "unknown error";
  buf[0] = '\0';
  return _Generic(strerror_r(e, buf, size), char *: errtext_gnu,
                  default: errtext_xsi)(strerror_r(e, buf, size), buf);
}
