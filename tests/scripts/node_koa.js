'use strict';
// End to end with a real Koa (pinned by plugins/node/test/koa/
// package-lock.json; tests/scripts/node.sh installs it with npm ci and
// starts the test receiver): the shop of samples/node/koa-shop.js,
// app.use(cashback.koa(client)); the paid page
// only sets an X-Cashback-Event header, which the middleware removes and
// reports (with the request's click) before Koa writes the response.
// Environment: NODE_CASHBACK_E2E_CONF, NODE_CASHBACK_RECEIVER, NODE_PATH
// (with koa and cashback).
const test = require('node:test');
const assert = require('node:assert');
const http = require('node:http');
const path = require('node:path');

const top = process.env.top_srcdir || path.join(__dirname, '..', '..');
const cashback = require(path.join(top, 'plugins', 'node'));
// The shop requires 'koa' and 'cashback' as a shop does (node.sh puts both
// on NODE_PATH).
const shop = require(path.join(top, 'samples', 'node', 'koa-shop.js'));
const { get, stats } = require('./node_http.js');
// One client for both tests (a second one on the spool could not flush:
// the first holds its sender).
const client = new cashback.Client({ config: process.env.NODE_CASHBACK_E2E_CONF });

test('Koa: landing, paid through the report header, reload, refund', async () => {
  const errors = [];
  // samples/node/koa-shop.js: app.use(cashback.koa(client, options)), the
  // paid and refund pages setting X-Cashback-Event.
  const app = shop(client, { onError: (e) => errors.push(e) });
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
    r = await get(base + '/paid?order=K-1', { Cookie: pair });
    assert.strictEqual(r.status, 200);
    assert.strictEqual(r.body, 'thank you');
    assert.strictEqual(r.headers['x-cashback-event'], undefined, 'the header never reaches the browser');
    await client.flush(15000);
    let st = await stats();
    assert.strictEqual(st.accepted - before.accepted, 1, JSON.stringify(st).slice(0, 300));
    const saleId = Object.keys(st.clicks).find((id) => st.clicks[id].token === 'koa-e2e.1');
    assert.ok(saleId, 'the sale carries the request click');
    r = await get(base + '/paid?order=K-1', { Cookie: pair });
    // A sale without a click (no cookie here), which is not an event the
    // network takes: reported to onError; then the refund.
    r = await get(base + '/paid?order=K-2');
    assert.strictEqual(r.headers['x-cashback-event'], undefined);
    r = await get(base + '/refund?order=K-1');
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

// Not a shop page (samples/node/koa-shop.js reports one event a page): a
// response with two X-Cashback-Event instances, both removed and reported,
// one after the other: the sample shop's refund again (a duplicate) and a
// sale without a click (no cookie), which goes to onError.
test('Koa: two X-Cashback-Event instances in one response', async () => {
  const Koa = require('koa');
  const errors = [];
  const app = new Koa();
  app.use(cashback.koa(client, { onError: (e) => errors.push(e) }));
  app.use(async (ctx) => {
    ctx.set('X-Cashback-Event', ['type=refund;order_id=K-1;amount=10.00;currency=EUR;refund_id=CN-K-1',
      'type=sale;order_id=K-3;amount=1.00;currency=EUR']);
    ctx.body = 'two';
  });
  const server = http.createServer(app.callback());
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  try {
    const before = await stats();
    const r = await get('http://127.0.0.1:' + server.address().port + '/two');
    assert.strictEqual(r.status, 200);
    assert.strictEqual(r.headers['x-cashback-event'], undefined);
    await client.flush(15000);
    const st = await stats();
    assert.strictEqual(st.accepted - before.accepted, 0, JSON.stringify(st).slice(0, 300));
    assert.strictEqual(st.duplicates - before.duplicates, 1, 'the refund again is a duplicate');
    assert.strictEqual(errors.length, 1, errors.map(String).join('; '));
    assert.ok(errors[0] instanceof cashback.EventError, String(errors[0]));
    assert.strictEqual(errors[0].field, 'click');
  } finally {
    await new Promise((r) => server.close(r));
  }
});
