"""Handling of exception events: routing by severity, the people's actions, SLA and the review digest.

Routing runs after the raising transaction commits (Celery, ``exception_event_route_task``):

- **high**: one ``HandlingTask`` per department of the rule's route, created together; the event
  resolves when every task is done.
- **medium**: ``ApprovalStep`` rows in route order, the first pending and the rest waiting; approving
  moves to the next, the last approval resolves the event; a rejection ends the chain and sets the
  event ``rejected`` (still active, so its order stays held) with the reason.
- **low**: ``rule.low_action``: resolved automatically (logged), or the departments are notified, or the
  event waits for the daily review digest.

Every action locks the event row, asks the one permission policy (``erp.kernel.policy``, checkers in
``exceptions_center.policy``: the owning department decides, nobody decides their own case, one person
approves one step of a chain, administrators act on behalf of someone with a reason), writes the log and
history, bumps ``event.version`` (electronic signatures bind to it) and, when the event leaves or
re-enters an active status, recomputes the hold of its source object at once.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.utils import bulk_create_with_history

from erp.attachments import attachment_add
from erp.kernel import policy
from erp.kernel.errors import DomainError
from erp.kernel.history import history_stamp
from erp.kernel.messages import StoredText, both, is_stored_text, joined, render_stored, stored_text
from erp.kernel.people import person_name
from erp.kernel.policy import Decision
from erp.models import SignatureMeaning
from erp.signatures import signature_create
from exceptions_center import policy as sod
from exceptions_center import texts
from exceptions_center.models import (
    ACTIVE_STATUSES,
    DEFAULT_OWNER_BY_CATEGORY,
    ApprovalStep,
    Department,
    DispatchState,
    EventLogEntry,
    EventStatus,
    ExceptionEvent,
    HandlingTask,
    LogAction,
    LowSeverityAction,
    Severity,
    StepStatus,
    TaskStatus,
)
from exceptions_center.services import notifications
from exceptions_center.services.notifications import Kind
from exceptions_center.services.sources import source_hold_refresh

# Where an event goes when its rule names no route: its owning department (exceptions_center.policy).
DEFAULT_DEPARTMENT_BY_CATEGORY = DEFAULT_OWNER_BY_CATEGORY

WAIVE_MEANINGS = (SignatureMeaning.WAIVER, SignatureMeaning.APPROVAL, SignatureMeaning.RESPONSIBILITY)


# --- who may act: the one policy (erp.kernel.policy, checkers in exceptions_center.policy) -----------------

route_departments = sod.route_departments
event_department_ids = sod.event_department_ids
user_department_ids = sod.member_department_ids


def user_may_act_in(user, department_ids: Iterable[int]) -> bool:
    """May ``user`` act for one of these departments (member, manager or dated delegate)?"""
    if not user or not user.is_authenticated or not user.is_active:
        return False
    return sod.standing(user, department_ids).allowed


def user_may_act_on_event(user, event: ExceptionEvent) -> bool:
    return user_may_act_in(user, event_department_ids(event))


def _department_names(department_ids: Iterable[int]) -> str:
    return ", ".join(str(d) for d in Department.objects.filter(pk__in=list(department_ids)))


def _authorise(user, action: str, obj, *, on_behalf_of=None, reason: str = "") -> Decision:
    """Ask the policy (403 with its reason when refused). An administrator acting for someone must say
    why: the reason is recorded with the person they acted for."""
    decision = policy.require(user, action, obj, on_behalf_of=on_behalf_of)
    if on_behalf_of is not None and not (reason or "").strip():
        raise DomainError.on_field(
            "reason", _("Say why you act on behalf of %(person)s.") % {"person": person_name(on_behalf_of)}
        )
    return decision


def _acting_data(decision: Decision, *, reason: str = "") -> dict:
    """What the log records when someone acts for another person: the person, and the delegation or the
    administrator's reason."""
    if decision.acting_for is None:
        return {}
    data = {"on_behalf_of": decision.acting_for.get_username(), "on_behalf_of_name": person_name(decision.acting_for)}
    if decision.delegation is not None:
        data["delegation"] = decision.delegation.pk
    else:
        data["admin_reason"] = (reason or "").strip()
    return data


