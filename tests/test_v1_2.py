"""Dataset 1.2.0 (websites, mobile apps, logs, synthetics): every exported record is accepted by the official
instana-client model; the database rejects broken relationships; `apmseed validate` reports broken references;
and the data keeps its promises (metrics recomputable from beacons, errors inside issues, failures explained)."""

from __future__ import annotations

import hashlib
import itertools
import json
import re
import shutil
import uuid
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import instana_client.models as models
import pytest
import sqlalchemy as sa
from click.testing import CliRunner
from sqlalchemy.exc import IntegrityError

from apmseed import profiles, seeding
from apmseed.exporters.readers_v1_2_0 import DATASETS
from apmseed.factories.synthetics import BASE_FAILURE_RATE
from apmseed.progress import Reporter
from apmseed.validation import validate_export
from tests.conftest import END_MS, rows, run_cli
from tests.conftest import drop_none as _drop_none
from tests.conftest import jsonl_records as records
from tests.conftest import url_of as _url

VERSION = "1.2.0"
START_MS = END_MS - profiles.PROFILES["tiny"].minutes * 60_000
FILE_MODELS: dict[str, Any] = {
    "website_catalog.jsonl": models.WebsiteMonitoringMetricDescription,
    "website_config.jsonl": models.Website,
    "website_alert_configs.jsonl": models.WebsiteAlertConfigWithRBACTag,
    "website_analyze.jsonl": models.WebsiteMonitoringBeacon,
    "website_metrics.jsonl": models.MetricAPIResult,
    "mobile_catalog.jsonl": models.MobileAppMonitoringMetricDescription,
    "mobile_config.jsonl": models.MobileApp,
    "mobile_alert_configs.jsonl": models.MobileAppAlertConfigWithRBACTag,
    "mobile_analyze.jsonl": models.MobileAppMonitoringBeacon,
    "mobile_metrics.jsonl": models.MetricAPIResult,
    "logs.jsonl": models.ApiLogItem,
    "synthetic_locations.jsonl": models.SyntheticLocation,
    "synthetic_checks.jsonl": models.SyntheticTest,
    "synthetic_runs.jsonl": models.TestResultListItem,
}
Record = dict[str, Any]


# -- fixtures: one tiny 1.2.0 database and its export, shared by the module ----------------------------------------

