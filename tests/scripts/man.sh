#!/bin/sh
# The manual as installed (run by `make check`; top_srcdir, top_builddir,
# MAKE and BIN_PROGRAMS come from the environment):
#
#  1. `make install-man DESTDIR=<tmp>` installs a section 3 page for every
#     public function (the CASHBACK_API declarations of include/cashback.h,
#     and every symbol the built library exports), libcashback.3 (the
#     overview, from docs/api/README.md) and none for anything else; a
#     section 1 page for every installed program and for every command
#     that `cashback --help` lists (cashback-COMMAND.1); and
#     `man -M <tmp>/.../man -w 3 <function>` finds each (with man-db);
#  2. every installed page renders without a warning: `groff -k -t -man -ww
#     -Tutf8` (what `man --warnings -E UTF-8 -l` runs) and, when installed,
#     `mandoc -T lint -W warning`; lexgrog(1) reads each NAME line, which
#     whatis and apropos index;
#  3. a section 3 page says what its docs/api page says: it is ASCII, its
#     .TH names the function in section 3, its rendered NAME line is
#     "<function> - <summary>" as in the page (the overview: its Name:),
#     and every line of every ``` block of the page (SYNOPSIS, EXAMPLE) is
#     a line of the rendered text, so that the conversion (docs/md2man.py)
#     lost no backslash, quote or hyphen of the code.
#
# groff is needed (Debian: groff-base, in bootstrap's PACKAGES): without it
# the page checks run and the test then exits 77 (skipped).
set -u
LC_ALL=C
export LC_ALL
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_builddir:=$(pwd)}"
: "${MAKE:=make}"
: "${BIN_PROGRAMS:=plugins/cli/cashback plugins/sandbox/cashback-sandbox}"

work=$(mktemp -d "${TMPDIR:-/tmp}/cashback-man.XXXXXX") || exit 1
trap 'rm -rf "$work"' EXIT
trap 'exit 1' INT TERM HUP

problems=0
problem() {
  echo "man: FAIL: $*"
  problems=$((problems + 1))
}

# 1. Install, as `make install` does, into a scratch DESTDIR (the make
# running this test must not lend it its jobserver or its flags).
inst="$work/inst"
if ! (cd "$top_builddir" && env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL \
  $MAKE install-man DESTDIR="$inst") >"$work/install.log" 2>&1; then
  cat "$work/install.log"
  echo "man: FAIL: make install-man"
  exit 1
fi
man1=$(find "$inst" -type d -name man1 | head -1)
man3=$(find "$inst" -type d -name man3 | head -1)
[ -n "$man3" ] || { echo "man: FAIL: make install-man installed no man3 directory"; exit 1; }
[ -n "$man1" ] || { echo "man: FAIL: make install-man installed no man1 directory"; exit 1; }
mandir=$(dirname "$man3")

# The public functions: the header's declarations, and the library's symbols.
hdr="$top_srcdir/include/cashback.h"
awk '/CASHBACK_API/ && !/#define/ { d = 1; buf = "" }
     d { buf = buf " " $0; if (index($0, ";")) { print buf; d = 0 } }' "$hdr" |
  sed -e 's/(.*//' -e 's/.*[^A-Za-z0-9_]//' >"$work/functions"
lib="$top_builddir/.libs/libcashback.so"
if [ -f "$lib" ] && command -v nm >/dev/null 2>&1; then
  nm -D --defined-only "$lib" | awk '$2 ~ /^[TW]$/ { print $3 }' |
    sed 's/@.*//' | grep '^cashback_[a-z]' >>"$work/functions"
fi
sort -u "$work/functions" -o "$work/functions"
[ -s "$work/functions" ] || { echo "man: FAIL: no public function found in $hdr"; exit 1; }
# ... and libcashback.3, the overview (from docs/api/README.md).
echo libcashback >>"$work/functions"
sort -u "$work/functions" -o "$work/functions"
(cd "$man3" && ls) | sed -n 's/\.3$//p' | sort >"$work/pages3"
comm -23 "$work/functions" "$work/pages3" | while read -r f; do
  echo "man: FAIL: $f() is public but no $f.3 is installed (add docs/api/$f.md to API_PAGES in Makefile.am)"
