/*
 * The cashback PHP extension: module, php.ini settings, the worker's
 * default client, and the Cashback\ functions.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <stdarg.h>
#include <unistd.h>

#include "php.h"
#include "php_ini.h"
#include "SAPI.h"
#include "ext/standard/info.h"
#include "zend_exceptions.h"
#include "zend_smart_str.h"

#include "php_cashback.h"
#include "cashback_arginfo.h"

ZEND_DECLARE_MODULE_GLOBALS(cashback)

zend_class_entry *cashback_php_exception_ce;

/* ------------------------------------------------------------------------
 * Errors */

/* The message is made printable (cashback_printable()): it echoes the
 * script's values, and exceptions end up in logs and on terminals. It is
 * cut (ending "...") at as many characters as the SDK's own longest detail
 * can show: a value of any length is echoed, and a 100 MB one made a 400 MB
 * message. */
#define THROW_SHOWN_MAX (4 * CASHBACK_ERROR_MAX + 1)
void cashback_php_throw(cashback_status st, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  zend_string *msg = zend_vstrpprintf(0, fmt, ap);
  va_end(ap);
  size_t size = ZSTR_LEN(msg) < CASHBACK_ERROR_MAX + 1 ? 4 * ZSTR_LEN(msg) + 1
                                                       : THROW_SHOWN_MAX;
  char *shown = emalloc(size);
  cashback_printable(shown, size, ZSTR_VAL(msg), ZSTR_LEN(msg));
  zend_throw_exception(cashback_php_exception_ce, shown, (zend_long)st);
  efree(shown);
  zend_string_release(msg);
}

void cashback_php_throw_client(cashback_client *c, cashback_status st) {
  char detail[CASHBACK_ERROR_MAX + 1] = "";
  /* The client's last error is this thread's last call's: the one that just
   * failed (a call that fails before it looks at the client leaves none). */
  if (c &&
      cashback_client_last_error(c, detail, sizeof(detail)) != CASHBACK_OK &&
      detail[0])
    cashback_php_throw(st, "%s", detail);
  else
    cashback_php_throw(st, "%s", cashback_strerror(st));
}

/* ------------------------------------------------------------------------
 * php.ini */

/* phpinfo() shows the connection string's presence, never its secret. */
static ZEND_INI_DISP(display_hidden) {
  const zend_string *v = (type == ZEND_INI_DISPLAY_ORIG && ini_entry->modified)
                             ? ini_entry->orig_value
                             : ini_entry->value;
  const char *text =
      (v && ZSTR_LEN(v)) ? "(set, hidden: it holds the secret)" : "no value";
  if (!sapi_module.phpinfo_as_text)
    php_printf("<i>%s</i>", text);
  else
    php_printf("%s", text);
}

PHP_INI_BEGIN()
STD_PHP_INI_ENTRY_EX("cashback.connection", "", PHP_INI_ALL, OnUpdateString,
                     connection, zend_cashback_globals, cashback_globals,
                     display_hidden)
STD_PHP_INI_ENTRY("cashback.config", "", PHP_INI_ALL, OnUpdateString, config,
                  zend_cashback_globals, cashback_globals)
STD_PHP_INI_ENTRY("cashback.spool_dir", "", PHP_INI_ALL, OnUpdateString,
                  spool_dir, zend_cashback_globals, cashback_globals)
STD_PHP_INI_ENTRY("cashback.durability", "", PHP_INI_ALL, OnUpdateString,
                  durability, zend_cashback_globals, cashback_globals)
STD_PHP_INI_BOOLEAN("cashback.auto_capture", "0", PHP_INI_ALL, OnUpdateBool,
                    auto_capture, zend_cashback_globals, cashback_globals)
STD_PHP_INI_BOOLEAN("cashback.sender", "0", PHP_INI_SYSTEM | PHP_INI_PERDIR,
                    OnUpdateBool, sender, zend_cashback_globals,
                    cashback_globals)
STD_PHP_INI_ENTRY("cashback.shutdown_flush_ms", "1000",
                  PHP_INI_SYSTEM | PHP_INI_PERDIR, OnUpdateLong,
                  shutdown_flush_ms, zend_cashback_globals, cashback_globals)
PHP_INI_END()

static const char *ini_connection(void) {
  const char *v = CASHBACK_G(connection);
  return v ? v : "";
}

/* ------------------------------------------------------------------------
 * Making clients */

