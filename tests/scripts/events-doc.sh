#!/bin/sh
# docs/events.md lists the event fields of the one table in
# sdk/cashback_fields.c: the same names, in the same order (run by `make
# check`; top_srcdir comes from the environment).
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
src="$top_srcdir/sdk/cashback_fields.c"
doc="$top_srcdir/docs/events.md"
# Table entries: lines such as `    {"type", "...", 0, 1, 32, set_type},`
# between "fields[] = {" and "};" (META_PREFIX is "meta.").
table=$(awk '/^static const cashback__field fields\[\] = \{/ { t = 1; next }
             t && /^\};/ { exit }
             t && /^ *\{/ { print }' "$src" |
  sed -e 's/^ *{"\([^"]*\)".*/\1/' -e 's/^ *{META_PREFIX,.*/meta.<key>/')
# Rows of the page's first table: "| `name` | ...".
page=$(awk '/^## The fields/ { t = 1; next } t && /^## / { exit }
            t && /^\| `/ { print }' "$doc" | sed 's/^| `\([^`]*\)`.*/\1/')
if [ -z "$table" ]; then
  echo "events-doc: no field table found in $src"
  exit 1
fi
if [ "$table" != "$page" ]; then
  echo "events-doc: docs/events.md and sdk/cashback_fields.c list different fields"
  echo "table:"; echo "$table" | sed 's/^/  /'
  echo "page:"; echo "$page" | sed 's/^/  /'
  exit 1
fi
echo "events-doc: $(echo "$table" | wc -l) fields, the same in the table and the page"
