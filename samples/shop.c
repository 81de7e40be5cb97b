/*
 * A tiny shop on the public C API, serving HTTP on loopback, for the
 * end-to-end demo: the few lines a C shop adds to take part in a cashback
 * network.
 *
 *   GET  /<any page>?cb_click=TOKEN   landing: captures the click into a
 *                                     signed first-party cookie (Set-Cookie)
 *   GET  /checkout                    reads the click back from the Cookie
 *   POST /pay?order=ID&amount=49.90&currency=EUR
 *                                     the payment succeeded: reports the sale
 *                                     (spooled durably; a sender delivers it)
 *
 * Usage: shop [--listen 127.0.0.1:PORT] [--port-file FILE] [--max-seconds N]
 * The configuration is the built-in demo connection string, overridden by
 * the environment (CASHBACK_CONNECTION, CASHBACK_CONFIG, CASHBACK_<KEY>).
 * One request at a time; stops on SIGTERM or SIGINT. The HTTP handling is
 * the least a sample needs; a real shop has its own web stack and only
 * makes the four libcashback calls marked "libcashback:" below.
 */
#include <cashback.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define DEMO_CONNECTION                                                        \
  "cashback:merchant_id=demo-shop;key_id=demo-key-1;"                          \
  "secret=demo-secret-0123456789abcdef;"                                       \
  "endpoint=http://127.0.0.1:8787/cashback/v1/events;"                         \
  "landing_params=@awin,cb_click"

#define REQUEST_MAX 16384

static volatile sig_atomic_t stopping;

static void on_signal(int sig) {
  (void)sig;
  stopping = 1;
}

/* The value of query parameter `name` in `target` into `out` (no
 * percent-decoding: the demo's values are plain). 0 when present. */
static int param(const char *target, const char *name, char *out, size_t size) {
  const char *q = strchr(target, '?');
  size_t n = strlen(name);
  for (const char *p = q; p && *p; p = strchr(p + 1, '&')) {
    if (strncmp(p + 1, name, n) == 0 && p[1 + n] == '=') {
      const char *v = p + 2 + n;
      size_t len = strcspn(v, "&# ");
      if (len >= size)
        return -1;
      memcpy(out, v, len);
      out[len] = '\0';
      return 0;
    }
  }
  return -1;
}

static void respond(int fd, int code, const char *extra_header,
                    const char *content_type, const char *body) {
  char head[2048];
  const char *reason = code == 200   ? "OK"
                       : code == 400 ? "Bad Request"
                       : code == 404 ? "Not Found"
                                     : "Internal Server Error";
  int n =
      snprintf(head, sizeof(head),
               "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: "
               "%zu\r\nConnection: close\r\n%s%s\r\n",
               code, reason, content_type, strlen(body),
               extra_header ? extra_header : "", extra_header ? "\r\n" : "");
  if (n > 0 && (size_t)n < sizeof(head) && write(fd, head, (size_t)n) == n &&
      write(fd, body, strlen(body)) < 0)
    perror("shop: write");
}

/* Landing page: any GET that is not /checkout. */
static void landing(cashback_client *c, int fd, const char *target) {
  char set_cookie[CASHBACK_SET_COOKIE_MAX + 1];
  char header[CASHBACK_SET_COOKIE_MAX + 16];
  /* libcashback: capture the click token of the landing URL, if any. */
  cashback_status st = cashback_capture(c, target, strlen(target), set_cookie,
                                        sizeof(set_cookie));
  if (st == CASHBACK_OK) {
    snprintf(header, sizeof(header), "Set-Cookie: %s", set_cookie);
    respond(fd, 200, header, "text/plain",
            "Welcome to the demo shop. Your cashback click is noted.\n");
  } else {
    respond(fd, 200, NULL, "text/plain", "Welcome to the demo shop.\n");
  }
}

/* The click of this browser, from its Cookie header; 0 when there is one. */
static int click_of(cashback_client *c, const char *cookie,
                    cashback_click *click, cashback_status *why) {
  if (!cookie) {
    *why = CASHBACK_E_CLICK_NONE;
    return -1;
  }
  /* libcashback: read the click back (signature and window checked). */
  *why = cashback_click_read(c, cookie, strlen(cookie), click);
  return *why == CASHBACK_OK ? 0 : -1;
}

