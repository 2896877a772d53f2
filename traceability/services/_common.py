"""Small helpers shared by the traceability services (not public API)."""

from __future__ import annotations

from erp.kernel.errors import DomainError, PermissionDenied
from exceptions_center.services import rules_evaluate as evaluate

__all__ = ["invalid", "require_perm", "rules_evaluate"]


def require_perm(user, perm: str, message=None) -> None:
    if user is None or not user.is_authenticated or not user.is_active or not user.has_perm(perm):
        raise PermissionDenied(message)


# A validation error on one input field, in the one error shape.
invalid = DomainError.on_field


def rules_evaluate(*, event: str, source, context: dict | None = None):
    """Run the rules of ``event`` on ``source`` inside the caller's transaction (exception center)."""
    return evaluate(event=event, source=source, context=context or {})
