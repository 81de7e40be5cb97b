/*
 * The durable spool. See cashback_spool.h for the layout and
 * docs/reliability.md for what each durability mode promises.
 *
 * Writers: one segment per process, records appended with one write() under
 * the spool's mutex. In SYNC mode a reporter waits until an fdatasync that
 * started after its write has succeeded; concurrent reporters share one
 * (group commit: the first waiter syncs for everyone written so far). A
 * failed fdatasync is never retried: every record not yet known durable
 * fails, the segment is cut back to its last durable size and abandoned.
 *
 * Order: every record gets a stamp from the shared `seq` file just before
 * its write(), under the mutex (so stamps grow within a segment, and a
 * report that begins after another returned gets a larger one); the sender
 * merges the segments by stamp (cashback__spool_collect). See
 * cashback_spool.h and docs/reliability.md, "Causal order".
 */
#include "cashback_spool.h"
#include "cashback_crc32c.h"
#include "cashback_crypto.h"
#include "cashback_fork.h"
#include "cashback_record.h"
#include "cashback_text.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

/* Segment, quarantine and `deferred` offsets are 64-bit and go to pread()
 * as off_t: a 32-bit off_t would cut them past 2 GiB (configure's
 * AC_SYS_LARGEFILE gives a 64-bit one where the platform has it). */
_Static_assert(sizeof(off_t) >= 8, "a 64-bit off_t is needed (large files)");

#define SEG_NAME_MAX 64
#define READ_CHUNK (CASHBACK__RECORD_MAX + CASHBACK__RECORD_HEADER_MAX)
#define RESCAN_MS 1000
/* A collection merges at most this many segments at once (one descriptor
 * and one small buffer each); see cashback__spool_collect(). */
#define MERGE_MAX 32
/* A merge reader's buffer; grows for a larger record at its head. (The
 * fuzz build makes it tiny, to reach every refill path.) */
#ifndef CASHBACK__READER_BUF
#define CASHBACK__READER_BUF (16 * 1024)
#endif
#define READER_BUF CASHBACK__READER_BUF
/* Opening a file among the segments: never through a symlink, never
 * waiting on a FIFO. */
#define SEG_OPEN_FLAGS (O_RDONLY | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC)

struct cashback__spool {
  char dir[PATH_MAX];
  /* The directory, opened once checked (open_spool_dir). It is replaced in
   * place (dup3) when the configured path names another directory. */
  int dirfd;
  dev_t dir_dev;
  ino_t dir_ino;
  /* Files we create are given to the directory's owner when we run as
   * root and it is not root's (chown_files). */
  uid_t owner_uid;
  gid_t owner_gid;
  int chown_files;
  cashback_durability durability;
  uint64_t max_bytes;
  uint64_t segment_bytes;

  pthread_mutex_t lock;
  pthread_cond_t cv;
  /* The current segment of this process (fd -1: none yet). */
  int fd;
  int sync_fd; /* "<seg>.sync": how far the segment is durable (SYNC mode) */
  pid_t pid;
  char seg[SEG_NAME_MAX];
  uint64_t seg_size;
  int poisoned;         /* an fdatasync failed: abandon this segment */
  uint64_t written_seq; /* records written to the current segment */
  uint64_t synced_seq;  /* ... known durable */
  uint64_t failed_seq;  /* ... known lost */
  uint64_t synced_size; /* segment size at the last good fdatasync */
  int syncing;
  int waiters; /* threads in wait_durable() on the current segment */
  int sync_errno;
  uint64_t sync_count;
  /* Capacity: the last directory scan, plus what we wrote since. */
  uint64_t used;
  int64_t used_at_ms;
  int64_t reclaimed_at_ms; /* last sweep of files left by crashed writers */

  /* The sequence stamp: `seq`, open (-1 until opened, or when it cannot
   * be: then a process-local clock of the same kind stands in). */
  int seq_fd;
  pid_t seq_pid;        /* the process that opened seq_fd */
  int seq_errno;        /* why `seq` could not be used last time; 0: it was */
  const char *seq_what; /* ... what failed */
  uint64_t seq_damaged; /* damaged values read (taken as 0) */
  int64_t seq_tried_ms; /* last attempt to open it; -1: never */
  uint64_t local_stamp; /* the last stamp this object took */
  uint64_t (*now_us)(void *);
  void *now_ud;
  /* How segments are read (pread; a test puts a failing one in). */
  ssize_t (*pread_fn)(int, void *, size_t, off_t);

  int sender_fd;        /* sender.lock while held, else -1 */
  uint64_t dir_reopens; /* the configured path named a new directory */
  uint64_t sender_gen;  /* counts acquisitions of sender.lock */
  cashback__fork_node fork_node;
};

