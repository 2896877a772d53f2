"""Celery entry points of the exception center: thin, load by id, call a service.

Every task is idempotent (the database row's ``dispatch_state`` says what is done), so the periodic
sweeper may queue one twice without harm. ``publish`` is how services queue work after commit: when
the broker is down it logs and returns False, leaving the row pending for the sweeper, and never
breaks the request that committed the business change.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from celery import shared_task
from kombu.exceptions import OperationalError

logger = logging.getLogger(__name__)

# What a broker outage looks like when publishing (connection refused, DNS, timeouts).
BROKER_ERRORS = (OperationalError, ConnectionError, OSError, TimeoutError)


def publish(task, *args) -> bool:
    """Queue ``task(*args)``; False (and a warning) when the broker cannot be reached."""
    try:
        task.apply_async(args=args, retry=False)
    except BROKER_ERRORS as exc:
        logger.warning("broker unavailable, %s%r left for the sweeper: %s", task.name, args, exc)
        return False
    return True


def notifications_publish(notification_ids: Iterable[int]) -> int:
    """Queue delivery of each notification; stop at the first broker error. Rows become ``queued``
    before their task can run; those not handed to the broker go back to ``pending``."""
    from exceptions_center.services import notifications

    ids = list(notification_ids)
    notifications.notifications_mark_queued(notification_ids=ids)
    published = 0
    for notification_id in ids:
        if not publish(notification_deliver_task, notification_id):
            break
        published += 1
    notifications.notifications_mark_pending(notification_ids=ids[published:])
    return published


def events_route_publish(event_ids: Iterable[int]) -> int:
    """Queue routing of each event; stop at the first broker error."""
    count = 0
    for event_id in event_ids:
        if not publish(exception_event_route_task, event_id):
            break
        count += 1
    return count


@shared_task(name="exceptions_center.exception_event_route")
def exception_event_route_task(event_id: int) -> None:
    """Route a raised or reopened event by its severity (tasks, approval chain or low action)."""
    from exceptions_center.services.handling import exception_event_route

    exception_event_route(event_id=event_id)


@shared_task(name="exceptions_center.notification_deliver")
def notification_deliver_task(notification_id: int) -> None:
    """Deliver one notification (in-app, e-mail or webhook) unless it was already delivered."""
    from exceptions_center.services.notifications import notification_deliver

    notification_deliver(notification_id=notification_id)


@shared_task(name="exceptions_center.notifications_sweep")
def notifications_sweep_task() -> None:
    """Re-queue notifications and routings still not done a minute after they were written."""
    from exceptions_center.services.notifications import notifications_sweep

    notifications_sweep()


@shared_task(name="exceptions_center.exception_events_sla_scan")
def exception_events_sla_scan_task() -> None:
    """Mark events past their SLA as overdue and tell the departments' managers."""
    from exceptions_center.services.handling import exception_events_mark_overdue

    exception_events_mark_overdue()


@shared_task(name="exceptions_center.exception_events_review_digest")
def exception_events_review_digest_task() -> None:
    """Send each department the daily list of low-severity events awaiting review."""
    from exceptions_center.services.handling import exception_events_review_digest

    exception_events_review_digest()


@shared_task(name="exceptions_center.rule_reevaluate")
def rule_reevaluate_task(reevaluation_id: int) -> None:
    """Re-evaluate the open documents of a changed rule's event (throttled; progress on the row)."""
    from exceptions_center.services.reevaluation import rule_reevaluation_run

    rule_reevaluation_run(reevaluation_id=reevaluation_id)
