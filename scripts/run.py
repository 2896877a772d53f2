"""`make run`: migrate, load demo data once, create demo users, serve on 127.0.0.1:8000.

Safe to re-run. Without DATABASE_URL the embedded PostgreSQL in var/ is used and stopped on exit;
without REDIS_URL Celery tasks run in-process after commit.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "erp.settings")
os.environ.setdefault("DJANGO_DEBUG", "1")


def main() -> int:
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command

    if not settings.REDIS_URL:
        print("REDIS_URL is not set: Celery tasks run in-process after each commit (no worker needed).")
    if not settings.DATABASE_URL:
        print(f"DATABASE_URL is not set: using the embedded PostgreSQL in {settings.VAR_DIR / 'pgdata'}.")
    call_command("migrate", interactive=False, verbosity=0)
    call_command("compilemessages_if_needed")
    call_command("seed_demo", if_empty=True)
    logins = call_command("demo_users")
    print(logins)
    print("Serving on http://127.0.0.1:8000/  (Ctrl-C stops the server and the embedded database)")
    # The server runs as a child so that this process keeps its hold on the embedded database and
    # stops it when the child ends, whether by Ctrl-C or SIGTERM.
    child = subprocess.Popen([sys.executable, "manage.py", "runserver", "127.0.0.1:8000"], cwd=ROOT)

    def _forward(signum, _frame):
        child.send_signal(signal.SIGINT if signum == signal.SIGINT else signal.SIGTERM)

    signal.signal(signal.SIGINT, _forward)
    signal.signal(signal.SIGTERM, _forward)
    return child.wait()


if __name__ == "__main__":
    raise SystemExit(main())
