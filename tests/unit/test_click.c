/* Unit tests: sdk/cashback_click.c (cashback_capture, cashback_capture_parts,
 * cashback_click_read, cashback_click_verify), through the public API only. */
#include "tests.h"

#include "cashback.h"

#include <check.h>
#include <inttypes.h>
#include <stddef.h>
#include <mbedtls/md.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Test inputs are composed with snprintf into buffers sized for the
 * documented caps; GCC cannot see those bounds at -O2. */
#pragma GCC diagnostic ignored "-Wformat-truncation"

#define T0 INT64_C(1790000000)
#define WINDOW_DEFAULT INT64_C(2592000) /* 30 days */
#define SECRET "s3cret-0123456789abcdef"
#define MERCHANT "shop-42"
#define CK "cashback_click" /* the default cookie name */

typedef struct test_clock {
  int64_t now;
} test_clock;

static int64_t clock_fn(void *userdata) {
  return ((test_clock *)userdata)->now;
}

typedef struct test_log {
  int n_warn;
  char last[512]; /* the last WARN message */
  int n_all;      /* lines of any level */
  char last_any[512];
} test_log;

static void log_fn(cashback_log_level level, const char *message,
                   void *userdata) {
  test_log *l = userdata;
  l->n_all++;
  snprintf(l->last_any, sizeof(l->last_any), "%s", message);
  if (level == CASHBACK_LOG_WARN) {
    l->n_warn++;
    snprintf(l->last, sizeof(l->last), "%s", message);
  }
}

typedef struct client_spec {
  const char *merchant;
  const char *secret;
  const char *landing;     /* NULL: default */
  const char *cookie_name; /* NULL: default */
  const char *domain;      /* NULL: none */
  int64_t window;          /* 0: default */
  test_log *log;
} client_spec;

static cashback_client *make(test_clock *clk, const client_spec *s) {
  cashback_options *o = cashback_options_new();
  ck_assert_ptr_nonnull(o);
  ck_assert_int_eq(
      cashback_options_set_merchant_id(o, s->merchant ? s->merchant : MERCHANT),
      CASHBACK_OK);
  ck_assert_int_eq(
      cashback_options_set_key(o, "k1", s->secret ? s->secret : SECRET),
      CASHBACK_OK);
  ck_assert_int_eq(
      cashback_options_set_endpoint(o, "https://api.network.example/v1/events"),
      CASHBACK_OK);
  ck_assert_int_eq(cashback_options_set_clock(o, clock_fn, clk), CASHBACK_OK);
  if (s->landing)
    ck_assert_int_eq(cashback_options_set_landing_params(o, s->landing),
                     CASHBACK_OK);
  if (s->cookie_name)
    ck_assert_int_eq(cashback_options_set_cookie_name(o, s->cookie_name),
                     CASHBACK_OK);
  if (s->domain)
    ck_assert_int_eq(cashback_options_set_cookie_domain(o, s->domain),
                     CASHBACK_OK);
  if (s->window)
    ck_assert_int_eq(cashback_options_set_attribution_window(o, s->window),
                     CASHBACK_OK);
  if (s->log)
    ck_assert_int_eq(
        cashback_options_set_logger(o, log_fn, s->log, CASHBACK_LOG_DEBUG),
        CASHBACK_OK);
  cashback_client *c = NULL;
  char detail[CASHBACK_ERROR_MAX + 1];
  ck_assert_msg(cashback_client_new(o, &c, detail, sizeof(detail)) ==
                    CASHBACK_OK,
                "client_new: %s", detail);
  return c;
}

static cashback_client *make_default(test_clock *clk) {
  client_spec s = {0};
  return make(clk, &s);
}

static cashback_status capture(cashback_client *c, const char *target,
                               char *sc) {
  return cashback_capture(c, target, strlen(target), sc,
                          CASHBACK_SET_COOKIE_MAX + 1);
}

static cashback_status read_back(cashback_client *c, const char *header,
                                 cashback_click *out) {
  return cashback_click_read(c, header, strlen(header), out);
}

/* "name=value" of a Set-Cookie value (everything before the first ';'). */
static void pair_of(const char *sc, char *out, size_t size) {
  const char *semi = strchr(sc, ';');
  size_t n = semi ? (size_t)(semi - sc) : strlen(sc);
  ck_assert_uint_lt(n, size);
  memcpy(out, sc, n);
  out[n] = '\0';
}

/* Captures `target` at `at` and returns the cookie pair in `pair`. */
static void capture_pair(cashback_client *c, test_clock *clk, int64_t at,
                         const char *target, char *pair, size_t size) {
  char sc[CASHBACK_SET_COOKIE_MAX + 1];
  int64_t saved = clk->now;
  clk->now = at;
  ck_assert_int_eq(capture(c, target, sc), CASHBACK_OK);
  clk->now = saved;
  pair_of(sc, pair, size);
}

static void hmac(const void *key, size_t key_len, const void *msg,
                 size_t msg_len, unsigned char out[32]) {
  const mbedtls_md_info_t *md = mbedtls_md_info_from_type(MBEDTLS_MD_SHA256);
  ck_assert_int_eq(mbedtls_md_hmac(md, key, key_len, msg, msg_len, out), 0);
}

/* The documented cookie MAC, computed independently with mbedTLS:
 * cookie_key = HMAC(secret, "cashback-cookie-key-v1" 0x00 merchant_id);
 * mac = HMAC(cookie_key, "cashback-cookie-v1" 0x00 merchant 0x00 ts 0x00
 * param 0x00 token)[0..16], as lowercase hex. */
static void expected_mac(const char *secret, const char *merchant,
                         const char *ts, const char *param, const char *token,
                         char hex[33]) {
  unsigned char key[32], mac[32], msg[512];
  size_t n = 0;
  const char label[] = "cashback-cookie-key-v1";
  memcpy(msg, label, sizeof(label));
  n = sizeof(label);
  memcpy(msg + n, merchant, strlen(merchant));
  n += strlen(merchant);
  hmac(secret, strlen(secret), msg, n, key);
  const char *parts[] = {"cashback-cookie-v1", merchant, ts, param, token};
  n = 0;
  for (size_t i = 0; i < 5; i++) {
    size_t l = strlen(parts[i]);
    ck_assert_uint_lt(n + l + 1, sizeof(msg));
    memcpy(msg + n, parts[i], l);
    n += l;
    if (i < 4)
      msg[n++] = 0;
  }
  hmac(key, sizeof(key), msg, n, mac);
  for (int i = 0; i < 16; i++)
    snprintf(hex + 2 * i, 3, "%02x", mac[i]);
}

static void expect_last_error(cashback_client *c, cashback_status st,
                              const char *needle) {
  char buf[CASHBACK_ERROR_MAX + 1];
  ck_assert_int_eq(cashback_client_last_error(c, buf, sizeof(buf)), st);
  ck_assert_msg(strstr(buf, needle) != NULL, "'%s' not in last error '%s'",
                needle, buf);
}

/* ------------------------------------------------------------------------ */

START_TEST(click_round_trip) {
  test_clock clk = {T0};
  cashback_client *c = make_default(&clk);
  char sc[CASHBACK_SET_COOKIE_MAX + 1];
  ck_assert_int_eq(capture(c, "/landing?x=1&cb_click=abc.DEF_123~-x#top", sc),
                   CASHBACK_OK);

  char ts[24], mac[33], want[CASHBACK_SET_COOKIE_MAX + 1];
  snprintf(ts, sizeof(ts), "%" PRId64, T0);
  expected_mac(SECRET, MERCHANT, ts, "cb_click", "abc.DEF_123~-x", mac);
  snprintf(want, sizeof(want),
           CK "=1.%s.%s.cb_click.abc.DEF_123~-x; Max-Age=2592000; Path=/; "
              "Secure; HttpOnly; SameSite=Lax",
           ts, mac);
  ck_assert_str_eq(sc, want);

  char pair[CASHBACK_SET_COOKIE_MAX + 1], header[1024];
  pair_of(sc, pair, sizeof(pair));
  snprintf(header, sizeof(header), "session=xyz; %s; theme=dark", pair);
  clk.now = T0 + 3600;
  cashback_click click = {.size = sizeof(cashback_click)};
  ck_assert_int_eq(read_back(c, header, &click), CASHBACK_OK);
  ck_assert_str_eq(click.token, "abc.DEF_123~-x");
  ck_assert_str_eq(click.source, "cb_click");
  ck_assert_int_eq(click.captured_at, T0);
  /* A successful read leaves no error behind. */
  char buf[64];
  ck_assert_int_eq(cashback_client_last_error(c, buf, sizeof(buf)),
                   CASHBACK_OK);
  cashback_client_free(c);
}
END_TEST

