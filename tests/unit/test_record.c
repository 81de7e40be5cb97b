#include "cashback_crc32c.h"
#include "cashback_record.h"
#include "tests.h"

#include <stdlib.h>
#include <string.h>

static size_t make(uint8_t *out, const char *payload, int64_t t) {
  size_t n = strlen(payload);
  cashback__record_header(out, payload, n, t);
  memcpy(out + CASHBACK__RECORD_HEADER, payload, n);
  return CASHBACK__RECORD_HEADER + n;
}

START_TEST(round_trip) {
  uint8_t buf[256];
  size_t n = make(buf, "{\"id\":\"x\"}", INT64_C(1764000000123));
  size_t len = 0;
  int64_t t = 0;
  ck_assert_int_eq(cashback__record_decode(buf, n, &len, &t), CASHBACK__REC_OK);
  ck_assert_uint_eq(len, 10);
  ck_assert_int_eq(t, INT64_C(1764000000123));
  ck_assert_int_eq(memcmp(buf + CASHBACK__RECORD_HEADER, "{\"id\":\"x\"}", 10),
                   0);
}
END_TEST

START_TEST(every_truncation_is_short) {
  uint8_t buf[256];
  size_t n = make(buf, "payload-bytes", 1);
  size_t len;
  for (size_t cut = 1; cut < n; cut++) {
    /* Exact-size heap copies let ASan catch any read past `avail`. */
    uint8_t *p = malloc(cut);
    memcpy(p, buf, cut);
    ck_assert_int_eq(cashback__record_decode(p, cut, &len, NULL),
                     CASHBACK__REC_SHORT);
    free(p);
  }
}
END_TEST

START_TEST(every_bit_flip_is_caught) {
  uint8_t buf[256];
  size_t n = make(buf, "{\"id\":\"0123456789abcdef\"}", 77);
  size_t len;
  for (size_t bit = 0; bit < n * 8; bit++) {
    buf[bit / 8] ^= (uint8_t)(1u << (bit % 8));
    cashback__rec r = cashback__record_decode(buf, n, &len, NULL);
    /* A flipped length may make the record look longer: SHORT is fine
     * too, but never OK. */
    ck_assert_msg(r != CASHBACK__REC_OK, "bit %zu flipped, still OK", bit);
    buf[bit / 8] ^= (uint8_t)(1u << (bit % 8));
  }
  ck_assert_int_eq(cashback__record_decode(buf, n, &len, NULL),
                   CASHBACK__REC_OK);
}
END_TEST

START_TEST(bad_lengths_are_corrupt) {
  uint8_t buf[64];
  make(buf, "x", 0);
  buf[4] = buf[5] = buf[6] = buf[7] = 0; /* length 0 */
  size_t len;
  ck_assert_int_eq(cashback__record_decode(buf, sizeof(buf), &len, NULL),
                   CASHBACK__REC_CORRUPT);
  buf[7] = 0x7f; /* far past the maximum */
  ck_assert_int_eq(cashback__record_decode(buf, sizeof(buf), &len, NULL),
                   CASHBACK__REC_CORRUPT);
  memset(buf, 0, sizeof(buf)); /* a zero-filled tail */
  ck_assert_int_eq(cashback__record_decode(buf, sizeof(buf), &len, NULL),
                   CASHBACK__REC_CORRUPT);
}
END_TEST

START_TEST(resync_finds_the_next_record) {
  uint8_t buf[512];
  size_t a = make(buf, "first", 1);
  memset(buf + a, 'C', 37); /* garbage that starts like a magic */
  size_t b = make(buf + a + 37, "second", 2);
  size_t total = a + 37 + b;
  buf[a - 1] ^= 1; /* damage the first */
  ck_assert_uint_eq(cashback__record_resync(buf, total, 1), a + 37);
  ck_assert_uint_eq(cashback__record_resync(buf, total, a + 38), total);
  ck_assert_uint_eq(cashback__record_resync(buf, 3, 0), 3);
}
END_TEST

