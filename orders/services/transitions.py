"""The people's status changes of a sales order: submit, approve, cancel, close.

Each is one transaction that locks the order row, checks the acting user's right and the status it
starts from, refuses a forward step while the order is held, and moves the order through the one
state machine (``orders.lifecycle.order_transition``), which records user and reason in the history and
calls the order-lifecycle listeners (traceability reserves stock on approval). Downstream statuses
(allocated, shipped, invoiced…) are set by the apps that own those steps, through the same lifecycle.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.utils import bulk_update_with_history

from erp.kernel.errors import DomainError, PermissionDenied
from erp.kernel.history import acting_user
from erp.kernel.messages import stored_text
from exceptions_center.services import exception_events_close_for_source
from orders import lifecycle, texts
from orders.models import OrderStatus, SalesOrder, SalesOrderLine
from orders.selectors import order_lock
from orders.services.holds import order_not_held_check
from orders.services.permissions import order_can_approve, order_change_check

# From where each transition may start: read from the one table in ``orders.lifecycle``.
SUBMITTABLE = lifecycle.sources_of(OrderStatus.SUBMITTED)
APPROVABLE = lifecycle.sources_of(OrderStatus.APPROVED, trigger="approve")
CANCELLABLE = lifecycle.sources_of(OrderStatus.CANCELLED)
CLOSABLE = lifecycle.sources_of(OrderStatus.CLOSED)


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
    order.submitted_at = timezone.now()
    return lifecycle.order_transition(
        order=order, to=OrderStatus.SUBMITTED, user=user, reason=reason or "submitted", locked=True
    )


@transaction.atomic
def order_approve(*, order: SalesOrder, user, reason: str = "") -> SalesOrder:
    """A sales manager (``approve_salesorder``) approves a submitted order. Refused while held."""
    order = order_lock(order.pk)
    if not order_can_approve(user=user, order=order):
        raise PermissionDenied(_("Only sales managers may approve orders."))
    _check_status(order, APPROVABLE, _("approved"))
    order_not_held_check(order)
    order.approved_at = timezone.now()
    # Approval reserves stock at once (traceability's lifecycle listener, FEFO); what cannot be
    # reserved stays a shortage.
    return lifecycle.order_transition(
        order=order, to=OrderStatus.APPROVED, user=user, reason=reason or "approved", locked=True
    )


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
    order.cancel_reason = reason[:300]
    order = lifecycle.order_transition(
        order=order, to=OrderStatus.CANCELLED, user=user, reason=reason[:100], locked=True
    )
    # Its still-active exception events have nothing left to hold: close them (and their open work),
    # which also recomputes the hold once.
    exception_events_close_for_source(source=order, user=user, reason=stored_text(texts.ORDER_CANCELLED, reason=reason))
    return order


@transaction.atomic
def order_close(*, order: SalesOrder, user, reason: str = "") -> SalesOrder:
    """Close an approved (short-close), delivered or invoiced order. Refused while held."""
    order = order_lock(order.pk)
    order_change_check(user, order)
    _check_status(order, CLOSABLE, _("closed"))
    order_not_held_check(order)
    return lifecycle.order_transition(
        order=order, to=OrderStatus.CLOSED, user=user, reason=reason or "closed", locked=True
    )
