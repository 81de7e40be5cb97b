/* Unit tests of sdk/cashback_config.c: config files (real temp files),
 * connection strings, the environment. */
#if !defined(_GNU_SOURCE) && !defined(_POSIX_C_SOURCE)
#define _POSIX_C_SOURCE 200809L
#endif

#include "tests.h"

#include "cashback_config.h"
#include "cashback_options.h"

#include <check.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <grp.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define SECRET "s3cr3t-value-0123456789"
#define ENDPOINT "https://api.network.example/cashback/v1/events"

static int same_except_error(const cashback_options *a,
                             const cashback_options *b) {
  size_t at = offsetof(cashback_options, error);
  size_t after = at + sizeof(a->error);
  const unsigned char *p = (const unsigned char *)a;
  const unsigned char *q = (const unsigned char *)b;
  return memcmp(p, q, at) == 0 &&
         memcmp(p + after, q + after, sizeof(*a) - after) == 0;
}

static void expect_error(const cashback_options *o, const char *needle) {
  ck_assert_msg(strstr(cashback_options_last_error(o), needle) != NULL,
                "error '%s' lacks '%s'", cashback_options_last_error(o),
                needle);
}

/* A temp file under /tmp holding `len` bytes of `text`; `path` gets its
 * name (at least 64 bytes). The caller unlinks it. */
static void temp_file(const char *text, size_t len, char *path) {
  memcpy(path, "/tmp/cashback-config-XXXXXX", 28);
  int fd = mkstemp(path);
  ck_assert_int_ge(fd, 0);
  size_t done = 0;
  while (done < len) {
    ssize_t n = write(fd, text + done, len - done);
    ck_assert_int_gt(n, 0);
    done += (size_t)n;
  }
  ck_assert_int_eq(close(fd), 0);
}

/* Parses `text` as a file named "cfg" into fresh options. */
static cashback_status parse(cashback_options *o, const char *text) {
  return cashback__config_parse_text(o, text, strlen(text), "cfg");
}

/* Expects parsing `text` to fail with `st`, leave `o` as it was, and give
 * exactly `detail` (when not NULL). */
static void parse_fails(const char *text, cashback_status st,
                        const char *detail) {
  cashback_options *o = cashback_options_new();
  ck_assert_int_eq(cashback_options_set(o, "merchant_id", "before"),
                   CASHBACK_OK);
  cashback_options before;
  memcpy(&before, o, sizeof(before));
  ck_assert_int_eq(parse(o, text), st);
  ck_assert_msg(same_except_error(o, &before), "options changed by '%s'", text);
  if (detail)
    ck_assert_str_eq(cashback_options_last_error(o), detail);
  ck_assert_ptr_null(strstr(cashback_options_last_error(o), SECRET));
  cashback_options_free(o);
}

START_TEST(test_file_text) {
  cashback_options *o = cashback_options_new();
  const char *text = "\xEF\xBB\xBF# onboarding config for shop-42\n"
                     "\n"
                     "merchant_id = shop-42\r\n"
                     "   # an indented comment\n"
                     "key_id=k2026\n"
                     "\tsecret =   " SECRET "  \r\n"
                     "endpoint = " ENDPOINT "#frag\n"
                     "landing_params = @awin, cb_click\n"
                     "cookie_domain =\n"
                     "attribution_window = 45d\n"
                     "merchant_id = shop-43\n" /* last wins */
                     "   \t  \r\n"
                     "log_level = info"; /* no final newline */
  ck_assert_int_eq(parse(o, text), CASHBACK_OK);
  ck_assert_str_eq(o->merchant_id, "shop-43");
  ck_assert_str_eq(o->key.id, "k2026");
  ck_assert_str_eq(o->key.secret, SECRET);
  ck_assert_str_eq(o->endpoint, ENDPOINT "#frag");
  ck_assert_uint_eq(o->n_landing, 2);
  ck_assert_str_eq(o->landing[0], "awc");
  ck_assert_str_eq(o->landing[1], "cb_click");
  ck_assert_str_eq(o->cookie_domain, "");
  ck_assert_int_eq(o->window, 45 * 86400);
  ck_assert_int_eq(o->log_min, CASHBACK_LOG_INFO);
  ck_assert_int_eq(cashback__options_check(o), CASHBACK_OK);

  /* Empty text and comments only: nothing changes. */
  cashback_options before;
  memcpy(&before, o, sizeof(before));
  ck_assert_int_eq(parse(o, ""), CASHBACK_OK);
  ck_assert_int_eq(parse(o, "# only\n\n  # comments\r\n"), CASHBACK_OK);
  ck_assert_int_eq(memcmp(o, &before, sizeof(before)), 0);
  /* The origin may be NULL. */
  ck_assert_int_eq(cashback__config_parse_text(o, "x", 1, NULL),
                   CASHBACK_E_CONFIG);
  ck_assert_str_eq(o->error, "config:1: expected key = value");
  cashback_options_free(o);
}
END_TEST

START_TEST(test_file_explicit_length) {
  /* Only `len` bytes are read: the rest of the buffer is not config. */
  cashback_options *o = cashback_options_new();
  const char text[] = "merchant_id = a1\nfoo = bar\n";
  ck_assert_int_eq(cashback__config_parse_text(o, text, 17, "cfg"),
                   CASHBACK_OK);
  ck_assert_str_eq(o->merchant_id, "a1");
  ck_assert_int_eq(cashback__config_parse_text(o, text, 15, "cfg"),
                   CASHBACK_OK);
  ck_assert_str_eq(o->merchant_id, "a");
  cashback_options_free(o);
}
END_TEST

