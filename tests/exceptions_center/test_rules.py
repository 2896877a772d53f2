"""Rule services: validation at save (where the error is), event sync (raise, refresh, auto-resolve,
reopen, never duplicate), a fixed number of queries, dry run and backtest writing nothing."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from exceptions_center.models import EventLogEntry, EventStatus, ExceptionEvent, LogAction, Rule
from exceptions_center.services import rule_backtest, rule_dry_run, rule_validate, rules_evaluate
from exceptions_center.services.rules import rule_save
from tests.exceptions_center.engine_factories import engine_facts, make_order, rule_saved, set_discount  # noqa: F401

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("engine_facts")]


def _draft(**fields) -> Rule:
    defaults = {
        "code": "DRAFT-1",
        "name_zh": "草稿",
        "name_en": "Draft",
        "category": "business",
        "event": "order.saved",
        "severity": "medium",
        "condition": "order.gross_fen > 0",
        "message_zh": "异常",
        "message_en": "Exception",
    }
    return Rule(**{**defaults, **fields})


def _errors(rule: Rule) -> dict[str, list[str]]:
    with pytest.raises(ValidationError) as caught:
        rule_validate(rule=rule)
    return caught.value.message_dict


# --- validation ---------------------------------------------------------------------------------


def test_rule_validate_accepts_a_sound_rule():
    rule_validate(rule=_draft(condition="customer.is_active && order.gross_fen > params.limit", params={"limit": 5}))


def test_rule_validate_reports_syntax_error_with_line_and_column():
    errors = _errors(_draft(condition="order.gross_fen > 0 &&\n  (customer.is_active ||)"))
    assert errors["condition"][0].startswith("Syntax error at line 2, column 25")


def test_rule_validate_reports_unknown_root_with_position():
    errors = _errors(_draft(condition="order.gross_fen > 0 && licence.valid"))
    assert "Unknown fact “licence” at line 1, column 24" in errors["condition"][0]


def test_rule_validate_reports_unknown_field_on_the_samples():
    errors = _errors(_draft(condition="order.gros_fen > 0"))
    assert "gros_fen" in errors["condition"][0] and "line 1, column 7" in errors["condition"][0]


def test_rule_validate_checks_the_side_of_or_that_samples_short_circuit():
    # the misspelt right side is only reached when the customer is inactive (sample 2)
    errors = _errors(_draft(condition="customer.is_active || order.gross_fen > 1.5 + 1"))
    assert "“order.gross_fen > 1.5 + 1” (line 1, column 23) fails on sample 2" in errors["condition"][0]


def test_rule_validate_accepts_a_null_guard():
    rule_validate(
        rule=_draft(
            condition="order.requested_delivery_date != null && days_between(today, order.requested_delivery_date) < 3"
        )
    )


def test_rule_validate_refuses_an_unguarded_null():
    errors = _errors(_draft(condition="days_between(today, order.requested_delivery_date) < 3"))
    assert "fails on sample 2" in errors["condition"][0]


def test_rule_validate_refuses_a_condition_that_is_not_boolean():
    errors = _errors(_draft(condition="order.gross_fen"))
    assert "must give true or false" in errors["condition"][0]


def test_rule_validate_refuses_item_without_iterate_over_and_iterate_over_without_detail_key():
    assert "“item” is only defined" in _errors(_draft(condition="item.quantity > 1"))["condition"][0]
    errors = _errors(_draft(iterate_over="order.lines", condition="item.quantity > 1"))
    assert "detail key" in errors["detail_key"][0]


def test_rule_validate_checks_placeholders():
    errors = _errors(
        _draft(message_zh="订单{order.numbr}", message_en="{customer.code} {invoice.number} {order.gross_fen|eur}")
    )
    assert "{order.numbr}" in errors["message_zh"][0]
    assert any("invoice" in m for m in errors["message_en"]) and any("eur" in m for m in errors["message_en"])


def test_rule_save_refuses_an_invalid_rule_and_writes_nothing():
    # given
    before = Rule.objects.count(), Rule.history.count()
    # when
    with pytest.raises(ValidationError):
        rule_save(rule=_draft(condition="order.gross_fen >"), user=None)
    # then
    assert (Rule.objects.count(), Rule.history.count()) == before


# --- sync -----------------------------------------------------------------------------------------


def test_rules_evaluate_raises_then_refreshes_without_duplicating():
    # given
    order = make_order(lines=2)
    rule = rule_saved(condition="order.gross_fen > 0", message_en="Order {order.number} total {order.gross_fen|yuan}")
    # when
    first = rules_evaluate(event="order.saved", source=order)
    second = rules_evaluate(event="order.saved", source=order)
    # then
    assert len(first.raised) == 1 and second.raised == []
    assert [e.pk for e in second.refreshed] == [first.raised[0].pk]
    event = ExceptionEvent.objects.get(rule=rule)
    assert event.status == EventStatus.OPEN
    assert event.message_en == f"Order {order.number} total {order.gross_amount:,.2f}"
    assert event.sla_due_at == event.raised_at + __import__("datetime").timedelta(hours=8)
    assert event.source == order and event.source_label == order.number
    assert event.history.count() == 1
    assert list(event.log.values_list("action", flat=True)) == [LogAction.RAISED]
    assert [e.pk for e in second.active] == [event.pk]


def test_rules_evaluate_auto_resolves_with_reason_then_reopens():
    # given: a line 20 % below list raises
    order = make_order(lines=2)
    set_discount(order, 1, "20")
    rule_saved(
        iterate_over="order.lines",
        condition="item.below_list_pct > 10.0",
        detail_key="item.key",
        message_zh="第{item.line_no}行",
        message_en="Line {item.line_no}",
    )
    raised = rules_evaluate(event="order.saved", source=order).raised[0]
    # when: the price is fixed
    set_discount(order, 1, "0")
    fixed = rules_evaluate(event="order.saved", source=order)
    # then
    raised.refresh_from_db()
    assert [e.pk for e in fixed.resolved] == [raised.pk]
    assert raised.status == EventStatus.AUTO_RESOLVED and raised.closed_at is not None
    entry = raised.log.get(action=LogAction.AUTO_RESOLVED)
    assert "no longer true" in entry.comment
    # when: the discount comes back
    set_discount(order, 1, "25")
    again = rules_evaluate(event="order.saved", source=order)
    # then: the same event reopens (no duplicate), with the new facts
    raised.refresh_from_db()
    assert [e.pk for e in again.reopened] == [raised.pk] and again.raised == []
    assert raised.status == EventStatus.OPEN and raised.closed_at is None
    assert raised.facts_snapshot["item"]["below_list_pct"] == 25.0
    assert ExceptionEvent.objects.filter(source_id=order.pk).count() == 1
    assert raised.log.filter(action=LogAction.REOPENED).count() == 1
    assert raised.history.count() == 3  # raised, auto-resolved, reopened


def test_rules_evaluate_leaves_a_waived_event_alone_while_still_true():
    # given
    order = make_order(lines=1)
    rule_saved(condition="order.gross_fen > 0")
    event = rules_evaluate(event="order.saved", source=order).raised[0]
    ExceptionEvent.objects.filter(pk=event.pk).update(status=EventStatus.WAIVED)
    # when
    result = rules_evaluate(event="order.saved", source=order)
    # then
    event.refresh_from_db()
    assert event.status == EventStatus.WAIVED and result.raised == [] and result.reopened == []


def test_rules_evaluate_refreshes_message_when_facts_change():
    # given
    order = make_order(lines=1)
    rule_saved(condition="order.gross_fen > 0", message_en="Lines: {order.line_count}")
    event = rules_evaluate(event="order.saved", source=order).raised[0]
    # when: same order, another line
    order2_line = make_order(lines=1).lines.get()
    order2_line.order = order
    order2_line.line_no = 2
    order2_line.save()
    rules_evaluate(event="order.saved", source=order)
    # then
    event.refresh_from_db()
    assert event.message_en == "Lines: 2" and event.version == 2
    assert event.log.filter(action=LogAction.REFRESHED).count() == 1


def test_concurrent_insert_of_the_same_key_is_taken_as_existing():
    # given: another transaction raised the same (rule, source, detail key) after we looked
    from exceptions_center import engine
    from exceptions_center.services import evaluation as rules_module

    order = make_order(lines=1)
    rule = rule_saved(condition="order.gross_fen > 0")
    theirs = rules_evaluate(event="order.saved", source=order).raised[0]
    compiled = engine.compiled_rules("order.saved")[0]
    hit = engine.Hit("")
    from django.contrib.contenttypes.models import ContentType
    from django.db import transaction
    from django.utils import timezone

    now = timezone.now()
    would = rules_module._would_be(compiled, {"order": {"number": order.number}}, hit, now)
    ours = rules_module._new_event(compiled, would, ContentType.objects.get_for_model(order), order, order.number, now)
    result = rules_module.EvaluationResult()
    # when
    with transaction.atomic():
        created = rules_module._insert([(ours, would)], user=None, now=now, result=result, existing={}, logs=[])
    # then
    assert created == [] and [e.pk for e in result.refreshed] == [theirs.pk]
    assert ExceptionEvent.objects.filter(rule=rule).count() == 1


# --- queries --------------------------------------------------------------------------------------


def _queries(order) -> int:
    rules_evaluate(event="order.saved", source=order)  # warm: compiled, events synced
    with CaptureQueriesContext(connection) as captured:
        rules_evaluate(event="order.saved", source=order)
    return len(captured)


def test_query_count_is_constant_in_the_number_of_lines():
    # given: a per-line rule and a header rule, one firing
    rule_saved(iterate_over="order.lines", condition="item.quantity > 100", detail_key="item.key")
    rule_saved(condition="order.gross_fen > 0")
    # when
    one, twenty = _queries(make_order(lines=1)), _queries(make_order(lines=20))
    # then
    assert one == twenty


def test_query_count_is_constant_in_the_number_of_rules():
    # given
    order_a, order_b = make_order(lines=5), make_order(lines=5)
    rule_saved(condition="order.gross_fen > 0")
    with_one = _queries(order_a)
    for n in range(49):
        rule_saved(condition=f"order.gross_fen > {100000000 + n}") if n % 2 else rule_saved(
            iterate_over="order.lines", condition=f"item.quantity > {1000 + n}", detail_key="item.key"
        )
    # when
    with_fifty = _queries(order_b)
    # then
    assert with_one == with_fifty


def test_first_evaluation_queries_do_not_grow_with_lines_or_new_events(django_assert_max_num_queries):
    # given: 20 lines, each firing a per-line rule (20 new events)
    order = make_order(lines=20)
    rule_saved(iterate_over="order.lines", condition="item.quantity > 0", detail_key="item.key", blocking=False)
    rules_evaluate(event="order.saved", source=make_order(lines=1))  # compile outside the count
    # when / then: one number per new event, everything else in bulk
    with django_assert_max_num_queries(20 + 14):
        result = rules_evaluate(event="order.saved", source=order)
    assert len(result.raised) == 20


# --- dry run and backtest ---------------------------------------------------------------------------


def _written():
    return (
        ExceptionEvent.objects.count(),
        ExceptionEvent.history.count(),
        EventLogEntry.objects.count(),
        Rule.objects.count(),
        Rule.history.count(),
    )


def test_rule_dry_run_of_a_draft_lists_would_be_events_and_writes_nothing():
    # given
    order = make_order(lines=3)
    set_discount(order, 2, "30")
    draft = _draft(
        iterate_over="order.lines",
        condition="item.below_list_pct > params.max",
        detail_key="item.key",
        params={"max": 10},
        message_en="Line {item.line_no}: {item.below_list_pct}%",
    )
    before = _written()
    # when
    would = rule_dry_run(rule=draft, source=order)
    # then
    assert [(w["detail_key"], w["message_en"], w["action"]) for w in would] == [("L2", "Line 2: 30%", "raise")]
    assert _written() == before


def test_rule_dry_run_of_a_saved_rule_says_refresh_for_an_existing_event():
    order = make_order(lines=1)
    rule = rule_saved(condition="order.gross_fen > 0")
    event = rules_evaluate(event="order.saved", source=order).raised[0]
    before = _written()
    would = rule_dry_run(rule=rule, source=order)
    assert would[0]["action"] == "refresh" and would[0]["existing_event"] == event.number
    assert _written() == before


def test_rule_backtest_runs_on_recent_orders_and_writes_nothing():
    # given: three orders, two of them big
    small, big1, big2 = make_order(lines=1), make_order(lines=5), make_order(lines=6)
    threshold = small.gross_amount * 100 + 1
    draft = _draft(condition=f"order.gross_fen > {int(threshold)}")
    before = _written()
    # when
    found = rule_backtest(rule=draft, days=7)
    # then
    assert {order.pk for order, _events in found} == {big1.pk, big2.pk}
    assert _written() == before


def test_rules_evaluate_renders_each_message_in_its_own_language_whatever_the_request():
    # given a message showing a boolean fact, evaluated while Chinese is active
    from django.utils import translation

    order = make_order(lines=1)
    rule_saved(
        condition="order.gross_fen > 0",
        message_zh="客户有效：{customer.is_active}",
        message_en="Customer active: {customer.is_active}",
    )
    # when
    with translation.override("zh-hans"):
        rules_evaluate(event="order.saved", source=order)
    # then the Chinese message says 是 and the English one says yes
    event = ExceptionEvent.objects.get()
    assert (event.message_zh, event.message_en) == ("客户有效：是", "Customer active: yes")
