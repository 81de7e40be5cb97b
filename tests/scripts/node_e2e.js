'use strict';
// End to end (tests/scripts/node.sh starts the test receiver): the node:http
// shop of samples/node/http-shop.js on 127.0.0.1 with the package, a shopper landing with a click token,
// checkout, the thank-you page reporting the sale, a reload of it, a
// refund; flush() delivers and tests/receiver/receiver.py verifies every
// signature and counts the sale once.
// Environment: NODE_CASHBACK_E2E_CONF (the shop's config file),
// NODE_CASHBACK_RECEIVER (the receiver's base URL).
const test = require('node:test');
const assert = require('node:assert');
const http = require('node:http');
const path = require('node:path');

const cb = require(path.join(process.env.top_srcdir || path.join(__dirname, '..', '..'),
                             'plugins', 'node'));

const RECEIVER = process.env.NODE_CASHBACK_RECEIVER;
const CONF = process.env.NODE_CASHBACK_E2E_CONF;

const { get, stats } = require('./node_http.js');

// The shop: samples/node/http-shop.js, what a merchant writes with the
// package (docs/node.md). It requires 'cashback' as a shop does
// (tests/scripts/node.sh puts this package on NODE_PATH under that name).
const shop = require(path.join(process.env.top_srcdir || path.join(__dirname, '..', '..'),
                               'samples', 'node', 'http-shop.js'));

test('landing, checkout, thank-you, reload, refund against the receiver', async () => {
  assert.ok(RECEIVER && CONF, 'NODE_CASHBACK_RECEIVER and NODE_CASHBACK_E2E_CONF');
  const client = new cb.Client({ config: CONF });
  const server = shop(client);
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const base = 'http://127.0.0.1:' + server.address().port;
  try {
    const before = await stats();
    let r = await get(base + '/?utm_source=mail');
    assert.strictEqual(r.headers['set-cookie'], undefined, 'no token, no cookie');
    r = await get(base + '/?cb_click=node-e2e.1');
    const sc = (r.headers['set-cookie'] || [])[0] || '';
    assert.match(sc, /^cashback_click=1\.[^;]+; Max-Age=2592000; Path=\/; Secure; HttpOnly; SameSite=Lax$/);
    assert.strictEqual(r.headers['cache-control'], 'private');
    const pair = sc.split(';')[0];
    r = await get(base + '/checkout', { Cookie: 'theme=dark; ' + pair });
    assert.strictEqual(r.status, 302);
    r = await get(base + r.headers.location, { Cookie: pair });
    const m = /cashback event ([0-9a-f]{32})/.exec(r.body);
    assert.ok(r.status === 200 && m, r.body);
    const saleId = m[1];
    assert.strictEqual((await stats()).accepted, before.accepted, 'nothing sent before flush');
    await client.flush(15000);
    let st = await stats();
    assert.strictEqual(st.accepted - before.accepted, 1, JSON.stringify(st).slice(0, 400));
    assert.strictEqual(st.bad_signature, before.bad_signature);
    assert.ok(saleId in st.events, 'the reported sale arrived');
    assert.strictEqual(st.clicks[saleId].token, 'node-e2e.1');
    assert.strictEqual(st.clicks[saleId].source, 'cb_click');
    // A reload of the thank-you page: the same id, counted once.
    r = await get(base + '/thankyou?order=7001', { Cookie: pair });
    assert.ok(r.body.includes(saleId), r.body);
    r = await get(base + '/refund?order=7001');
    const refundId = /refund ([0-9a-f]{32})/.exec(r.body);
    assert.ok(refundId, r.body);
    await client.flush(15000);
    st = await stats();
    assert.strictEqual(st.accepted - before.accepted, 2, 'the sale once, the refund once');
    assert.strictEqual(st.duplicates - before.duplicates, 1, 'the reload is a duplicate');
    assert.ok(refundId[1] in st.events, 'the refund arrived');
    assert.strictEqual(st.bad_signature, before.bad_signature);
  } finally {
    await new Promise((r) => server.close(r));
  }
});

// A config of its own for a child process: the same shop with its own spool
// (the test process's client holds the shared spool's sender lock).
function ownConf(name) {
  const fs = require('node:fs');
  const os = require('node:os');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cashback-node-' + name + '-'));
  const file = path.join(dir, 'cashback.conf');
  fs.writeFileSync(file, fs.readFileSync(CONF, 'utf8') + '\nspool_dir = ' +
                   path.join(dir, 'spool') + '\n', { mode: 0o600 });
  return { file, dir };
}

function runNode(args, env) {
  const { spawn } = require('node:child_process');
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, args, { env: Object.assign({}, process.env, env),
      stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    p.stdout.on('data', (d) => { out += d; });
    p.stderr.on('data', (d) => { out += d; });
    const t = setTimeout(() => p.kill('SIGKILL'), 30000);
    p.on('error', reject);
    p.on('close', (code) => { clearTimeout(t); resolve({ code, out }); });
  });
}

const PKG = JSON.stringify(path.join(process.env.top_srcdir || path.join(__dirname, '..', '..'),
                                     'plugins', 'node'));

