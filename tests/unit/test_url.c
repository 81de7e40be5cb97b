/* Unit tests for sdk/cashback_url.c: the one endpoint URL rule, which the
 * options and the HTTP transport both apply. */
#include "cashback.h"
#include "cashback_url.h"
#include "tests.h"

#include <string.h>

static int allowed(const char *url, int insecure) {
  return cashback__url_allowed(url, strlen(url), insecure);
}

START_TEST(url_policy) {
  const char *yes[] = {
      "https://api.network.example/v1/events",
      "https://api.network.example:8443/v1/events",
      "HTTPS://API.NETWORK.EXAMPLE",
      "https://203.0.113.7/v1/events",
      "https://[2001:db8::1]:443/v1/events",
      "http://127.0.0.1/v1/events",
      "http://127.0.0.1:8080/v1/events",
      "http://127.5.6.7/v1/events",
      "http://127.255.255.255?x=1",
      "http://localhost:9000/v1/events",
      "http://LocalHost/v1/events",
      "http://[::1]:9000/v1/events",
      "http://[0:0:0:0:0:0:0:1]/v1/events",
  };
  for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++)
    ck_assert_msg(allowed(yes[i], 0), "refused '%s'", yes[i]);
  const char *no[] = {
      "http://example.com/v1/events",
      "http://10.0.0.1/v1/events",
      "http://128.0.0.1/v1/events",
      "http://127.0.0.1.example.com/v1/events",
      "http://localhost.example.com/",
      "http://127.0.0.01/", /* leading zero: not taken as loopback */
      "http://127.1/",      /* shorthand: not taken as loopback */
      "http://0x7f.0.0.1/",
      "http://[::2]/",
      "http://[::ffff:127.0.0.1]/",
  };
  for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++) {
    ck_assert_msg(!allowed(no[i], 0), "allowed '%s'", no[i]);
    ck_assert_msg(allowed(no[i], 1), "refused insecure '%s'", no[i]);
  }
  const char *never[] = {
      "ftp://127.0.0.1/x",
      "file:///etc/passwd",
      "gopher://127.0.0.1/",
      "http://user@127.0.0.1/",
      "https://user:pw@api.network.example/",
      "https://api.network.example@evil.example/",
      "http:/127.0.0.1/",
      "http//127.0.0.1/",
      "127.0.0.1:8080",
      "",
      "https://",
      "https:///v1/events",
      "https://:443/",
      "https://exa mple.com/",
      "https://example.com/a b",
      "https://example.com\\@evil/",
      "https://example.com:/",
      "https://example.com:0/",
      "https://example.com:65536/",
      "https://example.com:12a/",
      "https://example.com:1:2/",
      "https://[::1/",
      "https://[]/",
      "https://[zz::1]/",
      "https://[::1]x/",
      "https://exa_mple.com/",
      "https://-example.com/",
      "https://%65xample.com/",
      "https://example.com/\x01",
      "https://ex\xc3\xa4mple.com/",
      "garbage",
  };
  for (size_t i = 0; i < sizeof(never) / sizeof(never[0]); i++) {
    ck_assert_msg(!allowed(never[i], 0), "allowed '%s'", never[i]);
    ck_assert_msg(!allowed(never[i], 1), "allowed insecure '%s'", never[i]);
  }
  /* Only `len` bytes are read. */
  ck_assert_int_eq(cashback__url_allowed("http://127.0.0.1/", 16, 0), 1);
  ck_assert_int_eq(cashback__url_allowed("http://127.0.0.1.evil/", 16, 0), 1);
  ck_assert_int_eq(cashback__url_allowed("http://127.0.0.1", 10, 0), 0);
  ck_assert_int_eq(cashback__url_allowed(NULL, 0, 1), 0);
}
END_TEST

TCase *cashback_test_url(void) {
  TCase *tc = tcase_create("url");
  tcase_add_test(tc, url_policy);
  return tc;
}
