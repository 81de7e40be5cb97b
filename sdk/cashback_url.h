/* The endpoint URL rule: the one validator that the options (when the
 * endpoint is set) and the HTTP transport (before each request) apply, so
 * that a URL is accepted or refused at one place, for one reason. */
#ifndef CASHBACK_URL_H
#define CASHBACK_URL_H

#include <stddef.h>

/* Checks `url` (`len` bytes, NULs not allowed) as an absolute http:// or
 * https:// URL: printable ASCII without space or backslash, a scheme of
 * either case, no user credentials, a host that is a name of
 * [A-Za-z0-9.-] (not starting with '.' or '-', at most 253 characters), a
 * dotted IPv4 address or a bracketed IPv6 address, and an optional port
 * 1-65535. Returns 0 and sets `*plain_remote` to 1 when the URL is
 * http:// to a host that is not a loopback one (127.0.0.0/8 as four
 * decimal octets, [::1], localhost), else 0. On failure returns -1 and
 * writes what is wrong into `why` (`size` bytes; a position at most, never
 * a part of the URL). Never allocates; thread-safe. */
int cashback__url_check(const char *url, size_t len, int *plain_remote,
                        char *why, size_t size);

/* 1 when cashback__url_check() accepts `url` and it is https://, or http://
 * to a loopback host, or `allow_insecure` is set; else 0 (also for NULL). */
int cashback__url_allowed(const char *url, size_t len, int allow_insecure);

#endif
