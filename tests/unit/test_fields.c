/* Unit tests: sdk/cashback_fields.c (the event vocabulary and the event
 * text parser, cashback_event_parse()) and the counted event calls it
 * uses (cashback_event_create(), the _n setters, add_item_decimal). */
#include "cashback.h"
#include "cashback_fields.h"
#include "fixture.h"
#include "tests.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int64_t now = 1764000000; /* 2025-11-24T16:00:00Z */

static cashback_status parse(cashback_client *c, const char *text,
                             cashback_event **ev, char *detail) {
  return cashback_event_parse(c, text, strlen(text), ev, detail,
                              CASHBACK_ERROR_MAX + 1);
}

/* The event's wire JSON, parsed. */
static cJSON *json_of(cashback_client *c, cashback_event *ev) {
  char *text = NULL;
  size_t len = 0;
  ck_assert_int_eq(cashback_event_to_json(c, ev, &text, &len), CASHBACK_OK);
  cJSON *j = cJSON_Parse(text);
  ck_assert_ptr_nonnull(j);
  cashback_free(text);
  return j;
}

static const char *str(const cJSON *o, const char *name) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
  ck_assert_msg(cJSON_IsString(v), "%s is not a string", name);
  return v->valuestring;
}

static double num(const cJSON *o, const char *name) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
  ck_assert_msg(cJSON_IsNumber(v), "%s is not a number", name);
  return v->valuedouble;
}

/* Parsing `text` fails with `st` and a detail containing `want`. */
static void refused(cashback_client *c, const char *text, size_t len,
                    cashback_status st, const char *want) {
  cashback_event *ev = (cashback_event *)1;
  char detail[CASHBACK_ERROR_MAX + 1];
  cashback_status got =
      cashback_event_parse(c, text, len, &ev, detail, sizeof(detail));
  ck_assert_msg(got == st, "'%.60s': status %d, want %d (%s)", text, got, st,
                detail);
  ck_assert_ptr_null(ev);
  ck_assert_msg(strstr(detail, want) != NULL, "'%.60s': detail '%s' lacks '%s'",
                text, detail, want);
  ck_assert(test_all_printable(detail));
}

static void refused_s(cashback_client *c, const char *text, cashback_status st,
                      const char *want) {
  refused(c, text, strlen(text), st, want);
}

/* A signed click handle for token `tok` captured now. */
static void handle_for(cashback_client *c, const char *tok, char *out,
                       size_t size) {
  char target[256], sc[CASHBACK_SET_COOKIE_MAX + 1];
  snprintf(target, sizeof(target), "/landing?cb_click=%s", tok);
  ck_assert_int_eq(cashback_capture(c, target, strlen(target), sc, sizeof(sc)),
                   CASHBACK_OK);
  const char *eq = strchr(sc, '=');
  const char *semi = strchr(sc, ';');
  ck_assert(eq && semi && semi > eq);
  size_t n = (size_t)(semi - eq - 1);
  ck_assert_uint_lt(n, size);
  memcpy(out, eq + 1, n);
  out[n] = '\0';
}

