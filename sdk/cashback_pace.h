/* Pacing a network's rate limit (Awin: at most 20 calls in any 60 s): a
 * sliding window over the start times of the last calls. Pure functions
 * on plain data; the sender keeps the times in its state file so that every
 * process keeps to one window. */
#ifndef CASHBACK_PACE_H
#define CASHBACK_PACE_H

#include <stddef.h>
#include <stdint.h>

#define CASHBACK__PACE_MAX 64 /* calls a window may allow, at most */

/* The calls made, oldest first (Unix ms), at most CASHBACK__PACE_MAX. */
typedef struct cashback__pace {
  int64_t at[CASHBACK__PACE_MAX];
  size_t n;
} cashback__pace;

/* When the next call may start (Unix ms, `now_ms` or later) so that no
 * `window_ms` holds more than `limit` calls (1..CASHBACK__PACE_MAX; 0: no
 * limit, `now_ms`). A call time after `now_ms` (the clock was set back)
 * counts as made now: the wait is never longer than `window_ms`. */
int64_t cashback__pace_next_ms(const cashback__pace *p, size_t limit,
                               int64_t window_ms, int64_t now_ms);

/* Records a call started at `now_ms`, keeping the last `limit` (at most
 * CASHBACK__PACE_MAX). */
void cashback__pace_record(cashback__pace *p, size_t limit, int64_t now_ms);

/* The times as one line "t1,t2,..." (`size` bytes, NUL-terminated; "" when
 * none or too small), and back; a malformed line gives no calls. */
void cashback__pace_format(const cashback__pace *p, char *out, size_t size);
void cashback__pace_parse(cashback__pace *p, const char *s, size_t len);

#endif