START_TEST(v2_round_trip_and_versions) {
  const char *payload = "{\"id\":\"x\"}";
  uint8_t buf[256];
  cashback__record_header_v2(buf, 10, INT64_C(1764000000123),
                             UINT64_C(0x0102030405060708),
                             cashback__crc32c(0, payload, 10));
  memcpy(buf + CASHBACK__RECORD_HEADER_V2, payload, 10);
  size_t n = CASHBACK__RECORD_HEADER_V2 + 10;
  ck_assert_int_eq(memcmp(buf, "CBR2", 4), 0);
  cashback__record_info ri;
  ck_assert_int_eq(cashback__record_parse(buf, n, &ri), CASHBACK__REC_OK);
  ck_assert_uint_eq(ri.header, CASHBACK__RECORD_HEADER_V2);
  ck_assert_uint_eq(ri.len, 10);
  ck_assert_int_eq(ri.time_ms, INT64_C(1764000000123));
  ck_assert_uint_eq(ri.stamp, UINT64_C(0x0102030405060708));
  for (size_t cut = 0; cut < n; cut++)
    ck_assert_int_eq(cashback__record_parse(buf, cut, NULL),
                     CASHBACK__REC_SHORT);
  /* The stamp is covered by the checksum. */
  buf[16] ^= 1;
  ck_assert_int_eq(cashback__record_parse(buf, n, NULL), CASHBACK__REC_CORRUPT);
  buf[16] ^= 1;
  /* The CBR1 decoder (the quarantine's) refuses it; parse reads CBR1 too,
   * with stamp 0; resync finds either. */
  size_t len;
  ck_assert_int_eq(cashback__record_decode(buf, n, &len, NULL),
                   CASHBACK__REC_CORRUPT);
  uint8_t two[256];
  size_t a = make(two, "{\"id\":\"y\"}", 7);
  memcpy(two + a, buf, n);
  ck_assert_int_eq(cashback__record_parse(two, a + n, &ri), CASHBACK__REC_OK);
  ck_assert_uint_eq(ri.header, CASHBACK__RECORD_HEADER);
  ck_assert_uint_eq(ri.stamp, 0);
  ck_assert_uint_eq(cashback__record_resync(two, a + n, 1), a);
}
END_TEST

/* peek reads only the header, of either version: SHORT until the length
 * is there, then header and len known, SHORT until the whole header is
 * there, then OK with the time and stamp (the payload never read). */
START_TEST(peek_reads_the_header_of_either_version) {
  uint8_t v1[256], v2[256];
  size_t n1 = make(v1, "{\"id\":\"x\"}", 5);
  cashback__record_header_v2(v2, 10, 9, 77, 0); /* CRC not checked */
  struct {
    const uint8_t *p;
    size_t header;
    int64_t time_ms;
    uint64_t stamp;
  } rec[] = {{v1, CASHBACK__RECORD_HEADER, 5, 0},
             {v2, CASHBACK__RECORD_HEADER_V2, 9, 77}};
  for (size_t r = 0; r < 2; r++)
    for (size_t cut = 0; cut <= rec[r].header; cut++) {
      cashback__record_info ri = {0};
      cashback__rec want =
          cut < rec[r].header ? CASHBACK__REC_SHORT : CASHBACK__REC_OK;
      ck_assert_int_eq(cashback__record_peek(rec[r].p, cut, &ri), want);
      ck_assert_uint_eq(ri.header, cut >= 8 ? rec[r].header : 0);
      ck_assert_uint_eq(ri.len, cut >= 8 ? 10 : 0);
      ck_assert_int_eq(ri.time_ms,
                       want == CASHBACK__REC_OK ? rec[r].time_ms : 0);
      ck_assert_uint_eq(ri.stamp, want == CASHBACK__REC_OK ? rec[r].stamp : 0);
    }
  cashback__record_info ri;
  ck_assert_int_eq(cashback__record_peek((const uint8_t *)"CBX1", 4, &ri),
                   CASHBACK__REC_CORRUPT);
  ck_assert_int_eq(cashback__record_decode(v1, n1 - 1, &(size_t){0}, NULL),
                   CASHBACK__REC_SHORT);
}
END_TEST

TCase *cashback_test_record(void) {
  TCase *tc = tcase_create("record");
  tcase_add_test(tc, round_trip);
  tcase_add_test(tc, every_truncation_is_short);
  tcase_add_test(tc, every_bit_flip_is_caught);
  tcase_add_test(tc, bad_lengths_are_corrupt);
  tcase_add_test(tc, resync_finds_the_next_record);
  tcase_add_test(tc, v2_round_trip_and_versions);
  tcase_add_test(tc, peek_reads_the_header_of_either_version);
  return tc;
}
