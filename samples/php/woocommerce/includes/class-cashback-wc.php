<?php
/*
 * The plugin's WooCommerce side: which hooks, what each reports, and the
 * rule that cashback never breaks a shop's page (every handler catches
 * everything, logs it and goes on).
 *
 * Hooks (names and arguments as WooCommerce's source fires them):
 *   click handle stored on the order when it is created, by every checkout:
 *     woocommerce_checkout_order_created ($order)                classic
 *     woocommerce_store_api_checkout_update_order_meta ($order)  block / Store API (draft)
 *     woocommerce_store_api_checkout_order_processed ($order)    block / Store API (placed)
 *   sale, once, when the order becomes paid (any gateway: card, bank
 *   transfer marked paid, cash on delivery, a zero total):
 *     woocommerce_order_status_changed ($id, $from, $to, $order), $to in wc_get_is_paid_statuses()
 *     woocommerce_payment_complete ($id, $transaction_id)
 *   refund:  woocommerce_order_refunded ($order_id, $refund_id)
 *   cancel:  woocommerce_order_status_cancelled ($id, $order), only after a sale
 *   confirm: completed + 30 days (Action Scheduler), never after a full
 *            refund or a cancel
 */

defined('ABSPATH') || exit;

final class Cashback_WC
{
    /** Days after "completed" until the confirmation (the return window). */
    public const CONFIRM_AFTER_DAYS = 30;
    public const OPTION = 'cashback_wc_settings';
    public const LAST_ERROR = 'cashback_wc_last_error';

    private static $client = null;      /* Cashback\Client, made once per request */
    private static $client_key = null;

    /* ---- hooks ---------------------------------------------------------- */

    public static function register(string $plugin_file): void
    {
        add_action('before_woocommerce_init', static function () use ($plugin_file) {
            self::declare_compatibility($plugin_file);
        });
        add_action('admin_notices', [self::class, 'admin_notices']);
        if (!extension_loaded('cashback')) {
            return;                     /* the notice says so; nothing else to do */
        }
        add_action('init', [self::class, 'landing'], 1);
        add_action('woocommerce_checkout_order_created', [self::class, 'keep_click'], 10, 1);
        add_action('woocommerce_store_api_checkout_update_order_meta', [self::class, 'keep_click'], 10, 1);
        add_action('woocommerce_store_api_checkout_order_processed', [self::class, 'keep_click'], 10, 1);
        add_action('woocommerce_order_status_changed', [self::class, 'status_changed'], 10, 4);
        add_action('woocommerce_payment_complete', [self::class, 'payment_complete'], 10, 2);
        add_action('woocommerce_order_refunded', [self::class, 'refunded'], 10, 2);
        add_action('woocommerce_order_status_cancelled', [self::class, 'cancelled'], 10, 2);
        add_action('cashback_wc_confirm', [self::class, 'confirm'], 10, 1);
        add_action('cashback_wc_flush', [self::class, 'flush'], 10, 0);
    }

    /* HPOS (custom order tables): orders are read and written only through
     * the WC_Order API; the block checkout is hooked through the Store API. */
    public static function declare_compatibility(string $plugin_file): void
    {
        if (class_exists(\Automattic\WooCommerce\Utilities\FeaturesUtil::class)) {
            \Automattic\WooCommerce\Utilities\FeaturesUtil::declare_compatibility('custom_order_tables', $plugin_file, true);
            \Automattic\WooCommerce\Utilities\FeaturesUtil::declare_compatibility('cart_checkout_blocks', $plugin_file, true);
        }
    }

    /* ---- settings and the client ---------------------------------------- */

    /** The plugin's settings: connection, landing_params, spool_dir, deliver. */
    public static function settings(): array
    {
        $s = function_exists('get_option') ? get_option(self::OPTION, []) : [];
        return (is_array($s) ? $s : []) + ['connection' => '', 'landing_params' => '', 'spool_dir' => '',
                                           'deliver' => '1'];
    }

