"""`make run`: migrate, load demo data once, create demo users, serve on http://127.0.0.1:8000.

Safe to re-run. Without DATABASE_URL the embedded PostgreSQL in var/ is used and stopped on exit;
without REDIS_URL Celery tasks run in-process after commit.

Process layout: this process holds the embedded database (it imported the settings first) and runs
``manage.py runserver`` as a child in its own process group. Ctrl-C, SIGTERM or SIGHUP to this process
(or its parent, ``make``, going away) stops the whole group, then this process lets go of the database,
which stops it unless another process (say ``make test``) still uses it. The autoreloader restarts only
the child's inner server process, so the database stays up across code reloads.
"""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "erp.settings")
os.environ.setdefault("DJANGO_DEBUG", "1")

ADDRESS = os.environ.get("ERP_RUN_ADDRESS", "127.0.0.1:8000")
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


def prepare() -> str:
    """Bring the database up to date and return the demo logins table."""
    from django.conf import settings
    from django.core.management import call_command

    if not settings.DATABASE_URL:
        print(f"DATABASE_URL is not set: using the embedded PostgreSQL in {settings.VAR_DIR / 'pgdata'}.")
    else:
        print("Using the database in DATABASE_URL.")
    if settings.REDIS_URL:
        print("REDIS_URL is set: Celery tasks are queued on Redis; start `make worker` and `make beat` to run them.")
    else:
        print("REDIS_URL is not set: Celery tasks run in-process after each commit (no worker needed).")
    call_command("migrate", interactive=False, verbosity=0)
    call_command("compilemessages_if_needed")
    call_command("seed_demo", if_empty=True)
    return call_command("demo_users", stdout=io.StringIO())


def serve() -> int:
    """Run ``runserver`` in its own process group until it exits or we are asked to stop."""
    stop: list[int] = []

    def _request_stop(signum, _frame):
        stop.append(signum)

    for signum in STOP_SIGNALS:
        signal.signal(signum, _request_stop)
    parent = os.getppid()
    child = subprocess.Popen(
        [sys.executable, "manage.py", "runserver", ADDRESS],
        cwd=ROOT,
        start_new_session=True,  # its own group: we stop the autoreloader and its server together
    )
    while child.poll() is None and not stop:
        if os.getppid() != parent:  # `make` was killed: do not outlive it
            stop.append(signal.SIGHUP)
            break
        time.sleep(0.2)
    if child.poll() is None:
        _stop_group(child)
    return child.returncode if not stop else 0


def _stop_group(child: subprocess.Popen) -> None:
    """SIGINT (a clean KeyboardInterrupt in runserver), then SIGTERM, then SIGKILL to the child's group."""
    for signum, grace in ((signal.SIGINT, 10), (signal.SIGTERM, 5), (signal.SIGKILL, 5)):
        try:
            os.killpg(child.pid, signum)
        except ProcessLookupError:
            break
        try:
            child.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            continue
        # The autoreloader's inner server may outlive its parent for a moment.
        deadline = time.monotonic() + grace
        while _group_alive(child.pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        if not _group_alive(child.pid):
            break


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _interrupt(_signum, _frame):
    raise KeyboardInterrupt


def main() -> int:
    # Until the server runs, any stop signal unwinds through ``finally`` so the database is released.
    for signum in STOP_SIGNALS:
        signal.signal(signum, _interrupt)
    import django

    django.setup()
    from django.conf import settings

    code = 130
    try:
        logins = prepare()
        print(logins)
        print(f"Serving on http://{ADDRESS}/  (Ctrl-C stops the server and the embedded database)", flush=True)
        code = serve()
    except KeyboardInterrupt:
        print("Interrupted.")
    finally:
        if not settings.DATABASE_URL:
            from erp import embedded_db

            embedded_db.release(settings.VAR_DIR)
            print("Stopped." if not embedded_db.server_pids(settings.VAR_DIR) else "Stopped (database still in use).")
    return code


if __name__ == "__main__":
    raise SystemExit(main())