static void checkout(cashback_client *c, int fd, const char *cookie) {
  cashback_click click = {.size = sizeof(cashback_click)};
  cashback_status why;
  char body[512];
  if (click_of(c, cookie, &click, &why) == 0)
    snprintf(body, sizeof(body),
             "{\"click\":\"%s\",\"source\":\"%s\",\"captured_at\":%lld}\n",
             click.token, click.source, (long long)click.captured_at);
  else
    snprintf(body, sizeof(body), "{\"click\":null,\"why\":\"%s\"}\n",
             cashback_strerror(why));
  respond(fd, 200, NULL, "application/json", body);
}

static void pay(cashback_client *c, int fd, const char *target,
                const char *cookie) {
  char order[CASHBACK_ID_MAX + 1], amount[32], currency[8], body[512];
  if (param(target, "order", order, sizeof(order)) != 0 ||
      param(target, "amount", amount, sizeof(amount)) != 0 ||
      param(target, "currency", currency, sizeof(currency)) != 0) {
    respond(fd, 400, NULL, "text/plain", "order, amount, currency needed\n");
    return;
  }
  cashback_click click = {.size = sizeof(cashback_click)};
  cashback_status why;
  if (click_of(c, cookie, &click, &why) != 0) {
    snprintf(body, sizeof(body),
             "{\"order\":\"%s\",\"paid\":true,\"reported\":false,\"why\":"
             "\"%s\"}\n",
             order, cashback_strerror(why));
    respond(fd, 200, NULL, "application/json", body);
    return;
  }
  cashback_event *ev = cashback_event_new(CASHBACK_EVENT_SALE, order);
  cashback_status st = ev ? CASHBACK_OK : CASHBACK_E_FIELD;
  char id[CASHBACK_EVENT_ID_LEN + 1] = "";
  if (st == CASHBACK_OK)
    st = cashback_event_set_click_full(ev, &click);
  if (st == CASHBACK_OK)
    st = cashback_event_set_amount_decimal(ev, amount, currency);
  /* libcashback: store the sale durably; a sender delivers it. */
  if (st == CASHBACK_OK)
    st = cashback_report(c, ev, id);
  if (st == CASHBACK_OK) {
    snprintf(body, sizeof(body),
             "{\"order\":\"%s\",\"paid\":true,\"reported\":true,\"event_id\":"
             "\"%s\",\"click\":\"%s\"}\n",
             order, id, click.token);
    respond(fd, 200, NULL, "application/json", body);
  } else {
    char detail[CASHBACK_ERROR_MAX + 1] = "";
    cashback_client_last_error(c, detail, sizeof(detail));
    fprintf(stderr, "shop: order %s not reported: %s (%s; %s)\n", order,
            cashback_strerror(st), ev ? cashback_event_last_error(ev) : "",
            detail);
    respond(fd, 500, NULL, "text/plain", "the sale could not be stored\n");
  }
  cashback_event_free(ev);
}

/* Reads one request's head; parses its line and the Cookie header. */
static void serve(cashback_client *c, int fd) {
  char req[REQUEST_MAX + 1];
  size_t n = 0;
  while (n < REQUEST_MAX) {
    struct pollfd p = {fd, POLLIN, 0};
    if (poll(&p, 1, 5000) <= 0)
      return;
    ssize_t r = read(fd, req + n, REQUEST_MAX - n);
    if (r <= 0)
      return;
    n += (size_t)r;
    req[n] = '\0';
    if (strstr(req, "\r\n\r\n"))
      break;
  }
  char method[8], target[4096];
  if (sscanf(req, "%7s %4095s", method, target) != 2) {
    respond(fd, 400, NULL, "text/plain", "bad request\n");
    return;
  }
  const char *cookie = NULL;
  for (char *line = strstr(req, "\r\n"); line && line[2] != '\r';
       line = strstr(line + 2, "\r\n")) {
    char *end = strstr(line + 2, "\r\n");
    if (end && strncasecmp(line + 2, "Cookie:", 7) == 0) {
      *end = '\0';
      cookie = line + 9 + strspn(line + 9, " \t");
      break;
    }
  }
  if (strcmp(method, "GET") == 0 && strncmp(target, "/checkout", 9) == 0)
    checkout(c, fd, cookie);
  else if (strcmp(method, "POST") == 0 && strncmp(target, "/pay?", 5) == 0)
    pay(c, fd, target, cookie);
  else if (strcmp(method, "GET") == 0)
    landing(c, fd, target);
  else
    respond(fd, 404, NULL, "text/plain", "not found\n");
}

