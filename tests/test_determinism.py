"""Same seed + options + end time -> the same rows and byte-identical exports; another seed differs."""

import hashlib
from pathlib import Path

import sqlalchemy as sa
from click.testing import CliRunner

from apmseed.exporters.datasets import DATASETS
from tests.conftest import END_TIME, run_cli, table_dump


def _export(runner: CliRunner, url: str, out: Path) -> dict[str, str]:
    result = run_cli(runner, "export", "jsonl", out, "--database-url", url, "-q")
    assert result.exit_code == 0, result.output
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(out.iterdir())}


def _seed(runner: CliRunner, url: str, seed: int) -> None:
    result = run_cli(runner, "seed", "--profile", "tiny", "--seed", seed, "--end-time", END_TIME,
                     "--database-url", url, "-q", "--reset")
    assert result.exit_code == 0, result.output


def test_same_seed_gives_identical_rows_and_bytes(runner: CliRunner, server_url: str, tmp_path: Path,
                                                  database_url: str) -> None:
    url_a = database_url
    _seed(runner, url_a, 99)
    first = _export(runner, url_a, tmp_path / "a")
    rows_first = table_dump(sa.create_engine(url_a), "snapshot")

    # reseed the same database from scratch, and a second database, with the same options
    _seed(runner, url_a, 99)
    assert _export(runner, url_a, tmp_path / "b") == first
    assert table_dump(sa.create_engine(url_a), "snapshot") == rows_first
    assert len(first) == len(DATASETS) + 1  # every dataset of the latest version and the manifest


def test_different_seed_gives_different_data(runner: CliRunner, tmp_path: Path, database_url: str) -> None:
    _seed(runner, database_url, 1)
    one = _export(runner, database_url, tmp_path / "one")
    _seed(runner, database_url, 2)
    two = _export(runner, database_url, tmp_path / "two")
    differing = [name for name in one if one[name] != two[name]]
    assert set(differing) >= {"applications.jsonl", "metrics_timeseries.jsonl", "issues.jsonl", "manifest.json"}
