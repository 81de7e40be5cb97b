#!/bin/sh
# bench/run.sh: runs every benchmark of docs/performance.md with its
# baselines, in one run, and prints one table. `make bench` runs it from the
# build directory; tests/scripts/bench-smoke.sh runs it with BENCH_SMOKE=1
# (tiny counts, a few seconds, nothing timed is asserted).
#
# Environment (defaults in brackets):
#   BENCH_DIR             where the temporary spools go [/var/tmp]; the
#                         file system is printed (the default spool,
#                         /var/spool/cashback or ~/.local/state, is on it
#                         on a usual install)
#   BENCH_OUTAGE_SECONDS  length of the 503 outage [60]
#   BENCH_OUTAGE_RATE     sales per second during it [100]
#   BENCH_REPORT_COUNT [10000]  BENCH_MULTI_COUNT [16000]  BENCH_PROCS [8]
#   BENCH_BACKLOG_COUNT [100000]  BENCH_RSS_SMALL [10000]
#   BENCH_RSS_LARGE [1000000]  BENCH_POST_COUNT [2000]
#   BENCH_POST_SLOW_COUNT [100]  BENCH_SQLITE_COUNT [10000]
#   BENCH_LIMIT           writer processes and records of the disk-limit
#                         runs (workload L), P:N pairs [1:6000 8:16000 32:32000]
#   BENCH_LIMIT_ROUNDS    rounds of them; each figure is the median [3]
#   BENCH_STEADY_COUNT [10000]  BENCH_STEADY_RATE [4000]  (workload S)
#   BENCH_TAIL_QUEUED     events queued for the tail workload T [10000000:
#                         2.7 GB in BENCH_DIR, about 15 s to write]
#   BENCH_TAIL_COUNT      reports into it, and as many into an empty spool
#                         [20000]
#   BENCH_RESULTS         also write the table and raw figures to this file
#   BENCH_TABLE_FROM      only print the table of the raw figures in this
#                         file (key=value lines), running nothing
#   BENCH_KEEP=1          keep the temporary directory
# Exit status: 0 when every program ran and every delivery check passed
# (performance targets are reported, not enforced); 1 otherwise.
set -eu

