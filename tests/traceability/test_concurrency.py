"""No double allocation and no negative stock under real concurrent connections to PostgreSQL."""

import threading

import pytest
from django.db import connection, transaction
from django.db.models import Sum

from erp.kernel.errors import DomainError
from traceability.models import Allocation, StockBalance
from traceability.services import MoveSpec, order_allocate, stock_moves_post

from .factories import approved_order, customer, in_days, product, released_stock, warehouse

pytestmark = pytest.mark.django_db(transaction=True)


def _run_in_threads(func, args_list):
    barrier = threading.Barrier(len(args_list))
    errors, results = [], []

    def worker(args):
        try:
            barrier.wait()
            results.append(func(*args))
        except Exception as exc:  # collected and asserted by the test
            errors.append(exc)
        finally:
            connection.close()  # each thread has its own connection

    threads = [threading.Thread(target=worker, args=(a,)) for a in args_list]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return results, errors


def test_concurrent_allocation_never_allocates_twice(make_user):
    # given 100 units in two lots and 16 orders of 10 competing for them from 8 threads
    user = make_user("warehouse")
    wh = warehouse()
    prod, other = product(), product()
    released_stock(product=prod, warehouse=wh, quantity=60, expiry=in_days(200))
    released_stock(product=prod, warehouse=wh, quantity=40, expiry=in_days(300))
    released_stock(product=other, warehouse=wh, quantity=1000, expiry=in_days(300))
    cust = customer()
    orders = [approved_order(customer=cust, warehouse=wh, lines=[(other, 5), (prod, 10)]) for _ in range(16)]
    # when
    results, errors = _run_in_threads(lambda o: order_allocate(order=o, user=user), [(o,) for o in orders])
    # then exactly 100 units are reserved: 10 complete orders, 6 with a full shortage
    assert not errors, errors
    reserved = Allocation.objects.filter(lot__product=prod).aggregate(n=Sum("quantity"))["n"]
    assert reserved == 100
    assert StockBalance.objects.filter(product=prod).aggregate(n=Sum("reserved"))["n"] == 100
    assert all(b.reserved <= b.on_hand for b in StockBalance.objects.all())
    assert sum(1 for r in results if r.complete) == 10
    assert sum(r.shortages[0].missing for r in results if r.shortages) == 60


def test_concurrent_stock_out_never_goes_negative():
    # given 20 on hand and 10 threads each scrapping 3
    wh, prod = warehouse(), product()
    lot = released_stock(product=prod, warehouse=wh, quantity=20, expiry=in_days(100))

    def scrap():
        with transaction.atomic():
            stock_moves_post(
                moves=[MoveSpec(kind="scrap", product_id=prod.pk, lot_id=lot.pk, warehouse_id=wh.pk, on_hand_delta=-3)],
                document_type="adjustment",
                document_id=0,
                document_ref="SCRAP",
                user=None,
            )
        return True

    # when
    results, errors = _run_in_threads(scrap, [() for _ in range(10)])
    # then exactly six succeed and two units remain
    assert len(results) == 6
    assert len(errors) == 4 and all(isinstance(e, DomainError) for e in errors)
    assert StockBalance.objects.get(lot=lot).on_hand == 2
