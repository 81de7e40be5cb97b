/*
 * The sender's persistent state: the spool's `state` file (`key=value`
 * lines and a CRC-32C line; versions before the checksum read too, a
 * damaged file ignored and counted), and the transitions of its retry
 * schedule. The sender (cashback_sender.c) decides when to apply them and
 * to write; cashback_get_status() (cashback_status.c) reads the file here.
 */
#include "cashback_sender_state.h"
#include "cashback_backoff.h"
#include "cashback_crc32c.h"
#include "cashback_crypto.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

/* A decimal integer, optionally negative, and nothing else; 0 when so. */
static int parse_int(const char *v, size_t n, long long *out) {
  size_t i = 0;
  int neg = 0;
  if (i < n && v[i] == '-') {
    neg = 1;
    i++;
  }
  if (i == n || n - i > 18)
    return -1;
  long long x = 0;
  for (; i < n; i++) {
    if (v[i] < '0' || v[i] > '9')
      return -1;
    x = x * 10 + (v[i] - '0');
  }
  *out = neg ? -x : x;
  return 0;
}

/* The keys versions before the checksum wrote, all of them every time. */
static const char *const LEGACY_KEYS[] = {
    "attempt",      "next_attempt_ms", "paused",  "paused_key",
    "last_success", "last_status",     "corrupt", "last_error"};

static int is_text_key(const char *k, size_t klen) {
  return (klen == 10 && memcmp(k, "paused_key", 10) == 0) ||
         (klen == 10 && memcmp(k, "last_error", 10) == 0);
}

/* Parses the `key=value` lines of `text` (`len` bytes) into `*st`. With
 * `strict`, every line must be a legacy key with a well-formed value, each
 * key once; gives -1 otherwise. */
static int parse_lines(const char *text, size_t len, cashback__sender_state *st,
                       int strict) {
  unsigned seen = 0;
  const char *p = text, *end = text + len;
  while (p < end) {
    const char *eol = memchr(p, '\n', (size_t)(end - p));
    if (!eol) {
      if (strict)
        return -1; /* cut short */
      eol = end;
    }
    size_t n = (size_t)(eol - p);
    const char *eq = memchr(p, '=', n);
    if (!eq) {
      if (strict)
        return -1;
      p = eol + 1;
      continue;
    }
    size_t klen = (size_t)(eq - p);
    const char *v = eq + 1;
    size_t vlen = n - klen - 1;
    if (strict) {
      size_t i = 0;
      for (; i < sizeof(LEGACY_KEYS) / sizeof(LEGACY_KEYS[0]); i++)
        if (strlen(LEGACY_KEYS[i]) == klen &&
            memcmp(LEGACY_KEYS[i], p, klen) == 0)
          break;
      long long dummy;
      if (i == sizeof(LEGACY_KEYS) / sizeof(LEGACY_KEYS[0]) ||
          (seen & (1u << i)) ||
          (!is_text_key(p, klen) && parse_int(v, vlen, &dummy) != 0))
        return -1;
      seen |= 1u << i;
    }
    long long x = 0;
    if (parse_int(v, vlen, &x) != 0)
      x = 0;
#define KEY(k) (klen == sizeof(k) - 1 && memcmp(p, k, klen) == 0)
    if (KEY("attempt"))
      st->attempt = x > 0 && x < 1000000 ? (unsigned)x : 0;
    else if (KEY("next_attempt_ms"))
      st->next_attempt_ms = x;
    else if (KEY("retry_delay_ms"))
      st->retry_delay_ms = x > 0 ? x : 0;
    else if (KEY("paused"))
      st->paused = x != 0;
    else if (KEY("last_success"))
      st->last_success = x;
    else if (KEY("last_status"))
      st->last_status = (cashback_status)x;
    else if (KEY("corrupt"))
      st->corrupt = x > 0 ? (uint64_t)x : 0;
    else if (KEY("state_damaged"))
      st->state_damaged = x > 0 ? (uint64_t)x : 0;
    else if (KEY("in_flight_since"))
      st->in_flight_since = x > 0 ? x : 0;
    else if (KEY("fault_streak"))
      st->fault_streak = x > 0 && x < 1000000 ? (unsigned)x : 0;
    else if (KEY("fault_accepted"))
      st->fault_accepted = x != 0;
    else if (KEY("path_fault"))
      st->path_fault = x >= 400 && x < 500 ? (long)x : 0;
    else if (KEY("read_errors"))
      st->read_errors = x > 0 ? (uint64_t)x : 0;
    else if (KEY("paced_until_ms"))
      st->paced_until_ms = x > 0 ? x : 0;
    else if (KEY("pace"))
      cashback__pace_parse(&st->pace, v, vlen);
    else if (KEY("paused_key") || KEY("last_error") || KEY("read_error") ||
             KEY("submission")) {
      char *dst = KEY("paused_key")   ? st->paused_key
                  : KEY("read_error") ? st->read_error
                  : KEY("submission") ? st->submission
                                      : st->last_error;
      size_t size = KEY("paused_key")   ? sizeof(st->paused_key)
                    : KEY("read_error") ? sizeof(st->read_error)
                    : KEY("submission") ? sizeof(st->submission)
                                        : sizeof(st->last_error);
      size_t m = vlen < size - 1 ? vlen : size - 1;
      memcpy(dst, v, m);
      dst[m] = '\0';
    }
#undef KEY
    p = eol + 1;
  }
  if (strict &&
      seen != (1u << (sizeof(LEGACY_KEYS) / sizeof(LEGACY_KEYS[0]))) - 1)
    return -1;
  return 0;
}

