#!/bin/sh
# The nginx module (plugins/nginx) in a real nginx: /usr/sbin/nginx with a
# generated self-contained configuration on 127.0.0.1 (two workers), a
# proxied python3 backend and a PHP shop under php-fpm (FastCGI), against
# cashback-sandbox (tests/scripts/nginx_e2e.py says what is checked).
# Skips (77) only when nginx or the module is not there: configure builds
# the module when nginx-dev is found, and bootstrap installs nginx and
# nginx-dev (without php-fpm, only the PHP checks are skipped).
set -eu
: "${top_srcdir:?}" "${top_builddir:?}"
PYTHON3=${PYTHON3:-python3}
NGINX=${NGINX:-/usr/sbin/nginx}
if [ "${BUILD_NGINX:-yes}" = no ]; then
  echo "nginx: SKIP: the nginx module is not built (configure: no nginx-dev, or --without-nginx)"
  exit 77
fi
[ -x "$NGINX" ] || { echo "nginx: SKIP: no $NGINX (Debian: nginx)"; exit 77; }
if [ "${BUILD_SANDBOX:-yes}" = no ]; then
  echo "nginx: SKIP: cashback-sandbox is not built (configure: no libmicrohttpd or sqlite3)"
  exit 77
fi
top_builddir=$(cd "$top_builddir" && pwd)
module=$top_builddir/plugins/nginx/ngx_http_cashback_module.so
sandbox=$top_builddir/plugins/sandbox/cashback-sandbox
[ -f "$module" ] || { echo "nginx: FAIL: $module is not built" >&2; exit 1; }
[ -x "$sandbox" ] || { echo "nginx: FAIL: $sandbox is not built" >&2; exit 1; }
work=$(mktemp -d "${TMPDIR:-/tmp}/cashback-nginx.XXXXXX")
trap 'rm -rf "$work"' EXIT
trap 'exit 1' INT TERM HUP
unset CASHBACK_CONFIG CASHBACK_CONNECTION
for v in $(env | sed -n 's/^\(CASHBACK_[A-Z_]*\)=.*/\1/p'); do unset "$v"; done
# The master loads the module (and libcashback) before its workers fork.
LD_LIBRARY_PATH=$top_builddir/.libs${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
export LD_LIBRARY_PATH
# Bounded as a whole, whatever hangs.
exec timeout -k 5 100 "$PYTHON3" "$top_srcdir/tests/scripts/nginx_e2e.py" \
  "$work" "$module" "$sandbox" "$NGINX"
