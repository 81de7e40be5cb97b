/*
 * The durable spool: a directory of append-only segment files, shared by
 * every process of one merchant on one machine (see docs/reliability.md).
 *
 *   <dir>/                        0700
 *     seg-<stamp>-<pid>-<rnd>.log one writer process's records, 0600
 *     seg-<stamp>-<pid>-<rnd>.ack the sender's cursor in that segment
 *                                 (created with it: moving it later
 *                                 needs no new disk space)
 *     seq                         the spool's sequence stamp (8 bytes
 *                                 and their CRC-32C; read and written
 *                                 under its flock by every process)
 *     quarantine.log              events the network rejected (records)
 *     quarantine.lock, sender.lock   flock()ed while in use
 *     state                       the sender's status (atomic rename)
 *     ledger.log                  the per-order ledger (cashback_ledger.h)
 *
 * Each writer process appends to its own segment, holding flock(LOCK_EX)
 * on it while it is open, so a segment nobody holds is closed: no writer
 * will append to it again. Records are written with one write() each and
 * checksummed (cashback_record.h).
 *
 * Order. Every record carries a stamp from `seq`, a hybrid logical clock
 * shared by every process of the spool: an append takes, under the spool's
 * mutex and just before its write(), new = max(old + 1, wall clock in us)
 * with `seq` flock()ed (pread, pwrite), so stamps only grow, whatever the clock
 * does, for as long as the file lives (after a reboot, or if the file is
 * lost, the wall clock carries them forward). Segments are named by a stamp
 * too. The sender takes a stamp H when it starts a collection and merges
 * every segment by stamp, taking only records stamped at or before H: so an
 * event whose report began after another's returned is sent after it (see
 * docs/reliability.md, "Causal order", for the argument and the limits).
 */
#ifndef CASHBACK_SPOOL_H
#define CASHBACK_SPOOL_H

#include "cashback.h"
#include "cashback_buf.h"

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

typedef struct cashback__spool_config {
  const char *dir;
  cashback_durability durability; /* CASHBACK_DURABLE_SYNC: fdatasync before
                                     report returns (include/cashback.h) */
  uint64_t max_bytes;             /* cap of queued + quarantined bytes */
  uint64_t segment_bytes;         /* a writer starts a new segment past this */
} cashback__spool_config;

typedef struct cashback__spool cashback__spool;

/* Opens (creating it 0700 if needed) the spool directory, once it and
 * every directory above it pass the ownership rules of docs/reliability.md
 * ("Who may own a spool"). No segment is created until the first append.
 * `err` receives a detail on failure (with the system's reason and the
 * effective user). Files inside are opened relative to the directory,
 * never through a symlink; running as root, files it creates are given to
 * the directory's owner. After fork() the child's copy holds none of the
 * parent's descriptors of segments or locks (cashback_fork.c). */
cashback_status cashback__spool_open(const cashback__spool_config *cfg,
                                     cashback__spool **out, char *err,
                                     size_t err_size);
void cashback__spool_close(cashback__spool *s);
const char *cashback__spool_dir(const cashback__spool *s);

/* Files of the spool with names the SDK uses that this process or the
 * directory's owner cannot use: a symlink, not a regular file, not readable
 * and writable by us, or owned by another user than the directory's (a
 * root-made file in the shop's spool). Counts them and describes the first
 * in `detail` (with the system's reason and the effective user). */
uint64_t cashback__spool_foreign(cashback__spool *s, char *detail, size_t size);

/* Appends one record and, in SYNC mode, returns once it is on disk
 * (concurrent appends share an fdatasync). CASHBACK_E_SPOOL_FULL past the
 * cap, CASHBACK_E_DISK_FULL on ENOSPC/EDQUOT, CASHBACK_E_IO when a write or
 * fdatasync failed: in every error case the record is not stored. Never
 * succeeds into a segment that lost its name or a directory the configured
 * path no longer names: the record is then written into a new segment of
 * the directory the path names now (made again if missing). Thread-safe;
 * after fork() the child writes its own segment. */
cashback_status cashback__spool_append(cashback__spool *s, const void *payload,
                                       size_t len, int64_t time_ms, char *err,
                                       size_t err_size);

