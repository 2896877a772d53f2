"""Instructions per 5-line order save, counted by valgrind's callgrind: a repeatable figure for
comparing two versions of the Python-side code on a VM whose speed drifts (bench/README.md).

    ERP_TESTING=1 DATABASE_URL=postgresql://postgres@127.0.0.1:5432/erp_bench_orders \\
        .venv/bin/python bench/bench_instructions.py

Runs the same in-process API client (Django test client, token auth) under callgrind twice, for 10
and for 40 orders after the same start-up, and prints the difference divided by 30. PostgreSQL's own
work is not counted (it runs in its server process). Needs ``valgrind`` on PATH; uses the database of
``DATABASE_URL`` like ``bench_orders.py`` (seeds its bench rows, leaves its orders behind).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

CHILD = r"""
import random, sys
sys.path.insert(0, sys.argv[2]); sys.path.insert(0, sys.argv[3])
import bench_orders as b
b.setup_django()
from rest_framework.test import APIClient
token, customer, warehouse, products = b.seed(20)
client = APIClient(); client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
seq = iter(range(b.order_seq_start() + random.randint(10**6, 10**9), 10**12))
for _ in range(int(sys.argv[1])):
    response = client.post("/api/v1/orders/", b.payload(customer, warehouse, products, 5, next(seq)), format="json")
    assert response.status_code == 201, response.content[:300]
"""


def instructions(orders: int, out_dir: str) -> int:
    out = Path(out_dir) / f"callgrind.{orders}"
    done = subprocess.run(
        [
            "valgrind",
            "--tool=callgrind",
            f"--callgrind-out-file={out}",
            sys.executable,
            "-c",
            CHILD,
            str(orders),
            str(ROOT / "bench"),
            str(ROOT),
        ],
        capture_output=True,
        text=True,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "erp.settings", "ERP_TESTING": "1"},
        check=True,
    )
    match = re.search(r"Collected : (\d+)", done.stderr)
    assert match, done.stderr[-2000:]
    return int(match.group(1))


def main() -> None:
    if shutil.which("valgrind") is None:
        sys.exit("valgrind is not installed (apt-get install valgrind)")
    with tempfile.TemporaryDirectory() as out_dir:
        few, many = instructions(10, out_dir), instructions(40, out_dir)
    print(f"instructions  5-line order save (API, in-process): {(many - few) / 30 / 1e6:.2f} M per order")


if __name__ == "__main__":
    main()
