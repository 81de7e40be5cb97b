#!/bin/sh
# elfcheck.sh FILE...: are these ELF files (and ar archives of them) built
# hardened? Used by tests/scripts/hardening.sh on everything `make install`
# installs, and by tests/scripts/php.sh on the installed PHP extension.
# Each file must:
#   relro    have a GNU_RELRO segment              (-Wl,-z,relro)
#   bindnow  be marked BIND_NOW / FLAGS_1 NOW       (-Wl,-z,now)
#   stack-protector  import __stack_chk_fail        (-fstack-protector-strong;
#            every file installed today has functions with local arrays)
#   fortify  import at least one __*_chk function   (-D_FORTIFY_SOURCE=2)
#   pie      be position independent, if it is a program (has PT_INTERP)
#   stack-clash  when it has DWARF: every GNU C unit was compiled with
#            -fstack-clash-protection and -fstack-protector-strong (the
#            DW_AT_producer lines; nothing in the code itself shows them)
# relro, bindnow and pie do not apply to a static archive's objects; the
# other checks take the archive's members together.
# HARDEN_MISSING lists properties configure could not give (a compiler
# without the flag): they are not asked for, and a line says so.
# ELFCHECK_SKIP lists properties the caller checks another way, and
# ELFCHECK_SKIP_WHY says how (printed).
# Prints one line per file; exits 1 if any file fails, 2 on bad usage.
set -u
READELF=${READELF:-readelf}
[ $# -gt 0 ] || { echo "usage: elfcheck.sh FILE..." >&2; exit 2; }
want() {
  case " ${HARDEN_MISSING:-} ${ELFCHECK_SKIP:-} " in *" $1 "*) return 1 ;; esac
  return 0
}
for p in ${HARDEN_MISSING:-}; do
  echo "elfcheck: $p not checked: configure could not build with it (config.log)"
done
for p in ${ELFCHECK_SKIP:-}; do
  echo "elfcheck: $p not read from the files: ${ELFCHECK_SKIP_WHY:-checked by the caller}"
done
failed=0
for f in "$@"; do
  magic=$(od -An -c -N7 "$f" 2>/dev/null | tr -d ' \n')
  case $magic in
    '!<arch>') kind=archive ;;
    177ELF*) kind=elf ;;
    *) echo "FAIL $f: not an ELF file or archive"; failed=1; continue ;;
  esac
  bad=""
  have=""
  if [ "$kind" = archive ]; then
    syms=$("$READELF" -sW "$f" 2>/dev/null)
  else
    syms=$("$READELF" --dyn-syms -W "$f" 2>/dev/null)
    phdrs=$("$READELF" -lW "$f" 2>/dev/null)
    dyn=$("$READELF" -dW "$f" 2>/dev/null)
    type=$("$READELF" -hW "$f" | sed -n 's/^ *Type: *\([A-Z]*\).*/\1/p')
    if want relro; then
      if printf '%s\n' "$phdrs" | grep -q '^ *GNU_RELRO '; then have="$have relro"
      else bad="$bad no-GNU_RELRO-segment"; fi
    fi
    if want bindnow; then
      if printf '%s\n' "$dyn" | grep -Eq '\(BIND_NOW\)|\(FLAGS\).*BIND_NOW|\(FLAGS_1\).* NOW'; then
        have="$have bindnow"
      else bad="$bad no-BIND_NOW"; fi
    fi
    if printf '%s\n' "$phdrs" | grep -q '^ *INTERP '; then
      # A program: PIE (ET_DYN), not ET_EXEC.
      if [ "$type" = DYN ]; then have="$have pie"; else bad="$bad not-PIE($type)"; fi
    fi
  fi
  # Imported (undefined) symbols, without their version suffix.
  und=$(printf '%s\n' "$syms" | awk '$7 == "UND" && $8 != "" { n = $8; sub(/@.*/, "", n); print n }' | sort -u)
  if want stack-protector; then
    if printf '%s\n' "$und" | grep -qx '__stack_chk_fail'; then have="$have stack-protector"
    else bad="$bad no-__stack_chk_fail"; fi
  fi
  if want fortify; then
    chk=$(printf '%s\n' "$und" | grep -E '^__[a-z0-9_]+_chk$' | grep -v '^__stack_chk' | head -n 3 | tr '\n' ' ')
    if [ -n "$chk" ]; then have="$have fortify(${chk% })"
    else bad="$bad no-__*_chk-import"; fi
  fi
  # The compiler's options, from the DWARF compile units (gcc records them).
  prod=$("$READELF" --debug-dump=info --dwarf-depth=1 "$f" 2>/dev/null |
    sed -n 's/^.*DW_AT_producer[^:]*: *\((indirect[^)]*): *\)\{0,1\}//p' | grep '^GNU C' | sort -u)
  if [ -z "$prod" ]; then
    have="$have (no-DWARF:-options-not-read)"
  else
    for opt in stack-clash:-fstack-clash-protection stack-protector:-fstack-protector-strong; do
      want "${opt%%:*}" || continue
      if printf '%s\n' "$prod" | grep -qv -e " ${opt#*:}\( \|$\)"; then
        bad="$bad unit-without-${opt#*:}"
      else
        have="$have ${opt#*:}"
      fi
    done
  fi
  if [ -n "$bad" ]; then
    echo "FAIL $f:$bad (has:$have)"
    failed=1
  else
    echo "ok   $f:$have"
  fi
done
exit $failed