START_TEST(test_file_errors) {
  parse_fails("merchant_id = a\n\nmerchnt_id = b\n", CASHBACK_E_CONFIG,
              "cfg:3: unknown key 'merchnt_id' (did you mean "
              "'merchant_id'?)");
  parse_fails("merchant_id = a\njust some words\n", CASHBACK_E_CONFIG,
              "cfg:2: expected key = value");
  parse_fails("\r\n\r\n\r\nmerchant_id = a b\r\n", CASHBACK_E_CONFIG,
              "cfg:4: merchant_id: must be 1-64 of [A-Za-z0-9._-]");
  parse_fails(" = value\n", CASHBACK_E_CONFIG,
              "cfg:1: expected key = value (the key is missing)");
  parse_fails("MERCHANT_ID = a\n", CASHBACK_E_CONFIG,
              "cfg:1: unknown key of 11 characters (not shown: it may be a "
              "value written without its key; did you mean 'merchant_id'?)");
  parse_fails("merchant id = a\n", CASHBACK_E_CONFIG,
              "cfg:1: unknown key of 11 characters (not shown: it may be a "
              "value written without its key; did you mean 'merchant_id'?)");
  parse_fails("# c\nendpoint = ftp://x/\n", CASHBACK_E_CONFIG,
              "cfg:2: endpoint: must be an absolute http:// or https:// URL");
  parse_fails("merchant_id = a # trailing comment\n", CASHBACK_E_CONFIG,
              "cfg:1: merchant_id: must be 1-64 of [A-Za-z0-9._-]");
  parse_fails("landing_params = @nope\n", CASHBACK_E_CONFIG, NULL);
  /* Secrets are never echoed, whatever is wrong with them. */
  parse_fails("key_id = k\nsecret = " SECRET " extra\n", CASHBACK_E_CONFIG,
              "cfg:2: secret: must be 16-256 printable ASCII characters "
              "without space, ';' or '#'");
  parse_fails("secret = " SECRET "#x\n", CASHBACK_E_CONFIG, NULL);
  parse_fails(SECRET "\n", CASHBACK_E_CONFIG, "cfg:1: expected key = value");

  /* All or nothing: valid lines before the bad one are not applied. */
  parse_fails("merchant_id = after\nkey_id = k\nsecret = " SECRET
              "\nendpoint = " ENDPOINT "\nbogus = 1\n",
              CASHBACK_E_CONFIG, "cfg:5: unknown key 'bogus'");
}
END_TEST

START_TEST(test_file_bytes) {
  /* A NUL inside a line. */
  cashback_options *o = cashback_options_new();
  cashback_options before;
  memcpy(&before, o, sizeof(before));
  const char nul[] = "merchant_id = a\0b\n";
  ck_assert_int_eq(cashback__config_parse_text(o, nul, sizeof(nul) - 1, "cfg"),
                   CASHBACK_E_CONFIG);
  ck_assert_str_eq(o->error, "cfg:1: contains a NUL byte");
  ck_assert(same_except_error(o, &before));
  /* A value too long for any key. */
  char big[5000];
  memcpy(big, "landing_params = ", 17);
  memset(big + 17, 'a', 4097);
  big[17 + 4097] = '\0';
  ck_assert_int_eq(parse(o, big), CASHBACK_E_CONFIG);
  ck_assert_str_eq(o->error,
                   "cfg:1: landing_params: value longer than 4096 bytes");
  ck_assert(same_except_error(o, &before));
  /* A very long unknown key is named by its length. */
  memset(big, 'k', 300);
  memcpy(big + 300, "=1", 3);
  ck_assert_int_eq(parse(o, big), CASHBACK_E_CONFIG);
  expect_error(o, "cfg:1: unknown key of 300 characters (not shown");
  ck_assert_ptr_null(strstr(o->error, "kkkk"));
  cashback_options_free(o);
}
END_TEST

START_TEST(test_file_size_cap) {
  size_t cap = 65536;
  char *text = malloc(cap + 1);
  ck_assert_ptr_nonnull(text);
  memset(text, '#', cap + 1);
  cashback_options *o = cashback_options_new();
  ck_assert_int_eq(cashback__config_parse_text(o, text, cap, "cfg"),
                   CASHBACK_OK);
  ck_assert_int_eq(cashback__config_parse_text(o, text, cap + 1, "cfg"),
                   CASHBACK_E_TOO_BIG);
  ck_assert_str_eq(o->error, "cfg: larger than 65536 bytes");

  char path[64];
  temp_file(text, cap, path);
  ck_assert_int_eq(cashback_options_load_file(o, path), CASHBACK_OK);
  unlink(path);
  temp_file(text, cap + 1, path);
  ck_assert_int_eq(cashback_options_load_file(o, path), CASHBACK_E_TOO_BIG);
  char want[128];
  snprintf(want, sizeof(want), "%s: larger than 65536 bytes", path);
  ck_assert_str_eq(o->error, want);
  unlink(path);
  free(text);
  cashback_options_free(o);
}
END_TEST

START_TEST(test_load_file) {
  const char *text = "# network: example\r\n"
                     "merchant_id = shop-42\r\n"
                     "key_id = k2026\r\n"
                     "secret = " SECRET "\r\n"
                     "endpoint = " ENDPOINT "\r\n"
                     "landing_params = @cj\r\n";
  char path[64];
  temp_file(text, strlen(text), path);
  cashback_options *o = cashback_options_new();
  ck_assert_int_eq(cashback_options_load_file(o, path), CASHBACK_OK);
  ck_assert_str_eq(o->merchant_id, "shop-42");
  ck_assert_str_eq(o->key.secret, SECRET);
  ck_assert_str_eq(o->landing[0], "cjevent");
  ck_assert_int_eq(cashback__options_check(o), CASHBACK_OK);
  unlink(path);

  /* Errors name the path and the line. */
  const char *bad = "merchant_id = shop-42\n\nwindow = 30d\n";
  temp_file(bad, strlen(bad), path);
  cashback_options before;
  memcpy(&before, o, sizeof(before));
  ck_assert_int_eq(cashback_options_load_file(o, path), CASHBACK_E_CONFIG);
  char want[128];
  snprintf(want, sizeof(want), "%s:3: unknown key 'window'", path);
  ck_assert_str_eq(o->error, want);
  ck_assert(same_except_error(o, &before));
  unlink(path);
  cashback_options_free(o);
}
END_TEST

