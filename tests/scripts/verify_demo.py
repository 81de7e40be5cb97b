#!/usr/bin/env python3
"""Independent check of the demo's signed reports, with python's hmac only.

Usage: verify_demo.py DIR KEY_ID SECRET MERCHANT
Reads DIR/sale.body, DIR/sale.sig, DIR/refund.body, DIR/refund.sig, checks
each Cashback-Signature over the exact body bytes, the event ids derived as
docs/protocol.md says, and the amounts as integer minor units.
"""
import hashlib
import hmac
import json
import sys
import time


def check_sig(body, header, key_id, secret):
    items = [i.strip() for i in header.split(",")]
    ts = [i[2:] for i in items if i.startswith("t=")]
    sigs = [i[3:] for i in items if i.startswith("v1=")]
    assert len(ts) == 1, "one t= expected in %r" % header
    assert abs(int(ts[0]) - time.time()) < 300, "timestamp out of window"
    want = hmac.new(secret.encode(), b"v1:" + ts[0].encode() + b":" + body,
                    hashlib.sha256).hexdigest()
    for s in sigs:
        kid, _, mac = s.partition(":")
        if kid == key_id and hmac.compare_digest(mac, want):
            return
    raise AssertionError("no valid v1 signature by %s in %r" % (key_id, header))


def event_id(merchant, etype, order, refund_id=None):
    parts = [b"cashback-event-v1", merchant.encode(), etype.encode(),
             order.encode()]
    if refund_id is not None:
        parts.append(refund_id.encode())
    return hashlib.sha256(b"\0".join(parts)).hexdigest()[:32]


def main():
    d, key_id, secret, merchant = sys.argv[1:5]
    for name in ("sale", "refund"):
        body = open("%s/%s.body" % (d, name), "rb").read()
        header = open("%s/%s.sig" % (d, name)).read()
        check_sig(body, header, key_id, secret)
        doc = json.loads(body)
        assert doc["protocol"] == 1 and doc["merchant_id"] == merchant
        ev = doc["events"][0]
        assert ev["type"] == name
        if name == "sale":
            assert ev["amount"] == 4990 and ev["currency"] == "EUR", ev
            assert isinstance(ev["amount"], int)
            assert ev["click"]["token"] == "12345_1700000000_a1b2c3", ev
            assert ev["id"] == event_id(merchant, "sale", "1001"), ev["id"]
        else:
            assert ev["amount"] == 1000 and ev["refund_id"] == "CN-1001-1"
            assert ev["id"] == event_id(merchant, "refund", "1001",
                                        "CN-1001-1"), ev["id"]
        print("   python3 hmac: %s signature valid, event id %s verified"
              % (name, ev["id"]))


if __name__ == "__main__":
    main()
