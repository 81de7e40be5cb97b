/* CSV records (RFC 4180), one at a time, from a caller's buffer. */
#ifndef CASHBACK_CSV_H
#define CASHBACK_CSV_H

#include <stddef.h>

#define CASHBACK__CSV_FIELDS_MAX 64
#define CASHBACK__CSV_RECORD_MAX 65536 /* decoded bytes of one record */

/* One record: `n` fields, field i at data + off[i], len[i] bytes, each
 * followed by a NUL (a field may also contain none: NUL bytes are refused).
 * `lines` is the number of line ends the record consumed (its own and those
 * inside quoted fields), 0 for a last line without one. */
typedef struct cashback__csv_record {
  size_t n;
  size_t off[CASHBACK__CSV_FIELDS_MAX];
  size_t len[CASHBACK__CSV_FIELDS_MAX];
  size_t lines;
  char data[CASHBACK__CSV_RECORD_MAX + CASHBACK__CSV_FIELDS_MAX];
} cashback__csv_record;

typedef enum cashback__csv_result {
  CASHBACK__CSV_RECORD = 0, /* `rec` holds the next record */
  CASHBACK__CSV_MORE = 1,   /* the record is not complete in `len` bytes */
  CASHBACK__CSV_END = 2,    /* `eof` and nothing left */
  CASHBACK__CSV_BAD = 3     /* a malformed record, skipped; `*why` says why */
} cashback__csv_result;

/*
 * Parses the record at the start of the `len` bytes at `buf` (never read
 * past; no allocation). `eof` says no bytes follow these. Fields are
 * separated by ',', records end at LF, CRLF or a lone CR; a field in double
 * quotes may hold commas, line ends and doubled quotes (""). On RECORD and
 * BAD, `*used` is the bytes consumed and `rec->lines` the line ends among
 * them (a BAD record is consumed whole: where a record ends depends only on
 * its quotes and line ends, never on a problem found in it, so that no row
 * is ever read from inside a quoted field); on MORE nothing is consumed: call
 * again with more bytes, from the same start. BAD: a quote inside an unquoted
 * field, text after a closing quote (both read as text up to the field's end: a
 * quote opening a later field still opens one), a quote not closed at the end
 * of the input (consumed to the end), a NUL byte, more than
 * CASHBACK__CSV_FIELDS_MAX fields, or more than CASHBACK__CSV_RECORD_MAX
 * decoded bytes.
 */
cashback__csv_result cashback__csv_next(const char *buf, size_t len, int eof,
                                        cashback__csv_record *rec, size_t *used,
                                        const char **why);

/*
 * The end of a record too long for the caller's buffer, found without
 * keeping it: the caller feeds the record's bytes from its start, in pieces
 * of any size (refilling its buffer), until cashback__csv_skip_feed()
 * returns 1. It finds the end cashback__csv_next() would find (quotes, ""
 * and line ends across the pieces included) and counts the line ends alike.
 */
typedef struct cashback__csv_skip {
  int state;    /* internal */
  int prev_cr;  /* internal: the last byte was a CR */
  size_t lines; /* line ends in the record so far (as rec->lines) */
  int ended;    /* at the end: the record ended with a line end */
  int unclosed; /* at the end: a quoted field was not closed before the
                   end of the input (the record is the rest of it) */
} cashback__csv_skip;

void cashback__csv_skip_init(cashback__csv_skip *s);

/* Consumes the next `len` bytes of the record (`eof`: no bytes follow
 * them). 1: the record ends within them, after `*used` of them (with eof,
 * always); 0: all are consumed (`*used` = len), the record goes on. */
int cashback__csv_skip_feed(cashback__csv_skip *s, const char *buf, size_t len,
                            int eof, size_t *used);

#endif