    /* The options array of a Cashback\Client for these settings. */
    public static function client_options(array $s): array
    {
        $opts = [];
        if (trim((string)$s['landing_params']) !== '') {
            $opts['landing_params'] = trim((string)$s['landing_params']);
        }
        if (trim((string)$s['spool_dir']) !== '') {
            $opts['spool_dir'] = trim((string)$s['spool_dir']);
        }
        return $opts;
    }

    /** Whether the plugin uses php.ini's client (no connection string of its own). */
    public static function uses_php_ini(): bool
    {
        return trim((string)self::settings()['connection']) === '';
    }

    /**
     * The client: the settings page's connection string when one is set,
     * else the extension's default client (php.ini). Throws
     * Cashback\Exception on a bad configuration (callers catch).
     */
    public static function client(): Cashback\Client
    {
        $s = self::settings();
        $connection = trim((string)$s['connection']);
        if ($connection === '') {
            return Cashback\client();
        }
        $key = hash('sha256', $connection . "\0" . serialize(self::client_options($s)));
        if (self::$client === null || self::$client_key !== $key) {
            self::$client = new Cashback\Client($connection, self::client_options($s));
            self::$client_key = $key;
        }
        return self::$client;
    }

    /** Forget the client (settings changed). */
    public static function reset_client(): void
    {
        self::$client = null;
        self::$client_key = null;
    }

    /* ---- never break a page: log, and go on ----------------------------- */

    /** Logs to WooCommerce's log (source "cashback") if there, else error_log. */
    public static function log(string $message): void
    {
        if (function_exists('wc_get_logger')) {
            wc_get_logger()->error($message, ['source' => 'cashback']);
        } else {
            error_log('cashback: ' . $message);
        }
    }

    private static function failed(string $what, \Throwable $e): void
    {
        $code = $e instanceof Cashback\Exception ? (string)$e->getCode() : get_class($e);
        $message = sprintf('%s: %s %s', $what, $code, $e->getMessage());
        static $logged = [];            /* once a request (a draft order's hooks fire twice) */
        if (isset($logged[$message])) {
            return;
        }
        $logged[$message] = true;
        self::log($message);
        if (function_exists('update_option')) {
            update_option(self::LAST_ERROR, ['time' => time(), 'message' => $message], false);
        }
    }

    private static function decimals(): int
    {
        return function_exists('wc_get_price_decimals') ? (int)wc_get_price_decimals() : 2;
    }

    private static function order($order_or_id)
    {
        if (is_object($order_or_id)) {
            return $order_or_id;
        }
        return function_exists('wc_get_order') ? wc_get_order($order_or_id) : false;
    }

    /* ---- landing -------------------------------------------------------- */

    /** The landing: the click cookie, unless php.ini's auto capture did it. */
    public static function landing(): ?string
    {
        try {
            $query = (string)($_SERVER['QUERY_STRING'] ?? '');
            if ($query === '' || (function_exists('is_admin') && is_admin())) {
                return null;
            }
            if (self::uses_php_ini() && ini_get('cashback.auto_capture')) {
                return null;            /* the extension did it before WordPress ran */
            }
            return self::client()->capture($query, !headers_sent());
        } catch (\Throwable $e) {
            self::failed('landing: click not captured', $e);
            return null;
        }
    }

    /* ---- checkout: keep the click handle -------------------------------- */

    public static function keep_click($order): void
    {
        try {
            $order = self::order($order);
            if (!$order || (string)$order->get_meta(CASHBACK_WC_META_CLICK) !== '') {
                return;                 /* kept already (draft, then placed) */
            }
            $click = self::client()->click();
            if ($click === null || $click === '') {
                return;
            }
            $order->update_meta_data(CASHBACK_WC_META_CLICK, $click);
            $order->save_meta_data();
        } catch (\Throwable $e) {
            self::failed('checkout: click of order ' . (is_object($order) ? $order->get_id() : '?') . ' not kept', $e);
        }
    }

