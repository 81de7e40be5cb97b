/*
 * The writer: cashback__spool_append. Each process writes to its own
 * segment under the spool's mutex, one pwrite() per record at its data end,
 * stamped just before it; in SYNC mode a reporter waits until an fdatasync
 * that started after its write succeeded, concurrent reporters sharing one
 * (group commit). A failed fdatasync is never retried: every record not yet
 * known durable fails, the segment is cut back and abandoned. Also the
 * capacity check and segment rotation.
 *
 * In SYNC mode a segment grows ahead of its data in chunks of zeros, really
 * written (grow_ahead): they become durable with the fdatasync of the first
 * record that lands in them, and the records after it are overwrites of
 * blocks already written, whose fdatasync commits no metadata (an append
 * changes the file's size, so its fdatasync also commits the inode). A
 * record never starts with a zero byte, so readers take zeros where a
 * record would start for the end of the data; a segment is cut to its data
 * end when it is closed. docs/reliability.md, section 2.
 */
#include "cashback_spool_internal.h"
#include "cashback_crc32c.h"
#include "cashback_crypto.h"
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

#define RESCAN_MS 1000
/* Zeros are written ahead of the data in steps that start at PREALLOC_MIN
 * and double up to PREALLOC_CHUNK (the file's size rounded up to the
 * step): a process that writes a few records writes few zeros, and one
 * that writes many makes one metadata commit per MiB. */
#define PREALLOC_CHUNK (1u << 20)
#define PREALLOC_MIN (16u * 1024)

static const uint8_t zeros[16 * 1024];

static uint64_t take_stamp(cashback__spool *s) {
  return cashback__spool_take_stamp_floor(s, 0, NULL);
}

/* Closes this process's segment (its lock goes with the descriptor), cut
 * to its data end first: every record in it is settled (rotation and
 * close wait for that), and the zeros written ahead are of no more use. A
 * child that inherited the parent's segment only closes its copy. Not
 * synced: after a crash the zeros are still there, and read as its end. */
void cashback__spool_close_segment(cashback__spool *s) {
  if (s->fd >= 0 && s->pid == getpid() && s->alloc_size > s->seg_size &&
      ftruncate(s->fd, (off_t)s->seg_size) == 0)
    s->alloc_size = s->seg_size;
  if (s->fd >= 0)
    close(s->fd);
  if (s->sync_fd >= 0)
    close(s->sync_fd);
  s->fd = -1;
  s->sync_fd = -1;
}

/* "<seg>.sync", created with the segment in SYNC mode, holds how far the
 * writer knows the segment durable; a sender reads an open segment only
 * that far, so it never sends a record whose report may still fail. */
static int create_sync_file(cashback__spool *s, const char *seg) {
  char name[CASHBACK__SEG_NAME_MAX];
  cashback__spool_side_name(seg, ".sync", name);
  int fd = cashback__spool_openat(s, name, O_RDWR | O_CREAT | O_TRUNC, 0600);
  if (fd >= 0 && cashback__spool_pwrite_offset(fd, 0) != 0) {
    close(fd);
    fd = -1;
  }
  return fd;
}

/* Opens a new segment for this process. Called with the mutex held. */
static cashback_status new_segment(cashback__spool *s, char *err,
                                   size_t err_size) {
  uint8_t rnd[4];
  if (cashback__random(rnd, sizeof(rnd)) != CASHBACK_OK)
    return CASHBACK_E_CRYPTO;
  /* Named by a stamp: file-name order is creation order, whatever the
   * clock does (the records' own stamps decide the order they are sent). */
  uint64_t stamp = take_stamp(s);
  char hex[9];
  cashback__hex(rnd, sizeof(rnd), hex);
  char name[CASHBACK__SEG_NAME_MAX], tmp[CASHBACK__SEG_NAME_MAX + 4];
  snprintf(name, sizeof(name), "seg-%016llx-%ld-%s.log",
           (unsigned long long)stamp, (long)getpid(), hex);
  snprintf(tmp, sizeof(tmp), "%s.new", name); /* not a segment name */
  int fd = cashback__spool_openat(s, tmp, O_WRONLY | O_CREAT | O_EXCL, 0600);
  if (fd < 0) {
    int e = errno;
    cashback__spool_errf_sys(err, err_size, e,
                             "spool %s: cannot create a segment", s->dir);
    return e == ENOSPC || e == EDQUOT ? CASHBACK_E_DISK_FULL : CASHBACK_E_IO;
  }
  /* Locked while open: the sender sees the segment as in use. It gets its
   * name only once locked (a sender seeing it unlocked would take it for a
   * finished segment and delete it), and its cursor file now, so that a
   * sender can move the cursor without new disk space: a full disk must
   * not stop the spool from draining. */
  int e = 0, sync_fd = -1;
  errno = 0;
  if (flock(fd, LOCK_EX | LOCK_NB) != 0 ||
      cashback__spool_write_ack(s, name, 0) != CASHBACK_OK ||
      (s->durability == CASHBACK_DURABLE_SYNC &&
       (sync_fd = create_sync_file(s, name)) < 0) ||
      renameat(s->dirfd, tmp, s->dirfd, name) != 0 ||
      (s->durability == CASHBACK_DURABLE_SYNC && fsync(s->dirfd) != 0))
    e = errno ? errno : EIO;
  if (e) {
    close(fd);
    if (sync_fd >= 0)
      close(sync_fd);
    unlinkat(s->dirfd, tmp, 0);
    cashback__spool_remove_segment(s, name);
    cashback__spool_errf_sys(err, err_size, e,
                             "spool %s: cannot set up a segment", s->dir);
    return e == ENOSPC || e == EDQUOT ? CASHBACK_E_DISK_FULL : CASHBACK_E_IO;
  }
  s->fd = fd;
  s->sync_fd = sync_fd;
  s->pid = getpid();
  memcpy(s->seg, name, sizeof(name));
  s->seg_size = 0;
  s->alloc_size = 0;
  s->prealloc = s->durability == CASHBACK_DURABLE_SYNC ? PREALLOC_MIN : 0;
  s->poisoned = 0;
  s->written_seq = s->synced_seq = s->failed_seq = 0;
  s->synced_size = 0;
  return CASHBACK_OK;
}