START_TEST(click_set_cookie_attributes) {
  test_clock clk = {T0};
  client_spec s = {.cookie_name = "cbk",
                   .domain = "shop.example",
                   .window = 7 * 86400,
                   .landing = "awc"};
  cashback_client *c = make(&clk, &s);
  char sc[CASHBACK_SET_COOKIE_MAX + 1];
  ck_assert_int_eq(capture(c, "awc=T1", sc), CASHBACK_OK);
  char ts[24], mac[33], want[CASHBACK_SET_COOKIE_MAX + 1];
  snprintf(ts, sizeof(ts), "%" PRId64, T0);
  expected_mac(SECRET, MERCHANT, ts, "awc", "T1", mac);
  snprintf(want, sizeof(want),
           "cbk=1.%s.%s.awc.T1; Max-Age=604800; Path=/; Domain=shop.example; "
           "Secure; HttpOnly; SameSite=Lax",
           ts, mac);
  ck_assert_str_eq(sc, want);

  /* Read back under the configured name only. */
  char pair[CASHBACK_SET_COOKIE_MAX + 1], header[1024];
  pair_of(sc, pair, sizeof(pair));
  cashback_click click = {.size = sizeof(cashback_click)};
  ck_assert_int_eq(read_back(c, pair, &click), CASHBACK_OK);
  ck_assert_str_eq(click.token, "T1");
  ck_assert_str_eq(click.source, "awc");
  snprintf(header, sizeof(header), CK "%s", pair + 3);
  ck_assert_int_eq(read_back(c, header, &click), CASHBACK_E_CLICK_NONE);
  snprintf(header, sizeof(header), "CBK%s", pair + 3);
  ck_assert_int_eq(read_back(c, header, &click), CASHBACK_E_CLICK_NONE);
  cashback_client_free(c);
}
END_TEST

START_TEST(click_capture_none) {
  test_clock clk = {T0};
  cashback_client *c = make_default(&clk);
  const char *targets[] = {"",
                           "/",
                           "/p?x=1",
                           "/p?cb_click=",
                           "/p?cb_click",
                           "/p?cb_click=&cb_click=",
                           "/p#cb_click=abc",
                           "/p?xcb_click=abc",
                           "/p?cb_click%3Dabc",
                           "/cb_click=abc"};
  for (size_t i = 0; i < sizeof(targets) / sizeof(targets[0]); i++) {
    char sc[CASHBACK_SET_COOKIE_MAX + 1] = "junk";
    ck_assert_msg(capture(c, targets[i], sc) == CASHBACK_E_CLICK_NONE,
                  "target '%s'", targets[i]);
    ck_assert_str_eq(sc, "");
  }
  /* NONE is a normal outcome: not recorded as an error. */
  char buf[64];
  ck_assert_int_eq(cashback_client_last_error(c, buf, sizeof(buf)),
                   CASHBACK_OK);
  /* No query at all (NULL, 0). */
  char sc[CASHBACK_SET_COOKIE_MAX + 1];
  ck_assert_int_eq(cashback_capture(c, NULL, 0, sc, sizeof(sc)),
                   CASHBACK_E_CLICK_NONE);
  cashback_client_free(c);
}
END_TEST

START_TEST(click_capture_malformed) {
  test_clock clk = {T0};
  cashback_client *c = make_default(&clk);
  static const struct {
    const char *target;
    const char *detail;
  } cases[] = {
      /* Header injection attempts. */
      {"/p?cb_click=abc%0d%0aSet-Cookie:%20x=1", "0x0d"},
      {"/p?cb_click=abc%0aX:1", "0x0a"},
      {"/p?cb_click=abc%0D%0A", "0x0d"},
      {"/p?cb_click=a%3Bb", "0x3b"},   /* ';' */
      {"/p?cb_click=a%2Cb", "0x2c"},   /* ',' */
      {"/p?cb_click=a+b", "0x20"},     /* '+' is a space */
      {"/p?cb_click=a%20b", "0x20"},   /* space */
      {"/p?cb_click=a%22b", "0x22"},   /* '"' */
      {"/p?cb_click=a'b", "0x27"},     /* '\'' */
      {"/p?cb_click=a;b", "0x3b"},     /* raw ';' */
      {"/p?cb_click=a=b", "0x3d"},     /* '=' */
      {"/p?cb_click=a%C3%A9", "0xc3"}, /* non-ASCII */
      {"/p?cb_click=a%00b", "'cb_click'"},
      {"/p?cb_click=a%G1", "'cb_click'"},
      {"/p?cb_click=a%4", "'cb_click'"},
      {"/p?cb_click=a%", "'cb_click'"},
      {"/p?cb_click=a&cb_click=b", "different values"},
  };
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    char sc[CASHBACK_SET_COOKIE_MAX + 1] = "junk";
    ck_assert_msg(capture(c, cases[i].target, sc) == CASHBACK_E_CLICK_MALFORMED,
                  "target '%s'", cases[i].target);
    ck_assert_str_eq(sc, "");
    expect_last_error(c, CASHBACK_E_CLICK_MALFORMED, "'cb_click'");
    expect_last_error(c, CASHBACK_E_CLICK_MALFORMED, cases[i].detail);
  }
  cashback_client_free(c);
}
END_TEST

START_TEST(click_token_length) {
  test_clock clk = {T0};
  cashback_client *c = make_default(&clk);
  char target[2048] = "cb_click=";
  size_t base = strlen(target);
  memset(target + base, 'A', CASHBACK_TOKEN_MAX);
  target[base + CASHBACK_TOKEN_MAX] = '\0';
  char sc[CASHBACK_SET_COOKIE_MAX + 1];
  ck_assert_int_eq(capture(c, target, sc), CASHBACK_OK);
  char pair[CASHBACK_SET_COOKIE_MAX + 1];
  pair_of(sc, pair, sizeof(pair));
  cashback_click click = {.size = sizeof(cashback_click)};
  ck_assert_int_eq(read_back(c, pair, &click), CASHBACK_OK);
  ck_assert_str_eq(click.token, target + base);

  target[base + CASHBACK_TOKEN_MAX] = 'A';
  target[base + CASHBACK_TOKEN_MAX + 1] = '\0';
  ck_assert_int_eq(capture(c, target, sc), CASHBACK_E_CLICK_MALFORMED);
  expect_last_error(c, CASHBACK_E_CLICK_MALFORMED, "129 bytes");
  /* Far too long, and percent-encoded. */
  for (int i = 0; i < 600; i++)
    memcpy(target + base + 3 * i, "%41", 3);
  target[base + 1800] = '\0';
  ck_assert_int_eq(capture(c, target, sc), CASHBACK_E_CLICK_MALFORMED);
  expect_last_error(c, CASHBACK_E_CLICK_MALFORMED, "'cb_click'");
  cashback_client_free(c);
}
END_TEST

START_TEST(click_capture_decoding) {
  test_clock clk = {T0};
  cashback_client *c = make_default(&clk);
  char sc[CASHBACK_SET_COOKIE_MAX + 1], pair[CASHBACK_SET_COOKIE_MAX + 1];
  cashback_click click = {.size = sizeof(cashback_click)};
  /* Encoded unreserved characters are fine; identical repeats too. */
  ck_assert_int_eq(capture(c, "/p?cb_click=a%2Db%7e&cb_click=a-b~", sc),
                   CASHBACK_OK);
  pair_of(sc, pair, sizeof(pair));
  ck_assert_int_eq(read_back(c, pair, &click), CASHBACK_OK);
  ck_assert_str_eq(click.token, "a-b~");
  cashback_client_free(c);
}
END_TEST

START_TEST(click_priority) {
  test_clock clk = {T0};
  test_log log = {0};
  client_spec s = {.landing = "cb_click,awc", .log = &log};
  cashback_client *c = make(&clk, &s);
  char sc[CASHBACK_SET_COOKIE_MAX + 1], pair[CASHBACK_SET_COOKIE_MAX + 1];
  cashback_click click = {.size = sizeof(cashback_click)};

  /* Both present: the first configured wins, whatever the query order. */
  ck_assert_int_eq(capture(c, "/p?awc=A1&cb_click=C1", sc), CASHBACK_OK);
  pair_of(sc, pair, sizeof(pair));
  ck_assert_int_eq(read_back(c, pair, &click), CASHBACK_OK);
  ck_assert_str_eq(click.token, "C1");
  ck_assert_str_eq(click.source, "cb_click");

  /* Only the second present. */
  ck_assert_int_eq(capture(c, "/p?awc=A1", sc), CASHBACK_OK);
  pair_of(sc, pair, sizeof(pair));
  ck_assert_int_eq(read_back(c, pair, &click), CASHBACK_OK);
  ck_assert_str_eq(click.token, "A1");
  ck_assert_str_eq(click.source, "awc");

  /* The first malformed, the second valid: the valid one, and a warning. */
  int warns = log.n_warn;
  ck_assert_int_eq(capture(c, "/p?cb_click=bad%0a&awc=A2", sc), CASHBACK_OK);
  ck_assert_int_eq(log.n_warn, warns + 1);
  ck_assert_ptr_nonnull(strstr(log.last, "'cb_click'"));
  pair_of(sc, pair, sizeof(pair));
  ck_assert_int_eq(read_back(c, pair, &click), CASHBACK_OK);
  ck_assert_str_eq(click.token, "A2");
  ck_assert_str_eq(click.source, "awc");

  /* Both malformed: the first one is reported. */
  ck_assert_int_eq(capture(c, "/p?cb_click=bad%0a&awc=b%20d", sc),
                   CASHBACK_E_CLICK_MALFORMED);
  expect_last_error(c, CASHBACK_E_CLICK_MALFORMED, "'cb_click'");
  ck_assert_str_eq(sc, "");
  /* The first malformed, the second absent. */
  ck_assert_int_eq(capture(c, "/p?x=1&awc=&cb_click=%zz", sc),
                   CASHBACK_E_CLICK_MALFORMED);
  /* The second malformed, the first absent. */
  ck_assert_int_eq(capture(c, "/p?awc=%zz", sc), CASHBACK_E_CLICK_MALFORMED);
  expect_last_error(c, CASHBACK_E_CLICK_MALFORMED, "'awc'");
  /* The first valid, the second malformed: the first, no failure. */
  ck_assert_int_eq(capture(c, "/p?awc=%zz&cb_click=C3", sc), CASHBACK_OK);
  pair_of(sc, pair, sizeof(pair));
  ck_assert_int_eq(read_back(c, pair, &click), CASHBACK_OK);
  ck_assert_str_eq(click.token, "C3");
  cashback_client_free(c);
}
END_TEST

