/* The spool on a real file system, in a fresh directory under /tmp. */
#include "cashback_crc32c.h"
#include "cashback_record.h"
#include "cashback_quarantine.h"
#include "cashback_spool.h"
#include "tests.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pthread.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static char root[64];
static char dir[128];

static void setup(void) {
  snprintf(root, sizeof(root), "/tmp/cbspool-XXXXXX");
  ck_assert_ptr_nonnull(mkdtemp(root));
  snprintf(dir, sizeof(dir), "%s/spool", root);
}

static void teardown(void) {
  char cmd[256];
  snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
  ck_assert_int_eq(system(cmd), 0);
}

static cashback__spool *open_spool_mode(uint64_t max_bytes, uint64_t seg_bytes,
                                        cashback_durability mode) {
  cashback__spool_config cfg = {dir, mode, max_bytes, seg_bytes};
  cashback__spool *s = NULL;
  char err[256] = "";
  ck_assert_msg(cashback__spool_open(&cfg, &s, err, sizeof(err)) == CASHBACK_OK,
                "%s", err);
  return s;
}

static cashback__spool *open_spool(uint64_t max_bytes, uint64_t seg_bytes) {
  return open_spool_mode(max_bytes, seg_bytes, CASHBACK_DURABLE_SYNC);
}

static cashback_status put(cashback__spool *s, const char *payload) {
  char err[256] = "";
  cashback_status st = cashback__spool_append(s, payload, strlen(payload), 1000,
                                              err, sizeof(err));
  if (st != CASHBACK_OK)
    fprintf(stderr, "spool append: %s\n", err); /* the reason, for CI */
  return st;
}

/* Collects everything pending into a fresh batch. */
static size_t collect_all(cashback__spool *s, cashback__batch *b) {
  cashback__batch_init(b, 4u << 20);
  ck_assert_int_eq(cashback__spool_collect(s, 100000, b), CASHBACK_OK);
  return b->n;
}

static void ack_all(cashback__spool *s, cashback__batch *b) {
  unsigned char *all = malloc(b->n + 1);
  memset(all, 1, b->n + 1);
  ck_assert_int_eq(cashback__spool_ack(s, b, all), CASHBACK_OK);
  free(all);
}

static int count_files(const char *suffix) {
  char cmd[256];
  snprintf(cmd, sizeof(cmd), "ls '%s' | grep -c '%s$'", dir, suffix);
  FILE *f = popen(cmd, "r");
  int n = 0;
  ck_assert_int_eq(fscanf(f, "%d", &n), 1);
  pclose(f);
  return n;
}

/* The one segment file of the spool. */
static void segment_path(char *out, size_t size) {
  char cmd[256];
  snprintf(cmd, sizeof(cmd), "ls '%s'/seg-*.log | head -n 1", dir);
  FILE *f = popen(cmd, "r");
  ck_assert_ptr_nonnull(fgets(out, (int)size, f));
  pclose(f);
  out[strcspn(out, "\n")] = '\0';
}

START_TEST(creates_private_directory) {
  cashback__spool *s = open_spool(0, 0);
  struct stat st;
  ck_assert_int_eq(stat(dir, &st), 0);
  ck_assert_int_eq(st.st_mode & 0777, 0700);
  ck_assert_int_eq(count_files(".log"), 0); /* nothing until a report */
  ck_assert_int_eq(put(s, "{\"id\":\"a\"}"), CASHBACK_OK);
  char seg[512];
  segment_path(seg, sizeof(seg));
  ck_assert_int_eq(stat(seg, &st), 0);
  ck_assert_int_eq(st.st_mode & 0777, 0600);
  cashback__spool_close(s);
  /* A directory opened up by someone is closed again. */
  ck_assert_int_eq(chmod(dir, 0755), 0);
  s = open_spool(0, 0);
  ck_assert_int_eq(stat(dir, &st), 0);
  ck_assert_int_eq(st.st_mode & 0777, 0700);
  cashback__spool_close(s);
  cashback__spool_config cfg = {"relative/dir", CASHBACK_DURABLE_SYNC, 0, 0};
  char err[256];
  ck_assert_int_eq(cashback__spool_open(&cfg, &s, err, sizeof(err)),
                   CASHBACK_E_CONFIG);
  ck_assert_ptr_nonnull(strstr(err, "spool_dir"));
}
END_TEST

START_TEST(append_collect_ack_reclaim) {
  cashback__spool *w = open_spool(0, 0);
  char p[64];
  for (int i = 0; i < 50; i++) {
    snprintf(p, sizeof(p), "{\"id\":\"%02d\"}", i);
    ck_assert_int_eq(put(w, p), CASHBACK_OK);
  }
  cashback__spool *r = open_spool(0, 0);
  ck_assert_int_eq(cashback__spool_lock_sender(r), CASHBACK_OK);
  cashback__batch b;
  ck_assert_uint_eq(collect_all(r, &b), 50);
  for (size_t i = 0; i < 50; i++) {
    snprintf(p, sizeof(p), "{\"id\":\"%02zu\"}", i);
    ck_assert_int_eq(memcmp(b.data.data + b.items[i].off, p, strlen(p)), 0);
  }
  ck_assert_int_eq(b.segs[0].closed, 0); /* the writer still holds it */
  /* Settle the first 10 and the 12th: the cursor stops at the gap. */
  unsigned char res[50] = {0};
  memset(res, 1, 10);
  res[11] = 1;
  ck_assert_int_eq(cashback__spool_ack(r, &b, res), CASHBACK_OK);
  cashback__batch_free(&b);
  ck_assert_uint_eq(collect_all(r, &b), 40);
  ack_all(r, &b);
  cashback__batch_free(&b);
  ck_assert_uint_eq(collect_all(r, &b), 0);
  cashback__batch_free(&b);
  ck_assert_int_eq(count_files(".log"), 1); /* open: kept */
  cashback__spool_close(w);                 /* the writer goes away */
  ck_assert_uint_eq(collect_all(r, &b), 0); /* closed and done: removed */
  cashback__batch_free(&b);
  ck_assert_int_eq(count_files(".log"), 0);
  ck_assert_int_eq(count_files(".ack"), 0);
  cashback__spool_close(r);
}
END_TEST

START_TEST(segments_rotate_and_keep_order) {
  cashback__spool *w = open_spool(0, 4096);
  char p[256];
  for (int i = 0; i < 200; i++) {
    snprintf(p, sizeof(p), "{\"id\":\"%03d\",\"pad\":\"%080d\"}", i, 0);
    ck_assert_int_eq(put(w, p), CASHBACK_OK);
  }
  ck_assert_int_ge(count_files(".log"), 5);
  cashback__spool *r = open_spool(0, 0);
  cashback__batch b;
  cashback__batch_init(&b, 1u << 20);
  int next = 0;
  for (int round = 0; round < 100; round++) {
    ck_assert_int_eq(cashback__spool_collect(r, 33, &b), CASHBACK_OK);
    if (b.n == 0)
      break;
    for (size_t i = 0; i < b.n; i++) {
      snprintf(p, sizeof(p), "{\"id\":\"%03d\"", next++);
      ck_assert_int_eq(memcmp(b.data.data + b.items[i].off, p, strlen(p)), 0);
    }
    ack_all(r, &b);
  }
  cashback__batch_free(&b);
  ck_assert_int_eq(next, 200);
  /* Every rotated-out segment is closed and was removed; the open one
   * stays. */
  ck_assert_int_eq(count_files(".log"), 1);
  cashback__spool_close(w);
  cashback__spool_close(r);
}
END_TEST

START_TEST(cap_is_a_clear_error_and_frees_up) {
  cashback__spool *s = open_spool(64 * 1024, 0);
  char p[1100];
  memset(p, 'x', sizeof(p) - 1);
  p[sizeof(p) - 1] = '\0';
  int stored = 0;
  cashback_status st;
  char err[256] = "";
  while ((st = cashback__spool_append(s, p, strlen(p), 1, err, sizeof(err))) ==
         CASHBACK_OK)
    stored++;
  ck_assert_int_eq(st, CASHBACK_E_SPOOL_FULL);
  ck_assert_ptr_nonnull(strstr(err, "full"));
  ck_assert_int_eq(stored, 64 * 1024 / (1099 + CASHBACK__RECORD_HEADER_V2));
  /* Nothing past the cap reached the disk. */
  cashback__batch b;
  ck_assert_uint_eq(collect_all(s, &b), (size_t)stored);
  ack_all(s, &b);
  cashback__batch_free(&b);
  ck_assert_int_eq(cashback__spool_append(s, p, strlen(p), 1, err, sizeof(err)),
                   CASHBACK_OK);
  cashback__spool_close(s);
}
END_TEST

typedef struct worker {
  cashback__spool *s;
  int id;
  int failed;
} worker;

static void *write_many(void *arg) {
  worker *w = arg;
  char p[64];
  for (int i = 0; i < 300; i++) {
    snprintf(p, sizeof(p), "{\"id\":\"t%d-%03d\"}", w->id, i);
    if (put(w->s, p) != CASHBACK_OK)
      w->failed++;
  }
  return NULL;
}

START_TEST(threads_group_commit) {
  cashback__spool *s = open_spool(0, 0);
  pthread_t t[8];
  worker w[8];
  for (int i = 0; i < 8; i++) {
    w[i] = (worker){s, i, 0};
    pthread_create(&t[i], NULL, write_many, &w[i]);
  }
  for (int i = 0; i < 8; i++) {
    pthread_join(t[i], NULL);
    ck_assert_int_eq(w[i].failed, 0);
  }
  /* Every record whole, each thread's in its order. */
  cashback__batch b;
  ck_assert_uint_eq(collect_all(s, &b), 2400);
  int seen[8] = {0};
  for (size_t i = 0; i < b.n; i++) {
    int th, k;
    ck_assert_int_eq(
        sscanf(b.data.data + b.items[i].off, "{\"id\":\"t%d-%d\"}", &th, &k),
        2);
    ck_assert_int_eq(k, seen[th]);
    seen[th]++;
  }
  cashback__batch_free(&b);
  /* Group commit: fewer fdatasyncs than appends (every append waited for
   * one). */
  uint64_t syncs = cashback__spool_syncs(s);
  ck_assert_uint_ge(syncs, 1);
  ck_assert_uint_le(syncs, 2400);
  cashback__spool_close(s);
}
END_TEST

START_TEST(forked_child_writes_its_own_segment) {
  cashback__spool *s = open_spool(0, 0);
  ck_assert_int_eq(put(s, "{\"id\":\"parent-1\"}"), CASHBACK_OK);
  pid_t pid = fork();
  if (pid == 0) {
    int ok = put(s, "{\"id\":\"child\"}") == CASHBACK_OK;
    _exit(ok ? 0 : 1);
  }
  int status;
  waitpid(pid, &status, 0);
  ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  ck_assert_int_eq(put(s, "{\"id\":\"parent-2\"}"), CASHBACK_OK);
  ck_assert_int_eq(count_files(".log"), 2);
  cashback__batch b;
  ck_assert_uint_eq(collect_all(s, &b), 3);
  cashback__batch_free(&b);
  cashback__spool_close(s);
}
END_TEST

/* Writes 5 records, closes the writer, and returns the segment path and
 * where each record ends (the file's size grows ahead of them). */
static void five_closed(char *seg, size_t size, size_t *ends) {
  cashback__spool *w = open_spool(0, 0);
  char p[64];
  size_t end = 0;
  for (int i = 0; i < 5; i++) {
    snprintf(p, sizeof(p), "{\"id\":\"r%d\",\"x\":\"0123456789\"}", i);
    ck_assert_int_eq(put(w, p), CASHBACK_OK);
    end += CASHBACK__RECORD_HEADER_V2 + strlen(p);
    if (ends)
      ends[i] = end;
  }
  cashback__spool_close(w);
  segment_path(seg, size);
  struct stat st;
  ck_assert_int_eq(stat(seg, &st), 0);
  ck_assert_uint_eq((uint64_t)st.st_size, end); /* cut to its data at close */
}

START_TEST(torn_tail_is_cut_off) {
  char seg[512];
  size_t ends[5];
  five_closed(seg, sizeof(seg), ends);
  ck_assert_int_eq(truncate(seg, (off_t)(ends[3] + 7)), 0);
  cashback__spool *r = open_spool(0, 0);
  cashback__batch b;
  ck_assert_uint_eq(collect_all(r, &b), 4);
  ck_assert_uint_eq(b.corrupt_regions, 1);
  ack_all(r, &b);
  cashback__batch_free(&b);
  ck_assert_int_eq(count_files(".log"), 0);
  cashback__spool_close(r);
}
END_TEST

START_TEST(middle_damage_is_skipped_and_counted) {
  char seg[512];
  size_t ends[5];
  five_closed(seg, sizeof(seg), ends);
  int fd = open(seg, O_RDWR);
  unsigned char byte;
  ck_assert_int_eq(pread(fd, &byte, 1, (off_t)ends[1] + 25), 1);
  byte ^= 0x20;
  ck_assert_int_eq(pwrite(fd, &byte, 1, (off_t)ends[1] + 25), 1);
  close(fd);
  cashback__spool *r = open_spool(0, 0);
  cashback__batch b;
  ck_assert_uint_eq(collect_all(r, &b), 4);
  ck_assert_uint_eq(b.corrupt_regions, 1);
  const char *want[] = {"r0", "r1", "r3", "r4"};
  for (size_t i = 0; i < 4; i++)
    ck_assert_ptr_nonnull(
        memmem(b.data.data + b.items[i].off, b.items[i].len, want[i], 2));
  cashback__batch_free(&b);
  cashback__spool_close(r);
}
END_TEST

/* A batch that ends just past damage moves the cursor past it: the damage
 * is counted once, not again by the next batch. */
