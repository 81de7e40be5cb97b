/*
 * Fuzz target for the file loop of sdk/cashback_import.c: the read buffer,
 * its refills, and the skip of a record longer than the buffer. The first
 * byte of the input picks a tiny read buffer (32-159 bytes), the rest is
 * the CSV file. The file is imported (dry run) twice: in one pass, with a
 * buffer larger than the file, and with the tiny buffer. Checks:
 * - both report the same rows, at the same lines, in the same order: with
 *   the tiny buffer a row is either exactly the one-pass row (status, error,
 *   event id, type, order) or, when its record does not fit the buffer,
 *   skipped whole as too long; never a row the one-pass import does not
 *   have (a row taken from inside another record's quoted field);
 * - the one-pass rows are exactly the records after the header (blank
 *   lines aside), at the lines they start on, by an independent reading of
 *   the file's records here: a row never starts inside a quoted field;
 * - a record is skipped as too long only if it does not fit the buffer, and
 *   always if it is longer;
 * - the counts agree; with the tiny buffer the import fails only when the
 *   one-pass import does, or when the header does not fit the buffer.
 */
#include "cashback.h"
#include "fuzz.h"
#include "cashback_import.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define SKIP_PREFIX "the row is longer than"

static cashback_client *fuzz_client(void) {
  return fuzz_client_with(NULL);
}

/* The file the importer reads: one for the whole run, rewritten per input. */
static int fuzz_fd(void) {
  static FILE *f;
  if (f == NULL) {
    f = tmpfile();
    CHECK(f != NULL);
  }
  return fileno(f);
}

typedef struct row {
  uint64_t line;
  cashback_status status;
  int skipped_long; /* the too-long skip's error */
  uint32_t error;   /* hash of the error text */
  char id[CASHBACK_EVENT_ID_LEN + 1];
  char type[16];
  char order[CASHBACK_ID_MAX + 2];
} row;

typedef struct rows {
  row *r;
  size_t n, cap;
} rows;

static uint32_t fnv(const char *s) {
  uint32_t h = 2166136261u;
  for (; *s; s++)
    h = (h ^ (unsigned char)*s) * 16777619u;
  return h;
}

static void on_row(const cashback_import_row *in, void *ud) {
  rows *rs = ud;
  CHECK(rs->n < rs->cap);
  CHECK(in->line >= 1);
  CHECK(rs->n == 0 || in->line > rs->r[rs->n - 1].line);
  CHECK((in->status == CASHBACK_OK) == (in->event_id[0] != '\0'));
  row *r = &rs->r[rs->n++];
  r->line = in->line;
  r->status = in->status;
  r->skipped_long = in->status == CASHBACK_E_TOO_BIG &&
                    strncmp(in->error, SKIP_PREFIX, strlen(SKIP_PREFIX)) == 0;
  r->error = fnv(in->error);
  CHECK(strlen(in->event_id) < sizeof(r->id) &&
        strlen(in->type) < sizeof(r->type) &&
        strlen(in->order_id) < sizeof(r->order));
  memcpy(r->id, in->event_id, strlen(in->event_id) + 1);
  memcpy(r->type, in->type, strlen(in->type) + 1);
  memcpy(r->order, in->order_id, strlen(in->order_id) + 1);
}

static cashback_status import(int fd, size_t buf_size, rows *rs,
                              cashback_import_stats *stats) {
  CHECK(lseek(fd, 0, SEEK_SET) == 0);
  rs->n = 0;
  return cashback__import_fd(fuzz_client(), fd, "fuzz.csv",
                             CASHBACK_IMPORT_DRY_RUN, buf_size, on_row, rs,
                             stats);
}

/* The records of the file by an independent reading of RFC 4180 (the one
 * docs/cli.md describes): a quote opens a quoted field only at the start
 * of a field, "" inside it is a quote, a stray quote elsewhere is text
 * (the record is bad, but it ends where this says); a record ends at LF,
 * CRLF or a lone CR outside quotes, or at the end of the file. For each:
 * its first line (1 + the line ends before it, CRLF counting once), its
 * size, and whether the importer ignores it as a blank line. */
typedef struct span {
  uint64_t line;
  size_t size;
  int blank;
} span;

