/* The Node-API addon of the npm package `cashback` (plugins/node,
 * docs/node.md): plain C over libcashback's public API. index.js is the
 * JavaScript API; this file gives it a client handle and the calls, and
 * runs everything that waits on the disk or the network (cashback_report,
 * cashback_flush, cashback_sender_stop) on the libuv pool
 * (napi_create_async_work), returning Promises. NAPI_VERSION 8: Node 18
 * (Debian 12) to 22 load it. */
#define NAPI_VERSION 8
#include <node_api.h>

#include <cashback.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* A client handle: a JS external whose finalizer frees the client. Every
 * job in flight holds a reference to the external, so the client outlives
 * it. */
typedef struct node_client {
  cashback_client *client;
  int64_t exit_flush_ms; /* the final flush when the environment ends */
} node_client;

enum job_kind { JOB_REPORT, JOB_REPORT_TEXT, JOB_FLUSH, JOB_STOP };

typedef struct job {
  napi_async_work work;
  napi_deferred deferred;
  napi_ref handle_ref;
  node_client *nc;
  enum job_kind kind;
  cashback_event *ev;
  char *text; /* JOB_REPORT_TEXT: the report header's value */
  size_t text_len;
  int has_click;
  cashback_click click;
  int64_t timeout_ms;
  cashback_status status;
  char id[CASHBACK_EVENT_ID_LEN + 1];
  char detail[CASHBACK_ERROR_MAX + 1];
} job;

#define CHECK(env, call)                                                       \
  do {                                                                         \
    if ((call) != napi_ok) {                                                   \
      node_throw_napi(env);                                                    \
      return NULL;                                                             \
    }                                                                          \
  } while (0)

static void node_throw_napi(napi_env env) {
  bool pending = false;
  if (napi_is_exception_pending(env, &pending) == napi_ok && !pending)
    napi_throw_error(env, "CASHBACK_NAPI", "cashback: a Node-API call failed");
}

/* An Error whose message is "<status text>: <detail>" with the properties
 * the JS side maps onto its subclasses: status (the SDK's number), field
 * (the event field it is about, when there is one) and detail. */
static napi_value node_error(napi_env env, cashback_status st,
                             const char *field, size_t flen,
                             const char *detail) {
  char msg[CASHBACK_ERROR_MAX + 128];
  napi_value text, err, v;
  const char *d = detail ? detail : "";
  cashback_printablef(msg, sizeof msg, "%s%s%s", cashback_strerror(st),
                      d[0] ? ": " : "", d);
  if (napi_create_string_utf8(env, msg, NAPI_AUTO_LENGTH, &text) != napi_ok ||
      napi_create_error(env, NULL, text, &err) != napi_ok)
    return NULL;
  if (napi_create_int32(env, (int32_t)st, &v) == napi_ok)
    napi_set_named_property(env, err, "status", v);
  if (napi_create_string_utf8(env, d, NAPI_AUTO_LENGTH, &v) == napi_ok)
    napi_set_named_property(env, err, "detail", v);
  if (field && flen > 0 &&
      napi_create_string_utf8(env, field, flen, &v) == napi_ok)
    napi_set_named_property(env, err, "field", v);
  return err;
}

static void node_throw(napi_env env, cashback_status st, const char *field,
                       size_t flen, const char *detail) {
  napi_value err = node_error(env, st, field, flen, detail);
  if (err)
    napi_throw(env, err);
  else
    node_throw_napi(env);
}

/* A JS string argument as a new NUL-terminated copy (*len bytes, NULs
 * inside kept: the SDK refuses them with its own message). */
static char *node_string(napi_env env, napi_value v, size_t *len) {
  size_t n = 0, got = 0;
  char *s;
  if (napi_get_value_string_utf8(env, v, NULL, 0, &n) != napi_ok) {
    napi_throw_type_error(env, "CASHBACK_ARG", "cashback: a string is needed");
    return NULL;
  }
  s = malloc(n + 1);
  if (!s) {
    node_throw(env, CASHBACK_E_NOMEM, NULL, 0, NULL);
    return NULL;
  }
  if (napi_get_value_string_utf8(env, v, s, n + 1, &got) != napi_ok) {
    free(s);
    node_throw_napi(env);
    return NULL;
  }
  *len = got;
  return s;
}

