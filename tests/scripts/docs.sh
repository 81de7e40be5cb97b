#!/bin/sh
# Checks the API reference against the public header (run by `make check`;
# top_srcdir, top_builddir, CC and LIBS_DEPS come from the environment):
#
#  1. Every public function of include/cashback.h has docs/api/<name>.md
#     with the sections NAME, SYNOPSIS, DESCRIPTION, RETURN VALUE, EXAMPLE,
#     SEE ALSO in that order; NAME starts with "<name> - "; the SYNOPSIS
#     block includes <cashback.h> and has the header's prototype (compared
#     with the attribute macros removed and white space normalized); every
#     page documents an existing function (no stale pages); every
#     cashback_*() a page mentions exists; relative links resolve; the
#     index docs/api/README.md links every page.
#  2. Every ```c block of an EXAMPLE section is written to
#     $top_builddir/tests/docs-build/<name>[-<n>].c after this prelude:
#         #include <cashback.h> <inttypes.h> <stdio.h> <stdlib.h> <string.h>
#     and a `#line` pointing back into the page, compiled with
#     `$CC -std=c11 -Wall -Wextra -Werror -I$top_srcdir/include` and linked
#     against libcashback (.libs/libcashback.so, else libcashback.la through
#     libtool), so that an example calling a missing function fails. An
#     example without a main() is a helper function: it must be non-static,
#     and a `int main(void) { return 0; }` is appended so that it links too.
#     DOCS_NO_LINK=1 compiles with -c only (before the library builds).
#  3. docs/errors.md has one table row "| <number> | `<NAME>` | ..." for
#     every value of `enum cashback_status`, with the header's number, and
#     no other row. When the examples link, the text column (the second
#     column after the name, "cashback_strerror()") is compared with what
#     the library's cashback_strerror() returns.
#
# Prints each problem as "file:line: what" and exits 1 if there was any.
set -u
LC_ALL=C
export LC_ALL

: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_builddir:=$(pwd)}"
: "${CC:=cc}"
: "${LIBS_DEPS:=}"
: "${DOCS_NO_LINK:=}"

hdr="$top_srcdir/include/cashback.h"
api="$top_srcdir/docs/api"
errors_md="$top_srcdir/docs/errors.md"
out="$top_builddir/tests/docs-build"
rm -rf "$out"
mkdir -p "$out" || exit 1

problems=0
problem() { # file line message
  echo "$1:$2: $3"
  problems=$((problems + 1))
}

# Prints its input (C declarations) on one line, with the attribute macros
# removed and white space normalized, e.g. "const char*cashback_version(void);"
normalize() {
  tr '\n\t' '  ' | sed -e 's/CASHBACK_API//g' -e 's/CASHBACK_MUST_USE//g' \
    -e 's/  */ /g' -e 's/^ //' -e 's/ $//' \
    -e 's/ *\([(),*;]\) */\1/g'
  echo
}

# ---------------------------------------------------------------------------
# The header's public functions: "name<TAB>normalized prototype".
protos="$out/prototypes.txt"
awk '/CASHBACK_API/ && !/#define/ { d = 1; buf = "" }
     d { buf = buf " " $0; if (index($0, ";")) { print buf; d = 0 } }' "$hdr" |
  while IFS= read -r decl; do
    n=$(printf '%s\n' "$decl" | normalize)
    name=$(printf '%s\n' "$n" | sed -e 's/(.*//' -e 's/.*[^A-Za-z0-9_]//')
    printf '%s\t%s\n' "$name" "$n"
  done | sort -u >"$protos"
functions=$(cut -f1 "$protos")
if [ -z "$functions" ]; then
  problem "$hdr" 1 "no CASHBACK_API function found"
  exit 1
fi
# The same list by the plain grep that finds calls, as a cross-check of the
# parser above.
grepped=$(grep -oE '\bcashback_[a-z0-9_]+ *\(' "$hdr" | sed 's/ *($//' |
  sort -u)
