--TEST--
cashback: click() returns the click handle; sale() verifies a handle given as its click
--FILE--
<?php
require __DIR__ . '/cashback_test.inc';
cb_default('click-handle', 'attribution_window=1h');
$set = Cashback\capture('cb_click=hdl-1.x', send: false);
$pair = cb_pair($set);
$handle = Cashback\click($pair);
// The handle is the cookie's value (opaque to the shop, signed).
var_dump($handle === explode('=', $pair, 2)[1], str_starts_with($handle, '1.'), cb_token($handle));
$sale = fn($click) => Cashback\sale(['order_id' => 'H-1', 'click' => $click,
                                     'amount' => '9.90', 'currency' => 'EUR']);
var_dump(strlen($sale($handle)));
// The same order with the bare token: the same event id (ids do not depend
// on the click), and a bare token is still accepted.
var_dump($sale($handle) === $sale('hdl-1.x'));
// An edited handle is refused, not reported: another token, another source,
// another capture time.
$f = explode('.', $handle, 5);
cb_try('other token', fn() => $sale("$f[0].$f[1].$f[2].$f[3].hdl-2"));
cb_try('other source', fn() => $sale("$f[0].$f[1].$f[2].awc.$f[4]"));
cb_try('earlier capture', fn() => $sale("$f[0]." . ($f[1] - 60) . ".$f[2].$f[3].$f[4]"));
// A bare token shaped like a handle (tokens may hold dots) is not one: it
// is reported as the bare token, not refused (that would lose the sale).
var_dump(strlen($sale("1.x.y.z.t")));
cb_try('NUL', fn() => $sale("$handle\0"));
// Another merchant's client refuses this merchant's handle.
$other = new Cashback\Client(str_replace('merchant_id=php-shop', 'merchant_id=other-shop', cb_conn()),
                             ['spool_dir' => cb_spool('handle-other')]);
cb_try('other merchant', fn() => $other->sale(['order_id' => 'H-1', 'click' => $handle,
                                               'amount' => '9.90', 'currency' => 'EUR']));
echo Cashback\status()['queued_events'], "\n";
?>
--EXPECTF--
bool(true)
bool(true)
string(7) "hdl-1.x"
int(32)
bool(true)
other token: 6: click handle: signature does not match%s
other source: 6: click handle: signature does not match%s
earlier capture: 6: click handle: signature does not match%s
int(32)
NUL: 10: click: contains a NUL byte
other merchant: 6: click handle: signature does not match%s
4
