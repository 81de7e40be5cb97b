/* Query-string parsing for landing requests. */
#ifndef CASHBACK_QUERY_H
#define CASHBACK_QUERY_H

#include "cashback.h"

#include <stddef.h>

/* Finds parameter `name` (exact, case-sensitive) in `len` bytes of `q`, a
 * raw query string or a request target. Input that starts with '/', '?' or
 * "scheme://" is a request target: everything up to and including its first
 * '?' is skipped. Anything else is a raw query, taken whole ('?' is legal in
 * a query value). A '#' ends the query. Parameters are
 * separated by '&' (';' is not a separator). The value is percent-decoded
 * ('+' is a space) into `out` (`size` bytes, NUL-terminated), its length in
 * `*out_len`.
 * Returns CASHBACK_OK when found; CASHBACK_E_CLICK_NONE when absent or
 * present with an empty value; CASHBACK_E_CLICK_MALFORMED for a bad %-escape,
 * a decoded NUL, a value that does not fit, or the parameter repeated with
 * different values (identical repeats are fine). Never reads past `len`,
 * never allocates. */
cashback_status cashback__query_param(const char *q, size_t len,
                                      const char *name, char *out, size_t size,
                                      size_t *out_len);

#endif
