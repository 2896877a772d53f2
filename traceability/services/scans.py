"""Periodic scans that feed the rules engine (expired stock on hand, overdue shipments)."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from masterdata.models import Warehouse
from traceability.services._common import rules_evaluate


def stock_expiry_scan() -> int:
    """Evaluate the ``stock.scan`` rules once per warehouse holding stock (expired stock on hand);
    returns the number of warehouses scanned. Each warehouse is its own transaction."""
    count = 0
    for warehouse in Warehouse.objects.filter(stock_balances__on_hand__gt=0).distinct().order_by("id"):
        with transaction.atomic():
            rules_evaluate(event="stock.scan", source=warehouse, context={})
        count += 1
    return count


def shipments_overdue_scan() -> int:
    """Re-evaluate the ``shipment.updated`` rules of shipments past their expected arrival and not yet
    delivered, so an overdue shipment raises its event even when the carrier reports nothing."""
    from traceability.models import Shipment, ShipmentStatus

    count = 0
    late = Shipment.objects.filter(
        status__in=[ShipmentStatus.SHIPPED, ShipmentStatus.IN_TRANSIT, ShipmentStatus.EXCEPTION],
        expected_arrival_at__lt=timezone.now(),
    ).order_by("id")
    for shipment in late.iterator(chunk_size=500):
        with transaction.atomic():
            rules_evaluate(event="shipment.updated", source=shipment, context={"change": "scan"})
        count += 1
    return count


def stock_scan() -> dict:
    """The daily scan: expired stock per warehouse, then overdue shipments."""
    return {"warehouses": stock_expiry_scan(), "overdue_shipments": shipments_overdue_scan()}
