"""What a sales order contributes to rule evaluation for ``order.saved``.

The facts follow the contract in the rules documentation: money in integer fen, dates as aware UTC
timestamps, ``None`` as null. Building them costs a fixed number of queries whatever the number of
lines (the lines and products come from the saving service through ``context["lines"]`` when it has
them, else from one query).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connections, router
from django.utils import timezone

from erp.kernel.money import fen
from masterdata.models import Party, PartyKind, Product, Tracking, Warehouse
from orders.models import OrderStatus, PaymentTerms, SalesOrder, SalesOrderLine

DUPLICATE_WINDOW = dt.timedelta(hours=24)
_UTC = dt.UTC


def day_timestamp(day: dt.date | None) -> dt.datetime | None:
    """A calendar day as the aware UTC timestamp of its local midnight."""
    if day is None:
        return None
    local = dt.datetime.combine(day, dt.time.min, tzinfo=ZoneInfo(settings.TIME_ZONE))
    return local.astimezone(_UTC)


def party_facts(party: Party | None) -> dict | None:
    if party is None:
        return None
    has_contact = bool(party.contact_name.strip()) and bool(party.contact_phone.strip() or party.contact_email.strip())
    return {
        "id": party.pk,
        "code": party.code,
        "name": party.name,
        "kind": party.kind,
        "is_active": party.is_active,
        "uscc": party.uscc,
        "has_uscc": bool(party.uscc),
        "has_address": bool(party.address.strip()),
        "has_contact": has_contact,
        "region_code": party.region_code,
        "province_code": f"{party.region_code[:2]}0000" if party.region_code else "",
        "is_hospital": party.is_hospital,
        "is_military": party.is_military,
        "is_public": party.is_public,
        "bed_count": party.bed_count,
        "min_shelf_life_days": party.min_shelf_life_days,
        "min_shelf_life_pct": party.min_shelf_life_pct,
    }


def product_facts(product: Product) -> dict:
    return {
        "id": product.pk,
        "sku": product.sku,
        "name": product.name_zh,
        "device_class": int(product.device_class),
        "catalogue_code": product.catalogue_code,
        "is_active": product.is_active,
        "is_cold_chain": product.is_cold_chain,
        "is_implant": product.is_implant,
        "is_serialised": product.is_serialised,
        "shelf_life_days": product.shelf_life_days,
        "storage_min_c": float(product.storage_min_c) if product.storage_min_c is not None else None,
        "storage_max_c": float(product.storage_max_c) if product.storage_max_c is not None else None,
        "udi_di": product.udi_di or "",
        "class2_filing_exempt": product.class2_filing_exempt,
    }


def below_list_pct(line: SalesOrderLine) -> float:
    """How far the effective net unit price is below the product's list price, in % (0 if not below)."""
    list_price = line.product.list_price
    if not list_price:
        return 0.0
    effective = line.unit_price * (Decimal("100") - line.discount_pct) / Decimal("100")
    if effective >= list_price:
        return 0.0
    return round(float((list_price - effective) / list_price * 100), 2)


def line_facts(line: SalesOrderLine) -> dict:
    return {
        "line_no": line.line_no,
        "key": f"L{line.line_no}",
        "product_id": line.product_id,
        "sku": line.product.sku,
        "quantity": line.quantity,
        "unit_price_fen": fen(line.unit_price),
        "list_price_fen": fen(line.product.list_price),
        "discount_pct": float(line.discount_pct),
        "net_fen": fen(line.net_amount),
        "below_list_pct": below_list_pct(line),
        "requested_lot": line.requested_lot,
        "min_shelf_life_days": line.min_shelf_life_days,
        "min_shelf_life_pct": line.min_shelf_life_pct,
        # Beyond the contract's shape: the per-line view of order.price_changed_after_submit.
        "price_changed_after_submit": line.price_changed_after_submit,
        "product": product_facts(line.product),
    }


