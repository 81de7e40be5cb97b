/*
 * Reading one segment for a collection: a window of its bytes from the
 * cursor through a small buffer, moved record by record, with damage
 * recovery: bad magic, length or checksum is skipped up to where a whole
 * valid record starts again and counted; a partial record at the end of an
 * open segment is a write in progress and waits, at the end of a closed
 * one a torn tail. A record never starts with a zero byte: zeros where one
 * would start are the end of the data (the writer writes zeros ahead of
 * it): an open segment waits there, and zeros that run to the end of a
 * closed one are not damage, nor are they counted in a torn tail before
 * them.
 */
#include "cashback_spool_internal.h"
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

#define READ_CHUNK (CASHBACK__RECORD_MAX + CASHBACK__RECORD_HEADER_MAX)

/* Reads on so that the buffer holds at least `need` bytes from pos (or the
 * rest up to size). 0, or -1 with r->err on a read error. */
int cashback__spool_reader_fill(cashback__seg_reader *r, size_t need) {
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

/* Starts a damaged stretch at `at`, unless one is under way. */
static void damage_begin(cashback__seg_reader *r, uint64_t at) {
  if (r->damage_at == UINT64_MAX)
    r->damage_at = r->damage_nz = at;
}

/* The buffer's bytes [from, to) are skipped as part of the damaged
 * stretch: notes where its last nonzero byte ends. */
static void damage_skip(cashback__seg_reader *r, size_t from, size_t to) {
  for (size_t i = to; i > from; i--)
    if (r->buf[i - 1]) {
      if (r->off + i > r->damage_nz)
        r->damage_nz = r->off + i;
      return;
    }
}

/* Moves the reader to its next whole valid record, skipping and counting
 * damage as it goes (and moving the segment's end in the batch past it).
 * A damaged stretch is counted once it is known to end: where a valid
 * record follows, or at the end of a closed segment (a torn tail, up to
 * its last nonzero byte: zeros after it are the space its writer wrote
 * ahead, and zeros alone are no damage); at the end of an open segment it
 * may be a write in progress, and waits. */
void cashback__spool_reader_next(cashback__seg_reader *r, cashback__batch *b) {
  cashback__batch_seg *g = &b->segs[r->seg];
  for (;;) {
    uint64_t at = r->off + r->pos;
    if (at >= r->size) {
      if (r->damage_at != UINT64_MAX && r->closed) {
        if (r->damage_nz > r->damage_at) {
          b->corrupt_regions++; /* damage up to the end of a closed segment */
          b->corrupt_bytes += r->damage_nz - r->damage_at;
        }
        g->end = r->size; /* nothing valid follows */
      }
      r->state = CASHBACK__RD_END;
      return;
    }
    size_t avail = r->have - r->pos;
    int more = r->off + r->have < r->size; /* file bytes past the buffer */
    if (avail && r->damage_at == UINT64_MAX && !r->closed &&
        r->buf[r->pos] == 0) {
      /* Where the next record goes, and its writer has not written it. */
      r->state = CASHBACK__RD_END;
      return;
    }
    cashback__rec rc = cashback__record_parse(r->buf + r->pos, avail, &r->info);
    if (rc == CASHBACK__REC_OK) {
      if (r->damage_at != UINT64_MAX) {
        b->corrupt_regions++; /* damage in the middle: skipped, counted */
        b->corrupt_bytes += at - r->damage_at;
        r->damage_at = UINT64_MAX;
        g->end = at; /* a cursor may go past it, even if the batch ends
                        here */
      }
      r->state = CASHBACK__RD_HEAD;
      return;
    }
    if (rc == CASHBACK__REC_SHORT) {
      if (more) {
        /* Read on, as far as the record claims (or a buffer's worth). */
        size_t need = r->cap;
        cashback__record_info head;
        if (avail >= 8 &&
            cashback__record_peek(r->buf + r->pos, avail, &head) !=
                CASHBACK__REC_CORRUPT &&
            head.len + CASHBACK__RECORD_HEADER_MAX > need)
          need = head.len + CASHBACK__RECORD_HEADER_MAX;
        if (cashback__spool_reader_fill(r, need) != 0) {
          r->state = CASHBACK__RD_ERROR;
          return;
        }
        continue;
      }
      /* The buffer holds the rest of the segment. A whole record after
       * this one makes it damage (a bad length), not a write in progress. */
      size_t next = cashback__record_resync(r->buf, r->have, r->pos + 1);
      if (next < r->have || r->closed) {
        damage_begin(r, at); /* at the end: a torn tail, counted there */
        damage_skip(r, r->pos, next);
        r->pos = next;
        continue;
      }
      r->state = CASHBACK__RD_END; /* a write in progress: wait for it */
      return;
    }
    /* Damage: look for where the next record may start. */
    damage_begin(r, at);
    size_t next = next_start(r->buf, r->have, r->pos + 1);
    if (next < r->have) {
      damage_skip(r, r->pos, next);
      r->pos = next;
      continue;
    }
    if (!more && !r->closed) {
      r->state =
          CASHBACK__RD_END; /* damage or a write in progress at the end */
      return;
    }
    damage_skip(r, r->pos, r->have);
    r->pos = r->have; /* no record can start in the rest of the buffer */
    if (more && cashback__spool_reader_fill(r, r->cap) != 0) {
      r->state = CASHBACK__RD_ERROR;
      return;
    }
  }
}

ssize_t cashback__spool_pread(cashback__spool *s, int fd, uint8_t *p, size_t n,
                              uint64_t off) {
  ssize_t got;
  do
    got = s->pread_fn(fd, p, n, (off_t)off);
  while (got < 0 && errno == EINTR);
  return got;
}
