/*
 * cashback_bench: the benchmark programs behind `make bench` (bench/run.sh
 * runs them, each workload in its own process, and prints the table; see
 * docs/performance.md). Each subcommand prints `key=value` lines on stdout.
 *
 *   raw     --dir D --count N [--size 256] [--rate R]
 *                                                 write+fdatasync baseline
 *   report  --spool D --count N [--durability sync|process] [--prefix P]
 *           [--url U] [--dir D]                   cashback_report() latency,
 *                                                 alternating with raw in D
 *   multi   --spool D --procs P --count N [--prefix P]
 *                                                 P processes, one spool
 *   post    --url U --count N                     inline POST per sale
 *   fill    --spool D --count N [--prefix P]      queue N events directly
 *                                                 with the record encoder
 *   drain   --spool D --url U                     cashback_flush() of it all
 *   outage  --spool D --url U --rate R --seconds T [--dir D]
 *                                                 reports during a 503 outage
 *   limit   --dir D --procs P --count N --method append|prealloc|group
 *           [--size 256]                          the disk's limit with P
 *                                                 writer processes, no SDK
 *   steady  --spool D --url U --rate R --count N --sender on|off
 *                                                 paced reports, with the
 *                                                 sender thread or without
 *   tail    --spool D --spool2 E --count N [--spool-max-bytes B]
 *                                                 report latency into D (a
 *                                                 backlog) and E (empty),
 *                                                 alternating
 *
 * fill also takes --repeat 1: its first segment's records are written again
 * as every later segment (a large backlog fast, for tail; not deliverable
 * as distinct sales, so it prints no ids).
 *
 * Common: --batch-events N, --batch-bytes N, --backoff-base-ms N,
 * --backoff-cap-ms N. Latencies are in microseconds, CPU in seconds.
 */
#include "cashback.h"
#include "cashback_backoff.h"
#include "cashback_record.h"

#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MERCHANT "bench-shop"
#define KEY_ID "bench-key"
#define SECRET "bench-secret-0123456789abcdef"
#define SEGMENT_BYTES (4u << 20) /* as the spool rotates its segments */

typedef struct args {
  const char *cmd;
  const char *dir, *spool, *spool2, *url, *prefix, *durability;
  const char *method, *sender;
  long count, procs, size, repeat;
  unsigned long long spool_max_bytes;
  double rate, seconds;
  long batch_events, batch_bytes;
  long backoff_base_ms, backoff_cap_ms;
} args;

static void die(const char *fmt, ...)
    __attribute__((format(printf, 1, 2), noreturn));
static void die(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fputs("cashback_bench: ", stderr);
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
  va_end(ap);
  exit(1);
}

static int64_t mono_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int64_t wall_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* --- Figures ------------------------------------------------------------- */

static int cmp_i64(const void *a, const void *b) {
  int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
  return x < y ? -1 : x > y;
}

/* Nearest-rank percentile of sorted `v`. */
static double pct(const int64_t *v, size_t n, double p) {
  if (!n)
    return 0;
  size_t rank = (size_t)ceil(p / 100.0 * (double)n);
  if (rank < 1)
    rank = 1;
  if (rank > n)
    rank = n;
  return (double)v[rank - 1];
}

/* Prints <name>_p50_us, _p99_us, _p999_us, _mean_us, _max_us. */
static void print_latency(const char *name, int64_t *ns, size_t n) {
  qsort(ns, n, sizeof(*ns), cmp_i64);
  double sum = 0;
  for (size_t i = 0; i < n; i++)
    sum += (double)ns[i];
  printf("%s_n=%zu\n", name, n);
  printf("%s_p50_us=%.1f\n", name, pct(ns, n, 50) / 1000);
  printf("%s_p99_us=%.1f\n", name, pct(ns, n, 99) / 1000);
  printf("%s_p999_us=%.1f\n", name, pct(ns, n, 99.9) / 1000);
  printf("%s_p9999_us=%.1f\n", name, pct(ns, n, 99.99) / 1000);
  printf("%s_mean_us=%.1f\n", name, n ? sum / (double)n / 1000 : 0);
  printf("%s_max_us=%.1f\n", name, n ? (double)ns[n - 1] / 1000 : 0);
}

static double tv_s(struct timeval tv) {
  return (double)tv.tv_sec + (double)tv.tv_usec / 1e6;
}

static double cpu_self(void) {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return tv_s(ru.ru_utime) + tv_s(ru.ru_stime);
}

/* A field of /proc/self/status in KiB, e.g. "RssAnon:" (0 when unknown). */
static long status_kb(const char *field) {
  FILE *f = fopen("/proc/self/status", "r");
  long kb = 0;
  char line[256];
  size_t n = strlen(field);
  while (f && fgets(line, sizeof(line), f))
    if (strncmp(line, field, n) == 0)
      kb = strtol(line + n, NULL, 10);
  if (f)
    fclose(f);
  return kb;
}

/* Sum of the first 8 bytes of event ids, as fast_receiver keeps it. */
static uint64_t id_word(const char *id) {
  uint64_t w = 0;
  for (int i = 0; i < 16; i++) {
    char ch = id[i];
    w = w << 4 | (uint64_t)(ch <= '9' ? ch - '0' : ch - 'a' + 10);
  }
  return w;
}

/* --- Client and events --------------------------------------------------- */

static cashback_client *make_client(const args *a, int durability) {
  cashback_options *o = cashback_options_new();
  if (!o)
    die("out of memory");
  const char *url = a->url ? a->url : "http://127.0.0.1:9/v1/events";
  if (cashback_options_set_merchant_id(o, MERCHANT) ||
      cashback_options_set_key(o, KEY_ID, SECRET) ||
      cashback_options_set_endpoint(o, url) ||
      (a->spool && cashback_options_set_spool_dir(o, a->spool)) ||
      (a->spool_max_bytes &&
       cashback_options_set_spool_max_bytes(o, a->spool_max_bytes)) ||
      cashback_options_set_durability(o, durability ? CASHBACK_DURABLE_PROCESS
                                                    : CASHBACK_DURABLE_SYNC) ||
      ((a->batch_events || a->batch_bytes) &&
       cashback_options_set_batch(
           o, a->batch_events ? (size_t)a->batch_events : 500,
           a->batch_bytes ? (size_t)a->batch_bytes : 1u << 20)) ||
      ((a->backoff_base_ms || a->backoff_cap_ms) &&
       cashback_options_set_backoff(
           o, a->backoff_base_ms ? a->backoff_base_ms : 1000,
           a->backoff_cap_ms ? a->backoff_cap_ms : 600000)))
    die("options: %s", cashback_options_last_error(o));
  cashback_client *c;
  char detail[CASHBACK_ERROR_MAX + 1];
  if (cashback_client_new(o, &c, detail, sizeof(detail)) != CASHBACK_OK)
    die("client: %s", detail);
  return c;
}

