/*
 * mod_cashback: libcashback for Apache httpd 2.4 (docs/apache.md).
 *
 * A shim, no logic of its own: directives in, SDK calls, errors out as
 * httpd reports them. Per request:
 * - post_read_request (before mod_alias and mod_rewrite redirect): the
 *   request-side click header is removed; the landing's click is captured
 *   with cashback_capture() (Set-Cookie in err_headers_out, so that it
 *   survives 3xx and error responses, with Cache-Control: private), and the
 *   verified click handle (cashback_click_read() of that cookie or of the
 *   request's Cookie header) is put into the environment and the request
 *   header for the application;
 * - an output filter (normal and error responses) takes every
 *   X-Cashback-Event header off the response (r->headers_out and
 *   r->err_headers_out: backends put theirs in either; also of the
 *   requests an internal redirect replaced) and, where reporting is on
 *   (not in subrequests), reports each with cashback_report_text() (parsed
 *   with cashback_event_parse(); a sale that names no click gets the
 *   request's); a store that fails is logged, or
 *   answered 503 where CashbackOnFailure 503 says so.
 * Clients are made per child (child_init), one per virtual host that names
 * a configuration; the options are read and checked in the parent
 * (check_config, also under `apache2 -t`), as root. The spool is delivered
 * by one sender for the whole server (CashbackSender watchdog: a
 * mod_watchdog child singleton starts the client's sender in the child
 * holding its lock), by every child (child), or by `cashback send
 * --watch` (off).
 */
#include <cashback.h>

/* httpd.h first: the other httpd headers need its types. */
#include <httpd.h>

#include <apr_lib.h>
#include <apr_strings.h>
#include <apr_tables.h>
#include <http_config.h>
#include <http_core.h>
#include <http_log.h>
#include <http_protocol.h>
#include <http_request.h>
#include <mod_watchdog.h>
#include <util_filter.h>

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

module AP_MODULE_DECLARE_DATA cashback_module;

#define REPORT_HEADER "X-Cashback-Event"
#define DEFAULT_CLICK_ENV "CASHBACK_CLICK"
#define DEFAULT_CLICK_HEADER "X-Cashback-Click"
#define FILTER_NAME "CASHBACK_REPORT"

/* A merchant: where its options come from, the options the children make
 * their client from (read by check_config in the parent), and, in a child,
 * that client. Made by the first CashbackConfigFile / CashbackConnectionEnv
 * of a server; a virtual host without either shares the main server's. */
/* CashbackSender: who delivers the spool. */
enum { SENDER_OFF, SENDER_CHILD, SENDER_WATCHDOG };

typedef struct cb_merchant {
  const char *file;        /* CashbackConfigFile, or NULL */
  const char *env;         /* CashbackConnectionEnv: a variable, or NULL */
  const char *where;       /* "file:line" of its first directive */
  cashback_options *opts;  /* for the children; freed with pconf */
  cashback_client *client; /* in a child: made by child_init */
  int sender;              /* SENDER_*, from its first server (post_config) */
  int slot;                /* SENDER_WATCHDOG: its index in `watched` */
} cb_merchant;

typedef struct cb_server {
  cb_merchant *merchant;
  int capture; /* -1: not set (on) */
  int sender;  /* -1: not set (SENDER_WATCHDOG), else SENDER_* */
  const char *click_env;
  const char *click_header;
} cb_server;

typedef struct cb_dir {
  int report;  /* -1: not set (off) */
  int fail503; /* -1: not set (pass) */
} cb_dir;

/* What post_read_request found for the request. */
typedef struct cb_request {
  cashback_click click;
  int have_click;
} cb_request;

typedef struct cb_filter {
  int discard; /* the response was turned into a 503: drop its body */
} cb_filter;

/* ------------------------------------------------------------------------
 * Configuration */

static void *create_server(apr_pool_t *p, server_rec *s) {
  (void)s;
  cb_server *c = apr_pcalloc(p, sizeof(*c));
  c->capture = -1;
  c->sender = -1;
  return c;
}

