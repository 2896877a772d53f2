"""API building blocks shared by every app: base viewset (restricted reads, writes through services,
lookup by code) and ``Idempotency-Key`` handling. Error shape: ``erp.kernel.api_errors``."""

from __future__ import annotations

import contextlib
import hashlib
import inspect
import json
import re
from typing import Any
from urllib.parse import unquote

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, transaction
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from erp.kernel.access import restrict
from erp.kernel.api_errors import ErrorSerializer
from erp.kernel.errors import DomainError


def _request_fingerprint(request) -> str:
    payload = json.dumps(request.data, sort_keys=True, default=str)
    return hashlib.sha256(f"{request.method} {request.path}\n{payload}".encode()).hexdigest()


IDEMPOTENCY_PARAMETER = OpenApiParameter(
    name="Idempotency-Key",
    location=OpenApiParameter.HEADER,
    required=False,
    description=str(
        _("Send the same key again to get the first result instead of a duplicate; reuse with another body is refused.")
    ),
)


CHANGE_REASON_HEADER = "X-Change-Reason"
_CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")

CHANGE_REASON_PARAMETER = OpenApiParameter(
    name=CHANGE_REASON_HEADER,
    location=OpenApiParameter.HEADER,
    required=False,
    description=str(
        _(
            "Why the change is made, kept in the object's history for auditors (100 characters at most; "
            "percent-encode non-ASCII text as UTF-8, e.g. %E5%AE%A2%E6%88%B7 for 客户)."
        )
    ),
)


def change_reason_from(request) -> str:
    """The ``X-Change-Reason`` header as text.

    HTTP header values travel as Latin-1, so clients either percent-encode UTF-8 (portable: browsers and
    most HTTP libraries refuse other characters) or send raw UTF-8 bytes (curl), which arrive as
    Latin-1 mojibake: both are turned back into the text the client meant.
    """
    raw = request.headers.get(CHANGE_REASON_HEADER, "")
    with contextlib.suppress(UnicodeEncodeError, UnicodeDecodeError):  # already text, or not UTF-8: as sent
        raw = raw.encode("latin-1").decode("utf-8")
    reason = unquote(raw).strip()
    if _CONTROL_CHARACTERS.search(reason):  # e.g. %00: PostgreSQL cannot store NUL, no auditor can read it
        raise DomainError.on_field(
            CHANGE_REASON_HEADER, _("The change reason contains control characters (such as NUL); remove them.")
        )
    return reason


def records_change_reason(service, input_serializer_class) -> bool:
    """Whether a write can carry a change reason: its input has a ``reason`` field or its service takes
    a ``reason`` argument. Services without one (e.g. shipment creation) get none, rather than failing."""
    if service is None:
        return False
    if "reason" in getattr(input_serializer_class, "_declared_fields", {}):
        return True
    return "reason" in inspect.signature(service).parameters


class NumericLookupMixin:
    """Detail URLs take only a row id that PostgreSQL's ``bigint`` can hold (at most 19 digits).

    Anything else (``abc``, ``null,null``, a 30-digit number) matches no URL, so it gets the API's JSON
    404 before a view could try to compare it with an integer column. Every viewset with detail routes
    mixes this in (``ServiceModelViewSet`` does).
    """

    lookup_value_regex = r"[0-9]{1,19}"


class IdempotentCreateMixin:
    """``POST`` with an ``Idempotency-Key`` header creates at most one document.

    The key row is inserted in the same transaction as the document, so a concurrent request with the
    same key waits on the unique index and then replays the stored response.
    """

    def create(self, request, *args, **kwargs):
        from erp.models import IdempotencyKey

        key = request.headers.get("Idempotency-Key", "").strip()
        if not key:
            return super().create(request, *args, **kwargs)
        if len(key) > 255:
            raise DomainError(
                _("The Idempotency-Key header is too long (255 characters at most)."), code="idempotency_key_invalid"
            )
        fingerprint = _request_fingerprint(request)
        scope = f"{request.method} {request.path}"
        existing = IdempotencyKey.objects.filter(user=request.user, key=key).first()
        if existing is None:
            try:
                with transaction.atomic():
                    record = IdempotencyKey.objects.create(
                        user=request.user, key=key, scope=scope, fingerprint=fingerprint
                    )
                    response = super().create(request, *args, **kwargs)
                    if response.status_code >= 400:
                        transaction.set_rollback(True)
                        return response
                    record.response_status = response.status_code
                    record.response_body = response.data
                    record.save(update_fields=["response_status", "response_body"])
                    return response
            except IntegrityError:
                existing = IdempotencyKey.objects.filter(user=request.user, key=key).first()
                if existing is None:
                    raise
        if existing.fingerprint != fingerprint or existing.scope != scope:
            raise DomainError(
                _("This Idempotency-Key was already used with a different request."),
                code="idempotency_key_reused",
                status_code=422,
            )
        response = Response(existing.response_body, status=existing.response_status)
        response["Idempotent-Replayed"] = "true"
        return response


