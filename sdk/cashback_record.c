#include "cashback_record.h"
#include "cashback_crc32c.h"

#include <stdlib.h>
#include <string.h>

static const uint8_t magic[4] = {'C', 'B', 'R', '1'};
static const uint8_t magic2[4] = {'C', 'B', 'R', '2'};

static void put32(uint8_t *p, uint32_t v) {
  for (int i = 0; i < 4; i++)
    p[i] = (uint8_t)(v >> (8 * i));
}

static uint32_t get32(const uint8_t *p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
         (uint32_t)p[3] << 24;
}

static uint64_t get64(const uint8_t *p) {
  return (uint64_t)get32(p) | (uint64_t)get32(p + 4) << 32;
}

static void put64(uint8_t *p, uint64_t v) {
  put32(p, (uint32_t)(v & 0xffffffffu));
  put32(p + 4, (uint32_t)(v >> 32));
}

void cashback__record_header(uint8_t hdr[CASHBACK__RECORD_HEADER],
                             const void *payload, size_t len, int64_t time_ms) {
  memcpy(hdr, magic, 4);
  put32(hdr + 4, (uint32_t)len);
  put32(hdr + 8, (uint32_t)((uint64_t)time_ms & 0xffffffffu));
  put32(hdr + 12, (uint32_t)((uint64_t)time_ms >> 32));
  uint32_t crc = cashback__crc32c(0, hdr + 4, 12);
  crc = cashback__crc32c(crc, payload, len);
  put32(hdr + 16, crc);
}

uint8_t *cashback__record_encode(const void *payload, size_t len,
                                 int64_t time_ms, size_t *total) {
  if (len == 0 || len > CASHBACK__RECORD_MAX)
    return NULL;
  uint8_t *rec = malloc(CASHBACK__RECORD_HEADER + len);
  if (!rec)
    return NULL;
  cashback__record_header(rec, payload, len, time_ms);
  memcpy(rec + CASHBACK__RECORD_HEADER, payload, len);
  *total = CASHBACK__RECORD_HEADER + len;
  return rec;
}

/* Reads the record of either version at `p` (`avail` bytes; of a shorter
 * `avail`, the magic's prefix it holds): the magic, the payload length (at
 * most CASHBACK__RECORD_MAX) and the header into `*info` (`header` and
 * `len` once the length is read, the time and stamp once the header is
 * there); when `whole`, the payload too and the CRC over both. */
static cashback__rec record_read(const uint8_t *p, size_t avail, int whole,
                                 cashback__record_info *info) {
  size_t check = avail < 4 ? avail : 4;
  size_t header;
  if (memcmp(p, magic2, check) == 0)
    header = CASHBACK__RECORD_HEADER_V2;
  else if (memcmp(p, magic, check) == 0)
    header = CASHBACK__RECORD_HEADER;
  else
    return CASHBACK__REC_CORRUPT;
  if (avail < 8)
    return CASHBACK__REC_SHORT;
  uint32_t n = get32(p + 4);
  if (n == 0 || n > CASHBACK__RECORD_MAX)
    return CASHBACK__REC_CORRUPT;
  info->header = header;
  info->len = n;
  if (avail < header)
    return CASHBACK__REC_SHORT;
  /* Both versions keep the time at 8 (CBR1 as two u32 halves, the same
   * bytes); only CBR2 has a stamp. */
  int v2 = header == CASHBACK__RECORD_HEADER_V2;
  info->time_ms = (int64_t)get64(p + 8);
  info->stamp = v2 ? get64(p + 16) : 0;
  if (!whole)
    return CASHBACK__REC_OK;
  if (avail - header < n)
    return CASHBACK__REC_SHORT;
  /* CBR1: the CRC of bytes 4-15, then the payload's; CBR2: the payload's,
   * then bytes 4-23. */
  uint32_t crc =
      v2 ? cashback__crc32c(cashback__crc32c(0, p + header, n), p + 4, 20)
         : cashback__crc32c(cashback__crc32c(0, p + 4, 12), p + header, n);
  return crc == get32(p + (v2 ? 24 : 16)) ? CASHBACK__REC_OK
                                          : CASHBACK__REC_CORRUPT;
}

cashback__rec cashback__record_decode(const uint8_t *p, size_t avail,
                                      size_t *len, int64_t *time_ms) {
  size_t check = avail < 4 ? avail : 4;
  if (memcmp(p, magic, check) != 0)
    return CASHBACK__REC_CORRUPT; /* CBR1 only */
  cashback__record_info in;
  cashback__rec r = record_read(p, avail, 1, &in);
  if (r == CASHBACK__REC_OK) {
    *len = in.len;
    if (time_ms)
      *time_ms = in.time_ms;
  }
  return r;
}

void cashback__record_header_v2(uint8_t hdr[CASHBACK__RECORD_HEADER_V2],
                                size_t len, int64_t time_ms, uint64_t stamp,
                                uint32_t payload_crc) {
  memcpy(hdr, magic2, 4);
  put32(hdr + 4, (uint32_t)len);
  put64(hdr + 8, (uint64_t)time_ms);
  put64(hdr + 16, stamp);
  put32(hdr + 24, cashback__crc32c(payload_crc, hdr + 4, 20));
}

cashback__rec cashback__record_parse(const uint8_t *p, size_t avail,
                                     cashback__record_info *info) {
  cashback__record_info in;
  cashback__rec r = record_read(p, avail, 1, &in);
  if (r == CASHBACK__REC_OK && info)
    *info = in;
  return r;
}

size_t cashback__record_resync(const uint8_t *p, size_t avail, size_t from) {
  for (size_t i = from; i + 4 <= avail; i++) {
    if (p[i] != 'C')
      continue;
    if (cashback__record_parse(p + i, avail - i, NULL) == CASHBACK__REC_OK)
      return i;
  }
  return avail;
}

cashback__rec cashback__record_peek(const uint8_t *p, size_t avail,
                                    cashback__record_info *info) {
  return record_read(p, avail, 0, info);
}
