<?php
/*
 * WooCommerce > Cashback: the connection string, the landing parameters,
 * an optional spool directory, delivery from Action Scheduler, and a "Send
 * test event" button. The connection string holds the secret: it is never
 * printed back into the page (an empty field keeps the stored one).
 */

defined('ABSPATH') || exit;

final class Cashback_WC_Settings
{
    public const PAGE = 'cashback-wc';
    public const RESULT = 'cashback_wc_test_result';

    public static function register(): void
    {
        add_action('admin_menu', [self::class, 'menu']);
        add_action('admin_post_cashback_wc_save', [self::class, 'save']);
        add_action('admin_post_cashback_wc_test', [self::class, 'test']);
        add_action('init', [self::class, 'schedule_delivery']);
    }

    public static function menu(): void
    {
        add_submenu_page('woocommerce', 'Cashback', 'Cashback', 'manage_woocommerce', self::PAGE, [self::class, 'page']);
    }

    private static function back(array $args): void
    {
        wp_safe_redirect(add_query_arg($args + ['page' => self::PAGE], admin_url('admin.php')));
    }

    /* A connection string as the network hands it over (onboarding.md). */
    public static function valid_connection(string $c): bool
    {
        return $c === '' || (strncmp($c, 'cashback:', 9) === 0 && strlen($c) <= 65536 && !preg_match('/[\x00-\x1f]/', $c));
    }

    public static function save(): void
    {
        if (!current_user_can('manage_woocommerce')) {
            wp_die('not allowed', 403);
            return;
        }
        check_admin_referer('cashback_wc_save');
        $s = Cashback_WC::settings();
        $post = wp_unslash($_POST);
        $connection = trim((string)($post['connection'] ?? ''));
        if (!empty($post['clear_connection'])) {
            $s['connection'] = '';
        } elseif ($connection !== '') {     /* empty: keep the stored one */
            if (!self::valid_connection($connection)) {
                self::back(['cashback_error' => 'connection']);
                return;
            }
            $s['connection'] = $connection;
        }
        $s['landing_params'] = sanitize_text_field((string)($post['landing_params'] ?? ''));
        $s['spool_dir'] = sanitize_text_field((string)($post['spool_dir'] ?? ''));
        $s['deliver'] = empty($post['deliver']) ? '0' : '1';
        update_option(Cashback_WC::OPTION, $s, false);    /* not autoloaded: it holds the secret */
        Cashback_WC::reset_client();
        self::back(['cashback_saved' => '1']);
    }

    /**
     * Sends one test event and returns what happened, as lines. With the
     * extension's probe (Cashback\Client::probe() or Cashback\probe(), when
     * the extension has it): one signed test event straight to the network
     * and its verdict. Without it: a test sale (test: true, never paid)
     * through the spool, then a flush, which says whether the network took it.
     */
    public static function send_test(): array
    {
        try {
            $client = Cashback_WC::client();
            if (method_exists($client, 'probe')) {
                $r = $client->probe();
            } elseif (function_exists('Cashback\\probe') && Cashback_WC::uses_php_ini()) {
                $r = \Cashback\probe();
            } else {
                $currency = function_exists('get_woocommerce_currency') ? get_woocommerce_currency() : 'EUR';
                $id = $client->sale(['order_id' => 'wc-test-' . time(), 'click' => 'cashback-test',
                                     'amount_minor' => 0, 'currency' => $currency, 'test' => true]);
                $empty = $client->flush(10000);
                return ['ok' => true, 'lines' => ['test event ' . $id . ($empty ? ' delivered: the network accepted the batch'
                                                                               : ' queued: another process is sending, or time ran out')]];
            }
            $lines = [];
            foreach ((array)$r as $k => $v) {
                $lines[] = $k . ': ' . (is_scalar($v) ? var_export($v, true) : json_encode($v));
            }
            return ['ok' => true, 'lines' => $lines];
        } catch (\Throwable $e) {
            return ['ok' => false, 'lines' => ['failed: ' . ($e instanceof Cashback\Exception ? $e->getCode() . ' ' : '') . $e->getMessage()]];
        }
    }

    public static function test(): void
    {
        if (!current_user_can('manage_woocommerce')) {
            wp_die('not allowed', 403);
            return;
        }
        check_admin_referer('cashback_wc_test');
        set_transient(self::RESULT, extension_loaded('cashback') ? self::send_test()
                                                                  : ['ok' => false, 'lines' => ['the cashback extension is not loaded']], 300);
        self::back(['cashback_tested' => '1']);
    }

