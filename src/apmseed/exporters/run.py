"""Drive any exporter over one snapshot: the shared core of every `apmseed export <target>` command."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy.engine import Engine

from apmseed.exporters.base import Exporter, Record
from apmseed.exporters.datasets import DATASETS, Dataset, available
from apmseed.exporters.snapshot import open_snapshot
from apmseed.progress import Reporter


class CountingExporter:
    """`--dry-run`: reads everything exactly as a real export would, writes nothing."""

    def __init__(self) -> None:
        self.counts: dict[str, int] = {}

    def open(self, info: dict[str, Any]) -> None:
        self.info = info

    def export(self, dataset: Dataset, records: Iterable[Record]) -> int:
        self.counts[dataset.name] = sum(1 for _ in records)
        return self.counts[dataset.name]

    def close(self, ok: bool) -> dict[str, Any]:
        return {"dryRun": True, "datasetVersion": self.info["dataset_version"], "counts": self.counts}


def run_export(engine: Engine, exporter: Exporter, reporter: Reporter, datasets: list[str] | None = None,
               window_from: int | None = None, window_to: int | None = None) -> dict[str, Any]:
    """Open one snapshot, feed the chosen datasets (those the database's version holds) to the exporter,
    and close it: `close(True)` publishes, an exception anywhere calls `close(False)`."""
    with open_snapshot(engine, window_from, window_to) as snap:
        held = available(snap.info["dataset_version"])
        chosen = [d for d in held if datasets is None or d.name in datasets]
        exporter.open({**snap.info, "export_window": (window_from, window_to)})
        ok = False
        try:
            task = reporter.task("export", len(chosen))
            for dataset in chosen:
                exporter.export(dataset, snap.records(dataset.name))
                task.advance(1)
            ok = True
        finally:
            result = exporter.close(ok)
    return result


__all__ = ["DATASETS", "CountingExporter", "run_export"]
