#!/bin/sh
# cashback-sandbox end to end (run by `make check`; top_srcdir, top_builddir
# and PYTHON3 come from the environment). Everything on 127.0.0.1, on ports
# the kernel picks, with a database in a temporary directory:
#
#  1. usage errors: no merchant, a bad mode, a bad secret (never echoed), a
#     keys file readable by others;
#  2. sandbox_client.py before-restart: accepted, duplicate, rejected per
#     event (invalid, unknown order, amount and currency mismatch, wrong id),
#     each signature check, key rotation, unknown merchant, another
#     merchant's key, malformed and too big bodies, a partial refund netted,
#     a cancel, test events, the page escaped, the totals as JSON; then
#     SIGTERM: exit 0, port file removed; one log line per event;
#  3. restarted from a keys file on the same database with --fail-mode 503:
#     sandbox_client.py after-restart: dedupe and totals survived, and each
#     fault mode (503, down, slow, back to ok); then SIGINT;
#  4. the SDK itself (tests/sandbox/sdk_client): a sale and a refund
#     delivered, a cancel before its sale held (nothing quarantined) and
#     netted once the sale came from another spool, a sale during an outage kept
#     and delivered when the sandbox is back;
#  5. --followups retry: a follow-up before its sale answered retry, then
#     accepted after the sale;
#  6. hardening: dedupe and ids per merchant (another merchant's copy of an
#     id never makes a sale a duplicate); the signature checked before the
#     body is parsed, an unknown merchant answered exactly like a bad
#     signature, a body no key can sign dropped unread (never kept in
#     memory); totals past 64 bits reported as overflowed, held refunds
#     past any sale refused; 80 connections trickling bytes while a normal
#     client is answered; a trickler cut off by --request-timeout; SIGTERM
#     while 8 slow-mode answers wait: all 8 answered, exit 0;
#  7. a database of schema 1 migrated, one of an unknown schema refused;
#  8. --max-seconds: the sandbox exits by itself.
#
# Every sandbox it starts also has --max-seconds 60 as a backstop, and is
# killed by the trap on any exit.
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_builddir:=$(pwd)}"
: "${PYTHON3:=python3}"
# Without libmicrohttpd or sqlite3 configure leaves the sandbox out.
if [ "${BUILD_SANDBOX:-yes}" = no ]; then
  echo "sandbox: SKIP: cashback-sandbox is not built (configure: no libmicrohttpd or sqlite3, or --without-sandbox)"
  exit 77
fi
bin="$top_builddir/plugins/sandbox/cashback-sandbox"
sdk_client="$top_builddir/tests/sandbox/sdk_client"
client="$top_srcdir/tests/scripts/sandbox_client.py"

if [ "$PYTHON3" = no ] || ! command -v "$PYTHON3" >/dev/null 2>&1; then
  echo "sandbox: no python3, skipped"
  exit 77
fi
[ -x "$bin" ] || { echo "sandbox: FAIL: $bin is not built"; exit 1; }

work=$(mktemp -d "${TMPDIR:-/tmp}/cashback-sandbox-test.XXXXXX") || exit 1
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
  echo "sandbox: FAIL: $*"
  if [ -f "$work/log" ]; then
    echo "--- sandbox log (last 40 lines)"
    tail -n 40 "$work/log"
  fi
  exit 1
}

S1=s3cr3t-for-tests-only-0001
S2=s3cr3t-for-tests-only-0002
S7=another-secret-for-shop-7

# start ARGS...: starts the sandbox in the background, sets pid and port.
start() {
  rm -f "$work/port"
  "$bin" --listen 127.0.0.1:0 --port-file "$work/port" --db "$work/db" \
    --log "$work/log" --max-seconds 60 "$@" &
  pid=$!
  i=0
  while [ ! -s "$work/port" ]; do
    kill -0 "$pid" 2>/dev/null || { wait "$pid"; pid=""; fail "the sandbox exited at start"; }
    i=$((i + 1))
    [ $i -le 200 ] || fail "no port file after 20 s"
    sleep 0.1
  done
  port=$(cat "$work/port")
  echo "sandbox: listening on 127.0.0.1:$port"
}

# stop SIGNAL: stops it, which must exit 0 and remove the port file.
stop() {
  kill "-$1" "$pid"
  wait "$pid"
  rc=$?
  pid=""
  [ "$rc" = 0 ] || fail "exit status $rc after SIG$1"
  [ ! -e "$work/port" ] || fail "port file left after SIG$1"
  grep -q "stopped$" "$work/log" || fail "no 'stopped' in the log"
}

