/*
 * What is queued (cashback__spool_usage): events, bytes and the oldest
 * write time, from the record headers past each segment's cursor (decoded
 * by cashback_record.c), never the payloads.
 */
#include "cashback_spool_internal.h"
#include "cashback_record.h"

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

/* Counts the records of the open segment `fd` (`name`) from `off` up to
 * `size` by their headers (cashback__record_peek: lengths and times, no
 * payload read), up to the first that is not a whole plausible record.
 * Returns where its data ends: where it stopped at zeros (the space its
 * writer wrote ahead), else `size`. */
static uint64_t count_records(cashback__spool *s, int fd, const char *name,
                              uint64_t off, uint64_t size, uint64_t *events,
                              int64_t *oldest_ms,
                              cashback__spool_issues *issues) {
  uint8_t h[CASHBACK__RECORD_HEADER_MAX];
  for (;;) {
    ssize_t got = cashback__spool_pread(s, fd, h, sizeof(h), off);
    if (got < 0 && issues) {
      issues->read_errors++; /* a read error, not an unreadable file */
      cashback__spool_note_problem(issues->read_first,
                                   sizeof(issues->read_first), s, name,
                                   "read failed", errno);
    }
    cashback__record_info in;
    if (got > 0 && h[0] == 0)
      return off;
    if (got <= 0 ||
        cashback__record_peek(h, (size_t)got, &in) != CASHBACK__REC_OK ||
        off + in.header + in.len > size)
      return size;
    (*events)++;
    if (*oldest_ms == 0 || in.time_ms < *oldest_ms)
      *oldest_ms = in.time_ms;
    off += in.header + in.len;
  }
}

cashback_status cashback__spool_usage(cashback__spool *s, uint64_t *events,
                                      uint64_t *bytes, int64_t *oldest_ms,
                                      cashback__spool_issues *issues) {
  *events = 0;
  *bytes = 0;
  *oldest_ms = 0;
  if (issues)
    memset(issues, 0, sizeof(*issues));
  char **names;
  size_t count;
  cashback_status st = cashback__spool_list_segments(s, &names, &count);
  if (st != CASHBACK_OK)
    return st;
  for (size_t i = 0; i < count; i++) {
    const char *what = "";
    int fd = cashback__spool_open_segment(s, names[i], &what);
    if (fd < 0) {
      if (errno != ENOENT && issues) {
        issues->unreadable++;
        cashback__spool_note_problem(issues->first, sizeof(issues->first), s,
                                     names[i], what, errno);
      }
      continue;
    }
    struct stat sb;
    uint64_t off = cashback__spool_read_ack(s, names[i]);
    uint64_t size =
        cashback__spool_fstat(fd, &sb) == 0 ? (uint64_t)sb.st_size : 0;
    uint64_t end =
        count_records(s, fd, names[i], off, size, events, oldest_ms, issues);
    if (end > off)
      *bytes += end - off;
    close(fd);
  }
  cashback__spool_free_names(names, count);
  return CASHBACK_OK;
}
