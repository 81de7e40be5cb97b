#!/bin/sh
# The README's program (run by `make check`; top_srcdir, top_builddir,
# PYTHON3, MAKE, CC and PKG_CONFIG come from the environment):
#
#  1. the indented block of README that starts with the first line of
#     samples/quickstart.c is that file, byte for byte (one source);
#  2. samples/quickstart, built by `make` against the in-tree library,
#     reports order QS-1 to a cashback-sandbox on 127.0.0.1 and exits 0;
#  3. as a user would: the library, header and libcashback.pc installed
#     into a DESTDIR, `$CC quickstart.c $(pkg-config --cflags --libs
#     libcashback)` builds the file, and it reports order QS-2;
#  4. the sandbox counted exactly those sales: two EUR orders, QS-1 and
#     QS-2, 49.90 and 5.00, no rejection; and a missing
#     CASHBACK_CONNECTION is refused (exit 2) without touching the spool.
#
# The sandbox has --max-seconds 60 as a backstop and is killed on any exit.
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_builddir:=$(pwd)}"
: "${PYTHON3:=python3}"
: "${MAKE:=make}"
: "${CC:=cc}"
: "${PKG_CONFIG:=pkg-config}"
# Without libmicrohttpd or sqlite3 configure leaves the sandbox out.
if [ "${BUILD_SANDBOX:-yes}" = no ]; then
  echo "quickstart: SKIP: cashback-sandbox is not built (configure: no libmicrohttpd or sqlite3, or --without-sandbox)"
  exit 77
fi
src="$top_srcdir/samples/quickstart.c"
bin="$top_builddir/samples/quickstart"
sandbox="$top_builddir/plugins/sandbox/cashback-sandbox"

work=$(mktemp -d "${TMPDIR:-/tmp}/cashback-quickstart.XXXXXX") || exit 1
pid=""
cleanup() {
  if [ -n "$pid" ]; then
    kill -KILL "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
  fi
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP
fail() {
  echo "quickstart: FAIL: $*"
  [ -f "$work/log" ] && { echo "--- sandbox log"; tail -n 20 "$work/log"; }
  exit 1
}
for v in $(env | sed -n 's/^\(CASHBACK_[A-Z_]*\)=.*/\1/p'); do unset "$v"; done

# 1. The README shows the file.
first=$(head -n 1 "$src")
awk -v first="    $first" '
  !found && $0 == first { found = 1 }
  found && $0 != "" && substr($0, 1, 4) != "    " { exit }
  found { print }' "$top_srcdir/README" |
  sed -e 's/^    //' | awk '{ l[NR] = $0 } END {
    n = NR; while (n > 0 && l[n] == "") n--
    for (i = 1; i <= n; i++) print l[i] }' >"$work/readme.c"
[ -s "$work/readme.c" ] || fail "README does not show samples/quickstart.c (no indented line \"    $first\")"
if ! cmp -s "$work/readme.c" "$src"; then
  diff -u "$src" "$work/readme.c" | sed 's/^/  /; 40q'
  fail "the program in README differs from samples/quickstart.c (above: - file, + README)"
fi
echo "quickstart: README shows samples/quickstart.c as it is"

if [ "$PYTHON3" = no ] || ! command -v "$PYTHON3" >/dev/null 2>&1; then
  echo "quickstart: no python3, skipped"
  exit 77
fi
[ -x "$bin" ] || fail "$bin is not built"
[ -x "$sandbox" ] || fail "$sandbox is not built"

# 2. The sandbox, and the program built in the tree.
secret=quickstart-test-secret-0001
"$sandbox" --listen 127.0.0.1:0 --port-file "$work/port" --db "$work/db" \
  --log "$work/log" --max-seconds 60 --merchant "shop-qs:k1:$secret" &
pid=$!
i=0
while [ ! -s "$work/port" ]; do
  kill -0 "$pid" 2>/dev/null || { wait "$pid"; pid=""; fail "the sandbox exited at start"; }
  i=$((i + 1))
  [ $i -le 200 ] || fail "no port file after 20 s"
  sleep 0.1
