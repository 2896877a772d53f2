"""Notifications: rows written in the business transaction, delivered after commit, swept when stuck.

The ``Notification`` row is the source of truth. A service writes the rows (in-app for each
recipient, e-mail for recipients with an address, one per active webhook endpoint) inside its own
transaction and queues one delivery task per row on commit. Delivery locks the row and skips it when
it is already done, so a row queued twice (sweeper + original task) is delivered once. When the broker
is down the rows stay ``pending`` and ``notifications_sweep`` queues them again once it is back.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import urllib.request
from collections.abc import Iterable
from datetime import timedelta
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from erp.kernel.messages import StoredText, both, is_stored_text, render_stored, stored_text
from exceptions_center import texts
from exceptions_center.models import (
    ACTIVE_STATUSES,
    Channel,
    Department,
    DispatchState,
    ExceptionEvent,
    Notification,
    WebhookEndpoint,
)

logger = logging.getLogger(__name__)

WEBHOOK_TIMEOUT_SECONDS = 5
MAX_ATTEMPTS = 8
SWEEP_AFTER = timedelta(minutes=1)
SIGNATURE_HEADER = "X-ERP-Signature"


class Kind:
    """What a notification is about; webhook endpoints may subscribe to a subset (``kinds``)."""

    ROUTED = "exception.routed"
    ASSIGNED = "exception.assigned"
    STEP_PENDING = "exception.step_pending"
    REJECTED = "exception.rejected"
    RESOLVED = "exception.resolved"
    WAIVED = "exception.waived"
    REOPENED = "exception.reopened"
    OVERDUE = "exception.overdue"
    REVIEW_DIGEST = "exception.review_digest"


def kind_label(kind: str) -> str:
    labels = {
        Kind.ROUTED: _("New exception for your department"),
        Kind.ASSIGNED: _("Exception assigned to you"),
        Kind.STEP_PENDING: _("Approval awaiting your decision"),
        Kind.REJECTED: _("Approval rejected"),
        Kind.RESOLVED: _("Exception resolved"),
        Kind.WAIVED: _("Exception waived"),
        Kind.REOPENED: _("Exception reopened"),
        Kind.OVERDUE: _("Exception past its SLA"),
        Kind.REVIEW_DIGEST: _("Low-severity exceptions awaiting review"),
    }
    return str(labels.get(kind, kind))


def webhook_signature(*, secret: str, body: bytes) -> str:
    """The value of the ``X-ERP-Signature`` header: ``sha256=`` + HMAC-SHA256 of the body."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def webhook_body(payload: dict) -> bytes:
    """The exact bytes sent (and signed): canonical JSON of the stored payload."""
    return json.dumps(
        payload, cls=DjangoJSONEncoder, sort_keys=True, separators=(",", ":"), ensure_ascii=False
    ).encode()


def event_url(event: ExceptionEvent) -> str:
    return reverse("exceptions_center:event_detail", args=[event.number])


def _event_payload(event: ExceptionEvent, kind: str) -> dict:
    return {
        "kind": kind,
        "event": {
            "id": event.pk,
            "number": event.number,
            "rule": event.rule.code,
            "category": event.category,
            "severity": event.severity,
            "status": event.status,
            "blocking": event.blocking,
            "source": {
                "type": f"{event.source_type.app_label}.{event.source_type.model}",
                "id": event.source_id,
                "label": event.source_label,
            },
            "message_zh": event.message_zh,
            "message_en": event.message_en,
            "sla_due_at": event.sla_due_at.isoformat() if event.sla_due_at else None,
            "version": event.version,
        },
    }


def recipients_for(*, departments: Iterable[Department] = (), users: Iterable = (), exclude=None) -> list:
    """Active members of the departments (their group and their managers) plus ``users``, once each."""
    department_ids = [d.pk for d in departments]
    group_ids = [d.group_id for d in departments]
    user_ids = [u.pk for u in users if u is not None]
    query = Q(pk__in=user_ids)
    if department_ids:
        query |= Q(groups__in=group_ids) | Q(managed_departments__in=department_ids)
    queryset = get_user_model().objects.filter(query, is_active=True).distinct().order_by("pk")
    if exclude is not None and exclude.pk:
        queryset = queryset.exclude(pk=exclude.pk)
    return list(queryset)


