/*
 * What is queued (cashback__spool_usage): events, bytes and the oldest
 * write time, from the record headers past each segment's cursor (decoded
 * by cashback_record.c), never the payloads. And the capacity count the
 * writers check against spool_max_bytes: the spool's `usage` file, mapped
 * shared by every process, which writers add their records to and the
 * sender subtracts what it acknowledges from, re-established by a
 * directory scan (docs/reliability.md, section 2, "Capacity").
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
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>
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

/* --- The capacity count --------------------------------------------------
 *
 * `usage` is USAGE_SIZE bytes: the magic and version, then 64-bit counters
 * changed with atomic operations through a shared mapping, so that every
 * process of the spool sees one count:
 *
 *   net     segment data bytes written (by every writer, after its write)
 *           less those cut back (a failed fdatasync) and those the sender
 *           acknowledged (its cursors moved past them, segments removed)
 *   offset  set by a scan: the segment data it found less `net` when it
 *           began, so that the segments hold `offset + net` bytes
 *   side    the quarantine's and `deferred`'s bytes at that scan
 *   scanned wall-clock ms of that scan; 0: none yet (no count)
 *
 * Queued bytes are offset + net + side. Zeros are the initial values, so
 * a file is usable once it has its size and magic. */

#define USAGE_MAGIC 0x31554243u /* "CBU1" */
#define USAGE_VERSION 1u
#define USAGE_SIZE 64
#define USAGE_RETRY_MS 1000   /* a failed mapping is tried again this often */
#define USAGE_REFRESH_MS 1000 /* the sender's rescans */
#define USAGE_STALE_MS 10000  /* a file still without its magic: repaired */

_Static_assert(ATOMIC_LLONG_LOCK_FREE == 2 && sizeof(long long) == 8,
               "the count is shared between processes: lock-free 64-bit "
               "atomics are needed");

struct cashback__usage_file {
  uint32_t magic;
  uint32_t version;
  _Atomic long long net;
  _Atomic long long offset;
  _Atomic long long side;
  _Atomic long long scanned_ms;
};
_Static_assert(sizeof(cashback__usage_file) <= USAGE_SIZE, "usage layout");

/* How many bytes of data segment `name` (of `file_size`) holds, not the
 * zeros its writer wrote ahead: for this process's own segment its data
 * end when the mutex is held (`locked`); else its durable part when its
 * `.sync` says (a record being written meanwhile is counted by `net`). */
static uint64_t data_size(cashback__spool *s, const char *name,
                          uint64_t file_size, int locked) {
  uint64_t synced;
  if (locked && s->fd >= 0 && strcmp(name, s->seg) == 0)
    return s->seg_size;
  if (cashback__spool_read_offset(s, name, ".sync", &synced) == 0 &&
      synced < file_size)
    return synced;
  return file_size;
}

/* Segment data past each cursor, by a directory scan. */
static uint64_t scan_segments(cashback__spool *s, int locked) {
  uint64_t used = 0;
  char **names;
  size_t n;
  if (cashback__spool_list_segments(s, &names, &n) != CASHBACK_OK)
    return 0;
  for (size_t i = 0; i < n; i++) {
    struct stat st;
    if (fstatat(s->dirfd, names[i], &st, AT_SYMLINK_NOFOLLOW) != 0 ||
        !S_ISREG(st.st_mode))
      continue;
    uint64_t size = data_size(s, names[i], (uint64_t)st.st_size, locked),
             ack = cashback__spool_read_ack(s, names[i]);
    used += size > ack ? size - ack : 0;
  }
  cashback__spool_free_names(names, n);
  return used;
}

/* The quarantine's and `deferred`'s bytes (events kept, and events the
 * network will take later). */
static uint64_t scan_side(cashback__spool *s) {
  uint64_t used = 0;
  struct stat st;
  if (fstatat(s->dirfd, "quarantine.log", &st, 0) == 0)
    used += (uint64_t)st.st_size;
  if (fstatat(s->dirfd, "deferred", &st, AT_SYMLINK_NOFOLLOW) == 0)
    used += (uint64_t)st.st_size;
  return used;
}

static int64_t wall_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Opens `usage` (created when missing, set up again when it stayed without
 * its magic for USAGE_STALE_MS: a creator killed half-way) and maps it;
 * NULL when it cannot be used now. */
