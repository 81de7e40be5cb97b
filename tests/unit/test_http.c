/* Unit tests for sdk/cashback_http.c against a real HTTP server on
 * 127.0.0.1: a scripted server thread (port 0) answers each request with
 * the next canned step and records the exact request bytes (the URL rule
 * it applies is tested in test_url.c). */
#include "tests.h"

#include "cashback_http.h"

#include <check.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* ------------------------------------------------------------------------
 * The scripted server
 * --------------------------------------------------------------------- */

typedef enum act {
  ACT_ANSWER,       /* send `text`, keep the connection */
  ACT_ANSWER_CLOSE, /* send `text`, then close quietly (a stale keep-alive) */
  ACT_HANG,         /* never answer; wait for the client to go */
  ACT_RESET,        /* close with RST, no answer */
  ACT_RAW_CLOSE,    /* on accept, send `text` without reading, and close */
  ACT_STREAM        /* send `text` (a head), then body bytes without end,
                       until the client goes or STREAM_MAX */
} act;

#define STREAM_MAX ((size_t)1 << 30)

typedef struct step {
  act kind;
  const char *text;
  size_t len; /* 0: strlen(text) */
} step;

#define STEPS_MAX 8
#define REQS_MAX 8

typedef struct server {
  int lfd;
  int port;
  pthread_t thread;
  step steps[STEPS_MAX];
  size_t nsteps, next;
  char *req[REQS_MAX]; /* the exact bytes of each request */
  size_t req_len[REQS_MAX];
  size_t nreq;
  int accepts;
  size_t streamed; /* ACT_STREAM: body bytes the kernel took */
  atomic_int stop;
} server;

static int64_t now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Waits up to 50 ms for `fd` to be readable: 1 readable, 0 not yet, -1 stop
 * asked. */
static int wait_readable(server *s, int fd) {
  if (atomic_load(&s->stop))
    return -1;
  struct pollfd p = {.fd = fd, .events = POLLIN};
  return poll(&p, 1, 50) > 0 ? 1 : 0;
}

/* 0 when all was sent, -1 when the client went away. */
static int send_all(int fd, const char *p, size_t n) {
  while (n > 0) {
    ssize_t k = send(fd, p, n, MSG_NOSIGNAL);
    if (k <= 0) {
      if (k < 0 && errno == EINTR)
        continue;
      return -1; /* the client went away */
    }
    p += k;
    n -= (size_t)k;
  }
  return 0;
}

/* Body bytes after the head of `st`, until the client closes the
 * connection, the server stops, or STREAM_MAX. */
static void stream_endless(server *s, int fd, const step *st) {
  static char chunk[65536];
  memset(chunk, 'x', sizeof(chunk));
  if (send_all(fd, st->text, st->len) != 0)
    return;
  while (!atomic_load(&s->stop) && s->streamed < STREAM_MAX) {
    struct pollfd p = {.fd = fd, .events = POLLOUT};
    if (poll(&p, 1, 50) <= 0)
      continue;
    if (p.revents & (POLLERR | POLLHUP))
      return;
    ssize_t k = send(fd, chunk, sizeof(chunk), MSG_NOSIGNAL | MSG_DONTWAIT);
    if (k < 0 && (errno == EAGAIN || errno == EINTR))
      continue;
    if (k <= 0)
      return;
    s->streamed += (size_t)k;
  }
}

/* The length of the first complete request in `b` (`n` bytes): headers and
 * a Content-Length body; 0 while incomplete. */
static size_t request_length(const char *b, size_t n) {
  const char *end = memmem(b, n, "\r\n\r\n", 4);
  if (!end)
    return 0;
  size_t head = (size_t)(end - b) + 4;
  size_t body = 0;
  for (const char *p = b; p < end;) {
    const char *eol = memmem(p, (size_t)(end - p) + 2, "\r\n", 2);
    if (strncasecmp(p, "content-length:", 15) == 0)
      body = strtoul(p + 15, NULL, 10);
    p = eol + 2;
  }
  return n >= head + body ? head + body : 0;
}

