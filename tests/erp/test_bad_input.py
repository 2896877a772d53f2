"""Never a 5xx: every odd input found so far gets a 4xx in the one error shape (JSON under /api/, a page
in the user's language elsewhere), and nothing is changed. One test per hole of issue 9 ("Controls")."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from exceptions_center.models import EventStatus, ExceptionEvent
from masterdata.models import Party
from orders.models import SalesOrder
from tests.exceptions_center.factories import event_for, rule_with_route
from tests.masterdata.factories import PartyFactory, ProductFactory, WarehouseFactory
from tests.orders.factories import SalesOrderFactory, customer_for, in_days

ERROR_KEYS = {"code", "message", "fields", "details"}


def _is_error_shape(response, status: int, code: str | None = None) -> dict:
    assert response.status_code == status, response.content[:300]
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert set(body) == ERROR_KEYS, body
    assert all(isinstance(k, str) and all(isinstance(m, str) for m in v) for k, v in body["fields"].items()), body
    if code is not None:
        assert body["code"] == code, body
    return body


def _is_page(response, status: int, text: str) -> None:
    assert response.status_code == status, response.content[:300]
    assert response["Content-Type"].startswith("text/html")
    assert text in response.content.decode(), response.content.decode()[:2000]


@pytest.fixture
def admin_api(api_client_for, admin_user):
    return api_client_for(admin_user)


@pytest.fixture
def admin_browser(admin_user):
    client = Client()
    client.force_login(admin_user)
    return client


# --- ids that are not ids -------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("bad_id", ["abc", "null,null", "1.5", "99999999999999999999999", "%00"])
@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/exceptions/events/{}/take/",
        "/api/v1/exceptions/events/{}/comment/",
        "/api/v1/exceptions/events/{}/tasks/1/complete/",
        "/api/v1/exceptions/events/1/tasks/{}/complete/",
        "/api/v1/exceptions/rules/{}/validate/",
        "/api/v1/masterdata/parties/{}/",
    ],
)
def test_event_actions_with_a_non_numeric_id_answer_404_json(admin_api, path, bad_id):
    # given an event that must not change
    event = event_for(rule_with_route("compliance", category="compliance", severity="high"))

    # when
    response = admin_api.post(path.format(bad_id), {"comment": "x"}, format="json")

    # then
    assert response.status_code in (400, 404)
    _is_error_shape(response, response.status_code)
    event.refresh_from_db()
    assert event.status == EventStatus.OPEN and not event.log.exists()


@pytest.mark.django_db
def test_a_patch_with_a_huge_id_answers_404_json(admin_api):
    # when
    response = admin_api.patch("/api/v1/masterdata/parties/9223372036854775808/", {"name": "x"}, format="json")

    # then
    _is_error_shape(response, 404, "not_found")


# --- browser pages with a missing or hidden id ------------------------------------------------------------

TRACEABILITY_PAGES = [
    ("get", "/traceability/receipts/{}/"),
    ("post", "/traceability/receipts/{}/scan/"),
    ("post", "/traceability/receipts/{}/complete/"),
    ("get", "/traceability/lots/{}/"),
    ("get", "/traceability/lots/{}/trace.csv"),
    ("post", "/traceability/lots/{}/release/"),
    ("get", "/traceability/orders/{}/fulfil/"),
    ("post", "/traceability/orders/{}/fulfil/"),
    ("get", "/traceability/shipments/{}/"),
    ("post", "/traceability/excursions/{}/acknowledge/"),
]


@pytest.mark.django_db
@pytest.mark.parametrize("method,path", TRACEABILITY_PAGES)
@pytest.mark.parametrize("missing_id", ["987654321", "9223372036854775808"])
def test_traceability_pages_answer_404_for_a_missing_id(admin_browser, method, path, missing_id):
    # when
    response = getattr(admin_browser, method)(path.format(missing_id), HTTP_ACCEPT_LANGUAGE="en")

    # then
    _is_page(response, 404, "This page does not exist, or you may not see it.")


@pytest.mark.django_db
def test_a_hidden_order_answers_the_same_404_page_as_a_missing_one(make_user):
    # given an order of another rep's customer
    owner, other = make_user("sales"), make_user("sales")
    order = SalesOrderFactory(customer=customer_for(owner))
    client = Client()
    client.force_login(other)

    # when
    response = client.get(f"/traceability/orders/{order.pk}/fulfil/")

    # then (the default language is Chinese)
    assert response.status_code in (403, 404)
    assert response["Content-Type"].startswith("text/html")
    assert "页面不存在" in response.content.decode() or "没有权限" in response.content.decode()


# --- a refused action in the browser -----------------------------------------------------------------------


@pytest.mark.django_db
def test_refusing_take_in_the_html_view_answers_a_page_not_500(make_user):
    # given a closed event: nobody may take it any more
    user = make_user("compliance")
    event = event_for(rule_with_route("compliance", category="compliance", severity="high"))
    ExceptionEvent.objects.filter(pk=event.pk).update(status=EventStatus.RESOLVED)
    client = Client()
    client.force_login(user)

    # when
    response = client.post(f"/exceptions-center/events/{event.number}/take/", HTTP_ACCEPT_LANGUAGE="en")

    # then
    assert 400 <= response.status_code < 500, response.status_code
    assert response["Content-Type"].startswith("text/html")
    event.refresh_from_db()
    assert event.status == EventStatus.RESOLVED and not event.assignees.exists()


# --- NUL and other control characters -------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("reason", ["%00", "before%00after", "tab%09ok%1B[31m"])
def test_nul_in_x_change_reason_percent_encoded_is_a_400_and_changes_nothing(admin_api, reason):
    # given
    party = PartyFactory(address="old")
    history_rows = party.history.count()

    # when
    response = admin_api.patch(
        f"/api/v1/masterdata/parties/{party.pk}/", {"address": "new"}, format="json", HTTP_X_CHANGE_REASON=reason
    )

    # then
    body = _is_error_shape(response, 400)
    assert "X-Change-Reason" in body["fields"]
    party.refresh_from_db()
    assert party.address == "old" and party.history.count() == history_rows


@pytest.mark.django_db
def test_a_raw_nul_in_a_header_is_a_400_and_changes_nothing(admin_api):
    # given
    party = PartyFactory(address="old")

    # when
    response = admin_api.patch(
        f"/api/v1/masterdata/parties/{party.pk}/", {"address": "new"}, format="json", HTTP_X_CHANGE_REASON="a\x00b"
    )

    # then
    body = _is_error_shape(response, 400, "invalid_characters")
    assert "X-Change-Reason" in body["fields"]
    party.refresh_from_db()
    assert party.address == "old"


@pytest.mark.django_db
@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/masterdata/parties/code/%00/",
        "/api/v1/masterdata/products/code/A%00B/",
        "/api/v1/orders/code/SO%00/",
        "/api/v1/exceptions/events/code/EX%00/",
        "/api/v1/masterdata/parties/?q=%00",
        "/api/v1/masterdata/products/?q=abc%00",
        "/api/v1/exceptions/events/?q=%00",
        "/api/v1/traceability/lots/?lot_number=%00",
        "/api/v1/masterdata/parties/?code=%01",
    ],
)
def test_nul_in_code_lookups_and_q_is_a_400_json(admin_api, path):
    # when
    response = admin_api.get(path)

    # then
    _is_error_shape(response, 400, "invalid_characters")


@pytest.mark.django_db
@pytest.mark.parametrize(
    "path",
    ["/masterdata/parties/?q=%00", "/traceability/lots/?q=a%00", "/exceptions-center/events/EX%00/", "/orders/?q=%00"],
)
def test_nul_in_a_page_address_is_a_400_page_in_the_users_language(admin_browser, path):
    # when
    english = admin_browser.get(path, HTTP_ACCEPT_LANGUAGE="en")
    chinese = admin_browser.get(path, HTTP_ACCEPT_LANGUAGE="zh-hans")

    # then
    _is_page(english, 400, "control characters")
    _is_page(chinese, 400, "控制字符")


@pytest.mark.django_db
def test_a_gs1_separator_in_a_search_is_not_refused(admin_browser):
    # given a scanner that sends ASCII 29 between GS1 elements
    # when
    response = admin_browser.get("/traceability/lots/", {"q": "0106901234567892\x1d10LOT1"})

    # then
    assert response.status_code == 200


@pytest.mark.django_db
def test_nul_inside_a_json_body_is_a_400_and_saves_nothing(admin_api):
    # when
    response = admin_api.post(
        "/api/v1/exceptions/rules/validate/",
        data=json.dumps({"condition": "true", "facts": {"k\u0000": "v"}}),
        content_type="application/json",
    )

    # then
    _is_error_shape(response, 400, "parse_error")


# --- bodies too deep or too big --------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("depth", [33, 5000, 100_000])
def test_a_deeply_nested_json_body_is_a_400(admin_api, depth):
    # given
    body = "[" * depth + "]" * depth
    parties = Party.objects.count()

    # when
    response = admin_api.post("/api/v1/masterdata/parties/", data=body, content_type="application/json")

    # then
    _is_error_shape(response, 400, "parse_error")
    assert Party.objects.count() == parties


@pytest.mark.django_db
def test_a_25_mb_body_on_the_api_is_a_413_json(admin_api):
    # given
    body = json.dumps({"name": "x" * (25 * 1024 * 1024)})
    parties = Party.objects.count()

    # when
    response = admin_api.post("/api/v1/masterdata/parties/", data=body, content_type="application/json")

    # then
    _is_error_shape(response, 413, "request_too_large")
    assert Party.objects.count() == parties


@pytest.mark.django_db
def test_a_25_mb_form_in_the_browser_is_a_413_page(admin_browser):
    # when
    response = admin_browser.post(
        "/masterdata/parties/new/",
        data="name=" + "x" * (25 * 1024 * 1024),
        content_type="application/x-www-form-urlencoded",
        HTTP_ACCEPT_LANGUAGE="en",
    )

    # then
    _is_page(response, 413, "too large")


# --- methods -----------------------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/",
        "/api/v1/masterdata/parties/",
        "/api/v1/exceptions/events/",
        "/api/v1/exceptions/rules/validate/",
        "/api/schema/",
        "/api/v1/auth/token/",
        "/",
        "/accounts/login/",
        "/masterdata/parties/",
    ],
)
def test_trace_is_neither_allowed_nor_listed_in_allow(admin_api, path):
    # when
    options = admin_api.options(path)
    trace = admin_api.generic("TRACE", path)

    # then
    assert "TRACE" not in options.get("Allow", "").upper()
    assert trace.status_code == 405
    assert "TRACE" not in trace.get("Allow", "").upper()


# --- nested validation errors ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_nested_validation_errors_follow_the_error_schema(api_client_for, make_user):
    # given an order whose second line has a bad quantity and third an unknown product
    rep = make_user("sales")
    product = ProductFactory()
    payload = {
        "customer": customer_for(rep).pk,
        "warehouse": WarehouseFactory().pk,
        "requested_delivery_date": in_days(10).isoformat(),
        "lines": [
            {"product": product.pk, "quantity": 1},
            {"product": product.pk, "quantity": 0},
            {"product": 987654, "quantity": 1},
        ],
    }

    # when
    response = api_client_for(rep).post("/api/v1/orders/", payload, format="json")

    # then every key maps to a list of messages; nested paths are dotted
    body = _is_error_shape(response, 400, "validation_error")
    assert "lines.1.quantity" in body["fields"]
    assert not SalesOrder.objects.exists()


# --- headers on every answer ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_api_answers_and_pages_of_a_logged_in_user_are_not_stored(admin_api, admin_browser):
    # when
    api = admin_api.get("/api/v1/masterdata/parties/")
    page = admin_browser.get("/masterdata/parties/")

    # then
    assert "no-store" in api["Cache-Control"] and "private" in api["Cache-Control"]
    assert "no-store" in page["Cache-Control"] and "private" in page["Cache-Control"]


@pytest.mark.django_db
def test_pages_carry_a_content_security_policy_without_inline_scripts(admin_browser):
    # when
    response = admin_browser.get("/masterdata/parties/")

    # then
    policy = response["Content-Security-Policy"]
    script_src = next(part for part in policy.split(";") if part.strip().startswith("script-src"))
    assert "'unsafe-inline'" not in script_src and "'unsafe-eval'" not in script_src
    assert "<script>" not in response.content.decode()


@pytest.mark.django_db
def test_nul_in_a_form_body_on_the_api_is_a_400_and_changes_nothing(admin_api):
    # given (found by schemathesis: PATCH /exceptions/rules/{id}/ with a form body whose route held a NUL)
    party = PartyFactory(address="old")

    # when
    response = admin_api.patch(
        f"/api/v1/masterdata/parties/{party.pk}/",
        data="address=new%00",
        content_type="application/x-www-form-urlencoded",
    )

    # then
    _is_error_shape(response, 400, "parse_error")
    party.refresh_from_db()
    assert party.address == "old"


# --- sessions ---------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_an_idle_session_ends(admin_browser, settings):
    # given a session whose last request is older than the idle limit
    settings.ERP_SESSION_IDLE_SECONDS = 60
    assert admin_browser.get("/masterdata/parties/").status_code == 200
    session = admin_browser.session
    session["_erp_session_seen"] -= 61
    session.save()

    # when
    response = admin_browser.get("/masterdata/parties/")

    # then the user is sent to the login page
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


@pytest.mark.django_db
def test_a_session_ends_after_its_maximum_age_even_when_active(admin_browser, settings):
    # given a session older than SESSION_COOKIE_AGE
    assert admin_browser.get("/masterdata/parties/").status_code == 200
    session = admin_browser.session
    session["_erp_session_started"] -= settings.SESSION_COOKIE_AGE + 1
    session.save()

    # when
    response = admin_browser.get("/masterdata/parties/")

    # then
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


# --- the schema tells integrators --------------------------------------------------------------------------


def test_every_operation_documents_the_error_answers():
    # given
    from drf_spectacular.generators import SchemaGenerator

    # when
    schema = SchemaGenerator().get_schema(request=None, public=True)

    # then
    missing = [
        f"{method.upper()} {path}: {code}"
        for path, item in schema["paths"].items()
        for method, operation in item.items()
        for code in ("400", "401", "403", "404", "409", "413", "429")
        if code not in operation["responses"]
    ]
    assert missing == []
    assert schema["paths"]["/api/v1/masterdata/parties/{id}/"]["get"]["responses"]["413"]["content"]
