/*
 * Importing a shop's CSV export: each row becomes a sale, refund, cancel or
 * confirm event in the spool. The columns are the field keys of the event
 * vocabulary (docs/events.md, sdk/cashback_fields.c), and every cell goes
 * through the event builder under its column's key; the importer adds only
 * the CSV's own names for lists (`vouchers`, `items`), the bare token its
 * `click` column has always taken, and its wording of a few messages.
 * Event ids are derived from the merchant, the order and (for refunds) the
 * refund id, so importing a file again reports the same ids, which the
 * network counts once.
 */
#include "cashback_import.h"
#include "cashback_ascii.h"
#include "cashback_client.h"
#include "cashback_fields.h"
#include "cashback_sign.h"
#include "cashback_sized.h"
#include "cashback_text.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define BLANKS " \t"
#define META "meta."
#define META_LEN (sizeof(META) - 1)

/* The CSV's own names of columns that hold a list of values of one field:
 * split at `split`, each value trimmed, empty ones skipped. */
static const struct alias {
  const char *column, *key, *split;
} aliases[] = {
    {"vouchers", "voucher", BLANKS "|"},
    {"items", "item", "|"},
};

#define N_ALIASES (sizeof(aliases) / sizeof(aliases[0]))

static void say(char *err, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void say(char *err, size_t size, const char *fmt, ...) {
  if (err && size) {
    va_list ap;
    va_start(ap, fmt);
    cashback__vprintablef(err, size, fmt, ap);
    va_end(ap);
  }
}

/* The field without surrounding blanks: start and length. */
static const char *cell(const cashback__csv_record *rec, int at, size_t *len) {
  *len = 0;
  if (at < 0 || (size_t)at >= rec->n)
    return "";
  const char *s = rec->data + rec->off[at];
  *len = rec->len[at];
  cashback__ascii_trim(&s, len, BLANKS);
  return s;
}

/* A NUL-terminated copy of a cell into `buf`, cut to its size. */
static const char *cell_str(const cashback__csv_record *rec, int at, char *buf,
                            size_t size) {
  size_t n;
  const char *s = cell(rec, at, &n);
  cashback__ascii_copy(buf, size, s, n);
  return buf;
}

static int key_is(const cashback__column *col, const char *key) {
  return strlen(key) == col->key_len &&
         memcmp(col->key, key, col->key_len) == 0;
}

/* --- The header --------------------------------------------------------- */

/* "header: unknown column 'x' (known: ...)", from the vocabulary's table
 * and the CSV's own names. */
static void say_unknown(char *err, size_t size, const char *name, size_t n) {
  char known[512] = "";
  size_t o = 0;
  for (size_t i = 0; cashback__field_at(i) && o < sizeof(known); i++)
    if (strcmp(cashback__field_at(i)->name, META) != 0)
      o += (size_t)snprintf(known + o, sizeof(known) - o, "%s, ",
                            cashback__field_at(i)->name);
  for (size_t a = 0; a < N_ALIASES && o < sizeof(known); a++)
    o += (size_t)snprintf(known + o, sizeof(known) - o, "%s, ",
                          aliases[a].column);
  say(err, size, "header: unknown column '%.*s' (known: %sand meta.<key>)",
      (int)(n < 64 ? n : 64), name, known);
}

/* The column named `name` (`n` bytes, any case) into `col`; -1 when no key
 * of the vocabulary and no name of the CSV's is spelt so. */
static int column_of(const char *name, size_t n, cashback__column *col) {
  char lower[CASHBACK__COLUMN_KEY_MAX + 1];
  memset(col, 0, sizeof(*col));
  if (n > CASHBACK__COLUMN_KEY_MAX)
    return -1;
  for (size_t i = 0; i < n; i++)
    lower[i] = (char)cashback__ascii_lower((unsigned char)name[i]);
  const char *key = NULL;
  for (size_t a = 0; a < N_ALIASES && !key; a++)
    if (cashback__ascii_ieq(name, n, aliases[a].column)) {
      key = aliases[a].key;
      col->split = aliases[a].split;
    }
  const cashback__field *f =
      cashback__field_find(key ? key : lower, key ? strlen(key) : n);
  if (!f)
    return -1;
  col->key_len = strlen(f->name);
  memcpy(col->key, f->name, col->key_len + 1);
  return 0;
}

/* A meta.<key> column: "meta." and the key as written. */
static int meta_column(const char *name, size_t n, cashback__column *col) {
  memset(col, 0, sizeof(*col));
  if (!cashback__id_valid(name + META_LEN, n - META_LEN))
    return -1;
  memcpy(col->key, META, META_LEN);
  memcpy(col->key + META_LEN, name + META_LEN, n - META_LEN);
  col->key_len = n;
  col->key[n] = '\0';
  return 0;
}

/* The index of the column of `key`, or -1. */
static int index_of(const cashback__columns *cols, const char *key) {
  for (size_t f = 0; f < cols->n_fields; f++)
    if (!cols->col[f].split && key_is(&cols->col[f], key))
      return (int)f;
  return -1;
}

cashback_status cashback__import_header(const cashback__csv_record *rec,
                                        cashback__columns *cols, char *err,
                                        size_t err_size) {
  memset(cols, 0, sizeof(*cols));
  cols->n_fields = rec->n;
  for (size_t f = 0; f < rec->n; f++) {
    size_t n;
    const char *name = cell(rec, (int)f, &n);
    cashback__column *col = &cols->col[f];
    if (n == 0) {
      say(err, err_size, "header: column %zu has no name", f + 1);
      return CASHBACK_E_FIELD;
    }
    if (n > META_LEN && cashback__ascii_iprefix(name, n, META)) {
      if (meta_column(name, n, col) != 0) {
        say(err, err_size,
            "header: column %zu '%.*s': a metadata key must be 1-64 of "
            "[A-Za-z0-9._-]",
            f + 1, (int)(n < 80 ? n : 80), name);
        return CASHBACK_E_FIELD;
      }
    } else if (column_of(name, n, col) != 0) {
      say_unknown(err, err_size, name, n);
      return CASHBACK_E_FIELD;
    }
    for (size_t g = 0; g < f; g++)
      if (cols->col[g].split == col->split && key_is(&cols->col[g], col->key)) {
        say(err, err_size, "header: column '%.*s' appears twice",
            (int)(n < 80 ? n : 80), name);
        return CASHBACK_E_FIELD;
      }
  }
  cols->type_at = index_of(cols, "type");
  cols->order_id_at = index_of(cols, "order_id");
  cols->refund_id_at = index_of(cols, "refund_id");
  const char *missing = cols->type_at < 0       ? "type"
                        : cols->order_id_at < 0 ? "order_id"
                                                : NULL;
  if (missing) {
    say(err, err_size, "header: the column '%s' is required", missing);
    return CASHBACK_E_FIELD;
  }
  return CASHBACK_OK;
}

/* --- Rows --------------------------------------------------------------- */

/* 1 when a cell of the `click` column is a click handle, to be verified
 * (`click`); 0 when it is no handle at all (malformed as one) and so the
 * bare token this column took before handles (`click_token`). A handle that
 * is tampered with or expired stays a handle: the builder refuses it. */
static int is_handle(cashback_client *client, const char *v, size_t n) {
  cashback_click click = {.size = sizeof(click)};
  return client && cashback_click_verify(client, v, n, &click) !=
                       CASHBACK_E_CLICK_MALFORMED;
}

/* Sets the cell `v` (`n` bytes) of column `col`: one value under its key,
 * or, for a list column, each of its values. */
static cashback_status set_cell(cashback_client *client,
                                cashback_event_builder *b,
                                const cashback__column *col, const char *v,
                                size_t n) {
  if (!col->split) {
    if (key_is(col, "click") && !is_handle(client, v, n))
      return cashback_event_builder_set(b, "click_token", 11, v, n);
    return cashback_event_builder_set(b, col->key, col->key_len, v, n);
  }
  cashback_status st = CASHBACK_OK;
  size_t nsplit = strlen(col->split);
  for (size_t i = 0, end; st == CASHBACK_OK && i < n; i = end + 1) {
    for (end = i; end < n && !memchr(col->split, v[end], nsplit); end++)
      ;
    const char *one = v + i;
    size_t len = end - i;
    cashback__ascii_trim(&one, &len, BLANKS);
    if (len)
      st = cashback_event_builder_set(b, col->key, col->key_len, one, len);
  }
  return st;
}

/* The importer's own wording, older than the vocabulary's, for a failure
 * of `key` with status `st`. */
static const struct wording {
  const char *key;
  cashback_status st;
  const char *text;
} wordings[] = {
    {"amount", CASHBACK_E_CURRENCY, "currency: required with an amount"},
    {"amount_minor", CASHBACK_E_CURRENCY, "currency: required with an amount"},
    {"item", CASHBACK_E_CURRENCY, "currency: required with items"},
};

/* The name a failure of `key` (`klen` bytes) is about in the file: the
 * column's, which is the key but for the CSV's own names. */
static const char *column_name(const cashback__columns *cols, const char *key,
                               size_t klen) {
  for (size_t a = 0; a < N_ALIASES; a++)
    if (strlen(aliases[a].key) == klen &&
        memcmp(aliases[a].key, key, klen) == 0)
      for (size_t f = 0; f < cols->n_fields; f++)
        if (cols->col[f].split == aliases[a].split)
          return aliases[a].column;
  if (klen == 11 && memcmp(key, "click_token", 11) == 0 &&
      index_of(cols, "click_token") < 0)
    return "click";
  return NULL;
}

/* The text after "<key>: " at the start of `detail`, or NULL. */
static const char *after_key(const char *detail, const char *key, size_t klen) {
  if (klen && strncmp(detail, key, klen) == 0 && detail[klen] == ':' &&
      detail[klen + 1] == ' ')
    return detail + klen + 2;
  return NULL;
}

/* 1 when `rest` starts with a field path of the same field as `key`
 * ("items: ", "vouchers[0]: ", "click: " for item, voucher, click_token):
 * the event's own message, after the key the vocabulary put in front. */
static int names_it_again(const char *rest, const char *key, size_t klen) {
  size_t w = strspn(rest, "abcdefghijklmnopqrstuvwxyz_");
  if (w == 0 || (rest[w] != ':' && rest[w] != '['))
    return 0;
  return strncmp(rest, key, w < klen ? w : klen) == 0;
}

/* 1 when the failure of `key` (`klen` bytes) is the refusal of an
 * order_time value as no time at all (the detail quotes the value). */
static int bad_time_text(const char *key, size_t klen, cashback_status st,
                         const char *detail) {
  static const char k[] = "order_time";
  return st == CASHBACK_E_FIELD && klen == sizeof(k) - 1 &&
         memcmp(key, k, klen) == 0 && strncmp(detail, "order_time: '", 13) == 0;
}

/* Why the builder refused the row, naming the column once. */
static cashback_status say_refused(const cashback_event_builder *b,
                                   const cashback__columns *cols,
                                   const cashback__csv_record *rec, char *err,
                                   size_t err_size) {
  const char *key = "";
  size_t klen = 0;
  char detail[CASHBACK_ERROR_MAX + 1] = "";
  cashback_status st =
      cashback_event_builder_error(b, &key, &klen, detail, sizeof(detail));
  for (size_t w = 0; w < sizeof(wordings) / sizeof(wordings[0]); w++)
    if (wordings[w].st == st && strlen(wordings[w].key) == klen &&
        memcmp(wordings[w].key, key, klen) == 0) {
      say(err, err_size, "%s", wordings[w].text);
      return st;
    }
  if (bad_time_text(key, klen, st, detail)) {
    size_t n;
    const char *v = cell(rec, index_of(cols, "order_time"), &n);
    say(err, err_size,
        "order_time: '%.*s' is not an RFC 3339 time with a UTC offset, such "
        "as 2026-11-23T19:42:00+01:00, nor Unix seconds",
        (int)(n < 64 ? n : 64), v);
    return st;
  }
  const char *col = column_name(cols, key, klen);
  const char *rest = after_key(detail, key, klen);
  if (rest && names_it_again(rest, key, klen))
    say(err, err_size, "%s", rest); /* "item: items: 'A:0:1': ..." */
  else if (rest && col)
    say(err, err_size, "%s: %s", col, rest);
  else
    say(err, err_size, "%s", detail);
  return st;
}

/* A refund row needs its refund_id: without one its event id would be
 * random, a new one each time the file is imported. */
static int refund_without_id(const cashback__columns *cols,
                             const cashback__csv_record *rec) {
  size_t tn, rn;
  const char *type = cell(rec, cols->type_at, &tn);
  cell(rec, cols->refund_id_at, &rn);
  return rn == 0 &&
         cashback__ascii_ieq(type, tn,
                             cashback_event_type_name(CASHBACK_EVENT_REFUND));
}

cashback_status cashback__import_row(cashback_client *client,
                                     const cashback__columns *cols,
                                     const cashback__csv_record *rec,
                                     cashback_event **out, char *err,
                                     size_t err_size) {
  *out = NULL;
  say(err, err_size, "%s", "");
  if (rec->n != cols->n_fields) {
    say(err, err_size, "has %zu fields, the header %zu", rec->n,
        cols->n_fields);
    return CASHBACK_E_FIELD;
  }
  cashback_event_builder *b = cashback_event_builder_new(client);
  if (!b) {
    say(err, err_size, "import: out of memory");
    return CASHBACK_E_NOMEM;
  }
  cashback_status st = CASHBACK_OK;
  /* An empty cell is "not given", but for type and order_id, which the
   * builder then refuses by name. */
  for (size_t f = 0; st == CASHBACK_OK && f < rec->n; f++) {
    size_t n;
    const char *v = cell(rec, (int)f, &n);
    if (n || (int)f == cols->type_at || (int)f == cols->order_id_at)
      st = set_cell(client, b, &cols->col[f], v, n);
  }
  cashback_event *ev = NULL;
  if (st == CASHBACK_OK)
    st = cashback_event_builder_finish(b, &ev);
  if (st != CASHBACK_OK)
    say_refused(b, cols, rec, err, err_size);
  else if (refund_without_id(cols, rec)) {
    say(err, err_size,
        "refund_id: required for a refund in an import (it keeps the "
        "refund's event id the same when the file is imported again)");
    st = CASHBACK_E_FIELD;
  }
  cashback_event_builder_free(b);
  if (st != CASHBACK_OK) {
    cashback_event_free(ev);
    return st;
  }
  *out = ev;
  return CASHBACK_OK;
}

/* --- The file ----------------------------------------------------------- */

/* A failure of the import as a whole (not of one row): the spool, the disk,
 * memory, the configuration. */
static int fatal(cashback_status st) {
  switch (st) {
  case CASHBACK_E_AMOUNT:
  case CASHBACK_E_CURRENCY:
  case CASHBACK_E_FIELD:
  case CASHBACK_E_TOO_BIG:
  case CASHBACK_E_CLICK_NONE:
  case CASHBACK_E_CLICK_EXPIRED:
  case CASHBACK_E_CLICK_TAMPERED:
  case CASHBACK_E_CLICK_MALFORMED:
    return 0;
  default:
    return 1;
  }
}

typedef struct importer {
  cashback_client *c;
  unsigned flags;
  cashback_import_fn fn;
  void *ud;
  cashback_import_stats *stats;
  cashback__columns cols;
  int have_header;
  uint64_t bytes_read, bytes_total;
  size_t buf_size; /* the read buffer: a longer record is skipped */
  /* The file being read: `have` bytes in `buf`, parsed up to `off`; `line`
   * is the line the next record starts on. */
  int fd;
  const char *path;
  char *buf;
  size_t have, off;
  int eof;
  uint64_t line;
  cashback__csv_record *rec;
} importer;

static void tell(importer *im, uint64_t line, cashback_status st,
                 const char *error, const char *id,
                 const cashback__csv_record *rec) {
  if (st == CASHBACK_OK)
    im->stats->imported++;
  else
    im->stats->skipped++;
  if (!im->fn)
    return;
  char type[16] = "", order[CASHBACK_ID_MAX + 2] = "";
  if (rec && im->have_header) {
    cell_str(rec, im->cols.type_at, type, sizeof(type));
    cell_str(rec, im->cols.order_id_at, order, sizeof(order));
  }
  cashback_import_row row = {
      .size = sizeof(row),
      .line = line,
      .status = st,
      .error = error ? error : "",
      .event_id = id ? id : "",
      .type = type,
      .order_id = order,
      .bytes_read = im->bytes_read,
      .bytes_total = im->bytes_total,
  };
  im->fn(&row, im->ud);
}

/* One data row: build, then report (or only finalize, in a dry run).
 * Returns a fatal status, or CASHBACK_OK to go on. */
static cashback_status one_row(importer *im, uint64_t line,
                               const cashback__csv_record *rec) {
  char err[CASHBACK_ERROR_MAX + 1] = "";
  char id[CASHBACK_EVENT_ID_LEN + 1] = "";
  cashback_event *ev = NULL;
  im->stats->rows++;
  cashback_status st =
      cashback__import_row(im->c, &im->cols, rec, &ev, err, sizeof(err));
  if (st == CASHBACK_OK) {
    st = im->flags & CASHBACK_IMPORT_DRY_RUN
             ? cashback_event_finalize(im->c, ev, id)
             : cashback_report(im->c, ev, id);
    if (st != CASHBACK_OK && !fatal(st))
      say(err, sizeof(err), "%s", cashback_event_last_error(ev));
    else if (st != CASHBACK_OK)
      cashback_client_last_error(im->c, err, sizeof(err));
  }
  cashback_event_free(ev);
  if (st != CASHBACK_OK && fatal(st)) {
    im->stats->rows--; /* not read to its end: not counted */
    return cashback__fail(im->c, st, "line %llu: %s", (unsigned long long)line,
                          err);
  }
  tell(im, line, st, err, id, rec);
  return CASHBACK_OK;
}

/* Reads `n` bytes at most into `buf`: the count, 0 at the end, -1 with
 * errno on an error. */
static ssize_t read_some(importer *im, char *buf, size_t n) {
  ssize_t r;
  do
    r = read(im->fd, buf, n);
  while (r < 0 && errno == EINTR);
  if (r > 0)
    im->bytes_read += (uint64_t)r;
  return r;
}

static cashback_status read_failed(importer *im) {
  return cashback__fail(im->c, CASHBACK_E_IO, "cannot read '%s': %s", im->path,
                        strerror(errno));
}

/* Appends what the file has next to the buffer (not full); at the end of
 * the file sets `eof`. */
static cashback_status read_more(importer *im) {
  ssize_t n = read_some(im, im->buf + im->have, im->buf_size - im->have);
  if (n < 0)
    return read_failed(im);
  if (n == 0)
    im->eof = 1;
  im->have += (size_t)n;
  return CASHBACK_OK;
}

/* Reads the first bytes and steps over a UTF-8 byte order mark. */
static cashback_status skip_bom(importer *im) {
  while (im->have < 3 && !im->eof) {
    cashback_status st = read_more(im);
    if (st != CASHBACK_OK)
      return st;
  }
  if (im->have >= 3 && memcmp(im->buf, "\xef\xbb\xbf", 3) == 0)
    im->off = 3;
  return CASHBACK_OK;
}

/* Skips, whole, the record at the start of the full buffer: its end is
 * found as cashback__csv_next() would find it (quotes, "" and line ends
 * across refills), so that the rows after it are read from their start,
 * never from inside one of its quoted fields. The bytes after it are left
 * at the start of the buffer; `sk` has its line ends. */
static cashback_status skip_record(importer *im, cashback__csv_skip *sk) {
  cashback__csv_skip_init(sk);
  for (;;) {
    size_t used;
    if (cashback__csv_skip_feed(sk, im->buf, im->have, im->eof, &used)) {
      memmove(im->buf, im->buf + used, im->have - used);
      im->have -= used;
      return CASHBACK_OK;
    }
    im->have = 0;
    ssize_t r = read_some(im, im->buf, im->buf_size);
    if (r < 0)
      return read_failed(im);
    if (r == 0)
      im->eof = 1;
    im->have = (size_t)r;
  }
}

/* "256 KiB", or "64 bytes" for a buffer that is not a whole KiB. */
static void size_text(char *out, size_t size, size_t n) {
  if (n % 1024 == 0)
    snprintf(out, size, "%zu KiB", n / 1024);
  else
    snprintf(out, size, "%zu bytes", n);
}

/* The record at the start of the full buffer does not fit: skipped whole
 * and counted, or, for the header, the end of the import. */
static cashback_status skip_too_long(importer *im) {
  char cap[32];
  size_text(cap, sizeof(cap), im->buf_size);
  if (!im->have_header)
    return cashback__fail(im->c, CASHBACK_E_FIELD,
                          "%s:%llu: the header is longer than %s", im->path,
                          (unsigned long long)im->line, cap);
  uint64_t at = im->line;
  cashback__csv_skip sk;
  cashback_status st = skip_record(im, &sk);
  if (st != CASHBACK_OK)
    return st;
  im->line += sk.lines;
  uint64_t last = sk.ended ? im->line - 1 : im->line;
  char msg[CASHBACK_ERROR_MAX + 1], span[64] = "";
  if (last > at)
    snprintf(span, sizeof(span), ", lines %llu-%llu", (unsigned long long)at,
             (unsigned long long)last);
  if (sk.unclosed)
    snprintf(msg, sizeof(msg),
             "the row is longer than %s and a quoted field in it is not "
             "closed before the end of the file: skipped to the end",
             cap);
  else
    snprintf(msg, sizeof(msg), "the row is longer than %s: skipped whole%s",
             cap, span);
  im->stats->rows++;
  tell(im, at, CASHBACK_E_TOO_BIG, msg, NULL, NULL);
  return CASHBACK_OK;
}

/* No whole record in the buffer: the rest moves to its start and more is
 * read, or, when the buffer is full, the record is skipped. */
static cashback_status refill(importer *im) {
  if (im->off) {
    memmove(im->buf, im->buf + im->off, im->have - im->off);
    im->have -= im->off;
    im->off = 0;
  }
  if (im->have == im->buf_size)
    return skip_too_long(im);
  return read_more(im);
}

/* One record the parser returned (`r`, with `why` when it is bad),
 * starting on line `at`: the header, a blank line or a data row. */
static cashback_status on_record(importer *im, cashback__csv_result r,
                                 uint64_t at, const char *why) {
  if (r == CASHBACK__CSV_BAD) {
    if (!im->have_header)
      return cashback__fail(im->c, CASHBACK_E_FIELD, "%s:%llu: header: %s",
                            im->path, (unsigned long long)at, why);
    im->stats->rows++;
    tell(im, at, CASHBACK_E_FIELD, why, NULL, NULL);
    return CASHBACK_OK;
  }
  if (im->rec->n == 1 && im->rec->len[0] == 0)
    return CASHBACK_OK; /* a blank line */
  if (im->have_header)
    return one_row(im, at, im->rec);
  char err[CASHBACK_ERROR_MAX + 1];
  if (cashback__import_header(im->rec, &im->cols, err, sizeof(err)) !=
      CASHBACK_OK)
    return cashback__fail(im->c, CASHBACK_E_FIELD, "%s:%llu: %s", im->path,
                          (unsigned long long)at, err);
  im->have_header = 1;
  return CASHBACK_OK;
}

static cashback_status run(importer *im) {
  im->buf = malloc(im->buf_size);
  im->rec = malloc(sizeof(*im->rec));
  im->line = 1;
  cashback_status st =
      im->buf && im->rec
          ? skip_bom(im)
          : cashback__fail(im->c, CASHBACK_E_NOMEM, "import: out of memory");
  while (st == CASHBACK_OK) {
    size_t used = 0;
    const char *why = NULL;
    cashback__csv_result r = cashback__csv_next(
        im->buf + im->off, im->have - im->off, im->eof, im->rec, &used, &why);
    if (r == CASHBACK__CSV_END)
      break;
    if (r == CASHBACK__CSV_MORE) {
      st = refill(im);
      continue;
    }
    uint64_t at = im->line;
    im->line += im->rec->lines;
    im->off += used;
    st = on_record(im, r, at, why);
  }
  if (st == CASHBACK_OK && !im->have_header)
    st = cashback__fail(im->c, CASHBACK_E_FIELD,
                        "%s: no header row (the file is empty)", im->path);
  free(im->buf);
  free(im->rec);
  im->buf = NULL;
  im->rec = NULL;
  return st;
}

/* The start both entry points make (cashback__sized_begin()): the call
 * begun, a client, `stats` (when not NULL) of a size this version can
 * write, and zeroed; no flag this version does not know. */
static cashback_status check_args(cashback_client *client, unsigned flags,
                                  cashback_import_stats *stats) {
  cashback_status st = cashback__sized_begin(
      client, stats, 1, CASHBACK__SIZED_MIN(cashback_import_stats, skipped),
      sizeof(*stats), "cashback_import_csv: stats");
  if (st != CASHBACK_OK)
    return st;
  if (stats) {
    cashback_import_stats zero = {0};
    cashback__sized_copy(stats, &zero, sizeof(zero));
  }
  if (flags & ~(unsigned)CASHBACK_IMPORT_DRY_RUN)
    return cashback__fail(client, CASHBACK_E_INVALID_ARGUMENT,
                          "import: unknown flags 0x%x", flags);
  return CASHBACK_OK;
}

cashback_status cashback__import_fd(cashback_client *client, int fd,
                                    const char *name, unsigned flags,
                                    size_t buf_size, cashback_import_fn fn,
                                    void *userdata,
                                    cashback_import_stats *stats) {
  cashback_import_stats full = {.size = sizeof(full)};
  cashback_status st = check_args(client, flags, stats);
  if (st != CASHBACK_OK)
    return st;
  if (!name || fd < 0 || buf_size < CASHBACK__IMPORT_BUF_MIN)
    return CASHBACK_E_INVALID_ARGUMENT;
  importer *im = calloc(1, sizeof(*im));
  if (!im)
    return cashback__fail(client, CASHBACK_E_NOMEM, "import: out of memory");
  im->c = client;
  im->flags = flags;
  im->fn = fn;
  im->ud = userdata;
  im->stats = &full;
  im->buf_size = buf_size;
  struct stat sb;
  if (fstat(fd, &sb) == 0 && S_ISREG(sb.st_mode))
    im->bytes_total = (uint64_t)sb.st_size;
  im->fd = fd;
  im->path = name;
  st = run(im);
  free(im);
  if (stats)
    cashback__sized_copy(stats, &full, sizeof(full));
  if (st == CASHBACK_OK) /* a skipped row is not a failure of the import */
    cashback__call_begin(client);
  return st;
}

cashback_status cashback_import_csv(cashback_client *client, const char *path,
                                    unsigned flags, cashback_import_fn fn,
                                    void *userdata,
                                    cashback_import_stats *stats) {
  cashback_status st = check_args(client, flags, stats);
  if (st != CASHBACK_OK)
    return st;
  if (!path)
    return CASHBACK_E_INVALID_ARGUMENT;
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return cashback__fail(client, CASHBACK_E_IO, "cannot open '%s': %s", path,
                          strerror(errno));
  st = cashback__import_fd(client, fd, path, flags, CASHBACK__IMPORT_READ_BUF,
                           fn, userdata, stats);
  close(fd);
  return st;
}
