<?php
/*
 * The plugin against STUBS of WordPress and WooCommerce (wp-stubs.php: the
 * hook names, arguments and firing order of WooCommerce's published
 * source; WooCommerce itself cannot run here) and the REAL cashback
 * extension, whose events go to the in-tree test receiver, which is then
 * asked what each order came to (its /_stats "orders").
 *
 *   php -d extension=cashback.so -d cashback.config=F test-plugin.php RECEIVER_URL CONNECTION SCRATCH
 *   php -n test-plugin.php --no-extension        (the extension missing)
 *   php -n -d extension=cashback.so test-plugin.php --unconfigured DIR
 *
 * RECEIVER_URL: http://127.0.0.1:PORT of tests/receiver/receiver.py run
 * with --followups reject (a follow-up without a sale is rejected
 * unknown_order, so a cancel of a never-paid order would show);
 * CONNECTION: a connection string for the same receiver (the settings
 * page's); SCRATCH: a directory for spools. Prints "N passed, N failed".
 */

require __DIR__ . '/wp-stubs.php';

require __DIR__ . '/check.php';
function notices(): string
{
    ob_start();
    do_action('admin_notices');
    return (string)ob_get_clean();
}
function cart(): WC_Order   /* 2 mugs at 12.50 and tea at 10.00, 20% tax, shipping 5.00 + 1.00 tax: net 35.00, gross 48.00 */
{
    return new WC_Order([['Mug', 2, 25.00, 'MUG-1'], ['Tea', 1, 10.00, 'TEA-1']], [], 5.00, 1.00, 0.2);
}

$plugin = dirname(__DIR__) . '/cashback-woocommerce.php';

/* ---- the extension missing: nothing breaks, a notice says so ------------ */
if (($argv[1] ?? '') === '--no-extension') {
    require $plugin;
    do_action('before_woocommerce_init');
    check(in_array(['custom_order_tables', $plugin, true], Automattic\WooCommerce\Utilities\FeaturesUtil::$declared, true),
          'without the extension: HPOS compatibility declared');
    check(str_contains(notices(), 'the cashback PHP extension is not loaded'), 'without the extension: an admin notice says so');
    $o = cart();
    check(stub_classic_checkout($o, 'cod') > 0 && $o->get_status() === 'processing', 'without the extension: checkout and payment go on');
    done();
}

/* ---- the extension loaded, nothing configured (no php.ini, no settings) -- */
if (($argv[1] ?? '') === '--unconfigured') {
    require $plugin;
    ini_set('error_log', $argv[2] . '/unconfigured.log');
    $n = notices();
    check(str_contains($n, 'the configuration is not usable') && str_contains($n, 'missing required key &#039;merchant_id&#039;'),
          'unconfigured: the admin notice names what is missing', $n);
    $o = cart();
    check(stub_block_checkout($o, 'cod') > 0 && $o->get_status() === 'processing', 'unconfigured: checkout and payment go on');
    check(count(WP::$logs) === 1 && WP::$logs[0][1] === 'checkout: click of order ' . $o->get_id()
          . " not kept: 3 missing required key 'merchant_id' (set cashback.connection or cashback.config in php.ini)",
          'unconfigured: logged once (three checkout hooks), not thrown; no click: no sale', WP::$logs);
    done();
}

[$receiver, $connection, $scratch] = [$argv[1], $argv[2], $argv[3]];
function stats(): array
{
    global $receiver;
    return json_decode((string)file_get_contents($receiver . '/_stats'), true);
}
function deliver(): void
{
    check(Cashback\flush(20000) === true, 'the spool is delivered');
}

require $plugin;
ini_set('error_log', $scratch . '/php-errors.log');

/* ---- HPOS and block checkout compatibility ------------------------------ */
do_action('before_woocommerce_init');
check(in_array(['custom_order_tables', $plugin, true], Automattic\WooCommerce\Utilities\FeaturesUtil::$declared, true)
      && in_array(['cart_checkout_blocks', $plugin, true], Automattic\WooCommerce\Utilities\FeaturesUtil::$declared, true),
      'before_woocommerce_init declares HPOS (custom_order_tables) and cart_checkout_blocks', Automattic\WooCommerce\Utilities\FeaturesUtil::$declared);