static int listen_on(const char *spec, int *port) {
  char host[64];
  int p = 0;
  if (sscanf(spec, "%63[^:]:%d", host, &p) != 2 || p < 0 || p > 65535)
    return -1;
  struct sockaddr_in a = {0};
  a.sin_family = AF_INET;
  a.sin_port = htons((uint16_t)p);
  if (inet_pton(AF_INET, host, &a.sin_addr) != 1)
    return -1;
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int one = 1;
  socklen_t len = sizeof(a);
  if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
      bind(fd, (struct sockaddr *)&a, sizeof(a)) || listen(fd, 16) ||
      getsockname(fd, (struct sockaddr *)&a, &len)) {
    if (fd >= 0)
      close(fd);
    return -1;
  }
  *port = ntohs(a.sin_port);
  return fd;
}

int main(int argc, char **argv) {
  const char *listen_spec = "127.0.0.1:8080", *port_file = NULL;
  long max_seconds = 600;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--listen") == 0 && i + 1 < argc)
      listen_spec = argv[++i];
    else if (strcmp(argv[i], "--port-file") == 0 && i + 1 < argc)
      port_file = argv[++i];
    else if (strcmp(argv[i], "--max-seconds") == 0 && i + 1 < argc)
      max_seconds = strtol(argv[++i], NULL, 10);
    else {
      fprintf(stderr, "usage: shop [--listen HOST:PORT] [--port-file FILE] "
                      "[--max-seconds N]\n");
      return 2;
    }
  }
  /* libcashback: the configuration, once, at start-up. */
  cashback_options *opts = cashback_options_new();
  cashback_status st =
      opts ? cashback_options_load_connection_string(opts, DEMO_CONNECTION)
           : CASHBACK_E_NOMEM;
  if (st == CASHBACK_OK)
    st = cashback_options_load_env(opts);
  if (st != CASHBACK_OK) {
    fprintf(stderr, "shop: configuration: %s\n",
            opts ? cashback_options_last_error(opts) : "out of memory");
    cashback_options_free(opts);
    return 1;
  }
  cashback_client *c;
  char detail[CASHBACK_ERROR_MAX + 1];
  if (cashback_client_new(opts, &c, detail, sizeof(detail)) != CASHBACK_OK) {
    fprintf(stderr, "shop: configuration: %s\n", detail);
    return 1;
  }
  int port = 0, lfd = listen_on(listen_spec, &port);
  if (lfd < 0) {
    fprintf(stderr, "shop: cannot listen on %s: %s\n", listen_spec,
            strerror(errno));
    cashback_client_free(c);
    return 1;
  }
  if (port_file) {
    char tmp[4096];
    snprintf(tmp, sizeof(tmp), "%s.tmp", port_file);
    FILE *f = fopen(tmp, "w");
    if (!f || fprintf(f, "%d\n", port) < 0 || fclose(f) != 0 ||
        rename(tmp, port_file) != 0) {
      perror(port_file);
      close(lfd);
      cashback_client_free(c);
      return 1;
    }
  }
  struct sigaction sa = {0};
  sa.sa_handler = on_signal;
  sigaction(SIGTERM, &sa, NULL);
  sigaction(SIGINT, &sa, NULL);
  signal(SIGPIPE, SIG_IGN);
  time_t until = time(NULL) + max_seconds;
  while (!stopping && time(NULL) < until) {
    struct pollfd p = {lfd, POLLIN, 0};
    if (poll(&p, 1, 200) <= 0)
      continue;
    int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
    if (fd < 0)
      continue;
    serve(c, fd);
    close(fd);
  }
  close(lfd);
  if (port_file)
    unlink(port_file);
  cashback_client_free(c);
  return 0;
}
