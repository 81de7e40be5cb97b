/*
 * bench_sqlite: the do-it-yourself durable queue that `make bench` compares
 * the spool with: SQLite in WAL mode with synchronous=FULL, one INSERT (one
 * transaction) per event, from one or several processes at once.
 *
 *   bench_sqlite --dir D --count N [--procs P] [--size 249]
 *
 * Each of the P processes inserts N/P rows of a 32-character id and a
 * `size`-byte payload (249: the wire JSON of the benchmark's sale, so that a
 * row carries what a spool record does). Prints `key=value` lines:
 * sqlite<P>_ops_s, and the per-insert latency of the first process.
 */
#include <sqlite3.h>

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int64_t mono_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int cmp_i64(const void *a, const void *b) {
  int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
  return x < y ? -1 : x > y;
}

static double pct(const int64_t *v, size_t n, double p) {
  size_t rank = (size_t)ceil(p / 100.0 * (double)n);
  if (rank < 1)
    rank = 1;
  if (rank > n)
    rank = n;
  return (double)v[rank - 1];
}

static sqlite3 *open_db(const char *path) {
  sqlite3 *db;
  if (sqlite3_open(path, &db) != SQLITE_OK) {
    fprintf(stderr, "bench_sqlite: open %s: %s\n", path, sqlite3_errmsg(db));
    exit(1);
  }
  sqlite3_busy_timeout(db, 60000);
  char *err = NULL;
  if (sqlite3_exec(db,
                   "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
                   "CREATE TABLE IF NOT EXISTS events("
                   "id TEXT PRIMARY KEY, created INTEGER, body BLOB)",
                   NULL, NULL, &err) != SQLITE_OK) {
    fprintf(stderr, "bench_sqlite: setup: %s\n", err ? err : "?");
    exit(1);
  }
  return db;
}

/* Inserts `n` rows; fills lat[] when not NULL. 0 on success. */
static int insert_rows(const char *path, long proc, long n, size_t size,
                       int64_t *lat) {
  sqlite3 *db = open_db(path);
  sqlite3_stmt *st;
  if (sqlite3_prepare_v2(db,
                         "INSERT INTO events(id, created, body) "
                         "VALUES(?, ?, ?)",
                         -1, &st, NULL) != SQLITE_OK)
    return -1;
  char *body = malloc(size);
  if (!body)
    return -1;
  memset(body, 'e', size);
  for (long i = 0; i < n; i++) {
    char id[64];
    snprintf(id, sizeof(id), "%08lx%024lx", (unsigned long)proc,
             (unsigned long)i);
    int64_t t0 = mono_ns();
    sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)time(NULL));
    sqlite3_bind_blob(st, 3, body, (int)size, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc != SQLITE_DONE) {
      fprintf(stderr, "bench_sqlite: insert: %s\n", sqlite3_errmsg(db));
      return -1;
    }
    if (lat)
      lat[i] = mono_ns() - t0;
  }
  free(body);
  sqlite3_finalize(st);
  sqlite3_close(db);
  return 0;
}

int main(int argc, char **argv) {
  const char *dir = NULL;
  long count = 1000, procs = 1, size = 249;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (strcmp(argv[i], "--dir") == 0)
      dir = argv[i + 1];
    else if (strcmp(argv[i], "--count") == 0)
      count = atol(argv[i + 1]);
    else if (strcmp(argv[i], "--procs") == 0)
      procs = atol(argv[i + 1]);
    else if (strcmp(argv[i], "--size") == 0)
      size = atol(argv[i + 1]);
    else
      break;
  }
  if (!dir || count < 1 || procs < 1 || size < 1 || argc % 2 == 0) {
    fprintf(stderr, "usage: bench_sqlite --dir D --count N [--procs P] "
                    "[--size B]\n");
    return 2;
  }
  if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
    fprintf(stderr, "bench_sqlite: mkdir %s: %s\n", dir, strerror(errno));
    return 1;
  }
  char path[4096];
  snprintf(path, sizeof(path), "%s/queue-%ld.db", dir, (long)getpid());
  sqlite3_close(open_db(path)); /* creates the table and the WAL mode */
  long per = count / procs;
  int64_t *lat = malloc(sizeof(int64_t) * (size_t)per);
  int go[2], ready[2];
  if (!lat || pipe(go) != 0 || pipe(ready) != 0)
    return 1;
  fflush(stdout);
  pid_t *pids = calloc((size_t)procs, sizeof(pid_t));
  for (long p = 0; pids && p < procs; p++) {
    pids[p] = fork();
    if (pids[p] < 0)
      return 1;
    if (pids[p] == 0) {
      close(go[1]);
      close(ready[0]);
      char ch = 'r';
      if (write(ready[1], &ch, 1) != 1 || read(go[0], &ch, 1) < 0)
        _exit(1);
      int rc = insert_rows(path, p, per, (size_t)size, p == 0 ? lat : NULL);
      if (rc == 0 && p == 0) {
        /* The first process reports the latency of its inserts. */
        qsort(lat, (size_t)per, sizeof(*lat), cmp_i64);
        printf("sqlite%ld_p50_us=%.1f\nsqlite%ld_p99_us=%.1f\n"
               "sqlite%ld_p999_us=%.1f\n",
               procs, pct(lat, (size_t)per, 50) / 1000, procs,
               pct(lat, (size_t)per, 99) / 1000, procs,
               pct(lat, (size_t)per, 99.9) / 1000);
        fflush(stdout);
      }
      _exit(rc == 0 ? 0 : 1);
    }
  }
  close(go[0]);
  close(ready[1]);
  for (long p = 0; p < procs; p++) {
    char ch;
    if (read(ready[0], &ch, 1) != 1)
      return 1;
  }
  int64_t start = mono_ns();
  close(go[1]);
  int failed = 0;
  for (long p = 0; p < procs; p++) {
    int status;
    if (waitpid(pids[p], &status, 0) < 0 || !WIFEXITED(status) ||
        WEXITSTATUS(status) != 0)
      failed++;
  }
  double secs = (double)(mono_ns() - start) / 1e9;
  if (failed) {
    fprintf(stderr, "bench_sqlite: %d process(es) failed\n", failed);
    return 1;
  }
  /* Every row is there. */
  sqlite3 *db = open_db(path);
  sqlite3_stmt *st;
  long rows = -1;
  if (sqlite3_prepare_v2(db, "SELECT count(*) FROM events", -1, &st, NULL) ==
          SQLITE_OK &&
      sqlite3_step(st) == SQLITE_ROW)
    rows = (long)sqlite3_column_int64(st, 0);
  sqlite3_finalize(st);
  sqlite3_close(db);
  printf("sqlite%ld_rows=%ld\n", procs, rows);
  printf("sqlite%ld_ops_s=%.0f\n", procs, (double)(per * procs) / secs);
  char side[4200];
  unlink(path);
  snprintf(side, sizeof(side), "%s-wal", path);
  unlink(side);
  snprintf(side, sizeof(side), "%s-shm", path);
  unlink(side);
  free(pids);
  free(lat);
  return rows == per * procs ? 0 : 1;
}
