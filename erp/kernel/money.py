"""Money: amounts in yuan as ``Decimal`` rounded to the fen (cent), and the integer fen the rules see.

Every amount the ERP computes goes through these functions, so an order line's net amount is the same
whether the order entry page previews it or the order service stores it, and a rule compares the
same fen the order carries.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")
_HUNDRED = Decimal("100")
_ONE_FEN = Decimal("1")


def money(value: Decimal) -> Decimal:
    """An amount rounded to the fen, half up (the rounding of Chinese VAT invoices)."""
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def line_net_amount(quantity: int | Decimal, unit_price: Decimal, discount_pct: Decimal) -> Decimal:
    """Net amount of a line: quantity × unit price × (1 − discount %), rounded to the fen."""
    return money(Decimal(quantity) * unit_price * (_HUNDRED - discount_pct) / _HUNDRED)


def fen(amount: Decimal | int | None) -> int:
    """Money as integer fen (CEL has no decimal type; a float would round). ``None`` counts as 0."""
    if amount is None:
        return 0
    if not isinstance(amount, Decimal):
        amount = Decimal(amount)
    return int((amount * 100).quantize(_ONE_FEN, rounding=ROUND_HALF_UP))