/* Makes sure this process has a usable segment, in the directory the
 * configured path names now. Mutex held. */
static cashback_status ensure_segment(cashback__spool *s, char *err,
                                      size_t err_size) {
  if (s->fd >= 0 && s->pid != getpid()) {
    /* A child made without the fork hooks (they normally did this): the
     * parent keeps the segment and its lock. */
    cashback__spool_close_segment(s);
    s->syncing = 0;
    s->waiters = 0;
    if (s->sender_fd >= 0) {
      close(s->sender_fd);
      s->sender_fd = -1;
    }
    s->pid = getpid();
  }
  if (s->fd >= 0 && !s->poisoned && s->seg_size < s->segment_bytes)
    return CASHBACK_OK;
  if (s->fd >= 0) {
    /* Rotate once every record of the old segment is settled and every
     * reporter waiting on it has seen the outcome (the counters restart
     * with the new segment). */
    while (s->syncing || s->waiters > 0 ||
           (s->synced_seq < s->written_seq && s->failed_seq < s->written_seq &&
            s->durability == CASHBACK_DURABLE_SYNC))
      pthread_cond_wait(&s->cv, &s->lock);
    if (s->fd >= 0 && (s->poisoned || s->seg_size >= s->segment_bytes))
      cashback__spool_close_segment(s);
    if (s->fd >= 0)
      return CASHBACK_OK;
  }
  if (!cashback__spool_dir_current(s)) {
    cashback_status st = cashback__spool_reopen_dir(s, err, err_size);
    if (st != CASHBACK_OK)
      return st;
  }
  return new_segment(s, err, err_size);
}

/* 1 when the current segment still has its name in the directory that
 * the configured path names: a record written to it is not lost with a
 * removed or replaced directory. An fstat and a stat. Mutex held. */
static int segment_reachable(cashback__spool *s) {
  struct stat st;
  return cashback__spool_fstat(s->fd, &st) == 0 && st.st_nlink > 0 &&
         cashback__spool_dir_current(s);
}

/* Whether `need` more bytes fit under spool_max_bytes. By the shared count
 * (cashback_spool_usage.c) when there is one: no directory scan, unless it
 * says full, and then at most once a RESCAN_MS while scans keep saying so
 * (an overcount must not refuse a report). Without one, as before it: a
 * scan once a RESCAN_MS and whenever full, plus what this process wrote
 * since. */
static cashback_status check_capacity(cashback__spool *s, uint64_t need,
                                      char *err, size_t err_size) {
  if (!s->max_bytes)
    return CASHBACK_OK;
  int64_t now = cashback__mono_ms();
  uint64_t used = 0;
  int recent = s->used_at_ms >= 0 && now - s->used_at_ms <= RESCAN_MS;
  if (cashback__spool_usage_estimate(s, &used)) {
    if (used + need > s->max_bytes && !(recent && s->used_full)) {
      used = s->used = cashback__spool_usage_rescan(s, 1);
      s->used_at_ms = now;
      s->used_full = used + need > s->max_bytes;
    }
  } else {
    if (!recent || s->used + need > s->max_bytes) {
      s->used = cashback__spool_usage_rescan(s, 1);
      s->used_at_ms = now;
    }
    used = s->used;
  }
  if (used + need > s->max_bytes) {
    cashback__spool_errf(
        err, err_size,
        "spool %s: full (%llu of %llu bytes queued); the event is not "
        "stored",
        s->dir, (unsigned long long)used, (unsigned long long)s->max_bytes);
    return CASHBACK_E_SPOOL_FULL;
  }
  return CASHBACK_OK;
}

