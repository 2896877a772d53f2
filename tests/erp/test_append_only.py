"""R29: the audit trail (every history table), the stock ledger, the handling log, signatures and
attachments are append-only in PostgreSQL itself: UPDATE and DELETE are refused even through raw SQL."""

from __future__ import annotations

import pytest
from django.apps import apps
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import IntegrityError, connection, transaction

from erp.kernel.append_only import append_only_tables, tables_with_trigger
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db


def _refused(sql: str, params=()) -> str:
    """Run ``sql`` in a savepoint and return the database's refusal message (fails if it was accepted)."""
    with pytest.raises(IntegrityError) as exc, transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, params)
    return str(exc.value)


def _assert_append_only(table: str, pk_column: str, pk, column: str) -> None:
    quoted = connection.ops.quote_name(table)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {column} FROM {quoted} WHERE {pk_column} = %s", [pk])
        before = cursor.fetchone()
    assert before is not None
    assert "append-only" in _refused(f"UPDATE {quoted} SET {column} = {column} WHERE {pk_column} = %s", [pk])
    assert "append-only" in _refused(f"DELETE FROM {quoted} WHERE {pk_column} = %s", [pk])
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {column} FROM {quoted} WHERE {pk_column} = %s", [pk])
        assert cursor.fetchone() == before  # nothing changed


def test_r29_every_history_table_and_ledger_has_the_trigger():
    # given every simple-history model of our apps, and the ledgers
    history_tables = {
        model._meta.db_table
        for model in apps.get_models()
        if model._meta.object_name.startswith("Historical") and model._meta.app_label in {"masterdata", "orders"}
    }
    expected = set(append_only_tables(apps))
    # then
    assert history_tables and history_tables <= expected
    assert {"traceability_stockmove", "exceptions_center_eventlogentry", "erp_electronicsignature"} <= expected
    assert expected <= tables_with_trigger(connection)


def test_r29_history_rows_refuse_update_and_delete_through_raw_sql():
    # given a party with its "created" history row
    from masterdata.models import Party
    from tests.masterdata.factories import PartyFactory

    party = PartyFactory()
    row = Party.history.filter(id=party.pk).first()
    assert row is not None
    # when / then
    _assert_append_only(Party.history.model._meta.db_table, "history_id", row.history_id, "name")


def test_r29_the_orm_cannot_change_history_either():
    from masterdata.models import Party
    from tests.masterdata.factories import PartyFactory

    party = PartyFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        Party.history.filter(id=party.pk).update(history_change_reason="rewritten")
    with pytest.raises(IntegrityError), transaction.atomic():
        Party.history.filter(id=party.pk).delete()
    assert Party.history.filter(id=party.pk).count() == 1
    # the business row itself still changes normally (a new history row is appended)
    party.name = "新名称"
    party.save()
    assert Party.history.filter(id=party.pk).count() == 2


def test_r29_stock_ledger_refuses_update_and_delete():
    # given a posted stock move
    from tests.traceability.factories import in_days, product, released_stock, warehouse
    from traceability.models import StockMove

    released_stock(product=product(), warehouse=warehouse(), quantity=5, expiry=in_days(400))
    move = StockMove.objects.get()
    # when / then
    _assert_append_only(StockMove._meta.db_table, "id", move.pk, "on_hand_delta")


def test_r29_signatures_and_attachments_refuse_update_and_delete(make_user):
    # given a signature and an attachment
    from erp.attachments import attachment_add
    from erp.models import Attachment, ElectronicSignature
    from erp.signatures import signature_create
    from tests.masterdata.factories import PartyFactory

    user = make_user("quality")
    party = PartyFactory()
    signature = signature_create(user=user, password=PASSWORD, meaning="review", record=party)
    attachment = attachment_add(
        owner=party, upload=SimpleUploadedFile("a.pdf", b"%PDF-1.4\n%%EOF\n"), user=user, slot="licence"
    )
    # when / then
    _assert_append_only(ElectronicSignature._meta.db_table, "id", signature.pk, "reason")
    _assert_append_only(Attachment._meta.db_table, "id", attachment.pk, "original_name")
    assert Attachment.objects.filter(pk=attachment.pk).exists()


def test_r29_handling_log_refuses_update_and_delete(make_user):
    # given an event's log entry
    from exceptions_center.models import EventLogEntry, LogAction
    from tests.exceptions_center.factories import event_for, rule_with_route

    event = event_for(rule_with_route("compliance", category="compliance", severity="high"))
    entry = EventLogEntry.objects.create(event=event, action=LogAction.COMMENTED, comment="called the customer")
    # when / then
    _assert_append_only(EventLogEntry._meta.db_table, "id", entry.pk, "comment")


def test_truncate_is_not_blocked():
    # the test suite's flush (and a restore) empties tables with TRUNCATE
    from erp.models import Attachment

    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {Attachment._meta.db_table} CASCADE")
    assert not Attachment.objects.exists()
