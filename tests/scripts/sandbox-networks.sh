#!/bin/sh
# cashback-sandbox's network modes, driven with curl (run by `make check`;
# top_srcdir, top_builddir and PYTHON3 come from the environment). Every
# sandbox listens on 127.0.0.1 on a port the kernel picks, with
# --max-seconds 60 as a backstop, and is killed by the trap on any exit.
#
#  1. usage errors: a network mode without its account or credentials, with
#     --merchant, a bad --rate-limit; a refused secret is never echoed;
#  2. --network awin, the Conversion API: accepted, duplicate (within a call
#     and across calls), each rejection (orderReference over 50 characters,
#     unknown currency, negative or missing amount, too many decimals, bad
#     customerAcquisition, bad or future transactionDate, bad basket line)
#     with its
#     message; 1000 orders taken, 1001 answered 413; malformed calls 400;
#     x-api-key missing or wrong 401, another advertiser 403, 404 and 405;
#  3. the transaction batch API: amend (the new total replaces the amount),
#     decline, approve, approve again (idempotent), a batch with one entry
#     that does not apply (400, nothing of it applied), unknown order, wrong
#     date, another zone; bearer missing or wrong 401;
#  4. the view: orders, current amounts, times received, duplicates; the
#     last request's bytes with the credentials hidden; no secret logged;
#  5. faults: 503 (nothing recorded), down (no answer, nothing recorded),
#     drop (recorded, no answer: the resend is a duplicate), 429 for one
#     request (count), slow (answered late, recorded);
#  6. Awin's rate limit: 20 calls in the window, the 21st 429 with a
#     Retry-After of 1-60 s and nothing recorded; --rate-limit 3/60;
#  7. --network impact: Conversions QUEUED with a QueuedUri, the QueuedUri
#     COMPLETED, a duplicate OrderId, field errors with Errors, a bad form,
#     Basic credentials missing, garbled or wrong 401, another SID 403;
#     Actions PUT (new amount) and DELETE (reversed; twice is fine), 404 for
#     an unknown order, a bad Reason, PUT after DELETE; --rate-limit 2/60;
#     the 503 fault in Impact's error shape.
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_builddir:=$(pwd)}"
: "${PYTHON3:=python3}"
me=sandbox-networks
if [ "${BUILD_SANDBOX:-yes}" = no ]; then
  echo "$me: SKIP: cashback-sandbox is not built (configure: no libmicrohttpd or sqlite3, or --without-sandbox)"
  exit 77
fi
command -v curl >/dev/null 2>&1 || { echo "$me: SKIP: no curl"; exit 77; }
if [ "$PYTHON3" = no ] || ! command -v "$PYTHON3" >/dev/null 2>&1; then
  echo "$me: SKIP: no python3"
  exit 77
fi
bin="$top_builddir/plugins/sandbox/cashback-sandbox"
[ -x "$bin" ] || { echo "$me: FAIL: $bin is not built"; exit 1; }

work=$(mktemp -d "${TMPDIR:-/tmp}/cashback-networks-test.XXXXXX") || exit 1
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

checks=0
fail() {
  echo "$me: FAIL: $*"
  [ -f "$work/body" ] && { echo "--- last answer"; cat "$work/headers" "$work/body"; echo; }
  if [ -f "$work/log" ]; then
    echo "--- sandbox log (last 30 lines)"
    tail -n 30 "$work/log"
  fi
  exit 1
}
ok() { checks=$((checks + 1)); }

KEY=awin-key-for-tests-0001
TOKEN=awin-token-for-tests-0002
ITOKEN=impact-token-for-tests-0003
ADV=12345
SID=IRtest123

# start ARGS...: starts the sandbox, sets pid and base.
start() {
  rm -f "$work/port"
  : >"$work/log"
  "$bin" --listen 127.0.0.1:0 --port-file "$work/port" --log "$work/log" \
    --max-seconds 60 "$@" &
  pid=$!
  i=0
  while [ ! -s "$work/port" ]; do
    kill -0 "$pid" 2>/dev/null || { wait "$pid"; pid=""; fail "the sandbox exited at start"; }
    i=$((i + 1))
    [ $i -le 200 ] || fail "no port file after 20 s"
    sleep 0.1
  done
  base="http://127.0.0.1:$(cat "$work/port")"
}