START_TEST(every_key_sets_its_field) {
  cashback_client *c = fixture_client("shop-1", &now);
  char handle[CASHBACK_HANDLE_MAX + 1], text[2048];
  handle_for(c, "tok-42", handle, sizeof(handle));
  snprintf(text, sizeof(text),
           " type=sale ; order_id=1001;amount=49.90;currency=EUR;click=%s;"
           "voucher=WELCOME10;voucher=VIP;customer=new;"
           "item=SKU1:2:19.95:Shoes:footwear;item=SKU2:1:9.99;"
           "order_time=2026-11-23T19:42:00%%2B01:00;test=yes;"
           "meta.channel=web%%20shop;meta.note=a%%3Bb%%3Dc;;",
           handle);
  cashback_event *ev = NULL;
  char detail[CASHBACK_ERROR_MAX + 1];
  ck_assert_msg(parse(c, text, &ev, detail) == CASHBACK_OK, "%s", detail);
  ck_assert_str_eq(detail, "");
  cJSON *j = json_of(c, ev);
  ck_assert_str_eq(str(j, "type"), "sale");
  ck_assert_str_eq(str(j, "order_id"), "1001");
  ck_assert_int_eq((int)num(j, "amount"), 4990);
  ck_assert_str_eq(str(j, "currency"), "EUR");
  const cJSON *click = cJSON_GetObjectItemCaseSensitive(j, "click");
  ck_assert_str_eq(str(click, "token"), "tok-42");
  ck_assert_str_eq(str(click, "source"), "cb_click");
  ck_assert_str_eq(str(click, "captured_at"), "2025-11-24T16:00:00Z");
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, "vouchers");
  ck_assert_int_eq(cJSON_GetArraySize(v), 2);
  ck_assert_str_eq(cJSON_GetArrayItem(v, 1)->valuestring, "VIP");
  ck_assert_str_eq(str(j, "customer"), "new");
  const cJSON *items = cJSON_GetObjectItemCaseSensitive(j, "items");
  ck_assert_int_eq(cJSON_GetArraySize(items), 2);
  const cJSON *i0 = cJSON_GetArrayItem(items, 0);
  ck_assert_str_eq(str(i0, "sku"), "SKU1");
  ck_assert_str_eq(str(i0, "name"), "Shoes");
  ck_assert_str_eq(str(i0, "category"), "footwear");
  ck_assert_int_eq((int)num(i0, "quantity"), 2);
  ck_assert_int_eq((int)num(i0, "unit_price"), 1995);
  ck_assert_str_eq(str(j, "order_time"), "2026-11-23T19:42:00+01:00");
  ck_assert(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(j, "test")));
  const cJSON *m = cJSON_GetObjectItemCaseSensitive(j, "metadata");
  ck_assert_str_eq(str(m, "channel"), "web shop");
  ck_assert_str_eq(str(m, "note"), "a;b=c");
  cJSON_Delete(j);
  cashback_event_free(ev);

  /* The other keys: refund_id, reason, amount_minor, click_token,
   * order_time in Unix seconds with utc_offset, customer=unknown. */
  const char *refund =
      "type=refund;order_id=1001;refund_id=CN-7;reason=returned;"
      "amount_minor=1995;currency=EUR;click_token=tok-1;"
      "order_time=1764000000;utc_offset=60;customer=unknown;test=false";
  ck_assert_msg(parse(c, refund, &ev, detail) == CASHBACK_OK, "%s", detail);
  j = json_of(c, ev);
  ck_assert_str_eq(str(j, "type"), "refund");
  ck_assert_str_eq(str(j, "refund_id"), "CN-7");
  ck_assert_str_eq(str(j, "reason"), "returned");
  ck_assert_int_eq((int)num(j, "amount"), 1995);
  ck_assert_str_eq(str(cJSON_GetObjectItemCaseSensitive(j, "click"), "token"),
                   "tok-1");
  ck_assert_str_eq(str(j, "order_time"), "2025-11-24T17:00:00+01:00");
  ck_assert_ptr_null(cJSON_GetObjectItemCaseSensitive(j, "customer"));
  ck_assert_ptr_null(cJSON_GetObjectItemCaseSensitive(j, "test"));
  cJSON_Delete(j);
  cashback_event_free(ev);
  cashback_client_free(c);
}
END_TEST

/* Every entry of the table is reached by its name, and names are unique. */
START_TEST(table_names_find_their_entry) {
  size_t n = 0;
  for (const cashback__field *f; (f = cashback__field_at(n)); n++) {
    const cashback__field *g = cashback__field_find(f->name, strlen(f->name));
    if (strcmp(f->name, "meta.") == 0)
      g = cashback__field_find("meta.x", 6);
    ck_assert_ptr_eq(g, f);
    ck_assert(f->max > 0 && f->max <= CASHBACK__FIELD_VALUE_MAX);
  }
  ck_assert_uint_eq(n, 16);
  ck_assert_ptr_null(cashback__field_find("meta.", 5));
  ck_assert_ptr_null(cashback__field_find("Type", 4));
  ck_assert_ptr_null(cashback__field_find("items", 5));
}
END_TEST

