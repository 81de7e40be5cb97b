/* Unit test registry: one TCase factory per sdk/ source file. */
#ifndef CASHBACK_TESTS_H
#define CASHBACK_TESTS_H

#include <check.h>

/* Each test file adds its tests with tcase_add_test() as usual; this routes
 * the call through main.c's cashback_test_register(), which keeps or drops
 * the test by the name given on the command line (unit GROUP/TEST, unit
 * TEST) and prints it for unit --list. So the test function itself is the
 * registry entry: there is no second list of test names to maintain. */
void cashback_test_register(TCase *tc, const TTest *test);
#undef tcase_add_test
#define tcase_add_test(tc, tf) cashback_test_register((tc), (tf))

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
