"""Every export target over one seeded database, next to the row_to_json COPY baseline measured on the same
database in the same run. Each export runs as `apmseed export ...` (process start included)."""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from apmseed import db, profiles, seeding
from apmseed.bench import END_MS, SEED, baselines
from apmseed.bench.server import Server
from apmseed.bench.steps import child_env
from apmseed.progress import Reporter
from apmseed.schema import metadata

SECTION = "## Exporters"


@dataclass
class ExporterRow:
    target: str
    written: int | None
    seconds: float
    error: str | None = None


@dataclass
class ExporterRun:
    profile: str
    dataset_version: str
    baseline_rows: int
    baseline_seconds: float
    rows: list[ExporterRow] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"profile": self.profile, "datasetVersion": self.dataset_version, "baselineRows": self.baseline_rows,
                "baselineSeconds": self.baseline_seconds,
                "targets": [{"target": r.target, "written": r.written, "seconds": r.seconds,
                             "ratio": self.baseline_seconds / r.seconds if r.seconds > 0 and not r.error else None,
                             "error": r.error} for r in self.rows]}


def written(summary: dict[str, Any]) -> int:
    """What an export command reports it wrote (files: records; MongoDB: documents; OTLP: requests)."""
    if "counts" in summary:
        return sum(summary["counts"].values())
    if "files" in summary:
        return sum(f["records"] for f in summary["files"].values())
    return sum(v for v in summary.get("datasets", {}).values() if isinstance(v, int))


def measure(url: str, profile: str, dataset_version: str, baseline: tuple[int, float], mongo_url: str | None,
            log: Callable[[str], None], mongo_label: str = "mongo") -> ExporterRun:
    run = ExporterRun(profile, dataset_version, *baseline)
    with tempfile.TemporaryDirectory(prefix="apmseed-bench-exporters-") as tmp:
        work = Path(tmp)
        apmseed = [sys.executable, "-m", "apmseed", "export"]
        common = ["--database-url", url, "-q", "--json"]
        targets = {"jsonl": [*apmseed, "jsonl", str(work / "jsonl"), *common]}
        if mongo_url:
            targets[mongo_label] = [*apmseed, "mongo", "--url", mongo_url, "--db", "apmseed_bench", *common]
        targets["otlp (OTLP/JSON files)"] = [*apmseed, "otlp", "--out", str(work / "otlp"), *common]
        targets["cloudevents (JSON lines)"] = [*apmseed, "cloudevents", "--out", str(work / "ce.jsonl"), *common]
        for name, cmd in targets.items():
            log(f"[exporters] {name}")
            start = time.perf_counter()
            proc = subprocess.run(cmd, capture_output=True, text=True, check=False, env=child_env())
            seconds = time.perf_counter() - start
            if proc.returncode != 0:
                lines = (proc.stderr or proc.stdout).strip().splitlines()
                run.rows.append(ExporterRow(name, None, seconds, (lines[-1] if lines else "failed")[:300]))
                continue
            run.rows.append(ExporterRow(name, written(json.loads(proc.stdout.strip().splitlines()[-1])), seconds))
    return run


def standalone(srv: Server, profile_name: str, mongo_url: str | None, log: Callable[[str], None],
               mongo_label: str = "mongo") -> ExporterRun:
    """Seed one database (in this process: only the exports are measured), measure its baseline, export it."""
    with srv.database(f"{profile_name}_exporters") as url:
        engine = db.create_engine(url)
        try:
            with db.connect(engine) as conn, conn.begin():
                result = seeding.seed(conn, profiles.resolve(profile_name, {}), SEED, END_MS, Reporter(False))
        finally:
            engine.dispose()
        tables = [t for t in metadata.tables if t in result.counts]
        seconds = baselines.row_to_json(url, tables)
        return measure(url, profile_name, result.dataset_version, (sum(result.counts.values()), seconds),
                       mongo_url, log, mongo_label)


def section(run: ExporterRun, command: str) -> list[str]:
    rate = run.baseline_rows / run.baseline_seconds if run.baseline_seconds > 0 else 0.0
    lines = [f"{SECTION} ({run.profile} profile, dataset {run.dataset_version})", "",
             f"Baseline: `COPY (SELECT row_to_json(t) ...) TO STDOUT` of every table, {run.baseline_rows:,} rows at "
             f"{rate:,.0f} rows/s, same server, same run. Each export runs as `apmseed export ...` (process start "
             "included) over the same database; rows/s = the database rows it drains per second (the baseline's "
             "row count / wall time), so the ratio is baseline time / export time. Written = what the command "
             "reports (files: records; MongoDB: documents, metric series bucketed per hour; OTLP: requests). "
             "CloudEvents reads only the event-like datasets, so its ratio is not comparable with the others.",
             "", "| target | written | seconds | rows/s | ratio to baseline |", "|---|---:|---:|---:|---:|"]
    for r in run.rows:
        if r.error:
            lines.append(f"| {r.target} | failed: {r.error.replace('|', '/')} | - | - | - |")
            continue
        lines.append(f"| {r.target} | {r.written or 0:,} | {r.seconds:.2f} | {run.baseline_rows / r.seconds:,.0f} | "
                     f"{run.baseline_seconds / r.seconds:.2f} |")
    return [*lines, "", f"Reproduce: `{command}`", ""]
