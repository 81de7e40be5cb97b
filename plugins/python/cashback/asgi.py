"""Pure ASGI middleware (Starlette, FastAPI, any ASGI 3 application): the
same as cashback.wsgi, wrapping `send` only.

    from cashback.asgi import CashbackMiddleware
    app = CashbackMiddleware(app, cashback.Client(...))

scope["cashback.click"] is the request's click (or None). The report
headers are stored in a thread (asyncio.to_thread): the event loop never
waits on fdatasync. Other scopes (websocket, lifespan) pass through.
"""

import asyncio
from typing import Any, Awaitable, Callable, Optional

from . import Client
from ._middleware import REPORT_HEADER, Policy, set_cookie_value

__all__ = ["CashbackMiddleware", "REPORT_HEADER"]


class CashbackMiddleware:
    def __init__(self, app: Callable[..., Awaitable[Any]],
                 client: Optional[Client] = None, *, report: bool = True,
                 failure: str = "pass") -> None:
        self.app = app
        self.policy = Policy(client, report, failure)
        self.client = self.policy.client

    async def __call__(self, scope, receive, send) -> None:
        if scope.get("type") != "http":
            await self.app(scope, receive, send)
            return
        p = self.policy
        cookie = p.capture(scope.get("query_string", b""))
        cookie_header = b"; ".join(v for k, v in scope.get("headers", ())
                                   if k.lower() == b"cookie")
        scope = dict(scope)
        scope["cashback.click"] = p.click(cookie_header)

        async def wrapped(message) -> None:
            if message.get("type") == "http.response.start":
                kept, events = p.split(message.get("headers", ()))
                message = dict(message)
                if events:
                    ids, fail = await asyncio.to_thread(p.store, events,
                                                        cookie_header)
                    if fail:
                        message["status"] = 503
                if cookie is not None:
                    kept = [(n, v) for n, v in kept
                            if n.lower() != b"cache-control"]
                    kept.append((b"set-cookie",
                                 set_cookie_value(cookie).encode("latin-1")))
                    kept.append((b"cache-control", b"private"))
                message["headers"] = kept
            await send(message)

        await self.app(scope, receive, wrapped)