static void reset_close(int fd) {
  struct linger lg = {.l_onoff = 1, .l_linger = 0};
  setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
  close(fd);
}

static void serve_connection(server *s, int fd) {
  char *in = NULL;
  size_t len = 0, cap = 0;
  for (;;) {
    if (s->next < s->nsteps && s->steps[s->next].kind == ACT_RAW_CLOSE) {
      step *st = &s->steps[s->next++];
      send_all(fd, st->text, st->len);
      break;
    }
    size_t rl;
    while ((rl = request_length(in ? in : "", len)) == 0) {
      int r = wait_readable(s, fd);
      if (r < 0)
        goto done;
      if (r == 0)
        continue;
      if (cap - len < 65536) {
        cap = cap ? cap * 2 : 131072;
        in = realloc(in, cap);
        ck_assert_ptr_nonnull(in);
      }
      ssize_t k = recv(fd, in + len, cap - len, 0);
      if (k <= 0)
        goto done; /* the client closed */
      len += (size_t)k;
    }
    if (s->nreq < REQS_MAX) {
      s->req[s->nreq] = malloc(rl + 1);
      ck_assert_ptr_nonnull(s->req[s->nreq]);
      memcpy(s->req[s->nreq], in, rl);
      s->req[s->nreq][rl] = '\0';
      s->req_len[s->nreq++] = rl;
    }
    memmove(in, in + rl, len - rl);
    len -= rl;
    static const step none = {ACT_ANSWER,
                              "HTTP/1.1 599 No Step\r\nContent-Length: 0\r\n"
                              "\r\n",
                              0};
    const step *st = s->next < s->nsteps ? &s->steps[s->next++] : &none;
    switch (st->kind) {
    case ACT_ANSWER:
    case ACT_ANSWER_CLOSE:
      send_all(fd, st->text, st->len ? st->len : strlen(st->text));
      if (st->kind == ACT_ANSWER_CLOSE)
        goto done;
      break;
    case ACT_HANG: {
      char sink[4096];
      for (;;) {
        int r = wait_readable(s, fd);
        if (r < 0 || (r > 0 && recv(fd, sink, sizeof(sink), 0) <= 0))
          goto done;
      }
    }
    case ACT_RESET:
      free(in);
      reset_close(fd);
      return;
    case ACT_STREAM:
      stream_endless(s, fd, st);
      goto done;
    case ACT_RAW_CLOSE:
      break;
    }
  }
done:
  free(in);
  close(fd);
}

static void *server_main(void *arg) {
  server *s = arg;
  int r;
  while ((r = wait_readable(s, s->lfd)) >= 0) {
    if (r == 0)
      continue;
    int fd = accept(s->lfd, NULL, NULL);
    if (fd < 0)
      continue;
    s->accepts++;
    serve_connection(s, fd);
  }
  return NULL;
}

/* Starts a server that plays `steps` in order. */
static void server_start(server *s, const step *steps, size_t n) {
  memset(s, 0, sizeof(*s));
  ck_assert_uint_le(n, STEPS_MAX);
  for (size_t i = 0; i < n; i++) {
    s->steps[i] = steps[i];
    if (!s->steps[i].len && s->steps[i].text)
      s->steps[i].len = strlen(s->steps[i].text);
  }
  s->nsteps = n;
  atomic_init(&s->stop, 0);
  s->lfd = socket(AF_INET, SOCK_STREAM, 0);
  ck_assert_int_ge(s->lfd, 0);
  struct sockaddr_in a = {.sin_family = AF_INET};
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ck_assert_int_eq(bind(s->lfd, (struct sockaddr *)&a, sizeof(a)), 0);
  ck_assert_int_eq(listen(s->lfd, 8), 0);
  socklen_t al = sizeof(a);
  ck_assert_int_eq(getsockname(s->lfd, (struct sockaddr *)&a, &al), 0);
  s->port = ntohs(a.sin_port);
  ck_assert_int_eq(pthread_create(&s->thread, NULL, server_main, s), 0);
}

/* Stops the server; its records stay readable until server_free. */
static void server_stop(server *s) {
  atomic_store(&s->stop, 1);
  pthread_join(s->thread, NULL);
  close(s->lfd);
}

