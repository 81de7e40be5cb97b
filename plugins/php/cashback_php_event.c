/*
 * A PHP array to a libcashback event. Only PHP concerns live here (which
 * PHP types each field takes, floats refused); every rule about the values
 * themselves is the SDK's, whose message is passed on.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "php.h"
#include "zend_exceptions.h"

#include "php_cashback.h"

static const char *const event_keys[] = {
    "order_id", "click",    "amount",     "amount_minor", "currency",
    "items",    "vouchers", "customer",   "metadata",     "refund_id",
    "reason",   "test",     "order_time", "utc_offset",   NULL};

static const char *const item_keys[] = {
    "sku", "name", "quantity", "price", "price_minor", "category", NULL};

static const char float_hint[] =
    "a float cannot hold money exactly; pass a decimal string such as "
    "'49.90' or an int";

static int known(const char *const *keys, const zend_string *key) {
  for (size_t i = 0; keys[i]; i++)
    if (zend_string_equals_cstr(key, keys[i], strlen(keys[i])))
      return 1;
  return 0;
}

/* Every key of `ht` is one of `keys`, else throws naming the stranger. */
static int check_keys(HashTable *ht, const char *const *keys,
                      const char *where) {
  zend_string *key;
  zend_ulong idx;
  ZEND_HASH_FOREACH_KEY(ht, idx, key) {
    if (!key) {
      cashback_php_throw(CASHBACK_E_FIELD,
                         "%sunknown key " ZEND_ULONG_FMT
                         " (expected an array with named keys)",
                         where, idx);
      return 0;
    }
    if (!known(keys, key)) {
      char shown[4 * 64 + 4]; /* by its length: NULs shown too */
      cashback_printable(shown, sizeof(shown), ZSTR_VAL(key), ZSTR_LEN(key));
      cashback_php_throw(CASHBACK_E_FIELD, "%sunknown key '%s'", where, shown);
      return 0;
    }
  }
  ZEND_HASH_FOREACH_END();
  return 1;
}

static zval *field(HashTable *ht, const char *name) {
  zval *v = zend_hash_str_find(ht, name, strlen(name));
  if (v)
    ZVAL_DEREF(v);
  return (v && Z_TYPE_P(v) != IS_NULL) ? v : NULL;
}

/* A string field (an int is taken as its decimal text when `ints`). Writes
 * the text into `num` for ints. Throws and returns NULL otherwise. */
static const char *text(zval *v, int ints, char *num, size_t size,
                        const char *name) {
  if (Z_TYPE_P(v) == IS_STRING) {
    if (strlen(Z_STRVAL_P(v)) != Z_STRLEN_P(v)) {
      cashback_php_throw(CASHBACK_E_FIELD, "%s: contains a NUL byte", name);
      return NULL;
    }
    return Z_STRVAL_P(v);
  }
  if (ints && Z_TYPE_P(v) == IS_LONG) {
    snprintf(num, size, ZEND_LONG_FMT, Z_LVAL_P(v));
    return num;
  }
  cashback_php_throw(CASHBACK_E_FIELD, "%s: must be a string%s, not %s", name,
                     ints ? " or an int" : "", zend_zval_type_name(v));
  return NULL;
}

/* An int field; a float is refused with the money hint when `money`. */
static int integer(zval *v, zend_long *out, const char *name, int money) {
  if (Z_TYPE_P(v) == IS_LONG) {
    *out = Z_LVAL_P(v);
    return 1;
  }
  if (Z_TYPE_P(v) == IS_DOUBLE && money)
    cashback_php_throw(CASHBACK_E_AMOUNT, "%s: %s", name, float_hint);
  else
    cashback_php_throw(CASHBACK_E_FIELD, "%s: must be an int, not %s", name,
                       zend_zval_type_name(v));
  return 0;
}

/* Throws the event's last error after a failed setter. */
static int set(cashback_event *ev, cashback_status st) {
  if (st == CASHBACK_OK)
    return 1;
  const char *why = cashback_event_last_error(ev);
  cashback_php_throw(st, "%s", why[0] ? why : cashback_strerror(st));
  return 0;
}

