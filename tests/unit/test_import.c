/* Unit tests for sdk/cashback_import.c: CSV columns, rows as events, item
 * text, and whole files into a temporary spool. */
#include "tests.h"

#include "cashback_fields.h"
#include "cashback_import.h"
#include "fixture.h"

#include <check.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static cashback__csv_record *parse_one(const char *line) {
  cashback__csv_record *r = malloc(sizeof(*r));
  ck_assert_ptr_nonnull(r);
  size_t used;
  const char *why;
  ck_assert_int_eq(cashback__csv_next(line, strlen(line), 1, r, &used, &why),
                   CASHBACK__CSV_RECORD);
  return r;
}

static cashback_status header(const char *line, cashback__columns *cols,
                              char *err, size_t size) {
  cashback__csv_record *r = parse_one(line);
  cashback_status st = cashback__import_header(r, cols, err, size);
  free(r);
  return st;
}

START_TEST(header_columns) {
  cashback__columns cols;
  char err[CASHBACK_ERROR_MAX + 1];
  ck_assert_int_eq(header(" Type ,ORDER_ID,amount,currency,meta.channel,"
                          "click\n",
                          &cols, err, sizeof(err)),
                   CASHBACK_OK);
  ck_assert_int_eq(cols.type_at, 0);
  ck_assert_int_eq(cols.order_id_at, 1);
  ck_assert_str_eq(cols.col[0].key, "type");
  ck_assert_str_eq(cols.col[1].key, "order_id");
  ck_assert_str_eq(cols.col[2].key, "amount");
  ck_assert_str_eq(cols.col[3].key, "currency");
  ck_assert_str_eq(cols.col[5].key, "click");
  ck_assert_int_eq(cols.refund_id_at, -1);
  for (size_t f = 0; f < cols.n_fields; f++) /* no items column */
    ck_assert_str_ne(cols.col[f].key, "item");
  /* The metadata column: its key as written after "meta.". */
  ck_assert_str_eq(cols.col[4].key, "meta.channel");
  ck_assert_uint_eq(cols.col[4].key_len, 12);
  ck_assert_uint_eq(cols.n_fields, 6);

  static const struct {
    const char *line, *err;
  } bad[] = {
      {"type,order_id,ammount\n", "header: unknown column 'ammount'"},
      {"type,order_id,type\n", "header: column 'type' appears twice"},
      {"type,amount\n", "header: the column 'order_id' is required"},
      {"order_id\n", "header: the column 'type' is required"},
      {"type,,order_id\n", "header: column 2 has no name"},
      {"type,order_id,meta.a b\n", "header: column 3 'meta.a b': a metadata"},
      {"type,order_id,meta.x,META.x\n", "header: column 'META.x' appears"},
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    ck_assert_int_eq(header(bad[i].line, &cols, err, sizeof(err)),
                     CASHBACK_E_FIELD);
    ck_assert_msg(strncmp(err, bad[i].err, strlen(bad[i].err)) == 0,
                  "%s: got '%s'", bad[i].line, err);
  }
}
END_TEST

/* The event of `row` under `hdr`, as JSON for merchant shop-42 at a fixed
 * time (that client verifies click handles); NULL and `err` filled when the row
 * is refused. */
static char *row_json(const char *hdr, const char *row, cashback_status *st,
                      char *err, size_t size) {
  cashback__columns cols;
  ck_assert_int_eq(header(hdr, &cols, err, size), CASHBACK_OK);
  int64_t now = 1795459317;
  cashback_client *c = fixture_client("shop-42", &now);
  cashback__csv_record *r = parse_one(row);
  cashback_event *ev = NULL;
  *st = cashback__import_row(c, &cols, r, &ev, err, size);
  free(r);
  if (*st != CASHBACK_OK) {
    ck_assert_ptr_null(ev);
    cashback_client_free(c);
    return NULL;
  }
  char *json = NULL;
  size_t len;
  *st = cashback_event_to_json(c, ev, &json, &len);
  if (*st != CASHBACK_OK)
    snprintf(err, size, "%s", cashback_event_last_error(ev));
  cashback_event_free(ev);
  cashback_client_free(c);
  return json;
}

#define FULL_HEADER                                                            \
  "type,order_id,click,amount,currency,order_time,customer,vouchers,items,"    \
  "refund_id,reason,test,meta.channel\n"

START_TEST(rows_as_events) {
  char err[CASHBACK_ERROR_MAX + 1];
  cashback_status st;
  char *json =
      row_json(FULL_HEADER,
               "sale,1001,tok_9f8e7d,49.90,EUR,2026-11-23T19:41:50+01:00,new,"
               "WELCOME10 SUMMER|X,\"A-1:2:19.95:Teapot:kitchen|B-7:1:10\",,,"
               "yes,web\n",
               &st, err, sizeof(err));
  ck_assert_msg(json != NULL, "%s", err);
  ck_assert_str_eq(
      json,
      "{\"id\":\"c8a9d4c385cc850fbc2aa93b160c738f\",\"type\":\"sale\","
      "\"order_id\":\"1001\",\"reported_at\":\"2026-11-23T18:41:57Z\","
      "\"order_time\":\"2026-11-23T19:41:50+01:00\",\"test\":true,"
      "\"click\":{\"token\":\"tok_9f8e7d\"},\"amount\":4990,\"currency\":"
      "\"EUR\",\"customer\":\"new\",\"vouchers\":[\"WELCOME10\",\"SUMMER\","
      "\"X\"],\"items\":[{\"sku\":\"A-1\",\"name\":\"Teapot\",\"quantity\":2,"
      "\"unit_price\":1995,\"category\":\"kitchen\"},{\"sku\":\"B-7\","
      "\"quantity\":1,\"unit_price\":1000}],\"metadata\":{\"channel\":"
      "\"web\"}}");
  cashback_free(json);

  /* A refund: its id comes from the refund id (docs/protocol.md). */
  json = row_json(FULL_HEADER, "refund,1001,,10,EUR,,,,,CN-7,returned,,\n", &st,
                  err, sizeof(err));
  ck_assert_msg(json != NULL, "%s", err);
  ck_assert_ptr_nonnull(
      strstr(json, "\"id\":\"f7fb6bfdbcff1d2d64530ddcd094ba48\""));
  ck_assert_ptr_nonnull(strstr(json, "\"reason\":\"returned\""));
  cashback_free(json);

  /* Cancel and confirm need only the order. */
  json = row_json("type,order_id\n", "Cancel , 1001\n", &st, err, sizeof(err));
  ck_assert_msg(json != NULL, "%s", err);
  ck_assert_ptr_nonnull(
      strstr(json, "\"id\":\"27e733926226523f0c2ad8f2f7f9d0c5\""));
  cashback_free(json);
}
END_TEST

