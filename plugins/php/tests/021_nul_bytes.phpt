--TEST--
cashback: a NUL byte in a metadata key or an options key is refused, never cut
--FILE--
<?php
require __DIR__ . '/cashback_test.inc';
$dir = cb_default('nul-bytes');
$sale = ['order_id' => '1001', 'click' => 'tok', 'amount' => '49.90', 'currency' => 'EUR'];
/* "note\0x" cut at its NUL is "note": it overwrote the real note. */
cb_try('metadata key', fn() => Cashback\sale($sale + ['metadata' => ['note' => 'kept', "note\0x" => 'smuggled']]));
cb_try('metadata key, NUL first', fn() => Cashback\sale($sale + ['metadata' => ["\0" => 'x']]));
echo Cashback\status()['queued_events'], " queued\n";
/* An options key cut at its NUL would set another option. */
cb_try('options key', fn() => new Cashback\Client(cb_conn(), ["spool_dir\0x" => $dir]));
/* Values with NUL bytes were refused already, and still are. */
cb_try('metadata value', fn() => Cashback\sale($sale + ['metadata' => ['note' => "a\0b"]]));
cb_try('options value', fn() => new Cashback\Client(cb_conn(), ['spool_dir' => "$dir\0x"]));
cb_try('connection', fn() => new Cashback\Client(cb_conn() . "\0;x=y"));
cb_try('replay id', fn() => Cashback\replay("abc\0def"));
/* A php.ini value with a NUL: refused, not cut at it (it was cut: the
 * spool went to the directory before the NUL). */
ini_set('cashback.spool_dir', "$dir/cut\0/rest");
cb_try('ini value', fn() => Cashback\status());
ini_set('cashback.spool_dir', $dir);
/* Without NUL, metadata is taken. */
echo strlen(Cashback\sale($sale + ['metadata' => ['note' => 'kept']])), "\n";
?>
--EXPECT--
metadata key: 10: metadata: key 'note\x00x' contains a NUL byte
metadata key, NUL first: 10: metadata: key '\x00' contains a NUL byte
0 queued
options key: 3: options: the key contains a NUL byte
metadata value: 10: metadata[note]: contains a NUL byte
options value: 3: options: spool_dir: the value contains a NUL byte
connection: 3: connection: connection string: endpoint: the value contains a NUL byte
replay id: 1: replay: the id contains a NUL byte
ini value: 3: cashback.spool_dir: spool_dir: the value contains a NUL byte
32
