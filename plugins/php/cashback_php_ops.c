/*
 * The operations behind both the Cashback\ functions and the
 * Cashback\Client methods: request data in, one SDK call, a PHP value or a
 * Cashback\Exception out.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "php.h"
#include "SAPI.h"
#include "zend_exceptions.h"
#include "zend_smart_str.h"

#include "php_cashback.h"

void cashback_php_add_set_cookie(const char *value) {
  smart_str line = {0};
  smart_str_appends(&line, "Set-Cookie: ");
  smart_str_appends(&line, value);
  smart_str_0(&line);
  sapi_header_line ctr = {0};
  ctr.line = ZSTR_VAL(line.s);
  ctr.line_len = ZSTR_LEN(line.s);
  /* ADD, not REPLACE: other Set-Cookie headers (the session's) stay. */
  sapi_header_op(SAPI_HEADER_ADD, &ctr);
  smart_str_free(&line);
}

static void run_capture(cashback_client *c, zend_string *query, bool send,
                        bool strict, zval *return_value) {
  const char *q = query ? ZSTR_VAL(query) : SG(request_info).query_string;
  size_t len = query ? ZSTR_LEN(query) : (q ? strlen(q) : 0);
  char cookie[CASHBACK_SET_COOKIE_MAX + 1];
  cashback_status st =
      cashback_capture(c, q ? q : "", len, cookie, sizeof(cookie));
  if (st == CASHBACK_E_CLICK_NONE ||
      (st == CASHBACK_E_CLICK_MALFORMED && !strict))
    RETURN_NULL();
  if (st != CASHBACK_OK) {
    cashback_php_throw_client(c, st);
    RETURN_THROWS();
  }
  /* auto_capture already sent this request's cookie: do not send it twice
   * (the default client and this request's query only). */
  if (send && !query && c == CASHBACK_G(client) && CASHBACK_G(auto_captured))
    send = false;
  if (send) {
    if (SG(headers_sent)) {
      const char *file = php_output_get_start_filename();
      cashback_php_throw(CASHBACK_E_INVALID_ARGUMENT,
                         "capture: cannot send the click cookie, headers "
                         "already sent (output started at %s:%d); call "
                         "Cashback\\capture() before any output, or pass "
                         "send: false and set the cookie yourself",
                         file ? file : "?", php_output_get_start_lineno());
      RETURN_THROWS();
    }
    cashback_php_add_set_cookie(cookie);
  }
  RETURN_STRING(cookie);
}

/* The click cookie's value in $_COOKIE (the CLI, or a framework that
 * filled $_COOKIE itself), looked up by the client's cookie name; PHP
 * keeps a name with '.' under '_' ("shop.cb" is $_COOKIE['shop_cb']; a
 * cookie name holds no space or '['). NULL when there is none. */
static zval *cookie_value(cashback_client *c) {
  zval *cookies = zend_hash_str_find_ind(&EG(symbol_table), "_COOKIE",
                                         sizeof("_COOKIE") - 1);
  if (cookies)
    ZVAL_DEREF(cookies);
  if (!cookies || Z_TYPE_P(cookies) != IS_ARRAY)
    return NULL;
  const char *name = cashback_client_cookie_name(c);
  size_t len = strlen(name);
  zval *v = zend_hash_str_find_deref(Z_ARRVAL_P(cookies), name, len);
  if (!v && memchr(name, '.', len)) {
    char php_name[CASHBACK_COOKIE_NAME_MAX + 1];
    snprintf(php_name, sizeof(php_name), "%s", name);
    for (char *p = php_name; *p; p++)
      if (*p == '.')
        *p = '_';
    v = zend_hash_str_find_deref(Z_ARRVAL_P(cookies), php_name, len);
  }
  return v && Z_TYPE_P(v) == IS_STRING ? v : NULL;
}

static void run_click(cashback_client *c, zend_string *cookie, bool strict,
                      zval *return_value) {
  cashback_click click = {.size = sizeof(cashback_click)};
  const char *raw = SG(request_info).cookie_data;
  cashback_status st;
  if (cookie) /* a Cookie header given by the caller */
    st = cashback_click_read(c, ZSTR_VAL(cookie), ZSTR_LEN(cookie), &click);
  else if (raw) /* this request's Cookie header */
    st = cashback_click_read(c, raw, strlen(raw), &click);
  else { /* no header: the cookie's value, verified as such */
    zval *v = cookie_value(c);
    if (!v)
      RETURN_NULL();
    st = cashback_click_verify(c, Z_STRVAL_P(v), Z_STRLEN_P(v), &click);
  }
  /* The handle, not the bare token: a sale reported with it keeps the
   * landing parameter and the capture time (docs/php.md). */
  if (st == CASHBACK_OK)
    RETURN_STRING(click.handle);
  if (st == CASHBACK_E_CLICK_NONE)
    RETURN_NULL();
  if (!strict &&
      (st == CASHBACK_E_CLICK_EXPIRED || st == CASHBACK_E_CLICK_TAMPERED ||
       st == CASHBACK_E_CLICK_MALFORMED))
    RETURN_NULL();
  cashback_php_throw_client(c, st);
  RETURN_THROWS();
}

