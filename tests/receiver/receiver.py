#!/usr/bin/env python3
"""The in-tree test receiver: a cashback network endpoint on 127.0.0.1.

Standard library only. Serves POST /v1/events (any path ending in it) as
docs/protocol.md describes: verifies the Cashback-Signature header with hmac
(401 {"error":"bad_signature","check":"malformed"|"timestamp"|"unknown_key"|
"mismatch"}), parses the batch (400 {"error":"bad_request"}; 413 above 4 MiB;
403 for another merchant with --merchant), dedupes events per merchant
(merchant_id + id: one merchant's event never makes another's a duplicate),
checks that a sale's, cancel's, confirm's and a refund-with-refund_id's id is
the one derived from the batch's merchant_id (docs/protocol.md, section 4;
rejected invalid_event otherwise; --no-check-ids turns that off), and answers
200 {"results":[{"id","status"[,"reason","message"]}]}. Everything
is kept in memory; --store appends one JSON line per newly accepted event.

Orders (docs/protocol.md, section 6): a refund, cancel or confirm for an
order whose sale it has not seen is, with --followups hold (the default),
held: answered "accepted" and counted into the order once its sale is
there; with --followups retry it is answered
{"status":"retry","reason":"unknown_order"} and not recorded (sent again
later, the SDK's deferred path); with --followups reject it is rejected
(unknown_order), as receivers did before. /_stats "merchant_orders" gives,
per merchant and order, the order's sale, refunds, cancel, confirm, held
follow-ups and net amount (null while it has no sale); "orders" is the same
by order id alone while one merchant has orders, by "merchant/order" once
several have.

Usage:
  receiver.py --port 0 --port-file F --keys kid:secret[,kid2:secret2]
              [--tolerance 300] [--merchant ID] [--log FILE] [--store FILE]
              [--max-seconds 600] [--followups hold|retry|reject]
              [--no-check-ids]

Fault control, POST /_control with a JSON object, applied to the next batch
requests (POST /v1/events); "count" defaults to 1, -1 means until changed.
When several are armed, the first of reset, hang, status, slow_ms applies
(slow_ms then answers normally):
  {"status":503,"count":3,"retry_after":"2"}  answer that status instead
                                  (optional "date": the Date header to send,
                                  as if the receiver's clock said so)
  {"reset":true,"count":1}        close with RST, no answer, nothing recorded
  {"hang":true,"count":1}         read the request, never answer (until the
                                  client goes, or 60 s)
  {"slow_ms":1500,"count":2}      answer normally after a delay
  {"reject_ids":["<id>"],"reason":"unknown_click"}  rejected, persistently
  {"reject_index":0,"count":1}    reject that event of the next batch
  {"accept_then_reset":true,"count":1}  record as accepted, then RST
  {"kill_pid":1234,"signal":9}    record the next batch, signal the pid, RST
  {"endless_body":true,"count":1} answer 200 and stream a body that never
                                  ends (until the client goes, or 1 GiB);
                                  the bytes sent are "streamed_bytes"
  {"bad_orders":["1001"]}         400 to every batch with an event of one
                                  of these orders, persistently
  {"reject_repeats":true}         a second copy of an id in one batch is
                                  rejected (duplicate_in_batch), persistently
  {"followups":"retry"}           how follow-ups before their sale are
                                  answered from now on (hold, retry, reject)
  {"clear":true}                  no faults any more (followups unchanged)
GET /_stats gives the counters, the times each event id was received, the
click (token, source, captured_at as sent) of each accepted event that has
one ("clicks"), and a log of the last 10000 batch requests.

Exits on SIGTERM or SIGINT, and by itself after --max-seconds.
"""
import argparse
import hashlib
import hmac
import http.server
import json
import os
import re
import signal
import socket
import ssl
import struct
import sys
import threading
import time

EVENT_ID = re.compile(r"^[0-9a-f]{32}$")
KEY_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
BODY_MAX = 4 * 1024 * 1024  # docs/protocol.md: larger is 413
LOG_MAX = 10000
HANG_MAX_S = 60.0
FOLLOWUPS = ("hold", "retry", "reject")
FAULT_KINDS = ("status", "reset", "hang", "slow_ms", "reject_index",
               "accept_then_reset", "kill_pid", "endless_body")
