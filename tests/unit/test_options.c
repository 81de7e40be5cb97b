/* Unit tests of sdk/cashback_options.c: defaults, typed setters, the text
 * key table, required keys, and that a failure changes nothing. */
#include "tests.h"

#include "cashback_options.h"
#include "cashback_url.h"

#include <check.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SECRET "s3cr3t-value-0123456789"
#define SECRET2 "another-s3cr3t-abcdefgh"

/* Memory of `o` outside its error field, to compare before/after. */
typedef struct snapshot {
  unsigned char bytes[sizeof(cashback_options)];
} snapshot;

static void snap(const cashback_options *o, snapshot *s) {
  memcpy(s->bytes, o, sizeof(*o));
}

static int same_except_error(const cashback_options *o, const snapshot *s) {
  size_t at = offsetof(cashback_options, error);
  size_t after = at + sizeof(o->error);
  const unsigned char *p = (const unsigned char *)o;
  return memcmp(p, s->bytes, at) == 0 &&
         memcmp(p + after, s->bytes + after, sizeof(*o) - after) == 0;
}

/* Applies `fn`-style failure: expects `st`, options unchanged, and the
 * error containing `needle`. */
#define EXPECT_FAIL(o, call, want_st, needle)                                  \
  do {                                                                         \
    snapshot s_;                                                               \
    snap((o), &s_);                                                            \
    cashback_status st_ = (call);                                              \
    ck_assert_int_eq(st_, (want_st));                                          \
    ck_assert_msg(same_except_error((o), &s_), "options changed by %s",        \
                  #call);                                                      \
    ck_assert_msg(strstr(cashback_options_last_error(o), (needle)) != NULL,    \
                  "error '%s' lacks '%s'", cashback_options_last_error(o),     \
                  (needle));                                                   \
  } while (0)

static cashback_options *complete(void) {
  cashback_options *o = cashback_options_new();
  ck_assert_ptr_nonnull(o);
  ck_assert_int_eq(cashback_options_set_merchant_id(o, "shop-42"), CASHBACK_OK);
  ck_assert_int_eq(cashback_options_set_key(o, "k2026", SECRET), CASHBACK_OK);
  ck_assert_int_eq(cashback_options_set_endpoint(
                       o, "https://api.network.example/cashback/v1/events"),
                   CASHBACK_OK);
  return o;
}

static void fill(char *buf, char c, size_t n) {
  memset(buf, c, n);
  buf[n] = '\0';
}

START_TEST(test_defaults) {
  cashback_options *o = cashback_options_new();
  ck_assert_ptr_nonnull(o);
  ck_assert_uint_eq(o->n_landing, 1);
  ck_assert_str_eq(o->landing[0], "cb_click");
  ck_assert_str_eq(o->cookie_name, "cashback_click");
  ck_assert_str_eq(o->cookie_domain, "");
  ck_assert_int_eq(o->window, 30 * 86400);
  ck_assert_ptr_null(o->log_fn);
  ck_assert_int_eq(o->log_min, CASHBACK_LOG_WARN);
  ck_assert_ptr_null(o->clock_fn);
  ck_assert_str_eq(o->merchant_id, "");
  ck_assert_str_eq(o->key.id, "");
  ck_assert_str_eq(o->endpoint, "");
  ck_assert_str_eq(cashback_options_last_error(o), "");
  cashback_options_free(o);
  cashback_options_free(NULL);
  ck_assert_str_eq(cashback_options_last_error(NULL), "");

  cashback_options stack;
  memset(&stack, 0x5a, sizeof(stack));
  cashback__options_defaults(&stack);
  ck_assert_str_eq(stack.landing[0], "cb_click");
  ck_assert_str_eq(stack.error, "");
}
END_TEST

START_TEST(test_fail_formats) {
  cashback_options *o = cashback_options_new();
  ck_assert_int_eq(cashback__options_fail(o, CASHBACK_E_IO, "x %d %s", 7, "y"),
                   CASHBACK_E_IO);
  ck_assert_str_eq(cashback_options_last_error(o), "x 7 y");
  /* Its own error as an argument (a prefix added by a caller). */
  cashback__options_fail(o, CASHBACK_E_CONFIG, "pre: %s", o->error);
  ck_assert_str_eq(o->error, "pre: x 7 y");
  /* Truncated, NUL-terminated. */
  char big[600];
  fill(big, 'z', 599);
  cashback__options_fail(o, CASHBACK_E_CONFIG, "%s", big);
  ck_assert_uint_eq(strlen(o->error), CASHBACK_ERROR_MAX);
  cashback_options_free(o);
}
END_TEST

START_TEST(test_null_options) {
  ck_assert_int_eq(cashback_options_set(NULL, "merchant_id", "x"),
                   CASHBACK_E_INVALID_ARGUMENT);
  ck_assert_int_eq(cashback_options_set_merchant_id(NULL, "x"),
                   CASHBACK_E_INVALID_ARGUMENT);
  ck_assert_int_eq(cashback_options_set_key(NULL, "k", SECRET),
                   CASHBACK_E_INVALID_ARGUMENT);
  ck_assert_int_eq(cashback_options_set_next_key(NULL, NULL, NULL),
                   CASHBACK_E_INVALID_ARGUMENT);
  ck_assert_int_eq(cashback_options_set_endpoint(NULL, "https://h/"),
                   CASHBACK_E_INVALID_ARGUMENT);
  ck_assert_int_eq(cashback_options_set_landing_params(NULL, "a"),
                   CASHBACK_E_INVALID_ARGUMENT);
  ck_assert_int_eq(cashback_options_set_cookie_name(NULL, "a"),
                   CASHBACK_E_INVALID_ARGUMENT);
  ck_assert_int_eq(cashback_options_set_cookie_domain(NULL, "a"),
                   CASHBACK_E_INVALID_ARGUMENT);
  ck_assert_int_eq(cashback_options_set_attribution_window(NULL, 1),
                   CASHBACK_E_INVALID_ARGUMENT);
  ck_assert_int_eq(
      cashback_options_set_logger(NULL, NULL, NULL, CASHBACK_LOG_WARN),
      CASHBACK_E_INVALID_ARGUMENT);
  ck_assert_int_eq(cashback_options_set_clock(NULL, NULL, NULL),
                   CASHBACK_E_INVALID_ARGUMENT);

  cashback_options *o = cashback_options_new();
  EXPECT_FAIL(o, cashback_options_set_merchant_id(o, NULL),
              CASHBACK_E_INVALID_ARGUMENT, "merchant_id: must not be NULL");
  EXPECT_FAIL(o, cashback_options_set_key(o, NULL, SECRET),
              CASHBACK_E_INVALID_ARGUMENT, "key_id: must not be NULL");
  EXPECT_FAIL(o, cashback_options_set_key(o, "k", NULL),
              CASHBACK_E_INVALID_ARGUMENT, "secret: must not be NULL");
  EXPECT_FAIL(o, cashback_options_set_next_key(o, "k", NULL),
              CASHBACK_E_INVALID_ARGUMENT, "next_secret: must not be NULL");
  EXPECT_FAIL(o, cashback_options_set_endpoint(o, NULL),
              CASHBACK_E_INVALID_ARGUMENT, "endpoint: must not be NULL");
  EXPECT_FAIL(o, cashback_options_set_landing_params(o, NULL),
              CASHBACK_E_INVALID_ARGUMENT, "landing_params: must not be NULL");
  EXPECT_FAIL(o, cashback_options_set_cookie_name(o, NULL),
              CASHBACK_E_INVALID_ARGUMENT, "cookie_name: must not be NULL");
  EXPECT_FAIL(o, cashback_options_set(o, NULL, "x"),
              CASHBACK_E_INVALID_ARGUMENT, "key: must not be NULL");
  EXPECT_FAIL(o, cashback_options_set(o, "endpoint", NULL),
              CASHBACK_E_INVALID_ARGUMENT, "endpoint: must not be NULL");
  cashback_options_free(o);
}
END_TEST

START_TEST(test_merchant_id) {
  cashback_options *o = cashback_options_new();
  char id[80];
  const char *good[] = {"shop-42", "a", "A.b_c-9"};
  for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
    ck_assert_int_eq(cashback_options_set_merchant_id(o, good[i]), CASHBACK_OK);
    ck_assert_str_eq(o->merchant_id, good[i]);
  }
  fill(id, 'm', 64);
  ck_assert_int_eq(cashback_options_set_merchant_id(o, id), CASHBACK_OK);
  ck_assert_str_eq(o->merchant_id, id);
  /* A shorter id leaves no stale bytes behind. */
  ck_assert_int_eq(cashback_options_set_merchant_id(o, "ab"), CASHBACK_OK);
  ck_assert_int_eq(o->merchant_id[3], 0);
  ck_assert_int_eq(o->merchant_id[63], 0);

  fill(id, 'm', 65);
  const char *bad[] = {"", "shop 42", "shop/42", "shop\xc3\xa9", "a;b", id};
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    EXPECT_FAIL(o, cashback_options_set_merchant_id(o, bad[i]),
                CASHBACK_E_CONFIG, "merchant_id: must be 1-64 of");
    EXPECT_FAIL(o, cashback_options_set(o, "merchant_id", bad[i]),
                CASHBACK_E_CONFIG, "merchant_id: must be 1-64 of");
  }
  ck_assert_str_eq(o->merchant_id, "ab");
  cashback_options_free(o);
}
END_TEST

