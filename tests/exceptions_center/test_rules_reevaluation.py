"""Rule changes take effect: enabling or changing a rule re-evaluates the open documents of its event in
a background task (batched, throttled), with progress on a ``RuleReevaluation`` row and the result in
the rule's history; re-running changes nothing."""

from __future__ import annotations

import pytest

from exceptions_center.models import EventStatus, ExceptionEvent, ReevaluationStatus, Rule, RuleReevaluation
from exceptions_center.services.reevaluation import rule_reevaluation_run
from exceptions_center.services.rules import rule_save
from orders.models import OrderStatus
from tests.exceptions_center.engine_factories import engine_facts, make_order, rule_saved  # noqa: F401

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("engine_facts")]

BELOW = {"iterate_over": "order.lines", "detail_key": "item.key", "message_en": "Line {item.key}"}


@pytest.fixture
def orders():
    """Two open orders with a 30 % discount on line 1, one open without, one cancelled with."""
    return {
        "discounted": [make_order(lines=2, discount="30"), make_order(lines=1, discount="30")],
        "plain": make_order(lines=1, discount="0"),
        "cancelled": make_order(lines=1, discount="30", status=OrderStatus.CANCELLED),
    }


def _events(rule: Rule) -> list[ExceptionEvent]:
    return list(ExceptionEvent.objects.filter(rule=rule).order_by("source_id", "detail_key"))


def test_a_new_rule_re_evaluates_the_open_orders_on_commit(orders, django_capture_on_commit_callbacks):
    # given: a rule saved with the orders already there (no order was saved since)
    # when
    with django_capture_on_commit_callbacks(execute=True):
        rule = rule_saved(condition="item.below_list_pct > 20", **BELOW)
    # then: events on the open discounted orders' lines; the cancelled order is left alone
    run = RuleReevaluation.objects.get(rule=rule)
    assert (run.status, run.total, run.done, run.raised, run.resolved) == (ReevaluationStatus.DONE, 3, 3, 3, 0)
    assert run.started_at and run.finished_at and run.rule_version
    assert {e.source_id for e in _events(rule)} == {o.pk for o in orders["discounted"]}
    note = rule.history.order_by("-history_id").first()
    assert note.history_change_reason == "re-evaluated 3 open documents: 3 events raised, 0 resolved"


def test_changing_the_condition_resolves_what_is_no_longer_true(orders, django_capture_on_commit_callbacks):
    # given
    with django_capture_on_commit_callbacks(execute=True):
        rule = rule_saved(condition="item.below_list_pct > 20", **BELOW)
    # when: the threshold rises above every discount
    rule.params = {"max": 50}
    rule.condition = "item.below_list_pct > params.max"
    with django_capture_on_commit_callbacks(execute=True):
        rule_save(rule=rule, user=None)
    # then
    latest = RuleReevaluation.objects.filter(rule=rule).first()
    assert (latest.raised, latest.resolved) == (0, 3)
    assert {e.status for e in _events(rule)} == {EventStatus.AUTO_RESOLVED}


def test_enabling_a_disabled_rule_re_evaluates_and_disabling_does_not(orders, django_capture_on_commit_callbacks):
    # given
    with django_capture_on_commit_callbacks(execute=True):
        rule = rule_saved(condition="item.below_list_pct > 20", enabled=False, **BELOW)
    assert not RuleReevaluation.objects.filter(rule=rule).exists()
    # when
    rule.enabled = True
    with django_capture_on_commit_callbacks(execute=True):
        rule_save(rule=rule, user=None)
    # then
    assert RuleReevaluation.objects.get(rule=rule).raised == 3


def test_a_change_that_does_not_touch_the_events_queues_nothing(orders, django_capture_on_commit_callbacks):
    # given
    with django_capture_on_commit_callbacks(execute=True):
        rule = rule_saved(condition="item.below_list_pct > 20", **BELOW)
    # when: only the name changes
    rule.name_en = "Renamed"
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        rule_save(rule=rule, user=None)
    # then
    assert callbacks == []
    assert RuleReevaluation.objects.filter(rule=rule).count() == 1


def test_re_running_changes_nothing(orders, django_capture_on_commit_callbacks):
    # given
    with django_capture_on_commit_callbacks(execute=True):
        rule = rule_saved(condition="item.below_list_pct > 20", **BELOW)
    first = RuleReevaluation.objects.get(rule=rule)
    before = [(e.pk, e.status, e.version) for e in _events(rule)]
    # when: the same row again, and a new run of the same rule version
    again = rule_reevaluation_run(reevaluation_id=first.pk)
    second = rule_reevaluation_run(reevaluation_id=RuleReevaluation.objects.create(rule=rule).pk)
    # then
    assert (again.done, again.raised) == (3, 3)
    assert (second.status, second.done, second.raised, second.resolved) == (ReevaluationStatus.DONE, 3, 0, 0)
    assert [(e.pk, e.status, e.version) for e in _events(rule)] == before


def test_re_evaluation_runs_in_batches_with_a_pause(orders, settings, django_capture_on_commit_callbacks, monkeypatch):
    # given: batches of 2, and the pauses recorded instead of slept
    settings.ERP_RULES_REEVALUATION = {"BATCH": 2, "PAUSE": 0.5}
    pauses: list[float] = []
    monkeypatch.setattr("exceptions_center.services.reevaluation.time.sleep", pauses.append)
    # when
    with django_capture_on_commit_callbacks(execute=True):
        rule = rule_saved(condition="item.below_list_pct > 20", **BELOW)
    # then: 3 open orders = a full batch, a pause, the last one
    run = RuleReevaluation.objects.get(rule=rule)
    assert (run.done, run.raised) == (3, 3)
    assert pauses == [0.5]


def test_api_rule_detail_shows_the_latest_re_evaluation(
    orders, make_user, api_client_for, django_capture_on_commit_callbacks
):
    # given
    with django_capture_on_commit_callbacks(execute=True):
        rule = rule_saved(condition="item.below_list_pct > 20", **BELOW)
    client = api_client_for(make_user("compliance"))
    # when
    body = client.get(f"/api/v1/exceptions/rules/{rule.pk}/").json()
    # then
    assert body["reevaluation"]["status"] == "done"
    assert (body["reevaluation"]["total"], body["reevaluation"]["raised"]) == (3, 3)


def test_admin_rule_page_shows_the_re_evaluation(orders, make_user, client, django_capture_on_commit_callbacks):
    # given
    with django_capture_on_commit_callbacks(execute=True):
        rule = rule_saved(condition="item.below_list_pct > 20", **BELOW)
    client.force_login(make_user("compliance", is_staff=True))
    # when
    page = client.get(f"/admin/exceptions_center/rule/{rule.pk}/change/", HTTP_ACCEPT_LANGUAGE="en")
    # then
    assert page.status_code == 200
    assert "3 of 3 open documents re-evaluated, 3 events raised, 0 resolved" in page.content.decode()
