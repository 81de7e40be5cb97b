#!/usr/bin/env python3
"""Drives a running cashback-sandbox for tests/scripts/sandbox.sh.

    sandbox_client.py before-restart PORT   accepted, duplicate, rejections,
                                            signatures, merchants, bodies,
                                            a refund, a cancel, a test event,
                                            the page and its escaping
    sandbox_client.py after-restart PORT    dedupe survived, totals, the
                                            fault modes (started in 503)
    sandbox_client.py mode PORT MODE        sets the fault mode
    sandbox_client.py totals PORT           prints shop-42's totals (JSON)
    sandbox_client.py cross-merchant PORT   dedupe and ids per merchant
    sandbox_client.py unauthenticated PORT  signature before the body; an
                                            unknown merchant like a bad
                                            signature
    sandbox_client.py overflow PORT         totals past 64 bits
    sandbox_client.py slow-clients PORT     80 trickling connections
    sandbox_client.py request-deadline PORT a trickler cut off (started
                                            with --request-timeout 2)
    sandbox_client.py slow-stop PORT PID    SIGTERM during a slow answer
    sandbox_client.py unsigned-bodies PORT PID
                                            bodies no key can sign are not
                                            kept in memory
    sandbox_client.py make-v1-db FILE       a database of schema 1
    sandbox_client.py migrated PORT         that database, migrated

Everything it sends is signed here with hmac/hashlib, as docs/protocol.md
says, independently of the C SDK. Exits 1 on the first failed check.
"""
import hashlib
import hmac
import http.client
import json
import socket
import sys
import time
import urllib.error
import urllib.request

SHOP, KEY, SECRET = "shop-42", "k1", "s3cr3t-for-tests-only-0001"
KEY2, SECRET2 = "k2", "s3cr3t-for-tests-only-0002"  # shop-42's second key
OTHER, OTHER_KEY, OTHER_SECRET = "shop-7", "k7", "another-secret-for-shop-7"
TIMES = {"reported_at": "2026-11-23T18:41:57Z",
         "order_time": "2026-11-23T19:41:50+01:00"}
ODD_ORDER = "<i>\"&'x"  # printable ASCII without space: a valid order id

PORT = 0
checks = 0


def fail(msg):
    print(f"sandbox_client: FAIL: {msg}", file=sys.stderr)
    sys.exit(1)


def check(cond, msg):
    global checks
    checks += 1
    if not cond:
        fail(msg)


def event_id(merchant, kind, order, refund_id=None):
    parts = [b"cashback-event-v1", merchant.encode(), kind.encode(),
             order.encode()]
    if refund_id is not None:
        parts.append(refund_id.encode())
    return hashlib.sha256(b"\x00".join(parts)).digest()[:16].hex()


def sale(order, amount, currency="EUR", merchant=SHOP, **extra):
    ev = {"id": event_id(merchant, "sale", order), "type": "sale",
          "order_id": order, **TIMES, "click": {"token": "tok_9f8e7d"},
          "amount": amount, "currency": currency}
    ev.update(extra)
    return ev


def refund(order, refund_id, amount, currency="EUR", **extra):
    ev = {"id": event_id(SHOP, "refund", order, refund_id), "type": "refund",
          "order_id": order, **TIMES, "refund_id": refund_id,
          "amount": amount, "currency": currency}
    ev.update(extra)
    return ev


def cancel(order, **extra):
    ev = {"id": event_id(SHOP, "cancel", order), "type": "cancel",
          "order_id": order, **TIMES, "reason": "fraud"}
    ev.update(extra)
    return ev


def confirm(order, amount=None, currency=None):
    ev = {"id": event_id(SHOP, "confirm", order), "type": "confirm",
          "order_id": order, **TIMES}
    if amount is not None:
        ev.update(amount=amount, currency=currency)
    return ev


def body_of(events, merchant=SHOP):
    return json.dumps({"protocol": 1, "merchant_id": merchant,
                       "sent_at": "2026-11-23T18:42:00Z", "events": events},
                      separators=(",", ":")).encode()


