#!/usr/bin/env python3
"""What mod_cashback adds to a response's latency (docs/performance.md,
"Apache: mod_cashback").

Called by bench/apache.sh. Two Apache httpd servers run side by side on
127.0.0.1, the same /usr/sbin/apache2, the same prefork configuration and
the same proxied python3 backend: one loads mod_cashback (a configuration
with the default sync durability, CashbackReport On where the paid orders
are, the default single sender delivering to bench/fast_receiver), the
other does not load it. One client sends, in turn, to each server over its
own keep-alive connection:
  - a paid order: the backend answers with an X-Cashback-Event header (a
    sale with a new order id each time, click_token); with the module the
    header is parsed, stored durably (fdatasync) and removed, without it
    it goes through to the client;
  - a plain request: a static file, no click, no header.
Both kinds, both servers, interleaved request by request, so that load on
a shared machine falls on both alike. Once a round it also appends a
record to a file beside the spool and fdatasyncs it: the disk's own price
of a durable report, in the same run. It prints key=value figures
(latency in microseconds: p50, p99 per kind and server, the added p50/p99,
the raw fdatasync p50/p99), checks that the module's server removed every header and that
every one of its sales reached the receiver, and exits 1 if not.

Usage: apache_bench.py WORK MODULE RECEIVER APACHE2 MODULES_DIR COUNT
"""
import http.client
import json
import os
import subprocess
import sys
import time

from apache_harness import (children_user, free_port, listening,
                            port_from_file, start, stop_all, wait_until,
                            write_private)

