/*
 * A PHP array to a libcashback event: a thin mapping onto the one event
 * vocabulary (docs/events.md, sdk/cashback_fields.c). One table says, for
 * each PHP key, which field key it is and how its PHP value becomes the
 * field's text; the public event builder checks and applies the fields,
 * and the items go through cashback_event_add_item_decimal(). Only PHP
 * concerns live here (which PHP types a key takes, floats refused where
 * money goes, NUL bytes); every rule about the values is the SDK's, whose
 * refusal is passed on under the PHP key the caller used.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "php.h"
#include "zend_exceptions.h"

#include "php_cashback.h"

/* How a PHP value becomes the text of its field. */
typedef enum {
  AS_TEXT,  /* a string */
  AS_ID,    /* a string, or an int as its decimal text */
  AS_MONEY, /* a decimal string or an int (major units); never a float */
  AS_MINOR, /* an int (minor units); a float refused with the money hint */
  AS_INT,   /* an int, as its decimal text */
  AS_BOOL,  /* a bool, as "true" or "false" */
  AS_CLICK, /* a click handle (field "click") or a bare token ("click_token") */
  AS_LIST,  /* a string or a list of strings: the field once for each */
  AS_MAP,   /* name => string, int or bool: the field "<field><name>" each */
  AS_ITEMS, /* a list of item arrays: not a field, see add_items() */
} php_kind;

typedef struct {
  const char *php;   /* the key of the PHP array */
  const char *field; /* its field key; the prefix of the keys for AS_MAP */
  php_kind kind;
  /* PHP's own wording when the SDK refuses the value as CASHBACK_E_FIELD
   * (the message this shim always gave), or NULL: the SDK's detail. */
  const char *wording;
} php_key;

/* The PHP keys of an event array, in the order they are given to the
 * builder. amount_minor comes before amount, so that both given is refused
 * at the second: "amount: give amount or amount_minor, not both". */
static const php_key event_keys[] = {
    {"order_id", "order_id", AS_ID,
     "must be 1-64 printable ASCII characters without space"},
    {"currency", "currency", AS_TEXT, NULL},
    {"amount_minor", "amount_minor", AS_MINOR, NULL},
    {"amount", "amount", AS_MONEY, NULL},
    {"click", "click", AS_CLICK, NULL},
    {"vouchers", "voucher", AS_LIST, NULL},
    {"customer", "customer", AS_TEXT,
     "must be 'new', 'returning' or 'unknown'"},
    {"metadata", "meta.", AS_MAP, NULL},
    {"refund_id", "refund_id", AS_ID, NULL},
    {"reason", "reason", AS_TEXT, NULL},
    {"test", "test", AS_BOOL, NULL},
    {"order_time", "order_time", AS_INT, NULL},
    {"utc_offset", "utc_offset", AS_INT, NULL},
    {"items", NULL, AS_ITEMS, NULL},
};
#define N_EVENT_KEYS (sizeof(event_keys) / sizeof(event_keys[0]))

/* The PHP keys of an item array and the part of the SDK's order line each
 * is ("items[2].unit_price: ..." is "items[2].price: ..." to PHP). */
static const struct {
  const char *php, *part;
} item_keys[] = {
    {"sku", "sku"},
    {"name", "name"},
    {"quantity", "quantity"},
    {"price", "unit_price"},
    {"price_minor", "unit_price"},
    {"category", "category"},
};
#define N_ITEM_KEYS (sizeof(item_keys) / sizeof(item_keys[0]))

static const char float_hint[] =
    "a float cannot hold money exactly; pass a decimal string such as "
    "'49.90' or an int";

static int is_event_key(const zend_string *key) {
  for (size_t i = 0; i < N_EVENT_KEYS; i++)
    if (zend_string_equals_cstr(key, event_keys[i].php,
                                strlen(event_keys[i].php)))
      return 1;
  return 0;
}

static int is_item_key(const zend_string *key) {
  for (size_t i = 0; i < N_ITEM_KEYS; i++)
    if (zend_string_equals_cstr(key, item_keys[i].php,
                                strlen(item_keys[i].php)))
      return 1;
  return 0;
}

