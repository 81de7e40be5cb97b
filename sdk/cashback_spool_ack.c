/*
 * Acknowledging a batch: each segment's cursor moves past its longest run
 * of resolved records; a finished closed segment is deleted.
 */
#include "cashback_spool_internal.h"

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

cashback_status cashback__spool_ack(cashback__spool *s,
                                    const cashback__batch *b,
                                    const unsigned char *resolved) {
  cashback_status st = CASHBACK_OK;
  /* The items of one segment are in file order, but interleaved with other
   * segments' (the batch is in stamp order). */
  for (size_t g = 0; g < b->nsegs; g++) {
    const cashback__batch_seg *seg = &b->segs[g];
    uint64_t cursor = seg->start;
    int all = 1;
    for (size_t i = 0; i < b->n && all; i++) {
      if (b->items[i].seg != g)
        continue;
      if (!resolved[i])
        all = 0;
      else
        cursor = b->items[i].end;
    }
    /* The capacity count loses the records passed, not what the cursor
     * also passes after them (damage, or the zeros a writer killed wrote
     * ahead: never counted as data): a scan settles those. */
    int64_t passed = -(int64_t)(cursor - seg->start);
    if (all && seg->end > cursor)
      cursor = seg->end; /* also past damage after the last record */
    if (all && seg->complete && seg->closed) {
      cashback__spool_remove_segment(s, seg->name);
      cashback__spool_usage_add(s, passed);
      continue;
    }
    if (cursor > seg->start) {
      cashback_status r = cashback__spool_write_ack(s, seg->name, cursor);
      if (r != CASHBACK_OK)
        st = r;
      else
        cashback__spool_usage_add(s, passed);
    }
  }
  return st;
}