def signature(body, keys=((KEY, SECRET),), t=None):
    t = int(time.time()) if t is None else t
    items = [f"t={t}"]
    for key_id, secret in keys:
        mac = hmac.new(secret.encode(), b"v1:%d:" % t + body,
                       hashlib.sha256).hexdigest()
        items.append(f"v1={key_id}:{mac}")
    return ",".join(items)


def request(method, path, body=None, headers=None, timeout=10):
    """(status, headers, body bytes) of one request."""
    req = urllib.request.Request(f"http://127.0.0.1:{PORT}{path}", data=body,
                                 method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, r.headers, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read()


def post(events=None, body=None, sig=None, merchant=SHOP, timeout=10):
    if body is None:
        body = body_of(events, merchant)
    headers = {"Content-Type": "application/json"}
    if sig is None:
        sig = signature(body)
    if sig != "":
        headers["Cashback-Signature"] = sig
    return request("POST", "/cashback/v1/events", body, headers, timeout)


def results(events, expect, **kw):
    """Posts `events` and checks the per-event answer: `expect` is a list of
    "accepted", "duplicate" or "rejected:<reason>"."""
    status, _, raw = post(events, **kw)
    check(status == 200, f"batch answered {status}: {raw!r}")
    got = json.loads(raw)["results"]
    check(len(got) == len(events), f"{len(got)} results for {len(events)}")
    for ev, res, want in zip(events, got, expect):
        check(res["id"] == ev.get("id", ""), f"result id {res['id']}")
        status = res["status"]
        if status == "rejected":
            status += ":" + res["reason"]
            check(res.get("message"), f"rejected without a message: {res}")
        check(status == want, f"{ev.get('order_id')}: {status}, want {want}"
              f" ({res.get('message')})")
    return got


def error(expect_status, expect_error, **kw):
    status, headers, raw = post(**kw)
    check(status == expect_status, f"answered {status}, want {expect_status}:"
          f" {raw!r}")
    doc = json.loads(raw)
    check(doc["error"] == expect_error, f"error {doc}, want {expect_error}")
    return headers, doc


def totals():
    status, headers, raw = request("GET", "/api/totals")
    check(status == 200, f"/api/totals answered {status}")
    check(headers["Content-Type"].startswith("application/json"),
          "/api/totals content type")
    doc = json.loads(raw)
    return {m["merchant_id"]: m for m in doc["merchants"]}


def set_mode(mode, **extra):
    status, _, raw = request("POST", "/_admin/mode",
                             json.dumps({"mode": mode, **extra}).encode())
    check(status == 200, f"admin mode {mode}: {status} {raw!r}")
    check(json.loads(raw)["mode"] == mode, f"admin mode answer {raw!r}")


def before_restart():
    # Accepted, then the same event again: duplicate.
    results([sale("1001", 4990)], ["accepted"])
    results([sale("1001", 4990)], ["duplicate"])
    # Per event: one good refund among events each rejected for a reason.
    bad_amount = sale("1003", 49.9)
    no_id = sale("1004", 100)
    del no_id["id"]
    results([refund("1001", "CN-7", 1500),
             bad_amount,
             no_id,
             refund("9999", "CN-1", 100),  # before its sale: held
             refund("1001", "CN-8", 4000),
             refund("1001", "CN-9", 100, "USD"),
             dict(sale("1005", 100), id=event_id(SHOP, "cancel", "1005"))],
            ["accepted", "rejected:invalid_event", "rejected:invalid_event",
             "accepted", "rejected:amount_mismatch",
             "rejected:currency_mismatch", "rejected:invalid_event"])
    # The same refund id again is a duplicate, a new one adds up.
    results([refund("1001", "CN-7", 1500), refund("1001", "CN-10", 490)],
            ["duplicate", "accepted"])
    # A sale and its cancel in one batch; a test sale; an odd order id.
    results([sale("1002", 2500), cancel("1002")], ["accepted", "accepted"])
    results([sale("T-1", 777, test=True)], ["accepted"])
    results([refund("T-1", "CN-T", 7, test=True)], ["accepted"])
    results([refund("1002", "CN-T", 7, test=True)],
            ["accepted"])  # tests are a world of their own: held
    # Follow-ups before their sale (the sale's server had not delivered):
    # held, answered accepted, counted in no total until the sale is there,
    # then netted as if they had come in order. A held confirm in another
    # currency than its sale's moves to the rejections when the sale comes.
    before = totals()[SHOP]
    results([refund("2001", "CN-20", 500), cancel("2003"),
             confirm("2002", 900, "USD"), refund("2001", "CN-21", 250)],
            ["accepted"] * 4)
    held = totals()[SHOP]
    check(held["totals"] == before["totals"], "held follow-ups counted")
    check(held["held_orders"] == before["held_orders"] + 3,
          f"held orders {held['held_orders']} after {before['held_orders']}")
    orders = {o["order_id"]: o for o in held["orders"] if not o["test"]}
    check(orders["2001"]["held"] and orders["2003"]["held"],
          f"held orders listed {orders.get('2001')}")
    results([sale("2001", 4000), sale("2002", 1000), sale("2003", 700)],
            ["accepted"] * 3)
    after = totals()[SHOP]
    check(after["held_orders"] == before["held_orders"],
          f"held orders after the sales: {after['held_orders']}")
    orders = {o["order_id"]: o for o in after["orders"] if not o["test"]}
    check(orders["2001"]["net"] == 3250 and orders["2001"]["refunds"] == 2,
          f"order 2001 {orders['2001']}")
    check(orders["2003"]["cancelled"] and orders["2003"]["net"] == 0,
          f"order 2003 {orders['2003']}")
    check(not orders["2002"]["confirmed"] and orders["2002"]["net"] == 1000,
          f"order 2002 {orders['2002']}")
    check(any(r["order_id"] == "2002" and r["reason"] == "currency_mismatch"
              and r["message"].startswith("held until its sale arrived")
              for r in after["recent_rejections"]),
          "the held confirm in USD is a rejection")
    results([sale(ODD_ORDER, 1000, "JPY")], ["accepted"])

    # Signatures: each check of docs/protocol.md section 5.
    body = body_of([sale("1006", 100)])
    t = int(time.time())
    error(401, "signature_malformed", body=body, sig="")
    error(401, "signature_malformed", body=body, sig="t=abc,v1=k1:00")
    error(401, "signature_malformed", body=body, sig=f"t={t}")
    error(401, "signature_timestamp", body=body, sig=signature(body, t=t - 900))
    error(401, "signature_unknown_key", body=body,
          sig=signature(body, keys=(("k9", SECRET),)))
    error(401, "signature_mismatch", body=body,
          sig=signature(body, keys=((KEY, SECRET2),)))
    error(401, "signature_mismatch", body=body + b" ", sig=signature(body))
    # Key rotation: the second key alone, and both keys, are accepted.
    results([sale("1007", 300)], ["accepted"],
            sig=signature(body_of([sale("1007", 300)]),
                          keys=((KEY2, SECRET2),)))
    results([sale("1007", 300)], ["duplicate"],
            sig=signature(body_of([sale("1007", 300)]),
                          keys=((KEY, SECRET), (KEY2, SECRET2))))
    # Merchants: a batch of another merchant, configured or not, signed
    # with a good key of shop-42: one answer for both.
    ghost = body_of([sale("1", 1, merchant="ghost")], "ghost")
    error(403, "merchant_mismatch", body=ghost, sig=signature(ghost))
    error(403, "merchant_mismatch", body=body,
          sig=signature(body, keys=((OTHER_KEY, OTHER_SECRET),)))
    # Bodies malformed as a whole, and too big.
    for bad in (b"not json", b"{\"protocol\":2,\"merchant_id\":\"shop-42\","
                b"\"events\":[{}]}", b"{\"protocol\":1,\"merchant_id\":"
                b"\"shop-42\",\"events\":[]}", b""):
        error(400, "malformed_body", body=bad, sig=signature(bad))
    big = b"{" + b" " * (4 * 1024 * 1024) + b"}"
    error(413, "too_large", body=big, sig=signature(big))
    # Other methods and paths.
    check(request("GET", "/cashback/v1/events")[0] == 405, "GET events")
    check(request("GET", "/nope")[0] == 404, "404")
    check(request("POST", "/", b"x")[0] == 405, "POST /")

    # The page: every order, escaped; the test order flagged.
    status, headers, raw = request("GET", "/")
    page = raw.decode()
    check(status == 200 and headers["Content-Type"].startswith("text/html"),
          "GET / status and type")
    check("&lt;i&gt;&quot;&amp;&#39;x" in page, "odd order id escaped")
    check("<i>\"" not in page, "odd order id not raw")
    check("<h2>shop-42</h2>" in page, "merchant heading")
    check("<b>cancelled</b>" in page, "cancelled order marked")
    check("<tr class=test><td>T-1</td>" in page, "test order flagged")
    check(">34.90 EUR" not in page, "net of 1001 is 49.90 - 15.00 - 4.90")
    check(">30.00 EUR" in page, "net of 1001 shown")
    check("amount_mismatch" in page, "rejections listed")
    check("held: no sale yet" in page, "held orders marked")
    expect_totals(totals())


def expect_totals(t):
    shop = t[SHOP]
    check(t[OTHER]["configured"] and t[OTHER]["totals"] == [],
          "shop-7 listed, empty")
    by_cur = {x["currency"]: x for x in shop["totals"]}
    eur, jpy = by_cur["EUR"], by_cur["JPY"]
    # 1001: 49.90 - 15.00 - 4.90; 1002 cancelled; 1007: 3.00; 2001: 40.00
    # - 5.00 - 2.50; 2002: 10.00; 2003 cancelled. 9999 has no sale.
    check(eur["orders"] == 6 and eur["cancelled"] == 2, f"EUR orders {eur}")
    check(eur["sales"] == 4990 + 2500 + 300 + 4000 + 1000 + 700,
          f"EUR sales {eur}")
    check(eur["refunds"] == 1990 + 750, f"EUR refunds {eur}")
    check(eur["net"] == 3000 + 300 + 3250 + 1000 and
          eur["net_decimal"] == "75.50", f"EUR net {eur}")
    check(shop["held_orders"] == 2, f"held orders {shop['held_orders']}")
    check(jpy["net"] == 1000 and jpy["net_decimal"] == "1000", f"JPY {jpy}")
    check(shop["test_orders"] == 1, "one test order")
    orders = {(o["order_id"], o["test"]): o for o in shop["orders"]}
    o = orders[("1001", False)]
    check(o["refunded"] == 1990 and o["refunds"] == 2 and o["net"] == 3000,
          f"order 1001 {o}")
    check(orders[("1002", False)]["cancelled"]
          and orders[("1002", False)]["net"] == 0, "order 1002 cancelled")
    tst = orders[("T-1", True)]
    check(tst["sale"] == 777 and tst["net"] == 770, f"test order {tst}")
    check(len(shop["recent_rejections"]) >= 6, "rejections in the JSON")


def down_is_closed():
    """In mode down the connection closes with no answer at all."""
    body = body_of([sale("1008", 100)])
    conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=5)
    try:
        conn.request("POST", "/cashback/v1/events", body,
                     {"Cashback-Signature": signature(body)})
        conn.getresponse()
    except (http.client.RemoteDisconnected, ConnectionResetError,
            BrokenPipeError):
        return True
    except socket.timeout:
        fail("mode down: the connection hung instead of closing")
    finally:
        conn.close()
    return False


