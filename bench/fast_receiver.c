/*
 * fast_receiver: the network side for the benchmarks (bench/run.sh). A
 * minimal HTTP/1.1 keep-alive server on 127.0.0.1 that speaks the batch
 * protocol of docs/protocol.md fast enough to measure a sender draining tens
 * of thousands of events per second (tests/receiver/receiver.py is the
 * reference receiver for tests; Python cannot keep up with that).
 *
 *   POST <path ending in /v1/events>   a batch: 503 inside the outage window;
 *       else the signature is verified (with --keys), the event ids are
 *       scanned out of the body, deduplicated, and each event is answered
 *       accepted or duplicate, after --delay-ms.
 *   GET /_stats                        the counters, as a JSON object.
 *
 * Usage: fast_receiver [--port N] [--port-file F] [--keys kid:secret[,...]]
 *                      [--delay-ms N] [--fail-503-seconds N]
 *                      [--max-seconds N]
 * The outage window of --fail-503-seconds starts with the first batch.
 * Exits on SIGTERM or SIGINT, or by itself after --max-seconds (900).
 * A thread per connection; the counters and the id set behind one mutex.
 */
#include "cashback.h"

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define HEADER_MAX (64 * 1024)
#define BODY_MAX (4 * 1024 * 1024) /* docs/protocol.md: larger is 413 */
#define EVENTS_MAX 1000

static volatile sig_atomic_t stop_flag;

static void on_signal(int sig) {
  (void)sig;
  stop_flag = 1;
}

static int64_t wall_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* --- The set of accepted ids (16 bytes each, open addressing) ---------- */

typedef struct idset {
  uint64_t *slots; /* 2 words per slot; an all-zero slot is empty */
  size_t cap;      /* slots, a power of two */
  size_t n;
  int has_zero; /* the id 000...0 itself */
} idset;

static int idset_grow(idset *s) {
  size_t ncap = s->cap ? s->cap * 2 : 1u << 16;
  uint64_t *ns = calloc(ncap * 2, sizeof(uint64_t));
  if (!ns)
    return -1;
  for (size_t i = 0; i < s->cap; i++) {
    uint64_t a = s->slots[2 * i], b = s->slots[2 * i + 1];
    if (!a && !b)
      continue;
    size_t j = (size_t)(a ^ (b >> 7)) & (ncap - 1);
    while (ns[2 * j] || ns[2 * j + 1])
      j = (j + 1) & (ncap - 1);
    ns[2 * j] = a;
    ns[2 * j + 1] = b;
  }
  free(s->slots);
  s->slots = ns;
  s->cap = ncap;
  return 0;
}

/* 1: new, 0: already there, -1: out of memory. */
static int idset_add(idset *s, uint64_t a, uint64_t b) {
  if (!a && !b) {
    int was = s->has_zero;
    s->has_zero = 1;
    return was ? 0 : 1;
  }
  if ((s->n + 1) * 2 > s->cap && idset_grow(s) != 0)
    return -1;
  size_t j = (size_t)(a ^ (b >> 7)) & (s->cap - 1);
  while (s->slots[2 * j] || s->slots[2 * j + 1]) {
    if (s->slots[2 * j] == a && s->slots[2 * j + 1] == b)
      return 0;
    j = (j + 1) & (s->cap - 1);
  }
  s->slots[2 * j] = a;
  s->slots[2 * j + 1] = b;
  s->n++;
  return 1;
}

/* --- Server state -------------------------------------------------------- */

typedef struct server {
  cashback_verifier *verifier; /* NULL: no verification */
  int64_t delay_ms;
  int64_t fail_ms; /* length of the outage window; 0: none */

  pthread_mutex_t mu;
  idset ids;
  uint64_t requests, batches, events, accepted, duplicates, rejected;
  uint64_t answered_503, bad_signature, bad_request, bytes_in;
  uint64_t id_sum; /* sum of the first 8 bytes of every accepted id */
  int64_t first_batch_ms, outage_start_ms, outage_end_ms;
  int64_t first_ok_after_outage_ms, last_accept_ms;
} server;

/* --- A tiny JSON scanner: the ids of the events, nothing else ------------ */

