/* Config sources: a `key = value` file, a "cashback:" connection string, and
 * the environment. All of them go through cashback_options_set(), the one
 * table of text keys, and apply all or nothing: they work on a copy of the
 * options and write it back only when every setting was valid. */
#if !defined(_GNU_SOURCE) && !defined(_POSIX_C_SOURCE)
#define _POSIX_C_SOURCE 200809L
#endif

#include "cashback_config.h"
#include "cashback_ascii.h"
#include "cashback_pairs.h"
#include "cashback_crypto.h"
#include "cashback_options.h"
#include "cashback_text.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CONFIG_TEXT_MAX 65536 /* a config file or a connection string */
#define CONFIG_VALUE_MAX 4096 /* one value, after decoding */
#define CONFIG_KEY_MAX 64     /* longer keys are unknown anyway */

/* ------------------------------------------------------------------------
 * Helpers
 * --------------------------------------------------------------------- */

/* Copies a key into `out` (CONFIG_KEY_MAX + 1 bytes). Keys longer than any
 * known key are cut (the callers only copy known keys). */
static void key_copy(const char *k, size_t len, char *out) {
  cashback__ascii_copy(out, CONFIG_KEY_MAX + 1, k, len);
}

/* ------------------------------------------------------------------------
 * Config file text
 * --------------------------------------------------------------------- */

cashback_status cashback__config_parse_text(cashback_options *o,
                                            const char *text, size_t len,
                                            const char *origin) {
  if (!origin)
    origin = "config";
  if (len > CONFIG_TEXT_MAX)
    return cashback__options_fail(o, CASHBACK_E_TOO_BIG,
                                  "%s: larger than %d bytes", origin,
                                  CONFIG_TEXT_MAX);
  cashback_options tmp;
  char key[CONFIG_KEY_MAX + 1];
  char value[CONFIG_VALUE_MAX + 1];
  cashback_status st = CASHBACK_OK;
  memcpy(&tmp, o, sizeof(tmp));

  size_t pos = 0, line = 0;
  if (len >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0)
    pos = 3; /* a UTF-8 byte order mark, as some editors write */
  while (pos < len) {
    line++;
    const char *nl = memchr(text + pos, '\n', len - pos);
    size_t end = nl ? (size_t)(nl - text) : len;
    const char *s = text + pos;
    size_t n = end - pos;
    pos = end + 1;
    cashback__pairs_trim(&s, &n); /* also drops the '\r' of a CRLF line */
    if (n == 0 || s[0] == '#')
      continue;
    if (memchr(s, '\0', n)) {
      st = cashback__options_fail(o, CASHBACK_E_CONFIG,
                                  "%s:%zu: contains a NUL byte", origin, line);
      break;
    }
    const char *eq = memchr(s, '=', n);
    if (!eq) {
      st = cashback__options_fail(o, CASHBACK_E_CONFIG,
                                  "%s:%zu: expected key = value", origin, line);
      break;
    }
    const char *k = s, *v = eq + 1;
    size_t klen = (size_t)(eq - s), vlen = n - klen - 1;
    cashback__pairs_trim(&k, &klen);
    cashback__pairs_trim(&v, &vlen);
    if (klen == 0) {
      st = cashback__options_fail(o, CASHBACK_E_CONFIG,
                                  "%s:%zu: expected key = value (the key is "
                                  "missing)",
                                  origin, line);
      break;
    }
    key_copy(k, klen, key);
    if (!cashback__options_key_known(k, klen)) {
      /* Named by its line; its text only when it looks like a key name (it
       * may be a secret, cut before its base64 padding '='). */
      char shown[160];
      st = cashback__options_fail(
          o, CASHBACK_E_CONFIG, "%s:%zu: unknown key %s", origin, line,
          cashback__options_key_shown(k, klen, shown, sizeof(shown)));
      break;
    }
    if (vlen > CONFIG_VALUE_MAX) {
      st = cashback__options_fail(o, CASHBACK_E_CONFIG,
                                  "%s:%zu: %s: value longer than %d bytes",
                                  origin, line, key, CONFIG_VALUE_MAX);
      break;
    }
    memcpy(value, v, vlen);
    value[vlen] = '\0';
    st = cashback_options_set(&tmp, key, value);
    if (st != CASHBACK_OK) {
      st = cashback__options_fail(o, st, "%s:%zu: %s", origin, line, tmp.error);
      break;
    }
  }
  if (st == CASHBACK_OK)
    memcpy(o, &tmp, sizeof(tmp));
  cashback__wipe(&tmp, sizeof(tmp));
  cashback__wipe(value, sizeof(value));
  return st;
}

/* ------------------------------------------------------------------------
 * Connection string
 * --------------------------------------------------------------------- */

