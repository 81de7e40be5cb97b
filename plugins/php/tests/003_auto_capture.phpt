--TEST--
cashback: cashback.auto_capture=1 sets the cookie at request start, with no code
--CGI--
--GET--
utm_source=net&cb_click=auto-tok.1
--INI--
cashback.auto_capture=1
cashback.connection="cashback:merchant_id=php-shop;key_id=php-k1;secret=php-test-secret-0123456789;endpoint=http://127.0.0.1:9/v1/events"
--FILE--
<?php
ob_start(); // the first output sends the headers; keep them open
require __DIR__ . '/cashback_test.inc';
$cookies = array_values(array_filter(headers_list(),
    fn($h) => str_starts_with($h, 'Set-Cookie: cashback_click=')));
echo count($cookies), "\n";
$pair = cb_pair(substr($cookies[0], strlen('Set-Cookie: ')));
var_dump(cb_token(Cashback\click($pair)));
// The merchant's own call on top of it returns the cookie, not a second one.
var_dump(str_starts_with(Cashback\capture(), 'cashback_click='));
echo count(array_filter(headers_list(), fn($h) => str_starts_with($h, 'Set-Cookie: cashback_click='))), "\n";
// An explicit query is the merchant's own: that cookie is sent.
Cashback\capture('cb_click=other');
echo count(array_filter(headers_list(), fn($h) => str_starts_with($h, 'Set-Cookie: cashback_click='))), "\n";
?>
--EXPECT--
1
string(10) "auto-tok.1"
bool(true)
1
2
