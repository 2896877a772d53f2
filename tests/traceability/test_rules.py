"""The traceability rule catalogue: each rule validates, fires on the right source and stays silent otherwise."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from exceptions_center.models import ExceptionEvent, Rule
from exceptions_center.services import rules_evaluate
from exceptions_center.services.rules import rule_validate
from tests.conftest import PASSWORD
from traceability.facts import ORDER_STOCK_FACTS
from traceability.models import Lot, LotStatus
from traceability.services import (
    lot_release,
    order_allocate,
    receipt_create,
    receipt_scans_receive,
    shipment_create,
    shipment_dispatch,
    shipment_sign,
    stock_scan,
    temperature_readings_record,
)

from .factories import approved_order, customer, gs1, in_days, product, released_stock, supplier, warehouse

pytestmark = pytest.mark.django_db


def _codes(result, prefix="TRC-"):
    return sorted(
        e.rule.code for e in result.raised + result.refreshed + result.reopened if e.rule.code.startswith(prefix)
    )


def test_every_traceability_rule_validates_against_the_sample_facts():
    rules = Rule.objects.filter(code__startswith="TRC-")
    assert rules.count() == 9
    for rule in rules:
        rule_validate(rule=rule)  # raises with line/column when broken
        assert rule.route_steps.exists()


def test_stock_shortage_fires_with_transfer_suggestion_and_not_when_covered():
    # given 3 units here, 10 in another warehouse
    here, there, prod = warehouse(), warehouse(), product()
    released_stock(product=prod, warehouse=here, quantity=3, expiry=in_days(300))
    released_stock(product=prod, warehouse=there, quantity=10, expiry=in_days(300))
    short = approved_order(customer=customer(), warehouse=here, lines=[(prod, 5)])
    covered = approved_order(customer=customer(), warehouse=here, lines=[(prod, 3)])
    # when
    fired = rules_evaluate(event="order.saved", source=short)
    silent = rules_evaluate(event="order.saved", source=covered)
    # then
    assert _codes(fired) == ["TRC-STOCK-SHORTAGE"]
    event = ExceptionEvent.objects.get(rule__code="TRC-STOCK-SHORTAGE")
    assert there.code in event.message_en and "transfer" in event.message_en and "缺 2" in event.message_zh
    assert event.category == "logistics" and event.severity == "medium"
    assert _codes(silent) == []


def test_stock_shortage_auto_resolves_when_stock_arrives():
    wh, prod = warehouse(), product()
    order = approved_order(customer=customer(), warehouse=wh, lines=[(prod, 2)])
    assert _codes(rules_evaluate(event="order.saved", source=order)) == ["TRC-STOCK-SHORTAGE"]
    released_stock(product=prod, warehouse=wh, quantity=2, expiry=in_days(300))
    result = rules_evaluate(event="order.saved", source=order)
    assert [e.rule.code for e in result.resolved] == ["TRC-STOCK-SHORTAGE"]


def test_near_expiry_only_fires_and_not_with_fresh_stock():
    wh, prod = warehouse(), product()
    released_stock(product=prod, warehouse=wh, quantity=10, expiry=in_days(40))
    order = approved_order(customer=customer(), warehouse=wh, lines=[(prod, 2)])
    assert _codes(rules_evaluate(event="order.saved", source=order)) == ["TRC-NEAR-EXPIRY-ONLY"]
    released_stock(product=prod, warehouse=wh, quantity=10, expiry=in_days(400))
    assert _codes(rules_evaluate(event="order.saved", source=order)) == []


def test_cold_chain_from_ambient_warehouse_fires_and_not_from_cold_store():
    prod = product(storage_min_c=Decimal("2"), storage_max_c=Decimal("8"))
    ambient, cold = warehouse(), warehouse(is_cold_storage=True)
    released_stock(product=prod, warehouse=cold, quantity=10, expiry=in_days(300))
    bad = approved_order(customer=customer(), warehouse=ambient, lines=[(prod, 1)])
    assert "TRC-COLD-CHAIN-WAREHOUSE" in _codes(rules_evaluate(event="order.saved", source=bad))
    good = approved_order(customer=customer(), warehouse=cold, lines=[(prod, 1)])
    assert _codes(rules_evaluate(event="order.saved", source=good)) == []


def test_requested_lot_unavailable_fires_and_not_when_the_lot_is_there():
    wh, prod = warehouse(), product()
    released_stock(product=prod, warehouse=wh, quantity=10, expiry=in_days(300), lot_number="HAVE")
    missing = approved_order(customer=customer(), warehouse=wh, lines=[(prod, 1, {"requested_lot": "WANT"})])
    assert "TRC-REQUESTED-LOT-UNAVAILABLE" in _codes(rules_evaluate(event="order.saved", source=missing))
    present = approved_order(customer=customer(), warehouse=wh, lines=[(prod, 1, {"requested_lot": "HAVE"})])
    assert _codes(rules_evaluate(event="order.saved", source=present)) == []


def test_order_stock_facts_cost_a_fixed_number_of_queries(django_assert_num_queries):
    wh = warehouse()
    products = [product() for _ in range(6)]
    for p in products:
        released_stock(product=p, warehouse=wh, quantity=5, expiry=in_days(300))
    small = approved_order(customer=customer(), warehouse=wh, lines=[(products[0], 1)])
    large = approved_order(customer=customer(), warehouse=wh, lines=[(p, 1) for p in products])
    for order in (small, large):
        facts = {
            "order": {
                "lines": [
                    {
                        "line_no": line.line_no,
                        "product_id": line.product_id,
                        "quantity": line.quantity,
                        "requested_lot": "",
                        "min_shelf_life_days": None,
                        "product": {},
                    }
                    for line in order.lines.all()
                ]
            }
        }
        with django_assert_num_queries(2):
            ORDER_STOCK_FACTS.build(source=order, facts=facts, context={})
        assert all(line["stock"]["available"] == 5 for line in facts["order"]["lines"])


@pytest.fixture
def shipped(warehouse_user, quality_user):
    wh = warehouse(is_cold_storage=True)
    prod = product(storage_min_c=Decimal("2"), storage_max_c=Decimal("8"))
    receipt = receipt_create(user=warehouse_user, supplier=supplier(), warehouse=wh, transport_temperature_ok=True)
    receipt_scans_receive(
        receipt=receipt, user=warehouse_user, scans=[gs1(prod.udi_di, lot="CC1", expiry=in_days(300), count=10)]
    )
    lot_release(lot=Lot.objects.get(lot_number="CC1"), user=quality_user, password=PASSWORD)
    order = approved_order(customer=customer(), warehouse=wh, lines=[(prod, 4)])
    order_allocate(order=order, user=warehouse_user)
    shipment = shipment_create(order=order, user=warehouse_user)
    return shipment_dispatch(
        shipment=shipment,
        user=warehouse_user,
        carrier="顺丰冷运",
        tracking_number="SF9",
        expected_arrival_at=timezone.now() + timedelta(hours=6),
    )


def test_shipment_overdue_fires_from_the_scan_and_not_before(shipped):
    assert not ExceptionEvent.objects.filter(rule__code="TRC-SHIPMENT-OVERDUE").exists()
    type(shipped).objects.filter(pk=shipped.pk).update(expected_arrival_at=timezone.now() - timedelta(hours=3))
    stock_scan()
    event = ExceptionEvent.objects.get(rule__code="TRC-SHIPMENT-OVERDUE")
    assert event.source_label == shipped.number


def test_delivery_discrepancy_fires_and_not_on_a_clean_sign_off(shipped, warehouse_user):
    line = shipped.lines.first()
    shipment_sign(
        shipment=shipped,
        user=warehouse_user,
        signed_by="王",
        discrepancies=[{"shipment_line": line.pk, "quantity_received": 3, "note": "一盒破损"}],
    )
    event = ExceptionEvent.objects.get(rule__code="TRC-DELIVERY-DISCREPANCY")
    assert "一盒破损" in event.message_zh and event.severity == "high"


def test_clean_sign_off_raises_nothing(shipped, warehouse_user):
    shipment_sign(shipment=shipped, user=warehouse_user, signed_by="王")
    assert not ExceptionEvent.objects.filter(rule__code__startswith="TRC-").exists()


def _readings(start, values, minutes=5, probes=("P1", "P2")):
    return [
        {"probe": p, "recorded_at": start + timedelta(minutes=minutes * i), "celsius": str(v)}
        for p in probes
        for i, v in enumerate(values)
    ]


def test_temperature_excursion_holds_lot_and_fires(shipped, warehouse_user):
    start = timezone.now() - timedelta(hours=1)
    temperature_readings_record(
        user=warehouse_user, shipment=shipped, readings=_readings(start, [4, 5, 11, 12, 5], minutes=2)
    )
    event = ExceptionEvent.objects.get(rule__code="TRC-TEMP-EXCURSION")
    assert event.category == "quality" and event.severity == "high" and "CC1" in event.message_zh
    assert Lot.objects.get(lot_number="CC1").status == LotStatus.ON_HOLD
    assert not ExceptionEvent.objects.filter(rule__code="TRC-TEMP-MISSING").exists()


def test_temperature_in_range_every_5_minutes_with_two_probes_raises_nothing(shipped, warehouse_user):
    start = timezone.now() - timedelta(hours=1)
    temperature_readings_record(user=warehouse_user, shipment=shipped, readings=_readings(start, [4, 5, 6, 5, 4]))
    assert not ExceptionEvent.objects.filter(rule__code__startswith="TRC-TEMP").exists()
    assert Lot.objects.get(lot_number="CC1").status == LotStatus.RELEASED


def test_missing_temperature_records_fire_on_gap_or_single_probe(shipped, warehouse_user):
    start = timezone.now() - timedelta(hours=2)
    readings = _readings(start, [4, 5], probes=("P1",)) + _readings(
        start + timedelta(minutes=40), [5, 4], probes=("P1",)
    )
    temperature_readings_record(user=warehouse_user, shipment=shipped, readings=readings)
    event = ExceptionEvent.objects.get(rule__code="TRC-TEMP-MISSING")
    assert "1/2" in event.message_en


def test_expired_stock_on_hand_fires_from_the_periodic_scan_and_not_for_fresh_stock():
    wh, fresh_wh, prod = warehouse(), warehouse(), product()
    released_stock(product=prod, warehouse=wh, quantity=3, expiry=in_days(-2), lot_number="OLD")
    released_stock(product=prod, warehouse=fresh_wh, quantity=3, expiry=in_days(200), lot_number="NEW")
    stock_scan()
    events = list(ExceptionEvent.objects.filter(rule__code="TRC-EXPIRED-STOCK"))
    assert [e.source_label for e in events] == [wh.code] and "OLD" in events[0].message_en


def test_order_stock_facts_are_spared_when_no_enabled_rule_reads_stock(django_assert_num_queries):
    wh = warehouse()
    prod = product()
    released_stock(product=prod, warehouse=wh, quantity=5, expiry=in_days(300))
    order = approved_order(customer=customer(), warehouse=wh, lines=[(prod, 1)])

    def line_facts():
        return {"order": {"lines": [{"line_no": 1, "product_id": prod.pk, "quantity": 1, "product": {}}]}}

    # no rule mentions "stock": no query, no stock facts
    facts = line_facts()
    with django_assert_num_queries(0):
        ORDER_STOCK_FACTS.build(source=order, facts=facts, context={"fact_names": frozenset({"order", "lines"})})
    assert "stock" not in facts["order"]["lines"][0]
    # a rule mentions it (or the caller did not say: dry runs, the facts card): built
    for names in (frozenset({"order", "lines", "stock"}), None):
        facts = line_facts()
        ORDER_STOCK_FACTS.build(source=order, facts=facts, context={"fact_names": names})
        assert facts["order"]["lines"][0]["stock"]["available"] == 5


def test_a_stock_rule_still_fires_when_only_stock_rules_and_others_are_enabled():
    # given: every order.saved rule but the shortage rule disabled, then re-enabled
    wh = warehouse()
    order = approved_order(customer=customer(), warehouse=wh, lines=[(product(), 3)])
    Rule.objects.filter(event="order.saved").exclude(code="TRC-STOCK-SHORTAGE").update(enabled=False)
    assert "TRC-STOCK-SHORTAGE" in _codes(rules_evaluate(event="order.saved", source=order))