static void server_free(server *s) {
  for (size_t i = 0; i < s->nreq; i++)
    free(s->req[i]);
}

/* ------------------------------------------------------------------------
 * Helpers
 * --------------------------------------------------------------------- */

static cashback__http *client(int64_t total_ms) {
  cashback__http_config cfg = {.connect_timeout_ms = 2000,
                               .total_timeout_ms = total_ms,
                               .user_agent = "libcashback/test"};
  cashback__http *h = NULL;
  ck_assert_int_eq(cashback__http_new(&cfg, &h), CASHBACK_OK);
  ck_assert_ptr_nonnull(h);
  return h;
}

static void url_of(const server *s, const char *scheme, char *buf,
                   size_t size) {
  snprintf(buf, size, "%s://127.0.0.1:%d/v1/events", scheme, s->port);
}

/* Libcurl would send loopback traffic through a proxy from the
 * environment. */
static void no_proxy(void) {
  unsetenv("http_proxy");
  unsetenv("HTTP_PROXY");
  unsetenv("https_proxy");
  unsetenv("HTTPS_PROXY");
  unsetenv("all_proxy");
  unsetenv("ALL_PROXY");
}

static int has(const char *req, const char *needle) {
  return strstr(req, needle) != NULL;
}

#define SIG "t=1700000000,v1=key-1:00ff"
#define OK_JSON "{\"results\":[]}"
#define OK_200                                                                 \
  "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: "      \
  "14\r\n\r\n" OK_JSON

/* ------------------------------------------------------------------------
 * Tests
 * --------------------------------------------------------------------- */

START_TEST(http_request_bytes) {
  server s;
  step steps[] = {{ACT_ANSWER, OK_200, 0}, {ACT_ANSWER, OK_200, 0}};
  server_start(&s, steps, 2);
  cashback__http *h = client(5000);
  char url[128];
  url_of(&s, "http", url, sizeof(url));
  const char body[] = "{\"protocol\":1,\"events\":[]}";
  cashback__http_response r;
  cashback__http_response_init(&r);
  ck_assert_int_eq(cashback__http_post(h, url, SIG, body, sizeof(body) - 1, &r),
                   CASHBACK_OK);
  ck_assert_int_eq(r.status, 200);
  ck_assert_int_eq(r.transport_error, 0);
  ck_assert_uint_eq(r.body.len, strlen(OK_JSON));
  ck_assert_str_eq(r.body.data, OK_JSON);
  ck_assert_str_eq(r.retry_after, "");

  /* A body well over 1 KiB and 1 MiB: curl must not wait for a
   * 100-continue. */
  size_t big = 1536 * 1024;
  char *large = malloc(big);
  ck_assert_ptr_nonnull(large);
  for (size_t i = 0; i < big; i++)
    large[i] = (char)('a' + i % 26);
  ck_assert_int_eq(cashback__http_post(h, url, SIG, large, big, &r),
                   CASHBACK_OK);
  ck_assert_int_eq(r.status, 200);
  cashback__http_response_free(&r);
  cashback__http_free(h);
  server_stop(&s);

  ck_assert_uint_eq(s.nreq, 2);
  const char *q = s.req[0];
  char host[64];
  snprintf(host, sizeof(host), "\r\nHost: 127.0.0.1:%d\r\n", s.port);
  ck_assert_msg(strncmp(q, "POST /v1/events HTTP/1.1\r\n", 26) == 0, "%s", q);
  ck_assert_msg(has(q, host), "%s", q);
  ck_assert_msg(has(q, "\r\nContent-Type: application/json\r\n"), "%s", q);
  ck_assert_msg(has(q, "\r\nCashback-Signature: " SIG "\r\n"), "%s", q);
  ck_assert_msg(has(q, "\r\nUser-Agent: libcashback/test\r\n"), "%s", q);
  char clen[64];
  snprintf(clen, sizeof(clen), "\r\nContent-Length: %zu\r\n", sizeof(body) - 1);
  ck_assert_msg(has(q, clen), "%s", q);
  ck_assert_msg(!strcasestr(q, "\r\nExpect:"), "%s", q);
  /* The body, exactly, right after the headers. */
  const char *b = strstr(q, "\r\n\r\n") + 4;
  ck_assert_uint_eq(s.req_len[0] - (size_t)(b - q), sizeof(body) - 1);
  ck_assert_str_eq(b, body);
  /* The large one: no Expect either, and every byte arrived. */
  q = s.req[1];
  ck_assert_msg(!strcasestr(q, "\r\nExpect:"), "Expect header sent");
  b = strstr(q, "\r\n\r\n") + 4;
  ck_assert_uint_eq(s.req_len[1] - (size_t)(b - q), big);
  ck_assert_int_eq(memcmp(b, large, big), 0);
  free(large);
  server_free(&s);
}
END_TEST

