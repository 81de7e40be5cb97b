/* This is a generated file, edit the .stub.php file instead.
 * Stub hash: d93c84e0f072c36b2696e9ac27b6cc873ef0c56c */

ZEND_BEGIN_ARG_WITH_RETURN_TYPE_INFO_EX(arginfo_Cashback_capture, 0, 0, IS_STRING, 1)
	ZEND_ARG_TYPE_INFO_WITH_DEFAULT_VALUE(0, query, IS_STRING, 1, "null")
	ZEND_ARG_TYPE_INFO_WITH_DEFAULT_VALUE(0, send, _IS_BOOL, 0, "true")
	ZEND_ARG_TYPE_INFO_WITH_DEFAULT_VALUE(0, strict, _IS_BOOL, 0, "false")
ZEND_END_ARG_INFO()

ZEND_BEGIN_ARG_WITH_RETURN_TYPE_INFO_EX(arginfo_Cashback_click, 0, 0, IS_STRING, 1)
	ZEND_ARG_TYPE_INFO_WITH_DEFAULT_VALUE(0, cookie_header, IS_STRING, 1, "null")
	ZEND_ARG_TYPE_INFO_WITH_DEFAULT_VALUE(0, strict, _IS_BOOL, 0, "false")
ZEND_END_ARG_INFO()

ZEND_BEGIN_ARG_WITH_RETURN_TYPE_INFO_EX(arginfo_Cashback_sale, 0, 1, IS_STRING, 0)
	ZEND_ARG_TYPE_INFO(0, order, IS_ARRAY, 0)
ZEND_END_ARG_INFO()

ZEND_BEGIN_ARG_WITH_RETURN_TYPE_INFO_EX(arginfo_Cashback_refund, 0, 1, IS_STRING, 0)
	ZEND_ARG_TYPE_INFO(0, refund, IS_ARRAY, 0)
ZEND_END_ARG_INFO()

#define arginfo_Cashback_cancel arginfo_Cashback_sale

#define arginfo_Cashback_confirm arginfo_Cashback_sale

ZEND_BEGIN_ARG_WITH_RETURN_TYPE_INFO_EX(arginfo_Cashback_status, 0, 0, IS_ARRAY, 0)
ZEND_END_ARG_INFO()

ZEND_BEGIN_ARG_WITH_RETURN_TYPE_INFO_EX(arginfo_Cashback_flush, 0, 0, _IS_BOOL, 0)
	ZEND_ARG_TYPE_INFO_WITH_DEFAULT_VALUE(0, timeout_ms, IS_LONG, 0, "10000")
ZEND_END_ARG_INFO()

#define arginfo_Cashback_quarantine arginfo_Cashback_status

ZEND_BEGIN_ARG_WITH_RETURN_TYPE_INFO_EX(arginfo_Cashback_replay, 0, 0, IS_LONG, 0)
	ZEND_ARG_TYPE_INFO_WITH_DEFAULT_VALUE(0, id, IS_STRING, 1, "null")
ZEND_END_ARG_INFO()

ZEND_BEGIN_ARG_WITH_RETURN_OBJ_INFO_EX(arginfo_Cashback_client, 0, 0, Cashback\\Client, 0)
ZEND_END_ARG_INFO()

ZEND_BEGIN_ARG_INFO_EX(arginfo_class_Cashback_Client___construct, 0, 0, 0)
	ZEND_ARG_TYPE_INFO_WITH_DEFAULT_VALUE(0, connection, IS_STRING, 1, "null")
	ZEND_ARG_TYPE_INFO_WITH_DEFAULT_VALUE(0, options, IS_ARRAY, 0, "[]")
ZEND_END_ARG_INFO()

ZEND_BEGIN_ARG_WITH_RETURN_TYPE_INFO_EX(arginfo_class_Cashback_Client_merchantId, 0, 0, IS_STRING, 0)
ZEND_END_ARG_INFO()

#define arginfo_class_Cashback_Client_capture arginfo_Cashback_capture

#define arginfo_class_Cashback_Client_click arginfo_Cashback_click

#define arginfo_class_Cashback_Client_sale arginfo_Cashback_sale

#define arginfo_class_Cashback_Client_refund arginfo_Cashback_refund

#define arginfo_class_Cashback_Client_cancel arginfo_Cashback_sale

