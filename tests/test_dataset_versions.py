"""Dataset versions: seed any version, upgrade a seeded database in place, downgrade, and the two ways to reach a
version (seed it directly, or seed older and upgrade) give identical databases."""

import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from apmseed import profiles, seeding, versioning
from apmseed.progress import Reporter
from apmseed.schema import metadata
from tests.conftest import END_MS, run_cli, table_dump

VERSIONS = versioning.known_versions()
DATA_TABLES = sorted(set(metadata.tables) - {"apmseed_dataset"})


def _seed(engine: sa.Engine, version: str, seed: int = 7) -> None:
    with engine.begin() as conn:
        seeding.seed(conn, profiles.resolve("tiny", {}), seed, END_MS, Reporter(False), dataset_version=version)


def _dump(engine: sa.Engine) -> dict[str, list[tuple]]:
    present = set(sa.inspect(engine).get_table_names())
    return {t: table_dump(engine, t) for t in DATA_TABLES if t in present}


def _held(engine: sa.Engine) -> str:
    with engine.connect() as conn:
        return conn.execute(sa.text("SELECT dataset_version FROM apmseed_dataset")).scalar()


@pytest.mark.parametrize("version", VERSIONS)
def test_seed_exactly_the_tables_of_a_version(engine: sa.Engine, version: str) -> None:
    _seed(engine, version)
    assert _held(engine) == version
    with engine.connect() as conn:
        assert versioning.current_version(conn) == version


def test_upgrade_in_place_equals_seeding_directly(engine: sa.Engine, server_url: str, database_url: str) -> None:
    _seed(engine, VERSIONS[0])
    before = _dump(engine)
    with engine.begin() as conn:
        seeding.upgrade_dataset(conn, VERSIONS[-1], Reporter(False))
    after = _dump(engine)
    for table, rows in before.items():  # nothing that existed changed
        assert after[table] == rows, table
    assert _held(engine) == VERSIONS[-1]

    direct_url = sa.make_url(database_url).set(database=engine.url.database + "_direct")
    admin = sa.create_engine(server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{direct_url.database}"'))
    direct = sa.create_engine(direct_url)
    try:
        _seed(direct, VERSIONS[-1])
        assert _dump(direct) == after  # the same rows, table by table
    finally:
        direct.dispose()
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE "{direct_url.database}" WITH (FORCE)'))


def test_chain_up_down_up_keeps_older_data(engine: sa.Engine) -> None:
    _seed(engine, VERSIONS[-1])
    full = _dump(engine)
    with engine.begin() as conn:
        seeding.downgrade_dataset(conn, VERSIONS[0])
    base_tables = _dump(engine)
    assert _held(engine) == VERSIONS[0]
    assert all(base_tables[t] == full[t] for t in base_tables)
    assert set(base_tables) < set(full)
    with engine.begin() as conn:
        seeding.upgrade_dataset(conn, VERSIONS[-1], Reporter(False))
    assert _dump(engine) == full


def test_cli_upgrade_and_downgrade(runner: CliRunner, engine: sa.Engine, database_url: str) -> None:
    _seed(engine, VERSIONS[0])
    result = run_cli(runner, "db", "upgrade", "--database-url", database_url)
    assert result.exit_code == 0 and VERSIONS[-1] in result.output
    result = run_cli(runner, "db", "downgrade", VERSIONS[0], "--database-url", database_url)
    assert result.exit_code == 0 and VERSIONS[0] in result.output
    assert _held(engine) == VERSIONS[0]


def test_bad_version_requests_leave_the_database_unchanged(runner: CliRunner, engine: sa.Engine,
                                                           database_url: str) -> None:
    _seed(engine, VERSIONS[0])
    before = _dump(engine)
    for args, needle in [
        (["db", "upgrade", "3.0.0"], "unknown dataset version '3.0.0'"),
        (["db", "downgrade", "0.9.0"], "unknown dataset version '0.9.0'"),
        (["seed", "--dataset-version", "1.9.9", "--reset"], "unknown dataset version '1.9.9'"),
    ]:
        result = run_cli(runner, *args, "--database-url", database_url)
        assert result.exit_code != 0 and needle in result.output and "Traceback" not in result.output
    if len(VERSIONS) > 1:
        result = run_cli(runner, "db", "downgrade", VERSIONS[1], "--database-url", database_url)
        assert result.exit_code != 0 and "older than" in result.output
    assert _dump(engine) == before


def test_upgrade_refuses_a_database_apmseed_did_not_create(runner: CliRunner, engine: sa.Engine,
                                                           database_url: str) -> None:
    with engine.begin() as conn:
        conn.execute(sa.text("CREATE TABLE customers (id int primary key)"))
    result = run_cli(runner, "db", "upgrade", "--database-url", database_url)
    assert result.exit_code != 0 and "not created by apmseed" in result.output
    assert sa.inspect(engine).get_table_names() == ["customers"]


def test_foreign_alembic_revision_is_refused(runner: CliRunner, engine: sa.Engine, database_url: str) -> None:
    with engine.begin() as conn:
        conn.execute(sa.text("CREATE TABLE alembic_version (version_num varchar(32) primary key)"))
        conn.execute(sa.text("INSERT INTO alembic_version VALUES ('ae1027a6acf')"))
    result = run_cli(runner, "db", "upgrade", "--database-url", database_url)
    assert result.exit_code != 0 and "not an apmseed dataset version" in result.output
