/* Unit tests for sdk/cashback_ledger.c: sales, refunds applied once each by
 * their event id, the new total a profile asks for, states, the bound and
 * pruning, a torn or damaged log, a compaction interrupted at each step, a
 * reader in another process during compactions, and files that are not a
 * ledger. */
#include "cashback_client.h"
#include "cashback_ledger.h"
#include "cashback_record.h"
#include "receiver.h"
#include "tests.h"

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define SALE1 "5a1e000000000000000000000000000a"
#define SALE2 "5a1e000000000000000000000000000b"
#define REF_A "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define REF_B "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
#define REF_C "cccccccccccccccccccccccccccccccc"
#define DAY_MS (24 * 3600 * 1000LL)
#define WINDOW_MS (30 * DAY_MS)

typedef struct fx {
  char root[64];
  char dir[96];
  char file[128];
  cashback__spool *s;
} fx;

static void fx_open(fx *f) {
  snprintf(f->root, sizeof(f->root), "/tmp/cbledger-XXXXXX");
  ck_assert_ptr_nonnull(mkdtemp(f->root));
  snprintf(f->dir, sizeof(f->dir), "%s/spool", f->root);
  snprintf(f->file, sizeof(f->file), "%s/ledger.log", f->dir);
  cashback__spool_config cfg = {f->dir, CASHBACK_DURABLE_PROCESS, 0, 0};
  char err[256];
  ck_assert_int_eq(cashback__spool_open(&cfg, &f->s, err, sizeof(err)),
                   CASHBACK_OK);
}

static void fx_close(fx *f) {
  cashback__spool_close(f->s);
  char cmd[128];
  snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->root);
  ck_assert_int_eq(system(cmd), 0);
}

static cashback__ledger *open_ledger(fx *f, size_t max, int64_t window) {
  cashback__ledger *l = NULL;
  char err[256];
  ck_assert_int_eq(
      cashback__ledger_open(f->s, max, window, &l, err, sizeof(err)),
      CASHBACK_OK);
  cashback__ledger_set_sync(l, 0);
  return l;
}

static cashback_status change(cashback__ledger *l, cashback_event_type type,
                              const char *order, const char *id,
                              const char *cur, int64_t amount, int64_t now) {
  cashback__ledger_change ch = {
      .type = type,
      .order_id = order,
      .event_id = id,
      .currency = cur,
      .amount_minor = amount,
      .order_time =
          type == CASHBACK_EVENT_SALE ? "2026-12-01T10:15:00+01:00" : NULL,
      .utc_offset_min = type == CASHBACK_EVENT_SALE ? 60 : 0,
  };
  char err[256];
  return cashback__ledger_apply(l, &ch, now, err, sizeof(err));
}

static void apply_ok(cashback__ledger *l, cashback_event_type type,
                     const char *order, const char *id, const char *cur,
                     int64_t amount, int64_t now) {
  ck_assert_int_eq(change(l, type, order, id, cur, amount, now), CASHBACK_OK);
}

static off_t file_size(const char *path) {
  struct stat sb;
  return stat(path, &sb) == 0 ? sb.st_size : -1;
}

/* An id "<prefix>" padded with hex digits of i to 32. */
static void event_id(char out[33], unsigned tag, unsigned i) {
  snprintf(out, 33, "%08x%08x0000000000000000", tag, i);
}

