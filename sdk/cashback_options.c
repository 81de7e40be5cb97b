/* The options object: defaults, the typed setters with their validation, and
 * the check that a client's options are complete. Every setter validates
 * before it writes, so a failure leaves the options unchanged except for the
 * error detail. The text keys (config file, environment, connection string)
 * are in cashback_options_text.c, the '@network' presets in
 * cashback_presets.c, the endpoint URL rule in cashback_url.c. */
#include "cashback_options.h"
#include "cashback_ascii.h"
#include "cashback_crypto.h"
#include "cashback_presets.h"
#include "cashback_sign.h"
#include "cashback_text.h"
#include "cashback_time.h"
#include "cashback_url.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define ID_RULE "must be 1-64 of [A-Za-z0-9._-]"
#define SECRET_RULE                                                            \
  "must be 16-256 printable ASCII characters without space, ';' or '#'"

/* ------------------------------------------------------------------------
 * Small helpers
 * --------------------------------------------------------------------- */

/* Copies a string that is known to fit into a fixed field, zeroing the rest
 * (so no stale secret bytes stay behind a shorter value). */
static void field_set(char *field, size_t field_size, const char *s,
                      size_t len) {
  memset(field, 0, field_size);
  memcpy(field, s, len);
}

/* A printable, truncated copy of untrusted text (a key or a name the user
 * gave) in `out`, for an error detail (cashback_text.h). Never used for
 * values that may be secrets. */
static const char *printable(const char *s, size_t len, char *out,
                             size_t size) {
  cashback__printable(out, size, s, len);
  return out;
}

/* RFC 6265 cookie-name: an RFC 2616 token (no CTL, no separator). */
static int cookie_token_char(unsigned char c) {
  if (c <= 0x20 || c >= 0x7f)
    return 0;
  return strchr("()<>@,;:\\\"/[]?={}", c) == NULL;
}

/* ------------------------------------------------------------------------
 * Internal interface
 * --------------------------------------------------------------------- */

void cashback__options_defaults(cashback_options *o) {
  memset(o, 0, sizeof(*o));
  field_set(o->landing[0], sizeof(o->landing[0]), "cb_click", 8);
  o->n_landing = 1;
  field_set(o->cookie_name, sizeof(o->cookie_name), "cashback_click", 14);
  o->window = CASHBACK__WINDOW_DEFAULT;
  o->log_fn = NULL;
  o->log_userdata = NULL;
  o->log_min = CASHBACK_LOG_WARN;
  o->clock_fn = NULL;
  o->clock_userdata = NULL;
  o->durability = CASHBACK_DURABLE_SYNC;
  o->spool_max_bytes = UINT64_C(1) << 30;
  o->batch_max_events = 500;
  o->batch_max_bytes = 1u << 20;
  o->connect_timeout_ms = 10000;
  o->total_timeout_ms = 30000;
  o->backoff_base_ms = 1000;
  o->backoff_cap_ms = 600000;
  o->followup_wait_ms = INT64_C(72) * 3600 * 1000;
  o->linger_ms = CASHBACK__LINGER_DEFAULT_MS;
  o->ledger_max_orders = CASHBACK__LEDGER_ORDERS_OPTION_DEFAULT;
}

cashback_status cashback__options_fail(cashback_options *o, cashback_status st,
                                       const char *fmt, ...) {
  /* Callers may pass o->error itself as an argument (e.g. to add a
   * prefix): cashback__vprintablef() formats into a buffer of its own
   * first. */
  va_list ap;
  va_start(ap, fmt);
  cashback__vprintablef(o->error, sizeof(o->error), fmt, ap);
  va_end(ap);
  return st;
}

/* ca_file, when set: checked here so that a wrong path fails the client's
 * creation, not every later delivery. */
static cashback_status check_ca_file(cashback_options *o) {
  int fd = open(o->ca_file, O_RDONLY | O_CLOEXEC | O_NOCTTY);
  int e = errno;
  struct stat sb;
  if (fd >= 0 && fstat(fd, &sb) == 0 && !S_ISREG(sb.st_mode)) {
    close(fd);
    return cashback__options_fail(o, CASHBACK_E_CONFIG,
                                  "ca_file: '%s' is not a regular file",
                                  o->ca_file);
  }
  if (fd < 0) {
    char eb[128];
    return cashback__options_fail(o, CASHBACK_E_CONFIG,
                                  "ca_file: cannot read '%s': %s", o->ca_file,
                                  cashback__errtext(e, eb, sizeof(eb)));
  }
  close(fd);
  return CASHBACK_OK;
}

