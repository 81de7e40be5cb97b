/*
 * The conversions report: GET / (HTML) and GET /api/totals (JSON), built
 * from one read of the store. Per merchant: its orders (sale, refunds netted,
 * cancelled, confirmed, test), totals per currency without test orders, and
 * the most recent rejections.
 */
#include "sandbox.h"

#include <cjson/cJSON.h>

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define ORDERS_LISTED 1000 /* per merchant; totals count them all */
#define REJECTIONS_LISTED 20

/* The fields of a total. Every sum is checked: one that would pass
 * INT64_MAX is marked overflowed (sticky) and shown as such, never
 * wrapped (10,000 sales of 10^15 minor units are 10^19). */
enum { T_ORDERS, T_CANCELLED, T_CONFIRMED, T_SALES, T_REFUNDS, T_NET, T_N };

typedef struct rep_total {
  char currency[4];
  int64_t v[T_N];
  int overflow[T_N];
} rep_total;

/* *acc += v (v >= 0), or marks the field overflowed. */
static void add_to(rep_total *t, int field, int64_t v) {
  if (t->overflow[field])
    return;
  if (v > 0 && t->v[field] > INT64_MAX - v) {
    t->overflow[field] = 1;
    t->v[field] = INT64_MAX;
  } else {
    t->v[field] += v;
  }
}

/* An order as the store gave it; its text lives beside it (o.merchant,
 * o.order_id and o.currency are NULL: the store's text is gone after the
 * callback). */
typedef struct rep_order {
  sb_order o;
  char *order_id;
  char currency[4];
} rep_order;

typedef struct rep_rej {
  char *id, *type, *order_id, *reason, *message;
  int64_t at;
} rep_rej;

typedef struct rep_merchant {
  char id[CASHBACK_ID_MAX + 1];
  int configured;
  rep_order *orders;
  size_t n_orders, not_listed, test_orders, held_orders;
  rep_total *totals;
  size_t n_totals;
  rep_rej *rej;
  size_t n_rej;
} rep_merchant;

typedef struct report {
  rep_merchant *m;
  size_t n;
  int oom;
} report;

static char *dup_str(report *r, const char *s) {
  char *d = strdup(s ? s : "");
  if (!d)
    r->oom = 1;
  return d;
}

/* The array `arr` of `n` elements of `size` bytes, grown by one zeroed
 * element at its end (the caller stores it back and counts it); NULL, with
 * r->oom set and `arr` as it was, when out of memory. */
static void *grow(report *r, void *arr, size_t n, size_t size) {
  char *p = realloc(arr, (n + 1) * size);
  if (!p) {
    r->oom = 1;
    return NULL;
  }
  memset(p + n * size, 0, size);
  return p;
}

/* Sets `d` to a new zeroed element at the end of the array `arr` of `n`
 * elements, counted in `n` (grow() does the work), or to NULL when out of
 * memory (r->oom set). In the manner of klib's kv_push. */
#define APPEND(r, arr, n, d)                                                   \
  do {                                                                         \
    void *grown_ = grow((r), (arr), (n), sizeof(*(arr)));                      \
    (d) = NULL;                                                                \
    if (grown_) {                                                              \
      (arr) = grown_;                                                          \
      (d) = &(arr)[(n)++];                                                     \
    }                                                                          \
  } while (0)

static rep_merchant *merchant_of(report *r, const char *id) {
  for (size_t i = 0; i < r->n; i++)
    if (strcmp(r->m[i].id, id) == 0)
      return &r->m[i];
  if (strlen(id) > CASHBACK_ID_MAX)
    return NULL;
  rep_merchant *m;
  APPEND(r, r->m, r->n, m);
  if (m)
    memcpy(m->id, id, strlen(id) + 1);
  return m;
}

static void on_merchant(void *ud, const char *id) {
  merchant_of(ud, id);
}

/* The merchant's total in `currency`, made on first use; NULL when out of
 * memory. */
static rep_total *total_of(report *r, rep_merchant *m, const char *currency) {
  for (size_t i = 0; i < m->n_totals; i++)
    if (strcmp(m->totals[i].currency, currency) == 0)
      return &m->totals[i];
  rep_total *t;
  APPEND(r, m->totals, m->n_totals, t);
  if (t)
    snprintf(t->currency, sizeof(t->currency), "%s", currency);
  return t;
}