START_TEST(click_presets) {
  test_clock clk = {T0};
  client_spec s = {.landing = "@awin,cb_click"};
  cashback_client *c = make(&clk, &s);
  char sc[CASHBACK_SET_COOKIE_MAX + 1], pair[CASHBACK_SET_COOKIE_MAX + 1];
  cashback_click click = {.size = sizeof(cashback_click)};
  ck_assert_int_eq(capture(c, "/p?cb_click=C&awc=123_abc", sc), CASHBACK_OK);
  pair_of(sc, pair, sizeof(pair));
  ck_assert_int_eq(read_back(c, pair, &click), CASHBACK_OK);
  ck_assert_str_eq(click.token, "123_abc");
  ck_assert_str_eq(click.source, "awc");
  ck_assert_int_eq(capture(c, "/p?cb_click=C", sc), CASHBACK_OK);
  pair_of(sc, pair, sizeof(pair));
  ck_assert_int_eq(read_back(c, pair, &click), CASHBACK_OK);
  ck_assert_str_eq(click.source, "cb_click");
  /* A parameter not configured is ignored. */
  ck_assert_int_eq(capture(c, "/p?cjevent=C", sc), CASHBACK_E_CLICK_NONE);
  cashback_client_free(c);
}
END_TEST

START_TEST(click_param_with_dot) {
  test_clock clk = {T0};
  client_spec s = {.landing = "utm.click"};
  cashback_client *c = make(&clk, &s);
  char sc[CASHBACK_SET_COOKIE_MAX + 1], pair[CASHBACK_SET_COOKIE_MAX + 1];
  ck_assert_int_eq(capture(c, "utm.click=a.b", sc), CASHBACK_OK);
  char ts[24], mac[33], want[256];
  snprintf(ts, sizeof(ts), "%" PRId64, T0);
  /* The MAC covers the real name; the field spells '.' as '~'. */
  expected_mac(SECRET, MERCHANT, ts, "utm.click", "a.b", mac);
  snprintf(want, sizeof(want), CK "=1.%s.%s.utm~click.a.b", ts, mac);
  pair_of(sc, pair, sizeof(pair));
  ck_assert_str_eq(pair, want);
  cashback_click click = {.size = sizeof(cashback_click)};
  ck_assert_int_eq(read_back(c, pair, &click), CASHBACK_OK);
  ck_assert_str_eq(click.source, "utm.click");
  ck_assert_str_eq(click.token, "a.b");
  cashback_client_free(c);
}
END_TEST

/* Replaces the first occurrence of `from` after `at` in `s` by `to`
 * (same length). */
static void patch(char *s, size_t at, const char *from, const char *to) {
  char *p = strstr(s + at, from);
  ck_assert_ptr_nonnull(p);
  ck_assert_uint_eq(strlen(from), strlen(to));
  memcpy(p, to, strlen(to));
}

START_TEST(click_tampered) {
  test_clock clk = {T0};
  cashback_client *c = make_default(&clk);
  char good[CASHBACK_SET_COOKIE_MAX + 1], bad[CASHBACK_SET_COOKIE_MAX + 8];
  capture_pair(c, &clk, T0, "cb_click=TOKEN1", good, sizeof(good));
  cashback_click click = {.size = sizeof(cashback_click)};
  size_t mac_at = strlen(CK "=1.") + 11; /* 10 time digits and a '.' */

  /* Each MAC byte flipped (one hex digit changed). */
  for (size_t i = 0; i < 32; i++) {
    memcpy(bad, good, sizeof(good));
    char *d = bad + mac_at + i;
    *d = *d == '0' ? '1' : '0';
    ck_assert_int_eq(read_back(c, bad, &click), CASHBACK_E_CLICK_TAMPERED);
    ck_assert_str_eq(click.token, "");
  }
  expect_last_error(c, CASHBACK_E_CLICK_TAMPERED, "'" CK "'");

  /* Changed token, time, source. */
  memcpy(bad, good, sizeof(good));
  patch(bad, mac_at + 32, "TOKEN1", "TOKEN2");
  ck_assert_int_eq(read_back(c, bad, &click), CASHBACK_E_CLICK_TAMPERED);
  memcpy(bad, good, sizeof(good));
  patch(bad, 0, "=1.1790", "=1.1791");
  ck_assert_int_eq(read_back(c, bad, &click), CASHBACK_E_CLICK_TAMPERED);
  memcpy(bad, good, sizeof(good));
  patch(bad, 0, ".cb_click.", ".cb_clack.");
  ck_assert_int_eq(read_back(c, bad, &click), CASHBACK_E_CLICK_TAMPERED);
  /* A token made shorter or longer. */
  snprintf(bad, sizeof(bad), "%.*s", (int)strlen(good) - 1, good);
  ck_assert_int_eq(read_back(c, bad, &click), CASHBACK_E_CLICK_TAMPERED);
  snprintf(bad, sizeof(bad), "%sX", good);
  ck_assert_int_eq(read_back(c, bad, &click), CASHBACK_E_CLICK_TAMPERED);

  /* Another merchant (another secret), and the same secret under another
   * merchant id: both fail the check. */
  client_spec other = {.merchant = "other-shop",
                       .secret = "another-secret-0123456789"};
  cashback_client *c2 = make(&clk, &other);
  ck_assert_int_eq(read_back(c2, good, &click), CASHBACK_E_CLICK_TAMPERED);
  cashback_client_free(c2);
  client_spec same_secret = {.merchant = "shop-43"};
  c2 = make(&clk, &same_secret);
  ck_assert_int_eq(read_back(c2, good, &click), CASHBACK_E_CLICK_TAMPERED);
  cashback_client_free(c2);
  client_spec other_secret = {.secret = "another-secret-0123456789"};
  c2 = make(&clk, &other_secret);
  ck_assert_int_eq(read_back(c2, good, &click), CASHBACK_E_CLICK_TAMPERED);
  cashback_client_free(c2);
  /* The same configuration in a new client reads it. */
  client_spec same = {0};
  c2 = make(&clk, &same);
  ck_assert_int_eq(read_back(c2, good, &click), CASHBACK_OK);
  cashback_client_free(c2);

  ck_assert_int_eq(read_back(c, good, &click), CASHBACK_OK);
  cashback_client_free(c);
}
END_TEST

START_TEST(click_expiry_boundary) {
  test_clock clk = {T0};
  client_spec s = {.window = 3600};
  cashback_client *c = make(&clk, &s);
  char pair[CASHBACK_SET_COOKIE_MAX + 1];
  capture_pair(c, &clk, T0, "cb_click=E1", pair, sizeof(pair));
  cashback_click click = {.size = sizeof(cashback_click)};
  clk.now = T0 + 3600;
  ck_assert_int_eq(read_back(c, pair, &click), CASHBACK_OK);
  ck_assert_str_eq(click.token, "E1");
  clk.now = T0 + 3601;
  ck_assert_int_eq(read_back(c, pair, &click), CASHBACK_E_CLICK_EXPIRED);
  ck_assert_str_eq(click.token, "");
  expect_last_error(c, CASHBACK_E_CLICK_EXPIRED, "3601 s ago");
  clk.now = T0 + 400 * 86400;
  ck_assert_int_eq(read_back(c, pair, &click), CASHBACK_E_CLICK_EXPIRED);
  cashback_client_free(c);

  /* The default window is 30 days. */
  clk.now = T0;
  c = make_default(&clk);
  capture_pair(c, &clk, T0, "cb_click=E2", pair, sizeof(pair));
  clk.now = T0 + WINDOW_DEFAULT;
  ck_assert_int_eq(read_back(c, pair, &click), CASHBACK_OK);
  clk.now = T0 + WINDOW_DEFAULT + 1;
  ck_assert_int_eq(read_back(c, pair, &click), CASHBACK_E_CLICK_EXPIRED);
  cashback_client_free(c);
}
END_TEST