START_TEST(test_key) {
  cashback_options *o = cashback_options_new();
  ck_assert_int_eq(cashback_options_set_key(o, "k2026", SECRET), CASHBACK_OK);
  ck_assert_str_eq(o->key.id, "k2026");
  ck_assert_str_eq(o->key.secret, SECRET);

  char s16[17], s256[257], s257[258];
  fill(s16, 'x', 16);
  fill(s256, 'y', 256);
  fill(s257, 'y', 257);
  ck_assert_int_eq(cashback_options_set_key(o, "a", s16), CASHBACK_OK);
  ck_assert_int_eq(cashback_options_set_key(o, "a", s256), CASHBACK_OK);
  ck_assert_str_eq(o->key.secret, s256);
  ck_assert_int_eq(cashback_options_set_key(o, "k2026", SECRET), CASHBACK_OK);
  ck_assert_int_eq(o->key.secret[strlen(SECRET) + 1], 0);

  EXPECT_FAIL(o, cashback_options_set_key(o, "bad id", SECRET),
              CASHBACK_E_CONFIG, "key_id: must be 1-64 of");
  EXPECT_FAIL(o, cashback_options_set_key(o, "", SECRET), CASHBACK_E_CONFIG,
              "key_id:");
  const char *bad[] = {"short-secret-15",
                       "has space in the secret",
                       "has;semicolon-in-secret",
                       "has#hash-in-the-secret",
                       "tab\tin-the-secret-value",
                       "non-ascii-\xc3\xa9-secret-value",
                       s257};
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    EXPECT_FAIL(o, cashback_options_set_key(o, "k2027", bad[i]),
                CASHBACK_E_CONFIG, "secret: must be 16-256 printable");
    ck_assert_ptr_null(strstr(cashback_options_last_error(o), bad[i]));
    EXPECT_FAIL(o, cashback_options_set(o, "secret", bad[i]), CASHBACK_E_CONFIG,
                "secret: must be 16-256 printable");
    ck_assert_ptr_null(strstr(cashback_options_last_error(o), bad[i]));
    EXPECT_FAIL(o, cashback_options_set_next_key(o, "k2027", bad[i]),
                CASHBACK_E_CONFIG, "next_secret: must be 16-256 printable");
    ck_assert_ptr_null(strstr(cashback_options_last_error(o), bad[i]));
    EXPECT_FAIL(o, cashback_options_set(o, "next_secret", bad[i]),
                CASHBACK_E_CONFIG, "next_secret: must be 16-256 printable");
    ck_assert_ptr_null(strstr(cashback_options_last_error(o), bad[i]));
  }
  ck_assert_str_eq(o->key.id, "k2026");
  ck_assert_str_eq(o->key.secret, SECRET);
  cashback_options_free(o);
}
END_TEST

START_TEST(test_next_key) {
  cashback_options *o = cashback_options_new();
  ck_assert_int_eq(cashback_options_set_next_key(o, "k2027", SECRET2),
                   CASHBACK_OK);
  ck_assert_str_eq(o->next_key.id, "k2027");
  ck_assert_str_eq(o->next_key.secret, SECRET2);
  EXPECT_FAIL(o, cashback_options_set_next_key(o, "bad/id", SECRET2),
              CASHBACK_E_CONFIG, "next_key_id: must be 1-64 of");
  ck_assert_int_eq(cashback_options_set_next_key(o, NULL, NULL), CASHBACK_OK);
  ck_assert_str_eq(o->next_key.id, "");
  ck_assert_str_eq(o->next_key.secret, "");

  /* Text keys: each half alone; an empty value removes that half. */
  ck_assert_int_eq(cashback_options_set(o, "next_key_id", "k2027"),
                   CASHBACK_OK);
  ck_assert_int_eq(cashback_options_set(o, "next_secret", SECRET2),
                   CASHBACK_OK);
  ck_assert_str_eq(o->next_key.secret, SECRET2);
  ck_assert_int_eq(cashback_options_set(o, "next_secret", ""), CASHBACK_OK);
  ck_assert_str_eq(o->next_key.secret, "");
  ck_assert_int_eq(cashback_options_set(o, "next_key_id", ""), CASHBACK_OK);
  ck_assert_str_eq(o->next_key.id, "");
  EXPECT_FAIL(o, cashback_options_set(o, "next_key_id", "a b"),
              CASHBACK_E_CONFIG, "next_key_id: must be");
  cashback_options_free(o);
}
END_TEST

