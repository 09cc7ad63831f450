"""The registry of exported datasets: what every exporter iterates over. Adding a table means adding it to
some dataset's `tables` here (a test fails for any table without one)."""

from __future__ import annotations

from apmseed.exporters import (
    readers_alerting,
    readers_topology,
    readers_v1_2_0,
    readers_v1_3_0,
    readers_v1_4_0,
    readers_v1_5_0,
)
from apmseed.exporters.datasets_base import Dataset

DATASETS: dict[str, Dataset] = {
    d.name: d
    for d in (
        Dataset("infrastructure_entities", "infrastructure_entities.jsonl", "snapshotId", ("snapshot",),
                per_row="snapshot"),
        Dataset("applications", "applications.jsonl", "id", ("application",)),
        Dataset("services", "services.jsonl", "id", ("service", "application_service", "service_snapshot")),
        Dataset("endpoints", "endpoints.jsonl", "id", ("endpoint",), per_row="endpoint"),
        Dataset("metrics_timeseries", "metrics_timeseries.jsonl", "seriesId",
                ("metric_definition", "metric_series", "metric_point"), time_key="timeframe",
                per_row="metric_series"),
        Dataset("issues", "issues.jsonl", "eventId", ("event",), time_key="start"),
        Dataset("entity_types", "entity_types.jsonl", "plugin", ("entity_type",), since="1.1.0",
                reader=readers_topology.entity_types),
        Dataset("metrics_catalog", "metrics_catalog.jsonl", "catalogId", (), since="1.1.0",
                reader=readers_topology.metrics_catalog),
        Dataset("infra_topology", "infra_topology.jsonl", "rootSnapshotId", ("snapshot_relation",), since="1.1.0",
                reader=readers_topology.infra_topology),
        Dataset("app_topology", "app_topology.jsonl", "applicationId", ("service_connection",), since="1.1.0",
                reader=readers_topology.app_topology),
        *readers_alerting.DATASETS,
        *readers_v1_2_0.DATASETS,
        *readers_v1_3_0.DATASETS,
        *readers_v1_4_0.DATASETS,
        *readers_v1_5_0.DATASETS,
    )
}
# tables that hold bookkeeping, not data
INTERNAL_TABLES = frozenset({"apmseed_dataset", "alembic_version"})


def available(dataset_version: str) -> list[Dataset]:
    """Datasets a database at `dataset_version` holds, in export order."""
    def key(v: str) -> tuple[int, ...]:
        return tuple(int(p) for p in v.split("."))

    return [d for d in DATASETS.values() if key(d.since) <= key(dataset_version)]
