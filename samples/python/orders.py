"""The orders of the two sample shops (Django and Flask), in SQLite: what
any shop keeps anyway. The cashback lines are in the shops themselves."""

import os
import sqlite3
from decimal import Decimal

DB = os.environ.get("SHOP_DB", "shop.sqlite3")


def _db():
    db = sqlite3.connect(DB, timeout=30, isolation_level=None)
    db.execute("CREATE TABLE IF NOT EXISTS orders (id TEXT PRIMARY KEY, "
               "amount TEXT NOT NULL, cashback_click TEXT NOT NULL)")
    return db


def create(order_id, amount, click_handle):
    """Checkout: the order, with the click's handle (or "")."""
    amount = Decimal(amount)  # an exact decimal, never a float
    with _db() as db:
        db.execute("INSERT OR IGNORE INTO orders VALUES (?, ?, ?)",
                   (order_id, str(amount), click_handle))


def get(order_id):
    """(amount, click handle) or None."""
    with _db() as db:
        row = db.execute("SELECT amount, cashback_click FROM orders "
                         "WHERE id = ?", (order_id,)).fetchone()
    return None if row is None else (row[0], row[1])


def sale_event(order_id):
    """The thank-you page's (or payment webhook's) X-Cashback-Event."""
    amount, click = get(order_id)
    return ("type=sale;order_id=%s;amount=%s;currency=EUR%s"
            % (order_id, amount, ";click=" + click if click else ""))


def refund_event(order_id):
    amount, _ = get(order_id)
    return ("type=refund;order_id=%s;refund_id=%s-r1;amount=%s;currency=EUR"
            % (order_id, order_id, amount))
