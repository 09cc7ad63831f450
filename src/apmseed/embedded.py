"""The embedded PostgreSQL: `pgserver` (PostgreSQL in a wheel) or, where it has no wheel, initdb/pg_ctl on PATH."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import tempfile
import warnings
from pathlib import Path

from platformdirs import user_data_dir

from apmseed.errors import ApmseedError

INSTALL_HINT = (
    "install the embedded server with `pip install pgserver` (CPython 3.10-3.12), put PostgreSQL's "
    "initdb and pg_ctl on PATH, or pass --database-url / set APMSEED_DATABASE_URL"
)


def default_data_dir() -> Path:
    return Path(os.environ.get("APMSEED_DATA_DIR") or Path(user_data_dir("apmseed")) / "pgdata")


def start(data_dir: Path) -> str:
    """Start (or reuse) the embedded server for `data_dir`; return a SQLAlchemy URL."""
    data_dir = data_dir.expanduser().resolve()
    if data_dir.exists() and not data_dir.is_dir():
        raise ApmseedError(f"data directory {data_dir} is a file", "pass a directory to --data-dir")
    try:
        data_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ApmseedError(f"cannot create data directory {data_dir}: {exc.strerror}",
                           "pass a writable --data-dir") from None
    try:
        with warnings.catch_warnings():  # platformdirs warns about XDG_RUNTIME_DIR on servers
            warnings.simplefilter("ignore")
            import pgserver  # type: ignore[import-untyped]
    except ImportError:
        return _start_with_binaries(data_dir)
    try:
        with warnings.catch_warnings():  # platformdirs warns about XDG_RUNTIME_DIR on servers
            warnings.simplefilter("ignore")
            server = pgserver.get_server(data_dir, cleanup_mode="stop")
    except Exception as exc:  # pgserver raises plain exceptions with the server log in them
        raise ApmseedError(f"the embedded PostgreSQL in {data_dir} did not start: {str(exc).splitlines()[0]}",
                           "remove the data directory or pass another --data-dir") from None
    socket_dir = server.get_uri().split("host=", 1)[1]
    return f"postgresql+psycopg://postgres@/postgres?host={socket_dir}"


def _socket_dir(data_dir: Path) -> Path:
    # unix socket paths are limited to ~107 bytes: keep them short whatever the data dir is
    digest = hashlib.sha1(str(data_dir).encode()).hexdigest()[:12]
    path = Path(tempfile.gettempdir()) / f"apmseed-{digest}"
    path.mkdir(mode=0o700, exist_ok=True)
    return path


def _start_with_binaries(data_dir: Path) -> str:
    initdb, pg_ctl = shutil.which("initdb"), shutil.which("pg_ctl")
    if not (initdb and pg_ctl):
        raise ApmseedError("no embedded PostgreSQL is available", INSTALL_HINT)
    pgdata = data_dir / "pg"
    sock = _socket_dir(data_dir)
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        raise ApmseedError("initdb refuses to run as root", INSTALL_HINT)
    if not (pgdata / "PG_VERSION").exists():
        subprocess.run([initdb, "-D", str(pgdata), "-U", "postgres", "--auth=trust", "-E", "UTF8"],
                       check=True, capture_output=True)
    status = subprocess.run([pg_ctl, "-D", str(pgdata), "status"], capture_output=True)
    if status.returncode != 0:
        opts = f"-k {sock} -c listen_addresses=''"
        result = subprocess.run([pg_ctl, "-D", str(pgdata), "-o", opts, "-w", "-l",
                                 str(data_dir / "postgres.log"), "start"], capture_output=True, text=True)
        if result.returncode != 0:
            raise ApmseedError(f"PostgreSQL in {pgdata} did not start (see {data_dir / 'postgres.log'})",
                               "remove the data directory or pass another --data-dir")
    return f"postgresql+psycopg://postgres@/postgres?host={sock}"
