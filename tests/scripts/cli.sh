#!/bin/sh
# Tests of the `cashback` command (plugins/cli, docs/cli.md): every
# subcommand and every documented error path, against the in-tree receiver
# (tests/receiver/receiver.py) on 127.0.0.1 with temporary spools.
#
#  1. global: --help, --version, no command, an unknown command (2)
#  2. configuration: missing (3), a bad connection string naming the key
#     (3), a missing --config file (3), --config and --connection applied;
#     a config file others may read or change, or another user owns, is
#     refused (3), as root and as nobody (setpriv), and doctor says so
#  3. report: ids as docs/protocol.md derives them, --json, --dry-run with
#     --test, and each bad option exiting 2 with the option named; a full
#     spool exiting 4
#  4. send: once (0, receiver counts), unreachable network (5), a blackhole
#     (accepts, never answers: --timeout bounds the run, 5; status shows the
#     request in flight and says the network is not answering), refused key
#     (5, status paused), bad --timeout (2); --watch delivers, a concurrent
#     send is told the spool is busy (5), SIGTERM stops it (0)
#  5. status --json fields
#  6. quarantine: list/show/replay, --json, unknown ids (1), usage (2);
#     an entry with terminal escapes is shown printable (no control byte)
#  7. import: tests/cli/orders.csv with its bad rows (line numbers), exit 1;
#     cells and file names with terminal escapes are shown printable;
#     a re-import is only duplicates at the receiver; --dry-run, stdin,
#     a bad header (1), a missing file (2); the vocabulary's keys as
#     columns (customer unknown, amount_minor, Unix order_time)
#  8. verify: python-made signatures valid (0); mismatch, unknown key,
#     timestamp, malformed (1); --key-file; usage (2)
#  8b. secrets off the command line: --connection-file (0600; refused at
#     0644, doctor's check), --connection - (one line of stdin),
#     --connection-file -, CASHBACK_CONNECTION, verify --key-file -; a
#     running sender's /proc/PID/cmdline holds no secret with them
#  9. doctor: passing (0), a 0755 spool made 0700 again, a cap above the
#     free space (warning, 0), a refused key (1), no network (1), an
#     untrusted TLS certificate (1), --offline, no configuration (3);
#     ca_file: a private CA's receiver is reached only with it
#     progress bars on a terminal (script(1)) for import and send, none on
#     a pipe
set -u
: "${top_srcdir:?}" "${top_builddir:?}"
PYTHON3=${PYTHON3:-python3}
CB="$top_builddir/plugins/cli/cashback"
command -v "$PYTHON3" >/dev/null 2>&1 || { echo "cli: no python3, skipped"; exit 77; }
[ -x "$CB" ] || { echo "cli: $CB not built"; exit 1; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/cbcli.XXXXXX")
rpid=""
wpid=""
tpid=""
bpid=""
cleanup() {
  [ -n "$bpid" ] && kill "$bpid" 2>/dev/null && wait "$bpid" 2>/dev/null
  [ -n "$tpid" ] && kill "$tpid" 2>/dev/null && wait "$tpid" 2>/dev/null
  [ -n "$wpid" ] && kill "$wpid" 2>/dev/null && wait "$wpid" 2>/dev/null
  [ -n "$rpid" ] && kill "$rpid" 2>/dev/null && wait "$rpid" 2>/dev/null
  chmod -R u+rwx "$tmp" 2>/dev/null
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

SECRET=cli-test-secret-0123456789abcdef
# Nothing from the caller's environment.
for v in $(env | sed -n 's/^\(CASHBACK_[A-Z_]*\)=.*/\1/p'); do unset "$v"; done

"$PYTHON3" "$top_srcdir/tests/receiver/receiver.py" --port 0 \
  --port-file "$tmp/port" --keys "k1:$SECRET" --log "$tmp/receiver.log" \
  --max-seconds 300 &
rpid=$!
i=0
while [ ! -s "$tmp/port" ]; do
  i=$((i + 1))
  [ $i -gt 200 ] && { echo "cli: the receiver did not start"; exit 1; }
  sleep 0.05
done
port=$(cat "$tmp/port")
base="http://127.0.0.1:$port"
conn() { # conn SPOOL [SECRET] [ENDPOINT]
  echo "cashback:merchant_id=shop-42;key_id=k1;secret=${2:-$SECRET};endpoint=${3:-$base/v1/events};spool_dir=$tmp/$1;durability=process;connect_timeout=1s;request_timeout=5s;backoff_base=100ms;backoff_max=1s"
}
export CASHBACK_CONNECTION
CASHBACK_CONNECTION=$(conn spool)

failures=0
checks=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
# run EXPECTED_RC CMD...: runs CMD, output in $tmp/out and $tmp/err.
run() {
  want=$1
  shift
  checks=$((checks + 1))
  "$@" >"$tmp/out" 2>"$tmp/err"
  got=$?
  if [ "$got" != "$want" ]; then
    fail "exit $got, want $want: $*"
    sed 's/^/   out: /' "$tmp/out" | head -5
    sed 's/^/   err: /' "$tmp/err" | head -5
  fi
}
# out PATTERN / err PATTERN: the last run's stdout / stderr has it.
out() { grep -q -- "$1" "$tmp/out" || { fail "stdout lacks '$1'"; sed 's/^/   out: /' "$tmp/out" | head -5; }; }
err() { grep -q -- "$1" "$tmp/err" || { fail "stderr lacks '$1'"; sed 's/^/   err: /' "$tmp/err" | head -5; }; }
# outF TEXT / errF TEXT: likewise, a fixed string.
outF() { grep -qF -- "$1" "$tmp/out" || { fail "stdout lacks '$1'"; sed 's/^/   out: /' "$tmp/out" | head -5; }; }
errF() { grep -qF -- "$1" "$tmp/err" || { fail "stderr lacks '$1'"; sed 's/^/   err: /' "$tmp/err" | head -5; }; }
# no_control FILE WHAT: FILE holds no control byte (but newline) and no DEL.
no_control() {
  if LC_ALL=C grep -q "$(printf '[\001-\011\013-\037\177]')" "$1"; then
    fail "$2: a control byte reached the terminal"; sed -n l "$1" | head -5
  fi
}
# stat NAME: a counter of the receiver.
stat() {
  "$PYTHON3" -c "import json,sys,urllib.request as u; print(json.load(u.urlopen(sys.argv[1]+'/_stats'))[sys.argv[2]])" "$base" "$1"
}
control() {
  "$PYTHON3" -c "import sys,urllib.request as u; u.urlopen(sys.argv[1]+'/_control', data=sys.argv[2].encode()).read()" "$base" "$1"
}
expect_eq() { # expect_eq WHAT GOT WANT
  checks=$((checks + 1))
  [ "$2" = "$3" ] || fail "$1: got '$2', want '$3'"
}

# 1. Global --------------------------------------------------------------
run 0 "$CB" --help; out "Commands:"
run 0 "$CB" --version; out "cashback $(sed -n 's/.*CASHBACK_VERSION "\(.*\)".*/\1/p' "$top_srcdir/include/cashback.h")"
run 2 "$CB"; err "usage: cashback"
run 2 "$CB" frobnicate; err "unknown command 'frobnicate'"
run 2 "$CB" --bogus status
err "Try 'cashback \-\-help'"
# Every command parses its options and operands alike (cli_parse_options()).
for c in send status doctor verify; do
  run 2 "$CB" $c --bogus; err "Try 'cashback $c \-\-help'"
  run 2 "$CB" $c extra; err "unexpected argument 'extra'"
  run 0 "$CB" $c --help; out "usage: cashback $c"
done
run 0 "$CB" report --help; out "usage: cashback report"

# 2. Configuration -------------------------------------------------------
run 3 env -u CASHBACK_CONNECTION "$CB" status; err "missing required key 'merchant_id'"
run 3 "$CB" --connection 'cashback:merchant_id=shop 42' status; err "(--connection).*merchant_id"
run 3 "$CB" status --config "$tmp/nonexistent.conf"; err "cannot open"
# A secret written without its "secret=" (base64, ending in '=') is never
# echoed: the pair is named by its position.
B64=c2VjcmV0LXZhbHVlLW9mLXRoZS1zaG9wcw+/ZWQ=
run 3 "$CB" --connection "cashback:merchant_id=shop-42;key_id=k1;$B64;endpoint=$base/v1/events" status
errF "pair 3: unknown key of 39 characters (not shown"
grep -qF "c2VjcmV0" "$tmp/err" && fail "--connection: the secret was echoed"
printf 'merchant_id = shop-42\nkey_id = k1\n%s\n' "$B64" >"$tmp/nokey.conf"
chmod 600 "$tmp/nokey.conf" # a file holding a secret must be 0600 (security.md)
run 3 env -u CASHBACK_CONNECTION "$CB" --config "$tmp/nokey.conf" status
errF "nokey.conf:3: unknown key of 39 characters (not shown"
grep -qF "c2VjcmV0" "$tmp/err" && fail "--config: the secret was echoed"
run 3 env CASHBACK_ENDPOINT=ftp://x "$CB" status; err "CASHBACK_ENDPOINT"
cat >"$tmp/shop.conf" <<EOF
merchant_id = shop-43
key_id = k1
secret = $SECRET
endpoint = $base/v1/events
spool_dir = $tmp/spool43
EOF
# A file holding the secret: refused when others may read or change it, or
# when another user owns it (docs/security.md); doctor names the check.
chmod 644 "$tmp/shop.conf"
run 3 env -u CASHBACK_CONNECTION "$CB" --config "$tmp/shop.conf" status
err "(--config): '$tmp/shop.conf' holds a secret but every user can read it (mode 0644); fix: chmod 600 FILE"
grep -q "$SECRET" "$tmp/err" && fail "a refused config file's secret was echoed"
run 3 env -u CASHBACK_CONNECTION "$CB" doctor --offline --config "$tmp/shop.conf"
out "\[FAIL\] config file (--config): '$tmp/shop.conf' holds a secret but every user can read it"
out "fix: .*chmod 600 FILE"
chmod 620 "$tmp/shop.conf"
run 3 env -u CASHBACK_CONNECTION CASHBACK_CONFIG="$tmp/shop.conf" "$CB" status; err "CASHBACK_CONFIG: .*other users can change it (mode 0620)"
if [ "$(id -u)" = 0 ]; then
  chmod 600 "$tmp/shop.conf"
  chown 65534 "$tmp/shop.conf"
  run 3 env -u CASHBACK_CONNECTION "$CB" --config "$tmp/shop.conf" status; err "owned by uid 65534, not this user (uid 0) or root"
  chown 0 "$tmp/shop.conf"
else
  echo "cli: the config file of another user: skipped (chown needs root)"
fi
chmod 600 "$tmp/shop.conf"
run 0 env -u CASHBACK_CONNECTION "$CB" --config "$tmp/shop.conf" status; out "merchant: *shop-43"
run 0 env -u CASHBACK_CONNECTION "$CB" doctor --offline --config "$tmp/shop.conf"
out "\[ ok \] config file (--config): $tmp/shop.conf (mode 0600"
run 0 env -u CASHBACK_CONNECTION CASHBACK_CONFIG="$tmp/shop.conf" "$CB" doctor --offline
out "\[ ok \] config file (CASHBACK_CONFIG): $tmp/shop.conf (mode 0600"
# As an unprivileged user (a PHP worker's): root:GROUP 0640 is shared with
# it; a third user's file is not.
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null 2>&1; then
  nb="$tmp/nobody"
  mkdir -p "$nb/spool" && chown 65534:65534 "$nb/spool" && chmod 711 "$tmp" "$nb"
  printf 'merchant_id = shop-45\nkey_id = k1\nsecret = %s\nendpoint = %s/v1/events\nspool_dir = %s/spool\n' "$SECRET" "$base" "$nb" >"$nb/shop.conf"
  chown 0:65534 "$nb/shop.conf" && chmod 640 "$nb/shop.conf"
  asnobody() { setpriv --reuid=65534 --regid=65534 --clear-groups env -u CASHBACK_CONNECTION "$@"; }
  run 0 asnobody "$CB" --config "$nb/shop.conf" status; out "merchant: *shop-45"
  chown 54321:65534 "$nb/shop.conf"
  run 3 asnobody "$CB" --config "$nb/shop.conf" status; err "owned by uid 54321, not this user (uid 65534) or root"
  chmod 700 "$tmp"
else
  echo "cli: config files as an unprivileged user: skipped (needs root and setpriv)"
fi
# --connection wins over --config, key by key.
run 0 env -u CASHBACK_CONNECTION "$CB" status --config "$tmp/shop.conf" --connection "cashback:merchant_id=shop-44"
out "merchant: *shop-44"

# 3. Report --------------------------------------------------------------
run 0 "$CB" report sale --order 1001 --click tok_9f8e7d --amount 49.90 --currency EUR \
  --item A-1:2:19.95:Teapot:kitchen --item B-7:1:10 --voucher WELCOME10 \
  --customer new --order-time 2026-11-23T19:41:50+01:00 --meta channel=web
expect_eq "sale id" "$(cat "$tmp/out")" c8a9d4c385cc850fbc2aa93b160c738f
run 0 "$CB" report refund --order 1001 --amount 10 --currency EUR --refund-id CN-7 --reason returned --json
out '"id":"f7fb6bfdbcff1d2d64530ddcd094ba48","type":"refund","order_id":"1001","test":false'
run 0 "$CB" report cancel --order 1002 --reason fraud
expect_eq "cancel id" "$(cat "$tmp/out")" "$("$PYTHON3" -c 'import hashlib; print(hashlib.sha256(b"cashback-event-v1\x00shop-42\x00cancel\x001002").hexdigest()[:32])')"
run 0 "$CB" report confirm --order 1001
run 0 "$CB" report sale --order T-1 --voucher V1 --amount 1 --currency JPY --test --dry-run
out '"test":true'; out '"amount":1,"currency":"JPY"'
run 2 "$CB" report; err "which event"
run 2 "$CB" report purchase --order 1; err "unknown event type 'purchase'"
run 2 "$CB" report sale --click t --amount 1 --currency EUR; err "\-\-order ID is required"
run 2 "$CB" report sale --order "a b" --click t --amount 1 --currency EUR; err "\-\-order: 'a b'"
run 2 "$CB" report sale --order 1 --click t --amount 1; err "\-\-amount needs \-\-currency"
run 2 "$CB" report sale --order 1 --click t --currency EUR; err "\-\-currency needs \-\-amount"
run 2 "$CB" report sale --order 1 --click t --amount 49.999 --currency EUR; err "\-\-amount: amount: '49.999' is not an exact EUR amount"
run 2 "$CB" report sale --order 1 --click t --amount 1e3 --currency EUR; err "\-\-amount"
run 2 "$CB" report sale --order 1 --click t --amount 1 --currency EURO; err "\-\-currency"
run 2 "$CB" report sale --order 1 --click t --item A:1:1; err "\-\-item needs \-\-currency"
run 2 "$CB" report sale --order 1 --click t --amount 1 --currency EUR --item A:0:1; err "\-\-item: items: 'A:0:1': the quantity"
run 2 "$CB" report sale --order 1 --click "bad token" --amount 1 --currency EUR; err "\-\-click"
run 2 "$CB" report sale --order 1 --click t --amount 1 --currency EUR --order-time yesterday; err "\-\-order-time: 'yesterday'"
run 2 "$CB" report sale --order 1 --click t --amount 1 --currency EUR --customer old; err "\-\-customer: 'old'"
run 2 "$CB" report sale --order 1 --click t --amount 1 --currency EUR --meta novalue; err "\-\-meta: 'novalue' must be KEY=VALUE"
run 2 "$CB" report sale --order 1 --click t --amount 1 --currency EUR --reason "no spaces"; err "\-\-reason"
run 2 "$CB" report sale --order 1 --amount 1 --currency EUR; err "click: a sale needs a click token or a voucher code (use \-\-click or \-\-voucher)"
run 2 "$CB" report refund --order 1 --currency EUR --amount 0; err "amount: a refund must be above 0"
run 2 "$CB" report sale --order 1 --frobnicate; err "Try 'cashback report \-\-help'"
run 2 "$CB" report sale extra --order 1; err "unexpected argument 'extra'"
# The flags are a mapping onto the event vocabulary (docs/events.md), built
# by the SDK's event builder: what the vocabulary takes, the CLI takes.
run 0 "$CB" report sale --order V-1 --click t --amount 1 --currency EUR --customer unknown --dry-run
grep -q '"customer"' "$tmp/out" && fail "--customer unknown was sent: $(cat "$tmp/out")"
run 0 "$CB" report sale --order V-1 --click t --amount 1 --currency EUR --customer Returning --dry-run; out '"customer":"returning"'
run 0 "$CB" report sale --order V-1 --click t --amount 1 --currency EUR --order-time 1764000000 --dry-run; out '"order_time":"2025-11-24T16:00:00Z"'
run 0 env CASHBACK_SPOOL_DIR="$tmp/spooltype" "$CB" report Sale --order 1001 --click t --amount 1 --currency EUR --json
out '"id":"c8a9d4c385cc850fbc2aa93b160c738f","type":"sale"'
run 2 "$CB" report sale --order 1 --click t --amount 1 --amount 2 --currency EUR; err "\-\-amount: amount: given twice"
run 2 "$CB" report sale --order 1 --click t --click u --amount 1 --currency EUR; err "\-\-click: .*given twice"
run 2 "$CB" report sale --order 1 --click t --amount 1 --currency EUR --meta a=1 --meta a=2; err "\-\-meta: meta.a: given twice"
run 2 "$CB" report sale --order 1 --click t --amount 1 --currency EUR --meta "$(printf 'k%.0s' $(seq 70))=v"; err "\-\-meta: meta.kkk"
run 2 "$CB" report sale --order 1 --click t --amount 1 --currency EUR --test --test; err "\-\-test: test: given twice"
# --click takes the click handle too (the signed cookie value a shop stores
# at checkout): verified with the client's keys, the event keeps the
# click's landing parameter and capture time, as the X-Cashback-Event
# header's click= does; a tampered or foreign handle is refused.
handle() { # handle SECRET TOKEN AGE_S
  "$PYTHON3" -c '
import hashlib, hmac, sys, time
sec, tok, age = sys.argv[1].encode(), sys.argv[2].encode(), int(sys.argv[3])
mid = b"shop-42"
key = hmac.new(sec, b"cashback-cookie-key-v1\0" + mid, hashlib.sha256).digest()
ts = str(int(time.time()) - age).encode()
mac = hmac.new(key, b"cashback-cookie-v1\0" + mid + b"\0" + ts + b"\0awc\0" + tok,
               hashlib.sha256).hexdigest()[:32]
print("1.%s.%s.awc.%s" % (ts.decode(), mac, tok.decode()))' "$@"
}
h=$(handle "$SECRET" tok.H1 3600)
run 0 "$CB" report sale --order H-1 --click "$h" --amount 1 --currency EUR --dry-run
"$PYTHON3" -c '
import json, sys, time
c = json.load(open(sys.argv[1]))["click"]
when = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(int(sys.argv[2].split(".")[1])))
assert c == {"token": "tok.H1", "source": "awc", "captured_at": when}, c
' "$tmp/out" "$h" || fail "report --click HANDLE: token, source and capture time"
run 0 "$CB" report sale --order H-1 --click tok.H1 --amount 1 --currency EUR --dry-run; outF '"click":{"token":"tok.H1"}'
run 2 "$CB" report sale --order H-1 --click "$(handle other-secret-0123456789abcdef tok.H1 60)" --amount 1 --currency EUR
err "\-\-click: click: the click handle is not valid"
run 2 "$CB" report sale --order H-1 --click "$(handle "$SECRET" tok.H1 99999999)" --amount 1 --currency EUR
err "\-\-click: click: the click handle is not valid"
# A full spool: 64 KiB cap, 4 KiB events.
big=$("$PYTHON3" -c 'print("x" * 4000)')
full=0
n=0
while [ $n -lt 40 ]; do
  n=$((n + 1))
  CASHBACK_SPOOL_DIR="$tmp/spoolfull" CASHBACK_SPOOL_MAX_BYTES=65536 \
    "$CB" report sale --order "F-$n" --click t --amount 1 --currency EUR \
    --meta "pad=$big" >"$tmp/out" 2>"$tmp/err"
  rc=$?
  if [ $rc -ne 0 ]; then full=$rc; break; fi
done
expect_eq "full spool exit" "$full" 4
err "the spool is full"

# 4. Send ----------------------------------------------------------------
run 0 "$CB" send; out "delivered 4 events, quarantined 0; 0 queued"
expect_eq "receiver accepted" "$(stat accepted)" 4
run 0 "$CB" send --quiet
[ -s "$tmp/out" ] && fail "send --quiet printed: $(cat "$tmp/out")"
run 2 "$CB" send --timeout 0; err "\-\-timeout: '0'"
run 2 "$CB" send --timeout x; err "\-\-timeout"
run 2 "$CB" send extra; err "unexpected argument"
run 2 "$CB" send --stop-timeout 3601; err "\-\-stop-timeout: '3601' must be 0 to 3600 seconds"
run 2 "$CB" send --watch --stop-timeout x; err "\-\-stop-timeout: 'x'"
# Unreachable network: port 1 on loopback refuses.
down=$(conn spooldown "$SECRET" "http://127.0.0.1:1/v1/events")
run 0 env CASHBACK_CONNECTION="$down" "$CB" report sale --order D-1 --click t --amount 1 --currency EUR
run 5 env CASHBACK_CONNECTION="$down" "$CB" send --timeout 2; err "1 event not delivered yet"
run 0 env CASHBACK_CONNECTION="$down" "$CB" status; out "queued: *1 event"; out "last error: *cannot reach the network"
# A blackhole: a listener that never accepts (the kernel completes the
# handshake) and so never answers, with a 30 s request timeout. While a
# send is in flight, status says so, and after 5 s that the network is not
# answering; `send --timeout N` ends by its deadline (the bounds below are
# on a hang, not timings: before, `--timeout 2` took the 30 s).
"$PYTHON3" -c 'import socket, sys, time
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(16)
open(sys.argv[1] + ".tmp", "w").write(str(s.getsockname()[1]))
import os; os.rename(sys.argv[1] + ".tmp", sys.argv[1]); time.sleep(120)' "$tmp/bhport" &
bpid=$!
i=0
while [ ! -s "$tmp/bhport" ]; do
  i=$((i + 1)); [ $i -gt 200 ] && break; sleep 0.05
done
hole=$(conn spoolhole "$SECRET" "http://127.0.0.1:$(cat "$tmp/bhport")/v1/events" | sed 's/request_timeout=5s/request_timeout=30s/')
run 0 env CASHBACK_CONNECTION="$hole" "$CB" report sale --order B-1 --click t --amount 1 --currency EUR
t0=$(date +%s)
env CASHBACK_CONNECTION="$hole" "$CB" send --timeout 6 >"$tmp/hole.out" 2>"$tmp/hole.err" &
spid=$!
seen_flight=0 seen_silent=0 i=0
while [ $i -lt 70 ] && [ $seen_silent = 0 ]; do
  i=$((i + 1)); sleep 0.1
  env CASHBACK_CONNECTION="$hole" "$CB" status >"$tmp/out" 2>"$tmp/err"
  grep -q "^in flight: *a request since" "$tmp/out" && seen_flight=1
  grep -q "the network is not answering" "$tmp/out" && seen_silent=1
done
wait "$spid"
expect_eq "send --timeout 6 to a blackhole: exit" "$?" 5
took=$(($(date +%s) - t0))
[ "$took" -lt 15 ] || fail "send --timeout 6 to a blackhole took $took s"
expect_eq "status: a request in flight" "$seen_flight" 1
expect_eq "status: the network is not answering" "$seen_silent" 1
grep -q "not delivered yet: .*no answer within" "$tmp/hole.err" || fail "send to a blackhole said: $(cat "$tmp/hole.err")"
run 0 env CASHBACK_CONNECTION="$hole" "$CB" status
grep -q "^in flight" "$tmp/out" && fail "status after the send still says in flight"
t0=$(date +%s)
run 5 env CASHBACK_CONNECTION="$hole" "$CB" send --timeout 2; err "1 event not delivered yet"
took=$(($(date +%s) - t0))
[ "$took" -lt 10 ] || fail "send --timeout 2 to a blackhole took $took s"
kill "$bpid" 2>/dev/null; wait "$bpid" 2>/dev/null; bpid=""
# A refused key: 401, sending paused.
wrong=$(conn spoolwrong "wrong-secret-0123456789abcdef")
run 0 env CASHBACK_CONNECTION="$wrong" "$CB" report sale --order W-1 --click t --amount 1 --currency EUR
run 5 env CASHBACK_CONNECTION="$wrong" "$CB" send --timeout 2; err "refused the key: sending is paused"
run 0 env CASHBACK_CONNECTION="$wrong" "$CB" status --json
"$PYTHON3" -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["paused"] is True and d["queued_events"]==1 and d["last_status"]==23, d' "$tmp/out" || fail "status --json after 401"
# The daemon: delivers, holds the spool, stops on SIGTERM.
"$CB" send --watch --stop-timeout 5 >"$tmp/watch.out" 2>"$tmp/watch.err" &
wpid=$!
i=0
while ! grep -q "sending for shop-42" "$tmp/watch.err" 2>/dev/null; do
  i=$((i + 1)); [ $i -gt 100 ] && break; sleep 0.05
done
run 0 "$CB" report sale --order 1003 --click tok3 --amount 5 --currency EUR
i=0
while [ "$(stat accepted)" -lt 5 ] && [ $i -lt 100 ]; do i=$((i + 1)); sleep 0.1; done
expect_eq "delivered by the daemon" "$(stat accepted)" 5
run 5 "$CB" send --timeout 1; err "another sender is draining this spool"
kill -TERM "$wpid"
wait "$wpid"
expect_eq "daemon exit on SIGTERM" "$?" 0
wpid=""
grep -q "stopping" "$tmp/watch.err" || fail "the daemon did not say it was stopping"

# 5. Status --------------------------------------------------------------
run 0 "$CB" status --json
"$PYTHON3" -c '
import json,sys
d=json.load(open(sys.argv[1]))
for k in ("merchant_id","queued_events","queued_bytes","oldest_age_s","quarantined",
          "corrupt_skipped","last_success","next_attempt","paused","last_status",
          "last_status_text","last_error","state_damaged"):
    assert k in d, k
assert d["merchant_id"]=="shop-42" and d["queued_events"]==0 and d["paused"] is False
assert d["last_success"].endswith("Z"), d
' "$tmp/out" || fail "status --json fields"
run 0 "$CB" status; out "last success:"
run 2 "$CB" status --bogus

# 6. Quarantine ----------------------------------------------------------
control '{"reject_index":0,"count":1}'
run 0 "$CB" report cancel --order 1001 --reason changed_mind
qid=$(cat "$tmp/out")
run 0 "$CB" send; out "quarantined 1"
run 0 "$CB" quarantine list; out "$qid .*rejected_by_test: rejected by the test receiver"
run 0 "$CB" quarantine list --json
"$PYTHON3" -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d[0]["id"]==sys.argv[2] and d[0]["event"]["type"]=="cancel", d' "$tmp/out" "$qid" || fail "quarantine list --json"
run 0 "$CB" quarantine show "$qid"; out "reason: *rejected_by_test"; out '"reason":"changed_mind"'
run 1 "$CB" quarantine show 00000000000000000000000000000000; err "no quarantined event"
run 1 "$CB" quarantine replay 00000000000000000000000000000000; err "no quarantined event"
run 2 "$CB" quarantine replay; err "replay needs an event id, or \-\-all"
run 2 "$CB" quarantine show; err "show needs an event id"
run 2 "$CB" quarantine purge; err "unknown action 'purge'"
run 2 "$CB" quarantine; err "list, show ID or replay"
run 2 "$CB" quarantine list x; err "list takes no id"
run 2 "$CB" quarantine show a b; err "unexpected argument 'b'"
run 2 "$CB" quarantine list --all; err "\-\-all goes with replay"
run 2 "$CB" quarantine show x --json; err "\-\-json goes with list"
run 2 "$CB" quarantine replay x --all; err "replay needs an event id, or \-\-all"
run 0 "$CB" quarantine replay "$qid"; out "replayed 1 event"
run 0 "$CB" send; out "delivered 1 event"
run 0 "$CB" quarantine list; out "the quarantine is empty"
run 0 "$CB" quarantine replay --all; out "replayed 0 events"
# A damaged quarantine file: the damage is counted, listed and kept.
printf 'CBR1\001\000\000\000garbage' >>"$tmp/spool/quarantine.log"
run 0 "$CB" quarantine list; out "1 damaged region in quarantine.log"
run 0 "$CB" status; out "quarantine: *1 damaged region"
run 0 "$CB" status --json
"$PYTHON3" -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["quarantine_damaged"]==1 and d["quarantined"]==0, d' "$tmp/out" || fail "status --json quarantine_damaged"
rm -f "$tmp/spool/quarantine.log"
# An entry holding terminal escapes (the spool directory is writable by the
# shop's user, the list is read by an operator): shown printable.
"$PYTHON3" -c '
import json, struct, sys
def crc32c(data, crc=0):
    crc ^= 0xffffffff
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82F63B78 & -(crc & 1))
    return crc ^ 0xffffffff
