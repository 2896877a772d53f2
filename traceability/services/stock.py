"""Stock operations outside receiving and shipping: transfers between warehouses, inventory
adjustments and scrapping. Each writes one ``StockOperation`` document and its ledger rows through
``stock_moves_post`` (balances locked, never negative), all in one transaction.

Trace edges are not written: they record hops to and from parties (suppliers, customers), and the
trace reads stock per warehouse from the balances these operations keep.
"""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext_lazy as _

from erp.kernel.errors import DomainError
from erp.kernel.history import acting_user, history_stamp
from erp.kernel.numbering import next_number
from masterdata.models import Product, Warehouse
from traceability.models import (
    PENDING_SERIAL_STATUSES,
    Lot,
    LotStatus,
    MoveKind,
    SerialStatus,
    SerialUnit,
    StockOperation,
)
from traceability.services._common import invalid as _invalid
from traceability.services._common import require_perm
from traceability.services.ledger import MoveSpec, balances_lock, stock_moves_post

PREFIXES = {MoveKind.TRANSFER: "ST", MoveKind.ADJUSTMENT: "SA", MoveKind.SCRAP: "SX"}


def _check_common(*, product: Product, lot: Lot, reason: str) -> str:
    if lot.product_id != product.pk:
        raise _invalid("lot", _("Lot %(lot)s is not a lot of %(sku)s.") % {"lot": lot.lot_number, "sku": product.sku})
    reason = (reason or "").strip()
    if not reason:
        raise _invalid("reason", _("Give a reason."))
    return reason[:200]


def _check_quantity(quantity, *, field: str = "quantity", allow_negative: bool = False) -> int:
    if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity == 0:
        raise _invalid(field, _("Enter a whole number other than zero."))
    if quantity < 0 and not allow_negative:
        raise _invalid(field, _("Enter a positive whole number."))
    return quantity


def _serials_take(
    *, product: Product, lot: Lot, warehouse: Warehouse, serials, quantity: int, statuses=(SerialStatus.IN_STOCK,)
) -> list[SerialUnit]:
    """Lock the named units of a serialised lot in ``warehouse`` (in stock, or in ``statuses``); they
    must match ``quantity``."""
    if not product.is_serialised:
        if serials:
            raise _invalid("serials", _("%(sku)s is not serialised.") % {"sku": product.sku})
        return []
    names = list(dict.fromkeys(str(s).strip() for s in serials or [] if str(s).strip()))
    if len(names) != quantity:
        raise _invalid(
            "serials",
            _("%(sku)s is serialised: name exactly %(n)d serial numbers.") % {"sku": product.sku, "n": quantity},
        )
    units = list(
        SerialUnit.objects.select_for_update()
        .filter(product=product, lot=lot, warehouse=warehouse, status__in=statuses, serial__in=names)
        .order_by("id")
    )
    missing = sorted(set(names) - {u.serial for u in units})
    if missing:
        raise _invalid(
            "serials",
            _("Not in stock in %(warehouse)s for lot %(lot)s: %(serials)s.")
            % {"warehouse": warehouse.code, "lot": lot.lot_number, "serials": ", ".join(missing[:20])},
        )
    return units


def _operation_create(*, kind: str, user, **fields) -> StockOperation:
    operation = StockOperation(kind=kind, number=next_number(PREFIXES[kind]), created_by=acting_user(user), **fields)
    history_stamp(operation, user=user, reason=fields.get("reason", ""))
    operation.save()
    return operation


def _post(operation: StockOperation, moves: list[MoveSpec], *, user, locked=None) -> None:
    stock_moves_post(
        moves=moves,
        document_type="stock_operation",
        document_id=operation.pk,
        document_ref=operation.number,
        user=user,
        reason=operation.reason,
        locked=locked,
    )


def _serials_update(units: list[SerialUnit], *, user, reason: str, **changes) -> None:
    from simple_history.utils import bulk_update_with_history

    for unit in units:
        for name, value in changes.items():
            setattr(unit, name, value)
    if units:
        bulk_update_with_history(
            units, SerialUnit, list(changes), default_user=acting_user(user), default_change_reason=reason[:100]
        )


