"""The one server every step runs on, and a fresh database per step (so no step inherits another's bloat)."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from apmseed import db, embedded


class Server:
    def __init__(self, url: str, kind: str) -> None:
        self.url = url
        self.kind = kind
        self.admin = db.create_engine(url).execution_options(isolation_level="AUTOCOMMIT")
        self.tag = uuid.uuid4().hex[:6]

    def scalar(self, sql: str) -> Any:
        with db.connect(self.admin) as conn:
            return conn.execute(sa.text(sql)).scalar()

    @contextmanager
    def database(self, label: str) -> Iterator[str]:
        """A new database for one step, dropped afterwards; yields its URL."""
        name = f"apmseed_bench_{self.tag}_{label}"
        with db.connect(self.admin) as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
        try:
            yield sa.make_url(self.url).set(database=name).render_as_string(hide_password=False)
        finally:
            with db.connect(self.admin) as conn:
                conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))

    def checkpoint(self) -> None:
        """Start each timed step with no dirty buffers left over from the previous one (needs superuser)."""
        try:
            with db.connect(self.admin) as conn:
                conn.execute(sa.text("CHECKPOINT"))
        except sa.exc.DBAPIError:
            pass

    def dispose(self) -> None:
        self.admin.dispose()


@contextmanager
def server(url: str | None) -> Iterator[Server]:
    """The server at `url`, else an embedded one in a temporary directory, stopped and removed afterwards."""
    if url:
        srv = Server(db.normalise_url(url), "given by --database-url / APMSEED_DATABASE_URL")
        try:
            srv.scalar("SELECT 1")
            yield srv
        finally:
            srv.dispose()
        return
    tmp = Path(tempfile.mkdtemp(prefix="apmseed-bench-"))
    data_dir = tmp / "pg"
    try:
        srv = Server(embedded.start(data_dir), "embedded (pgserver or initdb/pg_ctl) in a temporary directory")
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    try:
        yield srv
    finally:
        srv.dispose()
        _stop(data_dir)
        shutil.rmtree(tmp, ignore_errors=True)


def _stop(data_dir: Path) -> None:
    """Stop the embedded server before its directory goes (pgserver, or the initdb/pg_ctl fallback)."""
    try:
        import pgserver  # type: ignore[import-untyped]

        pgserver.get_server(data_dir.resolve()).cleanup()
        return
    except Exception:  # no pgserver, or already stopped
        pass
    stop_fallback(data_dir)


def stop_fallback(data_dir: Path) -> None:
    """Stop a server the initdb/pg_ctl fallback started in `data_dir` (pgserver stops its own when the process
    that started it exits)."""
    pg_ctl = shutil.which("pg_ctl")
    if pg_ctl and (data_dir / "pg" / "PG_VERSION").exists():
        subprocess.run([pg_ctl, "-D", str(data_dir / "pg"), "-m", "fast", "stop"], capture_output=True, check=False)