START_TEST(damage_at_a_batch_boundary_is_counted_once) {
  char seg[512];
  size_t ends[5];
  five_closed(seg, sizeof(seg), ends);
  int fd = open(seg, O_RDWR);
  unsigned char byte;
  ck_assert_int_eq(pread(fd, &byte, 1, (off_t)ends[1] + 25), 1);
  byte ^= 0x20;
  ck_assert_int_eq(pwrite(fd, &byte, 1, (off_t)ends[1] + 25), 1);
  close(fd);
  cashback__spool *r = open_spool(0, 0);
  ck_assert_int_eq(cashback__spool_lock_sender(r), CASHBACK_OK);
  cashback__batch b;
  cashback__batch_init(&b, 4u << 20);
  ck_assert_int_eq(cashback__spool_collect(r, 2, &b), CASHBACK_OK);
  ck_assert_uint_eq(b.n, 2);
  ck_assert_uint_eq(b.corrupt_regions, 1);
  ack_all(r, &b);
  ck_assert_int_eq(cashback__spool_collect(r, 100, &b), CASHBACK_OK);
  ck_assert_uint_eq(b.n, 2);
  ck_assert_ptr_nonnull(
      memmem(b.data.data + b.items[0].off, b.items[0].len, "r3", 2));
  ck_assert_uint_eq(b.corrupt_regions, 0);
  cashback__batch_free(&b);
  cashback__spool_close(r);
}
END_TEST

/* Writes `n` bytes at `off` of the file `seg`, then (`size` > 0) makes it
 * `size` bytes long. */
static void put_bytes(const char *seg, const void *p, size_t n, off_t off,
                      off_t size) {
  int fd = open(seg, O_WRONLY);
  ck_assert_int_eq(pwrite(fd, p, n, off), (ssize_t)n);
  if (size > 0)
    ck_assert_int_eq(ftruncate(fd, size), 0);
  close(fd);
}

/* A fresh reader collects the closed five of five_closed(): `n` records
 * with `regions` damaged regions of `bytes` bytes; and, acknowledged, the
 * segment is gone. */
static void drains_whole(size_t n, uint64_t regions, uint64_t bytes) {
  cashback__spool *r = open_spool(0, 0);
  cashback__batch b;
  ck_assert_uint_eq(collect_all(r, &b), n);
  ck_assert_uint_eq(b.corrupt_regions, regions);
  ck_assert_uint_eq(b.corrupt_bytes, bytes);
  ack_all(r, &b);
  cashback__batch_free(&b);
  ck_assert_int_eq(count_files(".log"), 0);
  cashback__spool_close(r);
}

/* A crash leaves the zeros a writer wrote ahead of its data (or zeros the
 * file system put where data had not landed): they are the end of the
 * data, not damage, and the segment goes once its records are delivered.
 * (Before the zeros were written ahead, they counted as a torn tail.) */
START_TEST(zero_filled_tail) {
  char seg[512];
  size_t ends[5];
  five_closed(seg, sizeof(seg), ends);
  int fd = open(seg, O_WRONLY | O_APPEND);
  char *zeros = calloc(1, 100000);
  ck_assert_int_eq(write(fd, zeros, 100000), 100000);
  free(zeros);
  close(fd);
  cashback__spool *r = open_spool(0, 0);
  uint64_t ev, bytes;
  int64_t oldest;
  ck_assert_int_eq(cashback__spool_usage(r, &ev, &bytes, &oldest, NULL),
                   CASHBACK_OK);
  ck_assert_uint_eq(ev, 5);
  ck_assert_uint_eq(bytes, ends[4]); /* the data, not the zeros */
  cashback__spool_close(r);
  drains_whole(5, 0, 0);
}
END_TEST

/* A record torn by a crash, then the zeros written ahead: a torn tail of
 * the bytes that were written (counted once, as before), not damage
 * running through the zeros; the records before it are all delivered. */
START_TEST(torn_record_before_zeros_is_the_tail) {
  char seg[512];
  size_t ends[5];
  five_closed(seg, sizeof(seg), ends);
  uint8_t rec[CASHBACK__RECORD_HEADER_V2 + 40];
  memset(rec + CASHBACK__RECORD_HEADER_V2, 'x', 40);
  cashback__record_header_v2(rec, 40, 1000, 99, 0);
  put_bytes(seg, rec, 33, (off_t)ends[4], 65536); /* zeros after it */
  drains_whole(5, 1, 33);
}
END_TEST

/* Zeros are the end of the data only when nothing follows them: zeros
 * over a record in the middle are damage, and the records after them are
 * delivered. */
START_TEST(zeros_in_the_middle_are_damage) {
  char seg[512];
  size_t ends[5];
  five_closed(seg, sizeof(seg), ends);
  char zeros[128] = {0};
  put_bytes(seg, zeros, ends[2] - ends[1], (off_t)ends[1], 0);
  cashback__spool *r = open_spool(0, 0);
  cashback__batch b;
  ck_assert_uint_eq(collect_all(r, &b), 4);
  ck_assert_uint_eq(b.corrupt_regions, 1);
  ck_assert_uint_eq(b.corrupt_bytes, ends[2] - ends[1]);
  ck_assert_ptr_nonnull(
      memmem(b.data.data + b.items[3].off, b.items[3].len, "r4", 2));
  cashback__batch_free(&b);
  cashback__spool_close(r);
}
END_TEST

START_TEST(partial_tail_of_open_segment_waits) {
  /* In process mode a sender reads an open segment to its end, where a
   * write may be in progress. */
  cashback__spool *w = open_spool_mode(0, 0, CASHBACK_DURABLE_PROCESS);
  ck_assert_int_eq(put(w, "{\"id\":\"one\"}"), CASHBACK_OK);
  char seg[512];
  segment_path(seg, sizeof(seg));
  /* Half of a record, as a reader may see a write in progress. */
  uint8_t rec[64];
  cashback__record_header(rec, "{\"id\":\"two\"}", 12, 5);
  memcpy(rec + CASHBACK__RECORD_HEADER, "{\"id\":\"two\"}", 12);
  int fd = open(seg, O_WRONLY | O_APPEND);
  ck_assert_int_eq(write(fd, rec, 25), 25);
  cashback__spool *r = open_spool(0, 0);
  cashback__batch b;
  ck_assert_uint_eq(collect_all(r, &b), 1);
  ck_assert_uint_eq(b.corrupt_regions, 0);
  ack_all(r, &b);
  cashback__batch_free(&b);
  /* The rest arrives: the record is whole and is sent. */
  ck_assert_int_eq(write(fd, rec + 25, CASHBACK__RECORD_HEADER + 12 - 25),
                   CASHBACK__RECORD_HEADER + 12 - 25);
  close(fd);
  ck_assert_uint_eq(collect_all(r, &b), 1);
  ck_assert_ptr_nonnull(memmem(b.data.data, b.data.len, "two", 3));
  cashback__batch_free(&b);
  cashback__spool_close(w);
  cashback__spool_close(r);
}
END_TEST

START_TEST(usage_counts) {
  cashback__spool *s = open_spool(0, 0);
  uint64_t ev, bytes;
  int64_t oldest;
  ck_assert_int_eq(cashback__spool_usage(s, &ev, &bytes, &oldest, NULL),
                   CASHBACK_OK);
  ck_assert_uint_eq(ev, 0);
  char err[64];
  ck_assert_int_eq(cashback__spool_append(s, "{\"a\":1}", 7, 5000, err, 64),
                   CASHBACK_OK);
  ck_assert_int_eq(cashback__spool_append(s, "{\"a\":2}", 7, 3000, err, 64),
                   CASHBACK_OK);
  ck_assert_int_eq(cashback__spool_usage(s, &ev, &bytes, &oldest, NULL),
                   CASHBACK_OK);
  ck_assert_uint_eq(ev, 2);
  ck_assert_uint_eq(bytes, 2 * (7 + CASHBACK__RECORD_HEADER_V2));
  ck_assert_int_eq(oldest, 3000);
  cashback__spool_close(s);
}
END_TEST

/* Usage reads record headers only (cashback__record_peek), never a
 * payload: a record whose payload is damaged still counts (the collection
 * skips it), and counting stops at a damaged header (it cannot tell where
 * the next record starts without reading on); the bytes count whole. */
START_TEST(usage_counts_headers_up_to_a_damaged_one) {
  char seg[512];
  size_t ends[5];
  five_closed(seg, sizeof(seg), ends);
  int fd = open(seg, O_RDWR);
  unsigned char byte;
  /* A payload byte of r1: its checksum fails, its header is intact. */
  ck_assert_int_eq(pread(fd, &byte, 1, (off_t)ends[0] + 35), 1);
  byte ^= 0x20;
  ck_assert_int_eq(pwrite(fd, &byte, 1, (off_t)ends[0] + 35), 1);
  cashback__spool *r = open_spool(0, 0);
  uint64_t ev, bytes;
  int64_t oldest;
  ck_assert_int_eq(cashback__spool_usage(r, &ev, &bytes, &oldest, NULL),
                   CASHBACK_OK);
  ck_assert_uint_eq(ev, 5);
  ck_assert_uint_eq(bytes, ends[4]);
  ck_assert_int_eq(oldest, 1000);
  /* The magic of r3: the headers are read up to it. */
  ck_assert_int_eq(pwrite(fd, "X", 1, (off_t)ends[2]), 1);
  close(fd);
  ck_assert_int_eq(cashback__spool_usage(r, &ev, &bytes, &oldest, NULL),
                   CASHBACK_OK);
  ck_assert_uint_eq(ev, 3);
  ck_assert_uint_eq(bytes, ends[4]);
  cashback__batch b;
  ck_assert_uint_eq(collect_all(r, &b), 3); /* r0, r2, r4 */
  ck_assert_uint_eq(b.corrupt_regions, 2);
  cashback__batch_free(&b);
  cashback__spool_close(r);
}
END_TEST

/* The header decoder usage and the readers share with the record format:
 * lengths, time and stamp without the payload, refusing what is no
 * header. */
START_TEST(record_peek_reads_a_header_without_its_payload) {
  uint8_t h[CASHBACK__RECORD_HEADER_V2];
  cashback__record_header_v2(h, 100, 1234, 77, 0);
  cashback__record_info in;
  memset(&in, 0, sizeof(in));
  ck_assert_int_eq(cashback__record_peek(h, sizeof(h), &in), CASHBACK__REC_OK);
  ck_assert_uint_eq(in.header, CASHBACK__RECORD_HEADER_V2);
  ck_assert_uint_eq(in.len, 100);
  ck_assert_int_eq(in.time_ms, 1234);
  ck_assert_uint_eq(in.stamp, 77);
  /* The whole record is not there: the full decoder waits for it. */
  ck_assert_int_eq(cashback__record_parse(h, sizeof(h), NULL),
                   CASHBACK__REC_SHORT);
  memset(&in, 0, sizeof(in));
  ck_assert_int_eq(cashback__record_peek(h, 10, &in), CASHBACK__REC_SHORT);
  ck_assert_uint_eq(in.len, 100); /* known from 8 bytes on */
  ck_assert_int_eq(cashback__record_peek(h, 3, &in), CASHBACK__REC_SHORT);
  uint8_t v1[CASHBACK__RECORD_HEADER + 3];
  cashback__record_header(v1, "abc", 3, 5678);
  memcpy(v1 + CASHBACK__RECORD_HEADER, "abc", 3);
  ck_assert_int_eq(cashback__record_peek(v1, sizeof(v1), &in),
                   CASHBACK__REC_OK);
  ck_assert_uint_eq(in.header, CASHBACK__RECORD_HEADER);
  ck_assert_uint_eq(in.len, 3);
  ck_assert_int_eq(in.time_ms, 5678);
  ck_assert_uint_eq(in.stamp, 0);
  h[0] = 'X';
  ck_assert_int_eq(cashback__record_peek(h, sizeof(h), &in),
                   CASHBACK__REC_CORRUPT);
  cashback__record_header_v2(h, CASHBACK__RECORD_MAX + 1, 1, 1, 0);
  ck_assert_int_eq(cashback__record_peek(h, sizeof(h), &in),
                   CASHBACK__REC_CORRUPT);
  memset(h + 4, 0, 4); /* length 0 */
  ck_assert_int_eq(cashback__record_peek(h, sizeof(h), &in),
                   CASHBACK__REC_CORRUPT);
}
END_TEST

static int collect_payload(const char *p, size_t len, int64_t t, void *ud) {
  (void)t;
  char *out = ud;
  strncat(out, p, len);
  strncat(out, "|", 2);
  return 0;
}

static int keep_not_b(const char *p, size_t len, int64_t t, void *ud) {
  (void)t;
  (void)ud;
  return !(len == 1 && p[0] == 'b');
}

START_TEST(quarantine_and_state) {
  cashback__spool *s = open_spool(0, 0);
  ck_assert_int_eq(cashback__quarantine_append(s, "a", 1, 1), CASHBACK_OK);
  ck_assert_int_eq(cashback__quarantine_append(s, "b", 1, 2), CASHBACK_OK);
  ck_assert_int_eq(cashback__quarantine_append(s, "c", 1, 3), CASHBACK_OK);
  char seen[64] = "";
  ck_assert_int_eq(cashback__quarantine_scan(s, collect_payload, seen, NULL),
                   CASHBACK_OK);
  ck_assert_str_eq(seen, "a|b|c|");
  size_t removed = 9;
  ck_assert_int_eq(cashback__quarantine_filter(s, keep_not_b, NULL, &removed),
                   CASHBACK_OK);
  ck_assert_uint_eq(removed, 1);
  seen[0] = '\0';
  cashback__quarantine_scan(s, collect_payload, seen, NULL);
  ck_assert_str_eq(seen, "a|c|");
  char text[128];
  ck_assert_int_eq(cashback__spool_state_read(s, text, sizeof(text)),
                   CASHBACK_E_NOT_FOUND); /* none yet */
  ck_assert_str_eq(text, "");
  ck_assert_int_eq(cashback__spool_state_write(s, "attempt=3\n"), CASHBACK_OK);
  ck_assert_int_eq(cashback__spool_state_read(s, text, sizeof(text)),
                   CASHBACK_OK);
  ck_assert_str_eq(text, "attempt=3\n");
  cashback__spool_close(s);
}
END_TEST

