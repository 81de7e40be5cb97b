/* ASCII case folding, comparison, trimming, character classes and the
 * bounded copy (cashback_ascii.h). */
#include "cashback_ascii.h"

#include <string.h>

int cashback__ascii_lower(int c) {
  return (c >= 'A' && c <= 'Z') ? c + ('a' - 'A') : c;
}

int cashback__ascii_iprefix(const char *s, size_t len, const char *prefix) {
  size_t k = strlen(prefix);
  if (len < k)
    return 0;
  for (size_t i = 0; i < k; i++)
    if (cashback__ascii_lower((unsigned char)s[i]) !=
        cashback__ascii_lower((unsigned char)prefix[i]))
      return 0;
  return 1;
}

int cashback__ascii_ieq(const char *a, size_t alen, const char *b) {
  return alen == strlen(b) && cashback__ascii_iprefix(a, alen, b);
}

void cashback__ascii_trim(const char **s, size_t *len, const char *blanks) {
  const char *p = *s;
  size_t n = *len;
  while (n > 0 && p[0] != '\0' && strchr(blanks, p[0]) != NULL) {
    p++;
    n--;
  }
  while (n > 0 && p[n - 1] != '\0' && strchr(blanks, p[n - 1]) != NULL)
    n--;
  *s = p;
  *len = n;
}

int cashback__ascii_list_next(const char *s, size_t len, size_t *pos,
                              const char **item, size_t *ilen) {
  if (*pos > len)
    return 0;
  size_t end = *pos;
  while (end < len && s[end] != ',')
    end++;
  *item = s + *pos;
  *ilen = end - *pos;
  cashback__ascii_trim(item, ilen, " \t");
  *pos = end + 1;
  return 1;
}

static int is_alnum(unsigned char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
         (c >= '0' && c <= '9');
}

/* The class is chosen once, outside the loop over the bytes. */
size_t cashback__ascii_span(const char *s, size_t len,
                            cashback__ascii_class cls) {
  const unsigned char *p = (const unsigned char *)s;
  size_t i = 0;
  switch (cls) {
  case CASHBACK__ASCII_ID:
    while (i < len &&
           (is_alnum(p[i]) || p[i] == '.' || p[i] == '_' || p[i] == '-'))
      i++;
    break;
  case CASHBACK__ASCII_TOKEN:
    while (i < len && (is_alnum(p[i]) || p[i] == '.' || p[i] == '_' ||
                       p[i] == '-' || p[i] == '~'))
      i++;
    break;
  case CASHBACK__ASCII_GRAPH:
    while (i < len && p[i] >= 0x21 && p[i] <= 0x7e)
      i++;
    break;
  case CASHBACK__ASCII_HEX:
    while (i < len &&
           ((p[i] >= '0' && p[i] <= '9') || (p[i] >= 'a' && p[i] <= 'f')))
      i++;
    break;
  }
  return i;
}

int cashback__ascii_all(const char *s, size_t len, size_t min, size_t max,
                        cashback__ascii_class cls) {
  return s != NULL && len >= min && len <= max &&
         cashback__ascii_span(s, len, cls) == len;
}

size_t cashback__ascii_copy(char *dst, size_t size, const char *src,
                            size_t len) {
  if (size == 0)
    return 0;
  if (len >= size)
    len = size - 1;
  if (len > 0)
    memcpy(dst, src, len);
  dst[len] = '\0';
  return len;
}
