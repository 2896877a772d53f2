"""Notifications: rows in the business transaction, delivery after commit, exactly once after a broker
outage (sweeper), signed webhooks."""

from __future__ import annotations

import json
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.core import mail
from django.utils import timezone

from erp.celery import app as celery_app
from exceptions_center.models import Channel, DispatchState, ExceptionEvent, Notification, WebhookEndpoint
from exceptions_center.services import handling, notifications
from tests.conftest import PASSWORD
from tests.exceptions_center.factories import event_for, rule_with_route

pytestmark = pytest.mark.django_db


class Receiver:
    """A tiny webhook receiver on 127.0.0.1 (a thread) recording what it got."""

    def __init__(self, status: int = 200):
        self.status = status
        self.requests: list[dict] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.requests.append({"headers": self.headers, "body": body})
                self.send_response(receiver.status)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/erp"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.close()


@pytest.fixture
def endpoint(receiver):
    return WebhookEndpoint.objects.create(name="WMS", url=receiver.url, secret="s3cret-key")


def _reset_broker_pool():
    """Forget the cached broker connections so the next publish uses the new broker URL."""
    from kombu import pools

    celery_app._pool = None
    celery_app.amqp._producer_pool = None
    pools.reset()


class Broker:
    """Switch the Celery broker off (nothing listens on the port: publishing fails fast) and back on
    (eager execution stands in for the worker here; tests/integration uses a real one)."""

    def __init__(self):
        self.saved = (celery_app.conf.task_always_eager, celery_app.conf.broker_url)

    def down(self):
        celery_app.conf.task_always_eager = False
        celery_app.conf.broker_url = "redis://127.0.0.1:1/0"
        _reset_broker_pool()

    def up(self):
        celery_app.conf.task_always_eager, celery_app.conf.broker_url = True, "memory://"
        _reset_broker_pool()

    def restore(self):
        celery_app.conf.task_always_eager, celery_app.conf.broker_url = self.saved
        _reset_broker_pool()


@pytest.fixture
def broker():
    b = Broker()
    yield b
    b.restore()


def _age_everything():
    """Make every row look written two minutes ago, as the sweeper would find them later on."""
    past = timezone.now() - timedelta(minutes=2)
    Notification.objects.update(created_at=past)
    ExceptionEvent.objects.update(raised_at=past)


def _sweep(capture):
    with capture(execute=True):
        return notifications.notifications_sweep()


def test_action_during_broker_outage_is_delivered_exactly_once_after(
    route, broker, endpoint, receiver, compliance_user, make_user, django_capture_on_commit_callbacks
):
    # given a routed compliance event (broker up), a colleague to tell, and then the broker goes down
    colleague = make_user("compliance")
    rule = rule_with_route("compliance", category="compliance", severity="high")
    event = route(event_for(rule))
    receiver.requests.clear()
    mail.outbox.clear()
    broker.down()
    # when the officer resolves it: the request succeeds, the notification rows wait as pending
    with django_capture_on_commit_callbacks(execute=True):
        handling.exception_event_resolve(
            event=event, user=compliance_user, reason="licence renewed", password=PASSWORD, version=event.version
        )
    event.refresh_from_db()
    assert event.status == "resolved"
    rows = Notification.objects.filter(event=event, kind="exception.resolved")
    assert rows.filter(channel=Channel.WEBHOOK).count() == 1
    assert set(rows.values_list("dispatch_state", flat=True)) == {DispatchState.PENDING}
    assert receiver.requests == []
    # when the broker is back and the sweeper runs (twice, and a stray duplicate task arrives too)
    broker.up()
    _age_everything()
    assert _sweep(django_capture_on_commit_callbacks)["notifications"] == rows.count()
    assert _sweep(django_capture_on_commit_callbacks)["notifications"] == 0
    webhook_row = rows.get(channel=Channel.WEBHOOK)
    assert notifications.notification_deliver(notification_id=webhook_row.pk) is False
    # then every row was delivered exactly once
    assert set(rows.values_list("dispatch_state", flat=True)) == {DispatchState.DONE}
    assert len(receiver.requests) == 1
    assert json.loads(receiver.requests[0]["body"])["kind"] == "exception.resolved"
    assert [m.to for m in mail.outbox] == [[colleague.email]]


