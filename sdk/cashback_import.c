/*
 * Importing a shop's CSV export: each row becomes a sale, refund, cancel or
 * confirm event in the spool. Event ids are derived from the merchant, the
 * order and (for refunds) the refund id, so importing a file again reports
 * the same ids, which the network counts once.
 */
#include "cashback_import.h"
#include "cashback_ascii.h"
#include "cashback_client.h"
#include "cashback_event.h"
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

#define QUANTITY_MAX 1000000

static const char *const column_names[CASHBACK__COL_COUNT] = {
    "type",     "order_id", "click", "amount",    "currency", "order_time",
    "customer", "vouchers", "items", "refund_id", "reason",   "test"};

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

static int is_blank(char c) {
  return c == ' ' || c == '\t';
}

/* The field without surrounding blanks: start and length. */
static const char *cell(const cashback__csv_record *rec, int at, size_t *len) {
  *len = 0;
  if (at < 0 || (size_t)at >= rec->n)
    return "";
  const char *s = rec->data + rec->off[at];
  size_t n = rec->len[at];
  while (n && is_blank(*s)) {
    s++;
    n--;
  }
  while (n && is_blank(s[n - 1]))
    n--;
  *len = n;
  return s;
}

/* A NUL-terminated copy of a cell into `buf` (cells are at most a record's
 * size, so the copy is cut only for values past any field's limit, which
 * the setters then refuse). */
static const char *cell_str(const cashback__csv_record *rec, int at, char *buf,
                            size_t size) {
  size_t n;
  const char *s = cell(rec, at, &n);
  cashback__ascii_copy(buf, size, s, n);
  return buf;
}

cashback_status cashback__import_header(const cashback__csv_record *rec,
                                        cashback__columns *cols, char *err,
                                        size_t err_size) {
  memset(cols, 0, sizeof(*cols));
  for (size_t i = 0; i < CASHBACK__COL_COUNT; i++)
    cols->at[i] = -1;
  cols->n_fields = rec->n;
  for (size_t f = 0; f < rec->n; f++) {
    size_t n;
    const char *name = cell(rec, (int)f, &n);
    if (n == 0) {
      say(err, err_size, "header: column %zu has no name", f + 1);
      return CASHBACK_E_FIELD;
    }
    if (n > 5 && strncasecmp(name, "meta.", 5) == 0) {
      if (!cashback__id_valid(name + 5, n - 5)) {
        say(err, err_size,
            "header: column %zu '%.*s': a metadata key must be 1-64 of "
            "[A-Za-z0-9._-]",
            f + 1, (int)(n < 80 ? n : 80), name);
        return CASHBACK_E_FIELD;
      }
      for (size_t m = 0; m < cols->n_meta; m++)
        if (strlen(cols->meta_key[m]) == n - 5 &&
            memcmp(cols->meta_key[m], name + 5, n - 5) == 0) {
          say(err, err_size, "header: column '%.*s' appears twice", (int)n,
              name);
          return CASHBACK_E_FIELD;
        }
      cols->meta_at[cols->n_meta] = (int)f;
      memcpy(cols->meta_key[cols->n_meta], name + 5, n - 5);
      cols->meta_key[cols->n_meta][n - 5] = '\0';
      cols->n_meta++;
      continue;
    }
    size_t c = 0;
    while (c < CASHBACK__COL_COUNT &&
           !(strlen(column_names[c]) == n &&
             strncasecmp(column_names[c], name, n) == 0))
      c++;
    if (c == CASHBACK__COL_COUNT) {
      say(err, err_size,
          "header: unknown column '%.*s' (known: type, order_id, click, "
          "amount, currency, order_time, customer, vouchers, items, "
          "refund_id, reason, test, and meta.<key>)",
          (int)(n < 64 ? n : 64), name);
      return CASHBACK_E_FIELD;
    }
    if (cols->at[c] >= 0) {
      say(err, err_size, "header: column '%s' appears twice", column_names[c]);
      return CASHBACK_E_FIELD;
    }
    cols->at[c] = (int)f;
  }
  for (size_t c = CASHBACK__COL_TYPE; c <= CASHBACK__COL_ORDER_ID; c++)
    if (cols->at[c] < 0) {
      say(err, err_size, "header: the column '%s' is required",
          column_names[c]);
      return CASHBACK_E_FIELD;
    }
  return CASHBACK_OK;
}

