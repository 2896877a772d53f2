from decimal import Decimal

from erp.kernel.money import fen, line_net_amount, money


def test_money_rounds_to_the_fen_half_up():
    # when / then
    assert money(Decimal("1.005")) == Decimal("1.01")
    assert money(Decimal("1.004")) == Decimal("1.00")
    assert money(Decimal("-1.005")) == Decimal("-1.01")


def test_line_net_amount_is_quantity_times_price_less_the_discount_rounded_to_the_fen():
    # when / then
    assert line_net_amount(2, Decimal("100.0000"), Decimal("10")) == Decimal("180.00")
    assert line_net_amount(3, Decimal("0.3333"), Decimal("0")) == Decimal("1.00")
    assert line_net_amount(Decimal("7"), Decimal("12.5050"), Decimal("12.5")) == Decimal("76.59")


def test_fen_is_the_amount_in_integer_fen_and_none_is_zero():
    # when / then
    assert fen(Decimal("12.345")) == 1235
    assert fen(Decimal("0.004")) == 0
    assert fen(7) == 700
    assert fen(None) == 0
    assert isinstance(fen(Decimal("1.5")), int)
