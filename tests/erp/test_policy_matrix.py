"""The segregation-of-duties matrix, generated from the one policy and walked over HTTP.

For every action the policy answers on exception events, their tasks and approval steps
(``erp.kernel.policy.actions``), every role (plus the sales rep who owns the order) and every
category, a fresh event on the owner's order is built and the action is posted through the API or the
event page (each role × action goes through both, on alternating categories). Three things must agree:
the table below (docs/controls.md, "Who may do what"), the policy's ``decide``, and what HTTP does —
allowed: 2xx/3xx and the action happened (a log line); refused: 403 (or 404 where the row is not
visible) and nothing changed.
"""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from guardian.shortcuts import assign_perm

from erp.kernel import policy
from erp.roles import ROLES
from exceptions_center.models import Category, Department, EventLogEntry, EventStatus, ExceptionEvent, TaskStatus
from exceptions_center.services import handling
from tests.conftest import PASSWORD
from tests.exceptions_center.factories import event_for, rule_with_route
from tests.orders.factories import SalesOrderFactory, customer_for

pytestmark = pytest.mark.django_db

OWNER = "owner_rep"  # the sales rep who created and owns the order the event is about
PEOPLE = [*ROLES, OWNER]
CATEGORIES = list(Category.values)

# The role that sits in each category's owning department (default owners, exceptions_center.models).
OWNING_ROLE = {"compliance": "compliance", "quality": "quality", "business": "sales_manager", "logistics": "logistics"}


def expected(action: str, category: str) -> set[str]:
    """Who may do ``action`` on an event of ``category`` (docs/controls.md). High events are routed to the
    owning department and sales (parallel tasks); medium ones to sales management, then the owner (or
    finance for business events). Administrators act only on behalf of someone: alone, never."""
    owner_role = OWNING_ROLE[category]
    on_route = {owner_role, "sales", OWNER}
    table = {
        "take": on_route,
        "assign": on_route,
        "comment": on_route,
        "attach": on_route,
        "resolve": {owner_role},
        "waive": {owner_role},
        "reopen": {owner_role},
        "complete_task:owner": {owner_role},
        "complete_task:sales": {"sales", OWNER},
        "approve_step": {"sales_manager"},
        "reject_step": {"sales_manager"},
    }
    return table[action]


def matrix_actions() -> list[str]:
    """The actions to walk, generated from the policy; a task action is walked on both kinds of task."""
    found = []
    for label, action in policy.actions():
        if label == "exceptions_center.handlingtask":
            found += [f"{action}:owner", f"{action}:sales"]
        elif label in ("exceptions_center.exceptionevent", "exceptions_center.approvalstep"):
            found.append(action)
    return found


def test_the_matrix_covers_every_action_the_policy_answers_on_events():
    assert set(matrix_actions()) == {
        "take",
        "assign",
        "comment",
        "attach",
        "resolve",
        "waive",
        "reopen",
        "complete_task:owner",
        "complete_task:sales",
        "approve_step",
        "reject_step",
    }


@pytest.fixture
def people(make_user):
    users = {role: make_user(role) for role in ROLES}
    users["admin"].is_superuser = users["admin"].is_staff = True
    users["admin"].save()
    users[OWNER] = make_user("sales", username="owner_rep")
    return users


_made: dict = {}


def _event(category: str, action: str, owner, colleague=None) -> ExceptionEvent:
    """A routed event of ``category`` on the order ``owner`` created for their customer (one order and
    one rule per kind, a new detail key per event). The owner sees the order as the order services let
    them; ``colleague`` (the other sales rep, e.g. covering the customer) is given sight of it too, so the
    matrix tests what the policy lets them do, not the row scope (tests/erp/test_row_scope_walk.py)."""
    owner_code = Department.objects.get(code={"business": "sales_management"}.get(category, category)).code
    key = (owner.pk, "order")
    if key not in _made:
        _made.clear()
        _made[key] = SalesOrderFactory(customer=customer_for(owner), sales_rep=owner, created_by=owner)
        for rep in (owner, colleague):
            if rep is not None:
                assign_perm("orders.view_salesorder", rep, _made[key])
    order = _made[key]
    chain = action in ("approve_step", "reject_step")
    rule_key = (owner.pk, category, chain)
    if rule_key not in _made:
        if chain:
            second = "finance" if category == "business" else owner_code
            _made[rule_key] = rule_with_route("sales_management", second, category=category, severity="medium")
        else:
            _made[rule_key] = rule_with_route(owner_code, "sales", category=category, severity="high")
    _made["n"] = _made.get("n", 0) + 1
    event = event_for(_made[rule_key], source=order, detail_key=f"cell-{_made['n']}")
    handling.exception_event_route(event_id=event.pk)
    event.refresh_from_db()
    if action == "reopen":
        event.status = EventStatus.RESOLVED
        event.save(update_fields=["status"])
    return event


def _target(event: ExceptionEvent, action: str):
    if action.startswith("complete_task"):
        department = "sales" if action.endswith(":sales") else event.rule.owner_department_code
        return event.tasks.get(department__code=department)
    if action in ("approve_step", "reject_step"):
        return event.steps.get(position=1)
    return event


