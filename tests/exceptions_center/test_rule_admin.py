"""Rule admin (catalogue editing by compliance officers, errors with line/column, dry run and backtest
writing nothing) and the rule API."""

from __future__ import annotations

import pytest
from django.urls import reverse

from exceptions_center.models import Department, EventLogEntry, ExceptionEvent, Rule
from tests.exceptions_center.engine_factories import engine_facts, make_order, rule_saved, set_discount  # noqa: F401

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("engine_facts")]


@pytest.fixture
def officer(make_user, client):
    """A compliance officer with admin-site access (staff), logged in."""
    user = make_user("compliance", is_staff=True)
    client.force_login(user)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return user


def _form(**overrides) -> dict:
    data = {
        "code": "ORD-BIG",
        "name_zh": "大额订单",
        "name_en": "Big order",
        "description": "",
        "enabled": "on",
        "event": "order.saved",
        "iterate_over": "",
        "condition": "order.gross_fen > params.limit",
        "detail_key": "",
        "params": '{"limit": 100}',
        "category": "business",
        "severity": "medium",
        "blocking": "on",
        "low_action": "review_queue",
        "sla_hours": "24",
        "message_zh": "订单{order.number}金额{order.gross_fen|yuan}元",
        "message_en": "Order {order.number}: {order.gross_fen|yuan} yuan",
        "reason": "new threshold rule",
        "try_order": "",
        "try_days": "30",
        "route_steps-TOTAL_FORMS": "2",
        "route_steps-INITIAL_FORMS": "0",
        "route_steps-MIN_NUM_FORMS": "0",
        "route_steps-MAX_NUM_FORMS": "1000",
        "route_steps-0-position": "1",
        "route_steps-0-department": str(Department.objects.get(code="sales_management").pk),
        "route_steps-1-position": "2",
        "route_steps-1-department": str(Department.objects.get(code="finance").pk),
    }
    data.update(overrides)
    return data


def _written():
    return (
        ExceptionEvent.objects.count(),
        ExceptionEvent.history.count(),
        EventLogEntry.objects.count(),
        Rule.objects.count(),
        Rule.history.count(),
    )


def test_compliance_officer_adds_a_rule_with_route_and_history(client, officer):
    # when
    response = client.post(reverse("admin:exceptions_center_rule_add"), _form())
    # then
    assert response.status_code == 302, response.context["adminform"].form.errors if response.context else response
    rule = Rule.objects.get(code="ORD-BIG")
    assert [s.department.code for s in rule.route_steps.order_by("position")] == ["sales_management", "finance"]
    record = rule.history.get()
    assert record.history_user == officer and record.history_change_reason == "new threshold rule"


def test_admin_shows_the_expression_error_next_to_the_field_and_saves_nothing(client, officer):
    # given
    before = _written()
    # when
    response = client.post(
        reverse("admin:exceptions_center_rule_add"), _form(condition="order.gross_fen >\n  params.limit &&")
    )
    # then
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert "line 2, column 18" in errors["condition"][0]
    assert _written() == before


def test_admin_changelist_filters_and_searches(client, officer, django_assert_max_num_queries):
    # given
    rule_saved(code="ORD-A", condition="order.gross_fen > 0", severity="high")
    rule_saved(code="ORD-B", condition="order.gross_fen > 1", severity="low")
    url = reverse("admin:exceptions_center_rule_changelist")
    # when
    with django_assert_max_num_queries(15):
        response = client.get(url, {"severity__exact": "low"})
    searched = client.get(url, {"q": "ORD-A"})
    # then
    assert [r.code for r in response.context["cl"].result_list] == ["ORD-B"]
    assert [r.code for r in searched.context["cl"].result_list] == ["ORD-A"]


def test_admin_change_page_and_history_open_for_the_officer(client, officer):
    rule = rule_saved(code="ORD-H", condition="order.gross_fen > 0")
    assert client.get(reverse("admin:exceptions_center_rule_change", args=[rule.pk])).status_code == 200
    assert client.get(reverse("admin:exceptions_center_rule_history", args=[rule.pk])).status_code == 200


def test_admin_dry_run_of_a_draft_on_one_order_writes_nothing(client, officer):
    # given: an order with a line 30 % below list
    order = make_order(lines=2)
    set_discount(order, 2, "30")
    before = _written()
    form = _form(
        iterate_over="order.lines",
        condition="item.below_list_pct > params.limit",
        detail_key="item.key",
        params='{"limit": 10}',
        message_en="Line {item.line_no} {item.below_list_pct}% below",
        message_zh="第{item.line_no}行",
        try_order=order.number,
        _dry_run="1",
    )
    # when
    response = client.post(reverse("admin:exceptions_center_rule_add"), form)
    # then
    assert response.status_code == 200
    assert [r["detail_key"] for r in response.context["results"]] == ["L2"]
    assert "Line 2 30% below" in response.content.decode()
    assert _written() == before


