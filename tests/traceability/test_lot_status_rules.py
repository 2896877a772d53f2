"""Every change of a lot's status runs the ``lot.status_changed`` rules with the lot as source: a hold
from a temperature excursion, a release, a rejection, a recall."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib.contenttypes.models import ContentType
from django.utils import timezone

from exceptions_center.models import ExceptionEvent
from tests.conftest import PASSWORD
from traceability.models import Lot, LotStatus
from traceability.services import lot_status_set, temperature_readings_record

from .factories import (
    approved_order,
    customer,
    dispatched,
    gs1,
    in_days,
    product,
    received_and_released,
    rule_on,
    supplier,
    warehouse,
)

pytestmark = pytest.mark.django_db


def _lot_events(lot, rule):
    return ExceptionEvent.objects.filter(
        rule=rule, source_type=ContentType.objects.get_for_model(Lot), source_id=lot.pk
    )


def test_lots_hold_on_an_excursion_runs_the_lot_status_changed_rules(warehouse_user, quality_user):
    # given a rule watching lots put on hold, and a cold-chain shipment of a released lot
    rule = rule_on(
        "lot.status_changed",
        'lot.status == "on_hold" && lot.previous_status == "released"',
        message_en="Lot {lot.lot_number} on hold: {lot.reason}",
    )
    store, prod = warehouse(is_cold_storage=True), product(storage_min_c=Decimal("2"), storage_max_c=Decimal("8"))
    received_and_released(
        warehouse_user=warehouse_user,
        quality_user=quality_user,
        warehouse=store,
        scans=[gs1(prod.udi_di, lot="CC1", expiry=in_days(300), count=10)],
    )
    shipment = dispatched(approved_order(customer=customer(), warehouse=store, lines=[(prod, 4)]), warehouse_user)
    start = timezone.now() - timedelta(minutes=30)
    # when the readings leave the product's range (the excursion holds the lot)
    temperature_readings_record(
        user=warehouse_user,
        shipment=shipment,
        readings=[
            {"probe": p, "recorded_at": start + timedelta(minutes=2 * i), "celsius": str(c)}
            for p in ("P1", "P2")
            for i, c in enumerate([5, 11, 12, 5])
        ],
    )
    # then the rule raised its event on the lot
    lot = Lot.objects.get(lot_number="CC1")
    assert lot.status == LotStatus.ON_HOLD
    event = _lot_events(lot, rule).get()
    assert event.message_en.startswith("Lot CC1 on hold") and event.source_label == "CC1"


@pytest.mark.parametrize(
    "start, target, password",
    [
        (LotStatus.QUARANTINE, LotStatus.RELEASED, PASSWORD),
        (LotStatus.QUARANTINE, LotStatus.REJECTED, PASSWORD),
        (LotStatus.RELEASED, LotStatus.RECALLED, None),
        (LotStatus.RELEASED, LotStatus.ON_HOLD, None),
    ],
)
def test_lot_status_set_runs_the_lot_status_changed_rules(warehouse_user, quality_user, start, target, password):
    # given a rule on this very change, and a lot in ``start``
    from traceability.services import receipt_create, receipt_scan

    rule = rule_on("lot.status_changed", f'lot.status == "{target}" && lot.previous_status == "{start}"')
    prod = product()
    receipt = receipt_create(user=warehouse_user, supplier=supplier(), warehouse=warehouse())
    receipt_scan(receipt=receipt, user=warehouse_user, raw=gs1(prod.udi_di, lot="L1", expiry=in_days(300)))
    lot = Lot.objects.get(lot_number="L1")
    if start != LotStatus.QUARANTINE:
        lot = lot_status_set(lot=lot, status=start, user=quality_user, password=PASSWORD)
    assert not _lot_events(lot, rule).exists()
    # when quality moves it to ``target``
    lot_status_set(lot=lot, status=target, user=quality_user, password=password, reason="质量决定")
    # then the rule raised its event on the lot
    assert _lot_events(lot, rule).count() == 1
