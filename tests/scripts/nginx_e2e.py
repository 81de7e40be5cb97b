#!/usr/bin/env python3
"""The nginx module under a real /usr/sbin/nginx, against cashback-sandbox.

Called by tests/scripts/nginx.sh. Everything on 127.0.0.1, in WORK: the
sandbox (the network), a python3 http.server backend (a proxied
application, also behind proxy_cache and proxy_hide_header), PHP under
php-fpm (FastCGI), and nginx (two workers) with a generated
self-contained configuration (`nginx -p WORK -c ...`, all *_temp_path in
WORK). Checks:
  1. configtest: the test configuration is valid; a bad directive value, a
     bad configuration file and an incomplete one fail `nginx -t`, naming
     the directive and the reason, never the secret;
  2. landing with a click (200, 301 from a server-level `return 301`, 404,
     a proxy_cache hit): the cookie is set exactly once, with
     Cache-Control: private; no click, no cookie;
  3. $cashback_click (the handle) reaches the proxied application through
     proxy_set_header, also on the landing request itself;
     $cashback_click_token is the bare token; a client's own click header
     is never passed on;
  4. paid orders (proxied): the header is gone from the response, the sale
     is delivered (the sandbox verifies it) with the click's capture time;
     a sale naming no click gets the cookie's; two events in one response
     both delivered; a reload gives the same event id (one order, a
     duplicate counted);
  5. the header where reporting is off: removed, not reported; with
     proxy_hide_header: still consumed and reported;
  6. a payment webhook with no cookie but click=<handle>: delivered with
     the landing's capture time;
  7. PHP through php-fpm: the handle in $_SERVER (fastcgi_param) and as
     HTTP_X_CASHBACK_CLICK, not the client's; two header() events both
     delivered; not reported where off; an SCGI and a uwsgi application
     (python, their wire protocols): the handle as a parameter, the
     header removed, the sale delivered with the cookie's click;
  8. the failure policy, with a spool at its cap (spool_max_bytes,
     cashback_sender off): the 503 location answers 503 (the application's
     body dropped), the pass location answers as the application did and
     logs why, the header removed from both;
  9. `nginx -s reload` during a load of paid orders: every order answered
     2xx arrives exactly once;
  11. the event loop never waits for the disk: with fdatasync() made
     600 ms slow (an LD_PRELOAD shim built by the test) and one worker, a
     paid order's response takes at least that long, and a page asked
     meanwhile is answered at once;
  10. kill -9 of workers (every 30-100 ms) during a load of 300 paid
     orders from 4 clients: no report header leaks, every order answered
     2xx arrives exactly once.
Every process it starts is stopped on exit; every wait is bounded.

Usage: nginx_e2e.py WORK MODULE SANDBOX NGINX
"""
import http.client
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "..", "bench"))
from apache_harness import (Checks, SandboxDb, handle_time, header_values,  # noqa
                            iso, request,  # noqa
                            children_user, free_port, listening, start,  # noqa
                            stop, stop_all, write_private)

WORK, MODULE, SANDBOX, NGINX = sys.argv[1:5]
SECRET = "s3cr3t-for-nginx-tests-00001"
T = Checks("nginx", WORK)
fail, check, wait_for = T.fail, T.check, T.wait_for


def cookies_of(headers):
    return [v for v in header_values(headers, "Set-Cookie")
            if v.startswith("cashback_click=")]


def log_text():
    try:
        with open(os.path.join(WORK, "error.log"), errors="replace") as f:
            return f.read()
    except OSError:
        return ""


# --- the sandbox, the backend, php-fpm ---------------------------------------
os.chmod(WORK, 0o755)
run_as = children_user()
if os.geteuid() == 0 and run_as is None:
    fail("running as root, and no user nobody or daemon for nginx's workers")


def own_dir(name):
    path = os.path.join(WORK, name)
    os.mkdir(path, 0o700)
    if run_as:
        os.chown(path, run_as.pw_uid, run_as.pw_gid)
    return path


spool = own_dir("spool")
db = os.path.join(WORK, "sandbox.db")
portfile = os.path.join(WORK, "sandbox.port")
start([SANDBOX, "--merchant", "shop-42:k1:" + SECRET, "--listen",
       "127.0.0.1:0", "--port-file", portfile, "--db", db, "--log",
       os.path.join(WORK, "sandbox.log"), "--max-seconds", "100"])
wait_for(lambda: os.path.exists(portfile) and open(portfile).read().strip(),
         "the sandbox's port file", 10)
sandbox_port = int(open(portfile).read())


conf = os.path.join(WORK, "cashback.conf")
CONF_TEXT = ("merchant_id = shop-42\nkey_id = k1\nsecret = %s\n"
             "endpoint = http://127.0.0.1:%d/cashback/v1/events\n"
             "spool_dir = %s\n" % (SECRET, sandbox_port, spool))