START_TEST(one_sender_at_a_time) {
  cashback__spool *a = open_spool(0, 0), *b = open_spool(0, 0);
  ck_assert_int_eq(cashback__spool_lock_sender(a), CASHBACK_OK);
  ck_assert_int_eq(cashback__spool_lock_sender(a), CASHBACK_OK);
  ck_assert_int_eq(cashback__spool_lock_sender(b), CASHBACK_E_BUSY);
  pid_t pid = fork();
  if (pid == 0) {
    cashback__spool *c = open_spool(0, 0);
    _exit(cashback__spool_lock_sender(c) == CASHBACK_E_BUSY ? 0 : 1);
  }
  int status;
  waitpid(pid, &status, 0);
  ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  cashback__spool_unlock_sender(a);
  ck_assert_int_eq(cashback__spool_lock_sender(b), CASHBACK_OK);
  cashback__spool_close(a);
  cashback__spool_close(b);
}
END_TEST

START_TEST(too_big_record) {
  cashback__spool *s = open_spool(0, 0);
  char err[128];
  char *big = calloc(1, CASHBACK__RECORD_MAX + 2);
  memset(big, 'x', CASHBACK__RECORD_MAX + 1);
  ck_assert_int_eq(cashback__spool_append(s, big, CASHBACK__RECORD_MAX + 1, 1,
                                          err, sizeof(err)),
                   CASHBACK_E_TOO_BIG);
  ck_assert_int_eq(cashback__spool_append(s, big, 0, 1, err, sizeof(err)),
                   CASHBACK_E_TOO_BIG);
  free(big);
  cashback__spool_close(s);
}
END_TEST

START_TEST(batch_bytes_are_bounded_but_a_big_record_goes_alone) {
  cashback__spool *s = open_spool(0, 0);
  char p[2100];
  memset(p, 'a', 300);
  p[300] = '\0';
  for (int i = 0; i < 5; i++)
    ck_assert_int_eq(put(s, p), CASHBACK_OK);
  memset(p, 'b', 2000);
  p[2000] = '\0';
  ck_assert_int_eq(put(s, p), CASHBACK_OK);
  cashback__batch b;
  cashback__batch_init(&b, 1000);
  ck_assert_int_eq(cashback__spool_collect(s, 1000, &b), CASHBACK_OK);
  ck_assert_uint_eq(b.n, 3); /* 3 x 300 fit in 1000, a 4th does not */
  ack_all(s, &b);
  ck_assert_int_eq(cashback__spool_collect(s, 1000, &b), CASHBACK_OK);
  ck_assert_uint_eq(b.n, 2);
  ack_all(s, &b);
  ck_assert_int_eq(cashback__spool_collect(s, 1000, &b), CASHBACK_OK);
  ck_assert_uint_eq(b.n, 1); /* larger than the cap: sent alone */
  ck_assert_uint_eq(b.items[0].len, 2000);
  cashback__batch_free(&b);
  cashback__spool_close(s);
}
END_TEST

/* Creates an empty file in the spool, `age` seconds old. */
static void touch_old(const char *name, int age) {
  char path[256];
  snprintf(path, sizeof(path), "%s/%s", dir, name);
  int fd = open(path, O_WRONLY | O_CREAT, 0600);
  ck_assert_int_ge(fd, 0);
  struct timespec t[2];
  clock_gettime(CLOCK_REALTIME, &t[0]);
  t[0].tv_sec -= age;
  t[1] = t[0];
  ck_assert_int_eq(futimens(fd, t), 0);
  close(fd);
}

static int exists(const char *name) {
  char path[512];
  struct stat st;
  snprintf(path, sizeof(path), "%s/%s", dir, name);
  return stat(path, &st) == 0;
}

/* A payload of x's filling `p` (`size` bytes with its NUL). */
static void xs(char *p, size_t size) {
  memset(p, 'x', size - 1);
  p[size - 1] = '\0';
}

/* Adds `delta` to the `net` counter of the spool's `usage` file (offset 8,
 * docs/reliability.md), as drift would: a writer killed between its write
 * and its count, or a count gone wrong. */
static void usage_drift(long long delta) {
  char path[256];
  snprintf(path, sizeof(path), "%s/usage", dir);
  int fd = open(path, O_RDWR);
  ck_assert_int_ge(fd, 0);
  long long net = 0;
  ck_assert_int_eq(pread(fd, &net, sizeof(net), 8), (ssize_t)sizeof(net));
  net += delta;
  ck_assert_int_eq(pwrite(fd, &net, sizeof(net), 8), (ssize_t)sizeof(net));
  close(fd);
}

/* The capacity check keeps its count without scanning the directory on the
 * report path: one scan establishes the spool's shared count (the first
 * report), and none follows, a second later and over many segments; the
 * count is exact (what a scan finds), and goes down by what the sender
 * acknowledges. Before, every writer rescanned every segment once a
 * second under the spool's mutex. */
START_TEST(capacity_count_needs_no_rescan) {
  cashback__spool *s = open_spool(UINT64_C(1) << 30, 8 * 1024);
  char p[300];
  xs(p, sizeof(p));
  for (int i = 0; i < 200; i++)
    ck_assert_int_eq(put(s, p), CASHBACK_OK);
  ck_assert_uint_eq(cashback__spool_usage_scans(s), 1);
  usleep(1100 * 1000);
  for (int i = 0; i < 200; i++)
    ck_assert_int_eq(put(s, p), CASHBACK_OK);
  ck_assert_uint_eq(cashback__spool_usage_scans(s), 1);
  ck_assert_int_ge(count_files(".log"), 10);
  uint64_t used = 0, rec = sizeof(p) - 1 + CASHBACK__RECORD_HEADER_V2;
  ck_assert_int_eq(cashback__spool_capacity_count(s, &used), 1);
  ck_assert_uint_eq(used, 400 * rec);
  cashback__batch b;
  ck_assert_uint_eq(collect_all(s, &b), 400);
  ack_all(s, &b);
  cashback__batch_free(&b);
  ck_assert_int_eq(cashback__spool_capacity_count(s, &used), 1);
  ck_assert_uint_eq(used, 0);
  ck_assert_uint_eq(cashback__spool_usage_scans(s), 1);
  cashback__spool_close(s);
}
END_TEST

/* One count for every process of the spool (two spool objects stand for
 * two processes, and a forked child writes through its parent's): the cap
 * holds for all of them together, exactly; the second writer sees the
 * first's bytes without scanning; an acknowledgement by either frees room
 * for the other. */
START_TEST(capacity_count_is_shared_by_writers) {
  cashback__spool *a = open_spool(64 * 1024, 0);
  cashback__spool *b = open_spool(64 * 1024, 0);
  char p[1100];
  xs(p, sizeof(p));
  for (int i = 0; i < 20; i++)
    ck_assert_int_eq(put(a, p), CASHBACK_OK);
  pid_t pid = fork();
  if (pid == 0) {
    int ok = 1;
    for (int i = 0; i < 10; i++)
      ok &= put(a, p) == CASHBACK_OK;
    _exit(ok ? 0 : 1);
  }
  int status;
  waitpid(pid, &status, 0);
  ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  uint64_t rec = sizeof(p) - 1 + CASHBACK__RECORD_HEADER_V2, used = 0;
  ck_assert_int_eq(cashback__spool_capacity_count(b, &used), 1);
  ck_assert_uint_eq(used, 30 * rec);
  int stored = 30;
  char err[256] = "";
  cashback_status st;
  while ((st = cashback__spool_append(b, p, strlen(p), 1, err, sizeof(err))) ==
         CASHBACK_OK)
    stored++;
  ck_assert_int_eq(st, CASHBACK_E_SPOOL_FULL);
  ck_assert_int_eq(stored, 64 * 1024 / (int)rec);
  ck_assert_uint_eq(cashback__spool_usage_scans(a), 1); /* established it */
  ck_assert_uint_eq(cashback__spool_usage_scans(b), 1); /* when full */
  ck_assert_int_eq(cashback__spool_append(a, p, strlen(p), 1, err, sizeof(err)),
                   CASHBACK_E_SPOOL_FULL);
  cashback__batch bt;
  ck_assert_uint_eq(collect_all(b, &bt), (size_t)stored);
  ack_all(b, &bt);
  cashback__batch_free(&bt);
  ck_assert_int_eq(put(a, p), CASHBACK_OK);
  ck_assert_int_eq(cashback__spool_capacity_count(a, &used), 1);
  ck_assert_uint_eq(used, rec);
  cashback__spool_close(a);
  cashback__spool_close(b);
}
END_TEST

/* Drift is corrected: a count short of the truth (a writer killed between
 * its write and its count) by the sender's scan; a count over it never
 * refuses a report that fits (the check scans before it says full); a
 * `usage` file without its magic is not used (the cap still holds, by
 * scans, as before the count) and is set up again once it is stale. */
START_TEST(capacity_count_drift_is_corrected) {
  cashback__spool *s = open_spool(64 * 1024, 0);
  char p[1100];
  xs(p, sizeof(p));
  uint64_t rec = sizeof(p) - 1 + CASHBACK__RECORD_HEADER_V2, used = 0;
  for (int i = 0; i < 10; i++)
    ck_assert_int_eq(put(s, p), CASHBACK_OK);
  usage_drift(-3 * (long long)rec);
  ck_assert_int_eq(cashback__spool_capacity_count(s, &used), 1);
  ck_assert_uint_eq(used, 7 * rec);
  cashback__spool_usage_refresh(s); /* the sender's, once a second */
  ck_assert_int_eq(cashback__spool_capacity_count(s, &used), 1);
  ck_assert_uint_eq(used, 10 * rec);
  usage_drift(INT64_C(1) << 40);
  ck_assert_int_eq(put(s, p), CASHBACK_OK);
  ck_assert_int_eq(cashback__spool_capacity_count(s, &used), 1);
  ck_assert_uint_eq(used, 11 * rec);
  cashback__spool_close(s);

  char path[256];
  snprintf(path, sizeof(path), "%s/usage", dir);
  ck_assert_int_eq(truncate(path, 0), 0); /* its creator killed */
  s = open_spool(64 * 1024, 0);
  ck_assert_int_eq(cashback__spool_capacity_count(s, &used), 0);
  int stored = 11;
  while (put(s, p) == CASHBACK_OK)
    stored++;
  ck_assert_int_eq(stored, 64 * 1024 / (int)rec);
  cashback__spool_close(s);
  touch_old("usage", 60);
  s = open_spool(64 * 1024, 0);
  ck_assert_int_eq(cashback__spool_capacity_count(s, &used), 0); /* anew */
  cashback__spool_usage_refresh(s); /* the sender's scan establishes it */
  ck_assert_int_eq(cashback__spool_capacity_count(s, &used), 1);
  ck_assert_uint_eq(used, (uint64_t)stored * rec);
  cashback__spool_close(s);
}
END_TEST

START_TEST(files_of_a_crashed_setup_are_reclaimed) {
  cashback__spool *s = open_spool(0, 0);
  ck_assert_int_eq(put(s, "{\"id\":\"live\"}"), CASHBACK_OK);
  /* A writer killed between creating its segment and naming it. */
  touch_old("seg-0000000000000001-1-aaaaaaaa.log.new", 120);
  touch_old("seg-0000000000000001-1-aaaaaaaa.ack", 120);
  /* One being set up right now is left alone. */
  touch_old("seg-0000000000000002-2-bbbbbbbb.log.new", 0);
  touch_old("seg-0000000000000002-2-bbbbbbbb.ack", 0);
  cashback__spool *r = open_spool(0, 0);
  cashback__batch b;
  ck_assert_uint_eq(collect_all(r, &b), 1);
  cashback__batch_free(&b);
  ck_assert(!exists("seg-0000000000000001-1-aaaaaaaa.log.new"));
  ck_assert(!exists("seg-0000000000000001-1-aaaaaaaa.ack"));
  ck_assert(exists("seg-0000000000000002-2-bbbbbbbb.log.new"));
  ck_assert(exists("seg-0000000000000002-2-bbbbbbbb.ack"));
  ck_assert_int_eq(count_files(".log"), 1); /* the live segment stays */
  ck_assert_int_eq(count_files(".ack"), 2); /* its cursor, and the young one */
  cashback__spool_close(r);
  cashback__spool_close(s);
}
END_TEST

START_TEST(durable_reports_are_published_to_the_sender) {
  cashback__spool *w = open_spool(0, 0);
  cashback__spool *r = open_spool(0, 0);
  cashback__batch b;
  for (int i = 1; i <= 3; i++) {
    ck_assert_int_eq(put(w, "{\"id\":\"x\"}"), CASHBACK_OK);
    ck_assert_uint_eq(collect_all(r, &b), (size_t)i);
    cashback__batch_free(&b);
  }
  ck_assert_int_eq(count_files(".sync"), 1);
  cashback__spool_close(w);
  cashback__spool_close(r);
}
END_TEST

/* A SYNC-mode writer's segment, written ahead with zeros, read by a sender
 * while the writer lives (only as far as durable) and after it was killed
 * with SIGKILL (whole, up to the zeros: nothing counted as damage), then
 * deleted once delivered. */
START_TEST(sender_reads_an_open_segment_only_as_far_as_durable) {
  int ready[2];
  ck_assert_int_eq(pipe(ready), 0);
  pid_t pid = fork();
  if (pid == 0) {
    cashback__spool_config cfg = {dir, CASHBACK_DURABLE_SYNC, 0, 0};
    cashback__spool *w = NULL;
    int ok = cashback__spool_open(&cfg, &w, NULL, 0) == CASHBACK_OK &&
             put(w, "{\"id\":\"one\"}") == CASHBACK_OK;
    if (write(ready[1], ok ? "y" : "n", 1) != 1)
      _exit(1);
    for (;;)
      pause(); /* killed, never closed */
  }
  char ch = 0;
  ck_assert_int_eq(read(ready[0], &ch, 1), 1);
  ck_assert_int_eq(ch, 'y');
  char seg[512];
  segment_path(seg, sizeof(seg));
  size_t data = CASHBACK__RECORD_HEADER_V2 + 12;
  struct stat st;
  ck_assert_int_eq(stat(seg, &st), 0);
  ck_assert_uint_gt((uint64_t)st.st_size, data); /* zeros written ahead */
  /* A record written where the next goes but not (yet, or never) made
   * durable, as when its fdatasync is in progress or failed: whole, valid,
   * and not to be sent. */
  uint8_t rec[64];
  cashback__record_header(rec, "{\"id\":\"two\"}", 12, 5);
  memcpy(rec + CASHBACK__RECORD_HEADER, "{\"id\":\"two\"}", 12);
  int fd = open(seg, O_WRONLY);
  ck_assert_int_eq(pwrite(fd, rec, CASHBACK__RECORD_HEADER + 12, (off_t)data),
                   CASHBACK__RECORD_HEADER + 12);
  close(fd);
  cashback__spool *r = open_spool(0, 0);
  cashback__batch b;
  ck_assert_uint_eq(collect_all(r, &b), 1);
  ck_assert_ptr_null(memmem(b.data.data, b.data.len, "two", 3));
  ck_assert_uint_eq(b.corrupt_regions, 0);
  cashback__batch_free(&b);
  /* Once the writer is gone the segment is closed and read whole: a
   * writer that died never told anyone its report failed. */
  ck_assert_int_eq(kill(pid, SIGKILL), 0);
  int status;
  ck_assert_int_eq(waitpid(pid, &status, 0), pid);
  ck_assert_uint_eq(collect_all(r, &b), 2);
  ck_assert_uint_eq(b.corrupt_regions, 0);
  ck_assert_uint_eq(b.corrupt_bytes, 0);
  ack_all(r, &b);
  cashback__batch_free(&b);
  ck_assert_int_eq(count_files(".log"), 0);
  ck_assert_int_eq(count_files(".sync"), 0);
  cashback__spool_close(r);
  close(ready[0]);
  close(ready[1]);
}
END_TEST