START_TEST(test_endpoint) {
  cashback_options *o = cashback_options_new();
  char long_ok[CASHBACK__ENDPOINT_MAX + 2];
  memcpy(long_ok, "https://h/", 10);
  memset(long_ok + 10, 'p', CASHBACK__ENDPOINT_MAX - 10);
  long_ok[CASHBACK__ENDPOINT_MAX] = '\0';
  const char *good[] = {"https://api.network.example/cashback/v1/events",
                        "http://localhost:8080/x",
                        "HTTPS://EXAMPLE.COM",
                        "http://127.0.0.1",
                        "http://[::1]:8443/e",
                        "https://h?x=1",
                        "https://h:65535/",
                        long_ok};
  for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
    ck_assert_msg(cashback_options_set_endpoint(o, good[i]) == CASHBACK_OK,
                  "rejected %s: %s", good[i], cashback_options_last_error(o));
    ck_assert_str_eq(o->endpoint, good[i]);
  }
  ck_assert_int_eq(cashback_options_set(o, "endpoint", "https://n.example/e"),
                   CASHBACK_OK);
  ck_assert_str_eq(o->endpoint, "https://n.example/e");

  struct {
    const char *url, *why;
  } bad[] = {
      {"", "absolute http:// or https://"},
      {"ftp://x/", "absolute http:// or https://"},
      {"api.example/x", "absolute http:// or https://"},
      {"https:/h/", "absolute http:// or https://"},
      {"https://", "host is empty"},
      {"https:///path", "host is empty"},
      {"https://:443/", "host is empty"},
      {"https://[]/", "host is empty"},
      {"https://h:0/", "port must be 1-65535"},
      {"https://h:65536/", "port must be 1-65535"},
      {"https://h:/", "port must be 1-65535"},
      {"https://h:8a/", "port must be 1-65535"},
      {"https://h:123456/", "port must be 1-65535"},
      {"https://u:p@h/", "credentials"},
      {"https://[::1/", "unterminated '['"},
      {"https://[::1]x/", "after ']'"},
      {"https://h/a b", "character 12"},
      {" https://h/", "character 1"},
      {"https://h/\x01", "control"},
      {"https://h/\x7f", "control"},
      {"https://h/\xc3\xa9", "non-ASCII"},
  };
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    EXPECT_FAIL(o, cashback_options_set_endpoint(o, bad[i].url),
                CASHBACK_E_CONFIG, bad[i].why);
    ck_assert_int_eq(strncmp(cashback_options_last_error(o), "endpoint: ", 10),
                     0);
  }
  char too_long[CASHBACK__ENDPOINT_MAX + 2];
  memcpy(too_long, "https://h/", 10);
  memset(too_long + 10, 'p', CASHBACK__ENDPOINT_MAX + 1 - 10);
  too_long[CASHBACK__ENDPOINT_MAX + 1] = '\0';
  EXPECT_FAIL(o, cashback_options_set_endpoint(o, too_long), CASHBACK_E_CONFIG,
              "endpoint: longer than 2048");
  ck_assert_str_eq(o->endpoint, "https://n.example/e");
  cashback_options_free(o);
}
END_TEST

/* The endpoint is checked by the rule the HTTP transport applies
 * (cashback_url.c): before, set_endpoint had a looser rule of its own, so
 * these were accepted when set and refused by the transport, or by
 * cashback_client_new() as if they were plain http. Now one answer, when
 * set, saying what is wrong. */
START_TEST(test_endpoint_one_rule) {
  cashback_options *o = cashback_options_new();
  struct {
    const char *url, *why;
  } bad[] = {
      {"https://exa_mple.com/", "the host must be a name"},
      {"https://-example.com/", "the host must be a name"},
      {"https://%65xample.com/", "the host must be a name"},
      {"https://[zz::1]/", "not an IPv6 address"},
      {"https://[::1::2]/", "not an IPv6 address"},
      {"https://example.com/a\\b", "character 22 is a backslash"},
  };
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    EXPECT_FAIL(o, cashback_options_set_endpoint(o, bad[i].url),
                CASHBACK_E_CONFIG, bad[i].why);
    ck_assert_int_eq(strncmp(cashback_options_last_error(o), "endpoint: ", 10),
                     0);
    ck_assert(!cashback__url_allowed(bad[i].url, strlen(bad[i].url), 1));
  }
  /* Whatever the URL, the options take it exactly when the transport
   * would send to it (insecure http aside, which the check refuses). */
  const char *urls[] = {"https://api.network.example/v1/events",
                        "http://127.0.0.1:8080/e",
                        "https://[2001:db8::1]:443/e",
                        "http://example.com/e",
                        "https://exa_mple.com/",
                        "https://[zz::1]/",
                        "https://h/a\\b",
                        "https://h:0/",
                        "https://u@h/",
                        "ftp://h/",
                        "https://h/\x01"};
  for (size_t i = 0; i < sizeof(urls) / sizeof(urls[0]); i++) {
    int set = cashback_options_set_endpoint(o, urls[i]) == CASHBACK_OK;
    ck_assert_msg(set == cashback__url_allowed(urls[i], strlen(urls[i]), 1),
                  "options and transport disagree on '%s'", urls[i]);
  }
  /* Plain http to a remote host: set, then refused by the check with the
   * reason (the one case the check decides). */
  ck_assert_int_eq(cashback_options_set_merchant_id(o, "shop-1"), CASHBACK_OK);
  ck_assert_int_eq(cashback_options_set_key(o, "k1", SECRET), CASHBACK_OK);
  ck_assert_int_eq(cashback_options_set_endpoint(o, "http://example.com/e"),
                   CASHBACK_OK);
  EXPECT_FAIL(o, cashback__options_check(o), CASHBACK_E_CONFIG,
              "plain http:// is only allowed to a loopback host");
  cashback_options_free(o);
}
END_TEST

/* cashback_options_set_n(): counted key and value, never read past their
 * length; a NUL inside either is refused naming the key, never taken as
 * the end (a secret cut at a NUL would be a different secret). */
