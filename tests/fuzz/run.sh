#!/bin/sh
# Builds the libFuzzer targets with clang and runs each for FUZZ_SECONDS.
# Usage: run.sh target...   (targets: tests/fuzz/fuzz_<target>.c)
# Exit 77 (skipped) when clang cannot build with -fsanitize=fuzzer.
set -eu
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
: "${CLANG:=clang}"
: "${FUZZ_SECONDS:=60}"
[ "$#" -gt 0 ] || { echo "usage: $0 target..." >&2; exit 2; }
command -v "$CLANG" >/dev/null 2>&1 || { echo "fuzz: no clang, skipped"; exit 77; }

out="$top_builddir/fuzz-build"
mkdir -p "$out"
flags="-g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all"
deps_c=$(pkg-config --cflags libcurl libcjson)
deps_l="$(pkg-config --libs libcurl libcjson) -lmbedcrypto -lpthread"
if ! echo 'int LLVMFuzzerTestOneInput(const unsigned char *d, unsigned long n){(void)d;(void)n;return 0;}' \
    > "$out/probe.c" || ! $CLANG $flags "$out/probe.c" -o "$out/probe" 2>/dev/null; then
  echo "fuzz: $CLANG cannot build libFuzzer targets, skipped"; exit 77
fi

# The SDK once, as objects shared by every target.
objs=""
for src in "$top_srcdir"/sdk/*.c; do
  o="$out/$(basename "$src" .c).o"
  if [ ! -f "$o" ] || [ "$src" -nt "$o" ] || [ -n "$(find "$top_srcdir/sdk" "$top_srcdir/include" -name '*.h' -newer "$o")" ]; then
    # A tiny segment-reader buffer: the record fuzzer reaches every refill.
    $CLANG $flags -std=c11 -D_GNU_SOURCE -DCASHBACK__READER_BUF=64 -I"$top_srcdir/include" -I"$top_srcdir/sdk" $deps_c -c "$src" -o "$o"
  fi
  objs="$objs $o"
done

status=0
for t in "$@"; do
  src="$top_srcdir/tests/fuzz/fuzz_$t.c"
  bin="$out/fuzz_$t"
  $CLANG $flags -std=c11 -D_GNU_SOURCE -I"$top_srcdir/include" -I"$top_srcdir/sdk" $deps_c \
    "$src" $objs $deps_l -o "$bin"
  work="$out/corpus-$t"
  mkdir -p "$work"
  echo "fuzz: $t for ${FUZZ_SECONDS}s"
  if ! "$bin" -max_total_time="$FUZZ_SECONDS" -timeout=10 -rss_limit_mb=1024 \
      -print_final_stats=1 -artifact_prefix="$out/crash-$t-" \
      "$work" "$top_srcdir/tests/fuzz/corpus/$t" > "$out/$t.log" 2>&1; then
    echo "fuzz: $t FAILED; see $out/$t.log"; tail -n 40 "$out/$t.log"; status=1
  else
    grep -E '^stat::number_of_executed_units|^stat::peak_rss_mb' "$out/$t.log" | sed "s/^/fuzz: $t: /"
  fi
done
exit $status
