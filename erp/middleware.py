"""HTTP-level guards that hold for every view, so no single view has to remember them.

- ``RequestGuardMiddleware``: refuses what no view can mean (control characters in the path, the
  query or a header; a body larger than ``DATA_UPLOAD_MAX_MEMORY_SIZE``; ``TRACE``) with a 4xx before
  any view runs, and turns the errors a browser view lets escape (a ``DomainError``, "not found or not
  yours") into a page in the user's language instead of a 500.
- ``SessionTimeoutMiddleware``: ends a browser session after ``ERP_SESSION_IDLE_SECONDS`` without a
  request, or ``SESSION_COOKIE_AGE`` after the login at the latest.
- ``NoStoreMiddleware``: ``Cache-Control: no-store`` on every API answer and every page of a logged-in
  user, so no shared cache or browser history keeps business data.

Errors have the one shape of ``erp.kernel.api_errors`` under ``/api/`` and are HTML pages elsewhere.
"""

from __future__ import annotations

import logging
import re
import time

from django.conf import settings
from django.contrib.auth import logout
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig, SuspiciousOperation, TooManyFieldsSent
from django.http import JsonResponse
from django.template.response import TemplateResponse
from django.utils import translation
from django.utils.cache import add_never_cache_headers, patch_vary_headers
from django.utils.translation import gettext as _

from erp.kernel.api_errors import error_body
from erp.kernel.errors import DomainError, NotFoundOrForbidden
from erp.kernel.errors import PermissionDenied as DomainPermissionDenied

logger = logging.getLogger("erp.security")

# C0 controls and DEL. Tab, line feed and carriage return may be meant in a query value (a pasted
# note); ASCII 29 (GS) is the GS1 separator a barcode scanner sends. In a path none is ever meant.
_QUERY_FORBIDDEN = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1c\x1e\x1f\x7f]")
_PATH_FORBIDDEN = re.compile(r"[\x00-\x1f\x7f]")
# Header values: only horizontal tab is legal (RFC 9110 §5.5).
_HEADER_FORBIDDEN = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")

_BODYLESS_LIMIT_EXEMPT = ("multipart/form-data",)  # uploaded files are streamed to disk, not held in memory


def is_api(request) -> bool:
    return request.path_info.startswith("/api/")


def error_response(request, status: int, code: str, message, *, fields=None, template: str | None = None):
    """The one error answer: JSON under ``/api/``, otherwise the error page in the user's language."""
    if is_api(request):
        response = JsonResponse(
            error_body(code, message, fields=fields), status=status, json_dumps_params={"ensure_ascii": False}
        )
    else:
        response = TemplateResponse(
            request, template or "error.html", {"status": status, "message": str(message)}, status=status
        ).render()
    add_never_cache_headers(response)
    return response


def _bad_character(request) -> str | None:
    """The part of the request that carries a control character no one can mean, if any."""
    if _PATH_FORBIDDEN.search(request.path_info):
        return "path"
    try:
        query = request.GET
    except SuspiciousOperation:  # too many fields: reported by the caller
        return None
    for key, values in query.lists():
        if _QUERY_FORBIDDEN.search(key) or any(_QUERY_FORBIDDEN.search(value) for value in values):
            return key if not _QUERY_FORBIDDEN.search(key) else "query"
    for name, value in request.META.items():
        if name.startswith("HTTP_") and isinstance(value, str) and _HEADER_FORBIDDEN.search(value):
            return name[5:].replace("_", "-").title()
    return None


