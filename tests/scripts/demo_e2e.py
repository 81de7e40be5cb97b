#!/usr/bin/env python3
"""The end-to-end demo: a shop, a sender and the network on one machine.

Starts cashback-sandbox (the network) on 127.0.0.1 with an ephemeral port,
samples/shop (a tiny C shop on libcashback) and `cashback send --watch` (the
sender daemon), all with the embedded demo configuration (merchant demo-shop,
key demo-key-1) except the sandbox's port and a temporary spool. Then:
a shopper lands with a click token, checks out and pays; the sale is
reported, delivered and verified by the sandbox; a partial refund follows
(with the `cashback` command); the network goes down, two more sales are
reported and wait in the spool; the network comes back and they arrive.
Ends with the sandbox's totals, checked to the cent.

Usage: demo_e2e.py TOP_BUILDDIR [--verbose]
Exits 1 when a step fails, 77 when the programs are not built. Every
process it starts is stopped on the way out, whatever happens.
"""
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request

MERCHANT = "demo-shop"
KEY_ID = "demo-key-1"
SECRET = "demo-secret-0123456789abcdef"

verbose = False
procs = []


class StepFailed(Exception):
    pass


def say(text=""):
    if verbose:
        print(text, flush=True)


def check(cond, what):
    if not cond:
        raise StepFailed(what)


def http(method, url, cookie=None, data=None, timeout=10):
    """(status, headers, body text) of one request."""
    req = urllib.request.Request(url, method=method, data=data)
    if cookie:
        req.add_header("Cookie", cookie)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, r.headers, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read().decode()


def start(args, env, log):
    p = subprocess.Popen(args, env=env, stdout=log, stderr=subprocess.STDOUT)
    procs.append(p)
    return p


def stop(p, sig=signal.SIGTERM, wait=15):
    if p.poll() is None:
        p.send_signal(sig)
        try:
            p.wait(wait)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
    if p in procs:
        procs.remove(p)
    return p.returncode


def wait_port(path, proc, what):
    for _ in range(200):
        if os.path.exists(path) and open(path).read().strip():
            return int(open(path).read())
        if proc.poll() is not None:
            raise StepFailed("%s exited at start (status %s)" % (what, proc.returncode))
        time.sleep(0.05)
    raise StepFailed("%s did not start" % what)


def until(cond, seconds, what):
    """Polls cond() until true, for at most `seconds`."""
    end = time.time() + seconds
    while time.time() < end:
        v = cond()
        if v:
            return v
        time.sleep(0.2)
    raise StepFailed("%s (waited %d s)" % (what, seconds))


def main():
    global verbose
    build = sys.argv[1]
    verbose = "--verbose" in sys.argv[2:]
    sandbox = os.path.join(build, "plugins/sandbox/cashback-sandbox")
    shop_bin = os.path.join(build, "samples/shop")
    cli = os.path.join(build, "plugins/cli/cashback")
    for b in (sandbox, shop_bin, cli):
        if not os.access(b, os.X_OK):
            print("demo: %s is not built, skipped" % b)
            return 77
    tmp = tempfile.mkdtemp(prefix="cbdemo.")
    try:
        return run(tmp, sandbox, shop_bin, cli)
    except StepFailed:
        for name in ("processes.log", "sandbox.log"):
            path = os.path.join(tmp, name)
            if os.path.exists(path):
                print("demo: the last lines of %s:" % name, file=sys.stderr)
                for line in open(path).readlines()[-15:]:
                    print("   " + line.rstrip(), file=sys.stderr)
        raise
    finally:
        for p in list(procs):
            stop(p, signal.SIGKILL)
        subprocess.call(["rm", "-rf", tmp])


