"""Customer returns: units of a dispatched shipment come back from its consignee into a warehouse.

Returned stock goes to the returns zone (DOMAIN.md §4, yellow): it is on hand but awaiting release
(``StockBalance.quarantined``, serial units RETURNED), so it is never allocated or shipped until
quality releases it (``lot_release``) or it is scrapped. A RETURN trace edge per line (per unit for
serials) makes the forward trace of the lot show what came back from whom.
"""

from __future__ import annotations

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.utils import bulk_create_with_history, bulk_update_with_history

from erp.kernel.errors import DomainError
from erp.kernel.history import acting_user, history_stamp
from erp.kernel.numbering import next_number
from masterdata.models import Warehouse
from traceability.models import (
    CustomerReturn,
    CustomerReturnLine,
    EdgeKind,
    MoveKind,
    SerialStatus,
    SerialUnit,
    Shipment,
    ShipmentSerial,
    ShipmentStatus,
    TraceEdge,
)
from traceability.selectors import shipment_returned_quantities
from traceability.services._common import invalid, require_perm
from traceability.services.ledger import MoveSpec, balances_lock, stock_moves_post

RETURNABLE_SHIPMENT_STATUSES = (
    ShipmentStatus.SHIPPED,
    ShipmentStatus.IN_TRANSIT,
    ShipmentStatus.DELIVERED,
    ShipmentStatus.SIGNED,
    ShipmentStatus.EXCEPTION,
)


def _quantity(value) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise invalid("lines", _("Enter a positive whole number."))
    return value


def _serial_names(values) -> list[str]:
    return list(dict.fromkeys(str(s).strip() for s in values or [] if str(s).strip()))


def _lines_check(*, shipment: Shipment, warehouse: Warehouse, lines: list[dict]) -> list[tuple]:
    """(shipment line, quantity, serial names) per requested line, each within what that line shipped
    minus what already came back. Caller holds the shipment lock (so two returns cannot both count
    the same units as still out)."""
    if not lines:
        raise invalid("lines", _("Name at least one shipment line that came back."))
    shipment_lines = {line.pk: line for line in shipment.lines.select_related("product", "lot")}
    returned = shipment_returned_quantities(shipment=shipment)
    wanted, seen = [], set()
    for item in lines:
        line_id = item.get("shipment_line")
        line = shipment_lines.get(getattr(line_id, "pk", line_id))
        if line is None:
            raise invalid("lines", _("Each line must be a line of shipment %(number)s.") % {"number": shipment.number})
        if line.pk in seen:
            raise invalid("lines", _("Lot %(lot)s is named twice; give one quantity.") % {"lot": line.lot_number})
        seen.add(line.pk)
        quantity = _quantity(item.get("quantity"))
        left = line.quantity - returned.get(line.pk, 0)
        if quantity > left:
            message = _(
                "Lot %(lot)s: %(shipped)d shipped on %(shipment)s, %(returned)d already returned; "
                "at most %(left)d can come back."
            ) % {
                "lot": line.lot_number,
                "shipped": line.quantity,
                "shipment": shipment.number,
                "returned": returned.get(line.pk, 0),
                "left": left,
            }
            raise DomainError(message, code="return_exceeds_shipped", fields={"lines": [message]})
        product = line.product
        if product.is_cold_chain and not warehouse.is_cold_storage:
            raise invalid(
                "warehouse",
                _("%(sku)s is a cold-chain product; %(code)s has no cold storage.")
                % {"sku": product.sku, "code": warehouse.code},
            )
        names = _serial_names(item.get("serials"))
        if not product.is_serialised and names:
            raise invalid("lines", _("%(sku)s is not serialised.") % {"sku": product.sku})
        if product.is_serialised and len(names) != quantity:
            raise invalid(
                "lines",
                _("%(sku)s is serialised: name exactly %(n)d serial numbers.") % {"sku": product.sku, "n": quantity},
            )
        wanted.append((line, quantity, names))
    return wanted