doc = {"id": "q\u001b[2J1", "reason": "bad\u001b]0;pwned\u0007",
       "message": "m\u009b2J\r\n", "event": {"type": "sale", "note": "\u001b[5m"}}
p = json.dumps(doc).encode()
h = struct.pack("<III", len(p), 1764000000000 & 0xffffffff, 1764000000000 >> 32)
open(sys.argv[1], "wb").write(b"CBR1" + h + struct.pack("<I", crc32c(h + p) & 0xffffffff) + p)
' "$tmp/spool/quarantine.log"
run 0 "$CB" quarantine list
outF 'q\x1b[2J1  '; outF 'bad\x1b]0;pwned\x07: m\xc2\x9b2J\x0d\x0a'
no_control "$tmp/out" "quarantine list"
run 0 "$CB" quarantine show 'q\x1b[2J1' # the id as listed
outF 'reason:      bad\x1b]0;pwned\x07'; no_control "$tmp/out" "quarantine show"
run 1 "$CB" quarantine show "$(printf 'x\033[2Jy')"; errF "id 'x\x1b[2Jy'"
no_control "$tmp/err" "quarantine show, unknown id"
run 2 "$CB" quarantine "$(printf 'li\033]0;t\007st')"; errF "unknown action 'li\x1b]0;t\x07st'"
no_control "$tmp/err" "quarantine, unknown action"
rm -f "$tmp/spool/quarantine.log"

