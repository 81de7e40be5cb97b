#!/bin/sh
# Every ELF file that `make install` installs is hardened (docs/security.md):
# full RELRO (GNU_RELRO + BIND_NOW), stack protector, FORTIFY, PIE programs,
# stack clash protection (tests/scripts/elfcheck.sh says how each is read).
# Installs into a temporary DESTDIR (nothing outside it is touched, and the
# install hook does not run ldconfig for a DESTDIR install), then reads the
# files with readelf. The PHP extension is checked by tests/scripts/php.sh,
# which builds and installs it. mod_cashback.so (Apache, when built) calls
# no function FORTIFY checks, so no __*_chk import can show it: its
# compile command is read for -D_FORTIFY_SOURCE=2 instead (make -n).
# Skips (77) when configured with --disable-hardening or without readelf.
set -eu
: "${top_srcdir:?}" "${top_builddir:?}"
if [ "${HARDENING:-yes}" = no ]; then
  echo "hardening: configured with --disable-hardening, skipped"; exit 77
fi
command -v "${READELF:-readelf}" >/dev/null 2>&1 ||
  { echo "hardening: no readelf (Debian: binutils), skipped"; exit 77; }
work=$(mktemp -d "${TMPDIR:-/tmp}/cashback-hardening.XXXXXX")
trap 'rm -rf "$work"' EXIT
trap 'exit 1' INT TERM HUP
# Our own make, not the outer one's variables (TESTS=..., -j).
unset MAKEFLAGS MFLAGS MAKELEVEL MAKEOVERRIDES TESTS || :

root=$work/root
if ! make -C "$top_builddir" install DESTDIR="$root" >"$work/install.log" 2>&1; then
  tail -n 40 "$work/install.log"
  echo "hardening: make install DESTDIR=$root failed" >&2; exit 1
fi
# Every installed regular file that is ELF or an ar archive.
find "$root" -type f | sort >"$work/files"
: >"$work/elf"
while IFS= read -r f; do
  case $(od -An -c -N7 "$f" | tr -d ' \n') in
    177ELF* | '!<arch>') echo "$f" >>"$work/elf" ;;
  esac
done <"$work/files"
n=$(wc -l <"$work/elf")
echo "hardening: $n ELF files of $(wc -l <"$work/files") installed"
# What must be among them (an install that lost one must not pass).
wants="/lib/libcashback.so. /lib/libcashback.a /bin/cashback"
[ "${BUILD_SANDBOX:-yes}" = no ] || wants="$wants /bin/cashback-sandbox"
for want in $wants; do
  grep -q "$want" "$work/elf" ||
    { cat "$work/files"; echo "hardening: nothing installed matches *$want*" >&2; exit 1; }
done
# mod_cashback.so: everything but fortify from the file, fortify from its
# compile command.
apache_mod=$(grep '/mod_cashback\.so$' "$work/elf" || :)
if [ -n "$apache_mod" ]; then
  grep -v '/mod_cashback\.so$' "$work/elf" >"$work/elf.rest" || :
  mv "$work/elf.rest" "$work/elf"
  case " ${HARDEN_MISSING:-} " in
    *" fortify "*) ;;
    *)
      unset MAKEFLAGS MFLAGS || :
      # -W (this one source taken as changed), not -B: -B also takes the
      # Makefile as out of date, and even under -n make then reruns
      # config.status and rewrites the build tree's Makefile, under the feet
      # of the tests running beside this one (install.sh read the
      # regeneration's output as its prefix).
      make -C "$top_builddir" -n -W plugins/apache/mod_cashback.c \
        plugins/apache/mod_cashback_la-mod_cashback.lo 2>/dev/null |
        grep -q -e '-D_FORTIFY_SOURCE=2' ||
        { echo "hardening: mod_cashback.so is not compiled with -D_FORTIFY_SOURCE=2" >&2; exit 1; }
      ;;
  esac
  ELFCHECK_SKIP=fortify ELFCHECK_SKIP_WHY="its compile command has -D_FORTIFY_SOURCE=2" \
    sh "$top_srcdir/tests/scripts/elfcheck.sh" "$apache_mod" >"$work/apache.out" ||
    { sed "s|$root||" "$work/apache.out"; echo "hardening: mod_cashback.so is not hardened" >&2; exit 1; }
  sed "s|$root||" "$work/apache.out"
fi
rc=0
old_ifs=$IFS; IFS='
'
# shellcheck disable=SC2046
set -- $(cat "$work/elf")
IFS=$old_ifs
sh "$top_srcdir/tests/scripts/elfcheck.sh" "$@" >"$work/check.out" || rc=$?
sed "s|$root||" "$work/check.out"
[ "$rc" = 0 ] || { echo "hardening: installed files are not hardened (above)" >&2; exit 1; }
echo "hardening: all $n installed ELF files hardened"
