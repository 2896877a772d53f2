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


def history_manager_class_cache() -> None:
    """Build each model's history manager class once instead of on every ``Model.history`` access.

    simple-history's ``HistoryDescriptor.__get__`` calls ``HistoryManager.from_queryset(...)`` on every
    access, which creates a new class through ``inspect.getmembers`` (each saved history row reads
    it once, so every order save paid for it twice). The class is the same every time, so it is built
    once per descriptor; the manager instance is still new per access. Called from ``ErpConfig.ready``.
    """
    from simple_history.manager import HistoryDescriptor

    if getattr(HistoryDescriptor, "_erp_cached", False):
        return

    def __get__(self, instance, owner):
        manager_class = self.__dict__.get("_manager_class")
        if manager_class is None:
            manager_class = self.manager_class.from_queryset(self.queryset_class)
            self._manager_class = manager_class
        return manager_class(self.model, instance)

    HistoryDescriptor.__get__ = __get__
    HistoryDescriptor._erp_cached = True
