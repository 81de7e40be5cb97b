/* ASCII text helpers, locale-free (tolower() and strcasecmp() follow the
 * locale): case folding, case-insensitive comparison, trimming of counted
 * text, the SDK's character classes (the one place each id, key, token and
 * hex rule is written) and the bounded copy of counted text. */
#ifndef CASHBACK_ASCII_H
#define CASHBACK_ASCII_H

#include <stddef.h>

/* `c` with A-Z folded to a-z; every other value as it is. */
int cashback__ascii_lower(int c);

/* 1 when `a` (`alen` bytes) equals NUL-terminated `b`, ASCII case aside. */
int cashback__ascii_ieq(const char *a, size_t alen, const char *b);

/* 1 when `s` (`len` bytes) starts with NUL-terminated `prefix`, ASCII case
 * aside. */
int cashback__ascii_iprefix(const char *s, size_t len, const char *prefix);

/* Narrows `*s` (`*len` bytes) by the bytes of NUL-terminated `blanks` at
 * both ends (" \t" for blanks within a line, " \t\r\n" also for a line's
 * end). Reads only the `*len` bytes. */
void cashback__ascii_trim(const char **s, size_t *len, const char *blanks);

/* The next item of the comma-separated list `s` (`len` bytes), from `*pos`
 * (0 for the first) to the next comma or the end, narrowed by blanks
 * (space, tab) into `*item` (`*ilen` bytes, 0 for an empty item: "a,,b",
 * a trailing comma); `*pos` then past its comma. 1 for an item, 0 when the
 * list has none left (a list of `len` 0 has one empty item). */
int cashback__ascii_list_next(const char *s, size_t len, size_t *pos,
                              const char **item, size_t *ilen);

/* The character classes of the SDK's identifiers; a byte outside ASCII (or
 * a NUL) is in none of them. */
typedef enum {
  /* A-Z a-z 0-9 . _ -: merchant and key ids, metadata keys, reasons,
   * landing parameter names. */
  CASHBACK__ASCII_ID,
  /* CASHBACK__ASCII_ID and ~: click tokens (RFC 3986 unreserved). */
  CASHBACK__ASCII_TOKEN,
  /* 0x21-0x7e, printable without space: order ids, skus, vouchers. */
  CASHBACK__ASCII_GRAPH,
  /* 0-9 a-f, lowercase hex as the SDK writes it: event ids, MACs. */
  CASHBACK__ASCII_HEX
} cashback__ascii_class;

/* How many leading bytes of `s` (`len` bytes) are of class `cls`: `len`
 * when all are. Reads only the `len` bytes. */
size_t cashback__ascii_span(const char *s, size_t len,
                            cashback__ascii_class cls);

/* 1 when `s` is `min` to `max` bytes (`len`), each of class `cls`; 0
 * otherwise, and when `s` is NULL. */
int cashback__ascii_all(const char *s, size_t len, size_t min, size_t max,
                        cashback__ascii_class cls);

/* Copies the `len` bytes at `src` into `dst` (`size` bytes), cut to `size`
 * - 1, and a NUL after them; nothing when `size` is 0. `src` may be NULL
 * when `len` is 0. Returns the number of bytes copied (without the NUL).
 * For text whose cut is harmless or checked before (a detail, a field the
 * setters validated); never splits anything but bytes. */
size_t cashback__ascii_copy(char *dst, size_t size, const char *src,
                            size_t len);

#endif
