/* Unit tests for sdk/cashback_deferred.c: the list, its file format (the
 * event kept byte for byte), damage skipped and counted, and the file in a
 * real spool directory. */
#include "cashback_deferred.h"
#include "cashback_record.h"
#include "tests.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#define ID_A "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define ID_B "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
#define ID_C "cccccccccccccccccccccccccccccccc"
/* A number cJSON would print as 1e+15: the event must not be re-printed. */
#define EV_A                                                                   \
  "{\"id\":\"" ID_A "\",\"type\":\"refund\",\"order_id\":\"1\","               \
  "\"amount\":1000000000000000,\"currency\":\"EUR\",\"note\":\"a\\u00e9\"}"
#define EV_B "{\"id\":\"" ID_B "\",\"type\":\"cancel\",\"order_id\":\"2\"}"
#define EV_C "{\"id\":\"" ID_C "\",\"type\":\"confirm\",\"order_id\":\"3\"}"

static void three(cashback__deferred *d) {
  cashback__deferred_init(d);
  ck_assert_int_eq(cashback__deferred_add(d, ID_A, EV_A, strlen(EV_A), 1000,
                                          2000, "unknown_order", "no sale"),
                   CASHBACK_OK);
  ck_assert_int_eq(cashback__deferred_add(d, ID_B, EV_B, strlen(EV_B), 1100,
                                          2100, "unknown_order", ""),
                   CASHBACK_OK);
  ck_assert_int_eq(
      cashback__deferred_add(d, ID_C, EV_C, strlen(EV_C), 1200, 2200, "", ""),
      CASHBACK_OK);
  d->e[1].attempts = 7;
}

static void assert_entry(const cashback__deferred_entry *x, const char *id,
                         const char *ev, int64_t first, int64_t next) {
  ck_assert_str_eq(x->id, id);
  ck_assert_uint_eq(x->event_len, strlen(ev));
  ck_assert(memcmp(x->event, ev, x->event_len) == 0);
  ck_assert_int_eq(x->first_ms, first);
  ck_assert_int_eq(x->next_ms, next);
}

START_TEST(deferred_round_trip) {
  cashback__deferred d, back;
  three(&d);
  cashback__buf b;
  cashback__buf_init(&b, 1u << 20);
  ck_assert_int_eq(cashback__deferred_encode(&d, &b), CASHBACK_OK);
  cashback__deferred_init(&back);
  ck_assert_int_eq(cashback__deferred_decode(b.data, b.len, &back),
                   CASHBACK_OK);
  ck_assert_uint_eq(back.n, 3);
  ck_assert_uint_eq(back.damaged, 0);
  assert_entry(&back.e[0], ID_A, EV_A, 1000, 2000);
  assert_entry(&back.e[1], ID_B, EV_B, 1100, 2100);
  assert_entry(&back.e[2], ID_C, EV_C, 1200, 2200);
  ck_assert_str_eq(back.e[0].reason, "unknown_order");
  ck_assert_str_eq(back.e[0].message, "no sale");
  ck_assert_uint_eq(back.e[0].attempts, 1);
  ck_assert_uint_eq(back.e[1].attempts, 7);
  /* Find, and remove keeping the order. */
  ck_assert_uint_eq(cashback__deferred_find(&back, ID_B), 1);
  ck_assert_uint_eq(cashback__deferred_find(&back, "x"), 3);
  cashback__deferred_remove(&back, 1);
  ck_assert_uint_eq(back.n, 2);
  ck_assert_str_eq(back.e[0].id, ID_A);
  ck_assert_str_eq(back.e[1].id, ID_C);
  cashback__deferred_truncate(&back, 1);
  ck_assert_uint_eq(back.n, 1);
  /* The empty list is the empty file. */
  cashback__deferred_free(&back);
  ck_assert_int_eq(cashback__deferred_encode(&back, &b), CASHBACK_OK);
  ck_assert_uint_eq(b.len, 0);
  ck_assert_int_eq(cashback__deferred_decode("", 0, &back), CASHBACK_OK);
  ck_assert_uint_eq(back.n, 0);
  cashback__buf_free(&b);
  cashback__deferred_free(&d);
}
END_TEST

