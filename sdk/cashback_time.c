/*
 * Time formats: ISO 8601 timestamps and configuration durations. Calendar
 * arithmetic is done here (proleptic Gregorian, days-from-civil inverse), so
 * there is no gmtime(), no TZ and no locale involved.
 */
#if !defined(_GNU_SOURCE) && !defined(_POSIX_C_SOURCE)
#define _POSIX_C_SOURCE 200809L /* clock_gettime() under -std=c11 */
#endif

#include "cashback_time.h"

#include <time.h>

/* 9999-12-31T23:59:59Z, the last instant with a four-digit year. */
#define LAST_SECOND INT64_C(253402300799)
/* UTC offsets in use range from -12:00 to +14:00; accept +-14:00. */
#define OFFSET_MAX_MIN 840

/*
 * Civil date of a day count since 1970-01-01 (H. Hinnant's civil_from_days).
 * Valid for days >= -719468 (0000-03-01), which covers the range here.
 */
static void civil_from_days(int64_t z, int *year, int *month, int *day) {
  z += 719468;
  int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  int64_t doe = z - era * 146097; /* 0..146096 */
  int64_t yoe =
      (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365; /* 0..399 */
  int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);     /* 0..365 */
  int64_t mp = (5 * doy + 2) / 153;                          /* 0..11 */
  int64_t d = doy - (153 * mp + 2) / 5 + 1;                  /* 1..31 */
  int64_t m = mp < 10 ? mp + 3 : mp - 9;                     /* 1..12 */
  int64_t y = yoe + era * 400 + (m <= 2 ? 1 : 0);
  *year = (int)y;
  *month = (int)m;
  *day = (int)d;
}

/* `v` (0 to 10^width - 1) in `width` decimal digits, zero-padded. */
static void put_digits(char *out, int v, int width) {
  for (int i = width - 1; i >= 0; i--, v /= 10)
    out[i] = (char)('0' + v % 10);
}

/*
 * The range applies to the instant: 1970-01-01T00:00:00Z to
 * 9999-12-31T23:59:59Z. The local wall-clock time may fall on the evening
 * of 1969-12-31 (0 at -05:00), but not past year 9999 (the year would need
 * five digits), which is refused as well.
 */
cashback_status cashback__iso8601(int64_t unix_time, int offset_min,
                                  char *out) {
  if (out == NULL)
    return CASHBACK_E_INVALID_ARGUMENT;
  out[0] = '\0';
  if (unix_time < 0 || unix_time > LAST_SECOND)
    return CASHBACK_E_INVALID_ARGUMENT;
  if (offset_min < -OFFSET_MAX_MIN || offset_min > OFFSET_MAX_MIN)
    return CASHBACK_E_INVALID_ARGUMENT;
  int64_t local = unix_time + (int64_t)offset_min * 60;
  if (local > LAST_SECOND)
    return CASHBACK_E_INVALID_ARGUMENT;
  /* Floor division: local may be slightly negative. */
  int64_t days = local >= 0 ? local / 86400 : -((-local + 86399) / 86400);
  int64_t secs = local - days * 86400; /* 0..86399 */
  int year, month, day;
  civil_from_days(days, &year, &month, &day);
  int hh = (int)(secs / 3600), mm = (int)(secs / 60 % 60),
      ss = (int)(secs % 60);
  /* "YYYY-MM-DDTHH:MM:SS" then "Z" or "+HH:MM"; no snprintf (a report
   * writes two or three of these). */
  put_digits(out, year, 4);
  out[4] = '-';
  put_digits(out + 5, month, 2);
  out[7] = '-';
  put_digits(out + 8, day, 2);
  out[10] = 'T';
  put_digits(out + 11, hh, 2);
  out[13] = ':';
  put_digits(out + 14, mm, 2);
  out[16] = ':';
  put_digits(out + 17, ss, 2);
  if (offset_min == 0) {
    out[19] = 'Z';
    out[20] = '\0';
  } else {
    int abs_off = offset_min < 0 ? -offset_min : offset_min;
    out[19] = offset_min < 0 ? '-' : '+';
    put_digits(out + 20, abs_off / 60, 2);
    out[22] = ':';
    put_digits(out + 23, abs_off % 60, 2);
    out[25] = '\0';
  }
  return CASHBACK_OK;
}

/* H. Hinnant's days_from_civil. */
int64_t cashback__days_from_civil(int64_t y, int m, int d) {
  y -= m <= 2;
  int64_t era = (y >= 0 ? y : y - 399) / 400;
  int64_t yoe = y - era * 400;                                   /* 0..399 */
  int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1; /* 0..365 */
  int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;           /* 0..146096 */
  return era * 146097 + doe - 719468;
}

int cashback__days_in_month(int64_t y, int m) {
  static const int days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  return m == 2 && leap ? 29 : days[m - 1];
}

int64_t cashback__mono_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* `n` digits at s[*i] (bounded by len) as a number; -1 when not digits. */
static int digits(const char *s, size_t len, size_t *i, int n) {
  int v = 0;
  for (int k = 0; k < n; k++, (*i)++) {
    if (*i >= len || s[*i] < '0' || s[*i] > '9')
      return -1;
    v = v * 10 + (s[*i] - '0');
  }
  return v;
}

static int expect(const char *s, size_t len, size_t *i, char c) {
  if (*i >= len || s[*i] != c)
    return 0;
  (*i)++;
  return 1;
}

