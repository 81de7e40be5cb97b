/* The endpoint URL rule (cashback_url.h): syntax, host and port, and
 * whether plain http:// goes to a loopback host. */
#include "cashback_url.h"
#include "cashback_ascii.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

static int is_alnum(int c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
         (c >= 'A' && c <= 'Z');
}

/* A dotted quad 127.x.y.z: four decimal octets 0-255 without leading
 * zeros. */
static int ipv4_loopback(const char *h, size_t len) {
  int octets = 0;
  size_t i = 0;
  int first = -1;
  while (octets < 4) {
    size_t start = i;
    int v = 0;
    while (i < len && h[i] >= '0' && h[i] <= '9' && i - start < 3)
      v = v * 10 + (h[i++] - '0');
    size_t digits = i - start;
    if (digits == 0 || v > 255 || (digits > 1 && h[start] == '0'))
      return 0;
    if (octets == 0)
      first = v;
    octets++;
    if (octets < 4) {
      if (i >= len || h[i] != '.')
        return 0;
      i++;
    }
  }
  return i == len && first == 127;
}

/* A host name: letters, digits, '-' and '.'; no empty label at the start. */
static int host_name_valid(const char *h, size_t len) {
  if (len == 0 || len > 253 || h[0] == '.' || h[0] == '-')
    return 0;
  for (size_t i = 0; i < len; i++)
    if (!is_alnum((unsigned char)h[i]) && h[i] != '-' && h[i] != '.')
      return 0;
  return 1;
}

static int fail(char *why, size_t size, const char *text) {
  snprintf(why, size, "%s", text);
  return -1;
}

/* ":port" at `p` (`n` bytes, the colon included): 1-65535. */
static int port_valid(const char *p, size_t n) {
  if (n < 2 || n > 6 || p[0] != ':')
    return 0;
  long port = 0;
  for (size_t k = 1; k < n; k++) {
    if (p[k] < '0' || p[k] > '9')
      return 0;
    port = port * 10 + (p[k] - '0');
  }
  return port >= 1 && port <= 65535;
}

/* The bracketed IPv6 host at `a` (`alen` bytes of authority, a[0] '['):
 * sets `*rest` to the offset after ']' and `*loopback`. */
static int ipv6_host(const char *a, size_t alen, size_t *rest, int *loopback,
                     char *why, size_t size) {
  const char *close = memchr(a, ']', alen);
  if (!close)
    return fail(why, size, "unterminated '[' in host");
  size_t hlen = (size_t)(close - a) - 1;
  *rest = hlen + 2;
  if (*rest < alen && a[*rest] != ':')
    return fail(why, size, "unexpected text after ']'");
  if (hlen == 0)
    return fail(why, size, "the host is empty");
  char text[INET6_ADDRSTRLEN];
  struct in6_addr addr;
  if (hlen >= sizeof(text))
    return fail(why, size, "the host in [] is not an IPv6 address");
  memcpy(text, a + 1, hlen);
  text[hlen] = '\0';
  if (inet_pton(AF_INET6, text, &addr) != 1)
    return fail(why, size, "the host in [] is not an IPv6 address");
  *loopback = memcmp(&addr, &in6addr_loopback, sizeof(addr)) == 0;
  return 0;
}

int cashback__url_check(const char *url, size_t len, int *plain_remote,
                        char *why, size_t size) {
  *plain_remote = 0;
  /* Printable ASCII only, no space or backslash anywhere (parsers disagree
   * about them). */
  for (size_t k = 0; k < len; k++) {
    unsigned char c = (unsigned char)url[k];
    if (c <= 0x20 || c >= 0x7f || c == '\\') {
      snprintf(why, size, "character %zu is a %s (percent-encode it)", k + 1,
               c == '\\' ? "backslash"
                         : "space, control or non-ASCII character");
      return -1;
    }
  }
  int https = cashback__ascii_iprefix(url, len, "https://");
  size_t i = https ? 8 : 7;
  if (!https && !cashback__ascii_iprefix(url, len, "http://"))
    return fail(why, size, "must be an absolute http:// or https:// URL");
  size_t auth = i; /* the authority: up to '/', '?' or '#' */
  while (i < len && url[i] != '/' && url[i] != '?' && url[i] != '#')
    i++;
  const char *a = url + auth;
  size_t alen = i - auth;
  if (memchr(a, '@', alen))
    return fail(why, size, "must not contain user credentials ('user@host')");
  size_t rest; /* after the host, within the authority */
  int loopback = 0;
  if (alen > 0 && a[0] == '[') {
    if (ipv6_host(a, alen, &rest, &loopback, why, size) != 0)
      return -1;
  } else {
    const char *colon = memchr(a, ':', alen);
    rest = colon ? (size_t)(colon - a) : alen;
    if (rest == 0)
      return fail(why, size, "the host is empty");
    if (!host_name_valid(a, rest))
      return fail(why, size,
                  "the host must be a name of [A-Za-z0-9.-] (not starting "
                  "with '.' or '-', at most 253 characters) or an address");
    loopback =
        ipv4_loopback(a, rest) || cashback__ascii_ieq(a, rest, "localhost");
  }
  if (rest < alen && !port_valid(a + rest, alen - rest))
    return fail(why, size, "the port must be 1-65535");
  *plain_remote = !https && !loopback;
  return 0;
}

int cashback__url_allowed(const char *url, size_t len, int allow_insecure) {
  char why[128];
  int plain_remote;
  if (!url || cashback__url_check(url, len, &plain_remote, why, sizeof(why)))
    return 0;
  return !plain_remote || allow_insecure != 0;
}