START_TEST(errors_name_the_key) {
  cashback_client *c = fixture_client("shop-1", &now);
  const char *base = "type=sale;order_id=1;currency=EUR;amount=1;";
  char t[512];
#define R(suffix, st, want)                                                    \
  do {                                                                         \
    snprintf(t, sizeof(t), "%s%s", base, suffix);                              \
    refused_s(c, t, st, want);                                                 \
  } while (0)
  refused_s(c, "order_id=1", CASHBACK_E_FIELD, "type: required");
  refused_s(c, "type=sale", CASHBACK_E_FIELD, "order_id: required");
  refused_s(c, "type=purchase;order_id=1", CASHBACK_E_FIELD,
            "type: 'purchase' must be sale");
  refused_s(c, "type=sale;order_id=a b", CASHBACK_E_FIELD,
            "order_id: must be 1-64");
  refused_s(c, "type=sale;order_id=1;amount=1", CASHBACK_E_CURRENCY,
            "amount: needs currency");
  refused_s(c, "type=sale;order_id=1;currency=XYZ", CASHBACK_E_CURRENCY,
            "currency: 'XYZ' is not an active ISO 4217 code");
  R("oops", CASHBACK_E_FIELD, "event text: pair 5: expected key=value");
  R("=1", CASHBACK_E_FIELD, "event text: pair 5: expected key=value");
  R("colour=red", CASHBACK_E_FIELD, "event text: pair 5: unknown key 'colour'");
  R("amount=2", CASHBACK_E_FIELD, "amount: given twice");
  R("amount_minor=2", CASHBACK_E_FIELD,
    "amount_minor: give amount or amount_minor, not both");
  R("type=refund", CASHBACK_E_FIELD, "type: given twice");
  R("currency=USD", CASHBACK_E_FIELD, "currency: given twice");
  refused_s(c, "type=sale;order_id=1;currency=EUR;amount=1.234",
            CASHBACK_E_AMOUNT, "amount: '1.234' is not an exact EUR amount");
  refused_s(c, "type=sale;order_id=1;currency=EUR;amount_minor=1.5",
            CASHBACK_E_AMOUNT, "amount_minor: '1.5' must be a whole number");
  R("click_token=a b", CASHBACK_E_FIELD, "click_token: click: must be 1-128");
  R("click_token=a;click_token=b", CASHBACK_E_FIELD,
    "click_token: given twice");
  R("click=1.2.3", CASHBACK_E_CLICK_MALFORMED,
    "click: the click handle is not valid");
  R("click=a;b", CASHBACK_E_FIELD, "pair 6: expected key=value");
  R("click=%3B", CASHBACK_E_CLICK_MALFORMED,
    "click: the click handle is not valid");
  R("voucher=a b", CASHBACK_E_FIELD, "voucher: vouchers[0]: must be 1-64");
  R("customer=vip", CASHBACK_E_FIELD,
    "customer: 'vip' must be new, returning or unknown");
  R("item=SKU1:0:1", CASHBACK_E_FIELD, "item: items: 'SKU1:0:1': the quantity");
  R("item=SKU1:1", CASHBACK_E_FIELD, "must be sku:quantity:unit_price");
  R("item=SKU1:1:1.999", CASHBACK_E_AMOUNT, "the unit price '1.999'");
  R("order_time=yesterday", CASHBACK_E_FIELD,
    "order_time: 'yesterday' is neither Unix seconds nor an RFC 3339");
  R("utc_offset=60", CASHBACK_E_FIELD, "utc_offset: needs order_time");
  R("utc_offset=900;order_time=1", CASHBACK_E_FIELD,
    "utc_offset: '900' must be whole minutes");
  R("utc_offset=60;order_time=2026-11-23T19:42:00Z", CASHBACK_E_FIELD,
    "utc_offset: only with an order_time in Unix seconds");
  R("refund_id=CN-1", CASHBACK_E_FIELD, "refund_id: only for a refund");
  R("reason=late", CASHBACK_E_FIELD, "reason: only for a refund or cancel");
  R("test=maybe", CASHBACK_E_FIELD, "test: 'maybe' must be true, false");
  R("meta.a=1;meta.a=2", CASHBACK_E_FIELD, "meta.a: given twice");
  R("meta.a%20b=1", CASHBACK_E_FIELD, "meta.a%20b: metadata: key must be");
  R("meta.a*b=1", CASHBACK_E_FIELD, "meta.a*b: metadata: key must be 1-64");
  R("meta.a=%01", CASHBACK_E_FIELD, "meta.a: metadata.a: value must be UTF-8");
  R("voucher=%zz", CASHBACK_E_FIELD,
    "voucher: bad percent-encoding ('%' must be followed by two hex digits)");
  R("voucher=%4", CASHBACK_E_FIELD, "voucher: bad percent-encoding");
  R("voucher=a%00b", CASHBACK_E_FIELD, "voucher: the value contains a NUL");
  /* A click handle needs a client to verify it. */
  refused_s(NULL, "type=sale;order_id=1;click=1.2.3.4.5",
            CASHBACK_E_INVALID_ARGUMENT,
            "click: a click handle needs a client");
  /* Incomplete for its type: not an error of the parser (finalize says). */
  cashback_event *ev = NULL;
  char d[CASHBACK_ERROR_MAX + 1];
  ck_assert_int_eq(parse(NULL, "type=sale;order_id=1", &ev, d), CASHBACK_OK);
  ck_assert_int_eq(cashback_event_finalize(c, ev, NULL), CASHBACK_E_FIELD);
  cashback_event_free(ev);
#undef R
  cashback_client_free(c);
}
END_TEST

