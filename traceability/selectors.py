"""Reads of traceability data shared by pages and the API. Traces come from ``TraceEdge`` rows (one
indexed read per hop), never from walking the stock ledger; every list goes through ``restrict``.

Row scope (registered on ``erp.kernel.access.row_scope`` by ``TraceabilityConfig.ready``): shipments,
their lines, logistics events and proof of delivery, allocations and customer returns belong to an
order, so a user who sees only some orders (a sales rep) sees only theirs; temperature readings and
excursions of a shipment follow the shipment (those of a cold store stay visible). Recall scopes list
every customer a lot reached with their contacts: only holders of ``view_all_recallscopejob`` (quality,
compliance, auditors, admins) see them. Traces show the customers the user may see, the rest as counts.
"""

from __future__ import annotations

from collections.abc import Callable

from django.db.models import Count, Max, Min, Q, QuerySet, Sum
from django.db.models.functions import Coalesce

from erp.kernel.access import object_get_for, restrict, row_scope, sees_all_rows
from exceptions_center.visibility import source_visibility
from masterdata.models import Party
from orders.models import SalesOrder
from orders.selectors import order_ids_visible_to
from traceability.models import (
    EdgeKind,
    Lot,
    RecallScopeJob,
    Receipt,
    ReceiptLine,
    SerialUnit,
    Shipment,
    StockBalance,
    TraceEdge,
)

# --- Row scope -----------------------------------------------------------------------------------

RECALL_PERMISSION = "traceability.view_all_recallscopejob"


def _visible_order_ids(user):
    return order_ids_visible_to(user=user)


def _scope_by_order(path: str):
    """A ``row_scope`` keeping the rows whose order (reached through ``path``) the user may see."""

    def scope(queryset: QuerySet, user, action: str) -> QuerySet | None:
        order_ids = _visible_order_ids(user)
        return None if order_ids is None else queryset.filter(**{f"{path}__in": order_ids})

    scope.__qualname__ = f"scope_by_order[{path}]"
    return scope


def _scope_by_shipment_if_any(queryset: QuerySet, user, action: str) -> QuerySet | None:
    """Readings and excursions: a shipment's follow the shipment's order; a cold store's stay visible."""
    order_ids = _visible_order_ids(user)
    if order_ids is None:
        return None
    return queryset.filter(Q(shipment__isnull=True) | Q(shipment__order__in=order_ids))


def _scope_recall(queryset: QuerySet, user, action: str) -> QuerySet | None:
    return None if user.has_perm(RECALL_PERMISSION) else queryset.none()


def shipment_ids_visible_to(*, user) -> QuerySet | None:
    """Ids of the shipments ``user`` may see (subquery), or None for every shipment (``source_visibility``
    of the exception center: an event on a shipment is seen with the shipment)."""
    order_ids = _visible_order_ids(user)
    return None if order_ids is None else Shipment.objects.filter(order__in=order_ids).values("pk")


ROW_SCOPES = {
    "traceability.shipment": _scope_by_order("order"),
    "traceability.shipmentline": _scope_by_order("shipment__order"),
    "traceability.shipmentserial": _scope_by_order("shipment_line__shipment__order"),
    "traceability.logisticsevent": _scope_by_order("shipment__order"),
    "traceability.proofofdelivery": _scope_by_order("shipment__order"),
    "traceability.allocation": _scope_by_order("order_line__order"),
    "traceability.customerreturn": _scope_by_order("shipment__order"),
    "traceability.customerreturnline": _scope_by_order("customer_return__shipment__order"),
    "traceability.temperaturereading": _scope_by_shipment_if_any,
    "traceability.excursion": _scope_by_shipment_if_any,
    "traceability.recallscopejob": _scope_recall,
}


def register() -> None:
    """Plug the row scopes above into ``restrict`` and shipments into the exception center's
    ``source_visibility`` (called from ``TraceabilityConfig.ready``)."""
    for label, scope in ROW_SCOPES.items():
        row_scope.register(scope, app="traceability", key=label)
    source_visibility.register(shipment_ids_visible_to, app="traceability", key="traceability.shipment")


