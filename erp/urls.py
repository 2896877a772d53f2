from csp.decorators import csp_update
from django.conf import settings
from django.conf.urls.i18n import i18n_patterns  # noqa: F401 - languages switch by cookie/session
from django.contrib import admin
from django.urls import include, path, re_path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerSplitView

from erp import views
from erp.kernel.our_apps import API_PREFIX
from erp.kernel.our_apps import DOMAIN_APPS as APPS

api_patterns = [path(f"{API_PREFIX.get(app, app)}/", include(f"{app}.api.urls")) for app in APPS]

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("i18n/", include("django.conf.urls.i18n")),
    # Before Django's own account URLs: these two also revoke the user's API tokens.
    path("accounts/password_change/", views.PasswordChangeView.as_view(), name="password_change"),
    path("accounts/reset/<uidb64>/<token>/", views.PasswordResetConfirmView.as_view(), name="password_reset_confirm"),
    path("accounts/tokens/", views.account_tokens, name="account-tokens"),
    path("accounts/tokens/revoke-all/", views.account_tokens_revoke_all, name="account-tokens-revoke-all"),
    path("accounts/tokens/<str:token_key>/revoke/", views.account_token_revoke, name="account-token-revoke"),
    path("accounts/", include("django.contrib.auth.urls")),
    path("attachments/<int:pk>/", views.attachment_download, name="attachment-download"),
    path("admin/", admin.site.urls),
    path(
        "audit/",
        RedirectView.as_view(pattern_name="audit:history_report", query_string=True, http_method_names=["get", "head"]),
        name="audit",
    ),
    path("audit/", include("erp.audit_urls")),
    path("api/v1/", views.ApiRootView.as_view(), name="api-v1-root"),
    path("api/v1/", include(api_patterns)),
    path("api/v1/auth/token/", views.TokenLoginView.as_view(), name="api-token"),
    path("api/v1/auth/logout/", views.TokenLogoutView.as_view(), name="api-logout"),
    path("api/v1/auth/logout-all/", views.TokenLogoutAllView.as_view(), name="api-logout-all"),
    path("api/v1/auth/tokens/", views.TokenListView.as_view(), name="api-token-list"),
    path("api/v1/auth/tokens/<str:token_key>/", views.TokenRevokeView.as_view(), name="api-token-revoke"),
    path(
        "api/v1/attachments/<int:pk>/download/",
        views.AttachmentDownloadApiView.as_view(),
        name="api-attachment-download",
    ),
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
