"""Rules-engine benchmark: CEL evaluation per rule, compile time, and ``rules_evaluate`` with 0 vs 50
rules on a 20-line order. Prints figures; asserts nothing.

    DATABASE_URL=postgresql://... .venv/bin/python bench/bench_rules.py [--runs 200]

The database part runs inside one transaction that is rolled back: it leaves no rows behind.
(Order save end to end, 0 vs 50 rules, is measured by bench/bench_orders.py.)
"""

from __future__ import annotations

import argparse
import copy
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "erp.settings")
os.environ.setdefault("DJANGO_DEBUG", "1")

import django

django.setup()

from decimal import Decimal  # noqa: E402

from django.db import transaction  # noqa: E402

from erp.kernel.numbering import next_number  # noqa: E402
from exceptions_center import engine  # noqa: E402
from exceptions_center.facts_registry import facts_build, facts_samples  # noqa: E402
from exceptions_center.models import Rule  # noqa: E402
from exceptions_center.services.rules import rules_evaluate  # noqa: E402

HEADER_RULES = [
    "!customer.is_active",
    "!customer.has_uscc || !customer.has_address || !customer.has_contact",
    "ship_to != null && ship_to.is_hospital && ship_to.province_code != customer.province_code",
    "order.duplicate_count > 0",
    "order.days_to_delivery != null && order.days_to_delivery < 0",
    "order.gross_fen > params.threshold_fen",
    "order.submitted && order.price_changed_after_submit",
    "customer.is_military && order.gross_fen > params.threshold_fen",
    "order.requested_delivery_date != null && days_between(today, order.requested_delivery_date) < 2",
    "order.payment_terms == 'prepaid' && order.gross_fen > params.threshold_fen",
]
LINE_CONDITIONS = [
    "item.below_list_pct > params.max_pct",
    "!item.product.is_active",
    "item.product.is_cold_chain && order.days_to_delivery != null && order.days_to_delivery < 3",
    "item.product.device_class == 3 && !customer.is_hospital",
    "item.min_shelf_life_days != null && item.product.shelf_life_days != null && "
    "item.min_shelf_life_days > item.product.shelf_life_days",
]
EXISTS_RULES = [
    "order.lines.exists(l, l.product.device_class == 3 && l.quantity > params.max_qty)",
    "order.lines.exists(l, l.requested_lot != '' && l.product.is_serialised)",
]


def rule_specs(count: int) -> list[dict]:
    """``count`` realistic rules: header rules, per-line rules and exists() rules, with varied params
    so none of them is a copy of another."""
    specs = []
    for n in range(count):
        kind = n % 5
        if kind in (0, 1):
            condition = HEADER_RULES[n % len(HEADER_RULES)]
            specs.append({"condition": condition, "params": {"threshold_fen": 10_000_000 + n}})
        elif kind in (2, 3):
            specs.append(
                {
                    "iterate_over": "order.lines",
                    "condition": LINE_CONDITIONS[n % len(LINE_CONDITIONS)],
                    "detail_key": "item.key",
                    "params": {"max_pct": 15 + n},
                }
            )
        else:
            specs.append({"condition": EXISTS_RULES[n % len(EXISTS_RULES)], "params": {"max_qty": 100 + n}})
    return specs


def twenty_line_facts() -> dict:
    sample = facts_samples("order.saved")[1]
    facts = copy.deepcopy(sample)
    lines = facts["order"]["lines"]
    facts["order"]["lines"] = [
        {**copy.deepcopy(lines[i % len(lines)]), "line_no": i + 1, "key": f"L{i + 1}"} for i in range(20)
    ]
    facts["order"]["line_count"] = 20
    return facts


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(pct / 100 * (len(ordered) - 1)))]


def compiled(specs: list[dict]) -> list[engine.CompiledRule]:
    out = []
    for n, spec in enumerate(specs):
        rule = Rule(
            id=n + 1,
            code=f"BENCH-{n}",
            event="order.saved",
            category="business",
            severity="medium",
            message_zh="x",
            message_en="x",
            **spec,
        )
        out.append(engine.CompiledRule.from_rule(rule))
    return out


def kind_of(spec: dict) -> str:
    if spec.get("iterate_over"):
        return "per line (20 items)"
    return "exists() over lines" if "exists" in spec["condition"] else "header"


def timed(fn, runs: int) -> list[float]:
    fn()
    out = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t0) * 1e6)
    return out


