<?php
/* Landing page. A shopper arrives from the cashback network with
 * ?cb_click=<token> (or the network's own parameter, see landing_params). */
require __DIR__ . '/shop.php';

// With cashback.auto_capture=1 in php.ini the extension has already set the
// click cookie before this script ran, and this line can go; it is harmless
// then (no second cookie). Without auto capture it is the landing's line.
try {
    Cashback\capture(); // cashback
} catch (Cashback\Exception $e) { // cashback: a landing page never breaks
    error_log('cashback: ' . $e->getMessage());
}

$list = '';
foreach (CATALOGUE as $sku => $p) {
    $list .= '<li>' . htmlspecialchars($p['name']) . ' ' . $p['price'] . ' ' . CURRENCY
        . ' <a href="checkout.php?sku=' . $sku . '">buy</a></li>';
}
shop_page('Sample shop', "<ul>$list</ul>");