static size_t reference(const char *in, size_t len, span *out) {
  size_t i = len >= 3 && memcmp(in, "\xef\xbb\xbf", 3) == 0 ? 3 : 0, n = 0;
  uint64_t line = 1;
  while (i < len) {
    size_t start = i;
    int field_start = 1;
    for (;;) {
      if (i < len && field_start && in[i] == '"') {
        for (i++; i < len; i++)
          if (in[i] == '"') {
            if (i + 1 < len && in[i + 1] == '"')
              i++;
            else
              break;
          }
        if (i < len)
          i++; /* the closing quote */
      }
      while (i < len && in[i] != ',' && in[i] != '\r' && in[i] != '\n')
        i++;
      if (i >= len)
        break;
      if (in[i] == ',') {
        i++;
        field_start = 1;
        continue;
      }
      i += in[i] == '\r' && i + 1 < len && in[i + 1] == '\n' ? 2 : 1;
      break;
    }
    out[n].line = line;
    out[n].size = i - start;
    /* The importer ignores a record of one empty field: "" or nothing. */
    size_t k = start;
    if (k + 1 < i && in[k] == '"' && in[k + 1] == '"')
      k += 2;
    out[n].blank = k == i || in[k] == '\n' || in[k] == '\r';
    n++;
    for (size_t k = start; k < i; k++)
      line += in[k] == '\n' ||
              (in[k] == '\r' && (k + 1 >= len || in[k + 1] != '\n'));
  }
  return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 1)
    return 0;
  size_t small = 32 + data[0] % 128;
  const char *in = (const char *)data + 1;
  size_t len = size - 1;
  int fd = fuzz_fd();
  CHECK(ftruncate(fd, 0) == 0);
  CHECK(pwrite(fd, in, len, 0) == (ssize_t)len);

  rows a = {0}, b = {0};
  a.cap = b.cap = len + 2;
  a.r = malloc(a.cap * sizeof(row));
  b.r = malloc(b.cap * sizeof(row));
  span *ref = malloc((len + 1) * sizeof(span));
  CHECK(a.r && b.r && ref);
  size_t n_ref = reference(in, len, ref), first = 0;
  while (first < n_ref && ref[first].blank)
    first++; /* the header */
  cashback_import_stats sa = {.size = sizeof(sa)}, sb = {.size = sizeof(sb)};
  cashback_status st_a = import(fd, len + CASHBACK__IMPORT_BUF_MIN, &a, &sa);
  cashback_status st_b = import(fd, small, &b, &sb);

  if (st_a == CASHBACK_OK) {
    /* One pass: a row per record that is not blank after the header, at
     * the line that record starts on; none too long. */
    size_t k = 0;
    for (size_t j = first + 1; j < n_ref; j++) {
      if (ref[j].blank)
        continue;
      CHECK(k < a.n && a.r[k].line == ref[j].line && !a.r[k].skipped_long);
      k++;
    }
    CHECK(k == a.n && sa.rows == a.n);
  } else {
    CHECK(st_a == CASHBACK_E_FIELD && a.n == 0 && st_b != CASHBACK_OK);
  }
  if (st_b != CASHBACK_OK) {
    /* The header is bad in both, or does not fit the tiny buffer. */
    CHECK(st_b == CASHBACK_E_FIELD && b.n == 0 && sb.rows == 0);
    CHECK(st_a == st_b || (first < n_ref && ref[first].size >= small));
  } else {
    /* The tiny buffer: the same rows, or a record too long skipped whole. */
    CHECK(st_a == CASHBACK_OK && a.n == b.n && sa.rows == sb.rows);
    uint64_t lost = 0;
    for (size_t i = 0, j = first + 1; i < a.n; i++, j++) {
      const row *x = &a.r[i], *y = &b.r[i];
      while (ref[j].blank)
        j++;
      CHECK(x->line == y->line && ref[j].line == x->line);
      if (y->skipped_long) {
        CHECK(ref[j].size >= small);
        lost += x->status == CASHBACK_OK;
      } else {
        CHECK(ref[j].size <= small);
        CHECK(x->status == y->status && x->error == y->error &&
              strcmp(x->id, y->id) == 0 && strcmp(x->type, y->type) == 0 &&
              strcmp(x->order, y->order) == 0);
      }
    }
    CHECK(sb.imported + lost == sa.imported);
    CHECK(sb.skipped == sa.skipped + lost);
  }
  free(a.r);
  free(b.r);
  free(ref);
  return 0;
}
