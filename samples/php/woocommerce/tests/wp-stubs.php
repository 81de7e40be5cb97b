<?php
/*
 * STUBS of WordPress, WooCommerce and Action Scheduler: WooCommerce cannot
 * run here (it is not in Debian and its dependencies come from a registry
 * this project cannot reach). What the plugin touches is rebuilt here from
 * WooCommerce's published source, with its hook names, arguments and the
 * order it fires them in:
 *  - WC_Order::status_transition() (includes/class-wc-order.php): after a
 *    save, "woocommerce_order_status_{to}" ($id, $order, $transition), then
 *    when there was a "from": "woocommerce_order_status_{from}_to_{to}"
 *    ($id, $order) and "woocommerce_order_status_changed" ($id, $from, $to,
 *    $order);
 *  - WC_Order::payment_complete(): from on-hold/pending/failed/cancelled
 *    (and checkout-draft) to processing (completed if nothing needs
 *    processing), save, then "woocommerce_payment_complete" ($id,
 *    $transaction_id);
 *  - WC_Checkout::create_order() (classic): "woocommerce_checkout_create_order"
 *    ($order, $data) before the save, "woocommerce_checkout_update_order_meta"
 *    ($order_id, $data) and "woocommerce_checkout_order_created" ($order)
 *    after it;
 *  - StoreApi\Routes\V1\Checkout (block checkout / Store API): the draft
 *    order (status checkout-draft) is created or updated from the cart, then
 *    "woocommerce_store_api_checkout_update_order_meta" ($order); on POST
 *    "woocommerce_store_api_checkout_order_processed" ($order), then the
 *    payment; a callback that throws fails the checkout;
 *  - gateways: cheque/BACS set on-hold ("woocommerce_bacs_process_payment_order_status"),
 *    COD sets processing (on-hold with downloads), a zero total calls
 *    payment_complete(), a card gateway calls payment_complete();
 *  - wc_create_refund() (includes/wc-order-functions.php): a refund of
 *    negative line items and/or a plain amount; total = -amount; when
 *    nothing is left "woocommerce_order_fully_refunded" and the order set
 *    to refunded (whose hook wc_order_fully_refunded() refunds what is
 *    left as a plain amount); then "woocommerce_refund_created" and
 *    "woocommerce_order_refunded" ($order_id, $refund_id);
 *  - wc_cancel_unpaid_orders(): pending orders created via checkout set to
 *    cancelled, "Unpaid order cancelled - time limit reached.";
 *  - before_woocommerce_init and FeaturesUtil::declare_compatibility();
 *  - Action Scheduler's as_schedule_single_action() and friends.
 * Nothing of WooCommerce's code is copied: only its observable behaviour.
 */