: "${top_srcdir:=$(cd "$(dirname "$0")/.." && pwd)}"
: "${top_builddir:=.}"
bin=$top_builddir/bench
# The table of docs/performance.md from a file of raw figures (key=value).
render_table() {
  awk -F= -v procs="$PROCS" -v smoke="${BENCH_SMOKE:-0}" -v limits="$LIMIT_PROCS" '
{ v[$1] = substr($0, length($1) + 2) }
function n(k) { if (!(k in v)) { missing = missing " " k; return 0 } return v[k] + 0 }
function s(k) { if (!(k in v)) { missing = missing " " k; return "?" } return v[k] }
function us(x) { return x >= 10000 ? sprintf("%.1f ms", x / 1000) : sprintf("%.0f us", x) }
function rate(x) { return sprintf("%.0f/s", x) }
function mb(kb) { return sprintf("%.1f MB", kb * 1024 / 1e6) }
function yn(c) { targets++; if (c) { met++; return "yes" } return "NO" }
# a / b with fmt; a baseline too fast to measure (0: fdatasync on tmpfs) has
# no ratio
function per(fmt, a, b) { return b > 0 ? sprintf(fmt, a / b) : "- (base 0)" }
function check(c) { checks++; if (c) return "yes"; failed++; return "FAIL" }
function row(w, fig, val, base, ratio, target, ok) {
  printf "%-2s | %-40s | %-16s | %-34s | %-13s | %-14s | %s\n", w, fig, val, base, ratio, target, ok
}
END {
  row("#", "workload and figure", "value", "baseline (same run)", "ratio", "target", "met")
  print "---+------------------------------------------+------------------+------------------------------------+---------------+----------------+----"
  r50 = n("w1.report_p50_us"); r99 = n("w1.report_p99_us"); r999 = n("w1.report_p999_us")
  f50 = n("w1.raw_p50_us"); f99 = n("w1.raw_p99_us"); f999 = n("w1.raw_p999_us")
  p0 = n("post0.post_p50_us"); p100 = n("post100.post_p50_us")
  row(1, "report p50, sync, " n("w1.report_n") " sales", us(r50), "write+fdatasync p50 " us(f50), per("%.2fx", r50, f50), "<= 1.3x", yn(r50 <= 1.3 * f50))
  row(1, "report p99", us(r99), "write+fdatasync p99 " us(f99), per("%.2fx", r99, f99), "<= 2x", yn(r99 <= 2 * f99))
  row(1, "report p99.9", us(r999), "write+fdatasync p99.9 " us(f999), per("%.2fx", r999, f999), "-", "")
  row(1, "report p50 vs inline POST, 100 ms RTT", us(r50), "POST per sale p50 " us(p100), per("%.0fx", p100, r50), "POST >= 100x", yn(p100 >= 100 * r50))
  row(1, "report p50 vs inline POST, 0 ms RTT", us(r50), "POST per sale p50 " us(p0), per("%.2fx", p0, r50), "-", "")
  m = n("w2.multi_ops_s"); q = n("sqliteN.sqlite" procs "_ops_s")
  row(2, procs " processes, one spool: sales/s", rate(m), "SQLite WAL FULL, " procs " procs " rate(q), per("%.2fx", m, q), ">= 2x", yn(m >= 2 * q))
  lost2 = n("w2.ids_count") - n("w2drain.delivered_count")
  row(2, "delivered of reported (ids checked)", n("w2drain.delivered_count") "/" n("w2.ids_count"), "", "", "all", check(lost2 == 0 && s("w2drain.delivered_sum") == s("w2.ids_sum")))
  row(2, "1 process: sales/s", rate(n("w1.report_ops_s")), "SQLite WAL FULL, 1 proc " rate(n("sqlite1.sqlite1_ops_s")), per("%.2fx", n("w1.report_ops_s"), n("sqlite1.sqlite1_ops_s")), "-", "")
  d3 = n("w3.drain_events_s")
  row(3, "drain a backlog of " n("w3.drain_events") ": events/s", rate(d3), "", "", ">= 30000/s", yn(d3 >= 30000))
  row(3, "delivered of queued (ids checked)", n("w3.delivered_count") "/" n("wp.ids_count"), "", "", "all", check(n("w3.delivered_count") == n("wp.ids_count") && s("w3.delivered_sum") == s("wp.ids_sum")))
  ks = n("w4s.drain_maxrss_kb"); kl = n("w4l.drain_maxrss_kb"); kf = n("post0.post_maxrss_kb")
  row(4, "sender peak RSS, " n("w4sfill.fill_events") " queued", mb(ks), "floor: 1 POST, no spool " mb(kf), sprintf("+%.1f MB", (ks - kf) * 1024 / 1e6), "<= 10 MB", yn(ks * 1024 <= 10e6))
  row(4, "sender peak RSS, " n("w4lfill.fill_events") " queued", mb(kl), "floor: 1 POST, no spool " mb(kf), sprintf("+%.1f MB", (kl - kf) * 1024 / 1e6), "<= 10 MB", yn(kl * 1024 <= 10e6))
  row(4, "  " n("w4lfill.fill_events") " queued vs " n("w4sfill.fill_events"), sprintf("%+.2f MB", (kl - ks) * 1024 / 1e6), "", per("%.2fx", kl, ks), "same (<= 1.1x)", yn(kl <= 1.1 * ks))
  row(4, "delivered of queued (ids checked)", (n("w4s.delivered_count") + n("w4l.delivered_count")) "/" (n("w4sfill.ids_count") + n("w4lfill.ids_count")), "drain " n("w4l.drain_events") ": " rate(n("w4l.drain_events_s")), "", "all", check(s("w4s.delivered_sum") == s("w4sfill.ids_sum") && s("w4l.delivered_sum") == s("w4lfill.ids_sum") && n("w4s.delivered_count") == n("w4sfill.ids_count") && n("w4l.delivered_count") == n("w4lfill.ids_count")))
  k = 10000 / n("w1.ids_count"); cr = n("w1.report_cpu_s") * k; cs = n("w1drain.drain_cpu_s") * k; cf = n("w1.raw_cpu_s") * k
  row(5, "CPU s per 10000 sales, report+deliver", sprintf("%.3f s", cr + cs), sprintf("fdatasync alone (raw) %.3f s", cf), per("%.2fx", cr + cs, cf), "<= 0.5 s", yn(cr + cs <= 0.5))
  row(5, "  of which report / send", sprintf("%.3f / %.3f", cr, cs), sprintf("beyond fdatasync: %.3f s", cr + cs - cf), "", "-", "")
  km = 10000 / n("w2.ids_count"); cm = (n("w2.multi_cpu_s") + n("w2drain.drain_cpu_s")) * km
  row(5, "  same, " procs " processes (whole processes)", sprintf("%.3f s", cm), sprintf("report %.3f + send %.3f", n("w2.multi_cpu_s") * km, n("w2drain.drain_cpu_s") * km), "", "<= 0.5 s", yn(cm <= 0.5))
  kp = 10000 / n("wp.ids_count"); cp = (n("wp.report_process_cpu_s") + n("w3.drain_cpu_s")) * kp
  row(5, "  same, process durability (no fsync)", sprintf("%.3f s", cp), sprintf("report %.3f + send %.3f", n("wp.report_process_cpu_s") * kp, n("w3.drain_cpu_s") * kp), "", "<= 0.5 s", yn(cp <= 0.5))
  row(5, "delivered of reported (ids checked)", n("w1drain.delivered_count") "/" n("w1.ids_count"), "", "", "all", check(n("w1drain.delivered_count") == n("w1.ids_count") && s("w1drain.delivered_sum") == s("w1.ids_sum")))
  req = n("w6.outage_requests"); e999 = n("w6.outage_expected_p999")
  row(6, "requests in a " s("w6.outage_window_s") " s outage, " s("w6.outage_rate") " sales/s", req, sprintf("backoff: mean %.1f, p99.9 %d", n("w6.outage_expected_mean"), e999), "", "<= p99.9", yn(req <= e999))
  fo = n("w6.outage_first_ok_after_s"); ce = n("w6.outage_step_ceiling_s"); al = n("w6.outage_all_delivered_after_s")
  row(6, "recovery to first delivery", sprintf("%.1f s", fo), sprintf("backoff step in force: %.1f s", ce), "", "<= 1 step", yn(fo >= 0 && fo <= ce))
  row(6, "recovery to every sale delivered", sprintf("%.1f s", al), sprintf("backoff step in force: %.1f s", ce), "", "<= 1 step", yn(al >= 0 && al <= ce))
  o50 = n("w6.outage_report_p50_us"); o99 = n("w6.outage_report_p99_us")
  row(6, "report p50 during it, paced", us(o50), "paced write+fdatasync p50 " us(n("w6.outage_raw_p50_us")), per("%.2fx", o50, n("w6.outage_raw_p50_us")), "-", "")
  row(6, "report p99 during it, paced", us(o99), "paced write+fdatasync p99 " us(n("w6.outage_raw_p99_us")), per("%.2fx", o99, n("w6.outage_raw_p99_us")), "-", "")
  row(6, "delivered of reported (ids checked)", n("w6.delivered_count") "/" n("w6.ids_count"), "", "", "all", check(n("w6.delivered_count") == n("w6.ids_count") && s("w6.delivered_sum") == s("w6.ids_sum")))
  row("P", "process durability: report p50", us(n("wp.report_process_p50_us")), "sync p50 " us(r50), per("%.2fx", n("wp.report_process_p50_us"), r50), "-", "")
  row("P", "process durability: sales/s, 1 process", rate(n("wp.report_process_ops_s")), "sync " rate(n("w1.report_ops_s")), per("%.1fx", n("wp.report_process_ops_s"), n("w1.report_ops_s")), "-", "")
  # Issue 18: the limit of the disk with P writer processes, same rounds.
  np = split(limits, lp, " ")
  for (i = 1; i <= np; i++) {
    P = lp[i]; la = n("l" P "append.ops_s"); lq = n("l" P "prealloc.ops_s"); lg = n("l" P "group.ops_s"); lc = n("l" P "cashback.ops_s")
    best = la; bn = "append"
    if (lq > best) { best = lq; bn = "prealloc" }
    if (lg > best) { best = lg; bn = "group" }
    row("L", "P=" P ": append+fdatasync, file each", rate(la), "", "", "-", "")
    row("L", "P=" P ": preallocated, overwrite+fdatasync", rate(lq), "", "", "-", "")
    row("L", "P=" P ": shared file, group commit", rate(lg), sprintf("%.1f records per fdatasync", n("l" P "group.records_per_sync")), "", "-", "")
    row("L", "P=" P ": cashback_report(), sender off", rate(lc), "best: " bn " " rate(best), per("%.2fx", lc, best), ">= 0.9x", yn(lc >= 0.9 * best))
  }
  row("L", "delivered of reported (ids checked)", n("lcheck.delivered") "/" n("lcheck.reported"), n("lcheck.ok") " of " n("lcheck.runs") " runs whole", "", "all", check(n("lcheck.runs") > 0 && n("lcheck.ok") == n("lcheck.runs")))
  # The sender thread under a steady load, and the same with it off (two
  # runs of each, figures summed; p50 and p99 the mean of the two).
  son_n = n("son.ids_count"); sof_n = n("soff.ids_count")
  so = son_n ? n("son.steady_cpu_s") * 10000 / son_n : 0; sf = sof_n ? n("soff.steady_cpu_s") * 10000 / sof_n : 0
  sreq = n("son.steady_requests"); epr = sreq ? n("son.delivered_count") / sreq : 0
  row("S", "sender on, " n("son.steady_rate") "/s paced: events/request", sprintf("%.1f", epr), sreq " requests, " son_n " sales", "", ">= 50", yn(epr >= 50))
  row("S", "CPU s per 10000 sales, sender on", sprintf("%.3f s", so), sprintf("sender off %.3f s", sf), per("%.2fx", so, sf), "<= 1.2x", yn(so <= 1.2 * sf))
  row("S", "  off, then drained: report + send", sprintf("%.3f s", sf + (sof_n ? n("soffdrain.drain_cpu_s") * 10000 / sof_n : 0)), "rate reached on / off", per("%.0f", son_n, n("son.steady_s")) " / " per("%.0f/s", sof_n, n("soff.steady_s")), "-", "")
  row("S", "report p50 / p99, sender on", us(n("son.steady_report_p50_us") / 2) " / " us(n("son.steady_report_p99_us") / 2), "off " us(n("soff.steady_report_p50_us") / 2) " / " us(n("soff.steady_report_p99_us") / 2), per("%.2fx", n("son.steady_report_p50_us"), n("soff.steady_report_p50_us")), "-", "")
  row("S", "delivered of reported (ids checked)", (n("son.delivered_count") + n("soffdrain.delivered_count")) "/" (son_n + sof_n), "on: live; off: drained after", "", "all", check(n("son.whole") == 2 && n("soff.whole") == 2))
  # CPU beyond the fdatasync: process durability, reported and delivered.
  row("C", "CPU per 10000 sales, process durability", sprintf("%.3f s", cp), sprintf("report %.3f + send %.3f", n("wp.report_process_cpu_s") * kp, n("w3.drain_cpu_s") * kp), "", "<= 0.05 s", yn(cp <= 0.05))
  row("C", "report p50 / p99, process durability", us(n("wp.report_process_p50_us")) " / " us(n("wp.report_process_p99_us")), n("wp.ids_count") " reports", "", "-", "")
  # The tail with a large backlog, alternating with an empty spool.
  tq = n("tfill.fill_events"); t9 = n("tail.tail_backlog_p999_us"); e9 = n("tail.tail_empty_p999_us")
  row("T", "report p99.9, " tq " queued", us(t9), "empty spool p99.9 " us(e9), per("%.2fx", t9, e9), "<= 1.5x", yn(t9 <= 1.5 * e9))
  row("T", "  p50", us(n("tail.tail_backlog_p50_us")), "empty spool p50 " us(n("tail.tail_empty_p50_us")), per("%.2fx", n("tail.tail_backlog_p50_us"), n("tail.tail_empty_p50_us")), "-", "")
  row("T", "  p99.99 / max", us(n("tail.tail_backlog_p9999_us")) " / " us(n("tail.tail_backlog_max_us")), "empty " us(n("tail.tail_empty_p9999_us")) " / " us(n("tail.tail_empty_max_us")), per("%.2fx", n("tail.tail_backlog_max_us"), n("tail.tail_empty_max_us")), "-", "")
  print ""
  printf "performance targets met: %d of %d%s\n", met, targets, smoke == 1 ? " (smoke run: tiny counts, figures meaningless)" : ""
  printf "delivery checks passed: %d of %d\n", checks - failed, checks
  if (missing != "") { print "missing figures:" missing; exit 1 }
  exit failed ? 1 : 0
}' "$1"
}

