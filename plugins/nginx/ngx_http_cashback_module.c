/*
 * ngx_http_cashback_module: libcashback for nginx (docs/nginx.md).
 *
 * A shim, no logic of its own: directives in, SDK calls, errors out as
 * nginx reports them. Per request:
 * - NGX_HTTP_POST_READ_PHASE (before a server-level `return 301`): the
 *   landing's click is captured with cashback_capture(), and the verified
 *   click (cashback_click_read() of that cookie or of the request's Cookie
 *   headers) kept for the variables $cashback_click (the handle) and
 *   $cashback_click_token (the bare token);
 * - the header filter adds the Set-Cookie (with Cache-Control: private) to
 *   whatever the response to the request is (200, a redirect, an error page),
 *   and takes every X-Cashback-Event header off the response (also the
 *   upstream's, when proxy_hide_header hides it). Where cashback_report is
 *   on (main request only), the events are parsed
 *   (cashback_event_parse(); a sale that names no click gets the
 *   request's: cashback_event_set_click_default()) and stored
 *   (cashback_report(), which waits for fdatasync) by a task in an nginx
 *   thread pool; the response (header and body) is held until the task is
 *   done, then passed on, or replaced by a 503 where
 *   `cashback_on_failure 503` says so and an event was not stored.
 * Clients are made per worker (init_process), one per merchant, from the
 * options the master read and checked at configuration (also under
 * `nginx -t`), and freed at the worker's exit.
 */
#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <cashback.h>

#include <stdio.h>
#include <string.h>

#if !(NGX_THREADS)
#error "ngx_http_cashback_module needs nginx built --with-threads"
#endif

#define CB_REPORT_HEADER "X-Cashback-Event"
/* Our bit of c->buffered while a report is in the thread pool (the bits
 * nginx itself uses: 0x01 SSL, 0x02 HTTP/2, 0x10 write, 0x20 gzip). */
#define CB_BUFFERED 0x80

/* A merchant: its configuration's sources, the options the workers make
 * their client from, and in a worker that client. */
typedef struct {
  ngx_str_t file;          /* cashback_config_file, or empty */
  ngx_str_t env;           /* cashback_connection_env, or empty */
  ngx_str_t where;         /* "file:line" of its first directive */
  ngx_flag_t sender;       /* cashback_sender: worker 0 delivers */
  cashback_options *opts;  /* read in the master, for the workers */
  cashback_client *client; /* in a worker */
} cb_merchant_t;

typedef struct {
  ngx_array_t merchants; /* of cb_merchant_t * */
} cb_main_conf_t;

typedef struct {
  cb_merchant_t *merchant;
  ngx_flag_t capture;
  ngx_flag_t sender;
} cb_srv_conf_t;

typedef struct {
  ngx_flag_t report;
  ngx_uint_t on_failure; /* 0 not set, 1 pass, 2 503 */
  ngx_str_t pool_name;
  ngx_thread_pool_t *pool;
} cb_loc_conf_t;

enum { CB_FAIL_UNSET, CB_FAIL_PASS, CB_FAIL_503 };
enum { CB_IDLE, CB_WAITING, CB_PASS, CB_SEND_503, CB_DISCARD };
enum { CB_REPORTED, CB_DROPPED, CB_NOT_STORED };

/* What the first phase found for the request; kept across internal
 * redirects (which clear r->ctx) through a pool cleanup. */
typedef struct {
  ngx_http_request_t *r;
  cb_merchant_t *merchant;
  ngx_str_t set_cookie; /* to add to the response, or empty */
  unsigned cookie_done : 1;
  unsigned have_click : 1;
  ngx_uint_t state;
  ngx_chain_t *held; /* the body while the report is in the thread */
  cashback_click click;
} cb_ctx_t;

/* One event text of the response and, from the thread, what became of it. */
typedef struct {
  ngx_str_t text;
  ngx_uint_t result;
  char id[CASHBACK_EVENT_ID_LEN + 1];
  char detail[CASHBACK_ERROR_MAX + 1];
} cb_event_t;

typedef struct {
  ngx_http_request_t *r;
  cb_ctx_t *ctx;
  cashback_client *client;
  cb_event_t *events;
  ngx_uint_t n;
  ngx_flag_t fail503;
} cb_task_t;

static ngx_int_t cb_preconfiguration(ngx_conf_t *cf);
static ngx_int_t cb_postconfiguration(ngx_conf_t *cf);
static void *cb_create_main_conf(ngx_conf_t *cf);
static void *cb_create_srv_conf(ngx_conf_t *cf);
static char *cb_merge_srv_conf(ngx_conf_t *cf, void *parent, void *child);
static void *cb_create_loc_conf(ngx_conf_t *cf);
static char *cb_merge_loc_conf(ngx_conf_t *cf, void *parent, void *child);
static char *cb_set_source(ngx_conf_t *cf, ngx_command_t *cmd, void *conf);
static char *cb_set_on_failure(ngx_conf_t *cf, ngx_command_t *cmd, void *conf);
static ngx_int_t cb_init_process(ngx_cycle_t *cycle);
static void cb_exit_process(ngx_cycle_t *cycle);

