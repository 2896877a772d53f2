"""Authentication backend: Django's ``ModelBackend`` with the user's permissions and group names read
in one query.

Every API request checks model permissions, so loading them is on the path of every request. Django's
backend reads the user's own permissions and the permissions of their groups in two ORM queries;
this one reads both, and the names of the user's groups, in one plain SQL statement, and keeps them on
the user object for the request (``_perm_cache``, as Django does, so ``user.get_all_permissions()``,
``perms`` in templates and ``has_perm`` read the same set). Superusers, inactive and anonymous users
take Django's own path. Nothing is kept across requests: a permission change is seen by the next
request.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.db import connections, router

_SQL = None


def _sql() -> str:
    global _SQL
    if _SQL is None:
        user_model = get_user_model()
        user_perms = user_model.user_permissions.through._meta.db_table
        user_groups = user_model.groups.through._meta.db_table
        group_perms = Group.permissions.through._meta.db_table
        _SQL = (
            f"SELECT ct.app_label || '.' || p.codename, FALSE "
            f"FROM {Permission._meta.db_table} p JOIN {ContentType._meta.db_table} ct ON ct.id = p.content_type_id "
            f"WHERE p.id IN (SELECT up.permission_id FROM {user_perms} up WHERE up.user_id = %(user)s "
            f"UNION SELECT gp.permission_id FROM {group_perms} gp "
            f"JOIN {user_groups} ug ON ug.group_id = gp.group_id WHERE ug.user_id = %(user)s) "
            f"UNION ALL SELECT g.name, TRUE FROM {Group._meta.db_table} g "
            f"JOIN {user_groups} ug ON ug.group_id = g.id WHERE ug.user_id = %(user)s"
        )
    return _SQL


def _load(user_obj) -> None:
    """Fill the user's permission set and group names from one query."""
    using = router.db_for_read(Permission)
    with connections[using].cursor() as cursor:
        cursor.execute(_sql(), {"user": user_obj.pk})
        rows = cursor.fetchall()
    user_obj._perm_cache = {name for name, is_group in rows if not is_group}
    user_obj._group_names_cache = frozenset(name for name, is_group in rows if is_group)


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
