"""The CEL engine: compile once, cache per rule version, notice changes in every process, functions,
iterate_over with detail keys, errors on real facts that never break a save."""

from __future__ import annotations

import datetime as dt
import logging

import pytest
from django.utils import timezone

from exceptions_center import engine
from exceptions_center.facts_registry import allowed_roots, cel_value, facts_samples
from exceptions_center.models import EventStatus, ExceptionEvent, Rule
from exceptions_center.services.rules import rule_save, rules_evaluate
from tests.exceptions_center.engine_factories import engine_facts, make_order, rule_saved, set_discount  # noqa: F401
from tests.exceptions_center.factories import RuleFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("engine_facts")]


def test_compiled_rules_compile_once_and_are_reused():
    # given
    rule = rule_saved(condition="order.gross_fen > 100")
    # when
    first = engine.compiled_rules("order.saved")
    second = engine.compiled_rules("order.saved")
    # then
    assert [c.code for c in first] == [rule.code]
    assert first[0] is second[0]
    assert first[0].program is second[0].program


def test_rule_update_is_used_by_the_next_evaluation_without_restart():
    # given: a rule that fires, evaluated once (compiled and cached)
    order = make_order(lines=1)
    rule = rule_saved(condition="order.gross_fen > 0")
    assert len(rules_evaluate(event="order.saved", source=order).raised) == 1
    # when: the rule changes so that it no longer fires
    rule.condition = "order.gross_fen > 100000000"
    rule_save(rule=rule, user=None)
    result = rules_evaluate(event="order.saved", source=order)
    # then
    assert [e.rule_id for e in result.resolved] == [rule.pk]
    assert engine.compiled_rules("order.saved")[0].condition == "order.gross_fen > 100000000"


def test_change_made_by_another_process_is_noticed():
    # given: this process has the rule compiled
    order = make_order(lines=1)
    rule = rule_saved(condition="order.gross_fen > 100000000")
    assert rules_evaluate(event="order.saved", source=order).raised == []
    # when: another process changes the row (only the database is shared)
    Rule.objects.filter(pk=rule.pk).update(condition="order.gross_fen > 0", updated_at=timezone.now())
    result = rules_evaluate(event="order.saved", source=order)
    # then
    assert [e.rule_id for e in result.raised] == [rule.pk]


def test_fresh_process_compiles_from_the_database():
    # given
    rule_saved(condition="order.gross_fen > 0")
    before = engine.compiled_rules("order.saved")[0]
    # when: a new process starts (empty cache)
    engine.cache_clear()
    after = engine.compiled_rules("order.saved")[0]
    # then
    assert after is not before
    assert after.condition == before.condition


def test_disabled_and_new_rules_are_noticed():
    # given
    first = rule_saved(condition="order.gross_fen > 0")
    assert [c.id for c in engine.compiled_rules("order.saved")] == [first.pk]
    # when
    first.enabled = False
    rule_save(rule=first, user=None)
    second = rule_saved(condition="order.gross_fen > 1")
    # then
    assert [c.id for c in engine.compiled_rules("order.saved")] == [second.pk]


def test_unchanged_rules_cost_one_query_and_a_deleted_rule_is_noticed(django_assert_num_queries):
    # given
    first = rule_saved(condition="order.gross_fen > 0")
    second = rule_saved(condition="order.gross_fen > 1")
    assert [c.id for c in engine.compiled_rules("order.saved")] == [first.pk, second.pk]
    # when nothing changed: one query (the fingerprint), the same compiled rules
    with django_assert_num_queries(1):
        again = engine.compiled_rules("order.saved")
    assert [c.id for c in again] == [first.pk, second.pk]
    # when a rule row is deleted elsewhere
    Rule.objects.filter(pk=first.pk).delete()
    # then
    assert [c.id for c in engine.compiled_rules("order.saved")] == [second.pk]


def test_days_between_counts_local_calendar_days():
    # given: 23:30 and 00:30 the next day in Shanghai are one calendar day apart
    tz = timezone.get_current_timezone()
    late = dt.datetime(2026, 3, 1, 23, 30, tzinfo=tz).astimezone(dt.UTC)
    early = dt.datetime(2026, 3, 2, 0, 30, tzinfo=tz).astimezone(dt.UTC)
    context = engine.context_for({"a": late, "b": early})
    # when / then
    assert engine.compile_cel("days_between(a, b)").execute(context) == 1
    assert engine.compile_cel("days_between(b, a)").execute(context) == -1


@pytest.mark.parametrize(
    ("scope", "code", "expected"),
    [
        (["14-02"], "14-02-01", True),
        (["14-02"], "14-02", True),
        (["14-02"], "14-021", False),
        ("07", "07-01", True),
        ([], "14", False),
    ],
)
def test_covers_matches_whole_catalogue_segments(scope, code, expected):
    context = engine.context_for({"scope": scope, "code": code})
    assert engine.compile_cel("covers(scope, code)").execute(context) is expected


