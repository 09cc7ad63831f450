"""`apmseed bench` end to end at the smallest sizes: the report has every section, a row per step and the
profiles side by side, and its row counts are the deterministic ones. No assertion looks at a time."""

import json
import re
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from apmseed import bench, db, profiles
from apmseed.bench import report
from apmseed.bench import scenario as bench_scenario
from apmseed.scenarios import plan as scenario_plan
from apmseed.scenarios.spec import ANOMALY_TYPES
from tests.conftest import run_cli, scratch_database, seed_db

PROFILES = ("tiny", "small")
SECTIONS = ("# apmseed benchmarks", "## Machine", "## Reproduce", "## Summary", "## Targets", "## Results",
            "## Loading per table", "## Incidents and cascades", "## Where the time goes", "## Notes", "## Exporters")
REALISM = ("points:plain", "points:incidents", "points:plain:seed", "points:incidents:seed")  # in this order
STEPS = ("copy", "copy_pk", "copy_keys", "seed", "load:metric_point", "load:call", "load:log_entry",
         "copy:metric_point", "entities", "json_base", "export", *REALISM)


@pytest.fixture(scope="module")
def ran(server_url: str, tmp_path_factory: pytest.TempPathFactory) -> tuple[Result, dict[str, Any], str]:
    out = tmp_path_factory.mktemp("bench") / "BENCH.md"
    result = run_cli(CliRunner(), "bench", "--profiles", ",".join(PROFILES), "--exporters", "--out", out,
                     "--database-url", server_url, "--json", "-q")
    assert result.exit_code == 0, result.output
    return result, json.loads(result.stdout), out.read_text()


@pytest.fixture(scope="module")
def expected_counts(server_url: str) -> dict[str, dict[str, int]]:
    """What seeding each profile with the benchmark's seed and end time gives, seeded directly."""
    counts = {}
    for name in PROFILES:
        with scratch_database(server_url) as url:
            engine = db.create_engine(url)
            counts[name] = seed_db(engine, name, seed=bench.SEED, end_ms=bench.END_MS).counts
            engine.dispose()
    return counts


def section(text: str, heading: str) -> str:
    """The body of the section whose heading starts with `heading`."""
    return text.split("\n" + heading, 1)[1].split("\n", 1)[1].split("\n## ", 1)[0]


def test_report_has_every_section_in_order(ran: tuple[Result, dict[str, Any], str]) -> None:
    _, _, text = ran
    positions = [text.index(s + "\n") if s.startswith("# ") else text.index(s) for s in SECTIONS]
    assert positions == sorted(positions)
    assert "apmseed bench --profiles tiny,small" in section(text, "## Reproduce")


def test_a_row_per_step_with_deterministic_row_counts(ran: tuple[Result, dict[str, Any], str],
                                                      expected_counts: dict[str, dict[str, int]]) -> None:
    _, summary, text = ran
    rows = [line for line in section(text, "## Results").splitlines() if line.startswith("| ") and "---" not in line]
    for name in PROFILES:
        profile, counts = profiles.PROFILES[name], expected_counts[name]
        steps = summary["profiles"][name]["steps"]
        assert set(steps) == set(STEPS)
        assert all(s["error"] is None for s in steps.values()), steps
        assert summary["profiles"][name]["counts"] == counts
        for key in ("copy", "copy_pk", "copy_keys", "load:metric_point", "copy:metric_point"):
            assert steps[key]["rows"] == profile.points == counts["metric_point"]
            assert steps[key]["baseline"] == "copy", key
        assert steps["load:call"]["rows"] == counts["call"]
        assert steps["load:log_entry"]["rows"] == counts["log_entry"]
        assert steps["seed"]["rows"] == steps["json_base"]["rows"] == sum(counts.values())
        assert steps["entities"]["rows"] == sum(counts.values()) - counts["metric_point"]
        assert steps["export"]["rows"] > counts["metric_point"]
        for key in REALISM:  # dataset 1.0.0 with and without the scenario: the same points
            assert steps[key]["rows"] == profile.points
        assert steps["points:incidents"]["baseline"] == "points:plain"
        assert steps["points:incidents:seed"]["baseline"] == "points:plain:seed"
        mine = [r for r in rows if r.startswith(f"| {name} | ") and "| 6. quickstart" not in r]
        assert len(mine) == len(STEPS)
        for key, row in zip(STEPS, mine, strict=True):  # in the order they ran
            assert row.startswith(f"| {name} | {steps[key]['name']} | {steps[key]['rows']:,} |"), (key, row)
        for key in ("seed", "export", "points:plain:seed", "points:incidents:seed"):
            assert steps[key]["peakRssMiB"] > 0 and steps[key]["wallSeconds"] > 0, key
    quick = [r for r in rows if r.startswith("| small | 6. quickstart")]
    assert len(quick) == 2 and len(summary["quickstart"]) == 2