namespace {

define('ABSPATH', __DIR__ . '/');

/* ---- WordPress -------------------------------------------------------- */
final class WP
{
    public static array $hooks = [];
    public static array $options = [];
    public static array $transients = [];
    public static array $fired = [];
    public static bool $is_admin = false;
    public static bool $can = true;
    public static ?string $redirect = null;
    public static array $logs = [];
    public static array $menu = [];
    public static array $deactivate = [];
}

function add_action(string $hook, callable $fn, int $priority = 10, int $args = 1): bool
{
    WP::$hooks[$hook][$priority][] = [$fn, $args];
    ksort(WP::$hooks[$hook]);
    return true;
}
function add_filter(string $hook, callable $fn, int $priority = 10, int $args = 1): bool
{
    return add_action($hook, $fn, $priority, $args);
}
function do_action(string $hook, ...$args): void
{
    WP::$fired[] = $hook;
    foreach (WP::$hooks[$hook] ?? [] as $callbacks) {
        foreach ($callbacks as [$fn, $n]) {
            $fn(...array_slice($args, 0, $n));
        }
    }
}
function apply_filters(string $hook, $value, ...$args)
{
    foreach (WP::$hooks[$hook] ?? [] as $callbacks) {
        foreach ($callbacks as [$fn, $n]) {
            $value = $fn(...array_slice(array_merge([$value], $args), 0, $n));
        }
    }
    return $value;
}
function get_option(string $name, $default = false) { return WP::$options[$name] ?? $default; }
function update_option(string $name, $value, $autoload = null): bool { WP::$options[$name] = $value; return true; }
function delete_option(string $name): bool { unset(WP::$options[$name]); return true; }
function register_deactivation_hook(string $file, callable $fn): void { WP::$deactivate[$file] = $fn; }
function get_transient(string $name) { return WP::$transients[$name] ?? false; }
function set_transient(string $name, $value, int $ttl = 0): bool { WP::$transients[$name] = $value; return true; }
function delete_transient(string $name): bool { unset(WP::$transients[$name]); return true; }
function is_admin(): bool { return WP::$is_admin; }
function current_user_can(string $cap): bool { return WP::$can; }
function esc_html($t): string { return htmlspecialchars((string)$t, ENT_QUOTES); }
function esc_attr($t): string { return htmlspecialchars((string)$t, ENT_QUOTES); }
function esc_url($t): string { return (string)$t; }
function admin_url(string $path = ''): string { return 'https://shop.test/wp-admin/' . $path; }
function add_query_arg(array $args, string $url): string { return $url . '?' . http_build_query($args); }
function wp_safe_redirect(string $url): bool { WP::$redirect = $url; return true; }
function wp_nonce_field(string $action): void { echo '<input type="hidden" name="_wpnonce" value="nonce-' . $action . '">'; }
function check_admin_referer(string $action): int
{
    if (($_POST['_wpnonce'] ?? '') !== 'nonce-' . $action) {
        throw new RuntimeException("check_admin_referer($action): bad nonce");   /* wp_die() in WordPress */
    }
    return 1;
}
function wp_unslash($v) { return $v; }
function sanitize_text_field(string $t): string { return trim(preg_replace('/[\r\n\t ]+/', ' ', strip_tags($t))); }
function wp_die($message = '', $code = 500): void { throw new RuntimeException("wp_die: $message"); }
function add_submenu_page(string $parent, string $title, string $menu, string $cap, string $slug, callable $fn): string
{
    WP::$menu[$parent][$slug] = $fn;
    return $slug;
}

}

/* ---- WooCommerce -------------------------------------------------------- */
namespace Automattic\WooCommerce\Utilities {

final class FeaturesUtil
{
    public static array $declared = [];
    public static function declare_compatibility(string $feature_id, string $plugin_file, bool $positive_compatibility = true): bool
    {
        self::$declared[] = [$feature_id, $plugin_file, $positive_compatibility];
        return true;
    }
}

}

namespace Automattic\WooCommerce\StoreApi\Exceptions {

class RouteException extends \Exception {}

}

namespace {

final class WC_Logger_Stub
{
    public function error(string $message, array $context = []): void { WP::$logs[] = [$context['source'] ?? '', $message]; }
}
function wc_get_logger(): WC_Logger_Stub { static $l; return $l ??= new WC_Logger_Stub(); }
function wc_get_price_decimals(): int { return 2; }
function wc_get_is_paid_statuses(): array { return apply_filters('woocommerce_order_is_paid_statuses', ['processing', 'completed']); }

final class WC_Product_Stub
{
    public function __construct(private int $id, private string $sku, private bool $downloadable = false) {}
    public function get_id(): int { return $this->id; }
    public function get_sku(): string { return $this->sku; }
    public function is_downloadable(): bool { return $this->downloadable; }
}

/* WC_Order_Item_Product, _Shipping, _Fee: totals excluding tax. */
final class WC_Order_Item_Stub
{
    public function __construct(public int $id, public string $type, public string $name, public int $qty,
                                public $total, public $tax, public ?WC_Product_Stub $product = null) {}
    public function get_id(): int { return $this->id; }
    public function get_type(): string { return $this->type; }
    public function is_type(string $t): bool { return $t === $this->type; }
    public function get_name(): string { return $this->name; }
    public function get_quantity(): int { return $this->qty; }
    public function get_total() { return $this->total; }
    public function get_total_tax() { return $this->tax; }
    public function get_product_id(): int { return $this->product ? $this->product->get_id() : 0; }
    public function get_product(): ?WC_Product_Stub { return $this->product; }
}

abstract class WC_Abstract_Order_Stub
{
    public static int $next_id = 1000;
    public static array $store = [];          /* id => object: the "database" */
    protected int $id = 0;
    public array $meta = [];                  /* saved meta */
    protected array $meta_changes = [];
    protected array $items = [];
    public string $currency = 'EUR';
    protected string $status = 'pending';

