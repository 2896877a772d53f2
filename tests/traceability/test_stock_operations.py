"""Transfers, adjustments and scrapping: ledger rows and balances in one transaction, never negative,
nothing changed on bad input."""

from decimal import Decimal

import pytest

from erp.kernel.errors import DomainError, PermissionDenied
from traceability.models import (
    Lot,
    LotStatus,
    MoveKind,
    SerialStatus,
    SerialUnit,
    StockBalance,
    StockMove,
    StockOperation,
)
from traceability.services import stock_adjust, stock_scrap, stock_transfer
from traceability.services.ledger import MoveSpec, stock_moves_post

from .factories import in_days, product, released_stock, serial_product, warehouse

pytestmark = pytest.mark.django_db
BASE = "/api/v1/traceability/stock-operations"


def _on_hand(lot, wh) -> int:
    return StockBalance.objects.filter(lot=lot, warehouse=wh).values_list("on_hand", flat=True).first() or 0


def _state():
    return (
        list(StockBalance.objects.order_by("id").values_list("warehouse_id", "lot_id", "on_hand", "reserved")),
        StockMove.objects.count(),
        StockOperation.objects.count(),
        StockOperation.history.count(),
        list(SerialUnit.objects.order_by("id").values_list("warehouse_id", "status")),
    )


def _reserve(lot, wh, quantity):
    from django.db import transaction

    with transaction.atomic():
        stock_moves_post(
            moves=[
                MoveSpec(
                    kind=MoveKind.ALLOCATION,
                    product_id=lot.product_id,
                    lot_id=lot.pk,
                    warehouse_id=wh.pk,
                    reserved_delta=quantity,
                )
            ],
            document_type="test",
            document_id=0,
            document_ref="TEST",
            user=None,
        )


@pytest.fixture
def stock():
    prod, source, target = product(), warehouse(), warehouse()
    lot = released_stock(product=prod, warehouse=source, quantity=10, expiry=in_days(400))
    return {"product": prod, "lot": lot, "source": source, "target": target}


# --- transfer -----------------------------------------------------------------------------------


def test_stock_transfer_moves_released_stock_between_warehouses(stock, warehouse_user):
    # when
    operation = stock_transfer(
        product=stock["product"],
        lot=stock["lot"],
        from_warehouse=stock["source"],
        to_warehouse=stock["target"],
        quantity=4,
        user=warehouse_user,
        reason="rebalance for Beijing orders",
    )
    # then
    assert operation.number.startswith("ST-") and operation.history.count() == 1
    assert _on_hand(stock["lot"], stock["source"]) == 6 and _on_hand(stock["lot"], stock["target"]) == 4
    moves = StockMove.objects.filter(document_type="stock_operation", document_id=operation.pk)
    assert sorted(moves.values_list("on_hand_delta", flat=True)) == [-4, 4]
    assert set(moves.values_list("kind", "document_ref", "user_id")) == {
        (MoveKind.TRANSFER, operation.number, warehouse_user.pk)
    }


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"quantity": 11}, "stock_insufficient"),
        ({"quantity": 0}, "validation_error"),
        ({"quantity": -2}, "validation_error"),
        ({"reason": "  "}, "validation_error"),
        ({"same_warehouse": True}, "validation_error"),
    ],
)
def test_stock_transfer_bad_input_changes_nothing(stock, warehouse_user, change, code):
    # given
    before = _state()
    kwargs = {
        "product": stock["product"],
        "lot": stock["lot"],
        "from_warehouse": stock["source"],
        "to_warehouse": stock["source"] if change.pop("same_warehouse", False) else stock["target"],
        "quantity": 3,
        "user": warehouse_user,
        "reason": "rebalance",
        **change,
    }
    # when
    with pytest.raises(DomainError) as exc:
        stock_transfer(**kwargs)
    # then
    assert exc.value.code == code and str(exc.value.message)
    assert _state() == before


@pytest.mark.parametrize("status", [LotStatus.QUARANTINE, LotStatus.ON_HOLD, LotStatus.RECALLED, LotStatus.REJECTED])
def test_stock_transfer_only_released_stock(warehouse_user, status):
    # given a lot that is not released
    prod, source, target = product(), warehouse(), warehouse()
    lot = released_stock(product=prod, warehouse=source, quantity=5, expiry=in_days(300), status=status)
    before = _state()
    # when
    with pytest.raises(DomainError) as exc:
        stock_transfer(
            product=prod,
            lot=lot,
            from_warehouse=source,
            to_warehouse=target,
            quantity=1,
            user=warehouse_user,
            reason="move",
        )
    # then
    assert exc.value.code == "lot_not_released"
    assert _state() == before


