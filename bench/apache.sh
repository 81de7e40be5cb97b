#!/bin/sh
# bench/apache.sh: what mod_cashback adds to the latency of a paid-order
# response and of a plain request, against the same Apache without the
# module, in the same run (bench/apache_bench.py; docs/performance.md,
# "Apache: mod_cashback"). `make bench` runs it after bench/run.sh when the
# module is built; `make bench-apache` runs it alone.
#
# Environment (defaults in brackets):
#   BENCH_DIR             where the temporary directory goes [/var/tmp]
#   BENCH_APACHE_COUNT    requests per kind and server [2000]
#   BENCH_SMOKE=1         20 requests per kind and server
#   BENCH_RESULTS         also append the table and figures to this file
#   BENCH_KEEP=1          keep the temporary directory
# Exit status: 0 when it ran and every check passed (the header removed,
# every sale delivered); 1 otherwise; 77 when Apache or the module is not
# there.
set -eu
: "${top_srcdir:=$(cd "$(dirname "$0")/.." && pwd)}"
: "${top_builddir:=.}"
top_builddir=$(cd "$top_builddir" && pwd)
PYTHON3=${PYTHON3:-python3}
APACHE2=${APACHE2:-/usr/sbin/apache2}
module=$top_builddir/plugins/apache/.libs/mod_cashback.so
receiver=$top_builddir/bench/fast_receiver
if [ "${BUILD_APACHE:-yes}" = no ]; then
  echo "bench apache: skipped: mod_cashback is not built (configure: no apxs, or --without-apache)" >&2
  exit 77
fi
[ -x "$APACHE2" ] || { echo "bench apache: skipped: no $APACHE2 (Debian: apache2)" >&2; exit 77; }
[ -f "$module" ] || { echo "bench apache: skipped: mod_cashback is not built (configure: no apxs)" >&2; exit 77; }
[ -x "$receiver" ] || { echo "bench apache: $receiver is not built (make bench)" >&2; exit 1; }
moddir=$(apxs -q LIBEXECDIR 2>/dev/null || echo /usr/lib/apache2/modules)
if [ "${BENCH_SMOKE:-0}" = 1 ]; then count=20; else count=${BENCH_APACHE_COUNT:-2000}; fi
tmp=$(mktemp -d "${BENCH_DIR:-/var/tmp}/cashback-bench-apache.XXXXXX")
cleanup() {
  if [ "${BENCH_KEEP:-0}" = 1 ]; then echo "bench apache: kept $tmp" >&2; else rm -rf "$tmp"; fi
}
trap cleanup EXIT
trap 'exit 1' INT TERM
for v in $(env | sed -n 's/^\(CASHBACK_[A-Z_]*\)=.*/\1/p'); do unset "$v"; done
LD_LIBRARY_PATH=$top_builddir/.libs${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
export LD_LIBRARY_PATH
echo "bench: apache ($count requests per kind and server; load before: $(cut -d' ' -f1-3 /proc/loadavg))" >&2
chmod 755 "$tmp" # Apache's children (User) read and write in it
mkdir "$tmp/run"
timeout -k 5 600 "$PYTHON3" "$top_srcdir/bench/apache_bench.py" "$tmp/run" \
  "$module" "$receiver" "$APACHE2" "$moddir" "$count" >"$tmp/figures" ||
  { cat "$tmp/figures" >&2; exit 1; }
awk -F= -v load="$(cut -d' ' -f1-3 /proc/loadavg)" '
{ v[$1] = $2 }
function us(x) { return sprintf("%.0f us", x) }
function row(a, b, c, d) { printf "%-34s | %-20s | %-20s | %s\n", a, b, c, d }
END {
  printf "\nApache httpd %s, prefork, mod_cashback vs. the same server without it,\n", ver
  printf "%d requests of each kind to each, interleaved (load after: %s)\n\n", v["apache.count"], load
  row("request", "without: p50 / p99", "with: p50 / p99", "added: p50 / p99")
  print "-----------------------------------+----------------------+----------------------+------------------"
  for (k = 1; k <= 2; k++) {
    kind = k == 1 ? "paid" : "plain"
    name = k == 1 ? "paid order (proxied app, 1 sale)" : "plain request (static file)"
    row(name, us(v["apache." kind "_without_p50_us"]) " / " us(v["apache." kind "_without_p99_us"]),
        us(v["apache." kind "_with_p50_us"]) " / " us(v["apache." kind "_with_p99_us"]),
        sprintf("%+.0f / %+.0f us", v["apache." kind "_added_p50_us"], v["apache." kind "_added_p99_us"]))
  }
  row("baseline: write+fdatasync", "", "", us(v["apache.raw_fdatasync_p50_us"]) " / " us(v["apache.raw_fdatasync_p99_us"]) " (the disk)")
  printf "\nsales delivered of reported: %d/%d; headers reaching the client: %d\n", v["apache.delivered"], v["apache.reported"], v["apache.leaked"]
}' ver="$("$APACHE2" -v 2>/dev/null | sed -n 's/^Server version: Apache\///p' | cut -d' ' -f1)" "$tmp/figures" | tee "$tmp/table"
if [ -n "${BENCH_RESULTS:-}" ]; then
  { cat "$tmp/table"; echo; echo "raw figures (apache):"; cat "$tmp/figures"; } >>"$BENCH_RESULTS"
fi
