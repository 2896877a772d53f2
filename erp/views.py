"""Project-level pages: home dashboard, health check, API token."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.db import connection
from django.http import JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from rest_framework.authtoken.views import ObtainAuthToken

from erp import selectors


@login_required
def home(request):
    """The home dashboard: live counts of what the user may see."""
    return render(request, "home.html", {"counts": selectors.home_counts(user=request.user)})


@never_cache
def healthz(request):
    """Report the database and (when configured) Redis; 503 when one is down."""
    from django.conf import settings

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
