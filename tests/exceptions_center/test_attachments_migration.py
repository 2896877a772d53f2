"""exceptions_center 0003: event evidence uploaded before attachments existed keeps working — the file is
copied into the private storage as version 1 of an attachment of its event."""

from __future__ import annotations

import hashlib

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

BEFORE = [("exceptions_center", "0004_stored_texts_log_resolution_notification"), ("erp", "0004_attachments")]


@pytest.mark.django_db(transaction=True)
def test_migration_copies_legacy_event_files_into_private_storage(settings, tmp_path, make_user):
    # given the schema before the migration, with an event whose log holds a file in MEDIA_ROOT
    settings.MEDIA_ROOT = tmp_path / "media"
    content = b"%PDF-1.4\nold evidence\n%%EOF\n"
    legacy_name = default_storage.save("exceptions/2026/01/licence.pdf", ContentFile(content))
    actor = make_user("compliance")
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    try:
        old = executor.loader.project_state(BEFORE).apps
        ContentType = old.get_model("contenttypes", "ContentType")
        party_type = ContentType.objects.get(app_label="masterdata", model="party")
        rule = old.get_model("exceptions_center", "Rule").objects.create(
            code="LEGACY", name_zh="旧", name_en="old", category="compliance", event="order.saved", condition="true"
        )
        event = old.get_model("exceptions_center", "ExceptionEvent").objects.create(
            number="EX-2026-999999",
            category="compliance",
            rule=rule,
            severity="high",
            source_type=party_type,
            source_id=1,
            detail_key="",
        )
        Entry = old.get_model("exceptions_center", "EventLogEntry")
        with_file = Entry.objects.create(event=event, action="attached", actor_id=actor.pk, attachment=legacy_name)
        without = Entry.objects.create(event=event, action="commented", comment="no file")

        # when the migrations run forward
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())
    finally:
        MigrationExecutor(connection).migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())

    # then the file is an attachment of its event, in private storage, readable with the same bytes
    from erp.models import Attachment
    from exceptions_center.models import EventLogEntry

    entry = EventLogEntry.objects.select_related("attachment").get(pk=with_file.pk)
    attachment = entry.attachment
    assert attachment is not None
    assert (attachment.owner_type.model, attachment.owner_id) == ("exceptionevent", event.pk)
    assert (attachment.original_name, attachment.version, attachment.size) == ("licence.pdf", 1, len(content))
    assert attachment.sha256 == hashlib.sha256(content).hexdigest()
    assert attachment.content_type == "application/pdf"
    assert attachment.uploaded_by_id == actor.pk
    assert attachment.file.path.startswith(str(settings.ERP_PRIVATE_MEDIA_ROOT))
    with attachment.file.open("rb") as handle:
        assert handle.read() == content
    assert EventLogEntry.objects.get(pk=without.pk).attachment is None
    assert Attachment.objects.count() == 1
    assert default_storage.exists(legacy_name)  # the original stays until the operator removes it