START_TEST(bad_rows_name_the_column) {
  static const struct {
    const char *row;
    cashback_status st;
    const char *err;
  } bad[] = {
      {"buy,1,t,1,EUR,,,,,,,,\n", CASHBACK_E_FIELD, "type: 'buy' must be"},
      {"sale,,t,1,EUR,,,,,,,,\n", CASHBACK_E_FIELD, "order_id: must be"},
      {"sale,a b,t,1,EUR,,,,,,,,\n", CASHBACK_E_FIELD, "order_id: must be"},
      {"sale,1,t,49.999,EUR,,,,,,,,\n", CASHBACK_E_AMOUNT, "amount: '49.999'"},
      {"sale,1,t,49.90,,,,,,,,,\n", CASHBACK_E_CURRENCY,
       "currency: required with an amount"},
      {"sale,1,t,49.90,EURO,,,,,,,,\n", CASHBACK_E_CURRENCY, "currency"},
      {"sale,1,t,1,EUR,2026-11-23 19:41,,,,,,,\n", CASHBACK_E_FIELD,
       "order_time: '2026-11-23 19:41' is not an RFC 3339"},
      {"sale,1,t,1,EUR,,old,,,,,,\n", CASHBACK_E_FIELD,
       "customer: 'old' must be"},
      {"sale,1,t,1,EUR,,,,A-1:0:1,,,,\n", CASHBACK_E_FIELD,
       "items: 'A-1:0:1': the quantity '0'"},
      {"sale,1,t,1,EUR,,,,A-1:1:1.001,,,,\n", CASHBACK_E_AMOUNT,
       "items: 'A-1:1:1.001': the unit price"},
      {"sale,1,t,1,EUR,,,,A-1:1,,,,\n", CASHBACK_E_FIELD,
       "items: 'A-1:1' must be sku:quantity:unit_price"},
      {"sale,1,t,1,EUR,,,,a:1:1:n:c:x,,,,\n", CASHBACK_E_FIELD,
       "items: 'a:1:1:n:c:x' has more than 5"},
      {"sale,1,bad token!,1,EUR,,,,,,,,\n", CASHBACK_E_FIELD, "click"},
      {"sale,1,t,1,EUR,,,,,,,maybe,\n", CASHBACK_E_FIELD, "test: 'maybe'"},
      {"refund,1,,5,EUR,,,,,,,,\n", CASHBACK_E_FIELD,
       "refund_id: required for a refund in an import"},
      {"sale,1,t,1,EUR\n", CASHBACK_E_FIELD, "has 5 fields, the header 13"},
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    char err[CASHBACK_ERROR_MAX + 1] = "";
    cashback_status st;
    char *json = row_json(FULL_HEADER, bad[i].row, &st, err, sizeof(err));
    ck_assert_msg(json == NULL, "%s accepted", bad[i].row);
    ck_assert_msg(st == bad[i].st, "%s: status %d, want %d (%s)", bad[i].row,
                  (int)st, (int)bad[i].st, err);
    ck_assert_msg(strncmp(err, bad[i].err, strlen(bad[i].err)) == 0,
                  "%s: got '%s'", bad[i].row, err);
  }
  /* Complete for its type is checked at finalize: a sale without a click or
   * a voucher. */
  char err[CASHBACK_ERROR_MAX + 1] = "";
  cashback_status st;
  char *json =
      row_json(FULL_HEADER, "sale,1,,1,EUR,,,,,,,,\n", &st, err, sizeof(err));
  ck_assert_ptr_null(json);
  ck_assert_int_eq(st, CASHBACK_E_FIELD);
  ck_assert_str_eq(err, "click: a sale needs a click token or a voucher code");
}
END_TEST

/* Cells echoed in a row's error are shown printable (a CSV from a shop
 * export may hold anything). */
