"""Profiles: xl meets issue #5's minimum sizes, --scale multiplies every size (not the window) before explicit
overrides, and bad factors give one clear line."""

import json
from pathlib import Path

import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from apmseed import profiles
from apmseed.errors import ApmseedError
from tests.conftest import END_TIME, run_cli


def test_xl_meets_the_issues_minimum_sizes() -> None:
    xl = profiles.PROFILES["xl"]
    assert xl.entities >= 100_000
    assert xl.services >= 2_000
    assert xl.endpoints >= 20_000
    assert xl.points >= 10_000_000
    assert xl.calls >= 1_000_000
    assert xl.logs >= 1_000_000
    large = profiles.PROFILES["large"]
    for key in ("entities", "apps", "services", "endpoints", "issues", "calls", "logs"):
        assert getattr(xl, key) >= getattr(large, key), key


def test_scale_multiplies_every_size_but_not_the_window() -> None:
    medium = profiles.PROFILES["medium"]
    doubled = profiles.resolve("medium", {}, "2")
    for key in profiles.SCALED:
        assert getattr(doubled, key) == 2 * getattr(medium, key), key
    assert (doubled.minutes, doubled.resolution) == (medium.minutes, medium.resolution)
    assert doubled.points == 2 * medium.points
    assert doubled.options()["scale"] == 2.0 and doubled.options()["name"] == "medium"
    assert profiles.resolve("medium", {}).options()["scale"] == 1.0


def test_scale_rounds_half_up_and_keeps_minimums() -> None:
    half = profiles.resolve("tiny", {}, 0.5)  # 30, 3, 8, 24, 30, 5 -> 15, 1.5, 4, 12, 15, 2.5
    assert (half.entities, half.apps, half.services, half.endpoints, half.series, half.issues) == (15, 2, 4, 12, 15, 3)
    speck = profiles.resolve("tiny", {}, "0.0001")
    assert speck.entities == 3  # a host, a container and a process
    for key in ("apps", "services", "endpoints", "series", "issues", "calls", "logs"):
        assert getattr(speck, key) == 1, key  # thinned out, not removed
    assert speck.minutes == 60


def test_overrides_win_over_the_scale() -> None:
    p = profiles.resolve("tiny", {"services": 5, "minutes": 30}, 10)
    assert (p.services, p.minutes, p.apps, p.entities) == (5, 30, 30, 300)


@pytest.mark.parametrize("value, needle", [
    ("0", "greater than 0"), ("-2", "greater than 0"), ("abc", "must be a number"), ("", "must be a number"),
    ("nan", "greater than 0"), ("inf", "greater than 0"), ("1e12", "more than"),
])
def test_bad_scale_values(value: str, needle: str) -> None:
    with pytest.raises(ApmseedError, match=needle) as caught:
        profiles.resolve("xl", {}, value)
    assert caught.value.fix  # every rejection says what to pass instead


def test_bad_overrides() -> None:
    with pytest.raises(ApmseedError, match="--entities must be at least 3"):
        profiles.resolve("tiny", {"entities": 2})
    with pytest.raises(ApmseedError, match="--logs must be at least 0"):
        profiles.resolve("tiny", {"logs": -1})


@pytest.mark.parametrize("scale, needle", [("0", "greater than 0"), ("-1", "greater than 0"),
                                           ("two", "must be a number")])
def test_seed_rejects_a_bad_scale_in_one_line(runner: CliRunner, database_url: str, scale: str, needle: str) -> None:
    result = run_cli(runner, "seed", "--profile", "tiny", "--scale", scale, "--database-url", database_url)
    assert result.exit_code != 0
    assert "Traceback" not in result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: --scale") and needle in lines[0], result.output
    assert sa.inspect(sa.create_engine(database_url)).get_table_names() == []


def test_seed_with_scale_records_it_and_exports_validate(runner: CliRunner, database_url: str,
                                                         tmp_path: Path) -> None:
    result = run_cli(runner, "seed", "--profile", "tiny", "--scale", "0.5", "--apps", "3", "--end-time", END_TIME,
                     "--database-url", database_url, "--json", "-q")
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output)
    assert summary["profile"]["scale"] == 0.5
    assert summary["profile"]["services"] == 4 and summary["profile"]["apps"] == 3
    assert summary["counts"]["service"] == 4 and summary["counts"]["application"] == 3
    assert summary["counts"]["metric_point"] == 15 * 60
    engine = sa.create_engine(database_url)
    with engine.connect() as conn:
        options = conn.execute(sa.text("SELECT options FROM apmseed_dataset")).scalar_one()
    engine.dispose()
    assert options == summary["profile"]
    out = tmp_path / "out"
    assert run_cli(runner, "export", "jsonl", out, "--database-url", database_url, "-q").exit_code == 0
    assert json.loads((out / "manifest.json").read_text())["options"] == summary["profile"]
    valid = run_cli(runner, "validate", out)
    assert valid.exit_code == 0, valid.output


def test_a_profile_comes_back_from_the_options_it_stored() -> None:
    for profile in profiles.PROFILES.values():
        assert profiles.Profile.from_options({**profile.options(), "scenario": {"name": "x"}}) == profile
    older = {k: v for k, v in profiles.PROFILES["tiny"].options().items() if k not in ("calls", "logs")}
    assert (profiles.Profile.from_options(older).calls, profiles.Profile.from_options(older).logs) == (0, 0)
