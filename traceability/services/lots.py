"""Lot status changes: release from quarantine (with an electronic signature), hold, reject, recall."""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext_lazy as _
from simple_history.utils import bulk_update_with_history

from erp.kernel.errors import DomainError
from traceability.models import Lot, LotStatus
from traceability.services._common import acting, require_perm, rules_evaluate, with_history

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
    electronic signature (password re-entered, DOMAIN.md §9). Runs the ``lot.status_changed`` rules."""
    require_perm(user, "traceability.release_lot", _("Only quality staff may change a lot's status."))
    lot = _lot_lock(lot)
    if status == lot.status:
        return lot
    if status not in TRANSITIONS.get(lot.status, set()):
        raise DomainError(
            _("A lot cannot go from %(old)s to %(new)s.")
            % {"old": lot.get_status_display(), "new": LotStatus(status).label},
            code="invalid_transition",
        )
    previous = lot.status
    lot.status = status
    lot.status_reason = (reason or "")[:300]
    with_history(lot, user=user, reason=reason or f"status {status}")
    lot.save()
    if status in SIGNED_STATUSES:
        from erp.signatures import signature_create

        # Signed after the change, so the signature binds the lot as released/rejected.
        signature_create(user=user, password=password or "", meaning=SIGNED_STATUSES[status], record=lot, reason=reason)
    rules_evaluate(event="lot.status_changed", source=lot, context={"previous_status": previous})
    return lot


def lot_release(*, lot: Lot, user, password: str, reason: str = "") -> Lot:
    """Release a lot from quarantine (or hold) so its stock becomes allocatable; needs a signature."""
    return lot_status_set(lot=lot, status=LotStatus.RELEASED, user=user, password=password, reason=reason)


def lots_hold(*, lot_ids, user, reason: str) -> list[Lot]:
    """Put lots on quality hold (system action, e.g. a temperature excursion): released or quarantined
    lots become ON_HOLD; others are left as they are. Caller is in the transaction."""
    lots = list(
        Lot.objects.select_for_update()
        .filter(pk__in=set(lot_ids), status__in=[LotStatus.RELEASED, LotStatus.QUARANTINE])
        .order_by("id")
    )
    for lot in lots:
        lot.status = LotStatus.ON_HOLD
        lot.status_reason = reason[:300]
    if lots:
        bulk_update_with_history(
            lots, Lot, ["status", "status_reason"], default_user=acting(user), default_change_reason=reason[:100]
        )
    return lots
