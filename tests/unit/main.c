/* Runs the unit tests of tests.inc.
 *
 * Usage: unit                 every test of every group
 *        unit GROUP           every test of one group (test_GROUP.c)
 *        unit GROUP/TEST      one test
 *        unit TEST            one test, when no other group has that name
 *        unit --list          every test, one GROUP/TEST a line
 *
 * A group is a file (tests.inc); a test is a START_TEST function, added by
 * the group's factory with tcase_add_test(), which tests.h routes through
 * cashback_test_register() below. An unknown or ambiguous name is an error
 * (exit status 2). */
#include "tests.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* What the factories' tcase_add_test() calls see. The runner's one piece of
 * global state: the factories take no argument and Check's TCase carries no
 * user data, so the selection reaches cashback_test_register() this way. */
static struct {
  const char *group; /* the group whose factory is running */
  const char *test;  /* keep only this test; NULL: keep every test */
  int list;          /* print GROUP/TEST instead of adding */
  int added;         /* tests added by the running factory */
} sel;

void cashback_test_register(TCase *tc, const TTest *test) {
  if (sel.list) {
    printf("%s/%s\n", sel.group, test->name);
    return;
  }
  if (sel.test && strcmp(sel.test, test->name) != 0)
    return;
  tcase_add_test_raise_signal(tc, test, 0);
  sel.added++;
}

struct group {
  const char *name;
  TCase *(*factory)(void);
};

static const struct group groups[] = {
#define CASHBACK_TEST(name) {#name, cashback_test_##name},
#include "tests.inc"
#undef CASHBACK_TEST
};
#define NGROUPS (sizeof groups / sizeof groups[0])

static int usage(FILE *to) {
  fprintf(to, "usage: unit [GROUP | GROUP/TEST | TEST | --list]\n"
              "groups:");
  for (size_t i = 0; i < NGROUPS; i++)
    fprintf(to, " %s", groups[i].name);
  fprintf(to, "\n");
  return to == stdout ? EXIT_SUCCESS : 2;
}

/* Calls every factory with `sel` as set by the caller (group by group);
 * factories whose group `only_group` excludes, or which added no test, go
 * into `unused`, the rest into `run`. Returns the number of groups that
 * added a test. */
static int build(Suite *run, Suite *unused, const char *only_group,
                 const char **last) {
  int groups_added = 0;
  for (size_t i = 0; i < NGROUPS; i++) {
    int wanted = !only_group || strcmp(only_group, groups[i].name) == 0;
    sel.group = groups[i].name;
    sel.added = 0;
    int list = sel.list;
    sel.list = list && wanted;
    const char *test = sel.test;
    if (!wanted)
      sel.test = ""; /* no test has an empty name: keeps none */
    TCase *tc = groups[i].factory();
    sel.test = test;
    sel.list = list;
    if (sel.added) {
      suite_add_tcase(run, tc);
      groups_added++;
      *last = groups[i].name;
    } else {
      suite_add_tcase(unused, tc); /* freed with the runner */
    }
  }
  return groups_added;
}

int main(int argc, char **argv) {
  const char *arg = argc > 1 ? argv[1] : NULL;
  if (argc > 2)
    return usage(stderr);
  if (arg && (strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0))
    return usage(stdout);

  char *group = NULL;
  if (arg && strcmp(arg, "--list") == 0) {
    sel.list = 1;
  } else if (arg) {
    const char *slash = strchr(arg, '/');
    int is_group = 0;
    for (size_t i = 0; i < NGROUPS; i++)
      if (strcmp(arg, groups[i].name) == 0)
        is_group = 1;
    if (slash) {
      size_t n = (size_t)(slash - arg);
      group = malloc(n + 1);
      if (!group)
        return EXIT_FAILURE;
      memcpy(group, arg, n);
      group[n] = '\0';
      sel.test = slash + 1;
    } else if (is_group) {
      group = strdup(arg);
      if (!group)
        return EXIT_FAILURE;
    } else {
      sel.test = arg;
    }
  }

  Suite *s = suite_create("libcashback");
  Suite *unused = suite_create("unused");
  SRunner *sr = srunner_create(s);
  SRunner *sr_unused = srunner_create(unused); /* never run: frees them */
  const char *last = NULL;
  int groups_added = build(s, unused, group, &last);
  int rc;
  if (sel.list) {
    rc = EXIT_SUCCESS;
  } else if (groups_added == 0) {
    fprintf(stderr,
            "unit: no test group or test named '%s' (unit --list lists them)\n",
            arg);
    rc = 2;
  } else if (sel.test && groups_added > 1) {
    fprintf(stderr,
            "unit: test '%s' is in more than one group (last: %s): "
            "name it as GROUP/TEST (unit --list)\n",
            arg, last);
    rc = 2;
  } else {
    srunner_run_all(sr, CK_NORMAL);
    rc = srunner_ntests_failed(sr) == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
  }
  srunner_free(sr);
  srunner_free(sr_unused);
  free(group);
  return rc;
}
