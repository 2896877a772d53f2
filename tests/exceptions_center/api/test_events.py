"""Exception events API: list with filters and a query bound, detail, lookup by number, the actions and
who may take them, notifications."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from erp.models import ElectronicSignature
from exceptions_center.models import EventStatus, ExceptionEvent, Notification
from tests.conftest import PASSWORD
from tests.exceptions_center.factories import event_for, rule_with_route

pytestmark = pytest.mark.django_db

BASE = "/api/v1/exceptions/events/"


def test_list_filters_and_query_bound(api_client_for, compliance_user, route, django_assert_max_num_queries):
    # given high compliance events and a medium business one
    compliance_rule = rule_with_route("compliance", "quality", category="compliance", severity="high")
    for _ in range(5):
        route(event_for(compliance_rule))
    medium = route(event_for(rule_with_route("sales_management", category="business", severity="medium")))
    client = api_client_for(compliance_user)
    # when listing with filters, the query count does not grow with rows
    with django_assert_max_num_queries(10):
        response = client.get(BASE, {"category": "compliance", "status": "active"})
    # then
    assert response.status_code == 200
    assert response.data["count"] == 5
    assert {row["severity"] for row in response.data["results"]} == {"high"}
    assert client.get(BASE, {"department": "sales_management"}).data["count"] == 1
    assert client.get(BASE, {"severity": "medium"}).data["results"][0]["number"] == medium.number
    assert client.get(BASE, {"overdue": "true"}).data["count"] == 0


def test_detail_has_tasks_steps_and_log(api_client_for, compliance_user, high_event):
    client = api_client_for(compliance_user)
    response = client.get(f"{BASE}{high_event.pk}/")
    assert response.status_code == 200
    assert {t["department"] for t in response.data["tasks"]} == {"compliance", "quality"}
    assert response.data["steps"] == []
    assert [e["action"] for e in response.data["log"]] == ["routed"]
    by_number = client.get(f"{BASE}code/{high_event.number}/")
    assert by_number.status_code == 200 and by_number.data["id"] == high_event.pk


def test_actions_through_the_api(api_client_for, compliance_user, quality_user, high_event):
    client = api_client_for(compliance_user)
    # take, assign, comment, attach
    assert client.post(f"{BASE}{high_event.pk}/take/").data["status"] == "in_progress"
    response = client.post(f"{BASE}{high_event.pk}/assign/", {"assignee": quality_user.pk}, format="json")
    assert {a["username"] for a in response.data["assignees"]} == {compliance_user.username, quality_user.username}
    assert client.post(f"{BASE}{high_event.pk}/comment/", {"comment": "checking"}, format="json").status_code == 200
    upload = SimpleUploadedFile("evidence.txt", b"licence no. 123", content_type="text/plain")
    response = client.post(f"{BASE}{high_event.pk}/attach/", {"attachment": upload}, format="multipart")
    assert response.status_code == 200
    # complete both tasks: the event resolves
    tasks = {t["department"]: t["id"] for t in response.data["tasks"]}
    client.post(f"{BASE}{high_event.pk}/tasks/{tasks['compliance']}/complete/", {}, format="json")
    response = api_client_for(quality_user).post(f"{BASE}{high_event.pk}/tasks/{tasks['quality']}/complete/", {})
    assert response.status_code == 200
    assert response.data["status"] == "resolved"
    # reopen
    response = client.post(f"{BASE}{high_event.pk}/reopen/", {"reason": "came back"}, format="json")
    assert response.data["status"] == "open"


def test_approval_chain_through_the_api(api_client_for, manager_user, medium_event):
    client = api_client_for(manager_user)
    step = medium_event.steps.get(position=1)
    # reject without reason: 400 in the one error shape, nothing changed
    response = client.post(f"{BASE}{medium_event.pk}/steps/{step.pk}/reject/", {}, format="json")
    assert response.status_code == 400
    assert set(response.data) == {"code", "message", "fields", "details"}
    assert "reason" in response.data["fields"]
    # approve moves on
    response = client.post(f"{BASE}{medium_event.pk}/steps/{step.pk}/approve/", {"comment": "ok"}, format="json")
    assert [s["status"] for s in response.data["steps"]] == ["approved", "pending"]


def test_wrong_user_gets_403_and_nothing_changes(api_client_for, warehouse_user, high_event):
    client = api_client_for(warehouse_user)
    version = high_event.version
    for path, body in [
        ("take/", {}),
        ("comment/", {"comment": "x"}),
        ("resolve/", {"reason": "x"}),
        ("waive/", {"reason": "x", "password": PASSWORD, "meaning": "waiver", "version": high_event.version}),
        (f"tasks/{high_event.tasks.first().pk}/complete/", {}),
    ]:
        response = client.post(f"{BASE}{high_event.pk}/{path}", body, format="json")
        assert response.status_code == 403, path
        assert response.data["code"] == "permission_denied"
    high_event.refresh_from_db()
    assert high_event.version == version


def test_waive_compliance_event_needs_the_password(api_client_for, compliance_user, high_event):
    client = api_client_for(compliance_user)
    url = f"{BASE}{high_event.pk}/waive/"
    wrong = {"reason": "accepted", "password": "nope", "meaning": "waiver", "version": high_event.version}
    response = client.post(url, wrong, format="json")
    assert response.status_code == 400
    assert response.data["code"] == "signature_invalid"
    assert ExceptionEvent.objects.get(pk=high_event.pk).status == EventStatus.OPEN
    body = {"reason": "accepted", "password": PASSWORD, "meaning": "waiver", "version": high_event.version}
    response = client.post(url, body, format="json")
    assert response.status_code == 200
    assert response.data["status"] == "waived"
    assert "password" not in str(response.data)
    assert ElectronicSignature.objects.filter(signer=compliance_user, meaning="waiver").count() == 1


@pytest.mark.parametrize("version", ["missing", None])
def test_waive_compliance_event_needs_the_version_reviewed(api_client_for, compliance_user, high_event, version):
    # given: a body with a valid signature but no version (an integrator must say what it reviewed)
    client = api_client_for(compliance_user)
    body = {"reason": "accepted", "password": PASSWORD, "meaning": "waiver"}
    if version != "missing":
        body["version"] = version
    # when
    response = client.post(f"{BASE}{high_event.pk}/waive/", body, format="json")
    # then
    assert response.status_code == 400
    assert response.data["code"] == "validation_error" and list(response.data["fields"]) == ["version"]
    assert "审阅的是该异常的哪个版本" in response.data["fields"]["version"][0]
    event = ExceptionEvent.objects.get(pk=high_event.pk)
    assert (event.status, event.version) == (EventStatus.OPEN, high_event.version)
    assert not ElectronicSignature.objects.exists()


def test_waive_compliance_event_refuses_a_version_no_longer_current(api_client_for, compliance_user, high_event):
    # given: the event changed (a comment) after the client read it
    client = api_client_for(compliance_user)
    seen = client.get(f"{BASE}{high_event.pk}/").data["version"]
    client.post(f"{BASE}{high_event.pk}/comment/", {"comment": "customer sent the licence"}, format="json")
    # when
    body = {"reason": "accepted", "password": PASSWORD, "meaning": "waiver", "version": seen}
    response = client.post(f"{BASE}{high_event.pk}/waive/", body, format="json")
    # then
    assert response.status_code == 400 and response.data["code"] == "stale_version"
    assert ExceptionEvent.objects.get(pk=high_event.pk).status == EventStatus.OPEN
    assert not ElectronicSignature.objects.exists()


def test_waive_business_event_needs_no_signature_nor_version(api_client_for, manager_user, medium_event):
    # when
    response = api_client_for(manager_user).post(
        f"{BASE}{medium_event.pk}/waive/", {"reason": "one-off price agreed with the customer"}, format="json"
    )
    # then
    assert response.status_code == 200 and response.data["status"] == "waived"
    assert not ElectronicSignature.objects.exists()


def test_sales_user_sees_but_cannot_act(api_client_for, sales_user, high_event):
    # given the event's source (a party) is the rep's own customer
    from guardian.shortcuts import assign_perm

    assign_perm("masterdata.view_party", sales_user, high_event.source)
    client = api_client_for(sales_user)
    assert client.get(f"{BASE}{high_event.pk}/").status_code == 200
    assert client.post(f"{BASE}{high_event.pk}/take/").status_code == 403


def test_sales_user_gets_404_for_an_event_on_another_reps_customer(api_client_for, sales_user, high_event):
    # given the event's source is not the rep's customer
    client = api_client_for(sales_user)

    # when / then hidden answers as missing, on every read and action
    assert client.get(f"{BASE}{high_event.pk}/").status_code == 404
    assert client.get(f"{BASE}code/{high_event.number}/").status_code == 404
    assert client.post(f"{BASE}{high_event.pk}/take/").status_code == 404
    assert high_event.number not in str(client.get(BASE).data)


def test_anonymous_refused(client, high_event):
    assert client.get(BASE).status_code in (401, 403)


def test_notifications_list_and_mark_read(api_client_for, compliance_user, high_event, django_assert_max_num_queries):
    client = api_client_for(compliance_user)
    with django_assert_max_num_queries(5):
        response = client.get("/api/v1/exceptions/notifications/")
    assert response.status_code == 200
    assert response.data["count"] == Notification.objects.filter(recipient=compliance_user, channel="in_app").count()
    assert response.data["results"][0]["event_number"] == high_event.number
    response = client.post("/api/v1/exceptions/notifications/mark-read/", {}, format="json")
    assert response.data["marked"] >= 1
    assert client.post("/api/v1/exceptions/notifications/mark-read/", {}, format="json").data["marked"] == 0
