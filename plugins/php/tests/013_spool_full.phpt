--TEST--
cashback: a full spool is Cashback\Exception code 19 at report time, never a silent drop
--FILE--
<?php
require __DIR__ . '/cashback_test.inc';
cb_default('full', 'spool_max_bytes=65536');
$pad = str_repeat('x', 3500);
$stored = 0;
$error = null;
for ($i = 0; $i < 100 && $error === null; $i++) {
    try {
        Cashback\sale(['order_id' => "full-$i", 'click' => 't', 'amount' => '1.00',
                       'currency' => 'EUR', 'metadata' => ['pad' => $pad]]);
        $stored++;
    } catch (Cashback\Exception $e) {
        $error = $e;
    }
}
var_dump($error instanceof Cashback\Exception, $error?->getCode() === Cashback\Exception::SPOOL_FULL);
echo $error?->getMessage() !== '' ? "has detail\n" : "no detail\n";
// Everything reported before the error is still queued.
var_dump($stored > 5, Cashback\status()['queued_events'] === $stored);
?>
--EXPECT--
bool(true)
bool(true)
has detail
bool(true)
bool(true)
