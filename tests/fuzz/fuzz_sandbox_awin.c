/*
 * Fuzz target for the sandbox's Awin mode (plugins/sandbox/sandbox_awin.c):
 * the input is the JSON body of a Conversion API call and of a transaction
 * batch, on a store holding one order (1001, 49.90 EUR). Checks:
 * - every answer is a status Awin answers with, its body JSON: {"orders":
 *   [...]} with one entry per order sent, each accepted, duplicate or
 *   rejected with a message, for a 200 of the Conversion API; {"jobId",
 *   "status":"QUEUED"} for a 200 of the batch API; {"error",
 *   "description"} otherwise;
 * - a batch answered 400 changed nothing: order 1001 is as before;
 * - every stored amount is >= 0.
 */
#include "fuzz.h"

#include "../../plugins/sandbox/sandbox_awin.c"
#include "../../plugins/sandbox/sandbox_decode.c"
#include "../../plugins/sandbox/sandbox_netstore.c"

#include <cjson/cJSON.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static cJSON *answered(const sb_net_answer *a) {
  static const unsigned ok[] = {200, 400, 413, 429, 500};
  int known = 0;
  for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
    known |= a->status == ok[i];
  CHECK(known && a->body != NULL);
  cJSON *j = cJSON_Parse(a->body);
  CHECK(j != NULL);
  if (a->status != 200) {
    CHECK(cJSON_IsString(cJSON_GetObjectItemCaseSensitive(j, "error")));
    CHECK(cJSON_IsString(cJSON_GetObjectItemCaseSensitive(j, "description")));
  }
  return j;
}

static void call(sb_net *n, const char *path, const char *key, const char *auth,
                 const char *body, size_t len, sb_net_answer *a) {
  sb_net_request rq = {.method = "POST",
                       .path = path,
                       .query = "",
                       .body = body,
                       .len = len,
                       .api_key = key,
                       .authorization = auth,
                       .content_type = "application/json",
                       .now_ms = 1000,
                       .now = FUZZ_NOW};
  sb_awin_handle(n, &rq, a);
}

static void orders_call(sb_net *n, const char *body, size_t len) {
  sb_net_answer a;
  call(n, "/s2s/advertiser/7/orders", "fuzz-key", NULL, body, len, &a);
  cJSON *j = answered(&a);
  if (a.status == 200) {
    cJSON *sent = cJSON_ParseWithLength(body, len);
    const cJSON *list = cJSON_GetObjectItemCaseSensitive(j, "orders");
    CHECK(cJSON_GetArraySize(list) ==
          cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(sent, "orders")));
    const cJSON *e;
    cJSON_ArrayForEach(e, list) {
      const cJSON *st = cJSON_GetObjectItemCaseSensitive(e, "status");
      CHECK(cJSON_IsString(st));
      const char *s = st->valuestring;
      CHECK(strcmp(s, "accepted") == 0 || strcmp(s, "duplicate") == 0 ||
            strcmp(s, "rejected") == 0);
      if (strcmp(s, "rejected") == 0)
        CHECK(cJSON_IsString(cJSON_GetObjectItemCaseSensitive(e, "message")));
    }
    cJSON_Delete(sent);
  }
  cJSON_Delete(j);
  free(a.body);
}

static void batch_call(sb_net *n, const char *body, size_t len) {
  sb_net_lock(n);
  const sb_net_order *seeded = sb_net_find_locked(n, "1001");
  CHECK(seeded != NULL); /* the seed order was stored */
  sb_net_order before = *seeded;
  sb_net_unlock(n);
  sb_net_answer a;
  call(n, "/advertisers/7/transactions/batch", NULL, "Bearer fuzz-token", body,
       len, &a);
  cJSON *j = answered(&a);
  sb_net_lock(n);
  const sb_net_order *after = sb_net_find_locked(n, "1001");
  if (a.status == 200) {
    const cJSON *st = cJSON_GetObjectItemCaseSensitive(j, "status");
    CHECK(cJSON_IsString(st) && strcmp(st->valuestring, "QUEUED") == 0);
    CHECK(cJSON_IsString(cJSON_GetObjectItemCaseSensitive(j, "jobId")));
  } else {
    CHECK(after->amount == before.amount && after->status == before.status &&
          after->changes == before.changes);
  }
  CHECK(after->amount >= 0);
  sb_net_unlock(n);
  cJSON_Delete(j);
  free(a.body);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  sb_net_config cfg = {.network = SB_NET_AWIN, .rate_calls = 0};
  snprintf(cfg.account, sizeof(cfg.account), "7");
  snprintf(cfg.api_key, sizeof(cfg.api_key), "fuzz-key");
  snprintf(cfg.api_token, sizeof(cfg.api_token), "fuzz-token");
  sb_net *n = sb_net_new(&cfg, NULL, NULL);
  CHECK(n != NULL);
  static const char seed[] =
      "{\"orders\":[{\"orderReference\":\"1001\",\"amount\":49.90,"
      "\"currency\":\"EUR\",\"transactionDate\":\"2026-09-20T10:15:00+01:00\"}]"
      "}";
  /* Dated a day before FUZZ_NOW: the sandbox rejects an order time more
   * than an hour ahead of its clock. */
  orders_call(n, seed, sizeof(seed) - 1);
  orders_call(n, (const char *)data, size);
  batch_call(n, (const char *)data, size);
  sb_net_lock(n);
  for (size_t i = 0; i < n->n_orders; i++)
    CHECK(n->orders[i]->amount >= 0 && n->orders[i]->sale >= 0);
  sb_net_unlock(n);
  sb_net_free(n);
  return 0;
}
