"""Receiving by scan: good scans create lots/serials in quarantine, bad scans create nothing."""

import pytest

from erp.kernel.errors import DomainError
from traceability.models import (
    Lot,
    LotStatus,
    ReceiptLine,
    SerialUnit,
    StockBalance,
    StockMove,
    TraceEdge,
)
from traceability.services import receipt_create, receipt_scan, receipt_scans_receive

from .factories import gs1, in_days, product, serial_product, supplier, warehouse

pytestmark = pytest.mark.django_db


def _counts():
    return (
        Lot.objects.count(),
        SerialUnit.objects.count(),
        ReceiptLine.objects.count(),
        StockMove.objects.count(),
        TraceEdge.objects.count(),
    )


@pytest.fixture
def receipt(warehouse_user):
    return receipt_create(user=warehouse_user, supplier=supplier(), warehouse=warehouse())


def test_receipt_scan_creates_lot_in_quarantine_with_inspection_record(receipt, warehouse_user):
    # given a lot-tracked class III product in the master, with its registration number
    prod = product(device_class=3, registration_number="国械注准20213130001")
    raw = gs1(prod.udi_di, lot="A1", expiry=in_days(400), produced=in_days(-10), count=5)
    # when
    outcome = receipt_scan(receipt=receipt, user=warehouse_user, raw=raw, registration_number="国械注准20213130001")
    # then
    assert outcome.ok, outcome.reason
    lot = Lot.objects.get(product=prod, lot_number="A1")
    assert lot.status == LotStatus.QUARANTINE and lot.expiry_date == in_days(400) and lot.udi_raw == raw
    line = ReceiptLine.objects.get()
    assert line.quantity == 5 and line.raw_scan == raw and line.raw_ai["10"] == "A1"
    assert line.registration_number == "国械注准20213130001"
    assert line.registrant_name == prod.registrant.name and line.supplier_name == receipt.supplier_name
    assert line.supplier_contact and line.purchase_date == receipt.purchase_date and line.issuer == "gs1"
    assert StockBalance.objects.get(lot=lot).on_hand == 5
    assert TraceEdge.objects.get(lot=lot).party_id == receipt.supplier_id
    assert line.history.count() == 1 and lot.history.count() == 1


def test_receipt_scan_matches_existing_lot(receipt, warehouse_user):
    prod = product()
    for _ in range(2):
        assert receipt_scan(
            receipt=receipt, user=warehouse_user, raw=gs1(prod.udi_di, lot="A1", expiry=in_days(300))
        ).ok
    assert Lot.objects.count() == 1 and StockBalance.objects.get().on_hand == 2


@pytest.mark.parametrize(
    "make_raw, code",
    [
        (lambda p: gs1(p.udi_di, lot="A1", expiry=in_days(-1)), "expired"),
        (lambda p: gs1("06901234567892", lot="A1", expiry=in_days(100)), "unknown_gtin"),
        (
            lambda p: gs1(p.udi_di[:-1] + str((int(p.udi_di[-1]) + 1) % 10), lot="A1", expiry=in_days(100)),
            "gtin_check_digit",
        ),
        (lambda p: gs1(p.udi_di, lot="A1"), "no_expiry"),
        (lambda p: gs1(p.udi_di, expiry=in_days(100)), "no_lot"),
        (lambda p: "not a barcode", "not_gs1"),
    ],
)
def test_receipt_scan_bad_scan_creates_nothing(receipt, warehouse_user, make_raw, code):
    # given
    prod = product()
    before = _counts()
    # when
    outcome = receipt_scan(receipt=receipt, user=warehouse_user, raw=make_raw(prod))
    # then
    assert not outcome.ok and outcome.reason_code == code and outcome.reason
    assert _counts() == before


def test_receipt_scan_unregistered_product_is_refused(receipt, warehouse_user):
    prod = product(registrant=None)
    outcome = receipt_scan(receipt=receipt, user=warehouse_user, raw=gs1(prod.udi_di, lot="A", expiry=in_days(90)))
    assert outcome.reason_code == "unregistered" and Lot.objects.count() == 0


def test_receipt_scan_serialised_missing_separator_is_refused(receipt, warehouse_user):
    prod = serial_product()
    raw = f"01{prod.udi_di}17{in_days(200):%y%m%d}10ABC12321S1"
    outcome = receipt_scan(receipt=receipt, user=warehouse_user, raw=raw)
    assert outcome.reason_code == "missing_separator" and "S1" in outcome.reason
    assert SerialUnit.objects.count() == 0