START_TEST(row_errors_are_printable) {
  char err[CASHBACK_ERROR_MAX + 1];
  cashback_status st;
  char *json = row_json(FULL_HEADER, "\"sa\x1b[31mle\",1,t,1,EUR,,,,,,,,\n",
                        &st, err, sizeof(err));
  ck_assert_ptr_null(json);
  ck_assert_int_eq(st, CASHBACK_E_FIELD);
  ck_assert_str_eq(err, "type: 'sa\\x1b[31mle' must be sale, refund, cancel "
                        "or confirm");
  json = row_json(FULL_HEADER, "sale,1,t,\"4\x1b[2J9\",EUR,,,,,,,,\n", &st, err,
                  sizeof(err));
  ck_assert_ptr_null(json);
  ck_assert_int_eq(st, CASHBACK_E_AMOUNT);
  ck_assert_ptr_nonnull(strstr(err, "'4\\x1b[2J9'"));
  json = row_json(FULL_HEADER, "sale,1,t,1,EUR,\"2026\x1b[2J\",,,,,,,\n", &st,
                  err, sizeof(err));
  ck_assert_ptr_null(json);
  ck_assert_ptr_nonnull(strstr(err, "'2026\\x1b[2J'"));
}
END_TEST

/* The columns are the vocabulary's keys (docs/events.md): every key of the
 * table names a column, whatever its case, and each cell is set under it. */
START_TEST(columns_are_the_vocabulary) {
  cashback__columns cols;
  char err[CASHBACK_ERROR_MAX + 1];
  for (size_t i = 0; cashback__field_at(i); i++) {
    const char *name = cashback__field_at(i)->name;
    char hdr[128];
    if (strcmp(name, "type") == 0 || strcmp(name, "order_id") == 0)
      continue;
    snprintf(hdr, sizeof(hdr), "type,order_id,%s%s\n", name,
             strcmp(name, "meta.") == 0 ? "k" : "");
    ck_assert_msg(header(hdr, &cols, err, sizeof(err)) == CASHBACK_OK, "%s: %s",
                  name, err);
  }
  cashback_status st;
  char *json =
      row_json("TYPE,order_id,currency,Amount_Minor,click_token,voucher,ITEM,"
               "order_time,utc_offset,meta.k\n",
               "sale,1,EUR,4990,tok_v,V1,A-1:1:49.90,1764000000,60,v\n", &st,
               err, sizeof(err));
  ck_assert_msg(json != NULL, "%s", err);
  ck_assert_msg(
      strstr(json, "\"order_time\":\"2025-11-24T17:00:00+01:00\",\"click\":{"
                   "\"token\":\"tok_v\"},\"amount\":4990,\"currency\":\"EUR\","
                   "\"vouchers\":[\"V1\"],\"items\":[{\"sku\":\"A-1\","
                   "\"quantity\":1,\"unit_price\":4990}],\"metadata\":{\"k\":"
                   "\"v\"}}") != NULL,
      "%s", json);
  cashback_free(json);
  /* The vocabulary's rules hold in a file too: one of click or click_token,
   * an amount in one unit. */
  json = row_json("type,order_id,currency,amount,amount_minor,click\n",
                  "sale,1,EUR,49.90,4990,t\n", &st, err, sizeof(err));
  ck_assert_ptr_null(json);
  ck_assert_int_eq(st, CASHBACK_E_FIELD);
  ck_assert_str_eq(err, "amount_minor: give amount or amount_minor, not both");
  /* A detail names the field once, by the column's name: the event's own
   * message for item and voucher, the click column for a bare token. */
  static const struct {
    const char *hdr, *row, *err;
  } named[] = {
      {"type,order_id,currency,item\n", "sale,1,EUR,A:0:1\n",
       "items: 'A:0:1': the quantity '0' must be"},
      {"type,order_id,voucher\n", "sale,1,a b\n", "vouchers[0]: must be"},
      {"type,order_id,vouchers\n", "sale,1,a b \xc3\xa9\n",
       "vouchers[2]: must be"},
      {"type,order_id,click\n", "sale,1,bad token!\n", "click: must be 1-128"},
      {"type,order_id,click_token\n", "sale,1,bad token!\n",
       "click: must be 1-128"},
      {"type,order_id,click\n", "sale,1,\"t t\"\n", "click: must be 1-128"},
  };
  for (size_t i = 0; i < sizeof named / sizeof named[0]; i++) {
    json = row_json(named[i].hdr, named[i].row, &st, err, sizeof(err));
    ck_assert_ptr_null(json);
    ck_assert_msg(strncmp(err, named[i].err, strlen(named[i].err)) == 0,
                  "%s: got '%s'", named[i].row, err);
  }
  char row[256];
  snprintf(row, sizeof(row), "sale,1,%0129d\n", 0);
  json = row_json("type,order_id,click\n", row, &st, err, sizeof(err));
  ck_assert_ptr_null(json);
  ck_assert_str_eq(err, "click: the value is longer than 128 bytes");
  /* An unknown column lists the keys, and the CSV's own names. */
  ck_assert_int_eq(header("type,order_id,colour\n", &cols, err, sizeof(err)),
                   CASHBACK_E_FIELD);
  ck_assert_str_eq(err, "header: unknown column 'colour' (known: type, "
                        "order_id, currency, amount, amount_minor, click, "
                        "click_token, voucher, customer, item, order_time, "
                        "utc_offset, refund_id, reason, test, vouchers, items, "
                        "and meta.<key>)");
}
END_TEST

/* Drift from the vocabulary (issue 11): the customer "unknown" that every
 * other mapping accepts was refused by the importer. */
START_TEST(customer_unknown_accepted) {
  char err[CASHBACK_ERROR_MAX + 1] = "";
  cashback_status st;
  char *json = row_json(FULL_HEADER, "sale,1,t,1,EUR,,Unknown,,,,,,\n", &st,
                        err, sizeof(err));
  ck_assert_msg(json != NULL, "%s", err);
  ck_assert_ptr_null(strstr(json, "\"customer\"")); /* the default: not sent */
  cashback_free(json);
}
END_TEST