write_private(conf, CONF_TEXT)

backend_port = free_port()
backend = os.path.join(WORK, "backend.py")
with open(backend, "w") as f:
    f.write(r'''
import sys, urllib.parse
from http.server import BaseHTTPRequestHandler, HTTPServer
from socketserver import ThreadingMixIn

class Server(ThreadingMixIn, HTTPServer):
    daemon_threads = True

class App(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.0"

    def log_message(self, *a):
        pass

    def do_GET(self):
        u = urllib.parse.urlsplit(self.path)
        q = dict(urllib.parse.parse_qsl(u.query))
        click = self.headers.get("X-Cashback-Click", "")
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        if "order" in q:
            self.send_header("X-Cashback-Event",
                             "type=sale;order_id=%s;amount=19.90;currency=EUR;"
                             "click=%s" % (q["order"], q.get("click", click)))
        if "bare" in q:
            self.send_header("X-Cashback-Event",
                             "type=sale;order_id=%s;amount=9.90;currency=EUR"
                             % q["bare"])
        if "fill" in q:
            self.send_header("X-Cashback-Event",
                             "type=sale;order_id=fill-%s;amount=1.00;"
                             "currency=EUR;click_token=fill;meta.pad=%s"
                             % (q["fill"], "0" * 4000))
        self.end_headers()
        self.wfile.write(("click=%s\n" % click).encode())
        if "big" in q:  # a body larger than nginx's proxy buffers
            for i in range(int(q["big"])):
                self.wfile.write(b"%07d\n" % i)

Server(("127.0.0.1", int(sys.argv[1])), App).serve_forever()
''')
start([sys.executable, backend, str(backend_port)],
      stderr=open(os.path.join(WORK, "backend.log"), "w"))
wait_for(lambda: listening(backend_port), "the backend", 10)

# An SCGI and a uwsgi application (their wire protocols, as nginx's
# scgi_pass and uwsgi_pass speak them): ?order=N reports a sale naming no
# click; the body shows the CASHBACK_CLICK parameter.
scgi_port, uwsgi_port = free_port(), free_port()
gateway = os.path.join(WORK, "gateway.py")
with open(gateway, "w") as f:
    f.write(r"""
import socket, struct, sys, threading, urllib.parse

def answer(env):
    q = dict(urllib.parse.parse_qsl(env.get("QUERY_STRING", "")))
    head = "Content-Type: text/plain\r\n"
    if "order" in q:
        head += ("X-Cashback-Event: type=sale;order_id=%s;amount=7.00;"
                 "currency=EUR\r\n" % q["order"])
    return head, "click=%s\n" % env.get("CASHBACK_CLICK", "")

def read_n(c, n):
    b = b""
    while len(b) < n:
        d = c.recv(n - len(b))
        if not d:
            raise EOFError
        b += d
    return b

def scgi(c):
    n = b""
    while not n.endswith(b":"):
        n += read_n(c, 1)
    raw = read_n(c, int(n[:-1]) + 1)[:-1].split(b"\0")
    env = {raw[i].decode(): raw[i + 1].decode()
           for i in range(0, len(raw) - 1, 2)}
    head, body = answer(env)
    c.sendall(("Status: 200 OK\r\n" + head + "\r\n" + body).encode())

def uwsgi(c):
    _, size, _ = struct.unpack("<BHB", read_n(c, 4))
    data, env, i = read_n(c, size), {}, 0
    while i < len(data):
        (kl,) = struct.unpack("<H", data[i:i + 2]); i += 2
        k = data[i:i + kl].decode(); i += kl
        (vl,) = struct.unpack("<H", data[i:i + 2]); i += 2
        env[k] = data[i:i + vl].decode(); i += vl
    head, body = answer(env)
    c.sendall(("HTTP/1.0 200 OK\r\n" + head + "\r\n" + body).encode())

def serve(port, handler):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", port))
    s.listen(16)
    while True:
        c, _ = s.accept()
        def one(c=c):
            try:
                handler(c)
            except Exception:
                pass
            finally:
                c.close()
        threading.Thread(target=one, daemon=True).start()

threading.Thread(target=serve, args=(int(sys.argv[1]), scgi),
                 daemon=True).start()
serve(int(sys.argv[2]), uwsgi)
""")
start([sys.executable, gateway, str(scgi_port), str(uwsgi_port)],
      stderr=open(os.path.join(WORK, "gateway.log"), "w"))
wait_for(lambda: listening(scgi_port) and listening(uwsgi_port),
         "the SCGI and uwsgi applications", 10)

