/* Cookie header parsing (RFC 6265 cookie-string, leniently). */
#ifndef CASHBACK_COOKIE_H
#define CASHBACK_COOKIE_H

#include <stddef.h>

/* Iterates the name=value pairs of a Cookie header of `len` bytes. Start
 * with *pos = 0; each call returns 1 and points `name`/`value` into `h`
 * (whitespace around them trimmed, one pair of surrounding double quotes
 * removed from the value), or 0 at the end. Pieces without '=' are skipped.
 * Never reads past `len`, never allocates. */
int cashback__cookie_next(const char *h, size_t len, size_t *pos,
                          const char **name, size_t *name_len,
                          const char **value, size_t *value_len);

#endif
