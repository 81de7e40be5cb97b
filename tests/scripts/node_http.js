'use strict';
// Shared by tests/scripts/node_e2e.js and node_express.js: a GET on
// 127.0.0.1 (10 s bound) and the test receiver's counters.
const assert = require('node:assert');
const http = require('node:http');

function get(url, headers) {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { headers: headers || {}, timeout: 10000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d) => { body += d; });
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout: ' + url)));
    req.on('error', reject);
  });
}

// GET /_stats of the receiver at NODE_CASHBACK_RECEIVER.
async function stats() {
  const r = await get(process.env.NODE_CASHBACK_RECEIVER + '/_stats');
  assert.strictEqual(r.status, 200);
  return JSON.parse(r.body);
}

module.exports = { get, stats };
