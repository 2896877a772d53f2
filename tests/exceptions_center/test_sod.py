"""Segregation of duties: each hole found when the controls were tried with the demo users has a test
that failed before the fix (docs/controls.md)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone
from guardian.shortcuts import assign_perm

from erp.kernel import policy
from erp.kernel.errors import DomainError, PermissionDenied
from erp.models import ElectronicSignature
from erp.signatures import signature_create
from exceptions_center.models import (
    Delegation,
    Department,
    EventLogEntry,
    EventStatus,
    Rule,
    StepStatus,
    TaskStatus,
)
from exceptions_center.services import handling
from exceptions_center.services.rules import rule_save
from tests.conftest import PASSWORD
from tests.exceptions_center.factories import event_for, rule_with_route
from tests.orders.factories import SalesOrderFactory, customer_for

pytestmark = pytest.mark.django_db

RULES = "/api/v1/exceptions/rules/"


def _routed(event):
    handling.exception_event_route(event_id=event.pk)
    event.refresh_from_db()
    return event


def _unchanged(event, before_version):
    event.refresh_from_db()
    return event.version == before_version and event.is_active and not ElectronicSignature.objects.exists()


@pytest.fixture
def rep(make_user):
    return make_user("sales")


@pytest.fixture
def order(rep):
    """The rep's own order, which they see as the order services would let them (row scope)."""
    order = SalesOrderFactory(customer=customer_for(rep), sales_rep=rep, created_by=rep)
    assign_perm("orders.view_salesorder", rep, order)
    assign_perm("orders.change_salesorder", rep, order)
    return order


# --- 1. compliance and quality exceptions are decided by their department, with a signature --------------


def test_shipped_compliance_rules_route_compliance_events_to_compliance():
    # the data migration: shipped compliance rules go to compliance, not through the sales department
    for code in ("ORD-CUSTOMER-INACTIVE", "ORD-CUSTOMER-INCOMPLETE"):
        rule = Rule.objects.get(code=code)
        assert [s.department.code for s in rule.route_steps.all()] == ["compliance"]
        assert rule.shipped and rule.owner_department.code == "compliance"
    assert Rule.objects.get(code="TRC-TEMP-EXCURSION").owner_department.code == "quality"


@pytest.mark.parametrize("role", ["sales", "sales_manager", "logistics", "quality", "finance", "warehouse"])
def test_r30_only_compliance_waives_a_compliance_event_routed_through_other_departments(make_user, order, role):
    # given a compliance event whose route also names sales, sales management, logistics and quality
    rule = rule_with_route(
        "compliance", "sales", "sales_management", "logistics", "quality", category="compliance", severity="high"
    )
    event = _routed(event_for(rule, source=order))
    user = make_user(role)
    before = event.version
    # when another department on the route tries to waive it with a valid signature
    with pytest.raises(PermissionDenied):
        handling.exception_event_waive(event=event, user=user, reason="ok", password=PASSWORD, version=before)
    # then nothing is signed or changed
    assert _unchanged(event, before)


def test_r30_resolving_a_quality_event_needs_the_signature_of_quality(make_user, order):
    # given a quality event and a quality officer
    event = _routed(event_for(rule_with_route("quality", category="quality"), source=order))
    officer = make_user("quality")
    # when they resolve it without their password, it is refused and nothing changes
    with pytest.raises(DomainError) as exc:
        handling.exception_event_resolve(event=event, user=officer, reason="checked", version=event.version)
    assert exc.value.code == "signature_invalid"
    assert _unchanged(event, event.version)
    # when they sign, it is resolved with the signature in the log
    handling.exception_event_resolve(
        event=event, user=officer, reason="checked", password=PASSWORD, meaning="approval", version=event.version
    )
    event.refresh_from_db()
    assert event.status == EventStatus.RESOLVED
    assert event.log.get(action="resolved").data["signature_id"]


# --- 2. nobody decides their own case --------------------------------------------------------------------


def test_owner_rep_cannot_resolve_the_high_compliance_event_on_their_order(rep, order, api_client_for):
    # given the shipped-style compliance event on the rep's order, with a sales task on its route
    rule = rule_with_route("compliance", "sales", category="compliance", severity="high")
    event = _routed(event_for(rule, source=order))
    before = event.version
    # when the rep resolves it (API), then 403 and nothing changed
    response = api_client_for(rep).post(
        f"/api/v1/exceptions/events/{event.pk}/resolve/", {"reason": "done", "version": before}, format="json"
    )
    assert response.status_code == 403
    assert _unchanged(event, before)