START_TEST(test_load_file_unreadable) {
  cashback_options *o = cashback_options_new();
  cashback_options before;
  memcpy(&before, o, sizeof(before));
  ck_assert_int_eq(
      cashback_options_load_file(o, "/tmp/cashback-no-such-dir/none.conf"),
      CASHBACK_E_IO);
  char want[160];
  snprintf(want, sizeof(want),
           "cannot open '/tmp/cashback-no-such-dir/none.conf': %s",
           strerror(ENOENT));
  ck_assert_str_eq(o->error, want);
  ck_assert(same_except_error(o, &before));
  /* A directory is refused before anything is read. */
  ck_assert_int_eq(cashback_options_load_file(o, "/tmp"), CASHBACK_E_IO);
  ck_assert_str_eq(o->error,
                   "cannot use '/tmp': a directory, not a regular file");
  ck_assert(same_except_error(o, &before));
  ck_assert_int_eq(cashback_options_load_file(o, NULL),
                   CASHBACK_E_INVALID_ARGUMENT);
  expect_error(o, "path is NULL");
  ck_assert_int_eq(cashback_options_load_file(NULL, "/tmp/x"),
                   CASHBACK_E_INVALID_ARGUMENT);
  cashback_options_free(o);
}
END_TEST

START_TEST(test_connection_string) {
  cashback_options *o = cashback_options_new();
  const char *cs = "cashback:merchant_id=shop-42;key_id=k2026;secret=" SECRET
                   ";endpoint=" ENDPOINT ";landing_params=@awin,cb_click";
  ck_assert_int_eq(cashback_options_load_connection_string(o, cs), CASHBACK_OK);
  ck_assert_str_eq(o->merchant_id, "shop-42");
  ck_assert_str_eq(o->key.id, "k2026");
  ck_assert_str_eq(o->key.secret, SECRET);
  ck_assert_str_eq(o->endpoint, ENDPOINT);
  ck_assert_uint_eq(o->n_landing, 2);
  ck_assert_str_eq(o->landing[0], "awc");
  ck_assert_int_eq(cashback__options_check(o), CASHBACK_OK);

  /* Percent-decoding (both hex cases), empty pairs, spaces, prefix case. */
  ck_assert_int_eq(cashback_options_load_connection_string(
                       o, "  CashBack:;;endpoint=https://h/e%3fa=1%3Bb=2;"
                          " landing_params = %40cj%2Cx ;attribution_window=1d;"
                          ";"),
                   CASHBACK_OK);
  ck_assert_str_eq(o->endpoint, "https://h/e?a=1;b=2");
  ck_assert_uint_eq(o->n_landing, 2);
  ck_assert_str_eq(o->landing[0], "cjevent");
  ck_assert_str_eq(o->landing[1], "x");
  ck_assert_int_eq(o->window, 86400);
  /* '+' is not a space. */
  ck_assert_int_eq(
      cashback_options_load_connection_string(o, "cashback:cookie_name=a+b"),
      CASHBACK_OK);
  ck_assert_str_eq(o->cookie_name, "a+b");
  /* Nothing but the prefix: nothing to do. */
  cashback_options before;
  memcpy(&before, o, sizeof(before));
  ck_assert_int_eq(cashback_options_load_connection_string(o, "cashback:"),
                   CASHBACK_OK);
  ck_assert_int_eq(memcmp(o, &before, sizeof(before)), 0);
  /* Duplicate key: the last wins. */
  ck_assert_int_eq(cashback_options_load_connection_string(
                       o, "cashback:merchant_id=a;merchant_id=b"),
                   CASHBACK_OK);
  ck_assert_str_eq(o->merchant_id, "b");
  cashback_options_free(o);
}
END_TEST

static void conn_fails(const char *cs, cashback_status st, const char *detail) {
  cashback_options *o = cashback_options_new();
  ck_assert_int_eq(cashback_options_set(o, "merchant_id", "before"),
                   CASHBACK_OK);
  cashback_options before;
  memcpy(&before, o, sizeof(before));
  ck_assert_int_eq(cashback_options_load_connection_string(o, cs), st);
  ck_assert_msg(same_except_error(o, &before), "options changed by '%s'", cs);
  ck_assert_str_eq(cashback_options_last_error(o), detail);
  ck_assert_ptr_null(strstr(cashback_options_last_error(o), SECRET));
  cashback_options_free(o);
}