WORK, MODULE, RECEIVER, APACHE2, MODDIR = sys.argv[1:6]
COUNT = int(sys.argv[6])
WARMUP = max(20, COUNT // 20)
KEY, SECRET = "k1", "bench-secret-for-apache-0001"
def fail(what):
    print("apache bench: FAIL: %s" % what, file=sys.stderr)
    log = os.path.join(WORK, "error.log")
    if os.path.exists(log):
        with open(log, errors="replace") as f:
            sys.stderr.write("".join(f.readlines()[-20:]))
    stop_all()
    sys.exit(1)


def wait_for(cond, what, seconds=20):
    v = wait_until(cond, seconds)
    if not v:
        fail("timed out waiting for " + what)
    return v


os.chmod(WORK, 0o755)
run_as = children_user()
spool = os.path.join(WORK, "spool")
os.mkdir(spool, 0o700)
if run_as:
    os.chown(spool, run_as.pw_uid, run_as.pw_gid)

portfile = os.path.join(WORK, "receiver.port")
start([RECEIVER, "--port", "0", "--port-file", portfile, "--keys",
       "%s:%s" % (KEY, SECRET), "--max-seconds", "900"],
      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
receiver_port = port_from_file(portfile) or fail("no receiver port")
conf = os.path.join(WORK, "cashback.conf")
write_private(conf, "merchant_id = bench-shop\nkey_id = %s\nsecret = %s\n"
              "endpoint = http://127.0.0.1:%d/v1/events\nspool_dir = %s\n"
              % (KEY, SECRET, receiver_port, spool))

backend_port = free_port()
backend = os.path.join(WORK, "backend.py")
with open(backend, "w") as f:
    f.write(r'''
import sys, urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

class App(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body: two writes

    def log_message(self, *a):
        pass

    def do_GET(self):
        q = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(self.path).query))
        body = b"thank you\n"
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("X-Cashback-Event",
                         "type=sale;order_id=%s;amount=49.90;currency=EUR;"
                         "click_token=bench" % q["order"])
        self.end_headers()
        self.wfile.write(body)

ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), App).serve_forever()
''')
start([sys.executable, backend, str(backend_port)])
wait_for(lambda: listening(backend_port), "the backend", 10)
htdocs = os.path.join(WORK, "htdocs")
os.mkdir(htdocs)
with open(os.path.join(htdocs, "plain.html"), "w") as f:
    f.write("<p>a plain page</p>\n")


def server(name, with_module):
    root = os.path.join(WORK, name)
    os.mkdir(root)
    port = free_port()
    lines = [
        'ServerRoot "%s"' % root, 'DefaultRuntimeDir "%s"' % root,
        'PidFile "%s/httpd.pid"' % root,
        'ErrorLog "%s/error.log"' % WORK, "LogLevel warn",
        "Listen 127.0.0.1:%d" % port, "ServerName 127.0.0.1",
        'DocumentRoot "%s"' % htdocs,
        "LoadModule mpm_prefork_module %s/mod_mpm_prefork.so" % MODDIR,
        "StartServers 2", "MinSpareServers 2", "MaxSpareServers 4",
        "KeepAlive On", "MaxKeepAliveRequests 0",
    ]
    for m in ("authz_core", "proxy", "proxy_http"):
        lines.append("LoadModule %s_module %s/mod_%s.so" % (m, MODDIR, m))
    if run_as:
        lines += ["User %s" % run_as.pw_name, "Group #%d" % run_as.pw_gid]
    lines += ['<Location "/">', "Require all granted", "</Location>",
              "ProxyPass /app/ http://127.0.0.1:%d/app/ keepalive=On"
              % backend_port]
    if with_module:
        lines += ["LoadModule cashback_module %s" % MODULE,
                  "CashbackConfigFile %s" % conf,
                  '<Location "/app/">', "CashbackReport On", "</Location>"]
    path = os.path.join(root, "httpd.conf")
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
    p = start([APACHE2, "-f", path, "-DFOREGROUND"],
              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_for(lambda: listening(port) or p.poll() is not None,
             "apache2 (%s)" % name, 15)
    if p.poll() is not None:
        fail("apache2 (%s) did not start" % name)
    return port


ports = {"with": server("with", True), "without": server("without", False)}
conns = {k: http.client.HTTPConnection("127.0.0.1", p, timeout=30)
         for k, p in ports.items()}
leaked = {"with": 0, "without": 0}


def get(which, path):
    c = conns[which]
    t0 = time.perf_counter_ns()
    c.request("GET", path)
    r = c.getresponse()
    r.read()
    dt = (time.perf_counter_ns() - t0) / 1000.0
    if r.status != 200:
        fail("%s %s: %d" % (which, path, r.status))
    if r.getheader("X-Cashback-Event") is not None:
        leaked[which] += 1
    return dt


times = {(w, k): [] for w in ports for k in ("paid", "plain")}
# The disk's own price, in the same run: a record appended and
# fdatasync'ed in a file beside the spool, once per round.
raw = []
raw_fd = os.open(os.path.join(WORK, "raw"), os.O_WRONLY | os.O_CREAT
                 | os.O_APPEND, 0o600)
record = b"x" * 300 + b"\n"
order = 0
for i in range(WARMUP + COUNT):
    for kind in ("paid", "plain"):
        # which server goes first alternates too
        for which in (("with", "without") if i % 2 else ("without", "with")):
            if kind == "paid":
                order += 1
                dt = get(which, "/app/paid?order=%d" % order)
            else:
                dt = get(which, "/plain.html")
            if i >= WARMUP:
                times[(which, kind)].append(dt)
    t0 = time.perf_counter_ns()
    os.write(raw_fd, record)
    os.fdatasync(raw_fd)
    if i >= WARMUP:
        raw.append((time.perf_counter_ns() - t0) / 1000.0)
os.close(raw_fd)


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(p / 100.0 * len(xs)))]


def stats():
    c = http.client.HTTPConnection("127.0.0.1", receiver_port, timeout=10)
    c.request("GET", "/_stats")
    s = json.loads(c.getresponse().read())
    c.close()
    return s


sold = WARMUP + COUNT  # sales reported by the module's server
wait_for(lambda: stats().get("accepted", 0) >= sold,
         "the module's %d sales at the receiver" % sold, 60)
accepted = stats()["accepted"]
if leaked["with"]:
    fail("%d responses of the module's server carried the header"
         % leaked["with"])
if leaked["without"] != WARMUP + COUNT:
    fail("the server without the module removed headers: %r" % leaked)
print("apache.count=%d" % COUNT)
for (which, kind), xs in sorted(times.items()):
    for p in (50, 99):
        print("apache.%s_%s_p%d_us=%.0f" % (kind, which, p, pct(xs, p)))
for kind in ("paid", "plain"):
    for p in (50, 99):
        print("apache.%s_added_p%d_us=%.0f"
              % (kind, p, pct(times[("with", kind)], p)
                 - pct(times[("without", kind)], p)))
for p in (50, 99):
    print("apache.raw_fdatasync_p%d_us=%.0f" % (p, pct(raw, p)))
print("apache.delivered=%d" % accepted)
print("apache.reported=%d" % sold)
print("apache.leaked=%d" % leaked["with"])
stop_all()