stop() {
  kill -TERM "$pid"
  wait "$pid"
  rc=$?
  pid=""
  [ "$rc" = 0 ] || fail "exit status $rc after SIGTERM"
}

# req METHOD PATH [CURL-ARGS...]: the answer's status in $status, its body
# in $work/body, its headers in $work/headers; $curl_rc is curl's status
# (52: no answer).
req() {
  m=$1 p=$2
  shift 2
  rm -f "$work/body" "$work/headers"
  status=$(curl -s -m 20 -o "$work/body" -D "$work/headers" -w '%{http_code}' \
    -X "$m" "$@" "$base$p")
  curl_rc=$?
  : >>"$work/body"
  : >>"$work/headers"
}

# awin_orders JSON [CURL-ARGS...]: a Conversion API call with the key.
awin_orders() {
  b=$1
  shift
  req POST "/s2s/advertiser/$ADV/orders" -H "x-api-key: $KEY" \
    -H 'Content-Type: application/json' --data-binary "$b" "$@"
}

# awin_batch JSON: a transaction batch API call with the token.
awin_batch() {
  req POST "/advertisers/$ADV/transactions/batch" \
    -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \
    --data-binary "$1"
}

# impact METHOD PATH [CURL-ARGS...]: an Impact call with the credentials.
impact() {
  m=$1 p=$2
  shift 2
  req "$m" "/Advertisers/$SID$p" -u "$SID:$ITOKEN" "$@"
}
conversion() {
  impact POST /Conversions -H 'Content-Type: application/x-www-form-urlencoded' \
    --data-binary "$1"
}

expect() { # STATUS [TEXT]...: the status, and each fixed text in the body
  [ "$status" = "$1" ] || fail "status $status, want $1"
  shift
  for t in "$@"; do
    grep -qF -- "$t" "$work/body" || fail "the answer has no '$t'"
  done
  ok
}

header_has() {
  grep -qiF -- "$1" "$work/headers" || fail "no header '$1'"
  ok
}

# view EXPR: a Python expression on GET /api/orders, as v (the view) and
# o(ref) (one order), must be true.
view() {
  curl -s -m 20 "$base/api/orders" >"$work/view" || fail "GET /api/orders"
  "$PYTHON3" - "$work/view" "$1" <<'EOF' || fail "view: $1: $(cat "$work/view")"
import json, sys
v = json.load(open(sys.argv[1]))
def o(ref):
    for x in v["orders"]:
        if x["ref"] == ref:
            return x
    return None
sys.exit(0 if eval(sys.argv[2]) else 1)
EOF
  ok
}

log_has() {
  grep -qF -- "$1" "$work/log" || fail "the log has no '$1'"
  ok
}

mode() { # JSON: the admin endpoint
  curl -s -m 20 -d "$1" "$base/_admin/mode" >/dev/null || fail "mode $1"
}

# orders N [FIRST]: an "orders" body of N minimal orders, refs FIRST...
orders() {
  "$PYTHON3" -c 'import json, sys
n, first = int(sys.argv[1]), int(sys.argv[2])
print(json.dumps({"orders": [{"orderReference": "B-%d" % i, "amount": 1.5,
      "currency": "EUR"} for i in range(first, first + n)]}, separators=(",", ":")))' \
    "$1" "${2:-1}"
}

# ---------------------------------------------------------------------------
# 1. Usage errors.
expect_exit() { # STATUS MESSAGE-PART ARGS...
  want=$1 part=$2
  shift 2
  "$bin" --listen 127.0.0.1:0 --max-seconds 5 "$@" >"$work/out" 2>&1
  rc=$?
  [ "$rc" = "$want" ] || fail "'$*' exited $rc, want $want: $(cat "$work/out")"
  grep -qF -- "$part" "$work/out" || fail "'$*' said: $(cat "$work/out")"
  ok
}
expect_exit 2 "needs --account" --network awin --api-key "$KEY" --api-token "$TOKEN"
expect_exit 2 "needs --api-key" --network awin --account "$ADV" --api-token "$TOKEN"
expect_exit 2 "needs --api-token" --network impact --account "$SID"
expect_exit 2 "is not digits" --network awin --account abc --api-key "$KEY" --api-token "$TOKEN"
expect_exit 2 "are for --network cashback" --network awin --account "$ADV" \
  --api-key "$KEY" --api-token "$TOKEN" --merchant "shop-42:k1:s3cr3t-for-tests-only-0001"
