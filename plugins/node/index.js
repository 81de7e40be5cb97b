'use strict';
// The npm package `cashback`: libcashback for Node.js (docs/node.md).
// The native part (cashback.node, plugins/node/cashback_node.c) does the
// work; this file maps JavaScript objects onto the SDK's event fields
// (docs/events.md) and its statuses onto Error subclasses. Nothing here
// waits on the disk or the network: report(), flush() and close() run on
// the libuv pool and return Promises.

const path = require('path');

function loadAddon() {
  const tried = [];
  const candidates = [];
  if (process.env.NODE_CASHBACK_ADDON)
    candidates.push(process.env.NODE_CASHBACK_ADDON);
  candidates.push(path.join(__dirname, 'build', 'Release', 'cashback.node'));
  for (const file of candidates) {
    try {
      return require(file);
    } catch (e) {
      if (e && e.code !== 'MODULE_NOT_FOUND') throw e;
      tried.push(file);
    }
  }
  throw new Error('cashback: the native addon is not built (looked for ' +
                  tried.join(', ') + '; see docs/node.md)');
}

const native = loadAddon();

// The SDK's status numbers (include/cashback.h), by name.
const STATUS = Object.freeze({
  OK: 0, E_INVALID_ARGUMENT: 1, E_NOMEM: 2, E_CONFIG: 3, E_CLICK_NONE: 4,
  E_CLICK_EXPIRED: 5, E_CLICK_TAMPERED: 6, E_CLICK_MALFORMED: 7,
  E_AMOUNT: 8, E_CURRENCY: 9, E_FIELD: 10, E_TOO_BIG: 11,
  E_SIG_MALFORMED: 12, E_SIG_TIMESTAMP: 13, E_SIG_UNKNOWN_KEY: 14,
  E_SIG_MISMATCH: 15, E_CRYPTO: 16, E_IO: 17, E_INTERNAL: 18,
  E_SPOOL_FULL: 19, E_DISK_FULL: 20, E_NETWORK: 21, E_HTTP: 22, E_AUTH: 23,
  E_BUSY: 24, E_TIMEOUT: 25, E_NOT_FOUND: 26, E_PROTOCOL: 27,
});
const STATUS_NAME = {};
for (const [k, v] of Object.entries(STATUS)) STATUS_NAME[v] = 'CASHBACK_' + k;

// Every error of this package: `status` (the SDK's number), `code` (its
// name, e.g. 'CASHBACK_E_AMOUNT'), `detail` (the SDK's text, never a
// secret).
class CashbackError extends Error {
  constructor(message, status, detail) {
    super(message);
    this.name = new.target.name;
    this.status = status;
    this.code = STATUS_NAME[status] || 'CASHBACK_E_UNKNOWN';
    this.detail = detail === undefined ? '' : detail;
  }
}
// A bad or missing setting: the client cannot be made.
class ConfigError extends CashbackError {}
// A click cookie or handle that is expired, tampered with or malformed.
class ClickError extends CashbackError {}
// An order object the SDK refuses: `key` is the JavaScript key at fault
// (e.g. 'amount', 'items[1]'), `field` the event field (docs/events.md).
class EventError extends CashbackError {
  constructor(message, status, detail, key, field) {
    super(message, status, detail);
    this.key = key;
    this.field = field;
  }
}
// The event was valid but not stored (disk full, spool full, I/O): retry;
// a payment webhook answers 503.
class NotStoredError extends CashbackError {}
// flush() or close() did not deliver everything (network, busy, timeout).
class SendError extends CashbackError {}

function fromNative(e, Cls) {
  if (!e || typeof e.status !== 'number') return e;
  return new Cls(e.message, e.status, e.detail);
}

function eventError(key, field, message, status, detail) {
  const st = status === undefined ? STATUS.E_FIELD : status;
  const d = detail === undefined ? message : detail;
  return new EventError(key + ': ' + message, st, d, key, field);
}

// JavaScript key -> event field (docs/events.md) for plain values.
const SCALAR = {
  orderId: 'order_id', currency: 'currency', clickToken: 'click_token',
  customer: 'customer', refundId: 'refund_id', reason: 'reason',
  utcOffset: 'utc_offset',
};

function text(key, field, v) {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' && Number.isSafeInteger(v)) return String(v);
  if (typeof v === 'bigint') return v.toString();
  throw eventError(key, field, 'must be a string' +
                   (typeof v === 'number' ? ' or an integer' : ''));
}