static ngx_command_t cb_commands[] = {
    {ngx_string("cashback_config_file"),
     NGX_HTTP_MAIN_CONF | NGX_HTTP_SRV_CONF | NGX_CONF_TAKE1, cb_set_source,
     NGX_HTTP_SRV_CONF_OFFSET, 0, NULL},
    {ngx_string("cashback_connection_env"),
     NGX_HTTP_MAIN_CONF | NGX_HTTP_SRV_CONF | NGX_CONF_TAKE1, cb_set_source,
     NGX_HTTP_SRV_CONF_OFFSET, 1, NULL},
    {ngx_string("cashback_capture"),
     NGX_HTTP_MAIN_CONF | NGX_HTTP_SRV_CONF | NGX_CONF_FLAG,
     ngx_conf_set_flag_slot, NGX_HTTP_SRV_CONF_OFFSET,
     offsetof(cb_srv_conf_t, capture), NULL},
    {ngx_string("cashback_sender"),
     NGX_HTTP_MAIN_CONF | NGX_HTTP_SRV_CONF | NGX_CONF_FLAG,
     ngx_conf_set_flag_slot, NGX_HTTP_SRV_CONF_OFFSET,
     offsetof(cb_srv_conf_t, sender), NULL},
    {ngx_string("cashback_report"),
     NGX_HTTP_MAIN_CONF | NGX_HTTP_SRV_CONF | NGX_HTTP_LOC_CONF | NGX_CONF_FLAG,
     ngx_conf_set_flag_slot, NGX_HTTP_LOC_CONF_OFFSET,
     offsetof(cb_loc_conf_t, report), NULL},
    {ngx_string("cashback_on_failure"),
     NGX_HTTP_MAIN_CONF | NGX_HTTP_SRV_CONF | NGX_HTTP_LOC_CONF |
         NGX_CONF_TAKE1,
     cb_set_on_failure, NGX_HTTP_LOC_CONF_OFFSET, 0, NULL},
    {ngx_string("cashback_thread_pool"),
     NGX_HTTP_MAIN_CONF | NGX_HTTP_SRV_CONF | NGX_HTTP_LOC_CONF |
         NGX_CONF_TAKE1,
     ngx_conf_set_str_slot, NGX_HTTP_LOC_CONF_OFFSET,
     offsetof(cb_loc_conf_t, pool_name), NULL},
    ngx_null_command};

static ngx_http_module_t cb_module_ctx = {
    cb_preconfiguration, cb_postconfiguration,
    cb_create_main_conf, NULL,
    cb_create_srv_conf,  cb_merge_srv_conf,
    cb_create_loc_conf,  cb_merge_loc_conf};

ngx_module_t ngx_http_cashback_module = {
    NGX_MODULE_V1,   &cb_module_ctx, cb_commands,
    NGX_HTTP_MODULE, NULL,           NULL,
    cb_init_process, NULL,           NULL,
    cb_exit_process, NULL,           NGX_MODULE_V1_PADDING};

static ngx_http_output_header_filter_pt cb_next_header_filter;
static ngx_http_output_body_filter_pt cb_next_body_filter;

/* ------------------------------------------------------------------------
 * Configuration */

static void *cb_create_main_conf(ngx_conf_t *cf) {
  cb_main_conf_t *c = ngx_pcalloc(cf->pool, sizeof(*c));
  if (c == NULL || ngx_array_init(&c->merchants, cf->pool, 2,
                                  sizeof(cb_merchant_t *)) != NGX_OK)
    return NULL;
  return c;
}

static void *cb_create_srv_conf(ngx_conf_t *cf) {
  cb_srv_conf_t *c = ngx_pcalloc(cf->pool, sizeof(*c));
  if (c == NULL)
    return NULL;
  c->capture = NGX_CONF_UNSET;
  c->sender = NGX_CONF_UNSET;
  return c;
}

static char *cb_merge_srv_conf(ngx_conf_t *cf, void *parent, void *child) {
  (void)cf;
  cb_srv_conf_t *prev = parent, *conf = child;
  if (conf->merchant == NULL)
    conf->merchant = prev->merchant;
  ngx_conf_merge_value(conf->capture, prev->capture, 1);
  ngx_conf_merge_value(conf->sender, prev->sender, 0);
  if (conf->merchant && conf->sender)
    conf->merchant->sender = 1;
  return NGX_CONF_OK;
}

