"""Streaming load path: the bulk tables of the later dataset versions are made and COPYed chunk by chunk with their
constraints created after the load. The chunk size must not change a single row, a seed killed in the middle of
a COPY must leave the database as it was, and every constraint must be back (and valid) after the load."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from apmseed import db, layers, profiles, seeding, versioning
from apmseed.progress import Reporter
from tests.conftest import END_MS, END_TIME, scratch_database, seed_db

LATEST = versioning.latest_version()
# the tables the layers stream (a chunk size of 7 gives each of them several chunks in the tiny profile)
STREAMED = ("website_beacon", "website_session", "website_metric_point", "mobile_beacon", "mobile_session",
            "mobile_metric_point", "log_entry", "synthetic_result", "call", "trace")
SMALL_CHUNK = 7


def _seed_chunked(engine: sa.Engine, chunk_rows: int) -> None:
    """The tiny profile (seed 7): the 1.0.0 world, then every later version with the given chunk size."""
    with engine.begin() as conn:
        seeding.seed(conn, profiles.resolve("tiny", {}), 7, END_MS, Reporter(False), dataset_version="1.0.0")
        seeding.upgrade_dataset(conn, LATEST, Reporter(False), chunk_rows=chunk_rows)


def _fingerprints(engine: sa.Engine) -> dict[str, str]:
    """Row count and md5 of the sorted rows of every table: equal fingerprints, equal row sets."""
    with engine.connect() as conn:
        tables = conn.execute(sa.text("SELECT tablename FROM pg_tables WHERE schemaname = current_schema()"
                                      " ORDER BY 1")).scalars().all()
        return {t: conn.execute(sa.text(
            f'SELECT count(*) || \':\' || coalesce(md5(string_agg(r, \',\' ORDER BY r)), \'\')'
            f' FROM (SELECT t::text AS r FROM "{t}" t) s')).scalar() for t in tables}


def _constraints(engine: sa.Engine, valid: bool | None = None) -> set[tuple[str, str, str]]:
    """(table, name, definition without NOT VALID) of every constraint, or only of the (not) validated ones."""
    with engine.connect() as conn:
        return {tuple(r) for r in conn.execute(sa.text(
            "SELECT c.conrelid::regclass::text, c.conname, replace(pg_get_constraintdef(c.oid), ' NOT VALID', '')"
            " FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace"
            " WHERE n.nspname = current_schema() AND (CAST(:valid AS boolean) IS NULL OR c.convalidated = :valid)"),
            {"valid": valid})}


def _indexes(engine: sa.Engine) -> set[tuple[str, str]]:
    with engine.connect() as conn:
        return {tuple(r) for r in conn.execute(sa.text(
            "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema()"))}


@pytest.fixture(scope="module")
def chunked(server_url: str) -> Iterator[sa.Engine]:
    """The tiny profile loaded with SMALL_CHUNK rows per chunk."""
    with scratch_database(server_url, "chunked") as url:
        engine = db.create_engine(url)
        _seed_chunked(engine, SMALL_CHUNK)
        yield engine
        engine.dispose()


def test_rechunk_keeps_rows_and_order() -> None:
    batches = [[1, 2, 3], [], [4], [5, 6, 7, 8, 9, 10, 11], [12]]
    chunks = list(layers.rechunk(batches, 5))
    assert [len(c) for c in chunks] == [5, 5, 2]
    assert [x for c in chunks for x in c] == list(range(1, 13))


def test_streams_come_in_chunks_of_the_chosen_size(chunked: sa.Engine) -> None:
    """Each layer, run again over the seeded database (rolled back), hands its bulk tables over in chunks of at
    most the chosen size, several per table, holding exactly the rows that were loaded."""
    seen: set[str] = set()
    with chunked.connect() as conn, conn.begin() as tx:
        info = seeding.dataset_info(conn)
        assert info is not None
        for version, fill in layers.registry().items():
            ctx = layers.LayerContext(conn, version, info["seed"], info["end_time_ms"], info["options"],
                                      chunk_rows=SMALL_CHUNK)
            for table, rows in fill(ctx).items():
                if isinstance(rows, layers.Later):
                    rows.make()
                if not isinstance(rows, layers.Stream):
                    continue
                sizes = [len(chunk) for chunk in rows.chunks]
                loaded = conn.execute(sa.text(f'SELECT count(*) FROM "{table}"')).scalar()
                assert sum(sizes) == loaded, table
                assert len(sizes) >= 3 and max(sizes) <= SMALL_CHUNK, (table, sizes)
                seen.add(table)
        tx.rollback()
    assert seen >= set(STREAMED)


def test_chunk_size_changes_no_row(chunked: sa.Engine, engine: sa.Engine) -> None:
    """Several chunks per streamed table give the same tables as one chunk per table."""
    _seed_chunked(engine, 10**9)
    small, whole = _fingerprints(chunked), _fingerprints(engine)
    for table in STREAMED:
        assert int(small[table].split(":")[0]) >= 3 * SMALL_CHUNK, f"{table}: too few rows for several chunks"
    assert small.keys() == whole.keys()
    for table in whole:
        assert small[table] == whole[table], table


def test_every_constraint_and_index_is_back_and_valid(chunked: sa.Engine, engine: sa.Engine) -> None:
    """After the deferred rebuild the seeded schema has exactly the constraints and indexes of a schema that never
    held data, each one validated, and the cross-table integrity checks hold."""
    with engine.begin() as conn:
        seeding.upgrade_dataset(conn, LATEST, Reporter(False))  # the schema alone: no dataset, no layers
    assert _constraints(chunked) == _constraints(engine)
    assert _indexes(chunked) == _indexes(engine)
    assert _constraints(chunked, valid=False) == set()
    with chunked.connect() as conn:
        seeding.check_integrity(conn)


DANGLING = {
    "a call of a trace that does not exist":
        "INSERT INTO call (id, trace_id, parent_id, name, start_ms, duration_ms, network_time_ms, error_count,"
        " src_service_id, dst_service_id, dst_endpoint_id) SELECT 'ffffffffffffffff', 'eeeeeeeeeeeeeeee', NULL,"
        " name, start_ms, duration_ms, NULL, 0, NULL, dst_service_id, dst_endpoint_id FROM call LIMIT 1",
    "a call whose parent is in another trace":
        "INSERT INTO call (id, trace_id, parent_id, name, start_ms, duration_ms, network_time_ms, error_count,"
        " src_service_id, dst_service_id, dst_endpoint_id) SELECT 'ffffffffffffffff', c.trace_id, p.id, c.name,"
        " c.start_ms, c.duration_ms, c.network_time_ms, 0, c.src_service_id, c.dst_service_id, c.dst_endpoint_id"
        " FROM call c JOIN call p ON p.trace_id <> c.trace_id AND p.dst_service_id = c.src_service_id LIMIT 1",
    "a log line naming a trace that does not exist":
        "UPDATE log_entry SET trace_id = 'eeeeeeeeeeeeeeee' WHERE log_id = (SELECT min(log_id) FROM log_entry)",
    "a beacon of a session that does not exist":
        "UPDATE website_beacon SET session_id = 'eeeeeeeeeeeeeeee'"
        " WHERE beacon_id = (SELECT min(beacon_id) FROM website_beacon WHERE type = 'resourceLoad')",
    "a mobile beacon of a session that does not exist":
        "UPDATE mobile_beacon SET session_id = 'eeeeeeeeeeeeeeee'"
        " WHERE beacon_id = (SELECT min(beacon_id) FROM mobile_beacon WHERE type = 'httpRequest')",
    "a metric point of a website that does not exist":
        "UPDATE website_metric_point SET website_id = 'nowhere' WHERE ts_ms = (SELECT min(ts_ms)"
        " FROM website_metric_point)",
    "a synthetic result from a location its test does not run at":
        "UPDATE synthetic_result SET location_id = (SELECT id FROM synthetic_location l WHERE NOT EXISTS"
        " (SELECT 1 FROM synthetic_test_location tl WHERE tl.location_id = l.id AND tl.test_id ="
        " synthetic_result.test_id) LIMIT 1) WHERE result_id = (SELECT min(result_id) FROM synthetic_result)",
    "a second root call in a trace":
        "INSERT INTO call (id, trace_id, parent_id, name, start_ms, duration_ms, network_time_ms, error_count,"
        " src_service_id, dst_service_id, dst_endpoint_id) SELECT 'ffffffffffffffff', trace_id, NULL, name,"
        " start_ms, duration_ms, NULL, 0, NULL, dst_service_id, dst_endpoint_id FROM call"
        " WHERE parent_id IS NULL LIMIT 1",
}


@pytest.mark.parametrize("case", DANGLING)
def test_rebuilt_constraints_reject_dangling_rows(chunked: sa.Engine, case: str) -> None:
    """Each statement changes one row (none: nothing raises and the test fails) and must be refused."""
    with chunked.connect() as conn, conn.begin() as tx:
        with pytest.raises(sa.exc.IntegrityError):
            conn.execute(sa.text(DANGLING[case]))
        tx.rollback()


# -- a seed killed while it is COPYing ------------------------------------------------------------------------

def _copying(admin: sa.Engine, database: str) -> bool:
    with admin.connect() as conn:
        return bool(conn.execute(sa.text(
            "SELECT EXISTS (SELECT 1 FROM pg_stat_activity WHERE datname = :db AND state = 'active'"
            " AND query ILIKE 'COPY %FROM STDIN%')"), {"db": database}).scalar())


def _sessions(admin: sa.Engine, database: str) -> int:
    with admin.connect() as conn:
        return int(conn.execute(sa.text("SELECT count(*) FROM pg_stat_activity WHERE datname = :db"
                                        " AND backend_type = 'client backend'"), {"db": database}).scalar())


@pytest.mark.parametrize("existing", [False, True], ids=["empty", "reset-over-existing"])
def test_seed_killed_mid_copy_leaves_the_database_as_it_was(server_url: str, existing: bool) -> None:
    admin = db.create_engine(server_url).execution_options(isolation_level="AUTOCOMMIT")
    with scratch_database(server_url, "killed") as url:
        engine = db.create_engine(url)
        if existing:
            seed_db(engine, "tiny", seed=3)
        before, constraints = _fingerprints(engine), _constraints(engine)
        database = engine.url.database
        engine.dispose()  # only the seed's own session may remain on the database

        cmd = [sys.executable, "-m", "apmseed", "seed", "--profile", "medium", "--seed", "11", "--end-time",
               END_TIME, "--database-url", url, "-q", *(["--reset"] if existing else [])]
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                env={**os.environ, "PYTHONUNBUFFERED": "1"})
        try:
            deadline = time.monotonic() + 120
            while not _copying(admin, database):
                assert proc.poll() is None, f"the seed ended before a COPY was seen: {proc.stderr.read()!r}"
                assert time.monotonic() < deadline, "no COPY within two minutes"
                time.sleep(0.02)
            os.kill(proc.pid, signal.SIGKILL)
            assert proc.wait(timeout=30) == -signal.SIGKILL
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            assert proc.stderr is not None
            proc.stderr.close()
        deadline = time.monotonic() + 60
        while _sessions(admin, database):  # the server notices the dead client and rolls its transaction back
            assert time.monotonic() < deadline, "the killed seed's session did not end"
            time.sleep(0.05)

        engine = db.create_engine(url)
        try:
            assert _fingerprints(engine) == before
            assert _constraints(engine) == constraints
            if not existing:
                assert before == {}
        finally:
            engine.dispose()
    admin.dispose()
