"""Human document numbers (``SO-2026-000123``) without gaps or duplicates under concurrency.

One counter row per (prefix, year), bumped with a single ``INSERT … ON CONFLICT DO UPDATE`` that
holds the row lock until the caller's transaction ends: concurrent callers queue, and a rolled-back
transaction rolls its number back too, so there are no gaps.
"""

from __future__ import annotations

from django.db import connection, transaction
from django.utils import timezone


def next_number(prefix: str, *, year: int | None = None, width: int = 6) -> str:
    """Return the next number for ``prefix`` in ``year``. Must run inside the writing transaction."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("next_number must be called inside transaction.atomic()")
    year = year or timezone.localdate().year
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO erp_documentsequence (prefix, year, last_value) VALUES (%s, %s, 1)
            ON CONFLICT (prefix, year)
            DO UPDATE SET last_value = erp_documentsequence.last_value + 1
            RETURNING last_value
            """,
            [prefix, year],
        )
        value = cursor.fetchone()[0]
    return f"{prefix}-{year}-{value:0{width}d}"
