/* Click capture at landing, and read-back at checkout.
 *
 * Token. A click token is 1-CASHBACK_TOKEN_MAX (128) bytes of
 * [A-Za-z0-9._~-] once percent-decoded (the RFC 3986 unreserved set, which
 * every network we know uses). Anything else is CASHBACK_E_CLICK_MALFORMED
 * naming the parameter and the first bad byte, so CR, LF, ';', ',', space,
 * quotes or a NUL can never reach a response header.
 *
 * Landing parameters are tried in their configured order. The first one that
 * carries a valid token wins. A parameter that is present but malformed (bad
 * %-escape, NUL, bad character, too long, two different values) does not stop
 * the search: it is logged at WARN and a later parameter may still win. Only
 * when no parameter carries a valid token is the first malformed one returned
 * as CASHBACK_E_CLICK_MALFORMED; when none is present at all, the result is
 * CASHBACK_E_CLICK_NONE (a normal outcome, not recorded as an error). Names
 * are matched as raw bytes (see cashback_query.c).
 *
 * Cookie value (version 1), five fields separated by '.':
 *
 *     1.<captured_at>.<mac>.<param>.<token>
 *
 * - captured_at: the capture time, Unix seconds, decimal, no sign and no
 *   leading zero (canonical, so one time has one spelling);
 * - mac: the first 16 bytes of HMAC-SHA256(cookie_key, "cashback-cookie-v1"
 *   0x00 merchant_id 0x00 captured_at 0x00 param 0x00 token), as 32
 *   lowercase hex digits; cookie_key is one of the client's cookie keys,
 *   each derived from a secret (cookie_secret, next_secret, secret: the
 *   first present signs, all are accepted, see cashback_client.c) and the
 *   merchant id, so another merchant's or another secret's cookie fails
 *   the check;
 * - param: the landing parameter the token came in (1-32 of [A-Za-z0-9_.-]),
 *   written with every '.' as '~' so that the field holds no '.'; '~' is not
 *   allowed in parameter names, so the mapping is reversible. The MAC covers
 *   the real name (with '.');
 * - token: last, so it may contain '.'.
 * Every byte is an RFC 6265 cookie-octet, so the value is never quoted.
 *
 * Set-Cookie: "<cookie_name>=<value>; Max-Age=<window>; Path=/;
 * [Domain=<domain>; ]Secure; HttpOnly; SameSite=Lax". CASHBACK_E_TOO_BIG
 * when the caller's buffer is short; the buffer then holds "". One function,
 * capture_cookie(), makes the cookie as parts (cashback_cookie); the
 * Set-Cookie string of cashback_capture() is formatted from those parts by
 * set_cookie_text(), and cashback_capture_parts() hands them out as they
 * are, so the two can never disagree.
 *
 * Handle. The cookie value is also the click handle an application stores
 * with its order (cashback_click.handle) and gives back later, e.g. from a
 * payment webhook that carries no cookie. cashback_click_verify() checks a
 * handle with check_cookie(), the one function that checks every cookie
 * value of a Cookie header too, so a handle is exactly as trusted as the
 * cookie it was.
 *
 * Read-back: every cookie of the configured name in the Cookie header is
 * checked, in this order: length (at most CASHBACK_HANDLE_MAX), shape,
 * version and character set (else malformed); MAC, compared in constant time
 * (else tampered); capture time more than 300 s ahead of now (malformed, "in
 * the future": clocks of a server fleet drift a little, but not that much);
 * captured_at + window < now (expired; exactly at the boundary is still valid).
 * The newest valid one wins, the later one in the header on a tie (browsers
 * list older cookies first), so the last click wins. When none is valid the
 * status returned is tampered, else expired, else malformed, with the detail of
 * the first cookie of that status; no cookie of that name is
 * CASHBACK_E_CLICK_NONE. */
#include "cashback_ascii.h"
#include "cashback_core.h"
#include "cashback_cookie.h"
#include "cashback_crypto.h"
#include "cashback_event.h"
#include "cashback_query.h"
#include "cashback_sized.h"

#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#define COOKIE_VERSION "1"
#define MAC_LEN 16
#define FUTURE_SKEW 300 /* seconds a capture time may be ahead of now */
#define TIME_DIGITS_MAX 19
/* Decoding room for a landing value: longer ones are malformed anyway, and
 * this lets us tell "too long" apart from other faults. */
