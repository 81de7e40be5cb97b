/* ASCII text helpers, locale-free (tolower() and strcasecmp() follow the
 * locale): case folding, case-insensitive comparison and trimming of
 * counted text. */
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

#endif
