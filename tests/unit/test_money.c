/* Unit tests for sdk/cashback_money.c: the currency table, exact parsing and
 * formatting of amounts. */
#include "tests.h"

#include "cashback_money.h"

#include <check.h>
#include <stdio.h>
#include <string.h>

#define CB_MAX CASHBACK__AMOUNT_MAX

/* Parses a NUL-terminated string with an internal exponent. */
static cashback_status parse(const char *s, int exponent, int64_t *out) {
  return cashback__money_parse(s, strlen(s), exponent, out);
}

static cashback_status pparse(const char *s, const char *cur, int64_t *out) {
  return cashback_money_parse(s, strlen(s), cur, out);
}

/* ---- the table ---------------------------------------------------------- */

START_TEST(table_sorted_and_sized) {
  size_t n = cashback__currency_count();
  ck_assert_uint_ge(n, 155);
  ck_assert_uint_le(n, 180);
  ck_assert_ptr_null(cashback__currency_code_at(n));
  for (size_t i = 0; i < n; i++) {
    const char *c = cashback__currency_code_at(i);
    ck_assert_ptr_nonnull(c);
    ck_assert_uint_eq(strlen(c), 3);
    for (int k = 0; k < 3; k++)
      ck_assert(c[k] >= 'A' && c[k] <= 'Z');
    if (i > 0)
      ck_assert_msg(strcmp(cashback__currency_code_at(i - 1), c) < 0,
                    "table not strictly sorted at %s", c);
    /* Every entry is reachable by the bisection, with a sane exponent. */
    int e = cashback__currency_exponent(c, 3);
    ck_assert_msg(e >= 0 && e <= 4, "%s has exponent %d", c, e);
  }
}
END_TEST

START_TEST(table_exhaustive_lookup) {
  /* Every 3-letter code: exactly the table's codes are known. */
  size_t found = 0;
  char c[4] = {0};
  for (c[0] = 'A'; c[0] <= 'Z'; c[0]++)
    for (c[1] = 'A'; c[1] <= 'Z'; c[1]++)
      for (c[2] = 'A'; c[2] <= 'Z'; c[2]++)
        if (cashback__currency_exponent(c, 3) >= 0)
          found++;
  ck_assert_uint_eq(found, cashback__currency_count());
}
END_TEST

START_TEST(table_known_exponents) {
  static const struct {
    const char *code;
    int exponent;
  } known[] = {
      {"EUR", 2}, {"USD", 2}, {"GBP", 2}, {"CHF", 2}, {"SEK", 2}, {"NOK", 2},
      {"DKK", 2}, {"PLN", 2}, {"CZK", 2}, {"HUF", 2}, {"RON", 2}, {"INR", 2},
      {"CNY", 2}, {"BRL", 2}, {"MXN", 2}, {"ZAR", 2}, {"AUD", 2}, {"CAD", 2},
      {"AED", 2}, {"ZWG", 2}, {"XCG", 2}, {"SLE", 2}, {"VES", 2}, {"VED", 2},
      {"BIF", 0}, {"CLP", 0}, {"DJF", 0}, {"GNF", 0}, {"ISK", 0}, {"JPY", 0},
      {"KMF", 0}, {"KRW", 0}, {"PYG", 0}, {"RWF", 0}, {"UGX", 0}, {"UYI", 0},
      {"VND", 0}, {"VUV", 0}, {"XAF", 0}, {"XOF", 0}, {"XPF", 0}, {"BHD", 3},
      {"IQD", 3}, {"JOD", 3}, {"KWD", 3}, {"LYD", 3}, {"OMR", 3}, {"TND", 3},
      {"CLF", 4}, {"UYW", 4},
  };
  for (size_t i = 0; i < sizeof known / sizeof known[0]; i++) {
    ck_assert_msg(cashback_currency_exponent(known[i].code) ==
                      known[i].exponent,
                  "%s", known[i].code);
    ck_assert_int_eq(cashback__currency_exponent(known[i].code, 3),
                     known[i].exponent);
  }
}
END_TEST