expect_exit 2 "are for --network awin or impact" --account "$ADV" \
  --merchant "shop-42:k1:s3cr3t-for-tests-only-0001"
expect_exit 2 "expected CALLS/SECONDS" --network awin --account "$ADV" \
  --api-key "$KEY" --api-token "$TOKEN" --rate-limit 20
expect_exit 2 "is not cashback, awin or impact" --network tradedoubler
expect_exit 2 "--api-key: expected" --network awin --account "$ADV" \
  --api-key "bad key-with-space" --api-token "$TOKEN"
grep -q "with-space" "$work/out" && fail "a refused key was echoed"
printf 'account %s\napi_key %s\napi_token %s\n' "$ADV" "$KEY" "$TOKEN" >"$work/creds"
chmod 644 "$work/creds"
expect_exit 1 "chmod 600" --network awin --credentials-file "$work/creds"
echo "$me: usage errors ok"

# ---------------------------------------------------------------------------
# 2. Awin, the Conversion API. Credentials from a file (chmod 600).
chmod 600 "$work/creds"
start --network awin --credentials-file "$work/creds"
log_has "network awin, account $ADV, rate limit 20/60 s"
awin_orders '{"orders":[{"orderReference":"1001","amount":49.90,"channel":"aw","currency":"EUR","voucher":"SUMMER10","customerAcquisition":"NEW","isTest":false,"awc":"awc-token-1","transactionDate":"2026-12-01T10:15:00+01:00","commissionGroups":[{"code":"DEFAULT","amount":49.90}],"basket":[{"id":"SKU-1","name":"Shoe","price":24.95,"quantity":2,"category":"shoes","commissionGroupCode":"DEFAULT"}]},{"orderReference":"1002","amount":500,"currency":"JPY","isTest":true},{"orderReference":"1001","amount":49.90,"currency":"EUR"}]}'
expect 200 '{"orders":[{"orderReference":"1001","status":"accepted"},{"orderReference":"1002","status":"accepted"},{"orderReference":"1001","status":"duplicate"}]}'
awin_orders '{"orders":[{"orderReference":"1001","amount":49.90,"currency":"EUR"}]}'
expect 200 '{"orderReference":"1001","status":"duplicate"}'
long=$(printf '%051d' 7)
awin_orders '{"orders":[{"orderReference":"'"$long"'","amount":1,"currency":"EUR"},{"orderReference":"R-2","amount":1,"currency":"XYZ"},{"orderReference":"R-3","amount":-1,"currency":"EUR"},{"orderReference":"R-4","currency":"EUR"},{"amount":1,"currency":"EUR"},{"orderReference":"R-6","amount":1.005,"currency":"EUR"},{"orderReference":"R-7","amount":1,"currency":"EUR","customerAcquisition":"OLD"},{"orderReference":"R-8","amount":1,"currency":"EUR","transactionDate":"yesterday"},{"orderReference":"R-9","amount":1,"currency":"EUR","basket":[{"id":"S","price":1,"quantity":0}]},{"orderReference":"R-10","amount":"1.00","currency":"EUR"},{"orderReference":"R-11","amount":1,"currency":"EUR","transactionDate":"2999-01-01T00:00:00Z"},{"orderReference":"1003","amount":10,"currency":"EUR"}]}'
expect 200 \
  '"status":"rejected","message":"orderReference is longer than 50 characters (51)"' \
  '{"orderReference":"R-2","status":"rejected","message":"currency XYZ is not an ISO 4217 currency code"}' \
  '{"orderReference":"R-3","status":"rejected","message":"amount is negative"}' \
  '{"orderReference":"R-4","status":"rejected","message":"amount is missing"}' \
  '{"orderReference":"","status":"rejected","message":"orderReference is missing"}' \
  '{"orderReference":"R-6","status":"rejected","message":"amount 1.005 has more decimals than EUR has (2)"}' \
  '{"orderReference":"R-7","status":"rejected","message":"customerAcquisition OLD is not NEW or RETURNING"}' \
  '{"orderReference":"R-8","status":"rejected","message":"transactionDate yesterday is not an RFC 3339 time with a UTC offset"}' \
  '{"orderReference":"R-9","status":"rejected","message":"basket[0].quantity is not a whole number >= 1"}' \
  '{"orderReference":"R-10","status":"rejected","message":"amount is not a number"}' \
  '{"orderReference":"R-11","status":"rejected","message":"transactionDate 2999-01-01T00:00:00Z is in the future"}' \
  '{"orderReference":"1003","status":"accepted"}'
