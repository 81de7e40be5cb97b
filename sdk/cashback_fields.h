/* The event vocabulary: every field an event can be given as text, once
 * (name, kind, repeatable or not, cap, the setter it maps to). The event
 * builder (cashback_event_builder_*, sdk/cashback_builder.c), and through
 * it the event text parser, the CLI's flags, the CSV columns and the PHP
 * array keys, look names up here and set values through
 * cashback__fields_set(). docs/events.md lists the same names
 * (tests/scripts/events-doc.sh checks it). */
#ifndef CASHBACK_FIELDS_H
#define CASHBACK_FIELDS_H

#include "cashback.h"

#include <stdint.h>

/* Largest event text (as a connection string) and largest decoded value. */
#define CASHBACK__EVENT_TEXT_MAX 65536
#define CASHBACK__FIELD_VALUE_MAX CASHBACK_METADATA_MAX

typedef struct cashback__fields cashback__fields;

typedef struct cashback__field {
  const char *name; /* the key; for metadata the prefix "meta." */
  const char *kind; /* what the value is, as docs/events.md says */
  int repeatable;   /* may appear more than once */
  int early;        /* needed before the event exists (applied first) */
  size_t max;       /* longest value in bytes (decoded) */
  cashback_status (*set)(cashback__fields *x, const char *key, size_t klen,
                         const char *v, size_t vlen);
  /* For a field that is one counted event setter: that setter. */
  cashback_status (*counted)(cashback_event *ev, const char *v, size_t n);
} cashback__field;

/* What is known while an event is built from fields: the values needed
 * before the event exists or by other fields, and the event. */
struct cashback__fields {
  cashback_client *client; /* verifies click handles; may be NULL */
  cashback_event *ev;      /* NULL until cashback__fields_start() */
  int has_type;
  cashback_event_type type;
  char order_id[CASHBACK_ID_MAX + 1];
  size_t order_id_len;
  char currency[4];
  size_t currency_len;
  int has_offset;
  int utc_offset;
  int has_time;
  uint32_t seen; /* one bit per table entry */
  char detail[CASHBACK_ERROR_MAX + 1];
};

/* The table entry for a key (`len` bytes; "meta.<key>" finds the metadata
 * entry), or NULL. */
const cashback__field *cashback__field_find(const char *key, size_t len);

/* The i-th table entry, or NULL past the end (for docs and tests). */
const cashback__field *cashback__field_at(size_t i);

/* The position of a table entry in the table (below 32). */
size_t cashback__field_index(const cashback__field *f);

void cashback__fields_init(cashback__fields *x, cashback_client *client);

/* Sets one field (plain value, not percent-encoded, no NUL, within the
 * entry's max, given once unless repeatable: the event builder,
 * sdk/cashback_builder.c, checks those when it takes the field). An early
 * field before cashback__fields_start(), any other after it. On failure
 * `x->detail` names the key. */
cashback_status cashback__fields_set(cashback__fields *x,
                                     const cashback__field *f, const char *key,
                                     size_t klen, const char *v, size_t vlen);

/* Creates the event from the type and order id set so far. */
cashback_status cashback__fields_start(cashback__fields *x);

/* Checks what needs another field (utc_offset needs order_time) and hands
 * the event over to `*out` (x->ev is then NULL). */
cashback_status cashback__fields_finish(cashback__fields *x,
                                        cashback_event **out);

/* Frees an event not handed over. */
void cashback__fields_free(cashback__fields *x);

/* Records `fmt` as x->detail; returns `st`. */
cashback_status cashback__fields_fail(cashback__fields *x, cashback_status st,
                                      const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
