"""Unit and end-to-end tests of the cashback Python package (plugins/python),
run by tests/scripts/python.sh with Debian's /usr/bin/python3 -m unittest.

The environment names the test receiver (tests/receiver/receiver.py):
CB_TEST_RECEIVER (its base URL), CB_TEST_STORE (its store file),
CB_TEST_KEY_ID, CB_TEST_SECRET, CB_TEST_WORK (a scratch directory).
"""
import decimal
import json
import os
import threading
import time
import unittest
import urllib.request
from decimal import Decimal

import cashback

RECEIVER = os.environ["CB_TEST_RECEIVER"]
STORE = os.environ["CB_TEST_STORE"]
KEY_ID = os.environ["CB_TEST_KEY_ID"]
SECRET = os.environ["CB_TEST_SECRET"]
WORK = os.environ["CB_TEST_WORK"]
RUN = os.environ.get("CB_TEST_RUN", "")  # order ids unique to this run
_n = [0]


def conf(**extra):
    """A fresh config file (its own spool); returns its path."""
    _n[0] += 1
    spool = os.path.join(WORK, "spool-%d" % _n[0])
    lines = {"merchant_id": "py-shop", "key_id": KEY_ID, "secret": SECRET,
             "endpoint": RECEIVER + "/v1/events", "spool_dir": spool,
             "request_timeout": "10s"}
    lines.update(extra)
    path = os.path.join(WORK, "cashback-%d.conf" % _n[0])
    with open(path, "w") as f:
        for k, v in lines.items():
            f.write("%s = %s\n" % (k, v))
    os.chmod(path, 0o600)
    return path


def connection(spool):
    return ("cashback:merchant_id=py-conn;key_id=%s;secret=%s;endpoint=%s"
            "/v1/events;spool_dir=%s" % (KEY_ID, SECRET, RECEIVER, spool))


def control(**faults):
    req = urllib.request.Request(RECEIVER + "/_control",
                                 data=json.dumps(faults).encode(),
                                 headers={"Content-Type": "application/json"})
    urllib.request.urlopen(req, timeout=10).read()


def stats():
    with urllib.request.urlopen(RECEIVER + "/_stats", timeout=10) as r:
        return json.load(r)


def stored():
    with open(STORE) as f:
        return [json.loads(line) for line in f if line.strip()]


SALE = dict(order_id="1001", amount=Decimal("49.90"), currency="EUR",
            click_token="tok.test")


class ClientTest(unittest.TestCase):
    def test_config_file(self):
        c = cashback.Client(conf())
        self.assertEqual(c.merchant_id, "py-shop")
        self.assertEqual(c.cookie_name, "cashback_click")

    def test_config_file_pathlike(self):
        import pathlib
        self.assertEqual(cashback.Client(pathlib.Path(conf())).merchant_id,
                         "py-shop")

    def test_connection_string_str_and_bytes(self):
        s = connection(os.path.join(WORK, "spool-conn"))
        self.assertEqual(cashback.Client(connection=s).merchant_id, "py-conn")
        self.assertEqual(cashback.Client(connection=s.encode()).merchant_id,
                         "py-conn")

    def test_connection_string_with_nul_is_refused(self):
        s = connection(os.path.join(WORK, "spool-conn")) + "\0;x=y"
        with self.assertRaises(cashback.ConfigError) as cm:
            cashback.Client(connection=s)
        self.assertEqual(cm.exception.keyword, "connection")

    def test_environment(self):
        old = dict(os.environ)
        try:
            os.environ["CASHBACK_CONNECTION"] = connection(
                os.path.join(WORK, "spool-env"))
            os.environ["CASHBACK_MERCHANT_ID"] = "py-env"
            self.assertEqual(cashback.Client().merchant_id, "py-env")
            self.assertEqual(cashback.Client(env=True).merchant_id, "py-env")
        finally:
            os.environ.clear()
            os.environ.update(old)

    def test_file_then_connection_then_env(self):
        s = "cashback:merchant_id=py-over"
        self.assertEqual(cashback.Client(conf(), connection=s).merchant_id,
                         "py-over")

    def test_missing_file(self):
        with self.assertRaises(cashback.ConfigError) as cm:
            cashback.Client(os.path.join(WORK, "missing.conf"))
        self.assertEqual(cm.exception.keyword, "config")
        self.assertIn("missing.conf", str(cm.exception))

    def test_bad_connection_string_keeps_the_secret_out(self):
        with self.assertRaises(cashback.ConfigError) as cm:
            cashback.Client(connection="cashback:secret=%s;bogus_key=1" % SECRET)
        self.assertEqual(cm.exception.status, 3)
        self.assertNotIn(SECRET, str(cm.exception))

    def test_missing_required_key(self):
        with self.assertRaises(cashback.ConfigError) as cm:
            cashback.Client(connection="cashback:merchant_id=x")
        self.assertIn("key_id", str(cm.exception))
        self.assertEqual(cm.exception.keyword, "")

    def test_bad_argument_types(self):
        with self.assertRaises(TypeError):
            cashback.Client(connection=42)
        with self.assertRaises(TypeError):
            cashback.Client(42)


class CaptureClickTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.c = cashback.Client(conf())

    def test_capture_parts(self):
        ck = self.c.capture("/landing?utm=x&cb_click=tok-123")
        self.assertIsInstance(ck, cashback.Cookie)
        self.assertEqual(ck.name, "cashback_click")
        self.assertTrue(ck.value.endswith(".cb_click.tok-123"))
        self.assertEqual((ck.path, ck.secure, ck.httponly, ck.samesite),
                         ("/", True, True, "Lax"))
        self.assertGreater(ck.max_age, 0)
        self.assertEqual(ck.domain, "")
        self.assertEqual(self.c.capture(b"cb_click=tok-123").value.split(".")[3:],
                         ["cb_click", "tok-123"])

    def test_capture_none(self):
        self.assertIsNone(self.c.capture("/landing?utm=x"))
        self.assertIsNone(self.c.capture(""))

    def test_capture_malformed(self):
        with self.assertRaises(cashback.ClickError) as cm:
            self.c.capture("cb_click=%zz")
        self.assertEqual((cm.exception.status, cm.exception.keyword),
                         (7, "target"))

    def test_capture_type(self):
        with self.assertRaises(TypeError):
            self.c.capture(None)

    def test_click_round_trip(self):
        before = int(time.time())
        ck = self.c.capture("cb_click=tok-9")
        click = self.c.click(ck.value)
        self.assertEqual(click.token, "tok-9")
        self.assertEqual(click.source, "cb_click")
        self.assertGreaterEqual(click.captured_at, before - 1)
        self.assertEqual(click.handle, ck.value)
        self.assertEqual(self.c.click(ck.value.encode()), click)

    def test_click_none(self):
        self.assertIsNone(self.c.click(None))
        self.assertIsNone(self.c.click(""))

    def test_click_tampered(self):
        v = self.c.capture("cb_click=tok-9").value.split(".")
        v[2] = "0" * 32
        with self.assertRaises(cashback.ClickError) as cm:
            self.c.click(".".join(v))
        self.assertEqual((cm.exception.status, cm.exception.keyword),
                         (6, "click"))

    def test_click_malformed_and_nul(self):
        for bad in ("garbage", self.c.capture("cb_click=t").value + "\0"):
            with self.assertRaises(cashback.ClickError) as cm:
                self.c.click(bad)
            self.assertEqual(cm.exception.status, 7)

    def test_click_expired(self):
        c = cashback.Client(conf(attribution_window="1s"))
        v = c.capture("cb_click=old").value
        time.sleep(2.1)
        with self.assertRaises(cashback.ClickError) as cm:
            c.click(v)
        self.assertEqual(cm.exception.status, 5)

    def test_click_of_another_client_is_tampered(self):
        other = cashback.Client(conf(secret="another-secret-0123456789abcdef"))
        with self.assertRaises(cashback.ClickError):
            self.c.click(other.capture("cb_click=t").value)


class EventTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.c = cashback.Client(conf())

    def assertField(self, exc, keyword, status, text):
        e = exc.exception
        self.assertIsInstance(e, cashback.FieldError)
        self.assertIsInstance(e, ValueError)
        self.assertEqual((e.keyword, e.status), (keyword, status), str(e))
        self.assertIn(text, str(e))
        self.assertTrue(str(e).startswith(keyword + ": "), str(e))

    def test_every_kind_returns_an_id(self):
        click = self.c.capture("cb_click=tok-ev").value
        ids = [
            self.c.sale(order_id="s1", amount=Decimal("49.90"), currency="EUR",
                        click=click, vouchers=["WELCOME10", "X2"],
                        customer="new", test=True, meta={"channel": "web"},
                        order_time="2026-11-23T19:42:00+01:00",
                        items=[{"sku": "A-1", "quantity": 2,
                                "unit_price": Decimal("19.95"),
                                "name": "Mug: blue", "category": "k:itchen"},
                               {"sku": "B", "quantity": 1,
                                "unit_price": "10.00"}]),
            self.c.sale(order_id="s2", amount="5.00", currency="EUR",
                        click=self.c.click(click)),
            self.c.sale(order_id="s3", amount=500, currency="EUR",
                        click_token="tok.bare", vouchers="ONE",
                        order_time=1796000000, utc_offset=60),
            self.c.refund(order_id="s1", amount=Decimal("10.00"),
                          currency="EUR", refund_id="r1", reason="damaged"),
            self.c.cancel(order_id="s2", reason="fraud"),
            self.c.confirm(order_id="s1"),
            self.c.report("sale", order_id="s4", amount="1.00",
                          currency="EUR", vouchers="V4",
                          customer=None),
        ]
        for i in ids:
            self.assertRegex(i, r"^[0-9a-f]{32}$")
        self.assertEqual(len(set(ids)), len(ids))
        # the same sale again: the same id (the network counts it once)
        self.assertEqual(self.c.confirm(order_id="s1"), ids[5])

    def test_aware_datetime(self):
        import datetime
        t = datetime.datetime(2026, 11, 23, 19, 42,
                              tzinfo=datetime.timezone.utc)
        self.c.sale(order_time=t, **SALE)
        with self.assertRaises(ValueError):
            self.c.sale(order_time=t.replace(tzinfo=None), **SALE)

    def test_float_is_never_money(self):
        with self.assertRaisesRegex(TypeError, "^amount: money is never"):
            self.c.sale(order_id="f", amount=49.9, currency="EUR")
        with self.assertRaisesRegex(TypeError, r"^items\[0\].unit_price"):
            self.c.sale(items=[{"sku": "a", "quantity": 1,
                                "unit_price": 1.5}], **SALE)
        with self.assertRaises(TypeError):
            self.c.sale(order_id="f", amount=True, currency="EUR")

    def test_inexact_amount(self):
        with self.assertRaises(cashback.FieldError) as cm:
            self.c.sale(order_id="x", amount="49.999", currency="EUR",
                        click_token="t")
        self.assertField(cm, "amount", 8, "'49.999' is not an exact EUR amount")
        with self.assertRaises(cashback.FieldError) as cm:
            self.c.sale(order_id="x", amount=Decimal("1.005"), currency="EUR")
        self.assertField(cm, "amount", 8, "1.005")
        with self.assertRaises(cashback.FieldError):
            self.c.sale(order_id="x", amount=Decimal("NaN"), currency="EUR")

    def test_minor_units_need_currency(self):
        with self.assertRaises(cashback.FieldError) as cm:
            self.c.sale(order_id="x", amount=100)
        self.assertField(cm, "amount", 9, "needs currency")

    def test_missing_order_id(self):
        with self.assertRaises(cashback.FieldError) as cm:
            self.c.sale(amount="1.00", currency="EUR")
        self.assertField(cm, "order_id", 10, "required")

    def test_bad_currency(self):
        with self.assertRaises(cashback.FieldError) as cm:
            self.c.sale(order_id="x", amount="1.00", currency="XXQ")
        self.assertEqual(cm.exception.keyword, "currency")

    def test_bad_values_name_the_keyword(self):
        cases = [("order_id", dict(order_id="has space")),
                 ("customer", dict(customer="vip")),
                 ("vouchers", dict(vouchers=["A B"])),
                 ("click", dict(click="not-a-handle")),
                 ("click_token", dict(click_token="bad token")),
                 ("order_time", dict(order_time="yesterday")),
                 ("utc_offset", dict(order_time=1796000000, utc_offset=9999)),
                 ("meta['k k']", dict(meta={"k k": "v"})),
                 ("order_id", dict(order_id="x" * 65))]
        for keyword, kw in cases:
            fields = dict(SALE)
            if "click" in kw:
                del fields["click_token"]
            fields.update(kw)
            with self.subTest(keyword=keyword):
                with self.assertRaises(cashback.Error) as cm:
                    self.c.sale(**fields)
                self.assertEqual(cm.exception.keyword, keyword, str(cm.exception))
                self.assertTrue(str(cm.exception).startswith(keyword + ": "))

    def test_a_sale_needs_a_click(self):
        with self.assertRaises(cashback.FieldError) as cm:
            self.c.sale(order_id="x", amount="1.00", currency="EUR")
        self.assertEqual(cm.exception.status, 10)
        self.assertTrue(str(cm.exception).startswith("click: "))

    def test_nul_in_a_value(self):
        with self.assertRaises(cashback.FieldError) as cm:
            self.c.sale(order_id="a\0b", amount="1.00", currency="EUR")
        self.assertEqual(cm.exception.keyword, "order_id")

    def test_refund_fields_on_a_sale(self):
        with self.assertRaises(cashback.FieldError):
            self.c.sale(refund_id="r1", **SALE)

    def test_item_errors(self):
        bad = [({"sku": "A", "quantity": 0, "unit_price": "1.00"},
                cashback.FieldError, "items[0].quantity"),
               ({"sku": "A", "quantity": 1, "unit_price": "1.001"},
                cashback.FieldError, "items[0].unit_price"),
               ({"sku": "", "quantity": 1, "unit_price": "1.00"},
                cashback.FieldError, "items[0]"),
               ({"sku": "A", "quantity": 1}, TypeError, "'unit_price' is required"),
               ({"sku": "A", "quantity": "1", "unit_price": "1"}, TypeError,
                "items[0].quantity"),
               ({"sku": "A", "quantity": 1, "unit_price": 100}, TypeError,
                "items[0].unit_price"),
               ({"sku": "A", "qty": 1}, TypeError, "unknown key 'qty'"),
               ("A:1:1.00", TypeError, "expected a dict")]
        for item, exc, text in bad:
            with self.subTest(item=item):
                with self.assertRaises(exc) as cm:
                    self.c.sale(items=[item], **SALE)
                self.assertIn(text, str(cm.exception))
                if exc is cashback.FieldError:
                    self.assertEqual(cm.exception.keyword, "items[0]")

    def test_unknown_keyword_and_types(self):
        with self.assertRaisesRegex(TypeError, "unexpected keyword argument 'colour'"):
            self.c.sale(colour="red", **SALE)
        with self.assertRaises(TypeError):
            self.c.sale(test="yes", **SALE)
        with self.assertRaises(TypeError):
            self.c.sale(meta=["x"], **SALE)
        with self.assertRaises(TypeError):
            self.c.sale(order_id=1001, amount="1.00", currency="EUR")
        with self.assertRaises(cashback.FieldError):
            self.c.report("purchase", **SALE)

    def test_too_big(self):
        with self.assertRaises(cashback.FieldError) as cm:
            self.c.sale(meta={"k%d" % i: "v" * 100 for i in range(700)}, **SALE)
        self.assertTrue(cm.exception.keyword.startswith("meta["), str(cm.exception))