/* A typical sale: a click, an amount, a customer flag. Its wire JSON is
 * 249 bytes, a spool record 269 (the raw baseline appends 256). */
static cashback_event *make_sale(const char *prefix, long i) {
  char order[64];
  snprintf(order, sizeof(order), "%s-%09ld", prefix, i);
  cashback_event *ev = cashback_event_new(CASHBACK_EVENT_SALE, order);
  if (!ev || cashback_event_set_click(ev, "tok_bench_5f3a9c1e7d2b4a60") ||
      cashback_event_set_amount(ev, 4990 + i % 1000, "EUR") ||
      cashback_event_set_customer(ev, CASHBACK_CUSTOMER_NEW))
    die("cannot build sale %ld", i);
  return ev;
}

static int durability_of(const args *a) {
  if (!a->durability || strcmp(a->durability, "sync") == 0)
    return 0;
  if (strcmp(a->durability, "process") == 0)
    return 1;
  die("--durability: sync or process");
  return 0;
}

/* --- Receiver stats ------------------------------------------------------ */

typedef struct rstats {
  uint64_t requests, batches, accepted, duplicates, answered_503;
  uint64_t bad_signature, bad_request, id_sum;
  int64_t outage_start_ms, outage_end_ms, first_ok_after_outage_ms;
  int64_t last_accept_ms;
} rstats;

typedef struct membuf {
  char *p;
  size_t n;
} membuf;

static size_t collect_body(char *p, size_t size, size_t n, void *ud) {
  membuf *m = ud;
  size_t len = size * n;
  char *np = realloc(m->p, m->n + len + 1);
  if (!np)
    return 0;
  memcpy(np + m->n, p, len);
  m->n += len;
  np[m->n] = '\0';
  m->p = np;
  return len;
}

static uint64_t num_field(const cJSON *o, const char *name) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
  return cJSON_IsNumber(v) ? (uint64_t)v->valuedouble : 0;
}

/* GET <base>/_stats of a fast_receiver whose batch URL is `url`. */
static void get_stats(const char *url, rstats *st) {
  char base[512];
  const char *p = strstr(url, "://");
  const char *slash = p ? strchr(p + 3, '/') : NULL;
  size_t n = slash ? (size_t)(slash - url) : strlen(url);
  if (n + 8 > sizeof(base))
    die("url too long");
  memcpy(base, url, n);
  memcpy(base + n, "/_stats", 8);
  membuf m = {NULL, 0};
  CURL *h = curl_easy_init();
  if (!h)
    die("curl_easy_init");
  curl_easy_setopt(h, CURLOPT_URL, base);
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, collect_body);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, &m);
  curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, 10000L);
  CURLcode rc = curl_easy_perform(h);
  curl_easy_cleanup(h);
  char *buf = m.p;
  if (rc != CURLE_OK || !buf)
    die("GET %s: %s", base, curl_easy_strerror(rc));
  cJSON *o = cJSON_Parse(buf);
  free(buf);
  if (!o)
    die("GET %s: not JSON", base);
  memset(st, 0, sizeof(*st));
  st->requests = num_field(o, "requests");
  st->batches = num_field(o, "batches");
  st->accepted = num_field(o, "accepted");
  st->duplicates = num_field(o, "duplicates");
  st->answered_503 = num_field(o, "answered_503");
  st->bad_signature = num_field(o, "bad_signature");
  st->bad_request = num_field(o, "bad_request");
  const cJSON *sum = cJSON_GetObjectItemCaseSensitive(o, "id_sum");
  if (cJSON_IsString(sum))
    st->id_sum = strtoull(sum->valuestring, NULL, 16);
  st->outage_start_ms = (int64_t)num_field(o, "outage_start_ms");
  st->outage_end_ms = (int64_t)num_field(o, "outage_end_ms");
  st->first_ok_after_outage_ms =
      (int64_t)num_field(o, "first_ok_after_outage_ms");
  st->last_accept_ms = (int64_t)num_field(o, "last_accept_ms");
  cJSON_Delete(o);
}

/* The delivery check's figures: what the receiver got between two of its
 * stats, and the ids a workload reported (docs/performance.md). */
static void print_delivered(const rstats *before, const rstats *after) {
  printf("delivered_count=%" PRIu64 "\n", after->accepted - before->accepted);
  printf("delivered_sum=%016" PRIx64 "\n", after->id_sum - before->id_sum);
}

static void print_ids(long count, uint64_t sum) {
  printf("ids_count=%ld\nids_sum=%016" PRIx64 "\n", count, sum);
}

/* --- raw: the disk's limit ----------------------------------------------- */

static int64_t cpu_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void sleep_until_ns(int64_t t) {
  int64_t now = mono_ns();
  if (t <= now)
    return;
  struct timespec ts = {(time_t)((t - now) / 1000000000),
                        (long)((t - now) % 1000000000)};
  while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
    ;
}

/* The disk's limit: a file in `dir` that records of `size` bytes are
 * appended to, each followed by fdatasync. */
typedef struct rawfile {
  char path[4096];
  int fd;
  char *rec;
  size_t size;
} rawfile;

static void raw_open(rawfile *r, const char *dir, long size) {
  if (mkdir(dir, 0700) != 0 && errno != EEXIST)
    die("mkdir %s: %s", dir, strerror(errno));
  snprintf(r->path, sizeof(r->path), "%s/raw-%ld.log", dir, (long)getpid());
  r->fd =
      open(r->path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0600);
  if (r->fd < 0)
    die("open %s: %s", r->path, strerror(errno));
  int dfd = open(dir, O_RDONLY | O_DIRECTORY);
  if (dfd >= 0) {
    fsync(dfd);
    close(dfd);
  }
  r->size = size > 0 ? (size_t)size : 256;
  if (!(r->rec = malloc(r->size)))
    die("out of memory");
  memset(r->rec, 'r', r->size);
}

/* One append + fdatasync; gives its latency, adds its CPU to `*cpu`. */
static int64_t raw_one(rawfile *r, int64_t *cpu) {
  int64_t c0 = cpu_ns(), t0 = mono_ns();
  if (write(r->fd, r->rec, r->size) != (ssize_t)r->size ||
      fdatasync(r->fd) != 0)
    die("write/fdatasync %s: %s", r->path, strerror(errno));
  int64_t t = mono_ns() - t0;
  *cpu += cpu_ns() - c0;
  return t;
}

