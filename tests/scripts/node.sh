#!/bin/sh
# The Node.js package (plugins/node, docs/node.md) with the addon this build
# compiled against the installed Node headers (configure's
# --with-node-headers):
#   1. `node --test plugins/node/test/`: every function and error path of
#      the package, with no network (plugins/node/test/api.test.js);
#   2. end to end: the node:http shop of samples/node/http-shop.js on
#      127.0.0.1 using the package, the test receiver as the network
#      (tests/scripts/node_e2e.js);
#   3. `make node-package` packs the npm tarball and `npm install --offline`
#      installs it into a scratch shop, which loads it (no registry);
#   4. bench/node.sh with 20 sales per case, so that it cannot rot (no
#      timing asserted);
#   5. index.d.ts: `tsc --strict` of plugins/node/test/types.ts, with the
#      TypeScript pinned by plugins/node/test/tsc/package-lock.json (`npm
#      ci` from npm's cache or the registry; without either the step says
#      so and is not checked);
#   6. a real Express app (pinned by plugins/node/test/express/
#      package-lock.json, npm ci), samples/node/express-shop.js,
#      landing -> checkout -> paid -> reload -> refund against the receiver
#      (tests/scripts/node_express.js; not run, and said so, when npm
#      cannot install it);
#   7. the same with a real Koa (plugins/node/test/koa/package-lock.json)
#      and samples/node/koa-shop.js, the sale reported through the
#      X-Cashback-Event header (tests/scripts/node_koa.js);
#   8. cluster: 3 workers, killed with SIGKILL under a short load, every
#      paid order arrives exactly once (tests/scripts/node_cluster.js).
# Bounded in time (NODE_TEST_TIMEOUT, default 180 s for each step).
# Skips (77) when Node or its headers are missing (the addon not built).
set -eu
: "${top_srcdir:?}" "${top_builddir:?}"
PYTHON3=${PYTHON3:-python3}
if [ "${BUILD_NODE:-no}" != yes ]; then
  echo "node: the addon was not built (configure found no Node-API headers; Debian: nodejs libnode-dev), skipped"
  exit 77
fi
command -v node >/dev/null 2>&1 || { echo "node: no node on PATH (Debian: nodejs), skipped"; exit 77; }
command -v "$PYTHON3" >/dev/null 2>&1 || { echo "node: no python3, skipped"; exit 77; }
major=$(node -p 'process.versions.node.split(".")[0]')
[ "$major" -ge 18 ] || { echo "node: Node $(node --version) is older than 18 (node --test), skipped"; exit 77; }
addon=$top_builddir/plugins/node/build/Release/cashback.node
[ -f "$addon" ] || { echo "node: $addon not built" >&2; exit 1; }
libdir=$top_builddir/.libs
[ -f "$libdir/libcashback.so" ] || { echo "node: $libdir/libcashback.so not built" >&2; exit 1; }
limit=${NODE_TEST_TIMEOUT:-180}

# The tests configure their clients themselves.
unset CASHBACK_CONFIG CASHBACK_CONNECTION
for v in $(env | sed -n 's/^\(CASHBACK_[A-Z_]*\)=.*/\1/p'); do unset "$v"; done
NODE_CASHBACK_ADDON=$addon
LD_LIBRARY_PATH=$libdir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
export NODE_CASHBACK_ADDON LD_LIBRARY_PATH

