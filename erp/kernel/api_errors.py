"""The one API error shape, for every 4xx::

    {"code": "validation_error", "message": "…", "fields": {"uscc": ["…"]}, "details": {}}

Kept apart from the viewsets because DRF reads ``EXCEPTION_HANDLER`` while importing its views.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
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


def _field_errors(detail: Any) -> dict[str, list[Any]]:
    if isinstance(detail, dict):
        result: dict[str, Any] = {}
        for name, value in detail.items():
            key = "__all__" if name in ("non_field_errors",) else name
            if isinstance(value, dict) or (isinstance(value, list) and any(isinstance(v, dict) for v in value)):
                result[key] = value  # nested (e.g. order lines): keep the structure
            else:
                result[key] = _flatten(value)
        return result
    return {"__all__": _flatten(detail)}


def error_body(code: str, message: Any, fields: dict | None = None, details: dict | None = None) -> dict:
    return {"code": code, "message": str(message), "fields": fields or {}, "details": details or {}}


def exception_handler(exc: Exception, context: dict) -> Response | None:
    """Turn every error into the one shape integrators parse."""
    if isinstance(exc, DomainError):
        return Response(error_body(exc.code, exc.message, exc.fields, exc.details), status=exc.status_code)
    if isinstance(exc, DjangoValidationError):
        err = DomainError.from_validation_error(exc)
        return Response(error_body(err.code, err.message, err.fields), status=400)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        body = error_body("validation_error", _("Please correct the errors below."), _field_errors(exc.detail))
    else:
        detail = exc.detail if isinstance(exc, exceptions.APIException) else str(exc)
        code = getattr(exc, "default_code", "error")
        if isinstance(exc, exceptions.APIException):
            codes = exc.get_codes()
            code = codes if isinstance(codes, str) else code
        body = error_body(code, detail if isinstance(detail, str) else " ".join(_flatten(detail)))
    response.data = body
    return response