ENDLESS_MAX = 1 << 30  # endless_body gives up after this many bytes

stopping = threading.Event()


class State:
    """Everything the receiver knows, behind one lock."""

    def __init__(self, keys, tolerance, store, log, merchant=None,
                 followups="hold", check_ids=True):
        self.lock = threading.Lock()
        self.followups = followups
        self.check_ids = check_ids
        self.orders = {}  # (merchant id, order id) -> Order
        self.retried = 0
        self.merchant = merchant
        self.keys = keys
        self.tolerance = tolerance
        self.store = store
        self.logfile = log
        self.accepted_ids = set()  # (merchant id, event id): the dedupe
        self.times = {}
        self.clicks = {}  # event id -> the "click" object of an accepted event
        self.requests = 0
        self.batches_ok = 0
        self.accepted = 0
        self.duplicates = 0
        self.rejected = 0
        self.bad_signature = 0
        self.log = []
        self.faults = {}       # kind -> {"count": n, ...}
        self.reject_ids = {}   # id -> reason
        self.streamed_bytes = 0  # body bytes sent by endless_body
        self.bad_orders = set()  # a batch with one of these: 400
        self.reject_repeats = False

    def take_fault(self, kind):
        """The fault of that kind if one is armed, using up one count."""
        f = self.faults.get(kind)
        if f is None:
            return None
        if f["count"] > 0:
            f["count"] -= 1
            if f["count"] == 0:
                del self.faults[kind]
        return f

    def note(self, status, events, what=""):
        entry = {"t": time.time(), "status": status, "events": events}
        self.log.append(entry)
        if len(self.log) > LOG_MAX:
            del self.log[:len(self.log) - LOG_MAX]
        if self.logfile:
            self.logfile.write("%.3f %s events=%d %s\n"
                               % (entry["t"], status, events, what))
            self.logfile.flush()


class Order:
    """What the receiver knows of one order; the net is the same whatever
    order its events arrived in (docs/protocol.md, section 3)."""

    def __init__(self):
        self.sale = None       # amount, once the sale is there
        self.refunds = {}      # event id -> amount
        self.cancelled = False
        self.confirmed = False
        self.confirmed_amount = None
        self.held = 0          # follow-ups recorded before the sale

    def apply(self, ev):
        kind = ev["type"]
        if kind == "sale":
            self.sale = ev.get("amount") or 0
            self.held = 0      # the held follow-ups count from now on
            return
        if self.sale is None:
            self.held += 1
        if kind == "refund":
            self.refunds[ev["id"]] = ev.get("amount") or 0
        elif kind == "cancel":
            self.cancelled = True
        elif kind == "confirm":
            self.confirmed = True
            if ev.get("amount") is not None:
                self.confirmed_amount = ev["amount"]

    def net(self):
        if self.sale is None:
            return None
        if self.cancelled:
            return 0
        if self.confirmed_amount is not None:
            return self.confirmed_amount
        return max(0, self.sale - sum(self.refunds.values()))

    def as_json(self):
        return {"sale": self.sale, "refunded": sum(self.refunds.values()),
                "refunds": len(self.refunds), "cancelled": self.cancelled,
                "confirmed": self.confirmed, "held": self.held,
                "net": self.net()}


def parse_signature(header):
    """(t, [(key_id, hex)]) or None when malformed (docs/protocol.md, 5)."""
    if len(header) > 4096 or any(not 0x20 <= ord(ch) < 0x7f and ch != "\t"
                                 for ch in header):
        return None
    ts, sigs = [], []
    for item in header.split(","):
        item = item.strip(" \t")
        if item.startswith("t="):
            ts.append(item[2:])
        elif item.startswith("v1="):
            kid, sep, mac = item[3:].partition(":")
            if not sep or not KEY_ID.match(kid) or \
                    not re.match(r"^[0-9a-fA-F]{64}$", mac):
                return None
            sigs.append((kid, mac.lower()))
        elif not re.match(r"^[A-Za-z0-9]+=[!-~]*$", item):
            return None  # empty item, or not scheme=value
    if len(ts) != 1 or not re.match(r"^(0|[1-9][0-9]{0,11})$", ts[0]) or \
            not 1 <= len(sigs) <= 8:
        return None
    return int(ts[0]), sigs


