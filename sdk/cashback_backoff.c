/*
 * Retry policy: exponential backoff with full jitter, and Retry-After
 * (delta-seconds or HTTP-date). Pure functions: no clock, no I/O, no
 * locale (own month table, own days-from-civil; no strptime or timegm).
 */
#include "cashback_backoff.h"
#include "cashback_ascii.h"
#include "cashback_time.h"

#include <string.h>

/* The largest delay we ever compute, so that "* 1000" cannot overflow. */
#define DELAY_S_MAX (INT64_MAX / 1000)

int64_t cashback__backoff_ms(unsigned attempt, int64_t base_ms, int64_t cap_ms,
                             uint64_t random) {
  if (base_ms <= 0 || cap_ms <= 0)
    return 0;
  if (attempt == 0)
    attempt = 1;
  int64_t ceiling = base_ms < cap_ms ? base_ms : cap_ms;
  /* Doubling stops at the cap, so at most 63 rounds and never an overflow. */
  for (unsigned i = 1; i < attempt && ceiling < cap_ms; i++)
    ceiling = ceiling > cap_ms / 2 ? cap_ms : ceiling * 2;
  /* Uniform in [0, ceiling]; the modulo bias is below 2^-63 * ceiling. */
  return (int64_t)(random % ((uint64_t)ceiling + 1));
}

/* A cursor over the value; every reader checks the remaining length. */
typedef struct cur {
  const char *p;
  size_t n;
} cur;

static int lit(cur *c, const char *s) {
  size_t k = strlen(s);
  if (c->n < k || memcmp(c->p, s, k) != 0)
    return -1;
  c->p += k;
  c->n -= k;
  return 0;
}

/* Exactly `k` digits. */
static int digits(cur *c, size_t k, int *out) {
  if (c->n < k)
    return -1;
  int v = 0;
  for (size_t i = 0; i < k; i++) {
    if (c->p[i] < '0' || c->p[i] > '9')
      return -1;
    v = v * 10 + (c->p[i] - '0');
  }
  c->p += k;
  c->n -= k;
  *out = v;
  return 0;
}

/* One of `names` (compared case-insensitively) of `len` letters followed
 * by a non-letter or the end; gives its index. */
static int name(cur *c, const char *const *names, int count, int *out) {
  size_t k = 0;
  while (k < c->n && cashback__ascii_lower((unsigned char)c->p[k]) >= 'a' &&
         cashback__ascii_lower((unsigned char)c->p[k]) <= 'z')
    k++;
  for (int i = 0; i < count; i++) {
    if (strlen(names[i]) != k)
      continue;
    size_t j = 0;
    while (j < k &&
           cashback__ascii_lower((unsigned char)c->p[j]) == names[i][j])
      j++;
    if (j == k) {
      c->p += k;
      c->n -= k;
      *out = i;
      return 0;
    }
  }
  return -1;
}

static const char *const MONTHS[12] = {"jan", "feb", "mar", "apr",
                                       "may", "jun", "jul", "aug",
                                       "sep", "oct", "nov", "dec"};
static const char *const DAYS[7] = {"mon", "tue", "wed", "thu",
                                    "fri", "sat", "sun"};
static const char *const LONG_DAYS[7] = {"monday",   "tuesday", "wednesday",
                                         "thursday", "friday",  "saturday",
                                         "sunday"};

/* "HH:MM:SS" */
static int hms(cur *c, int *h, int *m, int *s) {
  if (digits(c, 2, h) || lit(c, ":") || digits(c, 2, m) || lit(c, ":") ||
      digits(c, 2, s))
    return -1;
  return *h > 23 || *m > 59 || *s > 60 ? -1 : 0; /* 60: a leap second */
}

static int assemble(int64_t y, int mon, int d, int h, int mi, int s,
                    int64_t *out) {
  if (mon < 1 || mon > 12 || d < 1 || d > cashback__days_in_month(y, mon))
    return -1;
  *out = cashback__days_from_civil(y, mon, d) * 86400 + h * 3600 + mi * 60 + s;
  return 0;
}

