"""WSGI middleware: capture, the click on the request, the report header.

    from cashback.wsgi import CashbackMiddleware
    application = CashbackMiddleware(application, cashback.Client(...))

- capture: a request whose query string carries a click gets the click
  cookie (Set-Cookie) and Cache-Control: private on its response;
- environ["cashback.click"]: the request's click (a cashback.Click) or None;
- every X-Cashback-Event response header is taken off the response and,
  with report=True, stored (cashback_report_text); a failure is logged and
  the page passes through, or with failure="503" a valid event that could
  not be stored turns the response into a 503 (payment webhooks retry).

Only start_response is wrapped: the body iterable is returned untouched
(its close() kept).
"""

import logging
from typing import Any, Callable, Iterable, Optional

from . import Client, Cookie, Error

__all__ = ["CashbackMiddleware", "REPORT_HEADER"]

REPORT_HEADER = "x-cashback-event"
log = logging.getLogger("cashback")


def set_cookie_value(c: Cookie) -> str:
    """The Set-Cookie value of a captured click cookie."""
    parts = ["%s=%s" % (c.name, c.value), "Max-Age=%d" % c.max_age,
             "Path=%s" % c.path]
    if c.domain:
        parts.append("Domain=%s" % c.domain)
    if c.secure:
        parts.append("Secure")
    if c.httponly:
        parts.append("HttpOnly")
    parts.append("SameSite=%s" % c.samesite)
    return "; ".join(parts)


class CashbackMiddleware:
    def __init__(self, app: Callable, client: Optional[Client] = None, *,
                 report: bool = True, failure: str = "pass") -> None:
        if failure not in ("pass", "503"):
            raise ValueError("failure: 'pass' or '503'")
        self.app = app
        self.client = client if client is not None else Client()
        self.report = report
        self.failure = failure

    def _capture(self, environ) -> Optional[Cookie]:
        qs = environ.get("QUERY_STRING", "")
        if not qs:
            return None
        try:
            return self.client.capture(qs)
        except Error as e:
            log.warning("cashback: landing: %s", e)
            return None

    def _click(self, environ):
        try:
            return self.client.read_cookie(environ.get("HTTP_COOKIE"))
        except Error as e:
            log.info("cashback: click cookie: %s", e)
            return None

    def __call__(self, environ, start_response) -> Iterable[bytes]:
        cookie = self._capture(environ)
        environ["cashback.click"] = self._click(environ)
        cookie_header = environ.get("HTTP_COOKIE")

        def wrapped(status: str, headers: list, exc_info: Any = None):
            kept, events = [], []
            for name, value in headers:
                if name.lower() == REPORT_HEADER:
                    events.append(value)
                else:
                    kept.append((name, value))
            if events and self.report:
                for text in events:
                    eid, st, not_stored, detail = self.client.report_header(
                        text, cookie_header)
                    if st == 0:
                        environ.setdefault("cashback.reported", []).append(eid)
                        continue
                    log.error("cashback: report header not %s: %s",
                              "stored" if not_stored else "an event", detail)
                    if not_stored and self.failure == "503":
                        status = "503 Service Unavailable"
            if cookie is not None:
                kept = [(n, v) for n, v in kept if n.lower() != "cache-control"]
                kept.append(("Set-Cookie", set_cookie_value(cookie)))
                kept.append(("Cache-Control", "private"))
            if exc_info is not None:
                return start_response(status, kept, exc_info)
            return start_response(status, kept)

        return self.app(environ, wrapped)