static void run_report(cashback_client *c, cashback_event_type type,
                       HashTable *fields, zval *return_value) {
  cashback_event *ev = cashback_php_event_from_array(c, type, fields);
  if (!ev)
    RETURN_THROWS();
  char id[CASHBACK_EVENT_ID_LEN + 1];
  cashback_status st = cashback_report(c, ev, id);
  cashback_event_free(ev);
  if (st != CASHBACK_OK) {
    cashback_php_throw_client(c, st);
    RETURN_THROWS();
  }
  RETURN_STRING(id);
}

/* uint64_t counters as PHP ints (which are signed 64-bit). */
static zend_long clamp_u64(uint64_t v) {
  return v > (uint64_t)ZEND_LONG_MAX ? ZEND_LONG_MAX : (zend_long)v;
}

static void run_status(cashback_client *c, zval *return_value) {
  cashback_queue_status s = {.size = sizeof(s)};
  cashback_status st = cashback_get_status(c, &s);
  if (st != CASHBACK_OK) {
    cashback_php_throw_client(c, st);
    RETURN_THROWS();
  }
  array_init(return_value);
  add_assoc_string(return_value, "merchant_id",
                   (char *)cashback_client_merchant_id(c));
  add_assoc_long(return_value, "queued_events", clamp_u64(s.queued_events));
  add_assoc_long(return_value, "queued_bytes", clamp_u64(s.queued_bytes));
  add_assoc_long(return_value, "oldest_age_s", (zend_long)s.oldest_age_s);
  add_assoc_long(return_value, "quarantined", clamp_u64(s.quarantined));
  add_assoc_long(return_value, "corrupt_skipped", clamp_u64(s.corrupt_skipped));
  add_assoc_long(return_value, "last_success", (zend_long)s.last_success);
  add_assoc_long(return_value, "next_attempt", (zend_long)s.next_attempt);
  add_assoc_bool(return_value, "paused", s.paused != 0);
  add_assoc_long(return_value, "last_status", (zend_long)s.last_status);
  add_assoc_string(return_value, "last_error", s.last_error);
  add_assoc_long(return_value, "read_errors", clamp_u64(s.read_errors));
  add_assoc_long(return_value, "unreadable_files",
                 clamp_u64(s.unreadable_files));
  add_assoc_string(return_value, "spool_problem", s.spool_problem);
  add_assoc_long(return_value, "path_fault", (zend_long)s.path_fault);
  add_assoc_long(return_value, "deferred", clamp_u64(s.deferred));
  add_assoc_long(return_value, "deferred_next", (zend_long)s.deferred_next);
  add_assoc_long(return_value, "spool_status", (zend_long)s.spool_status);
  add_assoc_string(return_value, "spool_error", s.spool_error);
}

static void run_flush(cashback_client *c, zend_long timeout_ms,
                      zval *return_value) {
  if (timeout_ms < 0) {
    cashback_php_throw(CASHBACK_E_INVALID_ARGUMENT,
                       "flush: timeout_ms must be 0 or more");
    RETURN_THROWS();
  }
  cashback_status st = cashback_flush(c, (int64_t)timeout_ms);
  if (st == CASHBACK_OK)
    RETURN_TRUE;
  if (st == CASHBACK_E_BUSY || st == CASHBACK_E_TIMEOUT)
    RETURN_FALSE;
  cashback_php_throw_client(c, st);
  RETURN_THROWS();
}

static int quarantine_one(const cashback_quarantined *q, void *userdata) {
  zval *list = userdata, row;
  array_init(&row);
  add_assoc_string(&row, "id", (char *)q->id);
  add_assoc_string(&row, "reason", (char *)q->reason);
  add_assoc_string(&row, "message", (char *)q->message);
  add_assoc_long(&row, "quarantined_at", (zend_long)q->quarantined_at);
  add_assoc_stringl(&row, "event", (char *)q->event_json, q->event_len);
  add_next_index_zval(list, &row);
  return 0;
}

