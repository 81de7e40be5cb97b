--TEST--
cashback: fork: a child holds nothing of its parent's; the parent's sender lock dies with the parent, and the child can report and flush
--SKIPIF--
<?php if (!function_exists('pcntl_fork')) echo 'skip this PHP has no pcntl'; ?>
--INI--
cashback.sender=1
cashback.shutdown_flush_ms=0
--FILE--
<?php
require __DIR__ . '/cashback_test.inc';
$dir = cb_default('fork', 'connect_timeout=200ms;request_timeout=1s;backoff_base=100ms;backoff_max=200ms');
$order = fn($o) => ['order_id' => $o, 'click' => 'tok', 'amount' => '5.00', 'currency' => 'EUR'];

/* 1 when some process holds the flock of $dir/sender.lock. */
function lock_held(string $dir): bool {
    $fp = @fopen("$dir/sender.lock", 'r');
    if (!$fp) return false;
    $free = flock($fp, LOCK_EX | LOCK_NB);
    fclose($fp);
    return !$free;
}
/* Every process here dies of pcntl_alarm() if it hangs. */
function wait_exit(int $pid, string $who): void {
    pcntl_waitpid($pid, $st);
    if (!pcntl_wifexited($st) || pcntl_wexitstatus($st) !== 0) echo "$who failed\n";
}

[$gate_t, $gate_b] = stream_socket_pair(STREAM_PF_UNIX, STREAM_SOCK_STREAM, 0);
[$ready_a, $ready_b] = stream_socket_pair(STREAM_PF_UNIX, STREAM_SOCK_STREAM, 0);
$a = pcntl_fork();
if ($a === 0) {
    /* A: a worker whose sender thread holds the spool (the network is
     * down); it forks B, a worker that does not call cashback, and exits. */
    pcntl_alarm(20);
    Cashback\sale($order('A1'));
    for ($i = 0; $i < 200 && !lock_held($dir); $i++) usleep(50000);
    echo "A: its sender holds the lock: ", lock_held($dir) ? 'yes' : 'no', "\n";
    $b = pcntl_fork();
    if ($b === 0) {
        pcntl_alarm(20);
        fwrite($ready_b, "r");                // B runs: fork() has returned
        fread($gate_b, 2);                    // until T says go
        /* B reports into its own segment and can flush: nobody else sends. */
        Cashback\sale($order('B1'));
        cb_try('B: flush', fn() => Cashback\flush(500));
        echo "B: queued ", Cashback\status()['queued_events'], "\n";
        fwrite($gate_b, "k");                 // done
        exit(0);
    }
    fread($ready_a, 1);
    exit(0);                                  // stops A's sender, frees its client
}
wait_exit($a, 'A');
/* A is gone, B lives: nothing B inherited keeps A's lock. */
echo "T: lock held after A exited: ", lock_held($dir) ? 'yes' : 'no', "\n";
pcntl_alarm(30);
fwrite($gate_t, "go");
echo fread($gate_t, 1) === 'k' ? "B done\n" : "B failed\n";
?>
--EXPECTF--
A: its sender holds the lock: yes
T: lock held after A exited: no
B: flush: 21: %s
B: queued 2
B done