#define LANDING_VALUE_MAX 511

static const char mac_label[] = "cashback-cookie-v1"; /* hashed with its NUL */

static int param_char(unsigned char c) {
  return cashback__ascii_span((const char *)&c, 1, CASHBACK__ASCII_ID) == 1;
}

/* The MAC of a cookie under cookie key `k` of the client. */
static cashback_status cookie_mac(const cashback_client *c, size_t k,
                                  const char *ts, const char *param,
                                  size_t param_len, const char *token,
                                  size_t token_len, uint8_t mac[MAC_LEN]) {
  const char *mid = c->opts.merchant_id;
  cashback__span parts[] = {
      {mac_label, sizeof(mac_label)},
      {mid, strlen(mid)},
      {"", 1},
      {ts, strlen(ts)},
      {"", 1},
      {param, param_len},
      {"", 1},
      {token, token_len},
  };
  uint8_t full[CASHBACK__SHA256_LEN];
  cashback_status st =
      cashback__hmac_sha256(c->cookie_keys[k], sizeof(c->cookie_keys[k]), parts,
                            sizeof(parts) / sizeof(parts[0]), full);
  memcpy(mac, full, MAC_LEN);
  return st;
}

/* ------------------------------------------------------------------------
 * Capture */

/* Looks for a valid token in parameter `name`. Returns CASHBACK_OK with the
 * token in `tok`, CASHBACK_E_CLICK_NONE, or CASHBACK_E_CLICK_MALFORMED with
 * a reason in `why`. */
static cashback_status landing_token(const char *target, size_t len,
                                     const char *name, char *tok,
                                     size_t *tok_len, char *why,
                                     size_t why_size) {
  char v[LANDING_VALUE_MAX + 1];
  size_t n = 0;
  cashback_status st =
      cashback__query_param(target, len, name, v, sizeof(v), &n);
  if (st == CASHBACK_E_CLICK_NONE)
    return st;
  if (st != CASHBACK_OK) {
    snprintf(why, why_size,
             "landing parameter '%s': bad %%-escape, NUL byte, value over %d "
             "bytes, or repeated with different values",
             name, LANDING_VALUE_MAX);
    return CASHBACK_E_CLICK_MALFORMED;
  }
  if (n > CASHBACK_TOKEN_MAX) {
    snprintf(why, why_size,
             "landing parameter '%s': token of %zu bytes, at most %d allowed",
             name, n, CASHBACK_TOKEN_MAX);
    return CASHBACK_E_CLICK_MALFORMED;
  }
  size_t bad = cashback__ascii_span(v, n, CASHBACK__ASCII_TOKEN);
  if (bad < n) {
    snprintf(why, why_size,
             "landing parameter '%s': character 0x%02x not allowed in a click "
             "token (allowed: A-Z a-z 0-9 . _ ~ -)",
             name, (unsigned char)v[bad]);
    return CASHBACK_E_CLICK_MALFORMED;
  }
  memcpy(tok, v, n + 1);
  *tok_len = n;
  return CASHBACK_OK;
}

/* The first published layouts of the public output structs (see
 * cashback_sized.h): a caller's `size` below them is refused. */
#define CLICK_SIZE_V1 CASHBACK__SIZED_MIN(cashback_click, handle)
#define COOKIE_SIZE_V1 CASHBACK__SIZED_MIN(cashback_cookie, same_site)

_Static_assert(CASHBACK_COOKIE_NAME_MAX == CASHBACK__COOKIE_NAME_MAX,
               "public and internal cookie name limits differ");
_Static_assert(CASHBACK_COOKIE_DOMAIN_MAX == CASHBACK__DOMAIN_MAX,
               "public and internal cookie domain limits differ");
_Static_assert(CASHBACK_HANDLE_MAX >= 2 + 19 + 1 + 32 + 1 + CASHBACK_PARAM_MAX +
                                          1 + CASHBACK_TOKEN_MAX,
               "a version 1 cookie value must fit a handle");

/* The first landing parameter that carries a valid token (see the top of
 * this file): its name in *param and the token in tok, or a status. */