START_TEST(http_statuses_and_headers) {
  server s;
  step steps[] = {
      {ACT_ANSWER,
       "HTTP/1.1 503 Service Unavailable\r\nretry-after:   2  \r\n"
       "DATE: Sun, 06 Nov 1994 08:49:37 GMT\r\nContent-Length: 5\r\n\r\nbusy!",
       0},
      {ACT_ANSWER,
       "HTTP/1.1 429 Too Many Requests\r\nRetry-After: Sun, 06 Nov 1994 "
       "08:50:00 GMT\r\nContent-Length: 0\r\n\r\n",
       0},
      {ACT_ANSWER, "HTTP/1.1 400 Bad Request\r\nContent-Length: 2\r\n\r\n{}",
       0},
      {ACT_ANSWER, "HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\n\r\n", 0},
      {ACT_ANSWER,
       "HTTP/1.1 500 Internal Server Error\r\nRetry-After: 1\x01\r\n"
       "Content-Length: 0\r\n\r\n",
       0},
      {ACT_ANSWER,
       "HTTP/1.1 302 Found\r\nLocation: /elsewhere\r\nContent-Length: "
       "0\r\n\r\n",
       0},
      {ACT_ANSWER, OK_200, 0},
  };
  server_start(&s, steps, 7);
  cashback__http *h = client(5000);
  char url[128];
  url_of(&s, "http", url, sizeof(url));
  cashback__http_response r;
  cashback__http_response_init(&r);

  ck_assert_int_eq(cashback__http_post(h, url, SIG, "{}", 2, &r), CASHBACK_OK);
  ck_assert_int_eq(r.status, 503);
  ck_assert_str_eq(r.retry_after, "2");
  ck_assert_str_eq(r.date, "Sun, 06 Nov 1994 08:49:37 GMT");
  ck_assert_str_eq(r.body.data, "busy!");

  ck_assert_int_eq(cashback__http_post(h, url, SIG, "{}", 2, &r), CASHBACK_OK);
  ck_assert_int_eq(r.status, 429);
  ck_assert_str_eq(r.retry_after, "Sun, 06 Nov 1994 08:50:00 GMT");
  ck_assert_str_eq(r.date, ""); /* the previous answer's is gone */
  ck_assert_uint_eq(r.body.len, 0);

  ck_assert_int_eq(cashback__http_post(h, url, SIG, "{}", 2, &r), CASHBACK_OK);
  ck_assert_int_eq(r.status, 400);
  ck_assert_str_eq(r.retry_after, "");
  ck_assert_str_eq(r.body.data, "{}");

  ck_assert_int_eq(cashback__http_post(h, url, SIG, "{}", 2, &r), CASHBACK_OK);
  ck_assert_int_eq(r.status, 401);

  /* A header value with a control character is dropped, not passed on. */
  ck_assert_int_eq(cashback__http_post(h, url, SIG, "{}", 2, &r), CASHBACK_OK);
  ck_assert_int_eq(r.status, 500);
  ck_assert_str_eq(r.retry_after, "");

  /* A redirect is an answer, never followed. */
  ck_assert_int_eq(cashback__http_post(h, url, SIG, "{}", 2, &r), CASHBACK_OK);
  ck_assert_int_eq(r.status, 302);

  ck_assert_int_eq(cashback__http_post(h, url, SIG, "{}", 2, &r), CASHBACK_OK);
  ck_assert_int_eq(r.status, 200);
  cashback__http_response_free(&r);
  cashback__http_free(h);
  server_stop(&s);
  ck_assert_uint_eq(s.nreq, 7); /* nothing went to /elsewhere */
  for (size_t i = 0; i < s.nreq; i++)
    ck_assert_msg(strncmp(s.req[i], "POST /v1/events ", 16) == 0, "%s",
                  s.req[i]);
  ck_assert_int_eq(s.accepts, 1); /* one connection for all of them */
  server_free(&s);
}
END_TEST