def test_receipt_scan_duplicate_serial_is_refused(receipt, warehouse_user):
    prod = serial_product()
    raw = gs1(prod.udi_di, lot="B1", serial="S1", expiry=in_days(200))
    assert receipt_scan(receipt=receipt, user=warehouse_user, raw=raw).ok
    again = receipt_scan(receipt=receipt, user=warehouse_user, raw=raw)
    assert again.reason_code == "serial_exists" and SerialUnit.objects.count() == 1


def test_receipt_scan_lot_with_other_expiry_is_refused(receipt, warehouse_user):
    prod = product()
    assert receipt_scan(receipt=receipt, user=warehouse_user, raw=gs1(prod.udi_di, lot="A", expiry=in_days(100))).ok
    outcome = receipt_scan(receipt=receipt, user=warehouse_user, raw=gs1(prod.udi_di, lot="A", expiry=in_days(101)))
    assert outcome.reason_code == "lot_expiry_mismatch"


def test_receipt_scan_cold_chain_needs_transport_record(warehouse_user):
    from decimal import Decimal

    prod = product(storage_min_c=Decimal("2"), storage_max_c=Decimal("8"))
    raw = gs1(prod.udi_di, lot="C", expiry=in_days(100))
    unchecked = receipt_create(user=warehouse_user, supplier=supplier(), warehouse=warehouse())
    assert receipt_scan(receipt=unchecked, user=warehouse_user, raw=raw).reason_code == "cold_chain_record"
    checked = receipt_create(
        user=warehouse_user, supplier=supplier(), warehouse=warehouse(), transport_temperature_ok=True
    )
    assert receipt_scan(receipt=checked, user=warehouse_user, raw=raw).ok


def test_receipt_scans_receive_bulk_serials_keeps_history(receipt, warehouse_user, django_assert_max_num_queries):
    # given 300 serial scans of one lot
    prod = serial_product()
    scans = [gs1(prod.udi_di, lot="BULK1", serial=f"S{i:05d}", expiry=in_days(500)) for i in range(300)]
    # when (a fixed number of queries whatever the number of scans)
    with django_assert_max_num_queries(40):
        result = receipt_scans_receive(receipt=receipt, user=warehouse_user, scans=scans)
    # then
    assert len(result.accepted) == 300
    assert SerialUnit.objects.filter(lot__lot_number="BULK1", status="in_stock").count() == 300
    assert SerialUnit.history.count() == 300
    # one inspection line for the lot (quantity 300); each unit keeps its own raw scan
    line = ReceiptLine.objects.get()
    assert line.quantity == 300 and line.history.count() == 1
    assert SerialUnit.objects.get(serial="S00007").udi_raw == scans[7]
    assert StockBalance.objects.get().on_hand == 300
    assert StockMove.objects.filter(serial__isnull=False).count() == 300


def test_receipt_scans_receive_atomic_refuses_everything_on_one_bad_scan(receipt, warehouse_user):
    prod = serial_product()
    scans = [gs1(prod.udi_di, lot="X", serial=f"S{i}", expiry=in_days(90)) for i in range(5)]
    scans.append(scans[0])  # duplicate serial
    before = _counts()
    with pytest.raises(DomainError) as exc:
        receipt_scans_receive(receipt=receipt, user=warehouse_user, scans=scans)
    assert exc.value.code == "scans_refused"
    assert exc.value.details["refused"][0]["index"] == 5
    assert exc.value.details["refused"][0]["code"] == "serial_duplicate"
    assert _counts() == before


def test_receipt_scan_needs_permission(receipt, sales_user):
    from erp.kernel.errors import PermissionDenied

    prod = product()
    with pytest.raises(PermissionDenied):
        receipt_scan(receipt=receipt, user=sales_user, raw=gs1(prod.udi_di, lot="A", expiry=in_days(90)))


# --- Registration (DOMAIN.md §4: reject unregistered and mismatching numbers) ---------------------


@pytest.mark.parametrize("device_class", [2, 3])
def test_receipt_scan_class_two_or_three_without_registration_number_is_refused(receipt, warehouse_user, device_class):
    # given a class II/III product whose master has no registration number (its registrant is known)
    prod = product(device_class=device_class, registration_number="")
    before = _counts()
    # when
    outcome = receipt_scan(
        receipt=receipt,
        user=warehouse_user,
        raw=gs1(prod.udi_di, lot="U1", expiry=in_days(200)),
        registration_number="国械注准20213130001",
    )
    # then: refused as unregistered, even with a number on the delivery note, and nothing created
    assert not outcome.ok and outcome.reason_code == "unregistered"
    assert prod.sku in outcome.reason
    assert _counts() == before