START_TEST(binary_and_long_input_is_not_echoed) {
  /* A NUL inside the text: in a key, or in a value. */
  static const char nul_key[] = "type=sale;order_id=1;vou\0cher=A";
  refused(NULL, nul_key, sizeof(nul_key) - 1, CASHBACK_E_FIELD,
          "pair 3: unknown key 'vou\\x00cher'");
  static const char nul_val[] = "type=sale;order_id=1;voucher=A\0B";
  refused(NULL, nul_val, sizeof(nul_val) - 1, CASHBACK_E_FIELD,
          "voucher: the value contains a NUL byte");
  /* The text is read to `len` only: what follows is not part of it. */
  cashback_event *ev = NULL;
  char d[CASHBACK_ERROR_MAX + 1];
  ck_assert_int_eq(cashback_event_parse(NULL, nul_val, 30, &ev, d, sizeof(d)),
                   CASHBACK_OK);
  cashback_event_free(ev);
  /* A long unknown key is shown cut, printable. */
  char text[600] = "type=sale;order_id=1;";
  size_t n = strlen(text);
  memset(text + n, '\x9f', 500);
  memcpy(text + n + 500, "=1", 3);
  refused_s(NULL, text, CASHBACK_E_FIELD, "unknown key '\\x9f\\x9f");
  char detail[CASHBACK_ERROR_MAX + 1];
  ev = NULL;
  ck_assert_int_ne(parse(NULL, text, &ev, detail), CASHBACK_OK);
  ck_assert_uint_lt(strlen(detail), 120);
  /* detail may be small or absent. */
  char tiny[8];
  ck_assert_int_eq(cashback_event_parse(NULL, "x", 1, &ev, tiny, sizeof(tiny)),
                   CASHBACK_E_FIELD);
  ck_assert_uint_le(strlen(tiny), 7);
  ck_assert_int_eq(cashback_event_parse(NULL, "x", 1, &ev, NULL, 0),
                   CASHBACK_E_FIELD);
  ck_assert_int_eq(cashback_event_parse(NULL, NULL, 1, &ev, NULL, 0),
                   CASHBACK_E_INVALID_ARGUMENT);
  ck_assert_int_eq(cashback_event_parse(NULL, "x", 1, NULL, NULL, 0),
                   CASHBACK_E_INVALID_ARGUMENT);
}
END_TEST

