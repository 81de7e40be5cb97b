'use strict';
// The package's every function and error path, without a network (the
// endpoint is a closed port): `node --test plugins/node/test/`
// (tests/scripts/node.sh runs it with the built addon).
const test = require('node:test');
const assert = require('node:assert');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const cb = require('..');

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'cashback-node-'));
process.on('exit', () => fs.rmSync(work, { recursive: true, force: true }));
const SECRET = 'node-unit-secret-0123456789abcdef';

function conf(name, extra) {
  const file = path.join(work, name + '.conf');
  fs.writeFileSync(file, ['merchant_id = node-unit', 'key_id = k1',
    'secret = ' + SECRET, 'endpoint = http://127.0.0.1:1/v1/events',
    'spool_dir = ' + path.join(work, name + '-spool'),
    'connect_timeout = 1s', 'request_timeout = 2s']
    .concat(extra || []).join('\n') + '\n', { mode: 0o600 });
  return file;
}

const client = new cb.Client({ config: conf('main') });
const landing = client.capture('/p?cb_click=node-tok.1&utm=x');

function assertEventError(e, key, field, code) {
  assert.ok(e instanceof cb.EventError, 'an EventError: ' + e);
  assert.ok(e instanceof cb.CashbackError);
  assert.ok(e instanceof Error);
  assert.strictEqual(e.key, key, e.message);
  assert.strictEqual(e.field, field, e.message);
  if (code) assert.strictEqual(e.code, code, e.message);
  assert.ok(e.message.startsWith(key + ': '), e.message);
  assert.ok(!e.message.includes(SECRET));
  return true;
}

test('version and client info', () => {
  assert.match(cb.version, /^\d+\.\d+\.\d+/);
  assert.strictEqual(client.merchantId, 'node-unit');
  assert.strictEqual(client.cookieName, 'cashback_click');
});

test('client from a connection string', () => {
  const c = new cb.Client({ connection: 'cashback:merchant_id=node-cs;' +
    'key_id=k1;secret=' + SECRET + ';endpoint=http://127.0.0.1:1/v1/events;' +
    'spool_dir=' + encodeURIComponent(path.join(work, 'cs-spool')) });
  assert.strictEqual(c.merchantId, 'node-cs');
});

test('client from a variable holding a connection string', () => {
  process.env.SHOP_NODE_CASHBACK = 'cashback:merchant_id=node-env;key_id=k1;' +
    'secret=' + SECRET + ';endpoint=http://127.0.0.1:1/v1/events;' +
    'spool_dir=' + encodeURIComponent(path.join(work, 'env-spool'));
  const c = new cb.Client({ connectionEnv: 'SHOP_NODE_CASHBACK' });
  assert.strictEqual(c.merchantId, 'node-env');
  delete process.env.SHOP_NODE_CASHBACK;
  assert.throws(() => new cb.Client({ connectionEnv: 'SHOP_NODE_CASHBACK' }),
    (e) => e instanceof cb.ConfigError && e.code === 'CASHBACK_E_CONFIG' &&
      e.message.includes('SHOP_NODE_CASHBACK'));
});

test('client from the environment (CASHBACK_CONFIG)', () => {
  process.env.CASHBACK_CONFIG = conf('envfile');
  try {
    assert.strictEqual(new cb.Client().merchantId, 'node-unit');
    assert.strictEqual(new cb.Client({ env: true }).merchantId, 'node-unit');
  } finally {
    delete process.env.CASHBACK_CONFIG;
  }
});

test('client errors: ConfigError without the secret, TypeError', () => {
  assert.throws(() => new cb.Client({ config: path.join(work, 'none.conf') }),
    (e) => e instanceof cb.ConfigError && e.status > 0 &&
      e.message.includes('none.conf'));
  assert.throws(() => new cb.Client({ connection: 'cashback:merchnt_id=x;' +
    'secret=' + SECRET }), (e) => e instanceof cb.ConfigError &&
    e.message.includes('merchnt_id') && !e.message.includes(SECRET));
  assert.throws(() => new cb.Client({ connection: 'cashback:merchant_id=x' }),
    (e) => e instanceof cb.ConfigError && e.code === 'CASHBACK_E_CONFIG');
  assert.throws(() => new cb.Client({ config: 'a', connection: 'b' }),
    (e) => e instanceof cb.ConfigError && e.message.includes('one of'));
  assert.throws(() => new cb.Client({ config: 7 }), TypeError);
  assert.throws(() => new cb.Client('x'), TypeError);
  assert.throws(() => new cb.Client({ config: 'a\0b' }), cb.ConfigError);
});