# A rejected order is not remembered: sent again, fixed, it is accepted.
awin_orders '{"orders":[{"orderReference":"R-3","amount":1,"currency":"EUR"}]}'
expect 200 '{"orderReference":"R-3","status":"accepted"}'
awin_orders "$(orders 1000)"
expect 200 '{"orderReference":"B-1000","status":"accepted"}'
awin_orders "$(orders 1001 2000)"
expect 413 '{"error":"too_many_orders","description":"1001 orders in one call; at most 1000"}'
awin_orders 'not json'
expect 400 '{"error":"invalid_json"'
awin_orders '{"orders":[]}'
expect 400 '"orders\" is empty'
awin_orders '{"orders":[1]}'
expect 400 'orders[0] is not an object'
awin_orders '[]'
expect 400 '"error":"invalid_body"'
req POST "/s2s/advertiser/$ADV/orders" -H "x-api-key: $KEY" \
  -H 'Content-Type: text/plain' --data-binary '{"orders":[]}'
expect 400 '"error":"invalid_content_type"'
req POST "/s2s/advertiser/$ADV/orders" -H 'Content-Type: application/json' \
  --data-binary '{"orders":[]}'
expect 401 '{"error":"unauthorized","description":"no x-api-key header"}'
req POST "/s2s/advertiser/$ADV/orders" -H 'x-api-key: wrong' \
  -H 'Content-Type: application/json' --data-binary '{"orders":[]}'
expect 401 '"the x-api-key is not valid"'
req POST "/s2s/advertiser/999/orders" -H "x-api-key: $KEY" \
  -H 'Content-Type: application/json' --data-binary '{"orders":[]}'
expect 403 '"error":"forbidden"'
req POST "/s2s/advertiser/$ADV/sales" -H "x-api-key: $KEY"
expect 404 '"error":"not_found"'
req GET "/s2s/advertiser/$ADV/orders" -H "x-api-key: $KEY"
expect 405 '"error":"method_not_allowed"'
echo "$me: awin conversion API ok"