START_TEST(ledger_refunds_once_each_and_new_total) {
  fx f;
  fx_open(&f);
  cashback__ledger *l = open_ledger(&f, 0, WINDOW_MS);
  int64_t total = -1;
  ck_assert_int_eq(cashback__ledger_new_total(l, "1001", REF_A, 1000, &total),
                   CASHBACK_E_NOT_FOUND);
  apply_ok(l, CASHBACK_EVENT_SALE, "1001", SALE1, "EUR", 4990, 1000);
  /* Asked before sending, and again on every retry: the same answer. */
  for (int i = 0; i < 3; i++) {
    ck_assert_int_eq(cashback__ledger_new_total(l, "1001", REF_A, 1000, &total),
                     CASHBACK_OK);
    ck_assert_int_eq(total, 3990);
  }
  apply_ok(l, CASHBACK_EVENT_REFUND, "1001", REF_A, "EUR", 1000, 2000);
  /* Applied: the same refund is in the total once. */
  ck_assert_int_eq(cashback__ledger_new_total(l, "1001", REF_A, 1000, &total),
                   CASHBACK_OK);
  ck_assert_int_eq(total, 3990);
  ck_assert_int_eq(cashback__ledger_new_total(l, "1001", REF_B, 500, &total),
                   CASHBACK_OK);
  ck_assert_int_eq(total, 3490);
  /* The same event again changes nothing, and writes nothing. */
  off_t before = file_size(f.file);
  apply_ok(l, CASHBACK_EVENT_REFUND, "1001", REF_A, "EUR", 1000, 3000);
  apply_ok(l, CASHBACK_EVENT_SALE, "1001", SALE1, "EUR", 4990, 3000);
  ck_assert_int_eq(file_size(f.file), before);
  apply_ok(l, CASHBACK_EVENT_REFUND, "1001", REF_B, "EUR", 500, 4000);
  cashback__ledger_order o;
  ck_assert_int_eq(cashback__ledger_get(l, "1001", &o), 1);
  ck_assert_int_eq(o.sale_minor, 4990);
  ck_assert_int_eq(o.refunded_minor, 1500);
  ck_assert_uint_eq(o.refunds, 2);
  ck_assert_str_eq(o.currency, "EUR");
  ck_assert_str_eq(o.order_time, "2026-12-01T10:15:00+01:00");
  ck_assert_int_eq(o.utc_offset_min, 60);
  ck_assert_int_eq(o.state, CASHBACK__LEDGER_OPEN);
  ck_assert_int_eq(o.updated_ms, 4000);
  /* A refund in another currency is refused, nothing changes. */
  ck_assert_int_eq(
      change(l, CASHBACK_EVENT_REFUND, "1001", REF_C, "USD", 100, 5000),
      CASHBACK_E_CURRENCY);
  /* More than the sale: the total stops at 0. */
  ck_assert_int_eq(cashback__ledger_new_total(l, "1001", REF_C, 999999, &total),
                   CASHBACK_OK);
  ck_assert_int_eq(total, 0);
  /* A remote reference a profile records; then cancel and confirm. */
  cashback__ledger_change ch = {.type = CASHBACK_EVENT_CANCEL,
                                .order_id = "1001",
                                .event_id = SALE2,
                                .remote_ref = "job-42"};
  ck_assert_int_eq(cashback__ledger_apply(l, &ch, 6000, NULL, 0), CASHBACK_OK);
  /* A cancel or confirm of an order it does not hold records nothing. */
  apply_ok(l, CASHBACK_EVENT_CONFIRM, "2002", SALE2, NULL, 0, 6000);
  ck_assert_int_eq(cashback__ledger_get(l, "2002", &o), 0);
  /* Refunds before the sale: kept, no total until the sale comes. */
  apply_ok(l, CASHBACK_EVENT_REFUND, "3003", REF_A, "EUR", 300, 7000);
  ck_assert_int_eq(cashback__ledger_new_total(l, "3003", REF_B, 1, &total),
                   CASHBACK_E_NOT_FOUND);
  apply_ok(l, CASHBACK_EVENT_SALE, "3003", SALE2, "EUR", 1000, 8000);
  ck_assert_int_eq(cashback__ledger_new_total(l, "3003", REF_B, 100, &total),
                   CASHBACK_OK);
  ck_assert_int_eq(total, 600);
  /* Bad changes are named. */
  char err[256];
  cashback__ledger_change bad = {.type = CASHBACK_EVENT_REFUND,
                                 .order_id = "1001",
                                 .event_id = "xyz",
                                 .currency = "EUR",
                                 .amount_minor = 1};
  ck_assert_int_eq(cashback__ledger_apply(l, &bad, 1, err, sizeof(err)),
                   CASHBACK_E_FIELD);
  ck_assert_ptr_nonnull(strstr(err, "event_id"));
  bad.event_id = REF_C;
  bad.amount_minor = 0;
  ck_assert_int_eq(cashback__ledger_apply(l, &bad, 1, err, sizeof(err)),
                   CASHBACK_E_FIELD);
  ck_assert_ptr_nonnull(strstr(err, "amount"));
  ck_assert_int_eq(
      cashback__ledger_new_total(l, "1001", "NOT-HEX-0000000000000000000000000",
                                 1, &total),
      CASHBACK_E_INVALID_ARGUMENT);

  /* Another object (another process) reads the same. */
  cashback__ledger *r = open_ledger(&f, 0, WINDOW_MS);
  ck_assert_int_eq(cashback__ledger_get(r, "1001", &o), 1);
  ck_assert_int_eq(o.refunded_minor, 1500);
  ck_assert_uint_eq(o.refunds, 2);
  ck_assert_int_eq(o.state, CASHBACK__LEDGER_CANCELLED);
  ck_assert_str_eq(o.remote_ref, "job-42");
  ck_assert_int_eq(cashback__ledger_get(r, "3003", &o), 1);
  ck_assert_int_eq(o.has_sale, 1);
  ck_assert_int_eq(o.refunded_minor, 300);
  ck_assert_int_eq(cashback__ledger_get(r, "2002", &o), 0);
  cashback__ledger_free(r);
  cashback__ledger_free(l);
  fx_close(&f);
}
END_TEST

START_TEST(ledger_refunds_per_order_are_bounded) {
  fx f;
  fx_open(&f);
  cashback__ledger *l = open_ledger(&f, 0, WINDOW_MS);
  apply_ok(l, CASHBACK_EVENT_SALE, "1", SALE1, "EUR", 1000000, 1);
  char id[33];
  for (unsigned i = 0; i < CASHBACK__LEDGER_REFUNDS_MAX; i++) {
    event_id(id, 1, i);
    apply_ok(l, CASHBACK_EVENT_REFUND, "1", id, "EUR", 10, 2 + i);
  }
  event_id(id, 1, 1000);
  int64_t total;
  ck_assert_int_eq(cashback__ledger_new_total(l, "1", id, 10, &total),
                   CASHBACK_E_TOO_BIG);
  ck_assert_int_eq(change(l, CASHBACK_EVENT_REFUND, "1", id, "EUR", 10, 500),
                   CASHBACK_E_TOO_BIG);
  event_id(id, 1, 5); /* one applied already still answers */
  ck_assert_int_eq(cashback__ledger_new_total(l, "1", id, 10, &total),
                   CASHBACK_OK);
  ck_assert_int_eq(total, 1000000 - 10 * CASHBACK__LEDGER_REFUNDS_MAX);
  cashback__ledger_free(l);
  fx_close(&f);
}
END_TEST

