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
      if (p.i < len && buf[p.i] != ',' && buf[p.i] != '\r' && buf[p.i] != '\n')
        problem(&p, "text after the closing quote of a field");
    }
    /* An unquoted field, or text after a closing quote (a problem). A
     * problem never changes where the record ends: a quote that opens a
     * later field is still one, so that a bad record is skipped whole. */
    while (p.i < len && buf[p.i] != ',' && buf[p.i] != '\r' &&
           buf[p.i] != '\n') {
      if (buf[p.i] == '"')
        problem(&p, "a quote inside a field that does not start with one "
                    "(quote the whole field, and double the quote)");
      append(&p, buf[p.i++]);
    }
    if (p.i >= len && !eof)
      return CASHBACK__CSV_MORE;
    end_field(&p, start);
    if (p.i >= len)
      break; /* the last line, without a line end */
    char c = buf[p.i];
    if (c == ',') {
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

/* --- The end of a record too long to keep ------------------------------ */

/* The states of the skip, between two bytes. */
enum {
  SKIP_FIELD = 0, /* at the start of a field */
  SKIP_TEXT,      /* in an unquoted field, or after a closing quote */
  SKIP_QUOTED,    /* in a quoted field */
  SKIP_QUOTE,     /* a quote in a quoted field: doubled, or closing? */
  SKIP_CR         /* a CR ended the record: is an LF next? */
};

void cashback__csv_skip_init(cashback__csv_skip *s) {
  memset(s, 0, sizeof(*s));
}

int cashback__csv_skip_feed(cashback__csv_skip *s, const char *buf, size_t len,
                            int eof, size_t *used) {
  size_t i = 0;
  for (; i < len; i++) {
    char c = buf[i];
    if (s->state == SKIP_CR) {
      *used = i + (c == '\n'); /* CRLF, or a lone CR before this byte */
      s->ended = 1;
      return 1;
    }
    /* Line ends for the count: CRLF once, a lone CR or LF once. */
    if (c == '\r' || (c == '\n' && !s->prev_cr))
      s->lines++;
    s->prev_cr = c == '\r';
    switch (s->state) {
    case SKIP_QUOTED:
      if (c == '"')
        s->state = SKIP_QUOTE;
      continue;
    case SKIP_QUOTE:
      if (c == '"') {
        s->state = SKIP_QUOTED; /* a doubled quote */
        continue;
      }
      break; /* closed: the byte is read as after it */
    case SKIP_FIELD:
      if (c == '"') {
        s->state = SKIP_QUOTED;
        continue;
      }
      break;
    default:
      break;
    }
    /* Outside quotes. */
    if (c == ',') {
      s->state = SKIP_FIELD;
    } else if (c == '\n') {
      *used = i + 1;
      s->ended = 1;
      return 1;
    } else if (c == '\r') {
      s->state = SKIP_CR;
    } else {
      s->state = SKIP_TEXT;
    }
  }
  *used = len;
  if (!eof)
    return 0;
  s->unclosed = s->state == SKIP_QUOTED;
  s->ended = s->state == SKIP_CR;
  return 1;
}
