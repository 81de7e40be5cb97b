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
 * BAD, `*used` is the bytes consumed (a BAD record is consumed up to the end
 * of its line, or of its last quoted field) and `rec->lines` the line ends
 * among them; on MORE nothing is consumed: call again with more bytes, from
 * the same start. BAD: a quote inside an unquoted field, text after a
 * closing quote, a quote not closed at the end of the input, a NUL byte,
 * more than CASHBACK__CSV_FIELDS_MAX fields, or more than
 * CASHBACK__CSV_RECORD_MAX decoded bytes.
 */
cashback__csv_result cashback__csv_next(const char *buf, size_t len, int eof,
                                        cashback__csv_record *rec, size_t *used,
                                        const char **why);

#endif
