"""Project-level pages: home dashboard, health check, API root, API tokens (log-in, logout, the user's
own tokens, their account page), the lockout answer and the API's 404."""

from __future__ import annotations

from importlib import import_module

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import authenticate, user_logged_in
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import AuthenticationForm
from django.core.cache import cache
from django.db import connection
from django.http import HttpResponsePermanentRedirect, JsonResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, Resolver404, resolve
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from knox.models import AuthToken
from rest_framework import exceptions, serializers
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.reverse import reverse
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView

from erp import forms, selectors, tokens
from erp.kernel.api_errors import ErrorSerializer, error_body
from erp.kernel.errors import DomainError, NotFoundOrForbidden
from erp.kernel.our_apps import API_PREFIX, DOMAIN_APPS


@login_required
def home(request):
    """The home dashboard: live counts of what the user may see."""
    return render(request, "home.html", {"counts": selectors.home_counts(user=request.user)})


@never_cache
def healthz(request):
    """Report the database and (when configured) Redis; 503 when one is down."""
    checks: dict[str, str] = {}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        checks["database"] = "ok"
    except Exception as exc:
        checks["database"] = f"error: {exc.__class__.__name__}"
    if settings.REDIS_URL:
        try:
            import redis

            redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=1, socket_timeout=1).ping()
            checks["redis"] = "ok"
        except Exception as exc:
            checks["redis"] = f"error: {exc.__class__.__name__}"
    else:
        checks["redis"] = "not configured"
    healthy = all(v in ("ok", "not configured") for v in checks.values())
    _ = cache  # the cache shares Redis when configured
    return JsonResponse({"status": "ok" if healthy else "error", "checks": checks}, status=200 if healthy else 503)


def lockout_message() -> str:
    """What a locked-out person reads (web page and API alike), in their language."""
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    return _(
        "Too many failed log-ins for this user from your address: logging in is locked for %(minutes)s "
        "minutes. An administrator can unlock it sooner."
    ) % {"minutes": minutes}


def lockout_response(request, original_response=None, credentials=None):
    """django-axes' answer to a locked-out log-in (``AXES_LOCKOUT_CALLABLE``).

    The API gets 429 in its one error shape (the token view already answered so; its response is kept);
    a person (web or admin log-in) gets the log-in page again, status 429, with the message in their
    language.
    """
    if request.path_info.startswith("/api/"):
        if original_response is not None and original_response.status_code == 429:
            return original_response
        return JsonResponse(
            error_body("locked_out", lockout_message()), status=429, json_dumps_params={"ensure_ascii": False}
        )
    context = {
        "form": AuthenticationForm(request),
        "lockout_message": lockout_message(),
        "next": request.POST.get("next", "") if request.method == "POST" else "",
    }
    return render(request, "registration/login.html", context, status=429)


class LockedOut(exceptions.APIException):
    status_code = 429
    default_code = "locked_out"


class TokenLoginSerializer(serializers.Serializer):
    username = serializers.CharField(label=gettext_lazy("Username"), max_length=150)
    password = serializers.CharField(
        label=gettext_lazy("Password"), max_length=4096, trim_whitespace=False, style={"input_type": "password"}
    )


class ApiTokenSerializer(serializers.ModelSerializer):
    """A token as its owner sees it: the prefix that names it, when it was issued and when it expires."""

    current = serializers.SerializerMethodField(help_text=gettext_lazy("The token this request was sent with."))

    class Meta:
        model = AuthToken
        fields = ["token_key", "created", "expiry", "current"]

    def get_current(self, obj) -> bool:
        auth = self.context.get("auth")
        return isinstance(auth, AuthToken) and auth.digest == obj.digest


class AuthThrottleMixin:
    """Log-in and token endpoints: throttled per address (anonymous) or per user (``auth`` rate)."""

    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "auth"


_TOKEN_ERRORS = {
    400: ErrorSerializer,
    401: ErrorSerializer,
    403: ErrorSerializer,
    429: OpenApiResponse(ErrorSerializer, description="Too many attempts, or the log-in is locked."),
}