typedef struct jcur {
  const char *p, *end;
} jcur;

static void jws(jcur *c) {
  while (c->p < c->end &&
         (*c->p == ' ' || *c->p == '\t' || *c->p == '\n' || *c->p == '\r'))
    c->p++;
}

/* A string; gives its raw content (escapes not decoded). */
static int jstring(jcur *c, const char **s, size_t *len) {
  if (c->p >= c->end || *c->p != '"')
    return -1;
  const char *start = ++c->p;
  while (c->p < c->end && *c->p != '"') {
    if ((unsigned char)*c->p < 0x20)
      return -1;
    if (*c->p == '\\') {
      if (++c->p >= c->end)
        return -1;
    }
    c->p++;
  }
  if (c->p >= c->end)
    return -1;
  *s = start;
  *len = (size_t)(c->p - start);
  c->p++;
  return 0;
}

static int jskip(jcur *c, int depth) {
  const char *s;
  size_t n;
  if (depth > 64)
    return -1;
  jws(c);
  if (c->p >= c->end)
    return -1;
  char ch = *c->p;
  if (ch == '"')
    return jstring(c, &s, &n);
  if (ch == '{' || ch == '[') {
    char close = ch == '{' ? '}' : ']';
    c->p++;
    jws(c);
    if (c->p < c->end && *c->p == close) {
      c->p++;
      return 0;
    }
    for (;;) {
      if (ch == '{') {
        jws(c);
        if (jstring(c, &s, &n) != 0)
          return -1;
        jws(c);
        if (c->p >= c->end || *c->p++ != ':')
          return -1;
      }
      if (jskip(c, depth + 1) != 0)
        return -1;
      jws(c);
      if (c->p >= c->end)
        return -1;
      if (*c->p == ',') {
        c->p++;
        continue;
      }
      if (*c->p++ == close)
        return 0;
      return -1;
    }
  }
  /* number, true, false, null */
  const char *start = c->p;
  while (c->p < c->end &&
         (strchr("+-.0123456789eE", *c->p) || (*c->p >= 'a' && *c->p <= 'z')))
    c->p++;
  return c->p > start ? 0 : -1;
}

typedef struct scanned {
  const char *id; /* raw content of the "id" string, or NULL */
  size_t len;
} scanned;

/* Scans {"...":...,"events":[{"id":"..",...},...],...}. Returns the number
 * of events, -1 when malformed, -2 past EVENTS_MAX. */
static int scan_batch(const char *body, size_t len, scanned *out) {
  jcur c = {body, body + len};
  const char *k;
  size_t kn;
  int n = -1;
  jws(&c);
  if (c.p >= c.end || *c.p++ != '{')
    return -1;
  for (;;) {
    jws(&c);
    if (jstring(&c, &k, &kn) != 0)
      return -1;
    jws(&c);
    if (c.p >= c.end || *c.p++ != ':')
      return -1;
    jws(&c);
    if (kn == 6 && memcmp(k, "events", 6) == 0 && c.p < c.end && *c.p == '[') {
      c.p++;
      n = 0;
      jws(&c);
      if (c.p < c.end && *c.p == ']')
        c.p++;
      else
        for (;;) {
          jws(&c);
          if (c.p >= c.end || *c.p != '{')
            return -1;
          if (n >= EVENTS_MAX)
            return -2;
          out[n].id = NULL;
          out[n].len = 0;
          c.p++;
          jws(&c);
          if (c.p < c.end && *c.p == '}')
            c.p++;
          else
            for (;;) {
              jws(&c);
              if (jstring(&c, &k, &kn) != 0)
                return -1;
              jws(&c);
              if (c.p >= c.end || *c.p++ != ':')
                return -1;
              jws(&c);
              if (kn == 2 && memcmp(k, "id", 2) == 0 && c.p < c.end &&
                  *c.p == '"') {
                if (jstring(&c, &out[n].id, &out[n].len) != 0)
                  return -1;
              } else if (jskip(&c, 2) != 0) {
                return -1;
              }
              jws(&c);
              if (c.p >= c.end)
                return -1;
              if (*c.p == ',') {
                c.p++;
                continue;
              }
              if (*c.p++ != '}')
                return -1;
              break;
            }
          n++;
          jws(&c);
          if (c.p >= c.end)
            return -1;
          if (*c.p == ',') {
            c.p++;
            continue;
          }
          if (*c.p++ != ']')
            return -1;
          break;
        }
    } else if (jskip(&c, 1) != 0) {
      return -1;
    }
    jws(&c);
    if (c.p >= c.end)
      return -1;
    if (*c.p == ',') {
      c.p++;
      continue;
    }
    if (*c.p++ != '}')
      return -1;
    break;
  }
  jws(&c);
  return c.p == c.end ? n : -1;
}