def after_restart():
    # Started with --fail-mode 503.
    headers, _ = error(503, "unavailable", events=[sale("1001", 4990)])
    check(headers["Retry-After"] == "1", "Retry-After: 1")
    check(request("GET", "/_admin/mode")[2].startswith(b"{\"mode\":\"503\""),
          "GET /_admin/mode")
    set_mode("ok")
    # The dedupe and the totals survived the restart.
    results([sale("1001", 4990), refund("1001", "CN-7", 1500)],
            ["duplicate", "duplicate"])
    expect_totals(totals())
    # Down: closed without an answer; the page still answers.
    set_mode("down")
    check(down_is_closed(), "mode down answered")
    check(request("GET", "/api/totals")[0] == 200, "page works while down")
    # Slow: answered after the delay; a sender that gave up finds its event
    # recorded (duplicate) when it sends again.
    set_mode("slow", slow_ms=600)
    start = time.monotonic()
    results([sale("1008", 100)], ["accepted"])
    check(time.monotonic() - start >= 0.6, "slow mode answered early")
    set_mode("slow", slow_ms=1500)
    try:
        post([sale("1009", 100)], timeout=0.5)
        fail("slow mode answered within 0.5 s")
    except (socket.timeout, urllib.error.URLError, TimeoutError):
        pass
    set_mode("ok")
    results([sale("1009", 100)], ["duplicate"])
    # 503 set at runtime, then back.
    set_mode("503")
    error(503, "unavailable", events=[sale("1010", 100)])
    set_mode("ok")
    results([sale("1010", 100)], ["accepted"])
    # Confirms: marked; with an amount, that is the order's net; in the
    # sale's currency only.
    results([confirm("1007"), confirm("1001", 100, "USD"),
             confirm(ODD_ORDER, 900, "JPY")],
            ["accepted", "rejected:currency_mismatch", "accepted"])
    shop = totals()[SHOP]
    by_cur = {x["currency"]: x for x in shop["totals"]}
    check(by_cur["EUR"]["confirmed"] == 1, f"EUR confirmed {by_cur['EUR']}")
    check(by_cur["JPY"]["net"] == 900 and by_cur["JPY"]["confirmed"] == 1,
          f"JPY after the confirm {by_cur['JPY']}")
    orders = {o["order_id"]: o for o in shop["orders"] if not o["test"]}
    check(orders["1007"]["confirmed"] and orders["1007"]["net"] == 300,
          f"order 1007 {orders['1007']}")
    check(orders[ODD_ORDER]["confirmed_amount"] == 900, "confirmed amount")
    check(", confirmed" in request("GET", "/")[2].decode()
          or ">confirmed<" in request("GET", "/")[2].decode(),
          "confirmed order marked on the page")
    # Bad admin requests.
    status, _, _ = request("POST", "/_admin/mode", b"{\"mode\":\"sideways\"}")
    check(status == 400, "unknown mode refused")
    status, _, _ = request("POST", "/_admin/mode",
                           b"{\"mode\":\"slow\",\"slow_ms\":999999}")
    check(status == 400, "slow_ms out of range refused")