def duplicate_count(order: SalesOrder, lines: list[SalesOrderLine]) -> int:
    """Other non-cancelled orders of the same customer within 24 h with the same (product, quantity)
    lines: one query on the stored line signature (indexed with the customer and creation time).

    The query names only the customer and the signature; the 24 h window and the status are applied
    here. With the window in SQL, PostgreSQL estimated "created in the last day" from statistics that end
    before today (always one row), and at times walked the customer's (customer, -created_at) index
    through every order of the day instead: 7 ms of database time per save at 20k orders of one
    customer. The same-signature orders of one customer are few (a standing order repeated weekly is
    a few hundred over years).
    """
    signature = SalesOrder.signature_of((line.product_id, line.quantity) for line in lines)
    if not signature:
        return 0
    created = order.created_at or timezone.now()
    earliest, latest = created - DUPLICATE_WINDOW, created + DUPLICATE_WINDOW
    # Plain SQL: it runs on every save, and building it through the ORM cost more than answering it.
    table = SalesOrder._meta.db_table
    with connections[router.db_for_read(SalesOrder)].cursor() as cursor:
        cursor.execute(
            f"SELECT created_at, status FROM {table} WHERE customer_id = %s AND lines_signature = %s AND id <> %s",
            [order.customer_id, signature, order.pk or 0],
        )
        rows = cursor.fetchall()
    return sum(1 for at, status in rows if earliest <= at <= latest and status != OrderStatus.CANCELLED)


