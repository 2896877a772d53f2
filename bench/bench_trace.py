"""Traceability benchmarks (issue 4). Prints figures; asserts nothing but the safety invariants.

    psql -h 127.0.0.1 -U postgres -c "create database erp_bench_trace"
    ERP_TESTING=1 DATABASE_URL=postgresql://postgres@127.0.0.1:5432/erp_bench_trace \\
        .venv/bin/python bench/bench_trace.py [--only receive,trace,allocate] [--orders 200000]

1. receive: 10,000 serialised units in ONE API request (``POST /api/v1/traceability/receipts/``),
   through the whole stack (auth, parsing, checks, bulk writes with history). Target ≤ 10 s.
2. trace: forward trace of a lot shipped in 10,000 orders among 1,000,000 shipment lines (orders,
   order lines, shipments, shipment lines and trace edges generated with INSERT … SELECT from template
   rows, so every NOT NULL column is filled as the ORM would). Target p95 ≤ 100 ms.
3. allocate: 10 concurrent clients (threads, each with its own PostgreSQL connection) allocating
   20-line orders against the same lots: orders/s, then a check that no unit was allocated twice
   (allocations per balance = reserved ≤ on hand).

Use a dedicated database: the script migrates it and leaves its data behind (re-runs add more).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import threading
import time
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "erp.settings")
os.environ.setdefault("ERP_TESTING", "1")

import django

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.db.models import F, Sum  # noqa: E402
from django.utils import timezone  # noqa: E402

from masterdata.models import Party, PartyKind, Product, Region, Tracking, Warehouse  # noqa: E402
from masterdata.validators import gtin_check_digit  # noqa: E402

RUN = int(time.time()) % 1_000_000


def _gtin(seq: int) -> str:
    body = f"0697{seq:09d}"
    return body + gtin_check_digit(body)


def _party(code: str, kind: str, name: str) -> Party:
    province = Region.objects.get(code="310000")
    party, _ = Party.objects.get_or_create(
        code=code,
        defaults={
            "name": name,
            "kind": kind,
            "region_code": "310101",
            "province": province,
            "address": "上海市黄浦区1号",
            "contact_name": "王芳",
            "contact_phone": "021-1",
            "bed_count": None,
        },
    )
    return party


def _warehouse(code: str, cold: bool = True) -> Warehouse:
    wh = Warehouse.objects.filter(code=code).first()
    if wh is None:
        wh = Warehouse(
            code=code, name=code, region_code="310115", address="上海市浦东新区张江路1号", is_cold_storage=cold
        )
        wh.save()
    return wh


def _product(seq: int, tracking=Tracking.LOT) -> Product:
    registrant = _party("BENCH-REG", PartyKind.MANUFACTURER, "基准注册人")
    product, _ = Product.objects.get_or_create(
        sku=f"BENCH-{seq}",
        defaults={
            "name_zh": f"基准产品{seq}",
            "udi_di": _gtin(seq),
            "device_class": 2,
            "catalogue_code": "14-02-01",
            "tracking": tracking,
            "shelf_life_days": 1000,
            "list_price": Decimal("10"),
            "registrant": registrant,
            "registration_number": f"沪械注准2020214{seq % 10000:04d}",
        },
    )
    if not product.registration_number:  # a bench database seeded before products carried numbers
        product.registration_number = f"沪械注准2020214{seq % 10000:04d}"
        product.save(update_fields=["registration_number"])
    return product


def _user(role: str):
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group

    user, created = get_user_model().objects.get_or_create(username=f"bench-{role}")
    if created:
        user.set_unusable_password()
        user.save()
        user.groups.add(Group.objects.get(name=role))
    return user


def pct(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, round(p / 100 * (len(values) - 1)))]


# --- 1. receive ------------------------------------------------------------------------------------


def bench_receive(runs: int = 3, units: int = 10_000) -> None:
    from knox.models import AuthToken
    from rest_framework.test import APIClient

    from traceability.models import SerialUnit

    user = _user("integrator")
    _row, token = AuthToken.objects.create(user=user, expiry=timedelta(hours=2))
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    supplier = _party("BENCH-SUP", PartyKind.SUPPLIER, "基准供应商")
    warehouse = _warehouse("BENCH-WH")
    product = _product(1, Tracking.SERIAL)
    expiry = (timezone.localdate() + timedelta(days=700)).strftime("%y%m%d")
    times = []
    for run in range(runs):
        lot = f"R{RUN}{run}"
        scans = [f"]d201{product.udi_di}17{expiry}10{lot}\x1d21S{RUN}{run}{i:06d}" for i in range(units)]
        body = {"supplier": supplier.pk, "warehouse": warehouse.pk, "scans": scans}
        started = time.perf_counter()
        response = client.post("/api/v1/traceability/receipts/", body, format="json")
        elapsed = time.perf_counter() - started
        assert response.status_code == 201, response.content[:500]
        assert SerialUnit.objects.filter(lot__lot_number=lot).count() == units
        assert (
            SerialUnit.history.filter(
                lot_id=SerialUnit.objects.filter(lot__lot_number=lot).values("lot_id")[:1]
            ).count()
            == units
        )
        times.append(elapsed)
        print(f"  receive run {run + 1}: {units} serialised units in one API request: {elapsed:.2f} s")
    print(
        f"RECEIVE 10k serials/request: best {min(times):.2f} s, median {statistics.median(times):.2f} s (target ≤ 10 s)"
    )


# --- 2. trace --------------------------------------------------------------------------------------


def _clone_sql(table: str, overrides: dict[str, str], source: str, where: str = "") -> str:
    """INSERT … SELECT copying every column of a template row except id, with SQL overrides."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_name = %s AND column_name <> 'id' "
            "ORDER BY ordinal_position",
            [table],
        )
        columns = [r[0] for r in cursor.fetchall()]
    select = ", ".join(overrides.get(c, f"t.{c}") for c in columns)
    return f"INSERT INTO {table} ({', '.join(columns)}) SELECT {select} FROM {source} {where}"