def test_receipt_scan_registration_number_differing_from_the_master_is_refused(receipt, warehouse_user):
    # given a class III product registered as 国械注准20213130001
    prod = product(device_class=3, registration_number="国械注准20213130001")
    before = _counts()
    # when the delivery note names another number
    outcome = receipt_scan(
        receipt=receipt,
        user=warehouse_user,
        raw=gs1(prod.udi_di, lot="M1", expiry=in_days(200)),
        registration_number="国械注准20213130999",
    )
    # then
    assert not outcome.ok and outcome.reason_code == "registration_mismatch"
    assert "国械注准20213130999" in outcome.reason and "国械注准20213130001" in outcome.reason
    assert _counts() == before


def test_receipt_scans_receive_mismatching_number_refuses_the_whole_batch(receipt, warehouse_user):
    # given good scans and one whose registration number differs from the master
    prod = product(device_class=3, registration_number="国械注准20213130001")
    scans = [{"raw": gs1(prod.udi_di, lot="B1", expiry=in_days(200))} for _ in range(3)]
    scans.append({"raw": gs1(prod.udi_di, lot="B2", expiry=in_days(200)), "registration_number": "国械注准20203130002"})
    before = _counts()
    # when
    with pytest.raises(DomainError) as exc:
        receipt_scans_receive(receipt=receipt, user=warehouse_user, scans=scans)
    # then
    assert exc.value.code == "scans_refused"
    assert [r["code"] for r in exc.value.details["refused"]] == ["registration_mismatch"]
    assert _counts() == before


def test_receipt_scan_inspection_record_takes_the_number_from_the_product_master(receipt, warehouse_user):
    # given a class II product with a provincial registration number, scanned without a number
    prod = product(device_class=2, registration_number="沪械注准20202140123")
    # when the same number is given with spaces on a second scan
    first = receipt_scan(receipt=receipt, user=warehouse_user, raw=gs1(prod.udi_di, lot="R1", expiry=in_days(300)))
    second = receipt_scan(
        receipt=receipt,
        user=warehouse_user,
        raw=gs1(prod.udi_di, lot="R2", expiry=in_days(300)),
        registration_number=" 沪械注准 20202140123",
    )
    # then both lines carry the master's number
    assert first.ok and second.ok, (first.reason, second.reason)
    assert set(ReceiptLine.objects.values_list("registration_number", flat=True)) == {"沪械注准20202140123"}


def test_receipt_scan_class_one_product_uses_its_filing_number(receipt, warehouse_user):
    # given a class I product with a filing number and no registrant
    prod = product(device_class=1, registration_number="浙温械备20140027号", registrant=None)
    # when
    outcome = receipt_scan(receipt=receipt, user=warehouse_user, raw=gs1(prod.udi_di, lot="F1", expiry=in_days(300)))
    # then
    assert outcome.ok, outcome.reason
    assert ReceiptLine.objects.get().registration_number == "浙温械备20140027号"


def test_receipt_scan_inspection_record_carries_the_registrant_licence(receipt, warehouse_user):
    # given a product whose registrant has its production licence on file
    from .factories import registrant

    maker = registrant()
    maker.licence_number = "沪药监械生产许20150001号"
    maker.save()
    prod = product(device_class=2, registration_number="沪械注准20202140123", registrant=maker)
    # when a scan is received without naming a contract manufacturer
    outcome = receipt_scan(receipt=receipt, user=warehouse_user, raw=gs1(prod.udi_di, lot="L1", expiry=in_days(300)))
    # then the registrant made it: its licence stands for registrant and manufacturer (DOMAIN.md §3)
    assert outcome.ok, outcome.reason
    line = ReceiptLine.objects.get()
    assert line.registrant_licence == line.manufacturer_licence == "沪药监械生产许20150001号"


# --- receiving into a lot that is already released -------------------------------------------------


def _allocate(prod, wh, quantity, user):
    from traceability.services import order_allocate

    from .factories import approved_order, customer

    order = approved_order(customer=customer(), warehouse=wh, lines=[(prod, quantity)])
    return order_allocate(order=order, user=user)