/* Records one after another from `data`, whole and valid, up to `len`:
 * how many, or -1 when something else is there. */
static int parse_all(const uint8_t *data, size_t len) {
  int n = 0;
  cashback__record_info in;
  for (size_t off = 0; off < len; off += in.header + in.len, n++)
    if (cashback__record_parse(data + off, len - off, &in) != CASHBACK__REC_OK)
      return -1;
  return n;
}

/* A segment is cut to its data when it is rotated (and when the spool is
 * closed): only the open one has zeros ahead of its data, and what is
 * queued counts the data. */
START_TEST(rotation_cuts_a_segment_to_its_data) {
  cashback__spool *s = open_spool(0, 1000);
  char p[128];
  memset(p, 0, sizeof(p));
  int n = 0;
  while (count_files(".log") < 3) {
    snprintf(p, sizeof(p), "{\"id\":\"r%03d\",\"x\":\"%060d\"}", n++, 0);
    ck_assert_int_eq(put(s, p), CASHBACK_OK);
  }
  size_t rec = CASHBACK__RECORD_HEADER_V2 + strlen(p);
  char cmd[256];
  snprintf(cmd, sizeof(cmd), "ls '%s'/seg-*.log", dir);
  FILE *f = popen(cmd, "r");
  char path[512];
  int segs = 0, records = 0, zeros_ahead = 0;
  while (fgets(path, sizeof(path), f)) {
    path[strcspn(path, "\n")] = '\0';
    int fd = open(path, O_RDONLY);
    struct stat st;
    ck_assert_int_eq(fstat(fd, &st), 0);
    uint8_t *data = malloc((size_t)st.st_size + 1);
    ck_assert_int_eq(pread(fd, data, (size_t)st.st_size, 0),
                     (ssize_t)st.st_size);
    close(fd);
    int k = parse_all(data, (size_t)st.st_size);
    if (segs++ < 2) {
      ck_assert_int_gt(k, 0); /* rotated: records only */
      records += k;
    } else {
      /* the open one: its record, then zeros written ahead */
      ck_assert_int_eq(parse_all(data, rec), 1);
      ck_assert_uint_gt((uint64_t)st.st_size, rec);
      zeros_ahead = data[rec] == 0;
      records++;
    }
    free(data);
  }
  pclose(f);
  ck_assert_int_eq(segs, 3);
  ck_assert_int_eq(records, n);
  ck_assert(zeros_ahead);
  uint64_t ev, bytes;
  int64_t oldest;
  ck_assert_int_eq(cashback__spool_usage(s, &ev, &bytes, &oldest, NULL),
                   CASHBACK_OK);
  ck_assert_uint_eq(ev, (uint64_t)n);
  ck_assert_uint_eq(bytes, (uint64_t)n * rec);
  cashback__spool_close(s);
  /* Closed: cut too. */
  snprintf(cmd, sizeof(cmd), "ls -r '%s'/seg-*.log | head -n 1", dir);
  f = popen(cmd, "r");
  ck_assert_ptr_nonnull(fgets(path, sizeof(path), f));
  pclose(f);
  path[strcspn(path, "\n")] = '\0';
  struct stat st;
  ck_assert_int_eq(stat(path, &st), 0);
  ck_assert_uint_eq((uint64_t)st.st_size, rec);
}
END_TEST

/* A segment written before the zeros ahead (appended, its last record at
 * the end of the file, no `.sync`), of both record versions, still reads
 * whole and goes once delivered. */
START_TEST(old_appended_segment_still_reads) {
  cashback__spool *r = open_spool(0, 0); /* makes the directory */
  char path[512];
  snprintf(path, sizeof(path), "%s/seg-0000000000000005-1-00000000.log", dir);
  int fd = open(path, O_WRONLY | O_CREAT | O_APPEND, 0600);
  ck_assert_int_ge(fd, 0);
  for (int i = 0; i < 4; i++) {
    char p[32];
    int len = snprintf(p, sizeof(p), "{\"id\":\"old%d\"}", i);
    uint8_t rec[64];
    size_t total;
    if (i < 2) {
      cashback__record_header(rec, p, (size_t)len, 1000 + i);
      total = CASHBACK__RECORD_HEADER;
    } else {
      cashback__record_header_v2(rec, (size_t)len, 1000 + i, 10 + (uint64_t)i,
                                 cashback__crc32c(0, p, (size_t)len));
      total = CASHBACK__RECORD_HEADER_V2;
    }
    memcpy(rec + total, p, (size_t)len);
    total += (size_t)len;
    ck_assert_int_eq(write(fd, rec, total), (ssize_t)total);
  }
  close(fd);
  cashback__batch b;
  ck_assert_uint_eq(collect_all(r, &b), 4);
  ck_assert_uint_eq(b.corrupt_regions, 0);
  for (size_t i = 0; i < 4; i++) {
    char want[8];
    snprintf(want, sizeof(want), "old%zu", i);
    ck_assert_ptr_nonnull(
        memmem(b.data.data + b.items[i].off, b.items[i].len, want, 4));
  }
  ack_all(r, &b);
  cashback__batch_free(&b);
  ck_assert_int_eq(count_files(".log"), 0);
  cashback__spool_close(r);
}
END_TEST

/* A disk with this many bytes for the segment: writes past it fail with
 * ENOSPC (after a short write, as the kernel does). */
#define SMALL_DISK 8192
static ssize_t small_disk(int fd, const void *p, size_t n, off_t off) {
  if (off >= SMALL_DISK) {
    errno = ENOSPC;
    return -1;
  }
  if ((uint64_t)off + n > SMALL_DISK)
    n = (size_t)(SMALL_DISK - off);
  return pwrite(fd, p, n, off);
}

/* A full disk refuses the zeros written ahead: the records still go in
 * while they fit, a report fails with CASHBACK_E_DISK_FULL exactly when its
 * record does not, and every accepted one is delivered, undamaged. */
START_TEST(disk_full_while_writing_ahead) {
  cashback__spool *s = open_spool(0, 0);
  cashback__spool_set_pwrite(s, small_disk);
  char p[128], err[256] = "";
  int ok = 0;
  cashback_status st;
  for (;;) {
    snprintf(p, sizeof(p), "{\"id\":\"r%03d\",\"x\":\"%060d\"}", ok, 0);
    st = cashback__spool_append(s, p, strlen(p), 1000, err, sizeof(err));
    if (st != CASHBACK_OK)
      break;
    ok++;
    ck_assert_int_lt(ok, 1000);
  }
  size_t rec = CASHBACK__RECORD_HEADER_V2 + strlen(p);
  ck_assert_int_eq(st, CASHBACK_E_DISK_FULL);
  ck_assert_ptr_nonnull(strstr(err, "the event is not stored"));
  ck_assert_ptr_nonnull(strstr(err, strerror(ENOSPC)));
  ck_assert_int_eq(ok, SMALL_DISK / (int)rec); /* every one that fit */
  /* Again: refused, and nothing written. */
  ck_assert_int_eq(put(s, p), CASHBACK_E_DISK_FULL);
  char seg[512];
  segment_path(seg, sizeof(seg));
  struct stat sb;
  ck_assert_int_eq(stat(seg, &sb), 0);
  ck_assert_uint_eq((uint64_t)sb.st_size, (uint64_t)ok * rec);
  cashback__spool *r = open_spool(0, 0);
  cashback__batch b;
  ck_assert_uint_eq(collect_all(r, &b), (size_t)ok);
  ck_assert_uint_eq(b.corrupt_regions, 0);
  cashback__batch_free(&b);
  /* Space again: reports succeed. */
  cashback__spool_set_pwrite(s, NULL);
  ck_assert_int_eq(put(s, p), CASHBACK_OK);
  ck_assert_uint_eq(collect_all(r, &b), (size_t)ok + 1);
  ck_assert_uint_eq(b.corrupt_regions, 0);
  cashback__batch_free(&b);
  cashback__spool_close(s);
  cashback__spool_close(r);
}
END_TEST

/* --- Causal order across segments and processes ------------------------ */

/* The ids of a fresh collection, in order, "a,b,c". */
static void collected_ids(cashback__spool *r, char *out, size_t size) {
  cashback__batch b;
  collect_all(r, &b);
  out[0] = '\0';
  for (size_t i = 0; i < b.n; i++) {
    const char *p = b.data.data + b.items[i].off;
    const char *id = memmem(p, b.items[i].len, "\"id\":\"", 6);
    ck_assert_ptr_nonnull(id);
    id += 6;
    size_t n = strcspn(id, "\"");
    size_t used = strlen(out);
    snprintf(out + used, size - used, "%s%.*s", used ? "," : "", (int)n, id);
  }
  cashback__batch_free(&b);
}

/* Two writer processes (two spool objects, each with its own segment):
 * process B's segment is the older one, but its refund was reported after
 * process A's sale returned; it must be sent after the sale. */
START_TEST(followup_in_an_older_segment_goes_after_its_sale) {
  cashback__spool *a = open_spool(0, 0), *b = open_spool(0, 0);
  ck_assert_int_eq(put(b, "{\"id\":\"b-first\"}"), CASHBACK_OK);
  struct timespec ms = {0, 2000000};
  nanosleep(&ms, NULL); /* B's segment is older by name, whatever sorts */
  ck_assert_int_eq(put(a, "{\"id\":\"sale\"}"), CASHBACK_OK);
  ck_assert_int_eq(put(b, "{\"id\":\"refund\"}"), CASHBACK_OK);
  ck_assert_int_eq(put(a, "{\"id\":\"confirm\"}"), CASHBACK_OK);
  ck_assert_int_eq(count_files(".log"), 2);
  cashback__spool *r = open_spool(0, 0);
  char ids[256];
  collected_ids(r, ids, sizeof(ids));
  ck_assert_str_eq(ids, "b-first,sale,refund,confirm");
  /* In batches of one, acknowledged one by one: the same order. */
  cashback__batch bt;
  cashback__batch_init(&bt, 1u << 20);
  const char *want[] = {"b-first", "sale", "refund", "confirm"};
  for (int i = 0; i < 4; i++) {
    ck_assert_int_eq(cashback__spool_collect(r, 1, &bt), CASHBACK_OK);
    ck_assert_uint_eq(bt.n, 1);
    ck_assert_ptr_nonnull(
        memmem(bt.data.data, bt.data.len, want[i], strlen(want[i])));
    ack_all(r, &bt);
  }
  ck_assert_int_eq(cashback__spool_collect(r, 1, &bt), CASHBACK_OK);
  ck_assert_uint_eq(bt.n, 0);
  cashback__batch_free(&bt);
  cashback__spool_close(a);
  cashback__spool_close(b);
  cashback__spool_close(r);
}
END_TEST

/* A record stamped after the collection began waits for the next one,
 * even when it is already on disk while the collection reads. */
static cashback__spool *late_writer;

static ssize_t write_late_pread(int fd, void *buf, size_t n, off_t off) {
  if (late_writer) {
    cashback__spool *w = late_writer;
    late_writer = NULL;
    ck_assert_int_eq(put(w, "{\"id\":\"late\"}"), CASHBACK_OK);
  }
  return pread(fd, buf, n, off);
}

START_TEST(records_past_the_collection_stamp_wait) {
  cashback__spool *w = open_spool(0, 0), *r = open_spool(0, 0);
  ck_assert_int_eq(put(w, "{\"id\":\"one\"}"), CASHBACK_OK);
  uint64_t before = cashback__spool_stamp(r);
  /* "late" is written during the collection, after its stamp was taken. */
  late_writer = w;
  cashback__spool_set_pread(r, write_late_pread);
  char ids[128];
  collected_ids(r, ids, sizeof(ids));
  ck_assert_ptr_null(late_writer);
  ck_assert_str_eq(ids, "one");
  ck_assert_uint_gt(cashback__spool_stamp(r), before);
  collected_ids(r, ids, sizeof(ids));
  ck_assert_str_eq(ids, "one,late");
  cashback__batch b;
  collect_all(r, &b);
  ck_assert_uint_eq(b.n, 2);
  ck_assert_uint_gt(b.items[1].stamp, b.items[0].stamp);
  ck_assert_uint_le(b.items[0].stamp, before); /* "one" */
  ck_assert_uint_gt(b.items[1].stamp, before); /* "late" */
  cashback__batch_free(&b);
  cashback__spool_close(w);
  cashback__spool_close(r);
}
END_TEST

/* A wall clock that stands still, then steps back an hour. */
static uint64_t stuck_clock(void *ud) {
  uint64_t *calls = ud;
  (*calls)++;
  return *calls < 50 ? UINT64_C(1764000000000000)
                     : UINT64_C(1764000000000000) - UINT64_C(3600000000);
}