static void raw_close(rawfile *r) {
  close(r->fd);
  unlink(r->path);
  free(r->rec);
}

static int cmd_raw(const args *a) {
  if (!a->dir)
    die("raw: --dir");
  rawfile r;
  raw_open(&r, a->dir, a->size);
  int64_t *lat = malloc(sizeof(int64_t) * (size_t)a->count);
  if (!lat)
    die("out of memory");
  int64_t cpu = 0, start = mono_ns();
  int64_t step = a->rate > 0 ? (int64_t)(1e9 / a->rate) : 0;
  for (long i = 0; i < a->count; i++) {
    if (step)
      sleep_until_ns(start + i * step); /* paced, as sales come in */
    lat[i] = raw_one(&r, &cpu);
  }
  double secs = (double)(mono_ns() - start) / 1e9;
  raw_close(&r);
  print_latency("raw", lat, (size_t)a->count);
  printf("raw_ops_s=%.0f\n", (double)a->count / secs);
  printf("raw_cpu_s=%.3f\n", (double)cpu / 1e9);
  printf("raw_record_bytes=%zu\n", r.size);
  free(lat);
  return 0;
}

/* --- report: one process ------------------------------------------------- */

/* With --dir, each report alternates with a raw append + fdatasync in that
 * directory (one before, the next after), so that both see the same disk
 * at the same moments: the raw_* figures are the report's baseline. */
static int cmd_report(const args *a) {
  if (!a->spool)
    die("report: --spool");
  int dur = durability_of(a);
  cashback_client *c = make_client(a, dur);
  int64_t *lat = malloc(sizeof(int64_t) * (size_t)a->count);
  int64_t *rlat = malloc(sizeof(int64_t) * (size_t)a->count);
  if (!lat || !rlat)
    die("out of memory");
  rawfile raw;
  if (a->dir)
    raw_open(&raw, a->dir, a->size);
  const char *prefix = a->prefix ? a->prefix : "report";
  uint64_t sum = 0;
  size_t bytes = 0;
  int64_t cpu = 0, rcpu = 0, busy = 0;
  double cpu0 = cpu_self();
  for (long i = 0; i < a->count; i++) {
    if (a->dir && i % 2 == 0)
      rlat[i] = raw_one(&raw, &rcpu);
    int64_t b0 = mono_ns();
    cashback_event *ev = make_sale(prefix, i);
    char id[CASHBACK_EVENT_ID_LEN + 1];
    int64_t c0 = cpu_ns(), t0 = mono_ns();
    cashback_status st = cashback_report(c, ev, id);
    lat[i] = mono_ns() - t0;
    cpu += cpu_ns() - c0;
    if (st != CASHBACK_OK) {
      char d[CASHBACK_ERROR_MAX + 1];
      cashback_client_last_error(c, d, sizeof(d));
      die("report %ld: %s: %s", i, cashback_strerror(st), d);
    }
    if (i == 0) {
      char *json;
      size_t len;
      if (cashback_event_to_json(c, ev, &json, &len) == CASHBACK_OK) {
        bytes = len + CASHBACK__RECORD_HEADER;
        cashback_free(json);
      }
    }
    sum += id_word(id);
    cashback_event_free(ev);
    busy += mono_ns() - b0;
    if (a->dir && i % 2 == 1)
      rlat[i] = raw_one(&raw, &rcpu);
  }
  double total_cpu = cpu_self() - cpu0;
  const char *name = dur ? "report_process" : "report";
  print_latency(name, lat, (size_t)a->count);
  /* Sales per second of one thread that builds and reports sales. */
  printf("%s_ops_s=%.0f\n", name, (double)a->count / ((double)busy / 1e9));
  printf("%s_cpu_s=%.3f\n", name, (double)cpu / 1e9);
  printf("%s_cpu_total_s=%.3f\n", name, total_cpu);
  printf("%s_record_bytes=%zu\n", name, bytes);
  print_ids(a->count, sum);
  if (a->dir) {
    raw_close(&raw);
    print_latency("raw", rlat, (size_t)a->count);
    printf("raw_cpu_s=%.3f\n", (double)rcpu / 1e9);
    printf("raw_record_bytes=%zu\n", raw.size);
  }
  cashback_client_free(c);
  free(lat);
  free(rlat);
  return 0;
}

/* --- multi: P processes into one spool ----------------------------------- */

/* A process of run_procs(): number `p` of them, it prepares, then calls
 * barrier() and does the timed work; its exit status is its result. */
typedef int (*proc_fn)(const args *a, long p, void *ud, int ready, int go);

/* In a process of run_procs(): says it is ready, waits for the start. 0 on
 * success. */
static int barrier(int ready, int go) {
  char ch;
  if (write(ready, "r", 1) != 1 || read(go, &ch, 1) < 0) /* EOF: go */
    return -1;
  return 0;
}

/* Runs `fn` in --procs processes, started together behind a pipe barrier
 * once every one is ready; gives the seconds from the start to the last
 * exit. Dies when one fails (`what` names them). */
static double run_procs(const args *a, proc_fn fn, void *ud, const char *what) {
  int ready[2], go[2];
  if (pipe(ready) != 0 || pipe(go) != 0)
    die("pipe: %s", strerror(errno));
  pid_t *pids = calloc((size_t)a->procs, sizeof(pid_t));
  if (!pids)
    die("out of memory");
  fflush(stdout);
  for (long p = 0; p < a->procs; p++) {
    pid_t pid = fork();
    if (pid < 0)
      die("fork: %s", strerror(errno));
    if (pid == 0) {
      close(ready[0]);
      close(go[1]);
      _exit(fn(a, p, ud, ready[1], go[0]));
    }
    pids[p] = pid;
  }
  close(ready[1]);
  close(go[0]);
  for (long p = 0; p < a->procs; p++) {
    char ch;
    if (read(ready[0], &ch, 1) != 1)
      die("a %s failed to start", what);
  }
  int64_t start = mono_ns();
  close(go[1]);
  int failed = 0;
  for (long p = 0; p < a->procs; p++) {
    int status;
    if (waitpid(pids[p], &status, 0) < 0 || !WIFEXITED(status) ||
        WEXITSTATUS(status) != 0)
      failed++;
  }
  double secs = (double)(mono_ns() - start) / 1e9;
  close(ready[0]);
  free(pids);
  if (failed)
    die("%d %s process(es) failed", failed, what);
  return secs;
}