START_TEST(test_set_n) {
  cashback_options *o = cashback_options_new();
  const char key[] = "merchant_idXX", value[] = "shop-42junk";
  ck_assert_int_eq(cashback_options_set_n(o, key, 11, value, 7), CASHBACK_OK);
  ck_assert_str_eq(o->merchant_id, "shop-42");
  ck_assert_int_eq(
      cashback_options_set_n(o, "secret", 6, SECRET, strlen(SECRET)),
      CASHBACK_OK);
  ck_assert_str_eq(o->key.secret, SECRET);
  const char nul_secret[] = SECRET "\0tail";
  EXPECT_FAIL(o,
              cashback_options_set_n(o, "secret", 6, nul_secret,
                                     sizeof(nul_secret) - 1),
              CASHBACK_E_CONFIG, "secret: the value contains a NUL byte");
  ck_assert(strstr(cashback_options_last_error(o), SECRET) == NULL);
  EXPECT_FAIL(o, cashback_options_set_n(o, "merchant_id\0x", 13, "shop", 4),
              CASHBACK_E_CONFIG, "the key contains a NUL byte");
  EXPECT_FAIL(o, cashback_options_set_n(o, "merchant_id", 11, "sh\0op", 5),
              CASHBACK_E_CONFIG, "merchant_id: the value contains a NUL");
  EXPECT_FAIL(o, cashback_options_set_n(o, "merchant_id", 11, NULL, 0),
              CASHBACK_E_INVALID_ARGUMENT, "merchant_id: must not be NULL");
  EXPECT_FAIL(o, cashback_options_set_n(o, NULL, 0, "x", 1),
              CASHBACK_E_INVALID_ARGUMENT, "key: must not be NULL");
  EXPECT_FAIL(o, cashback_options_set_n(o, "merchant", 8, "x", 1),
              CASHBACK_E_CONFIG, "unknown key 'merchant'");
  size_t big = CASHBACK__OPTION_VALUE_MAX + 1;
  char *long_value = malloc(big);
  ck_assert_ptr_nonnull(long_value);
  memset(long_value, 'a', big);
  EXPECT_FAIL(o, cashback_options_set_n(o, "endpoint", 8, long_value, big),
              CASHBACK_E_CONFIG, "endpoint: value longer than 65536 bytes");
  /* A wrong length is refused on the length alone, before any byte is
   * read (the NUL scan used to come first and ran over the buffer). */
  const char short_value[] = "a\0b";
  EXPECT_FAIL(o, cashback_options_set_n(o, "endpoint", 8, short_value, big),
              CASHBACK_E_CONFIG, "endpoint: value longer than 65536 bytes");
  free(long_value);
  /* The NUL form is the counted one with strlen(). */
  EXPECT_FAIL(o, cashback_options_set(o, "merchant_id", "bad id"),
              CASHBACK_E_CONFIG, "merchant_id: must be 1-64");
  ck_assert_str_eq(o->merchant_id, "shop-42");
  ck_assert_int_eq(cashback_options_set_n(NULL, "secret", 6, "x", 1),
                   CASHBACK_E_INVALID_ARGUMENT);
  cashback_options_free(o);
}
END_TEST

/* Expects `o`'s landing list to be exactly the NULL-terminated `want`. */
static void expect_landing(const cashback_options *o, const char *const *want) {
  size_t n = 0;
  while (want[n])
    n++;
  ck_assert_uint_eq(o->n_landing, n);
  for (size_t i = 0; i < n; i++)
    ck_assert_str_eq(o->landing[i], want[i]);
}

START_TEST(test_landing_params) {
  cashback_options *o = cashback_options_new();
  ck_assert_int_eq(cashback_options_set_landing_params(o, "cb_click,awc"),
                   CASHBACK_OK);
  expect_landing(o, (const char *[]){"cb_click", "awc", NULL});
  ck_assert_int_eq(cashback_options_set_landing_params(o, " a , b.c-d_e\t"),
                   CASHBACK_OK);
  expect_landing(o, (const char *[]){"a", "b.c-d_e", NULL});
  ck_assert_int_eq(cashback_options_set_landing_params(o, "a,,b,"),
                   CASHBACK_OK);
  expect_landing(o, (const char *[]){"a", "b", NULL});
  /* Duplicates removed, first position kept. */
  ck_assert_int_eq(cashback_options_set_landing_params(
                       o, "@awin,awc,cb_click,awc,@cashback"),
                   CASHBACK_OK);
  expect_landing(o, (const char *[]){"awc", "cb_click", NULL});
  /* Through the text table too. */
  ck_assert_int_eq(cashback_options_set(o, "landing_params", "@awin,cb_click"),
                   CASHBACK_OK);
  expect_landing(o, (const char *[]){"awc", "cb_click", NULL});

  char n32[40], n33[40];
  fill(n32, 'p', 32);
  fill(n33, 'p', 33);
  ck_assert_int_eq(cashback_options_set_landing_params(o, n32), CASHBACK_OK);
  expect_landing(o, (const char *[]){n32, NULL});

  char sixteen[200], seventeen[200];
  ck_assert_int_gt(
      snprintf(sixteen, sizeof(sixteen), "a,b,c,d,e,f,g,h,i,j,k,l,m,n,o,p"), 0);
  ck_assert_int_gt(snprintf(seventeen, sizeof(seventeen), "%s,q", sixteen), 0);
  ck_assert_int_eq(cashback_options_set_landing_params(o, sixteen),
                   CASHBACK_OK);
  ck_assert_uint_eq(o->n_landing, 16);
  ck_assert_str_eq(o->landing[15], "p");
  /* A 17th name that is a duplicate is fine. */
  ck_assert_int_eq(cashback_options_set_landing_params(o, "@impact,a,b,c,d,e,"
                                                          "f,g,h,i,j,k,l,m,n,"
                                                          "clickid"),
                   CASHBACK_OK);
  ck_assert_uint_eq(o->n_landing, 16);

  ck_assert_int_eq(cashback_options_set_landing_params(o, "x,y"), CASHBACK_OK);
  EXPECT_FAIL(o, cashback_options_set_landing_params(o, seventeen),
              CASHBACK_E_CONFIG, "landing_params: more than 16 parameters");
  EXPECT_FAIL(o, cashback_options_set_landing_params(o, n33), CASHBACK_E_CONFIG,
              "is not a parameter name");
  EXPECT_FAIL(o, cashback_options_set_landing_params(o, "ok,a b"),
              CASHBACK_E_CONFIG, "landing_params: 'a b' is not a parameter");
  EXPECT_FAIL(o, cashback_options_set_landing_params(o, "a=b"),
              CASHBACK_E_CONFIG, "'a=b'");
  EXPECT_FAIL(o, cashback_options_set_landing_params(o, "a\x01"),
              CASHBACK_E_CONFIG, "'a\\x01'");
  EXPECT_FAIL(o, cashback_options_set_landing_params(o, "cb_click,@foo"),
              CASHBACK_E_CONFIG, "landing_params: unknown network '@foo'");
  EXPECT_FAIL(o, cashback_options_set_landing_params(o, "@"), CASHBACK_E_CONFIG,
              "unknown network '@'");
  EXPECT_FAIL(o, cashback_options_set_landing_params(o, "@awin2"),
              CASHBACK_E_CONFIG, "known: @awin, @cj");
  EXPECT_FAIL(o, cashback_options_set_landing_params(o, ""), CASHBACK_E_CONFIG,
              "landing_params: must name at least one");
  EXPECT_FAIL(o, cashback_options_set_landing_params(o, " , ,"),
              CASHBACK_E_CONFIG, "must name at least one");
  EXPECT_FAIL(o, cashback_options_set(o, "landing_params", "@nope"),
              CASHBACK_E_CONFIG, "'@nope'");
  expect_landing(o, (const char *[]){"x", "y", NULL});
  cashback_options_free(o);
}
END_TEST

