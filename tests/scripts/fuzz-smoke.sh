#!/bin/sh
# A short run of every fuzz target, as part of `make check` (skipped without
# a clang that can build libFuzzer targets). `make fuzz` runs them longer.
FUZZ_SECONDS=${FUZZ_SMOKE_SECONDS:-4}
export FUZZ_SECONDS
# The targets come from FUZZ_TARGETS in Makefile.am.
: "${FUZZ_TARGETS:?}"
# shellcheck disable=SC2086
exec sh "$top_srcdir/tests/fuzz/run.sh" $FUZZ_TARGETS
