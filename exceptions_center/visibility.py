"""Who may see an exception event: whoever may see its source (an order, a shipment, a lot…).

The exception center knows no domain, so it cannot ask the orders or traceability apps directly. It
offers the keyed port ``source_visibility`` instead (key = the source model's label, e.g.
``orders.salesorder``); the app that owns the model registers ``visible(user=…)`` returning a queryset
of the source ids the user may see (``.values("pk")``, used as a semi-join) or None for "every row".

An event is then visible when its source is. A user who sees every row of every registered source model
sees every event (no filter at all); a user limited on any of them (a sales rep) sees only events whose
source model is registered and whose source they may see — events on lots, warehouses and sources no
app vouches for are the work of the back office and stay hidden from them. Handling tasks, approval
steps and log entries follow their event. The rule is plugged into ``erp.kernel.access.restrict``
(``row_scope``), so queues, tab counts, the event page, the API and the home page numbers all follow it.
"""

from __future__ import annotations

from functools import reduce
from operator import or_

from django.contrib.contenttypes.models import ContentType
from django.db.models import Q, QuerySet

from erp.kernel.access import restrict, row_scope, sees_all_rows
from erp.kernel.ports import Port
from masterdata.models import Party

source_visibility = Port(
    "exceptions_center.source_visibility",
    keyed=True,
    single=True,
    doc="Source ids of a model a user may see. Key: the source model label. Implementation: "
    "``visible(user=…)`` returns a queryset of visible ids (``values('pk')``) or None for every row.",
)


def exception_event_source_q(user) -> Q | None:
    """The condition on ``source_type`` / ``source_id`` that keeps the events whose source ``user`` may
    see, or None when the user sees every source (one semi-join per limited source model, no query)."""
    conditions: list[Q] = []
    limited = False
    labels = source_visibility.keys()  # a Port, not a dict: keys in registration order
    for label in labels:
        visible = source_visibility.get(label)(user=user)
        app_label, model = label.split(".", 1)
        source_type = ContentType.objects.get_by_natural_key(app_label, model)  # cached per process
        if visible is None:
            conditions.append(Q(source_type=source_type))
        else:
            limited = True
            conditions.append(Q(source_type=source_type, source_id__in=visible))
    if not limited:
        return None
    return reduce(or_, conditions) if conditions else Q(pk__in=[])


def exception_event_scope(queryset: QuerySet, user, action: str) -> QuerySet | None:
    """``row_scope`` of ``ExceptionEvent``: the events whose source the user may see."""
    condition = exception_event_source_q(user)
    return None if condition is None else queryset.filter(condition)


def event_child_scope(queryset: QuerySet, user, action: str) -> QuerySet | None:
    """``row_scope`` of the rows that belong to one event (tasks, steps, log): those of visible events."""
    from exceptions_center.models import ExceptionEvent

    condition = exception_event_source_q(user)
    if condition is None:
        return None
    return queryset.filter(event__in=ExceptionEvent.objects.filter(condition).values("pk"))


def party_ids_visible_to(*, user):
    """Parties are sources too (licence and qualification events); master data sits below the exception
    center, so the center vouches for it: an event on a party is seen by whoever sees the party."""
    return None if sees_all_rows(Party, user) else restrict(Party.objects.all(), user, "view").values("pk")


def register() -> None:
    """Plug the event scopes into ``restrict`` (called from ``ExceptionsCenterConfig.ready``)."""
    source_visibility.register(party_ids_visible_to, app="exceptions_center", key="masterdata.party")

    row_scope.register(exception_event_scope, app="exceptions_center", key="exceptions_center.exceptionevent")
    for model in ("handlingtask", "approvalstep", "eventlogentry"):
        row_scope.register(event_child_scope, app="exceptions_center", key=f"exceptions_center.{model}")