def verify(state, header, body):
    """None when valid, else which check failed: malformed, timestamp,
    unknown_key or mismatch."""
    if header is None:
        return "malformed"
    parsed = parse_signature(header)
    if parsed is None:
        return "malformed"
    t, sigs = parsed
    if abs(time.time() - t) > state.tolerance:
        return "timestamp"
    known = [(kid, mac) for kid, mac in sigs if kid in state.keys]
    if not known:
        return "unknown_key"
    for kid, mac in known:
        want = hmac.new(state.keys[kid].encode(),
                        b"v1:" + str(t).encode() + b":" + body,
                        hashlib.sha256).hexdigest()
        if hmac.compare_digest(want, mac):
            return None
    return "mismatch"


def derived_id(merchant, kind, order, refund_id=None):
    """The event id docs/protocol.md section 4 derives."""
    parts = ["cashback-event-v1", merchant, kind, order]
    if refund_id is not None:
        parts.append(refund_id)
    return hashlib.sha256(b"\x00".join(p.encode("utf-8") for p in parts)) \
        .digest()[:16].hex()


def id_error(merchant, ev):
    """Why the event's id is not the derived one, or None (a refund without
    refund_id has a random id: nothing to check)."""
    kind, refund_id = ev["type"], ev.get("refund_id")
    if kind == "refund" and not isinstance(refund_id, str):
        return None
    want = derived_id(merchant, kind, ev["order_id"],
                      refund_id if kind == "refund" else None)
    if ev["id"] == want:
        return None
    return "id: not the id derived for this %s of order %s (%s)" \
        % (kind, ev["order_id"], want)


def parse_batch(body, merchant):
    """(merchant_id, the list of event objects), or raises ValueError naming
    the fault.
    PermissionError when `merchant` is set and the batch is another's."""
    try:
        doc = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as e:
        raise ValueError("body is not JSON: %s" % e)
    if not isinstance(doc, dict):
        raise ValueError("body is not a JSON object")
    if doc.get("protocol") != 1:
        raise ValueError("protocol must be 1")
    if not isinstance(doc.get("merchant_id"), str) or \
            not KEY_ID.match(doc["merchant_id"]):
        raise ValueError("merchant_id missing or invalid")
    if merchant and doc["merchant_id"] != merchant:
        raise PermissionError("merchant_id is not %s" % merchant)
    if not isinstance(doc.get("sent_at"), str):
        raise ValueError("sent_at missing")
    events = doc.get("events")
    if not isinstance(events, list) or not 1 <= len(events) <= 1000:
        raise ValueError("events must be a list of 1-1000 objects")
    for i, ev in enumerate(events):
        if not isinstance(ev, dict):
            raise ValueError("events[%d] is not an object" % i)
        if not isinstance(ev.get("id"), str) or not EVENT_ID.match(ev["id"]):
            raise ValueError("events[%d].id must be 32 lowercase hex" % i)
        if ev.get("type") not in ("sale", "refund", "cancel", "confirm"):
            raise ValueError("events[%d].type invalid" % i)
        if not isinstance(ev.get("order_id"), str):
            raise ValueError("events[%d].order_id missing" % i)
    return doc["merchant_id"], events


def reset_connection(handler):
    """Closes the client's connection with a TCP RST, answering nothing."""
    sock = handler.connection
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                        struct.pack("ii", 1, 0))
        handler.rfile.close()  # drops the makefile() reference on the fd
        sock.close()
    except OSError:
        pass
    handler.close_connection = True


def endless_body(handler):
    """Answers 200 with a body that never ends (no length, not chunked: it
    ends when the connection does), until the client closes, the receiver
    stops, or ENDLESS_MAX bytes. Returns the bytes sent."""
    sent = 0
    try:
        handler.send_response(200)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Connection", "close")
        handler.end_headers()
        handler.wfile.flush()
        chunk = b'{"results":[' + b" " * 65524
        while not stopping.is_set() and sent < ENDLESS_MAX:
            handler.connection.sendall(chunk)
            sent += len(chunk)
    except OSError:
        pass
    handler.close_connection = True
    return sent


