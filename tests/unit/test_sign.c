/* Unit tests for sdk/cashback_sign.c: validators, the Cashback-Signature
 * header (build, parse, verify), rotation, tolerance edges, and the test
 * vectors of docs/protocol.md. */
#include "tests.h"

#include "cashback_sign.h"

#include <check.h>
#include <stdio.h>
#include <string.h>

#define S1 "s3cr3t-for-tests-only-0001"
#define S2 "s3cr3t-for-tests-only-0002"
#define K1 "key-2026-01"
#define K2 "key-2026-07"

/* 64 hex digits of a MAC, for hand-made headers. */
#define HEX64 "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"

/* docs/protocol.md, vector 1 "simple" */
static const char V1_BODY[] =
    "{\"protocol\":1,\"merchant_id\":\"shop-42\",\"sent_at\":\"2026-11-23T18:"
    "42:00Z\",\"events\":[{\"id\":\"c8a9d4c385cc850fbc2aa93b160c738f\","
    "\"type\":\"sale\",\"order_id\":\"1001\",\"reported_at\":\"2026-11-23T18:"
    "41:57Z\",\"order_time\":\"2026-11-23T19:41:50+01:00\",\"click\":{"
    "\"token\":\"tok_9f8e7d\",\"source\":\"cb_click\",\"captured_at\":\"2026-"
    "11-20T09:15:00Z\"},\"amount\":4990,\"currency\":\"EUR\"}]}";
static const char V1_HEADER[] = "t=1795459320,v1=key-2026-01:"
                                "f66fa2a5d969183261c1db38fdea441f839baf9892fd33"
                                "78912c4fc5eff2c35f";
/* vector 2 "empty" */
static const char V2_HEADER[] = "t=1700000000,v1=key-2026-01:"
                                "48e011683a273e3443d11b1348d7f6cccaf7ef10e7b7ad"
                                "b8c5bc1ea92c2c81c4";
/* vector 3 "utf8": UTF-8, CR LF and LF, a trailing newline */
static const char V3_BODY[] = "{\n  \"merchant_id\": \"shop-42\",\n  \"note\": "
                              "\"Gr\xc3\xbc\xc3\x9f"
                              "e \xe2\x80\x93 5 \xe2\x82\xac\"\r\n}\n";
static const char V3_HEADER[] = "t=1795459321,v1=key-2026-01:"
                                "b27e5b4c1a9048c834be71c4f4b0c6f23a2cbb71359ad6"
                                "41cf51cb1bf3c826bc";
/* vector 4 "rotation" */
static const char V4_BODY[] =
    "{\"protocol\":1,\"merchant_id\":\"shop-42\",\"sent_at\":\"2026-12-01T08:"
    "00:00Z\",\"events\":[{\"id\":\"f7fb6bfdbcff1d2d64530ddcd094ba48\","
    "\"type\":\"refund\",\"order_id\":\"1001\",\"reported_at\":\"2026-12-01T07:"
    "59:58Z\",\"order_time\":\"2026-11-23T19:41:50+01:00\",\"amount\":1500,"
    "\"currency\":\"EUR\",\"refund_id\":\"CN-7\",\"reason\":\"returned\"}]}";
static const char V4_HEADER[] =
    "t=1796112000,v1=key-2026-01:"
    "43b40f278f31f884deeda30091f2b14d8c7c805ee7590bb8f62c1dda65c0d5d5,v1=key-"
    "2026-07:63ecc588d0250daa5cfbc8be8a054db705b557e22940e21fab067391896dc04a";

static cashback__key mkkey(const char *id, const char *secret) {
  cashback__key k;
  memset(&k, 0, sizeof k);
  memcpy(k.id, id, strlen(id));
  memcpy(k.secret, secret, strlen(secret));
  return k;
}

static cashback_status parse(const char *h, cashback__sig_parsed *p) {
  return cashback__sig_parse(h, strlen(h), p);
}

/* ---------------------------------------------------------------- ids */

START_TEST(id_valid) {
  char s[80];
  ck_assert_int_eq(cashback__id_valid("a", 1), 1);
  ck_assert_int_eq(cashback__id_valid("shop-42", 7), 1);
  ck_assert_int_eq(cashback__id_valid("A.Z_a-z.0_9", 11), 1);
  memset(s, 'x', sizeof s);
  ck_assert_int_eq(cashback__id_valid(s, 64), 1);
  ck_assert_int_eq(cashback__id_valid(s, 65), 0);
  ck_assert_int_eq(cashback__id_valid(s, 0), 0);
  ck_assert_int_eq(cashback__id_valid(NULL, 3), 0);
  /* only len bytes are looked at */
  ck_assert_int_eq(cashback__id_valid("ab cd", 2), 1);
  const char *bad[] = {"a b", "a:b",  "a,b",      "a=b",  "a/b", "a+b",
                       "a@b", "a\tb", "\xc3\xa9", "a\0b", "a;b", "~"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    size_t n = (i == 9) ? 3 : strlen(bad[i]);
    ck_assert_msg(cashback__id_valid(bad[i], n) == 0, "accepted %zu", i);
  }
}
END_TEST

START_TEST(secret_valid) {
  char s[300];
  memset(s, 'k', sizeof s);
  ck_assert_int_eq(cashback__secret_valid(S1, strlen(S1)), 1);
  ck_assert_int_eq(cashback__secret_valid(s, 16), 1);
  ck_assert_int_eq(cashback__secret_valid(s, 15), 0);
  ck_assert_int_eq(cashback__secret_valid(s, 256), 1);
  ck_assert_int_eq(cashback__secret_valid(s, 257), 0);
  ck_assert_int_eq(cashback__secret_valid(NULL, 16), 0);
  ck_assert_int_eq(
      cashback__secret_valid("!\"$%&'()*+,-./:<=>?@[\\]^_`{|}~", 30), 1);
  const char bad[] = {' ', ';', '#', '\t', '\n', 0x7f, '\0', (char)0xc3};
  for (size_t i = 0; i < sizeof bad; i++) {
    memset(s, 'k', 20);
    s[7] = bad[i];
    ck_assert_msg(cashback__secret_valid(s, 20) == 0, "accepted byte %02x",
                  (unsigned char)bad[i]);
  }
}
END_TEST