def bench_expressions(runs: int) -> None:
    facts = twenty_line_facts()
    specs = rule_specs(50)

    t0 = time.perf_counter()
    rules = compiled(specs)
    compile_ms = (time.perf_counter() - t0) * 1000
    assert not any(r.error for r in rules), [r.error for r in rules if r.error]
    names = engine.names_for(rules)

    print("== CEL evaluation, 20-line order facts, 50 rules (in-process, no database)")
    print(f"compile 50 rules: {compile_ms:.1f} ms ({compile_ms / 50 * 1000:.0f} µs per rule, once per rule version)")
    whole = timed(lambda: engine.context_for(facts), runs)
    pruned = timed(lambda: engine.context_for(facts, names=names), runs)
    print(
        f"cel.Context, once per evaluation: all facts p50 {statistics.median(whole):.0f} µs; "
        f"pruned to the names the rules use p50 {statistics.median(pruned):.0f} µs"
    )

    context = engine.context_for(facts, names=names)
    for kind in ("header", "per line (20 items)", "exists() over lines"):
        subset = [r for r, spec in zip(rules, specs, strict=True) if kind_of(spec) == kind]
        grouped = timed(lambda subset=subset: engine.evaluate_all(subset, context, facts), runs)
        alone = timed(lambda subset=subset: [engine.evaluate(r, context, facts) for r in subset], runs)
        print(
            f"  {len(subset):2d} {kind:22s} p50 {statistics.median(grouped) / len(subset):7.1f} µs per rule "
            f"(p95 {percentile(grouped, 95) / len(subset):7.1f}); "
            f"one by one {statistics.median(alone) / len(subset):7.1f}"
        )
    total = timed(lambda: engine.evaluate_all(rules, context, facts), runs)
    print(
        f"all 50 rules: p50 {statistics.median(total):.0f} µs, p95 {percentile(total, 95):.0f} µs per evaluation "
        f"= {statistics.median(total) / 50:.1f} µs per rule"
    )
    every = timed(lambda: engine.evaluate_all(rules, engine.context_for(facts, names=names), facts), runs)
    print(f"context + 50 rules: p50 {statistics.median(every):.0f} µs, p95 {percentile(every, 95):.0f} µs")


def make_order(lines: int):
    from masterdata.models import Party, PartyKind, Product, Warehouse
    from orders.models import SalesOrder, SalesOrderLine

    customer = Party.objects.create(
        code="BENCH-RULES-C",
        name="基准医院",
        kind=PartyKind.HOSPITAL,
        region_code="310101",
        address="x",
        contact_name="x",
        contact_phone="1",
    )
    warehouse = Warehouse.objects.create(code="BENCH-RULES-WH", name="基准仓", region_code="310115", address="x")
    products = [
        Product.objects.create(
            sku=f"BENCH-RULES-{n}",
            name_zh=f"产品{n}",
            device_class=2,
            catalogue_code="14-02-01",
            list_price=Decimal("12.5000"),
        )
        for n in range(lines)
    ]
    order = SalesOrder.objects.create(number=next_number("SO"), customer=customer, warehouse=warehouse)
    rows = []
    for n, product in enumerate(products, start=1):
        line = SalesOrderLine(
            order=order, line_no=n, product=product, quantity=3, unit_price=product.list_price, tax_rate=Decimal("0.13")
        )
        line.compute_amounts()
        rows.append(line)
    SalesOrderLine.objects.bulk_create(rows)
    order.recompute_totals(rows)
    order.save()
    return order


class Rollback(Exception):
    pass


def bench_rules_evaluate(runs: int) -> None:
    print("== rules_evaluate on a 20-line order (facts from orders.facts, events synced, hold refreshed)")
    try:
        with transaction.atomic():
            Rule.objects.update(enabled=False)
            order = make_order(20)
            t = []
            for _ in range(runs):
                t0 = time.perf_counter()
                facts_build(event="order.saved", source=order, context={})
                t.append((time.perf_counter() - t0) * 1000)
            print(f"  facts only            p50 {statistics.median(t):6.2f} ms   p95 {percentile(t, 95):6.2f} ms")
            results = {}
            for label, count in (("0 rules", 0), ("50 rules", 50)):
                if count:
                    for n, spec in enumerate(rule_specs(count)):
                        Rule.objects.create(
                            code=f"BENCH-{n}",
                            name_zh="基准",
                            name_en="bench",
                            event="order.saved",
                            category="business",
                            severity="low",
                            message_zh="x",
                            message_en="x",
                            **spec,
                        )
                rules_evaluate(event="order.saved", source=order)  # compile, first sync
                t = []
                for _ in range(runs):
                    t0 = time.perf_counter()
                    rules_evaluate(event="order.saved", source=order)
                    t.append((time.perf_counter() - t0) * 1000)
                results[label] = t
                print(f"  {label:20s}  p50 {statistics.median(t):6.2f} ms   p95 {percentile(t, 95):6.2f} ms")
            added = statistics.median(results["50 rules"]) - statistics.median(results["0 rules"])
            print(f"  50 rules add {added:.2f} ms (p50) to an order save")
            raise Rollback
    except Rollback:
        pass


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--no-db", action="store_true", help="only the in-process CEL figures")
    args = parser.parse_args()
    bench_expressions(args.runs)
    if not args.no_db:
        bench_rules_evaluate(args.runs)
