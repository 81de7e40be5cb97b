/* A shop's CSV export as events: the header's columns, and one row as an
 * event (docs/cli.md lists the columns). */
#ifndef CASHBACK_IMPORT_H
#define CASHBACK_IMPORT_H

#include "cashback.h"
#include "cashback_csv.h"

#include <stddef.h>

/* Longest field key a column maps to: "meta." and a metadata key. */
#define CASHBACK__COLUMN_KEY_MAX (5 + CASHBACK_ID_MAX)

/* One column: the field key of the vocabulary (docs/events.md) its cells
 * are set under, and for a list column of the CSV's own (`vouchers`,
 * `items`) the bytes that separate the values of one cell. */
typedef struct cashback__column {
  char key[CASHBACK__COLUMN_KEY_MAX + 1];
  size_t key_len;
  const char *split; /* NULL: the cell is one value */
} cashback__column;

/* The header: a column per field, and where type, order_id and refund_id
 * are (the field index, or -1 when absent). */
typedef struct cashback__columns {
  size_t n_fields; /* fields in the header */
  cashback__column col[CASHBACK__CSV_FIELDS_MAX];
  int type_at, order_id_at, refund_id_at;
} cashback__columns;

/* Reads the header record: a column is named by a field key of the
 * vocabulary (meta.<key> included) or by one of the CSV's own names for a
 * list (`vouchers`, `items`), matched without regard to case or
 * surrounding blanks. CASHBACK_E_FIELD with `err` naming the column when
 * one is unknown, repeated or unnamed, or type / order_id is missing. */
cashback_status cashback__import_header(const cashback__csv_record *rec,
                                        cashback__columns *cols, char *err,
                                        size_t err_size);

/* Builds the event of one data row with the event builder, every cell set
 * under its column's key (`client` verifies click handles). On failure
 * `*out` is NULL and `err` names the column; the status is the builder's
 * (CASHBACK_E_FIELD, CASHBACK_E_AMOUNT, ...). Completeness for the type is
 * left to cashback_event_finalize(). */
cashback_status cashback__import_row(cashback_client *client,
                                     const cashback__columns *cols,
                                     const cashback__csv_record *rec,
                                     cashback_event **out, char *err,
                                     size_t err_size);

/* The read buffer of cashback_import_csv(): a record longer than this
 * (quotes and all) is skipped whole, see docs/api/cashback_import_csv.md. */
#define CASHBACK__IMPORT_READ_BUF (256 * 1024)
#define CASHBACK__IMPORT_BUF_MIN 16

/* cashback_import_csv() from an open `fd` (not closed), `name` standing for
 * it in messages, with a read buffer of `buf_size` bytes (at least
 * CASHBACK__IMPORT_BUF_MIN). The public function passes
 * CASHBACK__IMPORT_READ_BUF; the tests and the fuzz target pass tiny sizes
 * to drive the same code through the record-longer-than-the-buffer path. */
cashback_status cashback__import_fd(cashback_client *client, int fd,
                                    const char *name, unsigned flags,
                                    size_t buf_size, cashback_import_fn fn,
                                    void *userdata,
                                    cashback_import_stats *stats);

#endif
