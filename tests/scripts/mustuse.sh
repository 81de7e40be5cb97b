#!/bin/sh
# Every public call of include/cashback.h that returns a cashback_status
# carries CASHBACK_MUST_USE, so that a program dropping the status of, say,
# cashback_event_add_item() or cashback_options_set_key() gets a warning (an
# error under -Werror): an ignored refusal there loses part of a sale or a
# setting. The documented exceptions must not carry it:
# cashback_client_last_error() and cashback_event_builder_error() (queries
# whose status is the failure they describe) and cashback_sender_stop()
# (always CASHBACK_OK).
#
# How: one C file calls every such function once, each call on its own line
# with its status dropped and zero arguments of the declared types; it is
# compiled with -Wunused-result, and the warnings are matched to the calls by
# line (GCC names the function, clang does not).
set -eu
LC_ALL=C
export LC_ALL
: "${top_srcdir:?}" "${top_builddir:?}"
: "${CC:=cc}"
hdr="$top_srcdir/include/cashback.h"
exempt=" cashback_client_last_error cashback_event_builder_error cashback_sender_stop "
out="$top_builddir/tests/mustuse-build"
rm -rf "$out"
mkdir -p "$out"

# The declarations, one a line, attribute macros kept (as in docs.sh).
awk '/CASHBACK_API/ && !/#define/ { d = 1; buf = "" }
     d { buf = buf " " $0; if (index($0, ";")) { print buf; d = 0 } }' "$hdr" |
  tr -s ' \t' '  ' | grep -E '(^| )cashback_status +cashback_' >"$out/decls.txt" || :
[ -s "$out/decls.txt" ] || { echo "mustuse: no cashback_status function in $hdr"; exit 1; }

# calls.tsv: "line<TAB>name<TAB>marked(0/1)"; calls.c: the calls.
{
  echo '#include <cashback.h>'
  echo 'void mustuse_calls(void);'
  echo 'void mustuse_calls(void) {'
} >"$out/calls.c"
: >"$out/calls.tsv"
line=4
while IFS= read -r decl; do
  name=$(printf '%s\n' "$decl" | sed -e 's/(.*//' -e 's/.*[^A-Za-z0-9_]//')
  case "$decl" in *CASHBACK_MUST_USE*) marked=1 ;; *) marked=0 ;; esac
  # The parameters: each one's type with its name dropped, as "(type)0".
  params=$(printf '%s\n' "$decl" | sed -e 's/^[^(]*(//' -e 's/) *; *$//')
  args=$(printf '%s\n' "$params" | tr ',' '\n' | sed -e 's/^ *//' -e 's/ *$//' \
    -e 's/\[[^]]*\]$//' -e 's/[A-Za-z_][A-Za-z0-9_]*$//' -e 's/ *$//' |
    awk 'NF { printf "%s(%s)0", (n++ ? ", " : ""), $0 }')
  [ "$params" = void ] && args=""
  echo "  $name($args);" >>"$out/calls.c"
  printf '%s\t%s\t%s\n' "$line" "$name" "$marked" >>"$out/calls.tsv"
  line=$((line + 1))
done <"$out/decls.txt"
echo '}' >>"$out/calls.c"

if ! $CC -std=c11 -c -o "$out/calls.o" -Wunused-result -Wno-error \
  -I"$top_srcdir/include" "$out/calls.c" >"$out/cc.log" 2>&1; then
  echo "mustuse: the generated calls do not compile:"
  cat "$out/cc.log"
  exit 1
fi
grep 'ignoring return value' "$out/cc.log" | sed -n 's/^[^:]*:\([0-9]*\):.*/\1/p' |
  sort -u >"$out/warned.txt"

problems=0
total=0
warned=0
while IFS='	' read -r l name marked; do
  total=$((total + 1))
  if grep -qx "$l" "$out/warned.txt"; then w=1; warned=$((warned + 1)); else w=0; fi
  case "$exempt" in
  *" $name "*)
    if [ "$w" = 1 ] || [ "$marked" = 1 ]; then
      echo "mustuse: $name() carries CASHBACK_MUST_USE but is a documented exception"
      problems=$((problems + 1))
    fi ;;
  *)
    if [ "$marked" = 0 ]; then
      echo "mustuse: $name() returns a cashback_status without CASHBACK_MUST_USE"
      problems=$((problems + 1))
    elif [ "$w" = 0 ]; then
      echo "mustuse: ignoring $name()'s status gives no warning ($CC)"
      problems=$((problems + 1))
    fi ;;
  esac
done <"$out/calls.tsv"
for name in $exempt; do
  grep -q "	$name	" "$out/calls.tsv" ||
    { echo "mustuse: the exception $name() is not declared"; problems=$((problems + 1)); }
done
[ "$problems" = 0 ] || exit 1
echo "mustuse: $total functions return a cashback_status; $warned carry CASHBACK_MUST_USE (a dropped status warns), 2 are the documented exceptions"