static cashback_status find_landing(cashback_client *client, const char *target,
                                    size_t len, const char **param, char *tok,
                                    size_t *tok_len) {
  const cashback_options *o = &client->opts;
  char first_why[CASHBACK_ERROR_MAX + 1] = "";
  *param = NULL;
  for (size_t i = 0; i < o->n_landing && *param == NULL; i++) {
    char why[CASHBACK_ERROR_MAX + 1];
    cashback_status st = landing_token(target, len, o->landing[i], tok, tok_len,
                                       why, sizeof(why));
    if (st == CASHBACK_OK)
      *param = o->landing[i];
    else if (st == CASHBACK_E_CLICK_MALFORMED && first_why[0] == '\0')
      memcpy(first_why, why, sizeof(why));
    else if (st == CASHBACK_E_CLICK_MALFORMED)
      cashback__log(client, CASHBACK_LOG_WARN, "click ignored: %s", why);
  }
  if (*param == NULL) {
    if (first_why[0] != '\0')
      return cashback__fail(client, CASHBACK_E_CLICK_MALFORMED, "%s",
                            first_why);
    return CASHBACK_E_CLICK_NONE;
  }
  if (first_why[0] != '\0')
    cashback__log(client, CASHBACK_LOG_WARN, "click ignored: %s (using '%s')",
                  first_why, *param);
  return CASHBACK_OK;
}

/* The click cookie for `target`, as parts: the one place a cookie is made.
 * `ck` is a whole struct of this library's layout. */
static cashback_status capture_cookie(cashback_client *client,
                                      const char *target, size_t len,
                                      cashback_cookie *ck) {
  const cashback_options *o = &client->opts;
  char tok[CASHBACK_TOKEN_MAX + 1];
  size_t tok_len = 0;
  const char *param = NULL;
  cashback_status st = find_landing(client, target, len, &param, tok, &tok_len);
  if (st != CASHBACK_OK)
    return st;

  /* The parameter name, with '.' as '~' (see the top of this file). */
  char pfield[CASHBACK_PARAM_MAX + 1];
  size_t plen = strlen(param);
  if (plen < 1 || plen > CASHBACK_PARAM_MAX)
    return cashback__fail(client, CASHBACK_E_CONFIG,
                          "landing parameter '%s': must be 1-%d characters",
                          param, CASHBACK_PARAM_MAX);
  for (size_t i = 0; i < plen; i++) {
    unsigned char ch = (unsigned char)param[i];
    if (!param_char(ch))
      return cashback__fail(client, CASHBACK_E_CONFIG,
                            "landing parameter '%s': character 0x%02x cannot "
                            "be stored in the click cookie",
                            param, ch);
    pfield[i] = ch == '.' ? '~' : (char)ch;
  }
  pfield[plen] = '\0';

  int64_t now = cashback__now(client);
  if (now < 0)
    return cashback__fail(client, CASHBACK_E_CONFIG,
                          "clock: the time %" PRId64 " is before 1970", now);
  char ts[TIME_DIGITS_MAX + 2];
  snprintf(ts, sizeof(ts), "%" PRId64, now);

  uint8_t mac[MAC_LEN];
  st = cookie_mac(client, 0, ts, param, plen, tok, tok_len, mac);
  if (st != CASHBACK_OK)
    return cashback__fail(client, st, "click cookie: cannot compute its MAC");
  char mac_hex[2 * MAC_LEN + 1];
  cashback__hex(mac, MAC_LEN, mac_hex);

  int w = snprintf(ck->value, sizeof(ck->value), COOKIE_VERSION ".%s.%s.%s.%s",
                   ts, mac_hex, pfield, tok);
  if (w < 0 || (size_t)w >= sizeof(ck->value))
    return cashback__fail(client, CASHBACK_E_INTERNAL,
                          "click cookie: value does not fit");
  ck->size = sizeof(*ck);
  snprintf(ck->name, sizeof(ck->name), "%s", o->cookie_name);
  ck->max_age = o->window;
  snprintf(ck->path, sizeof(ck->path), "%s", "/");
  snprintf(ck->domain, sizeof(ck->domain), "%s", o->cookie_domain);
  ck->secure = 1;
  ck->http_only = 1;
  snprintf(ck->same_site, sizeof(ck->same_site), "%s", "Lax");
  cashback__log(client, CASHBACK_LOG_DEBUG,
                "click captured from landing parameter '%s'", param);
  return CASHBACK_OK;
}

/* The Set-Cookie value of a cookie given as parts. Returns the length it
 * needs (not counting the NUL), or -1; writes only when it fits. */
