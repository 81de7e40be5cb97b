--TEST--
cashback: status() and flush(): an empty spool flushes; an unreachable network throws code 21
--FILE--
<?php
require __DIR__ . '/cashback_test.inc';
cb_default('flush', 'connect_timeout=200ms;request_timeout=1s;backoff_base=100ms;backoff_max=200ms');

$s = Cashback\status();
ksort($s);
var_dump(array_keys($s));
var_dump($s['queued_events'], $s['paused'], $s['last_status']);
var_dump(Cashback\flush(1000));           // nothing to send

Cashback\sale(['order_id' => '1', 'click' => 't', 'amount' => '1.00', 'currency' => 'EUR']);
var_dump(Cashback\status()['queued_events']);
cb_try('unreachable', fn() => Cashback\flush(1000));
$s = Cashback\status();
var_dump($s['queued_events'], $s['last_status'] === Cashback\Exception::NETWORK, $s['last_error'] !== '');
var_dump($s['oldest_age_s'] >= 0, $s['queued_bytes'] > 0);
cb_try('negative timeout', fn() => Cashback\flush(-1));
echo Cashback\status()['queued_events'], " queued\n";
?>
--EXPECTF--
array(19) {
  [0]=>
  string(15) "corrupt_skipped"
  [1]=>
  string(8) "deferred"
  [2]=>
  string(13) "deferred_next"
  [3]=>
  string(10) "last_error"
  [4]=>
  string(11) "last_status"
  [5]=>
  string(12) "last_success"
  [6]=>
  string(11) "merchant_id"
  [7]=>
  string(12) "next_attempt"
  [8]=>
  string(12) "oldest_age_s"
  [9]=>
  string(10) "path_fault"
  [10]=>
  string(6) "paused"
  [11]=>
  string(11) "quarantined"
  [12]=>
  string(12) "queued_bytes"
  [13]=>
  string(13) "queued_events"
  [14]=>
  string(11) "read_errors"
  [15]=>
  string(11) "spool_error"
  [16]=>
  string(13) "spool_problem"
  [17]=>
  string(12) "spool_status"
  [18]=>
  string(16) "unreadable_files"
}
int(0)
bool(false)
int(0)
bool(true)
int(1)
unreachable: 21: %s
int(1)
bool(true)
bool(true)
bool(true)
bool(true)
negative timeout: 1: flush: timeout_ms must be 0 or more
1 queued
