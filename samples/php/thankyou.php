<?php
/* Thank-you page. It reports the sale every time it is shown: a reload
 * reports the same order again, which libcashback turns into the same event
 * id, so the network counts it once. (Reporting from the payment provider's
 * webhook instead is better still: the shopper may never come back here.) */
require __DIR__ . '/shop.php';

$order = shop_load_order($_GET['order'] ?? '');
if ($order === null || !$order['paid']) {
    http_response_code(404);
    shop_page('Not found', 'No such order.');
    exit;
}

if ($order['click'] !== null) {                      // cashback: a sale that came
    try {                                            // through the network
        $id = Cashback\sale([
            'order_id' => $order['id'], 'click' => $order['click'],
            'amount' => $order['total'], 'currency' => $order['currency'],
            'items' => $order['lines'],
        ]);
    } catch (Cashback\Exception $e) { // the buyer still gets the page: log, go on
        error_log('cashback: ' . $e->getMessage());
    }
}

shop_page('Thank you', 'Order ' . htmlspecialchars($order['id']) . ' is paid: '
    . $order['total'] . ' ' . $order['currency']
    . (isset($id) ? " (cashback event $id)" : ''));
