"""A high-severity event fans out, through a real worker on Redis, to one task per department and
their notifications; with the broker down, the sweeper delivers them exactly once when it is back."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from exceptions_center.models import Channel, DispatchState, ExceptionEvent, HandlingTask, Notification
from exceptions_center.services import handling, notifications
from tests.exceptions_center.factories import event_for, rule_with_route

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def _wait_for(predicate, timeout: float = 15.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


def _all_delivered(event) -> bool:
    rows = Notification.objects.filter(event=event)
    return rows.exists() and not rows.exclude(dispatch_state=DispatchState.DONE).exists()


def test_high_event_fans_out_through_a_real_worker(celery_worker_redis, departments, make_user):
    # given members of the three departments on a high rule's route
    compliance, quality, warehouse = make_user("compliance"), make_user("quality"), make_user("warehouse")
    rule = rule_with_route("compliance", "quality", "warehouse", category="compliance", severity="high")
    # when an event is raised and the transaction commits
    with transaction.atomic():
        event = event_for(rule)
        handling.exception_event_route_on_commit(event=event)
    # then the worker creates one task per department, and each member's notifications are delivered
    assert _wait_for(lambda: HandlingTask.objects.filter(event=event).count() == 3)
    assert _wait_for(lambda: _all_delivered(event))
    assert set(HandlingTask.objects.filter(event=event).values_list("department__code", flat=True)) == {
        "compliance",
        "quality",
        "warehouse",
    }
    in_app = Notification.objects.filter(event=event, channel=Channel.IN_APP, kind="exception.routed")
    assert set(in_app.values_list("recipient", flat=True)) == {compliance.pk, quality.pk, warehouse.pk}
    assert ExceptionEvent.objects.get(pk=event.pk).dispatch_state == DispatchState.DONE


def test_broker_outage_then_sweeper_delivers_exactly_once(celery_worker_redis, departments, make_user):
    from kombu import pools

    from erp.celery import app

    compliance = make_user("compliance")
    rule = rule_with_route("compliance", category="compliance", severity="high")
    good_url = app.conf.broker_url

    def switch(url):
        app.conf.broker_url = url
        app._pool = None
        app.amqp._producer_pool = None
        pools.reset()

    # given the broker is unreachable when the event is raised: the request still succeeds
    switch("redis://127.0.0.1:1/0")
    try:
        with transaction.atomic():
            event = event_for(rule)
            handling.exception_event_route_on_commit(event=event)
    finally:
        switch(good_url)
    assert ExceptionEvent.objects.get(pk=event.pk).dispatch_state == DispatchState.PENDING
    # when the broker is back and the sweeper runs (a minute later), twice
    ExceptionEvent.objects.filter(pk=event.pk).update(raised_at=timezone.now() - timedelta(minutes=2))
    notifications.notifications_sweep()
    assert _wait_for(lambda: _all_delivered(event))
    Notification.objects.filter(event=event).update(created_at=timezone.now() - timedelta(minutes=2))
    assert notifications.notifications_sweep()["notifications"] == 0
    # then one task, and the officer's notification delivered exactly once
    assert HandlingTask.objects.filter(event=event).count() == 1
    rows = Notification.objects.filter(event=event, recipient=compliance)
    assert rows.filter(channel=Channel.IN_APP).count() == 1
    assert rows.filter(channel=Channel.EMAIL).count() == 1
    from django.core import mail

    assert sum(1 for m in mail.outbox if compliance.email in m.to) == 1
