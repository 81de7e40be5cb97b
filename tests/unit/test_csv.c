/* Unit tests for sdk/cashback_csv.c: RFC 4180 records. */
#include "tests.h"

#include "cashback_csv.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static cashback__csv_record *new_rec(void) {
  cashback__csv_record *r = malloc(sizeof(*r));
  ck_assert_ptr_nonnull(r);
  return r;
}

static const char *field(const cashback__csv_record *r, size_t i) {
  ck_assert_uint_lt(i, r->n);
  return r->data + r->off[i];
}

/* Parses all of `in` at once (eof) into "a|b|c/lines;" per record, and
 * "!why/lines;" for a bad one. */
static void dump(const char *in, size_t len, char *out, size_t size) {
  cashback__csv_record *r = new_rec();
  size_t pos = 0, o = 0;
  out[0] = '\0';
  for (;;) {
    size_t used;
    const char *why;
    cashback__csv_result res =
        cashback__csv_next(in + pos, len - pos, 1, r, &used, &why);
    ck_assert_int_ne(res, CASHBACK__CSV_MORE); /* never with eof */
    if (res == CASHBACK__CSV_END)
      break;
    ck_assert_uint_gt(used, 0);
    pos += used;
    if (res == CASHBACK__CSV_BAD) {
      o += (size_t)snprintf(out + o, size - o, "!%s/%zu;", why, r->lines);
      continue;
    }
    for (size_t i = 0; i < r->n; i++) {
      ck_assert_uint_eq(strlen(field(r, i)), r->len[i]);
      o += (size_t)snprintf(out + o, size - o, "%s%s", i ? "|" : "",
                            field(r, i));
    }
    o += (size_t)snprintf(out + o, size - o, "/%zu;", r->lines);
  }
  ck_assert_uint_eq(pos, len);
  free(r);
}

static void expect(const char *in, const char *want) {
  char got[4096];
  dump(in, strlen(in), got, sizeof(got));
  ck_assert_msg(strcmp(got, want) == 0, "'%s': got '%s', want '%s'", in, got,
                want);
}

START_TEST(records) {
  expect("", "");
  expect("a,b,c\n", "a|b|c/1;");
  expect("a,b,c", "a|b|c/0;");
  expect("a,b\r\nc,d\r\n", "a|b/1;c|d/1;");
  expect("a,b\rc,d\r", "a|b/1;c|d/1;");
  expect("a\n\nb\n", "a/1;/1;b/1;"); /* a blank line is one empty field */
  expect(",,\n", "||/1;");
  expect("a,\n", "a|/1;");
  expect(" a , b \n", " a | b /1;"); /* blanks are data */
  expect("\"a,b\",c\n", "a,b|c/1;");
  expect("\"a\"\"b\"\n", "a\"b/1;");
  expect("\"\"\n", "/1;");
  expect("\"\",\"\"\n", "|/1;");
  expect("\"line1\nline2\",x\ny\n", "line1\nline2|x/2;y/1;");
  expect("\"cr\r\nlf\"\r\n", "cr\r\nlf/2;");
  expect("\"a\"", "a/0;");
  expect("x,\"y\"", "x|y/0;");
  expect("caf\xc3\xa9,\xe2\x82\xac\n", "caf\xc3\xa9|\xe2\x82\xac/1;");
}
END_TEST

START_TEST(bad_records_are_skipped_whole) {
  expect("a\"b,c\nd\n",
         "!a quote inside a field that does not start with one (quote the "
         "whole field, and double the quote)/1;d/1;");
  expect("\"a\"b,c\nd\n", "!text after the closing quote of a field/1;d/1;");
  expect("x,\"open\nmore\n",
         "!a quoted field is not closed before the end of the file/2;");
  /* Issue 10: a problem does not end the record at the next line end: a
   * later quoted field holding a line end is still one (the bad record was
   * cut there, and its quoted text read as the next row). */
  expect("a\"b,\"x\nsale,INJ\ny\",c\nd\n",
         "!a quote inside a field that does not start with one (quote the "
         "whole field, and double the quote)/3;d/1;");
  expect("\"a\"b,\"x\r\nsale,INJ\r\n\"\r\nd\r\n",
         "!text after the closing quote of a field/3;d/1;");
  expect("\"a\"b\"c,d\ne\n", "!text after the closing quote of a field/1;e/1;");
  expect("a\"b,\"open\nmore\n",
         "!a quoted field is not closed before the end of the file/2;");
  char nul[] = "a\0b,c\nd\n";
  char got[512];
  dump(nul, sizeof(nul) - 1, got, sizeof(got));
  ck_assert_str_eq(got, "!a NUL byte/1;d/1;");
}
END_TEST

