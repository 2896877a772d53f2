"""Demo sales orders for ``manage.py seed_demo`` (step ``orders.demo.seed``).

The demo reps enter orders through ``orders.services`` as they would in the browser, so the shipped
rules run and the queues have work in them: a clean order that is submitted and approved (and so
allocated), a price far below list (medium, sales-management then finance approval), a distributor
ordering for a hospital in another province (medium), a large order above the approval threshold
(medium), a new customer whose credit code and contact are not on file yet (high, blocking: compliance
and sales in parallel) and a cold-chain order wanted tomorrow (logistics). Skips itself when its orders
exist.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from django.utils import timezone

from erp.kernel.errors import DomainError
from erp.management.commands.demo_users import ensure_demo_users
from masterdata.models import Party, Product, Warehouse
from masterdata.services import party_create
from orders import services
from orders.models import SalesOrder

DEMO_PO_PREFIX = "DEMO-"


def seed(ctx) -> None:
    """Enter the demo orders as sales1 / sales2; manager1 approves the clean one (in the warehouse the
    traceability step stocked, ``ctx.data["order_stock"]``, so it allocates)."""
    if SalesOrder.objects.filter(customer_po__startswith=DEMO_PO_PREFIX).exists():
        ctx.write("  orders: demo orders exist, nothing to do")
        return
    users = ctx.data.get("users") or ensure_demo_users()
    sales1, sales2, manager = users["sales1"], users["sales2"], users["manager1"]
    parties = {
        p.code: p
        for p in Party.objects.filter(code__in=["H-SH-001", "H-ZJ-001", "H-JS-001", "D-SH-001", "H-BJ-001", "H-GD-001"])
    }
    ambient, products = ctx.data.get("order_stock") or _ambient_warehouse()
    cold = Warehouse.objects.filter(is_active=True, is_cold_storage=True).order_by("code").first()
    cold_product = next((p for p in Product.objects.filter(is_active=True).order_by("sku") if p.is_cold_chain), None)
    if len(parties) < 6 or ambient is None or cold is None or len(products) < 4 or cold_product is None:
        ctx.write("  orders: master data missing, skipped")
        return
    today = timezone.localdate()

    def enter(user, po: str, customer, warehouse, lines, **header):
        return services.order_create(
            user=user,
            customer=customer,
            warehouse=warehouse,
            customer_po=f"{DEMO_PO_PREFIX}{po}",
            requested_delivery_date=header.pop("delivery", today + timedelta(days=14)),
            lines=lines,
            **header,
        )

    entered = []
    # 1. A clean order, submitted by the rep and approved by the manager (approval allocates stock).
    clean = enter(sales1, "001", parties["H-SH-001"], ambient, [{"product": p, "quantity": 5} for p in products[:3]])
    entered.append(clean)
    try:
        submitted = services.order_submit(order=clean, user=sales1)
        services.order_approve(order=submitted, user=manager)
    except DomainError as exc:  # held by a stock rule when the demo warehouse lacks stock: leave it
        ctx.write(f"  orders: {clean.number} stays as entered ({exc.code})")
    # 2. A price 30 % below list: medium, sales management then finance.
    cheap = products[0]
    entered.append(
        enter(
            sales1,
            "002",
            parties["H-ZJ-001"],
            ambient,
            [
                {
                    "product": cheap,
                    "quantity": 20,
                    "unit_price": (cheap.list_price * Decimal("0.7")).quantize(Decimal("0.0001")),
                }
            ],
        )
    )
    # 3. A distributor ordering for a hospital in another province.
    entered.append(
        enter(
            sales1,
            "003",
            parties["D-SH-001"],
            ambient,
            [{"product": products[1], "quantity": 10}],
            ship_to=parties["H-BJ-001"],
            ship_to_address=parties["H-BJ-001"].address,
        )
    )
    # 4. A large order above the approval threshold.
    big = Product.objects.filter(is_active=True, list_price__gt=0).order_by("-list_price", "sku").first()
    quantity = int(Decimal("600000") / big.list_price) + 1
    entered.append(enter(sales1, "004", parties["H-JS-001"], ambient, [{"product": big, "quantity": quantity}]))
    # 5. A new customer whose credit code and contact are not on file yet: high, blocking.
    newcomer = party_create(
        user=sales1,
        reason="demo: new customer, documents pending",
        code="H-SH-009",
        name="上海市浦东新区社区卫生服务中心",
        name_en="Pudong Community Health Centre",
        kind="hospital",
        region_code="310115",
        address="上海市浦东新区锦绣路100号",
        bed_count=60,
        is_public=True,
    )
    entered.append(enter(sales1, "005", newcomer, ambient, [{"product": products[3], "quantity": 8}]))
    # 6. A cold-chain product wanted tomorrow (sales2's customer in Guangdong).
    entered.append(
        enter(
            sales2,
            "006",
            parties["H-GD-001"],
            cold,
            [{"product": cold_product, "quantity": 4}],
            delivery=today + timedelta(days=1),
        )
    )
    held = sum(1 for order in SalesOrder.objects.filter(pk__in=[o.pk for o in entered]) if order.is_held)
    ctx.write(f"  orders: {len(entered)} demo orders entered, {held} held by their exception events")


def _ambient_warehouse():
    """Without stock (the traceability step left no ``order_stock``): the first ambient warehouse and
    four ambient products."""
    warehouse = Warehouse.objects.filter(is_active=True, is_cold_storage=False).order_by("code").first()
    return warehouse, list(Product.objects.filter(is_active=True, storage_max_c__isnull=True).order_by("sku")[:4])