class ServiceModelViewSet(NumericLookupMixin, viewsets.ModelViewSet):
    """A model API with row-level read restriction, writes through services and lookup by code.

    Subclasses set ``queryset``, ``serializer_class`` (output), optionally ``input_serializer_class``,
    ``filterset_class``, ``code_field`` and the services ``create_service(*, user, **data)`` and
    ``update_service(*, instance, user, **data)`` (plain functions, stored with ``staticmethod``).
    An ``X-Change-Reason`` header reaches the service as ``reason`` (a ``reason`` in the body wins), so
    the history row says why. Deleting is refused: business records are deactivated, never deleted.
    """

    input_serializer_class: type[serializers.Serializer] | None = None
    code_field: str | None = "code"
    create_service: Any = None
    update_service: Any = None
    http_method_names = ["get", "post", "put", "patch", "head", "options"]

    def get_queryset(self):
        action_name = "view" if self.request.method in ("GET", "HEAD", "OPTIONS") else "change"
        return restrict(super().get_queryset(), self.request.user, action_name)

    def get_serializer_class(self):
        if self.request.method in ("POST", "PUT", "PATCH") and self.input_serializer_class:
            return self.input_serializer_class
        return self.serializer_class

    def _output(self, instance, status_code: int) -> Response:
        instance = self.get_queryset().get(pk=instance.pk) if self.request.method != "POST" else instance
        return Response(self.serializer_class(instance, context=self.get_serializer_context()).data, status=status_code)

    def service_for(self, action_name: str | None):
        """The service behind a write action (``create``, ``update``, ``partial_update``), if any."""
        if action_name == "create":
            return self.create_service
        if action_name in ("update", "partial_update"):
            return self.update_service
        return None

    def _service_data(self, service, serializer) -> dict[str, Any]:
        data = dict(serializer.validated_data)
        reason = change_reason_from(self.request)
        if reason and not data.get("reason") and records_change_reason(service, type(serializer)):
            data["reason"] = reason
        return data

    @staticmethod
    def _call(service, **kwargs):
        try:
            return service(**kwargs)
        except DjangoValidationError as exc:
            raise DomainError.from_validation_error(exc) from exc

    def create(self, request, *args, **kwargs):
        if self.create_service is None:
            raise exceptions.MethodNotAllowed(request.method)
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = self._service_data(self.create_service, serializer)
        instance = self._call(self.create_service, user=request.user, **data)
        return Response(
            self.serializer_class(instance, context=self.get_serializer_context()).data,
            status=status.HTTP_201_CREATED,
        )

    def update(self, request, *args, **kwargs):
        if self.update_service is None:
            raise exceptions.MethodNotAllowed(request.method)
        partial = kwargs.pop("partial", False)
        instance = self.get_object()
        serializer = self.get_serializer(instance, data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        data = self._service_data(self.update_service, serializer)
        instance = self._call(self.update_service, instance=instance, user=request.user, **data)
        return self._output(instance, status.HTTP_200_OK)

    @extend_schema(
        parameters=[OpenApiParameter("code", str, OpenApiParameter.PATH)],
        responses={404: ErrorSerializer},
    )
    @action(detail=False, methods=["get"], url_path=r"code/(?P<code>[^/]+)")
    def by_code(self, request, code: str):
        """Look an object up by its human code (party code, SKU, order number…)."""
        if not self.code_field:
            raise exceptions.NotFound()
        instance = get_object_or_404(self.get_queryset(), **{self.code_field: code})
        return Response(self.serializer_class(instance, context=self.get_serializer_context()).data)


class BaseViewSet(IdempotentCreateMixin, ServiceModelViewSet):
    """``ServiceModelViewSet`` whose ``POST`` honours ``Idempotency-Key``: what every app's API subclasses.

    The mixin comes first so that it wraps the service-backed ``create``.
    """