/* A delivery profile's keys (docs/networks.md): the ones it needs, and its
 * base URL under the endpoint's rule. */
static cashback_status check_profile(cashback_options *o) {
  const char *missing = NULL, *url = NULL, *url_key = NULL;
  if (o->profile == CASHBACK__PROFILE_AWIN) {
    missing = !o->awin_advertiser_id[0] ? "awin_advertiser_id"
              : !o->awin_api_key[0]     ? "awin_api_key"
              : !o->awin_api_token[0]   ? "awin_api_token"
                                        : NULL;
    url = o->awin_base_url;
    url_key = "awin_base_url";
  } else {
    missing = !o->impact_account_sid[0]         ? "impact_account_sid"
              : !o->impact_auth_token[0]        ? "impact_auth_token"
              : !o->impact_campaign_id[0]       ? "impact_campaign_id"
              : !o->impact_action_tracker_id[0] ? "impact_action_tracker_id"
                                                : NULL;
    url = o->impact_base_url;
    url_key = "impact_base_url";
  }
  /* The click cookies are signed by cookie_secret, else by the signing
   * secret: one of them, never a key derived from nothing. */
  if (!missing && !o->cookie_secret[0] && !o->key.secret[0])
    missing = "cookie_secret";
  if (missing)
    return cashback__options_fail(
        o, CASHBACK_E_CONFIG, "missing required key '%s' (profile=%s)", missing,
        o->profile == CASHBACK__PROFILE_AWIN ? "awin" : "impact");
  if (url[0] &&
      !cashback__url_allowed(url, strlen(url), o->allow_insecure_http))
    return cashback__options_fail(
        o, CASHBACK_E_CONFIG,
        "%s: plain http:// is only allowed to a loopback host (set "
        "allow_insecure_http to override)",
        url_key);
  return CASHBACK_OK;
}

cashback_status cashback__options_check(cashback_options *o) {
  const char *missing = NULL;
  if (o->merchant_id[0] == '\0')
    missing = "merchant_id";
  else if (o->profile != CASHBACK__PROFILE_BUILTIN)
    missing = NULL; /* no libcashback key or endpoint: the profile's own */
  else if (o->key.id[0] == '\0')
    missing = "key_id";
  else if (o->key.secret[0] == '\0')
    missing = "secret";
  else if (o->endpoint[0] == '\0')
    missing = "endpoint";
  if (missing)
    return cashback__options_fail(o, CASHBACK_E_CONFIG,
                                  "missing required key '%s'", missing);
  if (o->next_key.id[0] != '\0' && o->next_key.secret[0] == '\0')
    return cashback__options_fail(
        o, CASHBACK_E_CONFIG, "missing key 'next_secret' (next_key_id is set)");
  if (o->next_key.id[0] == '\0' && o->next_key.secret[0] != '\0')
    return cashback__options_fail(
        o, CASHBACK_E_CONFIG, "missing key 'next_key_id' (next_secret is set)");
  if (o->profile != CASHBACK__PROFILE_BUILTIN) {
    cashback_status pst = check_profile(o);
    if (pst != CASHBACK_OK)
      return pst;
  } else if (!cashback__url_allowed(o->endpoint, strlen(o->endpoint),
                                    o->allow_insecure_http))
    return cashback__options_fail(
        o, CASHBACK_E_CONFIG,
        "endpoint: plain http:// is only allowed to a loopback host "
        "(set allow_insecure_http to override)");
  if (o->next_key.id[0] != '\0' && strcmp(o->next_key.id, o->key.id) == 0)
    return cashback__options_fail(o, CASHBACK_E_CONFIG,
                                  "next_key_id: must differ from key_id");
  /* Browsers drop a __Host- cookie that has a Domain attribute. */
  if (cashback__ascii_iprefix(o->cookie_name, strlen(o->cookie_name),
                              "__Host-") &&
      o->cookie_domain[0] != '\0')
    return cashback__options_fail(
        o, CASHBACK_E_CONFIG,
        "cookie_domain: must be empty for a '__Host-' cookie_name");
  return o->ca_file[0] != '\0' ? check_ca_file(o) : CASHBACK_OK;
}

