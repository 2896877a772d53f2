"""Admin: every traceability changelist loads in a bounded number of queries; stock-changing rows are
read only there, and the ledger cannot be changed or deleted."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from tests.conftest import PASSWORD
from traceability.models import (
    Excursion,
    ExcursionKind,
    Issuer,
    Lot,
    ProductIdentifier,
    StockMove,
    TemperatureReading,
)
from traceability.services import (
    lot_release,
    order_allocate,
    receipt_create,
    receipt_scans_receive,
    shipment_create,
    shipment_dispatch,
    shipment_event_record,
    shipment_return,
    shipment_sign,
    stock_adjust,
)

from .factories import approved_order, customer, gs1, in_days, product, serial_product, supplier, warehouse

pytestmark = pytest.mark.django_db

MODELS = [
    "lot",
    "serialunit",
    "receipt",
    "stockbalance",
    "stockmove",
    "stockoperation",
    "allocation",
    "shipment",
    "logisticsevent",
    "proofofdelivery",
    "customerreturn",
    "temperaturereading",
    "excursion",
    "productidentifier",
]
READ_ONLY = [m for m in MODELS if m != "productidentifier"]


@pytest.fixture
def filled(warehouse_user, quality_user, logistics_user):
    """A few rows of every traceability model, made through the services."""
    wh, sup = warehouse(), supplier()
    bulk, serial = product(), serial_product()
    receipt = receipt_create(user=warehouse_user, supplier=sup, warehouse=wh)
    scans = [gs1(bulk.udi_di, lot=f"LOT-{n}", expiry=in_days(500 + n), count=20) for n in range(3)]
    scans += [gs1(serial.udi_di, lot="LOT-S", serial=f"SN{i}", expiry=in_days(600)) for i in range(4)]
    receipt_scans_receive(receipt=receipt, user=warehouse_user, scans=scans)
    for lot in Lot.objects.all():
        lot_release(lot=lot, user=quality_user, password=PASSWORD, reason="inspection passed")
    for _ in range(3):
        order = approved_order(customer=customer(), warehouse=wh, lines=[(bulk, 5)])
        order_allocate(order=order, user=logistics_user)
        shipment = shipment_dispatch(
            shipment=shipment_create(order=order, user=logistics_user),
            user=logistics_user,
            carrier="顺丰速运",
            tracking_number=f"SF{order.pk:010d}",
            expected_arrival_at=timezone.now() + timedelta(days=2),
        )
        shipment_event_record(
            shipment=shipment, user=logistics_user, status="delivered", occurred_at=timezone.now(), place="上海"
        )
        shipment_sign(shipment=shipment, user=logistics_user, signed_by="王芳")
        shipment_return(
            shipment=shipment,
            user=warehouse_user,
            warehouse=wh,
            reason="包装破损",
            lines=[{"shipment_line": shipment.lines.first().pk, "quantity": 1}],
        )
    lot = Lot.objects.filter(product=bulk).first()
    stock_adjust(product=bulk, lot=lot, warehouse=wh, quantity_delta=1, user=warehouse_user, reason="count")
    now = timezone.now()
    for n in range(3):
        TemperatureReading.objects.create(warehouse=wh, probe="P1", recorded_at=now - timedelta(minutes=n), celsius=5)
        excursion = Excursion.objects.create(
            kind=ExcursionKind.OUT_OF_RANGE, warehouse=wh, probe="P1", started_at=now - timedelta(hours=n + 1)
        )
        excursion.lots.add(lot)
        ProductIdentifier.objects.create(product=bulk, issuer=Issuer.MA, di=f"MA.156.M0.100{n}")
    return {"lot": lot}


@pytest.fixture
def admin_client_logged(client, admin_user):
    client.force_login(admin_user)
    return client


@pytest.mark.parametrize("model", MODELS)
def test_admin_changelist_loads_with_bounded_queries(filled, admin_client_logged, model, django_assert_max_num_queries):
    # given rows made through the services (filled)
    url = reverse(f"admin:traceability_{model}_changelist")
    # when
    with django_assert_max_num_queries(15):
        response = admin_client_logged.get(url)
    # then
    assert response.status_code == 200
    assert response.context["cl"].result_count >= 1


@pytest.mark.parametrize("model", READ_ONLY)
def test_admin_stock_and_record_admins_are_read_only(filled, admin_client_logged, model):
    # given a row
    from django.apps import apps

    obj = apps.get_model("traceability", model).objects.order_by("pk").first()
    # when / then: no add, the change page is a read-only view, no delete
    assert admin_client_logged.get(reverse(f"admin:traceability_{model}_add")).status_code == 403
    change = admin_client_logged.get(reverse(f"admin:traceability_{model}_change", args=[obj.pk]))
    assert change.status_code == 200 and not change.context["has_change_permission"]
    assert admin_client_logged.get(reverse(f"admin:traceability_{model}_delete", args=[obj.pk])).status_code == 403


def test_admin_stock_move_cannot_be_changed_or_deleted(filled, admin_client_logged):
    # given a ledger row
    move = StockMove.objects.order_by("pk").first()
    before = (move.on_hand_delta, move.reason, StockMove.objects.count())
    # when someone posts a change and a deletion, and tries the bulk delete action
    change = admin_client_logged.post(
        reverse("admin:traceability_stockmove_change", args=[move.pk]), {"on_hand_delta": 999, "reason": "fix"}
    )
    delete = admin_client_logged.post(reverse("admin:traceability_stockmove_delete", args=[move.pk]), {"post": "yes"})
    bulk = admin_client_logged.post(
        reverse("admin:traceability_stockmove_changelist"),
        {"action": "delete_selected", "_selected_action": [move.pk], "post": "yes"},
    )
    # then nothing changed
    assert change.status_code == 403 and delete.status_code == 403
    assert bulk.status_code in (200, 302)
    move.refresh_from_db()
    assert (move.on_hand_delta, move.reason, StockMove.objects.count()) == before


def test_admin_product_identifier_is_editable_with_history(filled, admin_client_logged, admin_user):
    # given
    ident = ProductIdentifier.objects.order_by("pk").first()
    # when
    response = admin_client_logged.post(
        reverse("admin:traceability_productidentifier_change", args=[ident.pk]),
        {"product": ident.product_id, "issuer": "ahm", "di": "AHM-0001"},
    )
    # then
    assert response.status_code == 302
    ident.refresh_from_db()
    assert (ident.issuer, ident.di) == ("ahm", "AHM-0001")
    assert ident.history.first().history_user == admin_user


def test_admin_history_cannot_be_reverted(filled, admin_client_logged):
    lot = filled["lot"]
    version = lot.history.order_by("history_id").first()
    url = reverse("admin:traceability_lot_simple_history", args=[lot.pk, version.history_id])
    assert admin_client_logged.post(url, {}).status_code == 403
    lot.refresh_from_db()
    assert lot.status == "released"
