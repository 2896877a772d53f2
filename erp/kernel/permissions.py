"""DRF permission classes. Model permissions decide who may use an endpoint at all (GET needs
``view_<model>``, which DRF's own class does not check); rows are narrowed by ``restrict``."""

from __future__ import annotations

from rest_framework import permissions


class ModelPermissions(permissions.DjangoModelPermissions):
    perms_map = {
        "GET": ["%(app_label)s.view_%(model_name)s"],
        "OPTIONS": [],
        "HEAD": ["%(app_label)s.view_%(model_name)s"],
        "POST": ["%(app_label)s.add_%(model_name)s"],
        "PUT": ["%(app_label)s.change_%(model_name)s"],
        "PATCH": ["%(app_label)s.change_%(model_name)s"],
        "DELETE": ["%(app_label)s.delete_%(model_name)s"],
    }

    def has_permission(self, request, view):
        if not request.user or not request.user.is_authenticated:
            return False
        if request.method.lower() not in getattr(view, "http_method_names", ()):
            return True  # the view answers 405; a permission check would hide that behind a 403
        if getattr(view, "_ignore_model_permissions", False):
            return True
        return super().has_permission(request, view)
