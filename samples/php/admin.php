<?php
/* The shop's back office: a refund, a cancellation, or the end of the
 * return window. Each is one line for cashback. A real back office checks
 * who is asking; this sample is for tests on 127.0.0.1 only. */
require __DIR__ . '/shop.php';

$order = shop_load_order($_GET['order'] ?? '');
if ($order === null) {
    http_response_code(404);
    shop_page('Not found', 'No such order.');
    exit;
}
$action = $_GET['action'] ?? '';
try {
    switch ($action) {
    case 'refund':
        $id = Cashback\refund(['order_id' => $order['id'], 'refund_id' => $_GET['refund_id'] ?? 'r1', 'amount' => $_GET['amount'] ?? $order['total'], 'currency' => $order['currency']]); // cashback
        break;
    case 'cancel':
        $id = Cashback\cancel(['order_id' => $order['id'], 'reason' => 'payment_failed']); // cashback
        break;
    case 'confirm':
        $id = Cashback\confirm(['order_id' => $order['id']]); // cashback
        break;
    default:
        http_response_code(400);
        shop_page('Bad request', 'Unknown action.');
        exit;
    }
} catch (Cashback\Exception $e) {
    http_response_code(500);
    shop_page('Cashback error', htmlspecialchars($e->getCode() . ': ' . $e->getMessage()));
    exit;
}
shop_page('Done', htmlspecialchars("$action of order {$order['id']}: cashback event $id"));
