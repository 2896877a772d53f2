"""What traceability contributes to rule evaluation.

- ``order.saved``: ``ORDER_STOCK_FACTS`` adds ``stock`` to every ``order.lines`` item (what can be
  allocated in the order's warehouse and elsewhere, near-expiry stock, the requested lot, a suggested
  transfer or purchase) in two queries whatever the number of lines.
- ``shipment.updated``: ``SHIPMENT_FACTS`` (overdue, proof of delivery, discrepancies).
- ``temperature.logged``: ``TEMPERATURE_FACTS`` (open excursions, held lots, gaps, probes).
- ``stock.scan``: ``STOCK_SCAN_FACTS`` (expired stock on hand in a warehouse).
- ``lot.status_changed``: ``LOT_FACTS``.

Values are CEL-friendly: integers, strings, booleans, aware timestamps, null.
"""

from __future__ import annotations

from collections import defaultdict

from django.db import connections, router
from django.db.models import Count, Max, Sum
from django.utils import timezone

from exceptions_center.facts_registry import facts_wanted
from masterdata.models import Warehouse
from orders.models import SalesOrderLine
from traceability.conf import cold_chain_setting, traceability_setting
from traceability.models import (
    Excursion,
    ExcursionKind,
    ExcursionStatus,
    Lot,
    LotStatus,
    Shipment,
    ShipmentStatus,
    StockBalance,
    TemperatureReading,
    required_shelf_life_days,
)


def _stock_sql() -> str:
    """Released, unexpired, available stock of some products in every warehouse, one row per balance:
    (product id, warehouse id, warehouse code, cold storage, lot number, expiry date, available).

    Plain SQL because it runs on every order save, where the ORM's building of this three-table
    query cost several times PostgreSQL's answering it (bench/README.md)."""
    balance, lot, warehouse = StockBalance._meta, Lot._meta, Warehouse._meta
    return (
        f"SELECT b.product_id, b.warehouse_id, w.code, w.is_cold_storage, l.lot_number, l.expiry_date, b.available "
        f"FROM {balance.db_table} b JOIN {lot.db_table} l ON l.id = b.lot_id "
        f"JOIN {warehouse.db_table} w ON w.id = b.warehouse_id "
        f"WHERE b.product_id = ANY(%s) AND b.available > 0 AND l.status = %s AND l.expiry_date > %s"
    )


def _min_days(line: dict, customer: dict | None, ship_to: dict | None) -> int:
    """The line's minimum remaining shelf life (``required_shelf_life_days``, on fact dicts)."""
    return required_shelf_life_days(
        shelf_life_days=(line.get("product") or {}).get("shelf_life_days"),
        line_days=line.get("min_shelf_life_days"),
        line_pct=line.get("min_shelf_life_pct"),
        party_minimums=[
            (party.get("min_shelf_life_days"), party.get("min_shelf_life_pct"))
            for party in (customer, ship_to)
            if party
        ],
    )