/* Fills `err` as "<label>: <detail>" after a failed loader call. */
static cashback_status loaded(cashback_status st, const char *label,
                              cashback_options *o, char *err, size_t size) {
  if (st != CASHBACK_OK)
    snprintf(err, size, "%s: %s", label, cashback_options_last_error(o));
  return st;
}

/* The text form of an options-array value; 0 when it has none. */
static int option_text(zval *v, char *num, size_t size, const char **out) {
  ZVAL_DEREF(v);
  switch (Z_TYPE_P(v)) {
  case IS_STRING:
    if (strlen(Z_STRVAL_P(v)) != Z_STRLEN_P(v))
      return 0;
    *out = Z_STRVAL_P(v);
    return 1;
  case IS_LONG:
    snprintf(num, size, ZEND_LONG_FMT, Z_LVAL_P(v));
    *out = num;
    return 1;
  case IS_TRUE:
    *out = "1";
    return 1;
  case IS_FALSE:
    *out = "0";
    return 1;
  default:
    return 0;
  }
}

static cashback_status apply_options(cashback_options *o, HashTable *options,
                                     char *err, size_t size) {
  zend_string *key;
  zend_ulong idx;
  zval *v;
  ZEND_HASH_FOREACH_KEY_VAL(options, idx, key, v) {
    char num[32];
    const char *text = NULL;
    if (!key) {
      snprintf(err, size, "options: key " ZEND_ULONG_FMT " is not a name", idx);
      return CASHBACK_E_CONFIG;
    }
    if (strlen(ZSTR_VAL(key)) != ZSTR_LEN(key)) {
      /* Cut at the NUL, "secret\0x" would set secret. */
      char shown[4 * 64 + 4];
      cashback_printable(shown, sizeof(shown), ZSTR_VAL(key), ZSTR_LEN(key));
      snprintf(err, size, "options: key '%s' contains a NUL byte", shown);
      return CASHBACK_E_CONFIG;
    }
    if (!option_text(v, num, sizeof(num), &text)) {
      snprintf(err, size,
               "options[%s]: must be a string, an int or a bool (without "
               "NUL bytes)",
               ZSTR_VAL(key));
      return CASHBACK_E_CONFIG;
    }
    cashback_status st;
    if (zend_string_equals_literal(key, "config"))
      st = cashback_options_load_file(o, text);
    else
      st = cashback_options_set(o, ZSTR_VAL(key), text);
    if (loaded(st, "options", o, err, size) != CASHBACK_OK)
      return st;
  }
  ZEND_HASH_FOREACH_END();
  return CASHBACK_OK;
}

cashback_client *cashback_php_client_make(const zend_string *connection,
                                          HashTable *options) {
  char err[CASHBACK_ERROR_MAX + 64] = "";
  cashback_options *o = cashback_options_new();
  if (!o) {
    cashback_php_throw(CASHBACK_E_NOMEM, "%s",
                       cashback_strerror(CASHBACK_E_NOMEM));
    return NULL;
  }
  cashback_status st = CASHBACK_OK;
  if (connection)
    st =
        loaded(cashback_options_load_connection_string(o, ZSTR_VAL(connection)),
               "connection", o, err, sizeof(err));
  if (st == CASHBACK_OK && options)
    st = apply_options(o, options, err, sizeof(err));
  if (st != CASHBACK_OK) {
    cashback_options_free(o);
    cashback_php_throw(st, "%s", err);
    return NULL;
  }
  cashback_client *c = NULL;
  st = cashback_client_new(o, &c, err, sizeof(err));
  if (st != CASHBACK_OK) {
    cashback_php_throw(st, "%s", err[0] ? err : cashback_strerror(st));
    return NULL;
  }
  return c;
}

void cashback_php_client_release(cashback_client *c, pid_t owner,
                                 zend_long flush_ms) {
  if (!c)
    return;
  /* In a forked child the parent's client is freed without a flush: at the
   * fork libcashback left the child nothing of the parent's (no sender
   * thread, no lock, no open segment), and its sender is the parent's. */
  if (owner == getpid()) {
    if (flush_ms < 0)
      flush_ms = 0;
    (void)cashback_sender_stop(c, (int64_t)flush_ms);
  }
  cashback_client_free(c);
}

/* The settings the default client is made from, as one string. */
static zend_string *settings_key(void) {
  smart_str s = {0};
  const char *parts[] = {ini_connection(), CASHBACK_G(config),
                         CASHBACK_G(spool_dir), CASHBACK_G(durability)};
  for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++) {
    smart_str_appends(&s, parts[i] ? parts[i] : "");
    smart_str_appendc(&s, '\0');
  }
  smart_str_appendc(&s, CASHBACK_G(sender) ? '1' : '0');
  smart_str_0(&s);
  return s.s;
}

