/*
 * The collection: cashback__spool_collect builds a batch of pending records
 * in stamp order across every segment (a head scan, then a k-way merge over
 * at most MERGE_MAX segment readers, cashback_spool_reader.c), bounded by a
 * stamp taken when it begins; and the batch itself.
 */
#include "cashback_spool_internal.h"
#include "cashback_buf.h"
#include "cashback_record.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

/* A collection merges at most this many segments at once (one descriptor
 * and one small buffer each); see cashback__spool_collect(). */
#define MERGE_MAX 32
/* A merge reader's buffer; grows for a larger record at its head. (The
 * fuzz build makes it tiny, to reach every refill path.) */
#ifndef CASHBACK__READER_BUF
#define CASHBACK__READER_BUF (16 * 1024)
#endif
#define READER_BUF CASHBACK__READER_BUF

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

static cashback_status add_seg(cashback__batch *b, const char *name,
                               uint64_t start, int closed) {
  cashback__batch_seg *p =
      cashback__grow(b->segs, b->nsegs, &b->segcap, sizeof(*p), 8);
  if (!p)
    return CASHBACK_E_NOMEM;
  b->segs = p;
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
  cashback__batch_item *p =
      cashback__grow(b->items, b->n, &b->cap, sizeof(*p), 64);
  if (!p)
    return CASHBACK_E_NOMEM;
  b->items = p;
  size_t off = b->data.len;
  cashback_status st = cashback__buf_add(&b->data, payload, len);
  if (st != CASHBACK_OK)
    return st;
  b->items[b->n++] = (cashback__batch_item){.seg = seg,
                                            .end = end,
                                            .off = off,
                                            .len = len,
                                            .time_ms = time_ms,
                                            .stamp = stamp};
  return CASHBACK_OK;
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
 * may still fail its report, and must not reach the network; and bytes
 * past it may still be being written over the zeros written ahead). Its
 * `.sync` there but unreadable (torn as it is rewritten, or damaged): none
 * of it for now. Reads whether it is closed first: a closed segment does
 * not grow. */
