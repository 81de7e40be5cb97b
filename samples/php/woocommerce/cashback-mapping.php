<?php
/*
 * WooCommerce order -> libcashback event array. Plain PHP, no WordPress
 * call: it only reads the WC_Order / WC_Order_Refund getters, so that it can
 * be tested without WordPress (test-mapping.php, and tests/ of this plugin,
 * run it against stubs of WC_Order).
 *
 * Money: WooCommerce hands out totals as floats or float-like strings. They
 * are rounded here to the shop's decimals, as WooCommerce itself rounds
 * them, and passed on as integer minor units ('amount_minor'): the
 * extension refuses floats.
 *
 * What is reported: the sale is the order's product lines after discounts,
 * without tax, shipping and fees (what the commission is on). Refunds are
 * reported on the same basis (see cashback_wc_refund_minor()).
 */

defined('ABSPATH') || exit;

/* Order meta kept by the plugin (all through the WC_Order API: HPOS-safe). */
const CASHBACK_WC_META_CLICK = '_cashback_click';        /* click handle, at checkout */
const CASHBACK_WC_META_SALE = '_cashback_sale';          /* event id of the reported sale */
const CASHBACK_WC_META_SALE_MINOR = '_cashback_sale_minor'; /* its amount, minor units */
const CASHBACK_WC_META_REFUNDS = '_cashback_refunds';    /* refund id => net minor units reported */
const CASHBACK_WC_META_ENDED = '_cashback_ended';        /* 'cancelled' or 'refunded': no confirm */

/* A WooCommerce money value in minor units, at $decimals places. */
function cashback_wc_minor($value, int $decimals): int
{
    $text = number_format((float)$value, $decimals, '.', '');
    return (int)str_replace('.', '', $text);
}

/* At most $n characters of UTF-8 text (mbstring may be missing). */
function cashback_wc_cut(string $text, int $n): string
{
    return preg_match('/^.{0,' . $n . '}/su', $text, $m) ? $m[0] : substr($text, 0, $n);
}

/* Did this order come through the cashback network? */
function cashback_wc_is_cashback_order($order): bool
{
    return (string)$order->get_meta(CASHBACK_WC_META_CLICK) !== '';
}

/* The net refunds already reported for $order, in minor units. */
function cashback_wc_refunded_minor($order): int
{
    $done = $order->get_meta(CASHBACK_WC_META_REFUNDS);
    return is_array($done) ? (int)array_sum($done) : 0;
}

/* round($a * $b / $c) for non-negative ints, $c > 0, without floats. */
function cashback_wc_muldiv(int $a, int $b, int $c): int
{
    if ($a <= intdiv(PHP_INT_MAX, max(1, $b))) {
        return intdiv($a * $b + intdiv($c, 2), $c);
    }
    return (int)round($a / $c * $b);     /* beyond 9e18: never for real money */
}

/*
 * The refund's value on the sale's basis (net of tax and shipping), in
 * minor units, before it is capped by what is left of the sale.
 *  - A refund with a split (refunded lines, tax, shipping or fees: what
 *    the order screen makes when lines are refunded): its total less its
 *    tax, shipping and fees.
 *  - A refund of a plain amount (no split: the amount field alone, the
 *    order set to "Refunded", most gateways' refunds): the same share of
 *    the net sale as the amount is of the order's gross total.
 */
function cashback_wc_refund_minor($order, $refund, int $decimals): int
{
    $gross = abs(cashback_wc_minor($refund->get_total(), $decimals));
    $tax = abs(cashback_wc_minor($refund->get_total_tax(), $decimals));
    $shipping = abs(cashback_wc_minor($refund->get_shipping_total(), $decimals));
    $lines = method_exists($refund, 'get_items') ? count($refund->get_items('line_item')) : 0;
    $fees = 0;                          /* fees are not in the sale either */
    foreach (method_exists($refund, 'get_items') ? $refund->get_items('fee') : [] as $fee) {
        $fees += abs(cashback_wc_minor($fee->get_total(), $decimals));
    }
    if ($lines > 0 || $tax > 0 || $shipping > 0 || $fees > 0) {
        return max(0, $gross - $tax - $shipping - $fees);
    }
    $sale = (int)$order->get_meta(CASHBACK_WC_META_SALE_MINOR);
    $total = method_exists($order, 'get_total') ? cashback_wc_minor($order->get_total(), $decimals) : 0;
    if ($sale <= 0 || $total <= 0) {
        return $gross;                  /* nothing to scale by: as entered */
    }
    return cashback_wc_muldiv($gross, $sale, $total);
}