# BENCH_TABLE_FROM=FILE: only print the table of the raw figures in FILE
# (the "raw figures:" part of a BENCH_RESULTS file), running nothing.
limit_procs() { for pc in $1; do printf '%s ' "${pc%%:*}"; done; }
if [ -n "${BENCH_TABLE_FROM:-}" ]; then
  PROCS=${BENCH_PROCS:-8}
  LIMIT_PROCS=$(limit_procs "${BENCH_LIMIT:-1:6000 8:16000 32:32000}")
  render_table "$BENCH_TABLE_FROM"
  exit $?
fi

for p in cashback_bench fast_receiver bench_sqlite; do
  [ -x "$bin/$p" ] || { echo "bench: $bin/$p is not built (make bench; bench_sqlite needs sqlite3 at configure)" >&2; exit 1; }
done

if [ "${BENCH_SMOKE:-0}" = 1 ]; then
  REPORT_N=50 SQLITE_N=40 MULTI_N=80 POST_N=10 POST_SLOW_N=3
  BACKLOG_N=600 RSS_SMALL=100 RSS_LARGE=1000 OUTAGE_S=1.5 OUTAGE_RATE=20
  BACKOFF="--backoff-base-ms 100 --backoff-cap-ms 400"
  PROCS=${BENCH_PROCS:-4}
  LIMITS=${BENCH_LIMIT:-1:20 8:64 32:64} LIMIT_ROUNDS=1
  STEADY_N=100 STEADY_RATE=1000 TAIL_QUEUED=20000 TAIL_N=50
