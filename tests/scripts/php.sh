#!/bin/sh
# The PHP extension (plugins/php), built with phpize against THIS build
# tree's libcashback and header (an uninstalled .pc file), then:
#   1. its generated arginfo header matches cashback.stub.php (when
#      PHP-Parser is there to regenerate it);
#   2. its .phpt suite (`make test` of the extension);
#   3. a fork check (pcntl): a child process gets a client of its own; the
#      sender thread and the quarantine; settings that alternate with
#      ini_set() keep one client each (spool segments counted); the sample
#      shop's pages with a broken configuration (php-cgi) still answer;
#   4. the WooCommerce sample's mapping and hooks, against a fake WC_Order
#      (samples/php/woocommerce/test-mapping.php: WordPress cannot run here);
#   5. end to end: samples/php served by `php -S` on 127.0.0.1 with the
#      extension loaded, the test receiver as the network
#      (tests/scripts/php_e2e.py);
# and first, that the extension as `make install` installs it is hardened
# (tests/scripts/elfcheck.sh).
# Skips (77) only when PHP's development files are not installed.
set -eu
: "${top_srcdir:?}" "${top_builddir:?}"
PYTHON3=${PYTHON3:-python3}
for tool in phpize php-config php; do
  command -v "$tool" >/dev/null 2>&1 ||
    { echo "php: $tool not found (Debian: php8.2-dev php8.2-cli), skipped"; exit 77; }
done
command -v "$PYTHON3" >/dev/null 2>&1 || { echo "php: no python3, skipped"; exit 77; }
libdir=$top_builddir/.libs
[ -f "$libdir/libcashback.so" ] || { echo "php: $libdir/libcashback.so not built" >&2; exit 1; }

work=$(mktemp -d "${TMPDIR:-/tmp}/cashback-php.XXXXXX")
pids=""
cleanup() {
  for p in $pids; do kill "$p" 2>/dev/null || :; done
  for p in $pids; do wait "$p" 2>/dev/null || :; done
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP
fail() { echo "php: $*" >&2; exit 1; }

# --- Build (and the environment cleared of CASHBACK_* and make's variables) --
. "$top_srcdir/tests/scripts/php-build.sh"

# --- 0. the installed extension is hardened (docs/security.md) ----------------
# `make install` of the extension into a scratch INSTALL_ROOT, then the checks
# of tests/scripts/hardening.sh. FORTIFY leaves no trace in this file: it
# calls nothing that FORTIFY checks with a size known at compile time (PHP's
# headers make snprintf their own), so the build log is read for it instead:
# every compile command has -D_FORTIFY_SOURCE=2.
if [ "${HARDENING:-yes}" = no ]; then
  echo "php: configured with --disable-hardening: hardening not checked"
elif ! command -v "${READELF:-readelf}" >/dev/null 2>&1; then
  echo "php: no readelf (Debian: binutils): hardening not checked"
else
  (cd "$work/ext" && make install INSTALL_ROOT="$work/phproot") >"$work/install.log" 2>&1 ||
    { show "$work/install.log"; fail "make install of the extension failed"; }
  installed=$(find "$work/phproot" -type f -name cashback.so)
  [ -n "$installed" ] || fail "make install INSTALL_ROOT=$work/phproot installed no cashback.so"
  case " ${HARDEN_MISSING:-} " in
    *" fortify "*) ;;
    *)
      ncc=$(grep -c -e '--mode=compile' "$work/make.log" || :)
      nfort=$(grep -e '--mode=compile' "$work/make.log" | grep -c -e '-D_FORTIFY_SOURCE=2' || :)
      [ "${ncc:-0}" -gt 0 ] && [ "$ncc" = "$nfort" ] ||
        fail "hardening: $nfort of ${ncc:-0} compile commands of the extension have -D_FORTIFY_SOURCE=2"
      ;;
  esac
  ELFCHECK_SKIP=fortify ELFCHECK_SKIP_WHY="every compile command had -D_FORTIFY_SOURCE=2" \
    sh "$top_srcdir/tests/scripts/elfcheck.sh" "$installed" | sed "s|$work/phproot||" >"$work/elfcheck.log" || :
  cat "$work/elfcheck.log"
  grep -q '^FAIL' "$work/elfcheck.log" && fail "the installed extension is not hardened"
  grep -q '^ok ' "$work/elfcheck.log" || fail "hardening: elfcheck.sh checked nothing"
  echo "php: the installed extension is hardened"
