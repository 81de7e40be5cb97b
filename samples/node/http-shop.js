'use strict';
// A plain node:http shop with the cashback package (docs/node.md): the
// landing page captures the click (a cookie), checkout keeps the click's
// handle with the order, the thank-you page reports the sale (a reload
// reports the same event), /refund a partial refund. The lines the
// merchant adds for cashback end with `// cashback`.
//
//   npm install /path/to/cashback-<version>.tgz
//   CASHBACK_CONFIG=/etc/shop/cashback.conf PORT=3000 node http-shop.js
//
// tests/scripts/node_e2e.js runs this shop (shop(client)) against the test
// receiver.
const http = require('node:http');
const cashback = require('cashback'); // cashback

function cookies(req) {
  const out = {};
  for (const part of (req.headers.cookie || '').split(';')) {
    const i = part.indexOf('=');
    if (i > 0) out[part.slice(0, i).trim()] = part.slice(i + 1).trim();
  }
  return out;
}

function shop(client) {
  const orders = new Map(); // a real shop keeps its orders in its database
  let next = 7001;
  return http.createServer(async (req, res) => {
    try {
      const url = new URL(req.url, 'http://shop');
      const c = client.capture(req.url); // cashback
      if (c) { // cashback
        res.setHeader('Set-Cookie', c.name + '=' + c.value + '; Max-Age=' + c.maxAge + // cashback
          '; Path=' + c.path + '; Secure; HttpOnly; SameSite=' + c.sameSite); // cashback
        res.setHeader('Cache-Control', 'private'); // cashback
      } // cashback
      if (url.pathname === '/checkout') {
        const id = String(next++);
        const click = client.click(cookies(req)[client.cookieName]); // cashback
        orders.set(id, { click: click && click.handle, // cashback
          items: [{ sku: 'TEA', quantity: 2, unitPrice: '24.95' }] });
        res.writeHead(302, { Location: '/thankyou?order=' + id });
        res.end();
      } else if (url.pathname === '/thankyou') {
        const id = url.searchParams.get('order');
        const order = orders.get(id);
        if (!order) { res.writeHead(404); res.end('no such order\n'); return; }
        const ev = await client.sale({ orderId: id, currency: 'EUR', amount: '49.90', // cashback
          click: order.click, items: order.items }); // cashback
        res.end('thank you, cashback event ' + ev + '\n');
      } else if (url.pathname === '/refund') {
        const id = url.searchParams.get('order');
        if (!orders.has(id)) { res.writeHead(404); res.end('no such order\n'); return; }
        const ev = await client.refund({ orderId: id, currency: 'EUR', amount: '24.95', // cashback
          refundId: 'CN-' + id, reason: 'returned' }); // cashback
        res.end('refund ' + ev + '\n');
      } else {
        res.end('landing\n');
      }
    } catch (e) {
      res.writeHead(500);
      res.end(String(e && e.message) + '\n');
    }
  });
}

if (require.main === module) {
  // CASHBACK_CONFIG or CASHBACK_CONNECTION; the sender delivers in the background.
  const client = new cashback.Client({ sender: true }); // cashback
  const port = Number(process.env.PORT) || 3000;
  shop(client).listen(port, '127.0.0.1',
    () => console.log('http shop on http://127.0.0.1:' + port + '/'));
}

module.exports = shop;