START_TEST(table_excluded_and_malformed) {
  /* No minor unit (N.A.) and withdrawn codes. */
  static const char *const unknown[] = {
      "XAU", "XAG", "XPD", "XPT", "XDR", "XTS", "XXX", "XUA",  "XSU", "XBA",
      "XBB", "XBC", "XBD", "HRK", "SLL", "VEF", "ZWL", "ANG",  "BGN", "CUC",
      "DEM", "FRF", "AAA", "ZZZ", "eur", "Eur", "EU",  "EURO", "",    "E1R",
  };
  for (size_t i = 0; i < sizeof unknown / sizeof unknown[0]; i++) {
    ck_assert_msg(cashback_currency_exponent(unknown[i]) == -1, "%s",
                  unknown[i]);
    ck_assert_int_eq(
        cashback__currency_exponent(unknown[i], strlen(unknown[i])), -1);
  }
  ck_assert_int_eq(cashback_currency_exponent(NULL), -1);
  ck_assert_int_eq(cashback__currency_exponent(NULL, 3), -1);
  /* Internal lookup honours the length, not a NUL. */
  ck_assert_int_eq(cashback__currency_exponent("EURX", 3), 2);
  ck_assert_int_eq(cashback__currency_exponent("EUR", 2), -1);
  ck_assert_int_eq(cashback__currency_exponent("EUR\0", 4), -1);
  ck_assert_int_eq(cashback__currency_exponent("JP\0", 3), -1);
}
END_TEST

/* ---- parsing ------------------------------------------------------------ */

START_TEST(parse_known_answers) {
  static const struct {
    const char *s;
    const char *cur;
    int64_t want;
  } ok[] = {
      {"49.90", "EUR", 4990},
      {"49.9", "EUR", 4990},
      {"49", "EUR", 4900},
      {"0", "EUR", 0},
      {"0.01", "EUR", 1},
      {"-5.00", "EUR", -500},
      {"-5", "USD", -500},
      {"-0", "EUR", 0},
      {"-0.00", "EUR", 0},
      {"007.50", "EUR", 750},
      {"000000000000000000000000001", "EUR", 100},
      {"1000", "JPY", 1000},
      {"-1000", "JPY", -1000},
      {"0", "KRW", 0},
      {"1.234", "BHD", 1234},
      {"1.2", "KWD", 1200},
      {"1", "TND", 1000},
      {"0.001", "OMR", 1},
      {"1.2345", "CLF", 12345},
      {"1.2", "UYW", 12000},
      {"10000000000000", "EUR", INT64_C(1000000000000000)},
      {"9999999999999.99", "EUR", INT64_C(999999999999999)},
      {"-10000000000000.00", "EUR", -INT64_C(1000000000000000)},
      {"1000000000000000", "JPY", INT64_C(1000000000000000)},
      {"1000000000000.000", "BHD", INT64_C(1000000000000000)},
      {"100000000000.0000", "CLF", INT64_C(1000000000000000)},
  };
  for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
    int64_t v = 12345678;
    cashback_status st = pparse(ok[i].s, ok[i].cur, &v);
    ck_assert_msg(st == CASHBACK_OK, "%s %s: status %d", ok[i].s, ok[i].cur,
                  (int)st);
    ck_assert_msg(v == ok[i].want, "%s %s: got %lld", ok[i].s, ok[i].cur,
                  (long long)v);
  }
}
END_TEST