# 7. Import --------------------------------------------------------------
csv="$top_srcdir/tests/cli/orders.csv"
run 1 "$CB" import "$csv"
out "10 rows, 6 imported, 4 skipped"
for l in 4 6 7 10; do err "orders.csv:$l: skipped"; done
err "orders.csv:4: skipped (order 2003): amount: '12.345'"
err "orders.csv:7: skipped (order 2002): refund_id: required"
[ "$(grep -c skipped "$tmp/err")" = 4 ] || fail "import: not exactly 4 skipped rows"
acc=$(stat accepted)
dup=$(stat duplicates)
run 0 "$CB" send; out "delivered 6 events"
expect_eq "import accepted" "$(stat accepted)" $((acc + 6))
run 1 "$CB" import --quiet "$csv"; out "6 imported, 4 skipped"
[ -s "$tmp/err" ] && fail "import --quiet wrote: $(head -1 "$tmp/err")"
run 0 "$CB" send; out "delivered 6 events"
expect_eq "re-import: nothing new" "$(stat accepted)" $((acc + 6))
expect_eq "re-import: duplicates" "$(stat duplicates)" $((dup + 6))
run 1 "$CB" import --dry-run --json - <"$csv"
out '{"file":"stdin","rows":10,"imported":6,"skipped":4,"dry_run":true}'
run 0 "$CB" status; out "queued: *0 events"
printf 'type,order_id,ammount\nsale,1,1\n' >"$tmp/bad.csv"
run 1 "$CB" import "$tmp/bad.csv"; err "bad.csv:1: header: unknown column 'ammount'"
printf 'type,order_id,click,amount,currency\nsale,7001,t,1,EUR\n' >"$tmp/good.csv"
run 0 "$CB" import --no-progress "$tmp/good.csv"; out "1 row, 1 imported, 0 skipped"
run 2 "$CB" import "$tmp/missing.csv"; err "cannot read"
# Cells and file names with terminal escapes reach the terminal printable.
printf 'type,order_id,click,amount,currency\nsale,"70\033[2J\033]0;pwned\007",t,1,EUR\nsale,7002,t,"1\033[31m",EUR\n' >"$tmp/esc.csv"
run 1 "$CB" import --dry-run "$tmp/esc.csv"
errF 'esc.csv:2: skipped (order 70\x1b[2J\x1b]0;pwned\x07): order_id'
errF "esc.csv:3: skipped (order 7002): amount: '1\x1b[31m'"
no_control "$tmp/err" "import, bad cells"
cp "$tmp/esc.csv" "$tmp/$(printf 'e\033[2Jsc.csv')"
run 1 "$CB" import --dry-run "$tmp/$(printf 'e\033[2Jsc.csv')"
outF 'e\x1b[2Jsc.csv: 2 rows, 0 valid'; errF 'e\x1b[2Jsc.csv:2: skipped'
no_control "$tmp/out" "import, file name"; no_control "$tmp/err" "import, file name"
run 2 "$CB" import; err "which file"
run 2 "$CB" import a.csv b.csv; err "one file at a time ('b.csv' is extra)"
# Flags set by getopt_long() itself: --dry-run, --quiet, --json together.
run 1 "$CB" import --dry-run --quiet --json --no-progress "$tmp/esc.csv"
out '"rows":2,"imported":0,"skipped":2,"dry_run":true'
[ -s "$tmp/err" ] && fail "import --quiet printed: $(head -2 "$tmp/err")"
# The columns are the keys of the event vocabulary (docs/events.md), each
# cell set through the event builder: its values and its rules.
printf 'type,order_id,click_token,amount_minor,currency,customer,voucher,order_time,utc_offset\nsale,7003,t,100,EUR,unknown,V1,1764000000,60\nsale,7004,t,100,EUR,,,,\n' >"$tmp/vocab.csv"
run 0 "$CB" import --dry-run --no-progress "$tmp/vocab.csv"; out "2 rows, 2 valid"
printf 'type,order_id,click,amount,amount_minor,currency\nsale,7005,t,1,100,EUR\n' >"$tmp/both.csv"
run 1 "$CB" import --dry-run "$tmp/both.csv"
err "both.csv:2: skipped (order 7005): amount_minor: give amount or amount_minor, not both"

