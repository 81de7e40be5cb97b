/* A loopback HTTP endpoint on 127.0.0.1 for a test, in a thread: it keeps
 * the body and Cashback-Signature header of the last request, and answers
 * 200 giving every event id of the batch the status `outcome` ("accepted",
 * "retry", ...). One request per connection; bounded by the test. */
#ifndef CASHBACK_TEST_CAPTURE_H
#define CASHBACK_TEST_CAPTURE_H

#include <arpa/inet.h>
#include <check.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

typedef struct capture {
  int lfd;
  char url[64];
  pthread_t thread;
  pthread_mutex_t mu;
  const char *outcome;
  char *body; /* the last request's body (NUL-terminated), or NULL */
  size_t body_len;
  char sig[1024];
  int requests;
} capture;

/* The value of header `name` in `head` (`n` bytes), or "". */
static inline void capture_header(const char *head, size_t n, const char *name,
                                  char *out, size_t size) {
  size_t nl = strlen(name);
  out[0] = '\0';
  for (const char *p = head; p && p + nl + 1 < head + n;) {
    if (strncasecmp(p, name, nl) == 0 && p[nl] == ':') {
      const char *v = p + nl + 1, *e = strstr(v, "\r\n");
      while (*v == ' ')
        v++;
      size_t m = e ? (size_t)(e - v) : 0;
      snprintf(out, size, "%.*s", (int)(m < size ? m : size - 1), v);
      return;
    }
    p = strstr(p, "\r\n");
    p = p ? p + 2 : NULL;
  }
}

/* The answer: every {"id":"<32 hex>" in the body gets `outcome`. */
static inline void capture_answer(capture *c, int fd, const char *body) {
  char res[8192] = "{\"results\":[";
  size_t rl = strlen(res);
  for (const char *p = body; (p = strstr(p, "{\"id\":\"")) != NULL; p += 7) {
    if (strlen(p + 7) < 32 || p[39] != '"' || rl + 128 >= sizeof(res))
      continue;
    rl += (size_t)snprintf(res + rl, sizeof(res) - rl,
                           "%s{\"id\":\"%.32s\",\"status\":\"%s\"}",
                           res[rl - 1] == '[' ? "" : ",", p + 7, c->outcome);
  }
  snprintf(res + rl, sizeof(res) - rl, "]}");
  char out[9000];
  int n = snprintf(out, sizeof(out),
                   "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                   "Content-Length: %zu\r\nConnection: close\r\n\r\n%s",
                   strlen(res), res);
  if (send(fd, out, (size_t)n, MSG_NOSIGNAL) < 0)
    return;
}

static inline void capture_serve(capture *c, int fd) {
  size_t cap = 1 << 20, len = 0;
  char *in = malloc(cap + 1);
  char *eoh = NULL, cl[32];
  size_t want = 0;
  while (in && len < cap) {
    ssize_t k = recv(fd, in + len, cap - len, 0);
    if (k <= 0)
      break;
    len += (size_t)k;
    in[len] = '\0';
    if (!eoh && (eoh = strstr(in, "\r\n\r\n")) != NULL) {
      capture_header(in, (size_t)(eoh - in) + 2, "Content-Length", cl,
                     sizeof(cl));
      want = (size_t)(eoh + 4 - in) + (size_t)strtoul(cl, NULL, 10);
    }
    if (eoh && len >= want)
      break;
  }
  if (in && eoh && len >= want) {
    pthread_mutex_lock(&c->mu);
    free(c->body);
    c->body_len = want - (size_t)(eoh + 4 - in);
    c->body = malloc(c->body_len + 1);
    if (c->body) {
      memcpy(c->body, eoh + 4, c->body_len);
      c->body[c->body_len] = '\0';
    }
    capture_header(in, (size_t)(eoh - in) + 2, "Cashback-Signature", c->sig,
                   sizeof(c->sig));
    c->requests++;
    pthread_mutex_unlock(&c->mu);
    capture_answer(c, fd, eoh + 4);
  }
  free(in);
  close(fd);
}

static inline void *capture_main(void *arg) {
  capture *c = arg;
  for (;;) {
    int fd = accept(c->lfd, NULL, NULL);
    if (fd < 0)
      return NULL; /* shut down */
    capture_serve(c, fd);
  }
}

static inline void capture_start(capture *c, const char *outcome) {
  memset(c, 0, sizeof(*c));
  c->outcome = outcome;
  pthread_mutex_init(&c->mu, NULL);
  c->lfd = socket(AF_INET, SOCK_STREAM, 0);
  ck_assert_int_ge(c->lfd, 0);
  struct sockaddr_in a = {.sin_family = AF_INET};
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ck_assert_int_eq(bind(c->lfd, (struct sockaddr *)&a, sizeof(a)), 0);
  ck_assert_int_eq(listen(c->lfd, 8), 0);
  socklen_t al = sizeof(a);
  ck_assert_int_eq(getsockname(c->lfd, (struct sockaddr *)&a, &al), 0);
  snprintf(c->url, sizeof(c->url), "http://127.0.0.1:%d/v1/events",
           ntohs(a.sin_port));
  ck_assert_int_eq(pthread_create(&c->thread, NULL, capture_main, c), 0);
}

static inline void capture_stop(capture *c) {
  shutdown(c->lfd, SHUT_RDWR); /* wakes accept() */
  pthread_join(c->thread, NULL);
  close(c->lfd);
  free(c->body);
  c->body = NULL;
  pthread_mutex_destroy(&c->mu);
}

#endif
