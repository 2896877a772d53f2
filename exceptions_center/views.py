"""Browser pages of the exception center: the queues (tabs with counts, filters, overdue first), the
event page (facts card, log, tasks or steps, the actions the user may take) and the notifications.

Thin over ``selectors`` (reads) and ``services.handling`` (every write and every permission check of
an action); a form shows a service's error next to its field.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import Http404, HttpResponseNotAllowed
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils.decorators import method_decorator
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View

from erp.kernel import policy
from erp.kernel.errors import DomainError, NotFoundOrForbidden, PermissionDenied, apply_to_form
from exceptions_center import selectors
from exceptions_center.facts_card import facts_card
from exceptions_center.filters import ExceptionEventFilterSet
from exceptions_center.forms import (
    AssignForm,
    AttachForm,
    CommentForm,
    ReopenForm,
    ResolveForm,
    StepDecisionForm,
    TaskCompleteForm,
    WaiveForm,
)
from exceptions_center.models import ACTIVE_STATUSES, StepStatus, TaskStatus
from exceptions_center.ports import source_pages
from exceptions_center.services import handling, notifications

PAGE_SIZE = 25
FILTER_FIELDS = ["q", "category", "severity", "status", "department", "assignee", "overdue"]
VIEW_PERMISSION = "exceptions_center.view_exceptionevent"


def _requires_view(view):
    return login_required(permission_required(VIEW_PERMISSION, raise_exception=True)(view))


@method_decorator(_requires_view, name="dispatch")
class EventQueueView(View):
    """The queue: tabs (my departments, assigned to me, all) with counts under the same filters."""

    def get(self, request):
        user = request.user
        department_ids = handling.user_department_ids(user)
        data = request.GET.copy()
        data.setdefault("status", "active")
        base = selectors.exception_event_list_visible_to(user=user)
        filterset = ExceptionEventFilterSet(data, queryset=base)
        filtered = filterset.qs if filterset.is_valid() else base.none()
        tab = request.GET.get("tab") or ("mine" if department_ids else "all")
        if tab == "mine":
            rows = filtered.filter(selectors.exception_events_in_departments_q(department_ids))
        elif tab == "assigned":
            rows = filtered.filter(assignees=user)
        else:
            tab = "all"
            rows = filtered
        counts = selectors.exception_event_tab_counts(queryset=filtered, user=user, department_ids=department_ids)
        tabs = [
            {"key": "mine", "label": _("My departments"), "count": counts["mine"]},
            {"key": "assigned", "label": _("Assigned to me"), "count": counts["assigned"]},
            {"key": "all", "label": _("All"), "count": counts["all"]},
        ]
        page_obj = Paginator(selectors.exception_events_ordered(rows), PAGE_SIZE).get_page(request.GET.get("page"))
        context = {
            "tabs": tabs,
            "tab": tab,
            "filter_form": filterset.form,
            "filter_fields": [filterset.form[name] for name in FILTER_FIELDS],
            "page_obj": page_obj,
            "rows": page_obj.object_list,
            "my_departments": handling.Department.objects.filter(pk__in=department_ids),
        }
        if request.htmx and request.htmx.target == "results":
            return render(request, "exceptions_center/_exceptionevent_results.html", context)
        return render(request, "exceptions_center/exceptionevent_list.html", context)


def _event_or_404(user, number):
    try:
        return selectors.exception_event_get(user=user, number=number)
    except NotFoundOrForbidden as exc:
        raise Http404 from exc


def _assign_candidates(event):
    department_ids = handling.event_department_ids(event)
    group_ids = list(handling.Department.objects.filter(pk__in=department_ids).values_list("group_id", flat=True))
    return (
        get_user_model()
        .objects.filter(Q(groups__in=group_ids) | Q(managed_departments__in=department_ids), is_active=True)
        .distinct()
        .order_by("username")
    )


def _source_url(event) -> str:
    """The page of the event's source: the URL name its app plugged into ``source_pages``, else
    ``<app>:<model>_detail``."""
    label = f"{event.source_type.app_label}.{event.source_type.model}"
    try:
        return reverse(
            source_pages.get(label) or f"{event.source_type.app_label}:{event.source_type.model}_detail",
            kwargs={"pk": event.source_id},
        )
    except NoReverseMatch:
        return ""


def _detail_context(request, event, bound: dict | None = None) -> dict:
    """Everything the event page shows; ``bound`` replaces a blank form by the one that failed. Each
    button is shown only when the one policy allows it (``erp.kernel.policy``); the services ask again."""
    user = request.user
    bound = bound or {}
    is_active = event.status in ACTIVE_STATUSES
    may = {action: policy.decide(user, action, event) for action in EVENT_ACTIONS}
    can_act = may["take"].allowed
    tasks = [
        {
            "task": task,
            "can_complete": is_active
            and task.status == TaskStatus.OPEN
            and policy.decide(user, "complete_task", task).allowed,
        }
        for task in event.tasks.all()
    ]
    steps = [
        {
            "step": step,
            "can_decide": is_active
            and step.status == StepStatus.PENDING
            and policy.decide(user, "approve_step", step).allowed,
            "can_reject": is_active
            and step.status == StepStatus.PENDING
            and policy.decide(user, "reject_step", step).allowed,
        }
        for step in event.steps.all()
    ]
    source_url = _source_url(event)
    signature_entries = [e for e in event.log.all() if e.data.get("signature_id")]
    signed = event.needs_signature_to_waive
    return {
        "event": event,
        "facts": facts_card(event.facts_snapshot),
        "source_url": source_url,
        "tasks": tasks,
        "steps": steps,
        "log": list(event.log.all()),
        "signature_entries": signature_entries,
        "can_act": can_act,
        "can_contribute": may["comment"].allowed,
        "can_resolve": may["resolve"].allowed,
        "can_waive": may["waive"].allowed,
        "can_reopen": may["reopen"].allowed,
        "decision_refused": may["resolve"].reason,
        "owner_department": event.rule.owner_department
        or handling.Department.objects.filter(code=event.rule.owner_department_code).first(),
        "is_active": is_active,
        "route": handling.route_departments(event.rule),
        "forms": {
            "assign": bound.get("assign") or AssignForm(candidates=_assign_candidates(event) if can_act else None),
            "comment": bound.get("comment") or CommentForm(),
            "attach": bound.get("attach") or AttachForm(),
            "resolve": bound.get("resolve") or ResolveForm(signature=signed, initial={"version": event.version}),
            "waive": bound.get("waive") or WaiveForm(signature=signed, initial={"version": event.version}),
            "reopen": bound.get("reopen") or ReopenForm(),
            "task": bound.get("task") or TaskCompleteForm(),
            "step": bound.get("step") or StepDecisionForm(),
        },
        "failed": next(iter(bound), ""),
    }


EVENT_ACTIONS = ("take", "comment", "resolve", "waive", "reopen")


@method_decorator(_requires_view, name="dispatch")
class EventDetailView(View):
    def get(self, request, number):
        event = _event_or_404(request.user, number)
        return render(request, "exceptions_center/exceptionevent_detail.html", _detail_context(request, event))


def _run(form, service, **kwargs):
    try:
        return service(**kwargs), True
    except ValidationError as exc:
        apply_to_form(form, DomainError.from_validation_error(exc))
    except DomainError as exc:
        form.domain_error = exc
        apply_to_form(form, exc)
    return None, False


# Lazy: translated when the message is added, in the language of that request (not at import).
ACTION_MESSAGES = {
    "take": gettext_lazy("You took the exception."),
    "assign": gettext_lazy("The exception was assigned."),
    "comment": gettext_lazy("Comment added."),
    "attach": gettext_lazy("Evidence attached."),
    "resolve": gettext_lazy("The exception was resolved."),
    "waive": gettext_lazy("The exception was waived."),
    "reopen": gettext_lazy("The exception was reopened."),
    "complete": gettext_lazy("Task marked done."),
    "approve": gettext_lazy("Approved."),
    "reject": gettext_lazy("Rejected; the chain ends here."),
}


# The policy action behind each button of the event page (complete / approve / reject act on a task or step).
PAGE_ACTIONS = {
    "take": "take",
    "assign": "assign",
    "comment": "comment",
    "attach": "attach",
    "resolve": "resolve",
    "waive": "waive",
    "reopen": "reopen",
    "complete": "complete_task",
    "approve": "approve_step",
    "reject": "reject_step",
}


def _refused_by_policy(request, event, action):
    """Ask the one policy before reading the form: a refused user gets the page back with the reason and
    403, whatever they posted; nothing changes. (The service asks again inside its transaction.)"""
    if action in ("complete", "approve", "reject"):
        related = event.tasks if action == "complete" else event.steps
        key = "task" if action == "complete" else "step"
        value = request.POST.get(key) or ""
        obj = related.filter(pk=int(value)).first() if value.isdigit() else None
        if obj is None:
            return None  # the form says the task or step does not belong to the event
        obj.event = event
    else:
        obj = event
    decision = policy.decide(request.user, PAGE_ACTIONS[action], obj)
    if decision.allowed:
        return None
    context = _detail_context(request, event)
    context["action_errors"] = [decision.reason]
    return render(request, "exceptions_center/exceptionevent_detail.html", context, status=403)


@_requires_view
def event_action(request, number, action):
    """POST one action of the event page; on an error the page comes back with the form's errors."""
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    if action not in ACTION_MESSAGES:
        raise Http404
    user = request.user
    event = _event_or_404(user, number)
    refused = _refused_by_policy(request, event, action)
    if refused is not None:
        return refused
    form_key, form, ok = action, None, False
    if action == "take":
        form = CommentForm()
        _result, ok = _run(form, handling.exception_event_take, event=event, user=user)
    elif action == "assign":
        form = AssignForm(request.POST, candidates=_assign_candidates(event))
        if form.is_valid():
            _result, ok = _run(
                form, handling.exception_event_assign, event=event, user=user, assignee=form.cleaned_data["assignee"]
            )
    elif action == "comment":
        form = CommentForm(request.POST)
        if form.is_valid():
            _result, ok = _run(
                form, handling.exception_event_comment, event=event, user=user, comment=form.cleaned_data["comment"]
            )
    elif action == "attach":
        form = AttachForm(request.POST, request.FILES)
        if form.is_valid():
            _result, ok = _run(
                form,
                handling.exception_event_attach,
                event=event,
                user=user,
                attachment=form.cleaned_data["attachment"],
                comment=form.cleaned_data["comment"],
            )
    elif action == "reopen":
        form = ReopenForm(request.POST)
        if form.is_valid():
            _result, ok = _run(
                form, handling.exception_event_reopen, event=event, user=user, reason=form.cleaned_data["reason"]
            )
    elif action in ("resolve", "waive"):
        form = (ResolveForm if action == "resolve" else WaiveForm)(
            request.POST, signature=event.needs_signature_to_waive
        )
        if form.is_valid():
            data = form.cleaned_data
            _result, ok = _run(
                form,
                handling.exception_event_resolve if action == "resolve" else handling.exception_event_waive,
                event=event,
                user=user,
                reason=data["reason"],
                password=data.get("password", ""),
                meaning=data.get("meaning", ""),
                version=data["version"],
            )
    elif action == "complete":
        form_key = "task"
        form = TaskCompleteForm(request.POST)
        task = event.tasks.filter(pk=request.POST.get("task") or 0).first() if form.is_valid() else None
        if task is not None:
            _result, ok = _run(
                form, handling.handling_task_complete, task=task, user=user, comment=form.cleaned_data["comment"]
            )
        elif form.is_bound and form.is_valid():
            form.add_error(None, _("This task does not belong to the exception."))
    else:  # approve / reject
        form_key = "step"
        form = StepDecisionForm(request.POST)
        step = event.steps.filter(pk=request.POST.get("step") or 0).first() if form.is_valid() else None
        if step is not None:
            if action == "approve":
                _result, ok = _run(
                    form, handling.approval_step_approve, step=step, user=user, comment=form.cleaned_data["comment"]
                )
            else:
                _result, ok = _run(
                    form, handling.approval_step_reject, step=step, user=user, reason=form.cleaned_data["comment"]
                )
        elif form.is_valid():
            form.add_error(None, _("This approval step does not belong to the exception."))
    if ok:
        messages.success(request, ACTION_MESSAGES[action])
        return redirect("exceptions_center:event_detail", number=event.number)
    event = _event_or_404(user, number)
    status = 403 if isinstance(getattr(form, "domain_error", None), PermissionDenied) else 400
    context = _detail_context(request, event, bound={form_key: form})
    context["action_errors"] = form.non_field_errors()
    return render(request, "exceptions_center/exceptionevent_detail.html", context, status=status)


@method_decorator(login_required, name="dispatch")
class NotificationListView(View):
    """The user's in-app notifications, unread first marked."""

    def get(self, request):
        page_obj = Paginator(selectors.notifications_for(user=request.user), PAGE_SIZE).get_page(
            request.GET.get("page")
        )
        for row in page_obj.object_list:
            row.kind_label = notifications.kind_label(row.kind)
        return render(request, "exceptions_center/notification_list.html", {"page_obj": page_obj})


@login_required
def notifications_read(request):
    """Mark one notification (``id``) or all of them read, then go to its link or back to the list."""
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    notification_id = request.POST.get("id")
    ids = [int(notification_id)] if notification_id and notification_id.isdigit() else None
    notifications.notifications_mark_read(user=request.user, notification_ids=ids)
    if ids:
        target = selectors.notifications_for(user=request.user).filter(pk=ids[0]).values_list("url", flat=True).first()
        if target and target.startswith("/"):
            return redirect(target)
    return redirect("exceptions_center:notification_list")