fi

# --- 1. arginfo ---------------------------------------------------------------
mkdir "$work/gen"
rc=0
sh "$top_srcdir/plugins/php/gen_arginfo.sh" "$work/gen" >"$work/gen.log" 2>&1 || rc=$?
if [ "$rc" = 77 ]; then
  echo "php: arginfo check skipped: $(cat "$work/gen.log")"
elif [ "$rc" != 0 ]; then
  show "$work/gen.log"; fail "gen_arginfo.sh failed"
elif ! cmp -s "$work/gen/cashback_arginfo.h" "$top_srcdir/plugins/php/cashback_arginfo.h"; then
  diff -u "$top_srcdir/plugins/php/cashback_arginfo.h" "$work/gen/cashback_arginfo.h" | head -n 40
  fail "cashback_arginfo.h is out of date: run plugins/php/gen_arginfo.sh"
else
  echo "php: cashback_arginfo.h matches cashback.stub.php"
fi

# --- 2. .phpt suite -------------------------------------------------------------
rc=0
(cd "$work/ext" && TMPDIR=$work/tmp NO_INTERACTION=1 REPORT_EXIT_STATUS=1 \
  TEST_PHP_ARGS="-q --show-diff --no-color" make test) >"$work/phpt.log" 2>&1 || rc=$?
sed -n '/^Number of tests/,/^Time taken/p' "$work/phpt.log"
failed=$(sed -n 's/^Tests failed *: *\([0-9]*\).*/\1/p' "$work/phpt.log")
passed=$(sed -n 's/^Tests passed *: *\([0-9]*\).*/\1/p' "$work/phpt.log")
if [ "$rc" != 0 ] || [ "${failed:-x}" != 0 ] || [ "${passed:-0}" = 0 ]; then
  cat "$work/phpt.log"
  fail ".phpt tests failed (make test exit $rc, failed '${failed:-?}', passed '${passed:-?}')"
fi
skipped=$(sed -n 's/^Tests skipped *: *\([0-9]*\).*/\1/p' "$work/phpt.log")
[ "${skipped:-0}" = 0 ] || { grep '^SKIP' "$work/phpt.log"; fail "$skipped .phpt tests skipped"; }

# --- The test network -----------------------------------------------------------
key_id=php-e2e
secret=php-e2e-secret-0123456789abcdef
"$PYTHON3" "$top_srcdir/tests/receiver/receiver.py" --port 0 \
  --port-file "$work/receiver.port" --keys "$key_id:$secret" \
  --store "$work/store.jsonl" --log "$work/receiver.log" --max-seconds 300 \
  >"$work/receiver.out" 2>&1 &
pids="$pids $!"
i=0
while [ ! -s "$work/receiver.port" ]; do
  i=$((i + 1)); [ $i -le 100 ] || { show "$work/receiver.out"; fail "receiver did not start"; }
  sleep 0.1
done
rport=$(cat "$work/receiver.port")

# The shop's configuration: one file, as a network hands it over.
spool=$work/spool
cat >"$work/cashback.conf" <<EOF
merchant_id = php-e2e-shop
key_id = $key_id
secret = $secret
endpoint = http://127.0.0.1:$rport/v1/events
spool_dir = $spool
request_timeout = 10s
EOF
chmod 0600 "$work/cashback.conf"
PHPX="php -n -d extension=$ext -d cashback.config=$work/cashback.conf"