else
  REPORT_N=${BENCH_REPORT_COUNT:-10000}
  SQLITE_N=${BENCH_SQLITE_COUNT:-10000}
  MULTI_N=${BENCH_MULTI_COUNT:-16000}
  POST_N=${BENCH_POST_COUNT:-2000}
  POST_SLOW_N=${BENCH_POST_SLOW_COUNT:-100}
  BACKLOG_N=${BENCH_BACKLOG_COUNT:-100000}
  RSS_SMALL=${BENCH_RSS_SMALL:-10000}
  RSS_LARGE=${BENCH_RSS_LARGE:-1000000}
  OUTAGE_S=${BENCH_OUTAGE_SECONDS:-60}
  OUTAGE_RATE=${BENCH_OUTAGE_RATE:-100}
  BACKOFF=""
  PROCS=${BENCH_PROCS:-8}
  LIMITS=${BENCH_LIMIT:-1:6000 8:16000 32:32000}
  LIMIT_ROUNDS=${BENCH_LIMIT_ROUNDS:-3}
  STEADY_N=${BENCH_STEADY_COUNT:-10000}
  STEADY_RATE=${BENCH_STEADY_RATE:-4000}
  TAIL_QUEUED=${BENCH_TAIL_QUEUED:-10000000}
  TAIL_N=${BENCH_TAIL_COUNT:-20000}