static void *merge_server(apr_pool_t *p, void *basev, void *addv) {
  const cb_server *base = basev, *add = addv;
  cb_server *c = apr_pcalloc(p, sizeof(*c));
  c->merchant = add->merchant ? add->merchant : base->merchant;
  c->capture = add->capture != -1 ? add->capture : base->capture;
  c->sender = add->sender != -1 ? add->sender : base->sender;
  c->click_env = add->click_env ? add->click_env : base->click_env;
  c->click_header = add->click_header ? add->click_header : base->click_header;
  return c;
}

static void *create_dir(apr_pool_t *p, char *dir) {
  (void)dir;
  cb_dir *c = apr_pcalloc(p, sizeof(*c));
  c->report = -1;
  c->fail503 = -1;
  return c;
}

static void *merge_dir(apr_pool_t *p, void *basev, void *addv) {
  const cb_dir *base = basev, *add = addv;
  cb_dir *c = apr_pcalloc(p, sizeof(*c));
  c->report = add->report != -1 ? add->report : base->report;
  c->fail503 = add->fail503 != -1 ? add->fail503 : base->fail503;
  return c;
}

static cb_server *server_conf(const server_rec *s) {
  return ap_get_module_config(s->module_config, &cashback_module);
}

/* The merchant of the server being configured (made on first use). */
static cb_merchant *own_merchant(cmd_parms *cmd) {
  cb_server *c = server_conf(cmd->server);
  if (!c->merchant) {
    c->merchant = apr_pcalloc(cmd->pool, sizeof(*c->merchant));
    c->merchant->sender = -1;
    c->merchant->where = cmd->directive ? apr_psprintf(cmd->pool, "%s:%d",
                                                       cmd->directive->filename,
                                                       cmd->directive->line_num)
                                        : "the command line";
  }
  return c->merchant;
}

static const char *set_config_file(cmd_parms *cmd, void *dc, const char *arg) {
  (void)dc;
  cb_merchant *m = own_merchant(cmd);
  if (m->file)
    return "CashbackConfigFile: given twice for this server";
  m->file = ap_server_root_relative(cmd->pool, arg);
  if (!m->file)
    return apr_psprintf(cmd->pool, "CashbackConfigFile: bad path '%s'", arg);
  return NULL;
}

/* A name of [A-Za-z_][A-Za-z0-9_]* (env) or an HTTP token of
 * [A-Za-z0-9-] (header). */
static int name_ok(const char *s, int header) {
  if (!*s || (!header && apr_isdigit(*s)))
    return 0;
  for (; *s; s++)
    if (!(apr_isalnum(*s) || (header ? *s == '-' : *s == '_')))
      return 0;
  return 1;
}

static const char *set_connection_env(cmd_parms *cmd, void *dc,
                                      const char *arg) {
  (void)dc;
  cb_merchant *m = own_merchant(cmd);
  if (m->env)
    return "CashbackConnectionEnv: given twice for this server";
  if (!name_ok(arg, 0))
    return apr_psprintf(cmd->pool,
                        "CashbackConnectionEnv: '%s' is not the name of an "
                        "environment variable ([A-Za-z_][A-Za-z0-9_]*)",
                        arg);
  m->env = arg;
  return NULL;
}

static const char *set_capture(cmd_parms *cmd, void *dc, int on) {
  (void)dc;
  server_conf(cmd->server)->capture = on;
  return NULL;
}

static const char *set_sender(cmd_parms *cmd, void *dc, const char *arg) {
  (void)dc;
  int mode;
  if (!strcasecmp(arg, "watchdog") || !strcasecmp(arg, "on"))
    mode = SENDER_WATCHDOG;
  else if (!strcasecmp(arg, "child"))
    mode = SENDER_CHILD;
  else if (!strcasecmp(arg, "off"))
    mode = SENDER_OFF;
  else
    return apr_psprintf(cmd->pool,
                        "CashbackSender: '%s' is neither 'watchdog' (one "
                        "sender for the whole server, the default; 'On' "
                        "too), 'child' (one in every child) nor 'off' "
                        "(`cashback send --watch` delivers)",
                        arg);
  server_conf(cmd->server)->sender = mode;
  return NULL;
}

