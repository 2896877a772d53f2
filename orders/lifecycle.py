"""The order lifecycle: one state machine, declared in one table, the only code that changes
``SalesOrder.status``.

::

    draft ─submit─▶ submitted ─approve─▶ approved ─allocate─▶ allocated
      │                 │                 (confirmed)  ◀─deallocate─┘ │
      └────cancel───────┴──────cancel──────┘    │                     │
                                                 └──dispatch──┬───────┘
                                                              ▼
                        partially_shipped ─dispatch─▶ shipped ─deliver─▶ delivered ─invoice─▶ invoiced
                                                                 (every forward step may close → closed)

*Held* is not a status: an order is held while a blocking exception event on it is active (the
``is_held`` flag the exception center keeps through ``order_hold_refresh``). A transition marked
``hold_blocks`` is refused while the order is held, naming the events; cancelling is allowed (it is one
way to deal with a held order). "Confirmed" in the design is ``approved`` here (the stored value, kept).

Who may trigger a transition is declared next to it: Django permissions (the role level; the service
that calls checks the object level too, e.g. that a sales rep changes only their own orders), or
``SYSTEM`` for the steps other apps take as a consequence of their own action (traceability allocates
and ships, finance invoices): they call ``order_transition(..., system=True)`` after checking their own
permission. After each transition the listeners plugged into ``lifecycle_listeners`` run, in order, in
the same transaction (traceability reserves stock when an order is approved).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction
from django.utils.translation import gettext_lazy as _

from erp.kernel.errors import DomainError, PermissionDenied
from erp.kernel.history import history_stamp
from erp.kernel.ports import Port
from exceptions_center.selectors import exception_events_active_blocking
from orders.models import OrderStatus, SalesOrder

SYSTEM = "system"

S = OrderStatus
CHANGE = ("orders.change_salesorder",)
APPROVE = ("orders.approve_salesorder",)


@dataclass(frozen=True)
class Transition:
    """One legal move: from ``source`` to ``target`` by ``trigger``; ``who`` are the permissions one of
    which the acting user needs (or ``(SYSTEM,)``); ``hold_blocks``: refused while the order is held."""

    source: str
    target: str
    trigger: str
    who: tuple[str, ...]
    hold_blocks: bool = True


# The one table. Order within it is only for reading.
TRANSITIONS: tuple[Transition, ...] = (
    Transition(S.DRAFT, S.SUBMITTED, "submit", CHANGE),
    Transition(S.SUBMITTED, S.APPROVED, "approve", APPROVE),
    Transition(S.DRAFT, S.CANCELLED, "cancel", CHANGE, hold_blocks=False),
    Transition(S.SUBMITTED, S.CANCELLED, "cancel", CHANGE, hold_blocks=False),
    Transition(S.APPROVED, S.CANCELLED, "cancel", CHANGE, hold_blocks=False),
    # traceability: every line fully reserved / reservations released
    Transition(S.APPROVED, S.ALLOCATED, "allocate", (SYSTEM,)),
    Transition(S.ALLOCATED, S.APPROVED, "deallocate", (SYSTEM,)),
    # traceability: a shipment left (some lines still open / every line fully shipped) or arrived.
    # A partial dispatch changed no status before this state existed, so a hold never refused it.
    Transition(S.APPROVED, S.PARTIALLY_SHIPPED, "dispatch", (SYSTEM,), hold_blocks=False),
    Transition(S.ALLOCATED, S.PARTIALLY_SHIPPED, "dispatch", (SYSTEM,), hold_blocks=False),
    Transition(S.APPROVED, S.SHIPPED, "dispatch", (SYSTEM,)),
    Transition(S.ALLOCATED, S.SHIPPED, "dispatch", (SYSTEM,)),
    Transition(S.PARTIALLY_SHIPPED, S.SHIPPED, "dispatch", (SYSTEM,)),
    Transition(S.APPROVED, S.DELIVERED, "deliver", (SYSTEM,)),
    Transition(S.ALLOCATED, S.DELIVERED, "deliver", (SYSTEM,)),
    Transition(S.PARTIALLY_SHIPPED, S.DELIVERED, "deliver", (SYSTEM,)),
    Transition(S.SHIPPED, S.DELIVERED, "deliver", (SYSTEM,)),
    # finance: the order is invoiced
    Transition(S.SHIPPED, S.INVOICED, "invoice", (SYSTEM,)),
    Transition(S.DELIVERED, S.INVOICED, "invoice", (SYSTEM,)),
    # an approved order may be short-closed (nothing more will be delivered); delivered / invoiced close
    Transition(S.APPROVED, S.CLOSED, "close", CHANGE),
    Transition(S.DELIVERED, S.CLOSED, "close", CHANGE),
    Transition(S.INVOICED, S.CLOSED, "close", CHANGE),
)

_BY_MOVE: dict[tuple[str, str], Transition] = {(t.source, t.target): t for t in TRANSITIONS}

lifecycle_listeners = Port(
    "orders.lifecycle_listeners",
    doc="Called after every order transition, in order, inside its transaction, as "
    "listener(order=, transition=, user=, reason=). A listener that moved the order further returns the "
    "fresh order row (order_transition then returns it), else None.",
)


def transition_for(source: str, target: str) -> Transition | None:
    """The declared transition from ``source`` to ``target``, if there is one."""
    return _BY_MOVE.get((str(source), str(target)))


def sources_of(target: str, *, trigger: str | None = None) -> tuple[str, ...]:
    """The statuses from which an order may move to ``target`` (by ``trigger`` when given)."""
    return tuple(t.source for t in TRANSITIONS if t.target == target and trigger in (None, t.trigger))


def statuses_from(source: str) -> list[str]:
    """The statuses an order in ``source`` may move to (for pages that offer the next steps)."""
    return [t.target for t in TRANSITIONS if t.source == source]


def order_hold_check(order: SalesOrder) -> None:
    """Refuse a forward step while a blocking exception event is active, naming the events."""
    if not order.is_held:
        return
    events = list(exception_events_active_blocking(source=order).order_by("raised_at", "id"))
    if not events:
        return
    names = "; ".join(f"{e.number} {e.message}" for e in events)
    raise DomainError(
        _("The order is held by open exception events: %(events)s") % {"events": names},
        code="order_held",
        details={
            "events": [
                {"number": e.number, "rule": e.rule.code, "severity": e.severity, "message": e.message} for e in events
            ]
        },
    )


def _actor_check(transition: Transition, *, user, system: bool) -> None:
    if SYSTEM in transition.who:
        if not system:
            raise PermissionDenied(_("This step of an order follows from another action; it cannot be taken directly."))
        return
    if system:
        raise DomainError(_("This step of an order is taken by a person."), code="invalid_transition")
    if user is None or not user.is_authenticated or not user.is_active:
        raise PermissionDenied(_("You may not change this order."))
    if not (user.is_superuser or any(user.has_perm(perm) for perm in transition.who)):
        raise PermissionDenied(_("You may not change this order."))


@transaction.atomic
def order_transition(
    *,
    order: SalesOrder,
    to: str,
    user,
    reason: str = "",
    system: bool = False,
    locked: bool = False,
) -> SalesOrder:
    """Move ``order`` to ``to`` along the table, or refuse with a ``DomainError`` (nothing changed).

    ``locked``: the caller has just locked and read the order row (and may have set other fields on it,
    e.g. ``approved_at``, saved together with the status), else the row is locked and read again here.
    The status is written with its history row (the order timeline shows it) with the acting user and
    ``reason``. Then the lifecycle listeners run; the fresh order is returned.
    """
    if not locked:
        order = SalesOrder.objects.select_for_update(of=("self",)).get(pk=order.pk)
    transition = transition_for(order.status, to)
    if transition is None:
        raise DomainError(
            _("A %(status)s order cannot become %(target)s.")
            % {"status": order.get_status_display(), "target": OrderStatus(to).label if to in S.values else to},
            code="invalid_transition",
            details={"status": order.status, "target": str(to)},
        )
    _actor_check(transition, user=user, system=system)
    if transition.hold_blocks:
        order_hold_check(order)
    order.status = transition.target
    history_stamp(order, user=user, reason=reason or transition.trigger)
    order.save()
    for listener in lifecycle_listeners.implementations():
        moved = listener(order=order, transition=transition, user=user, reason=reason)
        if moved is not None:
            order = moved
    return order