class OrderStockFacts:
    """Stock facts for each line of an order (extends ``order.lines`` items with ``stock``)."""

    roots = ()
    # What each fact means, for the catalogue (names, types, examples come from ``samples()``).
    descriptions = {
        "order.lines[].stock": ("本行库存（对象）", "stock for the line (object)"),
        "order.lines[].stock.available": ("发货仓可用数量", "available in the order's warehouse"),
        "order.lines[].stock.available_not_near_expiry": ("可用且未近效期的数量", "available and not near expiry"),
        "order.lines[].stock.near_expiry_available": ("可用但近效期的数量", "available but near expiry"),
        "order.lines[].stock.allocated": ("已分配给本行的数量", "allocated to this line"),
        "order.lines[].stock.shortage": ("缺货数量", "quantity short"),
        "order.lines[].stock.min_shelf_life_days": ("适用的最短剩余效期天数", "minimum shelf life that applies, days"),
        "order.lines[].stock.other_warehouses_available": ("其他仓库可调拨数量", "available in other warehouses"),
        "order.lines[].stock.requested_lot_available": ("指定批号可用数量（可为空）", "requested lot available"),
        "order.lines[].stock.suggestion_zh": ("处理建议（中文）", "suggestion (Chinese)"),
        "order.lines[].stock.suggestion_en": ("处理建议（英文）", "suggestion (English)"),
    }

    def build(self, *, source, facts: dict, context: dict) -> None:
        order = facts.get("order")
        if not order or not facts_wanted(context, "stock"):
            return  # no enabled rule reads the lines' stock: its query is spared
        lines = order.get("lines") or []
        if not lines:
            return
        today = timezone.localdate()
        delivery = max(source.requested_delivery_date or today, today)
        near_days = traceability_setting("NEAR_EXPIRY_DAYS")
        warehouse_id = source.warehouse_id
        product_ids = {line["product_id"] for line in lines}
        # Query 1: released, unexpired stock of these products in every warehouse.
        with connections[router.db_for_read(StockBalance)].cursor() as cursor:
            cursor.execute(_stock_sql(), [sorted(product_ids), LotStatus.RELEASED, delivery])
            rows = cursor.fetchall()
        # Query 2: what each line already holds in reservations.
        allocated = {}
        saved_lines = context.get("lines") if context else None
        if saved_lines is not None:
            # The order service passes the lines it just saved (existing ones read under the order's lock).
            allocated = {line.line_no: line.allocated_quantity or 0 for line in saved_lines}
        elif source.pk:
            allocated = dict(
                SalesOrderLine.objects.filter(order_id=source.pk).values_list("line_no", "allocated_quantity")
            )
        by_product = defaultdict(list)
        for row in rows:
            by_product[row[0]].append(row)
        customer, ship_to = facts.get("customer"), facts.get("ship_to")
        for line in lines:
            line["stock"] = self._line_stock(
                line,
                by_product[line["product_id"]],
                warehouse_id=warehouse_id,
                delivery=delivery,
                near_days=near_days,
                min_days=_min_days(line, customer, ship_to),
                allocated=allocated.get(line["line_no"], 0),
            )

    @staticmethod
    def _line_stock(line, rows, *, warehouse_id, delivery, near_days, min_days, allocated) -> dict:
        cold = bool((line.get("product") or {}).get("is_cold_chain"))
        here = fits = near = 0
        requested_available = False
        elsewhere: dict[str, int] = defaultdict(int)
        for _pid, wh_id, wh_code, wh_cold, lot_number, expiry, available in rows:
            remaining = (expiry - delivery).days
            if remaining < min_days or (cold and not wh_cold):
                continue
            if line.get("requested_lot") and lot_number != line["requested_lot"]:
                continue
            if wh_id == warehouse_id:
                here += available
                if remaining <= near_days:
                    near += available
                else:
                    fits += available
                if line.get("requested_lot"):
                    requested_available = True
            else:
                elsewhere[wh_code] += available
        need = max(0, int(line["quantity"]) - allocated)
        shortage = max(0, need - here)
        transfer_from = sorted(elsewhere.items(), key=lambda kv: -kv[1])
        transferable = sum(q for _c, q in transfer_from)
        if shortage and transferable:
            codes = ", ".join(f"{code} {qty}" for code, qty in transfer_from[:3])
            suggestion_zh = f"建议从其他仓库调拨（{codes}）" + (
                f"，并采购 {shortage - transferable}" if transferable < shortage else ""
            )
            suggestion_en = f"suggest a transfer ({codes})" + (
                f" and a purchase of {shortage - transferable}" if transferable < shortage else ""
            )
        elif shortage:
            suggestion_zh, suggestion_en = f"建议采购 {shortage}", f"suggest purchasing {shortage}"
        else:
            suggestion_zh = suggestion_en = ""
        return {
            "available": here,
            "available_not_near_expiry": fits,
            "near_expiry_available": near,
            "allocated": allocated,
            "shortage": shortage,
            "min_shelf_life_days": min_days,
            "other_warehouses_available": transferable,
            "requested_lot_available": requested_available if line.get("requested_lot") else None,
            "suggestion_zh": suggestion_zh,
            "suggestion_en": suggestion_en,
        }

    def samples(self) -> list[dict]:
        base = {
            "available": 0,
            "available_not_near_expiry": 0,
            "near_expiry_available": 0,
            "allocated": 0,
            "shortage": 0,
            "min_shelf_life_days": 0,
            "other_warehouses_available": 0,
            "requested_lot_available": None,
            "suggestion_zh": "",
            "suggestion_en": "",
        }
        return [
            {"order": {"lines": [{"stock": {**base, "available": 10, "available_not_near_expiry": 10}}]}},
            {
                "order": {
                    "lines": [
                        {
                            "stock": {
                                **base,
                                "shortage": 5,
                                "other_warehouses_available": 3,
                                "suggestion_zh": "建议调拨",
                                "suggestion_en": "suggest a transfer",
                            }
                        }
                    ]
                }
            },
            {
                "order": {
                    "lines": [
                        {
                            "stock": {
                                **base,
                                "available": 4,
                                "near_expiry_available": 4,
                                "requested_lot_available": False,
                            }
                        }
                    ]
                }
            },
        ]