check(notices() === '', 'configured: no admin notice', notices());

/* ---- landing: the click cookie ------------------------------------------ */
$_SERVER['QUERY_STRING'] = 'cb_click=wc-land.1&utm_source=x';
check(isset(WP::$hooks['init']), 'the landing is hooked on init');
ob_start();
$cookie = Cashback_WC::landing();
ob_end_clean();
check(is_string($cookie) && str_starts_with($cookie, 'cashback_click='), 'landing sets the click cookie', $cookie);
$_COOKIE = ['cashback_click' => explode('=', explode(';', (string)$cookie)[0], 2)[1] ?? ''];
unset($_SERVER['QUERY_STRING']);
$click_of = fn($o) => (string)$o->get_meta(CASHBACK_WC_META_CLICK);

/* ---- 1. classic checkout, card: sale once when paid, confirm 30 days after completed */
$o1 = cart();
$id1 = stub_classic_checkout($o1, 'card');
check(str_ends_with($click_of($o1), '.wc-land.1'), 'classic checkout stores the click handle on the order', $click_of($o1));
check($o1->get_meta(CASHBACK_WC_META_SALE) === '', 'pending (card not paid yet): no sale');
$o1->payment_complete('txn-1');         /* status_changed to processing, then woocommerce_payment_complete */
$sale1 = $o1->get_meta(CASHBACK_WC_META_SALE);
check(strlen($sale1) === 32, 'paid: the sale is reported');
$o1->update_status('completed');
check($o1->get_meta(CASHBACK_WC_META_SALE) === $sale1, 'completed after processing: no second report');
check(as_has_scheduled_action('cashback_wc_confirm', [$id1], 'cashback'), 'completed: the confirmation is scheduled');
$due = array_values(array_filter(AS_Stub::$actions, fn($a) => $a[1] === 'cashback_wc_confirm'))[0][0] ?? 0;
check($due >= time() + 29 * 86400, 'the confirmation is due after the return window');

/* ---- 2. block checkout (Store API), bank transfer: on-hold, then marked paid */
$o2 = cart();
$id2 = stub_block_checkout($o2, 'bacs');
check(str_ends_with($click_of($o2), '.wc-land.1'), 'block checkout stores the click handle on the draft order');
check($o2->get_status() === 'on-hold' && $o2->get_meta(CASHBACK_WC_META_SALE) === '', 'bank transfer on-hold: no sale');
$o2->update_status('processing', '', true);     /* the merchant saw the money */
check(strlen($o2->get_meta(CASHBACK_WC_META_SALE)) === 32, 'bank transfer marked processing: the sale is reported');

/* ---- 3. block checkout, cash on delivery: processing at once ------------ */
$o3 = cart();
$id3 = stub_block_checkout($o3, 'cod');
check($o3->get_status() === 'processing' && strlen($o3->get_meta(CASHBACK_WC_META_SALE)) === 32,
      'cash on delivery (processing at checkout): the sale is reported');

/* ---- 4. never paid: auto-cancelled, or cancelled on hold: nothing -------- */
$o4 = cart();
$id4 = stub_classic_checkout($o4, 'card');      /* the buyer never paid */
$o5 = cart();
$id5 = stub_classic_checkout($o5, 'bacs');      /* the transfer never came */
wc_cancel_unpaid_orders();
$o5->update_status('cancelled', '', true);
check($o4->get_status() === 'cancelled' && $o5->get_status() === 'cancelled', 'unpaid orders are cancelled by WooCommerce');
check($o4->get_meta(CASHBACK_WC_META_ENDED) === '' && $o5->get_meta(CASHBACK_WC_META_ENDED) === '',
      'an order cancelled unpaid reports no cancel');

/* ---- 5. paid, completed, then cancelled: a cancel, and no confirm -------- */
$o6 = cart();
$id6 = stub_classic_checkout($o6, 'cod');
$o6->update_status('completed');
$o6->update_status('cancelled', '', true);
check($o6->get_meta(CASHBACK_WC_META_ENDED) === 'cancelled', 'a paid order cancelled reports the cancel');
check(!as_has_scheduled_action('cashback_wc_confirm', [$id6], 'cashback'), 'the cancel unschedules its confirmation');