START_TEST(test_landing_presets) {
  static const struct {
    const char *preset;
    const char *want[3];
  } cases[] = {
      {"@awin", {"awc", NULL, NULL}},
      {"@cj", {"cjevent", NULL, NULL}},
      {"@impact", {"irclickid", "clickid", NULL}},
      {"@rakuten", {"ranSiteID", NULL, NULL}},
      {"@tradedoubler", {"tduid", "tdclid_sn", NULL}},
      {"@partnerize", {"clickref", NULL, NULL}},
      {"@everflow", {"transaction_id", NULL, NULL}},
      {"@cashback", {"cb_click", NULL, NULL}},
      {"@AWIN", {"awc", NULL, NULL}},
      {" @Impact ", {"irclickid", "clickid", NULL}},
  };
  cashback_options *o = cashback_options_new();
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    ck_assert_msg(cashback_options_set_landing_params(o, cases[i].preset) ==
                      CASHBACK_OK,
                  "%s: %s", cases[i].preset, cashback_options_last_error(o));
    expect_landing(o, cases[i].want);
  }
  ck_assert_int_eq(
      cashback_options_set_landing_params(o, "@cj,@awin,@cashback"),
      CASHBACK_OK);
  expect_landing(o, (const char *[]){"cjevent", "awc", "cb_click", NULL});
  cashback_options_free(o);
}
END_TEST

START_TEST(test_cookie_name) {
  cashback_options *o = cashback_options_new();
  char n64[70], n65[70];
  fill(n64, 'c', 64);
  fill(n65, 'c', 65);
  const char *good[] = {"cb", "__Secure-cb", "a!#$%&'*+-.^_`|~", n64};
  for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
    ck_assert_int_eq(cashback_options_set_cookie_name(o, good[i]), CASHBACK_OK);
    ck_assert_str_eq(o->cookie_name, good[i]);
  }
  ck_assert_int_eq(cashback_options_set(o, "cookie_name", "cbk"), CASHBACK_OK);
  ck_assert_str_eq(o->cookie_name, "cbk");
  const char *bad[] = {"",      "a b", "a;b", "a=b", "a\"b",      "a,b",
                       "a\x7f", "a\t", "(a)", "a/b", "a\xc3\xa9", n65};
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
    EXPECT_FAIL(o, cashback_options_set_cookie_name(o, bad[i]),
                CASHBACK_E_CONFIG, "cookie_name: must be 1-64");
  EXPECT_FAIL(o, cashback_options_set(o, "cookie_name", "x y"),
              CASHBACK_E_CONFIG, "cookie_name:");
  ck_assert_str_eq(o->cookie_name, "cbk");
  cashback_options_free(o);
}
END_TEST

START_TEST(test_cookie_domain) {
  cashback_options *o = cashback_options_new();
  char d253[260], d254[260], label63[70], label64[70];
  /* 63 + 1 + 63 + 1 + 63 + 1 + 61 = 253 */
  memset(d253, 'a', 253);
  d253[63] = d253[127] = d253[191] = '.';
  d253[253] = '\0';
  memcpy(d254, d253, 253);
  d254[253] = 'a';
  d254[254] = '\0';
  fill(label63, 'l', 63);
  fill(label64, 'l', 64);
  const char *good[] = {"shop.example", ".shop.example", "localhost",
                        "a-b.example",  "SHOP.Example",  "x1.y2.z3",
                        d253,           label63};
  for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
    ck_assert_msg(cashback_options_set_cookie_domain(o, good[i]) == CASHBACK_OK,
                  "rejected %s", good[i]);
    ck_assert_str_eq(o->cookie_domain, good[i]);
  }
  ck_assert_int_eq(cashback_options_set_cookie_domain(o, NULL), CASHBACK_OK);
  ck_assert_str_eq(o->cookie_domain, "");
  ck_assert_int_eq(cashback_options_set(o, "cookie_domain", "shop.example"),
                   CASHBACK_OK);
  ck_assert_int_eq(cashback_options_set_cookie_domain(o, ""), CASHBACK_OK);
  ck_assert_str_eq(o->cookie_domain, "");
  ck_assert_int_eq(cashback_options_set(o, "cookie_domain", "shop.example"),
                   CASHBACK_OK);
  ck_assert_int_eq(cashback_options_set(o, "cookie_domain", ""), CASHBACK_OK);
  ck_assert_str_eq(o->cookie_domain, "");

  ck_assert_int_eq(cashback_options_set_cookie_domain(o, "keep.example"),
                   CASHBACK_OK);
  const char *bad[] = {"shop..example",
                       "shop.example.",
                       "-shop.example",
                       "shop-.example",
                       "sh_op.example",
                       "shop.example:443",
                       ".",
                       "..a",
                       "a b",
                       "https://shop.example",
                       label64,
                       d254};
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
    EXPECT_FAIL(o, cashback_options_set_cookie_domain(o, bad[i]),
                CASHBACK_E_CONFIG, "cookie_domain: must be a host name");
  EXPECT_FAIL(o, cashback_options_set(o, "cookie_domain", "a..b"),
              CASHBACK_E_CONFIG, "cookie_domain:");
  ck_assert_str_eq(o->cookie_domain, "keep.example");
  cashback_options_free(o);
}
END_TEST

START_TEST(test_window) {
  cashback_options *o = cashback_options_new();
  ck_assert_int_eq(cashback_options_set_attribution_window(o, 1), CASHBACK_OK);
  ck_assert_int_eq(o->window, 1);
  ck_assert_int_eq(
      cashback_options_set_attribution_window(o, CASHBACK__WINDOW_MAX),
      CASHBACK_OK);
  ck_assert_int_eq(o->window, 400 * 86400);
  const int64_t bad[] = {0, -1, CASHBACK__WINDOW_MAX + 1, INT64_MIN, INT64_MAX};
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
    EXPECT_FAIL(o, cashback_options_set_attribution_window(o, bad[i]),
                CASHBACK_E_CONFIG,
                "attribution_window: must be 1 second to "
                "400 days");

  struct {
    const char *text;
    int64_t want;
  } good[] = {{"30d", 30 * 86400}, {"720h", 720 * 3600}, {"2592000", 2592000},
              {"1s", 1},           {"90m", 5400},        {"400d", 400 * 86400}};
  for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
    ck_assert_int_eq(
        cashback_options_set(o, "attribution_window", good[i].text),
        CASHBACK_OK);
    ck_assert_int_eq(o->window, good[i].want);
  }
  EXPECT_FAIL(o, cashback_options_set(o, "attribution_window", "0"),
              CASHBACK_E_CONFIG, "1 second to 400 days");
  EXPECT_FAIL(o, cashback_options_set(o, "attribution_window", "401d"),
              CASHBACK_E_CONFIG, "1 second to 400 days");
  EXPECT_FAIL(o, cashback_options_set(o, "attribution_window", "34560001"),
              CASHBACK_E_CONFIG, "1 second to 400 days");
  const char *unparsable[] = {
      "", "30 d", "abc", "30w", "-5", "1.5d", "99999999999999999999999"};
  for (size_t i = 0; i < sizeof(unparsable) / sizeof(unparsable[0]); i++)
    EXPECT_FAIL(o, cashback_options_set(o, "attribution_window", unparsable[i]),
                CASHBACK_E_CONFIG, "attribution_window: must be a duration");
  ck_assert_int_eq(o->window, 400 * 86400);
  cashback_options_free(o);
}
END_TEST

