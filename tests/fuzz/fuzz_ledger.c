/* Fuzzes the per-order ledger's file reader (sdk/cashback_ledger.c). The
 * first input byte picks the bound (1 to 8 orders, or the default) and the
 * change applied; the rest becomes ledger.log of a temporary spool.
 *
 * Checks: opening never fails on content (only on the file itself); the
 * orders read respect what the reader guarantees (valid ids, a sale or a
 * refund each, refunds summed); new_total never goes below 0; a change
 * applied over any content leaves a clean file (the writer rewrites damage
 * and torn tails first) that a second reader reads with no damage, the
 * same number of orders, at most the bound, and the change in it. */
#include "cashback_ledger.h"
#include "fuzz.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define ID_A "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define ID_B "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"

static char root[64];

static void clean_dir(const char *dir) {
  DIR *d = opendir(dir);
  if (!d)
    return;
  struct dirent *de;
  char path[256];
  while ((de = readdir(d))) {
    if (de->d_name[0] == '.')
      continue;
    snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
    unlink(path);
  }
  closedir(d);
}

static void remove_root(void) {
  char spool[128];
  snprintf(spool, sizeof(spool), "%s/spool", root);
  clean_dir(spool);
  rmdir(spool);
  rmdir(root);
}

static void check_order(const cashback__ledger_order *o) {
  size_t n = strlen(o->order_id);
  CHECK(n > 0 && n <= CASHBACK_ID_MAX);
  CHECK(o->has_sale || o->refunds > 0);
  CHECK(o->refunds <= CASHBACK__LEDGER_REFUNDS_MAX);
  CHECK(o->refunded_minor >= 0 && o->sale_minor >= 0);
  CHECK(strlen(o->currency) == 3);
  CHECK(o->state <= CASHBACK__LEDGER_CONFIRMED);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size == 0)
    return 0;
  if (!root[0]) {
    snprintf(root, sizeof(root), "/tmp/cbfuzz-ledger-XXXXXX");
    if (!mkdtemp(root))
      abort();
    atexit(remove_root);
  }
  char spool[128], file[192];
  snprintf(spool, sizeof(spool), "%s/spool", root);
  snprintf(file, sizeof(file), "%s/ledger.log", spool);
  mkdir(spool, 0700);
  clean_dir(spool);
  int fd = open(file, O_WRONLY | O_CREAT | O_TRUNC, 0600);
  CHECK(fd >= 0);
  CHECK(size == 1 || write(fd, data + 1, size - 1) == (ssize_t)(size - 1));
  close(fd);

  cashback__spool_config cfg = {spool, CASHBACK_DURABLE_PROCESS, 0, 0};
  cashback__spool *s = NULL;
  char err[256];
  CHECK(cashback__spool_open(&cfg, &s, err, sizeof(err)) == CASHBACK_OK);
  size_t bound = (data[0] & 7) + 1;
  if (data[0] & 0x80)
    bound = 0; /* the default */
  cashback__ledger *l = NULL;
  CHECK(cashback__ledger_open(s, bound, 1000000, &l, err, sizeof(err)) ==
        CASHBACK_OK);
  cashback__ledger_set_sync(l, 0);
  cashback__ledger_set_compact_min(l, (data[0] & 0x40) ? 0 : 65536);

  /* Orders named like the seeds' ("1", "2", ...) and the change's. */
  const char *ids[] = {"1", "2", "3", "1001", "x"};
  for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
    cashback__ledger_order o;
    if (cashback__ledger_get(l, ids[i], &o)) {
      check_order(&o);
      CHECK(strcmp(o.order_id, ids[i]) == 0);
      int64_t total = -1;
      cashback_status st =
          cashback__ledger_new_total(l, ids[i], ID_B, 7, &total);
      CHECK(st != CASHBACK_OK || total >= 0);
    }
  }

  static const cashback_event_type types[4] = {
      CASHBACK_EVENT_SALE, CASHBACK_EVENT_REFUND, CASHBACK_EVENT_CANCEL,
      CASHBACK_EVENT_CONFIRM};
  cashback_event_type type = types[(data[0] >> 3) & 3];
  cashback__ledger_change ch = {.type = type,
                                .order_id = "1001",
                                .event_id = ID_A,
                                .currency = "EUR",
                                .amount_minor = 500,
                                .order_time = "2026-12-01T10:15:00+01:00",
                                .utc_offset_min = 60,
                                .remote_ref =
                                    (data[0] & 0x20) ? "job-1" : NULL};
  cashback_status ast = cashback__ledger_apply(l, &ch, 5000, err, sizeof(err));
  CHECK(ast == CASHBACK_OK || ast == CASHBACK_E_CURRENCY ||
        ast == CASHBACK_E_TOO_BIG);
  cashback__ledger_stats st;
  cashback__ledger_stats_get(l, &st);
  CHECK(bound == 0 || st.orders <= bound);

  cashback__ledger *r = NULL;
  CHECK(cashback__ledger_open(s, bound, 1000000, &r, err, sizeof(err)) ==
        CASHBACK_OK);
  cashback__ledger_stats rs;
  cashback__ledger_stats_get(r, &rs);
  CHECK(rs.damaged == 0 && rs.bad_records == 0 && rs.torn_bytes == 0);
  CHECK(rs.orders == st.orders);
  cashback__ledger_order a, b;
  int in_l = cashback__ledger_get(l, "1001", &a);
  CHECK(in_l == cashback__ledger_get(r, "1001", &b));
  if (in_l) {
    check_order(&b);
    CHECK(a.sale_minor == b.sale_minor && a.refunds == b.refunds &&
          a.refunded_minor == b.refunded_minor && a.state == b.state &&
          strcmp(a.remote_ref, b.remote_ref) == 0);
  }
  if (ast == CASHBACK_OK && type == CASHBACK_EVENT_SALE)
    CHECK(in_l && b.has_sale);
  cashback__ledger_free(r);
  cashback__ledger_free(l);
  cashback__spool_close(s);
  return 0;
}
