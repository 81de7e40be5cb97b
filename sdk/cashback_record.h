/*
 * Spool records: the unit of durability. Two versions, little-endian:
 *
 * "CBR2", written to spool segments since the spool-wide sequence stamp:
 *   offset 0  "CBR2"                magic
 *          4  u32 payload length    1..CASHBACK__RECORD_MAX
 *          8  u64 time              Unix milliseconds when it was written
 *         16  u64 stamp             the spool's sequence stamp (its order
 *                                   among every process's records)
 *         24  u32 CRC-32C           of the payload, then bytes 4..23
 *         28  payload               the event's wire JSON
 *
 * "CBR1", the older version (still read, so an existing spool drains after
 * an upgrade, and still the quarantine file's format); its stamp reads 0:
 *   offset 0  "CBR1"                magic
 *          4  u32 payload length    1..CASHBACK__RECORD_MAX
 *          8  u64 time              Unix milliseconds when it was written
 *         16  u32 CRC-32C           over bytes 4..15 and the payload
 *         20  payload
 *
 * A record is written with one write() call and is valid only whole. The
 * CBR2 checksum puts the payload first so that a writer can compute it
 * before it takes the spool's lock and finish it with the stamp there.
 */
#ifndef CASHBACK_RECORD_H
#define CASHBACK_RECORD_H

#include <stddef.h>
#include <stdint.h>

#define CASHBACK__RECORD_HEADER 20    /* CBR1 */
#define CASHBACK__RECORD_HEADER_V2 28 /* CBR2 */
#define CASHBACK__RECORD_HEADER_MAX 28
#define CASHBACK__RECORD_MAX (256 * 1024) /* payload bytes */

/* Writes the CBR1 header of a record of `len` payload bytes (1 to
 * CASHBACK__RECORD_MAX) written at `time_ms`. */
void cashback__record_header(uint8_t hdr[CASHBACK__RECORD_HEADER],
                             const void *payload, size_t len, int64_t time_ms);

/* A whole CBR1 record (header and payload) in one allocation for a single
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

/* Decodes the CBR1 record at `p` (`avail` bytes available; a CBR2 record is
 * CORRUPT here: use cashback__record_parse() for spool segments). On OK,
 * `*len` is the payload length (at p + CASHBACK__RECORD_HEADER) and
 * `*time_ms` its time. Never reads past `avail`, never allocates. */
cashback__rec cashback__record_decode(const uint8_t *p, size_t avail,
                                      size_t *len, int64_t *time_ms);

/* Writes the CBR2 header of a record of `len` payload bytes (1 to
 * CASHBACK__RECORD_MAX); `payload_crc` is cashback__crc32c(0, payload,
 * len). */
void cashback__record_header_v2(uint8_t hdr[CASHBACK__RECORD_HEADER_V2],
                                size_t len, int64_t time_ms, uint64_t stamp,
                                uint32_t payload_crc);

/* A record of either version, as cashback__record_parse() found it. */
typedef struct cashback__record_info {
  size_t header;   /* header bytes: the payload is at p + header */
  size_t len;      /* payload bytes */
  int64_t time_ms; /* when it was written */
  uint64_t stamp;  /* sequence stamp; 0 for CBR1 */
} cashback__record_info;

/* Decodes the record of either version at `p` (`avail` bytes available).
 * On OK fills `*info` (may be NULL). Never reads past `avail`, never
 * allocates. */
cashback__rec cashback__record_parse(const uint8_t *p, size_t avail,
                                     cashback__record_info *info);

/* The first offset at or after `from` where a whole valid record of either
 * version starts, or `avail` when none does (resynchronisation after
 * corruption). */
size_t cashback__record_resync(const uint8_t *p, size_t avail, size_t from);

/* Reads the header of the record at `p` (`avail` bytes available) without
 * its checksum, for readers that need only lengths and times (the payload
 * need not be there): CASHBACK__REC_CORRUPT on a bad magic or length;
 * CASHBACK__REC_SHORT when fewer bytes than the header are there (once 8
 * are, info->header and info->len are set); CASHBACK__REC_OK with every
 * field of *info. A record it takes may still fail its checksum. Never
 * reads past `avail`. */
cashback__rec cashback__record_peek(const uint8_t *p, size_t avail,
                                    cashback__record_info *info);

#endif