/* A reporter of multi: --count / --procs sales into the spool. */
static int multi_reporter(const args *a, long p, void *ud, int ready, int go) {
  (void)ud;
  const char *prefix = a->prefix ? a->prefix : "multi";
  long per = a->count / a->procs;
  cashback_client *c = make_client(a, 0);
  char pre[64];
  snprintf(pre, sizeof(pre), "%s-p%ld", prefix, p);
  cashback_event *first = make_sale(pre, 0);
  if (barrier(ready, go) != 0)
    return 1;
  for (long i = 0; i < per; i++) {
    cashback_event *ev = i ? make_sale(pre, i) : first;
    if (cashback_report(c, ev, NULL) != CASHBACK_OK)
      return 1;
    cashback_event_free(ev);
  }
  cashback_client_free(c);
  return 0;
}

static int cmd_multi(const args *a) {
  if (!a->spool || a->procs < 1)
    die("multi: --spool and --procs");
  const char *prefix = a->prefix ? a->prefix : "multi";
  long per = a->count / a->procs;
  double secs = run_procs(a, multi_reporter, NULL, "reporter");
  struct rusage ru;
  getrusage(RUSAGE_CHILDREN, &ru);
  /* The ids the network must receive. */
  args b = *a;
  b.spool = NULL;
  cashback_client *c = make_client(&b, 0);
  uint64_t sum = 0;
  for (long p = 0; p < a->procs; p++) {
    char pre[64];
    snprintf(pre, sizeof(pre), "%s-p%ld", prefix, p);
    for (long i = 0; i < per; i++) {
      cashback_event *ev = make_sale(pre, i);
      char id[CASHBACK_EVENT_ID_LEN + 1];
      if (cashback_event_finalize(c, ev, id) != CASHBACK_OK)
        die("finalize");
      sum += id_word(id);
      cashback_event_free(ev);
    }
  }
  cashback_client_free(c);
  printf("multi_procs=%ld\n", a->procs);
  printf("multi_ops_s=%.0f\n", (double)(per * a->procs) / secs);
  printf("multi_cpu_s=%.3f\n", tv_s(ru.ru_utime) + tv_s(ru.ru_stime));
  print_ids(per * a->procs, sum);
  return 0;
}

/* --- post: what merchants write today ------------------------------------ */

static size_t discard(char *p, size_t size, size_t n, void *ud) {
  (void)p;
  (void)ud;
  return size * n;
}

static int cmd_post(const args *a) {
  if (!a->url)
    die("post: --url");
  cashback_client *c = make_client(a, 0);
  CURL *h = curl_easy_init();
  int64_t *lat = malloc(sizeof(int64_t) * (size_t)a->count);
  if (!h || !lat)
    die("out of memory");
  const char *prefix = a->prefix ? a->prefix : "post";
  for (long i = 0; i < a->count; i++) {
    int64_t t0 = mono_ns();
    cashback_event *ev = make_sale(prefix, i);
    cashback_request *req;
    if (cashback_request_new(c, &ev, 1, &req) != CASHBACK_OK)
      die("request %ld", i);
    size_t len;
    const char *body = cashback_request_body(req, &len);
    char sig[512];
    snprintf(sig, sizeof(sig), CASHBACK_SIGNATURE_HEADER ": %s",
             cashback_request_signature(req));
    struct curl_slist *hd = curl_slist_append(NULL, sig);
    hd = curl_slist_append(hd, "Content-Type: application/json");
    hd = curl_slist_append(hd, "Expect:");
    curl_easy_setopt(h, CURLOPT_URL, cashback_request_url(req));
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hd);
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, discard);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, 30000L);
    CURLcode rc = curl_easy_perform(h);
    long code = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
    curl_slist_free_all(hd);
    cashback_request_free(req);
    cashback_event_free(ev);
    if (rc != CURLE_OK || code != 200)
      die("POST %s: %s, HTTP %ld", a->url, curl_easy_strerror(rc), code);
    lat[i] = mono_ns() - t0;
  }
  print_latency("post", lat, (size_t)a->count);
  /* The floor for the sender's memory: the same program and libraries,
   * posting with libcurl, without the spool or the sender. */
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  printf("post_maxrss_kb=%ld\npost_hwm_kb=%ld\n", ru.ru_maxrss,
         status_kb("VmHWM:"));
  printf("post_rss_anon_kb=%ld\npost_rss_file_kb=%ld\n", status_kb("RssAnon:"),
         status_kb("RssFile:"));
  curl_easy_cleanup(h);
  cashback_client_free(c);
  free(lat);
  return 0;
}

/* --- fill: a backlog written with the spool's record encoder ------------- */

static int cmd_fill(const args *a) {
  if (!a->spool)
    die("fill: --spool");
  if (mkdir(a->spool, 0700) != 0 && errno != EEXIST)
    die("mkdir %s: %s", a->spool, strerror(errno));
  args b = *a;
  b.spool = NULL;
  cashback_client *c = make_client(&b, 0);
  const char *prefix = a->prefix ? a->prefix : "fill";
  size_t cap = SEGMENT_BYTES + 2 * (CASHBACK__RECORD_MAX + 64);
  uint8_t *seg = malloc(cap);
  if (!seg)
    die("out of memory");
  size_t used = 0;
  unsigned nseg = 0;
  uint64_t sum = 0, total = 0;
  int64_t start = mono_ns();
  int64_t t_ms = wall_ms();
  /* --repeat: the first segment's records and where each ends */
  uint8_t *first = NULL;
  size_t *ends = a->repeat ? malloc(sizeof(size_t) * SEGMENT_BYTES / 64) : NULL;
  long nfirst = 0;
  if (a->repeat && !ends)
    die("out of memory");
  for (long i = 0; i <= a->count; i++) {
    if (i == a->count || used >= SEGMENT_BYTES) {
      if (a->repeat && !first && i < a->count) {
        if (!(first = malloc(used)))
          die("out of memory");
        memcpy(first, seg, used);
        nfirst = i;
      }
      if (used) {
        /* Names sort by time, as the spool's own do. */
        char path[4096];
        snprintf(path, sizeof(path), "%s/seg-%016llx-%ld-f%07x.log", a->spool,
                 (unsigned long long)t_ms, (long)getpid(), nseg++);
        int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (fd < 0 || write(fd, seg, used) != (ssize_t)used || close(fd) != 0)
          die("write %s: %s", path, strerror(errno));
        total += used;
        used = 0;
      }
      if (i == a->count)
        break;
    }
    if (first) {
      long j = i % nfirst;
      size_t from = j ? ends[j - 1] : 0;
      memcpy(seg + used, first + from, ends[j] - from);
      used += ends[j] - from;
      continue;
    }
    cashback_event *ev = make_sale(prefix, i);
    char *json;
    size_t len;
    char id[CASHBACK_EVENT_ID_LEN + 1];
    if (cashback_event_finalize(c, ev, id) != CASHBACK_OK ||
        cashback_event_to_json(c, ev, &json, &len) != CASHBACK_OK)
      die("event %ld", i);
    cashback__record_header(seg + used, json, len, t_ms);
    memcpy(seg + used + CASHBACK__RECORD_HEADER, json, len);
    used += CASHBACK__RECORD_HEADER + len;
    if (ends)
      ends[i] = used;
    sum += id_word(id);
    cashback_free(json);
    cashback_event_free(ev);
  }
  sync();
  printf("fill_events=%ld\nfill_bytes=%" PRIu64 "\nfill_segments=%u\n",
         a->count, total, nseg);
  printf("fill_s=%.2f\n", (double)(mono_ns() - start) / 1e9);
  if (first) /* the same records again: not distinct sales */
    printf("fill_distinct=%ld\n", nfirst);
  else
    print_ids(a->count, sum);
  cashback_client_free(c);
  free(first);
  free(ends);
  free(seg);
  return 0;
}

