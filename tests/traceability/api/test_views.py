"""Traceability API: one-request receipts, trace, shipments, temperatures, recall scope."""

from datetime import timedelta

import pytest
from django.utils import timezone

from tests.conftest import PASSWORD
from traceability.models import Lot, LotStatus, ReceiptLine, SerialUnit, Shipment, StockBalance

from ..factories import (
    approved_order,
    customer,
    gs1,
    in_days,
    product,
    released_stock,
    serial_product,
    supplier,
    warehouse,
)

pytestmark = pytest.mark.django_db
BASE = "/api/v1/traceability"


@pytest.fixture
def api(api_client_for, make_user):
    return api_client_for(make_user("integrator"))


@pytest.fixture
def quality_api(api_client_for, make_user):
    """Recall scopes list every customer of a lot: the roles that run recalls (quality) call them."""
    return api_client_for(make_user("quality"))


def test_receipt_api_one_request_with_serial_scans(api, django_assert_max_num_queries):
    # given 500 serial scans in one request
    prod, sup, wh = serial_product(device_class=3, registration_number="国械注准20213130001"), supplier(), warehouse()
    scans = [gs1(prod.udi_di, lot="API1", serial=f"S{i:06d}", expiry=in_days(700)) for i in range(500)]
    payload = {
        "supplier": sup.pk,
        "warehouse": wh.pk,
        "scans": scans,
        "inspection": {"registration_number": "国械注准20213130001"},
    }
    # when
    with django_assert_max_num_queries(60):
        response = api.post(f"{BASE}/receipts/", payload, format="json", HTTP_IDEMPOTENCY_KEY="rc-1")
    # then
    assert response.status_code == 201, response.json()
    assert response.json()["line_count"] == 1 and response.json()["quantity"] == 500
    assert SerialUnit.objects.count() == 500 and SerialUnit.history.count() == 500
    assert ReceiptLine.objects.get().registration_number == "国械注准20213130001"
    # replay with the same key returns the first result and creates nothing
    again = api.post(f"{BASE}/receipts/", payload, format="json", HTTP_IDEMPOTENCY_KEY="rc-1")
    assert again.status_code == 201 and again["Idempotent-Replayed"] == "true"
    assert SerialUnit.objects.count() == 500


def test_receipt_api_bad_scan_refuses_all_with_reasons(api):
    prod, sup, wh = product(), supplier(), warehouse()
    scans = [gs1(prod.udi_di, lot="G", expiry=in_days(100)), gs1(prod.udi_di, lot="E", expiry=in_days(-3))]
    response = api.post(f"{BASE}/receipts/", {"supplier": sup.pk, "warehouse": wh.pk, "scans": scans}, format="json")
    body = response.json()
    assert response.status_code == 400 and body["code"] == "scans_refused"
    assert body["details"]["refused"][0]["index"] == 1 and body["details"]["refused"][0]["code"] == "expired"
    assert not Lot.objects.exists() and not StockBalance.objects.exists()


def test_receipt_scans_action_non_atomic_keeps_good_scans(api):
    prod, sup, wh = product(), supplier(), warehouse()
    receipt = api.post(f"{BASE}/receipts/", {"supplier": sup.pk, "warehouse": wh.pk}, format="json").json()
    response = api.post(
        f"{BASE}/receipts/{receipt['id']}/scans/",
        {"scans": [gs1(prod.udi_di, lot="G", expiry=in_days(100)), "junk"], "atomic": False},
        format="json",
    )
    assert response.status_code == 200
    assert response.json()["accepted"] == 1 and response.json()["refused"][0]["code"] == "not_gs1"


def test_lot_trace_release_and_csv(api, make_user, api_client_for):
    wh, prod = warehouse(), product()
    lot = released_stock(product=prod, warehouse=wh, quantity=5, expiry=in_days(300), status=LotStatus.QUARANTINE)
    quality = api_client_for(make_user("quality"))
    bad = quality.post(f"{BASE}/lots/{lot.pk}/status/", {"status": "released", "password": "nope"}, format="json")
    assert bad.status_code == 400 and bad.json()["code"] == "signature_invalid"
    ok = quality.post(f"{BASE}/lots/{lot.pk}/status/", {"status": "released", "password": PASSWORD}, format="json")
    assert ok.status_code == 200 and ok.json()["status"] == "released"
    trace = api.get(f"{BASE}/lots/{lot.pk}/trace/").json()
    assert trace["forward"]["stock"][0]["on_hand"] == 5
    csv = api.get(f"{BASE}/lots/{lot.pk}/trace-csv/")
    assert csv.status_code == 200 and csv["Content-Type"].startswith("text/csv")