htdocs = os.path.join(WORK, "htdocs")
os.mkdir(htdocs)
with open(os.path.join(htdocs, "landing.html"), "w") as f:
    f.write("<p>landing</p>\n")
PHP_FPM = os.environ.get("PHP_FPM", "/usr/sbin/php-fpm8.2")
fpm_port = None
if os.access(PHP_FPM, os.X_OK):
    SHOP_PHP = r'''<?php
$click = $_SERVER['CASHBACK_CLICK'] ?? '';
if (isset($_GET['order']))
    header('X-Cashback-Event: type=sale;order_id=' . (int)$_GET['order']
           . ';amount=39.90;currency=EUR;click=' . $click, false);
if (isset($_GET['bare']))
    header('X-Cashback-Event: type=sale;order_id=' . (int)$_GET['bare']
           . ';amount=5.00;currency=EUR', false);
header('Content-Type: text/plain');
echo "click=$click\n";
echo "header=" . ($_SERVER['HTTP_X_CASHBACK_CLICK'] ?? '') . "\n";
'''
    os.mkdir(os.path.join(htdocs, "php"))
    for name in ("shop.php", "quiet.php"):
        with open(os.path.join(htdocs, "php", name), "w") as f:
            f.write(SHOP_PHP)
    fpm_port = free_port()
    fpm_conf = os.path.join(WORK, "php-fpm.conf")
    with open(fpm_conf, "w") as f:
        f.write("[global]\npid = %s/php-fpm.pid\nerror_log = %s/php-fpm.log\n"
                "daemonize = no\n[shop]\nlisten = 127.0.0.1:%d\n"
                "pm = static\npm.max_children = 2\n"
                % (WORK, WORK, fpm_port))
        if run_as:
            f.write("user = %s\ngroup = %d\n" % (run_as.pw_name,
                                                   run_as.pw_gid))
    start([PHP_FPM, "-n", "-F", "-y", fpm_conf])
    wait_for(lambda: listening(fpm_port), "php-fpm", 10)
else:
    print("nginx: note: no %s (Debian php8.2-fpm): the PHP checks are "
          "skipped" % PHP_FPM)
for d in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi", "cache"):
    own_dir("tmp-" + d)


def write_conf(path, port, port301, merchant=None, extra_http="",
               extra_server="", sender="on"):
    b = "http://127.0.0.1:%d" % backend_port
    php = ""
    if fpm_port:
        fcgi = ("fastcgi_pass 127.0.0.1:%d;\n"
                "fastcgi_param SCRIPT_FILENAME $document_root"
                "$fastcgi_script_name;\n"
                "fastcgi_param QUERY_STRING $query_string;\n"
                "fastcgi_param REQUEST_METHOD $request_method;\n"
                "fastcgi_param CASHBACK_CLICK $cashback_click;\n"
                "fastcgi_param HTTP_X_CASHBACK_CLICK $cashback_click;\n"
                % fpm_port)
        php = ("location = /php/shop.php { %s cashback_report on; }\n"
               "location = /php/quiet.php { %s }\n" % (fcgi, fcgi))
    text = """
load_module %(module)s;
daemon off;
master_process on;
worker_processes 2;
pid %(work)s/nginx.pid;
error_log %(work)s/error.log info;
%(user)s
events { worker_connections 512; }
http {
  access_log off;
  client_body_temp_path %(work)s/tmp-client_body;
  proxy_temp_path %(work)s/tmp-proxy;
  fastcgi_temp_path %(work)s/tmp-fastcgi;
  uwsgi_temp_path %(work)s/tmp-uwsgi;
  scgi_temp_path %(work)s/tmp-scgi;
  proxy_cache_path %(work)s/tmp-cache keys_zone=land:1m;
  cashback_config_file %(merchant)s;
  cashback_sender %(sender)s;
  proxy_set_header X-Cashback-Click $cashback_click;
  proxy_buffer_size 16k;
  proxy_buffers 8 16k;
  proxy_busy_buffers_size 32k;
  %(extra_http)s
  server {
    listen 127.0.0.1:%(port301)d;
    return 301 http://127.0.0.1:%(port)d/landing.html;
  }
  server {
    listen 127.0.0.1:%(port)d;
    root %(htdocs)s;
    location / { }
    location = /token { default_type text/plain;
                        return 200 "token=$cashback_click_token\\n"; }
    location /app/ { proxy_pass %(b)s; cashback_report on; }
    location /quiet/ { proxy_pass %(b)s/app/; }
    location /unbuf/ { proxy_pass %(b)s/app/; proxy_buffering off;
                       cashback_report on; }
    location /hidden/ { proxy_pass %(b)s/app/; cashback_report on;
                        proxy_hide_header X-Cashback-Event; }
    location /cached/ { proxy_pass %(b)s/app/; proxy_cache land;
                        proxy_cache_valid 200 1m;
                        add_header X-Cache $upstream_cache_status; }
    location /hook/ { proxy_pass %(b)s/app/; cashback_report on;
                      cashback_on_failure 503; }
    location /scgi/ { scgi_pass 127.0.0.1:%(scgi)d;
                      scgi_param QUERY_STRING $query_string;
                      scgi_param REQUEST_METHOD $request_method;
                      scgi_param CASHBACK_CLICK $cashback_click;
                      cashback_report on; }
    location /uwsgi/ { uwsgi_pass 127.0.0.1:%(uwsgi)d;
                       uwsgi_param QUERY_STRING $query_string;
                       uwsgi_param REQUEST_METHOD $request_method;
                       uwsgi_param CASHBACK_CLICK $cashback_click;
                       cashback_report on; }
    %(php)s
    %(extra_server)s
  }
}
""" % {"module": MODULE, "work": WORK, "merchant": merchant or conf,
       "user": "user %s %s;" % (run_as.pw_name, "nogroup") if run_as
       else "", "port": port, "port301": port301, "htdocs": htdocs,
       "b": b, "php": php, "extra_http": extra_http,
       "extra_server": extra_server, "sender": sender,
       "scgi": scgi_port, "uwsgi": uwsgi_port}
    with open(path, "w") as f:
        f.write(text)


