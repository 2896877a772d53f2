"""Order benchmarks (issue 3). Prints figures; asserts nothing but the numbering invariant.

    psql -h 127.0.0.1 -U postgres -c "create database erp_bench_orders"
    ERP_TESTING=1 DATABASE_URL=postgresql://postgres@127.0.0.1:5432/erp_bench_orders \\
        .venv/bin/python bench/bench_orders.py [--only save,sustained] [--runs 100] [--orders 2000]

1. save: ``POST /api/v1/orders/`` with 20 lines, in-process (Django test client with token auth: routing,
   auth, permissions, validation, service, rules, JSON), with every rule disabled and with 50 active
   ``order.saved`` rules (the orders catalogue plus copies of it up to 50), in alternating blocks.
   p50/p95 ms and the ratio. Target: rules add at most 25 %.
2. sustained: 2 gunicorn workers (sync) on 127.0.0.1:PORT, a load generator in another process with
   N threads and keep-alive connections posting 5-line orders in a bounded loop. Orders/s. Target ≥ 100.
   Also prints the CPU time per order of the gunicorn workers, the PostgreSQL backends serving them
   (when PostgreSQL runs on this machine) and the load generator: those figures move less between
   runs on a shared VM than orders/s. ``BENCH_GUNICORN_EXTRA`` adds gunicorn options for experiments
   (``--threads 2`` was slower: 2 sync workers are what the target names and what is fastest here).

Use a dedicated database: the script migrates it and leaves its orders behind; the bench rule copies
are removed and the catalogue's enabled flags restored at the end.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "erp.settings")
os.environ.setdefault("ERP_TESTING", "1")

BENCH_PREFIX = "BENCH-COPY-"


def setup_django():
    import django

    django.setup()


def seed(lines: int = 20):
    """A customer, a cold-storage warehouse, 20 products with ample released stock, an integrator token."""
    import datetime

    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group
    from knox.models import AuthToken

    from masterdata.models import Party, Product, Warehouse
    from masterdata.validators import gtin_check_digit

    user, created = get_user_model().objects.get_or_create(username="bench_integrator")
    if created:
        user.set_unusable_password()
        user.save()
        user.groups.add(Group.objects.get(name="integrator"))
    # A fresh API token per run (only its digest is stored, so an old one cannot be read back).
    _row, token = AuthToken.objects.create(user=user, expiry=datetime.timedelta(hours=2))
    customer = Party.objects.filter(code="BENCH-HOSP").first()
    if customer is None:
        customer = Party(
            code="BENCH-HOSP",
            name="基准医院",
            kind="hospital",
            region_code="310101",
            address="上海市黄浦区1号",
            contact_name="王芳",
            contact_phone="021-1",
        )
        from stdnum.cn import uscc

        body = "12310000425099" + "001"
        customer.uscc = body + uscc.calc_check_digit(body)
        customer.save()
    warehouse = Warehouse.objects.filter(code="BENCH-WH").first()
    if warehouse is None:
        warehouse = Warehouse(
            code="BENCH-WH", name="基准仓", region_code="310115", address="上海市浦东新区1号", is_cold_storage=True
        )
        warehouse.save()
    products = []
    for seq in range(lines):
        body = f"0696{seq:09d}"  # a company prefix of its own (scaled demo: 6980…, bench_trace: 0697…)
        product, _ = Product.objects.get_or_create(
            sku=f"BENCH-ORD-{seq:03d}",
            defaults={
                "name_zh": f"基准产品{seq}",
                "udi_di": body + gtin_check_digit(body),
                "device_class": 2,
                "catalogue_code": "14-02-01",
                "list_price": Decimal("12.5000"),
                "shelf_life_days": 730,
            },
        )
        products.append(product)
    stock_seed(warehouse, products)
    return token, customer, warehouse, products


def stock_seed(warehouse, products) -> None:
    """A released lot with ample stock of every bench product in the bench warehouse, so the stock rules
    (shortage, near expiry) stay silent on a bench order instead of raising and routing an event per
    line. Bench-only shortcut: the rows are written directly, not received through the ledger."""
    import datetime as dt

    from django.utils import timezone

    from traceability.models import Lot, LotStatus, StockBalance

    today = timezone.localdate()
    for product in products:
        lot, _ = Lot.objects.get_or_create(
            product=product,
            lot_number="BENCH-LOT",
            defaults={
                "production_date": today - dt.timedelta(days=30),
                "expiry_date": today + dt.timedelta(days=700),
                "status": LotStatus.RELEASED,
            },
        )
        StockBalance.objects.get_or_create(warehouse=warehouse, product=product, lot=lot, defaults={"on_hand": 10**8})


def quantities(seq: int, lines: int) -> list[int]:
    """Line quantities that spell ``seq`` in base 997: different for every ``seq`` below 997**lines, so
    no bench order is a likely duplicate of another (which would raise and route an exception event and
    measure that instead of a clean save)."""
    return [1 + (seq // 997**i) % 997 for i in range(lines)]


def order_seq_start() -> int:
    """Milliseconds since the epoch, wrapped at 997**3 (about 11.5 days): each run starts past the
    previous run's numbers, so orders of runs within the duplicate window (24 h) differ too."""
    return int(time.time() * 1000) % 997**3