/* ---------------------------------------------------------- vectors */

START_TEST(vectors_sign_header) {
  char buf[CASHBACK__SIG_HEADER_MAX];
  cashback__key k1 = mkkey(K1, S1);
  cashback__key both[2] = {mkkey(K1, S1), mkkey(K2, S2)};

  ck_assert_int_eq(cashback__sign_header(&k1, 1, 1795459320, V1_BODY,
                                         strlen(V1_BODY), buf, sizeof buf),
                   CASHBACK_OK);
  ck_assert_str_eq(buf, V1_HEADER);
  ck_assert_int_eq(
      cashback__sign_header(&k1, 1, 1700000000, "", 0, buf, sizeof buf),
      CASHBACK_OK);
  ck_assert_str_eq(buf, V2_HEADER);
  ck_assert_int_eq(
      cashback__sign_header(&k1, 1, 1700000000, NULL, 0, buf, sizeof buf),
      CASHBACK_OK);
  ck_assert_str_eq(buf, V2_HEADER);
  ck_assert_int_eq(sizeof V3_BODY - 1, 63);
  ck_assert_int_eq(cashback__sign_header(&k1, 1, 1795459321, V3_BODY,
                                         sizeof V3_BODY - 1, buf, sizeof buf),
                   CASHBACK_OK);
  ck_assert_str_eq(buf, V3_HEADER);
  ck_assert_int_eq(cashback__sign_header(both, 2, 1796112000, V4_BODY,
                                         strlen(V4_BODY), buf, sizeof buf),
                   CASHBACK_OK);
  ck_assert_str_eq(buf, V4_HEADER);
}
END_TEST

START_TEST(vectors_public_sign) {
  char buf[200];
  ck_assert_int_eq(cashback_sign(K1, S1, 1795459320, V1_BODY, strlen(V1_BODY),
                                 buf, sizeof buf),
                   CASHBACK_OK);
  ck_assert_str_eq(buf, V1_HEADER);
  ck_assert_int_eq(cashback_sign(K1, S1, 1700000000, "", 0, buf, sizeof buf),
                   CASHBACK_OK);
  ck_assert_str_eq(buf, V2_HEADER);
  ck_assert_int_eq(cashback_sign(K1, S1, 1795459321, V3_BODY,
                                 sizeof V3_BODY - 1, buf, sizeof buf),
                   CASHBACK_OK);
  ck_assert_str_eq(buf, V3_HEADER);
}
END_TEST

START_TEST(vectors_verify) {
  cashback_verifier *v = cashback_verifier_new();
  char id[CASHBACK_ID_MAX + 1];
  ck_assert_ptr_nonnull(v);
  ck_assert_int_eq(cashback_verifier_add_key(v, K1, S1), CASHBACK_OK);
  ck_assert_int_eq(cashback_verifier_verify(v, V1_HEADER, strlen(V1_HEADER),
                                            V1_BODY, strlen(V1_BODY),
                                            1795459320, id),
                   CASHBACK_OK);
  ck_assert_str_eq(id, K1);
  ck_assert_int_eq(cashback_verifier_verify(v, V2_HEADER, strlen(V2_HEADER), "",
                                            0, 1700000000, id),
                   CASHBACK_OK);
  ck_assert_int_eq(cashback_verifier_verify(v, V3_HEADER, strlen(V3_HEADER),
                                            V3_BODY, sizeof V3_BODY - 1,
                                            1795459321, NULL),
                   CASHBACK_OK);
  /* the body without its final newline is another body */
  ck_assert_int_eq(cashback_verifier_verify(v, V3_HEADER, strlen(V3_HEADER),
                                            V3_BODY, sizeof V3_BODY - 2,
                                            1795459321, id),
                   CASHBACK_E_SIG_MISMATCH);
  ck_assert_str_eq(id, "");
  cashback_verifier_free(v);
}
END_TEST

/* --------------------------------------------------------- building */

START_TEST(sign_header_errors) {
  char buf[CASHBACK__SIG_HEADER_MAX];
  cashback__key k = mkkey(K1, S1);
  cashback__key many[CASHBACK__SIG_MAX + 1];
  cashback__key badid = mkkey("bad id", S1);
  cashback__key badsecret = mkkey(K1, "short");

  for (size_t i = 0; i < CASHBACK__SIG_MAX + 1; i++)
    many[i] = k;
  ck_assert_int_eq(cashback__sign_header(many, CASHBACK__SIG_MAX, 1, "x", 1,
                                         buf, sizeof buf),
                   CASHBACK_OK);
  ck_assert_int_eq(cashback__sign_header(many, CASHBACK__SIG_MAX + 1, 1, "x", 1,
                                         buf, sizeof buf),
                   CASHBACK_E_INVALID_ARGUMENT);
  ck_assert_str_eq(buf, "");
  ck_assert_int_eq(cashback__sign_header(&k, 0, 1, "x", 1, buf, sizeof buf),
                   CASHBACK_E_INVALID_ARGUMENT);
  ck_assert_int_eq(cashback__sign_header(NULL, 1, 1, "x", 1, buf, sizeof buf),
                   CASHBACK_E_INVALID_ARGUMENT);
  ck_assert_int_eq(cashback__sign_header(&k, 1, -1, "x", 1, buf, sizeof buf),
                   CASHBACK_E_INVALID_ARGUMENT);
  ck_assert_int_eq(cashback__sign_header(&k, 1, INT64_C(1000000000000), "x", 1,
                                         buf, sizeof buf),
                   CASHBACK_E_INVALID_ARGUMENT);
  ck_assert_int_eq(cashback__sign_header(&k, 1, INT64_C(999999999999), "x", 1,
                                         buf, sizeof buf),
                   CASHBACK_OK);
  ck_assert_int_eq(cashback__sign_header(&k, 1, 0, "x", 1, buf, sizeof buf),
                   CASHBACK_OK);
  ck_assert_int_eq(strncmp(buf, "t=0,v1=", 7), 0);
  ck_assert_int_eq(cashback__sign_header(&k, 1, 1, NULL, 1, buf, sizeof buf),
                   CASHBACK_E_INVALID_ARGUMENT);
  ck_assert_int_eq(cashback__sign_header(&badid, 1, 1, "x", 1, buf, sizeof buf),
                   CASHBACK_E_INVALID_ARGUMENT);
  ck_assert_int_eq(
      cashback__sign_header(&badsecret, 1, 1, "x", 1, buf, sizeof buf),
      CASHBACK_E_INVALID_ARGUMENT);
  ck_assert_str_eq(buf, "");
  ck_assert_int_eq(cashback__sign_header(&k, 1, 1, "x", 1, NULL, 10),
                   CASHBACK_E_INVALID_ARGUMENT);
  ck_assert_int_eq(cashback__sign_header(&k, 1, 1, "x", 1, buf, 0),
                   CASHBACK_E_INVALID_ARGUMENT);
}
END_TEST

