"""A small Django shop with cashback (docs/python.md, "Django"):

    CASHBACK_CONFIG=/etc/cashback/shop.conf SHOP_DB=/var/lib/shop/shop.sqlite3 \
      DJANGO_SETTINGS_MODULE=django_shop.settings \
      gunicorn -w 2 --chdir samples/python django_shop.wsgi
"""

import os

SECRET_KEY = os.environ.get("SHOP_SECRET_KEY", "sample-only-not-a-secret")
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
ROOT_URLCONF = "django_shop.urls"
INSTALLED_APPS = []
DATABASES = {}  # the orders are in orders.py's SQLite file
MIDDLEWARE = [
    "django_shop.urls.worker",
    "cashback.django.CashbackMiddleware",  # cashback
]
CASHBACK = os.environ.get("CASHBACK_CONFIG", "/etc/cashback/shop.conf")  # cashback
