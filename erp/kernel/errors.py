"""One domain error type, turned into one API error shape and into form errors."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext_lazy as _


class DomainError(Exception):
    """A business rule refused an action.

    ``code`` is stable for integrators, ``message`` is translatable for people, ``fields`` maps a field
    name to its messages (``"__all__"`` for the whole object), ``details`` carries machine data such as
    the numbers of the events that hold an order.
    """

    status_code = 400

    def __init__(
        self,
        message: Any = None,
        *,
        code: str = "invalid",
        fields: dict[str, list[Any]] | None = None,
        details: dict[str, Any] | None = None,
        status_code: int | None = None,
    ) -> None:
        self.message = message if message is not None else _("The request is not valid.")
        self.code = code
        self.fields = fields or {}
        self.details = details or {}
        if status_code is not None:
            self.status_code = status_code
        super().__init__(str(self.message))

    @classmethod
    def on_field(cls, field: str, message: Any) -> DomainError:
        """A validation error on one input field: the message both on top and next to the field."""
        return cls(message, code="validation_error", fields={field: [message]})

    @classmethod
    def from_validation_error(cls, exc: DjangoValidationError) -> DomainError:
        if hasattr(exc, "error_dict"):
            fields = {name: [str(m) for e in errs for m in e.messages] for name, errs in exc.error_dict.items()}
        else:
            fields = {"__all__": [str(m) for m in exc.messages]}
        return cls(_("Please correct the errors below."), code="validation_error", fields=fields)


class NotFoundOrForbidden(DomainError):
    """The same answer for "missing" and "not allowed", so existence does not leak."""

    status_code = 404

    def __init__(self) -> None:
        super().__init__(_("Not found."), code="not_found")


class PermissionDenied(DomainError):
    status_code = 403

    def __init__(self, message: Any = None) -> None:
        super().__init__(message or _("You do not have permission to do this."), code="permission_denied")


def apply_to_form(form, exc: DomainError) -> None:
    """Show a domain error on a Django form: field errors next to their fields, the rest on top.

    The form may be unbound (an action without inputs, such as taking an exception): it gets an empty
    error list and cleaned data first, which ``add_error`` needs.
    """
    if not hasattr(form, "cleaned_data"):
        _ = form.errors  # runs full_clean: an empty ErrorDict for an unbound form
        form.cleaned_data = {}
    if not exc.fields:
        form.add_error(None, str(exc.message))
        return
    for name, messages in exc.fields.items():
        target = name if name in form.fields else None
        for message in messages:
            form.add_error(target, message)