/* A click column holding a click handle (the signed cookie value that
 * cashback_capture() sets) was stored as a bare token: the sale carried
 * the whole handle as its token, without landing parameter and capture
 * time. Now the handle is verified and the event keeps all three. */
START_TEST(click_handle_verified) {
  int64_t landed = 1795459317 - 3600; /* an hour before row_json's now */
  cashback_client *c = fixture_client("shop-42", &landed);
  cashback_cookie ck = {.size = sizeof(ck)};
  ck_assert_int_eq(cashback_capture_parts(c, "cb_click=tok_h1", 15, &ck),
                   CASHBACK_OK);
  cashback_client_free(c);
  char row[512], err[CASHBACK_ERROR_MAX + 1] = "";
  snprintf(row, sizeof(row), "sale,1,%s,1,EUR,,,,,,,,\n", ck.value);
  cashback_status st;
  char *json = row_json(FULL_HEADER, row, &st, err, sizeof(err));
  ck_assert_msg(json != NULL, "%s", err);
  ck_assert_msg(strstr(json, "\"click\":{\"token\":\"tok_h1\",\"source\":"
                             "\"cb_click\",\"captured_at\":"
                             "\"2026-11-23T17:41:57Z\"}") != NULL,
                "%s", json);
  cashback_free(json);

  /* Tampered with (a digit of the MAC changed): the row is refused. */
  char bad[sizeof(ck.value)];
  snprintf(bad, sizeof(bad), "%s", ck.value);
  char *mac = strchr(strchr(bad, '.') + 1, '.') + 1;
  *mac = *mac == '0' ? '1' : '0';
  snprintf(row, sizeof(row), "sale,1,%s,1,EUR,,,,,,,,\n", bad);
  json = row_json(FULL_HEADER, row, &st, err, sizeof(err));
  ck_assert_ptr_null(json);
  ck_assert_int_eq(st, CASHBACK_E_CLICK_TAMPERED);
  ck_assert_msg(strncmp(err, "click: the click handle is not valid", 36) == 0,
                "%s", err);

  /* A bare token shaped like a handle (tokens may hold dots) stays the
   * bare token it is. */
  json = row_json(FULL_HEADER, "sale,1,1.a.b.c.d,1,EUR,,,,,,,,\n", &st, err,
                  sizeof(err));
  ck_assert_msg(json != NULL, "%s", err);
  ck_assert_ptr_nonnull(strstr(json, "\"click\":{\"token\":\"1.a.b.c.d\"}"));
  cashback_free(json);
}
END_TEST

START_TEST(item_text) {
  cashback_event *ev = cashback_event_new(CASHBACK_EVENT_SALE, "1");
  ck_assert_ptr_nonnull(ev);
  ck_assert_int_eq(cashback_event_add_item_text(ev, "A-1:2:19.95", "EUR"),
                   CASHBACK_OK);
  ck_assert_int_eq(cashback_event_add_item_text(ev, "B:1:1000::toys", "JPY"),
                   CASHBACK_OK);
  ck_assert_int_eq(cashback_event_add_item_text(ev, "C:3:0.5:Tea pot", "EUR"),
                   CASHBACK_OK);
  ck_assert_int_eq(cashback_event_add_item_text(ev, "D:1:1.5", "JPY"),
                   CASHBACK_E_AMOUNT);
  ck_assert_int_eq(cashback_event_add_item_text(ev, "D:1:1", "XXX"),
                   CASHBACK_E_CURRENCY);
  ck_assert_int_eq(cashback_event_add_item_text(ev, "D:1:-1", "EUR"),
                   CASHBACK_E_AMOUNT);
  ck_assert_int_eq(cashback_event_add_item_text(ev, "D:1000001:1", "EUR"),
                   CASHBACK_E_FIELD);
  ck_assert_int_eq(cashback_event_add_item_text(ev, "D:+1:1", "EUR"),
                   CASHBACK_E_FIELD);
  ck_assert_int_eq(cashback_event_add_item_text(ev, "D::1", "EUR"),
                   CASHBACK_E_FIELD);
  ck_assert_int_eq(cashback_event_add_item_text(ev, ":1:1", "EUR"),
                   CASHBACK_E_FIELD);
  ck_assert_str_eq(cashback_event_last_error(ev),
                   "items[3].sku: must be 1-64 printable characters, no space");
  ck_assert_int_eq(cashback_event_add_item_text(ev, NULL, "EUR"),
                   CASHBACK_E_INVALID_ARGUMENT);
  ck_assert_int_eq(cashback_event_add_item_text(NULL, "a:1:1", "EUR"),
                   CASHBACK_E_INVALID_ARGUMENT);
  ck_assert_int_eq(cashback_event_set_amount(ev, 4990, "EUR"), CASHBACK_OK);
  ck_assert_int_eq(cashback_event_set_click(ev, "t"), CASHBACK_OK);
  int64_t now = 1795459317;
  cashback_client *c = fixture_client("shop-42", &now);
  char *json;
  size_t len;
  ck_assert_int_eq(cashback_event_to_json(c, ev, &json, &len), CASHBACK_OK);
  ck_assert_ptr_nonnull(strstr(
      json, "\"items\":[{\"sku\":\"A-1\",\"quantity\":2,\"unit_price\":1995},"
            "{\"sku\":\"B\",\"quantity\":1,\"unit_price\":1000,\"category\":"
            "\"toys\"},{\"sku\":\"C\",\"name\":\"Tea pot\",\"quantity\":3,"
            "\"unit_price\":50}]"));
  cashback_free(json);
  cashback_event_free(ev);
  cashback_client_free(c);
}
END_TEST

