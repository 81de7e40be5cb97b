/* ISO 4217 currencies and exact decimal amounts. No floating point. */
#ifndef CASHBACK_MONEY_H
#define CASHBACK_MONEY_H

#include "cashback.h"

#include <stddef.h>
#include <stdint.h>

/* Largest amount accepted, in minor units (fits a JSON number exactly). */
#define CASHBACK__AMOUNT_MAX INT64_C(1000000000000000)

/* The table's size and its i-th code (NULL past the end), for the tests
 * that check its order. */
size_t cashback__currency_count(void);
const char *cashback__currency_code_at(size_t i);

/* Exponent of an active ISO 4217 code of exactly `len` bytes (3 uppercase
 * letters), or -1. */
int cashback__currency_exponent(const char *code, size_t len);

/* Parses `len` bytes of "[-]digits[.digits]" with at most `exponent` fraction
 * digits (trailing zeros beyond it are still refused, "49.900" EUR is an
 * error) into minor units; |value| <= CASHBACK__AMOUNT_MAX. Never reads past
 * `len`, never allocates. CASHBACK_E_AMOUNT on any other input. */
cashback_status cashback__money_parse(const char *s, size_t len, int exponent,
                                      int64_t *out);

/* Formats minor units with `exponent` fraction digits; CASHBACK_E_TOO_BIG if
 * `size` is too small. */
cashback_status cashback__money_format(int64_t minor, int exponent, char *buf,
                                       size_t size);

#endif