START_TEST(parse_rejects) {
  static const struct {
    const char *s;
    const char *cur;
  } bad[] = {
      {"49.905", "EUR"},   /* too many fraction digits */
      {"49.900", "EUR"},   /* even when they are zeros */
      {"1000.0", "JPY"},   /* JPY has no fraction at all */
      {"1000.", "JPY"},    /* nor a bare point */
      {"1.2345", "BHD"},   /* 4 digits for a 3-digit currency */
      {"1.23456", "CLF"},  /* 5 digits for a 4-digit currency */
      {"", "EUR"},         /* empty */
      {"-", "EUR"},        /* sign alone */
      {"+5", "EUR"},       /* no '+' */
      {"--5", "EUR"},      /* one sign */
      {"-+5", "EUR"},      /* one sign */
      {".5", "EUR"},       /* no leading point */
      {"-.5", "EUR"},      /* no leading point */
      {"5.", "EUR"},       /* no trailing point */
      {"5..0", "EUR"},     /* one point */
      {"5.0.0", "EUR"},    /* one point */
      {" 5", "EUR"},       /* no space */
      {"5 ", "EUR"},       /* no space */
      {"5 .00", "EUR"},    /* no space */
      {"- 5", "EUR"},      /* no space */
      {"1e3", "EUR"},      /* no exponent */
      {"1.5e2", "EUR"},    /* no exponent */
      {"1,50", "EUR"},     /* no comma */
      {"1_000", "EUR"},    /* no separator */
      {"0x10", "EUR"},     /* no hex */
      {"5-", "EUR"},       /* sign at the end */
      {"abc", "EUR"},      /* not a number */
      {"NaN", "EUR"},      /* not a number */
      {"inf", "EUR"},      /* not a number */
      {"\xd9\xa5", "EUR"}, /* non-ASCII digit */
      /* Past the cap of 10^15 minor units. */
      {"10000000000000.01", "EUR"},
      {"-10000000000000.01", "EUR"},
      {"10000000000001", "EUR"},
      {"1000000000000001", "JPY"},
      {"1000000000000.001", "BHD"},
      {"100000000000.0001", "CLF"},
      {"99999999999999999999999999", "EUR"},
      {"18446744073709551616", "JPY"}, /* 2^64 */
      {"9223372036854775808", "JPY"},  /* 2^63 */
      {"-9223372036854775808", "JPY"},
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    int64_t v = 777;
    cashback_status st = pparse(bad[i].s, bad[i].cur, &v);
    ck_assert_msg(st == CASHBACK_E_AMOUNT, "'%s' %s: status %d", bad[i].s,
                  bad[i].cur, (int)st);
    ck_assert_msg(v == 777, "'%s': output written on failure", bad[i].s);
  }
}
END_TEST

START_TEST(parse_honours_length) {
  int64_t v = 0;
  /* Only `len` bytes are read: the rest of the string is ignored. */
  ck_assert_int_eq(cashback__money_parse("49.90xyz", 5, 2, &v), CASHBACK_OK);
  ck_assert_int_eq(v, 4990);
  ck_assert_int_eq(cashback__money_parse("49.905", 5, 2, &v), CASHBACK_OK);
  ck_assert_int_eq(v, 4990);
  ck_assert_int_eq(cashback__money_parse("12", 1, 0, &v), CASHBACK_OK);
  ck_assert_int_eq(v, 1);
  ck_assert_int_eq(cashback__money_parse("49.90", 0, 2, &v), CASHBACK_E_AMOUNT);
  ck_assert_int_eq(cashback__money_parse("49.90", 3, 2, &v),
                   CASHBACK_E_AMOUNT); /* "49." */
  /* An embedded NUL is a byte like any other, and not a digit. */
  ck_assert_int_eq(cashback__money_parse("4\0"
                                         "9",
                                         3, 0, &v),
                   CASHBACK_E_AMOUNT);
  /* Not NUL-terminated at all. */
  char raw[4] = {'1', '2', '.', '5'};
  ck_assert_int_eq(cashback__money_parse(raw, sizeof raw, 1, &v), CASHBACK_OK);
  ck_assert_int_eq(v, 125);
  ck_assert_int_eq(cashback_money_parse(raw, 2, "JPY", &v), CASHBACK_OK);
  ck_assert_int_eq(v, 12);
}
END_TEST

START_TEST(parse_errors_and_arguments) {
  int64_t v = 5;
  ck_assert_int_eq(pparse("1", "XXX", &v), CASHBACK_E_CURRENCY);
  ck_assert_int_eq(pparse("1", "eur", &v), CASHBACK_E_CURRENCY);
  ck_assert_int_eq(pparse("1", "", &v), CASHBACK_E_CURRENCY);
  ck_assert_int_eq(pparse("1", "EURO", &v), CASHBACK_E_CURRENCY);
  ck_assert_int_eq(pparse("1", "HRK", &v), CASHBACK_E_CURRENCY);
  /* The currency is checked before the amount. */
  ck_assert_int_eq(pparse("x", "XAU", &v), CASHBACK_E_CURRENCY);
  ck_assert_int_eq(cashback_money_parse(NULL, 0, "EUR", &v),
                   CASHBACK_E_INVALID_ARGUMENT);
  ck_assert_int_eq(cashback_money_parse("1", 1, NULL, &v),
                   CASHBACK_E_INVALID_ARGUMENT);
  ck_assert_int_eq(cashback_money_parse("1", 1, "EUR", NULL),
                   CASHBACK_E_INVALID_ARGUMENT);
  ck_assert_int_eq(v, 5);
  ck_assert_int_eq(cashback__money_parse(NULL, 0, 2, &v),
                   CASHBACK_E_INVALID_ARGUMENT);
  ck_assert_int_eq(cashback__money_parse("1", 1, 2, NULL),
                   CASHBACK_E_INVALID_ARGUMENT);
  ck_assert_int_eq(cashback__money_parse("1", 1, -1, &v),
                   CASHBACK_E_INVALID_ARGUMENT);
  ck_assert_int_eq(cashback__money_parse("1", 1, 19, &v),
                   CASHBACK_E_INVALID_ARGUMENT);
  ck_assert_int_eq(v, 5);
  /* Large exponents are fine internally as long as the cap holds. */
  ck_assert_int_eq(parse("0.000000000000000001", 18, &v), CASHBACK_OK);
  ck_assert_int_eq(v, 1);
  ck_assert_int_eq(parse("0.001", 18, &v), CASHBACK_OK);
  ck_assert_int_eq(v, INT64_C(1000000000000000));
  ck_assert_int_eq(parse("0.0011", 18, &v), CASHBACK_E_AMOUNT);
  ck_assert_int_eq(parse("1", 18, &v), CASHBACK_E_AMOUNT);
}
END_TEST