START_TEST(caps) {
  /* The text: at most 65536 bytes; one more is refused before any work. */
  size_t max = CASHBACK__EVENT_TEXT_MAX;
  char *text = malloc(max + 2);
  ck_assert_ptr_nonnull(text);
  const char *head = "type=sale;order_id=1;";
  memcpy(text, head, strlen(head));
  memset(text + strlen(head), ';', max + 1 - strlen(head));
  cashback_event *ev = NULL;
  char d[CASHBACK_ERROR_MAX + 1];
  ck_assert_int_eq(cashback_event_parse(NULL, text, max, &ev, d, sizeof(d)),
                   CASHBACK_OK);
  cashback_event_free(ev);
  refused(NULL, text, max + 1, CASHBACK_E_TOO_BIG,
          "event text: larger than 65536 bytes");
  /* A value: at most its field's cap, decoded. */
  char big[200];
  snprintf(big, sizeof(big), "type=sale;order_id=1;voucher=%065d", 0);
  refused_s(NULL, big, CASHBACK_E_FIELD,
            "voucher: the value is longer than 64 bytes");
  snprintf(big, sizeof(big), "type=sale;order_id=1;voucher=%064d", 0);
  ck_assert_int_eq(parse(NULL, big, &ev, d), CASHBACK_OK);
  cashback_event_free(ev);
  /* %41 is one decoded byte: 64 of them fit. */
  char enc[400] = "type=sale;order_id=1;voucher=";
  size_t at = strlen(enc);
  for (int i = 0; i < 64; i++, at += 3)
    memcpy(enc + at, "%41", 4);
  ck_assert_int_eq(parse(NULL, enc, &ev, d), CASHBACK_OK);
  cashback_event_free(ev);
  /* Repeatable keys stop at the event's caps: 20 vouchers. */
  char many[2048] = "type=sale;order_id=1";
  for (int i = 0; i < 21; i++) {
    size_t l = strlen(many);
    snprintf(many + l, sizeof(many) - l, ";voucher=V%d", i);
  }
  refused_s(NULL, many, CASHBACK_E_TOO_BIG,
            "voucher: vouchers: at most 20 codes");
  /* Metadata: 4096 bytes in all. */
  memset(text, 0, max + 2);
  snprintf(text, max, "type=sale;order_id=1;meta.a=");
  memset(text + strlen(text), 'x', 4000);
  memcpy(text + strlen(text), ";meta.b=", 9);
  memset(text + strlen(text), 'y', 200);
  refused_s(NULL, text, CASHBACK_E_TOO_BIG,
            "meta.b: metadata.b: all metadata together must fit 4096 bytes");
  free(text);
}
END_TEST

START_TEST(percent_decoding_is_the_connection_strings) {
  cashback_event *ev = NULL;
  char d[CASHBACK_ERROR_MAX + 1];
  cashback_client *c = fixture_client("shop-1", &now);
  /* '+' stays '+', %XX in either case, blanks around pairs and values
   * dropped, blanks inside kept. */
  ck_assert_int_eq(
      parse(c,
            "\ttype = sale ;order_id= A+1 ;click_token=t;currency=EUR;"
            "amount=1;"
            "meta.k= a%2fb%2F c ",
            &ev, d),
      CASHBACK_OK);
  cJSON *j = json_of(c, ev);
  ck_assert_str_eq(str(j, "order_id"), "A+1");
  ck_assert_str_eq(str(cJSON_GetObjectItemCaseSensitive(j, "metadata"), "k"),
                   "a/b/ c");
  cJSON_Delete(j);
  cashback_event_free(ev);
  /* Keys are not decoded: %74ype is not "type". */
  refused_s(NULL, "%74ype=sale;order_id=1", CASHBACK_E_FIELD,
            "unknown key '%74ype'");
  cashback_client_free(c);
}
END_TEST