static const char CONN_PREFIX[] = "cashback:";
#define CONN_PREFIX_LEN (sizeof(CONN_PREFIX) - 1)

cashback_status cashback__config_parse_connection(cashback_options *o,
                                                  const char *s, size_t len) {
  if (len > CONFIG_TEXT_MAX)
    return cashback__options_fail(o, CASHBACK_E_TOO_BIG,
                                  "connection string: larger than %d bytes",
                                  CONFIG_TEXT_MAX);
  cashback__pairs_trim(&s, &len);
  if (!cashback__ascii_iprefix(s, len, CONN_PREFIX))
    return cashback__options_fail(
        o, CASHBACK_E_CONFIG, "connection string: must start with 'cashback:'");
  s += CONN_PREFIX_LEN;
  len -= CONN_PREFIX_LEN;
  cashback_options tmp;
  char key[CONFIG_KEY_MAX + 1];
  char value[CONFIG_VALUE_MAX + 1];
  cashback_status st = CASHBACK_OK;
  memcpy(&tmp, o, sizeof(tmp));

  cashback__pairs it;
  cashback__pair pr;
  cashback__pairs_init(&it, s, len);
  while (st == CASHBACK_OK && cashback__pairs_next(&it, &pr)) {
    /* The pair is not echoed: it may be a secret missing its "secret=". */
    const char *k = pr.key;
    size_t klen = pr.key_len, pair = pr.index;
    if (!pr.eq || klen == 0) {
      st = cashback__options_fail(o, CASHBACK_E_CONFIG,
                                  "connection string: pair %zu: expected "
                                  "key=value",
                                  pair);
      break;
    }
    if (memchr(k, '\0', klen)) {
      st = cashback__options_fail(o, CASHBACK_E_CONFIG,
                                  "connection string: pair %zu: the key "
                                  "contains a NUL byte",
                                  pair);
      break;
    }
    /* Named only once known: an unknown one may be a secret (cut before its
     * base64 padding '='), and is named by its position. */
    if (!cashback__options_key_known(k, klen)) {
      char shown[160];
      st = cashback__options_fail(
          o, CASHBACK_E_CONFIG, "connection string: pair %zu: unknown key %s",
          pair, cashback__options_key_shown(k, klen, shown, sizeof(shown)));
      break;
    }
    key_copy(k, klen, key);
    size_t out;
    switch (cashback__pairs_decode(pr.value, pr.value_len, value,
                                   CONFIG_VALUE_MAX, &out)) {
    case CASHBACK__PAIRS_OK:
      break;
    case CASHBACK__PAIRS_BAD_ESCAPE:
      st = cashback__options_fail(
          o, CASHBACK_E_CONFIG,
          "connection string: %s: bad percent-encoding ('%%' must be "
          "followed by two hex digits)",
          key);
      break;
    case CASHBACK__PAIRS_NUL:
      st = cashback__options_fail(o, CASHBACK_E_CONFIG,
                                  "connection string: %s: the value "
                                  "contains a NUL byte",
                                  key);
      break;
    case CASHBACK__PAIRS_TOO_LONG:
      st = cashback__options_fail(o, CASHBACK_E_CONFIG,
                                  "connection string: %s: value longer "
                                  "than %d bytes",
                                  key, CONFIG_VALUE_MAX);
      break;
    }
    if (st != CASHBACK_OK)
      break;
    st = cashback_options_set(&tmp, key, value);
    if (st != CASHBACK_OK)
      st = cashback__options_fail(o, st, "connection string: %s", tmp.error);
  }
  if (st == CASHBACK_OK)
    memcpy(o, &tmp, sizeof(tmp));
  cashback__wipe(&tmp, sizeof(tmp));
  cashback__wipe(value, sizeof(value));
  return st;
}

/* ------------------------------------------------------------------------
 * Public loaders
 * --------------------------------------------------------------------- */

/* Reads `path` (at most CONFIG_TEXT_MAX bytes) and applies it to `o`, all or
 * nothing. */