test('capture: the cookie as parts', () => {
  assert.ok(landing);
  assert.strictEqual(landing.name, 'cashback_click');
  assert.match(landing.value, /^1\.\d+\.[0-9a-f]+\.cb_click\.node-tok\.1$/);
  assert.strictEqual(landing.maxAge, 2592000);
  assert.strictEqual(landing.path, '/');
  assert.strictEqual(landing.domain, '');
  assert.strictEqual(landing.secure, true);
  assert.strictEqual(landing.httpOnly, true);
  assert.strictEqual(landing.sameSite, 'Lax');
  assert.deepStrictEqual(landing.expressOptions, { maxAge: 2592000000,
    path: '/', secure: true, httpOnly: true, sameSite: 'lax' });
  assert.strictEqual(client.capture('cb_click=t2').value.endsWith('.t2'), true);
});

test('capture: no token is null, a bad one a ClickError', () => {
  assert.strictEqual(client.capture('/p?utm_source=mail'), null);
  assert.strictEqual(client.capture(''), null);
  assert.throws(() => client.capture('/p?cb_click=bad%zz'),
    (e) => e instanceof cb.ClickError && e.code === 'CASHBACK_E_CLICK_MALFORMED');
  assert.throws(() => client.capture('/p?cb_click=a&cb_click=b'), cb.ClickError);
  assert.throws(() => client.capture(undefined), TypeError);
});

test('click: verified from the cookie value', () => {
  const c = client.click(landing.value);
  assert.strictEqual(c.token, 'node-tok.1');
  assert.strictEqual(c.source, 'cb_click');
  assert.ok(Math.abs(c.capturedAt - Date.now() / 1000) < 60);
  assert.strictEqual(c.handle, landing.value);
});

test('click: none is null; tampered, foreign and malformed throw', () => {
  assert.strictEqual(client.click(undefined), null);
  assert.strictEqual(client.click(''), null);
  assert.strictEqual(client.click(null), null);
  const parts = landing.value.split('.');
  parts[2] = parts[2].replace(/^./, (ch) => (ch === '0' ? '1' : '0'));
  assert.throws(() => client.click(parts.join('.')),
    (e) => e instanceof cb.ClickError && e.code === 'CASHBACK_E_CLICK_TAMPERED');
  const other = new cb.Client({ config: conf('other',
    ['secret = another-secret-0123456789abcdef0']) });
  assert.throws(() => other.click(landing.value),
    (e) => e instanceof cb.ClickError && e.code === 'CASHBACK_E_CLICK_TAMPERED');
  assert.throws(() => client.click('1.2.3'),
    (e) => e instanceof cb.ClickError && e.code === 'CASHBACK_E_CLICK_MALFORMED');
  assert.throws(() => client.click('x'.repeat(300)), cb.ClickError);
  assert.throws(() => client.click(42), TypeError);
});

test('sale, refund, cancel, confirm: Promises of the event id', async () => {
  const click = client.click(landing.value);
  const p = client.sale({ orderId: 'N-1', currency: 'EUR', amount: '49.90',
    click, items: [{ sku: 'TEA', quantity: 2, unitPrice: '19.95',
      name: 'Teapot', category: 'kitchen' }, 'CUP:1:10.00'],
    vouchers: ['WELCOME10'], customer: 'new', test: true,
    orderTime: new Date('2026-11-23T18:42:00Z'), meta: { channel: 'web' } });
  assert.ok(p instanceof Promise);
  const id = await p;
  assert.match(id, /^[0-9a-f]{32}$/);
  // The same sale again (a reload): the same id, the network counts it once.
  assert.strictEqual(await client.sale({ orderId: 'N-1', currency: 'EUR',
    amount: '49.90', click: click.handle }), id);
  const r1 = await client.refund({ orderId: 'N-1', currency: 'EUR',
    amount: '10.00', refundId: 'CN-1', reason: 'damaged' });
  assert.strictEqual(await client.refund({ orderId: 'N-1', currency: 'EUR',
    amount: '10.00', refundId: 'CN-1', reason: 'damaged' }), r1);
  assert.notStrictEqual(r1, id);
  assert.match(await client.cancel({ orderId: 'N-2', reason: 'fraud' }),
    /^[0-9a-f]{32}$/);
  assert.match(await client.confirm({ orderId: 'N-1' }), /^[0-9a-f]{32}$/);
  // Integer minor units (number, BigInt, digits), whole units, a voucher.
  for (const o of [{ amountMinor: 4990 }, { amountMinor: 4990n },
    { amountMinor: '4990' }, { amount: 50 }, { amount: 50n }])
    assert.match(await client.sale(Object.assign({ orderId: 'N-3',
      currency: 'EUR', voucher: 'ONE', clickToken: 'tok-3' }, o)),
    /^[0-9a-f]{32}$/);
  assert.match(await client.sale({ orderId: 'N-4', currency: 'JPY',
    amount: '1000', clickToken: 'tok-4', orderTime: '1796000000', utcOffset: 540,
    customer: 'returning', test: 'no', undefinedKey: undefined }),
  /^[0-9a-f]{32}$/);
});