def followups_retry():
    # Started with --followups retry on a fresh database: a follow-up before
    # its sale is answered retry (unknown_order) and not recorded; sent
    # again after the sale, it is accepted and nets.
    got = results([refund("3001", "CN-30", 100), cancel("3002")],
                  ["retry", "retry"])
    check(all(r["reason"] == "unknown_order" and r["message"] for r in got),
          f"retry answers {got}")
    check(totals()[SHOP]["orders"] == [], "a retried event was recorded")
    results([sale("3001", 1000), sale("3002", 500)], ["accepted"] * 2)
    results([refund("3001", "CN-30", 100), cancel("3002")],
            ["accepted", "accepted"])
    eur = {x["currency"]: x for x in totals()[SHOP]["totals"]}["EUR"]
    check(eur["net"] == 900 and eur["cancelled"] == 1, f"EUR {eur}")


def cross_merchant():
    # Dedupe is per merchant: shop-7 knows shop-42's merchant id and can
    # guess an order id, so it can compute shop-42's sale id. Sent as a
    # refund without refund_id (whose id is random, so not checked), before
    # and after that sale, it must never make shop-42's sale a "duplicate"
    # (the SDK would delete the sale as delivered).
    spoof = {"id": event_id(SHOP, "sale", "X-1"), "type": "refund",
             "order_id": "X-1", **TIMES, "amount": 100, "currency": "EUR"}
    results([spoof], ["accepted"], merchant=OTHER,
            sig=signature(body_of([spoof], OTHER),
                          keys=((OTHER_KEY, OTHER_SECRET),)))
    results([sale("X-1", 2000)], ["accepted"])
    results([sale("X-1", 2000)], ["duplicate"])
    spoof2 = dict(spoof, id=event_id(SHOP, "sale", "X-2"), order_id="X-2")
    results([sale("X-2", 3000)], ["accepted"])
    results([spoof2], ["accepted"], merchant=OTHER,
            sig=signature(body_of([spoof2], OTHER),
                          keys=((OTHER_KEY, OTHER_SECRET),)))
    t = totals()
    orders = {o["order_id"]: o for o in t[SHOP]["orders"]}
    check(orders["X-1"]["sale"] == 2000 and orders["X-1"]["refunded"] == 0
          and orders["X-2"]["refunded"] == 0,
          f"shop-42's orders touched by shop-7: {orders}")
    check(t[OTHER]["held_orders"] == 2, f"shop-7's held refunds {t[OTHER]}")
    # A sale, cancel or confirm must carry the id derived from its own
    # merchant: shop-42's sale id in a sale of shop-7 is invalid_event, and
    # the message names the field.
    theirs = sale("X-3", 100)  # shop-42's id
    body = body_of([theirs], OTHER)
    got = results([theirs], ["rejected:invalid_event"], merchant=OTHER,
                  body=body, sig=signature(body,
                                           keys=((OTHER_KEY, OTHER_SECRET),)))
    check(got[0]["message"].startswith("id: ") and
          event_id(OTHER, "sale", "X-3") in got[0]["message"],
          f"invalid id message {got[0]}")


