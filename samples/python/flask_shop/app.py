"""A small Flask shop with cashback (docs/python.md, "Flask"):

    CASHBACK_CONFIG=/etc/cashback/shop.conf SHOP_DB=/var/lib/shop/shop.sqlite3 \
      gunicorn -w 2 --chdir samples/python flask_shop.app:app

landing (/?cb_click=...), /checkout?order=ID&amount=49.90, the thank-you
page /paid?order=ID (a reload reports the same event: counted once),
/refund?order=ID. Flush the spool from cron: `cashback flush` or
cashback.Client(...).flush().
"""

import os

import flask

import orders
from cashback.flask import Cashback

app = flask.Flask(__name__)
app.config["CASHBACK"] = os.environ.get("CASHBACK_CONFIG", "/etc/cashback/shop.conf")  # cashback
Cashback(app)  # cashback


@app.after_request
def worker(response):  # which worker served (the tests look at it)
    response.headers["X-Shop-Worker"] = str(os.getpid())
    return response


@app.route("/")
def landing():
    return "Welcome to the Flask shop\n"


@app.route("/checkout")
def checkout():
    a = flask.request.args
    click = flask.request.cashback_click  # cashback
    orders.create(a["order"], a["amount"], click.handle if click else "")  # cashback
    return "order %s placed\n" % a["order"]


def _page(text, event):
    order = flask.request.args["order"]
    if orders.get(order) is None:
        flask.abort(404)
    r = flask.make_response(text % order)
    r.headers["X-Cashback-Event"] = event(order)  # cashback
    return r


@app.route("/paid")
def paid():
    return _page("thank you for order %s\n", orders.sale_event)


@app.route("/refund")
def refund():
    return _page("order %s refunded\n", orders.refund_event)
