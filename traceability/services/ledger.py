"""The stock ledger: append-only moves and their balances, posted together under row locks."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from erp.kernel.errors import DomainError
from traceability.models import StockBalance, StockMove


@dataclass(frozen=True)
class MoveSpec:
    """One intended ledger posting; ``stock_moves_post`` turns a list of them into moves and balances."""

    kind: str
    product_id: int
    lot_id: int
    warehouse_id: int
    on_hand_delta: int = 0
    reserved_delta: int = 0
    serial_id: int | None = None
    # Units awaiting release (receipts into a released lot, customer returns): on hand, not available.
    quarantined_delta: int = 0


def balances_lock(*, keys) -> dict[tuple[int, int, int], StockBalance]:
    """Lock the balance rows of ``keys`` ((warehouse, product, lot) triples), creating missing ones.

    Rows are locked in primary-key order so concurrent callers never deadlock. Caller is in the
    writing transaction.
    """
    keys = sorted(set(keys))
    if not keys:
        return {}
    StockBalance.objects.bulk_create(
        [StockBalance(warehouse_id=w, product_id=p, lot_id=lot) for w, p, lot in keys], ignore_conflicts=True
    )
    lot_ids = {lot for _w, _p, lot in keys}
    warehouse_ids = {w for w, _p, _l in keys}
    rows = StockBalance.objects.select_for_update().filter(lot_id__in=lot_ids, warehouse_id__in=warehouse_ids)
    wanted = set(keys)
    return {
        (b.warehouse_id, b.product_id, b.lot_id): b
        for b in rows.order_by("id")
        if (b.warehouse_id, b.product_id, b.lot_id) in wanted
    }


def stock_moves_post(
    *,
    moves: list[MoveSpec],
    document_type: str,
    document_id: int,
    document_ref: str,
    user,
    reason: str = "",
    locked: dict | None = None,
) -> int:
    """Append ``moves`` to the ledger and apply them to the balances in the same transaction.

    Balances are locked (or reuse ``locked`` from the caller); a posting that would make on-hand,
    reserved or awaiting-release stock negative, or leave less on hand than is reserved plus awaiting
    release, raises ``DomainError`` and writes nothing (the database CHECK constraints are the last guard).
    """
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("stock_moves_post must run inside transaction.atomic()")
    if not moves:
        return 0
    deltas: dict[tuple[int, int, int], list[int]] = defaultdict(lambda: [0, 0, 0])
    for move in moves:
        key = (move.warehouse_id, move.product_id, move.lot_id)
        deltas[key][0] += move.on_hand_delta
        deltas[key][1] += move.reserved_delta
        deltas[key][2] += move.quarantined_delta
    balances = dict(locked or {})
    missing = [key for key in deltas if key not in balances]
    if missing:
        balances.update(balances_lock(keys=missing))
    changed = []
    for key, (on_hand, reserved, quarantined) in deltas.items():
        balance = balances[key]
        new_on_hand, new_reserved = balance.on_hand + on_hand, balance.reserved + reserved
        new_quarantined = balance.quarantined + quarantined
        if min(new_on_hand, new_reserved, new_quarantined) < 0 or new_reserved + new_quarantined > new_on_hand:
            from traceability.models import Lot

            lot_number = Lot.objects.filter(pk=balance.lot_id).values_list("lot_number", flat=True).first()
            figures = {
                "lot": lot_number,
                "on_hand": balance.on_hand,
                "reserved": balance.reserved,
                "quarantined": balance.quarantined,
            }
            message = (
                _(
                    "Not enough stock of lot %(lot)s: %(on_hand)d on hand, %(reserved)d reserved, "
                    "%(quarantined)d awaiting release."
                )
                if balance.quarantined
                else _("Not enough stock of lot %(lot)s: %(on_hand)d on hand, %(reserved)d reserved.")
            )
            raise DomainError(
                message % figures,
                code="stock_insufficient",
                details={"lot_id": balance.lot_id, "warehouse_id": balance.warehouse_id},
            )
        balance.on_hand, balance.reserved, balance.quarantined = new_on_hand, new_reserved, new_quarantined
        changed.append(balance)
    now = timezone.now()
    for balance in changed:
        balance.updated_at = now
    StockBalance.objects.bulk_update(changed, ["on_hand", "reserved", "quarantined", "updated_at"])
    user_id = getattr(user, "pk", None) if user is not None and user.is_authenticated else None
    _moves_copy(
        [
            (
                m.kind,
                m.product_id,
                m.lot_id,
                m.serial_id,
                m.warehouse_id,
                m.on_hand_delta,
                m.reserved_delta,
                m.quarantined_delta,
                document_type,
                document_id,
                document_ref,
                user_id,
                reason[:200],
                now,
            )
            for m in moves
        ]
    )
    return len(moves)


MOVE_COLUMNS = (
    "kind",
    "product_id",
    "lot_id",
    "serial_id",
    "warehouse_id",
    "on_hand_delta",
    "reserved_delta",
    "quarantined_delta",
    "document_type",
    "document_id",
    "document_ref",
    "user_id",
    "reason",
    "created_at",
)


def _moves_copy(rows: list[tuple]) -> None:
    """Append ledger rows with PostgreSQL COPY: a 10,000-serial receipt posts 10,000 moves in one
    round trip, without building model instances (moves have no history: the ledger is the history)."""
    table = StockMove._meta.db_table
    with connection.cursor() as cursor:
        raw = cursor.cursor
        with raw.copy(f"COPY {table} ({', '.join(MOVE_COLUMNS)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
