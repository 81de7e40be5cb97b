/*
 * The sandbox's durable store: SQLite in WAL mode, synchronous=FULL, so an
 * event answered "accepted" is on disk. One connection behind a mutex; each
 * batch is one transaction.
 */
#include "sandbox.h"

#include <sqlite3.h>

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct sb_store {
  sqlite3 *db;
  pthread_mutex_t lock;
  int followups_retry;
};

void sb_store_set_followups(sb_store *s, int retry) {
  pthread_mutex_lock(&s->lock);
  s->followups_retry = retry != 0;
  pthread_mutex_unlock(&s->lock);
}

/* Version 2: events are keyed by (merchant, id), the dedupe of
 * docs/protocol.md section 4. Version 1 keyed them by id alone, so one
 * merchant could make another's event a "duplicate"; a version 1 file is
 * migrated when opened (see migrate_v1). */
#define SB_SCHEMA_VERSION 2

/* The events table's columns and key, in the schema and in the migration
 * that rebuilds the table (one definition). */
#define EVENTS_COLUMNS                                                         \
  " id TEXT NOT NULL, merchant TEXT NOT NULL, type TEXT NOT NULL,"             \
  " order_id TEXT NOT NULL, amount INTEGER, currency TEXT,"                    \
  " test INTEGER NOT NULL DEFAULT 0, click TEXT, refund_id TEXT,"              \
  " received_at INTEGER NOT NULL, batch INTEGER NOT NULL REFERENCES "          \
  "batches(seq),"                                                              \
  " raw TEXT NOT NULL, PRIMARY KEY (merchant, id));"

static const char schema[] =
    "CREATE TABLE IF NOT EXISTS batches ("
    " seq INTEGER PRIMARY KEY AUTOINCREMENT,"
    " merchant TEXT NOT NULL, key_id TEXT NOT NULL, remote TEXT,"
    " received_at INTEGER NOT NULL, events INTEGER NOT NULL,"
    " accepted INTEGER NOT NULL DEFAULT 0, duplicates INTEGER NOT NULL "
    "DEFAULT 0,"
    " rejected INTEGER NOT NULL DEFAULT 0, body BLOB NOT NULL);"
    "CREATE TABLE IF NOT EXISTS events (" EVENTS_COLUMNS
    "CREATE INDEX IF NOT EXISTS events_order ON events(merchant, test, "
    "order_id);"
    "CREATE TABLE IF NOT EXISTS rejections ("
    " seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL,"
    " merchant TEXT NOT NULL, type TEXT, order_id TEXT, test INTEGER NOT NULL,"
    " reason TEXT NOT NULL, message TEXT NOT NULL,"
    " received_at INTEGER NOT NULL, batch INTEGER NOT NULL, raw TEXT NOT NULL);"
    "CREATE INDEX IF NOT EXISTS rejections_merchant ON rejections(merchant, "
    "seq);"
    "PRAGMA user_version = 2;";

/* Version 1 to 2: the events table rebuilt with the (merchant, id) key.
 * Ids were unique across merchants then, so every row is kept. One
 * transaction: a crash leaves the file at version 1, migrated again at the
 * next start. */
static const char migrate_v1[] =
    "BEGIN IMMEDIATE;"
    "CREATE TABLE events_v2 (" EVENTS_COLUMNS
    "INSERT INTO events_v2 (id, merchant, type, order_id, amount, currency,"
    " test, click, refund_id, received_at, batch, raw)"
    " SELECT id, merchant, type, order_id, amount, currency, test, click,"
    " refund_id, received_at, batch, raw FROM events ORDER BY rowid;"
    "DROP TABLE events;"
    "ALTER TABLE events_v2 RENAME TO events;"
    "CREATE INDEX events_order ON events(merchant, test, order_id);"
    "PRAGMA user_version = 2;"
    "COMMIT;";

static int fail(sqlite3 *db, char *err, size_t size, const char *what) {
  snprintf(err, size, "%s: %s", what, db ? sqlite3_errmsg(db) : "no database");
  return -1;
}

/* The file's schema version: 0 with no table (a new file, created by
 * `schema`), SB_SCHEMA_VERSION (used as it is) or 1 (migrated, *migrated
 * set); anything else is refused, never used as if it were ours. */
