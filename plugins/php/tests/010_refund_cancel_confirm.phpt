--TEST--
cashback: refund(), cancel() and confirm() from PHP arrays, and their errors
--FILE--
<?php
require __DIR__ . '/cashback_test.inc';
cb_default('after-sale');
Cashback\sale(['order_id' => '1001', 'click' => 'tok', 'amount' => '49.90', 'currency' => 'EUR']);

// A refund with the shop's credit note id: reporting it twice is one refund.
$r = ['order_id' => '1001', 'refund_id' => 'CN-7', 'amount' => '15.00', 'currency' => 'EUR', 'reason' => 'returned'];
$id = Cashback\refund($r);
var_dump(strlen($id), Cashback\refund($r) === $id);
// Another credit note, another id; an int refund id is fine.
var_dump(Cashback\refund(['order_id' => '1001', 'refund_id' => 8, 'amount_minor' => 500, 'currency' => 'EUR']) !== $id);
// Without a refund id, each refund is a new event.
$a = Cashback\refund(['order_id' => '1001', 'amount' => '1.00', 'currency' => 'EUR']);
$b = Cashback\refund(['order_id' => '1001', 'amount' => '1.00', 'currency' => 'EUR']);
var_dump($a !== $b);

cb_try('refund without amount', fn() => Cashback\refund(['order_id' => '1001', 'refund_id' => 'CN-9']));
cb_try('refund of 0', fn() => Cashback\refund(['order_id' => '1001', 'amount' => '0.00', 'currency' => 'EUR']));
cb_try('refund float', fn() => Cashback\refund(['order_id' => '1001', 'amount' => 0.5, 'currency' => 'EUR']));
cb_try('refund bad reason', fn() => Cashback\refund(['order_id' => '1001', 'amount' => '1.00', 'currency' => 'EUR', 'reason' => 'not ok']));

// Cancel and confirm need only the order; each has one id per order.
$c = Cashback\cancel(['order_id' => '1001', 'reason' => 'payment_failed']);
var_dump(Cashback\cancel(['order_id' => '1001']) === $c);
$f = Cashback\confirm(['order_id' => '1001']);
var_dump($f !== $c && Cashback\confirm(['order_id' => '1001', 'test' => false]) === $f);
cb_try('cancel without order', fn() => Cashback\cancel([]));
cb_try('confirm float amount', fn() => Cashback\confirm(['order_id' => '1001', 'amount' => 1.5, 'currency' => 'EUR']));
echo Cashback\status()['queued_events'], " queued\n";
?>
--EXPECTF--
int(32)
bool(true)
bool(true)
bool(true)
refund without amount: 10: %samount: required for a refund
refund of 0: 8: %s
refund float: 8: amount: a float cannot hold money exactly; pass a decimal string such as '49.90' or an int
refund bad reason: 10: reason: %s
bool(true)
bool(true)
cancel without order: 10: order_id: required
confirm float amount: 8: amount: a float cannot hold money exactly; pass a decimal string such as '49.90' or an int
10 queued
