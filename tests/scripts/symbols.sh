#!/bin/sh
# Every symbol the shared library exports starts with cashback_ (and not
# cashback__, which is internal), and every public function is exported.
set -eu
: "${top_srcdir:?}" "${top_builddir:?}"
lib="$top_builddir/.libs/libcashback.so"
[ -f "$lib" ] || { echo "symbols: $lib not built"; exit 1; }
exported=$(nm -D --defined-only "$lib" | awk '$2 ~ /^[TDBRVW]$/ {print $3}' | sed 's/@.*//' | sort -u)
bad=$(echo "$exported" | grep -v '^cashback_[a-z]' || true)
if [ -n "$bad" ]; then
  echo "symbols: exported without the cashback_ prefix (or internal):"; echo "$bad"; exit 1
fi
declared=$(grep -ohE '\bcashback_[a-z0-9_]+ *\(' "$top_srcdir/include/cashback.h" | tr -d ' (' | sort -u)
status=0
for f in $declared; do
  echo "$exported" | grep -qx "$f" || { echo "symbols: $f is declared but not exported"; status=1; }
done
for f in $exported; do
  echo "$declared" | grep -qx "$f" || { echo "symbols: $f is exported but not in include/cashback.h"; status=1; }
done
[ $status = 0 ] && echo "symbols: $(echo "$exported" | wc -l) exported, all cashback_*, all declared"
exit $status
