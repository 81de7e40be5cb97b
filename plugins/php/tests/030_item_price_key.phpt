--TEST--
cashback: an item's refusal names the PHP item key (price, price_minor), not the SDK's unit_price; a name may hold ':'
--FILE--
<?php
require __DIR__ . '/cashback_test.inc';
cb_default('itemkey');
$ok = ['order_id' => '1001', 'click' => 'tok', 'amount' => '49.90', 'currency' => 'EUR'];
$item = fn(array $it) => fn() => Cashback\sale($ok + ['items' => [['sku' => 'ok', 'price' => '1.00'], $it]]);
cb_try('negative price', $item(['sku' => 'a', 'price' => '-1.00']));
cb_try('negative price int', $item(['sku' => 'a', 'price' => -1]));
cb_try('negative price_minor', $item(['sku' => 'a', 'price_minor' => -100]));
cb_try('price_minor too large', $item(['sku' => 'a', 'price_minor' => PHP_INT_MAX]));
cb_try('quantity', $item(['sku' => 'a', 'price' => '1.00', 'quantity' => 0]));
cb_try('sku', $item(['sku' => 'a b', 'price' => '1.00']));
cb_try('name', $item(['sku' => 'a', 'price' => '1.00', 'name' => str_repeat('n', 300)]));
cb_try('category', $item(['sku' => 'a', 'price' => '1.00', 'category' => "k\x01"]));
/* ':' in a name or category is fine here (the event text's item= cannot hold it). */
echo strlen(Cashback\sale($ok + ['items' => [['sku' => 'MUG-1', 'name' => 'Mug: blue, 0.3 l', 'category' => 'home:kitchen',
                                               'price' => '12.50', 'quantity' => 2]]])), "\n";
?>
--EXPECT--
negative price: 8: items[1].price: '-1.00' is negative: an amount is 0 to 10^15 minor units
negative price int: 8: items[1].price: '-1' is negative: an amount is 0 to 10^15 minor units
negative price_minor: 8: items[1].price_minor: '-100' is negative: an amount is 0 to 10^15 minor units
price_minor too large: 8: items[1].price_minor: '9223372036854775807' is more than 10^15 minor units, the largest amount
quantity: 10: items[1].quantity: must be 1 to 1000000
sku: 10: items[1].sku: must be 1-64 printable characters, no space
name: 10: items[1].name: must be UTF-8 of at most 256 bytes without control characters
category: 10: items[1].category: must be UTF-8 of at most 64 bytes without control characters
32
