"""Reads of exception events shared by pages, the API and other apps."""

from __future__ import annotations

from django.contrib.contenttypes.models import ContentType
from django.db.models import Case, Count, Exists, F, IntegerField, OuterRef, Prefetch, Q, QuerySet, Value, When

from erp.kernel.access import object_get_for, restrict
from exceptions_center.models import (
    ACTIVE_STATUSES,
    ApprovalStep,
    Channel,
    Department,
    EventLogEntry,
    ExceptionEvent,
    HandlingTask,
    Notification,
    RuleRouteStep,
    Severity,
)
from exceptions_center.visibility import exception_event_source_q


def exception_events_for_source(*, source) -> QuerySet[ExceptionEvent]:
    """Every event raised on ``source`` (any status), newest first."""
    return ExceptionEvent.objects.filter(
        source_type=ContentType.objects.get_for_model(source), source_id=source.pk
    ).select_related("rule")


def exception_events_active_blocking(*, source) -> QuerySet[ExceptionEvent]:
    """The events that hold ``source``: blocking and still active (open, in progress or rejected)."""
    return exception_events_for_source(source=source).filter(blocking=True, status__in=ACTIVE_STATUSES)


# --- queues, event page, notifications (pages and API) -----------------------------------------------

SEVERITY_RANK = Case(
    When(severity=Severity.HIGH, then=Value(0)),
    When(severity=Severity.MEDIUM, then=Value(1)),
    default=Value(2),
    output_field=IntegerField(),
)
ACTIVE_RANK = Case(When(status__in=ACTIVE_STATUSES, then=Value(0)), default=Value(1), output_field=IntegerField())


def exception_event_list_visible_to(*, user) -> QuerySet[ExceptionEvent]:
    """Events the user may see (model permission ``view_exceptionevent``, and sight of the event's source:
    ``exceptions_center.visibility``), with what a list row shows."""
    return restrict(
        ExceptionEvent.objects.select_related("rule", "source_type").prefetch_related("assignees"), user, "view"
    )


def exception_events_ordered(queryset: QuerySet[ExceptionEvent]) -> QuerySet[ExceptionEvent]:
    """Queue order: overdue first, then active before closed, severity, and the earliest SLA due."""
    return queryset.annotate(severity_rank=SEVERITY_RANK, active_rank=ACTIVE_RANK).order_by(
        "-is_overdue", "active_rank", "severity_rank", F("sla_due_at").asc(nulls_last=True), "-raised_at", "-pk"
    )


def exception_events_in_departments_q(department_ids) -> Q:
    """Events concerning these departments: on the rule's route, or with a task or an approval step
    there, or (rule without route) of a category those departments handle by default."""
    from exceptions_center.services.handling import DEFAULT_DEPARTMENT_BY_CATEGORY

    ids = list(department_ids)
    codes = set(Department.objects.filter(pk__in=ids).values_list("code", flat=True)) if ids else set()
    default_categories = [cat for cat, code in DEFAULT_DEPARTMENT_BY_CATEGORY.items() if code in codes]
    on_route = Exists(RuleRouteStep.objects.filter(rule=OuterRef("rule_id"), department_id__in=ids))
    has_task = Exists(HandlingTask.objects.filter(event=OuterRef("pk"), department_id__in=ids))
    has_step = Exists(ApprovalStep.objects.filter(event=OuterRef("pk"), department_id__in=ids))
    no_route = ~Exists(RuleRouteStep.objects.filter(rule=OuterRef("rule_id")))
    owned = Q(rule__owner_department_id__in=ids)  # the department that decides sees it in its queue
    return Q(on_route) | Q(has_task) | Q(has_step) | owned | (Q(no_route) & Q(category__in=default_categories))


def exception_event_tab_counts(*, queryset: QuerySet[ExceptionEvent], user, department_ids) -> dict[str, int]:
    """Counts for the queue tabs (my departments, assigned to me, all) in one query."""
    assigned = Exists(
        ExceptionEvent.assignees.through.objects.filter(exceptionevent_id=OuterRef("pk"), user_id=user.pk)
    )
    return queryset.order_by().aggregate(
        mine=Count("pk", filter=exception_events_in_departments_q(department_ids)),
        assigned=Count("pk", filter=Q(assigned)),
        all=Count("pk"),
    )


def exception_event_get(*, user, number: str) -> ExceptionEvent:
    """One event by number with its tasks, steps and log, or ``NotFoundOrForbidden``."""
    queryset = ExceptionEvent.objects.select_related("rule", "source_type", "closed_by").prefetch_related(
        "assignees",
        Prefetch("tasks", queryset=HandlingTask.objects.select_related("department", "assignee", "closed_by")),
        Prefetch("steps", queryset=ApprovalStep.objects.select_related("department", "decided_by")),
        Prefetch("log", queryset=EventLogEntry.objects.select_related("actor", "attachment")),
    )
    return object_get_for(queryset, user, "view", number=number)


def _notifications_visible(*, user) -> QuerySet[Notification]:
    """The user's in-app notifications about events they may still see (a department-wide message about
    another rep's order is not theirs to read: its title names the order and the customer)."""
    queryset = Notification.objects.filter(recipient=user, channel=Channel.IN_APP)
    condition = exception_event_source_q(user)
    if condition is None:
        return queryset
    return queryset.filter(Q(event__isnull=True) | Q(event__in=ExceptionEvent.objects.filter(condition).values("pk")))


def notifications_for(*, user) -> QuerySet[Notification]:
    """The user's in-app notifications, newest first."""
    return _notifications_visible(user=user).select_related("event")


def notifications_unread_count(*, user) -> int:
    if not user or not user.is_authenticated:
        return 0
    return _notifications_visible(user=user).filter(read_at__isnull=True).count()
