#!/bin/sh
# The WooCommerce plugin (samples/php/woocommerce), against STUBS of
# WordPress and WooCommerce that follow WooCommerce's published hook names,
# arguments and firing order (tests/wp-stubs.php there: WooCommerce cannot
# run here), with the real PHP extension built as tests/scripts/php.sh
# builds it (tests/scripts/php-build.sh) and the in-tree receiver as the network:
#   1. the mapping test (test-mapping.php);
#   2. the plugin's hooks through classic and block checkouts, card, bank
#      transfer and cash on delivery, unpaid cancels, refunds, cancels and
#      confirmations, configuration and spool errors, the settings page
#      (tests/test-plugin.php); the receiver runs with --followups reject,
#      so a follow-up without its sale would be rejected;
#   3. the same plugin in a PHP without the extension, and with the
#      extension configured nowhere;
#   4. the plugin zip (build-zip.sh): its files and readme.txt.
# Skips (77) only when PHP's development files are not installed.
set -eu
: "${top_srcdir:?}" "${top_builddir:?}"
fail() { echo "woocommerce: $*" >&2; exit 1; }
show() { echo "--- $1"; tail -n "${2:-40}" "$1"; }
PYTHON3=${PYTHON3:-python3}
for tool in phpize php-config php; do
  command -v "$tool" >/dev/null 2>&1 ||
    { echo "woocommerce: $tool not found (Debian: php8.2-dev php8.2-cli), skipped"; exit 77; }
done
command -v "$PYTHON3" >/dev/null 2>&1 || { echo "woocommerce: no python3, skipped"; exit 77; }
libdir=$top_builddir/.libs
[ -f "$libdir/libcashback.so" ] || fail "$libdir/libcashback.so not built"
wc=$top_srcdir/samples/php/woocommerce

