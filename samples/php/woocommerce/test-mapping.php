<?php
/*
 * Tests the WooCommerce sample WITHOUT WordPress or WooCommerce, which cannot
 * run here: WC_Order, WC_Order_Refund, their items and the few WordPress
 * functions the plugin calls are FAKES below, with the same getters. They
 * check the mapping (cashback-mapping.php) and the hook wiring
 * (cashback-woocommerce.php) against the real cashback extension, whose
 * default client php.ini points at a test spool (tests/scripts/php.sh).
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
function wc_get_order($id) { return $GLOBALS['orders'][$id] ?? false; }
function wc_get_price_decimals(): int { return 2; }
function as_schedule_single_action(int $when, string $hook, array $args): int
{
    $GLOBALS['scheduled'][] = [$when, $hook, $args];
    return count($GLOBALS['scheduled']);
}

/* ---- checks ----------------------------------------------------------- */
$passed = $failed = 0;
function check(bool $ok, string $what, $detail = null): void
{
    global $passed, $failed;
    if ($ok) {
        $passed++;
        echo "ok - $what\n";
    } else {
        $failed++;
        echo "FAIL - $what ", $detail === null ? '' : json_encode($detail), "\n";
    }
}

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

// The plugin's hooks, fired as WooCommerce would.
require __DIR__ . '/cashback-woocommerce.php';
$before = Cashback\status()['queued_events'];
$new = new FakeOrder(1002, [new FakeItem('Mug', 1, '12.50', 11, new FakeProduct('MUG-1'))]);
$orders[1002] = $new;
$orders[3001] = new FakeRefund(3001, '-12.50', '0', '0');
$_COOKIE = ['cashback_click' => explode('=', explode(';', Cashback\capture('cb_click=wc-land.1', send: false))[0], 2)[1]];
do_action('woocommerce_checkout_create_order', $new, []);
check(explode('.', $new->get_meta('_cashback_click'), 5)[4] === 'wc-land.1', 'checkout keeps the click (its handle) from the cookie');
do_action('woocommerce_payment_complete', 1002);
do_action('woocommerce_payment_complete', 1002);           // fired twice: same id
do_action('woocommerce_order_refunded', 1002, 3001);
do_action('woocommerce_order_status_cancelled', 1002);
do_action('woocommerce_order_status_completed', 1002);
check(count($scheduled) === 1 && $scheduled[0][1] === 'cashback_wc_confirm' && $scheduled[0][0] >= time() + 29 * 86400,
      'completed schedules the confirmation after the return window', $scheduled);
do_action('cashback_wc_confirm', 1002);
check(Cashback\status()['queued_events'] - $before === 5, 'the hooks spooled sale, sale again, refund, cancel, confirm');
// An order from elsewhere (no click) is not reported, and a bad one only logs.
$orders[1003] = new FakeOrder(1003, [new FakeItem('Mug', 1, '12.50', 11, null)]);
do_action('woocommerce_payment_complete', 1003);
$bad = new FakeOrder(1004, [new FakeItem('Mug', 1, '12.50', 11, null)], [], 'XXX');
$bad->update_meta_data('_cashback_click', 'wc-tok.2');
$orders[1004] = $bad;
ini_set('error_log', sys_get_temp_dir() . '/wc-errors.log');
do_action('woocommerce_payment_complete', 1004);
check(Cashback\status()['queued_events'] - $before === 5, 'no event for an order without a click, nor for a bad one');
check(str_contains((string)@file_get_contents(sys_get_temp_dir() . '/wc-errors.log'),
                   'cashback: sale of order 1004 not reported: 9 '), 'the bad order is logged with its status code');

echo "$passed passed, $failed failed\n";
exit($failed ? 1 : 0);
