/*
 * ISO 4217 currencies and exact decimal amounts. No floating point anywhere:
 * amounts are parsed digit by digit into unsigned integers, with the cap
 * (CASHBACK__AMOUNT_MAX) checked before every step, so nothing can overflow.
 */
#include "cashback_money.h"

#include <stdio.h>
#include <string.h>

/*
 * Every code of ISO 4217 List One (as published by the maintenance agency,
 * SIX, on 2026-01-01) that has a minor unit, with that minor unit.
 *
 * Left out on purpose:
 * - codes whose minor unit is "N.A.": precious metals (XAG, XAU, XPD, XPT),
 *   IMF/ADB/bond-market units of account (XDR, XUA, XBA, XBB, XBC, XBD),
 *   the SUCRE (XSU), the test code XTS and "no currency" XXX;
 * - withdrawn codes, even recent ones: ANG (replaced by XCG, 2025), BGN
 *   (Bulgaria joined the euro on 2026-01-01), CUC (Cuba, 2021), HRK
 *   (Croatia joined the euro on 2023-01-01), SLL (replaced by SLE), VEF
 *   (replaced by VES/VED), ZWL (replaced by ZWG, 2024). A shop still holding
 *   orders in one of these reports them converted to its successor; if a
 *   network needs one back, it is one line here.
 * Fund and index codes that do have a minor unit are kept (BOV, CHE, CHW,
 * CLF, COU, MXV, USN, UYI, UYW), as is XAD (Arab Accounting Dinar, 2).
 *
 * Sorted by code (strcmp order), searched by bisection; the unit tests check
 * the order.
 */
typedef struct currency_entry {
  char code[4];
  unsigned char exponent;
} currency_entry;

static const currency_entry currencies[] = {
    {"AED", 2}, {"AFN", 2}, {"ALL", 2}, {"AMD", 2}, {"AOA", 2}, {"ARS", 2},
    {"AUD", 2}, {"AWG", 2}, {"AZN", 2}, {"BAM", 2}, {"BBD", 2}, {"BDT", 2},
    {"BHD", 3}, {"BIF", 0}, {"BMD", 2}, {"BND", 2}, {"BOB", 2}, {"BOV", 2},
    {"BRL", 2}, {"BSD", 2}, {"BTN", 2}, {"BWP", 2}, {"BYN", 2}, {"BZD", 2},
    {"CAD", 2}, {"CDF", 2}, {"CHE", 2}, {"CHF", 2}, {"CHW", 2}, {"CLF", 4},
    {"CLP", 0}, {"CNY", 2}, {"COP", 2}, {"COU", 2}, {"CRC", 2}, {"CUP", 2},
    {"CVE", 2}, {"CZK", 2}, {"DJF", 0}, {"DKK", 2}, {"DOP", 2}, {"DZD", 2},
    {"EGP", 2}, {"ERN", 2}, {"ETB", 2}, {"EUR", 2}, {"FJD", 2}, {"FKP", 2},
    {"GBP", 2}, {"GEL", 2}, {"GHS", 2}, {"GIP", 2}, {"GMD", 2}, {"GNF", 0},
    {"GTQ", 2}, {"GYD", 2}, {"HKD", 2}, {"HNL", 2}, {"HTG", 2}, {"HUF", 2},
    {"IDR", 2}, {"ILS", 2}, {"INR", 2}, {"IQD", 3}, {"IRR", 2}, {"ISK", 0},
    {"JMD", 2}, {"JOD", 3}, {"JPY", 0}, {"KES", 2}, {"KGS", 2}, {"KHR", 2},
    {"KMF", 0}, {"KPW", 2}, {"KRW", 0}, {"KWD", 3}, {"KYD", 2}, {"KZT", 2},
    {"LAK", 2}, {"LBP", 2}, {"LKR", 2}, {"LRD", 2}, {"LSL", 2}, {"LYD", 3},
    {"MAD", 2}, {"MDL", 2}, {"MGA", 2}, {"MKD", 2}, {"MMK", 2}, {"MNT", 2},
    {"MOP", 2}, {"MRU", 2}, {"MUR", 2}, {"MVR", 2}, {"MWK", 2}, {"MXN", 2},
    {"MXV", 2}, {"MYR", 2}, {"MZN", 2}, {"NAD", 2}, {"NGN", 2}, {"NIO", 2},
    {"NOK", 2}, {"NPR", 2}, {"NZD", 2}, {"OMR", 3}, {"PAB", 2}, {"PEN", 2},
    {"PGK", 2}, {"PHP", 2}, {"PKR", 2}, {"PLN", 2}, {"PYG", 0}, {"QAR", 2},
    {"RON", 2}, {"RSD", 2}, {"RUB", 2}, {"RWF", 0}, {"SAR", 2}, {"SBD", 2},
    {"SCR", 2}, {"SDG", 2}, {"SEK", 2}, {"SGD", 2}, {"SHP", 2}, {"SLE", 2},
    {"SOS", 2}, {"SRD", 2}, {"SSP", 2}, {"STN", 2}, {"SVC", 2}, {"SYP", 2},
    {"SZL", 2}, {"THB", 2}, {"TJS", 2}, {"TMT", 2}, {"TND", 3}, {"TOP", 2},
    {"TRY", 2}, {"TTD", 2}, {"TWD", 2}, {"TZS", 2}, {"UAH", 2}, {"UGX", 0},
    {"USD", 2}, {"USN", 2}, {"UYI", 0}, {"UYU", 2}, {"UYW", 4}, {"UZS", 2},
    {"VED", 2}, {"VES", 2}, {"VND", 0}, {"VUV", 0}, {"WST", 2}, {"XAD", 2},
    {"XAF", 0}, {"XCD", 2}, {"XCG", 2}, {"XOF", 0}, {"XPF", 0}, {"YER", 2},
    {"ZAR", 2}, {"ZMW", 2}, {"ZWG", 2},
};