static void *cb_create_loc_conf(ngx_conf_t *cf) {
  cb_loc_conf_t *c = ngx_pcalloc(cf->pool, sizeof(*c));
  if (c == NULL)
    return NULL;
  c->report = NGX_CONF_UNSET;
  return c;
}

static char *cb_merge_loc_conf(ngx_conf_t *cf, void *parent, void *child) {
  cb_loc_conf_t *prev = parent, *conf = child;
  ngx_conf_merge_value(conf->report, prev->report, 0);
  if (conf->on_failure == CB_FAIL_UNSET)
    conf->on_failure = prev->on_failure;
  ngx_conf_merge_str_value(conf->pool_name, prev->pool_name, "default");
  if (conf->report) {
    /* Declared by a `thread_pool` directive, or "default" (32 threads). */
    conf->pool = ngx_thread_pool_add(cf, &conf->pool_name);
    if (conf->pool == NULL)
      return NGX_CONF_ERROR;
  }
  return NGX_CONF_OK;
}

/* cashback_config_file (cmd->offset 0) and cashback_connection_env (1):
 * the merchant of this server (made on first use). */
static char *cb_set_source(ngx_conf_t *cf, ngx_command_t *cmd, void *conf) {
  cb_srv_conf_t *sc = conf;
  ngx_str_t *arg = cf->args->elts;
  ngx_str_t v = arg[1];
  if (sc->merchant == NULL) {
    cb_main_conf_t *mc =
        ngx_http_conf_get_module_main_conf(cf, ngx_http_cashback_module);
    cb_merchant_t **slot = ngx_array_push(&mc->merchants);
    sc->merchant = ngx_pcalloc(cf->pool, sizeof(cb_merchant_t));
    if (slot == NULL || sc->merchant == NULL)
      return NGX_CONF_ERROR;
    *slot = sc->merchant;
    u_char *w = ngx_pnalloc(cf->pool, cf->conf_file->file.name.len + 32);
    if (w == NULL)
      return NGX_CONF_ERROR;
    sc->merchant->where.data = w;
    sc->merchant->where.len =
        ngx_sprintf(w, "%V:%ui", &cf->conf_file->file.name,
                    cf->conf_file->line) -
        w;
  }
  cb_merchant_t *m = sc->merchant;
  if (cmd->offset == 0) {
    if (m->file.len)
      return "is given twice for this server";
    if (v.len == 0)
      return "needs a file name";
    if (ngx_conf_full_name(cf->cycle, &v, 1) != NGX_OK)
      return NGX_CONF_ERROR;
    /* NUL-terminated for the SDK. */
    u_char *p = ngx_pnalloc(cf->pool, v.len + 1);
    if (p == NULL)
      return NGX_CONF_ERROR;
    ngx_memcpy(p, v.data, v.len);
    p[v.len] = '\0';
    m->file.data = p;
    m->file.len = v.len;
    return NGX_CONF_OK;
  }
  if (m->env.len)
    return "is given twice for this server";
  int ok = v.len > 0 && !(v.data[0] >= '0' && v.data[0] <= '9');
  for (size_t i = 0; ok && i < v.len; i++) {
    u_char ch = v.data[i];
    ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
         (ch >= '0' && ch <= '9') || ch == '_';
  }
  if (!ok) {
    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "cashback_connection_env: \"%V\" is not the name of an "
                       "environment variable ([A-Za-z_][A-Za-z0-9_]*)",
                       &v);
    return NGX_CONF_ERROR;
  }
  m->env = v; /* the args are NUL-terminated */
  return NGX_CONF_OK;
}

static char *cb_set_on_failure(ngx_conf_t *cf, ngx_command_t *cmd, void *conf) {
  (void)cmd;
  cb_loc_conf_t *lc = conf;
  ngx_str_t *arg = cf->args->elts;
  if (lc->on_failure != CB_FAIL_UNSET)
    return "is duplicate";
  if (arg[1].len == 4 && ngx_strncasecmp(arg[1].data, (u_char *)"pass", 4) == 0)
    lc->on_failure = CB_FAIL_PASS;
  else if (arg[1].len == 3 && ngx_strncmp(arg[1].data, "503", 3) == 0)
    lc->on_failure = CB_FAIL_503;
  else {
    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "cashback_on_failure: \"%V\" is neither \"pass\" (log "
                       "and answer as the application did) nor \"503\"",
                       &arg[1]);
    return NGX_CONF_ERROR;
  }
  return NGX_CONF_OK;
}

/* ------------------------------------------------------------------------
 * Options and clients */

/* New options from the merchant's sources, or NULL with the reason in
 * `err` (`size` bytes). */