def test_admin_dry_run_of_unsaved_changes_to_a_saved_rule_writes_nothing(client, officer):
    rule = rule_saved(code="ORD-S", condition="order.gross_fen > 100000000")
    order = make_order(lines=1)
    before = _written()
    form = _form(
        code="ORD-S",
        condition="order.gross_fen > 0",
        params="{}",
        try_order=order.number,
        _dry_run="1",
        message_zh="x",
        message_en="y",
    )
    response = client.post(reverse("admin:exceptions_center_rule_change", args=[rule.pk]), form)
    assert response.status_code == 200 and len(response.context["results"]) == 1
    assert _written() == before
    assert Rule.objects.get(pk=rule.pk).condition == "order.gross_fen > 100000000"


def test_admin_dry_run_with_an_unknown_order_says_so(client, officer):
    response = client.post(reverse("admin:exceptions_center_rule_add"), _form(try_order="SO-0000-000000", _dry_run="1"))
    assert response.status_code == 200 and "SO-0000-000000" in response.context["error"]


def test_admin_backtest_lists_orders_and_writes_nothing(client, officer):
    # given
    small, big = make_order(lines=1), make_order(lines=8)
    limit = int(small.gross_amount * 100)
    before = _written()
    # when
    response = client.post(
        reverse("admin:exceptions_center_rule_add"), _form(params=f'{{"limit": {limit}}}', try_days="7", _backtest="1")
    )
    # then
    assert response.status_code == 200
    run = response.context["runs"][0]
    assert [source.pk for source, _events in run["found"]] == [big.pk]
    assert run["checked"] == 2
    assert _written() == before


def test_admin_backtest_action_on_saved_rules(client, officer):
    rule = rule_saved(code="ORD-ALL", condition="order.gross_fen > 0")
    make_order(lines=1)
    before = _written()
    response = client.post(
        reverse("admin:exceptions_center_rule_changelist"),
        {"action": "backtest_selected", "_selected_action": [rule.pk]},
    )
    assert response.status_code == 200 and len(response.context["runs"][0]["found"]) == 1
    assert _written() == before


def test_sales_user_cannot_edit_rules_in_the_admin(client, make_user):
    client.force_login(make_user("sales", is_staff=True))
    assert client.post(reverse("admin:exceptions_center_rule_add"), _form()).status_code == 403
    assert not Rule.objects.filter(code="ORD-BIG").exists()


# --- API ---------------------------------------------------------------------------------------------


def _api_body(**overrides) -> dict:
    body = {
        "code": "API-BIG",
        "name_zh": "大额",
        "name_en": "Big",
        "category": "business",
        "event": "order.saved",
        "condition": "order.gross_fen > params.limit",
        "params": {"limit": 100},
        "message_zh": "订单{order.number}",
        "message_en": "Order {order.number}",
        "severity": "medium",
        "blocking": True,
        "route": ["sales_management", "finance"],
    }
    body.update(overrides)
    return body


def _api(api_client_for, user, reason: str = "catalogue upkeep"):
    client = api_client_for(user)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    if reason:
        client.defaults["HTTP_X_CHANGE_REASON"] = reason
    return client


def test_api_creates_lists_and_updates_rules(make_user, api_client_for, django_assert_max_num_queries):
    # given
    client = _api(api_client_for, make_user("compliance"))
    # when
    created = client.post("/api/v1/exceptions/rules/", _api_body(), format="json")
    # then
    assert created.status_code == 201, created.json()
    assert created.json()["route"] == ["sales_management", "finance"]
    rule_id = created.json()["id"]
    with django_assert_max_num_queries(8):
        listed = client.get("/api/v1/exceptions/rules/", {"severity": "medium"})
    assert [r["code"] for r in listed.json()["results"]] == ["API-BIG"]
    updated = client.patch(f"/api/v1/exceptions/rules/{rule_id}/", {"params": {"limit": 5}}, format="json")
    assert updated.status_code == 200 and updated.json()["params"] == {"limit": 5}
    assert client.get(f"/api/v1/exceptions/rules/{rule_id}/").json()["code"] == "API-BIG"


def test_api_refuses_an_invalid_rule_in_the_one_error_shape(make_user, api_client_for):
    client = _api(api_client_for, make_user("compliance"))
    response = client.post("/api/v1/exceptions/rules/", _api_body(condition="order.gross_fen > foo.bar"), format="json")
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "validation_error"
    assert "Unknown fact “foo” at line 1, column 19" in body["fields"]["condition"][0]
    assert not Rule.objects.filter(code="API-BIG").exists()