test('amounts: a JS number with a fraction is refused', async () => {
  for (const [o, key] of [[{ amount: 49.9 }, 'amount'],
    [{ amount: 0.1 + 0.2 }, 'amount'], [{ amountMinor: 4990.5 }, 'amountMinor'],
    [{ amount: NaN }, 'amount'], [{ amount: Infinity }, 'amount'],
    [{ amount: 2 ** 60 }, 'amount'], [{ amount: {} }, 'amount'],
    [{ items: [{ sku: 'A', quantity: 1, unitPrice: 9.99 }] },
      'items[0].unitPrice']]) {
    await assert.rejects(client.sale(Object.assign({ orderId: 'F-1',
      currency: 'EUR' }, o)), (e) => assertEventError(e, key,
      key === 'amountMinor' ? 'amount_minor' :
        key === 'amount' ? 'amount' : 'item', 'CASHBACK_E_AMOUNT'));
  }
});

test('event errors name the JS key', async () => {
  const base = { orderId: 'E-1', currency: 'EUR', clickToken: 'tok-e' };
  const cases = [
    [{ amount: '49.999' }, 'amount', 'amount', 'CASHBACK_E_AMOUNT'],
    [{ orderId: undefined, amount: '1' }, 'orderId', 'order_id', 'CASHBACK_E_FIELD'],
    [{ orderId: 'has space' }, 'orderId', 'order_id'],
    [{ currency: undefined, amount: '5' }, 'amount', 'amount'],
    [{ currency: 'XXY', amount: '5' }, 'currency', 'currency'],
    [{ amount: '1', amountMinor: 100 }, 'amountMinor', 'amount_minor'],
    [{ items: ['A:1:1', 'B:0:1'] }, 'items[1]', 'item'],
    [{ items: 'A:1:1' }, 'items', 'item'],
    [{ items: [7] }, 'items[0]', 'item'],
    [{ items: [{ sku: 'A', quantity: 1, unitPrice: '1', name: 'a:b' }] },
      'items[0].name', 'item'],
    [{ vouchers: ['OK', 'has space'] }, 'vouchers[1]', 'voucher'],
    [{ click: 42 }, 'click', 'click'],
    [{ click: 'not-a-handle' }, 'click', 'click'],
    [{ clickToken: 'bad token' }, 'clickToken', 'click_token'],
    [{ customer: 'vip' }, 'customer', 'customer'],
    [{ orderTime: new Date('nope') }, 'orderTime', 'order_time'],
    [{ orderTime: 'yesterday' }, 'orderTime', 'order_time'],
    [{ utcOffset: 5000, orderTime: '1796000000' }, 'utcOffset', 'utc_offset'],
    [{ test: 'maybe' }, 'test', 'test'],
    [{ meta: 'x' }, 'meta', 'meta'],
    [{ meta: { 'bad key': 'v' } }, 'meta.bad key', 'meta.bad key'],
    [{ reason: 'no spaces allowed' }, 'reason', 'reason'],
    [{ bogus: 1 }, 'bogus', ''],
    [{ orderId: { x: 1 } }, 'orderId', 'order_id'],
    [{ amount: '1', clickToken: undefined }, 'click', 'click',
      'CASHBACK_E_FIELD'],
  ];
  for (const [o, key, field, code] of cases)
    await assert.rejects(client.sale(Object.assign({}, base, o)),
      (e) => assertEventError(e, key, field, code), JSON.stringify(o));
  await assert.rejects(client.refund({ orderId: 'E-1', reason: 'a b' }),
    (e) => assertEventError(e, 'reason', 'reason'));
  for (const bad of [undefined, null, 'order', ['a']])
    await assert.rejects(client.sale(bad), cb.EventError);
});

