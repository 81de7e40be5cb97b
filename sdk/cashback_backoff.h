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

/* The most a Retry-After is honoured for (docs/protocol.md, section 7). */
#define CASHBACK__RETRY_AFTER_MAX_MS (INT64_C(3600) * 1000)

/* Parses a Retry-After value (`len` bytes): delta-seconds, or an HTTP-date
 * (IMF-fixdate "Sun, 06 Nov 1994 08:49:37 GMT"; RFC 850 and asctime forms
 * too). A date is read against the same response's Date header (`date`,
 * `date_len` bytes; NULL or unparsable: against `now`, Unix seconds), so
 * that a sender whose clock is off waits what the network meant. Gives the
 * delay in milliseconds, 0 for a date not after the reference. Returns 0 on
 * success, -1 when `value` is unparsable. */
int cashback__retry_after_ms(const char *value, size_t len, const char *date,
                             size_t date_len, int64_t now, int64_t *delay_ms);

/* The farthest from now a retry is ever scheduled: the larger of the
 * backoff cap and CASHBACK__RETRY_AFTER_MAX_MS. */
int64_t cashback__retry_bound_ms(int64_t cap_ms);

/* The delay before a retry: the backoff draw `backoff_ms` plus what the
 * network asked for (`retry_after_ms`, < 0: no Retry-After; at most
 * CASHBACK__RETRY_AFTER_MAX_MS of it counts). Retry-After adds to the
 * backoff, it never shortens it; the sum is at most
 * cashback__retry_bound_ms(cap_ms). Never negative, never overflows. */
int64_t cashback__retry_delay_ms(int64_t backoff_ms, int64_t retry_after_ms,
                                 int64_t cap_ms);

/* The retry time to keep to, from a stored one: `next_ms` (Unix ms; <= 0
 * or not after `now_ms`: due now, given back as is) brought to at most
 * `now_ms + delay_ms`, `delay_ms` being the delay it was scheduled with
 * (<= 0: unknown), itself at most cashback__retry_bound_ms(cap_ms). So a
 * clock set back, or a damaged or forged file, never puts a retry further
 * away than it was meant to be. */
int64_t cashback__retry_clamp_ms(int64_t next_ms, int64_t delay_ms,
                                 int64_t now_ms, int64_t cap_ms);

/* Parses an HTTP-date (the forms above) into Unix seconds; 0 on success. */
int cashback__http_date(const char *value, size_t len, int64_t *unix_time);

#endif