class TokenLoginView(AuthThrottleMixin, APIView):
    """Exchange a username and password for a new API token (integrators).

    Each call issues a new token; the secret is in this answer only. A wrong password is a 400; after
    ``AXES_FAILURE_LIMIT`` failures for one username from one address that pair is locked (429
    ``locked_out``) for ``AXES_COOLOFF_TIME`` or until an admin unlocks it.
    """

    authentication_classes: list = []
    permission_classes = [AllowAny]

    @extend_schema(
        request=TokenLoginSerializer,
        responses={
            200: inline_serializer(
                "ApiTokenIssued",
                {
                    "token": serializers.CharField(help_text=gettext_lazy("The secret: shown once.")),
                    "token_key": serializers.CharField(),
                    "expiry": serializers.DateTimeField(allow_null=True),
                },
            ),
            **_TOKEN_ERRORS,
        },
        auth=[],
    )
    def post(self, request, format=None):
        serializer = TokenLoginSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        http_request = request._request  # django-axes reads and flags the Django request
        user = authenticate(
            request=http_request,
            username=serializer.validated_data["username"],
            password=serializer.validated_data["password"],
        )
        if getattr(http_request, "axes_locked_out", False):
            raise LockedOut(lockout_message())
        if user is None:
            raise exceptions.ValidationError(
                {"non_field_errors": [_("Unable to log in with provided credentials.")]}, code="authorization"
            )
        token, secret = tokens.api_token_create(user=user)
        # Records the log-in (django-axes' AccessLog, which also clears earlier failures; last_login).
        user_logged_in.send(sender=user.__class__, request=http_request, user=user)
        return Response({"token": secret, "token_key": token.token_key, "expiry": token.expiry})


class TokenLogoutView(AuthThrottleMixin, APIView):
    """Revoke the token this request was sent with (nothing to do for a session)."""

    permission_classes = [IsAuthenticated]

    @extend_schema(request=None, responses={204: None, **_TOKEN_ERRORS})
    def post(self, request, format=None):
        if isinstance(request.auth, AuthToken):
            tokens.api_token_revoke(user=request.user, token_key=request.auth.token_key)
        return Response(status=204)


class TokenLogoutAllView(AuthThrottleMixin, APIView):
    """Revoke every API token of the calling user."""

    permission_classes = [IsAuthenticated]

    @extend_schema(request=None, responses={204: None, **_TOKEN_ERRORS})
    def post(self, request, format=None):
        tokens.api_tokens_revoke_all(user=request.user, reason="logout-all")
        return Response(status=204)


class TokenListView(AuthThrottleMixin, APIView):
    """The calling user's live API tokens (prefix, issued, expiry; never a secret)."""

    permission_classes = [IsAuthenticated]

    @extend_schema(responses={200: ApiTokenSerializer(many=True), **_TOKEN_ERRORS})
    def get(self, request, format=None):
        rows = tokens.api_token_list(user=request.user)
        return Response(ApiTokenSerializer(rows, many=True, context={"auth": request.auth}).data)


class TokenRevokeView(AuthThrottleMixin, APIView):
    """Revoke one of the calling user's tokens by its prefix (``token_key``); anybody else's is a 404."""

    permission_classes = [IsAuthenticated]

    @extend_schema(request=None, responses={204: None, 404: ErrorSerializer, **_TOKEN_ERRORS})
    def delete(self, request, token_key: str, format=None):
        tokens.api_token_revoke(user=request.user, token_key=token_key)
        return Response(status=204)


@login_required
def account_tokens(request):
    """The user's own API tokens (account menu): prefix, issued, expiry, with a revoke button each."""
    from knox.settings import knox_settings

    context = {
        "tokens": tokens.api_token_list(user=request.user),
        "token_days": knox_settings.TOKEN_TTL.days if knox_settings.TOKEN_TTL else None,
    }
    return render(request, "account/tokens.html", context)


@require_POST
@login_required
def account_token_revoke(request, token_key: str):
    """Revoke one of the user's own tokens; someone else's (or an unknown prefix) is a 404."""
    try:
        tokens.api_token_revoke(user=request.user, token_key=token_key)
    except DomainError as exc:
        from django.http import Http404

        raise Http404 from exc
    messages.success(request, _("The API token %(prefix)s… is revoked.") % {"prefix": token_key})
    return redirect("account-tokens")


@require_POST
@login_required
def account_tokens_revoke_all(request):
    """Revoke every API token of the user."""
    count = tokens.api_tokens_revoke_all(user=request.user, reason="revoked on the account page")
    messages.success(request, _("%(count)s API token(s) revoked.") % {"count": count})
    return redirect("account-tokens")