int cashback__sender_state_parse(const char *text, cashback__sender_state *st) {
  memset(st, 0, sizeof(*st));
  size_t len = strlen(text);
  /* The last line: "crc=" and 8 lowercase hex digits. */
  static const size_t crc_line = 4 + 8 + 1;
  if (len >= crc_line && text[len - 1] == '\n' &&
      memcmp(text + len - crc_line, "crc=", 4) == 0 &&
      (len == crc_line || text[len - crc_line - 1] == '\n')) {
    uint32_t want = 0;
    int ok = 1;
    for (size_t i = 0; i < 8; i++) {
      char ch = text[len - crc_line + 4 + i];
      int d = ch >= '0' && ch <= '9'   ? ch - '0'
              : ch >= 'a' && ch <= 'f' ? ch - 'a' + 10
                                       : -1;
      if (d < 0)
        ok = 0;
      want = want << 4 | (uint32_t)(d < 0 ? 0 : d);
    }
    size_t body = len - crc_line;
    if (ok && cashback__crc32c(0, text, body) == want) {
      parse_lines(text, body, st, 0);
      return CASHBACK__STATE_VALID;
    }
  } else if (len > 0 && parse_lines(text, len, st, 1) == 0) {
    return CASHBACK__STATE_LEGACY;
  }
  /* Damaged: nothing in it is trusted, but its damage count goes on when
   * it can be read. */
  memset(st, 0, sizeof(*st));
  uint64_t before = 0;
  static const char key[] = "state_damaged=";
  for (const char *p = text; (p = strstr(p, key)) != NULL; p++) {
    if (p != text && p[-1] != '\n')
      continue;
    const char *v = p + sizeof(key) - 1;
    const char *eol = strchr(v, '\n');
    long long x;
    if (eol && parse_int(v, (size_t)(eol - v), &x) == 0 && x > 0 &&
        x < 1000000000)
      before = (uint64_t)x;
    break;
  }
  st->state_damaged = before + 1;
  return CASHBACK__STATE_DAMAGED;
}

/* The text on one line. */
static void one_line(char *out, size_t size, const char *in) {
  size_t i = 0;
  for (; in[i] && i < size - 1; i++)
    out[i] = in[i] == '\n' || in[i] == '\r' ? ' ' : in[i];
  out[i] = '\0';
}

size_t cashback__sender_state_format(const cashback__sender_state *st,
                                     char *out, size_t size) {
  /* The error texts are ours (no secrets); keep each on one line. */
  char err[CASHBACK_ERROR_MAX + 1], rerr[CASHBACK_ERROR_MAX + 1];
  one_line(err, sizeof(err), st->last_error);
  one_line(rerr, sizeof(rerr), st->read_error);
  int n = snprintf(
      out, size,
      "attempt=%u\nnext_attempt_ms=%" PRId64 "\nretry_delay_ms=%" PRId64
      "\npaused=%d\n"
      "paused_key=%s\nlast_success=%" PRId64 "\nlast_status=%d\n"
      "corrupt=%" PRIu64 "\nstate_damaged=%" PRIu64 "\nlast_error=%s\n"
      "fault_streak=%u\nfault_accepted=%d\npath_fault=%ld\n"
      "read_errors=%" PRIu64 "\nread_error=%s\nin_flight_since=%" PRId64 "\n",
      st->attempt, st->next_attempt_ms, st->retry_delay_ms, st->paused,
      st->paused_key, st->last_success, (int)st->last_status, st->corrupt,
      st->state_damaged, err, st->fault_streak, st->fault_accepted,
      st->path_fault, st->read_errors, rerr, st->in_flight_since);
  if (n < 0 || (size_t)n + 14 > size)
    return 0;
  /* A profile's lines, only when set (cashback_sender_state.h). */
  char pace[CASHBACK__PACE_MAX * 21 + 1], sub[sizeof(st->submission)];
  cashback__pace_format(&st->pace, pace, sizeof(pace));
  one_line(sub, sizeof(sub), st->submission);
  int extra = 0;
  if (pace[0])
    extra = snprintf(out + n, size - (size_t)n, "pace=%s\n", pace);
  if (extra >= 0 && (size_t)(n + extra) < size && st->paced_until_ms)
    extra += snprintf(out + n + extra, size - (size_t)(n + extra),
                      "paced_until_ms=%" PRId64 "\n", st->paced_until_ms);
  if (extra >= 0 && (size_t)(n + extra) < size && sub[0])
    extra += snprintf(out + n + extra, size - (size_t)(n + extra),
                      "submission=%s\n", sub);
  if (extra < 0 || (size_t)(n + extra) + 14 > size)
    return 0;
  n += extra;
  uint32_t crc = cashback__crc32c(0, out, (size_t)n);
  int m = snprintf(out + n, size - (size_t)n, "crc=%08" PRIx32 "\n", crc);
  if (m != 13)
    return 0;
  return (size_t)n + 13;
}