/* A money value: a decimal string or int (major units), never a float.
 * Writes the decimal text into `out`. */
static const char *decimal(zval *v, char *num, size_t size, const char *name) {
  if (Z_TYPE_P(v) == IS_DOUBLE) {
    cashback_php_throw(CASHBACK_E_AMOUNT, "%s: %s", name, float_hint);
    return NULL;
  }
  if (Z_TYPE_P(v) != IS_STRING && Z_TYPE_P(v) != IS_LONG) {
    cashback_php_throw(CASHBACK_E_AMOUNT,
                       "%s: must be a decimal string such as '49.90' or an "
                       "int, not %s",
                       name, zend_zval_type_name(v));
    return NULL;
  }
  return text(v, 1, num, size, name);
}

static int add_items(cashback_event *ev, HashTable *items,
                     const char *currency) {
  zval *item;
  zend_ulong n = 0;
  ZEND_HASH_FOREACH_VAL(items, item) {
    char where[48], name[64], num[32], num2[32];
    snprintf(where, sizeof(where), "items[" ZEND_ULONG_FMT "]: ", n);
    ZVAL_DEREF(item);
    if (Z_TYPE_P(item) != IS_ARRAY) {
      cashback_php_throw(CASHBACK_E_FIELD,
                         "items[" ZEND_ULONG_FMT "]: must be an array, not %s",
                         n, zend_zval_type_name(item));
      return 0;
    }
    HashTable *it = Z_ARRVAL_P(item);
    if (!check_keys(it, item_keys, where))
      return 0;
    zval *v;
    const char *sku = NULL, *iname = NULL, *cat = NULL;
    char nbuf[32], cbuf[32];
    snprintf(name, sizeof(name), "items[" ZEND_ULONG_FMT "].sku", n);
    if (!(v = field(it, "sku"))) {
      cashback_php_throw(CASHBACK_E_FIELD, "%s: required", name);
      return 0;
    }
    if (!(sku = text(v, 1, num, sizeof(num), name)))
      return 0;
    snprintf(name, sizeof(name), "items[" ZEND_ULONG_FMT "].name", n);
    if ((v = field(it, "name")) &&
        !(iname = text(v, 1, nbuf, sizeof(nbuf), name)))
      return 0;
    snprintf(name, sizeof(name), "items[" ZEND_ULONG_FMT "].category", n);
    if ((v = field(it, "category")) &&
        !(cat = text(v, 1, cbuf, sizeof(cbuf), name)))
      return 0;
    zend_long qty = 1;
    snprintf(name, sizeof(name), "items[" ZEND_ULONG_FMT "].quantity", n);
    if ((v = field(it, "quantity")) && !integer(v, &qty, name, 0))
      return 0;
    zval *price = field(it, "price"), *minor = field(it, "price_minor");
    int64_t unit = 0;
    if (price && minor) {
      cashback_php_throw(
          CASHBACK_E_FIELD,
          "items[" ZEND_ULONG_FMT "]: give price or price_minor, not both", n);
      return 0;
    }
    if (!price && !minor) {
      cashback_php_throw(
          CASHBACK_E_FIELD,
          "items[" ZEND_ULONG_FMT "].price: required (or price_minor)", n);
      return 0;
    }
    if (price) {
      snprintf(name, sizeof(name), "items[" ZEND_ULONG_FMT "].price", n);
      const char *d = decimal(price, num2, sizeof(num2), name);
      if (!d)
        return 0;
      if (!currency) {
        cashback_php_throw(CASHBACK_E_FIELD,
                           "currency: required with item prices");
        return 0;
      }
      cashback_status st = cashback_money_parse(d, strlen(d), currency, &unit);
      if (st != CASHBACK_OK) {
        cashback_php_throw(st, "%s: %s ('%s' %s)", name, cashback_strerror(st),
                           d, currency);
        return 0;
      }
    } else {
      zend_long m;
      snprintf(name, sizeof(name), "items[" ZEND_ULONG_FMT "].price_minor", n);
      if (!integer(minor, &m, name, 1))
        return 0;
      unit = (int64_t)m;
    }
    if (!set(ev,
             cashback_event_add_item(ev, sku, iname, (int64_t)qty, unit, cat)))
      return 0;
    n++;
  }
  ZEND_HASH_FOREACH_END();
  return 1;
}

