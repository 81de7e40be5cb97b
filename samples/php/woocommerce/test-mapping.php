<?php
/*
 * Tests the WooCommerce plugin's mapping WITHOUT WordPress or WooCommerce,
 * which cannot run here: WC_Order, WC_Order_Refund and their items are
 * FAKES below, with the same getters. They check the mapping
 * (cashback-mapping.php) against the real cashback extension, whose default
 * client php.ini points at a test spool (tests/scripts/php.sh and
 * tests/scripts/woocommerce.sh run it), and that a report that fails is
 * logged with error_log() when WooCommerce's logger is not there. The hooks
 * are tested against stubs of WooCommerce in tests/test-plugin.php.
 * Prints "N passed, N failed".
 */

define('ABSPATH', __DIR__);

/* ---- fakes ------------------------------------------------------------ */
final class FakeProduct
{
    public function __construct(private string $sku) {}
    public function get_sku(): string { return $this->sku; }
}

final class FakeItem
{
    public function __construct(private string $name, private int $qty, private $total,
                                private int $product_id, private ?FakeProduct $product) {}
    public function get_name(): string { return $this->name; }
    public function get_quantity(): int { return $this->qty; }
    public function get_total() { return $this->total; }        // float or string, as in WC
    public function get_product_id(): int { return $this->product_id; }
    public function get_product(): ?FakeProduct { return $this->product; }
}

final class FakeOrder   /* stands for WC_Order */
{
    public array $meta = [];
    public function __construct(private int $id, private array $items, private array $coupons = [],
                                private string $currency = 'EUR') {}
    public function get_id(): int { return $this->id; }
    public function get_order_number(): string { return '#' . $this->id; }
    public function get_currency(): string { return $this->currency; }
    public function get_items(): array { return $this->items; }
    public function get_coupon_codes(): array { return $this->coupons; }
    public function get_date_created(): DateTimeImmutable
    {
        return new DateTimeImmutable('2026-11-23T19:41:50+01:00');
    }
    public function get_meta(string $key) { return $this->meta[$key] ?? ''; }
    public function update_meta_data(string $key, $value): void { $this->meta[$key] = $value; }
}

final class FakeRefund  /* stands for WC_Order_Refund: totals are negative */
{
    public function __construct(private int $id, private $total, private $tax, private $shipping,
                                private string $reason = '') {}
    public function get_id(): int { return $this->id; }
    public function get_total() { return $this->total; }
    public function get_total_tax() { return $this->tax; }
    public function get_shipping_total() { return $this->shipping; }
    public function get_reason(): string { return $this->reason; }
}

$hooks = [];
$orders = [];
$scheduled = [];
function add_action(string $hook, callable $fn, int $priority = 10, int $args = 1): void
{
    $GLOBALS['hooks'][$hook][] = [$fn, $args];
}
function do_action(string $hook, ...$args): void
{
    foreach ($GLOBALS['hooks'][$hook] ?? [] as [$fn, $n]) {
        $fn(...array_slice($args, 0, $n));
    }
}
function register_deactivation_hook(string $file, callable $fn): void {}
function wc_get_order($id) { return $GLOBALS['orders'][$id] ?? false; }
function wc_get_price_decimals(): int { return 2; }
function as_schedule_single_action(int $when, string $hook, array $args): int
{
    $GLOBALS['scheduled'][] = [$when, $hook, $args];
    return count($GLOBALS['scheduled']);
}

/* ---- checks ----------------------------------------------------------- */
require __DIR__ . '/tests/check.php';

require __DIR__ . '/cashback-mapping.php';

// Money: floats and float strings become exact minor units.
check(cashback_wc_minor(74.8, 2) === 7480, 'float 74.8 -> 7480');
check(cashback_wc_minor('12.5', 2) === 1250, "string '12.5' -> 1250");
check(cashback_wc_minor(0.1 + 0.2, 2) === 30, '0.1 + 0.2 -> 30');
check(cashback_wc_minor('-10.00', 2) === -1000, "'-10.00' -> -1000");
check(cashback_wc_minor(1000, 0) === 1000, '1000 JPY -> 1000');

$mug = new FakeItem('Mug', 2, 25.0, 11, new FakeProduct('MUG-1'));
$tea = new FakeItem('Tea', 3, '10.00', 12, null);
$order = new FakeOrder(1001, [$mug, $tea], ['WELCOME10']);

check(cashback_wc_event('sale', $order) === null, 'an order without a click is not reported');
$order->update_meta_data('_cashback_click', 'wc-tok.1');
$sale = cashback_wc_event('sale', $order);
check($sale === [
    'order_id' => '1001',
    'click' => 'wc-tok.1',
    'currency' => 'EUR',
    'amount_minor' => 3500,
    'items' => [
        ['sku' => 'MUG-1', 'name' => 'Mug', 'quantity' => 2, 'price_minor' => 1250],
        ['sku' => '12', 'name' => 'Tea', 'quantity' => 3, 'price_minor' => 333],
    ],
    'vouchers' => ['WELCOME10'],
    'order_time' => 1795459310,
    'utc_offset' => 60,
    'metadata' => ['wc_order_number' => '#1001'],
], 'sale mapping', $sale);