class SpoolFlushTest(unittest.TestCase):
    def test_spool_unusable(self):
        blocker = os.path.join(WORK, "not-a-dir")
        open(blocker, "w").close()
        with self.assertRaises(cashback.Error) as cm:
            c = cashback.Client(conf(spool_dir=blocker + "/spool"))
            c.sale(**SALE)
        self.assertNotIn(SECRET, str(cm.exception))

    def test_flush_argument_errors(self):
        c = cashback.Client(conf())
        with self.assertRaises(ValueError):
            c.flush(-1)
        with self.assertRaises(TypeError):
            c.flush("1")

    def test_flush_network_down_is_false(self):
        c = cashback.Client(conf(endpoint="http://127.0.0.1:9/v1/events"))
        c.confirm(order_id=RUN + "down-1")
        self.assertFalse(c.flush(1))

    def test_flush_releases_the_gil(self):
        c = cashback.Client(conf())
        c.confirm(order_id=RUN + "gil-1")
        control(slow_ms=1500, count=1)
        done = []
        t = threading.Thread(target=lambda: done.append(c.flush(20)))
        t0 = time.monotonic()
        t.start()
        ticks = 0
        while t.is_alive():
            ticks += 1
            time.sleep(0.01)
        t.join()
        self.assertEqual(done, [True])
        self.assertGreaterEqual(time.monotonic() - t0, 1.4)
        self.assertGreater(ticks, 50)  # this thread ran during the flush

    def test_fork_child_makes_its_own_client(self):
        c = cashback.Client(conf())
        c.confirm(order_id=RUN + "fork-parent")
        native = c._native
        pid = os.fork()
        if pid == 0:
            code = 1
            try:
                c.confirm(order_id=RUN + "fork-child")
                code = 0 if c._native is not native and c.flush(20) else 2
            finally:
                os._exit(code)
        _, st = os.waitpid(pid, 0)
        self.assertEqual(os.waitstatus_to_exitcode(st), 0)
        self.assertIs(c._native, native)
        self.assertTrue(c.flush(20))


class StatusQuarantineTest(unittest.TestCase):
    def test_status_quarantine_replay(self):
        c = cashback.Client(conf())
        st = c.status()
        self.assertEqual((st["queued_events"], st["quarantined"],
                          st["paused"], st["last_success"]), (0, 0, False, 0))
        self.assertEqual(c.quarantine(), [])
        control(reject_index=0, count=1)
        eid = c.confirm(order_id=RUN + "q-1")
        self.assertEqual(c.status()["queued_events"], 1)
        self.assertTrue(c.flush(20))
        q = c.quarantine()
        self.assertEqual([(e["id"], e["reason"]) for e in q],
                         [(eid, "rejected_by_test")])
        self.assertIn('"order_id":"%sq-1"' % RUN, q[0]["event_json"].replace(" ", ""))
        self.assertGreater(q[0]["quarantined_at"], 0)
        self.assertEqual(c.status()["quarantined"], 1)
        with self.assertRaises(cashback.NotFoundError) as cm:
            c.replay("0" * 32)
        self.assertEqual((cm.exception.status, cm.exception.keyword), (26, "id"))
        self.assertIsInstance(cm.exception, LookupError)
        with self.assertRaises(ValueError):
            c.replay("a\0b")
        self.assertEqual(c.replay(eid), 1)
        self.assertTrue(c.flush(20))
        st = c.status()
        self.assertEqual((st["queued_events"], st["quarantined"]), (0, 0))
        self.assertGreater(st["last_success"], 0)
        self.assertEqual(c.replay(), 0)


class AsyncClientTest(unittest.TestCase):
    def test_blocking_calls_leave_the_loop_free(self):
        import asyncio
        from cashback.aio import AsyncClient
        c = AsyncClient(conf())
        self.assertEqual(c.merchant_id, "py-shop")
        self.assertEqual(c.cookie_name, "cashback_click")
        handle = c.capture("cb_click=aio-tok").value
        self.assertEqual(c.click(handle).token, "aio-tok")
        with self.assertRaises(AttributeError):
            c.nothing

        async def main():
            eid = await c.sale(order_id=RUN + "aio-1", amount="3.00",
                               currency="EUR", click=handle)
            control(slow_ms=1000, count=1)
            ticks = 0
            task = asyncio.ensure_future(c.flush(20))
            while not task.done():
                ticks += 1
                await asyncio.sleep(0.01)
            st = await c.status()
            with self.assertRaises(cashback.FieldError):
                await c.sale(order_id="x", amount="1.001", currency="EUR",
                             click=handle)
            return eid, task.result(), ticks, st

        eid, flushed, ticks, st = asyncio.run(main())
        self.assertRegex(eid, "^[0-9a-f]{32}$")
        self.assertTrue(flushed)
        self.assertGreater(ticks, 30)  # the loop ran during the slow flush
        self.assertEqual(st["queued_events"], 0)


class EndToEndTest(unittest.TestCase):
    def test_sale_reaches_the_network(self):
        c = cashback.Client(conf())
        base = stats()
        landing = c.capture("/?cb_click=e2e-tok")
        handle = c.click(landing.value).handle   # stored with the order
        sale_id = c.sale(order_id=RUN + "e2e-1", amount=Decimal("74.80"),
                         currency="EUR", click=handle,
                         items=[{"sku": "mug", "quantity": 2,
                                 "unit_price": "37.40", "name": "Mug"}])
        self.assertTrue(c.flush(20))
        st = stats()
        self.assertEqual(st["accepted"] - base["accepted"], 1)
        self.assertEqual(st["bad_signature"], base["bad_signature"])
        self.assertIn(sale_id, st["events"])
        ev = [e for e in stored() if e["id"] == sale_id]
        self.assertEqual(ev, [{"id": sale_id, "type": "sale",
                               "order_id": RUN + "e2e-1", "amount": 7480,
                               "currency": "EUR"}])
        # a reload of the thank-you page: the same id, counted once
        self.assertEqual(c.sale(order_id=RUN + "e2e-1", amount=Decimal("74.80"),
                                currency="EUR", click=handle,
                                items=[{"sku": "mug", "quantity": 2,
                                        "unit_price": "37.40",
                                        "name": "Mug"}]), sale_id)
        self.assertTrue(c.flush(20))
        self.assertEqual(stats()["accepted"] - base["accepted"], 1)


class ReadCookieReportHeaderTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.c = cashback.Client(conf())

    def test_read_cookie(self):
        v = self.c.capture("cb_click=rc-1").value
        click = self.c.read_cookie("a=b; cashback_click=%s; c=d" % v)
        self.assertEqual((click.token, click.handle), ("rc-1", v))
        self.assertIsNone(self.c.read_cookie("a=b"))
        self.assertIsNone(self.c.read_cookie(None))
        self.assertIsNone(self.c.read_cookie(""))
        with self.assertRaises(cashback.ClickError):
            self.c.read_cookie("cashback_click=1.2.%s.cb_click.x" % ("0" * 32))

    def test_report_header(self):
        v = self.c.capture("cb_click=rh-1").value
        eid, st, not_stored, detail = self.c.report_header(
            "type=sale;order_id=rh-1;amount=1.00;currency=EUR",
            "cashback_click=" + v)
        self.assertEqual((st, not_stored, detail), (0, False, ""))
        self.assertRegex(eid, "^[0-9a-f]{32}$")
        eid, st, not_stored, detail = self.c.report_header(
            "type=sale;order_id=rh-2;amount=1.999;currency=EUR", None)
        self.assertEqual((eid, st, not_stored), ("", 8, False))
        self.assertIn("amount", detail)
        # a sale without click nor cookie is not an event either
        _, st, not_stored, _ = self.c.report_header(
            b"type=sale;order_id=rh-3;amount=1.00;currency=EUR", "")
        self.assertEqual((st, not_stored), (10, False))
        with self.assertRaises(TypeError):
            self.c.report_header(None, None)

    def test_report_header_not_stored(self):
        blocker = os.path.join(WORK, "not-a-dir-2")
        open(blocker, "w").close()
        try:
            c = cashback.Client(conf(spool_dir=blocker + "/spool"))
        except cashback.Error:
            self.skipTest("the client checks its spool at once")
        _, st, not_stored, detail = c.report_header("type=confirm;order_id=1")
        self.assertNotEqual(st, 0)
        self.assertTrue(not_stored, detail)
        self.assertNotIn(SECRET, detail)


class WsgiTest(unittest.TestCase):
    """cashback.wsgi.CashbackMiddleware under wsgiref on 127.0.0.1."""

    @classmethod
    def setUpClass(cls):
        import wsgiref.simple_server
        from cashback.wsgi import CashbackMiddleware
        cls.client = cashback.Client(conf())
        cls.closed = []

        class Body(list):
            def close(inner):
                cls.closed.append(True)

        def shop(environ, start_response):
            path = environ["PATH_INFO"]
            headers = [("Content-Type", "text/plain"),
                       ("Cache-Control", "public, max-age=600")]
            if path == "/checkout":
                click = environ["cashback.click"]
                body = click.handle if click else "no click"
            elif path == "/paid":
                order = environ["QUERY_STRING"].split("=")[1]
                headers.append(("X-Cashback-Event", "type=sale;order_id=%s;"
                                "amount=74.80;currency=EUR" % order))
                headers.append(("x-cashback-event",
                                "type=confirm;order_id=%s" % order))
                body = "paid"
            elif path == "/bad":
                headers.append(("X-Cashback-Event", "type=sale;order_id=b"))
                body = "bad"
            else:
                body = "landing"
            start_response("200 OK", headers)
            return Body([body.encode()])

        class Quiet(wsgiref.simple_server.WSGIRequestHandler):
            def log_message(self, *args):
                pass

        cls.server = wsgiref.simple_server.make_server(
            "127.0.0.1", 0, CashbackMiddleware(shop, cls.client),
            handler_class=Quiet)
        cls.port = cls.server.server_address[1]
        cls.thread = threading.Thread(target=cls.server.serve_forever,
                                      kwargs={"poll_interval": 0.05})
        cls.thread.start()

    @classmethod
    def tearDownClass(cls):
        cls.server.shutdown()
        cls.server.server_close()
        cls.thread.join(10)

    def get(self, path, cookie=None):
        import http.client
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=20)
        conn.request("GET", path, headers={"Cookie": cookie} if cookie else {})
        r = conn.getresponse()
        body = r.read().decode()
        conn.close()
        return r.status, r.headers, body

    def test_shop_journey(self):
        base = stats()
        st, h, body = self.get("/")
        self.assertEqual((st, body, h.get("Set-Cookie")), (200, "landing", None))
        self.assertEqual(h.get("Cache-Control"), "public, max-age=600")
        st, h, body = self.get("/?cb_click=wsgi-tok")
        sc = h.get("Set-Cookie")
        self.assertTrue(sc.startswith("cashback_click=1."), sc)
        self.assertIn("; HttpOnly", sc)
        self.assertEqual(h.get_all("Cache-Control"), ["private"])
        pair = sc.split(";")[0]
        st, h, body = self.get("/checkout", cookie="theme=dark; " + pair)
        self.assertEqual(body, pair.split("=", 1)[1])
        st, h, body = self.get("/checkout")
        self.assertEqual(body, "no click")
        st, h, body = self.get("/paid?order=%sw-1" % RUN, cookie=pair)
        self.assertEqual((st, body), (200, "paid"))
        self.assertIsNone(h.get("X-Cashback-Event"))
        st, h, body = self.get("/paid?order=%sw-1" % RUN, cookie=pair)  # reload
        st, h, body = self.get("/bad")
        self.assertEqual((st, body), (200, "bad"))
        self.assertIsNone(h.get("X-Cashback-Event"))
        self.assertTrue(self.closed)  # the body's close() was kept
        self.assertTrue(self.client.flush(20))
        s = stats()
        self.assertEqual(s["accepted"] - base["accepted"], 2)
        sale = [e for e in stored() if e["order_id"] == RUN + "w-1"
                and e["type"] == "sale"]
        self.assertEqual(len(sale), 1)
        self.assertEqual(sale[0]["amount"], 7480)
        self.assertEqual(s["clicks"][sale[0]["id"]]["token"], "wsgi-tok")

    def test_failure_policy(self):
        from cashback.wsgi import CashbackMiddleware
        with self.assertRaises(ValueError):
            CashbackMiddleware(lambda e, s: [], self.client, failure="500")
        blocker = os.path.join(WORK, "not-a-dir-3")
        open(blocker, "w").close()
        broken = cashback.Client(conf(spool_dir=blocker + "/spool"))
        body = [b"ok"]

        def webhook(environ, start_response):
            start_response("200 OK", [("X-Cashback-Event",
                                       "type=confirm;order_id=wh-1")])
            return body

        for policy, want in (("503", "503 Service Unavailable"),
                             ("pass", "200 OK")):
            got = []
            app = CashbackMiddleware(webhook, broken, failure=policy)
            out = app({"QUERY_STRING": "", "PATH_INFO": "/hook"},
                      lambda st, h, exc=None: got.append((st, h)))
            self.assertIs(out, body)  # the body iterable, untouched
            self.assertEqual(got, [(want, [])])
        # report=False: the header is still taken off, nothing is stored
        got = []
        CashbackMiddleware(webhook, broken, report=False, failure="503")(
            {"QUERY_STRING": ""}, lambda st, h, exc=None: got.append((st, h)))
        self.assertEqual(got, [("200 OK", [])])