fi
LIMIT_PROCS=$(limit_procs "$LIMITS")
KEYS=bench-key:bench-secret-0123456789abcdef

base=${BENCH_DIR:-/var/tmp}
tmp=$(mktemp -d "$base/cashback-bench.XXXXXX")
results=$tmp/results
: >"$results"
pids=""
cleanup() {
  for p in $pids; do kill "$p" 2>/dev/null || true; done
  for p in $pids; do wait "$p" 2>/dev/null || true; done
  if [ "${BENCH_KEEP:-0}" = 1 ]; then
    echo "bench: kept $tmp"
  else
    rm -rf "$tmp"
  fi
}
trap cleanup EXIT
trap 'exit 1' INT TERM

say() { printf '%s\n' "$*" >&2; }

# --- The machine --------------------------------------------------------
fs_of() { df -PT "$1" 2>/dev/null | awk 'NR == 2 { print $2 " on " $1 " (mounted on " $7 ")" }'; }
if [ "$(id -u)" = 0 ]; then default_spool=/var/spool; else default_spool=${XDG_STATE_HOME:-${HOME:-/}}; fi
[ -d "$default_spool" ] || default_spool=/
same_fs=no
[ "$(stat -c %d "$tmp")" = "$(stat -c %d "$default_spool")" ] && same_fs=yes
{
  echo "date:        $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
  echo "kernel:      $(uname -srm)"
  echo "cpu:         $(lscpu 2>/dev/null | sed -n 's/^Model name: *//p' | head -n 1), $(nproc) cores"
  echo "memory:      $(free -m 2>/dev/null | awk '/^Mem:/ { print $2 " MiB" }')"
  echo "bench dir:   $tmp: $(fs_of "$tmp")"
  echo "default spool parent $default_spool: $(fs_of "$default_spool"); same file system: $same_fs"
  echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "revision:    $(git -C "$top_srcdir" rev-parse --short HEAD 2>/dev/null || echo unknown)"
} >"$tmp/machine"
cat "$tmp/machine" >&2