def _signature_reason(reason: str, decision: Decision) -> str:
    """The signature's stated reason; a delegate's says for whom and under which delegation."""
    if decision.delegation is None:
        return reason
    return str(
        _("%(reason)s (signed on behalf of %(person)s under delegation D-%(delegation)s)")
        % {"reason": reason, "person": person_name(decision.acting_for), "delegation": decision.delegation.pk}
    )


# --- small writers ---------------------------------------------------------------------------------


def _lock(event_id: int) -> ExceptionEvent:
    return ExceptionEvent.objects.select_for_update(of=("self",)).select_related("rule", "source_type").get(pk=event_id)


def _log(
    event: ExceptionEvent,
    *,
    action: str,
    actor=None,
    comment: str | StoredText = "",
    data: dict | None = None,
    attachment=None,
) -> EventLogEntry:
    """A log line; a ``comment`` the system writes is a stored text (read in the reader's language)."""
    comment, comment_text = _plain_and_stored(comment)
    entry = EventLogEntry(
        event=event, action=action, actor=actor, comment=comment, comment_text=comment_text, data=data or {}
    )
    if attachment is not None:
        entry.attachment = attachment
    entry.save()
    return entry


def _save(event: ExceptionEvent, *, user, reason: str, fields: Iterable[str]) -> None:
    """Save the changed fields with a bumped version and the history's user and reason."""
    event.version += 1
    history_stamp(event, user=user, reason=reason)
    event.save(update_fields=[*fields, "version"])


def _hold_refresh(event: ExceptionEvent) -> None:
    source_hold_refresh(source_type=event.source_type, source_id=event.source_id)


def _required(value: str, field: str, message) -> str:
    value = (value or "").strip()
    if not value:
        raise DomainError.on_field(field, message)
    return value


def _require_active(event: ExceptionEvent) -> None:
    if not event.is_active:
        raise DomainError(
            _("Exception %(number)s is already closed (%(status)s).")
            % {"number": event.number, "status": event.get_status_display()},
            code="event_closed",
        )


def _close_open_work(event: ExceptionEvent, *, user=None, comment: str | StoredText = "") -> None:
    """Cancel the open tasks and skip the undecided steps of an event that closes."""
    now = timezone.now()
    for task in event.tasks.filter(status=TaskStatus.OPEN):
        task.status = TaskStatus.CANCELLED
        task.closed_at = now
        task.closed_by = user
        if not task.comment:
            task.comment, task.comment_text = _plain_and_stored(comment)
        task._history_user = user
        task.save(update_fields=["status", "closed_at", "closed_by", "comment", "comment_text"])
    for step in event.steps.filter(status__in=(StepStatus.WAITING, StepStatus.PENDING)):
        step.status = StepStatus.SKIPPED
        step._history_user = user
        step.save(update_fields=["status"])


def _plain_and_stored(text: str | StoredText) -> tuple[str, StoredText]:
    """A stored text and its copy in the active language (the plain column, as before), or a typed text."""
    if is_stored_text(text):
        return render_stored(text), text
    return str(text or ""), {}


def _close(event: ExceptionEvent, *, status: str, user, resolution: str | StoredText) -> None:
    event.status = status
    event.closed_at = timezone.now()
    event.closed_by = user
    event.resolution, event.resolution_text = _plain_and_stored(resolution)
    _save(
        event,
        user=user,
        reason=event.resolution,
        fields=["status", "closed_at", "closed_by", "resolution", "resolution_text"],
    )


# --- routing ---------------------------------------------------------------------------------------


def exception_event_route_on_commit(*, event: ExceptionEvent) -> None:
    """Route a newly raised or reopened event once the caller's transaction commits.

    Marks the event's routing pending (so a reopened event is routed again and the sweeper finds it
    if the broker is down), then queues ``exception_event_route_task`` on commit.
    """
    from exceptions_center import tasks

    if event.dispatch_state != DispatchState.PENDING:
        event.dispatch_state = DispatchState.PENDING
        ExceptionEvent.objects.filter(pk=event.pk).update(dispatch_state=DispatchState.PENDING)
    event_id = event.pk
    transaction.on_commit(lambda: tasks.events_route_publish([event_id]))


