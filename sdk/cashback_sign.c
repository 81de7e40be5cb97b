/* The Cashback-Signature header: building, parsing, checking. */
#include "cashback_sign.h"
#include "cashback_ascii.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int cashback__id_valid(const char *s, size_t len) {
  return cashback__ascii_all(s, len, 1, CASHBACK_ID_MAX, CASHBACK__ASCII_ID);
}

int cashback__secret_valid(const char *s, size_t len) {
  if (s == NULL || len < CASHBACK__SECRET_MIN || len > CASHBACK__SECRET_MAX)
    return 0;
  for (size_t i = 0; i < len; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c < 0x21 || c > 0x7e || c == ';' || c == '#')
      return 0;
  }
  return 1;
}

/* Received headers longer than this are refused before parsing. */
#define SIG_PARSE_MAX 4096
/* Largest timestamp the parser accepts: 12 decimal digits. */
#define SIG_TS_MAX INT64_C(999999999999)
#define VERIFIER_KEYS_MAX 16
#define TOLERANCE_DEFAULT 300
#define TOLERANCE_MAX INT64_C(2147483647)

struct cashback_verifier {
  cashback__key keys[VERIFIER_KEYS_MAX];
  size_t n;
  int64_t tolerance;
};

cashback_status cashback__sign_mac(const char *secret, int64_t ts,
                                   const void *body, size_t body_len,
                                   uint8_t mac[CASHBACK__SHA256_LEN]) {
  char prefix[32];
  size_t secret_len;
  int plen;

  if (secret == NULL || mac == NULL || (body == NULL && body_len > 0) ||
      ts < 0 || ts > SIG_TS_MAX)
    return CASHBACK_E_INVALID_ARGUMENT;
  secret_len = strnlen(secret, CASHBACK__SECRET_MAX + 1);
  if (!cashback__secret_valid(secret, secret_len))
    return CASHBACK_E_INVALID_ARGUMENT;
  plen = snprintf(prefix, sizeof prefix, "v1:%lld:", (long long)ts);
  if (plen < 0 || (size_t)plen >= sizeof prefix)
    return CASHBACK_E_INTERNAL;
  cashback__span parts[2] = {{prefix, (size_t)plen}, {body, body_len}};
  return cashback__hmac_sha256(secret, secret_len, parts, 2, mac);
}

cashback_status cashback__sign_header(const cashback__key *keys, size_t n,
                                      int64_t ts, const void *body,
                                      size_t body_len, char *buf, size_t size) {
  uint8_t mac[CASHBACK__SHA256_LEN];
  char hex[2 * CASHBACK__SHA256_LEN + 1];
  size_t pos;
  int w;

  if (buf == NULL || size == 0)
    return CASHBACK_E_INVALID_ARGUMENT;
  buf[0] = '\0';
  if (keys == NULL || n == 0 || n > CASHBACK__SIG_MAX || ts < 0 ||
      ts > SIG_TS_MAX || (body == NULL && body_len > 0))
    return CASHBACK_E_INVALID_ARGUMENT;
  for (size_t i = 0; i < n; i++)
    if (!cashback__id_valid(keys[i].id,
                            strnlen(keys[i].id, CASHBACK_ID_MAX + 1)))
      return CASHBACK_E_INVALID_ARGUMENT;

  w = snprintf(buf, size, "t=%lld", (long long)ts);
  if (w < 0 || (size_t)w >= size) {
    buf[0] = '\0';
    return CASHBACK_E_TOO_BIG;
  }
  pos = (size_t)w;
  for (size_t i = 0; i < n; i++) {
    cashback_status st =
        cashback__sign_mac(keys[i].secret, ts, body, body_len, mac);
    if (st != CASHBACK_OK) {
      buf[0] = '\0';
      return st;
    }
    cashback__hex(mac, sizeof mac, hex);
    cashback__wipe(mac, sizeof mac);
    w = snprintf(buf + pos, size - pos, ",v1=%s:%s", keys[i].id, hex);
    cashback__wipe(hex, sizeof hex);
    if (w < 0 || (size_t)w >= size - pos) {
      buf[0] = '\0';
      return CASHBACK_E_TOO_BIG;
    }
    pos += (size_t)w;
  }
  return CASHBACK_OK;
}

static int is_alnum(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
         (c >= '0' && c <= '9');
}

/* "t" value: 1-12 decimal digits, no leading zero (except "0" itself), so
 * that the signed text "v1:<t>:" is the header's text exactly. */