/* fdatasync calls made for appends so far (group commit makes it fewer
 * than the appends). */
uint64_t cashback__spool_syncs(cashback__spool *s);

/* --- The sender's side -------------------------------------------------- */

/* Takes the sender lock without waiting: CASHBACK_OK when this spool object
 * now holds it (or already did), CASHBACK_E_BUSY when another does. */
cashback_status cashback__spool_lock_sender(cashback__spool *s);
/* The same, with the reason of a failure in `err`: the system's error and
 * the effective user for CASHBACK_E_IO. Follows the configured path: when
 * it names another directory than the one open, that one is opened (and
 * the old directory's lock let go). */
cashback_status cashback__spool_take_sender(cashback__spool *s, char *err,
                                            size_t err_size);
void cashback__spool_unlock_sender(cashback__spool *s);
/* Which acquisition of sender.lock this spool object holds: a number that
 * changes at every new acquisition, 0 while the lock is not held (never
 * taken, let go, closed by a directory reopen or in a child after fork). */
uint64_t cashback__spool_sender_gen(cashback__spool *s);

typedef struct cashback__batch_item {
  size_t seg;      /* index in the batch's segments */
  uint64_t end;    /* offset just past the record in its segment */
  size_t off, len; /* the payload in batch->data */
  int64_t time_ms; /* when it was written */
  uint64_t stamp;  /* its sequence stamp (0: an older CBR1 record) */
} cashback__batch_item;

typedef struct cashback__batch_seg {
  char name[64];
  uint64_t start; /* the cursor when collected */
  uint64_t end;   /* where valid data ends, once known */
  int closed;     /* no writer holds it */
  int complete;   /* the batch reached the end of its valid data */
} cashback__batch_seg;

typedef struct cashback__batch {
  cashback__buf data;
  size_t max_bytes; /* payload bytes; a single larger record still goes */
  cashback__batch_item *items;
  size_t n, cap;
  cashback__batch_seg *segs;
  size_t nsegs, segcap;
  uint64_t corrupt_regions; /* skipped while collecting this batch */
  uint64_t corrupt_bytes;
  /* Segments whose read failed this time (EIO...): left as they were, to
   * be read again by the next collection. */
  uint64_t read_errors;
  /* Files named like segments that could not be read or are no regular
   * file (permission, FIFO, directory, symlink): skipped, left alone. */
  uint64_t unreadable;
  char problem[256];      /* the first unreadable: file, reason, euid */
  char read_problem[256]; /* the first read error, the same way */
} cashback__batch;

/* A batch of at most `max_bytes` of payloads (but always at least one
 * record, whatever its size). */
void cashback__batch_init(cashback__batch *b, size_t max_bytes);
void cashback__batch_free(cashback__batch *b);

/* Collects up to `max_events` pending records (and at most the data cap
 * given to cashback__batch_init) in stamp order across every segment, up
 * to the stamp taken when the collection began. Deletes closed segments
 * with nothing left. A segment that cannot be read is skipped and counted
 * (read_errors, unreadable, problem) and the others are still collected.
 * The caller holds the sender lock. */
cashback_status cashback__spool_collect(cashback__spool *s, size_t max_events,
                                        cashback__batch *b);

/* Moves each segment's cursor past the longest run of resolved items
 * (resolved[i] != 0: delivered or quarantined), and deletes closed
 * segments that are finished. */
cashback_status cashback__spool_ack(cashback__spool *s,
                                    const cashback__batch *b,
                                    const unsigned char *resolved);

/* Files among the segments that cannot be read now. */
typedef struct cashback__spool_issues {
  uint64_t unreadable;  /* cannot be opened, or no regular file */
  char first[256];      /* the first: file, reason, effective uid; or "" */
  uint64_t read_errors; /* opened, but a read failed (EIO...) */
  char read_first[256]; /* the first of those, named the same way */
} cashback__spool_issues;

/* The sender's correction of the shared capacity count (docs/reliability.md,
 * "Capacity"): at most once a second, a directory scan re-establishes it,
 * outside every reporter's mutex. The caller holds the sender lock. */