def test_stock_transfer_cold_chain_only_into_cold_storage(warehouse_user):
    # given a 2–8 °C product in a cold store
    prod = product(storage_min_c=Decimal("2"), storage_max_c=Decimal("8"))
    cold, ambient, other_cold = warehouse(is_cold_storage=True), warehouse(), warehouse(is_cold_storage=True)
    lot = released_stock(product=prod, warehouse=cold, quantity=5, expiry=in_days(300))
    before = _state()
    # when moved to an ambient warehouse
    with pytest.raises(DomainError) as exc:
        stock_transfer(
            product=prod,
            lot=lot,
            from_warehouse=cold,
            to_warehouse=ambient,
            quantity=2,
            user=warehouse_user,
            reason="x",
        )
    # then refused, nothing changed; into another cold store it goes
    assert exc.value.code == "validation_error" and "to_warehouse" in exc.value.fields
    assert _state() == before
    stock_transfer(
        product=prod, lot=lot, from_warehouse=cold, to_warehouse=other_cold, quantity=2, user=warehouse_user, reason="x"
    )
    assert _on_hand(lot, other_cold) == 2


def test_stock_transfer_leaves_reserved_stock(stock, warehouse_user):
    # given 8 of the 10 units reserved for orders
    _reserve(stock["lot"], stock["source"], 8)
    before = _state()
    # when 3 are transferred (only 2 are available)
    with pytest.raises(DomainError) as exc:
        stock_transfer(
            product=stock["product"],
            lot=stock["lot"],
            from_warehouse=stock["source"],
            to_warehouse=stock["target"],
            quantity=3,
            user=warehouse_user,
            reason="rebalance",
        )
    # then
    assert exc.value.code == "stock_insufficient"
    assert _state() == before


def test_stock_transfer_serialised_units_move_with_their_warehouse(warehouse_user):
    # given three serial units in stock
    prod, source, target = serial_product(), warehouse(), warehouse()
    lot = released_stock(product=prod, warehouse=source, quantity=3, expiry=in_days(300))
    for serial in ("S1", "S2", "S3"):
        SerialUnit.objects.create(product=prod, lot=lot, serial=serial, warehouse=source)
    # when two named units move
    stock_transfer(
        product=prod,
        lot=lot,
        from_warehouse=source,
        to_warehouse=target,
        quantity=2,
        serials=["S1", "S3"],
        user=warehouse_user,
        reason="move",
    )
    # then
    assert dict(SerialUnit.objects.values_list("serial", "warehouse_id")) == {
        "S1": target.pk,
        "S2": source.pk,
        "S3": target.pk,
    }
    assert StockMove.objects.filter(kind=MoveKind.TRANSFER, serial__isnull=False).count() == 4
    assert SerialUnit.objects.get(serial="S1").history.first().history_user == warehouse_user


def test_stock_transfer_serialised_needs_units_in_stock_there(warehouse_user):
    prod, source, target = serial_product(), warehouse(), warehouse()
    lot = released_stock(product=prod, warehouse=source, quantity=2, expiry=in_days(300))
    SerialUnit.objects.create(product=prod, lot=lot, serial="S1", warehouse=source)
    SerialUnit.objects.create(product=prod, lot=lot, serial="S2", warehouse=target)
    before = _state()
    for serials, quantity in ((["S1", "S2"], 2), (["S1"], 2), ([], 1)):
        with pytest.raises(DomainError) as exc:
            stock_transfer(
                product=prod,
                lot=lot,
                from_warehouse=source,
                to_warehouse=target,
                quantity=quantity,
                serials=serials,
                user=warehouse_user,
                reason="move",
            )
        assert "serials" in exc.value.fields
    assert _state() == before


def test_stock_transfer_needs_permission(stock, sales_user):
    with pytest.raises(PermissionDenied):
        stock_transfer(
            product=stock["product"],
            lot=stock["lot"],
            from_warehouse=stock["source"],
            to_warehouse=stock["target"],
            quantity=1,
            user=sales_user,
            reason="x",
        )


# --- adjust -------------------------------------------------------------------------------------


