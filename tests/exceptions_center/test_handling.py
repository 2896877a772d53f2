"""Routing by severity, the handling actions and who may take them, signatures on waivers, SLA."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from erp.kernel.errors import DomainError, PermissionDenied
from erp.models import ElectronicSignature
from erp.signatures import signature_verify
from exceptions_center.models import (
    Channel,
    DispatchState,
    EventLogEntry,
    EventStatus,
    ExceptionEvent,
    HandlingTask,
    LogAction,
    Notification,
    StepStatus,
    TaskStatus,
)
from exceptions_center.services import handling
from tests.conftest import PASSWORD
from tests.exceptions_center.factories import event_for, rule_with_route
from tests.orders.factories import SalesOrderFactory

pytestmark = pytest.mark.django_db


# --- high: parallel tasks ----------------------------------------------------------------------------


def test_route_high_creates_one_task_per_department_together(high_event):
    # given a high event routed after commit (fixture)
    # then one open task per department of the route, the routing logged and done
    tasks = list(high_event.tasks.order_by("department__code").values_list("department__code", "status"))
    assert tasks == [("compliance", TaskStatus.OPEN), ("quality", TaskStatus.OPEN)]
    assert high_event.dispatch_state == DispatchState.DONE
    assert high_event.sla_due_at is not None
    assert high_event.log.filter(action=LogAction.ROUTED).count() == 1


def test_route_is_idempotent(high_event):
    # when the routing task runs again (sweeper, redelivery), even with its state forced back to pending
    handling.exception_event_route(event_id=high_event.pk)
    ExceptionEvent.objects.filter(pk=high_event.pk).update(dispatch_state=DispatchState.PENDING)
    handling.exception_event_route(event_id=high_event.pk)
    # then nothing is created twice
    assert HandlingTask.objects.filter(event=high_event).count() == 2


def test_high_event_resolves_when_every_task_is_done(high_event, compliance_user, quality_user):
    compliance_task = high_event.tasks.get(department__code="compliance")
    quality_task = high_event.tasks.get(department__code="quality")
    # when the first department completes
    handling.handling_task_complete(task=compliance_task, user=compliance_user, comment="licence checked")
    high_event.refresh_from_db()
    # then the event is still active
    assert high_event.status == EventStatus.IN_PROGRESS
    # when the last one completes
    handling.handling_task_complete(task=quality_task, user=quality_user)
    high_event.refresh_from_db()
    # then it is resolved, by the last actor
    assert high_event.status == EventStatus.RESOLVED
    assert high_event.closed_by == quality_user
    assert list(high_event.log.values_list("action", flat=True)).count(LogAction.TASK_DONE) == 2


def test_task_of_another_department_refused(high_event, quality_user):
    compliance_task = high_event.tasks.get(department__code="compliance")
    with pytest.raises(PermissionDenied):
        handling.handling_task_complete(task=compliance_task, user=quality_user)
    compliance_task.refresh_from_db()
    assert compliance_task.status == TaskStatus.OPEN


# --- medium: approval chain --------------------------------------------------------------------------


def test_route_medium_builds_the_chain_in_order(medium_event):
    steps = list(medium_event.steps.values_list("position", "department__code", "status"))
    assert steps == [(1, "sales_management", StepStatus.PENDING), (2, "finance", StepStatus.WAITING)]


def test_approving_moves_to_the_next_step_and_the_last_resolves(medium_event, manager_user, make_user):
    finance = make_user("finance")
    first, second = medium_event.steps.order_by("position")
    # when the first step is approved
    handling.approval_step_approve(step=first, user=manager_user, comment="ok")
    second.refresh_from_db()
    # then the next becomes pending
    assert second.status == StepStatus.PENDING
    # and finance is notified
    assert Notification.objects.filter(event=medium_event, kind="exception.step_pending", recipient=finance).exists()
    # when the last approves
    handling.approval_step_approve(step=second, user=finance)
    medium_event.refresh_from_db()
    assert medium_event.status == EventStatus.RESOLVED


def test_finance_cannot_decide_before_its_turn(medium_event, make_user):
    finance = make_user("finance")
    second = medium_event.steps.get(position=2)
    with pytest.raises(DomainError) as exc:
        handling.approval_step_approve(step=second, user=finance)
    assert exc.value.code == "step_not_pending"


def test_reject_needs_a_reason_and_changes_nothing_without(medium_event, manager_user):
    first = medium_event.steps.get(position=1)
    with pytest.raises(DomainError) as exc:
        handling.approval_step_reject(step=first, user=manager_user, reason="  ")
    assert "reason" in exc.value.fields
    first.refresh_from_db()
    assert first.status == StepStatus.PENDING


def test_reject_ends_the_chain_and_keeps_the_event_active(medium_event, manager_user):
    first = medium_event.steps.get(position=1)
    # when the first approver rejects
    handling.approval_step_reject(step=first, user=manager_user, reason="price too low for this customer")
    medium_event.refresh_from_db()
    # then the event is rejected (still active), later steps skipped, the reason recorded
    assert medium_event.status == EventStatus.REJECTED
    assert medium_event.is_active
    assert medium_event.resolution == "price too low for this customer"
    assert medium_event.steps.get(position=2).status == StepStatus.SKIPPED
    assert medium_event.log.filter(action=LogAction.REJECTED, comment__contains="price too low").exists()


# --- the order's hold ---------------------------------------------------------------------------------


def test_rejection_keeps_the_order_held_and_resolution_releases_it(route, manager_user):
    # given a held order with a blocking medium event on it
    order = SalesOrderFactory()
    rule = rule_with_route("sales_management", category="business", severity="medium", blocking=True)
    event = route(event_for(rule, source=order))
    from orders.services import order_hold_refresh

    order_hold_refresh(source=order)
    order.refresh_from_db()
    assert order.is_held
    # when the approval is rejected
    handling.approval_step_reject(step=event.steps.get(), user=manager_user, reason="no")
    order.refresh_from_db()
    # then the order stays held
    assert order.is_held
    # when a manager resolves the event
    handling.exception_event_resolve(event=event, user=manager_user, reason="customer agreed to list price")
    order.refresh_from_db()
    # then the hold is released at once
    assert not order.is_held
    # and reopening holds it again
    handling.exception_event_reopen(event=event, user=manager_user, reason="price changed again")
    order.refresh_from_db()
    assert order.is_held


# --- low severity ---------------------------------------------------------------------------------------


def test_low_auto_resolve_is_logged(route):
    rule = rule_with_route("sales", severity="low", low_action="auto_resolve", blocking=False)
    event = route(event_for(rule))
    assert event.status == EventStatus.RESOLVED
    assert event.log.filter(action=LogAction.AUTO_ACTION).exists()


def test_low_notify_notifies_and_stays_for_review(route, sales_user):
    rule = rule_with_route("sales", severity="low", low_action="notify", blocking=False)
    event = route(event_for(rule))
    assert event.status == EventStatus.OPEN
    assert Notification.objects.filter(event=event, recipient=sales_user, channel=Channel.IN_APP).exists()


def test_low_review_queue_daily_digest(route, sales_user, django_capture_on_commit_callbacks):
    # given two low events in the sales review queue (a rule the sales department owns), one already handled
    from exceptions_center.models import Department

    rule = rule_with_route(
        "sales",
        severity="low",
        low_action="review_queue",
        blocking=False,
        owner_department=Department.objects.get(code="sales"),
    )
    waiting = route(event_for(rule))
    done = route(event_for(rule))
    handling.exception_event_resolve(event=done, user=sales_user, reason="checked")
    assert not Notification.objects.filter(event=waiting).exists()
    # when the daily digest runs
    with django_capture_on_commit_callbacks(execute=True):
        departments = handling.exception_events_review_digest()
    # then the sales department's members get one digest listing the waiting event only
    assert departments == 1
    digest = Notification.objects.get(kind="exception.review_digest", recipient=sales_user, channel=Channel.IN_APP)
    assert waiting.number in digest.body
    assert done.number not in digest.body
    assert digest.dispatch_state == DispatchState.DONE


# --- actions and who may take them -----------------------------------------------------------------------


def test_take_assigns_to_self_and_the_open_task(high_event, compliance_user):
    handling.exception_event_take(event=high_event, user=compliance_user)
    high_event.refresh_from_db()
    assert list(high_event.assignees.all()) == [compliance_user]
    assert high_event.status == EventStatus.IN_PROGRESS
    assert high_event.tasks.get(department__code="compliance").assignee == compliance_user
    assert high_event.tasks.get(department__code="quality").assignee is None


def test_assign_only_to_a_member_of_the_route(high_event, compliance_user, quality_user, warehouse_user):
    handling.exception_event_assign(event=high_event, user=compliance_user, assignee=quality_user)
    assert Notification.objects.filter(event=high_event, kind="exception.assigned", recipient=quality_user).exists()
    with pytest.raises(DomainError) as exc:
        handling.exception_event_assign(event=high_event, user=compliance_user, assignee=warehouse_user)
    assert "assignee" in exc.value.fields
    assert warehouse_user not in high_event.assignees.all()


def test_comment_and_attach_write_the_log(high_event, compliance_user):
    handling.exception_event_comment(event=high_event, user=compliance_user, comment="called the customer")
    handling.exception_event_attach(
        event=high_event,
        user=compliance_user,
        attachment=SimpleUploadedFile("licence.pdf", b"%PDF-1.4 licence", content_type="application/pdf"),
        comment="renewed licence",
    )
    entries = list(high_event.log.filter(actor=compliance_user).values_list("action", flat=True))
    assert entries == [LogAction.COMMENTED, LogAction.ATTACHED]
    assert high_event.log.get(action=LogAction.ATTACHED).attachment.original_name.endswith(".pdf")


def _actions(event, user, other):
    task = event.tasks.first()
    step = event.steps.first()
    yield "take", lambda: handling.exception_event_take(event=event, user=user)
    yield "assign", lambda: handling.exception_event_assign(event=event, user=user, assignee=other)
    yield "comment", lambda: handling.exception_event_comment(event=event, user=user, comment="x")
    yield (
        "attach",
        lambda: handling.exception_event_attach(event=event, user=user, attachment=SimpleUploadedFile("a.txt", b"a")),
    )
    yield "resolve", lambda: handling.exception_event_resolve(event=event, user=user, reason="x")
    yield "waive", lambda: handling.exception_event_waive(event=event, user=user, reason="x", password=PASSWORD)
    yield "reopen", lambda: handling.exception_event_reopen(event=event, user=user, reason="x")
    if task is not None:
        yield "complete", lambda: handling.handling_task_complete(task=task, user=user)
    if step is not None:
        yield "approve", lambda: handling.approval_step_approve(step=step, user=user)
        yield "reject", lambda: handling.approval_step_reject(step=step, user=user, reason="x")


@pytest.mark.parametrize("fixture", ["high_event", "medium_event"])
def test_every_action_refuses_the_wrong_user(request, fixture, warehouse_user, compliance_user):
    # given an event routed to other departments and a warehouse user outside them
    event = request.getfixturevalue(fixture)
    before = (event.version, event.status, EventLogEntry.objects.filter(event=event).count())
    refused = []
    # when the warehouse user tries every action
    for name, call in _actions(event, warehouse_user, compliance_user):
        with pytest.raises(PermissionDenied) as exc:
            call()
        assert exc.value.status_code == 403
        refused.append(name)
    # then each was refused and nothing changed
    assert "waive" in refused
    assert len(refused) >= 8
    event.refresh_from_db()
    assert (event.version, event.status, EventLogEntry.objects.filter(event=event).count()) == before
    assert not ElectronicSignature.objects.exists()


def test_department_manager_may_act_without_being_a_member(high_event, make_user):
    from exceptions_center.models import Department

    boss = make_user()  # no role at all
    Department.objects.get(code="quality").managers.add(boss)
    handling.exception_event_comment(event=high_event, user=boss, comment="on it")
    assert high_event.log.filter(actor=boss).exists()


def test_closed_event_refuses_resolve_and_reopen_restarts_routing(high_event, compliance_user):
    handling.exception_event_resolve(
        event=high_event, user=compliance_user, reason="fixed at source", password=PASSWORD, version=high_event.version
    )
    with pytest.raises(DomainError) as exc:
        handling.exception_event_resolve(event=high_event, user=compliance_user, reason="again")
    assert exc.value.code == "event_closed"
    assert set(high_event.tasks.values_list("status", flat=True)) == {TaskStatus.CANCELLED}


def test_reopen_routes_again_with_a_new_round(high_event, compliance_user, django_capture_on_commit_callbacks):
    handling.exception_event_resolve(
        event=high_event, user=compliance_user, reason="fixed", password=PASSWORD, version=high_event.version
    )
    with django_capture_on_commit_callbacks(execute=True):
        handling.exception_event_reopen(event=high_event, user=compliance_user, reason="came back")
    high_event.refresh_from_db()
    assert high_event.status == EventStatus.OPEN
    assert high_event.dispatch_state == DispatchState.DONE
    assert set(high_event.tasks.values_list("status", flat=True)) == {TaskStatus.OPEN}
    assert high_event.tasks.count() == 2


def test_cancel_open_work_for_the_engine(high_event, medium_event):
    handling.exception_event_cancel_open_work(event=high_event, reason="cause fixed")
    handling.exception_event_cancel_open_work(event=medium_event, reason="cause fixed")
    assert set(high_event.tasks.values_list("status", flat=True)) == {TaskStatus.CANCELLED}
    assert set(medium_event.steps.values_list("status", flat=True)) == {StepStatus.SKIPPED}


# --- waiving and signatures --------------------------------------------------------------------------------


def test_waive_compliance_event_with_wrong_password_changes_nothing(high_event, compliance_user):
    before = high_event.version
    with pytest.raises(DomainError) as exc:
        handling.exception_event_waive(
            event=high_event, user=compliance_user, reason="accepted", password="wrong", meaning="waiver"
        )
    assert exc.value.code == "signature_invalid"
    assert "password" in exc.value.fields
    high_event.refresh_from_db()
    assert (high_event.status, high_event.version) == (EventStatus.OPEN, before)
    assert not ElectronicSignature.objects.exists()


def test_waive_compliance_event_needs_a_signature_bound_to_the_version(high_event, compliance_user):
    # given the version the officer reviewed
    seen_version = high_event.version
    # when they waive with their password and a meaning
    handling.exception_event_waive(
        event=high_event,
        user=compliance_user,
        reason="licence renewal filed; risk accepted",
        password=PASSWORD,
        meaning="waiver",
        version=seen_version,
    )
    high_event.refresh_from_db()
    signature = ElectronicSignature.objects.get()
    # then the event is waived, and the signature names the signer, meaning and the version signed
    assert high_event.status == EventStatus.WAIVED
    assert (signature.signer, signature.meaning, signature.record_version) == (compliance_user, "waiver", seen_version)
    entry = high_event.log.get(action=LogAction.WAIVED)
    assert entry.data["signature_id"] == signature.pk
    # and the signature verifies against the event as it was signed (its history row), not as it is now
    signed_state = high_event.history.filter(version=seen_version).first().instance
    assert signature_verify(signature=signature, record=signed_state)
    assert not signature_verify(signature=signature, record=high_event)


def test_waive_with_a_stale_version_is_refused(high_event, compliance_user):
    handling.exception_event_comment(event=high_event, user=compliance_user, comment="changed meanwhile")
    with pytest.raises(DomainError) as exc:
        handling.exception_event_waive(
            event=high_event, user=compliance_user, reason="x", password=PASSWORD, version=high_event.version
        )
    assert exc.value.code == "stale_version"
    assert not ElectronicSignature.objects.exists()


def test_waive_compliance_event_is_refused_to_a_sales_manager(high_event, manager_user):
    # given a sales manager, who may otherwise act in every queue
    before = high_event.version
    # when they try to sign away a compliance finding with a valid password
    with pytest.raises(PermissionDenied):
        handling.exception_event_waive(
            event=high_event, user=manager_user, reason="customer is important", password=PASSWORD, version=before
        )
    # then nothing is signed or changed
    high_event.refresh_from_db()
    assert (high_event.status, high_event.version) == (EventStatus.OPEN, before)
    assert not ElectronicSignature.objects.exists()


def test_waive_compliance_event_by_the_head_of_compliance(high_event, make_user):
    # given the head of compliance (the owning department) outside the compliance group
    from exceptions_center.models import Department

    head = make_user("auditor")
    Department.objects.get(code="compliance").managers.add(head)
    # when they waive it with their signature
    handling.exception_event_waive(
        event=high_event, user=head, reason="deviation assessed", password=PASSWORD, version=high_event.version
    )
    # then it is waived
    high_event.refresh_from_db()
    assert high_event.status == EventStatus.WAIVED


def test_waive_compliance_event_is_refused_to_the_head_of_another_department_on_its_route(high_event, make_user):
    # given the head of quality: quality is on the compliance event's route, but compliance owns it
    from exceptions_center.models import Department

    head = make_user("auditor")
    Department.objects.get(code="quality").managers.add(head)
    before = high_event.version
    # when they try to waive it with their signature
    with pytest.raises(PermissionDenied):
        handling.exception_event_waive(
            event=high_event, user=head, reason="deviation assessed", password=PASSWORD, version=before
        )
    # then nothing is signed or changed
    high_event.refresh_from_db()
    assert (high_event.status, high_event.version) == (EventStatus.OPEN, before)
    assert not ElectronicSignature.objects.exists()


def test_waive_business_event_needs_a_reason_not_a_signature(medium_event, manager_user):
    with pytest.raises(DomainError):
        handling.exception_event_waive(event=medium_event, user=manager_user, reason="")
    handling.exception_event_waive(event=medium_event, user=manager_user, reason="long-standing customer")
    medium_event.refresh_from_db()
    assert medium_event.status == EventStatus.WAIVED
    assert not ElectronicSignature.objects.exists()


# --- SLA ------------------------------------------------------------------------------------------------


def test_sla_scan_marks_overdue_once_and_notifies_the_managers(high_event, make_user, manager_user):
    from exceptions_center.models import Department

    quality_head = make_user("quality")
    Department.objects.get(code="quality").managers.add(quality_head)
    ExceptionEvent.objects.filter(pk=high_event.pk).update(sla_due_at=timezone.now() - timedelta(minutes=1))
    # when the scan runs twice
    assert handling.exception_events_mark_overdue() == 1
    assert handling.exception_events_mark_overdue() == 0
    high_event.refresh_from_db()
    # then the event is overdue, logged once, and the route department's manager notified
    assert high_event.is_overdue
    assert high_event.log.filter(action=LogAction.OVERDUE).count() == 1
    assert Notification.objects.filter(event=high_event, kind="exception.overdue", recipient=quality_head).exists()
    assert not Notification.objects.filter(event=high_event, kind="exception.overdue", recipient=manager_user).exists()


def test_sla_scan_falls_back_to_sales_managers(high_event, manager_user):
    ExceptionEvent.objects.filter(pk=high_event.pk).update(sla_due_at=timezone.now() - timedelta(minutes=1))
    handling.exception_events_mark_overdue()
    assert Notification.objects.filter(event=high_event, kind="exception.overdue", recipient=manager_user).exists()


# --- the source object leaves the business ------------------------------------------------------------------


def test_close_for_source_closes_only_that_sources_active_events_once(route, manager_user):
    # given two orders, each with an active routed event, and a resolved event on the first
    order, other = SalesOrderFactory(), SalesOrderFactory()
    rule = rule_with_route("sales_management", "finance", category="business", severity="medium", blocking=True)
    event = route(event_for(rule, source=order))
    closed = route(event_for(rule_with_route("compliance", severity="high"), source=order))
    handling.exception_event_resolve(event=closed, user=manager_user, reason="fixed")
    untouched = route(event_for(rule, source=other))

    # when the first order's events are closed
    result = handling.exception_events_close_for_source(source=order, reason="order cancelled", user=manager_user)

    # then only its active event is auto-resolved, with the reason logged and its steps skipped
    assert [e.pk for e in result] == [event.pk]
    event.refresh_from_db()
    assert event.status == EventStatus.AUTO_RESOLVED and event.resolution == "order cancelled"
    assert event.log.filter(action=LogAction.AUTO_RESOLVED, comment="order cancelled", actor=manager_user).exists()
    assert set(event.steps.values_list("status", flat=True)) == {StepStatus.SKIPPED}
    closed.refresh_from_db()
    untouched.refresh_from_db()
    assert closed.status == EventStatus.RESOLVED and untouched.status == EventStatus.OPEN
    # and a second call finds nothing left to close
    assert handling.exception_events_close_for_source(source=order, reason="again", user=manager_user) == []
