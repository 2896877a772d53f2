"""Benchmark harness: seed a scaled data set once into its own database, then print figures.

    make bench                                   # or: .venv/bin/python bench/run_all.py
    .venv/bin/python bench/run_all.py --scale 1000 --requests 200 --reseed

Database: ``erp_bench`` on the server of ``DATABASE_URL`` (or ``BENCH_DATABASE_URL`` as given), else on
the embedded PostgreSQL. It is created, migrated and seeded with ``seed_demo --scale N`` the first time
and reused afterwards (``--reseed`` drops and rebuilds it). Figures are printed; nothing is asserted
(targets: bench/README.md). Requests go through Django's test client in this process, with token
authentication, so they include URL routing, authentication, permissions, filters, pagination and JSON
rendering, but not a network hop.

The other ``bench/bench_*.py`` scripts are run at the end unless ``--only-api``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
BENCH_DB = "erp_bench"


def bench_environment() -> dict[str, str]:
    """The environment for this harness and its subprocesses: the bench database, no debug."""
    env = dict(os.environ)
    env.pop("DJANGO_DEBUG", None)
    env["ERP_TESTING"] = "1"  # a fixed secret key and DEBUG off, as in the tests
    env["DJANGO_SETTINGS_MODULE"] = "erp.settings"
    if env.get("BENCH_DATABASE_URL"):
        env["DATABASE_URL"] = env["BENCH_DATABASE_URL"]
    elif env.get("DATABASE_URL"):
        parts = urlsplit(env["DATABASE_URL"])
        env["DATABASE_URL"] = urlunsplit(parts._replace(path=f"/{BENCH_DB}"))
    else:
        env["ERP_EMBEDDED_DB_NAME"] = BENCH_DB
    return env


def manage(env: dict[str, str], *args: str) -> None:
    subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, check=True)


def ensure_database(env: dict[str, str], reseed: bool) -> None:
    """Create (or, with ``reseed``, recreate) the bench database on an external server."""
    if "DATABASE_URL" not in env:
        return  # the embedded server creates its database on start; --reseed drops rows below
    import psycopg

    parts = urlsplit(env["DATABASE_URL"])
    admin_url = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin_url, autocommit=True) as conn:
        if reseed:
            conn.execute(f'DROP DATABASE IF EXISTS "{BENCH_DB}" WITH (FORCE)')
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [BENCH_DB]).fetchone():
            conn.execute(f'CREATE DATABASE "{BENCH_DB}"')


def party_count(env: dict[str, str]) -> int:
    out = subprocess.run(
        [
            sys.executable,
            "manage.py",
            "shell",
            "-c",
            "from masterdata.models import Party; print(Party.objects.count())",
        ],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return int(out.strip().splitlines()[-1])


def seed_once(env: dict[str, str], scale: int, reseed: bool) -> dict:
    """Migrate and seed unless the data set of this scale is already there; return the seed figures."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    record_file = RESULTS / f"seed-scale-{scale}.json"
    ensure_database(env, reseed)
    manage(env, "migrate", "--verbosity", "0")
    wanted = 100 * scale if scale > 1 else 1
    have = party_count(env)
    if have >= wanted and record_file.exists() and not reseed:
        record = json.loads(record_file.read_text())
        record["reused"] = True
        return record
    started = time.perf_counter()
    manage(env, "seed_demo", "--scale", str(scale))
    seconds = time.perf_counter() - started
    record = {"scale": scale, "seconds": round(seconds, 1), "parties": party_count(env), "reused": False}
    record_file.write_text(json.dumps(record))
    # Measure a settled database, as production runs after autovacuum: visibility map and statistics.
    manage(env, "dbshell", "--", "-q", "-c", "VACUUM ANALYZE")
    return record


# --- API figures ---------------------------------------------------------------------------------


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(pct / 100 * len(ordered)) - 1))
    return ordered[index]


