/*
 * The network modes' store: the orders the network's API calls made and
 * changed, the sliding rate window of the sale calls, the last request as
 * received, and the answers counted by status; and the view of it all that
 * tests and partners read (GET /api/orders). In memory: a network mode's
 * sandbox starts empty (docs/sandbox.md says so). One mutex.
 */
#include "sandbox_net.h"

#include <cashback.h>
#include <cjson/cJSON.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LAST_REQUEST_MAX (5u * 1024 * 1024)

typedef struct rejection {
  char ref[SB_NET_REF_MAX + 1];
  char message[SB_NET_MESSAGE_MAX + 1];
} rejection;

typedef struct status_count {
  unsigned status;
  unsigned long count;
} status_count;

struct sb_net {
  sb_net_config cfg;
  void (*log)(void *ud, const char *line);
  void *log_ud;
  pthread_mutex_t mu;
  sb_net_order **orders; /* in arrival order */
  size_t n_orders, cap_orders;
  size_t *index; /* open addressing: order position + 1, 0 empty */
  size_t index_cap;
  rejection recent[SB_NET_REJECTIONS_KEPT];
  size_t n_rejections; /* ever */
  unsigned long next_id;
  int64_t *window; /* ring of the counted calls' times, ms */
  size_t window_n, window_head;
  char *last;
  size_t last_len;
  status_count answers[16];
  size_t n_answers;
};

sb_net *sb_net_new(const sb_net_config *cfg,
                   void (*log)(void *ud, const char *line), void *ud) {
  sb_net *n = calloc(1, sizeof(*n));
  if (!n)
    return NULL;
  n->cfg = *cfg;
  n->log = log;
  n->log_ud = ud;
  n->next_id = 1000001;
  pthread_mutex_init(&n->mu, NULL);
  if (cfg->rate_calls > 0) {
    n->window = calloc((size_t)cfg->rate_calls, sizeof(*n->window));
    if (!n->window) {
      sb_net_free(n);
      return NULL;
    }
  }
  return n;
}

void sb_net_free(sb_net *n) {
  if (!n)
    return;
  for (size_t i = 0; i < n->n_orders; i++) {
    free(n->orders[i]->raw);
    free(n->orders[i]);
  }
  free(n->orders);
  free(n->index);
  free(n->window);
  free(n->last);
  pthread_mutex_destroy(&n->mu);
  memset(&n->cfg, 0, sizeof(n->cfg)); /* the secrets */
  free(n);
}

const sb_net_config *sb_net_config_of(const sb_net *n) {
  return &n->cfg;
}

void sb_net_lock(sb_net *n) {
  pthread_mutex_lock(&n->mu);
}
void sb_net_unlock(sb_net *n) {
  pthread_mutex_unlock(&n->mu);
}

void sb_net_log(sb_net *n, const char *fmt, ...) {
  if (!n->log)
    return;
  char line[1024];
  va_list ap;
  va_start(ap, fmt);
  cashback_vprintablef(line, sizeof(line), fmt, ap);
  va_end(ap);
  n->log(n->log_ud, line);
}

/* ------------------------------------------------------------- orders */

static size_t hash_ref(const char *s) {
  size_t h = 1469598103934665603u;
  for (; *s; s++)
    h = (h ^ (unsigned char)*s) * 1099511628211u;
  return h;
}

/* The index slot of `ref`: its order's, or the empty one it would take. */
static size_t *slot_of(sb_net *n, const char *ref) {
  size_t mask = n->index_cap - 1;
  for (size_t i = hash_ref(ref) & mask;; i = (i + 1) & mask) {
    size_t v = n->index[i];
    if (v == 0 || strcmp(n->orders[v - 1]->ref, ref) == 0)
      return &n->index[i];
  }
}

sb_net_order *sb_net_find_locked(sb_net *n, const char *ref) {
  if (!n->index_cap)
    return NULL;
  size_t v = *slot_of(n, ref);
  return v ? n->orders[v - 1] : NULL;
}

/* Doubles the index (kept at most half full) and rebuilds it. */
static int grow_index(sb_net *n) {
  size_t cap = n->index_cap ? 2 * n->index_cap : 1024;
  size_t *idx = calloc(cap, sizeof(*idx));
  if (!idx)
    return -1;
  free(n->index);
  n->index = idx;
  n->index_cap = cap;
  for (size_t i = 0; i < n->n_orders; i++)
    *slot_of(n, n->orders[i]->ref) = i + 1;
  return 0;
}

sb_net_order *sb_net_add_locked(sb_net *n, const char *ref) {
  if (n->n_orders >= SB_NET_ORDERS_MAX || strlen(ref) > SB_NET_REF_MAX)
    return NULL;
  if (2 * (n->n_orders + 1) > n->index_cap && grow_index(n) != 0)
    return NULL;
  if (n->n_orders == n->cap_orders) {
    size_t cap = n->cap_orders ? 2 * n->cap_orders : 256;
    sb_net_order **p = realloc(n->orders, cap * sizeof(*p));
    if (!p)
      return NULL;
    n->orders = p;
    n->cap_orders = cap;
  }
  sb_net_order *o = calloc(1, sizeof(*o));
  if (!o)
    return NULL;
  snprintf(o->ref, sizeof(o->ref), "%s", ref);
  o->status = "pending";
  n->orders[n->n_orders++] = o;
  *slot_of(n, ref) = n->n_orders;
  return o;
}