START_TEST(limits) {
  /* 64 fields are fine, 65 are not. */
  char line[512];
  size_t o = 0;
  for (int i = 0; i < 64; i++)
    o += (size_t)snprintf(line + o, sizeof(line) - o, "%s%d", i ? "," : "", i);
  snprintf(line + o, sizeof(line) - o, "\nnext\n");
  cashback__csv_record *r = new_rec();
  size_t used;
  const char *why;
  ck_assert_int_eq(cashback__csv_next(line, strlen(line), 1, r, &used, &why),
                   CASHBACK__CSV_RECORD);
  ck_assert_uint_eq(r->n, 64);
  ck_assert_str_eq(field(r, 63), "63");
  snprintf(line + o, sizeof(line) - o, ",64\nnext\n");
  ck_assert_int_eq(cashback__csv_next(line, strlen(line), 1, r, &used, &why),
                   CASHBACK__CSV_BAD);
  ck_assert_str_eq(why, "more than 64 fields");
  ck_assert_str_eq(line + used, "next\n");

  /* 65536 decoded bytes are fine, one more is not (quoted: the doubled
   * quotes count once). */
  size_t big = CASHBACK__CSV_RECORD_MAX;
  char *in = malloc(2 * big + 16);
  ck_assert_ptr_nonnull(in);
  memset(in, 'x', big);
  memcpy(in + big, "\nz\n", 4);
  ck_assert_int_eq(cashback__csv_next(in, big + 3, 1, r, &used, &why),
                   CASHBACK__CSV_RECORD);
  ck_assert_uint_eq(r->len[0], big);
  ck_assert_uint_eq(used, big + 1);
  in[0] = '"';
  for (size_t i = 1; i < 2 * big - 1; i += 2)
    in[i] = in[i + 1] = '"'; /* big - 1 decoded quotes */
  memcpy(in + 2 * big - 1, "y\"\nz\n", 6);
  ck_assert_int_eq(cashback__csv_next(in, strlen(in), 1, r, &used, &why),
                   CASHBACK__CSV_RECORD);
  ck_assert_uint_eq(r->len[0], big);
  memcpy(in + 2 * big - 1, "yy\"\nz\n", 7);
  ck_assert_int_eq(cashback__csv_next(in, strlen(in), 1, r, &used, &why),
                   CASHBACK__CSV_BAD);
  ck_assert_str_eq(why, "the record is longer than 65536 bytes");
  ck_assert_str_eq(in + used, "z\n");
  free(in);
  free(r);
}
END_TEST

/* Feeding the input a byte at a time (MORE until a record is complete)
 * gives the same records as all at once. */
static void chunked_equals_whole(const char *in) {
  size_t len = strlen(in);
  char whole[4096], parts[4096];
  dump(in, len, whole, sizeof(whole));
  cashback__csv_record *r = new_rec();
  size_t start = 0, avail = 0, o = 0;
  parts[0] = '\0';
  for (;;) {
    size_t used;
    const char *why;
    int eof = start + avail >= len;
    cashback__csv_result res =
        cashback__csv_next(in + start, avail, eof, r, &used, &why);
    if (res == CASHBACK__CSV_MORE) {
      ck_assert_int_eq(eof, 0);
      avail++;
      continue;
    }
    if (res == CASHBACK__CSV_END)
      break;
    if (res == CASHBACK__CSV_BAD) {
      o += (size_t)snprintf(parts + o, sizeof(parts) - o, "!%s/%zu;", why,
                            r->lines);
    } else {
      for (size_t i = 0; i < r->n; i++)
        o += (size_t)snprintf(parts + o, sizeof(parts) - o, "%s%s",
                              i ? "|" : "", field(r, i));
      o += (size_t)snprintf(parts + o, sizeof(parts) - o, "/%zu;", r->lines);
    }
    start += used;
    avail -= used;
  }
  ck_assert_msg(strcmp(whole, parts) == 0, "'%s': '%s' vs '%s'", in, whole,
                parts);
  free(r);
}

START_TEST(incremental) {
  chunked_equals_whole(
      "type,order_id\r\nsale,1\r\n\"a,\"\"b\"\"\r\nc\",d\r\r\n");
  chunked_equals_whole("a,b\rc\r\n\rd");
  chunked_equals_whole("\"x\"y,z\nok\n\"unterminated\n");
  chunked_equals_whole("\"\"\"\",\"\"\n");
}
END_TEST