static int parse_ts(const char *p, size_t n, int64_t *out) {
  int64_t v = 0;
  if (n < 1 || n > 12 || (n > 1 && p[0] == '0'))
    return 0;
  for (size_t i = 0; i < n; i++) {
    if (p[i] < '0' || p[i] > '9')
      return 0;
    v = v * 10 + (p[i] - '0');
  }
  *out = v;
  return 1;
}

/* One item without surrounding spaces: "<scheme>=<value>". */
static cashback_status parse_item(const char *p, size_t n, int *have_t,
                                  cashback__sig_parsed *out) {
  size_t eq = 0;

  /* no space, control or non-ASCII inside */
  if (cashback__ascii_span(p, n, CASHBACK__ASCII_GRAPH) != n)
    return CASHBACK_E_SIG_MALFORMED;
  while (eq < n && p[eq] != '=') {
    if (!is_alnum(p[eq]))
      return CASHBACK_E_SIG_MALFORMED;
    eq++;
  }
  if (eq == 0 || eq == n)
    return CASHBACK_E_SIG_MALFORMED; /* no scheme name, or no '=' */

  const char *val = p + eq + 1;
  size_t vlen = n - eq - 1;
  if (eq == 1 && p[0] == 't') {
    if (*have_t || !parse_ts(val, vlen, &out->t))
      return CASHBACK_E_SIG_MALFORMED;
    *have_t = 1;
    return CASHBACK_OK;
  }
  if (eq == 2 && p[0] == 'v' && p[1] == '1') {
    size_t colon = 0;
    if (out->n >= CASHBACK__SIG_MAX)
      return CASHBACK_E_SIG_MALFORMED;
    while (colon < vlen && val[colon] != ':')
      colon++;
    if (colon == vlen || !cashback__id_valid(val, colon))
      return CASHBACK_E_SIG_MALFORMED;
    if (cashback__unhex(val + colon + 1, vlen - colon - 1,
                        out->sigs[out->n].mac, CASHBACK__SHA256_LEN) != 0)
      return CASHBACK_E_SIG_MALFORMED;
    out->sigs[out->n].key_id = val;
    out->sigs[out->n].key_id_len = colon;
    out->n++;
    return CASHBACK_OK;
  }
  return CASHBACK_OK; /* another scheme: ignored */
}

cashback_status cashback__sig_parse(const char *h, size_t len,
                                    cashback__sig_parsed *out) {
  size_t pos = 0;
  int have_t = 0;

  if (out == NULL)
    return CASHBACK_E_INVALID_ARGUMENT;
  memset(out, 0, sizeof *out);
  if (h == NULL || len == 0 || len > SIG_PARSE_MAX)
    return CASHBACK_E_SIG_MALFORMED;
  const char *item;
  size_t n;
  while (cashback__ascii_list_next(h, len, &pos, &item, &n)) { /* OWS cut */
    /* an empty item: leading, doubled or trailing comma, or blank header */
    if (n == 0 || parse_item(item, n, &have_t, out) != CASHBACK_OK) {
      memset(out, 0, sizeof *out);
      return CASHBACK_E_SIG_MALFORMED;
    }
  }
  if (!have_t || out->n == 0) {
    memset(out, 0, sizeof *out);
    return CASHBACK_E_SIG_MALFORMED;
  }
  return CASHBACK_OK;
}

/* ------------------------------------------------------------------------
 * Public API
 * --------------------------------------------------------------------- */

/* A caller's key: `key_id` and `secret` (NUL-terminated) checked
 * (cashback__id_valid(), cashback__secret_valid()) and copied into `*k`,
 * its unused bytes zero. -1 when either is NULL or invalid (`*k` then all
 * zero). The caller wipes `*k`. */
static int key_make(cashback__key *k, const char *key_id, const char *secret) {
  memset(k, 0, sizeof *k);
  if (key_id == NULL || secret == NULL)
    return -1;
  size_t id_len = strnlen(key_id, CASHBACK_ID_MAX + 1);
  size_t secret_len = strnlen(secret, CASHBACK__SECRET_MAX + 1);
  if (!cashback__id_valid(key_id, id_len) ||
      !cashback__secret_valid(secret, secret_len))
    return -1;
  memcpy(k->id, key_id, id_len);
  memcpy(k->secret, secret, secret_len);
  return 0;
}

