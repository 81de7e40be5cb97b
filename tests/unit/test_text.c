#include "cashback_text.h"
#include "tests.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

START_TEST(escapes_every_unprintable_byte) {
  char out[64];
  ck_assert_uint_eq(cashback__printable(out, sizeof(out), "EU\x1b[2JR", 7), 10);
  ck_assert_str_eq(out, "EU\\x1b[2JR");
  ck_assert_uint_eq(
      cashback__printable(out, sizeof(out), "a\0b\x7f\x80\xff", 6), 18);
  ck_assert_str_eq(out, "a\\x00b\\x7f\\x80\\xff");
  ck_assert_uint_eq(cashback__printable(out, sizeof(out), "\r\n\t", 3), 12);
  ck_assert_str_eq(out, "\\x0d\\x0a\\x09");
  /* Every byte value, one at a time. */
  for (int c = 0; c < 256; c++) {
    unsigned char b = (unsigned char)c;
    size_t n = cashback__printable(out, sizeof(out), &b, 1);
    ck_assert(test_all_printable(out));
    ck_assert_uint_eq(n, (c >= 0x20 && c < 0x7f) ? 1 : 4);
  }
}
END_TEST

START_TEST(copies_printable_text_unchanged) {
  char out[64], again[64];
  const char *t = "order 'A-1' \\x1b; 49.90 EUR";
  ck_assert_uint_eq(cashback__printable(out, sizeof(out), t, strlen(t)),
                    strlen(t));
  ck_assert_str_eq(out, t);
  /* Twice is once: a message made printable at its source passes a sink. */
  cashback__printable(out, sizeof(out), "x\x01y", 3);
  cashback__printable(again, sizeof(again), out, strlen(out));
  ck_assert_str_eq(again, out);
  ck_assert_uint_eq(cashback__printable(out, sizeof(out), NULL, 5), 0);
  ck_assert_str_eq(out, "");
}
END_TEST

START_TEST(cuts_with_a_marker_never_inside_an_escape) {
  char out[10];
  /* 9 characters fit: "abcdefghi" whole, "abcdefghij" cut. */
  ck_assert_uint_eq(cashback__printable(out, sizeof(out), "abcdefghi", 9), 9);
  ck_assert_str_eq(out, "abcdefghi");
  ck_assert_uint_eq(cashback__printable(out, sizeof(out), "abcdefghij", 10), 9);
  ck_assert_str_eq(out, "abcdef...");
  /* An escape that does not fit before the marker is left out whole. */
  ck_assert_uint_eq(cashback__printable(out, sizeof(out), "abc\x1b\x1b", 5), 6);
  ck_assert_str_eq(out, "abc...");
  /* Tiny buffers: bounded, terminated, never overrun (ASan watches). */
  for (size_t size = 1; size < 6; size++) {
    char *p = malloc(size);
    size_t n = cashback__printable(p, size, "\x1b\x1b\x1b\x1b", 4);
    ck_assert_uint_lt(n, size);
    ck_assert_uint_eq(strlen(p), n);
    ck_assert(test_all_printable(p));
    free(p);
  }
  ck_assert_uint_eq(cashback__printable(out, 0, "abc", 3), 0);
  /* Input read by its length only: an exactly-sized heap copy. */
  char *in = malloc(3);
  memcpy(in,
         "a\x1b"
         "b",
         3);
  cashback__printable(out, sizeof(out), in, 3);
  ck_assert_str_eq(out, "a\\x1bb");
  free(in);
}
END_TEST

START_TEST(formats_then_escapes) {
  char out[40];
  ck_assert_uint_eq(cashback__printablef(out, sizeof(out), "currency '%s'",
                                         "E\x1b]0;pwned\x07"),
                    28);
  ck_assert_str_eq(out, "currency 'E\\x1b]0;pwned\\x07'");
  /* A formatted text longer than the buffer ends with the marker. */
  char big[600];
  memset(big, 'x', sizeof(big) - 1);
  big[sizeof(big) - 1] = '\0';
  cashback__printablef(out, sizeof(out), "%s", big);
  ck_assert_uint_eq(strlen(out), sizeof(out) - 1);
  ck_assert_str_eq(out + sizeof(out) - 4, "...");
  /* Larger than the formatting buffer: cut, and still marked. */
  char *wide = malloc(8192), *huge = malloc(8192);
  memset(huge, 'y', 8191);
  huge[8191] = '\0';
  size_t n = cashback__printablef(wide, 8192, "%s", huge);
  ck_assert_uint_eq(strlen(wide), n);
  ck_assert_uint_lt(n, 8191);
  ck_assert_str_eq(wide + n - 3, "...");
  free(wide);
  free(huge);
}
END_TEST

/* The public pair, as a program calls it: a wrapper taking its own
 * arguments, the whole message escaped after formatting. */
static size_t say(char *out, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static size_t say(char *out, size_t size, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  size_t n = cashback_vprintablef(out, size, fmt, ap);
  va_end(ap);
  return n;
}

START_TEST(public_calls_format_then_escape) {
  char out[64];
  ck_assert_uint_eq(say(out, sizeof(out), "--order: '%s'", "a\nb\x1b"), 21);
  ck_assert_str_eq(out, "--order: 'a\\x0ab\\x1b'");
  ck_assert_uint_eq(cashback_printablef(out, sizeof(out), "%d %s", 7, "\t"), 6);
  ck_assert_str_eq(out, "7 \\x09");
  ck_assert_uint_eq(cashback_printablef(NULL, 8, "x"), 0);
  ck_assert_uint_eq(cashback_printablef(out, 0, "x"), 0);
  /* A program's long message: whole up to 4095 formatted bytes. */
  char *big = malloc(4096), *wide = malloc(8192);
  memset(big, 'z', 4095);
  big[4095] = '\0';
  ck_assert_uint_eq(cashback_printablef(wide, 8192, "%s", big), 4095);
  ck_assert_str_eq(wide, big);
  /* Past it: those 4095 bytes, then the marker. */
  ck_assert_uint_eq(cashback_printablef(wide, 8192, "%s!", big), 4098);
  ck_assert_str_eq(wide + 4095, "...");
  free(big);
  free(wide);
}
END_TEST

TCase *cashback_test_text(void) {
  TCase *tc = tcase_create("text");
  tcase_add_test(tc, escapes_every_unprintable_byte);
  tcase_add_test(tc, copies_printable_text_unchanged);
  tcase_add_test(tc, cuts_with_a_marker_never_inside_an_escape);
  tcase_add_test(tc, formats_then_escapes);
  tcase_add_test(tc, public_calls_format_then_escape);
  return tc;
}
