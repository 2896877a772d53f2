"""Lot status changes: release from quarantine (with an electronic signature), hold, reject, recall.

Every status change runs the ``lot.status_changed`` rules with the lot as source. Releasing also
releases the lot's units that await release on their balances (received after an earlier release, or
returned by customers): quality signs for every unit of the lot that is on hand.
"""

from __future__ import annotations

from collections import defaultdict

from django.db import transaction
from django.utils.translation import gettext_lazy as _
from simple_history.utils import bulk_update_with_history

from erp.kernel.errors import DomainError
from erp.kernel.history import acting_user, history_stamp
from erp.kernel.messages import StoredText, is_stored_text, render_stored
from erp.signatures import signature_create
from traceability.models import (
    PENDING_SERIAL_STATUSES,
    Lot,
    LotStatus,
    MoveKind,
    SerialStatus,
    SerialUnit,
    StockBalance,
)
from traceability.selectors import lot_pending_quantity
from traceability.services._common import require_perm, rules_evaluate
from traceability.services.ledger import MoveSpec, stock_moves_post

# Which status may follow which (a recall is final; a rejected lot can only be recalled).
TRANSITIONS = {
    LotStatus.QUARANTINE: {LotStatus.RELEASED, LotStatus.REJECTED, LotStatus.ON_HOLD, LotStatus.RECALLED},
    LotStatus.RELEASED: {LotStatus.ON_HOLD, LotStatus.RECALLED, LotStatus.REJECTED},
    LotStatus.ON_HOLD: {LotStatus.RELEASED, LotStatus.REJECTED, LotStatus.RECALLED},
    LotStatus.REJECTED: {LotStatus.RECALLED},
    LotStatus.RECALLED: set(),
}
SIGNED_STATUSES = {LotStatus.RELEASED: "release", LotStatus.REJECTED: "rejection"}


def _lot_lock(lot: Lot) -> Lot:
    return Lot.objects.select_for_update(of=("self",)).select_related("product").get(pk=lot.pk)


@transaction.atomic
def lot_status_set(*, lot: Lot, status: str, user, reason: str = "", password: str | None = None) -> Lot:
    """Move a lot to ``status``; releasing and rejecting need ``traceability.release_lot`` and an
    electronic signature (password re-entered, DOMAIN.md §9). Releasing a lot that is already released
    but has units awaiting release releases those units (signed as well). A change of status runs the
    ``lot.status_changed`` rules."""
    require_perm(user, "traceability.release_lot", _("Only quality staff may change a lot's status."))
    lot = _lot_lock(lot)
    pending = lot_pending_quantity(lot=lot) if status == LotStatus.RELEASED else 0
    if status == lot.status and not pending:
        return lot
    if status != lot.status and status not in TRANSITIONS.get(lot.status, set()):
        raise DomainError(
            _("A lot cannot go from %(old)s to %(new)s.")
            % {"old": lot.get_status_display(), "new": LotStatus(status).label},
            code="invalid_transition",
        )
    previous = lot.status
    lot.status = status
    if reason or previous != status:
        lot.status_reason = (reason or "")[:300]
        lot.status_reason_text = {}
    history_reason = f"status {status}" if previous != status else f"released {pending} units awaiting release"
    history_stamp(lot, user=user, reason=reason or history_reason)
    lot.save()
    if status in SIGNED_STATUSES:
        # Signed after the change, so the signature binds the lot as released/rejected.
        signature_create(user=user, password=password or "", meaning=SIGNED_STATUSES[status], record=lot, reason=reason)
    if pending:
        _pending_release(lot=lot, user=user, reason=reason or history_reason)
    if previous != status:
        rules_evaluate(event="lot.status_changed", source=lot, context={"previous_status": previous})
    return lot


def _pending_release(*, lot: Lot, user, reason: str) -> None:
    """Turn the lot's units awaiting release into free stock: one RELEASE move per balance (one per
    unit for serials), and their serial units back IN_STOCK. Caller holds the lot lock; balances are
    locked before serial units, as every stock service does."""
    balances = list(StockBalance.objects.select_for_update().filter(lot=lot, quarantined__gt=0).order_by("id"))
    units = list(
        SerialUnit.objects.select_for_update()
        .filter(lot=lot, status__in=PENDING_SERIAL_STATUSES, warehouse__isnull=False)
        .order_by("id")
    )
    by_warehouse = defaultdict(list)
    for unit in units:
        by_warehouse[unit.warehouse_id].append(unit)
    moves, released_units = [], []
    for balance in balances:
        common = {
            "kind": MoveKind.RELEASE,
            "product_id": balance.product_id,
            "lot_id": lot.pk,
            "warehouse_id": balance.warehouse_id,
        }
        here = by_warehouse.get(balance.warehouse_id, [])[: balance.quarantined]
        moves.extend(MoveSpec(quarantined_delta=-1, serial_id=unit.pk, **common) for unit in here)
        released_units.extend(here)
        if balance.quarantined > len(here):
            moves.append(MoveSpec(quarantined_delta=len(here) - balance.quarantined, **common))
    stock_moves_post(
        moves=moves,
        document_type="lot",
        document_id=lot.pk,
        document_ref=lot.lot_number,
        user=user,
        reason=reason,
        locked={(b.warehouse_id, b.product_id, b.lot_id): b for b in balances},
    )
    for unit in released_units:
        unit.status = SerialStatus.IN_STOCK
    if released_units:
        bulk_update_with_history(
            released_units, SerialUnit, ["status"], default_user=acting_user(user), default_change_reason=reason[:100]
        )


def lot_release(*, lot: Lot, user, password: str, reason: str = "") -> Lot:
    """Release a lot from quarantine (or hold), or the units of a released lot that await release, so
    its stock becomes allocatable; needs a signature."""
    return lot_status_set(lot=lot, status=LotStatus.RELEASED, user=user, password=password, reason=reason)


def lots_hold(*, lot_ids, user, reason: str | StoredText) -> list[Lot]:
    """Put lots on quality hold (system action, e.g. a temperature excursion): released or quarantined
    lots become ON_HOLD; others are left as they are. Runs the ``lot.status_changed`` rules of each
    lot held. Caller is in the transaction. A stored-text ``reason`` is read in the reader's language."""
    reason_text = reason if is_stored_text(reason) else {}
    reason = render_stored(reason) if reason_text else str(reason)
    lots = list(
        Lot.objects.select_for_update()
        .filter(pk__in=set(lot_ids), status__in=[LotStatus.RELEASED, LotStatus.QUARANTINE])
        .order_by("id")
    )
    previous = {lot.pk: lot.status for lot in lots}
    for lot in lots:
        lot.status = LotStatus.ON_HOLD
        lot.status_reason = reason[:300]
        lot.status_reason_text = reason_text
    if lots:
        bulk_update_with_history(
            lots,
            Lot,
            ["status", "status_reason", "status_reason_text"],
            default_user=acting_user(user),
            default_change_reason=reason[:100],
        )
    for lot in lots:
        rules_evaluate(event="lot.status_changed", source=lot, context={"previous_status": previous[lot.pk]})
    return lots