START_TEST(sign_header_too_big) {
  char buf[CASHBACK__SIG_HEADER_MAX];
  cashback__key k = mkkey(K1, S1);
  size_t need = strlen(V1_HEADER) + 1;

  ck_assert_int_eq(cashback__sign_header(&k, 1, 1795459320, V1_BODY,
                                         strlen(V1_BODY), buf, need),
                   CASHBACK_OK);
  ck_assert_str_eq(buf, V1_HEADER);
  ck_assert_int_eq(cashback__sign_header(&k, 1, 1795459320, V1_BODY,
                                         strlen(V1_BODY), buf, need - 1),
                   CASHBACK_E_TOO_BIG);
  ck_assert_str_eq(buf, "");
  ck_assert_int_eq(cashback__sign_header(&k, 1, 1795459320, V1_BODY,
                                         strlen(V1_BODY), buf, 5),
                   CASHBACK_E_TOO_BIG);
  ck_assert_str_eq(buf, "");
  ck_assert_int_eq(cashback_sign(K1, S1, 1795459320, "", 0, buf, need - 1),
                   CASHBACK_E_TOO_BIG);
  /* The client signs with at most two keys (key and next key); seven keys
   * with 64-character ids still fit CASHBACK__SIG_HEADER_MAX, eight do not
   * (14 + 8 * 133 = 1078 bytes) and are refused, never truncated. */
  cashback__key many[CASHBACK__SIG_MAX];
  char longid[CASHBACK_ID_MAX + 1];
  memset(longid, 'i', CASHBACK_ID_MAX);
  longid[CASHBACK_ID_MAX] = '\0';
  for (size_t i = 0; i < CASHBACK__SIG_MAX; i++)
    many[i] = mkkey(longid, S1);
  ck_assert_int_eq(cashback__sign_header(many, 7, INT64_C(999999999999), "x", 1,
                                         buf, sizeof buf),
                   CASHBACK_OK);
  ck_assert_uint_eq(strlen(buf), 14 + 7 * 133);
  ck_assert_int_eq(cashback__sign_header(many, 8, INT64_C(999999999999), "x", 1,
                                         buf, sizeof buf),
                   CASHBACK_E_TOO_BIG);
  ck_assert_str_eq(buf, "");
}
END_TEST

START_TEST(public_sign_errors) {
  char buf[200] = "junk";
  char longid[CASHBACK_ID_MAX + 2];
  char longsecret[CASHBACK__SECRET_MAX + 2];
  memset(longid, 'a', sizeof longid - 1);
  longid[sizeof longid - 1] = '\0';
  memset(longsecret, 'a', sizeof longsecret - 1);
  longsecret[sizeof longsecret - 1] = '\0';

  ck_assert_int_eq(cashback_sign(NULL, S1, 1, "", 0, buf, sizeof buf),
                   CASHBACK_E_INVALID_ARGUMENT);
  ck_assert_str_eq(buf, "");
  ck_assert_int_eq(cashback_sign(K1, NULL, 1, "", 0, buf, sizeof buf),
                   CASHBACK_E_INVALID_ARGUMENT);
  ck_assert_int_eq(cashback_sign(K1, S1, 1, "", 0, NULL, 200),
                   CASHBACK_E_INVALID_ARGUMENT);
  ck_assert_int_eq(cashback_sign("", S1, 1, "", 0, buf, sizeof buf),
                   CASHBACK_E_INVALID_ARGUMENT);
  ck_assert_int_eq(cashback_sign(longid, S1, 1, "", 0, buf, sizeof buf),
                   CASHBACK_E_INVALID_ARGUMENT);
  longid[CASHBACK_ID_MAX] = '\0';
  ck_assert_int_eq(cashback_sign(longid, S1, 1, "", 0, buf, sizeof buf),
                   CASHBACK_OK);
  ck_assert_int_eq(cashback_sign(K1, longsecret, 1, "", 0, buf, sizeof buf),
                   CASHBACK_E_INVALID_ARGUMENT);
  ck_assert_int_eq(
      cashback_sign(K1, "has space in secret", 1, "", 0, buf, sizeof buf),
      CASHBACK_E_INVALID_ARGUMENT);
  ck_assert_int_eq(cashback_sign(K1, S1, -5, "", 0, buf, sizeof buf),
                   CASHBACK_E_INVALID_ARGUMENT);
  ck_assert_int_eq(cashback_sign(K1, S1, 1, NULL, 3, buf, sizeof buf),
                   CASHBACK_E_INVALID_ARGUMENT);
}
END_TEST