START_TEST(create_says_why) {
  cashback_event *ev = (cashback_event *)1;
  char d[CASHBACK_ERROR_MAX + 1];
  ck_assert_int_eq(
      cashback_event_create(CASHBACK_EVENT_SALE, "a\0b", 3, &ev, d, sizeof(d)),
      CASHBACK_E_FIELD);
  ck_assert_ptr_null(ev);
  ck_assert_str_eq(d, "order_id: contains a NUL byte");
  ck_assert_int_eq(
      cashback_event_create(CASHBACK_EVENT_SALE, "a b", 3, &ev, d, sizeof(d)),
      CASHBACK_E_FIELD);
  ck_assert_str_eq(
      d, "order_id: must be 1-64 printable ASCII characters, no space");
  ck_assert_int_eq(
      cashback_event_create((cashback_event_type)9, "1", 1, &ev, d, sizeof(d)),
      CASHBACK_E_INVALID_ARGUMENT);
  ck_assert_str_eq(d, "type: must be sale, refund, cancel or confirm");
  ck_assert_int_eq(
      cashback_event_create(CASHBACK_EVENT_SALE, NULL, 0, &ev, d, sizeof(d)),
      CASHBACK_E_INVALID_ARGUMENT);
  ck_assert_int_eq(
      cashback_event_create(CASHBACK_EVENT_SALE, "1", 1, NULL, NULL, 0),
      CASHBACK_E_INVALID_ARGUMENT);
  /* Counted: "12345" with len 3 is order "123". */
  ck_assert_int_eq(cashback_event_create(CASHBACK_EVENT_CANCEL, "12345", 3, &ev,
                                         d, sizeof(d)),
                   CASHBACK_OK);
  ck_assert_str_eq(d, "");
  cashback_client *c = fixture_client("shop-1", &now);
  cJSON *j = json_of(c, ev);
  ck_assert_str_eq(str(j, "order_id"), "123");
  cJSON_Delete(j);
  cashback_event_free(ev);
  cashback_client_free(c);
}
END_TEST

START_TEST(counted_setters_refuse_nul_and_read_len_only) {
  cashback_event *ev = cashback_event_new(CASHBACK_EVENT_REFUND, "1");
  ck_assert_ptr_nonnull(ev);
  ck_assert_int_eq(cashback_event_set_click_n(ev, "ab\0c", 4),
                   CASHBACK_E_FIELD);
  ck_assert_str_eq(cashback_event_last_error(ev), "click: contains a NUL byte");
  ck_assert_int_eq(cashback_event_add_voucher_n(ev, "V\0", 2),
                   CASHBACK_E_FIELD);
  ck_assert_str_eq(cashback_event_last_error(ev),
                   "vouchers[0]: contains a NUL byte");
  ck_assert_int_eq(cashback_event_set_metadata_n(ev, "k\0", 2, "v", 1),
                   CASHBACK_E_FIELD);
  ck_assert_str_eq(cashback_event_last_error(ev),
                   "metadata: the key contains a NUL byte");
  ck_assert_int_eq(cashback_event_set_metadata_n(ev, "k", 1, "v\0w", 3),
                   CASHBACK_E_FIELD);
  ck_assert_str_eq(cashback_event_last_error(ev),
                   "metadata.k: the value contains a NUL byte");
  ck_assert_int_eq(cashback_event_set_refund_id_n(ev, "R\0", 2),
                   CASHBACK_E_FIELD);
  ck_assert_str_eq(cashback_event_last_error(ev),
                   "refund_id: contains a NUL byte");
  ck_assert_int_eq(cashback_event_set_reason_n(ev, "r\0", 2), CASHBACK_E_FIELD);
  ck_assert_str_eq(cashback_event_last_error(ev),
                   "reason: contains a NUL byte");
  ck_assert_int_eq(cashback_event_set_amount_decimal_n(ev, "1\0", 2, "EUR", 3),
                   CASHBACK_E_AMOUNT);
  ck_assert_int_eq(cashback_event_set_amount_decimal_n(ev, "1", 1, "EU\0", 3),
                   CASHBACK_E_CURRENCY);
  ck_assert_int_eq(cashback_event_add_item_text_n(ev, "S:1:1\0", 6, "EUR", 3),
                   CASHBACK_E_FIELD);
  ck_assert_str_eq(cashback_event_last_error(ev),
                   "items: the text contains a NUL byte");
  /* Only `len` bytes are read. */
  ck_assert_int_eq(cashback_event_set_click_n(ev, "tok-1XYZ", 5), CASHBACK_OK);
  ck_assert_int_eq(cashback_event_add_voucher_n(ev, "V1XYZ", 2), CASHBACK_OK);
  ck_assert_int_eq(cashback_event_set_metadata_n(ev, "keyXYZ", 3, "valXYZ", 3),
                   CASHBACK_OK);
  ck_assert_int_eq(cashback_event_set_refund_id_n(ev, "CN-1XYZ", 4),
                   CASHBACK_OK);
  ck_assert_int_eq(cashback_event_set_reason_n(ev, "lateXYZ", 4), CASHBACK_OK);
  ck_assert_int_eq(
      cashback_event_set_amount_decimal_n(ev, "5.00XYZ", 4, "EURX", 3),
      CASHBACK_OK);
  ck_assert_int_eq(
      cashback_event_add_item_text_n(ev, "S1:2:1.50|junk", 9, "EURX", 3),
      CASHBACK_OK);
  cashback_client *c = fixture_client("shop-1", &now);
  cJSON *j = json_of(c, ev);
  ck_assert_str_eq(str(cJSON_GetObjectItemCaseSensitive(j, "click"), "token"),
                   "tok-1");
  ck_assert_str_eq(
      cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(j, "vouchers"), 0)
          ->valuestring,
      "V1");
  ck_assert_str_eq(str(cJSON_GetObjectItemCaseSensitive(j, "metadata"), "key"),
                   "val");
  ck_assert_str_eq(str(j, "refund_id"), "CN-1");
  ck_assert_str_eq(str(j, "reason"), "late");
  ck_assert_int_eq((int)num(j, "amount"), 500);
  const cJSON *it =
      cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(j, "items"), 0);
  ck_assert_int_eq((int)num(it, "unit_price"), 150);
  cJSON_Delete(j);
  cashback_event_free(ev);
  cashback_client_free(c);
}
END_TEST