static void log_sink(cashback_log_level level, const char *message,
                     void *userdata) {
  (void)level;
  (void)message;
  (void)userdata;
}

static int64_t fixed_clock(void *userdata) {
  (void)userdata;
  return 42;
}

START_TEST(test_logger_clock_level) {
  cashback_options *o = cashback_options_new();
  int ud = 0;
  ck_assert_int_eq(
      cashback_options_set_logger(o, log_sink, &ud, CASHBACK_LOG_DEBUG),
      CASHBACK_OK);
  ck_assert_ptr_eq((void *)o->log_fn, (void *)log_sink);
  ck_assert_ptr_eq(o->log_userdata, &ud);
  ck_assert_int_eq(o->log_min, CASHBACK_LOG_DEBUG);
  EXPECT_FAIL(
      o, cashback_options_set_logger(o, log_sink, &ud, (cashback_log_level)4),
      CASHBACK_E_INVALID_ARGUMENT, "log_level:");
  EXPECT_FAIL(
      o, cashback_options_set_logger(o, log_sink, &ud, (cashback_log_level)-1),
      CASHBACK_E_INVALID_ARGUMENT, "log_level:");
  ck_assert_int_eq(
      cashback_options_set_logger(o, NULL, &ud, CASHBACK_LOG_ERROR),
      CASHBACK_OK);
  ck_assert_ptr_null(o->log_fn);
  ck_assert_ptr_null(o->log_userdata);

  ck_assert_int_eq(cashback_options_set_clock(o, fixed_clock, &ud),
                   CASHBACK_OK);
  ck_assert_ptr_eq((void *)o->clock_fn, (void *)fixed_clock);
  ck_assert_ptr_eq(o->clock_userdata, &ud);
  ck_assert_int_eq(cashback_options_set_clock(o, NULL, &ud), CASHBACK_OK);
  ck_assert_ptr_null(o->clock_fn);

  struct {
    const char *text;
    cashback_log_level want;
  } levels[] = {{"debug", CASHBACK_LOG_DEBUG},  {"info", CASHBACK_LOG_INFO},
                {"warn", CASHBACK_LOG_WARN},    {"error", CASHBACK_LOG_ERROR},
                {"WARNING", CASHBACK_LOG_WARN}, {"Info", CASHBACK_LOG_INFO}};
  for (size_t i = 0; i < sizeof(levels) / sizeof(levels[0]); i++) {
    ck_assert_int_eq(cashback_options_set(o, "log_level", levels[i].text),
                     CASHBACK_OK);
    ck_assert_int_eq(o->log_min, levels[i].want);
  }
  const char *bad[] = {"", "loud", "3", "warn ", "err"};
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
    EXPECT_FAIL(o, cashback_options_set(o, "log_level", bad[i]),
                CASHBACK_E_CONFIG,
                "log_level: must be debug, info, warn or "
                "error");
  ck_assert_int_eq(o->log_min, CASHBACK_LOG_INFO);
  cashback_options_free(o);
}
END_TEST

START_TEST(test_text_keys) {
  cashback_options *o = cashback_options_new();
  struct {
    const char *key, *value;
  } all[] = {
      {"merchant_id", "shop-42"},
      {"key_id", "k2026"},
      {"secret", SECRET},
      {"next_key_id", "k2027"},
      {"next_secret", SECRET2},
      {"endpoint", "https://api.network.example/cashback/v1/events"},
      {"landing_params", "@awin,cb_click"},
      {"cookie_name", "cbk"},
      {"cookie_domain", ".shop.example"},
      {"attribution_window", "7d"},
      {"log_level", "debug"},
  };
  for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
    ck_assert_msg(cashback_options_set(o, all[i].key, all[i].value) ==
                      CASHBACK_OK,
                  "%s: %s", all[i].key, cashback_options_last_error(o));
  ck_assert_str_eq(o->merchant_id, "shop-42");
  ck_assert_str_eq(o->key.id, "k2026");
  ck_assert_str_eq(o->key.secret, SECRET);
  ck_assert_str_eq(o->next_key.id, "k2027");
  ck_assert_str_eq(o->next_key.secret, SECRET2);
  ck_assert_str_eq(o->endpoint,
                   "https://api.network.example/cashback/v1/events");
  ck_assert_uint_eq(o->n_landing, 2);
  ck_assert_str_eq(o->cookie_name, "cbk");
  ck_assert_str_eq(o->cookie_domain, ".shop.example");
  ck_assert_int_eq(o->window, 7 * 86400);
  ck_assert_int_eq(o->log_min, CASHBACK_LOG_DEBUG);
  ck_assert_int_eq(cashback__options_check(o), CASHBACK_OK);

  EXPECT_FAIL(o, cashback_options_set(o, "foo", "x"), CASHBACK_E_CONFIG,
              "unknown key 'foo'");
  ck_assert_str_eq(cashback_options_last_error(o), "unknown key 'foo'");
  /* Only what looks like a key name is echoed (anything else may be a
   * secret written without its key). */
  EXPECT_FAIL(o, cashback_options_set(o, "Merchant_ID", "x"), CASHBACK_E_CONFIG,
              "unknown key of 11 characters (not shown: it may be a value "
              "written without its key; did you mean 'merchant_id'?)");
  EXPECT_FAIL(o, cashback_options_set(o, "", "x"), CASHBACK_E_CONFIG,
              "unknown key '' (empty)");
  EXPECT_FAIL(o, cashback_options_set(o, "merchant_id ", "x"),
              CASHBACK_E_CONFIG, "did you mean 'merchant_id'?");
  EXPECT_FAIL(o, cashback_options_set(o, "bad\nkey", "x"), CASHBACK_E_CONFIG,
              "unknown key of 7 characters (not shown: it may be a value");
  char longkey[300];
  fill(longkey, 'k', 299);
  EXPECT_FAIL(o, cashback_options_set(o, longkey, "x"), CASHBACK_E_CONFIG,
              "unknown key of 299 characters");
  ck_assert_ptr_null(strstr(cashback_options_last_error(o), "kkkk"));
  /* The key names are not settable by their typed-setter spelling. */
  EXPECT_FAIL(o, cashback_options_set(o, "key", "x"), CASHBACK_E_CONFIG,
              "unknown key 'key'");
  cashback_options_free(o);
}
END_TEST

/* The sender's text keys: a duration or a size to its typed setter; a key
 * of a pair (timeouts, backoff, batch) keeps the pair's other value, and a
 * backoff_base above backoff_max raises backoff_max with it. */
