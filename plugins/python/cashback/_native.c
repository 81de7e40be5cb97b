/*
 * cashback._native: the CPython extension under the `cashback` package
 * (plugins/python/cashback/__init__.py is the public API). One type,
 * Client, over a cashback_client. Every string goes in with its length
 * (the _n calls); blocking calls (report, flush) release the GIL.
 * Errors: cashback._errors.make(status, status_text, key, detail) builds
 * the exception, raised here.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <string.h>
#include <unistd.h>

#include "cashback.h"

static PyObject *make_error; /* cashback._errors.make */

/* Raises the exception for `st`; `key` (klen bytes) may be NULL. */
static PyObject *raise_status(cashback_status st, const char *key, size_t klen,
                              const char *detail) {
  PyObject *exc = PyObject_CallFunction(
      make_error, "iss#s", (int)st, cashback_strerror(st), key ? key : "",
      (Py_ssize_t)(key ? klen : 0), detail ? detail : "");
  if (exc != NULL) {
    PyErr_SetObject((PyObject *)Py_TYPE(exc), exc);
    Py_DECREF(exc);
  }
  return NULL;
}

typedef struct {
  PyObject_HEAD cashback_client *client;
  pid_t pid; /* the process that made it: a forked child never frees it */
} ClientObject;

/* Text as bytes: str (UTF-8) or bytes; NULL with a TypeError otherwise. */
static const char *text_arg(PyObject *o, Py_ssize_t *len, const char *what) {
  if (PyUnicode_Check(o))
    return PyUnicode_AsUTF8AndSize(o, len);
  if (PyBytes_Check(o)) {
    *len = PyBytes_GET_SIZE(o);
    return PyBytes_AS_STRING(o);
  }
  PyErr_Format(PyExc_TypeError, "%s: expected str or bytes, not %.100s", what,
               Py_TYPE(o)->tp_name);
  return NULL;
}

static int Client_init(PyObject *self_, PyObject *args, PyObject *kw) {
  ClientObject *self = (ClientObject *)self_;
  static char *names[] = {"config", "connection", "env", NULL};
  PyObject *config = Py_None, *connection = Py_None;
  int env = 0;
  if (!PyArg_ParseTupleAndKeywords(args, kw, "|OOp", names, &config,
                                   &connection, &env))
    return -1;
  if (self->client != NULL) {
    PyErr_SetString(PyExc_RuntimeError, "Client already initialised");
    return -1;
  }
  cashback_options *opts = cashback_options_new();
  if (opts == NULL) {
    PyErr_NoMemory();
    return -1;
  }
  cashback_status st = CASHBACK_OK;
  const char *key = NULL;
  if (config != Py_None) {
    PyObject *path = NULL;
    if (!PyUnicode_FSConverter(config, &path)) {
      cashback_options_free(opts);
      return -1;
    }
    if (strlen(PyBytes_AS_STRING(path)) != (size_t)PyBytes_GET_SIZE(path)) {
      Py_DECREF(path);
      cashback_options_free(opts);
      PyErr_SetString(PyExc_ValueError, "config: embedded NUL in the path");
      return -1;
    }
    st = cashback_options_load_file(opts, PyBytes_AS_STRING(path));
    Py_DECREF(path);
    key = "config";
  }
  if (st == CASHBACK_OK && connection != Py_None) {
    Py_ssize_t len;
    const char *s = text_arg(connection, &len, "connection");
    if (s == NULL) {
      cashback_options_free(opts);
      return -1;
    }
    st = cashback_options_load_connection_string_n(opts, s, (size_t)len);
    key = "connection";
  }
  if (st == CASHBACK_OK && env) {
    st = cashback_options_load_env(opts);
    key = "env";
  }
  if (st != CASHBACK_OK) {
    char detail[CASHBACK_ERROR_MAX + 1];
    const char *e = cashback_options_last_error(opts);
    snprintf(detail, sizeof detail, "%s", e ? e : "");
    cashback_options_free(opts);
    raise_status(st, key, strlen(key), detail);
    return -1;
  }
  char detail[CASHBACK_ERROR_MAX + 1] = "";
  cashback_client *client = NULL;
  st = cashback_client_new(opts, &client, detail, sizeof detail);
  if (st != CASHBACK_OK) {
    raise_status(st, NULL, 0, detail);
    return -1;
  }
  self->client = client;
  self->pid = getpid();
  return 0;
}