# ---------------------------------------------------------------------------
# 3. Awin, the transaction batch API.
amend() { # REF TOTAL [DATE]
  printf '{"action":"amend","amendTransaction":{"orderRef":"%s","transactionDate":"%s","timezone":"UTC","transaction":{"amount":%s,"currency":"EUR","commissionGroups":[{"code":"DEFAULT","amount":%s}]},"amendReason":"refund"}}' \
    "$1" "${3:-2026-12-01T09:15:00}" "$2" "$2"
}
awin_batch "[$(amend 1001 39.90)]"
expect 200 '"status":"QUEUED"' '"jobId":"'
view 'o("1001")["amount"] == "39.90" and o("1001")["sale_amount"] == "49.90" and o("1001")["status"] == "pending" and o("1001")["changes"] == 1'
# The new total replaces the amount (never a delta).
awin_batch "[$(amend 1001 29.90)]"
expect 200 '"status":"QUEUED"'
view 'o("1001")["amount"] == "29.90" and o("1001")["reason"] == "refund"'
awin_batch '[{"action":"decline","declineTransaction":{"orderRef":"1003","transactionDate":"2026-12-01T09:15:00","timezone":"UTC","declineReason":"cancelled"}},{"action":"approve","approveTransaction":{"orderRef":"R-3","transactionDate":"2026-12-01T09:15:00","timezone":"UTC"}}]'
expect 200 '"status":"QUEUED"'
view 'o("1003")["status"] == "declined" and o("1003")["amount"] == "0.00" and o("1003")["reason"] == "cancelled" and o("R-3")["status"] == "approved"'
# Approve twice: fine (a resend after a lost answer).
awin_batch '[{"action":"approve","approveTransaction":{"orderRef":"R-3","transactionDate":"2026-12-01T09:15:00","timezone":"UTC"}}]'
expect 200 '"status":"QUEUED"'
# One entry that does not apply: 400, and nothing of the batch applied.
awin_batch "[$(amend 1001 19.90),{\"action\":\"amend\",\"amendTransaction\":{\"orderRef\":\"R-3\",\"transactionDate\":\"2026-12-01T09:15:00\",\"timezone\":\"UTC\",\"transaction\":{\"amount\":0.5,\"currency\":\"EUR\"}}}]"
expect 400 '{"error":"invalid_transaction","description":"transaction 1 (orderRef R-3): the transaction of orderRef R-3 is approved already; nothing was applied"}'
view 'o("1001")["amount"] == "29.90"'
awin_batch "[$(amend 404 1.00)]"
expect 400 'no transaction of orderRef 404'
awin_batch "[$(amend 1001 1.00 2026-12-01T10:15:00)]"
expect 400 'no transaction of orderRef 1001 at 2026-12-01T10:15:00 UTC (its transactionDate is 2026-12-01T10:15:00+01:00)'
awin_batch '[{"action":"approve","approveTransaction":{"orderRef":"1001","transactionDate":"2026-12-01T09:15:00","timezone":"Europe/Paris"}}]'
expect 400 'timezone Europe/Paris: the sandbox converts UTC only'
awin_batch '[{"action":"refund"}]'
expect 400 'action refund is not amend, decline or approve'
awin_batch '{}'
expect 400 '"error":"invalid_body"'
req POST "/advertisers/$ADV/transactions/batch" -H 'Content-Type: application/json' --data-binary '[]'
expect 401 'no Authorization: Bearer token'
req POST "/advertisers/$ADV/transactions/batch" -H 'Authorization: Bearer nope' \
  -H 'Content-Type: application/json' --data-binary '[]'
expect 401 'the bearer token is not valid'
echo "$me: awin transaction API ok"

# ---------------------------------------------------------------------------
# 4. The view and the last request.
view 'v["network"] == "awin" and v["account"] == "12345" and v["orders_count"] == 1004'
view 'o("1001")["received"] == 3 and o("1001")["duplicates"] == 2 and o("1001")["click"] == "awc-token-1"'
view 'o("1002")["test"] is True and o("1002")["amount"] == "500" and o("1002")["currency"] == "JPY"'
view 'v["duplicates"] == 2 and o("R-2") is None and o("B-2000") is None'
view 'any(r["message"] == "amount is negative" and r["ref"] == "R-3" for r in v["recent_rejections"]) or v["rejections"] > 20'
awin_orders '{"orders":[{"orderReference":"L-1","amount":2.50,"currency":"EUR"}]}' -H 'X-Probe: 1'
expect 200
curl -s -m 20 "$base/_admin/last-request" >"$work/last" || fail "last-request"
grep -qF 'POST /s2s/advertiser/12345/orders HTTP/1.1' "$work/last" || fail "last request line: $(cat "$work/last")"
grep -qF 'x-api-key: (hidden)' "$work/last" || fail "the key not hidden: $(cat "$work/last")"
grep -qF 'X-Probe: 1' "$work/last" || fail "headers: $(cat "$work/last")"
"$PYTHON3" -c 'import sys
d = open(sys.argv[1], "rb").read()
sys.exit(0 if d.endswith(b"\r\n\r\n" + sys.argv[2].encode()) else 1)' "$work/last" \
  '{"orders":[{"orderReference":"L-1","amount":2.50,"currency":"EUR"}]}' ||
  fail "the body's bytes: $(cat "$work/last")"