static int hexval(char ch) {
  if (ch >= '0' && ch <= '9')
    return ch - '0';
  if (ch >= 'a' && ch <= 'f')
    return ch - 'a' + 10;
  return -1;
}

/* 32 lowercase hex digits into two words (big-endian reading). */
static int parse_id(const char *s, size_t len, uint64_t *a, uint64_t *b) {
  if (!s || len != 32)
    return -1;
  uint64_t w[2] = {0, 0};
  for (size_t i = 0; i < 32; i++) {
    int v = hexval(s[i]);
    if (v < 0)
      return -1;
    w[i / 16] = w[i / 16] << 4 | (uint64_t)v;
  }
  *a = w[0];
  *b = w[1];
  return 0;
}

/* --- Growable output ----------------------------------------------------- */

typedef struct obuf {
  char *p;
  size_t len, cap;
} obuf;

static int oadd(obuf *o, const char *s, size_t n) {
  if (o->len + n + 1 > o->cap) {
    size_t nc = o->cap ? o->cap : 4096;
    while (o->len + n + 1 > nc)
      nc *= 2;
    char *np = realloc(o->p, nc);
    if (!np)
      return -1;
    o->p = np;
    o->cap = nc;
  }
  memcpy(o->p + o->len, s, n);
  o->len += n;
  o->p[o->len] = '\0';
  return 0;
}

static int oadds(obuf *o, const char *s) {
  return oadd(o, s, strlen(s));
}