def nginx_argv(path, *more):
    return [NGINX, "-p", WORK + "/", "-c", path, "-e",
            os.path.join(WORK, "error.log")] + list(more)


SANDBOX_DB = SandboxDb(db)
events_of, sales = SANDBOX_DB.events_of, SANDBOX_DB.sales
duplicates = SANDBOX_DB.duplicates


def start_nginx(path, port, name):
    log = open(os.path.join(WORK, "nginx-%s.out" % name), "w")
    p = start(nginx_argv(path), stdout=log, stderr=subprocess.STDOUT)
    log.close()
    wait_for(lambda: listening(port) or p.poll() is not None,
             "nginx (%s) to listen" % name, 15)
    return p


# --- 1. configtest -------------------------------------------------------------
def configtest(merchant=None, extra_server=""):
    path = os.path.join(WORK, "t.conf")
    write_conf(path, free_port(), free_port(), merchant,
               extra_server=extra_server)
    r = subprocess.run(nginx_argv(path, "-t"), capture_output=True,
                       text=True, timeout=30)
    return r.returncode, r.stdout + r.stderr


rc, out = configtest()
check(rc == 0, "configtest: the test configuration is valid", out)
rc, out = configtest(extra_server="location /x { cashback_on_failure 502; }")
check(rc != 0 and "cashback_on_failure" in out and '"502"' in out
      and "t.conf:" in out,
      "configtest: a bad cashback_on_failure is refused, naming it and "
      "where", out)
rc, out = configtest(extra_server="location /y { cashback_report maybe; }")
check(rc != 0 and "cashback_report" in out and "maybe" in out,
      "configtest: a bad cashback_report is refused, naming it", out)
rc, out = configtest(extra_server="location /z { cashback_report on; "
                                  "cashback_thread_pool nosuchpool; }")
check(rc != 0 and "nosuchpool" in out,
      "configtest: an undeclared cashback_thread_pool is refused, naming it",
      out)
os.environ.pop("CB_NGINX_TEST_CONN", None)
path = os.path.join(WORK, "t.conf")
write_conf(path, free_port(), free_port(),
           extra_http="cashback_connection_env CB_NGINX_TEST_CONN;")
r = subprocess.run(nginx_argv(path, "-t"), capture_output=True, text=True,
                   timeout=30)
out = r.stdout + r.stderr
check(r.returncode != 0 and "cashback_connection_env CB_NGINX_TEST_CONN" in out
      and "t.conf:" in out,
      "configtest: cashback_connection_env naming an unset variable fails, "
      "naming directive, variable and place", out)
bad = os.path.join(WORK, "bad.conf")
write_private(bad, "merchant_id = shop-42\nsecret = %s\nmerchnt = x\n" % SECRET)
rc, out = configtest(bad)
check(rc != 0 and "cashback_config_file" in out and "merchnt" in out
      and SECRET not in out,
      "configtest: an unknown key in the file fails, naming directive, "
      "file and key, not the secret", out)
incomplete = os.path.join(WORK, "incomplete.conf")
write_private(incomplete, "merchant_id = shop-42\n")
rc, out = configtest(incomplete)
check(rc != 0 and "cashback_config_file" in out,
      "configtest: an incomplete configuration fails, naming the directive",
      out)

# --- 2-7 ------------------------------------------------------------------------
port, port301 = free_port(), free_port()
main_conf = os.path.join(WORK, "nginx.conf")
write_conf(main_conf, port, port301)
ngx = start_nginx(main_conf, port, "main")
check(ngx.poll() is None, "nginx runs with the module, two workers")

