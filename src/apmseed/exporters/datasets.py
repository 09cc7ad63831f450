"""The registry of exported datasets: what every exporter iterates over. Adding a table means adding it to
some dataset's `tables` here (a test fails for any table without one)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from apmseed.exporters import readers_topology


@dataclass(frozen=True)
class Dataset:
    name: str
    file: str  # JSONL file name (the roadmap's reference project names)
    id_key: str  # record key holding the natural id (MongoDB `_id`, CloudEvents subject, parity checks)
    tables: tuple[str, ...]  # database tables whose rows it carries
    since: str = "1.0.0"  # first dataset version that has it
    time_key: str | None = None  # record key filtered by --from/--to (None: not time-bound)
    reader: Callable[[Any], Iterator[dict[str, Any]]] | None = None  # default: Snapshot.<name>()


DATASETS: dict[str, Dataset] = {
    d.name: d
    for d in (
        Dataset("infrastructure_entities", "infrastructure_entities.jsonl", "snapshotId", ("snapshot",)),
        Dataset("applications", "applications.jsonl", "id", ("application",)),
        Dataset("services", "services.jsonl", "id", ("service", "application_service", "service_snapshot")),
        Dataset("endpoints", "endpoints.jsonl", "id", ("endpoint",)),
        Dataset("metrics_timeseries", "metrics_timeseries.jsonl", "seriesId",
                ("metric_definition", "metric_series", "metric_point"), time_key="timeframe"),
        Dataset("issues", "issues.jsonl", "eventId", ("event",), time_key="start"),
        Dataset("entity_types", "entity_types.jsonl", "plugin", ("entity_type",), since="1.1.0",
                reader=readers_topology.entity_types),
        Dataset("metrics_catalog", "metrics_catalog.jsonl", "catalogId", (), since="1.1.0",
                reader=readers_topology.metrics_catalog),
        Dataset("infra_topology", "infra_topology.jsonl", "rootSnapshotId", ("snapshot_relation",), since="1.1.0",
                reader=readers_topology.infra_topology),
        Dataset("app_topology", "app_topology.jsonl", "applicationId", ("service_connection",), since="1.1.0",
                reader=readers_topology.app_topology),
    )
}
# tables that hold bookkeeping, not data
INTERNAL_TABLES = frozenset({"apmseed_dataset", "alembic_version"})


def available(dataset_version: str) -> list[Dataset]:
    """Datasets a database at `dataset_version` holds, in export order."""
    def key(v: str) -> tuple[int, ...]:
        return tuple(int(p) for p in v.split("."))

    return [d for d in DATASETS.values() if key(d.since) <= key(dataset_version)]