START_TEST(click_future) {
  test_clock clk = {T0};
  cashback_client *c = make_default(&clk);
  char pair[CASHBACK_SET_COOKIE_MAX + 1];
  capture_pair(c, &clk, T0, "cb_click=F1", pair, sizeof(pair));
  cashback_click click = {.size = sizeof(cashback_click)};
  /* Up to 300 s of clock skew is tolerated. */
  clk.now = T0 - 300;
  ck_assert_int_eq(read_back(c, pair, &click), CASHBACK_OK);
  ck_assert_int_eq(click.captured_at, T0);
  clk.now = T0 - 301;
  ck_assert_int_eq(read_back(c, pair, &click), CASHBACK_E_CLICK_MALFORMED);
  expect_last_error(c, CASHBACK_E_CLICK_MALFORMED, "in the future");
  cashback_client_free(c);
}
END_TEST

START_TEST(click_several_cookies) {
  test_clock clk = {T0 + 1000};
  client_spec s = {.window = 3600};
  cashback_client *c = make(&clk, &s);
  char old_[CASHBACK_SET_COOKIE_MAX + 1], new_[CASHBACK_SET_COOKIE_MAX + 1];
  char tie[CASHBACK_SET_COOKIE_MAX + 1], expired[CASHBACK_SET_COOKIE_MAX + 1];
  char header[2048];
  capture_pair(c, &clk, T0, "cb_click=OLD", old_, sizeof(old_));
  capture_pair(c, &clk, T0 + 500, "cb_click=NEW", new_, sizeof(new_));
  capture_pair(c, &clk, T0 + 500, "cb_click=TIE", tie, sizeof(tie));
  capture_pair(c, &clk, T0 - 3000, "cb_click=EXP", expired, sizeof(expired));
  const char *tampered = CK "=1.1790000999.00000000000000000000000000000000."
                            "cb_click.FORGED";
  const char *malformed = CK "=garbage";
  cashback_click click = {.size = sizeof(cashback_click)};

  /* Newest valid wins, in either order. */
  snprintf(header, sizeof(header), "%s; %s", old_, new_);
  ck_assert_int_eq(read_back(c, header, &click), CASHBACK_OK);
  ck_assert_str_eq(click.token, "NEW");
  ck_assert_int_eq(click.captured_at, T0 + 500);
  snprintf(header, sizeof(header), "%s; %s", new_, old_);
  ck_assert_int_eq(read_back(c, header, &click), CASHBACK_OK);
  ck_assert_str_eq(click.token, "NEW");
  /* Same time: the later in the header (the last click) wins. */
  snprintf(header, sizeof(header), "%s; %s", new_, tie);
  ck_assert_int_eq(read_back(c, header, &click), CASHBACK_OK);
  ck_assert_str_eq(click.token, "TIE");
  snprintf(header, sizeof(header), "%s; %s", tie, new_);
  ck_assert_int_eq(read_back(c, header, &click), CASHBACK_OK);
  ck_assert_str_eq(click.token, "NEW");
  /* Invalid ones next to a valid one are skipped, newer or not. */
  snprintf(header, sizeof(header), "%s; %s; %s; %s", tampered, old_, expired,
           malformed);
  ck_assert_int_eq(read_back(c, header, &click), CASHBACK_OK);
  ck_assert_str_eq(click.token, "OLD");

  /* None valid: tampered > expired > malformed. */
  snprintf(header, sizeof(header), "%s; %s; %s", malformed, expired, tampered);
  ck_assert_int_eq(read_back(c, header, &click), CASHBACK_E_CLICK_TAMPERED);
  snprintf(header, sizeof(header), "%s; %s; %s", tampered, expired, malformed);
  ck_assert_int_eq(read_back(c, header, &click), CASHBACK_E_CLICK_TAMPERED);
  snprintf(header, sizeof(header), "%s; %s", malformed, expired);
  ck_assert_int_eq(read_back(c, header, &click), CASHBACK_E_CLICK_EXPIRED);
  snprintf(header, sizeof(header), "%s; %s", expired, malformed);
  ck_assert_int_eq(read_back(c, header, &click), CASHBACK_E_CLICK_EXPIRED);
  snprintf(header, sizeof(header), "%s; %s", malformed, malformed);
  ck_assert_int_eq(read_back(c, header, &click), CASHBACK_E_CLICK_MALFORMED);
  cashback_client_free(c);
}
END_TEST

/* A Cookie header full of bad cookies of our name is one log line, with
 * the count and the first reason, not a line per cookie. */
START_TEST(click_bad_cookies_one_log_line) {
  test_clock clk = {T0 + 1000};
  test_log log = {0};
  client_spec s = {.log = &log};
  cashback_client *c = make(&clk, &s);
  char good[CASHBACK_SET_COOKIE_MAX + 1];
  capture_pair(c, &clk, T0, "cb_click=GOOD", good, sizeof(good));
  /* 8 KiB of bad cookies: 362 of "cashback_click=bad" and a number. */
  size_t cap = 16384, o = 0;
  char *header = malloc(cap);
  ck_assert_ptr_nonnull(header);
  int n = 0;
  while (o < 8192) {
    int w = snprintf(header + o, cap - o, "%s" CK "=bad%d", o ? "; " : "", n);
    o += (size_t)w;
    n++;
  }
  ck_assert_int_ge(n, 300);
  cashback_click click = {.size = sizeof(cashback_click)};
  log.n_all = 0;
  log.n_warn = 0;
  ck_assert_int_eq(cashback_click_read(c, header, o, &click),
                   CASHBACK_E_CLICK_MALFORMED);
  ck_assert_int_eq(log.n_all, 1);
  ck_assert_int_eq(log.n_warn, 1);
  char want[64];
  snprintf(want, sizeof(want), "(%d cookies of that name, none valid;", n);
  ck_assert_msg(strstr(log.last_any, want), "%s", log.last_any);
  ck_assert_ptr_nonnull(strstr(log.last_any, "first, #1: "));
  /* With a valid one among them: still one line, at INFO, with the count. */
  snprintf(header + o, cap - o, "; %s", good);
  log.n_all = 0;
  log.n_warn = 0;
  ck_assert_int_eq(read_back(c, header, &click), CASHBACK_OK);
  ck_assert_str_eq(click.token, "GOOD");
  ck_assert_int_eq(log.n_all, 1);
  ck_assert_int_eq(log.n_warn, 0);
  snprintf(want, sizeof(want), "%d of %d ignored (first, #1: ", n, n + 1);
  ck_assert_msg(strstr(log.last_any, want), "%s", log.last_any);
  /* A valid cookie alone: no line at all. */
  log.n_all = 0;
  ck_assert_int_eq(read_back(c, good, &click), CASHBACK_OK);
  ck_assert_int_eq(log.n_all, 0);
  free(header);
  cashback_client_free(c);
}
END_TEST

