#!/bin/sh
# Regenerates cashback_arginfo.h from cashback.stub.php with PHP's own
# gen_stub.php (php-dev) and the PHP-Parser it needs (Debian: php-parser),
# without downloading anything.
#   gen_arginfo.sh [OUTDIR]   writes OUTDIR/cashback_arginfo.h (default: here)
# The output is committed as generated: never edit or clang-format it
# (tests/scripts/php.sh compares it with a fresh run).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
out=${1:-$here}
php=${PHP:-php}
gen=$("${PHP_CONFIG:-php-config}" --extension-dir | sed 's,/[^/]*$,,')
gen_stub=""
for f in "$gen"/*/build/gen_stub.php "$(dirname "$(dirname "$(command -v phpize)")")"/lib/php/*/build/gen_stub.php; do
  [ -f "$f" ] && gen_stub=$f && break
done
[ -n "$gen_stub" ] || { echo "gen_arginfo: gen_stub.php not found (php-dev)" >&2; exit 77; }
[ -f /usr/share/php/PhpParser/Parser.php ] || { echo "gen_arginfo: PHP-Parser not found (php-parser)" >&2; exit 77; }
version=$(sed -n 's/^ *\$version = "\([0-9.]*\)";/\1/p' "$gen_stub" | head -n 1)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT INT TERM
cp "$gen_stub" "$work/gen_stub.php"
mkdir "$work/PHP-Parser-$version"
ln -s /usr/share/php "$work/PHP-Parser-$version/lib"
cp "$here/cashback.stub.php" "$work/"
"$php" -n -d extension=tokenizer "$work/gen_stub.php" -f "$work/cashback.stub.php" >/dev/null 2>"$work/err" ||
  "$php" "$work/gen_stub.php" -f "$work/cashback.stub.php" >/dev/null 2>"$work/err" ||
  { cat "$work/err" >&2; exit 1; }
cp "$work/cashback_arginfo.h" "$out/cashback_arginfo.h"
