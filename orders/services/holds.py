"""The order hold: set from the order's active blocking exception events, and refusing forward steps."""

from __future__ import annotations

from erp.kernel.history import history_stamp
from erp.kernel.messages import both, stored_text
from exceptions_center.selectors import exception_events_active_blocking
from orders import texts
from orders.lifecycle import order_hold_check as order_not_held_check
from orders.models import SalesOrder

__all__ = ["order_hold_refresh", "order_not_held_check"]


def order_hold_refresh(*, source: SalesOrder, active=None) -> SalesOrder:
    """Set ``is_held`` and ``hold_summary`` from the order's active blocking exception events.

    Called by the order services after the rules ran and by the exception center whenever an event
    leaves or re-enters an active status. Caller is inside the writing transaction. ``active``: every
    active event on the order, when the caller has them (the rules engine after syncing), else read.
    """
    if active is None:
        events = list(exception_events_active_blocking(source=source).order_by("raised_at", "id"))
    else:
        events = sorted((e for e in active if e.blocking), key=lambda e: (e.raised_at, e.pk))
    is_held = bool(events)
    summary = "; ".join(f"{e.number} {e.message_zh}" for e in events)
    if len(summary) > 300:
        summary = summary[:299] + "…"
    # Read in the reader's language: the events' numbers with both copies of their messages.
    summary_text = (
        stored_text(
            texts.HOLD_SUMMARY,
            events=[
                stored_text(texts.HOLD_EVENT, number=e.number, message=both(e.message_zh, e.message_en)) for e in events
            ],
        )
        if events
        else {}
    )
    if source.is_held != is_held or source.hold_summary != summary or source.hold_summary_text != summary_text:
        source.is_held = is_held
        source.hold_summary = summary
        source.hold_summary_text = summary_text
        # The hold shows in the history (and so in the order timeline) as a system change.
        # A long list of events is cut to the history column; hold_summary keeps the full list.
        reason = "hold: " + ", ".join(e.number for e in events) if is_held else "hold released"
        history_stamp(source, user=None, reason=reason)
        source.save(update_fields=["is_held", "hold_summary", "hold_summary_text", "updated_at"])
    return source