def test_stock_adjust_up_and_down_with_reason(stock, warehouse_user):
    # when
    up = stock_adjust(
        product=stock["product"],
        lot=stock["lot"],
        warehouse=stock["source"],
        quantity_delta=2,
        user=warehouse_user,
        reason="found in bin B-12",
    )
    down = stock_adjust(
        product=stock["product"],
        lot=stock["lot"],
        warehouse=stock["source"],
        quantity_delta=-5,
        user=warehouse_user,
        reason="cycle count",
    )
    # then
    assert up.number.startswith("SA-") and up.quantity == 2 and down.quantity == -5
    assert _on_hand(stock["lot"], stock["source"]) == 7
    assert list(
        StockMove.objects.filter(kind=MoveKind.ADJUSTMENT, document_type="stock_operation")
        .order_by("id")
        .values_list("on_hand_delta", "reason")
    ) == [(2, "found in bin B-12"), (-5, "cycle count")]


@pytest.mark.parametrize(
    ("delta", "reason", "code"),
    [
        (-11, "count", "stock_insufficient"),  # never negative
        (0, "count", "validation_error"),
        (3, "", "validation_error"),  # reason required
    ],
)
def test_stock_adjust_bad_input_changes_nothing(stock, warehouse_user, delta, reason, code):
    before = _state()
    with pytest.raises(DomainError) as exc:
        stock_adjust(
            product=stock["product"],
            lot=stock["lot"],
            warehouse=stock["source"],
            quantity_delta=delta,
            user=warehouse_user,
            reason=reason,
        )
    assert exc.value.code == code
    assert _state() == before


def test_stock_adjust_never_below_reserved(stock, warehouse_user):
    # given 6 reserved of 10
    _reserve(stock["lot"], stock["source"], 6)
    before = _state()
    # when 5 are written off (only 4 are free)
    with pytest.raises(DomainError):
        stock_adjust(
            product=stock["product"],
            lot=stock["lot"],
            warehouse=stock["source"],
            quantity_delta=-5,
            user=warehouse_user,
            reason="count",
        )
    # then
    assert _state() == before


def test_stock_adjust_never_negative_even_past_the_service(stock):
    # the database CHECK constraint is the last guard
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError), transaction.atomic():
        StockBalance.objects.filter(lot=stock["lot"]).update(on_hand=-1)


def test_stock_adjust_on_a_warehouse_without_the_lot_cannot_go_negative(stock, warehouse_user):
    other = warehouse()
    with pytest.raises(DomainError) as exc:
        stock_adjust(
            product=stock["product"],
            lot=stock["lot"],
            warehouse=other,
            quantity_delta=-1,
            user=warehouse_user,
            reason="count",
        )
    assert exc.value.code == "stock_insufficient"
    assert not StockBalance.objects.filter(warehouse=other, on_hand__gt=0).exists()
    assert not StockOperation.objects.exists()


def test_stock_adjust_lot_of_another_product_is_refused(stock, warehouse_user):
    before = _state()
    with pytest.raises(DomainError) as exc:
        stock_adjust(
            product=product(),
            lot=stock["lot"],
            warehouse=stock["source"],
            quantity_delta=1,
            user=warehouse_user,
            reason="count",
        )
    assert "lot" in exc.value.fields
    assert _state() == before


def test_stock_adjust_needs_the_adjust_permission(stock, logistics_user):
    with pytest.raises(PermissionDenied):
        stock_adjust(
            product=stock["product"],
            lot=stock["lot"],
            warehouse=stock["source"],
            quantity_delta=1,
            user=logistics_user,
            reason="count",
        )


# --- scrap --------------------------------------------------------------------------------------


def test_stock_scrap_writes_off_any_lot_status(quality_user):
    # given a rejected lot
    prod, wh = product(), warehouse()
    lot = released_stock(product=prod, warehouse=wh, quantity=5, expiry=in_days(100), status=LotStatus.REJECTED)
    # when
    operation = stock_scrap(
        product=prod, lot=lot, warehouse=wh, quantity=5, user=quality_user, reason="nonconforming: damaged"
    )
    # then
    assert operation.number.startswith("SX-") and _on_hand(lot, wh) == 0
    assert StockMove.objects.get(kind=MoveKind.SCRAP).on_hand_delta == -5