START_TEST(test_connection_errors) {
  conn_fails("merchant_id=a", CASHBACK_E_CONFIG,
             "connection string: must start with 'cashback:'");
  conn_fails("", CASHBACK_E_CONFIG,
             "connection string: must start with 'cashback:'");
  conn_fails("cashback", CASHBACK_E_CONFIG,
             "connection string: must start with 'cashback:'");
  conn_fails("cashback:merchant_id=a;foo=1", CASHBACK_E_CONFIG,
             "connection string: pair 2: unknown key 'foo'");
  conn_fails("cashback:merchant_id=a;merchant_id", CASHBACK_E_CONFIG,
             "connection string: pair 2: expected key=value");
  conn_fails("cashback:=x", CASHBACK_E_CONFIG,
             "connection string: pair 1: expected key=value");
  conn_fails("cashback:merchant_id=a b", CASHBACK_E_CONFIG,
             "connection string: merchant_id: must be 1-64 of "
             "[A-Za-z0-9._-]");
  conn_fails("cashback:merchant_id=%4", CASHBACK_E_CONFIG,
             "connection string: merchant_id: bad percent-encoding ('%' "
             "must be followed by two hex digits)");
  conn_fails("cashback:merchant_id=%zz", CASHBACK_E_CONFIG,
             "connection string: merchant_id: bad percent-encoding ('%' "
             "must be followed by two hex digits)");
  conn_fails("cashback:merchant_id=ab%", CASHBACK_E_CONFIG,
             "connection string: merchant_id: bad percent-encoding ('%' "
             "must be followed by two hex digits)");
  conn_fails("cashback:merchant_id=a%00b", CASHBACK_E_CONFIG,
             "connection string: merchant_id: the value contains a NUL byte");
  conn_fails("cashback:endpoint=https://h/;landing_params=@foo",
             CASHBACK_E_CONFIG,
             "connection string: landing_params: unknown network '@foo' "
             "(known: @awin, @cj, @impact, @rakuten, @tradedoubler, "
             "@partnerize, @everflow, @cashback)");
  /* A secret without its key name, or a bad secret, is never echoed. */
  conn_fails("cashback:merchant_id=a;" SECRET, CASHBACK_E_CONFIG,
             "connection string: pair 2: expected key=value");
  conn_fails("cashback:key_id=k;secret=" SECRET "%20", CASHBACK_E_CONFIG,
             "connection string: secret: must be 16-256 printable ASCII "
             "characters without space, ';' or '#'");
  conn_fails("cashback:secret=" SECRET "%3Bx", CASHBACK_E_CONFIG,
             "connection string: secret: must be 16-256 printable ASCII "
             "characters without space, ';' or '#'");
  /* All or nothing. */
  conn_fails("cashback:merchant_id=after;key_id=k;secret=" SECRET
             ";endpoint=" ENDPOINT ";log_level=loud",
             CASHBACK_E_CONFIG,
             "connection string: log_level: must be debug, info, warn or "
             "error");

  char *big = malloc(70000);
  ck_assert_ptr_nonnull(big);
  memcpy(big, "cashback:", 9);
  memset(big + 9, ';', 70000 - 10);
  big[70000 - 1] = '\0';
  conn_fails(big, CASHBACK_E_TOO_BIG,
             "connection string: larger than 65536 bytes");
  /* One value longer than any key accepts. */
  memcpy(big, "cashback:landing_params=", 24);
  memset(big + 24, 'a', 5000);
  big[24 + 5000] = '\0';
  conn_fails(big, CASHBACK_E_CONFIG,
             "connection string: landing_params: value longer than 4096 "
             "bytes");
  free(big);

  cashback_options *o = cashback_options_new();
  ck_assert_int_eq(cashback_options_load_connection_string(o, NULL),
                   CASHBACK_E_INVALID_ARGUMENT);
  expect_error(o, "connection string");
  ck_assert_int_eq(cashback_options_load_connection_string(NULL, "cashback:"),
                   CASHBACK_E_INVALID_ARGUMENT);
  /* Explicit length: the parser stops at `len`. */
  const char cs[] = "cashback:merchant_id=abc;foo=1";
  ck_assert_int_eq(cashback__config_parse_connection(o, cs, 23), CASHBACK_OK);
  ck_assert_str_eq(o->merchant_id, "ab");
  const char nul[] = "cashback:merchant_id=a\0b";
  ck_assert_int_eq(cashback__config_parse_connection(o, nul, sizeof(nul) - 1),
                   CASHBACK_E_CONFIG);
  ck_assert_str_eq(o->error,
                   "connection string: merchant_id: the value contains a NUL "
                   "byte");
  const char nulkey[] = "cashback:merchant_id\0x=a";
  ck_assert_int_eq(
      cashback__config_parse_connection(o, nulkey, sizeof(nulkey) - 1),
      CASHBACK_E_CONFIG);
  ck_assert_str_eq(o->error,
                   "connection string: pair 1: the key contains a NUL byte");
  ck_assert_str_eq(o->merchant_id, "ab");
  cashback_options_free(o);
}
END_TEST

/* ------------------------------------------------------------------------
 * Environment
 * --------------------------------------------------------------------- */

static const char *const env_names[] = {
    "CASHBACK_CONFIG",         "CASHBACK_CONNECTION",
    "CASHBACK_MERCHANT_ID",    "CASHBACK_KEY_ID",
    "CASHBACK_SECRET",         "CASHBACK_NEXT_KEY_ID",
    "CASHBACK_NEXT_SECRET",    "CASHBACK_ENDPOINT",
    "CASHBACK_LANDING_PARAMS", "CASHBACK_COOKIE_NAME",
    "CASHBACK_COOKIE_DOMAIN",  "CASHBACK_ATTRIBUTION_WINDOW",
    "CASHBACK_LOG_LEVEL",      "CASHBACK_FOO"};

static void env_clear(void) {
  for (size_t i = 0; i < sizeof(env_names) / sizeof(env_names[0]); i++)
    unsetenv(env_names[i]);
}

/* The counted form: reads `len` bytes only, and a NUL inside is refused
 * naming the key (or the pair), never taken as the end of the string. */
START_TEST(test_connection_string_n) {
  cashback_options *o = cashback_options_new();
  const char text[] = "cashback:merchant_id=shop-42;key_id=k1JUNK";
  ck_assert_int_eq(
      cashback_options_load_connection_string_n(o, text, sizeof(text) - 5),
      CASHBACK_OK);
  ck_assert_str_eq(o->merchant_id, "shop-42");
  ck_assert_str_eq(o->key.id, "k1");
  cashback_options before;
  memcpy(&before, o, sizeof(before));
  const char nul_value[] =
      "cashback:merchant_id=shop-43;secret=" SECRET "\0tail";
  ck_assert_int_eq(cashback_options_load_connection_string_n(
                       o, nul_value, sizeof(nul_value) - 1),
                   CASHBACK_E_CONFIG);
  expect_error(o, "secret: the value contains a NUL byte");
  ck_assert(strstr(cashback_options_last_error(o), SECRET) == NULL);
  ck_assert(same_except_error(o, &before)); /* all or nothing */
  const char nul_key[] = "cashback:merchant_id=shop-43;key\0_id=k2";
  ck_assert_int_eq(cashback_options_load_connection_string_n(
                       o, nul_key, sizeof(nul_key) - 1),
                   CASHBACK_E_CONFIG);
  expect_error(o, "pair 2");
  ck_assert(same_except_error(o, &before));
  ck_assert_int_eq(cashback_options_load_connection_string_n(o, NULL, 0),
                   CASHBACK_E_INVALID_ARGUMENT);
  ck_assert_int_eq(cashback_options_load_connection_string_n(NULL, text, 9),
                   CASHBACK_E_INVALID_ARGUMENT);
  cashback_options_free(o);
}
END_TEST

