"""The shop's pages: landing (/?cb_click=...), /checkout?order=ID&amount=,
the thank-you page /paid?order=ID (a reload reports the same event: counted
once), /refund?order=ID."""

import os

from django.http import Http404, HttpResponse
from django.urls import path

import orders


def worker(get_response):  # which worker served (the tests look at it)
    def middleware(request):
        response = get_response(request)
        response["X-Shop-Worker"] = str(os.getpid())
        return response
    return middleware


def landing(request):
    return HttpResponse("Welcome to the Django shop\n")


def checkout(request):
    order, amount = request.GET["order"], request.GET["amount"]
    click = request.cashback_click  # cashback
    orders.create(order, amount, click.handle if click else "")  # cashback
    return HttpResponse("order %s placed\n" % order)


def _page(request, text, event):
    order = request.GET["order"]
    if orders.get(order) is None:
        raise Http404(order)
    response = HttpResponse(text % order)
    response["X-Cashback-Event"] = event(order)  # cashback
    return response


def paid(request):
    return _page(request, "thank you for order %s\n", orders.sale_event)


def refund(request):
    return _page(request, "order %s refunded\n", orders.refund_event)


urlpatterns = [path("", landing), path("checkout", checkout),
               path("paid", paid), path("refund", refund)]
