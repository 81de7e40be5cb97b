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

from typing import Any, Callable, Iterable, Optional

from . import Client
from ._middleware import REPORT_HEADER, Policy, set_cookie_value

__all__ = ["CashbackMiddleware", "REPORT_HEADER"]


class CashbackMiddleware:
    def __init__(self, app: Callable, client: Optional[Client] = None, *,
                 report: bool = True, failure: str = "pass") -> None:
        self.app = app
        self.policy = Policy(client, report, failure)
        self.client = self.policy.client

    def __call__(self, environ, start_response) -> Iterable[bytes]:
        p = self.policy
        cookie = p.capture(environ.get("QUERY_STRING", ""))
        cookie_header = environ.get("HTTP_COOKIE")
        environ["cashback.click"] = p.click(cookie_header)

        def wrapped(status: str, headers: list, exc_info: Any = None):
            kept, events = p.split(headers)
            ids, fail = p.store(events, cookie_header)
            if ids:
                environ.setdefault("cashback.reported", []).extend(ids)
            if fail:
                status = "503 Service Unavailable"
            if cookie is not None:
                kept = [(n, v) for n, v in kept if n.lower() != "cache-control"]
                kept.append(("Set-Cookie", set_cookie_value(cookie)))
                kept.append(("Cache-Control", "private"))
            if exc_info is not None:
                return start_response(status, kept, exc_info)
            return start_response(status, kept)

        return self.app(environ, wrapped)