static void Client_dealloc(PyObject *self_) {
  ClientObject *self = (ClientObject *)self_;
  /* A forked child never frees what it inherited (docs/python.md). */
  if (self->client != NULL && self->pid == getpid())
    cashback_client_free(self->client);
  Py_TYPE(self_)->tp_free(self_);
}

static int ready(ClientObject *self) {
  if (self->client == NULL) {
    PyErr_SetString(PyExc_RuntimeError, "Client not initialised");
    return 0;
  }
  if (self->pid != getpid()) {
    PyErr_SetString(PyExc_RuntimeError,
                    "this native client belongs to the parent process: make "
                    "one in the child (cashback.Client does)");
    return 0;
  }
  return 1;
}

static PyObject *client_error(ClientObject *self, cashback_status st,
                              const char *key) {
  char detail[CASHBACK_ERROR_MAX + 1] = "";
  (void)cashback_client_last_error(self->client, detail, sizeof detail);
  return raise_status(st, key, strlen(key), detail);
}

/* The argument of a one-argument method, once the client is usable. */
static const char *text_of(ClientObject *self, PyObject *arg, Py_ssize_t *len,
                           const char *what) {
  return ready(self) ? text_arg(arg, len, what) : NULL;
}

/* capture(target) -> None or (name, value, max_age, path, domain, secure,
 * http_only, same_site) */
static PyObject *Client_capture(PyObject *self_, PyObject *arg) {
  ClientObject *self = (ClientObject *)self_;
  Py_ssize_t len;
  const char *s = text_of(self, arg, &len, "target");
  if (s == NULL)
    return NULL;
  cashback_cookie c;
  memset(&c, 0, sizeof c);
  c.size = sizeof c;
  cashback_status st = cashback_capture_parts(self->client, s, (size_t)len, &c);
  if (st == CASHBACK_E_CLICK_NONE)
    Py_RETURN_NONE;
  if (st != CASHBACK_OK)
    return client_error(self, st, "target");
  return Py_BuildValue("(ssLssOOs)", c.name, c.value, (long long)c.max_age,
                       c.path, c.domain, c.secure ? Py_True : Py_False,
                       c.http_only ? Py_True : Py_False, c.same_site);
}

typedef cashback_status (*click_fn)(cashback_client *, const char *, size_t,
                                    cashback_click *);

/* A click from `arg` by `fn` (cashback_click_verify or cashback_click_read):
 * None or (token, source, captured_at, handle). */
static PyObject *click_call(PyObject *self_, PyObject *arg, const char *what,
                            click_fn fn) {
  ClientObject *self = (ClientObject *)self_;
  Py_ssize_t len;
  const char *s = text_of(self, arg, &len, what);
  if (s == NULL)
    return NULL;
  cashback_click c;
  memset(&c, 0, sizeof c);
  c.size = sizeof c;
  cashback_status st = fn(self->client, s, (size_t)len, &c);
  if (st == CASHBACK_E_CLICK_NONE)
    Py_RETURN_NONE;
  if (st != CASHBACK_OK)
    return client_error(self, st, what);
  return Py_BuildValue("(ssLs)", c.token, c.source, (long long)c.captured_at,
                       c.handle);
}

/* click(handle): a cookie value or stored handle (cashback_click_verify). */
static PyObject *Client_click(PyObject *self_, PyObject *arg) {
  return click_call(self_, arg, "click", cashback_click_verify);
}

/* read_cookie(cookie_header): the click of a raw Cookie header
 * (cashback_click_read; the newest valid cookie of the name wins). */
static PyObject *Client_read_cookie(PyObject *self_, PyObject *arg) {
  return click_call(self_, arg, "cookie", cashback_click_read);
}

/* report_header(text, cookie_header) -> (id, status, not_stored, detail):
 * one X-Cashback-Event value (cashback_report_text), a sale without a click
 * given the click of the request's Cookie header (None or "": none). Never
 * raises for the event: the middleware applies its failure policy. */
