--TEST--
cashback: Cashback\Client, configured per call; Cashback\client() for the php.ini one
--FILE--
<?php
require __DIR__ . '/cashback_test.inc';
cb_default('client-default');

$a = new Cashback\Client(cb_conn(), ['spool_dir' => cb_spool('client-a'), 'durability' => 'process',
                                     'landing_params' => '@cj']);
$b = new Cashback\Client(null, ['merchant_id' => 'second-shop', 'key_id' => 'k2',
                                'secret' => 'second-secret-0123456789', 'endpoint' => CB_DEAD_ENDPOINT,
                                'spool_dir' => cb_spool('client-b'), 'durability' => 'process']);
echo $a->merchantId(), ' ', $b->merchantId(), "\n";

// Each client has its own landing parameters and cookie key.
$pa = cb_pair($a->capture('cjevent=cj-1', send: false));
var_dump($a->capture('cb_click=x', send: false));
var_dump(cb_token($a->click($pa)), cb_token($b->click($pa)), cb_token(Cashback\click($pa)));

// Each has its own spool.
$id = $a->sale(['order_id' => '1', 'click' => 'cj-1', 'amount' => '2.00', 'currency' => 'EUR']);
var_dump(strlen($id), $b->sale(['order_id' => '1', 'click' => 'cj-1', 'amount' => '2.00', 'currency' => 'EUR']) !== $id);
$b->refund(['order_id' => '1', 'amount' => '1.00', 'currency' => 'EUR']);
$b->cancel(['order_id' => '2']);
$b->confirm(['order_id' => '3']);
echo $a->status()['queued_events'], ' ', $b->status()['queued_events'], ' ', Cashback\status()['queued_events'], "\n";
var_dump($a->quarantine(), $a->replay());
cb_try('client sale error', fn() => $a->sale(['order_id' => '1', 'amount' => 1.0, 'currency' => 'EUR']));

// The default client as an object follows php.ini.
$d = Cashback\client();
var_dump($d instanceof Cashback\Client, $d->merchantId());
$d->sale(['order_id' => 'd1', 'click' => 'x', 'amount' => '3.00', 'currency' => 'EUR']);
echo Cashback\status()['queued_events'], "\n";

// Not clonable, not serializable, constructed once.
try { $c = clone $a; } catch (Error $e) { echo get_class($e), ": ", $e->getMessage(), "\n"; }
try { serialize($a); } catch (Exception $e) { echo get_class($e), ": ", $e->getMessage(), "\n"; }
cb_try('construct twice', fn() => $a->__construct(cb_conn()));
?>
--EXPECT--
php-shop second-shop
NULL
string(4) "cj-1"
NULL
string(4) "cj-1"
int(32)
bool(true)
1 4 0
array(0) {
}
int(0)
client sale error: 8: amount: a float cannot hold money exactly; pass a decimal string such as '49.90' or an int
bool(true)
string(8) "php-shop"
1
Error: Trying to clone an uncloneable object of class Cashback\Client
Exception: Serialization of 'Cashback\Client' is not allowed
construct twice: 1: Cashback\Client: already constructed
