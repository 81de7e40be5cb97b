#!/bin/sh
# Smoke test of the benchmarks (bench/, `make bench`): every program runs on
# tiny counts against fast_receiver, every delivery check passes, and the
# table is well formed. No timing is asserted: performance is for
# `make bench` and docs/performance.md.
set -eu
: "${top_srcdir:?}" "${top_builddir:?}"
out=$(mktemp "${TMPDIR:-/tmp}/bench-smoke.XXXXXX")
trap 'rm -f "$out"' EXIT
BENCH_SMOKE=1 BENCH_DIR=${TMPDIR:-/tmp} sh "$top_srcdir/bench/run.sh" >"$out" 2>&1 || {
  cat "$out"
  echo "bench-smoke: bench/run.sh failed"
  exit 1
}
cat "$out"
fail=0
expect() {
  grep -q -- "$1" "$out" || { echo "bench-smoke: no line matching '$1'"; fail=1; }
}
# One row per figure of docs/performance.md, each with 7 columns.
for w in 1 2 3 4 5 6 P; do expect "^$w  *| "; done
expect "report p50, sync"
expect "processes, one spool"
expect "drain a backlog"
expect "sender peak RSS"
expect "CPU s per 10000 sales"
expect "requests in a"
expect "process durability"
expect "^performance targets met: [0-9]* of [0-9]*"
expect "^delivery checks passed: \([0-9]*\) of \1\$"
bad=$(awk -F'|' '/^[0-9P#] +\|/ && NF != 7' "$out" | head -n 3)
[ -z "$bad" ] || { echo "bench-smoke: rows without 7 columns:"; echo "$bad"; fail=1; }
if grep -q '  *| *?' "$out" || grep -q 'nan\|inf' "$out"; then
  echo "bench-smoke: a figure is missing or not a number"
  fail=1
fi
exit $fail
