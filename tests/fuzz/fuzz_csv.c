/*
 * Fuzz target for sdk/cashback_csv.c. The input is CSV text. Checks:
 * - parsing it all at once (eof) and parsing it as it arrives (a window that
 *   grows by a byte whenever the parser asks for more) give the same
 *   results, consumed bytes and line counts;
 * - MORE never comes with eof; RECORD and BAD always consume something and
 *   never more than given; END only when nothing is left;
 * - every field lies inside the record's data, has the stated length (no
 *   NUL inside), and is NUL-terminated; the decoded total is within the cap;
 * - the line ends counted never exceed those in the consumed bytes;
 * - cashback__csv_skip_feed(), fed each record from its start in pieces
 *   (1 to 8 bytes), ends it at the same byte with the same line ends, and
 *   reports an unclosed quote exactly when the parser does.
 */
#include "cashback_csv.h"
#include "fuzz.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define MAX_RESULTS 4096

typedef struct result {
  cashback__csv_result r;
  size_t used, lines, n;
  uint32_t hash; /* of the fields */
} result;

static uint32_t fnv(uint32_t h, const char *p, size_t n) {
  for (size_t i = 0; i < n; i++)
    h = (h ^ (unsigned char)p[i]) * 16777619u;
  return h;
}

static void check_record(const cashback__csv_record *rec, const char *in,
                         size_t used) {
  size_t total = 0;
  CHECK(rec->n >= 1 && rec->n <= CASHBACK__CSV_FIELDS_MAX);
  for (size_t i = 0; i < rec->n; i++) {
    CHECK(rec->off[i] + rec->len[i] < sizeof(rec->data));
    CHECK(rec->data[rec->off[i] + rec->len[i]] == '\0');
    CHECK(memchr(rec->data + rec->off[i], '\0', rec->len[i]) == NULL);
    total += rec->len[i];
  }
  CHECK(total <= CASHBACK__CSV_RECORD_MAX);
  size_t ends = 0;
  for (size_t i = 0; i < used; i++)
    ends += in[i] == '\n' || in[i] == '\r';
  CHECK(rec->lines <= ends);
}

static uint32_t hash_fields(const cashback__csv_record *rec) {
  uint32_t h = 2166136261u;
  for (size_t i = 0; i < rec->n; i++) {
    h = fnv(h, rec->data + rec->off[i], rec->len[i]);
    h = fnv(h, ",", 1);
  }
  return h;
}

static void check_skip(const char *in, size_t len, cashback__csv_result r,
                       const char *why, size_t used, size_t lines) {
  cashback__csv_skip sk;
  cashback__csv_skip_init(&sk);
  size_t at = 0, got = 0;
  for (;;) {
    size_t piece = 1 + (at * 7 + len) % 8;
    size_t n = len - at < piece ? len - at : piece;
    if (cashback__csv_skip_feed(&sk, in + at, n, at + n >= len, &got))
      break;
    CHECK(got == n);
    at += n;
  }
  CHECK(at + got == used && sk.lines == lines);
  CHECK(sk.unclosed ==
        (r == CASHBACK__CSV_BAD && strstr(why, "not closed") != NULL));
}

static size_t run(const char *in, size_t len, int incremental,
                  cashback__csv_record *rec, result *out) {
  size_t pos = 0, avail = incremental ? 0 : len, n = 0;
  while (n < MAX_RESULTS) {
    size_t used = 7;
    const char *why = NULL;
    int eof = pos + avail >= len;
    cashback__csv_result r =
        cashback__csv_next(in + pos, avail, eof, rec, &used, &why);
    if (r == CASHBACK__CSV_MORE) {
      CHECK(!eof && used == 0);
      avail++;
      continue;
    }
    if (r == CASHBACK__CSV_END) {
      CHECK(eof && avail == 0);
      break;
    }
    CHECK(r == CASHBACK__CSV_RECORD || r == CASHBACK__CSV_BAD);
    CHECK(used > 0 && used <= avail);
    if (!incremental)
      check_skip(in + pos, avail, r, why, used, rec->lines);
    if (r == CASHBACK__CSV_RECORD) {
      CHECK(why == NULL);
      check_record(rec, in + pos, used);
    } else {
      CHECK(why != NULL && why[0] != '\0');
    }
    out[n].r = r;
    out[n].used = used;
    out[n].lines = rec->lines;
    out[n].n = r == CASHBACK__CSV_RECORD ? rec->n : 0;
    out[n].hash = r == CASHBACK__CSV_RECORD ? hash_fields(rec) : 0;
    n++;
    pos += used;
    avail -= used;
  }
  return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size > 4096)
    return 0; /* the incremental run is quadratic in a record's length */
  char *in = malloc(size ? size : 1);
  cashback__csv_record *rec = malloc(sizeof(*rec));
  result *a = malloc(MAX_RESULTS * sizeof(*a));
  result *b = malloc(MAX_RESULTS * sizeof(*b));
  if (in && rec && a && b) {
    memcpy(in, data, size);
    size_t na = run(in, size, 0, rec, a);
    size_t nb = run(in, size, 1, rec, b);
    CHECK(na == nb);
    for (size_t i = 0; i < na; i++)
      CHECK(a[i].r == b[i].r && a[i].used == b[i].used &&
            a[i].lines == b[i].lines && a[i].n == b[i].n &&
            a[i].hash == b[i].hash);
  }
  free(in);
  free(rec);
  free(a);
  free(b);
  return 0;
}
