"""What the WSGI and ASGI middlewares share: the capture, the click, the
report headers taken off a response and stored, the failure policy."""

import logging
import os
from typing import Any, List, Mapping, Optional, Tuple

from . import Client, Cookie, Error

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


def cookie_kwargs(c: Cookie) -> dict:
    """The keyword arguments of Django's and Flask's response.set_cookie()
    for a captured click cookie (c.name, c.value go first)."""
    return {"max_age": c.max_age, "path": c.path,
            "domain": c.domain or None, "secure": c.secure,
            "httponly": c.httponly, "samesite": c.samesite}


SETTINGS = ("config", "connection", "env", "report", "failure")


def policy_from(conf: Any, client: Optional[Client] = None) -> "Policy":
    """A Policy from a framework's setting (Django's settings.CASHBACK,
    Flask's app.config["CASHBACK"]): None (the environment), a config
    file's path, or a dict of config, connection, env, report, failure.
    `client` (made by the shop) takes the place of config/connection/env."""
    if conf is None:
        conf = {}
    elif isinstance(conf, (str, os.PathLike)):
        conf = {"config": conf}
    elif not isinstance(conf, Mapping):
        raise TypeError("CASHBACK: expected a config path or a dict, not %s"
                        % type(conf).__name__)
    unknown = sorted(set(conf) - set(SETTINGS))
    if unknown:
        raise ValueError("CASHBACK: unknown key %r (known: %s)"
                         % (unknown[0], ", ".join(SETTINGS)))
    if client is None and any(k in conf for k in SETTINGS[:3]):
        client = Client(conf.get("config"), connection=conf.get("connection"),
                        env=conf.get("env"))
    return Policy(client, bool(conf.get("report", True)),
                  conf.get("failure", "pass"))


class Policy:
    def __init__(self, client: Optional[Client], report: bool,
                 failure: str) -> None:
        if failure not in ("pass", "503"):
            raise ValueError("failure: 'pass' or '503'")
        self.client = client if client is not None else Client()
        self.report = report
        self.failure = failure

    def capture(self, query) -> Optional[Cookie]:
        if not query:
            return None
        try:
            return self.client.capture(query)
        except Error as e:
            log.warning("cashback: landing: %s", e)
            return None

    def click(self, cookie_header):
        try:
            return self.client.read_cookie(cookie_header)
        except Error as e:
            log.info("cashback: click cookie: %s", e)
            return None

    @staticmethod
    def split(headers) -> Tuple[list, list]:
        """(the headers kept, the report header values)."""
        kept, events = [], []
        for name, value in headers:
            low = name.lower()
            if low == REPORT_HEADER or low == REPORT_HEADER.encode():
                events.append(value)
            else:
                kept.append((name, value))
        return kept, events

    def store(self, events, cookie_header) -> Tuple[List[str], bool]:
        """Stores each report header value: (the ids, whether the response
        must become a 503). Blocks (fdatasync)."""
        ids, fail = [], False
        if not self.report:
            return ids, fail
        for text in events:
            eid, st, not_stored, detail = self.client.report_header(
                text, cookie_header)
            if st == 0:
                ids.append(eid)
                continue
            log.error("cashback: report header not %s: %s",
                      "stored" if not_stored else "an event", detail)
            fail = fail or (not_stored and self.failure == "503")
        return ids, fail
