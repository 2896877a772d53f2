"""The traceability rule catalogue (issue 4): stock, shipments, cold chain, expired stock.

Shipped as data so compliance and quality officers can edit it in the admin; re-running leaves
existing rows (and officers' edits) alone.
"""

from django.db import migrations

CATALOGUE = [
    {
        "code": "TRC-STOCK-SHORTAGE",
        "event": "order.saved",
        "name_zh": "库存不足",
        "name_en": "Stock shortage",
        "description": "The order's warehouse cannot cover a line with released stock that meets the customer's "
        "minimum shelf life. The message suggests a transfer from the warehouses that have stock, or a purchase. "
        "Logistics approves the plan; the order is not held (the shortage stays visible on allocation).",
        "category": "logistics",
        "severity": "medium",
        "blocking": False,
        "route": ["logistics"],
        "iterate_over": "order.lines",
        "condition": "item.stock.shortage > 0",
        "detail_key": "item.key",
        "params": {},
        "message_zh": "第{item.line_no}行 {item.sku}：{warehouse.code} 可用 {item.stock.available}，缺 "
        "{item.stock.shortage}；{item.stock.suggestion_zh}",
        "message_en": "Line {item.line_no} {item.sku}: {item.stock.available} available in {warehouse.code}, "
        "{item.stock.shortage} short; {item.stock.suggestion_en}",
        "sla_hours": 24,
    },
    {
        "code": "TRC-NEAR-EXPIRY-ONLY",
        "event": "order.saved",
        "name_zh": "仅有近效期批次可用",
        "name_en": "Only near-expiry lots available",
        "description": "Every lot that could be allocated to the line expires within the near-expiry window "
        "(settings ERP.TRACEABILITY.NEAR_EXPIRY_DAYS, 90 days) after delivery. Low: the review queue; sales "
        "may confirm with the customer.",
        "category": "logistics",
        "severity": "low",
        "blocking": False,
        "route": ["sales"],
        "iterate_over": "order.lines",
        "condition": "item.stock.available > 0 && item.stock.available_not_near_expiry == 0",
        "detail_key": "item.key",
        "params": {},
        "message_zh": "第{item.line_no}行 {item.sku}：可用库存 {item.stock.available} 均为近效期批次",
        "message_en": "Line {item.line_no} {item.sku}: all {item.stock.available} available units are near expiry",
        "sla_hours": 72,
        "low_action": "review_queue",
    },
    {
        "code": "TRC-COLD-CHAIN-WAREHOUSE",
        "event": "order.saved",
        "name_zh": "冷链产品从非冷库发货",
        "name_en": "Cold-chain product from a warehouse without cold storage",
        "description": "A cold-chain line is to ship from a warehouse that has no cold storage: it cannot be "
        "allocated there. Logistics and quality handle it in parallel (change the warehouse); held meanwhile.",
        "category": "logistics",
        "severity": "high",
        "blocking": True,
        "route": ["logistics", "quality"],
        "iterate_over": "order.lines",
        "condition": "item.product.is_cold_chain && !warehouse.is_cold_storage",
        "detail_key": "item.key",
        "params": {},
        "message_zh": "第{item.line_no}行 {item.sku} 为冷链产品，仓库 {warehouse.code} 无冷库",
        "message_en": "Line {item.line_no} {item.sku} is cold chain but warehouse {warehouse.code} has no cold storage",
        "sla_hours": 8,
    },
    {
        "code": "TRC-REQUESTED-LOT-UNAVAILABLE",
        "event": "order.saved",
        "name_zh": "指定批次不可用",
        "name_en": "Requested lot not available",
        "description": "The customer asked for a lot that has no released, unexpired stock meeting its shelf-life "
        "minimum in the order's warehouse. Logistics then sales approve (another lot, or wait).",
        "category": "logistics",
        "severity": "medium",
        "blocking": False,
        "route": ["logistics", "sales"],
        "iterate_over": "order.lines",
        "condition": 'item.requested_lot != "" && item.stock.requested_lot_available == false',
        "detail_key": "item.key",
        "params": {},
        "message_zh": "第{item.line_no}行 {item.sku}：指定批次 {item.requested_lot} 在 {warehouse.code} 不可用",
        "message_en": "Line {item.line_no} {item.sku}: requested lot {item.requested_lot} is not available in "
        "{warehouse.code}",
        "sla_hours": 24,
    },
    {
        "code": "TRC-SHIPMENT-OVERDUE",
        "event": "shipment.updated",
        "name_zh": "发货逾期未达",
        "name_en": "Shipment overdue",
        "description": "The expected arrival time has passed and the shipment is not delivered. Checked on every "
        "logistics event and by the periodic scan. Logistics follows up with the carrier.",
        "category": "logistics",
        "severity": "medium",
        "blocking": False,
        "route": ["logistics"],
        "iterate_over": "",
        "condition": "shipment.is_overdue",
        "detail_key": "",
        "params": {},
        "message_zh": "发货单 {shipment.number}（{shipment.carrier} {shipment.tracking_number}）已超过预计到达时间 "
        "{shipment.overdue_hours} 小时",
        "message_en": "Shipment {shipment.number} ({shipment.carrier} {shipment.tracking_number}) is "
        "{shipment.overdue_hours} h past its expected arrival",
        "sla_hours": 8,
    },
    {
        "code": "TRC-DELIVERY-DISCREPANCY",
        "event": "shipment.updated",
        "name_zh": "签收差异",
        "name_en": "Delivery discrepancy",
        "description": "The consignee signed with discrepancies (quantity, damage). Logistics and sales handle it "
        "in parallel.",
        "category": "logistics",
        "severity": "high",
        "blocking": False,
        "route": ["logistics", "sales"],
        "iterate_over": "",
        "condition": "shipment.discrepancy_count > 0",
        "detail_key": "",
        "params": {},
        "message_zh": "发货单 {shipment.number} 签收有 {shipment.discrepancy_count} 处差异：{shipment.discrepancy_notes}",
        "message_en": "Shipment {shipment.number} signed with {shipment.discrepancy_count} discrepancy(ies): "
        "{shipment.discrepancy_notes}",
        "sla_hours": 24,
    },
    {
        "code": "TRC-TEMP-EXCURSION",
        "event": "temperature.logged",
        "name_zh": "温度超标",
        "name_en": "Temperature excursion",
        "description": "Readings left the product's label range; the affected lots are on quality hold "
        "(DOMAIN.md §5). Quality and logistics handle it in parallel.",
        "category": "quality",
        "severity": "high",
        "blocking": False,
        "route": ["quality", "logistics"],
        "iterate_over": "",
        "condition": "temperature.open_excursions > 0",
        "detail_key": "",
        "params": {},
        "message_zh": "{temperature.place_code} 温度超标 {temperature.open_excursions} 次，批次已冻结：{temperature.held_lots}",
        "message_en": "{temperature.place_code}: {temperature.open_excursions} temperature excursion(s); lots on hold: "
        "{temperature.held_lots}",
        "sla_hours": 4,
    },
    {
        "code": "TRC-TEMP-MISSING",
        "event": "temperature.logged",
        "name_zh": "温度记录缺失",
        "name_en": "Missing temperature records",
        "description": "Readings are further apart than the monitoring interval, or fewer probes than required "
        "report (DOMAIN.md §5, settings ERP.COLD_CHAIN). Quality reviews.",
        "category": "quality",
        "severity": "medium",
        "blocking": False,
        "route": ["quality"],
        "iterate_over": "",
        "condition": "temperature.gap_count > 0 || temperature.probe_count < temperature.min_probes",
        "detail_key": "",
        "params": {},
        "message_zh": "{temperature.place_code} 温度记录缺失：{temperature.gap_count} 处间隔超过 "
        "{temperature.interval_min} 分钟，探头 {temperature.probe_count}/{temperature.min_probes}",
        "message_en": "{temperature.place_code}: missing temperature records ({temperature.gap_count} gap(s) over "
        "{temperature.interval_min} min, {temperature.probe_count}/{temperature.min_probes} probes)",
        "sla_hours": 24,
    },
    {
        "code": "TRC-EXPIRED-STOCK",
        "event": "stock.scan",
        "name_zh": "在库过期产品",
        "name_en": "Expired stock on hand",
        "description": "The periodic scan found expired lots still on hand in a warehouse: move them to the "
        "nonconforming zone and dispose of them. Quality approves.",
        "category": "quality",
        "severity": "medium",
        "blocking": False,
        "route": ["quality"],
        "iterate_over": "",
        "condition": "stock.expired_quantity > 0",
        "detail_key": "",
        "params": {},
        "message_zh": "仓库 {stock.warehouse_code} 有 {stock.expired_lot_count} 个过期批次在库（{stock.expired_lots}）",
        "message_en": "Warehouse {stock.warehouse_code} holds {stock.expired_lot_count} expired lot(s): "
        "{stock.expired_lots}",
        "sla_hours": 24,
    },
]


def create(apps, schema_editor):
    Rule = apps.get_model("exceptions_center", "Rule")
    RuleRouteStep = apps.get_model("exceptions_center", "RuleRouteStep")
    Department = apps.get_model("exceptions_center", "Department")
    departments = {d.code: d for d in Department.objects.all()}
    for spec in CATALOGUE:
        spec = dict(spec)
        route = spec.pop("route")
        code = spec.pop("code")
        spec.setdefault("low_action", "review_queue")
        rule, created = Rule.objects.get_or_create(code=code, defaults=spec)
        if not created:
            continue
        for position, department_code in enumerate(route, start=1):
            RuleRouteStep.objects.create(rule=rule, department=departments[department_code], position=position)


def remove(apps, schema_editor):
    Rule = apps.get_model("exceptions_center", "Rule")
    Rule.objects.filter(code__in=[spec["code"] for spec in CATALOGUE], events__isnull=True).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("traceability", "0001_initial"),
        ("exceptions_center", "0002_departments"),
    ]
    operations = [migrations.RunPython(create, remove)]