/* --- Rows --------------------------------------------------------------- */

static int word_is(const char *s, size_t n, const char *w) {
  return strlen(w) == n && strncasecmp(s, w, n) == 0;
}

/* Builds the event; on failure says why, naming the column. */
static cashback_status fill(const cashback__columns *cols,
                            const cashback__csv_record *rec, cashback_event *ev,
                            char *err, size_t err_size) {
  char buf[CASHBACK__CSV_RECORD_MAX + 1];
  char cur[8];
  size_t n;
  const char *s;
  cashback_status st;
#define FAIL_EV(what)                                                          \
  do {                                                                         \
    say(err, err_size, "%s", cashback_event_last_error(ev));                   \
    return (what);                                                             \
  } while (0)

  s = cell_str(rec, cols->at[CASHBACK__COL_CLICK], buf, sizeof(buf));
  if (s[0] && (st = cashback_event_set_click(ev, s)) != CASHBACK_OK)
    FAIL_EV(st);

  cell_str(rec, cols->at[CASHBACK__COL_CURRENCY], cur, sizeof(cur));
  s = cell_str(rec, cols->at[CASHBACK__COL_AMOUNT], buf, sizeof(buf));
  if (s[0]) {
    if (!cur[0]) {
      say(err, err_size, "currency: required with an amount");
      return CASHBACK_E_CURRENCY;
    }
    if ((st = cashback_event_set_amount_decimal(ev, s, cur)) != CASHBACK_OK)
      FAIL_EV(st);
  }

  s = cell(rec, cols->at[CASHBACK__COL_ORDER_TIME], &n);
  if (n) {
    int64_t t;
    int off;
    if (cashback_time_parse(s, n, &t, &off) != CASHBACK_OK) {
      say(err, err_size,
          "order_time: '%.*s' is not an RFC 3339 time with a UTC offset, "
          "such as 2026-11-23T19:42:00+01:00",
          (int)(n < 64 ? n : 64), s);
      return CASHBACK_E_FIELD;
    }
    if ((st = cashback_event_set_order_time(ev, t, off)) != CASHBACK_OK)
      FAIL_EV(st);
  }

  s = cell(rec, cols->at[CASHBACK__COL_CUSTOMER], &n);
  if (n) {
    cashback_customer c;
    if (word_is(s, n, "new"))
      c = CASHBACK_CUSTOMER_NEW;
    else if (word_is(s, n, "returning"))
      c = CASHBACK_CUSTOMER_RETURNING;
    else {
      say(err, err_size, "customer: '%.*s' must be new, returning or empty",
          (int)(n < 64 ? n : 64), s);
      return CASHBACK_E_FIELD;
    }
    if ((st = cashback_event_set_customer(ev, c)) != CASHBACK_OK)
      FAIL_EV(st);
  }

  /* Vouchers: separated by blanks or '|'. */
  s = cell_str(rec, cols->at[CASHBACK__COL_VOUCHERS], buf, sizeof(buf));
  for (char *save = NULL, *code = strtok_r(buf, " \t|", &save); code;
       code = strtok_r(NULL, " \t|", &save))
    if ((st = cashback_event_add_voucher(ev, code)) != CASHBACK_OK)
      FAIL_EV(st);

  /* Items: separated by '|'. */
  s = cell_str(rec, cols->at[CASHBACK__COL_ITEMS], buf, sizeof(buf));
  if (s[0] && !cur[0]) {
    say(err, err_size, "currency: required with items");
    return CASHBACK_E_CURRENCY;
  }
  for (char *save = NULL, *it = strtok_r(buf, "|", &save); it;
       it = strtok_r(NULL, "|", &save)) {
    while (is_blank(*it))
      it++;
    size_t l = strlen(it);
    while (l && is_blank(it[l - 1]))
      it[--l] = '\0';
    if (l && (st = cashback_event_add_item_text(ev, it, cur)) != CASHBACK_OK)
      FAIL_EV(st);
  }

  s = cell_str(rec, cols->at[CASHBACK__COL_REFUND_ID], buf, sizeof(buf));
  if (s[0] && (st = cashback_event_set_refund_id(ev, s)) != CASHBACK_OK)
    FAIL_EV(st);

  s = cell_str(rec, cols->at[CASHBACK__COL_REASON], buf, sizeof(buf));
  if (s[0] && (st = cashback_event_set_reason(ev, s)) != CASHBACK_OK)
    FAIL_EV(st);

  s = cell(rec, cols->at[CASHBACK__COL_TEST], &n);
  if (n) {
    int yes =
        word_is(s, n, "1") || word_is(s, n, "true") || word_is(s, n, "yes");
    int no =
        word_is(s, n, "0") || word_is(s, n, "false") || word_is(s, n, "no");
    if (!yes && !no) {
      say(err, err_size, "test: '%.*s' must be true, false, yes, no, 1 or 0",
          (int)(n < 32 ? n : 32), s);
      return CASHBACK_E_FIELD;
    }
    if ((st = cashback_event_set_test(ev, yes)) != CASHBACK_OK)
      FAIL_EV(st);
  }

  for (size_t m = 0; m < cols->n_meta; m++) {
    s = cell_str(rec, cols->meta_at[m], buf, sizeof(buf));
    if (s[0] && (st = cashback_event_set_metadata(ev, cols->meta_key[m], s)) !=
                    CASHBACK_OK)
      FAIL_EV(st);
  }
#undef FAIL_EV
  return CASHBACK_OK;
}