/* The process or the worker ends (its Node environment is torn down): the
 * sender stops after a final flush of at most exit_flush_ms (at once when
 * none runs), so that what was just reported is delivered. */
static void node_client_cleanup(void *data) {
  node_client *nc = data;
  (void)cashback_sender_stop(nc->client, nc->exit_flush_ms);
}

static void node_client_finalize(napi_env env, void *data, void *hint) {
  node_client *nc = data;
  (void)hint;
  if (nc) {
    napi_remove_env_cleanup_hook(env, node_client_cleanup, nc);
    cashback_client_free(nc->client);
    free(nc);
  }
}

static node_client *node_handle(napi_env env, napi_value v) {
  void *p = NULL;
  napi_valuetype t;
  if (napi_typeof(env, v, &t) != napi_ok || t != napi_external ||
      napi_get_value_external(env, v, &p) != napi_ok || !p) {
    napi_throw_type_error(env, "CASHBACK_ARG", "cashback: not a client handle");
    return NULL;
  }
  return p;
}

static int node_args(napi_env env, napi_callback_info info, size_t want,
                     napi_value *argv) {
  size_t argc = want;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok) {
    node_throw_napi(env);
    return -1;
  }
  if (argc < want) {
    napi_throw_type_error(env, "CASHBACK_ARG",
                          "cashback: missing argument to the addon");
    return -1;
  }
  return 0;
}

/* clientNew(mode, arg, exitFlushMs): mode 0 a config file, 1 a connection
 * string, 2 the environment variable `arg` holding a connection string, 3 the
 * process environment (CASHBACK_CONFIG, CASHBACK_CONNECTION, CASHBACK_<KEY>).
 */
static napi_value node_client_new(napi_env env, napi_callback_info info) {
  napi_value argv[3], out;
  int32_t mode = -1;
  int64_t exit_ms = 0;
  char *arg = NULL;
  size_t alen = 0;
  cashback_options *opts;
  cashback_status st;
  char detail[CASHBACK_ERROR_MAX + 1] = "";
  node_client *nc;
  if (node_args(env, info, 3, argv))
    return NULL;
  CHECK(env, napi_get_value_int32(env, argv[0], &mode));
  CHECK(env, napi_get_value_int64(env, argv[2], &exit_ms));
  if (mode != 3 && !(arg = node_string(env, argv[1], &alen)))
    return NULL;
  opts = cashback_options_new();
  if (!opts) {
    free(arg);
    node_throw(env, CASHBACK_E_NOMEM, NULL, 0, NULL);
    return NULL;
  }
  if ((mode == 0 || mode == 2) && strlen(arg) != alen)
    st = CASHBACK_E_CONFIG; /* a NUL inside a path or a name */
  else if (mode == 0)
    st = cashback_options_load_file(opts, arg);
  else if (mode == 1)
    st = cashback_options_load_connection_string_n(opts, arg, alen);
  else if (mode == 2)
    st = cashback_options_load_connection_env(opts, arg);
  else if (mode == 3)
    st = cashback_options_load_env(opts);
  else
    st = CASHBACK_E_INVALID_ARGUMENT;
  free(arg);
  if (st != CASHBACK_OK) {
    cashback_printablef(detail, sizeof detail, "%s",
                        cashback_options_last_error(opts));
    cashback_options_free(opts);
    node_throw(env, st, NULL, 0, detail);
    return NULL;
  }
  nc = calloc(1, sizeof *nc);
  if (!nc) {
    cashback_options_free(opts);
    node_throw(env, CASHBACK_E_NOMEM, NULL, 0, NULL);
    return NULL;
  }
  st = cashback_client_new(opts, &nc->client, detail, sizeof detail);
  if (st != CASHBACK_OK) {
    free(nc);
    node_throw(env, st, NULL, 0, detail);
    return NULL;
  }
  nc->exit_flush_ms = exit_ms < 0 ? 0 : exit_ms;
  if (napi_add_env_cleanup_hook(env, node_client_cleanup, nc) != napi_ok) {
    cashback_client_free(nc->client);
    free(nc);
    node_throw_napi(env);
    return NULL;
  }
  if (napi_create_external(env, nc, node_client_finalize, NULL, &out) !=
      napi_ok) {
    node_client_finalize(env, nc, NULL);
    node_throw_napi(env);
    return NULL;
  }
  return out;
}