/* ---- formatting --------------------------------------------------------- */

START_TEST(format_known_answers) {
  static const struct {
    int64_t v;
    const char *cur;
    const char *want;
  } ok[] = {
      {4990, "EUR", "49.90"},
      {4900, "EUR", "49.00"},
      {5, "EUR", "0.05"},
      {-5, "EUR", "-0.05"},
      {-500, "EUR", "-5.00"},
      {0, "EUR", "0.00"},
      {1000, "JPY", "1000"},
      {0, "JPY", "0"},
      {-7, "KRW", "-7"},
      {1234, "BHD", "1.234"},
      {1, "KWD", "0.001"},
      {-999, "TND", "-0.999"},
      {12345, "CLF", "1.2345"},
      {1, "UYW", "0.0001"},
      {INT64_C(1000000000000000), "EUR", "10000000000000.00"},
      {-INT64_C(1000000000000000), "JPY", "-1000000000000000"},
      /* Beyond the cap: formatted exactly, never refused. */
      {INT64_MAX, "EUR", "92233720368547758.07"},
      {INT64_MIN, "EUR", "-92233720368547758.08"},
      {INT64_MIN, "JPY", "-9223372036854775808"},
      {INT64_MAX, "CLF", "922337203685477.5807"},
  };
  for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
    char buf[32];
    memset(buf, 'x', sizeof buf);
    ck_assert_int_eq(cashback_money_format(ok[i].v, ok[i].cur, buf, sizeof buf),
                     CASHBACK_OK);
    ck_assert_str_eq(buf, ok[i].want);
  }
  char buf[32];
  ck_assert_int_eq(cashback__money_format(INT64_MIN, 18, buf, sizeof buf),
                   CASHBACK_OK);
  ck_assert_str_eq(buf, "-9.223372036854775808");
  ck_assert_int_eq(cashback__money_format(1, 18, buf, sizeof buf), CASHBACK_OK);
  ck_assert_str_eq(buf, "0.000000000000000001");
  ck_assert_int_eq(cashback__money_format(-1, 18, buf, sizeof buf),
                   CASHBACK_OK);
  ck_assert_str_eq(buf, "-0.000000000000000001");
}
END_TEST

START_TEST(format_buffer_sizes) {
  char buf[8];
  /* "49.90" needs 6 bytes with the NUL. */
  ck_assert_int_eq(cashback_money_format(4990, "EUR", buf, 6), CASHBACK_OK);
  ck_assert_str_eq(buf, "49.90");
  memset(buf, 'x', sizeof buf);
  ck_assert_int_eq(cashback_money_format(4990, "EUR", buf, 5),
                   CASHBACK_E_TOO_BIG);
  ck_assert_str_eq(buf, ""); /* no partial output */
  ck_assert_int_eq(cashback_money_format(-5, "EUR", buf, 6), CASHBACK_OK);
  ck_assert_str_eq(buf, "-0.05");
  ck_assert_int_eq(cashback_money_format(-5, "EUR", buf, 5),
                   CASHBACK_E_TOO_BIG);
  ck_assert_int_eq(cashback_money_format(0, "JPY", buf, 2), CASHBACK_OK);
  ck_assert_str_eq(buf, "0");
  ck_assert_int_eq(cashback_money_format(0, "JPY", buf, 1), CASHBACK_E_TOO_BIG);
  ck_assert_int_eq(cashback_money_format(0, "JPY", buf, 0), CASHBACK_E_TOO_BIG);
  ck_assert_int_eq(cashback__money_format(10, 0, buf, 2), CASHBACK_E_TOO_BIG);
}
END_TEST

