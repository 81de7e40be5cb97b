#!/bin/sh
# The library and the CLI need only libcurl, cJSON and mbedTLS (and libc):
# libmicrohttpd and SQLite are the sandbox's alone (configure --with-sandbox),
# so neither is among the ELF NEEDED entries of libcashback.so or cashback.
set -eu
: "${top_builddir:?}"
command -v readelf >/dev/null 2>&1 || { echo "deps: SKIP: no readelf"; exit 77; }
fail=0
for f in "$top_builddir/.libs/libcashback.so" "$top_builddir/plugins/cli/.libs/cashback"; do
  [ -f "$f" ] || f=${f%/.libs/*}/${f##*/}
  [ -f "$f" ] || { echo "deps: FAIL: $f is not built"; fail=1; continue; }
  needed=$(readelf -d "$f" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p')
  bad=$(echo "$needed" | grep -i 'microhttpd\|sqlite' || true)
  if [ -n "$bad" ]; then
    echo "deps: FAIL: $f needs $bad (only the sandbox may)"; fail=1
  else
    echo "deps: $f needs only: $(echo $needed)"
  fi
done
exit $fail