# --- 3. fork: the child makes its own client ------------------------------------
# (Debian's CLI has pcntl built in; php-fpm forks its workers the same way.)
if $PHPX -r 'exit(function_exists("pcntl_fork") ? 0 : 1);'; then
  $PHPX -r '
    $order = fn($o) => ["order_id" => $o, "click" => "fork-tok", "amount" => "5.00", "currency" => "EUR"];
    $obj = new Cashback\Client(null, ["config" => ini_get("cashback.config"),
                                      "spool_dir" => $argv[1]]);
    Cashback\sale($order("fork-parent-1"));    // the parent has clients now
    $obj->sale($order("fork-obj-parent"));
    $pid = pcntl_fork();
    if ($pid === 0) {                          // the child makes its own
      Cashback\sale($order("fork-child"));
      $obj->sale($order("fork-obj-child"));
      exit(0);
    }
    pcntl_waitpid($pid, $st);
    if (!pcntl_wifexited($st) || pcntl_wexitstatus($st) !== 0) { echo "child failed\n"; exit(1); }
    Cashback\sale($order("fork-parent-2"));    // and the parent still works
    echo "fork: ", Cashback\status()["queued_events"], " + ", $obj->status()["queued_events"], " queued\n";
    exit(Cashback\flush(20000) && $obj->flush(20000) ? 0 : 1);
  ' "$work/spool-fork-obj" >"$work/fork.log" 2>&1 || { show "$work/fork.log"; fail "fork check failed"; }
  cat "$work/fork.log"
  grep -q '^fork: 3 + 2 queued$' "$work/fork.log" || fail "fork: expected 3 + 2 queued events"
  accepted=$("$PYTHON3" -c 'import json,sys,urllib.request
print(json.load(urllib.request.urlopen("http://127.0.0.1:%s/_stats" % sys.argv[1]))["accepted"])' "$rport")
  [ "$accepted" = 5 ] || fail "fork: the receiver accepted $accepted events, expected 5"
  echo "php: fork check passed (parent, child and parent again delivered)"
else
  echo "php: this PHP CLI has no pcntl: fork check skipped"
fi

# --- 3b. the sender thread (cashback.sender=1) and the quarantine ----------------
# The network rejects one event: it goes to the quarantine, is listed, and
# replayed; a worker with cashback.sender=1 delivers without any flush call.
$PHPX -d cashback.spool_dir="$work/spool-q" -r '
  $ctl = fn(array $f) => file_get_contents("http://127.0.0.1:" . $argv[1] . "/_control", false,
      stream_context_create(["http" => ["method" => "POST", "content" => json_encode($f),
                                        "header" => "Content-Type: application/json"]]));
  $ctl(["reject_index" => 0, "count" => 1]);
  $id = Cashback\confirm(["order_id" => "q-1"]);
  var_dump(Cashback\flush(20000));
  $q = Cashback\quarantine();
  echo "quarantined: ", count($q), " ", $q[0]["id"] === $id ? "same id" : "other id", " ", $q[0]["reason"], "\n";
  echo "replayed: ", Cashback\replay($id), "\n";
  var_dump(Cashback\flush(20000), Cashback\status()["quarantined"]);
' "$rport" >"$work/quarantine.log" 2>&1 || { show "$work/quarantine.log"; fail "quarantine check failed"; }
printf 'bool(true)\nquarantined: 1 same id rejected_by_test\nreplayed: 1\nbool(true)\nint(0)\n' >"$work/quarantine.expected"
diff -u "$work/quarantine.expected" "$work/quarantine.log" || fail "quarantine: unexpected output"
echo "php: quarantine check passed (rejected, listed, replayed, delivered)"
$PHPX -d cashback.spool_dir="$work/spool-s" -d cashback.sender=1 -r '
  Cashback\sale(["order_id" => "s-1", "click" => "snd", "amount" => "3.00", "currency" => "EUR"]);
  for ($i = 0; $i < 300 && Cashback\status()["queued_events"] > 0; $i++) usleep(50000);
  $s = Cashback\status();
  echo "sender thread: ", $s["queued_events"], " queued after ", $i, " polls of 50 ms, ",
       $s["last_success"] > 0 ? "delivered" : "never delivered", "\n";
  exit($s["queued_events"] === 0 && $s["last_success"] > 0 ? 0 : 1);
' >"$work/sender.log" 2>&1 || { show "$work/sender.log"; fail "the sender thread did not deliver"; }
cat "$work/sender.log"

# --- 3c. settings that alternate keep their clients ------------------------------
# ini_set() (or per-directory values) switching between two spools, 20 times,
# with the sender thread on and the network slow (1.5 s an answer): one client
# per distinct configuration, so 2 spool segments (one per spool, it was 20)
# and no switch waits for a sender's final delivery (a switch used to block
# up to cashback.shutdown_flush_ms).
$PHPX -d cashback.sender=1 -r '
  $ctl = fn(array $f) => file_get_contents("http://127.0.0.1:" . $argv[1] . "/_control", false,
      stream_context_create(["http" => ["method" => "POST", "content" => json_encode($f),
                                        "header" => "Content-Type: application/json"]]));
  $ctl(["slow_ms" => 1500, "count" => -1]);
  $t0 = microtime(true);
  for ($i = 0; $i < 20; $i++) {
    ini_set("cashback.spool_dir", $argv[2] . "/spool-alt-" . ($i % 2));
    Cashback\confirm(["order_id" => "alt-$i"]);
  }
  $ms = (int)((microtime(true) - $t0) * 1000);
  ob_start(); phpinfo(INFO_MODULES); $info = ob_get_clean();
  preg_match("/^default clients => (.*)$/m", $info, $m);
  echo "alternating: 20 switches, ", $ms < 1000 ? "under 1 s" : "$ms ms", ", default clients: ", $m[1] ?? "?", "\n";
  $ctl(["clear" => true]);
' "$rport" "$work" >"$work/alt.log" 2>&1 || { show "$work/alt.log"; fail "alternating settings check failed"; }
cat "$work/alt.log"
sleep 2 # the last slow answers (1.5 s) land before the end-to-end counts start
segs=$(find "$work/spool-alt-0" "$work/spool-alt-1" -name 'seg-*.log' | wc -l)
echo "php: alternating settings: $segs spool segments"
grep -q '^alternating: 20 switches, under 1 s, default clients: 2 kept (at most 8), 2 made$' "$work/alt.log" ||
  fail "alternating settings: expected 2 clients made and no switch blocking"
[ "$segs" = 2 ] || fail "alternating settings: $segs spool segments, expected 2"

# --- 3d. Cashback never breaks a page of the sample shop ------------------------
# The landing, the checkout and the thank-you page run under php-cgi (Debian
# php8.2-cgi) with a configuration that cannot work: the click, capture and
# sale calls throw, the pages log it and go on (the checkout used to answer
# 500 without an order, the thank-you page 500 after the buyer paid).
if command -v php-cgi >/dev/null 2>&1; then
  samples=$(cd "$top_srcdir/samples/php" && pwd)
  mkdir "$work/broken-shop"
  : >"$work/not-a-dir"
  sed "s|^spool_dir = .*|spool_dir = $work/not-a-dir/spool|" "$work/cashback.conf" >"$work/nospool.conf"
  chmod 0600 "$work/nospool.conf"
  page() { # script query cookie config
    env -i PATH="$PATH" LD_LIBRARY_PATH="$LD_LIBRARY_PATH" REDIRECT_STATUS=1 \
      REQUEST_METHOD=GET GATEWAY_INTERFACE=CGI/1.1 SCRIPT_FILENAME="$samples/$1" \
      QUERY_STRING="$2" HTTP_COOKIE="$3" SHOP_DATA="$work/broken-shop" \
      php-cgi -n -d extension="$ext" -d cashback.config="$4" -d log_errors=1 \
      -d display_errors=0 -d error_log="$work/broken.log" 2>&1
  }
  page index.php "cb_click=tok.1" "" "$work/missing.conf" >"$work/p1.out"
  grep -q '^Status:' "$work/p1.out" && { cat "$work/p1.out"; fail "landing: no 200 with a bad configuration"; }
  grep -q '<h1>Sample shop</h1>' "$work/p1.out" || { cat "$work/p1.out"; fail "landing: no page"; }
  page checkout.php "sku=mug" "cashback_click=1.x.y.z.tok" "$work/missing.conf" >"$work/p2.out"
  grep -q '^Status: 302' "$work/p2.out" && grep -q '^Location: thankyou.php?order=' "$work/p2.out" ||
    { cat "$work/p2.out"; fail "checkout: no redirect with a bad configuration"; }
  printf '{"id":"4242","lines":[{"sku":"mug","name":"Mug","quantity":1,"price":"12.50","category":"kitchen"}],"total":"12.50","currency":"EUR","voucher":null,"click":"1.x.y.z.tok","paid":true}' \
    >"$work/broken-shop/order-4242.json"
  page thankyou.php "order=4242" "" "$work/nospool.conf" >"$work/p3.out"
  grep -q '^Status:' "$work/p3.out" && { cat "$work/p3.out"; fail "thank-you: no 200 with an unusable spool"; }
  grep -q 'Order 4242 is paid' "$work/p3.out" || { cat "$work/p3.out"; fail "thank-you: no page"; }
  n=$(grep -c 'cashback: ' "$work/broken.log" || :)
  [ "$n" = 3 ] || { cat "$work/broken.log"; fail "expected 3 logged cashback errors, got $n"; }
  echo "php: a bad configuration or spool breaks no page (landing 200, checkout 302, thank-you 200; $n errors logged)"
else
  echo "php: no php-cgi (Debian: php8.2-cgi): the page failure check is skipped"
fi

# --- 4. the WooCommerce sample, against fakes of WC_Order (no WordPress here) --------
TMPDIR=$work/tmp $PHPX -d cashback.spool_dir="$work/wc-spool" \
  "$top_srcdir/samples/php/woocommerce/test-mapping.php" >"$work/wc.log" 2>&1 ||
  { cat "$work/wc.log"; fail "WooCommerce sample test failed"; }
echo "php: WooCommerce sample: $(tail -n 1 "$work/wc.log")"

# --- 5. end to end under php -S ---------------------------------------------------
mkdir "$work/shop-data"
started=""
for attempt in 1 2 3 4 5; do
  sport=$("$PYTHON3" -c 'import socket
s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
  SHOP_DATA=$work/shop-data $PHPX -d cashback.auto_capture=1 \
    -S "127.0.0.1:$sport" -t "$top_srcdir/samples/php" >"$work/server.log" 2>&1 &
  spid=$!
  i=0
  while [ $i -lt 50 ]; do
    if "$PYTHON3" -c 'import socket,sys
socket.create_connection(("127.0.0.1", int(sys.argv[1])), 0.2).close()' "$sport" 2>/dev/null; then
      started=yes; break
    fi
    kill -0 "$spid" 2>/dev/null || break
    i=$((i + 1)); sleep 0.1
  done
  if [ -n "$started" ]; then pids="$pids $spid"; break; fi
  kill "$spid" 2>/dev/null || :; wait "$spid" 2>/dev/null || :
done
[ -n "$started" ] || { show "$work/server.log"; fail "php -S did not start"; }

rc=0
"$PYTHON3" "$top_srcdir/tests/scripts/php_e2e.py" "http://127.0.0.1:$sport" \
  "http://127.0.0.1:$rport" "$work/store.jsonl" "$work/shop-data" -- \
  $PHPX "$top_srcdir/samples/php/flush.php" || rc=$?
if [ "$rc" != 0 ]; then
  show "$work/server.log"; show "$work/receiver.log"; fail "end-to-end run failed"
fi
echo "php: all passed"