/* Makes the default client from php.ini without throwing (RINIT has no
 * stack frame to throw from). */
static cashback_status default_make(cashback_client **out, char *err,
                                    size_t size) {
  const char *conn = ini_connection();
  const char *file = CASHBACK_G(config) ? CASHBACK_G(config) : "";
  const char *spool = CASHBACK_G(spool_dir) ? CASHBACK_G(spool_dir) : "";
  const char *dur = CASHBACK_G(durability) ? CASHBACK_G(durability) : "";
  cashback_options *o = cashback_options_new();
  if (!o) {
    snprintf(err, size, "%s", cashback_strerror(CASHBACK_E_NOMEM));
    return CASHBACK_E_NOMEM;
  }
  cashback_status st = CASHBACK_OK;
  if (!conn[0] && !file[0])
    st = loaded(cashback_options_load_env(o), "environment", o, err, size);
  if (st == CASHBACK_OK && file[0])
    st = loaded(cashback_options_load_file(o, file), "cashback.config", o, err,
                size);
  if (st == CASHBACK_OK && conn[0])
    st = loaded(cashback_options_load_connection_string(o, conn),
                "cashback.connection", o, err, size);
  if (st == CASHBACK_OK && spool[0])
    st = loaded(cashback_options_set(o, "spool_dir", spool),
                "cashback.spool_dir", o, err, size);
  if (st == CASHBACK_OK && dur[0])
    st = loaded(cashback_options_set(o, "durability", dur),
                "cashback.durability", o, err, size);
  if (st != CASHBACK_OK) {
    cashback_options_free(o);
    return st;
  }
  char detail[CASHBACK_ERROR_MAX + 1] = "";
  st = cashback_client_new(o, out, detail, sizeof(detail));
  if (st != CASHBACK_OK) {
    if (!conn[0] && !file[0])
      snprintf(err, size,
               "%s (set cashback.connection or cashback.config in php.ini)",
               detail[0] ? detail : cashback_strerror(st));
    else
      snprintf(err, size, "%s", detail[0] ? detail : cashback_strerror(st));
    return st;
  }
  if (CASHBACK_G(sender)) {
    st = cashback_sender_start(*out);
    if (st != CASHBACK_OK) {
      cashback_client_last_error(*out, detail, sizeof(detail));
      snprintf(err, size, "cashback.sender: %s",
               detail[0] ? detail : cashback_strerror(st));
      cashback_client_free(*out);
      *out = NULL;
      return st;
    }
  }
  return CASHBACK_OK;
}

/* The default client of this process: made on first use, made again when
 * the process is a fork of the one that made it (the parent's client is
 * left to the parent) or when the php.ini settings changed. */
static cashback_status default_get(cashback_client **out, char *err,
                                   size_t size) {
  pid_t pid = getpid();
  zend_string *key = settings_key();
  if (CASHBACK_G(client) && CASHBACK_G(client_pid) != pid) {
    /* The parent's: the child makes its own (and its own sender). */
    cashback_php_client_release(CASHBACK_G(client), CASHBACK_G(client_pid), 0);
    CASHBACK_G(client) = NULL;
  } else if (CASHBACK_G(client) &&
             zend_string_equals(key, CASHBACK_G(client_key))) {
    zend_string_release(key);
    *out = CASHBACK_G(client);
    return CASHBACK_OK;
  } else if (CASHBACK_G(client)) {
    cashback_php_client_release(CASHBACK_G(client), CASHBACK_G(client_pid),
                                CASHBACK_G(shutdown_flush_ms));
    CASHBACK_G(client) = NULL;
  }
  cashback_client *c = NULL;
  cashback_status st = default_make(&c, err, size);
  if (st == CASHBACK_OK) {
    CASHBACK_G(client) = c;
    CASHBACK_G(client_pid) = pid;
    CASHBACK_G(warned) = false;
    *out = c;
  }
  if (st == CASHBACK_OK || !CASHBACK_G(client_key) ||
      !zend_string_equals(key, CASHBACK_G(client_key))) {
    if (CASHBACK_G(client_key))
      zend_string_release(CASHBACK_G(client_key));
    CASHBACK_G(client_key) = zend_string_dup(key, 1);
    if (st != CASHBACK_OK)
      CASHBACK_G(warned) = false;
  }
  zend_string_release(key);
  return st;
}

