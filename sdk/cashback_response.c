/*
 * The network's answer to a batch (docs/protocol.md):
 *   {"results":[{"id":"<32 hex>","status":"accepted"|"duplicate"|"rejected"
 *                |"retry","reason":"...","message":"..."}, ...]}
 * "retry" is not a refusal: the network cannot take the event yet (a
 * refund, cancel or confirm before its sale) and asks for it again later.
 * Extra fields anywhere are ignored. Events the answer does not mention stay
 * PENDING (they are sent again, and the network dedupes them).
 *
 * The sender sends each id once per request (copies of one event in the
 * spool are settled together by its one answer), so an id listed more than
 * once is a contradictory answer: it gets the strongest outcome among its
 * entries, REJECTED over RETRY over ACCEPTED over DUPLICATE, which keeps the
 * event (quarantined: visible, replayable; or sent again, then deduped)
 * rather than deleting an event the network may not have kept.
 */
#include "cashback_response.h"
#include "cashback_idset.h"
#include "cashback_text.h"

#include <cjson/cJSON.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Copies the network's text into `out` made printable (cashback_text.h). */
static void sanitize(const char *s, char *out, size_t size) {
  cashback__printable(out, size, s, strlen(s));
}

static int rank(cashback__outcome o) {
  switch (o) {
  case CASHBACK__OUTCOME_REJECTED:
    return 4;
  case CASHBACK__OUTCOME_RETRY:
    return 3;
  case CASHBACK__OUTCOME_ACCEPTED:
    return 2;
  case CASHBACK__OUTCOME_DUPLICATE:
    return 1;
  default:
    return 0;
  }
}

static void apply(cashback__result *r, cashback__outcome o, const cJSON *item) {
  if (rank(o) <= rank(r->outcome))
    return;
  r->outcome = o;
  if (o != CASHBACK__OUTCOME_REJECTED && o != CASHBACK__OUTCOME_RETRY)
    return;
  const cJSON *reason = cJSON_GetObjectItemCaseSensitive(item, "reason");
  const cJSON *message = cJSON_GetObjectItemCaseSensitive(item, "message");
  sanitize(cJSON_IsString(reason) ? reason->valuestring : "", r->reason,
           sizeof(r->reason));
  sanitize(cJSON_IsString(message) ? message->valuestring : "", r->message,
           sizeof(r->message));
}

cashback_status cashback__response_parse(const char *body, size_t len,
                                         cashback__result *results, size_t n) {
  if ((!body && len) || (!results && n))
    return CASHBACK_E_INVALID_ARGUMENT;
  for (size_t i = 0; i < n; i++) {
    results[i].id[sizeof(results[i].id) - 1] = '\0';
    results[i].outcome = CASHBACK__OUTCOME_PENDING;
    results[i].reason[0] = '\0';
    results[i].message[0] = '\0';
  }
  if (!body || len == 0)
    return CASHBACK_E_PROTOCOL;

  const char *end = NULL;
  cJSON *root = cJSON_ParseWithLengthOpts(body, len, &end, 0);
  if (!root)
    return CASHBACK_E_PROTOCOL;
  /* Nothing but white space may follow the object. */
  size_t used = (size_t)(end - body);
  while (used < len && (body[used] == ' ' || body[used] == '\t' ||
                        body[used] == '\r' || body[used] == '\n'))
    used++;
  const cJSON *list = cJSON_GetObjectItemCaseSensitive(root, "results");
  if (used != len || !cJSON_IsObject(root) || !cJSON_IsArray(list)) {
    cJSON_Delete(root);
    return CASHBACK_E_PROTOCOL;
  }

  /* The results by id (the first of each id in the set, its copies
   * chained through `next`), so that each answer entry is one lookup,
   * whatever the order of the answer. */
  cashback__idset ids;
  size_t *next = n ? malloc(n * sizeof(*next)) : NULL;
  if (cashback__idset_init(&ids, n) != CASHBACK_OK || (n && !next)) {
    cashback__idset_free(&ids);
    free(next);
    cJSON_Delete(root);
    return CASHBACK_E_NOMEM;
  }
  for (size_t i = 0; i < n; i++) {
    size_t first = cashback__idset_put(&ids, results[i].id, i);
    next[i] = SIZE_MAX;
    if (first != i) { /* a copy: after the first in its chain */
      next[i] = next[first];
      next[first] = i;
    }
  }

  const cJSON *item;
  cJSON_ArrayForEach(item, list) {
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(item, "id");
    const cJSON *status = cJSON_GetObjectItemCaseSensitive(item, "status");
    if (!cJSON_IsObject(item) || !cJSON_IsString(id) || !cJSON_IsString(status))
      continue; /* not a result: its event stays PENDING */
    cashback__outcome o;
    if (strcmp(status->valuestring, "accepted") == 0)
      o = CASHBACK__OUTCOME_ACCEPTED;
    else if (strcmp(status->valuestring, "duplicate") == 0)
      o = CASHBACK__OUTCOME_DUPLICATE;
    else if (strcmp(status->valuestring, "rejected") == 0)
      o = CASHBACK__OUTCOME_REJECTED;
    else if (strcmp(status->valuestring, "retry") == 0)
      o = CASHBACK__OUTCOME_RETRY;
    else
      continue; /* unknown status: stays PENDING */
    /* Every result with that id (a batch should not repeat one). */
    for (size_t i = cashback__idset_get(&ids, id->valuestring); i != SIZE_MAX;
         i = next[i])
      apply(&results[i], o, item);
  }
  cashback__idset_free(&ids);
  free(next);
  cJSON_Delete(root);
  return CASHBACK_OK;
}