def unauthenticated():
    # (b) The signature is checked before the body is read: a body that is
    # not even JSON, unsigned or badly signed, is a 401, never a 400.
    for sig in ("", signature(b"not json", keys=((KEY, SECRET2),))):
        error(401, "signature_malformed" if sig == "" else
              "signature_mismatch", body=b"not json", sig=sig)
    # (c) An unknown merchant is answered exactly like a bad signature of a
    # known one: same status, same body.
    for keys in (((KEY, SECRET2),), (("k9", SECRET),)):
        answers = []
        for merchant in (SHOP, "ghost"):
            b = body_of([sale("U-1", 100, merchant=merchant)], merchant)
            status, _, raw = post(body=b, sig=signature(b, keys=keys))
            answers.append((status, raw))
        check(answers[0][0] == 401 and answers[0] == answers[1],
              f"known and unknown merchant answered apart: {answers}")


def overflow():
    # (d) 10,000 sales of 10^15 minor units: a total of 10^19 does not fit
    # in 64 bits. It must be reported as an overflow, never wrapped.
    big = 10 ** 15
    for k in range(10):
        evs = [sale(f"B-{k}-{i}", big, merchant=OTHER) for i in range(1000)]
        body = body_of(evs, OTHER)
        status, _, raw = post(body=body, sig=signature(
            body, keys=((OTHER_KEY, OTHER_SECRET),)), timeout=60)
        check(status == 200 and raw.count(b'"accepted"') == 1000,
              f"big batch {k}: {status} {raw[:200]!r}")
    eur = {x["currency"]: x for x in totals()[OTHER]["totals"]}["EUR"]
    check(eur["orders"] == 10000, f"orders {eur['orders']}")
    check(eur["overflow"] is True and eur["sales"] is None and
          eur["net"] is None and eur["sales_decimal"] == "overflow" and
          eur["net_decimal"] == "overflow" and eur["refunds"] == 0,
          f"overflowed totals {eur}")
    check("<b>overflow</b>" in request("GET", "/")[2].decode(),
          "overflow on the page")
    # Held refunds (no sale yet) past the largest possible sale are refused
    # at once: no order's refunds can sum past 64 bits.
    evs = [refund("H-1", "CN-1", big), refund("H-1", "CN-2", 1)]
    got = results(evs, ["accepted", "rejected:amount_mismatch"])
    check("exceeds any possible sale" in got[1]["message"], f"{got[1]}")