/* ------------------------------------------------------------------------
 * Validators: `s` has `len` bytes; each returns CASHBACK_OK or records the
 * failure on `o` (its error field only) and returns the status.
 * --------------------------------------------------------------------- */

static cashback_status check_id(cashback_options *o, const char *key,
                                const char *s, size_t len) {
  if (!cashback__id_valid(s, len))
    return cashback__options_fail(o, CASHBACK_E_CONFIG, "%s: " ID_RULE, key);
  return CASHBACK_OK;
}

static cashback_status check_secret(cashback_options *o, const char *key,
                                    const char *s, size_t len) {
  /* Never echo the value: it is a secret. */
  if (!cashback__secret_valid(s, len))
    return cashback__options_fail(o, CASHBACK_E_CONFIG, "%s: " SECRET_RULE,
                                  key);
  return CASHBACK_OK;
}

static cashback_status check_endpoint(cashback_options *o, const char *key,
                                      const char *s, size_t len) {
  (void)key; /* "endpoint" */
  if (len > CASHBACK__ENDPOINT_MAX)
    return cashback__options_fail(o, CASHBACK_E_CONFIG,
                                  "endpoint: longer than %d characters",
                                  CASHBACK__ENDPOINT_MAX);
  /* The rule the HTTP transport applies too (one answer for a URL). */
  char why[160];
  int plain_remote;
  if (cashback__url_check(s, len, &plain_remote, why, sizeof(why)) != 0)
    return cashback__options_fail(o, CASHBACK_E_CONFIG, "endpoint: %s", why);
  return CASHBACK_OK;
}

typedef struct landing_list {
  char names[CASHBACK__LANDING_MAX][CASHBACK_PARAM_MAX + 1];
  size_t n;
} landing_list;

static cashback_status landing_add(cashback_options *o, landing_list *l,
                                   const char *name, size_t len) {
  for (size_t i = 0; i < l->n; i++)
    if (strlen(l->names[i]) == len && memcmp(l->names[i], name, len) == 0)
      return CASHBACK_OK; /* duplicate: the first keeps its priority */
  if (l->n == CASHBACK__LANDING_MAX)
    return cashback__options_fail(o, CASHBACK_E_CONFIG,
                                  "landing_params: more than %d parameters",
                                  CASHBACK__LANDING_MAX);
  field_set(l->names[l->n], sizeof(l->names[0]), name, len);
  l->n++;
  return CASHBACK_OK;
}

static cashback_status parse_landing(cashback_options *o, const char *s,
                                     size_t len, landing_list *l) {
  char shown[CASHBACK_PARAM_MAX + 8];
  l->n = 0;
  size_t pos = 0, ilen;
  const char *item;
  while (cashback__ascii_list_next(s, len, &pos, &item, &ilen)) {
    if (ilen > 0 && item[0] == '@') {
      const char *const *params = cashback__preset(item + 1, ilen - 1);
      char known[160];
      if (!params)
        return cashback__options_fail(
            o, CASHBACK_E_CONFIG,
            "landing_params: unknown network '%s' (known: %s)",
            printable(item, ilen, shown, sizeof(shown)),
            cashback__preset_names(known, sizeof(known)));
      for (size_t j = 0; j < CASHBACK__PRESET_PARAMS && params[j]; j++) {
        cashback_status st = landing_add(o, l, params[j], strlen(params[j]));
        if (st != CASHBACK_OK)
          return st;
      }
    } else if (ilen > 0) {
      if (!cashback__ascii_all(item, ilen, 1, CASHBACK_PARAM_MAX,
                               CASHBACK__ASCII_ID))
        return cashback__options_fail(
            o, CASHBACK_E_CONFIG,
            "landing_params: '%s' is not a parameter name (1-32 of "
            "[A-Za-z0-9_.-]) or an '@network'",
            printable(item, ilen, shown, sizeof(shown)));
      cashback_status st = landing_add(o, l, item, ilen);
      if (st != CASHBACK_OK)
        return st;
    }
  }
  if (l->n == 0)
    return cashback__options_fail(o, CASHBACK_E_CONFIG,
                                  "landing_params: must name at least one "
                                  "parameter or '@network'");
  return CASHBACK_OK;
}

