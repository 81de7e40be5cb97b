/* Fuzzes the spool record reader (both versions, CBR1 and CBR2). The first
 * input byte picks the mode:
 *
 * even: cashback__record_parse() and cashback__record_resync() walk the
 *   rest as a segment reader does. Checks: a decoded record re-encodes
 *   to the same header, every truncation of it is SHORT, resync lands on a
 *   valid record (or the end) and skips none, cashback__record_decode()
 *   agrees on CBR1 records and refuses CBR2 ones, nothing is read past the
 *   input (ASan, exact-size heap copy).
 * odd: the rest becomes a closed segment file of a temporary spool, drained
 *   through cashback__spool_collect() and cashback__spool_ack() in batches
 *   of (second byte % 4 + 1) events, as the sender does. Checks: the drain
 *   ends, delivers exactly the records the reference walk above finds, in
 *   order and once each, counts exactly its damaged regions (zeros that
 *   run to the end are the end of the data, the zeros a writer writes
 *   ahead, and no region), and removes the finished segment. */
#include "cashback_crc32c.h"
#include "cashback_record.h"
#include "cashback_spool.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_RECS 4096
#define SEG "seg-0000000000000001-1-00000000.log"

typedef struct walk {
  size_t start[MAX_RECS], len[MAX_RECS], header[MAX_RECS];
  size_t n;
  size_t regions; /* damaged stretches skipped, a torn tail included */
} walk;

/* The reference walk: records from the start, resynchronising after
 * damage. Checks the decoder's invariants on the way. */
static void reference(const uint8_t *p, size_t n, walk *w) {
  memset(w, 0, sizeof(*w));
  size_t pos = 0;
  while (pos < n) {
    cashback__record_info ri;
    cashback__rec r = cashback__record_parse(p + pos, n - pos, &ri);
    size_t len1 = 0;
    int64_t t1 = 0;
    cashback__rec r1 = cashback__record_decode(p + pos, n - pos, &len1, &t1);
    if (r == CASHBACK__REC_OK) {
      size_t len = ri.len, total = ri.header + len;
      if (len == 0 || len > CASHBACK__RECORD_MAX || total > n - pos)
        abort();
      const uint8_t *payload = p + pos + ri.header;
      uint8_t h[CASHBACK__RECORD_HEADER_MAX];
      if (ri.header == CASHBACK__RECORD_HEADER) {
        if (r1 != CASHBACK__REC_OK || len1 != len || t1 != ri.time_ms ||
            ri.stamp != 0)
          abort(); /* the two decoders disagree on a CBR1 record */
        cashback__record_header(h, payload, len, ri.time_ms);
      } else {
        if (ri.header != CASHBACK__RECORD_HEADER_V2 || r1 == CASHBACK__REC_OK)
          abort(); /* a CBR2 record is not CBR1 */
        cashback__record_header_v2(h, len, ri.time_ms, ri.stamp,
                                   cashback__crc32c(0, payload, len));
      }
      if (memcmp(h, p + pos, ri.header) != 0)
        abort();
      size_t cuts[3] = {total - 1, total / 2, 4};
      for (int i = 0; i < 3; i++)
        if (cashback__record_parse(p + pos, cuts[i], NULL) !=
            CASHBACK__REC_SHORT)
          abort();
      if (w->n < MAX_RECS) {
        w->start[w->n] = pos;
        w->len[w->n] = len;
        w->header[w->n] = ri.header;
      }
      w->n++;
      pos += total;
      continue;
    }
    size_t next = cashback__record_resync(p, n, pos + 1);
    if (next <= pos || next > n)
      abort();
    if (next < n &&
        cashback__record_parse(p + next, n - next, NULL) != CASHBACK__REC_OK)
      abort();
    if (n <= 2048) /* no valid record skipped (quadratic: small inputs) */
      for (size_t i = pos + 1; i < next; i++)
        if (cashback__record_parse(p + i, n - i, NULL) == CASHBACK__REC_OK)
          abort();
    size_t nz = pos;
    while (nz < next && p[nz] == 0)
      nz++;
    if (next < n || nz < n)
      w->regions++; /* zeros alone to the end are no damage */
    pos = next;
  }
}

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

static void drain(const uint8_t *p, size_t n, size_t per_batch) {
  if (!root[0]) {
    snprintf(root, sizeof(root), "/tmp/cbfuzz-record-XXXXXX");
    if (!mkdtemp(root))
      abort();
    atexit(remove_root);
  }
  char spool[128], seg[192];
  snprintf(spool, sizeof(spool), "%s/spool", root);
  snprintf(seg, sizeof(seg), "%s/" SEG, spool);
  mkdir(spool, 0700);
  clean_dir(spool);
  int fd = open(seg, O_WRONLY | O_CREAT | O_TRUNC, 0600);
  if (fd < 0 || (n && write(fd, p, n) != (ssize_t)n))
    abort();
  close(fd);

  walk *w = malloc(sizeof(*w));
  if (!w)
    abort();
  reference(p, n, w);
  if (w->n > MAX_RECS) {
    free(w);
    return; /* too many to compare; not reachable with -max_len 4096 */
  }

  cashback__spool_config cfg = {spool, CASHBACK_DURABLE_PROCESS, 0, 0};
  cashback__spool *s = NULL;
  char err[256];
  if (cashback__spool_open(&cfg, &s, err, sizeof(err)) != CASHBACK_OK ||
      cashback__spool_lock_sender(s) != CASHBACK_OK)
    abort();
  cashback__batch b;
  cashback__batch_init(&b, 1u << 20);
  size_t got = 0, regions = 0, rounds = 0;
  for (;;) {
    if (++rounds > w->n + 3)
      abort(); /* the drain does not end */
    if (cashback__spool_collect(s, per_batch, &b) != CASHBACK_OK)
      abort();
    regions += b.corrupt_regions;
    if (b.n == 0)
      break;
    if (b.n > per_batch)
      abort();
    unsigned char all[4] = {1, 1, 1, 1};
    for (size_t i = 0; i < b.n; i++, got++) {
      const cashback__batch_item *it = &b.items[i];
      if (got >= w->n || it->len != w->len[got] ||
          it->end != w->start[got] + w->header[got] + it->len ||
          memcmp(b.data.data + it->off, p + w->start[got] + w->header[got],
                 it->len) != 0)
        abort(); /* not the next record of the reference walk */
    }
    if (cashback__spool_ack(s, &b, all) != CASHBACK_OK)
      abort();
  }
  if (got != w->n || regions != w->regions || access(seg, F_OK) == 0) {
    fprintf(stderr, "DEBUG got %zu/%zu regions %zu/%zu seg %d\n", got, w->n,
            regions, w->regions, access(seg, F_OK));
    abort();
  }
  cashback__batch_free(&b);
  cashback__spool_close(s);
  free(w);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size == 0)
    return 0;
  /* A heap copy of exactly the rest: ASan catches any read past it. */
  size_t n = size - 1;
  uint8_t *p = malloc(n ? n : 1);
  if (!p)
    return 0;
  if (n)
    memcpy(p, data + 1, n);
  if (data[0] & 1) {
    drain(p, n, n ? (size_t)(p[0] % 4) + 1 : 1);
  } else {
    walk *w = malloc(sizeof(*w));
    if (w)
      reference(p, n, w);
    free(w);
  }
  free(p);
  return 0;
}