def hang(handler):
    """Never answers: waits for the client to close, or HANG_MAX_S."""
    sock = handler.connection
    deadline = time.monotonic() + HANG_MAX_S
    sock.settimeout(0.2)
    while not stopping.is_set() and time.monotonic() < deadline:
        try:
            if not sock.recv(4096):
                break
        except socket.timeout:
            continue
        except OSError:
            break
    handler.close_connection = True


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "cashback-test-receiver/1"
    state = None  # set in main()

    def log_message(self, fmt, *args):  # quiet; --log has what matters
        pass

    def answer(self, status, obj, headers=()):
        data = json.dumps(obj).encode()
        if any(k == "Date" for k, _ in headers):  # a Date of the test's own
            self.log_request(status)
            self.send_response_only(status)
            self.send_header("Server", self.version_string())
        else:
            self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for k, v in headers:
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def read_body(self):
        """The body; None without a Content-Length, False when too large."""
        n = self.headers.get("Content-Length")
        if n is None or not n.isdigit():
            return None
        if int(n) > BODY_MAX:
            left = int(n)  # read and drop it, so the client sees the 413
            while 0 < left <= 16 * BODY_MAX:
                chunk = self.rfile.read(min(left, 65536))
                if not chunk:
                    break
                left -= len(chunk)
            return False
        return self.rfile.read(int(n))

    def do_GET(self):
        st = self.state
        if self.path != "/_stats":
            self.answer(404, {"error": "not_found"})
            return
        with st.lock:
            obj = {"requests": st.requests, "batches_ok": st.batches_ok,
                   "accepted": st.accepted, "duplicates": st.duplicates,
                   "rejected": st.rejected,
                   "bad_signature": st.bad_signature,
                   "streamed_bytes": st.streamed_bytes,
                   "events": dict(st.times), "log": list(st.log),
                   "clicks": dict(st.clicks),
                   "retried": st.retried, "followups": st.followups,
                   "merchant_orders": merchant_orders(st.orders),
                   "orders": flat_orders(st.orders),
                   "faults": json.loads(json.dumps(st.faults))}
        self.answer(200, obj)

    def do_POST(self):
        body = self.read_body()
        if body is None or body is False:
            self.close_connection = True
            if body is None:
                self.answer(411, {"error": "length_required"})
            else:
                self.answer(413, {"error": "too_large"})
            return
        path = self.path.split("?", 1)[0]
        if path == "/_control":
            self.control(body)
        elif path.endswith("/v1/events"):
            self.batch(body)
        else:
            self.answer(404, {"error": "not_found"})

    def control(self, body):
        st = self.state
        try:
            req = json.loads(body.decode("utf-8"))
            if not isinstance(req, dict):
                raise ValueError("not an object")
            known = set(FAULT_KINDS) | {"count", "retry_after", "date",
                                        "signal", "reject_ids", "reason",
                                        "clear", "bad_orders",
                                        "reject_repeats", "followups"}
            unknown = set(req) - known
            if unknown:
                raise ValueError("unknown keys %s" % sorted(unknown))
            if req.get("followups", "hold") not in FOLLOWUPS:
                raise ValueError("followups must be one of %s"
                                 % ", ".join(FOLLOWUPS))
            count = req.get("count", 1)
            if not isinstance(count, int) or count == 0 or count < -1:
                raise ValueError("count must be -1 or > 0")
        except (UnicodeDecodeError, ValueError) as e:
            self.answer(400, {"error": "bad_control", "message": str(e)})
            return
        with st.lock:
            if req.get("clear"):
                st.faults.clear()
                st.reject_ids.clear()
                st.bad_orders.clear()
                st.reject_repeats = False
            for kind in FAULT_KINDS:
                if kind in req and req[kind] is not None and req[kind] is not False:
                    f = {"count": count, "value": req[kind]}
                    if kind == "status":
                        f["retry_after"] = req.get("retry_after")
                        f["date"] = req.get("date")
                    if kind == "kill_pid":
                        f["count"] = 1
                        f["signal"] = int(req.get("signal", signal.SIGKILL))
                    st.faults[kind] = f
            for eid in req.get("reject_ids", []):
                st.reject_ids[eid] = req.get("reason", "rejected_by_test")
            st.bad_orders.update(req.get("bad_orders", []))
            if "followups" in req:
                st.followups = req["followups"]
            if "reject_repeats" in req:
                st.reject_repeats = bool(req["reject_repeats"])
            faults = json.loads(json.dumps(st.faults))
        self.answer(200, {"ok": True, "faults": faults})

    def batch(self, body):
        st = self.state
        with st.lock:
            st.requests += 1
            reset = st.take_fault("reset")
            hung = None if reset else st.take_fault("hang")
            status = None if reset or hung else st.take_fault("status")
            endless = None if reset or hung or status \
                else st.take_fault("endless_body")
            slow = None if reset or hung or endless or status \
                else st.take_fault("slow_ms")
            if reset:
                st.note(0, 0, "reset")
            elif hung:
                st.note(0, 0, "hang")
        if reset:
            reset_connection(self)
            return
        if hung:
            hang(self)
            return
        if endless:
            with st.lock:
                st.note(200, 0, "endless_body")
            sent = endless_body(self)
            with st.lock:
                st.streamed_bytes += sent
            return
        if status:
            headers = []
            if status.get("retry_after") is not None:
                headers.append(("Retry-After", str(status["retry_after"])))
            if status.get("date") is not None:
                headers.append(("Date", str(status["date"])))
            with st.lock:
                st.note(int(status["value"]), 0, "fault")
            self.answer(int(status["value"]), {"error": "fault_injected"},
                        headers)
            return
        if slow:
            stopping.wait(float(slow["value"]) / 1000.0)

        err = verify(st, self.headers.get("Cashback-Signature"), body)
        if err:
            with st.lock:
                st.bad_signature += 1
                st.note(401, 0, err)
            self.answer(401, {"error": "bad_signature", "check": err})
            return
        try:
            merchant, events = parse_batch(body, st.merchant)
        except PermissionError as e:
            with st.lock:
                st.note(403, 0, "merchant")
            self.answer(403, {"error": "merchant_mismatch", "message": str(e)})
            return
        except ValueError as e:
            with st.lock:
                st.note(400, 0, "bad_request")
            self.answer(400, {"error": "bad_request", "message": str(e)})
            return
        with st.lock:
            bad = [ev["order_id"] for ev in events
                   if ev["order_id"] in st.bad_orders]
            if bad:
                st.note(400, len(events), "bad_orders")
        if bad:
            self.answer(400, {"error": "bad_request",
                              "message": "order %s refused" % bad[0]})
            return

        results = []
        with st.lock:
            reject_index = st.take_fault("reject_index")
            after = st.take_fault("accept_then_reset") or \
                st.take_fault("kill_pid")
            in_batch = set()
            for i, ev in enumerate(events):
                eid = ev["id"]
                key = (merchant, eid)
                okey = (merchant, ev["order_id"])
                st.times[eid] = st.times.get(eid, 0) + 1
                repeat = eid in in_batch
                in_batch.add(eid)
                bad_id = id_error(merchant, ev) if st.check_ids else None
                if bad_id:
                    st.rejected += 1
                    results.append({"id": eid, "status": "rejected",
                                    "reason": "invalid_event",
                                    "message": bad_id})
                elif repeat and st.reject_repeats:
                    st.rejected += 1
                    results.append({"id": eid, "status": "rejected",
                                    "reason": "duplicate_in_batch",
                                    "message": "this id is in the batch "
                                               "twice"})
                elif eid in st.reject_ids or \
                        (reject_index and reject_index["value"] == i):
                    reason = st.reject_ids.get(eid, "rejected_by_test")
                    st.rejected += 1
                    results.append({"id": eid, "status": "rejected",
                                    "reason": reason,
                                    "message": "rejected by the test receiver"})
                elif key in st.accepted_ids:
                    st.duplicates += 1
                    results.append({"id": eid, "status": "duplicate"})
                elif ev["type"] != "sale" and st.followups != "hold" and \
                        st.orders.get(okey, Order()).sale is None:
                    message = "no sale of order %s yet" % ev["order_id"]
                    if st.followups == "retry":
                        st.retried += 1
                        results.append({"id": eid, "status": "retry",
                                        "reason": "unknown_order",
                                        "message": message})
                    else:
                        st.rejected += 1
                        results.append({"id": eid, "status": "rejected",
                                        "reason": "unknown_order",
                                        "message": message})
                else:
                    st.orders.setdefault(okey, Order()).apply(ev)
                    st.accepted_ids.add(key)
                    st.accepted += 1
                    if isinstance(ev.get("click"), dict):
                        st.clicks[eid] = ev["click"]
                    results.append({"id": eid, "status": "accepted"})
                    if st.store:
                        st.store.write(json.dumps(
                            {k: ev.get(k) for k in ("id", "type", "order_id",
                                                    "amount", "currency")},
                            sort_keys=True) + "\n")
            if st.store:
                st.store.flush()
            if after:
                st.note(0, len(events), "recorded, then reset")
            else:
                st.batches_ok += 1
                st.note(200, len(events))
        if after:
            if "signal" in after:
                try:
                    os.kill(int(after["value"]), after["signal"])
                except OSError:
                    pass
            reset_connection(self)
            return
        self.answer(200, {"results": results})


