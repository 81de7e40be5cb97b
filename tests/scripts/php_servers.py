#!/usr/bin/env python3
"""The PHP extension under php-fpm and Apache prefork with mod_php.

Called by tests/scripts/php-servers.sh (which builds the extension):
  php_servers.py WORK EXT SRCDIR PHP_FPM APACHE2 MODDIR MOD_PHP

Both servers get self-contained configurations in WORK, listen on
127.0.0.1, load the extension in their parent (before the fork, as a
production php.ini does) and run samples/php, as nobody when started as
root. The network is tests/receiver/receiver.py.
  1. php-fpm: a static pool of 4 workers, driven over FastCGI by cgi-fcgi
     (libfcgi-bin) behind a small HTTP relay here; the sample shop's
     landing, checkout, thank-you page and its reload, refund and cancel
     (tests/scripts/php_e2e.py), flushed with samples/php/flush.php as cron;
  2. the same under Apache prefork with mod_php (4 to 8 children);
  3. php-fpm with cashback.sender=1: 5 events queued, the workers killed
     and replaced, 40 requests to a page that calls no Cashback function:
     the new workers' sender threads deliver the 5 within 20 s;
  4. on php-fpm and mod_php, a short load of paid orders (checkout, then
     the thank-you page that reports the sale) from 4 clients while a
     random worker is killed with SIGKILL every 10-50 ms: every order whose
     thank-you page answered 200 with its event id arrives at the receiver
     exactly once;
  5. Apache with one child, two directories with their own
     cashback.spool_dir (php_value): 20 requests alternating between them
     make 2 clients, so 2 spool segments.
Bounded: 200 orders or 20 s of load per server.
"""
import http.client
import http.server
import json
import os
import pwd
import random
import shutil
import signal
import socketserver
import subprocess
import sys
import threading
import time
import urllib.parse

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "..", "bench"))
from apache_harness import free_port, listening  # noqa: E402

WORK, EXT, SRC, PHP_FPM, APACHE2, MODDIR, MOD_PHP = map(os.path.abspath,
                                                     sys.argv[1:8])
# A copy: the servers' user may not be able to read the source tree (a
# home directory 0700); the WooCommerce sample is not served.
SAMPLES = os.path.join(WORK, "samples")
shutil.copytree(os.path.join(SRC, "samples", "php"), SAMPLES,
                ignore=shutil.ignore_patterns("woocommerce"))
procs = []
passed = 0


def fail(what, detail=""):
    print("FAIL: %s %s" % (what, detail[:2000]))
    for name in ("php-fpm.log", "error.log", "receiver.log"):
        p = os.path.join(WORK, name)
        if os.path.exists(p):
            with open(p, errors="replace") as f:
                print("--- %s\n%s" % (name, f.read()[-3000:]))
    stop_all()
    print("%d passed, 1 failed" % passed)
    sys.exit(1)


def check(cond, what, detail=""):
    global passed
    if not cond:
        fail(what, detail)
    passed += 1
    print("ok %d - %s" % (passed, what))


def start(argv, **kw):
    p = subprocess.Popen(argv, start_new_session=True, **kw)
    procs.append(p)
    return p


def stop(p):
    if p.poll() is None:
        try:
            os.killpg(p.pid, signal.SIGTERM)
            p.wait(10)
        except ProcessLookupError:
            pass
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)
            p.wait(5)
    if p in procs:
        procs.remove(p)


def stop_all():
    for p in list(procs):
        stop(p)


def wait_for(cond, what, seconds=20):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        v = cond()
        if v:
            return v
        time.sleep(0.1)
    fail("timed out waiting for " + what)


def children_of(pid):
    try:
        with open("/proc/%d/task/%d/children" % (pid, pid)) as f:
            return [int(x) for x in f.read().split()]
    except OSError:
        return []


def get(port, path, cookie=None):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=20)
    conn.request("GET", path, headers={"Cookie": cookie} if cookie else {})
    r = conn.getresponse()
    body = r.read().decode("utf-8", "replace")
    conn.close()
    return r.status, r.headers, body


# --- the user the servers run as, the receiver, the configuration ------------
os.chmod(WORK, 0o755)
run_as = pwd.getpwnam("nobody") if os.geteuid() == 0 else None