def test_api_validate_draft_and_changes(make_user, api_client_for):
    client = _api(api_client_for, make_user("compliance"))
    ok = client.post("/api/v1/exceptions/rules/validate/", _api_body(), format="json")
    bad = client.post("/api/v1/exceptions/rules/validate/", _api_body(condition="order.gross_fen >"), format="json")
    assert ok.status_code == 200 and ok.json() == {"valid": True}
    assert bad.status_code == 400 and "line 1" in bad.json()["fields"]["condition"][0]
    rule = rule_saved(code="API-V", condition="order.gross_fen > 0")
    changed = client.post(
        f"/api/v1/exceptions/rules/{rule.pk}/validate/", {"condition": "order.nope > 0"}, format="json"
    )
    assert changed.status_code == 400 and "nope" in changed.json()["fields"]["condition"][0]
    assert Rule.objects.get(pk=rule.pk).condition == "order.gross_fen > 0"


def test_api_dry_run_by_order_number_or_id_writes_nothing(make_user, api_client_for):
    client = _api(api_client_for, make_user("compliance"))
    rule = rule_saved(code="API-D", condition="order.gross_fen > 0")
    order = make_order(lines=1)
    before = _written()
    by_number = client.post(f"/api/v1/exceptions/rules/{rule.pk}/dry-run/", {"order": order.number}, format="json")
    by_id = client.post(f"/api/v1/exceptions/rules/{rule.pk}/dry-run/", {"order": str(order.pk)}, format="json")
    missing = client.post(f"/api/v1/exceptions/rules/{rule.pk}/dry-run/", {"order": "SO-X"}, format="json")
    assert by_number.status_code == 200 and by_number.json()["events"][0]["action"] == "raise"
    assert by_id.json()["order"] == order.number
    assert missing.status_code == 404 and missing.json()["code"] == "not_found"
    assert _written() == before


def test_api_sales_user_may_read_but_not_write_rules(make_user, api_client_for):
    client = api_client_for(make_user("sales"))
    assert client.get("/api/v1/exceptions/rules/").status_code == 200
    assert client.post("/api/v1/exceptions/rules/", _api_body(), format="json").status_code == 403


def _change_form(rule: Rule, **overrides) -> dict:
    """The admin change form of a saved rule as the browser posts it (its route steps inline)."""
    steps = list(rule.route_steps.order_by("position"))
    data = {
        **{name: getattr(rule, name) for name in ("code", "name_zh", "name_en", "description", "event")},
        **{name: getattr(rule, name) for name in ("iterate_over", "condition", "detail_key", "category")},
        **{name: getattr(rule, name) for name in ("severity", "low_action", "sla_hours", "message_zh", "message_en")},
        "params": __import__("json").dumps(rule.params),
        "owner_department": rule.owner_department_id or "",
        "try_order": "",
        "try_days": "30",
        "route_steps-TOTAL_FORMS": str(len(steps)),
        "route_steps-INITIAL_FORMS": str(len(steps)),
        "route_steps-MIN_NUM_FORMS": "0",
        "route_steps-MAX_NUM_FORMS": "1000",
    }
    if rule.enabled:
        data["enabled"] = "on"
    if rule.blocking:
        data["blocking"] = "on"
    for index, step in enumerate(steps):
        data[f"route_steps-{index}-id"] = str(step.pk)
        data[f"route_steps-{index}-rule"] = str(rule.pk)
        data[f"route_steps-{index}-position"] = str(step.position)
        data[f"route_steps-{index}-department"] = str(step.department_id)
    for name, value in overrides.items():
        if value is None:
            data.pop(name, None)
        else:
            data[name] = value
    return data


def test_r30_admin_disabling_a_shipped_compliance_rule_needs_reason_and_signature(client, officer):
    from erp.models import ElectronicSignature
    from tests.conftest import PASSWORD

    # given a shipped compliance rule (as the catalogue migrations mark them)
    rule = rule_saved(code="ORD-SHIPPED-C", condition="order.gross_fen > 0", category="compliance")
    Rule.objects.filter(pk=rule.pk).update(shipped=True)
    rule.refresh_from_db()
    url = reverse("admin:exceptions_center_rule_change", args=[rule.pk])
    # when the officer unticks "enabled" without a reason or a signature
    response = client.post(url, _change_form(rule, enabled=None))
    # then the errors are next to the fields and nothing changed
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert {"reason", "signature_password", "signature_meaning"} <= set(errors)
    rule.refresh_from_db()
    assert rule.enabled and not ElectronicSignature.objects.exists()
    # when they give a reason and sign
    response = client.post(
        url,
        _change_form(
            rule, enabled=None, reason="replaced", signature_password=PASSWORD, signature_meaning="responsibility"
        ),
    )
    # then it is disabled, the reason in its history, their signature on it
    assert response.status_code == 302, response.context["adminform"].form.errors if response.context else ""
    rule.refresh_from_db()
    assert not rule.enabled
    assert rule.history.latest().history_change_reason == "replaced"
    assert ElectronicSignature.objects.get().signer == officer
