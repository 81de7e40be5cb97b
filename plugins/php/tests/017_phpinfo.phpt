--TEST--
cashback: phpinfo() shows the settings and versions, never the connection string's secret
--INI--
cashback.connection="cashback:merchant_id=php-shop;key_id=php-k1;secret=php-test-secret-0123456789;endpoint=http://127.0.0.1:9/v1/events"
cashback.config=
--FILE--
<?php
ob_start();
phpinfo(INFO_MODULES);
$info = ob_get_clean();
var_dump(str_contains($info, 'php-test-secret'));
var_dump(str_contains($info, 'cashback.connection => (set, hidden: it holds the secret)'));
var_dump(str_contains($info, 'libcashback version => 0.2.0'));
var_dump(str_contains($info, 'cashback.auto_capture => Off'));
var_dump(str_contains($info, 'default client => not made yet'));
Cashback\capture('cb_click=x', send: false);
ob_start();
phpinfo(INFO_MODULES);
var_dump(str_contains(ob_get_clean(), 'default client => php-shop'));
?>
--EXPECT--
bool(false)
bool(true)
bool(true)
bool(true)
bool(true)
bool(true)