#define N_CURRENCIES (sizeof currencies / sizeof currencies[0])

/* Largest exponent the parser and formatter accept: 10^18 still fits an
 * int64_t. The table uses 0 to 4. */
#define EXPONENT_MAX 18

size_t cashback__currency_count(void) {
  return N_CURRENCIES;
}

const char *cashback__currency_code_at(size_t i) {
  return i < N_CURRENCIES ? currencies[i].code : NULL;
}

int cashback__currency_exponent(const char *code, size_t len) {
  if (code == NULL || len != 3)
    return -1;
  for (size_t i = 0; i < 3; i++)
    if (code[i] < 'A' || code[i] > 'Z')
      return -1;
  size_t lo = 0, hi = N_CURRENCIES;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    int c = memcmp(code, currencies[mid].code, 3);
    if (c == 0)
      return currencies[mid].exponent;
    if (c < 0)
      hi = mid;
    else
      lo = mid + 1;
  }
  return -1;
}

/*
 * Grammar: ["-"] 1*DIGIT [ "." 1*DIGIT ], at most `exponent` fraction
 * digits; with exponent 0 there is no fraction part at all, so "1000.0" and
 * "1000." are refused for JPY. No '+', no leading or trailing '.', no space,
 * no exponent; leading zeros are fine ("007.50"). "-0" is 0.
 */
