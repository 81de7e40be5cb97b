"""Drives a sample shop of samples/python served on 127.0.0.1 (python.sh):
every journey landing (with a click) -> checkout -> paid -> thank-you reload
-> refund, from 4 threads, then the spool flushed (the merchant's cron) and
checked at the test receiver: every sale and refund exactly once, the sale
with its click's token, nothing else.

    python_shops.py BASE_URL CONFIG RUN_ID JOURNEYS
    python_shops.py BASE_URL CONFIG RUN_ID load:SECONDS

With load:SECONDS, journeys without the refund run from 4 threads for that
long while the test kills workers (kill -9): a journey may fail, but every
order whose thank-you page answered 200 arrives exactly once, and no order
more than once.

The environment names the receiver (CB_TEST_RECEIVER, CB_TEST_STORE).
"""

import http.client
import json
import os
import itertools
import sys
import threading
import time
import urllib.parse
import urllib.request

import cashback

base, config, run, mode = sys.argv[1:5]
load = float(mode[5:]) if mode.startswith("load:") else None
n = 0 if load is not None else int(mode)
RECEIVER = os.environ["CB_TEST_RECEIVER"]
STORE = os.environ["CB_TEST_STORE"]
url = urllib.parse.urlsplit(base)
workers, failures = set(), []


def get(path, cookie=None):
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=20)
    conn.request("GET", path, headers={"Cookie": cookie} if cookie else {})
    r = conn.getresponse()
    body = r.read().decode()
    conn.close()
    workers.add(r.headers.get("X-Shop-Worker"))
    if r.status != 200:
        raise AssertionError("%s: %d %s" % (path, r.status, body[:200]))
    if r.headers.get("X-Cashback-Event") is not None:
        raise AssertionError("%s: the report header reached the shopper" % path)
    return r.headers, body


def journey(i, refund=True):
    order = "%s-%d" % (run, i)
    h, _ = get("/?cb_click=%s-tok" % order)
    sc = h.get("Set-Cookie") or ""
    if not sc.startswith("cashback_click=") or h.get("Cache-Control") != "private":
        raise AssertionError("landing: Set-Cookie %r, Cache-Control %r"
                             % (sc, h.get("Cache-Control")))
    pair = sc.split(";")[0]
    get("/checkout?order=%s&amount=%d.90" % (order, 10 + i), "a=b; " + pair)
    for _ in range(2):  # the thank-you page and its reload
        _, body = get("/paid?order=" + order, pair)
        if order not in body:
            raise AssertionError("paid: %r" % body)
    if refund:
        get("/refund?order=" + order)


paid, tried, counter = set(), [], itertools.count()


def worker(k):
    if load is not None:
        end = time.monotonic() + load
        while time.monotonic() < end:
            i = next(counter)
            tried.append(i)
            try:
                journey(i, refund=False)
                paid.add(i)
            except Exception:  # a killed worker: this order may be lost
                pass
        return
    for i in range(k, n, 4):
        try:
            journey(i)
        except Exception as e:  # reported below
            failures.append("journey %d: %s" % (i, e))


def stats():
    with urllib.request.urlopen(RECEIVER + "/_stats", timeout=10) as r:
        return json.load(r)


threads = [threading.Thread(target=worker, args=(k,)) for k in range(4)]
for t in threads:
    t.start()
for t in threads:
    t.join()
if failures:
    sys.exit("\n".join(failures))
if not cashback.Client(config).flush(30):
    sys.exit("the flush left events in the spool")
s = stats()
with open(STORE) as f:
    mine = [e for e in map(json.loads, filter(str.strip, f))
            if e.get("order_id", "").startswith(run + "-")]
bad = []
if load is not None:
    for i in tried:
        order = "%s-%d" % (run, i)
        sales = [e for e in mine if e["order_id"] == order]
        if len(sales) > 1 or (i in paid and len(sales) != 1):
            bad.append("%s (%s): %d sales" % (
                order, "paid" if i in paid else "failed", len(sales)))
    if len(paid) < 10:
        bad.append("only %d orders were paid" % len(paid))
    if bad:
        sys.exit("\n".join(bad))
    print("%d paid orders each arrived exactly once (%d journeys, %d failed "
          "on a killed worker, %d of those arrived)" % (
              len(paid), len(tried), len(tried) - len(paid),
              len({e["order_id"] for e in mine}) - len(paid)))
    sys.exit(0)
for i in range(n):
    order = "%s-%d" % (run, i)
    sales = [e for e in mine if e["order_id"] == order and e["type"] == "sale"]
    refunds = [e for e in mine if e["order_id"] == order and e["type"] == "refund"]
    if len(sales) != 1 or len(refunds) != 1:
        bad.append("%s: %d sales, %d refunds" % (order, len(sales), len(refunds)))
        continue
    if sales[0]["amount"] != (10 + i) * 100 + 90:
        bad.append("%s: amount %r" % (order, sales[0]["amount"]))
    token = s["clicks"].get(sales[0]["id"], {}).get("token")
    if token != order + "-tok":
        bad.append("%s: the sale's click token is %r" % (order, token))
if len(mine) != 2 * n:
    bad.append("%d events arrived for %d orders, expected %d" % (len(mine), n, 2 * n))
if bad:
    sys.exit("\n".join(bad))
print("%d orders, each sale and refund exactly once (the reload counted once), "
      "served by %d worker(s)" % (n, len(workers - {None})))
