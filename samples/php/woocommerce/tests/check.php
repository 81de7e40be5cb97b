<?php
/* The two checks of this plugin's tests: check() one thing, done() at the end
 * prints "N passed, N failed" and exits 1 when one failed. */
$passed = $failed = 0;
function check(bool $ok, string $what, $detail = null): void
{
    global $passed, $failed;
    if ($ok) {
        $passed++;
        echo "ok - $what\n";
    } else {
        $failed++;
        echo "FAIL - $what ", $detail === null ? '' : json_encode($detail), "\n";
    }
}
function done(): never
{
    global $passed, $failed;
    echo "$passed passed, $failed failed\n";
    exit($failed ? 1 : 0);
}