START_TEST(click_read_malformed) {
  test_clock clk = {T0};
  cashback_client *c = make_default(&clk);
  char good[CASHBACK_SET_COOKIE_MAX + 1];
  capture_pair(c, &clk, T0, "cb_click=M1", good, sizeof(good));
  const char *v = good + strlen(CK "=");
  /* v = "1.<ts>.<mac>.cb_click.M1" */
  char ts_mac[64];
  snprintf(ts_mac, sizeof(ts_mac), "%.43s", v + 2); /* "<ts>.<mac>" */
  char mac_upper[64];
  snprintf(mac_upper, sizeof(mac_upper), "%s", ts_mac);
  for (char *p = mac_upper; *p; p++)
    if (*p >= 'a' && *p <= 'f')
      *p = (char)(*p - 'a' + 'A');

  char cases[16][256];
  int n = 0;
  snprintf(cases[n++], 256, CK "=");
  snprintf(cases[n++], 256, CK "=1");
  snprintf(cases[n++], 256, CK "=1.2.3.4");
  snprintf(cases[n++], 256, CK "=2.%s.cb_click.M1", ts_mac);  /* version */
  snprintf(cases[n++], 256, CK "=01.%s.cb_click.M1", ts_mac); /* version */
  snprintf(cases[n++], 256, CK "=1.0%s.cb_click.M1", ts_mac); /* lead 0 */
  snprintf(cases[n++], 256, CK "=1.-%s.cb_click.M1", ts_mac);
  snprintf(cases[n++], 256, CK "=1.99999999999999999999.%s.cb_click.M1",
           ts_mac + 11);                                        /* big */
  snprintf(cases[n++], 256, CK "=1.%s.cb_click.M1", mac_upper); /* case */
  snprintf(cases[n++], 256, CK "=1.%.42s.cb_click.M1", ts_mac); /* short */
  snprintf(cases[n++], 256, CK "=1.%s.cb_click.", ts_mac);      /* token */
  snprintf(cases[n++], 256, CK "=1.%s.cb_click.M%%31", ts_mac); /* char */
  snprintf(cases[n++], 256, CK "=1.%s..M1", ts_mac);            /* param */
  snprintf(cases[n++], 256, CK "=1.%s.cb~click!.M1", ts_mac);   /* param */
  snprintf(cases[n++], 256, CK "=1.%s.%s.M1", ts_mac,
           "p23456789012345678901234567890123"); /* 33-byte param */
  snprintf(cases[n++], 256, CK "=1..%.32s.cb_click.M1", ts_mac + 11);
  cashback_click click = {.size = sizeof(cashback_click)};
  for (int i = 0; i < n; i++) {
    ck_assert_msg(read_back(c, cases[i], &click) == CASHBACK_E_CLICK_MALFORMED,
                  "cookie '%s'", cases[i]);
    expect_last_error(c, CASHBACK_E_CLICK_MALFORMED, "'" CK "'");
  }
  /* A 129-byte token. */
  char longtok[512];
  snprintf(longtok, sizeof(longtok), CK "=1.%s.cb_click.", ts_mac);
  size_t l = strlen(longtok);
  memset(longtok + l, 'a', 129);
  longtok[l + 129] = '\0';
  ck_assert_int_eq(read_back(c, longtok, &click), CASHBACK_E_CLICK_MALFORMED);
  expect_last_error(c, CASHBACK_E_CLICK_MALFORMED, "129 bytes");
  /* Quotes around the value are allowed, and spaces around it. */
  char quoted[CASHBACK_SET_COOKIE_MAX + 32];
  snprintf(quoted, sizeof(quoted), " " CK " = \"%s\" ;", v);
  ck_assert_int_eq(read_back(c, quoted, &click), CASHBACK_OK);
  ck_assert_str_eq(click.token, "M1");
  cashback_client_free(c);
}
END_TEST

START_TEST(click_read_none) {
  test_clock clk = {T0};
  cashback_client *c = make_default(&clk);
  cashback_click click = {.size = sizeof(cashback_click)};
  memset(&click, 'x', sizeof(click));
  const char *headers[] = {"",       ";",         "a=1; b=2",        CK,
                           CK "x=1", "x" CK "=1", "cashback_Click=1"};
  for (size_t i = 0; i < sizeof(headers) / sizeof(headers[0]); i++) {
    ck_assert_msg(read_back(c, headers[i], &click) == CASHBACK_E_CLICK_NONE,
                  "header '%s'", headers[i]);
    ck_assert_str_eq(click.token, "");
    ck_assert_str_eq(click.source, "");
    ck_assert_int_eq(click.captured_at, 0);
  }
  ck_assert_int_eq(cashback_click_read(c, NULL, 0, &click),
                   CASHBACK_E_CLICK_NONE);
  char buf[64];
  ck_assert_int_eq(cashback_client_last_error(c, buf, sizeof(buf)),
                   CASHBACK_OK);
  /* Only `len` bytes are read. */
  char pair[CASHBACK_SET_COOKIE_MAX + 1];
  capture_pair(c, &clk, T0, "cb_click=L1", pair, sizeof(pair));
  ck_assert_int_eq(cashback_click_read(c, pair, strlen(CK), &click),
                   CASHBACK_E_CLICK_NONE);
  ck_assert_int_eq(cashback_click_read(c, pair, strlen(pair) - 1, &click),
                   CASHBACK_E_CLICK_TAMPERED);
  cashback_client_free(c);
}
END_TEST

START_TEST(click_too_big) {
  test_clock clk = {T0};
  cashback_client *c = make_default(&clk);
  char sc[CASHBACK_SET_COOKIE_MAX + 1];
  ck_assert_int_eq(capture(c, "cb_click=B1", sc), CASHBACK_OK);
  size_t need = strlen(sc) + 1;
  char small[CASHBACK_SET_COOKIE_MAX + 1];
  memset(small, 'x', sizeof(small));
  ck_assert_int_eq(cashback_capture(c, "cb_click=B1", 11, small, need - 1),
                   CASHBACK_E_TOO_BIG);
  ck_assert_str_eq(small, "");
  expect_last_error(c, CASHBACK_E_TOO_BIG, "set_cookie_size");
  ck_assert_int_eq(cashback_capture(c, "cb_click=B1", 11, small, 1),
                   CASHBACK_E_TOO_BIG);
  ck_assert_str_eq(small, "");
  ck_assert_int_eq(cashback_capture(c, "cb_click=B1", 11, small, 0),
                   CASHBACK_E_TOO_BIG);
  ck_assert_int_eq(cashback_capture(c, "cb_click=B1", 11, small, need),
                   CASHBACK_OK);
  ck_assert_str_eq(small, sc);
  cashback_client_free(c);
}
END_TEST

START_TEST(click_long_fits) {
  /* A long cookie name, a long domain, the longest parameter and token fit
   * CASHBACK_SET_COOKIE_MAX + 1 bytes. */
  test_clock clk = {T0};
  char name[65], domain[128], param[33], target[256];
  memset(name, 'n', 64);
  name[64] = '\0';
  snprintf(domain, sizeof(domain), "%s.%s.example",
           "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
           "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb");
  memset(param, 'p', 32);
  param[32] = '\0';
  client_spec s = {.cookie_name = name,
                   .domain = domain,
                   .landing = param,
                   .window = 400 * 86400};
  cashback_client *c = make(&clk, &s);
  int w = snprintf(target, sizeof(target), "%s=", param);
  memset(target + w, 't', CASHBACK_TOKEN_MAX);
  target[w + CASHBACK_TOKEN_MAX] = '\0';
  char sc[CASHBACK_SET_COOKIE_MAX + 1];
  ck_assert_int_eq(capture(c, target, sc), CASHBACK_OK);
  ck_assert_ptr_nonnull(strstr(sc, "; Max-Age=34560000; Path=/; Domain="));
  char pair[CASHBACK_SET_COOKIE_MAX + 1];
  pair_of(sc, pair, sizeof(pair));
  cashback_click click = {.size = sizeof(cashback_click)};
  ck_assert_int_eq(read_back(c, pair, &click), CASHBACK_OK);
  ck_assert_str_eq(click.source, param);
  ck_assert_uint_eq(strlen(click.token), CASHBACK_TOKEN_MAX);
  cashback_client_free(c);
}
END_TEST

START_TEST(click_null_args) {
  test_clock clk = {T0};
  cashback_client *c = make_default(&clk);
  char sc[CASHBACK_SET_COOKIE_MAX + 1];
  cashback_click click = {.size = sizeof(cashback_click)};
  ck_assert_int_eq(cashback_capture(NULL, "cb_click=1", 10, sc, sizeof(sc)),
                   CASHBACK_E_INVALID_ARGUMENT);
  ck_assert_int_eq(cashback_capture(c, "cb_click=1", 10, NULL, 100),
                   CASHBACK_E_INVALID_ARGUMENT);
  expect_last_error(c, CASHBACK_E_INVALID_ARGUMENT, "set_cookie");
  ck_assert_int_eq(cashback_capture(c, NULL, 10, sc, sizeof(sc)),
                   CASHBACK_E_INVALID_ARGUMENT);
  expect_last_error(c, CASHBACK_E_INVALID_ARGUMENT, "target");
  ck_assert_int_eq(cashback_click_read(NULL, "a=1", 3, &click),
                   CASHBACK_E_INVALID_ARGUMENT);
  ck_assert_int_eq(cashback_click_read(c, "a=1", 3, NULL),
                   CASHBACK_E_INVALID_ARGUMENT);
  expect_last_error(c, CASHBACK_E_INVALID_ARGUMENT, "out");
  ck_assert_int_eq(cashback_click_read(c, NULL, 3, &click),
                   CASHBACK_E_INVALID_ARGUMENT);
  expect_last_error(c, CASHBACK_E_INVALID_ARGUMENT, "cookie_header");
  cashback_client_free(c);
}
END_TEST

START_TEST(click_negative_clock) {
  test_clock clk = {-5};
  cashback_client *c = make_default(&clk);
  char sc[CASHBACK_SET_COOKIE_MAX + 1] = "junk";
  ck_assert_int_eq(capture(c, "cb_click=N1", sc), CASHBACK_E_CONFIG);
  ck_assert_str_eq(sc, "");
  expect_last_error(c, CASHBACK_E_CONFIG, "clock");
  cashback_client_free(c);
}
END_TEST