static PyObject *Client_report_header(PyObject *self_, PyObject *args) {
  ClientObject *self = (ClientObject *)self_;
  PyObject *text, *cookie;
  if (!PyArg_ParseTuple(args, "OO", &text, &cookie) || !ready(self))
    return NULL;
  Py_ssize_t len, clen = 0;
  const char *t = text_arg(text, &len, "header");
  if (t == NULL)
    return NULL;
  const char *ch = NULL;
  if (cookie != Py_None && (ch = text_arg(cookie, &clen, "cookie")) == NULL)
    return NULL;
  cashback_click c;
  memset(&c, 0, sizeof c);
  c.size = sizeof c;
  int have =
      ch != NULL && clen > 0 &&
      cashback_click_read(self->client, ch, (size_t)clen, &c) == CASHBACK_OK;
  char id[CASHBACK_EVENT_ID_LEN + 1] = "";
  char detail[CASHBACK_ERROR_MAX + 1] = "";
  cashback_status st;
  Py_BEGIN_ALLOW_THREADS st =
      cashback_report_text(self->client, t, (size_t)len, have ? &c : NULL, id,
                           detail, sizeof detail);
  Py_END_ALLOW_THREADS return Py_BuildValue(
      "(siOs)", id, (int)st,
      cashback_report_text_not_stored(st) ? Py_True : Py_False, detail);
}

static PyObject *builder_fail(cashback_event_builder *b) {
  const char *key = NULL;
  size_t klen = 0;
  char detail[CASHBACK_ERROR_MAX + 1] = "";
  cashback_status st =
      cashback_event_builder_error(b, &key, &klen, detail, sizeof detail);
  raise_status(st, key, klen, detail);
  cashback_event_builder_free(b);
  return NULL;
}

/* Each item: (sku, name, quantity, unit_price, category), strings (or None
 * for name and category); added to `ev` in `currency`. Sets the error
 * (key "items[i]") and returns 0 on failure. */
static int add_items(cashback_event *ev, PyObject *items, const char *cur,
                     Py_ssize_t curlen) {
  Py_ssize_t n = PySequence_Fast_GET_SIZE(items);
  for (Py_ssize_t i = 0; i < n; i++) {
    PyObject *it = PySequence_Fast_GET_ITEM(items, i);
    const char *sku, *name, *price, *cat;
    Py_ssize_t skul, namel = 0, pricel, catl = 0;
    long long qty;
    if (!PyArg_ParseTuple(it, "s#z#Ls#z#", &sku, &skul, &name, &namel, &qty,
                          &price, &pricel, &cat, &catl))
      return 0;
    cashback_status st = cashback_event_add_item_decimal(
        ev, sku, (size_t)skul, name, (size_t)namel, (int64_t)qty, price,
        (size_t)pricel, cur, (size_t)curlen, cat, (size_t)catl);
    if (st != CASHBACK_OK) {
      char key[32];
      int kl = snprintf(key, sizeof key, "items[%zd]", i);
      const char *d = cashback_event_last_error(ev);
      raise_status(st, key, (size_t)kl, d ? d : "");
      return 0;
    }
  }
  return 1;
}

/* report(fields, items) -> event id. fields: a sequence of (key, value)
 * str pairs (docs/events.md names); items: a sequence of item tuples. */
static PyObject *Client_report(PyObject *self_, PyObject *args) {
  ClientObject *self = (ClientObject *)self_;
  PyObject *fields, *items;
  if (!PyArg_ParseTuple(args, "OO", &fields, &items) || !ready(self))
    return NULL;
  PyObject *ff = PySequence_Fast(fields, "fields: expected a sequence");
  if (ff == NULL)
    return NULL;
  PyObject *fi = PySequence_Fast(items, "items: expected a sequence");
  if (fi == NULL) {
    Py_DECREF(ff);
    return NULL;
  }
  PyObject *result = NULL;
  cashback_event *ev = NULL;
  const char *cur = NULL;
  Py_ssize_t curlen = 0;
  cashback_event_builder *b = cashback_event_builder_new(self->client);
  if (b == NULL) {
    PyErr_NoMemory();
    goto out;
  }
  for (Py_ssize_t i = 0; i < PySequence_Fast_GET_SIZE(ff); i++) {
    const char *k, *v;
    Py_ssize_t kl, vl;
    if (!PyArg_ParseTuple(PySequence_Fast_GET_ITEM(ff, i), "s#s#", &k, &kl, &v,
                          &vl)) {
      cashback_event_builder_free(b);
      goto out;
    }
    if (kl == 8 && memcmp(k, "currency", 8) == 0) {
      cur = v;
      curlen = vl;
    }
    if (cashback_event_builder_set(b, k, (size_t)kl, v, (size_t)vl) !=
        CASHBACK_OK) {
      builder_fail(b);
      goto out;
    }
  }
  if (cashback_event_builder_finish(b, &ev) != CASHBACK_OK) {
    builder_fail(b);
    goto out;
  }
  cashback_event_builder_free(b);
  if (!add_items(ev, fi, cur, curlen))
    goto out;
  char id[CASHBACK_EVENT_ID_LEN + 1] = "";
  cashback_status st;
  Py_BEGIN_ALLOW_THREADS st = cashback_report(self->client, ev, id);
  Py_END_ALLOW_THREADS if (st != CASHBACK_OK) {
    if (st == CASHBACK_E_FIELD) {
      const char *d = cashback_event_last_error(ev);
      raise_status(st, "", 0, d ? d : "");
    } else {
      client_error(self, st, "");
    }
    goto out;
  }
  result = PyUnicode_FromString(id);
out:
  cashback_event_free(ev);
  Py_DECREF(ff);
  Py_DECREF(fi);
  return result;
}

