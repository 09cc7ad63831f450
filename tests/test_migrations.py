"""Dataset versions as Alembic revisions: up, down, up again; the models never drift from the migrations."""

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from apmseed import versioning
from apmseed.schema import metadata


def _tables(engine: sa.Engine) -> set[str]:
    return set(sa.inspect(engine).get_table_names())


def test_upgrade_downgrade_upgrade(engine: sa.Engine) -> None:
    with engine.begin() as conn:
        versioning.upgrade(conn, versioning.latest_version())
    assert set(metadata.tables) <= _tables(engine)
    with engine.begin() as conn:
        assert versioning.current_version(conn) == versioning.latest_version()
        versioning.downgrade(conn, "base")
    assert _tables(engine) <= {"alembic_version"}
    with engine.begin() as conn:
        versioning.upgrade(conn, versioning.latest_version())
        assert versioning.current_version(conn) == versioning.latest_version()


def test_models_match_migrations(engine: sa.Engine) -> None:
    """What `alembic check` does: autogenerate against the migrated database must find nothing."""
    with engine.begin() as conn:
        versioning.upgrade(conn, versioning.latest_version())
        diff = compare_metadata(MigrationContext.configure(conn), metadata)
    assert diff == []


def test_downgrade_on_seeded_data(seeded: sa.Engine) -> None:
    with seeded.begin() as conn:
        versioning.downgrade(conn, "base")
    assert _tables(seeded) <= {"alembic_version"}


def test_revision_ids_are_dataset_versions() -> None:
    versions = versioning.known_versions()
    assert versions[0] == "1.0.0"
    assert versions == sorted(versions, key=lambda v: tuple(int(p) for p in v.split(".")))