/* ---- 6. a full refund as a plain gross amount equals the net sale -------- */
$o7 = cart();
$id7 = stub_classic_checkout($o7, 'cod');
$o7->update_status('completed');
$r7 = wc_create_refund(['amount' => 48.00, 'reason' => 'Whole order returned', 'order_id' => $id7]);
check($r7 instanceof WC_Order_Refund && $o7->get_status() === 'refunded', 'a full refund of 48.00 (gross) refunds the order');
check($o7->get_meta(CASHBACK_WC_META_REFUNDS) === [(string)$r7->get_id() => 3500], 'it is reported as 35.00, the net sale',
      $o7->get_meta(CASHBACK_WC_META_REFUNDS));
check(!as_has_scheduled_action('cashback_wc_confirm', [$id7], 'cashback'), 'a full refund unschedules the confirmation');

/* ---- 7. refunds in parts: lines with tax, a plain amount, then "Refunded" */
$o8 = cart();
$id8 = stub_block_checkout($o8, 'cod');
$mug = array_key_first($o8->get_items('line_item'));
$ra = wc_create_refund(['amount' => 30.00, 'order_id' => $id8,
                        'line_items' => [$mug => ['qty' => 2, 'refund_total' => 25.00, 'refund_tax' => [1 => 5.00]]]]);
$rb = wc_create_refund(['amount' => 6.00, 'order_id' => $id8]);
$o8->update_status('refunded', '', true);       /* WooCommerce refunds the 12.00 left as a plain amount */
$parts = $o8->get_meta(CASHBACK_WC_META_REFUNDS);
check(is_array($parts) && count($parts) === 3 && $parts[(string)$ra->get_id()] === 2500 && $parts[(string)$rb->get_id()] === 438
      && array_sum($parts) === 3500,
      'refunds: the mugs with tax 2500, 6.00 gross 438 (6 x 35/48), the rest 562: 3500 in all', $parts);

/* ---- 7b. a refund of a fee line alone: fees are not in the sale ---------- */
$of = new WC_Order([['Mug', 2, 25.00, 'MUG-1'], ['Tea', 1, 10.00, 'TEA-1']], [], 5.00, 1.00, 0.2, 2.00);
$idf = stub_classic_checkout($of, 'cod');
$fee = array_key_first($of->get_items('fee'));
wc_create_refund(['amount' => 2.00, 'order_id' => $idf, 'line_items' => [$fee => ['qty' => 1, 'refund_total' => 2.00]]]);
check($of->get_meta(CASHBACK_WC_META_REFUNDS) === '' && strlen($of->get_meta(CASHBACK_WC_META_SALE)) === 32,
      'a refund of the gift-wrap fee alone reports nothing (the sale is products only)', $of->get_meta(CASHBACK_WC_META_REFUNDS));

/* ---- 8. repeated hooks count once ---------------------------------------- */
do_action('woocommerce_payment_complete', $id3, 'again');
do_action('woocommerce_order_status_changed', $id3, 'processing', 'completed', $o3);
do_action('woocommerce_order_refunded', $id7, $r7->get_id());
check(count($o7->get_meta(CASHBACK_WC_META_REFUNDS)) === 1, 'a refund hook fired twice reports once');

/* ---- 9. an order from elsewhere (no click) is not reported ---------------- */
$saved_cookie = $_COOKIE;
$_COOKIE = [];
$o9 = cart();
$id9 = stub_classic_checkout($o9, 'cod');
check($click_of($o9) === '' && $o9->get_meta(CASHBACK_WC_META_SALE) === '', 'no click: no meta, no sale');
$_COOKIE = $saved_cookie;