# 8. Verify --------------------------------------------------------------
printf '{"protocol":1,"merchant_id":"shop-42","events":[]}' >"$tmp/body"
sign() { # sign SECRET [T]
  "$PYTHON3" -c '
import hmac,hashlib,sys,time
t=sys.argv[3] if len(sys.argv)>3 else str(int(time.time()))
b=open(sys.argv[1],"rb").read()
print("t=%s,v1=k1:%s"%(t,hmac.new(sys.argv[2].encode(),b"v1:"+t.encode()+b":"+b,hashlib.sha256).hexdigest()))' "$tmp/body" "$@"
}
H=$(sign "$SECRET")
run 0 "$CB" verify --key "k1:$SECRET" --signature "$H" --body "$tmp/body"; out "valid: signed by key 'k1'"
run 0 "$CB" verify --key "k0:other-secret-0123456789" --key "k1:$SECRET" --signature "Cashback-Signature: $H" --body - <"$tmp/body"
run 1 "$CB" verify --key "k1:wrong-secret-0123456789" --signature "$H" --body "$tmp/body"; err "invalid: mismatch"
run 1 "$CB" verify --key "k2:$SECRET" --signature "$H" --body "$tmp/body"; err "invalid: unknown key: the header is signed by 'k1'"
run 1 "$CB" verify --key "k1:$SECRET" --signature "$H" --body "$tmp/body" --now 2030-01-01T00:00:00Z; err "invalid: timestamp"
H0=$(sign "$SECRET" 1700000000)
run 0 "$CB" verify --key "k1:$SECRET" --signature "$H0" --body "$tmp/body" --now 1700000100
run 1 "$CB" verify --key "k1:$SECRET" --signature "$H0" --body "$tmp/body" --now 1700000100 --tolerance 60; err "outside the 60 s window"
run 1 "$CB" verify --key "k1:$SECRET" --signature "t=1,v1=k1:zz" --body "$tmp/body"; err "invalid: malformed"
printf '# keys\nk1:%s\n' "$SECRET" >"$tmp/keys"
chmod 644 "$tmp/keys"
run 2 "$CB" verify --key-file "$tmp/keys" --signature "$H" --body "$tmp/body"
err "\-\-key-file: '$tmp/keys' holds a secret but every user can read it (mode 0644); fix: chmod 600 FILE"
chmod 600 "$tmp/keys"
run 0 "$CB" verify --key-file "$tmp/keys" --signature "$H" --body "$tmp/body"
run 2 "$CB" verify --signature "$H" --body "$tmp/body"; err "\-\-key KEY_ID:SECRET or \-\-key-file is required"
run 2 "$CB" verify --key "k1:short" --signature "$H" --body "$tmp/body"; err "\-\-key: invalid argument"
# KEY_ID:SECRET the other way round: the secret is before the ':', and is
# not echoed either.
run 2 "$CB" verify --key "$B64:k1" --signature "$H" --body "$tmp/body"; err "\-\-key: "
grep -qF "c2VjcmV0" "$tmp/err" && fail "verify --key: the secret was echoed"
grep -q short "$tmp/err" && fail "verify echoed a secret"
run 2 "$CB" verify --key "k1:$SECRET" --body "$tmp/body"; err "\-\-signature HEADER is required"
run 2 "$CB" verify --key "k1:$SECRET" --signature "$H"; err "\-\-body FILE is required"
run 2 "$CB" verify --key "k1:$SECRET" --signature "$H" --body "$tmp/none"; err "\-\-body: cannot open"
run 2 "$CB" verify --key "k1:$SECRET" --signature "$H" --body "$tmp/body" --now soon; err "\-\-now: 'soon'"

