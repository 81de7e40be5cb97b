/*
 * Request decoding for the network modes: form bodies and query strings
 * (application/x-www-form-urlencoded, as Impact takes them) and HTTP Basic
 * credentials. Every error says what was wrong and where, never a
 * credential. Fuzzed by tests/fuzz/fuzz_sandbox_decode.c.
 */
#include "sandbox_net.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static int hex_value(char c) {
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

/* The `len` bytes at `s` percent-decoded ('+' a space) into a new string,
 * at `*out`. 0, -1 with `err` on a bad escape or a NUL, -2 out of
 * memory. `what` and `at` name the field for the error. */
static int pct_decode(const char *s, size_t len, char **out, const char *what,
                      size_t at, char *err, size_t size) {
  char *d = malloc(len + 1);
  if (!d)
    return -2;
  size_t k = 0;
  for (size_t i = 0; i < len; i++) {
    char c = s[i];
    if (c == '+') {
      c = ' ';
    } else if (c == '%') {
      int hi = i + 1 < len ? hex_value(s[i + 1]) : -1;
      int lo = i + 2 < len ? hex_value(s[i + 2]) : -1;
      if (hi < 0 || lo < 0) {
        snprintf(err, size,
                 "field %zu (%s): '%%' is not followed by two hex digits", at,
                 what);
        free(d);
        return -1;
      }
      c = (char)(hi * 16 + lo);
      i += 2;
    }
    if (c == '\0') {
      snprintf(err, size, "field %zu (%s): a NUL byte", at, what);
      free(d);
      return -1;
    }
    d[k++] = c;
  }
  d[k] = '\0';
  *out = d;
  return 0;
}

void sb_form_free(sb_form *form) {
  for (size_t i = 0; i < form->n; i++) {
    free(form->fields[i].name);
    free(form->fields[i].value);
  }
  free(form->fields);
  form->fields = NULL;
  form->n = 0;
}

const char *sb_form_get(const sb_form *form, const char *name) {
  for (size_t i = 0; i < form->n; i++)
    if (strcmp(form->fields[i].name, name) == 0)
      return form->fields[i].value;
  return NULL;
}

/* One "name=value" (`len` bytes at `p`, the `at`th field) into `form`. */
static int add_pair(sb_form *form, const char *p, size_t len, size_t at,
                    char *err, size_t size) {
  const char *eq = memchr(p, '=', len);
  if (!eq) {
    snprintf(err, size, "field %zu has no '=' (expected name=value)", at);
    return -1;
  }
  if (eq == p) {
    snprintf(err, size, "field %zu has no name before '='", at);
    return -1;
  }
  if (form->n >= SB_FORM_FIELDS_MAX) {
    snprintf(err, size, "more than %d fields", SB_FORM_FIELDS_MAX);
    return -1;
  }
  char *name = NULL, *value = NULL;
  int rc = pct_decode(p, (size_t)(eq - p), &name, "its name", at, err, size);
  if (rc == 0)
    rc = pct_decode(eq + 1, len - (size_t)(eq - p) - 1, &value, name, at, err,
                    size);
  if (rc == 0 && sb_form_get(form, name)) {
    char shown[80];
    snprintf(shown, sizeof(shown), "%.64s", name);
    snprintf(err, size, "field %zu: %s is given twice", at, shown);
    rc = -1;
  }
  if (rc == 0) {
    sb_form_field *f =
        realloc(form->fields, (form->n + 1) * sizeof(*form->fields));
    if (f) {
      form->fields = f;
      form->fields[form->n].name = name;
      form->fields[form->n].value = value;
      form->n++;
      return 0;
    }
    rc = -2;
  }
  if (rc == -2)
    snprintf(err, size, "out of memory");
  free(name);
  free(value);
  return -1;
}

int sb_form_decode(const char *text, size_t len, sb_form *form, char *err,
                   size_t size) {
  form->fields = NULL;
  form->n = 0;
  size_t at = 0;
  for (size_t i = 0; i < len;) {
    const char *amp = memchr(text + i, '&', len - i);
    size_t end = amp ? (size_t)(amp - text) : len;
    if (end > i) {
      at++;
      if (add_pair(form, text + i, end - i, at, err, size) != 0) {
        sb_form_free(form);
        return -1;
      }
    }
    i = end + 1;
  }
  return 0;
}

