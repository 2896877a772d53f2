"""In the browser: a warehouse user receives goods by scanning (one bad scan among good ones, refused
with its reason and nothing created), the lots are released, an approved order is allocated FEFO and
shipped, and the lot page shows the customer who got the goods. Also the scan page on a phone."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.conftest import PASSWORD
from tests.traceability.factories import (
    approved_order,
    customer,
    in_days,
    product,
    serial_product,
    supplier,
    warehouse,
)
from traceability.models import Lot, ReceiptLine, SerialUnit

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def _scan(page, text: str) -> None:
    # A keyboard-wedge scanner types the code and presses Enter; FNC1 comes as the configured <GS>.
    field = page.locator("#id_raw")
    field.fill(text)
    field.press("Enter")


def test_receive_by_scanning_then_allocate_ship_and_trace(live_server, page, login, screenshot, make_user):
    # given master data and a warehouse user
    make_user("warehouse", username="wh_e2e")
    quality = make_user("quality")
    sup, wh = supplier(), warehouse(name="上海浦东仓", code="WH-E2E")
    bulk, implant = product(name_zh="一次性使用无菌注射器"), serial_product(name_zh="髋关节假体")
    hospital = customer(name="上海市第六人民医院")
    expiry = in_days(400)
    login("wh_e2e")

    # when the user opens a receipt and scans three labels, one of them expired
    page.click("nav.main-nav >> a[href='/traceability/']")
    page.select_option("#id_supplier", str(sup.pk))
    page.select_option("#id_warehouse", str(wh.pk))
    page.click("form.inline-form button[type=submit]")
    expect(page.locator("#id_raw")).to_be_focused()
    _scan(page, f"]d201{bulk.udi_di}17{expiry:%y%m%d}10L2026A<GS>3024")
    expect(page.locator("#scan-lines li.ok")).to_have_count(1)
    _scan(page, f"]d201{bulk.udi_di}17{in_days(-10):%y%m%d}10OLD01")
    expect(page.locator("#scan-lines li.bad")).to_have_count(1)
    _scan(page, f"(01){implant.udi_di}(17){expiry:%y%m%d}(10)HIP7(21)SN0001")
    expect(page.locator("#scan-lines li.ok")).to_have_count(2)

    # then each scan is a line: green when received, red with its reason; counts run; focus stays
    bad = page.locator("#scan-lines li.bad")
    expect(bad).to_contain_text(f"{in_days(-10):%Y-%m-%d}")
    expect(page.locator("[data-testid=unit-count]")).to_have_text("25")
    expect(page.locator("#id_raw")).to_be_focused()
    assert not Lot.objects.filter(lot_number="OLD01").exists()
    assert ReceiptLine.objects.count() == 2 and SerialUnit.objects.get().serial == "SN0001"
    screenshot("trace_01_scan_receiving")
    page.set_viewport_size({"width": 390, "height": 844})
    screenshot("trace_02_scan_receiving_phone")
    page.set_viewport_size({"width": 1280, "height": 900})

    # given quality released the lots and sales entered an approved order
    from traceability.services import lot_release

    for lot in Lot.objects.all():
        lot_release(lot=lot, user=quality, password=PASSWORD, reason="验收合格")
    order = approved_order(customer=hospital, warehouse=wh, lines=[(bulk, 10), (implant, 1)])

    # when the warehouse allocates and ships it
    page.goto(f"{live_server.url}/traceability/orders/{order.pk}/fulfil/")
    page.click("button[name=action][value=allocate]")
    expect(page.locator("table.data >> text=L2026A")).to_be_visible()
    page.fill("#id_carrier", "顺丰速运")
    page.fill("#id_tracking_number", "SF1234567890")
    screenshot("trace_03_fulfil")
    page.click("button[name=action][value=ship]")

    # then the shipment carries the sales record, and the lot page shows the customer
    expect(page.locator("[data-testid=shipment-status]")).to_be_visible()
    expect(page.locator("table.data").first).to_contain_text("SN0001")
    screenshot("trace_04_shipment")
    order.refresh_from_db()
    assert order.status == "shipped"
    page.click("table.data >> a:text('L2026A')")
    customers = page.locator("[data-testid=trace-customers]")
    expect(customers).to_contain_text("上海市第六人民医院")
    expect(customers).to_contain_text("10")
    screenshot("trace_05_lot_page")