def _trace_data(orders: int, lines_per_order: int, target_orders: int):
    """Build the data set once (marker: the target lot exists with its edges)."""
    from orders.models import OrderStatus, SalesOrder, SalesOrderLine
    from traceability.models import Lot, LotStatus, Shipment, ShipmentLine, TraceEdge

    warehouse = _warehouse("BENCH-TR")
    product = _product(2)
    target = Lot.objects.filter(product=product, lot_number="TARGET").first()
    if target and TraceEdge.objects.filter(lot=target).exists():
        return target
    started = time.perf_counter()
    province = Region.objects.get(code="310000")
    customers = Party.objects.bulk_create(
        [
            Party(
                code=f"BC{i:05d}",
                name=f"基准医院{i}",
                kind=PartyKind.HOSPITAL,
                region_code="310101",
                province=province,
                address="上海",
                contact_name="张",
                contact_phone="021",
            )
            for i in range(1000)
        ],
        ignore_conflicts=True,
    )
    first_customer = Party.objects.filter(code="BC00000").values_list("id", flat=True).get()
    expiry = timezone.localdate() + timedelta(days=600)
    target = Lot.objects.create(product=product, lot_number="TARGET", expiry_date=expiry, status=LotStatus.RELEASED)
    others = Lot.objects.bulk_create(
        [
            Lot(product=product, lot_number=f"O{i:05d}", expiry_date=expiry, status=LotStatus.RELEASED)
            for i in range(4999)
        ]
    )
    first_other = min(lot.pk for lot in others)
    # Template rows written by the ORM (every NOT NULL column filled the way the app fills it).
    o0 = SalesOrder.objects.create(
        number="BSO-TEMPLATE", customer_id=first_customer, warehouse=warehouse, status=OrderStatus.SHIPPED
    )
    ol0 = SalesOrderLine(
        order=o0, line_no=1, product=product, quantity=1, unit_price=Decimal("10"), tax_rate=Decimal("0.13")
    )
    ol0.compute_amounts()
    ol0.save()
    s0 = Shipment.objects.create(
        number="BSH-TEMPLATE",
        order=o0,
        warehouse=warehouse,
        customer_id=first_customer,
        status="delivered",
        dispatched_at=timezone.now(),
    )
    sl0 = ShipmentLine.objects.create(
        shipment=s0,
        order_line=ol0,
        product=product,
        lot=target,
        quantity=1,
        product_name="x",
        unit_price=Decimal("10"),
        amount=Decimal("10"),
        lot_number="TARGET",
        expiry_date=expiry,
        buyer_name="x",
        buyer_address="x",
        buyer_contact="x",
    )
    e0 = TraceEdge.objects.create(
        kind="shipment",
        product=product,
        lot=target,
        party_id=first_customer,
        warehouse=warehouse,
        quantity=1,
        shipment_line=sl0,
        shipment=s0,
        order=o0,
        document_ref="BSH-TEMPLATE",
        occurred_at=timezone.now(),
    )
    step = orders // target_orders
    with connection.cursor() as cursor:
        cursor.execute(
            _clone_sql(
                "orders_salesorder",
                {
                    "number": "'BSO-' || g",
                    "customer_id": f"{first_customer} + (g % 1000)",
                    "created_at": "now() - (g % 365) * interval '1 day'",
                },
                f"orders_salesorder t CROSS JOIN generate_series(1, {orders}) g",
                f"WHERE t.id = {o0.pk}",
            )
        )
        print(f"  orders: {time.perf_counter() - started:.0f} s")
        cursor.execute(
            _clone_sql(
                "orders_salesorderline",
                {"order_id": "o.id", "line_no": "n"},
                "orders_salesorderline t CROSS JOIN orders_salesorder o "
                f"CROSS JOIN generate_series(1, {lines_per_order}) n",
                f"WHERE t.id = {ol0.pk} AND o.number LIKE 'BSO-%%' AND o.id <> {o0.pk}",
            )
        )
        print(f"  order lines: {time.perf_counter() - started:.0f} s")
        cursor.execute(
            _clone_sql(
                "traceability_shipment",
                {
                    "order_id": "o.id",
                    "number": "'BSH-' || o.id",
                    "customer_id": "o.customer_id",
                    "dispatched_at": "o.created_at",
                    "created_at": "o.created_at",
                },
                "traceability_shipment t CROSS JOIN orders_salesorder o",
                f"WHERE t.id = {s0.pk} AND o.number LIKE 'BSO-%%' AND o.id <> {o0.pk}",
            )
        )
        print(f"  shipments: {time.perf_counter() - started:.0f} s")
        # The first line of every ``step``-th order ships the target lot: 10,000 orders.
        lot_expr = (
            f"CASE WHEN ol.line_no = 1 AND (substr(o.number, 5)::int % {step}) = 0 THEN {target.pk} "
            f"ELSE {first_other} + (ol.id % 4999) END"
        )
        cursor.execute(
            _clone_sql(
                "traceability_shipmentline",
                {"shipment_id": "s.id", "order_line_id": "ol.id", "lot_id": lot_expr, "quantity": "1 + (ol.id % 5)"},
                "traceability_shipmentline t CROSS JOIN orders_salesorderline ol "
                "JOIN orders_salesorder o ON o.id = ol.order_id JOIN traceability_shipment s ON s.order_id = o.id",
                f"WHERE t.id = {sl0.pk} AND o.number LIKE 'BSO-%%' AND o.id <> {o0.pk}",
            )
        )
        print(f"  shipment lines: {time.perf_counter() - started:.0f} s")
        cursor.execute(
            _clone_sql(
                "traceability_traceedge",
                {
                    "lot_id": "sl.lot_id",
                    "party_id": "s.customer_id",
                    "shipment_id": "s.id",
                    "shipment_line_id": "sl.id",
                    "order_id": "s.order_id",
                    "quantity": "sl.quantity",
                    "document_ref": "s.number",
                    "occurred_at": "s.dispatched_at",
                },
                "traceability_traceedge t CROSS JOIN traceability_shipmentline sl "
                "JOIN traceability_shipment s ON s.id = sl.shipment_id",
                f"WHERE t.id = {e0.pk} AND s.number LIKE 'BSH-%%' AND s.id <> {s0.pk}",
            )
        )
        print(f"  trace edges: {time.perf_counter() - started:.0f} s")
        cursor.execute(
            "VACUUM ANALYZE orders_salesorder, orders_salesorderline, traceability_shipment, "
            "traceability_shipmentline, traceability_traceedge"
        )
    _ = customers
    return target