sb_net_order *sb_net_find_submission_locked(sb_net *n, const char *id) {
  for (size_t i = 0; i < n->n_orders; i++)
    if (n->orders[i]->submission[0] &&
        strcmp(n->orders[i]->submission, id) == 0)
      return n->orders[i];
  return NULL;
}

void sb_net_reject_locked(sb_net *n, const char *ref, const char *message) {
  rejection *r = &n->recent[n->n_rejections % SB_NET_REJECTIONS_KEPT];
  snprintf(r->ref, sizeof(r->ref), "%s", ref ? ref : "");
  snprintf(r->message, sizeof(r->message), "%s", message);
  n->n_rejections++;
}

void sb_net_next_id_locked(sb_net *n, char *out, size_t size) {
  snprintf(out, size, "%lu", n->next_id++);
}

/* -------------------------------------------------------- rate window */

int sb_net_rate_take(sb_net *n, int64_t now_ms) {
  if (n->cfg.rate_calls <= 0)
    return 0;
  int64_t span = (int64_t)n->cfg.rate_seconds * 1000;
  size_t cap = (size_t)n->cfg.rate_calls;
  int wait = 0;
  pthread_mutex_lock(&n->mu);
  /* Drops the calls that left the window (the oldest first). */
  while (n->window_n &&
         n->window[(n->window_head + cap - n->window_n) % cap] <= now_ms - span)
    n->window_n--;
  if (n->window_n < cap) {
    n->window[n->window_head] = now_ms;
    n->window_head = (n->window_head + 1) % cap;
    n->window_n++;
  } else {
    int64_t oldest = n->window[(n->window_head + cap - n->window_n) % cap];
    int64_t ms = oldest + span - now_ms;
    wait = (int)((ms + 999) / 1000);
    if (wait < 1)
      wait = 1;
  }
  pthread_mutex_unlock(&n->mu);
  return wait;
}

/* ------------------------------------------------------- last request */

void sb_net_record_request(sb_net *n, const char *head, size_t head_len,
                           const char *body, size_t body_len) {
  if (head_len > LAST_REQUEST_MAX || body_len > LAST_REQUEST_MAX)
    return;
  char *p = malloc(head_len + body_len + 1);
  if (!p)
    return;
  memcpy(p, head, head_len);
  if (body_len)
    memcpy(p + head_len, body, body_len);
  p[head_len + body_len] = '\0';
  pthread_mutex_lock(&n->mu);
  free(n->last);
  n->last = p;
  n->last_len = head_len + body_len;
  pthread_mutex_unlock(&n->mu);
}

int sb_net_last_request(sb_net *n, char **out, size_t *len) {
  int rc = -1;
  *out = NULL;
  *len = 0;
  pthread_mutex_lock(&n->mu);
  if (n->last && (*out = malloc(n->last_len + 1)) != NULL) {
    memcpy(*out, n->last, n->last_len + 1);
    *len = n->last_len;
    rc = 0;
  }
  pthread_mutex_unlock(&n->mu);
  return rc;
}

void sb_net_count_answer(sb_net *n, unsigned status) {
  pthread_mutex_lock(&n->mu);
  size_t i = 0;
  while (i < n->n_answers && n->answers[i].status != status)
    i++;
  if (i == n->n_answers && n->n_answers < 16)
    n->answers[n->n_answers++].status = status;
  if (i < n->n_answers)
    n->answers[i].count++;
  pthread_mutex_unlock(&n->mu);
}

/* ---------------------------------------------------------- answering */

void sb_net_answer_json(sb_net_answer *a, unsigned status, cJSON *o) {
  char *text = o ? cJSON_PrintUnformatted(o) : NULL;
  cJSON_Delete(o);
  a->body = text ? strdup(text) : NULL;
  cJSON_free(text);
  a->status = a->body ? status : 500;
}

void sb_net_error(sb_net_answer *a, unsigned status, const char *k1,
                  const char *v1, const char *k2, cJSON *errors,
                  const char *fmt, va_list ap) {
  char text[SB_NET_MESSAGE_MAX * 2];
  vsnprintf(text, sizeof(text), fmt, ap);
  cJSON *o = cJSON_CreateObject();
  if (o && (!cJSON_AddStringToObject(o, k1, v1) ||
            !cJSON_AddStringToObject(o, k2, text))) {
    cJSON_Delete(o);
    o = NULL;
  }
  if (o && errors && cJSON_AddItemToObject(o, "Errors", errors))
    errors = NULL;
  cJSON_Delete(errors);
  sb_net_answer_json(a, status, o);
}

