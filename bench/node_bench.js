'use strict';
// The event loop's delay while the package reports a burst of sales
// (bench/node.sh; docs/node.md): perf_hooks.monitorEventLoopDelay at 1 ms
// resolution during N concurrent sale() calls (each an fdatasync on the
// libuv pool), then during the same number of synchronous fdatasyncs on
// the main thread (what a report that blocked the loop would cost), and
// idle. Prints one line per case: p50, p99 and max delay in ms, the time
// and the rate. Usage: node node_bench.js CONF N
const { monitorEventLoopDelay } = require('node:perf_hooks');
const fs = require('node:fs');
const path = require('node:path');
const cb = require(path.join(__dirname, '..', 'plugins', 'node'));

const [conf, nArg] = process.argv.slice(2);
const N = Number(nArg || 1000);

async function measure(name, body, count) {
  const h = monitorEventLoopDelay({ resolution: 1 });
  h.enable();
  const t0 = process.hrtime.bigint();
  await body();
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  h.disable();
  const f = (v) => (v / 1e6).toFixed(2);
  console.log(`${name.padEnd(32)} p50 ${f(h.percentile(50)).padStart(7)} ms` +
    `  p99 ${f(h.percentile(99)).padStart(7)} ms  max ${f(h.max).padStart(8)} ms` +
    `  ${ms.toFixed(0).padStart(6)} ms` +
    (count ? ` for ${count}  (${(count / ms * 1000).toFixed(0)}/s)` : ''));
}

(async () => {
  const client = new cb.Client({ config: conf });
  await measure('idle (setTimeout ' + Math.max(50, N / 10) + ' ms)',
    () => new Promise((r) => setTimeout(r, Math.max(50, N / 10))), 0);
  await measure('sale() x N at once (pool)', () => Promise.all(
    Array.from({ length: N }, (_, i) => client.sale({ orderId: 'B-' + i,
      currency: 'EUR', amount: '49.90', clickToken: 'bench-tok' }))), N);
  await measure('sale() x N one after another', async () => {
    for (let i = 0; i < N; i++)
      await client.sale({ orderId: 'C-' + i, currency: 'EUR', amount: '49.90',
        clickToken: 'bench-tok' });
  }, N);
  const dir = fs.mkdtempSync(path.join(require('node:os').tmpdir(), 'cb-bench-'));
  const fd = fs.openSync(path.join(dir, 'f'), 'w');
  await measure('baseline: fdatasync x N on loop', async () => {
    const buf = Buffer.alloc(400, 'x');
    for (let i = 0; i < N; i++) {
      fs.writeSync(fd, buf);
      fs.fdatasyncSync(fd);
      if (i % 50 === 49) await new Promise((r) => setImmediate(r));
    }
  }, N);
  fs.closeSync(fd);
  fs.rmSync(dir, { recursive: true, force: true });
})().catch((e) => { console.error(e); process.exit(1); });