static int check_schema(sqlite3 *db, int *migrated, char *err, size_t size) {
  sqlite3_stmt *st = NULL;
  int version = -1, tables = -1;
  if (sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL) ==
          SQLITE_OK &&
      sqlite3_step(st) == SQLITE_ROW)
    version = sqlite3_column_int(st, 0);
  sqlite3_finalize(st);
  st = NULL;
  if (sqlite3_prepare_v2(db,
                         "SELECT COUNT(*) FROM sqlite_master WHERE type ="
                         " 'table' AND name NOT LIKE 'sqlite_%'",
                         -1, &st, NULL) == SQLITE_OK &&
      sqlite3_step(st) == SQLITE_ROW)
    tables = sqlite3_column_int(st, 0);
  sqlite3_finalize(st);
  if (version < 0 || tables < 0)
    return fail(db, err, size, "reading the schema version");
  if (version == SB_SCHEMA_VERSION || (version == 0 && tables == 0))
    return 0;
  if (version == 1) {
    if (sqlite3_exec(db, migrate_v1, NULL, NULL, NULL) != SQLITE_OK) {
      fail(db, err, size,
           "migrating the database from schema 1 to 2 (nothing changed)");
      sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
      return -1;
    }
    *migrated = 1;
    return 0;
  }
  if (version == 0)
    snprintf(err, size,
             "not a cashback-sandbox database (it has tables but no schema "
             "version); give another --db file");
  else
    snprintf(err, size,
             "schema version %d is not one this cashback-sandbox knows (it "
             "reads 1 and %d): made by a newer version? give another --db "
             "file",
             version, SB_SCHEMA_VERSION);
  return -1;
}

int sb_store_open(const char *path, sb_store **out, int *migrated, char *err,
                  size_t size) {
  *out = NULL;
  *migrated = 0;
  /* The file holds order data: created 0600 (SQLite gives its -wal and
   * -shm files the same mode). */
  int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) {
    snprintf(err, size, "%s", strerror(errno));
    return -1;
  }
  close(fd);
  sb_store *s = calloc(1, sizeof(*s));
  if (!s) {
    snprintf(err, size, "out of memory");
    return -1;
  }
  pthread_mutex_init(&s->lock, NULL);
  if (sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX,
                      NULL) != SQLITE_OK) {
    fail(s->db, err, size, "open");
    sb_store_close(s);
    return -1;
  }
  sqlite3_busy_timeout(s->db, 5000);
  sqlite3_stmt *st = NULL;
  int wal = sqlite3_prepare_v2(s->db, "PRAGMA journal_mode=WAL", -1, &st,
                               NULL) == SQLITE_OK &&
            sqlite3_step(st) == SQLITE_ROW &&
            strcmp((const char *)sqlite3_column_text(st, 0), "wal") == 0;
  sqlite3_finalize(st);
  if (!wal) {
    fail(s->db, err, size, "cannot use WAL mode");
    sb_store_close(s);
    return -1;
  }
  if (sqlite3_exec(s->db, "PRAGMA synchronous=FULL", NULL, NULL, NULL) !=
          SQLITE_OK ||
      check_schema(s->db, migrated, err, size) != 0) {
    sb_store_close(s);
    return -1;
  }
  if (sqlite3_exec(s->db, schema, NULL, NULL, NULL) != SQLITE_OK) {
    fail(s->db, err, size, "schema");
    sb_store_close(s);
    return -1;
  }
  *out = s;
  return 0;
}

void sb_store_close(sb_store *s) {
  if (!s)
    return;
  sqlite3_close(s->db);
  pthread_mutex_destroy(&s->lock);
  free(s);
}

static int bind_text(sqlite3_stmt *st, int i, const char *s) {
  return sqlite3_bind_text(st, i, s, -1, SQLITE_TRANSIENT);
}