class ShipmentFacts:
    """Facts of a shipment for ``shipment.updated``: overdue, proof of delivery, discrepancies."""

    roots = ("shipment",)
    # What each fact means, for the catalogue (names, types, examples come from ``samples()``).
    descriptions = {
        "shipment": ("发货单（对象）", "the shipment (object)"),
        "shipment.id": ("发货单内部编号", "shipment id"),
        "shipment.number": ("发货单号", "shipment number"),
        "shipment.status": ("发货状态", "shipment status"),
        "shipment.order_number": ("订单号", "order number"),
        "shipment.customer_code": ("客户编码", "customer code"),
        "shipment.customer_name": ("客户名称", "customer name"),
        "shipment.carrier": ("承运商", "carrier"),
        "shipment.tracking_number": ("运单号", "tracking number"),
        "shipment.is_cold_chain": ("冷链运输", "cold-chain shipment"),
        "shipment.dispatched_at": ("发运时间（可为空）", "dispatched at (or null)"),
        "shipment.expected_arrival_at": ("预计到达时间（可为空）", "expected arrival (or null)"),
        "shipment.delivered_at": ("送达时间（可为空）", "delivered at (or null)"),
        "shipment.is_overdue": ("已超过预计到达时间未送达", "past its expected arrival, not delivered"),
        "shipment.overdue_hours": ("超期小时数", "hours overdue"),
        "shipment.signed": ("已签收", "proof of delivery signed"),
        "shipment.signed_by": ("签收人", "signed by"),
        "shipment.discrepancy_count": ("签收差异条数", "discrepancies noted at delivery"),
        "shipment.discrepancy_notes": ("差异说明", "discrepancy notes"),
    }

    def build(self, *, source: Shipment, facts: dict, context: dict) -> None:
        shipment = Shipment.objects.select_related("order", "customer").get(pk=source.pk)
        pod = getattr(shipment, "proof_of_delivery", None) if hasattr(shipment, "proof_of_delivery") else None
        now = timezone.now()
        arrived = shipment.status in (ShipmentStatus.DELIVERED, ShipmentStatus.SIGNED)
        overdue = bool(shipment.expected_arrival_at and not arrived and shipment.expected_arrival_at < now)
        discrepancies = list(pod.discrepancies) if pod else []
        facts["shipment"] = {
            "id": shipment.pk,
            "number": shipment.number,
            "status": shipment.status,
            "order_number": shipment.order.number,
            "customer_code": shipment.customer.code,
            "customer_name": shipment.customer.name,
            "carrier": shipment.carrier,
            "tracking_number": shipment.tracking_number,
            "is_cold_chain": shipment.is_cold_chain,
            "dispatched_at": shipment.dispatched_at,
            "expected_arrival_at": shipment.expected_arrival_at,
            "delivered_at": shipment.delivered_at,
            "is_overdue": overdue,
            "overdue_hours": int((now - shipment.expected_arrival_at).total_seconds() // 3600) if overdue else 0,
            "signed": pod is not None,
            "signed_by": pod.signed_by if pod else "",
            "discrepancy_count": len(discrepancies),
            "discrepancy_notes": "; ".join(str(d.get("note") or "") for d in discrepancies)[:200],
        }

    def samples(self) -> list[dict]:
        base = {
            "id": 1,
            "number": "SH-2026-000123",
            "status": "in_transit",
            "order_number": "SO-2026-000001",
            "customer_code": "C00001",
            "customer_name": "上海第一医院",
            "carrier": "顺丰",
            "tracking_number": "SF1",
            "is_cold_chain": False,
            "dispatched_at": None,
            "expected_arrival_at": None,
            "delivered_at": None,
            "is_overdue": False,
            "overdue_hours": 0,
            "signed": False,
            "signed_by": "",
            "discrepancy_count": 0,
            "discrepancy_notes": "",
        }
        return [
            {"shipment": base},
            {"shipment": {**base, "is_overdue": True, "overdue_hours": 30}},
            {
                "shipment": {
                    **base,
                    "status": "signed",
                    "signed": True,
                    "signed_by": "张",
                    "discrepancy_count": 1,
                    "discrepancy_notes": "1 damaged",
                }
            },
        ]


class TemperatureFacts:
    """Facts of a cold-chain place (shipment or cold store) for ``temperature.logged``."""

    roots = ("temperature",)
    # What each fact means, for the catalogue (names, types, examples come from ``samples()``).
    descriptions = {
        "temperature": ("冷链温度情况（对象）", "the cold-chain place's temperature record (object)"),
        "temperature.place": ("地点类型（shipment/warehouse）", "place kind (shipment or warehouse)"),
        "temperature.place_code": ("发货单号或仓库编码", "shipment number or warehouse code"),
        "temperature.open_excursions": ("未关闭的超温偏差数", "open out-of-range excursions"),
        "temperature.gap_count": ("未关闭的记录缺失数", "open gaps in the records"),
        "temperature.held_lots": ("因偏差冻结的批号", "lots on hold for an excursion"),
        "temperature.probe_count": ("探头数", "probes that reported"),
        "temperature.min_probes": ("要求的最少探头数", "probes required"),
        "temperature.interval_min": ("要求的记录间隔（分钟）", "required reading interval, minutes"),
        "temperature.last_reading_at": ("最后一次读数时间（可为空）", "last reading at (or null)"),
    }

    def build(self, *, source, facts: dict, context: dict) -> None:
        is_shipment = isinstance(source, Shipment)
        place = {"shipment": source} if is_shipment else {"warehouse": source}
        # One query: open excursions by kind; one: the lots they hold; one: readings summary.
        counts = dict(
            Excursion.objects.filter(**place)
            .exclude(status=ExcursionStatus.CLOSED)
            .values_list("kind")
            .annotate(n=Count("id"))
            .values_list("kind", "n")
        )
        held = list(
            Lot.objects.filter(excursions__in=Excursion.objects.filter(**place, kind=ExcursionKind.OUT_OF_RANGE))
            .filter(status=LotStatus.ON_HOLD)
            .distinct()
            .values_list("lot_number", flat=True)[:20]
        )
        readings = TemperatureReading.objects.filter(**place).aggregate(
            probes=Count("probe", distinct=True), last=Max("recorded_at")
        )
        last = readings["last"]
        interval = cold_chain_setting("TRANSPORT_INTERVAL_MIN" if is_shipment else "STORAGE_INTERVAL_MIN")
        facts["temperature"] = {
            "place": "shipment" if is_shipment else "warehouse",
            "place_code": source.number if is_shipment else source.code,
            "open_excursions": counts.get(ExcursionKind.OUT_OF_RANGE, 0),
            "gap_count": counts.get(ExcursionKind.GAP, 0),
            "held_lots": ", ".join(held),
            "probe_count": readings["probes"] or 0,
            "min_probes": cold_chain_setting("MIN_PROBES"),
            "interval_min": interval,
            "last_reading_at": last,
        }

    def samples(self) -> list[dict]:
        base = {
            "place": "shipment",
            "place_code": "SH-2026-000123",
            "open_excursions": 0,
            "gap_count": 0,
            "held_lots": "",
            "probe_count": 2,
            "min_probes": 2,
            "interval_min": 5,
            "last_reading_at": None,
        }
        return [
            {"temperature": base},
            {"temperature": {**base, "open_excursions": 1, "held_lots": "L1"}},
            {"temperature": {**base, "gap_count": 2, "probe_count": 1}},
        ]


class StockScanFacts:
    """Facts of a warehouse for the periodic ``stock.scan``: expired stock still on hand."""

    roots = ("stock",)
    # What each fact means, for the catalogue (names, types, examples come from ``samples()``).
    descriptions = {
        "stock": ("仓库库存扫描（对象）", "the warehouse stock scan (object)"),
        "stock.warehouse_code": ("仓库编码", "warehouse code"),
        "stock.expired_lot_count": ("仍有库存的过期批次数", "expired lots still on hand"),
        "stock.expired_quantity": ("过期数量", "expired quantity on hand"),
        "stock.expired_lots": ("过期批次（编码/批号×数量）", "expired lots (SKU/lot × quantity)"),
        "stock.scanned_at": ("扫描时间", "scanned at"),
        "stock.near_expiry_days": ("近效期天数设置", "near-expiry threshold, days"),
    }

    def build(self, *, source, facts: dict, context: dict) -> None:
        today = timezone.localdate()
        rows = list(
            StockBalance.objects.filter(warehouse=source, on_hand__gt=0, lot__expiry_date__lt=today)
            .values("lot__lot_number", "product__sku")
            .annotate(quantity=Sum("on_hand"))
            .order_by("lot__lot_number")
        )
        facts["stock"] = {
            "warehouse_code": source.code,
            "expired_lot_count": len(rows),
            "expired_quantity": sum(r["quantity"] for r in rows),
            "expired_lots": ", ".join(f"{r['product__sku']}/{r['lot__lot_number']}×{r['quantity']}" for r in rows[:20]),
            "scanned_at": timezone.now(),
            "near_expiry_days": traceability_setting("NEAR_EXPIRY_DAYS"),
        }

    def samples(self) -> list[dict]:
        base = {
            "warehouse_code": "WH01",
            "expired_lot_count": 0,
            "expired_quantity": 0,
            "expired_lots": "",
            "scanned_at": None,
            "near_expiry_days": 90,
        }
        return [
            {"stock": base},
            {"stock": {**base, "expired_lot_count": 1, "expired_quantity": 5, "expired_lots": "SKU-1/L1×5"}},
        ]


class LotFacts:
    """Facts of a lot for ``lot.status_changed``."""

    roots = ("lot",)
    # What each fact means, for the catalogue (names, types, examples come from ``samples()``).
    descriptions = {
        "lot": ("批次（对象）", "the lot (object)"),
        "lot.id": ("批次内部编号", "lot id"),
        "lot.lot_number": ("批号", "lot number"),
        "lot.product_id": ("产品内部编号", "product id"),
        "lot.status": ("批次状态", "lot status"),
        "lot.previous_status": ("变更前状态", "status before the change"),
        "lot.expiry_date": ("有效期至（可为空）", "expiry date (or null)"),
        "lot.days_to_expiry": ("距过期天数（可为空）", "days to expiry (or null)"),
        "lot.on_hand": ("各仓在库数量合计", "on hand in all warehouses"),
        "lot.reason": ("状态变更原因", "reason for the status"),
    }

    def build(self, *, source: Lot, facts: dict, context: dict) -> None:
        on_hand = StockBalance.objects.filter(lot=source).aggregate(n=Sum("on_hand"))["n"] or 0
        today = timezone.localdate()
        facts["lot"] = {
            "id": source.pk,
            "lot_number": source.lot_number,
            "product_id": source.product_id,
            "status": source.status,
            "previous_status": context.get("previous_status", ""),
            "expiry_date": source.expiry_date,
            "days_to_expiry": (source.expiry_date - today).days if source.expiry_date else None,
            "on_hand": on_hand,
            "reason": source.status_reason,
        }

    def samples(self) -> list[dict]:
        base = {
            "id": 1,
            "lot_number": "L1",
            "product_id": 1,
            "status": "released",
            "previous_status": "quarantine",
            "expiry_date": None,
            "days_to_expiry": 300,
            "on_hand": 10,
            "reason": "",
        }
        return [{"lot": base}, {"lot": {**base, "status": "recalled", "previous_status": "released"}}]


ORDER_STOCK_FACTS = OrderStockFacts()
SHIPMENT_FACTS = ShipmentFacts()
TEMPERATURE_FACTS = TemperatureFacts()
STOCK_SCAN_FACTS = StockScanFacts()
LOT_FACTS = LotFacts()