def exception_event_cancel_open_work(*, event: ExceptionEvent, reason: str | StoredText, user=None) -> None:
    """An event closed by the rules engine (cause fixed): cancel its open tasks and skip its undecided
    approval steps. The caller writes the event and its log."""
    _close_open_work(event, user=user, comment=reason)


def exception_events_close_for_source(*, source, reason: str | StoredText, user=None) -> list[ExceptionEvent]:
    """The object the events are about left the business (an order was cancelled): each of its still
    active events is closed as auto-resolved with the reason logged, its open tasks cancelled and its
    undecided approval steps skipped; the source's hold is recomputed once at the end.

    No permission check here: the caller (e.g. ``order_cancel``) has checked that the user may do what
    closes them. Runs in the caller's transaction; returns the events it closed.
    """
    with transaction.atomic():
        events = list(
            ExceptionEvent.objects.select_for_update(of=("self",))
            .filter(
                source_type=ContentType.objects.get_for_model(source),
                source_id=source.pk,
                status__in=ACTIVE_STATUSES,
            )
            .order_by("id")
        )
        for event in events:
            _close_open_work(event, user=user, comment=reason)
            _close(event, status=EventStatus.AUTO_RESOLVED, user=user, resolution=reason)
            _log(event, action=LogAction.AUTO_RESOLVED, actor=user, comment=reason, data={"reason": "source_closed"})
        if any(event.blocking for event in events):
            source_hold_refresh(source=source)
        return events


def exception_event_route(*, event_id: int) -> ExceptionEvent | None:
    """Route the event by severity, once: a second run (or a run for a closed event) creates nothing.

    Sets the SLA due time from the rule when the event has none (or is routed again after reopening).
    """
    with transaction.atomic():
        event = (
            ExceptionEvent.objects.select_for_update(of=("self",)).select_related("rule").filter(pk=event_id).first()
        )
        if event is None or event.dispatch_state == DispatchState.DONE:
            return event
        fields = ["dispatch_state"]
        if event.is_active:
            rule = event.rule
            departments = route_departments(rule)
            rerouted = event.tasks.exists() or event.steps.exists()
            if event.sla_due_at is None or rerouted:
                event.sla_due_at = timezone.now() + timedelta(hours=rule.sla_hours)
                event.is_overdue = False
                fields += ["sla_due_at", "is_overdue"]
            if event.severity == Severity.HIGH:
                _route_parallel(event, departments)
            elif event.severity == Severity.MEDIUM:
                _route_chain(event, departments)
            else:
                fields += _route_low(event, departments)
        event.dispatch_state = DispatchState.DONE
        _save(event, user=None, reason="routed", fields=fields)
        if not event.is_active:
            _hold_refresh(event)
        return event


def _route_parallel(event: ExceptionEvent, departments: list[Department]) -> None:
    existing = {task.department_id: task for task in event.tasks.all()}
    new = [HandlingTask(event=event, department=d) for d in departments if d.pk not in existing]
    if new:
        bulk_create_with_history(new, HandlingTask, default_change_reason="routed")
    for task in existing.values():
        if task.status != TaskStatus.OPEN:  # routed again after reopening: a new round for everyone
            task.status, task.closed_at, task.closed_by = TaskStatus.OPEN, None, None
            task.save(update_fields=["status", "closed_at", "closed_by"])
    _log(
        event,
        action=LogAction.ROUTED,
        comment=stored_text(
            texts.ROUTED_TO, departments=joined([both(d.name_zh, d.name_en) for d in departments], ", ")
        ),
        data={"mode": "parallel", "departments": [d.code for d in departments]},
    )
    notifications.notifications_for_event(event=event, kind=Kind.ROUTED, departments=departments)


