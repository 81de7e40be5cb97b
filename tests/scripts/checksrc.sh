#!/bin/sh
# Source rules that a compiler does not check: no banned string functions
# (sprintf, vsprintf, strcpy, strcat, gets) and every C file formatted by
# .clang-format. Skipped (77) outside a git checkout, e.g. in a tarball.
set -u
: "${top_srcdir:?}"
cd "$top_srcdir" || exit 1
command -v git >/dev/null 2>&1 && git rev-parse --git-dir >/dev/null 2>&1 ||
  { echo "checksrc: not a git checkout, skipped"; exit 77; }
files=$(git ls-files '*.c' '*.h' | grep -v '_arginfo\.h$')
[ -n "$files" ] || { echo "checksrc: no tracked sources here, skipped"; exit 77; }
status=0
banned=$(echo "$files" | xargs -r grep -nE '\b(sprintf|vsprintf|strcpy|strcat|gets)[[:space:]]*\(' || true)
if [ -n "$banned" ]; then
  echo "checksrc: banned functions (use snprintf or bounded copies):"
  echo "$banned"
  status=1
fi
if command -v clang-format >/dev/null 2>&1; then
  unformatted=$(echo "$files" | xargs -r clang-format --dry-run 2>&1 | grep -E 'warning:' | cut -d: -f1 | sort -u)
  if [ -n "$unformatted" ]; then
    echo "checksrc: not formatted by .clang-format (run clang-format -i):"
    echo "$unformatted"
    status=1
  fi
else
  echo "checksrc: clang-format not installed, formatting not checked"
fi
[ $status = 0 ] && echo "checksrc: $(echo "$files" | wc -l) files clean"
exit $status
