/* Retry policy: pure functions, no I/O. */
#ifndef CASHBACK_BACKOFF_H
#define CASHBACK_BACKOFF_H

#include <stddef.h>
#include <stdint.h>

/* Delay before retry number `attempt` (1 for the first retry), full jitter:
 * a uniform draw in [0, min(cap, base * 2^(attempt-1))] milliseconds,
 * `random` being a uniform 64-bit value. Never overflows. */
int64_t cashback__backoff_ms(unsigned attempt, int64_t base_ms, int64_t cap_ms,
                             uint64_t random);

/* Parses a Retry-After value (`len` bytes): delta-seconds, or an HTTP-date
 * (IMF-fixdate "Sun, 06 Nov 1994 08:49:37 GMT"; RFC 850 and asctime forms
 * too). Gives the delay in milliseconds from `now` (Unix seconds), 0 for a
 * date in the past. Returns 0 on success, -1 when unparsable. */
int cashback__retry_after_ms(const char *value, size_t len, int64_t now,
                             int64_t *delay_ms);

/* Parses an HTTP-date (the forms above) into Unix seconds; 0 on success. */
int cashback__http_date(const char *value, size_t len, int64_t *unix_time);

#endif
