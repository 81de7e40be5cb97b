"""asyncio: the blocking calls of cashback.Client in a thread.

    client = cashback.aio.AsyncClient("/etc/cashback/shop.conf")
    await client.sale(order_id=..., amount=..., currency="EUR", click=...)

report, sale, refund, cancel, confirm, report_header, flush, status,
quarantine and replay run with asyncio.to_thread (the event loop never
waits on fdatasync or the network); capture, click and read_cookie do no
I/O and are plain calls.
"""

import asyncio
import functools
from typing import Any

from . import Client

__all__ = ["AsyncClient"]

_BLOCKING = ("report", "sale", "refund", "cancel", "confirm", "report_header",
             "flush", "status", "quarantine", "replay")


class AsyncClient:
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.client = Client(*args, **kwargs)
        self.capture = self.client.capture
        self.click = self.client.click
        self.read_cookie = self.client.read_cookie

    @property
    def cookie_name(self) -> str:
        return self.client.cookie_name

    @property
    def merchant_id(self) -> str:
        return self.client.merchant_id

    def __getattr__(self, name: str):
        if name not in _BLOCKING:
            raise AttributeError(name)
        call = getattr(self.client, name)

        @functools.wraps(call)
        async def in_thread(*args: Any, **kwargs: Any):
            return await asyncio.to_thread(call, *args, **kwargs)

        return in_thread