/* flush(timeout_ms) -> True when the spool is empty, False when events
 * remain for a later try (timeout, network, HTTP, protocol); raises
 * otherwise. */
static PyObject *Client_flush(PyObject *self_, PyObject *arg) {
  ClientObject *self = (ClientObject *)self_;
  if (!ready(self))
    return NULL;
  long long ms = PyLong_AsLongLong(arg);
  if (ms == -1 && PyErr_Occurred())
    return NULL;
  if (ms < 0) {
    PyErr_SetString(PyExc_ValueError, "timeout: must not be negative");
    return NULL;
  }
  cashback_status st;
  Py_BEGIN_ALLOW_THREADS st = cashback_flush(self->client, (int64_t)ms);
  Py_END_ALLOW_THREADS switch (st) {
  case CASHBACK_OK:
    Py_RETURN_TRUE;
  case CASHBACK_E_TIMEOUT:
  case CASHBACK_E_NETWORK:
  case CASHBACK_E_HTTP:
  case CASHBACK_E_PROTOCOL:
    Py_RETURN_FALSE;
  default:
    return client_error(self, st, "flush");
  }
}

/* status() -> dict: the spool and the sender (cashback_get_status). */
static PyObject *Client_status(PyObject *self_, PyObject *unused) {
  (void)unused;
  ClientObject *self = (ClientObject *)self_;
  if (!ready(self))
    return NULL;
  cashback_queue_status q;
  memset(&q, 0, sizeof q);
  q.size = sizeof q;
  cashback_status st;
  Py_BEGIN_ALLOW_THREADS st = cashback_get_status(self->client, &q);
  Py_END_ALLOW_THREADS if (st != CASHBACK_OK) return client_error(self, st,
                                                                  "status");
  return Py_BuildValue(
      "{sKsKsLsKsKsLsLsOsisssKsLsssL}", "queued_events",
      (unsigned long long)q.queued_events, "queued_bytes",
      (unsigned long long)q.queued_bytes, "oldest_age_s",
      (long long)q.oldest_age_s, "quarantined",
      (unsigned long long)q.quarantined, "deferred",
      (unsigned long long)q.deferred, "last_success", (long long)q.last_success,
      "next_attempt", (long long)q.next_attempt, "paused",
      q.paused ? Py_True : Py_False, "last_status", (int)q.last_status,
      "last_error", q.last_error, "read_errors",
      (unsigned long long)q.read_errors, "in_flight_since",
      (long long)q.in_flight_since, "spool_error", q.spool_error,
      "deferred_next", (long long)q.deferred_next);
}

static int quarantine_add(const cashback_quarantined *q, void *list) {
  PyObject *d = Py_BuildValue("{sssssssLss#}", "id", q->id, "reason", q->reason,
                              "message", q->message, "quarantined_at",
                              (long long)q->quarantined_at, "event_json",
                              q->event_json, (Py_ssize_t)q->event_len);
  if (d == NULL)
    return 1;
  int rc = PyList_Append((PyObject *)list, d);
  Py_DECREF(d);
  return rc != 0;
}

