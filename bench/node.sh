#!/bin/sh
# `make bench` (and `make bench-node`): the Node.js package's event-loop
# delay during a burst of sales, bench/node_bench.js, with a spool in a
# scratch directory (on TMPDIR's file system: its fdatasync is what is
# measured). NODE_BENCH_N sales per case (default 1000). 77: the addon was
# not built or there is no node.
set -eu
: "${top_srcdir:?}" "${top_builddir:?}"
[ "${BUILD_NODE:-no}" = yes ] || { echo "bench/node.sh: the Node.js addon was not built, skipped"; exit 77; }
command -v node >/dev/null 2>&1 || { echo "bench/node.sh: no node, skipped"; exit 77; }
unset CASHBACK_CONFIG CASHBACK_CONNECTION
for v in $(env | sed -n 's/^\(CASHBACK_[A-Z_]*\)=.*/\1/p'); do unset "$v"; done
NODE_CASHBACK_ADDON=$top_builddir/plugins/node/build/Release/cashback.node
LD_LIBRARY_PATH=$top_builddir/.libs${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
export NODE_CASHBACK_ADDON LD_LIBRARY_PATH
work=$(mktemp -d "${TMPDIR:-/tmp}/cashback-node-bench.XXXXXX")
trap 'rm -rf "$work"' EXIT
trap 'exit 1' INT TERM HUP
cat >"$work/cashback.conf" <<EOC
merchant_id = node-bench
key_id = k1
secret = node-bench-secret-0123456789abcdef
endpoint = http://127.0.0.1:1/v1/events
spool_dir = $work/spool
EOC
chmod 0600 "$work/cashback.conf"
echo "Node.js event-loop delay during a burst of sales (Node $(node --version), UV_THREADPOOL_SIZE=${UV_THREADPOOL_SIZE:-4}, spool on $(df -P "$work" | awk 'NR==2 {print $1}'))"
timeout 600 node "$top_srcdir/bench/node_bench.js" "$work/cashback.conf" "${NODE_BENCH_N:-1000}"
