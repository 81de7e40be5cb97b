--TEST--
cashback: no cookie without a token, or with auto_capture off
--CGI--
--GET--
cb_click=tok-off
--INI--
cashback.auto_capture=0
cashback.connection="cashback:merchant_id=php-shop;key_id=php-k1;secret=php-test-secret-0123456789;endpoint=http://127.0.0.1:9/v1/events"
--FILE--
<?php
$before = count(array_filter(headers_list(), fn($h) => str_contains($h, 'cashback_click')));
// The merchant's explicit call still works (before any output).
$c = Cashback\capture();
$after = count(array_filter(headers_list(), fn($h) => str_contains($h, 'cashback_click')));
var_dump($before, str_starts_with($c, 'cashback_click='), $after);
?>
--EXPECT--
int(0)
bool(true)
int(1)
