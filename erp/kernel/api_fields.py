"""Serializer fields shared by the apps' APIs."""

from __future__ import annotations

from django.db.models import Q
from rest_framework import serializers


class VisiblePrimaryKeyRelatedField(serializers.PrimaryKeyRelatedField):
    """A related object chosen by id from the rows the caller may use: ``queryset_for(user=…)`` is built
    per request, so an id that exists but is not allowed gets exactly the error of an id that does not
    exist (``does_not_exist``; pass a clearer message in ``error_messages``).

    The object's current value is always accepted, so a client may send back what it read (a PUT of
    the GET body) even when that value would no longer be offered.
    """

    def __init__(self, *, queryset_for, **kwargs) -> None:
        self.queryset_for = queryset_for
        super().__init__(**kwargs)

    def get_queryset(self):
        request = self.context.get("request")
        queryset = self.queryset_for(user=getattr(request, "user", None))
        current = self._current_pk()
        if current is None:
            return queryset
        return queryset.model._default_manager.filter(Q(pk__in=queryset.values("pk")) | Q(pk=current))

    def _current_pk(self):
        instance = getattr(self.parent, "instance", None)
        if not hasattr(instance, "_meta") or not self.source:
            return None  # creating, or a list
        field = instance._meta.get_field(self.source)
        return getattr(instance, field.attname, None)