def measure(client, url: str, requests: int) -> dict:
    """Time ``requests`` GETs (after 5 warm-up requests) and count the queries of one request."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for _ in range(5):
        response = client.get(url)
        assert response.status_code == 200, (url, response.status_code, response.content[:300])
    timings = []
    for _ in range(requests):
        started = time.perf_counter()
        client.get(url)
        timings.append((time.perf_counter() - started) * 1000)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    body = response.json()
    return {
        "url": url,
        "p50": percentile(timings, 50),
        "p95": percentile(timings, 95),
        "mean": statistics.fmean(timings),
        "queries": len(queries),
        "rows": len(body.get("results", [])) if isinstance(body, dict) else len(body),
        "count": body.get("count") if isinstance(body, dict) else None,
    }


def api_figures(requests: int) -> list[dict]:
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from knox.models import AuthToken
    from rest_framework.test import APIClient

    def client_for(username: str) -> APIClient:
        user = get_user_model().objects.get(username=username)
        _row, token = AuthToken.objects.create(user=user, expiry=timedelta(hours=2))
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
        return client

    integrator, rep = client_for("integrator1"), client_for("sales1")
    parties, products = "/api/v1/masterdata/parties/", "/api/v1/masterdata/products/"
    cases = [
        ("integrator", integrator, f"{parties}?page_size=10"),
        ("integrator", integrator, f"{parties}?page_size=50"),
        ("integrator", integrator, f"{parties}?page_size=200"),
        ("integrator", integrator, f"{parties}?kind=hospital&region_code=310104&page_size=50"),
        ("integrator", integrator, f"{parties}?q=%E7%AC%AC12345&page_size=50"),
        ("integrator", integrator, f"{parties}?page=1000&page_size=50"),
        ("integrator", integrator, f"{parties}code/XH0050000/"),
        ("sales rep", rep, f"{parties}?page_size=10"),
        ("sales rep", rep, f"{parties}?page_size=50"),
        ("sales rep", rep, f"{parties}?page_size=200"),
        ("integrator", integrator, f"{products}?page_size=10"),
        ("integrator", integrator, f"{products}?page_size=50"),
        ("integrator", integrator, f"{products}?page_size=200"),
        ("integrator", integrator, f"{products}?device_class=3&page_size=50"),
    ]
    figures = []
    for who, client, url in cases:
        figure = measure(client, url, requests)
        figure["who"] = who
        figures.append(figure)
        print(
            f"  {who:<10} GET {url:<62} p50 {figure['p50']:7.1f} ms  p95 {figure['p95']:7.1f} ms  "
            f"queries {figure['queries']:2d}  rows {figure['rows']:3d}  of {figure['count']}",
            flush=True,
        )
    return figures


def other_benchmarks(env: dict[str, str]) -> None:
    for script in sorted((ROOT / "bench").glob("bench_*.py")):
        print(f"\n== {script.name}", flush=True)
        result = subprocess.run([sys.executable, str(script)], cwd=ROOT, env=env, check=False)
        if result.returncode:
            print(f"  {script.name} exited with {result.returncode}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", type=int, default=1000, help="seed_demo --scale (1000 = ~100k parties)")
    parser.add_argument("--requests", type=int, default=200, help="timed requests per URL")
    parser.add_argument("--reseed", action="store_true", help="drop and rebuild the bench database")
    parser.add_argument("--only-api", action="store_true", help="skip the other bench/bench_*.py scripts")
    args = parser.parse_args()

    env = bench_environment()
    os.environ.clear()
    os.environ.update(env)
    sys.path.insert(0, str(ROOT))
    where = env.get("DATABASE_URL", f"embedded PostgreSQL, database {BENCH_DB}")
    print(f"Benchmarks on {platform.node()} ({platform.processor() or platform.machine()}, {os.cpu_count()} CPUs)")
    print(f"Database: {where}")
    print(
        "Load average at start: {:.1f} {:.1f} {:.1f} (figures are only comparable on a quiet machine)\n".format(
            *os.getloadavg()
        )
    )

    print(f"== seed_demo --scale {args.scale}", flush=True)
    seed = seed_once(env, args.scale, args.reseed)
    state = "reused the data set seeded earlier, which took" if seed["reused"] else "seeded in"
    print(f"  {state} {seed['seconds']} s ({seed['parties']} parties)\n")

    print(f"== API lists ({args.requests} requests each, Django test client, token auth)", flush=True)
    api_figures(args.requests)
    if not args.only_api:
        other_benchmarks(env)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