def _units_check(*, shipment: Shipment, wanted: list[tuple]) -> dict[int, list[SerialUnit]]:
    """Lock the named units (of every line at once, in id order); each must have left on that very line
    to this customer and still be out there (not returned since, not shipped again to someone else)."""
    named = [(line, names) for line, _count, names in wanted if names]
    if not named:
        return {}
    wanted_units = Q()
    for line, names in named:
        wanted_units |= Q(product_id=line.product_id, serial__in=names)
    units = list(SerialUnit.objects.select_for_update().filter(wanted_units).order_by("id"))
    last_line = {}
    for unit_id, line_id in (
        ShipmentSerial.objects.filter(serial_unit__in=units)
        .order_by("id")
        .values_list("serial_unit_id", "shipment_line_id")
    ):
        last_line[unit_id] = line_id
    units_by_line: dict[int, list[SerialUnit]] = {}
    for line, names in named:
        good = [
            u
            for u in units
            if u.product_id == line.product_id
            and u.serial in names
            and u.status == SerialStatus.SHIPPED
            and last_line.get(u.pk) == line.pk
        ]
        missing = sorted(set(names) - {u.serial for u in good})
        if missing:
            message = _("Serial %(serials)s was not shipped to %(customer)s on %(shipment)s (or is already back).") % {
                "serials": ", ".join(missing[:20]),
                "customer": shipment.customer.name,
                "shipment": shipment.number,
            }
            raise DomainError(message, code="serial_not_shipped", fields={"lines": [message]})
        units_by_line[line.pk] = good
    return units_by_line


@transaction.atomic
def shipment_return(
    *, shipment: Shipment, user, warehouse: Warehouse, reason: str, lines: list[dict]
) -> CustomerReturn:
    """Receive units of a dispatched shipment back from its consignee into ``warehouse``.

    ``lines`` are ``{"shipment_line": id, "quantity": n, "serials": [...]}``: no line may return more
    than it shipped less what already came back, and serialised units must have been shipped to this
    customer on that line. The stock is posted as awaiting release (returns zone: not allocatable
    until quality releases it), serial units become RETURNED in ``warehouse``, and RETURN trace edges
    are written. Numbered ``RT-YYYY-NNNNNN``; bad input raises ``DomainError`` and changes nothing.
    """
    require_perm(user, "traceability.add_customerreturn", _("You may not receive customer returns."))
    reason = (reason or "").strip()
    if not reason:
        raise invalid("reason", _("Give a reason."))
    shipment = Shipment.objects.select_for_update(of=("self",)).select_related("customer", "order").get(pk=shipment.pk)
    if shipment.status not in RETURNABLE_SHIPMENT_STATUSES:
        raise DomainError(_("Only a dispatched shipment can have returns."), code="invalid_transition")
    if not warehouse.is_active:
        raise invalid("warehouse", _("Warehouse %(code)s is inactive.") % {"code": warehouse.code})
    wanted = _lines_check(shipment=shipment, warehouse=warehouse, lines=lines)
    # Balances before serial units, the order every stock service locks in.
    locked = balances_lock(keys=[(warehouse.pk, line.product_id, line.lot_id) for line, _q, _n in wanted])
    units_by_line = _units_check(shipment=shipment, wanted=wanted)

    customer_return = CustomerReturn(
        number=next_number("RT"),
        shipment=shipment,
        customer=shipment.customer,
        warehouse=warehouse,
        reason=reason[:200],
        received_by=acting_user(user),
    )
    history_stamp(customer_return, user=user, reason=reason)
    customer_return.save()
    history = {"default_user": acting_user(user), "default_change_reason": customer_return.number}
    bulk_create_with_history(
        [
            CustomerReturnLine(
                customer_return=customer_return,
                shipment_line=line,
                product=line.product,
                lot=line.lot,
                quantity=quantity,
                serials=[u.serial for u in units_by_line.get(line.pk, [])],
            )
            for line, quantity, _names in wanted
        ],
        CustomerReturnLine,
        **history,
    )
    now = timezone.now()
    moves, edges = [], []
    for line, quantity, _names in wanted:
        base = {"product_id": line.product_id, "lot_id": line.lot_id, "warehouse_id": warehouse.pk}
        edge = {
            "kind": EdgeKind.RETURN,
            "party_id": shipment.customer_id,
            "shipment_line_id": line.pk,
            "shipment_id": shipment.pk,
            "order_id": shipment.order_id,
            "document_ref": customer_return.number,
            "occurred_at": now,
            **base,
        }
        for serial_id, count in [(u.pk, 1) for u in units_by_line.get(line.pk, [])] or [(None, quantity)]:
            moves.append(
                MoveSpec(
                    kind=MoveKind.RETURN, on_hand_delta=count, quarantined_delta=count, serial_id=serial_id, **base
                )
            )
            edges.append(TraceEdge(quantity=count, serial_id=serial_id, **edge))
    stock_moves_post(
        moves=moves,
        document_type="customer_return",
        document_id=customer_return.pk,
        document_ref=customer_return.number,
        user=user,
        reason=reason,
        locked=locked,
    )
    TraceEdge.objects.bulk_create(edges, batch_size=5000)
    units = [u for us in units_by_line.values() for u in us]
    for unit in units:
        unit.status, unit.warehouse, unit.location = SerialStatus.RETURNED, warehouse, ""
    if units:
        bulk_update_with_history(units, SerialUnit, ["status", "warehouse", "location"], **history)
    return customer_return