/* --- drain: the sender on a backlog -------------------------------------- */

static int cmd_drain(const args *a) {
  if (!a->spool || !a->url)
    die("drain: --spool and --url");
  rstats before, after;
  get_stats(a->url, &before);
  cashback_client *c = make_client(a, 0);
  double cpu0 = cpu_self();
  int64_t start = mono_ns();
  cashback_status st = cashback_flush(c, 900000);
  double secs = (double)(mono_ns() - start) / 1e9;
  double cpu = cpu_self() - cpu0;
  long hwm = status_kb("VmHWM:");
  long anon = status_kb("RssAnon:"), file = status_kb("RssFile:");
  const char *smaps = getenv("BENCH_SMAPS");
  if (smaps) {
    /* Where the memory is, for docs/performance.md. */
    char cmd[4200];
    snprintf(cmd, sizeof(cmd), "cat /proc/%ld/smaps > '%s'", (long)getpid(),
             smaps);
    if (system(cmd) != 0)
      fprintf(stderr, "cashback_bench: cannot write %s\n", smaps);
  }
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  if (st != CASHBACK_OK) {
    char d[CASHBACK_ERROR_MAX + 1];
    cashback_client_last_error(c, d, sizeof(d));
    die("flush: %s: %s", cashback_strerror(st), d);
  }
  get_stats(a->url, &after);
  uint64_t n = after.accepted - before.accepted;
  printf("drain_events=%" PRIu64 "\n", n);
  printf("drain_duplicates=%" PRIu64 "\n",
         after.duplicates - before.duplicates);
  printf("drain_requests=%" PRIu64 "\n", after.batches - before.batches);
  printf("drain_s=%.3f\n", secs);
  printf("drain_events_s=%.0f\n", secs > 0 ? (double)n / secs : 0);
  printf("drain_cpu_s=%.3f\n", cpu);
  printf("drain_maxrss_kb=%ld\n", ru.ru_maxrss);
  printf("drain_hwm_kb=%ld\n", hwm);
  printf("drain_rss_anon_kb=%ld\ndrain_rss_file_kb=%ld\n", anon, file);
  print_delivered(&before, &after);
  cashback_client_free(c);
  return 0;
}

/* --- outage: reports while the network answers 503 ----------------------- */

static uint64_t splitmix(uint64_t *s) {
  uint64_t z = (*s += 0x9e3779b97f4a7c15u);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
  return z ^ (z >> 31);
}

static int cmp_u32(const void *a, const void *b) {
  unsigned x = *(const unsigned *)a, y = *(const unsigned *)b;
  return x < y ? -1 : x > y;
}

/* Requests a sender makes in a window of `window_ms` that begins with its
 * first (failed) request, by the SDK's own backoff function: the
 * distribution over `trials` random schedules. */
static void simulate_requests(int64_t window_ms, int64_t base, int64_t cap,
                              double *mean, unsigned *p99, unsigned *p999,
                              unsigned *max) {
  enum { TRIALS = 100000 };
  unsigned *n = malloc(sizeof(unsigned) * TRIALS);
  if (!n)
    die("out of memory");
  uint64_t seed = 42;
  double sum = 0;
  for (int t = 0; t < TRIALS; t++) {
    int64_t at = 0;
    unsigned k = 0;
    while (at < window_ms) {
      k++; /* a request at `at`, answered 503 */
      at += cashback__backoff_ms(k, base, cap, splitmix(&seed));
      if (k > 100000)
        break;
    }
    n[t] = k;
    sum += k;
  }
  qsort(n, TRIALS, sizeof(*n), cmp_u32);
  *mean = sum / TRIALS;
  *p99 = n[(size_t)(TRIALS * 0.99) - 1];
  *p999 = n[(size_t)(TRIALS * 0.999) - 1];
  *max = n[TRIALS - 1];
  free(n);
}