START_TEST(sign_mac_matches_header) {
  uint8_t mac[CASHBACK__SHA256_LEN];
  char hex[65];
  ck_assert_int_eq(
      cashback__sign_mac(S1, 1795459320, V1_BODY, strlen(V1_BODY), mac),
      CASHBACK_OK);
  cashback__hex(mac, sizeof mac, hex);
  ck_assert_str_eq(hex, V1_HEADER + strlen("t=1795459320,v1=key-2026-01:"));
  ck_assert_int_eq(cashback__sign_mac(NULL, 1, "", 0, mac),
                   CASHBACK_E_INVALID_ARGUMENT);
  ck_assert_int_eq(cashback__sign_mac("short", 1, "", 0, mac),
                   CASHBACK_E_INVALID_ARGUMENT);
  ck_assert_int_eq(cashback__sign_mac(S1, -1, "", 0, mac),
                   CASHBACK_E_INVALID_ARGUMENT);
  ck_assert_int_eq(cashback__sign_mac(S1, 1, NULL, 1, mac),
                   CASHBACK_E_INVALID_ARGUMENT);
  ck_assert_int_eq(cashback__sign_mac(S1, 1, "", 0, NULL),
                   CASHBACK_E_INVALID_ARGUMENT);
}
END_TEST

/* ---------------------------------------------------------- parsing */

START_TEST(parse_basic) {
  cashback__sig_parsed p;
  ck_assert_int_eq(parse(V4_HEADER, &p), CASHBACK_OK);
  ck_assert_int_eq(p.t, 1796112000);
  ck_assert_uint_eq(p.n, 2);
  ck_assert_uint_eq(p.sigs[0].key_id_len, strlen(K1));
  ck_assert_int_eq(memcmp(p.sigs[0].key_id, K1, strlen(K1)), 0);
  ck_assert_int_eq(p.sigs[0].mac[0], 0x43);
  ck_assert_int_eq(p.sigs[0].mac[31], 0xd5);
  ck_assert_int_eq(memcmp(p.sigs[1].key_id, K2, strlen(K2)), 0);
  ck_assert_int_eq(p.sigs[1].mac[0], 0x63);
  /* the pointers point into the parsed text */
  ck_assert_ptr_eq(p.sigs[0].key_id, V4_HEADER + strlen("t=1796112000,v1="));

  /* items in any order; "t" last */
  ck_assert_int_eq(parse("v1=a:" HEX64 ",t=5", &p), CASHBACK_OK);
  ck_assert_int_eq(p.t, 5);
  ck_assert_uint_eq(p.n, 1);
  ck_assert_int_eq(p.sigs[0].mac[1], 0x11);
  /* uppercase hex is read too */
  ck_assert_int_eq(parse("t=0,v1=a:00112233445566778899AABBCCDDEEFF0011223344"
                         "5566778899AABBCCDDEEFF",
                         &p),
                   CASHBACK_OK);
  ck_assert_int_eq(p.t, 0);
  ck_assert_int_eq(p.sigs[0].mac[10], 0xaa);
  ck_assert_int_eq(parse("t=999999999999,v1=a:" HEX64, &p), CASHBACK_OK);
  ck_assert_int_eq(p.t, INT64_C(999999999999));
}
END_TEST

START_TEST(parse_spaces) {
  cashback__sig_parsed p;
  ck_assert_int_eq(parse(" t=7 , v1=k:" HEX64 " ", &p), CASHBACK_OK);
  ck_assert_int_eq(p.t, 7);
  ck_assert_uint_eq(p.sigs[0].key_id_len, 1);
  ck_assert_int_eq(parse("t=7,\tv1=k:" HEX64 "\t", &p), CASHBACK_OK);
  ck_assert_int_eq(parse("  t=7  ,  v1=k:" HEX64, &p), CASHBACK_OK);
  /* no spaces inside an item */
  ck_assert_int_eq(parse("t = 7,v1=k:" HEX64, &p), CASHBACK_E_SIG_MALFORMED);
  ck_assert_int_eq(parse("t= 7,v1=k:" HEX64, &p), CASHBACK_E_SIG_MALFORMED);
  ck_assert_int_eq(parse("t=7,v1=k: " HEX64, &p), CASHBACK_E_SIG_MALFORMED);
  ck_assert_int_eq(parse("t=7,v1 =k:" HEX64, &p), CASHBACK_E_SIG_MALFORMED);
  /* other whitespace is not a separator */
  ck_assert_int_eq(parse("t=7,\nv1=k:" HEX64, &p), CASHBACK_E_SIG_MALFORMED);
  ck_assert_int_eq(parse("t=7,v1=k:" HEX64 "\r\n", &p),
                   CASHBACK_E_SIG_MALFORMED);
}
END_TEST