START_TEST(deferred_damage_is_skipped_and_counted) {
  cashback__deferred d, back;
  three(&d);
  cashback__buf b;
  cashback__buf_init(&b, 1u << 20);
  ck_assert_int_eq(cashback__deferred_encode(&d, &b), CASHBACK_OK);
  /* A bit flipped in the second record's payload. */
  size_t second = CASHBACK__RECORD_HEADER +
                  (size_t)(strchr(b.data + 20, '\n') - b.data - 20) + 1 +
                  strlen(EV_A);
  ck_assert(memcmp(b.data + second, "CBR1", 4) == 0);
  b.data[second + CASHBACK__RECORD_HEADER + 3] ^= 0x01;
  cashback__deferred_init(&back);
  ck_assert_int_eq(cashback__deferred_decode(b.data, b.len, &back),
                   CASHBACK_OK);
  ck_assert_uint_eq(back.n, 2);
  ck_assert_str_eq(back.e[0].id, ID_A);
  ck_assert_str_eq(back.e[1].id, ID_C);
  ck_assert_uint_eq(back.damaged, 1);
  /* With a torn tail too: one damaged region up to the end. */
  ck_assert_int_eq(cashback__deferred_decode(b.data, b.len - 5, &back),
                   CASHBACK_OK);
  ck_assert_uint_eq(back.n, 1);
  ck_assert_str_eq(back.e[0].id, ID_A);
  ck_assert_uint_eq(back.damaged, 1);
  /* A valid record whose payload is not an entry. */
  size_t total = 0;
  uint8_t *rec = cashback__record_encode("{\"id\":1}\nx", 10, 5, &total);
  ck_assert_int_eq(cashback__deferred_decode(rec, total, &back), CASHBACK_OK);
  ck_assert_uint_eq(back.n, 0);
  ck_assert_uint_eq(back.damaged, 1);
  free(rec);
  cashback__buf_free(&b);
  cashback__deferred_free(&back);
  cashback__deferred_free(&d);
}
END_TEST

START_TEST(deferred_bad_input) {
  cashback__deferred d;
  cashback__deferred_init(&d);
  ck_assert_int_eq(cashback__deferred_add(&d, "short", EV_A, 3, 0, 0, "", ""),
                   CASHBACK_E_INVALID_ARGUMENT);
  ck_assert_int_eq(cashback__deferred_add(&d, ID_A, EV_A, 0, 0, 0, "", ""),
                   CASHBACK_E_INVALID_ARGUMENT);
  ck_assert_int_eq(cashback__deferred_add(&d,
                                          "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
                                          EV_A, 3, 0, 0, "", ""),
                   CASHBACK_E_INVALID_ARGUMENT);
  ck_assert_uint_eq(d.n, 0);
  cashback__deferred_free(&d);
}
END_TEST

START_TEST(deferred_file_in_a_spool) {
  char root[64], dir[128], path[192];
  snprintf(root, sizeof(root), "/tmp/cbdefer-XXXXXX");
  ck_assert_ptr_nonnull(mkdtemp(root));
  snprintf(dir, sizeof(dir), "%s/spool", root);
  snprintf(path, sizeof(path), "%s/deferred", dir);
  cashback__spool_config cfg = {dir, CASHBACK_DURABLE_SYNC, 1u << 30, 1u << 20};
  cashback__spool *s = NULL;
  char err[256] = "";
  ck_assert_int_eq(cashback__spool_open(&cfg, &s, err, sizeof(err)),
                   CASHBACK_OK);
  cashback__deferred d, back;
  cashback__deferred_init(&back);
  /* No file: an empty list. */
  ck_assert_int_eq(cashback__deferred_load(s, &back), CASHBACK_OK);
  ck_assert_uint_eq(back.n, 0);
  three(&d);
  ck_assert_int_eq(cashback__deferred_save(s, &d), CASHBACK_OK);
  struct stat st;
  ck_assert_int_eq(stat(path, &st), 0);
  ck_assert_int_eq(st.st_mode & 0777, 0600);
  ck_assert_int_eq(cashback__deferred_load(s, &back), CASHBACK_OK);
  ck_assert_uint_eq(back.n, 3);
  assert_entry(&back.e[2], ID_C, EV_C, 1200, 2200);
  /* Emptied: the file goes. */
  cashback__deferred_free(&d);
  ck_assert_int_eq(cashback__deferred_save(s, &d), CASHBACK_OK);
  ck_assert_int_ne(stat(path, &st), 0);
  /* A symlink in its place is not followed. */
  char target[192];
  snprintf(target, sizeof(target), "%s/elsewhere", root);
  FILE *f = fopen(target, "w");
  ck_assert_ptr_nonnull(f);
  fclose(f);
  ck_assert_int_eq(symlink(target, path), 0);
  ck_assert_int_eq(cashback__deferred_load(s, &back), CASHBACK_E_IO);
  cashback__spool_close(s);
  cashback__deferred_free(&back);
  char cmd[128];
  snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
  ck_assert_int_eq(system(cmd), 0);
}
END_TEST

