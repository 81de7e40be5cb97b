--TEST--
cashback: an exception echoing a long value is cut, not as long as the value
--FILE--
<?php
require __DIR__ . '/cashback_test.inc';
cb_default('longvalues');
$ok = ['order_id' => '1001', 'click' => 'tok', 'amount' => '49.90', 'currency' => 'EUR'];
/* A price of 1 MiB of digits (and one of escapes) is echoed by the error:
 * the message is cut at 1025 characters, ending "...". */
foreach (["1" . str_repeat("0", 1 << 20) . ".5", str_repeat("\x1b", 1 << 20)] as $price) {
    try {
        Cashback\sale(array_merge($ok, ['items' => [['sku' => 'a', 'price' => $price]]]));
        echo "no exception\n";
    } catch (Cashback\Exception $e) {
        $m = $e->getMessage();
        echo $e->getCode(), ": ", strlen($m) <= 1024 ? "cut" : "LONG " . strlen($m),
            ", ends with '...': ", str_ends_with($m, '...') ? "yes" : "no",
            ", starts: ", substr($m, 0, 24), "\n";
    }
}
echo Cashback\status()['queued_events'], " queued\n";
?>
--EXPECT--
8: cut, ends with '...': yes, starts: items[0].price: '1000000
8: cut, ends with '...': yes, starts: items[0].price: amount i
0 queued