# expect_exit STATUS MESSAGE-PART ARGS...: a usage or start-up error.
expect_exit() {
  want=$1 part=$2
  shift 2
  "$bin" --db "$work/usage.db" --listen 127.0.0.1:0 --max-seconds 5 "$@" \
    >"$work/out" 2>&1
  rc=$?
  [ "$rc" = "$want" ] || fail "'$*' exited $rc, want $want: $(cat "$work/out")"
  grep -q -- "$part" "$work/out" || fail "'$*' said: $(cat "$work/out")"
}

# log_has TEXT: a fixed string in the log.
log_has() {
  grep -qF -- "$1" "$work/log" || fail "the log has no '$1'"
}

# 1. Usage errors.
expect_exit 2 "no merchant"
expect_exit 2 "not ok, down, 503, slow, drop or 429" --merchant "shop-42:k1:$S1" \
  --fail-mode sideways
expect_exit 2 "a secret 16-256" --merchant "shop-42:k1:short"
grep -q short "$work/out" && fail "a refused secret was echoed"
# KEY:SECRET the other way round: the secret stands where the key id
# should be, and is not echoed either.
expect_exit 2 "merchant shop-42, key 1:" --merchant "shop-42:$S1:k1"
grep -qF -- "$S1" "$work/out" && fail "a secret given as a key id was echoed"
printf 'shop-42 k1 %s\n' "$S1" >"$work/keys"
chmod 644 "$work/keys"
expect_exit 1 "chmod 600" --keys-file "$work/keys"
"$bin" --help | grep -q -- "--fail-mode" || fail "--help"
"$bin" --version | grep -q "cashback-sandbox" || fail "--version"
echo "sandbox: usage errors ok"

# 2. The protocol, before a restart.
start --merchant "shop-42:k1:$S1,k2:$S2" --merchant "shop-7:k7:$S7"
timeout 60 "$PYTHON3" "$client" before-restart "$port" || fail "before-restart"
stop TERM
log_has "shop-42 sale order=1001 amount=49.90 EUR accepted id="
log_has "shop-42 sale order=1001 amount=49.90 EUR duplicate id="
log_has "shop-42 refund order=1001 amount=15.00 EUR accepted id="
log_has "shop-42 refund order=9999 amount=1.00 EUR accepted (held until its sale arrives)"
log_has "shop-42 refund order=2001 amount=5.00 EUR accepted (held until its sale arrives)"
log_has "shop-42 sale order=T-1 amount=7.77 EUR test accepted"
log_has "order=<i>\"&'x amount=1000 JPY accepted"
log_has "401 from 127.0.0.1: signature_mismatch"
log_has "stopping on signal 15"
for s in "$S1" "$S2" "$S7"; do
  grep -qF "$s" "$work/log" && fail "a secret is in the log"
done
echo "sandbox: protocol ok"

# 3. Restarted from a keys file, in fault mode 503.
cat >"$work/keys" <<EOF
# merchant key_id secret
shop-42 k1 $S1
shop-42 k2 $S2
shop-7  k7 $S7
EOF
chmod 600 "$work/keys"
start --keys-file "$work/keys" --fail-mode 503
timeout 60 "$PYTHON3" "$client" after-restart "$port" || fail "after-restart"
log_has "503 (fault mode)"
log_has "mode down (slow_ms"

# 4. The SDK against the sandbox.
if [ -x "$sdk_client" ]; then
  endpoint="http://127.0.0.1:$port/cashback/v1/events"
  spool="$work/spool"
  timeout 30 "$sdk_client" "$endpoint" "$spool" deliver || fail "sdk deliver"
  # A cancel before its sale (held), then the sale from another server's
  # spool: nothing quarantined, the order ends cancelled.
  timeout 30 "$sdk_client" "$endpoint" "$spool" held || fail "sdk held"
  timeout 30 "$sdk_client" "$endpoint" "$work/spool-b" late-sale ||
    fail "sdk late sale"
  "$PYTHON3" "$client" mode "$port" down || fail "mode down"
  timeout 30 "$sdk_client" "$endpoint" "$spool" outage || fail "sdk outage"
  "$PYTHON3" "$client" mode "$port" ok || fail "mode ok"
  timeout 30 "$sdk_client" "$endpoint" "$spool" recover || fail "sdk recover"
  log_has "shop-42 sale order=S-1 amount=12.34 EUR accepted"
  log_has "shop-42 refund order=S-1 amount=2.34 EUR accepted"
  log_has "shop-42 cancel order=S-404 amount=- accepted (held until its sale arrives)"
  log_has "shop-42 sale order=S-404 amount=5.00 EUR accepted"
  log_has "shop-42 sale order=S-2 amount=5.00 EUR accepted"
  "$PYTHON3" "$client" totals "$port" >"$work/totals" || fail "totals"
  # 75.50 before, +1.00 (1008) +1.00 (1009) +1.00 (1010) +10.00 (S-1) +5.00
  # (S-2); S-404 cancelled
  grep -q '"net_decimal": "93.50"' "$work/totals" ||
    fail "EUR net after the SDK's events: $(cat "$work/totals")"
  echo "sandbox: SDK ok"