    /* Deactivated: no more deliveries from Action Scheduler (the spool stays;
     * the confirmations already scheduled stay too, and run if it comes back). */
    public static function deactivate(): void
    {
        if (function_exists('as_unschedule_all_actions')) {
            as_unschedule_all_actions('cashback_wc_flush', [], 'cashback');
        }
    }

    /* Every minute, when "deliver" is on and Action Scheduler is there. */
    public static function schedule_delivery(): void
    {
        try {
            if (Cashback_WC::settings()['deliver'] !== '1' || !function_exists('as_has_scheduled_action') ||
                !extension_loaded('cashback')) {
                return;
            }
            if (!as_has_scheduled_action('cashback_wc_flush', [], 'cashback')) {
                as_schedule_recurring_action(time() + 60, 60, 'cashback_wc_flush', [], 'cashback');
            }
        } catch (\Throwable $e) {
            Cashback_WC::log('delivery not scheduled: ' . $e->getMessage());
        }
    }

    public static function page(): void
    {
        if (!current_user_can('manage_woocommerce')) {
            return;
        }
        $s = Cashback_WC::settings();
        $post = esc_url(admin_url('admin-post.php'));
        echo '<div class="wrap"><h1>Cashback</h1>';
        if (!empty($_GET['cashback_error'])) {
            echo '<div class="notice notice-error"><p>The connection string must start with <code>cashback:</code> (as the network hands it over).</p></div>';
        }
        if (!empty($_GET['cashback_saved'])) {
            echo '<div class="notice notice-success"><p>Saved.</p></div>';
        }
        $result = get_transient(self::RESULT);
        if (is_array($result)) {
            delete_transient(self::RESULT);
            printf('<div class="notice %s"><p>%s</p></div>', $result['ok'] ? 'notice-success' : 'notice-error',
                   implode('<br>', array_map('esc_html', $result['lines'])));
        }
        echo '<form method="post" action="' . $post . '">';
        wp_nonce_field('cashback_wc_save');
        echo '<input type="hidden" name="action" value="cashback_wc_save"><table class="form-table">';
        printf('<tr><th><label for="cashback-connection">Connection string</label></th><td>'
               . '<input type="password" id="cashback-connection" name="connection" value="" class="large-text" autocomplete="off" placeholder="%s">'
               . '<p class="description">From the network: <code>cashback:merchant_id=...;key_id=...;secret=...;endpoint=...</code>. '
               . 'Empty: keep the stored one; none stored: the extension\'s php.ini settings are used.</p>'
               . '<label><input type="checkbox" name="clear_connection" value="1"> Remove the stored connection string</label></td></tr>',
               esc_attr($s['connection'] !== '' ? '(stored: leave empty to keep it)' : '(none: php.ini settings)'));
        printf('<tr><th><label for="cashback-landing">Landing parameters</label></th><td>'
               . '<input type="text" id="cashback-landing" name="landing_params" value="%s" class="regular-text" placeholder="cb_click">'
               . '<p class="description">Query parameters that carry the click token, comma-separated, e.g. <code>@awin, cb_click</code>. '
               . 'With the connection string above (with php.ini settings: <code>landing_params</code> in the configuration file).</p></td></tr>',
               esc_attr($s['landing_params']));
        printf('<tr><th><label for="cashback-spool">Spool directory</label></th><td>'
               . '<input type="text" id="cashback-spool" name="spool_dir" value="%s" class="regular-text">'
               . '<p class="description">Where reports wait for delivery; writable by the web server\'s user. Empty: the default. '
               . 'With the connection string above (with php.ini settings: <code>cashback.spool_dir</code>).</p></td></tr>',
               esc_attr($s['spool_dir']));
        printf('<tr><th>Delivery</th><td><label><input type="checkbox" name="deliver" value="1"%s> '
               . 'Deliver every minute from Action Scheduler (not needed with <code>cashback.sender=1</code> or a <code>cashback send --watch</code> service)</label></td></tr>',
               $s['deliver'] === '1' ? ' checked' : '');
        echo '</table><p><button type="submit" class="button button-primary">Save</button></p></form>';
        echo '<form method="post" action="' . $post . '">';
        wp_nonce_field('cashback_wc_test');
        echo '<input type="hidden" name="action" value="cashback_wc_test">'
             . '<p><button type="submit" class="button">Send test event</button> '
             . 'A test event (recorded by the network, never paid) with the settings above.</p></form></div>';
    }
}