# --- Helpers ------------------------------------------------------------
# val TAG.KEY: a raw figure of this run
val() { sed -n "s/^$1=//p" "$results" | tail -n 1; }
# run TAG CMD...: runs a benchmark program, keeps its key=value lines as
# TAG.key=value.
run() {
  tag=$1
  shift
  say "bench: $tag"
  if ! "$@" >"$tmp/$tag.out" 2>"$tmp/$tag.err"; then
    say "bench: $tag failed:"
    cat "$tmp/$tag.err" >&2
    exit 1
  fi
  sed "s/^/$tag./" "$tmp/$tag.out" >>"$results"
}

# start_receiver NAME ARGS...: a fast_receiver; its batch URL in $url.
start_receiver() {
  name=$1
  shift
  "$bin/fast_receiver" --port 0 --port-file "$tmp/$name.port" --keys "$KEYS" \
    --max-seconds 3600 "$@" >"$tmp/$name.log" 2>&1 &
  pids="$pids $!"
  i=0
  while [ ! -s "$tmp/$name.port" ]; do
    i=$((i + 1))
    [ $i -le 100 ] || { say "bench: receiver $name did not start"; cat "$tmp/$name.log" >&2; exit 1; }
    sleep 0.1
  done
  url="http://127.0.0.1:$(cat "$tmp/$name.port")/v1/events"
}

start_receiver fast
R0=$url
start_receiver wan --delay-ms 100
R100=$url

B=$bin/cashback_bench
# --- Baselines ----------------------------------------------------------
run sqlite1 "$bin/bench_sqlite" --dir "$tmp/sqlite" --count "$SQLITE_N" --procs 1
run sqliteN "$bin/bench_sqlite" --dir "$tmp/sqlite" --count "$MULTI_N" --procs "$PROCS"
run post0 "$B" post --url "$R0" --count "$POST_N"
run post100 "$B" post --url "$R100" --count "$POST_SLOW_N"

# --- 1 and 5: report latency, alternating with the raw baseline (append +
# fdatasync in the same directory), then the sender; CPU of both ----------
run w1 "$B" report --spool "$tmp/spool-w1" --dir "$tmp/spool-w1-raw" \
  --count "$REPORT_N" --url "$R0" --prefix w1
run w1drain "$B" drain --spool "$tmp/spool-w1" --url "$R0"
rm -rf "$tmp/spool-w1" "$tmp/spool-w1-raw"

# --- 2: several processes, one spool ------------------------------------
run w2 "$B" multi --spool "$tmp/spool-w2" --procs "$PROCS" --count "$MULTI_N" --url "$R0" --prefix w2
run w2drain "$B" drain --spool "$tmp/spool-w2" --url "$R0"
rm -rf "$tmp/spool-w2"

# --- Process durability; its backlog is workload 3 ----------------------
run wp "$B" report --spool "$tmp/spool-w3" --count "$BACKLOG_N" --durability process --url "$R0" --prefix w3
run w3 "$B" drain --spool "$tmp/spool-w3" --url "$R0"
rm -rf "$tmp/spool-w3"

