"""Authentication: Django's ``ModelBackend`` with the user's permissions and group names read in one
query, and the API token authentication reading the token, its user and those in one query too.

Every API request checks model permissions, so loading them is on the path of every request. Django's
backend reads the user's own permissions and the permissions of their groups in two ORM queries;
this one reads both, and the names of the user's groups, in one plain SQL statement, and keeps them on
the user object for the request (``_perm_cache``, as Django does, so ``user.get_all_permissions()``,
``perms`` in templates and ``has_perm`` read the same set). Superusers, inactive and anonymous users
take Django's own path. Nothing is kept across requests: a permission change is seen by the next
request.

``TokenAuthentication`` (the API's first authentication class) checks a django-rest-knox token: only
its SHA-512 digest and a 15-character prefix are stored, so the secret is hashed with knox's own helper
first and the row is found by prefix and digest. That row, its user, the user's permissions and group
names come in one statement: an integrator's request costs one query before the view (knox's own class
takes two and more). An expired token is refused like an unknown one (the same "Invalid token.");
expired rows are deleted when their user next logs in (``erp.tokens``).
"""

from __future__ import annotations

from hmac import compare_digest

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.db import connections, router
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.plumbing import build_bearer_security_scheme_object
from knox.auth import TokenAuthentication as KnoxTokenAuthentication
from knox.crypto import hash_token
from knox.models import AuthToken
from knox.settings import CONSTANTS
from rest_framework import exceptions

_SQL: dict[str, str] = {}


def _tables() -> dict[str, str]:
    user_model = get_user_model()
    return {
        "permission": Permission._meta.db_table,
        "content_type": ContentType._meta.db_table,
        "user_perms": user_model.user_permissions.through._meta.db_table,
        "user_groups": user_model.groups.through._meta.db_table,
        "group_perms": Group.permissions.through._meta.db_table,
        "group": Group._meta.db_table,
    }


def _perms_sql(user_id: str) -> str:
    """The permission names (``app_label.codename``) of the user whose id is the SQL ``user_id``."""
    t = _tables()
    return (
        f"SELECT ct.app_label || '.' || p.codename "
        f"FROM {t['permission']} p JOIN {t['content_type']} ct ON ct.id = p.content_type_id "
        f"WHERE p.id IN (SELECT up.permission_id FROM {t['user_perms']} up WHERE up.user_id = {user_id} "
        f"UNION SELECT gp.permission_id FROM {t['group_perms']} gp "
        f"JOIN {t['user_groups']} ug ON ug.group_id = gp.group_id WHERE ug.user_id = {user_id})"
    )


def _groups_sql(user_id: str) -> str:
    t = _tables()
    return (
        f"SELECT g.name FROM {t['group']} g JOIN {t['user_groups']} ug ON ug.group_id = g.id "
        f"WHERE ug.user_id = {user_id}"
    )


def _sql() -> str:
    if "user" not in _SQL:
        _SQL["user"] = f"SELECT ARRAY({_perms_sql('%(user)s')}), ARRAY({_groups_sql('%(user)s')})"
    return _SQL["user"]


_TOKEN_COLUMNS = ["digest", "token_key", "user_id", "created", "expiry"]


def _token_sql() -> str:
    """The token's columns, its user's columns, then the user's permissions and group names."""
    if "token" not in _SQL:
        user_model = get_user_model()
        user_table = user_model._meta.db_table
        token_columns = ", ".join(f"t.{name}" for name in _TOKEN_COLUMNS)
        columns = ", ".join(f'u."{field.column}"' for field in user_model._meta.concrete_fields)
        _SQL["token"] = (
            f"SELECT {token_columns}, {columns}, ARRAY({_perms_sql('u.id')}), ARRAY({_groups_sql('u.id')}) "
            f"FROM {AuthToken._meta.db_table} t JOIN {user_table} u ON u.id = t.user_id "
            f"WHERE t.token_key = %(key)s AND t.digest = %(digest)s"
        )
    return _SQL["token"]


