"""Drive any exporter over one snapshot: the shared core of every `apmseed export <target>` command."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from apmseed.exporters.base import Exporter, Record
from apmseed.exporters.datasets import DATASETS, Dataset, available
from apmseed.exporters.snapshot import Snapshot, open_snapshot
from apmseed.progress import Reporter, Task


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
            task = reporter.task("datasets", len(chosen), unit="datasets")
            for dataset in chosen:
                exporter.export(dataset, _counted(snap, dataset, reporter))
                task.advance(1)
            ok = True
        finally:
            result = exporter.close(ok)
    return result


def _counted(snap: Snapshot, dataset: Dataset, reporter: Reporter) -> Iterator[Record]:
    """A big dataset's records, counted on a progress bar of their own (the ETA assumes one record per row of
    its `per_row` table: with --from/--to it ends early)."""
    records = snap.records(dataset.name)
    if not reporter.enabled or dataset.per_row is None:
        return records
    total = snap.conn.execute(sa.text(f'SELECT count(*) FROM "{dataset.per_row}"')).scalar_one()
    return _advancing(records, reporter.task(dataset.name, total, unit="records"), max(1, min(1_000, total // 100)))


def _advancing(records: Iterator[Record], task: Task, every: int) -> Iterator[Record]:
    n = 0
    for n, record in enumerate(records, 1):
        if n % every == 0:
            task.advance(every)
        yield record
    task.advance(n % every)
    task.done()


__all__ = ["DATASETS", "CountingExporter", "run_export"]