def bench_trace(orders: int, runs: int = 60) -> None:
    from traceability.models import ShipmentLine, TraceEdge
    from traceability.selectors import recall_scope, trace_backward, trace_forward

    lines_per_order = 5
    target = _trace_data(orders, lines_per_order, target_orders=10_000)
    total_lines = ShipmentLine.objects.count()
    target_orders = TraceEdge.objects.filter(lot=target, kind="shipment").values("order_id").distinct().count()
    print(f"  data: {total_lines:,} shipment lines; the lot is in {target_orders:,} orders")
    trace_forward(lot=target)  # warm
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        result = trace_forward(lot=target)
        times.append((time.perf_counter() - started) * 1000)
    print(
        f"TRACE forward (customers {len(result['customers'])}, shipped {result['shipped_quantity']:,}, "
        f"{result['shipment_count']:,} shipments): p50 {statistics.median(times):.1f} ms, p95 {pct(times, 95):.1f} ms, "
        f"max {max(times):.1f} ms (target p95 ≤ 100 ms)"
    )
    started = time.perf_counter()
    trace_backward(lot=target)
    print(f"  trace backward: {(time.perf_counter() - started) * 1000:.1f} ms")
    started = time.perf_counter()
    scope = recall_scope(criteria={"lot_ids": [target.pk]})
    print(
        f"  recall scope of the lot ({scope['customer_count']} customers): "
        f"{(time.perf_counter() - started) * 1000:.0f} ms"
    )


