/* The spool on a real file system, in a fresh directory under /tmp. */
#include "cashback_record.h"
#include "cashback_spool.h"
#include "tests.h"

#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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
                                        cashback__durability mode) {
  cashback__spool_config cfg = {dir, mode, max_bytes, seg_bytes};
  cashback__spool *s = NULL;
  char err[256] = "";
  ck_assert_msg(cashback__spool_open(&cfg, &s, err, sizeof(err)) == CASHBACK_OK,
                "%s", err);
  return s;
}

static cashback__spool *open_spool(uint64_t max_bytes, uint64_t seg_bytes) {
  return open_spool_mode(max_bytes, seg_bytes, CASHBACK__DURABLE_SYNC);
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
  cashback__spool_config cfg = {"relative/dir", CASHBACK__DURABLE_SYNC, 0, 0};
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
  ck_assert_int_eq(stored, 64 * 1024 / (1099 + CASHBACK__RECORD_HEADER));
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

/* Writes 5 records, closes the writer, and returns the segment path. */
static void five_closed(char *seg, size_t size, size_t *ends) {
  cashback__spool *w = open_spool(0, 0);
  char p[64];
  for (int i = 0; i < 5; i++) {
    snprintf(p, sizeof(p), "{\"id\":\"r%d\",\"x\":\"0123456789\"}", i);
    ck_assert_int_eq(put(w, p), CASHBACK_OK);
    if (ends) {
      struct stat st;
      segment_path(seg, size);
      stat(seg, &st);
      ends[i] = (size_t)st.st_size;
    }
  }
  cashback__spool_close(w);
  segment_path(seg, size);
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

START_TEST(zero_filled_tail) {
  char seg[512];
  size_t ends[5];
  five_closed(seg, sizeof(seg), ends);
  /* A crash after the size grew but before the data landed leaves zeros. */
  int fd = open(seg, O_WRONLY | O_APPEND);
  char zeros[300] = {0};
  ck_assert_int_eq(write(fd, zeros, sizeof(zeros)), (ssize_t)sizeof(zeros));
  close(fd);
  cashback__spool *r = open_spool(0, 0);
  cashback__batch b;
  ck_assert_uint_eq(collect_all(r, &b), 5);
  ack_all(r, &b);
  cashback__batch_free(&b);
  ck_assert_int_eq(count_files(".log"), 0);
  cashback__spool_close(r);
}
END_TEST

START_TEST(partial_tail_of_open_segment_waits) {
  /* In process mode a sender reads an open segment to its end, where a
   * write may be in progress. */
  cashback__spool *w = open_spool_mode(0, 0, CASHBACK__DURABLE_PROCESS);
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
  ck_assert_int_eq(cashback__spool_usage(s, &ev, &bytes, &oldest), CASHBACK_OK);
  ck_assert_uint_eq(ev, 0);
  char err[64];
  ck_assert_int_eq(cashback__spool_append(s, "{\"a\":1}", 7, 5000, err, 64),
                   CASHBACK_OK);
  ck_assert_int_eq(cashback__spool_append(s, "{\"a\":2}", 7, 3000, err, 64),
                   CASHBACK_OK);
  ck_assert_int_eq(cashback__spool_usage(s, &ev, &bytes, &oldest), CASHBACK_OK);
  ck_assert_uint_eq(ev, 2);
  ck_assert_uint_eq(bytes, 2 * (7 + CASHBACK__RECORD_HEADER));
  ck_assert_int_eq(oldest, 3000);
  cashback__spool_close(s);
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
                   CASHBACK_OK);
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
  char path[256];
  struct stat st;
  snprintf(path, sizeof(path), "%s/%s", dir, name);
  return stat(path, &st) == 0;
}

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

START_TEST(sender_reads_an_open_segment_only_as_far_as_durable) {
  cashback__spool *w = open_spool(0, 0);
  ck_assert_int_eq(put(w, "{\"id\":\"one\"}"), CASHBACK_OK);
  char seg[512];
  segment_path(seg, sizeof(seg));
  /* A record written but not (yet, or never) made durable, as when its
   * fdatasync is in progress or failed: whole, valid, and not to be sent. */
  uint8_t rec[64];
  cashback__record_header(rec, "{\"id\":\"two\"}", 12, 5);
  memcpy(rec + CASHBACK__RECORD_HEADER, "{\"id\":\"two\"}", 12);
  int fd = open(seg, O_WRONLY | O_APPEND);
  ck_assert_int_eq(write(fd, rec, CASHBACK__RECORD_HEADER + 12),
                   CASHBACK__RECORD_HEADER + 12);
  close(fd);
  cashback__spool *r = open_spool(0, 0);
  cashback__batch b;
  ck_assert_uint_eq(collect_all(r, &b), 1);
  ck_assert_ptr_null(memmem(b.data.data, b.data.len, "two", 3));
  cashback__batch_free(&b);
  /* Once the writer is gone the segment is closed and read whole: a
   * writer that died never told anyone its report failed. */
  cashback__spool_close(w);
  ck_assert_uint_eq(collect_all(r, &b), 2);
  ack_all(r, &b);
  cashback__batch_free(&b);
  ck_assert_int_eq(count_files(".sync"), 0);
  cashback__spool_close(r);
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
  tcase_add_test(tc, threads_group_commit);
  tcase_add_test(tc, forked_child_writes_its_own_segment);
  tcase_add_test(tc, torn_tail_is_cut_off);
  tcase_add_test(tc, middle_damage_is_skipped_and_counted);
  tcase_add_test(tc, damage_at_a_batch_boundary_is_counted_once);
  tcase_add_test(tc, zero_filled_tail);
  tcase_add_test(tc, partial_tail_of_open_segment_waits);
  tcase_add_test(tc, usage_counts);
  tcase_add_test(tc, quarantine_and_state);
  tcase_add_test(tc, one_sender_at_a_time);
  tcase_add_test(tc, too_big_record);
  tcase_add_test(tc, files_of_a_crashed_setup_are_reclaimed);
  tcase_add_test(tc, sender_reads_an_open_segment_only_as_far_as_durable);
  tcase_add_test(tc, durable_reports_are_published_to_the_sender);
  tcase_add_test(tc, batch_bytes_are_bounded_but_a_big_record_goes_alone);
  return tc;
}
