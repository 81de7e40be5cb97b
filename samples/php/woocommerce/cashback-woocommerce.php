<?php
/**
 * Plugin Name: Cashback for WooCommerce (libcashback sample)
 * Description: Reports WooCommerce orders to the cashback network with the cashback PHP extension (docs/php.md).
 * Version: 0.1.0
 *
 * Needs the cashback extension, configured in php.ini (cashback.config or
 * cashback.connection, and cashback.auto_capture=1 so that landing pages
 * set the click cookie with no code). The lines marked "merchant line" are
 * all a shop adds; the rest is this sample's wiring.
 */
defined('ABSPATH') || exit;
if (!extension_loaded('cashback')) {
    return;
}
require_once __DIR__ . '/cashback-mapping.php';

/* Reports one event; never breaks checkout, payment or the back office. */
function cashback_wc_report(string $type, $order, $refund = null): void
{
    if (!$order) {
        return;
    }
    try {
        $event = cashback_wc_event($type, $order, $refund,
                                   function_exists('wc_get_price_decimals') ? wc_get_price_decimals() : 2);
        if ($event !== null) {
            ('Cashback\\' . $type)($event);
        }
    } catch (Cashback\Exception $e) {
        // Not spooled (bad field, full disk): keep it visible in the log.
        error_log(sprintf('cashback: %s of order %s not reported: %d %s',
                          $type, $order->get_id(), $e->getCode(), $e->getMessage()));
    }
}

// Checkout: keep the click (from the cookie set at landing) with the order.
add_action('woocommerce_checkout_create_order', fn($order) => $order->update_meta_data('_cashback_click', (string)Cashback\click())); // merchant line 1
// Paid (also for redirect gateways whose buyer never comes back): the sale.
add_action('woocommerce_payment_complete', fn($order_id) => cashback_wc_report('sale', wc_get_order($order_id))); // merchant line 2
// A refund, in part or whole.
add_action('woocommerce_order_refunded', fn($order_id, $refund_id) => cashback_wc_report('refund', wc_get_order($order_id), wc_get_order($refund_id)), 10, 2); // merchant line 3
// The order is void.
add_action('woocommerce_order_status_cancelled', fn($order_id) => cashback_wc_report('cancel', wc_get_order($order_id))); // merchant line 4
// Completed: WooCommerce means "fulfilled"; the confirmation is due when the
// return window is over, so it is scheduled that many days later.
add_action('woocommerce_order_status_completed', fn($order_id) => as_schedule_single_action(time() + 30 * 86400, 'cashback_wc_confirm', [$order_id])); // merchant line 5
add_action('cashback_wc_confirm', fn($order_id) => cashback_wc_report('confirm', wc_get_order($order_id))); // merchant line 6
