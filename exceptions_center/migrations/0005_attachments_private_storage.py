"""Event evidence moves to erp.Attachment: private storage, checked type, permission-checked download.

Existing files (under MEDIA_ROOT/exceptions/…) are copied into the private storage as version 1 of an
attachment of their event, with their checksum, uploader and time; the originals are left where they
were (remove MEDIA_ROOT/exceptions/ once the copy is checked: docs/operations.md). A file that is
missing on disk is listed in the log and its entry keeps its filename in ``data``.
"""

import hashlib
import logging
import os

import django.db.models.deletion
from django.core.files import File
from django.core.files.storage import default_storage
from django.db import migrations, models

logger = logging.getLogger("erp.migrations")


def copy_legacy_files(apps, schema_editor):
    import filetype

    EventLogEntry = apps.get_model("exceptions_center", "EventLogEntry")
    if "legacy_attachment" not in {field.name for field in EventLogEntry._meta.get_fields()}:
        return  # replayed on today's models (tests/conftest.py reference_data_reload): nothing to copy
    Attachment = apps.get_model("erp", "Attachment")
    ContentType = apps.get_model("contenttypes", "ContentType")
    entries = EventLogEntry.objects.exclude(legacy_attachment="").exclude(legacy_attachment__isnull=True)
    if not entries.exists():
        return
    owner_type, _created = ContentType.objects.get_or_create(app_label="exceptions_center", model="exceptionevent")
    for entry in entries.order_by("pk").iterator():
        name = entry.legacy_attachment.name
        if not default_storage.exists(name):
            logger.warning("event log entry %s: file %s is missing, not copied", entry.pk, name)
            continue
        with default_storage.open(name, "rb") as handle:
            content = handle.read()
        original = os.path.basename(name)
        slot = original.lower()[:100]
        kind = filetype.guess(content[:8192])
        latest = (
            Attachment.objects.filter(owner_type=owner_type, owner_id=entry.event_id, slot=slot)
            .order_by("-version")
            .values_list("version", flat=True)
            .first()
        )
        attachment = Attachment(
            owner_type=owner_type,
            owner_id=entry.event_id,
            slot=slot,
            version=(latest or 0) + 1,
            original_name=original,
            content_type=kind.mime if kind else "application/octet-stream",
            size=len(content),
            sha256=hashlib.sha256(content).hexdigest(),
            uploaded_by_id=entry.actor_id,
        )
        with default_storage.open(name, "rb") as handle:
            attachment.file.save(original, File(handle), save=False)
        attachment.save()
        Attachment.objects.filter(pk=attachment.pk).update(uploaded_at=entry.at)
        EventLogEntry.objects.filter(pk=entry.pk).update(attachment=attachment)


class Migration(migrations.Migration):
    dependencies = [
        ("erp", "0004_attachments"),
        ("exceptions_center", "0004_stored_texts_log_resolution_notification"),
    ]

    operations = [
        migrations.RenameField(model_name="eventlogentry", old_name="attachment", new_name="legacy_attachment"),
        migrations.AddField(
            model_name="eventlogentry",
            name="attachment",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="erp.attachment",
                verbose_name="attachment",
            ),
        ),
        # Not reversible for the data: going back leaves the old column empty (the files stay on disk).
        migrations.RunPython(copy_legacy_files, migrations.RunPython.noop),
        migrations.RemoveField(model_name="eventlogentry", name="legacy_attachment"),
    ]