grep -qF "$KEY" "$work/last" && fail "the key is in the last request"
ok
echo "$me: view ok"

# ---------------------------------------------------------------------------
# 5. Faults.
mode '{"mode":"503"}'
awin_orders '{"orders":[{"orderReference":"F-1","amount":1,"currency":"EUR"}]}'
expect 503 '"error":"service_unavailable"'
header_has 'Retry-After: 1'
mode '{"mode":"down"}'
awin_orders '{"orders":[{"orderReference":"F-1","amount":1,"currency":"EUR"}]}'
[ "$curl_rc" = 52 ] || fail "down: curl exit $curl_rc, want 52 (no answer)"
view 'o("F-1") is None'
mode '{"mode":"drop","count":1}'
awin_orders '{"orders":[{"orderReference":"F-1","amount":1,"currency":"EUR"}]}'
[ "$curl_rc" = 52 ] || fail "drop: curl exit $curl_rc, want 52 (no answer)"
view 'o("F-1")["received"] == 1'
awin_orders '{"orders":[{"orderReference":"F-1","amount":1,"currency":"EUR"}]}'
expect 200 '"status":"duplicate"'
log_has "answer dropped (fault mode drop)"
mode '{"mode":"429","count":1}'
awin_orders '{"orders":[{"orderReference":"F-2","amount":1,"currency":"EUR"}]}'
expect 429 '"error":"too_many_requests"'
header_has 'Retry-After: 1'
awin_orders '{"orders":[{"orderReference":"F-2","amount":1,"currency":"EUR"}]}'
expect 200 '"status":"accepted"'
mode '{"mode":"slow","slow_ms":300}'
awin_orders '{"orders":[{"orderReference":"F-3","amount":1,"currency":"EUR"}]}'
expect 200 '"status":"accepted"'
mode '{"mode":"ok"}'
view 'o("F-3")["received"] == 1 and v["answers"]["503"] == 1 and v["answers"]["429"] == 1'
for s in "$KEY" "$TOKEN"; do
  grep -qF -- "$s" "$work/log" && fail "a secret is in the log"
done
ok
stop
echo "$me: faults ok"

# ---------------------------------------------------------------------------
# 6. The rate limit: Awin's 20 calls a minute, then --rate-limit 3/60.
start --network awin --account "$ADV" --api-key "$KEY" --api-token "$TOKEN"
i=1
while [ $i -le 20 ]; do
  awin_orders '{"orders":[{"orderReference":"RL-'$i'","amount":1,"currency":"EUR"}]}'
  expect 200 '"status":"accepted"'
  i=$((i + 1))
done
awin_orders '{"orders":[{"orderReference":"RL-21","amount":1,"currency":"EUR"}]}'
expect 429 '"error":"too_many_requests","description":"more than 20 calls in 60 s; retry after '
ra=$(sed -n 's/^Retry-After: *\([0-9]*\).*/\1/ip' "$work/headers")
[ -n "$ra" ] && [ "$ra" -ge 1 ] && [ "$ra" -le 60 ] || fail "Retry-After '$ra'"
view 'o("RL-21") is None and o("RL-20") is not None'
# The transaction API is not counted.
awin_batch '[{"action":"approve","approveTransaction":{"orderRef":"RL-1","transactionDate":"2026-12-01T09:15:00","timezone":"UTC"}}]'
expect 200 '"status":"QUEUED"'
stop
start --network awin --account "$ADV" --api-key "$KEY" --api-token "$TOKEN" --rate-limit 3/60
for i in 1 2 3; do
  awin_orders '{"orders":[{"orderReference":"S-'$i'","amount":1,"currency":"EUR"}]}'
  expect 200
done
awin_orders '{"orders":[{"orderReference":"S-4","amount":1,"currency":"EUR"}]}'
expect 429 'more than 3 calls in 60 s'
# A call refused for its key is not counted, nor answered 429 first.
req POST "/s2s/advertiser/$ADV/orders" -H 'x-api-key: wrong' \
  -H 'Content-Type: application/json' --data-binary '{"orders":[]}'