static int oaddf(obuf *o, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static int oaddf(obuf *o, const char *fmt, ...) {
  char tmp[512];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
  va_end(ap);
  if (n < 0 || (size_t)n >= sizeof(tmp))
    return -1;
  return oadd(o, tmp, (size_t)n);
}

/* --- Requests ------------------------------------------------------------ */

typedef struct request {
  char method[8];
  char target[256];
  int http10;
  int close;
  int expect_continue;
  long long content_length; /* -1: none */
  int chunked;
  char signature[4200];
  size_t sig_len;
} request;

static int ieq_prefix(const char *line, size_t n, const char *name) {
  size_t k = strlen(name);
  if (n < k)
    return 0;
  for (size_t i = 0; i < k; i++) {
    char ch = line[i];
    if (ch >= 'A' && ch <= 'Z')
      ch = (char)(ch - 'A' + 'a');
    if (ch != name[i])
      return 0;
  }
  return 1;
}

static int contains_nocase(const char *s, size_t n, const char *word) {
  size_t k = strlen(word);
  for (size_t i = 0; i + k <= n; i++)
    if (ieq_prefix(s + i, n - i, word))
      return 1;
  return 0;
}

/* Parses the head (up to and including the blank line). 0 or -1. */
static int parse_head(const char *h, size_t n, request *r) {
  memset(r, 0, sizeof(*r));
  r->content_length = -1;
  const char *eol = memchr(h, '\n', n);
  if (!eol)
    return -1;
  size_t ln = (size_t)(eol - h);
  if (ln && h[ln - 1] == '\r')
    ln--;
  const char *sp1 = memchr(h, ' ', ln);
  const char *sp2 = sp1 ? memchr(sp1 + 1, ' ', ln - (size_t)(sp1 + 1 - h)) : 0;
  if (!sp1 || !sp2 || (size_t)(sp1 - h) >= sizeof(r->method) ||
      (size_t)(sp2 - sp1 - 1) >= sizeof(r->target))
    return -1;
  memcpy(r->method, h, (size_t)(sp1 - h));
  memcpy(r->target, sp1 + 1, (size_t)(sp2 - sp1 - 1));
  r->http10 =
      (size_t)(h + ln - sp2 - 1) == 8 && memcmp(sp2 + 1, "HTTP/1.0", 8) == 0;
  const char *p = eol + 1, *end = h + n;
  while (p < end) {
    const char *e = memchr(p, '\n', (size_t)(end - p));
    if (!e)
      break;
    size_t len = (size_t)(e - p);
    if (len && p[len - 1] == '\r')
      len--;
    if (len == 0)
      break;
    const char *colon = memchr(p, ':', len);
    if (colon) {
      const char *v = colon + 1;
      size_t vn = len - (size_t)(v - p);
      while (vn && (*v == ' ' || *v == '\t')) {
        v++;
        vn--;
      }
      while (vn && (v[vn - 1] == ' ' || v[vn - 1] == '\t'))
        vn--;
      size_t kn = (size_t)(colon - p);
      if (kn == 14 && ieq_prefix(p, kn, "content-length")) {
        char num[24];
        if (vn == 0 || vn >= sizeof(num))
          return -1;
        memcpy(num, v, vn);
        num[vn] = '\0';
        char *endp;
        r->content_length = strtoll(num, &endp, 10);
        if (*endp || r->content_length < 0)
          return -1;
      } else if (kn == 18 && ieq_prefix(p, kn, "cashback-signature")) {
        if (vn >= sizeof(r->signature))
          vn = sizeof(r->signature) - 1;
        memcpy(r->signature, v, vn);
        r->signature[vn] = '\0';
        r->sig_len = vn;
      } else if (kn == 10 && ieq_prefix(p, kn, "connection")) {
        if (contains_nocase(v, vn, "close"))
          r->close = 1;
      } else if (kn == 6 && ieq_prefix(p, kn, "expect")) {
        if (contains_nocase(v, vn, "100-continue"))
          r->expect_continue = 1;
      } else if (kn == 17 && ieq_prefix(p, kn, "transfer-encoding")) {
        r->chunked = 1;
      }
    }
    p = e + 1;
  }
  if (r->http10)
    r->close = 1;
  return 0;
}

static int send_all(int fd, const char *p, size_t n) {
  while (n) {
    ssize_t k = send(fd, p, n, MSG_NOSIGNAL);
    if (k < 0 && errno == EINTR)
      continue;
    if (k <= 0)
      return -1;
    p += k;
    n -= (size_t)k;
  }
  return 0;
}

static int respond(int fd, int status, const char *reason, const char *body,
                   size_t len, int close_it) {
  char head[256];
  int n =
      snprintf(head, sizeof(head),
               "HTTP/1.1 %d %s\r\nContent-Type: application/json\r\n"
               "Content-Length: %zu\r\n%s\r\n",
               status, reason, len, close_it ? "Connection: close\r\n" : "");
  if (n < 0 || (size_t)n >= sizeof(head))
    return -1;
  /* One write for small answers: no Nagle stall between head and body. */
  if ((size_t)n + len <= 65536) {
    char *all = malloc((size_t)n + len);
    if (!all)
      return -1;
    memcpy(all, head, (size_t)n);
    memcpy(all + n, body, len);
    int rc = send_all(fd, all, (size_t)n + len);
    free(all);
    return rc;
  }
  return send_all(fd, head, (size_t)n) || send_all(fd, body, len) ? -1 : 0;
}

static void sleep_ms(int64_t ms) {
  struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};
  while (ms > 0 && nanosleep(&ts, &ts) != 0 && errno == EINTR)
    ;
}