def _party_ids_hidden_from(user, party_ids) -> set[int]:
    """Of ``party_ids``, those ``user`` may not see (one query; none for users who see every party)."""
    if user is None or sees_all_rows(Party, user):
        return set()
    party_ids = set(party_ids)
    if not party_ids:
        return set()
    return party_ids - set(restrict(Party.objects.filter(id__in=party_ids), user).values_list("id", flat=True))


# --- Lots, serials, receipts, shipments ----------------------------------------------------------


def lot_list_visible_to(*, user) -> QuerySet[Lot]:
    return restrict(Lot.objects.select_related("product", "supplier"), user, "view")


def lot_get(*, user, pk: int) -> Lot:
    return object_get_for(lot_list_visible_to(user=user), user, "view", pk=pk)


def serial_list_visible_to(*, user) -> QuerySet[SerialUnit]:
    return restrict(SerialUnit.objects.select_related("product", "lot", "warehouse"), user, "view")


def receipt_list_visible_to(*, user) -> QuerySet[Receipt]:
    return restrict(
        Receipt.objects.select_related("supplier", "warehouse").annotate(line_count=Count("lines")), user, "view"
    )


def receipt_get(*, user, pk: int) -> Receipt:
    return object_get_for(Receipt.objects.select_related("supplier", "warehouse"), user, "view", pk=pk)


def shipment_list_visible_to(*, user) -> QuerySet[Shipment]:
    return restrict(Shipment.objects.select_related("order", "customer", "warehouse"), user, "view")


def shipment_get(*, user, pk: int) -> Shipment:
    return object_get_for(shipment_list_visible_to(user=user), user, "view", pk=pk)


def lot_pending_quantity(*, lot: Lot) -> int:
    """Units of the lot on hand that await release (receipts after its release, customer returns)."""
    return StockBalance.objects.filter(lot=lot).aggregate(n=Sum("quarantined"))["n"] or 0


def shipment_returned_quantities(*, shipment: Shipment) -> dict[int, int]:
    """What already came back per line of a shipment (customer returns), by shipment line id."""
    from traceability.models import CustomerReturnLine

    return dict(
        CustomerReturnLine.objects.filter(shipment_line__shipment=shipment)
        .values("shipment_line_id")
        .annotate(n=Sum("quantity"))
        .values_list("shipment_line_id", "n")
    )


def customer_return_list_visible_to(*, user) -> QuerySet:
    from traceability.models import CustomerReturn

    return restrict(CustomerReturn.objects.select_related("shipment", "customer", "warehouse"), user, "view")


def lot_stock(*, lot: Lot) -> list[dict]:
    """What is still in stock of a lot, per warehouse (on hand, reserved, awaiting release, available)."""
    return list(
        StockBalance.objects.filter(lot=lot, on_hand__gt=0)
        .values("warehouse_id", "warehouse__code", "warehouse__name", "on_hand", "reserved", "quarantined", "available")
        .order_by("warehouse__code")
    )


def _edges_for(*, lot: Lot | None = None, serial: SerialUnit | None = None) -> QuerySet[TraceEdge]:
    if serial is not None:
        return TraceEdge.objects.filter(serial=serial)
    return TraceEdge.objects.filter(lot=lot)


