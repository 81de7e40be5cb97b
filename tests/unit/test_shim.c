/* cashback_report_text(): a report header's event parsed, attributed to
 * the request's click and stored, and the two kinds of failure told apart
 * (sdk/cashback_shim.c). */
#include "cashback.h"
#include "fixture.h"
#include "tests.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char root[64];

static void setup(void) {
  snprintf(root, sizeof(root), "/tmp/cbshim-XXXXXX");
  ck_assert_ptr_nonnull(mkdtemp(root));
}

static void teardown(void) {
  char cmd[128];
  snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
  ck_assert_int_eq(system(cmd), 0);
}

static cashback_client *client(uint64_t max_bytes) {
  char dir[128];
  snprintf(dir, sizeof(dir), "%s/spool", root);
  return fixture_spool_client(dir, max_bytes);
}

static cashback_status report(cashback_client *c, const char *text,
                              const cashback_click *click, char *id,
                              char *detail) {
  return cashback_report_text(c, text, strlen(text), click, id, detail,
                              CASHBACK_ERROR_MAX + 1);
}

START_TEST(stores_with_the_request_click) {
  cashback_client *c = client(0);
  cashback_click click = {.size = sizeof(click)};
  snprintf(click.token, sizeof(click.token), "tokA");
  snprintf(click.source, sizeof(click.source), "cb_click");
  click.captured_at = 1700000000;
  char id[CASHBACK_EVENT_ID_LEN + 1] = "x";
  char detail[CASHBACK_ERROR_MAX + 1] = "x";
  /* Not NUL-terminated: only len bytes count. */
  const char *text = "type=sale;order_id=1001;amount=49.90;currency=EURjunk";
  ck_assert_int_eq(cashback_report_text(c, text, strlen(text) - 4, &click, id,
                                        detail, sizeof(detail)),
                   CASHBACK_OK);
  ck_assert_uint_eq(strlen(id), CASHBACK_EVENT_ID_LEN);
  ck_assert_str_eq(detail, "");
  /* The same sale is the same id (cashback_report()'s rule). */
  char again[CASHBACK_EVENT_ID_LEN + 1];
  ck_assert_int_eq(report(c,
                          "type=sale;order_id=1001;amount=49.90;currency=EUR",
                          &click, again, detail),
                   CASHBACK_OK);
  ck_assert_str_eq(again, id);
  /* The application's own click wins over the request's. */
  ck_assert_int_eq(report(c,
                          "type=sale;order_id=1001;amount=49.90;currency=EUR;"
                          "click_token=other",
                          &click, again, detail),
                   CASHBACK_OK);
  ck_assert_str_eq(again, id); /* the id is the order's and the type's */
  /* A sale needs a click: without the request's, this one has none. */
  cashback_status st =
      report(c, "type=sale;order_id=1001;amount=49.90;currency=EUR", NULL,
             again, detail);
  ck_assert_int_eq(st, CASHBACK_E_FIELD);
  ck_assert_int_eq(cashback_report_text_not_stored(st), 0);
  ck_assert_str_eq(again, "");
  ck_assert_str_ne(detail, "");
  ck_assert_int_eq(cashback_report_text_not_stored(CASHBACK_OK), 0);
  cashback_client_free(c);
}
END_TEST

START_TEST(a_bad_text_is_dropped_with_its_field) {
  cashback_client *c = client(0);
  char id[CASHBACK_EVENT_ID_LEN + 1] = "x";
  char detail[CASHBACK_ERROR_MAX + 1] = "";
  cashback_status st =
      report(c, "type=sale;order_id=1002;amount=49.999;currency=EUR", NULL, id,
             detail);
  ck_assert_int_ne(st, CASHBACK_OK);
  ck_assert_int_eq(cashback_report_text_not_stored(st), 0);
  ck_assert_str_eq(id, "");
  ck_assert_ptr_nonnull(strstr(detail, "amount"));
  st = report(c, "type=sale;order_id=1003;amount=1.00;currency=EUR;click=1.2.x",
              NULL, id, detail);
  ck_assert_int_ne(st, CASHBACK_OK);
  ck_assert_int_eq(cashback_report_text_not_stored(st), 0);
  ck_assert_ptr_null(strstr(detail, FIXTURE_SECRET));
  ck_assert_int_eq(cashback_report_text(NULL, "x", 1, NULL, id, NULL, 0),
                   CASHBACK_E_INVALID_ARGUMENT);
  ck_assert_int_eq(cashback_report_text(c, NULL, 0, NULL, id, detail, 8),
                   CASHBACK_E_INVALID_ARGUMENT);
  cashback_client_free(c);
}
END_TEST

START_TEST(a_full_spool_is_not_stored) {
  cashback_client *c = client(65536);
  char id[CASHBACK_EVENT_ID_LEN + 1];
  char detail[CASHBACK_ERROR_MAX + 1] = "";
  char text[4400];
  cashback_status st = CASHBACK_OK;
  for (int i = 0; i < 100 && st == CASHBACK_OK; i++) {
    snprintf(text, sizeof(text),
             "type=sale;order_id=f%d;amount=1.00;currency=EUR;"
             "click_token=tok;meta.pad=%04000d",
             i, 0);
    st = report(c, text, NULL, id, detail);
  }
  ck_assert_int_eq(st, CASHBACK_E_SPOOL_FULL);
  ck_assert_int_eq(cashback_report_text_not_stored(st), 1);
  ck_assert_ptr_nonnull(strstr(detail, "the spool is full: "));
  ck_assert_ptr_null(strstr(detail, FIXTURE_SECRET));
  ck_assert_int_eq(cashback_report_text_not_stored(CASHBACK_E_DISK_FULL), 1);
  ck_assert_int_eq(cashback_report_text_not_stored(CASHBACK_E_FIELD), 0);
  ck_assert_int_eq(cashback_report_text_not_stored(CASHBACK_E_CLICK_TAMPERED),
                   0);
  cashback_client_free(c);
}
END_TEST

TCase *cashback_test_shim(void) {
  TCase *tc = tcase_create("shim");
  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_add_test(tc, stores_with_the_request_click);
  tcase_add_test(tc, a_bad_text_is_dropped_with_its_field);
  tcase_add_test(tc, a_full_spool_is_not_stored);
  return tc;
}
