<?php
/* Delivers what the shop reported. The recommended delivery is the
 * `cashback send --watch` systemd unit (docs/php.md, Install); where no
 * daemon can run, cashback.sender=1, and where neither, this from cron
 * every minute, as the shop's user:
 *   * * * * *  php /path/to/shop/flush.php
 * Exit status 0 when the spool is empty; 1 when events remain (another
 * process is sending, or time ran out); 255 with the error on a failure. */
$ok = Cashback\flush(50000);
$s = Cashback\status();
fprintf(STDERR, "cashback: %d queued, %d quarantined%s\n", $s['queued_events'],
        $s['quarantined'], $s['last_error'] !== '' ? ', last error: ' . $s['last_error'] : '');
exit($ok ? 0 : 1);
