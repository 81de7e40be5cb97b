/*
 * cashback_report_text(): what every report-header shim (the Apache and
 * nginx modules, the middlewares) does with one instance of the
 * application's X-Cashback-Event header: parse it, give a sale that names
 * no click the request's, store it. One place for the sequence and for
 * the split the failure policy needs (the text is wrong: drop and log; a
 * valid event was not stored: pass and log, or 503).
 */
#include "cashback_client.h"
#include "cashback_event.h"

#include <stdio.h>
#include <string.h>

/* `text` into `detail` (bounded, NUL-terminated; NULL or 0 is fine). */
static void put_detail(char *detail, size_t size, const char *text) {
  if (detail && size)
    snprintf(detail, size, "%s", text ? text : "");
}

cashback_status cashback_report_text(cashback_client *client, const char *text,
                                     size_t len, const cashback_click *click,
                                     char *id, char *detail,
                                     size_t detail_size) {
  put_detail(detail, detail_size, "");
  if (!client || !text || !id) {
    put_detail(detail, detail_size, "client, text and id are required");
    return CASHBACK_E_INVALID_ARGUMENT;
  }
  id[0] = '\0';
  cashback_event *ev = NULL;
  cashback_status st =
      cashback_event_parse(client, text, len, &ev, detail, detail_size);
  if (st != CASHBACK_OK)
    return st;
  if (click &&
      (st = cashback_event_set_click_default(ev, click)) != CASHBACK_OK) {
    put_detail(detail, detail_size, cashback_event_last_error(ev));
  } else if ((st = cashback_report(client, ev, id)) == CASHBACK_E_FIELD) {
    put_detail(detail, detail_size, cashback_event_last_error(ev));
  } else if (st != CASHBACK_OK && detail && detail_size) {
    char why[CASHBACK_ERROR_MAX + 1] = "";
    (void)cashback_client_last_error(client, why, sizeof(why));
    snprintf(detail, detail_size, "%s: %s", cashback_strerror(st), why);
  }
  cashback_event_free(ev);
  return st;
}

int cashback_report_text_not_stored(cashback_status st) {
  return st == CASHBACK_E_SPOOL_FULL || st == CASHBACK_E_DISK_FULL ||
         st == CASHBACK_E_IO || st == CASHBACK_E_NOMEM ||
         st == CASHBACK_E_INTERNAL;
}