cashback_status cashback__sender_state_read(cashback__spool *spool,
                                            cashback__sender_state *st,
                                            int *found) {
  char text[CASHBACK__STATE_MAX];
  cashback_status rd = cashback__spool_state_read(spool, text, sizeof(text));
  *found = cashback__sender_state_parse(rd == CASHBACK_OK ? text : "", st);
  if (rd != CASHBACK_OK)
    memset(st, 0, sizeof(*st)); /* a new spool, or unreadable: afresh */
  return rd;
}

cashback_status cashback__sender_state_write(cashback__spool *spool,
                                             const cashback__sender_state *st) {
  char text[CASHBACK__STATE_MAX];
  if (cashback__sender_state_format(st, text, sizeof(text)) == 0)
    return CASHBACK_E_TOO_BIG;
  return cashback__spool_state_write(spool, text);
}

int64_t cashback__sender_state_next_ms(const cashback__sender_state *st,
                                       int64_t now_ms, int64_t cap_ms) {
  return cashback__retry_clamp_ms(st->next_attempt_ms, st->retry_delay_ms,
                                  now_ms, cap_ms);
}

void cashback__sender_key_fingerprint(const cashback__key *key,
                                      char out[CASHBACK_ID_MAX + 1]) {
  static const char label[] = "cashback-key-fingerprint-v1";
  cashback__span part = {label, sizeof(label) - 1};
  uint8_t mac[CASHBACK__SHA256_LEN];
  if (cashback__hmac_sha256(key->secret, strlen(key->secret), &part, 1, mac) !=
      CASHBACK_OK)
    memset(mac, 0, sizeof(mac));
  cashback__hex(mac, 8, out);
  cashback__wipe(mac, sizeof(mac));
}

int cashback__sender_state_adopt(cashback__sender_state *st,
                                 const cashback__key *key) {
  int changed = 0;
  char fp[CASHBACK_ID_MAX + 1];
  cashback__sender_key_fingerprint(key, fp);
  if (st->paused && strcmp(st->paused_key, fp) != 0) {
    st->paused = 0;
    st->attempt = 0;
    st->next_attempt_ms = 0;
    changed = 1;
  }
  if (st->in_flight_since) {
    st->in_flight_since = 0;
    changed = 1;
  }
  return changed;
}

int64_t cashback__sender_state_backoff(cashback__sender_state *st,
                                       int64_t base_ms, int64_t cap_ms,
                                       uint64_t random,
                                       int64_t retry_after_ms) {
  if (st->attempt < 1000000)
    st->attempt++;
  int64_t backoff = cashback__backoff_ms(st->attempt, base_ms, cap_ms, random);
  return cashback__retry_delay_ms(backoff, retry_after_ms, cap_ms);
}

int64_t cashback__sender_state_pause(cashback__sender_state *st,
                                     const cashback__key *key, int64_t cap_ms) {
  st->paused = 1;
  cashback__sender_key_fingerprint(key, st->paused_key);
  st->attempt = st->attempt > 30 ? st->attempt : 30;
  if (st->attempt < 1000000)
    st->attempt++;
  return cap_ms;
}

int64_t cashback__sender_state_retry_in(cashback__sender_state *st,
                                        cashback_status why, int64_t delay_ms,
                                        int64_t now_ms, int64_t cap_ms) {
  int64_t bound = cashback__retry_bound_ms(cap_ms);
  delay_ms = delay_ms < 0 ? 0 : delay_ms > bound ? bound : delay_ms;
  st->last_status = why;
  st->retry_delay_ms = delay_ms;
  st->next_attempt_ms = now_ms + delay_ms;
  return delay_ms;
}

void cashback__sender_state_success(cashback__sender_state *st, int64_t now_ms,
                                    int whole) {
  st->attempt = 0;
  st->paused = 0;
  st->last_success = now_ms / 1000;
  st->last_status = CASHBACK_OK;
  st->last_error[0] = '\0';
  if (whole) {
    st->next_attempt_ms = 0;
    st->retry_delay_ms = 0;
  }
}