static void rotate_and_check_order(cashback__spool *w, int fixed_clock,
                                   int count) {
  uint64_t calls = 0;
  if (fixed_clock)
    cashback__spool_set_clock(w, stuck_clock, &calls);
  char p[256];
  for (int i = 0; i < count; i++) {
    snprintf(p, sizeof(p), "{\"id\":\"%03d\",\"pad\":\"%080d\"}", i, 0);
    ck_assert_int_eq(put(w, p), CASHBACK_OK);
  }
  ck_assert_int_ge(count_files(".log"), 5);
  cashback__spool *r = open_spool(0, 0);
  if (fixed_clock)
    cashback__spool_set_clock(r, stuck_clock, &calls);
  cashback__batch b;
  cashback__batch_init(&b, 1u << 20);
  int next = 0;
  for (int round = 0; round < 100; round++) {
    ck_assert_int_eq(cashback__spool_collect(r, 33, &b), CASHBACK_OK);
    if (b.n == 0)
      break;
    for (size_t i = 0; i < b.n; i++) {
      snprintf(p, sizeof(p), "{\"id\":\"%03d\"", next++);
      ck_assert_int_eq(memcmp(b.data.data + b.items[i].off, p, strlen(p)), 0);
    }
    ack_all(r, &b);
  }
  cashback__batch_free(&b);
  ck_assert_int_eq(next, count);
  /* Every rotated-out segment is closed and was removed; the open one
   * stays. */
  ck_assert_int_eq(count_files(".log"), 1);
  cashback__spool_close(r);
}

/* Uses a fresh directory on /dev/shm (tmpfs: fdatasync is free, so one
 * writer rotates many times within a millisecond). 0 when there is none. */
static int use_tmpfs_root(void) {
  struct stat st;
  if (stat("/dev/shm", &st) != 0 || !S_ISDIR(st.st_mode) ||
      access("/dev/shm", W_OK) != 0)
    return 0;
  teardown();
  snprintf(root, sizeof(root), "/dev/shm/cbspool-XXXXXX");
  ck_assert_ptr_nonnull(mkdtemp(root));
  snprintf(dir, sizeof(dir), "%s/spool", root);
  return 1;
}

START_TEST(segments_rotate_and_keep_order_on_tmpfs) {
  if (!use_tmpfs_root()) {
    fprintf(stderr, "spool: no writable /dev/shm, tmpfs case skipped\n");
    return;
  }
  /* About 85 segments of 7 records, most within one millisecond. */
  cashback__spool *w = open_spool(0, 1024);
  rotate_and_check_order(w, 0, 600);
  cashback__spool_close(w);
}
END_TEST

START_TEST(rotations_keep_order_with_a_stuck_or_stepped_back_clock) {
  if (!use_tmpfs_root())
    fprintf(stderr, "spool: no writable /dev/shm, using /tmp\n");
  cashback__spool *w = open_spool(0, 1024);
  rotate_and_check_order(w, 1, 300);
  cashback__spool_close(w);
}
END_TEST

/* More segments with pending records than one merge takes (32): still one
 * order, by stamp, across all of them. */
START_TEST(many_segments_merge_in_stamp_order) {
  enum { WRITERS = 40, ROUNDS = 3 };
  cashback__spool *w[WRITERS];
  for (int i = 0; i < WRITERS; i++)
    w[i] = open_spool_mode(0, 0, CASHBACK_DURABLE_PROCESS);
  char p[64];
  /* Round-robin, newest segment first: the order of reports runs against
   * the order of segment names. */
  for (int k = 0; k < ROUNDS; k++)
    for (int i = WRITERS - 1; i >= 0; i--) {
      snprintf(p, sizeof(p), "{\"id\":\"%d-%02d\"}", k, WRITERS - 1 - i);
      ck_assert_int_eq(put(w[i], p), CASHBACK_OK);
    }
  ck_assert_int_eq(count_files(".log"), WRITERS);
  cashback__spool *r = open_spool(0, 0);
  cashback__batch b;
  cashback__batch_init(&b, 1u << 20);
  int got = 0;
  for (int round = 0; round < 50; round++) {
    ck_assert_int_eq(cashback__spool_collect(r, 7, &b), CASHBACK_OK);
    if (b.n == 0)
      break;
    for (size_t i = 0; i < b.n; i++, got++) {
      snprintf(p, sizeof(p), "{\"id\":\"%d-%02d\"}", got / WRITERS,
               got % WRITERS);
      ck_assert_msg(b.items[i].len == strlen(p) &&
                        memcmp(b.data.data + b.items[i].off, p, strlen(p)) == 0,
                    "event %d is %.*s, not %s", got, (int)b.items[i].len,
                    b.data.data + b.items[i].off, p);
    }
    ack_all(r, &b);
  }
  cashback__batch_free(&b);
  ck_assert_int_eq(got, WRITERS * ROUNDS);
  for (int i = 0; i < WRITERS; i++)
    cashback__spool_close(w[i]);
  cashback__spool_close(r);
}
END_TEST

/* A spool written before the stamp (CBR1 records, segments named by ms)
 * drains after the upgrade: its records first, in file-name order. */
START_TEST(older_records_still_drain_first) {
  ck_assert_int_eq(mkdir(dir, 0700), 0);
  const char *names[] = {"seg-0000019ad0000000-1-aaaaaaaa.log",
                         "seg-0000019ad0000001-2-bbbbbbbb.log"};
  for (int f = 0; f < 2; f++) {
    char path[256];
    snprintf(path, sizeof(path), "%s/%s", dir, names[f]);
    int fd = open(path, O_WRONLY | O_CREAT, 0600);
    ck_assert_int_ge(fd, 0);
    for (int i = 0; i < 2; i++) {
      char p[64];
      uint8_t rec[128];
      int n = snprintf(p, sizeof(p), "{\"id\":\"old%d%d\"}", f, i);
      cashback__record_header(rec, p, (size_t)n, 5);
      memcpy(rec + CASHBACK__RECORD_HEADER, p, (size_t)n);
      ck_assert_int_eq(write(fd, rec, CASHBACK__RECORD_HEADER + (size_t)n),
                       CASHBACK__RECORD_HEADER + n);
    }
    close(fd);
  }
  cashback__spool *w = open_spool(0, 0);
  ck_assert_int_eq(put(w, "{\"id\":\"new\"}"), CASHBACK_OK);
  char ids[256];
  collected_ids(w, ids, sizeof(ids));
  ck_assert_str_eq(ids, "old00,old01,old10,old11,new");
  cashback__spool_close(w);
}
END_TEST

/* --- Read errors and unreadable files ---------------------------------- */

static int eio_left; /* preads to fail with EIO before they work again */

static ssize_t flaky_pread(int fd, void *buf, size_t n, off_t off) {
  if (eio_left > 0) {
    eio_left--;
    errno = EIO;
    return -1;
  }
  return pread(fd, buf, n, off);
}

START_TEST(a_read_error_leaves_the_segment_as_it_was) {
  char seg[512];
  five_closed(seg, sizeof(seg), NULL);
  cashback__spool *r = open_spool(0, 0);
  cashback__spool_set_pread(r, flaky_pread);
  cashback__batch b;
  for (int fail = 1; fail <= 2; fail++) {
    /* The head scan's read fails (1), then the merge's (2). */
    eio_left = fail;
    collect_all(r, &b);
    ck_assert_uint_eq(b.n, 0);
    ck_assert_uint_eq(b.read_errors, 1);
    ck_assert_ptr_nonnull(strstr(b.read_problem, "seg-"));
    ck_assert_ptr_nonnull(strstr(b.read_problem, strerror(EIO)));
    ck_assert_ptr_nonnull(strstr(b.read_problem, "euid"));
    ack_all(r, &b);
    cashback__batch_free(&b);
    ck_assert_int_eq(access(seg, F_OK), 0); /* not taken for its end */
  }
  /* Transient: read again, whole. */
  eio_left = 0;
  ck_assert_uint_eq(collect_all(r, &b), 5);
  ck_assert_uint_eq(b.read_errors, 0);
  ack_all(r, &b);
  cashback__batch_free(&b);
  ck_assert_uint_eq(collect_all(r, &b), 0);
  cashback__batch_free(&b);
  ck_assert_int_eq(access(seg, F_OK), -1);
  cashback__spool_close(r);
}
END_TEST

/* The status's own read that fails is a read error, not an unreadable
 * file (it was counted as one). */
START_TEST(usage_counts_a_read_error_as_one) {
  char seg[512];
  five_closed(seg, sizeof(seg), NULL);
  cashback__spool *r = open_spool(0, 0);
  cashback__spool_set_pread(r, flaky_pread);
  eio_left = 1;
  uint64_t events, bytes;
  int64_t oldest;
  cashback__spool_issues is;
  ck_assert_int_eq(cashback__spool_usage(r, &events, &bytes, &oldest, &is),
                   CASHBACK_OK);
  ck_assert_uint_eq(is.unreadable, 0);
  ck_assert_str_eq(is.first, "");
  ck_assert_uint_eq(is.read_errors, 1);
  ck_assert_ptr_nonnull(strstr(is.read_first, strerror(EIO)));
  cashback__spool_close(r);
}
END_TEST

/* A read error in the middle of a segment larger than one read: what came
 * before it goes, the cursor stops there, the rest is read next time. */
static int pread_calls, pread_fail_at;

static ssize_t nth_pread_fails(int fd, void *buf, size_t n, off_t off) {
  if (++pread_calls == pread_fail_at) {
    errno = EIO;
    return -1;
  }
  return pread(fd, buf, n, off);
}

START_TEST(a_read_error_mid_segment_keeps_the_rest) {
  cashback__spool *w = open_spool_mode(0, 0, CASHBACK_DURABLE_PROCESS);
  char p[2100];
  for (int i = 0; i < 40; i++) {
    snprintf(p, sizeof(p), "{\"id\":\"%02d\",\"pad\":\"%01900d\"}", i, 0);
    ck_assert_int_eq(put(w, p), CASHBACK_OK);
  }
  cashback__spool_close(w);
  char seg[512];
  segment_path(seg, sizeof(seg));
  cashback__spool *r = open_spool(0, 0);
  cashback__spool_set_pread(r, nth_pread_fails);
  /* Reads: the head scan's, the first buffer, then refills: fail the
   * second refill. */
  pread_calls = 0;
  pread_fail_at = 4;
  cashback__batch b;
  size_t first = collect_all(r, &b);
  ck_assert_uint_gt(first, 0);
  ck_assert_uint_lt(first, 40);
  ck_assert_uint_eq(b.read_errors, 1);
  ck_assert_ptr_nonnull(strstr(b.read_problem, strerror(EIO)));
  ack_all(r, &b);
  cashback__batch_free(&b);
  ck_assert_int_eq(access(seg, F_OK), 0);
  pread_fail_at = 0;
  ck_assert_uint_eq(collect_all(r, &b), 40 - first);
  snprintf(p, sizeof(p), "{\"id\":\"%02zu\"", first);
  ck_assert_int_eq(memcmp(b.data.data + b.items[0].off, p, strlen(p)), 0);
  ck_assert_uint_eq(b.read_errors, 0);
  ack_all(r, &b);
  cashback__batch_free(&b);
  ck_assert_uint_eq(collect_all(r, &b), 0);
  cashback__batch_free(&b);
  ck_assert_int_eq(access(seg, F_OK), -1); /* finished: removed */
  cashback__spool_close(r);
}
END_TEST

/* Makes a file named like a segment that this process cannot read:
 * mode 0000 (run as non-root). */
static char odd_names[4][64];

static void make_odd_files(uint64_t after) {
  const char *kind[] = {"fifo0000", "dir00000", "link0000", "perm0000"};
  for (int i = 0; i < 4; i++)
    snprintf(odd_names[i], sizeof(odd_names[i]), "seg-%016llx-9-%s.log",
             (unsigned long long)(after + 1 + (uint64_t)i), kind[i]);
  char path[256];
  snprintf(path, sizeof(path), "%s/%s", dir, odd_names[0]);
  ck_assert_int_eq(mkfifo(path, 0600), 0);
  snprintf(path, sizeof(path), "%s/%s", dir, odd_names[1]);
  ck_assert_int_eq(mkdir(path, 0700), 0);
  snprintf(path, sizeof(path), "%s/%s", dir, odd_names[2]);
  ck_assert_int_eq(symlink("/etc/passwd", path), 0);
  snprintf(path, sizeof(path), "%s/%s", dir, odd_names[3]);
  int fd = open(path, O_WRONLY | O_CREAT, 0000);
  ck_assert_int_ge(fd, 0);
  uint8_t rec[64];
  cashback__record_header(rec, "{\"id\":\"hidden\"}", 15, 5);
  memcpy(rec + CASHBACK__RECORD_HEADER, "{\"id\":\"hidden\"}", 15);
  ck_assert_int_eq(write(fd, rec, CASHBACK__RECORD_HEADER + 15),
                   CASHBACK__RECORD_HEADER + 15);
  close(fd);
  ck_assert_int_eq(chmod(path, 0000), 0);
}

/* As the unprivileged user: a collection and a usage count, with a good
 * segment on either side of the odd files. Exit status: 0 when all held. */
static int check_odd_files(void) {
  cashback__spool *r = open_spool(0, 0);
  uint64_t ev, bytes;
  int64_t oldest;
  cashback__spool_issues is;
  if (cashback__spool_usage(r, &ev, &bytes, &oldest, &is) != CASHBACK_OK)
    return 10;
  if (ev != 2)
    return 11;
  if (is.unreadable != 4 || !strstr(is.first, odd_names[0]) ||
      !strstr(is.first, "FIFO") || !strstr(is.first, "euid"))
    return 12;
  cashback__batch b;
  cashback__batch_init(&b, 1u << 20);
  if (cashback__spool_collect(r, 100, &b) != CASHBACK_OK)
    return 13;
  if (b.n != 2 || b.unreadable != 4 || !strstr(b.problem, odd_names[0]))
    return 14;
  unsigned char all[2] = {1, 1};
  if (cashback__spool_ack(r, &b, all) != CASHBACK_OK)
    return 15;
  cashback__batch_free(&b);
  cashback__spool_close(r);
  return 0;
}

/* `seq` cut to nothing by another process while a writer uses it: with a
 * shared mapping of it, the next stamp was a SIGBUS that killed the
 * reporting process. The stamps go on growing (this process's last stamp
 * carries them over the loss). */
