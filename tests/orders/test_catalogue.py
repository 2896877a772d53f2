"""The issue-3 rule catalogue (orders/migrations/0003_rule_catalogue.py), through the real services:
each rule fires on the right orders and not on the others, re-saving never duplicates, fixing the
cause auto-resolves."""

from decimal import Decimal

import pytest

from exceptions_center.models import ACTIVE_STATUSES, EventStatus, ExceptionEvent, Rule
from exceptions_center.services import rule_validate
from masterdata.models import PartyKind
from orders import services
from tests.masterdata.factories import PartyFactory, ProductFactory, make_uscc
from tests.orders.factories import cold_chain_product, customer_for, distributor_for, in_days, order_entered

CATALOGUE = [
    "ORD-PRICE-BELOW-LIST",
    "ORD-PRICE-CHANGED",
    "ORD-CUSTOMER-INACTIVE",
    "ORD-CUSTOMER-INCOMPLETE",
    "ORD-SHIPTO-REGION",
    "ORD-DUPLICATE",
    "ORD-DELIVERY-PAST",
    "ORD-COLD-CHAIN-LEAD-TIME",
    "ORD-TOTAL-ABOVE-THRESHOLD",
    "ORD-PRODUCT-INACTIVE",
]


def active(order) -> dict[str, list[ExceptionEvent]]:
    """This catalogue's active events by rule code (other apps' rules, e.g. stock, also run on save)."""
    out: dict[str, list[ExceptionEvent]] = {}
    events = order.exception_events.filter(status__in=ACTIVE_STATUSES, rule__code__startswith="ORD-")
    for event in events.select_related("rule"):
        out.setdefault(event.rule.code, []).append(event)
    return out


def event(order, code) -> ExceptionEvent:
    return order.exception_events.get(rule__code=code)


def resave(order, user):
    """Save again without changes: the rules run again."""
    return services.order_update(order=order, user=user, notes=order.notes + ".")


@pytest.mark.django_db
def test_every_catalogue_rule_is_shipped_and_validates():
    rules = {rule.code: rule for rule in Rule.objects.filter(code__in=CATALOGUE).prefetch_related("route_steps")}
    assert set(rules) == set(CATALOGUE)
    for rule in rules.values():
        rule_validate(rule=rule)
        assert rule.event == "order.saved" and rule.enabled
        assert rule.route_steps.exists(), rule.code
        assert rule.message_zh and rule.message_en
        assert rule.severity != "high" or rule.blocking, f"{rule.code}: high severity always holds"


@pytest.mark.django_db
def test_a_clean_order_raises_nothing(rep, customer, warehouse):
    order = order_entered(user=rep, customer=customer, warehouse=warehouse)
    assert active(order) == {} and not order.is_held


@pytest.mark.django_db
def test_price_below_list(rep, customer, warehouse):
    # given
    product = ProductFactory(list_price=Decimal("100"))
    # when: 10 % + 10 % = 19 % below, and a second line only 10 % below
    order = order_entered(
        user=rep,
        customer=customer,
        warehouse=warehouse,
        lines=[
            {"product": product, "quantity": 1, "unit_price": "90", "discount_pct": "10"},
            {"product": product, "quantity": 1, "unit_price": "90"},
        ],
    )
    # then
    (raised,) = active(order)["ORD-PRICE-BELOW-LIST"]
    assert raised.detail_key == "L1" and raised.severity == "medium" and raised.blocking
    assert "19" in raised.message_zh and "15" in raised.message_zh
    order.refresh_from_db()
    assert order.is_held
    # re-saving does not duplicate
    resave(order, rep)
    assert order.exception_events.filter(rule__code="ORD-PRICE-BELOW-LIST").count() == 1
    # fixing the price auto-resolves and releases the hold
    first = order.lines.get(line_no=1)
    services.order_update(
        order=order, user=rep, lines=[{"id": first.pk, "discount_pct": "0"}, {"id": order.lines.get(line_no=2).pk}]
    )
    assert event(order, "ORD-PRICE-BELOW-LIST").status == EventStatus.AUTO_RESOLVED
    order.refresh_from_db()
    assert not order.is_held


@pytest.mark.django_db
def test_price_changed_after_submit(rep, customer, warehouse):
    # given: a price change on a draft is no event
    product = ProductFactory(list_price=Decimal("100"))
    order = order_entered(user=rep, customer=customer, warehouse=warehouse, lines=[{"product": product, "quantity": 1}])
    line = order.lines.get()
    services.order_update(order=order, user=rep, lines=[{"id": line.pk, "unit_price": "99"}])
    assert "ORD-PRICE-CHANGED" not in active(order)
    services.order_submit(order=order, user=rep)
    # when
    services.order_update(order=order, user=rep, lines=[{"id": line.pk, "unit_price": "95"}])
    # then
    (raised,) = active(order)["ORD-PRICE-CHANGED"]
    assert raised.detail_key.startswith("L1@") and raised.blocking
    # a quantity change is not a price change; re-saving does not duplicate
    services.order_update(order=order, user=rep, lines=[{"id": line.pk, "quantity": 3}])
    assert order.exception_events.filter(rule__code="ORD-PRICE-CHANGED").count() == 1
    # restoring the agreed price auto-resolves
    services.order_update(order=order, user=rep, lines=[{"id": line.pk, "unit_price": "99"}])
    assert event(order, "ORD-PRICE-CHANGED").status == EventStatus.AUTO_RESOLVED