/* The per-order barrier: only the first deferred entry of each order may
 * go; the order id is read from the event. */
START_TEST(deferred_heads_per_order) {
  cashback__deferred d;
  three(&d); /* orders 1, 2, 3 */
  static const char ev_d[] = "{\"id\":\"dddddddddddddddddddddddddddddddd\","
                             "\"type\":\"refund\",\"order_id\":\"2\"}";
  static const char ev_e[] = "{\"id\":\"eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee\","
                             "\"type\":\"cancel\",\"order_id\":\"1\"}";
  ck_assert_int_eq(
      cashback__deferred_add(&d, "dddddddddddddddddddddddddddddddd", ev_d,
                             strlen(ev_d), 1300, 900, "", ""),
      CASHBACK_OK);
  ck_assert_int_eq(
      cashback__deferred_add(&d, "eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee", ev_e,
                             strlen(ev_e), 1400, 800, "", ""),
      CASHBACK_OK);
  ck_assert_str_eq(d.e[3].order, "2");
  unsigned char head[5];
  ck_assert_int_eq(cashback__deferred_heads(&d, head), CASHBACK_OK);
  ck_assert_int_eq(head[0], 1);
  ck_assert_int_eq(head[1], 1);
  ck_assert_int_eq(head[2], 1);
  ck_assert_int_eq(head[3], 0); /* behind entry 1 (order 2) */
  ck_assert_int_eq(head[4], 0); /* behind entry 0 (order 1) */
  /* Due next: the earliest head (2000), not the held ones (800, 900). */
  ck_assert_int_eq(cashback__deferred_next_due(&d), 2000);
  size_t n = 0;
  const char **orders = cashback__deferred_orders(&d, &n);
  ck_assert_uint_eq(n, 5);
  ck_assert(cashback__deferred_orders_has(orders, n, "3"));
  ck_assert(!cashback__deferred_orders_has(orders, n, "4"));
  free(orders);
  cashback__deferred_remove(&d, 1);
  ck_assert_int_eq(cashback__deferred_heads(&d, head), CASHBACK_OK);
  ck_assert_int_eq(head[2], 1); /* the refund of order 2 may go now */
  cashback__deferred_free(&d);
}
END_TEST

/* A number past int64_t in the bookkeeping (the file is read after only
 * a CRC check): the record is damage, not undefined behaviour (UBSan
 * stops the sanitized suite on the cast). */
START_TEST(deferred_huge_number_is_damage) {
  static const char body[] =
      "{\"id\":\"" ID_A "\",\"first_ms\":1e300,\"next_ms\":1,"
      "\"attempts\":1}\n" EV_A;
  size_t total = 0;
  uint8_t *rec = cashback__record_encode(body, sizeof(body) - 1, 5, &total);
  cashback__deferred back;
  cashback__deferred_init(&back);
  ck_assert_int_eq(cashback__deferred_decode(rec, total, &back), CASHBACK_OK);
  ck_assert_uint_eq(back.n, 0);
  ck_assert_uint_eq(back.damaged, 1);
  free(rec);
  cashback__deferred_free(&back);
}
END_TEST

/* The byte bound: entries count their event plus 1 KiB, and past
 * CASHBACK__DEFERRED_MAX_BYTES an add is CASHBACK_E_SPOOL_FULL; removing
 * gives the room back. */