// An amount: an exact decimal string ('49.90'), or an integer (whole units
// for `amount`, minor units for `amountMinor`); never a number with a
// fraction (a float is not exact).
function amountText(key, field, v) {
  if (typeof v === 'number') {
    if (!Number.isFinite(v) || !Number.isInteger(v))
      throw eventError(key, field, v + ' is a JavaScript number with a ' +
                       'fraction: give an exact decimal string (\'49.90\') ' +
                       'or integer minor units (amountMinor)', STATUS.E_AMOUNT);
    if (!Number.isSafeInteger(v))
      throw eventError(key, field, v + ' is past 2^53: give a string or a ' +
                       'BigInt', STATUS.E_AMOUNT);
    return String(v);
  }
  if (typeof v === 'bigint') return v.toString();
  if (typeof v === 'string') return v;
  throw eventError(key, field, 'must be a decimal string or an integer',
                   STATUS.E_AMOUNT);
}

function itemText(key, it) {
  if (typeof it === 'string') return it;
  if (!it || typeof it !== 'object')
    throw eventError(key, 'item', 'must be an object {sku, quantity, ' +
                     'unitPrice, name, category} or a string ' +
                     '\'sku:quantity:unit_price\'');
  const parts = [text(key + '.sku', 'item', it.sku),
                 text(key + '.quantity', 'item', it.quantity),
                 amountText(key + '.unitPrice', 'item', it.unitPrice)];
  const name = it.name === undefined || it.name === null ? '' :
    text(key + '.name', 'item', it.name);
  const category = it.category === undefined || it.category === null ? '' :
    text(key + '.category', 'item', it.category);
  for (const [k, s] of [['name', name], ['category', category]])
    if (s.includes(':'))
      throw eventError(key + '.' + k, 'item', 'cannot hold \':\'');
  if (name || category) parts.push(name);
  if (category) parts.push(category);
  return parts.join(':');
}

// The order object -> [jsKey, field, value] triples, in the order given.
function fields(type, order) {
  if (!order || typeof order !== 'object' || Array.isArray(order))
    throw new EventError('the order must be an object', STATUS.E_FIELD, '',
                         '', '');
  const out = [['type', 'type', type]];
  for (const [key, v] of Object.entries(order)) {
    if (v === undefined || v === null) continue;
    if (Object.prototype.hasOwnProperty.call(SCALAR, key)) {
      out.push([key, SCALAR[key], text(key, SCALAR[key], v)]);
    } else if (key === 'amount') {
      out.push([key, 'amount', amountText(key, 'amount', v)]);
    } else if (key === 'amountMinor') {
      out.push([key, 'amount_minor', amountText(key, 'amount_minor', v)]);
    } else if (key === 'click') {
      // A handle (the cookie value stored with the order) or a click object
      // from client.click().
      const h = typeof v === 'object' ? v.handle : v;
      if (typeof h !== 'string')
        throw eventError(key, 'click', 'must be a click handle (string) or ' +
                         'a click from client.click()');
      out.push([key, 'click', h]);
    } else if (key === 'voucher' || key === 'vouchers') {
      const list = Array.isArray(v) ? v : [v];
      list.forEach((c, i) => {
        const k = Array.isArray(v) ? key + '[' + i + ']' : key;
        out.push([k, 'voucher', text(k, 'voucher', c)]);
      });
    } else if (key === 'items') {
      if (!Array.isArray(v)) throw eventError(key, 'item', 'must be an array');
      v.forEach((it, i) => {
        const k = key + '[' + i + ']';
        out.push([k, 'item', itemText(k, it)]);
      });
    } else if (key === 'orderTime') {
      let s;
      if (v instanceof Date) {
        if (Number.isNaN(v.getTime()))
          throw eventError(key, 'order_time', 'is an invalid Date');
        s = v.toISOString();
      } else {
        s = text(key, 'order_time', v);
      }
      out.push([key, 'order_time', s]);
    } else if (key === 'test') {
      out.push([key, 'test', typeof v === 'boolean' ? (v ? '1' : '0') :
        text(key, 'test', v)]);
    } else if (key === 'meta') {
      if (typeof v !== 'object' || Array.isArray(v))
        throw eventError(key, 'meta', 'must be an object of strings');
      for (const [mk, mv] of Object.entries(v)) {
        const k = 'meta.' + mk;
        out.push([k, k, text(k, k, mv)]);
      }
    } else {
      throw eventError(key, '', 'unknown key (see docs/node.md)');
    }
  }
  return out;
}

const JS_KEY = { amount_minor: 'amountMinor', click: 'click', item: 'items',
                 order_time: 'orderTime', voucher: 'vouchers' };
for (const [k, f] of Object.entries(SCALAR)) JS_KEY[f] = k;