START_TEST(http_connection_refused) {
  /* A port that was bound and closed: nobody listens there. */
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  ck_assert_int_ge(fd, 0);
  struct sockaddr_in a = {.sin_family = AF_INET};
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ck_assert_int_eq(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
  socklen_t al = sizeof(a);
  ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&a, &al), 0);
  close(fd);
  char url[128];
  snprintf(url, sizeof(url), "http://127.0.0.1:%d/v1/events",
           ntohs(a.sin_port));
  cashback__http *h = client(5000);
  cashback__http_response r;
  cashback__http_response_init(&r);
  ck_assert_int_eq(cashback__http_post(h, url, SIG, "{}", 2, &r),
                   CASHBACK_E_NETWORK);
  ck_assert_int_eq(r.status, 0);
  ck_assert_int_eq(r.transport_error, 1);
  ck_assert_int_eq(r.timed_out, 0);
  ck_assert_msg(strstr(r.error, "curl error 7"), "%s", r.error);
  cashback__http_response_free(&r);
  cashback__http_free(h);
}
END_TEST

START_TEST(http_timeout_when_never_answered) {
  server s;
  step steps[] = {{ACT_HANG, NULL, 0}};
  server_start(&s, steps, 1);
  cashback__http *h = client(300);
  char url[128];
  url_of(&s, "http", url, sizeof(url));
  cashback__http_response r;
  cashback__http_response_init(&r);
  int64_t t0 = now_ms();
  ck_assert_int_eq(cashback__http_post(h, url, SIG, "{}", 2, &r),
                   CASHBACK_E_NETWORK);
  int64_t took = now_ms() - t0;
  ck_assert_int_ge(took, 250);
  ck_assert_int_lt(took, 2000);
  ck_assert_int_eq(r.transport_error, 1);
  ck_assert_int_eq(r.timed_out, 1);
  ck_assert_int_eq(r.status, 0);
  ck_assert_msg(strstr(r.error, "curl error 28"), "%s", r.error);
  cashback__http_response_free(&r);
  cashback__http_free(h);
  server_stop(&s);
  ck_assert_uint_eq(s.nreq, 1); /* the request did arrive */
  server_free(&s);
}
END_TEST

START_TEST(http_connection_reset) {
  server s;
  step steps[] = {{ACT_RESET, NULL, 0}, {ACT_ANSWER, OK_200, 0}};
  server_start(&s, steps, 2);
  cashback__http *h = client(5000);
  char url[128];
  url_of(&s, "http", url, sizeof(url));
  cashback__http_response r;
  cashback__http_response_init(&r);
  ck_assert_int_eq(cashback__http_post(h, url, SIG, "{}", 2, &r),
                   CASHBACK_E_NETWORK);
  ck_assert_int_eq(r.transport_error, 1);
  ck_assert_int_eq(r.timed_out, 0);
  ck_assert_int_eq(r.status, 0);
  ck_assert_str_ne(r.error, "");
  /* The same handle recovers on a new connection. */
  ck_assert_int_eq(cashback__http_post(h, url, SIG, "{}", 2, &r), CASHBACK_OK);
  ck_assert_int_eq(r.status, 200);
  ck_assert_int_eq(r.transport_error, 0);
  ck_assert_str_eq(r.error, "");
  cashback__http_response_free(&r);
  cashback__http_free(h);
  server_stop(&s);
  ck_assert_int_eq(s.accepts, 2);
  server_free(&s);
}
END_TEST

