/*
 * A sliding-window pacer (cashback_pace.h): the next call waits until the
 * oldest of the last `limit` calls is `window_ms` old.
 */
#include "cashback_pace.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

int64_t cashback__pace_next_ms(const cashback__pace *p, size_t limit,
                               int64_t window_ms, int64_t now_ms) {
  if (limit == 0 || limit > CASHBACK__PACE_MAX || p->n < limit)
    return now_ms;
  int64_t oldest = p->at[p->n - limit];
  if (oldest > now_ms)
    oldest = now_ms; /* made "in the future": the clock went back */
  int64_t next = oldest + window_ms;
  return next > now_ms ? next : now_ms;
}

void cashback__pace_record(cashback__pace *p, size_t limit, int64_t now_ms) {
  if (limit == 0 || limit > CASHBACK__PACE_MAX)
    limit = CASHBACK__PACE_MAX;
  while (p->n >= limit) {
    memmove(p->at, p->at + 1, (p->n - 1) * sizeof(p->at[0]));
    p->n--;
  }
  p->at[p->n++] = now_ms;
}

void cashback__pace_format(const cashback__pace *p, char *out, size_t size) {
  size_t used = 0;
  if (size == 0)
    return;
  out[0] = '\0';
  for (size_t i = 0; i < p->n && i < CASHBACK__PACE_MAX; i++) {
    int m =
        snprintf(out + used, size - used, "%s%" PRId64, i ? "," : "", p->at[i]);
    if (m < 0 || (size_t)m >= size - used) {
      out[0] = '\0';
      return;
    }
    used += (size_t)m;
  }
}

void cashback__pace_parse(cashback__pace *p, const char *s, size_t len) {
  memset(p, 0, sizeof(*p));
  size_t i = 0;
  while (i < len) {
    int64_t v = 0;
    size_t start = i;
    for (; i < len && s[i] >= '0' && s[i] <= '9' && i - start < 15; i++)
      v = v * 10 + (s[i] - '0');
    if (i == start || p->n == CASHBACK__PACE_MAX || (i < len && s[i] != ',')) {
      memset(p, 0, sizeof(*p));
      return;
    }
    p->at[p->n++] = v;
    if (i < len)
      i++; /* the comma */
  }
}
