--TEST--
cashback: click() without a Cookie header reads the click cookie's value from $_COOKIE, under the configured cookie name
--FILE--
<?php
require __DIR__ . '/cashback_test.inc';
/* The CLI has no Cookie header: click() takes $_COOKIE[<cookie name>] and
 * verifies that value as the cookie (no header is rebuilt from $_COOKIE). */
$value = fn(string $set_cookie) => explode('=', cb_pair($set_cookie), 2)[1];

// The default client, its cookie name set by configuration (php.ini).
cb_default('click-value', 'cookie_name=shop_click');
$v = $value(Cashback\capture('cb_click=val-1', send: false));
$_COOKIE = ['theme' => 'dark', 'shop_click' => $v];
var_dump(cb_token(Cashback\click()));
// Under the default name it is not this client's cookie.
$_COOKIE = ['cashback_click' => $v];
var_dump(Cashback\click());
// A changed value: null, or with strict the reason.
$_COOKIE = ['shop_click' => substr($v, 0, -1) . (substr($v, -1) === 'x' ? 'y' : 'x')];
var_dump(Cashback\click());
cb_try('tampered, strict', fn() => Cashback\click(strict: true));
$_COOKIE = ['shop_click' => 'not a cookie'];
var_dump(Cashback\click());
cb_try('malformed, strict', fn() => Cashback\click(strict: true));
$_COOKIE = ['shop_click' => ['array']];
var_dump(Cashback\click());
$_COOKIE = ['shop_click' => ''];
var_dump(Cashback\click());

// A name with a dot: PHP keeps the cookie "shop.cb" as $_COOKIE['shop_cb'].
$obj = new Cashback\Client(cb_conn('cookie_name=shop.cb'), ['spool_dir' => cb_spool('click-dot')]);
$set = $obj->capture('cb_click=val-2', send: false);
echo explode('=', $set, 2)[0], "\n";
$_COOKIE = ['shop_cb' => $value($set)];
var_dump(cb_token($obj->click()));
// The handle returned reports a sale that keeps the landing parameter.
$h = $obj->click();
echo strlen($obj->sale(['order_id' => 'cv-1', 'click' => $h, 'amount' => '5.00', 'currency' => 'EUR'])), "\n";
// An explicit Cookie header is still read as a header.
var_dump(cb_token($obj->click('a=b; ' . cb_pair($set))));
?>
--EXPECTF--
string(5) "val-1"
NULL
NULL
tampered, strict: 6: %s
NULL
malformed, strict: 7: %s
NULL
NULL
shop.cb
string(5) "val-2"
32
string(5) "val-2"