START_TEST(http_keep_alive) {
  server s;
  step steps[] = {{ACT_ANSWER, OK_200, 0},
                  {ACT_ANSWER_CLOSE, OK_200, 0},
                  {ACT_ANSWER, OK_200, 0}};
  server_start(&s, steps, 3);
  cashback__http *h = client(5000);
  char url[128];
  url_of(&s, "http", url, sizeof(url));
  cashback__http_response r;
  cashback__http_response_init(&r);
  ck_assert_int_eq(cashback__http_post(h, url, SIG, "{}", 2, &r), CASHBACK_OK);
  ck_assert_int_eq(cashback__http_post(h, url, SIG, "{}", 2, &r), CASHBACK_OK);
  ck_assert_int_eq(r.status, 200);
  /* Wait until the server has closed the kept connection: curl must notice
   * and connect again rather than fail. */
  usleep(100000);
  ck_assert_int_eq(cashback__http_post(h, url, SIG, "{}", 2, &r), CASHBACK_OK);
  ck_assert_int_eq(r.status, 200);
  cashback__http_response_free(&r);
  cashback__http_free(h);
  server_stop(&s);
  ck_assert_uint_eq(s.nreq, 3);
  ck_assert_int_eq(s.accepts, 2); /* posts 1 and 2 shared one connection */
  server_free(&s);
}
END_TEST

/* A body of `n` bytes with a Content-Length; free() it. */
static char *answer_of(size_t n, size_t *total) {
  char head[128];
  int hl = snprintf(head, sizeof(head),
                    "HTTP/1.1 200 OK\r\nContent-Length: %zu\r\n\r\n", n);
  char *text = malloc((size_t)hl + n);
  ck_assert_ptr_nonnull(text);
  memcpy(text, head, (size_t)hl);
  for (size_t i = 0; i < n; i++)
    text[(size_t)hl + i] = (char)('0' + i % 10);
  *total = (size_t)hl + n;
  return text;
}

START_TEST(http_body_at_the_cap) {
  /* Exactly CASHBACK__RESPONSE_MAX bytes is an answer, kept whole. */
  size_t total;
  char *text = answer_of(CASHBACK__RESPONSE_MAX, &total);
  server s;
  step steps[] = {{ACT_ANSWER, text, total}, {ACT_ANSWER, OK_200, 0}};
  server_start(&s, steps, 2);
  cashback__http *h = client(5000);
  char url[128];
  url_of(&s, "http", url, sizeof(url));
  cashback__http_response r;
  cashback__http_response_init(&r);
  ck_assert_int_eq(cashback__http_post(h, url, SIG, "{}", 2, &r), CASHBACK_OK);
  ck_assert_int_eq(r.status, 200);
  ck_assert_int_eq(r.too_big, 0);
  ck_assert_uint_eq(r.body.len, CASHBACK__RESPONSE_MAX);
  ck_assert_int_eq(memcmp(r.body.data, text + total - CASHBACK__RESPONSE_MAX,
                          CASHBACK__RESPONSE_MAX),
                   0);
  ck_assert_int_eq(cashback__http_post(h, url, SIG, "{}", 2, &r), CASHBACK_OK);
  ck_assert_str_eq(r.body.data, OK_JSON);
  cashback__http_response_free(&r);
  cashback__http_free(h);
  server_stop(&s);
  ck_assert_int_eq(s.accepts, 1);
  server_free(&s);
  free(text);
}
END_TEST

