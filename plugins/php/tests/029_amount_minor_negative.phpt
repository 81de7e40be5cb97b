--TEST--
cashback: a negative amount_minor (and amount) is reported under the key given, as negative
--FILE--
<?php
require __DIR__ . '/cashback_test.inc';
cb_default('minorneg');
cb_try('amount_minor', fn() => Cashback\sale(['order_id' => '1', 'click' => 't', 'amount_minor' => -5, 'currency' => 'EUR']));
cb_try('refund amount_minor', fn() => Cashback\refund(['order_id' => '1', 'amount_minor' => -100, 'currency' => 'EUR']));
cb_try('amount', fn() => Cashback\sale(['order_id' => '1', 'click' => 't', 'amount' => '-5.00', 'currency' => 'EUR']));
cb_try('amount int', fn() => Cashback\sale(['order_id' => '1', 'click' => 't', 'amount' => -5, 'currency' => 'EUR']));
echo Cashback\status()['queued_events'], " queued\n";
?>
--EXPECT--
amount_minor: 8: amount_minor: '-5' is negative: an amount is 0 to 10^15 minor units
refund amount_minor: 8: amount_minor: '-100' is negative: an amount is 0 to 10^15 minor units
amount: 8: amount: '-5.00' is negative: an amount is 0 to 10^15 minor units
amount int: 8: amount: '-5' is negative: an amount is 0 to 10^15 minor units
0 queued
