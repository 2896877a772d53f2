"""Cold chain: temperature readings in bulk, excursion and missing-record detection (DOMAIN.md §5).

Missing records are found two ways: on upload, as gaps between consecutive readings; and by the
periodic ``temperature_records_scan``, as places whose records stopped (a gap still open).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation

from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext_lazy as _

from erp.kernel.errors import DomainError
from erp.kernel.history import history_stamp
from erp.kernel.messages import stored_text
from masterdata.models import Warehouse
from traceability import texts
from traceability.conf import cold_chain_setting
from traceability.models import (
    Excursion,
    ExcursionKind,
    ExcursionStatus,
    Shipment,
    ShipmentStatus,
    StockBalance,
    TemperatureReading,
)
from traceability.services._common import require_perm, rules_evaluate
from traceability.services.lots import lots_hold


def _parse_readings(readings: list[dict]) -> list[tuple[str, datetime, Decimal]]:
    parsed, errors = [], {}
    for index, item in enumerate(readings):
        try:
            probe = str(item["probe"]).strip()[:40]
            when = item["recorded_at"]
            when = when if isinstance(when, datetime) else parse_datetime(str(when))
            celsius = Decimal(str(item["celsius"]))
            if not probe or when is None or not celsius.is_finite():
                raise ValueError
        except (KeyError, ValueError, TypeError, InvalidOperation):
            errors[str(index)] = [_("Each reading needs probe, recorded_at (ISO 8601) and celsius.")]
            continue
        if timezone.is_naive(when):
            when = timezone.make_aware(when)
        parsed.append((probe, when, celsius.quantize(Decimal("0.01"))))
    if errors:
        raise DomainError(
            _("Some readings are not valid; nothing was recorded."), code="validation_error", fields=errors
        )
    return parsed


def _affected(
    *, shipment: Shipment | None, warehouse: Warehouse | None
) -> list[tuple[int, Decimal | None, Decimal | None]]:
    """(lot id, min °C, max °C) of the cold-chain lots at the place: a shipment's lines, or a cold
    store's lots on hand."""
    if shipment is not None:
        rows = shipment.lines.filter(product__storage_max_c__isnull=False).values_list(
            "lot_id", "product__storage_min_c", "product__storage_max_c"
        )
    else:
        rows = StockBalance.objects.filter(
            warehouse=warehouse, on_hand__gt=0, product__storage_max_c__isnull=False
        ).values_list("lot_id", "product__storage_min_c", "product__storage_max_c")
    return list(set(rows))


@transaction.atomic
def temperature_readings_record(
    *, user, readings: list[dict], shipment: Shipment | None = None, warehouse: Warehouse | None = None
) -> dict:
    """Store readings of a cold-chain shipment or a cold store (duplicates by probe and time ignored),
    then detect excursions against each product's label range and gaps longer than the monitoring
    interval. An excursion puts the affected lots on quality hold. Runs the ``temperature.logged`` rules.
    """
    require_perm(user, "traceability.add_temperaturereading", _("You may not record temperatures."))
    if (shipment is None) == (warehouse is None):
        raise DomainError(_("Give either a shipment or a warehouse."), code="validation_error")
    parsed = _parse_readings(readings)
    if not parsed:
        raise DomainError(_("No readings were sent."), code="validation_error")
    TemperatureReading.objects.bulk_create(
        [
            TemperatureReading(shipment=shipment, warehouse=warehouse, probe=p, recorded_at=t, celsius=c)
            for p, t, c in parsed
        ],
        batch_size=5000,
        ignore_conflicts=True,
    )
    start, end = min(t for _p, t, _c in parsed), max(t for _p, t, _c in parsed)
    _open_gaps_end(place={"shipment": shipment} if shipment is not None else {"warehouse": warehouse}, user=user)
    excursions = excursions_detect(shipment=shipment, warehouse=warehouse, start=start, end=end, user=user)
    source = shipment if shipment is not None else warehouse
    rules_evaluate(event="temperature.logged", source=source, context={"excursions": [e.pk for e in excursions]})
    return {"recorded": len(parsed), "excursions": excursions}