def trace_forward(*, lot: Lot | None = None, serial: SerialUnit | None = None, limit: int = 100, user=None) -> dict:
    """Where a lot or serial went: customers with quantities shipped and returned and dates, the latest
    shipments (``limit``), the latest customer returns and, for a lot, what is still in stock per
    warehouse (awaiting release included).

    With ``user``, customers (and their shipments and returns) the user may not see are left out of the
    rows and summed up in ``other_customers`` (count, quantity shipped and returned): a sales rep sees
    their own customers by name and the rest as numbers. The totals always cover every customer.

    Five small indexed reads whatever the volume: edges grouped by customer (a covering index scan, no
    join), the customers' rows, the latest edges by time, their order numbers, the lot's balances; a
    sixth reads the latest returns when there are any.
    """
    edges = _edges_for(lot=lot, serial=serial).filter(kind=EdgeKind.SHIPMENT)
    shipped, returned = Q(kind=EdgeKind.SHIPMENT), Q(kind=EdgeKind.RETURN)
    per_party = list(
        _edges_for(lot=lot, serial=serial)
        .filter(kind__in=[EdgeKind.SHIPMENT, EdgeKind.RETURN])
        .values("party_id")
        .annotate(
            # Named apart from the ``quantity`` column, which a same-named annotation would shadow.
            shipped_quantity=Coalesce(Sum("quantity", filter=shipped), 0),
            returned=Coalesce(Sum("quantity", filter=returned), 0),
            shipments=Count("shipment_id", filter=shipped, distinct=True),
            first_at=Min("occurred_at", filter=shipped),
            last_at=Max("occurred_at", filter=shipped),
        )
    )
    parties = {
        p["id"]: p
        for p in Party.objects.filter(id__in=[row["party_id"] for row in per_party]).values(
            "id", "code", "name", "contact_name", "contact_phone", "address"
        )
    }
    customers = []
    for row in per_party:
        party = parties.get(row["party_id"], {})
        row["quantity"] = row.pop("shipped_quantity")
        customers.append(
            {
                **row,
                "party__code": party.get("code", ""),
                "party__name": party.get("name", ""),
                "party__contact_name": party.get("contact_name", ""),
                "party__contact_phone": party.get("contact_phone", ""),
                "party__address": party.get("address", ""),
            }
        )
    customers.sort(key=lambda c: (-c["quantity"], c["party__code"]))
    hidden = _party_ids_hidden_from(user, parties)
    totals = {
        "shipment_count": sum(c["shipments"] for c in customers),
        "shipped_quantity": sum(c["quantity"] for c in customers),
        "returned_quantity": sum(c["returned"] for c in customers),
    }
    others = [c for c in customers if c["party_id"] in hidden]
    customers = [c for c in customers if c["party_id"] not in hidden]
    # The latest shipments: walk the newest edges (index on lot, kind, time) until ``limit`` shipments.
    shipments: dict[int, dict] = {}
    for row in edges.order_by("-occurred_at", "-id").values(
        "shipment_id", "document_ref", "order_id", "party_id", "quantity", "occurred_at"
    )[: limit * 5]:
        if row["party_id"] in hidden:
            continue
        entry = shipments.get(row["shipment_id"])
        if entry is None:
            if len(shipments) >= limit:
                continue
            entry = shipments[row["shipment_id"]] = {
                "shipment_id": row["shipment_id"],
                "document_ref": row["document_ref"],
                "order_id": row["order_id"],
                "party_id": row["party_id"],
                "party__name": parties.get(row["party_id"], {}).get("name", ""),
                "quantity": 0,
                "shipped_at": row["occurred_at"],
            }
        entry["quantity"] += row["quantity"]
        entry["shipped_at"] = min(entry["shipped_at"], row["occurred_at"])

    numbers = dict(
        SalesOrder.objects.filter(id__in={s["order_id"] for s in shipments.values()}).values_list("id", "number")
    )
    for entry in shipments.values():
        entry["order__number"] = numbers.get(entry["order_id"], "")
    visible_returned = sum(c["returned"] for c in customers)
    return {
        "customers": customers,
        "shipments": list(shipments.values()),
        **totals,
        "other_customers": {
            "count": len(others),
            "quantity": sum(c["quantity"] for c in others),
            "returned": sum(c["returned"] for c in others),
        },
        # Returns are rare: read only when the per-customer totals show some.
        "returns": _returns_latest(lot=lot, serial=serial, parties=parties, limit=limit, hidden=hidden)
        if visible_returned
        else [],
        "stock": lot_stock(lot=lot) if lot is not None else [],
    }


def _returns_latest(*, lot, serial, parties: dict, limit: int, hidden: set[int] = frozenset()) -> list[dict]:
    """The latest customer returns of a lot or serial (one row per return document), newest first;
    none from the ``hidden`` parties."""
    rows = (
        _edges_for(lot=lot, serial=serial)
        .filter(kind=EdgeKind.RETURN)
        .exclude(party_id__in=hidden)
        .values("document_ref", "party_id", "shipment_id", "shipment__number", "warehouse__code")
        .annotate(quantity=Sum("quantity"), returned_at=Min("occurred_at"))
        .order_by("-returned_at", "-document_ref")[:limit]
    )
    return [{**row, "party__name": parties.get(row["party_id"], {}).get("name", "")} for row in rows]


