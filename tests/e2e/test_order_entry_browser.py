"""In the browser: a sales rep enters an order for a customer whose record lacks its USCC (high,
blocking) at a price 30 % below list (medium, approval chain): a scanned GTIN adds the line, the totals
follow the edits, and after saving the order page shows at once the hold, the two events with who is
acting, and the price problem next to its line. Submitting is refused while held."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from orders.models import SalesOrder
from tests.masterdata.factories import ProductFactory, WarehouseFactory, make_gtin
from tests.orders.factories import customer_for, in_days

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_sales_rep_enters_an_order_and_sees_the_hold(live_server, page, login, screenshot, make_user):
    # given
    rep = make_user("sales", username="zhang_wei", first_name="Wei", last_name="Zhang")
    customer_for(rep, code="C-RJ01", name="上海交通大学医学院附属仁济医院", uscc="")
    customer_for(rep, code="C-RJ02", name="仁济医院南院")
    WarehouseFactory(code="WH-SH", name="上海浦东仓")
    gtin = make_gtin(4242)
    ProductFactory(sku="INF-0700", name_zh="一次性使用输液器 0.7mm", udi_di=gtin, list_price=Decimal("100.0000"))
    ProductFactory(sku="SYR-0005", name_zh="一次性使用无菌注射器 5ml", list_price=Decimal("1.2000"))
    login("zhang_wei")

    # when: the rep opens a new order from the navigation and picks the customer by typing
    page.click("nav.main-nav >> text=销售订单")
    expect(page.locator("h1")).to_contain_text("我的订单")
    screenshot("orders_01_empty_list")
    page.click("text=新建订单")
    page.fill("#customer-search", "仁济")
    expect(page.locator("#customer-results .ac-item")).to_have_count(2)
    page.click("#customer-results .ac-item >> text=C-RJ01")
    expect(page.locator("#customer-field .chosen")).to_contain_text("C-RJ01")
    page.select_option("#id_warehouse", label="WH-SH 上海浦东仓")
    page.fill("#id_requested_delivery_date", in_days(10).isoformat())
    page.fill("#id_customer_po", "RJ-PO-2026-031")

    # a scanner types the GS1 DataMatrix content and Enter: the line is added with the scanned lot
    page.fill("#product-search", f"]d201{gtin}10LOT2403")
    page.press("#product-search", "Enter")
    row = page.locator("#lines-body tr.line-row")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("INF-0700")
    expect(row.locator("input.lot")).to_have_value("LOT2403")
    expect(page.locator("#product-search")).to_have_value("")
    # a second product found by name, then removed again
    page.fill("#product-search", "注射器")
    page.click("#product-results .ac-item >> text=SYR-0005")
    expect(page.locator("#lines-body tr.line-row")).to_have_count(2)
    page.locator("#lines-body tr.line-row", has_text="SYR-0005").locator("button.remove-line").click()
    expect(page.locator("#lines-body tr.line-row")).to_have_count(1)

    # quantity 10 at ¥70 instead of ¥100 list: the totals follow
    row.locator("input.qty").fill("10")
    row.locator("input.price").fill("70")
    row.locator("input.price").blur()
    expect(page.locator("#total-gross")).to_have_text("¥791.00")
    expect(row.locator("[id^=amt-]")).to_have_text("700.00")
    screenshot("orders_02_entry_filled")

    # when: saved
    page.click("#save-order")

    # then: the order page shows the hold at once, naming both events and who is acting
    page.wait_for_url(re.compile(r"/orders/\d+/$"))
    order = SalesOrder.objects.get()
    assert order.is_held
    expect(page.locator("#held-badge")).to_be_visible()
    banner = page.locator("#hold-banner")
    expect(banner).to_be_visible()
    expect(banner.locator("li.event")).to_have_count(2)
    expect(banner.locator("li.event[data-rule=ORD-CUSTOMER-INCOMPLETE]")).to_have_class(re.compile("sev-high"))
    expect(banner.locator("li.event[data-rule=ORD-CUSTOMER-INCOMPLETE]")).to_contain_text("合规部")
    expect(banner.locator("li.event[data-rule=ORD-PRICE-BELOW-LIST]")).to_have_class(re.compile("sev-medium"))
    expect(banner.locator("li.event[data-rule=ORD-PRICE-BELOW-LIST]")).to_contain_text("销售管理")
    expect(page.locator("#line-1 .line-problem", has_text="30%")).to_have_count(1)
    expect(page.locator(".messages")).to_contain_text(re.compile(r"触发了 \d+ 个异常事件"))
    expect(page.locator("#timeline")).to_contain_text("订单录入")
    submit = page.locator(".transitions button", has_text="提交")
    expect(submit).to_be_disabled()
    screenshot("orders_03_held_order_page")

    # and the list shows the red held badge with the reason in one line
    page.click("nav.main-nav >> text=销售订单")
    held_row = page.locator("table.orders tr.held")
    expect(held_row).to_contain_text(order.number)
    expect(held_row.locator(".hold-reason")).to_contain_text("统一社会信用代码")
    expect(held_row).to_contain_text("Wei Zhang")  # the rep as people print the name
    screenshot("orders_04_list_with_held_order")

    # the filters work as the page sends them ("All" statuses, empty dates): held only, then by customer
    page.select_option("#id_is_held", "true")
    expect(page.locator("#results table.orders tr")).to_have_count(2)  # header and the held order
    expect(page.locator("#results tr.held")).to_contain_text(order.number)
    page.fill("#id_customer_q", "仁济")
    expect(page.locator("#results tr.held")).to_contain_text(order.number)
    screenshot("orders_05_list_filtered")
    page.fill("#id_customer_q", "协和")
    expect(page.locator("#results .empty")).to_contain_text("没有符合")
    assert "is_held=true" in page.url and "customer_q=" in page.url
