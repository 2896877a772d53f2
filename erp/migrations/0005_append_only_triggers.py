"""The audit trail, the stock ledger, the handling log, signatures and attachments become append-only in
PostgreSQL itself: UPDATE and DELETE are refused by a trigger (erp/kernel/append_only.py; R29)."""

from django.db import migrations


def install_triggers(apps, schema_editor):
    from erp.kernel.append_only import append_only_tables, install

    install(schema_editor.connection, append_only_tables(apps))


def drop_triggers(apps, schema_editor):
    from erp.kernel.append_only import TRIGGER, append_only_tables

    quote = schema_editor.connection.ops.quote_name
    for table in append_only_tables(apps):
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {TRIGGER} ON {quote(table)}")
    schema_editor.execute("DROP FUNCTION IF EXISTS erp_refuse_update_delete()")


class Migration(migrations.Migration):
    dependencies = [
        ("erp", "0004_attachments"),
        ("masterdata", "0005_party_licence_number"),
        ("orders", "0007_stored_texts_hold_summary"),
        ("exceptions_center", "0005_attachments_private_storage"),
        ("traceability", "0007_stored_texts_lot_status_reason"),
    ]

    operations = [migrations.RunPython(install_triggers, drop_triggers)]
