/* The sender: drains the spool to the network (docs/protocol.md, "What the
 * SDK does"). */
#ifndef CASHBACK_SENDER_H
#define CASHBACK_SENDER_H

#include "cashback.h"
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
  CASHBACK__STEP_DEADLINE = 5 /* the deadline came before a request could */
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

/* How many times the sender read the whole quarantine to find records that
 * are not events (at most once per step); for tests. Thread-safe. */
uint64_t cashback__sender_quarantine_scans(cashback__sender *s);

cashback_status cashback__sender_start(cashback__sender *s);
cashback_status cashback__sender_stop(cashback__sender *s,
                                      int64_t flush_timeout_ms);
cashback_status cashback__sender_flush(cashback__sender *s, int64_t timeout_ms);
/* A new event is in the spool: an idle sender thread looks now (a sender
 * waiting out a backoff does not). */
void cashback__sender_wake(cashback__sender *s);

/* The sender state kept in the spool's `state` file: `key=value` lines,
 * the last one `crc=<8 hex>`, the CRC-32C of every byte before it. */
typedef struct cashback__sender_state {
  unsigned attempt;        /* consecutive failed attempts */
  int64_t next_attempt_ms; /* Unix ms; 0: now */
  int64_t retry_delay_ms;  /* the delay next_attempt_ms was scheduled with */
  int paused;              /* the network refused the key */
  char paused_key[CASHBACK_ID_MAX + 1];
  int64_t last_success; /* Unix s */
  cashback_status last_status;
  uint64_t corrupt;
  uint64_t state_damaged;  /* times this file was found damaged and ignored */
  int64_t in_flight_since; /* Unix ms a request began that has not ended */
  char last_error[CASHBACK_ERROR_MAX + 1];
  /* Batch-level 4xx (docs/protocol.md, section 7): answers in the current
   * streak, whether the endpoint settled any event since it began, and the
   * HTTP status of a path fault (0: none). */
  unsigned fault_streak;
  int fault_accepted;
  long path_fault;
  uint64_t read_errors;                    /* segment reads that failed */
  char read_error[CASHBACK_ERROR_MAX + 1]; /* the last one */
} cashback__sender_state;

/* The largest state file read; a longer one is damaged. */
#define CASHBACK__STATE_MAX 4096

/* What cashback__sender_state_parse() found. */
#define CASHBACK__STATE_VALID 0   /* checksummed and intact */
#define CASHBACK__STATE_LEGACY 1  /* an older version's file: no checksum */
#define CASHBACK__STATE_DAMAGED 2 /* ignored: `*st` is a fresh state */

/* Parses the text of a state file into `*st`. A file without a valid
 * `crc=` last line is damaged, unless it is exactly what versions before
 * the checksum wrote (those keys, well formed). A damaged file gives a
 * fresh state whose state_damaged is one more than the file's own count
 * when that much is readable. Unknown keys are ignored. */
int cashback__sender_state_parse(const char *text, cashback__sender_state *st);
/* Writes `*st` as a state file (NUL-terminated); its length, 0 when `size`
 * is too small. */
size_t cashback__sender_state_format(const cashback__sender_state *st,
                                     char *out, size_t size);
/* Wall-clock milliseconds. */
int64_t cashback__wall_ms(void);

#endif