static void errf(char *err, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void errf(char *err, size_t size, const char *fmt, ...) {
  if (!err || !size)
    return;
  va_list ap;
  va_start(ap, fmt);
  cashback__vprintablef(err, size, fmt, ap);
  va_end(ap);
}

static int64_t mono_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static uint64_t real_now_us(void *ud) {
  (void)ud;
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return ts.tv_sec < 0
             ? 0
             : (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

void cashback__spool_set_clock(cashback__spool *s, uint64_t (*now_us)(void *),
                               void *ud) {
  pthread_mutex_lock(&s->lock);
  s->now_us = now_us ? now_us : real_now_us;
  s->now_ud = now_us ? ud : NULL;
  pthread_mutex_unlock(&s->lock);
}

static int spool_openat(cashback__spool *s, const char *name, int flags,
                        mode_t mode);

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
  int64_t now = mono_ms();
  if (s->seq_tried_ms >= 0 && now - s->seq_tried_ms < 1000)
    return -1;
  s->seq_tried_ms = now;
  int fd = spool_openat(s, "seq", O_RDWR | O_CREAT | O_NONBLOCK, 0600);
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
 * the mutex). Tried without blocking for at most `wait_ms` (1 ms sleeps;
 * 0: once); then -1 and EWOULDBLOCK, and the caller stamps from this
 * process's clock. */
#define SEQ_LOCK_WAIT_MS 50

static int seq_lock(cashback__spool *s, int op, int wait_ms) {
  int r;
  if (op == LOCK_UN) {
    do
      r = flock(s->seq_fd, op);
    while (r != 0 && errno == EINTR);
    return r;
  }
  int64_t until = mono_ms() + wait_ms;
  for (;;) {
    r = flock(s->seq_fd, op | LOCK_NB);
    if (r == 0 || (errno != EWOULDBLOCK && errno != EINTR))
      return r;
    if (errno == EWOULDBLOCK && mono_ms() >= until)
      return -1;
    struct timespec ts = {0, 1000000};
    nanosleep(&ts, NULL);
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
static uint64_t take_stamp_floor(cashback__spool *s, uint64_t floor,
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

static uint64_t take_stamp(cashback__spool *s) {
  return take_stamp_floor(s, 0, NULL);
}

int cashback__spool_seq_problem(cashback__spool *s, char *out, size_t size) {
  pthread_mutex_lock(&s->lock);
  int e = s->seq_errno;
  if (e)
    errf(out, size,
         "%s/seq %s: %s (euid %ld); stamps come from each process's own "
         "clock, so order across processes follows the wall clock",
         s->dir, s->seq_what ? s->seq_what : "cannot be used", strerror(e),
         (long)geteuid());
  else if (size)
    out[0] = '\0';
  pthread_mutex_unlock(&s->lock);
  return e ? -1 : 0;
}

void cashback__spool_set_pread(cashback__spool *s,
                               ssize_t (*fn)(int, void *, size_t, off_t)) {
  s->pread_fn = fn ? fn : pread;
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

static int is_segment(const char *name, size_t *base_len) {
  size_t n = strlen(name);
  if (n < 9 || n >= SEG_NAME_MAX || strncmp(name, "seg-", 4) != 0 ||
      strcmp(name + n - 4, ".log") != 0)
    return 0;
  if (base_len)
    *base_len = n - 4;
  return 1;
}

/* "<base>.ack" for a segment "<base>.log". */
/* "<base><suffix>" for a segment "<base>.log"; suffixes are at most 5
 * characters (".ack", ".sync"), and segment names leave room for them. */
static void side_name(const char *seg, const char *suffix,
                      char out[SEG_NAME_MAX]) {
  size_t n = strlen(seg) - 4;
  memcpy(out, seg, n);
  memcpy(out + n, suffix, strlen(suffix) + 1);
}

static void ack_name(const char *seg, char out[SEG_NAME_MAX]) {
  side_name(seg, ".ack", out);
}

/* "user www-data, uid 33": the effective user, for error messages (a
 * spool shared by root and the shop's user fails for one of them). */
static void who(char *out, size_t size) {
  uid_t u = geteuid();
  struct passwd pw, *res = NULL;
  char buf[1024];
  if (getpwuid_r(u, &pw, buf, sizeof(buf), &res) == 0 && res)
    snprintf(out, size, "user %s, uid %u", pw.pw_name, (unsigned)u);
  else
    snprintf(out, size, "uid %u", (unsigned)u);
}

/* errf() with the system's reason for `e` and the effective user appended:
 * "<text>: Permission denied (as user www-data, uid 33)". */
static void errf_sys(char *err, size_t size, int e, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void errf_sys(char *err, size_t size, int e, const char *fmt, ...) {
  if (!err || !size)
    return;
  char text[PATH_MAX + 256], user[160];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(text, sizeof(text), fmt, ap);
  va_end(ap);
  who(user, sizeof(user));
  cashback__printablef(err, size, "%s: %s (as %s)", text, strerror(e), user);
}

/* Opens `name` in the spool directory, never through a symlink
 * (O_NOFOLLOW: a planted link is refused with ELOOP, its target untouched),
 * and never through a hard link: what is opened for writing or with O_CREAT
 * must be a regular file with one link, owned by the directory's owner, by
 * us or by root; anything else is refused (EINVAL: no regular file, EMLINK:
 * more than one link, EPERM: another user's) before it is changed. Creation
 * is told apart from opening an existing file (O_CREAT|O_EXCL first, then
 * without O_CREAT), so that only a file this call created is given to the
 * directory's owner when we run as root (and one of ours with one link, the
 * leftover of an older root process: healed); O_TRUNC is done by
 * ftruncate() after the checks. -1 and errno on failure. */
static int spool_openat(cashback__spool *s, const char *name, int flags,
                        mode_t mode) {
  int base = (flags & ~(O_CREAT | O_EXCL | O_TRUNC)) | O_NOFOLLOW | O_CLOEXEC;
  int checked =
      (flags & (O_CREAT | O_TRUNC)) || (flags & O_ACCMODE) != O_RDONLY;
  if (!checked)
    return openat(s->dirfd, name, base, mode);
  base |= O_NONBLOCK; /* a planted FIFO must not hang the open (no effect
                         on the regular files that pass the checks) */
  int fd = -1, created = 0;
  for (int tries = 0; fd < 0 && tries < 8; tries++) {
    if (flags & O_CREAT) {
      fd = openat(s->dirfd, name, base | O_CREAT | O_EXCL, mode);
      if (fd >= 0) {
        created = 1;
        break;
      }
      if (errno != EEXIST || (flags & O_EXCL))
        return -1;
    }
    fd = openat(s->dirfd, name, base, mode);
    if (fd < 0 && (errno != ENOENT || !(flags & O_CREAT)))
      return -1; /* ENOENT with O_CREAT: removed meanwhile, create it */
  }
  if (fd < 0)
    return -1;
  struct stat st;
  int e = 0;
  uid_t me = geteuid();
  if (fstat(fd, &st) != 0)
    e = errno;
  else if (!S_ISREG(st.st_mode))
    e = EINVAL;
  else if (st.st_nlink != 1)
    e = EMLINK;
  else if (st.st_uid != s->owner_uid && st.st_uid != me && st.st_uid != 0)
    e = EPERM;
  else if (s->chown_files && (created || st.st_uid == me) &&
           (st.st_uid != s->owner_uid || st.st_gid != s->owner_gid) &&
           fchown(fd, s->owner_uid, s->owner_gid) != 0)
    e = errno;
  else if ((flags & O_TRUNC) && st.st_size != 0 && ftruncate(fd, 0) != 0)
    e = errno;
  if (e) {
    close(fd);
    errno = e;
    return -1;
  }
  return fd;
}

int cashback__spool_openat(cashback__spool *s, const char *name, int flags,
                           mode_t mode) {
  return spool_openat(s, name, flags, mode);
}

int cashback__spool_dirfd(const cashback__spool *s) {
  return s->dirfd;
}

#define MAX_HOPS 40 /* symlinks and ".." followed in one spool path */

/* Directories above the spool are only passed through: O_PATH needs no
 * read permission on them (a 0711 home directory). */
#ifdef O_PATH
#define PASS_THROUGH O_PATH
#else
#define PASS_THROUGH O_RDONLY
#endif

/* Makes the entry `comp` just made in directory `fd` durable. */
static int sync_parent(int fd) {
  int rfd = openat(fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  int rc = rfd < 0 ? -1 : fsync(rfd);
  int e = errno;
  if (rfd >= 0)
    close(rfd);
  errno = e;
  return rc;
}

static int others_may_write(const struct stat *st) {
  return (st->st_mode & (S_IWGRP | S_IWOTH)) != 0;
}

/* Why `st` (a directory or a symlink met on the way to the spool, inside
 * `parent`, NULL for "/") cannot be trusted, or NULL. `*other` is the one
 * owner besides root and us that root accepts on the path: the spool's
 * owner (docs/reliability.md, "Who may own a spool"). */
static const char *untrusted(const struct stat *st, const struct stat *parent,
                             int last, uid_t me, uid_t *other) {
  uid_t u = st->st_uid;
  if (parent && others_may_write(parent) && u != me && u != 0)
    return "is in a directory other users may write to, and is not owned by "
           "this user";
  if (u != 0 && u != me) {
    if (me != 0)
      return "is owned by another user";
    if (*other != (uid_t)-1 && *other != u)
      return "is owned by another user than the rest of the path";
    *other = u;
  }
  if (!last && S_ISDIR(st->st_mode) && others_may_write(st) &&
      !(st->st_mode & S_ISVTX))
    return "is writable by other users";
  return NULL;
}

/* Opens the spool directory `path` one component at a time from "/",
 * creating missing directories 0700 (each made durable in its parent),
 * following a symlink only when it is owned as a directory there would
 * have to be, and checking every directory on the way (untrusted()).
 * 0 with the directory's descriptor and status, or -1 with `err` set. */
static int open_spool_dir(const char *path, int *out, struct stat *out_st,
                          char *err, size_t err_size) {
  char pending[2 * PATH_MAX], resolved[PATH_MAX], comp[NAME_MAX + 1];
  uid_t me = geteuid(), other = (uid_t)-1;
  int hops = 0, fd = -1;
  struct stat pst;
  snprintf(pending, sizeof(pending), "%s", path);
restart:
  if (fd >= 0)
    close(fd);
  resolved[0] = '\0';
  fd = open("/", PASS_THROUGH | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0 || fstat(fd, &pst) != 0) {
    errf_sys(err, err_size, errno, "spool_dir %s: cannot open /", path);
    goto fail;
  }
  const char *why = untrusted(&pst, NULL, 0, me, &other);
  if (why) {
    errf(err, err_size, "spool_dir %s: / %s (owner uid %u, mode %04o)", path,
         why, (unsigned)pst.st_uid, (unsigned)(pst.st_mode & 07777));
    goto fail;
  }
  const char *p = pending;
  for (;;) {
    while (*p == '/')
      p++;
    if (!*p)
      break;
    size_t n = strcspn(p, "/");
    if (n > NAME_MAX) {
      errf_sys(err, err_size, ENAMETOOLONG, "spool_dir %s", path);
      goto fail;
    }
    memcpy(comp, p, n);
    comp[n] = '\0';
    p += n;
    while (*p == '/')
      p++;
    int last = *p == '\0';
    if (strcmp(comp, ".") == 0)
      continue;
    char next[2 * PATH_MAX];
    if (strcmp(comp, "..") == 0) {
      char *slash = strrchr(resolved, '/');
      if (slash)
        *slash = '\0';
      if (++hops > MAX_HOPS) {
        errf_sys(err, err_size, ELOOP, "spool_dir %s", path);
        goto fail;
      }
      snprintf(next, sizeof(next), "%s/%s", resolved, p);
      memcpy(pending, next, sizeof(pending));
      goto restart;
    }
    int oflags =
        (last ? O_RDONLY : PASS_THROUGH) | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC;
    int nfd = openat(fd, comp, oflags);
    if (nfd < 0 && errno == ENOENT) {
      if (mkdirat(fd, comp, 0700) == 0) {
        if (sync_parent(fd) != 0) {
          errf_sys(err, err_size, errno, "spool_dir %s: cannot create %s/%s",
                   path, resolved, comp);
          goto fail;
        }
      } else if (errno != EEXIST) {
        errf_sys(err, err_size, errno, "spool_dir %s: cannot create %s/%s",
                 path, resolved, comp);
        goto fail;
      }
      nfd = openat(fd, comp, oflags);
    }
    if (nfd < 0) {
      int e = errno;
      struct stat lst;
      if ((e == ELOOP || e == ENOTDIR) &&
          fstatat(fd, comp, &lst, AT_SYMLINK_NOFOLLOW) == 0 &&
          S_ISLNK(lst.st_mode)) {
        why = untrusted(&lst, &pst, 1, me, &other);
        if (why) {
          errf(err, err_size,
               "spool_dir %s: the symlink %s/%s %s (owner uid %u); it is not "
               "followed",
               path, resolved, comp, why, (unsigned)lst.st_uid);
          goto fail;
        }
        char target[PATH_MAX];
        ssize_t tl = readlinkat(fd, comp, target, sizeof(target) - 1);
        if (tl <= 0 || ++hops > MAX_HOPS) {
          errf_sys(err, err_size, tl <= 0 ? errno : ELOOP,
                   "spool_dir %s: cannot follow %s/%s", path, resolved, comp);
          goto fail;
        }
        target[tl] = '\0';
        if (target[0] == '/')
          snprintf(next, sizeof(next), "%s/%s", target, p);
        else
          snprintf(next, sizeof(next), "%s/%s/%s", resolved, target, p);
        memcpy(pending, next, sizeof(pending));
        goto restart;
      }
      errf_sys(err, err_size, e, "spool_dir %s: cannot open %s/%s", path,
               resolved, comp);
      goto fail;
    }
    struct stat st;
    if (fstat(nfd, &st) != 0) {
      errf_sys(err, err_size, errno, "spool_dir %s: cannot stat %s/%s", path,
               resolved, comp);
      close(nfd);
      goto fail;
    }
    size_t rl = strlen(resolved);
    if (rl + 1 + n >= sizeof(resolved)) {
      close(nfd);
      errf_sys(err, err_size, ENAMETOOLONG, "spool_dir %s", path);
      goto fail;
    }
    resolved[rl] = '/';
    memcpy(resolved + rl + 1, comp, n + 1);
    why = untrusted(&st, &pst, last, me, &other);
    if (why) {
      errf(err, err_size,
           "spool_dir %s: %s %s (owner uid %u, mode %04o); a spool is used "
           "only when it and every directory above it are owned by root or "
           "its owner and writable by no one else",
           path, resolved, why, (unsigned)st.st_uid,
           (unsigned)(st.st_mode & 07777));
      close(nfd);
      goto fail;
    }
    close(fd);
    fd = nfd;
    pst = st;
  }
  if (!S_ISDIR(pst.st_mode) || (other != (uid_t)-1 && pst.st_uid != other)) {
    errf(err, err_size,
         "spool_dir %s: the directories above it belong to uid %u, the spool "
         "to uid %u",
         path, (unsigned)other, (unsigned)pst.st_uid);
    goto fail;
  }
  /* Events may carry personal data: the directory is the owner's only. */
  if ((pst.st_mode & 077) != 0) {
    if (pst.st_uid != me || fchmod(fd, 0700) != 0) {
      errf(err, err_size,
           "spool_dir %s: is accessible to others (mode %03o) and cannot be "
           "made 0700",
           path, (unsigned)(pst.st_mode & 0777));
      goto fail;
    }
    pst.st_mode &= ~(mode_t)077;
  }
  *out = fd;
  *out_st = pst;
  return 0;
fail:
  if (fd >= 0)
    close(fd);
  return -1;
}

/* Takes the directory `fd` (status `st`) as the spool's. */
static void set_dir(cashback__spool *s, const struct stat *st) {
  s->dir_dev = st->st_dev;
  s->dir_ino = st->st_ino;
  s->owner_uid = st->st_uid;
  s->owner_gid = st->st_gid;
  s->chown_files = geteuid() == 0 && (st->st_uid != 0 || st->st_gid != 0);
}

/* --- fork() ------------------------------------------------------------- */

static void spool_fork_prepare(void *p) {
  pthread_mutex_lock(&((cashback__spool *)p)->lock);
}

static void spool_fork_parent(void *p) {
  pthread_mutex_unlock(&((cashback__spool *)p)->lock);
}

static void close_segment(cashback__spool *s);

/* In the child: the parent's open segment and sender lock stay the
 * parent's. Closing our copies releases nothing of theirs (a flock belongs
 * to the open file description, which the parent still holds) and leaves
 * nothing that outlives the parent. The child opens its own segment at its
 * first report. */
static void spool_fork_child(void *p) {
  cashback__spool *s = p;
  close_segment(s);
  if (s->sender_fd >= 0)
    close(s->sender_fd);
  s->sender_fd = -1;
  if (s->seq_fd >= 0)
    close(s->seq_fd); /* its flock would be the parent's too */
  s->seq_fd = -1;
  s->seq_tried_ms = -1;
  s->syncing = 0;
  s->waiters = 0;
  s->poisoned = 0;
  s->written_seq = s->synced_seq = s->failed_seq = 0;
  s->pid = getpid();
  pthread_cond_init(&s->cv, NULL); /* its waiters are the parent's */
  pthread_mutex_unlock(&s->lock);  /* taken by the forking thread */
}

static const cashback__fork_hooks spool_fork_hooks = {
    spool_fork_prepare, spool_fork_parent, spool_fork_child};

cashback_status cashback__spool_open(const cashback__spool_config *cfg,
                                     cashback__spool **out, char *err,
                                     size_t err_size) {
  *out = NULL;
  if (!cfg->dir || cfg->dir[0] != '/' || strlen(cfg->dir) >= PATH_MAX - 80) {
    errf(err, err_size, "spool_dir: must be an absolute path");
    return CASHBACK_E_CONFIG;
  }
  int dirfd;
  struct stat st;
  if (open_spool_dir(cfg->dir, &dirfd, &st, err, err_size) != 0)
    return CASHBACK_E_IO;
  cashback__spool *s = calloc(1, sizeof(*s));
  if (!s) {
    close(dirfd);
    return CASHBACK_E_NOMEM;
  }
  memcpy(s->dir, cfg->dir, strlen(cfg->dir) + 1);
  s->dirfd = dirfd;
  set_dir(s, &st);
  s->durability = cfg->durability;
  s->max_bytes = cfg->max_bytes;
  s->segment_bytes = cfg->segment_bytes ? cfg->segment_bytes : 4u << 20;
  s->fd = -1;
  s->sync_fd = -1;
  s->sender_fd = -1;
  s->pid = getpid();
  s->used_at_ms = -1; /* never scanned */
  s->seq_tried_ms = -1;
  s->seq_fd = -1;
  s->now_us = real_now_us;
  s->pread_fn = pread;
  pthread_mutex_init(&s->lock, NULL);
  pthread_cond_init(&s->cv, NULL);
  cashback__fork_register(&s->fork_node, &spool_fork_hooks, s);
  *out = s;
  return CASHBACK_OK;
}

const char *cashback__spool_dir(const cashback__spool *s) {
  return s->dir;
}

void cashback__spool_close(cashback__spool *s) {
  if (!s)
    return;
  cashback__fork_unregister(&s->fork_node);
  if (s->fd >= 0)
    close(s->fd);
  if (s->sync_fd >= 0)
    close(s->sync_fd);
  if (s->sender_fd >= 0)
    close(s->sender_fd);
  if (s->seq_fd >= 0)
    close(s->seq_fd);
  close(s->dirfd);
  pthread_cond_destroy(&s->cv);
  pthread_mutex_destroy(&s->lock);
  free(s);
}

/* A name the SDK makes in a spool. */
static int sdk_name(const char *n) {
  static const char *const fixed[] = {"sender.lock",     "quarantine.log",
                                      "quarantine.lock", "quarantine.tmp",
                                      "state",           "seq",
                                      "deferred"};
  for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
    if (strcmp(n, fixed[i]) == 0)
      return 1;
  size_t len = strlen(n);
  if ((strncmp(n, "state.", 6) == 0 || strncmp(n, "deferred.", 9) == 0) &&
      len > 10 && strcmp(n + len - 4, ".tmp") == 0)
    return 1;
  /* Segments themselves are the collection's to name (unreadable_files). */
  return strncmp(n, "seg-", 4) == 0 && !is_segment(n, NULL);
}

uint64_t cashback__spool_foreign(cashback__spool *s, char *detail,
                                 size_t size) {
  if (size)
    detail[0] = '\0';
  int fd = openat(s->dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
  if (!d) {
    if (fd >= 0)
      close(fd);
    return 0;
  }
  uid_t me = geteuid();
  uint64_t n = 0;
  struct dirent *de;
  while ((de = readdir(d))) {
    const char *name = de->d_name;
    struct stat st;
    if (!sdk_name(name) ||
        fstatat(s->dirfd, name, &st, AT_SYMLINK_NOFOLLOW) != 0)
      continue;
    char why[160] = "";
    int e = 0;
    if (S_ISLNK(st.st_mode))
      snprintf(why, sizeof(why), "is a symlink (never followed)");
    else if (!S_ISREG(st.st_mode))
      snprintf(why, sizeof(why), "is not a regular file");
    else if (faccessat(s->dirfd, name, R_OK | W_OK, AT_EACCESS) != 0) {
      e = errno;
      snprintf(why, sizeof(why), "cannot be read and written (owner uid %u)",
               (unsigned)st.st_uid);
    } else if (st.st_uid != s->owner_uid && (me == 0 || st.st_uid != me))
      snprintf(why, sizeof(why),
               "is owned by uid %u, not by the spool's owner (uid %u), who "
               "cannot use it",
               (unsigned)st.st_uid, (unsigned)s->owner_uid);
    else
      continue;
    if (n++ == 0) {
      if (e)
        errf_sys(detail, size, e, "%s %s", name, why);
      else
        errf(detail, size, "%s %s", name, why);
    }
  }
  closedir(d);
  return n;
}

/* 1 when the configured path still names the directory we hold open. */
static int dir_current(cashback__spool *s) {
  struct stat st;
  return stat(s->dir, &st) == 0 && st.st_dev == s->dir_dev &&
         st.st_ino == s->dir_ino;
}

/* The configured path names another directory (or none: it was removed):
 * opens it again (creating it, as at open) in place of the old one's
 * descriptor. dup3 replaces the number atomically, so a thread using it
 * meanwhile sees one directory or the other, never a closed descriptor.
 * The sender lock was the old directory's. Mutex held. */
static cashback_status reopen_dir(cashback__spool *s, char *err,
                                  size_t err_size) {
  int fd;
  struct stat st;
  if (open_spool_dir(s->dir, &fd, &st, err, err_size) != 0)
    return CASHBACK_E_IO;
  if (dup3(fd, s->dirfd, O_CLOEXEC) < 0) {
    errf_sys(err, err_size, errno, "spool %s: cannot reopen", s->dir);
    close(fd);
    return CASHBACK_E_IO;
  }
  close(fd);
  set_dir(s, &st);
  if (s->sender_fd >= 0)
    close(s->sender_fd);
  s->sender_fd = -1;
  s->used_at_ms = -1;
  s->dir_reopens++;
  return CASHBACK_OK;
}

/* Reads a segment's cursor; 0 when there is none or it is damaged. */
/* Reads an offset file ("<seg>.ack" or "<seg>.sync": 8 bytes and their
 * CRC-32C); -1 when there is none or it is damaged. */
static int read_offset(cashback__spool *s, const char *seg, const char *suffix,
                       uint64_t *off) {
  char name[SEG_NAME_MAX];
  side_name(seg, suffix, name);
  int fd = spool_openat(s, name, O_RDONLY | O_NONBLOCK, 0);
  if (fd < 0)
    return -1;
  uint8_t b[12];
  struct stat st;
  ssize_t n = fstat(fd, &st) == 0 && S_ISREG(st.st_mode)
                  ? pread(fd, b, sizeof(b), 0)
                  : -1;
  close(fd);
  if (n != (ssize_t)sizeof(b))
    return -1;
  uint64_t v = 0;
  for (int i = 7; i >= 0; i--)
    v = v << 8 | b[i];
  uint32_t crc = (uint32_t)b[8] | (uint32_t)b[9] << 8 | (uint32_t)b[10] << 16 |
                 (uint32_t)b[11] << 24;
  if (cashback__crc32c(0, b, 8) != crc)
    return -1;
  *off = v;
  return 0;
}

/* Writes an offset file's 12 bytes in place; 0 on success. */
static int pwrite_offset(int fd, uint64_t off) {
  uint8_t b[12];
  for (int i = 0; i < 8; i++)
    b[i] = (uint8_t)(off >> (8 * i));
  uint32_t crc = cashback__crc32c(0, b, 8);
  for (int i = 0; i < 4; i++)
    b[8 + i] = (uint8_t)(crc >> (8 * i));
  return pwrite(fd, b, sizeof(b), 0) == (ssize_t)sizeof(b) ? 0 : -1;
}

/* A segment's cursor; 0 when there is none or it is damaged. */
static uint64_t read_ack(cashback__spool *s, const char *seg) {
  uint64_t off = 0;
  return read_offset(s, seg, ".ack", &off) == 0 ? off : 0;
}

static int cmp_names(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Segment names, sorted (oldest first). Caller frees each and the array. */
static cashback_status list_segments(cashback__spool *s, char ***out,
                                     size_t *count) {
  *out = NULL;
  *count = 0;
  int fd =
      openat(s->dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
  DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
  if (!d) {
    if (fd >= 0)
      close(fd);
    return CASHBACK_E_IO;
  }
  char **names = NULL;
  size_t n = 0, cap = 0;
  cashback_status st = CASHBACK_OK;
  struct dirent *de;
  while ((de = readdir(d))) {
    if (!is_segment(de->d_name, NULL))
      continue;
    if (n == cap) {
      size_t nc = cap ? cap * 2 : 16;
      char **p = realloc(names, nc * sizeof(*p));
      if (!p) {
        st = CASHBACK_E_NOMEM;
        break;
      }
      names = p;
      cap = nc;
    }
    if (!(names[n] = strdup(de->d_name))) {
      st = CASHBACK_E_NOMEM;
      break;
    }
    n++;
  }
  closedir(d);
  if (st != CASHBACK_OK) {
    for (size_t i = 0; i < n; i++)
      free(names[i]);
    free(names);
    return st;
  }
  if (n)
    qsort(names, n, sizeof(*names), cmp_names);
  *out = names;
  *count = n;
  return CASHBACK_OK;
}

static void free_names(char **names, size_t n) {
  for (size_t i = 0; i < n; i++)
    free(names[i]);
  free(names);
}

/* Queued bytes: every segment past its cursor, plus the quarantine. */
static uint64_t scan_used(cashback__spool *s) {
  uint64_t used = 0;
  struct stat st;
  if (fstatat(s->dirfd, "quarantine.log", &st, 0) == 0)
    used += (uint64_t)st.st_size;
  if (fstatat(s->dirfd, "deferred", &st, AT_SYMLINK_NOFOLLOW) == 0)
    used += (uint64_t)st.st_size; /* events the network will take later */
  char **names;
  size_t n;
  if (list_segments(s, &names, &n) != CASHBACK_OK)
    return used;
  for (size_t i = 0; i < n; i++) {
    if (fstatat(s->dirfd, names[i], &st, AT_SYMLINK_NOFOLLOW) != 0 ||
        !S_ISREG(st.st_mode))
      continue;
    uint64_t size = (uint64_t)st.st_size, ack = read_ack(s, names[i]);
    used += size > ack ? size - ack : 0;
  }
  free_names(names, n);
  return used;
}

static cashback_status write_ack(cashback__spool *s, const char *seg,
                                 uint64_t off);
static void remove_segment(cashback__spool *s, const char *seg);

/* Closes this process's segment (its lock goes with the descriptor). */
static void close_segment(cashback__spool *s) {
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
  char name[SEG_NAME_MAX];
  side_name(seg, ".sync", name);
  int fd = spool_openat(s, name, O_RDWR | O_CREAT | O_TRUNC, 0600);
  if (fd >= 0 && pwrite_offset(fd, 0) != 0) {
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
  char name[SEG_NAME_MAX], tmp[SEG_NAME_MAX + 4];
  snprintf(name, sizeof(name), "seg-%016llx-%ld-%s.log",
           (unsigned long long)stamp, (long)getpid(), hex);
  snprintf(tmp, sizeof(tmp), "%s.new", name); /* not a segment name */
  int fd = spool_openat(s, tmp, O_WRONLY | O_CREAT | O_EXCL | O_APPEND, 0600);
  if (fd < 0) {
    int e = errno;
    errf_sys(err, err_size, e, "spool %s: cannot create a segment", s->dir);
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
      write_ack(s, name, 0) != CASHBACK_OK ||
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
    remove_segment(s, name);
    errf_sys(err, err_size, e, "spool %s: cannot set up a segment", s->dir);
    return e == ENOSPC || e == EDQUOT ? CASHBACK_E_DISK_FULL : CASHBACK_E_IO;
  }
  s->fd = fd;
  s->sync_fd = sync_fd;
  s->pid = getpid();
  memcpy(s->seg, name, sizeof(name));
  s->seg_size = 0;
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
    close_segment(s);
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
      close_segment(s);
    if (s->fd >= 0)
      return CASHBACK_OK;
  }
  if (!dir_current(s)) {
    cashback_status st = reopen_dir(s, err, err_size);
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
  return fstat(s->fd, &st) == 0 && st.st_nlink > 0 && dir_current(s);
}

static cashback_status check_capacity(cashback__spool *s, uint64_t need,
                                      char *err, size_t err_size) {
  if (!s->max_bytes)
    return CASHBACK_OK;
  int64_t now = mono_ms();
  if (s->used_at_ms < 0 || now - s->used_at_ms > RESCAN_MS ||
      s->used + need > s->max_bytes) {
    s->used = scan_used(s);
    s->used_at_ms = now;
  }
  if (s->used + need > s->max_bytes) {
    errf(err, err_size,
         "spool %s: full (%llu of %llu bytes queued); the event is not "
         "stored",
         s->dir, (unsigned long long)s->used, (unsigned long long)s->max_bytes);
    return CASHBACK_E_SPOOL_FULL;
  }
  return CASHBACK_OK;
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
      errf(err, err_size,
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
          (void)pwrite_offset(s->sync_fd, size);
      } else {
        /* Never retry: what the kernel failed to write may be gone, and a
         * second fdatasync could report success for it. */
        s->failed_seq = s->written_seq;
        s->sync_errno = e;
        s->poisoned = 1;
        if (ftruncate(fd, (off_t)s->synced_size) == 0)
          s->seg_size = s->synced_size;
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
  size_t done = 0;
  while (done < total) {
    ssize_t n = write(s->fd, rec + done, total - done);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0) {
      int e = n < 0 ? errno : ENOSPC;
      /* Cut a partial record back off: this process is the only writer
       * of the segment. */
      if (done && ftruncate(s->fd, (off_t)s->seg_size) != 0)
        s->poisoned = 1;
      errf_sys(err, err_size, e,
               "spool %s: write failed; the event is not stored", s->dir);
      return e == ENOSPC || e == EDQUOT ? CASHBACK_E_DISK_FULL : CASHBACK_E_IO;
    }
    done += (size_t)n;
  }
  s->seg_size += total;
  s->used += total;
  uint64_t ticket = ++s->written_seq;
  if (s->durability == CASHBACK_DURABLE_SYNC)
    st = wait_durable(s, ticket, err, err_size);
  return st;
}

cashback_status cashback__spool_append(cashback__spool *s, const void *payload,
                                       size_t len, int64_t time_ms, char *err,
                                       size_t err_size) {
  if (len == 0 || len > CASHBACK__RECORD_MAX) {
    errf(err, err_size, "spool: a record is 1 to %d bytes, not %zu",
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
      errf(err, err_size,
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

/* --- Sender side -------------------------------------------------------- */

cashback_status cashback__spool_take_sender(cashback__spool *s, char *err,
                                            size_t err_size) {
  pthread_mutex_lock(&s->lock);
  cashback_status st = CASHBACK_OK;
  /* A sender follows the configured path: a directory removed and made
   * again under a running daemon is drained, not the old one. */
  if (!dir_current(s))
    st = reopen_dir(s, err, err_size);
  if (st == CASHBACK_OK && s->sender_fd < 0) {
    int fd = spool_openat(s, "sender.lock", O_RDWR | O_CREAT, 0600);
    if (fd < 0) {
      errf_sys(err, err_size, errno, "spool %s: cannot open sender.lock",
               s->dir);
      st = CASHBACK_E_IO;
    } else if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
      int e = errno;
      close(fd);
      if (e == EWOULDBLOCK) {
        errf(err, err_size, "spool %s: another sender holds sender.lock",
             s->dir);
        st = CASHBACK_E_BUSY;
      } else {
        errf_sys(err, err_size, e, "spool %s: cannot lock sender.lock", s->dir);
        st = CASHBACK_E_IO;
      }
    } else {
      s->sender_fd = fd;
      s->sender_gen++;
    }
  }
  pthread_mutex_unlock(&s->lock);
  return st;
}

uint64_t cashback__spool_sender_gen(cashback__spool *s) {
  pthread_mutex_lock(&s->lock);
  uint64_t g = s->sender_fd >= 0 ? s->sender_gen : 0;
  pthread_mutex_unlock(&s->lock);
  return g;
}

cashback_status cashback__spool_lock_sender(cashback__spool *s) {
  return cashback__spool_take_sender(s, NULL, 0);
}

void cashback__spool_unlock_sender(cashback__spool *s) {
  pthread_mutex_lock(&s->lock);
  if (s->sender_fd >= 0) {
    close(s->sender_fd);
    s->sender_fd = -1;
  }
  pthread_mutex_unlock(&s->lock);
}

void cashback__batch_init(cashback__batch *b, size_t max_bytes) {
  memset(b, 0, sizeof(*b));
  b->max_bytes = max_bytes;
  cashback__buf_init(&b->data, max_bytes + CASHBACK__RECORD_MAX);
}

void cashback__batch_free(cashback__batch *b) {
  cashback__buf_free(&b->data);
  free(b->items);
  free(b->segs);
  memset(b, 0, sizeof(*b));
}

static void batch_reset(cashback__batch *b) {
  cashback__buf_reset(&b->data);
  b->n = 0;
  b->nsegs = 0;
  b->corrupt_regions = 0;
  b->corrupt_bytes = 0;
  b->read_errors = 0;
  b->unreadable = 0;
  b->problem[0] = '\0';
  b->read_problem[0] = '\0';
}

/* 1 when no writer holds the segment open. */
static int segment_closed(int fd) {
  if (flock(fd, LOCK_EX | LOCK_NB) != 0)
    return 0;
  flock(fd, LOCK_UN);
  return 1;
}

static void remove_segment(cashback__spool *s, const char *seg) {
  char side[SEG_NAME_MAX];
  unlinkat(s->dirfd, seg, 0);
  side_name(seg, ".ack", side);
  unlinkat(s->dirfd, side, 0);
  side_name(seg, ".sync", side);
  unlinkat(s->dirfd, side, 0);
}

static cashback_status write_ack(cashback__spool *s, const char *seg,
                                 uint64_t off) {
  char name[SEG_NAME_MAX];
  ack_name(seg, name);
  /* Never through a symlink, never waiting on a FIFO: only a regular
   * file is a cursor. */
  int fd = spool_openat(s, name, O_WRONLY | O_CREAT | O_NONBLOCK, 0600);
  if (fd < 0)
    return CASHBACK_E_IO;
  struct stat st;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    close(fd);
    return CASHBACK_E_IO;
  }
  /* Not synced: after a power cut a cursor may step back, and the events
   * past it are sent again; the network answers "duplicate". */
  int rc = pwrite_offset(fd, off);
  close(fd);
  return rc == 0 ? CASHBACK_OK : CASHBACK_E_IO;
}

static cashback_status add_seg(cashback__batch *b, const char *name,
                               uint64_t start, int closed) {
  if (b->nsegs == b->segcap) {
    size_t nc = b->segcap ? b->segcap * 2 : 8;
    cashback__batch_seg *p = realloc(b->segs, nc * sizeof(*p));
    if (!p)
      return CASHBACK_E_NOMEM;
    b->segs = p;
    b->segcap = nc;
  }
  cashback__batch_seg *g = &b->segs[b->nsegs++];
  memset(g, 0, sizeof(*g));
  snprintf(g->name, sizeof(g->name), "%s", name);
  g->start = start;
  g->end = start;
  g->closed = closed;
  return CASHBACK_OK;
}

static cashback_status add_item(cashback__batch *b, size_t seg,
                                const uint8_t *payload, size_t len,
                                uint64_t end, int64_t time_ms, uint64_t stamp) {
  if (b->n > 0 && b->data.len + len > b->max_bytes)
    return CASHBACK_E_TOO_BIG; /* the batch is full */
  if (b->n == b->cap) {
    size_t nc = b->cap ? b->cap * 2 : 64;
    cashback__batch_item *p = realloc(b->items, nc * sizeof(*p));
    if (!p)
      return CASHBACK_E_NOMEM;
    b->items = p;
    b->cap = nc;
  }
  size_t off = b->data.len;
  cashback_status st = cashback__buf_add(&b->data, payload, len);
  if (st != CASHBACK_OK)
    return st;
  cashback__batch_item *it = &b->items[b->n++];
  it->seg = seg;
  it->end = end;
  it->off = off;
  it->len = len;
  it->time_ms = time_ms;
  it->stamp = stamp;
  return CASHBACK_OK;
}

/* Names a file that could not be read, with the reason and who tried:
 * "<dir>/<file>: <what>: <reason> (euid N)". Only the first is kept. */
static void note_problem(char *out, size_t size, const cashback__spool *s,
                         const char *name, const char *what, int e) {
  if (!out || !size || out[0])
    return;
  /* The directory may be long: the file, reason and uid matter most. */
  size_t dl = strlen(s->dir);
  const char *dir = dl > 96 ? s->dir + dl - 96 : s->dir;
  int n = snprintf(out, size, "%s%s/%.64s: %s: ", dl > 96 ? "..." : "", dir,
                   name, what);
  if (n < 0 || (size_t)n >= size)
    return;
  if (e)
    snprintf(out + n, size - (size_t)n, "%.100s (euid %ld)", strerror(e),
             (long)geteuid());
  else /* `what` says it: "a FIFO, not a segment" */
    snprintf(out, size, "%s%s/%.64s: %s (euid %ld)", dl > 96 ? "..." : "", dir,
             name, what, (long)geteuid());
}

/* Opens a file named like a segment for reading: never through a symlink,
 * never blocking on a FIFO, and only a regular file. -1 with `*what` and
 * errno (0: not a regular file) when it cannot be read; ENOENT: gone. */
static int open_segment(cashback__spool *s, const char *name,
                        const char **what) {
  int fd = spool_openat(s, name, O_RDONLY | O_NONBLOCK, 0);
  if (fd < 0) {
    *what = "cannot open";
    return -1;
  }
  struct stat st;
  if (fstat(fd, &st) != 0) {
    int e = errno;
    close(fd);
    *what = "cannot stat";
    errno = e;
    return -1;
  }
  if (!S_ISREG(st.st_mode)) {
    close(fd);
    *what = S_ISFIFO(st.st_mode)  ? "a FIFO, not a segment"
            : S_ISDIR(st.st_mode) ? "a directory, not a segment"
                                  : "not a regular file";
    errno = 0;
    return -1;
  }
  return fd;
}

/* One segment being merged: a window of its bytes from the cursor. */
typedef enum reader_state {
  RD_HEAD = 0, /* a whole valid record at pos (info) */
  RD_END = 1,  /* nothing more to read now (the end of its valid data) */
  RD_ERROR = 2 /* a read failed: the segment stays as it is */
} reader_state;

typedef struct seg_reader {
  int fd;
  size_t idx;    /* in file-name order (ties of equal stamps) */
  size_t seg;    /* in the batch's segments */
  int closed;    /* no writer holds it */
  uint64_t size; /* read no further (the file, or its durable part) */
  uint64_t off;  /* file offset of buf[0] */
  uint8_t *buf;
  size_t cap, have, pos;
  uint64_t damage_at; /* where skipped damage began; UINT64_MAX: none */
  reader_state state;
  int err;
  ssize_t (*pread_fn)(int, void *, size_t, off_t);
  cashback__record_info info;
  uint64_t last_stamp; /* the last stamp known in it: its next record's is
                          above (the head scan's, then each record taken) */
} seg_reader;

/* Reads on so that the buffer holds at least `need` bytes from pos (or the
 * rest up to size). 0, or -1 with r->err on a read error. */
static int reader_fill(seg_reader *r, size_t need) {
  if (r->pos > 0) {
    memmove(r->buf, r->buf + r->pos, r->have - r->pos);
    r->off += r->pos;
    r->have -= r->pos;
    r->pos = 0;
  }
  if (need > READ_CHUNK)
    need = READ_CHUNK;
  if (need > r->cap) {
    uint8_t *p = realloc(r->buf, need);
    if (!p) {
      r->err = ENOMEM;
      return -1;
    }
    r->buf = p;
    r->cap = need;
  }
  while (r->have < r->cap && r->off + r->have < r->size) {
    uint64_t left = r->size - (r->off + r->have);
    size_t want = r->cap - r->have;
    if (left < want)
      want = (size_t)left;
    ssize_t got =
        r->pread_fn(r->fd, r->buf + r->have, want, (off_t)(r->off + r->have));
    if (got < 0 && errno == EINTR)
      continue;
    if (got < 0) {
      r->err = errno;
      return -1;
    }
    if (got == 0) {
      r->size = r->off + r->have; /* the file is shorter than it was */
      break;
    }
    r->have += (size_t)got;
  }
  return 0;
}

/* The first offset at or after `from` where a record starts whole in the
 * buffer, or may start and run past it (a plausible header, or part of
 * one, at the end); `have` when none can. */
static size_t next_start(const uint8_t *p, size_t have, size_t from) {
  for (size_t i = from; i < have; i++)
    if (p[i] == 'C' &&
        cashback__record_parse(p + i, have - i, NULL) != CASHBACK__REC_CORRUPT)
      return i;
  return have;
}

/* Moves the reader to its next whole valid record, skipping and counting
 * damage as it goes (and moving the segment's end in the batch past it).
 * A damaged stretch is counted once it is known to end: where a valid
 * record follows, or at the end of a closed segment (a torn tail); at the
 * end of an open segment it may be a write in progress, and waits. */
static void reader_next(seg_reader *r, cashback__batch *b) {
  cashback__batch_seg *g = &b->segs[r->seg];
  for (;;) {
    uint64_t at = r->off + r->pos;
    if (at >= r->size) {
      if (r->damage_at != UINT64_MAX && r->closed) {
        b->corrupt_regions++; /* damage up to the end of a closed segment */
        b->corrupt_bytes += r->size - r->damage_at;
        g->end = r->size; /* nothing valid follows */
      }
      r->state = RD_END;
      return;
    }
    size_t avail = r->have - r->pos;
    int more = r->off + r->have < r->size; /* file bytes past the buffer */
    cashback__rec rc = cashback__record_parse(r->buf + r->pos, avail, &r->info);
    if (rc == CASHBACK__REC_OK) {
      if (r->damage_at != UINT64_MAX) {
        b->corrupt_regions++; /* damage in the middle: skipped, counted */
        b->corrupt_bytes += at - r->damage_at;
        r->damage_at = UINT64_MAX;
        g->end = at; /* a cursor may go past it, even if the batch ends
                        here */
      }
      r->state = RD_HEAD;
      return;
    }
    if (rc == CASHBACK__REC_SHORT) {
      if (more) {
        /* Read on, as far as the record claims (or a buffer's worth). */
        size_t need = r->cap;
        if (avail >= 8) {
          size_t n = (size_t)r->buf[r->pos + 4] |
                     (size_t)r->buf[r->pos + 5] << 8 |
                     (size_t)r->buf[r->pos + 6] << 16 |
                     (size_t)r->buf[r->pos + 7] << 24;
          if (n + CASHBACK__RECORD_HEADER_MAX > need)
            need = n + CASHBACK__RECORD_HEADER_MAX;
        }
        if (reader_fill(r, need) != 0) {
          r->state = RD_ERROR;
          return;
        }
        continue;
      }
      /* The buffer holds the rest of the segment. A whole record after
       * this one makes it damage (a bad length), not a write in progress. */
      size_t next = cashback__record_resync(r->buf, r->have, r->pos + 1);
      if (next < r->have || r->closed) {
        if (r->damage_at == UINT64_MAX)
          r->damage_at = at; /* at the end: a torn tail, counted there */
        r->pos = next;
        continue;
      }
      r->state = RD_END; /* a write in progress: wait for it */
      return;
    }
    /* Damage: look for where the next record may start. */
    if (r->damage_at == UINT64_MAX)
      r->damage_at = at;
    size_t next = next_start(r->buf, r->have, r->pos + 1);
    if (next < r->have) {
      r->pos = next;
      continue;
    }
    if (!more && !r->closed) {
      r->state = RD_END; /* damage or a write in progress at the end */
      return;
    }
    r->pos = r->have; /* no record can start in the rest of the buffer */
    if (more && reader_fill(r, r->cap) != 0) {
      r->state = RD_ERROR;
      return;
    }
  }
}

/* A writer killed while it set up a segment leaves "<seg>.log.new" and
 * "<seg>.ack" with no "<seg>.log". Both are removed once a minute old: a live
 * writer renames its new segment within microseconds. */
#define ORPHAN_AGE_S 60
static void reclaim_orphans(cashback__spool *s) {
  int fd =
      openat(s->dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
  DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
  if (!d) {
    if (fd >= 0)
      close(fd);
    return;
  }
  time_t now = time(NULL);
  struct dirent *de;
  while ((de = readdir(d))) {
    const char *n = de->d_name;
    size_t len = strlen(n);
    if (strncmp(n, "seg-", 4) != 0 || len >= SEG_NAME_MAX + 4)
      continue;
    char log[SEG_NAME_MAX + 4];
    int is_new = len > 8 && strcmp(n + len - 8, ".log.new") == 0;
    int is_ack = len > 4 && (strcmp(n + len - 4, ".ack") == 0 ||
                             strcmp(n + len - 5, ".sync") == 0);
    if (!is_new && !is_ack)
      continue;
    memcpy(log, n, len + 1);
    if (is_ack) /* its segment's name */
      memcpy(log + len - (n[len - 1] == 'c' ? 5 : 4), ".log", 5);
    else
      log[len - 4] = '\0'; /* "<seg>.log" */
    struct stat st;
    if (fstatat(s->dirfd, log, &st, 0) == 0)
      continue; /* the segment exists: not an orphan */
    if (fstatat(s->dirfd, n, &st, 0) != 0 || now - st.st_mtime < ORPHAN_AGE_S)
      continue;
    unlinkat(s->dirfd, n, 0);
  }
  closedir(d);
}

/* A segment's first pending record, as the head scan saw it (or, for a
 * segment a merge gave back, as its reader had it). */
typedef struct seg_head {
  size_t idx;     /* in file-name order */
  uint64_t stamp; /* its stamp, CRC-checked; 0: unknown (merged first) */
  size_t seg;     /* its entry in the batch; SIZE_MAX: none yet */
  uint64_t off;   /* with seg: where its reader stopped */
} seg_head;

/* The key a record is merged by: its stamp, then its segment's place in
 * file-name order (older CBR1 records all have stamp 0). */
static int key_before(uint64_t stamp, size_t idx, uint64_t stamp2,
                      size_t idx2) {
  return stamp < stamp2 || (stamp == stamp2 && idx < idx2);
}

static int cmp_heads(const void *a, const void *b) {
  const seg_head *x = a, *y = b;
  if (x->stamp != y->stamp)
    return x->stamp < y->stamp ? -1 : 1;
  return x->idx < y->idx ? -1 : x->idx > y->idx;
}

/* How far a collection may read a segment: an open segment of a SYNC-mode
 * writer only as far as its writer knows it durable (a record past that
 * may still fail its report, and must not reach the network). Reads
 * whether it is closed first: a closed segment does not grow. */
static void segment_extent(cashback__spool *s, const char *name, uint64_t fsize,
                           int closed, uint64_t *size, uint64_t *cursor) {
  uint64_t synced;
  *size = fsize;
  if (!closed && read_offset(s, name, ".sync", &synced) == 0 && synced < *size)
    *size = synced;
  *cursor = read_ack(s, name);
  if (*cursor > *size)
    *cursor = *size; /* a cursor past the end: the file was cut */
}

/* The stamp in a segment's name ("seg-<16 hex>-..."): taken when it was
 * created, so at most every record's stamp in it. 0 when not readable. */
static uint64_t name_stamp(const char *name) {
  uint64_t v = 0;
  for (int i = 4; i < 20; i++) {
    char c = name[i];
    int d = c >= '0' && c <= '9'   ? c - '0'
            : c >= 'a' && c <= 'f' ? c - 'a' + 10
                                   : -1;
    if (d < 0)
      return 0;
    v = v << 4 | (uint64_t)d;
  }
  return name[20] == '-' ? v : 0;
}

/* The head scan reads this much at a segment's cursor; a larger head
 * record is read whole, to check its CRC. */
#define HEAD_READ 4096

static ssize_t pread_full(cashback__spool *s, int fd, uint8_t *p, size_t n,
                          uint64_t off) {
  ssize_t got;
  do
    got = s->pread_fn(fd, p, n, (off_t)off);
  while (got < 0 && errno == EINTR);
  return got;
}

/* The head scan: for one segment, whether anything is pending and the stamp
 * of its first pending record, checked by the record's CRC (a head that
 * does not check, or is not whole yet, gets stamp 0: merged first, its
 * reader finds the next valid record). Deletes a closed segment with
 * nothing left. 1: a candidate; 0: nothing pending (or gone); -1:
 * unreadable (noted); -2: a read failed (noted; out->stamp is the stamp in
 * its name, which no record in it is below). */
static int scan_head(cashback__spool *s, const char *name, size_t idx,
                     seg_head *out, cashback__batch *b) {
  const char *what = "";
  out->idx = idx;
  out->stamp = 0;
  out->seg = SIZE_MAX;
  out->off = 0;
  int fd = open_segment(s, name, &what);
  if (fd < 0) {
    if (errno == ENOENT)
      return 0;
    b->unreadable++;
    note_problem(b->problem, sizeof(b->problem), s, name, what, errno);
    return -1;
  }
  int closed = segment_closed(fd);
  struct stat st;
  if (fstat(fd, &st) != 0) {
    int e = errno;
    close(fd);
    b->unreadable++;
    note_problem(b->problem, sizeof(b->problem), s, name, "cannot stat", e);
    return -1;
  }
  uint64_t size, cursor;
  segment_extent(s, name, (uint64_t)st.st_size, closed, &size, &cursor);
  if (cursor >= size) {
    close(fd);
    if (closed)
      remove_segment(s, name); /* closed, with nothing left to send */
    return 0;
  }
  uint8_t h[HEAD_READ], *big = NULL;
  size_t want = size - cursor < sizeof(h) ? (size_t)(size - cursor) : sizeof(h);
  ssize_t got = pread_full(s, fd, h, want, cursor);
  cashback__record_info info;
  cashback__rec rc = got > 0 ? cashback__record_parse(h, (size_t)got, &info)
                             : CASHBACK__REC_SHORT;
  if (got > 0 && rc == CASHBACK__REC_SHORT && got >= 8 &&
      (memcmp(h, "CBR2", 4) == 0 || memcmp(h, "CBR1", 4) == 0)) {
    /* A head record larger than the small read: read it whole. */
    size_t n = (size_t)h[4] | (size_t)h[5] << 8 | (size_t)h[6] << 16 |
               (size_t)h[7] << 24;
    if (n <= CASHBACK__RECORD_MAX &&
        cursor + n + CASHBACK__RECORD_HEADER_MAX <=
            size + CASHBACK__RECORD_HEADER_MAX &&
        (big = malloc(n + CASHBACK__RECORD_HEADER_MAX)) != NULL) {
      size_t w = n + CASHBACK__RECORD_HEADER_MAX;
      if (w > size - cursor)
        w = (size_t)(size - cursor);
      got = pread_full(s, fd, big, w, cursor);
      if (got > 0)
        rc = cashback__record_parse(big, (size_t)got, &info);
    }
  }
  int e = errno;
  close(fd);
  free(big);
  if (got < 0) {
    b->read_errors++;
    note_problem(b->read_problem, sizeof(b->read_problem), s, name,
                 "read failed", e);
    out->stamp = name_stamp(name);
    return -2;
  }
  if (rc == CASHBACK__REC_OK)
    out->stamp = info.stamp;
  return 1;
}

/* Opens a chosen segment for the merge: a new entry of the batch, or, for a
 * segment the merge gave back (h->seg), its entry again from where its
 * reader stopped. 0, or -1 when it cannot be read (noted) or is gone. */
static int reader_open(cashback__spool *s, const char *name, const seg_head *h,
                       seg_reader *r, cashback__batch *b) {
  memset(r, 0, sizeof(*r));
  r->fd = -1;
  r->state = RD_END;
  const char *what = "";
  int fd = open_segment(s, name, &what);
  if (fd < 0) {
    if (errno != ENOENT) {
      b->unreadable++;
      note_problem(b->problem, sizeof(b->problem), s, name, what, errno);
    }
    return -1;
  }
  int closed = h->seg != SIZE_MAX ? b->segs[h->seg].closed : segment_closed(fd);
  struct stat st;
  if (fstat(fd, &st) != 0) {
    close(fd);
    return -1;
  }
  uint64_t size, cursor;
  segment_extent(s, name, (uint64_t)st.st_size, closed, &size, &cursor);
  r->buf = malloc(READER_BUF);
  if (!r->buf ||
      (h->seg == SIZE_MAX && add_seg(b, name, cursor, closed) != CASHBACK_OK)) {
    free(r->buf);
    r->buf = NULL;
    close(fd);
    return -1;
  }
  r->fd = fd;
  r->pread_fn = s->pread_fn;
  r->idx = h->idx;
  r->seg = h->seg != SIZE_MAX ? h->seg : b->nsegs - 1;
  r->closed = closed;
  r->size = size;
  r->off = h->seg != SIZE_MAX ? h->off : cursor;
  r->last_stamp = h->stamp;
  r->cap = READER_BUF;
  r->damage_at = UINT64_MAX;
  r->state = RD_HEAD;
  if (r->off > r->size)
    r->state = RD_END; /* cut since: nothing more */
  else if (reader_fill(r, READER_BUF) != 0)
    r->state = RD_ERROR;
  else
    reader_next(r, b);
  return 0;
}

/* Done with a reader: its segment is complete when read to its end; a
 * failed read is counted and named. The slot is free afterwards. */
static void reader_settle(cashback__spool *s, seg_reader *r,
                          cashback__batch *b) {
  if (r->fd < 0)
    return;
  cashback__batch_seg *g = &b->segs[r->seg];
  if (r->state == RD_ERROR) {
    b->read_errors++;
    note_problem(b->read_problem, sizeof(b->read_problem), s, g->name,
                 "read failed", r->err);
  }
  g->complete = r->state == RD_END;
  close(r->fd);
  free(r->buf);
  r->fd = -1;
  r->buf = NULL;
  r->state = RD_END;
}

/* A reader whose read failed bounds the collection: nothing at or past the
 * key of its next record (above its last known stamp) is taken, so no
 * newer record of another segment overtakes what it could not read. */
static void error_bound(const seg_reader *r, uint64_t *stamp, size_t *idx) {
  if (r->state == RD_ERROR && key_before(r->last_stamp, r->idx, *stamp, *idx)) {
    *stamp = r->last_stamp;
    *idx = r->idx;
  }
}

/*
 * One collection. H, a fresh stamp taken before anything is read, bounds
 * it: a record stamped after H waits for the next collection. Then:
 *  1. the head scan reads the first pending record of each segment (one
 *     small read per segment, a descriptor at a time) for its stamp;
 *  2. a k-way merge by stamp over at most MERGE_MAX open segments, each
 *     through a small buffer: the next record is the smallest key among
 *     the open readers, taken only while it is below the smallest head of
 *     the segments not open. When that head is smaller, its segment is
 *     opened in the place of a reader that is exhausted, or else of the one
 *     whose key is largest (given back with its position, to be opened
 *     again when its turn comes). So the batch is in stamp order across
 *     every segment, fills up to its caps however many segments there are,
 *     and holds at most MERGE_MAX descriptors and buffers;
 *  3. each segment's cursor moves (cashback__spool_ack) past its longest
 *     resolved prefix, as before.
 * A segment that cannot be opened is skipped and named in the batch. A
 * read that fails bounds the collection below that segment's next record
 * (its head stamp, or the stamp in its name when the head scan failed):
 * the others' older records still go, nothing newer does.
 */
static cashback_status collect_once(cashback__spool *s, size_t max_events,
                                    cashback__batch *b, uint64_t *ahead) {
  *ahead = 0;
  batch_reset(b);
  int64_t now = mono_ms();
  if (s->reclaimed_at_ms == 0 || now - s->reclaimed_at_ms > 60000) {
    s->reclaimed_at_ms = now;
    reclaim_orphans(s);
  }
  /* H first: every report that returned before this point wrote its record
   * (durable and published) before, so the listing below sees it. */
  pthread_mutex_lock(&s->lock);
  int shared;
  uint64_t high = take_stamp_floor(s, 0, &shared);
  if (!shared)
    high = UINT64_MAX; /* no shared stamp: no bound (docs: the limits) */
  pthread_mutex_unlock(&s->lock);

  char **names;
  size_t count;
  cashback_status st = list_segments(s, &names, &count);
  if (st != CASHBACK_OK)
    return st;
  seg_head *heads = count ? malloc(count * sizeof(*heads)) : NULL;
  if (count && !heads) {
    free_names(names, count);
    return CASHBACK_E_NOMEM;
  }
  /* The bound from failed reads. */
  uint64_t err_stamp = UINT64_MAX;
  size_t err_idx = SIZE_MAX;
  size_t nheads = 0;
  for (size_t i = 0; i < count; i++) {
    int r = scan_head(s, names[i], i, &heads[nheads], b);
    if (r == 1)
      nheads++;
    else if (r == -2 &&
             key_before(heads[nheads].stamp, i, err_stamp, err_idx)) {
      err_stamp = heads[nheads].stamp;
      err_idx = i;
    }
  }
  if (nheads > 1)
    qsort(heads, nheads, sizeof(*heads), cmp_heads);
  seg_reader rd[MERGE_MAX];
  size_t nr = 0, next = 0; /* heads[next..] are not open */
  /* A bound on the swaps, in case of a cycle: nothing is taken after it,
   * which costs only a shorter batch. */
  size_t swaps = 0, swaps_max = 4 * nheads + 64;

  for (;;) {
    seg_reader *best = NULL;
    for (size_t i = 0; i < nr; i++)
      if (rd[i].fd >= 0 && rd[i].state == RD_HEAD &&
          (!best || key_before(rd[i].info.stamp, rd[i].idx, best->info.stamp,
                               best->idx)))
        best = &rd[i];
    if (b->n >= max_events)
      break;
    int from_heads = next < nheads &&
                     (!best || !key_before(best->info.stamp, best->idx,
                                           heads[next].stamp, heads[next].idx));
    if (from_heads &&
        !key_before(heads[next].stamp, heads[next].idx, err_stamp, err_idx))
      break; /* at or past a failed read's bound */
    if (from_heads) {
      /* The smallest head not open goes first: open it, in a free slot, or
       * in an exhausted reader's, or in the place of the largest. */
      if (swaps++ > swaps_max)
        break;
      seg_reader *slot = NULL, *worst = NULL;
      for (size_t i = 0; i < nr && !slot; i++)
        if (rd[i].fd < 0 || rd[i].state != RD_HEAD)
          slot = &rd[i];
      if (!slot && nr < MERGE_MAX) {
        slot = &rd[nr++];
        slot->fd = -1;
      }
      seg_head h = heads[next];
      if (!slot) {
        for (size_t i = 0; i < nr; i++)
          if (!worst || key_before(worst->info.stamp, worst->idx,
                                   rd[i].info.stamp, rd[i].idx))
            worst = &rd[i];
        slot = worst;
        /* Given back: its head goes where it sorts among those not open. */
        seg_head back = {worst->idx, worst->info.stamp, worst->seg,
                         worst->off + worst->pos};
        size_t j = next;
        while (j + 1 < nheads && cmp_heads(&heads[j + 1], &back) < 0) {
          heads[j] = heads[j + 1];
          j++;
        }
        heads[j] = back;
      } else {
        next++;
      }
      if (slot->fd >= 0)
        reader_settle(s, slot, b);
      if (reader_open(s, names[h.idx], &h, slot, b) == 0)
        error_bound(slot, &err_stamp, &err_idx);
      continue;
    }
    if (!best)
      break;
    if (best->info.stamp > high) {
      /* Stamped ahead of `seq` (a clock that was ahead, then `seq` lost):
       * the highest such stamp among the heads, each CRC-checked, raises
       * `seq` (so the next H is past it) instead of waiting for the wall
       * clock to catch up. */
      for (size_t i = 0; i < nr; i++)
        if (rd[i].fd >= 0 && rd[i].state == RD_HEAD &&
            rd[i].info.stamp > *ahead)
          *ahead = rd[i].info.stamp;
      break;
    }
    if (!key_before(best->info.stamp, best->idx, err_stamp, err_idx))
      break;
    uint64_t end = best->off + best->pos + best->info.header + best->info.len;
    cashback_status rc =
        add_item(b, best->seg, best->buf + best->pos + best->info.header,
                 best->info.len, end, best->info.time_ms, best->info.stamp);
    if (rc == CASHBACK_E_TOO_BIG)
      break;
    if (rc != CASHBACK_OK) {
      st = rc;
      break;
    }
    b->segs[best->seg].end = end;
    best->last_stamp = best->info.stamp;
    best->pos += best->info.header + best->info.len;
    reader_next(best, b);
    error_bound(best, &err_stamp, &err_idx);
  }

  /* Settle the readers; segments that gave no record are done with here
   * and left out of the batch. */
  for (size_t i = 0; i < nr; i++)
    reader_settle(s, &rd[i], b);
  size_t *map = b->nsegs ? calloc(b->nsegs, sizeof(*map)) : NULL;
  size_t *items = b->nsegs ? calloc(b->nsegs, sizeof(*items)) : NULL;
  if (b->nsegs && (!map || !items) && st == CASHBACK_OK)
    st = CASHBACK_E_NOMEM;
  if (map && items) {
    for (size_t i = 0; i < b->n; i++)
      items[b->items[i].seg]++;
    size_t kept = 0;
    for (size_t g = 0; g < b->nsegs; g++) {
      cashback__batch_seg *seg = &b->segs[g];
      if (items[g] == 0) {
        if (seg->complete && seg->closed)
          remove_segment(s, seg->name); /* closed, nothing left to send */
        else if (seg->end > seg->start)
          write_ack(s, seg->name, seg->end); /* past damage */
        continue;
      }
      map[g] = kept;
      if (kept != g)
        b->segs[kept] = *seg;
      kept++;
    }
    for (size_t i = 0; i < b->n; i++)
      b->items[i].seg = map[b->items[i].seg];
    b->nsegs = kept;
  }
  free(map);
  free(items);
  free(heads);
  free_names(names, count);
  return st;
}

/* One collection (collect_once), and a second one at once if the first
 * found only records stamped ahead of `seq`, which it raised past them. */
cashback_status cashback__spool_collect(cashback__spool *s, size_t max_events,
                                        cashback__batch *b) {
  uint64_t ahead;
  cashback_status st = collect_once(s, max_events, b, &ahead);
  if (st != CASHBACK_OK || !ahead)
    return st;
  pthread_mutex_lock(&s->lock);
  (void)take_stamp_floor(s, ahead, NULL);
  pthread_mutex_unlock(&s->lock);
  if (b->n)
    return st; /* the next collection takes them */
  /* Damage the first pass skipped (its cursor moved past it) is not seen
   * again: keep its count. Read errors and unreadable files are. */
  uint64_t regions = b->corrupt_regions, bytes = b->corrupt_bytes;
  st = collect_once(s, max_events, b, &ahead);
  b->corrupt_regions += regions;
  b->corrupt_bytes += bytes;
  return st;
}

cashback_status cashback__spool_ack(cashback__spool *s,
                                    const cashback__batch *b,
                                    const unsigned char *resolved) {
  cashback_status st = CASHBACK_OK;
  /* The items of one segment are in file order, but interleaved with other
   * segments' (the batch is in stamp order). */
  for (size_t g = 0; g < b->nsegs; g++) {
    const cashback__batch_seg *seg = &b->segs[g];
    uint64_t cursor = seg->start;
    int all = 1;
    for (size_t i = 0; i < b->n && all; i++) {
      if (b->items[i].seg != g)
        continue;
      if (!resolved[i])
        all = 0;
      else
        cursor = b->items[i].end;
    }
    if (all && seg->end > cursor)
      cursor = seg->end; /* also past damage after the last record */
    if (all && seg->complete && seg->closed) {
      remove_segment(s, seg->name);
      continue;
    }
    if (cursor > seg->start) {
      cashback_status r = write_ack(s, seg->name, cursor);
      if (r != CASHBACK_OK)
        st = r;
    }
  }
  return st;
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
  cashback_status st = list_segments(s, &names, &count);
  if (st != CASHBACK_OK)
    return st;
  for (size_t i = 0; i < count; i++) {
    const char *what = "";
    int fd = open_segment(s, names[i], &what);
    if (fd < 0) {
      if (errno != ENOENT && issues) {
        issues->unreadable++;
        note_problem(issues->first, sizeof(issues->first), s, names[i], what,
                     errno);
      }
      continue;
    }
    struct stat sb;
    uint64_t off = read_ack(s, names[i]);
    if (fstat(fd, &sb) == 0 && (uint64_t)sb.st_size > off)
      *bytes += (uint64_t)sb.st_size - off;
    uint8_t h[CASHBACK__RECORD_HEADER_MAX];
    for (;;) {
      ssize_t got = s->pread_fn(fd, h, sizeof(h), (off_t)off);
      if (got < 0 && errno == EINTR)
        continue;
      if (got < 0 && issues) {
        issues->read_errors++; /* a read error, not an unreadable file */
        note_problem(issues->read_first, sizeof(issues->read_first), s,
                     names[i], "read failed", errno);
      }
      size_t hlen;
      if (got >= CASHBACK__RECORD_HEADER_V2 && memcmp(h, "CBR2", 4) == 0)
        hlen = CASHBACK__RECORD_HEADER_V2;
      else if (got >= CASHBACK__RECORD_HEADER && memcmp(h, "CBR1", 4) == 0)
        hlen = CASHBACK__RECORD_HEADER;
      else
        break;
      uint64_t len = (uint64_t)h[4] | (uint64_t)h[5] << 8 |
                     (uint64_t)h[6] << 16 | (uint64_t)h[7] << 24;
      int64_t t = 0;
      for (int k = 15; k >= 8; k--)
        t = (int64_t)((uint64_t)t << 8 | h[k]);
      if (len == 0 || len > CASHBACK__RECORD_MAX ||
          off + hlen + len > (uint64_t)sb.st_size)
        break;
      (*events)++;
      if (*oldest_ms == 0 || t < *oldest_ms)
        *oldest_ms = t;
      off += hlen + len;
    }
    close(fd);
  }
  free_names(names, count);
  return CASHBACK_OK;
}

/* --- Sender state ------------------------------------------------------- */

cashback_status cashback__spool_state_read(cashback__spool *s, char *buf,
                                           size_t size) {
  buf[0] = '\0';
  int fd = spool_openat(s, "state", O_RDONLY, 0);
  if (fd < 0)
    return errno == ENOENT ? CASHBACK_E_NOT_FOUND : CASHBACK_E_IO;
  /* Up to size - 1 bytes: a longer file is cut, and its checksum then
   * fails (cashback__sender_state_parse). */
  size_t len = 0;
  while (len < size - 1) {
    ssize_t n = read(fd, buf + len, size - 1 - len);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0) {
      close(fd);
      buf[0] = '\0';
      return CASHBACK_E_IO;
    }
    if (n == 0)
      break;
    len += (size_t)n;
  }
  close(fd);
  buf[len] = '\0';
  return CASHBACK_OK;
}

cashback_status cashback__spool_state_write(cashback__spool *s,
                                            const char *text) {
  char tmp[64];
  snprintf(tmp, sizeof(tmp), "state.%ld.tmp", (long)getpid());
  int fd = spool_openat(s, tmp, O_WRONLY | O_CREAT | O_TRUNC, 0600);
  if (fd < 0)
    return CASHBACK_E_IO;
  size_t len = strlen(text);
  ssize_t n = write(fd, text, len);
  close(fd);
  if (n != (ssize_t)len || renameat(s->dirfd, tmp, s->dirfd, "state") != 0) {
    unlinkat(s->dirfd, tmp, 0);
    return CASHBACK_E_IO;
  }
  return CASHBACK_OK;
}

/* --- Small files replaced whole (the sender's deferred list) ------------ */

cashback_status cashback__spool_file_read(cashback__spool *s, const char *name,
                                          cashback__buf *out, char *why,
                                          size_t why_size) {
  cashback__buf_reset(out);
  if (why_size)
    why[0] = '\0';
  /* O_NONBLOCK: a FIFO in its place must not hang the reader. */
  int fd = spool_openat(s, name, O_RDONLY | O_NONBLOCK, 0);
  if (fd < 0) {
    if (errno == ENOENT)
      return CASHBACK_OK;
    if (why_size)
      snprintf(why, why_size, "%s: %s (euid %u)", name, strerror(errno),
               (unsigned)geteuid());
    return CASHBACK_E_IO;
  }
  struct stat sb;
  if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
    if (why_size)
      snprintf(why, why_size, "%s: not a regular file", name);
    close(fd);
    return CASHBACK_E_IO;
  }
  if (out->max && (uint64_t)sb.st_size > out->max) {
    if (why_size)
      snprintf(why, why_size, "%s: %lld bytes, more than the %zu allowed", name,
               (long long)sb.st_size, out->max);
    close(fd);
    return CASHBACK_E_TOO_BIG;
  }
  char chunk[8192];
  cashback_status st = CASHBACK_OK;
  for (;;) {
    ssize_t n = read(fd, chunk, sizeof(chunk));
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0) {
      st = CASHBACK_E_IO;
      break;
    }
    if (n == 0)
      break;
    if ((st = cashback__buf_add(out, chunk, (size_t)n)) != CASHBACK_OK)
      break;
  }
  close(fd);
  if (st != CASHBACK_OK && why_size && !why[0])
    snprintf(why, why_size, "%s: %s", name, cashback_strerror(st));
  return st;
}

size_t cashback__spool_sweep_tmp(cashback__spool *s, const char *name) {
  int fd = openat(s->dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  DIR *dir = fd >= 0 ? fdopendir(fd) : NULL;
  if (!dir) {
    if (fd >= 0)
      close(fd);
    return 0;
  }
  size_t nl = strlen(name), swept = 0;
  struct dirent *e;
  while ((e = readdir(dir)) != NULL) {
    const char *n = e->d_name;
    size_t len = strlen(n);
    if (len < nl + 6 || strncmp(n, name, nl) != 0 || n[nl] != '.' ||
        strcmp(n + len - 4, ".tmp") != 0)
      continue;
    size_t digits = 0;
    while (n[nl + 1 + digits] >= '0' && n[nl + 1 + digits] <= '9')
      digits++;
    if (digits == 0 || nl + 1 + digits != len - 4)
      continue;
    if (unlinkat(s->dirfd, n, 0) == 0)
      swept++;
  }
  closedir(dir);
  return swept;
}

cashback_status cashback__spool_file_replace(cashback__spool *s,
                                             const char *name, const void *data,
                                             size_t len) {
  if (len == 0) {
    if (unlinkat(s->dirfd, name, 0) != 0 && errno != ENOENT)
      return CASHBACK_E_IO;
    return CASHBACK_OK;
  }
  char tmp[SEG_NAME_MAX + 32];
  snprintf(tmp, sizeof(tmp), "%s.%ld.tmp", name, (long)getpid());
  int fd = spool_openat(s, tmp, O_WRONLY | O_CREAT | O_TRUNC, 0600);
  if (fd < 0)
    return errno == ENOSPC || errno == EDQUOT ? CASHBACK_E_DISK_FULL
                                              : CASHBACK_E_IO;
  const char *p = data;
  size_t left = len;
  int e = 0;
  while (left > 0) {
    ssize_t n = write(fd, p, left);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0) {
      e = n < 0 ? errno : EIO;
      break;
    }
    p += n;
    left -= (size_t)n;
  }
  int sync = s->durability == CASHBACK_DURABLE_SYNC;
  if (!e && sync && fsync(fd) != 0)
    e = errno;
  close(fd);
  if (!e && renameat(s->dirfd, tmp, s->dirfd, name) != 0)
    e = errno;
  if (!e && sync && fsync(s->dirfd) != 0)
    e = errno;
  if (e) {
    unlinkat(s->dirfd, tmp, 0);
    return e == ENOSPC || e == EDQUOT ? CASHBACK_E_DISK_FULL : CASHBACK_E_IO;
  }
  return CASHBACK_OK;
}
