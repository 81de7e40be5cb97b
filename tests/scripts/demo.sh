#!/bin/sh
# The demo (./bootstrap demo runs it with --verbose; make check runs it
# quietly). Part 1: samples/demo builds a signed sale and refund with the
# public API, and an independent implementation (python3's hmac) and the
# cashback command verify them. Part 2 (tests/scripts/demo_e2e.py): the
# whole flow on one machine, a shop (samples/shop), the sender daemon
# (cashback send --watch) and the network (cashback-sandbox), through an
# outage. Exits non-zero if any step fails; leaves no process running.
set -eu
: "${top_srcdir:?}" "${top_builddir:?}"
# Without libmicrohttpd or sqlite3 configure leaves the sandbox out.
if [ "${BUILD_SANDBOX:-yes}" = no ]; then
  echo "demo: SKIP: cashback-sandbox is not built (configure: no libmicrohttpd or sqlite3, or --without-sandbox)"
  exit 77
fi
PYTHON3=${PYTHON3:-python3}
command -v "$PYTHON3" >/dev/null 2>&1 || { echo "demo: no python3, skipped"; exit 77; }
quiet=--quiet
verbose=
[ "${1:-}" = --verbose ] && { quiet=; verbose=--verbose; }
say() { [ -n "$verbose" ] && echo "$@" || true; }
out=$(mktemp -d)
e2e=""
cleanup() {
  [ -n "$e2e" ] && kill "$e2e" 2>/dev/null && wait "$e2e" 2>/dev/null
  rm -rf "$out"
}
trap cleanup EXIT
trap 'exit 1' INT TERM
for v in $(env | sed -n 's/^\(CASHBACK_[A-Z_]*\)=.*/\1/p'); do unset "$v"; done

say "== Part 1: what the SDK sends, checked by another implementation"
"$top_builddir/samples/demo" --out "$out" $quiet
say "5. An independent implementation checks the signatures:"
"$PYTHON3" "$top_srcdir/tests/scripts/verify_demo.py" "$out" demo-key-1 \
  demo-secret-0123456789abcdef demo-shop
cb="$top_builddir/plugins/cli/cashback"
if [ -x "$cb" ]; then
  for what in sale refund; do
    # The signature is 0-1 s old: within the window.
    r=$("$cb" verify --key demo-key-1:demo-secret-0123456789abcdef \
      --signature "$(cat "$out/$what.sig")" --body "$out/$what.body")
    say "   cashback verify: $what: $r"
  done
fi

say ""
say "== Part 2: end to end on one machine, through a network outage"
"$PYTHON3" "$top_srcdir/tests/scripts/demo_e2e.py" "$top_builddir" $verbose &
e2e=$!
rc=0
wait "$e2e" || rc=$?
e2e=""
[ "$rc" -eq 0 ] && say "The demo ran to the end: every step checked."
exit "$rc"
