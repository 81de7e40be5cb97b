--TEST--
cashback: auto_capture with a bad configuration logs once and never breaks the page
--CGI--
--GET--
cb_click=tok-1
--INI--
cashback.auto_capture=1
cashback.connection="cashback:merchant_id=php-shop;key_id=php-k1"
error_log={TMP}/cashback-auto-capture-bad-config.log
log_errors=1
--FILE--
<?php
echo "page runs\n";
var_dump(count(array_filter(headers_list(), fn($h) => str_contains($h, 'cashback_click'))));
$log = file_get_contents(ini_get('error_log'));
unlink(ini_get('error_log'));
echo substr_count($log, 'cashback.auto_capture: no client (status 3): '), "\n";
var_dump(str_contains($log, "missing required key 'secret'"));
try {
    Cashback\capture('cb_click=x');
} catch (Cashback\Exception $e) {
    echo $e->getCode(), ': ', $e->getMessage(), "\n";
}
?>
--EXPECT--
page runs
int(0)
1
bool(true)
3: missing required key 'secret'
