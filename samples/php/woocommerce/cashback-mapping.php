<?php
/*
 * WooCommerce order -> libcashback event array. Plain PHP, no WordPress
 * call: it only reads the WC_Order / WC_Order_Refund getters, so that it can
 * be tested without WordPress (tests/scripts/php.sh runs
 * test-mapping.php against a fake WC_Order).
 *
 * Money: WooCommerce hands out totals as floats or float-like strings. They
 * are rounded here to the shop's decimals, as WooCommerce itself rounds
 * them, and passed on as integer minor units ('amount_minor'): the
 * extension refuses floats.
 */

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
    return (string)$order->get_meta('_cashback_click') !== '';
}

/*
 * The event array for Cashback\sale(), refund(), cancel() or confirm(), or
 * null when there is nothing to report (an order that did not come through
 * the network, a refund of shipping or tax only).
 *   $type      'sale', 'refund', 'cancel' or 'confirm'
 *   $order     WC_Order
 *   $refund    WC_Order_Refund, for 'refund'
 *   $decimals  the shop's price decimals (wc_get_price_decimals())
 */
function cashback_wc_event(string $type, $order, $refund = null, int $decimals = 2): ?array
{
    if (!cashback_wc_is_cashback_order($order)) {
        return null;
    }
    $event = ['order_id' => (string)$order->get_id()];
    switch ($type) {
    case 'sale':
        $event['click'] = (string)$order->get_meta('_cashback_click');
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
        // refunded value without tax and shipping.
        $net = abs(cashback_wc_minor($refund->get_total(), $decimals))
             - abs(cashback_wc_minor($refund->get_total_tax(), $decimals))
             - abs(cashback_wc_minor($refund->get_shipping_total(), $decimals));
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