/* Writes `len` bytes at `off` of the current segment, again on EINTR and
 * after a short write. 0, or an errno (ENOSPC for a write that wrote
 * nothing); *done gets the bytes written either way. */
static int write_at(cashback__spool *s, int fd, const uint8_t *p, size_t len,
                    uint64_t off, size_t *done) {
  *done = 0;
  while (*done < len) {
    ssize_t n = s->pwrite_fn(fd, p + *done, len - *done, (off_t)(off + *done));
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      return n < 0 ? errno : ENOSPC;
    *done += (size_t)n;
  }
  return 0;
}

/* Writes zeros over [from, to) of the current segment. 0 or an errno;
 * *done gets the bytes written. */
static int write_zeros(cashback__spool *s, int fd, uint64_t from, uint64_t to,
                       uint64_t *done) {
  *done = 0;
  while (from + *done < to) {
    uint64_t left = to - from - *done;
    size_t n = left < sizeof(zeros) ? (size_t)left : sizeof(zeros), w;
    int e = write_at(s, fd, zeros, n, from + *done, &w);
    *done += w;
    if (e)
      return e;
  }
  return 0;
}

/* Before a record of `need` bytes past the data end: makes sure zeros are
 * written ahead of it, a step at a time (SYNC mode), no further than the
 * segment will be used (it rotates past segment_bytes). A step the disk
 * refuses is given back, and no more zeros are written ahead in this
 * segment: the record itself is still written (its write extends the file
 * as an append does, and fails alone with a full disk). Mutex held. */
static void grow_ahead(cashback__spool *s, uint64_t need) {
  uint64_t end = s->seg_size + need;
  if (!s->prealloc || end <= s->alloc_size)
    return;
  uint64_t to = (end + s->prealloc - 1) / s->prealloc * s->prealloc;
  uint64_t cap = (s->segment_bytes + 4095) / 4096 * 4096;
  if (to > cap)
    to = cap > end ? cap : end;
  if (to <= end)
    return; /* the record extends the file itself */
  uint64_t done;
  if (write_zeros(s, s->fd, s->alloc_size, to, &done) == 0) {
    s->alloc_size = to;
    if (s->prealloc < PREALLOC_CHUNK)
      s->prealloc *= 2;
    return;
  }
  if (done && ftruncate(s->fd, (off_t)s->alloc_size) != 0)
    s->alloc_size += done; /* zeros all the same */
  s->prealloc = 0;
}

/* After a failed fdatasync: the records past the last good one must not
 * stay in the segment as readable data (their reports fail). Cut off, or,
 * if the file cannot be cut, overwritten with zeros (the end of its data
 * for a reader). Mutex held. */
static void cut_back(cashback__spool *s, int fd) {
  uint64_t done, before = s->seg_size;
  if (ftruncate(fd, (off_t)s->synced_size) == 0) {
    s->seg_size = s->alloc_size = s->synced_size;
  } else if (write_zeros(s, fd, s->synced_size, s->seg_size, &done) == 0) {
    s->seg_size = s->synced_size;
  }
  cashback__spool_usage_add(s, -(int64_t)(before - s->seg_size));
}

/* Waits until record `ticket` of segment generation `fd` is durable or
 * lost, taking part in group commit. Mutex held. */
static cashback_status wait_durable(cashback__spool *s, uint64_t ticket,
                                    char *err, size_t err_size) {
  int fd = s->fd;
  cashback_status st;
  s->waiters++;
  for (;;) {
    if (s->fd != fd) {
      st = CASHBACK_E_INTERNAL; /* cannot happen: rotation waits */
      break;
    }
    if (ticket <= s->synced_seq) {
      st = CASHBACK_OK;
      break;
    }
    if (ticket <= s->failed_seq) {
      cashback__spool_errf(
          err, err_size,
          "spool %s: fdatasync failed (%s); the event is not stored", s->dir,
          strerror(s->sync_errno));
      st = s->sync_errno == ENOSPC || s->sync_errno == EDQUOT
               ? CASHBACK_E_DISK_FULL
               : CASHBACK_E_IO;
      break;
    }
    if (!s->syncing) {
      s->syncing = 1;
      uint64_t target = s->written_seq;
      uint64_t size = s->seg_size;
      pthread_mutex_unlock(&s->lock);
      int rc = fdatasync(fd);
      int e = errno;
      pthread_mutex_lock(&s->lock);
      s->syncing = 0;
      s->sync_count++;
      if (rc == 0) {
        s->synced_seq = target;
        s->synced_size = size;
        /* Publish it for the sender. If this fails, the sender only sees
         * less for now: no record is reported durable that is not. */
        if (s->sync_fd >= 0)
          (void)cashback__spool_pwrite_offset(s->sync_fd, size);
      } else {
        /* Never retry: what the kernel failed to write may be gone, and a
         * second fdatasync could report success for it. */
        s->failed_seq = s->written_seq;
        s->sync_errno = e;
        s->poisoned = 1;
        cut_back(s, fd);
      }
      pthread_cond_broadcast(&s->cv);
      continue;
    }
    pthread_cond_wait(&s->cv, &s->lock);
  }
  if (--s->waiters == 0)
    pthread_cond_broadcast(&s->cv); /* a rotation may wait for us */
  return st;
}

