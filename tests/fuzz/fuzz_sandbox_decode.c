/*
 * Fuzz target for the sandbox's request decoding (plugins/sandbox/
 * sandbox_decode.c) and Impact's handler on top of it
 * (plugins/sandbox/sandbox_impact.c). The input is a form body, a query
 * string and an Authorization header. Checks:
 * - sb_form_decode: on success every field has a non-empty name, no name
 *   twice, at most SB_FORM_FIELDS_MAX; on failure the form is empty and the
 *   error is said;
 * - sb_basic_decode: on success the user and password fit, hold no NUL,
 *   and base64("user:password") decodes back to them; on failure the error
 *   is said and both are "";
 * - sb_impact_handle, on a store holding one conversion, with the input as
 *   a Conversions body, an Actions PUT body and a DELETE query: every
 *   answer is a status Impact answers with, and its body JSON with "Status".
 */
#include "fuzz.h"

#include "../../plugins/sandbox/sandbox_decode.c"
#include "../../plugins/sandbox/sandbox_impact.c"
#include "../../plugins/sandbox/sandbox_netstore.c"

#include <cjson/cJSON.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static void check_form(const char *text, size_t len) {
  sb_form f;
  char err[SB_NET_MESSAGE_MAX + 1] = "";
  if (sb_form_decode(text, len, &f, err, sizeof(err)) != 0) {
    CHECK(f.n == 0 && f.fields == NULL && err[0] != '\0');
    return;
  }
  CHECK(f.n <= SB_FORM_FIELDS_MAX);
  for (size_t i = 0; i < f.n; i++) {
    CHECK(f.fields[i].name[0] != '\0');
    CHECK(sb_form_get(&f, f.fields[i].name) == f.fields[i].value);
  }
  sb_form_free(&f);
}

static void b64(const unsigned char *in, size_t n, char *out) {
  static const char a[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  size_t k = 0;
  for (size_t i = 0; i < n; i += 3) {
    unsigned long w = (unsigned long)in[i] << 16;
    if (i + 1 < n)
      w |= (unsigned long)in[i + 1] << 8;
    if (i + 2 < n)
      w |= in[i + 2];
    out[k++] = a[(w >> 18) & 63];
    out[k++] = a[(w >> 12) & 63];
    out[k++] = i + 1 < n ? a[(w >> 6) & 63] : '=';
    out[k++] = i + 2 < n ? a[w & 63] : '=';
  }
  out[k] = '\0';
}

static void check_basic(const char *header) {
  char user[65], pass[65], err[SB_NET_MESSAGE_MAX + 1] = "";
  if (sb_basic_decode(header, user, pass, 64, err, sizeof(err)) != 0) {
    CHECK(err[0] != '\0' && user[0] == '\0' && pass[0] == '\0');
    return;
  }
  size_t ul = strlen(user), pl = strlen(pass);
  CHECK(ul <= 64 && pl <= 64);
  unsigned char joined[130];
  memcpy(joined, user, ul);
  joined[ul] = ':';
  memcpy(joined + ul + 1, pass, pl);
  char enc[200], again[220], u2[65], p2[65];
  b64(joined, ul + 1 + pl, enc);
  snprintf(again, sizeof(again), "Basic %s", enc);
  CHECK(sb_basic_decode(again, u2, p2, 64, err, sizeof(err)) == 0);
  /* The user ends at the first ':'; the password may hold more. */
  CHECK(strcmp(u2, user) == 0 && strcmp(p2, pass) == 0);
}

static void check_answer(const sb_net_answer *a) {
  static const unsigned ok[] = {200, 400, 401, 403, 404, 405, 429, 500};
  int known = 0;
  for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
    known |= a->status == ok[i];
  CHECK(known);
  CHECK(a->body != NULL);
  cJSON *j = cJSON_Parse(a->body);
  CHECK(j != NULL);
  CHECK(cJSON_IsString(cJSON_GetObjectItemCaseSensitive(j, "Status")));
  cJSON_Delete(j);
}

static void handle(sb_net *n, const char *method, const char *path,
                   const char *query, const char *body, size_t len,
                   const char *auth) {
  sb_net_request rq = {.method = method,
                       .path = path,
                       .query = query,
                       .body = body,
                       .len = len,
                       .authorization = auth,
                       .content_type = "application/x-www-form-urlencoded",
                       .now_ms = 1000,
                       .now = FUZZ_NOW};
  sb_net_answer a;
  sb_impact_handle(n, &rq, &a);
  check_answer(&a);
  free(a.body);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char *text = malloc(size + 1);
  CHECK(text != NULL);
  memcpy(text, data, size);
  text[size] = '\0';
  check_form(text, size);
  check_basic(text);

  sb_net_config cfg = {.network = SB_NET_IMPACT, .rate_calls = 0};
  snprintf(cfg.account, sizeof(cfg.account), "IRfuzz");
  snprintf(cfg.api_token, sizeof(cfg.api_token), "fuzz-token");
  sb_net *n = sb_net_new(&cfg, NULL, NULL);
  CHECK(n != NULL);
  const char *auth = "Basic SVJmdXp6OmZ1enotdG9rZW4="; /* IRfuzz:fuzz-token */
  static const char sale[] =
      "CampaignId=1&ActionTrackerId=2&EventDate=2026-12-01T10:15:00Z"
      "&OrderId=1001&CurrencyCode=EUR&ItemSku1=order&ItemSubTotal1=49.90";
  handle(n, "POST", "/Advertisers/IRfuzz/Conversions", "", sale,
         sizeof(sale) - 1, auth);
  handle(n, "POST", "/Advertisers/IRfuzz/Conversions", "", text, size, auth);
  handle(n, "PUT", "/Advertisers/IRfuzz/Actions", "", text, size, auth);
  /* The query is a C string: up to the input's first NUL. */
  handle(n, "DELETE", "/Advertisers/IRfuzz/Actions", text, "", 0, auth);
  handle(n, "GET", "/Advertisers/IRfuzz/APISubmissions/1000001", "", "", 0,
         text);
  sb_net_free(n);
  free(text);
  return 0;
}
