"""cashback: libcashback for Python shops (docs/python.md).

    client = cashback.Client("/etc/cashback.conf")
    cookie = client.capture(query_string)     # landing: None or a Cookie
    click = client.click(request.COOKIES.get(client.cookie_name))
    client.sale(order_id="1001", amount=Decimal("49.90"), currency="EUR",
                click=order.click_handle)

A Client makes its native client lazily, in the process that uses it, so a
pre-fork server (gunicorn --preload, uWSGI) may make one at import.
"""

import datetime as _dt
import decimal as _decimal
import os as _os
import threading as _threading
from typing import Any, Iterable, Mapping, NamedTuple, Optional, Union

from . import _native
from ._errors import (ClickError, ConfigError, Error, FieldError,
                      NetworkError, NotFoundError, SpoolError)

__all__ = ["Client", "Cookie", "Click", "Error", "ConfigError", "ClickError",
           "FieldError", "SpoolError", "NetworkError", "NotFoundError"]

Amount = Union[_decimal.Decimal, str, int]


class Cookie(NamedTuple):
    """The click cookie, for the framework's own cookie API."""
    name: str
    value: str
    max_age: int
    path: str
    domain: str
    secure: bool
    httponly: bool
    samesite: str


class Click(NamedTuple):
    """A verified click: store `handle` with the order."""
    token: str
    source: str
    captured_at: int
    handle: str


def _text(name, value):
    if isinstance(value, (str, bytes)):
        return value if isinstance(value, str) else value.decode("utf-8")
    raise TypeError("%s: expected str, not %s" % (name, type(value).__name__))


def _amount(name, value):
    """An exact decimal string; never from a float."""
    if isinstance(value, bool) or isinstance(value, float):
        raise TypeError("%s: money is never a float: give a decimal.Decimal, "
                        "an exact str or int minor units" % name)
    if isinstance(value, _decimal.Decimal):
        if not value.is_finite():
            raise FieldError(10, "an event field is invalid", name,
                             "%s: %s is not an amount" % (name, value))
        return format(value, "f")
    if isinstance(value, str):
        return value
    raise TypeError("%s: expected decimal.Decimal, str or int, not %s"
                    % (name, type(value).__name__))


def _fields(kind, kw):
    """(key, value) pairs of docs/events.md and the item tuples."""
    pairs = [("type", kind)]
    items = []
    for name, value in kw.items():
        if value is None:
            continue
        if name == "amount":
            if isinstance(value, int) and not isinstance(value, bool):
                pairs.append(("amount_minor", str(value)))
            else:
                pairs.append(("amount", _amount(name, value)))
        elif name == "vouchers":
            if isinstance(value, (str, bytes)):
                value = [value]
            for v in value:
                pairs.append(("voucher", _text(name, v)))
        elif name == "test":
            if not isinstance(value, bool):
                raise TypeError("test: expected bool")
            pairs.append(("test", "true" if value else "false"))
        elif name in ("utc_offset",):
            if isinstance(value, bool) or not isinstance(value, int):
                raise TypeError("%s: expected int" % name)
            pairs.append((name, str(value)))
        elif name == "order_time":
            if isinstance(value, _dt.datetime):
                if value.tzinfo is None:
                    raise ValueError("order_time: a datetime needs a tzinfo")
                value = value.isoformat(timespec="seconds")
            elif isinstance(value, int) and not isinstance(value, bool):
                value = str(value)
            pairs.append((name, _text(name, value)))
        elif name == "meta":
            if not isinstance(value, Mapping):
                raise TypeError("meta: expected a mapping")
            for k, v in value.items():
                pairs.append(("meta." + _text("meta", k),
                              _text("meta[%r]" % k, v)))
        elif name == "items":
            for i, it in enumerate(value):
                items.append(_item(i, it))
        elif name in ("order_id", "currency", "click", "click_token",
                      "customer", "refund_id", "reason"):
            if name == "click" and isinstance(value, Click):
                value = value.handle
            pairs.append((name, _text(name, value)))
        else:
            raise TypeError("%s() got an unexpected keyword argument %r"
                            % (kind, name))
    return pairs, items


def _item(i, it):
    where = "items[%d]" % i
    if not isinstance(it, Mapping):
        raise TypeError("%s: expected a dict" % where)
    unknown = set(it) - {"sku", "name", "quantity", "unit_price", "category"}
    if unknown:
        raise TypeError("%s: unknown key %r" % (where, sorted(unknown)[0]))
    for k in ("sku", "quantity", "unit_price"):
        if k not in it:
            raise TypeError("%s: %r is required" % (where, k))
    qty = it["quantity"]
    if isinstance(qty, bool) or not isinstance(qty, int):
        raise TypeError("%s.quantity: expected int" % where)
    price = it["unit_price"]
    if isinstance(price, int) and not isinstance(price, bool):
        raise TypeError("%s.unit_price: give a decimal.Decimal or an exact "
                        "str (not int)" % where)
    name = it.get("name")
    cat = it.get("category")
    return (_text(where + ".sku", it["sku"]),
            None if name is None else _text(where + ".name", name),
            qty, _amount(where + ".unit_price", price),
            None if cat is None else _text(where + ".category", cat))


