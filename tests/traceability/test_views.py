"""Warehouse pages: scan-first receiving (htmx), lot page, fulfilment, shipment; query bounds."""

import pytest
from django.urls import reverse

from traceability.models import Lot, ReceiptLine
from traceability.services import receipt_create

from .factories import approved_order, customer, gs1, in_days, product, released_stock, supplier, warehouse

pytestmark = pytest.mark.django_db


@pytest.fixture
def browser(client, warehouse_user):
    client.force_login(warehouse_user)
    return client


def test_scan_page_good_and_bad_scans(browser, warehouse_user):
    # given an open receipt
    receipt = receipt_create(user=warehouse_user, supplier=supplier(), warehouse=warehouse())
    prod = product()
    url = reverse("traceability:receipt_scan", args=[receipt.pk])
    # when a good scan then a bad one are posted by htmx
    good = browser.post(url, {"raw": gs1(prod.udi_di, lot="P1", expiry=in_days(200))}, HTTP_HX_REQUEST="true")
    bad = browser.post(url, {"raw": gs1(prod.udi_di, lot="P2", expiry=in_days(-5))}, HTTP_HX_REQUEST="true")
    # then a green line, a red line with its reason, and nothing created for the bad one
    assert 'class="ok"' in good.content.decode() and "P1" in good.content.decode()
    body = bad.content.decode()
    assert ('class="bad"' in body and "Expired" in body) or "过期" in body
    assert ReceiptLine.objects.count() == 1 and not Lot.objects.filter(lot_number="P2").exists()
    page = browser.get(reverse("traceability:receipt_detail", args=[receipt.pk]))
    assert page.status_code == 200 and "autofocus" in page.content.decode()


def test_lot_page_and_csv(browser, django_assert_max_num_queries):
    lot = released_stock(product=product(), warehouse=warehouse(), quantity=3, expiry=in_days(90))
    with django_assert_max_num_queries(20):
        page = browser.get(reverse("traceability:lot_detail", args=[lot.pk]))
    assert page.status_code == 200 and lot.lot_number in page.content.decode()
    csv = browser.get(reverse("traceability:lot_trace_csv", args=[lot.pk]))
    assert csv.status_code == 200


def test_lot_and_receipt_lists_have_bounded_queries(browser, warehouse_user, django_assert_max_num_queries):
    for _ in range(5):
        released_stock(product=product(), warehouse=warehouse(), quantity=1, expiry=in_days(90))
        receipt_create(user=warehouse_user, supplier=supplier(), warehouse=warehouse())
    with django_assert_max_num_queries(15):
        assert browser.get(reverse("traceability:lot_list")).status_code == 200
    with django_assert_max_num_queries(18):
        assert browser.get(reverse("traceability:receipt_list")).status_code == 200


def test_fulfil_page_allocates_and_ships(browser):
    wh, prod = warehouse(), product()
    released_stock(product=prod, warehouse=wh, quantity=5, expiry=in_days(300))
    order = approved_order(customer=customer(licence_number="鄂卫医执字第0001号"), warehouse=wh, lines=[(prod, 2)])
    url = reverse("traceability:order_fulfil", args=[order.pk])
    assert browser.post(url, {"action": "allocate"}).status_code == 302
    shipped = browser.post(url, {"action": "ship", "carrier": "EMS", "tracking_number": "E1"})
    assert shipped.status_code == 302
    order.refresh_from_db()
    assert order.status == "shipped"
    # the shipment page shows the sales record, with the buyer's licence number
    page = browser.get(shipped["Location"])
    assert page.status_code == 200 and "鄂卫医执字第0001号" in page.content.decode()


def test_sales_user_cannot_receive(client, make_user):
    client.force_login(make_user("sales"))
    assert client.get(reverse("traceability:receipt_new")).status_code == 403