for f in $grepped; do
  case " $(echo $functions) " in
  *" $f "*) ;;
  *) problem "$hdr" "$(grep -n "\\b$f *(" "$hdr" | head -1 | cut -d: -f1)" \
    "$f() appears but no CASHBACK_API declaration of it was parsed" ;;
  esac
done

is_function() {
  grep -q "^$1	" "$protos"
}

# ---------------------------------------------------------------------------
# 1. Pages.
for f in $functions; do
  [ -f "$api/$f.md" ] || problem "$hdr" \
    "$(grep -n "\\b$f *(" "$hdr" | head -1 | cut -d: -f1)" \
    "$f() has no page docs/api/$f.md"
done

pages=""
for page in "$api"/*.md; do
  [ -f "$page" ] || continue
  base=$(basename "$page" .md)
  [ "$base" = README ] && continue
  if ! is_function "$base"; then
    problem "$page" 1 "stale page: include/cashback.h declares no $base()"
    continue
  fi
  pages="$pages $base"

  # Sections, exactly once each and in order.
  awk -v file="$page" '
    BEGIN { n = split("NAME,SYNOPSIS,DESCRIPTION,RETURN VALUE,EXAMPLE,SEE ALSO", want, ",") }
    /^```/ { fence = !fence }
    !fence && /^# / {
      s = substr($0, 3); seen[s]++
      if (seen[s] > 1) { print file ":" NR ": section \"" s "\" repeated"; bad++ }
      for (i = 1; i <= n; i++) if (want[i] == s) break
      if (i > n) { print file ":" NR ": unexpected section \"" s "\""; bad++ }
      else if (i <= last) { print file ":" NR ": section \"" s "\" out of order"; bad++ }
      else last = i
    }
    END {
      for (i = 1; i <= n; i++) if (!seen[want[i]]) { print file ":1: missing section \"# " want[i] "\""; bad++ }
      exit bad > 0
    }' "$page" >"$out/sections.txt"
  if [ -s "$out/sections.txt" ]; then
    while IFS= read -r line; do
      echo "$line"
      problems=$((problems + 1))
    done <"$out/sections.txt"
  fi

  # NAME: "<name> - <summary>".
  first=$(awk '/^# NAME$/ { s = 1; next } s && /^# / { exit }
               s && NF { print NR ": " $0; exit }' "$page")
  case "${first#*: }" in
  "$base - "?*) ;;
  *) problem "$page" "${first%%:*}" "NAME must read \"$base - <what it does>\"" ;;
  esac

  # SYNOPSIS: the first ```c block of the section.
  syn_line=$(grep -n '^# SYNOPSIS$' "$page" | head -1 | cut -d: -f1)
  awk '/^# SYNOPSIS$/ { s = 1; next } s && /^# / { exit }
       s && /^```c$/ { b = 1; next } b && /^```$/ { exit } b { print }' \
    "$page" >"$out/synopsis.txt"
  if ! grep -q '^#include <cashback\.h>$' "$out/synopsis.txt"; then
    problem "$page" "${syn_line:-1}" "SYNOPSIS block lacks #include <cashback.h>"
  fi
  got=$(grep -v '^#include' "$out/synopsis.txt" | normalize)
  want=$(grep "^$base	" "$protos" | cut -f2)
  if [ "$got" != "$want" ]; then
    problem "$page" "${syn_line:-1}" "SYNOPSIS prototype differs from include/cashback.h"
    echo "  header: $want"
    echo "  page:   $got"
  fi

  # Every cashback_*() mentioned exists.
  grep -noE '\bcashback_[a-z0-9_]+\(' "$page" | while IFS=: read -r ln ref; do
    ref=${ref%(}
    is_function "$ref" || echo "$page:$ln: mentions $ref(), which include/cashback.h does not declare"
  done >"$out/refs.txt"
  if [ -s "$out/refs.txt" ]; then
    cat "$out/refs.txt"
    problems=$((problems + $(wc -l <"$out/refs.txt")))
  fi

  # SEE ALSO is not empty.
  if ! awk '/^# SEE ALSO$/ { s = 1; next } s && /^# / { exit }
            s && /\]\([a-z0-9_]+\.md\)/ { found = 1 } END { exit !found }' "$page"; then
    problem "$page" "$(grep -n '^# SEE ALSO$' "$page" | cut -d: -f1)" \
      "SEE ALSO links no other page"
  fi
done

# Relative links of every page, the index and the error table resolve.
for page in "$api"/*.md "$errors_md"; do
  [ -f "$page" ] || continue
  dir=$(dirname "$page")
  grep -noE '\]\([^)]+\)' "$page" | while IFS=: read -r ln link; do
    target=${link#](}
    target=${target%)}
    target=${target%%#*}
    case "$target" in
    *://* | mailto:* | "") continue ;;
    esac
    [ -e "$dir/$target" ] || echo "$page:$ln: broken link to $target"
  done
done >"$out/links.txt"
if [ -s "$out/links.txt" ]; then
  cat "$out/links.txt"
  problems=$((problems + $(wc -l <"$out/links.txt")))
fi

# The index links every page.
if [ -f "$api/README.md" ]; then
  for base in $pages; do
    grep -q "]($base\\.md)" "$api/README.md" ||
      problem "$api/README.md" 1 "the index does not link $base.md"
  done
else
  problem "$api/README.md" 1 "missing: the index of the API pages"
fi

# ---------------------------------------------------------------------------
# 2. Examples.
lib_so="$top_builddir/.libs/libcashback.so"
lib_la="$top_builddir/libcashback.la"
link=""
if [ -n "$DOCS_NO_LINK" ]; then
  echo "docs: DOCS_NO_LINK set: examples are compiled, not linked"
elif [ -f "$lib_so" ]; then
  link=so
elif [ -f "$lib_la" ] && [ -x "$top_builddir/libtool" ]; then
  link=la
else
  problem "$lib_la" 0 "libcashback is not built: cannot link the examples (DOCS_NO_LINK=1 to compile only)"
fi

link_program() { # object output
  case "$link" in
  so) $CC -o "$2" "$1" "$lib_so" -Wl,-rpath,"$(dirname "$lib_so")" $LIBS_DEPS ;;
  la) "$top_builddir/libtool" --quiet --mode=link $CC -o "$2" "$1" "$lib_la" $LIBS_DEPS ;;
  esac
}

cflags="-std=c11 -Wall -Wextra -Werror -I$top_srcdir/include"
examples=0
for base in $pages; do
  page="$api/$base.md"
  # Writes each block as $out/<base>-<n>.c, and "<n> <first line>" lines.
  awk -v out="$out" -v base="$base" -v page="$page" '
    /^# EXAMPLE$/ { s = 1; next }
    s && /^# / { exit }
    s && /^```c$/ {
      n++; f = out "/" base "-" n ".c"
      print "#include <cashback.h>\n#include <inttypes.h>\n#include <stdio.h>\n#include <stdlib.h>\n#include <string.h>" > f
      print "#line " NR + 1 " \"" page "\"" > f
      b = 1; print n, NR + 1; next
    }
    b && /^```$/ { b = 0; close(f); next }
    b { print > f }' "$page" >"$out/blocks.txt"
  if [ ! -s "$out/blocks.txt" ]; then
    problem "$page" "$(grep -n '^# EXAMPLE$' "$page" | cut -d: -f1)" \
      "EXAMPLE has no \`\`\`c block"
    continue
  fi
  while read -r n ln; do
    src="$out/$base-$n.c"
    examples=$((examples + 1))
    if ! grep -q '\bmain *(' "$src"; then
      if grep -q '^static ' "$src"; then
        problem "$page" "$ln" "a helper-function example must not be static (it would be unused)"
      fi
      printf '\nint main(void) { return 0; }\n' >>"$src"
    fi
    grep -q "\\b$base\\b" "$src" ||
      problem "$page" "$ln" "the example does not use $base"
    if ! $CC $cflags -c "$src" -o "$out/$base-$n.o" 2>"$out/cc.txt"; then
      problem "$page" "$ln" "the example does not compile:"
      sed -n 's/^/  /; 1,20p' "$out/cc.txt"
      continue
    fi
    if [ -n "$link" ] &&
      ! link_program "$out/$base-$n.o" "$out/$base-$n" >"$out/cc.txt" 2>&1; then
      problem "$page" "$ln" "the example does not link:"
      sed -n 's/^/  /; 1,20p' "$out/cc.txt"
    fi
  done <"$out/blocks.txt"
done

# ---------------------------------------------------------------------------
# 3. Status codes.
awk '/^typedef enum cashback_status/ { s = 1; next } s && /^}/ { exit }
     s { line = $0
         while (match(line, /CASHBACK_[A-Z0-9_]+ *= *[0-9]+/)) {
           split(substr(line, RSTART, RLENGTH), a, / *= */); print a[1], a[2], NR
           line = substr(line, RSTART + RLENGTH) } }' \
  "$hdr" >"$out/status-header.txt"
