"""Scenario files: the built-ins load and match the published schema, every kind of mistake is reported with the
file, the line of the offending key and a fix, the loader and the schema agree, the fluent builder round-trips
through YAML, and `apmseed scenarios` behaves (exit codes included)."""

from __future__ import annotations

import copy
import json
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner
from jsonschema import Draft202012Validator

from apmseed.errors import ApmseedError
from apmseed.scenarios import schema_build
from apmseed.scenarios.builder import Scenario
from apmseed.scenarios.loader import load_text
from apmseed.scenarios.spec import (
    MINUTE_MS,
    ScenarioSpec,
    builtin_dir,
    builtin_names,
    format_duration,
    parse_duration,
    resolve_scenario,
)
from apmseed.scenarios.yaml_lines import Issue, ScenarioError, parse_yaml
from tests.conftest import END_MS, END_TIME, run_cli

BUILTINS = ("bad-deploy", "black-friday", "db-outage-cascade", "memory-leak", "region-failure", "steady")
HOUR_MS = 60 * MINUTE_MS
SCHEMA = json.loads((resources.files("apmseed") / "jsonschemas" / "scenario.schema.json").read_text())
VALIDATOR = Draft202012Validator(SCHEMA)

# 8 lines: the sections a case appends start at line 9
BASE = """\
name: t
description: a small test world
profile: {name: tiny, minutes: 120}
services:
  - {name: checkout, calls: [payments]}
  - {name: payments, kind: database}
hosts:
  - {name: db-1, runs: [payments]}
"""