static void on_order(void *ud, const sb_order *o) {
  report *r = ud;
  rep_merchant *m = merchant_of(r, o->merchant);
  if (!m)
    return;
  if (o->held) {
    m->held_orders++; /* follow-ups only: counted once the sale arrives */
  } else if (o->test) {
    m->test_orders++;
  } else {
    rep_total *t = total_of(r, m, o->currency);
    if (!t)
      return;
    add_to(t, T_ORDERS, 1);
    add_to(t, T_CANCELLED, o->cancelled != 0);
    add_to(t, T_CONFIRMED, o->confirmed && !o->cancelled);
    add_to(t, T_SALES, o->sale);
    add_to(t, T_REFUNDS, o->refunded);
    add_to(t, T_NET, o->net);
  }
  if (m->n_orders >= ORDERS_LISTED) {
    m->not_listed++;
    return;
  }
  rep_order *d;
  APPEND(r, m->orders, m->n_orders, d);
  if (!d)
    return;
  d->o = *o;
  d->o.merchant = d->o.order_id = d->o.currency = NULL;
  d->order_id = dup_str(r, o->order_id);
  snprintf(d->currency, sizeof(d->currency), "%s", o->currency);
}

static void on_rejection(void *ud, const sb_rejection *x) {
  report *r = ud;
  rep_merchant *m = merchant_of(r, x->merchant);
  if (!m)
    return;
  rep_rej *d;
  APPEND(r, m->rej, m->n_rej, d);
  if (!d)
    return;
  d->id = dup_str(r, x->id);
  d->type = dup_str(r, x->type);
  d->order_id = dup_str(r, x->order_id);
  d->reason = dup_str(r, x->reason);
  d->message = dup_str(r, x->message);
  d->at = x->received_at;
}

static void report_free(report *r) {
  for (size_t i = 0; i < r->n; i++) {
    rep_merchant *m = &r->m[i];
    for (size_t k = 0; k < m->n_orders; k++)
      free(m->orders[k].order_id);
    for (size_t k = 0; k < m->n_rej; k++) {
      free(m->rej[k].id);
      free(m->rej[k].type);
      free(m->rej[k].order_id);
      free(m->rej[k].reason);
      free(m->rej[k].message);
    }
    free(m->orders);
    free(m->totals);
    free(m->rej);
  }
  free(r->m);
}

static int by_id(const void *a, const void *b) {
  return strcmp(((const rep_merchant *)a)->id, ((const rep_merchant *)b)->id);
}

/* Every configured merchant, and every merchant with stored events. */
static int report_load(sandbox *sb, report *r) {
  static const sb_report_fns fns = {on_merchant, on_order, on_rejection};
  memset(r, 0, sizeof(*r));
  for (size_t i = 0; i < sb->n_merchants; i++) {
    rep_merchant *m = merchant_of(r, sb->merchants[i].id);
    if (m)
      m->configured = 1;
  }
  char err[256];
  if (sb_store_report(sb->store, &fns, r, REJECTIONS_LISTED, err,
                      sizeof(err)) != 0) {
    sb_log(sb, "report: %s", err);
    report_free(r);
    return -1;
  }
  if (r->oom) {
    report_free(r);
    return -1;
  }
  if (r->n > 1)
    qsort(r->m, r->n, sizeof(*r->m), by_id);
  return 0;
}

static void money(int64_t minor, const char *currency, char *buf, size_t size) {
  if (cashback_money_format(minor, currency, buf, size) != CASHBACK_OK)
    snprintf(buf, size, "%lld", (long long)minor);
}

/* ---------------------------------------------------------------- JSON */

static int add_int(cJSON *o, const char *name, int64_t v) {
  char num[24];
  snprintf(num, sizeof(num), "%lld", (long long)v);
  return cJSON_AddRawToObject(o, name, num) != NULL;
}

static int add_money(cJSON *o, const char *name, int64_t v,
                     const char *currency) {
  char key[48], text[48];
  snprintf(key, sizeof(key), "%s_decimal", name);
  money(v, currency, text, sizeof(text));
  return add_int(o, name, v) && cJSON_AddStringToObject(o, key, text);
}

/* A field of a total: its value, or null (and "overflow" for a money
 * field's _decimal) once it overflowed. */
static int add_total(cJSON *o, const rep_total *t, int field,
                     const char *name) {
  char key[48];
  if (!t->overflow[field])
    return field >= T_SALES ? add_money(o, name, t->v[field], t->currency)
                            : add_int(o, name, t->v[field]);
  snprintf(key, sizeof(key), "%s_decimal", name);
  return cJSON_AddNullToObject(o, name) &&
         (field < T_SALES || cJSON_AddStringToObject(o, key, "overflow"));
}