def test_event_raised_during_broker_outage_is_routed_and_notified_once_after(
    broker, endpoint, receiver, compliance_user, django_capture_on_commit_callbacks
):
    # given the broker is down when an event is raised
    broker.down()
    rule = rule_with_route("compliance", "quality", category="compliance", severity="high")
    event = event_for(rule)
    with django_capture_on_commit_callbacks(execute=True):
        handling.exception_event_route_on_commit(event=event)
    event.refresh_from_db()
    # then nothing crashed, the routing waits as pending
    assert event.dispatch_state == DispatchState.PENDING
    assert not event.tasks.exists()
    # when the broker is back and the sweeper runs twice
    broker.up()
    _age_everything()
    assert _sweep(django_capture_on_commit_callbacks)["events"] == 1
    _age_everything()
    _sweep(django_capture_on_commit_callbacks)
    # then the event fanned out once, and its notifications were delivered once
    assert event.tasks.count() == 2
    routed = Notification.objects.filter(event=event, kind="exception.routed")
    assert routed.filter(channel=Channel.IN_APP, recipient=compliance_user).count() == 1
    assert set(routed.values_list("dispatch_state", flat=True)) == {DispatchState.DONE}
    assert len(receiver.requests) == 1


def test_webhook_is_signed_with_hmac_of_the_body(route, endpoint, receiver):
    # when an event is routed with an active endpoint
    rule = rule_with_route("compliance", category="compliance", severity="high")
    event = route(event_for(rule))
    # then the receiver got the body and a signature it can check with the shared secret
    [request] = receiver.requests
    expected = notifications.webhook_signature(secret="s3cret-key", body=request["body"])
    assert request["headers"][notifications.SIGNATURE_HEADER] == expected
    assert expected.startswith("sha256=") and len(expected) == 71
    payload = json.loads(request["body"])
    assert payload["event"]["number"] == event.number
    assert payload["delivery_id"] == int(request["headers"]["X-ERP-Delivery"])
    assert notifications.webhook_signature(secret="other", body=request["body"]) != expected


def test_webhook_subscribed_kinds_only(route, receiver):
    WebhookEndpoint.objects.create(name="only overdue", url=receiver.url, secret="x", kinds=["exception.overdue"])
    rule = rule_with_route("compliance", category="compliance", severity="high")
    route(event_for(rule))
    assert receiver.requests == []


def test_failing_webhook_stays_pending_then_fails_after_max_attempts(route, endpoint, receiver):
    # given a receiver that answers 500
    receiver.status = 500
    rule = rule_with_route("compliance", category="compliance", severity="high")
    route(event_for(rule))
    row = Notification.objects.get(channel=Channel.WEBHOOK)
    # then the row stays pending with the error, for the sweeper
    assert (row.dispatch_state, row.attempts) == (DispatchState.PENDING, 1)
    assert "500" in row.last_error
    # when it keeps failing up to the limit
    for _ in range(notifications.MAX_ATTEMPTS - 1):
        notifications.notification_deliver(notification_id=row.pk)
    row.refresh_from_db()
    assert (row.dispatch_state, row.attempts) == (DispatchState.FAILED, notifications.MAX_ATTEMPTS)


def test_sweeper_leaves_fresh_rows_alone(route, compliance_user, broker, django_capture_on_commit_callbacks):
    broker.down()
    rule = rule_with_route("compliance", category="compliance", severity="high")
    event = event_for(rule)
    with django_capture_on_commit_callbacks(execute=True):
        handling.exception_event_route_on_commit(event=event)
    broker.up()
    assert _sweep(django_capture_on_commit_callbacks) == {"notifications": 0, "events": 0}


def test_mark_read(route, compliance_user):
    rule = rule_with_route("compliance", category="compliance", severity="high")
    route(event_for(rule))
    route(event_for(rule))
    assert Notification.objects.filter(recipient=compliance_user, channel=Channel.IN_APP, read_at=None).count() == 2
    first = Notification.objects.filter(recipient=compliance_user, channel=Channel.IN_APP).first()
    assert notifications.notifications_mark_read(user=compliance_user, notification_ids=[first.pk]) == 1
    assert notifications.notifications_mark_read(user=compliance_user) == 1
    assert notifications.notifications_mark_read(user=compliance_user) == 0
