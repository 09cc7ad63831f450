"""Dataset 1.3.0: releases, traces and calls, incidents and changes, issue <-> metric correlation.

One tiny dataset (seed 7) is seeded and exported once for the module; tests that damage data do it inside a
rolled-back transaction or on a copy of the export."""

from __future__ import annotations

import hashlib
import json
import re
import shutil
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import instana_client.models as models
import orjson
import pytest
import sqlalchemy as sa
from click.testing import CliRunner
from jsonschema import Draft7Validator, Draft202012Validator

from apmseed import profiles, seeding
from apmseed.exporters import cloudevents as ce
from apmseed.progress import Reporter
from apmseed.validation import validate_export
from tests.conftest import END_MS, run_cli, seed_db, seeded_database
from tests.conftest import jsonl_records as records
from tests.conftest import url_of as _url

START_MS = END_MS - 60 * 60_000  # the tiny profile: 60 minutes
MINUTE = 60_000
Record = dict[str, Any]
FILE_MODELS = {"releases.jsonl": models.ReleaseWithMetadata, "application_traces.jsonl": models.Trace,
               "calls.jsonl": models.GetTraceDownloadResultItem, "events.jsonl": models.EventResult}
EVENT_SUBTYPES = {"APPLICATION": "ApplicationEventResult", "SERVICE": "ServiceEventResult",
                  "ENDPOINT": "EndpointEventResult", "INFRASTRUCTURE": "InfraEventResult"}
MY_TYPES = ("com.apmseed.incident.opened", "com.apmseed.incident.closed", "com.apmseed.change.recorded",
            "com.apmseed.release.created")
MY_TABLES = ("release", "release_application", "release_service", "release_issue", "change_event", "incident",
             "incident_event", "event_metric", "trace", "call")


# -- fixtures -------------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def db13(server_url: str) -> Iterator[sa.Engine]:
    """The tiny profile at the latest dataset version, seeded once for this module."""
    with seeded_database(server_url, "t13") as engine:
        yield engine


