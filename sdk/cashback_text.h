/* Text that came from a caller, a file or the network, made safe for a
 * message (an error detail, a log line, an exception, a terminal): the one
 * place that decides how a byte is shown (docs/security.md). */
#ifndef CASHBACK_TEXT_H
#define CASHBACK_TEXT_H

#include "cashback.h"

#include <stdarg.h>
#include <stddef.h>

/* Writes the `len` bytes at `in` (NULs included) into `out` (`size` bytes)
 * as printable ASCII, NUL-terminated when `size` > 0: bytes 0x20-0x7e as
 * they are, every other byte (NUL, control characters, DEL, 0x80-0xff) as
 * the four characters \xNN (lowercase hex). When the result does not fit,
 * it is cut between two shown bytes and ends with "..." (the marker, inside
 * `size`). Returns the length written. Backslashes are left alone, so that
 * text which is already printable is copied unchanged (applying it twice
 * changes nothing). Never allocates; thread-safe. */
size_t cashback__printable(char *out, size_t size, const void *in, size_t len);

/* The longest formatted text cashback__vprintablef() takes (a longer one
 * is cut and marked); the public cashback_vprintablef() documents it. */
#define CASHBACK__PRINTABLEF_MAX 4095

/* vsnprintf() into `out`, then cashback__printable() of the result: the
 * sink of every message, and of the programs' messages, so one function
 * under both names (cashback_vprintablef() in cashback.h). A formatted
 * text longer than `size` - 1 bytes is cut and ends with "...". It is
 * formatted into a buffer of its own first, so `out` may be one of the
 * arguments (a prefix put before the detail already in `out`). */
#define cashback__vprintablef cashback_vprintablef
#define cashback__printablef cashback_printablef

/* strerror_r() of `e` into `buf` (`size` bytes): the text of an errno for a
 * message, thread-safe (strerror() is not). Returns the text, which may be a
 * static string rather than `buf`. */
const char *cashback__errtext(int e, char *buf, size_t size);

#endif