static cashback_options *cb_load_options(const cb_merchant_t *m, char *err,
                                         size_t size) {
  cashback_options *opts = cashback_options_new();
  if (opts == NULL) {
    ngx_snprintf((u_char *)err, size - 1, "out of memory%Z");
    return NULL;
  }
  if (m->file.len && cashback_options_load_file(
                         opts, (const char *)m->file.data) != CASHBACK_OK) {
    *ngx_snprintf((u_char *)err, size - 1, "cashback_config_file %V (%V): %s",
                  &m->file, &m->where, cashback_options_last_error(opts)) =
        '\0';
    cashback_options_free(opts);
    return NULL;
  }
  if (m->env.len && cashback_options_load_connection_env(
                        opts, (const char *)m->env.data) != CASHBACK_OK) {
    *ngx_snprintf((u_char *)err, size - 1,
                  "cashback_connection_env %V (%V): %s (the master's "
                  "environment)",
                  &m->env, &m->where, cashback_options_last_error(opts)) = '\0';
    cashback_options_free(opts);
    return NULL;
  }
  return opts;
}

static void cb_free_options(void *data) {
  cb_merchant_t *m = data;
  cashback_options_free(m->opts);
  m->opts = NULL;
}

/* Every merchant's options are read and a client made from them (and
 * freed: the workers make their own), so that a bad configuration fails
 * `nginx -t`, the start and a reload, naming the directive. A second copy
 * of the options stays for the workers. */
static ngx_int_t cb_check_merchants(ngx_conf_t *cf) {
  cb_main_conf_t *mc =
      ngx_http_conf_get_module_main_conf(cf, ngx_http_cashback_module);
  cb_merchant_t **ms = mc->merchants.elts;
  for (ngx_uint_t i = 0; i < mc->merchants.nelts; i++) {
    cb_merchant_t *m = ms[i];
    char err[2 * CASHBACK_ERROR_MAX + 512] = "";
    cashback_options *opts = cb_load_options(m, err, sizeof(err));
    if (opts) {
      char detail[CASHBACK_ERROR_MAX + 1] = "";
      cashback_client *c = NULL;
      if (cashback_client_new(opts, &c, detail, sizeof(detail)) !=
          CASHBACK_OK) {
        snprintf(err, sizeof(err), "%s (%.*s): %s",
                 m->file.len ? "cashback_config_file"
                             : "cashback_connection_env",
                 (int)m->where.len, (const char *)m->where.data, detail);
      }
      cashback_client_free(c);
    }
    if (!err[0])
      m->opts = cb_load_options(m, err, sizeof(err));
    if (err[0]) {
      ngx_log_error(NGX_LOG_EMERG, cf->log, 0, "cashback: %s", err);
      return NGX_ERROR;
    }
    ngx_pool_cleanup_t *cln = ngx_pool_cleanup_add(cf->pool, 0);
    if (cln == NULL)
      return NGX_ERROR;
    cln->handler = cb_free_options;
    cln->data = m;
  }
  return NGX_OK;
}

/* In each worker, after the fork: a client per merchant, from the worker's
 * copy of the options (never one inherited from the master). */
static ngx_int_t cb_init_process(ngx_cycle_t *cycle) {
  if (ngx_process != NGX_PROCESS_WORKER && ngx_process != NGX_PROCESS_SINGLE)
    return NGX_OK;
  cb_main_conf_t *mc =
      ngx_http_cycle_get_module_main_conf(cycle, ngx_http_cashback_module);
  if (mc == NULL)
    return NGX_OK;
  cb_merchant_t **ms = mc->merchants.elts;
  for (ngx_uint_t i = 0; i < mc->merchants.nelts; i++) {
    cb_merchant_t *m = ms[i];
    if (m->client || m->opts == NULL)
      continue;
    cashback_options *opts = m->opts;
    m->opts = NULL; /* the client takes them, even on failure */
    char detail[CASHBACK_ERROR_MAX + 1] = "";
    if (cashback_client_new(opts, &m->client, detail, sizeof(detail)) !=
        CASHBACK_OK) {
      m->client = NULL;
      ngx_log_error(NGX_LOG_ERR, cycle->log, 0,
                    "cashback: no client for the configuration of %V: %s; "
                    "clicks are not captured, events not stored",
                    &m->where, detail);
      continue;
    }
    /* Delivery: `cashback send --watch` by default, or worker 0. */
    if (m->sender && ngx_worker == 0 &&
        cashback_sender_start(m->client) != CASHBACK_OK) {
      (void)cashback_client_last_error(m->client, detail, sizeof(detail));
      ngx_log_error(NGX_LOG_ERR, cycle->log, 0,
                    "cashback: the sender of %V did not start: %s", &m->where,
                    detail);
    }
  }
  return NGX_OK;
}

