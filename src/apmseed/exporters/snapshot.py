"""Read one consistent snapshot (a single REPEATABLE READ, read-only transaction) and map rows to the
Instana REST shapes: camelCase aliases, epoch-ms integers, Instana enums."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from apmseed import catalog, versioning
from apmseed.db import connect
from apmseed.errors import ApmseedError
from apmseed.exporters.base import Record
from apmseed.seeding import dataset_info

STREAM_BATCH = 2_000  # rows per fetch from a server-side cursor


@dataclass
class Snapshot:
    """`window_from`/`window_to` (epoch ms, half-open) restrict time-bound data: metric points and issues
    (by start); entities are always exported whole, so references still resolve."""

    conn: Connection
    info: dict[str, Any]
    window_from: int | None = None
    window_to: int | None = None

    def stream(self, sql: str, *, mappings: bool = False, **params: Any) -> Iterator[Any]:
        """Rows (or, with `mappings`, dict-like rows) of a query that can reach millions, fetched in batches from a
        server-side cursor in the same snapshot: memory holds one batch whatever the table's size. The cursor is
        closed once read, or when the iterator is dropped."""
        # options for this statement only (Connection.execution_options would change every later one)
        result = self.conn.execute(sa.text(sql), params,
                                   execution_options={"stream_results": True, "yield_per": STREAM_BATCH})
        with result:
            yield from (result.mappings() if mappings else result)

    def _window(self, column: str) -> str:
        parts = []
        if self.window_from is not None:
            parts.append(f"{column} >= {int(self.window_from)}")
        if self.window_to is not None:
            parts.append(f"{column} < {int(self.window_to)}")
        return " AND ".join(parts) or "TRUE"

    # -- entities -----------------------------------------------------------------------------------
    def snapshots(self) -> Iterator[Record]:
        rows = self.stream("SELECT snapshot_id, plugin, label, host, from_ms, to_ms, data, tags FROM snapshot"
                           " ORDER BY snapshot_id", mappings=True)
        for r in rows:
            item = {"snapshotId": r["snapshot_id"], "plugin": r["plugin"], "label": r["label"],
                    "host": r["host"], "from": r["from_ms"], "tags": r["tags"], "data": r["data"]}
            if r["to_ms"] is not None:
                item["to"] = r["to_ms"]
            yield item

    def applications(self) -> Iterator[Record]:
        for r in self.conn.execute(sa.text(
                "SELECT id, label, boundary_scope, business_criticality FROM application ORDER BY id")):
            yield {"id": r.id, "label": r.label, "entityType": "APPLICATION", "boundaryScope": r.boundary_scope,
                   "businessCriticality": r.business_criticality}

    def services(self) -> Iterator[Record]:
        rows = self.conn.execute(sa.text(
            "SELECT s.id, s.label, s.types, s.technologies,"
            " ARRAY(SELECT snapshot_id FROM service_snapshot x WHERE x.service_id = s.id ORDER BY 1) snaps,"
            " ARRAY(SELECT application_id FROM application_service x WHERE x.service_id = s.id ORDER BY 1) apps"
            " FROM service s ORDER BY s.id"))
        for r in rows:
            yield {"id": r.id, "label": r.label, "entityType": "SERVICE", "snapshotIds": list(r.snaps),
                   "technologies": list(r.technologies), "types": list(r.types),
                   "applicationIds": list(r.apps)}

    def endpoints(self) -> Iterator[Record]:
        rows = self.stream("SELECT id, service_id, label, type, technologies, synthetic_type FROM endpoint ORDER BY id")
        for r in rows:
            yield {"id": r.id, "label": r.label, "entityType": "ENDPOINT", "serviceId": r.service_id,
                   "technologies": list(r.technologies), "type": r.type, "syntheticType": r.synthetic_type,
                   "isSynthetic": r.synthetic_type != "NON_SYNTHETIC"}

    def issues(self) -> Iterator[Record]:
        rows = self.stream(f"SELECT * FROM event WHERE type = 'issue' AND {self._window('start_ms')}"
                           " ORDER BY start_ms, event_id", mappings=True)
        for r in rows:
            item: Record = {"eventId": r["event_id"], "type": r["type"], "state": r["state"],
                            "severity": r["severity"], "start": r["start_ms"], "problem": r["problem"],
                            "detail": r["detail"], "fixSuggestion": r["fix_suggestion"],
                            "entityType": r["entity_type"], "entityName": r["entity_name"],
                            "entityLabel": r["entity_label"]}
            if r["end_ms"] is not None:
                item["end"] = r["end_ms"]
            kind = r["entity_type"]
            if kind == "INFRASTRUCTURE":
                item["snapshotId"] = r["snapshot_id"]
            else:
                item["applicationId"] = r["application_id"]
            if kind == "SERVICE":
                item["serviceId"] = r["service_id"]
            if kind == "ENDPOINT":
                item["endpointId"] = r["endpoint_id"]
                item["endpointServiceId"] = r["service_id"]
            yield item

    # -- metrics ------------------------------------------------------------------------------------
    def metrics_timeseries(self) -> Iterator[Record]:
        """One line per series, shaped as the item of the matching Instana metrics result
        (ApplicationItem / ServiceItem / EndpointItem / infrastructure MetricItem). Infrastructure entities come
        with their series (joined, not held: there can be 100,000s of them)."""
        entities: dict[str, dict[Any, Record]] = {
            "APPLICATION": {a["id"]: a for a in self.applications()},
            "SERVICE": {s["id"]: {k: v for k, v in s.items() if k != "applicationIds"} for s in self.services()},
            "ENDPOINT": {e["id"]: e for e in self.endpoints()},
        }
        series = self.stream(
            "SELECT s.series_id, s.entity_kind, coalesce(s.application_id, s.service_id, s.endpoint_id) eid,"
            " s.snapshot_id, x.plugin, x.label, x.host, x.tags,"
            " s.metric_id, s.aggregation, s.granularity_s, s.from_ms, s.to_ms FROM metric_series s"
            " LEFT JOIN snapshot x ON x.snapshot_id = s.snapshot_id ORDER BY s.series_id")
        points = self._points()
        pending = next(points, None)
        for s in series:
            ts: list[int] = []
            values: list[float] = []
            if pending is not None and pending[0] == s.series_id:
                _, ts, values = pending
                pending = next(points, None)
            if s.metric_id in catalog.COUNT_METRICS:
                values = list(map(int, values))
            # tuples, not lists: millions of small lists wake the garbage collector (orjson writes both alike)
            pairs = list(zip(ts, values, strict=True))
            infra = s.entity_kind == "INFRASTRUCTURE"
            entity = None if infra else entities[s.entity_kind].get(s.eid)
            if (s.plugin is None) if infra else (entity is None):  # the joined snapshot, or the entity, is gone
                eid = s.snapshot_id if infra else s.eid
                raise ApmseedError(
                    f"dangling data: metric series {s.series_id} references {s.entity_kind.lower()} {eid!r}, "
                    "which does not exist", "reseed the database with `apmseed seed --reset`")
            common = {"seriesId": s.series_id, "metricId": s.metric_id, "aggregation": s.aggregation,
                      "granularity": s.granularity_s,
                      "timeframe": {"from": s.from_ms, "to": s.to_ms, "windowSize": s.to_ms - s.from_ms}}
            if infra:
                yield {"entityType": "INFRASTRUCTURE", "snapshotId": s.snapshot_id, "plugin": s.plugin,
                       "label": s.label, "host": s.host, "from": s.from_ms, "to": s.to_ms, "tags": s.tags,
                       "metrics": {s.metric_id: pairs}, **common}
            else:
                key = f"{s.metric_id}.{s.aggregation.lower()}.{s.granularity_s}"
                yield {"entityType": s.entity_kind, s.entity_kind.lower(): entity, "metrics": {key: pairs},
                       **common}

    def _points(self) -> Iterator[tuple[int, list[int], list[float]]]:
        """Points per series in time order, streamed from a server-side cursor (binary arrays)."""
        pg = self.conn.connection.driver_connection
        with pg.cursor(name="apmseed_points", binary=True) as cur:
            cur.itersize = 256
            cur.execute("SELECT series_id, array_agg(ts_ms ORDER BY ts_ms), array_agg(value ORDER BY ts_ms)"
                        f" FROM metric_point WHERE {self._window('ts_ms')} GROUP BY series_id ORDER BY series_id")
            yield from cur

    def records(self, dataset: str) -> Iterator[Record]:
        from apmseed.exporters.datasets import DATASETS

        reader = DATASETS[dataset].reader
        if reader is not None:
            return reader(self)
        return getattr(self, dataset)() if dataset != "infrastructure_entities" else self.snapshots()


@contextmanager
def open_snapshot(engine: Engine, window_from: int | None = None, window_to: int | None = None
                  ) -> Iterator[Snapshot]:
    with connect(engine) as conn:
        conn = conn.execution_options(isolation_level="REPEATABLE READ")
        with conn.begin():
            conn.execute(sa.text("SET TRANSACTION READ ONLY"))
            # every cursor is read to the end: plan for all rows (hash joins, one sort), not the first 10 %
            conn.execute(sa.text("SET LOCAL cursor_tuple_fraction = 1.0"))
            info = dataset_info(conn)
            if info is None:
                raise ApmseedError("the database holds no apmseed dataset",
                                   "seed it first with `apmseed seed`")
            info = {**info, "schema_revision": versioning.current_version(conn)}
            yield Snapshot(conn, info, window_from, window_to)
