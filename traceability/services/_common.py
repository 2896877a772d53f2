"""Small helpers shared by the traceability services (not public API)."""

from __future__ import annotations

from erp.kernel.errors import PermissionDenied


def acting(user):
    return user if user is not None and getattr(user, "is_authenticated", False) else None


def with_history(instance, *, user, reason: str = "") -> None:
    instance._history_user = acting(user)
    instance._change_reason = reason or None


def require_perm(user, perm: str, message=None) -> None:
    if user is None or not user.is_authenticated or not user.is_active or not user.has_perm(perm):
        raise PermissionDenied(message)


def rules_evaluate(*, event: str, source, context: dict | None = None):
    """Run the rules of ``event`` on ``source`` inside the caller's transaction (exception center)."""
    from exceptions_center.services import rules_evaluate as evaluate

    return evaluate(event=event, source=source, context=context or {})
