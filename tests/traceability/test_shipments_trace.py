"""Receive → release → allocate → ship → deliver → trace forward and backward, across several hops."""

from datetime import timedelta

import pytest
from django.utils import timezone

from erp.kernel.errors import DomainError
from orders.models import OrderStatus
from tests.conftest import PASSWORD
from traceability.models import (
    Lot,
    LotStatus,
    SerialStatus,
    SerialUnit,
    ShipmentLine,
    ShipmentStatus,
    StockBalance,
)
from traceability.selectors import recall_scope, trace_backward, trace_forward
from traceability.services import (
    lot_release,
    order_allocate,
    receipt_create,
    receipt_scans_receive,
    shipment_create,
    shipment_dispatch,
    shipment_event_record,
    shipment_sign,
)

from .factories import approved_order, customer, gs1, in_days, product, serial_product, supplier, warehouse

pytestmark = pytest.mark.django_db


@pytest.fixture
def stocked(warehouse_user, quality_user):
    """A received and released lot of 20 units and a serialised lot of 5, in one warehouse."""
    wh, sup = warehouse(), supplier()
    bulk, serial = product(), serial_product()
    receipt = receipt_create(user=warehouse_user, supplier=sup, warehouse=wh)
    scans = [gs1(bulk.udi_di, lot="LOT-A", expiry=in_days(500), count=20)]
    scans += [gs1(serial.udi_di, lot="LOT-S", serial=f"SN{i}", expiry=in_days(600)) for i in range(5)]
    receipt_scans_receive(receipt=receipt, user=warehouse_user, scans=scans)
    for lot in Lot.objects.all():
        lot_release(lot=lot, user=quality_user, password=PASSWORD, reason="inspection passed")
    return {"wh": wh, "sup": sup, "bulk": bulk, "serial": serial, "receipt": receipt}


def _ship(order, user, **kw):
    order_allocate(order=order, user=user)
    shipment = shipment_create(order=order, user=user, **kw)
    return shipment_dispatch(
        shipment=shipment,
        user=user,
        carrier="顺丰速运",
        tracking_number=f"SF{order.pk:010d}",
        expected_arrival_at=timezone.now() + timedelta(days=2),
    )


def test_lot_release_needs_signature_and_permission(stocked, warehouse_user, quality_user):
    from erp.kernel.errors import PermissionDenied
    from erp.models import ElectronicSignature

    lot = Lot.objects.get(lot_number="LOT-A")
    assert lot.status == LotStatus.RELEASED
    assert ElectronicSignature.objects.filter(record_id=lot.pk, meaning="release").exists()
    lot.status = LotStatus.ON_HOLD
    lot.save()
    with pytest.raises(PermissionDenied):
        lot_release(lot=lot, user=warehouse_user, password=PASSWORD)
    with pytest.raises(DomainError) as exc:
        lot_release(lot=lot, user=quality_user, password="wrong")
    assert exc.value.code == "signature_invalid"
    lot.refresh_from_db()
    assert lot.status == LotStatus.ON_HOLD


def test_shipment_flow_updates_stock_serials_order_and_sales_record(stocked, warehouse_user):
    # given an order for 8 bulk units and 2 serialised units
    cust = customer(licence_number="PDY12345678901234567")
    order = approved_order(customer=cust, warehouse=stocked["wh"], lines=[(stocked["bulk"], 8), (stocked["serial"], 2)])
    # when it is allocated, picked with scanned serials and dispatched
    shipment = _ship(order, warehouse_user, serials={2: ["SN3", "SN1"]})
    # then stock left the warehouse and the serials are shipped
    assert StockBalance.objects.get(lot__lot_number="LOT-A").on_hand == 12
    assert StockBalance.objects.get(lot__lot_number="LOT-S").on_hand == 3
    assert set(SerialUnit.objects.filter(status=SerialStatus.SHIPPED).values_list("serial", flat=True)) == {
        "SN1",
        "SN3",
    }
    order.refresh_from_db()
    assert order.status == OrderStatus.SHIPPED
    # every shipped line carries the complete sales record
    for line in ShipmentLine.objects.filter(shipment=shipment):
        assert line.lot_number and line.expiry_date and line.sale_date
        assert line.buyer_name == cust.name and line.buyer_address and line.buyer_contact
        assert line.buyer_licence == "PDY12345678901234567"
        assert line.product_name and line.registrant_name and line.amount > 0
    # logistics: in transit, delivered, signed -> order delivered
    now = timezone.now()
    shipment_event_record(
        shipment=shipment,
        user=warehouse_user,
        status="in_transit",
        occurred_at=now,
        place="上海转运中心",
        source="tms",
        external_id="E1",
    )
    shipment_event_record(
        shipment=shipment,
        user=warehouse_user,
        status="in_transit",
        occurred_at=now,
        place="上海转运中心",
        source="tms",
        external_id="E1",
    )  # replay: ignored
    assert shipment.events.count() == 2
    shipment_event_record(shipment=shipment, user=warehouse_user, status="delivered", occurred_at=now)
    pod = shipment_sign(shipment=shipment, user=warehouse_user, signed_by="张护士长", signed_at=now)
    shipment.refresh_from_db()
    order.refresh_from_db()
    assert shipment.status == ShipmentStatus.SIGNED and pod.signed_by == "张护士长"
    assert order.status == OrderStatus.DELIVERED


