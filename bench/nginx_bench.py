#!/usr/bin/env python3
"""What the nginx module does to the worker's other requests while it
reports (docs/performance.md, "nginx: the thread pool").

Called by bench/nginx.sh. One nginx (the same /usr/sbin/nginx, ONE worker,
so every request is served by the same event loop) fronts a second nginx
that plays the application (its /paid answers at once with an
X-Cashback-Event header, a sale with the order id it is given). Two runs,
the same configuration except for the module:
  - with: load_module, `cashback_report on` for /paid (the default sync
    durability: every sale waits for fdatasync, in the thread pool),
    cashback_sender off (the spool only fills);
  - without: no module; the header goes through.
In each run LOADERS client processes send paid orders back to back (a
burst), while this process measures COUNT unrelated requests (a static
file) one after the other on its own keep-alive connection, then as many
paid orders alone. It prints key=value figures (microseconds): p50/p99 of
the unrelated requests during the burst and of the paid orders, per run,
and the raw write+fdatasync p50/p99 of the disk; it checks that the
module's run stored every sale it answered (spool files grew) and that no
header reached a client, and exits 1 if not.

Usage: nginx_bench.py WORK MODULE NGINX COUNT LOADERS
"""
import http.client
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from apache_harness import (children_user, free_port, listening, start,  # noqa
                            stop, stop_all, wait_until, write_private)

WORK, MODULE, NGINX = sys.argv[1:4]
COUNT, LOADERS = int(sys.argv[4]), int(sys.argv[5])


def fail(what):
    print("nginx bench: FAIL: %s" % what, file=sys.stderr)
    for name in ("error-with.log", "error-without.log"):
        log = os.path.join(WORK, name)
        if os.path.exists(log):
            with open(log, errors="replace") as f:
                sys.stderr.write("".join(f.readlines()[-20:]))
    stop_all()
    sys.exit(1)


os.chmod(WORK, 0o755)
run_as = children_user()
spool = os.path.join(WORK, "spool")
os.mkdir(spool, 0o700)
if run_as:
    os.chown(spool, run_as.pw_uid, run_as.pw_gid)
conf = os.path.join(WORK, "cashback.conf")
write_private(conf, "merchant_id = shop-42\nkey_id = k1\n"
              "secret = bench-secret-for-nginx-00001\n"
              "endpoint = http://127.0.0.1:9/cashback/v1/events\n"
              "spool_dir = %s\nspool_max_bytes = 1g\n" % spool)
htdocs = os.path.join(WORK, "htdocs")
os.mkdir(htdocs)
with open(os.path.join(htdocs, "page.html"), "w") as f:
    f.write("<p>an unrelated page</p>\n" * 20)
for d in ("body", "proxy", "fastcgi", "uwsgi", "scgi"):
    os.mkdir(os.path.join(WORK, "tmp-" + d))
    if run_as:
        os.chown(os.path.join(WORK, "tmp-" + d), run_as.pw_uid,
                 run_as.pw_gid)

COMMON = """daemon off;
worker_processes 1;
%(user)s
error_log %(work)s/error-%(name)s.log warn;
pid %(work)s/nginx-%(name)s.pid;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path %(work)s/tmp-body;
  proxy_temp_path %(work)s/tmp-proxy;
  fastcgi_temp_path %(work)s/tmp-fastcgi;
  uwsgi_temp_path %(work)s/tmp-uwsgi;
  scgi_temp_path %(work)s/tmp-scgi;
  keepalive_requests 100000;
  %(http)s
  server {
    listen 127.0.0.1:%(port)d;
    %(server)s
  }
}
"""


def nginx_conf(name, port, http, server, module=False):
    text = (("load_module %s;\n" % MODULE) if module else "") + COMMON % {
        "user": "user %s nogroup;" % run_as.pw_name if run_as else "",
        "work": WORK, "name": name, "port": port, "http": http,
        "server": server}
    path = os.path.join(WORK, "nginx-%s.conf" % name)
    with open(path, "w") as f:
        f.write(text)
    return path


def run_nginx(path, port):
    p = start([NGINX, "-p", WORK + "/", "-c", path, "-e",
               os.path.join(WORK, "stderr.log")])
    if not wait_until(lambda: listening(port) or p.poll() is not None, 15) \
            or p.poll() is not None:
        fail("nginx (%s) did not start" % path)
    return p