@pytest.mark.django_db
def test_customer_inactive(rep, warehouse):
    customer = customer_for(rep, is_active=False)
    order = order_entered(user=rep, customer=customer, warehouse=warehouse)
    (raised,) = active(order)["ORD-CUSTOMER-INACTIVE"]
    assert raised.severity == "high" and raised.category == "compliance" and raised.blocking
    assert customer.code in raised.message_zh
    resave(order, rep)
    assert order.exception_events.filter(rule__code="ORD-CUSTOMER-INACTIVE").count() == 1
    customer.is_active = True
    customer.save()
    resave(order, rep)
    assert event(order, "ORD-CUSTOMER-INACTIVE").status == EventStatus.AUTO_RESOLVED
    order.refresh_from_db()
    assert not order.is_held


@pytest.mark.django_db
@pytest.mark.parametrize(
    "missing",
    [{"uscc": ""}, {"address": ""}, {"contact_name": ""}, {"contact_phone": "", "contact_email": ""}],
    ids=["uscc", "address", "contact", "no-phone-or-email"],
)
def test_customer_incomplete(rep, warehouse, missing):
    customer = customer_for(rep, **missing)
    order = order_entered(user=rep, customer=customer, warehouse=warehouse)
    assert list(active(order)) == ["ORD-CUSTOMER-INCOMPLETE"]
    order.refresh_from_db()
    assert order.is_held
    # when the record is completed and the order saved again
    customer.uscc = customer.uscc or make_uscc(880000 + customer.pk)
    customer.address = customer.address or "上海市徐汇区漕溪北路1号"
    customer.contact_name = customer.contact_name or "李雷"
    customer.contact_phone = customer.contact_phone or "021-64000000"
    customer.save()
    resave(order, rep)
    assert event(order, "ORD-CUSTOMER-INCOMPLETE").status == EventStatus.AUTO_RESOLVED


@pytest.mark.django_db
def test_customer_complete_with_email_only_is_fine(rep, warehouse):
    order = order_entered(user=rep, customer=customer_for(rep, contact_phone=""), warehouse=warehouse)
    assert active(order) == {}


@pytest.mark.django_db
def test_hospital_ship_to_in_another_province(rep, warehouse):
    # given: a Zhejiang distributor
    distributor = distributor_for(rep)
    shanghai_hospital = PartyFactory(region_code="310104")
    hangzhou_hospital = PartyFactory(region_code="330102")
    other_distributor = PartyFactory(kind=PartyKind.DISTRIBUTOR, region_code="310104")
    # when / then
    order = order_entered(user=rep, customer=distributor, warehouse=warehouse, ship_to=shanghai_hospital)
    (raised,) = active(order)["ORD-SHIPTO-REGION"]
    assert raised.severity == "medium" and raised.category == "compliance" and raised.blocking
    assert shanghai_hospital.name in raised.message_zh
    for ship_to in (hangzhou_hospital, other_distributor, None):
        other = order_entered(user=rep, customer=distributor, warehouse=warehouse, ship_to=ship_to)
        assert "ORD-SHIPTO-REGION" not in active(other), ship_to
    # fixing the ship-to auto-resolves
    services.order_update(order=order, user=rep, ship_to=hangzhou_hospital)
    assert event(order, "ORD-SHIPTO-REGION").status == EventStatus.AUTO_RESOLVED


@pytest.mark.django_db
def test_likely_duplicate_order(rep, customer, warehouse):
    # given
    p1, p2 = ProductFactory(), ProductFactory()
    lines = [{"product": p1, "quantity": 5}, {"product": p2, "quantity": 1}]
    first = order_entered(user=rep, customer=customer, warehouse=warehouse, lines=lines)
    # when
    second = order_entered(user=rep, customer=customer, warehouse=warehouse, lines=list(reversed(lines)))
    different = order_entered(user=rep, customer=customer, warehouse=warehouse, lines=[{"product": p1, "quantity": 6}])
    # then
    assert "ORD-DUPLICATE" not in active(first) and "ORD-DUPLICATE" not in active(different)
    (raised,) = active(second)["ORD-DUPLICATE"]
    assert raised.severity == "low" and not raised.blocking
    second.refresh_from_db()
    assert not second.is_held
    resave(second, rep)
    assert second.exception_events.filter(rule__code="ORD-DUPLICATE").count() == 1
    # cancelling the first one removes the cause
    services.order_cancel(order=first, user=rep, reason="entered twice")
    resave(second, rep)
    assert event(second, "ORD-DUPLICATE").status == EventStatus.AUTO_RESOLVED