/* Cuts `n` bytes off the end of a file. */
static void cut(const char *path, off_t n) {
  off_t sz = file_size(path);
  ck_assert_int_ge(sz, n);
  ck_assert_int_eq(truncate(path, sz - n), 0);
}

START_TEST(ledger_torn_tail_is_ignored_and_rewritten) {
  fx f;
  fx_open(&f);
  cashback__ledger *l = open_ledger(&f, 0, WINDOW_MS);
  apply_ok(l, CASHBACK_EVENT_SALE, "1", SALE1, "EUR", 100, 1);
  apply_ok(l, CASHBACK_EVENT_SALE, "2", SALE2, "EUR", 200, 2);
  off_t two = file_size(f.file);
  apply_ok(l, CASHBACK_EVENT_REFUND, "2", REF_A, "EUR", 50, 3);
  cashback__ledger_free(l);
  off_t three = file_size(f.file);
  cut(f.file, (three - two) / 2); /* a writer killed inside write() */

  l = open_ledger(&f, 0, WINDOW_MS);
  cashback__ledger_stats st;
  cashback__ledger_stats_get(l, &st);
  ck_assert_uint_eq(st.orders, 2);
  ck_assert_uint_gt(st.torn_bytes, 0);
  ck_assert_uint_eq(st.damaged, 0);
  cashback__ledger_order o;
  ck_assert_int_eq(cashback__ledger_get(l, "2", &o), 1);
  ck_assert_uint_eq(o.refunds, 0); /* the torn refund is not there */
  /* The next write starts from a clean copy: nothing torn in the middle. */
  apply_ok(l, CASHBACK_EVENT_REFUND, "2", REF_A, "EUR", 50, 4);
  cashback__ledger_free(l);
  l = open_ledger(&f, 0, WINDOW_MS);
  cashback__ledger_stats_get(l, &st);
  ck_assert_uint_eq(st.orders, 2);
  ck_assert_uint_eq(st.torn_bytes, 0);
  ck_assert_uint_eq(st.damaged, 0);
  ck_assert_int_eq(cashback__ledger_get(l, "2", &o), 1);
  ck_assert_int_eq(o.refunded_minor, 50);
  cashback__ledger_free(l);
  fx_close(&f);
}
END_TEST

START_TEST(ledger_damage_is_skipped_and_counted) {
  fx f;
  fx_open(&f);
  cashback__ledger *l = open_ledger(&f, 0, WINDOW_MS);
  apply_ok(l, CASHBACK_EVENT_SALE, "1", SALE1, "EUR", 100, 1);
  apply_ok(l, CASHBACK_EVENT_SALE, "2", SALE2, "EUR", 200, 2);
  cashback__ledger_free(l);
  /* One byte of the first record's payload flipped. */
  int fd = open(f.file, O_RDWR);
  ck_assert_int_ge(fd, 0);
  char c;
  ck_assert_int_eq(pread(fd, &c, 1, CASHBACK__RECORD_HEADER + 3), 1);
  c ^= 0x20;
  ck_assert_int_eq(pwrite(fd, &c, 1, CASHBACK__RECORD_HEADER + 3), 1);
  close(fd);
  l = open_ledger(&f, 0, WINDOW_MS);
  cashback__ledger_stats st;
  cashback__ledger_stats_get(l, &st);
  ck_assert_uint_eq(st.damaged, 1);
  ck_assert_uint_eq(st.orders, 1);
  cashback__ledger_order o;
  ck_assert_int_eq(cashback__ledger_get(l, "1", &o), 0);
  ck_assert_int_eq(cashback__ledger_get(l, "2", &o), 1);
  cashback__ledger_free(l);
  fx_close(&f);
}
END_TEST

/* Writes a record with `payload` at the end of the ledger file. */
static void add_raw(const char *path, const char *payload) {
  size_t total;
  uint8_t *rec = cashback__record_encode(payload, strlen(payload), 1, &total);
  ck_assert_ptr_nonnull(rec);
  int fd = open(path, O_WRONLY | O_CREAT | O_APPEND, 0600);
  ck_assert_int_ge(fd, 0);
  ck_assert_int_eq(write(fd, rec, total), (ssize_t)total);
  close(fd);
  free(rec);
}

