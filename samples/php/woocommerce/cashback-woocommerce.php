<?php
/**
 * Plugin Name: Cashback for WooCommerce
 * Description: Reports WooCommerce orders to the cashback network (sale when paid, refunds, cancellations, confirmation) with the cashback PHP extension of libcashback.
 * Version: 0.3.0
 * Requires at least: 6.2
 * Requires PHP: 8.0
 * Requires Plugins: woocommerce
 * WC requires at least: 8.2
 * WC tested up to: 9.4
 *
 * Needs the cashback PHP extension (docs/php.md). Configure it on
 * WooCommerce > Cashback (a connection string) or in php.ini
 * (cashback.config / cashback.connection). Nothing breaks a page: every
 * hook catches, logs (WooCommerce > Status > Logs, source "cashback") and
 * goes on; an admin notice says when the extension is missing or the
 * configuration unusable.
 */
defined('ABSPATH') || exit;

require_once __DIR__ . '/cashback-mapping.php';
require_once __DIR__ . '/includes/class-cashback-wc.php';
require_once __DIR__ . '/includes/class-cashback-wc-settings.php';

Cashback_WC::register(__FILE__);
Cashback_WC_Settings::register();
register_deactivation_hook(__FILE__, [Cashback_WC_Settings::class, 'deactivate']);
