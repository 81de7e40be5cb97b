--TEST--
cashback: click() reads the click back at checkout (Cookie header, $_COOKIE, explicit)
--FILE--
<?php
require __DIR__ . '/cashback_test.inc';
cb_default('click');
$pair = cb_pair(Cashback\capture('cb_click=chk-1', send: false));

// An explicit Cookie header, among other cookies.
var_dump(cb_token(Cashback\click("theme=dark; $pair; lang=fr")));
// No click cookie at all.
var_dump(cb_token(Cashback\click('theme=dark')));
var_dump(cb_token(Cashback\click('')));
// The CLI has no Cookie header: $_COOKIE is used.
var_dump(cb_token(Cashback\click()));
[$name, $value] = explode('=', $pair, 2);
$_COOKIE = ['theme' => 'dark', $name => $value];
var_dump(cb_token(Cashback\click()));
// Two click cookies: the newest valid one wins.
sleep(1);
$newer = cb_pair(Cashback\capture('cb_click=chk-2', send: false));
var_dump(cb_token(Cashback\click("$pair; $newer")));
var_dump(cb_token(Cashback\click("$newer; $pair")));
// Another merchant's client does not accept this merchant's cookie.
$other = new Cashback\Client(str_replace('merchant_id=php-shop', 'merchant_id=other-shop', cb_conn()),
                             ['spool_dir' => cb_spool('click-other')]);
var_dump(cb_token($other->click($pair)));
cb_try('other merchant, strict', fn() => $other->click($pair, strict: true));
?>
--EXPECTF--
string(5) "chk-1"
NULL
NULL
NULL
string(5) "chk-1"
string(5) "chk-2"
string(5) "chk-2"
NULL
other merchant, strict: 6: %s