class AsgiTest(unittest.TestCase):
    """cashback.asgi.CashbackMiddleware, driven as an ASGI server would."""

    def run_app(self, mw, path, query=b"", cookie=None, scope_type="http"):
        import asyncio
        scope = {"type": scope_type, "path": path, "query_string": query,
                 "headers": [(b"host", b"shop")] +
                            ([(b"cookie", cookie)] if cookie else [])}
        sent = []

        async def receive():
            return {"type": "http.request", "body": b"", "more_body": False}

        async def send(message):
            sent.append(message)

        asyncio.run(mw(scope, receive, send))
        return sent

    def test_asgi_journey(self):
        from cashback.asgi import CashbackMiddleware
        client = cashback.Client(conf())
        seen = {}

        async def shop(scope, receive, send):
            seen["click"] = scope.get("cashback.click")
            headers = [(b"content-type", b"text/plain"),
                       (b"cache-control", b"public")]
            if scope["path"] == "/paid":
                headers.append((b"X-Cashback-Event",
                                b"type=sale;order_id=" + RUN.encode() + b"a-1;amount=12.50;"
                                b"currency=EUR"))
            await send({"type": "http.response.start", "status": 200,
                        "headers": headers})
            await send({"type": "http.response.body", "body": b"ok"})

        mw = CashbackMiddleware(shop, client)
        threads = []
        store = mw.policy.store

        def spy(*args):
            threads.append(threading.get_ident())
            return store(*args)

        mw.policy.store = spy
        base = stats()
        sent = self.run_app(mw, "/", b"cb_click=asgi-tok")
        start = dict(sent[0]["headers"])
        self.assertTrue(start[b"set-cookie"].startswith(b"cashback_click=1."))
        self.assertEqual(start[b"cache-control"], b"private")
        self.assertEqual(sent[1], {"type": "http.response.body", "body": b"ok"})
        pair = start[b"set-cookie"].split(b";")[0]
        self.run_app(mw, "/checkout", cookie=b"a=b; " + pair)
        self.assertEqual(seen["click"].token, "asgi-tok")
        sent = self.run_app(mw, "/paid", cookie=pair)
        names = [n.lower() for n, _ in sent[0]["headers"]]
        self.assertNotIn(b"x-cashback-event", names)
        self.assertEqual(sent[0]["status"], 200)
        self.assertEqual(len(threads), 1)
        self.assertNotEqual(threads[0], threading.get_ident())  # not the loop's
        self.assertTrue(client.flush(20))
        s = stats()
        self.assertEqual(s["accepted"] - base["accepted"], 1)
        sale = [e for e in stored() if e["order_id"] == RUN + "a-1"]
        self.assertEqual(sale[0]["amount"], 1250)
        self.assertEqual(s["clicks"][sale[0]["id"]]["token"], "asgi-tok")

    def test_asgi_503_and_other_scopes(self):
        from cashback.asgi import CashbackMiddleware
        blocker = os.path.join(WORK, "not-a-dir-4")
        open(blocker, "w").close()
        broken = cashback.Client(conf(spool_dir=blocker + "/spool"))
        calls = []

        async def hook(scope, receive, send):
            calls.append(scope["type"])
            if scope["type"] != "http":
                return
            await send({"type": "http.response.start", "status": 200,
                        "headers": [(b"x-cashback-event",
                                     b"type=confirm;order_id=h-1")]})

        for policy, want in (("503", 503), ("pass", 200)):
            sent = self.run_app(CashbackMiddleware(hook, broken,
                                                   failure=policy), "/hook")
            self.assertEqual((sent[0]["status"], sent[0]["headers"]), (want, []))
        self.run_app(CashbackMiddleware(hook, broken), "/", scope_type="lifespan")
        self.assertEqual(calls[-1], "lifespan")


