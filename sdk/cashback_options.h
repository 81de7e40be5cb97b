/* The options object: plain data, copyable by value. Setters, defaults and
 * the completeness check in cashback_options.c; the text keys' table and
 * parsers in cashback_options_text.c. */
#ifndef CASHBACK_OPTIONS_H
#define CASHBACK_OPTIONS_H

#include "cashback.h"
#include "cashback_sign.h"

#include <stdint.h>

#define CASHBACK__ENDPOINT_MAX 2048
#define CASHBACK__LANDING_MAX 16 /* landing parameters */
#define CASHBACK__COOKIE_NAME_MAX 64
#define CASHBACK__DOMAIN_MAX 253
#define CASHBACK__WINDOW_MAX (INT64_C(400) * 86400)
#define CASHBACK__WINDOW_DEFAULT (INT64_C(30) * 86400)
/* The sender thread's linger by default, ms (cashback_options_set_linger). */
#define CASHBACK__LINGER_DEFAULT_MS 20
#define CASHBACK__PATH_MAX 1024
/* A text value of cashback_options_set_n(), at most (longer than any valid
 * one: a bound on the copy it makes). */
#define CASHBACK__OPTION_VALUE_MAX 65536
/* A network's credential (an API key, a token) at most. */
#define CASHBACK__CREDENTIAL_MAX 2048
#define CASHBACK__DIGITS_MAX 20 /* a network's numeric id */

/* The delivery profile (docs/networks.md, cashback_profile.h). */
typedef enum cashback__profile_kind {
  CASHBACK__PROFILE_BUILTIN = 0, /* libcashback's protocol (the default) */
  CASHBACK__PROFILE_AWIN = 1,
  CASHBACK__PROFILE_IMPACT = 2
} cashback__profile_kind;

/* ledger_max_orders: its default and its most (cashback_ledger.h keeps
 * the same numbers as CASHBACK__LEDGER_ORDERS_DEFAULT / _MAX). */
#define CASHBACK__LEDGER_ORDERS_OPTION_DEFAULT 100000
#define CASHBACK__LEDGER_ORDERS_OPTION_MAX 10000000

struct cashback_options {
  char merchant_id[CASHBACK_ID_MAX + 1];
  cashback__key key;                            /* id empty: not set */
  cashback__key next_key;                       /* id empty: no rotation */
  char cookie_secret[CASHBACK__SECRET_MAX + 1]; /* empty: derived */
  char endpoint[CASHBACK__ENDPOINT_MAX + 1];
  char landing[CASHBACK__LANDING_MAX][CASHBACK_PARAM_MAX + 1];
  size_t n_landing;
  char cookie_name[CASHBACK__COOKIE_NAME_MAX + 1];
  char cookie_domain[CASHBACK__DOMAIN_MAX + 1]; /* empty: none */
  int64_t window;                               /* seconds */
  cashback_log_fn log_fn;
  void *log_userdata;
  cashback_log_level log_min;
  cashback_clock_fn clock_fn;
  void *clock_userdata;
  /* Spool and sender. */
  char spool_dir[CASHBACK__PATH_MAX + 1]; /* empty: the default */
  cashback_durability durability;
  uint64_t spool_max_bytes;
  size_t batch_max_events;
  size_t batch_max_bytes;
  int64_t connect_timeout_ms;
  int64_t total_timeout_ms;
  int64_t backoff_base_ms;
  int64_t backoff_cap_ms;
  int64_t followup_wait_ms; /* how long a "retry" event is tried again */
  int64_t linger_ms; /* how long the sender thread waits to fill a batch */
  size_t ledger_max_orders; /* the per-order ledger's bound; 0: no ledger */
  int allow_insecure_http;
  char ca_file[CASHBACK__PATH_MAX + 1]; /* empty: the system's CA store */
  /* The delivery profile and its keys (empty: not set; a base URL empty:
   * the network's own). The api_key, api_token and auth_token are secrets:
   * never logged, never in an error or the spool. */
  cashback__profile_kind profile;
  char awin_advertiser_id[CASHBACK__DIGITS_MAX + 1];
  char awin_api_key[CASHBACK__CREDENTIAL_MAX + 1];
  char awin_api_token[CASHBACK__CREDENTIAL_MAX + 1];
  char awin_commission_group[CASHBACK_ID_MAX + 1]; /* empty: DEFAULT */
  char awin_base_url[CASHBACK__ENDPOINT_MAX + 1];
  char impact_account_sid[CASHBACK_ID_MAX + 1];
  char impact_auth_token[CASHBACK__CREDENTIAL_MAX + 1];
  char impact_campaign_id[CASHBACK__DIGITS_MAX + 1];
  char impact_action_tracker_id[CASHBACK__DIGITS_MAX + 1];
  int impact_send_test;
  char impact_base_url[CASHBACK__ENDPOINT_MAX + 1];
  char error[CASHBACK_ERROR_MAX + 1];
};

/* Puts the defaults into `o` (no allocation). */
void cashback__options_defaults(cashback_options *o);
/* Records a failure detail on the options; returns `st`. */
cashback_status cashback__options_fail(cashback_options *o, cashback_status st,
                                       const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Records "`what`: must not be NULL" on `o`; returns
 * CASHBACK_E_INVALID_ARGUMENT. */
cashback_status cashback__options_null(cashback_options *o, const char *what);

/* One half of a signing key, as the text keys set it: key_id and secret may
 * come from different sources (a file and an environment variable), so each
 * is stored alone, after the setters' validation; cashback__options_check()
 * reports a half-set key. An empty next_* value removes that half. */
typedef enum cashback__key_part {
  CASHBACK__KEY_ID = 0,
  CASHBACK__SECRET = 1,
  CASHBACK__NEXT_KEY_ID = 2,
  CASHBACK__NEXT_SECRET = 3
} cashback__key_part;
cashback_status cashback__options_set_key_part(cashback_options *o,
                                               cashback__key_part part,
                                               const char *v, size_t len);

/* The i-th text key of cashback_options_set() (NULL past the last), so
 * that the environment loader reads exactly the keys the table knows. */
const char *cashback__options_key(size_t i);

/* How an error names a key that a user wrote (`len` bytes at `k`), in
 * `buf`, which it returns: as written, quoted, when it looks like a key
 * name and cannot be a secret (1-15 of [a-z_]: a secret has 16 or more
 * characters); else by its length only. Either way with the table's key
 * nearest to it (case and blanks aside, at most 2 edits), as a hint. Never
 * echoes anything else: it may be a secret written without its "secret="
 * (a base64 secret ends in '=', so "c2Vj...ZWQ=" reads as a key). */
const char *cashback__options_key_shown(const char *k, size_t len, char *buf,
                                        size_t size);

/* 1 when `k` (`len` bytes) is a key of the table. */
int cashback__options_key_known(const char *k, size_t len);

/* Checks that the required keys are present; names the first missing one. */
cashback_status cashback__options_check(cashback_options *o);

#endif