static int set_cookie_text(const cashback_cookie *ck, char *buf, size_t size) {
  /* Worst case (64-byte name, 253-byte domain, 216-byte value) is under
   * 700 bytes; the buffer has room to spare. */
  char sc[2 * CASHBACK_SET_COOKIE_MAX];
  int w = snprintf(sc, sizeof(sc),
                   "%s=%s; Max-Age=%" PRId64 "; Path=%s%s%s%s%s; SameSite=%s",
                   ck->name, ck->value, ck->max_age, ck->path,
                   ck->domain[0] != '\0' ? "; Domain=" : "", ck->domain,
                   ck->secure ? "; Secure" : "",
                   ck->http_only ? "; HttpOnly" : "", ck->same_site);
  if (w < 0 || (size_t)w >= sizeof(sc))
    return -1;
  if ((size_t)w < size)
    memcpy(buf, sc, (size_t)w + 1);
  return w;
}

cashback_status cashback_capture(cashback_client *client, const char *target,
                                 size_t len, char *set_cookie,
                                 size_t set_cookie_size) {
  cashback__call_begin(client);
  if (client == NULL)
    return CASHBACK_E_INVALID_ARGUMENT;
  if (set_cookie == NULL)
    return cashback__fail(client, CASHBACK_E_INVALID_ARGUMENT,
                          "capture: set_cookie must not be NULL");
  if (set_cookie_size > 0)
    set_cookie[0] = '\0';
  if (target == NULL && len > 0)
    return cashback__fail(client, CASHBACK_E_INVALID_ARGUMENT,
                          "capture: target is NULL but len is %zu", len);
  cashback_cookie ck;
  memset(&ck, 0, sizeof(ck));
  cashback_status st = capture_cookie(client, target, len, &ck);
  if (st != CASHBACK_OK)
    return st;
  int w = set_cookie_text(&ck, set_cookie, set_cookie_size);
  if (w < 0)
    return cashback__fail(client, CASHBACK_E_INTERNAL,
                          "click cookie: Set-Cookie value does not fit");
  if ((size_t)w >= set_cookie_size)
    return cashback__fail(client, CASHBACK_E_TOO_BIG,
                          "capture: Set-Cookie value needs %d bytes, "
                          "set_cookie_size is %zu",
                          w + 1, set_cookie_size);
  return CASHBACK_OK;
}

cashback_status cashback_capture_parts(cashback_client *client,
                                       const char *target, size_t len,
                                       cashback_cookie *out) {
  cashback_status st = cashback__sized_begin(
      client, out, 0, COOKIE_SIZE_V1, sizeof(*out), "capture_parts: out");
  if (st != CASHBACK_OK)
    return st;
  size_t size = out->size;
  memset(out, 0, COOKIE_SIZE_V1);
  out->size = size;
  if (target == NULL && len > 0)
    return cashback__fail(client, CASHBACK_E_INVALID_ARGUMENT,
                          "capture_parts: target is NULL but len is %zu", len);
  cashback_cookie ck;
  memset(&ck, 0, sizeof(ck));
  st = capture_cookie(client, target, len, &ck);
  if (st != CASHBACK_OK)
    return st;
  memcpy(out, &ck, COOKIE_SIZE_V1);
  out->size = size;
  return CASHBACK_OK;
}

/* ------------------------------------------------------------------------
 * Read-back */

/* Splits off the next '.'-terminated field of v[*pos..len). Returns 0 when
 * there is no '.' left. */
static int next_field(const char *v, size_t len, size_t *pos, const char **f,
                      size_t *flen) {
  const char *dot = memchr(v + *pos, '.', len - *pos);
  if (dot == NULL)
    return 0;
  *f = v + *pos;
  *flen = (size_t)(dot - *f);
  *pos += *flen + 1;
  return 1;
}

/* Parses canonical non-negative decimal seconds. 0 on success. */
static int parse_time(const char *s, size_t len, int64_t *out) {
  if (len < 1 || len > TIME_DIGITS_MAX || (len > 1 && s[0] == '0'))
    return -1;
  int64_t t = 0;
  for (size_t i = 0; i < len; i++) {
    if (s[i] < '0' || s[i] > '9')
      return -1;
    int d = s[i] - '0';
    if (t > (INT64_MAX - d) / 10)
      return -1;
    t = t * 10 + d;
  }
  *out = t;
  return 0;
}