/* cashback__csv_skip_feed() fed `in` in pieces of `piece` bytes from each
 * record's start ends every record where cashback__csv_next() does, with
 * the same line ends, and says when its quote is not closed. */
static void skip_equals_next(const char *in, size_t piece) {
  size_t len = strlen(in), pos = 0;
  cashback__csv_record *r = new_rec();
  for (;;) {
    size_t used;
    const char *why;
    cashback__csv_result res =
        cashback__csv_next(in + pos, len - pos, 1, r, &used, &why);
    if (res == CASHBACK__CSV_END)
      break;
    cashback__csv_skip sk;
    cashback__csv_skip_init(&sk);
    size_t at = pos, got;
    for (;;) {
      size_t n = len - at < piece ? len - at : piece;
      if (cashback__csv_skip_feed(&sk, in + at, n, at + n >= len, &got))
        break;
      ck_assert_uint_eq(got, n);
      at += n;
    }
    ck_assert_msg(at + got - pos == used && sk.lines == r->lines,
                  "'%s' at %zu, pieces of %zu: skip %zu bytes %zu lines, next "
                  "%zu bytes %zu lines",
                  in, pos, piece, at + got - pos, sk.lines, used, r->lines);
    ck_assert_int_eq(sk.unclosed, res == CASHBACK__CSV_BAD &&
                                      strstr(why, "not closed") != NULL);
    ck_assert_int_eq(sk.ended, !sk.unclosed && (in[pos + used - 1] == '\n' ||
                                                in[pos + used - 1] == '\r'));
    pos += used;
  }
  free(r);
}

START_TEST(skip_finds_the_same_end) {
  static const char *const in[] = {
      "a,b,c\nd\n",
      "a,b\r\nc,d\rx\r",
      "\"q\nq\",\"r\"\"\r\n\"\n\"\"\n\"\"\"\"\r\"x\r\n\",e",
      "a\"b,\"x\nINJ\ny\",c\nd\n",
      "\"a\"b,\"x\r\nINJ\r\n\"\r\nd\r\n\"a\"b\"c,d\ne",
      "\n\r\n\r\r\n\"\"\n",
      "x,\"open\r\nmore\r",
      "\"cr\r\"\r\n\"lf\n\"\n,,\n\"",
  };
  for (size_t i = 0; i < sizeof in / sizeof in[0]; i++)
    for (size_t piece = 1; piece <= 8; piece++)
      skip_equals_next(in[i], piece);
}
END_TEST

START_TEST(more_and_end) {
  cashback__csv_record *r = new_rec();
  size_t used = 99;
  const char *why;
  ck_assert_int_eq(cashback__csv_next("", 0, 0, r, &used, &why),
                   CASHBACK__CSV_MORE);
  ck_assert_int_eq(cashback__csv_next("", 0, 1, r, &used, &why),
                   CASHBACK__CSV_END);
  ck_assert_int_eq(cashback__csv_next("a,b", 3, 0, r, &used, &why),
                   CASHBACK__CSV_MORE);
  ck_assert_uint_eq(used, 0);
  /* A CR at the end: is an LF next? */
  ck_assert_int_eq(cashback__csv_next("a\r", 2, 0, r, &used, &why),
                   CASHBACK__CSV_MORE);
  ck_assert_int_eq(cashback__csv_next("a\r", 2, 1, r, &used, &why),
                   CASHBACK__CSV_RECORD);
  ck_assert_uint_eq(used, 2);
  /* A quote at the end: a doubled one next? */
  ck_assert_int_eq(cashback__csv_next("\"a\"", 3, 0, r, &used, &why),
                   CASHBACK__CSV_MORE);
  /* Never reads past len. */
  ck_assert_int_eq(cashback__csv_next("ab\ncd", 2, 1, r, &used, &why),
                   CASHBACK__CSV_RECORD);
  ck_assert_str_eq(field(r, 0), "ab");
  ck_assert_uint_eq(used, 2);
  free(r);
}
END_TEST

TCase *cashback_test_csv(void) {
  TCase *tc = tcase_create("csv");
  tcase_add_test(tc, records);
  tcase_add_test(tc, bad_records_are_skipped_whole);
  tcase_add_test(tc, skip_finds_the_same_end);
  tcase_add_test(tc, limits);
  tcase_add_test(tc, incremental);
  tcase_add_test(tc, more_and_end);
  return tc;
}
