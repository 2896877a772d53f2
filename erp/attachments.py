"""Attachment services: add a checked file (a new version of its slot) to any record.

Checks and storage are in ``erp.kernel.files``; reading is ``erp.kernel.files.attachment_may_read`` and the
download views (``erp.views.attachment_download``, ``erp.views.AttachmentDownloadApiView``).
"""

from __future__ import annotations

from django.contrib.contenttypes.models import ContentType
from django.db import connection, transaction
from django.db.models import Max

from erp.kernel.files import validate_upload
from erp.models import Attachment


def attachment_add(*, owner, upload, user, slot: str | None = None, field: str = "file") -> Attachment:
    """Attach ``upload`` to ``owner`` after checking its type, content and size (a refusal is a
    ``DomainError`` on ``field`` and stores nothing). The same ``slot`` (default: the file name, in lower
    case) of the same record gets the next version; earlier versions stay.

    Uploads to one record queue on a transaction-scoped advisory lock, so versions never collide.
    A rolled-back caller leaves the stored file without a row (never served; see operations.md).
    """
    checked = validate_upload(upload, field=field)
    owner_type = ContentType.objects.get_for_model(owner, for_concrete_model=True)
    slot = (slot or checked.name.lower())[:100]
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [owner_type.pk, int(owner.pk) % (2**31)])
        latest = Attachment.objects.filter(owner_type=owner_type, owner_id=owner.pk, slot=slot).aggregate(
            version=Max("version")
        )["version"]
        attachment = Attachment(
            owner_type=owner_type,
            owner_id=owner.pk,
            slot=slot,
            version=(latest or 0) + 1,
            original_name=checked.name,
            content_type=checked.content_type,
            size=checked.size,
            sha256=checked.sha256,
            uploaded_by=user if getattr(user, "is_authenticated", False) else None,
        )
        attachment.file.save(checked.name, upload, save=False)
        attachment.save()
    return attachment


def attachment_versions(*, owner, slot: str):
    """Every version of one slot of a record, newest first."""
    owner_type = ContentType.objects.get_for_model(owner, for_concrete_model=True)
    return Attachment.objects.filter(owner_type=owner_type, owner_id=owner.pk, slot=slot).order_by("-version")