@pytest.fixture(scope="module")
def engine12(server_url: str) -> Iterator[sa.Engine]:
    name = f"t12_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    engine = sa.create_engine(sa.make_url(server_url).set(database=name))
    with engine.begin() as conn:
        seeding.seed(conn, profiles.resolve("tiny", {}), 7, END_MS, Reporter(False), dataset_version=VERSION)
    yield engine
    engine.dispose()
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="module")
def export12(engine12: sa.Engine, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("export12") / "out"
    result = run_cli(CliRunner(), "export", "jsonl", out, "--database-url", _url(engine12), "-q")
    assert result.exit_code == 0, result.output
    return out


# -- fidelity ---------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("file_name", FILE_MODELS)
def test_every_record_is_accepted_by_the_official_model(export12: Path, file_name: str) -> None:
    lines = records(export12, file_name)
    assert lines, f"{file_name} is empty"
    model = FILE_MODELS[file_name]
    for number, record in enumerate(lines, 1):
        parsed = model.from_dict(record)  # ValidationError / KeyError on a wrong record
        assert parsed is not None
        aliases = {f.alias or name for name, f in type(parsed).model_fields.items()}
        # to_dict leaves out None and OpenAPI read-only fields; those are compared on the parsed attributes
        round_trip = _drop_none(parsed.to_dict())
        dumped = parsed.model_dump(by_alias=True, exclude_none=True)
        for key in sorted(aliases & record.keys()):
            got = round_trip.get(key, dumped.get(key))
            assert got == record[key], f"{file_name}:{number} {key}: {got!r} != {record[key]!r}"


def test_polymorphic_parts_pick_the_right_subclass(export12: Path) -> None:
    configs = {r["configuration"]["syntheticType"]: type(models.SyntheticTest.from_dict(r).configuration).__name__
               for r in records(export12, "synthetic_checks.jsonl")}
    assert configs == {"HTTPAction": "HttpActionConfiguration", "HTTPScript": "HttpScriptConfiguration",
                       "WebpageAction": "WebpageActionConfiguration", "BrowserScript": "BrowserScriptConfiguration"}
    for name, model in (("website_alert_configs.jsonl", models.WebsiteAlertConfigWithRBACTag),
                        ("mobile_alert_configs.jsonl", models.MobileAppAlertConfigWithRBACTag)):
        for record in records(export12, name):
            parsed = model.from_dict(record)
            (entry,) = parsed.rules
            assert type(entry.rule).__name__.lower().startswith(record["rules"][0]["rule"]["alertType"].lower()[:5])
            assert {type(t).__name__ for t in entry.thresholds.values()} == {"StaticThresholdRule"}
            assert type(parsed.time_threshold).__name__ != "WebsiteTimeThreshold"


# -- consistency of the data ------------------------------------------------------------------------------------

def test_website_metrics_recompute_from_the_beacons(engine12: sa.Engine) -> None:
    recomputed = rows(engine12, """
        WITH b AS (SELECT website_id, type, duration_ms, (timestamp_ms - :start) / 60000 AS k FROM website_beacon),
        grid AS (SELECT w.id AS website_id, k FROM website w, generate_series(0, 59) k)
        SELECT 'pageLoads' m, 'SUM' a, g.website_id, g.k, count(b.k)::float8 v FROM grid g
          LEFT JOIN b ON b.website_id = g.website_id AND b.k = g.k AND b.type = 'pageLoad' GROUP BY 1, 2, 3, 4
        UNION ALL SELECT 'jsErrors', 'SUM', g.website_id, g.k, count(b.k) FROM grid g
          LEFT JOIN b ON b.website_id = g.website_id AND b.k = g.k AND b.type = 'error' GROUP BY 1, 2, 3, 4
        UNION ALL SELECT 'httpCalls', 'SUM', g.website_id, g.k, count(b.k) FROM grid g
          LEFT JOIN b ON b.website_id = g.website_id AND b.k = g.k AND b.type = 'httpRequest' GROUP BY 1, 2, 3, 4
        UNION ALL SELECT 'onLoadTime', 'MEAN', website_id, k, avg(duration_ms) FROM b WHERE type = 'pageLoad'
          GROUP BY 1, 2, 3, 4
        UNION ALL SELECT 'onLoadTime', 'P95', website_id, k, percentile_cont(0.95) WITHIN GROUP (ORDER BY duration_ms)
          FROM b WHERE type = 'pageLoad' GROUP BY 1, 2, 3, 4""", start=START_MS)
    stored = {(r["metric_id"], r["aggregation"], r["website_id"], (r["ts_ms"] - START_MS) // 60_000): r["value"]
              for r in rows(engine12, "SELECT * FROM website_metric_point")}
    assert len(stored) == len(recomputed) > 0
    for r in recomputed:
        assert stored[(r["m"], r["a"], r["website_id"], r["k"])] == pytest.approx(r["v"], rel=1e-9), dict(r)


def test_mobile_metrics_recompute_from_the_beacons(engine12: sa.Engine) -> None:
    recomputed = rows(engine12, """
        WITH b AS (SELECT mobile_app_id, type, duration_ms, (timestamp_ms - :start) / 60000 AS k FROM mobile_beacon),
        grid AS (SELECT a.id AS mobile_app_id, k FROM mobile_app a, generate_series(0, 59) k)
        SELECT 'sessions' m, 'SUM' a, g.mobile_app_id, g.k, count(b.k)::float8 v FROM grid g
          LEFT JOIN b ON b.mobile_app_id = g.mobile_app_id AND b.k = g.k AND b.type = 'sessionStart'
          GROUP BY 1, 2, 3, 4
        UNION ALL SELECT 'crashCount', 'SUM', g.mobile_app_id, g.k, count(b.k) FROM grid g
          LEFT JOIN b ON b.mobile_app_id = g.mobile_app_id AND b.k = g.k AND b.type = 'crash' GROUP BY 1, 2, 3, 4
        UNION ALL SELECT 'httpLatency', 'MEAN', mobile_app_id, k, avg(duration_ms) FROM b
          WHERE type = 'httpRequest' GROUP BY 1, 2, 3, 4
        UNION ALL SELECT 'httpLatency', 'P95', mobile_app_id, k,
          percentile_cont(0.95) WITHIN GROUP (ORDER BY duration_ms) FROM b WHERE type = 'httpRequest'
          GROUP BY 1, 2, 3, 4""", start=START_MS)
    stored = {(r["metric_id"], r["aggregation"], r["mobile_app_id"], (r["ts_ms"] - START_MS) // 60_000): r["value"]
              for r in rows(engine12, "SELECT * FROM mobile_metric_point")}
    assert len(stored) == len(recomputed) > 0
    for r in recomputed:
        assert stored[(r["m"], r["a"], r["mobile_app_id"], r["k"])] == pytest.approx(r["v"], rel=1e-9), dict(r)


def test_exported_metrics_add_up_to_the_exported_beacons(export12: Path) -> None:
    """The same claim on the files a consumer gets: counts per minute from website_analyze / mobile_analyze."""
    for beacons, metrics, link, counted in (("website_analyze.jsonl", "website_metrics.jsonl", "websiteId",
                                             {"pageLoads.sum.60": "pageLoad", "jsErrors.sum.60": "error",
                                              "httpCalls.sum.60": "httpRequest"}),
                                            ("mobile_analyze.jsonl", "mobile_metrics.jsonl", "mobileAppId",
                                             {"sessions.sum.60": "sessionStart", "crashCount.sum.60": "crash"})):
        counts: dict[tuple[str, str, int], int] = defaultdict(int)
        for b in records(export12, beacons):
            counts[(b[link], b["type"], START_MS + (b["timestamp"] - START_MS) // 60_000 * 60_000)] += 1
        for result in records(export12, metrics):
            for key, kind in counted.items():
                points = result["metrics"][key]
                assert len(points) == 60
                assert all(v == counts[(result[link], kind, ts)] for ts, v in points), key


def test_beacons_belong_to_their_page_load_and_session(engine12: sa.Engine) -> None:
    assert rows(engine12, "SELECT b.beacon_id FROM website_beacon b JOIN website_beacon p"
                          " ON p.beacon_id = b.page_load_id WHERE b.timestamp_ms < p.timestamp_ms"
                          " OR (b.type <> 'pageLoad' AND b.timestamp_ms = p.timestamp_ms)") == []
    assert rows(engine12, "SELECT b.beacon_id FROM website_beacon b JOIN website_session s USING (session_id)"
                          " WHERE b.timestamp_ms < s.start_ms") == []
    assert rows(engine12, "SELECT b.beacon_id FROM mobile_beacon b JOIN mobile_session s USING (session_id)"
                          " WHERE b.timestamp_ms < s.start_ms OR (b.type = 'sessionStart') <> (b.timestamp_ms ="
                          " s.start_ms AND b.type = 'sessionStart')") == []
    # a crash ends its session
    assert rows(engine12, "SELECT c.beacon_id FROM mobile_beacon c JOIN mobile_beacon b USING (session_id)"
                          " WHERE c.type = 'crash' AND b.timestamp_ms > c.timestamp_ms") == []
    assert {r["n"] for r in rows(engine12, "SELECT count(*) n FROM mobile_beacon WHERE type = 'sessionStart'"
                                           " GROUP BY session_id")} == {1}
    assert all(START_MS <= r["t"] < END_MS for r in rows(
        engine12, "SELECT timestamp_ms t FROM website_beacon UNION ALL SELECT timestamp_ms FROM mobile_beacon"))


def _path_regex(label: str) -> tuple[str, re.Pattern[str]]:
    method, _, template = label.partition(" ")
    parts = re.split(r"\{[^}/]+\}", template)
    return method, re.compile("^https://[a-z0-9.-]+" + "[^/]+".join(re.escape(p) for p in parts) + "$")


def test_http_calls_and_api_tests_reach_real_endpoints(engine12: sa.Engine) -> None:
    calls = rows(engine12, "SELECT b.url, b.http_call_method m, e.label FROM website_beacon b JOIN endpoint e"
                           " ON e.id = b.endpoint_id UNION ALL SELECT b.url, b.http_call_method, e.label"
                           " FROM mobile_beacon b JOIN endpoint e ON e.id = b.endpoint_id"
                           " UNION ALL SELECT t.url, coalesce(t.configuration->>'operation',"
                           " split_part(e.label, ' ', 1)), e.label FROM synthetic_test t"
                           " JOIN endpoint e ON e.id = t.endpoint_id")
    assert calls
    for call in calls:
        method, regex = _path_regex(call["label"])
        assert call["m"] == method and regex.match(call["url"]), dict(call)
    # the API host belongs to the test's application (https://<application>.example.com/...)
    for t in rows(engine12, "SELECT t.url, a.label FROM synthetic_test t JOIN application a ON a.id = t.application_id"
                            " WHERE t.endpoint_id IS NOT NULL"):
        assert t["url"].startswith("https://" + re.sub(r"[^a-z0-9]+", "-", t["label"].lower()).strip("-"))


def test_calls_fail_mostly_inside_error_issues(engine12: sa.Engine) -> None:
    stats = rows(engine12, """
        SELECT EXISTS (SELECT 1 FROM event e WHERE e.service_id = ep.service_id
                        AND e.problem LIKE '%erroneous%' AND b.ts >= e.start_ms AND b.ts < coalesce(e.end_ms, :end))
               AS in_issue, count(*) n, count(*) FILTER (WHERE b.status >= 500) failed
        FROM (SELECT endpoint_id, timestamp_ms ts, http_call_status status FROM website_beacon WHERE endpoint_id
              IS NOT NULL UNION ALL SELECT endpoint_id, timestamp_ms, http_call_status FROM mobile_beacon
              WHERE endpoint_id IS NOT NULL) b JOIN endpoint ep ON ep.id = b.endpoint_id GROUP BY 1""", end=END_MS)
    by = {r["in_issue"]: r for r in stats}
    outside = by[False]
    assert outside["failed"] <= max(3, 0.03 * outside["n"])
    if True in by:
        assert by[True]["failed"] / by[True]["n"] > outside["failed"] / outside["n"]


def test_logs_come_from_the_service_runtime_and_errors_sit_in_issues(engine12: sa.Engine) -> None:
    # the host is the host the logging process runs on (directly or in a container)
    assert rows(engine12, """
        SELECT l.log_id FROM log_entry l JOIN snapshot p ON p.snapshot_id = l.process_snapshot_id
        JOIN snapshot parent ON parent.snapshot_id = p.parent_snapshot_id
        WHERE l.host_snapshot_id <> CASE parent.plugin WHEN 'host' THEN parent.snapshot_id
                                        ELSE parent.parent_snapshot_id END""") == []
    # ERROR lines inside an error issue, WARN lines inside a latency issue, of their own service
    misplaced = rows(engine12, """
        SELECT l.log_id, l.level, e.problem FROM log_entry l JOIN event e USING (event_id)
        WHERE e.service_id <> l.service_id OR l.timestamp_ms < e.start_ms
           OR l.timestamp_ms >= coalesce(e.end_ms, :end)
           OR (l.level = 'ERROR' AND e.problem NOT LIKE '%erroneous%')
           OR (l.level = 'WARN' AND e.problem NOT LIKE '%latency%')""", end=END_MS)
    assert misplaced == []
    levels = {r["level"]: r["n"] for r in rows(engine12, "SELECT level, count(*) n FROM log_entry GROUP BY 1")}
    assert levels.get("ERROR", 0) > 0 and levels.get("INFO", 0) > 0 and levels.get("DEBUG", 0) > 0
    assert 40 <= sum(levels.values()) <= 300  # tiny stays tiny
    # INFO/DEBUG also outside every issue window
    assert rows(engine12, """
        SELECT count(*) n FROM log_entry l WHERE l.level IN ('INFO', 'DEBUG') AND NOT EXISTS (
          SELECT 1 FROM event e WHERE e.service_id = l.service_id AND l.timestamp_ms >= e.start_ms
          AND l.timestamp_ms < coalesce(e.end_ms, :end))""", end=END_MS)[0]["n"] > 0
    # no Kubernetes yet; trace ids: 16 hex, an error line shares its trace with at most its request's INFO line
    assert rows(engine12, "SELECT log_id FROM log_entry WHERE num_nonnulls(kubernetes_cluster_name,"
                          " kubernetes_namespace_name, kubernetes_deployment_name, kubernetes_pod_name,"
                          " kubernetes_container_name, kubernetes_node_name) > 0") == []
    shared = rows(engine12, "SELECT trace_id, array_agg(level ORDER BY timestamp_ms) levels FROM log_entry"
                            " WHERE trace_id IS NOT NULL GROUP BY 1 HAVING count(*) > 1")
    assert all(r["levels"] == ["INFO", "ERROR"] for r in shared)


def test_synthetic_runs_follow_their_schedule(engine12: sa.Engine) -> None:
    tests = {r["id"]: r for r in rows(engine12, "SELECT * FROM synthetic_test")}
    runs: dict[tuple[str, str], list[int]] = defaultdict(list)
    for r in rows(engine12, "SELECT test_id, location_id, start_ms FROM synthetic_result ORDER BY start_ms"):
        runs[(r["test_id"], r["location_id"])].append(r["start_ms"])
    assert runs
    firsts: dict[str, set[int]] = defaultdict(set)
    for (test_id, _), starts in runs.items():
        test = tests[test_id]
        assert test["active"]
        step = test["test_frequency_min"] * 60_000
        assert all(b - a == step for a, b in itertools.pairwise(starts))
        assert START_MS <= starts[0] < START_MS + step and starts[-1] + step >= END_MS
        firsts[test_id].add(starts[0])
    for test_id, first in firsts.items():
        located = sum(1 for key in runs if key[0] == test_id)
        if located > 1:
            assert (len(first) == 1) == (tests[test_id]["playback_mode"] == "Simultaneous")
    # every location can run its tests
    assert rows(engine12, """
        SELECT t.id FROM synthetic_test t JOIN synthetic_test_location tl ON tl.test_id = t.id
        JOIN synthetic_location l ON l.id = tl.location_id
        WHERE NOT t.synthetic_type = ANY(l.synthetic_types)
           OR (t.configuration ? 'browser' AND NOT (t.configuration->>'browser') = ANY(l.browser_types))""") == []


def test_failed_runs_are_explained_or_rare(engine12: sa.Engine) -> None:
    explained = rows(engine12, """
        SELECT r.result_id, r.start_ms, e.start_ms s, e.end_ms en, e.service_id, t.service_id tested,
               t.application_id, EXISTS (SELECT 1 FROM application_service x WHERE x.application_id = t.application_id
                                         AND x.service_id = e.service_id) AS in_app
        FROM synthetic_result r JOIN event e USING (event_id) JOIN synthetic_test t ON t.id = r.test_id""")
    for r in explained:
        assert r["s"] <= r["start_ms"] < (r["en"] or END_MS)
        assert r["service_id"] == r["tested"] if r["tested"] else r["in_app"]
    totals = rows(engine12, "SELECT count(*) n, count(*) FILTER (WHERE status = 0 AND event_id IS NULL) unexplained,"
                            " count(*) FILTER (WHERE status = 0) failed FROM synthetic_result")[0]
    assert 0 < totals["n"] <= 400  # tiny stays tiny
    assert totals["unexplained"] <= max(3, 4 * BASE_FAILURE_RATE * totals["n"])
    assert totals["failed"] >= len(explained) > 0


def test_alert_thresholds_come_from_the_traffic(engine12: sa.Engine) -> None:
    configs = rows(engine12, "SELECT c.*, (SELECT percentile_cont(0.95) WITHIN GROUP (ORDER BY duration_ms)"
                             " FROM website_beacon b WHERE b.website_id = c.website_id AND b.type = 'pageLoad') p95"
                             " FROM website_alert_config c")
    assert configs
    for c in configs:
        if c["alert_type"] == "slowness":  # above normal page loads, well below the slowest
            assert c["p95"] < c["warning_value"] < c["critical_value"] < 10 * c["p95"]
    assert rows(engine12, "SELECT id FROM mobile_app_alert_config") != []


def test_sizes_follow_the_profile(engine12: sa.Engine) -> None:
    counts = rows(engine12, "SELECT (SELECT count(*) FROM website) w, (SELECT count(*) FROM mobile_app) m,"
                            " (SELECT count(*) FROM website_beacon) + (SELECT count(*) FROM mobile_beacon) b,"
                            " (SELECT count(*) FROM synthetic_location) l")[0]
    tiny = profiles.PROFILES["tiny"]
    assert counts["w"] == max(1, tiny.apps // 3) and counts["m"] == max(1, tiny.apps // 5)
    assert 100 <= counts["b"] <= 1000 and counts["l"] >= 2


# -- the database rejects broken relationships ----------------------------------------------------------------

def _clone(table: str, key: str, changes: dict[str, str], where: str = "TRUE") -> str:
    """SQL inserting a copy of one row with a new key and some columns replaced by SQL expressions."""
    return (f"CREATE TEMP TABLE x ON COMMIT DROP AS SELECT * FROM {table} WHERE {where} LIMIT 1;"
            f" UPDATE x SET {key} = 'ffffffffffffffff'" + "".join(f", {c} = {v}" for c, v in changes.items())
            + f"; INSERT INTO {table} SELECT * FROM x")


OTHER_PROCESS = "(SELECT snapshot_id FROM service_snapshot s WHERE s.service_id <> x.service_id LIMIT 1)"
VIOLATIONS = {
    "beacon of a page load in another session": _clone(
        "website_beacon", "beacon_id", {"type": "'resourceLoad'", "backend_time_ms": "NULL",
                                        "resource_type": "'img'", "page_load_id":
                                        "(SELECT beacon_id FROM website_beacon b WHERE b.session_id <> x.session_id"
                                        " AND b.type = 'pageLoad' LIMIT 1)"}, "type = 'pageLoad'"),
    "beacon naming a session of another website": _clone(
        "website_beacon", "beacon_id", {"website_id": "(SELECT id FROM website LIMIT 1) || 'x'",
                                        "type": "'error'", "duration_ms": "NULL", "url": "NULL",
                                        "error_type": "'TypeError'", "error_message": "'x'"}, "type = 'pageLoad'"),
    "http beacon without an endpoint": _clone(
        "mobile_beacon", "beacon_id", {"endpoint_id": "NULL"}, "type = 'httpRequest'"),
    "log from a process that does not run its service": _clone(
        "log_entry", "log_id", {"process_snapshot_id": OTHER_PROCESS}),
    "error log outside any issue": _clone(
        "log_entry", "log_id", {"level": "'ERROR'", "event_id": "NULL"}, "level = 'INFO'"),
    "log naming an endpoint of another service": _clone(
        "log_entry", "log_id", {"endpoint_id": "(SELECT id FROM endpoint e WHERE e.service_id <> x.service_id"
                                               " LIMIT 1)"}),
    "run from a location the test does not use": (
        "CREATE TEMP TABLE x ON COMMIT DROP AS SELECT * FROM synthetic_result LIMIT 1;"
        " UPDATE x SET result_id = 'ffffffffffffffffffffff', location_id = (SELECT id FROM synthetic_location l"
        " WHERE NOT EXISTS (SELECT 1 FROM synthetic_test_location t WHERE t.test_id = x.test_id"
        " AND t.location_id = l.id) UNION ALL SELECT 'nowhere' LIMIT 1); INSERT INTO synthetic_result SELECT * FROM x"),
    "failed run without errors": (
        "UPDATE synthetic_result SET status = 0 WHERE result_id = (SELECT min(result_id) FROM synthetic_result"
        " WHERE status = 1)"),
    "API test on a service outside its application": (
        "UPDATE synthetic_test SET application_id = (SELECT a.id FROM application a WHERE NOT EXISTS ("
        " SELECT 1 FROM application_service s WHERE s.application_id = a.id AND s.service_id ="
        " synthetic_test.service_id) LIMIT 1) WHERE id = (SELECT min(id) FROM synthetic_test"
        " WHERE endpoint_id IS NOT NULL)"),
    "browser test of a website of another application": (
        "UPDATE synthetic_test SET application_id = (SELECT a.id FROM application a WHERE a.id <>"
        " synthetic_test.application_id LIMIT 1) WHERE id = (SELECT min(id) FROM synthetic_test"
        " WHERE website_id IS NOT NULL)"),
    "HTTPAction whose configuration calls another URL": (
        "UPDATE synthetic_test SET url = url || '/other' WHERE synthetic_type = 'HTTPAction'"),
    "alert on a metric missing from the catalog": (
        "UPDATE website_alert_config SET metric_id = 'cpu.used'"),
    "website of an unknown application": "UPDATE website SET application_id = 'nowhere'",
    "metric point of a metric missing from the catalog": "UPDATE website_metric_point SET metric_id = 'pageViews'",
    "mobile session of an unknown app": "UPDATE mobile_session SET mobile_app_id = 'nowhere'",
    "alert notifying an unknown channel": "UPDATE mobile_app_alert_config_channel SET channel_id = 'nowhere'",
    "log on an unknown host": "UPDATE log_entry SET host_snapshot_id = 'nowhere'",
    "log of a trace id that is not 16 hex": "UPDATE log_entry SET trace_id = 'XYZ' WHERE trace_id IS NOT NULL",
    "test location that does not exist": "UPDATE synthetic_test_location SET location_id = 'nowhere'",
    "failed run explained by an unknown issue": (
        "UPDATE synthetic_result SET event_id = 'nowhere' WHERE status = 0"),
    "successful run with an explanation": (
        "UPDATE synthetic_result SET event_id = (SELECT min(event_id) FROM event) WHERE status = 1"),
    "test run every two days": "UPDATE synthetic_test SET test_frequency_min = 2880",
    "alert whose warning lies beyond the critical threshold": (
        "UPDATE mobile_app_alert_config SET warning_value = critical_value * 2 WHERE threshold_operator = '>'"),
}


@pytest.mark.parametrize("case", VIOLATIONS)
def test_database_rejects(engine12: sa.Engine, case: str) -> None:
    with engine12.connect() as conn:
        trans = conn.begin()
        try:
            with pytest.raises(IntegrityError):
                for statement in VIOLATIONS[case].split("; "):
                    conn.execute(sa.text(statement))
        finally:
            trans.rollback()


# -- apmseed validate ---------------------------------------------------------------------------------------------

def test_export_validates_cleanly(runner: CliRunner, export12: Path) -> None:
    result = run_cli(runner, "validate", export12)
    assert result.exit_code == 0, result.output
    assert {d.file for d in DATASETS} <= {p.name for p in export12.iterdir()}


def _damaged(export12: Path, tmp_path: Path, name: str, pick: Any, change: Any) -> tuple[Path, int]:
    """A copy of the export with the first record `pick` accepts changed (manifest hashes fixed)."""
    out = tmp_path / "damaged"
    shutil.copytree(export12, out)
    path = out / name
    lines = path.read_text().splitlines()
    number = next(i for i, line in enumerate(lines) if pick(json.loads(line)))
    record = json.loads(lines[number])
    change(record)
    lines[number] = json.dumps(record, sort_keys=True, separators=(",", ":"))
    data = ("\n".join(lines) + "\n").encode()
    path.write_bytes(data)
    manifest = json.loads((out / "manifest.json").read_text())
    manifest["files"][name].update(bytes=len(data), sha256=hashlib.sha256(data).hexdigest())
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    return out, number + 1


def _other_issue(export12: Path, service: str, level: str) -> str:
    wanted = "erroneous" if level == "ERROR" else "latency"
    issues = records(export12, "issues.jsonl")
    other = [i["eventId"] for i in issues if (i.get("serviceId") or i.get("endpointServiceId")) not in (None, service)]
    same_kind = [i["eventId"] for i in issues if wanted not in i["problem"]
                 and (i.get("serviceId") or i.get("endpointServiceId")) == service]
    return (other or same_kind)[0]


DAMAGE: dict[str, tuple[str, Any, Any, str]] = {
    "log tied to an issue of another service": (
        "logs.jsonl", lambda r: r["log.level"] == "ERROR", lambda r: None, "names issue"),
    "log from an unknown host": (
        "logs.jsonl", lambda r: True, lambda r: r.update({"log.hostId": "A" * 27}), "log.hostId"),
    "beacon of an unknown page load": (
        "website_analyze.jsonl", lambda r: r["type"] == "resourceLoad",
        lambda r: r.update(pageLoadId="0123456789abcdef"), "pageLoadId"),
    "HTTP beacon calling another path than its endpoint": (
        "website_analyze.jsonl", lambda r: r["type"] == "httpRequest",
        lambda r: r.update(httpCallUrl=r["httpCallUrl"] + "/extra"), "does not call endpoint"),
    "mobile beacon with another app's label": (
        "mobile_analyze.jsonl", lambda r: True, lambda r: r.update(mobileAppLabel="Some Other App"),
        "mobileAppLabel"),
    "API test whose URL misses its endpoint": (
        "synthetic_checks.jsonl", lambda r: r["configuration"]["syntheticType"] == "HTTPAction",
        lambda r: r["configuration"].update(url="https://webshop.example.com/api/nothing-here"),
        "does not call endpoint"),
    "run from a location the test does not use": (
        "synthetic_runs.jsonl", lambda r: True,
        lambda r: r["testResultCommonProperties"].update(locationId="B" * 22), "is not one of the test's locations"),
    "metric point outside the window": (
        "website_metrics.jsonl", lambda r: True,
        lambda r: r["metrics"]["pageLoads.sum.60"].append([END_MS + 60_000, 1]), "outside the adjustedTimeframe"),
    "alert with warning beyond critical": (
        "website_alert_configs.jsonl", lambda r: r["rules"][0]["thresholdOperator"] == ">",
        lambda r: r["rules"][0]["thresholds"]["warning"].update(value=1e9), "warning threshold"),
    "alert on a metric missing from the catalog": (
        "mobile_alert_configs.jsonl", lambda r: True,
        lambda r: r["rules"][0]["rule"].update(metricName="batteryDrain"), "batteryDrain"),
    "schema: unknown log level": (
        "logs.jsonl", lambda r: r["log.level"] == "INFO", lambda r: r.update({"log.level": "TRACE"}), "schema:"),
    "schema: frequency in seconds": (
        "synthetic_checks.jsonl", lambda r: True, lambda r: r.update(testFrequency=3600), "schema:"),
    "schema: page load without its timings": (
        "website_analyze.jsonl", lambda r: r["type"] == "pageLoad", lambda r: r.pop("onLoadTime"), "schema:"),
    "schema: failed run without errors": (
        "synthetic_runs.jsonl", lambda r: r["metrics"]["status"][0][1] == 1,
        lambda r: r["metrics"].update(status=[[r["startTime"], 0]]), "schema:"),
    "run of an unknown test": (
        "synthetic_runs.jsonl", lambda r: True,
        lambda r: (r.update(testId="C" * 20), r["testResultCommonProperties"].update(testId="C" * 20)), "testId"),
    "beacon of an unknown website": (
        "website_analyze.jsonl", lambda r: True, lambda r: r.update(websiteId="D" * 22), "websiteId"),
}


@pytest.mark.parametrize("case", DAMAGE)
def test_validate_reports(export12: Path, tmp_path: Path, case: str) -> None:
    name, pick, change, needle = DAMAGE[case]
    if case == "log tied to an issue of another service":
        def change(r: Record) -> None:
            r["eventId"] = _other_issue(export12, r["log.serviceId"], r["log.level"])
    out, line = _damaged(export12, tmp_path, name, pick, change)
    violations = validate_export(out)
    assert violations, case
    assert any(v.file == name and v.line == line and needle in v.problem for v in violations), \
        [str(v) for v in violations]


def test_window_export_keeps_references_valid(runner: CliRunner, engine12: sa.Engine, tmp_path: Path) -> None:
    out = tmp_path / "window"
    result = run_cli(runner, "export", "jsonl", out, "--from", "2025-11-20T14:30:00Z", "--to", "2025-11-20T14:50Z",
                     "--database-url", _url(engine12), "-q")
    assert result.exit_code == 0, result.output
    lo, hi = END_MS - 30 * 60_000, END_MS - 10 * 60_000
    stamps = [r["timestamp"] for r in records(out, "website_analyze.jsonl")]
    stamps += [r["log.timestamp"] for r in records(out, "logs.jsonl")]
    stamps += [r["startTime"] for r in records(out, "synthetic_runs.jsonl")]
    stamps += [ts for r in records(out, "mobile_metrics.jsonl") for points in r["metrics"].values()
               for ts, _ in points]
    assert stamps and all(lo <= ts < hi for ts in stamps)
    (metrics,) = records(out, "website_metrics.jsonl")
    assert metrics["adjustedTimeframe"] == {"to": hi, "windowSize": hi - lo}
    result = run_cli(runner, "validate", out)
    assert result.exit_code == 0, result.output


def test_upgrading_from_1_1_equals_seeding_1_2(engine12: sa.Engine, server_url: str) -> None:
    name = f"t12u_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    other = sa.create_engine(sa.make_url(server_url).set(database=name))
    try:
        with other.begin() as conn:
            seeding.seed(conn, profiles.resolve("tiny", {}), 7, END_MS, Reporter(False), dataset_version="1.1.0")
        with other.begin() as conn:
            seeding.upgrade_dataset(conn, VERSION, Reporter(False))
        for table in ("website_beacon", "mobile_beacon", "log_entry", "synthetic_result", "website_alert_config"):
            def dump(engine: sa.Engine, t: str = table) -> list[tuple]:
                with engine.connect() as conn:
                    return [tuple(r) for r in conn.execute(sa.text(f"SELECT * FROM {t} ORDER BY 1"))]
            assert dump(other) == dump(engine12), table
    finally:
        other.dispose()
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
