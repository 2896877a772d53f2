import datetime as dt
import re
from decimal import Decimal
from html.parser import HTMLParser

import pytest
from django.urls import reverse
from django.utils import timezone

from orders.models import OrderStatus, SalesOrder
from tests.masterdata.factories import ProductFactory, make_gtin
from tests.orders.factories import SalesOrderFactory, customer_for, in_days, order_entered


def _post_order(client, url, *, customer, warehouse, rows, **extra):
    data = {
        "customer": customer.pk if customer else "",
        "warehouse": warehouse.pk,
        "requested_delivery_date": in_days(10).isoformat(),
        "payment_terms": "net90",
        "line_key": [],
        **extra,
    }
    for key, row in rows:
        data["line_key"].append(key)
        for name, value in row.items():
            data[f"lines-{key}-{name}"] = value
    return client.post(url, data)


@pytest.mark.django_db
def test_order_entry_page_saves_and_shows_the_hold_at_once(client, rep, warehouse):
    # given: an inactive customer (high, blocking) and a price 30 % below list (medium)
    customer = customer_for(rep, is_active=False)
    product = ProductFactory(list_price=Decimal("100"))
    client.force_login(rep)
    # when
    response = _post_order(
        client,
        reverse("orders:order_create"),
        customer=customer,
        warehouse=warehouse,
        rows=[("a1", {"product": product.pk, "quantity": "2", "unit_price": "70", "discount_pct": ""})],
    )
    # then
    order = SalesOrder.objects.get()
    assert response.status_code == 302 and response.url == reverse("orders:order_detail", args=[order.pk])
    page = client.get(response.url).content.decode()
    assert order.is_held
    assert 'id="hold-banner"' in page and 'id="held-badge"' in page
    assert "ORD-CUSTOMER-INACTIVE" in page  # data-rule on the banner item
    assert 'class="line-problem sev-medium"' in page  # price problem next to its line
    assert order.gross_amount == Decimal("158.20")