def _route_chain(event: ExceptionEvent, departments: list[Department]) -> None:
    existing = {step.position: step for step in event.steps.all()}
    new = []
    for position, department in enumerate(departments, start=1):
        status = StepStatus.PENDING if position == 1 else StepStatus.WAITING
        step = existing.get(position)
        if step is None:
            new.append(ApprovalStep(event=event, position=position, department=department, status=status))
        else:  # routed again after reopening or a rejection: the chain starts over
            step.department, step.status, step.decided_by, step.decided_at = department, status, None, None
            step.save(update_fields=["department", "status", "decided_by", "decided_at"])
    if new:
        bulk_create_with_history(new, ApprovalStep, default_change_reason="routed")
    _log(
        event,
        action=LogAction.ROUTED,
        comment=stored_text(
            texts.ROUTED_TO, departments=joined([both(d.name_zh, d.name_en) for d in departments], " → ")
        ),
        data={"mode": "chain", "departments": [d.code for d in departments]},
    )
    if departments:
        notifications.notifications_for_event(event=event, kind=Kind.STEP_PENDING, departments=departments[:1])


def _route_low(event: ExceptionEvent, departments: list[Department]) -> list[str]:
    action = event.rule.low_action
    if action == LowSeverityAction.AUTO_RESOLVE:
        reason = stored_text(texts.LOW_AUTO_RESOLVED, rule=event.rule.code)
        _log(event, action=LogAction.AUTO_ACTION, comment=reason, data={"low_action": action})
        event.status = EventStatus.RESOLVED
        event.closed_at = timezone.now()
        event.resolution, event.resolution_text = _plain_and_stored(reason)
        return ["status", "closed_at", "resolution", "resolution_text"]
    _log(
        event,
        action=LogAction.ROUTED,
        comment=stored_text(texts.REVIEW_QUEUE),
        data={"mode": "review", "low_action": action, "departments": [d.code for d in departments]},
    )
    if action == LowSeverityAction.NOTIFY:
        notifications.notifications_for_event(event=event, kind=Kind.ROUTED, departments=departments)
    return []


# --- actions ---------------------------------------------------------------------------------------
# Each action: lock the event → ask the policy (exceptions_center.policy; 403 with its reason) → validate →
# write (log with who acted for whom) → recompute the hold → notify on commit. ``on_behalf_of``: an
# administrator acting for that person, with ``reason`` saying why.


def exception_event_take(*, event: ExceptionEvent, user, on_behalf_of=None, reason: str = "") -> ExceptionEvent:
    """The user takes the event (assigns it to themself, or to the person an administrator acts for) and
    its open tasks of their departments."""
    with transaction.atomic():
        event = _lock(event.pk)
        decision = _authorise(user, "take", event, on_behalf_of=on_behalf_of, reason=reason)
        _require_active(event)
        assignee = on_behalf_of or user
        _assign(
            event, assignee=assignee, actor=user, action=LogAction.TAKEN, extra=_acting_data(decision, reason=reason)
        )
        return event


def exception_event_assign(
    *, event: ExceptionEvent, user, assignee, on_behalf_of=None, reason: str = ""
) -> ExceptionEvent:
    """Assign the event to a member of one of its departments; they are notified."""
    with transaction.atomic():
        event = _lock(event.pk)
        decision = _authorise(user, "assign", event, on_behalf_of=on_behalf_of, reason=reason)
        _require_active(event)
        if assignee is None or not assignee.is_active or not user_may_act_on_event(assignee, event):
            message = _("%(user)s is not a member of a department handling this exception.") % {
                "user": getattr(assignee, "username", "?")
            }
            raise DomainError.on_field("assignee", message)
        _assign(
            event, assignee=assignee, actor=user, action=LogAction.ASSIGNED, extra=_acting_data(decision, reason=reason)
        )
        if assignee.pk != user.pk:
            notifications.notifications_for_event(event=event, kind=Kind.ASSIGNED, users=[assignee])
        return event


def _assign(event: ExceptionEvent, *, assignee, actor, action: str, extra: dict | None = None) -> None:
    event.assignees.add(assignee)
    their_departments = user_department_ids(assignee) | set(sod.active_delegations(assignee))
    event.tasks.filter(status=TaskStatus.OPEN, assignee__isnull=True, department_id__in=their_departments).update(
        assignee=assignee
    )
    fields = []
    if event.status == EventStatus.OPEN:
        event.status = EventStatus.IN_PROGRESS
        fields.append("status")
    _save(event, user=actor, reason=action, fields=fields)
    _log(event, action=action, actor=actor, data={"assignee": assignee.get_username(), **(extra or {})})