# What each fact means, for the catalogue rule authors read (exceptions_center.facts_catalogue);
# names, types and examples come from ``samples()``.
_PARTY = {
    "": ("客户方（对象）", "the party (object)"),
    "id": ("内部编号", "internal id"),
    "code": ("客户编码", "party code"),
    "name": ("名称", "name"),
    "kind": ("类型（customer/supplier…）", "kind (customer, supplier…)"),
    "is_active": ("是否启用", "the party is active"),
    "uscc": ("统一社会信用代码", "unified social credit code"),
    "has_uscc": ("已填写统一社会信用代码", "has a social credit code"),
    "has_address": ("已填写地址", "has an address"),
    "has_contact": ("有联系人及电话或邮箱", "has a contact name and phone or e-mail"),
    "region_code": ("行政区划代码", "administrative region code"),
    "province_code": ("省级区划代码（前两位+0000）", "province code (first two digits + 0000)"),
    "is_hospital": ("是否医院", "is a hospital"),
    "is_military": ("是否军队单位", "is a military unit"),
    "is_public": ("是否公立", "is a public institution"),
    "bed_count": ("床位数（可为空）", "number of beds (or null)"),
    "min_shelf_life_days": ("最短剩余效期天数要求（可为空）", "minimum remaining shelf life in days (or null)"),
    "min_shelf_life_pct": ("最短剩余效期百分比要求（可为空）", "minimum remaining shelf life in % (or null)"),
}
_PRODUCT = {
    "id": ("产品内部编号", "product id"),
    "sku": ("产品编码", "product SKU"),
    "name": ("产品名称（中文）", "product name (Chinese)"),
    "device_class": ("医疗器械类别（1-3）", "device class (1-3)"),
    "catalogue_code": ("分类目录编码", "classification catalogue code"),
    "is_active": ("产品是否启用", "the product is active"),
    "is_cold_chain": ("冷链产品", "needs the cold chain"),
    "is_implant": ("植入类产品", "is an implant"),
    "is_serialised": ("按序列号管理", "tracked by serial number"),
    "shelf_life_days": ("有效期天数（可为空）", "shelf life in days (or null)"),
    "storage_min_c": ("最低储存温度 °C（可为空）", "lowest storage temperature °C (or null)"),
    "storage_max_c": ("最高储存温度 °C（可为空）", "highest storage temperature °C (or null)"),
    "udi_di": ("UDI-DI", "UDI device identifier"),
    "class2_filing_exempt": ("二类备案豁免", "class II filing exempt"),
}
ORDER_FACT_DESCRIPTIONS: dict[str, tuple[str, str]] = {
    "order": ("销售订单（对象）", "the sales order (object)"),
    "order.id": ("订单内部编号", "order id"),
    "order.number": ("订单号", "order number"),
    "order.status": ("订单状态", "order status"),
    "order.is_new": ("本次保存创建了订单", "this save created the order"),
    "order.currency": ("币种", "currency"),
    "order.customer_po": ("客户采购单号", "customer's purchase order number"),
    "order.contract_ref": ("合同号", "contract reference"),
    "order.payment_terms": ("付款条件", "payment terms"),
    "order.net_fen": ("不含税金额（分）", "net amount in fen"),
    "order.tax_fen": ("税额（分）", "tax amount in fen"),
    "order.gross_fen": ("含税金额（分）", "gross amount in fen"),
    "order.line_count": ("行数", "number of lines"),
    "order.requested_delivery_date": ("要求交货日期（可为空）", "requested delivery date (or null)"),
    "order.days_to_delivery": ("距要求交货日的天数（可为空）", "days from today to the requested delivery (or null)"),
    "order.created_at": ("创建时间", "created at"),
    "order.submitted": ("已提交（非草稿）", "submitted (not a draft)"),
    "order.price_changed_after_submit": ("提交后有行改价", "a line's price changed after submission"),
    "order.duplicate_count": (
        "24小时内同一客户相同行的其他订单数",
        "other orders of the customer within 24 h with the same lines",
    ),
    "order.lines": ("订单行（列表）", "the order lines (list)"),
    "order.lines[].line_no": ("行号", "line number"),
    "order.lines[].key": ("行键（L1、L2…），用作明细键", "line key (L1, L2…), a stable detail key"),
    "order.lines[].product_id": ("产品内部编号", "product id"),
    "order.lines[].sku": ("产品编码", "product SKU"),
    "order.lines[].quantity": ("数量", "quantity"),
    "order.lines[].unit_price_fen": ("单价（分）", "unit price in fen"),
    "order.lines[].list_price_fen": ("目录价（分）", "list price in fen"),
    "order.lines[].discount_pct": ("折扣 %", "discount in %"),
    "order.lines[].net_fen": ("行金额（分）", "line net amount in fen"),
    "order.lines[].below_list_pct": ("实际净价低于目录价的百分比", "how far the net unit price is below list, in %"),
    "order.lines[].requested_lot": ("指定批号", "requested lot number"),
    "order.lines[].min_shelf_life_days": ("本行最短剩余效期天数（可为空）", "the line's minimum shelf life in days"),
    "order.lines[].min_shelf_life_pct": ("本行最短剩余效期 %（可为空）", "the line's minimum shelf life in %"),
    "order.lines[].price_changed_after_submit": ("提交后本行改价", "this line's price changed after submission"),
    "order.lines[].product": ("产品（对象）", "the product (object)"),
    **{f"order.lines[].product.{name}": text for name, text in _PRODUCT.items()},
    **{f"customer.{name}".rstrip("."): text for name, text in _PARTY.items()},
    **{f"ship_to.{name}".rstrip("."): text for name, text in _PARTY.items()},
    "ship_to": ("收货方（对象，未指定时为 null）", "the ship-to party (object, or null when none)"),
    "customer": ("客户（对象）", "the customer (object)"),
    "warehouse": ("发货仓库（对象）", "the shipping warehouse (object)"),
    "warehouse.id": ("仓库内部编号", "warehouse id"),
    "warehouse.code": ("仓库编码", "warehouse code"),
    "warehouse.is_cold_storage": ("冷库", "is a cold store"),
    "warehouse.region_code": ("仓库行政区划代码", "warehouse region code"),
}


