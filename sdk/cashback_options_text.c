/* The text keys: the single table that the config file, the environment
 * and the connection string share (cashback_options_set()), each key's
 * parser from text to a typed setter, and how an unknown key is named in
 * an error. Each parser takes `value` (NUL-terminated, `len` bytes) and
 * writes only after it is valid. */
#include "cashback_ascii.h"
#include "cashback_crypto.h"
#include "cashback_options.h"
#include "cashback_sign.h"
#include "cashback_time.h"
#include "cashback_url.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static cashback_status text_window(cashback_options *o, const char *v,
                                   size_t len) {
  int64_t seconds = 0;
  if (cashback__duration_parse(v, len, &seconds) != CASHBACK_OK)
    return cashback__options_fail(
        o, CASHBACK_E_CONFIG,
        "attribution_window: must be a duration such as '30d', '720h' or "
        "'2592000' (seconds)");
  return cashback_options_set_attribution_window(o, seconds);
}

static cashback_status text_log_level(cashback_options *o, const char *v,
                                      size_t len) {
  static const struct {
    const char *name;
    cashback_log_level level;
  } levels[] = {{"debug", CASHBACK_LOG_DEBUG},
                {"info", CASHBACK_LOG_INFO},
                {"warn", CASHBACK_LOG_WARN},
                {"warning", CASHBACK_LOG_WARN},
                {"error", CASHBACK_LOG_ERROR}};
  for (size_t i = 0; i < sizeof(levels) / sizeof(levels[0]); i++)
    if (cashback__ascii_ieq(v, len, levels[i].name)) {
      o->log_min = levels[i].level;
      return CASHBACK_OK;
    }
  return cashback__options_fail(
      o, CASHBACK_E_CONFIG, "log_level: must be debug, info, warn or error");
}

static cashback_status text_durability(cashback_options *o, const char *v,
                                       size_t len) {
  if (cashback__ascii_ieq(v, len, "sync"))
    return cashback_options_set_durability(o, CASHBACK_DURABLE_SYNC);
  if (cashback__ascii_ieq(v, len, "process"))
    return cashback_options_set_durability(o, CASHBACK_DURABLE_PROCESS);
  return cashback__options_fail(o, CASHBACK_E_CONFIG,
                                "durability: must be sync or process");
}

/* "1048576", "64k", "512m", "1g" (binary multiples). */
static int parse_size(const char *v, size_t len, uint64_t *out) {
  uint64_t n = 0, mult = 1;
  size_t i = 0;
  for (; i < len && v[i] >= '0' && v[i] <= '9'; i++) {
    if (n > (UINT64_MAX - 9) / 10)
      return -1;
    n = n * 10 + (uint64_t)(v[i] - '0');
  }
  if (i == 0)
    return -1;
  if (i + 1 == len) {
    switch (v[i] | 0x20) {
    case 'k':
      mult = UINT64_C(1) << 10;
      break;
    case 'm':
      mult = UINT64_C(1) << 20;
      break;
    case 'g':
      mult = UINT64_C(1) << 30;
      break;
    default:
      return -1;
    }
  } else if (i != len) {
    return -1;
  }
  if (n > UINT64_MAX / mult)
    return -1;
  *out = n * mult;
  return 0;
}

/* The ledger's bound on orders: 0 (no ledger) to 10000000. */
static cashback_status text_ledger_orders(cashback_options *o, const char *v,
                                          size_t len) {
  uint64_t n;
  if (parse_size(v, len, &n) != 0 || n > CASHBACK__LEDGER_ORDERS_OPTION_MAX)
    return cashback__options_fail(
        o, CASHBACK_E_CONFIG,
        "ledger_max_orders: must be 0 (no ledger) to 10000000");
  o->ledger_max_orders = (size_t)n;
  return CASHBACK_OK;
}

/* A duration in milliseconds: "250ms", or one cashback__duration_parse()
 * takes ("30s", "10m"). */
static int parse_ms(const char *v, size_t len, int64_t *ms) {
  if (len > 2 && v[len - 2] == 'm' && v[len - 1] == 's') {
    int64_t n;
    if (cashback__duration_parse(v, len - 2, &n) != CASHBACK_OK)
      return -1; /* digits only: a bare number is seconds, so n is ms */
    *ms = n;
    return 0;
  }
  int64_t s;
  if (cashback__duration_parse(v, len, &s) != CASHBACK_OK ||
      s > INT64_MAX / 1000)
    return -1;
  *ms = s * 1000;
  return 0;
}