static void reject(sb_result *r, const char *reason, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void reject(sb_result *r, const char *reason, const char *fmt, ...) {
  va_list ap;
  r->status = "rejected";
  snprintf(r->reason, sizeof(r->reason), "%s", reason);
  va_start(ap, fmt);
  vsnprintf(r->message, sizeof(r->message), fmt, ap);
  va_end(ap);
}

/* The statements of one batch. */
typedef struct stmts {
  sqlite3_stmt *exists, *sale, *refunded, *insert, *insert_rej;
  sqlite3_stmt *held, *unhold_rej, *unhold_del;
  int followups_retry;
} stmts;

/* An amount as text for a rejection: decimal in its currency, or, should
 * the currency have no known exponent, the minor units and the code as
 * they came. */
static void money_text(char *buf, size_t size, int64_t minor,
                       const char *currency) {
  if (cashback_money_format(minor, currency, buf, size) != CASHBACK_OK)
    snprintf(buf, size, "%lld minor units", (long long)minor);
}

/* Steps the statement `st` once from its start, its ?1, ?2 and ?3 bound to
 * the merchant, test flag and order id of `e`: the query of an order. The
 * step's code; a row is read before the next reset. */
static int step_order(sqlite3_stmt *st, const char *merchant,
                      const cashback_received_event *e) {
  sqlite3_reset(st);
  bind_text(st, 1, merchant);
  sqlite3_bind_int(st, 2, e->test);
  bind_text(st, 3, e->order_id);
  return sqlite3_step(st);
}

/* The refunds recorded for the order of `e` (at most SB_AMOUNT_MAX: see
 * check_order). */
static int refunds_of(stmts *q, const char *merchant,
                      const cashback_received_event *e, int64_t *out) {
  *out = 0; /* read only on SQLITE_OK, but gcc cannot see that */
  int rc = step_order(q->refunded, merchant, e);
  if (rc == SQLITE_ROW) {
    *out = sqlite3_column_int64(q->refunded, 0);
    rc = SQLITE_OK;
  }
  sqlite3_reset(q->refunded);
  return rc;
}

/* The order rules of docs/protocol.md section 6 that need the stored
 * history: a refund, cancel or confirm needs the order's sale, in the same
 * currency; refunds may not total more than the sale. One before its sale
 * is held (recorded, checked when the sale arrives) or, with --followups
 * retry, answered "retry". */
static int check_order(stmts *q, const char *merchant,
                       const cashback_received_event *e, sb_result *r) {
  if (e->type == CASHBACK_EVENT_SALE)
    return SQLITE_OK;
  int rc = step_order(q->sale, merchant, e);
  if (rc == SQLITE_DONE) {
    sqlite3_reset(q->sale);
    if (q->followups_retry) {
      r->status = "retry";
      snprintf(r->reason, sizeof(r->reason), "unknown_order");
      snprintf(r->message, sizeof(r->message),
               "no %ssale of order %s is recorded yet", e->test ? "test " : "",
               e->order_id);
      return SQLITE_OK;
    }
    if (e->type == CASHBACK_EVENT_REFUND) {
      /* No sale can be above SB_AMOUNT_MAX, so held refunds past it can
       * never fit: refused now. This also keeps every order's refund sum
       * within SB_AMOUNT_MAX, so that no sum of one order overflows. */
      int64_t held;
      if ((rc = refunds_of(q, merchant, e, &held)) != SQLITE_OK)
        return rc;
      if (held > SB_AMOUNT_MAX - e->amount) {
        char a[48], b[48];
        money_text(a, sizeof(a), e->amount, e->currency);
        money_text(b, sizeof(b), held, e->currency);
        reject(r, "amount_mismatch",
               "a refund of %s %s after %s held for order %s (no sale yet) "
               "exceeds any possible sale (at most 10^15 minor units)",
               a, e->currency, b, e->order_id);
        return SQLITE_OK;
      }
    }
    r->held = 1;
    return SQLITE_OK;
  }
  if (rc != SQLITE_ROW)
    return rc;
  int64_t sale = sqlite3_column_int64(q->sale, 0);
  char currency[8];
  snprintf(currency, sizeof(currency), "%s",
           (const char *)sqlite3_column_text(q->sale, 1));
  sqlite3_reset(q->sale);
  if (e->has_amount && strcmp(currency, e->currency) != 0) {
    reject(r, "currency_mismatch", "order %s was sold in %s, not %s",
           e->order_id, currency, e->currency);
    return SQLITE_OK;
  }
  if (e->type != CASHBACK_EVENT_REFUND)
    return SQLITE_OK;
  int64_t refunded;
  if ((rc = refunds_of(q, merchant, e, &refunded)) != SQLITE_OK)
    return rc;
  if (refunded > sale - e->amount) { /* refunded + amount > sale */
    char a[48], b[48], c[48];
    money_text(a, sizeof(a), e->amount, currency);
    money_text(b, sizeof(b), refunded, currency);
    money_text(c, sizeof(c), sale, currency);
    reject(r, "amount_mismatch",
           "a refund of %s after %s refunded exceeds the sale of %s %s", a, b,
           c, currency);
  }
  return SQLITE_OK;
}

/* The sale of an order arrived: its held follow-ups count from now on, and
 * get the checks that needed the sale. One that fails them (another
 * currency, refunds above the sale) was answered "accepted" already: it
 * moves to the rejections, for the network to resolve, and counts in no
 * total. */
static int release_held(stmts *q, const char *merchant,
                        const cashback_received_event *sale, int64_t now) {
  int64_t refunded = 0;
  int rc;
  char ids[64][CASHBACK_EVENT_ID_LEN + 1], why[64][CASHBACK_ERROR_MAX + 1];
  char reasons[64][24];
  size_t nbad = 0;
  for (rc = step_order(q->held, merchant, sale); rc == SQLITE_ROW && nbad < 64;
       rc = sqlite3_step(q->held)) {
    const char *id = (const char *)sqlite3_column_text(q->held, 0);
    const char *type = (const char *)sqlite3_column_text(q->held, 1);
    int has_amount = sqlite3_column_type(q->held, 2) != SQLITE_NULL;
    int64_t amount = sqlite3_column_int64(q->held, 2);
    const char *cur = (const char *)sqlite3_column_text(q->held, 3);
    const char *reason = NULL;
    char msg[CASHBACK_ERROR_MAX + 1] = "";
    if (has_amount && cur && strcmp(cur, sale->currency) != 0) {
      reason = "currency_mismatch";
      snprintf(msg, sizeof(msg),
               "held until its sale arrived: order %s was sold in %s, not %s",
               sale->order_id, sale->currency, cur);
    } else if (strcmp(type, "refund") == 0) {
      if (refunded > sale->amount - amount) { /* both <= SB_AMOUNT_MAX */
        reason = "amount_mismatch";
        snprintf(msg, sizeof(msg),
                 "held until its sale arrived: refunds of order %s exceed "
                 "its sale",
                 sale->order_id);
      } else {
        refunded += amount;
      }
    }
    if (reason) {
      snprintf(ids[nbad], sizeof(ids[nbad]), "%s", id);
      snprintf(reasons[nbad], sizeof(reasons[nbad]), "%s", reason);
      snprintf(why[nbad], sizeof(why[nbad]), "%s", msg);
      nbad++;
    }
  }
  sqlite3_reset(q->held);
  if (rc != SQLITE_DONE && rc != SQLITE_ROW)
    return rc;
  for (size_t i = 0; i < nbad; i++) {
    sqlite3_reset(q->unhold_rej);
    bind_text(q->unhold_rej, 1, reasons[i]);
    bind_text(q->unhold_rej, 2, why[i]);
    sqlite3_bind_int64(q->unhold_rej, 3, now);
    bind_text(q->unhold_rej, 4, merchant);
    bind_text(q->unhold_rej, 5, ids[i]);
    rc = sqlite3_step(q->unhold_rej);
    sqlite3_reset(q->unhold_rej);
    if (rc != SQLITE_DONE)
      return rc;
    sqlite3_reset(q->unhold_del);
    bind_text(q->unhold_del, 1, merchant);
    bind_text(q->unhold_del, 2, ids[i]);
    rc = sqlite3_step(q->unhold_del);
    sqlite3_reset(q->unhold_del);
    if (rc != SQLITE_DONE)
      return rc;
  }
  return SQLITE_OK;
}

static int one_event(stmts *q, const char *merchant, sqlite3_int64 batch,
                     int64_t now, const cashback_received_event *e,
                     sb_result *r) {
  int rc;
  r->status = "accepted";
  r->held = 0;
  r->reason[0] = r->message[0] = '\0';
  if (!e->valid) {
    reject(r, "invalid_event", "%s", e->error);
  } else {
    sqlite3_reset(q->exists);
    bind_text(q->exists, 1, merchant);
    bind_text(q->exists, 2, e->id);
    rc = sqlite3_step(q->exists);
    sqlite3_reset(q->exists);
    if (rc == SQLITE_ROW) {
      r->status = "duplicate";
      return SQLITE_OK;
    }
    if (rc != SQLITE_DONE)
      return rc;
    if ((rc = check_order(q, merchant, e, r)) != SQLITE_OK)
      return rc;
  }
  const char *type = cashback_event_type_name(e->type);
  if (strcmp(r->status, "retry") == 0)
    return SQLITE_OK; /* not recorded: the sender sends it again */
  if (strcmp(r->status, "rejected") == 0) {
    sqlite3_stmt *st = q->insert_rej;
    sqlite3_reset(st);
    bind_text(st, 1, e->id);
    bind_text(st, 2, merchant);
    if (type)
      bind_text(st, 3, type);
    else
      sqlite3_bind_null(st, 3);
    bind_text(st, 4, e->order_id);
    sqlite3_bind_int(st, 5, e->test);
    bind_text(st, 6, r->reason);
    bind_text(st, 7, r->message);
    sqlite3_bind_int64(st, 8, now);
    sqlite3_bind_int64(st, 9, batch);
    sqlite3_bind_text(st, 10, e->json, (int)e->json_len, SQLITE_TRANSIENT);
    rc = sqlite3_step(st);
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? SQLITE_OK : rc;
  }
  sqlite3_stmt *st = q->insert;
  sqlite3_reset(st);
  bind_text(st, 1, e->id);
  bind_text(st, 2, merchant);
  bind_text(st, 3, type);
  bind_text(st, 4, e->order_id);
  if (e->has_amount) {
    sqlite3_bind_int64(st, 5, e->amount);
    bind_text(st, 6, e->currency);
  } else {
    sqlite3_bind_null(st, 5);
    sqlite3_bind_null(st, 6);
  }
  sqlite3_bind_int(st, 7, e->test);
  if (e->click_token[0])
    bind_text(st, 8, e->click_token);
  else
    sqlite3_bind_null(st, 8);
  if (e->refund_id[0])
    bind_text(st, 9, e->refund_id);
  else
    sqlite3_bind_null(st, 9);
  sqlite3_bind_int64(st, 10, now);
  sqlite3_bind_int64(st, 11, batch);
  sqlite3_bind_text(st, 12, e->json, (int)e->json_len, SQLITE_TRANSIENT);
  rc = sqlite3_step(st);
  sqlite3_reset(st);
  if (rc != SQLITE_DONE)
    return rc;
  return e->type == CASHBACK_EVENT_SALE ? release_held(q, merchant, e, now)
                                        : SQLITE_OK;
}

#define STMTS_N 8

/* The statements of `q`, in the order of prepare()'s SQL: the one list
 * that prepare() and finalize() go through. */
static void stmt_slots(stmts *q, sqlite3_stmt **slots[STMTS_N]) {
  sqlite3_stmt **all[STMTS_N] = {&q->exists,     &q->sale,       &q->refunded,
                                 &q->insert,     &q->insert_rej, &q->held,
                                 &q->unhold_rej, &q->unhold_del};
  memcpy(slots, all, sizeof(all));
}

static int prepare(sqlite3 *db, stmts *q) {
  static const char *const sql[STMTS_N] = {
      "SELECT 1 FROM events WHERE merchant = ?1 AND id = ?2",
      "SELECT amount, currency FROM events WHERE merchant = ?1 AND test = ?2"
      " AND order_id = ?3 AND type = 'sale'",
      "SELECT COALESCE(SUM(amount), 0) FROM events WHERE merchant = ?1 AND"
      " test = ?2 AND order_id = ?3 AND type = 'refund'",
      "INSERT INTO events (id, merchant, type, order_id, amount, currency,"
      " test, click, refund_id, received_at, batch, raw)"
      " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
      "INSERT INTO rejections (id, merchant, type, order_id, test, reason,"
      " message, received_at, batch, raw)"
      " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
      "SELECT id, type, amount, currency FROM events WHERE merchant = ?1"
      " AND test = ?2 AND order_id = ?3 AND type != 'sale' ORDER BY rowid",
      "INSERT INTO rejections (id, merchant, type, order_id, test, reason,"
      " message, received_at, batch, raw) SELECT id, merchant, type,"
      " order_id, test, ?1, ?2, ?3, batch, raw FROM events WHERE merchant ="
      " ?4 AND id = ?5",
      "DELETE FROM events WHERE merchant = ?1 AND id = ?2"};
  sqlite3_stmt **slots[STMTS_N];
  stmt_slots(q, slots);
  for (size_t i = 0; i < STMTS_N; i++) {
    int rc = sqlite3_prepare_v2(db, sql[i], -1, slots[i], NULL);
    if (rc != SQLITE_OK)
      return rc;
  }
  return SQLITE_OK;
}

static void finalize(stmts *q) {
  sqlite3_stmt **slots[STMTS_N];
  stmt_slots(q, slots);
  for (size_t i = 0; i < STMTS_N; i++)
    sqlite3_finalize(*slots[i]);
}

int sb_store_batch(sb_store *s, const cashback_batch *b, const char *key_id,
                   const char *remote, const char *body, size_t len,
                   int64_t now, sb_result *results, char *err, size_t size) {
  const char *merchant = cashback_batch_merchant_id(b);
  size_t n = cashback_batch_count(b);
  stmts q;
  memset(&q, 0, sizeof(q));
  sqlite3_stmt *head = NULL, *tail = NULL;
  pthread_mutex_lock(&s->lock);
  q.followups_retry = s->followups_retry;
  int rc = sqlite3_exec(s->db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
  if (rc == SQLITE_OK)
    rc = prepare(s->db, &q);
  if (rc == SQLITE_OK)
    rc = sqlite3_prepare_v2(
        s->db,
        "INSERT INTO batches (merchant, key_id, remote, received_at, events,"
        " body) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        -1, &head, NULL);
  if (rc == SQLITE_OK) {
    bind_text(head, 1, merchant);
    bind_text(head, 2, key_id);
    bind_text(head, 3, remote);
    sqlite3_bind_int64(head, 4, now);
    sqlite3_bind_int64(head, 5, (sqlite3_int64)n);
    sqlite3_bind_blob(head, 6, body, (int)len, SQLITE_STATIC);
    rc = sqlite3_step(head) == SQLITE_DONE ? SQLITE_OK : SQLITE_ERROR;
  }
  sqlite3_int64 batch = sqlite3_last_insert_rowid(s->db);
  int counts[3] = {0, 0, 0}; /* accepted, duplicates, not recorded */
  for (size_t i = 0; rc == SQLITE_OK && i < n; i++) {
    cashback_received_event e = {.size = sizeof(e)};
    if (cashback_batch_event(b, i, &e) != CASHBACK_OK) {
      rc = SQLITE_ERROR;
      break;
    }
    rc = one_event(&q, merchant, batch, now, &e, &results[i]);
    if (strcmp(results[i].status, "retry") != 0) /* not recorded */
      counts[results[i].status[0] == 'a'   ? 0
             : results[i].status[0] == 'd' ? 1
                                           : 2]++;
  }
  if (rc == SQLITE_OK)
    rc = sqlite3_prepare_v2(s->db,
                            "UPDATE batches SET accepted = ?1, duplicates = ?2,"
                            " rejected = ?3 WHERE seq = ?4",
                            -1, &tail, NULL);
  if (rc == SQLITE_OK) {
    for (int i = 0; i < 3; i++)
      sqlite3_bind_int(tail, i + 1, counts[i]);
    sqlite3_bind_int64(tail, 4, batch);
    rc = sqlite3_step(tail) == SQLITE_DONE ? SQLITE_OK : SQLITE_ERROR;
  }
  if (rc == SQLITE_OK)
    rc = sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL);
  int ret = 0;
  if (rc != SQLITE_OK) {
    ret = fail(s->db, err, size, "storing the batch");
    sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
  }
  sqlite3_finalize(head);
  sqlite3_finalize(tail);
  finalize(&q);
  pthread_mutex_unlock(&s->lock);
  return ret;
}

/* What one row of a report query is handed to. */
typedef void (*report_row_fn)(sqlite3_stmt *st, const sb_report_fns *fns,
                              void *ud);

/* Runs `sql`, its parameter ?1 (when it has one) bound to `arg`, and hands
 * each row to `row`. SQLITE_OK, or the code that failed. */
static int each_row(sqlite3 *db, const char *sql, int arg, report_row_fn row,
                    const sb_report_fns *fns, void *ud) {
  sqlite3_stmt *st = NULL;
  int rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
  if (rc != SQLITE_OK)
    return rc;
  if (sqlite3_bind_parameter_count(st) > 0)
    sqlite3_bind_int(st, 1, arg);
  while ((rc = sqlite3_step(st)) == SQLITE_ROW)
    row(st, fns, ud);
  rc = rc == SQLITE_DONE ? SQLITE_OK : rc;
  sqlite3_finalize(st);
  return rc;
}

static const char report_merchants_sql[] =
    "SELECT merchant FROM events UNION SELECT merchant FROM rejections"
    " ORDER BY 1";

/* A row of report_merchants_sql: a merchant with anything stored. */
static void merchant_row(sqlite3_stmt *st, const sb_report_fns *fns, void *ud) {
  fns->merchant(ud, (const char *)sqlite3_column_text(st, 0));
}

static const char report_orders_sql[] =
    "SELECT merchant, order_id, test,"
    " MAX(CASE WHEN type = 'sale' THEN currency END),"
    " MAX(CASE WHEN type = 'sale' THEN amount END),"
    " COALESCE(SUM(CASE WHEN type = 'refund' THEN amount END), 0),"
    " COUNT(CASE WHEN type = 'refund' THEN 1 END),"
    " MAX(type = 'cancel'), MAX(type = 'confirm'),"
    " MAX(CASE WHEN type = 'confirm' THEN amount END),"
    " MIN(received_at), MIN(rowid) AS first, MAX(type = 'sale')"
    " FROM events GROUP BY merchant, test, order_id"
    " ORDER BY merchant, first";

/* What commission is on: nothing before the sale or once cancelled, the
 * confirmed amount once confirmed, else the sale net of refunds. */
static int64_t order_net(const sb_order *o) {
  if (o->held)
    return 0; /* nothing to pay on before the sale */
  if (o->cancelled)
    return 0;
  if (o->has_confirmed_amount)
    return o->confirmed_amount;
  return o->sale > o->refunded ? o->sale - o->refunded : 0;
}

/* A row of report_orders_sql: one order, its events summed up. */
static void order_row(sqlite3_stmt *st, const sb_report_fns *fns, void *ud) {
  sb_order o;
  memset(&o, 0, sizeof(o));
  o.merchant = (const char *)sqlite3_column_text(st, 0);
  o.order_id = (const char *)sqlite3_column_text(st, 1);
  o.test = sqlite3_column_int(st, 2);
  o.currency = (const char *)sqlite3_column_text(st, 3);
  if (!o.currency)
    o.currency = "";
  o.sale = sqlite3_column_int64(st, 4);
  o.refunded = sqlite3_column_int64(st, 5);
  o.refunds = sqlite3_column_int(st, 6);
  o.cancelled = sqlite3_column_int(st, 7);
  o.confirmed = sqlite3_column_int(st, 8);
  o.has_confirmed_amount = sqlite3_column_type(st, 9) != SQLITE_NULL;
  o.confirmed_amount = sqlite3_column_int64(st, 9);
  o.first_seen = sqlite3_column_int64(st, 10);
  o.held = !sqlite3_column_int(st, 12);
  o.net = order_net(&o);
  fns->order(ud, &o);
}

static const char report_rejections_sql[] =
    "SELECT merchant, id, type, order_id, reason, message, received_at"
    " FROM (SELECT *, ROW_NUMBER() OVER (PARTITION BY merchant"
    " ORDER BY seq DESC) AS k FROM rejections)"
    " WHERE k <= ?1 ORDER BY merchant, seq DESC";

/* A row of report_rejections_sql: one recent rejection. */
static void rejection_row(sqlite3_stmt *st, const sb_report_fns *fns,
                          void *ud) {
  const char *col[6];
  for (int i = 0; i < 6; i++) {
    col[i] = (const char *)sqlite3_column_text(st, i);
    if (!col[i])
      col[i] = "";
  }
  sb_rejection r = {.merchant = col[0],
                    .id = col[1],
                    .type = col[2],
                    .order_id = col[3],
                    .reason = col[4],
                    .message = col[5],
                    .received_at = sqlite3_column_int64(st, 6)};
  fns->rejection(ud, &r);
}

int sb_store_report(sb_store *s, const sb_report_fns *fns, void *ud,
                    int max_rejections, char *err, size_t size) {
  pthread_mutex_lock(&s->lock);
  int rc = sqlite3_exec(s->db, "BEGIN", NULL, NULL, NULL);
  if (rc == SQLITE_OK && fns->merchant)
    rc = each_row(s->db, report_merchants_sql, 0, merchant_row, fns, ud);
  if (rc == SQLITE_OK && fns->order)
    rc = each_row(s->db, report_orders_sql, 0, order_row, fns, ud);
  if (rc == SQLITE_OK && fns->rejection)
    rc = each_row(s->db, report_rejections_sql, max_rejections, rejection_row,
                  fns, ud);
  int ret = rc == SQLITE_OK ? 0 : fail(s->db, err, size, "reading");
  sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL);
  pthread_mutex_unlock(&s->lock);
  return ret;
}
