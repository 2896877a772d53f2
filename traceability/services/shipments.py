"""Shipments: pick from reservations, dispatch (stock leaves, trace edges written), logistics events
from the TMS or by hand, proof of delivery; the order's status follows."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.utils import bulk_create_with_history, bulk_update_with_history

from compliance.selectors import licence_number_for_party
from erp.kernel.errors import DomainError
from erp.kernel.history import acting_user, history_stamp
from erp.kernel.numbering import next_number
from masterdata.models import Tracking
from orders.lifecycle import order_transition, transition_for
from orders.models import OrderStatus, SalesOrder, SalesOrderLine
from orders.selectors import order_lock
from traceability.models import (
    SHIPMENT_FLOW,
    Allocation,
    AllocationStatus,
    EdgeKind,
    LogisticsEvent,
    LotStatus,
    MoveKind,
    ProofOfDelivery,
    SerialStatus,
    SerialUnit,
    Shipment,
    ShipmentLine,
    ShipmentSerial,
    ShipmentStatus,
    TraceEdge,
)
from traceability.services._common import require_perm, rules_evaluate
from traceability.services.ledger import MoveSpec, balances_lock, stock_moves_post

SHIPPABLE_ORDER_STATUSES = (
    OrderStatus.APPROVED,
    OrderStatus.ALLOCATED,
    OrderStatus.PARTIALLY_SHIPPED,
    OrderStatus.SHIPPED,
)
DONE_STATUSES = (ShipmentStatus.DELIVERED, ShipmentStatus.SIGNED)


def _buyer_licence(party) -> str:
    """The buyer's licence/filing number for the sales record (DOMAIN.md §3), as compliance keeps it."""
    return licence_number_for_party(party=party)


def _sales_record_check(order: SalesOrder) -> None:
    buyer = order.customer
    missing = {
        name: [_("The buyer's %(what)s is required on the sales record.") % {"what": label}]
        for name, label, value in (
            ("buyer_name", _("name"), buyer.name),
            ("buyer_address", _("address"), buyer.address),
            ("buyer_contact", _("contact"), buyer.contact_name or buyer.contact_phone),
        )
        if not value
    }
    if missing:
        raise DomainError(
            _("The sales record would be incomplete; complete the customer first."),
            code="sales_record_incomplete",
            fields=missing,
        )


@transaction.atomic
def shipment_create(*, order: SalesOrder, user, serials: dict[int, list[str]] | None = None) -> Shipment:
    """Pick every active reservation of the order not yet on a shipment into a new shipment (PICKED).

    For serialised products the units are the scanned ``serials`` (by order line number) or, if none
    are given, the lot's units in stock in first-received order. The sales record of DOMAIN.md §3 is
    frozen on each line: no line without lot and expiry, and the buyer's name, address and contact.
    """
    require_perm(user, "traceability.add_shipment", _("You may not ship goods."))
    order = order_lock(order.pk)
    if order.status not in SHIPPABLE_ORDER_STATUSES:
        raise DomainError(
            _("A %(status)s order cannot be shipped.") % {"status": order.get_status_display()},
            code="invalid_transition",
        )
    if order.is_held:
        raise DomainError(_("The order is held: %(summary)s") % {"summary": order.hold_reason}, code="order_held")
    _sales_record_check(order)
    allocations = list(
        Allocation.objects.select_for_update(of=("self",))
        .filter(order_line__order=order, status=AllocationStatus.ACTIVE, shipment_lines__isnull=True)
        .select_related("order_line__product__registrant", "lot")
        .order_by("order_line__line_no", "lot__expiry_date", "id")
    )
    if not allocations:
        raise DomainError(_("Nothing is reserved for this order; allocate it first."), code="nothing_to_ship")
    today = timezone.localdate()
    for a in allocations:
        if a.lot.status != LotStatus.RELEASED or a.lot.is_expired(today):
            raise DomainError(
                _("Lot %(lot)s can no longer ship (%(status)s, expiry %(expiry)s).")
                % {"lot": a.lot.lot_number, "status": a.lot.get_status_display(), "expiry": a.lot.expiry_date},
                code="lot_not_shippable",
            )
        if a.lot.expiry_date is None:
            raise DomainError(_("Lot %(lot)s has no expiry date.") % {"lot": a.lot.lot_number}, code="no_expiry")
    buyer = order.customer
    consignee = order.delivery_party
    shipment = Shipment(
        number=next_number("SH"),
        order=order,
        warehouse=order.warehouse,
        customer=consignee,
        ship_to_address=order.ship_to_address or consignee.address,
        status=ShipmentStatus.PICKED,
        is_cold_chain=any(a.order_line.product.is_cold_chain for a in allocations),
        created_by=acting_user(user),
    )
    history_stamp(shipment, user=user, reason="picked")
    shipment.save()
    licence = _buyer_licence(buyer)
    lines = []
    for a in allocations:
        line, product = a.order_line, a.order_line.product
        registrant = product.registrant
        lines.append(
            ShipmentLine(
                shipment=shipment,
                order_line=line,
                allocation=a,
                product=product,
                lot=a.lot,
                quantity=a.quantity,
                product_name=product.name_zh,
                model_spec=product.model_spec,
                registration_number=product.registration_number or _latest_registration(a.lot),
                unit_price=line.unit_price,
                amount=(line.net_amount * a.quantity / line.quantity).quantize(line.net_amount),
                lot_number=a.lot.lot_number,
                expiry_date=a.lot.expiry_date,
                registrant_name=registrant.name if registrant else "",
                manufacturer_name=registrant.name if registrant else "",
                buyer_name=buyer.name,
                buyer_address=buyer.address,
                buyer_contact=" ".join(x for x in (buyer.contact_name, buyer.contact_phone) if x),
                buyer_licence=licence,
            )
        )
    bulk_create_with_history(lines, ShipmentLine, default_user=acting_user(user), default_change_reason="picked")
    _serials_pick(shipment, lines, serials or {}, user)
    return shipment


