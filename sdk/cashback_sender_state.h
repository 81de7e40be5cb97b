/* The sender's persistent state (docs/reliability.md): the spool's `state`
 * file, its format and checks, and what a failed attempt, a refused key or
 * a success does to the retry schedule in it. The sender decides when; this
 * file says what. */
#ifndef CASHBACK_SENDER_STATE_H
#define CASHBACK_SENDER_STATE_H

#include "cashback.h"
#include "cashback_pace.h"
#include "cashback_sign.h"
#include "cashback_spool.h"

#include <stddef.h>
#include <stdint.h>

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
  /* A delivery profile's (docs/networks.md): the calls in its rate limit's
   * window, when the pacing holds the next one back until (Unix ms; 0:
   * not paced), and what the network last said it queued (a job id, a URI
   * to poll). Written only when set, so the built-in protocol's file is as
   * before. */
  cashback__pace pace;
  int64_t paced_until_ms;
  char submission[257];
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
/* Reads the spool's state file into `*st`: CASHBACK_OK (`*found` says
 * how it was: CASHBACK__STATE_VALID, _LEGACY or _DAMAGED), or
 * CASHBACK_E_NOT_FOUND (a new spool) or the read's failure, `*st` then
 * fresh. */
cashback_status cashback__sender_state_read(cashback__spool *spool,
                                            cashback__sender_state *st,
                                            int *found);
/* Replaces the spool's state file with `*st`. */
cashback_status cashback__sender_state_write(cashback__spool *spool,
                                             const cashback__sender_state *st);

/* When the next attempt is due (Unix ms), kept within the delay it was
 * scheduled with from `now_ms` (the clock may have been set back since, or
 * the file damaged); see cashback__retry_clamp_ms(). */
int64_t cashback__sender_state_next_ms(const cashback__sender_state *st,
                                       int64_t now_ms, int64_t cap_ms);

/* Names `key` in the state file without revealing it: 16 hex digits of an
 * HMAC under its secret. */
void cashback__sender_key_fingerprint(const cashback__key *key,
                                      char out[CASHBACK_ID_MAX + 1]);

/* The state as this sender takes it over under sender.lock: a pause about
 * another key than `key` is lifted (a new key is tried at once), and a
 * request in flight was another sender's, which has gone. 1 when it
 * changed. */
int cashback__sender_state_adopt(cashback__sender_state *st,
                                 const cashback__key *key);

/* One more failed attempt, and the delay before the next: the full-jitter
 * backoff draw for it (`random`: a uniform 64-bit value) plus what the
 * network asked for (`retry_after_ms`, < 0: nothing). */
int64_t cashback__sender_state_backoff(cashback__sender_state *st,
                                       int64_t base_ms, int64_t cap_ms,
                                       uint64_t random, int64_t retry_after_ms);
/* The key was refused: paused, about `key`, with the attempt count at the
 * top of the backoff; the delay to pause for (the cap). */
int64_t cashback__sender_state_pause(cashback__sender_state *st,
                                     const cashback__key *key, int64_t cap_ms);
/* Records a failed attempt (`why`) whose next one is `delay_ms` from
 * `now_ms`, the delay cut to [0, cashback__retry_bound_ms(cap_ms)]; gives
 * the delay kept. The caller writes last_error. */
int64_t cashback__sender_state_retry_in(cashback__sender_state *st,
                                        cashback_status why, int64_t delay_ms,
                                        int64_t now_ms, int64_t cap_ms);
/* Events were settled at `now_ms`: the retry count starts over and a pause
 * ends. `whole` (the spool's own events) also clears the schedule; a
 * deferred event's success leaves it. */
void cashback__sender_state_success(cashback__sender_state *st, int64_t now_ms,
                                    int whole);

#endif