START_TEST(test_text_pair_keys) {
  cashback_options *o = cashback_options_new();
  struct {
    const char *key, *value;
  } all[] = {
      {"connect_timeout", "250ms"},  {"request_timeout", "20s"},
      {"backoff_base", "2s"},        {"backoff_max", "5m"},
      {"spool_max_bytes", "512m"},   {"batch_max_events", "200"},
      {"batch_max_bytes", "128k"},   {"durability", "Process"},
      {"allow_insecure_http", "on"}, {"spool_dir", "/var/spool/cb"},
  };
  for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
    ck_assert_msg(cashback_options_set(o, all[i].key, all[i].value) ==
                      CASHBACK_OK,
                  "%s: %s", all[i].key, cashback_options_last_error(o));
  ck_assert_int_eq(o->connect_timeout_ms, 250);
  ck_assert_int_eq(o->total_timeout_ms, 20000);
  ck_assert_int_eq(o->backoff_base_ms, 2000);
  ck_assert_int_eq(o->backoff_cap_ms, 300000);
  ck_assert_uint_eq(o->spool_max_bytes, UINT64_C(512) << 20);
  ck_assert_uint_eq(o->batch_max_events, 200);
  ck_assert_uint_eq(o->batch_max_bytes, 128u << 10);
  ck_assert_int_eq(o->durability, CASHBACK_DURABLE_PROCESS);
  ck_assert_int_eq(o->allow_insecure_http, 1);
  ck_assert_str_eq(o->spool_dir, "/var/spool/cb");
  /* One of a pair: the other keeps its value. */
  ck_assert_int_eq(cashback_options_set(o, "connect_timeout", "3s"),
                   CASHBACK_OK);
  ck_assert_int_eq(o->connect_timeout_ms, 3000);
  ck_assert_int_eq(o->total_timeout_ms, 20000);
  ck_assert_int_eq(cashback_options_set(o, "batch_max_bytes", "1m"),
                   CASHBACK_OK);
  ck_assert_uint_eq(o->batch_max_events, 200);
  ck_assert_uint_eq(o->batch_max_bytes, 1u << 20);
  /* backoff_base above backoff_max: backoff_max follows. */
  ck_assert_int_eq(cashback_options_set(o, "backoff_base", "10m"), CASHBACK_OK);
  ck_assert_int_eq(o->backoff_base_ms, 600000);
  ck_assert_int_eq(o->backoff_cap_ms, 600000);
  /* Refused, the options unchanged (a backoff_max below backoff_base is
   * refused, not raised). */
  struct {
    const char *key, *value, *needle;
  } bad[] = {
      {"backoff_max", "1m", "backoff_max: must be at least backoff_base"},
      {"request_timeout", "soon",
       "request_timeout: must be a duration such as '500ms', '10s' or '5m'"},
      {"request_timeout", "11m", "request_timeout: must be 100 ms to 10 min"},
      {"spool_max_bytes", "lots",
       "spool_max_bytes: must be a size such as '1g', '512m' or '65536'"},
      {"spool_max_bytes", "2k", "spool_max_bytes: must be 64 KiB to 1 TiB"},
      {"batch_max_events", "1001", "batch_max_events: must be 1 to 1000"},
      {"batch_max_events", "1k", "batch_max_events: must be 1 to 1000"},
      {"batch_max_events", "0k", "batch_max_events: must be 1 to 1000"},
      {"batch_max_bytes", "8m", "batch_max_bytes: must be 64 KiB to 4 MiB"},
      {"batch_max_bytes", "1k", "batch_max_bytes: must be 64 KiB to 4 MiB"},
  };
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
    EXPECT_FAIL(o, cashback_options_set(o, bad[i].key, bad[i].value),
                CASHBACK_E_CONFIG, bad[i].needle);
  cashback_options_free(o);
}
END_TEST

/* followup_wait: how long a "retry" event is tried again (72 h by default;
 * 1 s to 90 days), by setter and by text key. */
START_TEST(test_followup_wait) {
  cashback_options *o = cashback_options_new();
  ck_assert_int_eq(o->followup_wait_ms, INT64_C(72) * 3600 * 1000);
  ck_assert_int_eq(cashback_options_set_followup_wait(o, 1000), CASHBACK_OK);
  ck_assert_int_eq(o->followup_wait_ms, 1000);
  ck_assert_int_eq(cashback_options_set(o, "followup_wait", "3d"), CASHBACK_OK);
  ck_assert_int_eq(o->followup_wait_ms, INT64_C(3) * 86400 * 1000);
  ck_assert_int_eq(cashback_options_set(o, "followup_wait", "1500ms"),
                   CASHBACK_OK);
  ck_assert_int_eq(o->followup_wait_ms, 1500);
  EXPECT_FAIL(o, cashback_options_set_followup_wait(o, 999), CASHBACK_E_CONFIG,
              "followup_wait: must be 1 s to 90 days");
  EXPECT_FAIL(o, cashback_options_set_followup_wait(o, INT64_C(91) * 86400000),
              CASHBACK_E_CONFIG, "followup_wait: must be 1 s to 90 days");
  EXPECT_FAIL(o, cashback_options_set(o, "followup_wait", "soon"),
              CASHBACK_E_CONFIG, "followup_wait: must be a duration");
  ck_assert_int_eq(o->followup_wait_ms, 1500);
  ck_assert_int_eq(cashback_options_set_followup_wait(NULL, 1000),
                   CASHBACK_E_INVALID_ARGUMENT);
  cashback_options_free(o);
}
END_TEST

/* linger: how long the sender thread waits to fill a batch (20 ms by
 * default; 0 to 10 s), by setter, text key, connection string and
 * environment (CASHBACK_LINGER). */
START_TEST(test_linger) {
  cashback_options *o = cashback_options_new();
  ck_assert_int_eq(o->linger_ms, 20);
  ck_assert_int_eq(cashback_options_set_linger(o, 0), CASHBACK_OK);
  ck_assert_int_eq(o->linger_ms, 0);
  ck_assert_int_eq(cashback_options_set_linger(o, 10000), CASHBACK_OK);
  ck_assert_int_eq(o->linger_ms, 10000);
  ck_assert_int_eq(cashback_options_set(o, "linger", "50ms"), CASHBACK_OK);
  ck_assert_int_eq(o->linger_ms, 50);
  ck_assert_int_eq(cashback_options_set(o, "linger", "0"), CASHBACK_OK);
  ck_assert_int_eq(o->linger_ms, 0);
  ck_assert_int_eq(cashback_options_set(o, "linger", "2s"), CASHBACK_OK);
  ck_assert_int_eq(o->linger_ms, 2000);
  EXPECT_FAIL(o, cashback_options_set_linger(o, -1), CASHBACK_E_CONFIG,
              "linger: must be 0 to 10 s");
  EXPECT_FAIL(o, cashback_options_set_linger(o, 10001), CASHBACK_E_CONFIG,
              "linger: must be 0 to 10 s");
  EXPECT_FAIL(o, cashback_options_set(o, "linger", "11s"), CASHBACK_E_CONFIG,
              "linger: must be 0 to 10 s");
  EXPECT_FAIL(o, cashback_options_set(o, "linger", "soon"), CASHBACK_E_CONFIG,
              "linger: must be a duration");
  ck_assert_int_eq(o->linger_ms, 2000);
  ck_assert_int_eq(
      cashback_options_load_connection_string(o, "cashback:linger=5ms"),
      CASHBACK_OK);
  ck_assert_int_eq(o->linger_ms, 5);
  setenv("CASHBACK_LINGER", "250ms", 1);
  ck_assert_int_eq(cashback_options_load_env(o), CASHBACK_OK);
  unsetenv("CASHBACK_LINGER");
  ck_assert_int_eq(o->linger_ms, 250);
  ck_assert_int_eq(cashback_options_set_linger(NULL, 0),
                   CASHBACK_E_INVALID_ARGUMENT);
  cashback_options_free(o);
}
END_TEST