def exception_event_comment(
    *, event: ExceptionEvent, user, comment: str, on_behalf_of=None, reason: str = ""
) -> EventLogEntry:
    """Add a comment to the event's log (its departments, and the owners of the source document)."""
    comment = _required(comment, "comment", _("Write a comment."))
    with transaction.atomic():
        event = _lock(event.pk)
        decision = _authorise(user, "comment", event, on_behalf_of=on_behalf_of, reason=reason)
        entry = _log(
            event, action=LogAction.COMMENTED, actor=user, comment=comment, data=_acting_data(decision, reason=reason)
        )
        _save(event, user=user, reason="comment", fields=[])
        return entry


def exception_event_attach(
    *, event: ExceptionEvent, user, attachment, comment: str = "", on_behalf_of=None, reason: str = ""
) -> EventLogEntry:
    """Attach a piece of evidence (a file) to the event's log.

    The file must pass the attachment checks (type by extension and content, size: ``erp.kernel.files``);
    it is stored as an ``erp.Attachment`` of the event (a file of the same name is its next version) and
    downloaded only by those who may view the event.
    """
    if not attachment:
        raise DomainError.on_field("attachment", _("Choose a file to attach."))
    with transaction.atomic():
        event = _lock(event.pk)
        decision = _authorise(user, "attach", event, on_behalf_of=on_behalf_of, reason=reason)
        stored = attachment_add(owner=event, upload=attachment, user=user, field="attachment")
        entry = _log(
            event,
            action=LogAction.ATTACHED,
            actor=user,
            comment=(comment or "").strip(),
            attachment=stored,
            data={"filename": stored.original_name, "version": stored.version, **_acting_data(decision, reason=reason)},
        )
        _save(event, user=user, reason="attachment", fields=[])
        return entry


def handling_task_complete(
    *, task: HandlingTask, user, comment: str = "", on_behalf_of=None, reason: str = ""
) -> HandlingTask:
    """A member of the task's department marks it done; the last task done resolves the event (and
    releases the hold). An owner of the source may not complete the owning department's task nor the
    last open one (exceptions_center.policy)."""
    with transaction.atomic():
        event = _lock(task.event_id)
        task = HandlingTask.objects.select_for_update().select_related("department").get(pk=task.pk)
        task.event = event
        decision = _authorise(user, "complete_task", task, on_behalf_of=on_behalf_of, reason=reason)
        _require_active(event)
        if task.status != TaskStatus.OPEN:
            raise DomainError(_("This task is already closed."), code="task_closed")
        task.status, task.closed_at, task.closed_by = TaskStatus.DONE, timezone.now(), user
        task.comment = (comment or "").strip()
        task.assignee = task.assignee or on_behalf_of or user
        task._history_user = user
        task.save(update_fields=["status", "closed_at", "closed_by", "comment", "assignee"])
        _log(
            event,
            action=LogAction.TASK_DONE,
            actor=user,
            comment=task.comment,
            data={"department": task.department.code, **_acting_data(decision, reason=reason)},
        )
        if event.tasks.filter(status=TaskStatus.OPEN).exists():
            fields = []
            if event.status == EventStatus.OPEN:
                event.status = EventStatus.IN_PROGRESS
                fields.append("status")
            _save(event, user=user, reason="task done", fields=fields)
        else:
            resolution = stored_text(texts.TASKS_ALL_DONE)
            _close(event, status=EventStatus.RESOLVED, user=user, resolution=resolution)
            _log(event, action=LogAction.RESOLVED, actor=user, comment=resolution)
            _hold_refresh(event)
            notifications.notifications_for_event(
                event=event, kind=Kind.RESOLVED, departments=route_departments(event.rule), exclude=user
            )
        return task


def _lock_step(step: ApprovalStep, event: ExceptionEvent) -> ApprovalStep:
    step = ApprovalStep.objects.select_for_update().select_related("department").get(pk=step.pk)
    step.event = event
    return step


