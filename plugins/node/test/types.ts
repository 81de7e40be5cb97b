// Compiled by `tsc --strict --noEmit` (tests/scripts/node.sh): the shop's
// lines of docs/node.md against index.d.ts. Never run.
import * as cashback from '..';

async function shop(url: string, cookie: string | undefined): Promise<void> {
  const client = new cashback.Client({ config: '/etc/shop/cashback.conf', sender: true });
  const c: cashback.ClickCookie | null = client.capture(url);
  if (c) {
    const o: cashback.ExpressCookieOptions = c.expressOptions;
    void o.maxAge;
  }
  const handle: string | undefined = client.click(cookie)?.handle;
  const id: string = await client.sale({ orderId: '1001', currency: 'EUR', amount: '49.90',
    click: handle, items: [{ sku: 'A', quantity: 2, unitPrice: '19.95' }, 'B:1:10.00'],
    vouchers: ['WELCOME10'], orderTime: new Date(), meta: { channel: 'web' }, test: true });
  await client.refund({ orderId: '1001', currency: 'EUR', amountMinor: 1000n, refundId: 'CN-1' });
  await client.cancel({ orderId: '1002', reason: 'fraud' });
  await client.confirm({ orderId: '1001' });
  try {
    await client.flush(5000);
  } catch (e) {
    if (e instanceof cashback.EventError) {
      const k: string = e.key;
      void k;
    } else if (e instanceof cashback.CashbackError) {
      const s: number = e.status;
      void s;
    }
  }
  const mw = cashback.express(client, { onError: (e) => void e.message });
  const req: { url: string; headers: { cookie?: string }; cashback?: cashback.RequestCashback } =
    { url, headers: { cookie } };
  mw(req, { getHeader: () => undefined, setHeader: () => undefined }, () => undefined);
  if (req.cashback) await req.cashback.sale({ orderId: '1003', currency: 'EUR', amount: '5' });
  const k: cashback.Click | null = client.clickFromHeader(cookie);
  const rid: string = await client.reportText('type=confirm;order_id=1001', k);
  void rid;
  void cashback.koa(client, { failure: 'fail' });
  void k;
  await client.close();
  void id;
  void cashback.version;
  void cashback.STATUS.E_AMOUNT;
}
void shop;