/* Every key of `ht` passes `known`, else throws naming the stranger. */
static int check_keys(HashTable *ht, int (*known)(const zend_string *),
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
    if (!known(key)) {
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

/* A string value (an int is taken as its decimal text when `ints`), its
 * length in `*len`. Writes the text into `num` for ints. Throws and returns
 * NULL otherwise. */
static const char *text(zval *v, int ints, char *num, size_t size, size_t *len,
                        const char *name) {
  if (Z_TYPE_P(v) == IS_STRING) {
    if (strlen(Z_STRVAL_P(v)) != Z_STRLEN_P(v)) {
      cashback_php_throw(CASHBACK_E_FIELD, "%s: contains a NUL byte", name);
      return NULL;
    }
    *len = Z_STRLEN_P(v);
    return Z_STRVAL_P(v);
  }
  if (ints && Z_TYPE_P(v) == IS_LONG) {
    int n = snprintf(num, size, ZEND_LONG_FMT, Z_LVAL_P(v));
    *len = n > 0 ? (size_t)n : 0;
    return num;
  }
  cashback_php_throw(CASHBACK_E_FIELD, "%s: must be a string%s, not %s", name,
                     ints ? " or an int" : "", zend_zval_type_name(v));
  return NULL;
}

/* An int value; a float is refused with the money hint when `money`. */
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

/* A money value: a decimal string or an int (major units), never a float:
 * its decimal text, as given (the SDK parses it). */
static const char *decimal(zval *v, char *num, size_t size, size_t *len,
                           const char *name) {
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
  return text(v, 1, num, size, len, name);
}

/* A click handle, by its look: "1." and four dots at least. Tokens may hold
 * dots, so a bare token can look like this too: one that is not a handle
 * (malformed as a handle) is taken as the bare token it then is, rather
 * than refused (which would lose the sale); a handle that is well formed
 * but tampered with or expired is refused. The field key for `s`, or NULL
 * with the verifier's reason thrown. */
static const char *click_key(cashback_client *c, const char *s, size_t len) {
  size_t dots = 0;
  for (size_t i = 0; i < len; i++)
    dots += s[i] == '.';
  if (!(len > 2 && s[0] == '1' && s[1] == '.' && dots >= 4))
    return "click_token";
  cashback_click click = {.size = sizeof(cashback_click)};
  cashback_status st = cashback_click_verify(c, s, len, &click);
  if (st == CASHBACK_E_CLICK_MALFORMED)
    return "click_token";
  if (st != CASHBACK_OK) {
    cashback_php_throw_client(c, st); /* "click handle: <why>" */
    return NULL;
  }
  return "click"; /* the builder verifies it again, and keeps it whole */
}

/* The SDK refused the money text `d` (`len` bytes) of the PHP key `path`
 * with CASHBACK_E_AMOUNT. When the text is a number the SDK reads (a whole
 * number, or an exact decimal with at most `currency`'s decimals; NULL:
 * minor units, whole numbers only), what was wrong is its size, which the
 * SDK's "not an exact amount" does not say: throws that, echoing `d` whole
 * (cut when long), and returns 1. 0 when the text is no such number. */
static int throw_out_of_range(const char *path, const char *d, size_t len,
                              const char *currency) {
  static const char digits[] = "0123456789";
  int decimals = currency ? cashback_currency_exponent(currency) : 0;
  size_t i = len && d[0] == '-' ? 1 : 0;
  size_t whole = i < len ? strspn(d + i, digits) : 0;
  if (!whole)
    return 0;
  i += whole;
  if (i < len && d[i] == '.') {
    size_t frac = strspn(d + i + 1, digits);
    if (frac == 0 || frac > (size_t)(decimals > 0 ? decimals : 0))
      return 0;
    i += 1 + frac;
  }
  if (i != len)
    return 0;
  if (d[0] == '-')
    cashback_php_throw(CASHBACK_E_AMOUNT,
                       "%s: '%s' is negative: an amount is 0 to 10^15 minor "
                       "units",
                       path, d);
  else
    cashback_php_throw(CASHBACK_E_AMOUNT,
                       "%s: '%s' is more than 10^15 minor units, the largest "
                       "amount",
                       path, d);
  return 1;
}

/* --- The builder's refusal, under the PHP key ----------------------------- */

/* The PHP key whose field is `key` (`klen` bytes); its PHP path (the key,
 * or "metadata[name]") into `path`. NULL when no PHP key maps to it. */
static const php_key *php_key_of(const char *key, size_t klen, char *path,
                                 size_t size) {
  for (size_t i = 0; i < N_EVENT_KEYS; i++) {
    const php_key *k = &event_keys[i];
    size_t n = k->field ? strlen(k->field) : 0;
    if (!n)
      continue;
    int same = klen == n && memcmp(key, k->field, n) == 0;
    if (k->kind == AS_MAP && klen > n && memcmp(key, k->field, n) == 0) {
      char shown[4 * 64 + 4];
      cashback_printable(shown, sizeof(shown), key + n, klen - n);
      snprintf(path, size, "%s[%.64s]", k->php, shown);
      return k;
    }
    if (same || (k->kind == AS_CLICK && klen == sizeof("click_token") - 1 &&
                 memcmp(key, "click_token", klen) == 0)) {
      snprintf(path, size, "%s", k->php);
      return k;
    }
  }
  return NULL;
}

/* `s` without a leading field path and its ": " ("amount: ",
 * "metadata.note: ", "vouchers[0]: "). */
static const char *after_path(const char *s) {
  size_t n = strspn(s, "abcdefghijklmnopqrstuvwxyz"
                       "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.[]");
  return n && s[n] == ':' && s[n + 1] == ' ' ? s + n + 2 : s;
}

/* Throws the builder's first failure, naming the PHP key. `f` is the PHP
 * array (for what it holds). */
static void throw_builder(const cashback_event_builder *b, HashTable *f) {
  const char *key = NULL;
  size_t klen = 0;
  char detail[CASHBACK_ERROR_MAX + 1] = "";
  cashback_status st =
      cashback_event_builder_error(b, &key, &klen, detail, sizeof(detail));
  if (st == CASHBACK_OK)
    st = CASHBACK_E_INTERNAL;
  char path[4 * 64 + 16];
  const php_key *k = klen ? php_key_of(key, klen, path, sizeof(path)) : NULL;
  if (!k) {
    cashback_php_throw(st, "%s", detail[0] ? detail : cashback_strerror(st));
    return;
  }
  if (st == CASHBACK_E_CURRENCY && strcmp(k->php, "currency") != 0 &&
      !field(f, "currency")) {
    cashback_php_throw(CASHBACK_E_FIELD,
                       "currency: required with the amount (an ISO 4217 code "
                       "such as 'EUR')");
    return;
  }
  if (st == CASHBACK_E_AMOUNT && (k->kind == AS_MONEY || k->kind == AS_MINOR)) {
    /* The value passed as text before, so it does again. */
    char num[32];
    size_t len;
    zval *cur = field(f, "currency");
    const char *d = text(field(f, k->php), 1, num, sizeof(num), &len, k->php);
    if (d && cur && Z_TYPE_P(cur) == IS_STRING &&
        throw_out_of_range(k->php, d, len,
                           k->kind == AS_MONEY ? Z_STRVAL_P(cur) : NULL))
      return;
  }
  if (k->wording && st == CASHBACK_E_FIELD) {
    cashback_php_throw(st, "%s: %s", k->php, k->wording);
    return;
  }
  /* "<field>: <sdk path>: <why>": the SDK's own path goes too, unless it
   * already is the PHP key's (the SDK counts vouchers as "vouchers[i]"). */
  char shown[4 * 80 + 4];
  cashback_printable(shown, sizeof(shown), key, klen);
  size_t slen = strlen(shown);
  const char *why = detail;
  if (strncmp(why, shown, slen) == 0 && why[slen] == ':' &&
      why[slen + 1] == ' ')
    why += slen + 2;
  size_t plen = strlen(k->php);
  if (strncmp(why, k->php, plen) == 0 && why[plen] == '[') {
    cashback_php_throw(st, "%s", why);
    return;
  }
  cashback_php_throw(st, "%s: %s", path, after_path(why));
}

/* --- Scalars and lists onto the builder ----------------------------------- */

typedef struct {
  cashback_event_builder *b;
  HashTable *f;
  cashback_client *c;
} mapping;

/* One field; throws the builder's refusal. */
static int put(mapping *m, const char *key, size_t klen, const char *v,
               size_t vlen) {
  if (cashback_event_builder_set(m->b, key, klen, v, vlen) == CASHBACK_OK)
    return 1;
  throw_builder(m->b, m->f);
  return 0;
}

static int put_list(mapping *m, const php_key *k, zval *v) {
  char num[32];
  size_t len;
  if (Z_TYPE_P(v) != IS_ARRAY) {
    const char *s = text(v, 0, num, sizeof(num), &len, k->php);
    return s && put(m, k->field, strlen(k->field), s, len);
  }
  char name[64];
  snprintf(name, sizeof(name), "%s[]", k->php);
  zval *one;
  ZEND_HASH_FOREACH_VAL(Z_ARRVAL_P(v), one) {
    ZVAL_DEREF(one);
    const char *s = text(one, 0, num, sizeof(num), &len, name);
    if (!s || !put(m, k->field, strlen(k->field), s, len))
      return 0;
  }
  ZEND_HASH_FOREACH_END();
  return 1;
}

static int put_map(mapping *m, const php_key *k, zval *v) {
  if (Z_TYPE_P(v) != IS_ARRAY) {
    cashback_php_throw(CASHBACK_E_FIELD, "%s: must be an array, not %s", k->php,
                       zend_zval_type_name(v));
    return 0;
  }
  zend_string *name;
  zval *one;
  ZEND_HASH_FOREACH_STR_KEY_VAL(Z_ARRVAL_P(v), name, one) {
    if (!name) {
      cashback_php_throw(CASHBACK_E_FIELD,
                         "%s: keys must be names, not numbers", k->php);
      return 0;
    }
    char shown[4 * 64 + 4], path[4 * 64 + 16], num[32];
    cashback_printable(shown, sizeof(shown), ZSTR_VAL(name), ZSTR_LEN(name));
    if (strlen(ZSTR_VAL(name)) != ZSTR_LEN(name)) {
      cashback_php_throw(CASHBACK_E_FIELD, "%s: key '%s' contains a NUL byte",
                         k->php, shown);
      return 0;
    }
    snprintf(path, sizeof(path), "%s[%.64s]", k->php, shown);
    ZVAL_DEREF(one);
    const char *s;
    size_t len;
    if (Z_TYPE_P(one) == IS_TRUE || Z_TYPE_P(one) == IS_FALSE) {
      s = Z_TYPE_P(one) == IS_TRUE ? "true" : "false";
      len = strlen(s);
    } else if (!(s = text(one, 1, num, sizeof(num), &len, path))) {
      return 0;
    }
    /* The field key is "meta.<name>": built in PHP's allocator, since a
     * name has no cap here (the builder refuses a long one). */
    size_t plen = strlen(k->field);
    zend_string *fk = zend_string_alloc(plen + ZSTR_LEN(name), 0);
    memcpy(ZSTR_VAL(fk), k->field, plen);
    memcpy(ZSTR_VAL(fk) + plen, ZSTR_VAL(name), ZSTR_LEN(name) + 1);
    int ok = put(m, ZSTR_VAL(fk), ZSTR_LEN(fk), s, len);
    zend_string_release(fk);
    if (!ok)
      return 0;
  }
  ZEND_HASH_FOREACH_END();
  return 1;
}

/* One PHP key of the table onto the builder (items excepted). */
static int put_key(mapping *m, const php_key *k, zval *v) {
  char num[32];
  size_t len = 0;
  const char *s = NULL;
  zend_long n;
  switch (k->kind) {
  case AS_TEXT:
    s = text(v, 0, num, sizeof(num), &len, k->php);
    break;
  case AS_ID:
    s = text(v, 1, num, sizeof(num), &len, k->php);
    break;
  case AS_MONEY:
    s = decimal(v, num, sizeof(num), &len, k->php);
    break;
  case AS_MINOR:
  case AS_INT:
    if (integer(v, &n, k->php, k->kind == AS_MINOR))
      s = text(v, 1, num, sizeof(num), &len, k->php);
    break;
  case AS_BOOL:
    if (Z_TYPE_P(v) != IS_TRUE && Z_TYPE_P(v) != IS_FALSE) {
      cashback_php_throw(CASHBACK_E_FIELD, "%s: must be a bool, not %s", k->php,
                         zend_zval_type_name(v));
      return 0;
    }
    s = Z_TYPE_P(v) == IS_TRUE ? "true" : "false";
    len = strlen(s);
    break;
  case AS_CLICK: {
    const char *key;
    s = text(v, 0, num, sizeof(num), &len, k->php);
    if (!s || !(key = click_key(m->c, s, len)))
      return 0;
    return put(m, key, strlen(key), s, len);
  }
  case AS_LIST:
    return put_list(m, k, v);
  case AS_MAP:
    return put_map(m, k, v);
  case AS_ITEMS:
    return 1;
  }
  return s && put(m, k->field, strlen(k->field), s, len);
}

/* --- Items ---------------------------------------------------------------- */

/* Throws the SDK's refusal of item `n` (`item` the PHP array) with the PHP
 * item key in its path. */
static void throw_item(cashback_status st, const char *why, zend_ulong n,
                       HashTable *item) {
  /* "items[i].<part>: <why>" */
  const char *dot = strncmp(why, "items[", 6) == 0 ? strstr(why, "].") : NULL;
  const char *colon = dot ? strchr(dot, ':') : NULL;
  if (colon) {
    size_t plen = (size_t)(colon - (dot + 2));
    for (size_t i = 0; i < N_ITEM_KEYS; i++)
      if (strlen(item_keys[i].part) == plen &&
          memcmp(dot + 2, item_keys[i].part, plen) == 0 &&
          field(item, item_keys[i].php)) {
        cashback_php_throw(st, "items[" ZEND_ULONG_FMT "].%s%s", n,
                           item_keys[i].php, colon);
        return;
      }
  }
  cashback_php_throw(st, "%s", why[0] ? why : cashback_strerror(st));
}

/* An item's optional text (sku, name, category); NULL and length 0 when
 * absent. 0 with an exception thrown when of the wrong type. */
static int item_text(HashTable *it, const char *key, zend_ulong n, char *num,
                     size_t size, const char **s, size_t *len) {
  char name[64];
  zval *v = field(it, key);
  *s = NULL;
  *len = 0;
  if (!v)
    return 1;
  snprintf(name, sizeof(name), "items[" ZEND_ULONG_FMT "].%s", n, key);
  return (*s = text(v, 1, num, size, len, name)) != NULL;
}

static int add_item(cashback_event *ev, HashTable *it, zend_ulong n,
                    const char *currency, size_t currency_len) {
  char where[48], name[64], snum[32], nnum[32], cnum[32], pnum[32];
  snprintf(where, sizeof(where), "items[" ZEND_ULONG_FMT "]: ", n);
  if (!check_keys(it, is_item_key, where))
    return 0;
  const char *sku, *iname, *cat;
  size_t sku_len, name_len, cat_len;
  if (!field(it, "sku")) {
    cashback_php_throw(CASHBACK_E_FIELD,
                       "items[" ZEND_ULONG_FMT "].sku: required", n);
    return 0;
  }
  if (!item_text(it, "sku", n, snum, sizeof(snum), &sku, &sku_len) ||
      !item_text(it, "name", n, nnum, sizeof(nnum), &iname, &name_len) ||
      !item_text(it, "category", n, cnum, sizeof(cnum), &cat, &cat_len))
    return 0;
  zend_long qty = 1;
  zval *v;
  snprintf(name, sizeof(name), "items[" ZEND_ULONG_FMT "].quantity", n);
  if ((v = field(it, "quantity")) && !integer(v, &qty, name, 0))
    return 0;
  zval *price = field(it, "price"), *minor = field(it, "price_minor");
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
  cashback_status st;
  if (price) {
    size_t dlen;
    snprintf(name, sizeof(name), "items[" ZEND_ULONG_FMT "].price", n);
    const char *d = decimal(price, pnum, sizeof(pnum), &dlen, name);
    if (!d)
      return 0;
    if (!currency) {
      cashback_php_throw(CASHBACK_E_FIELD,
                         "currency: required with item prices");
      return 0;
    }
    st = cashback_event_add_item_decimal(ev, sku, sku_len, iname, name_len,
                                         (int64_t)qty, d, dlen, currency,
                                         currency_len, cat, cat_len);
    if (st == CASHBACK_E_AMOUNT) {
      /* This shim's wording, echoing the price as given (cut if long). */
      if (!throw_out_of_range(name, d, dlen, currency))
        cashback_php_throw(st, "%s: %s ('%s' %s)", name, cashback_strerror(st),
                           d, currency);
      return 0;
    }
  } else {
    zend_long m;
    snprintf(name, sizeof(name), "items[" ZEND_ULONG_FMT "].price_minor", n);
    if (!integer(minor, &m, name, 1))
      return 0;
    st = cashback_event_add_item(ev, sku, iname, (int64_t)qty, (int64_t)m, cat);
    char digits[32];
    size_t dlen;
    const char *d = text(minor, 1, digits, sizeof(digits), &dlen, name);
    if (st == CASHBACK_E_AMOUNT && d && throw_out_of_range(name, d, dlen, NULL))
      return 0;
  }
  if (st != CASHBACK_OK)
    throw_item(st, cashback_event_last_error(ev), n, it);
  return st == CASHBACK_OK;
}

static int add_items(cashback_event *ev, zval *items, HashTable *f) {
  if (Z_TYPE_P(items) != IS_ARRAY) {
    cashback_php_throw(CASHBACK_E_FIELD, "items: must be an array, not %s",
                       zend_zval_type_name(items));
    return 0;
  }
  /* The currency is the event's, checked by the builder already. */
  zval *cur = field(f, "currency");
  const char *currency =
      cur && Z_TYPE_P(cur) == IS_STRING ? Z_STRVAL_P(cur) : NULL;
  size_t currency_len = currency ? Z_STRLEN_P(cur) : 0;
  zval *item;
  zend_ulong n = 0;
  ZEND_HASH_FOREACH_VAL(Z_ARRVAL_P(items), item) {
    ZVAL_DEREF(item);
    if (Z_TYPE_P(item) != IS_ARRAY) {
      cashback_php_throw(CASHBACK_E_FIELD,
                         "items[" ZEND_ULONG_FMT "]: must be an array, not %s",
                         n, zend_zval_type_name(item));
      return 0;
    }
    if (!add_item(ev, Z_ARRVAL_P(item), n, currency, currency_len))
      return 0;
    n++;
  }
  ZEND_HASH_FOREACH_END();
  return 1;
}

/* --- The event ------------------------------------------------------------ */

/* Every key of the table onto the builder, then the event from it. */
static cashback_event *build(mapping *m, cashback_event_type type) {
  const char *tname = cashback_event_type_name(type);
  if (!put(m, "type", 4, tname, strlen(tname)))
    return NULL;
  for (size_t i = 0; i < N_EVENT_KEYS; i++) {
    zval *v = field(m->f, event_keys[i].php);
    if (v && !put_key(m, &event_keys[i], v))
      return NULL;
  }
  cashback_event *ev = NULL;
  if (cashback_event_builder_finish(m->b, &ev) != CASHBACK_OK) {
    throw_builder(m->b, m->f);
    return NULL;
  }
  return ev;
}

cashback_event *cashback_php_event_from_array(cashback_client *c,
                                              cashback_event_type type,
                                              HashTable *fields) {
  if (!check_keys(fields, is_event_key, ""))
    return NULL;
  if (!field(fields, "order_id")) {
    cashback_php_throw(CASHBACK_E_FIELD, "order_id: required");
    return NULL;
  }
  mapping m = {.b = cashback_event_builder_new(c), .f = fields, .c = c};
  if (!m.b) {
    cashback_php_throw(CASHBACK_E_NOMEM, "%s",
                       cashback_strerror(CASHBACK_E_NOMEM));
    return NULL;
  }
  cashback_event *ev = build(&m, type);
  cashback_event_builder_free(m.b);
  zval *items = ev ? field(fields, "items") : NULL;
  if (items && !add_items(ev, items, fields)) {
    cashback_event_free(ev);
    return NULL;
  }
  return ev;
}