START_TEST(http_body_over_the_cap) {
  /* One byte more is not an answer (it used to be cut silently): a
   * transport failure, and the next request works on a new connection. */
  size_t total;
  char *text = answer_of(CASHBACK__RESPONSE_MAX + 1, &total);
  server s;
  step steps[] = {{ACT_ANSWER, text, total}, {ACT_ANSWER, OK_200, 0}};
  server_start(&s, steps, 2);
  cashback__http *h = client(5000);
  char url[128];
  url_of(&s, "http", url, sizeof(url));
  cashback__http_response r;
  cashback__http_response_init(&r);
  ck_assert_int_eq(cashback__http_post(h, url, SIG, "{}", 2, &r),
                   CASHBACK_E_NETWORK);
  ck_assert_int_eq(r.too_big, 1);
  ck_assert_int_eq(r.transport_error, 1);
  ck_assert_int_eq(r.status, 0);
  ck_assert_msg(strstr(r.error, "response larger than 1 MiB"), "%s", r.error);
  ck_assert_int_eq(cashback__http_post(h, url, SIG, "{}", 2, &r), CASHBACK_OK);
  ck_assert_int_eq(r.too_big, 0);
  ck_assert_str_eq(r.body.data, OK_JSON);
  cashback__http_response_free(&r);
  cashback__http_free(h);
  server_stop(&s);
  ck_assert_int_eq(s.accepts, 2);
  server_free(&s);
  free(text);
}
END_TEST

START_TEST(http_endless_body_is_cut_at_the_cap) {
  /* A body without end (no length; it would end with the connection): the
   * transfer stops at the cap, not at the timeout (30 s here). Reading it
   * all used to take the whole timeout (33 GB in one test). */
  static const char head[] = "HTTP/1.1 200 OK\r\nContent-Type: "
                             "application/json\r\nConnection: close\r\n\r\n";
  server s;
  step steps[] = {{ACT_STREAM, head, 0}};
  server_start(&s, steps, 1);
  cashback__http *h = client(30000);
  char url[128];
  url_of(&s, "http", url, sizeof(url));
  cashback__http_response r;
  cashback__http_response_init(&r);
  ck_assert_int_eq(cashback__http_post(h, url, SIG, "{}", 2, &r),
                   CASHBACK_E_NETWORK);
  ck_assert_int_eq(r.too_big, 1);
  ck_assert_int_eq(r.timed_out, 0);
  ck_assert_msg(strstr(r.error, "response larger than 1 MiB"), "%s", r.error);
  ck_assert_uint_le(r.body.len, CASHBACK__RESPONSE_MAX);
  cashback__http_response_free(&r);
  cashback__http_free(h);
  server_stop(&s);
  /* What the kernel took: the cap plus socket buffers, far from the bound
   * the server would stream to. */
  ck_assert_msg(s.streamed < 64u << 20, "streamed %zu bytes", s.streamed);
  server_free(&s);
}
END_TEST

START_TEST(http_tls_failure) {
  /* https:// to a server that speaks plain HTTP: the handshake fails. */
  server s;
  step steps[] = {{ACT_RAW_CLOSE, OK_200, 0}};
  server_start(&s, steps, 1);
  cashback__http *h = client(5000);
  char url[128];
  url_of(&s, "https", url, sizeof(url));
  cashback__http_response r;
  cashback__http_response_init(&r);
  ck_assert_int_eq(cashback__http_post(h, url, SIG, "{}", 2, &r),
                   CASHBACK_E_NETWORK);
  ck_assert_int_eq(r.transport_error, 1);
  ck_assert_int_eq(r.status, 0);
  ck_assert_str_ne(r.error, "");
  cashback__http_response_free(&r);
  cashback__http_free(h);
  server_stop(&s);
  server_free(&s);
}
END_TEST

