'use strict';
// An Express shop with the cashback package (docs/node.md): the landing
// page captures the click, checkout keeps it with the order, the paid page
// reports the sale, /refund a partial refund. The lines the merchant adds
// for cashback end with `// cashback`.
//
//   npm install express /path/to/cashback-<version>.tgz
//   CASHBACK_CONFIG=/etc/shop/cashback.conf PORT=3000 node express-shop.js
//
// tests/scripts/node_express.js runs this shop (shop(client)) against the
// test receiver.
const http = require('node:http');
const express = require('express');
const cashback = require('cashback'); // cashback

function shop(client, options) {
  const orders = new Map(); // a real shop keeps its orders in its database
  let next = 9001;
  const app = express();
  app.use(cashback.express(client, options)); // cashback

  app.get('/', (req, res) => res.send('landing'));

  app.get('/checkout', (req, res) => {
    const id = 'E-' + next++;
    orders.set(id, { amount: '49.90',
      click: req.cashback.click && req.cashback.click.handle }); // cashback
    res.redirect('/paid?order=' + id);
  });

  app.get('/paid', async (req, res, fail) => {
    try {
      const order = orders.get(req.query.order);
      if (!order) return res.status(404).send('no such order');
      const id = await req.cashback.sale({ orderId: req.query.order, currency: 'EUR', // cashback
        amount: order.amount, click: order.click }); // cashback
      res.send('thank you, cashback event ' + id);
    } catch (e) { fail(e); }
  });

  app.get('/refund', async (req, res, fail) => {
    try {
      if (!orders.has(req.query.order)) return res.status(404).send('no such order');
      const id = await req.cashback.refund({ orderId: req.query.order, currency: 'EUR', // cashback
        amount: '10.00', refundId: 'CN-' + req.query.order }); // cashback
      res.send('refund ' + id);
    } catch (e) { fail(e); }
  });
  return app;
}

if (require.main === module) {
  // CASHBACK_CONFIG or CASHBACK_CONNECTION; the sender delivers in the background.
  const client = new cashback.Client({ sender: true }); // cashback
  const onError = (err) => console.error('cashback: ' + err.message); // cashback
  const port = Number(process.env.PORT) || 3000;
  http.createServer(shop(client, { onError })).listen(port, '127.0.0.1',
    () => console.log('express shop on http://127.0.0.1:' + port + '/'));
}

module.exports = shop;
