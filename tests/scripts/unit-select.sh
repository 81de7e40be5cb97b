#!/bin/sh
# The unit runner selects one test by name (tests/unit/main.c): --list names
# every test, GROUP/TEST and a bare TEST run exactly that one, GROUP runs its
# group, and an unknown name fails with a message naming it.
set -eu
unit="${top_builddir:-.}/tests/unit/unit"
[ -x "$unit" ] || { echo "SKIP: $unit not built (no Check)"; exit 77; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

"$unit" --list >"$tmp/list" || fail "unit --list exited $?"
n=$(wc -l <"$tmp/list")
[ "$n" -gt 100 ] || fail "unit --list printed only $n tests"
grep -qx 'buf/grows_and_terminates' "$tmp/list" || fail "--list lacks buf/grows_and_terminates"
[ "$(sort "$tmp/list" | uniq -d)" = "" ] || fail "--list has duplicate GROUP/TEST names"

checks() { sed -n 's/.*Checks: \([0-9]*\),.*/\1/p' "$1"; }

"$unit" buf/grows_and_terminates >"$tmp/one" 2>&1 || fail "unit buf/grows_and_terminates failed"
[ "$(checks "$tmp/one")" = 1 ] || fail "GROUP/TEST ran not 1 test: $(cat "$tmp/one")"

"$unit" grows_and_terminates >"$tmp/bare" 2>&1 || fail "unit grows_and_terminates failed"
[ "$(checks "$tmp/bare")" = 1 ] || fail "TEST ran not 1 test: $(cat "$tmp/bare")"

"$unit" buf >"$tmp/group" 2>&1 || fail "unit buf failed"
want=$(grep -c '^buf/' "$tmp/list")
[ "$(checks "$tmp/group")" = "$want" ] || fail "GROUP ran $(checks "$tmp/group") tests, --list has $want"

for bad in no_such_test buf/no_such_test no_such_group/grows_and_terminates; do
  if "$unit" "$bad" >"$tmp/bad" 2>&1; then fail "unit $bad succeeded"; fi
  grep -q "no test group or test named '$bad'" "$tmp/bad" || fail "unit $bad: no clear message: $(cat "$tmp/bad")"
done

# A test name used in two groups is refused without GROUP/.
dup=$(sed 's|^[^/]*/||' "$tmp/list" | sort | uniq -d | head -n 1)
if [ -n "$dup" ]; then
  if "$unit" "$dup" >"$tmp/dup" 2>&1; then fail "ambiguous unit $dup succeeded"; fi
  grep -q "in more than one group" "$tmp/dup" || fail "unit $dup: $(cat "$tmp/dup")"
fi
echo "PASS: unit selects single tests ($n listed)"
