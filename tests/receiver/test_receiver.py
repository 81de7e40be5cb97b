#!/usr/bin/env python3
"""Self-test of the test receiver (receiver.py), with urllib only.

Starts the receiver on an ephemeral port, signs bodies with hmac, and checks
accepted / duplicate / 401 / 400 and every fault of /_control. Prints
"N passed, N failed" and exits non-zero on a failure. Bounded in time.
"""
import hashlib
import hmac
import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
RECEIVER = os.path.join(HERE, "receiver.py")
KID, SECRET = "k1", "test-secret-0123456789abcdef"
KID2, SECRET2 = "k2", "second-secret-0123456789abcdef"


def derived(merchant, etype, order, refund_id=None):
    """The id docs/protocol.md section 4 derives."""
    parts = [b"cashback-event-v1", merchant.encode(), etype.encode(),
             order.encode()] + ([refund_id.encode()] if refund_id else [])
    return hashlib.sha256(b"\x00".join(parts)).digest()[:16].hex()


def event(n, etype="sale", order=None, merchant="shop-1"):
    order = "o%d" % n if order is None else order
    return {"id": derived(merchant, etype, order), "type": etype,
            "order_id": order, "amount": 100 * n, "currency": "EUR"}


def batch_body(events, merchant="shop-1"):
    return json.dumps({"protocol": 1, "merchant_id": merchant,
                       "sent_at": "2026-01-01T00:00:00Z",
                       "events": events}).encode()


def sign(body, kid=KID, secret=SECRET, ts=None):
    ts = int(time.time()) if ts is None else ts
    mac = hmac.new(secret.encode(), b"v1:%d:" % ts + body,
                   hashlib.sha256).hexdigest()
    return "t=%d,v1=%s:%s" % (ts, kid, mac)


class Client:
    def __init__(self, port):
        self.base = "http://127.0.0.1:%d" % port

    def post(self, path, body, headers=None, timeout=5):
        """(status, parsed JSON, headers); raises on transport errors."""
        req = urllib.request.Request(self.base + path, data=body,
                                     method="POST", headers=headers or {})
        try:
            with urllib.request.urlopen(req, timeout=timeout) as r:
                return r.status, json.loads(r.read()), r.headers
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read()), e.headers

    def batch(self, events, sig=None, timeout=5, merchant="shop-1"):
        body = batch_body(events, merchant)
        headers = {"Content-Type": "application/json"}
        sig = sign(body) if sig is None else sig
        if sig:
            headers["Cashback-Signature"] = sig
        return self.post("/v1/events", body, headers, timeout)

    def control(self, obj):
        status, doc, _ = self.post("/_control", json.dumps(obj).encode())
        assert status == 200, (status, doc)
        return doc

    def stats(self):
        with urllib.request.urlopen(self.base + "/_stats", timeout=5) as r:
            return json.loads(r.read())


def start(tmp, *extra):
    port_file = os.path.join(tmp, "port")
    if os.path.exists(port_file):
        os.unlink(port_file)
    proc = subprocess.Popen(
        [sys.executable, RECEIVER, "--port", "0", "--port-file", port_file,
         "--keys", "%s:%s,%s:%s" % (KID, SECRET, KID2, SECRET2),
         "--store", os.path.join(tmp, "store.jsonl"),
         "--log", os.path.join(tmp, "log.txt")] + list(extra))
    deadline = time.monotonic() + 10
    while not os.path.exists(port_file):
        if time.monotonic() > deadline or proc.poll() is not None:
            proc.kill()
            raise RuntimeError("receiver did not start")
        time.sleep(0.02)
    with open(port_file) as f:
        return proc, int(f.read())


def transport_fails(fn):
    """True when fn() fails at the transport level (reset, no answer)."""
    try:
        fn()
    except (ConnectionError, http.client.RemoteDisconnected,
            http.client.BadStatusLine, urllib.error.URLError, socket.timeout,
            TimeoutError):
        return True
    return False


def statuses(doc):
    return [r["status"] for r in doc["results"]]


