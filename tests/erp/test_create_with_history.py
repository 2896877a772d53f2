"""create_with_history writes the rows and history rows that save()/bulk_create_with_history write."""

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from simple_history.utils import bulk_create_with_history

from erp.kernel.history import create_with_history, history_stamp
from orders.models import SalesOrder, SalesOrderLine
from tests.masterdata.factories import ProductFactory
from tests.orders.factories import SalesOrderFactory

IGNORED = {"id", "history_id", "history_date", "order_id", "line_no"}


def model_to_dict(obj) -> dict:
    """Every stored column of the row (editable or not), by attribute name."""
    return {field.attname: getattr(obj, field.attname) for field in obj._meta.concrete_fields}


def new_lines(order, products, start=1):
    return [
        SalesOrderLine(
            order=order,
            line_no=start + i,
            product=product,
            quantity=3 + i,
            unit="EA",
            unit_price=Decimal("12.5000"),
            discount_pct=Decimal("5"),
            tax_rate=Decimal("0.13"),
            requested_lot="L1" if i else "",
        )
        for i, product in enumerate(products)
    ]


def history_of(line):
    row = SalesOrderLine.history.get(id=line.pk)
    return {k: v for k, v in model_to_dict(row).items() if k not in IGNORED} | {}


@pytest.mark.django_db
def test_lines_and_history_rows_equal_simple_historys(make_user):
    # given
    user = make_user("sales")
    order = SalesOrderFactory()
    products = [ProductFactory(), ProductFactory(), ProductFactory()]
    ours = new_lines(order, products)
    theirs = new_lines(order, products, start=10)
    for line in ours + theirs:
        line.compute_amounts()
    # when
    with CaptureQueriesContext(connection) as queries:
        create_with_history(ours, SalesOrderLine, user=user, reason="created")
    bulk_create_with_history(theirs, SalesOrderLine, default_user=user, default_change_reason="created")
    # then: one statement; primary keys and saved state set; the same rows and history rows
    assert len(queries) == 1
    assert all(line.pk and not line._state.adding and line._state.db == "default" for line in ours)
    for mine, other in zip(ours, theirs, strict=True):
        stored, expected = SalesOrderLine.objects.get(pk=mine.pk), SalesOrderLine.objects.get(pk=other.pk)
        assert {k: v for k, v in model_to_dict(stored).items() if k not in IGNORED} == {
            k: v for k, v in model_to_dict(expected).items() if k not in IGNORED
        }
        assert history_of(mine) == history_of(other)
        assert history_of(mine)["history_type"] == "+"
        assert history_of(mine)["history_user_id"] == user.pk


@pytest.mark.django_db
def test_an_order_with_auto_timestamps_system_user_and_a_long_reason():
    # given: an unsaved order like order_create builds, and the same order saved the usual way
    template = SalesOrderFactory()
    fields = {
        "customer": template.customer,
        "warehouse": template.warehouse,
        "status": "draft",
        "net_amount": Decimal("10.00"),
        "tax_amount": Decimal("1.30"),
        "gross_amount": Decimal("11.30"),
    }
    ours, theirs = SalesOrder(number="SO-2099-000001", **fields), SalesOrder(number="SO-2099-000002", **fields)
    reason = "x" * 150
    # when
    create_with_history([ours], SalesOrder, user=None, reason=reason)
    history_stamp(theirs, user=None, reason=reason)
    theirs.save()
    # then
    assert ours.created_at is not None and ours.updated_at is not None
    mine, other = SalesOrder.history.get(id=ours.pk), SalesOrder.history.get(id=theirs.pk)
    assert mine.history_user_id is None and other.history_user_id is None
    assert mine.history_change_reason == other.history_change_reason == "x" * 99 + "…"
    ignored = IGNORED | {"number", "created_at", "updated_at", "history_change_reason"}
    assert {k: v for k, v in model_to_dict(mine).items() if k not in ignored} == {
        k: v for k, v in model_to_dict(other).items() if k not in ignored
    }
    assert SalesOrder.objects.get(pk=ours.pk).created_at == ours.created_at


@pytest.mark.django_db
def test_nothing_to_insert_is_no_query():
    with CaptureQueriesContext(connection) as queries:
        assert create_with_history([], SalesOrderLine, user=None) == []
    assert len(queries) == 0