static cashback_status load_file_into(cashback_options *o, const char *path) {
  char ebuf[CASHBACK_ERROR_MAX + 1];
  int fd;
  /* The one rule for files holding a secret (owner, mode, regular file). */
  cashback_status opened =
      cashback_secret_file_open(path, &fd, ebuf, sizeof(ebuf));
  if (opened != CASHBACK_OK)
    return cashback__options_fail(o, opened, "%s", ebuf);
  /* One byte more than allowed, to tell "exactly the cap" from "more". */
  char *buf = malloc(CONFIG_TEXT_MAX + 1);
  if (!buf) {
    close(fd);
    return cashback__options_fail(o, CASHBACK_E_NOMEM,
                                  "out of memory reading '%s'", path);
  }
  size_t total = 0;
  cashback_status st = CASHBACK_OK;
  while (total < CONFIG_TEXT_MAX + 1) {
    ssize_t n = read(fd, buf + total, CONFIG_TEXT_MAX + 1 - total);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0) {
      int e = errno;
      st =
          cashback__options_fail(o, CASHBACK_E_IO, "cannot read '%s': %s", path,
                                 cashback__errtext(e, ebuf, sizeof(ebuf)));
      break;
    }
    if (n == 0)
      break;
    total += (size_t)n;
  }
  close(fd);
  if (st == CASHBACK_OK && total > CONFIG_TEXT_MAX)
    st = cashback__options_fail(o, CASHBACK_E_TOO_BIG,
                                "%s: larger than %d bytes", path,
                                CONFIG_TEXT_MAX);
  if (st == CASHBACK_OK)
    st = cashback__config_parse_text(o, buf, total, path);
  cashback__wipe(buf, total);
  free(buf);
  return st;
}

cashback_status cashback_options_load_file(cashback_options *opts,
                                           const char *path) {
  if (!opts)
    return CASHBACK_E_INVALID_ARGUMENT;
  if (!path)
    return cashback__options_fail(opts, CASHBACK_E_INVALID_ARGUMENT,
                                  "config file: the path is NULL");
  return load_file_into(opts, path);
}

cashback_status
cashback_options_load_connection_string_n(cashback_options *opts,
                                          const char *connection, size_t len) {
  if (!opts)
    return CASHBACK_E_INVALID_ARGUMENT;
  if (!connection)
    return cashback__options_fail(opts, CASHBACK_E_INVALID_ARGUMENT,
                                  "connection string: NULL");
  return cashback__config_parse_connection(opts, connection, len);
}

cashback_status
cashback_options_load_connection_string(cashback_options *opts,
                                        const char *connection) {
  return cashback_options_load_connection_string_n(
      opts, connection, connection ? strlen(connection) : 0);
}

cashback_status cashback_options_load_connection_env(cashback_options *opts,
                                                     const char *name) {
  if (!opts)
    return CASHBACK_E_INVALID_ARGUMENT;
  if (!name || !name[0])
    return cashback__options_fail(opts, CASHBACK_E_INVALID_ARGUMENT,
                                  "connection variable: no name given");
  const char *v = getenv(name);
  if (!v || !v[0])
    return cashback__options_fail(opts, CASHBACK_E_CONFIG,
                                  "%s: the variable is not set (or empty)",
                                  name);
  /* All or nothing, as every loader. */
  cashback_options tmp;
  memcpy(&tmp, opts, sizeof(tmp));
  cashback_status st = cashback__config_parse_connection(&tmp, v, strlen(v));
  if (st != CASHBACK_OK)
    st = cashback__options_fail(opts, st, "%s: %s", name, tmp.error);
  else
    memcpy(opts, &tmp, sizeof(tmp));
  cashback__wipe(&tmp, sizeof(tmp));
  return st;
}

cashback_status cashback_options_load_env(cashback_options *opts) {
  if (!opts)
    return CASHBACK_E_INVALID_ARGUMENT;
  cashback_options tmp;
  cashback_status st = CASHBACK_OK;
  memcpy(&tmp, opts, sizeof(tmp));

  const char *v = getenv("CASHBACK_CONFIG");
  if (v && v[0] != '\0') {
    st = load_file_into(&tmp, v);
    if (st != CASHBACK_OK)
      st = cashback__options_fail(opts, st, "CASHBACK_CONFIG: %s", tmp.error);
  }
  v = getenv("CASHBACK_CONNECTION");
  if (st == CASHBACK_OK && v && v[0] != '\0') {
    st = cashback__config_parse_connection(&tmp, v, strlen(v));
    if (st != CASHBACK_OK)
      st = cashback__options_fail(opts, st, "CASHBACK_CONNECTION: %s",
                                  tmp.error);
  }
  /* Every text key of cashback_options_set(), in the table's order. */
  const char *key;
  for (size_t i = 0; st == CASHBACK_OK && (key = cashback__options_key(i));
       i++) {
    char name[CONFIG_KEY_MAX + 16] = "CASHBACK_";
    size_t n = strlen(name);
    for (const char *k = key; *k && n + 1 < sizeof(name); k++)
      name[n++] = (*k >= 'a' && *k <= 'z') ? (char)(*k - 'a' + 'A') : *k;
    name[n] = '\0';
    v = getenv(name);
    if (!v)
      continue;
    st = cashback_options_set(&tmp, key, v);
    if (st != CASHBACK_OK)
      st = cashback__options_fail(opts, st, "%s: %s", name, tmp.error);
  }
  if (st == CASHBACK_OK)
    memcpy(opts, &tmp, sizeof(tmp));
  cashback__wipe(&tmp, sizeof(tmp));
  return st;
}
