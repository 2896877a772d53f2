"""Factories for traceability tests: GS1 strings, released stock, approved orders."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from django.utils import timezone

from masterdata.models import PartyKind, Tracking
from orders.models import OrderStatus, SalesOrder, SalesOrderLine
from tests.masterdata.factories import PartyFactory, ProductFactory, WarehouseFactory
from traceability.models import Lot, LotStatus
from traceability.services.ledger import MoveSpec, stock_moves_post

GS = "\x1d"


def gs1(
    gtin: str,
    *,
    lot: str = "",
    serial: str = "",
    expiry: date | None = None,
    produced: date | None = None,
    count: int | None = None,
    prefix: str = "]d2",
) -> str:
    """A GS1 element string as a scanner sends it (fixed-length AIs first, FNC1 after variable ones)."""
    parts = [f"01{gtin}"]
    if produced:
        parts.append(f"11{produced:%y%m%d}")
    if expiry:
        parts.append(f"17{expiry:%y%m%d}")
    variable = []
    if lot:
        variable.append(f"10{lot}")
    if count:
        variable.append(f"30{count}")
    if serial:
        variable.append(f"21{serial}")
    return prefix + "".join(parts) + GS.join(variable)


def in_days(days: int) -> date:
    return timezone.localdate() + timedelta(days=days)


def registrant():
    return PartyFactory(kind=PartyKind.MANUFACTURER, name="迈瑞医疗", name_en="Mindray")


def product(**kw):
    kw.setdefault("registrant", registrant())
    return ProductFactory(**kw)


def serial_product(**kw):
    return product(tracking=Tracking.SERIAL, **kw)


def supplier():
    return PartyFactory(kind=PartyKind.SUPPLIER, name="国药控股上海", contact_name="李强", contact_phone="021-1234")


def customer(**kw):
    return PartyFactory(kind=PartyKind.HOSPITAL, **kw)


def warehouse(**kw):
    return WarehouseFactory(**kw)


def released_stock(
    *, product, warehouse, quantity: int, expiry: date, lot_number: str | None = None, status: str = LotStatus.RELEASED
) -> Lot:
    """A lot with ``quantity`` on hand in ``warehouse`` posted through the ledger (no receipt)."""
    from django.db import transaction

    lot = Lot.objects.create(
        product=product,
        lot_number=lot_number or f"L{Lot.objects.count() + 1:05d}",
        expiry_date=expiry,
        production_date=expiry - timedelta(days=730),
        status=status,
    )
    with transaction.atomic():
        stock_moves_post(
            moves=[
                MoveSpec(
                    kind="adjustment",
                    product_id=product.pk,
                    lot_id=lot.pk,
                    warehouse_id=warehouse.pk,
                    on_hand_delta=quantity,
                )
            ],
            document_type="adjustment",
            document_id=0,
            document_ref="TEST",
            user=None,
        )
    return lot


_order_seq = {"n": 0}


def approved_order(
    *, customer, warehouse, lines: list[tuple], delivery: date | None = None, ship_to=None
) -> SalesOrder:
    """An APPROVED order with ``lines`` = [(product, quantity, extra-dict?), ...], written directly
    (the order services' own rules are not under test here)."""
    _order_seq["n"] += 1
    order = SalesOrder.objects.create(
        number=f"SO-T-{_order_seq['n']:06d}-{SalesOrder.objects.count()}",
        customer=customer,
        ship_to=ship_to,
        warehouse=warehouse,
        requested_delivery_date=delivery,
        status=OrderStatus.APPROVED,
    )
    for no, spec in enumerate(lines, start=1):
        prod, qty, extra = (*spec, {})[:3]
        line = SalesOrderLine(
            order=order,
            line_no=no,
            product=prod,
            quantity=qty,
            unit_price=Decimal("10.0000"),
            tax_rate=Decimal("0.13"),
            **extra,
        )
        line.compute_amounts()
        line.save()
    return order


def received_and_released(*, warehouse_user, quality_user, warehouse, scans: list[str], supplier_party=None):
    """Receive ``scans`` into ``warehouse`` through the receiving services and release every lot they
    touched (signed by ``quality_user``): stock as it is after incoming inspection (cold-chain goods
    arrive with their transport temperature record checked)."""
    from tests.conftest import PASSWORD
    from traceability.services import lot_release, receipt_create, receipt_scans_receive

    receipt = receipt_create(
        user=warehouse_user,
        supplier=supplier_party or supplier(),
        warehouse=warehouse,
        transport_temperature_ok=True,
    )
    receipt_scans_receive(receipt=receipt, user=warehouse_user, scans=scans)
    for lot in Lot.objects.filter(receipt_lines__receipt=receipt).distinct():
        lot_release(lot=lot, user=quality_user, password=PASSWORD, reason="验收合格")
    return receipt


def dispatched(order, user, serials: dict | None = None):
    """Allocate, pick and dispatch an approved order through the real services; the shipment."""
    from traceability.services import order_allocate, shipment_create, shipment_dispatch

    order_allocate(order=order, user=user)
    shipment = shipment_create(order=order, user=user, serials=serials)
    return shipment_dispatch(
        shipment=shipment,
        user=user,
        carrier="顺丰速运",
        tracking_number=f"SF{order.pk:010d}",
        expected_arrival_at=timezone.now() + timedelta(days=2),
    )


def rule_on(event: str, condition: str, **kwargs):
    """An enabled, non-blocking test rule of ``event`` (exception-center factory), routed to quality."""
    from tests.exceptions_center.factories import rule_with_route

    kwargs.setdefault("blocking", False)
    kwargs.setdefault("category", "quality")
    return rule_with_route("quality", event=event, condition=condition, **kwargs)
