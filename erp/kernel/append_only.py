"""Append-only tables, enforced by PostgreSQL itself (R29: the record of who did what is never rewritten).

The application never updates or deletes these rows (a correction is a new row); a trigger makes the
database refuse it too, whatever the code path (ORM, raw SQL, admin, a shell):

- every simple-history table of our apps (``historical*``: the audit trail),
- the stock ledger (``traceability.StockMove``),
- the exception handling log (``exceptions_center.EventLogEntry``),
- electronic signatures (``erp.ElectronicSignature``) and attachments (``erp.Attachment``).

``UPDATE`` and ``DELETE`` raise ``restrict_violation`` (Django: ``IntegrityError``). ``TRUNCATE`` is not
blocked (the test suite empties tables with it; restoring a backup is an operator's act). A data
migration that must rewrite such rows (a backfill of a new column) disables the trigger explicitly, in
its own transaction: ``with append_only_suspended(schema_editor.connection, table): …``.

The trigger is installed by ``erp/migrations/0005_append_only_triggers.py`` and re-checked after every
``migrate`` (``append_only_sync`` on ``post_migrate``), so a history table added by a later migration gets
it without a migration of its own. For protection against a compromised application as well, run the web
and worker processes with a database role that does not own the tables and lacks UPDATE/DELETE on them
(docs/operations.md).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from erp.kernel.our_apps import OUR_APPS

LEDGERS = (
    ("traceability", "StockMove"),
    ("exceptions_center", "EventLogEntry"),
    ("erp", "ElectronicSignature"),
    ("erp", "Attachment"),
)
TRIGGER = "erp_append_only"

FUNCTION_SQL = """
CREATE OR REPLACE FUNCTION erp_refuse_update_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'table % is append-only: % refused', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'restrict_violation',
              HINT = 'Write a new row (a correction) instead of changing or deleting one.';
END;
$$;
"""


def _is_history_model(model) -> bool:
    return model._meta.object_name.startswith("Historical") and any(
        field.name == "history_id" for field in model._meta.local_fields
    )


def append_only_tables(apps) -> list[str]:
    """The tables that must be append-only, from an app registry (the real one or a migration state)."""
    tables: list[str] = []
    for model in apps.get_models():
        meta = model._meta
        if meta.app_label in OUR_APPS and meta.managed and not meta.proxy and _is_history_model(model):
            tables.append(meta.db_table)
    for app_label, name in LEDGERS:
        try:
            tables.append(apps.get_model(app_label, name)._meta.db_table)
        except LookupError:
            continue
    return sorted(set(tables))


def install(connection, tables) -> None:
    """Create the trigger function and put the trigger on every table (idempotent)."""
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(FUNCTION_SQL)
        for table in tables:
            cursor.execute(
                "SELECT 1 FROM pg_trigger WHERE tgname = %s AND tgrelid = to_regclass(%s) AND NOT tgisinternal",
                [TRIGGER, quote(table)],
            )
            if cursor.fetchone():
                continue
            cursor.execute(
                f"CREATE TRIGGER {TRIGGER} BEFORE UPDATE OR DELETE ON {quote(table)} "
                f"FOR EACH ROW EXECUTE FUNCTION erp_refuse_update_delete()"
            )


def tables_with_trigger(connection) -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
            "WHERE t.tgname = %s AND NOT t.tgisinternal",
            [TRIGGER],
        )
        return {row[0] for row in cursor.fetchall()}


def append_only_sync(*, using: str = "default", apps=None, **_kwargs) -> None:
    """``post_migrate``: make sure every append-only table has its trigger (new history tables too)."""
    from django.db import connections

    if apps is None:
        from django.apps import apps
    connection = connections[using]
    if connection.vendor != "postgresql":
        return
    install(connection, append_only_tables(apps))


@contextmanager
def append_only_suspended(connection, table: str) -> Iterator[None]:
    """For a data migration that backfills a new column of an append-only table: the table's trigger is
    off inside the block and on again after it. ``ALTER TABLE`` is transactional in PostgreSQL, so a
    failed migration leaves the trigger as it was. Does nothing where the trigger is not installed (yet)."""
    if connection.vendor != "postgresql" or table not in tables_with_trigger(connection):
        yield
        return
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        # PostgreSQL refuses ALTER TABLE while the transaction holds deferred checks on the table (Django's
        # foreign keys are DEFERRABLE INITIALLY DEFERRED): run them now, defer them again afterwards.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute(f"ALTER TABLE {quote(table)} DISABLE TRIGGER {TRIGGER}")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute(f"ALTER TABLE {quote(table)} ENABLE TRIGGER {TRIGGER}")
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")
