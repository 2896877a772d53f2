"""Demo traceability data for ``manage.py seed_demo`` (step ``traceability.demo.seed``).

Receipts built from real-looking GS1 DataMatrix strings (with FNC1, day-00 expiries and serials) into
several warehouses, lots released by the quality user with an electronic signature, two approved orders
allocated FEFO and shipped, a cold-chain shipment with a temperature log that contains one excursion
(its lot goes on hold), one proof of delivery and one unit returned by the customer (awaiting release).
Runs through the services, so history, trace edges and rules behave as in real use. Skips itself when
receipts exist.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from erp.management.commands.demo_users import DEMO_PASSWORD, ensure_demo_users
from masterdata.models import Party, PartyKind, Product, Warehouse
from orders.models import OrderStatus, SalesOrder, SalesOrderLine
from traceability import services
from traceability.models import Lot, LotStatus, Receipt, StockBalance

GS = "\x1d"


def _gs1(gtin: str, *, lot: str, expiry, produced=None, serial: str = "", count: int | None = None) -> str:
    body = f"]d201{gtin}"
    if produced:
        body += f"11{produced:%y%m%d}"
    body += f"17{expiry:%y%m}00"  # day 00: the last day of the month
    body += f"10{lot}"
    if count:
        body += f"{GS}30{count}"
    if serial:
        body += f"{GS}21{serial}"
    return body


def seed(ctx) -> None:
    """Receipts, released stock in several warehouses, shipments and a temperature log with an excursion;
    then hands the orders step the ambient warehouse it stocked best (``ctx.data["order_stock"]``)."""
    _seed(ctx)
    stocked = stocked_ambient_warehouse()
    if stocked is not None:
        ctx.data["order_stock"] = stocked


def stocked_ambient_warehouse():
    """The ambient warehouse with the most released stock, and four of the products it holds (so the
    demo's clean order allocates), topped up with other ambient products; None without such stock."""
    stocked = (
        StockBalance.objects.filter(
            warehouse__is_active=True,
            warehouse__is_cold_storage=False,
            lot__status=LotStatus.RELEASED,
            product__is_active=True,
            available__gte=50,
        )
        .values("warehouse_id", "product_id")
        .annotate(quantity=Sum("available"))
        .order_by("warehouse_id", "product_id")
    )
    by_warehouse: dict[int, list[int]] = {}
    for row in stocked:
        by_warehouse.setdefault(row["warehouse_id"], []).append(row["product_id"])
    if not by_warehouse:
        return None
    warehouse_id, product_ids = max(by_warehouse.items(), key=lambda item: (len(item[1]), -item[0]))
    products = list(Product.objects.filter(pk__in=product_ids).order_by("sku")[:4])
    ambient_products = list(
        Product.objects.filter(is_active=True, storage_max_c__isnull=True).exclude(pk__in=product_ids).order_by("sku")
    )
    products += ambient_products[: 4 - len(products)]
    return Warehouse.objects.get(pk=warehouse_id), products


def _seed(ctx) -> None:
    if Receipt.objects.exists():
        ctx.write("  traceability: receipts exist, nothing to do")
        return
    users = ctx.data.get("users") or ensure_demo_users()
    warehouse_user, quality_user = users["warehouse1"], users["quality1"]
    rng = ctx.rng("traceability")
    supplier = Party.objects.filter(kind=PartyKind.SUPPLIER, is_active=True).order_by("code").first()
    products = list(
        Product.objects.filter(is_active=True, udi_di__isnull=False, registrant__isnull=False).order_by("sku")
    )
    warehouses = list(Warehouse.objects.filter(is_active=True).order_by("code"))
    if supplier is None or not products or not warehouses:
        ctx.write("  traceability: master data missing, skipped")
        return
    today = timezone.localdate()
    receipts = 0
    with transaction.atomic():
        for w_index, warehouse in enumerate(warehouses[:4]):
            # Cold stores hold the cold-chain products first; ambient warehouses never hold them.
            fits = [p for p in products if warehouse.is_cold_storage or not p.is_cold_chain]
            fits.sort(key=lambda p: not p.is_cold_chain if warehouse.is_cold_storage else False)
            fits = fits[:10]
            if not fits:
                continue
            receipt = services.receipt_create(
                user=warehouse_user,
                supplier=supplier,
                warehouse=warehouse,
                purchase_order_ref=f"PO-2026-{100 + w_index:04d}",
                transport_temperature_ok=True,
            )
            scans = []
            for p_index, product in enumerate(fits):
                for k in range(2):
                    expiry = today + timedelta(days=rng.randrange(120, 900))
                    produced = today - timedelta(days=rng.randrange(30, 200))
                    lot = f"{produced:%y%m}{w_index}{p_index:02d}{k}"
                    if product.is_serialised:
                        scans += [
                            _gs1(product.udi_di, lot=lot, expiry=expiry, produced=produced, serial=f"SN{lot}{n:03d}")
                            for n in range(4)
                        ]
                    else:
                        scans.append(
                            _gs1(
                                product.udi_di, lot=lot, expiry=expiry, produced=produced, count=rng.randrange(20, 200)
                            )
                        )
            services.receipt_scans_receive(receipt=receipt, user=warehouse_user, scans=scans, atomic=False)
            services.receipt_complete(receipt=receipt, user=warehouse_user)
            receipts += 1
        # Quality releases all but one lot per warehouse (left in quarantine to show the state).
        lots = list(Lot.objects.filter(status=LotStatus.QUARANTINE).order_by("id"))
        for lot in lots[:-3]:
            services.lot_release(lot=lot, user=quality_user, password=DEMO_PASSWORD, reason="来货检验合格")

        # Two approved orders, allocated FEFO and shipped; the cold one carries a temperature log.
        hospital = Party.objects.filter(kind=PartyKind.HOSPITAL, is_active=True).order_by("code").first()
        shipped = []
        for cold in (False, True):
            warehouse = next((w for w in warehouses if w.is_cold_storage == cold), None)
            product = next(
                (
                    p
                    for p in products
                    if p.is_cold_chain == cold
                    and Lot.objects.filter(
                        product=p, status=LotStatus.RELEASED, balances__warehouse=warehouse, balances__on_hand__gt=3
                    ).exists()
                ),
                None,
            )
            if warehouse is None or product is None or hospital is None:
                continue
            order = SalesOrder.objects.create(
                number=f"SO-DEMO-{'C' if cold else 'A'}01",
                customer=hospital,
                warehouse=warehouse,
                requested_delivery_date=today + timedelta(days=3),
                status=OrderStatus.APPROVED,
                sales_rep=hospital.sales_rep,
                approved_at=timezone.now(),
            )
            line = SalesOrderLine(
                order=order,
                line_no=1,
                product=product,
                quantity=2,
                unit_price=product.list_price,
                tax_rate=product.tax_rate,
            )
            line.compute_amounts()
            line.save()
            order.recompute_totals([line])
            order.save()
            services.order_allocate(order=order, user=warehouse_user)
            shipment = services.shipment_create(order=order, user=warehouse_user)
            shipment = services.shipment_dispatch(
                shipment=shipment,
                user=warehouse_user,
                carrier="顺丰冷运" if cold else "顺丰速运",
                tracking_number=f"SF{rng.randrange(10**11, 10**12)}",
                expected_arrival_at=timezone.now() + timedelta(days=1),
            )
            shipped.append(shipment)
            if cold:
                start = timezone.now() - timedelta(hours=2)
                readings = []
                for probe in ("车厢探头1", "车厢探头2"):
                    for i in range(24):
                        celsius = Decimal("5.0") + Decimal(rng.randrange(-10, 10)) / 10
                        if probe.endswith("1") and i in (10, 11):
                            celsius = Decimal("9.6") + Decimal(i) / 10  # the door stayed open at a stop
                        readings.append(
                            {
                                "probe": probe,
                                "recorded_at": start + timedelta(minutes=5 * i if i < 10 else 45 + 2 * (i - 9)),
                                "celsius": celsius,
                            }
                        )
                services.temperature_readings_record(user=warehouse_user, shipment=shipment, readings=readings)
        if shipped:
            first = shipped[0]
            services.shipment_event_record(
                shipment=first,
                user=warehouse_user,
                status="in_transit",
                occurred_at=timezone.now(),
                place="上海虹桥转运中心",
                source="tms",
                external_id="DEMO-1",
            )
            services.shipment_sign(shipment=first, user=warehouse_user, signed_by="王芳")
            # One unit came back with a damaged box: it waits in the returns zone for quality.
            line = first.lines.order_by("id").first()
            units = list(line.serials.values_list("serial_unit__serial", flat=True)[:1])
            services.shipment_return(
                shipment=first,
                user=warehouse_user,
                warehouse=first.warehouse,
                reason="外包装破损，客户退回",
                lines=[{"shipment_line": line.pk, "quantity": 1, "serials": units}],
            )
    ctx.write(f"  traceability: {receipts} receipts, {Lot.objects.count()} lots, {len(shipped)} shipments")