def excursions_detect(*, shipment=None, warehouse=None, start, end, user=None) -> list[Excursion]:
    """Find out-of-range runs and gaps in the readings between ``start`` and ``end`` (per probe).

    Readings out of the strictest range of the place's cold-chain lots form an excursion; its lots go
    on hold. Two consecutive readings further apart than the interval (transport for shipments, storage
    for warehouses, the shorter excursion interval while out of range) form a gap. Re-running over the
    same readings finds the same excursions and creates nothing new.
    """
    affected = _affected(shipment=shipment, warehouse=warehouse)
    if not affected:
        return []
    mins = [lo for _l, lo, _h in affected if lo is not None]
    maxs = [hi for _l, _lo, hi in affected if hi is not None]
    low, high = (max(mins) if mins else None), (min(maxs) if maxs else None)
    interval = cold_chain_setting("TRANSPORT_INTERVAL_MIN" if shipment is not None else "STORAGE_INTERVAL_MIN")
    excursion_interval = cold_chain_setting("EXCURSION_INTERVAL_MIN")
    slack = 1 + cold_chain_setting("GAP_TOLERANCE_PCT") / 100
    place = {"shipment": shipment} if shipment is not None else {"warehouse": warehouse}
    margin = timedelta(minutes=interval * 2)
    rows = TemperatureReading.objects.filter(**place, recorded_at__gte=start - margin, recorded_at__lte=end + margin)
    by_probe = defaultdict(list)
    for probe, when, celsius in rows.order_by("probe", "recorded_at").values_list("probe", "recorded_at", "celsius"):
        by_probe[probe].append((when, celsius))

    def out(c):
        return (low is not None and c < low) or (high is not None and c > high)

    found = []
    for probe, series in by_probe.items():
        run = None
        previous = None
        for when, celsius in series:
            if previous is not None:
                allowed = excursion_interval if out(previous[1]) else interval
                if (when - previous[0]).total_seconds() > allowed * 60 * slack:
                    found.append((ExcursionKind.GAP, probe, previous[0], when, None, None))
            if out(celsius):
                if run is None:
                    run = [when, when, celsius, celsius]
                run[1], run[2], run[3] = when, min(run[2], celsius), max(run[3], celsius)
            elif run is not None:
                found.append((ExcursionKind.OUT_OF_RANGE, probe, run[0], when, run[2], run[3]))
                run = None
            previous = (when, celsius)
        if run is not None:
            found.append((ExcursionKind.OUT_OF_RANGE, probe, run[0], None, run[2], run[3]))

    created = []
    lot_ids = [lot_id for lot_id, _lo, _hi in affected]
    for kind, probe, started, ended, lowest, highest in found:
        excursion = Excursion.objects.filter(**place, kind=kind, probe=probe, started_at=started).first()
        if excursion is not None:
            if ended and excursion.ended_at != ended:
                excursion.ended_at = ended
                excursion.min_celsius, excursion.max_celsius = lowest, highest
                history_stamp(excursion, user=user, reason="excursion ended")
                excursion.save()
            continue
        excursion = Excursion(
            **place,
            kind=kind,
            probe=probe,
            started_at=started,
            ended_at=ended,
            min_celsius=lowest,
            max_celsius=highest,
            range_min_c=low,
            range_max_c=high,
        )
        history_stamp(excursion, user=user, reason="detected")
        excursion.save()
        excursion.lots.set(lot_ids)
        created.append(excursion)
    if any(e.kind == ExcursionKind.OUT_OF_RANGE for e in created):
        lots_hold(lot_ids=lot_ids, user=user, reason=stored_text(texts.EXCURSION_HOLD))
    return created


def _open_gaps_end(*, place: dict, user=None) -> None:
    """Gaps the periodic scan left open end at the first later reading of their probe (of any probe
    for a place that had no readings at all)."""
    for gap in Excursion.objects.filter(**place, kind=ExcursionKind.GAP, ended_at__isnull=True).order_by("id"):
        later = TemperatureReading.objects.filter(**place, recorded_at__gt=gap.started_at)
        if gap.probe:
            later = later.filter(probe=gap.probe)
        first = later.order_by("recorded_at").values_list("recorded_at", flat=True).first()
        if first is not None:
            gap.ended_at = first
            history_stamp(gap, user=user, reason="readings resumed")
            gap.save()


IN_TRANSIT_STATUSES = (ShipmentStatus.SHIPPED, ShipmentStatus.IN_TRANSIT, ShipmentStatus.EXCEPTION)


