"""Rule changes take effect through a real worker on Redis: saving a rule queues the re-evaluation of
the open orders on commit, and the worker records its progress and result."""

from __future__ import annotations

import time

import pytest
from django.db import transaction

from exceptions_center import engine
from exceptions_center.models import ExceptionEvent, ReevaluationStatus, Rule, RuleReevaluation
from exceptions_center.services.rules import rule_save
from tests.exceptions_center.engine_factories import make_order

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def _wait_for(predicate, timeout: float = 30.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


def test_a_saved_rule_re_evaluates_open_orders_through_a_real_worker(celery_worker_redis, settings):
    # given: two open orders, one cancelled; no pause between batches
    settings.ERP_RULES_REEVALUATION = {"BATCH": 1, "PAUSE": 0}
    engine.cache_clear()
    open_orders = [make_order(lines=2), make_order(lines=1)]
    make_order(lines=1, status="cancelled")
    rule = Rule(
        code="T-REEVAL",
        name_zh="大额",
        name_en="Big",
        category="business",
        event="order.saved",
        condition="order.gross_fen > 0",
        message_zh="订单{order.number}",
        message_en="Order {order.number}",
        severity="low",
    )
    # when: saved and committed
    with transaction.atomic():
        rule_save(rule=rule, user=None)
    # then: the worker re-evaluates both open orders and records the result
    assert _wait_for(lambda: RuleReevaluation.objects.filter(rule=rule, status=ReevaluationStatus.DONE).exists())
    run = RuleReevaluation.objects.get(rule=rule)
    assert (run.total, run.done, run.raised, run.resolved) == (2, 2, 2, 0)
    assert set(ExceptionEvent.objects.filter(rule=rule).values_list("source_id", flat=True)) == {
        order.pk for order in open_orders
    }
    engine.cache_clear()