static cashback__usage_file *usage_open(cashback__spool *s) {
  int created = 1;
  int fd = cashback__spool_openat(s, "usage", O_RDWR | O_CREAT | O_EXCL, 0600);
  if (fd < 0 && errno == EEXIST) {
    created = 0;
    fd = cashback__spool_openat(s, "usage", O_RDWR, 0600);
  }
  if (fd < 0)
    return NULL;
  struct stat st;
  uint32_t head[2] = {0, 0};
  int ok = fstat(fd, &st) == 0 && S_ISREG(st.st_mode);
  if (ok && !created && st.st_size == USAGE_SIZE &&
      pread(fd, head, sizeof(head), 0) == (ssize_t)sizeof(head))
    ok = head[0] == USAGE_MAGIC && head[1] == USAGE_VERSION ? 2 : 1;
  if (ok == 1 &&
      (created || wall_ms() - (int64_t)st.st_mtime * 1000 > USAGE_STALE_MS)) {
    /* Zeros (no count yet), then the magic: a reader that sees the magic
     * sees the size. */
    static const uint8_t zero[USAGE_SIZE];
    const uint32_t magic[2] = {USAGE_MAGIC, USAGE_VERSION};
    if (ftruncate(fd, USAGE_SIZE) == 0 &&
        pwrite(fd, zero, sizeof(zero), 0) == (ssize_t)sizeof(zero) &&
        pwrite(fd, magic, sizeof(magic), 0) == (ssize_t)sizeof(magic))
      ok = 2;
  }
  void *m = MAP_FAILED;
  if (ok == 2)
    m = mmap(NULL, USAGE_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  close(fd);
  return m == MAP_FAILED ? NULL : m;
}

/* The shared count of the directory the spool uses now, mapped on first
 * use; NULL when there is none (yet). Mutex held. */
static cashback__usage_file *usage_map(cashback__spool *s) {
  cashback__usage_file *u = atomic_load(&s->usage);
  if (u && s->usage_gen == s->dir_reopens)
    return u;
  if (u) { /* the old directory's: never used again, unmapped at close */
    if (!s->usage_old) /* (a second reopen leaves the first's mapped: the
                          sender may hold it still) */
      s->usage_old = u;
    atomic_store(&s->usage, NULL);
  }
  int64_t now = cashback__mono_ms();
  if (s->usage_tried_ms >= 0 && now - s->usage_tried_ms < USAGE_RETRY_MS)
    return NULL;
  s->usage_tried_ms = now;
  u = usage_open(s);
  s->usage_gen = s->dir_reopens;
  atomic_store(&s->usage, u);
  return u;
}

void cashback__spool_usage_add(cashback__spool *s, int64_t bytes) {
  cashback__usage_file *u = atomic_load(&s->usage);
  if (u && bytes)
    atomic_fetch_add(&u->net, (long long)bytes);
}

int cashback__spool_usage_estimate(cashback__spool *s, uint64_t *used) {
  cashback__usage_file *u = usage_map(s);
  if (!u || atomic_load(&u->scanned_ms) == 0)
    return 0;
  long long v =
      atomic_load(&u->offset) + atomic_load(&u->net) + atomic_load(&u->side);
  *used = v > 0 ? (uint64_t)v : 0; /* drift below zero: corrected by a scan */
  return 1;
}

uint64_t cashback__spool_usage_rescan(cashback__spool *s, int locked) {
  cashback__usage_file *u = atomic_load(&s->usage);
  /* `net` before the scan: a record written meanwhile may be counted by
   * both, never by neither. */
  long long net = u ? atomic_load(&u->net) : 0;
  uint64_t segs = scan_segments(s, locked), side = scan_side(s);
  atomic_fetch_add(&s->usage_scans, 1);
  if (u) {
    atomic_store(&u->offset, (long long)segs - net);
    atomic_store(&u->side, (long long)side);
    atomic_store(&u->scanned_ms, (long long)wall_ms());
  }
  return segs + side;
}

void cashback__spool_usage_refresh(cashback__spool *s) {
  if (!s->max_bytes)
    return;
  int64_t now = cashback__mono_ms();
  if (s->usage_refresh_ms >= 0 && now - s->usage_refresh_ms < USAGE_REFRESH_MS)
    return;
  s->usage_refresh_ms = now;
  pthread_mutex_lock(&s->lock);
  cashback__usage_file *u = usage_map(s);
  pthread_mutex_unlock(&s->lock);
  if (u) /* the scan itself outside the reporters' mutex */
    (void)cashback__spool_usage_rescan(s, 0);
}

int cashback__spool_capacity_count(cashback__spool *s, uint64_t *used) {
  pthread_mutex_lock(&s->lock);
  int r = cashback__spool_usage_estimate(s, used);
  pthread_mutex_unlock(&s->lock);
  return r;
}

uint64_t cashback__spool_usage_scans(cashback__spool *s) {
  return atomic_load(&s->usage_scans);
}

void cashback__spool_usage_close(cashback__spool *s) {
  cashback__usage_file *u = atomic_load(&s->usage);
  if (u)
    munmap(u, USAGE_SIZE);
  if (s->usage_old)
    munmap(s->usage_old, USAGE_SIZE);
  atomic_store(&s->usage, NULL);
  s->usage_old = NULL;
}
