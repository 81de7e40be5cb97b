/* Fuzzes the batch answer parser with a fixed batch of three ids. Checks:
 * an outcome changes only for an id that the input names, a failed parse
 * leaves every event PENDING, reason and message are NUL-terminated
 * printable ASCII, and ids are never touched. */
#include "cashback_response.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const IDS[3] = {"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
                                   "0123456789abcdef0123456789abcdef",
                                   "c8a9d4c385cc850fbc2aa93b160c738f"};

static void check_text(const char *s, size_t size) {
  size_t n = strnlen(s, size);
  if (n == size) /* not NUL-terminated */
    abort();
  for (size_t i = 0; i < n; i++)
    if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] > 0x7e)
      abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  cashback__result r[3];
  /* A heap copy of exactly `size` bytes: ASan catches any read past it. */
  char *body = malloc(size ? size : 1);
  if (!body)
    return 0;
  if (size)
    memcpy(body, data, size);
  for (int i = 0; i < 3; i++) {
    memset(&r[i], 0x5a, sizeof(r[i])); /* junk the parser must reset */
    memcpy(r[i].id, IDS[i], CASHBACK_EVENT_ID_LEN + 1);
  }
  cashback_status st = cashback__response_parse(body, size, r, 3);
  if (st != CASHBACK_OK && st != CASHBACK_E_PROTOCOL && st != CASHBACK_E_NOMEM)
    abort();
  for (int i = 0; i < 3; i++) {
    if (strcmp(r[i].id, IDS[i]) != 0)
      abort();
    check_text(r[i].reason, sizeof(r[i].reason));
    check_text(r[i].message, sizeof(r[i].message));
    if (r[i].outcome < CASHBACK__OUTCOME_PENDING ||
        r[i].outcome > CASHBACK__OUTCOME_RETRY)
      abort();
    if (r[i].outcome == CASHBACK__OUTCOME_PENDING) {
      if (r[i].reason[0] || r[i].message[0])
        abort();
      continue;
    }
    /* A settled event: the parse succeeded and the input names its id. */
    if (st != CASHBACK_OK || !memmem(body, size, IDS[i], CASHBACK_EVENT_ID_LEN))
      abort();
    if (r[i].outcome != CASHBACK__OUTCOME_REJECTED &&
        r[i].outcome != CASHBACK__OUTCOME_RETRY &&
        (r[i].reason[0] || r[i].message[0]))
      abort();
  }
  free(body);
  return 0;
}