START_TEST(ledger_bad_files_are_named_and_never_crash) {
  fx f;
  fx_open(&f);
  cashback__ledger *l = NULL;
  char err[256];
  /* A FIFO: no hang, the file named. */
  ck_assert_int_eq(mkfifo(f.file, 0600), 0);
  ck_assert_int_eq(
      cashback__ledger_open(f.s, 0, WINDOW_MS, &l, err, sizeof(err)),
      CASHBACK_E_IO);
  ck_assert_ptr_null(l);
  ck_assert_ptr_nonnull(strstr(err, "ledger.log"));
  ck_assert_ptr_nonnull(strstr(err, "not a regular file"));
  unlink(f.file);
  /* A symlink is not followed. */
  char target[128];
  snprintf(target, sizeof(target), "%s/elsewhere", f.root);
  add_raw(target, "{\"v\":1,\"o\":\"9\",\"st\":\"open\",\"u\":1,\"cur\":"
                  "\"EUR\",\"r\":[[\"" REF_A "\",5,\"EUR\"]]}");
  ck_assert_int_eq(symlink(target, f.file), 0);
  ck_assert_int_eq(
      cashback__ledger_open(f.s, 0, WINDOW_MS, &l, err, sizeof(err)),
      CASHBACK_E_IO);
  ck_assert_ptr_nonnull(strstr(err, "cannot open"));
  unlink(f.file);
  /* Not a ledger at all: read as damage, no order. */
  FILE *fp = fopen(f.file, "w");
  ck_assert_ptr_nonnull(fp);
  fputs("this is not a ledger\n", fp);
  fclose(fp);
  l = open_ledger(&f, 0, WINDOW_MS);
  cashback__ledger_stats st;
  cashback__ledger_stats_get(l, &st);
  ck_assert_uint_eq(st.orders, 0);
  ck_assert_uint_eq(st.damaged, 1);
  cashback__ledger_free(l);
  unlink(f.file);
  /* Whole records whose payload is not understood: counted, skipped. */
  const char *bad[] = {
      "not json",
      "{\"v\":2,\"o\":\"1\",\"st\":\"open\",\"u\":1,\"cur\":\"EUR\"}",
      "{\"v\":1,\"o\":\"\",\"gone\":1}",
      "{\"v\":1,\"o\":\"1\",\"st\":\"lost\",\"u\":1,\"sale\":{\"id\":\"" SALE1
      "\",\"cur\":\"EUR\",\"amt\":1,\"ot\":\"\",\"off\":0}}",
      "{\"v\":1,\"o\":\"1\",\"st\":\"open\",\"u\":1,\"sale\":{\"id\":\"" SALE1
      "\",\"cur\":\"EUR\",\"amt\":1.5,\"ot\":\"\",\"off\":0}}",
      "{\"v\":1,\"o\":\"1\",\"st\":\"open\",\"u\":1,\"cur\":\"EUR\",\"r\":[["
      "\"" REF_A "\",5,\"EUR\"],[\"" REF_A "\",5,\"EUR\"]]}",
      "{\"v\":1,\"o\":\"1\",\"st\":\"open\",\"u\":1,\"cur\":\"EUR\"}",
      "[1,2,3]",
  };
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
    add_raw(f.file, bad[i]);
  add_raw(f.file, "{\"v\":1,\"o\":\"7\",\"st\":\"open\",\"u\":1,\"sale\":{"
                  "\"id\":\"" SALE1 "\",\"cur\":\"EUR\",\"amt\":700,\"ot\":"
                  "\"\",\"off\":0}}");
  l = open_ledger(&f, 0, WINDOW_MS);
  cashback__ledger_stats_get(l, &st);
  ck_assert_uint_eq(st.bad_records, sizeof(bad) / sizeof(bad[0]));
  ck_assert_uint_eq(st.orders, 1);
  cashback__ledger_order o;
  ck_assert_int_eq(cashback__ledger_get(l, "7", &o), 1);
  ck_assert_int_eq(o.sale_minor, 700);
  cashback__ledger_free(l);
  fx_close(&f);
}
END_TEST

/* Compacts with a crash right after `step`; the ledger must read the same
 * (from the old file or the new one), and the next writer goes on. */
static void crash_compaction(int step) {
  fx f;
  fx_open(&f);
  cashback__ledger *l = open_ledger(&f, 0, WINDOW_MS);
  char id[33], order[16];
  for (unsigned i = 0; i < 20; i++) {
    snprintf(order, sizeof(order), "o%u", i % 5);
    event_id(id, 2, i);
    apply_ok(l, i < 5 ? CASHBACK_EVENT_SALE : CASHBACK_EVENT_REFUND, order, id,
             "EUR", i < 5 ? 10000 : 10 + i, 100 + i);
  }
  cashback__ledger_set_crash_at(l, step);
  ck_assert_int_eq(cashback__ledger_compact(l), CASHBACK_E_IO);
  cashback__ledger_free(l);

  cashback__ledger *r = open_ledger(&f, 0, WINDOW_MS);
  cashback__ledger_stats st;
  cashback__ledger_stats_get(r, &st);
  ck_assert_uint_eq(st.orders, 5);
  ck_assert_uint_eq(st.damaged + st.bad_records + st.torn_bytes, 0);
  for (unsigned k = 0; k < 5; k++) {
    cashback__ledger_order o;
    snprintf(order, sizeof(order), "o%u", k);
    ck_assert_int_eq(cashback__ledger_get(r, order, &o), 1);
    ck_assert_int_eq(o.sale_minor, 10000);
    ck_assert_uint_eq(o.refunds, 3);
    int64_t sum = 0;
    for (unsigned i = 5 + k; i < 20; i += 5)
      sum += 10 + i;
    ck_assert_int_eq(o.refunded_minor, sum);
  }
  /* The next writer compacts over what the crash left. */
  cashback__ledger_set_compact_min(r, 0);
  ck_assert_int_eq(cashback__ledger_compact(r), CASHBACK_OK);
  char tmp[160];
  snprintf(tmp, sizeof(tmp), "%s/ledger.%ld.tmp", f.dir, (long)getpid());
  ck_assert_int_eq(file_size(tmp), -1);
  apply_ok(r, CASHBACK_EVENT_CANCEL, "o1", SALE1, NULL, 0, 500);
  cashback__ledger_free(r);
  r = open_ledger(&f, 0, WINDOW_MS);
  cashback__ledger_order o;
  ck_assert_int_eq(cashback__ledger_get(r, "o1", &o), 1);
  ck_assert_int_eq(o.state, CASHBACK__LEDGER_CANCELLED);
  cashback__ledger_stats_get(r, &st);
  ck_assert_uint_eq(st.orders, 5);
  cashback__ledger_free(r);
  fx_close(&f);
}

