/* Unit test registry: one TCase factory per sdk/ source file. */
#ifndef CASHBACK_TESTS_H
#define CASHBACK_TESTS_H

#include <check.h>

#define CASHBACK_TEST(name) TCase *cashback_test_##name(void);
#include "tests.inc"
#undef CASHBACK_TEST

/* 1 when no byte of `s` is a control byte, DEL or above 0x7e: what the
 * SDK's messages hold (cashback_text.h). */
static inline int test_all_printable(const char *s) {
  for (; *s; s++)
    if ((unsigned char)*s < 0x20 || (unsigned char)*s >= 0x7f)
      return 0;
  return 1;
}

#endif