/* The fields of a cookie value (or handle), as check_cookie() takes them
 * apart: pointers into the value, and what is decoded from them. */
typedef struct cookie_parts {
  const char *ts, *tok;
  size_t ts_len, tok_len;
  int64_t captured_at;
  uint8_t mac[MAC_LEN];
  char param[CASHBACK_PARAM_MAX + 1]; /* the real name, '~' back to '.' */
  size_t param_len;
} cookie_parts;

/* Decodes the source parameter field `pf` (1-CASHBACK_PARAM_MAX bytes,
 * '~' standing for '.') into `p->param`. */
static cashback_status cookie_param(const char *pf, size_t pf_len,
                                    cookie_parts *p, char *why,
                                    size_t why_size) {
  if (pf_len < 1 || pf_len > CASHBACK_PARAM_MAX) {
    snprintf(why, why_size, "source parameter of %zu bytes, 1-%d allowed",
             pf_len, CASHBACK_PARAM_MAX);
    return CASHBACK_E_CLICK_MALFORMED;
  }
  for (size_t i = 0; i < pf_len; i++) {
    unsigned char ch = (unsigned char)pf[i];
    if (ch == '~')
      ch = '.';
    else if (ch == '.' || !param_char(ch)) {
      snprintf(why, why_size,
               "character 0x%02x not allowed in the source parameter", ch);
      return CASHBACK_E_CLICK_MALFORMED;
    }
    p->param[i] = (char)ch;
  }
  p->param[pf_len] = '\0';
  p->param_len = pf_len;
  return CASHBACK_OK;
}

/* Takes a cookie value apart and checks its shape: length, five fields,
 * version, canonical time, hex MAC, source parameter and token (the
 * checks that make it malformed, in that order). */
static cashback_status cookie_split(const char *v, size_t len, cookie_parts *p,
                                    char *why, size_t why_size) {
  if (len > CASHBACK_HANDLE_MAX) {
    snprintf(why, why_size, "%zu bytes, at most %d allowed", len,
             CASHBACK_HANDLE_MAX);
    return CASHBACK_E_CLICK_MALFORMED;
  }
  size_t pos = 0;
  const char *ver, *mac_hex, *pf;
  size_t ver_len, mac_len, pf_len;
  if (!next_field(v, len, &pos, &ver, &ver_len) ||
      !next_field(v, len, &pos, &p->ts, &p->ts_len) ||
      !next_field(v, len, &pos, &mac_hex, &mac_len) ||
      !next_field(v, len, &pos, &pf, &pf_len)) {
    snprintf(why, why_size,
             "not of the form version.time.mac.param.token (%zu bytes)", len);
    return CASHBACK_E_CLICK_MALFORMED;
  }
  if (ver_len != strlen(COOKIE_VERSION) ||
      memcmp(ver, COOKIE_VERSION, ver_len) != 0) {
    snprintf(why, why_size, "unknown version (expected " COOKIE_VERSION ")");
    return CASHBACK_E_CLICK_MALFORMED;
  }
  if (parse_time(p->ts, p->ts_len, &p->captured_at) != 0) {
    snprintf(why, why_size, "capture time is not canonical decimal seconds");
    return CASHBACK_E_CLICK_MALFORMED;
  }
  if (!cashback__ascii_all(mac_hex, mac_len, 2 * MAC_LEN, 2 * MAC_LEN,
                           CASHBACK__ASCII_HEX) ||
      cashback__unhex(mac_hex, mac_len, p->mac, MAC_LEN) != 0) {
    snprintf(why, why_size, "MAC is not %d lowercase hex digits", 2 * MAC_LEN);
    return CASHBACK_E_CLICK_MALFORMED;
  }
  cashback_status st = cookie_param(pf, pf_len, p, why, why_size);
  if (st != CASHBACK_OK)
    return st;
  p->tok = v + pos;
  p->tok_len = len - pos;
  if (p->tok_len < 1 || p->tok_len > CASHBACK_TOKEN_MAX) {
    snprintf(why, why_size, "token of %zu bytes, 1-%d allowed", p->tok_len,
             CASHBACK_TOKEN_MAX);
    return CASHBACK_E_CLICK_MALFORMED;
  }
  size_t bad = cashback__ascii_span(p->tok, p->tok_len, CASHBACK__ASCII_TOKEN);
  if (bad < p->tok_len) {
    snprintf(why, why_size, "character 0x%02x not allowed in the token",
             (unsigned char)p->tok[bad]);
    return CASHBACK_E_CLICK_MALFORMED;
  }
  return CASHBACK_OK;
}

