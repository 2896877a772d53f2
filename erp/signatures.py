"""Electronic signatures (21 CFR Part 11 idea, DOMAIN.md §9): password re-entered, meaning recorded,
bound to the exact version of the record signed.

The binding is a SHA-256 over a canonical JSON of the record's field values (its ``version`` included),
so a signature cannot be carried to another record, nor to the same record once it has changed.
Fields that change without being a change of content (``last_seen_at``, ``updated_at``) are left out;
a model may list more in ``SIGNATURE_EXCLUDED_FIELDS``.
"""

from __future__ import annotations

import hashlib
import json

from django.contrib.contenttypes.models import ContentType
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models, transaction
from django.utils.translation import gettext_lazy as _

from erp.kernel.errors import DomainError, PermissionDenied
from erp.kernel.people import person_name
from erp.models import ElectronicSignature, SignatureMeaning

DEFAULT_EXCLUDED_FIELDS = ("last_seen_at", "updated_at")


def record_hash(record: models.Model) -> str:
    """SHA-256 of the record's model label, primary key and concrete field values (canonical JSON)."""
    excluded = set(DEFAULT_EXCLUDED_FIELDS) | set(getattr(type(record), "SIGNATURE_EXCLUDED_FIELDS", ()))
    values = {
        field.attname: getattr(record, field.attname)
        for field in record._meta.concrete_fields
        if field.name not in excluded and field.attname not in excluded
    }
    canonical = json.dumps(
        {"model": record._meta.label_lower, "pk": record.pk, "fields": values},
        cls=DjangoJSONEncoder,
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def signature_create(
    *, user, password: str, meaning: str, record: models.Model, reason: str = "", acting_user=None
) -> ElectronicSignature:
    """Sign ``record`` as it is now: the password is checked again (a wrong one changes nothing) and the
    signature keeps the signer's printed name, the meaning and the record's version and hash.

    ``acting_user``: the person making the request, when the caller knows it. Nobody signs for someone
    else, administrators included: a signer who is not the acting person is refused (403)."""
    if acting_user is not None and (user is None or acting_user.pk != user.pk):
        raise PermissionDenied(_("You can sign only in your own name; nobody signs for someone else."))
    if meaning not in SignatureMeaning.values:
        raise DomainError(
            _("Choose the meaning of your signature."),
            code="signature_invalid",
            fields={"meaning": [_("Choose the meaning of your signature.")]},
        )
    if not user or not user.is_authenticated or not user.is_active or not password or not user.check_password(password):
        raise DomainError(
            _("The password is not correct; nothing was signed."),
            code="signature_invalid",
            fields={"password": [_("The password is not correct.")]},
        )
    with transaction.atomic():
        return ElectronicSignature.objects.create(
            signer=user,
            printed_name=person_name(user),
            meaning=meaning,
            reason=reason,
            record_type=ContentType.objects.get_for_model(record),
            record_id=record.pk,
            record_version=getattr(record, "version", 1) or 1,
            record_hash=record_hash(record),
        )


def signature_verify(*, signature: ElectronicSignature, record: models.Model) -> bool:
    """True when ``signature`` was made on exactly this record in exactly its present content."""
    if signature.record_type_id != ContentType.objects.get_for_model(record).pk or signature.record_id != record.pk:
        return False
    if signature.record_version != (getattr(record, "version", 1) or 1):
        return False
    return signature.record_hash == record_hash(record)