/* ---- confirmation: 31 days later the queue runner runs ------------------- */
stub_run_actions(time() + 31 * 86400);
deliver();
$orders = stats()['orders'] ?? [];
$want = [
    $id1 => ['sale' => 3500, 'refunded' => 0, 'cancelled' => false, 'confirmed' => true, 'net' => 3500],
    $id2 => ['sale' => 3500, 'refunded' => 0, 'cancelled' => false, 'confirmed' => false, 'net' => 3500],
    $id3 => ['sale' => 3500, 'refunded' => 0, 'cancelled' => false, 'confirmed' => true, 'net' => 3500],
    $id6 => ['sale' => 3500, 'refunded' => 0, 'cancelled' => true, 'confirmed' => false, 'net' => 0],
    $id7 => ['sale' => 3500, 'refunded' => 3500, 'cancelled' => false, 'confirmed' => false, 'net' => 0],
    $id8 => ['sale' => 3500, 'refunded' => 3500, 'cancelled' => false, 'confirmed' => false, 'net' => 0],
    $idf => ['sale' => 3500, 'refunded' => 0, 'cancelled' => false, 'confirmed' => false, 'net' => 3500],
];
foreach ($want as $id => $w) {
    $got = array_intersect_key($orders[(string)$id] ?? [], $w);
    check($got == $w, "receiver: order $id " . json_encode($w), $orders[(string)$id] ?? null);
}
foreach ([$id4, $id5, $id9] as $id) {
    check(!isset($orders[(string)$id]), "receiver: nothing of order $id (never paid, or no click)");
}
check(count(Cashback\quarantine()) === 0, 'nothing was rejected (no cancel or refund without its sale)', Cashback\quarantine());
$s = stats();
check(($s['accepted'] ?? 0) === 7 + 1 + 1 + 3 + 2, 'the receiver took 7 sales, 1 cancel, 1 + 3 refunds, 2 confirmations', $s['accepted'] ?? null);

/* ---- 10. a configuration error never aborts checkout or a page ----------- */
WP::$logs = [];
update_option(Cashback_WC::OPTION, ['connection' => 'cashback:merchant_id=wc-shop'] + Cashback_WC::settings());
Cashback_WC::reset_client();
$_SERVER['QUERY_STRING'] = 'cb_click=wc-land.2';
ob_start();
$landed = Cashback_WC::landing();
ob_end_clean();
check($landed === null, 'bad configuration: the landing page goes on');
unset($_SERVER['QUERY_STRING']);
$o10 = cart();
$id10 = stub_block_checkout($o10, 'cod');
check($id10 > 0 && $o10->get_status() === 'processing', 'bad configuration: the block checkout and the payment go on');
$o11 = cart();
check(stub_classic_checkout($o11, 'card') > 0 && $o11->payment_complete('t') && $o11->get_status() === 'processing',
      'bad configuration: the classic checkout and the payment go on');
check(count(WP::$logs) >= 3 && WP::$logs[0][0] === 'cashback' && str_contains(WP::$logs[1][1], 'checkout: click of order ' . $id10 . ' not kept: 3 '),
      'each failure is logged to wc_get_logger() (source cashback) with its status code', WP::$logs);
$n = notices();
check(str_contains($n, 'the configuration is not usable') && str_contains($n, 'last error:'), 'bad configuration: an admin notice', $n);
check(!str_contains(implode("\n", array_column(WP::$logs, 1)), 'secret'), 'no log line holds a secret');

/* ---- 11. a spool error: the payment goes on, the error is logged ---------- */
WP::$logs = [];
touch($scratch . '/not-a-dir');
update_option(Cashback_WC::OPTION, ['connection' => $connection, 'spool_dir' => $scratch . '/not-a-dir/spool'] + Cashback_WC::settings());
Cashback_WC::reset_client();
$o12 = cart();
$id12 = stub_classic_checkout($o12, 'cod');
check($o12->get_status() === 'processing' && $o12->get_meta(CASHBACK_WC_META_SALE) === '',
      'unwritable spool: the payment goes on, no sale recorded as reported');
check(str_contains(implode("\n", array_column(WP::$logs, 1)), 'sale of order ' . $id12 . ' not reported'), 'unwritable spool: logged', WP::$logs);

/* ---- 12. without wc_get_logger(): error_log ------------------------------- */
/* (the stubs always define it; the fallback is exercised by test-mapping.php's run under php.sh) */

/* ---- 13. the settings page: save, never echo the secret, send a test event */
update_option(Cashback_WC::OPTION, []);
update_option(Cashback_WC::LAST_ERROR, null);
Cashback_WC::reset_client();
$_POST = ['_wpnonce' => 'nonce-cashback_wc_save', 'action' => 'cashback_wc_save', 'connection' => $connection,
          'landing_params' => 'cb_click, awc', 'spool_dir' => $scratch . '/settings-spool', 'deliver' => '1'];
