/* Time formats: ISO 8601 timestamps and configuration durations. */
#ifndef CASHBACK_TIME_H
#define CASHBACK_TIME_H

#include "cashback.h"

#include <stddef.h>
#include <stdint.h>

#define CASHBACK__ISO8601_MAX 32

/* "2026-11-23T19:42:00+01:00" for `unix_time` seen at UTC offset
 * `offset_min`, or "2026-11-23T18:42:00Z" when the offset is 0. `out` has
 * CASHBACK__ISO8601_MAX bytes. Returns CASHBACK_E_INVALID_ARGUMENT for a
 * time before 1970 or after 9999, or an offset beyond +-14 h. Thread-safe
 * (no gmtime()). */
cashback_status cashback__iso8601(int64_t unix_time, int offset_min, char *out);

/* Parses `len` bytes of an RFC 3339 timestamp (the grammar is in
 * cashback_time.c) into Unix seconds and the UTC offset in minutes.
 * CASHBACK_E_FIELD when the text is not one or lies outside 1970..9999
 * (the instant) or +-14:00 (the offset); nothing is written then. */
cashback_status cashback__iso8601_parse(const char *s, size_t len,
                                        int64_t *unix_time, int *offset_min);

/* Parses `len` bytes of a duration: digits with an optional unit s, m, h, d
 * ("30d", "12h", "3600"); CASHBACK_E_CONFIG on anything else or overflow. */
cashback_status cashback__duration_parse(const char *s, size_t len,
                                         int64_t *seconds);

/* Days since 1970-01-01 of a proleptic Gregorian date (month 1-12). */
int64_t cashback__days_from_civil(int64_t y, int m, int d);

/* The number of days of month `m` (1-12) of the proleptic Gregorian year
 * `y`. */
int cashback__days_in_month(int64_t y, int m);

/* The monotonic clock in milliseconds (for deadlines and elapsed times;
 * not a date). */
int64_t cashback__mono_ms(void);

/* The current time of the system clock, Unix seconds. */
int64_t cashback__system_now(void);

#endif