START_TEST(test_env_precedence) {
  env_clear();
  const char *text = "merchant_id = from-file\n"
                     "key_id = k-file\n"
                     "secret = " SECRET "\n"
                     "endpoint = https://file.example/e\n"
                     "cookie_name = file_cookie\n";
  char path[64];
  temp_file(text, strlen(text), path);
  setenv("CASHBACK_CONFIG", path, 1);
  setenv("CASHBACK_CONNECTION",
         "cashback:merchant_id=from-conn;endpoint=https://conn.example/e", 1);
  setenv("CASHBACK_MERCHANT_ID", "from-var", 1);
  setenv("CASHBACK_ATTRIBUTION_WINDOW", "12h", 1);
  setenv("CASHBACK_LANDING_PARAMS", "@tradedoubler", 1);
  setenv("CASHBACK_FOO", "ignored", 1);

  cashback_options *o = cashback_options_new();
  ck_assert_int_eq(cashback_options_load_env(o), CASHBACK_OK);
  ck_assert_str_eq(o->merchant_id, "from-var");
  ck_assert_str_eq(o->endpoint, "https://conn.example/e");
  ck_assert_str_eq(o->key.id, "k-file");
  ck_assert_str_eq(o->cookie_name, "file_cookie");
  ck_assert_int_eq(o->window, 12 * 3600);
  ck_assert_str_eq(o->landing[0], "tduid");
  ck_assert_str_eq(o->landing[1], "tdclid_sn");
  ck_assert_int_eq(cashback__options_check(o), CASHBACK_OK);
  cashback_options_free(o);
  unlink(path);
  env_clear();
}
END_TEST

/* A connection string from a variable a shim names. */
START_TEST(test_connection_env) {
  env_clear();
  cashback_options *o = cashback_options_new();
  ck_assert_int_eq(cashback_options_set(o, "merchant_id", "before"),
                   CASHBACK_OK);
  cashback_options before;
  memcpy(&before, o, sizeof(before));
  /* Not set, then empty: refused, naming the variable, nothing changed. */
  unsetenv("SHOP_CASHBACK");
  ck_assert_int_eq(cashback_options_load_connection_env(o, "SHOP_CASHBACK"),
                   CASHBACK_E_CONFIG);
  ck_assert_str_eq(cashback_options_last_error(o),
                   "SHOP_CASHBACK: the variable is not set (or empty)");
  ck_assert(same_except_error(o, &before));
  setenv("SHOP_CASHBACK", "", 1);
  ck_assert_int_eq(cashback_options_load_connection_env(o, "SHOP_CASHBACK"),
                   CASHBACK_E_CONFIG);
  /* A bad string: its own error under the variable's name, no secret,
   * and the pairs before the bad one are not applied either. */
  setenv("SHOP_CASHBACK",
         "cashback:merchant_id=shop-7;secret=" SECRET ";attribution_window=x",
         1);
  ck_assert_int_eq(cashback_options_load_connection_env(o, "SHOP_CASHBACK"),
                   CASHBACK_E_CONFIG);
  ck_assert_msg(
      strncmp(cashback_options_last_error(o), "SHOP_CASHBACK: ", 15) == 0, "%s",
      cashback_options_last_error(o));
  ck_assert_ptr_null(strstr(cashback_options_last_error(o), SECRET));
  ck_assert(same_except_error(o, &before));
  /* A good one. */
  setenv("SHOP_CASHBACK",
         "cashback:merchant_id=shop-7;key_id=k1;secret=" SECRET
         ";endpoint=" ENDPOINT,
         1);
  ck_assert_int_eq(cashback_options_load_connection_env(o, "SHOP_CASHBACK"),
                   CASHBACK_OK);
  ck_assert_str_eq(o->merchant_id, "shop-7");
  ck_assert_str_eq(o->key.id, "k1");
  ck_assert_int_eq(cashback__options_check(o), CASHBACK_OK);
  /* No name. */
  ck_assert_int_eq(cashback_options_load_connection_env(o, NULL),
                   CASHBACK_E_INVALID_ARGUMENT);
  ck_assert_int_eq(cashback_options_load_connection_env(o, ""),
                   CASHBACK_E_INVALID_ARGUMENT);
  ck_assert_int_eq(cashback_options_load_connection_env(NULL, "X"),
                   CASHBACK_E_INVALID_ARGUMENT);
  unsetenv("SHOP_CASHBACK");
  cashback_options_free(o);
}
END_TEST

START_TEST(test_env_every_key) {
  env_clear();
  setenv("CASHBACK_MERCHANT_ID", "m1", 1);
  setenv("CASHBACK_KEY_ID", "k1", 1);
  setenv("CASHBACK_SECRET", SECRET, 1);
  setenv("CASHBACK_NEXT_KEY_ID", "k2", 1);
  setenv("CASHBACK_NEXT_SECRET", SECRET "2", 1);
  setenv("CASHBACK_ENDPOINT", ENDPOINT, 1);
  setenv("CASHBACK_LANDING_PARAMS", "a,b", 1);
  setenv("CASHBACK_COOKIE_NAME", "cn", 1);
  setenv("CASHBACK_COOKIE_DOMAIN", "shop.example", 1);
  setenv("CASHBACK_ATTRIBUTION_WINDOW", "3600", 1);
  setenv("CASHBACK_LOG_LEVEL", "error", 1);
  cashback_options *o = cashback_options_new();
  ck_assert_int_eq(cashback_options_load_env(o), CASHBACK_OK);
  ck_assert_str_eq(o->merchant_id, "m1");
  ck_assert_str_eq(o->key.id, "k1");
  ck_assert_str_eq(o->key.secret, SECRET);
  ck_assert_str_eq(o->next_key.id, "k2");
  ck_assert_str_eq(o->next_key.secret, SECRET "2");
  ck_assert_str_eq(o->endpoint, ENDPOINT);
  ck_assert_uint_eq(o->n_landing, 2);
  ck_assert_str_eq(o->cookie_name, "cn");
  ck_assert_str_eq(o->cookie_domain, "shop.example");
  ck_assert_int_eq(o->window, 3600);
  ck_assert_int_eq(o->log_min, CASHBACK_LOG_ERROR);

  /* Empty variables: an empty CASHBACK_CONFIG / CASHBACK_CONNECTION is
   * skipped; an empty CASHBACK_COOKIE_DOMAIN clears the domain. */
  env_clear();
  setenv("CASHBACK_CONFIG", "", 1);
  setenv("CASHBACK_CONNECTION", "", 1);
  setenv("CASHBACK_COOKIE_DOMAIN", "", 1);
  ck_assert_int_eq(cashback_options_load_env(o), CASHBACK_OK);
  ck_assert_str_eq(o->cookie_domain, "");
  ck_assert_str_eq(o->merchant_id, "m1");

  /* No variables at all: nothing changes. */
  env_clear();
  cashback_options before;
  memcpy(&before, o, sizeof(before));
  ck_assert_int_eq(cashback_options_load_env(o), CASHBACK_OK);
  ck_assert_int_eq(memcmp(o, &before, sizeof(before)), 0);
  ck_assert_int_eq(cashback_options_load_env(NULL),
                   CASHBACK_E_INVALID_ARGUMENT);
  cashback_options_free(o);
}
END_TEST

