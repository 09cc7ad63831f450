"""What every exporter shares: dataset coverage, --dry-run, --from/--to, --json, one snapshot."""

import json
from pathlib import Path

import sqlalchemy as sa
from click.testing import CliRunner

from apmseed.exporters.datasets import DATASETS, INTERNAL_TABLES, available
from apmseed.exporters.snapshot import open_snapshot
from apmseed.schema import metadata
from tests.conftest import END_MS, run_cli
from tests.conftest import url_of as _url


def test_every_table_is_carried_by_some_dataset() -> None:
    covered = {t for d in DATASETS.values() for t in d.tables}
    missing = set(metadata.tables) - covered - INTERNAL_TABLES
    assert not missing, f"tables without an export mapping: {sorted(missing)}"
    assert covered <= set(metadata.tables), "a dataset names a table that does not exist"


def test_dry_run_counts_without_writing(runner: CliRunner, seeded: sa.Engine, tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = run_cli(runner, "export", "jsonl", out, "--dry-run", "--json", "--database-url", _url(seeded), "-q")
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output)
    assert summary["dryRun"] is True
    with seeded.connect() as conn:
        assert summary["counts"]["issues"] == conn.execute(sa.text("SELECT count(*) FROM event")).scalar()
        assert summary["counts"]["applications"] == conn.execute(sa.text("SELECT count(*) FROM application")).scalar()
    assert not out.exists()


def test_time_window_limits_points_and_issues(runner: CliRunner, seeded: sa.Engine, tmp_path: Path) -> None:
    out = tmp_path / "out"
    start, end = END_MS - 30 * 60_000, END_MS - 10 * 60_000
    result = run_cli(runner, "export", "jsonl", out, "--from", "2025-11-20T14:30:00Z", "--to", "2025-11-20T14:50Z",
                     "--database-url", _url(seeded), "-q")
    assert result.exit_code == 0, result.output
    with seeded.connect() as conn:
        expected_issues = conn.execute(sa.text(
            "SELECT count(*) FROM event WHERE start_ms >= :a AND start_ms < :b"), {"a": start, "b": end}).scalar()
    assert json.loads((out / "manifest.json").read_text())["exportWindow"] == {"from": start, "to": end}
    assert run_cli(runner, "validate", out).exit_code == 0
    issues = (out / "issues.jsonl").read_text().splitlines()
    assert len(issues) == expected_issues
    for line in (out / "metrics_timeseries.jsonl").read_text().splitlines():
        (points,) = json.loads(line)["metrics"].values()
        assert points and all(start <= ts < end for ts, _ in points)
        assert len(points) == 20


def test_bad_window(runner: CliRunner, seeded: sa.Engine, tmp_path: Path) -> None:
    result = run_cli(runner, "export", "jsonl", tmp_path / "o", "--from", "2025-11-20T15:00Z", "--to",
                     "2025-11-20T14:00Z", "--database-url", _url(seeded))
    assert result.exit_code != 0 and "--to must be later than --from" in result.output
    result = run_cli(runner, "export", "jsonl", tmp_path / "o", "--from", "soon", "--database-url", _url(seeded))
    assert result.exit_code != 0 and "--from 'soon' is not an ISO 8601 time" in result.output


def test_big_datasets_stream_through_server_side_cursors(seeded: sa.Engine) -> None:
    """What can reach millions of rows is fetched in batches from a cursor on the server (memory holds a batch,
    not the table), and the cursor is gone once the dataset is read."""
    declared = "SELECT count(*) FROM pg_cursors WHERE name <> '' AND statement ILIKE 'DECLARE%'"
    with open_snapshot(seeded) as snap:
        big = [d for d in available(snap.info["dataset_version"]) if d.per_row]
        assert len(big) >= 8
        for dataset in big:
            records = snap.records(dataset.name)
            assert next(records, None) is not None, dataset.name
            assert snap.conn.execute(sa.text(declared)).scalar_one() >= 1, dataset.name
            for _ in records:
                pass
            assert snap.conn.execute(sa.text(declared)).scalar_one() == 0, dataset.name