@pytest.mark.django_db
def test_order_entry_errors_stay_next_to_the_line_and_nothing_is_saved(client, rep, customer, warehouse):
    product = ProductFactory()
    client.force_login(rep)
    response = _post_order(
        client,
        reverse("orders:order_create"),
        customer=customer,
        warehouse=warehouse,
        rows=[("a1", {"product": product.pk, "quantity": "1"}), ("b2", {"product": product.pk, "quantity": "0"})],
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert 'id="row-b2"' in page and "line-row has-error" in page
    assert "数量至少为 1。" in page
    assert not SalesOrder.objects.exists()


@pytest.mark.django_db
def test_order_entry_line_minimum_shelf_life_in_days_or_percent(client, rep, customer, warehouse):
    # given a rep entering an order whose first line asks for a year, the second for 60 % of shelf life
    product = ProductFactory()
    client.force_login(rep)
    rows = [
        ("a1", {"product": product.pk, "quantity": "1", "min_shelf_life_days": "365", "min_shelf_life_pct": ""}),
        ("b2", {"product": product.pk, "quantity": "2", "min_shelf_life_days": "", "min_shelf_life_pct": "150"}),
    ]
    # when the percentage is out of range, then the error is on its line and nothing is saved
    response = _post_order(client, reverse("orders:order_create"), customer=customer, warehouse=warehouse, rows=rows)
    assert response.status_code == 400
    assert 'id="row-b2"' in response.content.decode() and not SalesOrder.objects.exists()
    # when corrected, then both overrides are saved, shown on the order and kept on the edit page
    rows[1][1]["min_shelf_life_pct"] = "60"
    response = _post_order(client, reverse("orders:order_create"), customer=customer, warehouse=warehouse, rows=rows)
    order = SalesOrder.objects.get()
    assert list(order.lines.order_by("line_no").values_list("min_shelf_life_days", "min_shelf_life_pct")) == [
        (365, None),
        (None, 60),
    ]
    assert "365" in client.get(response.url).content.decode()
    edit = client.get(reverse("orders:order_update", args=[order.pk])).content.decode()
    assert 'value="365"' in edit and 'value="60"' in edit


@pytest.mark.django_db
def test_order_entry_without_customer_or_lines(client, rep, warehouse):
    client.force_login(rep)
    response = _post_order(client, reverse("orders:order_create"), customer=None, warehouse=warehouse, rows=[])
    assert response.status_code == 400
    page = response.content.decode()
    assert "请选择客户。" in page
    assert not SalesOrder.objects.exists()


@pytest.mark.django_db
def test_order_edit_page_changes_lines(client, rep, customer, warehouse):
    # given
    order = order_entered(user=rep, customer=customer, warehouse=warehouse)
    line = order.lines.get()
    extra = ProductFactory()
    client.force_login(rep)
    url = reverse("orders:order_update", args=[order.pk])
    assert client.get(url).status_code == 200
    # when
    response = _post_order(
        client,
        url,
        customer=customer,
        warehouse=warehouse,
        rows=[
            ("1", {"id": line.pk, "product": line.product_id, "quantity": "7"}),
            ("n", {"product": extra.pk, "quantity": "1"}),
        ],
        reason="phone call",
    )
    # then
    assert response.status_code == 302
    assert list(order.lines.order_by("line_no").values_list("quantity", flat=True)) == [7, 1]
    assert order.history.first().history_change_reason == "phone call"


@pytest.mark.django_db
def test_customer_search_lists_only_the_reps_customers(client, rep, other_rep):
    mine = customer_for(rep, name="仁济医院")
    customer_for(other_rep, name="仁济医院分院")
    client.force_login(rep)
    page = client.get(reverse("orders:customer_search"), {"field": "customer", "customer_q": "仁济"}).content.decode()
    assert mine.code in page and page.count("ac-item") == 1
    chosen = client.get(reverse("orders:customer_pick", args=[mine.pk]), {"field": "customer"}).content.decode()
    assert f'name="customer" value="{mine.pk}"' in chosen


@pytest.mark.django_db
def test_product_search_by_sku_name_and_scanned_gtin(client, rep):
    product = ProductFactory(sku="STENT-3X18", name_zh="冠脉支架", udi_di=make_gtin(777))
    client.force_login(rep)
    url = reverse("orders:product_search")
    for q in ("stent-3", "冠脉", product.udi_di, product.udi_di[1:], f"]d201{product.udi_di}10LOT42"):
        assert "STENT-3X18" in client.get(url, {"product_q": q}).content.decode(), q
    # Enter on a scanned GS1 string adds the line at once, with the scanned lot
    row = client.get(reverse("orders:line_row"), {"product_q": f"]d201{product.udi_di}10LOT42"})
    assert row.status_code == 200 and 'name="line_key"' in row.content.decode()
    assert 'value="LOT42"' in row.content.decode()


@pytest.mark.django_db
def test_live_totals(client, rep):
    product = ProductFactory(list_price=Decimal("10"), tax_rate=Decimal("0.13"))
    client.force_login(rep)
    response = client.post(
        reverse("orders:order_totals"),
        {"line_key": ["k"], "lines-k-product": product.pk, "lines-k-quantity": "3", "lines-k-discount_pct": "10"},
    )
    page = response.content.decode()
    assert "¥27.00" in page and "¥30.51" in page and 'id="amt-k" hx-swap-oob="true"' in page


@pytest.mark.django_db
def test_transitions_from_the_order_page(client, rep, customer, warehouse, manager_user):
    order = order_entered(user=rep, customer=customer, warehouse=warehouse)
    client.force_login(rep)
    page = client.get(reverse("orders:order_detail", args=[order.pk])).content.decode()
    assert reverse("orders:order_submit", args=[order.pk]) in page
    assert reverse("orders:order_approve", args=[order.pk]) not in page
    client.post(reverse("orders:order_submit", args=[order.pk]))
    order.refresh_from_db()
    assert order.status == OrderStatus.SUBMITTED
    client.force_login(manager_user)
    client.post(reverse("orders:order_approve", args=[order.pk]))
    order.refresh_from_db()
    assert order.status == OrderStatus.APPROVED
    page = client.get(reverse("orders:order_detail", args=[order.pk])).content.decode()
    assert 'id="timeline"' in page and page.count('class="tl-status') >= 3


@pytest.mark.django_db
def test_held_order_submit_shows_the_events(client, rep, warehouse):
    order = order_entered(user=rep, customer=customer_for(rep, uscc=""), warehouse=warehouse)
    client.force_login(rep)
    response = client.post(reverse("orders:order_submit", args=[order.pk]), follow=True)
    order.refresh_from_db()
    assert order.status == OrderStatus.DRAFT
    event = order.exception_events.get(rule__code="ORD-CUSTOMER-INCOMPLETE")
    assert event.number in response.content.decode()


@pytest.mark.django_db
def test_other_reps_order_is_404(client, rep, other_rep, customer, warehouse):
    order = order_entered(user=rep, customer=customer, warehouse=warehouse)
    client.force_login(other_rep)
    assert client.get(reverse("orders:order_detail", args=[order.pk])).status_code == 404
    assert client.post(reverse("orders:order_cancel", args=[order.pk]), {"reason": "x"}).status_code == 404


@pytest.mark.django_db
def test_order_list_scoped_filtered_and_query_bounded(
    client, rep, other_rep, customer, warehouse, django_assert_max_num_queries
):
    # given
    mine = [order_entered(user=rep, customer=customer, warehouse=warehouse) for _ in range(3)]
    held = order_entered(user=rep, customer=customer_for(rep, is_active=False), warehouse=warehouse)
    order_entered(user=other_rep, customer=customer_for(other_rep), warehouse=warehouse)
    for _ in range(20):
        SalesOrderFactory()
    client.force_login(rep)
    url = reverse("orders:order_list")
    # when
    with django_assert_max_num_queries(14):
        page = client.get(url).content.decode()
    # then
    assert all(o.number in page for o in [*mine, held]) and page.count("orders:order_detail") == 0
    assert page.count('<tr class="') == 4
    assert "hold-reason" in page
    held_only = client.get(url, {"is_held": "true"}).content.decode()
    assert held.number in held_only and mine[0].number not in held_only
    searched = client.get(url, {"q": mine[1].number}, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="results")
    assert mine[1].number in searched.content.decode() and "<html" not in searched.content.decode()
    empty = client.get(url, {"q": "nothing-like-this"}).content.decode()
    assert "清除筛选" in empty


@pytest.mark.django_db
def test_order_list_query_count_does_not_grow_with_orders(client, manager_user, django_assert_max_num_queries):
    for _ in range(25):
        SalesOrderFactory()
    client.force_login(manager_user)
    with django_assert_max_num_queries(12):
        assert client.get(reverse("orders:order_list")).status_code == 200


class _FilterForm(HTMLParser):
    """What the order list's filter form submits when nothing is changed: every field, empty ones
    included, with the value the page gives it (a select sends its selected, else its first, option)."""

    def __init__(self, page: str):
        super().__init__()
        self.fields: dict[str, str] = {}
        self.options: dict[str, list[str]] = {}
        self._in_form = False
        self._select: str | None = None
        self.feed(page)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form" and "filters" in (attrs.get("class") or "").split():
            self._in_form = True
        elif not self._in_form:
            return
        elif tag == "input" and attrs.get("name"):
            self.fields[attrs["name"]] = attrs.get("value") or ""
        elif tag == "select":
            self._select = attrs["name"]
            self.options[self._select] = []
        elif tag == "option" and self._select:
            self.options[self._select].append(attrs.get("value") or "")
            if "selected" in attrs or self._select not in self.fields:
                self.fields[self._select] = attrs.get("value") or ""

    def handle_endtag(self, tag):
        if tag == "form":
            self._in_form = False
        elif tag == "select":
            self._select = None


def _numbers(page: str) -> set[str]:
    return set(re.findall(r"SO-\d{4}-\d{6}", page))


@pytest.mark.django_db
def test_order_list_filters_sent_as_the_page_sends_them(client, rep, other_rep, warehouse, manager_user):
    # given: two reps' orders, one held, entered on different days
    hospital = customer_for(rep, name="复旦大学附属中山医院", code="C-ZS-001")
    other = customer_for(other_rep, name="浙江省人民医院", code="C-ZJ-002")
    old = order_entered(user=rep, customer=hospital, warehouse=warehouse)
    recent = order_entered(user=rep, customer=hospital, warehouse=warehouse)
    held = order_entered(user=other_rep, customer=customer_for(other_rep, is_active=False), warehouse=warehouse)
    others = order_entered(user=other_rep, customer=other, warehouse=warehouse)
    SalesOrder.objects.filter(pk=old.pk).update(created_at=timezone.now() - dt.timedelta(days=40))
    client.force_login(manager_user)
    url = reverse("orders:order_list")
    form = _FilterForm(client.get(url).content.decode())
    assert {"q", "status", "is_held", "customer_q", "sales_rep", "created_after", "created_before"} <= set(form.fields)
    assert form.fields["status"] == "" and form.fields["sales_rep"] == ""

    def listed(**changed) -> set[str]:
        response = client.get(url, {**form.fields, **changed}, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="results")
        assert response.status_code == 200
        return _numbers(response.content.decode())

    everything = {old.number, recent.number, held.number, others.number}
    # when / then: the form as it comes ("All" everywhere) lists every order
    assert listed() == everything
    assert listed(is_held="true") == {held.number}
    assert listed(is_held="false") == everything - {held.number}
    assert listed(customer_q="中山医院") == listed(customer_q="c-zs") == {old.number, recent.number}
    assert listed(sales_rep=str(other_rep.pk)) == {held.number, others.number}
    since = (timezone.localdate() - dt.timedelta(days=7)).isoformat()
    assert listed(created_after=since) == everything - {old.number}
    assert listed(created_before=since) == {old.number}
    assert listed(status="draft", customer_q="中山", created_after=since) == {recent.number}
    assert listed(status="submitted") == set()


@pytest.mark.django_db
def test_order_list_says_which_filter_is_wrong_instead_of_listing_nothing(client, rep, customer, warehouse):
    # given
    order_entered(user=rep, customer=customer, warehouse=warehouse)
    client.force_login(rep)
    url = reverse("orders:order_list")
    form = _FilterForm(client.get(url).content.decode())
    # when
    full = client.get(url, {**form.fields, "created_after": "2026-02-31"}).content.decode()
    partial = client.get(
        url, {**form.fields, "status": "shipped-yesterday"}, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="results"
    ).content.decode()
    # then
    assert 'id="filter-errors"' in full and "起始日期：输入一个有效的日期。" in full
    assert 'class="f has-error"' in full and not _numbers(full)
    assert 'id="filter-errors"' in partial and "状态" in partial and not _numbers(partial)


@pytest.mark.django_db
def test_order_list_filters_the_rep_among_sales_staff_and_the_customer_by_search(
    client, rep, manager_user, make_user, django_assert_max_num_queries
):
    # given: 30 customers (no dropdown of parties), a warehouse clerk and an auditor (not reps)
    for _ in range(30):
        customer_for(rep)
    clerk, auditor = make_user("warehouse"), make_user("auditor")
    client.force_login(manager_user)
    # when
    with django_assert_max_num_queries(12):
        page = client.get(reverse("orders:order_list")).content.decode()
    # then
    form = _FilterForm(page)
    assert set(form.options["sales_rep"]) == {"", str(rep.pk), str(manager_user.pk)}
    assert str(clerk.pk) not in form.options["sales_rep"] and str(auditor.pk) not in form.options["sales_rep"]
    assert "customer" not in form.options and 'name="customer_q"' in page