# 8b. Secrets off the command line ---------------------------------------
# The connection string from a 0600 file, from standard input, or from
# CASHBACK_CONNECTION; verify's keys from standard input.
conn spool >"$tmp/conn"
chmod 600 "$tmp/conn"
run 0 env -u CASHBACK_CONNECTION "$CB" --connection-file "$tmp/conn" status; out "merchant: *shop-42"
run 0 env -u CASHBACK_CONNECTION "$CB" status --connection - <"$tmp/conn"; out "merchant: *shop-42"
run 0 env -u CASHBACK_CONNECTION "$CB" status --connection-file - <"$tmp/conn"; out "merchant: *shop-42"
run 0 env CASHBACK_CONNECTION="$(cat "$tmp/conn")" "$CB" status; out "merchant: *shop-42"
# --connection - takes one line: the rest of the input is the command's.
printf 'cashback:merchant_id=shop-46\nnot read\n' >"$tmp/conn2"
run 0 "$CB" status --connection - <"$tmp/conn2"; out "merchant: *shop-46"
run 3 env -u CASHBACK_CONNECTION "$CB" status --connection - </dev/null; err "(--connection): standard input is empty"
chmod 644 "$tmp/conn"
run 3 env -u CASHBACK_CONNECTION "$CB" status --connection-file "$tmp/conn"
err "configuration (--connection-file): '$tmp/conn' holds a secret but every user can read it (mode 0644); fix: chmod 600 FILE"
grep -q "$SECRET" "$tmp/err" && fail "a refused connection file's secret was echoed"
run 3 env -u CASHBACK_CONNECTION "$CB" doctor --offline --connection-file "$tmp/conn"; out "\[FAIL\] config file (--connection-file)"
chmod 600 "$tmp/conn"
run 0 env -u CASHBACK_CONNECTION "$CB" doctor --offline --connection-file "$tmp/conn"; out "\[ ok \] config file (--connection-file): $tmp/conn (mode 0600"
run 3 env -u CASHBACK_CONNECTION "$CB" status --connection-file "$tmp/none"; err "(--connection-file): cannot open '$tmp/none'"
run 0 "$CB" verify --key-file - --signature "$H" --body "$tmp/body" <"$tmp/keys"; out "valid: signed by key 'k1'"
run 2 "$CB" verify --key-file - --signature "$H" --body - <"$tmp/keys"; err "cannot both read standard input"
run 2 "$CB" verify --body - --key-file - --signature "$H" <"$tmp/keys"; err "cannot both read standard input"
# What every local user sees of a running sender: the secret only when it
# was given as --connection STRING (the documented exception).
cmdline_of() { # cmdline_of ARGS...: a `send --watch` sender's argv, as ps sees it
  "$CB" send --watch "$@" </dev/null >/dev/null 2>&1 &
  cpid=$!
  i=0
  while [ $i -lt 100 ]; do
    c=$(tr '\0' ' ' <"/proc/$cpid/cmdline" 2>/dev/null)
    case "$c" in *"send --watch"*) break ;; esac
    i=$((i + 1))
    sleep 0.05
  done
  kill -TERM "$cpid" 2>/dev/null
  wait "$cpid" 2>/dev/null
  echo "$c"
}
conn spoolps >"$tmp/connps"
chmod 600 "$tmp/connps"
seen=$(CASHBACK_CONNECTION= cmdline_of --connection-file "$tmp/connps")
checks=$((checks + 1))
case "$seen" in *"send --watch"*) ;; *) fail "no command line read for the sender: '$seen'" ;; esac
case "$seen" in *"$SECRET"*) fail "--connection-file: the secret is in /proc/PID/cmdline" ;; esac
seen=$(cmdline_of --connection - <"$tmp/connps")
case "$seen" in *"$SECRET"*) fail "--connection -: the secret is in /proc/PID/cmdline" ;; esac
seen=$(cmdline_of --connection "$(cat "$tmp/connps")")
checks=$((checks + 1))
case "$seen" in *"$SECRET"*) ;; *) fail "the check of /proc/PID/cmdline cannot see a secret given there" ;; esac

