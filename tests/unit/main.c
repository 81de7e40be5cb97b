/* Runs every unit test group of tests.inc. Usage: unit [group]. */
#include "tests.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv) {
  const char *only = argc > 1 ? argv[1] : NULL;
  Suite *s = suite_create("libcashback");
  int added = 0;
#define CASHBACK_TEST(name)                                                    \
  if (!only || strcmp(only, #name) == 0) {                                     \
    suite_add_tcase(s, cashback_test_##name());                                \
    added++;                                                                   \
  }
#include "tests.inc"
#undef CASHBACK_TEST
  if (!added) {
    fprintf(stderr, "unit: no test group named '%s'\n", only);
    return 2;
  }
  SRunner *sr = srunner_create(s);
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
