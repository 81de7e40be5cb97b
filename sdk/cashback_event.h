/* Events: sale, refund, cancel, confirm. */
#ifndef CASHBACK_EVENT_H
#define CASHBACK_EVENT_H

#include "cashback.h"
#include "cashback_buf.h"

/* Cap of one serialized event. */
#define CASHBACK__EVENT_JSON_MAX (256 * 1024)

/* Appends the finalized event's JSON object to `out`. */
cashback_status cashback__event_json(cashback_client *c,
                                     const cashback_event *ev,
                                     cashback__buf *out);

/* "sale", "refund", "cancel", "confirm", or NULL. */
const char *cashback__event_type_name(cashback_event_type t);

#endif
