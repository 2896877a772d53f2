"""Triggers come from the fact providers the apps register: every provided event builds its facts in a
constant number of queries, and a rule on an event nothing provides is refused wherever it is saved."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone, translation

from exceptions_center.admin.rules import RuleAdminForm
from exceptions_center.facts_registry import fact_providers, facts_build, provided_events
from exceptions_center.models import Rule, TriggerEvent
from exceptions_center.services.rules import rule_save, rule_validate
from tests.traceability.factories import (
    approved_order,
    customer,
    dispatched,
    in_days,
    product,
    released_stock,
    warehouse,
)
from traceability.models import TemperatureReading
from traceability.services.ledger import MoveSpec, stock_moves_post

pytestmark = pytest.mark.django_db

UNPROVIDED = ("licence.expiring", "recall.opened", "invoice.overdue")


def _queries(event: str, source) -> int:
    with CaptureQueriesContext(connection) as captured:
        facts_build(event=event, source=source)
    return len(captured)


def _rule(**fields) -> Rule:
    values = {
        "code": "T-TRIGGER",
        "name_zh": "规则",
        "name_en": "Rule",
        "category": "compliance",
        "event": "licence.expiring",
        "condition": "true",
        "message_zh": "到期",
        "message_en": "Expiring",
        "severity": "low",
    }
    values.update(fields)
    return Rule(**values)


def test_every_provided_event_is_in_the_vocabulary_and_has_a_provider():
    # when
    events = provided_events()
    # then
    assert set(events) == {"order.saved", "shipment.updated", "temperature.logged", "stock.scan", "lot.status_changed"}
    assert set(events) <= set(TriggerEvent.values)
    assert all(fact_providers(event) for event in events)
    assert [type(p).__name__ for p in fact_providers("order.saved")] == ["OrderFacts", "OrderStockFacts"]


@pytest.mark.parametrize("event", UNPROVIDED)
def test_a_rule_on_an_event_without_provider_is_refused_at_save(event, admin_user):
    # given
    rule = _rule(event=event)
    # when / then: the service (its message read in English; it is in the Chinese catalogue too), the model
    # and nothing saved
    with translation.override("en"), pytest.raises(ValidationError) as refused:
        rule_save(rule=rule, user=admin_user)
    assert "No application provides facts" in str(refused.value.message_dict["event"])
    with pytest.raises(ValidationError):
        rule.full_clean(exclude=["route"])
    with pytest.raises(ValidationError):
        rule_validate(rule=rule)
    assert not Rule.objects.filter(code="T-TRIGGER").exists()


def test_api_refuses_a_rule_on_an_event_without_provider(make_user, api_client_for):
    # given
    client = api_client_for(make_user("compliance"))
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    body = {
        "code": "API-LIC",
        "name_zh": "证照",
        "name_en": "Licence",
        "category": "compliance",
        "event": "recall.opened",
        "condition": "true",
        "message_zh": "召回",
        "message_en": "Recall",
        "severity": "high",
    }
    # when
    response = client.post("/api/v1/exceptions/rules/", body, format="json")
    # then
    assert response.status_code == 400
    assert "No application provides facts for the event “recall.opened”" in response.json()["fields"]["event"][0]
    assert not Rule.objects.filter(code="API-LIC").exists()


def test_admin_form_offers_only_provided_events():
    # when
    form = RuleAdminForm()
    # then
    offered = {value for value, _label in form.fields["event"].choices if value}
    assert offered == set(provided_events())
    assert not offered & set(UNPROVIDED)


# --- each provider: a constant number of queries ------------------------------------------------------


def test_order_saved_providers_cost_the_same_queries_for_1_and_20_lines():
    # given: orders and traceability facts together (lines with their stock)
    store = warehouse()
    products = [product() for _ in range(20)]
    for prod in products:
        released_stock(product=prod, warehouse=store, quantity=5, expiry=in_days(400))
    small = approved_order(customer=customer(), warehouse=store, lines=[(products[0], 1)])
    large = approved_order(customer=customer(), warehouse=store, lines=[(p, 1) for p in products])
    # when
    one, twenty = _queries("order.saved", small), _queries("order.saved", large)
    # then
    assert one == twenty


def test_lot_provider_costs_the_same_queries_for_1_and_5_warehouses():
    # given
    prod = product()
    one_place = released_stock(product=prod, warehouse=warehouse(), quantity=3, expiry=in_days(100))
    many = released_stock(product=prod, warehouse=warehouse(), quantity=3, expiry=in_days(100))
    with transaction.atomic():
        stock_moves_post(
            moves=[
                MoveSpec(
                    kind="adjustment",
                    product_id=prod.pk,
                    lot_id=many.pk,
                    warehouse_id=warehouse().pk,
                    on_hand_delta=1,
                )
                for _ in range(4)
            ],
            document_type="adjustment",
            document_id=0,
            document_ref="TEST",
            user=None,
        )
    # when / then
    assert _queries("lot.status_changed", one_place) == _queries("lot.status_changed", many)


def test_stock_scan_provider_costs_the_same_queries_for_1_and_10_expired_lots():
    # given
    small, large = warehouse(), warehouse()
    released_stock(product=product(), warehouse=small, quantity=1, expiry=in_days(-3))
    for _ in range(10):
        released_stock(product=product(), warehouse=large, quantity=1, expiry=in_days(-3))
    # when / then
    assert _queries("stock.scan", small) == _queries("stock.scan", large)


def test_temperature_provider_costs_the_same_queries_for_1_and_30_readings():
    # given
    small, large = warehouse(is_cold_storage=True), warehouse(is_cold_storage=True)
    now = timezone.now()
    TemperatureReading.objects.create(warehouse=small, probe="P1", recorded_at=now, celsius=Decimal("5"))
    TemperatureReading.objects.bulk_create(
        TemperatureReading(
            warehouse=large, probe=f"P{n % 3}", recorded_at=now - timedelta(minutes=n), celsius=Decimal("5")
        )
        for n in range(30)
    )
    # when / then
    assert _queries("temperature.logged", small) == _queries("temperature.logged", large)


def test_shipment_provider_costs_the_same_queries_for_1_and_5_lines(make_user):
    # given
    user = make_user("warehouse")
    store = warehouse()
    products = [product() for _ in range(5)]
    for prod in products:
        released_stock(product=prod, warehouse=store, quantity=5, expiry=in_days(400))
    small = dispatched(approved_order(customer=customer(), warehouse=store, lines=[(products[0], 1)]), user)
    large = dispatched(approved_order(customer=customer(), warehouse=store, lines=[(p, 1) for p in products]), user)
    # when / then
    assert _queries("shipment.updated", small) == _queries("shipment.updated", large)