static cashback_status check_cookie_name(cashback_options *o, const char *key,
                                         const char *s, size_t len) {
  (void)key; /* "cookie_name" */
  int ok = len >= 1 && len <= CASHBACK__COOKIE_NAME_MAX;
  for (size_t i = 0; ok && i < len; i++)
    ok = cookie_token_char((unsigned char)s[i]);
  if (!ok)
    return cashback__options_fail(
        o, CASHBACK_E_CONFIG,
        "cookie_name: must be 1-64 cookie token characters (printable "
        "ASCII except space and ()<>@,;:\\\"/[]?={})");
  return CASHBACK_OK;
}

static cashback_status check_cookie_domain(cashback_options *o, const char *s,
                                           size_t len) {
  static const char rule[] =
      "cookie_domain: must be a host name such as 'shop.example' (labels of "
      "[A-Za-z0-9-] separated by dots, at most 253 characters)";
  if (len > CASHBACK__DOMAIN_MAX)
    return cashback__options_fail(o, CASHBACK_E_CONFIG, "%s", rule);
  size_t i = (len > 0 && s[0] == '.') ? 1 : 0;
  if (i == len)
    return cashback__options_fail(o, CASHBACK_E_CONFIG, "%s", rule);
  while (i < len) {
    size_t b = i;
    while (i < len && s[i] != '.')
      i++;
    size_t llen = i - b;
    if (llen == 0 || llen > 63 || s[b] == '-' || s[i - 1] == '-')
      return cashback__options_fail(o, CASHBACK_E_CONFIG, "%s", rule);
    for (size_t j = b; j < i; j++) {
      unsigned char c = (unsigned char)s[j];
      if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
            (c >= '0' && c <= '9') || c == '-'))
        return cashback__options_fail(o, CASHBACK_E_CONFIG, "%s", rule);
    }
    if (i < len) { /* a dot: another label must follow */
      i++;
      if (i == len)
        return cashback__options_fail(o, CASHBACK_E_CONFIG, "%s", rule);
    }
  }
  return CASHBACK_OK;
}

static cashback_status check_window(cashback_options *o, int64_t seconds) {
  if (seconds < 1 || seconds > CASHBACK__WINDOW_MAX)
    return cashback__options_fail(
        o, CASHBACK_E_CONFIG,
        "attribution_window: must be 1 second to 400 days");
  return CASHBACK_OK;
}

cashback_status cashback__options_null(cashback_options *o, const char *what) {
  return cashback__options_fail(o, CASHBACK_E_INVALID_ARGUMENT,
                                "%s: must not be NULL", what);
}

/* ------------------------------------------------------------------------
 * Public API
 * --------------------------------------------------------------------- */

cashback_options *cashback_options_new(void) {
  cashback_options *o = malloc(sizeof(*o));
  if (o)
    cashback__options_defaults(o);
  return o;
}

void cashback_options_free(cashback_options *opts) {
  if (!opts)
    return;
  cashback__wipe(opts, sizeof(*opts));
  free(opts);
}

const char *cashback_options_last_error(const cashback_options *opts) {
  return opts ? opts->error : "";
}

/* A path option's rule (spool_dir, ca_file): absolute, at most
 * CASHBACK__PATH_MAX bytes, no control byte. */
static cashback_status check_path(cashback_options *o, const char *key,
                                  const char *path, size_t len) {
  if (len == 0 || path[0] != '/' || len > CASHBACK__PATH_MAX)
    return cashback__options_fail(
        o, CASHBACK_E_CONFIG,
        "%s: must be an absolute path of at most %d bytes", key,
        CASHBACK__PATH_MAX);
  for (size_t i = 0; i < len; i++)
    if ((unsigned char)path[i] < 0x20 || path[i] == 0x7f)
      return cashback__options_fail(o, CASHBACK_E_CONFIG,
                                    "%s: control character in path", key);
  return CASHBACK_OK;
}

/* The text options that a setter checks and stores as they are: their
 * key, their field (offset and size in cashback_options) and their rule. */
typedef enum text_option_id {
  OPT_MERCHANT_ID,
  OPT_ENDPOINT,
  OPT_COOKIE_NAME,
  OPT_SPOOL_DIR,
  OPT_CA_FILE
} text_option_id;

#define CASHBACK__OPTION_FIELD(f)                                              \
  offsetof(cashback_options, f), sizeof(((cashback_options *)0)->f)

