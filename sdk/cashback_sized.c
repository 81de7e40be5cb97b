#include "cashback_sized.h"

#include <stdio.h>
#include <string.h>

cashback_status cashback__sized_check(size_t size, size_t min, const char *what,
                                      size_t full, char *why, size_t why_size) {
  if (size >= min)
    return CASHBACK_OK;
  if (why && why_size)
    snprintf(why, why_size,
             "%s is %zu, less than the first layout's %zu bytes: set it to "
             "sizeof the struct (%zu in this version) before the call",
             what, size, min, full);
  return CASHBACK_E_INVALID_ARGUMENT;
}

void cashback__sized_copy(void *out, const void *full, size_t full_size) {
  size_t size;
  memcpy(&size, out, sizeof(size));
  size_t n = size < full_size ? size : full_size;
  if (n > sizeof(size_t))
    memcpy((char *)out + sizeof(size_t), (const char *)full + sizeof(size_t),
           n - sizeof(size_t));
}