/* A client of MERCHANT with the given keys (NULL: none). */
static cashback_client *keyed_client(const char *secret, const char *next,
                                     const char *cookie_secret) {
  cashback_options *o = cashback_options_new();
  ck_assert_int_eq(cashback_options_set_merchant_id(o, MERCHANT), CASHBACK_OK);
  ck_assert_int_eq(cashback_options_set_key(o, "k1", secret), CASHBACK_OK);
  if (next)
    ck_assert_int_eq(cashback_options_set_next_key(o, "k2", next), CASHBACK_OK);
  if (cookie_secret)
    ck_assert_int_eq(cashback_options_set_cookie_secret(o, cookie_secret),
                     CASHBACK_OK);
  ck_assert_int_eq(
      cashback_options_set_endpoint(o, "https://api.network.example/v1/e"),
      CASHBACK_OK);
  cashback_client *c = NULL;
  ck_assert_int_eq(cashback_client_new(o, &c, NULL, 0), CASHBACK_OK);
  return c;
}

/* The Cookie header pair of a capture by `c`. */
static void captured_pair(cashback_client *c, char *pair, size_t size) {
  char sc[CASHBACK_SET_COOKIE_MAX + 1];
  ck_assert_int_eq(cashback_capture(c, "cb_click=T-1", 12, sc, sizeof(sc)),
                   CASHBACK_OK);
  size_t n = strcspn(sc, ";");
  ck_assert_uint_lt(n, size);
  memcpy(pair, sc, n);
  pair[n] = '\0';
}

static cashback_status read_pair(cashback_client *c, const char *pair) {
  cashback_click click = {.size = sizeof(cashback_click)};
  return cashback_click_read(c, pair, strlen(pair), &click);
}

#define OLD "old-secret-0123456789abcdef"
#define NEW "new-secret-0123456789abcdef"

START_TEST(cookies_outlive_a_key_rotation) {
  char before[CASHBACK_SET_COOKIE_MAX + 1], during[CASHBACK_SET_COOKIE_MAX + 1];
  cashback_client *old_only = keyed_client(OLD, NULL, NULL);
  cashback_client *both = keyed_client(OLD, NEW, NULL);
  cashback_client *new_only = keyed_client(NEW, NULL, NULL);
  captured_pair(old_only, before, sizeof(before));
  captured_pair(both, during, sizeof(during));
  /* During the rotation, cookies from before it still read. */
  ck_assert_int_eq(read_pair(both, before), CASHBACK_OK);
  ck_assert_int_eq(read_pair(both, during), CASHBACK_OK);
  /* Cookies set during the rotation are signed with the incoming key, so
   * they outlive the switch; older ones do not (hence cookie_secret). */
  ck_assert_int_eq(read_pair(new_only, during), CASHBACK_OK);
  ck_assert_int_eq(read_pair(new_only, before), CASHBACK_E_CLICK_TAMPERED);
  ck_assert_int_eq(read_pair(old_only, during), CASHBACK_E_CLICK_TAMPERED);
  cashback_client_free(old_only);
  cashback_client_free(both);
  cashback_client_free(new_only);
}
END_TEST

START_TEST(cookie_secret_is_independent_of_the_key) {
  char legacy[CASHBACK_SET_COOKIE_MAX + 1], own[CASHBACK_SET_COOKIE_MAX + 1];
  cashback_client *plain = keyed_client(OLD, NULL, NULL);
  cashback_client *with = keyed_client(OLD, NULL, "cookie-secret-0123456789");
  cashback_client *rotated =
      keyed_client(NEW, NULL, "cookie-secret-0123456789");
  captured_pair(plain, legacy, sizeof(legacy));
  captured_pair(with, own, sizeof(own));
  /* Cookies under the cookie secret survive any change of the key. */
  ck_assert_int_eq(read_pair(with, own), CASHBACK_OK);
  ck_assert_int_eq(read_pair(rotated, own), CASHBACK_OK);
  /* Adding a cookie secret keeps the cookies already out there. */
  ck_assert_int_eq(read_pair(with, legacy), CASHBACK_OK);
  ck_assert_int_eq(read_pair(plain, own), CASHBACK_E_CLICK_TAMPERED);
  cashback_options *o = cashback_options_new();
  ck_assert_int_eq(cashback_options_set_cookie_secret(o, "short"),
                   CASHBACK_E_CONFIG);
  ck_assert_ptr_nonnull(
      strstr(cashback_options_last_error(o), "cookie_secret"));
  ck_assert_ptr_null(strstr(cashback_options_last_error(o), "short"));
  ck_assert_int_eq(
      cashback_options_set(o, "cookie_secret", "cookie-secret-0123456789"),
      CASHBACK_OK);
  ck_assert_int_eq(cashback_options_set_cookie_secret(o, NULL), CASHBACK_OK);
  cashback_options_free(o);
  cashback_client_free(plain);
  cashback_client_free(with);
  cashback_client_free(rotated);
}
END_TEST

/* ------------------------------------------------------------------------
 * Handles (cashback_click_verify) and capture as parts */

/* Captures "cb_click=<token>" at `at` and returns its handle, as read back
 * from the cookie at the same time. */
static void handle_of(cashback_client *c, test_clock *clk, int64_t at,
                      const char *token, char handle[CASHBACK_HANDLE_MAX + 1]) {
  char target[256], pair[CASHBACK_SET_COOKIE_MAX + 1];
  snprintf(target, sizeof(target), "cb_click=%s", token);
  capture_pair(c, clk, at, target, pair, sizeof(pair));
  int64_t saved = clk->now;
  clk->now = at;
  cashback_click click = {.size = sizeof(cashback_click)};
  ck_assert_int_eq(read_back(c, pair, &click), CASHBACK_OK);
  clk->now = saved;
  /* The handle is the cookie's value. */
  ck_assert_str_eq(click.handle, strchr(pair, '=') + 1);
  memcpy(handle, click.handle, CASHBACK_HANDLE_MAX + 1);
}

static cashback_status verify(cashback_client *c, const char *handle,
                              cashback_click *out) {
  return cashback_click_verify(c, handle, strlen(handle), out);
}

/* A failed call leaves the click zeroed, its size kept. */
static void assert_cleared(const cashback_click *k) {
  ck_assert_uint_eq(k->size, sizeof(cashback_click));
  ck_assert_str_eq(k->token, "");
  ck_assert_str_eq(k->source, "");
  ck_assert_str_eq(k->handle, "");
  ck_assert_int_eq(k->captured_at, 0);
}

START_TEST(handle_round_trip) {
  test_clock clk = {T0 + 3600};
  client_spec s = {.landing = "cb.src"};
  cashback_client *c = make(&clk, &s);
  char pair[CASHBACK_SET_COOKIE_MAX + 1];
  capture_pair(c, &clk, T0, "cb.src=tok.1~x", pair, sizeof(pair));
  cashback_click read = {.size = sizeof(cashback_click)};
  ck_assert_int_eq(read_back(c, pair, &read), CASHBACK_OK);
  ck_assert_str_eq(read.handle, strchr(pair, '=') + 1);
  ck_assert_uint_le(strlen(read.handle), CASHBACK_HANDLE_MAX);

  /* Later, without any cookie (a payment webhook): the whole click. */
  clk.now = T0 + 86400;
  cashback_click k = {.size = sizeof(cashback_click)};
  ck_assert_int_eq(verify(c, read.handle, &k), CASHBACK_OK);
  ck_assert_uint_eq(k.size, sizeof(cashback_click));
  ck_assert_str_eq(k.token, "tok.1~x");
  ck_assert_str_eq(k.source, "cb.src");
  ck_assert_int_eq(k.captured_at, T0);
  ck_assert_str_eq(k.handle, read.handle);
  /* Counted: bytes after the handle are not read. */
  char longer[CASHBACK_HANDLE_MAX + 8];
  snprintf(longer, sizeof(longer), "%sZZZ", read.handle);
  ck_assert_int_eq(cashback_click_verify(c, longer, strlen(read.handle), &k),
                   CASHBACK_OK);
  ck_assert_str_eq(k.token, "tok.1~x");
  cashback_client_free(c);
}
END_TEST

START_TEST(handle_sale_keeps_source_and_time) {
  test_clock clk = {T0};
  cashback_client *c = make_default(&clk);
  char h[CASHBACK_HANDLE_MAX + 1];
  handle_of(c, &clk, T0 - 7200, "sale-tok", h);
  cashback_click k = {.size = sizeof(cashback_click)};
  ck_assert_int_eq(verify(c, h, &k), CASHBACK_OK);
  cashback_event *ev = cashback_event_new(CASHBACK_EVENT_SALE, "h-1001");
  ck_assert_ptr_nonnull(ev);
  ck_assert_int_eq(cashback_event_set_click_full(ev, &k), CASHBACK_OK);
  ck_assert_int_eq(cashback_event_set_amount(ev, 4990, "EUR"), CASHBACK_OK);
  char *json = NULL;
  ck_assert_int_eq(cashback_event_to_json(c, ev, &json, NULL), CASHBACK_OK);
  char want[64];
  time_t landed = (time_t)(T0 - 7200);
  struct tm tm;
  ck_assert_ptr_nonnull(gmtime_r(&landed, &tm));
  ck_assert_uint_gt(strftime(want, sizeof(want), "\"%Y-%m-%dT%H:%M:%SZ\"", &tm),
                    0);
  ck_assert_msg(strstr(json, "\"click\":{\"token\":\"sale-tok\",\"source\":"
                             "\"cb_click\",\"captured_at\":\"") != NULL,
                "%s", json);
  ck_assert_msg(strstr(json, want) != NULL, "%s not in %s", want, json);
  cashback_free(json);
  cashback_event_free(ev);
  cashback_client_free(c);
}
END_TEST