START_TEST(parse_other_schemes_ignored) {
  cashback__sig_parsed p;
  ck_assert_int_eq(parse("t=7,v2=whatever:zz,v1=k:" HEX64 ",v0=", &p),
                   CASHBACK_OK);
  ck_assert_uint_eq(p.n, 1);
  ck_assert_int_eq(p.sigs[0].key_id[0], 'k');
  ck_assert_int_eq(parse("t=7,V1=k:" HEX64 ",v1=j:" HEX64, &p), CASHBACK_OK);
  ck_assert_uint_eq(p.n, 1);
  ck_assert_int_eq(p.sigs[0].key_id[0], 'j');
  ck_assert_int_eq(parse("t=7,ed25519=abc=def,v1=k:" HEX64, &p), CASHBACK_OK);
  /* many ignored items are fine */
  char h[600];
  int n = snprintf(h, sizeof h, "t=1,v1=k:%s", HEX64);
  for (int i = 0; i < 20; i++)
    n += snprintf(h + n, sizeof h - (size_t)n, ",v9=x%d", i);
  ck_assert_int_eq(parse(h, &p), CASHBACK_OK);
  /* but only with a scheme name of letters and digits and a '=' */
  ck_assert_int_eq(parse("t=7,v1=k:" HEX64 ",v2", &p),
                   CASHBACK_E_SIG_MALFORMED);
  ck_assert_int_eq(parse("t=7,v1=k:" HEX64 ",=x", &p),
                   CASHBACK_E_SIG_MALFORMED);
  ck_assert_int_eq(parse("t=7,v1=k:" HEX64 ",v-2=x", &p),
                   CASHBACK_E_SIG_MALFORMED);
  ck_assert_int_eq(parse("t=7,v1=k:" HEX64 ",v2=\x01", &p),
                   CASHBACK_E_SIG_MALFORMED);
  ck_assert_int_eq(parse("t=7,v1=k:" HEX64 ",v2=\xc3\xa9", &p),
                   CASHBACK_E_SIG_MALFORMED);
}
END_TEST

START_TEST(parse_t_errors) {
  cashback__sig_parsed p;
  const char *bad[] = {
      "v1=k:" HEX64,                 /* missing t */
      "t=1,t=1,v1=k:" HEX64,         /* duplicate t, even equal */
      "t=1,v1=k:" HEX64 ",t=2",      /* duplicate t, later */
      "t=,v1=k:" HEX64,              /* empty */
      "t=-1,v1=k:" HEX64,            /* sign */
      "t=+1,v1=k:" HEX64,            /* sign */
      "t=01,v1=k:" HEX64,            /* leading zero */
      "t=1000000000000,v1=k:" HEX64, /* 13 digits */
      "t=1.5,v1=k:" HEX64,           /* fraction */
      "t=1e9,v1=k:" HEX64,           /* exponent */
      "t=0x10,v1=k:" HEX64,          /* hex */
      "T=1,v1=k:" HEX64,             /* "T" is another scheme: no t */
      "t:1,v1=k:" HEX64,             /* no '=' */
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    ck_assert_msg(parse(bad[i], &p) == CASHBACK_E_SIG_MALFORMED, "accepted %s",
                  bad[i]);
    ck_assert_uint_eq(p.n, 0); /* nothing half-parsed is left */
  }
}
END_TEST

