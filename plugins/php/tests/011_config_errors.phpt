--TEST--
cashback: configuration errors (php.ini and per call) are Cashback\Exception code 3, 17 or 11
--FILE--
<?php
require __DIR__ . '/cashback_test.inc';
$sale = fn() => Cashback\sale(['order_id' => '1', 'click' => 't', 'amount' => '1.00', 'currency' => 'EUR']);

// Nothing configured (and no CASHBACK_* environment).
cb_try('nothing', $sale);
cb_try('nothing, capture', fn() => Cashback\capture('cb_click=x'));
cb_try('nothing, status', fn() => Cashback\status());
// A connection string that is not one, or lacks a key, or has a bad value.
ini_set('cashback.connection', 'merchant_id=x');
cb_try('no prefix', $sale);
ini_set('cashback.connection', 'cashback:merchant_id=php-shop;key_id=k;endpoint=http://127.0.0.1:9/v1/events');
cb_try('no secret', $sale);
ini_set('cashback.connection', cb_conn('attribution_window=500d'));
cb_try('bad window', $sale);
ini_set('cashback.connection', cb_conn('merchnt_id=x'));
cb_try('unknown key', $sale);
// The secret is never part of a message.
ini_set('cashback.connection', 'cashback:merchant_id=php-shop;key_id=k;secret=short;endpoint=http://127.0.0.1:9/v1/events');
try { $sale(); } catch (Cashback\Exception $e) { var_dump($e->getCode(), str_contains($e->getMessage(), 'short')); }
// A spool directory that is not absolute.
ini_set('cashback.connection', cb_conn());
ini_set('cashback.spool_dir', 'relative/dir');
cb_try('relative spool_dir', $sale);
ini_set('cashback.spool_dir', '');
ini_set('cashback.durability', 'sometimes');
cb_try('bad durability', $sale);
ini_set('cashback.durability', '');
// A config file that is missing, or has an error on a line.
ini_set('cashback.connection', '');
ini_set('cashback.config', sys_get_temp_dir() . '/no-such-cashback.conf');
cb_try('missing file', $sale);
$file = cb_spool('config') . '/cashback.conf';
file_put_contents($file, "merchant_id = php-shop\nkey_id = k\nsecret = 0123456789abcdef0\nendpoint = ftp://x\n");
// A file holding a secret that every user can read is refused (0600 or 0640).
chmod($file, 0644);
ini_set('cashback.config', $file);
cb_try('readable by all', $sale);
chmod($file, 0640);
ini_set('cashback.config', '');
ini_set('cashback.config', $file);
cb_try('bad file', $sale);
// Fixing the file is picked up by the next call (settings changed).
file_put_contents($file, "merchant_id = file-shop\nkey_id = k\nsecret = 0123456789abcdef0\nendpoint = http://127.0.0.1:9/v1/events\nspool_dir = " . dirname($file) . "/spool\n");
ini_set('cashback.config', '');
ini_set('cashback.config', $file);
echo Cashback\status()['merchant_id'], "\n";

// Per call: Cashback\Client.
cb_try('client, bad connection', fn() => new Cashback\Client('cashback:merchant_id=a b'));
cb_try('client, no endpoint', fn() => new Cashback\Client(null, ['merchant_id' => 'm', 'key_id' => 'k', 'secret' => '0123456789abcdef0']));
cb_try('client, unknown option', fn() => new Cashback\Client(cb_conn(), ['spool' => '/tmp']));
cb_try('client, array option', fn() => new Cashback\Client(cb_conn(), ['spool_dir' => ['/tmp']]));
cb_try('client, list options', fn() => new Cashback\Client(cb_conn(), ['/tmp']));
cb_try('client, NUL', fn() => new Cashback\Client(cb_conn() . "\0"));
cb_try('client, missing config file', fn() => new Cashback\Client(null, ['config' => '/nonexistent/cashback.conf']));
cb_try('client, huge connection', fn() => new Cashback\Client('cashback:' . str_repeat('a=b;', 20000)));
?>
--EXPECTF--
nothing: 3: missing required key 'merchant_id' (set cashback.connection or cashback.config in php.ini)
nothing, capture: 3: missing required key 'merchant_id' (set cashback.connection or cashback.config in php.ini)
nothing, status: 3: missing required key 'merchant_id' (set cashback.connection or cashback.config in php.ini)
no prefix: 3: cashback.connection: connection string: must start with 'cashback:'
no secret: 3: missing required key 'secret'
bad window: 3: cashback.connection: connection string: attribution_window: %s
unknown key: 3: cashback.connection: connection string: pair 5: unknown key 'merchnt_id' (did you mean 'merchant_id'?)
int(3)
bool(false)
relative spool_dir: 3: cashback.spool_dir: spool_dir: %s
bad durability: 3: cashback.durability: durability: %s
missing file: 17: cashback.config: cannot open '%s/no-such-cashback.conf': No such file or directory
readable by all: 3: cashback.config: '%s/cashback.conf' holds a secret but every user can read it (mode 0644); fix: chmod 600 FILE (or 640 for a group)
bad file: 3: cashback.config: %s/cashback.conf:4: endpoint: %s
file-shop
client, bad connection: 3: connection: connection string: merchant_id: %s
client, no endpoint: 3: missing required key 'endpoint'
client, unknown option: 3: options: unknown key 'spool'
client, array option: 3: options[spool_dir]: must be a string, an int or a bool (without NUL bytes)
client, list options: 3: options: key 0 is not a name
client, NUL: 3: connection: connection string: endpoint: the value contains a NUL byte
client, missing config file: 17: options: cannot open '/nonexistent/cashback.conf': No such file or directory
client, huge connection: 11: connection: connection string: larger than 65536 bytes
