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

void cashback_php_type_error(void) {
  zend_object *error = EG(exception);
  if (!error || !instanceof_function(error->ce, zend_ce_type_error))
    return;
  zval rv;
  zval *msg = zend_read_property_ex(zend_ce_error, error,
                                    ZSTR_KNOWN(ZEND_STR_MESSAGE), 1, &rv);
  zend_string *text = zval_get_string(msg);
  GC_ADDREF(error); /* kept as the previous exception */
  zend_clear_exception();
  cashback_php_throw(CASHBACK_E_INVALID_ARGUMENT, "%s", ZSTR_VAL(text));
  zend_string_release(text);
  zend_exception_set_previous(EG(exception), error);
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
STD_PHP_INI_ENTRY_EX("cashback.connection", "", PHP_INI_ALL, OnUpdateStr,
                     connection, zend_cashback_globals, cashback_globals,
                     display_hidden)
STD_PHP_INI_ENTRY("cashback.config", "", PHP_INI_ALL, OnUpdateStr, config,
                  zend_cashback_globals, cashback_globals)
STD_PHP_INI_ENTRY("cashback.spool_dir", "", PHP_INI_ALL, OnUpdateStr, spool_dir,
                  zend_cashback_globals, cashback_globals)
STD_PHP_INI_ENTRY("cashback.durability", "", PHP_INI_ALL, OnUpdateStr,
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

/* A php.ini string setting, "" when unset. */
static zend_string *ini_str(zend_string *v) {
  return v ? v : ZSTR_EMPTY_ALLOC();
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

/* The text form of an options-array value (`*len` bytes, NUL bytes
 * included: the SDK refuses them); 0 when it has none. */
static int option_text(zval *v, char *num, size_t size, const char **out,
                       size_t *len) {
  ZVAL_DEREF(v);
  switch (Z_TYPE_P(v)) {
  case IS_STRING:
    *out = Z_STRVAL_P(v);
    *len = Z_STRLEN_P(v);
    return 1;
  case IS_LONG:
    snprintf(num, size, ZEND_LONG_FMT, Z_LVAL_P(v));
    *out = num;
    *len = strlen(num);
    return 1;
  case IS_TRUE:
  case IS_FALSE:
    *out = Z_TYPE_P(v) == IS_TRUE ? "1" : "0";
    *len = 1;
    return 1;
  default:
    return 0;
  }
}

/* Loads a configuration file. A path is a C string to the SDK's loader
 * (and to the system): one with a NUL inside is refused here, as PHP's
 * own file functions refuse it, never cut at the NUL. */
static cashback_status load_file(cashback_options *o, const char *path,
                                 size_t len, const char *label, char *err,
                                 size_t size) {
  if (memchr(path, '\0', len)) {
    snprintf(err, size, "%s: the path contains a NUL byte", label);
    return CASHBACK_E_CONFIG;
  }
  return loaded(cashback_options_load_file(o, path), label, o, err, size);
}

static cashback_status apply_options(cashback_options *o, HashTable *options,
                                     char *err, size_t size) {
  zend_string *key;
  zend_ulong idx;
  zval *v;
  ZEND_HASH_FOREACH_KEY_VAL(options, idx, key, v) {
    char num[32];
    const char *text = NULL;
    size_t len = 0;
    if (!key) {
      snprintf(err, size, "options: key " ZEND_ULONG_FMT " is not a name", idx);
      return CASHBACK_E_CONFIG;
    }
    if (!option_text(v, num, sizeof(num), &text, &len)) {
      char shown[4 * 64 + 4];
      cashback_printable(shown, sizeof(shown), ZSTR_VAL(key), ZSTR_LEN(key));
      snprintf(err, size,
               "options[%s]: must be a string, an int or a bool (without "
               "NUL bytes)",
               shown);
      return CASHBACK_E_CONFIG;
    }
    cashback_status st =
        zend_string_equals_literal(key, "config")
            ? load_file(o, text, len, "options", err, size)
            : loaded(cashback_options_set_n(o, ZSTR_VAL(key), ZSTR_LEN(key),
                                            text, len),
                     "options", o, err, size);
    if (st != CASHBACK_OK)
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
    st = loaded(cashback_options_load_connection_string_n(
                    o, ZSTR_VAL(connection), ZSTR_LEN(connection)),
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
  zend_string *parts[] = {
      ini_str(CASHBACK_G(connection)), ini_str(CASHBACK_G(config)),
      ini_str(CASHBACK_G(spool_dir)), ini_str(CASHBACK_G(durability))};
  for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++) {
    /* By length, then the bytes: a NUL inside one cannot fake another. */
    smart_str_append_unsigned(&s, ZSTR_LEN(parts[i]));
    smart_str_appendc(&s, ':');
    smart_str_append(&s, parts[i]);
  }
  smart_str_appendc(&s, CASHBACK_G(sender) ? '1' : '0');
  smart_str_0(&s);
  return s.s;
}

/* Makes the default client from php.ini without throwing (RINIT has no
 * stack frame to throw from). */
static cashback_status default_make(cashback_client **out, char *err,
                                    size_t size) {
  zend_string *conn = ini_str(CASHBACK_G(connection));
  zend_string *file = ini_str(CASHBACK_G(config));
  zend_string *spool = ini_str(CASHBACK_G(spool_dir));
  zend_string *dur = ini_str(CASHBACK_G(durability));
  cashback_options *o = cashback_options_new();
  if (!o) {
    snprintf(err, size, "%s", cashback_strerror(CASHBACK_E_NOMEM));
    return CASHBACK_E_NOMEM;
  }
  cashback_status st = CASHBACK_OK;
  if (!ZSTR_LEN(conn) && !ZSTR_LEN(file))
    st = loaded(cashback_options_load_env(o), "environment", o, err, size);
  if (st == CASHBACK_OK && ZSTR_LEN(file))
    st = load_file(o, ZSTR_VAL(file), ZSTR_LEN(file), "cashback.config", err,
                   size);
  if (st == CASHBACK_OK && ZSTR_LEN(conn))
    st = loaded(cashback_options_load_connection_string_n(o, ZSTR_VAL(conn),
                                                          ZSTR_LEN(conn)),
                "cashback.connection", o, err, size);
  if (st == CASHBACK_OK && ZSTR_LEN(spool))
    st = loaded(cashback_options_set_n(o, "spool_dir", 9, ZSTR_VAL(spool),
                                       ZSTR_LEN(spool)),
                "cashback.spool_dir", o, err, size);
  if (st == CASHBACK_OK && ZSTR_LEN(dur))
    st = loaded(cashback_options_set_n(o, "durability", 10, ZSTR_VAL(dur),
                                       ZSTR_LEN(dur)),
                "cashback.durability", o, err, size);
  if (st != CASHBACK_OK) {
    cashback_options_free(o);
    return st;
  }
  char detail[CASHBACK_ERROR_MAX + 1] = "";
  st = cashback_client_new(o, out, detail, sizeof(detail));
  if (st != CASHBACK_OK) {
    if (!ZSTR_LEN(conn) && !ZSTR_LEN(file))
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

/* Forgets the default clients a fork inherited: the parent's are the
 * parent's (freed here without a flush; the child makes its own, and its
 * own sender). */
static void cached_drop_inherited(pid_t pid) {
  for (size_t i = 0; i < CASHBACK_PHP_CLIENTS_MAX; i++) {
    struct cashback_php_cached *e = &CASHBACK_G(clients)[i];
    if (e->client && e->pid != pid) {
      cashback_php_client_release(e->client, e->pid, 0);
      e->client = NULL;
      zend_string_release(e->key);
      e->key = NULL;
    }
  }
  if (CASHBACK_G(client) && CASHBACK_G(client_pid) != pid)
    CASHBACK_G(client) = NULL;
}

/* The slot for a new client: an empty one, else the least recently used
 * one, whose client is freed (with its final delivery when it has a
 * sender thread). */
static struct cashback_php_cached *cached_slot(void) {
  struct cashback_php_cached *slot = NULL;
  for (size_t i = 0; i < CASHBACK_PHP_CLIENTS_MAX; i++) {
    struct cashback_php_cached *e = &CASHBACK_G(clients)[i];
    if (!e->client)
      return e;
    if (!slot || e->used < slot->used)
      slot = e;
  }
  if (CASHBACK_G(client) == slot->client)
    CASHBACK_G(client) = NULL;
  cashback_php_client_release(slot->client, slot->pid,
                              CASHBACK_G(shutdown_flush_ms));
  slot->client = NULL;
  zend_string_release(slot->key);
  slot->key = NULL;
  return slot;
}

/* The default client for the current settings: made on first use and kept
 * per distinct settings (ini_set() or per-directory values that alternate
 * between requests reuse their clients: making one per switch made a spool
 * segment each time, and freeing one stopped its sender thread, a request
 * blocked up to cashback.shutdown_flush_ms against a slow network), made
 * again in a fork of the process that made it. */
static cashback_status default_get(cashback_client **out, char *err,
                                   size_t size) {
  pid_t pid = getpid();
  cached_drop_inherited(pid);
  zend_string *key = settings_key();
  for (size_t i = 0; i < CASHBACK_PHP_CLIENTS_MAX; i++) {
    struct cashback_php_cached *e = &CASHBACK_G(clients)[i];
    if (e->client && zend_string_equals(key, e->key)) {
      e->used = ++CASHBACK_G(clients_clock);
      CASHBACK_G(client) = e->client;
      CASHBACK_G(client_pid) = pid;
      zend_string_release(key);
      *out = e->client;
      return CASHBACK_OK;
    }
  }
  cashback_client *c = NULL;
  cashback_status st = default_make(&c, err, size);
  if (st == CASHBACK_OK) {
    struct cashback_php_cached *e = cached_slot();
    e->client = c;
    e->pid = pid;
    e->key = zend_string_dup(key, 1);
    e->used = ++CASHBACK_G(clients_clock);
    CASHBACK_G(clients_made)++;
    CASHBACK_G(client) = c;
    CASHBACK_G(client_pid) = pid;
    *out = c;
  } else if (!CASHBACK_G(warn_key) ||
             !zend_string_equals(key, CASHBACK_G(warn_key))) {
    /* Other settings failed: RINIT logs them once. */
    if (CASHBACK_G(warn_key))
      zend_string_release(CASHBACK_G(warn_key));
    CASHBACK_G(warn_key) = zend_string_dup(key, 1);
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
  for (size_t i = 0; i < CASHBACK_PHP_CLIENTS_MAX; i++) {
    struct cashback_php_cached *e = &CASHBACK_G(clients)[i];
    if (e->client)
      cashback_php_client_release(e->client, e->pid,
                                  CASHBACK_G(shutdown_flush_ms));
    e->client = NULL;
    if (e->key)
      zend_string_release(e->key);
    e->key = NULL;
  }
  CASHBACK_G(client) = NULL;
  if (CASHBACK_G(warn_key)) {
    zend_string_release(CASHBACK_G(warn_key));
    CASHBACK_G(warn_key) = NULL;
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

/* Every request, in the worker that serves it:
 * - cashback.sender=1 (in a server, not the CLI): the worker's default
 *   client is made, and its sender thread started, at the first request
 *   the worker serves (MINIT runs in the php-fpm master and the Apache
 *   parent, before the fork: no thread survives fork(), and a worker has
 *   no earlier hook of its own). It used to wait for the first Cashback
 *   function, so events queued by workers that died were not sent while
 *   the new workers served plain pages.
 * - cashback.auto_capture=1: the landing capture with no merchant code.
 * Never throws and never fails the request: a bad configuration is written
 * to the error log once per process and settings. */
static PHP_RINIT_FUNCTION(cashback) {
  (void)type;
  (void)module_number;
#if defined(COMPILE_DL_CASHBACK) && defined(ZTS)
  ZEND_TSRMLS_CACHE_UPDATE();
#endif
  CASHBACK_G(auto_captured) = false;
  const char *q = SG(request_info).query_string;
  bool capture = CASHBACK_G(auto_capture) && q && q[0];
  /* A command-line script is its own first use (it calls Cashback, or
   * sets the client up itself before it does). */
  bool sender = CASHBACK_G(sender) && strcmp(sapi_module.name, "cli") != 0 &&
                strcmp(sapi_module.name, "phpdbg") != 0;
  if (!capture && !sender)
    return SUCCESS;
  char err[CASHBACK_ERROR_MAX + 128] = "";
  cashback_client *c = NULL;
  cashback_status st = default_get(&c, err, sizeof(err));
  if (st != CASHBACK_OK) {
    if (!CASHBACK_G(warned)) {
      char line[CASHBACK_ERROR_MAX + 200], shown[4 * sizeof(line)];
      snprintf(line, sizeof(line), "%s: no client (status %d): %s",
               capture ? "cashback.auto_capture" : "cashback.sender", (int)st,
               err);
      cashback_printable(shown, sizeof(shown), line, strlen(line));
      php_log_err(shown);
      CASHBACK_G(warned) = true;
    }
    return SUCCESS;
  }
  if (!capture)
    return SUCCESS;
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
  size_t kept = 0;
  for (size_t i = 0; i < CASHBACK_PHP_CLIENTS_MAX; i++)
    kept +=
        CASHBACK_G(clients)[i].client && CASHBACK_G(clients)[i].pid == getpid();
  char clients[96];
  snprintf(clients, sizeof(clients), "%zu kept (at most %d), %lu made", kept,
           CASHBACK_PHP_CLIENTS_MAX, CASHBACK_G(clients_made));
  php_info_print_table_row(2, "default clients", clients);
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

static cashback_client *default_of(zval *this_zv) {
  (void)this_zv;
  return cashback_php_default_client();
}

#define DEFAULT_OP(name, op)                                                   \
  ZEND_FUNCTION(Cashback_##name) {                                             \
    cashback_php_op_##op(INTERNAL_FUNCTION_PARAM_PASSTHRU, default_of);        \
  }
#define DEFAULT_REPORT(name, type)                                             \
  ZEND_FUNCTION(Cashback_##name) {                                             \
    cashback_php_op_report(INTERNAL_FUNCTION_PARAM_PASSTHRU, default_of,       \
                           type);                                              \
  }

DEFAULT_OP(capture, capture)
DEFAULT_OP(click, click)
DEFAULT_REPORT(sale, CASHBACK_EVENT_SALE)
DEFAULT_REPORT(refund, CASHBACK_EVENT_REFUND)
DEFAULT_REPORT(cancel, CASHBACK_EVENT_CANCEL)
DEFAULT_REPORT(confirm, CASHBACK_EVENT_CONFIRM)
DEFAULT_OP(status, status)
DEFAULT_OP(flush, flush)
DEFAULT_OP(quarantine, quarantine)
DEFAULT_OP(replay, replay)

ZEND_FUNCTION(Cashback_client) {
  CASHBACK_PHP_PARAMS_NONE();
  cashback_php_client_default_object(return_value);
}
