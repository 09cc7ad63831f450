"""Progress bars: every bulk table of a seed and every big dataset of an export gets a bar that counts its rows
(the rows really loaded or exported, whatever the estimate said), and no bar at all when quiet."""

from __future__ import annotations

import io
from pathlib import Path

import sqlalchemy as sa
from rich.console import Console

from apmseed import profiles, seeding, versioning
from apmseed.exporters.datasets import available
from apmseed.exporters.jsonl import JsonlExporter
from apmseed.exporters.run import run_export
from apmseed.progress import Reporter
from tests.conftest import END_MS, jsonl_records
from tests.test_streaming import STREAMED


def _terminal() -> tuple[Reporter, io.StringIO]:
    out = io.StringIO()
    console = Console(file=out, force_terminal=True, width=160)
    return Reporter(True, console), out


def _counts(engine: sa.Engine, tables: list[str]) -> dict[str, int]:
    with engine.connect() as conn:
        return {t: conn.execute(sa.text(f'SELECT count(*) FROM "{t}"')).scalar_one() for t in tables}


def test_seed_shows_a_bar_per_bulk_table_counting_its_rows(engine: sa.Engine) -> None:
    reporter, out = _terminal()
    with engine.connect() as conn, reporter.running(), conn.begin():
        seeding.seed(conn, profiles.resolve("tiny", {}), 7, END_MS, reporter)
    shown = reporter.finished
    counts = _counts(engine, [*STREAMED, "metric_point"])
    for table in STREAMED:
        assert shown[table].completed == counts[table] > 0, table
        assert shown[table].finished, table
    assert shown["metric points"].completed == counts["metric_point"]
    for step in ("planning the world", "metric point keys",
                 *(f"keys and checks {v}" for v in versioning.known_versions()[1:])):
        assert shown[step].finished, step
    assert "rows/s" in out.getvalue()


def test_stream_estimates_are_what_comes(engine: sa.Engine) -> None:
    """The ETA rests on each stream's expected rows: the rows it makes where they are known when its turn comes
    (sessions, derived points, traces), the schedule for synthetic runs (a run may fall off the window's end),
    the profile's target for calls and logs."""
    reporter, _ = _terminal()
    profile = profiles.resolve("small", {})
    with engine.connect() as conn, reporter.running(), conn.begin():
        seeding.seed(conn, profile, 7, END_MS, reporter)
    shown = reporter.finished
    for table in ("website_session", "mobile_session", "website_metric_point", "mobile_metric_point", "trace"):
        assert shown[table].fields["estimate"] == shown[table].completed > 0, table
    runs = shown["synthetic_result"]
    assert runs.completed > 0 and abs(runs.fields["estimate"] - runs.completed) <= runs.completed * 0.05
    assert shown["call"].fields["estimate"] == profile.calls
    assert shown["log_entry"].fields["estimate"] == profile.logs
    assert abs(shown["call"].completed - profile.calls) <= profile.calls * 0.1
    assert abs(shown["log_entry"].completed - profile.logs) <= profile.logs * 0.1


def test_export_shows_a_bar_per_big_dataset_counting_its_records(seeded: sa.Engine, tmp_path: Path) -> None:
    reporter, _ = _terminal()
    with reporter.running():
        manifest = run_export(seeded, JsonlExporter(tmp_path), reporter)
    shown = reporter.finished
    held = available(manifest["datasetVersion"])
    assert shown["datasets"].completed == len(held)
    big = [d for d in held if d.per_row]
    assert {"calls", "logs", "metrics_timeseries", "website_analyze", "synthetic_runs"} <= {d.name for d in big}
    for dataset in big:
        assert shown[dataset.name].completed == len(jsonl_records(tmp_path, dataset.file)), dataset.name


def test_quiet_shows_nothing(seeded: sa.Engine, tmp_path: Path) -> None:
    out = io.StringIO()
    reporter = Reporter(False, Console(file=out, force_terminal=True))
    with reporter.running():
        run_export(seeded, JsonlExporter(tmp_path), reporter)
    assert out.getvalue() == "" and reporter.finished == {}