/* Expects load_env to fail with `st` and `detail`, leaving options as
 * they were even though earlier sources were valid. */
static void env_fails(cashback_status st, const char *detail) {
  cashback_options *o = cashback_options_new();
  cashback_options before;
  memcpy(&before, o, sizeof(before));
  ck_assert_int_eq(cashback_options_load_env(o), st);
  ck_assert(same_except_error(o, &before));
  ck_assert_str_eq(o->error, detail);
  ck_assert_ptr_null(strstr(o->error, SECRET));
  cashback_options_free(o);
}

START_TEST(test_env_errors) {
  env_clear();
  setenv("CASHBACK_CONFIG", "/tmp/cashback-no-such-dir/x.conf", 1);
  char want[160];
  snprintf(want, sizeof(want),
           "CASHBACK_CONFIG: cannot open '/tmp/cashback-no-such-dir/x.conf': "
           "%s",
           strerror(ENOENT));
  env_fails(CASHBACK_E_IO, want);

  const char *text = "merchant_id = ok\nbad line\n";
  char path[64];
  temp_file(text, strlen(text), path);
  setenv("CASHBACK_CONFIG", path, 1);
  snprintf(want, sizeof(want), "CASHBACK_CONFIG: %s:2: expected key = value",
           path);
  env_fails(CASHBACK_E_CONFIG, want);
  unlink(path);

  env_clear();
  setenv("CASHBACK_MERCHANT_ID", "fine", 1);
  setenv("CASHBACK_CONNECTION", "cashback:merchant_id=x;nope=1", 1);
  env_fails(CASHBACK_E_CONFIG,
            "CASHBACK_CONNECTION: connection string: pair 2: unknown key "
            "'nope'");
  setenv("CASHBACK_CONNECTION", "merchant_id=x", 1);
  env_fails(CASHBACK_E_CONFIG, "CASHBACK_CONNECTION: connection string: must "
                               "start with 'cashback:'");

  env_clear();
  setenv("CASHBACK_MERCHANT_ID", "fine", 1);
  setenv("CASHBACK_SECRET", SECRET " ", 1);
  env_fails(CASHBACK_E_CONFIG,
            "CASHBACK_SECRET: secret: must be 16-256 printable ASCII "
            "characters without space, ';' or '#'");
  env_clear();
  setenv("CASHBACK_MERCHANT_ID", "", 1);
  env_fails(CASHBACK_E_CONFIG,
            "CASHBACK_MERCHANT_ID: merchant_id: must be 1-64 of "
            "[A-Za-z0-9._-]");
  env_clear();
  setenv("CASHBACK_ATTRIBUTION_WINDOW", "forever", 1);
  env_fails(CASHBACK_E_CONFIG,
            "CASHBACK_ATTRIBUTION_WINDOW: attribution_window: must be a "
            "duration such as '30d', '720h' or '2592000' (seconds)");
  env_clear();
}
END_TEST

/* A base64 secret (it ends in '=') written without its "secret=" reads as
 * an unknown key: the error names where, never what (no 8 bytes of the
 * secret in a row anywhere in the detail). */
#define B64_SECRET "c2VjcmV0LXZhbHVlLW9mLXRoZS1zaG9wcw+/ZWQ="
#define HEX_SECRET "deadbeefcafe0123456789abcdefabcd"

static void assert_no_secret(const char *detail, const char *secret) {
  size_t n = strlen(secret);
  for (size_t i = 0; i + 8 <= n; i++) {
    char part[9];
    memcpy(part, secret + i, 8);
    part[8] = '\0';
    ck_assert_msg(strstr(detail, part) == NULL, "'%s' holds '%s'", detail,
                  part);
  }
}

START_TEST(test_secret_without_key_not_echoed) {
  static const char *const secrets[] = {B64_SECRET, HEX_SECRET,
                                        "abcdefghijklmnopqrstuvwxyzabcdefgh"};
  for (size_t i = 0; i < 3; i++) {
    const char *sec = secrets[i];
    char text[512], want[160];
    cashback_options *o = cashback_options_new();
    /* Connection string: pair 3 is the bare secret, with and without an
     * '=' at its end, and as "SECRET=value". */
    const char *before[] = {"", "", "", " "};
    const char *after[] = {"", "=", "=x", " = "};
    for (size_t f = 0; f < 4; f++) {
      char pair[256];
      snprintf(pair, sizeof(pair), "%s%s%s", before[f], sec, after[f]);
      snprintf(text, sizeof(text), "cashback:merchant_id=m;key_id=k;%s;x=1",
               pair);
      ck_assert_int_eq(cashback_options_load_connection_string(o, text),
                       CASHBACK_E_CONFIG);
      assert_no_secret(cashback_options_last_error(o), sec);
      ck_assert_msg(strstr(cashback_options_last_error(o), "pair 3: "), "%s",
                    cashback_options_last_error(o));
      /* The same line in a config file: named by its line. */
      snprintf(text, sizeof(text), "merchant_id = m\nkey_id = k\n%s\n", pair);
      ck_assert_int_eq(parse(o, text), CASHBACK_E_CONFIG);
      assert_no_secret(o->error, sec);
      ck_assert_msg(strncmp(o->error, "cfg:3: ", 7) == 0, "%s", o->error);
    }
    /* Given as a key to cashback_options_set() itself. */
    ck_assert_int_eq(cashback_options_set(o, sec, "x"), CASHBACK_E_CONFIG);
    assert_no_secret(cashback_options_last_error(o), sec);
    /* Through the environment's connection string. */
    env_clear();
    snprintf(text, sizeof(text), "cashback:merchant_id=m;%s;key_id=k", sec);
    setenv("CASHBACK_CONNECTION", text, 1);
    ck_assert_int_eq(cashback_options_load_env(o), CASHBACK_E_CONFIG);
    assert_no_secret(o->error, sec);
    snprintf(want, sizeof(want),
             "CASHBACK_CONNECTION: connection string: "
             "pair 2: ");
    ck_assert_msg(strncmp(o->error, want, strlen(want)) == 0, "%s", o->error);
    env_clear();
    /* A bad value of a secret's key (a percent-escape, a NUL) names the
     * key, not the value; an unknown key holding it is not named. */
    snprintf(text, sizeof(text), "cashback:%s%%zz=1", sec);
    ck_assert_int_eq(cashback_options_load_connection_string(o, text),
                     CASHBACK_E_CONFIG);
    assert_no_secret(cashback_options_last_error(o), sec);
    cashback_options_free(o);
  }
  /* Key names are still named, so that a typo can be seen. */
  cashback_options *o = cashback_options_new();
  ck_assert_int_eq(cashback_options_load_connection_string(
                       o, "cashback:merchant_id=m;secert=x"),
                   CASHBACK_E_CONFIG);
  ck_assert_str_eq(cashback_options_last_error(o),
                   "connection string: pair 2: unknown key 'secert' (did you "
                   "mean 'secret'?)");
  cashback_options_free(o);
}
END_TEST

