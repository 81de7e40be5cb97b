"""A small Starlette (ASGI) shop with cashback (docs/python.md, "ASGI"):

    CASHBACK_CONFIG=/etc/cashback/shop.conf SHOP_DB=/var/lib/shop/shop.sqlite3 \
      uvicorn --workers 2 --app-dir samples/python starlette_shop.app:app

landing (/?cb_click=...), /checkout?order=ID&amount=49.90, the thank-you
page /paid?order=ID (a reload reports the same event: counted once),
/refund?order=ID. The pages are plain functions: Starlette runs them in its
thread pool (the orders are in SQLite), and cashback.asgi stores the report
headers in a thread, never on the event loop.
"""

import os

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.responses import PlainTextResponse
from starlette.routing import Route

import cashback
import orders
from cashback.asgi import CashbackMiddleware


def _text(body, **headers):  # X-Shop-Worker: which worker served (the tests)
    return PlainTextResponse(body, headers={"X-Shop-Worker": str(os.getpid()),
                                            **headers})


def landing(request):
    return _text("Welcome to the Starlette shop\n")


def checkout(request):
    order, amount = request.query_params["order"], request.query_params["amount"]
    click = request.scope["cashback.click"]  # cashback
    orders.create(order, amount, click.handle if click else "")  # cashback
    return _text("order %s placed\n" % order)


def _page(request, text, event):
    order = request.query_params["order"]
    if orders.get(order) is None:
        raise HTTPException(404)
    return _text(text % order, **{"X-Cashback-Event": event(order)})  # cashback


def paid(request):
    return _page(request, "thank you for order %s\n", orders.sale_event)


def refund(request):
    return _page(request, "order %s refunded\n", orders.refund_event)


shop = Starlette(routes=[Route("/", landing), Route("/checkout", checkout),
                         Route("/paid", paid), Route("/refund", refund)])
app = CashbackMiddleware(shop, cashback.Client())  # cashback (CASHBACK_CONFIG)
