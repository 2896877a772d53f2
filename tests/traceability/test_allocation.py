"""FEFO allocation from released lots, minimum shelf life, cold chain, shortages; balances never negative."""

from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from erp.kernel.errors import DomainError
from orders.models import OrderStatus
from traceability.models import Allocation, LotStatus, StockBalance, StockMove
from traceability.services import order_allocate, order_deallocate

from .factories import approved_order, customer, in_days, product, released_stock, warehouse

pytestmark = pytest.mark.django_db


def test_order_allocate_fefo_from_released_lots_only(warehouse_user):
    # given three lots: the earliest is on hold, then two released ones
    wh, prod = warehouse(), product()
    released_stock(product=prod, warehouse=wh, quantity=50, expiry=in_days(100), status=LotStatus.ON_HOLD)
    late = released_stock(product=prod, warehouse=wh, quantity=50, expiry=in_days(400))
    early = released_stock(product=prod, warehouse=wh, quantity=10, expiry=in_days(200))
    released_stock(product=prod, warehouse=wh, quantity=99, expiry=in_days(150), status=LotStatus.QUARANTINE)
    order = approved_order(customer=customer(), warehouse=wh, lines=[(prod, 15)])
    # when
    result = order_allocate(order=order, user=warehouse_user)
    # then the earliest released lot goes first, then the next
    assert result.complete
    assert [(a.lot_id, a.quantity) for a in result.allocations] == [(early.pk, 10), (late.pk, 5)]
    assert StockBalance.objects.get(lot=early).available == 0
    assert StockBalance.objects.get(lot=late).reserved == 5
    order.refresh_from_db()
    assert order.status == OrderStatus.ALLOCATED and order.lines.get().allocated_quantity == 15
    assert StockMove.objects.filter(kind="allocation").count() == 2


def test_order_allocate_never_expired_recalled_or_short_shelf_life(warehouse_user):
    # given a customer wanting 180 days of shelf life at delivery in 30 days
    wh, prod = warehouse(), product()
    released_stock(product=prod, warehouse=wh, quantity=10, expiry=in_days(20))  # expires before delivery
    released_stock(product=prod, warehouse=wh, quantity=10, expiry=in_days(150))  # only 120 days left
    released_stock(product=prod, warehouse=wh, quantity=10, expiry=in_days(900), status=LotStatus.RECALLED)
    ok = released_stock(product=prod, warehouse=wh, quantity=4, expiry=in_days(300))
    cust = customer(min_shelf_life_days=180)
    order = approved_order(customer=cust, warehouse=wh, lines=[(prod, 10)], delivery=in_days(30))
    # when
    result = order_allocate(order=order, user=warehouse_user)
    # then only the fitting lot is used and the rest stays a shortage
    assert [(a.lot_id, a.quantity) for a in result.allocations] == [(ok.pk, 4)]
    assert result.shortages[0].missing == 6 and "180" in result.shortages[0].reason
    order.refresh_from_db()
    assert order.status == OrderStatus.APPROVED


def test_order_allocate_min_shelf_life_pct_and_line_override(warehouse_user):
    wh, prod = warehouse(), product(shelf_life_days=1000)
    released_stock(product=prod, warehouse=wh, quantity=10, expiry=in_days(400))
    cust = customer(min_shelf_life_pct=50)  # 500 days
    strict = approved_order(customer=cust, warehouse=wh, lines=[(prod, 1)])
    assert order_allocate(order=strict, user=warehouse_user).shortages
    relaxed = approved_order(customer=cust, warehouse=wh, lines=[(prod, 1, {"min_shelf_life_days": 30})])
    assert order_allocate(order=relaxed, user=warehouse_user).complete


def test_order_allocate_line_override_in_percent_of_shelf_life(warehouse_user):
    # given a 1,000-day product with a lot of 400 days left, for a customer content with 30 days
    wh, prod = warehouse(), product(shelf_life_days=1000)
    released_stock(product=prod, warehouse=wh, quantity=10, expiry=in_days(400))
    cust = customer(min_shelf_life_days=30)
    # when one line asks for half the shelf life (500 days) and another for a third (334 days)
    strict = approved_order(customer=cust, warehouse=wh, lines=[(prod, 1, {"min_shelf_life_pct": 50})])
    fits = approved_order(customer=cust, warehouse=wh, lines=[(prod, 1, {"min_shelf_life_pct": 33})])
    both = approved_order(
        customer=cust, warehouse=wh, lines=[(prod, 1, {"min_shelf_life_pct": 10, "min_shelf_life_days": 450})]
    )
    # then the line's percentage replaces the customer's minimum, and days and % together take the stricter
    assert order_allocate(order=strict, user=warehouse_user).shortages
    assert order_allocate(order=fits, user=warehouse_user).complete
    assert order_allocate(order=both, user=warehouse_user).shortages


def test_order_allocate_requested_lot(warehouse_user):
    wh, prod = warehouse(), product()
    released_stock(product=prod, warehouse=wh, quantity=10, expiry=in_days(100), lot_number="FIRST")
    wanted = released_stock(product=prod, warehouse=wh, quantity=10, expiry=in_days(300), lot_number="WANTED")
    order = approved_order(customer=customer(), warehouse=wh, lines=[(prod, 3, {"requested_lot": "WANTED"})])
    result = order_allocate(order=order, user=warehouse_user)
    assert [a.lot_id for a in result.allocations] == [wanted.pk]
    missing = approved_order(customer=customer(), warehouse=wh, lines=[(prod, 3, {"requested_lot": "NOPE"})])
    assert "NOPE" in order_allocate(order=missing, user=warehouse_user).shortages[0].reason