/* Writes one encoded record to the current segment, and waits for it to be
 * durable in SYNC mode. Mutex held. */
static cashback_status append_once(cashback__spool *s, uint8_t *rec, size_t len,
                                   int64_t time_ms, uint32_t payload_crc,
                                   char *err, size_t err_size) {
  size_t total = CASHBACK__RECORD_HEADER_V2 + len;
  cashback_status st = check_capacity(s, total, err, err_size);
  if (st == CASHBACK_OK)
    st = ensure_segment(s, err, err_size);
  if (st != CASHBACK_OK)
    return st;
  /* The stamp, right before the write and under the mutex: stamps grow
   * along the segment, and every report that returned before this one
   * began holds a smaller stamp. */
  cashback__record_header_v2(rec, len, time_ms, take_stamp(s), payload_crc);
  grow_ahead(s, total);
  size_t done;
  int e = write_at(s, s->fd, rec, total, s->seg_size, &done);
  if (e) {
    /* Cut a partial record back off: this process is the only writer of
     * the segment. */
    if (done) {
      if (ftruncate(s->fd, (off_t)s->seg_size) == 0)
        s->alloc_size = s->seg_size;
      else
        s->poisoned = 1;
    }
    cashback__spool_errf_sys(err, err_size, e,
                             "spool %s: write failed; the event is not stored",
                             s->dir);
    return e == ENOSPC || e == EDQUOT ? CASHBACK_E_DISK_FULL : CASHBACK_E_IO;
  }
  s->seg_size += total;
  if (s->seg_size > s->alloc_size)
    s->alloc_size = s->seg_size;
  s->used += total;
  cashback__spool_usage_add(s, (int64_t)total);
  uint64_t ticket = ++s->written_seq;
  if (s->durability == CASHBACK_DURABLE_SYNC)
    st = wait_durable(s, ticket, err, err_size);
  return st;
}

cashback_status cashback__spool_append(cashback__spool *s, const void *payload,
                                       size_t len, int64_t time_ms, char *err,
                                       size_t err_size) {
  if (len == 0 || len > CASHBACK__RECORD_MAX) {
    cashback__spool_errf(err, err_size,
                         "spool: a record is 1 to %d bytes, not %zu",
                         CASHBACK__RECORD_MAX, len);
    return CASHBACK_E_TOO_BIG;
  }
  size_t total = CASHBACK__RECORD_HEADER_V2 + len;
  uint8_t *rec = malloc(total);
  if (!rec)
    return CASHBACK_E_NOMEM;
  memcpy(rec + CASHBACK__RECORD_HEADER_V2, payload, len);
  uint32_t payload_crc = cashback__crc32c(0, payload, len);

  pthread_mutex_lock(&s->lock);
  cashback_status st =
      append_once(s, rec, len, time_ms, payload_crc, err, err_size);
  /* Checked once the record is written (and durable): a record in a
   * segment that lost its name, or in a directory the configured path no
   * longer names (removed, or replaced under a running shop), would be
   * lost with a success. It is written again into a new segment of the
   * directory the path names now; only a second such loss in a row fails. */
  for (int tries = 0; st == CASHBACK_OK && !segment_reachable(s); tries++) {
    s->poisoned = 1; /* rotate: start a new segment */
    if (tries == 1) {
      cashback__spool_errf(
          err, err_size,
          "spool %s: the directory was removed or replaced while the event "
          "was written; the event is not stored",
          s->dir);
      st = CASHBACK_E_IO;
      break;
    }
    st = append_once(s, rec, len, time_ms, payload_crc, err, err_size);
  }
  pthread_mutex_unlock(&s->lock);
  free(rec);
  return st;
}

uint64_t cashback__spool_syncs(cashback__spool *s) {
  pthread_mutex_lock(&s->lock);
  uint64_t n = s->sync_count;
  pthread_mutex_unlock(&s->lock);
  return n;
}