static const char *set_click_env(cmd_parms *cmd, void *dc, const char *arg) {
  (void)dc;
  if (!name_ok(arg, 0))
    return apr_psprintf(cmd->pool,
                        "CashbackClickEnv: '%s' is not the name of an "
                        "environment variable ([A-Za-z_][A-Za-z0-9_]*)",
                        arg);
  server_conf(cmd->server)->click_env = arg;
  return NULL;
}

static const char *set_click_header(cmd_parms *cmd, void *dc, const char *arg) {
  (void)dc;
  if (!name_ok(arg, 1))
    return apr_psprintf(cmd->pool,
                        "CashbackClickHeader: '%s' is not a header name "
                        "([A-Za-z0-9-]+)",
                        arg);
  if (!strcasecmp(arg, REPORT_HEADER) || !strcasecmp(arg, "Cookie"))
    return apr_psprintf(cmd->pool,
                        "CashbackClickHeader: '%s' is taken; choose another "
                        "name",
                        arg);
  server_conf(cmd->server)->click_header = arg;
  return NULL;
}

static const char *set_report(cmd_parms *cmd, void *dcv, int on) {
  (void)cmd;
  ((cb_dir *)dcv)->report = on;
  return NULL;
}

static const char *set_on_failure(cmd_parms *cmd, void *dcv, const char *arg) {
  cb_dir *dc = dcv;
  if (!strcasecmp(arg, "pass"))
    dc->fail503 = 0;
  else if (!strcmp(arg, "503"))
    dc->fail503 = 1;
  else
    return apr_psprintf(cmd->pool,
                        "CashbackOnFailure: '%s' is neither 'pass' (log and "
                        "answer as the application did) nor '503'",
                        arg);
  return NULL;
}

static const command_rec cashback_cmds[] = {
    AP_INIT_TAKE1("CashbackConfigFile", set_config_file, NULL, RSRC_CONF,
                  "the merchant's libcashback configuration file"),
    AP_INIT_TAKE1("CashbackConnectionEnv", set_connection_env, NULL, RSRC_CONF,
                  "an environment variable of Apache holding the merchant's "
                  "connection string"),
    AP_INIT_FLAG("CashbackCapture", set_capture, NULL, RSRC_CONF,
                 "On (default) to capture landing clicks into the cookie"),
    AP_INIT_TAKE1("CashbackSender", set_sender, NULL, RSRC_CONF,
                  "watchdog (default): one sender for the whole server, in "
                  "a mod_watchdog singleton; child: one in every child; "
                  "off: `cashback send --watch` delivers"),
    AP_INIT_TAKE1("CashbackClickEnv", set_click_env, NULL, RSRC_CONF,
                  "the environment variable of the click handle (default "
                  "CASHBACK_CLICK)"),
    AP_INIT_TAKE1("CashbackClickHeader", set_click_header, NULL, RSRC_CONF,
                  "the request header of the click handle (default "
                  "X-Cashback-Click)"),
    AP_INIT_FLAG("CashbackReport", set_report, NULL, RSRC_CONF | ACCESS_CONF,
                 "On to report the X-Cashback-Event headers of responses "
                 "here (default Off: they are removed only)"),
    AP_INIT_TAKE1("CashbackOnFailure", set_on_failure, NULL,
                  RSRC_CONF | ACCESS_CONF,
                  "pass (default) or 503: the answer when an event cannot "
                  "be stored"),
    {NULL}};

/* ------------------------------------------------------------------------
 * Options and clients */