# 9. Doctor, progress ----------------------------------------------------
run 0 "$CB" doctor
out "\[ ok \] configuration: merchant shop-42"; out "\[ ok \] spool: $tmp/spool (mode 0700"
out "\[ ok \] clock"; out "\[ ok \] test event [0-9a-f]\{32\} accepted by the network"
out "0 problems"
# A spool opened to others is made 0700 again by the library.
chmod 755 "$tmp/spool"
run 0 "$CB" doctor --offline; out "\[ ok \] spool: .* (mode 0700"
grep -q "test event" "$tmp/out" && fail "doctor --offline probed the network"
# A file of the spool nobody may use (here a symlink planted as the state
# file): doctor fails naming it, status shows it, and it is never followed.
rm -f "$tmp/spool/state"; ln -s "$tmp/planted-target" "$tmp/spool/state"
run 1 "$CB" doctor --offline; out "\[FAIL\] spool: 1 file in $tmp/spool that the shop's user cannot use, e.g. state is a symlink"
run 0 "$CB" status; out "spool error:   .*state is a symlink"
[ -e "$tmp/planted-target" ] && fail "the planted symlink was followed"
rm -f "$tmp/spool/state"
# A cap larger than the free space: a warning (when the disk has < 1 TiB).
if "$PYTHON3" -c 'import shutil,sys; sys.exit(shutil.disk_usage(sys.argv[1]).free >= 1 << 40)' "$tmp"; then
  run 0 env CASHBACK_SPOOL_MAX_BYTES=1099511627776 "$CB" doctor --offline
  out "\[warn\] spool: .* free on the disk, less than the spool may still grow"
  out "fix: free disk space, or lower spool_max_bytes"; out "0 problems, 1 warning"