cashback_status cashback__money_parse(const char *s, size_t len, int exponent,
                                      int64_t *out) {
  if (s == NULL || out == NULL || exponent < 0 || exponent > EXPONENT_MAX)
    return CASHBACK_E_INVALID_ARGUMENT;
  const uint64_t max = (uint64_t)CASHBACK__AMOUNT_MAX;
  size_t i = 0;
  int negative = 0;
  if (i < len && s[i] == '-') {
    negative = 1;
    i++;
  }
  /* Integer part: acc stays <= max (10^15), so acc * 10 + 9 cannot wrap. */
  uint64_t acc = 0;
  size_t int_digits = 0;
  while (i < len && s[i] >= '0' && s[i] <= '9') {
    acc = acc * 10 + (uint64_t)(s[i] - '0');
    if (acc > max)
      return CASHBACK_E_AMOUNT;
    int_digits++;
    i++;
  }
  if (int_digits == 0)
    return CASHBACK_E_AMOUNT; /* empty, "-", ".5", "+1", " 1", ... */
  int frac_digits = 0;
  if (i < len && s[i] == '.') {
    i++;
    while (i < len && s[i] >= '0' && s[i] <= '9') {
      if (frac_digits == exponent)
        return CASHBACK_E_AMOUNT; /* more fraction digits than the currency */
      /* Scale the integer part up one digit at a time, then add the digit:
       * acc <= max before, so the product stays below 2^64. */
      acc = acc * 10 + (uint64_t)(s[i] - '0');
      if (acc > max)
        return CASHBACK_E_AMOUNT;
      frac_digits++;
      i++;
    }
    if (frac_digits == 0)
      return CASHBACK_E_AMOUNT; /* "1." or "1.x"; and any '.' for JPY */
  }
  if (i != len)
    return CASHBACK_E_AMOUNT; /* trailing garbage: space, 'e', second '.' */
  for (int k = frac_digits; k < exponent; k++) {
    if (acc > max / 10)
      return CASHBACK_E_AMOUNT;
    acc *= 10;
  }
  /* acc <= 10^15 < INT64_MAX: the conversion and negation are exact. */
  *out = negative ? -(int64_t)acc : (int64_t)acc;
  return CASHBACK_OK;
}

/*
 * Formats every int64_t correctly, INT64_MIN included (the magnitude is
 * taken in uint64_t): the 10^15 cap is enforced where amounts come in
 * (parse, event setters), not when they are printed.
 */
cashback_status cashback__money_format(int64_t minor, int exponent, char *buf,
                                       size_t size) {
  if (buf == NULL || exponent < 0 || exponent > EXPONENT_MAX)
    return CASHBACK_E_INVALID_ARGUMENT;
  /* Digits of the magnitude, least significant first; zero-padded so there
   * is at least one integer digit before the point. */
  char digits[24];
  size_t n = 0;
  uint64_t mag = minor < 0 ? (uint64_t)0 - (uint64_t)minor : (uint64_t)minor;
  do {
    digits[n++] = (char)('0' + (int)(mag % 10));
    mag /= 10;
  } while (mag != 0);
  while (n < (size_t)exponent + 1)
    digits[n++] = '0';
  size_t need = (minor < 0 ? 1u : 0u) + n + (exponent > 0 ? 1u : 0u);
  if (size < need + 1) {
    if (size > 0)
      buf[0] = '\0';
    return CASHBACK_E_TOO_BIG;
  }
  size_t o = 0;
  if (minor < 0)
    buf[o++] = '-';
  for (size_t k = n; k > 0; k--) {
    if (k == (size_t)exponent && exponent > 0)
      buf[o++] = '.';
    buf[o++] = digits[k - 1];
  }
  buf[o] = '\0';
  return CASHBACK_OK;
}

/* Exponent of a NUL-terminated code, reading at most 4 bytes of it. */
static int exponent_of(const char *code) {
  size_t len = 0;
  while (len < 4 && code[len] != '\0')
    len++;
  return cashback__currency_exponent(code, len);
}

int cashback_currency_exponent(const char *code) {
  if (code == NULL)
    return -1;
  return exponent_of(code);
}

cashback_status cashback_money_parse(const char *decimal, size_t len,
                                     const char *currency, int64_t *minor) {
  if (decimal == NULL || currency == NULL || minor == NULL)
    return CASHBACK_E_INVALID_ARGUMENT;
  int e = exponent_of(currency);
  if (e < 0)
    return CASHBACK_E_CURRENCY;
  return cashback__money_parse(decimal, len, e, minor);
}

cashback_status cashback_money_format(int64_t minor, const char *currency,
                                      char *buf, size_t size) {
  if (currency == NULL || buf == NULL)
    return CASHBACK_E_INVALID_ARGUMENT;
  int e = exponent_of(currency);
  if (e < 0) {
    if (size > 0)
      buf[0] = '\0';
    return CASHBACK_E_CURRENCY;
  }
  return cashback__money_format(minor, e, buf, size);
}
