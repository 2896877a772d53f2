"""FEFO allocation of order lines to released lots, under row locks, with shortages kept visible."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.utils import bulk_create_with_history, bulk_update_with_history

from erp.kernel.errors import DomainError
from erp.kernel.history import acting_user
from orders.lifecycle import Transition, order_transition
from orders.models import OrderStatus, SalesOrder, SalesOrderLine
from orders.selectors import order_lock
from traceability.models import (
    Allocation,
    AllocationStatus,
    LotStatus,
    MoveKind,
    StockBalance,
    required_shelf_life_days,
)
from traceability.services._common import require_perm
from traceability.services.ledger import MoveSpec, balances_lock, stock_moves_post

# A partially shipped order may get its open lines reserved (its status stays).
ALLOCATABLE_ORDER_STATUSES = (OrderStatus.APPROVED, OrderStatus.ALLOCATED, OrderStatus.PARTIALLY_SHIPPED)


@dataclass
class LineShortage:
    line_no: int
    product_id: int
    sku: str
    missing: int
    reason: str


@dataclass
class AllocationResult:
    order: SalesOrder
    allocations: list[Allocation] = field(default_factory=list)
    shortages: list[LineShortage] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        return not self.shortages


def min_shelf_life_days(*, line: SalesOrderLine, order: SalesOrder) -> int:
    """Minimum remaining shelf life for a line: the line's override (days and/or % of the product's total
    shelf life, the stricter of the two), else the strictest of the customer's and the ship-to party's
    minimum (days, or % of the product's total shelf life)."""
    return required_shelf_life_days(
        shelf_life_days=line.product.shelf_life_days,
        line_days=line.min_shelf_life_days,
        line_pct=line.min_shelf_life_pct,
        party_minimums=[
            (party.min_shelf_life_days, party.min_shelf_life_pct)
            for party in (order.customer, order.ship_to)
            if party is not None
        ],
    )


def lot_fits(*, expiry: date | None, delivery: date, min_days: int) -> bool:
    """A lot fits when it is not expired at delivery and keeps at least ``min_days`` of shelf life."""
    if expiry is None:
        return False
    return expiry > delivery and (expiry - delivery).days >= min_days


@transaction.atomic
def order_allocate(*, order: SalesOrder, user, reason: str = "") -> AllocationResult:
    """Reserve stock for an approved order's open quantities, first-expiry-first-out.

    Only released stock (RELEASED lots, less any units still awaiting release) of the order's
    warehouse, not expired at the requested delivery date and with at least the customer's minimum
    remaining shelf life; a requested lot restricts the line to that lot;
    cold-chain products only from a cold-capable warehouse. Balances are locked in id order
    (no double allocation under concurrency); what cannot be reserved stays as a shortage. When every
    line is fully reserved an approved order becomes ALLOCATED (``orders.lifecycle``).
    """
    require_perm(user, "traceability.add_allocation", _("You may not allocate stock."))
    return _order_allocate(order=order, user=user, reason=reason)


@transaction.atomic
def order_allocate_on_approval(*, order: SalesOrder, user) -> AllocationResult:
    """Reserve stock as part of approving an order (the order-lifecycle listener below, inside the
    approval's transaction): the approver's right to approve covers the reservation; shortages stay open."""
    return _order_allocate(order=order, user=user, reason="allocated on approval")


def order_lifecycle_follow(*, order: SalesOrder, transition: Transition, user, reason: str) -> SalesOrder | None:
    """Order-lifecycle listener (``orders.lifecycle_listeners``, plugged in by ``TraceabilityConfig``): an
    approved order gets its stock reserved at once; returns the order as the reservation left it."""
    if transition.trigger == "approve":
        return order_allocate_on_approval(order=order, user=user).order
    return None


def _order_allocate(*, order: SalesOrder, user, reason: str) -> AllocationResult:
    order = order_lock(order.pk)
    if order.status not in ALLOCATABLE_ORDER_STATUSES:
        raise DomainError(
            _("Only approved orders can be allocated (this one is %(status)s).")
            % {"status": order.get_status_display()},
            code="invalid_transition",
        )
    if order.is_held:
        raise DomainError(
            _("The order is held by open exception events: %(summary)s") % {"summary": order.hold_reason},
            code="order_held",
        )
    lines = list(
        SalesOrderLine.objects.select_for_update(of=("self",))
        .filter(order=order)
        .select_related("product")
        .order_by("line_no")
    )
    result = AllocationResult(order=order)
    open_lines = [line for line in lines if line.allocated_quantity < line.quantity]
    if not open_lines:
        return result
    warehouse = order.warehouse
    delivery = order.requested_delivery_date or timezone.localdate()
    delivery = max(delivery, timezone.localdate())
    product_ids = {line.product_id for line in open_lines}
    # Lock every candidate balance in id order before reading quantities: a concurrent allocator waits
    # here and then sees what this one reserved.
    candidates = list(
        StockBalance.objects.select_for_update(of=("self",))
        .filter(
            warehouse=warehouse,
            product_id__in=product_ids,
            on_hand__gt=0,
            lot__status=LotStatus.RELEASED,
            lot__expiry_date__gt=delivery,
        )
        .select_related("lot")
        .order_by("id")
    )
    candidates = [b for b in candidates if b.available > 0]
    candidates.sort(key=lambda b: (b.lot.expiry_date, b.lot_id))
    locked = {(b.warehouse_id, b.product_id, b.lot_id): b for b in candidates}
    # ``available`` leaves out what is reserved and what awaits release (new receipts, returns).
    remaining = {b.pk: b.available for b in candidates}

    moves, allocations = [], []
    for line in open_lines:
        need = line.quantity - line.allocated_quantity
        product = line.product
        if product.is_cold_chain and not warehouse.is_cold_storage:
            result.shortages.append(
                LineShortage(
                    line.line_no,
                    product.pk,
                    product.sku,
                    need,
                    str(_("cold-chain product, warehouse has no cold storage")),
                )
            )
            continue
        min_days = min_shelf_life_days(line=line, order=order)
        for balance in candidates:
            if need == 0:
                break
            if balance.product_id != product.pk or remaining[balance.pk] <= 0:
                continue
            if line.requested_lot and balance.lot.lot_number != line.requested_lot:
                continue
            if not lot_fits(expiry=balance.lot.expiry_date, delivery=delivery, min_days=min_days):
                continue
            take = min(need, remaining[balance.pk])
            remaining[balance.pk] -= take
            need -= take
            allocations.append(
                Allocation(
                    order_line=line,
                    lot=balance.lot,
                    warehouse=warehouse,
                    quantity=take,
                    created_by=acting_user(user),
                )
            )
            moves.append(
                MoveSpec(
                    kind=MoveKind.ALLOCATION,
                    product_id=product.pk,
                    lot_id=balance.lot_id,
                    warehouse_id=warehouse.pk,
                    reserved_delta=take,
                )
            )
            line.allocated_quantity += take
        if need:
            reason_text = (
                _("requested lot %(lot)s not available") % {"lot": line.requested_lot}
                if line.requested_lot
                else _("not enough released stock with %(days)d days of shelf life") % {"days": min_days}
            )
            result.shortages.append(LineShortage(line.line_no, product.pk, product.sku, need, str(reason_text)))

    if allocations:
        stock_moves_post(
            moves=moves,
            document_type="order",
            document_id=order.pk,
            document_ref=order.number,
            user=user,
            reason=reason or "allocated",
            locked=locked,
        )
        bulk_create_with_history(
            allocations, Allocation, default_user=acting_user(user), default_change_reason="allocated"
        )
        changed = [line for line in open_lines if any(a.order_line is line for a in allocations)]
        bulk_update_with_history(
            changed,
            SalesOrderLine,
            ["allocated_quantity"],
            default_user=acting_user(user),
            default_change_reason="allocated",
        )
        result.allocations = allocations
    if not result.shortages and order.status == OrderStatus.APPROVED:
        result.order = order_transition(
            order=order, to=OrderStatus.ALLOCATED, user=user, reason=reason or "allocated", system=True, locked=True
        )
    return result


@transaction.atomic
def order_deallocate(*, order: SalesOrder, user, reason: str) -> int:
    """Release every active (unshipped, unpicked) reservation of an order; returns the quantity released."""
    require_perm(user, "traceability.change_allocation", _("You may not change allocations."))
    order = order_lock(order.pk)
    allocations = list(
        Allocation.objects.select_for_update(of=("self",))
        .filter(order_line__order=order, status=AllocationStatus.ACTIVE, shipment_lines__isnull=True)
        .select_related("order_line", "lot")
        .order_by("id")
    )
    if not allocations:
        return 0
    locked = balances_lock(keys=[(a.warehouse_id, a.lot.product_id, a.lot_id) for a in allocations])
    moves = [
        MoveSpec(
            kind=MoveKind.DEALLOCATION,
            product_id=a.lot.product_id,
            lot_id=a.lot_id,
            warehouse_id=a.warehouse_id,
            reserved_delta=-a.quantity,
        )
        for a in allocations
    ]
    stock_moves_post(
        moves=moves,
        document_type="order",
        document_id=order.pk,
        document_ref=order.number,
        user=user,
        reason=reason,
        locked=locked,
    )
    lines = {}
    for a in allocations:
        a.status = AllocationStatus.RELEASED
        line = lines.setdefault(a.order_line_id, a.order_line)
        line.allocated_quantity -= a.quantity
    bulk_update_with_history(
        allocations, Allocation, ["status"], default_user=acting_user(user), default_change_reason=reason[:100]
    )
    bulk_update_with_history(
        list(lines.values()),
        SalesOrderLine,
        ["allocated_quantity"],
        default_user=acting_user(user),
        default_change_reason=reason[:100],
    )
    if order.status == OrderStatus.ALLOCATED:
        order_transition(order=order, to=OrderStatus.APPROVED, user=user, reason=reason, system=True, locked=True)
    return sum(a.quantity for a in allocations)
