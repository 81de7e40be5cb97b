#!/usr/bin/env python3
"""End-to-end run of samples/php under a real PHP web server (php -S, or
php-fpm and mod_php from tests/scripts/php_servers.py).

Called by tests/scripts/php.sh and php_servers.py, which start the test
receiver and the server (cashback.auto_capture=1) and stop them. Drives a
shopper: landing with a click token, checkout, thank-you page, a reload of
it, a refund, a cancel, with tests/receiver/receiver.py checking every
signature; flushes with samples/php/flush.php between steps, as cron would.

Usage: php_e2e.py SHOP_URL RECEIVER_URL STORE_FILE SHOP_DATA -- FLUSH_COMMAND...
Prints "N passed, 0 failed"; exits 1 on the first failed check.
"""
import http.client
import json
import re
import subprocess
import sys
import time
import urllib.parse

passed = 0


def check(cond, what, detail=""):
    global passed
    if not cond:
        print("FAIL: %s %s" % (what, detail))
        print("%d passed, 1 failed" % passed)
        sys.exit(1)
    passed += 1
    print("ok %d - %s" % (passed, what))


def get(base, path, cookie=None):
    u = urllib.parse.urlsplit(base)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=20)
    headers = {"Cookie": cookie} if cookie else {}
    conn.request("GET", path, headers=headers)
    r = conn.getresponse()
    body = r.read().decode("utf-8", "replace")
    conn.close()
    return r.status, r.headers, body


BASE = {}


def stats(receiver):
    """The receiver's counters since this script started."""
    status, _, body = get(receiver, "/_stats")
    assert status == 200, status
    st = json.loads(body)
    for k in ("accepted", "duplicates", "rejected", "bad_signature"):
        st[k] -= BASE.get(k, 0)
    return st


def stored(store):
    """Events the receiver stored since this script started."""
    with open(store) as f:
        lines = [line for line in f if line.strip()]
    return [json.loads(line) for line in lines[BASE.get("stored", 0):]]


def flush(cmd):
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       timeout=60, text=True)
    return p.returncode, p.stdout + p.stderr


