/* Parsing the network's answer to a batch (docs/protocol.md). */
#ifndef CASHBACK_RESPONSE_H
#define CASHBACK_RESPONSE_H

#include "cashback.h"

#include <stddef.h>

typedef enum cashback__outcome {
  CASHBACK__OUTCOME_PENDING = 0,   /* not in the answer: send again */
  CASHBACK__OUTCOME_ACCEPTED = 1,  /* delivered */
  CASHBACK__OUTCOME_DUPLICATE = 2, /* delivered before */
  CASHBACK__OUTCOME_REJECTED = 3,  /* permanent: quarantine */
  CASHBACK__OUTCOME_RETRY = 4      /* not now (a follow-up before its sale):
                                      deferred, sent again later */
} cashback__outcome;

typedef struct cashback__result {
  char id[CASHBACK_EVENT_ID_LEN + 1];   /* input: the event id */
  cashback__outcome outcome;            /* output */
  char reason[CASHBACK_ID_MAX + 1];     /* output, for REJECTED, RETRY */
  char message[CASHBACK_ERROR_MAX + 1]; /* output, likewise, may be "" */
} cashback__result;

/* Applies a 200 answer's body (`len` bytes) to the `n` results, matching by
 * id: {"results":[{"id":..,"status":"accepted"|"duplicate"|"rejected"|
 * "retry","reason":..,"message":..}]}. Ids in the answer that are not in the
 * batch, and unknown statuses, are ignored (the event stays PENDING). Returns
 * CASHBACK_E_PROTOCOL when the body is not such a JSON object (every
 * result then stays PENDING). Reason and message are sanitised to printable
 * ASCII. */
cashback_status cashback__response_parse(const char *body, size_t len,
                                         cashback__result *results, size_t n);

#endif