START_TEST(handle_verify_failures) {
  test_clock clk = {T0};
  client_spec s = {.window = 3600};
  cashback_client *c = make(&clk, &s);
  char h[CASHBACK_HANDLE_MAX + 1], bad[2 * CASHBACK_HANDLE_MAX];
  handle_of(c, &clk, T0, "fail-tok", h);
  cashback_click k = {.size = sizeof(cashback_click)};

  /* Tampered: one byte of the token, of the time, of the MAC. */
  snprintf(bad, sizeof(bad), "%s", h);
  bad[strlen(bad) - 1] = 'X';
  ck_assert_int_eq(verify(c, bad, &k), CASHBACK_E_CLICK_TAMPERED);
  assert_cleared(&k);
  expect_last_error(c, CASHBACK_E_CLICK_TAMPERED,
                    "click handle: signature does not match");
  snprintf(bad, sizeof(bad), "%s", h);
  bad[2] = bad[2] == '1' ? '2' : '1';
  ck_assert_int_eq(verify(c, bad, &k), CASHBACK_E_CLICK_TAMPERED);
  char *mac = strchr(strchr(bad, '.') + 1, '.') + 1;
  snprintf(bad, sizeof(bad), "%s", h);
  mac = strchr(strchr(bad, '.') + 1, '.') + 1;
  mac[0] = mac[0] == 'a' ? 'b' : 'a';
  ck_assert_int_eq(verify(c, bad, &k), CASHBACK_E_CLICK_TAMPERED);

  /* Expired: exactly at the window still valid, one second later not. */
  clk.now = T0 + 3600;
  ck_assert_int_eq(verify(c, h, &k), CASHBACK_OK);
  clk.now = T0 + 3601;
  ck_assert_int_eq(verify(c, h, &k), CASHBACK_E_CLICK_EXPIRED);
  assert_cleared(&k);
  expect_last_error(c, CASHBACK_E_CLICK_EXPIRED, "attribution window");

  /* In the future: more than 300 s ahead of the clock. */
  char ahead[CASHBACK_HANDLE_MAX + 1];
  handle_of(c, &clk, T0 + 1000, "future-tok", ahead);
  clk.now = T0 + 1000 - 300;
  ck_assert_int_eq(verify(c, ahead, &k), CASHBACK_OK);
  clk.now = T0 + 1000 - 301;
  ck_assert_int_eq(verify(c, ahead, &k), CASHBACK_E_CLICK_MALFORMED);
  assert_cleared(&k);
  expect_last_error(c, CASHBACK_E_CLICK_MALFORMED, "in the future");
  clk.now = T0;

  /* Malformed: shape, version, characters, a NUL, too long; empty is none. */
  static const char *const malformed[] = {
      "garbage",
      "1.",
      "2.1790000000.00000000000000000000000000000000.cb_click.t",
      "1.01790000000.00000000000000000000000000000000.cb_click.t",
      "1.1790000000.0000000000000000000000000000000.cb_click.t",
      "1.1790000000.0000000000000000000000000000000A.cb_click.t",
      "1.1790000000.00000000000000000000000000000000.cb click.t",
      "1.1790000000.00000000000000000000000000000000.cb_click.",
      "1.1790000000.00000000000000000000000000000000.cb_click.t;x",
      "cashback_click=1.1790000000.00000000000000000000000000000000.a.t",
  };
  for (size_t i = 0; i < sizeof(malformed) / sizeof(malformed[0]); i++) {
    ck_assert_msg(verify(c, malformed[i], &k) == CASHBACK_E_CLICK_MALFORMED,
                  "%s", malformed[i]);
    assert_cleared(&k);
  }
  snprintf(bad, sizeof(bad), "%s", h);
  bad[strlen(bad) - 2] = '\0'; /* a NUL inside the counted handle */
  ck_assert_int_eq(cashback_click_verify(c, bad, strlen(h), &k),
                   CASHBACK_E_CLICK_MALFORMED);
  expect_last_error(c, CASHBACK_E_CLICK_MALFORMED, "0x00");
  memset(bad, 'a', CASHBACK_HANDLE_MAX + 1);
  memcpy(bad, h, strlen(h)); /* a valid prefix, too long in all */
  ck_assert_int_eq(cashback_click_verify(c, bad, CASHBACK_HANDLE_MAX + 1, &k),
                   CASHBACK_E_CLICK_MALFORMED);
  expect_last_error(c, CASHBACK_E_CLICK_MALFORMED, "at most 256");
  ck_assert_int_eq(cashback_click_verify(c, "", 0, &k), CASHBACK_E_CLICK_NONE);
  ck_assert_int_eq(cashback_click_verify(c, NULL, 0, &k),
                   CASHBACK_E_CLICK_NONE);
  assert_cleared(&k);
  cashback_client_free(c);
}
END_TEST

START_TEST(handle_other_merchant_and_secret) {
  test_clock clk = {T0};
  cashback_client *c = make_default(&clk);
  client_spec other_m = {.merchant = "shop-43"};
  client_spec other_s = {.secret = "another-secret-0123456789"};
  cashback_client *m = make(&clk, &other_m);
  cashback_client *o = make(&clk, &other_s);
  char h[CASHBACK_HANDLE_MAX + 1];
  handle_of(c, &clk, T0, "mine", h);
  cashback_click k = {.size = sizeof(cashback_click)};
  ck_assert_int_eq(verify(c, h, &k), CASHBACK_OK);
  ck_assert_int_eq(verify(m, h, &k), CASHBACK_E_CLICK_TAMPERED);
  assert_cleared(&k);
  ck_assert_int_eq(verify(o, h, &k), CASHBACK_E_CLICK_TAMPERED);
  cashback_client_free(c);
  cashback_client_free(m);
  cashback_client_free(o);
}
END_TEST

START_TEST(handle_next_secret_accepted) {
  /* A handle stored before a key rotation still verifies during it, and
   * one made during it verifies after it (signed with the incoming key). */
  cashback_client *old_only = keyed_client(OLD, NULL, NULL);
  cashback_client *both = keyed_client(OLD, NEW, NULL);
  cashback_client *new_only = keyed_client(NEW, NULL, NULL);
  char before[CASHBACK_SET_COOKIE_MAX + 1], during[CASHBACK_SET_COOKIE_MAX + 1];
  captured_pair(old_only, before, sizeof(before));
  captured_pair(both, during, sizeof(during));
  const char *hb = strchr(before, '=') + 1, *hd = strchr(during, '=') + 1;
  cashback_click k = {.size = sizeof(cashback_click)};
  ck_assert_int_eq(verify(both, hb, &k), CASHBACK_OK);
  ck_assert_str_eq(k.token, "T-1");
  ck_assert_int_eq(verify(new_only, hd, &k), CASHBACK_OK);
  ck_assert_int_eq(verify(new_only, hb, &k), CASHBACK_E_CLICK_TAMPERED);
  ck_assert_int_eq(verify(old_only, hd, &k), CASHBACK_E_CLICK_TAMPERED);
  cashback_client_free(old_only);
  cashback_client_free(both);
  cashback_client_free(new_only);
}
END_TEST

