#!/bin/sh
# bench/nginx.sh: what the nginx module does to the other requests of its
# worker while paid orders report (their fdatasync runs in nginx's thread
# pool, not on the event loop), and what it adds to a paid-order response,
# against the same nginx without the module (bench/nginx_bench.py;
# docs/performance.md, "nginx: the thread pool"). `make bench` runs it when
# the module is built; `make bench-nginx` runs it alone.
#
# Environment (defaults in brackets):
#   BENCH_DIR             where the temporary directory goes [/var/tmp]
#   BENCH_NGINX_COUNT     unrelated requests (and paid orders) per run [2000]
#   BENCH_NGINX_LOADERS   client processes sending the burst [4]
#   BENCH_SMOKE=1         20 requests per run
#   BENCH_RESULTS         also append the table and figures to this file
# Exit status: 0 when it ran and every check passed; 1 otherwise; 77 when
# nginx or the module is not there.
set -eu
: "${top_srcdir:=$(cd "$(dirname "$0")/.." && pwd)}"
: "${top_builddir:=.}"
top_builddir=$(cd "$top_builddir" && pwd)
PYTHON3=${PYTHON3:-python3}
NGINX=${NGINX:-/usr/sbin/nginx}
module=$top_builddir/plugins/nginx/ngx_http_cashback_module.so
if [ "${BUILD_NGINX:-yes}" = no ] || [ ! -f "$module" ]; then
  echo "bench nginx: skipped: the nginx module is not built (configure: no nginx-dev, or --without-nginx)" >&2
  exit 77
fi
[ -x "$NGINX" ] || { echo "bench nginx: skipped: no $NGINX (Debian: nginx)" >&2; exit 77; }
if [ "${BENCH_SMOKE:-0}" = 1 ]; then count=20; else count=${BENCH_NGINX_COUNT:-2000}; fi
loaders=${BENCH_NGINX_LOADERS:-4}
tmp=$(mktemp -d "${BENCH_DIR:-/var/tmp}/cashback-bench-nginx.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
trap 'exit 1' INT TERM
for v in $(env | sed -n 's/^\(CASHBACK_[A-Z_]*\)=.*/\1/p'); do unset "$v"; done
LD_LIBRARY_PATH=$top_builddir/.libs${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
export LD_LIBRARY_PATH
chmod 755 "$tmp"
mkdir "$tmp/run"
load=$(cut -d' ' -f1-3 /proc/loadavg)
timeout -k 5 300 "$PYTHON3" "$top_srcdir/bench/nginx_bench.py" "$tmp/run" \
  "$module" "$NGINX" "$count" "$loaders" >"$tmp/figures" ||
  { cat "$tmp/figures" >&2; exit 1; }
awk -F= -v load="$load" '
{ v[$1] = $2 }
function us(x) { return sprintf("%.0f us", x) }
function row(a, b, c, d) { printf "%-40s | %-20s | %-20s | %s\n", a, b, c, d }
END {
  printf "\nnginx, one worker, the module vs. the same nginx without it; %d requests\n", v["nginx.count"]
  printf "each, a burst from %d clients (load before: %s)\n\n", v["nginx.loaders"], load
  row("request", "without: p50 / p99", "with: p50 / p99", "added: p50 / p99")
  print "-----------------------------------------+----------------------+----------------------+------------------"
  split("during paid", ks, " ")
  for (i = 1; i <= 2; i++) {
    k = ks[i]
    name = k == "during" ? "unrelated page during a paid-order burst" : "paid order (proxied, 1 sale)"
    row(name, us(v["nginx.without_" k "_p50"]) " / " us(v["nginx.without_" k "_p99"]),
        us(v["nginx.with_" k "_p50"]) " / " us(v["nginx.with_" k "_p99"]),
        sprintf("%+.0f / %+.0f us", v["nginx.with_" k "_p50"] - v["nginx.without_" k "_p50"],
                v["nginx.with_" k "_p99"] - v["nginx.without_" k "_p99"]))
  }
  row("baseline: write+fdatasync", "", "", us(v["nginx.raw_fdatasync_p50_us"]) " / " us(v["nginx.raw_fdatasync_p99_us"]) " (the disk)")
  printf "\npaid orders of the burst: %d without, %d with (each stored durably); headers reaching a client with the module: %d\n", v["nginx.without_burst_orders"], v["nginx.with_burst_orders"], v["nginx.with_leaked"]
}' "$tmp/figures" | tee "$tmp/table"
if [ -n "${BENCH_RESULTS:-}" ]; then
  { cat "$tmp/table"; echo; echo "raw figures (nginx):"; cat "$tmp/figures"; } >>"$BENCH_RESULTS"
fi
