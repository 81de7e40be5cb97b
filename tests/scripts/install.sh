#!/bin/sh
# After `make install`, programs find libcashback.so.1 (build-aux/ldconfig-hook.sh,
# the README's "Installing"). Nothing on this machine is changed:
#   1. the hook's decisions, with a stand-in ldconfig and id first on PATH:
#      a DESTDIR install (a real one, into a scratch directory) runs
#      nothing; root with a libdir ldconfig scans runs ldconfig; not root,
#      or a libdir it does not scan, says what to do instead;
#   2. the real thing, where it can be done in private: a plain
#      `make install` as root into /usr/local, in a mount namespace of its
#      own (unshare) with scratch file systems over /usr/local and /etc
#      (holding copies of ld.so.conf and alternatives), the real ldconfig, then the
#      installed cashback and cashback-sandbox run with nothing but the
#      loader's cache, and so does a program built with
#      `pkg-config --cflags --libs libcashback` (Apache's module directory,
#      where mod_cashback goes, is a scratch one too). Needs root (or user
#      namespaces), unshare and a build configured for /usr/local; says so
#      when skipped.
set -eu
: "${top_srcdir:?}" "${top_builddir:?}"
CC=${CC:-cc}
work=$(mktemp -d "${TMPDIR:-/tmp}/cashback-install.XXXXXX")
trap 'rm -rf "$work"' EXIT
trap 'exit 1' INT TERM HUP
fail() { echo "install.sh: $*" >&2; exit 1; }
unset MAKEFLAGS MFLAGS MAKELEVEL MAKEOVERRIDES TESTS DESTDIR || :
mk() { make -C "$top_builddir" "$@"; }
# The build's libdir and prefix, as make expands them.
printf 'print-dirs:\n\t@echo "$(prefix) $(libdir)"\n' >"$work/print.mk"
dirs=$(mk -s --no-print-directory -f Makefile -f "$work/print.mk" print-dirs)
# mod_cashback's directory (empty when it is not built): Apache's own.
printf 'print-moddir:\n\t@echo "$(apachemod_LTLIBRARIES:%%=$(apachemoddir))"\n' >>"$work/print.mk"
apache_moddir=$(mk -s --no-print-directory -f Makefile -f "$work/print.mk" print-moddir)
prefix=${dirs%% *}
libdir=${dirs#* }
[ -n "$prefix" ] && [ -n "$libdir" ] || fail "could not read prefix and libdir from the Makefile"

# --- 1. the hook, with stand-ins ---------------------------------------------
bin=$work/bin
mkdir "$bin"
cat >"$bin/ldconfig" <<'EOF'
#!/bin/sh
# Stand-in: -v -N -X lists FAKE_DIRS as scanned; anything else is recorded.
if [ "$*" = "-v -N -X" ]; then
  for d in ${FAKE_DIRS:-}; do echo "$d: (from /etc/ld.so.conf.d/test.conf:1)"; done
  exit 0
fi
echo "ldconfig $*" >>"${FAKE_LOG:?}"
EOF
cat >"$bin/id" <<'EOF'
#!/bin/sh
echo "${FAKE_UID:?}"
EOF
chmod +x "$bin"/*
log=$work/ldconfig.log
hook() { # hook UID DIRS [DESTDIR]: make install-exec-hook with the stand-ins
  : >"$log"
  PATH=$bin:$PATH FAKE_LOG=$log FAKE_UID=$1 FAKE_DIRS=$2 \
    mk -s --no-print-directory install-exec-hook DESTDIR="${3:-}" >"$work/hook.out" 2>&1 ||
    { cat "$work/hook.out"; fail "make install-exec-hook failed"; }
}
[ "$(PATH=$bin:$PATH command -v ldconfig)" = "$bin/ldconfig" ] || fail "the ldconfig stand-in is not first on PATH"

# A real DESTDIR install: ldconfig is not run, and the files are there.
: >"$log"
PATH=$bin:$PATH FAKE_LOG=$log FAKE_UID=0 FAKE_DIRS="$libdir" \
  mk install DESTDIR="$work/root" >"$work/install.out" 2>&1 ||
  { tail -n 30 "$work/install.out"; fail "make install DESTDIR=... failed"; }
[ ! -s "$log" ] || { cat "$log"; fail "1: a DESTDIR install ran ldconfig"; }
ls "$work/root$libdir"/libcashback.so.1 >/dev/null || fail "1: DESTDIR install has no libcashback.so.1"
echo "install.sh: 1. make install DESTDIR=...: ldconfig not run"

hook 0 "/usr/lib $libdir"
[ "$(cat "$log")" = "ldconfig " ] || { cat "$work/hook.out" "$log"; fail "1: root, $libdir scanned: ldconfig not run"; }
echo "install.sh: 1. root, $libdir scanned by ldconfig: ldconfig run"
hook 0 "/usr/lib $libdir" "$work/root"
[ ! -s "$log" ] || fail "1: the hook with DESTDIR ran ldconfig"
hook 1000 "$libdir"
[ ! -s "$log" ] || fail "1: not root: ldconfig run"
grep -q 'run ldconfig as root' "$work/hook.out" || { cat "$work/hook.out"; fail "1: not root: no hint"; }
echo "install.sh: 1. not root: '$(head -n 1 "$work/hook.out")'"
hook 0 "/usr/lib /lib"
[ ! -s "$log" ] || fail "1: $libdir not scanned: ldconfig run all the same"
grep -q "ld.so.conf.d" "$work/hook.out" && grep -q "LD_LIBRARY_PATH=$libdir" "$work/hook.out" ||
  { cat "$work/hook.out"; fail "1: $libdir not scanned: no hint"; }
echo "install.sh: 1. $libdir not scanned: ld.so.conf.d / LD_LIBRARY_PATH hint"

# --- 2. the real thing, in a private mount namespace --------------------------
skip() { echo "install.sh: 2. skipped: $*"; exit 0; }
[ "$prefix" = /usr/local ] || skip "configured for $prefix, not /usr/local"
# /usr/local is hidden in there: the tools the install and the check use
# must not live in it.
for tool in make "${CC%% *}" pkg-config sh python3; do
  case $(command -v "$tool" 2>/dev/null) in
    /usr/local/*) skip "$tool is in /usr/local, which the private install hides" ;;
  esac
done
command -v unshare >/dev/null 2>&1 || skip "no unshare (util-linux)"
if [ "$(id -u)" = 0 ]; then ns="unshare --mount --propagation private"
else ns="unshare --user --map-root-user --mount --propagation private"; fi
$ns true 2>/dev/null || skip "'$ns' is not allowed here"
outer_ns=$(readlink /proc/self/ns/mnt)
mkdir "$work/etc"
cp -a /etc/ld.so.conf "$work/etc/"
[ ! -d /etc/ld.so.conf.d ] || cp -a /etc/ld.so.conf.d "$work/etc/"
# (and Debian's alternatives: /usr/bin/cc is a link through /etc)
[ ! -d /etc/alternatives ] || cp -a /etc/alternatives "$work/etc/"
cat >"$work/app.c" <<'EOF'
#include <cashback.h>
#include <stdio.h>
int main(void) {
  printf("app linked with libcashback %s\n", cashback_version());
  return 0;
}
EOF
cat >"$work/inner.sh" <<'EOF'
set -eu
# Refuse to go on unless this is a mount namespace of its own.
[ "$(readlink /proc/self/ns/mnt)" != "$OUTER_NS" ] || { echo "not in a new mount namespace" >&2; exit 1; }
mount -t tmpfs cashback-test /usr/local
mount -t tmpfs cashback-test /etc
[ "$(stat -f -c %T /usr/local)" = tmpfs ] && [ "$(stat -f -c %T /etc)" = tmpfs ] ||
  { echo "scratch file systems not mounted" >&2; exit 1; }
cp -a "$WORK/etc/." /etc/
# mod_cashback goes into Apache's module directory: a scratch one too.
if [ -n "$APACHE_MODDIR" ]; then
  [ -d "$APACHE_MODDIR" ] || { echo "no $APACHE_MODDIR to mount over" >&2; exit 1; }
  mount -t tmpfs cashback-test "$APACHE_MODDIR"
  [ "$(stat -f -c %T "$APACHE_MODDIR")" = tmpfs ] || { echo "$APACHE_MODDIR not scratch" >&2; exit 1; }
fi
make -C "$TOP_BUILDDIR" install >"$WORK/real-install.out" 2>&1 ||
  { tail -n 30 "$WORK/real-install.out"; echo "make install failed" >&2; exit 1; }
unset LD_LIBRARY_PATH
/usr/local/bin/cashback --version
[ "${BUILD_SANDBOX:-yes}" = no ] || /usr/local/bin/cashback-sandbox --version
PKG_CONFIG_PATH=/usr/local/lib/pkgconfig
export PKG_CONFIG_PATH
# shellcheck disable=SC2046
"$CC" -o "$WORK/app" "$WORK/app.c" $(pkg-config --cflags --libs libcashback)
"$WORK/app"
EOF
rc=0
OUTER_NS=$outer_ns WORK=$work TOP_BUILDDIR=$top_builddir CC=$CC APACHE_MODDIR=$apache_moddir \
  $ns sh "$work/inner.sh" >"$work/inner.out" 2>&1 || rc=$?
sed 's/^/  /' "$work/inner.out"
if [ "$rc" != 0 ]; then
  grep '^libcashback:' "$work/real-install.out" 2>/dev/null || :
  fail "2: after a plain make install as root, the installed programs do not run"
fi
grep -q '^libcashback: running ldconfig' "$work/real-install.out" ||
  fail "2: make install did not say it ran ldconfig"
echo "install.sh: 2. make install as root into /usr/local (private): cashback, cashback-sandbox and a pkg-config program run"