fi
run 1 env CASHBACK_CONNECTION="$wrong" "$CB" doctor
out "\[FAIL\] signature: the network refused the key (HTTP 401"; out "\[FAIL\] queue: sending is paused"
run 1 env CASHBACK_CONNECTION="$down" "$CB" doctor; out "\[FAIL\] network: no answer"
run 3 env -u CASHBACK_CONNECTION "$CB" doctor; out "\[FAIL\] configuration"
# A FIFO named like a segment: named by status and doctor, hangs neither.
mkfifo "$tmp/spool/seg-0000000000000001-1-fifo0000.log"
run 0 timeout 20 "$CB" status; out "unreadable: *1 file skipped in the spool: .*fifo0000.log: a FIFO"
run 0 timeout 20 "$CB" status --json; out '"unreadable_files":1,"spool_problem":".*fifo0000.log'
run 1 timeout 20 "$CB" doctor --offline; out "\[FAIL\] queue: 1 file among the segments cannot be read"
rm -f "$tmp/spool/seg-0000000000000001-1-fifo0000.log"
# TLS: an https endpoint whose certificate no CA vouches for.
if command -v openssl >/dev/null 2>&1 &&
    openssl req -x509 -newkey rsa:2048 -nodes -subj /CN=localhost -days 1 \
      -keyout "$tmp/key.pem" -out "$tmp/cert.pem" >/dev/null 2>&1; then
  "$PYTHON3" -c '