static void run_quarantine(cashback_client *c, zval *return_value) {
  array_init(return_value);
  cashback_status st =
      cashback_quarantine_list(c, quarantine_one, return_value);
  if (st != CASHBACK_OK) {
    zval_ptr_dtor(return_value);
    ZVAL_UNDEF(return_value);
    cashback_php_throw_client(c, st);
    RETURN_THROWS();
  }
}

static void run_replay(cashback_client *c, zend_string *id,
                       zval *return_value) {
  if (id && strlen(ZSTR_VAL(id)) != ZSTR_LEN(id)) {
    cashback_php_throw(CASHBACK_E_INVALID_ARGUMENT,
                       "replay: the id contains a NUL byte");
    RETURN_THROWS();
  }
  size_t n = 0;
  cashback_status st =
      cashback_quarantine_replay(c, id ? ZSTR_VAL(id) : NULL, &n);
  if (st != CASHBACK_OK) {
    cashback_php_throw_client(c, st);
    RETURN_THROWS();
  }
  RETURN_LONG((zend_long)n);
}

/* ------------------------------------------------------------------------
 * The entry points: parameters parsed once for a Cashback\ function and
 * the Client method of the same name; `client_of` gives the client (the
 * default one, or the object's). */

#define CLIENT_OF(c)                                                           \
  cashback_client *c = client_of(ZEND_THIS);                                   \
  if (!c)                                                                      \
  RETURN_THROWS()

void cashback_php_op_capture(INTERNAL_FUNCTION_PARAMETERS,
                             cashback_php_client_of client_of) {
  zend_string *query = NULL;
  bool send = true, strict = false;
  ZEND_PARSE_PARAMETERS_START(0, 3)
  Z_PARAM_OPTIONAL
  Z_PARAM_STR_OR_NULL(query)
  Z_PARAM_BOOL(send)
  Z_PARAM_BOOL(strict)
  CASHBACK_PHP_PARAMS_END();
  CLIENT_OF(c);
  run_capture(c, query, send, strict, return_value);
}

void cashback_php_op_click(INTERNAL_FUNCTION_PARAMETERS,
                           cashback_php_client_of client_of) {
  zend_string *cookie = NULL;
  bool strict = false;
  ZEND_PARSE_PARAMETERS_START(0, 2)
  Z_PARAM_OPTIONAL
  Z_PARAM_STR_OR_NULL(cookie)
  Z_PARAM_BOOL(strict)
  CASHBACK_PHP_PARAMS_END();
  CLIENT_OF(c);
  run_click(c, cookie, strict, return_value);
}

void cashback_php_op_report(INTERNAL_FUNCTION_PARAMETERS,
                            cashback_php_client_of client_of,
                            cashback_event_type type) {
  HashTable *fields;
  ZEND_PARSE_PARAMETERS_START(1, 1)
  Z_PARAM_ARRAY_HT(fields)
  CASHBACK_PHP_PARAMS_END();
  CLIENT_OF(c);
  run_report(c, type, fields, return_value);
}

void cashback_php_op_status(INTERNAL_FUNCTION_PARAMETERS,
                            cashback_php_client_of client_of) {
  CASHBACK_PHP_PARAMS_NONE();
  CLIENT_OF(c);
  run_status(c, return_value);
}

void cashback_php_op_flush(INTERNAL_FUNCTION_PARAMETERS,
                           cashback_php_client_of client_of) {
  zend_long timeout_ms = 10000;
  ZEND_PARSE_PARAMETERS_START(0, 1)
  Z_PARAM_OPTIONAL
  Z_PARAM_LONG(timeout_ms)
  CASHBACK_PHP_PARAMS_END();
  CLIENT_OF(c);
  run_flush(c, timeout_ms, return_value);
}

void cashback_php_op_quarantine(INTERNAL_FUNCTION_PARAMETERS,
                                cashback_php_client_of client_of) {
  CASHBACK_PHP_PARAMS_NONE();
  CLIENT_OF(c);
  run_quarantine(c, return_value);
}

void cashback_php_op_replay(INTERNAL_FUNCTION_PARAMETERS,
                            cashback_php_client_of client_of) {
  zend_string *id = NULL;
  ZEND_PARSE_PARAMETERS_START(0, 1)
  Z_PARAM_OPTIONAL
  Z_PARAM_STR_OR_NULL(id)
  CASHBACK_PHP_PARAMS_END();
  CLIENT_OF(c);
  run_replay(c, id, return_value);
}
