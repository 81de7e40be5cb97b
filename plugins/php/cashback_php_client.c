/*
 * Cashback\Client: a client configured per call (its own connection string
 * and options), or, from Cashback\client(), the worker's default client.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <unistd.h>

#include "php.h"
#include "zend_exceptions.h"

#include "php_cashback.h"
/* The generated header defines every entry table; this file uses the
 * Client class's only. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-function"
#pragma GCC diagnostic ignored "-Wunused-variable"
#include "cashback_arginfo.h"
#pragma GCC diagnostic pop

zend_class_entry *cashback_php_client_ce;
static zend_object_handlers client_handlers;

typedef struct {
  cashback_client *client; /* NULL for the default client's object */
  pid_t pid;               /* the process that made `client` */
  bool is_default;
  zend_string *connection; /* what it was made from, to make it again */
  zval options;            /* after a fork (UNDEF: none) */
  zend_object std;
} client_obj;

static client_obj *from_obj(zend_object *o) {
  return (client_obj *)((char *)o - XtOffsetOf(client_obj, std));
}

static zend_object *client_create(zend_class_entry *ce) {
  client_obj *o = zend_object_alloc(sizeof(client_obj), ce);
  ZVAL_UNDEF(&o->options);
  zend_object_std_init(&o->std, ce);
  object_properties_init(&o->std, ce);
  o->std.handlers = &client_handlers;
  return &o->std;
}

static void client_free(zend_object *object) {
  client_obj *o = from_obj(object);
  cashback_php_client_release(o->client, o->pid, 0);
  o->client = NULL;
  if (o->connection)
    zend_string_release(o->connection);
  zval_ptr_dtor(&o->options);
  zend_object_std_dtor(&o->std);
}

/* The client behind `this`, made again in a forked child. */
static cashback_client *this_client(zval *this_zv) {
  client_obj *o = from_obj(Z_OBJ_P(this_zv));
  if (o->is_default)
    return cashback_php_default_client();
  if (!o->client && !o->pid) {
    cashback_php_throw(CASHBACK_E_INVALID_ARGUMENT,
                       "Cashback\\Client: the constructor did not complete");
    return NULL;
  }
  if (o->client && o->pid == getpid())
    return o->client;
  /* A fork (or a failed remake): the parent's client is the parent's; the
   * child's copy is freed (it holds nothing of the parent's). */
  cashback_php_client_release(o->client, o->pid, 0);
  o->client = cashback_php_client_make(
      o->connection,
      Z_TYPE(o->options) == IS_ARRAY ? Z_ARRVAL(o->options) : NULL);
  o->pid = getpid();
  return o->client;
}

void cashback_php_client_default_object(zval *return_value) {
  object_init_ex(return_value, cashback_php_client_ce);
  client_obj *o = from_obj(Z_OBJ_P(return_value));
  o->is_default = true;
}

ZEND_METHOD(Cashback_Client, __construct) {
  zend_string *connection = NULL;
  HashTable *options = NULL;
  ZEND_PARSE_PARAMETERS_START(0, 2)
  Z_PARAM_OPTIONAL
  Z_PARAM_STR_OR_NULL(connection)
  Z_PARAM_ARRAY_HT(options)
  ZEND_PARSE_PARAMETERS_END();
  client_obj *o = from_obj(Z_OBJ_P(ZEND_THIS));
  if (o->client || o->is_default || o->pid) {
    cashback_php_throw(CASHBACK_E_INVALID_ARGUMENT,
                       "Cashback\\Client: already constructed");
    RETURN_THROWS();
  }
  if (connection && strlen(ZSTR_VAL(connection)) != ZSTR_LEN(connection)) {
    cashback_php_throw(CASHBACK_E_CONFIG,
                       "connection: the string contains a NUL byte");
    RETURN_THROWS();
  }
  cashback_client *c = cashback_php_client_make(connection, options);
  if (!c)
    RETURN_THROWS();
  o->client = c;
  o->pid = getpid();
  if (connection)
    o->connection = zend_string_copy(connection);
  if (options)
    ZVAL_ARR(&o->options, zend_array_dup(options));
}

