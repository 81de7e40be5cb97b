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

cashback__rec cashback__record_decode(const uint8_t *p, size_t avail,
                                      size_t *len, int64_t *time_ms) {
  size_t check = avail < 4 ? avail : 4;
  if (memcmp(p, magic, check) != 0)
    return CASHBACK__REC_CORRUPT;
  if (avail < 8)
    return CASHBACK__REC_SHORT;
  uint32_t n = get32(p + 4);
  if (n == 0 || n > CASHBACK__RECORD_MAX)
    return CASHBACK__REC_CORRUPT;
  if (avail < CASHBACK__RECORD_HEADER || avail - CASHBACK__RECORD_HEADER < n)
    return CASHBACK__REC_SHORT;
  uint32_t crc = cashback__crc32c(0, p + 4, 12);
  crc = cashback__crc32c(crc, p + CASHBACK__RECORD_HEADER, n);
  if (crc != get32(p + 16))
    return CASHBACK__REC_CORRUPT;
  *len = n;
  if (time_ms)
    *time_ms =
        (int64_t)((uint64_t)get32(p + 8) | (uint64_t)get32(p + 12) << 32);
  return CASHBACK__REC_OK;
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

static cashback__rec parse_v2(const uint8_t *p, size_t avail,
                              cashback__record_info *info) {
  if (avail < 8)
    return CASHBACK__REC_SHORT;
  uint32_t n = get32(p + 4);
  if (n == 0 || n > CASHBACK__RECORD_MAX)
    return CASHBACK__REC_CORRUPT;
  if (avail < CASHBACK__RECORD_HEADER_V2 ||
      avail - CASHBACK__RECORD_HEADER_V2 < n)
    return CASHBACK__REC_SHORT;
  uint32_t crc = cashback__crc32c(0, p + CASHBACK__RECORD_HEADER_V2, n);
  crc = cashback__crc32c(crc, p + 4, 20);
  if (crc != get32(p + 24))
    return CASHBACK__REC_CORRUPT;
  if (info) {
    info->header = CASHBACK__RECORD_HEADER_V2;
    info->len = n;
    info->time_ms = (int64_t)get64(p + 8);
    info->stamp = get64(p + 16);
  }
  return CASHBACK__REC_OK;
}

cashback__rec cashback__record_parse(const uint8_t *p, size_t avail,
                                     cashback__record_info *info) {
  size_t check = avail < 4 ? avail : 4;
  if (memcmp(p, magic2, check) == 0)
    return parse_v2(p, avail, info);
  size_t len;
  int64_t t;
  cashback__rec r = cashback__record_decode(p, avail, &len, &t);
  if (r == CASHBACK__REC_OK && info) {
    info->header = CASHBACK__RECORD_HEADER;
    info->len = len;
    info->time_ms = t;
    info->stamp = 0;
  }
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
  info->time_ms = (int64_t)get64(p + 8);
  info->stamp = header == CASHBACK__RECORD_HEADER_V2 ? get64(p + 16) : 0;
  return CASHBACK__REC_OK;
}