test('reports on the pool: 50 at once, each resolved after the call', async () => {
  const ids = await Promise.all(Array.from({ length: 50 }, (_, i) =>
    client.sale({ orderId: 'P-' + i, currency: 'EUR', amount: '1.00',
      clickToken: 'tok-p' })));
  assert.strictEqual(new Set(ids).size, 50);
  let sync = true;
  const p = client.confirm({ orderId: 'P-0' }).then(() => sync);
  sync = false;
  assert.strictEqual(await p, false, 'resolved after the call returned');
});

test('not stored: the spool at its cap is a NotStoredError', async () => {
  const tiny = new cb.Client({ config: conf('tiny', ['spool_max_bytes = 64k']) });
  await assert.rejects((async () => {
    for (let i = 0; i < 200; i++)
      await tiny.sale({ orderId: 'T-' + i, currency: 'EUR', amount: '1.00',
        clickToken: 'tok-t',
        meta: { pad: 'x'.repeat(4000) } });
  })(), (e) => e instanceof cb.NotStoredError &&
    e.code === 'CASHBACK_E_SPOOL_FULL' && !e.message.includes(SECRET));
});

test('flush: a network that cannot be reached is a SendError', async () => {
  await assert.rejects(client.flush(2000), (e) => e instanceof cb.SendError &&
    e.status > 0 && !e.message.includes(SECRET));
  const empty = new cb.Client({ config: conf('empty') });
  await empty.flush(1000);
  await empty.flush();
  await assert.rejects(empty.flush(-1), TypeError);
  await assert.rejects(empty.flush(1.5), TypeError);
});

test('sender: started, then stopped with a bounded flush', async () => {
  const c = new cb.Client({ config: conf('sender'), sender: true });
  await c.sale({ orderId: 'S-1', currency: 'EUR', amount: '1.00',
    voucher: 'V1' });
  const t0 = Date.now();
  await c.close(500);
  assert.ok(Date.now() - t0 < 5000, 'close is bounded');
  await c.close(500); // a second close is a no-op
  c.startSender();
  await c.close();
  await assert.rejects(c.close('x'), TypeError);
});

test('the JS mapping onto event fields', () => {
  assert.deepStrictEqual(cb._fields('sale', { orderId: '1', amountMinor: 5,
    vouchers: ['A', 'B'], meta: { k: 'v' }, test: false }), [
    ['type', 'type', 'sale'], ['orderId', 'order_id', '1'],
    ['amountMinor', 'amount_minor', '5'], ['vouchers[0]', 'voucher', 'A'],
    ['vouchers[1]', 'voucher', 'B'], ['meta.k', 'meta.k', 'v'],
    ['test', 'test', '0']]);
  assert.deepStrictEqual(cb._fields('sale', { items: [{ sku: 'A',
    quantity: 1, unitPrice: '2.50', category: 'c' }] })[1],
  ['items[0]', 'item', 'A:1:2.50::c']);
});

test('clickFromHeader: the Cookie header', () => {
  const c = client.clickFromHeader('theme=dark; cashback_click=' + landing.value + '; x=1');
  assert.strictEqual(c.token, 'node-tok.1');
  assert.strictEqual(c.handle, landing.value);
  assert.strictEqual(client.clickFromHeader('theme=dark'), null);
  assert.strictEqual(client.clickFromHeader(undefined), null);
  assert.strictEqual(client.clickFromHeader(''), null);
  const parts = landing.value.split('.');
  parts[2] = parts[2].replace(/^./, (ch) => (ch === '0' ? '1' : '0'));
  assert.throws(() => client.clickFromHeader('cashback_click=' + parts.join('.')),
    (e) => e instanceof cb.ClickError && e.code === 'CASHBACK_E_CLICK_TAMPERED');
  assert.throws(() => client.clickFromHeader(5), TypeError);
});