void cashback__spool_usage_refresh(cashback__spool *s);
/* Directory scans made for the capacity count so far (for tests). */
uint64_t cashback__spool_usage_scans(cashback__spool *s);
/* The capacity count as a writer sees it, in `*used`: 1 when the spool has
 * an established shared count, else 0 (for tests). Thread-safe. */
int cashback__spool_capacity_count(cashback__spool *s, uint64_t *used);

/* Counts what is queued: events, bytes, and the write time of the oldest
 * (0 when empty). Reads record headers only. `issues` (may be NULL) gets
 * the files it had to skip. */
cashback_status cashback__spool_usage(cashback__spool *s, uint64_t *events,
                                      uint64_t *bytes, int64_t *oldest_ms,
                                      cashback__spool_issues *issues);

/* Tests only: the wall clock (microseconds) the stamps follow; NULL puts
 * back the real one. */
void cashback__spool_set_clock(cashback__spool *s, uint64_t (*now_us)(void *),
                               void *ud);

/* Tests only: how segments are read (NULL: pread), to inject errors. */
void cashback__spool_set_pread(cashback__spool *s,
                               ssize_t (*fn)(int, void *, size_t, off_t));

/* Tests only: how segments are written (NULL: pwrite), to inject errors
 * such as a full disk. */
void cashback__spool_set_pwrite(cashback__spool *s,
                                ssize_t (*fn)(int, const void *, size_t,
                                              off_t));

/* The spool's current sequence stamp (0 when it has none). */
uint64_t cashback__spool_stamp(cashback__spool *s);

/* 0 when the last stamp this object took was ordered through `seq`; -1
 * when `seq` could not be used (stamps then come from this process's own
 * clock), with `out` naming the file, what failed, why and the euid. */
int cashback__spool_seq_problem(cashback__spool *s, char *out, size_t size);

/* --- Sender state ------------------------------------------------------- */

/* Reads / replaces the small `state` file (atomic rename). Read gives at
 * most `size` - 1 bytes, NUL-terminated, and CASHBACK_E_NOT_FOUND (with
 * "") when there is none. The text's checksum is the sender's business
 * (cashback__sender_state_parse). */
cashback_status cashback__spool_state_read(cashback__spool *s, char *buf,
                                           size_t size);
cashback_status cashback__spool_state_write(cashback__spool *s,
                                            const char *text);

/* --- The spool's own files (for cashback_quarantine.c) ----------------- */

/* Opens `name` in the spool directory with the spool's rules: never
 * through a symlink or a hard link; a file opened for writing or created
 * must be a regular file owned by the directory's owner, us or root, and
 * one created running as root is given to the directory's owner. -1 and
 * errno on failure. */
int cashback__spool_openat(cashback__spool *s, const char *name, int flags,
                           mode_t mode);
/* The open spool directory (for fsync, renameat and unlinkat). */
int cashback__spool_dirfd(const cashback__spool *s);

/* --- Small files replaced whole ----------------------------------------- */

/* Reads the file `name` of the spool into `out` (empty when there is
 * none). Never follows a symlink, never waits on a FIFO (O_NONBLOCK, and
 * anything but a regular file is CASHBACK_E_IO), and refuses a file larger
 * than out->max (CASHBACK_E_TOO_BIG) without reading it. `why` (may be
 * NULL with size 0) names the problem. */
cashback_status cashback__spool_file_read(cashback__spool *s, const char *name,
                                          cashback__buf *out, char *why,
                                          size_t why_size);
/* Removes stale temporary files of `name` ("<name>.<digits>.tmp", left by
 * a crash while it was replaced); only the file's single writer may call
 * it (the sender, under the sender lock). Returns how many. */
size_t cashback__spool_sweep_tmp(cashback__spool *s, const char *name);
/* Replaces the file `name` with `len` bytes atomically (temporary file,
 * fsync in SYNC mode, rename, directory fsync); `len` 0 removes it. */
cashback_status cashback__spool_file_replace(cashback__spool *s,
                                             const char *name, const void *data,
                                             size_t len);

#endif
