'use strict';
// cluster (tests/scripts/node.sh starts the test receiver): a primary with
// 3 workers sharing one port and one spool, each worker a client of its
// own; 200 orders paid under load while workers are killed with SIGKILL
// (the primary forks new ones); a request that fails is retried as a
// payment provider retries a webhook. Then every order's sale has arrived
// exactly once: one accepted event per order, nothing else.
// Environment: NODE_CASHBACK_E2E_CONF, NODE_CASHBACK_RECEIVER.
const test = require('node:test');
const assert = require('node:assert');
const path = require('node:path');
const fs = require('node:fs');
const os = require('node:os');
const { spawn } = require('node:child_process');

const top = process.env.top_srcdir || path.join(__dirname, '..', '..');
const cashback = require(path.join(top, 'plugins', 'node'));
const { get, stats } = require('./node_http.js');

const SHOP = `
const cluster = require('node:cluster');
const http = require('node:http');
const cashback = require(${JSON.stringify(path.join(top, 'plugins', 'node'))});
if (cluster.isPrimary) {
  let stopping = false;
  for (let i = 0; i < 3; i++) cluster.fork();
  cluster.on('exit', (w) => { if (!stopping) cluster.fork(); });
  cluster.on('listening', (w, addr) => { if (!process.env.PORT_SENT) {
    process.env.PORT_SENT = '1'; console.log('port ' + addr.port); } });
  process.on('message', () => {});
  process.stdin.on('data', (d) => {
    const cmd = String(d).trim();
    if (cmd === 'kill') {
      const ids = Object.keys(cluster.workers);
      const w = cluster.workers[ids[0]];
      if (w) { process.kill(w.process.pid, 'SIGKILL'); console.log('killed ' + w.process.pid); }
    } else if (cmd === 'stop') {
      stopping = true;
      for (const w of Object.values(cluster.workers)) w.kill();
      setTimeout(() => process.exit(0), 500);
    }
  });
} else {
  const client = new cashback.Client({ config: process.env.NODE_CASHBACK_E2E_CONF });
  http.createServer(async (req, res) => {
    const order = new URL(req.url, 'http://x').searchParams.get('order');
    try {
      const id = await client.sale({ orderId: order, currency: 'EUR', amount: '9.90',
        clickToken: 'cluster-tok' });
      res.end('id ' + id);
    } catch (e) { res.writeHead(503); res.end(String(e.message)); }
  }).listen(Number(process.env.SHOP_PORT || 0), '127.0.0.1');
}
`;

test('cluster: workers killed -9 under load, every order arrives exactly once', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cashback-node-cluster-'));
  const file = path.join(dir, 'shop.js');
  fs.writeFileSync(file, SHOP);
  // A fixed port (workers forked later must listen on the same one).
  const port = 20000 + Math.floor(Math.random() * 20000);
  const shop = spawn(process.execPath, [file], { env: Object.assign({}, process.env,
    { SHOP_PORT: String(port) }), stdio: ['pipe', 'pipe', 'inherit'] });
  let out = '';
  shop.stdout.on('data', (d) => { out += d; });
  try {
    const t0 = Date.now();
    while (!/port \d+/.test(out)) {
      assert.ok(Date.now() - t0 < 15000, 'the cluster did not start: ' + out);
      await new Promise((r) => setTimeout(r, 50));
    }
    const before = await stats();
    const N = 200;
    const ids = new Map();
    let retries = 0;
    const pay = async (i) => {
      for (let attempt = 0; attempt < 50; attempt++) {
        try {
          const r = await get('http://127.0.0.1:' + port + '/paid?order=CL-' + i);
          const m = /^id ([0-9a-f]{32})$/.exec(r.body);
          if (r.status === 200 && m) { ids.set(i, m[1]); return; }
        } catch (e) { /* the worker died mid-request */ }
        retries++;
        await new Promise((r) => setTimeout(r, 50));
      }
      throw new Error('order CL-' + i + ' never paid');
    };
    const killer = (async () => {
      for (let k = 0; k < 6; k++) {
        await new Promise((r) => setTimeout(r, 30));
        shop.stdin.write('kill\n');
      }
    })();
    const queue = Array.from({ length: N }, (_, i) => i);
    await Promise.all(Array.from({ length: 6 }, async () => {
      while (queue.length) await pay(queue.shift());
    }));
    await killer;
    assert.strictEqual(new Set(ids.values()).size, N, 'one id per order');
    assert.ok((out.match(/killed /g) || []).length >= 1, 'workers were killed: ' + out);
    // Deliver everything spooled, the killed workers' segments too.
    const client = new cashback.Client({ config: process.env.NODE_CASHBACK_E2E_CONF });
    for (let i = 0; i < 10; i++) {
      try { await client.flush(10000); break; } catch (e) {
        if (i === 9) throw e;
        await new Promise((r) => setTimeout(r, 500));
      }
    }
    const st = await stats();
    const got = [...ids.values()].filter((id) => st.events[id] >= 1).length;
    assert.strictEqual(got, N, 'every paid order arrived');
    assert.strictEqual(st.accepted - before.accepted, N, 'exactly once each: ' +
      (st.accepted - before.accepted) + ' accepted for ' + N + ' orders (' + retries + ' retries)');
    assert.strictEqual(st.bad_signature, before.bad_signature);
    console.log('cluster: ' + N + ' orders, ' + (out.match(/killed /g) || []).length +
      ' workers killed -9, ' + retries + ' retried requests, ' +
      (st.duplicates - before.duplicates) + ' duplicates counted once');
  } finally {
    shop.stdin.write('stop\n');
    await new Promise((r) => { shop.on('close', r); setTimeout(() => { shop.kill('SIGKILL'); r(); }, 3000); });
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