static napi_value node_str(napi_env env, const char *s) {
  napi_value v = NULL;
  if (napi_create_string_utf8(env, s, NAPI_AUTO_LENGTH, &v) != napi_ok)
    return NULL;
  return v;
}

static int node_set_str(napi_env env, napi_value obj, const char *name,
                        const char *s) {
  napi_value v = node_str(env, s);
  return v && napi_set_named_property(env, obj, name, v) == napi_ok ? 0 : -1;
}

static int node_set_num(napi_env env, napi_value obj, const char *name,
                        int64_t n) {
  napi_value v;
  return napi_create_int64(env, n, &v) == napi_ok &&
                 napi_set_named_property(env, obj, name, v) == napi_ok
             ? 0
             : -1;
}

static int node_set_bool(napi_env env, napi_value obj, const char *name,
                         int b) {
  napi_value v;
  return napi_get_boolean(env, b != 0, &v) == napi_ok &&
                 napi_set_named_property(env, obj, name, v) == napi_ok
             ? 0
             : -1;
}

/* The click cookie (capture) or the click (verify) as a JS object. */
static napi_value node_click_object(napi_env env, const cashback_cookie *c,
                                    const cashback_click *k) {
  napi_value obj;
  int bad;
  CHECK(env, napi_create_object(env, &obj));
  if (c)
    bad = node_set_str(env, obj, "name", c->name) ||
          node_set_str(env, obj, "value", c->value) ||
          node_set_num(env, obj, "maxAge", c->max_age) ||
          node_set_str(env, obj, "path", c->path) ||
          node_set_str(env, obj, "domain", c->domain) ||
          node_set_bool(env, obj, "secure", c->secure) ||
          node_set_bool(env, obj, "httpOnly", c->http_only) ||
          node_set_str(env, obj, "sameSite", c->same_site);
  else
    bad = node_set_str(env, obj, "token", k->token) ||
          node_set_str(env, obj, "source", k->source) ||
          node_set_num(env, obj, "capturedAt", k->captured_at) ||
          node_set_str(env, obj, "handle", k->handle);
  if (bad) {
    node_throw_napi(env);
    return NULL;
  }
  return obj;
}

enum click_op { OP_CAPTURE, OP_VERIFY, OP_READ };

/* capture(h, target): the click cookie as parts, or null (no token).
 * clickVerify(h, handle): the click, or null (empty: no click).
 * clickRead(h, cookieHeader): the click of a raw Cookie header (the newest
 * valid click cookie), or null (none). */
static napi_value node_click_op(napi_env env, napi_callback_info info,
                                enum click_op op) {
  napi_value argv[2], obj;
  node_client *nc;
  char *text;
  size_t len = 0;
  cashback_cookie c;
  cashback_click k;
  cashback_status st;
  char detail[CASHBACK_ERROR_MAX + 1] = "";
  if (node_args(env, info, 2, argv) || !(nc = node_handle(env, argv[0])) ||
      !(text = node_string(env, argv[1], &len)))
    return NULL;
  memset(&c, 0, sizeof c);
  c.size = sizeof c;
  memset(&k, 0, sizeof k);
  k.size = sizeof k;
  if (op == OP_CAPTURE)
    st = cashback_capture_parts(nc->client, text, len, &c);
  else if (op == OP_VERIFY)
    st = cashback_click_verify(nc->client, text, len, &k);
  else
    st = cashback_click_read(nc->client, text, len, &k);
  if (st != CASHBACK_OK)
    cashback_client_last_error(nc->client, detail, sizeof detail);
  free(text);
  if (st == CASHBACK_E_CLICK_NONE) {
    CHECK(env, napi_get_null(env, &obj));
    return obj;
  }
  if (st != CASHBACK_OK) {
    node_throw(env, st, NULL, 0, detail);
    return NULL;
  }
  return node_click_object(env, op == OP_CAPTURE ? &c : NULL, &k);
}

static napi_value node_capture(napi_env env, napi_callback_info info) {
  return node_click_op(env, info, OP_CAPTURE);
}

