/* cashback_strerror(): the text of each status (docs/errors.md has the
 * table; test_strerror.c checks every value has its own). */
#include "cashback.h"

const char *cashback_strerror(cashback_status status) {
  switch (status) {
  case CASHBACK_OK:
    return "success";
  case CASHBACK_E_INVALID_ARGUMENT:
    return "invalid argument";
  case CASHBACK_E_NOMEM:
    return "out of memory";
  case CASHBACK_E_CONFIG:
    return "bad or missing configuration";
  case CASHBACK_E_CLICK_NONE:
    return "no click token present";
  case CASHBACK_E_CLICK_EXPIRED:
    return "click is older than the attribution window";
  case CASHBACK_E_CLICK_TAMPERED:
    return "click cookie fails its signature check";
  case CASHBACK_E_CLICK_MALFORMED:
    return "click token or cookie is malformed";
  case CASHBACK_E_AMOUNT:
    return "amount is not exact or out of range";
  case CASHBACK_E_CURRENCY:
    return "not an active ISO 4217 currency";
  case CASHBACK_E_FIELD:
    return "an event field is invalid";
  case CASHBACK_E_TOO_BIG:
    return "a size limit was exceeded";
  case CASHBACK_E_SIG_MALFORMED:
    return "signature header is malformed";
  case CASHBACK_E_SIG_TIMESTAMP:
    return "signature timestamp is outside the replay window";
  case CASHBACK_E_SIG_UNKNOWN_KEY:
    return "no signature by a known key";
  case CASHBACK_E_SIG_MISMATCH:
    return "signature does not match the body";
  case CASHBACK_E_CRYPTO:
    return "the crypto library failed";
  case CASHBACK_E_IO:
    return "a file system operation failed";
  case CASHBACK_E_INTERNAL:
    return "internal error in libcashback";
  case CASHBACK_E_SPOOL_FULL:
    return "the spool is full";
  case CASHBACK_E_DISK_FULL:
    return "no space left on the disk";
  case CASHBACK_E_NETWORK:
    return "cannot reach the network";
  case CASHBACK_E_HTTP:
    return "the network answered with an HTTP error";
  case CASHBACK_E_AUTH:
    return "the network refused the key; sending is paused";
  case CASHBACK_E_BUSY:
    return "another sender is draining this spool";
  case CASHBACK_E_TIMEOUT:
    return "timed out";
  case CASHBACK_E_NOT_FOUND:
    return "not found";
  case CASHBACK_E_PROTOCOL:
    return "the network's answer does not follow the protocol";
  }
  return "unknown status";
}