def run(tmp, sandbox, shop_bin, cli):
    env = {k: v for k, v in os.environ.items() if not k.startswith("CASHBACK_")}
    log = open(os.path.join(tmp, "processes.log"), "w")
    # The network.
    net = start([sandbox, "--listen", "127.0.0.1:0",
                 "--port-file", os.path.join(tmp, "sandbox.port"),
                 "--merchant", "%s:%s:%s" % (MERCHANT, KEY_ID, SECRET),
                 "--db", os.path.join(tmp, "sandbox.db"),
                 "--log", os.path.join(tmp, "sandbox.log"),
                 "--max-seconds", "300"], env, log)
    net_port = wait_port(os.path.join(tmp, "sandbox.port"), net, "the sandbox")
    network = "http://127.0.0.1:%d" % net_port
    # The shop and the sender: the embedded demo configuration, with the
    # sandbox's port, a temporary spool, and retries at most 2 s apart (the
    # default backs off up to 10 minutes; the demo should not wait that).
    env["CASHBACK_ENDPOINT"] = network + "/cashback/v1/events"
    env["CASHBACK_SPOOL_DIR"] = os.path.join(tmp, "spool")
    env["CASHBACK_BACKOFF_MAX"] = "2s"
    env["CASHBACK_CONNECTION"] = (
        "cashback:merchant_id=%s;key_id=%s;secret=%s;landing_params=@awin,cb_click"
        % (MERCHANT, KEY_ID, SECRET))
    shop = start([shop_bin, "--listen", "127.0.0.1:0",
                  "--port-file", os.path.join(tmp, "shop.port"),
                  "--max-seconds", "300"], env, log)
    shop_url = "http://127.0.0.1:%d" % wait_port(
        os.path.join(tmp, "shop.port"), shop, "the shop")
    sender = start([cli, "send", "--watch", "--stop-timeout", "5"], env, log)

    def cashback(*args):
        r = subprocess.run([cli] + list(args), env=env, capture_output=True,
                           text=True, timeout=60)
        if r.returncode != 0:
            raise StepFailed("cashback %s: exit %d: %s" % (
                " ".join(args), r.returncode, r.stderr.strip()))
        return r.stdout.strip()

    def totals():
        st, _, body = http("GET", network + "/api/totals")
        check(st == 200, "GET /api/totals answered %d" % st)
        for m in json.loads(body)["merchants"]:
            if m["merchant_id"] == MERCHANT:
                return m
        raise StepFailed("the sandbox lists no merchant %s" % MERCHANT)

    def order(oid):
        for o in totals()["orders"]:
            if o["order_id"] == oid:
                return o
        return None

    def log_lines(word):
        path = os.path.join(tmp, "sandbox.log")
        return [l.rstrip() for l in open(path) if word in l]

    say("   the network:  cashback-sandbox on %s (merchant %s, key %s)"
        % (network, MERCHANT, KEY_ID))
    say("   the shop:     samples/shop on %s, on libcashback" % shop_url)
    say("   the sender:   cashback send --watch, draining the shop's spool")
    say()
    say("0. Before opening: cashback doctor checks the setup, and sends a "
        "signed test event:")
    for l in cashback("doctor").splitlines():
        say("   " + l)

    def buy(title, token, oid, amount, page):
        say(title)
        st, headers, _ = http("GET", "%s%s?utm_source=cashback&cb_click=%s"
                              % (shop_url, page, token))
        set_cookie = headers.get("Set-Cookie") or ""
        check(st == 200 and set_cookie.startswith("cashback_click="),
              "the landing set no click cookie (%d, %r)" % (st, set_cookie))
        say("   GET %s?utm_source=cashback&cb_click=%s" % (page, token))
        say("   the shop answers Set-Cookie: %s..." % set_cookie[:72])
        cookie = set_cookie.split(";", 1)[0]
        say("   Checkout: the browser sends the cookie back, the shop reads "
            "the click:")
        st, _, body = http("GET", shop_url + "/checkout", cookie=cookie)
        click = json.loads(body)
        check(st == 200 and click.get("click") == token,
              "checkout did not read the click back: %s" % body.strip())
        say("   GET /checkout -> click token %s (from parameter %s), signature "
            "and age checked" % (click["click"], click["source"]))
        say("   Payment: order %s, %s EUR, is paid; the shop reports the sale:"
            % (oid, amount))
        st, _, body = http("POST", "%s/pay?order=%s&amount=%s&currency=EUR"
                           % (shop_url, oid, amount), cookie=cookie, data=b"")
        paid = json.loads(body)
        check(st == 200 and paid.get("reported"),
              "the sale of %s was not reported: %s" % (oid, body.strip()))
        say("   POST /pay -> stored in the spool as event %s" % paid["event_id"])
        return paid["event_id"]

    # 1-3: land, check out, pay.
    sale_id = buy("1. A shopper follows a cashback link to the shop:",
                  "clk_7f3a9c", "1001", "49.90", "/shoes/red")
    say("2. The sender delivers it; the network checks the signature and "
        "records the sale:")
    o = until(lambda: order("1001"), 20, "order 1001 did not reach the network")
    check(o["sale"] == 4990 and o["currency"] == "EUR" and not o["test"],
          "order 1001 recorded as %r" % o)
    lines = [l for l in log_lines("accepted") if "order=1001" in l]
    check(lines, "the sandbox logged no accepted sale of 1001")
    say("   sandbox: %s" % lines[0])
    say("   (signature verified with key %s; event id %s)" % (KEY_ID, sale_id))

    # 4: a partial refund, from the back office, with the cashback command.
    say("3. A partial refund of 15.00 EUR, from the shop's back office, with "
        "the cashback command:")
    args = ["report", "refund", "--order", "1001", "--amount", "15.00",
            "--currency", "EUR", "--refund-id", "CN-1001-1", "--reason",
            "returned"]
    refund_id = cashback(*args)
    say("   $ cashback %s" % " ".join(args))
    say("   %s" % refund_id)
    o = until(lambda: (order("1001") or {}).get("refunded") == 1500 and
              order("1001"), 20, "the refund did not reach the network")
    say("   delivered: the network now counts order 1001 as %s EUR net "
        "(49.90 - 15.00)" % o["net_decimal"])
    check(o["net"] == 3490, "order 1001 net is %r, want 3490" % o["net"])

    # 5: the network goes down.
    say("4. The network goes down.")
    st, _, body = http("POST", network + "/_admin/mode",
                       data=b'{"mode":"down"}')
    check(st == 200 and json.loads(body)["mode"] == "down",
          "the sandbox did not go down: %s" % body)
    buy("5. Another shopper buys while it is down:", "clk_b2d4e6", "1002",
        "25.00", "/bags/blue")
    buy("6. And another:", "clk_c3e5f7", "1003", "12.50", "/hats/green")
    say("7. The two sales wait in the spool, durably; the sender retries:")

    def queued_with_error():
        s = json.loads(cashback("status", "--json"))
        return s if s["queued_events"] == 2 and s["last_error"] else None
    s = until(queued_with_error, 20,
              "cashback status did not show 2 queued events and the error")
    say("   $ cashback status --json")
    say("   queued_events: %d, last_error: %s" % (s["queued_events"],
                                                  s["last_error"]))
    check(order("1002") is None and order("1003") is None,
          "orders 1002/1003 reached a network that is down")
    say("8. The network comes back, and the next retry delivers them:")
    st, _, _ = http("POST", network + "/_admin/mode", data=b'{"mode":"ok"}')
    check(st == 200, "the sandbox did not come back")
    until(lambda: order("1002") and order("1003"), 30,
          "orders 1002 and 1003 did not arrive after the network came back")
    for l in log_lines("accepted"):
        if "order=1002" in l or "order=1003" in l:
            say("   sandbox: %s" % l)
    s = json.loads(cashback("status", "--json"))
    check(s["queued_events"] == 0, "events left in the spool: %r" % s)
    say("   the spool is empty: nothing was lost")

    # The totals.
    say("9. The network's totals for %s:" % MERCHANT)
    m = totals()
    eur = [t for t in m["totals"] if t["currency"] == "EUR"]
    check(len(eur) == 1, "no EUR totals: %r" % m["totals"])
    t = eur[0]
    say("   %d orders, sales %s EUR, refunds %s EUR, net %s EUR"
        % (t["orders"], t["sales_decimal"], t["refunds_decimal"],
           t["net_decimal"]))
    for o in sorted(m["orders"], key=lambda o: o["order_id"]):
        say("   order %s: sale %s, refunded %s, net %s EUR%s"
            % (o["order_id"], o["sale_decimal"], o["refunded_decimal"],
               o["net_decimal"], " (a test: not counted)" if o["test"] else ""))
    check(t["orders"] == 3 and t["sales"] == 8740 and t["refunds"] == 1500
          and t["net"] == 7240, "totals are %r" % t)
    check(not m["recent_rejections"], "rejections: %r" % m["recent_rejections"])
    check(m["test_orders"] == 1, "test orders: %r" % m["test_orders"])

    # Stop everything cleanly: the sender with SIGTERM (its final flush).
    rc = stop(sender)
    check(rc == 0, "the sender daemon exited %s on SIGTERM" % rc)
    check(stop(shop) == 0, "the shop did not stop cleanly")
    check(stop(net) == 0, "the sandbox did not stop cleanly")
    say("   (the sender, the shop and the sandbox stopped cleanly)")
    return 0


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, lambda *a: sys.exit(1))
    try:
        sys.exit(main())
    except StepFailed as e:
        print("demo: FAILED: %s" % e, file=sys.stderr)
        sys.exit(1)
    except KeyboardInterrupt:
        sys.exit(1)