static napi_value node_click_verify(napi_env env, napi_callback_info info) {
  return node_click_op(env, info, OP_VERIFY);
}

static napi_value node_click_read(napi_env env, napi_callback_info info) {
  return node_click_op(env, info, OP_READ);
}

/* --- Jobs on the libuv pool ------------------------------------------------
 */

static void job_execute(napi_env env, void *data) {
  job *j = data;
  (void)env;
  switch (j->kind) {
  case JOB_REPORT:
    j->status = cashback_report(j->nc->client, j->ev, j->id);
    break;
  case JOB_REPORT_TEXT:
    j->status = cashback_report_text(j->nc->client, j->text, j->text_len,
                                     j->has_click ? &j->click : NULL, j->id,
                                     j->detail, sizeof j->detail);
    return; /* its detail is given by the call */
  case JOB_FLUSH:
    j->status = cashback_flush(j->nc->client, j->timeout_ms);
    break;
  case JOB_STOP:
    j->status = cashback_sender_stop(j->nc->client, j->timeout_ms);
    break;
  }
  /* The detail is this thread's: read it here, on the pool thread. */
  if (j->status != CASHBACK_OK)
    cashback_client_last_error(j->nc->client, j->detail, sizeof j->detail);
}

static void job_free(napi_env env, job *j) {
  if (j->work)
    napi_delete_async_work(env, j->work);
  if (j->handle_ref)
    napi_delete_reference(env, j->handle_ref);
  cashback_event_free(j->ev);
  free(j->text);
  free(j);
}

static void job_complete(napi_env env, napi_status status, void *data) {
  job *j = data;
  napi_value v = NULL;
  if (status == napi_cancelled) {
    v = node_error(env, CASHBACK_E_INTERNAL, NULL, 0, "cancelled");
    if (v)
      napi_reject_deferred(env, j->deferred, v);
  } else if (j->status == CASHBACK_OK) {
    if (j->kind == JOB_REPORT || j->kind == JOB_REPORT_TEXT)
      v = node_str(env, j->id);
    else
      napi_get_undefined(env, &v);
    if (v)
      napi_resolve_deferred(env, j->deferred, v);
  } else {
    v = node_error(env, j->status, NULL, 0, j->detail);
    if (v)
      napi_reject_deferred(env, j->deferred, v);
  }
  job_free(env, j);
}

/* Queues job `j` (its kind and inputs set) for handle `h`; returns its
 * Promise. On failure frees `j` and throws. */
static napi_value job_queue(napi_env env, napi_value h, job *j) {
  napi_value promise = NULL, name;
  if (napi_create_reference(env, h, 1, &j->handle_ref) != napi_ok ||
      napi_create_string_utf8(env, "cashback", NAPI_AUTO_LENGTH, &name) !=
          napi_ok ||
      napi_create_async_work(env, NULL, name, job_execute, job_complete, j,
                             &j->work) != napi_ok ||
      napi_create_promise(env, &j->deferred, &promise) != napi_ok ||
      napi_queue_async_work(env, j->work) != napi_ok) {
    /* A deferred created and never settled leaks only its promise. */
    job_free(env, j);
    node_throw_napi(env);
    return NULL;
  }
  return promise;
}

static job *job_new(napi_env env, node_client *nc, enum job_kind kind) {
  job *j = calloc(1, sizeof *j);
  if (!j) {
    node_throw(env, CASHBACK_E_NOMEM, NULL, 0, NULL);
    return NULL;
  }
  j->nc = nc;
  j->kind = kind;
  return j;
}

/* Throws the builder's first failure, naming its field. */
/* `index`: the pair the builder refused (set), -1 when finish did. */
static void node_throw_builder(napi_env env, cashback_event_builder *b,
                               cashback_status st, int64_t index) {
  const char *key = NULL;
  size_t klen = 0;
  char detail[CASHBACK_ERROR_MAX + 1] = "";
  napi_value err, v;
  cashback_status first =
      cashback_event_builder_error(b, &key, &klen, detail, sizeof detail);
  err = node_error(env, first != CASHBACK_OK ? first : st, key, klen, detail);
  if (!err) {
    node_throw_napi(env);
    return;
  }
  if (index >= 0 && napi_create_int64(env, index, &v) == napi_ok)
    napi_set_named_property(env, err, "index", v);
  napi_throw(env, err);
}