static cashback_status text_insecure(cashback_options *o, const char *v,
                                     size_t len) {
  static const char *const yes[] = {"1", "true", "yes", "on"};
  static const char *const no[] = {"0", "false", "no", "off"};
  for (size_t i = 0; i < 4; i++) {
    if (cashback__ascii_ieq(v, len, yes[i]))
      return cashback_options_set_allow_insecure_http(o, 1);
    if (cashback__ascii_ieq(v, len, no[i]))
      return cashback_options_set_allow_insecure_http(o, 0);
  }
  return cashback__options_fail(o, CASHBACK_E_CONFIG,
                                "allow_insecure_http: must be true or false");
}

/* The delivery profile's name (docs/networks.md). */
static cashback_status text_profile(cashback_options *o, const char *v,
                                    size_t len) {
  static const struct {
    const char *name;
    cashback__profile_kind kind;
  } names[] = {{"libcashback", CASHBACK__PROFILE_BUILTIN},
               {"awin", CASHBACK__PROFILE_AWIN},
               {"impact", CASHBACK__PROFILE_IMPACT}};
  for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
    if (cashback__ascii_ieq(v, len, names[i].name)) {
      o->profile = names[i].kind;
      return CASHBACK_OK;
    }
  return cashback__options_fail(o, CASHBACK_E_CONFIG,
                                "profile: must be libcashback, awin or impact");
}

static cashback_status text_send_test(cashback_options *o, const char *v,
                                      size_t len) {
  if (cashback__ascii_ieq(v, len, "1") || cashback__ascii_ieq(v, len, "true"))
    o->impact_send_test = 1;
  else if (cashback__ascii_ieq(v, len, "0") ||
           cashback__ascii_ieq(v, len, "false"))
    o->impact_send_test = 0;
  else
    return cashback__options_fail(o, CASHBACK_E_CONFIG,
                                  "impact_send_test: must be 1 or 0");
  return CASHBACK_OK;
}

/* A profile's field (TEXT_FIELD): what its value must be. */
typedef enum field_rule {
  FIELD_DIGITS,     /* a network's numeric id: 1-20 digits */
  FIELD_ID,         /* 1-64 of [A-Za-z0-9._-] */
  FIELD_CREDENTIAL, /* a secret: 1-2048 printable, no space, ';' or '#' */
  FIELD_URL         /* a base URL, as the endpoint's rule */
} field_rule;

/* 1 when `v` (`len` bytes) follows `rule`. */
static int field_valid(field_rule rule, const char *v, size_t len, char *why,
                       size_t why_size) {
  switch (rule) {
  case FIELD_DIGITS:
    if (len < 1 || len > CASHBACK__DIGITS_MAX)
      return 0;
    for (size_t i = 0; i < len; i++)
      if (v[i] < '0' || v[i] > '9')
        return 0;
    return 1;
  case FIELD_ID:
    return cashback__id_valid(v, len);
  case FIELD_CREDENTIAL:
    if (len < 1 || len > CASHBACK__CREDENTIAL_MAX)
      return 0;
    for (size_t i = 0; i < len; i++)
      if (v[i] <= ' ' || v[i] > '~' || v[i] == ';' || v[i] == '#')
        return 0;
    return 1;
  case FIELD_URL: {
    int plain_remote;
    return len <= CASHBACK__ENDPOINT_MAX &&
           cashback__url_check(v, len, &plain_remote, why, why_size) == 0;
  }
  }
  return 0;
}

/* How a key's text becomes a setting. */
typedef enum text_kind {
  TEXT_STRING,   /* as written, to `string` */
  TEXT_KEY_PART, /* one half of a signing key: `part` */
  TEXT_MS,       /* a duration in ms (parse_ms), to `ms` */
  TEXT_SIZE,     /* a size (parse_size) of at most `max`, to `size` */
  TEXT_FIELD,    /* a profile's text field at offset `off` (`cap` bytes),
                    by `field` (field_rule); empty: unset */
  TEXT_OWN       /* its own parser, `own` */
} text_kind;

/* Where a TEXT_MS or TEXT_SIZE value goes: to a setter of one value
 * (`one`), or to one of a pair (`pair`): the key's `slot` (0 or 1); the
 * other keeps the value stored at offset `first` or `second` of the
 * options. */
typedef struct text_ms {
  cashback_status (*one)(cashback_options *o, int64_t ms);
  cashback_status (*pair)(cashback_options *o, int64_t a, int64_t b);
  size_t first, second;
} text_ms;