def _write(tmp_path: Path, text: str, name: str = "scenario.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def _issues(path: Path) -> tuple[Issue, ...]:
    with pytest.raises(ScenarioError) as info:
        resolve_scenario(str(path), end_ms=END_MS)
    return info.value.issues


def _schema_errors(text: str) -> list[str]:
    return [e.message for e in VALIDATOR.iter_errors(parse_yaml(text, "x").plain())]


# --- built-ins -----------------------------------------------------------------------------------------------------


def test_builtin_names() -> None:
    assert builtin_names() == sorted(BUILTINS)


@pytest.mark.parametrize("name", BUILTINS)
def test_builtin_scenario_loads_and_matches_the_schema(name: str) -> None:
    path = builtin_dir() / f"{name}.yaml"
    spec = resolve_scenario(name, end_ms=END_MS)
    assert spec == resolve_scenario(str(path), end_ms=END_MS)
    assert spec.name == name and spec.description and "\n" not in spec.description
    assert spec.source == str(path)
    assert _schema_errors(path.read_text()) == []
    assert spec.services, "a built-in pins realistic service names"
    for item in (*spec.incidents, *spec.traffic):
        assert spec.start_ms <= item.start_ms < item.end_ms <= spec.end_ms
    json.dumps(spec.to_dict())  # JSON-ready


def test_builtin_scenarios_tell_their_story() -> None:
    specs = {name: resolve_scenario(name, end_ms=END_MS) for name in BUILTINS}
    assert not specs["steady"].incidents and not specs["steady"].traffic

    (surge,) = specs["black-friday"].traffic
    assert surge.multiplier >= 3 and surge.ramp_ms > 0
    assert {i.type for i in specs["black-friday"].incidents} == {"saturation", "degradation"}
    assert all(surge.start_ms <= i.start_ms < surge.end_ms for i in specs["black-friday"].incidents)

    bad, rollback = [r for r in specs["bad-deploy"].releases if r.service == "checkout"]
    assert bad.effect == "regression" and bad.latency_factor > 1 and bad.error_rate_delta > 0
    assert bad.triggers is not None and bad.at_ms < bad.triggers.start_ms < rollback.at_ms
    assert rollback.effect == "improvement" and bad.triggers in specs["bad-deploy"].incidents

    cascade = specs["db-outage-cascade"].cascades[0]
    hops = specs["db-outage-cascade"].cascade_hops(cascade)
    assert cascade.root == "postgres-orders" and cascade.incident.type == "outage"
    assert {h.entity: h.depth for h in hops} == {"checkout": 1, "payments": 1, "inventory": 1, "frontend": 2}
    assert all(h.start_ms > cascade.incident.start_ms for h in hops), "the root cause is first in time"

    leak = specs["memory-leak"]
    assert [(i.type, leak.entity_kind(i.entity)) for i in leak.incidents] == [
        ("memory_leak", "host"), ("flapping", "service"), ("outage", "host")]
    assert leak.hosts[0].kind == "pod"

    region = specs["region-failure"]
    assert [r.name for r in region.regions] == ["AMER", "EMEA", "APAC"]
    assert sum(r.share or 0 for r in region.regions) == pytest.approx(1.0)
    assert {r.name: r.seasonality.utc_offset_h for r in region.regions} == {"AMER": -5, "EMEA": 1, "APAC": 8}
    hops = region.cascade_hops(region.cascades[0])
    down = {h.entity for h in hops if h.depth == 0}
    assert down == {e.name for e in (*region.services, *region.hosts) if e.region == "APAC"}
    assert [(h.entity, h.type) for h in hops if h.depth == 1] == [("api-gateway", "degradation")]


# --- schema --------------------------------------------------------------------------------------------------------


def test_schema_is_valid_and_current() -> None:
    Draft202012Validator.check_schema(SCHEMA)
    shipped = (resources.files("apmseed") / "jsonschemas" / "scenario.schema.json").read_text()
    assert shipped == schema_build.render(), "regenerate: .venv/bin/python -m apmseed.scenarios.schema_build"


GOOD: dict[str, Any] = {
    "name": "agree", "description": "loader and schema agree on this one",
    "profile": {"name": "tiny", "minutes": 180},
    "seasonality": {"daily_amplitude": 0.4, "peak_hour": 14},
    "regions": {"EMEA": {"share": 0.6}, "AMER": {"share": 0.4, "seasonality": {"noise": 0.1}}},
    "services": [{"name": "web", "region": "EMEA", "calls": ["db"]},
                 {"name": "db", "kind": "database", "technology": "postgresql"}],
    "hosts": [{"name": "h1", "runs": ["db"]}],
    "distributions": [{"metric": "latency", "entity_type": "SERVICE", "distribution": "lognormal", "median": 80,
                       "sigma": 0.5},
                      {"metric": "cpu.used", "entity": "h1", "distribution": "beta", "a": 2, "b": 5}],
    "incidents": [{"entity": "db", "type": "outage", "at": "-2h", "duration": "20m", "magnitude": 1.0}],
    "cascades": [{"root": "db", "delay": "2m", "damping": 0.5}],
    "releases": [{"service": "web", "at": "-1h", "effect": "regression", "latency_factor": 1.4,
                  "triggers": {"type": "spike", "duration": "10m", "magnitude": 3}}],
    "traffic": [{"at": "-3h", "duration": "1h", "multiplier": 2.0, "ramp": "10m", "region": "EMEA"}],
}


def _mutated(path: str, value: Any) -> dict[str, Any]:
    """GOOD with one value replaced (`value` None deletes the key); path like 'incidents.0.type'."""
    doc = copy.deepcopy(GOOD)
    *parents, last = path.split(".")
    target: Any = doc
    for key in parents:
        target = target[int(key)] if isinstance(target, list) else target[key]
    if value is None:
        del target[last]
    else:
        target[last] = value
    return doc


BAD_FOR_BOTH = [
    ("unknown top-level key", "incidnets", []),
    ("name is not a string", "name", 42),
    ("bad scenario name", "name", "Black Friday"),
    ("unknown profile", "profile.name", "huge"),
    ("size below minimum", "profile.services", 0),
    ("seasonality out of range", "seasonality.daily_amplitude", 1.5),
    ("unknown seasonality key", "seasonality.amplitude", 0.3),
    ("unknown region", "regions.MARS", {}),
    ("share of 0", "regions.EMEA.share", 0),
    ("unknown service key", "services.0.team", "a"),
    ("unknown service kind", "services.1.kind", "databse"),
    ("calls not a list", "services.0.calls", "db"),
    ("missing service name", "services.1.name", None),
    ("unknown distribution", "distributions.0.distribution", "weibull"),
    ("missing distribution parameter", "distributions.0.sigma", None),
    ("parameter of another distribution", "distributions.0.shape", 2),
    ("negative sigma", "distributions.0.sigma", -1),
    ("entity and entity_type", "distributions.1.entity_type", "INFRASTRUCTURE"),
    ("unknown metric", "distributions.0.metric", "latncy"),
    ("bad duration", "incidents.0.duration", "20 minutes"),
    ("bad at", "incidents.0.at", "yesterday"),
    ("date without time", "incidents.0.at", "2025-11-20"),
    ("missing type", "incidents.0.type", None),
    ("unknown anomaly type", "incidents.0.type", "outtage"),
    ("outage magnitude is a share", "incidents.0.magnitude", 2.0),
    ("outage does not act on latency", "incidents.0.metric", "latency"),
    ("allow_overlap not a boolean", "incidents.0.allow_overlap", "yes"),
    ("cascade damping above 1", "cascades.0.damping", 1.5),
    ("cascade depth 0", "cascades.0.max_depth", 0),
    ("cascade duration without at", "cascades.0.duration", "10m"),
    ("regression that is faster", "releases.0.latency_factor", 0.5),
    ("release without an effect size", "releases.0.latency_factor", None),
    ("unknown effect", "releases.0.effect", "neutral"),
    ("trigger without duration", "releases.0.triggers.duration", None),
    ("version as a number", "releases.0.version", 2.4),
    ("traffic for a region and an entity", "traffic.0.entity", "web"),
    ("multiplier of 0", "traffic.0.multiplier", 0),
    ("negative seed", "seed", -1),
    ("end_time not a time", "end_time", "tomorrow"),
]


def test_good_example_passes_both() -> None:
    text = yaml.safe_dump(GOOD, sort_keys=False)
    assert _schema_errors(text) == []
    spec = load_text(text, "good.yaml", end_ms=END_MS)
    assert spec.name == "agree" and len(spec.incidents) == 2


@pytest.mark.parametrize("why, path, value", BAD_FOR_BOTH, ids=[c[0] for c in BAD_FOR_BOTH])
def test_loader_and_schema_both_reject(why: str, path: str, value: Any) -> None:
    text = yaml.safe_dump(_mutated(path, value), sort_keys=False)
    assert _schema_errors(text), f"the schema accepts: {why}"
    with pytest.raises(ScenarioError):
        load_text(text, "bad.yaml", end_ms=END_MS)


# --- errors: file, line, fix ---------------------------------------------------------------------------------------

ERROR_CASES = [
    # (id, text after BASE, line of the offending key, text the problem must contain, text the fix must contain)
    ("unknown top-level key", "incidnets: []\n", 9, "unknown key 'incidnets'", "did you mean 'incidents'"),
    ("unknown nested key", "incidents:\n  - entity: payments\n    type: outage\n    at: -1h\n    duraton: 20m\n",
     13, "incidents[0]: unknown key 'duraton'", "did you mean 'duration'"),
    ("missing key", "incidents:\n  - entity: payments\n    type: outage\n    at: -1h\n",
     10, "missing required key 'duration'", "add `duration:`"),
    ("wrong type", "incidents:\n  - {entity: payments, type: spike, at: -1h, duration: 20m, magnitude: high}\n",
     10, "incidents[0].magnitude: must be a number", "a spike's magnitude is a factor"),
    ("list expected", "incidents:\n  entity: payments\n", 9, "incidents: must be a list", "- ..."),
    ("bad duration", "incidents:\n  - entity: payments\n    type: outage\n    at: -1h\n    duration: 20 minutes\n",
     13, "'20 minutes' is not a duration", "1h30m"),
    ("bad timestamp", "incidents:\n  - entity: payments\n    type: outage\n    at: 2025-13-45T10:00:00Z\n"
     "    duration: 20m\n", 12, "not an ISO 8601 time", "2025-11-20T15:00:00Z"),
    ("bad offset", "incidents:\n  - entity: payments\n    type: outage\n    at: -1 hour\n    duration: 20m\n",
     12, "neither an ISO 8601 time nor an offset", "-3h"),
    ("before the window", "incidents:\n  - entity: payments\n    type: outage\n    at: -3h\n    duration: 20m\n",
     12, "outside the scenario window 2025-11-20T13:00:00Z .. 2025-11-20T15:00:00Z", "-2h"),
    ("past the window end", "incidents:\n  - entity: payments\n    type: outage\n    at: -10m\n    duration: 20m\n",
     13, "runs past the window end", "at most 10m"),
    ("unknown entity", "incidents:\n  - entity: paymnts\n    type: outage\n    at: -1h\n    duration: 20m\n",
     10, "'paymnts' is not a declared service, host or region", "declared: checkout, payments, db-1"),
    ("unknown anomaly type", "incidents:\n  - entity: payments\n    type: outtage\n    at: -1h\n    duration: 20m\n",
     11, "unknown anomaly type 'outtage'", "did you mean 'outage'"),
    ("metric of another kind", "incidents:\n  - entity: db-1\n    type: spike\n    metric: latency\n"
     "    at: -1h\n    duration: 20m\n", 12, "a host has no 'latency' series", "cpu.used, memory.used"),
    ("overlap", "incidents:\n  - {entity: payments, type: outage, at: -1h, duration: 30m}\n"
     "  - {entity: payments, type: spike, at: -40m, duration: 5m}\n",
     11, "overlaps the outage at line 10", "allow_overlap: true"),
    ("release of a host", "releases:\n  - {service: db-1, at: -1h, effect: regression, latency_factor: 2}\n",
     10, "'db-1' is not a declared service", "declared: checkout, payments"),
    ("regression that is faster", "releases:\n  - service: checkout\n    at: -1h\n    effect: regression\n"
     "    latency_factor: 0.8\n", 13, "0.8 contradicts effect: regression", "at least 1"),
    ("trigger past the window end", "releases:\n  - service: checkout\n    at: -10m\n    effect: regression\n"
     "    latency_factor: 2\n    triggers:\n      type: degradation\n      after: 5m\n      duration: 20m\n",
     17, "releases[0].triggers.duration: 20m from 2025-11-20T14:55:00Z runs past the window end", "at most 5m"),
    ("cascade at matching no incident", "incidents:\n  - {entity: payments, type: outage, at: -1h, duration: 5m}\n"
     "cascades:\n  - {root: payments, at: -50m}\n", 12, "no incident on 'payments' starts at 2025-11-20T14:10:00Z",
     "add `duration:`"),
    ("cascade root unknown", "cascades:\n  - {root: postgres}\n", 10, "'postgres' is not a declared", "declared:"),
    ("cascade with nothing to spread", "cascades:\n  - root: payments\n", 10, "no incident on 'payments' to spread",
     "give the cascade `at:` and `duration:`"),
    ("distribution parameter missing", "distributions:\n  - {metric: latency, distribution: gamma, shape: 2}\n",
     10, "missing required key 'scale'", "add `scale:`"),
    ("distribution parameter of another one", "distributions:\n  - metric: latency\n    distribution: lognormal\n"
     "    median: 80\n    sigma: 0.4\n    mu: 4\n", 14, "unknown key 'mu'", "median, sigma"),
    ("empirical CSV missing", "distributions:\n  - {metric: latency, distribution: empirical, csv: lat.csv}\n",
     10, "no such file", "relative to the scenario file"),
    ("undeclared region", "traffic:\n  - {at: -1h, duration: 10m, multiplier: 2, region: APAC}\n",
     10, "'APAC' is not a declared region", "declared: none"),
    ("duplicate key", "seed: 1\nseed: 2\n", 10, "duplicate key 'seed' (first at line 9)", "keep one"),
    ("YAML syntax", "incidents:\n  - entity: payments\n   type: outage\n", 11, "YAML syntax error", "indentation"),
    ("unquoted yes as key", "yes: 1\n", 9, "key 'yes' is not read as a string", "quote it"),
]


@pytest.mark.parametrize("text, line, problem, fix", [c[1:] for c in ERROR_CASES], ids=[c[0] for c in ERROR_CASES])
def test_error_gives_file_line_and_fix(tmp_path: Path, text: str, line: int, problem: str, fix: str) -> None:
    path = _write(tmp_path, BASE + text)
    matching = [i for i in _issues(path) if problem in i.problem]
    assert matching, [str(i) for i in _issues(path)]
    issue = matching[0]
    assert (issue.source, issue.line) == (str(path), line)
    assert fix in issue.fix
    assert str(issue) == f"{path}:{line}: {issue.problem} ({issue.fix})"


@pytest.mark.parametrize("text, line, problem", [
    ("name: t\ndescription: d\nprofile: {name: tiny, minutes: 10, resolution: 3}\n", 3, "not a multiple"),
    ("name: t\ndescription: d\nprofile:\n  name: tiny\n  minutes: 0\n", 5, "profile.minutes: 0 is out of range"),
    ("name: t\ndescription: d\nprofile: tiny\nservices:\n" + "".join(f"  - name: s{i}\n" for i in range(9)),
     4, "9 services declared but the profile has 8"),
    ("name: t\ndescription: d\nend_time: 2025-11-20\n", 3, "end_time: must be an ISO 8601 time"),
    ("name: t\n", 1, "missing required key 'description'"),
    ("", 1, "the scenario file is empty"),
    ("name: t\ndescription: d\n---\nname: u\n", 3, "another document"),
    ("name: t\ndescription: d\nregions:\n  EMEA: {share: 0.5}\n  APAC: {share: 0.2}\n", 3, "add up to 0.7"),
    ("name: t\ndescription: d\nservices:\n  - {name: a, calls: [a]}\n", 4, "'a' calls itself"),
    ("name: t\ndescription: d\nservices:\n  - {name: a}\nhosts:\n  - {name: a}\n", 6, "'a' is declared twice"),
])
def test_whole_file_errors(tmp_path: Path, text: str, line: int, problem: str) -> None:
    path = _write(tmp_path, text)
    issues = _issues(path)
    assert any(i.line == line and problem in i.problem for i in issues), [str(i) for i in issues]


def test_every_problem_is_reported_top_to_bottom(tmp_path: Path) -> None:
    path = _write(tmp_path, BASE + "incidents:\n  - {entity: nope, type: outage, at: -1h, duration: 20m}\n"
                  "  - {entity: payments, type: outtage, at: -1h, duration: 20m}\nsed: 3\n")
    issues = _issues(path)
    assert [i.line for i in issues] == [10, 11, 12]
    with pytest.raises(ScenarioError) as info:
        resolve_scenario(str(path), end_ms=END_MS)
    assert str(info.value).startswith(f"{path}:10: ") and "2 more problem(s)" in str(info.value)


def test_overlap_is_allowed_when_asked(tmp_path: Path) -> None:
    path = _write(tmp_path, BASE + "incidents:\n  - {entity: payments, type: outage, at: -1h, duration: 30m}\n"
                  "  - {entity: payments, type: spike, at: -40m, duration: 5m, allow_overlap: true}\n"
                  "  - {entity: checkout, type: spike, at: -40m, duration: 5m}\n")
    spec = resolve_scenario(str(path), end_ms=END_MS)
    assert [(i.entity, i.type) for i in spec.incidents] == [("payments", "outage"), ("checkout", "spike"),
                                                             ("payments", "spike")]


def test_cascade_picks_the_root_incident(tmp_path: Path) -> None:
    path = _write(tmp_path, BASE + "incidents:\n  - {entity: payments, type: spike, at: -100m, duration: 5m}\n"
                  "  - {entity: payments, type: outage, at: -1h, duration: 10m}\n"
                  "cascades:\n  - {root: payments, at: -1h, delay: 3m}\n")
    spec = resolve_scenario(str(path), end_ms=END_MS)
    (cascade,) = spec.cascades
    assert cascade.incident.type == "outage" and cascade.incident in spec.incidents and len(spec.incidents) == 2
    (hop,) = spec.cascade_hops(cascade)
    assert (hop.entity, hop.start_ms, hop.factor) == ("checkout", END_MS - 57 * MINUTE_MS, 0.5)
    ambiguous = _write(tmp_path, path.read_text().replace("root: payments, at: -1h, ", "root: payments, "), "b.yaml")
    (issue,) = _issues(ambiguous)
    assert (issue.line, issue.problem) == (13, "cascades[0].root: 2 incidents on 'payments' to spread")


def test_unknown_scenario_names() -> None:
    with pytest.raises(ApmseedError, match="did you mean 'steady'"):
        resolve_scenario("steadyy")
    with pytest.raises(ApmseedError, match=r"no scenario file 'missing\.yaml'"):
        resolve_scenario("missing.yaml")


# --- resolved times ------------------------------------------------------------------------------------------------


def test_durations() -> None:
    assert parse_duration("1h30m") == 90 * MINUTE_MS and parse_duration("2d") == 2 * 1440 * MINUTE_MS
    assert parse_duration("20 m") is None and parse_duration("") is None and parse_duration("1m1h") is None
    assert format_duration(90 * MINUTE_MS) == "1h30m" and format_duration(1440 * MINUTE_MS) == "1d"


def test_times_resolve_against_the_window(tmp_path: Path) -> None:
    text = (BASE + "end_time: 2025-11-20T12:00:00Z\nincidents:\n"
            "  - {entity: payments, type: outage, at: -1h, duration: 20m}\n"
            "  - {entity: checkout, type: spike, at: +10m, duration: 1h}\n"
            "  - {entity: db-1, type: saturation, at: '2025-11-20T11:30:00+01:00', duration: 5m}\n")
    path = _write(tmp_path, text)
    spec = resolve_scenario(str(path))  # the file's end_time
    noon = END_MS - 3 * HOUR_MS
    assert spec.end_ms == noon and spec.start_ms == noon - 2 * HOUR_MS
    by_entity = {i.entity: i for i in spec.incidents}
    assert (by_entity["payments"].start_ms, by_entity["payments"].end_ms) == (noon - HOUR_MS, noon - 40 * MINUTE_MS)
    assert by_entity["checkout"].start_ms == spec.start_ms + 10 * MINUTE_MS
    assert by_entity["db-1"].start_ms == noon - 90 * MINUTE_MS  # 11:30 at +01:00 is 10:30 UTC
    assert spec.point_range(by_entity["payments"].start_ms, by_entity["payments"].end_ms) == (60, 80)
    assert spec.point_index(spec.start_ms - HOUR_MS) == 0 and spec.point_index(spec.end_ms + 1) == spec.n_points

    later = resolve_scenario(str(path), end_ms=noon + 30 * MINUTE_MS)  # --end-time wins over the file's
    assert later.end_ms == noon + 30 * MINUTE_MS
    assert {i.entity: i.start_ms for i in later.incidents}["payments"] == noon - 30 * MINUTE_MS
    assert {i.entity: i.start_ms for i in later.incidents}["db-1"] == later.start_ms  # the first point
    with pytest.raises(ScenarioError, match=r"incidents\[2\]\.at: 2025-11-20T10:30:00Z is outside the scenario window"):
        resolve_scenario(str(path), end_ms=END_MS)  # the ISO time no longer fits


def test_profile_overrides_and_resolution(tmp_path: Path) -> None:
    path = _write(tmp_path, "name: t\ndescription: d\nprofile: {name: tiny, minutes: 120, resolution: 5}\n"
                  "services: [{name: a}]\nincidents:\n  - {entity: a, type: spike, at: -12m, duration: 4m}\n")
    spec = resolve_scenario(str(path), end_ms=END_MS)
    assert (spec.profile.minutes, spec.profile.resolution, spec.n_points) == (120, 5, 24)
    (incident,) = spec.incidents
    assert spec.point_range(incident.start_ms, incident.end_ms) == (22, 23)  # points at -10m only
    wider = resolve_scenario(str(path), end_ms=END_MS, profile_overrides={"minutes": 240, "services": None})
    assert wider.profile.minutes == 240 and wider.n_points == 48
    with pytest.raises(ScenarioError, match="outside the scenario window"):
        resolve_scenario(str(path), end_ms=END_MS, profile_overrides={"minutes": 10})


def test_empirical_csv_is_relative_to_the_file(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "lat.csv").write_text("latency\n12\n15\n80\n")
    path = _write(tmp_path, BASE + "distributions:\n"
                  "  - {metric: latency, entity: checkout, distribution: empirical, csv: data/lat.csv}\n")
    (override,) = resolve_scenario(str(path), end_ms=END_MS).distributions
    assert override.params == {"csv": str(tmp_path / "data" / "lat.csv")} and override.entity == "checkout"


# --- cascades and the builder --------------------------------------------------------------------------------------


def _brief_example() -> Any:
    return (Scenario.build("my-test").profile("small", minutes=180)
            .service("checkout", calls=["payments"]).service("payments", kind="database")
            .incident("payments", "outage", at="-1h", duration="20m")
            .cascade(root="payments", delay="2m", damping=0.6)
            .release("checkout", at="-2h", effect="regression", latency_factor=1.5))


def test_builder_returns_the_spec_and_round_trips_through_yaml(tmp_path: Path) -> None:
    builder = _brief_example()
    spec = builder.done(end_ms=END_MS)
    assert isinstance(spec, ScenarioSpec) and spec.profile.minutes == 180
    assert spec.cascades[0].incident == spec.incidents[0] and spec.cascades[0].damping == 0.6
    assert spec.releases[0].latency_factor == 1.5 and spec.releases[0].at_ms == END_MS - 2 * HOUR_MS

    text = builder.to_yaml()
    assert load_text(text, "built.yaml", end_ms=END_MS) == spec
    path = _write(tmp_path, text, "my-test.yaml")
    assert resolve_scenario(str(path), end_ms=END_MS) == spec
    assert _schema_errors(text) == []


def test_builder_covers_every_section() -> None:
    builder = (Scenario.build("full", "everything").profile("tiny", minutes=240, resolution=2).seed(7)
               .end_time(END_TIME).seasonality(daily_amplitude=0.5, peak_hour=15).region("EMEA", share=1.0, noise=0.1)
               .service("web", region="EMEA", calls=["db"], technology="go").service("db", kind="database")
               .host("h1", region="EMEA", runs=["db"])
               .distribution("latency", "gamma", entity_type="SERVICE", shape=2, scale=3)
               .incident("h1", "memory_leak", at="-3h", duration="1h", metric="memory.used", magnitude=0.9)
               .cascade("h1", at="-1h", duration="10m", type="outage", max_depth=2)
               .release("web", at="-2h", effect="improvement", latency_factor=0.8, version="1.2.0",
                        triggers={"type": "spike", "duration": "5m"})
               .traffic(at="-4h", duration="1h", multiplier=1.5, entity="web"))
    spec = builder.done()
    assert spec.end_ms == END_MS and spec.seed == 7 and spec.profile.resolution == 2
    assert spec.regions[0].seasonality.noise == 0.1 and spec.regions[0].seasonality.peak_hour == 15
    assert spec.distributions[0].params == {"shape": 2.0, "scale": 3.0}
    assert [i.source for i in spec.incidents] == ["incident", "release", "cascade"]
    assert load_text(builder.to_yaml(), "full.yaml") == spec
    hops = spec.cascade_hops(spec.cascades[0])
    assert [(h.entity, h.depth, h.type) for h in hops] == [("db", 0, "outage"), ("web", 1, "degradation")]


def test_builder_errors_name_the_key_path() -> None:
    with pytest.raises(ScenarioError) as info:
        Scenario.build("x").service("a").incident("b", "outage", at="-1h", duration="20m").done()
    assert str(info.value).startswith("scenario 'x' (builder): incidents[0].entity: 'b' is not a declared")


def test_cascade_hops_follow_the_topology() -> None:
    spec = (Scenario.build("chain").profile("tiny", minutes=120)
            .service("edge", calls=["api"]).service("api", calls=["orders"]).service("orders", calls=["db"])
            .service("db", kind="database").service("batch", calls=["db"]).host("db-host", runs=["db"])
            .cascade("db-host", at="-1h", duration="20m", delay="5m", damping=0.5, max_depth=2)
            .done(end_ms=END_MS))
    root = spec.cascades[0].incident
    hops = spec.cascade_hops(spec.cascades[0])
    assert [(h.entity, h.depth, h.via) for h in hops] == [
        ("db", 0, "db-host"), ("batch", 1, "db"), ("orders", 1, "db"), ("api", 2, "orders")]  # edge is 3 away
    api = hops[-1]
    assert api.start_ms == root.start_ms + 10 * MINUTE_MS and api.end_ms == root.end_ms + 10 * MINUTE_MS
    assert api.factor == 0.25 and api.type == "degradation"
    late = (Scenario.build("late").profile("tiny", minutes=120).service("a", calls=["b"]).service("b")
            .cascade("b", at="-3m", duration="2m", delay="5m").done(end_ms=END_MS))
    assert late.cascade_hops(late.cascades[0]) == ()  # the caller would degrade after the window


# --- CLI -----------------------------------------------------------------------------------------------------------


def test_cli_list(runner: CliRunner) -> None:
    result = run_cli(runner, "scenarios", "list")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert [line.split()[0] for line in lines] == sorted(BUILTINS)
    assert "surge" in next(line for line in lines if line.startswith("black-friday"))
    as_json = json.loads(run_cli(runner, "scenarios", "list", "--json").output)
    assert [s["name"] for s in as_json] == sorted(BUILTINS) and all(s["description"] for s in as_json)


def test_cli_show(runner: CliRunner) -> None:
    result = run_cli(runner, "scenarios", "show", "bad-deploy")
    assert result.exit_code == 0 and result.output == (builtin_dir() / "bad-deploy.yaml").read_text()
    result = run_cli(runner, "scenarios", "show", "db-outage-cascade", "--json", "--end-time", END_TIME)
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["window"]["end"] == END_TIME and data["window"]["points"] == 180
    assert data["incidents"][0]["start_ms"] == END_MS - 75 * MINUTE_MS
    assert {h["entity"] for h in data["cascades"][0]["hops"]} == {"checkout", "payments", "inventory", "frontend"}


def test_cli_validate(runner: CliRunner, tmp_path: Path) -> None:
    good = run_cli(runner, "scenarios", "validate", *BUILTINS)
    assert good.exit_code == 0, good.output
    assert [line.split(":")[0] for line in good.output.splitlines()] == list(BUILTINS)

    bad = _write(tmp_path, BASE + "incidents:\n  - {entity: paymnts, type: outage, at: -1h, duration: 20m}\n")
    result = run_cli(runner, "scenarios", "validate", "steady", str(bad), "nosuch", "--end-time", END_TIME)
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    assert "steady: ok" in result.output
    assert f"{bad}:10: incidents[0].entity: 'paymnts' is not a declared service, host or region (did you mean " \
           "'payments'?" in result.output
    assert "nosuch: unknown scenario 'nosuch'" in result.output
    assert "Error: 2 of 3 scenario(s) have problems" in result.output


def test_cli_errors_are_one_line(runner: CliRunner, tmp_path: Path) -> None:
    bad = _write(tmp_path, BASE + "traffic:\n  - {at: -1h, duration: 10m, multiplier: -2}\n")
    for args in (["show", str(bad)], ["show", "nosuch"], ["show", "steady", "--end-time", "noon"]):
        result = run_cli(runner, "scenarios", *args)
        assert result.exit_code == 1 and "Traceback" not in result.output
        assert result.output.startswith("Error: ") and result.output.count("\n") == 1, result.output
    result = run_cli(runner, "scenarios", "show", str(bad))
    assert result.output.startswith(f"Error: {bad}:10: traffic[0].multiplier: -2 is out of range (use a number above")


def test_cli_schema(runner: CliRunner) -> None:
    assert run_cli(runner, "scenarios", "--help").exit_code == 0
    result = run_cli(runner, "scenarios", "schema")
    assert result.exit_code == 0
    assert json.loads(result.output) == SCHEMA
    assert SCHEMA["$schema"] == "https://json-schema.org/draft/2020-12/schema"
