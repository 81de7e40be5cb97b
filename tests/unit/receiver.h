/* Runs tests/receiver/receiver.py (the in-tree network) on 127.0.0.1 for a
 * test, and talks to its control and stats endpoints with libcurl. */
#ifndef CASHBACK_TEST_RECEIVER_H
#define CASHBACK_TEST_RECEIVER_H

#include <check.h>
#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef CASHBACK_TOP_SRCDIR
#define CASHBACK_TOP_SRCDIR "."
#endif

typedef struct receiver {
  pid_t pid;
  int port;
  char base[64];     /* http://127.0.0.1:<port> */
  char endpoint[96]; /* .../v1/events */
  char dir[64];
} receiver;

static inline void receiver_sleep_ms(long ms) {
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
  nanosleep(&ts, NULL);
}

/* Starts the receiver accepting `keys` ("kid:secret[,kid:secret]"). */
static inline void receiver_start(receiver *r, const char *keys) {
  memset(r, 0, sizeof(*r));
  snprintf(r->dir, sizeof(r->dir), "/tmp/cbrecv-XXXXXX");
  ck_assert_ptr_nonnull(mkdtemp(r->dir));
  char port_file[128], log_file[128], script[1024];
  snprintf(port_file, sizeof(port_file), "%s/port", r->dir);
  snprintf(log_file, sizeof(log_file), "%s/log", r->dir);
  const char *src = getenv("top_srcdir");
  snprintf(script, sizeof(script), "%s/tests/receiver/receiver.py",
           src ? src : CASHBACK_TOP_SRCDIR);
  r->pid = fork();
  ck_assert_int_ge(r->pid, 0);
  if (r->pid == 0) {
    const char *py = getenv("PYTHON3");
    if (!py || !py[0])
      py = "python3";
    execlp(py, py, script, "--port", "0", "--port-file", port_file, "--keys",
           keys, "--log", log_file, "--max-seconds", "300", (char *)NULL);
    _exit(127);
  }
  for (int i = 0; i < 200; i++) {
    FILE *f = fopen(port_file, "r");
    if (f) {
      int ok = fscanf(f, "%d", &r->port) == 1;
      fclose(f);
      if (ok && r->port > 0)
        break;
    }
    receiver_sleep_ms(50);
  }
  ck_assert_msg(r->port > 0, "the receiver did not start");
  snprintf(r->base, sizeof(r->base), "http://127.0.0.1:%d", r->port);
  snprintf(r->endpoint, sizeof(r->endpoint), "%s/v1/events", r->base);
}

static inline void receiver_stop(receiver *r) {
  if (r->pid > 0) {
    kill(r->pid, SIGTERM);
    waitpid(r->pid, NULL, 0);
    r->pid = 0;
  }
  char cmd[128];
  snprintf(cmd, sizeof(cmd), "rm -rf '%s'", r->dir);
  if (system(cmd) != 0)
    fprintf(stderr, "receiver: cannot remove %s\n", r->dir);
}

static inline size_t receiver_collect(char *p, size_t sz, size_t n, void *ud) {
  FILE *f = ud;
  return fwrite(p, sz, n, f);
}

/* GET or POST (when `body` is not NULL) to the receiver; the answer. */
static inline char *receiver_call(receiver *r, const char *path,
                                  const char *body) {
  char url[160], *out = NULL;
  size_t outlen = 0;
  snprintf(url, sizeof(url), "%s%s", r->base, path);
  FILE *mem = open_memstream(&out, &outlen);
  CURL *h = curl_easy_init();
  curl_easy_setopt(h, CURLOPT_URL, url);
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, receiver_collect);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, mem);
  curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, 10000L);
  if (body)
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
  CURLcode rc = curl_easy_perform(h);
  curl_easy_cleanup(h);
  fclose(mem);
  ck_assert_msg(rc == CURLE_OK, "receiver %s: %s", path,
                curl_easy_strerror(rc));
  return out;
}

static inline void receiver_control(receiver *r, const char *json) {
  free(receiver_call(r, "/_control", json));
}

/* The receiver's /_stats; cJSON_Delete() it. */
static inline cJSON *receiver_stats(receiver *r) {
  char *text = receiver_call(r, "/_stats", NULL);
  cJSON *j = cJSON_Parse(text);
  free(text);
  ck_assert_ptr_nonnull(j);
  return j;
}

static inline long receiver_stat(receiver *r, const char *name) {
  cJSON *j = receiver_stats(r);
  cJSON *v = cJSON_GetObjectItem(j, name);
  long n = cJSON_IsNumber(v) ? (long)v->valuedouble : -1;
  cJSON_Delete(j);
  return n;
}

/* Waits up to `ms` for a stat to reach `want`; its last value. */
static inline long receiver_wait_stat(receiver *r, const char *name, long want,
                                      long ms) {
  long v = -1;
  for (long t = 0; t <= ms; t += 50) {
    v = receiver_stat(r, name);
    if (v >= want)
      break;
    receiver_sleep_ms(50);
  }
  return v;
}

#endif
