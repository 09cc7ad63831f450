"""Connecting: `--database-url` / APMSEED_DATABASE_URL, else the embedded server. Errors become one line."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, OperationalError

from apmseed import embedded
from apmseed.errors import ApmseedError


def normalise_url(url: str) -> str:
    """Accept the libpq forms users paste (postgres://, postgresql://) and use the psycopg 3 driver."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def resolve_url(database_url: str | None, data_dir: Path | None) -> str:
    url = database_url or os.environ.get("APMSEED_DATABASE_URL")
    if url:
        return normalise_url(url)
    return embedded.start(data_dir or embedded.default_data_dir())


def create_engine(url: str) -> Engine:
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise ApmseedError(f"cannot parse database URL {url!r}",
                           "use the form postgresql://user:password@host:5432/dbname") from None
    if not parsed.drivername.startswith("postgresql"):
        raise ApmseedError(f"unsupported database {parsed.drivername!r}: apmseed needs PostgreSQL >= 14",
                           "pass a postgresql:// URL")
    try:
        return sa.create_engine(parsed, connect_args={"connect_timeout": 10}, future=True)
    except (ArgumentError, ImportError) as exc:
        raise ApmseedError(f"cannot use database URL {parsed.render_as_string()}: {exc}",
                           "use the form postgresql://user:password@host:5432/dbname") from None


def describe_db_error(exc: DBAPIError, url: str | sa.URL) -> ApmseedError:
    shown = make_url(url).render_as_string(hide_password=True) if isinstance(url, str) else str(url)
    first = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc).splitlines()[0]
    return ApmseedError(f"cannot connect to {shown}: {first}",
                        "check that the server runs and the URL, user and password are right")


@contextmanager
def connect(engine: Engine) -> Iterator[Connection]:
    """A connection with connection errors turned into one clear line."""
    try:
        conn = engine.connect()
    except OperationalError as exc:
        raise describe_db_error(exc, engine.url) from None
    try:
        version = conn.dialect.server_version_info or (0,)
        if version < (14,):
            raise ApmseedError(f"PostgreSQL {'.'.join(map(str, version))} is too old",
                               "apmseed needs PostgreSQL 14 or newer")
        yield conn
    finally:
        conn.close()
