"""The issue-3 rule catalogue for ``order.saved`` (docs/rules.md, "Order rule catalogue").

Shipped as data so compliance officers can edit it in the admin; re-running updates the rows by code
and leaves rules that officers have since disabled disabled.
"""

from django.db import migrations

# code, zh name, en name, category, severity, blocking, route (department codes, in order),
# iterate_over, condition, detail_key, params, message zh, message en, sla hours, low action
CATALOGUE = [
    {
        "code": "ORD-PRICE-BELOW-LIST",
        "name_zh": "单价低于目录价超过限额",
        "name_en": "Price below list by more than the limit",
        "description": "The effective net unit price (after discount) is more than max_below_list_pct below the "
        "product's list price. Sales management approves the discount, then finance.",
        "category": "business",
        "severity": "medium",
        "blocking": True,
        "route": ["sales_management", "finance"],
        "iterate_over": "order.lines",
        "condition": "item.below_list_pct > params.max_below_list_pct",
        "detail_key": "item.key",
        "params": {"max_below_list_pct": 15},
        "message_zh": "第{item.line_no}行 {item.sku}：实际单价低于目录价 {item.below_list_pct}%"
        "（上限 {params.max_below_list_pct}%），需销售管理和财务审批",
        "message_en": "Line {item.line_no} {item.sku}: net unit price {item.below_list_pct}% below list "
        "(limit {params.max_below_list_pct}%); needs sales management and finance approval",
        "sla_hours": 24,
    },
    {
        "code": "ORD-PRICE-CHANGED",
        "name_zh": "提交后修改价格",
        "name_en": "Price changed after submission",
        "description": "A line's unit price or discount differs from the one agreed when the order was submitted. "
        "Each new price is its own event (the detail key carries it), so an approved change stays approved "
        "and a further change needs a new approval; restoring the agreed price auto-resolves.",
        "category": "business",
        "severity": "medium",
        "blocking": True,
        "route": ["sales_management"],
        "iterate_over": "order.lines",
        "condition": "order.submitted && item.price_changed_after_submit",
        "detail_key": 'item.key + "@" + string(item.unit_price_fen) + "/" + string(item.discount_pct)',
        "params": {},
        "message_zh": "第{item.line_no}行 {item.sku}：订单提交后单价或折扣被修改，需销售经理审批",
        "message_en": "Line {item.line_no} {item.sku}: unit price or discount changed after submission; "
        "needs sales manager approval",
        "sla_hours": 24,
    },
    {
        "code": "ORD-CUSTOMER-INACTIVE",
        "name_zh": "客户已停用",
        "name_en": "Customer inactive",
        "description": "The customer is deactivated in master data (e.g. licence withdrawn, relationship ended). "
        "Compliance and sales handle it in parallel; the order is held.",
        "category": "compliance",
        "severity": "high",
        "blocking": True,
        "route": ["compliance", "sales"],
        "iterate_over": "",
        "condition": "!customer.is_active",
        "detail_key": "",
        "params": {},
        "message_zh": "客户 {customer.code} {customer.name} 已停用",
        "message_en": "Customer {customer.code} {customer.name} is inactive",
        "sla_hours": 8,
    },
    {
        "code": "ORD-CUSTOMER-INCOMPLETE",
        "name_zh": "客户资料不全",
        "name_en": "Customer record incomplete",
        "description": "The sales record needs the buyer's USCC, address and contact (distribution measures); "
        "one of them is missing. Compliance and sales handle it in parallel; the order is held.",
        "category": "compliance",
        "severity": "high",
        "blocking": True,
        "route": ["compliance", "sales"],
        "iterate_over": "",
        "condition": "!customer.has_uscc || !customer.has_address || !customer.has_contact",
        "detail_key": "",
        "params": {},
        "message_zh": "客户 {customer.code} {customer.name} 缺少统一社会信用代码、地址或联系人",
        "message_en": "Customer {customer.code} {customer.name} lacks its USCC, address or contact",
        "sla_hours": 8,
    },
    {
        "code": "ORD-SHIPTO-REGION",
        "name_zh": "收货医院与客户不在同一省份",
        "name_en": "Hospital ship-to outside the customer's province",
        "description": "A customer (typically a distributor) orders for a named hospital in another province than "
        "its own: the distributor may be selling outside its authorised region. Provinces are compared, not "
        "districts (authorisations are provincial). Sales management then compliance approve; held meanwhile.",
        "category": "compliance",
        "severity": "medium",
        "blocking": True,
        "route": ["sales_management", "compliance"],
        "iterate_over": "",
        "condition": "ship_to != null && ship_to.is_hospital && ship_to.province_code != customer.province_code",
        "detail_key": "",
        "params": {},
        "message_zh": "收货医院 {ship_to.name} 与客户 {customer.name} 不在同一省份，需确认区域授权",
        "message_en": "Ship-to hospital {ship_to.name} is in another province than customer {customer.name}; "
        "check the regional authorisation",
        "sla_hours": 24,
    },
    {
        "code": "ORD-DUPLICATE",
        "name_zh": "疑似重复订单",
        "name_en": "Likely duplicate order",
        "description": "Another order of the same customer within 24 hours has the same products and quantities. "
        "Low: goes to the daily review queue, does not hold the order.",
        "category": "business",
        "severity": "low",
        "blocking": False,
        "route": ["sales"],
        "iterate_over": "",
        "condition": "order.duplicate_count > 0",
        "detail_key": "",
        "params": {},
        "message_zh": "24小时内该客户有 {order.duplicate_count} 张相同产品和数量的订单，疑似重复",
        "message_en": "{order.duplicate_count} other order(s) of this customer within 24 h have the same lines: "
        "likely duplicate",
        "sla_hours": 72,
        "low_action": "review_queue",
    },
    {
        "code": "ORD-DELIVERY-PAST",
        "name_zh": "要求交货日期已过",
        "name_en": "Requested delivery date in the past",
        "description": "The requested delivery date is before today. Logistics confirms a feasible date; the order "
        "is not held (a date is fixed by editing it, which auto-resolves the event).",
        "category": "logistics",
        "severity": "medium",
        "blocking": False,
        "route": ["logistics"],
        "iterate_over": "",
        "condition": "order.days_to_delivery != null && order.days_to_delivery < 0",
        "detail_key": "",
        "params": {},
        "message_zh": "要求交货日期 {order.requested_delivery_date|date} 已过",
        "message_en": "The requested delivery date {order.requested_delivery_date|date} is in the past",
        "sla_hours": 24,
    },
    {
        "code": "ORD-COLD-CHAIN-LEAD-TIME",
        "name_zh": "冷链产品交货期过短",
        "name_en": "Delivery too soon for a cold-chain product",
        "description": "A cold-chain line must be delivered in fewer than cold_chain_min_days days (cold boxes and "
        "temperature loggers need preparation). Logistics confirms; not held.",
        "category": "logistics",
        "severity": "medium",
        "blocking": False,
        "route": ["logistics"],
        "iterate_over": "order.lines",
        "condition": "item.product.is_cold_chain && order.days_to_delivery != null && "
        "order.days_to_delivery >= 0 && order.days_to_delivery < params.cold_chain_min_days",
        "detail_key": "item.key",
        "params": {"cold_chain_min_days": 2},
        "message_zh": "第{item.line_no}行 {item.sku} 为冷链产品，{order.days_to_delivery} 天后交货少于 "
        "{params.cold_chain_min_days} 天准备期",
        "message_en": "Line {item.line_no} {item.sku} is cold chain: delivery in {order.days_to_delivery} days is "
        "less than the {params.cold_chain_min_days}-day lead time",
        "sla_hours": 24,
    },
    {
        "code": "ORD-TOTAL-ABOVE-THRESHOLD",
        "name_zh": "订单金额超过审批阈值",
        "name_en": "Order total above the approval threshold",
        "description": "The order's gross total (with VAT) exceeds threshold_fen (fen; 50,000,000 = ¥500,000). A "
        "sales manager approves; held meanwhile.",
        "category": "business",
        "severity": "medium",
        "blocking": True,
        "route": ["sales_management"],
        "iterate_over": "",
        "condition": "order.gross_fen > params.threshold_fen",
        "detail_key": "",
        "params": {"threshold_fen": 50000000},
        "message_zh": "订单含税总额 ¥{order.gross_fen|yuan} 超过销售经理审批阈值 ¥{params.threshold_fen|yuan}",
        "message_en": "Order total ¥{order.gross_fen|yuan} exceeds the sales manager approval threshold "
        "¥{params.threshold_fen|yuan}",
        "sla_hours": 24,
    },
    {
        "code": "ORD-PRODUCT-INACTIVE",
        "name_zh": "产品已停用",
        "name_en": "Inactive product",
        "description": "A line's product is deactivated in master data (discontinued, or its registration lapsed). "
        "Sales replaces or removes the line while compliance checks the registration; held meanwhile.",
        "category": "business",
        "severity": "high",
        "blocking": True,
        "route": ["sales", "compliance"],
        "iterate_over": "order.lines",
        "condition": "!item.product.is_active",
        "detail_key": "item.key",
        "params": {},
        "message_zh": "第{item.line_no}行 {item.sku} 产品已停用",
        "message_en": "Line {item.line_no} {item.sku}: the product is inactive",
        "sla_hours": 8,
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
        rule, created = Rule.objects.get_or_create(
            code=code, defaults={**spec, "event": "order.saved", "low_action": spec.get("low_action", "review_queue")}
        )
        if not created:
            continue
        for position, department_code in enumerate(route, start=1):
            RuleRouteStep.objects.create(rule=rule, department=departments[department_code], position=position)


def remove(apps, schema_editor):
    Rule = apps.get_model("exceptions_center", "Rule")
    Rule.objects.filter(code__in=[spec["code"] for spec in CATALOGUE], events__isnull=True).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("orders", "0002_line_price_at_submission"),
        ("exceptions_center", "0002_departments"),
    ]
    operations = [migrations.RunPython(create, remove)]