START_TEST(ledger_compaction_interrupted_at_each_step) {
  for (int step = 1; step <= 4; step++)
    crash_compaction(step);
}
END_TEST

START_TEST(ledger_compacts_past_twice_its_live_size) {
  fx f;
  fx_open(&f);
  cashback__ledger *l = open_ledger(&f, 0, WINDOW_MS);
  cashback__ledger_set_compact_min(l, 0);
  apply_ok(l, CASHBACK_EVENT_SALE, "1", SALE1, "EUR", 100000, 1);
  char id[33];
  cashback__ledger_stats st;
  for (unsigned i = 0; i < 50; i++) {
    event_id(id, 3, i);
    apply_ok(l, CASHBACK_EVENT_REFUND, "1", id, "EUR", 1, 2 + i);
    cashback__ledger_stats_get(l, &st);
    ck_assert_uint_le(st.file_bytes, 2 * st.live_bytes);
    ck_assert_int_eq(file_size(f.file), (off_t)st.file_bytes);
  }
  ck_assert_uint_gt(st.compactions, 5);
  cashback__ledger_free(l);
  fx_close(&f);
}
END_TEST

START_TEST(ledger_bound_and_pruning) {
  fx f;
  fx_open(&f);
  cashback__ledger *l = open_ledger(&f, 3, 1000);
  apply_ok(l, CASHBACK_EVENT_SALE, "a", SALE1, "EUR", 1, 100);
  apply_ok(l, CASHBACK_EVENT_SALE, "b", SALE1, "EUR", 2, 200);
  apply_ok(l, CASHBACK_EVENT_SALE, "c", SALE1, "EUR", 3, 300);
  apply_ok(l, CASHBACK_EVENT_REFUND, "a", REF_A, "EUR", 1, 400); /* a: newer */
  apply_ok(l, CASHBACK_EVENT_SALE, "d", SALE1, "EUR", 4, 500);
  cashback__ledger_order o;
  ck_assert_int_eq(cashback__ledger_get(l, "b", &o), 0); /* oldest update */
  ck_assert_int_eq(cashback__ledger_get(l, "a", &o), 1);
  cashback__ledger_stats st;
  cashback__ledger_stats_get(l, &st);
  ck_assert_uint_eq(st.orders, 3);
  ck_assert_uint_eq(st.evicted, 1);
  /* Another reader sees the bound too. */
  cashback__ledger *r = open_ledger(&f, 3, 1000);
  ck_assert_int_eq(cashback__ledger_get(r, "b", &o), 0);
  cashback__ledger_stats_get(r, &st);
  ck_assert_uint_eq(st.orders, 3);
  cashback__ledger_free(r);

  /* The window: c (300) goes at 1300, d (500) at 1500; a confirmed order
   * stays a day after its confirm. */
  apply_ok(l, CASHBACK_EVENT_CONFIRM, "a", SALE2, NULL, 0, 600);
  ck_assert_int_eq(cashback__ledger_prune(l, 1299), CASHBACK_OK);
  ck_assert_int_eq(cashback__ledger_get(l, "c", &o), 1);
  ck_assert_int_eq(cashback__ledger_prune(l, 1300), CASHBACK_OK);
  ck_assert_int_eq(cashback__ledger_get(l, "c", &o), 0);
  ck_assert_int_eq(cashback__ledger_get(l, "d", &o), 1);
  ck_assert_int_eq(cashback__ledger_prune(l, 1500), CASHBACK_OK);
  ck_assert_int_eq(cashback__ledger_get(l, "d", &o), 0);
  ck_assert_int_eq(cashback__ledger_get(l, "a", &o), 1);
  ck_assert_int_eq(o.state, CASHBACK__LEDGER_CONFIRMED);
  ck_assert_int_eq(
      cashback__ledger_prune(l, 600 + CASHBACK__LEDGER_CONFIRMED_KEEP_MS - 1),
      CASHBACK_OK);
  ck_assert_int_eq(cashback__ledger_get(l, "a", &o), 1);
  ck_assert_int_eq(
      cashback__ledger_prune(l, 600 + CASHBACK__LEDGER_CONFIRMED_KEEP_MS),
      CASHBACK_OK);
  ck_assert_int_eq(cashback__ledger_get(l, "a", &o), 0);
  cashback__ledger_stats_get(l, &st);
  ck_assert_uint_eq(st.orders, 0);
  ck_assert_uint_eq(st.pruned, 3);
  int64_t total;
  ck_assert_int_eq(cashback__ledger_new_total(l, "a", REF_B, 1, &total),
                   CASHBACK_E_NOT_FOUND);
  cashback__ledger_free(l);
  r = open_ledger(&f, 3, 1000);
  cashback__ledger_stats_get(r, &st);
  ck_assert_uint_eq(st.orders, 0);
  cashback__ledger_free(r);
  fx_close(&f);
}
END_TEST

