#!/bin/sh
# The layers of sdk/ (sdk/LAYERS, docs/internals.md): no file includes the
# header of, or calls a function of, a file in a higher layer.
# - includes: each #include "cashback_<stem>.h" of sdk/*.c and sdk/*.h;
# - calls: each undefined cashback_* / cashback__* symbol of a built object
#   (nm) must be defined by an object of the same or a lower layer;
# - a file of sdk/ that sdk/LAYERS does not list is an error;
# - a receiver (the verifier and the batch parser) links without the
#   machinery, the client or libcurl: the objects its symbols pull in are
#   all below layer 3, and a program calling them links without -lcurl.
# Needs the objects of libcashback_core in $top_builddir/sdk.
set -eu
: "${top_srcdir:?}" "${top_builddir:?}"
command -v nm >/dev/null 2>&1 || { echo "layers: SKIP: no nm"; exit 77; }
table="$top_srcdir/sdk/LAYERS"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0
err() { echo "layers: FAIL: $*"; fail=1; }

# "<stem> <layer>", from the table.
sed 's/#.*//' "$table" | awk 'NF == 2 {print $2, $1} NF != 0 && NF != 2 {
  print "bad line: " $0 > "/dev/stderr"; exit 1 }' >"$tmp/layers"
layer_of() { awk -v s="$1" '$1 == s {print $2}' "$tmp/layers"; }

# 1. Every file of sdk/ has a layer.
for f in "$top_srcdir"/sdk/cashback_*.c "$top_srcdir"/sdk/cashback_*.h; do
  stem=${f##*/cashback_}
  stem=${stem%.?}
  [ -n "$(layer_of "$stem")" ] ||
    err "sdk/${f##*/} has no layer: add '<layer> $stem' to sdk/LAYERS"
done

# 2. Includes: "<file> <its stem> <included stem>".
for f in "$top_srcdir"/sdk/cashback_*.c "$top_srcdir"/sdk/cashback_*.h; do
  stem=${f##*/cashback_}
  stem=${stem%.?}
  sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*"cashback_\([a-z0-9_]*\)\.h".*/\1/p' "$f" |
    while read -r inc; do echo "sdk/${f##*/} $stem $inc"; done
done >"$tmp/includes"
awk 'NR == FNR {layer[$1] = $2; next}
  !($3 in layer) {print $1 " includes cashback_" $3 ".h, which has no layer"; next}
  ($2 in layer) && layer[$3] > layer[$2] {
    print $1 " (layer " layer[$2] ") includes cashback_" $3 ".h (layer " layer[$3] ")"
  }' "$tmp/layers" "$tmp/includes" >"$tmp/bad"
while read -r line; do err "$line"; done <"$tmp/bad"

# 3. Calls, from the objects of libcashback_core (static or PIC ones).
objdir="$top_builddir/sdk"
set -- "$objdir"/libcashback_core_la-cashback_*.o
[ -f "$1" ] || set -- "$objdir"/.libs/libcashback_core_la-cashback_*.o
[ -f "$1" ] || { err "no objects of libcashback_core in $objdir (build first)"; exit 1; }
for o in "$@"; do
  stem=${o##*/libcashback_core_la-cashback_}
  stem=${stem%.o}
  echo "$stem $o" >>"$tmp/objects"
  nm -P --defined-only "$o" | awk -v s="$stem" '$2 ~ /^[TDBRVWC]$/ {print $1, s}' >>"$tmp/defs"
  nm -P -u "$o" | awk -v s="$stem" '$1 ~ /^cashback_/ {print s, $1}' >>"$tmp/uses"
done
awk 'FILENAME == ARGV[1] {layer[$1] = $2; next}
  FILENAME == ARGV[2] {def[$1] = $2; next}
  !($2 in def) || !($1 in layer) {next} # from outside the SDK; unlisted
  def[$2] != $1 && layer[def[$2]] > layer[$1] {
    print "sdk/cashback_" $1 ".c (layer " layer[$1] ") calls " $2 \
      ", defined in sdk/cashback_" def[$2] ".c (layer " layer[def[$2]] ")"
  }' "$tmp/layers" "$tmp/defs" "$tmp/uses" >"$tmp/bad"
while read -r line; do err "$line"; done <"$tmp/bad"

# 4. A receiver: the objects that the verifier's and the batch parser's
# symbols pull in (what a static link takes), closed over their calls.
awk '$1 ~ /^cashback_(verifier|batch)_/ {print $2}' "$tmp/defs" | sort -u >"$tmp/reach"
while :; do
  awk 'FILENAME == ARGV[1] {r[$1] = 1; next}
    FILENAME == ARGV[2] {def[$1] = $2; next}
    ($1 in r) && ($2 in def) {print def[$2]}' \
    "$tmp/reach" "$tmp/defs" "$tmp/uses" | cat "$tmp/reach" - | sort -u >"$tmp/next"
  cmp -s "$tmp/reach" "$tmp/next" && break
  mv "$tmp/next" "$tmp/reach"
done
[ -s "$tmp/reach" ] || err "no object defines cashback_verifier_* or cashback_batch_*"
objs=""
while read -r s; do
  l=$(layer_of "$s")
  [ "${l:-9}" -lt 3 ] || err "a receiver (verifier, batch parser) pulls in sdk/cashback_$s.c (layer ${l:-?})"
  o=$(awk -v s="$s" '$1 == s {print $2}' "$tmp/objects")
  if nm -P -u "$o" | grep -q '^curl_'; then
    err "a receiver pulls in sdk/cashback_$s.c, which calls libcurl"
  fi
  objs="$objs $o"
done <"$tmp/reach"
if [ $fail = 0 ] && [ -n "${CC:-}" ]; then
  cat >"$tmp/receiver.c" <<'EOF'
#include "cashback.h"
#include <stdio.h>
int main(void) {
  cashback_verifier *v = cashback_verifier_new();
  if (!v || cashback_verifier_add_key(v, "k1", "0123456789abcdef0123456789abcdef") != CASHBACK_OK)
    return 1;
  char id[CASHBACK_ID_MAX + 1];
  const char body[] = "{}";
  if (cashback_verifier_verify(v, "t=1,k1=00", 9, body, 2, 1, id) == CASHBACK_OK)
    return 1; /* a forged signature */
  cashback_verifier_free(v);
  cashback_batch *b = NULL;
  char detail[CASHBACK_ERROR_MAX + 1];
  if (cashback_batch_parse(body, 2, 0, &b, detail, sizeof(detail)) == CASHBACK_OK)
    return 1; /* no protocol, no events */
  cashback_batch_free(b);
  printf("receiver ran: %s\n", detail);
  return 0;
}
EOF
  # The dependencies without libcurl: a call into it fails the link.
  libs=$(echo "${LIBS_DEPS:-}" | sed 's/-lcurl[^ ]*//g')
  # shellcheck disable=SC2086
  if "$CC" -I"$top_srcdir/include" -o "$tmp/receiver" "$tmp/receiver.c" $objs $libs -lpthread \
    >"$tmp/link.log" 2>&1 && "$tmp/receiver"; then
    echo "layers: a receiver links without libcurl from: $(tr "\n" " " <"$tmp/reach")"
  else
    cat "$tmp/link.log"
    err "a program using only cashback_verifier_* and cashback_batch_* does not link (or run) from the objects above, without libcurl"
  fi
fi
n=$(wc -l <"$tmp/layers")
[ $fail = 0 ] && echo "layers: $n names of sdk/ in 5 layers, no include or call goes up a layer"
exit $fail
