from csp.decorators import csp_update
from django.conf import settings
from django.conf.urls.i18n import i18n_patterns  # noqa: F401 - languages switch by cookie/session
from django.contrib import admin
from django.urls import include, path, re_path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerSplitView

from erp import views

APPS = [
    "masterdata",
    "orders",
    "exceptions_center",
    "traceability",
    "quality",
    "compliance",
    "channels_mgmt",
    "finance",
]
API_PREFIX = {"exceptions_center": "exceptions", "channels_mgmt": "channels"}

api_patterns = [path(f"{API_PREFIX.get(app, app)}/", include(f"{app}.api.urls")) for app in APPS]

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("accounts/", include("django.contrib.auth.urls")),
    path("admin/", admin.site.urls),
    path(
        "audit/",
        RedirectView.as_view(pattern_name="audit:history_report", query_string=True, http_method_names=["get", "head"]),
        name="audit",
    ),
    path("audit/", include("erp.audit_urls")),
    path("api/v1/", views.ApiRootView.as_view(), name="api-v1-root"),
    path("api/v1/", include(api_patterns)),
    path("api/v1/auth/token/", views.ObtainTokenView.as_view(), name="api-token"),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    # The split view loads its start-up script from a URL: the Content-Security-Policy allows no inline script.
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="schema"), name="api-docs"),
    # Our own template: drf-spectacular's loads web fonts from Google, and nothing may need the internet.
    # ReDoc renders in a web worker started from a blob: URL.
    path(
        "api/redoc/",
        csp_update({"worker-src": ["blob:"]})(
            SpectacularRedocView.as_view(url_name="schema", template_name="api/redoc.html")
        ),
        name="api-redoc",
    ),
    *[path(f"{app.replace('_', '-')}/", include(f"{app}.urls")) for app in APPS],
    # Last: whatever else is under /api/ answers a JSON 404, never the HTML page.
    re_path(r"^api/", views.api_not_found, name="api-not-found"),
]

if settings.DEBUG:
    from django.conf.urls.static import static

    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