expect 401
stop
echo "$me: rate limit ok"

# ---------------------------------------------------------------------------
# 7. Impact.
start --network impact --account "$SID" --api-token "$ITOKEN" --campaign 1000
log_has "network impact, account $SID, rate limit 0/0 s"
sale='CampaignId=1000&ActionTrackerId=2000&EventDate=2026-12-01T10:15:00%2B01:00&OrderId=1001&ClickId=imp-click-1&CurrencyCode=EUR&CustomerStatus=New&OrderPromoCode=SUMMER10&ItemSku1=SKU-1&ItemCategory1=shoes&ItemName1=Running%20Shoe&ItemPrice1=24.95&ItemQuantity1=2&ItemSubTotal1=49.90'
conversion "$sale"
expect 200 '{"Status":"QUEUED","QueuedUri":"/Advertisers/IRtest123/APISubmissions/'
uri=$(sed -n 's/.*"QueuedUri":"\([^"]*\)".*/\1/p' "$work/body")
req GET "$uri" -u "$SID:$ITOKEN"
expect 200 '"Status":"COMPLETED"' '"OrderId":"1001"'
req GET "/Advertisers/$SID/APISubmissions/999" -u "$SID:$ITOKEN"
expect 404 '"Status":"ERROR"'
conversion "$sale"
expect 400 '{"Status":"ERROR","Message":"Duplicate OrderId 1001'
conversion 'CampaignId=1000&ActionTrackerId=2000&EventDate=2026-12-01T10:15:00Z&OrderId=1002&CurrencyCode=EUR&ItemSku1=order&ItemSubTotal1=10.00&ItemSubTotal2=5.50&ItemSku2=x'
expect 200 '"Status":"QUEUED"'
view 'o("1001")["amount"] == "49.90" and o("1001")["received"] == 2 and o("1001")["duplicates"] == 1 and o("1001")["click"] == "imp-click-1" and o("1002")["amount"] == "15.50"'
conversion 'CampaignId=1000&ActionTrackerId=2000&EventDate=2999-01-01T00:00:00Z&OrderId=1004&CurrencyCode=EUR&ItemSku1=order&ItemSubTotal1=1.00'
expect 400 '{"Status":"ERROR","Message":"EventDate 2999-01-01T00:00:00Z is in the future","Errors":[{"Field":"EventDate","Message":"EventDate 2999-01-01T00:00:00Z is in the future"}]}'
conversion 'CampaignId=77&ActionTrackerId=x&EventDate=soon&OrderId=1003&CurrencyCode=XYZ&CustomerStatus=Old&ItemPrice3=1'
expect 400 '"Message":"CampaignId 77 is not a campaign of IRtest123"' \
  '{"Field":"ActionTrackerId","Message":"ActionTrackerId x is not a number"}' \
  '{"Field":"EventDate","Message":"EventDate soon is not an RFC 3339 time with a UTC offset"}' \
  '{"Field":"CurrencyCode","Message":"CurrencyCode XYZ is not an ISO 4217 currency code"}' \
  '{"Field":"CustomerStatus","Message":"CustomerStatus Old is not New or Returning"}' \
  '{"Field":"ItemSubTotal1","Message":"no item: ItemSubTotal1 and ItemSku1 are required' \
  '{"Field":"ItemPrice3","Message":"ItemPrice3 has no ItemSubTotal of its index"}'