START_TEST(deferred_list_is_bounded_in_bytes) {
  size_t len = CASHBACK__RECORD_MAX - 1024;
  char *ev = malloc(len);
  ck_assert_ptr_nonnull(ev);
  memset(ev, ' ', len);
  memcpy(ev, EV_B, strlen(EV_B));
  cashback__deferred d;
  cashback__deferred_init(&d);
  size_t fits = CASHBACK__DEFERRED_MAX_BYTES / (len + 1024);
  char id[33];
  for (size_t i = 0; i < fits; i++) {
    snprintf(id, sizeof(id), "%032zx", i);
    ck_assert_int_eq(cashback__deferred_add(&d, id, ev, len, 1, 2, "", ""),
                     CASHBACK_OK);
  }
  snprintf(id, sizeof(id), "%032zx", fits);
  ck_assert_int_eq(cashback__deferred_add(&d, id, ev, len, 1, 2, "", ""),
                   CASHBACK_E_SPOOL_FULL);
  cashback__deferred_remove(&d, 0);
  ck_assert_int_eq(cashback__deferred_add(&d, id, ev, len, 1, 2, "", ""),
                   CASHBACK_OK);
  cashback__deferred_truncate(&d, 1);
  ck_assert_uint_eq(d.bytes, len + 1024);
  cashback__deferred_free(&d);
  free(ev);
}
END_TEST

/* A FIFO named `deferred` is refused at once (it hung the sender and
 * `cashback status` in open()), a file past the byte bound is refused
 * without being read, and stale deferred.<pid>.tmp files are swept. */
START_TEST(deferred_file_fifo_big_and_stale_tmp) {
  char root[64], dir[128], path[192], tmp[192];
  snprintf(root, sizeof(root), "/tmp/cbdefer-XXXXXX");
  ck_assert_ptr_nonnull(mkdtemp(root));
  snprintf(dir, sizeof(dir), "%s/spool", root);
  snprintf(path, sizeof(path), "%s/deferred", dir);
  cashback__spool_config cfg = {dir, CASHBACK_DURABLE_SYNC, 1u << 30, 1u << 20};
  cashback__spool *s = NULL;
  char err[256] = "", why[256];
  ck_assert_int_eq(cashback__spool_open(&cfg, &s, err, sizeof(err)),
                   CASHBACK_OK);
  cashback__deferred back;
  cashback__deferred_init(&back);
  ck_assert_int_eq(mkfifo(path, 0600), 0);
  ck_assert_int_eq(cashback__deferred_load_why(s, &back, why, sizeof(why)),
                   CASHBACK_E_IO);
  ck_assert_msg(strstr(why, "not a regular file"), "%s", why);
  ck_assert_int_eq(unlink(path), 0);
  int fd = open(path, O_WRONLY | O_CREAT, 0600);
  ck_assert_int_ge(fd, 0);
  ck_assert_int_eq(ftruncate(fd, (off_t)CASHBACK__DEFERRED_MAX_BYTES + 1), 0);
  close(fd);
  ck_assert_int_eq(cashback__deferred_load_why(s, &back, why, sizeof(why)),
                   CASHBACK_E_TOO_BIG);
  ck_assert_msg(strstr(why, "more than"), "%s", why);
  ck_assert_int_eq(unlink(path), 0);
  snprintf(tmp, sizeof(tmp), "%s/deferred.4242.tmp", dir);
  FILE *f = fopen(tmp, "w");
  ck_assert_ptr_nonnull(f);
  fclose(f);
  snprintf(path, sizeof(path), "%s/deferred.x.tmp", dir); /* not ours */
  f = fopen(path, "w");
  ck_assert_ptr_nonnull(f);
  fclose(f);
  ck_assert_uint_eq(cashback__spool_sweep_tmp(s, "deferred"), 1);
  struct stat st;
  ck_assert_int_ne(stat(tmp, &st), 0);
  ck_assert_int_eq(stat(path, &st), 0);
  cashback__spool_close(s);
  cashback__deferred_free(&back);
  char cmd[128];
  snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
  ck_assert_int_eq(system(cmd), 0);
}
END_TEST

TCase *cashback_test_deferred(void) {
  TCase *tc = tcase_create("deferred");
  tcase_add_test(tc, deferred_round_trip);
  tcase_add_test(tc, deferred_damage_is_skipped_and_counted);
  tcase_add_test(tc, deferred_bad_input);
  tcase_add_test(tc, deferred_file_in_a_spool);
  tcase_add_test(tc, deferred_heads_per_order);
  tcase_add_test(tc, deferred_huge_number_is_damage);
  tcase_add_test(tc, deferred_list_is_bounded_in_bytes);
  tcase_add_test(tc, deferred_file_fifo_big_and_stale_tmp);
  return tc;
}
