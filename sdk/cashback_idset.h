/* A set of ids (NUL-terminated strings) with a value each, sized once: one
 * lookup per id instead of a scan or a sort. For matching a batch's events
 * to the answer's entries, and for finding copies of one event in a batch. */
#ifndef CASHBACK_IDSET_H
#define CASHBACK_IDSET_H

#include "cashback.h"

#include <stddef.h>

typedef struct cashback__idset_slot {
  const char *id; /* NULL: free */
  size_t value;
} cashback__idset_slot;

/* Owned by its user, used by one thread at a time. The ids are not copied:
 * each must stay valid, unchanged, as long as the set is used. */
typedef struct cashback__idset {
  cashback__idset_slot *slot;
  size_t mask; /* slots - 1 */
  size_t n, cap;
} cashback__idset;

/* An empty set for at most `cap` ids (0 allowed): CASHBACK_E_NOMEM, or OK.
 * cashback__idset_free() afterwards in both cases. */
cashback_status cashback__idset_init(cashback__idset *s, size_t cap);
void cashback__idset_free(cashback__idset *s);
/* Adds `id` with `value` unless it is there: returns the value the set now
 * holds for it (`value` when added, the earlier one otherwise); SIZE_MAX
 * when it is not there and the set already holds `cap` ids. */
size_t cashback__idset_put(cashback__idset *s, const char *id, size_t value);
/* The value of `id`, or SIZE_MAX when it is not in the set. */
size_t cashback__idset_get(const cashback__idset *s, const char *id);

#endif