static void cb_exit_process(ngx_cycle_t *cycle) {
  cb_main_conf_t *mc =
      ngx_http_cycle_get_module_main_conf(cycle, ngx_http_cashback_module);
  if (mc == NULL)
    return;
  cb_merchant_t **ms = mc->merchants.elts;
  for (ngx_uint_t i = 0; i < mc->merchants.nelts; i++) {
    if (ms[i]->client) {
      (void)cashback_sender_stop(ms[i]->client, 2000);
      cashback_client_free(ms[i]->client);
      ms[i]->client = NULL;
    }
  }
}

/* ------------------------------------------------------------------------
 * Capture and expose */

static void cb_ctx_cleanup(void *data) {
  (void)data;
}

/* The request's context, also after an internal redirect cleared r->ctx
 * (found again by its pool cleanup, the realip module's way), or NULL. */
static cb_ctx_t *cb_get_ctx(ngx_http_request_t *r) {
  cb_ctx_t *ctx = ngx_http_get_module_ctx(r, ngx_http_cashback_module);
  if (ctx || r != r->main)
    return ctx;
  for (ngx_pool_cleanup_t *cln = r->pool->cleanup; cln; cln = cln->next) {
    if (cln->handler == cb_ctx_cleanup) {
      ctx = cln->data;
      ngx_http_set_ctx(r, ctx, ngx_http_cashback_module);
      return ctx;
    }
  }
  return NULL;
}

static void cb_log_click(ngx_http_request_t *r, cashback_client *c,
                         const char *what) {
  char why[CASHBACK_ERROR_MAX + 1];
  (void)cashback_client_last_error(c, why, sizeof(why));
  ngx_log_error(NGX_LOG_INFO, r->connection->log, 0, "cashback: %s: %s", what,
                why);
}

/* The request's Cookie headers as one (HTTP/2 sends several). */
static ngx_int_t cb_read_cookie(ngx_http_request_t *r, cb_ctx_t *ctx,
                                cashback_client *c) {
  ngx_table_elt_t **h = r->headers_in.cookies.elts;
  ngx_uint_t n = r->headers_in.cookies.nelts;
  if (n == 0)
    return NGX_OK;
  size_t len = 0;
  for (ngx_uint_t i = 0; i < n; i++)
    len += h[i]->value.len + 2;
  u_char *all = ngx_pnalloc(r->pool, len), *p = all;
  if (all == NULL)
    return NGX_ERROR;
  for (ngx_uint_t i = 0; i < n; i++) {
    if (i)
      p = ngx_cpymem(p, "; ", 2);
    p = ngx_cpymem(p, h[i]->value.data, h[i]->value.len);
  }
  cashback_status st =
      cashback_click_read(c, (const char *)all, (size_t)(p - all), &ctx->click);
  ctx->have_click = st == CASHBACK_OK;
  if (st != CASHBACK_OK && st != CASHBACK_E_CLICK_NONE)
    cb_log_click(r, c, "click cookie ignored");
  return NGX_OK;
}

static ngx_int_t cb_post_read(ngx_http_request_t *r) {
  if (r != r->main || cb_get_ctx(r))
    return NGX_DECLINED;
  cb_srv_conf_t *sc = ngx_http_get_module_srv_conf(r, ngx_http_cashback_module);
  cashback_client *c = sc->merchant ? sc->merchant->client : NULL;
  if (c == NULL)
    return NGX_DECLINED;
  ngx_pool_cleanup_t *cln = ngx_pool_cleanup_add(r->pool, sizeof(cb_ctx_t));
  if (cln == NULL)
    return NGX_HTTP_INTERNAL_SERVER_ERROR;
  cb_ctx_t *ctx = cln->data;
  ngx_memzero(ctx, sizeof(*ctx));
  cln->handler = cb_ctx_cleanup;
  ctx->r = r;
  ctx->merchant = sc->merchant;
  ctx->click.size = sizeof(ctx->click);
  ngx_http_set_ctx(r, ctx, ngx_http_cashback_module);

  if (sc->capture && r->unparsed_uri.len) {
    char set_cookie[CASHBACK_SET_COOKIE_MAX + 1];
    cashback_status st =
        cashback_capture(c, (const char *)r->unparsed_uri.data,
                         r->unparsed_uri.len, set_cookie, sizeof(set_cookie));
    if (st == CASHBACK_OK) {
      size_t len = strlen(set_cookie);
      ctx->set_cookie.data = ngx_pnalloc(r->pool, len);
      if (ctx->set_cookie.data == NULL)
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
      ngx_memcpy(ctx->set_cookie.data, set_cookie, len);
      ctx->set_cookie.len = len;
      /* The application sees the click it lands with (the cookie's
       * "name=value; ..." read like a Cookie header). */
      ctx->have_click =
          cashback_click_read(c, set_cookie, len, &ctx->click) == CASHBACK_OK;
    } else if (st != CASHBACK_E_CLICK_NONE) {
      cb_log_click(r, c, "landing click not captured");
    }
  }
  if (!ctx->have_click && cb_read_cookie(r, ctx, c) != NGX_OK)
    return NGX_HTTP_INTERNAL_SERVER_ERROR;
  return NGX_DECLINED;
}

