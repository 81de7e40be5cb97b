/*
 * The reporting API: report into the spool, the sender's controls, status
 * and the quarantine. The spool and the sender of a client are made on
 * first use (cashback_client.c), so a client that only captures clicks
 * touches no disk.
 */
#include "cashback_buf.h"
#include "cashback_backoff.h"
#include "cashback_client.h"
#include "cashback_crc32c.h"
#include "cashback_crypto.h"
#include "cashback_deferred.h"
#include "cashback_event.h"
#include "cashback_quarantine.h"
#include "cashback_sender.h"
#include "cashback_spool.h"
#include "cashback_text.h"
#include "cashback_time.h"

#include <cjson/cJSON.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

cashback_status cashback_report(cashback_client *c, cashback_event *ev,
                                char *id) {
  cashback__call_begin(c);
  if (!c || !ev)
    return CASHBACK_E_INVALID_ARGUMENT;
  cashback__buf json;
  cashback_status st = cashback__event_finalized_json(c, ev, id, &json);
  cashback__spool *spool = NULL;
  if (st == CASHBACK_OK)
    st = cashback__client_spool(c, &spool);
  if (st == CASHBACK_OK) {
    char err[CASHBACK_ERROR_MAX + 1] = "";
    st = cashback__spool_append(spool, json.data, json.len, cashback__wall_ms(),
                                err, sizeof(err));
    if (st != CASHBACK_OK)
      cashback__fail_spool(c, st, "%s", err);
  }
  cashback__buf_free(&json);
  if (st == CASHBACK_OK) {
    pthread_mutex_lock(&c->lazy_lock);
    if (c->sender)
      cashback__sender_wake(c->sender);
    pthread_mutex_unlock(&c->lazy_lock);
  }
  return st;
}

cashback_status cashback_sender_start(cashback_client *c) {
  cashback__call_begin(c);
  if (!c)
    return CASHBACK_E_INVALID_ARGUMENT;
  cashback__sender *s;
  cashback_status st = cashback__client_sender(c, &s);
  return st != CASHBACK_OK ? st : cashback__sender_start(s);
}

cashback_status cashback_sender_stop(cashback_client *c,
                                     int64_t flush_timeout_ms) {
  cashback__call_begin(c);
  if (!c)
    return CASHBACK_E_INVALID_ARGUMENT;
  pthread_mutex_lock(&c->lazy_lock);
  cashback__sender *s = c->sender;
  pthread_mutex_unlock(&c->lazy_lock);
  return s ? cashback__sender_stop(s, flush_timeout_ms) : CASHBACK_OK;
}

cashback_status cashback_flush(cashback_client *c, int64_t timeout_ms) {
  cashback__call_begin(c);
  if (!c)
    return CASHBACK_E_INVALID_ARGUMENT;
  cashback__sender *s;
  cashback_status st = cashback__client_sender(c, &s);
  return st != CASHBACK_OK ? st : cashback__sender_flush(s, timeout_ms);
}

/* --- Quarantine (cashback_quarantine.c) -------------------------------- */

cashback_status cashback_quarantine_list(cashback_client *c,
                                         cashback_quarantine_fn fn,
                                         void *userdata) {
  cashback__call_begin(c);
  if (!c || !fn)
    return CASHBACK_E_INVALID_ARGUMENT;
  cashback__spool *spool;
  cashback_status st = cashback__client_spool(c, &spool);
  if (st != CASHBACK_OK)
    return st;
  return cashback__quarantine_list(c, spool, fn, userdata);
}

cashback_status cashback_quarantine_replay(cashback_client *c, const char *id,
                                           size_t *replayed) {
  cashback__call_begin(c);
  if (replayed)
    *replayed = 0;
  if (!c)
    return CASHBACK_E_INVALID_ARGUMENT;
  cashback__spool *spool;
  cashback_status st = cashback__client_spool(c, &spool);
  if (st != CASHBACK_OK)
    return st;
  size_t n = 0;
  st = cashback__quarantine_replay(c, spool, id, cashback__wall_ms(), &n);
  if (replayed)
    *replayed = n;
  if (st == CASHBACK_OK && n) {
    pthread_mutex_lock(&c->lazy_lock);
    if (c->sender)
      cashback__sender_wake(c->sender);
    pthread_mutex_unlock(&c->lazy_lock);
  }
  return st;
}
