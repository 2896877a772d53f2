"""Serializer helpers shared by the apps' APIs."""

from __future__ import annotations

import copy

from rest_framework import serializers
from rest_framework.relations import ManyRelatedField


def _field_copy(field):
    """A copy of a cached field for one serializer instance. ``bind`` sets only the copy's own
    attributes (``field_name``, ``parent``, ``source_attrs``), so a shallow copy is enough for a plain
    field; nested serializers and list fields hold a child that ``bind`` would share, so they are
    deep-copied as DRF does."""
    if isinstance(field, serializers.BaseSerializer | serializers.ListField | serializers.DictField | ManyRelatedField):
        return copy.deepcopy(field)
    # copy.copy without its generic __reduce_ex__ round trip (a tenth of the cost, ~70 fields a request)
    clone = object.__new__(type(field))
    clone.__dict__.update(field.__dict__)
    return clone


class CachedFieldsMixin:
    """Build a serializer's fields once per class instead of on every instantiation.

    DRF introspects the model (field kwargs, validators, relations) each time a ``ModelSerializer`` is
    created, and deep-copies every declared field of any serializer; on the order endpoints that was
    about a tenth of a request's CPU time. Use it only where the fields depend on the class alone (not
    on the request or the instance): each serializer gets its own copy of each field (``_field_copy``).
    """

    def get_fields(self):
        cls = type(self)
        cached = cls.__dict__.get("_cached_fields")
        if cached is None:
            cached = super().get_fields()
            cls._cached_fields = cached
        return {name: _field_copy(field) for name, field in cached.items()}


class AttachmentSerializer(serializers.Serializer):
    """An attached file as the API shows it: name, type, size, checksum, version and where to download it."""

    id = serializers.IntegerField()
    name = serializers.CharField(source="original_name")
    content_type = serializers.CharField()
    size = serializers.IntegerField()
    sha256 = serializers.CharField()
    version = serializers.IntegerField()
    uploaded_at = serializers.DateTimeField()
    download = serializers.SerializerMethodField()

    def get_download(self, attachment) -> str:
        from rest_framework.reverse import reverse

        return reverse("api-attachment-download", args=[attachment.pk], request=self.context.get("request"))