app_port = free_port()
run_nginx(nginx_conf("app", app_port, "", """
    location /paid {
      add_header X-Cashback-Event
        "type=sale;order_id=$arg_order;amount=19.90;currency=EUR;click_token=tok"
        always;
      return 200 "paid\\n";
    }"""), app_port)

LOADER = r'''
import http.client, os, sys
port, prefix, stop = int(sys.argv[1]), sys.argv[2], sys.argv[3]
c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
n = leaked = 0
while not os.path.exists(stop):
    c.request("GET", "/paid?order=%s-%d" % (prefix, n))
    r = c.getresponse()
    r.read()
    leaked += r.getheader("X-Cashback-Event") is not None
    n += 1
print(n, leaked)
'''
loader = os.path.join(WORK, "loader.py")
with open(loader, "w") as f:
    f.write(LOADER)


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(len(xs) * p / 100))]


def timed(conn, path, n):
    out, leaked = [], 0
    for i in range(n):
        t = time.perf_counter()
        conn.request("GET", path % i)
        r = conn.getresponse()
        r.read()
        out.append((time.perf_counter() - t) * 1e6)
        leaked += r.getheader("X-Cashback-Event") is not None
    return out, leaked


def measure(name, module):
    port = free_port()
    http_block = "cashback_config_file %s;\n  cashback_sender off;" % conf \
        if module else ""
    report = "cashback_report on;" if module else ""
    path = nginx_conf(name, port, http_block, """
    root %s;
    location = /page.html { }
    location /paid { proxy_pass http://127.0.0.1:%d; %s }
    """ % (htdocs, app_port, report), module)
    ngx = run_nginx(path, port)
    conn = http.client.HTTPConnection("127.0.0.1", port,
                                                   timeout=30)
    timed(conn, "/page.html?w=%d", 50)  # warm-up
    stopfile = os.path.join(WORK, "stop-" + name)
    loaders = [subprocess.Popen([sys.executable, loader, str(port),
                                 "%s%d" % (name, i), stopfile],
                                stdout=subprocess.PIPE, text=True)
               for i in range(LOADERS)]
    time.sleep(0.3)  # the burst is on
    during, leaked = timed(conn, "/page.html?u=%d", COUNT)
    with open(stopfile, "w"):
        pass
    outs = [p.communicate(timeout=60)[0].split() for p in loaders]
    burst = sum(int(o[0]) for o in outs)
    leaked += sum(int(o[1]) for o in outs)
    paid, leaked_paid = timed(conn, "/paid?order=" + name + "-alone-%d",
                              COUNT)
    conn.close()
    stop(ngx)
    return {"during_p50": pct(during, 50), "during_p99": pct(during, 99),
            "paid_p50": pct(paid, 50), "paid_p99": pct(paid, 99),
            "burst_orders": burst, "leaked": leaked + leaked_paid}


def raw_fdatasync(n):
    path = os.path.join(WORK, "raw.dat")
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    out = []
    for _ in range(n):
        t = time.perf_counter()
        os.write(fd, b"x" * 300)
        os.fdatasync(fd)
        out.append((time.perf_counter() - t) * 1e6)
    os.close(fd)
    return out


without = measure("without", False)
with_ = measure("with", True)
raw = raw_fdatasync(max(50, COUNT // 4))
if without["leaked"] != without["burst_orders"] + COUNT:
    fail("without the module the header should pass: %r" % without)
if with_["leaked"]:
    fail("a report header reached a client through the module")
stored = sum(len(fs) for _, _, fs in os.walk(spool))
if stored == 0:
    fail("the module stored nothing in %s" % spool)
for run, v in (("without", without), ("with", with_)):
    for k, x in v.items():
        print("nginx.%s_%s=%s" % (run, k, int(x)))
print("nginx.raw_fdatasync_p50_us=%d" % pct(raw, 50))
print("nginx.raw_fdatasync_p99_us=%d" % pct(raw, 99))
print("nginx.count=%d" % COUNT)
print("nginx.loaders=%d" % LOADERS)
stop_all()