typedef struct text_size {
  cashback_status (*one)(cashback_options *o, uint64_t n);
  cashback_status (*pair)(cashback_options *o, size_t a, size_t b);
  size_t first, second;
} text_size;

static const text_ms text_timeouts = {
    .pair = cashback_options_set_timeouts,
    .first = offsetof(cashback_options, connect_timeout_ms),
    .second = offsetof(cashback_options, total_timeout_ms)};
static const text_ms text_backoff = {
    .pair = cashback_options_set_backoff,
    .first = offsetof(cashback_options, backoff_base_ms),
    .second = offsetof(cashback_options, backoff_cap_ms)};
static const text_ms text_followup = {.one =
                                          cashback_options_set_followup_wait};
static const text_ms text_linger = {.one = cashback_options_set_linger};
static const text_size text_batch = {
    .pair = cashback_options_set_batch,
    .first = offsetof(cashback_options, batch_max_events),
    .second = offsetof(cashback_options, batch_max_bytes)};
static const text_size text_spool_max = {
    .one = cashback_options_set_spool_max_bytes};

/* One text key. `raise`: a new first value of a pair above the second one
 * raises the second too (backoff_max follows backoff_base). `rule`: a
 * TEXT_SIZE value's error, after "<key>: ". */
typedef struct text_key {
  const char *key;
  text_kind kind;
  cashback_status (*string)(cashback_options *o, const char *v);
  cashback__key_part part;
  const text_ms *ms;
  const text_size *size;
  int slot, raise;
  uint64_t max;
  const char *rule;
  cashback_status (*own)(cashback_options *o, const char *v, size_t len);
  size_t off, cap;
  field_rule field;
} text_key;

#define FIELD(name, rule)                                                      \
  {                                                                            \
#name, TEXT_FIELD, .off = offsetof(cashback_options, name),                \
                       .cap = sizeof(((cashback_options *)0)->name),           \
                       .field = rule                                           \
  }

static const text_key text_keys[] = {
    {"merchant_id", TEXT_STRING, .string = cashback_options_set_merchant_id},
    {"key_id", TEXT_KEY_PART, .part = CASHBACK__KEY_ID},
    {"secret", TEXT_KEY_PART, .part = CASHBACK__SECRET},
    {"next_key_id", TEXT_KEY_PART, .part = CASHBACK__NEXT_KEY_ID},
    {"next_secret", TEXT_KEY_PART, .part = CASHBACK__NEXT_SECRET},
    {"cookie_secret", TEXT_STRING,
     .string = cashback_options_set_cookie_secret},
    {"endpoint", TEXT_STRING, .string = cashback_options_set_endpoint},
    {"landing_params", TEXT_STRING,
     .string = cashback_options_set_landing_params},
    {"cookie_name", TEXT_STRING, .string = cashback_options_set_cookie_name},
    {"cookie_domain", TEXT_STRING,
     .string = cashback_options_set_cookie_domain},
    {"attribution_window", TEXT_OWN, .own = text_window},
    {"log_level", TEXT_OWN, .own = text_log_level},
    {"spool_dir", TEXT_STRING, .string = cashback_options_set_spool_dir},
    {"durability", TEXT_OWN, .own = text_durability},
    {"spool_max_bytes", TEXT_SIZE, .size = &text_spool_max, .max = UINT64_MAX,
     .rule = "must be a size such as '1g', '512m' or '65536'"},
    {"batch_max_events", TEXT_SIZE, .size = &text_batch, .slot = 0, .max = 1000,
     .rule = "must be 1 to 1000"},
    {"batch_max_bytes", TEXT_SIZE, .size = &text_batch, .slot = 1,
     .max = 4u << 20, .rule = "must be 64 KiB to 4 MiB"},
    {"connect_timeout", TEXT_MS, .ms = &text_timeouts, .slot = 0},
    {"request_timeout", TEXT_MS, .ms = &text_timeouts, .slot = 1},
    {"backoff_base", TEXT_MS, .ms = &text_backoff, .slot = 0, .raise = 1},
    {"backoff_max", TEXT_MS, .ms = &text_backoff, .slot = 1},
    {"followup_wait", TEXT_MS, .ms = &text_followup},
    {"linger", TEXT_MS, .ms = &text_linger},
    {"ledger_max_orders", TEXT_OWN, .own = text_ledger_orders},
    {"allow_insecure_http", TEXT_OWN, .own = text_insecure},
    {"ca_file", TEXT_STRING, .string = cashback_options_set_ca_file},
    {"profile", TEXT_OWN, .own = text_profile},
    FIELD(awin_advertiser_id, FIELD_DIGITS),
    FIELD(awin_api_key, FIELD_CREDENTIAL),
    FIELD(awin_api_token, FIELD_CREDENTIAL),
    FIELD(awin_commission_group, FIELD_ID),
    FIELD(awin_base_url, FIELD_URL),
    FIELD(impact_account_sid, FIELD_ID),
    FIELD(impact_auth_token, FIELD_CREDENTIAL),
    FIELD(impact_campaign_id, FIELD_DIGITS),
    FIELD(impact_action_tracker_id, FIELD_DIGITS),
    {"impact_send_test", TEXT_OWN, .own = text_send_test},
    FIELD(impact_base_url, FIELD_URL),
};