START_TEST(seq_truncated_under_a_writer_does_not_crash) {
  alarm(30);
  cashback__spool *w = open_spool_mode(0, 0, CASHBACK_DURABLE_PROCESS);
  ck_assert_int_eq(put(w, "{\"id\":\"a\"}"), CASHBACK_OK);
  char p[200];
  snprintf(p, sizeof(p), "%s/seq", dir);
  ck_assert_int_eq(truncate(p, 0), 0);
  ck_assert_int_eq(put(w, "{\"id\":\"b\"}"), CASHBACK_OK);
  cashback__spool_close(w);
  cashback__spool *r = open_spool(0, 0);
  cashback__batch b;
  ck_assert_uint_eq(collect_all(r, &b), 2);
  ck_assert_uint_gt(b.items[1].stamp, b.items[0].stamp);
  cashback__batch_free(&b);
  cashback__spool_close(r);
}
END_TEST

/* Fills the filesystem at `path` (a file of zeros until ENOSPC). */
static void fill_disk(const char *path) {
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  ck_assert_int_ge(fd, 0);
  char z[4096] = {0};
  while (write(fd, z, sizeof(z)) > 0)
    ;
  while (write(fd, z, 1) > 0)
    ;
  close(fd);
}

/* A spool on a full disk, `seq` not there yet (a spool of an earlier
 * version, or a new one): a report is DISK_FULL and the sender still
 * drains what is queued. Each used to die of SIGBUS at the first touch of
 * the mapped `seq` (tmpfs answers the page fault on a hole so). Needs a
 * small tmpfs (root); skipped where it cannot be mounted. */
START_TEST(full_disk_without_seq_is_disk_full_not_a_crash) {
  alarm(60);
  char mnt[96];
  snprintf(mnt, sizeof(mnt), "%s/fs", root); /* root is 63 at most */
  ck_assert_int_eq(mkdir(mnt, 0700), 0);
  char cmd[300];
  snprintf(cmd, sizeof(cmd),
           "mount -t tmpfs -o size=256k tmpfs '%s' 2>/dev/null", mnt);
  if (geteuid() != 0 || system(cmd) != 0) {
    fprintf(stderr, "spool: cannot mount a tmpfs, full-disk case skipped\n");
    return;
  }
  pid_t pid = fork();
  ck_assert_int_ge(pid, 0);
  if (pid == 0) {
    snprintf(dir, sizeof(dir), "%s/spool", mnt);
    /* 1: a report on a full disk, no `seq`. */
    cashback__spool *w = open_spool_mode(0, 0, CASHBACK_DURABLE_PROCESS);
    char fill[200], p[200];
    snprintf(fill, sizeof(fill), "%s/fill", mnt);
    snprintf(p, sizeof(p), "%s/seq", dir);
    fill_disk(fill);
    char err[256] = "";
    cashback_status st =
        cashback__spool_append(w, "{\"x\":1}", 7, 1000, err, sizeof(err));
    if (st != CASHBACK_E_DISK_FULL)
      _exit(10);
    cashback__spool_close(w);
    /* 2: three events queued, then `seq` gone and the disk full. */
    unlink(fill);
    w = open_spool_mode(0, 0, CASHBACK_DURABLE_PROCESS);
    for (int i = 0; i < 3; i++)
      if (cashback__spool_append(w, "{\"x\":1}", 7, 1000, err, sizeof(err)) !=
          CASHBACK_OK)
        _exit(11);
    cashback__spool_close(w);
    unlink(p);
    fill_disk(fill);
    cashback__spool *r = open_spool(0, 0);
    cashback__batch b;
    cashback__batch_init(&b, 1u << 20);
    if (cashback__spool_collect(r, 100, &b) != CASHBACK_OK || b.n != 3)
      _exit(12);
    char why[512];
    if (cashback__spool_seq_problem(r, why, sizeof(why)) == 0 ||
        !strstr(why, "seq"))
      _exit(13); /* the fallback is said, naming the file */
    cashback__batch_free(&b);
    cashback__spool_close(r);
    _exit(0);
  }
  int status = 0;
  ck_assert_int_eq(waitpid(pid, &status, 0), pid);
  snprintf(cmd, sizeof(cmd), "umount '%s'", mnt);
  ck_assert_int_eq(system(cmd), 0);
  ck_assert_msg(WIFEXITED(status), "killed by signal %d",
                WIFSIGNALED(status) ? WTERMSIG(status) : 0);
  ck_assert_int_eq(WEXITSTATUS(status), 0);
}
END_TEST

/* `seq` created by root in another user's spool belongs to that user, or
 * the user's own processes could not order through it afterwards. */
START_TEST(seq_created_by_root_belongs_to_the_spool_owner) {
  if (geteuid() != 0) {
    fprintf(stderr, "spool: not root, seq ownership case skipped\n");
    return;
  }
  ck_assert_int_eq(mkdir(dir, 0700), 0);
  ck_assert_int_eq(chown(dir, 65534, 65534), 0);
  cashback__spool *w = open_spool_mode(0, 0, CASHBACK_DURABLE_PROCESS);
  (void)cashback__spool_stamp(w); /* creates `seq` */
  cashback__spool_close(w);
  char p[200];
  snprintf(p, sizeof(p), "%s/seq", dir);
  struct stat st;
  ck_assert_int_eq(stat(p, &st), 0);
  ck_assert_uint_eq(st.st_uid, 65534);
  ck_assert_uint_eq(st.st_gid, 65534);
}
END_TEST

/* Records stamped by a clock that was an hour ahead, then `seq` lost (it
 * is never synced) and the clock right again: they used to wait an hour
 * (stamps past every H). The collection raises `seq` past them. */
static uint64_t ahead_clock(void *ud) {
  (void)ud;
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return ((uint64_t)ts.tv_sec + 3600) * 1000000u;
}

START_TEST(stamps_ahead_of_a_lost_seq_do_not_wait) {
  cashback__spool *w = open_spool(0, 0);
  cashback__spool_set_clock(w, ahead_clock, NULL);
  ck_assert_int_eq(put(w, "{\"id\":\"a\"}"), CASHBACK_OK);
  ck_assert_int_eq(put(w, "{\"id\":\"b\"}"), CASHBACK_OK);
  cashback__spool_close(w);
  char p[200];
  snprintf(p, sizeof(p), "%s/seq", dir);
  ck_assert_int_eq(unlink(p), 0);
  cashback__spool *r = open_spool(0, 0);
  char ids[128];
  collected_ids(r, ids, sizeof(ids));
  ck_assert_str_eq(ids, "a,b");
  /* A record reported now is stamped after them. */
  w = open_spool(0, 0);
  ck_assert_int_eq(put(w, "{\"id\":\"c\"}"), CASHBACK_OK);
  cashback__spool_close(w);
  collected_ids(r, ids, sizeof(ids));
  ck_assert_str_eq(ids, "a,b,c");
  cashback__spool_close(r);
}
END_TEST

/* More segments than one merge holds open (40 writers, 5 interleaved
 * records each): one collection takes all 200, in stamp order. Each batch
 * used to stop at about 32 (the 33rd segment's head bounded it): 32 32 32
 * 32 32 32 8. */
START_TEST(more_segments_than_a_merge_holds_fill_one_batch) {
  enum { W = 40, R = 5 };
  cashback__spool *w[W];
  for (int i = 0; i < W; i++)
    w[i] = open_spool_mode(0, 0, CASHBACK_DURABLE_PROCESS);
  for (int r = 0; r < R; r++)
    for (int i = 0; i < W; i++)
      ck_assert_int_eq(put(w[i], "{\"x\":1}"), CASHBACK_OK);
  for (int i = 0; i < W; i++)
    cashback__spool_close(w[i]);
  cashback__spool *rd = open_spool(0, 0);
  cashback__batch b;
  ck_assert_uint_eq(collect_all(rd, &b), W * R);
  for (size_t i = 1; i < b.n; i++)
    ck_assert_uint_gt(b.items[i].stamp, b.items[i - 1].stamp);
  ack_all(rd, &b);
  cashback__batch_free(&b);
  ck_assert_uint_eq(collect_all(rd, &b), 0);
  cashback__batch_free(&b);
  ck_assert_int_eq(count_files(".log"), 0); /* all read to their end */
  cashback__spool_close(rd);
}
END_TEST

/* Reads of the segment whose name holds `fail_name` fail with EIO, except
 * its first `fail_after` reads. */
static char fail_name[128];
static int fail_after, fail_count;

static ssize_t named_pread_fails(int fd, void *buf, size_t n, off_t off) {
  char link[64], path[512];
  snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
  ssize_t l = readlink(link, path, sizeof(path) - 1);
  if (fail_name[0] && l > 0) {
    path[l] = '\0';
    if (strstr(path, fail_name) && fail_count++ >= fail_after) {
      errno = EIO;
      return -1;
    }
  }
  return pread(fd, buf, n, off);
}

/* The name of the segment holding `needle`, into fail_name. */
static void segment_holding(const char *needle) {
  char cmd[300];
  snprintf(cmd, sizeof(cmd), "grep -l '%s' '%s'/seg-*.log", needle, dir);
  FILE *f = popen(cmd, "r");
  ck_assert_ptr_nonnull(f);
  char line[512] = "";
  ck_assert_ptr_nonnull(fgets(line, sizeof(line), f));
  pclose(f);
  line[strcspn(line, "\n")] = '\0';
  const char *base = strrchr(line, '/');
  snprintf(fail_name, sizeof(fail_name), "%s", base ? base + 1 : line);
}

/* A transient read error on the sale's segment: its cancel, in another
 * segment and stamped after it, must not go first. It used to (the other
 * segments went on whatever their stamps). Older records of the other
 * segments still go. Both when the head scan's read fails and when the
 * merge's does. */
START_TEST(a_read_error_keeps_newer_records_of_other_segments_back) {
  for (int after = 0; after <= 1; after++) {
    if (after) {
      teardown();
      setup();
    }
    cashback__spool *o = open_spool(0, 0), *a = open_spool(0, 0),
                    *c = open_spool(0, 0);
    ck_assert_int_eq(put(o, "{\"id\":\"older\"}"), CASHBACK_OK);
    ck_assert_int_eq(put(a, "{\"id\":\"sale\"}"), CASHBACK_OK);
    ck_assert_int_eq(put(c, "{\"id\":\"cancel\"}"), CASHBACK_OK);
    cashback__spool_close(o);
    cashback__spool_close(a);
    cashback__spool_close(c);
    segment_holding("\"sale\"");
    fail_after = after; /* 0: the head scan fails; 1: the merge's read */
    fail_count = 0;
    cashback__spool *r = open_spool(0, 0);
    cashback__spool_set_pread(r, named_pread_fails);
    char ids[128];
    collected_ids(r, ids, sizeof(ids));
    ck_assert_str_eq(ids, "older");
    fail_name[0] = '\0'; /* transient */
    collected_ids(r, ids, sizeof(ids));
    ck_assert_str_eq(ids, "older,sale,cancel");
    cashback__spool_close(r);
  }
}
END_TEST

/* A segment whose head record's stamp is damaged (its CRC fails) among
 * more segments than a merge holds: its valid records after the damage
 * keep their place. The head scan used to take the damaged stamp as it
 * read (unchecked, here huge), leave the segment out till last, and its
 * next record went after newer ones of other segments. */
START_TEST(a_damaged_head_stamp_does_not_move_a_segment_back) {
  enum { F = 33 };
  for (int i = 0; i < F; i++) {
    cashback__spool *f = open_spool_mode(0, 0, CASHBACK_DURABLE_PROCESS);
    ck_assert_int_eq(put(f, "{\"id\":\"f\"}"), CASHBACK_OK);
    cashback__spool_close(f);
  }
  cashback__spool *a = open_spool_mode(0, 0, CASHBACK_DURABLE_PROCESS),
                  *c = open_spool_mode(0, 0, CASHBACK_DURABLE_PROCESS);
  ck_assert_int_eq(put(a, "{\"id\":\"a1\"}"), CASHBACK_OK);
  ck_assert_int_eq(put(c, "{\"id\":\"b1\"}"), CASHBACK_OK);
  ck_assert_int_eq(put(a, "{\"id\":\"a2\"}"), CASHBACK_OK);
  ck_assert_int_eq(put(c, "{\"id\":\"b2\"}"), CASHBACK_OK);
  cashback__spool_close(a);
  cashback__spool_close(c);
  segment_holding("\"a1\"");
  char p[300];
  snprintf(p, sizeof(p), "%s/%s", dir, fail_name);
  fail_name[0] = '\0';
  int fd = open(p, O_WRONLY);
  ck_assert_int_ge(fd, 0);
  uint8_t ff[8];
  memset(ff, 0xff, sizeof(ff));
  ck_assert_int_eq(pwrite(fd, ff, sizeof(ff), 16), 8); /* a1's stamp */
  close(fd);
  cashback__spool *r = open_spool(0, 0);
  char ids[512];
  collected_ids(r, ids, sizeof(ids));
  const char *tail = strstr(ids, "b1");
  ck_assert_ptr_nonnull(tail);
  ck_assert_str_eq(tail, "b1,a2,b2");
  cashback__spool_close(r);
}
END_TEST

START_TEST(unreadable_and_odd_files_are_skipped_and_named) {
  alarm(30); /* before the fix a FIFO hung the reader forever */
  ck_assert_int_eq(mkdir(dir, 0700), 0);
  cashback__spool *w = open_spool_mode(0, 0, CASHBACK_DURABLE_PROCESS);
  ck_assert_int_eq(put(w, "{\"id\":\"before\"}"), CASHBACK_OK);
  uint64_t stamp = cashback__spool_stamp(w);
  cashback__spool_close(w);
  make_odd_files(stamp); /* named to sort between the two good segments */
  w = open_spool_mode(0, 0, CASHBACK_DURABLE_PROCESS);
  ck_assert_int_eq(put(w, "{\"id\":\"after\"}"), CASHBACK_OK);
  cashback__spool_close(w);
  int rc;
  if (geteuid() == 0) {
    /* Root reads a 0000 file: check as nobody, owning the spool. */
    char cmd[768];
    snprintf(cmd, sizeof(cmd),
             "chmod 711 '%s' && chown -hR 65534:65534 '%s' && "
             "chown 0:0 '%s/%s' && chmod 600 '%s/%s'",
             root, dir, dir, odd_names[3], dir, odd_names[3]);
    ck_assert_int_eq(system(cmd), 0);
    pid_t pid = fork();
    if (pid == 0) {
      if (setgid(65534) != 0 || setuid(65534) != 0)
        _exit(2);
      _exit(check_odd_files());
    }
    int status;
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert(WIFEXITED(status));
    rc = WEXITSTATUS(status);
  } else {
    rc = check_odd_files();
  }
  ck_assert_msg(rc == 0, "check failed at step %d", rc);
  /* Nothing of them was deleted or changed. */
  for (int i = 0; i < 4; i++)
    ck_assert(exists(odd_names[i]));
  alarm(0);
}
END_TEST