def _readable_attachment(user, pk: int):
    """The attachment if ``user`` may read it; the same 404 for "missing" and "not allowed"."""
    from erp.kernel.files import attachment_may_read
    from erp.models import Attachment

    attachment = Attachment.objects.select_related("owner_type").filter(pk=pk).first()
    if attachment is None or not attachment_may_read(user, attachment):
        raise NotFoundOrForbidden()
    return attachment


@never_cache
@login_required
def attachment_download(request, pk: int):
    """Download an attached file (always as a download, never shown inline) if the user may read its record."""
    from django.http import Http404

    from erp.kernel.files import attachment_response

    try:
        attachment = _readable_attachment(request.user, pk)
    except NotFoundOrForbidden as exc:
        raise Http404 from exc
    return attachment_response(attachment)


class AttachmentDownloadApiView(APIView):
    """``GET /api/v1/attachments/<id>/download/``: the file, for token clients; 404 when not readable."""

    permission_classes = [IsAuthenticated]

    @extend_schema(
        responses={
            (200, "application/octet-stream"): OpenApiTypes.BINARY,
            401: ErrorSerializer,
            404: ErrorSerializer,
        },
        description="The attached file as a download (Content-Disposition: attachment).",
    )
    def get(self, request, pk: int, format=None):
        from erp.kernel.files import attachment_response

        return attachment_response(_readable_attachment(request.user, pk))


class PasswordChangeView(auth_views.PasswordChangeView):
    """Django's password change; saving the new password also revokes the user's API tokens."""

    form_class = forms.PasswordChangeForm


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    """Django's reset-link page; the password it sets also revokes the user's API tokens."""

    form_class = forms.SetPasswordForm


class ApiRootView(APIView):
    """``/api/v1/``: every resource of this API version with its list URL, plus the schema and docs.

    Built from each app's router, so a resource an app registers shows up here without listing it twice.
    Any logged-in user may read it: it names endpoints, not data (each endpoint checks its own permission).
    """

    permission_classes = [IsAuthenticated]

    @extend_schema(
        responses={
            200: inline_serializer(
                "ApiRoot",
                {
                    "resources": serializers.DictField(child=serializers.URLField()),
                    "auth_token": serializers.URLField(),
                    "schema": serializers.URLField(),
                    "docs": serializers.URLField(),
                },
            ),
            401: ErrorSerializer,
        },
        description="The resources of API v1 and their list URLs.",
    )
    def get(self, request, format=None):
        resources: dict[str, str] = {}
        for app in DOMAIN_APPS:
            router = getattr(import_module(f"{app}.api.urls"), "router", None)
            for prefix, _viewset, basename in getattr(router, "registry", []):
                name = "/".join(part for part in (API_PREFIX.get(app, app), prefix) if part)
                try:
                    resources[name] = reverse(f"{basename}-list", request=request)
                except NoReverseMatch:
                    continue  # a viewset with detail routes only: reached through its parent resource
        return Response(
            {
                "resources": resources,
                "auth_token": reverse("api-token", request=request),
                "schema": reverse("schema", request=request),
                "docs": reverse("api-docs", request=request),
            }
        )


@csrf_exempt  # it changes nothing; integrators' POSTs carry no CSRF token and deserve the JSON 404 too
def api_not_found(request, *args, **kwargs):
    """Any path under ``/api/`` that no endpoint serves: a 404 in the API's one error shape, not HTML.

    As Django's ``APPEND_SLASH`` would (this catch-all keeps it from running), a GET without the trailing
    slash of a real endpoint is redirected; other methods are told the path instead of losing their body.
    """
    path = request.path_info
    details: dict[str, str] = {}
    if settings.APPEND_SLASH and not path.endswith("/"):
        try:
            match = resolve(f"{path}/")
        except Resolver404:
            match = None
        if match is not None and match.url_name != "api-not-found":
            if request.method in ("GET", "HEAD"):
                return HttpResponsePermanentRedirect(request.get_full_path(force_append_slash=True))
            details["did_you_mean"] = f"{request.path}/"
    body = error_body("not_found", exceptions.NotFound.default_detail, details=details)
    return JsonResponse(body, status=404, json_dumps_params={"ensure_ascii": False})
