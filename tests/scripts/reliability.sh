#!/bin/sh
# The reliability tests of the spool and the sender (docs/reliability.md):
# kill -9, concurrent writers, network faults, damaged spool files, fsync
# failures, a simulated power cut, causal order across writer processes and
# read errors, each against the in-tree receiver on
# 127.0.0.1. Bounded in rounds and seconds; RELIABILITY_* variables make
# them longer (see tests/reliability/reliability.py --help).
set -eu
: "${top_srcdir:?}" "${top_builddir:?}"
PYTHON3=${PYTHON3:-python3}
command -v "$PYTHON3" >/dev/null 2>&1 || { echo "reliability: no python3, skipped"; exit 77; }
exec "$PYTHON3" "$top_srcdir/tests/reliability/reliability.py" \
  --scenarios "${RELIABILITY_SCENARIOS:-kill,ack,concurrent,newsegment,fleet,faults,damage,spoolfull,fsync,powercut,causal,readerror}"