START_TEST(format_errors) {
  char buf[32] = "untouched";
  ck_assert_int_eq(cashback_money_format(1, "XAU", buf, sizeof buf),
                   CASHBACK_E_CURRENCY);
  ck_assert_str_eq(buf, "");
  ck_assert_int_eq(cashback_money_format(1, "usd", buf, sizeof buf),
                   CASHBACK_E_CURRENCY);
  ck_assert_int_eq(cashback_money_format(1, NULL, buf, sizeof buf),
                   CASHBACK_E_INVALID_ARGUMENT);
  ck_assert_int_eq(cashback_money_format(1, "EUR", NULL, 10),
                   CASHBACK_E_INVALID_ARGUMENT);
  ck_assert_int_eq(cashback__money_format(1, -1, buf, sizeof buf),
                   CASHBACK_E_INVALID_ARGUMENT);
  ck_assert_int_eq(cashback__money_format(1, 19, buf, sizeof buf),
                   CASHBACK_E_INVALID_ARGUMENT);
  ck_assert_int_eq(cashback__money_format(1, 2, NULL, 10),
                   CASHBACK_E_INVALID_ARGUMENT);
}
END_TEST

/* ---- round trips -------------------------------------------------------- */

static void roundtrip(int64_t v, int e) {
  char buf[32];
  int64_t back = ~v;
  ck_assert_int_eq(cashback__money_format(v, e, buf, sizeof buf), CASHBACK_OK);
  ck_assert_msg(cashback__money_parse(buf, strlen(buf), e, &back) ==
                    CASHBACK_OK,
                "'%s' (e=%d) does not parse", buf, e);
  ck_assert_msg(back == v, "%lld (e=%d) -> '%s' -> %lld", (long long)v, e, buf,
                (long long)back);
}

START_TEST(roundtrip_many) {
  static const int64_t edge[] = {
      0,
      1,
      -1,
      9,
      10,
      11,
      99,
      100,
      101,
      999,
      1000,
      1001,
      4990,
      -4990,
      12345,
      INT64_C(999999999999999),
      INT64_C(1000000000000000),
      -INT64_C(1000000000000000),
      INT64_C(123456789012345),
  };
  for (int e = 0; e <= 4; e++) {
    for (size_t i = 0; i < sizeof edge / sizeof edge[0]; i++)
      roundtrip(edge[i], e);
    /* A deterministic spread over the whole range (LCG). */
    uint64_t x = 0x9e3779b97f4a7c15u;
    for (int i = 0; i < 5000; i++) {
      x = x * 6364136223846793005u + 1442695040888963407u;
      int64_t v = (int64_t)((x >> 11) % (2 * (uint64_t)CB_MAX + 1)) - CB_MAX;
      roundtrip(v, e);
      roundtrip(v % 100000, e); /* small values, many leading zeros */
    }
  }
  /* Beyond the cap the formatted text is refused by the parser. */
  char buf[32];
  int64_t v;
  ck_assert_int_eq(cashback__money_format(CB_MAX + 1, 2, buf, sizeof buf),
                   CASHBACK_OK);
  ck_assert_int_eq(cashback__money_parse(buf, strlen(buf), 2, &v),
                   CASHBACK_E_AMOUNT);
}
END_TEST

TCase *cashback_test_money(void) {
  TCase *tc = tcase_create("money");
  tcase_add_test(tc, table_sorted_and_sized);
  tcase_add_test(tc, table_exhaustive_lookup);
  tcase_add_test(tc, table_known_exponents);
  tcase_add_test(tc, table_excluded_and_malformed);
  tcase_add_test(tc, parse_known_answers);
  tcase_add_test(tc, parse_rejects);
  tcase_add_test(tc, parse_honours_length);
  tcase_add_test(tc, parse_errors_and_arguments);
  tcase_add_test(tc, format_known_answers);
  tcase_add_test(tc, format_buffer_sizes);
  tcase_add_test(tc, format_errors);
  tcase_add_test(tc, roundtrip_many);
  return tc;
}