def run_checks(c, tmp):
    checks = []

    def check(name):
        def deco(fn):
            checks.append((name, fn))
            return fn
        return deco

    e1, e2, e3 = event(1), event(2), event(3)

    @check("accepted, then duplicate")
    def _():
        st, doc, _ = c.batch([e1, e2])
        assert st == 200 and statuses(doc) == ["accepted", "accepted"], doc
        assert [r["id"] for r in doc["results"]] == [e1["id"], e2["id"]]
        st, doc, _ = c.batch([e2, e1])
        assert st == 200 and statuses(doc) == ["duplicate", "duplicate"], doc
        with open(os.path.join(tmp, "store.jsonl")) as f:
            lines = [json.loads(x) for x in f]
        assert lines == [e1, e2], lines
        s = c.stats()
        assert s["accepted"] == 2 and s["duplicates"] == 2, s
        assert s["events"][e1["id"]] == 2 and s["batches_ok"] == 2, s

    @check("second key, rotation header")
    def _():
        body = batch_body([e3])
        sig = sign(body, KID2, SECRET2)
        st, doc, _ = c.batch([e3], "%s,v1=zz:%s" % (sig, "0" * 64))
        assert st == 200 and statuses(doc) == ["accepted"], doc

    @check("signature failures are 401")
    def _():
        body = batch_body([e1])
        before = c.stats()["bad_signature"]
        good = sign(body)
        cases = [(sign(body, KID, "wrong-secret-0123456789"), "mismatch"),
                 (sign(batch_body([e2])), "mismatch"),  # other bytes
                 (sign(body, "nobody", SECRET), "unknown_key"),
                 (sign(body, ts=int(time.time()) - 1000), "timestamp"),
                 ("t=1,v1=k1:nothex", "malformed"),
                 (good + ",", "malformed"),             # empty item
                 (good + "," + good, "malformed"),      # two t
                 (good.replace("t=", "t=0"), "malformed"),
                 (good.split(",")[0], "malformed"),     # no v1
                 ("", "malformed")]
        for sig, err in cases:
            st, doc, _ = c.batch([e1], sig)
            assert st == 401 and doc == {"error": "bad_signature",
                                         "check": err}, (sig, st, doc)
        # Other schemes are ignored; spaces around items are fine.
        st, doc, _ = c.batch([e1], " v2=future , " + good.replace(",", " ,\t"))
        assert st == 200, (st, doc)
        after = c.stats()["bad_signature"]
        assert after == before + len(cases), (before, after, len(cases))
        after = c.stats()["bad_signature"]
        assert after == before + len(cases), (before, after, len(cases)) + 1

    @check("not protocol JSON is 400")
    def _():
        for body in (b"not json", b"[]", b'{"protocol":2}',
                     batch_body([{"id": "short", "type": "sale",
                                  "order_id": "1"}]),
                     batch_body([])):
            st, doc, _ = c.post("/v1/events", body,
                                {"Cashback-Signature": sign(body)})
            assert st == 400 and doc["error"] == "bad_request", (body, doc)
        # Another path than .../v1/events is not the endpoint.
        body = batch_body([e1])
        st, doc, _ = c.post("/v2/events", body,
                            {"Cashback-Signature": sign(body)})
        assert st == 404, (st, doc)
        st, doc, _ = c.post("/cashback/v1/events?x=1", body,
                            {"Cashback-Signature": sign(body)})
        assert st == 200, (st, doc)
        # Over 4 MiB: 413.
        body = b"x" * (4 * 1024 * 1024 + 1)
        st, doc, _ = c.post("/v1/events", body,
                            {"Cashback-Signature": sign(body)})
        assert st == 413, (st, doc)

    @check("status fault with Retry-After, count 2")
    def _():
        c.control({"status": 503, "count": 2, "retry_after": "2"})
        for _ in range(2):
            st, doc, h = c.batch([e1])
            assert st == 503 and h["Retry-After"] == "2", (st, doc)
        st, doc, _ = c.batch([e1])
        assert st == 200 and statuses(doc) == ["duplicate"], doc
        c.control({"status": 429, "count": -1})
        for _ in range(3):
            assert c.batch([e1])[0] == 429
        c.control({"clear": True})
        assert c.batch([e1])[0] == 200

    @check("status fault with a Date header of its own")
    def _():
        date = "Sun, 06 Nov 1994 08:49:37 GMT"
        c.control({"status": 503, "retry_after": "Sun, 06 Nov 1994 08:49:39 "
                   "GMT", "date": date})
        st, doc, h = c.batch([e1])
        assert st == 503 and h["Date"] == date, (st, h)
        assert h["Retry-After"] == "Sun, 06 Nov 1994 08:49:39 GMT", h
        st, doc, h = c.batch([e1])
        assert st == 200 and h["Date"] != date, (st, h)

    @check("reset records nothing")
    def _():
        e = event(10)
        c.control({"reset": True, "count": 1})
        assert transport_fails(lambda: c.batch([e]))
        assert e["id"] not in c.stats()["events"]
        st, doc, _ = c.batch([e])
        assert statuses(doc) == ["accepted"], doc

    @check("hang until the client goes")
    def _():
        c.control({"hang": True, "count": 1})
        t0 = time.monotonic()
        assert transport_fails(lambda: c.batch([event(11)], timeout=0.5))
        assert time.monotonic() - t0 < 3
        assert c.batch([event(11)])[0] == 200  # the next one is answered

    @check("slow answers")
    def _():
        c.control({"slow_ms": 300, "count": 1})
        t0 = time.monotonic()
        st, doc, _ = c.batch([event(12)])
        assert st == 200 and time.monotonic() - t0 >= 0.3
        t0 = time.monotonic()
        assert c.batch([event(12)])[0] == 200
        assert time.monotonic() - t0 < 0.3

    @check("reject_ids persist, reject_index once")
    def _():
        e, f = event(20), event(21)
        c.control({"reject_ids": [e["id"]], "reason": "unknown_click"})
        for _ in range(2):
            st, doc, _ = c.batch([f, e])
            assert statuses(doc)[1] == "rejected", doc
            assert doc["results"][1]["reason"] == "unknown_click", doc
        c.control({"reject_index": 0, "count": 1})
        g, h = event(22), event(23)
        st, doc, _ = c.batch([g, h])
        assert statuses(doc) == ["rejected", "accepted"], doc
        st, doc, _ = c.batch([g, h])
        assert statuses(doc) == ["accepted", "duplicate"], doc
        c.control({"clear": True})
        st, doc, _ = c.batch([e])
        assert statuses(doc) == ["accepted"], doc

    @check("accept_then_reset: resend sees duplicates")
    def _():
        e = event(30)
        c.control({"accept_then_reset": True, "count": 1})
        assert transport_fails(lambda: c.batch([e]))
        st, doc, _ = c.batch([e])
        assert statuses(doc) == ["duplicate"], doc

    @check("kill_pid signals after recording")
    def _():
        victim = subprocess.Popen(["sleep", "30"])
        try:
            e = event(40)
            c.control({"kill_pid": victim.pid, "signal": 9})
            assert transport_fails(lambda: c.batch([e]))
            assert victim.wait(timeout=5) == -9
            assert c.stats()["events"][e["id"]] == 1
            st, doc, _ = c.batch([e])
            assert statuses(doc) == ["duplicate"], doc
        finally:
            if victim.poll() is None:
                victim.kill()
                victim.wait()

    @check("follow-ups before their sale: held, retry, reject")
    def _():
        def follow(n, etype, order, amount=None):
            eid = hashlib.sha256(b"fu%d" % n).hexdigest()[:32]  # a refund
            if etype != "refund":                               # derived
                eid = derived("shop-1", etype, order)
            ev = {"id": eid, "type": etype, "order_id": order}
            if amount is not None:
                ev.update(amount=amount, currency="EUR")
            return ev
        sale = dict(event(50, order="h1"), amount=1000)
        refund = follow(1, "refund", "h1", 300)
        # Held: accepted now, counted once the sale is there.
        st, doc, _ = c.batch([refund])
        assert statuses(doc) == ["accepted"], doc
        o = c.stats()["orders"]["h1"]
        assert o["held"] == 1 and o["net"] is None, o
        st, doc, _ = c.batch([refund, sale])
        assert statuses(doc) == ["duplicate", "accepted"], doc
        o = c.stats()["orders"]["h1"]
        assert o["held"] == 0 and o["net"] == 700 and o["refunds"] == 1, o
        # Retry: not recorded; once the sale is there, accepted.
        c.control({"followups": "retry"})
        cancel = follow(2, "cancel", "h2")
        st, doc, _ = c.batch([cancel])
        assert doc["results"] == [{"id": cancel["id"], "status": "retry",
                                   "reason": "unknown_order",
                                   "message": "no sale of order h2 yet"}], doc
        assert "h2" not in c.stats()["orders"]
        st, doc, _ = c.batch([event(51, order="h2"), cancel])
        assert statuses(doc) == ["accepted", "accepted"], doc
        assert c.stats()["orders"]["h2"]["net"] == 0
        assert c.stats()["retried"] == 1
        # Reject, as receivers did before.
        c.control({"followups": "reject"})
        st, doc, _ = c.batch([follow(3, "confirm", "h3")])
        assert statuses(doc) == ["rejected"], doc
        assert doc["results"][0]["reason"] == "unknown_order", doc
        c.control({"followups": "hold"})
        st, doc, _ = c.post("/_control", b'{"followups":"never"}')
        assert st == 400, (st, doc)

    @check("a repeated id in one batch, 400 by order")
    def _():
        e = event(60)
        c.control({"reject_repeats": True})
        st, doc, _ = c.batch([e, e])
        assert statuses(doc) == ["accepted", "rejected"], doc
        assert doc["results"][1]["reason"] == "duplicate_in_batch", doc
        c.control({"clear": True, "bad_orders": ["o61"]})
        st, doc, _ = c.batch([event(62), event(61)])
        assert st == 400, (st, doc)
        st, doc, _ = c.batch([event(62)])
        assert st == 200, (st, doc)
        c.control({"clear": True})
        st, doc, _ = c.batch([event(61)])
        assert st == 200, (st, doc)

    @check("dedupe per merchant: another merchant's copy of an id")
    def _():
        # shop-2 sends a refund (no refund_id: any id) carrying shop-1's
        # sale id, before and after that sale: shop-1's sale is still
        # accepted, never a "duplicate", and each merchant's order is its own.
        sale = event(70, order="m1")
        spoof = {"id": sale["id"], "type": "refund", "order_id": "m1",
                 "amount": 100, "currency": "EUR"}
        st, doc, _ = c.batch([spoof], merchant="shop-2")
        assert st == 200 and statuses(doc) == ["accepted"], doc
        st, doc, _ = c.batch([sale])
        assert st == 200 and statuses(doc) == ["accepted"], doc
        st, doc, _ = c.batch([sale])
        assert statuses(doc) == ["duplicate"], doc
        st, doc, _ = c.batch([spoof], merchant="shop-2")
        assert statuses(doc) == ["duplicate"], doc
        s = c.stats()
        mine = s["merchant_orders"]["shop-1"]["m1"]
        assert mine["sale"] == 7000 and mine["refunded"] == 0, mine
        theirs = s["merchant_orders"]["shop-2"]["m1"]
        assert theirs["sale"] is None and theirs["held"] == 1, theirs
        assert "shop-1/m1" in s["orders"], sorted(s["orders"])

    @check("ids must be the derived ones (sale, cancel, confirm, refund_id)")
    def _():
        # shop-1's sale id sent as shop-2's sale: not shop-2's id.
        theirs = event(71, order="m2")
        st, doc, _ = c.batch([theirs], merchant="shop-2")
        r = doc["results"][0]
        assert r["status"] == "rejected" and r["reason"] == "invalid_event" \
            and r["message"].startswith("id: ") and \
            derived("shop-2", "sale", "m2") in r["message"], doc
        cases = [dict(event(72), type="cancel"),           # a sale's id
                 dict(event(73, "confirm"), order_id="o74"),
                 {"id": derived("shop-1", "refund", "o75", "CN-1"),
                  "type": "refund", "order_id": "o75", "refund_id": "CN-2",
                  "amount": 1, "currency": "EUR"}]
        st, doc, _ = c.batch(cases)
        assert statuses(doc) == ["rejected"] * 3, doc
        assert all(r["reason"] == "invalid_event" and "id: " in r["message"]
                   for r in doc["results"]), doc
        # The right ones are accepted.
        good = [event(75), {"id": derived("shop-1", "refund", "o75", "CN-2"),
                            "type": "refund", "order_id": "o75",
                            "refund_id": "CN-2", "amount": 1,
                            "currency": "EUR"},
                event(75, "cancel"), event(75, "confirm")]
        st, doc, _ = c.batch(good)
        assert statuses(doc) == ["accepted"] * 4, doc

    @check("stats and log")
    def _():
        s = c.stats()
        for k in ("requests", "batches_ok", "accepted", "duplicates",
                  "rejected", "bad_signature", "events", "log"):
            assert k in s, k
        assert s["requests"] == len(s["log"]) and s["requests"] > 20, s
        assert all(set(x) == {"t", "status", "events"} for x in s["log"])
        assert any(x["status"] == 503 for x in s["log"])

    @check("bad control is 400")
    def _():
        for obj in ({"stauts": 503}, {"status": 503, "count": 0}, [1]):
            st, doc, _ = c.post("/_control", json.dumps(obj).encode())
            assert st == 400, (obj, st, doc)

    passed = failed = 0
    for name, fn in checks:
        try:
            fn()
            passed += 1
            print("ok: %s" % name)
        except Exception as e:  # report every check, then fail
            failed += 1
            print("FAIL: %s: %r" % (name, e))
    return passed, failed


def main():
    with tempfile.TemporaryDirectory() as tmp:
        proc, port = start(tmp, "--max-seconds", "120")
        try:
            passed, failed = run_checks(Client(port), tmp)
        finally:
            proc.send_signal(signal.SIGTERM)
            try:
                rc = proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                rc = "killed"
        if rc == 0:
            passed += 1
            print("ok: exits 0 on SIGTERM")
        else:
            failed += 1
            print("FAIL: exit status on SIGTERM: %r" % rc)
        proc, port = start(tmp, "--max-seconds", "0.5")
        try:
            rc = proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            rc = "still running"
        if rc == 0:
            passed += 1
            print("ok: exits by itself after --max-seconds")
        else:
            failed += 1
            print("FAIL: --max-seconds: %r" % rc)
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