def payload(customer, warehouse, products, lines: int, seq: int = 0) -> dict:
    """A clean order; ``seq`` sets the quantities so no two orders are duplicates."""
    import datetime as dt

    from django.utils import timezone

    return {
        "customer": customer.pk,
        "warehouse": warehouse.pk,
        "requested_delivery_date": (timezone.localdate() + dt.timedelta(days=10)).isoformat(),
        "customer_po": "BENCH",
        "lines": [
            {"product": p.pk, "quantity": q}
            for p, q in zip(products[:lines], quantities(seq, len(products[:lines])), strict=True)
        ],
    }


def rules_set(active: int) -> int:
    """Exactly ``active`` enabled order.saved rules that stay silent on the bench order: the orders
    catalogue, then copies of it (kept disabled between runs). The stock rules of other apps are left
    out, so both runs measure the same kind of rule (the sustained run keeps the whole catalogue, stock
    rules included). Returns the number of enabled rules."""
    from exceptions_center.models import Rule, RuleRouteStep

    rules = list(Rule.objects.filter(event="order.saved").order_by("code"))
    catalogue = [r for r in rules if r.code.startswith("ORD-")]
    copies = {r.code: r for r in rules if r.code.startswith(BENCH_PREFIX)}
    wanted: set[str] = set()
    if active:
        wanted = {r.code for r in catalogue}
        n = 0
        while len(wanted) < active:
            source = catalogue[n % len(catalogue)]
            code = f"{BENCH_PREFIX}{n:02d}-{source.code}"[:40]
            if code not in copies:
                steps = list(source.route_steps.all())
                copy = Rule.objects.get(pk=source.pk)
                copy.pk = copy.id = None
                copy.code = code
                copy.save()
                RuleRouteStep.objects.bulk_create(
                    [RuleRouteStep(rule=copy, department_id=s.department_id, position=s.position) for s in steps]
                )
                copies[code] = copy
            wanted.add(code)
            n += 1
    for rule in [*Rule.objects.filter(event="order.saved")]:
        enabled = rule.code in wanted
        if rule.enabled != enabled:
            rule.enabled = enabled
            rule.save()
    return Rule.objects.filter(event="order.saved", enabled=True).count()


def rules_restore(enabled_codes: set[str]) -> None:
    from exceptions_center.models import Rule

    for rule in Rule.objects.filter(event="order.saved"):
        wanted = rule.code in enabled_codes and not rule.code.startswith(BENCH_PREFIX)
        if rule.enabled != wanted:
            rule.enabled = wanted
            rule.save()


def percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return statistics.median(ordered), p95