/* New options loaded from the merchant's sources, or NULL with *err set. */
static cashback_options *load_options(apr_pool_t *p, const cb_merchant *m,
                                      const char **err) {
  cashback_options *opts = cashback_options_new();
  if (!opts) {
    *err = "out of memory";
    return NULL;
  }
  if (m->file && cashback_options_load_file(opts, m->file) != CASHBACK_OK) {
    *err = apr_psprintf(p, "CashbackConfigFile %s (%s): %s", m->file, m->where,
                        cashback_options_last_error(opts));
    cashback_options_free(opts);
    return NULL;
  }
  if (m->env &&
      cashback_options_load_connection_env(opts, m->env) != CASHBACK_OK) {
    /* The variable comes from Apache's environment: where to set it. */
    *err = apr_psprintf(p, "CashbackConnectionEnv (%s): %s%s", m->where,
                        cashback_options_last_error(opts),
                        getenv(m->env) ? ""
                                       : " in Apache's environment (Debian: "
                                         "/etc/apache2/envvars)");
    cashback_options_free(opts);
    return NULL;
  }
  return opts;
}

static apr_status_t free_options(void *data) {
  cb_merchant *m = data;
  cashback_options_free(m->opts);
  m->opts = NULL;
  return APR_SUCCESS;
}

/* Every merchant's options are read, and a client made from them (and
 * freed: the children make their own), so that a bad configuration fails
 * `apache2 -t` and the start naming the directive. A second copy of the
 * options stays for the children. */
static int check_config(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp,
                        server_rec *s) {
  (void)plog;
  int rc = OK;
  for (server_rec *v = s; v; v = v->next) {
    cb_merchant *m = server_conf(v)->merchant;
    if (!m || m->opts)
      continue;
    const char *err = NULL;
    cashback_options *opts = load_options(ptemp, m, &err);
    if (opts) {
      char detail[CASHBACK_ERROR_MAX + 1] = "";
      cashback_client *c = NULL;
      if (cashback_client_new(opts, &c, detail, sizeof(detail)) != CASHBACK_OK)
        err = apr_psprintf(ptemp, "%s (%s): %s",
                           m->file ? "CashbackConfigFile"
                                   : "CashbackConnectionEnv",
                           m->where, detail);
      cashback_client_free(c);
    }
    if (!err && !(m->opts = load_options(ptemp, m, &err)))
      err = err ? err : "the options cannot be read twice";
    if (err) {
      ap_log_error(APLOG_MARK, APLOG_STARTUP | APLOG_CRIT, 0, NULL,
                   "mod_cashback: %s", err);
      rc = !OK;
      continue;
    }
    apr_pool_cleanup_register(pconf, m, free_options, apr_pool_cleanup_null);
  }
  return rc;
}

/* ------------------------------------------------------------------------
 * The server's single sender (CashbackSender watchdog)
 *
 * A mod_watchdog child singleton: in the one child that holds the
 * watchdog's process lock, a callback per merchant starts the client's
 * sender (cashback_sender_start()); when that child ends, another child
 * takes the lock and starts its own. The callbacks run on the watchdog's
 * thread, and its STOPPING call may come after the child's pool (and the
 * client) is gone: the callback reaches the client only through this
 * table, in static memory and under its lock, which free_client clears
 * first. */
typedef struct cb_watched {
  cashback_client *client; /* NULL: none (yet, or any more) */
  const char *where;
  int sending;
} cb_watched;

static pthread_mutex_t watched_lock = PTHREAD_MUTEX_INITIALIZER;
static cb_watched *watched;     /* in a child: one per watchdog merchant */
static int watched_n;           /* set by post_config, in the parent */
static server_rec *watched_log; /* the main server, for the log */

static apr_status_t watchdog_tick(int state, void *data, apr_pool_t *pool) {
  (void)pool;
  int slot = (int)(intptr_t)data;
  pthread_mutex_lock(&watched_lock);
  cb_watched *w = watched && slot < watched_n ? &watched[slot] : NULL;
  if (w && w->client && state != AP_WATCHDOG_STATE_STOPPING && !w->sending) {
    if (cashback_sender_start(w->client) == CASHBACK_OK) {
      w->sending = 1;
      ap_log_error(APLOG_MARK, APLOG_INFO, 0, watched_log,
                   "mod_cashback: the sender of %s runs in this child "
                   "(CashbackSender watchdog: one for the whole server)",
                   w->where);
    } else if (state == AP_WATCHDOG_STATE_STARTING) {
      char why[CASHBACK_ERROR_MAX + 1];
      (void)cashback_client_last_error(w->client, why, sizeof(why));
      ap_log_error(APLOG_MARK, APLOG_ERR, 0, watched_log,
                   "mod_cashback: the sender of %s did not start: %s; "
                   "trying again every second",
                   w->where, why);
    }
  } else if (w && w->client && state == AP_WATCHDOG_STATE_STOPPING &&
             w->sending) {
    (void)cashback_sender_stop(w->client, 2000);
    w->sending = 0;
  }
  pthread_mutex_unlock(&watched_lock);
  return APR_SUCCESS;
}