cashback_client *cashback_php_default_client(void) {
  char err[CASHBACK_ERROR_MAX + 128] = "";
  cashback_client *c = NULL;
  cashback_status st = default_get(&c, err, sizeof(err));
  if (st != CASHBACK_OK) {
    cashback_php_throw(st, "%s", err);
    return NULL;
  }
  return c;
}

/* ------------------------------------------------------------------------
 * Module life cycle */

/* The globals hooks are written out: PHP_GINIT_FUNCTION's parameter would
 * shadow the NTS global of the same name. */
static void cashback_ginit(void *globals) {
#if defined(COMPILE_DL_CASHBACK) && defined(ZTS)
  ZEND_TSRMLS_CACHE_UPDATE();
#endif
  memset(globals, 0, sizeof(zend_cashback_globals));
}

static void release_default(void) {
  cashback_php_client_release(CASHBACK_G(client), CASHBACK_G(client_pid),
                              CASHBACK_G(shutdown_flush_ms));
  CASHBACK_G(client) = NULL;
  if (CASHBACK_G(client_key)) {
    zend_string_release(CASHBACK_G(client_key));
    CASHBACK_G(client_key) = NULL;
  }
}

static void cashback_gshutdown(void *globals) {
  (void)globals;
#ifdef ZTS
  /* Each thread's client; the process's one went in MSHUTDOWN (NTS). */
  release_default();
#endif
}

static PHP_MINIT_FUNCTION(cashback) {
  (void)type;
  (void)module_number;
  REGISTER_INI_ENTRIES();
  cashback_php_exception_ce =
      register_class_Cashback_Exception(zend_ce_exception);
  cashback_php_client_ce = register_class_Cashback_Client();
  cashback_php_client_setup();
  return SUCCESS;
}

static PHP_MSHUTDOWN_FUNCTION(cashback) {
  (void)type;
  (void)module_number;
  release_default();
  UNREGISTER_INI_ENTRIES();
  return SUCCESS;
}

/* cashback.auto_capture: the landing capture with no merchant code. Never
 * throws and never fails the request: a bad configuration is written to
 * the error log once per process and settings. */
static PHP_RINIT_FUNCTION(cashback) {
  (void)type;
  (void)module_number;
#if defined(COMPILE_DL_CASHBACK) && defined(ZTS)
  ZEND_TSRMLS_CACHE_UPDATE();
#endif
  CASHBACK_G(auto_captured) = false;
  const char *q = SG(request_info).query_string;
  if (!CASHBACK_G(auto_capture) || !q || !q[0])
    return SUCCESS;
  char err[CASHBACK_ERROR_MAX + 128] = "";
  cashback_client *c = NULL;
  cashback_status st = default_get(&c, err, sizeof(err));
  if (st != CASHBACK_OK) {
    if (!CASHBACK_G(warned)) {
      char line[CASHBACK_ERROR_MAX + 200], shown[4 * sizeof(line)];
      snprintf(line, sizeof(line),
               "cashback.auto_capture: no client (status %d): %s", (int)st,
               err);
      cashback_printable(shown, sizeof(shown), line, strlen(line));
      php_log_err(shown);
      CASHBACK_G(warned) = true;
    }
    return SUCCESS;
  }
  char cookie[CASHBACK_SET_COOKIE_MAX + 1];
  st = cashback_capture(c, q, strlen(q), cookie, sizeof(cookie));
  if (st == CASHBACK_OK) {
    cashback_php_add_set_cookie(cookie);
    CASHBACK_G(auto_captured) = true;
  }
  /* CLICK_NONE (most requests) and a malformed token set no cookie. */
  return SUCCESS;
}

static PHP_MINFO_FUNCTION(cashback) {
  (void)zend_module;
  php_info_print_table_start();
  php_info_print_table_header(2, "cashback support", "enabled");
  php_info_print_table_row(2, "extension version", PHP_CASHBACK_VERSION);
  php_info_print_table_row(2, "libcashback version", cashback_version());
  php_info_print_table_row(2, "default client",
                           CASHBACK_G(client) &&
                                   CASHBACK_G(client_pid) == getpid()
                               ? cashback_client_merchant_id(CASHBACK_G(client))
                               : "not made yet");
  php_info_print_table_end();
  DISPLAY_INI_ENTRIES();
}

