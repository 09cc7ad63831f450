"""Dataset versions are Alembic revisions (id = the dataset version, e.g. `1.0.0`)."""

from __future__ import annotations

import functools
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection

from apmseed.errors import ApmseedError

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def alembic_config(connection: Connection | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


@functools.cache
def script_directory() -> ScriptDirectory:
    """Parsed once per process: version checks run many times per command and the scripts never change."""
    return ScriptDirectory.from_config(alembic_config())


def known_versions() -> list[str]:
    """Dataset versions, oldest first."""
    return [rev.revision for rev in reversed(list(script_directory().walk_revisions()))]


def latest_version() -> str:
    return known_versions()[-1]


def check_version(version: str) -> str:
    if version not in known_versions():
        raise ApmseedError(f"unknown dataset version {version!r}",
                           f"use one of: {', '.join(known_versions())}")
    return version


def current_version(conn: Connection) -> str | None:
    heads = MigrationContext.configure(conn).get_current_heads()
    if not heads:
        return None
    if heads[0] not in known_versions():
        raise ApmseedError(f"the database is at Alembic revision {heads[0]!r}, which is not an apmseed dataset "
                           "version (another project's migrations?)", "use a database created by apmseed")
    return heads[0]


def upgrade(conn: Connection, version: str) -> None:
    command.upgrade(alembic_config(conn), check_version(version))


def downgrade(conn: Connection, version: str) -> None:
    command.downgrade(alembic_config(conn), "base" if version == "base" else check_version(version))
