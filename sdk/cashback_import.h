/* A shop's CSV export as events: the header's columns, and one row as an
 * event (docs/cli.md lists the columns). */
#ifndef CASHBACK_IMPORT_H
#define CASHBACK_IMPORT_H

#include "cashback.h"
#include "cashback_csv.h"

#include <stddef.h>

typedef enum cashback__column {
  CASHBACK__COL_TYPE = 0,
  CASHBACK__COL_ORDER_ID,
  CASHBACK__COL_CLICK,
  CASHBACK__COL_AMOUNT,
  CASHBACK__COL_CURRENCY,
  CASHBACK__COL_ORDER_TIME,
  CASHBACK__COL_CUSTOMER,
  CASHBACK__COL_VOUCHERS,
  CASHBACK__COL_ITEMS,
  CASHBACK__COL_REFUND_ID,
  CASHBACK__COL_REASON,
  CASHBACK__COL_TEST,
  CASHBACK__COL_COUNT
} cashback__column;

/* Where each column is in a row: the field index, or -1 when absent. */
typedef struct cashback__columns {
  int at[CASHBACK__COL_COUNT];
  size_t n_meta;
  int meta_at[CASHBACK__CSV_FIELDS_MAX];
  char meta_key[CASHBACK__CSV_FIELDS_MAX][CASHBACK_ID_MAX + 1];
  size_t n_fields; /* fields in the header */
} cashback__columns;

/* Reads the header record: names are matched without regard to case or
 * surrounding blanks. CASHBACK_E_FIELD with `err` naming the column when
 * one is unknown, repeated or unnamed, or type / order_id is missing. */
cashback_status cashback__import_header(const cashback__csv_record *rec,
                                        cashback__columns *cols, char *err,
                                        size_t err_size);

/* Builds the event of one data row. On failure `*out` is NULL and `err`
 * names the column; the status is the setter's (CASHBACK_E_FIELD,
 * CASHBACK_E_AMOUNT, ...). Checks what a setter can; completeness for the
 * type is left to cashback_event_finalize(). */
cashback_status cashback__import_row(const cashback__columns *cols,
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