/* $cashback_click (data 0): the handle; $cashback_click_token (1): the
 * bare token. Not found without a verified click. */
static ngx_int_t cb_variable(ngx_http_request_t *r,
                             ngx_http_variable_value_t *v, uintptr_t data) {
  cb_ctx_t *ctx = cb_get_ctx(r->main);
  if (ctx == NULL || !ctx->have_click) {
    v->not_found = 1;
    return NGX_OK;
  }
  const char *s = data ? ctx->click.token : ctx->click.handle;
  v->data = (u_char *)s;
  v->len = strlen(s);
  v->valid = 1;
  v->no_cacheable = 0;
  v->not_found = 0;
  return NGX_OK;
}

static ngx_http_variable_t cb_variables[] = {
    {ngx_string("cashback_click"), NULL, cb_variable, 0,
     NGX_HTTP_VAR_NOCACHEABLE, 0},
    {ngx_string("cashback_click_token"), NULL, cb_variable, 1,
     NGX_HTTP_VAR_NOCACHEABLE, 0},
    ngx_http_null_variable};

/* ------------------------------------------------------------------------
 * The response: cookie, report header */

static ngx_table_elt_t *cb_add_header(ngx_http_request_t *r, const char *key,
                                      ngx_str_t value) {
  ngx_table_elt_t *h = ngx_list_push(&r->headers_out.headers);
  if (h == NULL)
    return NULL;
  h->hash = 1;
  h->key.data = (u_char *)key;
  h->key.len = strlen(key);
  h->value = value;
  h->lowcase_key = NULL;
  return h;
}

/* The landing's Set-Cookie on whatever the response is, with
 * Cache-Control: private in place of the response's own. */
static ngx_int_t cb_add_cookie(ngx_http_request_t *r, cb_ctx_t *ctx) {
  if (ctx->cookie_done || ctx->set_cookie.len == 0)
    return NGX_OK;
  ctx->cookie_done = 1;
  for (ngx_list_part_t *part = &r->headers_out.headers.part; part;
       part = part->next) {
    ngx_table_elt_t *h = part->elts;
    for (ngx_uint_t i = 0; i < part->nelts; i++)
      if (h[i].hash && h[i].key.len == sizeof("Cache-Control") - 1 &&
          ngx_strncasecmp(h[i].key.data, (u_char *)"Cache-Control",
                          h[i].key.len) == 0)
        h[i].hash = 0;
  }
  r->headers_out.cache_control.nelts = 0;
  ngx_str_t priv = ngx_string("private");
  if (cb_add_header(r, "Set-Cookie", ctx->set_cookie) == NULL ||
      cb_add_header(r, "Cache-Control", priv) == NULL)
    return NGX_ERROR;
  return NGX_OK;
}

static int cb_is_report_header(const ngx_table_elt_t *h) {
  return h->key.len == sizeof(CB_REPORT_HEADER) - 1 &&
         ngx_strncasecmp(h->key.data, (u_char *)CB_REPORT_HEADER, h->key.len) ==
             0;
}

/* Takes every instance of the report header off `list` (hash 0: never
 * sent); with `texts`, also copies the values not taken yet (a header the
 * upstream module copied into the response shares its value). */
static ngx_int_t cb_take(ngx_http_request_t *r, ngx_list_t *list,
                         ngx_array_t *texts) {
  for (ngx_list_part_t *part = &list->part; part; part = part->next) {
    ngx_table_elt_t *h = part->elts;
    for (ngx_uint_t i = 0; i < part->nelts; i++) {
      if (!cb_is_report_header(&h[i]))
        continue;
      h[i].hash = 0;
      if (texts == NULL)
        continue;
      cb_event_t *ev = texts->elts;
      ngx_uint_t k;
      for (k = 0; k < texts->nelts; k++)
        if (ev[k].text.len == h[i].value.len &&
            ngx_memcmp(ev[k].text.data, h[i].value.data, h[i].value.len) == 0)
          break;
      if (k < texts->nelts)
        continue;
      cb_event_t *e = ngx_array_push(texts);
      if (e == NULL)
        return NGX_ERROR;
      ngx_memzero(e, sizeof(*e));
      /* Copied: an upstream's buffer may be reused for the body. */
      e->text.data = ngx_pnalloc(r->pool, h[i].value.len + 1);
      if (e->text.data == NULL)
        return NGX_ERROR;
      ngx_memcpy(e->text.data, h[i].value.data, h[i].value.len);
      e->text.data[h[i].value.len] = '\0';
      e->text.len = h[i].value.len;
    }
  }
  return NGX_OK;
}

