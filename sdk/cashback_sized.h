/*
 * Public output structs that can grow without breaking the ABI
 * (include/cashback.h, "Structs that grow"). Their first member is
 * `size_t size`: the caller sets it to sizeof the struct it was compiled
 * with, and the library writes no more than that many bytes, so a program
 * built against an older header gets the prefix it knows and a newer one
 * keeps its extra bytes untouched. `size` itself is never written by the
 * library for a caller's struct; for a struct the library hands to a
 * callback, the library sets it.
 */
#ifndef CASHBACK_SIZED_H
#define CASHBACK_SIZED_H

#include "cashback.h"

#include <stddef.h>

/* The end of a struct's first published layout: the end of its member
 * `last` there. It stays when members are added after `last`, so that a
 * caller built against the first layout is still taken. */
#define CASHBACK__SIZED_MIN(type, last)                                        \
  (offsetof(type, last) + sizeof(((type *)0)->last))

/* CASHBACK_OK when a caller's `size` covers the first published layout
 * (`min`); else CASHBACK_E_INVALID_ARGUMENT with why in `why` (naming
 * `what`, e.g. "cashback_get_status: out->size"). */
cashback_status cashback__sized_check(size_t size, size_t min, const char *what,
                                      size_t full, char *why, size_t why_size);

/* Copies the filled struct `full` (`full_size` bytes, its `size` member
 * first) to the caller's `out` (whose `size` was checked), writing the
 * bytes after `size` up to the smaller of the two sizes, and nothing
 * else. */
void cashback__sized_copy(void *out, const void *full, size_t full_size);

#endif
