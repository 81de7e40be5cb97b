/* Fuzzes the event builder (cashback_event_builder_*) against the event
 * text parser. The input is a list of fields: one byte choosing the key
 * (a name of the vocabulary, "meta.<k>", or an arbitrary key), one byte
 * of value length, the value's bytes. Invariants: no crash, no leak, no
 * read past the input; the first failure sticks (every later set and the
 * finish return it, the reported key and detail do not change); the detail
 * is printable and non-empty on failure; and the same fields given as
 * percent-encoded event text give cashback_event_parse() the same status,
 * the same detail and, on success, the same event. */
#include "cashback.h"
#include "fuzz.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const names[] = {
    "type",       "order_id",    "currency",  "amount",   "amount_minor",
    "click",      "click_token", "voucher",   "customer", "item",
    "order_time", "utc_offset",  "refund_id", "reason",   "test"};
#define N_NAMES (sizeof(names) / sizeof(names[0]))

/* Appends `n` bytes percent-encoded (every byte but [A-Za-z0-9]). */
static size_t encode(char *out, size_t at, const uint8_t *p, size_t n) {
  static const char hex[] = "0123456789ABCDEF";
  for (size_t i = 0; i < n; i++) {
    uint8_t c = p[i];
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
        (c >= '0' && c <= '9')) {
      out[at++] = (char)c;
    } else {
      out[at++] = '%';
      out[at++] = hex[c >> 4];
      out[at++] = hex[c & 15];
    }
  }
  return at;
}

/* Blanks the event id, random for a refund without a refund id. */
static void blank_id(char *json) {
  char *id = strstr(json, "\"id\":\"");
  if (id)
    for (char *p = id + 6; *p && *p != '"'; p++)
      *p = '0';
}

static void check_detail(const char *d, cashback_status st) {
  for (const char *p = d; *p; p++)
    CHECK((unsigned char)*p >= 0x20 && (unsigned char)*p < 0x7f);
  CHECK((st == CASHBACK_OK) == (d[0] == '\0'));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size > 4096)
    return 0; /* keeps the text form within the parser's 65536 bytes */
  cashback_client *c = fuzz_client_with(NULL);
  cashback_event_builder *b = cashback_event_builder_new(c);
  CHECK(b != NULL);
  /* The text form: keys as they are, values percent-encoded. */
  char *text = malloc(size * 3 + size * 16 + 1);
  CHECK(text != NULL);
  size_t tlen = 0;
  int differential = 1; /* only known keys have a text form to compare */
  cashback_status first = CASHBACK_OK;
  size_t pos = 0;
  while (pos + 2 <= size) {
    uint8_t which = data[pos], vlen = data[pos + 1];
    pos += 2;
    if (vlen > size - pos)
      vlen = (uint8_t)(size - pos);
    char key[16];
    size_t klen;
    if (which % 17 < N_NAMES) {
      klen = strlen(names[which % 17]);
      memcpy(key, names[which % 17], klen);
    } else if (which % 17 == N_NAMES) {
      /* meta.<one letter>, the letter from the key byte */
      klen = (size_t)snprintf(key, sizeof(key), "meta.%c", 'a' + which % 26);
    } else {
      /* an arbitrary key of up to 3 input bytes */
      klen = vlen < 3 ? vlen : 3;
      memcpy(key, data + pos, klen);
      pos += klen;
      vlen = (uint8_t)(vlen - klen);
      differential = 0;
    }
    cashback_status st = cashback_event_builder_set(
        b, key, klen, (const char *)data + pos, vlen);
    if (first != CASHBACK_OK)
      CHECK(st == first);
    else
      first = st;
    if (tlen)
      text[tlen++] = ';';
    memcpy(text + tlen, key, klen);
    tlen += klen;
    text[tlen++] = '=';
    tlen = encode(text, tlen, data + pos, vlen);
    pos += vlen;
  }
  const char *k1 = NULL;
  size_t kl1 = 0;
  char d1[CASHBACK_ERROR_MAX + 1];
  cashback_status e1 =
      cashback_event_builder_error(b, &k1, &kl1, d1, sizeof(d1));
  CHECK(e1 == first);
  cashback_event *ev = NULL;
  cashback_status st = cashback_event_builder_finish(b, &ev);
  if (first != CASHBACK_OK)
    CHECK(st == first);
  CHECK((st == CASHBACK_OK) == (ev != NULL));
  char d2[CASHBACK_ERROR_MAX + 1];
  CHECK(cashback_event_builder_error(b, NULL, NULL, d2, sizeof(d2)) == st);
  check_detail(d2, st);
  if (first != CASHBACK_OK)
    CHECK(strcmp(d1, d2) == 0);

  if (differential) {
    cashback_event *pev = NULL;
    char pd[CASHBACK_ERROR_MAX + 1];
    cashback_status pst =
        cashback_event_parse(c, text, tlen, &pev, pd, sizeof(pd));
    CHECK(pst == st);
    CHECK(strcmp(pd, d2) == 0);
    if (st == CASHBACK_OK) {
      char *a = NULL, *z = NULL;
      size_t al = 0, zl = 0;
      cashback_status ja = cashback_event_to_json(c, ev, &a, &al);
      cashback_status jz = cashback_event_to_json(c, pev, &z, &zl);
      CHECK(ja == jz);
      if (ja == CASHBACK_OK) {
        blank_id(a);
        blank_id(z);
        CHECK(al == zl && memcmp(a, z, al) == 0);
      }
      cashback_free(a);
      cashback_free(z);
    }
    cashback_event_free(pev);
  }
  cashback_event_free(ev);
  cashback_event_builder_free(b);
  free(text);
  return 0;
}
