#!/bin/sh
# Recomputes the test vectors of docs/protocol.md with Python's hmac and
# hashlib (tests/scripts/vectors.py), and the event ids with the SDK too.
# Skipped (77) without python3.
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${PYTHON3:=python3}"
if ! command -v "$PYTHON3" >/dev/null 2>&1 ||
    ! "$PYTHON3" -c 'import hmac, hashlib' >/dev/null 2>&1; then
  echo "vectors: no usable python3 ($PYTHON3), skipped"
  exit 77
fi
# The event-id examples are also derived by the SDK, through the CLI, when
# it is built (it is, in `make check`).
: "${top_builddir:=$(pwd)}"
cli="$top_builddir/plugins/cli/cashback"
if [ -x "$cli" ]; then
  exec "$PYTHON3" "$top_srcdir/tests/scripts/vectors.py" --sdk-cli "$cli" \
    "$top_srcdir/docs/protocol.md"
fi
echo "vectors: $cli not built: event ids checked with Python only"
exec "$PYTHON3" "$top_srcdir/tests/scripts/vectors.py" \
  "$top_srcdir/docs/protocol.md"
