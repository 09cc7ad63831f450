"""Seeding: migrate, load and check in ONE transaction, so a failure or Ctrl-C leaves the database as it was."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from apmseed import __version__, load, versioning
from apmseed.errors import ApmseedError
from apmseed.profiles import Profile
from apmseed.progress import Reporter
from apmseed.scenarios.world import World, build_world
from apmseed.schema import metadata

# metric_point's PK and FK are dropped for the COPY and rebuilt afterwards in the same transaction:
# integrity is still enforced before commit, at index-build speed instead of per-row checks
POINT_CONSTRAINTS = (
    ("pk_metric_point", "PRIMARY KEY (series_id, ts_ms)"),
    ("fk_metric_point_series_id_metric_series", "FOREIGN KEY (series_id) REFERENCES metric_series (series_id)"),
)

# post-load checks SQL constraints cannot express (they span tables); each must return no rows
INTEGRITY_CHECKS = {
    "metric points outside their series window":
        "SELECT p.series_id FROM metric_point p JOIN metric_series s USING (series_id)"
        " WHERE p.ts_ms < s.from_ms OR p.ts_ms >= s.to_ms LIMIT 1",
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
         reset: bool = False, dataset_version: str | None = None) -> SeedResult:
    """Everything happens inside the caller's transaction; the caller commits."""
    version = versioning.check_version(dataset_version or versioning.latest_version())
    ensure_empty_or_reset(conn, reset)
    versioning.upgrade(conn, version)
    world = build_world(profile, seed_value, end_ms)
    result = SeedResult(version, seed_value, end_ms, profile)
    load_world(conn, world, reporter, result.counts)
    conn.execute(sa.insert(metadata.tables["apmseed_dataset"]).values(
        id=1, dataset_version=version, seed=seed_value, end_time_ms=end_ms, options=profile.options(),
        tool_version=__version__))
    return result


def load_world(conn: Connection, world: World, reporter: Reporter, counts: dict[str, int]) -> None:
    pg = conn.connection.driver_connection
    conn.execute(sa.text("SET LOCAL maintenance_work_mem = '256MB'"))
    entity_rows = sum(len(rows) for rows in world.tables.values())
    task = reporter.task("entities", entity_rows)
    for name, rows in world.tables.items():
        counts[name] = load.copy_rows(pg, name, rows)
        task.advance(len(rows))

    for constraint, _ in POINT_CONSTRAINTS:
        conn.execute(sa.text(f"ALTER TABLE metric_point DROP CONSTRAINT {constraint}"))
    points = reporter.task("metric points", world.profile.points)
    counts["metric_point"] = load.copy_points(pg, world.point_chunks(), points.advance)
    constraints = reporter.task("constraints", len(POINT_CONSTRAINTS) + len(INTEGRITY_CHECKS))
    for constraint, definition in POINT_CONSTRAINTS:
        conn.execute(sa.text(f"ALTER TABLE metric_point ADD CONSTRAINT {constraint} {definition}"))
        constraints.advance(1)
    check_integrity(conn)
    constraints.advance(len(INTEGRITY_CHECKS))


def check_integrity(conn: Connection) -> None:
    for problem, query in INTEGRITY_CHECKS.items():
        offender = conn.execute(sa.text(query)).first()
        if offender is not None:
            raise ApmseedError(f"integrity check failed: {problem} (e.g. {offender[0]})",
                               "this is a bug in apmseed: please report it with the seed and options")
