"""Seeding: migrate, load and check in ONE transaction, so a failure or Ctrl-C leaves the database as it was."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from apmseed import __version__, load, versioning
from apmseed.errors import ApmseedError
from apmseed.profiles import Profile
from apmseed.progress import Reporter
from apmseed.scenarios.spec import ScenarioSpec
from apmseed.scenarios.world import World, build_world
from apmseed.schema import metadata

if TYPE_CHECKING:
    from apmseed.layers import TableRows

# post-load checks SQL constraints cannot express (they span tables); each must return no rows
INTEGRITY_CHECKS = {
    # two primary-key probes per series, not a lookup per point
    "metric points outside their series window":
        "SELECT s.series_id FROM metric_series s WHERE"
        " EXISTS (SELECT 1 FROM metric_point p WHERE p.series_id = s.series_id AND p.ts_ms < s.from_ms) OR"
        " EXISTS (SELECT 1 FROM metric_point p WHERE p.series_id = s.series_id AND p.ts_ms >= s.to_ms) LIMIT 1",
    "issues outside the metric window":
        "SELECT e.event_id FROM event e, (SELECT min(from_ms) f, max(to_ms) t FROM metric_series) w"
        " WHERE e.start_ms < w.f OR e.start_ms >= w.t OR e.end_ms > w.t LIMIT 1",
    "processes whose parent is not a host or container":
        "SELECT c.snapshot_id FROM snapshot c JOIN snapshot p ON p.snapshot_id = c.parent_snapshot_id"
        " WHERE (c.plugin = 'docker' AND p.plugin <> 'host') OR (c.plugin = 'process' AND p.plugin = 'process')"
        " LIMIT 1",
}


@dataclass
class SeedResult:
    dataset_version: str
    seed: int
    end_ms: int
    profile: Profile
    counts: dict[str, int] = field(default_factory=dict)


def dataset_info(conn: Connection) -> dict[str, Any] | None:
    if not sa.inspect(conn).has_table("apmseed_dataset"):
        return None
    row = conn.execute(sa.text("SELECT dataset_version, seed, end_time_ms, options, tool_version"
                               " FROM apmseed_dataset WHERE id = 1")).mappings().first()
    return dict(row) if row else None


def apmseed_tables_present(conn: Connection) -> list[str]:
    existing = set(sa.inspect(conn).get_table_names())
    return sorted(existing & (set(metadata.tables) | {"alembic_version"}))


def ensure_empty_or_reset(conn: Connection, reset: bool) -> None:
    present = apmseed_tables_present(conn)
    if not present:
        return
    info = dataset_info(conn)
    has_rows = info is not None or any(
        conn.execute(sa.text(f'SELECT EXISTS (SELECT 1 FROM "{t}")')).scalar()
        for t in present if t != "alembic_version"
    )
    if has_rows and not reset:
        held = f"dataset {info['dataset_version']} (seed {info['seed']})" if info else "apmseed data"
        raise ApmseedError(f"the database already holds {held}",
                           "pass --reset to replace it, or point --database-url at an empty database")
    if versioning.current_version(conn) is None and not info:
        # tables without a revision: not something we created, so we will not drop it
        raise ApmseedError(f"the database has tables named like apmseed's ({', '.join(present[:3])}) but no "
                           "apmseed revision", "use an empty database")
    versioning.downgrade(conn, "base")


def seed(conn: Connection, profile: Profile, seed_value: int, end_ms: int, reporter: Reporter,
         reset: bool = False, dataset_version: str | None = None, scenario: ScenarioSpec | None = None,
         scenario_stored: dict[str, Any] | None = None) -> SeedResult:
    """Everything happens inside the caller's transaction; the caller commits. Version 1.0.0 is built as a
    world; later versions are layered on exactly as `db upgrade` would."""
    version = versioning.check_version(dataset_version or versioning.latest_version())
    ensure_empty_or_reset(conn, reset)
    base = versioning.known_versions()[0]
    versioning.upgrade(conn, base)
    with reporter.step("planning the world"):
        world = build_world(profile, seed_value, end_ms, scenario)
    result = SeedResult(version, seed_value, end_ms, profile)
    load_world(conn, world, reporter, result.counts)
    conn.execute(sa.insert(metadata.tables["apmseed_dataset"]).values(
        id=1, dataset_version=base, seed=seed_value, end_time_ms=end_ms,
        options=dataset_options(profile, scenario_stored), tool_version=__version__))
    stories = world.stories
    del world  # its entity rows are loaded; only the stories are needed later (dataset 1.5.0)
    upgrade_dataset(conn, version, reporter, result.counts, stories=stories)
    return result


def dataset_options(profile: Profile, scenario_stored: dict[str, Any] | None) -> dict[str, Any]:
    """What apmseed_dataset.options (and the manifest) record: the profile, and the scenario if any."""
    return {**profile.options(), **({"scenario": scenario_stored} if scenario_stored else {})}


def upgrade_dataset(conn: Connection, target: str, reporter: Reporter, counts: dict[str, int] | None = None,
                    chunk_rows: int | None = None, stories: list[Any] | None = None) -> None:
    """Upgrade the schema one revision at a time; where a dataset is seeded, fill each new version's tables
    from the rows already there (same seed and options), leaving existing rows untouched. Bulk tables stream
    in chunks of `chunk_rows` (default `layers.CHUNK_ROWS`): memory stays bounded, the rows do not change."""
    from apmseed import layers

    versioning.check_version(target)
    current = versioning.current_version(conn)
    known = versioning.known_versions()
    if current is not None and known.index(target) < known.index(current):
        raise ApmseedError(f"the database is at dataset version {current}, newer than {target}",
                           f"use `apmseed db downgrade {target}` to go back")
    if current is None:
        foreign = sorted(set(sa.inspect(conn).get_table_names()) - {"alembic_version"})
        if foreign:
            raise ApmseedError(f"the database was not created by apmseed (it holds {', '.join(foreign[:3])}"
                               f"{', ...' if len(foreign) > 3 else ''})",
                               "point --database-url at an empty database or one apmseed seeded")
    pending = known[known.index(current) + 1 if current else 0: known.index(target) + 1]
    fills = layers.registry()
    for version in pending:
        versioning.upgrade(conn, version)
        info = dataset_info(conn)
        if info is None or version not in fills:
            continue
        ctx = layers.LayerContext(conn, version, info["seed"], info["end_time_ms"], info["options"],
                                  chunk_rows=chunk_rows or layers.CHUNK_ROWS, stories=stories)
        with ExitStack() as deferred:  # the streams' constraints come back once the whole layer is in
            for table, rows in fills[version](ctx).items():
                n = _load_table(conn, table, rows, deferred, reporter)
                if counts is not None:
                    counts[table] = n
            keys = reporter.task(f"keys and checks {version}", None)  # the stack's exit rebuilds them
        validate_deferred_constraints(conn)
        conn.execute(sa.text("UPDATE apmseed_dataset SET dataset_version = :v WHERE id = 1"), {"v": version})
        keys.done()
    check_integrity(conn)


def validate_deferred_constraints(conn: Connection) -> None:
    """A revision may add a constraint NOT VALID when its layer fills the referenced rows afterwards (1.3.0's
    log -> trace link); once the layer is loaded, every such constraint must hold for all rows."""
    pending = conn.execute(sa.text(
        "SELECT conrelid::regclass::text, conname FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace"
        " WHERE NOT c.convalidated AND n.nspname = current_schema() ORDER BY 1, 2")).all()
    for table, name in pending:
        conn.execute(sa.text(f'ALTER TABLE {table} VALIDATE CONSTRAINT "{name}"'))


BULK_ROWS = 20_000  # from here on, checking FKs per row costs more than validating them once after the load


@contextmanager
def deferred_constraints(conn: Connection, table: str, primary_key: bool = False) -> Iterator[None]:
    """Drop a table's foreign keys and plain indexes (and its primary key if asked) for a bulk load, then
    recreate them from their own definitions in the same transaction: integrity is enforced before commit, at
    index-build speed instead of per-row checks."""
    kinds = "('f', 'p')" if primary_key else "('f')"
    constraints = conn.execute(sa.text(
        f"SELECT conname, contype, pg_get_constraintdef(oid) FROM pg_constraint"
        f" WHERE conrelid = CAST(:t AS regclass) AND contype IN {kinds} ORDER BY contype DESC, conname"),
        {"t": table}).all()  # primary key first, foreign keys after
    indexes = conn.execute(sa.text(
        "SELECT indexname, indexdef FROM pg_indexes i WHERE schemaname = current_schema() AND tablename = :t"
        " AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname) ORDER BY indexname"),
        {"t": table}).all()
    for name, _, _ in reversed(constraints):
        conn.execute(sa.text(f"ALTER TABLE {table} DROP CONSTRAINT {name}"))
    for name, _ in indexes:
        conn.execute(sa.text(f"DROP INDEX {name}"))
    yield
    for name, _, definition in constraints[:1] if constraints and constraints[0][1] == "p" else []:
        conn.execute(sa.text(f"ALTER TABLE {table} ADD CONSTRAINT {name} {definition}"))
    for _, definition in indexes:
        conn.execute(sa.text(definition))
    for name, kind, definition in constraints:
        if kind == "f":
            conn.execute(sa.text(f"ALTER TABLE {table} ADD CONSTRAINT {name} {definition}"))


def copy_bulk(conn: Connection, table: str, rows: list[dict[str, Any]]) -> int:
    with deferred_constraints(conn, table):
        return load.copy_rows(conn.connection.driver_connection, table, rows)


def _load_table(conn: Connection, table: str, rows: TableRows, deferred: ExitStack, reporter: Reporter) -> int:
    """A list goes in one COPY (with its constraints deferred from BULK_ROWS rows on); a stream's constraints
    are deferred to the end of the layer (`deferred`), and its first chunk is made before the COPY starts, so
    its generator may still query the database up to there. Bulk tables get a progress bar of their own."""
    from apmseed.layers import Later, Stream

    pg = conn.connection.driver_connection
    if isinstance(rows, Later):
        rows = rows.make()
    if not isinstance(rows, Stream):
        if len(rows) < BULK_ROWS:
            return load.copy_rows(pg, table, rows)
        with reporter.step(table):
            return copy_bulk(conn, table, rows)
    task = reporter.task(table, rows.expected_rows())
    chunks = iter(rows.chunks)
    first = next(chunks, None)
    if first is None:
        return 0
    # the primary key too (one sorted index build instead of a random insert per row), unless another table's
    # foreign key needs it meanwhile
    referenced = conn.execute(sa.text(
        "SELECT EXISTS (SELECT 1 FROM pg_constraint WHERE contype = 'f' AND confrelid = CAST(:t AS regclass)"
        " AND conrelid <> confrelid)"), {"t": table}).scalar()
    deferred.enter_context(deferred_constraints(conn, table, primary_key=not referenced))
    n = load.copy_tuples(pg, table, rows.columns, itertools.chain([first], chunks), task.advance)
    task.done()
    return n


def downgrade_dataset(conn: Connection, target: str) -> None:
    """Drop what later versions added; the data of `target` and below stays as it was."""
    current = versioning.current_version(conn)
    known = versioning.known_versions()
    if current is None:
        raise ApmseedError("the database has no apmseed schema to downgrade", "seed it or upgrade it first")
    if target != "base" and known.index(target) > known.index(current):
        raise ApmseedError(f"the database is at dataset version {current}, older than {target}",
                           f"use `apmseed db upgrade {target}` to go forward")
    versioning.downgrade(conn, target)
    if target != "base" and dataset_info(conn) is not None:
        conn.execute(sa.text("UPDATE apmseed_dataset SET dataset_version = :v WHERE id = 1"), {"v": target})


def load_world(conn: Connection, world: World, reporter: Reporter, counts: dict[str, int]) -> None:
    pg = conn.connection.driver_connection
    conn.execute(sa.text("SET LOCAL maintenance_work_mem = '256MB'"))
    entity_rows = sum(len(rows) for rows in world.tables.values())
    task = reporter.task("entities", entity_rows)
    for name, rows in world.tables.items():
        counts[name] = load.copy_rows(pg, name, rows)
        task.advance(len(rows))

    points = reporter.task("metric points", world.profile.points)
    with deferred_constraints(conn, "metric_point", primary_key=True):
        counts["metric_point"] = load.copy_points(pg, world.point_chunks(), points.advance)
        points.done()
        keys = reporter.task("metric point keys", None)  # rebuilt when the block exits
    keys.done()
    # the cross-table checks run once, at the end of upgrade_dataset


def check_integrity(conn: Connection) -> None:
    for problem, query in INTEGRITY_CHECKS.items():
        offender = conn.execute(sa.text(query)).first()
        if offender is not None:
            raise ApmseedError(f"integrity check failed: {problem} (e.g. {offender[0]})",
                               "this is a bug in apmseed: please report it with the seed and options")