# --- 3. allocate -----------------------------------------------------------------------------------


def bench_allocate(clients: int = 10, orders_per_client: int = 20, lines: int = 20) -> None:
    from orders.models import OrderStatus, SalesOrder, SalesOrderLine
    from traceability.models import Allocation, Lot, LotStatus, StockBalance
    from traceability.services import MoveSpec, order_allocate, stock_moves_post

    user = _user("warehouse")
    warehouse = _warehouse(f"BA{RUN}")
    customer = _party("BENCH-CUST", PartyKind.HOSPITAL, "基准客户")
    products = [_product(1000 + RUN % 1000 * 100 + i) for i in range(lines)]
    # Demand: clients × orders × 5 units per line; stock: 3 lots per product covering 80 % of it,
    # so the last orders meet shortages and every lot is contended.
    demand_per_product = clients * orders_per_client * 5
    per_lot = int(demand_per_product * 0.8) // 3
    with transaction.atomic():
        for p in products:
            for k in range(3):
                lot = Lot.objects.create(
                    product=p,
                    lot_number=f"A{RUN}-{k}",
                    status=LotStatus.RELEASED,
                    expiry_date=timezone.localdate() + timedelta(days=400 + 30 * k),
                )
                stock_moves_post(
                    moves=[
                        MoveSpec(
                            kind="adjustment",
                            product_id=p.pk,
                            lot_id=lot.pk,
                            warehouse_id=warehouse.pk,
                            on_hand_delta=per_lot,
                        )
                    ],
                    document_type="bench",
                    document_id=0,
                    document_ref="BENCH",
                    user=None,
                )
    all_orders = []
    for c in range(clients):
        batch = []
        for n in range(orders_per_client):
            order = SalesOrder.objects.create(
                number=f"BA-{RUN}-{c}-{n}", customer=customer, warehouse=warehouse, status=OrderStatus.APPROVED
            )
            order_lines = []
            for i, p in enumerate(products, start=1):
                line = SalesOrderLine(
                    order=order, line_no=i, product=p, quantity=5, unit_price=Decimal("10"), tax_rate=Decimal("0.13")
                )
                line.compute_amounts()
                order_lines.append(line)
            SalesOrderLine.objects.bulk_create(order_lines)
            batch.append(order)
        all_orders.append(batch)
    barrier = threading.Barrier(clients)
    errors, latencies = [], []

    def client(batch):
        try:
            barrier.wait()
            for order in batch:
                started = time.perf_counter()
                order_allocate(order=order, user=user)
                latencies.append(time.perf_counter() - started)
        except Exception as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=client, args=(b,)) for b in all_orders]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - started
    total = clients * orders_per_client
    balances = StockBalance.objects.filter(warehouse=warehouse)
    allocated = dict(
        Allocation.objects.filter(warehouse=warehouse)
        .values_list("lot_id")
        .annotate(n=Sum("quantity"))
        .values_list("lot_id", "n")
    )
    mismatches = [b for b in balances if allocated.get(b.lot_id, 0) != b.reserved]
    over = balances.filter(reserved__gt=F("on_hand")).count()
    demanded = total * lines * 5
    reserved = sum(allocated.values())
    print(f"  errors: {len(errors)} {errors[:1]}")
    print(
        f"ALLOCATE {total} orders × {lines} lines by {clients} concurrent clients: {total / elapsed:.1f} orders/s "
        f"({elapsed:.2f} s; latency p50 {statistics.median(latencies) * 1000:.0f} ms, "
        f"p95 {pct(latencies, 95) * 1000:.0f} ms); "
        f"reserved {reserved:,} of {demanded:,} demanded, stock {per_lot * 3 * lines:,}; "
        f"double allocations: {len(mismatches)}, balances over-reserved: {over}"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--only", default="receive,trace,allocate")
    parser.add_argument("--orders", type=int, default=200_000, help="orders for the trace data set (5 lines each)")
    args = parser.parse_args()
    print(f"database: {connection.settings_dict['NAME']}")
    try:
        call_command("migrate", verbosity=0)
    except Exception as exc:  # another app's migration in progress: the traceability tables are enough
        print(f"  migrate failed ({exc.__class__.__name__}: {str(exc)[:80]}); continuing with the current schema")
    wanted = set(args.only.split(","))
    if "receive" in wanted:
        bench_receive()
    if "trace" in wanted:
        bench_trace(args.orders)
    if "allocate" in wanted:
        bench_allocate()


if __name__ == "__main__":
    main()