def test_owner_of_the_source_may_not_decide_even_as_a_member_of_the_owning_department(make_user, order, rep):
    # given a business rule the sales department owns, on the rep's own order
    sales = Department.objects.get(code="sales")
    rule = rule_with_route("sales", category="business", severity="medium", owner_department=sales)
    event = _routed(event_for(rule, source=order))
    # when the rep resolves, waives or approves: refused; a colleague of the same department may
    for call in (
        lambda: handling.exception_event_resolve(event=event, user=rep, reason="fine"),
        lambda: handling.exception_event_waive(event=event, user=rep, reason="fine"),
        lambda: handling.approval_step_approve(step=event.steps.get(), user=rep),
    ):
        with pytest.raises(PermissionDenied):
            call()
    assert event.steps.get().status == StepStatus.PENDING
    handling.approval_step_approve(step=event.steps.get(), user=make_user("sales"))
    event.refresh_from_db()
    assert event.status == EventStatus.RESOLVED


def test_owner_rep_contributes_a_task_but_never_closes_the_event_with_the_last_one(rep, order, make_user):
    # given a high event with tasks for compliance and sales on the rep's order
    rule = rule_with_route("compliance", "sales", category="compliance", severity="high")
    event = _routed(event_for(rule, source=order))
    sales_task = event.tasks.get(department__code="sales")
    # when compliance is done first, the rep's sales task would close the event: refused
    handling.handling_task_complete(task=event.tasks.get(department__code="compliance"), user=make_user("compliance"))
    with pytest.raises(PermissionDenied):
        handling.handling_task_complete(task=sales_task, user=rep)
    sales_task.refresh_from_db()
    assert sales_task.status == TaskStatus.OPEN


# --- 3. maker-checker ---------------------------------------------------------------------------------------


def test_manager_cannot_complete_tasks_of_other_departments(make_user, order):
    # given a high event with tasks for quality and logistics, and a sales manager
    rule = rule_with_route("quality", "logistics", category="quality", severity="high")
    event = _routed(event_for(rule, source=order))
    manager = make_user("sales_manager")
    # when they complete either task: refused, both stay open
    for task in event.tasks.all():
        with pytest.raises(PermissionDenied):
            handling.handling_task_complete(task=task, user=manager)
    assert set(event.tasks.values_list("status", flat=True)) == {TaskStatus.OPEN}


def test_one_person_approves_at_most_one_step_of_a_chain(make_user, order):
    # given a chain sales management → finance and one person in both departments
    rule = rule_with_route("sales_management", "finance", category="business", severity="medium")
    event = _routed(event_for(rule, source=order))
    both = make_user("sales_manager", "finance")
    first, second = event.steps.order_by("position")
    # when they approve the first step, the approver is stored on it
    handling.approval_step_approve(step=first, user=both)
    first.refresh_from_db()
    assert first.decided_by == both
    # then the second step is refused to them and waits for someone else
    assert not policy.decide(both, "approve_step", second).allowed
    with pytest.raises(PermissionDenied):
        handling.approval_step_approve(step=second, user=both)
    second.refresh_from_db()
    assert second.status == StepStatus.PENDING
    handling.approval_step_approve(step=second, user=make_user("finance"))
    event.refresh_from_db()
    assert event.status == EventStatus.RESOLVED


# --- 4. administrators are no back door -------------------------------------------------------------------


def test_admin_acts_only_on_behalf_of_someone_with_a_reason(admin_user, make_user, order, api_client_for):
    # given a logistics event and a logistics officer on holiday
    event = _routed(event_for(rule_with_route("logistics", category="logistics"), source=order))
    officer = make_user("logistics")
    client = api_client_for(admin_user)
    url = f"/api/v1/exceptions/events/{event.pk}/resolve/"
    # when the admin resolves it alone: refused
    assert client.post(url, {"reason": "done"}, format="json").status_code == 403
    # when they name the officer but give no reason for acting: 400 on the reason
    event.refresh_from_db()
    response = client.post(url, {"reason": " ", "on_behalf_of": officer.pk}, format="json")
    assert response.status_code == 400
    # when they name the officer and say why: done, and the log says who acted for whom and why
    response = client.post(url, {"reason": "officer on leave, carrier confirmed", "on_behalf_of": officer.pk})
    assert response.status_code == 200, response.json()
    entry = EventLogEntry.objects.get(event=event, action="resolved")
    assert entry.actor == admin_user
    assert entry.data["on_behalf_of"] == officer.username
    assert entry.data["admin_reason"] == "officer on leave, carrier confirmed"


