--TEST--
cashback: capture() turns a landing click token into a signed Set-Cookie
--FILE--
<?php
require __DIR__ . '/cashback_test.inc';
cb_default('capture');
ob_start(); // headers go out with the first output; keep them until the end

// A token in a raw query string and in a request target.
$c = Cashback\capture('utm_source=x&cb_click=tok-123', send: false);
var_dump(preg_match('/^cashback_click=[^;]+; Max-Age=2592000; Path=\/; Secure; HttpOnly; SameSite=Lax$/', $c));
var_dump(cb_token(Cashback\click(cb_pair($c))));
$c2 = Cashback\capture('/landing?cb_click=other.9', send: false);
var_dump(cb_token(Cashback\click(cb_pair($c2))));

// No token: nothing to do.
var_dump(Cashback\capture('a=1&b=2'));
var_dump(Cashback\capture(''));
var_dump(Cashback\capture());  // the CLI has no query string

// A malformed token sets no cookie; strict mode says why.
var_dump(Cashback\capture('cb_click=bad%20token'));
cb_try('malformed, strict', fn() => Cashback\capture('cb_click=bad%20token', strict: true));
cb_try('too long, strict', fn() => Cashback\capture('cb_click=' . str_repeat('a', 129), true, true));

// send: true (the default) hands the header to the SAPI, and returns it
// too (the CLI keeps no header list; 016_capture_send.phpt checks it).
var_dump(str_starts_with(Cashback\capture('cb_click=tok-456'), 'cashback_click='));

// Network presets and another cookie name, through php.ini.
ini_set('cashback.connection', cb_conn('landing_params=@awin,cb_click;cookie_name=cb'));
$c3 = Cashback\capture('awc=1234_abc', send: false);
echo substr($c3, 0, 3), "\n";
var_dump(cb_token(Cashback\click(cb_pair($c3))));

// After output, the header can no longer be sent.
ob_end_flush();
echo "output\n";
cb_try('after output', fn() => Cashback\capture('cb_click=late'));
var_dump(is_string(Cashback\capture('cb_click=late', send: false)));
?>
--EXPECTF--
int(1)
string(7) "tok-123"
string(7) "other.9"
NULL
NULL
NULL
NULL
malformed, strict: 7: %s
too long, strict: 7: %s
bool(true)
cb=
string(8) "1234_abc"
output
after output: 1: capture: cannot send the click cookie, headers already sent (output started at %s:%d); call Cashback\capture() before any output, or pass send: false and set the cookie yourself
bool(true)