/* --- Whole files -------------------------------------------------------- */

typedef struct seen {
  char lines[128];
  char orders[256]; /* of the rows imported, each followed by a space */
  char ids[8][CASHBACK_EVENT_ID_LEN + 1];
  size_t n_ids;
  char first_error[CASHBACK_ERROR_MAX + 1];
  uint64_t last_bytes, total;
} seen;

static void on_row(const cashback_import_row *row, void *ud) {
  seen *s = ud;
  ck_assert_uint_eq(row->size, sizeof(*row)); /* set by the library */
  size_t o = strlen(s->lines);
  snprintf(s->lines + o, sizeof(s->lines) - o, "%s%llu",
           row->status == CASHBACK_OK ? "+" : "-",
           (unsigned long long)row->line);
  if (row->status == CASHBACK_OK) {
    o = strlen(s->orders);
    snprintf(s->orders + o, sizeof(s->orders) - o, "%s ", row->order_id);
  }
  if (row->status == CASHBACK_OK && s->n_ids < 8) {
    ck_assert_uint_eq(strlen(row->event_id), CASHBACK_EVENT_ID_LEN);
    snprintf(s->ids[s->n_ids++], sizeof(s->ids[0]), "%s", row->event_id);
  } else if (row->status != CASHBACK_OK && !s->first_error[0]) {
    snprintf(s->first_error, sizeof(s->first_error), "%s", row->error);
  }
  ck_assert_uint_ge(row->bytes_read, s->last_bytes);
  s->last_bytes = row->bytes_read;
  s->total = row->bytes_total;
}

static cashback_client *spool_client(char *dir) {
  snprintf(dir, 64, "/tmp/cbimport-XXXXXX");
  ck_assert_ptr_nonnull(mkdtemp(dir));
  cashback_options *o = cashback_options_new();
  ck_assert_int_eq(cashback_options_set_merchant_id(o, "shop-42"), CASHBACK_OK);
  ck_assert_int_eq(cashback_options_set_key(o, "k1", FIXTURE_SECRET),
                   CASHBACK_OK);
  ck_assert_int_eq(
      cashback_options_set_endpoint(o, "http://127.0.0.1:9/v1/events"),
      CASHBACK_OK);
  char spool[128];
  snprintf(spool, sizeof(spool), "%s/spool", dir);
  ck_assert_int_eq(cashback_options_set_spool_dir(o, spool), CASHBACK_OK);
  ck_assert_int_eq(cashback_options_set_durability(o, CASHBACK_DURABLE_PROCESS),
                   CASHBACK_OK);
  cashback_client *c = NULL;
  ck_assert_int_eq(cashback_client_new(o, &c, NULL, 0), CASHBACK_OK);
  return c;
}

static void write_file(const char *path, const char *text) {
  FILE *f = fopen(path, "wb");
  ck_assert_ptr_nonnull(f);
  ck_assert_uint_eq(fwrite(text, 1, strlen(text), f), strlen(text));
  ck_assert_int_eq(fclose(f), 0);
}

static void remove_dir(const char *dir) {
  char cmd[160];
  snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
  ck_assert_int_eq(system(cmd), 0);
}

static const char export_csv[] =
    "\xef\xbb\xbftype,order_id,click,amount,currency,refund_id,vouchers\r\n"
    "sale,1001,tok_1,49.90,EUR,,\r\n"      /* line 2 */
    "sale,1002,,12,EUR,,\"WELCOME10\"\r\n" /* line 3 */
    "sale,1003,tok_3,12.345,EUR,,\r\n"     /* line 4: bad amount */
    "\r\n"                                 /* line 5: blank */
    "refund,1001,,10.00,EUR,CN-1,\r\n"     /* line 6 */
    "sale,\"10\n04\",tok,1,EUR,,\r\n"      /* lines 7-8: bad id */
    "cancel,1002,,,,,\r\n"                 /* line 9 */
    "sale,1005,t\"x,1,EUR,,\r\n"           /* line 10: bad quote */
    "confirm,1001,,,,,";                   /* line 11, no line end */

START_TEST(import_file) {
  char dir[64], path[128];
  cashback_client *c = spool_client(dir);
  snprintf(path, sizeof(path), "%s/export.csv", dir);
  write_file(path, export_csv);

  seen s = {0};
  cashback_import_stats st = {.size = sizeof(st)};
  ck_assert_int_eq(cashback_import_csv(c, path, 0, on_row, &s, &st),
                   CASHBACK_OK);
  ck_assert_str_eq(s.lines, "+2+3-4+6-7+9-10+11");
  ck_assert_uint_eq(st.rows, 8);
  ck_assert_uint_eq(st.imported, 5);
  ck_assert_uint_eq(st.skipped, 3);
  ck_assert_str_eq(s.first_error,
                   "amount: '12.345' is not an exact EUR amount (at most 2 "
                   "decimals, no exponent or spaces)");
  ck_assert_uint_eq(s.total, sizeof(export_csv) - 1);
  ck_assert_uint_eq(s.last_bytes, sizeof(export_csv) - 1);
  /* The sale of 1001 and its refund CN-1 get the ids of docs/protocol.md. */
  ck_assert_str_eq(s.ids[0], "c8a9d4c385cc850fbc2aa93b160c738f");
  cashback_queue_status q = {.size = sizeof(q)};
  ck_assert_int_eq(cashback_get_status(c, &q), CASHBACK_OK);
  ck_assert_uint_eq(q.queued_events, 5);

  /* Again: the same ids, in the same order. */
  seen again = {0};
  ck_assert_int_eq(cashback_import_csv(c, path, 0, on_row, &again, &st),
                   CASHBACK_OK);
  ck_assert_str_eq(again.lines, s.lines);
  ck_assert_uint_eq(again.n_ids, s.n_ids);
  for (size_t i = 0; i < s.n_ids; i++)
    ck_assert_str_eq(again.ids[i], s.ids[i]);

  /* A dry run checks the same rows and stores nothing. */
  seen dry = {0};
  ck_assert_int_eq(
      cashback_import_csv(c, path, CASHBACK_IMPORT_DRY_RUN, on_row, &dry, &st),
      CASHBACK_OK);
  ck_assert_str_eq(dry.lines, s.lines);
  ck_assert_int_eq(cashback_get_status(c, &q), CASHBACK_OK);
  ck_assert_uint_eq(q.queued_events, 10);
  cashback_client_free(c);
  remove_dir(dir);
}
END_TEST

