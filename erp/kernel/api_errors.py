"""The one API error shape, for every 4xx::

    {"code": "validation_error", "message": "…", "fields": {"uscc": ["…"]}, "details": {}}

Kept apart from the viewsets because DRF reads ``EXCEPTION_HANDLER`` while importing its views.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig, SuspiciousOperation, TooManyFieldsSent
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions, serializers
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from erp.kernel.errors import DomainError


class ErrorSerializer(serializers.Serializer):
    code = serializers.CharField()
    message = serializers.CharField()
    # A field named "fields" (the API's error shape) shadows Serializer.fields on purpose: the schema only.
    fields = serializers.DictField(child=serializers.ListField(child=serializers.CharField()))  # type: ignore[assignment]
    details = serializers.DictField()


def _flatten(detail: Any) -> list[str]:
    if isinstance(detail, list):
        out: list[str] = []
        for item in detail:
            out.extend(_flatten(item))
        return out
    if isinstance(detail, dict):
        return [f"{k}: {m}" for k, v in detail.items() for m in _flatten(v)]
    return [str(detail)]


def _walk(path: str, detail: Any, out: dict[str, list[str]]) -> None:
    if isinstance(detail, dict):
        for name, value in detail.items():
            inner = path if name in ("non_field_errors", "__all__") else f"{path}.{name}"
            _walk(inner, value, out)
    elif isinstance(detail, list | tuple):
        for index, item in enumerate(detail):
            if isinstance(item, dict | list | tuple):
                _walk(f"{path}.{index}", item, out)
            else:
                out.setdefault(path, []).append(str(item))
    elif detail is not None:
        out.setdefault(path, []).append(str(detail))


def flat_fields(detail: Any) -> dict[str, list[str]]:
    """Field errors as ``{path: [messages]}``, the documented shape, however deep the input was.

    A nested error gets a dotted path: ``lines.1.quantity`` is the quantity of the second order line;
    errors on a whole nested object are on its own path (``lines.1``); ``non_field_errors`` become
    ``__all__``.
    """
    out: dict[str, list[str]] = {}
    if isinstance(detail, dict):
        for name, value in detail.items():
            _walk("__all__" if name == "non_field_errors" else str(name), value, out)
    elif detail:
        _walk("__all__", detail, out)
    return out


def error_body(code: str, message: Any, fields: dict | None = None, details: dict | None = None) -> dict:
    return {"code": code, "message": str(message), "fields": flat_fields(fields or {}), "details": details or {}}


def exception_handler(exc: Exception, context: dict) -> Response | None:
    """Turn every error into the one shape integrators parse."""
    if isinstance(exc, DomainError):
        return Response(error_body(exc.code, exc.message, exc.fields, exc.details), status=exc.status_code)
    if isinstance(exc, DjangoValidationError):
        err = DomainError.from_validation_error(exc)
        return Response(error_body(err.code, err.message, err.fields), status=400)
    if isinstance(exc, RequestDataTooBig | TooManyFieldsSent):
        body = error_body("request_too_large", _("The request body is too large."))
        return Response(body, status=413)
    if isinstance(exc, SuspiciousOperation):
        return Response(error_body("invalid", _("The request is not valid.")), status=400)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        body = error_body("validation_error", _("Please correct the errors below."), exc.detail)
    else:
        detail = exc.detail if isinstance(exc, exceptions.APIException) else str(exc)
        code = getattr(exc, "default_code", "error")
        if isinstance(exc, exceptions.APIException):
            codes = exc.get_codes()
            code = codes if isinstance(codes, str) else code
        body = error_body(code, detail if isinstance(detail, str) else " ".join(_flatten(detail)))
    response.data = body
    return response