function toNativeFields(list) {
  const flat = [];
  for (const [, field, value] of list) flat.push(field, value);
  return flat;
}

// The SDK's error names the event field (its detail starts with it): name
// the JavaScript key in front ("amount: amount: '49.999' is not an exact
// EUR amount"). A field given several times (items, vouchers): the one the
// builder stopped at (index), else the one whose value the detail quotes.
function mapEventError(e, list) {
  if (!e || typeof e.status !== 'number') return e;
  const field = e.field || '';
  const detail = e.detail || '';
  let key = '';
  let f = field;
  // Found by finish or finalize without a key: the field the detail starts
  // with ("click: a sale needs a click token or a voucher code").
  const m = /^([a-z_]+|meta\.[A-Za-z0-9._-]+): /.exec(detail);
  if (!f && m) f = m[1];
  if (typeof e.index === 'number' && list[e.index]) {
    key = list[e.index][0];
  } else if (f) {
    const same = list.filter(([, x]) => x === f);
    const n = /\b(?:items|vouchers)\[(\d+)\]/.exec(detail);
    const quoted = same.find(([, , v]) => detail.includes("'" + v + "'"));
    // A field not given at all (order_id: required): its JS key.
    key = ((n && same[Number(n[1])]) || quoted || same[0] ||
           [JS_KEY[f] || f])[0];
  }
  const msg = key ? key + ': ' + detail : detail || e.message;
  return new EventError(msg, e.status, detail, key, f);
}

// A Set-Cookie-style object for frameworks' cookie APIs: Express's
// res.cookie(name, value, options) takes options.maxAge in milliseconds.
function expressOptions(c) {
  const o = { maxAge: c.maxAge * 1000, path: c.path, secure: c.secure,
              httpOnly: c.httpOnly, sameSite: c.sameSite.toLowerCase() };
  if (c.domain) o.domain = c.domain;
  return o;
}

const NOT_STORED = new Set([STATUS.E_SPOOL_FULL, STATUS.E_DISK_FULL,
                            STATUS.E_IO, STATUS.E_NOMEM, STATUS.E_INTERNAL]);

class Client {
  // new Client({ config: '/etc/shop/cashback.conf' })
  // new Client({ connection: 'cashback:merchant_id=...;...' })
  // new Client({ connectionEnv: 'SHOP_CASHBACK' })  (a variable's string)
  // new Client()  or  new Client({ env: true }): CASHBACK_CONFIG,
  //   CASHBACK_CONNECTION, CASHBACK_<KEY> of the process environment.
  // { sender: true } also starts the background sender thread.
  // { exitFlushMs: 2000 }: when the process or the worker thread ends, the
  // sender stops after a final flush of at most this long (the default).
  // Each worker thread makes its own Client (a client is not shared
  // between threads' environments).
  constructor(opts) {
    const o = opts === undefined ? { env: true } : opts;
    if (!o || typeof o !== 'object')
      throw new TypeError('cashback: Client options must be an object');
    const given = ['config', 'connection', 'connectionEnv', 'env']
      .filter((k) => o[k] !== undefined && o[k] !== false);
    if (given.length > 1)
      throw new ConfigError('cashback: give one of config, connection, ' +
                            'connectionEnv, env (got ' + given.join(', ') +
                            ')', STATUS.E_CONFIG, '');
    const which = given.length ? given[0] : 'env';
    const mode = { config: 0, connection: 1, connectionEnv: 2, env: 3 }[which];
    const arg = which === 'env' ? '' : o[which];
    if (which !== 'env' && typeof arg !== 'string')
      throw new TypeError('cashback: ' + which + ' must be a string');
    const exitMs = o.exitFlushMs === undefined ? 2000 : o.exitFlushMs;
    if (!Number.isSafeInteger(exitMs) || exitMs < 0)
      throw new TypeError('cashback: exitFlushMs must be an integer >= 0');
    try {
      this._h = native.clientNew(mode, arg, exitMs);
    } catch (e) {
      throw fromNative(e, ConfigError);
    }
    const info = native.info(this._h);
    this.merchantId = info.merchantId;
    this.cookieName = info.cookieName;
    this._sender = false;
    if (o.sender) this.startSender();
  }

  // Landing: the click cookie for a request target ('/p?awc=X' or a raw
  // query string), or null when it has no click token. Parts for a
  // framework's cookie API: name, value, maxAge (seconds), path, domain,
  // secure, httpOnly, sameSite; .expressOptions for res.cookie().
  capture(target) {
    if (typeof target !== 'string')
      throw new TypeError('cashback: capture(target) needs a string');
    let c;
    try {
      c = native.capture(this._h, target);
    } catch (e) {
      throw fromNative(e, ClickError);
    }
    if (c) Object.defineProperty(c, 'expressOptions',
                                 { value: expressOptions(c) });
    return c;
  }