done
port=$(cat "$work/port")
conn="cashback:merchant_id=shop-qs;key_id=k1;secret=$secret"
conn="$conn;endpoint=http://127.0.0.1:$port/cashback/v1/events;spool_dir=$work/spool"

"$bin" QS-0 tok_qs 1.00 >"$work/out" 2>&1
rc=$?
[ "$rc" = 2 ] || fail "without CASHBACK_CONNECTION: exit $rc, want 2: $(cat "$work/out")"
grep -q CASHBACK_CONNECTION "$work/out" || fail "without CASHBACK_CONNECTION it said: $(cat "$work/out")"
[ ! -e "$work/spool" ] || fail "without CASHBACK_CONNECTION a spool was made"

CASHBACK_CONNECTION=$conn timeout 30 "$bin" QS-1 tok_qs 49.90 >"$work/out" 2>&1 ||
  fail "the in-tree quickstart: $(cat "$work/out")"
grep -q "^sale [0-9a-f]\{32\} of order QS-1 (49.90 EUR) delivered$" "$work/out" ||
  fail "the in-tree quickstart said: $(cat "$work/out")"
grep -qF "$secret" "$work/out" "$work/log" && fail "the secret was printed"
echo "quickstart: built in the tree: $(cat "$work/out")"

# 3. As a user: installed library, pkg-config, the compiler.
inst="$work/inst"
if ! (cd "$top_builddir" && env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL \
  $MAKE install-libLTLIBRARIES install-includeHEADERS install-pkgconfigDATA \
  DESTDIR="$inst") >"$work/install.log" 2>&1; then
  cat "$work/install.log"
  fail "make install-libLTLIBRARIES install-includeHEADERS install-pkgconfigDATA"
fi
pc=$(find "$inst" -name libcashback.pc | head -1)
so=$(find "$inst" -name 'libcashback.so' | head -1)
[ -n "$pc" ] && [ -n "$so" ] || fail "no libcashback.pc or libcashback.so installed"
flags=$(PKG_CONFIG_PATH=$(dirname "$pc") PKG_CONFIG_SYSROOT_DIR=$inst \
  "$PKG_CONFIG" --cflags --libs libcashback) || fail "pkg-config --cflags --libs libcashback"
cp "$src" "$work/quickstart.c"
# shellcheck disable=SC2086
(cd "$work" && $CC quickstart.c $flags -o quickstart) >"$work/cc.out" 2>&1 ||
  fail "cc quickstart.c $flags: $(cat "$work/cc.out")"
CASHBACK_CONNECTION=$conn LD_LIBRARY_PATH=$(dirname "$so") \
  timeout 30 "$work/quickstart" QS-2 tok_qs 5 >"$work/out" 2>&1 ||
  fail "the installed quickstart: $(cat "$work/out")"
grep -q "^sale [0-9a-f]\{32\} of order QS-2 (5 EUR) delivered$" "$work/out" ||
  fail "the installed quickstart said: $(cat "$work/out")"
echo "quickstart: built with pkg-config against the installed library: $(cat "$work/out")"

# 4. What the sandbox counted.
"$PYTHON3" - "$port" <<'EOF' || fail "the sandbox's totals"
import json, sys, urllib.request
doc = json.load(urllib.request.urlopen(
    "http://127.0.0.1:%s/api/totals" % sys.argv[1], timeout=10))
m = {x["merchant_id"]: x for x in doc["merchants"]}["shop-qs"]
orders = sorted((o["order_id"], o["currency"], o["sale"], o["test"])
                for o in m["orders"])
want = [("QS-1", "EUR", 4990, False), ("QS-2", "EUR", 500, False)]
ok = orders == want and [(t["currency"], t["orders"], t["sales"], t["net"])
                         for t in m["totals"]] == [("EUR", 2, 5490, 5490)]
ok = ok and not m["recent_rejections"] and not m["held_orders"]
if not ok:
    print("quickstart: FAIL: the sandbox counted", json.dumps(m))
    sys.exit(1)
print("quickstart: the sandbox counted QS-1 (49.90 EUR) and QS-2 (5.00 EUR), nothing else")
EOF
kill -TERM "$pid"
wait "$pid"
pid=""
echo "quickstart: all checks passed"