/* A FIFO in place of a segment's cursor neither hangs the reading of the
 * cursor nor its writing: it reads as no cursor, and moving it fails. */
START_TEST(a_fifo_for_a_cursor_does_not_hang) {
  alarm(30); /* before, the sender hung opening it */
  cashback__spool *w = open_spool_mode(0, 0, CASHBACK_DURABLE_PROCESS);
  ck_assert_int_eq(put(w, "{\"id\":\"one\"}"), CASHBACK_OK);
  char seg[512], ack[520];
  segment_path(seg, sizeof(seg));
  snprintf(ack, sizeof(ack), "%.*s.ack", (int)(strlen(seg) - 4), seg);
  ck_assert_int_eq(unlink(ack), 0);
  ck_assert_int_eq(mkfifo(ack, 0600), 0);
  cashback__spool *r = open_spool(0, 0);
  cashback__batch b;
  ck_assert_uint_eq(collect_all(r, &b), 1);
  unsigned char all[1] = {1};
  ck_assert_int_eq(cashback__spool_ack(r, &b, all), CASHBACK_E_IO);
  cashback__batch_free(&b);
  cashback__spool_close(w);
  cashback__spool_close(r);
  alarm(0);
}
END_TEST

/* --- The directory under a running shop, symlinks, ownership ------------ */

/* Under a live spool: 0 removes the directory, 1 removes it and makes an
 * empty one in its place, 2 moves it away and makes an empty one. */
static void replace_dir(int how) {
  char cmd[512];
  if (how == 2)
    snprintf(cmd, sizeof(cmd), "mv '%s' '%s.old' && mkdir -m 700 '%s'", dir,
             dir, dir);
  else
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'%s%s%s", dir,
             how ? " && mkdir -m 700 '" : "", how ? dir : "", how ? "'" : "");
  ck_assert_int_eq(system(cmd), 0);
}

START_TEST(reports_after_the_directory_was_replaced_are_kept) {
  for (int how = 0; how < 3; how++) {
    for (int mode = 0; mode < 2; mode++) {
      cashback__spool *s = open_spool_mode(
          0, 0, mode ? CASHBACK_DURABLE_PROCESS : CASHBACK_DURABLE_SYNC);
      char p[64];
      for (int i = 0; i < 3; i++) {
        snprintf(p, sizeof(p), "{\"id\":\"before-%d\"}", i);
        ck_assert_int_eq(put(s, p), CASHBACK_OK);
      }
      replace_dir(how);
      /* Every report that succeeds now must be in the directory the path
       * names: none into a file that lost its name. */
      for (int i = 0; i < 3; i++) {
        snprintf(p, sizeof(p), "{\"id\":\"after-%d\"}", i);
        ck_assert_int_eq(put(s, p), CASHBACK_OK);
      }
      cashback__spool *r = open_spool(0, 0);
      cashback__batch b;
      ck_assert_msg(collect_all(r, &b) == 3,
                    "how %d mode %d: %zu of 3 reports made after the "
                    "directory was replaced are in it",
                    how, mode, b.n);
      for (size_t i = 0; i < 3; i++) {
        snprintf(p, sizeof(p), "{\"id\":\"after-%zu\"}", i);
        ck_assert_int_eq(memcmp(b.data.data + b.items[i].off, p, strlen(p)), 0);
      }
      cashback__batch_free(&b);
      cashback__spool_close(r);
      cashback__spool_close(s);
      char cmd[512];
      snprintf(cmd, sizeof(cmd), "rm -rf '%s' '%s.old'", dir, dir);
      ck_assert_int_eq(system(cmd), 0);
    }
  }
}
END_TEST

START_TEST(a_sender_follows_a_replaced_directory) {
  cashback__spool *r = open_spool(0, 0);
  ck_assert_int_eq(cashback__spool_lock_sender(r), CASHBACK_OK);
  cashback__spool *w = open_spool(0, 0);
  ck_assert_int_eq(put(w, "{\"id\":\"old\"}"), CASHBACK_OK);
  cashback__spool_close(w);
  replace_dir(1);
  w = open_spool(0, 0);
  ck_assert_int_eq(put(w, "{\"id\":\"new\"}"), CASHBACK_OK);
  /* The sender's next step takes the lock of the directory the path names,
   * and drains that one. */
  ck_assert_int_eq(cashback__spool_lock_sender(r), CASHBACK_OK);
  cashback__batch b;
  ck_assert_uint_eq(collect_all(r, &b), 1);
  ck_assert_int_eq(memcmp(b.data.data + b.items[0].off, "{\"id\":\"new\"}", 12),
                   0);
  cashback__batch_free(&b);
  /* And it holds that directory's lock: another sender is refused. */
  cashback__spool *o = open_spool(0, 0);
  ck_assert_int_eq(cashback__spool_lock_sender(o), CASHBACK_E_BUSY);
  cashback__spool_close(o);
  cashback__spool_close(w);
  cashback__spool_close(r);
}
END_TEST

static int keep_none(const char *p, size_t len, int64_t t, void *ud) {
  (void)p;
  (void)len;
  (void)t;
  (void)ud;
  return 0;
}

/* The content of `path` ("" when it cannot be read). */
static void slurp(const char *path, char *out, size_t size) {
  out[0] = '\0';
  FILE *f = fopen(path, "r");
  if (!f)
    return;
  size_t n = fread(out, 1, size - 1, f);
  out[n] = '\0';
  fclose(f);
}

/* Replaces `name` in the spool by a symlink to `target`. */
static void plant(const char *name, const char *target) {
  char path[512];
  snprintf(path, sizeof(path), "%s/%s", dir, name);
  unlink(path);
  ck_assert_int_eq(symlink(target, path), 0);
}

START_TEST(symlinks_planted_in_the_spool_are_not_followed) {
  cashback__spool *s = open_spool(0, 0);
  ck_assert_int_eq(put(s, "{\"id\":\"a\"}"), CASHBACK_OK);
  char victim[256], text[64];
  snprintf(victim, sizeof(victim), "%s/victim", root);
  FILE *f = fopen(victim, "w");
  ck_assert_ptr_nonnull(f);
  fputs("precious\n", f);
  fclose(f);

  plant("quarantine.log", victim);
  ck_assert_int_ne(cashback__quarantine_append(s, "{\"x\":1}", 7, 1),
                   CASHBACK_OK);
  slurp(victim, text, sizeof(text));
  ck_assert_str_eq(text, "precious\n"); /* not appended to */

  char name[256];
  snprintf(name, sizeof(name), "%s/quarantine.log", dir);
  unlink(name);
  plant("quarantine.tmp", victim);
  size_t removed = 0;
  ck_assert_int_ne(cashback__quarantine_filter(s, keep_none, NULL, &removed),
                   CASHBACK_OK);
  slurp(victim, text, sizeof(text));
  ck_assert_str_eq(text, "precious\n"); /* not truncated */

  snprintf(name, sizeof(name), "state.%ld.tmp", (long)getpid());
  plant(name, victim);
  ck_assert_int_ne(cashback__spool_state_write(s, "attempt=1\n"), CASHBACK_OK);
  slurp(victim, text, sizeof(text));
  ck_assert_str_eq(text, "precious\n");

  plant("sender.lock", victim);
  ck_assert_int_eq(cashback__spool_lock_sender(s), CASHBACK_E_IO);

  /* A segment's cursor: moving it must not write through a link. */
  char seg[512], ack[520];
  segment_path(seg, sizeof(seg));
  snprintf(ack, sizeof(ack), "%.*s.ack", (int)(strlen(seg) - 4), seg);
  unlink(ack);
  ck_assert_int_eq(symlink(victim, ack), 0);
  cashback__spool_close(s); /* the segment is closed: ack would delete it */
  cashback__spool *r = open_spool(0, 0);
  cashback__batch b;
  ck_assert_uint_eq(collect_all(r, &b), 1);
  b.segs[0].closed = 0; /* as if still written: its cursor is moved */
  unsigned char all[1] = {1};
  ck_assert_int_eq(cashback__spool_ack(r, &b, all), CASHBACK_E_IO);
  cashback__batch_free(&b);
  slurp(victim, text, sizeof(text));
  ck_assert_str_eq(text, "precious\n");
  cashback__spool_close(r);
}
END_TEST

/* Makes root's test directory usable by `uid` too (traverse only). */
static void open_root_to_others(void) {
  ck_assert_int_eq(chmod(root, 0711), 0);
}

START_TEST(a_spool_others_could_swap_is_refused) {
  char path[256], err[512];
  cashback__spool *s = NULL;
  /* A parent directory anyone may write to (not sticky): refused. */
  snprintf(path, sizeof(path), "%s/open", root);
  ck_assert_int_eq(mkdir(path, 0700), 0);
  ck_assert_int_eq(chmod(path, 0777), 0);
  snprintf(path, sizeof(path), "%s/open/spool", root);
  cashback__spool_config cfg = {path, CASHBACK_DURABLE_SYNC, 0, 0};
  ck_assert_int_eq(cashback__spool_open(&cfg, &s, err, sizeof(err)),
                   CASHBACK_E_IO);
  ck_assert_msg(strstr(err, "writable by other users"), "%s", err);
  /* A sticky one (like /tmp): a spool of ours in it is fine. */
  snprintf(path, sizeof(path), "%s/sticky", root);
  ck_assert_int_eq(mkdir(path, 0700), 0);
  ck_assert_int_eq(chmod(path, 01777), 0);
  snprintf(path, sizeof(path), "%s/sticky/mine", root);
  ck_assert_msg(cashback__spool_open(&cfg, &s, err, sizeof(err)) == CASHBACK_OK,
                "%s", err);
  cashback__spool_close(s);
  /* A symlink we own to a directory we own is followed. */
  char link[256];
  snprintf(link, sizeof(link), "%s/link", root);
  ck_assert_int_eq(symlink("sticky/mine", link), 0);
  cfg.dir = link;
  ck_assert_msg(cashback__spool_open(&cfg, &s, err, sizeof(err)) == CASHBACK_OK,
                "%s", err);
  cashback__spool_close(s);
  if (geteuid() != 0) {
    fprintf(stderr, "spool: another user's spool in /tmp: skipped (needs "
                    "root to make one)\n");
    return;
  }
  /* Someone else made /tmp/x first (mode 0700, hers): refused, not used. */
  struct passwd *pw = getpwnam("nobody");
  ck_assert_ptr_nonnull(pw);
  snprintf(path, sizeof(path), "%s/sticky/x", root);
  ck_assert_int_eq(mkdir(path, 0700), 0);
  ck_assert_int_eq(chown(path, pw->pw_uid, pw->pw_gid), 0);
  cfg.dir = path;
  ck_assert_int_eq(cashback__spool_open(&cfg, &s, err, sizeof(err)),
                   CASHBACK_E_IO);
  ck_assert_msg(strstr(err, "other users may write to"), "%s", err);
  char ls[300];
  snprintf(ls, sizeof(ls), "test -z \"$(ls -A '%s')\"", path);
  ck_assert_int_eq(system(ls), 0); /* nothing created in it */
  /* Her symlink in /tmp pointing at a directory of ours: not followed. */
  snprintf(link, sizeof(link), "%s/sticky/hers", root);
  snprintf(path, sizeof(path), "%s/sticky/mine", root);
  ck_assert_int_eq(symlink(path, link), 0);
  ck_assert_int_eq(lchown(link, pw->pw_uid, pw->pw_gid), 0);
  cfg.dir = link;
  ck_assert_int_eq(cashback__spool_open(&cfg, &s, err, sizeof(err)),
                   CASHBACK_E_IO);
  ck_assert_msg(strstr(err, "symlink"), "%s", err);
}
END_TEST

/* Every entry of the spool directory is owned by `uid`. */
static void all_owned_by(uid_t uid) {
  DIR *d = opendir(dir);
  ck_assert_ptr_nonnull(d);
  struct dirent *de;
  int n = 0;
  while ((de = readdir(d))) {
    if (de->d_name[0] == '.')
      continue;
    char path[512];
    struct stat st;
    snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
    ck_assert_int_eq(lstat(path, &st), 0);
    ck_assert_msg(st.st_uid == uid, "%s is owned by uid %u, not %u", de->d_name,
                  (unsigned)st.st_uid, (unsigned)uid);
    n++;
  }
  closedir(d);
  ck_assert_int_ge(n, 6);
}