/*
 * Grammar (RFC 3339 section 5.6, with its "T" / "t" / " " separator):
 *   YYYY-MM-DD ("T"/"t"/" ") hh:mm:ss ["." 1*9DIGIT] ("Z"/"z"/("+"/"-")hh:mm)
 * The fraction is dropped (the protocol has second precision). A leap
 * second (ss = 60) is refused: Unix time has none. The offset's minutes
 * are 00-59 and its whole at most 14:00.
 */
cashback_status cashback__iso8601_parse(const char *s, size_t len,
                                        int64_t *unix_time, int *offset_min) {
  if (s == NULL || unix_time == NULL || offset_min == NULL)
    return CASHBACK_E_INVALID_ARGUMENT;
  size_t i = 0;
  int y = digits(s, len, &i, 4);
  if (y < 0 || !expect(s, len, &i, '-'))
    return CASHBACK_E_FIELD;
  int mo = digits(s, len, &i, 2);
  if (mo < 1 || mo > 12 || !expect(s, len, &i, '-'))
    return CASHBACK_E_FIELD;
  int d = digits(s, len, &i, 2);
  if (d < 1 || d > cashback__days_in_month(y, mo))
    return CASHBACK_E_FIELD;
  if (i >= len || (s[i] != 'T' && s[i] != 't' && s[i] != ' '))
    return CASHBACK_E_FIELD;
  i++;
  int hh = digits(s, len, &i, 2);
  if (hh < 0 || hh > 23 || !expect(s, len, &i, ':'))
    return CASHBACK_E_FIELD;
  int mm = digits(s, len, &i, 2);
  if (mm < 0 || mm > 59 || !expect(s, len, &i, ':'))
    return CASHBACK_E_FIELD;
  int ss = digits(s, len, &i, 2);
  if (ss < 0 || ss > 59)
    return CASHBACK_E_FIELD;
  if (i < len && s[i] == '.') {
    size_t start = ++i;
    while (i < len && s[i] >= '0' && s[i] <= '9')
      i++;
    if (i == start || i - start > 9)
      return CASHBACK_E_FIELD;
  }
  int off;
  if (i < len && (s[i] == 'Z' || s[i] == 'z')) {
    off = 0;
    i++;
  } else if (i < len && (s[i] == '+' || s[i] == '-')) {
    int sign = s[i++] == '-' ? -1 : 1;
    int oh = digits(s, len, &i, 2);
    if (oh < 0 || !expect(s, len, &i, ':'))
      return CASHBACK_E_FIELD;
    int om = digits(s, len, &i, 2);
    if (om < 0 || om > 59)
      return CASHBACK_E_FIELD;
    off = sign * (oh * 60 + om);
    if (off < -OFFSET_MAX_MIN || off > OFFSET_MAX_MIN)
      return CASHBACK_E_FIELD;
  } else {
    return CASHBACK_E_FIELD; /* no offset: the instant is unknown */
  }
  if (i != len)
    return CASHBACK_E_FIELD;
  int64_t local =
      cashback__days_from_civil(y, mo, d) * 86400 + hh * 3600 + mm * 60 + ss;
  int64_t t = local - (int64_t)off * 60;
  if (t < 0 || t > LAST_SECOND)
    return CASHBACK_E_FIELD;
  *unix_time = t;
  *offset_min = off;
  return CASHBACK_OK;
}

cashback_status cashback_time_parse(const char *text, size_t len,
                                    int64_t *unix_time, int *utc_offset_min) {
  return cashback__iso8601_parse(text, len, unix_time, utc_offset_min);
}

/*
 * Grammar: 1*DIGIT [ "s" / "m" / "h" / "d" ]; no unit means seconds. No
 * sign, no space, no fraction, lowercase units only. Leading zeros are
 * fine. The result must fit an int64_t.
 */
cashback_status cashback__duration_parse(const char *s, size_t len,
                                         int64_t *seconds) {
  if (s == NULL || seconds == NULL)
    return CASHBACK_E_INVALID_ARGUMENT;
  size_t i = 0;
  int64_t value = 0;
  while (i < len && s[i] >= '0' && s[i] <= '9') {
    int digit = s[i] - '0';
    if (value > (INT64_MAX - digit) / 10)
      return CASHBACK_E_CONFIG; /* overflow */
    value = value * 10 + digit;
    i++;
  }
  if (i == 0)
    return CASHBACK_E_CONFIG; /* empty, or no digits before the unit */
  int64_t unit = 1;
  if (i < len) {
    switch (s[i]) {
    case 's':
      unit = 1;
      break;
    case 'm':
      unit = 60;
      break;
    case 'h':
      unit = 3600;
      break;
    case 'd':
      unit = 86400;
      break;
    default:
      return CASHBACK_E_CONFIG;
    }
    i++;
  }
  if (i != len)
    return CASHBACK_E_CONFIG; /* anything after the unit */
  if (value > INT64_MAX / unit)
    return CASHBACK_E_CONFIG; /* overflow */
  *seconds = value * unit;
  return CASHBACK_OK;
}

int64_t cashback__system_now(void) {
  struct timespec ts;
  if (clock_gettime(CLOCK_REALTIME, &ts) != 0)
    return (int64_t)time(NULL);
  return (int64_t)ts.tv_sec;
}
