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
  CASHBACK_PHP_PARAMS_END();
  client_obj *o = from_obj(Z_OBJ_P(ZEND_THIS));
  if (o->client || o->is_default || o->pid) {
    cashback_php_throw(CASHBACK_E_INVALID_ARGUMENT,
                       "Cashback\\Client: already constructed");
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

ZEND_METHOD(Cashback_Client, merchantId) {
  CASHBACK_PHP_PARAMS_NONE();
  cashback_client *c = this_client(ZEND_THIS);
  if (!c)
    RETURN_THROWS();
  RETURN_STRING(cashback_client_merchant_id(c));
}

#define CLIENT_OP(name, op)                                                    \
  ZEND_METHOD(Cashback_Client, name) {                                         \
    cashback_php_op_##op(INTERNAL_FUNCTION_PARAM_PASSTHRU, this_client);       \
  }
#define CLIENT_REPORT(name, type)                                              \
  ZEND_METHOD(Cashback_Client, name) {                                         \
    cashback_php_op_report(INTERNAL_FUNCTION_PARAM_PASSTHRU, this_client,      \
                           type);                                              \
  }

CLIENT_OP(capture, capture)
CLIENT_OP(click, click)
CLIENT_REPORT(sale, CASHBACK_EVENT_SALE)
CLIENT_REPORT(refund, CASHBACK_EVENT_REFUND)
CLIENT_REPORT(cancel, CASHBACK_EVENT_CANCEL)
CLIENT_REPORT(confirm, CASHBACK_EVENT_CONFIRM)
CLIENT_OP(status, status)
CLIENT_OP(flush, flush)
CLIENT_OP(quarantine, quarantine)
CLIENT_OP(replay, replay)

void cashback_php_client_setup(void) {
  cashback_php_client_ce->create_object = client_create;
  memcpy(&client_handlers, zend_get_std_object_handlers(),
         sizeof(client_handlers));
  client_handlers.offset = XtOffsetOf(client_obj, std);
  client_handlers.free_obj = client_free;
  client_handlers.clone_obj = NULL;
}