#define THIS_CLIENT(c)                                                         \
  cashback_client *c = this_client(ZEND_THIS);                                 \
  if (!c)                                                                      \
  RETURN_THROWS()

ZEND_METHOD(Cashback_Client, merchantId) {
  ZEND_PARSE_PARAMETERS_NONE();
  THIS_CLIENT(c);
  RETURN_STRING(cashback_client_merchant_id(c));
}

ZEND_METHOD(Cashback_Client, capture) {
  zend_string *query = NULL;
  bool send = true, strict = false;
  ZEND_PARSE_PARAMETERS_START(0, 3)
  Z_PARAM_OPTIONAL
  Z_PARAM_STR_OR_NULL(query)
  Z_PARAM_BOOL(send)
  Z_PARAM_BOOL(strict)
  ZEND_PARSE_PARAMETERS_END();
  THIS_CLIENT(c);
  cashback_php_capture(c, query, send, strict, return_value);
}

ZEND_METHOD(Cashback_Client, click) {
  zend_string *cookie = NULL;
  bool strict = false;
  ZEND_PARSE_PARAMETERS_START(0, 2)
  Z_PARAM_OPTIONAL
  Z_PARAM_STR_OR_NULL(cookie)
  Z_PARAM_BOOL(strict)
  ZEND_PARSE_PARAMETERS_END();
  THIS_CLIENT(c);
  cashback_php_click(c, cookie, strict, return_value);
}

static void report_method(INTERNAL_FUNCTION_PARAMETERS,
                          cashback_event_type type) {
  HashTable *fields;
  ZEND_PARSE_PARAMETERS_START(1, 1)
  Z_PARAM_ARRAY_HT(fields)
  ZEND_PARSE_PARAMETERS_END();
  THIS_CLIENT(c);
  cashback_php_report(c, type, fields, return_value);
}

ZEND_METHOD(Cashback_Client, sale) {
  report_method(INTERNAL_FUNCTION_PARAM_PASSTHRU, CASHBACK_EVENT_SALE);
}

ZEND_METHOD(Cashback_Client, refund) {
  report_method(INTERNAL_FUNCTION_PARAM_PASSTHRU, CASHBACK_EVENT_REFUND);
}

ZEND_METHOD(Cashback_Client, cancel) {
  report_method(INTERNAL_FUNCTION_PARAM_PASSTHRU, CASHBACK_EVENT_CANCEL);
}

ZEND_METHOD(Cashback_Client, confirm) {
  report_method(INTERNAL_FUNCTION_PARAM_PASSTHRU, CASHBACK_EVENT_CONFIRM);
}

ZEND_METHOD(Cashback_Client, status) {
  ZEND_PARSE_PARAMETERS_NONE();
  THIS_CLIENT(c);
  cashback_php_status(c, return_value);
}

ZEND_METHOD(Cashback_Client, flush) {
  zend_long timeout_ms = 10000;
  ZEND_PARSE_PARAMETERS_START(0, 1)
  Z_PARAM_OPTIONAL
  Z_PARAM_LONG(timeout_ms)
  ZEND_PARSE_PARAMETERS_END();
  THIS_CLIENT(c);
  cashback_php_flush(c, timeout_ms, return_value);
}

ZEND_METHOD(Cashback_Client, quarantine) {
  ZEND_PARSE_PARAMETERS_NONE();
  THIS_CLIENT(c);
  cashback_php_quarantine(c, return_value);
}

ZEND_METHOD(Cashback_Client, replay) {
  zend_string *id = NULL;
  ZEND_PARSE_PARAMETERS_START(0, 1)
  Z_PARAM_OPTIONAL
  Z_PARAM_STR_OR_NULL(id)
  ZEND_PARSE_PARAMETERS_END();
  THIS_CLIENT(c);
  cashback_php_replay(c, id, return_value);
}

void cashback_php_client_setup(void) {
  cashback_php_client_ce->create_object = client_create;
  memcpy(&client_handlers, zend_get_std_object_handlers(),
         sizeof(client_handlers));
  client_handlers.offset = XtOffsetOf(client_obj, std);
  client_handlers.free_obj = client_free;
  client_handlers.clone_obj = NULL;
}