def test_stock_scrap_serial_units_leave_the_warehouse(warehouse_user):
    prod, wh = serial_product(), warehouse()
    lot = released_stock(product=prod, warehouse=wh, quantity=2, expiry=in_days(300))
    SerialUnit.objects.create(product=prod, lot=lot, serial="S1", warehouse=wh)
    SerialUnit.objects.create(product=prod, lot=lot, serial="S2", warehouse=wh)
    stock_scrap(product=prod, lot=lot, warehouse=wh, quantity=1, serials=["S2"], user=warehouse_user, reason="broken")
    unit = SerialUnit.objects.get(serial="S2")
    assert unit.status == SerialStatus.SCRAPPED and unit.warehouse_id is None
    assert _on_hand(lot, wh) == 1


@pytest.mark.parametrize(("quantity", "reason"), [(6, "damaged"), (1, ""), (0, "damaged")])
def test_stock_scrap_bad_input_changes_nothing(warehouse_user, quantity, reason):
    prod, wh = product(), warehouse()
    lot = released_stock(product=prod, warehouse=wh, quantity=5, expiry=in_days(100))
    before = _state()
    with pytest.raises(DomainError):
        stock_scrap(product=prod, lot=lot, warehouse=wh, quantity=quantity, user=warehouse_user, reason=reason)
    assert _state() == before


def test_stock_transfer_is_query_bounded(stock, warehouse_user, django_assert_max_num_queries):
    # a transfer is a bounded number of queries (locks, document, ledger COPY, balances)
    with django_assert_max_num_queries(20):
        stock_transfer(
            product=stock["product"],
            lot=stock["lot"],
            from_warehouse=stock["source"],
            to_warehouse=stock["target"],
            quantity=1,
            user=warehouse_user,
            reason="r",
        )
    assert _on_hand(stock["lot"], stock["target"]) == 1


# --- API ----------------------------------------------------------------------------------------


@pytest.fixture
def api(api_client_for, warehouse_user):
    return api_client_for(warehouse_user)


def test_api_stock_transfer(api, stock):
    response = api.post(
        f"{BASE}/transfer/",
        {
            "product": stock["product"].pk,
            "lot": stock["lot"].pk,
            "from_warehouse": stock["source"].pk,
            "to_warehouse": stock["target"].pk,
            "quantity": 3,
            "reason": "rebalance",
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    assert response.json()["number"].startswith("ST-") and response.json()["quantity"] == 3
    assert _on_hand(stock["lot"], stock["target"]) == 3


def test_api_stock_adjust_never_negative_with_the_error_shape(api, stock):
    before = _state()
    response = api.post(
        f"{BASE}/adjust/",
        {
            "product": stock["product"].pk,
            "lot": stock["lot"].pk,
            "warehouse": stock["source"].pk,
            "quantity_delta": -50,
            "reason": "count",
        },
        format="json",
    )
    body = response.json()
    assert response.status_code == 400
    assert set(body) >= {"code", "message", "fields", "details"} and body["code"] == "stock_insufficient"
    assert _state() == before


@pytest.mark.parametrize(
    "payload",
    [
        {"quantity": 2},  # no reason
        {"quantity": 2, "reason": ""},
        {"quantity": "two", "reason": "x"},
        {"quantity": 2, "reason": "x", "warehouse": 999999},
    ],
)
def test_api_stock_scrap_bad_input_has_the_error_shape_and_changes_nothing(api, stock, payload):
    before = _state()
    body = {"product": stock["product"].pk, "lot": stock["lot"].pk, "warehouse": stock["source"].pk, **payload}
    response = api.post(f"{BASE}/scrap/", body, format="json")
    assert response.status_code == 400
    assert set(response.json()) >= {"code", "message", "fields", "details"}
    assert _state() == before


def test_api_stock_operations_list_is_query_bounded(api, stock, warehouse_user, django_assert_max_num_queries):
    for _ in range(5):
        stock_adjust(
            product=stock["product"],
            lot=stock["lot"],
            warehouse=stock["source"],
            quantity_delta=1,
            user=warehouse_user,
            reason="count",
        )
    with django_assert_max_num_queries(12):
        response = api.get(f"{BASE}/")
    assert response.status_code == 200 and response.json()["count"] == 5


def test_lot_kept_released_status_after_transfer(stock, warehouse_user):
    stock_transfer(
        product=stock["product"],
        lot=stock["lot"],
        from_warehouse=stock["source"],
        to_warehouse=stock["target"],
        quantity=10,
        user=warehouse_user,
        reason="move all",
    )
    assert Lot.objects.get(pk=stock["lot"].pk).status == LotStatus.RELEASED
    assert _on_hand(stock["lot"], stock["source"]) == 0
