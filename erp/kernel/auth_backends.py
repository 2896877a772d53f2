"""Authentication: Django's ``ModelBackend`` with the user's permissions and group names read in one
query, and DRF's token authentication reading the token, its user and those in one query too.

Every API request checks model permissions, so loading them is on the path of every request. Django's
backend reads the user's own permissions and the permissions of their groups in two ORM queries;
this one reads both, and the names of the user's groups, in one plain SQL statement, and keeps them on
the user object for the request (``_perm_cache``, as Django does, so ``user.get_all_permissions()``,
``perms`` in templates and ``has_perm`` read the same set). Superusers, inactive and anonymous users
take Django's own path. Nothing is kept across requests: a permission change is seen by the next
request.

``TokenAuthentication`` (the API's first authentication class) answers what DRF's does, with the same
errors, but reads the token, its user, the user's permissions and group names in one statement: an
integrator's request costs one query before the view instead of three.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.db import connections, router
from django.utils.translation import gettext_lazy as _
from rest_framework import authentication, exceptions
from rest_framework.authtoken.models import Token

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


def _token_sql() -> str:
    """The token's creation time, its user's columns, then the user's permissions and group names."""
    if "token" not in _SQL:
        user_model = get_user_model()
        user_table = user_model._meta.db_table
        columns = ", ".join(f'u."{field.column}"' for field in user_model._meta.concrete_fields)
        _SQL["token"] = (
            f"SELECT t.created, {columns}, ARRAY({_perms_sql('u.id')}), ARRAY({_groups_sql('u.id')}) "
            f"FROM {Token._meta.db_table} t JOIN {user_table} u ON u.id = t.user_id WHERE t.key = %(key)s"
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


class TokenAuthentication(authentication.TokenAuthentication):
    """DRF's token authentication in one query (module docstring); the same answers and errors."""

    def authenticate_credentials(self, key):
        user_model = get_user_model()
        using = router.db_for_read(Token)
        with connections[using].cursor() as cursor:
            cursor.execute(_token_sql(), {"key": key})
            row = cursor.fetchone()
        if row is None:
            raise exceptions.AuthenticationFailed(_("Invalid token."))
        fields = user_model._meta.concrete_fields
        user = user_model.from_db(using, [f.attname for f in fields], row[1 : 1 + len(fields)])
        if not user.is_active:
            raise exceptions.AuthenticationFailed(_("User inactive or deleted."))
        _remember(user, row[-2], row[-1])
        token = Token.from_db(using, ["key", "user_id", "created"], [key, user.pk, row[0]])
        token.user = user
        return user, token
