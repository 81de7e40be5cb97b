/* The Cashback-Signature header: building, parsing, checking. */
#include "cashback_sign.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int cashback__id_valid(const char *s, size_t len) {
  if (s == NULL || len < 1 || len > CASHBACK_ID_MAX)
    return 0;
  for (size_t i = 0; i < len; i++) {
    unsigned char c = (unsigned char)s[i];
    if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
          (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-'))
      return 0;
  }
  return 1;
}

int cashback__secret_valid(const char *s, size_t len) {
  if (s == NULL || len < CASHBACK__SECRET_MIN || len > CASHBACK__SECRET_MAX)
    return 0;
  for (size_t i = 0; i < len; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c < 0x21 || c > 0x7e || c == ';' || c == '#')
      return 0;
  }
  return 1;
}