def main():
    sep = sys.argv.index("--")
    shop, receiver, store, shop_data = sys.argv[1:sep]
    flush_cmd = sys.argv[sep + 1:]
    BASE.update(stats(receiver))
    BASE["stored"] = len(stored(store))

    # 1. Landing without a token: no cookie.
    status, headers, _ = get(shop, "/index.php?utm_source=mail")
    check(status == 200 and not headers.get_all("Set-Cookie"),
          "landing without a token sets no cookie", str(headers.items()))

    # 2. Landing with a token: the extension sets the signed cookie by
    #    itself (cashback.auto_capture=1), before the page's code runs.
    status, headers, _ = get(shop, "/index.php?utm_source=net&cb_click=e2e-tok.1")
    cookies = [c for c in headers.get_all("Set-Cookie") or []
               if c.startswith("cashback_click=")]
    check(status == 200 and len(cookies) == 1,
          "landing with a token sets one click cookie", str(headers.items()))
    sc = cookies[0]
    for attr in ("Secure", "HttpOnly", "SameSite=Lax", "Path=/",
                 "Max-Age=2592000"):
        check(("; %s" % attr) in sc, "Set-Cookie has %s" % attr, sc)
    pair = sc.split(";", 1)[0]

    # 3. Checkout: the browser sends the cookie back; the order keeps the
    #    click; the shopper is sent to the thank-you page.
    status, headers, _ = get(shop, "/checkout.php?sku=teapot&qty=2",
                             cookie="theme=dark; " + pair + "; lang=fr")
    loc = headers.get("Location") or ""
    m = re.match(r"^thankyou\.php\?order=([0-9]+)$", loc)
    check(status == 302 and m, "checkout redirects to the thank-you page", loc)
    order = m.group(1)

    # 4. Thank-you page: the sale is reported (spooled), not yet sent.
    status, _, body = get(shop, "/thankyou.php?order=" + order, cookie=pair)
    m = re.search(r"cashback event ([0-9a-f]{32})", body)
    check(status == 200 and m, "thank-you page reports the sale", body)
    sale_id = m.group(1)
    check(stats(receiver)["accepted"] == 0, "nothing sent before the flush")

    # 5. Flush (cron): delivered, signature verified by the receiver.
    rc, out = flush(flush_cmd)
    check(rc == 0, "flush delivers the spool", out)
    st = stats(receiver)
    check(st["accepted"] == 1 and st["duplicates"] == 0 and
          st["bad_signature"] == 0,
          "receiver verified and accepted one sale", json.dumps(st)[:400])
    check(sale_id in st["events"], "the accepted event is the reported one")
    events = stored(store)
    check(len(events) == 1, "the receiver stored one event")
    ev = events[0]
    check(ev == {"id": sale_id, "type": "sale", "order_id": order,
                 "amount": 7480, "currency": "EUR"},
          "the sale carries the order id and 2 x 37.40 EUR", json.dumps(ev))
    # The sale carries what the network needs: the landing parameter and
    # the capture time (the cookie's second field), not only the token. A
    # PHP sale used to lose both: click() gave the bare token, which the
    # shop stored and reported.
    click = st.get("clicks", {}).get(sale_id)
    landed = int(pair.split("=", 1)[1].split(".")[1])
    check(click is not None and click.get("token") == "e2e-tok.1" and
          click.get("source") == "cb_click" and
          click.get("captured_at") == time.strftime(
              "%Y-%m-%dT%H:%M:%SZ", time.gmtime(landed)),
          "the sale carries the click's source and capture time",
          json.dumps(click))
    # (The receiver stores no click; a sale without a voucher is only valid
    # with one, and the shop kept the click handle read back at checkout:
    # the signed cookie value, whose last field is the token.)
    with open("%s/order-%s.json" % (shop_data, order)) as f:
        handle = json.load(f)["click"]
    check(handle.startswith("1.") and handle.split(".", 4)[4] == "e2e-tok.1",
          "checkout read the click handle back from the cookie", handle)
    check(handle == pair.split("=", 1)[1],
          "the handle is the cookie's value", handle)

    # 6. The shopper reloads the thank-you page: same event id again, and the
    #    network counts it as a duplicate, not a second sale.
    status, _, body = get(shop, "/thankyou.php?order=" + order, cookie=pair)
    check(status == 200 and sale_id in body, "reload reports the same event id",
          body)
    rc, out = flush(flush_cmd)
    st = stats(receiver)
    check(rc == 0 and st["accepted"] == 1 and st["duplicates"] == 1,
          "reload: one sale accepted, one duplicate", json.dumps(st)[:400])

    # 7. A checkout whose cookie was tampered with keeps no click, so the
    #    thank-you page reports nothing.
    bad = pair[:-1] + ("A" if pair[-1] != "A" else "B")
    status, headers, _ = get(shop, "/checkout.php?sku=mug", cookie=bad)
    order2 = (headers.get("Location") or "").rsplit("=", 1)[-1]
    status, _, body = get(shop, "/thankyou.php?order=" + order2, cookie=bad)
    check(status == 200 and "cashback event" not in body,
          "a tampered cookie gives no sale", body)

    # 8. A partial refund from the back office, then the cancel path.
    status, _, body = get(shop, "/admin.php?action=refund&order=%s&amount=10.00"
                          "&refund_id=cn-1" % order)
    check(status == 200 and "cashback event" in body, "refund reported", body)
    status, _, body = get(shop, "/admin.php?action=refund&order=%s&amount=1.999"
                          % order)
    check(status == 500 and "8: " in body,
          "a refund amount with too many decimals is refused", body)
    # The message names the PHP key and the problem (the SDK's builder).
    check("8: amount: &#039;1.999&#039; is not an exact EUR amount" in body,
          "the refusal names the key amount and the decimals", body)
    status, _, body = get(shop, "/admin.php?action=refund&order=%s"
                          "&amount=99999999999999999999" % order)
    check(status == 500 and "8: amount: &#039;99999999999999999999&#039; is "
          "more than 10^15 minor units" in body,
          "a refund amount too large is refused as too large", body)
    rc, out = flush(flush_cmd)
    st = stats(receiver)
    check(rc == 0 and st["accepted"] == 2 and st["rejected"] == 0,
          "refund delivered", json.dumps(st)[:400])
    last = stored(store)[-1]
    check(last.get("type") == "refund" and last.get("amount") == 1000 and
          last.get("order_id") == order,
          "the refund event carries 10.00 EUR", json.dumps(last))

    # 9. The order is cancelled from the back office: the cancel arrives.
    status, _, body = get(shop, "/admin.php?action=cancel&order=%s" % order)
    check(status == 200 and "cashback event" in body, "cancel reported", body)
    rc, out = flush(flush_cmd)
    st = stats(receiver)
    check(rc == 0 and st["accepted"] == 3 and st["rejected"] == 0,
          "cancel delivered", json.dumps(st)[:400])
    last = stored(store)[-1]
    check(last.get("type") == "cancel" and last.get("order_id") == order,
          "the cancel event names the order", json.dumps(last))

    print("%d passed, 0 failed" % passed)


if __name__ == "__main__":
    main()