$refund = new FakeRefund(2001, -21.9, -1.9, -5.0, 'Broken on arrival');
$r = cashback_wc_event('refund', $order, $refund);
check($r === ['order_id' => '1001', 'refund_id' => '2001', 'amount_minor' => 1500, 'currency' => 'EUR',
              'metadata' => ['reason_text' => 'Broken on arrival']], 'refund mapping (net of tax and shipping)', $r);
check(cashback_wc_event('refund', $order, new FakeRefund(2002, -4.99, 0, -4.99)) === null,
      'a shipping-only refund is not reported');
check(cashback_wc_event('cancel', $order) === ['order_id' => '1001', 'reason' => 'cancelled'], 'cancel mapping');
check(cashback_wc_event('confirm', $order) === ['order_id' => '1001'], 'confirm mapping');

// The mapped arrays are accepted by the real extension.
// (A client of its own, on the php.ini merchant, with another spool.)
$c = new Cashback\Client(ini_get('cashback.connection') ?: null,
                         (ini_get('cashback.config') ? ['config' => ini_get('cashback.config')] : [])
                         + ['spool_dir' => sys_get_temp_dir() . '/wc-mapping-spool', 'durability' => 'process']);
foreach (['sale' => $sale, 'refund' => $r] as $type => $ev) {
    try {
        check(strlen($c->$type($ev)) === 32, "the extension accepts the $type array");
    } catch (Cashback\Exception $e) {
        check(false, "the extension accepts the $type array", $e->getMessage());
    }
}

// A plain-amount refund (no tax split: the amount field alone) of an order
// whose sale was reported: its share of the net sale, capped by what is left.
final class FakeTotals   /* what the refund mapping reads of the order besides FakeOrder */
{
    public function __construct(public FakeOrder $o, public string $total, public string $refunded,
                                public string $status = 'processing') {}
    public function __call($m, $a) { return $this->o->$m(...$a); }
    public function get_total() { return $this->total; }
    public function get_total_refunded() { return $this->refunded; }
    public function get_status() { return $this->status; }
}
$order->update_meta_data(CASHBACK_WC_META_SALE_MINOR, '3500');
$t = new FakeTotals($order, '48.00', '6.00');
$r = cashback_wc_event('refund', $t, new FakeRefund(2003, '-6.00', '0', '0'));
check(($r['amount_minor'] ?? null) === 438, 'a plain 6.00 of 48.00 gross refunds 438 of the 3500 net sale', $r);
$order->update_meta_data(CASHBACK_WC_META_REFUNDS, ['2003' => 438]);
$t = new FakeTotals($order, '48.00', '48.00', 'refunded');
$r = cashback_wc_event('refund', $t, new FakeRefund(2004, '-42.00', '0', '0'));
check(($r['amount_minor'] ?? null) === 3062, 'the refund that makes it whole is what is left of the sale', $r);
$order->update_meta_data(CASHBACK_WC_META_REFUNDS, ['2003' => 438, '2004' => 3062]);
check(cashback_wc_event('refund', $t, new FakeRefund(2005, '-1.00', '0', '0')) === null, 'nothing is left: no refund');
$order->update_meta_data(CASHBACK_WC_META_REFUNDS, '');
$order->update_meta_data(CASHBACK_WC_META_SALE_MINOR, '');

// The plugin's report, without WordPress's logger: error_log, and go on.
// (The hooks themselves are tested against WooCommerce stubs in
// tests/test-plugin.php, run by tests/scripts/woocommerce.sh.)
require __DIR__ . '/cashback-woocommerce.php';
$before = Cashback\status()['queued_events'];
check(Cashback_WC::sale(new FakeOrder(1003, [new FakeItem('Mug', 1, '12.50', 11, null)])) === null,
      'an order without a click is not reported');
$bad = new FakeOrder(1004, [new FakeItem('Mug', 1, '12.50', 11, null)], [], 'XXX');
$bad->update_meta_data('_cashback_click', 'wc-tok.2');
ini_set('error_log', sys_get_temp_dir() . '/wc-errors.log');
check(Cashback_WC::sale($bad) === null, 'a bad order does not throw');
check(Cashback\status()['queued_events'] === $before, 'no event for an order without a click, nor for a bad one');
check(str_contains((string)@file_get_contents(sys_get_temp_dir() . '/wc-errors.log'),
                   'cashback: sale of order 1004 not reported: 9 '), 'the bad order is logged with its status code');

done();
