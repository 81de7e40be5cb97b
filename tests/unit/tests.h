/* Unit test registry: one TCase factory per sdk/ source file. */
#ifndef CASHBACK_TESTS_H
#define CASHBACK_TESTS_H

#include <check.h>

#define CASHBACK_TEST(name) TCase *cashback_test_##name(void);
#include "tests.inc"
#undef CASHBACK_TEST

#endif