/* ------------------------------------------------------------------------
 * Files holding a secret: owner and mode (cashback_secret_file_open)
 * --------------------------------------------------------------------- */

static const char GOOD_FILE[] = "merchant_id = shop-42\n"
                                "key_id = k1\n"
                                "secret = " SECRET "\n";

/* Loads `path` into fresh options; the status, and the error in `err`. */
static cashback_status load_fresh(const char *path, char *err, size_t size) {
  cashback_options *o = cashback_options_new();
  ck_assert_ptr_nonnull(o);
  cashback_options before;
  memcpy(&before, o, sizeof(before));
  cashback_status st = cashback_options_load_file(o, path);
  snprintf(err, size, "%s", o->error);
  if (st != CASHBACK_OK) {
    ck_assert(same_except_error(o, &before));
    ck_assert_msg(strstr(err, SECRET) == NULL, "secret in '%s'", err);
  }
  cashback_options_free(o);
  return st;
}

START_TEST(test_load_file_mode) {
  char path[64], err[CASHBACK_ERROR_MAX + 1];
  temp_file(GOOD_FILE, strlen(GOOD_FILE), path);
  static const struct {
    mode_t mode;
    cashback_status st;
    const char *what;
  } cases[] = {
      {0600, CASHBACK_OK, NULL},
      {0400, CASHBACK_OK, NULL},
      {0640, CASHBACK_OK, NULL}, /* root:www-data 0640 shares it */
      {0644, CASHBACK_E_CONFIG, "every user can read it (mode 0644)"},
      {0604, CASHBACK_E_CONFIG, "every user can read it (mode 0604)"},
      {0666, CASHBACK_E_CONFIG, "other users can change it (mode 0666)"},
      {0620, CASHBACK_E_CONFIG, "other users can change it (mode 0620)"},
      {0602, CASHBACK_E_CONFIG, "other users can change it (mode 0602)"},
  };
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    ck_assert_int_eq(chmod(path, cases[i].mode), 0);
    cashback_status st = load_fresh(path, err, sizeof(err));
    ck_assert_msg(st == cases[i].st, "mode %04o: status %d, want %d (%s)",
                  (unsigned)cases[i].mode, (int)st, (int)cases[i].st, err);
    if (cases[i].what) {
      ck_assert_msg(strstr(err, cases[i].what) && strstr(err, path) &&
                        strstr(err, "chmod 600"),
                    "mode %04o: '%s'", (unsigned)cases[i].mode, err);
    }
  }
  /* CASHBACK_CONFIG follows the same rule. */
  ck_assert_int_eq(chmod(path, 0644), 0);
  setenv("CASHBACK_CONFIG", path, 1);
  cashback_options *o = cashback_options_new();
  ck_assert_int_eq(cashback_options_load_env(o), CASHBACK_E_CONFIG);
  expect_error(o, "CASHBACK_CONFIG: '");
  expect_error(o, "every user can read it");
  ck_assert_str_eq(o->merchant_id, "");
  cashback_options_free(o);
  unsetenv("CASHBACK_CONFIG");

  /* A symbolic link is followed, and the file it leads to is checked. */
  char link[80];
  snprintf(link, sizeof(link), "%s.link", path);
  ck_assert_int_eq(symlink(path, link), 0);
  ck_assert_int_eq(load_fresh(link, err, sizeof(err)), CASHBACK_E_CONFIG);
  ck_assert_int_eq(chmod(path, 0600), 0);
  ck_assert_int_eq(load_fresh(link, err, sizeof(err)), CASHBACK_OK);
  unlink(link);

  /* A FIFO in the file's place is refused, without blocking on the open. */
  char fifo[80];
  snprintf(fifo, sizeof(fifo), "%s.fifo", path);
  ck_assert_int_eq(mkfifo(fifo, 0600), 0);
  ck_assert_int_eq(load_fresh(fifo, err, sizeof(err)), CASHBACK_E_IO);
  ck_assert_msg(strstr(err, "a FIFO, not a regular file"), "'%s'", err);
  unlink(fifo);

  /* Control bytes of the path are not written into the message. */
  char odd[96];
  snprintf(odd, sizeof(odd), "%s-\x1b[31m", path);
  int fd = open(odd, O_WRONLY | O_CREAT | O_EXCL, 0644);
  ck_assert_int_ge(fd, 0);
  ck_assert_int_eq(fchmod(fd, 0644), 0);
  close(fd);
  ck_assert_int_eq(load_fresh(odd, err, sizeof(err)), CASHBACK_E_CONFIG);
  ck_assert_msg(strchr(err, '\x1b') == NULL && strstr(err, "-\\x1b[31m'"),
                "'%s'", err);
  unlink(odd);
  unlink(path);
}
END_TEST