static const struct {
  const char *key;
  size_t offset, size;
  cashback_status (*check)(cashback_options *o, const char *key, const char *s,
                           size_t len);
} text_options[] = {
    [OPT_MERCHANT_ID] = {"merchant_id", CASHBACK__OPTION_FIELD(merchant_id),
                         check_id},
    [OPT_ENDPOINT] = {"endpoint", CASHBACK__OPTION_FIELD(endpoint),
                      check_endpoint},
    [OPT_COOKIE_NAME] = {"cookie_name", CASHBACK__OPTION_FIELD(cookie_name),
                         check_cookie_name},
    [OPT_SPOOL_DIR] = {"spool_dir", CASHBACK__OPTION_FIELD(spool_dir),
                       check_path},
    [OPT_CA_FILE] = {"ca_file", CASHBACK__OPTION_FIELD(ca_file), check_path},
};

/* The setter of the text option `id`: `value` not NULL and valid by its
 * rule, then stored. */
static cashback_status set_text(cashback_options *o, text_option_id id,
                                const char *value) {
  if (!o)
    return CASHBACK_E_INVALID_ARGUMENT;
  const char *key = text_options[id].key;
  if (!value)
    return cashback__options_null(o, key);
  size_t len = strlen(value);
  cashback_status st = text_options[id].check(o, key, value, len);
  if (st != CASHBACK_OK)
    return st;
  field_set((char *)o + text_options[id].offset, text_options[id].size, value,
            len);
  return CASHBACK_OK;
}

cashback_status cashback_options_set_merchant_id(cashback_options *opts,
                                                 const char *id) {
  return set_text(opts, OPT_MERCHANT_ID, id);
}

static cashback_status set_key_pair(cashback_options *o, cashback__key *k,
                                    const char *id_name,
                                    const char *secret_name, const char *id,
                                    const char *secret) {
  if (!id)
    return cashback__options_null(o, id_name);
  if (!secret)
    return cashback__options_null(o, secret_name);
  size_t id_len = strlen(id), secret_len = strlen(secret);
  cashback_status st = check_id(o, id_name, id, id_len);
  if (st == CASHBACK_OK)
    st = check_secret(o, secret_name, secret, secret_len);
  if (st != CASHBACK_OK)
    return st;
  field_set(k->id, sizeof(k->id), id, id_len);
  field_set(k->secret, sizeof(k->secret), secret, secret_len);
  return CASHBACK_OK;
}

cashback_status cashback_options_set_key(cashback_options *opts,
                                         const char *key_id,
                                         const char *secret) {
  if (!opts)
    return CASHBACK_E_INVALID_ARGUMENT;
  return set_key_pair(opts, &opts->key, "key_id", "secret", key_id, secret);
}

cashback_status cashback_options_set_next_key(cashback_options *opts,
                                              const char *key_id,
                                              const char *secret) {
  if (!opts)
    return CASHBACK_E_INVALID_ARGUMENT;
  if (!key_id) {
    cashback__wipe(&opts->next_key, sizeof(opts->next_key));
    return CASHBACK_OK;
  }
  return set_key_pair(opts, &opts->next_key, "next_key_id", "next_secret",
                      key_id, secret);
}

cashback_status cashback_options_set_cookie_secret(cashback_options *opts,
                                                   const char *secret) {
  if (!opts)
    return CASHBACK_E_INVALID_ARGUMENT;
  if (!secret || !secret[0]) {
    cashback__wipe(opts->cookie_secret, sizeof(opts->cookie_secret));
    return CASHBACK_OK;
  }
  size_t len = strlen(secret);
  cashback_status st = check_secret(opts, "cookie_secret", secret, len);
  if (st != CASHBACK_OK)
    return st;
  cashback__wipe(opts->cookie_secret, sizeof(opts->cookie_secret));
  field_set(opts->cookie_secret, sizeof(opts->cookie_secret), secret, len);
  return CASHBACK_OK;
}

cashback_status cashback_options_set_endpoint(cashback_options *opts,
                                              const char *url) {
  return set_text(opts, OPT_ENDPOINT, url);
}

cashback_status cashback_options_set_landing_params(cashback_options *opts,
                                                    const char *list) {
  if (!opts)
    return CASHBACK_E_INVALID_ARGUMENT;
  if (!list)
    return cashback__options_null(opts, "landing_params");
  landing_list l;
  cashback_status st = parse_landing(opts, list, strlen(list), &l);
  if (st != CASHBACK_OK)
    return st;
  memset(opts->landing, 0, sizeof(opts->landing));
  memcpy(opts->landing, l.names, sizeof(l.names[0]) * l.n);
  opts->n_landing = l.n;
  return CASHBACK_OK;
}

