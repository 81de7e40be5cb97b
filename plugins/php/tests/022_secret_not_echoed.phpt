--TEST--
cashback: a secret written without its key is never echoed in an exception
--FILE--
<?php
require __DIR__ . '/cashback_test.inc';
/* A base64 secret ends in '=': without "secret=" it reads as a key. */
$secrets = ['c2VjcmV0LXZhbHVlLW9mLXRoZS1zaG9wcw+/ZWQ=', 'deadbeefcafe0123456789abcdefabcd',
            'correct_horse_battery_staple'];
/* Prints the message; says so when 8 bytes of the secret in a row are in it. */
function cb_secret_try(string $label, string $secret, callable $fn): void
{
    try {
        $fn();
        echo "$label: no exception\n";
    } catch (Cashback\Exception $e) {
        $m = $e->getMessage();
        $leak = false;
        for ($i = 0; $i + 8 <= strlen($secret); $i++) {
            $leak = $leak || str_contains($m, substr($secret, $i, 8));
        }
        echo "$label: ", $e->getCode(), ": ", $m, $leak ? " [SECRET ECHOED]" : "", "\n";
    }
}
foreach ($secrets as $n => $s) {
    $base = 'cashback:merchant_id=' . CB_MERCHANT . ';key_id=' . CB_KEY_ID;
    cb_secret_try("$n connection", $s, fn() => new Cashback\Client("$base;$s;endpoint=" . CB_DEAD_ENDPOINT));
    cb_secret_try("$n connection, padded", $s, fn() => new Cashback\Client("$base;$s=;endpoint=" . CB_DEAD_ENDPOINT));
    cb_secret_try("$n options key", $s, fn() => new Cashback\Client(cb_conn(), [$s => '1']));
    /* The default client, from php.ini. */
    ini_set('cashback.connection', "$base;$s");
    ini_set('cashback.spool_dir', cb_spool("secret-$n"));
    cb_secret_try("$n ini", $s, fn() => Cashback\status());
}
?>
--EXPECT--
0 connection: 3: connection: connection string: pair 3: unknown key of 39 characters (not shown: it may be a value written without its key)
0 connection, padded: 3: connection: connection string: pair 3: unknown key of 39 characters (not shown: it may be a value written without its key)
0 options key: 3: options: unknown key of 40 characters (not shown: it may be a value written without its key)
0 ini: 3: cashback.connection: connection string: pair 3: unknown key of 39 characters (not shown: it may be a value written without its key)
1 connection: 3: connection: connection string: pair 3: expected key=value
1 connection, padded: 3: connection: connection string: pair 3: unknown key of 32 characters (not shown: it may be a value written without its key)
1 options key: 3: options: unknown key of 32 characters (not shown: it may be a value written without its key)
1 ini: 3: cashback.connection: connection string: pair 3: expected key=value
2 connection: 3: connection: connection string: pair 3: expected key=value
2 connection, padded: 3: connection: connection string: pair 3: unknown key of 28 characters (not shown: it may be a value written without its key)
2 options key: 3: options: unknown key of 28 characters (not shown: it may be a value written without its key)
2 ini: 3: cashback.connection: connection string: pair 3: expected key=value
