"""Orders and a test-only fact provider for the rules-engine tests, independent of orders/facts.py.

``TEST_ORDER_FACTS`` builds a small part of the ``order.saved`` facts in two queries whatever the
number of lines; the ``engine_facts`` fixture registers it (alone) on the fact providers port.
"""

from __future__ import annotations

import datetime as dt
import itertools
from decimal import Decimal

import pytest
from django.db import transaction
from django.utils import translation

from erp.kernel.numbering import next_number
from exceptions_center import engine
from exceptions_center.facts_registry import fact_providers_port, fen, timestamp
from exceptions_center.models import Rule
from exceptions_center.services.rules import rule_save
from masterdata.models import Party
from orders.models import SalesOrder, SalesOrderLine
from tests.masterdata.factories import PartyFactory, ProductFactory, WarehouseFactory


class TestOrderFacts:
    """order (header, totals, lines with product) and customer; 2 queries."""

    roots = ("order", "customer")

    def build(self, *, source, facts, context):
        lines = list(SalesOrderLine.objects.filter(order_id=source.pk).select_related("product").order_by("line_no"))
        customer = Party.objects.get(pk=source.customer_id)
        facts["order"] = {
            "id": source.pk,
            "number": source.number,
            "status": source.status,
            "is_new": bool(context.get("is_new")),
            "gross_fen": fen(source.gross_amount),
            "requested_delivery_date": timestamp(source.requested_delivery_date),
            "line_count": len(lines),
            "lines": [
                {
                    "line_no": line.line_no,
                    "key": f"L{line.line_no}",
                    "sku": line.product.sku,
                    "quantity": line.quantity,
                    "unit_price_fen": fen(line.unit_price),
                    "list_price_fen": fen(line.product.list_price),
                    "discount_pct": float(line.discount_pct),
                    "below_list_pct": float(line.discount_pct),
                    "product": {
                        "sku": line.product.sku,
                        "is_active": line.product.is_active,
                        "device_class": int(line.product.device_class),
                        "catalogue_code": line.product.catalogue_code,
                    },
                }
                for line in lines
            ],
        }
        facts["customer"] = {
            "id": customer.pk,
            "code": customer.code,
            "is_active": customer.is_active,
            "has_uscc": bool(customer.uscc),
        }

    def samples(self):
        day = dt.datetime(2026, 3, 2, tzinfo=dt.UTC)

        def line(no, *, below=0.0, active=True, device_class=2):
            return {
                "line_no": no,
                "key": f"L{no}",
                "sku": f"S{no}",
                "quantity": 2,
                "unit_price_fen": 1000,
                "list_price_fen": 1000,
                "discount_pct": below,
                "below_list_pct": below,
                "product": {
                    "sku": f"S{no}",
                    "is_active": active,
                    "device_class": device_class,
                    "catalogue_code": "14-02-01",
                },
            }

        return [
            {
                "order": {
                    "id": 1,
                    "number": "SO-1",
                    "status": "draft",
                    "is_new": True,
                    "gross_fen": 100000,
                    "requested_delivery_date": day,
                    "line_count": 1,
                    "lines": [line(1)],
                },
                "customer": {"id": 1, "code": "C1", "is_active": True, "has_uscc": True},
            },
            {
                "order": {
                    "id": 2,
                    "number": "SO-2",
                    "status": "submitted",
                    "is_new": False,
                    "gross_fen": 9000000,
                    "requested_delivery_date": None,
                    "line_count": 2,
                    "lines": [line(1, below=20.0, active=False, device_class=3), line(2)],
                },
                "customer": {"id": 2, "code": "C2", "is_active": False, "has_uscc": False},
            },
        ]


TEST_ORDER_FACTS = TestOrderFacts()


def make_order(
    *,
    lines: int = 1,
    discount: str = "0",
    customer=None,
    warehouse=None,
    delivery: dt.date | None = None,
    products=None,
    **header,
) -> SalesOrder:
    """A sales order with ``lines`` lines (line n uses ``products[n-1]`` or a new product), saved
    directly with the ORM (the engine tests do not depend on orders.services)."""
    customer = customer or PartyFactory()
    warehouse = warehouse or WarehouseFactory()
    with transaction.atomic():
        order = SalesOrder.objects.create(
            number=next_number("SO"),
            customer=customer,
            warehouse=warehouse,
            requested_delivery_date=delivery,
            **header,
        )
        rows = []
        for n in range(1, lines + 1):
            product = products[n - 1] if products else ProductFactory()
            line = SalesOrderLine(
                order=order,
                line_no=n,
                product=product,
                quantity=2,
                unit_price=product.list_price,
                discount_pct=Decimal(discount),
                tax_rate=Decimal("0.13"),
            )
            line.compute_amounts()
            rows.append(line)
        SalesOrderLine.objects.bulk_create(rows)
        order.recompute_totals(rows)
        order.save()
    return order


def set_discount(order: SalesOrder, line_no: int, discount: str) -> None:
    line = SalesOrderLine.objects.get(order=order, line_no=line_no)
    line.discount_pct = Decimal(discount)
    line.compute_amounts()
    line.save()


@pytest.fixture
def engine_facts(db):
    """Evaluate ``order.saved`` with the test provider alone, from an empty compiled-rule cache, with the
    shipped catalogue (data migrations) out of the way."""
    Rule.objects.all().delete()
    engine.cache_clear()
    with (
        fact_providers_port.temporarily(TEST_ORDER_FACTS, key="order.saved", only=True),
        translation.override("en"),  # the tests read the English messages
    ):
        yield
    engine.cache_clear()


_codes = itertools.count(1)


def rule_saved(**fields) -> Rule:
    """A rule saved through the service (validated like in the admin)."""
    defaults = {
        "code": f"T-RULE-{next(_codes):05d}",  # zero-padded: rules run in code order (T-RULE-10 < T-RULE-9)
        "name_zh": "测试规则",
        "name_en": "Test rule",
        "category": "business",
        "event": "order.saved",
        "severity": "high",
        "blocking": True,
        "message_zh": "订单{order.number}异常",
        "message_en": "Order {order.number} exception",
        "sla_hours": 8,
    }
    return rule_save(rule=Rule(**{**defaults, **fields}), user=None)
