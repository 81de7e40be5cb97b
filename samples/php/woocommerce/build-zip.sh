#!/bin/sh
# Packages the plugin as a WordPress plugin zip: OUTDIR/cashback-woocommerce.zip
# holding the folder cashback-woocommerce/ (the plugin file, the mapping,
# includes/, uninstall.php and readme.txt; not the tests). Upload it on Plugins > Add New >
# Upload Plugin. Usage: sh build-zip.sh [OUTDIR] (default: the current directory).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
out=${1:-.}
mkdir -p "$out"
out=$(cd "$out" && pwd)
stage=$(mktemp -d "${TMPDIR:-/tmp}/cashback-wc-zip.XXXXXX")
trap 'rm -rf "$stage"' EXIT
dir=$stage/cashback-woocommerce
mkdir -p "$dir/includes"
cp "$here/cashback-woocommerce.php" "$here/cashback-mapping.php" "$here/uninstall.php" "$here/readme.txt" "$dir/"
cp "$here"/includes/*.php "$dir/includes/"
chmod -R u=rwX,go=rX "$dir"
rm -f "$out/cashback-woocommerce.zip"
if command -v zip >/dev/null 2>&1; then
  (cd "$stage" && zip -qrX "$out/cashback-woocommerce.zip" cashback-woocommerce)
else
  (cd "$stage" && python3 -c 'import os, sys, zipfile
with zipfile.ZipFile(sys.argv[1], "w", zipfile.ZIP_DEFLATED) as z:
    for root, dirs, files in os.walk("cashback-woocommerce"):
        dirs.sort()
        for f in sorted(files):
            z.write(os.path.join(root, f))' "$out/cashback-woocommerce.zip")
fi
echo "$out/cashback-woocommerce.zip"
