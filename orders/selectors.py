"""Reads of sales orders shared by the pages and the API; every list goes through ``restrict`` (a sales
rep sees the orders they hold an object permission for, managers and back office see all)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime

from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.db.models import Prefetch, QuerySet

from erp.kernel.access import object_get_for, restrict, sees_all_rows
from erp.kernel.messages import render_stored
from erp.kernel.people import person_name
from exceptions_center.models import (
    ACTIVE_STATUSES,
    ApprovalStep,
    EventLogEntry,
    ExceptionEvent,
    HandlingTask,
    StepStatus,
    TaskStatus,
)
from masterdata.selectors import SALES_REP_ROLES
from orders.models import SalesOrder, SalesOrderLine

_LINE_KEY = re.compile(r"^L(\d+)(?:@|$)")


def _open_events() -> Prefetch:
    return Prefetch(
        "exception_events",
        queryset=ExceptionEvent.objects.filter(status__in=ACTIVE_STATUSES)
        .select_related("rule")
        .order_by("-blocking", "raised_at", "id"),
        to_attr="open_events",
    )


def order_list_visible_to(*, user, action: str = "view") -> QuerySet[SalesOrder]:
    """Orders the user may see (or change), with customer, rep and open events loaded for lists."""
    queryset = SalesOrder.objects.select_related("customer", "ship_to", "warehouse", "sales_rep").prefetch_related(
        _open_events()
    )
    return restrict(queryset, user, action)


def order_ids_visible_to(*, user) -> QuerySet | None:
    """The ids of the orders ``user`` may see, as a subquery (``values("pk")``), or None for every order.

    Plugged into the exception center (``source_visibility``: an event on an order is seen with the order)
    and used by traceability to scope shipments, allocations and returns to their orders."""
    if sees_all_rows(SalesOrder, user):
        return None
    return restrict(SalesOrder.objects.all(), user, "view").values("pk")


def order_get(*, user, pk: int, action: str = "view") -> SalesOrder:
    """One order with its lines (and products) and open events; 404 alike for missing and not allowed."""
    queryset = order_list_visible_to(user=user, action=action).prefetch_related(
        Prefetch("lines", queryset=SalesOrderLine.objects.select_related("product").order_by("line_no"))
    )
    return object_get_for(queryset, user, action, pk=pk)


def order_lock(pk: int) -> SalesOrder:
    """The order row locked (``SELECT … FOR UPDATE``) for the rest of the caller's transaction, fresh
    from the database with its customer, ship-to party and warehouse. Every write to an order or to
    what hangs on it (lines, reservations, shipments) takes this lock first, so those writes queue."""
    return (
        SalesOrder.objects.select_for_update(of=("self",)).select_related("customer", "ship_to", "warehouse").get(pk=pk)
    )


def order_open_events(order: SalesOrder) -> list[ExceptionEvent]:
    """The order's active events (prefetched by the selectors above, else one query)."""
    events = getattr(order, "open_events", None)
    if events is None:
        events = list(
            ExceptionEvent.objects.filter(
                source_type=ContentType.objects.get_for_model(SalesOrder),
                source_id=order.pk,
                status__in=ACTIVE_STATUSES,
            )
            .select_related("rule")
            .order_by("-blocking", "raised_at", "id")
        )
        order.open_events = events
    return events


def event_line_no(event: ExceptionEvent) -> int | None:
    """The order line an event is about, from its detail key (``L3``, ``L3@…``); None for the whole order."""
    match = _LINE_KEY.match(event.detail_key or "")
    return int(match.group(1)) if match else None


def order_events_by_line(order: SalesOrder) -> tuple[list[ExceptionEvent], dict[int, list[ExceptionEvent]]]:
    """Open events split into order-level ones and those about a line (keyed by line number)."""
    header: list[ExceptionEvent] = []
    by_line: dict[int, list[ExceptionEvent]] = {}
    for event in order_open_events(order):
        line_no = event_line_no(event)
        if line_no is None:
            header.append(event)
        else:
            by_line.setdefault(line_no, []).append(event)
    return header, by_line