test('express(): capture, req.cashback.click, sale with the click', async () => {
  const mw = cb.express(client);
  const run = (url, cookie) => {
    const headers = {};
    const req = { url, headers: cookie ? { cookie } : {} };
    const res = { getHeader: (n) => headers[n.toLowerCase()],
      setHeader: (n, v) => { headers[n.toLowerCase()] = v; } };
    let nexted = false;
    mw(req, res, () => { nexted = true; });
    assert.ok(nexted);
    return { req, headers };
  };
  let r = run('/?utm=x');
  assert.strictEqual(r.headers['set-cookie'], undefined);
  assert.strictEqual(r.req.cashback.click, null);
  r = run('/?cb_click=mw-tok');
  assert.match(r.headers['set-cookie'], /^cashback_click=1\.[^;]+\.mw-tok; Max-Age=2592000; Path=\/; Secure; HttpOnly; SameSite=Lax$/);
  assert.strictEqual(r.headers['cache-control'], 'private');
  assert.strictEqual(r.req.cashback.click.token, 'mw-tok');
  const pair = r.headers['set-cookie'].split(';')[0];
  r = run('/checkout', 'a=b; ' + pair);
  assert.strictEqual(r.req.cashback.click.token, 'mw-tok');
  assert.match(await r.req.cashback.sale({ orderId: 'MW-1', currency: 'EUR', amount: '5.00' }),
    /^[0-9a-f]{32}$/);
  // No click: the sale needs one (or a voucher); the error names the key.
  r = run('/checkout');
  await assert.rejects(r.req.cashback.sale({ orderId: 'MW-2', currency: 'EUR', amount: '5.00' }),
    (e) => assertEventError(e, 'click', 'click'));
  const errors = [];
  const mw2 = cb.express(client, { onError: (e) => errors.push(e) });
  const req = { url: '/?cb_click=bad%zz', headers: { cookie: 'cashback_click=1.2.3' } };
  mw2(req, { getHeader: () => undefined, setHeader: () => {} }, () => {});
  assert.strictEqual(req.cashback.click, null);
  assert.strictEqual(errors.length, 2);
  assert.ok(errors.every((e) => e instanceof cb.ClickError));
  assert.match(await req.cashback.refund({ orderId: 'MW-1', currency: 'EUR', amount: '1.00' }),
    /^[0-9a-f]{32}$/);
  assert.match(await req.cashback.cancel({ orderId: 'MW-3' }), /^[0-9a-f]{32}$/);
  assert.match(await req.cashback.confirm({ orderId: 'MW-1' }), /^[0-9a-f]{32}$/);
  assert.throws(() => cb.express({}), TypeError);
});

test('reportText: a report header value', async () => {
  assert.match(await client.reportText('type=sale;order_id=RT-1;amount=1.00;currency=EUR',
    landing.value), /^[0-9a-f]{32}$/);
  assert.match(await client.reportText('type=sale;order_id=RT-2;amount=1.00;currency=EUR;voucher=V'),
    /^[0-9a-f]{32}$/);
  await assert.rejects(client.reportText('type=sale;order_id=RT-3;amount=1.00;currency=EUR'),
    (e) => e instanceof cb.EventError && e.field === 'click');
  await assert.rejects(client.reportText('nonsense'), cb.EventError);
  await assert.rejects(client.reportText(5), TypeError);
});

test('koa(): the report header removed and reported; failure policy', async () => {
  const ctxFor = (url, event) => {
    const out = {};
    return { out, url, originalUrl: url, state: {}, status: 200,
      get: () => '', append: (n, v) => { out[n] = v; }, set: (n, v) => { out[n] = v; },
      remove: (n) => { delete out[n]; },
      response: { get: (n) => out[n] }, _event: event };
  };
  const mw = cb.koa(client);
  const ctx = ctxFor('/?cb_click=koa-unit');
  await mw(ctx, async () => { ctx.set('X-Cashback-Event', 'type=sale;order_id=KU-1;amount=2.00;currency=EUR'); });
  assert.strictEqual(ctx.out['X-Cashback-Event'], undefined);
  assert.strictEqual(ctx.state.cashback.click.token, 'koa-unit');
  assert.match(ctx.out['Set-Cookie'], /^cashback_click=/);
  const tiny = new cb.Client({ config: conf('koatiny', ['spool_max_bytes = 64k']) });
  const errs = [];
  const failing = cb.koa(tiny, { failure: 'fail', onError: (e) => errs.push(e) });
  let status = 200;
  for (let i = 0; i < 40 && status === 200; i++) {
    const c = ctxFor('/');
    await failing(c, async () => {
      c.set('X-Cashback-Event', 'type=sale;order_id=KT-' + i + ';amount=1.00;currency=EUR;' +
        'voucher=V;meta.pad=' + 'x'.repeat(4000));
    });
    status = c.status;
  }
  assert.strictEqual(status, 503, 'a sale not stored answers 503 with failure: fail');
  assert.ok(errs.some((e) => e instanceof cb.NotStoredError));
  assert.throws(() => cb.koa({}), TypeError);
  assert.throws(() => cb.koa(client, { failure: 'maybe' }), TypeError);
});
