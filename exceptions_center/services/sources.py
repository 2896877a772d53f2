"""The link back from events to the objects they hold, without importing the other apps.

Each app plugs the function that recomputes its objects' hold state into the port
``exceptions_center.hold_refreshers`` (keyed by model label, from its ``AppConfig.ready()``); the
exception center calls it explicitly whenever an event opens or closes, so the flow reads top to bottom
(no signals).
"""

from __future__ import annotations

from django.contrib.contenttypes.models import ContentType

from exceptions_center.ports import hold_refreshers


def _refresher(label: str):
    return hold_refreshers.get(label)


def source_hold_refresh(
    *, source_type: ContentType | None = None, source_id: int | None = None, source=None, active=None
) -> None:
    """Recompute the hold of the event's source object (e.g. an order). Caller is in the transaction.

    ``active``, when the caller has just read or synced them, is every active event on the source; the
    refresher then need not read them again.
    """
    if source is None:
        if source_type is None or source_id is None:
            return
        model = source_type.model_class()
        label = f"{source_type.app_label}.{source_type.model}"
        refresher = _refresher(label)
        if refresher is None or model is None:
            return
        source = model._default_manager.filter(pk=source_id).first()
        if source is None:
            return
    else:
        refresher = _refresher(source._meta.label_lower)
        if refresher is None:
            return
    if active is None:
        refresher(source=source)
    else:
        refresher(source=source, active=active)
