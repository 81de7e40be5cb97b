#!/bin/sh
# ./bootstrap's own logic, in seconds, touching nothing outside a scratch
# directory: a copy of the script runs in a scratch tree with shims first on
# PATH for dpkg-query (which packages are "missing"), id (root or not),
# apt-get (records its arguments), autoreconf and make (record where they
# ran), and a stand-in configure that refuses, as autoconf's does, to
# configure a build directory from a source tree configured in place.
#   1. without root, the command it prints is the one it runs as root
#      (apt-get install -y --no-install-recommends ...), apart from -qq;
#   2. a fresh tree: configured and built in _build/;
#   3. the README's ./configure by hand first, then ./bootstrap: builds in
#      the tree (autoconf's refusal broke this);
#   4. ./bootstrap first, then ./configure by hand, then ./bootstrap (and
#      `bootstrap demo` runs the demo against that build).
# The real configure and make are not run here (a minute each): the
# stand-in's refusal is checked against the real configure's text.
set -eu
: "${top_srcdir:?}"
work=$(mktemp -d "${TMPDIR:-/tmp}/cashback-bootstrap.XXXXXX")
trap 'rm -rf "$work"' EXIT
trap 'exit 1' INT TERM HUP
fail() { echo "bootstrap.sh: $*" >&2; exit 1; }
unset MAKEFLAGS MFLAGS MAKELEVEL MAKEOVERRIDES || :

# The real configure refuses the same way the stand-in does.
msg='source directory already configured; run "make distclean" there first'
if [ -f "$top_srcdir/configure" ]; then
  grep -qF 'source directory already configured; run' "$top_srcdir/configure" ||
    fail "the real configure no longer has the check the stand-in copies: update this test"
fi

log=$work/log
bin=$work/bin
mkdir "$bin"
cat >"$bin/dpkg-query" <<'EOF'
#!/bin/sh
# dpkg-query -W -f='${Status}' PKG: "missing" when PKG is in FAKE_MISSING.
for p; do :; done
case " ${FAKE_MISSING:-} " in *" $p "*) exit 1 ;; esac
printf 'install ok installed'
EOF
cat >"$bin/id" <<'EOF'
#!/bin/sh
echo "${FAKE_UID:?}"
EOF
cat >"$bin/apt-get" <<'EOF'
#!/bin/sh
echo "apt-get $*" >>"${FAKE_LOG:?}"
EOF
cat >"$bin/autoreconf" <<'EOF'
#!/bin/sh
echo "autoreconf in $(pwd)" >>"${FAKE_LOG:?}"
touch configure Makefile.in
EOF
cat >"$bin/make" <<'EOF'
#!/bin/sh
echo "make in $(pwd)" >>"${FAKE_LOG:?}"
EOF
chmod +x "$bin"/*
PATH=$bin:$PATH
export PATH
# Never the real apt-get (this may run as root).
[ "$(command -v apt-get)" = "$bin/apt-get" ] || fail "the apt-get shim is not first on PATH"
[ "$(command -v dpkg-query)" = "$bin/dpkg-query" ] || fail "the dpkg-query shim is not first on PATH"

# A scratch source tree: the real bootstrap, stand-ins for the rest.
newtree() {
  tree=$work/tree$1
  mkdir -p "$tree/tests/scripts"
  cp "$top_srcdir/bootstrap" "$tree/bootstrap"
  chmod +x "$tree/bootstrap"
  printf 'AC_INIT\n' >"$tree/configure.ac"
  printf '\n' >"$tree/Makefile.am"
  cat >"$tree/configure" <<EOF
#!/bin/sh
# Stand-in for autoconf's configure.
src=\$(cd "\$(dirname "\$0")" && pwd)
if [ "\$src" != "\$(pwd)" ] && [ -f "\$src/config.status" ]; then
  echo 'configure: error: $msg' >&2
  exit 1
fi
echo "configure in \$(pwd)" >>"\${FAKE_LOG:?}"
echo '#!/bin/sh' >config.status; chmod +x config.status
echo 'all:' >Makefile
EOF
  chmod +x "$tree/configure"
  cat >"$tree/tests/scripts/demo.sh" <<'EOF'
echo "demo with top_builddir=$top_builddir" >>"${FAKE_LOG:?}"
EOF
  touch "$tree/Makefile.in"
  # configure and Makefile.in newer than their sources: no autoreconf.
  touch -d '2000-01-01 00:00' "$tree/configure.ac" "$tree/Makefile.am"
}
run() { # run EXPECTED-STATUS ARGS...: the tree's bootstrap, output in $work/out
  want=$1; shift
  : >"$log"
  rc=0
  FAKE_LOG=$log "$tree/bootstrap" "$@" >"$work/out" 2>&1 || rc=$?
  [ "$rc" = "$want" ] || { cat "$work/out" "$log"; fail "bootstrap $*: exit $rc, expected $want"; }
}
expect_log() { # the shims' log is exactly this
  printf '%s\n' "$@" >"$work/expected"
  diff -u "$work/expected" "$log" || { cat "$work/out"; fail "$case: unexpected steps"; }
}

# --- 1. the install command, printed and run ----------------------------------
case=1
newtree 1
FAKE_MISSING="make clang" FAKE_UID=1000 run 1 build
printed=$(sed -n 's/^  apt-get update && //p' "$work/out")
[ -n "$printed" ] || { cat "$work/out"; fail "1: no install command printed"; }
[ ! -s "$log" ] || { cat "$log"; fail "1: without root it ran something"; }
case " $printed " in
  *" --no-install-recommends "*) ;;
  *) fail "1: the printed command lacks --no-install-recommends: $printed" ;;
esac
FAKE_MISSING="make clang" FAKE_UID=0 run 0 build
ran=$(sed -n 's/^\(apt-get install .*\)$/\1/p' "$log")
[ "$(echo "$ran" | sed 's/ -qq//')" = "$printed" ] ||
  fail "1: prints '$printed' but runs '$ran'"
echo "bootstrap.sh: 1. prints and runs: $printed"

# --- 2. a fresh tree: _build/ ----------------------------------------------------
case=2
newtree 2
FAKE_UID=0 run 0 build
expect_log "configure in $tree/_build" "make in $tree/_build"
FAKE_UID=0 run 0 build
expect_log "make in $tree/_build"
echo "bootstrap.sh: 2. fresh tree: built in _build/"

# --- 3. ./configure by hand first --------------------------------------------
case=3
newtree 3
(cd "$tree" && FAKE_LOG=$log ./configure) || fail "3: the stand-in configure failed"
FAKE_UID=0 run 0 build
expect_log "make in $tree"
grep -q 'configured in place' "$work/out" || { cat "$work/out"; fail "3: bootstrap did not say where it builds"; }
[ ! -e "$tree/_build" ] || fail "3: bootstrap made _build/ beside an in-place configuration"
echo "bootstrap.sh: 3. ./configure, then ./bootstrap: built in the tree"

# --- 4. ./bootstrap first, then ./configure by hand ---------------------------------
case=4
newtree 4
FAKE_UID=0 run 0 build
(cd "$tree" && FAKE_LOG=$log ./configure) || fail "4: ./configure after bootstrap failed"
FAKE_UID=0 run 0 build
expect_log "make in $tree"
FAKE_UID=0 run 0 demo
expect_log "make in $tree" "demo with top_builddir=$tree"
echo "bootstrap.sh: 4. ./bootstrap, ./configure, ./bootstrap demo: built in the tree"
