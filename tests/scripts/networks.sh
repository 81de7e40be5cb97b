#!/bin/sh
# The real sender (the cashback CLI: report, send, quarantine) with
# profile=awin and profile=impact against cashback-sandbox's network modes,
# on 127.0.0.1 (run by `make check`). Bounded: every sandbox has
# --max-seconds 60, every send a --timeout.
#  1. Awin: sale, partial refund (the new total 39.90 replaces 49.90), cancel
#     (declined), confirm (approved), each received once; an order dated in
#     the future rejected by "Awin" and quarantined with its message, shown
#     by `cashback quarantine list`;
#  2. Awin outage (down) then recovery: nothing recorded during it, then
#     everything delivered once;
#  3. Impact: sale, partial refund (PUT, new amount), cancel (reversed).
# Not covered yet: 429 pacing and kill -9 of the sender mid-batch.
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_builddir:=$(pwd)}"
: "${PYTHON3:=python3}"
me=networks
if [ "${BUILD_SANDBOX:-yes}" = no ]; then
  echo "$me: SKIP: cashback-sandbox is not built"
  exit 77
fi
command -v curl >/dev/null 2>&1 || { echo "$me: SKIP: no curl"; exit 77; }
if [ "$PYTHON3" = no ] || ! command -v "$PYTHON3" >/dev/null 2>&1; then
  echo "$me: SKIP: no python3"
  exit 77
fi
bin="$top_builddir/plugins/sandbox/cashback-sandbox"
cli="$top_builddir/plugins/cli/cashback"
work=$(mktemp -d "${TMPDIR:-/tmp}/cashback-networks-e2e.XXXXXX") || exit 1
pid=""
cleanup() {
  [ -n "$pid" ] && { kill -KILL "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; }
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP
fail() {
  echo "$me: FAIL: $*"
  [ -f "$work/log" ] && tail -n 30 "$work/log"
  exit 1
}
start() {
  rm -f "$work/port"
  : >"$work/log"
  "$bin" --listen 127.0.0.1:0 --port-file "$work/port" --log "$work/log" \
    --max-seconds 60 "$@" &
  pid=$!
  i=0
  while [ ! -s "$work/port" ]; do
    i=$((i + 1))
    [ $i -le 200 ] || fail "no port file"
    sleep 0.1
  done
  base="http://127.0.0.1:$(cat "$work/port")"
}
stop() { kill -TERM "$pid"; wait "$pid"; pid=""; }
view() {
  curl -s -m 20 "$base/api/orders" >"$work/view" || fail "GET /api/orders"
  "$PYTHON3" - "$work/view" "$1" <<'PY' || fail "view: $1: $(cat "$work/view")"
import json, sys
v = json.load(open(sys.argv[1]))
def o(ref):
    return next((x for x in v["orders"] if x["ref"] == ref), None)
sys.exit(0 if eval(sys.argv[2]) else 1)
PY
}
cb() { "$cli" "$@" >>"$work/cli.out" 2>&1 || fail "cashback $*: $(tail -3 "$work/cli.out")"; }
T=2026-12-01T10:15:00+01:00
COMMON="merchant_id=shop-42;cookie_secret=cookie-secret-for-tests-0001;durability=process;connect_timeout=1s;request_timeout=5s;backoff_base=100ms;backoff_max=1s"

# 1. Awin.
start --network awin --account 12345 --api-key awin-key-e2e-0001 --api-token awin-token-e2e-0002
CASHBACK_CONNECTION="cashback:$COMMON;profile=awin;awin_advertiser_id=12345;awin_api_key=awin-key-e2e-0001;awin_api_token=awin-token-e2e-0002;awin_base_url=$base;spool_dir=$work/spool-awin"
export CASHBACK_CONNECTION
cb report sale --order 1001 --amount 49.90 --currency EUR --click awc-1 --order-time $T
cb report sale --order 1002 --amount 20.00 --currency EUR --click awc-2 --order-time $T
cb report sale --order 1003 --amount 30.00 --currency EUR --click awc-3 --order-time $T
cb report refund --order 1001 --amount 10.00 --currency EUR --refund-id r1
cb report cancel --order 1002
cb report confirm --order 1003
cb report sale --order 1004 --amount 5.00 --currency EUR --click awc-4 --order-time 2999-01-01T00:00:00Z
cb send --timeout 30
view 'o("1001")["amount"] == "39.90" and o("1001")["sale_amount"] == "49.90" and o("1001")["received"] == 1'
view 'o("1002")["status"] == "declined" and o("1003")["status"] == "approved" and o("1004") is None'
view 'v["duplicates"] == 0 and v["orders_count"] == 3'
"$cli" quarantine list >"$work/q" 2>&1
grep -qF "awin_rejected: transactionDate 2999-01-01T00:00:00Z is in the future" "$work/q" ||
  fail "quarantine list: $(cat "$work/q")"
echo "$me: awin sale/refund/cancel/confirm and rejection ok"

# 2. Awin outage, then recovery.
curl -s -m 20 -d '{"mode":"down"}' "$base/_admin/mode" >/dev/null
for i in 1 2 3 4 5; do
  cb report sale --order "O-$i" --amount 1.00 --currency EUR --click "awc-o$i" --order-time $T
done
"$cli" send --timeout 3 >/dev/null 2>&1 && fail "send succeeded while down"
view 'o("O-1") is None'
curl -s -m 20 -d '{"mode":"ok"}' "$base/_admin/mode" >/dev/null
cb send --timeout 30
view 'all(o("O-" + str(i)) is not None and o("O-" + str(i))["received"] == 1 for i in range(1, 6))'
stop
echo "$me: awin outage and recovery ok"

# 3. Impact.
start --network impact --account IRe2e123 --api-token impact-token-e2e-0003 --campaign 1000
CASHBACK_CONNECTION="cashback:$COMMON;profile=impact;impact_account_sid=IRe2e123;impact_auth_token=impact-token-e2e-0003;impact_campaign_id=1000;impact_action_tracker_id=2000;impact_base_url=$base;spool_dir=$work/spool-impact"
export CASHBACK_CONNECTION
cb report sale --order 2001 --amount 49.90 --currency EUR --click imp-1 --order-time $T
cb report sale --order 2002 --amount 20.00 --currency EUR --click imp-2 --order-time $T
cb report refund --order 2001 --amount 10.00 --currency EUR --refund-id r1
cb report cancel --order 2002
cb send --timeout 30
view 'o("2001")["amount"] == "39.90" and o("2001")["received"] == 1 and o("2002")["status"] == "reversed"'
stop
echo "$me: impact ok"
echo "$me: all checks passed"