START_TEST(files_root_makes_belong_to_the_spool_owner) {
  if (geteuid() != 0) {
    fprintf(stderr, "spool: root and the shop's user: skipped (needs root)\n");
    return;
  }
  struct passwd *pw = getpwnam("nobody");
  ck_assert_ptr_nonnull(pw);
  uid_t uid = pw->pw_uid;
  gid_t gid = pw->pw_gid;
  open_root_to_others();
  ck_assert_int_eq(mkdir(dir, 0700), 0);
  ck_assert_int_eq(chown(dir, uid, gid), 0);
  /* Root reports, sends, writes the state and the quarantine. */
  cashback__spool *s = open_spool(0, 0);
  ck_assert_int_eq(put(s, "{\"id\":\"root-1\"}"), CASHBACK_OK);
  ck_assert_int_eq(put(s, "{\"id\":\"root-2\"}"), CASHBACK_OK);
  ck_assert_int_eq(cashback__spool_lock_sender(s), CASHBACK_OK);
  ck_assert_int_eq(cashback__spool_state_write(s, "attempt=1\n"), CASHBACK_OK);
  ck_assert_int_eq(cashback__quarantine_append(s, "{\"q\":1}", 7, 1),
                   CASHBACK_OK);
  cashback__spool_close(s);
  all_owned_by(uid);
  /* The shop's user goes on with all of it. */
  pid_t pid = fork();
  ck_assert_int_ge(pid, 0);
  if (pid == 0) {
    alarm(10);
    if (setgroups(0, NULL) != 0 || setgid(gid) != 0 || setuid(uid) != 0)
      _exit(10);
    cashback__spool_config cfg = {dir, CASHBACK_DURABLE_SYNC, 0, 0};
    cashback__spool *u = NULL;
    char err[512] = "";
    int rc = 0;
    cashback__batch b;
    cashback__batch_init(&b, 1u << 20);
    if (cashback__spool_open(&cfg, &u, err, sizeof(err)) != CASHBACK_OK)
      rc = 1;
    else if (cashback__spool_lock_sender(u) != CASHBACK_OK)
      rc = 2;
    else if (cashback__spool_collect(u, 100, &b) != CASHBACK_OK || b.n != 2)
      rc = 3;
    else if (cashback__spool_state_write(u, "attempt=2\n") != CASHBACK_OK)
      rc = 4;
    else if (cashback__quarantine_append(u, "{\"q\":2}", 7, 1) != CASHBACK_OK)
      rc = 5;
    else if (put(u, "{\"id\":\"user-1\"}") != CASHBACK_OK)
      rc = 6;
    if (rc)
      fprintf(stderr, "as uid %u: step %d failed: %s\n", (unsigned)uid, rc,
              err);
    _exit(rc);
  }
  int status;
  ck_assert_int_eq(waitpid(pid, &status, 0), pid);
  ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
                "the spool's owner cannot use it after root did (step %d)",
                WIFEXITED(status) ? WEXITSTATUS(status) : -1);
}
END_TEST

/* Replaces `name` in the spool by a hard link to `target`. */
static void plant_hard(const char *name, const char *target) {
  char path[512];
  snprintf(path, sizeof(path), "%s/%s", dir, name);
  unlink(path);
  ck_assert_int_eq(link(target, path), 0);
}

static void unplant(const char *name) {
  char path[512];
  snprintf(path, sizeof(path), "%s/%s", dir, name);
  ck_assert_int_eq(unlink(path), 0);
}

/* Root's file `victim`: still root's, 0644, "precious\n" and linked. */
static void victim_untouched(const char *victim, const char *name) {
  struct stat st;
  char text[64];
  ck_assert_int_eq(stat(victim, &st), 0);
  ck_assert_msg(st.st_uid == 0 && st.st_gid == 0,
                "%s: the target became uid %u's", name, (unsigned)st.st_uid);
  ck_assert_msg((st.st_mode & 07777) == 0644, "%s: the target's mode is %o",
                name, (unsigned)(st.st_mode & 07777));
  slurp(victim, text, sizeof(text));
  ck_assert_msg(strcmp(text, "precious\n") == 0,
                "%s: the target was changed to \"%s\"", name, text);
}

/* As root, in a spool of `nobody`'s: a hard link the owner planted under
 * any name the SDK opens with O_CREAT is refused, its target (root's)
 * neither given away, truncated nor written. (A segment's `.sync` is
 * created with the segment, under a name no one can know beforehand.) */
START_TEST(hard_links_planted_in_the_spool_are_refused) {
  if (geteuid() != 0) {
    fprintf(stderr, "spool: hard links as root: skipped (needs root)\n");
    return;
  }
  struct passwd *pw = getpwnam("nobody");
  ck_assert_ptr_nonnull(pw);
  open_root_to_others();
  ck_assert_int_eq(mkdir(dir, 0700), 0);
  ck_assert_int_eq(chown(dir, pw->pw_uid, pw->pw_gid), 0);
  char victim[256], err[512] = "";
  snprintf(victim, sizeof(victim), "%s/victim", root);
  FILE *f = fopen(victim, "w");
  ck_assert_ptr_nonnull(f);
  fputs("precious\n", f);
  fclose(f);
  ck_assert_int_eq(chmod(victim, 0644), 0);

  /* seq: refused, stamps come from the process's clock (and say why). */
  plant_hard("seq", victim);
  cashback__spool *s = open_spool(0, 0);
  ck_assert_int_eq(put(s, "{\"id\":\"a\"}"), CASHBACK_OK);
  victim_untouched(victim, "seq");
  ck_assert_int_ne(cashback__spool_seq_problem(s, err, sizeof(err)), 0);
  ck_assert_msg(strstr(err, "seq") && strstr(err, "Too many links") &&
                    strstr(err, "euid 0"),
                "%s", err);
  unplant("seq");

  plant_hard("sender.lock", victim);
  ck_assert_int_eq(cashback__spool_take_sender(s, err, sizeof(err)),
                   CASHBACK_E_IO);
  ck_assert_msg(strstr(err, "sender.lock") && strstr(err, "Too many links") &&
                    strstr(err, "uid 0"),
                "%s", err);
  victim_untouched(victim, "sender.lock");
  unplant("sender.lock");

  plant_hard("quarantine.lock", victim);
  ck_assert_int_ne(cashback__quarantine_append(s, "{\"x\":1}", 7, 1),
                   CASHBACK_OK);
  victim_untouched(victim, "quarantine.lock");
  unplant("quarantine.lock");
  plant_hard("quarantine.log", victim);
  ck_assert_int_ne(cashback__quarantine_append(s, "{\"x\":1}", 7, 1),
                   CASHBACK_OK);
  victim_untouched(victim, "quarantine.log");
  unplant("quarantine.log");

  ck_assert_int_eq(cashback__quarantine_append(s, "{\"x\":1}", 7, 1),
                   CASHBACK_OK);
  plant_hard("quarantine.tmp", victim);
  size_t removed = 0;
  ck_assert_int_ne(cashback__quarantine_filter(s, keep_none, NULL, &removed),
                   CASHBACK_OK);
  victim_untouched(victim, "quarantine.tmp");
  unplant("quarantine.tmp");

  char name[256];
  snprintf(name, sizeof(name), "state.%ld.tmp", (long)getpid());
  plant_hard(name, victim);
  ck_assert_int_ne(cashback__spool_state_write(s, "attempt=1\n"), CASHBACK_OK);
  victim_untouched(victim, name);
  unplant(name);

  snprintf(name, sizeof(name), "deferred.%ld.tmp", (long)getpid());
  plant_hard(name, victim);
  ck_assert_int_ne(cashback__spool_file_replace(s, "deferred", "x\n", 2),
                   CASHBACK_OK);
  victim_untouched(victim, name);
  unplant(name);

  /* A segment's cursor, moved while the segment is still written. */
  char seg[512], ack[520];
  segment_path(seg, sizeof(seg));
  snprintf(ack, sizeof(ack), "%.*s.ack", (int)(strlen(seg) - 4), seg);
  const char *ack_base = strrchr(ack, '/') + 1;
  cashback__spool_close(s);
  plant_hard(ack_base, victim);
  cashback__spool *r = open_spool(0, 0);
  cashback__batch b;
  ck_assert_uint_eq(collect_all(r, &b), 1);
  b.segs[0].closed = 0;
  unsigned char all[1] = {1};
  ck_assert_int_eq(cashback__spool_ack(r, &b, all), CASHBACK_E_IO);
  cashback__batch_free(&b);
  victim_untouched(victim, ack_base);
  unplant(ack_base);
  /* Without the links, everything works and is the owner's. */
  ck_assert_int_eq(cashback__spool_take_sender(r, err, sizeof(err)),
                   CASHBACK_OK);
  ck_assert_int_eq(cashback__spool_seq_problem(r, err, sizeof(err)), 0);
  cashback__spool_close(r);
  struct stat st;
  ck_assert_int_eq(stat(victim, &st), 0);
  ck_assert_int_eq(st.st_nlink, 1);
}
END_TEST

/* Another process of the spool stopped while it holds seq's flock: a
 * report here still returns (stamped from this process's clock, the
 * reason in seq_problem) and is collected. alarm() turns a hang into a
 * failure of this test. */
START_TEST(a_stopped_holder_of_seq_does_not_hang_reports) {
  cashback__spool *s = open_spool(0, 0);
  ck_assert_int_eq(put(s, "{\"id\":\"before\"}"), CASHBACK_OK);
  int p[2];
  ck_assert_int_eq(pipe(p), 0);
  pid_t pid = fork();
  ck_assert_int_ge(pid, 0);
  if (pid == 0) {
    alarm(20); /* bounded even if the parent dies */
    char path[256];
    snprintf(path, sizeof(path), "%s/seq", dir);
    int fd = open(path, O_RDWR);
    if (fd < 0 || flock(fd, LOCK_EX) != 0)
      _exit(1);
    if (write(p[1], "x", 1) != 1)
      _exit(2);
    raise(SIGSTOP);
    _exit(0);
  }
  close(p[1]);
  char c;
  ck_assert_int_eq(read(p[0], &c, 1), 1);
  close(p[0]);
  alarm(10);
  ck_assert_int_eq(put(s, "{\"id\":\"during-1\"}"), CASHBACK_OK);
  ck_assert_int_eq(put(s, "{\"id\":\"during-2\"}"), CASHBACK_OK);
  (void)cashback__spool_stamp(s); /* status does not wait either */
  char err[512] = "";
  ck_assert_int_ne(cashback__spool_seq_problem(s, err, sizeof(err)), 0);
  ck_assert_msg(strstr(err, "cannot be locked"), "%s", err);
  pid_t f = fork(); /* the prepare handler takes the spool's mutex */
  ck_assert_int_ge(f, 0);
  if (f == 0)
    _exit(0);
  ck_assert_int_eq(waitpid(f, NULL, 0), f);
  alarm(0);
  kill(pid, SIGKILL);
  ck_assert_int_eq(waitpid(pid, NULL, 0), pid);
  char ids[256];
  collected_ids(s, ids, sizeof(ids));
  ck_assert_str_eq(ids, "before,during-1,during-2");
  cashback__spool_close(s);
}
END_TEST

TCase *cashback_test_spool(void) {
  TCase *tc = tcase_create("spool");
  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_set_timeout(tc, 60);
  tcase_add_test(tc, creates_private_directory);
  tcase_add_test(tc, append_collect_ack_reclaim);
  tcase_add_test(tc, segments_rotate_and_keep_order);
  tcase_add_test(tc, cap_is_a_clear_error_and_frees_up);
  tcase_add_test(tc, capacity_count_needs_no_rescan);
  tcase_add_test(tc, capacity_count_is_shared_by_writers);
  tcase_add_test(tc, capacity_count_drift_is_corrected);
  tcase_add_test(tc, threads_group_commit);
  tcase_add_test(tc, forked_child_writes_its_own_segment);
  tcase_add_test(tc, torn_tail_is_cut_off);
  tcase_add_test(tc, middle_damage_is_skipped_and_counted);
  tcase_add_test(tc, damage_at_a_batch_boundary_is_counted_once);
  tcase_add_test(tc, zero_filled_tail);
  tcase_add_test(tc, partial_tail_of_open_segment_waits);
  tcase_add_test(tc, usage_counts);
  tcase_add_test(tc, usage_counts_headers_up_to_a_damaged_one);
  tcase_add_test(tc, record_peek_reads_a_header_without_its_payload);
  tcase_add_test(tc, quarantine_and_state);
  tcase_add_test(tc, one_sender_at_a_time);
  tcase_add_test(tc, too_big_record);
  tcase_add_test(tc, files_of_a_crashed_setup_are_reclaimed);
  tcase_add_test(tc, sender_reads_an_open_segment_only_as_far_as_durable);
  tcase_add_test(tc, torn_record_before_zeros_is_the_tail);
  tcase_add_test(tc, zeros_in_the_middle_are_damage);
  tcase_add_test(tc, rotation_cuts_a_segment_to_its_data);
  tcase_add_test(tc, old_appended_segment_still_reads);
  tcase_add_test(tc, disk_full_while_writing_ahead);
  tcase_add_test(tc, durable_reports_are_published_to_the_sender);
  tcase_add_test(tc, batch_bytes_are_bounded_but_a_big_record_goes_alone);
  tcase_add_test(tc, followup_in_an_older_segment_goes_after_its_sale);
  tcase_add_test(tc, records_past_the_collection_stamp_wait);
  tcase_add_test(tc, segments_rotate_and_keep_order_on_tmpfs);
  tcase_add_test(tc, rotations_keep_order_with_a_stuck_or_stepped_back_clock);
  tcase_add_test(tc, many_segments_merge_in_stamp_order);
  tcase_add_test(tc, older_records_still_drain_first);
  tcase_add_test(tc, a_read_error_leaves_the_segment_as_it_was);
  tcase_add_test(tc, a_read_error_mid_segment_keeps_the_rest);
  tcase_add_test(tc, usage_counts_a_read_error_as_one);
  tcase_add_test(tc, unreadable_and_odd_files_are_skipped_and_named);
  tcase_add_test(tc, a_fifo_for_a_cursor_does_not_hang);
  tcase_add_test(tc, reports_after_the_directory_was_replaced_are_kept);
  tcase_add_test(tc, a_sender_follows_a_replaced_directory);
  tcase_add_test(tc, symlinks_planted_in_the_spool_are_not_followed);
  tcase_add_test(tc, a_spool_others_could_swap_is_refused);
  tcase_add_test(tc, files_root_makes_belong_to_the_spool_owner);
  tcase_add_test(tc, seq_truncated_under_a_writer_does_not_crash);
  tcase_add_test(tc, stamps_ahead_of_a_lost_seq_do_not_wait);
  tcase_add_test(tc, more_segments_than_a_merge_holds_fill_one_batch);
  tcase_add_test(tc, a_read_error_keeps_newer_records_of_other_segments_back);
  tcase_add_test(tc, a_damaged_head_stamp_does_not_move_a_segment_back);
  tcase_add_test(tc, full_disk_without_seq_is_disk_full_not_a_crash);
  tcase_add_test(tc, seq_created_by_root_belongs_to_the_spool_owner);
  tcase_add_test(tc, hard_links_planted_in_the_spool_are_refused);
  tcase_add_test(tc, a_stopped_holder_of_seq_does_not_hang_reports);
  return tc;
}