    public function get_id(): int { return $this->id; }
    public function get_currency(): string { return $this->currency; }
    public function get_status(): string { return $this->status; }
    public function has_status($s): bool { return in_array($this->status, (array)$s, true); }
    public function get_meta(string $key = '', bool $single = true, string $context = 'view')
    {
        return array_key_exists($key, $this->meta_changes) ? $this->meta_changes[$key] : ($this->meta[$key] ?? '');
    }
    public function update_meta_data(string $key, $value, $meta_id = 0): void { $this->meta_changes[$key] = $value; }
    /* WC_Data::save_meta_data(): writes the meta only; needs an id. */
    public function save_meta_data(): void
    {
        if ($this->id === 0) {
            throw new LogicException('save_meta_data() on an unsaved object');
        }
        $this->meta = $this->meta_changes + $this->meta;
        $this->meta_changes = [];
    }
    public function add_item(WC_Order_Item_Stub $item): void { $this->items[$item->id] = $item; }
    public function get_items($types = 'line_item'): array
    {
        return array_filter($this->items, fn($i) => in_array($i->type, (array)$types, true));
    }
    public function get_total_tax()
    {
        return array_sum(array_map(fn($i) => (float)$i->tax, $this->items));
    }
    public function get_shipping_total()
    {
        return array_sum(array_map(fn($i) => (float)$i->total, $this->get_items('shipping')));
    }
    public function save(): int
    {
        if ($this->id === 0) {
            $this->id = ++self::$next_id;
            self::$store[$this->id] = $this;
            $this->save_meta_data();
            do_action('woocommerce_new_order', $this->id, $this);
        } else {
            $this->save_meta_data();
        }
        return $this->id;
    }
}

final class WC_Order extends WC_Abstract_Order_Stub
{
    public string $created_via = 'checkout';
    public string $payment_method = '';
    private $transition = false;
    private ?DateTimeImmutable $created;
    private array $coupons = [];

    public function __construct(array $lines = [], array $coupons = [], $shipping = 0, $shipping_tax = 0,
                                $tax_rate = 0.0, $fee = 0)
    {
        $n = 1;
        foreach ($lines as [$name, $qty, $total, $sku]) {
            $this->add_item(new WC_Order_Item_Stub($n++, 'line_item', $name, $qty, $total, round($total * $tax_rate, 2),
                                                   new WC_Product_Stub(100 + $n, $sku)));
        }
        if ($shipping) {
            $this->add_item(new WC_Order_Item_Stub($n++, 'shipping', 'Flat rate', 1, $shipping, $shipping_tax));
        }
        if ($fee) {
            $this->add_item(new WC_Order_Item_Stub($n++, 'fee', 'Gift wrap', 1, $fee, 0));
        }
        $this->coupons = $coupons;
        $this->created = new DateTimeImmutable('2026-11-23T19:41:50+01:00');
    }
    public function get_order_number(): string { return (string)$this->id; }
    public function get_coupon_codes(): array { return $this->coupons; }
    public function get_date_created(): ?DateTimeImmutable { return $this->created; }
    public function get_created_via(): string { return $this->created_via; }
    public function get_payment_method(): string { return $this->payment_method; }
    public function get_total()
    {
        $sum = 0.0;
        foreach ($this->items as $i) {
            $sum += (float)$i->total + (float)$i->tax;
        }
        return number_format($sum, 2, '.', '');
    }
    public function get_refunds(): array
    {
        return array_values(array_filter(self::$store, fn($o) => $o instanceof WC_Order_Refund && $o->parent_id === $this->id));
    }
    public function get_total_refunded()
    {
        return number_format(array_sum(array_map(fn($r) => (float)$r->get_amount(), $this->get_refunds())), 2, '.', '');
    }
    public function get_remaining_refund_amount() { return (float)$this->get_total() - (float)$this->get_total_refunded(); }
    public function needs_processing(): bool { return true; }
    public function has_downloadable_item(): bool { return false; }

