#!/bin/sh
# The Python package (plugins/python): the extension cashback._native as
# `make` built it against THIS build tree's libcashback, with the package's
# Python files, imported by Debian's /usr/bin/python3 (PYTHON_EXT); then
# tests/scripts/python_test.py under `python3 -m unittest`: every function
# and error path, a fork, the GIL released during a flush, and one sale end
# to end against the test receiver on 127.0.0.1 (tests/receiver/receiver.py
# checks its signature). Bounded: the unittest run by `timeout 240`.
# Skips (77) when the package was not built (no python3-dev).
set -eu
: "${top_srcdir:?}" "${top_builddir:?}"
PY=${PYTHON_EXT:-/usr/bin/python3}
if [ "${BUILD_PYTHON:-no}" != yes ]; then
  echo "python: the Python package was not built (configure found no Python.h for $PY; Debian: python3-dev), skipped"
  exit 77
fi
so=$top_builddir/plugins/python/cashback/.libs/_native.so
[ -f "$so" ] || { echo "python: $so not built" >&2; exit 1; }

work=$(mktemp -d "${TMPDIR:-/tmp}/cashback-python.XXXXXX")
pids=""
cleanup() {
  for p in $pids; do kill "$p" 2>/dev/null || :; done
  for p in $pids; do wait "$p" 2>/dev/null || :; done
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP
fail() { echo "python: $*" >&2; exit 1; }
for v in $(env | sed -n 's/^\(CASHBACK_[A-Za-z0-9_]*\)=.*/\1/p'); do unset "$v"; done

# The package as it is installed: the Python files and the extension.
mkdir -p "$work/site/cashback"
cp "$top_srcdir"/plugins/python/cashback/*.py "$top_srcdir/plugins/python/cashback/py.typed" \
  "$work/site/cashback/"
cp "$so" "$work/site/cashback/_native.so"
LD_LIBRARY_PATH=$top_builddir/.libs${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
PYTHONPATH=$work/site:$top_srcdir/tests/scripts
export LD_LIBRARY_PATH PYTHONPATH
"$PY" -c 'import cashback, sys; sys.exit(0 if cashback._native.__file__.startswith(sys.argv[1]) else 1)' \
  "$work/site" || fail "$PY does not import the built cashback package"

# The test network.
key_id=py-test
secret=py-test-secret-0123456789abcdef
"$PY" "$top_srcdir/tests/receiver/receiver.py" --port 0 \
  --port-file "$work/receiver.port" --keys "$key_id:$secret" \
  --store "$work/store.jsonl" --log "$work/receiver.log" --max-seconds 300 \
  >"$work/receiver.out" 2>&1 &
pids="$pids $!"
i=0
while [ ! -s "$work/receiver.port" ]; do
  i=$((i + 1)); [ $i -le 100 ] || { cat "$work/receiver.out"; fail "receiver did not start"; }
  sleep 0.1
done
: >>"$work/store.jsonl"
mkdir "$work/scratch"
rc=0
(cd "$work" && CB_TEST_RECEIVER="http://127.0.0.1:$(cat "$work/receiver.port")" \
  CB_TEST_STORE=$work/store.jsonl CB_TEST_KEY_ID=$key_id CB_TEST_SECRET=$secret \
  CB_TEST_WORK=$work/scratch \
  timeout 240 "$PY" -m unittest -v python_test) >"$work/unittest.log" 2>&1 ||
  rc=$?
cat "$work/unittest.log"
[ "$rc" = 0 ] || { tail -n 20 "$work/receiver.log" 2>/dev/null || :; fail "unittest failed (exit $rc)"; }
ran=$(sed -n 's/^Ran \([0-9]*\) tests* in.*/\1/p' "$work/unittest.log")
[ "${ran:-0}" -gt 0 ] || fail "unittest ran no test"
grep -q 'skipped' "$work/unittest.log" && fail "some tests were skipped"
echo "python: $ran tests passed"