landed = {}
for p_, path_, status, tok in ((port, "/landing.html", 200, "tokA"),
                               (port301, "/anything", 301, "tokB"),
                               (port, "/nothing-here", 404, "tokC")):
    st, hs, _ = request(p_, "%s?cb_click=%s" % (path_, tok))
    sc = cookies_of(hs)
    cc = ",".join(header_values(hs, "Cache-Control"))
    check(st == status and len(sc) == 1 and cc == "private",
          "landing %d sets the cookie once, Cache-Control: private" % status,
          "%d %r" % (st, hs))
    landed[status] = sc[0].split(";")[0]
cookie = landed[200]
st, hs, _ = request(port, "/landing.html")
check(not cookies_of(hs), "no click, no cookie", repr(hs))
st, hs, _ = request(port, "/cached/echo?cb_click=tokE")
st, hs, _ = request(port, "/cached/echo?cb_click=tokE")
check(header_values(hs, "X-Cache") == ["HIT"] and len(cookies_of(hs)) == 1
      and header_values(hs, "Cache-Control") == ["private"],
      "a proxy_cache hit on the landing page still sets the cookie",
      repr(hs))

st, _, body = request(port, "/app/echo?cb_click=tokD")
check(st == 200 and body.startswith("click=1.") and
      body.strip().endswith(".tokD"),
      "the proxied application sees the click it lands with", body)
st, _, body = request(port, "/app/echo", {"Cookie": cookie})
handle = body[len("click="):].strip()
check(handle.startswith("1.") and handle.endswith(".tokA"),
      "$cashback_click: the proxied application gets the cookie's handle",
      body)
st, _, body = request(port, "/token", {"Cookie": "x=1; " + cookie})
check(body == "token=tokA\n", "$cashback_click_token is the bare token", body)
st, _, body = request(port, "/app/echo",
                      {"X-Cashback-Click": "1.1.forged.cb_click.x"})
check(st == 200 and body == "click=\n",
      "a client's click header is not passed on", body)
st, _, body = request(port, "/app/echo",
                      {"X-Cashback-Click": "forged", "Cookie": cookie})
check(body == "click=%s\n" % handle,
      "... it is replaced by the verified one", body)

# paid orders
for path_, order, what in (("/app/paid?order=1001", "1001", "proxied"),
                           ("/hidden/paid?order=1002", "1002",
                            "proxy_hide_header"),
                           ("/quiet/paid?order=1003", "1003",
                            "reporting off"),
                           ("/app/two?order=1004&bare=1005", "1004",
                            "two events")):
    st, hs, body = request(port, path_, {"Cookie": cookie})
    check(st == 200 and not header_values(hs, "X-Cashback-Event")
          and body == "click=%s\n" % handle,
          "paid order (%s): 200, the application's body, the report header "
          "removed" % what, "%d %r %r" % (st, hs, body))
# A large body (past the proxy buffers, into a temporary file) and an
# unbuffered proxy: the response is held whole while the report is stored,
# then passed on intact.
for path_, order in (("/app/paid?order=1010&big=40000", "1010"),
                     ("/unbuf/paid?order=1011&big=40000", "1011")):
    st, hs, body = request(port, path_, {"Cookie": cookie})
    lines = body.split("\n")
    check(st == 200 and not header_values(hs, "X-Cashback-Event")
          and lines[0] == "click=" + handle and len(lines) == 40002
          and lines[40000] == "0039999",
          "paid order with a 320 KB body (%s): held, then passed on whole"
          % path_.split("/")[1], "%d %r %d" % (st, hs, len(lines)))
    evs = wait_for(lambda: sales(order), "the large page's sale")
    check(len(evs) == 1, "... and its sale delivered once", repr(evs))
time.sleep(1.1)  # the webhook's capture time must not be "now"
st, hs, body = request(port, "/hook/paid?order=1006&click=%s" % handle)
check(st == 200 and not header_values(hs, "X-Cashback-Event"),
      "webhook without cookie, click=<handle>: 200, header removed",
      "%d %r" % (st, hs))
for order, what in (("1001", "the proxied sale"),
                    ("1002", "the proxy_hide_header sale"),
                    ("1004", "the first of two events"),
                    ("1005", "the second, naming no click: the cookie's"),
                    ("1006", "the webhook's sale")):
    evs = wait_for(lambda: sales(order), what)
    ev = evs[0][1]
    check(len(evs) == 1 and ev["click"]["token"] == "tokA"
          and ev["click"]["captured_at"] == iso(handle_time(handle)),
          "%s is delivered once, with the click and its capture time" % what,
          repr(evs))
