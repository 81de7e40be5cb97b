--TEST--
cashback: an amount too large is reported as too large, not as a decimals problem (amount, item price, PHP int)
--FILE--
<?php
require __DIR__ . '/cashback_test.inc';
cb_default('amountlarge');
$ok = ['order_id' => '1001', 'click' => 'tok', 'amount' => '49.90', 'currency' => 'EUR'];
$with = fn(array $change) => fn() => Cashback\sale(array_merge($ok, $change));
cb_try('20 digits', $with(['amount' => '99999999999999999999']));
cb_try('10^15 + 1 minor units', $with(['amount' => '10000000000000.01']));
cb_try('PHP_INT_MAX', $with(['amount' => PHP_INT_MAX]));
cb_try('JPY', $with(['amount' => '99999999999999999999', 'currency' => 'JPY']));
cb_try('amount_minor', fn() => Cashback\sale(['order_id' => '1', 'click' => 't', 'amount_minor' => PHP_INT_MAX, 'currency' => 'EUR']));
cb_try('item price', $with(['items' => [['sku' => 'a', 'price' => '99999999999999999999']]]));
/* Still a decimals problem when it is one. */
cb_try('too many decimals', $with(['amount' => '9.999']));
cb_try('JPY decimals', $with(['amount' => '1.5', 'currency' => 'JPY']));
cb_try('item decimals', $with(['items' => [['sku' => 'a', 'price' => '1.999']]]));
echo strlen(Cashback\sale(array_merge($ok, ['amount' => '10000000000000.00']))), "\n";
?>
--EXPECT--
20 digits: 8: amount: '99999999999999999999' is more than 10^15 minor units, the largest amount
10^15 + 1 minor units: 8: amount: '10000000000000.01' is more than 10^15 minor units, the largest amount
PHP_INT_MAX: 8: amount: '9223372036854775807' is more than 10^15 minor units, the largest amount
JPY: 8: amount: '99999999999999999999' is more than 10^15 minor units, the largest amount
amount_minor: 8: amount_minor: '9223372036854775807' is more than 10^15 minor units, the largest amount
item price: 8: items[0].price: '99999999999999999999' is more than 10^15 minor units, the largest amount
too many decimals: 8: amount: '9.999' is not an exact EUR amount (at most 2 decimals, no exponent or spaces)
JPY decimals: 8: amount: '1.5' is not an exact JPY amount (at most 0 decimals, no exponent or spaces)
item decimals: 8: items[0].price: amount is not exact or out of range ('1.999' EUR)
32
