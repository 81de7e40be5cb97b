/* Fuzzes the event text parser (cashback_event_parse(), the value of the
 * X-Cashback-Event header). Invariants: no crash, no leak, no read past
 * the input; on failure no event and a printable, non-empty detail; the
 * same input gives the same answer twice; an accepted event that
 * finalizes serializes within the event cap. */
#include "cashback.h"
#include "fuzz.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  cashback_client *c = fuzz_client_with(NULL);
  /* An exact-size copy, so that ASan sees any read past `size`. */
  char *text = malloc(size ? size : 1);
  CHECK(text != NULL);
  if (size)
    memcpy(text, data, size);
  cashback_event *ev = NULL, *again = NULL;
  char detail[CASHBACK_ERROR_MAX + 1], detail2[CASHBACK_ERROR_MAX + 1];
  cashback_status st =
      cashback_event_parse(c, text, size, &ev, detail, sizeof(detail));
  cashback_status st2 =
      cashback_event_parse(c, text, size, &again, detail2, sizeof(detail2));
  CHECK(st == st2);
  CHECK(strcmp(detail, detail2) == 0);
  for (const char *p = detail; *p; p++)
    CHECK((unsigned char)*p >= 0x20 && (unsigned char)*p < 0x7f);
  if (st != CASHBACK_OK) {
    CHECK(ev == NULL && again == NULL);
    CHECK(detail[0] != '\0');
  } else {
    CHECK(ev != NULL && detail[0] == '\0');
    char *json = NULL;
    size_t len = 0;
    if (cashback_event_to_json(c, ev, &json, &len) == CASHBACK_OK) {
      CHECK(json != NULL && len <= CASHBACK_EVENT_JSON_MAX);
      cashback_free(json);
    }
  }
  cashback_event_free(ev);
  cashback_event_free(again);
  free(text);
  return 0;
}
