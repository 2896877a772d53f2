import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from orders.facts import ORDER_FACTS
from orders.models import OrderStatus, SalesOrder
from tests.masterdata.factories import PartyFactory, ProductFactory
from tests.orders.factories import SalesOrderFactory, SalesOrderLineFactory, cold_chain_product, in_days

ORDER_KEYS = {
    "id", "number", "status", "is_new", "currency", "customer_po", "contract_ref", "payment_terms",
    "net_fen", "tax_fen", "gross_fen", "line_count", "requested_delivery_date", "days_to_delivery",
    "created_at", "submitted", "price_changed_after_submit", "duplicate_count", "lines",
}  # fmt: skip
LINE_KEYS = {
    "line_no", "key", "product_id", "sku", "quantity", "unit_price_fen", "list_price_fen", "discount_pct",
    "net_fen", "below_list_pct", "requested_lot", "min_shelf_life_days", "min_shelf_life_pct", "product",
    "price_changed_after_submit",  # beyond the contract: the per-line view of the order flag
}  # fmt: skip
PRODUCT_KEYS = {
    "id", "sku", "name", "device_class", "catalogue_code", "is_active", "is_cold_chain", "is_implant",
    "is_serialised", "shelf_life_days", "storage_min_c", "storage_max_c", "udi_di", "class2_filing_exempt",
}  # fmt: skip
PARTY_KEYS = {
    "id", "code", "name", "kind", "is_active", "uscc", "has_uscc", "has_address", "has_contact", "region_code",
    "province_code", "is_hospital", "is_military", "is_public", "bed_count", "min_shelf_life_days",
    "min_shelf_life_pct",
}  # fmt: skip
WAREHOUSE_KEYS = {"id", "code", "is_cold_storage", "region_code"}


def build(order, **context):
    facts: dict = {}
    ORDER_FACTS.build(source=order, facts=facts, context=context)
    return facts


def order_with_lines(count: int, **order_fields):
    order = SalesOrderFactory(**order_fields)
    for no in range(1, count + 1):
        SalesOrderLineFactory(order=order, line_no=no, product=ProductFactory())
    return order


@pytest.mark.django_db
def test_order_facts_have_the_contract_shape_and_types():
    # given
    ship_to = PartyFactory(region_code="330106")
    order = SalesOrderFactory(ship_to=ship_to, net_amount=Decimal("1234.56"), tax_amount=Decimal("160.49"),
                              gross_amount=Decimal("1395.05"))  # fmt: skip
    SalesOrderLineFactory(
        order=order,
        line_no=1,
        product=cold_chain_product(list_price=Decimal("100")),
        unit_price=Decimal("90.005"),
        discount_pct=Decimal("10"),
        net_amount=Decimal("810.05"),
    )
    # when
    facts = build(order, is_new=True)
    # then
    assert set(facts) == {"order", "customer", "ship_to", "warehouse"}
    assert set(facts["order"]) == ORDER_KEYS
    assert set(facts["order"]["lines"][0]) == LINE_KEYS
    assert set(facts["order"]["lines"][0]["product"]) == PRODUCT_KEYS
    assert set(facts["customer"]) == PARTY_KEYS and set(facts["ship_to"]) == PARTY_KEYS
    assert set(facts["warehouse"]) == WAREHOUSE_KEYS
    o, line = facts["order"], facts["order"]["lines"][0]
    assert (o["net_fen"], o["tax_fen"], o["gross_fen"]) == (123456, 16049, 139505)
    assert o["is_new"] is True and o["submitted"] is False and o["line_count"] == 1
    assert o["days_to_delivery"] == 10
    assert o["requested_delivery_date"].utcoffset() == dt.timedelta(0)
    assert o["requested_delivery_date"].astimezone(timezone.get_current_timezone()).date() == in_days(10)
    assert line["key"] == "L1" and line["unit_price_fen"] == 9001 and line["list_price_fen"] == 10000
    assert line["discount_pct"] == 10.0 and isinstance(line["discount_pct"], float)
    assert line["below_list_pct"] == pytest.approx(19.0, abs=0.01)
    assert line["product"]["is_cold_chain"] is True and line["product"]["storage_max_c"] == 8.0
    assert facts["ship_to"]["province_code"] == "330000" and facts["customer"]["province_code"] == "310000"