/* A reader in another process while the writer appends and compacts
 * (compact_min 0: a rewrite every few changes): every read sees every
 * order made before the fork, refunds only grow, and nothing is damaged. */
START_TEST(ledger_reader_in_another_process_during_compactions) {
  fx f;
  fx_open(&f);
  cashback__ledger *l = open_ledger(&f, 0, WINDOW_MS);
  cashback__ledger_set_compact_min(l, 0);
  apply_ok(l, CASHBACK_EVENT_SALE, "A", SALE1, "EUR", 1000000, 1);
  apply_ok(l, CASHBACK_EVENT_SALE, "B", SALE2, "EUR", 1000000, 2);
  int done[2];
  ck_assert_int_eq(pipe(done), 0);
  pid_t pid = fork();
  ck_assert_int_ge(pid, 0);
  if (pid == 0) {
    close(done[1]);
    fcntl(done[0], F_SETFL, O_NONBLOCK);
    int bad = 0;
    size_t last = 0;
    cashback__ledger *keep = NULL;
    char err[256];
    if (cashback__ledger_open(f.s, 0, WINDOW_MS, &keep, err, sizeof(err)) !=
        CASHBACK_OK)
      _exit(2);
    for (int i = 0; i < 20000 && !bad; i++) {
      char c;
      if (read(done[0], &c, 1) == 0)
        break; /* the writer is done */
      cashback__ledger *fresh = NULL;
      cashback__ledger_order a, b;
      cashback__ledger_stats st;
      if (cashback__ledger_open(f.s, 0, WINDOW_MS, &fresh, err, sizeof(err)) !=
              CASHBACK_OK ||
          !cashback__ledger_get(fresh, "A", &a) ||
          !cashback__ledger_get(fresh, "B", &b))
        bad = 3;
      if (fresh) {
        cashback__ledger_stats_get(fresh, &st);
        if (st.damaged || st.bad_records)
          bad = 4;
      }
      cashback__ledger_free(fresh);
      if (!bad && (!cashback__ledger_get(keep, "A", &a) ||
                   !cashback__ledger_get(keep, "B", &b) || a.refunds < last))
        bad = 5;
      last = a.refunds;
    }
    cashback__ledger_free(keep);
    _exit(bad);
  }
  close(done[0]);
  char id[33];
  for (unsigned i = 0; i < 2 * CASHBACK__LEDGER_REFUNDS_MAX - 2; i++) {
    event_id(id, 4, i);
    apply_ok(l, CASHBACK_EVENT_REFUND, i % 2 ? "B" : "A", id, "EUR", 1, 10 + i);
  }
  close(done[1]);
  int status = 0;
  ck_assert_int_eq(waitpid(pid, &status, 0), pid);
  ck_assert(WIFEXITED(status));
  ck_assert_int_eq(WEXITSTATUS(status), 0);
  cashback__ledger_stats st;
  cashback__ledger_stats_get(l, &st);
  ck_assert_uint_gt(st.compactions, 10);
  cashback__ledger_free(l);
  fx_close(&f);
}
END_TEST

START_TEST(ledger_applies_wire_events) {
  fx f;
  fx_open(&f);
  cashback__ledger *l = open_ledger(&f, 0, WINDOW_MS);
  const char *sale =
      "{\"id\":\"" SALE1 "\",\"type\":\"sale\",\"order_id\":\"1001\","
      "\"reported_at\":\"2026-12-01T09:16:00Z\",\"order_time\":"
      "\"2026-12-01T10:15:00+01:00\",\"amount\":4990,\"currency\":\"EUR\"}";
  const char *refund =
      "{\"id\":\"" REF_A "\",\"type\":\"refund\",\"order_id\":\"1001\","
      "\"reported_at\":\"2026-12-02T09:16:00Z\",\"order_time\":"
      "\"2026-12-02T09:16:00Z\",\"amount\":1000,\"currency\":\"EUR\","
      "\"refund_id\":\"CN-7\"}";
  const char *cancel = "{\"id\":\"" REF_B "\",\"type\":\"cancel\","
                       "\"order_id\":\"1001\",\"order_time\":"
                       "\"2026-12-03T09:16:00Z\"}";
  char err[256];
  ck_assert_int_eq(
      cashback__ledger_apply_event(l, sale, strlen(sale), 1, err, sizeof(err)),
      CASHBACK_OK);
  ck_assert_int_eq(cashback__ledger_apply_event(l, refund, strlen(refund), 2,
                                                err, sizeof(err)),
                   CASHBACK_OK);
  cashback__ledger_order o;
  ck_assert_int_eq(cashback__ledger_get(l, "1001", &o), 1);
  ck_assert_int_eq(o.sale_minor, 4990);
  ck_assert_int_eq(o.refunded_minor, 1000);
  ck_assert_str_eq(o.order_time, "2026-12-01T10:15:00+01:00");
  ck_assert_int_eq(o.utc_offset_min, 60);
  ck_assert_int_eq(cashback__ledger_apply_event(l, cancel, strlen(cancel), 3,
                                                err, sizeof(err)),
                   CASHBACK_OK);
  ck_assert_int_eq(cashback__ledger_get(l, "1001", &o), 1);
  ck_assert_int_eq(o.state, CASHBACK__LEDGER_CANCELLED);
  ck_assert_int_eq(
      cashback__ledger_apply_event(l, "{\"x\":", 5, 4, err, sizeof(err)),
      CASHBACK_E_FIELD);
  ck_assert_ptr_nonnull(strstr(err, "not an event"));
  const char *odd = "{\"id\":\"" REF_C "\",\"type\":\"refund\",\"order_id\":"
                    "\"1001\",\"amount\":1.5,\"currency\":\"EUR\"}";
  ck_assert_int_eq(
      cashback__ledger_apply_event(l, odd, strlen(odd), 5, err, sizeof(err)),
      CASHBACK_E_FIELD);
  ck_assert_ptr_nonnull(strstr(err, "amount"));
  cashback__ledger_free(l);
  fx_close(&f);
}
END_TEST