cashback_status cashback_options_set_cookie_name(cashback_options *opts,
                                                 const char *name) {
  return set_text(opts, OPT_COOKIE_NAME, name);
}

cashback_status cashback_options_set_cookie_domain(cashback_options *opts,
                                                   const char *domain) {
  if (!opts)
    return CASHBACK_E_INVALID_ARGUMENT;
  size_t len = domain ? strlen(domain) : 0;
  if (len > 0) {
    cashback_status st = check_cookie_domain(opts, domain, len);
    if (st != CASHBACK_OK)
      return st;
  }
  field_set(opts->cookie_domain, sizeof(opts->cookie_domain),
            domain ? domain : "", len);
  return CASHBACK_OK;
}

cashback_status cashback_options_set_attribution_window(cashback_options *opts,
                                                        int64_t seconds) {
  if (!opts)
    return CASHBACK_E_INVALID_ARGUMENT;
  cashback_status st = check_window(opts, seconds);
  if (st != CASHBACK_OK)
    return st;
  opts->window = seconds;
  return CASHBACK_OK;
}

cashback_status cashback_options_set_logger(cashback_options *opts,
                                            cashback_log_fn fn, void *userdata,
                                            cashback_log_level min_level) {
  if (!opts)
    return CASHBACK_E_INVALID_ARGUMENT;
  if ((int)min_level < (int)CASHBACK_LOG_DEBUG ||
      (int)min_level > (int)CASHBACK_LOG_ERROR)
    return cashback__options_fail(
        opts, CASHBACK_E_INVALID_ARGUMENT,
        "log_level: must be CASHBACK_LOG_DEBUG to CASHBACK_LOG_ERROR");
  opts->log_fn = fn;
  opts->log_userdata = fn ? userdata : NULL;
  opts->log_min = min_level;
  return CASHBACK_OK;
}

cashback_status cashback_options_set_clock(cashback_options *opts,
                                           cashback_clock_fn fn,
                                           void *userdata) {
  if (!opts)
    return CASHBACK_E_INVALID_ARGUMENT;
  opts->clock_fn = fn;
  opts->clock_userdata = fn ? userdata : NULL;
  return CASHBACK_OK;
}

/* ------------------------------------------------------------------------
 * Spool and sender settings
 * --------------------------------------------------------------------- */

cashback_status cashback_options_set_spool_dir(cashback_options *opts,
                                               const char *dir) {
  return set_text(opts, OPT_SPOOL_DIR, dir);
}

cashback_status cashback_options_set_ca_file(cashback_options *opts,
                                             const char *path) {
  return set_text(opts, OPT_CA_FILE, path);
}

cashback_status cashback_options_set_durability(cashback_options *opts,
                                                cashback_durability d) {
  if (!opts)
    return CASHBACK_E_INVALID_ARGUMENT;
  if (d != CASHBACK_DURABLE_SYNC && d != CASHBACK_DURABLE_PROCESS)
    return cashback__options_fail(opts, CASHBACK_E_INVALID_ARGUMENT,
                                  "durability: unknown mode %d", (int)d);
  opts->durability = d;
  return CASHBACK_OK;
}

cashback_status cashback_options_set_spool_max_bytes(cashback_options *opts,
                                                     uint64_t bytes) {
  if (!opts)
    return CASHBACK_E_INVALID_ARGUMENT;
  if (bytes < (UINT64_C(64) << 10) || bytes > (UINT64_C(1) << 40))
    return cashback__options_fail(opts, CASHBACK_E_CONFIG,
                                  "spool_max_bytes: must be 64 KiB to 1 TiB");
  opts->spool_max_bytes = bytes;
  return CASHBACK_OK;
}

cashback_status cashback_options_set_batch(cashback_options *opts,
                                           size_t max_events,
                                           size_t max_bytes) {
  if (!opts)
    return CASHBACK_E_INVALID_ARGUMENT;
  if (max_events < 1 || max_events > 1000)
    return cashback__options_fail(opts, CASHBACK_E_CONFIG,
                                  "batch_max_events: must be 1 to 1000");
  if (max_bytes < (64u << 10) || max_bytes > (4u << 20))
    return cashback__options_fail(opts, CASHBACK_E_CONFIG,
                                  "batch_max_bytes: must be 64 KiB to 4 MiB");
  opts->batch_max_events = max_events;
  opts->batch_max_bytes = max_bytes;
  return CASHBACK_OK;
}