/* Which merchant's spool is delivered by whom; registers the watchdog
 * callbacks (before mod_watchdog's own post_config, APR_HOOK_LAST, starts
 * the instance). Without mod_watchdog, every child runs a sender. */
static int post_config(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp,
                       server_rec *s) {
  (void)plog;
  (void)ptemp;
  if (ap_state_query(AP_SQ_MAIN_STATE) == AP_SQ_MS_CREATE_PRE_CONFIG)
    return OK;
  APR_OPTIONAL_FN_TYPE(ap_watchdog_get_instance) *get_instance =
      APR_RETRIEVE_OPTIONAL_FN(ap_watchdog_get_instance);
  APR_OPTIONAL_FN_TYPE(ap_watchdog_register_callback) *register_callback =
      APR_RETRIEVE_OPTIONAL_FN(ap_watchdog_register_callback);
  ap_watchdog_t *wd = NULL;
  watched_n = 0;
  watched_log = s;
  for (server_rec *v = s; v; v = v->next) {
    cb_server *sc = server_conf(v);
    cb_merchant *m = sc->merchant;
    if (!m || m->sender != -1)
      continue;
    m->sender = sc->sender == -1 ? SENDER_WATCHDOG : sc->sender;
    if (m->sender != SENDER_WATCHDOG)
      continue;
    apr_status_t rv = APR_ENOTIMPL;
    if (get_instance && register_callback &&
        (wd ||
         (rv = get_instance(&wd, "cashback", 0, 1, pconf)) == APR_SUCCESS))
      rv = register_callback(wd, AP_WD_TM_INTERVAL, (void *)(intptr_t)watched_n,
                             watchdog_tick);
    if (rv != APR_SUCCESS) {
      ap_log_error(APLOG_MARK, APLOG_WARNING, rv, v,
                   "mod_cashback: CashbackSender watchdog (%s): no "
                   "mod_watchdog child singleton; every child runs a "
                   "sender instead",
                   m->where);
      m->sender = SENDER_CHILD;
      continue;
    }
    m->slot = watched_n++;
  }
  return OK;
}

static apr_status_t free_client(void *data) {
  cb_merchant *m = data;
  if (m->sender == SENDER_WATCHDOG) {
    pthread_mutex_lock(&watched_lock);
    if (watched && m->slot < watched_n) {
      watched[m->slot].client = NULL;
      watched[m->slot].sending = 0;
    }
    pthread_mutex_unlock(&watched_lock);
  }
  if (m->client) {
    (void)cashback_sender_stop(m->client, 2000);
    cashback_client_free(m->client);
    m->client = NULL;
  }
  return APR_SUCCESS;
}

/* In each child, after the fork: a client per merchant, made from the
 * child's copy of the options (never one inherited from the parent). */
