--TEST--
cashback: exceptions show the script's bytes printable (terminal escapes as \xNN)
--FILE--
<?php
require __DIR__ . '/cashback_test.inc';
cb_default('printable');
$ok = ['order_id' => '1001', 'click' => 'tok', 'amount' => '49.90', 'currency' => 'EUR'];
$with = fn(array $change) => fn() => Cashback\sale(array_merge($ok, $change));
/* Prints the message, and whether a raw control byte (or DEL, or a byte
 * above 0x7e) reached it. */
function cb_shown(string $label, callable $fn): void
{
    try {
        $fn();
        echo "$label: no exception\n";
    } catch (Cashback\Exception $e) {
        $m = $e->getMessage();
        echo "$label: ", $e->getCode(), ": ", $m,
            preg_match('/[\x00-\x1f\x7f-\xff]/', $m) ? " [RAW BYTES]" : "", "\n";
    }
}
cb_shown('currency', $with(['currency' => "E\x1b]0;pwned\x07"]));
cb_shown('amount', $with(['amount' => "4\x1b[2J9"]));
cb_shown('amount, C1', $with(['amount' => "\xc2\x9b" . "2J"]));
cb_shown('unknown key', $with(["amo\x1b[8munt" => '1.00']));
cb_shown('unknown key with NUL', $with(["amount\0x" => '1.00']));
cb_shown('item unknown key', $with(['items' => [['sku' => 'a', 'price' => '1.00', "q\x1bty" => 2]]]));
cb_shown('item price', $with(['items' => [['sku' => 'a', 'price' => "1\x1b[31m"]]]));
cb_shown('option value', fn() => new Cashback\Client(cb_conn(), ['landing_params' => "cb\x1b[2J"]));
cb_shown('connection value', fn() => new Cashback\Client("cashback:merchant_id=a\x1b[2Jb"));
echo Cashback\status()['queued_events'], " queued\n";
?>
--EXPECT--
currency: 9: currency: 'E\x1b]0;pwn' is not an active ISO 4217 code
amount: 8: amount: '4\x1b[2J9' is not an exact EUR amount (at most 2 decimals, no exponent or spaces)
amount, C1: 8: amount: '\xc2\x9b2J' is not an exact EUR amount (at most 2 decimals, no exponent or spaces)
unknown key: 10: unknown key 'amo\x1b[8munt'
unknown key with NUL: 10: unknown key 'amount\x00x'
item unknown key: 10: items[0]: unknown key 'q\x1bty'
item price: 8: items[0].price: amount is not exact or out of range ('1\x1b[31m' EUR)
option value: 3: options: landing_params: 'cb\x1b[2J' is not a parameter name (1-32 of [A-Za-z0-9_.-]) or an '@network'
connection value: 3: connection: connection string: merchant_id: must be 1-64 of [A-Za-z0-9._-]
0 queued
