"""Reader and dataset entry for dataset 1.5.0: ground truth (apmseed's own shape; Instana has no such model).

A record is one injected story: its type and cause, the root-cause entity, its window, every affected entity
(hop 0 is the root) with the metric series that show it, and the events it is expected to raise."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from apmseed.exporters.base import Record
from apmseed.exporters.datasets_base import Dataset

if TYPE_CHECKING:
    from apmseed.exporters.snapshot import Snapshot

_ENTITY_ID = {"APPLICATION": "application_id", "SERVICE": "service_id", "ENDPOINT": "endpoint_id",
              "INFRASTRUCTURE": "snapshot_id"}


def _entity(row: Any) -> Record:
    entity: Record = {"entityType": row.entity_type, "entityId": getattr(row, _ENTITY_ID[row.entity_type]),
                      "label": row.entity_label}
    for key, column in (("applicationId", "application_id"), ("serviceId", "service_id")):
        value = getattr(row, column)
        if value is not None and column != _ENTITY_ID[row.entity_type]:
            entity[key] = value
    return entity


def _series_of(snap: Snapshot) -> dict[tuple[str, str], list[int]]:
    series: dict[tuple[str, str], list[int]] = defaultdict(list)
    for r in snap.conn.execute(sa.text(
            "SELECT entity_kind, coalesce(endpoint_id, service_id, application_id, snapshot_id) AS eid, series_id"
            " FROM metric_series ORDER BY series_id")):
        series[(r.entity_kind, r.eid)].append(r.series_id)
    return series


def ground_truth(snap: Snapshot) -> Iterator[Record]:
    series = _series_of(snap)
    effects: dict[str, list[Record]] = defaultdict(list)
    for r in snap.conn.execute(sa.text("SELECT * FROM ground_truth_effect ORDER BY ground_truth_id, position")):
        entity = _entity(r)
        effect: Record = {**entity, "hop": r.hop, "factor": r.factor,
                          "window": {"from": r.start_ms, "to": r.end_ms},
                          "seriesIds": series.get((r.entity_type, entity["entityId"]), [])}
        if r.event_id is not None:
            effect["eventId"] = r.event_id
        effects[r.ground_truth_id].append(effect)
    rows = snap.conn.execute(sa.text(
        f"SELECT * FROM ground_truth WHERE {snap._window('start_ms')} ORDER BY start_ms, id"))
    for r in rows:
        record: Record = {"id": r.id, "type": r.type, "cause": r.cause, "start": r.start_ms,
                          "window": {"from": r.start_ms, "to": r.end_ms}, "magnitude": r.magnitude,
                          "affected": effects[r.id],
                          "expectedEventIds": [e["eventId"] for e in effects[r.id] if "eventId" in e]}
        if r.entity_type is not None:  # a surge of the whole world's traffic has no root entity
            record["rootCause"] = _entity(r)
        for key, value in (("metricId", r.metric_id), ("scenario", r.scenario), ("releaseId", r.release_id)):
            if value is not None:
                record[key] = value
        yield record


DATASETS = [
    Dataset("ground_truth", "ground_truth.jsonl", "id", ("ground_truth", "ground_truth_effect"), since="1.5.0",
            time_key="start", reader=ground_truth),
]
