#!/bin/sh
# The PHP extension under real servers (issue 12): a static php-fpm pool
# (Debian php8.2-fpm, driven over FastCGI with cgi-fcgi from libfcgi-bin)
# and Apache prefork with mod_php (libapache2-mod-php8.2), each with its own
# configuration in a temporary directory on 127.0.0.1, the extension built
# as php.sh builds it (tests/scripts/php-build.sh). Each runs the sample
# shop (samples/php) against the test receiver, then a short load with
# kill -9 of workers; tests/scripts/php_servers.py says what is checked.
# Skips (77) when PHP's development files, php-fpm, cgi-fcgi, apache2 or
# mod_php are not installed (bootstrap installs them all).
set -eu
: "${top_srcdir:?}" "${top_builddir:?}"
PYTHON3=${PYTHON3:-python3}
PHP_FPM=${PHP_FPM:-/usr/sbin/php-fpm8.2}
APACHE2=${APACHE2:-/usr/sbin/apache2}
MOD_PHP=${MOD_PHP:-/usr/lib/apache2/modules/libphp8.2.so}
for tool in phpize php-config php cgi-fcgi "$PYTHON3"; do
  command -v "$tool" >/dev/null 2>&1 ||
    { echo "php-servers: $tool not found (Debian: php8.2-dev php8.2-cli libfcgi-bin python3), skipped"; exit 77; }
done
for f in "$PHP_FPM" "$APACHE2" "$MOD_PHP"; do
  [ -e "$f" ] || { echo "php-servers: no $f (Debian: php8.2-fpm apache2 libapache2-mod-php8.2), skipped"; exit 77; }
done
libdir=$top_builddir/.libs
[ -f "$libdir/libcashback.so" ] || { echo "php-servers: $libdir/libcashback.so not built" >&2; exit 1; }

work=$(mktemp -d "${TMPDIR:-/tmp}/cashback-php-servers.XXXXXX")
trap 'rm -rf "$work"' EXIT
trap 'exit 1' INT TERM HUP
fail() { echo "php-servers: $*" >&2; exit 1; }
. "$top_srcdir/tests/scripts/php-build.sh"

moddir=$(apxs -q LIBEXECDIR 2>/dev/null || echo /usr/lib/apache2/modules)
# Bounded as a whole, whatever hangs.
timeout -k 5 150 "$PYTHON3" "$top_srcdir/tests/scripts/php_servers.py" \
  "$work" "$ext" "$top_srcdir" "$PHP_FPM" "$APACHE2" "$moddir" "$MOD_PHP"
