/* Percent-decoding (RFC 3986), shared by the query and connection-string
 * parsers. */
#ifndef CASHBACK_PCT_H
#define CASHBACK_PCT_H

#include <stddef.h>

/* Decodes the byte at v[*i] (of `len` bytes) and advances *i past it: a
 * "%XX" escape (hex digits of either case), '+' as a space when
 * `plus_is_space`, else the byte itself. Returns the byte (0 for a NUL,
 * which callers usually refuse), or -1 for a bad escape. Never reads past
 * `len`. */
int cashback__pct_next(const char *v, size_t len, size_t *i, int plus_is_space);

#endif