@pytest.fixture(scope="module")
def out13(db13: sa.Engine, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("v13") / "export"
    result = run_cli(CliRunner(), "export", "jsonl", out, "--database-url", _url(db13), "-q")
    assert result.exit_code == 0, result.output
    return out


def rows(engine: sa.Engine, sql: str, **params: Any) -> list[sa.Row]:
    with engine.connect() as conn:
        return list(conn.execute(sa.text(sql), params))


def damaged_copy(src: Path, dst: Path, name: str, edit: Any) -> Path:
    """A copy of the export with `edit(records)` applied to one file, the manifest updated to match (so the edit
    is the only damage)."""
    shutil.copytree(src, dst)
    lines = records(dst, name)
    edit(lines)
    data = b"".join(orjson.dumps(r, option=orjson.OPT_SORT_KEYS) + b"\n" for r in lines)
    (dst / name).write_bytes(data)
    manifest = json.loads((dst / "manifest.json").read_text())
    manifest["files"][name].update(records=len(lines), bytes=len(data), sha256=hashlib.sha256(data).hexdigest())
    (dst / "manifest.json").write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    return dst


# -- exports: Instana models, validation ----------------------------------------------------------------------
def _known_part(record: Record, model: Any) -> Record:
    aliases = {f.alias or name for name, f in model.model_fields.items()}
    return {k: v for k, v in record.items() if k in aliases}


@pytest.mark.parametrize("file_name", FILE_MODELS)
def test_every_record_is_accepted_by_the_official_model(out13: Path, file_name: str) -> None:
    lines = records(out13, file_name)
    assert lines, f"{file_name} is empty"
    for number, record in enumerate(lines, 1):
        parsed = FILE_MODELS[file_name].from_dict(record)
        assert parsed is not None, f"{file_name}:{number}"
        expected = _known_part(record, type(parsed))
        round_trip = parsed.to_dict()
        assert {k: round_trip.get(k) for k in expected} == expected, f"{file_name}:{number}"
        if file_name == "events.jsonl":
            assert type(parsed).__name__ == EVENT_SUBTYPES[record["entityType"]]
        if file_name == "application_traces.jsonl":  # the embedded service and endpoint are full objects
            assert models.Service.from_dict(record["service"]).to_dict() == record["service"]
            assert models.Endpoint.from_dict(record["endpoint"]).to_dict() == record["endpoint"]


def test_export_validates_cleanly(runner: CliRunner, out13: Path) -> None:
    result = run_cli(runner, "validate", out13)
    assert result.exit_code == 0, result.output


def test_windowed_export_validates_cleanly(runner: CliRunner, db13: sa.Engine, tmp_path: Path) -> None:
    out = tmp_path / "window"
    result = run_cli(runner, "export", "jsonl", out, "--from", "2025-11-20T14:20:00Z", "--to", "2025-11-20T14:50Z",
                     "--database-url", _url(db13), "-q")
    assert result.exit_code == 0, result.output
    assert all(START_MS + 20 * MINUTE <= c["timestamp"] < START_MS + 50 * MINUTE for c in records(out, "calls.jsonl"))
    assert run_cli(runner, "validate", out).exit_code == 0, validate_export(out)


def test_events_file_holds_every_kind(db13: sa.Engine, out13: Path) -> None:
    events = records(out13, "events.jsonl")
    kinds = Counter(e["type"] for e in events)
    count = {t: rows(db13, f"SELECT count(*) FROM {t}")[0][0] for t in ("event", "incident", "change_event")}
    assert kinds == {"issue": count["event"], "incident": count["incident"], "change": count["change_event"]}
    assert count["incident"] >= 1 and count["change_event"] >= 2
    order = {"issue": 0, "incident": 1, "change": 2}
    assert [e["eventId"] for e in events] == [e["eventId"] for e in sorted(
        events, key=lambda e: (e["start"], order[e["type"]], e["eventId"]))]
    issues = {i["eventId"]: i for i in records(out13, "issues.jsonl")}
    for e in events:
        if e["type"] == "issue":  # the issues.jsonl record, plus correlation keys (and, from 1.4.0, its spec)
            extra = ("metrics", "metadata", "eventSpecificationId")
            assert {k: v for k, v in e.items() if k not in extra} == issues[e["eventId"]]
        for entry in e.get("metrics", []):  # Instana's List[Dict[str, Dict]]: every value an object
            assert len(entry) == 1 and all(isinstance(v, dict) for v in entry.values())
        for name in ("metadata", "probableCause"):
            assert all(isinstance(v, dict) for v in e.get(name, {}).values())
        assert all(isinstance(v, dict) for item in e.get("recentEvents", []) for v in item.values())


# -- damage that `apmseed validate` reports ---------------------------------------------------------------------
def _first(lines: list[Record], pred: Any) -> Record:
    return next(r for r in lines if pred(r))


def _shift_window(lines: list[Record]) -> None:
    event = _first(lines, lambda r: r["type"] == "issue" and r.get("metrics"))
    (window,) = event["metrics"][0].values()
    window["from"] += MINUTE


def _unknown_series(lines: list[Record]) -> None:
    event = _first(lines, lambda r: r["type"] == "issue" and r.get("metrics"))
    (window,) = event["metrics"][0].values()
    window["seriesId"] = 99_999


def _wrong_key(lines: list[Record]) -> None:
    event = _first(lines, lambda r: r["type"] == "issue" and r.get("metrics"))
    ((key, window),) = event["metrics"][0].items()
    event["metrics"][0] = {key + "0": window}


def _early_release(lines: list[Record]) -> None:
    event = _first(lines, lambda r: "metadata" in r)
    event["metadata"]["precedingRelease"]["releaseId"] = _first(
        lines, lambda r: r["type"] == "change" and r["start"] < event["start"] - 5 * MINUTE)["releaseId"]


def _foreign_parent(lines: list[Record]) -> None:
    child = _first(lines, lambda r: "parentId" in r)
    child["parentId"] = _first(lines, lambda r: r["traceId"] != child["traceId"])["id"]


def _unconnected_call(lines: list[Record]) -> None:
    child = _first(lines, lambda r: "parentId" in r)
    parent = _first(lines, lambda r: r["id"] == child["parentId"])
    child["destination"]["service"] = dict(parent["destination"]["service"])  # a service calling itself


def _late_child(lines: list[Record]) -> None:
    child = _first(lines, lambda r: "parentId" in r)
    parent = _first(lines, lambda r: r["id"] == child["parentId"])
    child["duration"] = parent["duration"] + 1


def _foreign_scope(lines: list[Record]) -> None:
    release = _first(lines, lambda r: len(r["services"]) == 1)
    release["services"][0]["scopedTo"]["applications"].append({"id": "A" * 22, "name": "Nowhere"})


@pytest.mark.parametrize(("file_name", "edit", "needle"), [
    ("events.jsonl", _shift_window, "is not the issue's"),
    ("events.jsonl", _unknown_series, "does not exist in metrics_timeseries"),
    ("events.jsonl", _wrong_key, "should be keyed"),
    ("events.jsonl", _early_release, "not one to two minutes"),
    ("calls.jsonl", _foreign_parent, "is not an earlier call of trace"),
    ("calls.jsonl", _unconnected_call, "which the service map does not connect"),
    ("calls.jsonl", _late_child, "leaves its parent"),
    ("releases.jsonl", _foreign_scope, "which the release does not list"),
])
def test_damage_is_reported(out13: Path, tmp_path: Path, file_name: str, edit: Any, needle: str) -> None:
    copy = damaged_copy(out13, tmp_path / "copy", file_name, edit)
    problems = [str(v) for v in validate_export(copy)]
    assert problems and all(p.startswith(file_name) for p in problems), problems
    assert any(needle in p for p in problems), problems


def test_excursion_is_measured_on_the_points(out13: Path, tmp_path: Path) -> None:
    """A correlated window on a series that does not stand out there is reported: flatten its points."""
    events = records(out13, "events.jsonl")
    event = _first(events, lambda r: r["type"] == "issue" and r.get("metrics"))
    (window,) = event["metrics"][0].values()

    def flatten(lines: list[Record]) -> None:
        series = _first(lines, lambda r: r["seriesId"] == window["seriesId"])
        (points,) = series["metrics"].values()
        for point in points:
            point[1] = 1
    copy = damaged_copy(out13, tmp_path / "copy", "metrics_timeseries.jsonl", flatten)
    problems = [str(v) for v in validate_export(copy)]
    assert any("shows no excursion" in p for p in problems), problems


# -- releases ---------------------------------------------------------------------------------------------------
def test_bad_deploys_precede_their_issues(db13: sa.Engine) -> None:
    bad = rows(db13, """
        SELECT e.event_id, e.start_ms - r.start_ms AS lead, e.problem, e.entity_type,
               EXISTS (SELECT 1 FROM release_service rs WHERE rs.release_id = r.id
                       AND rs.service_id = e.service_id AND rs.application_id = e.application_id) AS deployed
        FROM release_issue ri JOIN release r ON r.id = ri.release_id JOIN event e ON e.event_id = ri.event_id""")
    assert bad, "the tiny profile should have a bad deploy"
    for r in bad:
        assert MINUTE <= r.lead <= 2 * MINUTE, r
        assert r.deployed and r.entity_type in ("SERVICE", "ENDPOINT"), r
        assert "latency" in r.problem or "erroneous" in r.problem


def test_quiet_releases_have_no_effect(db13: sa.Engine) -> None:
    """A release that explains nothing lands where none of its services has an issue from 5 minutes before to 20
    minutes after (a rollback lands inside the issue it ends)."""
    noisy = rows(db13, """
        SELECT r.id, e.event_id FROM release r JOIN release_service rs ON rs.release_id = r.id
        JOIN event e ON e.service_id = rs.service_id
        WHERE r.rollback_of_release_id IS NULL
          AND NOT EXISTS (SELECT 1 FROM release_issue ri WHERE ri.release_id = r.id)
          AND e.start_ms < r.start_ms + 20 * 60000 AND coalesce(e.end_ms, :end) > r.start_ms - 5 * 60000""",
                 end=END_MS)
    assert noisy == []
    quiet = rows(db13, "SELECT count(*) FROM release r WHERE NOT EXISTS (SELECT 1 FROM release_issue ri"
                       " WHERE ri.release_id = r.id) AND r.rollback_of_release_id IS NULL")[0][0]
    assert quiet >= 2


def test_rollbacks_end_their_bad_deploys(engine: sa.Engine) -> None:
    seed_db(engine, "small", seed=3)
    rollbacks = rows(engine, """
        SELECT r.id, r.start_ms, r.version, b.version AS bad_version, max(e.end_ms) AS issue_end,
               bool_and(rs.service_id = e.service_id) AS same_service
        FROM release r JOIN release b ON b.id = r.rollback_of_release_id
        JOIN release_issue ri ON ri.release_id = b.id JOIN event e ON e.event_id = ri.event_id
        JOIN release_service rs ON rs.release_id = r.id GROUP BY r.id, b.id""")
    assert rollbacks, "the small profile with seed 3 should roll a bad deploy back"
    for r in rollbacks:
        assert r.same_service and r.version != r.bad_version
        assert r.issue_end - 2 * MINUTE <= r.start_ms < r.issue_end, r


def test_release_rows(db13: sa.Engine) -> None:
    for r in rows(db13, "SELECT * FROM release"):
        assert START_MS <= r.start_ms <= r.last_updated_ms < END_MS
        assert re.fullmatch(r"[a-z0-9-]+/(v\d+\.\d+\.\d+|release-\d+)", r.name), r.name
    changes = rows(db13, "SELECT r.id FROM release r LEFT JOIN change_event c ON c.release_id = r.id"
                         " WHERE c.start_ms IS DISTINCT FROM r.start_ms OR c.end_ms IS DISTINCT FROM r.last_updated_ms")
    assert changes == []  # one deploy event per release, from its start to its last update


# -- incidents ----------------------------------------------------------------------------------------------
def test_incidents_group_issues_of_their_application(db13: sa.Engine) -> None:
    for inc in rows(db13, "SELECT * FROM incident"):
        issues = rows(db13, "SELECT e.* FROM incident_event ie JOIN event e USING (event_id)"
                            " WHERE ie.incident_id = :i ORDER BY e.start_ms, e.event_id", i=inc.event_id)
        assert issues[0].event_id == inc.triggering_event_id and issues[0].start_ms == inc.start_ms
        assert {i.application_id for i in issues} == {inc.application_id}
        assert inc.severity == max(i.severity for i in issues)
        closed = all(i.end_ms is not None for i in issues)
        assert (inc.state == "closed") == closed
        assert inc.end_ms == (max(i.end_ms for i in issues) if closed else None)
        assert len(issues) >= 2 or inc.severity == 10


# -- issue <-> metric correlation ---------------------------------------------------------------------------
def test_correlated_windows_show_the_excursion(db13: sa.Engine) -> None:
    measured = rows(db13, """
        SELECT m.*, e.start_ms, coalesce(e.end_ms, s.to_ms) AS issue_to,
               coalesce(s.application_id, s.service_id, s.endpoint_id, s.snapshot_id) AS series_entity,
               CASE e.entity_type WHEN 'APPLICATION' THEN e.application_id WHEN 'SERVICE' THEN e.service_id
                    WHEN 'ENDPOINT' THEN e.endpoint_id ELSE e.snapshot_id END AS issue_entity,
               avg(p.value) FILTER (WHERE p.ts_ms >= m.window_from_ms AND p.ts_ms < m.window_to_ms) AS inside,
               avg(p.value) FILTER (WHERE p.ts_ms < m.window_from_ms OR p.ts_ms >= m.window_to_ms) AS outside
        FROM event_metric m JOIN event e USING (event_id) JOIN metric_series s USING (series_id)
        JOIN metric_point p USING (series_id) GROUP BY m.event_id, m.series_id, e.event_id, s.series_id""")
    assert measured
    for r in measured:
        assert (r.window_from_ms, r.window_to_ms) == (r.start_ms, r.issue_to)
        assert r.series_entity == r.issue_entity
        assert r.window_mean == pytest.approx(r.inside) and r.baseline_mean == pytest.approx(r.outside)
        assert r.inside > r.outside
    with_windows = {r.event_id for r in measured}
    issues = rows(db13, "SELECT event_id FROM event")
    assert len(with_windows) >= 0.8 * len(issues)


# -- traces and calls -------------------------------------------------------------------------------------------
NO_ROWS = {
    "a trace's root call is not the trace": """
        SELECT t.id FROM trace t LEFT JOIN call c ON c.trace_id = t.id AND c.parent_id IS NULL
        WHERE c.id IS DISTINCT FROM t.id OR c.start_ms <> t.start_ms OR c.duration_ms <> t.duration_ms
           OR c.dst_service_id <> t.service_id OR c.dst_endpoint_id IS DISTINCT FROM t.endpoint_id
           OR c.name <> t.label""",
    "a child outside its parent": """
        SELECT c.id FROM call c JOIN call p ON p.id = c.parent_id
        WHERE c.start_ms <= p.start_ms OR c.start_ms + c.duration_ms > p.start_ms + p.duration_ms""",
    "children that do not fit in their parent": """
        SELECT p.id FROM call p JOIN call c ON c.parent_id = p.id
        GROUP BY p.id HAVING sum(c.duration_ms) + coalesce(p.network_time_ms, 0) > p.duration_ms""",
    "overlapping siblings": """
        SELECT a.id FROM call a JOIN call b ON a.parent_id = b.parent_id AND a.id < b.id
        WHERE a.start_ms < b.start_ms + b.duration_ms AND b.start_ms < a.start_ms + a.duration_ms""",
    "a call outside the data window": "SELECT id FROM call WHERE start_ms < :start OR start_ms + duration_ms >= :end",
    "a trace flagged wrongly": """
        SELECT t.id FROM trace t JOIN call c ON c.trace_id = t.id
        GROUP BY t.id HAVING t.erroneous <> bool_or(c.error_count = 1)""",
    "an erroneous call where the metrics count no error": """
        SELECT c.id FROM call c JOIN metric_series s ON s.metric_id = 'erroneousCalls'
          AND (s.service_id = c.dst_service_id OR s.endpoint_id = c.dst_endpoint_id)
        JOIN metric_point p ON p.series_id = s.series_id
          AND p.ts_ms = s.from_ms + (c.start_ms - s.from_ms) / (s.granularity_s * 1000) * s.granularity_s * 1000
        WHERE c.error_count = 1 AND p.value <= 0""",
    "more sampled calls in a minute than the calls series counts": """
        SELECT s.series_id, p.ts_ms FROM call c JOIN metric_series s ON s.metric_id = 'calls'
          AND (s.service_id = c.dst_service_id OR s.endpoint_id = c.dst_endpoint_id)
        JOIN metric_point p ON p.series_id = s.series_id
          AND p.ts_ms = s.from_ms + (c.start_ms - s.from_ms) / (s.granularity_s * 1000) * s.granularity_s * 1000
        GROUP BY s.series_id, p.ts_ms, p.value HAVING count(*) > p.value""",
}


@pytest.mark.parametrize("claim", NO_ROWS)
def test_trace_claims(db13: sa.Engine, claim: str) -> None:
    assert rows(db13, NO_ROWS[claim], start=START_MS, end=END_MS) == [], claim


def test_sampling_stops_at_the_profiles_call_target(db13: sa.Engine) -> None:
    """Traces are sampled until the profile's `calls` target is reached: the last trace may overshoot it by
    at most one trace's calls."""
    from apmseed.factories.traces import MAX_CALLS

    target = profiles.resolve("tiny", {}).calls
    calls = rows(db13, "SELECT count(*) FROM call")[0][0]
    assert target <= calls < target + MAX_CALLS
    assert rows(db13, "SELECT count(*) FROM trace")[0][0] <= 150


def test_traces_show_the_problems(engine: sa.Engine) -> None:
    """With more issues: traces through a failing service fail, and traces through a slow one are slower
    inside its issue than well before it."""
    seed_db(engine, issues=30)
    assert rows(engine, "SELECT count(*) FROM call WHERE error_count = 1")[0][0] > 0
    slower = rows(engine, """
        SELECT avg(c.duration_ms) FILTER (WHERE c.start_ms >= e.start_ms AND c.start_ms < coalesce(e.end_ms, :end))
                 > avg(c.duration_ms) FILTER (WHERE c.start_ms < e.start_ms - 300000) AS slower
        FROM event e JOIN call c ON c.dst_service_id = e.service_id
        WHERE e.entity_type = 'SERVICE' AND e.problem LIKE '%latency%' GROUP BY e.event_id""", end=END_MS)
    judged = [r.slower for r in slower if r.slower is not None]
    assert judged and sum(judged) >= 0.75 * len(judged)


def test_every_logged_trace_exists(db13: sa.Engine) -> None:
    """The 1.2.0 log lines' trace ids are traces that reach the logging service; the FK this revision adds to
    log_entry (NOT VALID when added, as the lines are older than the traces) holds for every line."""
    logged = rows(db13, "SELECT count(DISTINCT trace_id) FROM log_entry WHERE trace_id IS NOT NULL")[0][0]
    assert logged > 0
    assert rows(db13, "SELECT l.log_id FROM log_entry l WHERE l.trace_id IS NOT NULL AND NOT EXISTS"
                      " (SELECT 1 FROM call c WHERE c.trace_id = l.trace_id AND c.dst_service_id = l.service_id)") == []
    with db13.connect() as conn, conn.begin() as tx:
        conn.execute(sa.text("ALTER TABLE log_entry VALIDATE CONSTRAINT fk_log_entry_trace_id_trace"))
        tx.rollback()


# -- the database rejects broken relationships ----------------------------------------------------------------
def _one(engine: sa.Engine, sql: str) -> sa.Row:
    return rows(engine, sql)[0]


def _violations(engine: sa.Engine) -> dict[str, tuple[str, dict[str, Any]]]:
    svc = _one(engine, "SELECT service_id, application_id FROM application_service ORDER BY 1, 2 LIMIT 1")
    foreign_app = _one(engine, "SELECT id FROM application WHERE id NOT IN (SELECT application_id FROM"
                               " application_service WHERE service_id = :s) ORDER BY id LIMIT 1".replace(
                                   ":s", f"'{svc.service_id}'"))
    release = _one(engine, "SELECT release_id, application_id FROM release_application ORDER BY 1, 2 LIMIT 1")
    unlisted = _one(engine, """
        SELECT r.id AS release_id, x.service_id, x.application_id FROM release r, application_service x
        WHERE NOT EXISTS (SELECT 1 FROM release_application ra WHERE ra.release_id = r.id
                          AND ra.application_id = x.application_id) ORDER BY 1, 2, 3 LIMIT 1""")
    child = _one(engine, "SELECT * FROM call WHERE parent_id IS NOT NULL ORDER BY id LIMIT 1")
    unconnected = _one(engine, """
        SELECT a.id AS src, b.id AS dst, e.id AS endpoint
        FROM service a, service b JOIN endpoint e ON e.service_id = b.id
        WHERE a.id <> b.id AND NOT EXISTS (SELECT 1 FROM service_connection c WHERE c.from_service_id = a.id
                                           AND c.to_service_id = b.id) ORDER BY 1, 2, 3 LIMIT 1""")
    change = _one(engine, "SELECT * FROM change_event WHERE entity_type = 'SERVICE' ORDER BY event_id LIMIT 1")
    other = _one(engine, "SELECT id FROM service WHERE id <> :s ORDER BY id LIMIT 1".replace(
        ":s", f"'{change.service_id}'"))
    metric = _one(engine, "SELECT * FROM event_metric ORDER BY 1, 2 LIMIT 1")
    return {
        "release scoped to an application without the service": (
            "INSERT INTO release_service VALUES (:r, :s, :a)",
            {"r": release.release_id, "s": svc.service_id, "a": foreign_app.id}),
        "release scope on an application the release does not list": (
            "INSERT INTO release_service VALUES (:r, :s, :a)",
            {"r": unlisted.release_id, "s": unlisted.service_id, "a": unlisted.application_id}),
        "call along no service-map connection": (
            "INSERT INTO call (id, trace_id, parent_id, name, start_ms, duration_ms, network_time_ms, error_count,"
            " src_service_id, dst_service_id, dst_endpoint_id) SELECT 'ffffffffffffff01', trace_id, id, 'x',"
            " start_ms + 1, 1, 0, 0, :src, :dst, :ep FROM call WHERE id = :p",
            {"src": unconnected.src, "dst": unconnected.dst, "ep": unconnected.endpoint, "p": child.parent_id}),
        "call whose caller is not its parent's service": (
            "UPDATE call SET src_service_id = dst_service_id WHERE id = :c", {"c": child.id}),
        "a second root in a trace": (
            "UPDATE call SET parent_id = NULL, src_service_id = NULL WHERE id = :c", {"c": child.id}),
        "change on a service its release did not deploy": (
            "UPDATE change_event SET service_id = :o WHERE event_id = :e", {"o": other.id, "e": change.event_id}),
        "a correlated window without an excursion": (
            "UPDATE event_metric SET window_mean = baseline_mean WHERE event_id = :e AND series_id = :s",
            {"e": metric.event_id, "s": metric.series_id}),
        "incident with a triggering event that is no issue": (
            "UPDATE incident SET triggering_event_id = 'no-such-event' WHERE TRUE", {}),
        "the 1.0 event table still holds only issues": (
            "INSERT INTO event (event_id, type, entity_type, state, severity, start_ms, problem, detail,"
            " fix_suggestion, entity_name, entity_label, application_id) SELECT 'x-incident', 'incident',"
            " 'APPLICATION', 'open', 10, start_ms, problem, detail, fix_suggestion, 'Application', 'x',"
            " application_id FROM incident LIMIT 1", {}),
        "log line naming a trace that does not exist": (
            "UPDATE log_entry SET trace_id = 'ffffffffffffffff' WHERE log_id = (SELECT min(log_id) FROM log_entry"
            " WHERE trace_id IS NOT NULL)", {}),
        "release issue naming no issue": (
            "INSERT INTO release_issue VALUES ('no-such-event', :r)", {"r": release.release_id}),
        "issue explained by two releases": (
            "INSERT INTO release_issue SELECT event_id, :r FROM release_issue LIMIT 1", {"r": release.release_id}),
        "trace in an application without its service": (
            "UPDATE trace SET application_id = :a WHERE service_id = :s",
            {"a": foreign_app.id, "s": svc.service_id}),
        "call reaching an endpoint of another service": (
            "UPDATE call SET dst_endpoint_id = (SELECT min(id) FROM endpoint WHERE service_id <> call.dst_service_id)"
            " WHERE id = :c", {"c": child.id}),
        "call in a trace that does not exist": (
            "UPDATE call SET trace_id = 'ffffffffffffffff' WHERE id = :c", {"c": child.id}),
        "incident grouping no issue": (
            "INSERT INTO incident_event SELECT event_id, 'no-such-event' FROM incident LIMIT 1", {}),
        "rollback of a release that does not exist": (
            "UPDATE release SET rollback_of_release_id = 'no-such-release' WHERE id = :r", {"r": release.release_id}),
        "event metric on a missing series": (
            "UPDATE event_metric SET series_id = 99999 WHERE event_id = :e AND series_id = :s",
            {"e": metric.event_id, "s": metric.series_id}),
        "event metric on a missing issue": (
            "INSERT INTO event_metric SELECT 'no-such-event', series_id, window_from_ms, window_to_ms, window_mean,"
            " baseline_mean, peak FROM event_metric LIMIT 1", {}),
    }


def test_database_rejects_broken_relationships(db13: sa.Engine) -> None:
    cases = _violations(db13)
    for name, (sql, params) in cases.items():
        with db13.connect() as conn:
            tx = conn.begin()
            try:
                with pytest.raises(sa.exc.IntegrityError):
                    conn.execute(sa.text(sql), params)
            except BaseException as exc:
                raise AssertionError(f"not rejected: {name}") from exc
            finally:
                tx.rollback()


# -- versions: 1.0 files unchanged, upgrade in place, downgrade -------------------------------------------------
def _constraints(engine: sa.Engine, table: str) -> dict[str, str]:
    return {r.conname: r.def_ for r in rows(engine, "SELECT conname, pg_get_constraintdef(oid) AS def_ FROM"
                                                    " pg_constraint WHERE conrelid = CAST(:t AS regclass)", t=table)}


def test_upgrade_keeps_older_files_and_downgrade_restores(runner: CliRunner, engine: sa.Engine,
                                                          tmp_path: Path) -> None:
    with engine.begin() as conn:
        seeding.seed(conn, profiles.resolve("tiny", {}), 7, END_MS, Reporter(False), dataset_version="1.2.0")
    url = _url(engine)
    before = {t: _constraints(engine, t) for t in ("event", "log_entry")}
    assert run_cli(runner, "export", "jsonl", tmp_path / "a", "--database-url", url, "-q").exit_code == 0
    assert run_cli(runner, "db", "upgrade", "1.3.0", "--database-url", url).exit_code == 0
    assert _constraints(engine, "event") == before["event"]
    assert _constraints(engine, "log_entry") == {**before["log_entry"], "fk_log_entry_trace_id_trace":
                                                 "FOREIGN KEY (trace_id) REFERENCES trace(id)"}  # validated by the seed
    assert run_cli(runner, "export", "jsonl", tmp_path / "b", "--database-url", url, "-q").exit_code == 0
    for old in (tmp_path / "a").glob("*.jsonl"):  # every 1.2 file is byte-identical in the 1.3 export
        assert (tmp_path / "b" / old.name).read_bytes() == old.read_bytes(), old.name
    assert run_cli(runner, "validate", tmp_path / "b").exit_code == 0

    assert run_cli(runner, "db", "downgrade", "1.2.0", "--database-url", url).exit_code == 0
    assert not set(MY_TABLES) & set(sa.inspect(engine).get_table_names())
    assert {t: _constraints(engine, t) for t in ("event", "log_entry")} == before


# -- CloudEvents ---------------------------------------------------------------------------------------------
def test_cloudevents_for_incidents_changes_and_releases(runner: CliRunner, db13: sa.Engine, tmp_path: Path) -> None:
    path = tmp_path / "ce.jsonl"
    result = run_cli(runner, "export", "cloudevents", "--out", path, "--database-url", _url(db13), "-q")
    assert result.exit_code == 0, result.output
    spec = Draft7Validator(json.loads((Path(__file__).parent / "data" / "cloudevents-1.0.schema.json").read_text()))
    events = [json.loads(line) for line in path.read_text().splitlines()]
    mine = [e for e in events if e["type"] in MY_TYPES]
    for event in mine:
        spec.validate(event)
        assert event["type"] in ce.EVENT_TYPES and event["dataschema"] == ce.dataschema(event["type"])
        Draft202012Validator(json.loads(ce.schema_resource(event["type"]).read_text())).validate(event["data"])
    kinds = Counter(e["type"] for e in mine)
    count = {t: rows(db13, f"SELECT count(*) FROM {t}")[0][0] for t in ("incident", "change_event", "release")}
    closed = rows(db13, "SELECT count(*) FROM incident WHERE state = 'closed'")[0][0]
    assert kinds == Counter({"com.apmseed.incident.opened": count["incident"], "com.apmseed.incident.closed": closed,
                             "com.apmseed.change.recorded": count["change_event"],
                             "com.apmseed.release.created": count["release"]})
    assert len({e["id"] for e in events}) == len(events)
    assert not any(e["type"].startswith("com.apmseed.issue.") and e["data"]["type"] != "issue" for e in events)
    for e in mine:
        if e["type"] == "com.apmseed.incident.opened":  # as it was then: open, only its started issues
            assert e["data"]["state"] == "open" and "end" not in e["data"] and "metrics" not in e["data"]
            assert all(r["event"]["start"] <= e["data"]["start"] for r in e["data"]["recentEvents"])
        if e["type"] == "com.apmseed.release.created":
            assert e["source"] == "/apmseed/releases" and e["subject"] == e["data"]["id"]
            assert e["time"] == ce.rfc3339_ms(e["data"]["start"])
