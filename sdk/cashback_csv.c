/*
 * CSV records (RFC 4180). The parser is restartable rather than stateful:
 * a record that does not fit the bytes given yet is parsed again from its
 * start once more bytes are there, so the caller only keeps a buffer.
 */
#include "cashback_csv.h"

#include <string.h>

typedef struct parse {
  const char *buf;
  size_t len;
  int eof;
  size_t i;
  cashback__csv_record *rec;
  size_t dlen;       /* bytes used in rec->data, NULs included */
  size_t decoded;    /* decoded bytes of the record */
  const char *error; /* the first problem, or NULL */
} parse;

static void problem(parse *p, const char *why) {
  if (!p->error)
    p->error = why;
}

static void append(parse *p, char c) {
  if (c == '\0')
    problem(p, "a NUL byte");
  if (++p->decoded > CASHBACK__CSV_RECORD_MAX)
    problem(p, "the record is longer than 65536 bytes");
  if (!p->error && p->rec->n < CASHBACK__CSV_FIELDS_MAX)
    p->rec->data[p->dlen++] = c;
}

static void end_field(parse *p, size_t start) {
  cashback__csv_record *r = p->rec;
  if (r->n >= CASHBACK__CSV_FIELDS_MAX) {
    problem(p, "more than 64 fields");
    return;
  }
  if (!p->error) {
    r->off[r->n] = start;
    r->len[r->n] = p->dlen - start;
    r->data[p->dlen++] = '\0';
  }
  r->n++;
}

/* After an unrecoverable problem: to the next line end, quotes ignored.
 * 0 when the line does not end within the bytes given (and more follow). */
static int skip_line(parse *p) {
  while (p->i < p->len && p->buf[p->i] != '\n' && p->buf[p->i] != '\r')
    p->i++;
  return p->i < p->len || p->eof;
}

/* A quoted field, p->i just past its opening quote. 1: done (p->i past
 * the closing quote); 0: more bytes needed; -1: not closed at the end. */
static int quoted(parse *p) {
  for (;;) {
    if (p->i >= p->len)
      return p->eof ? -1 : 0;
    char c = p->buf[p->i];
    if (c == '"') {
      if (p->i + 1 >= p->len && !p->eof)
        return 0;
      if (p->i + 1 < p->len && p->buf[p->i + 1] == '"') {
        append(p, '"');
        p->i += 2;
        continue;
      }
      p->i++;
      return 1;
    }
    if (c == '\r') {
      if (p->i + 1 >= p->len && !p->eof)
        return 0;
      if (p->i + 1 >= p->len || p->buf[p->i + 1] != '\n')
        p->rec->lines++;
    } else if (c == '\n') {
      p->rec->lines++;
    }
    append(p, c);
    p->i++;
  }
}

cashback__csv_result cashback__csv_next(const char *buf, size_t len, int eof,
                                        cashback__csv_record *rec, size_t *used,
                                        const char **why) {
  parse p = {buf, len, eof, 0, rec, 0, 0, NULL};
  rec->n = 0;
  rec->lines = 0;
  *used = 0;
  *why = NULL;
  if (len == 0)
    return eof ? CASHBACK__CSV_END : CASHBACK__CSV_MORE;
  for (;;) {
    size_t start = p.dlen;
    int broken = 0; /* the line's structure is lost: skip to its end */
    if (p.i < len && buf[p.i] == '"') {
      p.i++;
      int q = quoted(&p);
      if (q == 0)
        return CASHBACK__CSV_MORE;
      if (q < 0) {
        *used = len;
        *why = "a quoted field is not closed before the end of the file";
        return CASHBACK__CSV_BAD;
      }
      if (p.i < len && buf[p.i] != ',' && buf[p.i] != '\r' &&
          buf[p.i] != '\n') {
        problem(&p, "text after the closing quote of a field");
        broken = 1;
      }
    } else {
      while (p.i < len && buf[p.i] != ',' && buf[p.i] != '\r' &&
             buf[p.i] != '\n') {
        if (buf[p.i] == '"') {
          problem(&p, "a quote inside a field that does not start with one "
                      "(quote the whole field, and double the quote)");
          broken = 1;
          break;
        }
        append(&p, buf[p.i++]);
      }
      if (!broken && p.i >= len && !eof)
        return CASHBACK__CSV_MORE;
    }
    if (broken) {
      if (!skip_line(&p))
        return CASHBACK__CSV_MORE;
    } else {
      end_field(&p, start);
    }
    if (p.i >= len)
      break; /* the last line, without a line end */
    char c = buf[p.i];
    if (c == ',' && !broken) {
      p.i++;
      continue;
    }
    if (c == '\r') {
      if (p.i + 1 >= len && !eof)
        return CASHBACK__CSV_MORE;
      p.i += p.i + 1 < len && buf[p.i + 1] == '\n' ? 2 : 1;
    } else {
      p.i++;
    }
    rec->lines++;
    break;
  }
  *used = p.i;
  if (p.error) {
    *why = p.error;
    return CASHBACK__CSV_BAD;
  }
  return CASHBACK__CSV_RECORD;
}
