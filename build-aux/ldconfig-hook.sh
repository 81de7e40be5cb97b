#!/bin/sh
# ldconfig-hook.sh LIBDIR: run by `make install` (install-exec-hook in
# Makefile.am) once libcashback.so.1 is in LIBDIR, so that the programs
# (cashback, cashback-sandbox) and any program linked with
# `pkg-config --libs libcashback` find it. libtool only makes the symbolic
# links (ldconfig -n); the dynamic loader reads its cache, /etc/ld.so.cache,
# which only a full `ldconfig` updates.
#   DESTDIR set (a staged install: a package, a test): nothing; the
#     system that gets the files runs ldconfig (a package's trigger).
#   LIBDIR is a directory ldconfig scans (/etc/ld.so.conf and the trusted
#     directories; Debian's /usr/local/lib is one): as root, run ldconfig;
#     otherwise say that root must.
#   Otherwise (a prefix of one's own): say how to let the loader find it.
# Never fails the install: the files are in place either way.
set -u
libdir=${1:?usage: ldconfig-hook.sh LIBDIR}
[ -z "${DESTDIR:-}" ] || exit 0
say() { echo "libcashback: $*"; }
ldconfig=$(PATH=$PATH:/sbin:/usr/sbin command -v ldconfig 2>/dev/null) || ldconfig=
if [ -z "$ldconfig" ]; then
  say "no ldconfig here: if programs do not find libcashback.so.1, run them with LD_LIBRARY_PATH=$libdir"
  exit 0
fi
# The directories ldconfig scans, read without changing anything (-N: no
# cache, -X: no links), compared physically (a symbolic link, usrmerge).
real=$(cd "$libdir" 2>/dev/null && pwd -P) || real=$libdir
known=no
for d in $("$ldconfig" -v -N -X 2>/dev/null | sed -n 's|^\(/[^:]*\):.*|\1|p'); do
  if [ "$d" = "$libdir" ] || [ "$(cd "$d" 2>/dev/null && pwd -P)" = "$real" ]; then
    known=yes
    break
  fi
done
if [ "$known" = no ]; then
  say "$libdir is not a directory the dynamic loader searches: programs do not find"
  say "libcashback.so.1 there until either (as root)"
  say "  echo $libdir >/etc/ld.so.conf.d/libcashback.conf && ldconfig"
  say "or, in the environment of each program, LD_LIBRARY_PATH=$libdir"
elif [ "$(id -u)" = 0 ]; then
  say "running ldconfig: the dynamic loader's cache gets libcashback.so.1 in $libdir"
  "$ldconfig" || say "warning: ldconfig failed: run it again as root, or programs do not find libcashback.so.1"
else
  say "run ldconfig as root: programs find libcashback.so.1 in $libdir only once the"
  say "dynamic loader's cache has it"
fi
exit 0