START_TEST(parse_v1_errors) {
  cashback__sig_parsed p;
  const char *bad[] = {
      "t=1",                             /* no signature */
      "t=1,v2=k:" HEX64,                 /* no v1 */
      "t=1,v1=",                         /* empty */
      "t=1,v1=k",                        /* no ':' */
      "t=1,v1=:" HEX64,                  /* empty key id */
      "t=1,v1=k:",                       /* no hex */
      "t=1,v1=k:" HEX64 "0",             /* 65 digits */
      "t=1,v1=k:" HEX64 "00",            /* 66 digits */
      "t=1,v1=k:0011223344556677889900", /* short */
      "t=1,v1=k:0g112233445566778899aabbccddeeff00112233445566778899aabbccdd"
      "eeff",                /* bad hex digit */
      "t=1,v1=k:" HEX64 ":", /* extra ':' */
      "t=1,v1=k/x:" HEX64,   /* key id charset */
      "t=1,v1=k+x:" HEX64,   /* key id charset */
      "t=1,v1=k=x:" HEX64,   /* key id charset */
      "t=1,v1=k:" HEX64 ",", /* trailing comma */
      ",t=1,v1=k:" HEX64,    /* leading comma */
      "t=1,,v1=k:" HEX64,    /* empty item */
      "t=1, ,v1=k:" HEX64,   /* blank item */
      "",                    /* empty */
      "   ",                 /* blank */
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
    ck_assert_msg(parse(bad[i], &p) == CASHBACK_E_SIG_MALFORMED, "accepted %s",
                  bad[i]);

  /* a 64-character key id is fine, 65 is not */
  char h[300], id[70];
  memset(id, 'i', sizeof id);
  snprintf(h, sizeof h, "t=1,v1=%.64s:%s", id, HEX64);
  ck_assert_int_eq(parse(h, &p), CASHBACK_OK);
  ck_assert_uint_eq(p.sigs[0].key_id_len, 64);
  snprintf(h, sizeof h, "t=1,v1=%.65s:%s", id, HEX64);
  ck_assert_int_eq(parse(h, &p), CASHBACK_E_SIG_MALFORMED);
}
END_TEST

START_TEST(parse_too_many_and_too_long) {
  cashback__sig_parsed p;
  char h[8192];
  int n = snprintf(h, sizeof h, "t=1");
  for (int i = 0; i < CASHBACK__SIG_MAX; i++)
    n += snprintf(h + n, sizeof h - (size_t)n, ",v1=k%d:%s", i, HEX64);
  ck_assert_int_eq(parse(h, &p), CASHBACK_OK);
  ck_assert_uint_eq(p.n, CASHBACK__SIG_MAX);
  ck_assert_int_eq(p.sigs[7].key_id[1], '7');
  snprintf(h + n, sizeof h - (size_t)n, ",v1=k8:%s", HEX64);
  ck_assert_int_eq(parse(h, &p), CASHBACK_E_SIG_MALFORMED);

  /* 4096 bytes is the most a received header may have */
  n = snprintf(h, sizeof h, "t=1,v1=k:%s,x=", HEX64);
  memset(h + n, 'a', 4096 - (size_t)n);
  ck_assert_int_eq(cashback__sig_parse(h, 4096, &p), CASHBACK_OK);
  h[4096] = 'a';
  ck_assert_int_eq(cashback__sig_parse(h, 4097, &p), CASHBACK_E_SIG_MALFORMED);
}
END_TEST

START_TEST(parse_reads_only_len) {
  cashback__sig_parsed p;
  const char *h = "t=1,v1=k:" HEX64 ",garbage";
  size_t len = strlen("t=1,v1=k:" HEX64);
  ck_assert_int_eq(cashback__sig_parse(h, len, &p), CASHBACK_OK);
  ck_assert_int_eq(cashback__sig_parse(h, len - 1, &p),
                   CASHBACK_E_SIG_MALFORMED);
  /* an embedded NUL is a malformed byte, not an end */
  const char nul[] = "t=1,v1=k:" HEX64 "\0,v2=x";
  ck_assert_int_eq(cashback__sig_parse(nul, sizeof nul - 1, &p),
                   CASHBACK_E_SIG_MALFORMED);
  ck_assert_int_eq(cashback__sig_parse(NULL, 0, &p), CASHBACK_E_SIG_MALFORMED);
  ck_assert_int_eq(cashback__sig_parse(h, len, NULL),
                   CASHBACK_E_INVALID_ARGUMENT);
}
END_TEST

START_TEST(build_parse_roundtrip) {
  char buf[CASHBACK__SIG_HEADER_MAX];
  cashback__key keys[2] = {mkkey(K1, S1), mkkey(K2, S2)};
  cashback__sig_parsed p;
  uint8_t mac[CASHBACK__SHA256_LEN];

  ck_assert_int_eq(
      cashback__sign_header(keys, 2, 1234567890, "body", 4, buf, sizeof buf),
      CASHBACK_OK);
  ck_assert_int_eq(parse(buf, &p), CASHBACK_OK);
  ck_assert_int_eq(p.t, 1234567890);
  ck_assert_uint_eq(p.n, 2);
  ck_assert_int_eq(cashback__sign_mac(S2, 1234567890, "body", 4, mac),
                   CASHBACK_OK);
  ck_assert_mem_eq(p.sigs[1].mac, mac, sizeof mac);
}
END_TEST

/* --------------------------------------------------------- verifier */

START_TEST(verify_every_status) {
  cashback_verifier *v = cashback_verifier_new();
  char id[CASHBACK_ID_MAX + 1];
  char h[400];
  const char *body = "{\"x\":1}";
  size_t blen = strlen(body);

  ck_assert_int_eq(cashback_verifier_add_key(v, K1, S1), CASHBACK_OK);
  ck_assert_int_eq(cashback_sign(K1, S1, 1000, body, blen, h, sizeof h),
                   CASHBACK_OK);
  ck_assert_int_eq(
      cashback_verifier_verify(v, h, strlen(h), body, blen, 1000, id),
      CASHBACK_OK);
  ck_assert_str_eq(id, K1);

  /* malformed */
  ck_assert_int_eq(
      cashback_verifier_verify(v, "t=1000", 6, body, blen, 1000, id),
      CASHBACK_E_SIG_MALFORMED);
  ck_assert_str_eq(id, "");
  /* timestamp, checked before the key */
  ck_assert_int_eq(
      cashback_verifier_verify(v, h, strlen(h), body, blen, 2000, id),
      CASHBACK_E_SIG_TIMESTAMP);
  /* body changed */
  ck_assert_int_eq(
      cashback_verifier_verify(v, h, strlen(h), "{\"x\":2}", blen, 1000, id),
      CASHBACK_E_SIG_MISMATCH);
  ck_assert_str_eq(id, "");
  /* timestamp changed: the MAC covers it */
  char h2[800];
  memcpy(h2, h, strlen(h) + 1);
  h2[5] = '1'; /* t=1001 */
  ck_assert_int_eq(
      cashback_verifier_verify(v, h2, strlen(h2), body, blen, 1000, id),
      CASHBACK_E_SIG_MISMATCH);
  /* one hex digit changed */
  memcpy(h2, h, strlen(h) + 1);
  h2[strlen(h2) - 1] = h2[strlen(h2) - 1] == '0' ? '1' : '0';
  ck_assert_int_eq(
      cashback_verifier_verify(v, h2, strlen(h2), body, blen, 1000, id),
      CASHBACK_E_SIG_MISMATCH);
  /* signed by a key the verifier does not know */
  ck_assert_int_eq(cashback_sign(K2, S2, 1000, body, blen, h2, sizeof h2),
                   CASHBACK_OK);
  ck_assert_int_eq(
      cashback_verifier_verify(v, h2, strlen(h2), body, blen, 1000, id),
      CASHBACK_E_SIG_UNKNOWN_KEY);
  /* a known key id with another secret: mismatch */
  ck_assert_int_eq(cashback_sign(K1, S2, 1000, body, blen, h2, sizeof h2),
                   CASHBACK_OK);
  ck_assert_int_eq(
      cashback_verifier_verify(v, h2, strlen(h2), body, blen, 1000, id),
      CASHBACK_E_SIG_MISMATCH);
  /* an unknown key and a bad known one: mismatch */
  snprintf(h2, sizeof h2, "t=1000,v1=other:%s,v1=%s:%s", HEX64, K1, HEX64);
  ck_assert_int_eq(
      cashback_verifier_verify(v, h2, strlen(h2), body, blen, 1000, id),
      CASHBACK_E_SIG_MISMATCH);
  /* a bad signature before a good one: ok */
  snprintf(h2, sizeof h2, "t=1000,v1=%s:%s,%s", K1, HEX64, h + 7);
  ck_assert_int_eq(
      cashback_verifier_verify(v, h2, strlen(h2), body, blen, 1000, id),
      CASHBACK_OK);
  ck_assert_str_eq(id, K1);
  /* a verifier without keys knows none */
  cashback_verifier *empty = cashback_verifier_new();
  ck_assert_int_eq(
      cashback_verifier_verify(empty, h, strlen(h), body, blen, 1000, id),
      CASHBACK_E_SIG_UNKNOWN_KEY);
  cashback_verifier_free(empty);
  /* arguments */
  ck_assert_int_eq(
      cashback_verifier_verify(NULL, h, strlen(h), body, blen, 1000, id),
      CASHBACK_E_INVALID_ARGUMENT);
  ck_assert_int_eq(cashback_verifier_verify(v, NULL, 5, body, blen, 1000, id),
                   CASHBACK_E_INVALID_ARGUMENT);
  ck_assert_int_eq(cashback_verifier_verify(v, h, strlen(h), NULL, 3, 1000, id),
                   CASHBACK_E_INVALID_ARGUMENT);
  /* the key id out-parameter is optional */
  ck_assert_int_eq(
      cashback_verifier_verify(v, h, strlen(h), body, blen, 1000, NULL),
      CASHBACK_OK);
  cashback_verifier_free(v);
}
END_TEST

START_TEST(verify_rotation) {
  cashback_verifier *old_only = cashback_verifier_new();
  cashback_verifier *new_only = cashback_verifier_new();
  cashback_verifier *both = cashback_verifier_new();
  char id[CASHBACK_ID_MAX + 1];
  size_t hl = strlen(V4_HEADER), bl = strlen(V4_BODY);

  ck_assert_int_eq(cashback_verifier_add_key(old_only, K1, S1), CASHBACK_OK);
  ck_assert_int_eq(cashback_verifier_add_key(new_only, K2, S2), CASHBACK_OK);
  ck_assert_int_eq(cashback_verifier_add_key(both, K2, S2), CASHBACK_OK);
  ck_assert_int_eq(cashback_verifier_add_key(both, K1, S1), CASHBACK_OK);

  ck_assert_int_eq(cashback_verifier_verify(old_only, V4_HEADER, hl, V4_BODY,
                                            bl, 1796112000, id),
                   CASHBACK_OK);
  ck_assert_str_eq(id, K1);
  ck_assert_int_eq(cashback_verifier_verify(new_only, V4_HEADER, hl, V4_BODY,
                                            bl, 1796112000, id),
                   CASHBACK_OK);
  ck_assert_str_eq(id, K2);
  /* the first signature in the header that matches wins */
  ck_assert_int_eq(cashback_verifier_verify(both, V4_HEADER, hl, V4_BODY, bl,
                                            1796112000, id),
                   CASHBACK_OK);
  ck_assert_str_eq(id, K1);
  /* a header with the new key only verifies against both-key receivers */
  char h[200];
  ck_assert_int_eq(cashback_sign(K2, S2, 1796112000, V4_BODY, bl, h, sizeof h),
                   CASHBACK_OK);
  ck_assert_int_eq(
      cashback_verifier_verify(both, h, strlen(h), V4_BODY, bl, 1796112000, id),
      CASHBACK_OK);
  ck_assert_str_eq(id, K2);
  ck_assert_int_eq(cashback_verifier_verify(old_only, h, strlen(h), V4_BODY, bl,
                                            1796112000, id),
                   CASHBACK_E_SIG_UNKNOWN_KEY);
  cashback_verifier_free(old_only);
  cashback_verifier_free(new_only);
  cashback_verifier_free(both);
}
END_TEST

START_TEST(verify_tolerance_edges) {
  cashback_verifier *v = cashback_verifier_new();
  char h[200];
  const int64_t t = 1795459320;
  ck_assert_int_eq(cashback_verifier_add_key(v, K1, S1), CASHBACK_OK);
  ck_assert_int_eq(cashback_sign(K1, S1, t, "b", 1, h, sizeof h), CASHBACK_OK);
  size_t hl = strlen(h);

  /* default 300 s */
  ck_assert_int_eq(cashback_verifier_verify(v, h, hl, "b", 1, t + 300, NULL),
                   CASHBACK_OK);
  ck_assert_int_eq(cashback_verifier_verify(v, h, hl, "b", 1, t - 300, NULL),
                   CASHBACK_OK);
  ck_assert_int_eq(cashback_verifier_verify(v, h, hl, "b", 1, t + 301, NULL),
                   CASHBACK_E_SIG_TIMESTAMP);
  ck_assert_int_eq(cashback_verifier_verify(v, h, hl, "b", 1, t - 301, NULL),
                   CASHBACK_E_SIG_TIMESTAMP);
  /* extreme clocks do not overflow */
  ck_assert_int_eq(cashback_verifier_verify(v, h, hl, "b", 1, INT64_MIN, NULL),
                   CASHBACK_E_SIG_TIMESTAMP);
  ck_assert_int_eq(cashback_verifier_verify(v, h, hl, "b", 1, INT64_MAX, NULL),
                   CASHBACK_E_SIG_TIMESTAMP);

  ck_assert_int_eq(cashback_verifier_set_tolerance(v, 10), CASHBACK_OK);
  ck_assert_int_eq(cashback_verifier_verify(v, h, hl, "b", 1, t + 10, NULL),
                   CASHBACK_OK);
  ck_assert_int_eq(cashback_verifier_verify(v, h, hl, "b", 1, t - 10, NULL),
                   CASHBACK_OK);
  ck_assert_int_eq(cashback_verifier_verify(v, h, hl, "b", 1, t + 11, NULL),
                   CASHBACK_E_SIG_TIMESTAMP);
  ck_assert_int_eq(cashback_verifier_verify(v, h, hl, "b", 1, t - 11, NULL),
                   CASHBACK_E_SIG_TIMESTAMP);

  ck_assert_int_eq(cashback_verifier_set_tolerance(v, 0), CASHBACK_OK);
  ck_assert_int_eq(cashback_verifier_verify(v, h, hl, "b", 1, t, NULL),
                   CASHBACK_OK);
  ck_assert_int_eq(cashback_verifier_verify(v, h, hl, "b", 1, t + 1, NULL),
                   CASHBACK_E_SIG_TIMESTAMP);
  ck_assert_int_eq(cashback_verifier_verify(v, h, hl, "b", 1, t - 1, NULL),
                   CASHBACK_E_SIG_TIMESTAMP);

  ck_assert_int_eq(cashback_verifier_set_tolerance(v, -1),
                   CASHBACK_E_INVALID_ARGUMENT);
  ck_assert_int_eq(cashback_verifier_set_tolerance(v, INT64_C(2147483648)),
                   CASHBACK_E_INVALID_ARGUMENT);
  ck_assert_int_eq(cashback_verifier_set_tolerance(NULL, 5),
                   CASHBACK_E_INVALID_ARGUMENT);
  /* a failed setter leaves the tolerance as it was (0) */
  ck_assert_int_eq(cashback_verifier_verify(v, h, hl, "b", 1, t + 1, NULL),
                   CASHBACK_E_SIG_TIMESTAMP);
  cashback_verifier_free(v);
}
END_TEST

START_TEST(verifier_keys) {
  cashback_verifier *v = cashback_verifier_new();
  char h[200], id[8];
  ck_assert_int_eq(cashback_sign(K1, S2, 50, "b", 1, h, sizeof h), CASHBACK_OK);
  ck_assert_int_eq(cashback_verifier_add_key(v, K1, S1), CASHBACK_OK);
  ck_assert_int_eq(cashback_verifier_verify(v, h, strlen(h), "b", 1, 50, NULL),
                   CASHBACK_E_SIG_MISMATCH);
  /* adding the same id replaces its secret */
  ck_assert_int_eq(cashback_verifier_add_key(v, K1, S2), CASHBACK_OK);
  ck_assert_int_eq(cashback_verifier_verify(v, h, strlen(h), "b", 1, 50, NULL),
                   CASHBACK_OK);

  /* 16 keys at most; a replacement still works when full */
  for (int i = 0; i < 15; i++) {
    char kid[16];
    snprintf(kid, sizeof kid, "k%d", i);
    ck_assert_int_eq(cashback_verifier_add_key(v, kid, S1), CASHBACK_OK);
  }
  ck_assert_int_eq(cashback_verifier_add_key(v, "one-too-many", S1),
                   CASHBACK_E_TOO_BIG);
  ck_assert_int_eq(cashback_verifier_add_key(v, "k14", S2), CASHBACK_OK);
  ck_assert_int_eq(cashback_sign("k14", S2, 50, "b", 1, h, sizeof h),
                   CASHBACK_OK);
  ck_assert_int_eq(cashback_verifier_verify(v, h, strlen(h), "b", 1, 50, id),
                   CASHBACK_OK);
  ck_assert_str_eq(id, "k14");
  ck_assert_int_eq(cashback_sign("one-too-many", S1, 50, "b", 1, h, sizeof h),
                   CASHBACK_OK);
  ck_assert_int_eq(cashback_verifier_verify(v, h, strlen(h), "b", 1, 50, id),
                   CASHBACK_E_SIG_UNKNOWN_KEY);

  /* invalid keys are refused */
  ck_assert_int_eq(cashback_verifier_add_key(v, "bad id", S1),
                   CASHBACK_E_INVALID_ARGUMENT);
  ck_assert_int_eq(cashback_verifier_add_key(v, "", S1),
                   CASHBACK_E_INVALID_ARGUMENT);
  ck_assert_int_eq(cashback_verifier_add_key(v, K1, "too-short"),
                   CASHBACK_E_INVALID_ARGUMENT);
  ck_assert_int_eq(cashback_verifier_add_key(v, K1, "sixteen#chars!!!x"),
                   CASHBACK_E_INVALID_ARGUMENT);
  ck_assert_int_eq(cashback_verifier_add_key(v, NULL, S1),
                   CASHBACK_E_INVALID_ARGUMENT);
  ck_assert_int_eq(cashback_verifier_add_key(v, K1, NULL),
                   CASHBACK_E_INVALID_ARGUMENT);
  ck_assert_int_eq(cashback_verifier_add_key(NULL, K1, S1),
                   CASHBACK_E_INVALID_ARGUMENT);
  /* the refused replacement of K1 left S2 in place */
  ck_assert_int_eq(cashback_sign(K1, S2, 50, "b", 1, h, sizeof h), CASHBACK_OK);
  ck_assert_int_eq(cashback_verifier_verify(v, h, strlen(h), "b", 1, 50, NULL),
                   CASHBACK_OK);
  cashback_verifier_free(v);
  cashback_verifier_free(NULL);
}
END_TEST

TCase *cashback_test_sign(void) {
  TCase *tc = tcase_create("sign");
  tcase_add_test(tc, id_valid);
  tcase_add_test(tc, secret_valid);
  tcase_add_test(tc, vectors_sign_header);
  tcase_add_test(tc, vectors_public_sign);
  tcase_add_test(tc, vectors_verify);
  tcase_add_test(tc, sign_header_errors);
  tcase_add_test(tc, sign_header_too_big);
  tcase_add_test(tc, public_sign_errors);
  tcase_add_test(tc, sign_mac_matches_header);
  tcase_add_test(tc, parse_basic);
  tcase_add_test(tc, parse_spaces);
  tcase_add_test(tc, parse_other_schemes_ignored);
  tcase_add_test(tc, parse_t_errors);
  tcase_add_test(tc, parse_v1_errors);
  tcase_add_test(tc, parse_too_many_and_too_long);
  tcase_add_test(tc, parse_reads_only_len);
  tcase_add_test(tc, build_parse_roundtrip);
  tcase_add_test(tc, verify_every_status);
  tcase_add_test(tc, verify_rotation);
  tcase_add_test(tc, verify_tolerance_edges);
  tcase_add_test(tc, verifier_keys);
  return tc;
}