/* In a thread of the pool: parse, attribute and store each event
 * (cashback_report_text(); cashback_report() waits for fdatasync). Writes
 * only the task's own results; logs nothing (the event loop logs them). */
static void cb_report_thread(void *data, ngx_log_t *log) {
  (void)log;
  cb_task_t *t = data;
  const cashback_click *click = t->ctx->have_click ? &t->ctx->click : NULL;
  for (ngx_uint_t i = 0; i < t->n; i++) {
    cb_event_t *e = &t->events[i];
    cashback_status st =
        cashback_report_text(t->client, (const char *)e->text.data, e->text.len,
                             click, e->id, e->detail, sizeof(e->detail));
    e->result = st == CASHBACK_OK                     ? CB_REPORTED
                : cashback_report_text_not_stored(st) ? CB_NOT_STORED
                                                      : CB_DROPPED;
  }
}

/* Logs what became of the events; 1 when one was not stored. */
static int cb_log_results(ngx_http_request_t *r, cb_event_t *ev, ngx_uint_t n) {
  int not_stored = 0;
  for (ngx_uint_t i = 0; i < n; i++) {
    switch (ev[i].result) {
    case CB_REPORTED:
      ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                    "cashback: event %s stored", ev[i].id);
      break;
    case CB_DROPPED:
      ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                    "cashback: " CB_REPORT_HEADER " dropped, not reported: %s",
                    ev[i].detail);
      break;
    default:
      ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                    "cashback: event not stored: %s", ev[i].detail);
      not_stored = 1;
    }
  }
  return not_stored;
}

/* Back on the event loop: the response goes on, or is a 503. */
static void cb_report_done(ngx_event_t *evt) {
  cb_task_t *t = evt->data;
  ngx_http_request_t *r = t->r;
  ngx_connection_t *c = r->connection;
  cb_ctx_t *ctx = t->ctx;
  ngx_http_set_log_request(c->log, r);
  r->main->blocked--;
  c->buffered &= ~CB_BUFFERED;
  int not_stored = cb_log_results(r, t->events, t->n);
  ngx_chain_t *held = ctx->held;
  ctx->held = NULL;
  if (c->error) {
    ctx->state = CB_DISCARD;
  } else if (not_stored && t->fail503) {
    /* cashback_on_failure 503: the payment provider retries. */
    ctx->state = CB_SEND_503;
    (void)ngx_http_filter_finalize_request(r, &ngx_http_cashback_module,
                                           NGX_HTTP_SERVICE_UNAVAILABLE);
    ctx->state = CB_DISCARD;
    for (ngx_chain_t *cl = held; cl; cl = cl->next)
      cl->buf->pos = cl->buf->last, cl->buf->file_pos = cl->buf->file_last;
  } else {
    ctx->state = CB_PASS;
    ngx_int_t rc = cb_next_header_filter(r);
    if (rc == NGX_ERROR || rc > NGX_OK)
      c->error = 1;
    else if (held && !r->header_only &&
             cb_next_body_filter(r, held) == NGX_ERROR)
      c->error = 1;
  }
  if (r->done) {
    c->write->handler(c->write);
  } else {
    r->write_event_handler(r);
    ngx_http_run_posted_requests(c);
  }
}

/* Posts the events to the thread pool and holds the response; NGX_OK when
 * posted. */
static ngx_int_t cb_post_report(ngx_http_request_t *r, cb_ctx_t *ctx,
                                cb_loc_conf_t *lc, cashback_client *client,
                                ngx_array_t *texts) {
  ngx_thread_task_t *task = ngx_thread_task_alloc(r->pool, sizeof(cb_task_t));
  if (task == NULL)
    return NGX_ERROR;
  cb_task_t *t = task->ctx;
  t->r = r;
  t->ctx = ctx;
  t->client = client;
  t->events = texts->elts;
  t->n = texts->nelts;
  t->fail503 = lc->on_failure == CB_FAIL_503;
  task->handler = cb_report_thread;
  task->event.data = t;
  task->event.handler = cb_report_done;
  if (ngx_thread_task_post(lc->pool, task) != NGX_OK)
    return NGX_ERROR;
  ctx->state = CB_WAITING;
  r->main->blocked++;
  r->connection->buffered |= CB_BUFFERED;
  return NGX_OK;
}

