"""Flask extension: capture, the click on the request, the report header.

    from cashback.flask import Cashback
    app.config["CASHBACK"] = "/etc/cashback/shop.conf"  # or a dict: config,
    Cashback(app)            # connection, env, report, failure
    # or: cb = Cashback(); ...; cb.init_app(app)

- capture: a request whose query string carries a click gets the click
  cookie through response.set_cookie() and Cache-Control: private;
- request.cashback_click: the request's click (a cashback.Click) or None;
- every X-Cashback-Event response header is taken off the response and,
  with report=True (the default), stored; request.cashback_reported lists
  the ids. A failure is logged and the page passes through, or with
  failure="503" a valid event that could not be stored turns the response
  into a 503.

The logic is cashback._middleware's (the same as cashback.wsgi's). Each app
gets its own policy (app.extensions["cashback"]); the client makes its
native client in the process that serves (fork-safe).
"""

from typing import Any, Optional

from flask import current_app, g, request

from . import Client
from ._middleware import REPORT_HEADER, Policy, cookie_kwargs, policy_from

__all__ = ["Cashback", "REPORT_HEADER"]


class Cashback:
    def __init__(self, app: Any = None, client: Optional[Client] = None) -> None:
        self._client = client
        if app is not None:
            self.init_app(app)

    def init_app(self, app: Any) -> Policy:
        policy = policy_from(app.config.get("CASHBACK"), self._client)
        app.extensions["cashback"] = policy
        app.before_request(_before)
        app.after_request(_after)
        return policy

    @staticmethod
    def client_of(app: Any = None) -> Client:
        """The client of `app` (default: the current app)."""
        return (app or current_app).extensions["cashback"].client


def _before() -> None:
    p = current_app.extensions["cashback"]
    g.cashback_cookie = p.capture(request.query_string)
    request.cashback_click = p.click(request.headers.get("Cookie"))


def _after(response):
    p = current_app.extensions["cashback"]
    events = response.headers.getlist(REPORT_HEADER)
    if events:
        del response.headers[REPORT_HEADER]
        ids, fail = p.store(events, request.headers.get("Cookie"))
        request.cashback_reported = ids
        if fail:
            response.status_code = 503
    cookie = g.pop("cashback_cookie", None)
    if cookie is not None:
        response.set_cookie(cookie.name, cookie.value, **cookie_kwargs(cookie))
        response.headers["Cache-Control"] = "private"
    return response