cashback_status cashback__import_row(const cashback__columns *cols,
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
  size_t n;
  const char *type = cell(rec, cols->at[CASHBACK__COL_TYPE], &n);
  cashback_event_type t;
  if (word_is(type, n, "sale"))
    t = CASHBACK_EVENT_SALE;
  else if (word_is(type, n, "refund"))
    t = CASHBACK_EVENT_REFUND;
  else if (word_is(type, n, "cancel"))
    t = CASHBACK_EVENT_CANCEL;
  else if (word_is(type, n, "confirm"))
    t = CASHBACK_EVENT_CONFIRM;
  else {
    say(err, err_size, "type: '%.*s' must be sale, refund, cancel or confirm",
        (int)(n < 32 ? n : 32), type);
    return CASHBACK_E_FIELD;
  }
  char order[CASHBACK_ID_MAX + 2];
  cell_str(rec, cols->at[CASHBACK__COL_ORDER_ID], order, sizeof(order));
  cashback_event *ev = cashback_event_new(t, order);
  if (!ev) {
    if (order[0] == '\0' || strlen(order) > CASHBACK_ID_MAX ||
        strpbrk(order, " \t"))
      say(err, err_size,
          "order_id: must be 1-64 printable ASCII characters, no space");
    else
      say(err, err_size, "order_id: invalid, or out of memory");
    return CASHBACK_E_FIELD;
  }
  cashback_status st = fill(cols, rec, ev, err, err_size);
  if (st == CASHBACK_OK && t == CASHBACK_EVENT_REFUND) {
    size_t rn;
    cell(rec, cols->at[CASHBACK__COL_REFUND_ID], &rn);
    if (rn == 0) {
      say(err, err_size,
          "refund_id: required for a refund in an import (it keeps the "
          "refund's event id the same when the file is imported again)");
      st = CASHBACK_E_FIELD;
    }
  }
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
    cell_str(rec, im->cols.at[CASHBACK__COL_TYPE], type, sizeof(type));
    cell_str(rec, im->cols.at[CASHBACK__COL_ORDER_ID], order, sizeof(order));
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
      cashback__import_row(&im->cols, rec, &ev, err, sizeof(err));
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