def test_r30_admin_cannot_sign_for_someone_else(admin_user, make_user, order, api_client_for):
    # given a compliance event and its officer
    event = _routed(event_for(rule_with_route("compliance", category="compliance"), source=order))
    officer = make_user("compliance")
    # when the admin waives it on the officer's behalf with the admin's own password
    response = api_client_for(admin_user).post(
        f"/api/v1/exceptions/events/{event.pk}/waive/",
        {"reason": "ok", "on_behalf_of": officer.pk, "password": PASSWORD, "version": event.version},
        format="json",
    )
    # then refused: nobody signs for someone else
    assert response.status_code == 403
    assert _unchanged(event, event.version)
    # and the signature service refuses a signer who is not the person acting
    with pytest.raises(PermissionDenied):
        signature_create(user=officer, password=PASSWORD, meaning="waiver", record=event, acting_user=admin_user)
    assert not ElectronicSignature.objects.exists()


# --- 5. delegation ----------------------------------------------------------------------------------------


def test_delegation_is_dated_within_the_department_and_shows_in_log_and_signature(make_user, order, api_client_for):
    # given the head of compliance going on holiday and a colleague covering
    compliance = Department.objects.get(code="compliance")
    head, cover = make_user("compliance"), make_user("compliance")
    compliance.managers.add(head)
    today = timezone.localdate()
    client = api_client_for(head)
    body = {
        "department": "compliance",
        "delegator": head.username,
        "delegate": cover.username,
        "valid_from": str(today),
        "valid_until": str(today + dt.timedelta(days=7)),
        "reason": "annual leave",
    }
    # when bad delegations are posted: refused with a clear 400, nothing recorded
    for bad in (
        {"delegate": head.username},  # to oneself
        {"delegate": make_user("quality").username},  # not a member of compliance
        {"valid_until": str(today - dt.timedelta(days=1))},  # ends before it starts
        {"reason": ""},
    ):
        assert client.post("/api/v1/exceptions/delegations/", {**body, **bad}, format="json").status_code == 400
    # a plain member of another department may not record one
    other = api_client_for(make_user("warehouse"))
    assert other.post("/api/v1/exceptions/delegations/", body, format="json").status_code == 403
    assert not Delegation.objects.exists()
    # when the head records it
    created = client.post("/api/v1/exceptions/delegations/", body, format="json")
    assert created.status_code == 201, created.json()
    delegation = Delegation.objects.get()
    assert delegation.history.count() == 1
    # then the colleague's signed waiver says on whose behalf, under which delegation
    event = _routed(event_for(rule_with_route("compliance", category="compliance"), source=order))
    handling.exception_event_waive(event=event, user=cover, reason="accepted", password=PASSWORD, version=event.version)
    entry = EventLogEntry.objects.get(event=event, action="waived")
    assert entry.data["delegation"] == delegation.pk and entry.data["on_behalf_of"] == head.username
    signature = ElectronicSignature.objects.get()
    assert signature.signer == cover
    assert f"D-{delegation.pk}" in signature.reason


# --- 6. rules, routes and SLA change only by compliance and admins, with a reason ---------------------------


@pytest.mark.parametrize("role", ["warehouse", "finance", "logistics", "quality", "sales_manager", "sales"])
def test_rules_cannot_be_changed_or_disabled_by_other_roles(make_user, api_client_for, role):
    # given a rule and a user of another role
    rule = Rule.objects.get(code="ORD-DUPLICATE")
    user = make_user(role)
    client = api_client_for(user)
    # when they change or disable it through the API
    for change in ({"sla_hours": 1}, {"enabled": False}):
        response = client.patch(f"{RULES}{rule.pk}/", change, format="json", HTTP_X_CHANGE_REASON="try")
        assert response.status_code == 403
    # or through the service directly
    rule.enabled = False
    with pytest.raises(PermissionDenied):
        rule_save(rule=rule, user=user, reason="try")
    # then nothing changed
    rule.refresh_from_db()
    assert rule.enabled and rule.sla_hours != 1
    assert not user.has_perm("exceptions_center.change_rule")
    assert not user.has_perm("exceptions_center.change_ruleroutestep")


def test_a_rule_change_needs_a_reason_and_keeps_it_in_the_history(make_user, api_client_for):
    rule = Rule.objects.get(code="ORD-DUPLICATE")
    client = api_client_for(make_user("compliance"))
    refused = client.patch(f"{RULES}{rule.pk}/", {"sla_hours": 12}, format="json")
    assert refused.status_code == 400 and "reason" in refused.json()["fields"]
    done = client.patch(f"{RULES}{rule.pk}/", {"sla_hours": 12}, format="json", HTTP_X_CHANGE_REASON="SLA review")
    assert done.status_code == 200
    assert rule.history.latest().history_change_reason == "SLA review"