START_TEST(add_item_decimal) {
  cashback_event *ev = cashback_event_new(CASHBACK_EVENT_SALE, "1");
  ck_assert_ptr_nonnull(ev);
  ck_assert_int_eq(cashback_event_set_amount(ev, 100, "JPY"), CASHBACK_OK);
  ck_assert_int_eq(cashback_event_set_click(ev, "t"), CASHBACK_OK);
  /* A free-form name: ':' and UTF-8 are fine. */
  const char *name = "Tea: green, 100 g \xc3\xa9";
  ck_assert_int_eq(cashback_event_add_item_decimal(ev, "A-1", 3, name,
                                                   strlen(name), 2, "19.95", 5,
                                                   "EUR", 3, "kit:chen", 8),
                   CASHBACK_OK);
  ck_assert_int_eq(cashback_event_add_item_decimal(ev, "B", 1, NULL, 0, 1, "7",
                                                   1, "JPY", 3, NULL, 0),
                   CASHBACK_OK);
  ck_assert_int_eq(cashback_event_add_item_decimal(ev, "C", 1, NULL, 0, 1,
                                                   "1.5", 3, "JPY", 3, NULL, 0),
                   CASHBACK_E_AMOUNT);
  ck_assert_str_eq(cashback_event_last_error(ev),
                   "items[2].unit_price: '1.5' is not an exact JPY amount (at "
                   "most 0 decimals, no exponent or spaces)");
  ck_assert_int_eq(cashback_event_add_item_decimal(ev, "C", 1, NULL, 0, 1, "1",
                                                   1, "EURO", 4, NULL, 0),
                   CASHBACK_E_CURRENCY);
  ck_assert_int_eq(cashback_event_add_item_decimal(ev, "C", 1, "a\0", 2, 1, "1",
                                                   1, "EUR", 3, NULL, 0),
                   CASHBACK_E_FIELD);
  ck_assert_str_eq(cashback_event_last_error(ev),
                   "items[2].name: contains a NUL byte");
  ck_assert_int_eq(cashback_event_add_item_decimal(ev, "C", 1, NULL, 0, 0, "1",
                                                   1, "EUR", 3, NULL, 0),
                   CASHBACK_E_FIELD);
  ck_assert_int_eq(cashback_event_add_item_decimal(NULL, "C", 1, NULL, 0, 1,
                                                   "1", 1, "EUR", 3, NULL, 0),
                   CASHBACK_E_INVALID_ARGUMENT);
  cashback_client *c = fixture_client("shop-1", &now);
  cJSON *j = json_of(c, ev);
  const cJSON *items = cJSON_GetObjectItemCaseSensitive(j, "items");
  ck_assert_int_eq(cJSON_GetArraySize(items), 2);
  const cJSON *i0 = cJSON_GetArrayItem(items, 0);
  ck_assert_str_eq(str(i0, "name"), name);
  ck_assert_str_eq(str(i0, "category"), "kit:chen");
  ck_assert_int_eq((int)num(i0, "unit_price"), 1995);
  ck_assert_int_eq((int)num(cJSON_GetArrayItem(items, 1), "unit_price"), 7);
  ck_assert_ptr_null(
      cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(items, 1), "name"));
  cJSON_Delete(j);
  cashback_event_free(ev);
  cashback_client_free(c);
}
END_TEST