static int b64_value(unsigned char c) {
  if (c >= 'A' && c <= 'Z')
    return c - 'A';
  if (c >= 'a' && c <= 'z')
    return c - 'a' + 26;
  if (c >= '0' && c <= '9')
    return c - '0' + 52;
  if (c == '+')
    return 62;
  if (c == '/')
    return 63;
  return -1;
}

/* Standard base64 with its padding (RFC 4648 section 4) into `out`
 * (`max` bytes): the length, or -1. */
static long b64_decode(const char *s, size_t len, unsigned char *out,
                       size_t max) {
  if (len == 0 || len % 4 != 0)
    return -1;
  size_t k = 0;
  for (size_t i = 0; i < len; i += 4) {
    int v[4];
    int pad = 0;
    for (int j = 0; j < 4; j++) {
      unsigned char c = (unsigned char)s[i + j];
      if (c == '=' && i + 4 == len && j >= 2) {
        v[j] = 0;
        pad++;
        continue;
      }
      if (pad) /* a digit after '=' */
        return -1;
      v[j] = b64_value(c);
      if (v[j] < 0)
        return -1;
    }
    unsigned long w = ((unsigned long)v[0] << 18) |
                      ((unsigned long)v[1] << 12) | ((unsigned long)v[2] << 6) |
                      (unsigned long)v[3];
    unsigned char b[3] = {(unsigned char)(w >> 16), (unsigned char)(w >> 8),
                          (unsigned char)w};
    for (int j = 0; j < 3 - pad; j++) {
      if (k >= max)
        return -1;
      out[k++] = b[j];
    }
  }
  return (long)k;
}

int sb_basic_decode(const char *header, char *user, char *password, size_t max,
                    char *err, size_t size) {
  user[0] = password[0] = '\0';
  if (!header) {
    snprintf(err, size, "no Authorization header (Basic credentials wanted)");
    return -1;
  }
  if (strncasecmp(header, "Basic ", 6) != 0) {
    snprintf(err, size, "the Authorization header is not Basic credentials");
    return -1;
  }
  const char *p = header + 6;
  while (*p == ' ')
    p++;
  size_t n = strlen(p);
  while (n && p[n - 1] == ' ')
    n--;
  size_t cap = 2 * max + 2;
  unsigned char *dec = malloc(cap);
  if (!dec) {
    snprintf(err, size, "out of memory");
    return -1;
  }
  long got = n <= 4 * ((cap + 2) / 3) ? b64_decode(p, n, dec, cap) : -1;
  const unsigned char *colon = got > 0 ? memchr(dec, ':', (size_t)got) : NULL;
  int rc = -1;
  if (got < 0)
    snprintf(err, size,
             "the Basic credentials are not base64 (RFC 4648, padded) or are "
             "too long");
  else if (!colon)
    snprintf(err, size,
             "the Basic credentials have no ':' between the "
             "account SID and the token");
  else if (memchr(dec, '\0', (size_t)got))
    snprintf(err, size, "the Basic credentials hold a NUL byte");
  else if ((size_t)(colon - dec) > max ||
           (size_t)got - (size_t)(colon - dec) - 1 > max)
    snprintf(err, size, "the Basic credentials are too long");
  else {
    size_t ul = (size_t)(colon - dec), pl = (size_t)got - ul - 1;
    memcpy(user, dec, ul);
    user[ul] = '\0';
    memcpy(password, colon + 1, pl);
    password[pl] = '\0';
    rc = 0;
  }
  memset(dec, 0, cap);
  free(dec);
  return rc;
}

int sb_secret_equal(const char *given, const char *want) {
  size_t gl = strlen(given), wl = strlen(want);
  unsigned char diff = gl != wl;
  for (size_t i = 0; i < wl; i++)
    diff |= (unsigned char)(given[i < gl ? i : 0] ^ want[i]);
  return diff == 0;
}
