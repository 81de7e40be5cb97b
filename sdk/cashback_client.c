/*
 * The client as the owner (layer 4, sdk/LAYERS): made and freed here, with
 * its spool and sender opened on first use and released with it. What the
 * lower layers use of a client is cashback_core.c.
 */
#include "cashback_client.h"
#include "cashback_crypto.h"
#include "cashback_ledger.h"
#include "cashback_sender.h"
#include "cashback_spool.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Label of the derivation of the click-cookie key from the signing secret. */
static const char cookie_key_label[] = "cashback-cookie-key-v1";

/* The cookie keys, derived from secrets and the merchant id. With a
 * cookie_secret, it signs, and cookies made under the reporting keys are
 * still accepted. Without one, the key being rotated in (next_secret)
 * signs, so that cookies set during a rotation stay valid once it becomes
 * the only key, and the current one is still accepted. */
static cashback_status derive_cookie_keys(cashback_client *c) {
  const char *secrets[3];
  size_t n = 0;
  if (c->opts.cookie_secret[0])
    secrets[n++] = c->opts.cookie_secret;
  if (c->opts.next_key.secret[0])
    secrets[n++] = c->opts.next_key.secret;
  secrets[n++] = c->opts.key.secret;
  cashback__span parts[2] = {
      {cookie_key_label, sizeof(cookie_key_label)},
      {c->opts.merchant_id, strlen(c->opts.merchant_id)},
  };
  for (size_t i = 0; i < n; i++) {
    cashback_status st = cashback__hmac_sha256(secrets[i], strlen(secrets[i]),
                                               parts, 2, c->cookie_keys[i]);
    if (st != CASHBACK_OK)
      return st;
  }
  c->n_cookie_keys = n;
  return CASHBACK_OK;
}

/* In a child made by fork(): a lock held by a thread of the parent (one
 * opening the spool) would stay held forever in the child. */
static void client_fork_child(void *p) {
  cashback_client *c = p;
  cashback__core_fork_child(c);
  cashback__fork_reset_mutex(&c->lazy_lock);
  cashback__fork_reset_mutex(&c->ledger_lock);
}

static const cashback__fork_hooks client_fork_hooks = {NULL, NULL,
                                                       client_fork_child};

cashback_status cashback_client_new(cashback_options *opts,
                                    cashback_client **out, char *detail,
                                    size_t detail_size) {
  cashback__copy_detail(detail, detail_size, "");
  if (out)
    *out = NULL;
  if (!opts || !out) {
    cashback__copy_detail(detail, detail_size,
                          opts ? "out: must not be NULL"
                               : "opts: must not be NULL");
    cashback_options_free(opts);
    return CASHBACK_E_INVALID_ARGUMENT;
  }
  cashback_status st = cashback__options_check(opts);
  if (st != CASHBACK_OK) {
    cashback__copy_detail(detail, detail_size, opts->error);
    cashback_options_free(opts);
    return st;
  }
  cashback_client *c = calloc(1, sizeof(*c));
  if (!c) {
    cashback__copy_detail(detail, detail_size, "out of memory");
    cashback_options_free(opts);
    return CASHBACK_E_NOMEM;
  }
  c->opts = *opts;
  c->opts.error[0] = '\0';
  cashback_options_free(opts);

  st = derive_cookie_keys(c);
  if (st == CASHBACK_OK && (cashback__core_init(c) != CASHBACK_OK ||
                            pthread_mutex_init(&c->lazy_lock, NULL) != 0 ||
                            pthread_mutex_init(&c->ledger_lock, NULL) != 0))
    st = CASHBACK_E_INTERNAL;
  if (st != CASHBACK_OK) {
    cashback__copy_detail(detail, detail_size, "cannot derive the cookie key");
    cashback__wipe(c, sizeof(*c));
    free(c);
    return st;
  }
  cashback__fork_register(&c->fork_node, &client_fork_hooks, c);
  *out = c;
  cashback__log(c, CASHBACK_LOG_INFO, "client ready for merchant '%s'",
                c->opts.merchant_id);
  return CASHBACK_OK;
}

void cashback_client_free(cashback_client *c) {
  if (!c)
    return;
  cashback__client_release_spool(c);
  cashback__fork_unregister(&c->fork_node);
  pthread_mutex_destroy(&c->lazy_lock);
  pthread_mutex_destroy(&c->ledger_lock);
  cashback__core_fini(c);
  cashback__wipe(c, sizeof(*c));
  free(c);
}

/* The default spool directory for this merchant. */
static int default_dir(const cashback_client *c, char *out, size_t size) {
  const char *m = c->opts.merchant_id;
  int n;
  if (geteuid() == 0) {
    n = snprintf(out, size, "/var/spool/cashback/%s", m);
  } else {
    const char *xdg = getenv("XDG_STATE_HOME");
    const char *home = getenv("HOME");
    if (xdg && xdg[0] == '/')
      n = snprintf(out, size, "%s/cashback/%s", xdg, m);
    else if (home && home[0] == '/')
      n = snprintf(out, size, "%s/.local/state/cashback/%s", home, m);
    else
      return -1;
  }
  return n > 0 && (size_t)n < size ? 0 : -1;
}

cashback_status cashback__client_spool(cashback_client *c,
                                       cashback__spool **out) {
  cashback_status st = CASHBACK_OK;
  pthread_mutex_lock(&c->lazy_lock);
  if (!c->spool) {
    char dir[PATH_MAX];
    if (c->opts.spool_dir[0])
      snprintf(dir, sizeof(dir), "%s", c->opts.spool_dir);
    else if (default_dir(c, dir, sizeof(dir)) != 0)
      st = cashback__fail(c, CASHBACK_E_CONFIG,
                          "spool_dir: not set, and neither XDG_STATE_HOME "
                          "nor HOME gives a default");
    if (st == CASHBACK_OK) {
      cashback__spool_config cfg = {
          .dir = dir,
          .durability = c->opts.durability,
          .max_bytes = c->opts.spool_max_bytes,
          .segment_bytes = 0,
      };
      char err[CASHBACK_ERROR_MAX + 1] = "";
      st = cashback__spool_open(&cfg, &c->spool, err, sizeof(err));
      if (st != CASHBACK_OK)
        cashback__fail_spool(c, st, "%s", err);
    }
  }
  *out = c->spool;
  pthread_mutex_unlock(&c->lazy_lock);
  return st;
}

cashback_status cashback__client_sender(cashback_client *c,
                                        cashback__sender **out) {
  cashback__spool *spool;
  cashback_status st = cashback__client_spool(c, &spool);
  if (st != CASHBACK_OK)
    return st;
  pthread_mutex_lock(&c->lazy_lock);
  if (!c->sender) {
    st = cashback__sender_new(c, spool, &c->sender);
    if (st != CASHBACK_OK)
      cashback__fail(c, st, "sender: cannot set up the HTTP transport");
  }
  *out = c->sender;
  pthread_mutex_unlock(&c->lazy_lock);
  return st;
}

void cashback__client_release_spool(cashback_client *c) {
  cashback__sender_free(c->sender);
  c->sender = NULL;
  cashback__ledger_free(c->ledger); /* it reads through the spool */
  c->ledger = NULL;
  cashback__spool_close(c->spool);
  c->spool = NULL;
}
