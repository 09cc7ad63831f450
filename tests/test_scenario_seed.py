"""Scenarios end to end: every built-in seeds and validates; each injected incident shows in its metrics and
raises its event inside its window, and nothing of the kind happens in a control run without it; cascades start
at the root and reach each hop later by at least the delay; the ground truth records all of it; the same
scenario, seed and end time give the same data, also through `db upgrade`."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from apmseed import db, seeding, vocab
from apmseed.cli.main import cli
from apmseed.progress import Reporter
from apmseed.scenarios import plan as scenario_plan
from apmseed.scenarios.spec import builtin_names, resolve_scenario
from apmseed.scenarios.world import Bundle, World, build_world
from tests.conftest import END_MS, jsonl_records, rows, run_cli, scratch_database, seed_db, table_dump, url_of
from tests.test_dataset_versions import DATA_TABLES

END_ISO = "2025-11-20T15:00:00Z"
METRIC_OF = {"latency": ("latency", "P50"), "errors": ("erroneousCalls", "SUM"), "cpu": ("cpu.used", "MEAN"),
             "memory": ("memory.used", "MEAN")}


def _world(name: str, seed: int = 42, **drop: bool) -> World:
    spec = resolve_scenario(name, end_ms=END_MS)
    if drop:
        spec = dataclasses.replace(spec, incidents=(), cascades=(), releases=(), traffic=())
    return build_world(spec.profile, seed, END_MS, spec)


def _bundle(world: World, target: dict) -> Bundle:
    return next(b for b in world.bundles if b.target == target)


def _points_digest(world: World) -> str:
    digest = hashlib.sha256()
    for ids, ts, values in world.point_chunks():
        digest.update(ids.tobytes() + ts.tobytes() + values.tobytes())
    return digest.hexdigest()


@pytest.mark.parametrize("name", builtin_names())
def test_builtin_scenario_seeds_exports_and_validates(name: str, server_url: str, tmp_path: Path) -> None:
    runner = CliRunner()
    with scratch_database(server_url, "scn") as url:
        seeded = run_cli(runner, "seed", "--scenario", name, "--end-time", END_ISO, "--database-url", url, "-q")
        assert seeded.exit_code == 0, seeded.output
        out = tmp_path / "out"
        exported = run_cli(runner, "export", "jsonl", out, "--database-url", url, "-q")
        assert exported.exit_code == 0, exported.output
    checked = run_cli(runner, "validate", out)
    assert checked.exit_code == 0, checked.output
    spec = resolve_scenario(name, end_ms=END_MS)
    told = [r for r in jsonl_records(out, "ground_truth.jsonl") if r.get("scenario") == name]
    roots = [c.incident for c in spec.cascades]  # a cascade's root incident is told with its cascade
    expected = (len([i for i in spec.incidents if i.source != "cascade" and i not in roots]) + len(spec.cascades)
                + len(spec.releases) + len(spec.traffic))
    assert len(told) == expected
    manifest = (out / "manifest.json").read_text()
    assert f'"name":"{name}"' in manifest.replace(" ", "")


@pytest.mark.parametrize("name", [n for n in builtin_names() if n != "steady"])
def test_incidents_show_in_metrics_and_raise_events_inside_their_windows(name: str) -> None:
    world, control = _world(name), _world(name, drop=True)
    issues = {i["event_id"]: i for i in world.tables["event"]}
    step = world.profile.resolution * 60_000
    told = [s for s in world.stories if s.cause in ("incident", "cascade", "release")]
    assert told, "every built-in scenario but steady injects something"
    for story in told:
        for effect in story.effects:
            if effect.event_id is None:
                continue
            issue = issues[effect.event_id]
            assert effect.start_ms <= issue["start_ms"] < effect.end_ms
            kind = next(k for k, v in METRIC_OF.items()
                        if issue["problem"] == vocab.PROBLEMS[k][0])
            values = world.bundle_values(_bundle(world, effect.target))[METRIC_OF[kind]]
            baseline = control.bundle_values(_bundle(control, effect.target))[METRIC_OF[kind]]
            first, last = (effect.start_ms - world.start_ms) // step, (effect.end_ms - world.start_ms) // step
            inside = slice(first, last)
            outside = np.ones(values.size, dtype=bool)
            outside[inside] = False
            band = baseline[outside].mean() + 3 * baseline[outside].std()
            assert values[inside].max() > band, (name, effect.target["label"], kind)
            # the control run has no such excursion in the same window
            assert baseline[inside].max() <= band * 1.5


def test_control_run_has_no_scenario_issues() -> None:
    world, control = _world("db-outage-cascade"), _world("db-outage-cascade", drop=True)
    assert {s.cause for s in control.stories} == {"issue"}  # only the profile's own random issues
    scenario_events = {e.event_id for s in world.stories if s.cause != "issue" for e in s.effects if e.event_id}
    assert scenario_events and not scenario_events & {i["event_id"] for i in control.tables["event"]}
    assert len(world.tables["event"]) == len(control.tables["event"]) + len(scenario_events)


@pytest.mark.parametrize("name", ["db-outage-cascade", "region-failure"])
def test_cascade_starts_at_the_root_and_each_hop_later(name: str) -> None:
    spec = resolve_scenario(name, end_ms=END_MS)
    world = _world(name)
    (cascade,) = spec.cascades
    (story,) = [s for s in world.stories if s.cause == "cascade"]
    root_start = min(e.start_ms for e in story.effects if e.hop == 0)
    assert root_start == cascade.incident.start_ms == story.start_ms
    assert max(e.hop for e in story.effects) >= 1
    issues = {i["event_id"]: i for i in world.tables["event"]}
    root_issue = min(issues[e.event_id]["start_ms"] for e in story.effects if e.hop == 0 and e.event_id)
    for effect in story.effects:
        assert effect.start_ms >= root_start + effect.hop * cascade.delay_ms
        if effect.hop:
            assert effect.factor == pytest.approx(cascade.damping ** effect.hop)
            if effect.event_id:
                assert issues[effect.event_id]["start_ms"] > root_issue
                assert "root cause" in issues[effect.event_id]["detail"]


def test_same_scenario_seed_and_end_time_give_the_same_world() -> None:
    a, b, other = _world("memory-leak"), _world("memory-leak"), _world("memory-leak", seed=43)
    assert a.tables == b.tables and _points_digest(a) == _points_digest(b)
    assert [dataclasses.asdict(s) for s in a.stories] == [dataclasses.asdict(s) for s in b.stories]
    assert _points_digest(a) != _points_digest(other)


def test_declared_services_are_pinned_with_their_calls(server_url: str) -> None:
    spec = resolve_scenario("db-outage-cascade", end_ms=END_MS)
    with scratch_database(server_url, "scn") as url:
        result = run_cli(CliRunner(), "seed", "--scenario", "db-outage-cascade", "--end-time", END_ISO,
                         "--database-url", url, "-q")
        assert result.exit_code == 0, result.output
        engine = db.create_engine(url)
        labels = {r["id"]: r["label"] for r in rows(engine, "SELECT id, label FROM service")}
        edges = {(labels[r["from_service_id"]], labels[r["to_service_id"]])
                 for r in rows(engine, "SELECT from_service_id, to_service_id FROM service_connection")}
        engine.dispose()
    declared = {d.name for d in spec.services}
    assert declared <= set(labels.values())
    assert {(a, b) for a, b in edges if a in declared or b in declared} == \
        {(d.name, c) for d in spec.services for c in d.calls}


def test_upgrading_a_scenario_dataset_equals_seeding_it_directly(server_url: str) -> None:
    dumps = []
    for steps in ((["seed", "--dataset-version", "1.0.0"], ["db", "upgrade"]), (["seed"],)):
        with scratch_database(server_url, "scn") as url:
            for step in steps:
                extra = ["--scenario", "bad-deploy", "--end-time", END_ISO] if step[0] == "seed" else []
                result = run_cli(CliRunner(), *step, *extra, "--database-url", url, "-q")
                assert result.exit_code == 0, result.output
            engine = db.create_engine(url)
            present = set(sa.inspect(engine).get_table_names())
            dumps.append({t: table_dump(engine, t) for t in DATA_TABLES if t in present})
            engine.dispose()
    assert dumps[0] == dumps[1]
    assert dumps[0]["ground_truth"] and any(r for r in dumps[0]["ground_truth"] if "release" in r)


def test_scenario_bad_input_is_one_line(tmp_path: Path, database_url: str) -> None:
    runner = CliRunner()
    broken = tmp_path / "broken.yaml"
    broken.write_text("name: broken\ndescription: x\nincidents:\n  - {entity: nowhere, type: spike, at: -1h, "
                      "duration: 5m}\n")
    for args, needle in ((["--scenario", "no-such"], "unknown scenario"),
                         (["--scenario", "steady", "--profile", "tiny"], "--profile"),
                         (["--scenario", str(broken)], f"{broken}:4:")):
        result = runner.invoke(cli,
                               ["seed", *args, "--database-url", database_url, "-q"])
        assert result.exit_code != 0
        assert needle in result.output and "Traceback" not in result.output
        assert len(result.output.strip().splitlines()) == 1


def test_a_rootless_ground_truth_row_must_be_a_world_surge(engine: sa.Engine) -> None:
    """The planner writes a root for everything but a world-wide surge; the database insists on it too."""
    seed_db(engine)
    with pytest.raises(sa.exc.IntegrityError), engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO ground_truth (id, type, cause, magnitude, start_ms, end_ms)"
                             " VALUES ('gt-x', 'spike', 'incident', 2, 1, 2)"))
    with engine.begin() as conn:  # the same without a root is fine for a surge of all traffic
        conn.execute(sa.text("INSERT INTO ground_truth (id, type, cause, magnitude, start_ms, end_ms)"
                             " VALUES ('gt-y', 'level_shift', 'traffic', 2, 1, 2)"))


@pytest.fixture(scope="module")
def cascade_db(server_url: str) -> Iterator[sa.Engine]:
    """db-outage-cascade seeded at the latest version, once for the consistency tests below."""
    spec, stored = scenario_plan.load("db-outage-cascade", END_MS)
    with scratch_database(server_url, "cascade") as url:
        engine = db.create_engine(url)
        with engine.connect() as conn, conn.begin():
            seeding.seed(conn, spec.profile, 42, END_MS, Reporter(False), scenario=spec, scenario_stored=stored)
        yield engine
        engine.dispose()


def _root_effect(engine: sa.Engine) -> sa.RowMapping:
    return rows(engine, "SELECT f.* FROM ground_truth g JOIN ground_truth_effect f ON f.ground_truth_id = g.id"
                        " WHERE g.cause = 'cascade' AND f.hop = 0 AND f.service_id IS NOT NULL")[0]


def _shares(engine: sa.Engine, sql: str, effect: sa.RowMapping) -> tuple[float, float]:
    """(share inside the effect's window, share outside) of the rows `sql` counts as bad."""
    (r,) = rows(engine, sql, sid=effect["service_id"], start=effect["start_ms"], end=effect["end_ms"])
    inside = r["bad_in"] / r["all_in"] if r["all_in"] else 0.0
    outside = r["bad_out"] / r["all_out"] if r["all_out"] else 0.0
    return inside, outside


def test_the_root_cause_fails_in_traces_and_logs_during_its_window(cascade_db: sa.Engine) -> None:
    root = _root_effect(cascade_db)
    window = "{col} >= :start AND {col} < :end"
    calls_in, calls_out = _shares(cascade_db, (
        "SELECT count(*) FILTER (WHERE error_count > 0 AND {w}) bad_in, count(*) FILTER (WHERE {w}) all_in,"
        " count(*) FILTER (WHERE error_count > 0 AND NOT ({w})) bad_out, count(*) FILTER (WHERE NOT ({w})) all_out"
        " FROM call WHERE dst_service_id = :sid").format(w=window.format(col="start_ms")), root)
    assert calls_in > 0.5 and calls_in > 5 * calls_out
    logs_in, logs_out = _shares(cascade_db, (
        "SELECT count(*) FILTER (WHERE level = 'ERROR' AND {w}) bad_in, count(*) FILTER (WHERE {w}) all_in,"
        " count(*) FILTER (WHERE level = 'ERROR' AND NOT ({w})) bad_out, count(*) FILTER (WHERE NOT ({w})) all_out"
        " FROM log_entry WHERE service_id = :sid").format(w=window.format(col="timestamp_ms")), root)
    assert logs_in > 0.5 and logs_in > 2 * logs_out


def test_affected_services_fail_their_synthetic_tests_more_during_the_cascade(cascade_db: sa.Engine) -> None:
    (r,) = rows(cascade_db, """
        WITH hit AS (SELECT f.service_id, f.start_ms, f.end_ms FROM ground_truth g
                     JOIN ground_truth_effect f ON f.ground_truth_id = g.id
                     WHERE g.cause = 'cascade' AND f.service_id IS NOT NULL AND f.endpoint_id IS NULL)
        SELECT count(*) FILTER (WHERE r.status <> 1 AND r.start_ms >= h.start_ms AND r.start_ms < h.end_ms) bad_in,
               count(*) FILTER (WHERE r.start_ms >= h.start_ms AND r.start_ms < h.end_ms) all_in,
               count(*) FILTER (WHERE r.status <> 1 AND NOT (r.start_ms >= h.start_ms AND r.start_ms < h.end_ms))
                 bad_out,
               count(*) FILTER (WHERE NOT (r.start_ms >= h.start_ms AND r.start_ms < h.end_ms)) all_out
        FROM hit h JOIN synthetic_test t ON t.service_id = h.service_id JOIN synthetic_result r ON r.test_id = t.id""")
    assert r["all_in"] > 0, "some synthetic test targets an affected service"
    assert r["bad_in"] / r["all_in"] > r["bad_out"] / max(1, r["all_out"])


def test_smart_alerts_fire_on_the_affected_services(cascade_db: sa.Engine, tmp_path: Path) -> None:
    out = tmp_path / "events.jsonl"
    result = run_cli(CliRunner(), "export", "cloudevents", "--out", out, "--database-url", url_of(cascade_db), "-q")
    assert result.exit_code == 0, result.output
    affected = rows(cascade_db, "SELECT DISTINCT s.series_id, f.start_ms, f.end_ms FROM ground_truth g"
                                " JOIN ground_truth_effect f ON f.ground_truth_id = g.id"
                                " JOIN metric_series s ON s.entity_kind = f.entity_type AND s.service_id = f.service_id"
                                " WHERE g.cause = 'cascade'")
    windows = {r["series_id"]: (r["start_ms"], r["end_ms"]) for r in affected}
    fired = [e for e in (json.loads(line) for line in out.read_text().splitlines())
             if e["type"] == "com.apmseed.alert.triggered"]
    on_affected = [e for e in fired for sid in e["data"]["alert"]["seriesIds"]
                   if sid in windows and windows[sid][0] <= e["data"]["start"] < windows[sid][1]]
    assert on_affected, "a Smart Alert watching an affected service triggers inside its window"