static int add_vouchers(cashback_event *ev, zval *v) {
  char num[32];
  if (Z_TYPE_P(v) != IS_ARRAY) {
    const char *code = text(v, 0, num, sizeof(num), "vouchers");
    return code && set(ev, cashback_event_add_voucher(ev, code));
  }
  zval *code;
  ZEND_HASH_FOREACH_VAL(Z_ARRVAL_P(v), code) {
    ZVAL_DEREF(code);
    const char *s = text(code, 0, num, sizeof(num), "vouchers[]");
    if (!s || !set(ev, cashback_event_add_voucher(ev, s)))
      return 0;
  }
  ZEND_HASH_FOREACH_END();
  return 1;
}

static int add_metadata(cashback_event *ev, HashTable *md) {
  zend_string *key;
  zval *v;
  ZEND_HASH_FOREACH_STR_KEY_VAL(md, key, v) {
    char name[96], num[32];
    if (!key) {
      cashback_php_throw(CASHBACK_E_FIELD,
                         "metadata: keys must be names, not numbers");
      return 0;
    }
    char shown[4 * 64 + 4];
    cashback_printable(shown, sizeof(shown), ZSTR_VAL(key), ZSTR_LEN(key));
    if (strlen(ZSTR_VAL(key)) != ZSTR_LEN(key)) {
      /* The C API takes a NUL-terminated key: "note\0x" would be "note". */
      cashback_php_throw(CASHBACK_E_FIELD,
                         "metadata: key '%s' contains a NUL byte", shown);
      return 0;
    }
    snprintf(name, sizeof(name), "metadata[%.64s]", shown);
    ZVAL_DEREF(v);
    const char *s;
    if (Z_TYPE_P(v) == IS_TRUE || Z_TYPE_P(v) == IS_FALSE)
      s = Z_TYPE_P(v) == IS_TRUE ? "true" : "false";
    else if (!(s = text(v, 1, num, sizeof(num), name)))
      return 0;
    if (!set(ev, cashback_event_set_metadata(ev, ZSTR_VAL(key), s)))
      return 0;
  }
  ZEND_HASH_FOREACH_END();
  return 1;
}

static int customer(cashback_event *ev, zval *v) {
  char num[32];
  const char *s = text(v, 0, num, sizeof(num), "customer");
  if (!s)
    return 0;
  cashback_customer c;
  if (strcmp(s, "new") == 0)
    c = CASHBACK_CUSTOMER_NEW;
  else if (strcmp(s, "returning") == 0)
    c = CASHBACK_CUSTOMER_RETURNING;
  else if (strcmp(s, "unknown") == 0)
    c = CASHBACK_CUSTOMER_UNKNOWN;
  else {
    cashback_php_throw(CASHBACK_E_FIELD,
                       "customer: must be 'new', 'returning' or 'unknown'");
    return 0;
  }
  return set(ev, cashback_event_set_customer(ev, c));
}