void sb_net_money_text(int64_t minor, const char *currency, char *buf,
                       size_t size) {
  if (cashback_money_format(minor, currency, buf, size) != CASHBACK_OK)
    snprintf(buf, size, "%lld", (long long)minor);
}

/* ---------------------------------------------------------------- view */

static const char *network_name(sb_network nw) {
  return nw == SB_NET_AWIN     ? "awin"
         : nw == SB_NET_IMPACT ? "impact"
                               : "cashback";
}

static int add_money(cJSON *o, const char *name, int64_t minor,
                     const char *currency) {
  char text[48];
  sb_net_money_text(minor, currency, text, sizeof(text));
  return cJSON_AddStringToObject(o, name, text) != NULL;
}

/* One order of the view. */
static cJSON *order_json(const sb_net_order *o) {
  cJSON *j = cJSON_CreateObject();
  int ok = j && cJSON_AddStringToObject(j, "ref", o->ref) &&
           cJSON_AddStringToObject(j, "status", o->status) &&
           cJSON_AddStringToObject(j, "currency", o->currency) &&
           add_money(j, "amount", o->amount, o->currency) &&
           add_money(j, "sale_amount", o->sale, o->currency) &&
           cJSON_AddBoolToObject(j, "test", o->test) &&
           cJSON_AddNumberToObject(j, "received", o->received) &&
           cJSON_AddNumberToObject(j, "duplicates", o->duplicates) &&
           cJSON_AddNumberToObject(j, "changes", o->changes) &&
           cJSON_AddStringToObject(j, "date", o->date) &&
           cJSON_AddStringToObject(j, "click", o->click) &&
           cJSON_AddStringToObject(j, "reason", o->reason);
  if (ok && o->submission[0])
    ok = cJSON_AddStringToObject(j, "submission", o->submission) != NULL;
  if (!ok) {
    cJSON_Delete(j);
    return NULL;
  }
  return j;
}

/* The counts of the view: orders, sales received, duplicates, answers. */
static int add_counts(cJSON *root, const sb_net *n) {
  unsigned long received = 0, duplicates = 0;
  for (size_t i = 0; i < n->n_orders; i++) {
    received += n->orders[i]->received;
    duplicates += n->orders[i]->duplicates;
  }
  cJSON *answers = cJSON_AddObjectToObject(root, "answers");
  int ok =
      cJSON_AddNumberToObject(root, "orders_count", (double)n->n_orders) &&
      cJSON_AddNumberToObject(root, "received", (double)received) &&
      cJSON_AddNumberToObject(root, "duplicates", (double)duplicates) &&
      cJSON_AddNumberToObject(root, "rejections", (double)n->n_rejections) &&
      answers;
  for (size_t i = 0; ok && i < n->n_answers; i++) {
    char code[12];
    snprintf(code, sizeof(code), "%u", n->answers[i].status);
    ok = cJSON_AddNumberToObject(answers, code, (double)n->answers[i].count) !=
         NULL;
  }
  return ok;
}

char *sb_net_view_json(sb_net *n, size_t *len) {
  pthread_mutex_lock(&n->mu);
  cJSON *root = cJSON_CreateObject();
  int ok =
      root &&
      cJSON_AddStringToObject(root, "network", network_name(n->cfg.network)) &&
      cJSON_AddStringToObject(root, "account", n->cfg.account) &&
      add_counts(root, n);
  cJSON *orders = ok ? cJSON_AddArrayToObject(root, "orders") : NULL;
  ok = orders != NULL;
  for (size_t i = 0; ok && i < n->n_orders; i++) {
    cJSON *o = order_json(n->orders[i]);
    ok = o && cJSON_AddItemToArray(orders, o);
    if (o && !ok)
      cJSON_Delete(o);
  }
  cJSON *rej = ok ? cJSON_AddArrayToObject(root, "recent_rejections") : NULL;
  ok = rej != NULL;
  size_t kept = n->n_rejections < SB_NET_REJECTIONS_KEPT
                    ? n->n_rejections
                    : SB_NET_REJECTIONS_KEPT;
  for (size_t k = 0; ok && k < kept; k++) { /* newest first */
    const rejection *r =
        &n->recent[(n->n_rejections - 1 - k) % SB_NET_REJECTIONS_KEPT];
    cJSON *o = cJSON_CreateObject();
    ok = o != NULL;
    if (ok && !cJSON_AddItemToArray(rej, o)) {
      cJSON_Delete(o);
      ok = 0;
    }
    ok = ok && cJSON_AddStringToObject(o, "ref", r->ref) &&
         cJSON_AddStringToObject(o, "message", r->message);
  }
  pthread_mutex_unlock(&n->mu);
  char *text = ok ? cJSON_PrintUnformatted(root) : NULL;
  cJSON_Delete(root);
  char *out = text ? strdup(text) : NULL;
  cJSON_free(text);
  *len = out ? strlen(out) : 0;
  return out;
}