START_TEST(http_refused_before_sending) {
  cashback__http *h = client(5000);
  cashback__http_response r;
  cashback__http_response_init(&r);
  /* Plain http to a remote host: refused without a connection attempt. */
  ck_assert_int_eq(
      cashback__http_post(h, "http://example.com/v1/events", SIG, "{}", 2, &r),
      CASHBACK_E_CONFIG);
  ck_assert_msg(strstr(r.error, "loopback"), "%s", r.error);
  ck_assert_int_eq(r.transport_error, 0);
  ck_assert_int_eq(
      cashback__http_post(h, "ftp://127.0.0.1/x", SIG, "{}", 2, &r),
      CASHBACK_E_CONFIG);
  /* A signature that would inject a header. */
  ck_assert_int_eq(cashback__http_post(h, "http://127.0.0.1:1/v1/events",
                                       "t=1\r\nX-Evil: 1", "{}", 2, &r),
                   CASHBACK_E_INVALID_ARGUMENT);
  ck_assert_msg(strstr(r.error, "signature"), "%s", r.error);
  ck_assert_int_eq(cashback__http_post(h, NULL, SIG, "{}", 2, &r),
                   CASHBACK_E_INVALID_ARGUMENT);
  ck_assert_int_eq(
      cashback__http_post(h, "http://127.0.0.1:1/", NULL, "{}", 2, &r),
      CASHBACK_E_INVALID_ARGUMENT);
  ck_assert_int_eq(
      cashback__http_post(NULL, "http://127.0.0.1:1/", SIG, "{}", 2, &r),
      CASHBACK_E_INVALID_ARGUMENT);
  ck_assert_int_eq(
      cashback__http_post(h, "http://127.0.0.1:1/", SIG, "{}", 2, NULL),
      CASHBACK_E_INVALID_ARGUMENT);
  cashback__http_response_free(&r);
  cashback__http_free(h);
  cashback__http_free(NULL);
  cashback__http_response_free(NULL);

  cashback__http_config cfg = {0};
  ck_assert_int_eq(cashback__http_new(&cfg, NULL), CASHBACK_E_INVALID_ARGUMENT);
  ck_assert_int_eq(cashback__http_new(NULL, &h), CASHBACK_E_INVALID_ARGUMENT);
  ck_assert_ptr_null(h);
  /* Zero timeouts and no user agent take the defaults. */
  ck_assert_int_eq(cashback__http_new(&cfg, &h), CASHBACK_OK);
  cashback__http_free(h);
}
END_TEST

START_TEST(http_insecure_allowed_when_asked) {
  /* 0.0.0.0 is no loopback name for the policy (Linux connects it to this
   * host all the same): refused, then sent once allow_insecure is set. */
  server s;
  step steps[] = {{ACT_ANSWER, OK_200, 0}};
  server_start(&s, steps, 1);
  char url[128];
  snprintf(url, sizeof(url), "http://0.0.0.0:%d/v1/events", s.port);
  cashback__http_response r;
  cashback__http_response_init(&r);
  cashback__http *h = client(5000);
  ck_assert_int_eq(cashback__http_post(h, url, SIG, "{}", 2, &r),
                   CASHBACK_E_CONFIG);
  cashback__http_free(h);
  cashback__http_config cfg = {.total_timeout_ms = 5000, .allow_insecure = 1};
  ck_assert_int_eq(cashback__http_new(&cfg, &h), CASHBACK_OK);
  ck_assert_int_eq(cashback__http_post(h, url, SIG, "{}", 2, &r), CASHBACK_OK);
  ck_assert_int_eq(r.status, 200);
  cashback__http_response_free(&r);
  cashback__http_free(h);
  server_stop(&s);
  ck_assert_uint_eq(s.nreq, 1);
  /* The default user agent names the library. */
  ck_assert_msg(
      has(s.req[0], "\r\nUser-Agent: libcashback/" CASHBACK_VERSION "\r\n"),
      "%s", s.req[0]);
  server_free(&s);
}
END_TEST

TCase *cashback_test_http(void) {
  TCase *tc = tcase_create("http");
  tcase_add_checked_fixture(tc, no_proxy, NULL);
  tcase_set_timeout(tc, 20);
  tcase_add_test(tc, http_request_bytes);
  tcase_add_test(tc, http_statuses_and_headers);
  tcase_add_test(tc, http_connection_refused);
  tcase_add_test(tc, http_timeout_when_never_answered);
  tcase_add_test(tc, http_connection_reset);
  tcase_add_test(tc, http_keep_alive);
  tcase_add_test(tc, http_body_at_the_cap);
  tcase_add_test(tc, http_body_over_the_cap);
  tcase_add_test(tc, http_endless_body_is_cut_at_the_cap);
  tcase_add_test(tc, http_tls_failure);
  tcase_add_test(tc, http_refused_before_sending);
  tcase_add_test(tc, http_insecure_allowed_when_asked);
  return tc;
}