def approval_step_approve(
    *, step: ApprovalStep, user, comment: str = "", on_behalf_of=None, reason: str = ""
) -> ApprovalStep:
    """Approve the pending step: the next one becomes pending, or the last approval resolves the event.
    Maker-checker: a member of the step's department who approved no other step of the chain and does
    not own the source; the approver (and whom they acted for) is stored on the step."""
    with transaction.atomic():
        event = _lock(step.event_id)
        step = _lock_step(step, event)
        decision = _authorise(user, "approve_step", step, on_behalf_of=on_behalf_of, reason=reason)
        _require_active(event)
        if step.status != StepStatus.PENDING:
            raise DomainError(_("This approval step is not awaiting a decision."), code="step_not_pending")
        step.status, step.decided_by, step.decided_at = StepStatus.APPROVED, user, timezone.now()
        step.decided_for = decision.acting_for
        step.comment = (comment or "").strip()
        step._history_user = user
        step.save(update_fields=["status", "decided_by", "decided_for", "decided_at", "comment"])
        _log(
            event,
            action=LogAction.APPROVED,
            actor=user,
            comment=step.comment,
            data={
                "position": step.position,
                "department": step.department.code,
                **_acting_data(decision, reason=reason),
            },
        )
        next_step = (
            event.steps.select_for_update()
            .select_related("department")
            .filter(status=StepStatus.WAITING)
            .order_by("position")
            .first()
        )
        if next_step is not None:
            next_step.status = StepStatus.PENDING
            next_step._history_user = user
            next_step.save(update_fields=["status"])
            fields = []
            if event.status == EventStatus.OPEN:
                event.status = EventStatus.IN_PROGRESS
                fields.append("status")
            _save(event, user=user, reason="approved", fields=fields)
            notifications.notifications_for_event(
                event=event, kind=Kind.STEP_PENDING, departments=[next_step.department]
            )
        else:
            resolution = stored_text(texts.CHAIN_APPROVED)
            _close(event, status=EventStatus.RESOLVED, user=user, resolution=resolution)
            _log(event, action=LogAction.RESOLVED, actor=user, comment=resolution)
            _hold_refresh(event)
            notifications.notifications_for_event(
                event=event, kind=Kind.RESOLVED, departments=route_departments(event.rule), exclude=user
            )
        return step


def approval_step_reject(*, step: ApprovalStep, user, reason: str, on_behalf_of=None) -> ApprovalStep:
    """Reject the pending step: the chain ends (later steps skipped) and the event becomes ``rejected``,
    still active, so its order stays held until the event is handled again (reopened) or waived."""
    reason = _required(reason, "reason", _("Say why you reject."))
    with transaction.atomic():
        event = _lock(step.event_id)
        step = _lock_step(step, event)
        decision = _authorise(user, "reject_step", step, on_behalf_of=on_behalf_of, reason=reason)
        _require_active(event)
        if step.status != StepStatus.PENDING:
            raise DomainError(_("This approval step is not awaiting a decision."), code="step_not_pending")
        step.status, step.decided_by, step.decided_at, step.comment = StepStatus.REJECTED, user, timezone.now(), reason
        step.decided_for = decision.acting_for
        step._history_user = user
        step.save(update_fields=["status", "decided_by", "decided_for", "decided_at", "comment"])
        event.steps.filter(status=StepStatus.WAITING).update(status=StepStatus.SKIPPED)
        event.status = EventStatus.REJECTED
        event.resolution, event.resolution_text = reason, {}
        _save(event, user=user, reason="rejected", fields=["status", "resolution", "resolution_text"])
        _log(
            event,
            action=LogAction.REJECTED,
            actor=user,
            comment=reason,
            data={
                "position": step.position,
                "department": step.department.code,
                **_acting_data(decision, reason=reason),
            },
        )
        _hold_refresh(event)
        notifications.notifications_for_event(
            event=event, kind=Kind.REJECTED, departments=route_departments(event.rule), exclude=user
        )
        return step


def _check_version(event: ExceptionEvent, version) -> None:
    if version is not None and int(version) != event.version:
        raise DomainError(
            _("The exception changed while you were reading it; review it again before signing."),
            code="stale_version",
            details={"version": event.version},
        )