# --- 4: sender memory with a small and a large backlog ------------------
run w4sfill "$B" fill --spool "$tmp/spool-w4s" --count "$RSS_SMALL" --prefix w4s
run w4s "$B" drain --spool "$tmp/spool-w4s" --url "$R0"
rm -rf "$tmp/spool-w4s"
run w4lfill "$B" fill --spool "$tmp/spool-w4l" --count "$RSS_LARGE" --prefix w4l
BENCH_SMAPS=$tmp/w4l.smaps run w4l "$B" drain --spool "$tmp/spool-w4l" --url "$R0"
rm -rf "$tmp/spool-w4l"

# --- S: the sender thread under a steady load, and the same with it off,
# as four runs of half the sales each: on, off, off, on (the disk drifts;
# each figure sums the two runs of its kind) ---------------------------------
half=$((STEADY_N / 2))
[ "$half" -ge 1 ] || half=1
for t in son1 soff1 soff2 son2; do
  case $t in son*) sn=on ;; *) sn=off ;; esac
  run "$t" "$B" steady --spool "$tmp/spool-$t" --url "$R0" --rate "$STEADY_RATE" \
    --count "$half" --sender "$sn" --prefix "$t"
  [ "$sn" = on ] || run "soffdrain${t#soff}" "$B" drain --spool "$tmp/spool-$t" --url "$R0"
  rm -rf "$tmp/spool-$t"
done
# sums TAG KEY...: TAG.KEY = TAG1.KEY + TAG2.KEY
sums() {
  t=$1
  shift
  for k in "$@"; do
    echo "$t.$k=$(sed -n "s/^$t[12]\.$k=//p" "$results" | awk '{ s += $1 } END { print s + 0 }')"
  done
}
# whole TAG DELIVERED: how many of runs TAG1, TAG2 had every id they
# reported delivered (by DELIVERED1, DELIVERED2)
whole() {
  w=0
  for i in 1 2; do
    if [ "$(val "$1$i.ids_count")" = "$(val "$2$i.delivered_count")" ] &&
      [ "$(val "$1$i.ids_sum")" = "$(val "$2$i.delivered_sum")" ]; then
      w=$((w + 1))
    fi
  done
  echo "$1.whole=$w"
}
{
  sums son steady_cpu_s steady_s steady_requests ids_count delivered_count steady_report_p50_us steady_report_p99_us
  sums soff steady_cpu_s steady_s ids_count steady_report_p50_us steady_report_p99_us
  sums soffdrain drain_cpu_s delivered_count
  echo "son.steady_rate=$STEADY_RATE"
} >>"$results"
whole son son >>"$results"
whole soff soffdrain >>"$results"

