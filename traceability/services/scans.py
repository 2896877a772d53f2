"""Periodic stock scans that feed the rules engine."""

from __future__ import annotations

from django.db import transaction

from traceability.services._common import rules_evaluate


def stock_expiry_scan() -> int:
    """Evaluate the ``stock.scan`` rules once per warehouse holding stock (expired stock on hand and
    the like); returns the number of warehouses scanned. Each warehouse is its own transaction."""
    from masterdata.models import Warehouse

    count = 0
    for warehouse in Warehouse.objects.filter(stock_balances__on_hand__gt=0).distinct().order_by("id"):
        with transaction.atomic():
            rules_evaluate(event="stock.scan", source=warehouse, context={})
        count += 1
    return count