def test_profiles_side_by_side(ran: tuple[Result, dict[str, Any], str]) -> None:
    _, _, text = ran
    table = [line for line in section(text, "## Summary").splitlines() if line.startswith("|")]
    assert table[0] == "| | tiny | small |"
    labels = {line.split(" | ")[0].lstrip("| ") for line in table[2:] if line.startswith("| ")}
    assert {"seed: peak RSS (MiB)", "export jsonl: peak RSS (MiB)", "seed: wall time, process start included (s)",
            "metric points load, rows/s (ratio to raw COPY)", "calls load, rows/s (ratio to raw COPY)",
            "logs load, rows/s (ratio to raw COPY)", "entity rows through factories, rows/s",
            "export jsonl, rows/s (ratio to row_to_json)",
            "raw COPY + PK + FK: PostgreSQL's own constrained load (rows/s, ratio to raw COPY)",
            "metric points load / PostgreSQL's own constrained load",
            "metric points COPY alone, generation overlapped, keys after, rows/s (ratio to raw COPY)",
            "1.0.0 seed without a scenario: metric points / point phase, points/s",
            "1.0.0 seed with incidents and cascades: metric points / point phase, points/s (ratio to without)",
            "1.0.0 seed without a scenario: metric points / whole seed, points/s",
            "1.0.0 seed with incidents and cascades: metric points / whole seed, points/s (ratio to without)"
            } <= labels
    for line in table[2:]:
        assert line.count(" | ") == 2, line  # a cell per profile
    assert "| metric points | 1,800 | 14,400 |" in table


def test_every_target_is_listed_with_a_measurement(ran: tuple[Result, dict[str, Any], str]) -> None:
    _, summary, text = ran
    listed = section(text, "## Targets")
    for target in report.TARGETS:
        assert target.name in listed
    for outcome in summary["targets"]:
        if outcome["profile"] == "xl":  # not run here: said so, not guessed
            assert outcome["value"] is None and outcome["met"] is None
            assert f"| {outcome['target']} | xl | - | not run (pass --xl) |" in listed
        else:
            assert isinstance(outcome["value"], float) and isinstance(outcome["met"], bool), outcome
    per_profile = [o for o in summary["targets"] if o["profile"] in PROFILES]
    assert len(per_profile) == 7 * len(PROFILES) + 1  # six load/export targets and step 5's each, quickstart once
    for outcome in (o for o in per_profile if o["target"].startswith("issue 2:")):
        steps = summary["profiles"][outcome["profile"]]["steps"]
        ratio = steps["copy:metric_point"]["rowsPerSecond"] / steps["copy"]["rowsPerSecond"]
        assert outcome["value"] == pytest.approx(ratio) and outcome["met"] == (ratio >= 0.5)
    realism = [o for o in summary["targets"] if o["target"] == report.REALISM_TARGET]
    assert [o["profile"] for o in realism] == list(PROFILES)
    for outcome in realism:
        assert outcome["value"] == summary["profiles"][outcome["profile"]]["realism"]["ratio"]
        assert outcome["threshold"] == 0.8 and outcome["met"] == (outcome["value"] >= 0.8)


def test_loading_per_table_names_the_bulk_tables(ran: tuple[Result, dict[str, Any], str],
                                                 expected_counts: dict[str, dict[str, int]]) -> None:
    _, _, text = ran
    part = section(text, "## Loading per table")
    for name in PROFILES:
        block = part.split(f"**{name}**", 1)[1].split("**", 1)[0]
        for table in ("metric_point", "call", "log_entry"):
            assert re.search(rf"^\| {table}( \(keys checked per row\))? \| {expected_counts[name][table]:,} \|",
                             block, flags=re.M), (table, block)


def test_incidents_and_cascades_measured_in_the_same_run(ran: tuple[Result, dict[str, Any], str]) -> None:
    _, summary, text = ran
    part = section(text, "## Incidents and cascades")
    for name in PROFILES:
        profile, run = profiles.PROFILES[name], summary["profiles"][name]
        assert run["scenario"] == {"services": min(20, profile.services), "hosts": 4, "incidents": 17,
                                   "anomalyTypes": 7, "cascades": 2, "cascadeHops": run["scenario"]["cascadeHops"],
                                   "releases": 1, "surges": 1}
        assert run["scenario"]["cascadeHops"] > 0
        realism = run["realism"]
        for key in ("points:plain", "points:incidents"):
            figures = realism[key]
            assert figures["points"] == profile.points
            assert figures["rows"] > profile.points  # the world's entity rows too
            assert 0 < figures["pointSeconds"] < figures["seedSeconds"] < figures["wallSeconds"]
            assert "point COPY (generation overlapped)" in figures["phases"]
        assert realism["ratio"] == run["steps"]["points:incidents"]["ratio"]
        assert isinstance(realism["ratio"], float) and isinstance(realism["ratioWholeSeed"], float)
        assert f"- {name}: {run['scenario']['services']} declared services in a call topology" in part
        for variant in ("without a scenario", "with incidents and cascades"):
            assert re.search(rf"^\| {name} \| {variant} \| {profile.points:,} \|", part, flags=re.M), (variant, part)
        assert f"| {name} | ratio, with incidents / without | | | | **{realism['ratio']:.2f}** |" in part
        assert f"**{name}: the two 1.0.0 seeds, phase by phase**" in part