  // Checkout: the click from the click cookie's value (req.cookies[
  // client.cookieName]) or a stored handle: { token, source, capturedAt,
  // handle }, or null when there is none (undefined, ''). An expired,
  // tampered or malformed one throws ClickError.
  click(value) {
    if (value === undefined || value === null || value === '') return null;
    if (typeof value !== 'string')
      throw new TypeError('cashback: click(value) needs a string');
    try {
      return native.clickVerify(this._h, value);
    } catch (e) {
      throw fromNative(e, ClickError);
    }
  }

  // Checkout: the click from a raw Cookie header (req.headers.cookie): the
  // newest valid click cookie, or null when there is none. An expired,
  // tampered or malformed one throws ClickError.
  clickFromHeader(cookieHeader) {
    if (cookieHeader === undefined || cookieHeader === null) return null;
    if (typeof cookieHeader !== 'string')
      throw new TypeError('cashback: clickFromHeader(header) needs a string');
    try {
      return native.clickRead(this._h, cookieHeader);
    } catch (e) {
      throw fromNative(e, ClickError);
    }
  }

  // Stores the event durably (on the libuv pool); resolves to its id.
  // Rejects with EventError (key named) or NotStoredError.
  async _report(type, order) {
    const list = fields(type, order);
    let p;
    try {
      p = native.report(this._h, toNativeFields(list));
    } catch (e) {
      throw mapEventError(e, list);
    }
    try {
      return await p;
    } catch (e) {
      if (e && typeof e.status === 'number' && NOT_STORED.has(e.status))
        throw new NotStoredError(e.message, e.status, e.detail);
      throw fromNative(e, CashbackError);
    }
  }

  // A report header's value: the event text of docs/events.md
  // ("type=sale;order_id=1001;amount=49.90;currency=EUR"), stored on the
  // pool; a sale naming no click gets `click` (a click or a handle; may
  // be null). Resolves to the event id; rejects with EventError (the text
  // is not an event: it never will be) or NotStoredError (retry).
  async reportText(text, click) {
    if (typeof text !== 'string')
      throw new TypeError('cashback: reportText(text) needs a string');
    const h = click && typeof click === 'object' ? click.handle : click;
    try {
      return await native.reportText(this._h, text,
                                     typeof h === 'string' && h ? h : null);
    } catch (e) {
      if (e && typeof e.status === 'number' && NOT_STORED.has(e.status))
        throw new NotStoredError(e.message, e.status, e.detail);
      if (e && typeof e.status === 'number') {
        const m = /^([a-z_]+|meta\.[A-Za-z0-9._-]+): /.exec(e.detail || '');
        throw new EventError(e.message, e.status, e.detail, '', m ? m[1] : '');
      }
      throw e;
    }
  }

  sale(order) { return this._report('sale', order); }
  refund(order) { return this._report('refund', order); }
  cancel(order) { return this._report('cancel', order); }
  confirm(order) { return this._report('confirm', order); }

  // Sends what is spooled now, for at most timeoutMs (default 10000), on
  // the pool. Resolves when the spool is empty; else rejects with
  // SendError (E_BUSY: another process's sender has it; E_NETWORK, ...).
  async flush(timeoutMs) {
    const ms = timeoutMs === undefined ? 10000 : timeoutMs;
    if (!Number.isSafeInteger(ms) || ms < 0)
      throw new TypeError('cashback: flush(timeoutMs) needs an integer >= 0');
    try {
      await native.flush(this._h, ms);
    } catch (e) {
      throw fromNative(e, SendError);
    }
  }

  // The background sender thread (started by { sender: true }, or here).
  startSender() {
    try {
      native.senderStart(this._h);
    } catch (e) {
      throw fromNative(e, SendError);
    }
    this._sender = true;
  }

  // Stops the sender after a final flush of at most timeoutMs (default
  // 5000), on the pool. What was not sent stays spooled.
  async close(timeoutMs) {
    const ms = timeoutMs === undefined ? 5000 : timeoutMs;
    if (!Number.isSafeInteger(ms) || ms < 0)
      throw new TypeError('cashback: close(timeoutMs) needs an integer >= 0');
    if (!this._sender) return;
    this._sender = false;
    try {
      await native.senderStop(this._h, ms);
    } catch (e) {
      throw fromNative(e, SendError);
    }
  }
}