static void stats_json(server *s, obuf *o) {
  pthread_mutex_lock(&s->mu);
  oaddf(o,
        "{\"requests\":%" PRIu64 ",\"batches\":%" PRIu64 ",\"events\":%" PRIu64
        ",\"accepted\":%" PRIu64 ",\"duplicates\":%" PRIu64
        ",\"rejected\":%" PRIu64 ",",
        s->requests, s->batches, s->events, s->accepted, s->duplicates,
        s->rejected);
  oaddf(o,
        "\"answered_503\":%" PRIu64 ",\"bad_signature\":%" PRIu64
        ",\"bad_request\":%" PRIu64 ",\"bytes_in\":%" PRIu64
        ",\"id_sum\":\"%016" PRIx64 "\",",
        s->answered_503, s->bad_signature, s->bad_request, s->bytes_in,
        s->id_sum);
  oaddf(o,
        "\"first_batch_ms\":%" PRId64 ",\"outage_start_ms\":%" PRId64
        ",\"outage_end_ms\":%" PRId64 ",\"first_ok_after_outage_ms\":%" PRId64
        ",\"last_accept_ms\":%" PRId64 "}",
        s->first_batch_ms, s->outage_start_ms, s->outage_end_ms,
        s->first_ok_after_outage_ms, s->last_accept_ms);
  pthread_mutex_unlock(&s->mu);
}

static int is_events_path(const char *t) {
  size_t n = strlen(t);
  const char *q = memchr(t, '?', n);
  if (q)
    n = (size_t)(q - t);
  return n >= 10 && memcmp(t + n - 10, "/v1/events", 10) == 0;
}

/* Handles one batch; fills `o` with the answer body, gives the status. */
static int handle_batch(server *s, const request *r, const char *body,
                        size_t len, scanned *ev, obuf *o) {
  int64_t now = wall_ms();
  pthread_mutex_lock(&s->mu);
  s->batches++;
  s->bytes_in += len;
  if (!s->first_batch_ms)
    s->first_batch_ms = now;
  if (s->fail_ms > 0 && !s->outage_start_ms) {
    s->outage_start_ms = now;
    s->outage_end_ms = now + s->fail_ms;
  }
  int outage = s->fail_ms > 0 && now < s->outage_end_ms;
  if (outage)
    s->answered_503++;
  pthread_mutex_unlock(&s->mu);
  if (outage) {
    oadds(o, "{\"error\":\"unavailable\"}");
    return 503;
  }
  if (s->verifier) {
    cashback_status vs = cashback_verifier_verify(
        s->verifier, r->signature, r->sig_len, body, len, now / 1000, NULL);
    if (vs != CASHBACK_OK) {
      pthread_mutex_lock(&s->mu);
      s->bad_signature++;
      pthread_mutex_unlock(&s->mu);
      oaddf(o, "{\"error\":\"bad_signature\",\"check\":\"%s\"}",
            cashback_strerror(vs));
      return 401;
    }
  }
  int n = scan_batch(body, len, ev);
  if (n < 1) {
    pthread_mutex_lock(&s->mu);
    s->bad_request++;
    pthread_mutex_unlock(&s->mu);
    oadds(o, n == -2 ? "{\"error\":\"too_many_events\"}"
                     : "{\"error\":\"bad_request\"}");
    return n == -2 ? 413 : 400;
  }
  int ok = oadds(o, "{\"results\":[") == 0;
  pthread_mutex_lock(&s->mu);
  for (int i = 0; i < n && ok; i++) {
    uint64_t a, b;
    const char *status = "accepted";
    int valid = parse_id(ev[i].id, ev[i].len, &a, &b) == 0;
    if (valid) {
      int added = idset_add(&s->ids, a, b);
      if (added < 0) {
        ok = 0;
        break;
      }
      if (added) {
        s->accepted++;
        s->id_sum += a;
        s->last_accept_ms = now;
      } else {
        s->duplicates++;
        status = "duplicate";
      }
    } else {
      s->rejected++;
    }
    s->events++;
    if (i)
      ok = oadd(o, ",", 1) == 0;
    ok = ok && oadd(o, "{\"id\":\"", 7) == 0 &&
         oadd(o, ev[i].id ? ev[i].id : "", ev[i].id ? ev[i].len : 0) == 0;
    if (valid)
      ok = ok && oaddf(o, "\",\"status\":\"%s\"}", status) == 0;
    else
      ok = ok && oadds(o, "\",\"status\":\"rejected\",\"reason\":"
                          "\"invalid_event\",\"message\":\"id: not 32 "
                          "lowercase hex digits\"}") == 0;
  }
  if (ok && s->outage_end_ms && !s->first_ok_after_outage_ms)
    s->first_ok_after_outage_ms = now;
  pthread_mutex_unlock(&s->mu);
  if (!ok || oadds(o, "]}") != 0) {
    o->len = 0;
    oadds(o, "{\"error\":\"out_of_memory\"}");
    return 500;
  }
  return 200;
}