@pytest.mark.parametrize("name", list(profiles.PROFILES))
def test_the_incident_scenario_fits_every_profile(tmp_path: Path, name: str) -> None:
    profile = profiles.PROFILES[name]
    written = bench_scenario.write(profile, tmp_path, bench.END_MS)
    spec, stored = scenario_plan.load(str(written.path), bench.END_MS)
    assert spec == written.spec and stored["name"] == "bench-incidents"
    assert spec.profile == profile  # the same sizes as the seed without it
    assert {i.type for i in spec.incidents} == set(ANOMALY_TYPES)
    hosts = {h.name for h in spec.hosts}
    for kind in ANOMALY_TYPES:  # each type on a service and on a host
        assert {i.entity in hosts for i in spec.incidents if i.type == kind and i.source == "incident"} == \
            {True, False}
    assert len(spec.cascades) == 2 and all(spec.cascade_hops(c) for c in spec.cascades)
    assert [r.effect for r in spec.releases] == ["regression"] and spec.releases[0].triggers is not None
    assert len(spec.traffic) == 1
    assert all(spec.start_ms <= i.start_ms < i.end_ms <= spec.end_ms for i in spec.incidents)
    assert any(s.calls for s in spec.services)


def test_exporters_measured_on_the_first_profile(ran: tuple[Result, dict[str, Any], str]) -> None:
    _, summary, text = ran
    exporters = summary["exporters"]
    assert exporters["profile"] == "tiny"
    assert exporters["baselineRows"] == summary["profiles"]["tiny"]["steps"]["json_base"]["rows"]
    targets = {t["target"]: t for t in exporters["targets"]}
    assert set(targets) == {"jsonl", "otlp (OTLP/JSON files)", "cloudevents (JSON lines)"}  # no --mongo-url
    assert all(t["error"] is None for t in targets.values()), targets
    tiny = summary["profiles"]["tiny"]
    assert targets["jsonl"]["written"] == tiny["steps"]["export"]["rows"] - tiny["counts"]["metric_point"]
    assert "| jsonl |" in section(text, "## Exporters (tiny profile")


def test_an_earlier_exporters_section_is_carried_over(tmp_path: Path) -> None:
    out = tmp_path / "B.md"
    out.write_text("# old report\n\n## Exporters (medium profile, dataset 1.4.0)\n\n| jsonl | 1 |\n")
    carried = report.carried_exporters(out)
    assert carried is not None and carried.startswith("## Exporters (medium") and "| jsonl | 1 |" in carried
    report.replace_exporters(out, ["## Exporters (small profile, dataset 1.4.0)", "", "| mongo | 2 |"])
    assert out.read_text() == "# old report\n\n## Exporters (small profile, dataset 1.4.0)\n\n| mongo | 2 |\n"
    assert report.carried_exporters(tmp_path / "missing.md") is None


@pytest.mark.parametrize("args, needle", [
    (["--profiles", "huge"], "unknown profile(s): huge"),
    (["--profiles", " , "], "--profiles names no profile"),
    (["--scale", "0"], "--scale must be a number greater than 0"),
    (["--repeat", "0"], "--repeat"),
])
def test_bad_bench_options_fail_in_one_line(runner: CliRunner, tmp_path: Path, args: list[str], needle: str) -> None:
    result = run_cli(runner, "bench", *args, "--out", tmp_path / "B.md", "--database-url", "postgresql://nobody@/x")
    assert result.exit_code != 0 and "Traceback" not in result.output
    assert needle in result.output, result.output
    assert not (tmp_path / "B.md").exists()


@pytest.mark.parametrize("where, needle", [(".", "directory"), ("missing/B.md", "does not exist")])
def test_out_must_be_a_writable_file_path(runner: CliRunner, tmp_path: Path, where: str, needle: str) -> None:
    result = run_cli(runner, "bench", "--profiles", "tiny", "--out", tmp_path / where,
                     "--database-url", "postgresql://nobody@127.0.0.1:1/nothing")
    assert result.exit_code != 0 and "Traceback" not in result.output
    assert "--out" in result.output and needle in result.output, result.output


def test_unreachable_server_fails_in_one_line(runner: CliRunner, tmp_path: Path) -> None:
    result = run_cli(runner, "bench", "--profiles", "tiny", "--out", tmp_path / "B.md",
                     "--database-url", "postgresql://nobody@127.0.0.1:1/nothing")
    assert result.exit_code != 0 and "Traceback" not in result.output
    assert result.output.strip().splitlines()[-1].startswith("Error: cannot connect to"), result.output
    assert not (tmp_path / "B.md").exists()
