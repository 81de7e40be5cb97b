#!/bin/sh
# The Python package (plugins/python): the extension cashback._native as
# `make` built it against THIS build tree's libcashback, with the package's
# Python files, imported by Debian's /usr/bin/python3 (PYTHON_EXT); then
# tests/scripts/python_test.py under `python3 -m unittest`: every function
# and error path, a fork, the GIL released during a flush, and one sale end
# to end against the test receiver on 127.0.0.1 (tests/receiver/receiver.py
# checks its signature), the sample shops of samples/python under gunicorn
# (tests/scripts/python_shops.py), the pip install. Bounded: each step under
# `timeout`.
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
# Only the Django and Flask tests may skip, when Debian's package is missing.
for m in django flask; do
  "$PY" -c "import $m" 2>/dev/null ||
    echo "python: python3-$m is not installed (Debian): its tests are skipped"
done
grep 'skipped' "$work/unittest.log" |
  grep -v -e "skipped 'python3-[a-z]* is not installed (Debian)'" -e '^OK (skipped=[0-9]*)$' &&
  fail "some tests were skipped"
echo "python: $ran tests passed"

# --- the sample shops (samples/python) under gunicorn ------------------------
# Each WSGI shop served by Debian's gunicorn with 2 workers, then again with
# --preload (the app, and its cashback client, made in the master before the
# fork), the Starlette shop by uvicorn with 2 workers, on 127.0.0.1; tests/scripts/python_shops.py runs 12 journeys from 4
# threads (landing, checkout, paid, thank-you reload, refund), flushes and
# checks every sale and refund at the receiver exactly once. A shop whose
# framework (or gunicorn) is missing is skipped with a note.
shop_conf=$work/shop.conf
printf 'merchant_id = py-shop\nkey_id = %s\nsecret = %s\nendpoint = http://127.0.0.1:%s/v1/events\nspool_dir = %s\nrequest_timeout = 10s\n' \
  "$key_id" "$secret" "$(cat "$work/receiver.port")" "$work/shop-spool" >"$shop_conf"
chmod 600 "$shop_conf"
# in_shop NAME COMMAND...: COMMAND run in samples/python in the background
# ($gpid), the package and the shops on its path, the shop's settings set.
in_shop() {
  name=$1; shift
  (cd "$top_srcdir/samples/python" && PYTHONDONTWRITEBYTECODE=1 \
    PYTHONPATH=$work/site:$top_srcdir/samples/python CASHBACK_CONFIG=$shop_conf \
    SHOP_DB=$work/shop-$name.sqlite3 DJANGO_SETTINGS_MODULE=django_shop.settings \
    exec timeout 90 "$@") >"$work/server-$name.out" 2>&1 &
  gpid=$!
  pids="$pids $gpid"
}
# ready NAME LOG PORT-SED WORKER-PATTERN: waits for the port and 2 workers.
ready() {
  i=0
  until port=$(sed -n "$3" "$2" 2>/dev/null | head -n 1) && [ -n "$port" ] &&
        [ "$(grep -c "$4" "$2")" -ge 2 ]; do
    i=$((i + 1))
    [ $i -le 200 ] || { cat "$2"; fail "$1: the server did not start"; }
    sleep 0.1
  done
}
# journeys NAME MODE: python_shops.py against $port (MODE: a count or load:S).
journeys() {
  CB_TEST_RECEIVER="http://127.0.0.1:$(cat "$work/receiver.port")" CB_TEST_STORE=$work/store.jsonl \
    timeout 90 "$PY" "$top_srcdir/tests/scripts/python_shops.py" "http://127.0.0.1:$port" \
    "$shop_conf" "${CB_TEST_RUN:-}shop-$1-$$" "$2" >"$work/shop-$1.out" 2>&1
}
shop_failed() {
  cat "$work/shop-$1.out"; tail -n 30 "$work/server-$1.out"
  fail "$1: the shop's orders did not arrive exactly once"
}
# drive NAME WHAT: the journeys against $port, then the server stopped.
drive() {
  journeys "$1" 12 || shop_failed "$1"
  kill -TERM "$gpid"
  wait "$gpid" 2>/dev/null || :
  echo "python: $1 under $2: $(cat "$work/shop-$1.out")"
}
have() { # have NAME MODULES: or a note
  "$PY" -c "import $2" 2>/dev/null && return 0
  echo "python: $1: one of $2 is not installed (Debian: python3-<name>, gunicorn): not served"
  return 1
}
serve() { # serve NAME FRAMEWORK APP [GUNICORN OPTION]
  have "$1" "$2, gunicorn" || return 0
  in_shop "$1" "$PY" -m gunicorn -w 2 ${4:-} -b 127.0.0.1:0 "$3"
  ready "$1" "$work/server-$1.out" 's/.*Listening at: http:\/\/127\.0\.0\.1:\([0-9]*\).*/\1/p' 'Booting worker'
  drive "$1" "gunicorn -w 2 ${4:-}"
}
serve flask flask flask_shop.app:app
serve flask-preload flask flask_shop.app:app --preload
serve django django django_shop.wsgi
serve django-preload django django_shop.wsgi --preload
# kill -9 of gunicorn workers under a short load (--preload: each new worker
# forks from the master holding the import-time client): 4 s of journeys
# from 4 threads, a worker killed every second (gunicorn starts another);
# every order whose thank-you page answered 200 arrives exactly once, and no
# order twice.
if have kill9 "flask, gunicorn"; then
  in_shop kill9 "$PY" -m gunicorn -w 2 --preload -b 127.0.0.1:0 flask_shop.app:app
  ready kill9 "$work/server-kill9.out" 's/.*Listening at: http:\/\/127\.0\.0\.1:\([0-9]*\).*/\1/p' 'Booting worker'
  journeys kill9 load:4 &
  lpid=$!
  pids="$pids $lpid"
  killed=0
  for t in 1 2 3; do
    sleep 1
    master=$(ps -o pid= --ppid "$gpid" | tr -d " " | head -n 1)
    w=$(ps -o pid= --ppid "${master:-0}" | tr -d " " | head -n 1)
    if [ -n "$w" ] && kill -9 $w 2>/dev/null; then killed=$((killed + 1)); fi
  done
  wait "$lpid" || shop_failed kill9
  [ "$killed" -ge 2 ] || fail "kill9: only $killed workers were killed"
  respawned=$(grep -c 'Booting worker' "$work/server-kill9.out")
  kill -TERM "$gpid"
  wait "$gpid" 2>/dev/null || :
  echo "python: kill -9 of $killed gunicorn --preload workers under load ($respawned workers booted): $(cat "$work/shop-kill9.out")"
