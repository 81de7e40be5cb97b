#include "cashback_buf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void cashback__buf_init(cashback__buf *b, size_t max) {
  b->data = NULL;
  b->len = 0;
  b->cap = 0;
  b->max = max;
}

void cashback__buf_free(cashback__buf *b) {
  free(b->data);
  b->data = NULL;
  b->len = 0;
  b->cap = 0;
}

void cashback__buf_reset(cashback__buf *b) {
  b->len = 0;
  if (b->data)
    b->data[0] = '\0';
}

/* Makes room for `n` more bytes plus the terminating NUL. */
static cashback_status reserve(cashback__buf *b, size_t n) {
  if (n > b->max || b->len > b->max - n)
    return CASHBACK_E_TOO_BIG;
  size_t need = b->len + n + 1;
  if (need <= b->cap)
    return CASHBACK_OK;
  size_t cap = b->cap ? b->cap : 64;
  while (cap < need)
    cap = cap > SIZE_MAX / 2 ? need : cap * 2;
  if (cap > b->max + 1)
    cap = b->max + 1;
  char *p = realloc(b->data, cap);
  if (!p)
    return CASHBACK_E_NOMEM;
  b->data = p;
  b->cap = cap;
  return CASHBACK_OK;
}

cashback_status cashback__buf_reserve(cashback__buf *b, size_t n) {
  return reserve(b, n);
}

void cashback__buf_truncate(cashback__buf *b, size_t len) {
  if (len < b->len) {
    b->len = len;
    b->data[len] = '\0';
  }
}

cashback_status cashback__buf_add(cashback__buf *b, const void *p, size_t n) {
  cashback_status st = reserve(b, n);
  if (st != CASHBACK_OK)
    return st;
  if (n)
    memcpy(b->data + b->len, p, n);
  b->len += n;
  b->data[b->len] = '\0';
  return CASHBACK_OK;
}

cashback_status cashback__buf_adds(cashback__buf *b, const char *s) {
  return cashback__buf_add(b, s, strlen(s));
}

cashback_status cashback__buf_vaddf(cashback__buf *b, const char *fmt,
                                    va_list ap) {
  va_list ap2;
  va_copy(ap2, ap);
  int n = vsnprintf(NULL, 0, fmt, ap2);
  va_end(ap2);
  if (n < 0)
    return CASHBACK_E_INTERNAL;
  cashback_status st = reserve(b, (size_t)n);
  if (st != CASHBACK_OK)
    return st;
  vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
  b->len += (size_t)n;
  return CASHBACK_OK;
}

cashback_status cashback__buf_addf(cashback__buf *b, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  cashback_status st = cashback__buf_vaddf(b, fmt, ap);
  va_end(ap);
  return st;
}

/* The escape of byte c in a JSON string: 0 none, 'u' \u00xx, else the
 * letter after the backslash. */
static char json_escape(unsigned char c) {
  switch (c) {
  case '"':
    return '"';
  case '\\':
    return '\\';
  case '\b':
    return 'b';
  case '\f':
    return 'f';
  case '\n':
    return 'n';
  case '\r':
    return 'r';
  case '\t':
    return 't';
  default:
    return c < 0x20 ? 'u' : 0;
  }
}

size_t cashback__json_string_len(const char *s, size_t len) {
  size_t n = 2;
  const unsigned char *p = (const unsigned char *)s;
  for (const unsigned char *end = p + len; p < end; p++) {
    char e = *p < 0x20 || *p == '"' || *p == '\\' ? json_escape(*p) : 0;
    n += e == 'u' ? 6 : e ? 2 : 1;
  }
  return n;
}

cashback_status cashback__buf_add_json_string(cashback__buf *b, const char *s,
                                              size_t len) {
  static const char hex[] = "0123456789abcdef";
  size_t n = cashback__json_string_len(s, len);
  cashback_status st = reserve(b, n);
  if (st != CASHBACK_OK)
    return st;
  char *o = b->data + b->len;
  *o++ = '"';
  if (n == len + 2) {
    memcpy(o, s, len); /* nothing to escape: the usual case */
    o += len;
  } else {
    for (size_t i = 0; i < len; i++) {
      unsigned char c = (unsigned char)s[i];
      char e = c < 0x20 || c == '"' || c == '\\' ? json_escape(c) : 0;
      if (!e) {
        *o++ = (char)c;
        continue;
      }
      *o++ = '\\';
      *o++ = e;
      if (e == 'u') {
        *o++ = '0';
        *o++ = '0';
        *o++ = hex[c >> 4];
        *o++ = hex[c & 0x0f];
      }
    }
  }
  *o++ = '"';
  b->len += n;
  b->data[b->len] = '\0';
  return CASHBACK_OK;
}

cashback_status cashback__buf_add_int(cashback__buf *b, int64_t v) {
  char digits[24];
  char *end = digits + sizeof(digits), *p = end;
  /* In unsigned arithmetic: -INT64_MIN does not fit an int64_t. */
  uint64_t u = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;
  do {
    *--p = (char)('0' + u % 10);
    u /= 10;
  } while (u);
  if (v < 0)
    *--p = '-';
  return cashback__buf_add(b, p, (size_t)(end - p));
}

char *cashback__buf_detach(cashback__buf *b, size_t *len) {
  if (!b->data && reserve(b, 0) != CASHBACK_OK)
    return NULL;
  if (b->len == 0)
    b->data[0] = '\0';
  char *p = b->data;
  if (len)
    *len = b->len;
  b->data = NULL;
  b->len = 0;
  b->cap = 0;
  return p;
}

void *cashback__grow(void *items, size_t n, size_t *cap, size_t size,
                     size_t first) {
  if (n < *cap)
    return items;
  size_t nc = *cap ? *cap * 2 : first;
  if (nc <= *cap || nc > SIZE_MAX / size)
    return NULL;
  void *p = realloc(items, nc * size);
  if (p)
    *cap = nc;
  return p;
}
