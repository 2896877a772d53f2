"""Every status change of a sales order: submit, approve, cancel, close, and the downstream statuses the
traceability and finance services set (``order_status_set``).

Each is one transaction that locks the order row, checks the acting user's right and the status it
starts from, refuses a forward step while the order is held, and records user and reason in the history.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.utils import bulk_update_with_history

from erp.kernel.errors import DomainError, PermissionDenied
from erp.kernel.history import acting_user, history_stamp
from orders.models import OrderStatus, SalesOrder, SalesOrderLine
from orders.selectors import order_lock
from orders.services.holds import order_not_held_check
from orders.services.permissions import order_can_approve, order_change_check

# From where each transition may start.
SUBMITTABLE = (OrderStatus.DRAFT,)
APPROVABLE = (OrderStatus.SUBMITTED,)
CANCELLABLE = (OrderStatus.DRAFT, OrderStatus.SUBMITTED, OrderStatus.APPROVED)
# An approved order may be short-closed (nothing more will be delivered); delivered/invoiced ones close
# normally. Allocated or shipped stock must be released or delivered first (later issues).
CLOSABLE = (OrderStatus.APPROVED, OrderStatus.DELIVERED, OrderStatus.INVOICED)
# Statuses the traceability and finance services may set through ``order_status_set``.
DOWNSTREAM_STATUSES = (
    OrderStatus.APPROVED,
    OrderStatus.ALLOCATED,
    OrderStatus.SHIPPED,
    OrderStatus.DELIVERED,
    OrderStatus.INVOICED,
)


def _check_status(order: SalesOrder, allowed: Iterable[str], action) -> None:
    if order.status not in allowed:
        raise DomainError(
            _("A %(status)s order cannot be %(action)s.") % {"status": order.get_status_display(), "action": action},
            code="invalid_transition",
            details={"status": order.status},
        )


@transaction.atomic
def order_submit(*, order: SalesOrder, user, reason: str = "") -> SalesOrder:
    """Submit a draft for approval; its line prices are recorded as the agreed ones. Refused while held."""
    order = order_lock(order.pk)
    order_change_check(user, order)
    _check_status(order, SUBMITTABLE, _("submitted"))
    order_not_held_check(order)
    lines = list(order.lines.all())
    for line in lines:
        line.submitted_unit_price = line.unit_price
        line.submitted_discount_pct = line.discount_pct
    bulk_update_with_history(
        lines,
        SalesOrderLine,
        ["submitted_unit_price", "submitted_discount_pct"],
        default_user=acting_user(user),
        default_change_reason=reason or "submitted",
    )
    order.status = OrderStatus.SUBMITTED
    order.submitted_at = timezone.now()
    history_stamp(order, user=user, reason=reason or "submitted")
    order.save()
    return order


@transaction.atomic
def order_approve(*, order: SalesOrder, user, reason: str = "") -> SalesOrder:
    """A sales manager (``approve_salesorder``) approves a submitted order. Refused while held."""
    order = order_lock(order.pk)
    if not order_can_approve(user=user, order=order):
        raise PermissionDenied(_("Only sales managers may approve orders."))
    _check_status(order, APPROVABLE, _("approved"))
    order_not_held_check(order)
    order.status = OrderStatus.APPROVED
    order.approved_at = timezone.now()
    history_stamp(order, user=user, reason=reason or "approved")
    order.save()
    # Approval reserves stock at once (traceability, FEFO); what cannot be reserved stays a shortage.
    from traceability.services import order_allocate_on_approval

    return order_allocate_on_approval(order=order, user=user).order


@transaction.atomic
def order_cancel(*, order: SalesOrder, user, reason: str) -> SalesOrder:
    """Cancel an order that has not been allocated yet; a reason is required. Allowed while held
    (cancelling is one way to deal with a held order): its still-active exception events close with
    the reason logged, their open tasks and approval steps with them, and the hold is released."""
    order = order_lock(order.pk)
    order_change_check(user, order)
    reason = (reason or "").strip()
    if not reason:
        raise DomainError(
            _("Say why the order is cancelled."), code="validation_error", fields={"reason": [_("Enter a reason.")]}
        )
    _check_status(order, CANCELLABLE, _("cancelled"))
    order.status = OrderStatus.CANCELLED
    order.cancel_reason = reason[:300]
    history_stamp(order, user=user, reason=reason[:100])
    order.save()
    # Its still-active exception events have nothing left to hold: close them (and their open work),
    # which also recomputes the hold once.
    from exceptions_center.services import exception_events_close_for_source

    exception_events_close_for_source(
        source=order, user=user, reason=_("Order cancelled: %(reason)s") % {"reason": reason}
    )
    return order


@transaction.atomic
def order_close(*, order: SalesOrder, user, reason: str = "") -> SalesOrder:
    """Close an approved (short-close), delivered or invoiced order. Refused while held."""
    order = order_lock(order.pk)
    order_change_check(user, order)
    _check_status(order, CLOSABLE, _("closed"))
    order_not_held_check(order)
    order.status = OrderStatus.CLOSED
    history_stamp(order, user=user, reason=reason or "closed")
    order.save()
    return order


@transaction.atomic
def order_status_set(*, order: SalesOrder, status: str, user, reason: str = "") -> SalesOrder:
    """Set a downstream status (allocated, shipped, delivered, invoiced) from the traceability and
    finance services. Refused while held; the caller has already checked its own permission."""
    if status not in DOWNSTREAM_STATUSES:
        raise DomainError(_("This status cannot be set directly."), code="invalid_transition")
    order = order_lock(order.pk)
    if order.status in (OrderStatus.DRAFT, OrderStatus.SUBMITTED, OrderStatus.CLOSED, OrderStatus.CANCELLED):
        raise DomainError(
            _("A %(status)s order cannot move on.") % {"status": order.get_status_display()},
            code="invalid_transition",
        )
    order_not_held_check(order)
    order.status = status
    history_stamp(order, user=user, reason=reason or f"status {status}")
    order.save()
    return order