START_TEST(handle_bad_arguments_and_size) {
  test_clock clk = {T0};
  cashback_client *c = make_default(&clk);
  char h[CASHBACK_HANDLE_MAX + 1];
  handle_of(c, &clk, T0, "size-tok", h);
  cashback_click k = {.size = sizeof(cashback_click)};
  ck_assert_int_eq(cashback_click_verify(NULL, h, strlen(h), &k),
                   CASHBACK_E_INVALID_ARGUMENT);
  ck_assert_int_eq(cashback_click_verify(c, h, strlen(h), NULL),
                   CASHBACK_E_INVALID_ARGUMENT);
  expect_last_error(c, CASHBACK_E_INVALID_ARGUMENT, "out must not be NULL");
  ck_assert_int_eq(cashback_click_verify(c, NULL, 3, &k),
                   CASHBACK_E_INVALID_ARGUMENT);
  expect_last_error(c, CASHBACK_E_INVALID_ARGUMENT, "handle is NULL");
  /* size 0 or short: refused, nothing written. */
  cashback_click z;
  memset(&z, 0x5a, sizeof(z));
  z.size = 0;
  ck_assert_int_eq(cashback_click_verify(c, h, strlen(h), &z),
                   CASHBACK_E_INVALID_ARGUMENT);
  expect_last_error(c, CASHBACK_E_INVALID_ARGUMENT, "size is 0");
  ck_assert_int_eq((unsigned char)z.token[0], 0x5a);
  z.size = offsetof(cashback_click, handle) + sizeof(z.handle) - 1;
  ck_assert_int_eq(cashback_click_verify(c, h, strlen(h), &z),
                   CASHBACK_E_INVALID_ARGUMENT);
  ck_assert_int_eq(cashback_click_read(c, "a=1", 3, &z),
                   CASHBACK_E_INVALID_ARGUMENT);
  expect_last_error(c, CASHBACK_E_INVALID_ARGUMENT, "click_read: out->size");
  ck_assert_int_eq((unsigned char)z.token[0], 0x5a);
  /* A larger size (a caller built against a later, longer struct) is fine;
   * the bytes past this layout are left alone. */
  struct {
    cashback_click k;
    char tail[8];
  } big;
  memset(&big, 0x5a, sizeof(big));
  big.k.size = sizeof(big);
  ck_assert_int_eq(cashback_click_verify(c, h, strlen(h), &big.k), CASHBACK_OK);
  ck_assert_uint_eq(big.k.size, sizeof(big));
  ck_assert_str_eq(big.k.token, "size-tok");
  ck_assert_int_eq((unsigned char)big.tail[7], 0x5a);
  cashback_client_free(c);
}
END_TEST

START_TEST(capture_parts_match_the_string) {
  test_clock clk = {T0};
  client_spec specs[] = {
      {0},
      {.cookie_name = "cbk", .domain = "shop.example", .window = 604800},
  };
  for (size_t i = 0; i < 2; i++) {
    cashback_client *c = make(&clk, &specs[i]);
    cashback_cookie ck = {.size = sizeof(cashback_cookie)};
    char sc[CASHBACK_SET_COOKIE_MAX + 1];
    ck_assert_int_eq(cashback_capture_parts(c, "x=1&cb_click=P-1", 16, &ck),
                     CASHBACK_OK);
    ck_assert_int_eq(capture(c, "x=1&cb_click=P-1", sc), CASHBACK_OK);
    ck_assert_uint_eq(ck.size, sizeof(cashback_cookie));
    ck_assert_str_eq(ck.name, i ? "cbk" : CK);
    ck_assert_int_eq(ck.max_age, i ? 604800 : WINDOW_DEFAULT);
    ck_assert_str_eq(ck.path, "/");
    ck_assert_str_eq(ck.domain, i ? "shop.example" : "");
    ck_assert_int_eq(ck.secure, 1);
    ck_assert_int_eq(ck.http_only, 1);
    ck_assert_str_eq(ck.same_site, "Lax");
    /* The string is the parts, formatted. */
    char want[CASHBACK_SET_COOKIE_MAX + 1];
    snprintf(want, sizeof(want),
             "%s=%s; Max-Age=%" PRId64 "; Path=/%s%s; Secure; HttpOnly; "
             "SameSite=Lax",
             ck.name, ck.value, ck.max_age, ck.domain[0] ? "; Domain=" : "",
             ck.domain);
    ck_assert_str_eq(sc, want);
    /* The value is a handle. */
    cashback_click k = {.size = sizeof(cashback_click)};
    ck_assert_int_eq(verify(c, ck.value, &k), CASHBACK_OK);
    ck_assert_str_eq(k.token, "P-1");
    ck_assert_str_eq(k.handle, ck.value);
    cashback_client_free(c);
  }
}
END_TEST

START_TEST(capture_parts_failures) {
  test_clock clk = {T0};
  cashback_client *c = make_default(&clk);
  cashback_cookie ck;
  memset(&ck, 0x5a, sizeof(ck));
  ck.size = sizeof(ck);
  ck_assert_int_eq(cashback_capture_parts(c, "utm=1", 5, &ck),
                   CASHBACK_E_CLICK_NONE);
  ck_assert_uint_eq(ck.size, sizeof(ck));
  ck_assert_str_eq(ck.name, "");
  ck_assert_str_eq(ck.value, "");
  ck_assert_int_eq(ck.max_age, 0);
  memset(&ck, 0x5a, sizeof(ck));
  ck.size = sizeof(ck);
  ck_assert_int_eq(cashback_capture_parts(c, "cb_click=a%20b", 14, &ck),
                   CASHBACK_E_CLICK_MALFORMED);
  expect_last_error(c, CASHBACK_E_CLICK_MALFORMED, "cb_click");
  ck_assert_str_eq(ck.value, "");
  ck_assert_int_eq(cashback_capture_parts(NULL, "cb_click=a", 10, &ck),
                   CASHBACK_E_INVALID_ARGUMENT);
  ck_assert_int_eq(cashback_capture_parts(c, "cb_click=a", 10, NULL),
                   CASHBACK_E_INVALID_ARGUMENT);
  ck_assert_int_eq(cashback_capture_parts(c, NULL, 10, &ck),
                   CASHBACK_E_INVALID_ARGUMENT);
  expect_last_error(c, CASHBACK_E_INVALID_ARGUMENT, "target is NULL");
  memset(&ck, 0x5a, sizeof(ck));
  ck.size = 0;
  ck_assert_int_eq(cashback_capture_parts(c, "cb_click=a", 10, &ck),
                   CASHBACK_E_INVALID_ARGUMENT);
  expect_last_error(c, CASHBACK_E_INVALID_ARGUMENT, "out->size");
  ck_assert_int_eq((unsigned char)ck.name[0], 0x5a);
  ck.size = offsetof(cashback_cookie, same_site) + sizeof(ck.same_site) - 1;
  ck_assert_int_eq(cashback_capture_parts(c, "cb_click=a", 10, &ck),
                   CASHBACK_E_INVALID_ARGUMENT);
  cashback_client_free(c);
}
END_TEST

/* cashback_client_cookie_name(): the name the cookie is set under, so a
 * shim handed cookies by name (PHP's $_COOKIE) finds it and verifies its
 * value. */
START_TEST(client_cookie_name_is_the_cookies) {
  test_clock clk = {T0};
  cashback_client *dflt = make_default(&clk);
  ck_assert_str_eq(cashback_client_cookie_name(dflt), "cashback_click");
  client_spec s = {.cookie_name = "shop.cb"};
  cashback_client *c = make(&clk, &s);
  ck_assert_str_eq(cashback_client_cookie_name(c), "shop.cb");
  cashback_cookie ck = {.size = sizeof(ck)};
  ck_assert_int_eq(cashback_capture_parts(c, "cb_click=T9", 11, &ck),
                   CASHBACK_OK);
  ck_assert_str_eq(ck.name, cashback_client_cookie_name(c));
  cashback_click click = {.size = sizeof(click)};
  ck_assert_int_eq(cashback_click_verify(c, ck.value, strlen(ck.value), &click),
                   CASHBACK_OK);
  ck_assert_str_eq(click.token, "T9");
  ck_assert_str_eq(cashback_client_cookie_name(NULL), "");
  cashback_client_free(c);
  cashback_client_free(dflt);
}
END_TEST

TCase *cashback_test_click(void) {
  TCase *tc = tcase_create("click");
  tcase_add_test(tc, cookies_outlive_a_key_rotation);
  tcase_add_test(tc, click_bad_cookies_one_log_line);
  tcase_add_test(tc, cookie_secret_is_independent_of_the_key);
  tcase_add_test(tc, click_round_trip);
  tcase_add_test(tc, click_set_cookie_attributes);
  tcase_add_test(tc, click_capture_none);
  tcase_add_test(tc, click_capture_malformed);
  tcase_add_test(tc, click_token_length);
  tcase_add_test(tc, click_capture_decoding);
  tcase_add_test(tc, click_priority);
  tcase_add_test(tc, click_presets);
  tcase_add_test(tc, click_param_with_dot);
  tcase_add_test(tc, click_tampered);
  tcase_add_test(tc, click_expiry_boundary);
  tcase_add_test(tc, click_future);
  tcase_add_test(tc, click_several_cookies);
  tcase_add_test(tc, click_read_malformed);
  tcase_add_test(tc, click_read_none);
  tcase_add_test(tc, click_too_big);
  tcase_add_test(tc, click_long_fits);
  tcase_add_test(tc, click_null_args);
  tcase_add_test(tc, click_negative_clock);
  tcase_add_test(tc, handle_round_trip);
  tcase_add_test(tc, handle_sale_keeps_source_and_time);
  tcase_add_test(tc, handle_verify_failures);
  tcase_add_test(tc, handle_other_merchant_and_secret);
  tcase_add_test(tc, handle_next_secret_accepted);
  tcase_add_test(tc, handle_bad_arguments_and_size);
  tcase_add_test(tc, capture_parts_match_the_string);
  tcase_add_test(tc, capture_parts_failures);
  tcase_add_test(tc, client_cookie_name_is_the_cookies);
  return tc;
}