cashback_status cashback_sign(const char *key_id, const char *secret,
                              int64_t timestamp, const void *body,
                              size_t body_len, char *buf, size_t size) {
  cashback__key key;
  if (buf != NULL && size > 0)
    buf[0] = '\0';
  if (buf == NULL || size == 0 || key_make(&key, key_id, secret) != 0)
    return CASHBACK_E_INVALID_ARGUMENT;
  cashback_status st =
      cashback__sign_header(&key, 1, timestamp, body, body_len, buf, size);
  cashback__wipe(&key, sizeof key);
  return st;
}

cashback_verifier *cashback_verifier_new(void) {
  cashback_verifier *v = calloc(1, sizeof *v);
  if (v != NULL)
    v->tolerance = TOLERANCE_DEFAULT;
  return v;
}

void cashback_verifier_free(cashback_verifier *v) {
  if (v == NULL)
    return;
  cashback__wipe(v, sizeof *v);
  free(v);
}

cashback_status cashback_verifier_add_key(cashback_verifier *v,
                                          const char *key_id,
                                          const char *secret) {
  cashback__key key;
  if (v == NULL || key_make(&key, key_id, secret) != 0)
    return CASHBACK_E_INVALID_ARGUMENT;
  size_t i = 0;
  while (i < v->n && strcmp(v->keys[i].id, key.id) != 0)
    i++;
  cashback_status st = CASHBACK_OK;
  if (i == v->n && v->n == VERIFIER_KEYS_MAX)
    st = CASHBACK_E_TOO_BIG;
  else {
    v->n += i == v->n;
    cashback__wipe(&v->keys[i], sizeof v->keys[i]);
    v->keys[i] = key;
  }
  cashback__wipe(&key, sizeof key);
  return st;
}

cashback_status cashback_verifier_set_tolerance(cashback_verifier *v,
                                                int64_t seconds) {
  if (v == NULL || seconds < 0 || seconds > TOLERANCE_MAX)
    return CASHBACK_E_INVALID_ARGUMENT;
  v->tolerance = seconds;
  return CASHBACK_OK;
}

static const cashback__key *find_key(const cashback_verifier *v, const char *id,
                                     size_t id_len, size_t *index) {
  for (size_t i = 0; i < v->n; i++) {
    if (strlen(v->keys[i].id) == id_len &&
        memcmp(v->keys[i].id, id, id_len) == 0) {
      *index = i;
      return &v->keys[i];
    }
  }
  return NULL;
}

cashback_status cashback_verifier_verify(const cashback_verifier *v,
                                         const char *header, size_t header_len,
                                         const void *body, size_t body_len,
                                         int64_t now, char *key_id) {
  cashback__sig_parsed sig;
  /* Each known key's MAC is computed at most once per call. */
  uint8_t macs[VERIFIER_KEYS_MAX][CASHBACK__SHA256_LEN];
  uint8_t done[VERIFIER_KEYS_MAX] = {0};
  cashback_status st;
  int known = 0;

  if (key_id != NULL)
    key_id[0] = '\0';
  if (v == NULL || header == NULL || (body == NULL && body_len > 0))
    return CASHBACK_E_INVALID_ARGUMENT;
  st = cashback__sig_parse(header, header_len, &sig);
  if (st != CASHBACK_OK)
    return st;
  /* t - tolerance <= now <= t + tolerance; no overflow: t < 10^12 and
   * tolerance < 2^31. */
  if (now < sig.t - v->tolerance || now > sig.t + v->tolerance)
    return CASHBACK_E_SIG_TIMESTAMP;

  for (size_t i = 0; i < sig.n; i++) {
    size_t k = 0;
    const cashback__key *key =
        find_key(v, sig.sigs[i].key_id, sig.sigs[i].key_id_len, &k);
    if (key == NULL)
      continue;
    known = 1;
    if (!done[k]) {
      st = cashback__sign_mac(key->secret, sig.t, body, body_len, macs[k]);
      if (st != CASHBACK_OK)
        goto out; /* the crypto library failed: not a verdict */
      done[k] = 1;
    }
    if (cashback__ct_equal(macs[k], sig.sigs[i].mac, CASHBACK__SHA256_LEN)) {
      if (key_id != NULL)
        memcpy(key_id, key->id, strlen(key->id) + 1);
      st = CASHBACK_OK;
      goto out;
    }
  }
  st = known ? CASHBACK_E_SIG_MISMATCH : CASHBACK_E_SIG_UNKNOWN_KEY;
out:
  cashback__wipe(macs, sizeof macs);
  return st;
}
