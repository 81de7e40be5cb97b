# Sourced by tests/scripts/php.sh and php-servers.sh: builds the PHP
# extension (plugins/php) with phpize in $work/ext against THIS build tree's
# libcashback and header (an uninstalled .pc file), with the project's
# warnings as errors. Needs $work, $top_srcdir, $top_builddir, $libdir and
# the caller's fail(); defines show(), unsets the caller's CASHBACK_*
# variables (the tests configure the extension themselves), sets $ext (the
# built cashback.so) and exports LD_LIBRARY_PATH with $libdir first.
unset CASHBACK_CONFIG CASHBACK_CONNECTION
for v in $(env | sed -n 's/^\(CASHBACK_[A-Z_]*\)=.*/\1/p'); do unset "$v"; done
# The extension's own make must not inherit the outer make's variables
# (TESTS=..., -j), which GNU make also exports: it is another project.
unset MAKEFLAGS MFLAGS MAKELEVEL MAKEOVERRIDES TESTS || :
show() { echo "--- $1"; tail -n "${2:-40}" "$1"; }

cp -R "$top_srcdir/plugins/php" "$work/ext"
chmod -R u+w "$work/ext"
mkdir "$work/pc" "$work/tmp"
cat >"$work/pc/libcashback.pc" <<EOF
Name: libcashback
Description: libcashback of the build tree $top_builddir (uninstalled)
Version: 0.2.0
Libs: -L$libdir -lcashback
Cflags: -I$top_srcdir/include
EOF
WARN="-std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wformat=2 -Wvla"
(
  cd "$work/ext"
  phpize >"$work/phpize.log" 2>&1 || { show "$work/phpize.log"; exit 1; }
  PKG_CONFIG_PATH=$work/pc ./configure >"$work/configure.log" 2>&1 ||
    { show "$work/configure.log"; exit 1; }
  make EXTRA_CFLAGS="$WARN" >"$work/make.log" 2>&1 || { show "$work/make.log"; exit 1; }
) || fail "the extension does not build"
ext=$work/ext/modules/cashback.so
[ -f "$ext" ] || fail "no $ext"
echo "php: built $(php -n -d extension="$ext" -r 'echo "cashback ", phpversion("cashback"), " for PHP ", PHP_VERSION;') against $libdir"
LD_LIBRARY_PATH=$libdir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
export LD_LIBRARY_PATH