static int cmd_outage(const args *a) {
  if (!a->spool || !a->url || a->rate <= 0 || a->seconds <= 0)
    die("outage: --spool, --url, --rate, --seconds");
  int64_t base = a->backoff_base_ms ? a->backoff_base_ms : 1000;
  int64_t cap = a->backoff_cap_ms ? a->backoff_cap_ms : 600000;
  rstats before, after;
  get_stats(a->url, &before);
  cashback_client *c = make_client(a, 0);
  if (cashback_sender_start(c) != CASHBACK_OK)
    die("sender_start");
  long count = (long)(a->rate * a->seconds);
  int64_t *lat = malloc(sizeof(int64_t) * (size_t)count);
  if (!lat)
    die("out of memory");
  int64_t *rlat = malloc(sizeof(int64_t) * (size_t)count);
  if (!rlat)
    die("out of memory");
  /* With --dir, a raw append + fdatasync half a period after each report:
   * the baseline of the same paced rate at the same moments. */
  rawfile raw;
  int64_t rcpu = 0;
  if (a->dir)
    raw_open(&raw, a->dir, a->size);
  const char *prefix = a->prefix ? a->prefix : "outage";
  uint64_t sum = 0;
  int64_t start = mono_ns();
  int64_t step = (int64_t)(1e9 / a->rate);
  for (long i = 0; i < count; i++) {
    sleep_until_ns(start + i * step);
    cashback_event *ev = make_sale(prefix, i);
    char id[CASHBACK_EVENT_ID_LEN + 1];
    int64_t t0 = mono_ns();
    if (cashback_report(c, ev, id) != CASHBACK_OK)
      die("report %ld", i);
    lat[i] = mono_ns() - t0;
    sum += id_word(id);
    cashback_event_free(ev);
    if (a->dir) {
      sleep_until_ns(start + i * step + step / 2);
      rlat[i] = raw_one(&raw, &rcpu);
    }
  }
  if (a->dir) {
    raw_close(&raw);
    print_latency("outage_raw", rlat, (size_t)count);
  }
  free(rlat);
  int64_t reported_ms = wall_ms();
  /* Wait for every sale: at most one backoff step (the cap) after the
   * outage, plus a margin. */
  int64_t give_up = reported_ms + cap + 60000;
  for (;;) {
    get_stats(a->url, &after);
    if (after.accepted - before.accepted >= (uint64_t)count ||
        wall_ms() > give_up)
      break;
    struct timespec ts = {0, 100000000L};
    nanosleep(&ts, NULL);
  }
  cashback_sender_stop(c, 1000);
  get_stats(a->url, &after);
  uint64_t fails = after.answered_503 - before.answered_503;
  int64_t window = after.outage_end_ms - after.outage_start_ms;
  double mean;
  unsigned p99, p999, max;
  simulate_requests(window, base, cap, &mean, &p99, &p999, &max);
  /* The delay in force at recovery was drawn for retry number `fails`. */
  int64_t ceiling = base;
  for (uint64_t k = 1; k < fails && ceiling < cap; k++)
    ceiling = ceiling > cap / 2 ? cap : ceiling * 2;
  if (ceiling > cap)
    ceiling = cap;
  print_latency("outage_report", lat, (size_t)count);
  printf("outage_window_s=%.1f\n", (double)window / 1000);
  printf("outage_rate=%.0f\n", a->rate);
  printf("outage_sales=%ld\n", count);
  printf("outage_requests=%" PRIu64 "\n", fails);
  printf("outage_expected_mean=%.1f\n", mean);
  printf("outage_expected_p99=%u\noutage_expected_p999=%u\n", p99, p999);
  printf("outage_expected_max=%u\n", max);
  printf("outage_step_ceiling_s=%.1f\n", (double)ceiling / 1000);
  printf("outage_first_ok_after_s=%.2f\n",
         after.first_ok_after_outage_ms
             ? (double)(after.first_ok_after_outage_ms - after.outage_end_ms) /
                   1000
             : -1.0);
  printf("outage_all_delivered_after_s=%.2f\n",
         after.last_accept_ms
             ? (double)(after.last_accept_ms - after.outage_end_ms) / 1000
             : -1.0);
  printf("outage_requests_total=%" PRIu64 "\n", after.batches - before.batches);
  print_delivered(&before, &after);
  print_ids(count, sum);
  cashback_client_free(c);
  free(lat);
  return 0;
}

/* --- limit: the disk's limit with P writer processes, no SDK ------------- */

/* What the processes of the shared-file method share (an anonymous shared
 * mapping made before the fork): the next free record slot and a group
 * commit, in which one writer (the leader) calls fdatasync for every
 * record written before it began and the others wait for it. */
typedef struct group_shm {
  pthread_mutex_t mu;
  pthread_cond_t cv;
  uint64_t next_slot;
  uint64_t synced_gen; /* fdatasyncs completed */
  int syncing;         /* one in progress (number synced_gen + 1) */
  int failed;
} group_shm;

static void write_all_at(int fd, const char *p, size_t n, off_t at,
                         const char *path) {
  while (n) {
    ssize_t w = pwrite(fd, p, n, at);
    if (w < 0 && errno == EINTR)
      continue;
    if (w <= 0)
      die("write %s: %s", path, strerror(w < 0 ? errno : ENOSPC));
    p += w;
    n -= (size_t)w;
    at += w;
  }
}

/* Creates `path` of `bytes` zeros, written and synced (so that overwriting
 * it changes no metadata: the blocks are allocated and initialised). */
static int zero_file(const char *path, uint64_t bytes) {
  int fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0)
    die("open %s: %s", path, strerror(errno));
  static const char zeros[1 << 16];
  for (uint64_t at = 0; at < bytes; at += sizeof(zeros)) {
    uint64_t n = bytes - at < sizeof(zeros) ? bytes - at : sizeof(zeros);
    write_all_at(fd, zeros, (size_t)n, (off_t)at, path);
  }
  if (fsync(fd) != 0)
    die("fsync %s: %s", path, strerror(errno));
  return fd;
}

static void sync_dir(const char *dir) {
  int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    fsync(dfd);
    close(dfd);
  }
}

typedef struct limit_job {
  int method; /* 0 append, 1 prealloc, 2 group */
  long per;   /* records of each process */
  size_t size;
  group_shm *g;
} limit_job;

/* A writer of limit: `per` records of `size` bytes; 0 on success. */
static int limit_writer(const args *a, long p, void *ud, int ready, int go) {
  const limit_job *j = ud;
  int method = j->method;
  long per = j->per;
  size_t size = j->size;
  group_shm *g = j->g;
  char path[4096];
  int fd;
  if (method == 2) {
    snprintf(path, sizeof(path), "%s/shared.log", a->dir);
    fd = open(path, O_WRONLY | O_CLOEXEC);
  } else {
    snprintf(path, sizeof(path), "%s/w-%ld.log", a->dir, p);
    fd = method == 1
             ? zero_file(path, (uint64_t)per * size)
             : open(path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC,
                    0600);
    sync_dir(a->dir);
  }
  if (fd < 0)
    return 1;
  char *rec = malloc(size);
  if (!rec)
    return 1;
  memset(rec, 'r', size);
  if (barrier(ready, go) != 0)
    return 1;
  for (long i = 0; i < per; i++) {
    if (method == 0) {
      if (write(fd, rec, size) != (ssize_t)size || fdatasync(fd) != 0)
        return 1;
      continue;
    }
    if (method == 1) {
      if (pwrite(fd, rec, size, (off_t)((uint64_t)i * size)) != (ssize_t)size ||
          fdatasync(fd) != 0)
        return 1;
      continue;
    }
    pthread_mutex_lock(&g->mu);
    uint64_t slot = g->next_slot++;
    pthread_mutex_unlock(&g->mu);
    if (pwrite(fd, rec, size, (off_t)(slot * size)) != (ssize_t)size)
      return 1;
    pthread_mutex_lock(&g->mu);
    /* A fdatasync that began before this write may not cover it: wait for
     * one that begins after it. */
    uint64_t need = g->synced_gen + (g->syncing ? 2 : 1);
    while (g->synced_gen < need && !g->failed) {
      if (g->syncing) {
        pthread_cond_wait(&g->cv, &g->mu);
        continue;
      }
      g->syncing = 1;
      uint64_t gen = g->synced_gen + 1;
      pthread_mutex_unlock(&g->mu);
      int rc = fdatasync(fd);
      pthread_mutex_lock(&g->mu);
      g->syncing = 0;
      if (rc != 0)
        g->failed = 1;
      else
        g->synced_gen = gen;
      pthread_cond_broadcast(&g->cv);
    }
    int failed = g->failed;
    pthread_mutex_unlock(&g->mu);
    if (failed)
      return 1;
  }
  close(fd);
  free(rec);
  return 0;
}

