"""Serializer helpers shared by the apps' APIs."""

from __future__ import annotations

import copy


class CachedFieldsMixin:
    """Build a ``ModelSerializer``'s fields once per class instead of on every instantiation.

    DRF introspects the model (field kwargs, validators, relations) each time a ``ModelSerializer`` is
    created; on the order endpoints that was about a tenth of a request's CPU time. Use it only where the
    fields depend on the class alone (not on the request or the instance): each serializer still gets its
    own deep copy, exactly as DRF copies declared fields.
    """

    def get_fields(self):
        cls = type(self)
        cached = cls.__dict__.get("_cached_fields")
        if cached is None:
            cached = super().get_fields()
            cls._cached_fields = cached
        return copy.deepcopy(cached)