def owned(path, mode):
    if run_as:
        os.chown(path, run_as.pw_uid, run_as.pw_gid)
    os.chmod(path, mode)


def as_shop_user(argv):
    """argv run as the servers' user (the spool is theirs)."""
    if not run_as:
        return argv
    return ["setpriv", "--reuid=%d" % run_as.pw_uid,
            "--regid=%d" % run_as.pw_gid, "--clear-groups"] + argv


KEY_ID, SECRET = "php-servers", "php-servers-secret-0123456789abcdef"
store = os.path.join(WORK, "store.jsonl")
port_file = os.path.join(WORK, "receiver.port")
start([sys.executable, os.path.join(SRC, "tests", "receiver", "receiver.py"),
       "--port", "0", "--port-file", port_file, "--keys",
       "%s:%s" % (KEY_ID, SECRET), "--store", store, "--log",
       os.path.join(WORK, "receiver.log"), "--max-seconds", "300"],
      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
wait_for(lambda: os.path.exists(port_file) and os.path.getsize(port_file),
         "the receiver")
with open(port_file) as f:
    rport = int(f.read())
RECEIVER = "http://127.0.0.1:%d" % rport
open(store, "a").close()


def merchant(name):
    """A spool, a configuration file (the servers' user's, 0600) and the
    shop's order directory for one server."""
    spool = os.path.join(WORK, "spool-" + name)
    data = os.path.join(WORK, "shop-" + name)
    conf = os.path.join(WORK, "cashback-%s.conf" % name)
    for d in (spool, data):
        os.mkdir(d)
        owned(d, 0o700)
    with open(conf, "w") as f:
        f.write("merchant_id = php-servers-%s\nkey_id = %s\nsecret = %s\n"
                "endpoint = %s/v1/events\nspool_dir = %s\n"
                "request_timeout = 10s\n"
                % (name, KEY_ID, SECRET, RECEIVER, spool))
    owned(conf, 0o600)
    return conf, data


def flush_cmd(conf):
    return as_shop_user(["php", "-n", "-d", "extension=" + EXT, "-d",
                         "cashback.config=" + conf,
                         os.path.join(SAMPLES, "flush.php")])


def e2e(name, port, conf, data):
    p = subprocess.run([sys.executable,
                        os.path.join(SRC, "tests", "scripts", "php_e2e.py"),
                        "http://127.0.0.1:%d" % port, RECEIVER, store, data,
                        "--"] + flush_cmd(conf),
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       text=True, timeout=90)
    last = (p.stdout.strip().splitlines() or [""])[-1]
    check(p.returncode == 0,
          "%s: the sample shop end to end (landing, checkout, thank-you and "
          "reload, refund, cancel): %s" % (name, last), p.stdout)


def sales_by_order():
    counts = {}
    with open(store) as f:
        for line in f:
            if line.strip():
                ev = json.loads(line)
                if ev.get("type") == "sale":
                    counts[ev["order_id"]] = counts.get(ev["order_id"], 0) + 1
    return counts


LOAD_ORDERS, LOAD_CLIENTS, LOAD_SECONDS = 200, 4, 20


def load_with_kills(name, port, parent_pid, conf, cookie):
    """Paid orders while workers are killed; every one answered arrives
    once."""
    todo = list(range(LOAD_ORDERS))
    paid, failed = [], []
    lock = threading.Lock()
    deadline = time.monotonic() + LOAD_SECONDS
    done = threading.Event()

    def client():
        while time.monotonic() < deadline:
            with lock:
                if not todo:
                    return
                todo.pop()
            try:
                st, hs, _ = get(port, "/checkout.php?sku=mug", cookie)
                loc = hs.get("Location") or ""
                if st != 302 or not loc.startswith("thankyou.php?order="):
                    raise OSError("checkout answered %d" % st)
                order = loc.rsplit("=", 1)[1]
                st, _, body = get(port, "/" + loc, cookie)
                if st != 200 or "cashback event " not in body:
                    raise OSError("thank-you answered %d" % st)
                with lock:
                    paid.append(order)
            except (OSError, http.client.HTTPException):
                with lock:
                    failed.append(1)

    kills = []

    def killer():
        rnd = random.Random(port)
        while not done.wait(rnd.uniform(0.01, 0.05)):
            kids = children_of(parent_pid)
            if kids:
                victim = rnd.choice(kids)
                try:
                    os.kill(victim, signal.SIGKILL)
                    kills.append(victim)
                except ProcessLookupError:
                    pass

    before = sales_by_order()
    t0 = time.monotonic()
    k = threading.Thread(target=killer)
    k.start()
    clients = [threading.Thread(target=client) for _ in range(LOAD_CLIENTS)]
    for t in clients:
        t.start()
    for t in clients:
        t.join(LOAD_SECONDS + 25)
    done.set()
    k.join(5)
    elapsed = time.monotonic() - t0
    check(len(kills) >= 3 and len(paid) >= LOAD_ORDERS // 3,
          "%s: kill -9: %d orders in %.1f s, %d workers killed: %d paid "
          "(thank-you page 200), %d not" % (name, len(paid) + len(failed),
                                             elapsed, len(kills), len(paid),
                                             len(failed)))
    wait_for(lambda: listening(port), "%s to answer again" % name, 10)
    for _ in range(3):  # a killed worker may hold the spool's lock a while
        p = subprocess.run(flush_cmd(conf), stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, text=True, timeout=60)
        if p.returncode == 0:
            break
    check(p.returncode == 0, "%s: kill -9: flush.php empties the spool"
          % name, p.stdout)
    after = sales_by_order()
    missing = [o for o in paid if after.get(o, 0) - before.get(o, 0) != 1]
    twice = [o for o, n in after.items() if n > 1]
    check(not missing and not twice,
          "%s: kill -9: every paid order arrived exactly once (%d)"
          % (name, len(paid)), "missing %r twice %r" % (missing, twice))


def landing_cookie(port):
    st, hs, _ = get(port, "/index.php?cb_click=load-tok.1")
    sc = [c for c in hs.get_all("Set-Cookie") or []
          if c.startswith("cashback_click=")]
    check(st == 200 and len(sc) == 1, "landing sets the click cookie",
          str(hs.items()))
    return sc[0].split(";", 1)[0]


# --- 1. php-fpm, over FastCGI with cgi-fcgi -----------------------------------
class Relay(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True


def fcgi_relay(fpm_port, docroot, shop_data):
    """An HTTP server that hands each GET to php-fpm with cgi-fcgi."""

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.0"

        def log_message(self, *a):
            pass

        def do_GET(self):
            u = urllib.parse.urlsplit(self.path)
            script = u.path.lstrip("/") or "index.php"
            env = {
                "GATEWAY_INTERFACE": "CGI/1.1", "REQUEST_METHOD": "GET",
                "SERVER_PROTOCOL": "HTTP/1.1", "SERVER_NAME": "127.0.0.1",
                "SERVER_PORT": str(self.server.server_port),
                "REMOTE_ADDR": "127.0.0.1", "DOCUMENT_ROOT": docroot,
                "SCRIPT_NAME": "/" + script, "REQUEST_URI": self.path,
                "SCRIPT_FILENAME": os.path.join(docroot, script),
                "QUERY_STRING": u.query, "CONTENT_LENGTH": "0",
                "SHOP_DATA": shop_data,
                "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            }
            if self.headers.get("Cookie"):
                env["HTTP_COOKIE"] = self.headers["Cookie"]
            try:
                p = subprocess.run(["cgi-fcgi", "-bind", "-connect",
                                    "127.0.0.1:%d" % fpm_port], env=env,
                                   stdin=subprocess.DEVNULL,
                                   stdout=subprocess.PIPE, timeout=20)
                out = p.stdout
            except subprocess.TimeoutExpired:
                out = b""
            head, sep, body = out.partition(b"\r\n\r\n")
            if not sep:
                self.send_error(502, "no answer from php-fpm")
                return
            status, headers = 200, []
            for line in head.decode("latin-1").split("\r\n"):
                k, _, v = line.partition(":")
                if k.lower() == "status":
                    status = int(v.split()[0])
                elif k:
                    headers.append((k, v.strip()))
            self.send_response(status)
            for k, v in headers:
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    srv = Relay(("127.0.0.1", 0), Handler)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return srv


def start_fpm(name, conf, extra_pool=""):
    port = free_port()
    path = os.path.join(WORK, "php-fpm-%s.conf" % name)
    with open(path, "w") as f:
        f.write("[global]\npid = %s/php-fpm-%s.pid\n"
                "error_log = %s/php-fpm.log\ndaemonize = no\n"
                "[shop]\nlisten = 127.0.0.1:%d\npm = static\n"
                "pm.max_children = 4\ncatch_workers_output = yes\n%s"
                % (WORK, name, WORK, port, extra_pool))
        if run_as:
            f.write("user = %s\ngroup = %d\n" % (run_as.pw_name,
                                                   run_as.pw_gid))
    # The extension in the master (loaded before the fork), no php.ini.
    fpm = start([PHP_FPM, "-n", "-d", "extension=" + EXT, "-d",
                 "cashback.config=" + conf, "-d", "cashback.auto_capture=1",
                 "-F", "-y", path], stdout=subprocess.DEVNULL,
                stderr=subprocess.STDOUT)
    wait_for(lambda: listening(port) or fpm.poll() is not None,
             "php-fpm (%s)" % name, 15)
    check(fpm.poll() is None and
          wait_for(lambda: len(children_of(fpm.pid)) == 4, "4 workers"),
          "php-fpm (%s): a static pool of 4 workers runs" % name)
    return fpm, port


conf, data = merchant("fpm")
fpm, fpm_port = start_fpm("shop", conf)
relay = fcgi_relay(fpm_port, SAMPLES, data)
e2e("php-fpm", relay.server_port, conf, data)
load_with_kills("php-fpm", relay.server_port, fpm.pid, conf,
                landing_cookie(relay.server_port))
stop(fpm)


# --- 2. php-fpm with cashback.sender=1: replaced workers deliver -------------
def cli(conf, code):
    """PHP code run as the servers' user with the extension and conf."""
    return subprocess.run(as_shop_user(
        ["php", "-n", "-d", "extension=" + EXT, "-d", "cashback.config=" +
         conf, "-r", code]), stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, text=True, timeout=60)


def queued(conf):
    p = cli(conf, 'echo Cashback\\status()["queued_events"];')
    return int(p.stdout.strip()) if p.returncode == 0 else -1


conf, data = merchant("sender")
plain = os.path.join(WORK, "plain")
os.mkdir(plain)
with open(os.path.join(plain, "plain.php"), "w") as f:
    f.write("<?php echo 'a page that calls no Cashback function';\n")
p = cli(conf, 'for ($i = 0; $i < 5; $i++) '
        'Cashback\\confirm(["order_id" => "sender-$i"]);')
check(p.returncode == 0 and queued(conf) == 5,
      "php-fpm (sender): 5 events queued by a process that is gone", p.stdout)
fpm, fpm_port = start_fpm("sender", conf,
                          "php_admin_value[cashback.sender] = 1\n")
relay = fcgi_relay(fpm_port, plain, data)
old_workers = children_of(fpm.pid)
for w in old_workers:
    os.kill(w, signal.SIGKILL)
wait_for(lambda: len(children_of(fpm.pid)) == 4 and
         not set(children_of(fpm.pid)) & set(old_workers),
         "4 new workers")
for _ in range(40):
    st, _, body = get(relay.server_port, "/plain.php")
    if st != 200:
        fail("plain.php answered %d" % st, body)
t0 = time.monotonic()
left = None
while time.monotonic() - t0 < 20:
    left = queued(conf)
    if left == 0:
        break
    time.sleep(0.2)
check(left == 0,
      "php-fpm (sender): after the workers were replaced, 40 plain requests "
      "(no Cashback call) started the new workers' sender threads: the 5 "
      "queued events delivered in %.1f s (%s left)"
      % (time.monotonic() - t0, left))
relay.shutdown()
stop(fpm)

# --- 3. Apache prefork with mod_php -------------------------------------------
inidir = os.path.join(WORK, "apache-php")
os.mkdir(inidir)


def start_httpd(name, conf, docroot, children, extra):
    """apache2 (prefork, mod_php) with its own php.ini: `children`
    children at the start, at most twice as many (one stays one)."""
    most = 2 * children if children > 1 else 1
    port = free_port()
    with open(os.path.join(inidir, "php.ini"), "w") as f:
        f.write("extension = %s\ncashback.config = %s\n"
                "cashback.auto_capture = 1\n" % (EXT, conf))
    lines = [
        'ServerRoot "%s"' % WORK, 'DefaultRuntimeDir "%s"' % WORK,
        'PidFile "%s/httpd.pid"' % WORK, 'ErrorLog "%s/error.log"' % WORK,
        "LogLevel warn", "Listen 127.0.0.1:%d" % port,
        "ServerName 127.0.0.1", 'DocumentRoot "%s"' % docroot,
        "LoadModule mpm_prefork_module %s/mod_mpm_prefork.so" % MODDIR,
        "LoadModule authz_core_module %s/mod_authz_core.so" % MODDIR,
        "LoadModule env_module %s/mod_env.so" % MODDIR,
        "LoadModule php_module %s" % MOD_PHP, 'PHPIniDir "%s"' % inidir,
        "StartServers %d" % children, "MinSpareServers %d" % children,
        "MaxSpareServers %d" % most, "ServerLimit %d" % most,
        "MaxRequestWorkers %d" % most,
        '<Directory "%s">' % docroot, "Require all granted", "</Directory>",
        '<FilesMatch "\\.php$">', "SetHandler application/x-httpd-php",
        "</FilesMatch>",
    ] + extra
    if run_as:
        lines += ["User %s" % run_as.pw_name, "Group #%d" % run_as.pw_gid]
    path = os.path.join(WORK, "httpd-%s.conf" % name)
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
    env = dict(os.environ, PHP_INI_SCAN_DIR="")  # only this php.ini
    httpd = start([APACHE2, "-f", path, "-DFOREGROUND"], env=env,
                  stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    wait_for(lambda: listening(port) or httpd.poll() is not None,
             "apache2 (%s) to listen" % name, 15)
    check(httpd.poll() is None and
          wait_for(lambda: len(children_of(httpd.pid)) >= children,
                   "%d children" % children),
          "apache2 (%s: prefork, mod_php): %d children run" % (name, children))
    return httpd, port


conf, data = merchant("apache")
httpd, port = start_httpd("shop", conf, SAMPLES, 4,
                          ["SetEnv SHOP_DATA %s" % data])
e2e("mod_php", port, conf, data)
load_with_kills("mod_php", port, httpd.pid, conf, landing_cookie(port))
stop(httpd)

# --- 5. per-directory settings that alternate on one Apache child ---------------
# Two directories, each with its own cashback.spool_dir (php_value), and one
# child: 20 requests alternating between them report 20 events with 2
# clients, so 2 spool segments (a client per switch made 20).
conf, data = merchant("perdir")
altroot = os.path.join(WORK, "perdir")
extra = []
for d in ("a", "b"):
    os.makedirs(os.path.join(altroot, d))
    spool = os.path.join(WORK, "spool-perdir-" + d)
    os.mkdir(spool)
    owned(spool, 0o700)
    with open(os.path.join(altroot, d, "report.php"), "w") as f:
        f.write("<?php echo Cashback\\confirm(['order_id' => "
                "'perdir-' . $_GET['n']]);\n")
    extra += ['<Directory "%s">' % os.path.join(altroot, d),
              "php_value cashback.spool_dir %s" % spool, "</Directory>"]
httpd, port = start_httpd("perdir", conf, altroot, 1, extra)
kids = set()
for n in range(20):
    st, _, body = get(port, "/%s/report.php?n=%d" % ("ab"[n % 2], n))
    if st != 200 or len(body.strip()) != 32:
        fail("perdir: report.php answered %d" % st, body)
    kids |= set(children_of(httpd.pid))
segments = [f for d in ("a", "b")
            for f in os.listdir(os.path.join(WORK, "spool-perdir-" + d))
            if f.startswith("seg-") and f.endswith(".log")]
check(len(kids) == 1 and len(segments) == 2,
      "mod_php: 20 requests alternating between two directories' "
      "cashback.spool_dir on one child: %d spool segments (%d children)"
      % (len(segments), len(kids)))
stop(httpd)

stop_all()
print("%d passed, 0 failed" % passed)
