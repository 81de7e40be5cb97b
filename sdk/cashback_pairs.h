/* `key=value` pairs separated by ';', values percent-decoded: the syntax of
 * the connection string and of the event text (docs/events.md). One
 * splitter and one value decoder for both. */
#ifndef CASHBACK_PAIRS_H
#define CASHBACK_PAIRS_H

#include <stddef.h>

/* `*s` (`*len` bytes) without the blanks (space, tab, CR, LF) around it. */
void cashback__pairs_trim(const char **s, size_t *len);

/* One pair of the text, blanks around key and value dropped. `eq` is 0 for
 * a pair without '=' (then `value` is NULL); `index` is the pair's position
 * (1 for the first; empty pairs, as in ";;", count). */
typedef struct cashback__pair {
  const char *key;
  size_t key_len;
  const char *value; /* raw: still percent-encoded */
  size_t value_len;
  int eq;
  size_t index;
} cashback__pair;

typedef struct cashback__pairs {
  const char *s;
  size_t len, pos, index;
} cashback__pairs;

/* Starts splitting the `len` bytes at `s` (not NUL-terminated). */
void cashback__pairs_init(cashback__pairs *it, const char *s, size_t len);

/* The next non-empty pair: 1 and fills `out`, or 0 at the end. Never reads
 * past `len`; a NUL byte is an ordinary byte here (callers refuse it). */
int cashback__pairs_next(cashback__pairs *it, cashback__pair *out);

typedef enum cashback__pct_result {
  CASHBACK__PAIRS_OK = 0,
  CASHBACK__PAIRS_BAD_ESCAPE, /* '%' not followed by two hex digits */
  CASHBACK__PAIRS_NUL,        /* the value decodes to a NUL byte */
  CASHBACK__PAIRS_TOO_LONG    /* more than `cap` bytes decoded */
} cashback__pct_result;

/* Percent-decodes a raw value ('+' stays '+') into `out` (`cap` + 1 bytes),
 * NUL-terminated, and its length into `*out_len`. Writes at most `cap` + 1
 * bytes whatever the input. */
cashback__pct_result cashback__pairs_decode(const char *v, size_t len,
                                            char *out, size_t cap,
                                            size_t *out_len);

#endif