done >"$work/missing"
comm -13 "$work/functions" "$work/pages3" | while read -r f; do
  echo "man: FAIL: $f.3 is installed but $f() is no public function"
done >>"$work/missing"
(cd "$man3" && ls) | grep -v '\.3$' | sed 's/^/man: FAIL: not a section 3 page in man3: /' >>"$work/missing"
if [ -s "$work/missing" ]; then
  cat "$work/missing"
  problems=$((problems + $(wc -l <"$work/missing")))
fi
for p in $BIN_PROGRAMS; do
  b=$(basename "$p")
  [ -f "$man1/$b.1" ] || problem "the program $b has no installed $b.1"
done
# `cashback --help` sends the reader to `man cashback-COMMAND`.
cli="$top_builddir/plugins/cli/cashback"
if [ -x "$cli" ]; then
  "$cli" --help 2>&1 | awk '/^Commands:/ { s = 1; next } s && !NF { exit }
                             s { print $1 }' >"$work/commands"
  [ -s "$work/commands" ] || problem "cashback --help lists no command"
  for c in $(cat "$work/commands"); do
    [ -f "$man1/cashback-$c.1" ] ||
      problem "cashback $c has no installed cashback-$c.1 (add it to CLI_MANS in Makefile.am)"
  done
fi
if command -v man >/dev/null 2>&1 && man --version 2>/dev/null | grep -q man-db; then
  # shellcheck disable=SC2046
  man -M "$mandir" -w 3 $(cat "$work/pages3") >"$work/found" 2>"$work/notfound"
  [ -s "$work/notfound" ] && problem "man -M $mandir -w 3: $(cat "$work/notfound")"
  [ "$(wc -l <"$work/found")" = "$(wc -l <"$work/pages3")" ] ||
    problem "man -w found $(wc -l <"$work/found") of $(wc -l <"$work/pages3") section 3 pages"
fi