static void child_init(apr_pool_t *pchild, server_rec *s) {
  for (server_rec *v = s; v; v = v->next) {
    cb_server *sc = server_conf(v);
    cb_merchant *m = sc->merchant;
    if (!m || m->client || !m->opts)
      continue;
    cashback_options *opts = m->opts;
    m->opts = NULL; /* the client takes them, even on failure */
    char detail[CASHBACK_ERROR_MAX + 1] = "";
    if (cashback_client_new(opts, &m->client, detail, sizeof(detail)) !=
        CASHBACK_OK) {
      m->client = NULL;
      ap_log_error(APLOG_MARK, APLOG_ERR, 0, v,
                   "mod_cashback: no client for the configuration of %s: "
                   "%s; clicks are not captured, events not stored",
                   m->where, detail);
      continue;
    }
    apr_pool_cleanup_register(pchild, m, free_client, apr_pool_cleanup_null);
    if (m->sender == SENDER_WATCHDOG) {
      /* Before mod_watchdog's child_init starts its thread. */
      pthread_mutex_lock(&watched_lock);
      if (!watched && watched_n > 0)
        watched = calloc((size_t)watched_n, sizeof(*watched));
      if (watched) {
        watched[m->slot].client = m->client;
        watched[m->slot].where = m->where;
      }
      pthread_mutex_unlock(&watched_lock);
      if (!watched)
        ap_log_error(APLOG_MARK, APLOG_ERR, 0, v,
                     "mod_cashback: out of memory: the spool of %s is not "
                     "delivered by this child",
                     m->where);
      continue;
    }
    if (m->sender != SENDER_CHILD)
      continue;
    if (cashback_sender_start(m->client) != CASHBACK_OK) {
      char why[CASHBACK_ERROR_MAX + 1];
      (void)cashback_client_last_error(m->client, why, sizeof(why));
      ap_log_error(APLOG_MARK, APLOG_ERR, 0, v,
                   "mod_cashback: the sender of %s did not start: %s", m->where,
                   why);
    } else {
      ap_log_error(APLOG_MARK, APLOG_INFO, 0, v,
                   "mod_cashback: the sender of %s started in this child "
                   "(CashbackSender child)",
                   m->where);
    }
  }
}

/* ------------------------------------------------------------------------
 * Capture and expose */

/* The request's Cookie headers as one (HTTP/2 may send several). */
typedef struct cb_join {
  apr_pool_t *pool;
  const char *all;
} cb_join;

static int join_cookie(void *rec, const char *key, const char *value) {
  (void)key;
  cb_join *j = rec;
  j->all = j->all ? apr_pstrcat(j->pool, j->all, "; ", value, NULL) : value;
  return 1;
}

static void log_click(request_rec *r, cashback_client *c, const char *what) {
  char why[CASHBACK_ERROR_MAX + 1];
  (void)cashback_client_last_error(c, why, sizeof(why));
  ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, "mod_cashback: %s: %s", what,
                why);
}

static int post_read_request(request_rec *r) {
  if (r->main || r->prev)
    return DECLINED;
  const cb_server *sc = server_conf(r->server);
  const char *hname =
      sc->click_header ? sc->click_header : DEFAULT_CLICK_HEADER;
  const char *ename = sc->click_env ? sc->click_env : DEFAULT_CLICK_ENV;
  /* Never what the client sent. */
  apr_table_unset(r->headers_in, hname);
  apr_table_unset(r->subprocess_env, ename);
  cashback_client *c = sc->merchant ? sc->merchant->client : NULL;
  if (!c)
    return DECLINED;
  cb_request *rq = apr_pcalloc(r->pool, sizeof(*rq));
  rq->click.size = sizeof(rq->click);
  ap_set_module_config(r->request_config, &cashback_module, rq);

  if (sc->capture != 0 && r->unparsed_uri) {
    char set_cookie[CASHBACK_SET_COOKIE_MAX + 1];
    cashback_status st =
        cashback_capture(c, r->unparsed_uri, strlen(r->unparsed_uri),
                         set_cookie, sizeof(set_cookie));
    if (st == CASHBACK_OK) {
      apr_table_addn(r->err_headers_out, "Set-Cookie",
                     apr_pstrdup(r->pool, set_cookie));
      apr_table_setn(r->err_headers_out, "Cache-Control", "private");
      /* The application sees the click it lands with (the cookie's value:
       * its "name=value; ..." read like a Cookie header). */
      rq->have_click = cashback_click_read(c, set_cookie, strlen(set_cookie),
                                           &rq->click) == CASHBACK_OK;
    } else if (st != CASHBACK_E_CLICK_NONE) {
      log_click(r, c, "landing click not captured");
    }
  }
  if (!rq->have_click) {
    cb_join j = {r->pool, NULL};
    apr_table_do(join_cookie, &j, r->headers_in, "Cookie", NULL);
    if (j.all) {
      cashback_status st =
          cashback_click_read(c, j.all, strlen(j.all), &rq->click);
      rq->have_click = st == CASHBACK_OK;
      if (st != CASHBACK_OK && st != CASHBACK_E_CLICK_NONE)
        log_click(r, c, "click cookie ignored");
    }
  }
  if (rq->have_click) {
    const char *h = apr_pstrdup(r->pool, rq->click.handle);
    apr_table_setn(r->headers_in, hname, h);
    apr_table_setn(r->subprocess_env, ename, h);
  }
  return DECLINED;
}