do_action('admin_post_cashback_wc_save');
$s = Cashback_WC::settings();
check($s['connection'] === $connection && $s['landing_params'] === 'cb_click, awc' && str_contains((string)WP::$redirect, 'cashback_saved=1'),
      'settings: saved', $s);
$_POST = ['_wpnonce' => 'nonce-cashback_wc_save', 'connection' => '', 'landing_params' => 'cb_click, awc',
          'spool_dir' => $scratch . '/settings-spool', 'deliver' => '1'];
do_action('admin_post_cashback_wc_save');
check(Cashback_WC::settings()['connection'] === $connection, 'settings: an empty field keeps the stored connection string');
$_POST = ['_wpnonce' => 'nonce-cashback_wc_save', 'connection' => 'merchant_id=x'];
do_action('admin_post_cashback_wc_save');
check(Cashback_WC::settings()['connection'] === $connection && str_contains((string)WP::$redirect, 'cashback_error=connection'),
      'settings: a string that is not a connection string is refused');
$_POST = ['_wpnonce' => 'forged', 'connection' => 'cashback:evil'];
try {
    do_action('admin_post_cashback_wc_save');
    check(false, 'settings: a forged form is refused');
} catch (RuntimeException $e) {
    check(Cashback_WC::settings()['connection'] === $connection, 'settings: a forged form (bad nonce) is refused');
}
do_action('admin_menu');
$secret = preg_match('/secret=([^;]+)/', $connection, $m) ? $m[1] : 'x';
ob_start();
(WP::$menu['woocommerce']['cashback-wc'])();
$page = (string)ob_get_clean();
check(str_contains($page, 'Send test event') && str_contains($page, 'cb_click, awc') && !str_contains($page, $secret),
      'settings page: the fields and the test button, never the secret');
$_POST = ['_wpnonce' => 'nonce-cashback_wc_test', 'action' => 'cashback_wc_test'];
$before = stats()['accepted'];
do_action('admin_post_cashback_wc_test');
$result = get_transient(Cashback_WC_Settings::RESULT);
check(is_array($result) && $result['ok'] === true, 'send test event: ok', $result);
check(stats()['accepted'] === $before + 1, 'send test event: the network got it', $result);
ob_start();
(WP::$menu['woocommerce']['cashback-wc'])();
$page = (string)ob_get_clean();
check(str_contains($page, 'notice-success') && !str_contains($page, $secret), 'the page shows the result once');
WP::$options[Cashback_WC::LAST_ERROR] = null;
check(notices() === '', 'settings connection in use, all well: no notice', notices());
do_action('init');
check(as_has_scheduled_action('cashback_wc_flush', [], 'cashback'), 'delivery is scheduled every minute with Action Scheduler');
$o13 = cart();
stub_classic_checkout($o13, 'cod');
do_action('cashback_wc_flush');
check(Cashback_WC::client()->status()['queued_events'] === 0 && isset(stats()['orders'][(string)$o13->get_id()]),
      'the scheduled delivery sends what the settings client spooled');

/* ---- 14. the send-test fallback when the connection is bad --------------- */
update_option(Cashback_WC::OPTION, ['connection' => 'cashback:merchant_id=wc-shop']);
Cashback_WC::reset_client();
$r = Cashback_WC_Settings::send_test();
check($r['ok'] === false && str_starts_with($r['lines'][0], 'failed: 3 '), 'send test event with a bad configuration: the error, not a crash', $r);

/* ---- 15. deactivate and uninstall ---------------------------------------- */
(WP::$deactivate[$plugin])();
check(!as_has_scheduled_action('cashback_wc_flush', null, 'cashback'), 'deactivation unschedules the deliveries');
update_option(Cashback_WC::OPTION, ['connection' => $connection]);
define('WP_UNINSTALL_PLUGIN', 'cashback-woocommerce/cashback-woocommerce.php');
require dirname(__DIR__) . '/uninstall.php';
check(get_option(Cashback_WC::OPTION, null) === null && get_option(Cashback_WC::LAST_ERROR, null) === null,
      'uninstall deletes the settings (the secret) and the last error');

done();
