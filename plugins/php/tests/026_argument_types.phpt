--TEST--
cashback: a wrong argument type or count throws Cashback\Exception (code 1, PHP's message, PHP's TypeError or ArgumentCountError as its previous), also under strict_types
--FILE--
<?php
declare(strict_types=1);
require __DIR__ . '/cashback_test.inc';
cb_default('argtypes');
/* cb_try() catches Cashback\Exception only: a TypeError would end the test. */
function cb_type(string $label, callable $fn): void
{
    cb_try($label, $fn);
    try {
        $fn();
    } catch (Cashback\Exception $e) {
        $p = $e->getPrevious();
        echo "  previous: ", $p ? get_class($p) : 'none', "\n";
    }
}
$client = new Cashback\Client(cb_conn(), ['spool_dir' => cb_spool('argtypes-obj')]);
cb_type('sale(string)', fn() => Cashback\sale('order'));
cb_type('refund(null)', fn() => Cashback\refund(null));
cb_type('sale()', fn() => Cashback\sale());
cb_type('capture(array)', fn() => Cashback\capture([]));
cb_type('capture(send: string)', fn() => Cashback\capture('a=b', 'no'));
cb_type('click(int), strict', fn() => Cashback\click(42));
cb_type('flush(string), strict', fn() => Cashback\flush('10'));
cb_type('replay(array)', fn() => Cashback\replay([]));
cb_type('status(1)', fn() => Cashback\status(1));
cb_type('client(1)', fn() => Cashback\client(1));
cb_type('new Client(array)', fn() => new Cashback\Client([]));
cb_type('new Client(options: string)', fn() => new Cashback\Client(cb_conn(), 'x'));
cb_type('Client->sale(int)', fn() => $client->sale(1));
cb_type('Client->merchantId(1)', fn() => $client->merchantId(1));
/* An unknown named parameter is refused by PHP before the function runs:
 * PHP's Error, the one exception docs/php.md names besides ours. */
try {
    Cashback\sale(orders: []);
} catch (Error $e) {
    echo "named: ", get_class($e), ": ", $e->getMessage(), "\n";
}
echo Cashback\status()['queued_events'], " queued\n";
?>
--EXPECT--
sale(string): 1: Cashback\sale(): Argument #1 ($order) must be of type array, string given
  previous: TypeError
refund(null): 1: Cashback\refund(): Argument #1 ($refund) must be of type array, null given
  previous: TypeError
sale(): 1: Cashback\sale() expects exactly 1 argument, 0 given
  previous: ArgumentCountError
capture(array): 1: Cashback\capture(): Argument #1 ($query) must be of type ?string, array given
  previous: TypeError
capture(send: string): 1: Cashback\capture(): Argument #2 ($send) must be of type bool, string given
  previous: TypeError
click(int), strict: 1: Cashback\click(): Argument #1 ($cookie_header) must be of type ?string, int given
  previous: TypeError
flush(string), strict: 1: Cashback\flush(): Argument #1 ($timeout_ms) must be of type int, string given
  previous: TypeError
replay(array): 1: Cashback\replay(): Argument #1 ($id) must be of type ?string, array given
  previous: TypeError
status(1): 1: Cashback\status() expects exactly 0 arguments, 1 given
  previous: ArgumentCountError
client(1): 1: Cashback\client() expects exactly 0 arguments, 1 given
  previous: ArgumentCountError
new Client(array): 1: Cashback\Client::__construct(): Argument #1 ($connection) must be of type ?string, array given
  previous: TypeError
new Client(options: string): 1: Cashback\Client::__construct(): Argument #2 ($options) must be of type array, string given
  previous: TypeError
Client->sale(int): 1: Cashback\Client::sale(): Argument #1 ($order) must be of type array, int given
  previous: TypeError
Client->merchantId(1): 1: Cashback\Client::merchantId() expects exactly 0 arguments, 1 given
  previous: ArgumentCountError
named: Error: Unknown named parameter $orders
0 queued