def _latest_registration(lot) -> str:
    """The number recorded at receipt, for products whose master has none (class I received before
    the product master carried numbers)."""
    from traceability.models import ReceiptLine

    return (
        ReceiptLine.objects.filter(lot=lot)
        .exclude(registration_number="")
        .values_list("registration_number", flat=True)
        .first()
        or ""
    )


def _serials_pick(shipment: Shipment, lines: list[ShipmentLine], serials: dict, user) -> None:
    picked = []
    for line in lines:
        if line.product.tracking not in (Tracking.SERIAL, Tracking.BOTH):
            continue
        wanted = [str(s) for s in serials.get(line.order_line.line_no, [])]
        units = SerialUnit.objects.select_for_update().filter(
            lot=line.lot, warehouse=shipment.warehouse, status=SerialStatus.IN_STOCK
        )
        if wanted:
            units = units.filter(serial__in=wanted)
        units = list(units.order_by("id")[: line.quantity])
        if len(units) != line.quantity:
            raise DomainError(
                _("Line %(line)d needs %(n)d serials of lot %(lot)s in stock; found %(found)d.")
                % {"line": line.order_line.line_no, "n": line.quantity, "lot": line.lot_number, "found": len(units)},
                code="serials_missing",
            )
        for unit in units:
            unit.status = SerialStatus.ALLOCATED
            picked.append((line, unit))
    if picked:
        bulk_update_with_history(
            [u for _l, u in picked],
            SerialUnit,
            ["status"],
            default_user=acting_user(user),
            default_change_reason=shipment.number,
        )
        bulk_create_with_history(
            [ShipmentSerial(shipment_line=line, serial_unit=unit) for line, unit in picked],
            ShipmentSerial,
            default_user=acting_user(user),
        )


def _shipment_lock(shipment: Shipment) -> Shipment:
    return Shipment.objects.select_for_update(of=("self",)).select_related("order", "customer").get(pk=shipment.pk)