    /* ---- paid: the sale, once ------------------------------------------- */

    public static function status_changed($order_id, $from, $to, $order = null): void
    {
        $paid = function_exists('wc_get_is_paid_statuses') ? wc_get_is_paid_statuses() : ['processing', 'completed'];
        if (!in_array($to, $paid, true)) {
            return;
        }
        $order = self::order($order ?: $order_id);
        self::sale($order);
        if ($to === 'completed') {
            self::schedule_confirm($order);
        }
    }

    public static function payment_complete($order_id, $transaction_id = ''): void
    {
        self::sale(self::order($order_id));
    }

    /** Reports the sale of a paid order unless it was reported already. */
    public static function sale($order): ?string
    {
        if (!$order) {
            return null;
        }
        try {
            if ((string)$order->get_meta(CASHBACK_WC_META_SALE) !== '') {
                return null;            /* once: a later paid status reports nothing */
            }
            $event = cashback_wc_event('sale', $order, null, self::decimals());
            if ($event === null) {
                return null;            /* not through the network */
            }
            $id = self::client()->sale($event);
            $order->update_meta_data(CASHBACK_WC_META_SALE, $id);
            $order->update_meta_data(CASHBACK_WC_META_SALE_MINOR, (string)$event['amount_minor']);
            $order->save_meta_data();
            return $id;
        } catch (\Throwable $e) {
            self::failed('sale of order ' . $order->get_id() . ' not reported', $e);
            return null;
        }
    }

    /* ---- refunds, cancel, confirm --------------------------------------- */

    public static function refunded($order_id, $refund_id): void
    {
        $order = self::order($order_id);
        if (!$order) {
            return;
        }
        try {
            if ((string)$order->get_meta(CASHBACK_WC_META_SALE) === '' ||
                (string)$order->get_meta(CASHBACK_WC_META_ENDED) === 'cancelled') {
                return;                 /* no sale at the network: nothing to refund */
            }
            $done = $order->get_meta(CASHBACK_WC_META_REFUNDS);
            $done = is_array($done) ? $done : [];
            $refund = self::order($refund_id);
            if ($refund && !isset($done[(string)$refund_id])) {
                $event = cashback_wc_event('refund', $order, $refund, self::decimals());
                if ($event !== null) {
                    self::client()->refund($event);
                    $done[(string)$refund_id] = $event['amount_minor'];
                    $order->update_meta_data(CASHBACK_WC_META_REFUNDS, $done);
                }
            }
            if (cashback_wc_fully_refunded($order, self::decimals())) {
                self::end($order, 'refunded');
            }
            $order->save_meta_data();
        } catch (\Throwable $e) {
            self::failed('refund ' . $refund_id . ' of order ' . $order->get_id() . ' not reported', $e);
        }
    }

    public static function cancelled($order_id, $order = null): void
    {
        $order = self::order($order ?: $order_id);
        if (!$order) {
            return;
        }
        try {
            // An order auto-cancelled as unpaid (or cancelled before it was
            // paid) never had a sale at the network: nothing to cancel.
            if ((string)$order->get_meta(CASHBACK_WC_META_SALE) === '' ||
                (string)$order->get_meta(CASHBACK_WC_META_ENDED) !== '') {
                return;
            }
            $event = cashback_wc_event('cancel', $order, null, self::decimals());
            if ($event !== null) {
                self::client()->cancel($event);
                self::end($order, 'cancelled');
                $order->save_meta_data();
            }
        } catch (\Throwable $e) {
            self::failed('cancel of order ' . $order->get_id() . ' not reported', $e);
        }
    }

    /* No confirmation after a full refund or a cancel. */
    private static function end($order, string $why): void
    {
        $order->update_meta_data(CASHBACK_WC_META_ENDED, $why);
        if (function_exists('as_unschedule_all_actions')) {
            as_unschedule_all_actions('cashback_wc_confirm', [(int)$order->get_id()], 'cashback');
        }
    }

