"""Reads of exception events shared by pages, the API and other apps."""

from __future__ import annotations

from django.contrib.contenttypes.models import ContentType
from django.db.models import QuerySet

from exceptions_center.models import ACTIVE_STATUSES, ExceptionEvent


def exception_events_for_source(*, source) -> QuerySet[ExceptionEvent]:
    """Every event raised on ``source`` (any status), newest first."""
    return ExceptionEvent.objects.filter(
        source_type=ContentType.objects.get_for_model(source), source_id=source.pk
    ).select_related("rule")


def exception_events_active_blocking(*, source) -> QuerySet[ExceptionEvent]:
    """The events that hold ``source``: blocking and still active (open, in progress or rejected)."""
    return exception_events_for_source(source=source).filter(blocking=True, status__in=ACTIVE_STATUSES)
