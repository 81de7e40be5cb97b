/*
 * The cashback PHP extension: libcashback for PHP (docs/php.md).
 *
 * A thin shim: php.ini settings and PHP arrays in, SDK calls, SDK statuses
 * out as Cashback\Exception. One default client per worker process, made on
 * first use (never in the FPM master) and made again after a fork.
 */
#ifndef PHP_CASHBACK_H
#define PHP_CASHBACK_H

#include <sys/types.h>

#include <cashback.h>

#include "php.h"

#define PHP_CASHBACK_VERSION CASHBACK_VERSION

/* How many configurations a worker keeps a default client for. */
#define CASHBACK_PHP_CLIENTS_MAX 8

extern zend_module_entry cashback_module_entry;
#define phpext_cashback_ptr &cashback_module_entry

ZEND_BEGIN_MODULE_GLOBALS(cashback)
/* php.ini settings (counted: a NUL inside is the SDK's to refuse) */
zend_string *connection;
zend_string *config;
zend_string *spool_dir;
zend_string *durability;
bool auto_capture;
bool sender;
zend_long shutdown_flush_ms;
/* The default clients of this process (or thread, in ZTS): one per
 * distinct configuration it has seen (ini_set(), per-directory values),
 * at most CASHBACK_PHP_CLIENTS_MAX, the least recently used one freed
 * first; `client` is the one the current settings give (NULL before the
 * first use), `client_pid` the pid that made it. */
struct cashback_php_cached {
  cashback_client *client;
  pid_t pid;
  zend_string *key; /* the settings it was made from (persistent) */
  uint64_t used;    /* when it was last the default client */
} clients[CASHBACK_PHP_CLIENTS_MAX];
uint64_t clients_clock;
unsigned long clients_made; /* made (a fork counts its parent's); phpinfo() */
cashback_client *client;
pid_t client_pid;
zend_string *warn_key; /* the settings of the last failure (persistent) */
bool warned;           /* RINIT already logged a failure for warn_key */
bool auto_captured;    /* auto_capture sent the cookie in this request */
ZEND_END_MODULE_GLOBALS(cashback)

ZEND_EXTERN_MODULE_GLOBALS(cashback)
#define CASHBACK_G(v) ZEND_MODULE_GLOBALS_ACCESSOR(cashback, v)

#if defined(ZTS) && defined(COMPILE_DL_CASHBACK)
ZEND_TSRMLS_CACHE_EXTERN()
#endif

extern zend_class_entry *cashback_php_exception_ce;
extern zend_class_entry *cashback_php_client_ce;

/* Throws Cashback\Exception with code `st` and the formatted message. */
void cashback_php_throw(cashback_status st, const char *fmt, ...)
    ZEND_ATTRIBUTE_FORMAT(printf, 2, 3);

/* After PHP's parameter parsing threw a TypeError (a wrong type) or an
 * ArgumentCountError (a wrong count): throws Cashback\Exception code
 * CASHBACK_E_INVALID_ARGUMENT with PHP's message instead, the TypeError as
 * its previous exception (docs/php.md: every function throws
 * Cashback\Exception). Leaves any other exception alone. */
void cashback_php_type_error(void);

/* The end of a function's parameter list, and a function without
 * parameters: wrong arguments throw Cashback\Exception. */
#define CASHBACK_PHP_PARAMS_END()                                              \
  ZEND_PARSE_PARAMETERS_END_EX(cashback_php_type_error(); return )
#define CASHBACK_PHP_PARAMS_NONE()                                             \
  do {                                                                         \
    if (UNEXPECTED(ZEND_NUM_ARGS() != 0)) {                                    \
      zend_wrong_parameters_none_error();                                      \
      cashback_php_type_error();                                               \
      return;                                                                  \
    }                                                                          \
  } while (0)

/* Throws the client's last error (its detail, else the status text). */
void cashback_php_throw_client(cashback_client *c, cashback_status st);

/* The default client, made from php.ini on first use; NULL with an
 * exception thrown when the configuration is bad. */
cashback_client *cashback_php_default_client(void);

/* Makes a client from a connection string (may be NULL) and an options
 * array (may be NULL: "config" loads a file, other keys as in
 * docs/onboarding.md). Throws and returns NULL on failure. */
cashback_client *cashback_php_client_make(const zend_string *connection,
                                          HashTable *options);

/* Frees a client made in this process; a client inherited through fork()
 * is left alone (its sender thread and locks belong to the parent). */
void cashback_php_client_release(cashback_client *c, pid_t owner,
                                 zend_long flush_ms);

/* Adds a Set-Cookie header to the response (alongside any others). */
void cashback_php_add_set_cookie(const char *value);

/* The client a Cashback\ function or Client method works on: the
 * default client, or `this_zv`'s. NULL with an exception thrown. */
typedef cashback_client *(*cashback_php_client_of)(zval *this_zv);

/* The body of a Cashback\ function and of the Client method of the same
 * name (cashback_php_ops.c): parses the parameters, gets the client from
 * `client_of`, fills return_value or throws. */
void cashback_php_op_capture(INTERNAL_FUNCTION_PARAMETERS,
                             cashback_php_client_of client_of);
void cashback_php_op_click(INTERNAL_FUNCTION_PARAMETERS,
                           cashback_php_client_of client_of);
void cashback_php_op_report(INTERNAL_FUNCTION_PARAMETERS,
                            cashback_php_client_of client_of,
                            cashback_event_type type);
void cashback_php_op_status(INTERNAL_FUNCTION_PARAMETERS,
                            cashback_php_client_of client_of);
void cashback_php_op_flush(INTERNAL_FUNCTION_PARAMETERS,
                           cashback_php_client_of client_of);
void cashback_php_op_quarantine(INTERNAL_FUNCTION_PARAMETERS,
                                cashback_php_client_of client_of);
void cashback_php_op_replay(INTERNAL_FUNCTION_PARAMETERS,
                            cashback_php_client_of client_of);

/* Builds an event from a PHP array (cashback_php_event.c). Returns NULL
 * with an exception thrown when a field is missing, of the wrong type, a
 * float amount, or refused by the SDK. */
cashback_event *cashback_php_event_from_array(cashback_client *c,
                                              cashback_event_type type,
                                              HashTable *fields);

/* Installs the object handlers of the Client class once it is
 * registered (cashback_php_client.c). */
void cashback_php_client_setup(void);

/* Returns a Cashback\Client object that stands for the default client. */
void cashback_php_client_default_object(zval *return_value);

#endif /* PHP_CASHBACK_H */