static const char *reason_of(int status) {
  switch (status) {
  case 200:
    return "OK";
  case 400:
    return "Bad Request";
  case 401:
    return "Unauthorized";
  case 404:
    return "Not Found";
  case 411:
    return "Length Required";
  case 413:
    return "Payload Too Large";
  case 503:
    return "Service Unavailable";
  default:
    return "Error";
  }
}

typedef struct conn {
  server *s;
  int fd;
} conn;

static void *conn_main(void *arg) {
  conn *c = arg;
  server *s = c->s;
  int fd = c->fd;
  free(c);
  size_t cap = HEADER_MAX + BODY_MAX + 1;
  char *buf = malloc(cap);
  scanned *ev = malloc(sizeof(scanned) * EVENTS_MAX);
  obuf o = {0};
  size_t have = 0;
  while (buf && ev && !stop_flag) {
    /* The head. */
    char *hend = NULL;
    for (;;) {
      if (have >= 4 && (hend = memmem(buf, have, "\r\n\r\n", 4)))
        break;
      if (have >= HEADER_MAX)
        goto out;
      ssize_t k = recv(fd, buf + have, HEADER_MAX - have, 0);
      if (k < 0 && errno == EINTR)
        continue;
      if (k <= 0)
        goto out;
      have += (size_t)k;
    }
    size_t head_len = (size_t)(hend + 4 - buf);
    request r;
    if (parse_head(buf, head_len, &r) != 0) {
      respond(fd, 400, "Bad Request", "{}", 2, 1);
      goto out;
    }
    pthread_mutex_lock(&s->mu);
    s->requests++;
    pthread_mutex_unlock(&s->mu);
    if (r.chunked || (strcmp(r.method, "POST") == 0 && r.content_length < 0)) {
      respond(fd, 411, "Length Required", "{}", 2, 1);
      goto out;
    }
    size_t clen = r.content_length > 0 ? (size_t)r.content_length : 0;
    if (clen > BODY_MAX) {
      static const char big[] = "{\"error\":\"too_large\"}";
      respond(fd, 413, "Payload Too Large", big, sizeof(big) - 1, 1);
      goto out;
    }
    if (r.expect_continue &&
        send_all(fd, "HTTP/1.1 100 Continue\r\n\r\n", 25) != 0)
      goto out;
    while (have < head_len + clen) {
      ssize_t k = recv(fd, buf + have, head_len + clen - have, 0);
      if (k < 0 && errno == EINTR)
        continue;
      if (k <= 0)
        goto out;
      have += (size_t)k;
    }
    const char *body = buf + head_len;
    o.len = 0;
    int status;
    if (strcmp(r.method, "POST") == 0 && is_events_path(r.target)) {
      status = handle_batch(s, &r, body, clen, ev, &o);
      if (s->delay_ms > 0)
        sleep_ms(s->delay_ms);
    } else if (strcmp(r.method, "GET") == 0 &&
               strncmp(r.target, "/_stats", 7) == 0) {
      stats_json(s, &o);
      status = 200;
    } else {
      oadds(&o, "{\"error\":\"not_found\"}");
      status = 404;
    }
    if (respond(fd, status, reason_of(status), o.p ? o.p : "", o.len,
                r.close) != 0 ||
        r.close)
      goto out;
    /* Keep what follows (a pipelined request). */
    size_t used = head_len + clen;
    memmove(buf, buf + used, have - used);
    have -= used;
  }
out:
  free(o.p);
  free(ev);
  free(buf);
  close(fd);
  return NULL;
}