START_TEST(test_check_required) {
  cashback_options *o = cashback_options_new();
  ck_assert_int_eq(cashback__options_check(o), CASHBACK_E_CONFIG);
  ck_assert_str_eq(o->error, "missing required key 'merchant_id'");
  ck_assert_int_eq(cashback_options_set(o, "merchant_id", "shop-42"),
                   CASHBACK_OK);
  ck_assert_int_eq(cashback__options_check(o), CASHBACK_E_CONFIG);
  ck_assert_str_eq(o->error, "missing required key 'key_id'");
  /* secret alone: still key_id missing */
  ck_assert_int_eq(cashback_options_set(o, "secret", SECRET), CASHBACK_OK);
  ck_assert_int_eq(cashback__options_check(o), CASHBACK_E_CONFIG);
  ck_assert_str_eq(o->error, "missing required key 'key_id'");
  cashback_options_free(o);

  o = cashback_options_new();
  ck_assert_int_eq(cashback_options_set(o, "merchant_id", "shop-42"),
                   CASHBACK_OK);
  ck_assert_int_eq(cashback_options_set(o, "key_id", "k2026"), CASHBACK_OK);
  ck_assert_int_eq(cashback__options_check(o), CASHBACK_E_CONFIG);
  ck_assert_str_eq(o->error, "missing required key 'secret'");
  ck_assert_int_eq(cashback_options_set(o, "secret", SECRET), CASHBACK_OK);
  ck_assert_int_eq(cashback__options_check(o), CASHBACK_E_CONFIG);
  ck_assert_str_eq(o->error, "missing required key 'endpoint'");
  ck_assert_int_eq(cashback_options_set(o, "endpoint", "https://h/e"),
                   CASHBACK_OK);
  ck_assert_int_eq(cashback__options_check(o), CASHBACK_OK);
  cashback_options_free(o);
}
END_TEST

START_TEST(test_check_consistency) {
  cashback_options *o = complete();
  ck_assert_int_eq(cashback__options_check(o), CASHBACK_OK);
  ck_assert_int_eq(cashback_options_set(o, "next_key_id", "k2027"),
                   CASHBACK_OK);
  ck_assert_int_eq(cashback__options_check(o), CASHBACK_E_CONFIG);
  ck_assert_ptr_nonnull(strstr(o->error, "'next_secret'"));
  ck_assert_int_eq(cashback_options_set(o, "next_key_id", ""), CASHBACK_OK);
  ck_assert_int_eq(cashback_options_set(o, "next_secret", SECRET2),
                   CASHBACK_OK);
  ck_assert_int_eq(cashback__options_check(o), CASHBACK_E_CONFIG);
  ck_assert_ptr_nonnull(strstr(o->error, "'next_key_id'"));
  ck_assert_int_eq(cashback_options_set(o, "next_key_id", "k2026"),
                   CASHBACK_OK);
  ck_assert_int_eq(cashback__options_check(o), CASHBACK_E_CONFIG);
  ck_assert_str_eq(o->error, "next_key_id: must differ from key_id");
  ck_assert_int_eq(cashback_options_set(o, "next_key_id", "k2027"),
                   CASHBACK_OK);
  ck_assert_int_eq(cashback__options_check(o), CASHBACK_OK);

  ck_assert_int_eq(cashback_options_set_cookie_name(o, "__Host-cb"),
                   CASHBACK_OK);
  ck_assert_int_eq(cashback__options_check(o), CASHBACK_OK);
  ck_assert_int_eq(cashback_options_set_cookie_domain(o, "shop.example"),
                   CASHBACK_OK);
  ck_assert_int_eq(cashback__options_check(o), CASHBACK_E_CONFIG);
  ck_assert_ptr_nonnull(strstr(o->error, "'__Host-'"));
  ck_assert_int_eq(cashback_options_set_cookie_name(o, "__host-cb"),
                   CASHBACK_OK);
  ck_assert_int_eq(cashback__options_check(o), CASHBACK_E_CONFIG);
  ck_assert_int_eq(cashback_options_set_cookie_name(o, "__Hos"), CASHBACK_OK);
  ck_assert_int_eq(cashback__options_check(o), CASHBACK_OK);
  /* The check never mentions a secret. */
  ck_assert_ptr_null(strstr(o->error, SECRET));
  cashback_options_free(o);
}
END_TEST

START_TEST(test_copyable) {
  cashback_options *o = complete();
  cashback_options copy = *o;
  cashback_options_free(o);
  ck_assert_str_eq(copy.merchant_id, "shop-42");
  ck_assert_str_eq(copy.key.secret, SECRET);
  ck_assert_int_eq(cashback__options_check(&copy), CASHBACK_OK);
}
END_TEST

TCase *cashback_test_options(void) {
  TCase *tc = tcase_create("options");
  tcase_add_test(tc, test_defaults);
  tcase_add_test(tc, test_fail_formats);
  tcase_add_test(tc, test_null_options);
  tcase_add_test(tc, test_merchant_id);
  tcase_add_test(tc, test_key);
  tcase_add_test(tc, test_next_key);
  tcase_add_test(tc, test_endpoint);
  tcase_add_test(tc, test_endpoint_one_rule);
  tcase_add_test(tc, test_landing_params);
  tcase_add_test(tc, test_landing_presets);
  tcase_add_test(tc, test_cookie_name);
  tcase_add_test(tc, test_cookie_domain);
  tcase_add_test(tc, test_window);
  tcase_add_test(tc, test_logger_clock_level);
  tcase_add_test(tc, test_text_keys);
  tcase_add_test(tc, test_set_n);
  tcase_add_test(tc, test_text_pair_keys);
  tcase_add_test(tc, test_followup_wait);
  tcase_add_test(tc, test_linger);
  tcase_add_test(tc, test_check_required);
  tcase_add_test(tc, test_check_consistency);
  tcase_add_test(tc, test_copyable);
  return tc;
}