/* A profile's field: validated, then stored (an empty value unsets it).
 * A credential's value is never echoed. */
static cashback_status text_set_field(cashback_options *o, const text_key *k,
                                      const char *v, size_t len) {
  char *field = (char *)o + k->off;
  char why[160] = "";
  if (len > 0 &&
      (len >= k->cap || !field_valid(k->field, v, len, why, sizeof(why)))) {
    static const char *const rules[] = {
        "must be 1-20 digits", "must be 1-64 of [A-Za-z0-9._-]",
        "must be 1-2048 printable ASCII characters without space, ';' or '#'",
        "must be an http(s) URL"};
    return cashback__options_fail(o, CASHBACK_E_CONFIG, "%s: %s%s%s", k->key,
                                  rules[k->field], why[0] ? ": " : "", why);
  }
  cashback__wipe(field, k->cap);
  memcpy(field, v, len);
  return CASHBACK_OK;
}

/* The value stored at `offset` of `o` (an int64_t, a size_t). */
static int64_t stored_ms(const cashback_options *o, size_t offset) {
  int64_t v;
  memcpy(&v, (const char *)o + offset, sizeof(v));
  return v;
}

static size_t stored_size(const cashback_options *o, size_t offset) {
  size_t v;
  memcpy(&v, (const char *)o + offset, sizeof(v));
  return v;
}

static cashback_status text_set_ms(cashback_options *o, const text_key *k,
                                   const char *v, size_t len) {
  int64_t ms;
  if (parse_ms(v, len, &ms) != 0)
    return cashback__options_fail(
        o, CASHBACK_E_CONFIG,
        "%s: must be a duration such as '500ms', '10s' or '5m'", k->key);
  if (k->ms->one)
    return k->ms->one(o, ms);
  int64_t pair[2] = {stored_ms(o, k->ms->first), stored_ms(o, k->ms->second)};
  pair[k->slot] = ms;
  if (k->raise && pair[1] < pair[0])
    pair[1] = pair[0];
  return k->ms->pair(o, pair[0], pair[1]);
}

static cashback_status text_set_size(cashback_options *o, const text_key *k,
                                     const char *v, size_t len) {
  uint64_t n;
  if (parse_size(v, len, &n) != 0 || n > k->max)
    return cashback__options_fail(o, CASHBACK_E_CONFIG, "%s: %s", k->key,
                                  k->rule);
  if (k->size->one)
    return k->size->one(o, n);
  size_t pair[2] = {stored_size(o, k->size->first),
                    stored_size(o, k->size->second)};
  pair[k->slot] = (size_t)n;
  return k->size->pair(o, pair[0], pair[1]);
}

/* Applies `v` (`len` bytes, NUL-terminated) to the key `k`. */
static cashback_status text_set(cashback_options *o, const text_key *k,
                                const char *v, size_t len) {
  switch (k->kind) {
  case TEXT_STRING:
    return k->string(o, v);
  case TEXT_KEY_PART:
    return cashback__options_set_key_part(o, k->part, v, len);
  case TEXT_MS:
    return text_set_ms(o, k, v, len);
  case TEXT_SIZE:
    return text_set_size(o, k, v, len);
  case TEXT_FIELD:
    return text_set_field(o, k, v, len);
  case TEXT_OWN:
    break;
  }
  return k->own(o, v, len);
}

const char *cashback__options_key(size_t i) {
  return i < sizeof(text_keys) / sizeof(text_keys[0]) ? text_keys[i].key : NULL;
}

int cashback__options_key_known(const char *k, size_t len) {
  for (size_t i = 0; i < sizeof(text_keys) / sizeof(text_keys[0]); i++)
    if (strlen(text_keys[i].key) == len &&
        memcmp(text_keys[i].key, k, len) == 0)
      return 1;
  return 0;
}