first_id = sales("1001")[0][0]
dups = duplicates()
st, hs, _ = request(port, "/app/paid?order=1001", {"Cookie": cookie})
check(st == 200 and not header_values(hs, "X-Cashback-Event"),
      "thank-you page reloaded")
wait_for(lambda: duplicates() > dups, "the reload's duplicate")
evs = sales("1001")
check(len(evs) == 1 and evs[0][0] == first_id,
      "the reload is the same event id, counted once", repr(evs))
check(not events_of("1003"),
      "the event where reporting is off was not reported")

if fpm_port:
    st, _, body = request(port, "/php/quiet.php",
                          {"Cookie": cookie, "X-Cashback-Click": "forged"})
    check(st == 200 and body == "click=%s\nheader=%s\n" % (handle, handle),
          "PHP (php-fpm) gets the handle in $_SERVER and as the header, not "
          "the client's", "%d %r" % (st, body))
    st, hs, _ = request(port, "/php/shop.php?order=1030&bare=1031",
                        {"Cookie": cookie})
    check(st == 200 and not header_values(hs, "X-Cashback-Event"),
          "PHP paid order with two header() events: 200, both removed",
          "%d %r" % (st, hs))
    st, hs, _ = request(port, "/php/quiet.php?order=1032", {"Cookie": cookie})
    check(st == 200 and not header_values(hs, "X-Cashback-Event"),
          "PHP where reporting is off: header removed")
    for order in ("1030", "1031"):
        evs = wait_for(lambda: sales(order), "PHP order %s" % order)
        check(len(evs) == 1 and evs[0][1]["click"]["token"] == "tokA",
              "PHP order %s delivered with the click" % order, repr(evs))
    check(not events_of("1032"), "PHP's event where off not reported")

for proto, order in (("scgi", "1040"), ("uwsgi", "1041")):
    st, hs, body = request(port, "/%s/x?order=%s" % (proto, order),
                           {"Cookie": cookie})
    check(st == 200 and not header_values(hs, "X-Cashback-Event")
          and body == "click=%s\n" % handle,
          "%s application: the handle as a parameter, the report header "
          "removed" % proto, "%d %r %r" % (st, hs, body))
    evs = wait_for(lambda: sales(order), "the %s sale" % proto)
    check(len(evs) == 1 and evs[0][1]["click"]["token"] == "tokA",
          "%s application's sale delivered with the cookie's click" % proto,
          repr(evs))

# --- 9. nginx -s reload during a load -------------------------------------------
RELOAD_ORDERS = 300
orders = list(range(5000, 5000 + RELOAD_ORDERS))
status = {}
lock = threading.Lock()


def client():
    while True:
        with lock:
            if not orders:
                return
            order = orders.pop(0)
        try:
            st, hs, _ = request(port, "/app/paid?order=%d" % order,
                                {"Cookie": cookie})
            if header_values(hs, "X-Cashback-Event"):
                st = -2
        except (OSError, http.client.HTTPException):
            st = -1
        with lock:
            status[order] = st


threads = [threading.Thread(target=client) for _ in range(4)]
for t in threads:
    t.start()
reloads = 0
while any(t.is_alive() for t in threads) and reloads < 5:
    time.sleep(0.1)
    subprocess.run(nginx_argv(main_conf, "-s", "reload"), timeout=20,
                   capture_output=True)
    reloads += 1
for t in threads:
    t.join(40)
ok = [o for o, s in status.items() if 200 <= s < 300]
check(len(status) == RELOAD_ORDERS and len(ok) == RELOAD_ORDERS
      and reloads >= 2,
      "reload: %d paid orders during %d reloads, all answered 2xx"
      % (len(status), reloads),
      repr(sorted((o, s) for o, s in status.items() if not 200 <= s < 300)))


def counts():
    c = sqlite3.connect("file:%s?mode=ro" % db, uri=True, timeout=5)
    try:
        rows = c.execute("SELECT order_id, COUNT(*) FROM events WHERE type = "
                         "'sale' AND CAST(order_id AS INTEGER) BETWEEN 5000 "
                         "AND 5999 GROUP BY order_id").fetchall()
    finally:
        c.close()
    return {int(o): n for o, n in rows}


wait_for(lambda: len(counts()) >= RELOAD_ORDERS, "every reload order", 30)
time.sleep(0.5)
cs = counts()
check(sorted(cs) == sorted(ok) and set(cs.values()) == {1},
      "reload: every order arrived exactly once, nothing lost",
      repr([o for o in ok if cs.get(o) != 1]))