def _have(module):
    try:
        __import__(module)
        return True
    except ImportError:
        return False


HAVE_DJANGO = _have("django")
HAVE_FLASK = _have("flask")


class SettingsTest(unittest.TestCase):
    """cashback._middleware.policy_from: the framework setting."""

    def test_forms(self):
        from cashback._middleware import cookie_kwargs, policy_from
        path = conf()
        p = policy_from(path)
        self.assertEqual((p.client.merchant_id, p.report, p.failure),
                         ("py-shop", True, "pass"))
        p = policy_from({"connection": connection(os.path.join(WORK, "sp-s")),
                         "report": False, "failure": "503"})
        self.assertEqual((p.client.merchant_id, p.report, p.failure),
                         ("py-conn", False, "503"))
        mine = cashback.Client(path)
        self.assertIs(policy_from({"failure": "503"}, mine).client, mine)
        self.assertIs(policy_from(None, mine).client, mine)
        with self.assertRaisesRegex(ValueError, "unknown key 'secret'"):
            policy_from({"secret": "x"})
        with self.assertRaisesRegex(TypeError, "config path or a dict"):
            policy_from(42)
        with self.assertRaises(ValueError):
            policy_from({"failure": "500"}, mine)
        with self.assertRaises(cashback.ConfigError):
            policy_from(os.path.join(WORK, "no-such.conf"))
        c = mine.capture("cb_click=kw-tok")
        self.assertEqual(cookie_kwargs(c), {
            "max_age": c.max_age, "path": c.path, "domain": c.domain or None,
            "secure": c.secure, "httponly": c.httponly,
            "samesite": c.samesite})


def _journey(test, get, run, tag):
    """landing, checkout, paid, reload, bad header, 503 policy: `get(path,
    cookies)` returns (status, headers dict-like with getlist, body,
    set-cookie values)."""
    base = stats()
    st, h, body, sc = get("/", None)
    test.assertEqual((st, body, sc), (200, "landing", []))
    test.assertEqual(h.get("Cache-Control"), "public, max-age=600")
    st, h, body, sc = get("/?cb_click=%s-tok" % tag, None)
    test.assertEqual(len(sc), 1, sc)
    test.assertTrue(sc[0].startswith("cashback_click=1."), sc)
    test.assertIn("HttpOnly", sc[0])
    test.assertIn("SameSite=", sc[0])
    test.assertEqual(h.get("Cache-Control"), "private")
    pair = sc[0].split(";")[0]
    st, h, body, sc = get("/checkout", "theme=dark; " + pair)
    test.assertEqual(body, pair.split("=", 1)[1])
    st, h, body, sc = get("/checkout", None)
    test.assertEqual(body, "no click")
    for _ in range(2):  # the thank-you page and its reload
        st, h, body, sc = get("/paid?order=%s%s-1" % (RUN, tag), pair)
        test.assertEqual((st, body), (200, "paid 1"))
        test.assertIsNone(h.get("X-Cashback-Event"))
    st, h, body, sc = get("/bad", None)
    test.assertEqual((st, body), (200, "bad 0"))
    test.assertIsNone(h.get("X-Cashback-Event"))
    test.assertTrue(run.flush(20))
    s = stats()
    test.assertEqual(s["accepted"] - base["accepted"], 1)
    sale = [e for e in stored() if e["order_id"] == RUN + tag + "-1"]
    test.assertEqual(len(sale), 1)
    test.assertEqual(sale[0]["amount"], 7480)
    test.assertEqual(s["clicks"][sale[0]["id"]]["token"], tag + "-tok")


def _broken_settings(tag):
    """(CASHBACK setting, the webhook's status): a spool that cannot be
    made, with failure="503" and with the default "pass"."""
    blocker = os.path.join(WORK, "not-a-dir-" + tag)
    open(blocker, "w").close()
    broken = conf(spool_dir=blocker + "/spool")
    return (({"config": broken, "failure": "503"}, 503), (broken, 200))