def notifications_create(
    *,
    kind: str,
    title: str | StoredText,
    body: str | StoredText = "",
    url: str = "",
    recipients: Iterable = (),
    event: ExceptionEvent | None = None,
    payload: dict | None = None,
    webhooks: bool = True,
    body_text: StoredText | None = None,
) -> list[Notification]:
    """Write the notification rows of one happening and queue their delivery on commit.

    In-app for every recipient, e-mail for recipients with an address, and (``webhooks``) one row per
    active endpoint subscribed to ``kind``. Runs in the caller's transaction. A ``title`` / ``body`` the
    system writes is a stored text (``erp.kernel.messages``): the app shows it in the reader's language,
    the ``title`` / ``body`` columns (e-mail, webhooks) keep it in the default language. ``body_text``:
    the app's copy of a plain ``body`` (which then goes out as given).
    """
    rows: list[Notification] = []
    text = {name: value for name, value in (("title", title), ("body", body_text or body)) if is_stored_text(value)}
    title = render_stored(title, language=settings.LANGUAGE_CODE)
    if is_stored_text(body):
        body = render_stored(body, language=settings.LANGUAGE_CODE)
    common = {"kind": kind, "title": title[:200], "body": body, "url": url, "event": event, "text": text}
    for user in recipients:
        rows.append(Notification(channel=Channel.IN_APP, recipient=user, **common))
        if user.email:
            rows.append(Notification(channel=Channel.EMAIL, recipient=user, **common))
    if webhooks:
        body_payload = payload if payload is not None else (_event_payload(event, kind) if event else {"kind": kind})
        for endpoint in WebhookEndpoint.objects.filter(is_active=True).order_by("pk"):
            if endpoint.kinds and kind not in endpoint.kinds:
                continue
            rows.append(Notification(channel=Channel.WEBHOOK, webhook=endpoint, payload=body_payload, **common))
    if not rows:
        return []
    Notification.objects.bulk_create(rows)
    for row in rows:
        if row.channel == Channel.WEBHOOK:
            row.payload = {**row.payload, "delivery_id": row.pk}
    webhook_rows = [r for r in rows if r.channel == Channel.WEBHOOK]
    if webhook_rows:
        Notification.objects.bulk_update(webhook_rows, ["payload"])
    notifications_deliver_on_commit(notification_ids=[r.pk for r in rows])
    return rows


def notifications_for_event(
    *,
    event: ExceptionEvent,
    kind: str,
    departments: Iterable[Department] = (),
    users: Iterable = (),
    exclude=None,
    body: str = "",
) -> list[Notification]:
    """Notify the departments' members and ``users`` about ``event`` (and the webhooks)."""
    recipients = recipients_for(departments=departments, users=users, exclude=exclude)
    kind_text = stored_text(texts.KIND_LABELS[kind]) if kind in texts.KIND_LABELS else kind
    title = stored_text(texts.NOTIFICATION_TITLE, number=event.number, kind=kind_text)
    body_text = None
    if not body:
        # E-mail and webhooks carry both copies of the message; the app shows the reader's one.
        body = f"{event.message_zh}\n{event.message_en}"
        body_text = stored_text(texts.EVENT_MESSAGE, message=both(event.message_zh, event.message_en))
    return notifications_create(
        kind=kind,
        title=title,
        body=body,
        body_text=body_text,
        url=event_url(event),
        recipients=recipients,
        event=event,
    )


def notifications_deliver_on_commit(*, notification_ids: list[int]) -> None:
    """Queue one delivery task per row once the caller's transaction commits."""
    from exceptions_center import tasks

    ids = list(notification_ids)
    if ids:
        transaction.on_commit(lambda: tasks.notifications_publish(ids))


def notifications_mark_queued(*, notification_ids: Iterable[int]) -> None:
    """Pending rows about to be handed to the broker become ``queued`` (delivered ones stay done)."""
    ids = list(notification_ids)
    if ids:
        Notification.objects.filter(pk__in=ids, dispatch_state=DispatchState.PENDING).update(
            dispatch_state=DispatchState.QUEUED
        )


def notifications_mark_pending(*, notification_ids: Iterable[int]) -> None:
    """Queued rows whose task never reached the broker go back to ``pending`` for the sweeper."""
    ids = list(notification_ids)
    if ids:
        Notification.objects.filter(pk__in=ids, dispatch_state=DispatchState.QUEUED).update(
            dispatch_state=DispatchState.PENDING
        )


