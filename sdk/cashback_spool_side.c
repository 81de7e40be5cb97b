/*
 * A segment's side files: "<seg>.ack", the sender's cursor, and
 * "<seg>.sync", how far the writer knows the segment durable; each 8 bytes
 * little-endian and their CRC-32C, rewritten in place. Removing a segment
 * removes them with it.
 */
#include "cashback_spool_internal.h"
#include "cashback_crc32c.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

/* "<base><suffix>" for a segment "<base>.log"; suffixes are at most 5
 * characters (".ack", ".sync"), and segment names leave room for them. */
void cashback__spool_side_name(const char *seg, const char *suffix,
                               char out[CASHBACK__SEG_NAME_MAX]) {
  size_t n = strlen(seg) - 4;
  memcpy(out, seg, n);
  memcpy(out + n, suffix, strlen(suffix) + 1);
}

static void ack_name(const char *seg, char out[CASHBACK__SEG_NAME_MAX]) {
  cashback__spool_side_name(seg, ".ack", out);
}

/* Reads an offset file ("<seg>.ack" or "<seg>.sync": 8 bytes and their
 * CRC-32C); -1 when there is none, -2 when it is there but cannot be read
 * or is damaged (or torn: being rewritten in place as it is read). */
int cashback__spool_read_offset(cashback__spool *s, const char *seg,
                                const char *suffix, uint64_t *off) {
  char name[CASHBACK__SEG_NAME_MAX];
  cashback__spool_side_name(seg, suffix, name);
  int fd = cashback__spool_openat(s, name, O_RDONLY | O_NONBLOCK, 0);
  if (fd < 0)
    return errno == ENOENT ? -1 : -2;
  uint8_t b[12];
  struct stat st;
  ssize_t n = fstat(fd, &st) == 0 && S_ISREG(st.st_mode)
                  ? pread(fd, b, sizeof(b), 0)
                  : -1;
  close(fd);
  if (n != (ssize_t)sizeof(b))
    return -2;
  uint64_t v = 0;
  for (int i = 7; i >= 0; i--)
    v = v << 8 | b[i];
  uint32_t crc = (uint32_t)b[8] | (uint32_t)b[9] << 8 | (uint32_t)b[10] << 16 |
                 (uint32_t)b[11] << 24;
  if (cashback__crc32c(0, b, 8) != crc)
    return -2;
  *off = v;
  return 0;
}

/* Writes an offset file's 12 bytes in place; 0 on success. */
int cashback__spool_pwrite_offset(int fd, uint64_t off) {
  uint8_t b[12];
  for (int i = 0; i < 8; i++)
    b[i] = (uint8_t)(off >> (8 * i));
  uint32_t crc = cashback__crc32c(0, b, 8);
  for (int i = 0; i < 4; i++)
    b[8 + i] = (uint8_t)(crc >> (8 * i));
  return pwrite(fd, b, sizeof(b), 0) == (ssize_t)sizeof(b) ? 0 : -1;
}

/* A segment's cursor; 0 when there is none or it is damaged. */
uint64_t cashback__spool_read_ack(cashback__spool *s, const char *seg) {
  uint64_t off = 0;
  return cashback__spool_read_offset(s, seg, ".ack", &off) == 0 ? off : 0;
}

cashback_status cashback__spool_write_ack(cashback__spool *s, const char *seg,
                                          uint64_t off) {
  char name[CASHBACK__SEG_NAME_MAX];
  ack_name(seg, name);
  /* Never through a symlink, never waiting on a FIFO: only a regular
   * file is a cursor. */
  int fd =
      cashback__spool_openat(s, name, O_WRONLY | O_CREAT | O_NONBLOCK, 0600);
  if (fd < 0)
    return CASHBACK_E_IO;
  struct stat st;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    close(fd);
    return CASHBACK_E_IO;
  }
  /* Not synced: after a power cut a cursor may step back, and the events
   * past it are sent again; the network answers "duplicate". */
  int rc = cashback__spool_pwrite_offset(fd, off);
  close(fd);
  return rc == 0 ? CASHBACK_OK : CASHBACK_E_IO;
}

void cashback__spool_remove_segment(cashback__spool *s, const char *seg) {
  char side[CASHBACK__SEG_NAME_MAX];
  unlinkat(s->dirfd, seg, 0);
  cashback__spool_side_name(seg, ".ack", side);
  unlinkat(s->dirfd, side, 0);
  cashback__spool_side_name(seg, ".sync", side);
  unlinkat(s->dirfd, side, 0);
}
