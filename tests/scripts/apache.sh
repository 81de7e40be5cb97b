#!/bin/sh
# mod_cashback (plugins/apache) in a real Apache httpd: /usr/sbin/apache2
# with a generated self-contained configuration on 127.0.0.1, under the
# prefork, the event and the worker MPM, with a CGI shop, a proxied
# python3 backend and a PHP shop under php-fpm (proxy_fcgi), against
# cashback-sandbox (tests/scripts/apache_e2e.py says what is checked), and
# smoke-runs bench/apache.sh. Skips (77) only when
# Apache or the module is not there: configure builds the module when
# apxs is found, and bootstrap installs apache2, apache2-dev and
# php8.2-fpm (without php-fpm, only the PHP checks are skipped).
set -eu
: "${top_srcdir:?}" "${top_builddir:?}"
PYTHON3=${PYTHON3:-python3}
APACHE2=${APACHE2:-/usr/sbin/apache2}
if [ "${BUILD_APACHE:-yes}" = no ]; then
  echo "apache: SKIP: mod_cashback is not built (configure: no apxs, Debian: apache2-dev; or --without-apache)"
  exit 77
fi
[ -x "$APACHE2" ] || { echo "apache: SKIP: no $APACHE2 (Debian: apache2)"; exit 77; }
if [ "${BUILD_SANDBOX:-yes}" = no ]; then
  echo "apache: SKIP: cashback-sandbox is not built (configure: no libmicrohttpd or sqlite3)"
  exit 77
fi
module=$top_builddir/plugins/apache/.libs/mod_cashback.so
sandbox=$top_builddir/plugins/sandbox/cashback-sandbox
[ -f "$module" ] || { echo "apache: FAIL: $module is not built" >&2; exit 1; }
[ -x "$sandbox" ] || { echo "apache: FAIL: $sandbox is not built" >&2; exit 1; }
moddir=$(apxs -q LIBEXECDIR 2>/dev/null || echo /usr/lib/apache2/modules)
for m in mpm_prefork mpm_event mpm_worker authz_core alias cgi proxy proxy_http include; do
  [ -f "$moddir/mod_$m.so" ] || { echo "apache: SKIP: no $moddir/mod_$m.so"; exit 77; }
done
work=$(mktemp -d "${TMPDIR:-/tmp}/cashback-apache.XXXXXX")
trap 'rm -rf "$work"' EXIT
trap 'exit 1' INT TERM HUP
unset CASHBACK_CONFIG CASHBACK_CONNECTION
for v in $(env | sed -n 's/^\(CASHBACK_[A-Z_]*\)=.*/\1/p'); do unset "$v"; done
# `cashback send --watch`, run as Apache's User: the binary, not libtool's
# wrapper script.
TEST_CASHBACK_CLI=$top_builddir/plugins/cli/.libs/cashback
[ -x "$TEST_CASHBACK_CLI" ] || TEST_CASHBACK_CLI=$top_builddir/plugins/cli/cashback
[ -x "$TEST_CASHBACK_CLI" ] || { echo "apache: FAIL: the cashback command is not built" >&2; exit 1; }
export TEST_CASHBACK_CLI
LD_LIBRARY_PATH=$top_builddir/.libs${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
export LD_LIBRARY_PATH
# Bounded as a whole, whatever hangs.
timeout -k 5 120 "$PYTHON3" "$top_srcdir/tests/scripts/apache_e2e.py" \
  "$work" "$module" "$sandbox" "$APACHE2" "$moddir" prefork event worker
# The module's benchmark (bench/apache.sh, `make bench`) with tiny counts,
# so that it cannot rot: when its receiver is built (make bench, or
# bench-smoke.sh's prerequisites in make check).
if [ -x "$top_builddir/bench/fast_receiver" ]; then
  BENCH_SMOKE=1 BENCH_DIR=$work timeout -k 5 60 sh \
    "$top_srcdir/bench/apache.sh" >"$work/bench.out" 2>&1 ||
    { cat "$work/bench.out"; echo "apache: FAIL: bench/apache.sh (smoke)"; exit 1; }
  grep 'delivered of reported' "$work/bench.out"
  echo "ok - bench/apache.sh runs (smoke: 20 requests per kind and server)"
else
  echo "apache: note: bench/fast_receiver is not built: bench/apache.sh not smoke-run"
fi
