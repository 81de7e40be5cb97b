/*
 * The spool's inside, shared by the files it is split into (one file per
 * responsibility; cashback_spool.h is the interface the rest of the SDK
 * uses):
 *
 *   cashback_spool_dir.c      the spool object, its directory, openat rules,
 *                             fork hooks, foreign files, error texts
 *   cashback_spool_path.c     opening the configured path safely
 *   cashback_spool_seq.c      the sequence stamp (`seq`)
 *   cashback_spool_list.c     which files are segments: listing, opening,
 *                             closed or held, orphan sweep
 *   cashback_spool_side.c     a segment's .ack cursor and .sync files
 *   cashback_spool_writer.c   append, group commit, the capacity check,
 *                             rotation
 *   cashback_spool_lock.c     the sender lock
 *   cashback_spool_reader.c   reading one segment, with damage recovery
 *   cashback_spool_collect.c  the batch and the stamp-ordered merge
 *   cashback_spool_ack.c      moving cursors past what was settled
 *   cashback_spool_usage.c    what is queued, from the record headers; the
 *                             capacity count (`usage`, mapped shared)
 *   cashback_spool_state.c    the sender's `state` file's storage
 *   cashback_spool_files.c    small files replaced whole (`deferred`)
 *
 * The record format is cashback_record.c's alone; the quarantine is
 * cashback_quarantine.c's.
 */
#ifndef CASHBACK_SPOOL_INTERNAL_H
#define CASHBACK_SPOOL_INTERNAL_H

#include "cashback_fork.h"
#include "cashback_record.h"
#include "cashback_spool.h"
#include "cashback_time.h"

#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

/* Segment, quarantine and `deferred` offsets are 64-bit and go to pread()
 * as off_t: a 32-bit off_t would cut them past 2 GiB (configure's
 * AC_SYS_LARGEFILE gives a 64-bit one where the platform has it). */
_Static_assert(sizeof(off_t) >= 8, "a 64-bit off_t is needed (large files)");

#define CASHBACK__SEG_NAME_MAX 64

/* The spool's `usage` file, mapped shared (cashback_spool_usage.c). */
typedef struct cashback__usage_file cashback__usage_file;

struct cashback__spool {
  char dir[PATH_MAX];
  /* The directory, opened once checked (cashback__spool_open_path). It is
   * replaced in place (dup3) when the configured path names another directory.
   */
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
  char seg[CASHBACK__SEG_NAME_MAX];
  uint64_t seg_size;    /* where its data ends (the next record goes here) */
  uint64_t alloc_size;  /* its file size: data, then zeros written ahead */
  uint64_t prealloc;    /* how far to write zeros ahead; 0: not at all */
  int poisoned;         /* an fdatasync failed: abandon this segment */
  uint64_t written_seq; /* records written to the current segment */
  uint64_t synced_seq;  /* ... known durable */
  uint64_t failed_seq;  /* ... known lost */
  uint64_t synced_size; /* segment size at the last good fdatasync */
  int syncing;
  int waiters; /* threads in wait_durable() on the current segment */
  int sync_errno;
  uint64_t sync_count;
  /* Capacity: the last directory scan, plus what we wrote since (used
   * without the shared count, or when it says full). */
  uint64_t used;
  int64_t used_at_ms;
  int used_full; /* that scan said full */
  /* The shared count (`usage`, mapped): set under `lock`, read by the
   * sender without it; never unmapped before the spool is closed (a
   * directory reopen retires it to usage_old). */
  _Atomic(cashback__usage_file *) usage;
  cashback__usage_file *usage_old;
  uint64_t usage_gen;           /* dir_reopens when mapped */
  int64_t usage_tried_ms;       /* last attempt to map it; -1: never */
  int64_t usage_refresh_ms;     /* the sender's last rescan; -1: never */
  _Atomic uint64_t usage_scans; /* directory scans for the count (tests) */
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
  /* How segments are written (pwrite; a test puts a failing one in). */
  ssize_t (*pwrite_fn)(int, const void *, size_t, off_t);

