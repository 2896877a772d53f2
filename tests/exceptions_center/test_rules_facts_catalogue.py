"""The facts catalogue is generated from the fact providers and shown to rule authors: the admin rule
editor, the API and docs/rules.md (a test fails when the document is out of date)."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command

from exceptions_center.facts_catalogue import MARK_END, MARK_START, document_with_catalogue, facts_catalogue
from exceptions_center.facts_registry import fact_providers, provided_events

pytestmark = pytest.mark.django_db

DOC = Path(settings.BASE_DIR) / "docs" / "rules.md"


def test_docs_rules_md_has_the_current_facts_catalogue():
    # given
    text = DOC.read_text(encoding="utf-8")
    # when
    expected = document_with_catalogue(text)
    # then
    assert text == expected, "docs/rules.md is out of date: run manage.py facts_catalogue --write docs/rules.md"


def test_every_fact_has_a_type_and_a_meaning_in_both_languages():
    # when
    entries = facts_catalogue()
    # then
    assert {entry.event for entry in entries} == set(provided_events())
    missing = [(e.event, e.path) for e in entries if not (e.type and e.description_zh and e.description_en)]
    assert missing == []
    for event in provided_events():
        paths = {e.path for e in entries if e.event == event}
        roots = {root for provider in fact_providers(event) for root in provider.roots}
        assert roots <= paths


def test_catalogue_entries_carry_types_examples_and_apps():
    # when
    by_path = {e.path: e for e in facts_catalogue("order.saved")}
    # then
    assert (by_path["order.gross_fen"].type, by_path["order.gross_fen"].app) == ("int", "orders")
    assert by_path["order.requested_delivery_date"].type == "timestamp or null"
    assert by_path["order.lines[].sku"].example.startswith('"')
    assert by_path["order.lines[].stock.shortage"].app == "traceability"
    assert by_path["ship_to"].type == "map or null"


def test_api_serves_the_catalogue_of_one_event(make_user, api_client_for, django_assert_max_num_queries):
    # given
    client = api_client_for(make_user("compliance"))
    # when
    with django_assert_max_num_queries(4):
        response = client.get("/api/v1/exceptions/rules/facts-catalogue/", {"event": "lot.status_changed"})
    # then
    assert response.status_code == 200
    assert {row["event"] for row in response.json()} == {"lot.status_changed"}
    assert {"path": "lot.days_to_expiry", "type": "int", "app": "traceability"}.items() <= next(
        row for row in response.json() if row["path"] == "lot.days_to_expiry"
    ).items()


@pytest.mark.parametrize("event", ["licence.expiring", "no.such.event"])
def test_api_refuses_the_catalogue_of_an_event_nobody_provides(event, make_user, api_client_for):
    # given
    client = api_client_for(make_user("compliance"))
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    # when
    response = client.get("/api/v1/exceptions/rules/facts-catalogue/", {"event": event})
    # then
    assert response.status_code == 400
    assert response.json()["code"] == "event_not_provided"


def test_admin_rule_editor_shows_the_facts_in_the_readers_language(make_user, client):
    # given
    client.force_login(make_user("compliance", is_staff=True))
    # when
    english = client.get("/admin/exceptions_center/rule/add/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    chinese = client.get("/admin/exceptions_center/rule/add/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    # then
    assert "order.lines[].stock.shortage" in english
    assert "gross amount in fen" in english and "含税金额（分）" not in english
    assert "含税金额（分）" in chinese


def test_command_writes_the_catalogue_between_the_markers(tmp_path):
    # given
    doc = tmp_path / "rules.md"
    doc.write_text(f"# Rules\n\n{MARK_START}\nSTALE-LIST\n{MARK_END}\n\nafter\n", encoding="utf-8")
    # when
    call_command("facts_catalogue", write=str(doc))
    # then
    text = doc.read_text(encoding="utf-8")
    assert "STALE-LIST" not in text and "| `order.gross_fen` | int |" in text
    assert text.startswith("# Rules\n") and text.endswith("\n\nafter\n")