@unittest.skipUnless(HAVE_DJANGO, "python3-django is not installed (Debian)")
class DjangoTest(unittest.TestCase):
    """cashback.django.CashbackMiddleware through Django's test Client."""

    @classmethod
    def setUpClass(cls):
        import django
        from django.conf import settings
        from django.http import HttpResponse
        from django.urls import path

        def landing(request):
            r = HttpResponse("landing", content_type="text/plain")
            r["Cache-Control"] = "public, max-age=600"
            return r

        def checkout(request):
            c = request.cashback_click
            return HttpResponse(c.handle if c else "no click")

        def paid(request):
            r = HttpResponse("paid")
            r["X-Cashback-Event"] = ("type=sale;order_id=%s;amount=74.80;"
                                     "currency=EUR" % request.GET["order"])
            return r

        def bad(request):
            r = HttpResponse("bad")
            r["X-Cashback-Event"] = "type=sale;order_id=b"
            return r

        def hook(request):  # a payment webhook
            r = HttpResponse("hook")
            r["X-Cashback-Event"] = "type=confirm;order_id=dj-h"
            return r

        class Urls:
            urlpatterns = [path("", landing), path("checkout", checkout),
                           path("paid", paid), path("bad", bad),
                           path("hook", hook)]

        cls.config = conf()
        cls.urls = Urls()
        if not settings.configured:
            settings.configure(
                DEBUG=False, SECRET_KEY="python-test", ALLOWED_HOSTS=["*"],
                ROOT_URLCONF=cls.urls, INSTALLED_APPS=[], DATABASES={},
                MIDDLEWARE=["python_test.DjangoReported",
                            "cashback.django.CashbackMiddleware"],
                CASHBACK={"config": cls.config})
            django.setup()

    def client(self):
        from django.test import Client
        return Client()

    def test_django_journey(self):
        c = self.client()

        def get(path, cookie):
            c.cookies.clear()
            kw = {"HTTP_COOKIE": cookie} if cookie else {}
            r = c.get(path, **kw)
            sc = [m.OutputString() for m in r.cookies.values()]
            return r.status_code, r, r.content.decode(), sc

        _journey(self, get, cashback.Client(self.config), "dj")

    def test_django_settings_and_503(self):
        from django.core.exceptions import ImproperlyConfigured
        from django.test import override_settings
        for setting, want in _broken_settings("dj"):
            with override_settings(CASHBACK=setting):
                r = self.client().get("/hook")
                self.assertEqual(r.status_code, want)
                self.assertFalse(r.has_header("X-Cashback-Event"))
        with override_settings(CASHBACK={"spool": "x"}):
            with self.assertRaisesRegex(ImproperlyConfigured, "unknown key"):
                self.client().get("/")
        from cashback.django import CashbackMiddleware

        class Mine(CashbackMiddleware):
            client = cashback.Client(self.config)

        with override_settings(CASHBACK={"failure": "503"}):
            mw = Mine(lambda request: None)
        self.assertIs(mw.policy.client, Mine.client)
        self.assertEqual(mw.policy.failure, "503")


def DjangoReported(get_response):
    """Outside cashback's middleware: appends how many events it stored
    (request.cashback_reported) to the body of /paid and /bad."""
    def middleware(request):
        r = get_response(request)
        if request.path in ("/paid", "/bad") and r.status_code == 200:
            ids = getattr(request, "cashback_reported", [])
            r.content = r.content + b" %d" % len(set(ids))
        return r
    return middleware


@unittest.skipUnless(HAVE_FLASK, "python3-flask is not installed (Debian)")
class FlaskTest(unittest.TestCase):
    """cashback.flask.Cashback through Flask's test_client."""

    def make_app(self, setting, late=False):
        import flask
        from cashback.flask import Cashback
        app = flask.Flask("shop-%d" % id(setting))
        app.config["CASHBACK"] = setting

        @app.route("/")
        def landing():
            return "landing", 200, {"Cache-Control": "public, max-age=600",
                                    "Content-Type": "text/plain"}

        @app.route("/checkout")
        def checkout():
            c = flask.request.cashback_click
            return c.handle if c else "no click"

        @app.route("/paid")
        def paid():
            order = flask.request.args["order"]
            r = flask.make_response("paid")
            r.headers.add("X-Cashback-Event", "type=sale;order_id=%s;"
                          "amount=74.80;currency=EUR" % order)
            r.headers.add("x-cashback-event", "type=sale;order_id=%s;"
                          "amount=74.80;currency=EUR" % order)
            return r

        @app.route("/bad")
        def bad():
            r = flask.make_response("bad")
            r.headers["X-Cashback-Event"] = "type=sale;order_id=b"
            return r

        @app.route("/hook")
        def hook():  # a payment webhook
            return "hook", 200, {"X-Cashback-Event":
                                 "type=confirm;order_id=fl-h"}

        @app.after_request
        def shown(r):  # registered first, so it runs after cashback's
            if flask.request.path in ("/paid", "/bad") and r.status_code == 200:
                ids = getattr(flask.request, "cashback_reported", [])
                r.set_data("%s %d" % (r.get_data(as_text=True),
                                      len(set(ids))))
            return r

        if late:
            ext = Cashback()
            ext.init_app(app)
        else:
            Cashback(app)
        return app

    def test_flask_journey(self):
        path = conf()
        c = self.make_app(path, late=True).test_client(use_cookies=False)

        def get(p, cookie):
            r = c.get(p, headers={"Cookie": cookie} if cookie else {})
            return (r.status_code, r.headers, r.get_data(as_text=True),
                    r.headers.getlist("Set-Cookie"))

        _journey(self, get, cashback.Client(path), "fl")

    def test_flask_settings_and_503(self):
        from cashback.flask import Cashback
        for setting, want in _broken_settings("fl"):
            r = self.make_app(setting).test_client().get("/hook")
            self.assertEqual(r.status_code, want)
            self.assertNotIn("X-Cashback-Event", r.headers)
        import flask
        app = flask.Flask("shop-client")
        mine = cashback.Client(conf())
        Cashback(app, client=mine)
        with app.app_context():
            self.assertIs(Cashback.client_of(), mine)
        app.config["CASHBACK"] = {"spool": "x"}
        with self.assertRaisesRegex(ValueError, "unknown key"):
            Cashback(app)


if __name__ == "__main__":
    unittest.main()
