'use strict';
// A Koa shop with the cashback package (docs/node.md): the middleware
// captures the click, and a page reports an event by setting an
// X-Cashback-Event header (docs/events.md), which the middleware removes
// and reports, with the request's click, before Koa writes the response.
// The lines the merchant adds for cashback end with `// cashback`.
//
//   npm install koa /path/to/cashback-<version>.tgz
//   CASHBACK_CONFIG=/etc/shop/cashback.conf PORT=3000 node koa-shop.js
//
// tests/scripts/node_koa.js runs this shop (shop(client, options)) against
// the test receiver.
const http = require('node:http');
const Koa = require('koa');
const cashback = require('cashback'); // cashback

function shop(client, options) {
  const app = new Koa();
  app.use(cashback.koa(client, options)); // cashback
  app.use(async (ctx) => {
    // A real shop takes the order from its database; never put a raw
    // query parameter into the event text.
    const order = /^[A-Za-z0-9-]{1,32}$/.test(ctx.query.order || '') ? ctx.query.order : null;
    if ((ctx.path === '/paid' || ctx.path === '/refund') && !order) {
      ctx.status = 404;
      ctx.body = 'no such order';
    } else if (ctx.path === '/paid') {
      ctx.set('X-Cashback-Event', 'type=sale;order_id=' + order + ';amount=49.90;currency=EUR'); // cashback
      ctx.body = 'thank you';
    } else if (ctx.path === '/refund') {
      ctx.set('X-Cashback-Event', 'type=refund;order_id=' + order + // cashback
        ';amount=10.00;currency=EUR;refund_id=CN-' + order); // cashback
      ctx.body = 'refunded';
    } else {
      ctx.body = 'landing';
    }
  });
  return app;
}

if (require.main === module) {
  // CASHBACK_CONFIG or CASHBACK_CONNECTION; the sender delivers in the background.
  const client = new cashback.Client({ sender: true }); // cashback
  const onError = (err) => console.error('cashback: ' + err.message); // cashback
  const port = Number(process.env.PORT) || 3000;
  http.createServer(shop(client, { onError }).callback()).listen(port, '127.0.0.1',
    () => console.log('koa shop on http://127.0.0.1:' + port + '/'));
}

module.exports = shop;
