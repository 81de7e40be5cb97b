#!/bin/sh
# Smoke test of the benchmarks (bench/, `make bench`): every program runs on
# tiny counts against fast_receiver, every delivery check passes, and the
# table is well formed. No timing is asserted: performance is for
# `make bench` and docs/performance.md.
set -eu
: "${top_srcdir:?}" "${top_builddir:?}"
# bench_sqlite, a baseline of the table, needs sqlite3 (configure).
if [ "${HAVE_SQLITE:-yes}" = no ]; then
  echo "bench-smoke: SKIP: bench_sqlite is not built (configure found no sqlite3)"
  exit 77
fi
out=$(mktemp "${TMPDIR:-/tmp}/bench-smoke.XXXXXX")
res=$out.results
trap 'rm -f "$out" "$res" "$res.zero" "$out.zero"' EXIT
BENCH_SMOKE=1 BENCH_DIR=${TMPDIR:-/tmp} BENCH_RESULTS=$res \
  sh "$top_srcdir/bench/run.sh" >"$out" 2>&1 || {
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
for w in 1 2 3 4 5 6 P L S C T; do expect "^$w  *| "; done
expect "report p50, sync"
expect "processes, one spool"
expect "drain a backlog"
expect "sender peak RSS"
expect "CPU s per 10000 sales"
expect "requests in a"
expect "process durability"
# Issue 18: the disk's limit at 1, 8 and 32 writer processes, the sender
# under a steady load, the tail with a backlog.
for p in 1 8 32; do
  expect "^L  *| P=$p: append+fdatasync"
  expect "^L  *| P=$p: preallocated"
  expect "^L  *| P=$p: shared file, group commit"
  expect "^L  *| P=$p: cashback_report(), sender off"
done
expect "sender on, .*events/request"
expect "CPU s per 10000 sales, sender on"
expect "CPU per 10000 sales, process durability"
expect "report p99.9, [0-9]* queued"
expect "^performance targets met: [0-9]* of [0-9]*"
expect "^delivery checks passed: \([0-9]*\) of \1\$"
bad=$(awk -F'|' '/^[0-9PLSCT#] +\|/ && NF != 7' "$out" | head -n 3)
[ -z "$bad" ] || { echo "bench-smoke: rows without 7 columns:"; echo "$bad"; fail=1; }
if grep -q '  *| *?' "$out" || grep -q 'nan\|inf' "$out"; then
  echo "bench-smoke: a figure is missing or not a number"
  fail=1
fi
# The fdatasync baselines ("raw") and CPU times 0, as they are on tmpfs at
# smoke counts (fdatasync takes no time): the table has every row and no
# inf or nan (it used to divide by them).
sed -n '/^raw figures:$/,$p' "$res" |
  sed '1d; s/^\([^=]*\(raw_\|_cpu_s\)[^=]*\)=.*/\1=0/' >"$res.zero"
grep -q 'raw_cpu_s=0$' "$res.zero" || { echo "bench-smoke: no raw_cpu_s figure to zero"; fail=1; }
[ -s "$res.zero" ] || { echo "bench-smoke: no raw figures in $res"; fail=1; }
BENCH_TABLE_FROM=$res.zero sh "$top_srcdir/bench/run.sh" >"$out.zero" 2>&1 || :
for w in 1 2 3 4 5 6 P L S C T; do
  grep -q "^$w  *| " "$out.zero" || { echo "bench-smoke: zero figures: no row $w"; fail=1; }
done
if grep -q 'nan\|inf\|division' "$out.zero"; then
  echo "bench-smoke: zero figures give a ratio that is not a number:"
  grep 'nan\|inf\|division' "$out.zero" | head -n 3
  fail=1
fi
exit $fail