/* Checks the MAC against every cookie key of the client, each compared in
 * constant time: CASHBACK_OK when one matches, else tampered. */
static cashback_status cookie_mac_check(const cashback_client *c,
                                        const cookie_parts *p, char *why,
                                        size_t why_size) {
  char ts_text[TIME_DIGITS_MAX + 1];
  memcpy(ts_text, p->ts, p->ts_len);
  ts_text[p->ts_len] = '\0';
  int match = 0;
  for (size_t k = 0; k < c->n_cookie_keys; k++) {
    uint8_t want[MAC_LEN];
    cashback_status st = cookie_mac(c, k, ts_text, p->param, p->param_len,
                                    p->tok, p->tok_len, want);
    if (st != CASHBACK_OK) {
      snprintf(why, why_size, "cannot compute the MAC");
      return st;
    }
    match |= cashback__ct_equal(p->mac, want, MAC_LEN);
  }
  if (!match) {
    snprintf(why, why_size,
             "signature does not match (another key or "
             "merchant, or the value was changed)");
    return CASHBACK_E_CLICK_TAMPERED;
  }
  return CASHBACK_OK;
}

/* Checks the capture time against `now`: not more than FUTURE_SKEW ahead
 * (else malformed), not older than the attribution window (else expired;
 * exactly at the boundary is still valid). */
static cashback_status cookie_age_check(const cashback_client *c,
                                        int64_t captured_at, int64_t now,
                                        char *why, size_t why_size) {
  if (now <= INT64_MAX - FUTURE_SKEW && captured_at > now + FUTURE_SKEW) {
    snprintf(why, why_size,
             "capture time in the future (%" PRId64 " s ahead of now)",
             captured_at - now);
    return CASHBACK_E_CLICK_MALFORMED;
  }
  if (now > captured_at && now - captured_at > c->opts.window) {
    snprintf(why, why_size,
             "captured %" PRId64 " s ago, attribution window is %" PRId64 " s",
             now - captured_at, c->opts.window);
    return CASHBACK_E_CLICK_EXPIRED;
  }
  return CASHBACK_OK;
}

/* Checks one cookie value, or a handle (the same thing): the one check of
 * both. Returns CASHBACK_OK and fills the token, source, capture time and
 * handle of `out` (a whole struct of this library's layout), or a click
 * status with a reason in `why`. */
static cashback_status check_cookie(const cashback_client *c, const char *v,
                                    size_t len, int64_t now,
                                    cashback_click *out, char *why,
                                    size_t why_size) {
  cookie_parts p;
  cashback_status st = cookie_split(v, len, &p, why, why_size);
  if (st == CASHBACK_OK)
    st = cookie_mac_check(c, &p, why, why_size);
  if (st == CASHBACK_OK)
    st = cookie_age_check(c, p.captured_at, now, why, why_size);
  if (st != CASHBACK_OK)
    return st;
  memcpy(out->token, p.tok, p.tok_len);
  out->token[p.tok_len] = '\0';
  memcpy(out->source, p.param, p.param_len + 1);
  out->captured_at = p.captured_at;
  memcpy(out->handle, v, len);
  out->handle[len] = '\0';
  return CASHBACK_OK;
}

/* Zeroes the first published layout of a caller's click, keeping `size`. */
static void click_clear(cashback_click *out, size_t size) {
  memset(out, 0, CLICK_SIZE_V1);
  out->size = size;
}

/* Copies a whole click of this library's layout to the caller's. */
static void click_give(cashback_click *out, size_t size,
                       const cashback_click *c) {
  memcpy(out, c, CLICK_SIZE_V1);
  out->size = size;
}

/* Precedence of a failure when no cookie is valid. */
static int failure_rank(cashback_status st) {
  switch (st) {
  case CASHBACK_E_CLICK_TAMPERED:
    return 3;
  case CASHBACK_E_CLICK_EXPIRED:
    return 2;
  case CASHBACK_E_CLICK_MALFORMED:
    return 1;
  default:
    return 4; /* the crypto library failed: report that first */
  }
}