# --- 10. kill -9 of workers during a load of paid orders -------------------------
def workers_of(pid):
    try:
        with open("/proc/%d/task/%d/children" % (pid, pid)) as f:
            kids = [int(x) for x in f.read().split()]
    except OSError:
        return []
    out = []
    for k in kids:
        try:
            with open("/proc/%d/cmdline" % k, "rb") as f:
                if b"worker process" in f.read():
                    out.append(k)
        except OSError:
            pass
    return out


KILL_ORDERS = 300
orders = list(range(6000, 6000 + KILL_ORDERS))
status = {}
kills = []
done = threading.Event()


def killer():
    import random
    rnd = random.Random(14)
    while not done.wait(rnd.uniform(0.03, 0.1)):
        ws = workers_of(ngx.pid)
        if ws:
            victim = rnd.choice(ws)
            try:
                os.kill(victim, signal.SIGKILL)
                kills.append(victim)
            except ProcessLookupError:
                pass


threads = [threading.Thread(target=client) for _ in range(4)]
k = threading.Thread(target=killer)
t0 = time.monotonic()
k.start()
for t in threads:
    t.start()
for t in threads:
    t.join(40)
done.set()
k.join(5)
ok = sorted(o for o, s in status.items() if 200 <= s < 300)
failed = sorted(o for o, s in status.items() if not 200 <= s < 300)
check(len(status) == KILL_ORDERS and len(kills) >= 3
      and len(ok) >= KILL_ORDERS // 2
      and not [o for o in failed if status[o] == -2],
      "kill -9: %d paid orders in %.1f s, %d workers killed: %d answered "
      "2xx, %d not, no header leaked" % (len(status), time.monotonic() - t0,
                                         len(kills), len(ok), len(failed)),
      repr(sorted(status.items())))


def kill_counts():
    c = sqlite3.connect("file:%s?mode=ro" % db, uri=True, timeout=5)
    try:
        rows = c.execute("SELECT order_id, COUNT(*) FROM events WHERE type = "
                         "'sale' AND CAST(order_id AS INTEGER) BETWEEN 6000 "
                         "AND 6999 GROUP BY order_id").fetchall()
    finally:
        c.close()
    return {int(o): n for o, n in rows}


wait_for(lambda: all(kill_counts().get(o) for o in ok),
         "every 2xx order of the kill -9 load", 30)
time.sleep(0.5)
cs = kill_counts()
check(not [o for o in ok if cs.get(o) != 1]
      and not [o for o in cs if o not in status],
      "kill -9: every order answered 2xx arrived exactly once (%d; and %d "
      "of the %d not answered 2xx)" % (len(ok), len([o for o in failed
                                                      if o in cs]),
                                       len(failed)),
      repr([o for o in ok if cs.get(o) != 1]))

text = log_text()
check("[crit]" not in text and SECRET not in text,
      "the error log has no crit and no secret (the kill -9 gives alerts)",
      "\n".join(l for l in text.splitlines() if "[crit]" in l)[-2000:])
stop(ngx)

# --- 11. the event loop never waits for the disk ---------------------------------
# One worker, its fdatasync() made 600 ms slow (an LD_PRELOAD shim built
# here): a paid order takes at least that long (its response waits for the
# durable report), and a static page asked meanwhile on the same worker is
# answered at once, not after it.
SLOW_MS = 600
slow_c = os.path.join(WORK, "slowsync.c")
with open(slow_c, "w") as f:
    f.write("""#define _GNU_SOURCE
#include <dlfcn.h>
#include <time.h>
int fdatasync(int fd) {
  static int (*real)(int);
  struct timespec ts = {0, %d000000L};
  if (!real)
    real = (int (*)(int))dlsym(RTLD_NEXT, "fdatasync");
  nanosleep(&ts, 0);
  return real(fd);
}
""" % SLOW_MS)
slow_so = os.path.join(WORK, "slowsync.so")
cc = os.environ.get("CC", "cc").split()
r = subprocess.run(cc + ["-shared", "-fPIC", "-o", slow_so, slow_c, "-ldl"],
                   capture_output=True, text=True, timeout=60)
check(r.returncode == 0, "a slow-fdatasync shim is built", r.stderr)
sport, sport301 = free_port(), free_port()
slow_conf = os.path.join(WORK, "nginx-slow.conf")
write_conf(slow_conf, sport, sport301)
with open(slow_conf) as f:
    text = f.read().replace("worker_processes 2;", "worker_processes 1;")
with open(slow_conf, "w") as f:
    f.write(text)
log = open(os.path.join(WORK, "nginx-slow.out"), "w")
ngx = start(nginx_argv(slow_conf), stdout=log, stderr=subprocess.STDOUT,
            env=dict(os.environ, LD_PRELOAD=slow_so))
log.close()
wait_for(lambda: listening(sport) or ngx.poll() is not None,
         "nginx (slow disk) to listen", 15)
request(sport, "/landing.html")  # the worker is up
paid = {}


