/* ASCII text helpers, locale-free (tolower() and strcasecmp() follow the
 * locale): case folding and case-insensitive comparison of counted text. */
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

#endif
