--TEST--
cashback: click() with a tampered, malformed or expired cookie: null, or an exception when strict
--FILE--
<?php
require __DIR__ . '/cashback_test.inc';
cb_default('click-errors', 'attribution_window=1s');
$pair = cb_pair(Cashback\capture('cb_click=err-1', send: false));
var_dump(cb_token(Cashback\click($pair)));

// Tampered: one character of the value changed.
$last = substr($pair, -1);
$tampered = substr($pair, 0, -1) . ($last === 'a' ? 'b' : 'a');
var_dump(cb_token(Cashback\click($tampered)));
cb_try('tampered', fn() => Cashback\click($tampered, strict: true));
$e = null;
try { Cashback\click($tampered, true); } catch (Cashback\Exception $e) {}
var_dump($e instanceof Exception, $e->getCode() === Cashback\Exception::CLICK_TAMPERED);

// Malformed: not a cookie this SDK wrote.
var_dump(cb_token(Cashback\click('cashback_click=garbage')));
cb_try('malformed', fn() => Cashback\click('cashback_click=garbage', strict: true));

// Expired: the window is 1 s here; wait past it.
sleep(2);
var_dump(cb_token(Cashback\click($pair)));
cb_try('expired', fn() => Cashback\click($pair, strict: true));
?>
--EXPECTF--
string(5) "err-1"
NULL
tampered: 6: %s
bool(true)
bool(true)
NULL
malformed: 7: %s
NULL
expired: 5: %s