static void segment_extent(cashback__spool *s, const char *name, uint64_t fsize,
                           int closed, uint64_t *size, uint64_t *cursor) {
  uint64_t synced = 0;
  *size = fsize;
  *cursor = cashback__spool_read_ack(s, name);
  int r = closed ? -1 : cashback__spool_read_offset(s, name, ".sync", &synced);
  if (r == -2)
    synced = *cursor;
  if (r != -1 && synced < *size)
    *size = synced;
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
  int fd = cashback__spool_open_segment(s, name, &what);
  if (fd < 0) {
    if (errno == ENOENT)
      return 0;
    b->unreadable++;
    cashback__spool_note_problem(b->problem, sizeof(b->problem), s, name, what,
                                 errno);
    return -1;
  }
  int closed = cashback__spool_segment_closed(fd);
  struct stat st;
  if (cashback__spool_fstat(fd, &st) != 0) {
    int e = errno;
    close(fd);
    b->unreadable++;
    cashback__spool_note_problem(b->problem, sizeof(b->problem), s, name,
                                 "cannot stat", e);
    return -1;
  }
  uint64_t size, cursor;
  segment_extent(s, name, (uint64_t)st.st_size, closed, &size, &cursor);
  if (cursor >= size) {
    close(fd);
    if (closed)
      cashback__spool_remove_segment(
          s, name); /* closed, with nothing left to send */
    return 0;
  }
  uint8_t h[HEAD_READ], *big = NULL;
  size_t want = size - cursor < sizeof(h) ? (size_t)(size - cursor) : sizeof(h);
  ssize_t got = cashback__spool_pread(s, fd, h, want, cursor);
  cashback__record_info info;
  cashback__rec rc = got > 0 ? cashback__record_parse(h, (size_t)got, &info)
                             : CASHBACK__REC_SHORT;
  cashback__record_info head;
  if (got >= 8 && rc == CASHBACK__REC_SHORT &&
      cashback__record_peek(h, (size_t)got, &head) != CASHBACK__REC_CORRUPT) {
    /* A head record larger than the small read: read it whole. */
    size_t n = head.len;
    if (n <= CASHBACK__RECORD_MAX &&
        cursor + n + CASHBACK__RECORD_HEADER_MAX <=
            size + CASHBACK__RECORD_HEADER_MAX &&
        (big = malloc(n + CASHBACK__RECORD_HEADER_MAX)) != NULL) {
      size_t w = n + CASHBACK__RECORD_HEADER_MAX;
      if (w > size - cursor)
        w = (size_t)(size - cursor);
      got = cashback__spool_pread(s, fd, big, w, cursor);
      if (got > 0)
        rc = cashback__record_parse(big, (size_t)got, &info);
    }
  }
  int e = errno;
  close(fd);
  free(big);
  if (got < 0) {
    b->read_errors++;
    cashback__spool_note_problem(b->read_problem, sizeof(b->read_problem), s,
                                 name, "read failed", e);
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
                       cashback__seg_reader *r, cashback__batch *b) {
  memset(r, 0, sizeof(*r));
  r->fd = -1;
  r->state = CASHBACK__RD_END;
  const char *what = "";
  int fd = cashback__spool_open_segment(s, name, &what);
  if (fd < 0) {
    if (errno != ENOENT) {
      b->unreadable++;
      cashback__spool_note_problem(b->problem, sizeof(b->problem), s, name,
                                   what, errno);
    }
    return -1;
  }
  int closed = h->seg != SIZE_MAX ? b->segs[h->seg].closed
                                  : cashback__spool_segment_closed(fd);
  struct stat st;
  if (cashback__spool_fstat(fd, &st) != 0) {
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
  r->damage_at = r->damage_nz = UINT64_MAX;
  r->state = CASHBACK__RD_HEAD;
  if (r->off > r->size)
    r->state = CASHBACK__RD_END; /* cut since: nothing more */
  else if (cashback__spool_reader_fill(r, READER_BUF) != 0)
    r->state = CASHBACK__RD_ERROR;
  else
    cashback__spool_reader_next(r, b);
  return 0;
}

/* Done with a reader: its segment is complete when read to its end; a
 * failed read is counted and named. The slot is free afterwards. */
static void reader_settle(cashback__spool *s, cashback__seg_reader *r,
                          cashback__batch *b) {
  if (r->fd < 0)
    return;
  cashback__batch_seg *g = &b->segs[r->seg];
  if (r->state == CASHBACK__RD_ERROR) {
    b->read_errors++;
    cashback__spool_note_problem(b->read_problem, sizeof(b->read_problem), s,
                                 g->name, "read failed", r->err);
  }
  g->complete = r->state == CASHBACK__RD_END;
  close(r->fd);
  free(r->buf);
  r->fd = -1;
  r->buf = NULL;
  r->state = CASHBACK__RD_END;
}

/* A reader whose read failed bounds the collection: nothing at or past the
 * key of its next record (above its last known stamp) is taken, so no
 * newer record of another segment overtakes what it could not read. */
static void error_bound(const cashback__seg_reader *r, uint64_t *stamp,
                        size_t *idx) {
  if (r->state == CASHBACK__RD_ERROR &&
      key_before(r->last_stamp, r->idx, *stamp, *idx)) {
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
/* One collection's merge. */
typedef struct merge {
  cashback__spool *s;
  cashback__batch *b;
  char **names; /* the segments, in file-name order */
  size_t count;
  seg_head *heads;     /* segments with something pending, by key */
  size_t nheads, next; /* heads[next..] are not open */
  cashback__seg_reader rd[MERGE_MAX];
  size_t nr;
  uint64_t err_stamp; /* the bound from failed reads */
  size_t err_idx;
  /* A bound on the swaps, in case of a cycle: nothing is taken after it,
   * which costs only a shorter batch. */
  size_t swaps, swaps_max;
  uint64_t high;   /* H */
  uint64_t *ahead; /* the highest stamp seen past H */
} merge;

/* Lists the segments and scans their heads (step 1), sorted by key. */
static cashback_status merge_heads(merge *m) {
  cashback_status st =
      cashback__spool_list_segments(m->s, &m->names, &m->count);
  if (st != CASHBACK_OK)
    return st;
  m->heads = m->count ? malloc(m->count * sizeof(*m->heads)) : NULL;
  if (m->count && !m->heads)
    return CASHBACK_E_NOMEM;
  for (size_t i = 0; i < m->count; i++) {
    seg_head *h = &m->heads[m->nheads];
    int r = scan_head(m->s, m->names[i], i, h, m->b);
    if (r == 1)
      m->nheads++;
    else if (r == -2 && key_before(h->stamp, i, m->err_stamp, m->err_idx)) {
      m->err_stamp = h->stamp;
      m->err_idx = i;
    }
  }
  if (m->nheads > 1)
    qsort(m->heads, m->nheads, sizeof(*m->heads), cmp_heads);
  m->swaps_max = 4 * m->nheads + 64;
  return CASHBACK_OK;
}

/* The open reader with the smallest key at a whole record, or NULL. */
static cashback__seg_reader *merge_best(merge *m) {
  cashback__seg_reader *best = NULL;
  for (size_t i = 0; i < m->nr; i++) {
    cashback__seg_reader *r = &m->rd[i];
    if (r->fd >= 0 && r->state == CASHBACK__RD_HEAD &&
        (!best ||
         key_before(r->info.stamp, r->idx, best->info.stamp, best->idx)))
      best = r;
  }
  return best;
}

/* The smallest head not open goes first: opens it, in a free slot, or in
 * an exhausted reader's, or in the place of the largest (given back: its
 * head goes where it sorts among those not open). */
static void merge_open_next(merge *m) {
  cashback__seg_reader *slot = NULL, *worst = NULL;
  for (size_t i = 0; i < m->nr && !slot; i++)
    if (m->rd[i].fd < 0 || m->rd[i].state != CASHBACK__RD_HEAD)
      slot = &m->rd[i];
  if (!slot && m->nr < MERGE_MAX) {
    slot = &m->rd[m->nr++];
    slot->fd = -1;
  }
  seg_head h = m->heads[m->next];
  if (!slot) {
    for (size_t i = 0; i < m->nr; i++)
      if (!worst || key_before(worst->info.stamp, worst->idx,
                               m->rd[i].info.stamp, m->rd[i].idx))
        worst = &m->rd[i];
    slot = worst;
    seg_head back = {worst->idx, worst->info.stamp, worst->seg,
                     worst->off + worst->pos};
    size_t j = m->next;
    while (j + 1 < m->nheads && cmp_heads(&m->heads[j + 1], &back) < 0) {
      m->heads[j] = m->heads[j + 1];
      j++;
    }
    m->heads[j] = back;
  } else {
    m->next++;
  }
  if (slot->fd >= 0)
    reader_settle(m->s, slot, m->b);
  if (reader_open(m->s, m->names[h.idx], &h, slot, m->b) == 0)
    error_bound(slot, &m->err_stamp, &m->err_idx);
}

/* Stamped ahead of `seq` (a clock that was ahead, then `seq` lost): the
 * highest such stamp among the heads, each CRC-checked, raises `seq` (so
 * the next H is past it) instead of waiting for the wall clock. */
static void merge_note_ahead(merge *m) {
  for (size_t i = 0; i < m->nr; i++)
    if (m->rd[i].fd >= 0 && m->rd[i].state == CASHBACK__RD_HEAD &&
        m->rd[i].info.stamp > *m->ahead)
      *m->ahead = m->rd[i].info.stamp;
}

/* Takes the record at `best` into the batch and moves its reader on.
 * CASHBACK_E_TOO_BIG when the batch is full. */
static cashback_status merge_take(merge *m, cashback__seg_reader *best) {
  uint64_t end = best->off + best->pos + best->info.header + best->info.len;
  cashback_status rc =
      add_item(m->b, best->seg, best->buf + best->pos + best->info.header,
               best->info.len, end, best->info.time_ms, best->info.stamp);
  if (rc != CASHBACK_OK)
    return rc;
  m->b->segs[best->seg].end = end;
  best->last_stamp = best->info.stamp;
  best->pos += best->info.header + best->info.len;
  cashback__spool_reader_next(best, m->b);
  error_bound(best, &m->err_stamp, &m->err_idx);
  return CASHBACK_OK;
}

/* The merge (step 2), up to `max_events`. */
static cashback_status merge_run(merge *m, size_t max_events) {
  for (;;) {
    cashback__seg_reader *best = merge_best(m);
    if (m->b->n >= max_events)
      return CASHBACK_OK;
    const seg_head *h = m->next < m->nheads ? &m->heads[m->next] : NULL;
    if (h &&
        (!best || !key_before(best->info.stamp, best->idx, h->stamp, h->idx))) {
      if (!key_before(h->stamp, h->idx, m->err_stamp, m->err_idx))
        return CASHBACK_OK; /* at or past a failed read's bound */
      if (m->swaps++ > m->swaps_max)
        return CASHBACK_OK;
      merge_open_next(m);
      continue;
    }
    if (!best)
      return CASHBACK_OK;
    if (best->info.stamp > m->high) {
      merge_note_ahead(m);
      return CASHBACK_OK;
    }
    if (!key_before(best->info.stamp, best->idx, m->err_stamp, m->err_idx))
      return CASHBACK_OK;
    cashback_status rc = merge_take(m, best);
    if (rc == CASHBACK_E_TOO_BIG)
      return CASHBACK_OK;
    if (rc != CASHBACK_OK)
      return rc;
  }
}

/* Settles the readers; segments that gave no record are done with here
 * (removed when closed and complete, their cursor moved past damage) and
 * left out of the batch. */
static cashback_status merge_finish(merge *m, cashback_status st) {
  cashback__batch *b = m->b;
  for (size_t i = 0; i < m->nr; i++)
    reader_settle(m->s, &m->rd[i], b);
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
          cashback__spool_remove_segment(m->s, seg->name);
        else if (seg->end > seg->start)
          cashback__spool_write_ack(m->s, seg->name, seg->end); /* damage */
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
  return st;
}

static cashback_status collect_once(cashback__spool *s, size_t max_events,
                                    cashback__batch *b, uint64_t *ahead) {
  *ahead = 0;
  batch_reset(b);
  int64_t now = cashback__mono_ms();
  if (s->reclaimed_at_ms == 0 || now - s->reclaimed_at_ms > 60000) {
    s->reclaimed_at_ms = now;
    cashback__spool_reclaim_orphans(s);
  }
  /* H first: every report that returned before this point wrote its record
   * (durable and published) before, so the listing below sees it. */
  pthread_mutex_lock(&s->lock);
  int shared;
  uint64_t high = cashback__spool_take_stamp_floor(s, 0, &shared);
  if (!shared)
    high = UINT64_MAX; /* no shared stamp: no bound (docs: the limits) */
  pthread_mutex_unlock(&s->lock);

  merge m = {.s = s,
             .b = b,
             .err_stamp = UINT64_MAX,
             .err_idx = SIZE_MAX,
             .high = high,
             .ahead = ahead};
  cashback_status st = merge_heads(&m);
  if (st == CASHBACK_OK)
    st = merge_finish(&m, merge_run(&m, max_events));
  free(m.heads);
  if (m.names)
    cashback__spool_free_names(m.names, m.count);
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
  (void)cashback__spool_take_stamp_floor(s, ahead, NULL);
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