def temperature_records_scan(*, now: datetime | None = None) -> dict:
    """Raise "missing temperature records" for cold-chain places whose records have stopped.

    Places are cold-chain shipments on the road (shipped, in transit, exception) and active cold stores
    holding cold-chain stock. A probe is stale when its last reading is older than the place's
    monitoring interval (``ERP["COLD_CHAIN"]``: transport or storage, with the gap tolerance); a
    shipment without any reading is stale from its dispatch, a cold store from the first scan that finds
    it so. Each stale probe gets one open GAP excursion, started at its last reading (never a second
    one while it is open; readings that arrive later end it), and the place's ``temperature.logged``
    rules run, so the missing-records rule raises its event once per place and keeps it while true.
    Each place is its own transaction; running again changes nothing.
    """
    now = now or timezone.now()
    counts = {"places": 0, "stale": 0, "gaps_opened": 0}
    shipments = Shipment.objects.filter(is_cold_chain=True, status__in=IN_TRANSIT_STATUSES).order_by("id")
    for shipment in shipments.iterator(chunk_size=500):
        _place_scan(source=shipment, place={"shipment": shipment}, since=shipment.dispatched_at, now=now, counts=counts)
    stores = (
        Warehouse.objects.filter(
            is_active=True,
            is_cold_storage=True,
            stock_balances__on_hand__gt=0,
            stock_balances__product__storage_max_c__isnull=False,
        )
        .distinct()
        .order_by("id")
    )
    for warehouse in stores:
        _place_scan(source=warehouse, place={"warehouse": warehouse}, since=None, now=now, counts=counts)
    return counts


def _place_scan(*, source, place: dict, since: datetime | None, now: datetime, counts: dict) -> None:
    """Open gaps for the stale probes of one place and run its rules. ``since``: when its records became
    due (a shipment's dispatch); ``None``: due already (a cold store holding cold-chain stock)."""
    counts["places"] += 1
    is_shipment = "shipment" in place
    interval = cold_chain_setting("TRANSPORT_INTERVAL_MIN" if is_shipment else "STORAGE_INTERVAL_MIN")
    limit = timedelta(minutes=interval * (1 + cold_chain_setting("GAP_TOLERANCE_PCT") / 100))
    last = dict(
        TemperatureReading.objects.filter(**place)
        .values("probe")
        .annotate(last=Max("recorded_at"))
        .values_list("probe", "last")
    )
    stale = {probe: when for probe, when in last.items() if now - when > limit}
    if not last and (since is None or now - since > limit):
        stale = {"": since or now}
    if not stale:
        return
    counts["stale"] += 1
    with transaction.atomic():
        # The place's row lock keeps two overlapping scans from opening the same gap twice.
        type(source).objects.select_for_update().filter(pk=source.pk).first()
        open_probes = set(
            Excursion.objects.filter(**place, kind=ExcursionKind.GAP, ended_at__isnull=True).values_list(
                "probe", flat=True
            )
        )
        affected = _affected(shipment=place.get("shipment"), warehouse=place.get("warehouse"))
        lot_ids = [lot_id for lot_id, _lo, _hi in affected]
        opened = []
        for probe, started in sorted(stale.items()):
            if probe in open_probes:
                continue
            gap = Excursion(**place, kind=ExcursionKind.GAP, probe=probe, started_at=started)
            history_stamp(gap, user=None, reason="no readings (periodic scan)")
            gap.save()
            gap.lots.set(lot_ids)
            opened.append(gap)
        counts["gaps_opened"] += len(opened)
        rules_evaluate(
            event="temperature.logged", source=source, context={"excursions": [g.pk for g in opened], "scan": True}
        )


@transaction.atomic
def excursion_acknowledge(*, excursion: Excursion, user, comment: str) -> Excursion:
    """Quality staff acknowledge an excursion with a comment (DOMAIN.md §5): an excursion that has
    ended is closed; one still in progress is only acknowledged and stays open for closing once a
    reading shows it ended. A closed excursion cannot be acknowledged again. History keeps each step.
    """
    require_perm(
        user, "traceability.acknowledge_excursion", _("Only quality staff may acknowledge temperature excursions.")
    )
    comment = (comment or "").strip()
    if not comment:
        raise DomainError(
            _("Acknowledging an excursion needs a comment."),
            code="validation_error",
            fields={"comment": [_("Enter a comment.")]},
        )
    excursion = Excursion.objects.select_for_update().get(pk=excursion.pk)
    if excursion.status == ExcursionStatus.CLOSED:
        raise DomainError(_("This excursion is already closed."), code="excursion_closed")
    excursion.comment = comment
    excursion.status = ExcursionStatus.ACKNOWLEDGED if excursion.in_progress else ExcursionStatus.CLOSED
    history_stamp(excursion, user=user, reason="acknowledged" if excursion.in_progress else "closed")
    excursion.save()
    return excursion