def slow_paid():
    t = time.monotonic()
    st, hs, _ = request(sport, "/app/paid?order=1050", {"Cookie": cookie})
    paid["ms"] = (time.monotonic() - t) * 1000
    paid["st"] = st


t = threading.Thread(target=slow_paid)
t.start()
time.sleep(0.15)
t0 = time.monotonic()
st, _, _ = request(sport, "/landing.html")
page_ms = (time.monotonic() - t0) * 1000
page_during = "ms" not in paid
t.join(20)
check(paid.get("st") == 200 and paid["ms"] >= SLOW_MS,
      "slow disk: the paid order's response waits for its durable report "
      "(%.0f ms, fdatasync %d ms)" % (paid.get("ms", 0), SLOW_MS),
      repr(paid))
check(st == 200 and page_during and page_ms < SLOW_MS / 2,
      "slow disk: a page asked meanwhile on the same worker is answered in "
      "%.0f ms, while the report waits in the thread pool" % page_ms,
      "%d %.0f ms, during=%r" % (st, page_ms, page_during))
# A shopper who closes the connection while the report waits: the worker
# neither crashes nor loses the sale.
crashes = log_text().count("exited on signal")
sock = socket.create_connection(("127.0.0.1", sport), 5)
sock.sendall(("GET /app/paid?order=1051 HTTP/1.1\r\nHost: x\r\n"
              "Cookie: %s\r\n\r\n" % cookie).encode())
time.sleep(0.15)
sock.close()
time.sleep(SLOW_MS / 1000 + 0.3)
st, _, _ = request(sport, "/landing.html")
check(st == 200 and log_text().count("exited on signal") == crashes,
      "slow disk: a client gone while its report waits: the worker goes on")
evs = wait_for(lambda: sales("1051"), "the sale of the client that left")
check(len(evs) == 1, "... and its sale is stored and delivered", repr(evs))
stop(ngx)

# --- 8. the failure policy, with a full spool -----------------------------------
spool_full = own_dir("spool-full")
full = os.path.join(WORK, "full.conf")
write_private(full, CONF_TEXT.replace("spool_dir = %s\n" % spool,
                                     "spool_dir = %s\n" % spool_full)
             + "spool_max_bytes = 64k\n")
fport, fport301 = free_port(), free_port()
full_nginx = os.path.join(WORK, "nginx-full.conf")
write_conf(full_nginx, fport, fport301, full, sender="off")
ngx = start_nginx(full_nginx, fport, "full")
check(ngx.poll() is None, "full spool: nginx runs, no sender")
FULL = "the spool is full"
fills = refused = 0
while refused < 3 and fills < 64:
    before = log_text().count(FULL)
    st, hs, _ = request(fport, "/app/fill?fill=%d" % fills)
    if st != 200 or header_values(hs, "X-Cashback-Event"):
        fail("filling the spool: %d %r" % (st, hs))
    refused = refused + 1 if log_text().count(FULL) > before else 0
    fills += 1
check(refused == 3, "full spool: the spool reached its cap (%d events)"
      % (fills - 3))
# The cap is kept exactly across the workers (one shared count): what the
# large events left free may still take a small one, so the spool is topped
# up with sales the size of the paid one below (a four-character order id,
# the same amount and click handle) until they are refused too.
small = refused = 0
while refused < 3 and small < 64:
    before = log_text().count(FULL)
    st, hs, _ = request(fport, "/app/fill?order=t%03d&click=%s"
                        % (small, handle))
    if st != 200 or header_values(hs, "X-Cashback-Event"):
        fail("topping up the spool: %d %r" % (st, hs))
    refused = refused + 1 if log_text().count(FULL) > before else 0
    small += 1
check(refused == 3, "full spool: sales the size of the paid one are refused "
      "too (%d stored)" % (small - 3))
before = log_text().count(FULL)
st, hs, body = request(fport, "/hook/paid?order=1007&click=%s" % handle)
check(st == 503 and not header_values(hs, "X-Cashback-Event")
      and "click=" not in body and log_text().count(FULL) == before + 1,
      "full spool: the 503 location answers 503, header removed, the "
      "application's body dropped", "%d %r %r" % (st, hs, body))
st, hs, body = request(fport, "/app/paid?order=1008", {"Cookie": cookie})
check(st == 200 and not header_values(hs, "X-Cashback-Event")
      and body == "click=%s\n" % handle
      and log_text().count(FULL) == before + 2,
      "full spool: the pass location answers as the application did, "
      "header removed, and logs", "%d %r %r" % (st, hs, body))
text = log_text()
check("event not stored: the spool is full" in text and SECRET not in text,
      "full spool: the log line says why, without the secret")
stop(ngx)
stop_all()
print("%d passed, 0 failed" % T.passed)