class RequestGuardMiddleware:
    """Refuses impossible input early and keeps escaped domain errors from becoming server errors."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        with translation.override(translation.get_language_from_request(request)):
            refused = self._refuse(request)  # before LocaleMiddleware: answer in the user's language anyway
        if refused is not None:
            return refused
        response = self.get_response(request)
        allow = response.get("Allow")
        if allow and "TRACE" in allow.upper():
            response["Allow"] = ", ".join(m.strip() for m in allow.split(",") if m.strip().upper() != "TRACE")
        return response

    def _refuse(self, request):
        if request.method == "TRACE":
            return error_response(
                request, 405, "method_not_allowed", _("This method is not allowed here."), template="error.html"
            )
        where = _bad_character(request)
        if where is not None:
            logger.info("Refused a control character in %s of %s", where, request.path_info.encode("unicode_escape"))
            return error_response(
                request,
                400,
                "invalid_characters",
                _("The request contains control characters (such as NUL) that cannot be accepted."),
                fields={where: [_("Remove the control characters and send it again.")]},
                template="400.html",
            )
        length = request.META.get("CONTENT_LENGTH") or "0"
        try:
            length_value = int(length)
        except ValueError:
            return error_response(request, 400, "invalid", _("The Content-Length header is not a number."))
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        content_type = request.META.get("CONTENT_TYPE", "")
        if limit is not None and length_value > limit and not content_type.startswith(_BODYLESS_LIMIT_EXEMPT):
            return self._too_big(request)
        return None

    @staticmethod
    def _too_big(request):
        limit_mb = settings.DATA_UPLOAD_MAX_MEMORY_SIZE // (1024 * 1024)
        return error_response(
            request,
            413,
            "request_too_large",
            _("The request body is too large (%(limit)s MB at most).") % {"limit": limit_mb},
            template="error.html",
        )

    def process_exception(self, request, exception):
        """Errors a view lets escape: the answer they mean, never a 500."""
        if isinstance(exception, RequestDataTooBig | TooManyFieldsSent):
            return self._too_big(request)
        if isinstance(exception, SuspiciousOperation):
            return error_response(request, 400, "invalid", _("The request is not valid."), template="400.html")
        if is_api(request):
            return None  # the API's exception handler has answered everything it knows
        if isinstance(exception, NotFoundOrForbidden):
            return error_response(request, 404, "not_found", _("Not found."), template="404.html")
        if isinstance(exception, DomainPermissionDenied | DjangoPermissionDenied):
            return error_response(request, 403, "permission_denied", str(exception), template="403.html")
        if isinstance(exception, DomainError):
            return error_response(
                request, exception.status_code, exception.code, exception.message, template="error.html"
            )
        return None


def session_stamp_login(sender, request, user, **kwargs) -> None:
    """At login (``user_logged_in``): the session starts now; saved with the login's own session write."""
    session = getattr(request, "session", None)
    if session is not None:
        now = int(time.time())
        session[SessionTimeoutMiddleware.STARTED] = session[SessionTimeoutMiddleware.SEEN] = now


class SessionTimeoutMiddleware:
    """Ends a browser session when it has been idle too long or has reached its maximum age.

    The login time and the last request are kept in the session; the last-request stamp is written at
    most once a minute so that reading pages does not write a session row each time.
    """

    STARTED = "_erp_session_started"
    SEEN = "_erp_session_seen"

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        session = getattr(request, "session", None)
        user = getattr(request, "user", None)
        if session is not None and user is not None and user.is_authenticated and session.session_key:
            now = int(time.time())
            started = session.get(self.STARTED)
            seen = session.get(self.SEEN, started)
            idle = settings.ERP_SESSION_IDLE_SECONDS
            if started is not None and (
                now - started > settings.SESSION_COOKIE_AGE or (idle and seen is not None and now - seen > idle)
            ):
                logout(request)
            else:
                if started is None:
                    session[self.STARTED] = now
                if seen is None or now - seen >= 60:
                    session[self.SEEN] = now
        return self.get_response(request)


class NoStoreMiddleware:
    """``Cache-Control: no-store`` on API answers and on every response to a logged-in user."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        user = getattr(request, "user", None)
        if is_api(request) or (user is not None and user.is_authenticated):
            add_never_cache_headers(response)
            patch_vary_headers(response, ("Cookie",))
        return response
