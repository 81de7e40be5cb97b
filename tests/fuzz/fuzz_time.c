/*
 * Fuzz target for the RFC 3339 parser of sdk/cashback_time.c. Whatever
 * parses must be in range, format back through cashback__iso8601(), parse
 * again to the same instant and offset, and the formatted text must be
 * canonical (formatting the re-parse gives the same bytes). Whatever is
 * refused must leave the outputs untouched.
 */
#include "cashback_time.h"
#include "fuzz.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  /* An exact-size copy, so that ASan sees any read past `size`. */
  char *in = malloc(size ? size : 1);
  if (in == NULL)
    return 0;
  memcpy(in, data, size);
  int64_t t = -7;
  int off = 9999;
  cashback_status st = cashback__iso8601_parse(in, size, &t, &off);
  CHECK(st == CASHBACK_OK || st == CASHBACK_E_FIELD);
  if (st != CASHBACK_OK) {
    CHECK(t == -7 && off == 9999);
  } else {
    CHECK(t >= 0 && t <= INT64_C(253402300799));
    CHECK(off >= -840 && off <= 840);
    char buf[CASHBACK__ISO8601_MAX];
    CHECK(cashback__iso8601(t, off, buf) == CASHBACK_OK);
    int64_t t2 = 0;
    int off2 = 0;
    CHECK(cashback__iso8601_parse(buf, strlen(buf), &t2, &off2) == CASHBACK_OK);
    CHECK(t2 == t && off2 == off);
    char again[CASHBACK__ISO8601_MAX];
    CHECK(cashback__iso8601(t2, off2, again) == CASHBACK_OK);
    CHECK(strcmp(buf, again) == 0);
    int64_t t3 = 0;
    int off3 = 0;
    CHECK(cashback_time_parse(in, size, &t3, &off3) == CASHBACK_OK);
    CHECK(t3 == t && off3 == off);
  }
  free(in);
  return 0;
}