def _sign(
    event: ExceptionEvent, *, user, decision: Decision, password: str, meaning: str, reason: str, version
) -> dict:
    """The decider's own electronic signature on the event as it is now; what the log keeps of it."""

    if meaning not in WAIVE_MEANINGS:
        message = _("Choose the meaning of your signature.")
        raise DomainError(message, code="signature_invalid", fields={"meaning": [message]})
    signature = signature_create(
        user=user,
        password=password,
        meaning=meaning,
        record=event,
        reason=_signature_reason(reason, decision),
        acting_user=user,
    )
    return {
        "signature_id": signature.pk,
        "meaning": signature.meaning,
        "printed_name": signature.printed_name,
        "record_version": signature.record_version,
        "record_hash": signature.record_hash,
    }


def exception_event_resolve(
    *,
    event: ExceptionEvent,
    user,
    reason: str,
    password: str = "",
    meaning: str = SignatureMeaning.APPROVAL,
    version: int | None = None,
    on_behalf_of=None,
) -> ExceptionEvent:
    """Resolve the event with a reason: open tasks are cancelled, undecided steps skipped, hold released.
    Only the owning department decides, never an owner of the source; a compliance or quality event
    only with the decider's electronic signature (password, meaning, the version reviewed)."""
    reason = _required(reason, "reason", _("Say how the exception was resolved."))
    return _decide(
        event=event,
        user=user,
        action="resolve",
        reason=reason,
        password=password,
        meaning=meaning,
        version=version,
        on_behalf_of=on_behalf_of,
    )


def exception_event_waive(
    *,
    event: ExceptionEvent,
    user,
    reason: str,
    password: str = "",
    meaning: str = SignatureMeaning.WAIVER,
    version: int | None = None,
    on_behalf_of=None,
) -> ExceptionEvent:
    """Waive the event (accept it as it is) with a reason. Only the owning department decides, never an
    owner of the source. Compliance and quality events also need the decider's own electronic signature:
    the password re-entered and a meaning, bound to the event version the user saw (``version``); a wrong
    password, a stale version or the wrong signer changes nothing."""
    reason = _required(reason, "reason", _("Say why the exception is waived."))
    return _decide(
        event=event,
        user=user,
        action="waive",
        reason=reason,
        password=password,
        meaning=meaning,
        version=version,
        on_behalf_of=on_behalf_of,
    )


# What closing an event by a person's decision does, per action: the status it ends in, its log entry and
# its notification.
_DECISIONS = {
    "resolve": (EventStatus.RESOLVED, LogAction.RESOLVED, Kind.RESOLVED),
    "waive": (EventStatus.WAIVED, LogAction.WAIVED, Kind.WAIVED),
}


def _decide(*, event, user, action: str, reason: str, password, meaning, version, on_behalf_of) -> ExceptionEvent:
    """Resolve or waive: lock, ask the policy, check the version, sign when the policy says so, close the
    open work and the event, log, recompute the hold, notify the route (one transaction)."""
    status, log_action, kind = _DECISIONS[action]
    with transaction.atomic():
        event = _lock(event.pk)
        decision = _authorise(user, action, event, on_behalf_of=on_behalf_of, reason=reason)
        _require_active(event)
        _check_version(event, version)
        data = _acting_data(decision, reason=reason)
        if decision.needs_signature:
            data.update(
                _sign(
                    event,
                    user=user,
                    decision=decision,
                    password=password,
                    meaning=meaning,
                    reason=reason,
                    version=version,
                )
            )
        _close_open_work(event, user=user, comment=reason)
        _close(event, status=status, user=user, resolution=reason)
        _log(event, action=log_action, actor=user, comment=reason, data=data)
        _hold_refresh(event)
        notifications.notifications_for_event(
            event=event, kind=kind, departments=route_departments(event.rule), exclude=user
        )
        return event