work=$(mktemp -d "${TMPDIR:-/tmp}/cashback-node.XXXXXX")
# The shops of samples/node/ require('cashback'), require('express') and
# require('koa') as a merchant's shop does: NODE_PATH gives them this
# package under its name and the pinned Express and Koa (steps 6, 7).
mkdir "$work/node_path"
ln -s "$(cd "$top_srcdir/plugins/node" && pwd)" "$work/node_path/cashback"
NODE_PATH=$work/node_path:$work/express/node_modules:$work/koa/node_modules
export NODE_PATH
pids=""
cleanup() {
  for p in $pids; do kill "$p" 2>/dev/null || :; done
  for p in $pids; do wait "$p" 2>/dev/null || :; done
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP
fail() { echo "node: $*" >&2; exit 1; }
show() { echo "--- $1"; tail -n "${2:-60}" "$1"; }
echo "node: Node $(node --version) (Node-API $(node -p process.versions.napi)), addon $addon"

# --- 1. the package's functions and error paths ----------------------------
rc=0
(cd "$top_srcdir/plugins/node" && TMPDIR=$work timeout "$limit" node --test test/api.test.js) \
  >"$work/unit.log" 2>&1 || rc=$?
grep -E '^# (tests|pass|fail)' "$work/unit.log" || :
[ "$rc" = 0 ] || { cat "$work/unit.log"; fail "node --test plugins/node/test/api.test.js failed (exit $rc)"; }
grep -q '^# fail 0$' "$work/unit.log" || { cat "$work/unit.log"; fail "unit tests failed"; }
grep -q '^# pass [1-9]' "$work/unit.log" || { cat "$work/unit.log"; fail "no unit test passed"; }

# --- 2. end to end against the test receiver --------------------------------
key_id=node-e2e
secret=node-e2e-secret-0123456789abcdef
"$PYTHON3" "$top_srcdir/tests/receiver/receiver.py" --port 0 \
  --port-file "$work/receiver.port" --keys "$key_id:$secret" \
  --store "$work/store.jsonl" --log "$work/receiver.log" --max-seconds "$limit" \
  >"$work/receiver.out" 2>&1 &
pids="$pids $!"
i=0
while [ ! -s "$work/receiver.port" ]; do
  i=$((i + 1)); [ $i -le 100 ] || { show "$work/receiver.out"; fail "receiver did not start"; }
  sleep 0.1
done
rport=$(cat "$work/receiver.port")
cat >"$work/cashback.conf" <<EOC
merchant_id = node-e2e-shop
key_id = $key_id
secret = $secret
endpoint = http://127.0.0.1:$rport/v1/events
spool_dir = $work/spool
request_timeout = 10s
EOC
chmod 0600 "$work/cashback.conf"
rc=0
NODE_CASHBACK_E2E_CONF=$work/cashback.conf NODE_CASHBACK_RECEIVER=http://127.0.0.1:$rport \
  timeout "$limit" node --test "$top_srcdir/tests/scripts/node_e2e.js" >"$work/e2e.log" 2>&1 || rc=$?
grep -E '^# (tests|pass|fail)' "$work/e2e.log" || :
if [ "$rc" != 0 ] || ! grep -q '^# fail 0$' "$work/e2e.log"; then
  cat "$work/e2e.log"; show "$work/receiver.log"; fail "end-to-end run failed (exit $rc)"
fi

# --- 3. the packed tarball installs offline ---------------------------------
if command -v npm >/dev/null 2>&1; then
  rm -f "$top_builddir"/plugins/node/cashback-*.tgz
  ${MAKE:-make} -C "$top_builddir" node-package >"$work/pack.log" 2>&1 ||
    { show "$work/pack.log"; fail "make node-package failed"; }
  tgz=$(ls "$top_builddir"/plugins/node/cashback-*.tgz)
  mkdir "$work/shop"
  echo '{"name":"shop","version":"1.0.0","private":true}' >"$work/shop/package.json"
  (cd "$work/shop" && npm_config_cache=$work/npm-cache timeout "$limit" \
    npm install --offline --no-audit --no-fund "$tgz") >"$work/npm.log" 2>&1 ||
    { show "$work/npm.log"; fail "npm install --offline $tgz failed"; }
  v=$(cd "$work/shop" && env -u NODE_CASHBACK_ADDON -u NODE_PATH node -p 'require("cashback").version') ||
    fail "the installed package does not load"
  [ -f "$work/shop/node_modules/cashback/build/Release/cashback.node" ] ||
    fail "the installed package has no build/Release/cashback.node"
  echo "node: $(basename "$tgz") installed offline, libcashback $v"
  rm -f "$tgz"
else
  echo "node: no npm: the packed tarball's install not checked"
fi

# --- 4. the event-loop bench runs --------------------------------------------
NODE_BENCH_N=20 sh "$top_srcdir/bench/node.sh" >"$work/bench.log" 2>&1 ||
  { show "$work/bench.log"; fail "bench/node.sh failed"; }
[ "$(grep -c ' p99 .* max ' "$work/bench.log")" = 4 ] ||
  { show "$work/bench.log"; fail "bench/node.sh printed no 4 cases"; }
echo "node: bench/node.sh runs (20 sales per case)"

# --- 5. index.d.ts under tsc --strict --------------------------------------
cp -R "$top_srcdir/plugins/node/test/tsc" "$work/tsc"
chmod -R u+w "$work/tsc"
if (cd "$work/tsc" && timeout "$limit" npm ci --prefer-offline --no-audit --no-fund) \
    >"$work/npm-ci.log" 2>&1; then
  "$work/tsc/node_modules/.bin/tsc" --strict --noEmit --target es2020 \
    --module commonjs --types node --typeRoots "$work/tsc/node_modules/@types" \
    "$top_srcdir/plugins/node/test/types.ts" >"$work/tsc.log" 2>&1 ||
    { show "$work/tsc.log"; fail "tsc --strict of plugins/node/test/types.ts failed"; }
  echo "node: index.d.ts passes tsc --strict ($("$work/tsc/node_modules/.bin/tsc" --version))"
else
  show "$work/npm-ci.log" 5
  echo "node: TypeScript could not be installed (npm ci): index.d.ts NOT checked"
fi

# --- 6. Express and 7. Koa end to end ----------------------------------------
for fw in express koa; do
  cp -R "$top_srcdir/plugins/node/test/$fw" "$work/$fw"
  chmod -R u+w "$work/$fw"
  if (cd "$work/$fw" && timeout "$limit" npm ci --prefer-offline --no-audit --no-fund) \
      >"$work/npm-$fw.log" 2>&1; then
    rc=0
    NODE_CASHBACK_E2E_CONF=$work/cashback.conf NODE_CASHBACK_RECEIVER=http://127.0.0.1:$rport \
      timeout "$limit" node --test "$top_srcdir/tests/scripts/node_$fw.js" >"$work/$fw.log" 2>&1 || rc=$?
    if [ "$rc" != 0 ] || ! grep -q '^# fail 0$' "$work/$fw.log"; then
      cat "$work/$fw.log"; show "$work/receiver.log"; fail "the $fw run failed (exit $rc)"
    fi
    echo "node: $fw $(node -p "require('$work/$fw/node_modules/$fw/package.json').version") end to end passes"
  else
    show "$work/npm-$fw.log" 5
    echo "node: $fw could not be installed (npm ci): the $fw run NOT checked"
  fi
done

# --- 8. cluster, workers killed -9 ---------------------------------------------
rc=0
NODE_CASHBACK_E2E_CONF=$work/cashback.conf NODE_CASHBACK_RECEIVER=http://127.0.0.1:$rport \
  timeout "$limit" node --test "$top_srcdir/tests/scripts/node_cluster.js" >"$work/cluster.log" 2>&1 || rc=$?
if [ "$rc" != 0 ] || ! grep -q '^# fail 0$' "$work/cluster.log"; then
  cat "$work/cluster.log"; show "$work/receiver.log"; fail "the cluster run failed (exit $rc)"
fi
grep -o 'cluster: [0-9].*' "$work/cluster.log" | sed 's/^/node: /' || :
echo "node: ok"