def test_r30_disabling_a_shipped_compliance_rule_needs_a_signature(make_user, api_client_for):
    # given a shipped compliance rule and a compliance officer
    rule = Rule.objects.get(code="ORD-CUSTOMER-INCOMPLETE")
    officer = make_user("compliance")
    client = api_client_for(officer)
    url = f"{RULES}{rule.pk}/"
    # when they disable it without their signature, or with a wrong password: refused, still enabled
    for extra in ({}, {"password": "wrong", "meaning": "responsibility"}):
        response = client.patch(url, {"enabled": False, **extra}, format="json", HTTP_X_CHANGE_REASON="obsolete")
        assert response.status_code == 400
        assert response.json()["code"] == "signature_invalid"
    rule.refresh_from_db()
    assert rule.enabled and not ElectronicSignature.objects.exists()
    # when they sign: disabled, with their signature on the rule
    response = client.patch(
        url,
        {"enabled": False, "password": PASSWORD, "meaning": "responsibility"},
        format="json",
        HTTP_X_CHANGE_REASON="replaced by ORD-CUSTOMER-DOCS",
    )
    assert response.status_code == 200, response.json()
    rule.refresh_from_db()
    assert not rule.enabled
    signature = ElectronicSignature.objects.get()
    assert signature.signer == officer and signature.record_id == rule.pk


def test_rule_admin_is_closed_to_other_roles_and_departments_to_all_but_admins(make_user, client):
    rule = Rule.objects.get(code="ORD-DUPLICATE")
    quality = make_user("quality", is_staff=True)
    client.force_login(quality)
    page = client.get(f"/admin/exceptions_center/rule/{rule.pk}/change/")
    assert page.status_code == 200 and 'name="_save"' not in page.content.decode()  # read only
    response = client.post(f"/admin/exceptions_center/rule/{rule.pk}/change/", {"sla_hours": 1, "reason": "x"})
    assert response.status_code == 403
    rule.refresh_from_db()
    assert rule.sla_hours != 1
    compliance = make_user("compliance", is_staff=True)
    client.force_login(compliance)
    department = Department.objects.get(code="sales")
    response = client.post(f"/admin/exceptions_center/department/{department.pk}/change/", {"managers": []})
    assert response.status_code == 403
    assert not compliance.has_perm("exceptions_center.change_department")


def test_role_grants_and_users_are_closed_to_everyone_but_admins(make_user, client):
    # compliance officers work in the admin site, but may not grant roles or edit users
    officer = make_user("compliance", is_staff=True)
    client.force_login(officer)
    assert client.get("/admin/auth/group/").status_code == 403
    assert client.get("/admin/auth/user/").status_code == 403


def test_delegation_admin_records_through_the_service_with_its_checks(make_user, client):
    # given a compliance officer in the admin and two members of the quality department
    officer = make_user("compliance", is_staff=True)
    head, cover = make_user("quality"), make_user("quality")
    client.force_login(officer)
    today = timezone.localdate()
    data = {
        "department": Department.objects.get(code="quality").pk,
        "delegator": head.pk,
        "delegate": head.pk,
        "valid_from": str(today),
        "valid_until": str(today + dt.timedelta(days=3)),
        "reason": "training",
    }
    # when the form delegates to the same person: the error is shown, nothing recorded
    response = client.post("/admin/exceptions_center/delegation/add/", data)
    assert response.status_code == 200 and not Delegation.objects.exists()
    # when it is right: recorded with who recorded it
    response = client.post("/admin/exceptions_center/delegation/add/", {**data, "delegate": cover.pk})
    assert response.status_code == 302
    assert Delegation.objects.get().created_by == officer


def test_event_page_asks_the_policy_within_a_query_budget(make_user, order, client, django_assert_max_num_queries):
    # given a compliance event with five parallel tasks, opened by a compliance officer
    rule = rule_with_route(
        "compliance", "sales", "quality", "logistics", "finance", category="compliance", severity="high"
    )
    event = _routed(event_for(rule, source=order))
    client.force_login(make_user("compliance"))
    # when the page decides every button (measured: 36 queries; each task adds one)
    with django_assert_max_num_queries(40):
        response = client.get(f"/exceptions-center/events/{event.number}/")
    # then the officer gets the decision buttons and the help text saying who decides
    html = response.content.decode()
    assert response.status_code == 200
    assert 'data-testid="resolve"' in html and 'data-testid="who-decides"' in html