    private static function schedule_confirm($order): void
    {
        try {
            if (!$order || (string)$order->get_meta(CASHBACK_WC_META_SALE) === '' ||
                (string)$order->get_meta(CASHBACK_WC_META_ENDED) !== '' || !function_exists('as_schedule_single_action')) {
                return;
            }
            $args = [(int)$order->get_id()];
            if (function_exists('as_has_scheduled_action') && as_has_scheduled_action('cashback_wc_confirm', $args, 'cashback')) {
                return;
            }
            as_schedule_single_action(time() + self::CONFIRM_AFTER_DAYS * 86400, 'cashback_wc_confirm', $args, 'cashback');
        } catch (\Throwable $e) {
            self::failed('confirm of order ' . $order->get_id() . ' not scheduled', $e);
        }
    }

    public static function confirm($order_id): void
    {
        $order = self::order($order_id);
        if (!$order) {
            return;
        }
        try {
            if ((string)$order->get_meta(CASHBACK_WC_META_SALE) === '' ||
                (string)$order->get_meta(CASHBACK_WC_META_ENDED) !== '' ||
                in_array($order->get_status(), ['cancelled', 'refunded', 'failed'], true) ||
                cashback_wc_fully_refunded($order, self::decimals())) {
                return;
            }
            $event = cashback_wc_event('confirm', $order, null, self::decimals());
            if ($event !== null) {
                self::client()->confirm($event);
            }
        } catch (\Throwable $e) {
            self::failed('confirm of order ' . $order->get_id() . ' not reported', $e);
        }
    }

    /* Delivery from Action Scheduler (settings: "deliver"), for shops
     * without cashback.sender=1 or a `cashback send --watch` unit. */
    public static function flush(): void
    {
        try {
            self::client()->flush(10000);
        } catch (\Throwable $e) {
            self::failed('delivery', $e);
        }
    }

    /* ---- the admin notice ----------------------------------------------- */

    /** Why orders are not being reported, or null when all is well. */
    public static function problem(): ?string
    {
        if (!extension_loaded('cashback')) {
            return sprintf('the cashback PHP extension is not loaded in this PHP (%s, SAPI %s): no order is reported. '
                           . 'Install it and enable it for this SAPI (docs/php.md, "Install").',
                           PHP_VERSION, PHP_SAPI);
        }
        try {
            $status = self::client()->status();
        } catch (\Throwable $e) {
            return 'the configuration is not usable, no order is reported: ' . $e->getMessage();
        }
        if (!empty($status['spool_status'])) {
            return 'the spool cannot be used, orders may not be reported: ' . (string)($status['spool_error'] ?? '');
        }
        if (!empty($status['quarantined'])) {
            return sprintf('%d event(s) were rejected by the network (quarantine): see the settings page.',
                           (int)$status['quarantined']);
        }
        return null;
    }

    public static function admin_notices(): void
    {
        try {
            if (function_exists('current_user_can') && !current_user_can('manage_woocommerce')) {
                return;
            }
            $lines = [];
            $problem = self::problem();
            if ($problem !== null) {
                $lines[] = $problem;
            }
            $last = function_exists('get_option') ? get_option(self::LAST_ERROR, null) : null;
            if (is_array($last) && isset($last['message']) && (int)($last['time'] ?? 0) > time() - 86400) {
                $lines[] = 'last error: ' . $last['message'] . ' (see WooCommerce > Status > Logs, source "cashback")';
            }
            foreach ($lines as $line) {
                printf('<div class="notice notice-error"><p><strong>Cashback for WooCommerce:</strong> %s</p></div>',
                       esc_html($line));
            }
        } catch (\Throwable $e) {
            self::log('admin notice: ' . $e->getMessage());
        }
    }
}