#define MS_MIN 100
#define MS_MAX (INT64_C(600) * 1000)

cashback_status cashback_options_set_timeouts(cashback_options *opts,
                                              int64_t connect_ms,
                                              int64_t total_ms) {
  if (!opts)
    return CASHBACK_E_INVALID_ARGUMENT;
  if (connect_ms < MS_MIN || connect_ms > MS_MAX)
    return cashback__options_fail(opts, CASHBACK_E_CONFIG,
                                  "connect_timeout: must be 100 ms to 10 min");
  if (total_ms < MS_MIN || total_ms > MS_MAX)
    return cashback__options_fail(opts, CASHBACK_E_CONFIG,
                                  "request_timeout: must be 100 ms to 10 min");
  opts->connect_timeout_ms = connect_ms;
  opts->total_timeout_ms = total_ms;
  return CASHBACK_OK;
}

cashback_status cashback_options_set_backoff(cashback_options *opts,
                                             int64_t base_ms, int64_t cap_ms) {
  if (!opts)
    return CASHBACK_E_INVALID_ARGUMENT;
  if (base_ms < 10 || base_ms > INT64_C(3600) * 1000)
    return cashback__options_fail(opts, CASHBACK_E_CONFIG,
                                  "backoff_base: must be 10 ms to 1 h");
  if (cap_ms < base_ms || cap_ms > INT64_C(86400) * 1000)
    return cashback__options_fail(
        opts, CASHBACK_E_CONFIG,
        "backoff_max: must be at least backoff_base and at most 1 day");
  opts->backoff_base_ms = base_ms;
  opts->backoff_cap_ms = cap_ms;
  return CASHBACK_OK;
}

#define FOLLOWUP_WAIT_MIN_MS INT64_C(1000)
#define FOLLOWUP_WAIT_MAX_MS (INT64_C(90) * 86400 * 1000)

cashback_status cashback_options_set_followup_wait(cashback_options *opts,
                                                   int64_t wait_ms) {
  if (!opts)
    return CASHBACK_E_INVALID_ARGUMENT;
  if (wait_ms < FOLLOWUP_WAIT_MIN_MS || wait_ms > FOLLOWUP_WAIT_MAX_MS)
    return cashback__options_fail(opts, CASHBACK_E_CONFIG,
                                  "followup_wait: must be 1 s to 90 days");
  opts->followup_wait_ms = wait_ms;
  return CASHBACK_OK;
}

#define LINGER_MAX_MS INT64_C(10000)

cashback_status cashback_options_set_linger(cashback_options *opts,
                                            int64_t linger_ms) {
  if (!opts)
    return CASHBACK_E_INVALID_ARGUMENT;
  if (linger_ms < 0 || linger_ms > LINGER_MAX_MS)
    return cashback__options_fail(opts, CASHBACK_E_CONFIG,
                                  "linger: must be 0 to 10 s");
  opts->linger_ms = linger_ms;
  return CASHBACK_OK;
}

cashback_status cashback_options_set_allow_insecure_http(cashback_options *opts,
                                                         int allow) {
  if (!opts)
    return CASHBACK_E_INVALID_ARGUMENT;
  opts->allow_insecure_http = allow != 0;
  return CASHBACK_OK;
}

/* ------------------------------------------------------------------------
 * Key halves, for the text keys
 * --------------------------------------------------------------------- */

cashback_status cashback__options_set_key_part(cashback_options *o,
                                               cashback__key_part part,
                                               const char *v, size_t len) {
  static const char *const names[] = {"key_id", "secret", "next_key_id",
                                      "next_secret"};
  cashback__key *k = part >= CASHBACK__NEXT_KEY_ID ? &o->next_key : &o->key;
  int is_secret = part == CASHBACK__SECRET || part == CASHBACK__NEXT_SECRET;
  char *field = is_secret ? k->secret : k->id;
  size_t field_size = is_secret ? sizeof(k->secret) : sizeof(k->id);
  if (len == 0 && part >= CASHBACK__NEXT_KEY_ID) {
    cashback__wipe(field, field_size);
    return CASHBACK_OK;
  }
  cashback_status st = is_secret ? check_secret(o, names[part], v, len)
                                 : check_id(o, names[part], v, len);
  if (st != CASHBACK_OK)
    return st;
  field_set(field, field_size, v, len);
  return CASHBACK_OK;
}