def slow_clients(n=80, hold=2.0):
    # (a) n connections trickling a request's header a byte a second hold no
    # thread and no more than a socket each: a normal client's requests are
    # answered meanwhile (bounded: n sockets, `hold` seconds).
    socks = []
    try:
        for _ in range(n):
            s = socket.create_connection(("127.0.0.1", PORT), timeout=5)
            s.sendall(b"POST /cashback/v1/events HTTP/1.1\r\nHost: x\r\n")
            socks.append(s)
        end = time.monotonic() + hold
        answered = False
        while time.monotonic() < end:
            for s in socks:
                try:
                    s.send(b"X")
                except OSError:
                    pass
            if not answered:
                results([sale(f"SL-{n}", 100)], ["accepted"], timeout=10)
                check(request("GET", "/api/totals", timeout=10)[0] == 200,
                      "totals during the slow clients")
                answered = True
            time.sleep(1.0)
    finally:
        for s in socks:
            s.close()


def slow_stop(pid, n=8):
    # SIGTERM while n slow-mode answers wait (suspended): the sandbox
    # resumes them and every client hears its 200 before the sandbox exits.
    import os
    import signal
    import threading
    set_mode("slow", slow_ms=60000)
    got = []

    def send(k):
        try:
            got.append(post([sale(f"SS-{k}", 100)], timeout=10)[0])
        except OSError as e:
            got.append(repr(e))
    threads = [threading.Thread(target=send, args=(k,)) for k in range(n)]
    for t in threads:
        t.start()
    time.sleep(1.0)
    os.kill(pid, signal.SIGTERM)
    for t in threads:
        t.join(15)
    check(got == [200] * n, f"slow answers at SIGTERM: {got}")