/* quarantine() -> list of dicts (cashback_quarantine_list, oldest first). */
static PyObject *Client_quarantine(PyObject *self_, PyObject *unused) {
  (void)unused;
  ClientObject *self = (ClientObject *)self_;
  if (!ready(self))
    return NULL;
  PyObject *list = PyList_New(0);
  if (list == NULL)
    return NULL;
  cashback_status st =
      cashback_quarantine_list(self->client, quarantine_add, list);
  if (PyErr_Occurred()) {
    Py_DECREF(list);
    return NULL;
  }
  if (st != CASHBACK_OK) {
    Py_DECREF(list);
    return client_error(self, st, "quarantine");
  }
  return list;
}

/* replay(id or None) -> how many were put back (cashback_quarantine_replay). */
static PyObject *Client_replay(PyObject *self_, PyObject *arg) {
  ClientObject *self = (ClientObject *)self_;
  if (!ready(self))
    return NULL;
  const char *id = NULL;
  if (arg != Py_None) {
    Py_ssize_t len;
    id = text_arg(arg, &len, "id");
    if (id == NULL)
      return NULL;
    if (strlen(id) != (size_t)len) {
      PyErr_SetString(PyExc_ValueError, "id: embedded NUL");
      return NULL;
    }
  }
  size_t n = 0;
  cashback_status st;
  Py_BEGIN_ALLOW_THREADS st = cashback_quarantine_replay(self->client, id, &n);
  Py_END_ALLOW_THREADS if (st != CASHBACK_OK) return client_error(self, st,
                                                                  "id");
  return PyLong_FromSize_t(n);
}

static PyObject *Client_cookie_name(PyObject *self_, void *unused) {
  (void)unused;
  ClientObject *self = (ClientObject *)self_;
  if (!ready(self))
    return NULL;
  return PyUnicode_FromString(cashback_client_cookie_name(self->client));
}

static PyObject *Client_merchant_id(PyObject *self_, void *unused) {
  (void)unused;
  ClientObject *self = (ClientObject *)self_;
  if (!ready(self))
    return NULL;
  return PyUnicode_FromString(cashback_client_merchant_id(self->client));
}

static PyMethodDef Client_methods[] = {
    {"capture", Client_capture, METH_O, "capture(target) -> tuple or None"},
    {"click", Client_click, METH_O, "click(handle) -> tuple or None"},
    {"report", Client_report, METH_VARARGS, "report(fields, items) -> id"},
    {"flush", Client_flush, METH_O, "flush(timeout_ms) -> bool"},
    {"status", Client_status, METH_NOARGS, "status() -> dict"},
    {"quarantine", Client_quarantine, METH_NOARGS, "quarantine() -> list"},
    {"replay", Client_replay, METH_O, "replay(id or None) -> int"},
    {"read_cookie", Client_read_cookie, METH_O,
     "read_cookie(cookie_header) -> tuple or None"},
    {"report_header", Client_report_header, METH_VARARGS,
     "report_header(text, cookie_header) -> (id, status, not_stored, detail)"},
    {NULL, NULL, 0, NULL}};

static PyGetSetDef Client_getset[] = {
    {"cookie_name", Client_cookie_name, NULL, "the click cookie's name", NULL},
    {"merchant_id", Client_merchant_id, NULL, "the merchant id", NULL},
    {NULL, NULL, NULL, NULL, NULL}};

static PyTypeObject ClientType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "cashback._native.Client",
    .tp_basicsize = sizeof(ClientObject),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "A libcashback client (use cashback.Client).",
    .tp_new = PyType_GenericNew,
    .tp_init = Client_init,
    .tp_dealloc = Client_dealloc,
    .tp_methods = Client_methods,
    .tp_getset = Client_getset,
};

static struct PyModuleDef native_module = {
    PyModuleDef_HEAD_INIT, .m_name = "cashback._native",
    .m_doc = "libcashback for Python (use the cashback package).",
    .m_size = -1};

PyMODINIT_FUNC PyInit__native(void);
PyMODINIT_FUNC PyInit__native(void) {
  PyObject *errors = PyImport_ImportModule("cashback._errors");
  if (errors == NULL)
    return NULL;
  make_error = PyObject_GetAttrString(errors, "make");
  Py_DECREF(errors);
  if (make_error == NULL || PyType_Ready(&ClientType) < 0)
    return NULL;
  PyObject *m = PyModule_Create(&native_module);
  if (m == NULL)
    return NULL;
  Py_INCREF(&ClientType);
  if (PyModule_AddObject(m, "Client", (PyObject *)&ClientType) < 0) {
    Py_DECREF(&ClientType);
    Py_DECREF(m);
    return NULL;
  }
  return m;
}