  int sender_fd;        /* sender.lock while held, else -1 */
  uint64_t dir_reopens; /* the configured path named a new directory */
  uint64_t sender_gen;  /* counts acquisitions of sender.lock */
  cashback__fork_node fork_node;
};

/* --- Shared helpers (cashback_spool_dir.c) ------------------------------ */

/* A detail into `err` (`size` bytes, may be NULL with 0), made printable. */
void cashback__spool_errf(char *err, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* The same with the system's reason for `e` and the effective user
 * appended: "<text>: Permission denied (as user www-data, uid 33)". */
void cashback__spool_errf_sys(char *err, size_t size, int e, const char *fmt,
                              ...) __attribute__((format(printf, 4, 5)));
/* 1 when the configured path still names the directory we hold open. */
int cashback__spool_dir_current(cashback__spool *s);
/* Opens the directory the configured path names now in place of the old
 * one (dup3); the sender lock was the old one's. Mutex held. */
cashback_status cashback__spool_reopen_dir(cashback__spool *s, char *err,
                                           size_t err_size);

/* --- The path (cashback_spool_path.c) ----------------------------------- */

/* Opens the spool directory `path` one component at a time from "/",
 * creating missing directories 0700 and checking every directory on the
 * way. 0 with the directory's descriptor and status, or -1 with `err`. */
int cashback__spool_open_path(const char *path, int *out, struct stat *out_st,
                              char *err, size_t err_size);

/* --- The stamp (cashback_spool_seq.c) ----------------------------------- */

/* A new spool object's stamp: no `seq` open yet, the real clock. */
void cashback__spool_seq_init(cashback__spool *s);
/* A new stamp, larger than every stamp taken before in this spool and not
 * behind the wall clock, raising `seq` to at least `floor` first (0: no
 * floor). Mutex held. *shared (may be NULL) is 0 when `seq` could not be
 * used and the stamp comes from this process's clock. */
uint64_t cashback__spool_take_stamp_floor(cashback__spool *s, uint64_t floor,
                                          int *shared);

/* --- Segment files (cashback_spool_list.c) ------------------------------ */

/* 1 when `name` is a segment's ("seg-....log"); *base_len (may be NULL)
 * gets its length without ".log". */
int cashback__spool_is_segment(const char *name, size_t *base_len);
/* Segment names, sorted (oldest first); free with
 * cashback__spool_free_names. */
cashback_status cashback__spool_list_segments(cashback__spool *s, char ***out,
                                              size_t *count);
void cashback__spool_free_names(char **names, size_t n);
/* fstat() of a segment that fills only st_mode, st_nlink and st_size, and
 * asks the kernel for nothing more where statx() can: a stat() that asks
 * for the file's times makes the kernel (multigrain timestamps, Linux 6.13
 * on) give the next write a fine-grained time, a change of the inode that
 * the writer's next fdatasync() writes too, an I/O more per report. */
int cashback__spool_fstat(int fd, struct stat *st);
/* 1 when no writer holds the segment open. */
int cashback__spool_segment_closed(int fd);
/* Opens a file named like a segment for reading: never through a symlink,
 * never blocking on a FIFO, and only a regular file. -1 with `*what` and
 * errno (0: not a regular file) when it cannot be read; ENOENT: gone. */
int cashback__spool_open_segment(cashback__spool *s, const char *name,
                                 const char **what);
/* Names a file that could not be read, with the reason and who tried:
 * "<dir>/<file>: <what>: <reason> (euid N)". Only the first is kept. */
void cashback__spool_note_problem(char *out, size_t size,
                                  const cashback__spool *s, const char *name,
                                  const char *what, int e);
/* Removes what a writer killed while setting up a segment left (a
 * ".log.new", an ".ack" or ".sync" without its segment) once a minute old. */
void cashback__spool_reclaim_orphans(cashback__spool *s);

/* --- Side files (cashback_spool_side.c) --------------------------------- */

/* "<base><suffix>" for a segment "<base>.log"; suffixes are at most 5
 * characters (".ack", ".sync"), and segment names leave room for them. */
void cashback__spool_side_name(const char *seg, const char *suffix,
                               char out[CASHBACK__SEG_NAME_MAX]);
/* Reads an offset file ("<seg>.ack" or "<seg>.sync": 8 bytes and their
 * CRC-32C); -1 when there is none, -2 when it is there but cannot be read
 * or is damaged (or torn: being rewritten in place as it is read). */
int cashback__spool_read_offset(cashback__spool *s, const char *seg,
                                const char *suffix, uint64_t *off);
/* Writes an offset file's 12 bytes in place; 0 on success. */
int cashback__spool_pwrite_offset(int fd, uint64_t off);
/* A segment's cursor; 0 when there is none or it is damaged. */
uint64_t cashback__spool_read_ack(cashback__spool *s, const char *seg);
/* Moves a segment's cursor (not synced: see docs/reliability.md). */
cashback_status cashback__spool_write_ack(cashback__spool *s, const char *seg,
                                          uint64_t off);
/* Removes a segment and its side files. */
void cashback__spool_remove_segment(cashback__spool *s, const char *seg);

/* --- The writer (cashback_spool_writer.c) ------------------------------- */

/* Closes this process's segment (its lock goes with the descriptor). */
void cashback__spool_close_segment(cashback__spool *s);

/* --- The shared count (cashback_spool_usage.c) ------------------------- */

/* Adds `bytes` (negative: removes) of segment data to the shared count, if
 * the spool has one. Any thread. */
void cashback__spool_usage_add(cashback__spool *s, int64_t bytes);
/* The bytes queued by the shared count, in `*used`: 1 when there is an
 * established one, else 0. Mutex held. */
int cashback__spool_usage_estimate(cashback__spool *s, uint64_t *used);
/* Scans the directory for the bytes queued (every segment's data past its
 * cursor, the quarantine, `deferred`) and establishes the shared count by
 * it when the spool has one. `locked`: the mutex is held (the writers);
 * 0: not (the sender). */
uint64_t cashback__spool_usage_rescan(cashback__spool *s, int locked);
/* Unmaps the shared count (cashback__spool_close). */
void cashback__spool_usage_close(cashback__spool *s);

/* --- Reading a segment (cashback_spool_reader.c) ------------------------ */

/* One segment being merged: a window of its bytes from the cursor. */
typedef enum cashback__reader_state {
  CASHBACK__RD_HEAD = 0, /* a whole valid record at pos (info) */
  CASHBACK__RD_END =
      1, /* nothing more to read now (the end of its valid data) */
  CASHBACK__RD_ERROR = 2 /* a read failed: the segment stays as it is */
} cashback__reader_state;

typedef struct cashback__seg_reader {
  int fd;
  size_t idx;    /* in file-name order (ties of equal stamps) */
  size_t seg;    /* in the batch's segments */
  int closed;    /* no writer holds it */
  uint64_t size; /* read no further (the file, or its durable part) */
  uint64_t off;  /* file offset of buf[0] */
  uint8_t *buf;
  size_t cap, have, pos;
  uint64_t damage_at; /* where skipped damage began; UINT64_MAX: none */
  uint64_t damage_nz; /* ... and where its last nonzero byte ends: zeros
                         after it, to the end, are no damage (the zeros a
                         writer wrote ahead of its data) */
  cashback__reader_state state;
  int err;
  ssize_t (*pread_fn)(int, void *, size_t, off_t);
  cashback__record_info info;
  uint64_t last_stamp; /* the last stamp known in it: its next record's is
                          above (the head scan's, then each record taken) */
} cashback__seg_reader;

/* Reads on so that the buffer holds at least `need` bytes from pos (or the
 * rest up to size). 0, or -1 with r->err on a read error. */
int cashback__spool_reader_fill(cashback__seg_reader *r, size_t need);
/* Moves the reader to its next whole valid record, skipping and counting
 * damage in `b` as it goes (and moving the segment's end in the batch past
 * it). */
void cashback__spool_reader_next(cashback__seg_reader *r, cashback__batch *b);
/* pread through the spool's read function (a test's, to inject errors),
 * again on EINTR. */
ssize_t cashback__spool_pread(cashback__spool *s, int fd, uint8_t *p, size_t n,
                              uint64_t off);

#endif
