--TEST--
cashback: capture() adds its Set-Cookie header next to the page's own cookies
--CGI--
--GET--
page=landing
--INI--
cashback.connection="cashback:merchant_id=php-shop;key_id=php-k1;secret=php-test-secret-0123456789;endpoint=http://127.0.0.1:9/v1/events"
--FILE--
<?php
ob_start(); // the first output sends the headers; keep them open
header('Set-Cookie: session=abc');
var_dump(Cashback\capture());     // this request's query has no token
$sent = Cashback\capture('cb_click=tok-456');
$h = headers_list();
var_dump(in_array('Set-Cookie: session=abc', $h, true), in_array("Set-Cookie: $sent", $h, true));
// One header per capture: a second token adds a second cookie header, and
// the browser keeps the last one.
Cashback\capture('cb_click=tok-789');
echo count(array_filter(headers_list(), fn($x) => str_starts_with($x, 'Set-Cookie: cashback_click='))), "\n";
?>
--EXPECT--
NULL
bool(true)
bool(true)
2