#define arginfo_class_Cashback_Client_confirm arginfo_Cashback_sale

#define arginfo_class_Cashback_Client_status arginfo_Cashback_status

#define arginfo_class_Cashback_Client_flush arginfo_Cashback_flush

#define arginfo_class_Cashback_Client_quarantine arginfo_Cashback_status

#define arginfo_class_Cashback_Client_replay arginfo_Cashback_replay


ZEND_FUNCTION(Cashback_capture);
ZEND_FUNCTION(Cashback_click);
ZEND_FUNCTION(Cashback_sale);
ZEND_FUNCTION(Cashback_refund);
ZEND_FUNCTION(Cashback_cancel);
ZEND_FUNCTION(Cashback_confirm);
ZEND_FUNCTION(Cashback_status);
ZEND_FUNCTION(Cashback_flush);
ZEND_FUNCTION(Cashback_quarantine);
ZEND_FUNCTION(Cashback_replay);
ZEND_FUNCTION(Cashback_client);
ZEND_METHOD(Cashback_Client, __construct);
ZEND_METHOD(Cashback_Client, merchantId);
ZEND_METHOD(Cashback_Client, capture);
ZEND_METHOD(Cashback_Client, click);
ZEND_METHOD(Cashback_Client, sale);
ZEND_METHOD(Cashback_Client, refund);
ZEND_METHOD(Cashback_Client, cancel);
ZEND_METHOD(Cashback_Client, confirm);
ZEND_METHOD(Cashback_Client, status);
ZEND_METHOD(Cashback_Client, flush);
ZEND_METHOD(Cashback_Client, quarantine);
ZEND_METHOD(Cashback_Client, replay);


static const zend_function_entry ext_functions[] = {
	ZEND_NS_FALIAS("Cashback", capture, Cashback_capture, arginfo_Cashback_capture)
	ZEND_NS_FALIAS("Cashback", click, Cashback_click, arginfo_Cashback_click)
	ZEND_NS_FALIAS("Cashback", sale, Cashback_sale, arginfo_Cashback_sale)
	ZEND_NS_FALIAS("Cashback", refund, Cashback_refund, arginfo_Cashback_refund)
	ZEND_NS_FALIAS("Cashback", cancel, Cashback_cancel, arginfo_Cashback_cancel)
	ZEND_NS_FALIAS("Cashback", confirm, Cashback_confirm, arginfo_Cashback_confirm)
	ZEND_NS_FALIAS("Cashback", status, Cashback_status, arginfo_Cashback_status)
	ZEND_NS_FALIAS("Cashback", flush, Cashback_flush, arginfo_Cashback_flush)
	ZEND_NS_FALIAS("Cashback", quarantine, Cashback_quarantine, arginfo_Cashback_quarantine)
	ZEND_NS_FALIAS("Cashback", replay, Cashback_replay, arginfo_Cashback_replay)
	ZEND_NS_FALIAS("Cashback", client, Cashback_client, arginfo_Cashback_client)
	ZEND_FE_END
};


static const zend_function_entry class_Cashback_Exception_methods[] = {
	ZEND_FE_END
};


static const zend_function_entry class_Cashback_Client_methods[] = {
	ZEND_ME(Cashback_Client, __construct, arginfo_class_Cashback_Client___construct, ZEND_ACC_PUBLIC)
	ZEND_ME(Cashback_Client, merchantId, arginfo_class_Cashback_Client_merchantId, ZEND_ACC_PUBLIC)
	ZEND_ME(Cashback_Client, capture, arginfo_class_Cashback_Client_capture, ZEND_ACC_PUBLIC)
	ZEND_ME(Cashback_Client, click, arginfo_class_Cashback_Client_click, ZEND_ACC_PUBLIC)
	ZEND_ME(Cashback_Client, sale, arginfo_class_Cashback_Client_sale, ZEND_ACC_PUBLIC)
	ZEND_ME(Cashback_Client, refund, arginfo_class_Cashback_Client_refund, ZEND_ACC_PUBLIC)
	ZEND_ME(Cashback_Client, cancel, arginfo_class_Cashback_Client_cancel, ZEND_ACC_PUBLIC)
	ZEND_ME(Cashback_Client, confirm, arginfo_class_Cashback_Client_confirm, ZEND_ACC_PUBLIC)
	ZEND_ME(Cashback_Client, status, arginfo_class_Cashback_Client_status, ZEND_ACC_PUBLIC)
	ZEND_ME(Cashback_Client, flush, arginfo_class_Cashback_Client_flush, ZEND_ACC_PUBLIC)
	ZEND_ME(Cashback_Client, quarantine, arginfo_class_Cashback_Client_quarantine, ZEND_ACC_PUBLIC)
	ZEND_ME(Cashback_Client, replay, arginfo_class_Cashback_Client_replay, ZEND_ACC_PUBLIC)
	ZEND_FE_END
};

