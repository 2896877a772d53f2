"""The rules engine's cost budget: refused statically before anything runs (validation), and skipped
with a logged rule error at evaluation when the real facts would make a rule too costly."""

from __future__ import annotations

import logging

import pytest

from exceptions_center import engine
from exceptions_center.models import ExceptionEvent, Rule
from exceptions_center.services.rules import rules_evaluate
from tests.exceptions_center.engine_factories import engine_facts, make_order, rule_saved  # noqa: F401

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("engine_facts")]


def _problems(condition: str, **fields) -> dict[str, list[str]]:
    draft = {
        "event": "order.saved",
        "iterate_over": "",
        "condition": condition,
        "detail_key": "",
        "params": {},
        "message_zh": "订单{order.number}",
        "message_en": "Order {order.number}",
    }
    draft.update(fields)
    return engine.rule_problems(**draft)


def _nested_all(depth: int) -> str:
    names = [f"l{i}" for i in range(depth)]
    opening = "".join(f"order.lines.all({name}, " for name in names)
    return opening + " && ".join(f"{name}.quantity > 0" for name in names) + ")" * depth


@pytest.mark.parametrize("depth", [5, 6])
def test_validation_refuses_deeply_nested_macros_before_running_them(depth):
    # given: 5 nested .all took 5 s to validate, 6 two minutes (the dry runs blew up)
    condition = _nested_all(depth)
    # when
    problems = _problems(condition)
    # then
    assert list(problems) == ["condition"]
    assert f"nested {depth} deep" in problems["condition"][0]
    assert "at most 3 levels" in problems["condition"][0]


def test_validation_counts_for_each_as_a_level_of_nesting():
    # given: a per-line rule whose condition nests three more iterations
    condition = _nested_all(3)
    # when
    problems = _problems(condition, iterate_over="order.lines", detail_key="item.key")
    # then
    assert "nested 4 deep (counting “for each”)" in problems["condition"][0]


def test_validation_refuses_a_huge_list_literal():
    # given
    condition = "order.line_count in [" + ", ".join(str(n) for n in range(500)) + "]"
    # when
    problems = _problems(condition)
    # then
    assert "has 500 items; at most 200" in problems["condition"][0]


def test_validation_refuses_a_literal_product_over_the_cost_budget():
    # given: two nested iterations over literal lists of 150 items, each within the literal limit (this
    # took 16 s to validate before the budget)
    big = "[" + ", ".join(str(n) for n in range(150)) + "]"
    condition = f"{big}.exists(a, {big}.exists(b, a * b == order.gross_fen + 1 + 2 + 3 + 4 + 5 + 6 + 7 + 8))"
    # when
    problems = _problems(condition)
    # then
    assert "estimated cost" in problems["condition"][0]


def test_validation_refuses_an_overlong_expression():
    # given
    condition = "order.gross_fen > 0" + " && order.gross_fen > 0" * 400
    # when
    problems = _problems(condition)
    # then
    assert "at most 4000 are allowed" in problems["condition"][0]


def test_validation_budget_follows_the_settings(settings):
    # given
    settings.ERP_RULES_BUDGET = {"MAX_MACRO_DEPTH": 1}
    # when
    problems = _problems(_nested_all(2))
    # then
    assert "at most 1 levels" in problems["condition"][0]


def test_validation_accepts_a_usual_rule_with_nested_macros():
    # given: an order-level rule with two levels of iteration, like a catalogue rule could have
    condition = "order.lines.exists(l, order.lines.exists(m, l.sku == m.sku && l.line_no != m.line_no))"
    # when / then
    assert _problems(condition) == {}
    assert _problems("item.below_list_pct > 5", iterate_over="order.lines", detail_key="item.key") == {}


def test_api_refuses_nested_macros_with_a_clear_400(make_user, api_client_for):
    # given
    client = api_client_for(make_user("compliance"))
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    body = {
        "code": "API-NEST",
        "name_zh": "嵌套",
        "name_en": "Nested",
        "category": "business",
        "event": "order.saved",
        "condition": _nested_all(6),
        "message_zh": "订单{order.number}",
        "message_en": "Order {order.number}",
        "severity": "low",
    }
    # when
    response = client.post("/api/v1/exceptions/rules/", body, format="json")
    # then
    assert response.status_code == 400
    assert response.json()["code"] == "validation_error"
    assert "nested 6 deep" in response.json()["fields"]["condition"][0]
    assert not Rule.objects.filter(code="API-NEST").exists()


def test_evaluation_skips_a_rule_over_the_budget_on_these_facts(settings, caplog):
    # given: a rule within the validation budget, and an evaluation budget these 20 lines exceed
    rule = rule_saved(
        code="T-PAIRS",
        condition="order.lines.exists(l, order.lines.exists(m, l.sku == m.sku && l.line_no != m.line_no))",
    )
    cheap = rule_saved(code="T-CHEAP", condition="order.gross_fen > 0")
    order = make_order(lines=20)
    settings.ERP_RULES_BUDGET = {"EVALUATION_BUDGET": 1000}
    # when
    with caplog.at_level(logging.ERROR, logger="exceptions_center.rules"):
        result = rules_evaluate(event="order.saved", source=order)
    # then: the costly rule is reported and logged, not run; the others run
    assert "over the evaluation budget" in result.errors["T-PAIRS"]
    assert any("T-PAIRS" in record.getMessage() for record in caplog.records)
    assert not ExceptionEvent.objects.filter(rule=rule).exists()
    assert ExceptionEvent.objects.filter(rule=cheap).count() == 1


def test_evaluation_runs_the_same_rule_within_the_budget():
    # given
    rule = rule_saved(
        code="T-PAIRS",
        condition="order.lines.exists(l, order.lines.exists(m, l.sku == m.sku && l.line_no != m.line_no))",
    )
    order = make_order(lines=3)
    # when
    result = rules_evaluate(event="order.saved", source=order)
    # then
    assert result.errors == {}
    assert not ExceptionEvent.objects.filter(rule=rule).exists()  # distinct products: no pair
