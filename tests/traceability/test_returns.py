"""Customer returns: units of a dispatched shipment come back into the returns zone, awaiting release;
never more than shipped, only serials that went to that customer, nothing changed on bad input."""

import pytest
from django.urls import reverse

from erp.kernel.errors import DomainError, PermissionDenied
from tests.conftest import PASSWORD
from traceability.models import (
    CustomerReturn,
    CustomerReturnLine,
    EdgeKind,
    Lot,
    MoveKind,
    SerialStatus,
    SerialUnit,
    StockBalance,
    StockMove,
    TraceEdge,
)
from traceability.selectors import recall_scope, trace_forward
from traceability.services import lot_release, order_allocate, shipment_return

from .factories import (
    approved_order,
    customer,
    dispatched,
    gs1,
    in_days,
    product,
    received_and_released,
    serial_product,
    warehouse,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def shipped(warehouse_user, quality_user):
    """20 units of lot LOT-A and serials SN0..SN4 of lot LOT-S received and released; customer A got
    5 of LOT-A and SN0, SN1 on one shipment, customer B got SN2 on another."""
    wh, bulk, serial = warehouse(), product(), serial_product()
    scans = [gs1(bulk.udi_di, lot="LOT-A", expiry=in_days(500), count=20)]
    scans += [gs1(serial.udi_di, lot="LOT-S", serial=f"SN{i}", expiry=in_days(600)) for i in range(5)]
    received_and_released(warehouse_user=warehouse_user, quality_user=quality_user, warehouse=wh, scans=scans)
    a, b = customer(name="上海第一医院"), customer(name="北京协和医院")
    to_a = dispatched(
        approved_order(customer=a, warehouse=wh, lines=[(bulk, 5), (serial, 2)]),
        warehouse_user,
        serials={2: ["SN0", "SN1"]},
    )
    to_b = dispatched(
        approved_order(customer=b, warehouse=wh, lines=[(serial, 1)]), warehouse_user, serials={1: ["SN2"]}
    )
    return {"wh": wh, "bulk": bulk, "serial": serial, "a": a, "b": b, "to_a": to_a, "to_b": to_b}


def _line(shipment, lot_number):
    return shipment.lines.get(lot_number=lot_number)


def _state():
    return (
        list(StockBalance.objects.order_by("id").values_list("lot_id", "on_hand", "reserved", "quarantined")),
        StockMove.objects.count(),
        CustomerReturn.objects.count(),
        CustomerReturnLine.objects.count(),
        CustomerReturn.history.count(),
        TraceEdge.objects.filter(kind=EdgeKind.RETURN).count(),
        list(SerialUnit.objects.order_by("id").values_list("status", "warehouse_id")),
    )


def test_shipment_return_posts_stock_awaiting_release_and_a_return_edge(shipped, warehouse_user):
    # given customer A has 5 units of LOT-A; when 2 come back into the warehouse
    to_a = shipped["to_a"]
    customer_return = shipment_return(
        shipment=to_a,
        user=warehouse_user,
        warehouse=shipped["wh"],
        reason="包装破损",
        lines=[{"shipment_line": _line(to_a, "LOT-A").pk, "quantity": 2}],
    )
    # then a numbered return with its line and history
    assert customer_return.number.startswith("RT-") and customer_return.customer == shipped["a"]
    assert customer_return.lines.get().quantity == 2 and customer_return.history.count() == 1
    # the units are on hand in the returns zone: not available
    lot = Lot.objects.get(lot_number="LOT-A")
    balance = StockBalance.objects.get(lot=lot, warehouse=shipped["wh"])
    assert (balance.on_hand, balance.quarantined, balance.available) == (17, 2, 15)
    move = StockMove.objects.get(kind=MoveKind.RETURN)
    assert (move.on_hand_delta, move.quarantined_delta, move.document_ref) == (2, 2, customer_return.number)
    # and the forward trace shows what came back from whom
    forward = trace_forward(lot=lot)
    by_party = {c["party_id"]: c for c in forward["customers"]}
    assert by_party[shipped["a"].pk]["quantity"] == 5 and by_party[shipped["a"].pk]["returned"] == 2
    assert forward["returned_quantity"] == 2
    assert forward["returns"][0]["document_ref"] == customer_return.number
    assert recall_scope(criteria={"lot_ids": [lot.pk]})["customers"][0]["returned"] == 2


def test_shipment_return_serials_move_back_as_returned(shipped, warehouse_user):
    # when customer A returns SN1
    to_a = shipped["to_a"]
    shipment_return(
        shipment=to_a,
        user=warehouse_user,
        warehouse=shipped["wh"],
        reason="客户退货",
        lines=[{"shipment_line": _line(to_a, "LOT-S").pk, "quantity": 1, "serials": ["SN1"]}],
    )
    # then the unit is back in the warehouse's returns zone, traced per unit
    unit = SerialUnit.objects.get(serial="SN1")
    assert (unit.status, unit.warehouse) == (SerialStatus.RETURNED, shipped["wh"])
    assert unit.history.first().history_change_reason.startswith("RT-")
    edge = TraceEdge.objects.get(kind=EdgeKind.RETURN)
    assert (edge.serial, edge.party, edge.quantity) == (unit, shipped["a"], 1)
    assert trace_forward(serial=unit)["customers"][0]["returned"] == 1


def test_shipment_return_more_than_shipped_is_refused_and_changes_nothing(shipped, warehouse_user):
    # given 2 of the 5 units already came back
    to_a = shipped["to_a"]
    line = _line(to_a, "LOT-A")
    shipment_return(
        shipment=to_a,
        user=warehouse_user,
        warehouse=shipped["wh"],
        reason="第一次退货",
        lines=[{"shipment_line": line.pk, "quantity": 2}],
    )
    before = _state()
    # when 4 more are announced
    with pytest.raises(DomainError) as exc:
        shipment_return(
            shipment=to_a,
            user=warehouse_user,
            warehouse=shipped["wh"],
            reason="第二次退货",
            lines=[{"shipment_line": line.pk, "quantity": 4}],
        )
    # then it is refused with what can still come back, and nothing changed
    assert exc.value.code == "return_exceeds_shipped" and "3" in str(exc.value.message)
    assert _state() == before


def test_shipment_return_serial_not_shipped_to_that_customer_is_refused(shipped, warehouse_user):
    # given SN2 went to customer B and SN3 never left the warehouse
    to_a = shipped["to_a"]
    before = _state()
    for serial in ("SN2", "SN3"):
        # when customer A's shipment claims it back
        with pytest.raises(DomainError) as exc:
            shipment_return(
                shipment=to_a,
                user=warehouse_user,
                warehouse=shipped["wh"],
                reason="客户退货",
                lines=[{"shipment_line": _line(to_a, "LOT-S").pk, "quantity": 1, "serials": [serial]}],
            )
        # then it is refused and nothing changed
        assert exc.value.code == "serial_not_shipped" and serial in str(exc.value.message)
        assert _state() == before


def test_shipment_return_a_serial_twice_is_refused(shipped, warehouse_user):
    to_a = shipped["to_a"]
    line = {"shipment_line": _line(to_a, "LOT-S").pk, "quantity": 1, "serials": ["SN0"]}
    shipment_return(shipment=to_a, user=warehouse_user, warehouse=shipped["wh"], reason="退货", lines=[line])
    with pytest.raises(DomainError) as exc:
        shipment_return(shipment=to_a, user=warehouse_user, warehouse=shipped["wh"], reason="退货", lines=[line])
    assert exc.value.code == "serial_not_shipped"


@pytest.mark.parametrize(
    "change, field",
    [
        ({"reason": " "}, "reason"),
        ({"lines": []}, "lines"),
        ({"lines": [{"shipment_line": 0, "quantity": 1}]}, "lines"),
        ({"lines": "zero"}, "lines"),
    ],
)
def test_shipment_return_bad_input_changes_nothing(shipped, warehouse_user, change, field):
    to_a = shipped["to_a"]
    if change.get("lines") == "zero":
        change = {"lines": [{"shipment_line": _line(to_a, "LOT-A").pk, "quantity": 0}]}
    arguments = {"reason": "退货", "lines": [{"shipment_line": _line(to_a, "LOT-A").pk, "quantity": 1}], **change}
    before = _state()
    with pytest.raises(DomainError) as exc:
        shipment_return(shipment=to_a, user=warehouse_user, warehouse=shipped["wh"], **arguments)
    assert field in exc.value.fields
    assert _state() == before


def test_shipment_return_needs_permission(shipped, make_user):
    to_a = shipped["to_a"]
    with pytest.raises(PermissionDenied):
        shipment_return(
            shipment=to_a,
            user=make_user("sales"),
            warehouse=shipped["wh"],
            reason="退货",
            lines=[{"shipment_line": _line(to_a, "LOT-A").pk, "quantity": 1}],
        )


def test_returned_stock_is_not_allocatable_until_released(shipped, warehouse_user, quality_user):
    # given the warehouse's free stock of LOT-A is reserved, then 3 units come back
    wh, bulk, to_a = shipped["wh"], shipped["bulk"], shipped["to_a"]
    order_allocate(order=approved_order(customer=customer(), warehouse=wh, lines=[(bulk, 15)]), user=warehouse_user)
    shipment_return(
        shipment=to_a,
        user=warehouse_user,
        warehouse=wh,
        reason="客户退货",
        lines=[{"shipment_line": _line(to_a, "LOT-A").pk, "quantity": 3}],
    )
    # when another order wants them
    later = approved_order(customer=customer(), warehouse=wh, lines=[(bulk, 3)])
    result = order_allocate(order=later, user=warehouse_user)
    # then nothing is allocated from the returns zone
    assert result.allocations == [] and result.shortages[0].missing == 3
    # until quality releases the lot's stock awaiting release
    lot_release(lot=Lot.objects.get(lot_number="LOT-A"), user=quality_user, password=PASSWORD, reason="退货检验合格")
    assert sum(a.quantity for a in order_allocate(order=later, user=warehouse_user).allocations) == 3


def test_returned_serial_is_not_picked_until_released(shipped, warehouse_user, quality_user):
    # given SN0 came back and every other unit of LOT-S in stock is taken
    wh, serial, to_a = shipped["wh"], shipped["serial"], shipped["to_a"]
    shipment_return(
        shipment=to_a,
        user=warehouse_user,
        warehouse=wh,
        reason="客户退货",
        lines=[{"shipment_line": _line(to_a, "LOT-S").pk, "quantity": 1, "serials": ["SN0"]}],
    )
    order = approved_order(customer=customer(), warehouse=wh, lines=[(serial, 3)])
    # then only the two units in stock (SN3, SN4) can be reserved
    assert sum(a.quantity for a in order_allocate(order=order, user=warehouse_user).allocations) == 2
    lot_release(lot=Lot.objects.get(lot_number="LOT-S"), user=quality_user, password=PASSWORD)
    assert SerialUnit.objects.get(serial="SN0").status == SerialStatus.IN_STOCK
    assert sum(a.quantity for a in order_allocate(order=order, user=warehouse_user).allocations) == 1


def test_returned_stock_found_nonconforming_can_be_scrapped(shipped, warehouse_user, make_user):
    # given 2 units came back damaged
    from traceability.services import stock_scrap

    wh, bulk, to_a = shipped["wh"], shipped["bulk"], shipped["to_a"]
    shipment_return(
        shipment=to_a,
        user=warehouse_user,
        warehouse=wh,
        reason="包装破损",
        lines=[{"shipment_line": _line(to_a, "LOT-A").pk, "quantity": 2}],
    )
    lot = Lot.objects.get(lot_number="LOT-A")
    # when they are scrapped
    stock_scrap(product=bulk, lot=lot, warehouse=wh, quantity=2, user=make_user("quality"), reason="退货破损报废")
    # then they leave the returns zone and the released stock is untouched
    balance = StockBalance.objects.get(lot=lot, warehouse=wh)
    assert (balance.on_hand, balance.quarantined, balance.available) == (15, 0, 15)


# --- API and page ------------------------------------------------------------------------------


def test_api_return_create_is_idempotent(shipped, api_client_for, warehouse_user):
    # given an integrator's return of 1 unit, sent twice with the same key
    api = api_client_for(warehouse_user)
    to_a = shipped["to_a"]
    payload = {
        "shipment": to_a.pk,
        "warehouse": shipped["wh"].pk,
        "reason": "客户退货",
        "lines": [{"shipment_line": _line(to_a, "LOT-A").pk, "quantity": 1}],
    }
    first = api.post("/api/v1/traceability/returns/", payload, format="json", HTTP_IDEMPOTENCY_KEY="ret-1")
    again = api.post("/api/v1/traceability/returns/", payload, format="json", HTTP_IDEMPOTENCY_KEY="ret-1")
    # then one return, the second answer replayed
    assert first.status_code == 201, first.content
    assert first.json()["number"].startswith("RT-") and first.json()["lines"][0]["quantity"] == 1
    assert again.status_code == 201 and again["Idempotent-Replayed"] == "true"
    assert CustomerReturn.objects.count() == 1
    listed = api.get("/api/v1/traceability/returns/", {"shipment": to_a.pk})
    assert listed.status_code == 200 and listed.json()["count"] == 1


def test_api_return_over_shipped_has_the_error_shape(shipped, api_client_for, warehouse_user):
    api = api_client_for(warehouse_user)
    to_a = shipped["to_a"]
    response = api.post(
        "/api/v1/traceability/returns/",
        {
            "shipment": to_a.pk,
            "warehouse": shipped["wh"].pk,
            "reason": "客户退货",
            "lines": [{"shipment_line": _line(to_a, "LOT-A").pk, "quantity": 6}],
        },
        format="json",
    )
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "return_exceeds_shipped" and body["fields"]["lines"]
    assert CustomerReturn.objects.count() == 0


def test_api_return_needs_the_add_permission(shipped, api_client_for, make_user):
    api = api_client_for(make_user("sales"))
    to_a = shipped["to_a"]
    response = api.post(
        "/api/v1/traceability/returns/",
        {
            "shipment": to_a.pk,
            "warehouse": shipped["wh"].pk,
            "reason": "客户退货",
            "lines": [{"shipment_line": _line(to_a, "LOT-A").pk, "quantity": 1}],
        },
        format="json",
    )
    assert response.status_code == 403 and CustomerReturn.objects.count() == 0


def test_shipment_page_records_a_return(shipped, client, warehouse_user):
    # given the warehouse user on customer A's shipment page
    client.force_login(warehouse_user)
    to_a = shipped["to_a"]
    url = reverse("traceability:shipment_detail", args=[to_a.pk])
    page = client.get(url)
    assert page.status_code == 200 and b'data-testid="return-form"' in page.content
    # when they record SN0 coming back
    response = client.post(
        url,
        {
            "action": "return",
            "shipment_line": _line(to_a, "LOT-S").pk,
            "quantity": 1,
            "serials": "SN0",
            "warehouse": shipped["wh"].pk,
            "reason": "客户退货",
        },
    )
    # then the return is recorded and listed on the page
    assert response.status_code == 302
    assert SerialUnit.objects.get(serial="SN0").status == SerialStatus.RETURNED
    page = client.get(url)
    assert CustomerReturn.objects.get().number.encode() in page.content


def test_shipment_page_shows_the_return_error_next_to_the_form(shipped, client, warehouse_user):
    client.force_login(warehouse_user)
    to_a = shipped["to_a"]
    url = reverse("traceability:shipment_detail", args=[to_a.pk])
    response = client.post(
        url,
        {
            "action": "return",
            "shipment_line": _line(to_a, "LOT-S").pk,
            "quantity": 1,
            "serials": "SN2",
            "warehouse": shipped["wh"].pk,
            "reason": "客户退货",
        },
    )
    assert response.status_code == 200 and "SN2" in response.content.decode()
    assert CustomerReturn.objects.count() == 0


def test_lot_page_shows_returns_and_the_release_of_stock_awaiting_it(shipped, client, warehouse_user, quality_user):
    # given 2 units of LOT-A came back
    to_a = shipped["to_a"]
    customer_return = shipment_return(
        shipment=to_a,
        user=warehouse_user,
        warehouse=shipped["wh"],
        reason="客户退货",
        lines=[{"shipment_line": _line(to_a, "LOT-A").pk, "quantity": 2}],
    )
    lot = Lot.objects.get(lot_number="LOT-A")
    # when quality opens the lot page
    client.force_login(quality_user)
    page = client.get(reverse("traceability:lot_detail", args=[lot.pk])).content.decode()
    # then it shows the return and offers to release the stock awaiting it
    assert customer_return.number in page and 'data-testid="pending-quantity"' in page
    assert reverse("traceability:lot_release", args=[lot.pk]) in page
    # and signing releases it
    client.post(reverse("traceability:lot_release", args=[lot.pk]), {"password": PASSWORD, "reason": "复检合格"})
    assert StockBalance.objects.get(lot=lot, warehouse=shipped["wh"]).quarantined == 0
