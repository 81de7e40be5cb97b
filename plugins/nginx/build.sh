#!/bin/sh
# Builds ngx_http_cashback_module.so against Debian's nginx-dev, Debian's
# own recipe for third-party modules (/usr/share/nginx/src, conf_flags:
# --with-compat, the flags /usr/sbin/nginx was built with), out of the
# nginx tree: nginx's configure runs in OUT through links to the tree, so
# nothing is written into /usr/share/nginx/src. Compiled as Debian compiles
# /usr/sbin/nginx (-O2, stack protector, stack clash protection, _FORTIFY_SOURCE, relro, now:
# tests/scripts/hardening.sh checks the installed module), with
# nginx's own warnings as errors plus -Wextra.
#   build.sh NGINX_SRC MODULE_DIR OUT INCLUDE_DIR LIB_DIR RPATH
set -eu
src=$1 mod=$2 out=$3 inc=$4 lib=$5 rpath=$6
tree=$out/nginx-tree
mkdir -p "$tree"
for f in auto src configure conf_flags; do
  [ -e "$tree/$f" ] || ln -s "$src/$f" "$tree/$f"
done
# configure again only when the module's config file or this script changed.
if [ ! -f "$tree/objs/Makefile" ] || [ "$mod/config" -nt "$tree/objs/Makefile" ] ||
   [ "$mod/build.sh" -nt "$tree/objs/Makefile" ]; then
  CASHBACK_NGX_INCS=$inc
  CASHBACK_NGX_LIBS="-L$lib -lcashback -Wl,-rpath,$rpath"
  export CASHBACK_NGX_INCS CASHBACK_NGX_LIBS
  (cd "$tree" && bash -c '. ./conf_flags && exec ./configure \
      --with-cc-opt="-O2 -fPIC -fstack-protector-strong -fstack-clash-protection -D_FORTIFY_SOURCE=2 -Wformat -Werror=format-security -Wextra -Wno-unused-parameter" \
      --with-ld-opt="-fPIC -Wl,-z,relro -Wl,-z,now" "${NGX_CONF_FLAGS[@]}" --add-dynamic-module="$0" \
      --builddir=objs' "$mod") >"$out/nginx-configure.log" 2>&1 || {
    tail -20 "$out/nginx-configure.log" >&2
    echo "nginx: configure failed, see $out/nginx-configure.log" >&2
    exit 1
  }
fi
make -s -C "$tree" -f objs/Makefile modules
cp "$tree/objs/ngx_http_cashback_module.so" "$out/ngx_http_cashback_module.so.tmp"
mv "$out/ngx_http_cashback_module.so.tmp" "$out/ngx_http_cashback_module.so"