static ngx_int_t cb_header_filter(ngx_http_request_t *r) {
  cb_ctx_t *ctx = r == r->main ? cb_get_ctx(r) : NULL;
  if (ctx && ctx->state == CB_SEND_503)
    return cb_next_header_filter(r);
  cb_loc_conf_t *lc = ngx_http_get_module_loc_conf(r, ngx_http_cashback_module);
  int report = r == r->main && lc->report;
  ngx_array_t *texts = NULL;
  if (report &&
      (texts = ngx_array_create(r->pool, 2, sizeof(cb_event_t))) == NULL)
    return NGX_ERROR;
  /* Every instance off the response, also where reporting is off and in
   * subrequests; the upstream's own list too (proxy_hide_header leaves
   * the header there, unsent). */
  if (cb_take(r, &r->headers_out.headers, texts) != NGX_OK)
    return NGX_ERROR;
  if (r->upstream &&
      cb_take(r, &r->upstream->headers_in.headers, texts) != NGX_OK)
    return NGX_ERROR;
  if (ctx && cb_add_cookie(r, ctx) != NGX_OK)
    return NGX_ERROR;
  if (!report || texts->nelts == 0)
    return cb_next_header_filter(r);
  cashback_client *client = NULL;
  if (ctx) {
    client = ctx->merchant->client;
  } else {
    cb_srv_conf_t *sc =
        ngx_http_get_module_srv_conf(r, ngx_http_cashback_module);
    client = sc->merchant ? sc->merchant->client : NULL;
    if (client) {
      /* A request the first phase did not see (none of this server). */
      ngx_pool_cleanup_t *cln = ngx_pool_cleanup_add(r->pool, sizeof(*ctx));
      if (cln == NULL)
        return NGX_ERROR;
      ctx = cln->data;
      ngx_memzero(ctx, sizeof(*ctx));
      cln->handler = cb_ctx_cleanup;
      ctx->r = r;
      ctx->merchant = sc->merchant;
      ctx->click.size = sizeof(ctx->click);
      ngx_http_set_ctx(r, ctx, ngx_http_cashback_module);
    }
  }
  if (client && cb_post_report(r, ctx, lc, client, texts) == NGX_OK)
    return NGX_OK; /* the header goes on when the report is done */
  ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                client ? "cashback: event not stored: the report could not "
                         "be posted to the thread pool"
                       : "cashback: event not stored: this server has no "
                         "client (see the error at the worker's start)");
  if (lc->on_failure == CB_FAIL_503) {
    if (ctx)
      ctx->state = CB_SEND_503;
    ngx_int_t rc = ngx_http_filter_finalize_request(
        r, &ngx_http_cashback_module, NGX_HTTP_SERVICE_UNAVAILABLE);
    if (ctx)
      ctx->state = CB_DISCARD; /* the application's body, if it comes */
    return rc;
  }
  return cb_next_header_filter(r);
}

static ngx_int_t cb_body_filter(ngx_http_request_t *r, ngx_chain_t *in) {
  cb_ctx_t *ctx = r == r->main
                      ? ngx_http_get_module_ctx(r, ngx_http_cashback_module)
                      : NULL;
  if (ctx == NULL)
    return cb_next_body_filter(r, in);
  switch (ctx->state) {
  case CB_WAITING:
    /* Held until the report is durable (the bufs stay unconsumed, so
     * their producer does not reuse them). */
    if (in && ngx_chain_add_copy(r->pool, &ctx->held, in) != NGX_OK)
      return NGX_ERROR;
    return NGX_AGAIN;
  case CB_DISCARD:
    if (in == NULL)
      return cb_next_body_filter(r, NULL);
    for (ngx_chain_t *cl = in; cl; cl = cl->next)
      cl->buf->pos = cl->buf->last, cl->buf->file_pos = cl->buf->file_last;
    return NGX_OK;
  default:
    return cb_next_body_filter(r, in);
  }
}

/* ------------------------------------------------------------------------
 * Registration */

static ngx_int_t cb_preconfiguration(ngx_conf_t *cf) {
  for (ngx_http_variable_t *v = cb_variables; v->name.len; v++) {
    ngx_http_variable_t *var = ngx_http_add_variable(cf, &v->name, v->flags);
    if (var == NULL)
      return NGX_ERROR;
    var->get_handler = v->get_handler;
    var->data = v->data;
  }
  return NGX_OK;
}

static ngx_int_t cb_postconfiguration(ngx_conf_t *cf) {
  if (cb_check_merchants(cf) != NGX_OK)
    return NGX_ERROR;
  ngx_http_core_main_conf_t *cmcf =
      ngx_http_conf_get_module_main_conf(cf, ngx_http_core_module);
  ngx_http_handler_pt *h =
      ngx_array_push(&cmcf->phases[NGX_HTTP_POST_READ_PHASE].handlers);
  if (h == NULL)
    return NGX_ERROR;
  *h = cb_post_read;
  cb_next_header_filter = ngx_http_top_header_filter;
  ngx_http_top_header_filter = cb_header_filter;
  cb_next_body_filter = ngx_http_top_body_filter;
  ngx_http_top_body_filter = cb_body_filter;
  return NGX_OK;
}