#define RX_SECRET "ledger-test-secret-0123456789"

static void report(cashback_client *c, cashback_event_type type,
                   const char *order, const char *refund_id, int64_t amount) {
  cashback_event *ev = cashback_event_new(type, order);
  if (type == CASHBACK_EVENT_SALE)
    ck_assert_int_eq(cashback_event_set_click(ev, "tok"), CASHBACK_OK);
  if (refund_id)
    ck_assert_int_eq(cashback_event_set_refund_id(ev, refund_id), CASHBACK_OK);
  if (amount)
    ck_assert_int_eq(cashback_event_set_amount(ev, amount, "EUR"), CASHBACK_OK);
  ck_assert_int_eq(cashback_report(c, ev, NULL), CASHBACK_OK);
  cashback_event_free(ev);
}

/* The sender applies what the network accepted (or called a duplicate) to
 * the ledger; a ledger that cannot be written loses and blocks nothing. */
START_TEST(ledger_sender_records_accepted_events) {
  receiver rx;
  receiver_start(&rx, "k1:" RX_SECRET);
  fx f;
  fx_open(&f);
  cashback_options *o = cashback_options_new();
  ck_assert_int_eq(cashback_options_set_merchant_id(o, "shop-1"), CASHBACK_OK);
  ck_assert_int_eq(cashback_options_set_key(o, "k1", RX_SECRET), CASHBACK_OK);
  ck_assert_int_eq(cashback_options_set_endpoint(o, rx.endpoint), CASHBACK_OK);
  ck_assert_int_eq(cashback_options_set_spool_dir(o, f.dir), CASHBACK_OK);
  ck_assert_int_eq(cashback_options_set_durability(o, CASHBACK_DURABLE_PROCESS),
                   CASHBACK_OK);
  cashback_client *c = NULL;
  ck_assert_int_eq(cashback_client_new(o, &c, NULL, 0), CASHBACK_OK);
  report(c, CASHBACK_EVENT_SALE, "1001", NULL, 4990);
  report(c, CASHBACK_EVENT_REFUND, "1001", "CN-1", 1000);
  ck_assert_int_eq(cashback_flush(c, 10000), CASHBACK_OK);
  ck_assert_int_eq(receiver_stat(&rx, "accepted"), 2);
  /* The same refund again: a duplicate, counted once. */
  report(c, CASHBACK_EVENT_REFUND, "1001", "CN-1", 1000);
  ck_assert_int_eq(cashback_flush(c, 10000), CASHBACK_OK);
  ck_assert_int_eq(receiver_stat(&rx, "duplicates"), 1);
  cashback__ledger *r = open_ledger(&f, 0, WINDOW_MS);
  cashback__ledger_order lo;
  ck_assert_int_eq(cashback__ledger_get(r, "1001", &lo), 1);
  ck_assert_int_eq(lo.sale_minor, 4990);
  ck_assert_int_eq(lo.refunded_minor, 1000);
  ck_assert_uint_eq(lo.refunds, 1);
  ck_assert_uint_eq(c->ledger_errors, 0);
  /* ledger.log made a directory: events still go, the errors counted. */
  unlink(f.file);
  ck_assert_int_eq(mkdir(f.file, 0700), 0);
  report(c, CASHBACK_EVENT_SALE, "1002", NULL, 100);
  report(c, CASHBACK_EVENT_CANCEL, "1001", NULL, 0);
  ck_assert_int_eq(cashback_flush(c, 10000), CASHBACK_OK);
  ck_assert_int_eq(receiver_stat(&rx, "accepted"), 4);
  ck_assert_uint_eq(c->ledger_errors, 2);
  cashback_queue_status qs = {.size = sizeof(qs)};
  ck_assert_int_eq(cashback_get_status(c, &qs), CASHBACK_OK);
  ck_assert_uint_eq(qs.queued_events, 0);
  rmdir(f.file);
  cashback__ledger_free(r);
  cashback_client_free(c);
  fx_close(&f);
  receiver_stop(&rx);
}
END_TEST

