"""In the browser, the whole way from a held order to a submitted one: a sales rep enters an order for
a customer whose record lacks its USCC (high, blocking: a compliance matter, routed to compliance, which
decides it) at a price 30 % below list (medium, blocking: approvals by sales management, then finance)
and sees the hold. The rep cannot decide either event on their own order. A compliance officer opens
their department's queue and completes the compliance task, which resolves the compliance event; the
sales manager approves the first step of the price chain but may not approve the finance step too
(maker-checker); a finance officer approves it. The rep reloads the order: no hold banner any more, and
the order can be submitted."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from exceptions_center.models import Department, EventStatus, ExceptionEvent, TaskStatus
from orders.models import OrderStatus, SalesOrder
from tests.masterdata.factories import ProductFactory, WarehouseFactory
from tests.orders.factories import customer_for, in_days

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

HIGH_RULE = "ORD-CUSTOMER-INCOMPLETE"
MEDIUM_RULE = "ORD-PRICE-BELOW-LIST"


def _logout(page):
    page.click("details.user-menu > summary")
    page.click("details.user-menu form button[type=submit]")


def _open_from_queue(page, live_server, number):
    """Open the queue from the navigation (the "my departments" tab) and the event from its row."""
    page.click("nav.main-nav >> text=异常事件")
    expect(page.locator("h1")).to_contain_text("异常队列")
    expect(page.locator("nav.tabs a.active")).to_have_attribute("data-tab", "mine")
    row = page.locator(f"#results tr[data-number='{number}']")
    expect(row).to_be_visible()
    return row


def test_held_order_is_handled_by_each_department_then_submitted(live_server, page, login, screenshot, make_user):
    # given
    rep = make_user("sales", username="zhang_wei", first_name="Wei", last_name="Zhang")
    make_user("compliance", username="li_na", first_name="Na", last_name="Li")
    manager = make_user("sales_manager", username="wang_fang", first_name="Fang", last_name="Wang")
    make_user("finance", username="zhou_min", first_name="Min", last_name="Zhou")
    Department.objects.get(code="sales").managers.add(manager)  # as set in the admin: heads the sales team
    customer_for(rep, code="C-RJ01", name="上海交通大学医学院附属仁济医院", uscc="")
    WarehouseFactory(code="WH-SH", name="上海浦东仓")
    ProductFactory(sku="INF-0700", name_zh="一次性使用输液器 0.7mm", list_price=Decimal("100.0000"))

    # when: the rep enters an order for that customer at ¥70 instead of ¥100
    login("zhang_wei")
    page.click("nav.main-nav >> text=销售订单")
    page.click("text=新建订单")
    page.fill("#customer-search", "仁济")
    page.click("#customer-results .ac-item >> text=C-RJ01")
    page.select_option("#id_warehouse", label="WH-SH 上海浦东仓")
    page.fill("#id_requested_delivery_date", in_days(10).isoformat())
    page.fill("#product-search", "输液器")
    page.click("#product-results .ac-item >> text=INF-0700")
    row = page.locator("#lines-body tr.line-row")
    row.locator("input.qty").fill("10")
    row.locator("input.price").fill("70")
    row.locator("input.price").blur()
    page.click("#save-order")

    # then: the order page shows the hold with both events, and submitting is refused
    page.wait_for_url(re.compile(r"/orders/\d+/$"))
    order_url = page.url
    order = SalesOrder.objects.get()
    assert order.is_held
    high = ExceptionEvent.objects.get(rule__code=HIGH_RULE)
    medium = ExceptionEvent.objects.get(rule__code=MEDIUM_RULE)
    assert (high.severity, medium.severity) == ("high", "medium")
    banner = page.locator("#hold-banner")
    expect(banner.locator("li.event")).to_have_count(2)
    expect(banner.locator(f"li.event[data-rule={HIGH_RULE}]")).to_have_class(re.compile("sev-high"))
    expect(banner.locator(f"li.event[data-rule={MEDIUM_RULE}]")).to_have_class(re.compile("sev-medium"))
    expect(page.locator(".transitions button", has_text="提交")).to_be_disabled()
    # routing ran after the save committed: the compliance task, the chain's first step pending
    assert sorted(high.tasks.values_list("department__code", flat=True)) == ["compliance"]
    assert list(medium.steps.order_by("position").values_list("department__code", "status")) == [
        ("sales_management", "pending"),
        ("finance", "waiting"),
    ]
    screenshot("flow_01_rep_sees_hold")
    # the rep may follow the compliance event but not decide it: no resolve, waive or task buttons
    page.goto(f"{live_server.url}/exceptions-center/events/{high.number}/")
    expect(page.locator("h1")).to_contain_text(high.number)
    expect(page.locator("[data-testid=resolve]")).to_have_count(0)
    expect(page.locator("[data-testid=waive]")).to_have_count(0)
    expect(page.locator("button", has_text="标记完成")).to_have_count(0)
    expect(page.locator("[data-testid=who-decides]")).to_contain_text("合规部")
    _logout(page)

    # when: the compliance officer opens their department's queue and the high event
    login("li_na")
    queue_row = _open_from_queue(page, live_server, high.number)
    expect(queue_row).to_contain_text(order.number)
    # the price event is not a compliance matter: not in their department's tab
    expect(page.locator(f"#results tr[data-number='{medium.number}']")).to_have_count(0)
    screenshot("flow_02_compliance_queue")
    queue_row.locator("a", has_text=high.number).click()
    expect(page.locator("h1")).to_contain_text(high.number)
    # they complete their department's task, which decides the compliance event
    compliance_task = page.locator("tr[data-task=compliance]")
    compliance_task.locator("textarea, input[name=comment]").first.fill("已向客户索取营业执照，统一社会信用代码已核实")
    compliance_task.locator("button", has_text="标记完成").click()

    # then: the event is resolved; the order still waits for the price
    expect(page.locator(".messages")).to_contain_text("任务已标记完成")
    high.refresh_from_db()
    assert high.status == EventStatus.RESOLVED
    assert high.tasks.get(department__code="compliance").status == TaskStatus.DONE
    assert SalesOrder.objects.get().is_held
    expect(page.locator("h1")).to_contain_text("已解决")
    screenshot("flow_03_compliance_event_resolved")
    _logout(page)

    # when: the sales manager opens their queue: the price event (their approval) is there
    login("wang_fang")
    queue_row = _open_from_queue(page, live_server, medium.number)
    expect(page.locator(f"#results tr[data-number='{high.number}']")).to_have_count(0)  # resolved: not active
    queue_row.locator("a", has_text=medium.number).click()
    expect(page.locator("h1")).to_contain_text(medium.number)
    screenshot("flow_06_medium_event")
    step_1 = page.locator("tr[data-step='1']")
    expect(page.locator("tr[data-step='2'] button[value=approve]")).to_have_count(0)  # not its turn yet
    step_1.locator("textarea, input[name=comment]").first.fill("战略客户首单，同意七折")
    step_1.locator("button[value=approve]").click()
    expect(page.locator(".messages")).to_contain_text("已批准")
    expect(page.locator("tr[data-step='1']")).to_contain_text("Fang Wang")
    screenshot("flow_07_first_step_approved")
    # not the finance step too: one person approves one step of a chain, and only finance approves finance's
    expect(page.locator("tr[data-step='2'] button[value=approve]")).to_have_count(0)
    _logout(page)

    # when: the finance officer approves the second step
    login("zhou_min")
    queue_row = _open_from_queue(page, live_server, medium.number)
    queue_row.locator("a", has_text=medium.number).click()
    page.locator("tr[data-step='2'] button[value=approve]").click()

    # then: the last approval resolves the event
    expect(page.locator(".messages")).to_contain_text("已批准")
    medium.refresh_from_db()
    assert medium.status == EventStatus.RESOLVED
    expect(page.locator("h1")).to_contain_text("已解决")
    screenshot("flow_08_medium_event_resolved")
    _logout(page)

    # when: the rep reloads the order
    login("zhang_wei")
    page.goto(order_url)

    # then: the hold is gone and the order can be submitted
    expect(page.locator("#hold-banner")).to_have_count(0)
    expect(page.locator("#held-badge")).to_have_count(0)
    submit = page.locator(".transitions button", has_text="提交")
    expect(submit).to_be_enabled()
    screenshot("flow_09_order_released")
    submit.click()
    expect(page.locator(".messages")).to_contain_text(order.number)
    order.refresh_from_db()
    assert order.status == OrderStatus.SUBMITTED and not order.is_held
    screenshot("flow_10_order_submitted")