@transaction.atomic
def shipment_dispatch(
    *,
    shipment: Shipment,
    user,
    carrier: str,
    tracking_number: str,
    expected_arrival_at: datetime | None = None,
    dispatched_at: datetime | None = None,
) -> Shipment:
    """Hand a picked shipment to the carrier: the stock leaves (ledger and balances), reservations are
    consumed, serials are shipped, trace edges are written and the order becomes SHIPPED when every
    line has gone. Runs the ``shipment.updated`` rules."""
    require_perm(user, "traceability.change_shipment", _("You may not ship goods."))
    shipment = _shipment_lock(shipment)
    if shipment.status != ShipmentStatus.PICKED:
        raise DomainError(_("Only a picked shipment can be dispatched."), code="invalid_transition")
    errors = {}
    if not (carrier or "").strip():
        errors["carrier"] = [_("Enter the carrier.")]
    if not (tracking_number or "").strip():
        errors["tracking_number"] = [_("Enter the tracking number.")]
    if errors:
        raise DomainError(_("Please correct the errors below."), code="validation_error", fields=errors)
    lines = list(shipment.lines.select_related("lot", "allocation", "order_line", "product").order_by("id"))
    today = timezone.localdate()
    for line in lines:
        if line.lot.status != LotStatus.RELEASED or line.lot.is_expired(today):
            raise DomainError(
                _("Lot %(lot)s can no longer ship (%(status)s).")
                % {"lot": line.lot_number, "status": line.lot.get_status_display()},
                code="lot_not_shippable",
            )
    serials_by_line = defaultdict(list)
    for ss in ShipmentSerial.objects.filter(shipment_line__shipment=shipment).select_related("serial_unit"):
        serials_by_line[ss.shipment_line_id].append(ss.serial_unit)
    now = dispatched_at or timezone.now()
    locked = balances_lock(keys=[(shipment.warehouse_id, line.product_id, line.lot_id) for line in lines])
    moves, edges = [], []
    for line in lines:
        units = serials_by_line.get(line.pk)
        base = {"product_id": line.product_id, "lot_id": line.lot_id, "warehouse_id": shipment.warehouse_id}
        edge_base = {
            "kind": EdgeKind.SHIPMENT,
            "party_id": shipment.customer_id,
            "shipment_line_id": line.pk,
            "shipment_id": shipment.pk,
            "order_id": shipment.order_id,
            "document_ref": shipment.number,
            "occurred_at": now,
            **base,
        }
        if units:
            for unit in units:
                moves.append(
                    MoveSpec(kind=MoveKind.SHIPMENT, on_hand_delta=-1, reserved_delta=-1, serial_id=unit.pk, **base)
                )
                edges.append(TraceEdge(quantity=1, serial_id=unit.pk, **edge_base))
        else:
            moves.append(
                MoveSpec(kind=MoveKind.SHIPMENT, on_hand_delta=-line.quantity, reserved_delta=-line.quantity, **base)
            )
            edges.append(TraceEdge(quantity=line.quantity, **edge_base))
    stock_moves_post(
        moves=moves,
        document_type="shipment",
        document_id=shipment.pk,
        document_ref=shipment.number,
        user=user,
        locked=locked,
    )
    TraceEdge.objects.bulk_create(edges, batch_size=5000)
    units = [u for us in serials_by_line.values() for u in us]
    for unit in units:
        unit.status, unit.warehouse = SerialStatus.SHIPPED, None
    if units:
        bulk_update_with_history(
            units,
            SerialUnit,
            ["status", "warehouse"],
            default_user=acting_user(user),
            default_change_reason=shipment.number,
        )
    allocations = [line.allocation for line in lines if line.allocation]
    for a in allocations:
        a.status = AllocationStatus.SHIPPED
    bulk_update_with_history(
        allocations, Allocation, ["status"], default_user=acting_user(user), default_change_reason=shipment.number
    )
    order_lines = {}
    for line in lines:
        ol = order_lines.setdefault(line.order_line_id, line.order_line)
        ol.shipped_quantity += line.quantity
        line.sale_date = timezone.localdate(now)
    bulk_update_with_history(
        lines, ShipmentLine, ["sale_date"], default_user=acting_user(user), default_change_reason="shipped"
    )
    bulk_update_with_history(
        list(order_lines.values()),
        SalesOrderLine,
        ["shipped_quantity"],
        default_user=acting_user(user),
        default_change_reason=shipment.number,
    )
    shipment.status = ShipmentStatus.SHIPPED
    shipment.carrier, shipment.tracking_number = carrier.strip(), tracking_number.strip()
    shipment.dispatched_at, shipment.expected_arrival_at = now, expected_arrival_at
    history_stamp(shipment, user=user, reason="dispatched")
    shipment.save()
    LogisticsEvent.objects.create(
        shipment=shipment,
        status=ShipmentStatus.SHIPPED,
        occurred_at=now,
        place=shipment.warehouse.address,
        note=carrier,
        recorded_by=acting_user(user),
    )
    _order_follow(shipment.order_id, user)
    rules_evaluate(event="shipment.updated", source=shipment, context={"change": "dispatched"})
    return shipment


def _order_follow(order_id: int, user) -> None:
    """Move the order along its lifecycle (``orders.lifecycle``): PARTIALLY_SHIPPED when some but not all
    of it has left, SHIPPED when every line has fully shipped, DELIVERED when every shipment has arrived
    as well."""
    order = SalesOrder.objects.get(pk=order_id)
    lines = list(SalesOrderLine.objects.filter(order_id=order_id).values_list("quantity", "shipped_quantity"))
    fully_shipped = all(shipped >= qty for qty, shipped in lines)
    if fully_shipped:
        shipments = list(Shipment.objects.filter(order_id=order_id).values_list("status", flat=True))
        delivered = bool(shipments) and all(s in DONE_STATUSES for s in shipments)
        target = OrderStatus.DELIVERED if delivered else OrderStatus.SHIPPED
    elif any(shipped for _qty, shipped in lines):
        target = OrderStatus.PARTIALLY_SHIPPED
    else:
        return
    if order.status != target and transition_for(order.status, target) is not None:
        order_transition(order=order, to=target, user=user, reason=f"shipments {target}", system=True)