@transaction.atomic
def stock_transfer(
    *,
    product: Product,
    lot: Lot,
    from_warehouse: Warehouse,
    to_warehouse: Warehouse,
    quantity: int,
    user,
    reason: str,
    serials: list[str] | None = None,
) -> StockOperation:
    """Move available stock of a **released** lot to another warehouse (DOMAIN.md §4). Cold-chain
    products go only into cold-capable warehouses; reserved stock stays where it is; serialised
    products name the units that move. Writes an ``ST-…`` operation and two ledger rows per unit or lot.
    """
    require_perm(user, "traceability.add_stockmove", _("You may not transfer stock."))
    reason = _check_common(product=product, lot=lot, reason=reason)
    quantity = _check_quantity(quantity)
    if from_warehouse.pk == to_warehouse.pk:
        raise _invalid("to_warehouse", _("Choose another warehouse than the one the stock is in."))
    if not to_warehouse.is_active:
        raise _invalid("to_warehouse", _("Warehouse %(code)s is inactive.") % {"code": to_warehouse.code})
    if product.is_cold_chain and not to_warehouse.is_cold_storage:
        raise _invalid(
            "to_warehouse",
            _("%(sku)s is a cold-chain product; %(code)s has no cold storage.")
            % {"sku": product.sku, "code": to_warehouse.code},
        )
    # The lot row first (its status cannot change under us), then the two balances in key order.
    lot = Lot.objects.select_for_update().get(pk=lot.pk)
    locked = balances_lock(keys=[(w.pk, product.pk, lot.pk) for w in (from_warehouse, to_warehouse)])
    if lot.status != LotStatus.RELEASED:
        raise DomainError(
            _("Only released stock may be transferred; lot %(lot)s is %(status)s.")
            % {"lot": lot.lot_number, "status": lot.get_status_display()},
            code="lot_not_released",
        )
    units = _serials_take(product=product, lot=lot, warehouse=from_warehouse, serials=serials, quantity=quantity)
    operation = _operation_create(
        kind=MoveKind.TRANSFER,
        user=user,
        product=product,
        lot=lot,
        from_warehouse=from_warehouse,
        to_warehouse=to_warehouse,
        quantity=quantity,
        reason=reason,
        serials=[u.serial for u in units],
    )
    moves = []
    for serial_id, count in [(u.pk, 1) for u in units] or [(None, quantity)]:
        common = {"kind": MoveKind.TRANSFER, "product_id": product.pk, "lot_id": lot.pk, "serial_id": serial_id}
        moves.append(MoveSpec(warehouse_id=from_warehouse.pk, on_hand_delta=-count, **common))
        moves.append(MoveSpec(warehouse_id=to_warehouse.pk, on_hand_delta=count, **common))
    _post(operation, moves, user=user, locked=locked)
    _serials_update(units, user=user, reason=f"{operation.number} {reason}", warehouse=to_warehouse, location="")
    return operation


@transaction.atomic
def stock_adjust(
    *, product: Product, lot: Lot, warehouse: Warehouse, quantity_delta: int, user, reason: str
) -> StockOperation:
    """Correct the on-hand stock of a lot in a warehouse after a count (``quantity_delta`` up or down,
    reason required). Stock never goes negative, nor below what is reserved for orders. Serialised
    units are not adjusted: they are received by scan or scrapped by serial number."""
    require_perm(user, "traceability.adjust_stock", _("You may not adjust stock."))
    reason = _check_common(product=product, lot=lot, reason=reason)
    quantity_delta = _check_quantity(quantity_delta, field="quantity_delta", allow_negative=True)
    if product.is_serialised:
        raise _invalid(
            "product",
            _("%(sku)s is serialised: receive units by scan or scrap them by serial number.") % {"sku": product.sku},
        )
    locked = balances_lock(keys=[(warehouse.pk, product.pk, lot.pk)])
    operation = _operation_create(
        kind=MoveKind.ADJUSTMENT,
        user=user,
        product=product,
        lot=lot,
        from_warehouse=warehouse,
        quantity=quantity_delta,
        reason=reason,
    )
    move = MoveSpec(
        kind=MoveKind.ADJUSTMENT,
        product_id=product.pk,
        lot_id=lot.pk,
        warehouse_id=warehouse.pk,
        on_hand_delta=quantity_delta,
    )
    _post(operation, [move], user=user, locked=locked)
    return operation


@transaction.atomic
def stock_scrap(
    *,
    product: Product,
    lot: Lot,
    warehouse: Warehouse,
    quantity: int,
    user,
    reason: str,
    serials: list[str] | None = None,
) -> StockOperation:
    """Write off unsellable stock (damaged, expired, nonconforming) of any lot status; reason required.
    Stock awaiting release (a returned or newly received unit found nonconforming) is written off
    first, then free stock; reserved stock cannot be scrapped (release the reservation first); scrapped
    serial units leave the warehouse with status SCRAPPED."""
    require_perm(user, "traceability.adjust_stock", _("You may not scrap stock."))
    reason = _check_common(product=product, lot=lot, reason=reason)
    quantity = _check_quantity(quantity)
    locked = balances_lock(keys=[(warehouse.pk, product.pk, lot.pk)])
    units = _serials_take(
        product=product,
        lot=lot,
        warehouse=warehouse,
        serials=serials,
        quantity=quantity,
        statuses=(SerialStatus.IN_STOCK, *PENDING_SERIAL_STATUSES),
    )
    pending = locked[(warehouse.pk, product.pk, lot.pk)].quarantined
    operation = _operation_create(
        kind=MoveKind.SCRAP,
        user=user,
        product=product,
        lot=lot,
        from_warehouse=warehouse,
        quantity=quantity,
        reason=reason,
        serials=[u.serial for u in units],
    )
    common = {"kind": MoveKind.SCRAP, "product_id": product.pk, "lot_id": lot.pk, "warehouse_id": warehouse.pk}
    if units:
        moves = [
            MoveSpec(
                on_hand_delta=-1,
                quarantined_delta=-1 if unit.status in PENDING_SERIAL_STATUSES else 0,
                serial_id=unit.pk,
                **common,
            )
            for unit in units
        ]
    else:
        moves = [MoveSpec(on_hand_delta=-quantity, quarantined_delta=-min(quantity, pending), **common)]
    _post(operation, moves, user=user, locked=locked)
    _serials_update(
        units, user=user, reason=f"{operation.number} {reason}", status=SerialStatus.SCRAPPED, warehouse=None
    )
    return operation