// The Set-Cookie value of a capture()'s parts.
function setCookie(c) {
  return c.name + '=' + c.value + '; Max-Age=' + c.maxAge + '; Path=' + c.path +
    (c.domain ? '; Domain=' + c.domain : '') + (c.secure ? '; Secure' : '') +
    (c.httpOnly ? '; HttpOnly' : '') + '; SameSite=' + c.sameSite;
}

function appendHeader(res, name, value) {
  const prev = res.getHeader(name);
  if (prev === undefined) res.setHeader(name, value);
  else res.setHeader(name, [].concat(prev, value));
}

// Express (or any connect-style stack, node:http's req and res):
//   app.use(cashback.express(client));
// On every request: a click token in the URL sets the click cookie
// (Set-Cookie, Cache-Control: private) before any route runs; req.cashback
// is { click, sale(order), refund(order), cancel(order), confirm(order) },
// click being this request's verified click (the one just captured, else
// the Cookie header's) or null, and sale() using it when the order names
// no click (store req.cashback.click.handle with the order for a webhook).
// A bad token or cookie is no click; opts.onError(err, req) hears of it.
function express(client, opts) {
  if (!(client instanceof Client))
    throw new TypeError('cashback.express(client): a cashback.Client is needed');
  const onError = (opts && opts.onError) || (() => {});
  return function cashbackMiddleware(req, res, next) {
    const click = requestClick(client, req.originalUrl || req.url,
      req.headers.cookie, (v) => {
        appendHeader(res, 'Set-Cookie', v);
        res.setHeader('Cache-Control', 'private');
      }, onError, req);
    req.cashback = requestApi(client, click);
    next();
  };
}

// The request's click: the one a click token in the URL just captured
// (the cookie set through `set(headerValue)`), else the Cookie header's.
function requestClick(client, url, cookieHeader, set, onError, req) {
  let click = null;
  try {
    const c = client.capture(url || '');
    if (c) {
      set(setCookie(c));
      click = client.click(c.value);
    }
  } catch (e) {
    onError(e, req);
  }
  if (!click) {
    try {
      click = client.clickFromHeader(cookieHeader);
    } catch (e) {
      onError(e, req);
    }
  }
  return click;
}

function requestApi(client, click) {
  return {
    click,
    sale(order) {
      const o = Object.assign({}, order);
      if (click && o.click == null && o.clickToken == null) o.click = click.handle;
      return client.sale(o);
    },
    refund: (order) => client.refund(order),
    cancel: (order) => client.cancel(order),
    confirm: (order) => client.confirm(order),
  };
}

// Koa: app.use(cashback.koa(client)). Capture as express() does, with
// ctx.state.cashback the same API; and after `await next()`, every
// X-Cashback-Event header the application set is removed from the
// response (always: it carries order data) and reported, before Koa
// writes the response: durable by the time the shopper sees the page. A
// sale naming no click gets the request's. opts.failure: 'pass' (the
// default: the page goes out, opts.onError hears why) or 'fail' (the
// response becomes 503 when an event could not be stored, so that a
// payment provider's webhook is retried).
function koa(client, opts) {
  if (!(client instanceof Client))
    throw new TypeError('cashback.koa(client): a cashback.Client is needed');
  const onError = (opts && opts.onError) || (() => {});
  const failure = (opts && opts.failure) || 'pass';
  if (failure !== 'pass' && failure !== 'fail')
    throw new TypeError("cashback.koa: failure must be 'pass' or 'fail'");
  return async function cashbackKoa(ctx, next) {
    const click = requestClick(client, ctx.originalUrl || ctx.url,
      ctx.get('Cookie') || undefined, (v) => {
        ctx.append('Set-Cookie', v);
        ctx.set('Cache-Control', 'private');
      }, onError, ctx);
    ctx.state.cashback = requestApi(client, click);
    await next();
    const h = ctx.response.get('X-Cashback-Event');
    if (!h) return;
    ctx.remove('X-Cashback-Event');
    let notStored = false;
    for (const text of [].concat(h)) {
      try {
        await client.reportText(String(text), click);
      } catch (e) {
        if (e instanceof NotStoredError) notStored = true;
        onError(e, ctx);
      }
    }
    if (notStored && failure === 'fail') {
      ctx.status = 503;
      ctx.body = 'the sale could not be stored; retry\n';
    }
  };
}

module.exports = {
  Client, express, koa, CashbackError, ConfigError, ClickError, EventError, NotStoredError,
  SendError, STATUS, version: native.version,
  // For tests and tools: the JS order object as event fields.
  _fields: fields,
};