/* P processes, started together behind a pipe barrier (as multi), each
 * making `count`/P records of `size` bytes durable one at a time:
 *   append    a file per process, append + fdatasync;
 *   prealloc  a file per process, written with zeros and synced first
 *             (not timed), overwritten in place + fdatasync;
 *   group     one shared file, zeroed and synced first, each record in a
 *             slot of its own, one fdatasync for all records written
 *             before it began (a leader-based group commit).
 * The files are removed afterwards. */
static int cmd_limit(const args *a) {
  static const char *const methods[] = {"append", "prealloc", "group"};
  int method = -1;
  for (int m = 0; m < 3; m++)
    if (a->method && strcmp(a->method, methods[m]) == 0)
      method = m;
  if (!a->dir || a->procs < 1 || method < 0)
    die("limit: --dir, --procs, --method append|prealloc|group");
  if (mkdir(a->dir, 0700) != 0 && errno != EEXIST)
    die("mkdir %s: %s", a->dir, strerror(errno));
  size_t size = a->size > 0 ? (size_t)a->size : 256;
  long per = a->count / a->procs;
  if (per < 1)
    die("limit: --count below --procs");
  group_shm *g = mmap(NULL, sizeof(*g), PROT_READ | PROT_WRITE,
                      MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (g == MAP_FAILED)
    die("mmap: %s", strerror(errno));
  memset(g, 0, sizeof(*g));
  pthread_mutexattr_t ma;
  pthread_condattr_t ca;
  if (pthread_mutexattr_init(&ma) ||
      pthread_mutexattr_setpshared(&ma, PTHREAD_PROCESS_SHARED) ||
      pthread_mutex_init(&g->mu, &ma) || pthread_condattr_init(&ca) ||
      pthread_condattr_setpshared(&ca, PTHREAD_PROCESS_SHARED) ||
      pthread_cond_init(&g->cv, &ca))
    die("process-shared mutex");
  char shared[4096];
  snprintf(shared, sizeof(shared), "%s/shared.log", a->dir);
  if (method == 2) {
    close(zero_file(shared, (uint64_t)per * (uint64_t)a->procs * size));
    sync_dir(a->dir);
  }
  limit_job job = {method, per, size, g};
  double secs = run_procs(a, limit_writer, &job, "writer");
  long records = per * a->procs;
  uint64_t syncs = method == 2 ? g->synced_gen : (uint64_t)records;
  printf("limit_method=%s\nlimit_procs=%ld\nlimit_records=%ld\n",
         methods[method], a->procs, records);
  printf("limit_ops_s=%.0f\n", (double)records / secs);
  printf("limit_fdatasyncs=%" PRIu64 "\n", syncs);
  printf("limit_records_per_sync=%.2f\n",
         syncs ? (double)records / (double)syncs : 0);
  printf("limit_record_bytes=%zu\n", size);
  for (long p = 0; p < a->procs; p++) {
    char path[4096];
    snprintf(path, sizeof(path), "%s/w-%ld.log", a->dir, p);
    unlink(path);
  }
  unlink(shared);
  munmap(g, sizeof(*g));
  return 0;
}

/* --- steady: the sender under a steady load ------------------------------ */

/* One process reports `count` sales paced at `rate` per second (default
 * durability), with its sender thread running (--sender on: against the
 * receiver at --url, until the receiver has them all) or not (--sender
 * off: they stay queued, for a drain afterwards). The CPU is the whole
 * process's (getrusage: the reports, the event building, the sender
 * thread), from before the first report to the last delivery. */
static int cmd_steady(const args *a) {
  if (!a->spool || !a->url || a->rate <= 0 || !a->sender)
    die("steady: --spool, --url, --rate, --sender on|off");
  int on = strcmp(a->sender, "on") == 0;
  if (!on && strcmp(a->sender, "off") != 0)
    die("steady: --sender on|off");
  rstats before, after;
  get_stats(a->url, &before);
  cashback_client *c = make_client(a, durability_of(a));
  int64_t *lat = malloc(sizeof(int64_t) * (size_t)a->count);
  if (!lat)
    die("out of memory");
  const char *prefix = a->prefix ? a->prefix : "steady";
  uint64_t sum = 0;
  double cpu0 = cpu_self();
  if (on && cashback_sender_start(c) != CASHBACK_OK)
    die("sender_start");
  int64_t start = mono_ns();
  int64_t step = (int64_t)(1e9 / a->rate);
  for (long i = 0; i < a->count; i++) {
    sleep_until_ns(start + i * step);
    cashback_event *ev = make_sale(prefix, i);
    char id[CASHBACK_EVENT_ID_LEN + 1];
    int64_t t0 = mono_ns();
    if (cashback_report(c, ev, id) != CASHBACK_OK)
      die("report %ld", i);
    lat[i] = mono_ns() - t0;
    sum += id_word(id);
    cashback_event_free(ev);
  }
  double secs = (double)(mono_ns() - start) / 1e9;
  double deliver_s = 0;
  if (on) {
    /* Until the receiver has every sale (a poll costs this process a
     * request of its own, every 20 ms: a few while the sender catches up). */
    int64_t give_up = mono_ns() + (int64_t)120 * 1000000000;
    for (;;) {
      get_stats(a->url, &after);
      if (after.accepted - before.accepted >= (uint64_t)a->count ||
          mono_ns() > give_up)
        break;
      struct timespec ts = {0, 20000000L};
      nanosleep(&ts, NULL);
    }
    deliver_s = (double)(mono_ns() - start) / 1e9 - secs;
  }
  double cpu = cpu_self() - cpu0;
  if (on)
    cashback_sender_stop(c, 5000);
  get_stats(a->url, &after);
  double k = 10000.0 / (double)a->count;
  print_latency("steady_report", lat, (size_t)a->count);
  printf("steady_sender=%s\n", on ? "on" : "off");
  printf("steady_rate=%.0f\nsteady_reached_rate=%.0f\n", a->rate,
         (double)a->count / secs);
  printf("steady_s=%.3f\n", secs);
  printf("steady_cpu_s=%.3f\nsteady_cpu_per_10k_s=%.3f\n", cpu, cpu * k);
  printf("steady_after_last_report_s=%.3f\n", deliver_s);
  if (on) {
    uint64_t req = after.batches - before.batches;
    uint64_t got = after.accepted - before.accepted;
    printf("steady_requests=%" PRIu64 "\n", req);
    printf("steady_events_per_request=%.2f\n",
           req ? (double)got / (double)req : 0);
    print_delivered(&before, &after);
  }
  print_ids(a->count, sum);
  cashback_client_free(c);
  free(lat);
  return 0;
}

/* --- tail: report latency with a large backlog --------------------------- */

/* Two clients in one process, one on the spool --spool (with a backlog
 * queued by fill), one on the empty spool --spool2, the same options
 * (default durability, sender off, --spool-max-bytes for both: the
 * backlog may be larger than the default cap); their reports alternate
 * (which goes first alternates too), so both see the same disk at the same
 * moments. */
static int cmd_tail(const args *a) {
  if (!a->spool || !a->spool2)
    die("tail: --spool and --spool2");
  args e = *a;
  e.spool = a->spool2;
  e.url = NULL;
  args b = *a;
  b.url = NULL;
  int64_t t0 = mono_ns();
  cashback_client *big = make_client(&b, 0);
  double open_s = (double)(mono_ns() - t0) / 1e9;
  cashback_client *empty = make_client(&e, 0);
  int64_t *lb = malloc(sizeof(int64_t) * (size_t)a->count);
  int64_t *le = malloc(sizeof(int64_t) * (size_t)a->count);
  if (!lb || !le)
    die("out of memory");
  const char *prefix = a->prefix ? a->prefix : "tail";
  char pb[64], pe[64];
  snprintf(pb, sizeof(pb), "%s-big", prefix);
  snprintf(pe, sizeof(pe), "%s-empty", prefix);
  for (long i = 0; i < a->count; i++) {
    for (int k = 0; k < 2; k++) {
      int to_big = (i % 2 == 0) == (k == 0);
      cashback_event *ev = make_sale(to_big ? pb : pe, i);
      int64_t s0 = mono_ns();
      cashback_status st = cashback_report(to_big ? big : empty, ev, NULL);
      int64_t t = mono_ns() - s0;
      if (st != CASHBACK_OK) {
        char d[CASHBACK_ERROR_MAX + 1];
        cashback_client_last_error(to_big ? big : empty, d, sizeof(d));
        die("report %ld: %s: %s", i, cashback_strerror(st), d);
      }
      (to_big ? lb : le)[i] = t;
      cashback_event_free(ev);
    }
  }
  print_latency("tail_backlog", lb, (size_t)a->count);
  print_latency("tail_empty", le, (size_t)a->count);
  printf("tail_open_s=%.3f\n", open_s);
  cashback_client_free(big);
  cashback_client_free(empty);
  free(lb);
  free(le);
  return 0;
}

/* --- main ---------------------------------------------------------------- */

static void usage(void) __attribute__((noreturn));
static void usage(void) {
  fprintf(
      stderr,
      "usage: cashback_bench "
      "raw|report|multi|post|fill|drain|outage|limit|steady|tail "
      "[options]\n(see the comment at the top of bench/cashback_bench.c)\n");
  exit(2);
}

int main(int argc, char **argv) {
  if (argc < 2)
    usage();
  args a;
  memset(&a, 0, sizeof(a));
  a.cmd = argv[1];
  a.count = 1000;
  a.procs = 8;
  for (int i = 2; i < argc; i++) {
    const char *k = argv[i];
    const char *v = i + 1 < argc ? argv[i + 1] : NULL;
    if (!v)
      usage();
    i++;
    if (strcmp(k, "--dir") == 0)
      a.dir = v;
    else if (strcmp(k, "--spool") == 0)
      a.spool = v;
    else if (strcmp(k, "--url") == 0)
      a.url = v;
    else if (strcmp(k, "--prefix") == 0)
      a.prefix = v;
    else if (strcmp(k, "--durability") == 0)
      a.durability = v;
    else if (strcmp(k, "--count") == 0)
      a.count = atol(v);
    else if (strcmp(k, "--procs") == 0)
      a.procs = atol(v);
    else if (strcmp(k, "--size") == 0)
      a.size = atol(v);
    else if (strcmp(k, "--rate") == 0)
      a.rate = atof(v);
    else if (strcmp(k, "--seconds") == 0)
      a.seconds = atof(v);
    else if (strcmp(k, "--batch-events") == 0)
      a.batch_events = atol(v);
    else if (strcmp(k, "--batch-bytes") == 0)
      a.batch_bytes = atol(v);
    else if (strcmp(k, "--backoff-base-ms") == 0)
      a.backoff_base_ms = atol(v);
    else if (strcmp(k, "--backoff-cap-ms") == 0)
      a.backoff_cap_ms = atol(v);
    else if (strcmp(k, "--spool2") == 0)
      a.spool2 = v;
    else if (strcmp(k, "--method") == 0)
      a.method = v;
    else if (strcmp(k, "--sender") == 0)
      a.sender = v;
    else if (strcmp(k, "--repeat") == 0)
      a.repeat = atol(v);
    else if (strcmp(k, "--spool-max-bytes") == 0)
      a.spool_max_bytes = strtoull(v, NULL, 10);
    else
      usage();
  }
  if (a.count < 1)
    die("--count must be at least 1");
  signal(SIGPIPE, SIG_IGN);
  curl_global_init(CURL_GLOBAL_DEFAULT);
  int rc;
  if (strcmp(a.cmd, "raw") == 0)
    rc = cmd_raw(&a);
  else if (strcmp(a.cmd, "report") == 0)
    rc = cmd_report(&a);
  else if (strcmp(a.cmd, "multi") == 0)
    rc = cmd_multi(&a);
  else if (strcmp(a.cmd, "post") == 0)
    rc = cmd_post(&a);
  else if (strcmp(a.cmd, "fill") == 0)
    rc = cmd_fill(&a);
  else if (strcmp(a.cmd, "drain") == 0)
    rc = cmd_drain(&a);
  else if (strcmp(a.cmd, "outage") == 0)
    rc = cmd_outage(&a);
  else if (strcmp(a.cmd, "limit") == 0)
    rc = cmd_limit(&a);
  else if (strcmp(a.cmd, "steady") == 0)
    rc = cmd_steady(&a);
  else if (strcmp(a.cmd, "tail") == 0)
    rc = cmd_tail(&a);
  else
    usage();
  fflush(stdout);
  return rc;
}
