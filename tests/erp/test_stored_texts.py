"""Texts the system writes for people are stored as message keys and read in the reader's language
(DESIGN.md "Texts the system writes"): the same record reads in Chinese for a Chinese user and in
English for an English one — hold summaries, the order timeline, the events' log and resolutions,
notifications, a lot's hold reason and the flash messages after an action."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.utils import translation

from erp.kernel.messages import both, joined, register, render_stored, stored_text
from exceptions_center.models import EventLogEntry, ExceptionEvent, LogAction, Notification
from exceptions_center.services import handling
from orders import texts as order_texts
from orders.services import order_cancel, order_hold_refresh
from tests.exceptions_center.factories import event_for, rule_with_route
from tests.orders.factories import order_entered
from traceability import texts as traceability_texts
from traceability.models import LotStatus
from traceability.services.lots import lots_hold

ZH, EN = "zh-hans", "en"
HAN = re.compile(r"[\u4e00-\u9fff]")


# --- the kernel mechanism --------------------------------------------------------------------------


def test_stored_text_is_a_key_with_json_params_rendered_in_each_language():
    # given
    value = stored_text(order_texts.ORDER_CANCELLED, reason="客户改期")

    # when
    zh, en = render_stored(value, language=ZH), render_stored(value, language=EN)

    # then
    assert value == {"key": "orders.cancelled", "params": {"reason": "客户改期"}}
    assert zh == "订单已取消：客户改期"
    assert en == "Order cancelled: 客户改期"


def test_render_stored_follows_the_active_language():
    # given
    value = stored_text(traceability_texts.EXCURSION_HOLD)

    # when / then
    with translation.override(EN):
        assert render_stored(value) == "temperature excursion"
    with translation.override(ZH):
        assert render_stored(value) == "温度偏离"


def test_params_may_be_stored_texts_pairs_and_lists():
    # given: a hold summary of two events, each keeping both copies of its message
    value = stored_text(
        order_texts.HOLD_SUMMARY,
        events=[
            stored_text(order_texts.HOLD_EVENT, number="EX-1", message=both("证照过期", "Licence expired")),
            stored_text(order_texts.HOLD_EVENT, number="EX-2", message=both("超信用额度", "")),
        ],
    )
    chain = stored_text("exceptions_center.routed_to", departments=joined([both("合规", "Compliance"), "QA"], " → "))

    # when / then (an empty English copy falls back to the Chinese one)
    assert render_stored(value, language=EN) == "EX-1 Licence expired; EX-2 超信用额度"
    assert render_stored(value, language=ZH) == "EX-1 证照过期; EX-2 超信用额度"
    assert render_stored(chain, language=EN) == "Compliance → QA"


def test_unknown_key_is_refused_when_written_and_shows_the_fallback_when_read():
    # when / then: writing an undeclared key is a programming error
    with pytest.raises(KeyError):
        stored_text("orders.no_such_text")
    # and a stored key nobody declares any more shows the plain text kept next to it
    assert render_stored({"key": "orders.gone", "params": {}}, fallback="旧文本") == "旧文本"
    # plain strings (rows written before) and empty values pass through
    assert render_stored("以前的文本") == "以前的文本"
    assert render_stored({}, fallback="x") == "x"


def test_a_translation_that_lost_its_parameter_does_not_break_the_page():
    # given: a key whose stored params no longer match its text
    register("orders.test_params_changed", "Held by %(rule)s")

    # when
    text = render_stored({"key": "orders.test_params_changed", "params": {"other": "x"}})

    # then: the key's text is shown rather than an error
    assert text == "Held by "


def test_a_key_cannot_be_declared_twice_with_different_texts():
    with pytest.raises(ValueError):
        register(order_texts.HOLD_EVENT, "something else")


# --- no translation frozen at import time --------------------------------------------------------

APP_DIRS = ["erp", "masterdata", "orders", "exceptions_center", "traceability", "quality", "compliance"]
APP_DIRS += ["channels_mgmt", "finance"]


def _eager_gettext_at_import(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    eager = {
        alias.asname or alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and node.module == "django.utils.translation"
        for alias in node.names
        if alias.name in ("gettext", "ngettext", "pgettext")
    }
    found: list[str] = []

    def visit(node, in_function: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
                continue
            if (
                not in_function
                and isinstance(child, ast.Call)
                and isinstance(child.func, ast.Name)
                and child.func.id in eager
            ):
                found.append(f"{path}:{child.lineno}")
            visit(child, in_function)

    visit(tree, False)
    return found


def test_no_text_is_translated_when_a_module_is_imported():
    """A module-level ``gettext`` freezes the text in the language active at import (Chinese): an
    English user then reads Chinese flash messages. Module-level texts must be lazy."""
    # given
    root = Path(settings.BASE_DIR)
    files = [p for d in APP_DIRS for p in (root / d).rglob("*.py") if "migrations" not in p.parts]

    # when
    eager = [hit for path in files for hit in _eager_gettext_at_import(path)]

    # then
    assert eager == []


# --- every system-written text, read in both languages --------------------------------------------


def _api_get(api, url: str, language: str) -> dict:
    response = api.get(url, HTTP_ACCEPT_LANGUAGE=language)
    assert response.status_code == 200, response.content
    return response.json()


@pytest.fixture
def held_order(make_user, django_capture_on_commit_callbacks):
    """An order held by a blocking compliance event routed to compliance and quality (tasks and in-app
    notifications for their members)."""
    rep = make_user("sales")
    officer = make_user("compliance")
    order = order_entered(user=rep)
    rule = rule_with_route(
        "compliance",
        "quality",
        category="compliance",
        severity="high",
        message_zh="客户许可证已过期",
        message_en="The customer's licence has expired",
    )
    event = event_for(rule, source=order)
    with django_capture_on_commit_callbacks(execute=True):
        order_hold_refresh(source=order)
        handling.exception_event_route_on_commit(event=event)
    order.refresh_from_db()
    return order, event, rep, officer


def test_hold_summary_and_timeline_read_in_the_readers_language(held_order, client, api_client_for):
    # given
    order, event, rep, _officer = held_order
    api = api_client_for(rep)
    client.force_login(rep)

    # when
    zh = _api_get(api, f"/api/v1/orders/{order.pk}/", ZH)["hold_summary"]
    en = _api_get(api, f"/api/v1/orders/{order.pk}/", EN)["hold_summary"]
    page_zh = client.get(f"/orders/{order.pk}/", HTTP_ACCEPT_LANGUAGE=ZH).content.decode()
    page_en = client.get(f"/orders/{order.pk}/", HTTP_ACCEPT_LANGUAGE=EN).content.decode()

    # then: the API's hold summary and the timeline's hold entry, each in its reader's language
    assert f"{event.number} 客户许可证已过期" in zh and "licence" not in zh
    assert f"{event.number} The customer's licence has expired" in en and "客户许可证已过期" not in en
    timeline_zh = page_zh[page_zh.index('class="timeline') :]
    timeline_en = page_en[page_en.index('class="timeline') :]
    assert "客户许可证已过期" in timeline_zh
    assert "The customer&#x27;s licence has expired" in timeline_en
    assert "客户许可证已过期" not in timeline_en


def test_routing_log_notifications_and_resolution_read_in_the_readers_language(held_order, api_client_for):
    # given: the order is cancelled (its event closes with the typed reason inside a system sentence)
    order, event, rep, officer = held_order
    order_cancel(order=order, user=rep, reason="客户改期")
    api = api_client_for(officer)

    # when
    detail_zh = _api_get(api, f"/api/v1/exceptions/events/{event.pk}/", ZH)
    detail_en = _api_get(api, f"/api/v1/exceptions/events/{event.pk}/", EN)
    inbox_zh = _api_get(api, "/api/v1/exceptions/notifications/", ZH)["results"]
    inbox_en = _api_get(api, "/api/v1/exceptions/notifications/", EN)["results"]

    # then: the routing entry names the departments in the reader's language
    routed_zh = next(e["comment"] for e in detail_zh["log"] if e["action"] == LogAction.ROUTED)
    routed_en = next(e["comment"] for e in detail_en["log"] if e["action"] == LogAction.ROUTED)
    assert routed_zh == "合规部, 质量部"
    assert routed_en == "Compliance, Quality"
    # the closing entry and the resolution: a system sentence around the reason as typed
    closed_zh = next(e["comment"] for e in detail_zh["log"] if e["action"] == LogAction.AUTO_RESOLVED)
    closed_en = next(e["comment"] for e in detail_en["log"] if e["action"] == LogAction.AUTO_RESOLVED)
    assert closed_zh == detail_zh["resolution"] == "订单已取消：客户改期"
    assert closed_en == detail_en["resolution"] == "Order cancelled: 客户改期"
    # the notification: title and body in the reader's language
    mine_zh = next(n for n in inbox_zh if n["event_number"] == event.number)
    mine_en = next(n for n in inbox_en if n["event_number"] == event.number)
    assert mine_zh["title"] == f"{event.number} · 您的部门有新异常" and mine_zh["body"] == "客户许可证已过期"
    assert mine_en["title"] == f"{event.number} · New exception for your department"
    assert mine_en["body"] == "The customer's licence has expired"


def test_event_page_and_notification_page_read_in_the_readers_language(held_order, client):
    # given
    order, event, rep, officer = held_order
    order_cancel(order=order, user=rep, reason="客户改期")
    client.force_login(officer)

    # when
    page_zh = client.get(f"/exceptions-center/events/{event.number}/", HTTP_ACCEPT_LANGUAGE=ZH).content.decode()
    page_en = client.get(f"/exceptions-center/events/{event.number}/", HTTP_ACCEPT_LANGUAGE=EN).content.decode()

    # then
    assert "订单已取消：客户改期" in page_zh and "Order cancelled" not in page_zh
    assert "Order cancelled: 客户改期" in page_en and "订单已取消" not in page_en


def test_rules_engine_and_low_severity_texts_read_in_the_readers_language(make_user, route_low):
    # given: a low-severity event the rule resolves by itself, logged by the system
    event = route_low()

    # when
    entry = EventLogEntry.objects.get(event=event, action=LogAction.AUTO_ACTION)
    event.refresh_from_db()

    # then
    with translation.override(EN):
        assert entry.comment_display == f"Low severity: logged and resolved automatically by rule {event.rule.code}."
        assert event.resolution_display == entry.comment_display
    with translation.override(ZH):
        assert HAN.search(entry.comment_display) and event.rule.code in entry.comment_display
        assert HAN.search(event.resolution_display)


@pytest.fixture
def route_low(django_capture_on_commit_callbacks):
    def _route_low() -> ExceptionEvent:
        rule = rule_with_route("sales_management", severity="low", blocking=False, low_action="auto_resolve")
        event = event_for(rule)
        with django_capture_on_commit_callbacks(execute=True):
            handling.exception_event_route_on_commit(event=event)
        event.refresh_from_db()
        return event

    return _route_low


def test_review_digest_reads_in_the_readers_language(make_user):
    # given: a low-severity event waiting in the review queue of sales management
    reviewer = make_user("sales_manager")
    rule = rule_with_route(
        "sales_management", severity="low", blocking=False, message_zh="价格偏低", message_en="Low price"
    )
    event_for(rule)

    # when
    handling.exception_events_review_digest()
    digest = Notification.objects.get(kind="exception.review_digest", recipient=reviewer, channel="in_app")

    # then
    with translation.override(EN):
        assert "Low-severity exceptions awaiting review" in digest.title_display
        assert "Low price" in digest.body_display and "价格偏低" not in digest.body_display
    with translation.override(ZH):
        assert "价格偏低" in digest.body_display and "Low price" not in digest.body_display
        assert digest.title_display.startswith("销售管理：")


def test_lot_hold_reason_from_an_excursion_reads_in_the_readers_language(make_user, api_client_for):
    # given: a lot put on hold by the system (a temperature excursion)
    from tests.traceability.factories import in_days, product, released_stock, warehouse

    lot = released_stock(product=product(), warehouse=warehouse(), quantity=5, expiry=in_days(400))
    quality = make_user("quality")
    with translation.override(EN):  # the system acts in whatever language; readers each get theirs
        lots_hold(lot_ids=[lot.pk], user=None, reason=stored_text(traceability_texts.EXCURSION_HOLD))
    api = api_client_for(quality)

    # when
    zh = _api_get(api, f"/api/v1/traceability/lots/{lot.pk}/", ZH)
    en = _api_get(api, f"/api/v1/traceability/lots/{lot.pk}/", EN)

    # then
    assert zh["status"] == en["status"] == LotStatus.ON_HOLD
    assert zh["status_reason"] == "温度偏离"
    assert en["status_reason"] == "temperature excursion"


@pytest.mark.parametrize(("language", "expected"), [(ZH, "备注已添加。"), (EN, "Comment added.")])
def test_flash_message_after_an_action_is_in_the_readers_language(held_order, client, language, expected):
    # given
    _order, event, _rep, officer = held_order
    client.force_login(officer)

    # when
    response = client.post(
        f"/exceptions-center/events/{event.number}/comment/",
        {"comment": "已联系客户"},
        HTTP_ACCEPT_LANGUAGE=language,
        follow=True,
    )

    # then
    flashed = [str(m) for m in response.context["messages"]]
    assert expected in flashed, flashed


def test_old_rows_without_a_key_keep_their_text(held_order):
    # given: an order and a log entry written before texts were stored as keys
    order, event, _rep, _officer = held_order
    order.hold_summary_text = {}
    entry = EventLogEntry.objects.create(event=event, action=LogAction.COMMENTED, comment="旧的系统文本")

    # then
    with translation.override(EN):
        assert order.hold_reason == order.hold_summary
        assert entry.comment_display == "旧的系统文本"
    assert ContentType.objects.get_for_model(order).model == "salesorder"


def test_data_migrations_give_existing_system_texts_their_keys(held_order):
    # given: rows as the system wrote them before texts were keys (plain Chinese, no key)
    from importlib import import_module
    from types import SimpleNamespace

    from django.apps import apps
    from django.db import connection

    from erp.kernel.append_only import append_only_suspended, tables_with_trigger

    order, event, _rep, _officer = held_order
    with append_only_suspended(connection, EventLogEntry._meta.db_table):  # the log is append-only (R29)
        EventLogEntry.objects.filter(event=event).update(comment_text={})
    order.__class__.objects.filter(pk=order.pk).update(hold_summary_text={})
    exceptions_migration = import_module("exceptions_center.migrations.0004_stored_texts_log_resolution_notification")
    orders_migration = import_module("orders.migrations.0007_stored_texts_hold_summary")
    schema_editor = SimpleNamespace(connection=connection)

    # when (the log's backfill suspends its append-only trigger for itself)
    exceptions_migration.system_texts_as_keys(apps, schema_editor)
    orders_migration.hold_summaries_as_keys(apps, schema_editor)

    # then: the routing entry and the hold read in English again, and the log is append-only again
    assert EventLogEntry._meta.db_table in tables_with_trigger(connection)
    order.refresh_from_db()
    routed = EventLogEntry.objects.get(event=event, action=LogAction.ROUTED)
    with translation.override(EN):
        assert routed.comment_display == "Compliance, Quality"
        assert f"{event.number} The customer's licence has expired" in order.hold_reason