else
  echo "sandbox: $sdk_client not built, SDK step skipped"
fi
stop INT

# 5. --followups retry, on a fresh database.
rm -f "$work/db" "$work/db-wal" "$work/db-shm"
start --merchant "shop-42:k1:$S1" --followups retry
timeout 60 "$PYTHON3" "$client" followups-retry "$port" ||
  fail "followups-retry"
log_has "follow-ups retry"
log_has "shop-42 refund order=3001 amount=1.00 EUR retry reason=unknown_order"
stop TERM
expect_exit 2 "not hold or retry" --merchant "shop-42:k1:$S1" \
  --followups sometimes
echo "sandbox: follow-ups retry ok"

# 6. Hardening, on a fresh database: dedupe and ids per merchant; the
# signature checked before the body, an unknown merchant answered like a bad
# signature; totals past 64 bits; 80 slow clients; a request deadline.
rm -f "$work/db" "$work/db-wal" "$work/db-shm"
: >"$work/log"
start --merchant "shop-42:k1:$S1,k2:$S2" --merchant "shop-7:k7:$S7"
for step in cross-merchant unauthenticated overflow slow-clients; do
  timeout 120 "$PYTHON3" "$client" "$step" "$port" || fail "$step"
done
# Bodies no key can sign are dropped as they arrive, never kept.
if [ -r "/proc/$pid/status" ]; then
  timeout 120 "$PYTHON3" "$client" unsigned-bodies "$port" "$pid" ||
    fail "unsigned-bodies"
fi
log_has "401 from 127.0.0.1: signature_malformed (no Cashback-Signature header)"
grep -q " 400 from" "$work/log" && fail "an unauthenticated body was parsed"
stop TERM
start --merchant "shop-42:k1:$S1" --request-timeout 2
timeout 60 "$PYTHON3" "$client" request-deadline "$port" ||
  fail "request-deadline"
log_has "whose request took over 2 s (--request-timeout)"
# SIGTERM during a slow-mode answer: answered, then exit 0.
timeout 60 "$PYTHON3" "$client" slow-stop "$port" "$pid" || fail "slow-stop"
wait "$pid"
rc=$?
pid=""
[ "$rc" = 0 ] || fail "exit status $rc after SIGTERM during a slow answer"
log_has "stopping on signal 15"
expect_exit 2 "is not 1 to 3600 seconds" --merchant "shop-42:k1:$S1" \
  --request-timeout 0
echo "sandbox: hardening ok"

# 7. The database: one of schema 1 (dedupe by id alone) is migrated; one of
# an unknown schema, or not the sandbox's, is refused.
if "$PYTHON3" -c 'import sqlite3' 2>/dev/null; then
  rm -f "$work/db" "$work/db-wal" "$work/db-shm"
  "$PYTHON3" "$client" make-v1-db "$work/db" || fail "make-v1-db"
  start --merchant "shop-42:k1:$S1" --merchant "shop-7:k7:$S7"
  log_has "migrated from schema 1 to 2"
  timeout 60 "$PYTHON3" "$client" migrated "$port" || fail "migrated"
  stop TERM
  "$PYTHON3" -c 'import sqlite3, sys; d = sqlite3.connect(sys.argv[1]); d.execute("PRAGMA user_version = 99"); d.commit()' "$work/db"
  expect_exit 1 "schema version 99 is not one" --db "$work/db" \
    --merchant "shop-42:k1:$S1"
  rm -f "$work/other.db"
  "$PYTHON3" -c 'import sqlite3, sys; d = sqlite3.connect(sys.argv[1]); d.execute("CREATE TABLE t (x)"); d.commit()' "$work/other.db"
  expect_exit 1 "not a cashback-sandbox database" --db "$work/other.db" \
    --merchant "shop-42:k1:$S1"
  echo "sandbox: database migration ok"
else
  echo "sandbox: no sqlite3 module in $PYTHON3, migration step skipped"
fi

# 8. --max-seconds: exits by itself, status 0.
rm -f "$work/db" "$work/db-wal" "$work/db-shm"
"$bin" --merchant "shop-42:k1:$S1" --listen 127.0.0.1:0 --db "$work/db" \
  --log "$work/log" --max-seconds 1 &
pid=$!
i=0
while kill -0 "$pid" 2>/dev/null; do
  i=$((i + 1))
  [ $i -le 100 ] || fail "--max-seconds 1 still running after 10 s"
  sleep 0.1
done
wait "$pid"
rc=$?
pid=""
[ "$rc" = 0 ] || fail "--max-seconds exit status $rc"
log_has "stopping after --max-seconds 1"
echo "sandbox: all checks passed"