test('worker_threads: each worker its own client; both sales arrive', async () => {
  const before = await stats();
  const script = `
    const { Worker, isMainThread, workerData, parentPort } = require('node:worker_threads');
    const cb = require(${PKG});
    if (isMainThread) {
      const done = [0, 1].map((n) => new Promise((resolve, reject) => {
        const w = new Worker(process.env.NODE_CASHBACK_SCRIPT, { workerData: n });
        let id;
        w.on('message', (m) => { id = m; });
        w.on('error', reject);
        w.on('exit', (code) => (code === 0 ? resolve(id) : reject(new Error('exit ' + code))));
      }));
      Promise.all(done).then(async (ids) => {
        const c = new cb.Client({ config: process.env.NODE_CASHBACK_E2E_CONF });
        await c.flush(15000);
        console.log('ids ' + ids.join(' '));
      }).catch((e) => { console.error(e); process.exitCode = 1; });
    } else {
      const c = new cb.Client({ config: process.env.NODE_CASHBACK_E2E_CONF });
      c.sale({ orderId: 'W-' + workerData, currency: 'EUR', amount: '5.00', clickToken: 'tok-w' })
        .then((id) => parentPort.postMessage(id));
    }`;
  const own = ownConf('workers');
  const file = path.join(own.dir, 'workers.js');
  require('node:fs').writeFileSync(file, script);
  const r = await runNode([file], { NODE_CASHBACK_SCRIPT: file,
    NODE_CASHBACK_E2E_CONF: own.file });
  require('node:fs').rmSync(own.dir, { recursive: true, force: true });
  assert.strictEqual(r.code, 0, r.out);
  const m = /ids ([0-9a-f]{32}) ([0-9a-f]{32})/.exec(r.out);
  assert.ok(m, r.out);
  const st = await stats();
  assert.strictEqual(st.accepted - before.accepted, 2, JSON.stringify(st).slice(0, 300));
  assert.ok(m[1] in st.events && m[2] in st.events);
});

// A child process with the sender running (exitFlushMs 5000) that reports
// one sale and ends at once: the event loop has nothing left to do.
function saleThenExit(orderId) {
  return `
    const cb = require(${PKG});
    const c = new cb.Client({ config: process.env.NODE_CASHBACK_E2E_CONF, sender: true,
                              exitFlushMs: 5000 });
    c.sale({ orderId: '${orderId}', currency: 'EUR', amount: '5.00', clickToken: 'tok-x' })
      .then((id) => console.log('id ' + id));`;
}

test('the process ends right after a sale: the sender delivers it on the way out', async () => {
  const before = await stats();
  const script = saleThenExit('X-1');
  const own = ownConf('exit');
  const t0 = Date.now();
  const r = await runNode(['-e', script], { NODE_CASHBACK_E2E_CONF: own.file });
  require('node:fs').rmSync(own.dir, { recursive: true, force: true });
  assert.strictEqual(r.code, 0, r.out);
  assert.ok(Date.now() - t0 < 15000, 'the exit is bounded');
  const m = /id ([0-9a-f]{32})/.exec(r.out);
  assert.ok(m, r.out);
  const st = await stats();
  assert.strictEqual(st.accepted - before.accepted, 1, JSON.stringify(st).slice(0, 300));
  assert.ok(m[1] in st.events);
});

// A receiver that holds each request `ms` before passing it on to the test
// receiver, and drops it when the client has gone meanwhile (nothing
// recorded, as a network that never got the batch). Started on 127.0.0.1.
async function delayingProxy(ms) {
  const target = new URL(RECEIVER);
  const seen = { held: 0, passed: 0, dropped: 0 };
  let closed = false;
  const server = http.createServer((req, res) => {
    const chunks = [];
    let gone = false;
    res.on('close', () => { if (!res.writableFinished) gone = true; });
    req.on('data', (d) => chunks.push(d));
    req.on('end', () => {
      seen.held++;
      setTimeout(() => {
        if (closed || gone || req.socket.destroyed) { seen.dropped++; return; }
        seen.passed++;
        const body = Buffer.concat(chunks);
        const headers = Object.assign({}, req.headers, { host: target.host,
          'content-length': String(body.length) });
        const up = http.request({ host: target.hostname, port: target.port, path: req.url,
          method: req.method, headers }, (ur) => {
          res.writeHead(ur.statusCode, ur.headers);
          ur.pipe(res);
        });
        up.on('error', () => { res.destroy(); });
        up.end(body);
      }, ms);
    });
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  // close(): no held request is passed on any more (none reaches a later test).
  const close = () => { closed = true; return new Promise((r) => server.close(r)); };
  return { close, seen, port: server.address().port };
}

test('the first delivery held 1.5 s, the process ends at once: the exit flush waits for it', async () => {
  const before = await stats();
  const proxy = await delayingProxy(1500);
  const script = saleThenExit('X-2');
  const own = ownConf('exit-held');
  const fs = require('node:fs');
  fs.appendFileSync(own.file, 'endpoint = http://127.0.0.1:' + proxy.port + '/v1/events\n');
  const t0 = Date.now();
  let r;
  try {
    r = await runNode(['-e', script], { NODE_CASHBACK_E2E_CONF: own.file });
  } finally {
    await proxy.close();
    fs.rmSync(own.dir, { recursive: true, force: true });
  }
  const took = Date.now() - t0;
  assert.strictEqual(r.code, 0, r.out);
  assert.ok(took < 15000, 'the exit is bounded');
  const m = /id ([0-9a-f]{32})/.exec(r.out);
  assert.ok(m, r.out);
  assert.ok(proxy.seen.held >= 1, 'the sender tried before the process ended');
  const st = await stats();
  assert.strictEqual(st.accepted - before.accepted, 1,
    'exit after ' + took + ' ms, proxy ' + JSON.stringify(proxy.seen) + ': ' +
    JSON.stringify(st).slice(0, 300));
  assert.ok(m[1] in st.events);
});
