#!/bin/sh
# Reliability scenario 6, ENOSPC: the spool on a 256 KiB tmpfs. Needs root
# (mount); skipped (77) with a message when the mount is not possible.
set -eu
: "${top_srcdir:?}" "${top_builddir:?}"
PYTHON3=${PYTHON3:-python3}
command -v "$PYTHON3" >/dev/null 2>&1 || { echo "reliability-enospc: no python3, skipped"; exit 77; }
exec "$PYTHON3" "$top_srcdir/tests/reliability/reliability.py" --scenarios enospc