def merchant_orders(orders):
    out = {}
    for (merchant, order), o in orders.items():
        out.setdefault(merchant, {})[order] = o.as_json()
    return out


def flat_orders(orders):
    several = len({m for m, _ in orders}) > 1
    return {("%s/%s" % (m, order) if several else order): o.as_json()
            for (m, order), o in orders.items()}


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True


def parse_keys(text):
    keys = {}
    for item in text.split(","):
        kid, sep, secret = item.partition(":")
        if not sep or not KEY_ID.match(kid) or not secret:
            raise argparse.ArgumentTypeError("bad key %r: want kid:secret"
                                             % kid)
        keys[kid] = secret
    return keys


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--port-file")
    ap.add_argument("--keys", type=parse_keys, required=True)
    ap.add_argument("--tolerance", type=int, default=300)
    ap.add_argument("--merchant", help="only this merchant_id (else 403)")
    ap.add_argument("--log")
    ap.add_argument("--tls-cert", help="serve HTTPS with this PEM chain")
    ap.add_argument("--tls-key", help="the private key of --tls-cert")
    ap.add_argument("--store")
    ap.add_argument("--max-seconds", type=float, default=600)
    ap.add_argument("--followups", choices=FOLLOWUPS, default="hold",
                    help="a follow-up before its sale: held (answered "
                    "accepted, counted once the sale is there), retry, or "
                    "reject")
    ap.add_argument("--no-check-ids", dest="check_ids", action="store_false",
                    help="accept ids that are not the derived ones")
    args = ap.parse_args(argv)

    log = open(args.log, "a") if args.log else None
    store = open(args.store, "a") if args.store else None
    Handler.state = State(args.keys, args.tolerance, store, log,
                          args.merchant, args.followups, args.check_ids)
    server = Server(("127.0.0.1", args.port), Handler)
    if args.tls_cert:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(args.tls_cert, args.tls_key)
        server.socket = ctx.wrap_socket(server.socket, server_side=True)
    port = server.server_address[1]
    if args.port_file:
        tmp = "%s.tmp.%d" % (args.port_file, os.getpid())
        with open(tmp, "w") as f:
            f.write("%d\n" % port)
        os.replace(tmp, args.port_file)

    def on_signal(signum, frame):
        stopping.set()
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)

    t = threading.Thread(target=server.serve_forever, kwargs={
        "poll_interval": 0.1}, daemon=True)
    t.start()
    stopping.wait(args.max_seconds)
    stopping.set()
    server.shutdown()
    server.server_close()
    for f in (log, store):
        if f:
            f.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
