--TEST--
cashback: a sender thread that cannot take the spool says why in status() (it failed silently, with an empty last error)
--INI--
cashback.sender=1
cashback.shutdown_flush_ms=0
--FILE--
<?php
require __DIR__ . '/cashback_test.inc';
$dir = cb_default('spoolerr', 'connect_timeout=200ms;request_timeout=1s;backoff_base=100ms;backoff_max=200ms');
/* What stops the sender here: a symlink in place of sender.lock (never
 * followed), as good as a lock file of another user. */
symlink("$dir/../nowhere-" . getmypid(), "$dir/sender.lock");
Cashback\sale(['order_id' => '1', 'click' => 't', 'amount' => '1.00', 'currency' => 'EUR']);
/* Before the thread tried, status() names the file it finds on disk. */
echo Cashback\status()['spool_error'], "\n";
for ($i = 0; $i < 100 && !str_contains(Cashback\status()['spool_error'], 'cannot take'); $i++) usleep(50000);
$s = Cashback\status();
var_dump($s['spool_status'] === Cashback\Exception::IO);
echo $s['spool_error'], "\n";
var_dump(file_exists("$dir/../nowhere-" . getmypid()));   // not followed
unlink("$dir/sender.lock");
?>
--EXPECTF--
%s
bool(true)
cannot take the sender lock: spool %s: cannot open sender.lock: Too many levels of symbolic links (as %s)
bool(false)