def exception_event_reopen(*, event: ExceptionEvent, user, reason: str, on_behalf_of=None) -> ExceptionEvent:
    """Reopen a closed or rejected event (the owning department): it becomes open, holds its order again
    and is routed again (a new round of tasks or a fresh approval chain) after commit."""
    reason = _required(reason, "reason", _("Say why the exception is reopened."))
    with transaction.atomic():
        event = _lock(event.pk)
        decision = _authorise(user, "reopen", event, on_behalf_of=on_behalf_of, reason=reason)
        if event.status in (EventStatus.OPEN, EventStatus.IN_PROGRESS):
            raise DomainError(_("Exception %(number)s is still open.") % {"number": event.number}, code="event_open")
        event.status = EventStatus.OPEN
        event.closed_at = None
        event.closed_by = None
        event.resolution, event.resolution_text = "", {}
        event.dispatch_state = DispatchState.PENDING
        _save(
            event,
            user=user,
            reason=reason,
            fields=["status", "closed_at", "closed_by", "resolution", "resolution_text", "dispatch_state"],
        )
        _log(event, action=LogAction.REOPENED, actor=user, comment=reason, data=_acting_data(decision, reason=reason))
        _hold_refresh(event)
        exception_event_route_on_commit(event=event)
        return event


# --- periodic work ---------------------------------------------------------------------------------


def exception_events_mark_overdue(*, now=None, limit: int = 500) -> int:
    """Mark active events past their SLA due time as overdue (once), log it, and notify the managers
    of the route's departments (or the sales managers when none is named)."""
    now = now or timezone.now()
    User = get_user_model()
    with transaction.atomic():
        events = list(
            ExceptionEvent.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("rule")
            .filter(status__in=ACTIVE_STATUSES, is_overdue=False, sla_due_at__lt=now)
            .order_by("sla_due_at")[:limit]
        )
        for event in events:
            event.is_overdue = True
            _save(event, user=None, reason="overdue", fields=["is_overdue"])
            _log(event, action=LogAction.OVERDUE, data={"sla_due_at": event.sla_due_at.isoformat()})
            department_ids = event_department_ids(event)
            managers = list(User.objects.filter(managed_departments__in=department_ids, is_active=True).distinct())
            if not managers:
                managers = list(User.objects.filter(groups__name="sales_manager", is_active=True).distinct())
            notifications.notifications_for_event(event=event, kind=Kind.OVERDUE, users=managers)
    return len(events)


def exception_events_review_digest(*, limit_per_department: int = 50) -> int:
    """Send each department one digest listing its low-severity events awaiting review (in-app and
    e-mail to its members). Returns the number of departments notified."""
    events = list(
        ExceptionEvent.objects.filter(severity=Severity.LOW, status__in=ACTIVE_STATUSES)
        .select_related("rule")
        .prefetch_related("rule__route_steps__department")
        .order_by("raised_at")
    )
    defaults = {d.code: d for d in Department.objects.all()}
    by_department: dict[int, list[ExceptionEvent]] = defaultdict(list)
    departments: dict[int, Department] = {}
    for event in events:
        route = [step.department for step in event.rule.route_steps.all()]
        if not route:
            default = defaults.get(DEFAULT_DEPARTMENT_BY_CATEGORY.get(event.rule.category, "sales_management"))
            route = [default] if default else []
        for department in route:
            departments[department.pk] = department
            by_department[department.pk].append(event)
    with transaction.atomic():
        for department_id, listed in by_department.items():
            department = departments[department_id]
            lines = [
                stored_text(
                    texts.DIGEST_LINE, number=e.number, source=e.source_label, message=both(e.message_zh, e.message_en)
                )
                for e in listed[:limit_per_department]
            ]
            if len(listed) > limit_per_department:
                lines.append(stored_text(texts.DIGEST_MORE, count=len(listed) - limit_per_department))
            notifications.notifications_create(
                kind=Kind.REVIEW_DIGEST,
                title=stored_text(
                    texts.DIGEST_TITLE,
                    department=both(department.name_zh, department.name_en),
                    count=len(listed),
                    kind=stored_text(texts.KIND_LABELS[Kind.REVIEW_DIGEST]),
                ),
                body=stored_text(texts.DIGEST_BODY, lines=joined(lines, "\n")),
                url=f"/exceptions-center/?severity=low&department={department.code}",
                recipients=notifications.recipients_for(departments=[department]),
                payload={
                    "kind": Kind.REVIEW_DIGEST,
                    "department": department.code,
                    "events": [e.number for e in listed],
                },
                webhooks=False,
            )
    return len(by_department)