/* ------------------------------------------------------------------------
 * Report */

enum { REPORTED, DROPPED, NOT_STORED };

/* What post_read_request found, also from an internal redirect's
 * request (an ErrorDocument), or NULL. */
static const cb_request *request_click(const request_rec *r) {
  for (; r; r = r->prev) {
    const cb_request *rq =
        ap_get_module_config(r->request_config, &cashback_module);
    if (rq)
      return rq;
  }
  return NULL;
}

/* The first ',' of `text` followed by blanks and "type=", or NULL. */
static const char *joined_event(const char *text) {
  for (const char *p = strchr(text, ','); p; p = strchr(p + 1, ',')) {
    const char *q = p + 1;
    while (*q == ' ' || *q == '\t')
      q++;
    if (!strncmp(q, "type=", 5))
      return p;
  }
  return NULL;
}

/* Reports one event text (cashback_report_text(): a sale that names no
 * click gets the request's); REPORTED, DROPPED (not an event) or
 * NOT_STORED (the failure policy's case). */
static int report_one(request_rec *r, cashback_client *c, const char *text) {
  if (!c) {
    ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r,
                  "mod_cashback: event not stored: this server has no "
                  "client (see the error at the child's start)");
    return NOT_STORED;
  }
  const cb_request *rq = request_click(r);
  char id[CASHBACK_EVENT_ID_LEN + 1] = "";
  char detail[CASHBACK_ERROR_MAX + 1] = "";
  cashback_status st = cashback_report_text(
      c, text, strlen(text), rq && rq->have_click ? &rq->click : NULL, id,
      detail, sizeof(detail));
  if (st == CASHBACK_OK) {
    ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, "mod_cashback: event %s stored",
                  id);
    return REPORTED;
  }
  if (cashback_report_text_not_stored(st)) {
    ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r,
                  "mod_cashback: event not stored: %s", detail);
    return NOT_STORED;
  }
  /* mod_cgi and proxy_fcgi join a script's repeated headers into one
   * value, ", " between them: several events of a CGI or php-fpm
   * response. A text that is not one event is cut before each ", type="
   * and the parts reported one by one. */
  const char *joint = joined_event(text);
  if (joint) {
    int a = report_one(r, c, apr_pstrmemdup(r->pool, text, joint - text));
    while (*joint == ',' || *joint == ' ' || *joint == '\t')
      joint++;
    int b = report_one(r, c, joint);
    return a == NOT_STORED || b == NOT_STORED ? NOT_STORED
           : a == DROPPED || b == DROPPED     ? DROPPED
                                              : REPORTED;
  }
  ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r,
                "mod_cashback: " REPORT_HEADER " dropped, not reported: %s",
                detail);
  return DROPPED;
}

static int collect(void *rec, const char *key, const char *value) {
  (void)key;
  *(const char **)apr_array_push(rec) = value;
  return 1;
}

/* Takes every instance of the report header off `t` into `texts`, once
 * per table (`seen`: the tables already taken). */
static void take_headers(apr_array_header_t *seen, apr_array_header_t *texts,
                         apr_table_t *t) {
  for (int i = 0; i < seen->nelts; i++)
    if (APR_ARRAY_IDX(seen, i, apr_table_t *) == t)
      return;
  *(apr_table_t **)apr_array_push(seen) = t;
  apr_table_do(collect, texts, t, REPORT_HEADER, NULL);
  apr_table_unset(t, REPORT_HEADER);
}

