"""Segregation of duties on the shipped rule catalogue (docs/controls.md).

- Marks the rules of the shipped catalogues (orders 0003, traceability 0002) as ``shipped``: disabling a
  shipped compliance rule needs an electronic signature.
- Compliance events go to compliance: the shipped compliance rules that also routed their events to the
  sales department (the order owner's own department) are routed to compliance alone. A route a
  compliance officer has changed since (it is no longer the shipped one) is left as it is.
- Sets each shipped rule's owning department to its category's default where none is set.

Idempotent (``tests/conftest.py`` replays data migrations after a flush).
"""

from django.db import migrations

SHIPPED_CODES = [
    "ORD-PRICE-BELOW-LIST",
    "ORD-PRICE-CHANGED",
    "ORD-CUSTOMER-INACTIVE",
    "ORD-CUSTOMER-INCOMPLETE",
    "ORD-SHIPTO-REGION",
    "ORD-DUPLICATE",
    "ORD-DELIVERY-PAST",
    "ORD-COLD-CHAIN-LEAD-TIME",
    "ORD-TOTAL-ABOVE-THRESHOLD",
    "ORD-PRODUCT-INACTIVE",
    "TRC-STOCK-SHORTAGE",
    "TRC-NEAR-EXPIRY-ONLY",
    "TRC-COLD-CHAIN-WAREHOUSE",
    "TRC-REQUESTED-LOT-UNAVAILABLE",
    "TRC-SHIPMENT-OVERDUE",
    "TRC-DELIVERY-DISCREPANCY",
    "TRC-TEMP-EXCURSION",
    "TRC-TEMP-MISSING",
    "TRC-EXPIRED-STOCK",
]

# rule code: (route as shipped, route now)
ROUTE_CHANGES = {
    "ORD-CUSTOMER-INACTIVE": (["compliance", "sales"], ["compliance"]),
    "ORD-CUSTOMER-INCOMPLETE": (["compliance", "sales"], ["compliance"]),
}

DEFAULT_OWNER_BY_CATEGORY = {
    "business": "sales_management",
    "logistics": "logistics",
    "quality": "quality",
    "compliance": "compliance",
}


def forwards(apps, schema_editor):
    Rule = apps.get_model("exceptions_center", "Rule")
    RuleRouteStep = apps.get_model("exceptions_center", "RuleRouteStep")
    Department = apps.get_model("exceptions_center", "Department")
    departments = {d.code: d for d in Department.objects.all()}
    Rule.objects.filter(code__in=SHIPPED_CODES, shipped=False).update(shipped=True)
    for rule in Rule.objects.filter(code__in=SHIPPED_CODES, owner_department__isnull=True):
        owner = departments.get(DEFAULT_OWNER_BY_CATEGORY.get(rule.category, ""))
        if owner is not None:
            Rule.objects.filter(pk=rule.pk).update(owner_department=owner)
    for code, (shipped_route, new_route) in ROUTE_CHANGES.items():
        rule = Rule.objects.filter(code=code).first()
        if rule is None:
            continue
        current = list(
            RuleRouteStep.objects.filter(rule=rule).order_by("position").values_list("department__code", flat=True)
        )
        if current != shipped_route:
            continue
        RuleRouteStep.objects.filter(rule=rule).delete()
        for position, department_code in enumerate(new_route, start=1):
            RuleRouteStep.objects.create(rule=rule, department=departments[department_code], position=position)


class Migration(migrations.Migration):
    dependencies = [
        ("exceptions_center", "0006_sod_owner_department_delegation"),
        # The shipped catalogues this migration adjusts.
        ("orders", "0003_rule_catalogue"),
        ("traceability", "0002_rule_catalogue"),
    ]
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
