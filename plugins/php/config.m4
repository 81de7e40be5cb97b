dnl config.m4 of the cashback PHP extension (libcashback for PHP).
dnl   phpize && ./configure && make && make test
dnl libcashback is found with pkg-config (PKG_CONFIG_PATH for a build tree
dnl or a non-standard prefix); see docs/php.md.

PHP_ARG_WITH([cashback],
  [for libcashback support],
  [AS_HELP_STRING([--with-cashback],
    [Include the cashback extension (libcashback, found with pkg-config)])],
  [yes])

PHP_ARG_ENABLE([cashback-hardening],
  [whether to harden the cashback extension],
  [AS_HELP_STRING([--disable-cashback-hardening],
    [Build the cashback extension without -fstack-protector-strong,
     -fstack-clash-protection, -D_FORTIFY_SOURCE=2 and -Wl,-z,relro,-z,now])],
  [yes], [no])

if test "$PHP_CASHBACK" != "no"; then
  PKG_CHECK_MODULES([LIBCASHBACK], [libcashback >= 0.2.0])

  PHP_EVAL_INCLINE([$LIBCASHBACK_CFLAGS])
  PHP_EVAL_LIBLINE([$LIBCASHBACK_LIBS], [CASHBACK_SHARED_LIBADD])

  dnl The library must really link: cashback_report is in every version
  dnl with a spool (libcashback 0.1.0 and later).
  PHP_CHECK_LIBRARY([cashback], [cashback_report],
    [AC_DEFINE([HAVE_LIBCASHBACK], [1], [libcashback links])],
    [AC_MSG_ERROR([libcashback was found by pkg-config but does not link; check PKG_CONFIG_PATH])],
    [$LIBCASHBACK_LIBS])

  dnl Hardening, as libcashback's own configure does (docs/security.md):
  dnl each flag that links a small program with -Werror (so that
  dnl _FORTIFY_SOURCE without optimisation, where it has no effect or glibc
  dnl warns, is left out); -U first, against a compiler that defines
  dnl _FORTIFY_SOURCE itself.
  CASHBACK_HARDEN_CFLAGS=
  if test "$PHP_CASHBACK_HARDENING" != "no"; then
    for cashback_flag in -fstack-protector-strong -fstack-clash-protection \
        "-U_FORTIFY_SOURCE -D_FORTIFY_SOURCE=2" -Wl,-z,relro -Wl,-z,now; do
      AC_MSG_CHECKING([whether $CC accepts $cashback_flag])
      cashback_save_CFLAGS=$CFLAGS
      CFLAGS="$CFLAGS $CASHBACK_HARDEN_CFLAGS -Werror $cashback_flag"
      AC_LINK_IFELSE([AC_LANG_PROGRAM([[#include <string.h>
#include <stdio.h>
#if defined _FORTIFY_SOURCE && (!defined __USE_FORTIFY_LEVEL || __USE_FORTIFY_LEVEL < 1)
#error "_FORTIFY_SOURCE has no effect here (CFLAGS without optimisation, or not glibc)"
#endif
int cashback_harden_probe(const char *s);
int cashback_harden_probe(const char *s) {
  char buf[64];
  memcpy(buf, s, strlen(s) + 1);
  return snprintf(NULL, 0, "%s", buf);
}]], [[return cashback_harden_probe("x") == 1 ? 0 : 1;]])],
        [cashback_ok=yes], [cashback_ok=no])
      CFLAGS=$cashback_save_CFLAGS
      AC_MSG_RESULT([$cashback_ok])
      if test "$cashback_ok" = yes; then
        case $cashback_flag in
          -Wl,*) CASHBACK_SHARED_LIBADD="$CASHBACK_SHARED_LIBADD $cashback_flag" ;;
          *) CASHBACK_HARDEN_CFLAGS="$CASHBACK_HARDEN_CFLAGS $cashback_flag" ;;
        esac
      else
        AC_MSG_WARN([$CC cannot use $cashback_flag: the extension is built without it])
      fi
    done
  fi

  PHP_SUBST([CASHBACK_SHARED_LIBADD])
  PHP_NEW_EXTENSION([cashback],
    [cashback.c cashback_php_client.c cashback_php_event.c cashback_php_ops.c],
    [$ext_shared], [], [-DZEND_ENABLE_STATIC_TSRMLS_CACHE=1 $CASHBACK_HARDEN_CFLAGS])
fi
