--TEST--
cashback: quarantine() and replay() with nothing quarantined
--FILE--
<?php
require __DIR__ . '/cashback_test.inc';
cb_default('quarantine');
var_dump(Cashback\quarantine());
var_dump(Cashback\replay());
cb_try('unknown id', fn() => Cashback\replay('0123456789abcdef0123456789abcdef'));
cb_try('NUL id', fn() => Cashback\replay("abc\0"));
?>
--EXPECTF--
array(0) {
}
int(0)
unknown id: 26: %s
NUL id: 1: replay: the id contains a NUL byte