def test_serial_trace_csv_lists_every_hop_of_the_unit(api, make_user):
    # given a serial unit received, released, shipped to a customer and returned
    from traceability.services import shipment_return

    from ..factories import dispatched, received_and_released

    warehouse_user, quality_user = make_user("warehouse"), make_user("quality")
    wh, prod, buyer = warehouse(), serial_product(), customer(name="上海第一医院")
    scans = [gs1(prod.udi_di, lot="S1", serial=f"SN{i}", expiry=in_days(400)) for i in range(2)]
    received_and_released(warehouse_user=warehouse_user, quality_user=quality_user, warehouse=wh, scans=scans)
    shipment = dispatched(approved_order(customer=buyer, warehouse=wh, lines=[(prod, 1)]), warehouse_user, {1: ["SN1"]})
    shipment_return(
        shipment=shipment,
        user=warehouse_user,
        warehouse=wh,
        reason="退货",
        lines=[{"shipment_line": shipment.lines.get().pk, "quantity": 1, "serials": ["SN1"]}],
    )
    unit = SerialUnit.objects.get(serial="SN1")
    # when its trace is exported
    response = api.get(f"{BASE}/serials/{unit.pk}/trace-csv/")
    # then every hop of that unit (shipped, returned) and nothing of the other unit
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    assert "SN1" in response["Content-Disposition"]
    rows = b"".join(response.streaming_content).decode("utf-8-sig").splitlines()
    assert [row.split(",")[1] for row in rows[1:]] == ["shipment", "return"]
    assert all("SN1" in row and "上海第一医院" in row for row in rows[1:])


def test_lot_list_query_count_is_bounded(api, django_assert_max_num_queries):
    wh = warehouse()
    for _ in range(5):
        released_stock(product=product(), warehouse=wh, quantity=1, expiry=in_days(100))
    with django_assert_max_num_queries(8):
        response = api.get(f"{BASE}/lots/")
    assert response.status_code == 200 and response.json()["count"] == 5


def test_shipment_api_flow_with_tms_events_and_temperatures(api):
    from decimal import Decimal

    wh = warehouse(is_cold_storage=True)
    prod = product(storage_min_c=Decimal("2"), storage_max_c=Decimal("8"))
    lot = released_stock(product=prod, warehouse=wh, quantity=10, expiry=in_days(300))
    order = approved_order(customer=customer(), warehouse=wh, lines=[(prod, 4)])
    allocated = api.post(f"{BASE}/allocations/allocate/", {"order": order.pk}, format="json")
    assert allocated.status_code == 200 and allocated.json()["status"] == "allocated"
    shipment = api.post(f"{BASE}/shipments/", {"order": order.pk}, format="json")
    assert shipment.status_code == 201, shipment.json()
    sid = shipment.json()["id"]
    dispatched = api.post(
        f"{BASE}/shipments/{sid}/dispatch/",
        {
            "carrier": "顺丰冷运",
            "tracking_number": "SF1",
            "expected_arrival_at": (timezone.now() + timedelta(days=1)).isoformat(),
        },
        format="json",
    )
    assert dispatched.status_code == 200 and dispatched.json()["status"] == "shipped"
    event = {"status": "in_transit", "occurred_at": timezone.now().isoformat(), "place": "嘉兴", "external_id": "T-1"}
    assert api.post(f"{BASE}/shipments/{sid}/events/", event, format="json").json()["status"] == "in_transit"
    # readings every 5 minutes, one out of range
    start = timezone.now() - timedelta(hours=1)
    readings = [
        {
            "probe": "P1",
            "recorded_at": (start + timedelta(minutes=5 * i)).isoformat(),
            "celsius": "9.5" if i == 3 else "4.0",
        }
        for i in range(8)
    ]
    uploaded = api.post(f"{BASE}/temperature-readings/", {"shipment": sid, "readings": readings}, format="json")
    assert uploaded.status_code == 201 and uploaded.json()["recorded"] == 8
    # the excursion, and a gap: while out of range a reading is due every 2 minutes, the next came after 5
    assert sorted(e["kind"] for e in uploaded.json()["excursions"]) == ["gap", "out_of_range"]
    lot.refresh_from_db()
    assert lot.status == LotStatus.ON_HOLD
    signed = api.post(f"{BASE}/shipments/{sid}/sign/", {"signed_by": "李医生"}, format="json")
    assert signed.status_code == 200 and signed.json()["status"] == "signed"
    assert Shipment.objects.get(pk=sid).proof_of_delivery.signed_by == "李医生"


def test_recall_scope_small_at_once_large_as_job(quality_api, settings):
    api = quality_api
    wh, prod = warehouse(), product()
    lots = [released_stock(product=prod, warehouse=wh, quantity=2, expiry=in_days(100 + i)) for i in range(3)]
    small = api.post(f"{BASE}/recall-scopes/", {"lot_ids": [lots[0].pk]}, format="json")
    assert small.status_code == 200 and small.json()["on_hand_quantity"] == 2
    settings.ERP = {**settings.ERP, "TRACEABILITY": {"RECALL_SYNC_MAX_LOTS": 1}}
    large = api.post(f"{BASE}/recall-scopes/", {"product_id": prod.pk}, format="json")
    assert large.status_code == 202
    job_id = large.json()["id"]
    from traceability.services import recall_scope_job_run

    recall_scope_job_run(job_id=job_id)  # the task body (the worker runs it after commit)
    job = api.get(f"{BASE}/recall-scopes/{job_id}/").json()
    assert job["status"] == "done" and job["progress"] == 100 and job["result"]["on_hand_quantity"] == 6


def test_recall_scope_needs_criteria(quality_api):
    api = quality_api
    response = api.post(f"{BASE}/recall-scopes/", {}, format="json")
    assert response.status_code == 400 and response.json()["code"] == "validation_error"