work=$(mktemp -d "${TMPDIR:-/tmp}/cashback-wc.XXXXXX")
pids=""
cleanup() {
  for p in $pids; do kill "$p" 2>/dev/null || :; done
  for p in $pids; do wait "$p" 2>/dev/null || :; done
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP
for v in $(env | sed -n 's/^\(CASHBACK_[A-Z_]*\)=.*/\1/p'); do unset "$v"; done
# The extension's own make must not inherit the outer make's variables.
unset MAKEFLAGS MFLAGS MAKELEVEL MAKEOVERRIDES TESTS || :

# --- Build the extension (tests/scripts/php-build.sh, as php.sh does) -------
mkdir "$work/scratch"
. "$top_srcdir/tests/scripts/php-build.sh"

# --- The network -------------------------------------------------------------
key_id=wc-test
secret=wc-test-secret-0123456789abcdef
"$PYTHON3" "$top_srcdir/tests/receiver/receiver.py" --port 0 \
  --port-file "$work/receiver.port" --keys "$key_id:$secret" --followups reject \
  --log "$work/receiver.log" --max-seconds 300 >"$work/receiver.out" 2>&1 &
pids="$pids $!"
i=0
while [ ! -s "$work/receiver.port" ]; do
  i=$((i + 1)); [ $i -le 100 ] || { show "$work/receiver.out"; fail "receiver did not start"; }
  sleep 0.1
done
rport=$(cat "$work/receiver.port")
cat >"$work/cashback.conf" <<CONF
merchant_id = wc-shop
key_id = $key_id
secret = $secret
endpoint = http://127.0.0.1:$rport/v1/events
spool_dir = $work/spool
request_timeout = 10s
CONF
chmod 0600 "$work/cashback.conf"
connection="cashback:merchant_id=wc-shop;key_id=$key_id;secret=$secret;endpoint=http://127.0.0.1:$rport/v1/events;request_timeout=10s"
PHPX="php -n -d extension=$ext -d cashback.config=$work/cashback.conf"

# --- 1. the mapping ------------------------------------------------------------
TMPDIR=$work/tmp $PHPX -d cashback.spool_dir="$work/spool-map" "$wc/test-mapping.php" >"$work/map.log" 2>&1 ||
  { cat "$work/map.log"; fail "test-mapping.php failed"; }
echo "woocommerce: mapping: $(tail -n 1 "$work/map.log")"

# --- 2. the plugin against the stubs ---------------------------------------------
TMPDIR=$work/tmp $PHPX "$wc/tests/test-plugin.php" "http://127.0.0.1:$rport" "$connection" \
  "$work/scratch" >"$work/plugin.log" 2>&1 || { cat "$work/plugin.log"; fail "test-plugin.php failed"; }
grep '^FAIL' "$work/plugin.log" || :
echo "woocommerce: plugin: $(tail -n 1 "$work/plugin.log")"
if grep -q "$secret" "$work/plugin.log" "$work/scratch"/* 2>/dev/null; then
  fail "the secret appears in the test output or a log"
fi

# --- 3. without the extension, and with it but configured nowhere ------------------
php -n -d extension="$ext" "$wc/tests/test-plugin.php" --unconfigured "$work/scratch" >"$work/unconf.log" 2>&1 ||
  { cat "$work/unconf.log"; fail "the plugin with an unconfigured extension failed"; }
echo "woocommerce: unconfigured: $(tail -n 1 "$work/unconf.log")"
# (3.) ------------------------------------------------------
php -n "$wc/tests/test-plugin.php" --no-extension >"$work/noext.log" 2>&1 ||
  { cat "$work/noext.log"; fail "the plugin without the extension failed"; }
echo "woocommerce: without the extension: $(tail -n 1 "$work/noext.log")"

# --- 4. the plugin zip ----------------------------------------------------------------
sh "$wc/build-zip.sh" "$work/zip" >"$work/zip.log" 2>&1 || { cat "$work/zip.log"; fail "build-zip.sh failed"; }
zip=$work/zip/cashback-woocommerce.zip
[ -f "$zip" ] || fail "build-zip.sh made no $zip"
"$PYTHON3" - "$zip" "$wc/cashback-woocommerce.php" <<'PY' || fail "the plugin zip is not a WordPress plugin"
import re, sys, zipfile
z = zipfile.ZipFile(sys.argv[1])
names = set(z.namelist())
need = {"cashback-woocommerce/cashback-woocommerce.php", "cashback-woocommerce/readme.txt",
        "cashback-woocommerce/uninstall.php",
        "cashback-woocommerce/cashback-mapping.php",
        "cashback-woocommerce/includes/class-cashback-wc.php",
        "cashback-woocommerce/includes/class-cashback-wc-settings.php"}
missing = need - names
assert not missing, "missing %s" % sorted(missing)
assert all(n.startswith("cashback-woocommerce/") for n in names), "a file outside the plugin folder"
assert not [n for n in names if "/tests/" in n or n.endswith(".sh") or "test-" in n], "tests in the zip: %s" % sorted(names)
readme = z.read("cashback-woocommerce/readme.txt").decode()
assert readme.startswith("=== Cashback for WooCommerce ===\n"), "readme.txt: no === Plugin Name === line"
head = dict(re.findall(r"^([A-Z][A-Za-z ]+): *(.+)$", readme.split("\n\n")[0], re.M))
for f in ("Contributors", "Tags", "Requires at least", "Tested up to", "Requires PHP", "Stable tag", "License"):
    assert f in head, "readme.txt: no %s" % f
for s in ("== Description ==", "== Installation ==", "== Frequently Asked Questions ==", "== Changelog =="):
    assert s in readme, "readme.txt: no %s" % s
plugin = open(sys.argv[2]).read()
version = re.search(r"^ \* Version: (\S+)$", plugin, re.M).group(1)
assert head["Stable tag"] == version, "Stable tag %s, plugin Version %s" % (head["Stable tag"], version)
assert re.search(r"^ \* Plugin Name: Cashback for WooCommerce$", plugin, re.M)
print("woocommerce: zip: %d files, readme.txt and Version %s" % (len(names), version))
PY
for f in "$wc"/cashback-woocommerce.php "$wc"/cashback-mapping.php "$wc"/uninstall.php "$wc"/includes/*.php; do
  php -n -l "$f" >/dev/null || fail "$f: syntax"
done
echo "woocommerce: all passed"