    public function set_status(string $new, string $note = '', bool $manual = false): array
    {
        $from = $this->status;
        $this->status = $new;
        if ($this->id !== 0 && $from !== $new) {
            $this->transition = ['from' => $this->transition['from'] ?? $from, 'to' => $new, 'note' => $note, 'manual' => $manual];
        }
        return ['from' => $from, 'to' => $new];
    }
    public function save(): int
    {
        parent::save();
        $this->status_transition();
        return $this->id;
    }
    private function status_transition(): void
    {
        $t = $this->transition;
        $this->transition = false;
        if (!$t) {
            return;
        }
        do_action('woocommerce_order_status_' . $t['to'], $this->id, $this, $t);
        if ($t['from'] !== '') {
            do_action('woocommerce_order_status_' . $t['from'] . '_to_' . $t['to'], $this->id, $this);
            do_action('woocommerce_order_status_changed', $this->id, $t['from'], $t['to'], $this);
        }
    }
    public function update_status(string $new, string $note = '', bool $manual = false): bool
    {
        $this->set_status($new, $note, $manual);
        $this->save();
        return true;
    }
    public function payment_complete(string $transaction_id = ''): bool
    {
        if ($this->has_status(['on-hold', 'pending', 'failed', 'cancelled', 'checkout-draft'])) {
            $this->set_status(apply_filters('woocommerce_payment_complete_order_status', 'processing', $this->id, $this));
            $this->save();
            do_action('woocommerce_payment_complete', $this->id, $transaction_id);
        } else {
            do_action('woocommerce_payment_complete_order_status_' . $this->status, $this->id, $transaction_id);
        }
        return true;
    }
}

final class WC_Order_Refund extends WC_Abstract_Order_Stub
{
    public int $parent_id = 0;
    private $amount = 0;
    private $total = 0;
    private string $reason = '';
    public function set_parent_id(int $id): void { $this->parent_id = $id; }
    public function set_amount($a): void { $this->amount = $a; }
    public function get_amount() { return $this->amount; }
    public function set_total($t): void { $this->total = $t; }
    public function get_total() { return $this->total; }
    public function set_reason(string $r): void { $this->reason = $r; }
    public function get_reason(): string { return $this->reason; }
}

function wc_get_order($id)
{
    if (is_object($id)) {
        return $id;
    }
    return WC_Abstract_Order_Stub::$store[(int)$id] ?? false;
}

/* wc_create_refund(): line_items is item id => [qty, refund_total, refund_tax => [rate => tax]]. */
function wc_create_refund(array $args)
{
    $args += ['amount' => 0, 'reason' => null, 'order_id' => 0, 'line_items' => []];
    $order = wc_get_order($args['order_id']);
    $remaining = $order->get_remaining_refund_amount();
    if ($args['amount'] < 0 || $args['amount'] > $remaining + 0.001) {
        return new RuntimeException('Invalid refund amount.');
    }
    $refund = new WC_Order_Refund();
    $refund->currency = $order->get_currency();
    $refund->set_amount($args['amount']);
    $refund->set_parent_id($order->get_id());
    if ($args['reason'] !== null) {
        $refund->set_reason($args['reason']);
    }
    $n = 1;
    foreach ($order->get_items(['line_item', 'fee', 'shipping']) as $item_id => $item) {
        if (!isset($args['line_items'][$item_id])) {
            continue;
        }
        $l = $args['line_items'][$item_id];
        $refund->add_item(new WC_Order_Item_Stub($n++, $item->type, $item->name, -(int)($l['qty'] ?? 0),
                                                 -(float)$l['refund_total'], -array_sum($l['refund_tax'] ?? []), $item->product));
    }
    $refund->set_total(-$args['amount']);
    do_action('woocommerce_create_refund', $refund, $args);
    $refund->save();
    if ($remaining - $args['amount'] > 0.001) {
        do_action('woocommerce_order_partially_refunded', $order->get_id(), $refund->get_id());
    } else {
        do_action('woocommerce_order_fully_refunded', $order->get_id(), $refund->get_id());
        $order->update_status(apply_filters('woocommerce_order_fully_refunded_status', 'refunded', $order->get_id(), $refund->get_id()));
    }
    $order->save();
    do_action('woocommerce_refund_created', $refund->get_id(), $args);
    do_action('woocommerce_order_refunded', $order->get_id(), $refund->get_id());
    return $refund;
}

/* WooCommerce hooks this on woocommerce_order_status_refunded: what is left, as a plain amount. */
function wc_order_fully_refunded($order_id): void
{
    $order = wc_get_order($order_id);
    $max = round((float)$order->get_total() - (float)$order->get_total_refunded(), 2);
    if ($max <= 0) {
        return;
    }
    wc_create_refund(['amount' => $max, 'reason' => 'Order fully refunded.', 'order_id' => $order_id, 'line_items' => []]);
}
add_action('woocommerce_order_status_refunded', 'wc_order_fully_refunded');

function wc_cancel_unpaid_orders(): void
{
    foreach (WC_Abstract_Order_Stub::$store as $order) {
        if ($order instanceof WC_Order && $order->get_status() === 'pending' &&
            apply_filters('woocommerce_cancel_unpaid_order', 'checkout' === $order->get_created_via(), $order)) {
            $order->update_status('cancelled', 'Unpaid order cancelled - time limit reached.');
        }
    }
}

/* ---- checkouts and gateways --------------------------------------------- */

/* The gateways' process_payment(), as WooCommerce's own do it. */
function stub_process_payment(WC_Order $order, string $method): void
{
    $order->payment_method = $method;
    if ((float)$order->get_total() <= 0) {
        $order->payment_complete();
        return;
    }
    switch ($method) {
    case 'bacs':
    case 'cheque':
        $order->update_status(apply_filters('woocommerce_' . $method . '_process_payment_order_status', 'on-hold', $order),
                              'Awaiting payment');
        break;
    case 'cod':
        $order->update_status(apply_filters('woocommerce_cod_process_payment_order_status',
                                            $order->has_downloadable_item() ? 'on-hold' : 'processing', $order),
                              'Payment to be made upon delivery.');
        break;
    case 'card':                    /* a redirect or on-site gateway: paid now or by its webhook */
        break;
    }
}

/* WC_Checkout::create_order() and process_checkout(): classic checkout. */
function stub_classic_checkout(WC_Order $order, string $method): int
{
    $data = ['payment_method' => $method];
    try {
        do_action('woocommerce_checkout_create_order', $order, $data);
        $order_id = $order->save();
        do_action('woocommerce_checkout_update_order_meta', $order_id, $data);
        do_action('woocommerce_checkout_order_created', $order);
    } catch (Exception $e) {
        return 0;                   /* the checkout fails with the message */
    }
    stub_process_payment($order, $method);
    return $order->get_id();
}

/* StoreApi Checkout route: GET/PUT make the draft, POST places and pays. */
function stub_block_checkout(WC_Order $order, string $method): int
{
    try {
        $order->set_status('checkout-draft');
        $order->created_via = 'store-api';
        $order->save();
        do_action('woocommerce_store_api_checkout_update_order_meta', $order);    /* draft, on checkout entry */
        do_action('woocommerce_store_api_checkout_update_order_meta', $order);    /* POST: draft updated */
        $order->set_status('pending');
        $order->save();
        do_action('woocommerce_store_api_checkout_order_processed', $order);
    } catch (Exception $e) {
        return 0;                   /* RouteException: the block shows an error */
    }
    stub_process_payment($order, $method);
    return $order->get_id();
}

/* ---- Action Scheduler ------------------------------------------------------ */
final class AS_Stub
{
    public static array $actions = [];       /* [when, hook, args, group, interval] */
}
function as_schedule_single_action(int $when, string $hook, array $args = [], string $group = ''): int
{
    AS_Stub::$actions[] = [$when, $hook, $args, $group, 0];
    return count(AS_Stub::$actions);
}
function as_schedule_recurring_action(int $when, int $interval, string $hook, array $args = [], string $group = ''): int
{
    AS_Stub::$actions[] = [$when, $hook, $args, $group, $interval];
    return count(AS_Stub::$actions);
}
function as_has_scheduled_action(string $hook, $args = null, string $group = ''): bool
{
    foreach (AS_Stub::$actions as [$w, $h, $a, $g]) {
        if ($h === $hook && ($args === null || $a === $args) && ($group === '' || $g === $group)) {
            return true;
        }
    }
    return false;
}
function as_unschedule_all_actions(string $hook, array $args = [], string $group = ''): void
{
    AS_Stub::$actions = array_values(array_filter(AS_Stub::$actions,
        fn($x) => !($x[1] === $hook && ($args === [] || $x[2] === $args) && ($group === '' || $x[3] === $group))));
}
/* Runs the due actions (as a queue runner would, $now = a later time). */
function stub_run_actions(int $now): void
{
    foreach (AS_Stub::$actions as $k => [$when, $hook, $args, $group, $interval]) {
        if ($when <= $now && $interval === 0) {
            unset(AS_Stub::$actions[$k]);
            do_action($hook, ...$args);
        }
    }
}

}