class Client:
    """A merchant's client: from a config file, a connection string and/or
    the environment (CASHBACK_CONFIG, CASHBACK_CONNECTION, CASHBACK_<KEY>),
    applied in that order. With no argument: the environment.

    The native client is made on first use in each process (fork-safe).
    """

    def __init__(self, config: Optional[Union[str, "_os.PathLike[str]"]] = None,
                 *, connection: Optional[Union[str, bytes]] = None,
                 env: Optional[bool] = None) -> None:
        if env is None:
            env = config is None and connection is None
        self._args = (None if config is None else _os.fspath(config),
                      connection, bool(env))
        self._lock = _threading.Lock()
        self._pid = None
        self._native = None
        self._get()  # configuration errors show at once

    def _get(self):
        pid = _os.getpid()
        if self._pid != pid:
            with self._lock:
                if self._pid != pid:
                    config, connection, env = self._args
                    self._native = _native.Client(config, connection, env)
                    self._pid = pid
        return self._native

    @property
    def cookie_name(self) -> str:
        """The click cookie's name (request.COOKIES.get(client.cookie_name))."""
        return self._get().cookie_name

    @property
    def merchant_id(self) -> str:
        return self._get().merchant_id

    def capture(self, target: Union[str, bytes]) -> Optional[Cookie]:
        """Landing: the cookie to set for a click in `target` (a query
        string or a request target), or None when it has none. Raises
        ClickError for a malformed click. Send Cache-Control: private."""
        parts = self._get().capture(target)
        return None if parts is None else Cookie(*parts)

    def click(self, handle: Optional[Union[str, bytes]]) -> Optional[Click]:
        """Verifies a click cookie's value (or a handle stored with the
        order). None for None or "". Raises ClickError when it is expired,
        tampered with or malformed."""
        if handle is None:
            return None
        parts = self._get().click(handle)
        return None if parts is None else Click(*parts)

    def status(self) -> dict:
        """The spool and the sender: queued_events, queued_bytes,
        oldest_age_s, quarantined, deferred, last_success, next_attempt,
        paused, last_status, last_error, read_errors, in_flight_since,
        spool_error, deferred_next (include/cashback.h)."""
        return self._get().status()

    def quarantine(self) -> list:
        """The events the network rejected, oldest first: dicts with id,
        reason, message, quarantined_at, event_json."""
        return self._get().quarantine()

    def replay(self, id: Optional[str] = None) -> int:
        """Puts the quarantined event `id` (None: every one) back into the
        spool; returns how many. Raises Error (status 26) for an unknown
        id."""
        return self._get().replay(id)

    def read_cookie(self, cookie_header: Optional[Union[str, bytes]]
                    ) -> Optional[Click]:
        """The click of a raw Cookie header (the newest valid cookie of the
        name wins), or None. Raises ClickError for an expired, tampered or
        malformed one."""
        if not cookie_header:
            return None
        parts = self._get().read_cookie(cookie_header)
        return None if parts is None else Click(*parts)

    def report_header(self, text: Union[str, bytes],
                      cookie_header: Optional[Union[str, bytes]] = None):
        """One X-Cashback-Event value (docs/events.md), stored durably; a
        sale naming no click gets the click of `cookie_header`. Returns
        (id, status, not_stored, detail): id "" and status != 0 on failure,
        not_stored True when a retry may store it. Never raises for the
        event itself."""
        return self._get().report_header(text, cookie_header)

    def report(self, kind: str, **fields: Any) -> str:
        """Stores an event of `kind` (sale, refund, cancel, confirm) durably;
        returns its id. Keywords: see sale()."""
        pairs, items = _fields(kind, fields)
        return self._get().report(pairs, items)

    def sale(self, **fields: Any) -> str:
        """order_id, amount (Decimal, exact str, or int minor units),
        currency, click (a handle or a Click) or click_token, vouchers,
        customer, items (dicts: sku, quantity, unit_price, name, category),
        order_time (aware datetime, RFC 3339 str or Unix seconds),
        utc_offset, test, meta (dict). Returns the event id."""
        return self.report("sale", **fields)

    def refund(self, **fields: Any) -> str:
        """order_id, amount, currency, refund_id, reason, items, ..."""
        return self.report("refund", **fields)

    def cancel(self, **fields: Any) -> str:
        """order_id, reason, ..."""
        return self.report("cancel", **fields)

    def confirm(self, **fields: Any) -> str:
        """order_id, ..."""
        return self.report("confirm", **fields)

    def flush(self, timeout: float = 10.0) -> bool:
        """Sends what the spool holds, for at most `timeout` seconds. True
        when everything was delivered, False when events remain for a
        later try. Blocks (the GIL is released): in asyncio, run it in a
        thread (await asyncio.to_thread(client.flush))."""
        if isinstance(timeout, bool) or not isinstance(timeout, (int, float)):
            raise TypeError("timeout: expected seconds")
        if timeout < 0:
            raise ValueError("timeout: must not be negative")
        return self._get().flush(int(timeout * 1000))
