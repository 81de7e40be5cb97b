dnl config.m4 of the cashback PHP extension (libcashback for PHP).
dnl   phpize && ./configure && make && make test
dnl libcashback is found with pkg-config (PKG_CONFIG_PATH for a build tree
dnl or a non-standard prefix); see docs/php.md.

PHP_ARG_WITH([cashback],
  [for libcashback support],
  [AS_HELP_STRING([--with-cashback],
    [Include the cashback extension (libcashback, found with pkg-config)])],
  [yes])

if test "$PHP_CASHBACK" != "no"; then
  PKG_CHECK_MODULES([LIBCASHBACK], [libcashback >= 0.1.0])

  PHP_EVAL_INCLINE([$LIBCASHBACK_CFLAGS])
  PHP_EVAL_LIBLINE([$LIBCASHBACK_LIBS], [CASHBACK_SHARED_LIBADD])

  dnl The library must really link: cashback_report is in every version
  dnl with a spool (libcashback 0.1.0 and later).
  PHP_CHECK_LIBRARY([cashback], [cashback_report],
    [AC_DEFINE([HAVE_LIBCASHBACK], [1], [libcashback links])],
    [AC_MSG_ERROR([libcashback was found by pkg-config but does not link; check PKG_CONFIG_PATH])],
    [$LIBCASHBACK_LIBS])

  PHP_SUBST([CASHBACK_SHARED_LIBADD])
  PHP_NEW_EXTENSION([cashback],
    [cashback.c cashback_php_client.c cashback_php_event.c cashback_php_ops.c],
    [$ext_shared], [], [-DZEND_ENABLE_STATIC_TSRMLS_CACHE=1])
fi
