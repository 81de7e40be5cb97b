<?php
/* Checkout: creates the order, keeps the click handle with it (the signed
 * cookie value: token, landing parameter and capture time), "pays" (this
 * sample has no payment provider) and sends the shopper to the thank-you
 * page. */
require __DIR__ . '/shop.php';

$sku = $_GET['sku'] ?? '';
if (!isset(CATALOGUE[$sku])) {
    http_response_code(404);
    shop_page('Not found', 'No such product.');
    exit;
}
$p = CATALOGUE[$sku];
$qty = max(1, min(10, (int)($_GET['qty'] ?? 1)));
$lines = [['sku' => $sku, 'name' => $p['name'], 'quantity' => $qty,
           'price' => $p['price'], 'category' => $p['category']]];
try {
    $click = Cashback\click(); // cashback: the click handle, kept with the order
} catch (Cashback\Exception $e) { // cashback: an error never stops a checkout
    error_log('cashback: ' . $e->getMessage());
    $click = null;
}
$order = [
    'id'       => shop_new_order_id(),
    'lines'    => $lines,
    'total'    => shop_total($lines),
    'currency' => CURRENCY,
    'voucher'  => $_GET['voucher'] ?? null,
    'click'    => $click,
    'paid'     => true,
];
shop_save_order($order);
header('Location: thankyou.php?order=' . $order['id'], true, 302);
