/*
 * Spool records: the unit of durability.
 *
 *   offset 0  "CBR1"                magic
 *          4  u32 payload length    little-endian, 1..CASHBACK__RECORD_MAX
 *          8  u64 time              Unix milliseconds when it was written
 *         16  u32 CRC-32C           over bytes 4..15 and the payload
 *         20  payload               the event's wire JSON
 *
 * A record is written with one write() call and is valid only whole.
 */
#ifndef CASHBACK_RECORD_H
#define CASHBACK_RECORD_H

#include <stddef.h>
#include <stdint.h>

#define CASHBACK__RECORD_HEADER 20
#define CASHBACK__RECORD_MAX (256 * 1024) /* payload bytes */

/* Writes the header of a record of `len` payload bytes (1 to
 * CASHBACK__RECORD_MAX) written at `time_ms`. */
void cashback__record_header(uint8_t hdr[CASHBACK__RECORD_HEADER],
                             const void *payload, size_t len, int64_t time_ms);

/* A whole record (header and payload) in one allocation for a single
 * write(); free() it. NULL when `len` is 0 or past CASHBACK__RECORD_MAX, or
 * memory is short. */
uint8_t *cashback__record_encode(const void *payload, size_t len,
                                 int64_t time_ms, size_t *total);

typedef enum cashback__rec {
  CASHBACK__REC_OK = 0,     /* a whole valid record */
  CASHBACK__REC_SHORT = 1,  /* a plausible start, but fewer bytes than it
                               claims: a write in progress or a torn tail */
  CASHBACK__REC_CORRUPT = 2 /* bad magic, length or checksum */
} cashback__rec;

/* Decodes the record at `p` (`avail` bytes available). On OK, `*len` is the
 * payload length (at p + CASHBACK__RECORD_HEADER) and `*time_ms` its time.
 * Never reads past `avail`, never allocates. */
cashback__rec cashback__record_decode(const uint8_t *p, size_t avail,
                                      size_t *len, int64_t *time_ms);

/* The first offset at or after `from` where a whole valid record starts, or
 * `avail` when none does (resynchronisation after corruption). */
size_t cashback__record_resync(const uint8_t *p, size_t avail, size_t from);

#endif
