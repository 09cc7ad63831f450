"""The CLI through its runner: happy paths, and bad input giving one clear line, exit != 0, no traceback and
nothing half-written."""

import json
from pathlib import Path

import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from apmseed import versioning
from tests.conftest import END_TIME, run_cli, seed_db, table_dump


def _assert_clean_failure(result, *needles: str) -> None:
    assert result.exit_code != 0
    assert "Traceback" not in result.output
    text = result.output.strip()
    assert text.startswith("Error:") or "Usage:" in text, text
    for needle in needles:
        assert needle in text, text


def test_version_and_help(runner: CliRunner) -> None:
    result = run_cli(runner, "--version")
    assert result.exit_code == 0 and "apmseed" in result.output and versioning.latest_version() in result.output
    for cmd in (["--help"], ["seed", "--help"], ["export", "jsonl", "--help"], ["validate", "--help"],
                ["db", "upgrade", "--help"], ["quickstart", "--help"]):
        result = run_cli(runner, *cmd)
        assert result.exit_code == 0 and "Usage:" in result.output


def test_seed_json_summary_and_db_commands(runner: CliRunner, database_url: str) -> None:
    result = run_cli(runner, "seed", "--profile", "tiny", "--apps", "2", "--minutes", "30", "--seed", "5",
                     "--end-time", END_TIME, "--database-url", database_url, "--json")
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output)
    assert summary["counts"]["application"] == 2
    assert summary["counts"]["metric_point"] == summary["profile"]["series"] * 30
    assert summary["endTime"] == END_TIME

    current = run_cli(runner, "db", "current", "--database-url", database_url)
    assert f"schema revision {versioning.latest_version()}" in current.output and "seed 5" in current.output
    history = run_cli(runner, "db", "history")
    assert history.output.startswith("1.0.0")
    down = run_cli(runner, "db", "downgrade", "base", "--database-url", database_url)
    assert down.exit_code == 0 and "base" in down.output
    up = run_cli(runner, "db", "upgrade", "--database-url", database_url)
    assert up.exit_code == 0 and versioning.latest_version() in up.output


def test_quickstart_runs_twice_replacing_its_data(runner: CliRunner, tmp_path: Path) -> None:
    out = tmp_path / "out"
    args = ["quickstart", "--data-dir", tmp_path / "pg", "--out", out, "--end-time", END_TIME, "-q"]
    first = run_cli(runner, *args)
    assert first.exit_code == 0, first.output
    assert "metric_point" in first.output and "14,400" in first.output
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["files"]["applications.jsonl"]["records"] == 15
    second = run_cli(runner, *args)
    assert second.exit_code == 0, second.output
    assert json.loads((out / "manifest.json").read_text()) == manifest
    valid = run_cli(runner, "validate", out)
    assert valid.exit_code == 0, valid.output


@pytest.mark.parametrize("args, needles", [
    (["--profile", "huge"], ["unknown profile 'huge'", "tiny"]),
    (["--entities", "-5"], ["--entities must be at least"]),
    (["--services", "0"], ["--services must be at least 1"]),
    (["--end-time", "yesterday"], ["not an ISO 8601 time", "2025-11-20T15:00:00Z"]),
    (["--minutes", "10", "--resolution", "3"], ["not a multiple"]),
    (["--seed", "-1"], ["--seed"]),
    (["--dataset-version", "9.9.9"], ["unknown dataset version '9.9.9'"]),
])
def test_seed_bad_options(runner: CliRunner, database_url: str, args: list[str], needles: list[str]) -> None:
    result = run_cli(runner, "seed", *args, "--database-url", database_url)
    _assert_clean_failure(result, *needles)
    assert sa.inspect(sa.create_engine(database_url)).get_table_names() == []


@pytest.mark.parametrize("url, needle", [
    ("postgresql://nobody@127.0.0.1:1/nothing", "cannot connect to"),
    ("mysql://root@localhost/db", "unsupported database"),
    ("not a url at all", "cannot parse database URL"),
])
def test_unreachable_or_wrong_database_url(runner: CliRunner, url: str, needle: str) -> None:
    result = run_cli(runner, "seed", "--profile", "tiny", "--database-url", url)
    _assert_clean_failure(result, needle)