def bench_save(runs: int, lines: int, blocks: int = 10) -> None:
    """0 vs 50 active rules, in alternating blocks (``blocks`` of each, ``runs`` orders in all per
    setting), so that a shared VM speeding up or slowing down between the two settings does not show
    up as a difference between them."""
    from rest_framework.test import APIClient

    from exceptions_center.models import Rule

    token, customer, warehouse, products = seed(lines)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    seq = iter(range(order_seq_start(), 10**12))  # new quantities on every run
    enabled_before = set(Rule.objects.filter(event="order.saved", enabled=True).values_list("code", flat=True))
    times: dict[int, list[float]] = {0: [], 50: []}
    counts, raised = {}, {}
    per_block = max(1, runs // blocks)
    try:
        for _block in range(blocks):
            for active in (0, 50):
                counts[active] = rules_set(active)
                # warm up: compile the rules in this process, fill caches
                for _ in range(3):
                    body = payload(customer, warehouse, products, lines, next(seq))
                    response = client.post("/api/v1/orders/", body, format="json")
                    assert response.status_code == 201
                raised[active] = len(response.json()["open_events"])
                for _ in range(per_block):
                    body = payload(customer, warehouse, products, lines, next(seq))
                    start = time.perf_counter()
                    response = client.post("/api/v1/orders/", body, format="json")
                    times[active].append((time.perf_counter() - start) * 1000)
                    assert response.status_code == 201, response.content[:300]
    finally:
        rules_restore(enabled_before)
    results = {}
    for active in (0, 50):
        p50, p95 = percentiles(times[active])
        results[active] = (p50, p95)
        print(
            f"save  {lines}-line order, {counts[active]:2d} active rules ({raised[active]} events raised): "
            f"p50 {p50:6.1f} ms  p95 {p95:6.1f} ms  (n={len(times[active])}, {blocks} alternating blocks)"
        )
    ratio50 = results[50][0] / results[0][0]
    ratio95 = results[50][1] / results[0][1]
    print(f"save  rules add {100 * (ratio50 - 1):+.1f} % at p50, {100 * (ratio95 - 1):+.1f} % at p95 (target ≤ +25 %)")


LOADGEN = r"""
import http.client, json, sys, threading, time
host, port, token, body = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
total, threads = int(sys.argv[5]), int(sys.argv[6])
lock = threading.Lock(); state = {"left": total, "ok": 0, "bad": 0, "lat": [], "n": int(sys.argv[7])}
template = json.loads(body)
def worker():
    conn = http.client.HTTPConnection(host, port, timeout=30)
    headers = {"Authorization": "Token " + token, "Content-Type": "application/json", "Connection": "keep-alive"}
    while True:
        with lock:
            if state["left"] <= 0: break
            state["left"] -= 1; state["n"] += 1; n = state["n"]
        # quantities spell n in base 997: no order is a likely duplicate of another
        for i, line in enumerate(template["lines"]): line["quantity"] = 1 + (n // 997 ** i) % 997
        payload = json.dumps(template)
        t = time.perf_counter()
        try:
            conn.request("POST", "/api/v1/orders/", body=payload, headers=headers)
            r = conn.getresponse(); r.read()
            ok = r.status == 201
        except Exception:
            conn.close(); conn = http.client.HTTPConnection(host, port, timeout=30); ok = False
        with lock:
            state["ok" if ok else "bad"] += 1; state["lat"].append((time.perf_counter() - t) * 1000)
start = time.perf_counter()
ts = [threading.Thread(target=worker) for _ in range(threads)]
[t.start() for t in ts]; [t.join() for t in ts]
elapsed = time.perf_counter() - start
lat = sorted(state["lat"])
print(json.dumps({"ok": state["ok"], "bad": state["bad"], "elapsed": elapsed,
                  "p50": lat[len(lat)//2], "p95": lat[int(0.95*(len(lat)-1))]}))
"""


def _children(pid: int) -> list[int]:
    """The gunicorn workers: the arbiter's child processes (Linux /proc)."""
    try:
        return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def _backend_pids() -> list[int]:
    """PostgreSQL backends serving this database (the workers' persistent connections), when the
    server runs on this machine."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
            "AND backend_type = 'client backend' AND pid <> pg_backend_pid()"
        )
        pids = [row[0] for row in cursor.fetchall()]
    connection.close()
    return [pid for pid in pids if Path(f"/proc/{pid}/stat").exists()]


def _cpu_seconds(pids: list[int]) -> float:
    """User + system CPU time of these processes (Linux /proc), in seconds."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / os.sysconf("SC_CLK_TCK")


def _children_cpu_seconds() -> float:
    import resource

    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def bench_sustained(orders: int, threads: int, port: int, lines: int = 5) -> None:
    import urllib.request

    from django.db import connection

    from orders.models import SalesOrder

    token, customer, warehouse, products = seed(20)
    body = json.dumps(payload(customer, warehouse, products, lines))
    before = SalesOrder.objects.count()
    start = order_seq_start()
    connection.close()
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "erp.settings"}
    server = subprocess.Popen(
        [
            str(ROOT / ".venv/bin/gunicorn"),
            "erp.wsgi:application",
            "--workers",
            "2",
            "--bind",
            f"127.0.0.1:{port}",
            "--log-level",
            "warning",
            "--keep-alive",
            "30",
            *os.environ.get("BENCH_GUNICORN_EXTRA", "").split(),
        ],
        cwd=ROOT,
        env=env,
    )
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1)
                break
            except Exception:
                time.sleep(0.2)
        # warm up both workers (rule compilation, connections)
        subprocess.run(
            [sys.executable, "-c", LOADGEN, "127.0.0.1", str(port), token, body, "40", "4", str(start)],
            check=True,
            capture_output=True,
        )
        loadgen = [sys.executable, "-c", LOADGEN, "127.0.0.1", str(port), token, body]
        workers = _children(server.pid)
        backends = _backend_pids()
        cpu_before = _cpu_seconds(workers), _cpu_seconds(backends), _children_cpu_seconds()
        done = subprocess.run(
            [*loadgen, str(orders), str(threads), str(start + 40)],
            check=True,
            capture_output=True,
            text=True,
        )
        cpu_after = _cpu_seconds(workers), _cpu_seconds(backends), _children_cpu_seconds()
        figures = json.loads(done.stdout.strip().splitlines()[-1])
    finally:
        server.terminate()
        server.wait(timeout=20)
    rate = figures["ok"] / figures["elapsed"]
    print(
        f"sustained  {lines}-line orders through 2 gunicorn workers, {threads} client threads: "
        f"{figures['ok']} created ({figures['bad']} failed) in {figures['elapsed']:.1f} s = {rate:.0f} orders/s; "
        f"latency p50 {figures['p50']:.0f} ms p95 {figures['p95']:.0f} ms (target ≥ 100 orders/s)"
    )
    if figures["ok"]:
        pairs = zip(cpu_before, cpu_after, strict=True)
        per_order = [1000 * (after - before) / figures["ok"] for before, after in pairs]
        print(
            "sustained  CPU per order: gunicorn workers {:.1f} ms, PostgreSQL backends {:.1f} ms, "
            "load generator {:.1f} ms".format(*per_order)
            + ("" if backends else " (PostgreSQL is not on this machine: not measured)")
        )
    numbers = list(SalesOrder.objects.order_by("number").values_list("number", flat=True)[before:])
    assert len(numbers) == len(set(numbers)), "duplicate order numbers"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--only", default="save,sustained")
    parser.add_argument("--runs", type=int, default=100)
    parser.add_argument("--lines", type=int, default=20)
    parser.add_argument("--orders", type=int, default=2000)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--port", type=int, default=8014)
    args = parser.parse_args()
    setup_django()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    parts = set(args.only.split(","))
    if "save" in parts:
        bench_save(args.runs, args.lines)
    if "sustained" in parts:
        bench_sustained(args.orders, args.threads, args.port)


if __name__ == "__main__":
    main()
