"""Project-level pages: home dashboard, health check, API root, token and the API's 404."""

from __future__ import annotations

from importlib import import_module

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.db import connection
from django.http import HttpResponsePermanentRedirect, JsonResponse
from django.shortcuts import render
from django.urls import NoReverseMatch, Resolver404, resolve
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import exceptions, serializers
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.reverse import reverse
from rest_framework.views import APIView

from erp import selectors
from erp.kernel.api_errors import ErrorSerializer, error_body
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


class ObtainTokenView(ObtainAuthToken):
    """Exchange a username and password for an API token (integrators)."""


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
