--TEST--
cashback: a metadata value past the cap is reported as too long under its PHP key, not as "must be UTF-8 without control characters"
--FILE--
<?php
require __DIR__ . '/cashback_test.inc';
cb_default('metalong');
$ok = ['order_id' => '1001', 'click' => 'tok', 'amount' => '49.90', 'currency' => 'EUR'];
cb_try('5000 characters', fn() => Cashback\sale($ok + ['metadata' => ['note' => str_repeat('x', 5000)]]));
cb_try('two that pass together', fn() => Cashback\sale($ok + ['metadata' => ['a' => str_repeat('x', 4000), 'b' => str_repeat('y', 200)]]));
cb_try('a control character', fn() => Cashback\sale($ok + ['metadata' => ['note' => "a\x07b"]]));
echo strlen(Cashback\sale($ok + ['metadata' => ['note' => str_repeat('x', 4000)]])), "\n";
?>
--EXPECT--
5000 characters: 10: metadata[note]: the value is longer than 4096 bytes
two that pass together: 11: metadata[b]: all metadata together must fit 4096 bytes
a control character: 10: metadata[note]: value must be UTF-8 without control characters
32
