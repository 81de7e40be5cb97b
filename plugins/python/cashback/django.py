"""Django middleware: capture, the click on the request, the report header.

    # settings.py
    MIDDLEWARE = ["cashback.django.CashbackMiddleware", ...]
    CASHBACK = "/etc/cashback/shop.conf"   # or a dict: config, connection,
                                           # env, report, failure

- capture: a request whose query string carries a click gets the click
  cookie through response.set_cookie() and Cache-Control: private;
- request.cashback_click: the request's click (a cashback.Click) or None;
- an X-Cashback-Event response header is taken off the response and, with
  report=True (the default), stored; request.cashback_reported lists the
  ids. A failure is logged and the page passes through, or with
  failure="503" a valid event that could not be stored turns the response
  into a 503 (payment webhooks retry).

The logic is cashback._middleware's (the same as cashback.wsgi's); the
client is made once per process that serves (fork-safe, see cashback.Client).
"""

from typing import Callable, Optional

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from . import Client
from ._middleware import REPORT_HEADER, cookie_kwargs, policy_from

__all__ = ["CashbackMiddleware", "REPORT_HEADER"]


class CashbackMiddleware:
    client: Optional[Client] = None  # a subclass may set one

    def __init__(self, get_response: Callable) -> None:
        self.get_response = get_response
        try:
            self.policy = policy_from(getattr(settings, "CASHBACK", None),
                                      self.client)
        except (TypeError, ValueError) as e:
            raise ImproperlyConfigured(str(e)) from e
        self.client = self.policy.client

    def __call__(self, request):
        p = self.policy
        cookie = p.capture(request.META.get("QUERY_STRING", ""))
        cookie_header = request.META.get("HTTP_COOKIE")
        request.cashback_click = p.click(cookie_header)
        response = self.get_response(request)
        if response.has_header(REPORT_HEADER):
            events = [response[REPORT_HEADER]]
            del response[REPORT_HEADER]
            ids, fail = p.store(events, cookie_header)
            request.cashback_reported = ids
            if fail:
                response.status_code = 503
        if cookie is not None:
            response.set_cookie(cookie.name, cookie.value, **cookie_kwargs(cookie))
            response["Cache-Control"] = "private"
        return response