START_TEST(test_secret_file_open) {
  char path[64], err[CASHBACK_ERROR_MAX + 1];
  temp_file(GOOD_FILE, strlen(GOOD_FILE), path);
  int fd = 12345;
  ck_assert_int_eq(cashback_secret_file_open(path, &fd, err, sizeof(err)),
                   CASHBACK_OK);
  ck_assert_int_ge(fd, 0);
  ck_assert_str_eq(err, "");
  ck_assert(fcntl(fd, F_GETFD) & FD_CLOEXEC);
  ck_assert_int_eq(fcntl(fd, F_GETFL) & O_NONBLOCK, 0);
  char buf[16];
  ck_assert_int_eq(read(fd, buf, 11), 11);
  ck_assert(memcmp(buf, "merchant_id", 11) == 0);
  close(fd);
  ck_assert_int_eq(chmod(path, 0644), 0);
  ck_assert_int_eq(cashback_secret_file_open(path, &fd, err, sizeof(err)),
                   CASHBACK_E_CONFIG);
  ck_assert_int_eq(fd, -1);
  /* A NULL or small error buffer is fine. */
  ck_assert_int_eq(cashback_secret_file_open(path, &fd, NULL, 0),
                   CASHBACK_E_CONFIG);
  ck_assert_int_eq(cashback_secret_file_open(path, &fd, err, 8),
                   CASHBACK_E_CONFIG);
  ck_assert_int_eq(strlen(err), 7);
  ck_assert_int_eq(cashback_secret_file_open(NULL, &fd, err, sizeof(err)),
                   CASHBACK_E_INVALID_ARGUMENT);
  ck_assert_int_eq(cashback_secret_file_open(path, NULL, err, sizeof(err)),
                   CASHBACK_E_INVALID_ARGUMENT);
  unlink(path);
}
END_TEST

#define NOBODY 65534 /* an unprivileged uid and gid */
#define STRANGER 54321

/* Runs cashback_options_load_file(path) in a child as uid and gid NOBODY;
 * its status, or -1 when the child could not become NOBODY. */
static int load_as_nobody(const char *path) {
  pid_t pid = fork();
  ck_assert_int_ge(pid, 0);
  if (pid == 0) {
    if (setgroups(0, NULL) != 0 || setgid(NOBODY) != 0 || setuid(NOBODY) != 0 ||
        geteuid() != NOBODY)
      _exit(255);
    cashback_options *o = cashback_options_new();
    cashback_status st = cashback_options_load_file(o, path);
    cashback_options_free(o);
    _exit((int)st);
  }
  int ws;
  ck_assert_int_eq(waitpid(pid, &ws, 0), pid);
  ck_assert(WIFEXITED(ws));
  return WEXITSTATUS(ws) == 255 ? -1 : WEXITSTATUS(ws);
}

START_TEST(test_load_file_owner) {
  if (geteuid() != 0) {
    /* Giving a file to another user needs root (the tests run as root in
     * CI); as another user, only the own-file cases apply, above. */
    fprintf(stderr, "config owner test: skipped, not root (chown needs "
                    "root)\n");
    return;
  }
  char path[64], err[CASHBACK_ERROR_MAX + 1];
  temp_file(GOOD_FILE, strlen(GOOD_FILE), path);
  /* root reading a file another user owns (and so may change). */
  ck_assert_int_eq(chown(path, NOBODY, NOBODY), 0);
  ck_assert_int_eq(chmod(path, 0600), 0);
  ck_assert_int_eq(load_fresh(path, err, sizeof(err)), CASHBACK_E_CONFIG);
  ck_assert_msg(strstr(err, path) &&
                    strstr(err, "owned by uid 65534, not this user "
                                "(uid 0) or root") &&
                    strstr(err, "chown root FILE"),
                "'%s'", err);
  /* The same file is fine for its owner, as an unprivileged process. */
  ck_assert_int_eq(load_as_nobody(path), CASHBACK_OK);
  ck_assert_int_eq(chmod(path, 0644), 0);
  ck_assert_int_eq(load_as_nobody(path), CASHBACK_E_CONFIG);
  /* root:nogroup 0640: root's, shared with a group (php-fpm workers). */
  ck_assert_int_eq(chown(path, 0, NOBODY), 0);
  ck_assert_int_eq(chmod(path, 0640), 0);
  ck_assert_int_eq(load_as_nobody(path), CASHBACK_OK);
  /* A third user's file, readable through the group: refused. */
  ck_assert_int_eq(chown(path, STRANGER, NOBODY), 0);
  ck_assert_int_eq(load_as_nobody(path), CASHBACK_E_CONFIG);
  ck_assert_int_eq(load_fresh(path, err, sizeof(err)), CASHBACK_E_CONFIG);
  ck_assert_msg(strstr(err, "owned by uid 54321"), "'%s'", err);
  unlink(path);
}
END_TEST

TCase *cashback_test_config(void) {
  TCase *tc = tcase_create("config");
  tcase_add_test(tc, test_file_text);
  tcase_add_test(tc, test_file_explicit_length);
  tcase_add_test(tc, test_file_errors);
  tcase_add_test(tc, test_file_bytes);
  tcase_add_test(tc, test_file_size_cap);
  tcase_add_test(tc, test_load_file);
  tcase_add_test(tc, test_load_file_unreadable);
  tcase_add_test(tc, test_load_file_mode);
  tcase_add_test(tc, test_secret_file_open);
  tcase_add_test(tc, test_load_file_owner);
  tcase_add_test(tc, test_connection_string);
  tcase_add_test(tc, test_connection_errors);
  tcase_add_test(tc, test_connection_string_n);
  tcase_add_test(tc, test_env_precedence);
  tcase_add_test(tc, test_connection_env);
  tcase_add_test(tc, test_env_every_key);
  tcase_add_test(tc, test_env_errors);
  tcase_add_test(tc, test_secret_without_key_not_echoed);
  return tc;
}