START_TEST(import_whole_file_errors) {
  char dir[64], path[128], err[CASHBACK_ERROR_MAX + 1];
  cashback_client *c = spool_client(dir);
  snprintf(path, sizeof(path), "%s/export.csv", dir);
  cashback_import_stats st = {.size = sizeof(st)};

  ck_assert_int_eq(cashback_import_csv(c, path, 0, NULL, NULL, &st),
                   CASHBACK_E_IO);
  cashback_client_last_error(c, err, sizeof(err));
  ck_assert_ptr_nonnull(strstr(err, "No such file or directory"));

  write_file(path, "\n\n");
  ck_assert_int_eq(cashback_import_csv(c, path, 0, NULL, NULL, &st),
                   CASHBACK_E_FIELD);
  cashback_client_last_error(c, err, sizeof(err));
  ck_assert_ptr_nonnull(strstr(err, "no header row"));

  write_file(path, "\ntype,order,amount\nsale,1,1\n");
  ck_assert_int_eq(cashback_import_csv(c, path, 0, NULL, NULL, &st),
                   CASHBACK_E_FIELD);
  cashback_client_last_error(c, err, sizeof(err));
  ck_assert_ptr_nonnull(strstr(err, "export.csv:2: header: unknown column "
                                    "'order'"));
  ck_assert_uint_eq(st.rows, 0);

  ck_assert_int_eq(cashback_import_csv(c, path, 2, NULL, NULL, &st),
                   CASHBACK_E_INVALID_ARGUMENT);
  ck_assert_int_eq(cashback_import_csv(NULL, path, 0, NULL, NULL, &st),
                   CASHBACK_E_INVALID_ARGUMENT);
  cashback_client_free(c);
  remove_dir(dir);
}
END_TEST

/* A row longer than the read buffer is skipped; the rows after it count. */
START_TEST(import_long_row) {
  char dir[64], path[128];
  cashback_client *c = spool_client(dir);
  snprintf(path, sizeof(path), "%s/export.csv", dir);
  size_t big = 300 * 1024;
  char *text = malloc(big + 256);
  ck_assert_ptr_nonnull(text);
  size_t o = (size_t)snprintf(
      text, 256, "type,order_id,amount,currency,vouchers\nsale,1,1,EUR,");
  memset(text + o, 'v', big);
  o += big;
  snprintf(text + o, 256, "\nsale,2,1,EUR,V2\n");
  write_file(path, text);
  free(text);
  seen s = {0};
  cashback_import_stats st = {.size = sizeof(st)};
  ck_assert_int_eq(cashback_import_csv(c, path, 0, on_row, &s, &st),
                   CASHBACK_OK);
  ck_assert_msg(strcmp(s.lines, "-2+3") == 0, "%s: %s", s.lines, s.first_error);
  ck_assert_str_eq(s.first_error,
                   "the row is longer than 256 KiB: skipped whole");
  cashback_client_free(c);
  remove_dir(dir);
}
END_TEST

/* Issue 10: a record longer than the read buffer was skipped to the next
 * LF, quotes ignored, so the import resumed inside a quoted field. A 300 KiB
 * order note holding a line of its own imported a fake sale under the
 * attacker's click, and the genuine row was lost. Now the record is skipped
 * whole, quotes respected, and reported; the rows around it are stored. */
START_TEST(import_long_quoted_note_smuggles_no_row) {
  char dir[64], path[128];
  cashback_client *c = spool_client(dir);
  snprintf(path, sizeof(path), "%s/export.csv", dir);
  static const char inject[] =
      "\nsale,INJECTED-1,attacker-click,9999.00,EUR,x\n";
  size_t before = 270 * 1024, after = 30 * 1024;
  char *text = malloc(before + after + 512);
  ck_assert_ptr_nonnull(text);
  size_t o = (size_t)snprintf(text, 512,
                              "type,order_id,click,amount,currency,meta.note\n"
                              "sale,1001,tok_1,49.90,EUR,ok\n"
                              "sale,1002,tok_2,10.00,EUR,\"");
  memset(text + o, 'a', before);
  o += before;
  memcpy(text + o, inject, sizeof(inject) - 1);
  o += sizeof(inject) - 1;
  memset(text + o, 'b', after);
  o += after;
  snprintf(text + o, 512, "\"\nsale,1003,tok_3,5.00,EUR,after\n");
  write_file(path, text);
  free(text);

  seen s = {0};
  cashback_import_stats st = {.size = sizeof(st)};
  ck_assert_int_eq(cashback_import_csv(c, path, 0, on_row, &s, &st),
                   CASHBACK_OK);
  ck_assert_msg(strcmp(s.lines, "+2-3+6") == 0, "%s (%s)", s.lines, s.orders);
  ck_assert_str_eq(s.orders, "1001 1003 ");
  ck_assert_str_eq(s.first_error,
                   "the row is longer than 256 KiB: skipped whole, lines 3-5");
  ck_assert_uint_eq(st.rows, 3);
  ck_assert_uint_eq(st.imported, 2);
  ck_assert_uint_eq(st.skipped, 1);
  cashback_queue_status q = {.size = sizeof(q)};
  ck_assert_int_eq(cashback_get_status(c, &q), CASHBACK_OK);
  ck_assert_uint_eq(q.queued_events, 2);
  ck_assert_str_eq(s.ids[0], "c8a9d4c385cc850fbc2aa93b160c738f"); /* 1001 */
  cashback_client_free(c);
  remove_dir(dir);
}
END_TEST

