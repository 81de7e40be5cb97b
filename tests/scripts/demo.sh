#!/bin/sh
# Runs samples/demo and verifies its signed reports with python3's hmac.
# --verbose prints the demo's narration (./bootstrap demo).
set -eu
: "${top_srcdir:?}" "${top_builddir:?}"
PYTHON3=${PYTHON3:-python3}
command -v "$PYTHON3" >/dev/null 2>&1 || { echo "demo: no python3, skipped"; exit 77; }
quiet=--quiet
[ "${1:-}" = --verbose ] && quiet=
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT INT TERM
unset CASHBACK_CONNECTION CASHBACK_CONFIG
"$top_builddir/samples/demo" --out "$out" $quiet
[ -z "$quiet" ] && echo "5. An independent implementation checks the signatures:"
"$PYTHON3" "$top_srcdir/tests/scripts/verify_demo.py" "$out" demo-key-1 \
  demo-secret-0123456789abcdef demo-shop