@pytest.mark.django_db
def test_requested_delivery_date_in_the_past(rep, customer, warehouse):
    order = order_entered(user=rep, customer=customer, warehouse=warehouse, requested_delivery_date=in_days(-1))
    (raised,) = active(order)["ORD-DELIVERY-PAST"]
    assert raised.category == "logistics" and raised.severity == "medium" and not raised.blocking
    assert in_days(-1).isoformat() in raised.message_zh
    today = order_entered(user=rep, customer=customer, warehouse=warehouse, requested_delivery_date=in_days(0))
    none = order_entered(user=rep, customer=customer, warehouse=warehouse, requested_delivery_date=None)
    assert active(today) == {} and active(none) == {}
    services.order_update(order=order, user=rep, requested_delivery_date=in_days(5))
    assert event(order, "ORD-DELIVERY-PAST").status == EventStatus.AUTO_RESOLVED


@pytest.mark.django_db
def test_delivery_too_soon_for_a_cold_chain_product(rep, customer, warehouse):
    # given
    cold, ambient = cold_chain_product(), ProductFactory()
    lines = [{"product": ambient, "quantity": 1}, {"product": cold, "quantity": 1}]
    # when
    order = order_entered(
        user=rep, customer=customer, warehouse=warehouse, lines=lines, requested_delivery_date=in_days(1)
    )
    # then: only the cold-chain line, keyed by its line
    (raised,) = active(order)["ORD-COLD-CHAIN-LEAD-TIME"]
    assert raised.detail_key == "L2" and not raised.blocking and raised.category == "logistics"
    for days, expected in ((2, False), (0, True), (-1, False)):
        other = order_entered(
            user=rep, customer=customer, warehouse=warehouse, lines=lines, requested_delivery_date=in_days(days)
        )
        assert ("ORD-COLD-CHAIN-LEAD-TIME" in active(other)) is expected, days
    ambient_only = order_entered(
        user=rep, customer=customer, warehouse=warehouse, lines=lines[:1], requested_delivery_date=in_days(1)
    )
    assert active(ambient_only) == {}
    services.order_update(order=order, user=rep, requested_delivery_date=in_days(3))
    assert event(order, "ORD-COLD-CHAIN-LEAD-TIME").status == EventStatus.AUTO_RESOLVED


@pytest.mark.django_db
def test_order_total_above_the_approval_threshold(rep, customer, warehouse):
    # given: threshold ¥500,000 gross
    product = ProductFactory(list_price=Decimal("100000"))
    # when: 5 × ¥100,000 + 13 % VAT = ¥565,000
    order = order_entered(user=rep, customer=customer, warehouse=warehouse, lines=[{"product": product, "quantity": 5}])
    below = order_entered(user=rep, customer=customer, warehouse=warehouse, lines=[{"product": product, "quantity": 4}])
    # then
    (raised,) = active(order)["ORD-TOTAL-ABOVE-THRESHOLD"]
    assert raised.severity == "medium" and raised.blocking and "565,000.00" in raised.message_zh
    assert list(raised.rule.route_steps.values_list("department__code", flat=True)) == ["sales_management"]
    assert "ORD-TOTAL-ABOVE-THRESHOLD" not in active(below)
    line = order.lines.get()
    services.order_update(order=order, user=rep, lines=[{"id": line.pk, "quantity": 3}])
    assert event(order, "ORD-TOTAL-ABOVE-THRESHOLD").status == EventStatus.AUTO_RESOLVED


@pytest.mark.django_db
def test_inactive_product(rep, customer, warehouse):
    inactive, fine = ProductFactory(is_active=False), ProductFactory()
    order = order_entered(
        user=rep,
        customer=customer,
        warehouse=warehouse,
        lines=[{"product": fine, "quantity": 1}, {"product": inactive, "quantity": 1}],
    )
    (raised,) = active(order)["ORD-PRODUCT-INACTIVE"]
    assert raised.detail_key == "L2" and raised.severity == "high" and raised.blocking
    order.refresh_from_db()
    assert order.is_held
    # removing the line resolves it
    services.order_update(order=order, user=rep, lines=[{"id": order.lines.get(line_no=1).pk}])
    assert event(order, "ORD-PRODUCT-INACTIVE").status == EventStatus.AUTO_RESOLVED
    order.refresh_from_db()
    assert not order.is_held


@pytest.mark.django_db
def test_high_and_medium_together_hold_with_both_named(rep, warehouse):
    customer = customer_for(rep, uscc="")
    product = ProductFactory(list_price=Decimal("100"))
    order = order_entered(
        user=rep,
        customer=customer,
        warehouse=warehouse,
        lines=[{"product": product, "quantity": 1, "unit_price": "50"}],
    )
    order.refresh_from_db()
    assert set(active(order)) == {"ORD-CUSTOMER-INCOMPLETE", "ORD-PRICE-BELOW-LIST"}
    assert order.is_held
    for e in order.exception_events.filter(blocking=True):
        assert e.number in order.hold_summary