static int total_overflowed(const rep_total *t) {
  for (int i = 0; i < T_N; i++)
    if (t->overflow[i])
      return 1;
  return 0;
}

/* Adds the array `name` to `o`: one object per element of `items` (`n`
 * of `size` bytes), each filled by `fill`. 0 when out of memory. */
static int add_list(cJSON *o, const char *name, const void *items, size_t n,
                    size_t size, int (*fill)(cJSON *j, const void *item)) {
  cJSON *list = cJSON_AddArrayToObject(o, name);
  int ok = list != NULL;
  for (size_t i = 0; ok && i < n; i++) {
    cJSON *j = cJSON_CreateObject();
    ok = j && cJSON_AddItemToArray(list, j) &&
         fill(j, (const char *)items + i * size);
  }
  return ok;
}

/* A total of one currency (add_list()'s fill). */
static int total_json(cJSON *j, const void *item) {
  const rep_total *t = item;
  return cJSON_AddStringToObject(j, "currency", t->currency) &&
         add_total(j, t, T_ORDERS, "orders") &&
         add_total(j, t, T_CANCELLED, "cancelled") &&
         add_total(j, t, T_CONFIRMED, "confirmed") &&
         add_total(j, t, T_SALES, "sales") &&
         add_total(j, t, T_REFUNDS, "refunds") &&
         add_total(j, t, T_NET, "net") &&
         cJSON_AddBoolToObject(j, "overflow", total_overflowed(t));
}

/* One order (add_list()'s fill). */
static int order_json(cJSON *j, const void *item) {
  const rep_order *x = item;
  int ok = cJSON_AddStringToObject(j, "order_id", x->order_id) &&
           cJSON_AddBoolToObject(j, "test", x->o.test) &&
           cJSON_AddStringToObject(j, "currency", x->currency) &&
           add_money(j, "sale", x->o.sale, x->currency) &&
           add_money(j, "refunded", x->o.refunded, x->currency) &&
           add_int(j, "refunds", x->o.refunds) &&
           cJSON_AddBoolToObject(j, "cancelled", x->o.cancelled) &&
           cJSON_AddBoolToObject(j, "confirmed", x->o.confirmed) &&
           cJSON_AddBoolToObject(j, "held", x->o.held) &&
           add_money(j, "net", x->o.net, x->currency);
  if (ok && x->o.has_confirmed_amount)
    ok = add_money(j, "confirmed_amount", x->o.confirmed_amount, x->currency);
  return ok;
}

/* One recent rejection (add_list()'s fill). */
static int rejection_json(cJSON *j, const void *item) {
  const rep_rej *x = item;
  return cJSON_AddStringToObject(j, "id", x->id) &&
         cJSON_AddStringToObject(j, "type", x->type) &&
         cJSON_AddStringToObject(j, "order_id", x->order_id) &&
         cJSON_AddStringToObject(j, "reason", x->reason) &&
         cJSON_AddStringToObject(j, "message", x->message) &&
         add_int(j, "received_at", x->at);
}

/* One merchant of /api/totals: totals, orders, counts, rejections. */
static cJSON *merchant_json(const rep_merchant *m) {
  cJSON *o = cJSON_CreateObject();
  int ok = o && cJSON_AddStringToObject(o, "merchant_id", m->id) &&
           cJSON_AddBoolToObject(o, "configured", m->configured) &&
           add_list(o, "totals", m->totals, m->n_totals, sizeof(*m->totals),
                    total_json) &&
           add_list(o, "orders", m->orders, m->n_orders, sizeof(*m->orders),
                    order_json) &&
           add_int(o, "orders_not_listed", (int64_t)m->not_listed) &&
           add_int(o, "test_orders", (int64_t)m->test_orders) &&
           add_int(o, "held_orders", (int64_t)m->held_orders) &&
           add_list(o, "recent_rejections", m->rej, m->n_rej, sizeof(*m->rej),
                    rejection_json);
  if (!ok) {
    cJSON_Delete(o);
    return NULL;
  }
  return o;
}

