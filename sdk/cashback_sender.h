/* The sender: drains the spool to the network (docs/protocol.md, "What the
 * SDK does"). */
#ifndef CASHBACK_SENDER_H
#define CASHBACK_SENDER_H

#include "cashback.h"
#include "cashback_sender_state.h"
#include "cashback_spool.h"

#include <stdint.h>

typedef struct cashback__sender cashback__sender;

/* What one step of the sender did. */
typedef enum cashback__step {
  CASHBACK__STEP_IDLE = 0,  /* nothing queued */
  CASHBACK__STEP_SENT = 1,  /* progress: step again */
  CASHBACK__STEP_WAIT = 2,  /* a retry is due later (backoff, pause) */
  CASHBACK__STEP_BUSY = 3,  /* another process's sender holds the spool */
  CASHBACK__STEP_ERROR = 4, /* a local failure (see the client's last error) */
  CASHBACK__STEP_DEADLINE = 5, /* the deadline came before a request could */
  CASHBACK__STEP_LINGER = 6    /* a batch that is not full waits for more */
} cashback__step;

/* A sender for the client's spool. Thread-safe. */
cashback_status cashback__sender_new(cashback_client *c, cashback__spool *spool,
                                     cashback__sender **out);
/* Stops the thread if running (no final flush) and frees. */
void cashback__sender_free(cashback__sender *s);

/* One step: collect a batch, post it, settle the answer. `*wait_ms` gets
 * the delay until a retry is due, for CASHBACK__STEP_WAIT. */
cashback__step cashback__sender_step(cashback__sender *s, int64_t *wait_ms);
/* The same, ending by `mono_deadline_ms` (CLOCK_MONOTONIC ms; 0: none): a
 * request gets the time left as its timeout when that is shorter than the
 * configured one, and none is started with less than 100 ms left
 * (CASHBACK__STEP_DEADLINE). */
cashback__step cashback__sender_step_by(cashback__sender *s,
                                        int64_t mono_deadline_ms,
                                        int64_t *wait_ms);

/* The sender thread's step: as cashback__sender_step(), except that a
 * batch that is not full is held back for the linger
 * (cashback_options_set_linger): CASHBACK__STEP_LINGER, nothing sent, and
 * `*wait_ms` the time left of it. Steps with a deadline (flush) never
 * linger. */
cashback__step cashback__sender_step_linger(cashback__sender *s,
                                            int64_t *wait_ms);

/* How many times the sender read the whole quarantine to find records that
 * are not events (at most once per step); for tests. Thread-safe. */
uint64_t cashback__sender_quarantine_scans(cashback__sender *s);

cashback_status cashback__sender_start(cashback__sender *s);
cashback_status cashback__sender_stop(cashback__sender *s,
                                      int64_t flush_timeout_ms);
cashback_status cashback__sender_flush(cashback__sender *s, int64_t timeout_ms);
/* A new event is in the spool: an idle sender thread looks now, a
 * lingering one once the events reported since it collected fill its batch
 * (a sender waiting out a backoff does not). */
void cashback__sender_wake(cashback__sender *s);

/* Wall-clock milliseconds. */
int64_t cashback__wall_ms(void);

#endif