def test_shipment_create_refuses_when_nothing_allocated_or_sales_record_incomplete(stocked, warehouse_user):
    order = approved_order(customer=customer(), warehouse=stocked["wh"], lines=[(stocked["bulk"], 1)])
    with pytest.raises(DomainError) as exc:
        shipment_create(order=order, user=warehouse_user)
    assert exc.value.code == "nothing_to_ship"
    incomplete = approved_order(customer=customer(address=""), warehouse=stocked["wh"], lines=[(stocked["bulk"], 1)])
    order_allocate(order=incomplete, user=warehouse_user)
    with pytest.raises(DomainError) as exc:
        shipment_create(order=incomplete, user=warehouse_user)
    assert exc.value.code == "sales_record_incomplete" and "buyer_address" in exc.value.fields


def test_dispatch_refuses_a_lot_put_on_hold_after_picking(stocked, warehouse_user, quality_user):
    from traceability.services import lot_status_set

    order = approved_order(customer=customer(), warehouse=stocked["wh"], lines=[(stocked["bulk"], 1)])
    order_allocate(order=order, user=warehouse_user)
    shipment = shipment_create(order=order, user=warehouse_user)
    lot_status_set(
        lot=Lot.objects.get(lot_number="LOT-A"), status=LotStatus.ON_HOLD, user=quality_user, reason="complaint"
    )
    with pytest.raises(DomainError) as exc:
        shipment_dispatch(shipment=shipment, user=warehouse_user, carrier="EMS", tracking_number="1")
    assert exc.value.code == "lot_not_shippable"
    assert StockBalance.objects.get(lot__lot_number="LOT-A").on_hand == 20


def test_trace_forward_and_backward_across_hops(stocked, warehouse_user, django_assert_max_num_queries):
    # given the lot shipped to two customers in three orders, and one serial
    a, b = customer(), customer()
    _ship(approved_order(customer=a, warehouse=stocked["wh"], lines=[(stocked["bulk"], 5)]), warehouse_user)
    _ship(approved_order(customer=b, warehouse=stocked["wh"], lines=[(stocked["bulk"], 3)]), warehouse_user)
    _ship(
        approved_order(customer=a, warehouse=stocked["wh"], lines=[(stocked["bulk"], 2), (stocked["serial"], 1)]),
        warehouse_user,
        serials={2: ["SN4"]},
    )
    lot = Lot.objects.get(lot_number="LOT-A")
    # when
    with django_assert_max_num_queries(5):
        forward = trace_forward(lot=lot)
    # then customers with quantities, shipments and remaining stock per warehouse
    by_party = {c["party_id"]: c for c in forward["customers"]}
    assert by_party[a.pk]["quantity"] == 7 and by_party[a.pk]["shipments"] == 2
    assert by_party[b.pk]["quantity"] == 3
    assert forward["shipped_quantity"] == 10 and forward["shipment_count"] == 3
    assert forward["stock"][0]["on_hand"] == 10
    # backward: lot -> receipt -> supplier with the inspection record
    back = trace_backward(lot=lot)
    assert back["receipts"][0]["receipt"] == stocked["receipt"].number
    assert back["receipts"][0]["supplier"] == stocked["sup"].name and back["receipts"][0]["quantity"] == 20
    assert back["receipts"][0]["inspection"]["raw_scan"].startswith("]d2")
    # serial: forward to customer a, backward to the receipt
    unit = SerialUnit.objects.get(serial="SN4")
    assert [c["party_id"] for c in trace_forward(serial=unit)["customers"]] == [a.pk]
    assert trace_backward(serial=unit)["receipts"][0]["inspection"]["serial"] == "SN4"


def test_recall_scope_by_lots_serials_and_production_range(stocked, warehouse_user):
    a, b = customer(), customer()
    _ship(approved_order(customer=a, warehouse=stocked["wh"], lines=[(stocked["bulk"], 4)]), warehouse_user)
    _ship(
        approved_order(customer=b, warehouse=stocked["wh"], lines=[(stocked["serial"], 2)]),
        warehouse_user,
        serials={1: ["SN0", "SN2"]},
    )
    lot_a = Lot.objects.get(lot_number="LOT-A")
    # by lot
    scope = recall_scope(criteria={"lot_ids": [lot_a.pk]})
    assert [(c["party_id"], c["quantity"]) for c in scope["customers"]] == [(a.pk, 4)]
    assert scope["customers"][0]["contact_phone"] and scope["customers"][0]["shipments"][0]["lot"] == "LOT-A"
    assert scope["on_hand_quantity"] == 16
    # by serial: only that unit's customer, no stock
    sn2 = SerialUnit.objects.get(serial="SN2")
    scope = recall_scope(criteria={"serial_ids": [sn2.pk]})
    assert [(c["party_id"], c["quantity"]) for c in scope["customers"]] == [(b.pk, 1)] and scope[
        "on_hand_quantity"
    ] == 0
    # by product and production date range (the lot's production date is unknown -> not matched)
    Lot.objects.filter(lot_number="LOT-S").update(production_date=in_days(-30))
    scope = recall_scope(criteria={"product_id": stocked["serial"].pk, "produced_from": in_days(-60)})
    assert scope["lot_count"] == 1 and scope["shipped_quantity"] == 2 and scope["on_hand_quantity"] == 3


def test_shipment_line_sales_record_takes_the_registration_number_from_the_product_master(stocked, logistics_user):
    # given an order for the received lot of a product registered as the master says
    bulk = stocked["bulk"]
    order = approved_order(customer=customer(), warehouse=stocked["wh"], lines=[(bulk, 4)])
    # when it ships
    _ship(order, logistics_user)
    # then the sales record carries the master's number
    line = ShipmentLine.objects.get(product=bulk)
    assert line.registration_number == bulk.registration_number and line.registration_number
