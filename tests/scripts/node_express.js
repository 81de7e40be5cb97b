'use strict';
// End to end with a real Express (pinned by plugins/node/test/express/
// package-lock.json; tests/scripts/node.sh installs it with npm ci and
// starts the test receiver): the shop of samples/node/express-shop.js,
// app.use(cashback.express(client)), landing
// -> checkout -> paid (await req.cashback.sale) -> reload -> refund, each
// delivered by flush() and verified by tests/receiver/receiver.py.
// Environment: NODE_CASHBACK_E2E_CONF, NODE_CASHBACK_RECEIVER, NODE_PATH
// (with express and cashback).
const test = require('node:test');
const assert = require('node:assert');
const http = require('node:http');
const path = require('node:path');

const top = process.env.top_srcdir || path.join(__dirname, '..', '..');
const cashback = require(path.join(top, 'plugins', 'node'));
// The shop requires 'express' and 'cashback' as a shop does (node.sh puts
// both on NODE_PATH).
const shop = require(path.join(top, 'samples', 'node', 'express-shop.js'));

const { get, stats } = require('./node_http.js');

test('Express: landing, checkout, paid, reload, refund', async () => {
  const client = new cashback.Client({ config: process.env.NODE_CASHBACK_E2E_CONF });
  // samples/node/express-shop.js: app.use(cashback.express(client)), the
  // handle kept at checkout, await req.cashback.sale when paid.
  const app = shop(client);
  const server = http.createServer(app);
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const base = 'http://127.0.0.1:' + server.address().port;
  try {
    const before = await stats();
    let r = await get(base + '/?cb_click=express-e2e.1');
    const sc = (r.headers['set-cookie'] || [])[0] || '';
    assert.match(sc, /^cashback_click=1\.[^;]+; Max-Age=2592000; Path=\/; Secure; HttpOnly; SameSite=Lax$/);
    assert.strictEqual(r.headers['cache-control'], 'private');
    const pair = sc.split(';')[0];
    r = await get(base + '/checkout', { Cookie: 'lang=fr; ' + pair });
    assert.strictEqual(r.status, 302);
    r = await get(base + '/paid?order=E-9001');
    const m = /cashback event ([0-9a-f]{32})/.exec(r.body);
    assert.ok(r.status === 200 && m, r.body);
    await client.flush(15000);
    let st = await stats();
    assert.strictEqual(st.accepted - before.accepted, 1, JSON.stringify(st).slice(0, 300));
    assert.strictEqual(st.clicks[m[1]].token, 'express-e2e.1');
    r = await get(base + '/paid?order=E-9001', { Cookie: pair });
    assert.ok(r.body.includes(m[1]), 'a reload is the same event');
    r = await get(base + '/refund?order=E-9001');
    const rf = /refund ([0-9a-f]{32})/.exec(r.body);
    assert.ok(rf, r.body);
    await client.flush(15000);
    st = await stats();
    assert.strictEqual(st.accepted - before.accepted, 2, 'the sale once, the refund once');
    assert.strictEqual(st.duplicates - before.duplicates, 1);
    assert.strictEqual(st.bad_signature, before.bad_signature);
  } finally {
    await new Promise((r) => server.close(r));
  }
});