def test_order_allocate_cold_chain_only_from_cold_storage(warehouse_user):
    prod = product(storage_min_c=Decimal("2"), storage_max_c=Decimal("8"))
    ambient, cold = warehouse(is_cold_storage=False), warehouse(is_cold_storage=True)
    released_stock(product=prod, warehouse=ambient, quantity=10, expiry=in_days(300))
    released_stock(product=prod, warehouse=cold, quantity=10, expiry=in_days(300))
    from_ambient = approved_order(customer=customer(), warehouse=ambient, lines=[(prod, 2)])
    result = order_allocate(order=from_ambient, user=warehouse_user)
    assert not result.allocations and result.shortages[0].missing == 2
    assert result.shortages[0].reason == str(_("cold-chain product, warehouse has no cold storage"))
    assert order_allocate(
        order=approved_order(customer=customer(), warehouse=cold, lines=[(prod, 2)]), user=warehouse_user
    ).complete


def test_order_allocate_is_idempotent_and_fills_shortage_later(warehouse_user):
    wh, prod = warehouse(), product()
    released_stock(product=prod, warehouse=wh, quantity=3, expiry=in_days(300))
    order = approved_order(customer=customer(), warehouse=wh, lines=[(prod, 5)])
    assert order_allocate(order=order, user=warehouse_user).shortages[0].missing == 2
    released_stock(product=prod, warehouse=wh, quantity=3, expiry=in_days(350))
    second = order_allocate(order=order, user=warehouse_user)
    assert second.complete and sum(a.quantity for a in second.allocations) == 2
    assert sum(Allocation.objects.values_list("quantity", flat=True)) == 5
    assert order_allocate(order=order, user=warehouse_user).allocations == []


def test_order_allocate_refuses_unapproved_and_held_orders(warehouse_user):
    wh, prod = warehouse(), product()
    order = approved_order(customer=customer(), warehouse=wh, lines=[(prod, 1)])
    order.status = OrderStatus.SUBMITTED
    order.save()
    with pytest.raises(DomainError) as exc:
        order_allocate(order=order, user=warehouse_user)
    assert exc.value.code == "invalid_transition"
    order.status, order.is_held = OrderStatus.APPROVED, True
    order.save()
    with pytest.raises(DomainError) as exc:
        order_allocate(order=order, user=warehouse_user)
    assert exc.value.code == "order_held"


def test_order_deallocate_releases_reservations(warehouse_user):
    wh, prod = warehouse(), product()
    lot = released_stock(product=prod, warehouse=wh, quantity=5, expiry=in_days(300))
    order = approved_order(customer=customer(), warehouse=wh, lines=[(prod, 5)])
    order_allocate(order=order, user=warehouse_user)
    assert order_deallocate(order=order, user=warehouse_user, reason="customer changed mind") == 5
    balance = StockBalance.objects.get(lot=lot)
    assert (balance.on_hand, balance.reserved) == (5, 0)
    order.refresh_from_db()
    assert order.status == OrderStatus.APPROVED and order.lines.get().allocated_quantity == 0


def test_balance_check_constraints_refuse_negative_stock():
    # given a balance of 2 on hand
    wh, prod = warehouse(), product()
    lot = released_stock(product=prod, warehouse=wh, quantity=2, expiry=in_days(100))
    # when SQL bypasses the services, the database itself refuses
    with pytest.raises(IntegrityError), transaction.atomic():
        StockBalance.objects.filter(lot=lot).update(on_hand=-1)
    with pytest.raises(IntegrityError), transaction.atomic():
        StockBalance.objects.filter(lot=lot).update(reserved=3)
    assert StockBalance.objects.get(lot=lot).on_hand == 2


def test_stock_moves_post_refuses_going_negative_and_writes_nothing():
    from traceability.services import MoveSpec, stock_moves_post

    wh, prod = warehouse(), product()
    lot = released_stock(product=prod, warehouse=wh, quantity=2, expiry=in_days(100))
    moves_before = StockMove.objects.count()
    with pytest.raises(DomainError) as exc, transaction.atomic():
        stock_moves_post(
            moves=[MoveSpec(kind="scrap", product_id=prod.pk, lot_id=lot.pk, warehouse_id=wh.pk, on_hand_delta=-3)],
            document_type="adjustment",
            document_id=0,
            document_ref="X",
            user=None,
        )
    assert exc.value.code == "stock_insufficient"
    assert StockMove.objects.count() == moves_before and StockBalance.objects.get(lot=lot).on_hand == 2


def test_stock_moves_are_append_only():
    from traceability.models import AppendOnlyError

    wh, prod = warehouse(), product()
    released_stock(product=prod, warehouse=wh, quantity=2, expiry=in_days(100))
    move = StockMove.objects.first()
    with pytest.raises(AppendOnlyError):
        move.save()
    with pytest.raises(AppendOnlyError):
        move.delete()


def test_order_approve_allocates_at_once(make_user, manager_user):
    # given a submitted order entered through the order services, with stock released in its warehouse
    from orders import services as order_services
    from tests.orders.factories import customer_for

    rep = make_user("sales")
    wh, prod = warehouse(), product()
    lot = released_stock(product=prod, warehouse=wh, quantity=10, expiry=in_days(300))
    order = order_services.order_create(
        user=rep, customer=customer_for(rep), warehouse=wh, lines=[{"product": prod, "quantity": 4}]
    )
    order_services.order_submit(order=order, user=rep)
    # when a sales manager approves it
    order = order_services.order_approve(order=order, user=manager_user)
    # then the stock is reserved FEFO and the order is allocated
    assert order.status == OrderStatus.ALLOCATED
    assert Allocation.objects.get(order_line__order=order).lot == lot
    assert StockBalance.objects.get(lot=lot).reserved == 4