/* report(h, fields): `fields` a flat array [key, value, key, value, ...] of
 * strings, the field names of docs/events.md (index.js maps the JS keys).
 * Builds the event here (no disk), stores it on the pool; a Promise of its
 * id. A field that is wrong throws at once, naming the field. */
static napi_value node_report(napi_env env, napi_callback_info info) {
  napi_value argv[2], v;
  node_client *nc;
  uint32_t n = 0, i;
  bool is_array = false;
  cashback_event_builder *b;
  cashback_event *ev = NULL;
  cashback_status st = CASHBACK_OK;
  job *j;
  if (node_args(env, info, 2, argv) || !(nc = node_handle(env, argv[0])))
    return NULL;
  CHECK(env, napi_is_array(env, argv[1], &is_array));
  if (!is_array) {
    napi_throw_type_error(env, "CASHBACK_ARG",
                          "cashback: report needs an array of fields");
    return NULL;
  }
  CHECK(env, napi_get_array_length(env, argv[1], &n));
  b = cashback_event_builder_new(nc->client);
  if (!b) {
    node_throw(env, CASHBACK_E_NOMEM, NULL, 0, NULL);
    return NULL;
  }
  for (i = 0; i + 1 < n; i += 2) {
    char *key, *val;
    size_t klen = 0, vlen = 0;
    if (napi_get_element(env, argv[1], i, &v) != napi_ok ||
        !(key = node_string(env, v, &klen))) {
      cashback_event_builder_free(b);
      return NULL;
    }
    if (napi_get_element(env, argv[1], i + 1, &v) != napi_ok ||
        !(val = node_string(env, v, &vlen))) {
      free(key);
      cashback_event_builder_free(b);
      return NULL;
    }
    st = cashback_event_builder_set(b, key, klen, val, vlen);
    free(key);
    free(val);
    if (st != CASHBACK_OK)
      break;
  }
  if (st != CASHBACK_OK) {
    node_throw_builder(env, b, st, (int64_t)(i / 2));
    cashback_event_builder_free(b);
    return NULL;
  }
  st = cashback_event_builder_finish(b, &ev);
  if (st != CASHBACK_OK) {
    node_throw_builder(env, b, st, -1);
    cashback_event_builder_free(b);
    return NULL;
  }
  cashback_event_builder_free(b);
  /* Complete for its type (and its id): checked here, not on the pool,
   * so that a missing field is an error of the call, naming the field. */
  st = cashback_event_finalize(nc->client, ev, NULL);
  if (st != CASHBACK_OK) {
    char detail[CASHBACK_ERROR_MAX + 1];
    cashback_printablef(detail, sizeof detail, "%s",
                        cashback_event_last_error(ev));
    cashback_event_free(ev);
    node_throw(env, st, NULL, 0, detail);
    return NULL;
  }
  if (!(j = job_new(env, nc, JOB_REPORT))) {
    cashback_event_free(ev);
    return NULL;
  }
  j->ev = ev;
  return job_queue(env, argv[0], j);
}

/* reportText(h, text, clickHandle): a report header's value (the event
 * text of docs/events.md), stored on the pool with cashback_report_text();
 * a sale naming no click gets the click of `clickHandle` (a string, or
 * null: none), verified here. A Promise of the event id; the rejection's
 * status tells a text that is not an event from one not stored
 * (cashback_report_text_not_stored()). */
static napi_value node_report_text(napi_env env, napi_callback_info info) {
  napi_value argv[3];
  napi_valuetype t;
  node_client *nc;
  job *j;
  if (node_args(env, info, 3, argv) || !(nc = node_handle(env, argv[0])))
    return NULL;
  if (!(j = job_new(env, nc, JOB_REPORT_TEXT)))
    return NULL;
  if (!(j->text = node_string(env, argv[1], &j->text_len))) {
    free(j);
    return NULL;
  }
  if (napi_typeof(env, argv[2], &t) != napi_ok) {
    job_free(env, j);
    node_throw_napi(env);
    return NULL;
  }
  if (t == napi_string) {
    size_t hlen = 0;
    char *h = node_string(env, argv[2], &hlen);
    cashback_status st;
    if (!h) {
      job_free(env, j);
      return NULL;
    }
    j->click.size = sizeof j->click;
    st = cashback_click_verify(nc->client, h, hlen, &j->click);
    free(h);
    j->has_click = st == CASHBACK_OK;
  }
  return job_queue(env, argv[0], j);
}

