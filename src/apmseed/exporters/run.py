"""Drive any exporter over one snapshot: the shared core of every `apmseed export <target>` command."""

from __future__ import annotations

from typing import Any

from sqlalchemy.engine import Engine

from apmseed.exporters.base import Exporter
from apmseed.exporters.snapshot import DATASETS, open_snapshot
from apmseed.progress import Reporter


def run_export(engine: Engine, exporter: Exporter, reporter: Reporter,
               datasets: list[str] | None = None) -> dict[str, Any]:
    chosen = datasets or list(DATASETS)
    with open_snapshot(engine) as snap:
        exporter.open(snap.info)
        ok = False
        try:
            task = reporter.task("export", len(chosen))
            for dataset in chosen:
                exporter.export(dataset, snap.records(dataset))
                task.advance(1)
            ok = True
        finally:
            result = exporter.close(ok)
    return result
