"""Stamping the next history row of a record with who acted and why (django-simple-history)."""

from __future__ import annotations

# simple-history's ``history_change_reason`` column holds 100 characters.
REASON_MAX_LENGTH = 100


def acting_user(user):
    """The user to record: an anonymous or missing user is recorded as the system (None)."""
    return user if user is not None and getattr(user, "is_authenticated", False) else None


def history_stamp(instance, *, user, reason="") -> None:
    """Set the acting user and change reason the next ``save()`` of ``instance`` writes to its history;
    a longer reason is cut to the column's length with an ellipsis rather than failing the save."""
    instance._history_user = acting_user(user)
    text = str(reason) if reason else ""
    if len(text) > REASON_MAX_LENGTH:
        text = text[: REASON_MAX_LENGTH - 1] + "…"
    instance._change_reason = text or None
