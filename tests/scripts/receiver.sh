#!/bin/sh
# Self-test of the in-tree test receiver (tests/receiver/receiver.py), which
# the reliability tests and the demo run as the network on 127.0.0.1.
set -eu
: "${top_srcdir:?}"
PYTHON3=${PYTHON3:-python3}
command -v "$PYTHON3" >/dev/null 2>&1 || { echo "receiver: no python3, skipped"; exit 77; }
exec "$PYTHON3" "$top_srcdir/tests/receiver/test_receiver.py"