import http.server, ssl, sys
s = http.server.HTTPServer(("127.0.0.1", 0), http.server.BaseHTTPRequestHandler)
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(sys.argv[1], sys.argv[2])
s.socket = ctx.wrap_socket(s.socket, server_side=True)
with open(sys.argv[3] + ".tmp", "w") as f:
    f.write(str(s.server_address[1]))
import os; os.rename(sys.argv[3] + ".tmp", sys.argv[3])
s.handle_error = lambda *a: None
s.timeout = 1
end = __import__("time").time() + 120
while __import__("time").time() < end:
    s.handle_request()
' "$tmp/cert.pem" "$tmp/key.pem" "$tmp/tls.port" 2>/dev/null &
  tpid=$!
  i=0
  while [ ! -s "$tmp/tls.port" ] && [ $i -lt 100 ]; do i=$((i + 1)); sleep 0.05; done
  tls=$(conn spooltls "$SECRET" "https://127.0.0.1:$(cat "$tmp/tls.port")/v1/events")
  run 1 env CASHBACK_CONNECTION="$tls" "$CB" doctor; out "\[FAIL\] TLS: "; out "fix: the endpoint's certificate"
  kill "$tpid"; wait "$tpid" 2>/dev/null; tpid=""
fi
# ca_file: a receiver behind a private CA (made here, thrown away) is
# reached only when ca_file names that CA.
if command -v openssl >/dev/null 2>&1 &&
    openssl req -x509 -newkey rsa:2048 -nodes -subj /CN=cli-test-ca -days 1 \
      -keyout "$tmp/ca.key" -out "$tmp/ca.pem" >/dev/null 2>&1 &&
    openssl req -newkey rsa:2048 -nodes -subj /CN=127.0.0.1 \
      -keyout "$tmp/srv.key" -out "$tmp/srv.csr" >/dev/null 2>&1 &&
    printf 'subjectAltName=IP:127.0.0.1\n' >"$tmp/srv.ext" &&
    openssl x509 -req -in "$tmp/srv.csr" -CA "$tmp/ca.pem" -CAkey "$tmp/ca.key" \
      -CAcreateserial -days 1 -extfile "$tmp/srv.ext" -out "$tmp/srv.pem" >/dev/null 2>&1; then
  "$PYTHON3" "$top_srcdir/tests/receiver/receiver.py" --port 0 \
    --port-file "$tmp/tlsr.port" --keys "k1:$SECRET" --max-seconds 120 \
    --tls-cert "$tmp/srv.pem" --tls-key "$tmp/srv.key" 2>/dev/null &
  tpid=$!
  i=0
  while [ ! -s "$tmp/tlsr.port" ] && [ $i -lt 200 ]; do i=$((i + 1)); sleep 0.05; done
  tls=$(conn spoolca "$SECRET" "https://127.0.0.1:$(cat "$tmp/tlsr.port")/v1/events")
  run 0 env CASHBACK_CONNECTION="$tls" "$CB" report sale --order CA-1 --click t --amount 1 --currency EUR
  run 5 env CASHBACK_CONNECTION="$tls" "$CB" send --timeout 2; err "1 event not delivered yet"
  run 0 env CASHBACK_CONNECTION="$tls" "$CB" status; out "queued: *1 event"; out "last error: .*certificate"
  run 3 env CASHBACK_CONNECTION="$tls;ca_file=$tmp/no-such-ca.pem" "$CB" send --timeout 2
  err "ca_file: cannot read '$tmp/no-such-ca.pem'"
  run 3 env CASHBACK_CONNECTION="$tls;ca_file=ca.pem" "$CB" send --timeout 2; err "ca_file: must be an absolute path"
  run 0 env CASHBACK_CONNECTION="$tls;ca_file=$tmp/ca.pem" "$CB" send --timeout 5; out "delivered 1 event"
  run 0 env CASHBACK_CONNECTION="$tls" "$CB" status; out "queued: *0 event"
  kill "$tpid"; wait "$tpid" 2>/dev/null; tpid=""
fi

# Progress bars, on a terminal (script(1) gives the command one).
if command -v script >/dev/null 2>&1 && script -qec true /dev/null >/dev/null 2>&1; then
  run 1 script -qec "$CB import $csv" /dev/null; out "importing \[#*\] 100%"
  run 0 script -qec "$CB send --progress" /dev/null; out "sending \[#*\] 100% 7/7 events"
  run 0 script -qec "$CB send --no-progress" /dev/null
  grep -q "sending \[" "$tmp/out" && fail "send --no-progress drew a bar"
  # Not a terminal: no bar, even when asked.
  run 0 "$CB" report sale --order P-1 --click t --amount 1 --currency EUR
  run 0 "$CB" send --progress
  grep -q "sending \[" "$tmp/err" && fail "a bar on a pipe"
fi
run 2 "$CB" doctor --bogus
# status --order: a sale and a refund delivered to the receiver, from the
# per-order ledger (docs/reliability.md section 15).
run 0 "$CB" report sale --order L-1 --click t --amount 49.90 --currency EUR --order-time 2026-12-01T10:15:00+01:00
run 0 "$CB" report refund --order L-1 --refund-id CN-1 --amount 10.00 --currency EUR
run 0 "$CB" send
run 0 "$CB" status --order L-1
out "^order:         L-1$"; out "^sale:          49.90 EUR$"
out "^refunds:       1, 10.00 EUR$"; out "^new total:     39.90 EUR$"
out "^state:         open$"; out "^order time:    2026-12-01T10:15:00+01:00$"
out "^remote ref:    none$"
run 0 "$CB" status --order L-1 --json
"$PYTHON3" -c '
import json, sys
o = json.load(open(sys.argv[1]))
assert (o["order_id"], o["sale"], o["refunded"], o["total"], o["total_minor"],
        o["refunds"], o["state"], o["order_time"]) == ("L-1", "49.90", "10.00",
        "39.90", 3990, 1, "open", "2026-12-01T10:15:00+01:00"), o
' "$tmp/out" || fail "status --order --json"
run 1 "$CB" status --order L-unknown; err "not in the ledger"

echo "cli: $checks checks, $failures failure(s)"
[ "$failures" -eq 0 ]
