'use strict';
// End to end with a real Koa (pinned by plugins/node/test/koa/
// package-lock.json; tests/scripts/node.sh installs it with npm ci and
// starts the test receiver): app.use(cashback.koa(client)); the paid page
// only sets an X-Cashback-Event header, which the middleware removes and
// reports (with the request's click) before Koa writes the response.
// Environment: NODE_CASHBACK_E2E_CONF, NODE_CASHBACK_RECEIVER,
// NODE_CASHBACK_KOA (the directory holding node_modules/koa).
const test = require('node:test');
const assert = require('node:assert');
const http = require('node:http');
const path = require('node:path');

const top = process.env.top_srcdir || path.join(__dirname, '..', '..');
const cashback = require(path.join(top, 'plugins', 'node'));
const Koa = require(path.join(process.env.NODE_CASHBACK_KOA, 'node_modules', 'koa'));
const { get, stats } = require('./node_http.js');

test('Koa: landing, paid through the report header, reload, refund', async () => {
  const client = new cashback.Client({ config: process.env.NODE_CASHBACK_E2E_CONF });
  const errors = [];
  const app = new Koa();
  app.use(cashback.koa(client, { onError: (e) => errors.push(e) }));
  app.use(async (ctx) => {
    if (ctx.path === '/paid') {
      ctx.set('X-Cashback-Event', 'type=sale;order_id=K-1;amount=49.90;currency=EUR');
      ctx.body = 'thank you';
    } else if (ctx.path === '/refund') {
      ctx.set('X-Cashback-Event', ['type=refund;order_id=K-1;amount=10.00;currency=EUR;refund_id=CN-K-1',
        'type=sale;order_id=K-2;amount=1.00;currency=EUR']);
      ctx.body = 'refunded';
    } else {
      ctx.body = 'landing';
    }
  });
  const server = http.createServer(app.callback());
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const base = 'http://127.0.0.1:' + server.address().port;
  try {
    const before = await stats();
    let r = await get(base + '/?cb_click=koa-e2e.1');
    const sc = (r.headers['set-cookie'] || [])[0] || '';
    assert.match(sc, /^cashback_click=1\.[^;]+; Max-Age=2592000; Path=\/; Secure; HttpOnly; SameSite=Lax$/);
    assert.strictEqual(r.headers['cache-control'], 'private');
    const pair = sc.split(';')[0];
    r = await get(base + '/paid', { Cookie: pair });
    assert.strictEqual(r.status, 200);
    assert.strictEqual(r.body, 'thank you');
    assert.strictEqual(r.headers['x-cashback-event'], undefined, 'the header never reaches the browser');
    await client.flush(15000);
    let st = await stats();
    assert.strictEqual(st.accepted - before.accepted, 1, JSON.stringify(st).slice(0, 300));
    const saleId = Object.keys(st.clicks).find((id) => st.clicks[id].token === 'koa-e2e.1');
    assert.ok(saleId, 'the sale carries the request click');
    r = await get(base + '/paid', { Cookie: pair });
    // Two instances: a refund, and a sale without a click (no cookie here),
    // which is not an event the network takes: reported to onError.
    r = await get(base + '/refund');
    assert.strictEqual(r.headers['x-cashback-event'], undefined);
    await client.flush(15000);
    st = await stats();
    assert.strictEqual(st.accepted - before.accepted, 2, 'the sale once, the refund once');
    assert.strictEqual(st.duplicates - before.duplicates, 1, 'the reload is a duplicate');
    assert.strictEqual(st.bad_signature, before.bad_signature);
    assert.strictEqual(errors.length, 1, errors.map(String).join('; '));
    assert.ok(errors[0] instanceof cashback.EventError, String(errors[0]));
    assert.strictEqual(errors[0].field, 'click');
  } finally {
    await new Promise((r) => server.close(r));
  }
});