static zend_class_entry *register_class_Cashback_Exception(zend_class_entry *class_entry_Exception)
{
	zend_class_entry ce, *class_entry;

	INIT_NS_CLASS_ENTRY(ce, "Cashback", "Exception", class_Cashback_Exception_methods);
	class_entry = zend_register_internal_class_ex(&ce, class_entry_Exception);

	zval const_INVALID_ARGUMENT_value;
	ZVAL_LONG(&const_INVALID_ARGUMENT_value, CASHBACK_E_INVALID_ARGUMENT);
	zend_string *const_INVALID_ARGUMENT_name = zend_string_init_interned("INVALID_ARGUMENT", sizeof("INVALID_ARGUMENT") - 1, 1);
	zend_declare_class_constant_ex(class_entry, const_INVALID_ARGUMENT_name, &const_INVALID_ARGUMENT_value, ZEND_ACC_PUBLIC, NULL);
	zend_string_release(const_INVALID_ARGUMENT_name);

	zval const_NOMEM_value;
	ZVAL_LONG(&const_NOMEM_value, CASHBACK_E_NOMEM);
	zend_string *const_NOMEM_name = zend_string_init_interned("NOMEM", sizeof("NOMEM") - 1, 1);
	zend_declare_class_constant_ex(class_entry, const_NOMEM_name, &const_NOMEM_value, ZEND_ACC_PUBLIC, NULL);
	zend_string_release(const_NOMEM_name);

	zval const_CONFIG_value;
	ZVAL_LONG(&const_CONFIG_value, CASHBACK_E_CONFIG);
	zend_string *const_CONFIG_name = zend_string_init_interned("CONFIG", sizeof("CONFIG") - 1, 1);
	zend_declare_class_constant_ex(class_entry, const_CONFIG_name, &const_CONFIG_value, ZEND_ACC_PUBLIC, NULL);
	zend_string_release(const_CONFIG_name);

	zval const_CLICK_NONE_value;
	ZVAL_LONG(&const_CLICK_NONE_value, CASHBACK_E_CLICK_NONE);
	zend_string *const_CLICK_NONE_name = zend_string_init_interned("CLICK_NONE", sizeof("CLICK_NONE") - 1, 1);
	zend_declare_class_constant_ex(class_entry, const_CLICK_NONE_name, &const_CLICK_NONE_value, ZEND_ACC_PUBLIC, NULL);
	zend_string_release(const_CLICK_NONE_name);

	zval const_CLICK_EXPIRED_value;
	ZVAL_LONG(&const_CLICK_EXPIRED_value, CASHBACK_E_CLICK_EXPIRED);
	zend_string *const_CLICK_EXPIRED_name = zend_string_init_interned("CLICK_EXPIRED", sizeof("CLICK_EXPIRED") - 1, 1);
	zend_declare_class_constant_ex(class_entry, const_CLICK_EXPIRED_name, &const_CLICK_EXPIRED_value, ZEND_ACC_PUBLIC, NULL);
	zend_string_release(const_CLICK_EXPIRED_name);

	zval const_CLICK_TAMPERED_value;
	ZVAL_LONG(&const_CLICK_TAMPERED_value, CASHBACK_E_CLICK_TAMPERED);
	zend_string *const_CLICK_TAMPERED_name = zend_string_init_interned("CLICK_TAMPERED", sizeof("CLICK_TAMPERED") - 1, 1);
	zend_declare_class_constant_ex(class_entry, const_CLICK_TAMPERED_name, &const_CLICK_TAMPERED_value, ZEND_ACC_PUBLIC, NULL);
	zend_string_release(const_CLICK_TAMPERED_name);

	zval const_CLICK_MALFORMED_value;
	ZVAL_LONG(&const_CLICK_MALFORMED_value, CASHBACK_E_CLICK_MALFORMED);
	zend_string *const_CLICK_MALFORMED_name = zend_string_init_interned("CLICK_MALFORMED", sizeof("CLICK_MALFORMED") - 1, 1);
	zend_declare_class_constant_ex(class_entry, const_CLICK_MALFORMED_name, &const_CLICK_MALFORMED_value, ZEND_ACC_PUBLIC, NULL);
	zend_string_release(const_CLICK_MALFORMED_name);

	zval const_AMOUNT_value;
	ZVAL_LONG(&const_AMOUNT_value, CASHBACK_E_AMOUNT);
	zend_string *const_AMOUNT_name = zend_string_init_interned("AMOUNT", sizeof("AMOUNT") - 1, 1);
	zend_declare_class_constant_ex(class_entry, const_AMOUNT_name, &const_AMOUNT_value, ZEND_ACC_PUBLIC, NULL);
	zend_string_release(const_AMOUNT_name);

	zval const_CURRENCY_value;
	ZVAL_LONG(&const_CURRENCY_value, CASHBACK_E_CURRENCY);
	zend_string *const_CURRENCY_name = zend_string_init_interned("CURRENCY", sizeof("CURRENCY") - 1, 1);
	zend_declare_class_constant_ex(class_entry, const_CURRENCY_name, &const_CURRENCY_value, ZEND_ACC_PUBLIC, NULL);
	zend_string_release(const_CURRENCY_name);

	zval const_FIELD_value;
	ZVAL_LONG(&const_FIELD_value, CASHBACK_E_FIELD);
	zend_string *const_FIELD_name = zend_string_init_interned("FIELD", sizeof("FIELD") - 1, 1);
	zend_declare_class_constant_ex(class_entry, const_FIELD_name, &const_FIELD_value, ZEND_ACC_PUBLIC, NULL);
	zend_string_release(const_FIELD_name);

	zval const_TOO_BIG_value;
	ZVAL_LONG(&const_TOO_BIG_value, CASHBACK_E_TOO_BIG);
	zend_string *const_TOO_BIG_name = zend_string_init_interned("TOO_BIG", sizeof("TOO_BIG") - 1, 1);
	zend_declare_class_constant_ex(class_entry, const_TOO_BIG_name, &const_TOO_BIG_value, ZEND_ACC_PUBLIC, NULL);
	zend_string_release(const_TOO_BIG_name);

	zval const_CRYPTO_value;
	ZVAL_LONG(&const_CRYPTO_value, CASHBACK_E_CRYPTO);
	zend_string *const_CRYPTO_name = zend_string_init_interned("CRYPTO", sizeof("CRYPTO") - 1, 1);
	zend_declare_class_constant_ex(class_entry, const_CRYPTO_name, &const_CRYPTO_value, ZEND_ACC_PUBLIC, NULL);
	zend_string_release(const_CRYPTO_name);

	zval const_IO_value;
	ZVAL_LONG(&const_IO_value, CASHBACK_E_IO);
	zend_string *const_IO_name = zend_string_init_interned("IO", sizeof("IO") - 1, 1);
	zend_declare_class_constant_ex(class_entry, const_IO_name, &const_IO_value, ZEND_ACC_PUBLIC, NULL);
	zend_string_release(const_IO_name);

	zval const_INTERNAL_value;
	ZVAL_LONG(&const_INTERNAL_value, CASHBACK_E_INTERNAL);
	zend_string *const_INTERNAL_name = zend_string_init_interned("INTERNAL", sizeof("INTERNAL") - 1, 1);
	zend_declare_class_constant_ex(class_entry, const_INTERNAL_name, &const_INTERNAL_value, ZEND_ACC_PUBLIC, NULL);
	zend_string_release(const_INTERNAL_name);

	zval const_SPOOL_FULL_value;
	ZVAL_LONG(&const_SPOOL_FULL_value, CASHBACK_E_SPOOL_FULL);
	zend_string *const_SPOOL_FULL_name = zend_string_init_interned("SPOOL_FULL", sizeof("SPOOL_FULL") - 1, 1);
	zend_declare_class_constant_ex(class_entry, const_SPOOL_FULL_name, &const_SPOOL_FULL_value, ZEND_ACC_PUBLIC, NULL);
	zend_string_release(const_SPOOL_FULL_name);

	zval const_DISK_FULL_value;
	ZVAL_LONG(&const_DISK_FULL_value, CASHBACK_E_DISK_FULL);
	zend_string *const_DISK_FULL_name = zend_string_init_interned("DISK_FULL", sizeof("DISK_FULL") - 1, 1);
	zend_declare_class_constant_ex(class_entry, const_DISK_FULL_name, &const_DISK_FULL_value, ZEND_ACC_PUBLIC, NULL);
	zend_string_release(const_DISK_FULL_name);

	zval const_NETWORK_value;
	ZVAL_LONG(&const_NETWORK_value, CASHBACK_E_NETWORK);
	zend_string *const_NETWORK_name = zend_string_init_interned("NETWORK", sizeof("NETWORK") - 1, 1);
	zend_declare_class_constant_ex(class_entry, const_NETWORK_name, &const_NETWORK_value, ZEND_ACC_PUBLIC, NULL);
	zend_string_release(const_NETWORK_name);

	zval const_HTTP_value;
	ZVAL_LONG(&const_HTTP_value, CASHBACK_E_HTTP);
	zend_string *const_HTTP_name = zend_string_init_interned("HTTP", sizeof("HTTP") - 1, 1);
	zend_declare_class_constant_ex(class_entry, const_HTTP_name, &const_HTTP_value, ZEND_ACC_PUBLIC, NULL);
	zend_string_release(const_HTTP_name);

	zval const_AUTH_value;
	ZVAL_LONG(&const_AUTH_value, CASHBACK_E_AUTH);
	zend_string *const_AUTH_name = zend_string_init_interned("AUTH", sizeof("AUTH") - 1, 1);
	zend_declare_class_constant_ex(class_entry, const_AUTH_name, &const_AUTH_value, ZEND_ACC_PUBLIC, NULL);
	zend_string_release(const_AUTH_name);

	zval const_BUSY_value;
	ZVAL_LONG(&const_BUSY_value, CASHBACK_E_BUSY);
	zend_string *const_BUSY_name = zend_string_init_interned("BUSY", sizeof("BUSY") - 1, 1);
	zend_declare_class_constant_ex(class_entry, const_BUSY_name, &const_BUSY_value, ZEND_ACC_PUBLIC, NULL);
	zend_string_release(const_BUSY_name);

	zval const_TIMEOUT_value;
	ZVAL_LONG(&const_TIMEOUT_value, CASHBACK_E_TIMEOUT);
	zend_string *const_TIMEOUT_name = zend_string_init_interned("TIMEOUT", sizeof("TIMEOUT") - 1, 1);
	zend_declare_class_constant_ex(class_entry, const_TIMEOUT_name, &const_TIMEOUT_value, ZEND_ACC_PUBLIC, NULL);
	zend_string_release(const_TIMEOUT_name);

	zval const_NOT_FOUND_value;
	ZVAL_LONG(&const_NOT_FOUND_value, CASHBACK_E_NOT_FOUND);
	zend_string *const_NOT_FOUND_name = zend_string_init_interned("NOT_FOUND", sizeof("NOT_FOUND") - 1, 1);
	zend_declare_class_constant_ex(class_entry, const_NOT_FOUND_name, &const_NOT_FOUND_value, ZEND_ACC_PUBLIC, NULL);
	zend_string_release(const_NOT_FOUND_name);

	zval const_PROTOCOL_value;
	ZVAL_LONG(&const_PROTOCOL_value, CASHBACK_E_PROTOCOL);
	zend_string *const_PROTOCOL_name = zend_string_init_interned("PROTOCOL", sizeof("PROTOCOL") - 1, 1);
	zend_declare_class_constant_ex(class_entry, const_PROTOCOL_name, &const_PROTOCOL_value, ZEND_ACC_PUBLIC, NULL);
	zend_string_release(const_PROTOCOL_name);

	return class_entry;
}

static zend_class_entry *register_class_Cashback_Client(void)
{
	zend_class_entry ce, *class_entry;

	INIT_NS_CLASS_ENTRY(ce, "Cashback", "Client", class_Cashback_Client_methods);
	class_entry = zend_register_internal_class_ex(&ce, NULL);
	class_entry->ce_flags |= ZEND_ACC_FINAL|ZEND_ACC_NO_DYNAMIC_PROPERTIES|ZEND_ACC_NOT_SERIALIZABLE;

	return class_entry;
}