/* The click handle keeps token, landing parameter and capture time; a
 * tampered or expired one is refused like the cookie. */
START_TEST(click_handle_verified_like_the_cookie) {
  int64_t t = now;
  cashback_client *c = fixture_client("shop-1", &t);
  char handle[CASHBACK_HANDLE_MAX + 1], text[1024];
  handle_for(c, "abc", handle, sizeof(handle));
  t += 3600;
  snprintf(text, sizeof(text), "type=sale;order_id=9;click=%s", handle);
  cashback_event *ev = NULL;
  char d[CASHBACK_ERROR_MAX + 1];
  ck_assert_msg(parse(c, text, &ev, d) == CASHBACK_OK, "%s", d);
  ck_assert_int_eq(cashback_event_set_amount(ev, 1, "EUR"), CASHBACK_OK);
  cJSON *j = json_of(c, ev);
  const cJSON *click = cJSON_GetObjectItemCaseSensitive(j, "click");
  ck_assert_str_eq(str(click, "token"), "abc");
  ck_assert_str_eq(str(click, "captured_at"), "2025-11-24T16:00:00Z");
  cJSON_Delete(j);
  cashback_event_free(ev);
  /* One character of the mac changed. */
  char *mac = strchr(strchr(handle, '.') + 1, '.') + 1, orig = *mac;
  *mac = orig == 'a' ? 'b' : 'a';
  snprintf(text, sizeof(text), "type=sale;order_id=9;click=%s", handle);
  refused_s(c, text, CASHBACK_E_CLICK_TAMPERED, "click: the click handle");
  /* The verifier's own reason, not the status's generic text (the old
   * code took the reason's status for a failure to read it). */
  refused_s(c, text, CASHBACK_E_CLICK_TAMPERED, "signature does not match");
  *mac = orig;
  /* Past the attribution window. */
  t += 400 * 86400;
  snprintf(text, sizeof(text), "type=sale;order_id=9;click=%s", handle);
  refused_s(c, text, CASHBACK_E_CLICK_EXPIRED, "click: the click handle");
  refused_s(c, text, CASHBACK_E_CLICK_EXPIRED, "attribution window is");
  cashback_client_free(c);
}
END_TEST

TCase *cashback_test_fields(void) {
  TCase *tc = tcase_create("fields");
  tcase_add_test(tc, every_key_sets_its_field);
  tcase_add_test(tc, table_names_find_their_entry);
  tcase_add_test(tc, errors_name_the_key);
  tcase_add_test(tc, binary_and_long_input_is_not_echoed);
  tcase_add_test(tc, caps);
  tcase_add_test(tc, percent_decoding_is_the_connection_strings);
  tcase_add_test(tc, create_says_why);
  tcase_add_test(tc, counted_setters_refuse_nul_and_read_len_only);
  tcase_add_test(tc, add_item_decimal);
  tcase_add_test(tc, click_handle_verified_like_the_cookie);
  return tc;
}