def trace_backward(*, lot: Lot | None = None, serial: SerialUnit | None = None) -> dict:
    """Where a lot or serial came from: receipts, suppliers and the incoming-inspection record."""
    if serial is not None:
        line = (
            ReceiptLine.objects.select_related("receipt__supplier", "receipt__warehouse")
            .filter(pk=serial.receipt_line_id)
            .first()
        )
        lines = [line] if line else []
        quantity_by_receipt = {line.receipt_id: 1} if line else {}
    else:
        edges = list(
            TraceEdge.objects.filter(lot=lot, kind=EdgeKind.RECEIPT)
            .values("receipt_id")
            .annotate(quantity=Sum("quantity"))
        )
        quantity_by_receipt = {e["receipt_id"]: e["quantity"] for e in edges}
        # The inspection record of the first line of each receipt stands for the lot in that receipt.
        first_ids = (
            ReceiptLine.objects.filter(lot=lot, receipt_id__in=quantity_by_receipt)
            .values("receipt_id")
            .annotate(first=Min("id"))
            .values_list("first", flat=True)
        )
        lines = list(
            ReceiptLine.objects.select_related("receipt__supplier", "receipt__warehouse").filter(id__in=first_ids)
        )
    receipts = []
    for line in lines:
        receipts.append(
            {
                "receipt_id": line.receipt_id,
                "receipt": line.receipt.number,
                "received_at": line.created_at,
                "warehouse": line.receipt.warehouse.code,
                "supplier_id": line.receipt.supplier_id,
                "supplier": line.supplier_name,
                "supplier_address": line.supplier_address,
                "supplier_contact": line.supplier_contact,
                "quantity": 1 if serial is not None else quantity_by_receipt.get(line.receipt_id, line.quantity),
                "inspection": {
                    "name": line.product_name,
                    "model_spec": line.model_spec,
                    "registration_number": line.registration_number,
                    "registrant": line.registrant_name,
                    "registrant_licence": line.registrant_licence,
                    "manufacturer": line.manufacturer_name,
                    "manufacturer_licence": line.manufacturer_licence,
                    "lot_number": line.lot_number,
                    "serial": serial.serial if serial is not None else line.serial,
                    "production_date": line.production_date,
                    "expiry_date": line.expiry_date,
                    "purchase_date": line.purchase_date,
                    "issuer": line.issuer,
                    "raw_scan": serial.udi_raw if serial is not None and serial.udi_raw else line.raw_scan,
                    "raw_ai": line.raw_ai,
                },
            }
        )
    receipts.sort(key=lambda r: r["received_at"])
    return {"receipts": receipts}


def trace_edges_for_export(*, lot: Lot | None = None, serial: SerialUnit | None = None, user=None):
    """Every hop of a lot or serial for CSV export, oldest first (streamed with ``iterator``). With
    ``user``, hops to or from customers the user may not see are left out (as on the trace page)."""
    edges = _edges_for(lot=lot, serial=serial)
    if user is not None and not sees_all_rows(Party, user):
        visible_parties = restrict(Party.objects.all(), user).values("pk")
        edges = edges.filter(~Q(kind__in=[EdgeKind.SHIPMENT, EdgeKind.RETURN]) | Q(party__in=visible_parties))
    return edges.order_by("occurred_at", "id").values_list(
        "occurred_at",
        "kind",
        "document_ref",
        "order__number",
        "party__code",
        "party__name",
        "warehouse__code",
        "lot__lot_number",
        "serial__serial",
        "quantity",
    )


# --- Recall scope ------------------------------------------------------------------------------


def recall_scope_lot_ids(*, criteria: dict) -> list[int]:
    """The lots a recall concerns: given lot ids, the lots of given serials, or a product's lots
    produced within a date range."""
    lot_ids = set(criteria.get("lot_ids") or [])
    if criteria.get("serial_ids"):
        lot_ids |= set(SerialUnit.objects.filter(pk__in=criteria["serial_ids"]).values_list("lot_id", flat=True))
    if criteria.get("product_id"):
        lots = Lot.objects.filter(product_id=criteria["product_id"])
        if criteria.get("produced_from"):
            lots = lots.filter(production_date__gte=criteria["produced_from"])
        if criteria.get("produced_to"):
            lots = lots.filter(production_date__lte=criteria["produced_to"])
        lot_ids |= set(lots.values_list("id", flat=True))
    return sorted(lot_ids)


