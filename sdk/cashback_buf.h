/* A growable byte buffer with a hard cap (like curl's dynbuf). */
#ifndef CASHBACK_BUF_H
#define CASHBACK_BUF_H

#include "cashback.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

typedef struct cashback__buf {
  char *data; /* always NUL-terminated once anything was added */
  size_t len;
  size_t cap;
  size_t max; /* the content never exceeds this many bytes */
} cashback__buf;

/* Starts an empty buffer that may hold at most `max` bytes. No allocation. */
void cashback__buf_init(cashback__buf *b, size_t max);
/* Frees the content; the buffer is empty and reusable afterwards. */
void cashback__buf_free(cashback__buf *b);
/* Empties the buffer, keeping its memory. */
void cashback__buf_reset(cashback__buf *b);
/* Appends; CASHBACK_E_TOO_BIG past the cap, CASHBACK_E_NOMEM. On failure the
 * content is unchanged. */
cashback_status cashback__buf_add(cashback__buf *b, const void *p, size_t n);
cashback_status cashback__buf_adds(cashback__buf *b, const char *s);
cashback_status cashback__buf_addf(cashback__buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
cashback_status cashback__buf_vaddf(cashback__buf *b, const char *fmt,
                                    va_list ap);
/* Makes room for `n` more bytes (and the NUL) at once, so that the appends
 * that follow do not reallocate: CASHBACK_E_TOO_BIG past the cap,
 * CASHBACK_E_NOMEM; the content is unchanged either way. */
cashback_status cashback__buf_reserve(cashback__buf *b, size_t n);
/* Cuts the content back to its first `len` bytes (`len` <= b->len). */
void cashback__buf_truncate(cashback__buf *b, size_t len);

/* JSON writers, byte for byte what cJSON 1.7 prints: a string of `len`
 * bytes in quotes, '"' '\\' \b \f \n \r \t escaped with a backslash,
 * other bytes below 0x20 as \u00xx (lowercase hex), every other byte
 * (DEL, UTF-8) as it is; and an integer in decimal (no floating point). On
 * failure (as cashback__buf_add) the content is unchanged. */
cashback_status cashback__buf_add_json_string(cashback__buf *b, const char *s,
                                              size_t len);
cashback_status cashback__buf_add_int(cashback__buf *b, int64_t v);
/* The length cashback__buf_add_json_string() appends, quotes included. */
size_t cashback__json_string_len(const char *s, size_t len);

/* Hands the content to the caller (free()) and empties the buffer. Never
 * NULL on success: an empty buffer yields "". */
char *cashback__buf_detach(cashback__buf *b, size_t *len);

/* Room for one more element in an array of `n` used and `*cap` allocated
 * elements of `size` bytes at `items` (NULL when `*cap` is 0): when full,
 * reallocated to twice `*cap` (`first` the first time). Returns the array
 * (maybe moved; `*cap` updated), or NULL when out of memory (or past
 * SIZE_MAX bytes), `items` then unchanged and still the caller's. */
void *cashback__grow(void *items, size_t n, size_t *cap, size_t size,
                     size_t first);

#endif
