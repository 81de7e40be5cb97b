dnl Hardening flags for the installed library and programs (docs/security.md).
dnl
dnl CASHBACK_HARDEN_FLAG(KIND, FLAGS, PROPERTY, [EXTRA-CHECK])
dnl   KIND is cflags or ldflags. Links a small program that copies into a
dnl   stack buffer with FLAGS added to everything accepted so far, with
dnl   -Werror (so that a flag the compiler only warns about, or
dnl   _FORTIFY_SOURCE without optimisation where glibc warns, is refused
dnl   rather than breaking the -Werror build later), and EXTRA-CHECK
dnl   (preprocessor lines after the headers) in it. Appends FLAGS to HARDEN_CFLAGS or
dnl   HARDEN_LDFLAGS when it works, else adds PROPERTY to HARDEN_MISSING
dnl   (tests/scripts/hardening.sh does not ask for what configure could not
dnl   give, and says so).
AC_DEFUN([CASHBACK_HARDEN_FLAG], [
  AC_MSG_CHECKING([whether $CC accepts $2])
  cashback_save_CFLAGS=$CFLAGS
  cashback_save_LDFLAGS=$LDFLAGS
  CFLAGS="$CFLAGS $HARDEN_CFLAGS -Werror"
  LDFLAGS="$LDFLAGS $HARDEN_LDFLAGS"
  AS_CASE([$1], [cflags], [CFLAGS="$CFLAGS $2"], [LDFLAGS="$LDFLAGS $2"])
  AC_LINK_IFELSE([AC_LANG_PROGRAM([[#include <string.h>
#include <stdio.h>
$4
int cashback_harden_probe(const char *s);
int cashback_harden_probe(const char *s) {
  char buf[64];
  memcpy(buf, s, strlen(s) + 1);
  return snprintf(NULL, 0, "%s", buf);
}]], [[return cashback_harden_probe("x") == 1 ? 0 : 1;]])],
    [cashback_harden_ok=yes], [cashback_harden_ok=no])
  CFLAGS=$cashback_save_CFLAGS
  LDFLAGS=$cashback_save_LDFLAGS
  AC_MSG_RESULT([$cashback_harden_ok])
  AS_IF([test "x$cashback_harden_ok" = xyes],
    [AS_CASE([$1], [cflags], [HARDEN_CFLAGS="$HARDEN_CFLAGS $2"],
                             [HARDEN_LDFLAGS="$HARDEN_LDFLAGS $2"])],
    [HARDEN_MISSING="$HARDEN_MISSING $3"
     AS_IF([test "x$enable_hardening" = xyes],
       [AC_MSG_ERROR([--enable-hardening: $CC cannot use $2 (config.log says why)])],
       [AC_MSG_WARN([$CC cannot use $2: the build is not hardened with it (config.log says why)])])])
])

dnl CASHBACK_HARDENING: --disable-hardening, and the probes. Default: on,
dnl with every flag the compiler takes (a warning for one it does not);
dnl --enable-hardening: an error for one it does not.
AC_DEFUN([CASHBACK_HARDENING], [
  AC_ARG_ENABLE([hardening],
    [AS_HELP_STRING([--disable-hardening],
      [do not build with -fstack-protector-strong, -fstack-clash-protection,
       -D_FORTIFY_SOURCE=2 and -Wl,-z,relro,-z,now (default: each one the
       compiler accepts)])],
    [], [enable_hardening=auto])
  HARDEN_CFLAGS=
  HARDEN_LDFLAGS=
  HARDEN_MISSING=
  AS_IF([test "x$enable_hardening" != xno], [
    CASHBACK_HARDEN_FLAG([cflags], [-fstack-protector-strong], [stack-protector])
    CASHBACK_HARDEN_FLAG([cflags], [-fstack-clash-protection], [stack-clash])
    dnl -U first: a compiler that defines _FORTIFY_SOURCE itself (Ubuntu's
    dnl gcc, a user's CPPFLAGS) would warn about the redefinition. The
    dnl probe fails (so FORTIFY is left out, with a warning) when CFLAGS
    dnl has no optimisation: older glibc warns (an error with -Werror),
    dnl newer glibc silently does nothing, and __USE_FORTIFY_LEVEL (glibc's
    dnl own) says which.
    CASHBACK_HARDEN_FLAG([cflags], [-U_FORTIFY_SOURCE -D_FORTIFY_SOURCE=2], [fortify],
      [#if !defined __USE_FORTIFY_LEVEL || __USE_FORTIFY_LEVEL < 1
#error "_FORTIFY_SOURCE has no effect here (CFLAGS without optimisation, or not glibc)"
#endif])
    CASHBACK_HARDEN_FLAG([ldflags], [-Wl,-z,relro], [relro])
    CASHBACK_HARDEN_FLAG([ldflags], [-Wl,-z,now], [bindnow])
    hardening=yes
  ], [
    hardening=no
  ])
  AC_MSG_CHECKING([for the hardening flags])
  AS_IF([test "x$hardening" = xyes],
    [AC_MSG_RESULT([$HARDEN_CFLAGS $HARDEN_LDFLAGS])],
    [AC_MSG_RESULT([none (--disable-hardening)])])
  AC_SUBST([HARDEN_CFLAGS])
  AC_SUBST([HARDEN_LDFLAGS])
  AC_SUBST([HARDEN_MISSING])
  AC_SUBST([HARDENING], [$hardening])
])
