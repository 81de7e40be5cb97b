/* cashback_version(): the library's version, as configure set it. */
#include "cashback.h"

const char *cashback_version(void) {
  return CASHBACK_VERSION;
}