def recall_scope(*, criteria: dict, progress: Callable[[int], None] | None = None, chunk: int = 200) -> dict:
    """Who got the affected lots or serials (customers with quantities shipped and already returned,
    contacts and shipments) and what is still on hand per warehouse. ``progress(percent)`` is called
    per chunk of lots."""
    serial_ids = criteria.get("serial_ids") or []
    only_serials = bool(serial_ids) and not criteria.get("lot_ids") and not criteria.get("product_id")
    lot_ids = recall_scope_lot_ids(criteria=criteria)
    customers: dict[int, dict] = {}
    stock: dict[tuple, dict] = {}
    chunks = [lot_ids[i : i + chunk] for i in range(0, len(lot_ids), chunk)] or [[]]
    for done, part in enumerate(chunks, start=1):
        edges = TraceEdge.objects.filter(kind=EdgeKind.SHIPMENT)
        edges = edges.filter(serial_id__in=serial_ids) if only_serials else edges.filter(lot_id__in=part)
        for row in edges.values(
            "party_id",
            "party__code",
            "party__name",
            "party__address",
            "party__contact_name",
            "party__contact_phone",
            "party__contact_email",
            "shipment_id",
            "document_ref",
            "lot__lot_number",
        ).annotate(quantity=Sum("quantity"), shipped_at=Min("occurred_at")):
            entry = customers.setdefault(
                row["party_id"],
                {
                    "party_id": row["party_id"],
                    "code": row["party__code"],
                    "name": row["party__name"],
                    "address": row["party__address"],
                    "contact_name": row["party__contact_name"],
                    "contact_phone": row["party__contact_phone"],
                    "contact_email": row["party__contact_email"],
                    "quantity": 0,
                    "returned": 0,
                    "shipments": [],
                },
            )
            entry["quantity"] += row["quantity"]
            entry["shipments"].append(
                {
                    "shipment": row["document_ref"],
                    "lot": row["lot__lot_number"],
                    "quantity": row["quantity"],
                    "shipped_at": row["shipped_at"].isoformat(),
                }
            )
        # What already came back (customer returns) counts as recovered for the recall's reconciliation.
        returns = TraceEdge.objects.filter(kind=EdgeKind.RETURN)
        returns = returns.filter(serial_id__in=serial_ids) if only_serials else returns.filter(lot_id__in=part)
        for party_id, quantity in returns.values("party_id").annotate(n=Sum("quantity")).values_list("party_id", "n"):
            if party_id in customers:
                customers[party_id]["returned"] += quantity
        if only_serials:
            rows = (
                SerialUnit.objects.filter(pk__in=serial_ids, warehouse__isnull=False)
                .values("warehouse__code", "lot__lot_number")
                .annotate(on_hand=Count("id"))
            )
        else:
            rows = (
                StockBalance.objects.filter(lot_id__in=part, on_hand__gt=0)
                .values("warehouse__code", "lot__lot_number")
                .annotate(on_hand=Sum("on_hand"))
            )
        for row in rows:
            key = (row["warehouse__code"], row["lot__lot_number"])
            stock.setdefault(key, {"warehouse": key[0], "lot": key[1], "on_hand": 0})["on_hand"] += row["on_hand"]
        if progress:
            progress(int(done * 100 / len(chunks)))
        if only_serials:
            break
    ordered = sorted(customers.values(), key=lambda c: (-c["quantity"], c["code"]))
    return {
        "lot_count": len(lot_ids),
        "customers": ordered,
        "customer_count": len(ordered),
        "shipped_quantity": sum(c["quantity"] for c in ordered),
        "returned_quantity": sum(c["returned"] for c in ordered),
        "stock": sorted(stock.values(), key=lambda s: (s["warehouse"], s["lot"])),
        "on_hand_quantity": sum(s["on_hand"] for s in stock.values()),
    }


def recall_scope_job_get(*, user, pk: int) -> RecallScopeJob:
    return object_get_for(RecallScopeJob.objects.all(), user, "view", pk=pk)
