#!/usr/bin/env python3
"""mod_cashback under a real Apache httpd, against cashback-sandbox.

Called by tests/scripts/apache.sh. Everything on 127.0.0.1, in WORK:
the sandbox (the network), a python3 http.server backend (a proxied
application), CGI scripts (a CGI shop), and /usr/sbin/apache2 with a
generated self-contained configuration, once per MPM given. Checks, per
MPM:
  1. landing with a click (200, 301 from Redirect, 404): the cookie is set
     exactly once, with Cache-Control: private;
  2. the verified click handle reaches the application: CGI environment
     and the request header of a proxied application, also on the landing
     request itself; a click header sent by the client is never passed on;
  3. a paid-order response (CGI and proxied) with X-Cashback-Event: the
     header is gone from the response, the sale is delivered to the sandbox
     (which verifies its signature) with the click's capture time; a reload
     gives the same event id (the sandbox counts a duplicate, one order);
  4. a payment webhook with no cookie but click=<handle>: delivered, with
     the capture time of the original landing;
  5. the header in a location without CashbackReport: removed, not reported;
  6. configtest: a bad directive value and a bad configuration file fail
     `apache2 -t`, naming the directive and the reason;
  7. subrequests and ErrorDocument responses: a thank-you page through
     mod_include with included CGI and proxied pages that carry the
     header, a static .shtml page including one, a 404 answered by an
     ErrorDocument that is the shop, a CGI's local redirect (Location:
     /path) after its sale, a proxied 500 replaced by an ErrorDocument
     (ProxyErrorOverride): the header never reaches the browser; the main
     request's sale (the redirected request's) is delivered once, the
     subrequests' are not reported;
  8. PHP through php-fpm (proxy_fcgi), and under prefork through mod_php:
     the click in $_SERVER and the header, not the client's; two events
     in one response (joined into one value by proxy_fcgi) both
     delivered; not reported where off;
  9. the failure policy (prefork, one child), with a spool at its cap
     (spool_max_bytes 64k, CashbackSender off): the 503 location answers
     503, the pass location answers 200 and logs, the header is removed
     from both; once `cashback send --watch` drained the spool, the retry
     is stored and the sale arrives exactly once;
  10. kill -9 (prefork): 200 paid orders from 4 clients (CGI and proxied),
     children killed with SIGKILL every 20-80 ms meanwhile: every order
     answered 2xx arrives exactly once; bounded to 40 s of load;
  11. who delivers: prefork and worker with the default CashbackSender
     (one sender for the whole server, a mod_watchdog singleton: one
     child logs it),
     event with CashbackSender child (every child), the full spool's
     CashbackSender off with `cashback send --watch` as Apache's User;
     after the kill -9 load the sender's child is killed and another
     takes over.
Every process it starts is stopped on exit; every wait is bounded.

Usage: apache_e2e.py WORK MODULE SANDBOX APACHE2 MODULES_DIR MPM...
"""
import http.client
import os
import signal
import sqlite3
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "..", "bench"))
from apache_harness import (Checks, SandboxDb, handle_time, header_values,  # noqa
                            iso, request,  # noqa
                            children_user, free_port, listening,  # noqa: E402
                            port_from_file, start, stop, stop_all,
                            write_private)

WORK, MODULE, SANDBOX, APACHE2, MODDIR = sys.argv[1:6]
CLI = os.environ["TEST_CASHBACK_CLI"]
MPMS = sys.argv[6:]
SECRET = "s3cr3t-for-apache-tests-0001"
T = Checks("apache", WORK)
fail, check, wait_for = T.fail, T.check, T.wait_for


def cookie_of(headers):
    """The click cookie's name=value, from the one Set-Cookie header."""
    sc = [v for v in header_values(headers, "Set-Cookie")
          if v.startswith("cashback_click=")]
    return sc


# --- the sandbox, the backend, the CGI shop ---------------------------------
os.chmod(WORK, 0o755)  # the children (User) run the scripts in it
run_as = children_user()
if os.geteuid() == 0 and run_as is None:
    fail("running as root, and no user nobody or daemon for Apache's User")
spool = os.path.join(WORK, "spool")
os.mkdir(spool, 0o700)
if run_as:
    os.chown(spool, run_as.pw_uid, run_as.pw_gid)

db = os.path.join(WORK, "sandbox.db")
portfile = os.path.join(WORK, "sandbox.port")
start([SANDBOX, "--merchant", "shop-42:k1:" + SECRET, "--listen",
       "127.0.0.1:0", "--port-file", portfile, "--db", db, "--log",
       os.path.join(WORK, "sandbox.log"), "--max-seconds", "120"])
sandbox_port = port_from_file(portfile) or fail("no sandbox port file")
conf = os.path.join(WORK, "cashback.conf")
write_private(conf, "merchant_id = shop-42\nkey_id = k1\nsecret = %s\n"
              "endpoint = http://127.0.0.1:%d/cashback/v1/events\n"
              "spool_dir = %s\n" % (SECRET, sandbox_port, spool))