/* What a delivery profile gets through the sender's `orders`. */
START_TEST(ledger_profile_lookup_of_the_client) {
  fx f;
  fx_open(&f);
  cashback_options *o = cashback_options_new();
  ck_assert_int_eq(cashback_options_set_merchant_id(o, "shop-1"), CASHBACK_OK);
  ck_assert_int_eq(cashback_options_set_key(o, "k1", RX_SECRET), CASHBACK_OK);
  ck_assert_int_eq(
      cashback_options_set_endpoint(o, "https://api.network.example/v1/events"),
      CASHBACK_OK);
  ck_assert_int_eq(cashback_options_set_spool_dir(o, f.dir), CASHBACK_OK);
  cashback_client *c = NULL;
  ck_assert_int_eq(cashback_client_new(o, &c, NULL, 0), CASHBACK_OK);
  cashback__spool *sp = NULL;
  ck_assert_int_eq(cashback__client_spool(c, &sp), CASHBACK_OK);
  cashback__profile_orders po = cashback__ledger_profile_orders(c);
  ck_assert_ptr_nonnull(po.lookup);
  cashback__profile_sale sale;
  ck_assert_int_eq(po.lookup(po.ctx, "1001", REF_A, 1000, &sale), -1);
  const char *ev =
      "{\"id\":\"" SALE1 "\",\"type\":\"sale\",\"order_id\":\"1001\","
      "\"order_time\":\"2026-12-01T10:15:00+01:00\",\"amount\":4990,"
      "\"currency\":\"EUR\"}";
  cashback__ledger_settled(c, sp, ev, strlen(ev), 1000);
  cashback__ledger_commit_settled(c);
  for (int i = 0; i < 2; i++) { /* asked again on a retry: the same */
    ck_assert_int_eq(po.lookup(po.ctx, "1001", REF_A, 1000, &sale), 0);
    ck_assert_int_eq(sale.amount, 4990);
    ck_assert_str_eq(sale.currency, "EUR");
    ck_assert_int_eq(sale.order_time, 1796116500); /* 09:15:00Z */
    ck_assert_int_eq(sale.utc_offset, 60);
    ck_assert_int_eq(sale.new_total, 3990);
  }
  ck_assert_int_eq(po.lookup(po.ctx, "1001", REF_A, 0, &sale), 0);
  ck_assert_int_eq(sale.new_total, 4990); /* not a refund: as it is */
  ck_assert_uint_eq(c->ledger_errors, 0);
  cashback_client_free(c);
  /* ledger_max_orders 0: no ledger, no lookup. */
  o = cashback_options_new();
  ck_assert_int_eq(cashback_options_set_merchant_id(o, "shop-1"), CASHBACK_OK);
  ck_assert_int_eq(cashback_options_set_key(o, "k1", RX_SECRET), CASHBACK_OK);
  ck_assert_int_eq(
      cashback_options_set_endpoint(o, "https://api.network.example/v1/events"),
      CASHBACK_OK);
  ck_assert_int_eq(cashback_options_set(o, "ledger_max_orders", "0"),
                   CASHBACK_OK);
  ck_assert_int_eq(cashback_client_new(o, &c, NULL, 0), CASHBACK_OK);
  po = cashback__ledger_profile_orders(c);
  ck_assert_ptr_null(po.lookup);
  cashback_client_free(c);
  fx_close(&f);
}
END_TEST

START_TEST(ledger_max_orders_option) {
  cashback_options *o = cashback_options_new();
  ck_assert_int_eq(cashback_options_set(o, "ledger_max_orders", "5"),
                   CASHBACK_OK);
  ck_assert_int_eq(cashback_options_set(o, "ledger_max_orders", "0"),
                   CASHBACK_OK);
  ck_assert_int_eq(cashback_options_set(o, "ledger_max_orders", "10000001"),
                   CASHBACK_E_CONFIG);
  ck_assert_ptr_nonnull(
      strstr(cashback_options_last_error(o), "ledger_max_orders"));
  ck_assert_int_eq(cashback_options_set(o, "ledger_max_orders", "many"),
                   CASHBACK_E_CONFIG);
  cashback_options_free(o);
}
END_TEST

TCase *cashback_test_ledger(void) {
  TCase *tc = tcase_create("ledger");
  tcase_add_test(tc, ledger_refunds_once_each_and_new_total);
  tcase_add_test(tc, ledger_refunds_per_order_are_bounded);
  tcase_add_test(tc, ledger_torn_tail_is_ignored_and_rewritten);
  tcase_add_test(tc, ledger_damage_is_skipped_and_counted);
  tcase_add_test(tc, ledger_bad_files_are_named_and_never_crash);
  tcase_add_test(tc, ledger_compaction_interrupted_at_each_step);
  tcase_add_test(tc, ledger_compacts_past_twice_its_live_size);
  tcase_add_test(tc, ledger_bound_and_pruning);
  tcase_add_test(tc, ledger_reader_in_another_process_during_compactions);
  tcase_add_test(tc, ledger_applies_wire_events);
  tcase_add_test(tc, ledger_sender_records_accepted_events);
  tcase_add_test(tc, ledger_profile_lookup_of_the_client);
  tcase_add_test(tc, ledger_max_orders_option);
  return tc;
}