class OrderFacts:
    """Facts of a sales order for ``order.saved``: header, totals, dates, lines with their product, the
    customer, the ship-to party and the warehouse."""

    roots = ("order", "customer", "ship_to", "warehouse")
    descriptions = ORDER_FACT_DESCRIPTIONS

    def build(self, *, source: SalesOrder, facts: dict, context: dict) -> None:
        order = source
        lines = context.get("lines") if context else None
        if lines is None:
            lines = list(SalesOrderLine.objects.filter(order_id=order.pk).select_related("product").order_by("line_no"))
        else:
            lines = sorted(lines, key=lambda line: line.line_no)
        if SalesOrder.customer.is_cached(order) and (order.ship_to_id is None or SalesOrder.ship_to.is_cached(order)):
            customer, ship_to = order.customer, order.ship_to
        else:
            parties = Party.objects.in_bulk([pk for pk in (order.customer_id, order.ship_to_id) if pk])
            customer, ship_to = parties.get(order.customer_id), parties.get(order.ship_to_id)
        warehouse: Warehouse = order.warehouse
        today = timezone.localdate()
        line_list = [line_facts(line) for line in lines]
        facts["order"] = {
            "id": order.pk,
            "number": order.number,
            "status": order.status,
            "is_new": bool(context.get("is_new", False)) if context else False,
            "currency": order.currency,
            "customer_po": order.customer_po,
            "contract_ref": order.contract_ref,
            "payment_terms": order.payment_terms,
            "net_fen": fen(order.net_amount),
            "tax_fen": fen(order.tax_amount),
            "gross_fen": fen(order.gross_amount),
            "line_count": len(line_list),
            "requested_delivery_date": day_timestamp(order.requested_delivery_date),
            "days_to_delivery": (
                (order.requested_delivery_date - today).days if order.requested_delivery_date else None
            ),
            "created_at": order.created_at,
            "submitted": order.status != OrderStatus.DRAFT,
            "price_changed_after_submit": any(line["price_changed_after_submit"] for line in line_list),
            "duplicate_count": duplicate_count(order, lines),
            "lines": line_list,
        }
        facts["customer"] = party_facts(customer)
        facts["ship_to"] = party_facts(ship_to)
        facts["warehouse"] = {
            "id": warehouse.pk,
            "code": warehouse.code,
            "is_cold_storage": warehouse.is_cold_storage,
            "region_code": warehouse.region_code,
        }

    def samples(self) -> list[dict]:
        """Realistic fragments on both sides of the usual conditions (rule save-time dry runs)."""
        now = dt.datetime(2026, 3, 2, 2, 0, tzinfo=_UTC)

        def product(pid, sku, **over):
            base = {
                "id": pid,
                "sku": sku,
                "name": "一次性使用输液器",
                "device_class": 2,
                "catalogue_code": "14-02-01",
                "is_active": True,
                "is_cold_chain": False,
                "is_implant": False,
                "is_serialised": False,
                "shelf_life_days": 730,
                "storage_min_c": None,
                "storage_max_c": None,
                "udi_di": "06901234567892",
                "class2_filing_exempt": False,
            }
            return {**base, **over}

        def line(no, prod, *, qty=10, price=1250, list_price=1250, discount=0.0, below=0.0, changed=False, **over):
            base = {
                "line_no": no,
                "key": f"L{no}",
                "product_id": prod["id"],
                "sku": prod["sku"],
                "quantity": qty,
                "unit_price_fen": price,
                "list_price_fen": list_price,
                "discount_pct": discount,
                "net_fen": int(qty * price * (100 - discount) / 100),
                "below_list_pct": below,
                "requested_lot": "",
                "min_shelf_life_days": None,
                "min_shelf_life_pct": None,
                "price_changed_after_submit": changed,
                "product": prod,
            }
            return {**base, **over}

        def party(pid, code, **over):
            base = {
                "id": pid,
                "code": code,
                "name": "上海市第一人民医院",
                "kind": "hospital",
                "is_active": True,
                "uscc": "12310000425024389E",
                "has_uscc": True,
                "has_address": True,
                "has_contact": True,
                "region_code": "310101",
                "province_code": "310000",
                "is_hospital": True,
                "is_military": False,
                "is_public": True,
                "bed_count": 1800,
                "min_shelf_life_days": 180,
                "min_shelf_life_pct": None,
            }
            return {**base, **over}

        def order(oid, lines, **over):
            net = sum(item["net_fen"] for item in lines)
            base = {
                "id": oid,
                "number": f"SO-2026-{oid:06d}",
                "status": "draft",
                "is_new": True,
                "currency": "CNY",
                "customer_po": "PO-88",
                "contract_ref": "",
                "payment_terms": "net90",
                "net_fen": net,
                "tax_fen": net * 13 // 100,
                "gross_fen": net + net * 13 // 100,
                "line_count": len(lines),
                "requested_delivery_date": now + dt.timedelta(days=10),
                "days_to_delivery": 10,
                "created_at": now,
                "submitted": False,
                "price_changed_after_submit": False,
                "duplicate_count": 0,
                "lines": lines,
            }
            return {**base, **over}

        warehouse = {"id": 1, "code": "WH01", "is_cold_storage": True, "region_code": "310115"}
        infusion = product(1, "SKU-INF-01")
        reagent = product(
            2,
            "SKU-IVD-02",
            name="肌钙蛋白检测试剂盒",
            catalogue_code="6840",
            is_cold_chain=True,
            storage_min_c=2.0,
            storage_max_c=8.0,
            shelf_life_days=365,
            udi_di="06901234567809",
        )
        stent = product(
            3,
            "SKU-STENT-03",
            name="冠状动脉支架",
            device_class=3,
            catalogue_code="03-13",
            is_implant=True,
            is_serialised=True,
            is_active=False,
            shelf_life_days=None,
            udi_di="",
        )
        hospital = party(11, "C-HOSP")
        distributor = party(
            12,
            "C-DIST",
            name="浙江康达医疗器械有限公司",
            kind="distributor",
            uscc="",
            has_uscc=False,
            region_code="330106",
            province_code="330000",
            is_hospital=False,
            is_public=False,
            bed_count=None,
            min_shelf_life_days=None,
            min_shelf_life_pct=60,
        )
        clinic = party(
            13,
            "C-CLINIC",
            name="北京和睦门诊部",
            kind="retailer",
            is_active=False,
            has_address=False,
            has_contact=False,
            region_code="110105",
            province_code="110000",
            is_hospital=False,
            is_public=False,
            bed_count=None,
        )
        military = party(14, "C-MIL", name="解放军某医院", uscc="A1310000MB0000001X", is_military=True, bed_count=90)
        return [
            {
                # A hospital orders at list price, well ahead: nothing should fire.
                "order": order(1, [line(1, infusion), line(2, reagent, qty=5, price=88000, list_price=88000)]),
                "customer": hospital,
                "ship_to": None,
                "warehouse": warehouse,
            },
            {
                # A distributor without USCC orders for a hospital in another province: a cold-chain line
                # due tomorrow, an inactive implant 20 % below list, a price changed after submission.
                "order": order(
                    2,
                    [
                        line(1, reagent, qty=40, price=88000, list_price=88000),
                        line(2, stent, qty=2, price=1200000, list_price=1500000, below=20.0, changed=True),
                    ],
                    status="submitted",
                    is_new=False,
                    submitted=True,
                    price_changed_after_submit=True,
                    duplicate_count=1,
                    requested_delivery_date=now + dt.timedelta(days=1),
                    days_to_delivery=1,
                    contract_ref="HT-2026-017",
                ),
                "customer": distributor,
                "ship_to": military,
                "warehouse": {**warehouse, "is_cold_storage": False, "region_code": "330106"},
            },
            {
                # An inactive clinic without address or contact, delivery date already past, discount.
                "order": order(
                    3,
                    [line(1, infusion, qty=1000, price=1250, discount=5.0, below=5.0, requested_lot="2403A1")],
                    requested_delivery_date=now - dt.timedelta(days=3),
                    days_to_delivery=-3,
                    payment_terms="prepaid",
                ),
                "customer": clinic,
                "ship_to": hospital,
                "warehouse": warehouse,
            },
            {
                # No delivery date and a single line: null-handling side of date conditions.
                "order": order(
                    4,
                    [line(1, stent, qty=1, price=1500000, list_price=1500000, min_shelf_life_days=365)],
                    requested_delivery_date=None,
                    days_to_delivery=None,
                    status="approved",
                    submitted=True,
                    is_new=False,
                ),
                "customer": military,
                "ship_to": None,
                "warehouse": warehouse,
            },
        ]


ORDER_FACTS = OrderFacts()


def fact_value_labels() -> dict[str, dict[str, str]]:
    """Readable labels of the coded values the order facts carry (the order's status and payment terms,
    the customer's kind, the products' tracking), for the facts card of the event page
    (``exceptions_center.fact_value_labels``)."""
    return {
        "status": dict(OrderStatus.choices),
        "payment_terms": dict(PaymentTerms.choices),
        "kind": dict(PartyKind.choices),
        "tracking": dict(Tracking.choices),
    }
