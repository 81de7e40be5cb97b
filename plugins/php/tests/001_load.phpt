--TEST--
cashback: the extension loads with its functions, classes and constants
--FILE--
<?php
var_dump(extension_loaded('cashback'));
foreach (['capture', 'click', 'sale', 'refund', 'cancel', 'confirm', 'status',
          'flush', 'quarantine', 'replay', 'client'] as $f) {
    echo $f, ': ', function_exists("Cashback\\$f") ? 'yes' : 'no', "\n";
}
var_dump(is_subclass_of('Cashback\Exception', 'Exception'));
$rc = new ReflectionClass('Cashback\Client');
var_dump($rc->isFinal());
echo Cashback\Exception::CLICK_TAMPERED, ' ', Cashback\Exception::AMOUNT, ' ',
     Cashback\Exception::SPOOL_FULL, ' ', Cashback\Exception::PROTOCOL, "\n";
echo (new ReflectionFunction('Cashback\sale')), "\n";
var_dump(phpversion('cashback') === '0.2.0');
?>
--EXPECT--
bool(true)
capture: yes
click: yes
sale: yes
refund: yes
cancel: yes
confirm: yes
status: yes
flush: yes
quarantine: yes
replay: yes
client: yes
bool(true)
bool(true)
6 8 19 27
Function [ <internal:cashback> function Cashback\sale ] {

  - Parameters [1] {
    Parameter #0 [ <required> array $order ]
  }
  - Return [ string ]
}

bool(true)
