/*
 * The spool's sequence stamp (`seq`): a hybrid logical clock shared by
 * every process of the spool, read and written under its flock. Every
 * record and every segment name takes a stamp from it; the sender merges
 * segments by stamp (cashback_spool.h, "Order").
 */
#include "cashback_spool_internal.h"
#include "cashback_crc32c.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

static uint64_t real_now_us(void *ud) {
  (void)ud;
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return ts.tv_sec < 0
             ? 0
             : (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

void cashback__spool_seq_init(cashback__spool *s) {
  s->seq_tried_ms = -1;
  s->seq_fd = -1;
  s->now_us = real_now_us;
}

void cashback__spool_set_clock(cashback__spool *s, uint64_t (*now_us)(void *),
                               void *ud) {
  pthread_mutex_lock(&s->lock);
  s->now_us = now_us ? now_us : real_now_us;
  s->now_ud = now_us ? ud : NULL;
  pthread_mutex_unlock(&s->lock);
}

/* `seq`: the stamp, 8 bytes little-endian, and their CRC-32C (4 bytes).
 * An 8-byte file is the earlier format (native order, no CRC); an empty
 * one a new spool. */
#define SEQ_SIZE 12

static void seq_fail(cashback__spool *s, const char *what, int e) {
  s->seq_errno = e ? e : EIO;
  s->seq_what = what;
}

/* Opens `seq` (creating it, 0600, the spool directory's owner's when we run
 * as root). Mutex held. Retried at most once a second while it fails (a
 * spool this user cannot write). A forked child opens its own: a flock
 * belongs to the open file, which a child shares with its parent. */
static int open_seq(cashback__spool *s) {
  if (s->seq_fd >= 0 && s->seq_pid == getpid())
    return 0;
  if (s->seq_fd >= 0) {
    close(s->seq_fd);
    s->seq_fd = -1;
    s->seq_tried_ms = -1;
  }
  int64_t now = cashback__mono_ms();
  if (s->seq_tried_ms >= 0 && now - s->seq_tried_ms < 1000)
    return -1;
  s->seq_tried_ms = now;
  int fd =
      cashback__spool_openat(s, "seq", O_RDWR | O_CREAT | O_NONBLOCK, 0600);
  if (fd < 0) {
    seq_fail(s, "cannot open", errno);
    return -1;
  }
  struct stat st;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    seq_fail(s, "is no regular file", fstat(fd, &st) != 0 ? errno : EINVAL);
    close(fd);
    return -1;
  }
  s->seq_fd = fd;
  s->seq_pid = getpid();
  return 0;
}

/* Reads the stamp in `seq` (its lock held): 0 and *v, or -1 (read
 * failed). A damaged or torn value reads as 0 (the wall clock and this
 * process's last stamp carry the order on), counted in seq_damaged. */
static int seq_read(cashback__spool *s, uint64_t *v) {
  uint8_t b[SEQ_SIZE];
  ssize_t n;
  do
    n = pread(s->seq_fd, b, sizeof(b), 0);
  while (n < 0 && errno == EINTR);
  *v = 0;
  if (n < 0)
    return -1;
  if (n == 8) { /* the earlier format */
    memcpy(v, b, 8);
    return 0;
  }
  if (n == 0)
    return 0;
  uint32_t crc = (uint32_t)b[8] | (uint32_t)b[9] << 8 | (uint32_t)b[10] << 16 |
                 (uint32_t)b[11] << 24;
  if (n != SEQ_SIZE || cashback__crc32c(0, b, 8) != crc) {
    s->seq_damaged++;
    return 0;
  }
  for (int i = 7; i >= 0; i--)
    *v = *v << 8 | b[i];
  return 0;
}

static int seq_write(cashback__spool *s, uint64_t v) {
  uint8_t b[SEQ_SIZE];
  for (int i = 0; i < 8; i++)
    b[i] = (uint8_t)(v >> (8 * i));
  uint32_t crc = cashback__crc32c(0, b, 8);
  for (int i = 0; i < 4; i++)
    b[8 + i] = (uint8_t)(crc >> (8 * i));
  ssize_t n;
  do
    n = pwrite(s->seq_fd, b, sizeof(b), 0);
  while (n < 0 && errno == EINTR);
  if (n == (ssize_t)sizeof(b))
    return 0;
  errno = n < 0 ? errno : ENOSPC;
  return -1;
}

/* Takes (or, LOCK_UN, drops) seq's flock, never blocking for long: the
 * spool mutex is held, and a process of the spool stopped while it holds
 * the flock (SIGSTOP, a debugger, a frozen cgroup) must not hang this
 * process's reports, sender, status and fork() (whose prepare handler takes
 * the mutex). Tried without blocking for at most `wait_ms` (0: once);
 * then -1 and EWOULDBLOCK, and the caller stamps from this process's
 * clock. The holder is in a critical section of microseconds, often only
 * waiting for a CPU: a few sched_yield()s first, then sleeps growing from
 * 20 us to 1 ms (a 1 ms sleep at once made a quarter of the reports of 32
 * writer processes on 2 CPUs wait 1 ms or more). */
#define SEQ_LOCK_WAIT_MS 50

static int seq_lock(cashback__spool *s, int op, int wait_ms) {
  int r;
  if (op == LOCK_UN) {
    do
      r = flock(s->seq_fd, op);
    while (r != 0 && errno == EINTR);
    return r;
  }
  int64_t until = cashback__mono_ms() + wait_ms;
  long sleep_ns = 20000;
  for (int tries = 0;; tries++) {
    r = flock(s->seq_fd, op | LOCK_NB);
    if (r == 0 || (errno != EWOULDBLOCK && errno != EINTR))
      return r;
    if (errno == EWOULDBLOCK && cashback__mono_ms() >= until)
      return -1;
    if (tries < 4) {
      sched_yield();
      continue;
    }
    struct timespec ts = {0, sleep_ns};
    nanosleep(&ts, NULL);
    if (sleep_ns < 1000000)
      sleep_ns = sleep_ns * 2 < 1000000 ? sleep_ns * 2 : 1000000;
  }
}

/*
 * A new stamp: larger than every stamp taken before in this spool (while
 * `seq` lives) and not behind the wall clock. Mutex held. `seq` is read and
 * written under its flock (a short critical section across processes; no
 * mapping, so no page fault that a full disk or a truncation would answer
 * with SIGBUS). Raises `seq` to at least `floor` first (0: no floor).
 * *shared is 1 when the stamp was ordered through `seq`, 0 when `seq`
 * could not be used: then it comes from this process's clock (its last
 * stamp + 1, or the wall clock), the reason is in seq_errno/seq_what, and
 * the stamp orders only this process's records reliably.
 */
uint64_t cashback__spool_take_stamp_floor(cashback__spool *s, uint64_t floor,
                                          int *shared) {
  uint64_t now = s->now_us(s->now_ud);
  uint64_t v = s->local_stamp == UINT64_MAX ? UINT64_MAX : s->local_stamp + 1;
  if (v < now)
    v = now;
  if (v < floor)
    v = floor;
  int ok = 0;
  if (open_seq(s) == 0) {
    uint64_t old;
    if (seq_lock(s, LOCK_EX, SEQ_LOCK_WAIT_MS) != 0) {
      seq_fail(s, "cannot be locked", errno);
    } else {
      if (seq_read(s, &old) != 0) {
        seq_fail(s, "cannot be read", errno);
      } else {
        uint64_t next = old == UINT64_MAX ? old : old + 1;
        if (v < next)
          v = next;
        if (seq_write(s, v) != 0)
          seq_fail(s, "cannot be written", errno);
        else
          ok = 1;
      }
      seq_lock(s, LOCK_UN, 0);
    }
    if (!ok) { /* retried on a later stamp, at most once a second */
      close(s->seq_fd);
      s->seq_fd = -1;
    }
  }
  if (ok)
    s->seq_errno = 0;
  if (v > s->local_stamp)
    s->local_stamp = v;
  if (shared)
    *shared = ok;
  return v;
}

int cashback__spool_seq_problem(cashback__spool *s, char *out, size_t size) {
  pthread_mutex_lock(&s->lock);
  int e = s->seq_errno;
  if (e)
    cashback__spool_errf(
        out, size,
        "%s/seq %s: %s (euid %ld); stamps come from each process's own "
        "clock, so order across processes follows the wall clock",
        s->dir, s->seq_what ? s->seq_what : "cannot be used", strerror(e),
        (long)geteuid());
  else if (size)
    out[0] = '\0';
  pthread_mutex_unlock(&s->lock);
  return e ? -1 : 0;
}

uint64_t cashback__spool_stamp(cashback__spool *s) {
  pthread_mutex_lock(&s->lock);
  uint64_t v = s->local_stamp;
  if (open_seq(s) == 0 && seq_lock(s, LOCK_SH, 0) == 0) {
    uint64_t shared;
    if (seq_read(s, &shared) == 0)
      v = shared;
    seq_lock(s, LOCK_UN, 0);
  }
  pthread_mutex_unlock(&s->lock);
  return v;
}