@pytest.mark.django_db
def test_order_facts_null_dates_and_missing_ship_to():
    order = order_with_lines(1, requested_delivery_date=None)
    facts = build(order)
    assert facts["order"]["requested_delivery_date"] is None and facts["order"]["days_to_delivery"] is None
    assert facts["ship_to"] is None


@pytest.mark.django_db
def test_order_facts_query_count_is_the_same_for_1_and_20_lines():
    # given
    small, large = order_with_lines(1), order_with_lines(20)
    small, large = type(small).objects.get(pk=small.pk), type(large).objects.get(pk=large.pk)
    # when
    with CaptureQueriesContext(connection) as one:
        build(small)
    with CaptureQueriesContext(connection) as twenty:
        facts = build(large)
    # then
    assert len(facts["order"]["lines"]) == 20
    assert len(one) == len(twenty) <= 6


@pytest.mark.django_db
def test_order_facts_count_duplicates_of_the_same_customer_within_24_hours():
    # given
    customer = PartyFactory()
    p1, p2 = ProductFactory(), ProductFactory()

    def order(lines, **fields):
        o = SalesOrderFactory(
            customer=customer, lines_signature=SalesOrder.signature_of((p.pk, q) for p, q in lines), **fields
        )
        for no, (product, qty) in enumerate(lines, 1):
            SalesOrderLineFactory(order=o, line_no=no, product=product, quantity=qty)
        return o

    mine = order([(p1, 5), (p2, 1)])
    order([(p2, 1), (p1, 5)])  # same set, other order of lines
    order([(p1, 5), (p2, 2)])  # other quantity
    order([(p1, 5)])  # subset
    order([(p1, 5), (p2, 1)], status=OrderStatus.CANCELLED)
    old = order([(p1, 5), (p2, 1)])
    type(old).objects.filter(pk=old.pk).update(created_at=timezone.now() - dt.timedelta(hours=25))
    other_customer = SalesOrderFactory()
    SalesOrderLineFactory(order=other_customer, line_no=1, product=p1, quantity=5)
    # when / then
    assert build(mine)["order"]["duplicate_count"] == 1


@pytest.mark.django_db
def test_order_facts_price_changed_after_submit():
    order = order_with_lines(2, status=OrderStatus.SUBMITTED)
    first, second = order.lines.order_by("line_no")
    first.submitted_unit_price, first.submitted_discount_pct = first.unit_price, first.discount_pct
    first.save()
    second.submitted_unit_price, second.submitted_discount_pct = first.unit_price + 1, first.discount_pct
    second.save()
    facts = build(order)
    assert facts["order"]["submitted"] is True
    assert facts["order"]["price_changed_after_submit"] is True
    assert [line["price_changed_after_submit"] for line in facts["order"]["lines"]] == [False, True]


@pytest.mark.django_db
def test_order_facts_samples_have_the_same_shape_as_real_facts():
    for sample in ORDER_FACTS.samples():
        assert set(sample) == set(ORDER_FACTS.roots)
        assert set(sample["order"]) == ORDER_KEYS
        for line in sample["order"]["lines"]:
            assert set(line) == LINE_KEYS and set(line["product"]) == PRODUCT_KEYS
        assert set(sample["customer"]) == PARTY_KEYS
        assert sample["ship_to"] is None or set(sample["ship_to"]) == PARTY_KEYS
        assert set(sample["warehouse"]) == WAREHOUSE_KEYS
    kinds = {s["customer"]["kind"] for s in ORDER_FACTS.samples()}
    assert {"hospital", "distributor"} <= kinds