def order_acting_departments(order: SalesOrder) -> dict[int, list[str]]:
    """For each open event id, who is acting: the departments of its open tasks or pending approval step."""
    ids = [e.pk for e in order_open_events(order)]
    acting: dict[int, list[str]] = {}
    if not ids:
        return acting
    for task in HandlingTask.objects.filter(event_id__in=ids, status=TaskStatus.OPEN).select_related(
        "department", "assignee"
    ):
        who = str(task.department) + (f" ({task.assignee.get_username()})" if task.assignee_id else "")
        acting.setdefault(task.event_id, []).append(who)
    for step in ApprovalStep.objects.filter(event_id__in=ids, status=StepStatus.PENDING).select_related("department"):
        acting.setdefault(step.event_id, []).append(str(step.department))
    return acting


TIMELINE_TRACKED = (
    "status",
    "customer_id",
    "ship_to_id",
    "ship_to_address",
    "warehouse_id",
    "requested_delivery_date",
    "customer_po",
    "contract_ref",
    "payment_terms",
    "notes",
    "sales_rep_id",
    "gross_amount",
    "is_held",
)
LINE_TRACKED = ("product_id", "quantity", "unit_price", "discount_pct", "tax_rate", "requested_lot")


# Reasons the services write for their own steps: stable codes in the audit trail, which the
# timeline does not repeat (the entry's title already says what happened).
SYSTEM_REASONS = {"created", "submitted", "approved", "closed", "hold released"}


def _reason_display(reason: str) -> str:
    if reason in SYSTEM_REASONS or reason.startswith(("hold: ", "status ")):
        return ""
    return reason


@dataclass
class TimelineEntry:
    at: datetime
    kind: str  # "status", "edit", "hold", "event", "log"
    title: str
    actor: str = ""
    detail: str = ""
    changes: list[tuple[str, str, str]] = field(default_factory=list)
    css: str = ""
    url: str = ""


def order_timeline(order: SalesOrder, *, limit: int = 200) -> list[TimelineEntry]:
    """The order's story, newest first: status changes and field edits from its history, line edits,
    exception events raised and closed, and their handling log. A fixed number of queries."""
    from django.utils.translation import gettext as _

    entries: list[TimelineEntry] = []
    records = list(order.history.select_related("history_user").order_by("history_date", "history_id")[:limit])
    tracked = TIMELINE_TRACKED
    labels = {f.attname: str(f.verbose_name) for f in SalesOrder._meta.concrete_fields}
    previous = None
    for record in records:
        actor = person_name(record.history_user) if record.history_user else _("system")
        raw_reason = record.history_change_reason or ""
        reason = _reason_display(raw_reason)
        if previous is None:
            entries.append(TimelineEntry(record.history_date, "status", _("Order entered"), actor, reason, css="ok"))
        else:
            changes = [
                (labels.get(name, name), str(getattr(previous, name) or "—"), str(getattr(record, name) or "—"))
                for name in tracked
                if getattr(previous, name) != getattr(record, name)
            ]
            status_changed = previous.status != record.status
            held_changed = previous.is_held != record.is_held
            if status_changed:
                title = _("Status: %(status)s") % {"status": record.get_status_display()}
                entries.append(TimelineEntry(record.history_date, "status", title, actor, reason, css="status"))
            elif held_changed:
                title = _("Order held") if record.is_held else _("Hold released")
                entries.append(
                    TimelineEntry(
                        record.history_date, "hold", title, actor,
                        render_stored(record.hold_summary_text, fallback=record.hold_summary),
                        css="danger" if record.is_held else "ok",
                    )
                )  # fmt: skip
            elif raw_reason.startswith("hold: ") and previous.hold_summary != record.hold_summary:
                entries.append(
                    TimelineEntry(
                        record.history_date,
                        "hold",
                        _("Hold updated"),
                        actor,
                        render_stored(record.hold_summary_text, fallback=record.hold_summary),
                        css="danger",
                    )
                )
            else:
                changes = [c for c in changes if c[0] != labels["is_held"]]
                if changes or reason:
                    entries.append(
                        TimelineEntry(record.history_date, "edit", _("Order changed"), actor, reason, changes=changes)
                    )
        previous = record
    entries.extend(_line_timeline(order, limit=limit))
    events = list(
        ExceptionEvent.objects.filter(
            source_type=ContentType.objects.get_for_model(SalesOrder), source_id=order.pk
        ).select_related("rule")
    )
    for event in events:
        entries.append(
            TimelineEntry(
                event.raised_at,
                "event",
                _("%(number)s raised: %(message)s") % {"number": event.number, "message": event.message},
                "",
                f"{event.get_severity_display()} · {event.get_category_display()}",
                css=f"sev-{event.severity}",
                url=_event_url(event),
            )
        )
    if events:
        log = EventLogEntry.objects.filter(event__in=events).select_related("actor", "event").order_by("at")[:limit]
        for item in log:
            if item.action in ("raised", "refreshed"):
                continue  # shown as the event itself; refreshes are noise
            entries.append(
                TimelineEntry(
                    item.at,
                    "log",
                    f"{item.event.number} · {item.get_action_display()}",
                    person_name(item.actor) if item.actor else _("system"),
                    item.comment_display,
                    css="log",
                    url=_event_url(item.event),
                )
            )
    entries.sort(key=lambda e: e.at, reverse=True)
    return entries[:limit]