def _send_email(notification: Notification) -> None:
    recipient = notification.recipient
    if recipient is None or not recipient.email:
        return
    url = notification.url
    base = getattr(settings, "ERP_PUBLIC_URL", "")
    text = notification.body + (f"\n\n{base}{url}" if url else "")
    send_mail(notification.title, text, None, [recipient.email], fail_silently=False)


def _send_webhook(notification: Notification) -> None:
    endpoint = notification.webhook
    if endpoint is None or not endpoint.is_active:
        return
    if urlsplit(endpoint.url).scheme not in ("http", "https"):
        raise ValueError(f"webhook URL scheme not allowed: {endpoint.url}")
    body = webhook_body(notification.payload)
    request = urllib.request.Request(  # noqa: S310 - scheme checked above
        endpoint.url,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json; charset=utf-8",
            SIGNATURE_HEADER: webhook_signature(secret=endpoint.secret, body=body),
            "X-ERP-Delivery": str(notification.pk),
            "X-ERP-Kind": notification.kind,
        },
    )
    with urllib.request.urlopen(request, timeout=WEBHOOK_TIMEOUT_SECONDS) as response:  # noqa: S310
        if not 200 <= response.status < 300:
            raise RuntimeError(f"webhook answered {response.status}")


def notification_deliver(*, notification_id: int) -> bool:
    """Deliver one notification once: lock the row (skipping it when another worker holds it), skip it
    when already done, send, and record the outcome. A failed send stays pending for the sweeper
    until ``MAX_ATTEMPTS``, then is marked failed. Returns True when this call delivered it."""
    with transaction.atomic():
        notification = (
            Notification.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("recipient", "webhook")
            .filter(pk=notification_id, dispatch_state__in=(DispatchState.PENDING, DispatchState.QUEUED))
            .first()
        )
        if notification is None:
            return False
        notification.attempts += 1
        try:
            if notification.channel == Channel.EMAIL:
                _send_email(notification)
            elif notification.channel == Channel.WEBHOOK:
                _send_webhook(notification)
        except Exception as exc:
            logger.warning("notification %s not delivered: %s", notification.pk, exc)
            notification.last_error = f"{exc.__class__.__name__}: {exc}"[:2000]
            notification.dispatch_state = (
                DispatchState.FAILED if notification.attempts >= MAX_ATTEMPTS else DispatchState.PENDING
            )
            notification.save(update_fields=["attempts", "last_error", "dispatch_state"])
            return False
        notification.dispatch_state = DispatchState.DONE
        notification.sent_at = timezone.now()
        notification.last_error = ""
        notification.save(update_fields=["attempts", "last_error", "dispatch_state", "sent_at"])
        return True


def notifications_sweep(*, older_than: timedelta = SWEEP_AFTER, limit: int = 1000) -> dict[str, int]:
    """Queue again what is still not done after ``older_than``: notifications pending or queued, and
    active events whose routing never ran. Publishing happens after this transaction commits."""
    from exceptions_center import tasks

    cutoff = timezone.now() - older_than
    notification_ids = list(
        Notification.objects.filter(
            dispatch_state__in=(DispatchState.PENDING, DispatchState.QUEUED), created_at__lt=cutoff
        )
        .order_by("pk")
        .values_list("pk", flat=True)[:limit]
    )
    event_ids = list(
        ExceptionEvent.objects.filter(
            dispatch_state__in=(DispatchState.PENDING, DispatchState.QUEUED),
            status__in=ACTIVE_STATUSES,
            raised_at__lt=cutoff,
        )
        .order_by("pk")
        .values_list("pk", flat=True)[:limit]
    )
    with transaction.atomic():
        if event_ids:
            transaction.on_commit(lambda: tasks.events_route_publish(event_ids))
        if notification_ids:
            transaction.on_commit(lambda: tasks.notifications_publish(notification_ids))
    return {"notifications": len(notification_ids), "events": len(event_ids)}


def notifications_mark_read(*, user, notification_ids: Iterable[int] | None = None) -> int:
    """Mark the user's in-app notifications read (all unread ones when ``notification_ids`` is None)."""
    queryset = Notification.objects.filter(recipient=user, channel=Channel.IN_APP, read_at__isnull=True)
    if notification_ids is not None:
        queryset = queryset.filter(pk__in=list(notification_ids))
    return queryset.update(read_at=timezone.now())