/* The text of `n` repetitions of `unit`, in a static buffer. */
static const char *rep(const char *unit, size_t n) {
  static char out[4][1024];
  static int next;
  char *b = out[next++ % 4];
  size_t u = strlen(unit);
  ck_assert_uint_lt(n * u, sizeof(out[0]));
  for (size_t i = 0; i < n; i++)
    memcpy(b + i * u, unit, u);
  b[n * u] = '\0';
  return b;
}

/* Imports `text` (a dry run) with a read buffer of `buf_size` bytes. */
static cashback_status import_with_buffer(cashback_client *c, const char *dir,
                                          const char *text, size_t buf_size,
                                          seen *s, cashback_import_stats *st) {
  char path[128];
  snprintf(path, sizeof(path), "%s/export.csv", dir);
  write_file(path, text);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  ck_assert_int_ge(fd, 0);
  memset(s, 0, sizeof(*s));
  cashback_status r = cashback__import_fd(
      c, fd, "export.csv", CASHBACK_IMPORT_DRY_RUN, buf_size, on_row, s, st);
  close(fd);
  return r;
}

#define NOTE_HEADER "type,order_id,click,amount,currency,meta.note\n"

/* The same mechanism with a tiny buffer, so that every quote, doubled
 * quote, CR and LF of a long record falls on a refill boundary for one of
 * the sizes: each record that does not fit is skipped whole (its line ends
 * counted, so the later rows keep their line numbers), the others imported
 * as with one pass; never a row from inside a quoted field. */