def test_values_are_converted_deliberately():
    from decimal import Decimal

    # when
    value = cel_value({"amount": Decimal("12.34"), "day": dt.date(2026, 3, 1), "tags": ("a", "b")})
    # then: money in fen, a date as the UTC timestamp of its local midnight, tuples as lists
    assert value == {"amount": 1234, "day": dt.datetime(2026, 2, 28, 16, 0, tzinfo=dt.UTC), "tags": ["a", "b"]}


def test_engine_roots_and_samples():
    # then
    assert allowed_roots("order.saved") == {"order", "customer", "params", "now", "today"}
    assert "item" in allowed_roots("order.saved", iterate=True)
    samples = facts_samples("order.saved")
    assert len(samples) == 2 and samples[1]["order"]["lines"][0]["product"]["device_class"] == 3


def test_iterate_over_raises_one_event_per_item_keyed_by_detail_key():
    # given: lines 2 and 3 are 20 % below list, the limit is 10 %
    order = make_order(lines=3)
    set_discount(order, 2, "20")
    set_discount(order, 3, "20")
    rule = rule_saved(
        iterate_over="order.lines",
        condition="item.below_list_pct > params.max_pct",
        detail_key="item.key",
        params={"max_pct": 10},
        message_zh="第{item.line_no}行低于目录价{item.below_list_pct}%（上限{params.max_pct}%）",
        message_en=(
            "Line {item.line_no} {item.below_list_pct}% below list (limit {params.max_pct}%), order {order.number}"
        ),
    )
    # when
    result = rules_evaluate(event="order.saved", source=order)
    # then
    events = sorted(result.raised, key=lambda e: e.detail_key)
    assert [e.detail_key for e in events] == ["L2", "L3"]
    assert events[0].message_zh == "第2行低于目录价20%（上限10%）"
    assert events[0].message_en == f"Line 2 20% below list (limit 10%), order {order.number}"
    snapshot = events[0].facts_snapshot
    assert snapshot["item"]["key"] == "L2" and snapshot["item"]["sku"]  # unpruned, though the rule reads no sku
    assert snapshot["order"]["number"] == order.number and "lines" not in snapshot["order"]
    assert snapshot["params"] == {"max_pct": 10}
    assert all(e.rule_id == rule.pk and e.number.startswith("EX-") for e in events)


def test_rule_failing_on_real_facts_is_logged_skipped_and_keeps_its_events(caplog):
    # given: a rule saved around validation (e.g. by a data migration) that fails on a real order
    order = make_order(lines=1, delivery=None)
    good = rule_saved(condition="order.gross_fen > 0")
    bad = RuleFactory(
        code="BAD-DATE", condition="order.gross_fen > 0 && days_between(today, order.requested_delivery_date) < 3"
    )
    rules_evaluate(event="order.saved", source=order)  # the bad rule fails, the good one raises
    ExceptionEvent.objects.create(
        number="EX-2026-999999",
        rule=bad,
        category="business",
        severity="high",
        source_type_id=ExceptionEvent.objects.get(rule=good).source_type_id,
        source_id=order.pk,
        source_label=order.number,
        message_zh="x",
        message_en="x",
    )
    # when
    with caplog.at_level(logging.ERROR, logger="exceptions_center.rules"):
        result = rules_evaluate(event="order.saved", source=order)
    # then: the save goes on, the error is reported with the rule code, the bad rule's event is untouched
    assert "BAD-DATE" in result.errors
    assert any("BAD-DATE" in record.getMessage() for record in caplog.records)
    assert ExceptionEvent.objects.get(rule=bad).status == EventStatus.OPEN
    assert ExceptionEvent.objects.get(rule=good).status == EventStatus.OPEN


def test_one_failing_item_does_not_stop_the_other_items():
    # given: line 2's product misses the field the rule reads (a provider gap), line 1 fires
    order = make_order(lines=2)
    rule = RuleFactory(
        code="ITEM-ERR",
        iterate_over="order.lines",
        condition="item.line_no == 1 || item.missing_field",
        detail_key="item.key",
    )
    # when
    result = rules_evaluate(event="order.saved", source=order)
    # then
    assert [e.detail_key for e in result.raised] == ["L1"]
    assert "ITEM-ERR" in result.errors
    assert rule.events.count() == 1


def test_rules_over_the_same_list_run_in_one_pass_and_a_failing_one_is_isolated():
    # given: two line rules (grouped in one pass) and a third that fails on every line
    order = make_order(lines=3)
    set_discount(order, 3, "40")
    common = {"iterate_over": "order.lines", "detail_key": "item.key"}
    below = RuleFactory(code="G-BELOW", condition="item.below_list_pct > 30.0", **common)
    first = RuleFactory(code="G-FIRST", condition="item.line_no == 1", **common)
    broken = RuleFactory(code="G-BROKEN", condition="item.nope > 1", **common)
    # when
    result = rules_evaluate(event="order.saved", source=order)
    # then
    assert sorted((e.rule_id, e.detail_key) for e in result.raised) == sorted([(below.pk, "L3"), (first.pk, "L1")])
    assert list(result.errors) == ["G-BROKEN"] and not broken.events.exists()
