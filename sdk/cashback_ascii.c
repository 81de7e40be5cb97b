/* ASCII case folding and comparison (cashback_ascii.h). */
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