def test_seeding_a_non_empty_database_needs_reset(runner: CliRunner, engine: sa.Engine, database_url: str) -> None:
    seed_db(engine, seed=1)
    before = table_dump(engine, "event")
    result = run_cli(runner, "seed", "--profile", "tiny", "--seed", "2", "--database-url", database_url)
    _assert_clean_failure(result, f"already holds dataset {versioning.latest_version()} (seed 1)", "--reset")
    assert table_dump(engine, "event") == before
    result = run_cli(runner, "seed", "--profile", "tiny", "--seed", "2", "--end-time", END_TIME,
                     "--database-url", database_url, "--reset", "-q")
    assert result.exit_code == 0, result.output
    assert table_dump(engine, "event") != before


def test_export_to_a_file_path_fails_cleanly(runner: CliRunner, seeded: sa.Engine, tmp_path: Path) -> None:
    target = tmp_path / "not-a-dir"
    target.write_text("keep me")
    url = seeded.url.render_as_string(hide_password=False)
    result = run_cli(runner, "export", "jsonl", target, "--database-url", url)
    _assert_clean_failure(result, "is a file", "directory")
    assert target.read_text() == "keep me"


def test_export_of_an_empty_database_fails_cleanly(runner: CliRunner, database_url: str, tmp_path: Path) -> None:
    result = run_cli(runner, "export", "jsonl", tmp_path / "out", "--database-url", database_url)
    _assert_clean_failure(result, "no apmseed dataset", "apmseed seed")
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_failed_export_leaves_previous_export_intact(runner: CliRunner, seeded: sa.Engine, tmp_path: Path) -> None:
    """A failure half-way (a corrupt row the mapper chokes on) publishes nothing and leaves no temp files."""
    url = seeded.url.render_as_string(hide_password=False)
    out = tmp_path / "out"
    assert run_cli(runner, "export", "jsonl", out, "--database-url", url, "-q").exit_code == 0
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    with seeded.begin() as conn:  # dangling data: a series whose entity vanished (FK disabled for the test)
        conn.execute(sa.text("ALTER TABLE metric_series DROP CONSTRAINT fk_metric_series_service_id_service"))
        conn.execute(sa.text("UPDATE metric_series SET service_id = 'gone' WHERE series_id ="
                             " (SELECT min(series_id) FROM metric_series WHERE entity_kind = 'SERVICE')"))
    result = run_cli(runner, "export", "jsonl", out, "--database-url", url, "-q")
    _assert_clean_failure(result, "dangling data", "'gone'")
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before


def test_export_names_a_series_whose_infrastructure_entity_is_gone(runner: CliRunner, seeded: sa.Engine,
                                                                    tmp_path: Path) -> None:
    url = seeded.url.render_as_string(hide_password=False)
    with seeded.begin() as conn:  # FK disabled for the test
        conn.execute(sa.text("ALTER TABLE metric_series DROP CONSTRAINT fk_metric_series_snapshot_id_snapshot"))
        conn.execute(sa.text("UPDATE metric_series SET snapshot_id = 'vanished' WHERE series_id ="
                             " (SELECT min(series_id) FROM metric_series WHERE entity_kind = 'INFRASTRUCTURE')"))
    result = run_cli(runner, "export", "jsonl", tmp_path / "out", "--database-url", url, "-q")
    _assert_clean_failure(result, "dangling data", "infrastructure 'vanished'")
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_unknown_datasets_option(runner: CliRunner, seeded: sa.Engine, tmp_path: Path) -> None:
    url = seeded.url.render_as_string(hide_password=False)
    result = run_cli(runner, "export", "jsonl", tmp_path / "o", "--datasets", "issues,nope", "--database-url", url)
    _assert_clean_failure(result, "unknown dataset(s): nope")
    result = run_cli(runner, "export", "jsonl", tmp_path / "o", "--datasets", "issues", "--database-url", url, "-q")
    assert result.exit_code == 0
    assert sorted(p.name for p in (tmp_path / "o").iterdir()) == ["issues.jsonl", "manifest.json"]


def test_db_bad_versions(runner: CliRunner, database_url: str) -> None:
    _assert_clean_failure(run_cli(runner, "db", "upgrade", "7.0.0", "--database-url", database_url),
                          "unknown dataset version '7.0.0'")
    _assert_clean_failure(run_cli(runner, "db", "downgrade", "0.1", "--database-url", database_url),
                          "unknown dataset version '0.1'")