static apr_status_t report_filter(ap_filter_t *f, apr_bucket_brigade *bb) {
  request_rec *r = f->r;
  cb_filter *ctx = f->ctx;
  if (ctx && ctx->discard) {
    apr_brigade_cleanup(bb);
    return APR_SUCCESS;
  }
  /* Every instance, from both tables, off the response (also where
   * reporting is off, and for subrequests), and off the requests an
   * internal redirect replaced (an ErrorDocument, a CGI's local Location,
   * ProxyErrorOverride): the application's header is on one of those,
   * and the reporting and failure policy of any of them counts, so that a
   * thank-you page answered by a redirected request is still reported. */
  apr_array_header_t *texts = apr_array_make(r->pool, 2, sizeof(const char *));
  apr_array_header_t *seen = apr_array_make(r->pool, 4, sizeof(apr_table_t *));
  int report = 0, fail503 = 0;
  for (request_rec *q = r; q; q = q->prev) {
    take_headers(seen, texts, q->headers_out);
    take_headers(seen, texts, q->err_headers_out);
    const cb_dir *dc =
        ap_get_module_config(q->per_dir_config, &cashback_module);
    if (dc && dc->report == 1) {
      report = 1;
      fail503 |= dc->fail503 == 1;
    }
  }
  int not_stored = 0;
  if (texts->nelts > 0 && !r->main && report) {
    const cb_server *sc = server_conf(r->server);
    cashback_client *c = sc->merchant ? sc->merchant->client : NULL;
    for (int i = 0; i < texts->nelts; i++)
      not_stored |=
          report_one(r, c, APR_ARRAY_IDX(texts, i, const char *)) == NOT_STORED;
  }
  if (!not_stored || !fail503 || r->main) {
    ap_remove_output_filter(f);
    return ap_pass_brigade(f->next, bb);
  }
  /* CashbackOnFailure 503: the payment provider retries. */
  ctx = f->ctx = apr_pcalloc(r->pool, sizeof(*ctx));
  ctx->discard = 1;
  apr_brigade_cleanup(bb);
  APR_BRIGADE_INSERT_TAIL(bb,
                          ap_bucket_error_create(HTTP_SERVICE_UNAVAILABLE, NULL,
                                                 r->pool, f->c->bucket_alloc));
  APR_BRIGADE_INSERT_TAIL(bb, apr_bucket_eos_create(f->c->bucket_alloc));
  return ap_pass_brigade(f->next, bb);
}

static void insert_filter(request_rec *r) {
  ap_add_output_filter(FILTER_NAME, NULL, r, r->connection);
}

static void register_hooks(apr_pool_t *p) {
  (void)p;
  ap_hook_check_config(check_config, NULL, NULL, APR_HOOK_MIDDLE);
  /* The clients exist before mod_watchdog's thread calls watchdog_tick. */
  static const char *const before_watchdog[] = {"mod_watchdog.c", NULL};
  ap_hook_post_config(post_config, NULL, NULL, APR_HOOK_MIDDLE);
  ap_hook_child_init(child_init, NULL, before_watchdog, APR_HOOK_MIDDLE);
  ap_hook_post_read_request(post_read_request, NULL, NULL,
                            APR_HOOK_REALLY_FIRST);
  ap_hook_insert_filter(insert_filter, NULL, NULL, APR_HOOK_MIDDLE);
  ap_hook_insert_error_filter(insert_filter, NULL, NULL, APR_HOOK_MIDDLE);
  ap_register_output_filter(FILTER_NAME, report_filter, NULL,
                            AP_FTYPE_CONTENT_SET);
}

AP_DECLARE_MODULE(cashback) = {STANDARD20_MODULE_STUFF,
                               create_dir,
                               merge_dir,
                               create_server,
                               merge_server,
                               cashback_cmds,
                               register_hooks,
#if defined(AP_MODULE_FLAG_ALWAYS_MERGE)
                               AP_MODULE_FLAG_ALWAYS_MERGE
#endif
};