backend_port = free_port()
backend = os.path.join(WORK, "backend.py")
with open(backend, "w") as f:
    f.write(r'''
import sys, urllib.parse
from http.server import BaseHTTPRequestHandler, HTTPServer

class App(BaseHTTPRequestHandler):
    def log_message(self, *a):
        pass

    def do_GET(self):
        u = urllib.parse.urlsplit(self.path)
        q = dict(urllib.parse.parse_qsl(u.query))
        click = self.headers.get("X-Cashback-Click", "")
        self.send_response(500 if u.path == "/app/fail" else 200)
        self.send_header("Content-Type", "text/plain")
        if u.path in ("/app/paid", "/app/fail"):
            self.send_header("X-Cashback-Event",
                             "type=sale;order_id=%s;amount=19.90;currency=EUR;"
                             "click=%s" % (q["order"], click))
        elif u.path == "/hook/paid":
            self.send_header("X-Cashback-Event",
                             "type=sale;order_id=%s;amount=29.90;currency=EUR;"
                             "click=%s" % (q["order"], q["click"]))
        self.end_headers()
        self.wfile.write(("click=%s\n" % click).encode())

HTTPServer(("127.0.0.1", int(sys.argv[1])), App).serve_forever()
''')
start([sys.executable, backend, str(backend_port)])
wait_for(lambda: listening(backend_port), "the backend", 10)

htdocs = os.path.join(WORK, "htdocs")
cgi = os.path.join(WORK, "cgi-bin")
os.mkdir(htdocs)
os.mkdir(cgi)

# PHP through php-fpm (Debian php8.2-fpm, which bootstrap installs) and
# proxy_fcgi: its own pool on 127.0.0.1, no php.ini.
PHP_FPM = os.environ.get("PHP_FPM", "/usr/sbin/php-fpm8.2")
fpm_port = None
phpdir = os.path.join(htdocs, "php")
if os.access(PHP_FPM, os.X_OK) and os.path.exists(
        os.path.join(MODDIR, "mod_proxy_fcgi.so")):
    os.mkdir(phpdir)
    SHOP_PHP = r'''<?php
// A PHP shop: ?order=N reports a sale with the click it was given,
// ?bare=N one naming no click (both: two events, two headers).
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
    for name in ("shop.php", "quiet.php"):
        with open(os.path.join(phpdir, name), "w") as f:
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
    print("apache: note: no %s or mod_proxy_fcgi (Debian php8.2-fpm): the "
          "PHP checks are skipped" % PHP_FPM)
# mod_php (Debian libapache2-mod-php8.2, which bootstrap installs), under
# prefork only (its build is not thread-safe): the same PHP shop, no
# php.ini (PHPIniDir is an empty directory).
MODPHP = os.path.join(MODDIR, "libphp8.2.so")
modphpdir = os.path.join(htdocs, "modphp")
if os.path.exists(MODPHP):
    os.mkdir(modphpdir)
    os.mkdir(os.path.join(WORK, "phpini"))
    for name in ("shop.php", "quiet.php"):
        with open(os.path.join(modphpdir, name), "w") as f:
            f.write(SHOP_PHP if fpm_port else "")
else:
    MODPHP = None
    print("apache: note: no %s (Debian libapache2-mod-php8.2): the mod_php "
          "checks are skipped" % os.path.join(MODDIR, "libphp8.2.so"))
with open(os.path.join(htdocs, "landing.html"), "w") as f:
    f.write("<p>landing</p>\n")
SHOP = r'''#!/bin/sh
# A CGI shop: shows the click it was given. ?order=N reports a sale with
# it, ?bare=N a sale that names no click, ?refund=N a refund.
arg() { printf '%s' "$QUERY_STRING" | sed -n "s/^$1=\([0-9]*\)$/\1/p"; }
order=$(arg order) bare=$(arg bare) refund=$(arg refund)
echo "Content-Type: text/plain"
[ -z "$order" ] ||
  echo "X-Cashback-Event: type=sale;order_id=$order;amount=49.90;currency=EUR;click=$CASHBACK_CLICK"
[ -z "$bare" ] ||
  echo "X-Cashback-Event: type=sale;order_id=$bare;amount=9.90;currency=EUR"
[ -z "$refund" ] ||
  echo "X-Cashback-Event: type=refund;order_id=$refund;amount=1.00;currency=EUR"
echo
echo "click=$CASHBACK_CLICK"
echo "header=$HTTP_X_CASHBACK_CLICK"
'''
with open(os.path.join(cgi, "fill.cgi"), "w") as f:
    f.write(r'''#!/bin/sh
# Fills a spool: ?n=N reports a sale of about 4 KiB, ?n=N&small one of
# about 100 bytes.
n=$(printf '%s' "$QUERY_STRING" | sed -n 's/^n=\([0-9]*\).*$/\1/p')
case $QUERY_STRING in *'&small') pad=0 ;; *) pad=$(printf '%04000d' 0) ;; esac
echo "Content-Type: text/plain"
echo "X-Cashback-Event: type=sale;order_id=fill-$n;amount=1.00;currency=EUR;click_token=fill;meta.pad=$pad"
echo
echo "filled $n"
''')
os.chmod(os.path.join(cgi, "fill.cgi"), 0o755)
with open(os.path.join(cgi, "ssi.cgi"), "w") as f:
    f.write(r'''#!/bin/sh
# A thank-you page put through mod_include: ?order=K&sub=M reports sale K
# and includes the shop's page of K again and of M, and the proxied
# application's page of M.
arg() { printf '%s' "$QUERY_STRING" | sed -n "s/^.*$1=\([0-9]*\).*$/\1/p"; }
order=$(arg order) sub=$(arg sub)
echo "Content-Type: text/html"
echo "X-Cashback-Event: type=sale;order_id=$order;amount=49.90;currency=EUR"
echo
echo "<p>thanks</p>"
echo "<!--#include virtual=\"/cgi-bin/shop.cgi?order=$order\" -->"
echo "<!--#include virtual=\"/cgi-bin/shop.cgi?bare=$sub\" -->"
echo "<!--#include virtual=\"/app/paid?order=$sub\" -->"
''')
with open(os.path.join(cgi, "redirect.cgi"), "w") as f:
    f.write(r'''#!/bin/sh