# 3 (the part that needs no groff). The pages against their source: one awk
# run over all of them (a process per page and check took seconds).
(cd "$man3" && awk '
  FNR == 1 { f = FILENAME; sub(/\.3$/, "", f); th = 0 }
  /[^ -~]/ && !ascii[f]++ { print "man: FAIL: " f ".3:" FNR ": not ASCII" }
  /^\.TH / && !th++ && $2 " " $3 != toupper(f) " 3" {
    print "man: FAIL: " f ".3: .TH \"" $2 " " $3 "\", want \"" toupper(f) " 3\"" }
  ' $(sed 's/$/.3/' "$work/pages3")) >"$work/th"
if [ -s "$work/th" ]; then
  cat "$work/th"
  problems=$((problems + $(wc -l <"$work/th")))
fi

# 2. Rendering, all pages in one run of each tool (warnings name the file).
if ! command -v groff >/dev/null 2>&1; then
  echo "man: no groff (Debian: groff-base): pages not rendered"
  [ "$problems" -gt 0 ] && exit 1
  exit 77
fi
all=$(find "$man1" "$man3" -type f | sort)
# shellcheck disable=SC2086
groff -k -t -man -ww -z -Tutf8 $all >"$work/groff.out" 2>&1
rc=$?
if [ "$rc" != 0 ] || [ -s "$work/groff.out" ]; then
  sed 's/^/  /' "$work/groff.out"
  problem "groff -ww warned (status $rc)"
fi
if command -v mandoc >/dev/null 2>&1; then
  # shellcheck disable=SC2086
  mandoc -T lint -W warning $all >"$work/mandoc.out" 2>&1
  rc=$?
  if [ "$rc" != 0 ] || [ -s "$work/mandoc.out" ]; then
    sed 's/^/  /' "$work/mandoc.out"
    problem "mandoc -T lint -W warning (status $rc)"
  fi
else
  echo "man: no mandoc, lint skipped"
fi
if command -v lexgrog >/dev/null 2>&1; then
  # shellcheck disable=SC2086
  lexgrog $all >"$work/lexgrog.out" 2>&1
  if grep -v ': ".* - .*"$' "$work/lexgrog.out" | grep -q .; then
    grep -v ': ".* - .*"$' "$work/lexgrog.out" | sed 's/^/  /'
    problem "lexgrog cannot read a NAME line"
  fi
fi

# 3. The rendered text of each section 3 page has its NAME line and the lines
# of its code blocks. One groff run for all: each page's text starts with its
# header line "<NAME>(3) ... <NAME>(3)" at the left margin (cut short when the
# name is long), the k-th one is the k-th page.
# shellcheck disable=SC2046
(cd "$man3" && groff -k -t -man -Tutf8 -P-cbou $(sed 's/$/.3/' "$work/pages3") 2>/dev/null) |
  awk -v dir="$work" -v list="$work/pages3" '
    BEGIN { while ((getline l < list) > 0) names[++n] = l }
    /^[A-Z][A-Z0-9_]*.*\(3\)$/ { f = dir "/" names[++k] ".txt" }
    f { print > f }'
awk -v list="$work/pages3" -v dir="$work" -v api="$top_srcdir/docs/api" '
  function trim(x) { sub(/^ +/, "", x); sub(/ +$/, "", x); return x }
  function fail(m) { print "man: FAIL: " m; bad++ }
  BEGIN {
    while ((getline f < list) > 0) {
      md = api "/" f ".md"
      if (f == "libcashback") md = api "/README.md"
      txt = dir "/" f ".txt"
      # The source: its NAME (or Name:) line and its code lines.
      name = ""; s = 0; b = 0; n = 0; split("", code)
      if ((getline l < md) <= 0) { fail(f ".3 has no source " md); continue }
      do {
        if (l ~ /^```/) { b = !b; continue }
        if (b) { l = trim(l); if (l != "") code[++n] = l; continue }
        if (l ~ /^Name: / && name == "") { name = substr(l, 7); continue }
        if (l == "# NAME") { s = 1; continue }
        if (s && l ~ /^# /) s = 0
        if (s && trim(l) != "") name = name (name == "" ? "" : " ") trim(l)
      } while ((getline l < md) > 0)
      close(md)
      # The rendered text: its NAME paragraph and the set of its lines.
      got = ""; s = 0; m = 0; split("", line)
      while ((getline l < txt) > 0) {
        m++
        if (l == "NAME") { s = 1; continue }
        if (s && l ~ /^[^ ]/) s = 0
        if (s && trim(l) != "") got = got (got == "" ? "" : " ") trim(l)
        line[trim(l)] = 1
      }
      close(txt)
      if (!m) { fail(f ".3 rendered to nothing"); continue }
      gsub(/  +/, " ", got)
      if (got != name)
        fail(f ".3: NAME renders as \"" got "\", its source says \"" name "\"")
      lost = 0
      for (i = 1; i <= n; i++)
        if (!(code[i] in line) && lost++ < 5)
          fail(f ".3 renders this code line of its source otherwise: " code[i])
    }
    exit bad > 0
  }' >"$work/fidelity"
if [ -s "$work/fidelity" ]; then
  cat "$work/fidelity"
  problems=$((problems + $(wc -l <"$work/fidelity")))
fi

n1=$(find "$man1" -type f | wc -l)
n3=$(wc -l <"$work/pages3")
if [ "$problems" -gt 0 ]; then
  echo "man: $problems problem(s) in $n1 section 1 and $n3 section 3 pages"
  exit 1
fi
echo "man: $n1 section 1 and $n3 section 3 pages installed, rendered without warnings, code intact"
exit 0