def test_receipt_scan_into_a_released_lot_awaits_inspection_and_is_not_allocatable(warehouse_user, quality_user):
    # given lot A1 received, inspected and released: 5 units in warehouse W, 3 in warehouse V
    from .factories import received_and_released

    prod, here, there = product(), warehouse(), warehouse()
    raw = gs1(prod.udi_di, lot="A1", expiry=in_days(300), count=5)
    received_and_released(warehouse_user=warehouse_user, quality_user=quality_user, warehouse=here, scans=[raw])
    received_and_released(
        warehouse_user=warehouse_user,
        quality_user=quality_user,
        warehouse=there,
        scans=[gs1(prod.udi_di, lot="A1", expiry=in_days(300), count=3)],
    )
    # when 4 more units of A1 arrive in W on a new receipt
    receipt = receipt_create(user=warehouse_user, supplier=supplier(), warehouse=here)
    outcome = receipt_scan(
        receipt=receipt, user=warehouse_user, raw=gs1(prod.udi_di, lot="A1", expiry=in_days(300), count=4)
    )
    # then they are on hand but await release; the lot and its inspected units stay released
    assert outcome.ok, outcome.reason
    lot = Lot.objects.get(lot_number="A1")
    assert lot.status == LotStatus.RELEASED
    balance = StockBalance.objects.get(lot=lot, warehouse=here)
    assert (balance.on_hand, balance.quarantined, balance.available) == (9, 4, 5)
    assert StockBalance.objects.get(lot=lot, warehouse=there).available == 3
    assert "A1" in outcome.line.warnings[-1]
    move = StockMove.objects.filter(document_type="receipt", document_id=receipt.pk).get()
    assert (move.on_hand_delta, move.quarantined_delta) == (4, 4)
    # and an order for 9 in W gets only the 5 inspected units
    result = _allocate(prod, here, 9, warehouse_user)
    assert sum(a.quantity for a in result.allocations) == 5 and result.shortages[0].missing == 4


def test_lot_release_releases_the_units_awaiting_it_with_a_signature(warehouse_user, quality_user):
    # given a released lot with 4 newly received units awaiting inspection
    from erp.models import ElectronicSignature
    from tests.conftest import PASSWORD
    from traceability.services import lot_release

    from .factories import received_and_released

    prod, wh = product(), warehouse()
    scan = gs1(prod.udi_di, lot="A1", expiry=in_days(300), count=5)
    received_and_released(warehouse_user=warehouse_user, quality_user=quality_user, warehouse=wh, scans=[scan])
    receipt = receipt_create(user=warehouse_user, supplier=supplier(), warehouse=wh)
    receipt_scan(receipt=receipt, user=warehouse_user, raw=gs1(prod.udi_di, lot="A1", expiry=in_days(300), count=4))
    lot = Lot.objects.get(lot_number="A1")
    signatures = ElectronicSignature.objects.filter(record_id=lot.pk, meaning="release").count()
    # when quality releases the lot again
    lot_release(lot=lot, user=quality_user, password=PASSWORD, reason="第二批验收合格")
    # then the units are available, the release is signed and in the ledger and the lot's history
    balance = StockBalance.objects.get(lot=lot, warehouse=wh)
    assert (balance.quarantined, balance.available) == (0, 9)
    assert ElectronicSignature.objects.filter(record_id=lot.pk, meaning="release").count() == signatures + 1
    assert StockMove.objects.get(kind="release", lot=lot).quarantined_delta == -4
    assert lot.history.first().history_change_reason == "第二批验收合格"
    assert sum(a.quantity for a in _allocate(prod, wh, 9, warehouse_user).allocations) == 9


def test_receipt_scan_serial_into_a_released_lot_awaits_inspection(warehouse_user, quality_user):
    # given serialised lot S1 released with one unit
    from tests.conftest import PASSWORD
    from traceability.models import SerialStatus
    from traceability.services import lot_release

    from .factories import received_and_released

    prod, wh = serial_product(), warehouse()
    first = gs1(prod.udi_di, lot="S1", serial="SN1", expiry=in_days(300))
    received_and_released(warehouse_user=warehouse_user, quality_user=quality_user, warehouse=wh, scans=[first])
    # when a second unit of S1 is received
    receipt = receipt_create(user=warehouse_user, supplier=supplier(), warehouse=wh)
    receipt_scan(
        receipt=receipt, user=warehouse_user, raw=gs1(prod.udi_di, lot="S1", serial="SN2", expiry=in_days(300))
    )
    # then it awaits inspection (cannot be picked) until the lot is released again
    assert SerialUnit.objects.get(serial="SN2").status == SerialStatus.QUARANTINE
    assert SerialUnit.objects.get(serial="SN1").status == SerialStatus.IN_STOCK
    assert StockBalance.objects.get(lot__lot_number="S1").available == 1
    lot_release(lot=Lot.objects.get(lot_number="S1"), user=quality_user, password=PASSWORD)
    assert SerialUnit.objects.get(serial="SN2").status == SerialStatus.IN_STOCK
    assert StockMove.objects.get(kind="release").serial.serial == "SN2"


def test_receipt_scan_into_a_lot_still_in_quarantine_waits_for_the_lot_release(receipt, warehouse_user):
    # given lot A1 received and not yet released; when more of it arrives
    prod = product()
    for _ in range(2):
        receipt_scan(receipt=receipt, user=warehouse_user, raw=gs1(prod.udi_di, lot="A1", expiry=in_days(300)))
    # then the lot's own quarantine covers every unit (nothing separately awaiting release)
    balance = StockBalance.objects.get()
    assert balance.lot.status == LotStatus.QUARANTINE and (balance.on_hand, balance.quarantined) == (2, 0)