def request_deadline(limit=10.0):
    # Started with --request-timeout 2: a client trickling its header a
    # byte every 0.3 s, so that no idle timeout ever fires, is cut off
    # (the server closes) well before `limit` seconds; a normal request on
    # a fresh connection is answered.
    s = socket.create_connection(("127.0.0.1", PORT), timeout=5)
    closed = False
    try:
        s.sendall(b"GET /api/totals HTTP/1.1\r\nHost: x\r\n")
        s.settimeout(0.3)
        end = time.monotonic() + limit
        while time.monotonic() < end and not closed:
            try:
                s.send(b"X")
                if s.recv(4096) == b"":
                    closed = True
            except socket.timeout:
                continue
            except OSError:
                closed = True
    finally:
        s.close()
    check(closed, f"a trickling request was still open after {limit} s")
    check(request("GET", "/api/totals")[0] == 200, "totals after the cut")


def vm_kib(pid, field):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    fail(f"no {field} in /proc/{pid}/status")


def unsigned_bodies(pid, n=24, size=4 * 1024 * 1024):
    # (e) Bodies that no configured key can sign (no header, an unknown key
    # id, a stale timestamp) are read and dropped, never kept: n
    # connections each sending a 4 MiB body held n * 4 MiB of the sandbox's
    # memory at once before (up to 10,000 connections). Bounded: n sockets,
    # n * 4 MiB through loopback, 10 s timeouts. The peak resident size
    # (VmHWM) of the sandbox may grow by less than 8 bodies' worth.
    sigs = ["", "t=%d,v1=k9:%s" % (int(time.time()), "0" * 64),
            "t=1000,v1=%s:%s" % (KEY, "0" * 64)]
    base = vm_kib(pid, "VmHWM")
    chunk = b"x" * (256 * 1024)
    socks = []
    try:
        for k in range(n):
            s = socket.create_connection(("127.0.0.1", PORT), timeout=10)
            sig = sigs[k % len(sigs)]
            head = ("POST /cashback/v1/events HTTP/1.1\r\nHost: x\r\n"
                    "Content-Type: application/json\r\n"
                    "Content-Length: %d\r\n%s\r\n" %
                    (size, "Cashback-Signature: %s\r\n" % sig if sig else ""))
            s.sendall(head.encode())
            for _ in range(size // len(chunk) - 1):
                s.sendall(chunk)
            s.sendall(chunk[:-1])  # all but the last byte: still open
            socks.append(s)
        for s in socks:
            s.sendall(b"x")
        for k, s in enumerate(socks):
            f = s.makefile("rb")
            line = f.readline()
            check(line.startswith(b"HTTP/1.1 401"),
                  f"unsigned body {k}: {line!r}")
    finally:
        for s in socks:
            s.close()
    grew = (vm_kib(pid, "VmHWM") - base) * 1024
    check(grew < 8 * size,
          f"{n} unsigned bodies of {size} bytes grew the sandbox's peak "
          f"memory by {grew} bytes (kept, not dropped)")
    # A signed request is still read and answered.
    results([sale("UB-1", 100)], ["accepted"])


V1_SCHEMA = """
CREATE TABLE batches (seq INTEGER PRIMARY KEY AUTOINCREMENT,
 merchant TEXT NOT NULL, key_id TEXT NOT NULL, remote TEXT,
 received_at INTEGER NOT NULL, events INTEGER NOT NULL,
 accepted INTEGER NOT NULL DEFAULT 0, duplicates INTEGER NOT NULL DEFAULT 0,
 rejected INTEGER NOT NULL DEFAULT 0, body BLOB NOT NULL);
CREATE TABLE events (id TEXT PRIMARY KEY, merchant TEXT NOT NULL,
 type TEXT NOT NULL, order_id TEXT NOT NULL, amount INTEGER, currency TEXT,
 test INTEGER NOT NULL DEFAULT 0, click TEXT, refund_id TEXT,
 received_at INTEGER NOT NULL, batch INTEGER NOT NULL REFERENCES batches(seq),
 raw TEXT NOT NULL);
CREATE INDEX events_order ON events(merchant, test, order_id);
CREATE TABLE rejections (seq INTEGER PRIMARY KEY AUTOINCREMENT,
 id TEXT NOT NULL, merchant TEXT NOT NULL, type TEXT, order_id TEXT,
 test INTEGER NOT NULL, reason TEXT NOT NULL, message TEXT NOT NULL,
 received_at INTEGER NOT NULL, batch INTEGER NOT NULL, raw TEXT NOT NULL);
CREATE INDEX rejections_merchant ON rejections(merchant, seq);
PRAGMA user_version = 1;
"""


def make_v1_db(path):
    """A database as the sandbox before per-merchant dedupe wrote it: one
    sale of shop-42's order M-1."""
    import sqlite3
    ev = sale("M-1", 1234)
    db = sqlite3.connect(path)
    db.executescript(V1_SCHEMA)
    db.execute("INSERT INTO batches (merchant, key_id, remote, received_at,"
               " events, accepted, body) VALUES (?, ?, '127.0.0.1', 1, 1, 1,"
               " ?)", (SHOP, KEY, body_of([ev])))
    db.execute("INSERT INTO events (id, merchant, type, order_id, amount,"
               " currency, click, received_at, batch, raw) VALUES (?, ?,"
               " 'sale', 'M-1', 1234, 'EUR', 'tok_9f8e7d', 1, 1, ?)",
               (ev["id"], SHOP, json.dumps(ev)))
    db.commit()
    db.close()


def migrated():
    # The old sale is still there (a duplicate), counted; shop-7 may now use
    # the same id for an event of its own.
    results([sale("M-1", 1234)], ["duplicate"])
    t = totals()
    check({o["order_id"]: o for o in t[SHOP]["orders"]}["M-1"]["sale"] == 1234,
          "the migrated sale is counted")
    spoof = {"id": event_id(SHOP, "sale", "M-1"), "type": "refund",
             "order_id": "M-1", **TIMES, "amount": 100, "currency": "EUR"}
    results([spoof], ["accepted"], merchant=OTHER,
            sig=signature(body_of([spoof], OTHER),
                          keys=((OTHER_KEY, OTHER_SECRET),)))


def main():
    global PORT
    if len(sys.argv) not in (3, 4) or sys.argv[1] not in (
            "before-restart", "after-restart", "followups-retry", "mode",
            "totals", "cross-merchant", "unauthenticated", "overflow",
            "slow-clients", "request-deadline", "migrated", "make-v1-db",
            "slow-stop", "unsigned-bodies"):
        fail("usage: sandbox_client.py before-restart|after-restart|"
             "totals PORT, or mode PORT MODE")
    if sys.argv[1] == "make-v1-db":
        make_v1_db(sys.argv[2])
        return
    PORT = int(sys.argv[2])
    if sys.argv[1] == "slow-stop":
        slow_stop(int(sys.argv[3]))
    elif sys.argv[1] == "unsigned-bodies":
        unsigned_bodies(int(sys.argv[3]))
    elif sys.argv[1] == "mode":
        set_mode(sys.argv[3])
    elif sys.argv[1] == "totals":
        print(json.dumps(totals()[SHOP]["totals"]))
    else:
        {"before-restart": before_restart,
         "after-restart": after_restart,
         "followups-retry": followups_retry,
         "cross-merchant": cross_merchant,
         "unauthenticated": unauthenticated,
         "overflow": overflow,
         "slow-clients": slow_clients,
         "request-deadline": request_deadline,
         "migrated": migrated}[sys.argv[1]]()
    print(f"sandbox_client: {sys.argv[1]}: {checks} checks passed")


if __name__ == "__main__":
    main()