char *sb_report_json(sandbox *sb, size_t *len) {
  report r;
  if (report_load(sb, &r) != 0)
    return NULL;
  cJSON *root = cJSON_CreateObject();
  cJSON *list = root ? cJSON_AddArrayToObject(root, "merchants") : NULL;
  int ok = list != NULL;
  for (size_t i = 0; ok && i < r.n; i++) {
    cJSON *m = merchant_json(&r.m[i]);
    ok = m && cJSON_AddItemToArray(list, m);
    if (!ok)
      cJSON_Delete(m);
  }
  report_free(&r);
  char *text = ok ? cJSON_PrintUnformatted(root) : NULL;
  cJSON_Delete(root);
  if (!text)
    return NULL;
  /* Handed to the HTTP library, which frees it with free(). */
  *len = strlen(text);
  char *out = malloc(*len + 1);
  if (out)
    memcpy(out, text, *len + 1);
  cJSON_free(text);
  return out;
}

/* ---------------------------------------------------------------- HTML */

typedef struct html {
  char *p;
  size_t len, cap;
  int oom;
} html;

static void put(html *h, const char *s, size_t n) {
  if (!h->oom && sb_append(&h->p, &h->len, &h->cap, 4096, s, n) != 0)
    h->oom = 1;
}

static void puts_raw(html *h, const char *s) {
  put(h, s, strlen(s));
}

/* Text into an element or a quoted attribute. */
static void esc(html *h, const char *s) {
  static const char special[] = "&<>\"'";
  static const char *const entity[] = {"&amp;", "&lt;", "&gt;", "&quot;",
                                       "&#39;"};
  for (; *s; s++) {
    const char *at = strchr(special, *s); /* *s is never the NUL here */
    if (at)
      puts_raw(h, entity[at - special]);
    else
      put(h, s, 1);
  }
}