static int add_keys(cashback_verifier *v, const char *list) {
  char *copy = strdup(list);
  if (!copy)
    return -1;
  int rc = 0;
  char *save = NULL;
  for (char *tok = strtok_r(copy, ",", &save); tok && !rc;
       tok = strtok_r(NULL, ",", &save)) {
    char *colon = strchr(tok, ':');
    if (!colon) {
      rc = -1;
      break;
    }
    *colon = '\0';
    if (cashback_verifier_add_key(v, tok, colon + 1) != CASHBACK_OK)
      rc = -1;
  }
  memset(copy, 0, strlen(list));
  free(copy);
  return rc;
}

static void usage(void) {
  fprintf(stderr, "usage: fast_receiver [--port N] [--port-file F] "
                  "[--keys kid:secret[,...]]\n"
                  "                     [--delay-ms N] [--fail-503-seconds N] "
                  "[--max-seconds N]\n");
  exit(2);
}

int main(int argc, char **argv) {
  server s;
  memset(&s, 0, sizeof(s));
  pthread_mutex_init(&s.mu, NULL);
  int port = 0;
  const char *port_file = NULL, *keys = NULL;
  long max_seconds = 900;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    const char *v = i + 1 < argc ? argv[i + 1] : NULL;
    if (!v)
      usage();
    if (strcmp(a, "--port") == 0)
      port = atoi(v);
    else if (strcmp(a, "--port-file") == 0)
      port_file = v;
    else if (strcmp(a, "--keys") == 0)
      keys = v;
    else if (strcmp(a, "--delay-ms") == 0)
      s.delay_ms = atol(v);
    else if (strcmp(a, "--fail-503-seconds") == 0)
      s.fail_ms = (int64_t)(atof(v) * 1000);
    else if (strcmp(a, "--max-seconds") == 0)
      max_seconds = atol(v);
    else
      usage();
    i++;
  }
  if (keys) {
    s.verifier = cashback_verifier_new();
    if (!s.verifier || add_keys(s.verifier, keys) != 0) {
      fprintf(stderr, "fast_receiver: bad --keys\n");
      return 2;
    }
  }
  struct sigaction sa;
  memset(&sa, 0, sizeof(sa));
  sa.sa_handler = on_signal;
  sigaction(SIGTERM, &sa, NULL);
  sigaction(SIGINT, &sa, NULL);
  signal(SIGPIPE, SIG_IGN);

  int ls = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int one = 1;
  setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  struct sockaddr_in addr;
  memset(&addr, 0, sizeof(addr));
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons((uint16_t)port);
  socklen_t alen = sizeof(addr);
  if (ls < 0 || bind(ls, (struct sockaddr *)&addr, sizeof(addr)) != 0 ||
      listen(ls, 64) != 0 ||
      getsockname(ls, (struct sockaddr *)&addr, &alen) != 0) {
    perror("fast_receiver: listen");
    return 1;
  }
  port = ntohs(addr.sin_port);
  if (port_file) {
    char tmp[4096];
    snprintf(tmp, sizeof(tmp), "%s.tmp", port_file);
    FILE *f = fopen(tmp, "w");
    if (!f || fprintf(f, "%d\n", port) < 0 || fclose(f) != 0 ||
        rename(tmp, port_file) != 0) {
      perror("fast_receiver: port file");
      return 1;
    }
  } else {
    printf("%d\n", port);
    fflush(stdout);
  }
  int64_t deadline = wall_ms() + (int64_t)max_seconds * 1000;
  while (!stop_flag && wall_ms() < deadline) {
    struct pollfd p = {ls, POLLIN, 0};
    if (poll(&p, 1, 200) <= 0)
      continue;
    int fd = accept4(ls, NULL, NULL, SOCK_CLOEXEC);
    if (fd < 0)
      continue;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    conn *c = malloc(sizeof(*c));
    pthread_t t;
    pthread_attr_t at;
    pthread_attr_init(&at);
    pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
    if (!c) {
      close(fd);
    } else {
      c->s = &s;
      c->fd = fd;
      if (pthread_create(&t, &at, conn_main, c) != 0) {
        close(fd);
        free(c);
      }
    }
    pthread_attr_destroy(&at);
  }
  close(ls);
  /* Connection threads end with the process. */
  return 0;
}