/* The start both readers share: the client call, `out` and its size
 * checked and cleared, and `in` (len bytes) not NULL unless empty. */
static cashback_status click_call_begin(cashback_client *client,
                                        cashback_click *out, const char *in,
                                        size_t len, const char *call,
                                        const char *in_name) {
  char what[48];
  snprintf(what, sizeof(what), "%s: out", call);
  cashback_status st =
      cashback__sized_begin(client, out, 0, CLICK_SIZE_V1, sizeof(*out), what);
  if (st != CASHBACK_OK)
    return st;
  click_clear(out, out->size);
  if (in == NULL && len > 0)
    return cashback__fail(client, CASHBACK_E_INVALID_ARGUMENT,
                          "%s: %s is NULL but len is %zu", call, in_name, len);
  return CASHBACK_OK;
}

cashback_status cashback_click_read(cashback_client *client,
                                    const char *cookie_header, size_t len,
                                    cashback_click *out) {
  cashback_status st = click_call_begin(client, out, cookie_header, len,
                                        "click_read", "cookie_header");
  if (st != CASHBACK_OK)
    return st;
  size_t size = out->size;
  if (cookie_header == NULL)
    return CASHBACK_E_CLICK_NONE;

  const char *cname = client->opts.cookie_name;
  size_t cname_len = strlen(cname);
  int64_t now = cashback__now(client);
  int have_valid = 0, seen = 0, bad = 0, first_bad = 0;
  cashback_status fail_st = CASHBACK_OK, first_st = CASHBACK_OK;
  char fail_why[CASHBACK_ERROR_MAX + 1] = "";
  char first_why[CASHBACK_ERROR_MAX + 1] = "";
  cashback_click best;
  memset(&best, 0, sizeof(best));

  size_t pos = 0;
  const char *n, *v;
  size_t nl, vl;
  while (cashback__cookie_next(cookie_header, len, &pos, &n, &nl, &v, &vl)) {
    if (nl != cname_len || memcmp(n, cname, nl) != 0)
      continue;
    seen++;
    cashback_click cand;
    char why[CASHBACK_ERROR_MAX + 1];
    st = check_cookie(client, v, vl, now, &cand, why, sizeof(why));
    if (st == CASHBACK_OK) {
      if (!have_valid || cand.captured_at >= best.captured_at)
        best = cand;
      have_valid = 1;
      continue;
    }
    if (fail_st == CASHBACK_OK || failure_rank(st) > failure_rank(fail_st)) {
      fail_st = st;
      memcpy(fail_why, why, sizeof(why));
    }
    if (bad++ == 0) {
      first_bad = seen;
      first_st = st;
      memcpy(first_why, why, sizeof(why));
    }
  }
  /* One log line per header, however many bad cookies it holds (a header
   * of 8 KiB made 482 lines): the count and the first reason. */
  if (have_valid) {
    if (bad)
      cashback__log(client, CASHBACK_LOG_INFO,
                    "cookie '%s': %d of %d ignored (first, #%d: %s: %s)", cname,
                    bad, seen, first_bad, cashback_strerror(first_st),
                    first_why);
    click_give(out, size, &best);
    return CASHBACK_OK;
  }
  if (seen == 0)
    return CASHBACK_E_CLICK_NONE;
  if (seen == 1)
    return cashback__fail(client, fail_st, "cookie '%s': %s", cname, fail_why);
  return cashback__fail(client, fail_st,
                        "cookie '%s': %s (%d cookies of that name, none "
                        "valid; first, #%d: %s)",
                        cname, fail_why, seen, first_bad,
                        cashback_strerror(first_st));
}

cashback_status cashback_click_verify(cashback_client *client,
                                      const char *handle, size_t len,
                                      cashback_click *out) {
  cashback_status st =
      click_call_begin(client, out, handle, len, "click_verify", "handle");
  if (st != CASHBACK_OK)
    return st;
  size_t size = out->size;
  if (len == 0)
    return CASHBACK_E_CLICK_NONE;
  cashback_click c;
  char why[CASHBACK_ERROR_MAX + 1];
  st = check_cookie(client, handle, len, cashback__now(client), &c, why,
                    sizeof(why));
  if (st != CASHBACK_OK)
    return cashback__fail(client, st, "click handle: %s", why);
  click_give(out, size, &c);
  return CASHBACK_OK;
}