# --- L: the disk's limit with P writer processes (no SDK) and
# cashback_report() from as many processes, in the same rounds; the
# methods' order turns from one round to the next ------------------------
median() { sort -n | awk '{ v[NR] = $1 } END { if (NR) print (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2) }'; }
lruns=0 lok=0 lrep=0 ldel=0
r=1
while [ "$r" -le "$LIMIT_ROUNDS" ]; do
  for pc in $LIMITS; do
    P=${pc%%:*} N=${pc#*:}
    order="append prealloc group cashback"
    k=1
    while [ "$k" -lt "$r" ]; do order="${order#* } ${order%% *}"; k=$((k + 1)); done
    for m in $order; do
      if [ "$m" = cashback ]; then
        run "l${P}cashback_r$r" "$B" multi --spool "$tmp/spool-l" --procs "$P" --count "$N" --prefix "l${P}r$r"
        run "l${P}cashback_r${r}drain" "$B" drain --spool "$tmp/spool-l" --url "$R0"
        rm -rf "$tmp/spool-l"
        c=$(val "l${P}cashback_r$r.ids_count") d=$(val "l${P}cashback_r${r}drain.delivered_count")
        lruns=$((lruns + 1)) lrep=$((lrep + c)) ldel=$((ldel + d))
        if [ "$c" = "$d" ] && [ "$(val "l${P}cashback_r$r.ids_sum")" = "$(val "l${P}cashback_r${r}drain.delivered_sum")" ]; then
          lok=$((lok + 1))
        fi
      else
        run "l${P}${m}_r$r" "$B" limit --dir "$tmp/limit" --procs "$P" --count "$N" --method "$m"
      fi
    done
  done
  r=$((r + 1))
done
rm -rf "$tmp/limit"
for P in $LIMIT_PROCS; do
  for m in append prealloc group; do
    echo "l$P$m.ops_s=$(sed -n "s/^l$P${m}_r[0-9]*\.limit_ops_s=//p" "$results" | median)"
  done
  echo "l${P}group.records_per_sync=$(sed -n "s/^l${P}group_r[0-9]*\.limit_records_per_sync=//p" "$results" | median)"
  echo "l${P}cashback.ops_s=$(sed -n "s/^l${P}cashback_r[0-9]*\.multi_ops_s=//p" "$results" | median)"
done >>"$results"
printf 'lcheck.runs=%s\nlcheck.ok=%s\nlcheck.reported=%s\nlcheck.delivered=%s\n' "$lruns" "$lok" "$lrep" "$ldel" >>"$results"

# --- 6: outage ----------------------------------------------------------
start_receiver outage --fail-503-seconds "$OUTAGE_S"
# shellcheck disable=SC2086
run w6 "$B" outage --spool "$tmp/spool-w6" --dir "$tmp/spool-w6-raw" \
  --url "$url" --rate "$OUTAGE_RATE" --seconds "$OUTAGE_S" --prefix w6 $BACKOFF
rm -rf "$tmp/spool-w6" "$tmp/spool-w6-raw"

# --- T: the tail with a large backlog, against an empty spool -------------
# The backlog: real segments, the first one's records repeated (fill
# --repeat: fast; they are not delivered, the spool is removed after).
need_kb=$((TAIL_QUEUED / 1000 * 300 / 1024 + 1024))
free_kb=$(df -Pk "$tmp" | awk 'NR == 2 { print $4 }')
if [ "$free_kb" -lt $((need_kb * 2)) ]; then
  say "bench: BENCH_TAIL_QUEUED=$TAIL_QUEUED needs about $((need_kb / 1024)) MB in $base (twice that free), $((free_kb / 1024)) MB free: set a smaller BENCH_TAIL_QUEUED"
  exit 1
fi
run tfill "$B" fill --spool "$tmp/spool-tail" --count "$TAIL_QUEUED" --repeat 1 --prefix tq
run tail "$B" tail --spool "$tmp/spool-tail" --spool2 "$tmp/spool-tail-empty" \
  --count "$TAIL_N" --spool-max-bytes 1099511627776 --prefix tail
rm -rf "$tmp/spool-tail" "$tmp/spool-tail-empty"

echo "load after:  $(cut -d' ' -f1-3 /proc/loadavg)" >>"$tmp/machine"
say "$(tail -n 1 "$tmp/machine")"

# --- The table ----------------------------------------------------------
table=$tmp/table
render_table "$results" >"$table" && status=0 || status=$?

# Where the sender's memory is (its /proc/self/smaps after the large drain).
awk '
/^[0-9a-f]+-[0-9a-f]+ / { name = NF >= 6 ? $6 : "[anonymous]"; next }
/^Rss:/ { rss[name] += $2; total += $2 }
/^Anonymous:/ { anon += $2 }
END {
  printf "sender RSS after the large drain: %.1f MB, of which %.1f MB anonymous (heap, stacks, written library data)\n", total * 1024 / 1e6, anon * 1024 / 1e6
  printf "resident by mapping (top 10):"
  for (i = 0; i < 10; i++) {
    best = ""; b = -1
    for (k in rss) if (rss[k] > b) { b = rss[k]; best = k }
    if (b < 0) break
    n = split(best, parts, "/"); printf " %s %.2f;", parts[n], b * 1024 / 1e6
    delete rss[best]
  }
  print ""
}' "$tmp/w4l.smaps" >"$tmp/smaps.summary" 2>/dev/null || : >"$tmp/smaps.summary"

{
  echo
  cat "$tmp/machine"
  echo
  cat "$table"
  echo
  cat "$tmp/smaps.summary"
} | tee "$tmp/report"
if [ -n "${BENCH_RESULTS:-}" ]; then
  { cat "$tmp/report"; echo; echo "raw figures:"; cat "$results"; } >"$BENCH_RESULTS"
fi
exit "$status"