@transaction.atomic
def shipment_event_record(
    *,
    shipment: Shipment,
    user,
    status: str,
    occurred_at: datetime,
    place: str = "",
    note: str = "",
    source: str = "manual",
    external_id: str = "",
) -> LogisticsEvent:
    """Record a logistics event from the TMS (idempotent on ``external_id``) or by hand; the shipment
    moves forward only (a late event for an earlier status is logged without going back); EXCEPTION
    can be reported at any time after dispatch. Runs the ``shipment.updated`` rules."""
    require_perm(user, "traceability.change_shipment", _("You may not update shipments."))
    shipment = _shipment_lock(shipment)
    if external_id:
        existing = LogisticsEvent.objects.filter(shipment=shipment, external_id=external_id).first()
        if existing is not None:
            return existing
    if status not in ShipmentStatus.values or status in (ShipmentStatus.PICKED, ShipmentStatus.SIGNED):
        raise DomainError(
            _("A logistics event may report shipped, in transit, delivered or exception."),
            code="validation_error",
            fields={"status": [_("Not a reportable status.")]},
        )
    if shipment.status == ShipmentStatus.PICKED:
        raise DomainError(_("The shipment has not been dispatched yet."), code="invalid_transition")
    event = LogisticsEvent.objects.create(
        shipment=shipment,
        status=status,
        occurred_at=occurred_at,
        place=place[:200],
        note=note[:300],
        source=source[:20],
        external_id=external_id[:80],
        recorded_by=acting_user(user),
    )
    if _moves_forward(shipment.status, status):
        shipment.status = status
        if status == ShipmentStatus.DELIVERED:
            shipment.delivered_at = occurred_at
        history_stamp(shipment, user=user, reason=f"{source}: {status}")
        shipment.save()
        _order_follow(shipment.order_id, user)
    rules_evaluate(event="shipment.updated", source=shipment, context={"change": status})
    return event


def _moves_forward(current: str, new: str) -> bool:
    if current == ShipmentStatus.SIGNED:
        return False
    if new == ShipmentStatus.EXCEPTION:
        return current != ShipmentStatus.EXCEPTION
    if current == ShipmentStatus.EXCEPTION:
        return True
    return SHIPMENT_FLOW.index(new) > SHIPMENT_FLOW.index(current)


@transaction.atomic
def shipment_sign(
    *,
    shipment: Shipment,
    user,
    signed_by: str,
    signed_at: datetime | None = None,
    discrepancies: list | None = None,
    note: str = "",
) -> ProofOfDelivery:
    """Record the consignee's proof of delivery (who signed, when, discrepancies); the shipment becomes
    SIGNED and the order DELIVERED when all its shipments have arrived. A discrepancy raises the
    delivery-discrepancy rule through ``shipment.updated``."""
    require_perm(user, "traceability.change_shipment", _("You may not update shipments."))
    shipment = _shipment_lock(shipment)
    if shipment.status in (ShipmentStatus.PICKED, ShipmentStatus.SIGNED):
        raise DomainError(_("Only a dispatched, unsigned shipment can be signed for."), code="invalid_transition")
    if not (signed_by or "").strip():
        raise DomainError(
            _("Please correct the errors below."),
            code="validation_error",
            fields={"signed_by": [_("Enter who signed.")]},
        )
    signed_at = signed_at or timezone.now()
    line_ids = set(shipment.lines.values_list("id", flat=True))
    cleaned = []
    for item in discrepancies or []:
        if not isinstance(item, dict) or item.get("shipment_line") not in line_ids:
            raise DomainError(
                _("Each discrepancy must name a line of this shipment."),
                code="validation_error",
                fields={"discrepancies": [_("Unknown shipment line.")]},
            )
        cleaned.append(
            {
                "shipment_line": item["shipment_line"],
                "quantity_received": item.get("quantity_received"),
                "note": str(item.get("note", ""))[:300],
            }
        )
    pod = ProofOfDelivery(
        shipment=shipment,
        signed_by=signed_by.strip()[:100],
        signed_at=signed_at,
        discrepancies=cleaned,
        note=note,
        recorded_by=acting_user(user),
    )
    history_stamp(pod, user=user, reason="signed")
    pod.save()
    shipment.status = ShipmentStatus.SIGNED
    shipment.delivered_at = shipment.delivered_at or signed_at
    history_stamp(shipment, user=user, reason="signed")
    shipment.save()
    LogisticsEvent.objects.create(
        shipment=shipment,
        status=ShipmentStatus.SIGNED,
        occurred_at=signed_at,
        note=signed_by[:300],
        recorded_by=acting_user(user),
    )
    _order_follow(shipment.order_id, user)
    rules_evaluate(event="shipment.updated", source=shipment, context={"change": "signed"})
    return pod