def _line_timeline(order: SalesOrder, *, limit: int) -> list[TimelineEntry]:
    """Line edits after entry (quantities, prices, products added or removed), from the line history."""
    from django.utils.translation import gettext as _

    labels = {f.attname: str(f.verbose_name) for f in SalesOrderLine._meta.concrete_fields}
    records = list(
        SalesOrderLine.history.filter(order_id=order.pk)
        .select_related("history_user")
        .order_by("history_date", "history_id")[: limit * 3]
    )
    first_date = records[0].history_date if records else None
    last: dict[int, object] = {}
    entries = []
    for record in records:
        actor = person_name(record.history_user) if record.history_user else _("system")
        before = last.get(record.id)
        last[record.id] = record
        title = None
        changes: list[tuple[str, str, str]] = []
        if record.history_type == "+" and (record.history_date - first_date).total_seconds() > 1:
            title = _("Line %(no)s added") % {"no": record.line_no}
        elif record.history_type == "-":
            title = _("Line %(no)s removed") % {"no": record.line_no}
        elif record.history_type == "~" and before is not None:
            changes = [
                (labels.get(name, name), str(getattr(before, name)), str(getattr(record, name)))
                for name in LINE_TRACKED
                if getattr(before, name) != getattr(record, name)
            ]
            if changes:
                title = _("Line %(no)s changed") % {"no": record.line_no}
        if title:
            entries.append(
                TimelineEntry(
                    record.history_date,
                    "edit",
                    title,
                    actor,
                    _reason_display(record.history_change_reason or ""),
                    changes=changes,
                )
            )
    return entries


def _event_url(event: ExceptionEvent) -> str:
    from django.urls import NoReverseMatch, reverse

    try:
        return reverse("exceptions_center:event_detail", args=[event.number])
    except NoReverseMatch:
        return ""


def order_sales_rep_choices() -> QuerySet:
    """The users an order list can be filtered by rep: members of the sales and sales-manager roles."""
    return (
        get_user_model()
        .objects.filter(groups__name__in=SALES_REP_ROLES)
        .distinct()
        .order_by("-is_active", "last_name", "first_name", "username")
    )