/* Everything but the order id, in a fixed order (amount before items). */
static int fill(cashback_client *c, cashback_event *ev, HashTable *f) {
  char num[32];
  zval *v;
  const char *currency = NULL;
  if ((v = field(f, "currency")) &&
      !(currency = text(v, 0, num, sizeof(num), "currency")))
    return 0;
  zval *amount = field(f, "amount"), *minor = field(f, "amount_minor");
  if (amount && minor) {
    cashback_php_throw(CASHBACK_E_FIELD,
                       "amount: give amount or amount_minor, not both");
    return 0;
  }
  if ((amount || minor) && !currency) {
    cashback_php_throw(CASHBACK_E_FIELD,
                       "currency: required with the amount (an ISO 4217 code "
                       "such as 'EUR')");
    return 0;
  }
  if (amount) {
    char dec[32];
    const char *d = decimal(amount, dec, sizeof(dec), "amount");
    if (!d || !set(ev, cashback_event_set_amount_decimal(ev, d, currency)))
      return 0;
  } else if (minor) {
    zend_long m;
    if (!integer(minor, &m, "amount_minor", 1) ||
        !set(ev, cashback_event_set_amount(ev, (int64_t)m, currency)))
      return 0;
  }
  if ((v = field(f, "click"))) {
    const char *s = text(v, 0, num, sizeof(num), "click");
    if (!s || !cashback_php_event_click(c, ev, s, Z_STRLEN_P(v)))
      return 0;
  }
  if ((v = field(f, "items"))) {
    if (Z_TYPE_P(v) != IS_ARRAY) {
      cashback_php_throw(CASHBACK_E_FIELD, "items: must be an array, not %s",
                         zend_zval_type_name(v));
      return 0;
    }
    if (!add_items(ev, Z_ARRVAL_P(v), currency))
      return 0;
  }
  if ((v = field(f, "vouchers")) && !add_vouchers(ev, v))
    return 0;
  if ((v = field(f, "customer")) && !customer(ev, v))
    return 0;
  if ((v = field(f, "metadata"))) {
    if (Z_TYPE_P(v) != IS_ARRAY) {
      cashback_php_throw(CASHBACK_E_FIELD, "metadata: must be an array, not %s",
                         zend_zval_type_name(v));
      return 0;
    }
    if (!add_metadata(ev, Z_ARRVAL_P(v)))
      return 0;
  }
  if ((v = field(f, "refund_id"))) {
    const char *s = text(v, 1, num, sizeof(num), "refund_id");
    if (!s || !set(ev, cashback_event_set_refund_id(ev, s)))
      return 0;
  }
  if ((v = field(f, "reason"))) {
    const char *s = text(v, 0, num, sizeof(num), "reason");
    if (!s || !set(ev, cashback_event_set_reason(ev, s)))
      return 0;
  }
  if ((v = field(f, "test"))) {
    if (Z_TYPE_P(v) != IS_TRUE && Z_TYPE_P(v) != IS_FALSE) {
      cashback_php_throw(CASHBACK_E_FIELD, "test: must be a bool, not %s",
                         zend_zval_type_name(v));
      return 0;
    }
    if (!set(ev, cashback_event_set_test(ev, Z_TYPE_P(v) == IS_TRUE)))
      return 0;
  }
  zval *when = field(f, "order_time"), *off = field(f, "utc_offset");
  if (off && !when) {
    cashback_php_throw(CASHBACK_E_FIELD, "utc_offset: needs order_time");
    return 0;
  }
  if (when) {
    zend_long t, m = 0;
    if (!integer(when, &t, "order_time", 0) ||
        (off && !integer(off, &m, "utc_offset", 0)))
      return 0;
    if (m < INT_MIN || m > INT_MAX) {
      cashback_php_throw(CASHBACK_E_FIELD, "utc_offset: out of range");
      return 0;
    }
    if (!set(ev, cashback_event_set_order_time(ev, (int64_t)t, (int)m)))
      return 0;
  }
  return 1;
}

cashback_event *cashback_php_event_from_array(cashback_client *c,
                                              cashback_event_type type,
                                              HashTable *fields) {
  if (!check_keys(fields, event_keys, ""))
    return NULL;
  zval *v = field(fields, "order_id");
  if (!v) {
    cashback_php_throw(CASHBACK_E_FIELD, "order_id: required");
    return NULL;
  }
  char num[32];
  const char *order = text(v, 1, num, sizeof(num), "order_id");
  if (!order)
    return NULL;
  cashback_event *ev = cashback_event_new(type, order);
  if (!ev) {
    cashback_php_throw(CASHBACK_E_FIELD,
                       "order_id: must be 1-%d printable ASCII characters "
                       "without space",
                       CASHBACK_ID_MAX);
    return NULL;
  }
  if (!fill(c, ev, fields)) {
    cashback_event_free(ev);
    return NULL;
  }
  return ev;
}