int cashback__http_date(const char *value, size_t len, int64_t *unix_time) {
  if (!value || !unix_time)
    return -1;
  cur c = {value, len};
  int wd, d, mon, y, h, mi, s;
  /* IMF-fixdate: "Sun, 06 Nov 1994 08:49:37 GMT" */
  if (name(&c, DAYS, 7, &wd) == 0) {
    if (c.n > 0 && c.p[0] == ',') {
      if (lit(&c, ", ") || digits(&c, 2, &d) || lit(&c, " ") ||
          name(&c, MONTHS, 12, &mon) || lit(&c, " ") || digits(&c, 4, &y) ||
          lit(&c, " ") || hms(&c, &h, &mi, &s) || lit(&c, " GMT") || c.n)
        return -1;
      return assemble(y, mon + 1, d, h, mi, s, unix_time);
    }
    /* asctime: "Sun Nov  6 08:49:37 1994" */
    if (lit(&c, " ") || name(&c, MONTHS, 12, &mon) || lit(&c, " "))
      return -1;
    if (c.n > 0 && c.p[0] == ' ') {
      c.p++;
      c.n--;
      if (digits(&c, 1, &d))
        return -1;
    } else if (digits(&c, 2, &d)) {
      return -1;
    }
    if (lit(&c, " ") || hms(&c, &h, &mi, &s) || lit(&c, " ") ||
        digits(&c, 4, &y) || c.n)
      return -1;
    return assemble(y, mon + 1, d, h, mi, s, unix_time);
  }
  /* RFC 850: "Sunday, 06-Nov-94 08:49:37 GMT". A two-digit year below 70
   * is 20yy, otherwise 19yy (no HTTP-date predates 1970). */
  if (name(&c, LONG_DAYS, 7, &wd) || lit(&c, ", ") || digits(&c, 2, &d) ||
      lit(&c, "-") || name(&c, MONTHS, 12, &mon) || lit(&c, "-") ||
      digits(&c, 2, &y) || lit(&c, " ") || hms(&c, &h, &mi, &s) ||
      lit(&c, " GMT") || c.n)
    return -1;
  y += y < 70 ? 2000 : 1900;
  return assemble(y, mon + 1, d, h, mi, s, unix_time);
}

int cashback__retry_after_ms(const char *value, size_t len, const char *date,
                             size_t date_len, int64_t now, int64_t *delay_ms) {
  if (!value || !delay_ms)
    return -1;
  /* Optional white space around the field value (RFC 9110 OWS). */
  cashback__ascii_trim(&value, &len, " \t");
  if (len == 0)
    return -1;
  if (value[0] >= '0' && value[0] <= '9') {
    int64_t secs = 0;
    for (size_t i = 0; i < len; i++) {
      if (value[i] < '0' || value[i] > '9')
        return -1;
      /* A huge delta is clamped, not an error: the caller caps it anyway. */
      if (secs <= (DELAY_S_MAX - 9) / 10)
        secs = secs * 10 + (value[i] - '0');
      else
        secs = DELAY_S_MAX;
    }
    *delay_ms = secs * 1000;
    return 0;
  }
  int64_t t;
  if (cashback__http_date(value, len, &t))
    return -1;
  /* The network's own clock, when it said what it was (RFC 9110 10.2.3:
   * the delay is the date minus the response's Date). */
  int64_t ref;
  if (!date || cashback__http_date(date, date_len, &ref))
    ref = now;
  if (t <= ref)
    *delay_ms = 0;
  else if (ref < t - DELAY_S_MAX) /* t is a 4-digit year: no overflow */
    *delay_ms = DELAY_S_MAX * 1000;
  else
    *delay_ms = (t - ref) * 1000;
  return 0;
}

int64_t cashback__retry_bound_ms(int64_t cap_ms) {
  return cap_ms > CASHBACK__RETRY_AFTER_MAX_MS ? cap_ms
                                               : CASHBACK__RETRY_AFTER_MAX_MS;
}

int64_t cashback__retry_delay_ms(int64_t backoff_ms, int64_t retry_after_ms,
                                 int64_t cap_ms) {
  int64_t bound = cashback__retry_bound_ms(cap_ms);
  int64_t d = backoff_ms < 0 ? 0 : backoff_ms > bound ? bound : backoff_ms;
  if (retry_after_ms > 0)
    d += retry_after_ms < CASHBACK__RETRY_AFTER_MAX_MS
             ? retry_after_ms
             : CASHBACK__RETRY_AFTER_MAX_MS;
  return d > bound ? bound : d; /* both terms <= bound: no overflow */
}

int64_t cashback__retry_clamp_ms(int64_t next_ms, int64_t delay_ms,
                                 int64_t now_ms, int64_t cap_ms) {
  if (next_ms <= now_ms)
    return next_ms;
  int64_t bound = cashback__retry_bound_ms(cap_ms);
  int64_t d = delay_ms > 0 && delay_ms < bound ? delay_ms : bound;
  if (now_ms > INT64_MAX - d) /* a clock near the end of time */
    return next_ms;
  /* next_ms > now_ms: the difference fits in 64 unsigned bits. */
  return (uint64_t)next_ms - (uint64_t)now_ms > (uint64_t)d ? now_ms + d
                                                            : next_ms;
}