fi
# The Starlette shop under uvicorn, 2 worker processes (uvicorn spawns them:
# it binds the port first, so the port is picked here).
if have starlette "starlette, uvicorn"; then
  port=$("$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  in_shop starlette "$PY" -m uvicorn --workers 2 --host 127.0.0.1 --port "$port" \
    --no-access-log starlette_shop.app:app
  ready starlette "$work/server-starlette.out" "s/.*Uvicorn running on http:\/\/127\.0\.0\.1:\($port\).*/\1/p" \
    'Application startup complete'
  drive starlette "uvicorn --workers 2"
fi
# The Flask shop under uWSGI (Debian uwsgi-core, uwsgi-plugin-python3), 2
# worker processes: without lazy-apps (the default: the app, and its
# cashback client, made in the master before the fork) and with
# --lazy-apps (made in each worker).
uwsgi_shop() { # uwsgi_shop NAME [OPTION]
  if ! command -v uwsgi >/dev/null 2>&1 || [ ! -f /usr/lib/uwsgi/plugins/python3_plugin.so ]; then
    echo "python: $1: uwsgi or its python3 plugin is not installed (Debian: uwsgi-core uwsgi-plugin-python3): not served"
    return 0
  fi
  have "$1" flask || return 0
  port=$("$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  in_shop "$1" uwsgi --plugin python3 --master --processes 2 --die-on-term \
    --need-app --http-socket "127.0.0.1:$port" --module flask_shop.app:app ${2:-}
  ready "$1" "$work/server-$1.out" "s/.*bound to TCP address 127\.0\.0\.1:\($port\).*/\1/p" \
    'spawned uWSGI worker'
  drive "$1" "uwsgi --processes 2 ${2:-}"
}
uwsgi_shop uwsgi
uwsgi_shop uwsgi-lazy --lazy-apps

# --- pip, without the package index (pyproject.toml, setup.py) ----------------
# A --system-site-packages venv (Debian's pip and setuptools), `pip install
# --no-index --no-build-isolation` of a copy of plugins/python (pip builds in
# the tree it is given) against this build tree, then the same tests with the
# venv's interpreter and nothing else on PYTHONPATH.
version=$(sed -n 's/^PACKAGE_VERSION = //p' "$top_builddir/Makefile")
grep -q "^version = \"$version\"$" "$top_srcdir/plugins/python/pyproject.toml" ||
  fail "plugins/python/pyproject.toml's version is not the library's ($version)"
if ! "$PY" -m venv --system-site-packages --without-pip "$work/venv" >"$work/venv.log" 2>&1 ||
   ! "$work/venv/bin/python" -m pip --version >>"$work/venv.log" 2>&1; then
  echo "python: no venv or pip for $PY (Debian: python3-venv python3-pip): the pip install is not checked"
  exit 0
fi
cp -R "$top_srcdir/plugins/python" "$work/pip-src"
rm -f "$work/pip-src/cashback/"*.so
mkdir "$work/scratch-pip"
CASHBACK_INCLUDE_DIR=$top_srcdir/include CASHBACK_LIB_DIR=$top_builddir/.libs \
  PIP_NO_INDEX=1 PIP_DISABLE_PIP_VERSION_CHECK=1 \
  timeout 180 "$work/venv/bin/python" -m pip install --no-index --no-build-isolation \
  "$work/pip-src" >"$work/pip.log" 2>&1 || { cat "$work/pip.log"; fail "pip install failed"; }
rc=0
(cd "$work" && PYTHONPATH=$top_srcdir/tests/scripts \
  CB_TEST_RECEIVER="http://127.0.0.1:$(cat "$work/receiver.port")" \
  CB_TEST_STORE=$work/store.jsonl CB_TEST_KEY_ID=$key_id CB_TEST_SECRET=$secret \
  CB_TEST_WORK=$work/scratch-pip CB_TEST_RUN=pip- \
  timeout 240 "$work/venv/bin/python" -c 'import sys, unittest, cashback
assert cashback._native.__file__.startswith(sys.argv[1]), cashback._native.__file__
sys.argv[1:] = []
unittest.main(module="python_test", verbosity=1)' "$work/venv/") >"$work/pip-unittest.log" 2>&1 || rc=$?
[ "$rc" = 0 ] || { cat "$work/pip-unittest.log"; fail "unittest of the pip-installed package failed (exit $rc)"; }
pran=$(sed -n 's/^Ran \([0-9]*\) tests* in.*/\1/p' "$work/pip-unittest.log")
[ "${pran:-0}" = "$ran" ] || { cat "$work/pip-unittest.log"; fail "the pip-installed package ran ${pran:-0} tests, expected $ran"; }
echo "python: pip install --no-index --no-build-isolation in a venv: $pran tests passed"
