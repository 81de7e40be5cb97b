--TEST--
cashback: sale() refuses floats, missing and malformed fields with Cashback\Exception
--FILE--
<?php
require __DIR__ . '/cashback_test.inc';
cb_default('sale-errors');
$ok = ['order_id' => '1001', 'click' => 'tok', 'amount' => '49.90', 'currency' => 'EUR'];
$with = fn(array $change) => fn() => Cashback\sale(array_merge($ok, $change));
$without = function (string $key) use ($ok) { unset($ok[$key]); return fn() => Cashback\sale($ok); };

cb_try('float amount', $with(['amount' => 49.90]));
cb_try('float amount_minor', fn() => Cashback\sale(['order_id' => '1', 'click' => 't', 'amount_minor' => 4990.0, 'currency' => 'EUR']));
cb_try('float item price', $with(['items' => [['sku' => 'a', 'price' => 9.99]]]));
cb_try('float item price_minor', $with(['items' => [['sku' => 'a', 'price_minor' => 999.0]]]));
cb_try('missing order_id', $without('order_id'));
cb_try('null order_id', $with(['order_id' => null]));
cb_try('bad order_id', $with(['order_id' => 'has space']));
cb_try('long order_id', $with(['order_id' => str_repeat('x', 65)]));
cb_try('array order_id', $with(['order_id' => [1]]));
cb_try('unknown key', $with(['amout' => '1.00']));
cb_try('list instead of map', fn() => Cashback\sale(['1001', 'tok']));
cb_try('both amounts', $with(['amount_minor' => 4990]));
cb_try('missing currency', $without('currency'));
cb_try('unknown currency', $with(['currency' => 'EUX']));
cb_try('too many decimals', $with(['amount' => '49.999']));
cb_try('not a number', $with(['amount' => '49,90']));
cb_try('exponent', $with(['amount' => '4.99e1']));
cb_try('bool amount', $with(['amount' => true]));
cb_try('missing amount', $without('amount'));
cb_try('no click, no voucher', $without('click'));
cb_try('bad click', $with(['click' => 'bad token']));
cb_try('NUL in click', $with(['click' => "tok\0en"]));
cb_try('items not array', $with(['items' => 'MUG']));
cb_try('item not array', $with(['items' => ['MUG']]));
cb_try('item unknown key', $with(['items' => [['sku' => 'a', 'price' => '1.00', 'qty' => 2]]]));
cb_try('item without sku', $with(['items' => [['price' => '1.00']]]));
cb_try('item without price', $with(['items' => [['sku' => 'a']]]));
cb_try('item quantity 0', $with(['items' => [['sku' => 'a', 'price' => '1.00', 'quantity' => 0]]]));
cb_try('item quantity string', $with(['items' => [['sku' => 'a', 'price' => '1.00', 'quantity' => '2']]]));
cb_try('metadata float', $with(['metadata' => ['rate' => 0.5]]));
cb_try('metadata list', $with(['metadata' => ['a', 'b']]));
cb_try('metadata bad key', $with(['metadata' => ['bad key' => 'x']]));
cb_try('customer', $with(['customer' => 'vip']));
cb_try('test not bool', $with(['test' => 1]));
cb_try('utc_offset alone', $with(['utc_offset' => 60]));
cb_try('utc_offset range', $with(['order_time' => 1795459310, 'utc_offset' => 5000]));
cb_try('vouchers type', $with(['vouchers' => [['X']]]));
echo Cashback\status()['queued_events'], " queued\n";
?>
--EXPECTF--
float amount: 8: amount: a float cannot hold money exactly; pass a decimal string such as '49.90' or an int
float amount_minor: 8: amount_minor: a float cannot hold money exactly; pass a decimal string such as '49.90' or an int
float item price: 8: items[0].price: a float cannot hold money exactly; pass a decimal string such as '49.90' or an int
float item price_minor: 8: items[0].price_minor: a float cannot hold money exactly; pass a decimal string such as '49.90' or an int
missing order_id: 10: order_id: required
null order_id: 10: order_id: required
bad order_id: 10: order_id: must be 1-64 printable ASCII characters without space
long order_id: 10: order_id: must be 1-64 printable ASCII characters without space
array order_id: 10: order_id: must be a string or an int, not array
unknown key: 10: unknown key 'amout'
list instead of map: 10: unknown key 0 (expected an array with named keys)
both amounts: 10: amount: give amount or amount_minor, not both
missing currency: 10: currency: required with the amount (an ISO 4217 code such as 'EUR')
unknown currency: 9: %s
too many decimals: 8: %s
not a number: 8: %s
exponent: 8: %s
bool amount: 8: amount: must be a decimal string such as '49.90' or an int, not bool
missing amount: 10: %samount: required for a sale
no click, no voucher: 10: %sclick: a sale needs a click token or a voucher code
bad click: 10: click: %s
NUL in click: 10: click: contains a NUL byte
items not array: 10: items: must be an array, not string
item not array: 10: items[0]: must be an array, not string
item unknown key: 10: items[0]: unknown key 'qty'
item without sku: 10: items[0].sku: required
item without price: 10: items[0].price: required (or price_minor)
item quantity 0: 10: %s
item quantity string: 10: items[0].quantity: must be an int, not string
metadata float: 10: metadata[rate]: must be a string or an int, not float
metadata list: 10: metadata: keys must be names, not numbers
metadata bad key: 10: %s
customer: 10: customer: must be 'new', 'returning' or 'unknown'
test not bool: 10: test: must be a bool, not int
utc_offset alone: 10: utc_offset: needs order_time
utc_offset range: 10: %s
vouchers type: 10: vouchers[]: must be a string, not array
0 queued