def _api_call(client, event: ExceptionEvent, action: str, user):
    base = f"/api/v1/exceptions/events/{event.pk}/"
    signed = {"password": PASSWORD, "version": event.version}
    if action.startswith("complete_task"):
        return client.post(f"{base}tasks/{_target(event, action).pk}/complete/", {"comment": "done"}, format="json")
    if action == "approve_step":
        return client.post(f"{base}steps/{_target(event, action).pk}/approve/", {"comment": "ok"}, format="json")
    if action == "reject_step":
        return client.post(f"{base}steps/{_target(event, action).pk}/reject/", {"reason": "no"}, format="json")
    if action == "attach":
        upload = SimpleUploadedFile("evidence.txt", b"evidence", content_type="text/plain")
        return client.post(f"{base}attach/", {"attachment": upload, "comment": "file"}, format="multipart")
    body = {
        "take": {},
        "assign": {"assignee": user.pk},
        "comment": {"comment": "noted"},
        "resolve": {"reason": "fixed", **signed},
        "waive": {"reason": "accepted", **signed},
        "reopen": {"reason": "came back"},
    }[action]
    return client.post(f"{base}{action}/", body, format="json")


def _page_call(client, event: ExceptionEvent, action: str, user):
    base = f"/exceptions-center/events/{event.number}/"
    signed = {"password": PASSWORD, "version": event.version, "meaning": "approval"}
    if action.startswith("complete_task"):
        return client.post(f"{base}complete/", {"task": _target(event, action).pk, "comment": "done"})
    if action in ("approve_step", "reject_step"):
        page_action = "approve" if action == "approve_step" else "reject"
        return client.post(f"{base}{page_action}/", {"step": _target(event, action).pk, "comment": "no"})
    if action == "attach":
        upload = SimpleUploadedFile("evidence.txt", b"evidence", content_type="text/plain")
        return client.post(f"{base}attach/", {"attachment": upload, "comment": "file"})
    body = {
        "take": {},
        "assign": {"assignee": user.pk},
        "comment": {"comment": "noted"},
        "resolve": {"reason": "fixed", **signed},
        "waive": {"reason": "accepted", **{**signed, "meaning": "waiver"}},
        "reopen": {"reason": "came back"},
    }[action]
    return client.post(f"{base}{action}/", body)


def _state(event: ExceptionEvent) -> tuple:
    event.refresh_from_db()
    tasks = tuple(event.tasks.order_by("pk").values_list("status", flat=True))
    steps = tuple(event.steps.order_by("pk").values_list("status", flat=True))
    return event.version, event.status, EventLogEntry.objects.filter(event=event).count(), tasks, steps


@pytest.mark.parametrize("action", matrix_actions())
def test_policy_matrix_over_http(action, people, api_client_for, client):
    for person, user in people.items():
        for index, category in enumerate(CATEGORIES):
            allowed = person in expected(action, category)
            # every role × action is walked through both doors: the API for half the categories, the
            # event page for the other half (alternating, so each door sees owners of both kinds)
            for channel in (("api", "page")[(index + len(person)) % 2],):
                # given a fresh event of the category on an order the owner rep owns
                event = _event(category, action, people[OWNER], colleague=people["sales"])
                target = _target(event, action)
                policy_action = action.split(":")[0]
                cell = f"{person} × {action} × {category} × {channel}"
                # the policy says the same as the table
                assert policy.decide(user, policy_action, target).allowed == allowed, cell
                before = _state(event)
                # when the action is posted
                if channel == "api":
                    response = _api_call(api_client_for(user), event, action, user)
                else:
                    client.force_login(user)
                    response = _page_call(client, event, action, user)
                # then allowed ↔ done, refused ↔ 403 (404 when not even visible) with nothing changed
                after = _state(event)
                if allowed:
                    assert response.status_code in (200, 302), (cell, response.status_code, response.content[:300])
                    assert after[2] > before[2], cell
                else:
                    assert response.status_code in (403, 404), (cell, response.status_code, response.content[:300])
                    assert after == before, cell


def test_policy_matrix_of_rule_changes_over_the_api(people, api_client_for):
    """Rules change only by compliance officers and admins (with a reason); the rest get 403, nothing
    changed."""
    from tests.exceptions_center.engine_factories import rule_saved

    rule = rule_saved(code="MATRIX-RULE", condition="order.gross_fen > 0", sla_hours=24)
    for person, user in people.items():
        allowed = person in ("compliance", "admin")
        assert policy.decide(user, "change", rule).allowed == allowed, person
        client = api_client_for(user)
        response = client.patch(
            f"/api/v1/exceptions/rules/{rule.pk}/",
            {"sla_hours": 48 if allowed else 1},
            format="json",
            HTTP_X_CHANGE_REASON="SLA review",
        )
        rule.refresh_from_db()
        if allowed:
            assert response.status_code == 200, (person, response.json())
            assert rule.sla_hours == 48
            rule.sla_hours = 24
            rule.save(update_fields=["sla_hours"])
        else:
            assert response.status_code == 403, person
            assert rule.sla_hours == 24


def test_task_statuses_are_untouched_by_refused_users(people, api_client_for):
    # a spot check beyond the log: a refused completion leaves the task open
    event = _event("compliance", "complete_task:owner", people[OWNER])
    task = _target(event, "complete_task:owner")
    response = api_client_for(people["sales_manager"]).post(
        f"/api/v1/exceptions/events/{event.pk}/tasks/{task.pk}/complete/", {}, format="json"
    )
    assert response.status_code == 403
    task.refresh_from_db()
    assert task.status == TaskStatus.OPEN