START_TEST(import_long_records_tiny_buffer) {
  char dir[64];
  cashback_client *c = spool_client(dir);
  char files[6][2048];
  static const struct {
    const char *lines, *orders, *error; /* after "the row is longer than N
                                            bytes" */
  } want[] = {
      /* LF, the attack in small */
      {"+2-3+6", "1 3 ", ": skipped whole, lines 3-5"},
      /* doubled quotes, one right before the LF of the injected line */
      {"+2-3+6", "1 3 ", ": skipped whole, lines 3-5"},
      /* CRLF, and a lone CR inside the note */
      {"+2-3+7", "1 3 ", ": skipped whole, lines 3-6"},
      /* unterminated at the end of the file */
      {"+2-3", "1 ",
       " and a quoted field in it is not closed before the end of the file: "
       "skipped to the end"},
      /* several long records in a row, quoted and not */
      {"+2-3-6-9+12-13+14", "1 2 1 ", ": skipped whole, lines 3-5"},
      /* a long first row, a last one without a line end */
      {"-2+5", "3 ", ": skipped whole, lines 2-4"},
  };
  const char *inj = "\nsale,INJ-1,evil,9.00,EUR,x\n";
  snprintf(files[0], sizeof(files[0]),
           NOTE_HEADER "sale,1,t1,1.00,EUR,a\nsale,2,t2,2.00,EUR,\"%s%s%s\"\n"
                       "sale,3,t3,3.00,EUR,b\n",
           rep("n", 130), inj, rep("m", 20));
  snprintf(files[1], sizeof(files[1]),
           NOTE_HEADER
           "sale,1,t1,1.00,EUR,a\nsale,2,t2,2.00,EUR,\"%s%s%s\"\"\"\n"
           "sale,3,t3,3.00,EUR,b\n",
           rep("\"\"", 70), inj, rep("\"\"", 3));
  snprintf(files[2], sizeof(files[2]),
           "type,order_id,click,amount,currency,meta.note\r\n"
           "sale,1,t1,1.00,EUR,a\r\nsale,2,t2,2.00,EUR,\"%s\r\nsale,INJ-3,"
           "evil,9.00,EUR,x\r\n%s\r\"\r\nsale,3,t3,3.00,EUR,b\r\n",
           rep("n\"\"", 50), rep("m", 20));
  snprintf(files[3], sizeof(files[3]),
           NOTE_HEADER "sale,1,t1,1.00,EUR,a\nsale,2,t2,2.00,EUR,\"open%s%s"
                       "sale,INJ-5,evil,9.00,EUR,y\n",
           rep("z", 130), inj);
  snprintf(files[4], sizeof(files[4]),
           NOTE_HEADER "sale,1,t1,1.00,EUR,a\n"
                       "sale,7,t7,1.00,EUR,\"%s%s\"\n"
                       "sale,8,t8,1.00,EUR,\"%s%s\"\n"
                       "sale,9,t9,1.00,EUR,\"%s%s\"\n"
                       "sale,2,t2,2.00,EUR,b\n"
                       "sale,10,t10,1.00,EUR,%s\n"
                       "confirm,1,,,,",
           rep("p", 130), inj, rep("\"\"", 70), inj, rep("q,", 70), inj,
           rep("u", 150));
  snprintf(files[5], sizeof(files[5]),
           NOTE_HEADER "sale,2,t2,2.00,EUR,\"%s%s\"\nsale,3,t3,3.00,EUR,b",
           rep("n", 130), inj);
  for (size_t f = 0; f < sizeof want / sizeof want[0]; f++)
    for (size_t buf = 48; buf <= 120; buf++) {
      seen s;
      cashback_import_stats st = {.size = sizeof(st)};
      ck_assert_int_eq(import_with_buffer(c, dir, files[f], buf, &s, &st),
                       CASHBACK_OK);
      ck_assert_msg(strcmp(s.lines, want[f].lines) == 0 &&
                        strcmp(s.orders, want[f].orders) == 0,
                    "file %zu, buffer %zu: %s (%s)", f, buf, s.lines, s.orders);
      char err[CASHBACK_ERROR_MAX + 1];
      snprintf(err, sizeof(err), "the row is longer than %zu bytes%s", buf,
               want[f].error);
      ck_assert_msg(strcmp(s.first_error, err) == 0,
                    "file %zu, buffer %zu: '%s'", f, buf, s.first_error);
      ck_assert_uint_eq(st.imported + st.skipped, st.rows);
    }
  /* In one pass (the 256 KiB buffer of cashback_import_csv) the same files
   * have no row too long: the notes are imported, the injected lines are
   * text in them (the CR in the third is refused in metadata: the row is
   * bad, the line numbers after it hold). */
  static const char *const one_pass[][2] = {
      {"+2+3+6", "1 2 3 "}, {"+2+3+6", "1 2 3 "}, {"+2-3+7", "1 3 "}};
  for (size_t f = 0; f < 3; f++) {
    seen s;
    cashback_import_stats st = {.size = sizeof(st)};
    ck_assert_int_eq(import_with_buffer(c, dir, files[f],
                                        CASHBACK__IMPORT_READ_BUF, &s, &st),
                     CASHBACK_OK);
    ck_assert_msg(strcmp(s.lines, one_pass[f][0]) == 0 &&
                      strcmp(s.orders, one_pass[f][1]) == 0,
                  "file %zu: %s (%s)", f, s.lines, s.orders);
  }
  /* A header that does not fit: the import stops, nothing reported. */
  seen s;
  cashback_import_stats st = {.size = sizeof(st)};
  ck_assert_int_eq(import_with_buffer(c, dir, files[0], 40, &s, &st),
                   CASHBACK_E_FIELD);
  char err[CASHBACK_ERROR_MAX + 1];
  cashback_client_last_error(c, err, sizeof(err));
  ck_assert_str_eq(err, "export.csv:1: the header is longer than 40 bytes");
  ck_assert_uint_eq(st.rows, 0);
  ck_assert_str_eq(s.lines, "");
  ck_assert_int_eq(import_with_buffer(c, dir, files[0], 8, &s, &st),
                   CASHBACK_E_INVALID_ARGUMENT);
  cashback_client_free(c);
  remove_dir(dir);
}
END_TEST

/* The same smuggling through a bad record of one pass: after a stray quote
 * (or text after a closing quote) the parser skipped to the next line end,
 * quotes ignored, into a later quoted field of the same record. A bad
 * record is now skipped whole, wherever its quoted fields end. */
START_TEST(import_bad_record_smuggles_no_row) {
  char dir[64];
  cashback_client *c = spool_client(dir);
  seen s;
  cashback_import_stats st = {.size = sizeof(st)};
  ck_assert_int_eq(
      import_with_buffer(c, dir,
                         NOTE_HEADER
                         "sale,1,t1,1.00,EUR,a\n"
                         "sale,2,5\" screen,2.00,EUR,\"x\nsale,INJ-1,evil,"
                         "9.00,EUR,x\n\"\n"
                         "sale,3,\"t3\"x,3.00,EUR,\"y\nsale,INJ-2,evil,"
                         "9.00,EUR,x\n\"\n"
                         "sale,4,t4,4.00,EUR,b\n",
                         CASHBACK__IMPORT_READ_BUF, &s, &st),
      CASHBACK_OK);
  ck_assert_msg(strcmp(s.lines, "+2-3-6+9") == 0, "%s (%s)", s.lines, s.orders);
  ck_assert_str_eq(s.orders, "1 4 ");
  ck_assert_str_eq(s.first_error,
                   "a quote inside a field that does not start with one "
                   "(quote the whole field, and double the quote)");
  cashback_client_free(c);
  remove_dir(dir);
}
END_TEST

TCase *cashback_test_import(void) {
  TCase *tc = tcase_create("import");
  tcase_add_test(tc, header_columns);
  tcase_add_test(tc, rows_as_events);
  tcase_add_test(tc, bad_rows_name_the_column);
  tcase_add_test(tc, row_errors_are_printable);
  tcase_add_test(tc, columns_are_the_vocabulary);
  tcase_add_test(tc, customer_unknown_accepted);
  tcase_add_test(tc, click_handle_verified);
  tcase_add_test(tc, item_text);
  tcase_add_test(tc, import_file);
  tcase_add_test(tc, import_whole_file_errors);
  tcase_add_test(tc, import_long_row);
  tcase_add_test(tc, import_long_quoted_note_smuggles_no_row);
  tcase_add_test(tc, import_long_records_tiny_buffer);
  tcase_add_test(tc, import_bad_record_smuggles_no_row);
  return tc;
}