static napi_value node_timed_job(napi_env env, napi_callback_info info,
                                 enum job_kind kind) {
  napi_value argv[2];
  node_client *nc;
  int64_t ms = 0;
  job *j;
  if (node_args(env, info, 2, argv) || !(nc = node_handle(env, argv[0])))
    return NULL;
  CHECK(env, napi_get_value_int64(env, argv[1], &ms));
  if (!(j = job_new(env, nc, kind)))
    return NULL;
  j->timeout_ms = ms;
  return job_queue(env, argv[0], j);
}

/* flush(h, timeoutMs): sends the spool now, on the pool. */
static napi_value node_flush(napi_env env, napi_callback_info info) {
  return node_timed_job(env, info, JOB_FLUSH);
}

/* senderStop(h, timeoutMs): stops the background sender after a bounded
 * final flush, on the pool. */
static napi_value node_sender_stop(napi_env env, napi_callback_info info) {
  return node_timed_job(env, info, JOB_STOP);
}

/* senderStart(h): starts the background sender thread (no waiting). */
static napi_value node_sender_start(napi_env env, napi_callback_info info) {
  napi_value argv[1], out;
  node_client *nc;
  cashback_status st;
  char detail[CASHBACK_ERROR_MAX + 1] = "";
  if (node_args(env, info, 1, argv) || !(nc = node_handle(env, argv[0])))
    return NULL;
  st = cashback_sender_start(nc->client);
  if (st != CASHBACK_OK) {
    cashback_client_last_error(nc->client, detail, sizeof detail);
    node_throw(env, st, NULL, 0, detail);
    return NULL;
  }
  CHECK(env, napi_get_undefined(env, &out));
  return out;
}

/* info(h): { merchantId, cookieName } of the client. */
static napi_value node_info(napi_env env, napi_callback_info info) {
  napi_value argv[1], obj;
  node_client *nc;
  if (node_args(env, info, 1, argv) || !(nc = node_handle(env, argv[0])))
    return NULL;
  CHECK(env, napi_create_object(env, &obj));
  if (node_set_str(env, obj, "merchantId",
                   cashback_client_merchant_id(nc->client)) ||
      node_set_str(env, obj, "cookieName",
                   cashback_client_cookie_name(nc->client))) {
    node_throw_napi(env);
    return NULL;
  }
  return obj;
}

/* strerror(status) */
static napi_value node_strerror(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  int32_t st = 0;
  if (node_args(env, info, 1, argv))
    return NULL;
  CHECK(env, napi_get_value_int32(env, argv[0], &st));
  return node_str(env, cashback_strerror((cashback_status)st));
}

NAPI_MODULE_EXPORT napi_value napi_register_module_v1(napi_env env,
                                                      napi_value exports);

NAPI_MODULE_EXPORT napi_value napi_register_module_v1(napi_env env,
                                                      napi_value exports) {
  static const struct {
    const char *name;
    napi_callback fn;
  } fns[] = {
      {"clientNew", node_client_new},
      {"capture", node_capture},
      {"clickVerify", node_click_verify},
      {"clickRead", node_click_read},
      {"reportText", node_report_text},
      {"report", node_report},
      {"flush", node_flush},
      {"senderStart", node_sender_start},
      {"senderStop", node_sender_stop},
      {"info", node_info},
      {"strerror", node_strerror},
  };
  size_t i;
  napi_value v;
  for (i = 0; i < sizeof fns / sizeof fns[0]; i++) {
    CHECK(env, napi_create_function(env, fns[i].name, NAPI_AUTO_LENGTH,
                                    fns[i].fn, NULL, &v));
    CHECK(env, napi_set_named_property(env, exports, fns[i].name, v));
  }
  CHECK(env,
        napi_create_string_utf8(env, cashback_version(), NAPI_AUTO_LENGTH, &v));
  CHECK(env, napi_set_named_property(env, exports, "version", v));
  return exports;
}
