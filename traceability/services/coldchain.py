"""Cold chain: temperature readings in bulk, excursion and missing-record detection (DOMAIN.md §5)."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation

from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext_lazy as _

from erp.kernel.errors import DomainError
from masterdata.models import Warehouse
from traceability.conf import cold_chain_setting
from traceability.models import (
    Excursion,
    ExcursionKind,
    ExcursionStatus,
    Shipment,
    StockBalance,
    TemperatureReading,
)
from traceability.services._common import require_perm, rules_evaluate, with_history
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
                with_history(excursion, user=user, reason="excursion ended")
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
        with_history(excursion, user=user, reason="detected")
        excursion.save()
        excursion.lots.set(lot_ids)
        created.append(excursion)
    if any(e.kind == ExcursionKind.OUT_OF_RANGE for e in created):
        lots_hold(lot_ids=lot_ids, user=user, reason=str(_("temperature excursion")))
    return created


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
    with_history(excursion, user=user, reason="acknowledged" if excursion.in_progress else "closed")
    excursion.save()
    return excursion
