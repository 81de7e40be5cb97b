#!/bin/sh
# A short run of every fuzz target, as part of `make check` (skipped without
# a clang that can build libFuzzer targets). `make fuzz` runs them longer.
FUZZ_SECONDS=${FUZZ_SMOKE_SECONDS:-4}
export FUZZ_SECONDS
exec sh "$top_srcdir/tests/fuzz/run.sh" query cookie sig config money response time batch csv import record
