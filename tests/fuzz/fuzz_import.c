/*
 * Fuzz target for the row mapping of sdk/cashback_import.c (columns onto
 * the event builder). The input is a CSV file: its first record is the
 * header, the others are rows. Checks:
 * a header is accepted or refused with a reason; a row gives an event or a
 * reason, never both; every event it gives finalizes and serializes (the
 * builder checked each field) unless finalize names a missing field, and
 * the JSON of an event is a single object; a refund always has an id that
 * does not change when it is serialized again (it came from refund_id).
 */
#include "cashback.h"
#include "fuzz.h"
#include "cashback_import.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static cashback_client *fuzz_client(void) {
  return fuzz_client_with(NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  cashback_client *c = fuzz_client();
  char *in = malloc(size ? size : 1);
  cashback__csv_record *rec = malloc(sizeof(*rec));
  cashback__columns *cols = malloc(sizeof(*cols));
  if (!in || !rec || !cols)
    goto out;
  memcpy(in, data, size);
  size_t pos = 0;
  int have_header = 0;
  for (int rows = 0; rows < 256; rows++) {
    size_t used;
    const char *why;
    cashback__csv_result r =
        cashback__csv_next(in + pos, size - pos, 1, rec, &used, &why);
    if (r == CASHBACK__CSV_END)
      break;
    CHECK(r == CASHBACK__CSV_RECORD || r == CASHBACK__CSV_BAD);
    pos += used;
    if (r == CASHBACK__CSV_BAD)
      continue;
    char err[CASHBACK_ERROR_MAX + 1] = "";
    if (!have_header) {
      cashback_status st = cashback__import_header(rec, cols, err, sizeof(err));
      CHECK(st == CASHBACK_OK || (st == CASHBACK_E_FIELD && err[0]));
      if (st != CASHBACK_OK)
        break;
      CHECK(cols->type_at >= 0 && cols->order_id_at >= 0);
      have_header = 1;
      continue;
    }
    cashback_event *ev = (cashback_event *)1;
    cashback_status st =
        cashback__import_row(c, cols, rec, &ev, err, sizeof(err));
    if (st != CASHBACK_OK) {
      CHECK(ev == NULL && err[0]);
      continue;
    }
    CHECK(ev != NULL);
    char id[CASHBACK_EVENT_ID_LEN + 1];
    st = cashback_event_finalize(c, ev, id);
    if (st == CASHBACK_OK) {
      char *json = NULL;
      size_t len = 0;
      CHECK(strlen(id) == CASHBACK_EVENT_ID_LEN);
      CHECK(cashback_event_to_json(c, ev, &json, &len) == CASHBACK_OK);
      CHECK(len > 2 && json[0] == '{' && json[len - 1] == '}');
      CHECK(strstr(json, id) != NULL);
      cashback_free(json);
      char again[CASHBACK_EVENT_ID_LEN + 1];
      CHECK(cashback_event_finalize(c, ev, again) == CASHBACK_OK);
      CHECK(strcmp(id, again) == 0);
    } else {
      CHECK(st == CASHBACK_E_FIELD || st == CASHBACK_E_AMOUNT);
      CHECK(cashback_event_last_error(ev)[0] != '\0');
    }
    cashback_event_free(ev);
  }
out:
  free(in);
  free(rec);
  free(cols);
  return 0;
}
