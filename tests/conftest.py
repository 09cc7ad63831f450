"""Test fixtures: a real PostgreSQL (embedded pgserver, or APMSEED_TEST_DATABASE_URL), one fresh database
per test. Under CI=true a server that cannot be reached fails the run instead of skipping."""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from click.testing import CliRunner, Result

from apmseed import db, embedded, profiles, seeding
from apmseed.cli.main import cli
from apmseed.progress import Reporter

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
END_TIME = "2025-11-20T15:00:00Z"
END_MS = 1_763_650_800_000


def require_service(reason: str) -> None:
    """Skip on a user's machine; fail in CI, where every service must be there."""
    if IN_CI:
        pytest.fail(f"required service missing under CI=true: {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def server_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = os.environ.get("APMSEED_TEST_DATABASE_URL")
    try:
        url = db.normalise_url(url) if url else embedded.start(tmp_path_factory.mktemp("pg") / "data")
        engine = db.create_engine(url)
        with db.connect(engine):
            pass
        engine.dispose()
    except Exception as exc:  # any failure to reach PostgreSQL
        require_service(f"PostgreSQL not available: {exc}")
    return url


def _admin(server_url: str) -> sa.Engine:
    return db.create_engine(server_url).execution_options(isolation_level="AUTOCOMMIT")


@contextmanager
def scratch_database(server_url: str, prefix: str = "t") -> Iterator[str]:
    """A fresh, empty database on the test server, dropped afterwards; yields its URL."""
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    admin = _admin(server_url)
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield sa.make_url(server_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@contextmanager
def seeded_database(server_url: str, prefix: str = "t", **seed_options: Any) -> Iterator[sa.Engine]:
    """A scratch database seeded once (for module-scoped fixtures of tests that only read)."""
    with scratch_database(server_url, prefix) as url:
        engine = db.create_engine(url)
        try:
            seed_db(engine, **seed_options)
            yield engine
        finally:
            engine.dispose()


def url_of(engine: sa.Engine) -> str:
    return engine.url.render_as_string(hide_password=False)


def rows(engine: sa.Engine, sql: str, **params: Any) -> list[sa.RowMapping]:
    with engine.connect() as conn:
        return list(conn.execute(sa.text(sql), params).mappings())


def jsonl_records(directory: Path, name: str) -> list[dict[str, Any]]:
    """Every record of one exported file."""
    return [json.loads(line) for line in (directory / name).read_text().splitlines()]


def drop_none(value: Any) -> Any:
    """to_dict() of the client models writes some optional keys as null and drops others: compare without nulls."""
    if isinstance(value, dict):
        return {k: drop_none(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [drop_none(v) for v in value]
    return value


@pytest.fixture
def database_url(server_url: str) -> Iterator[str]:
    """A fresh, empty database for one test."""
    with scratch_database(server_url) as url:
        yield url


@pytest.fixture
def engine(database_url: str) -> Iterator[sa.Engine]:
    eng = db.create_engine(database_url)
    yield eng
    eng.dispose()


def seed_db(engine: sa.Engine, profile: str = "tiny", seed: int = 7, end_ms: int = END_MS,
            dataset_version: str | None = None, **overrides: int) -> seeding.SeedResult:
    with engine.connect() as conn, conn.begin():
        return seeding.seed(conn, profiles.resolve(profile, overrides), seed, end_ms, Reporter(False),
                            dataset_version=dataset_version)


@pytest.fixture
def seeded(engine: sa.Engine) -> sa.Engine:
    """A database seeded with the tiny profile, seed 7."""
    seed_db(engine)
    return engine


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def run_cli(runner: CliRunner, *args: str | Path) -> Result:
    return runner.invoke(cli, [str(a) for a in args], catch_exceptions=False)


def table_dump(engine: sa.Engine, table: str) -> list[tuple]:
    """Every row of a table in primary-key order, for before/after comparisons."""
    t = sa.Table(table, sa.MetaData(), autoload_with=engine)
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(sa.select(t).order_by(*t.primary_key.columns))]