conversion 'CampaignId=1000&OrderId=%zz'
expect 400 '"Message":"the body is not a form: field 2 (OrderId): '"'"'%'"'"' is not followed by two hex digits"'
conversion 'CampaignId=1000&CampaignId=1000'
expect 400 'CampaignId is given twice'
impact POST /Conversions -H 'Content-Type: application/json' --data-binary '{}'
expect 400 'Content-Type must be application/x-www-form-urlencoded'
req POST "/Advertisers/$SID/Conversions" --data-binary "$sale"
expect 401 '{"Status":"ERROR","Message":"Unauthorized: no Authorization header'
req POST "/Advertisers/$SID/Conversions" -H 'Authorization: Basic !!!!' --data-binary "$sale"
expect 401 'not base64'
req POST "/Advertisers/$SID/Conversions" -u "$SID:wrong" --data-binary "$sale"
expect 401 'the account SID and auth token do not match'
req POST "/Advertisers/IRother/Conversions" -u "$SID:$ITOKEN" --data-binary "$sale"
expect 403 '"Message":"Forbidden: '
impact GET /Conversions
expect 405
# Actions: a modification (the new amount), a reversal.
impact PUT /Actions -H 'Content-Type: application/x-www-form-urlencoded' \
  --data-binary 'CampaignId=1000&OrderId=1001&Amount=39.90&Reason=ITEM_RETURNED'
expect 200 '{"OrderId":"1001","Amount":"39.90","Status":"OK"}'
view 'o("1001")["amount"] == "39.90" and o("1001")["reason"] == "ITEM_RETURNED" and o("1001")["status"] == "pending"'
impact PUT /Actions -H 'Content-Type: application/x-www-form-urlencoded' \
  --data-binary 'CampaignId=1000&OrderId=404&Amount=1.00&Reason=ITEM_RETURNED'
expect 404 '{"Status":"ERROR","Message":"No action found for OrderId 404"}'
impact PUT /Actions -H 'Content-Type: application/x-www-form-urlencoded' \
  --data-binary 'CampaignId=1000&OrderId=1001&Amount=1.00&Reason=returned'
expect 400 '{"Field":"Reason","Message":"Reason returned is not a disposition code'
impact PUT /Actions -H 'Content-Type: application/x-www-form-urlencoded' \
  --data-binary 'CampaignId=1000&OrderId=1001&Amount=1.999'
expect 400 '{"Field":"Amount","Message":"Amount 1.999 is not an amount of EUR (e.g. 49.90)"}'
view 'o("1001")["amount"] == "39.90"'
impact DELETE '/Actions?CampaignId=1000&OrderId=1002&Reason=ORDER_CANCELLED'
expect 200 '"Status":"OK"'
view 'o("1002")["status"] == "reversed" and o("1002")["amount"] == "0.00" and o("1002")["reason"] == "ORDER_CANCELLED"'
impact DELETE '/Actions?CampaignId=1000&OrderId=1002&Reason=ORDER_CANCELLED'
expect 200 '"Status":"OK"'
impact DELETE '/Actions?CampaignId=1000&OrderId=404&Reason=ORDER_CANCELLED'
expect 404 'No action found'
impact PUT /Actions -H 'Content-Type: application/x-www-form-urlencoded' \
  --data-binary 'CampaignId=1000&OrderId=1002&Amount=1.00'
expect 400 'the action of OrderId 1002 is reversed'
curl -s -m 20 "$base/_admin/last-request" >"$work/last" || fail "last-request"
grep -qF 'Authorization: Basic (hidden)' "$work/last" || fail "Basic not hidden: $(cat "$work/last")"
ok
mode '{"mode":"503","count":1}'
conversion "$sale"
expect 503 '{"Status":"ERROR","Message":"fault mode 503"}'
grep -qF -- "$ITOKEN" "$work/log" && fail "the token is in the log"
stop
start --network impact --account "$SID" --api-token "$ITOKEN" --rate-limit 2/60
for i in 1 2; do
  conversion "CampaignId=1&ActionTrackerId=2&EventDate=2026-12-01T10:15:00Z&OrderId=Q-$i&CurrencyCode=EUR&ItemSku1=order&ItemSubTotal1=1.00"
  expect 200 '"Status":"QUEUED"'
done
conversion "CampaignId=1&ActionTrackerId=2&EventDate=2026-12-01T10:15:00Z&OrderId=Q-3&CurrencyCode=EUR&ItemSku1=order&ItemSubTotal1=1.00"
expect 429 '"Status":"ERROR","Message":"Too many requests: at most 2 in 60 s"'
header_has 'Retry-After: '
stop
echo "$me: impact ok"
echo "$me: all $checks checks passed"