if [ ! -s "$out/status-header.txt" ]; then
  problem "$hdr" 1 "no value of enum cashback_status found"
fi
if [ ! -f "$errors_md" ]; then
  problem "$errors_md" 0 "missing: the table of status codes"
else
  # Table rows "| <number> | `NAME` | text | ...": name, number, line, text.
  awk -F'|' '/^\| *-?[0-9]+ *\|/ {
      num = $2; gsub(/[ ]/, "", num); name = $3; gsub(/[ `]/, "", name)
      text = $4; gsub(/^ *"?|"? *$/, "", text)
      print name, num, NR, text }' "$errors_md" >"$out/status-doc.txt"
  while read -r name num ln; do
    row=$(awk -v n="$name" '$1 == n' "$out/status-doc.txt")
    if [ -z "$row" ]; then
      problem "$errors_md" 1 "$name ($num, include/cashback.h:$ln) is not in the table"
    elif [ "$(echo "$row" | wc -l)" -gt 1 ]; then
      problem "$errors_md" "$(echo "$row" | sed -n '2p' | cut -d' ' -f3)" "$name listed twice"
    elif [ "$(echo "$row" | cut -d' ' -f2)" != "$num" ]; then
      problem "$errors_md" "$(echo "$row" | cut -d' ' -f3)" \
        "$name is $(echo "$row" | cut -d' ' -f2) here but $num in include/cashback.h:$ln"
    fi
  done <"$out/status-header.txt"
  while read -r name num ln rest; do
    awk -v n="$name" '$1 == n { f = 1 } END { exit !f }' "$out/status-header.txt" ||
      problem "$errors_md" "$ln" "$name ($num) is not a value of enum cashback_status"
  done <"$out/status-doc.txt"

  # The text column against the library's cashback_strerror().
  if [ -n "$link" ] && [ -s "$out/status-header.txt" ]; then
    {
      echo '#include <cashback.h>'
      echo '#include <stdio.h>'
      echo 'int main(void) {'
      while read -r name num ln; do
        printf '  printf("%%s %%s\\n", "%s", cashback_strerror(%s));\n' "$name" "$name"
      done <"$out/status-header.txt"
      echo '  return 0;'
      echo '}'
    } >"$out/strerror.c"
    if $CC $cflags -c "$out/strerror.c" -o "$out/strerror.o" 2>"$out/cc.txt" &&
      link_program "$out/strerror.o" "$out/strerror" >>"$out/cc.txt" 2>&1 &&
      "$out/strerror" >"$out/strerror.txt" 2>>"$out/cc.txt"; then
      while read -r name text; do
        row=$(awk -v n="$name" '$1 == n' "$out/status-doc.txt" | head -1)
        [ -n "$row" ] || continue
        doc=$(echo "$row" | cut -d' ' -f4-)
        [ "$doc" = "$text" ] || problem "$errors_md" "$(echo "$row" | cut -d' ' -f3)" \
          "$name: the table says \"$doc\", cashback_strerror() says \"$text\""
      done <"$out/strerror.txt"
    else
      problem "$out/strerror.c" 1 "cannot build or run the cashback_strerror() check:"
      sed -n 's/^/  /; 1,20p' "$out/cc.txt"
    fi
  fi
fi

# 4. docs/internals.md names only files of the tree and functions of sdk/:
#    each sdk/... path exists, and each `cashback_...` in backquotes is a
#    word of sdk/*.c (files get split and renamed; the walk must follow).
internals="$top_srcdir/docs/internals.md"
if [ -f "$internals" ]; then
  grep -n -o 'sdk/[A-Za-z0-9_.]*[A-Za-z0-9_]' "$internals" | while IFS=: read -r line path; do
    [ -e "$top_srcdir/$path" ] || echo "$line $path"
  done >"$out/internals-files.txt"
  while read -r line path; do
    problem "$internals" "$line" "$path: no such file"
  done <"$out/internals-files.txt"
  grep -n -o '`cashback_[a-z0-9_]*[`(]' "$internals" | tr -d '`(' | while IFS=: read -r line name; do
    cat "$top_srcdir"/sdk/*.c | grep -qw "$name" || echo "$line $name"
  done >"$out/internals-names.txt"
  while read -r line name; do
    problem "$internals" "$line" "$name: not in sdk/*.c"
  done <"$out/internals-names.txt"
fi

echo "docs: $(echo $functions | wc -w) functions, $(echo $pages | wc -w) pages, $examples examples, $(wc -l <"$out/status-header.txt") status codes"
if [ "$problems" -gt 0 ]; then
  echo "docs: $problems problem(s)"
  exit 1
fi
echo "docs: all good"
exit 0
