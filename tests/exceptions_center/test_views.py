"""Exception center pages: queue tabs with counts and filters (query bound), the event page with its
facts card and the actions only for those who may act, the bell and the notifications page."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from exceptions_center.models import EventStatus, ExceptionEvent, Notification
from tests.conftest import PASSWORD
from tests.exceptions_center.factories import event_for, rule_with_route

pytestmark = pytest.mark.django_db

QUEUE = "/exceptions-center/"

FACTS = {
    "order": {
        "id": 7,
        "number": "SO-2026-000123",
        "gross_fen": 1234567,
        "requested_delivery_date": "2026-12-01T00:00:00+08:00",
        "submitted": True,
        "lines": [
            {"line_no": 1, "sku": "SKU-1", "quantity": 10, "unit_price_fen": 1250, "product": {"name": "输液器"}},
            {"line_no": 2, "sku": "SKU-2", "quantity": 5, "unit_price_fen": 990, "product": {"name": "导管"}},
        ],
    },
    "customer": {"code": "C00001", "name": "上海第一医院", "has_uscc": False},
}


def _tab_counts(html: str) -> dict[str, int]:
    return {m[0]: int(m[1]) for m in re.findall(r'data-tab="(\w+)">[^<]*<span class="count">(\d+)</span>', html)}


def test_queue_tabs_counts_and_overdue_first(client, compliance_user, route, django_assert_max_num_queries):
    # given compliance events (one overdue), and an event of another department
    rule = rule_with_route("compliance", category="compliance", severity="high")
    events = [route(event_for(rule)) for _ in range(4)]
    ExceptionEvent.objects.filter(pk=events[2].pk).update(
        is_overdue=True, sla_due_at=timezone.now() - timedelta(hours=1)
    )
    route(event_for(rule_with_route("finance", category="business", severity="high")))
    client.force_login(compliance_user)
    # when the officer opens the queue (query count bounded whatever the rows)
    with django_assert_max_num_queries(16):
        response = client.get(QUEUE)
    html = response.content.decode()
    # then the tabs count their rows and the overdue event comes first
    assert response.status_code == 200
    assert _tab_counts(html) == {"mine": 4, "assigned": 0, "all": 5}
    numbers = re.findall(r'data-number="([^"]+)"', html)
    assert numbers[0] == events[2].number
    assert len(numbers) == 4
    assert 'class="badge badge-high"' in html


def test_queue_filters(client, compliance_user, route):
    high = rule_with_route("compliance", category="compliance", severity="high")
    low = rule_with_route("compliance", category="compliance", severity="low", blocking=False)
    route(event_for(high))
    route(event_for(low))
    client.force_login(compliance_user)
    html = client.get(QUEUE, {"severity": "low", "tab": "all"}).content.decode()
    assert len(re.findall(r'data-number="', html)) == 1
    assert "badge-low" in html
    html = client.get(QUEUE, {"status": "closed"}).content.decode()
    assert "No exceptions here" in html or "没有" in html


def test_event_page_renders_the_facts_card_and_actions(client, compliance_user, route):
    rule = rule_with_route("compliance", category="compliance", severity="high")
    event = route(event_for(rule, facts_snapshot=FACTS))
    client.force_login(compliance_user)
    response = client.get(f"/exceptions-center/events/{event.number}/", HTTP_ACCEPT_LANGUAGE="en")
    html = response.content.decode()
    assert response.status_code == 200
    card = html[html.index('data-testid="facts-card"') :]
    # labelled fields, money in yuan, lines as a table, no raw JSON
    assert "SO-2026-000123" in card
    assert "¥12,345.67" in card
    assert "<table" in card and "SKU-2" in card and "导管" in card
    assert '"gross_fen"' not in html and "gross_fen" not in card
    # the officer may act: the forms are there, including the signature for a compliance waiver
    assert 'data-testid="actions"' in html
    assert 'name="password"' in html


def test_event_page_hides_actions_from_others(client, warehouse_user, route):
    rule = rule_with_route("compliance", category="compliance", severity="high")
    event = route(event_for(rule))
    client.force_login(warehouse_user)
    html = client.get(f"/exceptions-center/events/{event.number}/").content.decode()
    assert 'data-testid="actions"' not in html
    # and posting anyway is refused, nothing changed
    response = client.post(f"/exceptions-center/events/{event.number}/resolve/", {"reason": "x"})
    assert response.status_code == 403
    event.refresh_from_db()
    assert event.status == EventStatus.OPEN


def test_waive_form_with_wrong_password_shows_the_error(client, compliance_user, route):
    rule = rule_with_route("compliance", category="compliance", severity="high")
    event = route(event_for(rule))
    client.force_login(compliance_user)
    url = f"/exceptions-center/events/{event.number}/waive/"
    data = {"reason": "ok", "password": "wrong", "meaning": "waiver", "version": event.version}
    response = client.post(url, data)
    assert response.status_code == 400
    assert 'id="id_password_errors"' in response.content.decode()
    data["password"] = PASSWORD
    response = client.post(url, data)
    assert response.status_code == 302
    event.refresh_from_db()
    assert event.status == EventStatus.WAIVED


def test_event_page_offers_the_signed_waiver_only_to_the_events_departments(client, compliance_user, make_user, route):
    # given a compliance event
    rule = rule_with_route("compliance", category="compliance", severity="high")
    event = route(event_for(rule))
    url = f"/exceptions-center/events/{event.number}/"
    # when a sales manager (no longer reaching into every queue) opens it, then there is no action at all
    client.force_login(make_user("sales_manager"))
    page = client.get(url).content.decode()
    assert 'data-testid="actions"' not in page and 'data-testid="waive"' not in page
    # and posting the form anyway is refused, nothing changed
    data = {"reason": "ok", "password": PASSWORD, "meaning": "waiver", "version": event.version}
    assert client.post(f"{url}waive/", data).status_code == 403
    event.refresh_from_db()
    assert event.status == EventStatus.OPEN
    # when the compliance officer opens it, then the signed waiver is offered
    client.force_login(compliance_user)
    assert 'data-testid="waive"' in client.get(url).content.decode()


def test_complete_task_from_the_page(client, compliance_user, route):
    rule = rule_with_route("compliance", category="compliance", severity="high")
    event = route(event_for(rule))
    client.force_login(compliance_user)
    task = event.tasks.get()
    response = client.post(f"/exceptions-center/events/{event.number}/complete/", {"task": task.pk, "comment": "ok"})
    assert response.status_code == 302
    event.refresh_from_db()
    assert event.status == EventStatus.RESOLVED


def test_bell_and_notifications_page(client, compliance_user, route, django_assert_max_num_queries):
    rule = rule_with_route("compliance", category="compliance", severity="high")
    event = route(event_for(rule))
    client.force_login(compliance_user)
    with django_assert_max_num_queries(12):
        response = client.get("/exceptions-center/notifications/")
    html = response.content.decode()
    assert event.number in html
    note = Notification.objects.get(recipient=compliance_user, channel="in_app")
    response = client.post("/exceptions-center/notifications/read/", {"id": note.pk})
    assert response.status_code == 302 and response.url.endswith(f"/events/{event.number}/")
    note.refresh_from_db()
    assert note.read_at is not None


def test_facts_card_shows_nested_facts_as_labelled_rows_in_the_readers_language():
    # given a snapshot with a nested product, stock facts with a zh/en suggestion pair and a coded status
    from django.utils import translation

    from exceptions_center.facts_card import facts_card

    snapshot = {
        "item": {
            "sku": "INF-1",
            "product": {"name": "输液器", "is_active": True},
            "stock": {"shortage": 10, "suggestion_zh": "建议采购 10", "suggestion_en": "suggest purchasing 10"},
        },
        "order": {"status": "draft", "gross_fen": 79100},
    }

    # when the card is built in English and in Chinese
    with translation.override("en"):
        english = {str(label): value for s in facts_card(snapshot) for label, value in s["fields"]}
    with translation.override("zh-hans"):
        chinese = {str(label): value for s in facts_card(snapshot) for label, value in s["fields"]}

    # then nested objects are rows labelled "Section · Field", only the reader's suggestion shows,
    # coded values show their labels and money shows in yuan
    assert english["Product · Active"] == "Yes"
    assert english["Stock · Suggestion"] == "suggest purchasing 10"
    assert english["Status"] == "Draft"
    assert english["Gross"] == "¥791.00"
    assert chinese["库存 · 建议"] == "建议采购 10"
    assert not any("suggest purchasing" in value for value in chinese.values())