zend_module_entry cashback_module_entry = {STANDARD_MODULE_HEADER,
                                           "cashback",
                                           ext_functions,
                                           PHP_MINIT(cashback),
                                           PHP_MSHUTDOWN(cashback),
                                           PHP_RINIT(cashback),
                                           NULL,
                                           PHP_MINFO(cashback),
                                           PHP_CASHBACK_VERSION,
                                           PHP_MODULE_GLOBALS(cashback),
                                           cashback_ginit,
                                           cashback_gshutdown,
                                           NULL,
                                           STANDARD_MODULE_PROPERTIES_EX};

#ifdef COMPILE_DL_CASHBACK
#ifdef ZTS
ZEND_TSRMLS_CACHE_DEFINE()
#endif
ZEND_DLEXPORT zend_module_entry *get_module(void);
ZEND_GET_MODULE(cashback)
#endif

/* ------------------------------------------------------------------------
 * Cashback\ functions: the default client */

#define WITH_DEFAULT(c)                                                        \
  cashback_client *c = cashback_php_default_client();                          \
  if (!c)                                                                      \
  RETURN_THROWS()

ZEND_FUNCTION(Cashback_capture) {
  zend_string *query = NULL;
  bool send = true, strict = false;
  ZEND_PARSE_PARAMETERS_START(0, 3)
  Z_PARAM_OPTIONAL
  Z_PARAM_STR_OR_NULL(query)
  Z_PARAM_BOOL(send)
  Z_PARAM_BOOL(strict)
  ZEND_PARSE_PARAMETERS_END();
  WITH_DEFAULT(c);
  cashback_php_capture(c, query, send, strict, return_value);
}

ZEND_FUNCTION(Cashback_click) {
  zend_string *cookie = NULL;
  bool strict = false;
  ZEND_PARSE_PARAMETERS_START(0, 2)
  Z_PARAM_OPTIONAL
  Z_PARAM_STR_OR_NULL(cookie)
  Z_PARAM_BOOL(strict)
  ZEND_PARSE_PARAMETERS_END();
  WITH_DEFAULT(c);
  cashback_php_click(c, cookie, strict, return_value);
}

static void report_fn(INTERNAL_FUNCTION_PARAMETERS, cashback_event_type type) {
  HashTable *fields;
  ZEND_PARSE_PARAMETERS_START(1, 1)
  Z_PARAM_ARRAY_HT(fields)
  ZEND_PARSE_PARAMETERS_END();
  WITH_DEFAULT(c);
  cashback_php_report(c, type, fields, return_value);
}

ZEND_FUNCTION(Cashback_sale) {
  report_fn(INTERNAL_FUNCTION_PARAM_PASSTHRU, CASHBACK_EVENT_SALE);
}

ZEND_FUNCTION(Cashback_refund) {
  report_fn(INTERNAL_FUNCTION_PARAM_PASSTHRU, CASHBACK_EVENT_REFUND);
}

ZEND_FUNCTION(Cashback_cancel) {
  report_fn(INTERNAL_FUNCTION_PARAM_PASSTHRU, CASHBACK_EVENT_CANCEL);
}

ZEND_FUNCTION(Cashback_confirm) {
  report_fn(INTERNAL_FUNCTION_PARAM_PASSTHRU, CASHBACK_EVENT_CONFIRM);
}

ZEND_FUNCTION(Cashback_status) {
  ZEND_PARSE_PARAMETERS_NONE();
  WITH_DEFAULT(c);
  cashback_php_status(c, return_value);
}

ZEND_FUNCTION(Cashback_flush) {
  zend_long timeout_ms = 10000;
  ZEND_PARSE_PARAMETERS_START(0, 1)
  Z_PARAM_OPTIONAL
  Z_PARAM_LONG(timeout_ms)
  ZEND_PARSE_PARAMETERS_END();
  WITH_DEFAULT(c);
  cashback_php_flush(c, timeout_ms, return_value);
}

ZEND_FUNCTION(Cashback_quarantine) {
  ZEND_PARSE_PARAMETERS_NONE();
  WITH_DEFAULT(c);
  cashback_php_quarantine(c, return_value);
}

ZEND_FUNCTION(Cashback_replay) {
  zend_string *id = NULL;
  ZEND_PARSE_PARAMETERS_START(0, 1)
  Z_PARAM_OPTIONAL
  Z_PARAM_STR_OR_NULL(id)
  ZEND_PARSE_PARAMETERS_END();
  WITH_DEFAULT(c);
  cashback_php_replay(c, id, return_value);
}

ZEND_FUNCTION(Cashback_client) {
  ZEND_PARSE_PARAMETERS_NONE();
  cashback_php_client_default_object(return_value);
}