/* Levenshtein distance of `a` (`n` bytes) and `b`, both at most 64. */
static size_t distance(const char *a, size_t n, const char *b) {
  size_t m = strlen(b), row[65];
  for (size_t j = 0; j <= m; j++)
    row[j] = j;
  for (size_t i = 1; i <= n; i++) {
    size_t diag = row[0];
    row[0] = i;
    for (size_t j = 1; j <= m; j++) {
      size_t up = row[j];
      size_t best = diag + (a[i - 1] != b[j - 1]);
      if (up + 1 < best)
        best = up + 1;
      if (row[j - 1] + 1 < best)
        best = row[j - 1] + 1;
      row[j] = best;
      diag = up;
    }
  }
  return row[m];
}

const char *cashback__options_key_shown(const char *k, size_t len, char *buf,
                                        size_t size) {
  /* Shorter than any secret (16 or more): never a secret. */
  int name = len >= 1 && len < 16;
  for (size_t i = 0; name && i < len; i++)
    name = (k[i] >= 'a' && k[i] <= 'z') || k[i] == '_';
  /* The nearest key of ours, case and blanks aside: named, not theirs. */
  char norm[65];
  size_t nn = 0;
  for (size_t i = 0; i < len && nn < sizeof(norm) - 1; i++)
    if (k[i] != ' ' && k[i] != '\t')
      norm[nn++] = (char)cashback__ascii_lower((unsigned char)k[i]);
  const char *like = NULL;
  size_t best = 3; /* at most 2 edits */
  for (size_t i = 0; len <= 64 && i < sizeof(text_keys) / sizeof(text_keys[0]);
       i++) {
    size_t d = distance(norm, nn, text_keys[i].key);
    if (d < best) {
      best = d;
      like = text_keys[i].key;
    }
  }
  char hint[64] = "";
  if (like)
    snprintf(hint, sizeof(hint), "; did you mean '%s'?", like);
  if (name)
    snprintf(buf, size, "'%.*s'%s%s%s", (int)len, k, like ? " (" : "",
             like ? hint + 2 : "", like ? ")" : "");
  else if (len == 0)
    snprintf(buf, size, "'' (empty)");
  else
    snprintf(buf, size,
             "of %zu characters (not shown: it may be a value written "
             "without its key%s)",
             len, hint);
  return buf;
}

cashback_status cashback_options_set_n(cashback_options *opts, const char *key,
                                       size_t key_len, const char *value,
                                       size_t value_len) {
  if (!opts)
    return CASHBACK_E_INVALID_ARGUMENT;
  if (!key)
    return cashback__options_null(opts, "key");
  size_t i = 0, n = sizeof(text_keys) / sizeof(text_keys[0]);
  while (i < n && !(strlen(text_keys[i].key) == key_len &&
                    memcmp(text_keys[i].key, key, key_len) == 0))
    i++;
  if (i == n) {
    char shown[160];
    if (memchr(key, '\0', key_len))
      return cashback__options_fail(opts, CASHBACK_E_CONFIG,
                                    "the key contains a NUL byte");
    return cashback__options_fail(
        opts, CASHBACK_E_CONFIG, "unknown key %s",
        cashback__options_key_shown(key, key_len, shown, sizeof(shown)));
  }
  const char *name = text_keys[i].key;
  if (!value)
    return cashback__options_null(opts, name);
  /* The length first: a wrong length is refused before a byte past the
   * cap is read. */
  if (value_len > CASHBACK__OPTION_VALUE_MAX)
    return cashback__options_fail(opts, CASHBACK_E_CONFIG,
                                  "%s: value longer than %d bytes", name,
                                  CASHBACK__OPTION_VALUE_MAX);
  /* Never cut at a NUL: "secret\0..." is not the secret "secret". */
  if (memchr(value, '\0', value_len))
    return cashback__options_fail(opts, CASHBACK_E_CONFIG,
                                  "%s: the value contains a NUL byte", name);
  /* The parsers take NUL-terminated text: a copy, wiped after (it may be a
   * secret). */
  char *copy = malloc(value_len + 1);
  if (!copy)
    return cashback__options_fail(opts, CASHBACK_E_NOMEM, "%s: out of memory",
                                  name);
  memcpy(copy, value, value_len);
  copy[value_len] = '\0';
  cashback_status st = text_set(opts, &text_keys[i], copy, value_len);
  cashback__wipe(copy, value_len);
  free(copy);
  return st;
}

cashback_status cashback_options_set(cashback_options *opts, const char *key,
                                     const char *value) {
  return cashback_options_set_n(opts, key, key ? strlen(key) : 0, value,
                                value ? strlen(value) : 0);
}