def _remember(user_obj, perms, groups) -> None:
    """Keep what one query read on the user object for the request (Django's own ``_perm_cache``)."""
    if user_obj.is_active and not user_obj.is_superuser:
        user_obj._perm_cache = set(perms)
    user_obj._group_names_cache = frozenset(groups)


def _load(user_obj) -> None:
    """Fill the user's permission set and group names from one query."""
    using = router.db_for_read(Permission)
    with connections[using].cursor() as cursor:
        cursor.execute(_sql(), {"user": user_obj.pk})
        perms, groups = cursor.fetchone()
    _remember(user_obj, perms, groups)


class ModelBackendOneQuery(ModelBackend):
    """``ModelBackend`` reading permissions and group names in one query (module docstring)."""

    def get_all_permissions(self, user_obj, obj=None):
        if not user_obj.is_active or user_obj.is_anonymous or obj is not None or user_obj.is_superuser:
            return super().get_all_permissions(user_obj, obj)
        if not hasattr(user_obj, "_perm_cache"):
            _load(user_obj)
        return user_obj._perm_cache


def user_group_names(user) -> frozenset[str]:
    """The names of the user's groups, read with their permissions when those were read this request."""
    if user is None or not user.is_authenticated:
        return frozenset()
    names = getattr(user, "_group_names_cache", None)
    if names is None:
        if user.is_active and not user.is_superuser and not hasattr(user, "_perm_cache"):
            _load(user)
            return user._group_names_cache
        names = frozenset(user.groups.values_list("name", flat=True))
        user._group_names_cache = names
    return names


class TokenAuthentication(KnoxTokenAuthentication):
    """knox token authentication in one query (module docstring); knox's answers and errors."""

    def authenticate_credentials(self, token):
        message = _("Invalid token.")
        try:
            secret = token.decode("ascii")
            digest = hash_token(secret)
        except (UnicodeDecodeError, ValueError, TypeError):
            raise exceptions.AuthenticationFailed(message) from None
        user_model = get_user_model()
        using = router.db_for_read(AuthToken)
        with connections[using].cursor() as cursor:
            cursor.execute(_token_sql(), {"key": secret[: CONSTANTS.TOKEN_KEY_LENGTH], "digest": digest})
            row = cursor.fetchone()
        if row is None or not compare_digest(row[0], digest):
            raise exceptions.AuthenticationFailed(message)
        expiry = row[4]
        if expiry is not None and expiry <= timezone.now():
            raise exceptions.AuthenticationFailed(message)
        fields = user_model._meta.concrete_fields
        start = len(_TOKEN_COLUMNS)
        user = user_model.from_db(using, [f.attname for f in fields], row[start : start + len(fields)])
        if not user.is_active:
            raise exceptions.AuthenticationFailed(_("User inactive or deleted."))
        _remember(user, row[-2], row[-1])
        auth_token = AuthToken.from_db(using, ["digest", "token_key", "user_id", "created", "expiry"], row[:start])
        auth_token.user = user
        return user, auth_token


def client_ip_address(request) -> str | None:
    """The client's address for lockout and throttling: behind ``ERP_PROXY_COUNT`` proxies, the entry the
    first proxy appended to ``X-Forwarded-For`` (a client can forge the entries before it); else
    ``REMOTE_ADDR``. DRF's throttles apply the same rule (``NUM_PROXIES``)."""
    proxies = getattr(settings, "ERP_PROXY_COUNT", 0)
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR")
    if proxies and forwarded:
        addresses = [part.strip() for part in forwarded.split(",")]
        return addresses[-min(proxies, len(addresses))]
    return request.META.get("REMOTE_ADDR")


class TokenAuthenticationScheme(OpenApiAuthenticationExtension):
    """The OpenAPI security scheme of ``TokenAuthentication``: ``Authorization: Token <secret>``."""

    target_class = TokenAuthentication
    name = "tokenAuth"

    def get_security_definition(self, auto_schema):
        return build_bearer_security_scheme_object(header_name="Authorization", token_prefix="Token")