static void printf_esc(html *h, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void para_esc(html *h, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Formats, then escapes the result. */
static void vprintf_esc(html *h, const char *fmt, va_list ap) {
  char buf[512];
  vsnprintf(buf, sizeof(buf), fmt, ap);
  esc(h, buf);
}

static void printf_esc(html *h, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vprintf_esc(h, fmt, ap);
  va_end(ap);
}

/* A paragraph of formatted, escaped text. */
static void para_esc(html *h, const char *fmt, ...) {
  va_list ap;
  puts_raw(h, "<p>");
  va_start(ap, fmt);
  vprintf_esc(h, fmt, ap);
  va_end(ap);
  puts_raw(h, "</p>\n");
}

static void cell_money(html *h, int64_t v, const char *currency) {
  char text[48];
  money(v, currency, text, sizeof(text));
  puts_raw(h, "<td class=n>");
  printf_esc(h, "%s %s", text, currency);
  puts_raw(h, "</td>");
}

/* The totals table, one row per currency, and what it does not count. */
static void html_totals(html *h, const rep_merchant *m) {
  puts_raw(h, "<h3>Totals</h3>\n");
  if (!m->n_totals) {
    puts_raw(h, "<p>No conversions yet.</p>\n");
  } else {
    puts_raw(h, "<table><tr><th>Currency</th><th>Orders</th><th>Cancelled"
                "</th><th>Confirmed</th><th>Sales</th><th>Refunds</th>"
                "<th>Net</th></tr>\n");
    for (size_t i = 0; i < m->n_totals; i++) {
      const rep_total *t = &m->totals[i];
      puts_raw(h, "<tr><td>");
      esc(h, t->currency);
      puts_raw(h, "</td>");
      for (int k = 0; k < T_N; k++) {
        if (t->overflow[k])
          puts_raw(h, "<td class=n><b>overflow</b> (over 9223372036854775807"
                      ")</td>");
        else if (k >= T_SALES)
          cell_money(h, t->v[k], t->currency);
        else {
          puts_raw(h, "<td class=n>");
          printf_esc(h, "%lld", (long long)t->v[k]);
          puts_raw(h, "</td>");
        }
      }
      puts_raw(h, "</tr>\n");
    }
    puts_raw(h, "</table>\n");
  }
  if (m->test_orders)
    para_esc(h, "%zu test order(s), listed below, are not counted.",
             m->test_orders);
  if (m->held_orders)
    para_esc(h,
             "%zu order(s) with follow-ups held until their sale arrives "
             "are not counted yet.",
             m->held_orders);
}

/* An order's status cell: cancelled, confirmed, refunds, held, test. */
static void html_status(html *h, const sb_order *o) {
  puts_raw(h, "<td>");
  int any = 0;
  if (o->cancelled) {
    puts_raw(h, "<b>cancelled</b>");
    any = 1;
  }
  if (o->confirmed) {
    puts_raw(h, any ? ", confirmed" : "confirmed");
    any = 1;
  }
  if (o->refunds) {
    if (any)
      puts_raw(h, ", ");
    printf_esc(h, "%d refund(s)", o->refunds);
    any = 1;
  }
  if (o->held) {
    puts_raw(h,
             any ? ", <i>held: no sale yet</i>" : "<i>held: no sale yet</i>");
    any = 1;
  }
  if (o->test)
    puts_raw(h, any ? ", <i>test</i>" : "<i>test</i>");
  puts_raw(h, "</td>");
}

/* The orders table (the first ORDERS_LISTED) and how many more there are. */
static void html_orders(html *h, const rep_merchant *m) {
  if (!m->n_orders)
    return;
  puts_raw(h, "<h3>Orders</h3>\n<table><tr><th>Order</th><th>Sale</th>"
              "<th>Refunded</th><th>Net</th><th>Status</th></tr>\n");
  for (size_t i = 0; i < m->n_orders; i++) {
    const rep_order *x = &m->orders[i];
    puts_raw(h, x->o.test ? "<tr class=test><td>" : "<tr><td>");
    esc(h, x->order_id);
    puts_raw(h, "</td>");
    cell_money(h, x->o.sale, x->currency);
    cell_money(h, x->o.refunded, x->currency);
    cell_money(h, x->o.net, x->currency);
    html_status(h, &x->o);
    puts_raw(h, "</tr>\n");
  }
  puts_raw(h, "</table>\n");
  if (m->not_listed)
    para_esc(h, "%zu more order(s) not listed (counted in the totals).",
             m->not_listed);
}

/* The recent rejections table, newest first. */
static void html_rejections(html *h, const rep_merchant *m) {
  if (!m->n_rej)
    return;
  puts_raw(h, "<h3>Recent rejections</h3>\n<table><tr><th>Time</th>"
              "<th>Event</th><th>Type</th><th>Order</th><th>Reason</th>"
              "<th>Message</th></tr>\n");
  for (size_t i = 0; i < m->n_rej; i++) {
    const rep_rej *x = &m->rej[i];
    char when[32];
    time_t t = (time_t)x->at;
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%SZ", &tm);
    const char *cols[] = {when,        x->id,     x->type,
                          x->order_id, x->reason, x->message};
    puts_raw(h, "<tr>");
    for (size_t k = 0; k < sizeof(cols) / sizeof(cols[0]); k++) {
      puts_raw(h, "<td>");
      esc(h, cols[k]);
      puts_raw(h, "</td>");
    }
    puts_raw(h, "</tr>\n");
  }
  puts_raw(h, "</table>\n");
}

/* One merchant's section: its name, totals, orders and rejections. */
static void merchant_html(html *h, const rep_merchant *m) {
  puts_raw(h, "<h2>");
  esc(h, m->id);
  puts_raw(h, m->configured ? "</h2>\n" : " (not configured)</h2>\n");
  html_totals(h, m);
  html_orders(h, m);
  html_rejections(h, m);
}

char *sb_report_html(sandbox *sb, size_t *len) {
  report r;
  if (report_load(sb, &r) != 0)
    return NULL;
  html h = {NULL, 0, 0, 0};
  puts_raw(&h,
           "<!DOCTYPE html>\n<html lang=en><head><meta charset=utf-8>\n"
           "<title>cashback sandbox</title>\n<style>"
           "body{font-family:sans-serif;margin:2em}"
           "table{border-collapse:collapse;margin-bottom:1em}"
           "td,th{border:1px solid #ccc;padding:.2em .6em;text-align:left}"
           "td.n{text-align:right}tr.test{color:#888}"
           "</style></head><body>\n<h1>cashback sandbox: conversions</h1>\n");
  puts_raw(&h, "<p>");
  pthread_mutex_lock(&sb->lock);
  sb_mode mode = sb->mode;
  pthread_mutex_unlock(&sb->lock);
  printf_esc(&h,
             "Fault mode: %s. Refunds are netted; cancelled orders count "
             "0; test events are shown but never counted.",
             sb_mode_name(mode));
  puts_raw(&h, "</p>\n");
  for (size_t i = 0; i < r.n; i++)
    merchant_html(&h, &r.m[i]);
  puts_raw(&h, "</body></html>\n");
  report_free(&r);
  if (h.oom) {
    free(h.p);
    return NULL;
  }
  *len = h.len;
  return h.p;
}
