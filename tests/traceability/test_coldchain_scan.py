"""The periodic scan for missing temperature records: cold-chain shipments on the road and cold stores
whose readings stopped raise the missing-records rule once, and only then."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from exceptions_center.models import ExceptionEvent
from traceability.models import Excursion, ExcursionKind, Shipment, ShipmentStatus
from traceability.services import temperature_readings_record, temperature_records_scan
from traceability.tasks import temperature_records_scan_task

from .factories import approved_order, customer, dispatched, gs1, in_days, product, received_and_released, warehouse

pytestmark = pytest.mark.django_db
MISSING = "TRC-TEMP-MISSING"


@pytest.fixture
def cold(warehouse_user, quality_user):
    """A cold store with a refrigerated lot released in it, and a cold-chain shipment of 4 units on
    the road since an hour ago."""
    store = warehouse(is_cold_storage=True)
    prod = product(storage_min_c=Decimal("2"), storage_max_c=Decimal("8"))
    received_and_released(
        warehouse_user=warehouse_user,
        quality_user=quality_user,
        warehouse=store,
        scans=[gs1(prod.udi_di, lot="CC1", expiry=in_days(300), count=10)],
    )
    shipment = dispatched(approved_order(customer=customer(), warehouse=store, lines=[(prod, 4)]), warehouse_user)
    Shipment.objects.filter(pk=shipment.pk).update(dispatched_at=timezone.now() - timedelta(hours=1))
    return {"store": store, "shipment": shipment}


def _readings(*, end, count, minutes, probes=("P1", "P2")):
    """``count`` in-range readings per probe, ``minutes`` apart, the last one at ``end``."""
    return [
        {"probe": p, "recorded_at": end - timedelta(minutes=minutes * i), "celsius": "5"}
        for p in probes
        for i in range(count)
    ]


def _events(source=None):
    events = ExceptionEvent.objects.filter(rule__code=MISSING)
    if source is not None:
        events = events.filter(source_id=source.pk, source_label=getattr(source, "number", None) or source.code)
    return events


def test_temperature_records_scan_fires_for_a_shipment_whose_readings_stopped(cold, warehouse_user):
    # given the shipment reported every 5 minutes until 30 minutes ago (the store is up to date)
    now = timezone.now()
    shipment, store = cold["shipment"], cold["store"]
    temperature_readings_record(
        user=warehouse_user, shipment=shipment, readings=_readings(end=now - timedelta(minutes=30), count=6, minutes=5)
    )
    temperature_readings_record(user=warehouse_user, warehouse=store, readings=_readings(end=now, count=3, minutes=10))
    assert not _events().exists()
    # when the periodic scan runs
    counts = temperature_records_scan()
    # then each silent probe has an open gap from its last reading, and the rule raised one event
    gaps = Excursion.objects.filter(shipment=shipment, kind=ExcursionKind.GAP)
    assert sorted(gaps.values_list("probe", flat=True)) == ["P1", "P2"]
    assert all(g.ended_at is None and g.started_at == now - timedelta(minutes=30) for g in gaps)
    event = _events(shipment).get()
    assert shipment.number in event.message_en and event.severity == "medium"
    assert counts["gaps_opened"] == 2 and not _events(store).exists()


def test_temperature_records_scan_run_again_raises_nothing_new(cold, warehouse_user):
    # given a scan already raised the event for the silent shipment
    shipment = cold["shipment"]
    temperature_readings_record(
        user=warehouse_user,
        shipment=shipment,
        readings=_readings(end=timezone.now() - timedelta(minutes=30), count=6, minutes=5),
    )
    temperature_records_scan()
    gaps, events = Excursion.objects.count(), list(_events().values_list("id", "status"))
    # when the scan runs again (and again through the Celery task)
    temperature_records_scan()
    temperature_records_scan_task.delay()
    # then no gap and no event is added
    assert Excursion.objects.count() == gaps and list(_events().values_list("id", "status")) == events


def test_temperature_records_scan_stays_silent_while_readings_keep_coming(cold, warehouse_user):
    # given both probes reported within the interval in the shipment and the cold store
    now = timezone.now()
    temperature_readings_record(
        user=warehouse_user,
        shipment=cold["shipment"],
        readings=_readings(end=now - timedelta(minutes=2), count=6, minutes=5),
    )
    temperature_readings_record(
        user=warehouse_user,
        warehouse=cold["store"],
        readings=_readings(end=now - timedelta(minutes=20), count=3, minutes=20),
    )
    # when the scan runs; then nothing is raised
    temperature_records_scan()
    assert not Excursion.objects.filter(kind=ExcursionKind.GAP).exists() and not _events().exists()


def test_temperature_records_scan_ignores_delivered_shipments(cold, warehouse_user):
    # given the shipment stopped reporting but has been delivered
    shipment = cold["shipment"]
    temperature_readings_record(
        user=warehouse_user,
        shipment=shipment,
        readings=_readings(end=timezone.now() - timedelta(hours=3), count=3, minutes=5),
    )
    Shipment.objects.filter(pk=shipment.pk).update(status=ShipmentStatus.DELIVERED)
    temperature_readings_record(
        user=warehouse_user, warehouse=cold["store"], readings=_readings(end=timezone.now(), count=1, minutes=5)
    )
    # when the scan runs; then nothing is raised for it
    temperature_records_scan()
    assert not _events(shipment).exists()


def test_temperature_records_scan_fires_for_a_shipment_without_any_reading(cold):
    # given the shipment left an hour ago and sent nothing; when the scan runs
    temperature_records_scan()
    # then one gap from the dispatch, and the event
    gap = Excursion.objects.get(shipment=cold["shipment"], kind=ExcursionKind.GAP)
    assert gap.probe == "" and gap.started_at == Shipment.objects.get(pk=cold["shipment"].pk).dispatched_at
    assert _events(cold["shipment"]).exists()


def test_temperature_records_scan_fires_for_a_silent_cold_store_and_not_an_ambient_one(cold, warehouse_user):
    # given the cold store's probes last reported two hours ago (storage interval: 30 minutes),
    # and an ambient warehouse holding ordinary stock without any reading
    from .factories import released_stock

    store = cold["store"]
    temperature_readings_record(
        user=warehouse_user,
        warehouse=store,
        readings=_readings(end=timezone.now() - timedelta(hours=2), count=2, minutes=30),
    )
    ambient = warehouse()
    released_stock(product=product(), warehouse=ambient, quantity=5, expiry=in_days(300))
    # when the scan runs
    temperature_records_scan()
    # then the cold store raised the event, the ambient warehouse nothing
    assert _events(store).exists()
    assert not Excursion.objects.filter(warehouse=ambient).exists()


def test_readings_that_resume_end_the_open_gap(cold, warehouse_user):
    # given the scan opened gaps for the silent shipment
    shipment = cold["shipment"]
    now = timezone.now()
    temperature_readings_record(
        user=warehouse_user, shipment=shipment, readings=_readings(end=now - timedelta(minutes=50), count=2, minutes=5)
    )
    temperature_records_scan()
    # when readings resume
    temperature_readings_record(user=warehouse_user, shipment=shipment, readings=_readings(end=now, count=2, minutes=5))
    # then the scan's gaps have ended at the first new reading (so quality can close them)
    gaps = Excursion.objects.filter(shipment=shipment, kind=ExcursionKind.GAP, started_at=now - timedelta(minutes=50))
    assert gaps.count() == 2 and all(g.ended_at == now - timedelta(minutes=5) for g in gaps)
    temperature_records_scan()
    assert not Excursion.objects.filter(shipment=shipment, kind=ExcursionKind.GAP, ended_at__isnull=True).exists()