/* Is $order refunded in whole (WooCommerce's own totals)? */
function cashback_wc_fully_refunded($order, int $decimals): bool
{
    if (method_exists($order, 'get_status') && $order->get_status() === 'refunded') {
        return true;
    }
    if (!method_exists($order, 'get_total_refunded') || !method_exists($order, 'get_total')) {
        return false;
    }
    $total = cashback_wc_minor($order->get_total(), $decimals);
    return $total > 0 && cashback_wc_minor($order->get_total_refunded(), $decimals) >= $total;
}

/*
 * The event array for Cashback\sale(), refund(), cancel() or confirm(), or
 * null when there is nothing to report (an order that did not come through
 * the network, a refund of shipping or tax only, a refund beyond the sale).
 *   $type      'sale', 'refund', 'cancel' or 'confirm'
 *   $order     WC_Order
 *   $refund    WC_Order_Refund, for 'refund'
 *   $decimals  the shop's price decimals (wc_get_price_decimals())
 * A refund is capped by what is left of the reported sale (order meta
 * _cashback_sale_minor less _cashback_refunds), and a refund that leaves
 * the order refunded in whole is exactly what is left: a full gross refund
 * equals the net sale.
 */
function cashback_wc_event(string $type, $order, $refund = null, int $decimals = 2): ?array
{
    if (!cashback_wc_is_cashback_order($order)) {
        return null;
    }
    $event = ['order_id' => (string)$order->get_id()];
    switch ($type) {
    case 'sale':
        $event['click'] = (string)$order->get_meta(CASHBACK_WC_META_CLICK);
        $event['currency'] = $order->get_currency();
        $total = 0;
        $items = [];
        foreach ($order->get_items() as $item) {
            // The line total is after discounts, without tax and shipping:
            // what the commission is on.
            $line = cashback_wc_minor($item->get_total(), $decimals);
            $qty = max(1, (int)$item->get_quantity());
            $product = $item->get_product();
            $sku = $product ? (string)$product->get_sku() : '';
            $items[] = [
                'sku' => $sku !== '' ? $sku : (string)$item->get_product_id(),
                'name' => cashback_wc_cut((string)$item->get_name(), 256),
                'quantity' => $qty,
                'price_minor' => intdiv($line + intdiv($qty, 2), $qty),
            ];
            $total += $line;
        }
        $event['amount_minor'] = $total;
        if ($items) {
            $event['items'] = $items;
        }
        $coupons = array_values(array_filter(array_map('strval', $order->get_coupon_codes())));
        if ($coupons) {
            $event['vouchers'] = array_slice($coupons, 0, 20);
        }
        $created = $order->get_date_created();
        if ($created) {
            $event['order_time'] = $created->getTimestamp();
            $event['utc_offset'] = intdiv($created->getOffset(), 60);
        }
        $event['metadata'] = ['wc_order_number' => (string)$order->get_order_number()];
        return $event;
    case 'refund':
        // Refund totals are negative in WooCommerce; the network wants the
        // refunded value on the sale's basis.
        $net = cashback_wc_refund_minor($order, $refund, $decimals);
        $sale = $order->get_meta(CASHBACK_WC_META_SALE_MINOR);
        if ($sale !== '' && $sale !== null) {
            $left = max(0, (int)$sale - cashback_wc_refunded_minor($order));
            $net = cashback_wc_fully_refunded($order, $decimals) ? $left : min($net, $left);
        }
        if ($net <= 0) {
            return null;
        }
        $event['refund_id'] = (string)$refund->get_id();
        $event['amount_minor'] = $net;
        $event['currency'] = $order->get_currency();
        $reason = trim((string)$refund->get_reason());
        if ($reason !== '') {
            $event['metadata'] = ['reason_text' => cashback_wc_cut($reason, 200)];
        }
        return $event;
    case 'cancel':
        $event['reason'] = 'cancelled';
        return $event;
    case 'confirm':
        return $event;
    }
    throw new InvalidArgumentException("cashback_wc_event: unknown type '$type'");
}