# Reports sale ?order=N and answers with a local redirect (mod_cgi serves
# /landing.html in its place).
n=$(printf '%s' "$QUERY_STRING" | sed -n 's/^order=\([0-9]*\)$/\1/p')
echo "X-Cashback-Event: type=sale;order_id=$n;amount=49.90;currency=EUR"
echo "Location: /landing.html"
echo
''')
for name in ("ssi.cgi", "redirect.cgi"):
    os.chmod(os.path.join(cgi, name), 0o755)
with open(os.path.join(htdocs, "sub.shtml"), "w") as f:
    f.write('<p>page</p>\n<!--#include virtual="/cgi-bin/shop.cgi'
            '?${QUERY_STRING}" -->\n')
for name in ("shop.cgi", "noreport.cgi"):
    path = os.path.join(cgi, name)
    with open(path, "w") as f:
        f.write(SHOP)
    os.chmod(path, 0o755)


def write_conf(path, mpm, port, extra="", merchant=None):
    lines = [
        'ServerRoot "%s"' % WORK,
        'DefaultRuntimeDir "%s"' % WORK,
        'PidFile "%s/httpd.pid"' % WORK,
        'ErrorLog "%s/error.log"' % WORK,
        "LogLevel warn cashback:info",
        "Listen 127.0.0.1:%d" % port,
        "ServerName 127.0.0.1",
        'DocumentRoot "%s"' % htdocs,
        "LoadModule mpm_%s_module %s/mod_mpm_%s.so" % (mpm, MODDIR, mpm),
    ]
    for m in ("authz_core", "alias", "cgi", "proxy", "proxy_http",
              "include") + (("proxy_fcgi",) if fpm_port else ()):
        lines.append("LoadModule %s_module %s/mod_%s.so" % (m, MODDIR, m))
    lines.append("LoadModule cashback_module %s" % MODULE)
    if run_as:
        lines += ["User %s" % run_as.pw_name, "Group #%d" % run_as.pw_gid]
    if mpm == "prefork" and MODPHP and fpm_port:
        lines += ["LoadModule php_module %s" % MODPHP,
                  'PHPIniDir "%s/phpini"' % WORK,
                  '<Directory "%s">' % modphpdir, '<FilesMatch "\\.php$">',
                  "SetHandler application/x-httpd-php", "</FilesMatch>",
                  "</Directory>",
                  '<Location "/modphp/shop.php">', "CashbackReport On",
                  "</Location>"]
    if mpm == "prefork":
        lines += ["StartServers 2", "MinSpareServers 1", "MaxSpareServers 4"]
    else:
        lines += ["StartServers 2", "ServerLimit 2", "ThreadsPerChild 8",
                  "MaxRequestWorkers 16"]
    lines += [
        "CashbackConfigFile %s" % (merchant or conf),
        '<Location "/">', "Require all granted", "</Location>",
        "Redirect 301 /go /landing.html",
        'ScriptAlias /cgi-bin/ "%s/"' % cgi,
        "ProxyPass /app/ http://127.0.0.1:%d/app/" % backend_port,
        "ProxyPass /hook/ http://127.0.0.1:%d/hook/" % backend_port,
        '<Location "/cgi-bin/shop.cgi">', "CashbackReport On", "</Location>",
        '<Location "/app/">', "CashbackReport On", "</Location>",
        '<Location "/hook/">', "CashbackReport On",
        "CashbackOnFailure 503", "</Location>",
        # subrequests (mod_include) and ErrorDocument responses
        '<Directory "%s">' % htdocs, "Options +Includes", "</Directory>",
        '<Directory "%s">' % cgi, "Options +Includes", "</Directory>",
        '<Files "*.shtml">', "SetOutputFilter INCLUDES", "</Files>",
        '<Location "/cgi-bin/ssi.cgi">', "CashbackReport On",
        "SetOutputFilter INCLUDES", "</Location>",
        '<Location "/sub.shtml">', "CashbackReport On", "</Location>",
        '<Location "/cgi-bin/redirect.cgi">', "CashbackReport On",
        "</Location>",
        '<Directory "%s">' % phpdir, '<FilesMatch "\\.php$">',
        'SetHandler "proxy:fcgi://127.0.0.1:%d"' % (fpm_port or 9),
        "</FilesMatch>", "</Directory>",
        '<Location "/php/shop.php">', "CashbackReport On", "</Location>",
        '<Location "/app/fail">', "CashbackReport On",
        "ProxyErrorOverride On", "ErrorDocument 500 /landing.html",
        "</Location>",
        extra,
    ]
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")


SANDBOX_DB = SandboxDb(db)
events_of, sales = SANDBOX_DB.events_of, SANDBOX_DB.sales
duplicates = SANDBOX_DB.duplicates


# --- 6. configtest ------------------------------------------------------------
def configtest(extra, conffile=None):
    path = os.path.join(WORK, "t.conf")
    write_conf(path, "prefork", free_port(), extra)
    if conffile is not None:
        text = open(path).read().replace(conf, conffile)
        with open(path, "w") as f:
            f.write(text)
    r = subprocess.run([APACHE2, "-t", "-f", path], capture_output=True,
                       text=True, timeout=30)
    return r.returncode, r.stdout + r.stderr


rc, out = configtest("")
check(rc == 0, "configtest: the test configuration is valid", out)
rc, out = configtest('<Location "/x">\nCashbackOnFailure 502\n</Location>')
check(rc != 0 and "CashbackOnFailure" in out and "'502'" in out,
      "configtest: a bad CashbackOnFailure is refused, naming it", out)
bad = os.path.join(WORK, "bad.conf")
write_private(bad, "merchant_id = shop-42\nmerchnt = x\n")
rc, out = configtest("", bad)
check(rc != 0 and "CashbackConfigFile" in out and "merchnt" in out
      and SECRET not in out,
      "configtest: an unknown key in the file fails, naming directive, "
      "file and key", out)
incomplete = os.path.join(WORK, "incomplete.conf")
write_private(incomplete, "merchant_id = shop-42\n")
rc, out = configtest("", incomplete)
check(rc != 0 and "CashbackConfigFile" in out,
      "configtest: an incomplete configuration fails, naming the directive",
      out)
rc, out = configtest("CashbackSender threads")
check(rc != 0 and "CashbackSender" in out and "'threads'" in out,
      "configtest: a bad CashbackSender is refused, naming it", out)


# --- 1-5 per MPM ----------------------------------------------------------------
def php_checks(mpm, port, base, cookie, handle, where, sapi, n):
    """The PHP shop at /WHERE/ (SAPI: php-fpm or mod_php): the handle in
    $_SERVER and the request header, not the client's; a paid order with
    two events (two header() calls): both headers removed, both sales
    delivered with the click; not reported where reporting is off."""
    php_order, php_bare = "%d%d" % (base, n), "%d%d" % (base, n + 1)
    php_quiet = "%d%d" % (base, n + 2)
    st, _, body = request(port, "/%s/quiet.php" % where,
                          {"Cookie": cookie, "X-Cashback-Click": "forged"})
    check(st == 200 and body == "click=%s\nheader=%s\n" % (handle, handle),
          "%s: PHP (%s) gets the handle in $_SERVER and the header, "
          "not the client's" % (mpm, sapi), "%d %r" % (st, body))
    st, hs, _ = request(port, "/%s/shop.php?order=%s&bare=%s"
                        % (where, php_order, php_bare), {"Cookie": cookie})
    check(st == 200 and not header_values(hs, "X-Cashback-Event"),
          "%s: PHP (%s) paid order with two events: 200, both headers "
          "removed" % (mpm, sapi), "%d %r" % (st, hs))
    st, hs, _ = request(port, "/%s/quiet.php?order=%s" % (where, php_quiet),
                        {"Cookie": cookie})
    check(st == 200 and not header_values(hs, "X-Cashback-Event"),
          "%s: PHP (%s) where reporting is off: header removed" % (mpm, sapi))
    for order in (php_order, php_bare):
        evs = wait_for(lambda: sales(order), "PHP (%s) order %s" % (sapi, order))
        ev = evs[0][1]
        check(len(evs) == 1 and ev["click"]["token"] == "tokA%d" % base
              and ev["click"]["captured_at"] == iso(handle_time(handle)),
              "%s: PHP (%s) order %s delivered with the click"
              % (mpm, sapi, order), repr(evs))
    check(not events_of(php_quiet),
          "%s: PHP (%s): the event where reporting is off not reported"
          % (mpm, sapi))


def run(mpm, base):
    port = free_port()
    path = os.path.join(WORK, "httpd-%s.conf" % mpm)
    # An ErrorDocument that is the shop: it reports a sale naming no click.
    # prefork and worker: the default single sender (mod_watchdog);
    # event: one in every child.
    sender = "CashbackSender child\n" if mpm == "event" else ""
    write_conf(path, mpm, port, sender + '<Location "/gone/">\n'
               'ErrorDocument 404 /cgi-bin/shop.cgi?bare=%d20\n</Location>'
               % base)
    log = open(os.path.join(WORK, "apache-%s.out" % mpm), "w")
    httpd = start([APACHE2, "-f", path, "-DFOREGROUND"], stdout=log,
                  stderr=subprocess.STDOUT)
    wait_for(lambda: listening(port) or httpd.poll() is not None,
             "apache2 (%s) to listen" % mpm, 15)
    check(httpd.poll() is None, "%s: apache2 runs" % mpm)

    # 1. landing: 200, 301, 404
    landed = {}
    for path_, status, tok in (("/landing.html", 200, "tokA"),
                               ("/go", 301, "tokB"),
                               ("/nothing-here", 404, "tokC")):
        st, hs, _ = request(port, "%s?cb_click=%s%s" % (path_, tok, base))
        sc = cookie_of(hs)
        cc = ",".join(header_values(hs, "Cache-Control"))
        check(st == status and len(sc) == 1 and "private" in cc,
              "%s: landing %d sets the cookie once, Cache-Control private"
              % (mpm, status), "%d %r" % (st, hs))
        landed[status] = sc[0].split(";")[0]
    cookie = landed[200]
    st, hs, _ = request(port, "/landing.html")
    check(not cookie_of(hs), "%s: no click, no cookie" % mpm, repr(hs))

    # 2. the click reaches the application
    st, _, body = request(port, "/cgi-bin/noreport.cgi?cb_click=tokD%s" % base)
    check(st == 200 and "click=1." in body and
          body.split("click=")[1].split("\n")[0].endswith(".tokD%s" % base),
          "%s: CGI sees the click it lands with" % mpm, body)
    st, _, body = request(port, "/cgi-bin/noreport.cgi", {"Cookie": cookie})
    handle = body.split("click=")[1].split("\n")[0]
    check(handle.startswith("1.") and handle.endswith(".tokA%s" % base)
          and "header=" + handle in body,
          "%s: CGI gets the cookie's handle (environment and header)" % mpm,
          body)
    st, _, body = request(port, "/app/echo", {"Cookie": cookie})
    check(st == 200 and body == "click=%s\n" % handle,
          "%s: the proxied application gets the handle" % mpm, body)
    st, _, body = request(port, "/app/echo",
                          {"X-Cashback-Click": "1.1.forged.cb_click.x"})
    check(st == 200 and body == "click=\n",
          "%s: a client's click header is not passed on" % mpm, body)
    st, _, body = request(port, "/app/echo",
                          {"X-Cashback-Click": "forged", "Cookie": cookie})
    check(body == "click=%s\n" % handle,
          "%s: ... it is replaced by the verified one" % mpm, body)
    st, _, body = request(port, "/cgi-bin/noreport.cgi",
                          {"X-Cashback-Click": "forged"})
    check("click=\n" in body and "header=\n" in body,
          "%s: ... and never reaches CGI" % mpm, body)

    # 3. paid orders, CGI and proxied; 5. a location without reporting
    cgi_order, app_order = "%d1" % base, "%d2" % base
    hook_order, quiet_order = "%d3" % base, "%d4" % base
    for path_, order in (("/cgi-bin/shop.cgi", cgi_order),
                         ("/app/paid", app_order)):
        st, hs, _ = request(port, "%s?order=%s" % (path_, order),
                            {"Cookie": cookie})
        check(st == 200 and not header_values(hs, "X-Cashback-Event"),
              "%s: paid order %s: 200, the report header removed"
              % (mpm, path_), repr(hs))
    st, hs, _ = request(port, "/cgi-bin/noreport.cgi?order=%s" % quiet_order,
                        {"Cookie": cookie})
    check(st == 200 and not header_values(hs, "X-Cashback-Event"),
          "%s: the header is removed where reporting is off" % mpm, repr(hs))
    # 4. the webhook: no cookie, the stored handle
    time.sleep(1.1)  # the capture time must not be mistaken for "now"
    st, hs, _ = request(port, "/hook/paid?order=%s&click=%s"
                        % (hook_order, handle))
    check(st == 200 and not header_values(hs, "X-Cashback-Event"),
          "%s: webhook answered, header removed" % mpm, repr(hs))

    # a sale that names no click gets the request's; a refund none; the
    # webhook's own handle wins over a cookie of another click
    bare_order, own_order = "%d5" % base, "%d6" % base
    st, hs, _ = request(port, "/cgi-bin/shop.cgi?bare=%s" % bare_order,
                        {"Cookie": cookie})
    check(st == 200 and not header_values(hs, "X-Cashback-Event"),
          "%s: a sale without click= answered, header removed" % mpm)
    st, hs, _ = request(port, "/hook/paid?order=%s&click=%s"
                        % (own_order, handle), {"Cookie": landed[301]})
    check(st == 200, "%s: webhook with another click's cookie" % mpm)
    st, hs, _ = request(port, "/cgi-bin/shop.cgi?refund=%s" % cgi_order,
                        {"Cookie": cookie})
    check(st == 200 and not header_values(hs, "X-Cashback-Event"),
          "%s: a refund answered, header removed" % mpm)

    for order in (cgi_order, app_order, hook_order, bare_order, own_order):
        evs = wait_for(lambda: sales(order), "order %s at the sandbox" % order)
        ev = evs[0][1]
        check(len(evs) == 1 and ev["click"]["token"] == "tokA%s" % base
              and ev["click"]["captured_at"] == iso(handle_time(handle)),
              "%s: order %s delivered, signature verified, with the click's "
              "capture time" % (mpm, order), repr(evs))
    refunds = wait_for(lambda: [e for _, e in events_of(cgi_order)
                                if e["type"] == "refund"], "the refund")
    check(len(refunds) == 1 and "click" not in refunds[0],
          "%s: the refund is delivered without the request's click" % mpm,
          repr(refunds))
    first_id = sales(cgi_order)[0][0]
    dups = duplicates()
    st, hs, _ = request(port, "/cgi-bin/shop.cgi?order=%s" % cgi_order,
                        {"Cookie": cookie})
    check(st == 200 and not header_values(hs, "X-Cashback-Event"),
          "%s: thank-you page reloaded" % mpm)
    wait_for(lambda: duplicates() > dups, "the reload's duplicate")
    evs = sales(cgi_order)
    check(len(evs) == 1 and evs[0][0] == first_id,
          "%s: the reload is the same event id, counted once" % mpm, repr(evs))
    check(not events_of(quiet_order),
          "%s: the non-reporting location's event was not reported" % mpm)

    # PHP through php-fpm (proxy_fcgi), and mod_php under prefork
    if fpm_port:
        php_checks(mpm, port, base, cookie, handle, "php", "php-fpm", 30)
    if fpm_port and MODPHP and mpm == "prefork":
        php_checks(mpm, port, base, cookie, handle, "modphp", "mod_php", 33)

    # 7. subrequests and ErrorDocument responses
    ssi_order, sub_order = "%d21" % base, "%d22" % base
    dups = duplicates()
    st, hs, body = request(port, "/cgi-bin/ssi.cgi?order=%s&sub=%s"
                           % (ssi_order, sub_order), {"Cookie": cookie})
    check(st == 200 and not header_values(hs, "X-Cashback-Event")
          and body.count("click=" + handle) == 3,
          "%s: SSI page with three included pages (CGI, proxied): no "
          "header reaches the browser" % mpm, "%d %r %r" % (st, hs, body))
    static_order = "%d23" % base
    st, hs, body = request(port, "/sub.shtml?bare=%s" % static_order,
                           {"Cookie": cookie})
    check(st == 200 and not header_values(hs, "X-Cashback-Event")
          and "click=" + handle in body,
          "%s: static SSI page including a paid-order page: no header"
          % mpm, "%d %r" % (st, hs))
    gone_order = "%d20" % base
    st, hs, body = request(port, "/gone/x", {"Cookie": cookie})
    check(st == 404 and not header_values(hs, "X-Cashback-Event")
          and "header=" + handle in body,
          "%s: 404 answered by an ErrorDocument that reports: no header"
          % mpm, "%d %r" % (st, hs))
    redirect_order, fail_order = "%d24" % base, "%d25" % base
    st, hs, body = request(port, "/cgi-bin/redirect.cgi?order=%s"
                           % redirect_order, {"Cookie": cookie})
    check(st == 200 and body == "<p>landing</p>\n"
          and not header_values(hs, "X-Cashback-Event"),
          "%s: a CGI's local redirect after its sale: the page, no header"
          % mpm, "%d %r" % (st, hs))
    st, hs, body = request(port, "/app/fail?order=%s" % fail_order,
                           {"Cookie": cookie})
    check(st == 500 and body == "<p>landing</p>\n"
          and not header_values(hs, "X-Cashback-Event"),
          "%s: a proxied 500 replaced by an ErrorDocument "
          "(ProxyErrorOverride): no header" % mpm, "%d %r" % (st, hs))
    for order, what in ((ssi_order, "the SSI page's own sale"),
                        (gone_order, "the ErrorDocument's sale"),
                        (redirect_order, "the sale before a CGI's local "
                         "redirect"),
                        (fail_order, "the sale of a replaced error page")):
        evs = wait_for(lambda: sales(order), what)
        check(len(evs) == 1 and evs[0][1]["click"]["token"] == "tokA%d" % base,
              "%s: %s is delivered once" % (mpm, what), repr(evs))
    time.sleep(0.3)
    check(duplicates() == dups and len(sales(ssi_order)) == 1,
          "%s: ... the SSI page's sale once, though an included page "
          "reported it again" % mpm, repr(sales(ssi_order)))
    check(not events_of(sub_order) and not events_of(static_order),
          "%s: the included pages' own sales are not reported "
          "(subrequests are not)" % mpm)
    # who delivered: one sender for the whole server, or one per child
    kids = children_of(httpd.pid)
    if mpm != "event":
        pids = sender_pids(path, "runs in this child")
        check(len(pids) == 1 and len(kids) >= 2,
              "%s: one sender for the whole server (a mod_watchdog "
              "singleton), in one of %d children" % (mpm, len(kids)),
              "%r %r" % (pids, kids))
    else:
        pids = sender_pids(path, "started in this child")
        check(len(set(pids)) >= 2 and not sender_pids(path, "runs in this"),
              "%s: CashbackSender child: a sender in every child (%d)"
              % (mpm, len(set(pids))), repr(pids))
    stop(httpd)
    check(httpd.returncode is not None, "%s: apache2 stopped" % mpm)
    log.close()


def sender_pids(conf_path, what):
    """The pids that logged "the sender of CONF_PATH:... WHAT"."""
    pids = []
    try:
        with open(os.path.join(WORK, "error.log"), errors="replace") as f:
            for line in f:
                if "the sender of %s:" % conf_path in line and what in line:
                    pids.append(int(line.split("[pid ")[1].split(":")[0]))
    except OSError:
        pass
    return pids


def children_of(pid):
    try:
        with open("/proc/%d/task/%d/children" % (pid, pid)) as f:
            return [int(x) for x in f.read().split()]
    except OSError:
        return []


def log_count(text):
    try:
        with open(os.path.join(WORK, "error.log"), errors="replace") as f:
            return f.read().count(text)
    except OSError:
        return 0


def start_httpd(path, mpm, port, name):
    log = open(os.path.join(WORK, "apache-%s.out" % name), "w")
    httpd = start([APACHE2, "-f", path, "-DFOREGROUND"], stdout=log,
                  stderr=subprocess.STDOUT)
    log.close()
    wait_for(lambda: listening(port) or httpd.poll() is not None,
             "apache2 (%s) to listen" % name, 15)
    return httpd


# --- 9. the failure policy, with a full spool -----------------------------------
def run_full(mpm, base):
    spool_full = os.path.join(WORK, "spool-full")
    os.mkdir(spool_full, 0o700)
    if run_as:
        os.chown(spool_full, run_as.pw_uid, run_as.pw_gid)
    full = os.path.join(WORK, "full.conf")
    with open(conf) as f:
        write_private(full, f.read().replace("spool_dir = %s\n" % spool,
                                             "spool_dir = %s\n" % spool_full)
                      + "spool_max_bytes = 64k\n")
    port = free_port()
    path = os.path.join(WORK, "httpd-full.conf")
    fill_loc = '<Location "/cgi-bin/fill.cgi">\nCashbackReport On\n</Location>'
    # One child: every request sees the same count of the spool.
    write_conf(path, mpm, port, "CashbackSender Off\nStartServers 1\n"
               "MinSpareServers 1\nMaxSpareServers 1\nMaxRequestWorkers 1\n"
               + fill_loc, full)
    httpd = start_httpd(path, mpm, port, "full")
    check(httpd.poll() is None, "full spool: apache2 runs, no sender")
    st, _, body = request(port, "/cgi-bin/noreport.cgi?cb_click=tokF%d" % base)
    handle = body.split("click=")[1].split("\n")[0]
    check(st == 200 and handle.endswith(".tokF%d" % base),
          "full spool: a click to report with", body)
    # Filled with 4 KiB sales until three in a row are refused, then with
    # small ones (smaller than the webhook's) until three are refused.
    full_msg = "the spool is full"
    fills = refused = last_stored = 0
    small = ""
    while refused < 3 and fills < 80:
        before = log_count(full_msg)
        st, hs, _ = request(port, "/cgi-bin/fill.cgi?n=%d%s" % (fills, small))
        if st != 200 or header_values(hs, "X-Cashback-Event"):
            fail("filling the spool: %d %r" % (st, hs))
        if log_count(full_msg) > before:
            refused += 1
            if refused == 3 and not small:
                small, refused = "&small", 0
        else:
            refused, last_stored = 0, fills
        fills += 1
    check(refused == 3,
          "full spool: the spool reached its cap (%d events)" % last_stored)
    hook_order, page_order = "%d7" % base, "%d8" % base
    before = log_count(full_msg)
    st, hs, body = request(port, "/hook/paid?order=%s&click=%s"
                           % (hook_order, handle))
    check(st == 503 and log_count(full_msg) == before + 1 and not header_values(hs, "X-Cashback-Event")
          and "click=" not in body,
          "full spool: the 503 location answers 503, header removed, the "
          "application's body dropped", "%d %r" % (st, hs))
    st, hs, body = request(port, "/cgi-bin/shop.cgi?order=%s" % page_order,
                           {"Cookie": "cashback_click=" + handle})
    check(st == 200 and not header_values(hs, "X-Cashback-Event")
          and "click=" + handle in body and log_count(full_msg) == before + 2,
          "full spool: the pass location answers as the application did, "
          "header removed, and logs", "%d %r" % (st, hs))
    with open(os.path.join(WORK, "error.log"), errors="replace") as f:
        text = f.read()
    check("event not stored: the spool is full: spool %s: full" % spool_full
          in text and SECRET not in text,
          "full spool: the log line says why, without the secret")
    check(not sender_pids(path, "sender"),
          "full spool: CashbackSender off: no child runs a sender")
    # `cashback send --watch` (the unit CashbackSender off is for), as
    # Apache's User, drains the spool; the provider retries until 2xx.
    env = dict(os.environ, CASHBACK_CONNECTION="cashback:merchant_id="
               "shop-42;key_id=k1;secret=%s;endpoint=http://127.0.0.1:%d/"
               "cashback/v1/events;spool_dir=%s;spool_max_bytes=64k"
               % (SECRET, sandbox_port, spool_full))
    who = {"user": run_as.pw_uid, "group": run_as.pw_gid,
           "extra_groups": []} if run_as else {}
    watch_log = open(os.path.join(WORK, "send-watch.out"), "w")
    watch = start([CLI, "send", "--watch", "--stop-timeout", "2"], env=env,
                  stdout=watch_log, stderr=subprocess.STDOUT, **who)
    watch_log.close()
    wait_for(lambda: len(events_of("fill-%d" % last_stored)) == 1
             or watch.poll() is not None,
             "cashback send --watch to drain the spool", 30)
    check(watch.poll() is None
          and len(events_of("fill-%d" % last_stored)) == 1,
          "full spool: `cashback send --watch` drained the spool")
    tries = 0
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        tries += 1
        st, hs, _ = request(port, "/hook/paid?order=%s&click=%s"
                            % (hook_order, handle))
        if st != 503:
            break
        time.sleep(0.2)
    check(st == 200 and not header_values(hs, "X-Cashback-Event"),
          "full spool: the provider's retry is answered 200 (try %d)" % tries,
          "%d %r" % (st, hs))
    evs = wait_for(lambda: sales(hook_order), "the retried webhook's sale")
    time.sleep(0.5)
    evs = sales(hook_order)
    check(len(evs) == 1 and evs[0][1]["click"]["token"] == "tokF%d" % base,
          "full spool: the webhook's sale arrives exactly once, nothing lost",
          repr(evs))
    check(not sales(page_order),
          "full spool: the pass location's sale was not stored (logged)")
    stop(httpd)
    stop(watch)
    check(watch.returncode == 0, "full spool: `cashback send --watch` stops "
          "cleanly on SIGTERM", "rc %r" % watch.returncode)


# --- 10. kill -9 of children during a load of paid orders ------------------------
KILL_ORDERS, KILL_CLIENTS, KILL_SECONDS = 200, 4, 40


def order_counts(lo, hi):
    """{order_id: events} of the sandbox for orders lo..hi-1 (numeric)."""
    c = sqlite3.connect("file:%s?mode=ro" % db, uri=True, timeout=5)
    try:
        rows = c.execute("SELECT order_id, COUNT(*) FROM events WHERE "
                         "type = 'sale' AND CAST(order_id AS INTEGER) "
                         "BETWEEN ? AND ? GROUP BY order_id",
                         (lo, hi - 1)).fetchall()
    finally:
        c.close()
    return {int(o): n for o, n in rows}


def run_kill(base):
    import random
    import threading
    port = free_port()
    path = os.path.join(WORK, "httpd-kill.conf")
    write_conf(path, "prefork", port, "StartServers 4\nMinSpareServers 4\n"
               "MaxSpareServers 8\nMaxRequestWorkers 16")
    httpd = start_httpd(path, "prefork", port, "kill")
    check(httpd.poll() is None, "kill -9: apache2 (prefork) runs")
    st, hs, _ = request(port, "/landing.html?cb_click=tokK%d" % base)
    cookie = cookie_of(hs)[0].split(";")[0]
    first = base * 1000
    dups = duplicates()
    orders = list(range(first, first + KILL_ORDERS))
    status = {}
    lock = threading.Lock()
    deadline = time.monotonic() + KILL_SECONDS
    done = threading.Event()

    def client():
        while time.monotonic() < deadline:
            with lock:
                if not orders:
                    return
                order = orders.pop(0)
            # Half through the CGI shop, half through the proxied app.
            url = ("/cgi-bin/shop.cgi?order=%d" if order % 2 else
                   "/app/paid?order=%d") % order
            try:
                st, hs, _ = request(port, url, {"Cookie": cookie})
                if header_values(hs, "X-Cashback-Event"):
                    st = -2  # a leaked header counts as a failure below
            except (OSError, http.client.HTTPException):
                st = -1
            with lock:
                status[order] = st

    kills = []

    def killer():
        rnd = random.Random(base)
        while not done.wait(rnd.uniform(0.02, 0.08)):
            kids = children_of(httpd.pid)
            if kids:
                victim = rnd.choice(kids)
                try:
                    os.kill(victim, signal.SIGKILL)
                    kills.append(victim)
                except ProcessLookupError:
                    pass

    t0 = time.monotonic()
    clients = [threading.Thread(target=client) for _ in range(KILL_CLIENTS)]
    k = threading.Thread(target=killer)
    k.start()
    for t in clients:
        t.start()
    for t in clients:
        t.join(KILL_SECONDS + 25)
    done.set()
    k.join(5)
    elapsed = time.monotonic() - t0
    ok = sorted(o for o, st in status.items() if 200 <= st < 300)
    failed = sorted(o for o, st in status.items() if not 200 <= st < 300)
    check(len(status) == KILL_ORDERS and len(kills) >= 5
          and len(ok) >= KILL_ORDERS // 2
          and not [o for o in failed if status[o] == -2],
          "kill -9: %d paid orders in %.1f s, %d children killed: %d "
          "answered 2xx, %d not" % (len(status), elapsed, len(kills),
                                    len(ok), len(failed)),
          repr(sorted(status.items())))
    # every order answered 2xx arrives, exactly once
    wait_for(lambda: all(order_counts(first, first + KILL_ORDERS).get(o)
                         for o in ok), "every 2xx order at the sandbox", 30)
    time.sleep(0.5)
    counts = order_counts(first, first + KILL_ORDERS)
    missing = [o for o in ok if counts.get(o) != 1]
    extra = [o for o in counts if o not in status]
    check(not missing and not extra,
          "kill -9: every order answered 2xx arrived exactly once (%d; "
          "and %d of the %d not answered 2xx; %d resent, counted as "
          "duplicates)" % (len(ok), len([o for o in failed if o in counts]),
                           len(failed), duplicates() - dups),
          "missing %r extra %r" % (missing, extra))
    # The child running the server's sender dies: another takes over
    # (mod_watchdog waits 10 s after taking the lock from a dead child).
    def alive(pid):
        try:
            os.kill(pid, 0)
            return True
        except ProcessLookupError:
            return False

    wait_for(lambda: alive(sender_pids(path, "runs in this child")[-1]),
             "a child running the sender", 20)
    before = sender_pids(path, "runs in this child")
    victim = before[-1]
    os.kill(victim, signal.SIGKILL)
    after_orders = list(range(first + KILL_ORDERS, first + KILL_ORDERS + 5))
    for order in after_orders:
        st, hs, _ = request(port, "/app/paid?order=%d" % order,
                            {"Cookie": cookie})
        if st != 200:
            fail("an order after the sender's child died: %d" % st)
    t1 = time.monotonic()
    wait_for(lambda: len(order_counts(first + KILL_ORDERS,
                                      first + KILL_ORDERS + 5)) == 5,
             "the orders after the sender's child died", 30)
    took = time.monotonic() - t1
    new = sender_pids(path, "runs in this child")[len(before):]
    check(new and victim not in new,
          "kill -9: the sender's child killed, another child took over "
          "(%.1f s to deliver)" % took, "%r %r" % (before, new))
    stop(httpd)


for i, mpm in enumerate(MPMS):
    run(mpm, 100 + i)
if "prefork" in MPMS:
    run_full("prefork", 200)
if "prefork" in MPMS:
    run_kill(300)
stop_all()
print("%d passed, 0 failed" % T.passed)
