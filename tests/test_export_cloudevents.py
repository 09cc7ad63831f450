"""`apmseed export cloudevents`: CloudEvents 1.0 as JSON Lines, as a JSON batch, and POSTed to an HTTP sink
(binary and structured mode), checked against the spec's JSON Schema, the shipped dataschemas and the official
CloudEvents SDK; alert triggers checked against the metric points in PostgreSQL."""

from __future__ import annotations

import json
import re
import socket
import threading
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from http.server import BaseHTTPRequestHandler, HTTPServer
from importlib import resources
from pathlib import Path
from typing import Any

import instana_client.models as models
import pytest
import sqlalchemy as sa
from click.testing import CliRunner, Result
from jsonschema import Draft7Validator, Draft202012Validator, FormatChecker

from apmseed.cli.export_cloudevents import cloudevents
from apmseed.cli.main import export
from apmseed.errors import ApmseedError
from apmseed.exporters import cloudevents as ce
from apmseed.exporters.datasets import DATASETS, available
from tests.conftest import END_MS, drop_none, jsonl_records, rows, run_cli, seed_db, seeded_database

try:  # the SDK's v1 API: top-level in cloudevents 1.x, under cloudevents.v1 from 2.0 on
    from cloudevents.v1.http import from_dict as v1_from_dict
    from cloudevents.v1.http import from_http as v1_from_http
    from cloudevents.v1.http import from_json as v1_from_json
except ImportError:
    from cloudevents.http import from_dict as v1_from_dict
    from cloudevents.http import from_http as v1_from_http
    from cloudevents.http import from_json as v1_from_json
try:  # the SDK's 2.x core API
    from cloudevents.core.bindings.http import HTTPMessage, from_binary_event, from_structured_event
    from cloudevents.core.formats.json import JSONFormat
except ImportError:
    HTTPMessage = None

# The lead registers the command in cli/main.py; until then the tests do it.
export.add_command(cloudevents)

SPEC_SCHEMA = json.loads((Path(__file__).parent / "data" / "cloudevents-1.0.schema.json").read_text())
ISSUE_SCHEMA = json.loads((resources.files("apmseed") / "jsonschemas" / "issues.schema.json").read_text())
RUNS_SCHEMA = json.loads((resources.files("apmseed") / "jsonschemas" / "synthetic_runs.schema.json").read_text())
TIME_RE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
TYPE_RE = re.compile(r"^[a-z][a-z0-9]*(\.[a-z][a-z0-9_]*){2,}$")  # reverse-DNS
URI_REF_RE = re.compile(r"^(?:[A-Za-z0-9\-._~!$&'()*+,;=:@/?#\[\]]|%[0-9A-Fa-f]{2})+$")  # RFC 3986 characters
SOURCE_KEYS = {"applications": "applicationId", "services": "serviceId", "endpoints": "endpointId",
               "infrastructure": "snapshotId"}
ALERT_SOURCES = {"alert-configs": "alert_configs", "global-alert-configs": "global_alert_configs",
                 "infra-alert-configs": "infra_alert_configs", "website-alert-configs": "website_alert_configs",
                 "mobile-alert-configs": "mobile_alert_configs"}
CLOSING = (".closed", ".resolved")  # the second event of a lifecycle

FORMAT_CHECKER = FormatChecker()  # jsonschema checks `uri` and `uri-reference` only with optional packages: do it here
FORMAT_CHECKER.checks("uri-reference")(lambda v: not isinstance(v, str) or bool(URI_REF_RE.match(v)))
FORMAT_CHECKER.checks("uri")(lambda v: not isinstance(v, str) or bool(
    URI_REF_RE.match(v) and re.match(r"^[A-Za-z][A-Za-z0-9+.-]*:", v)))
SPEC = Draft7Validator(SPEC_SCHEMA, format_checker=FORMAT_CHECKER)


def data_validator(event_type: str) -> Draft202012Validator:
    return Draft202012Validator(json.loads(ce.schema_resource(event_type).read_text()), format_checker=FORMAT_CHECKER)


@pytest.fixture(autouse=True)
def _no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")


@pytest.fixture
def delays(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Backoff sleeps of the HTTP sink, recorded instead of slept."""
    slept: list[float] = []
    monkeypatch.setattr(ce, "sleep", slept.append)
    return slept


@pytest.fixture(scope="module")
def events_db(server_url: str) -> Iterator[sa.Engine]:
    """The tiny profile with more issues (every entity type, open and closed ones), at dataset 1.2.0: issues,
    alert triggers and synthetic failures (1.3.0 adds incidents, changes and releases, tested in test_v1_3).
    Shared by the module: these tests only read it."""
    with seeded_database(server_url, "t_ce", issues=40, dataset_version="1.2.0") as engine:
        yield engine


@pytest.fixture(scope="module")
def alerts_db(server_url: str) -> Iterator[sa.Engine]:
    """The small profile at 1.2.0: alerts of every family, on every kind of entity, with every evaluable time
    threshold, some resolved and some configs that never fire."""
    with seeded_database(server_url, "t_ce_alerts", profile="small", dataset_version="1.2.0") as engine:
        yield engine


def _url(engine: sa.Engine) -> str:
    return engine.url.render_as_string(hide_password=False)


def cli(runner: CliRunner, engine: sa.Engine | None, *args: str | Path) -> Result:
    """`apmseed export cloudevents ARGS`; without an engine, against a database URL that does not resolve."""
    db = _url(engine) if engine is not None else "postgresql://nobody@db.invalid/x"
    return run_cli(runner, "export", "cloudevents", *args, "--database-url", db, "-q")


def export_file(runner: CliRunner, engine: sa.Engine, path: Path, *args: str) -> bytes:
    result = cli(runner, engine, "--out", path, *args)
    assert result.exit_code == 0, result.output
    return path.read_bytes()


def read_jsonl(data: bytes) -> list[dict[str, Any]]:
    assert data.endswith(b"\n")
    return [json.loads(line) for line in data.decode().splitlines()]


def issues_in_db(engine: sa.Engine) -> dict[str, dict[str, Any]]:
    with engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT event_id, state, start_ms, end_ms FROM event WHERE type = 'issue'"))
        return {r.event_id: {"state": r.state, "start": r.start_ms, "end": r.end_ms} for r in rows}


def parse_time(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def sdk_view(parsed: Any) -> dict[str, Any]:
    """What an SDK made of an event: attributes (time as datetime) plus data."""
    attrs = dict(parsed.get_attributes())
    if isinstance(attrs.get("time"), str):
        attrs["time"] = parse_time(attrs["time"])
    return {**attrs, "data": parsed.get_data()}


def expected_view(event: dict[str, Any]) -> dict[str, Any]:
    return {**event, "time": parse_time(event["time"])}


def sdk_structured(body: bytes) -> list[dict[str, Any]]:
    views = [sdk_view(v1_from_json(body))]
    if HTTPMessage is not None:
        views.append(sdk_view(JSONFormat().read(None, body)))
    return views


def sdk_http(headers: dict[str, str], body: bytes, mode: str) -> list[dict[str, Any]]:
    views = [sdk_view(v1_from_http(headers, body))]
    if HTTPMessage is not None:
        parse = from_binary_event if mode == "binary" else from_structured_event
        views.append(sdk_view(parse(HTTPMessage(headers=headers, body=body))))
    return views


def check_event(event: dict[str, Any]) -> None:
    """One event against the spec's schema, the conventions of this exporter, and its own dataschema."""
    SPEC.validate(event)
    assert event["specversion"] == "1.0"
    assert set(event) == {"specversion", "id", "source", "type", "subject", "time", "datacontenttype", "dataschema",
                          "data"}
    assert TYPE_RE.match(event["type"]) and event["type"] in ce.EVENT_TYPES, event["type"]
    assert TIME_RE.match(event["time"]), event["time"]
    assert event["datacontenttype"] == "application/json"
    assert event["dataschema"] == f"https://apmseed.dev/schemas/cloudevents/{event['type']}.json"
    data = event["data"]
    data_validator(event["type"]).validate(data)
    kind = event["type"].rsplit(".", 1)[1]
    if event["type"] == "com.apmseed.synthetic.failed":
        Draft202012Validator(RUNS_SCHEMA).validate(data)  # still the synthetic_runs.jsonl record
        assert data["metrics"]["status"][0][1] == 0 and data["testResultCommonProperties"]["errors"]
        assert event["subject"] == data["testId"] and event["id"] == f"{data['testResultId']}:failed"
        assert event["source"] == f"/apmseed/synthetic-tests/{data['testId']}"
        assert event["time"] == ce.rfc3339_ms(data["startTime"])
        return
    if event["type"].startswith("com.apmseed.alert."):
        assert event["subject"] == data["eventId"] and event["id"] == f"{data['eventId']}:{kind}"
        assert event["time"] == ce.rfc3339_ms(data["start"] if kind == "triggered" else data["end"])
        _, root, collection, config_id = event["source"].split("/")
        assert root == "apmseed" and ALERT_SOURCES[collection] == data["alert"]["configDataset"]
        assert config_id == data["eventSpecificationId"] == data["alert"]["configId"]
        assert data["alert"]["window"]["from"] == data["start"]
        assert data["alert"]["window"]["to"] == data["start"] + data["alert"]["granularity"]
        # an Instana EventResult (+ the entity ids and `alert`, which the model does not know)
        instana = drop_none(models.EventResult.from_dict(data).to_dict())
        assert instana == {k: v for k, v in data.items() if k in instana}
        assert set(data) - set(instana) <= {"alert", "applicationId", "serviceId", "endpointId", "endpointServiceId",
                                            "websiteId", "mobileAppId"}
        return
    Draft202012Validator(ISSUE_SCHEMA).validate(data)  # still the Instana-shaped issues.jsonl record
    assert event["subject"] == data["eventId"]
    assert event["id"] == f"{data['eventId']}:{kind}"
    assert event["time"] == ce.rfc3339_ms(data["start"] if kind == "opened" else data["end"])
    _, root, collection, entity = event["source"].split("/")
    assert root == "apmseed" and data[SOURCE_KEYS[collection]] == entity
    assert collection == {"APPLICATION": "applications", "SERVICE": "services", "ENDPOINT": "endpoints",
                          "INFRASTRUCTURE": "infrastructure"}[data["entityType"]]


# -- sink ----------------------------------------------------------------------------------------------------
class Sink:
    """An HTTP endpoint on 127.0.0.1: records every request and answers with `respond(n)` (n counts from 0)."""

    def __init__(self, respond: Callable[[int], int]) -> None:
        self.respond = respond
        self.requests: list[tuple[str, dict[str, str], bytes, int]] = []
        self.lock = threading.Lock()
        self.url = ""

    def accepted(self) -> list[tuple[dict[str, str], bytes]]:
        return [(h, b) for _, h, b, status in self.requests if 200 <= status < 300]


@contextmanager
def http_sink(respond: Callable[[int], int] = lambda n: 202, path: str = "/events") -> Iterator[Sink]:
    sink = Sink(respond)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            with sink.lock:
                status = sink.respond(len(sink.requests))
                headers = {k.lower(): v for k, v in self.headers.items()}
                sink.requests.append((self.path, headers, body, status))
            payload = b"bad event\nsecond line" if status == 400 else b""
            self.send_response(status)
            if status == 302:
                self.send_header("Location", "/elsewhere")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *args: Any) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    sink.url = f"http://127.0.0.1:{server.server_address[1]}{path}"
    try:
        yield sink
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def one_line_error(result: Result) -> str:
    assert result.exit_code != 0, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.output
    return lines[0]


# -- file output ---------------------------------------------------------------------------------------------
def by_family(events: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """issue / alert / synthetic -> the events of that family, in file order."""
    out: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for event in events:
        out[event["type"].split(".")[2]].append(event)
    return out


def test_every_event_is_valid(runner: CliRunner, events_db: sa.Engine, tmp_path: Path) -> None:
    events = read_jsonl(export_file(runner, events_db, tmp_path / "events.jsonl"))
    for event in events:
        check_event(event)
    family = by_family(events)
    assert set(family) == {"issue", "alert", "synthetic"}
    issues = issues_in_db(events_db)
    closed = {k for k, v in issues.items() if v["state"] == "closed"}
    assert closed and closed != set(issues), "the fixture needs open and closed issues"
    kinds = Counter(e["type"] for e in family["issue"])
    assert kinds == {"com.apmseed.issue.opened": len(issues), "com.apmseed.issue.closed": len(closed)}
    assert {e["subject"] for e in family["issue"]} == set(issues)
    for event in family["issue"]:
        if event["type"].endswith(".opened"):  # the issue as it was when it opened
            assert event["data"]["state"] == "open" and "end" not in event["data"]
        else:
            assert event["data"]["state"] == "closed" and event["data"]["end"] == issues[event["subject"]]["end"]
    assert len({e["source"].split("/")[2] for e in family["issue"]}) == 4, "every entity kind should appear"

    # one failed event per failed run, nothing for the runs that passed
    failed = rows(events_db, "SELECT result_id, test_id, start_ms FROM synthetic_result WHERE status = 0")
    assert failed and len(failed) < len(rows(events_db, "SELECT 1 FROM synthetic_result"))
    assert sorted((e["data"]["testResultId"], e["subject"], e["data"]["startTime"]) for e in family["synthetic"]) \
        == sorted((r.result_id, r.test_id, r.start_ms) for r in failed)

    # alerts: some resolved, each resolution after its trigger
    triggered = {e["subject"]: e for e in family["alert"] if e["type"].endswith(".triggered")}
    resolved = [e for e in family["alert"] if e["type"].endswith(".resolved")]
    assert triggered and resolved and len(triggered) + len(resolved) == len(family["alert"])
    for event in resolved:
        opened = triggered[event["subject"]]
        assert event["data"] == {**opened["data"], "state": "closed", "end": event["data"]["end"]}
        assert event["data"]["end"] > opened["data"]["start"]
    assert all(e["data"]["state"] == "open" and "end" not in e["data"] for e in triggered.values())


def test_synthetic_failures_carry_the_jsonl_record(runner: CliRunner, events_db: sa.Engine, tmp_path: Path) -> None:
    """`data` is exactly what synthetic_runs.jsonl holds for the run."""
    events = read_jsonl(export_file(runner, events_db, tmp_path / "events.jsonl", "--datasets", "synthetic_runs"))
    assert {e["type"] for e in events} == {"com.apmseed.synthetic.failed"}
    result = run_cli(runner, "export", "jsonl", tmp_path / "jsonl", "--database-url", _url(events_db), "-q",
                     "--datasets", "synthetic_runs")
    assert result.exit_code == 0, result.output
    runs = {r["testResultId"]: r for r in jsonl_records(tmp_path / "jsonl", "synthetic_runs.jsonl")}
    for event in events:
        assert event["data"] == runs[event["data"]["testResultId"]]
    assert {e["data"]["testResultId"] for e in events} == {
        k for k, r in runs.items() if r["metrics"]["status"][0][1] == 0}
    assert any("eventId" in e["data"] for e in events), "failures name the issue that explains them"


def test_structured_lines_parse_with_the_sdk(runner: CliRunner, events_db: sa.Engine, tmp_path: Path) -> None:
    data = export_file(runner, events_db, tmp_path / "events.jsonl")
    lines = data.splitlines()
    assert {json.loads(line)["type"] for line in lines} >= {"com.apmseed.issue.opened", "com.apmseed.alert.resolved",
                                                            "com.apmseed.synthetic.failed"}
    for line in lines:
        event = json.loads(line)
        for view in sdk_structured(line):
            assert view == expected_view(event)
        assert sdk_view(v1_from_dict(dict(event))) == expected_view(event)


def test_time_order_and_unique_ids(runner: CliRunner, events_db: sa.Engine, tmp_path: Path) -> None:
    events = read_jsonl(export_file(runner, events_db, tmp_path / "events.jsonl"))
    ids = [e["id"] for e in events]
    assert len(ids) == len(set(ids))
    times = [parse_time(e["time"]) for e in events]
    assert times == sorted(times)
    assert events == sorted(events, key=lambda e: (e["time"], e["type"].endswith(CLOSING), e["id"]))
    per_subject: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for event in events:
        per_subject[event["subject"]].append(event)
    lifecycles = set()
    for subject_events in per_subject.values():
        kinds = [e["type"].rsplit(".", 1)[1] for e in subject_events]
        assert kinds in (["opened"], ["opened", "closed"], ["triggered"], ["triggered", "resolved"]) or set(
            kinds) == {"failed"}, kinds
        lifecycles.add(tuple(kinds[:2]))
        assert [e["time"] for e in subject_events] == sorted(e["time"] for e in subject_events)
    assert {("opened", "closed"), ("triggered", "resolved"), ("failed", "failed")} <= lifecycles


def test_stable_across_runs_and_batch_matches(runner: CliRunner, events_db: sa.Engine, tmp_path: Path) -> None:
    first = export_file(runner, events_db, tmp_path / "a.jsonl")
    second = export_file(runner, events_db, tmp_path / "b.jsonl")
    assert first == second
    batch = export_file(runner, events_db, tmp_path / "a.json", "--format", "batch")
    assert batch == export_file(runner, events_db, tmp_path / "b.json", "--format", "batch")
    array = json.loads(batch)
    assert isinstance(array, list) and array == read_jsonl(first)
    for event in array:
        check_event(event)
        assert sdk_view(v1_from_dict(dict(event))) == expected_view(event)
    assert not [p.name for p in tmp_path.iterdir() if p.name.startswith(".")], "temporary files left behind"


def _event_datasets(version: str) -> set[str]:
    """The datasets a default CloudEvents export reads at `version`: those with events and their alert inputs."""
    held = {d.name for d in available(version)}
    chosen = {n for n in held if n in ce.MAPPINGS or n in ce.ALERT_INPUTS}
    return chosen | {i for n in chosen for i in ce.ALERT_INPUTS.get(n, ())}


def test_json_summary(runner: CliRunner, events_db: sa.Engine, tmp_path: Path) -> None:
    result = cli(runner, events_db, "--out", tmp_path / "e.json", "--format", "batch", "--json")
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output)
    events = json.loads((tmp_path / "e.json").read_bytes())
    assert summary["events"] == len(events) and set(summary["counts"]) == _event_datasets("1.2.0")
    assert summary["counts"]["issues"] == len(issues_in_db(events_db)) and summary["skipped"] == []
    assert summary["counts"]["metrics_timeseries"] == len(rows(events_db, "SELECT 1 FROM metric_series"))
    assert summary["eventTypes"] == dict(Counter(e["type"] for e in events))
    assert summary["contentType"] == "application/cloudevents-batch+json"
    assert summary["bytes"] == (tmp_path / "e.json").stat().st_size


def test_empty_batch(runner: CliRunner, engine: sa.Engine, tmp_path: Path) -> None:
    seed_db(engine, issues=0, dataset_version="1.2.0")
    assert json.loads(export_file(runner, engine, tmp_path / "e.json", "--format", "batch", "--datasets",
                                  "issues")) == []
    assert export_file(runner, engine, tmp_path / "e.jsonl", "--datasets", "issues") == b""


def test_time_window(runner: CliRunner, events_db: sa.Engine, tmp_path: Path) -> None:
    events = read_jsonl(export_file(runner, events_db, tmp_path / "e.jsonl", "--from", "2025-11-20T14:20:00Z",
                                    "--to", "2025-11-20T14:40:00Z"))
    lo, hi = parse_time("2025-11-20T14:20:00Z"), parse_time("2025-11-20T14:40:00Z")
    lo_ms, hi_ms = int(lo.timestamp() * 1000), int(hi.timestamp() * 1000)
    family = by_family(events)
    starts = {k for k, v in issues_in_db(events_db).items() if lo_ms <= v["start"] < hi_ms}
    assert starts, "the window should hold some issues"
    assert {e["subject"] for e in family["issue"]} == starts
    assert all(lo <= parse_time(e["time"]) < hi for e in events if not e["type"].endswith(".closed"))
    failed = rows(events_db, "SELECT result_id FROM synthetic_result WHERE status = 0 AND start_ms >= :a"
                             " AND start_ms < :b", a=lo_ms, b=hi_ms)
    assert sorted(e["data"]["testResultId"] for e in family["synthetic"]) == sorted(r.result_id for r in failed)
    # alerts are evaluated on whole windows inside --from/--to only
    assert family["alert"], "the window should hold some alerts"
    for event in family["alert"]:
        window = event["data"]["alert"]["window"]
        assert lo_ms <= window["from"] and window["to"] <= hi_ms
        assert event["data"].get("end", lo_ms) < hi_ms


def test_dry_run_writes_and_sends_nothing(runner: CliRunner, events_db: sa.Engine, tmp_path: Path) -> None:
    out = tmp_path / "e.jsonl"
    result = cli(runner, events_db, "--out", out, "--dry-run", "--json")
    assert result.exit_code == 0, result.output
    counts = json.loads(result.output)["counts"]
    assert set(counts) == _event_datasets("1.2.0") and counts["issues"] == len(issues_in_db(events_db))
    assert not out.exists()
    with http_sink() as sink:
        result = cli(runner, events_db, "--sink", sink.url, "--dry-run")
        assert result.exit_code == 0, result.output
    assert sink.requests == []


@pytest.mark.parametrize(("chosen", "read"), [
    ("issues", {"issues"}),
    ("alert_configs", {"alert_configs", "services", "metrics_timeseries"}),
    ("website_alert_configs,synthetic_runs", {"website_alert_configs", "website_config", "website_metrics",
                                              "synthetic_runs"}),
])
def test_alert_configs_bring_their_inputs(runner: CliRunner, events_db: sa.Engine, tmp_path: Path, chosen: str,
                                          read: set[str]) -> None:
    """--datasets names what yields events; the datasets alerts are evaluated on are read along."""
    result = cli(runner, events_db, "--out", tmp_path / "e.jsonl", "--datasets", chosen, "--json")
    assert result.exit_code == 0, result.output
    assert set(json.loads(result.output)["counts"]) == read
    events = read_jsonl((tmp_path / "e.jsonl").read_bytes()) if (tmp_path / "e.jsonl").stat().st_size else []
    datasets = {e["data"]["alert"]["configDataset"] for e in events if e["type"].startswith("com.apmseed.alert.")}
    assert datasets == set(chosen.split(",")) & set(ce.ALERT_INPUTS)


def test_out_is_a_directory(runner: CliRunner, events_db: sa.Engine, tmp_path: Path) -> None:
    (tmp_path / "keep").write_text("x")
    line = one_line_error(cli(runner, events_db, "--out", tmp_path))
    assert f"--out {tmp_path} is a directory" in line and "pass a file path" in line
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keep"]


def test_out_creates_missing_directories(runner: CliRunner, events_db: sa.Engine, tmp_path: Path) -> None:
    assert read_jsonl(export_file(runner, events_db, tmp_path / "a" / "b" / "e.jsonl"))


# -- HTTP sink -----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("mode", ["binary", "structured"])
def test_sink_receives_every_event_once(runner: CliRunner, events_db: sa.Engine, tmp_path: Path, mode: str) -> None:
    expected = read_jsonl(export_file(runner, events_db, tmp_path / "e.jsonl"))
    with http_sink() as sink:
        result = cli(runner, events_db, "--sink", sink.url, "--mode", mode, "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["requests"] == len(expected)
    assert {path for path, *_ in sink.requests} == {"/events"}
    received = []
    for headers, body in sink.accepted():
        if mode == "binary":
            assert headers["content-type"] == "application/json"
            assert headers["ce-specversion"] == "1.0" and headers["ce-id"] and headers["ce-dataschema"]
            assert not any(h in headers for h in ("ce-data", "ce-datacontenttype"))
        else:
            assert headers["content-type"].split(";")[0] == "application/cloudevents+json"
            assert not any(h.startswith("ce-") for h in headers)
        views = sdk_http(headers, body, mode)
        assert all(v == views[0] for v in views)
        received.append(views[0])
    assert Counter(v["id"] for v in received) == Counter(e["id"] for e in expected)  # each exactly once
    assert received == [expected_view(e) for e in expected]  # and in the file's order


def test_sink_retries_server_errors(runner: CliRunner, events_db: sa.Engine, delays: list[float]) -> None:
    with http_sink(lambda n: 503 if n < 2 else 202) as sink:
        result = cli(runner, events_db, "--sink", sink.url, "--json")
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output)
    assert summary["retries"] == 2 and delays == [0.5, 1.0]
    ids = [sdk_http(h, b, "binary")[0]["id"] for h, b in sink.accepted()]
    assert len(ids) == len(set(ids)) == summary["events"]
    assert len(sink.requests) == summary["events"] + 2


def test_sink_gives_up_after_three_tries(runner: CliRunner, events_db: sa.Engine, delays: list[float]) -> None:
    with http_sink(lambda n: 500) as sink:
        line = one_line_error(cli(runner, events_db, "--sink", sink.url))
    assert len(sink.requests) == 3 and delays == [0.5, 1.0]
    assert f"cannot deliver CloudEvents to {sink.url} after 3 tries: HTTP 500" in line
    assert "0 of" in line


@pytest.mark.parametrize("status", [400, 302])
def test_sink_rejection_is_not_retried(runner: CliRunner, events_db: sa.Engine, delays: list[float],
                                       status: int) -> None:
    with http_sink(lambda n: 202 if n < 3 else status) as sink:
        line = one_line_error(cli(runner, events_db, "--sink", sink.url, "--mode", "structured"))
    assert len(sink.requests) == 4 and delays == []
    assert "rejected CloudEvent" in line and f"HTTP {status}" in line and "3 of" in line
    if status == 400:
        assert "bad event" in line and "second line" not in line


def test_unreachable_sink(runner: CliRunner, events_db: sa.Engine, delays: list[float]) -> None:
    url = f"http://127.0.0.1:{free_port()}/events"
    line = one_line_error(cli(runner, events_db, "--sink", url))
    assert line.startswith(f"Error: cannot deliver CloudEvents to {url} after 3 tries: ")
    assert "refused" in line.lower() and "events delivered" in line
    assert delays == [0.5, 1.0]


# -- options (checked before any database is reached: the URL given here does not resolve) ---------------------
@pytest.mark.parametrize(("args", "message"), [
    ((), "pass exactly one of --out PATH and --sink URL"),
    (("--out", "e.jsonl", "--sink", "http://127.0.0.1:1/"), "pass exactly one of --out PATH and --sink URL"),
    (("--out", "e.jsonl", "--mode", "binary"), "--mode applies to --sink only"),
    (("--sink", "http://127.0.0.1:1/", "--format", "batch"), "--format applies to --out only"),
    (("--sink", "ftp://example.com/x"), "is not an http(s) URL"),
    (("--sink", "http://user:secret@/x"), "is not an http(s) URL"),
    (("--out", "e.jsonl", "--datasets", "issues,services"), "dataset(s) without CloudEvents: services"),
    (("--out", "e.jsonl", "--datasets", "metrics_timeseries"), "dataset(s) without CloudEvents: metrics_timeseries"),
])
def test_bad_options(runner: CliRunner, tmp_path: Path, args: tuple[str, ...], message: str) -> None:
    line = one_line_error(cli(runner, None, *args))
    assert message in line
    assert "secret" not in line


# -- the mapping, without a database ----------------------------------------------------------------------------
def _issue(entity_type: str, **extra: Any) -> dict[str, Any]:
    ids = {"APPLICATION": {"applicationId": "A" * 22}, "SERVICE": {"applicationId": "A" * 22, "serviceId": "f" * 40},
           "ENDPOINT": {"applicationId": "A" * 22, "endpointId": "E" * 27, "endpointServiceId": "f" * 40},
           "INFRASTRUCTURE": {"snapshotId": "S" * 27}}[entity_type]
    name = {"INFRASTRUCTURE": "Host"}.get(entity_type, entity_type.title())
    return {"eventId": "x" * 22, "type": "issue", "state": "open", "severity": 5, "start": 1_763_647_380_000,
            "problem": "p", "detail": "d", "fixSuggestion": "f", "entityType": entity_type, "entityName": name,
            "entityLabel": "l", **ids, **extra}


def test_issue_mapping() -> None:
    assert ce.rfc3339_ms(1_763_647_380_000) == "2025-11-20T14:03:00.000Z"
    assert ce.rfc3339_ms(1_763_647_380_007) == "2025-11-20T14:03:00.007Z"
    sources = {kind: ce.issue_events(_issue(kind))[0]["source"] for kind in ce.ENTITY_SOURCES}
    assert sources == {"APPLICATION": "/apmseed/applications/" + "A" * 22, "SERVICE": "/apmseed/services/" + "f" * 40,
                       "ENDPOINT": "/apmseed/endpoints/" + "E" * 27,
                       "INFRASTRUCTURE": "/apmseed/infrastructure/" + "S" * 27}
    closed = _issue("SERVICE", state="closed", end=1_763_647_500_000)
    opened_event, closed_event = ce.issue_events(closed)
    for event in (opened_event, closed_event):
        check_event(event)
    assert closed_event["data"] == closed and "end" not in opened_event["data"]
    assert ce.issue_events(_issue("SERVICE"))[0]["data"] == _issue("SERVICE")


def test_zero_length_issue_still_opens_first() -> None:
    """The database allows end == start; ids alone would sort `:closed` before `:opened`."""
    exporter = ce.CloudEventsExporter(ce.FileTarget(Path("unused.jsonl")))
    exporter.export(DATASETS["issues"], [_issue("APPLICATION", eventId="b" * 22, state="closed", end=1_763_647_380_000),
                                         _issue("APPLICATION", eventId="a" * 22)])
    assert [e["id"] for e in exporter.events()] == ["a" * 22 + ":opened", "b" * 22 + ":opened", "b" * 22 + ":closed"]


def test_unmapped_datasets_are_not_read() -> None:
    exporter = ce.CloudEventsExporter(ce.FileTarget(Path("unused.jsonl")))

    def records() -> Iterator[dict[str, Any]]:
        raise AssertionError("read")
        yield {}

    assert exporter.export(DATASETS["applications"], records()) == 0 and exporter.skipped == ["applications"]


def test_header_values_are_percent_encoded() -> None:
    assert ce.header_value('a b"c%d/é:1') == "a%20b%22c%25d/%C3%A9:1"
    headers, body = ce.binary_message(ce.issue_events(_issue("ENDPOINT"))[0])
    assert headers["Content-Type"] == "application/json" and json.loads(body) == _issue("ENDPOINT")
    assert headers["ce-time"] == "2025-11-20T14:03:00.000Z"


def test_every_type_ships_its_dataschema() -> None:
    assert set(ce.MAPPINGS) <= set(DATASETS), "a mapping for a dataset the registry does not know"
    assert {*ce.ALERT_INPUTS, *(d for inputs in ce.ALERT_INPUTS.values() for d in inputs)} <= set(DATASETS)
    assert not set(ce.MAPPINGS) & set(ce.ALERT_INPUTS)
    shipped = {p.name for p in (resources.files("apmseed") / "jsonschemas" / "cloudevents").iterdir()}
    assert shipped == {f"{t}.schema.json" for t in ce.EVENT_TYPES}
    for event_type in ce.EVENT_TYPES:
        assert TYPE_RE.match(event_type)
        schema = json.loads(ce.schema_resource(event_type).read_text())
        Draft202012Validator.check_schema(schema)
        assert schema["$id"] == ce.dataschema(event_type)


def test_spec_schema_rejects_bad_events() -> None:
    """The validators above are not vacuous."""
    good = ce.issue_events(_issue("SERVICE"))[0]
    SPEC.validate(good)
    for bad in ({k: v for k, v in good.items() if k != "id"}, {**good, "source": "/a b"},
                {**good, "time": "yesterday"}, {**good, "dataschema": "no scheme"}, {**good, "specversion": ""}):
        assert not SPEC.is_valid(bad), bad
    opened, closed = data_validator("com.apmseed.issue.opened"), data_validator("com.apmseed.issue.closed")
    assert opened.is_valid(good["data"]) and not closed.is_valid(good["data"])
    assert not opened.is_valid({**good["data"], "end": 1_763_647_500_000})
    assert not opened.is_valid({**good["data"], "state": "closed"})
    assert closed.is_valid({**good["data"], "state": "closed", "end": 1_763_647_500_000})
    assert not closed.is_valid({**good["data"], "state": "closed"})
    failed = data_validator("com.apmseed.synthetic.failed")
    run = {"testResultId": "r" * 22, "testId": "t" * 20, "startTime": 1_763_647_380_000,
           "testResultCommonProperties": {"id": "r" * 22, "testId": "t" * 20, "testName": "n", "clientId": "c",
                                          "locationId": "l" * 22, "locationDisplayLabel": "L", "runType": "Scheduled",
                                          "errors": ["timeout"]},
           "metrics": {"response_time": [[1_763_647_380_000, 5]], "response_size": [[1_763_647_380_000, 0]],
                       "status": [[1_763_647_380_000, 0]]}}
    assert failed.is_valid(run) and ce.synthetic_failure_events(run)[0]["data"] == run
    passed = {**run, "metrics": {**run["metrics"], "status": [[1_763_647_380_000, 1]]}}
    assert not failed.is_valid(passed) and ce.synthetic_failure_events(passed) == []


# -- alert triggers, without a database -------------------------------------------------------------------------
MINUTE = 60_000
ORIGIN = END_MS - 20 * MINUTE  # a 20-minute dataset window
APP, SVC = "A" * 22, "f" * 40
SLOWNESS = {"alertType": "slowness", "metricName": "latency", "aggregation": "P95"}


def _series(metric: str, aggregation: str, values: list[float | None], series_id: int = 1) -> dict[str, Any]:
    """A metrics_timeseries record of the service, one point a minute from ORIGIN (None: no point)."""
    pairs = [[ORIGIN + i * MINUTE, v] for i, v in enumerate(values) if v is not None]
    return {"entityType": "SERVICE", "service": {"id": SVC, "label": "cart", "entityType": "SERVICE"},
            "metricId": metric, "aggregation": aggregation, "seriesId": series_id, "granularity": 60,
            "metrics": {f"{metric}.{aggregation.lower()}.60": pairs}}


def _config(time_threshold: dict[str, Any], thresholds: dict[str, float] | None = None, operator: str = ">",
            rule: dict[str, Any] | None = None, **extra: Any) -> dict[str, Any]:
    """An application alert config on the service (the alert_configs.jsonl shape, as far as evaluation reads it)."""
    levels = thresholds or {"warning": 100}
    return {"id": "C" * 22, "name": "Slow calls on cart", "enabled": True, "granularity": MINUTE,
            "evaluationType": "PER_AP_SERVICE",
            "applications": {APP: {"applicationId": APP, "inclusive": False, "services": {
                SVC: {"serviceId": SVC, "inclusive": True, "endpoints": {}}}}},
            "rules": [{"rule": rule or SLOWNESS, "thresholdOperator": operator,
                       "thresholds": {k: {"type": "staticThreshold", "value": v} for k, v in levels.items()}}],
            "timeThreshold": time_threshold, **extra}


def _alerts(config: dict[str, Any], *series: dict[str, Any],
            window: tuple[int | None, int | None] = (None, None)) -> list[tuple[str, int, str]]:
    """(triggered/resolved, minute after ORIGIN, level) of every alert event, each event checked."""
    evaluator = ce.AlertEvaluator()
    evaluator.add("services", {"id": SVC, "label": "cart", "applicationIds": [APP]})
    for record in series:
        evaluator.add("metrics_timeseries", record)
    evaluator.add("alert_configs", config)
    events = evaluator.events({"end_time_ms": END_MS, "options": {"minutes": 20}, "export_window": window})
    for event in events:
        check_event(event)
        assert event["data"]["severity"] == {"warning": 5, "critical": 10}[event["data"]["alert"]["level"]]
    return [(e["type"].rsplit(".", 1)[1], (int(parse_time(e["time"]).timestamp() * 1000) - ORIGIN) // MINUTE,
             e["data"]["alert"]["level"]) for e in events]


SEQUENCE_3 = {"type": "violationsInSequence", "timeWindow": 3 * MINUTE}
SPIKES = [50, 150, 150, 150, 150, 50, 50, 150, 150, 150, 150, 50, 50, 50, 50, 50, 50, 50, 50, 50]


def test_alert_triggers_after_its_time_threshold_and_resolves() -> None:
    """Three violating windows in a row trigger at the third; the first window without the condition resolves."""
    assert _alerts(_config(SEQUENCE_3), _series("latency", "P95", SPIKES)) == [
        ("triggered", 3, "warning"), ("resolved", 5, "warning"),
        ("triggered", 9, "warning"), ("resolved", 11, "warning")]


def test_grace_period_keeps_the_alert_open() -> None:
    """5 minutes of grace: the gap at 5..8 is bridged; resolved 5 minutes after the condition last stopped."""
    config = _config(SEQUENCE_3, gracePeriod=5 * MINUTE)
    assert _alerts(config, _series("latency", "P95", SPIKES)) == [
        ("triggered", 3, "warning"), ("resolved", 16, "warning")]


def test_violations_in_period_and_request_impact() -> None:
    values = [50] * 20
    for i in (2, 4, 6):
        values[i] = 150
    period = _config({"type": "violationsInPeriod", "timeWindow": 5 * MINUTE, "violations": 3})
    assert _alerts(period, _series("latency", "P95", values)) == [
        ("triggered", 6, "warning"), ("resolved", 7, "warning")]

    values = [50] * 5 + [150] * 3 + [50] * 12
    impact = _config({"type": "requestImpact", "timeWindow": 3 * MINUTE, "requests": 250})
    calls = _series("calls", "SUM", [100] * 20, series_id=2)
    assert _alerts(impact, _series("latency", "P95", values), calls) == [
        ("triggered", 7, "warning"), ("resolved", 8, "warning")]
    assert _alerts(impact, _series("latency", "P95", values)) == []  # no calls series: nothing to count


def test_each_level_fires_on_its_own() -> None:
    values = [50] * 3 + [250] * 3 + [150] * 3 + [50] * 11
    config = _config({"type": "violationsInSequence", "timeWindow": MINUTE}, {"warning": 100, "critical": 200})
    assert sorted(_alerts(config, _series("latency", "P95", values)), key=lambda a: (a[2], a[1])) == [
        ("triggered", 3, "critical"), ("resolved", 6, "critical"),
        ("triggered", 3, "warning"), ("resolved", 9, "warning")]


def test_sum_rules_add_up_the_window_and_error_rates_divide() -> None:
    """5-minute windows: a throughput drop is the window's sum below the threshold; the error rate is the
    window's erroneous calls over its calls."""
    calls = [100] * 10 + [10] * 5 + [100] * 5
    throughput = _config({"type": "violationsInSequence", "timeWindow": 5 * MINUTE}, {"warning": 300}, "<",
                         {"alertType": "throughput", "metricName": "calls", "aggregation": "SUM"},
                         granularity=5 * MINUTE)
    assert _alerts(throughput, _series("calls", "SUM", calls)) == [("triggered", 10, "warning"),
                                                                    ("resolved", 15, "warning")]
    errors = [0] * 10 + [5] * 5 + [0] * 5  # 25 of 50 calls in window 2
    rate = _config({"type": "violationsInSequence", "timeWindow": 5 * MINUTE}, {"warning": 0.4}, ">",
                   {"alertType": "errorRate", "metricName": "errors", "aggregation": "MEAN"}, granularity=5 * MINUTE)
    evaluator_events = _alerts(rate, _series("calls", "SUM", calls), _series("erroneousCalls", "SUM", errors, 2))
    assert evaluator_events == [("triggered", 10, "warning"), ("resolved", 15, "warning")]


def test_missing_points_break_a_sequence() -> None:
    values: list[float | None] = [50, 150, 150, None, 150, 150, 150, 50] + [50] * 12
    assert _alerts(_config(SEQUENCE_3), _series("latency", "P95", values)) == [
        ("triggered", 6, "warning"), ("resolved", 7, "warning")]


@pytest.mark.parametrize("change", [
    {"thresholds": {"warning": 1000}},  # never crossed
    {"enabled": False},
    {"adaptive": True},
    {"timeThreshold": {"type": "userImpactOfViolationsInSequence", "timeWindow": 3 * MINUTE, "userPercentage": 0.1}},
])
def test_what_cannot_or_does_not_fire_emits_nothing(change: dict[str, Any]) -> None:
    config = _config(SEQUENCE_3, change.get("thresholds"))
    if change.get("adaptive"):
        config["rules"][0]["thresholds"] = {"warning": {"type": "adaptiveBaseline", "deviationFactor": 0.1}}
    config |= {k: v for k, v in change.items() if k in ("enabled", "timeThreshold")}
    assert _alerts(config, _series("latency", "P95", SPIKES)) == []


def test_a_time_window_evaluates_only_its_own_windows() -> None:
    window = (ORIGIN + 4 * MINUTE, ORIGIN + 10 * MINUTE)
    assert _alerts(_config(SEQUENCE_3), _series("latency", "P95", SPIKES), window=window) == [
        ("triggered", 9, "warning")]  # minutes 4..9 only: 4 violates alone, 7..9 three in a row, no resolution seen


def test_alert_configs_without_their_inputs_are_an_error() -> None:
    evaluator = ce.AlertEvaluator()
    evaluator.add("alert_configs", _config(SEQUENCE_3))
    with pytest.raises(ApmseedError, match="metrics_timeseries, services"):
        evaluator.events({"end_time_ms": END_MS, "options": {"minutes": 20}})
    # read but empty (a profile without series) is fine: nothing fires
    exporter = ce.CloudEventsExporter(ce.FileTarget(Path("unused.jsonl")))
    for name, records in (("services", []), ("metrics_timeseries", []), ("alert_configs", [_config(SEQUENCE_3)])):
        exporter.export(DATASETS[name], records)
    assert exporter.alerts is not None
    assert exporter.alerts.events({"end_time_ms": END_MS, "options": {"minutes": 20}}) == []


# -- alert triggers against PostgreSQL ---------------------------------------------------------------------------
FAMILY_DATASETS = {"APPLICATION": "alert_configs", "GLOBAL_APPLICATION": "global_alert_configs",
                   "INFRA": "infra_alert_configs"}
TIME_THRESHOLDS = ("violationsInSequence", "violationsInPeriod", "requestImpact")
OPERATORS: dict[str, Callable[[float, float], bool]] = {
    ">": lambda a, b: a > b, ">=": lambda a, b: a >= b, "<": lambda a, b: a < b, "<=": lambda a, b: a <= b}


@dataclass
class Watch:
    """One enabled config at one static threshold level, read from PostgreSQL, with the entities its scope
    names (keyed as the events name them)."""

    dataset: str
    config_id: str
    level: str
    rule: dict[str, Any]
    operator: str
    threshold: float
    granularity: int
    time_threshold: dict[str, Any]
    grace: int
    targets: list[dict[str, str]] = field(default_factory=list)

    def crosses(self, value: float) -> bool:
        return OPERATORS[self.operator](value, self.threshold)


def watches(conn: sa.Connection) -> tuple[list[Watch], set[str]]:
    """Every evaluable (config, level) with its targets, and the ids of the configs that cannot fire (disabled,
    baselines instead of static thresholds, user-impact time thresholds)."""
    out: list[Watch] = []
    idle: set[str] = set()

    def add(dataset: str, r: Any, rule: dict[str, Any], thresholds: dict[str, Any], grace: int,
            targets: list[dict[str, str]]) -> None:
        static = {k: v["value"] for k, v in thresholds.items() if v.get("type") == "staticThreshold"}
        if not r.enabled or not static or r.time_threshold["type"] not in TIME_THRESHOLDS:
            idle.add(r.id)
            return
        for level, value in static.items():
            out.append(Watch(dataset, r.id, level, rule, r.threshold_operator, value, r.granularity_ms,
                             r.time_threshold, grace, targets))

    def q(sql: str, **params: Any) -> list[Any]:
        return list(conn.execute(sa.text(sql), params))

    for r in q("SELECT * FROM alert_config ORDER BY id"):
        if r.family == "INFRA":
            sids = [r.snapshot_id] if r.snapshot_id else [x.snapshot_id for x in q(
                "SELECT snapshot_id FROM snapshot WHERE plugin = :p ORDER BY 1", p=r.rule["entityType"])]
            targets = [{"snapshotId": s} for s in sids]
        elif r.evaluation_type == "PER_AP":
            targets = [{"applicationId": x.application_id} for x in q(
                "SELECT application_id FROM alert_scope_application WHERE alert_config_id = :c AND inclusive", c=r.id)]
        elif r.evaluation_type == "PER_AP_SERVICE":
            targets = [{"applicationId": x.application_id, "serviceId": x.service_id} for x in q(
                "SELECT application_id, service_id FROM alert_scope_service WHERE alert_config_id = :c AND inclusive"
                " UNION SELECT a.application_id, m.service_id FROM alert_scope_application a"
                " JOIN application_service m USING (application_id) WHERE a.alert_config_id = :c AND a.inclusive",
                c=r.id)]
        else:
            targets = [{"applicationId": x.application_id, "endpointId": x.endpoint_id,
                        "endpointServiceId": x.service_id} for x in q(
                "SELECT application_id, service_id, endpoint_id FROM alert_scope_endpoint"
                " WHERE alert_config_id = :c AND inclusive", c=r.id)]
        add(FAMILY_DATASETS[r.family], r, r.rule, r.thresholds, r.grace_period_ms or 0, targets)
    for table, key, column, dataset in (("website_alert_config", "websiteId", "website_id", "website_alert_configs"),
                                        ("mobile_app_alert_config", "mobileAppId", "mobile_app_id",
                                         "mobile_alert_configs")):
        for r in q(f"SELECT * FROM {table} ORDER BY id"):
            thresholds = {k: {"type": "staticThreshold", "value": r._mapping[f"{k}_value"]}
                          for k in ("warning", "critical") if r._mapping[f"{k}_value"] is not None}
            rule = {"alertType": r.alert_type, "metricName": r.metric_id, "aggregation": r.aggregation}
            add(dataset, r, rule, thresholds, 0, [{key: r._mapping[column]}])
    return out, idle


ENTITY_COLUMNS = {"snapshotId": ("INFRASTRUCTURE", "snapshot_id"), "endpointId": ("ENDPOINT", "endpoint_id"),
                  "serviceId": ("SERVICE", "service_id"), "applicationId": ("APPLICATION", "application_id")}


def window_values(conn: sa.Connection, watch: Watch, target: dict[str, str], metric: str | None = None
                  ) -> dict[int, float]:
    """Window index -> the rule's value in that window, computed in SQL from the stored points: the sum for SUM
    rules, erroneous calls over calls for the error rate, else the worst point. `metric` overrides the rule
    (calls per window for requestImpact)."""
    rule = watch.rule
    aggregation = "SUM" if metric else rule["aggregation"]
    how = "sum" if aggregation == "SUM" else ("min" if watch.operator.startswith("<") else "max")
    params: dict[str, Any] = {"g": watch.granularity, "m": metric or rule["metricName"], "a": aggregation}
    params["o"] = conn.execute(sa.text("SELECT end_time_ms - (options->>'minutes')::bigint * 60000"
                                       " FROM apmseed_dataset")).scalar()
    if "websiteId" in target or "mobileAppId" in target:
        table, column = ("website_metric_point", "website_id") if "websiteId" in target else (
            "mobile_metric_point", "mobile_app_id")
        sql = (f"SELECT (ts_ms - :o) / :g w, {how}(value) v FROM {table} WHERE {column} = :e AND metric_id = :m"
               " AND aggregation = :a GROUP BY 1")
        params["e"] = next(iter(target.values()))
    else:
        key = next(k for k in ENTITY_COLUMNS if k in target)
        params["k"], column = ENTITY_COLUMNS[key]
        params["e"] = target[key]
        points = ("FROM metric_point p JOIN metric_series s USING (series_id)"
                  f" WHERE s.entity_kind = :k AND s.{column} = :e")
        if rule["alertType"] == "errorRate" and not metric:
            sql = ("SELECT w, e / c v FROM (SELECT (p.ts_ms - :o) / :g w,"
                   " sum(p.value) FILTER (WHERE s.metric_id = 'erroneousCalls') e,"
                   f" sum(p.value) FILTER (WHERE s.metric_id = 'calls') c {points} AND s.aggregation = 'SUM'"
                   " GROUP BY 1) x WHERE c > 0")
        else:
            sql = (f"SELECT (p.ts_ms - :o) / :g w, {how}(p.value) v {points} AND s.metric_id = :m"
                   " AND s.aggregation = :a GROUP BY 1")
    return {int(r.w): float(r.v) for r in conn.execute(sa.text(sql), params) if r.v is not None}


def holds(watch: Watch, values: dict[int, float], calls: dict[int, float], w: int) -> bool:
    """The time threshold at window `w`, from the windows of SQL."""
    span = max(1, watch.time_threshold["timeWindow"] // watch.granularity)
    violating = [i for i in range(w - span + 1, w + 1) if i in values and watch.crosses(values[i])]
    kind = watch.time_threshold["type"]
    if kind == "violationsInSequence":
        return len(violating) == span
    if kind == "violationsInPeriod":
        return len(violating) >= watch.time_threshold["violations"]
    return sum(calls.get(i, 0) for i in violating) >= watch.time_threshold["requests"]


def test_alert_triggers_cross_their_thresholds_in_postgres(runner: CliRunner, alerts_db: sa.Engine,
                                                            tmp_path: Path) -> None:
    """Every trigger: its window's value, computed in SQL from the stored points, crosses the config's threshold
    at the trigger time; the time threshold holds there and did not one window before. Every resolution: the
    time threshold held in no window of the grace period before it. Every config and entity whose condition
    ever holds triggers at the first such window; one whose threshold is never crossed emits nothing."""
    events = [e for e in read_jsonl(export_file(runner, alerts_db, tmp_path / "e.jsonl"))
              if e["type"].startswith("com.apmseed.alert.")]
    origin = END_MS - 120 * MINUTE  # the small profile's window
    pending: dict[tuple[str, str, tuple[tuple[str, str], ...]], list[dict[str, Any]]] = defaultdict(list)
    for event in events:
        check_event(event)
        data = event["data"]
        pending[(data["alert"]["configId"], data["alert"]["level"], tuple(sorted(
            (k, v) for k, v in data.items() if k.endswith("Id") and k not in ("eventId", "eventSpecificationId"))))
                ].append(event)
    fired: Counter[str] = Counter()
    never_crossed = 0
    with alerts_db.connect() as conn:
        found, idle = watches(conn)
        assert idle and not {e["data"]["alert"]["configId"] for e in events} & idle, "an idle config fired"
        for watch in found:
            g, windows = watch.granularity, 120 * MINUTE // watch.granularity
            crossed_somewhere = False
            for target in watch.targets:
                mine = pending.pop((watch.config_id, watch.level, tuple(sorted(target.items()))), [])
                values = {w: v for w, v in window_values(conn, watch, target).items() if w < windows}
                calls = window_values(conn, watch, target, "calls") if (
                    watch.time_threshold["type"] == "requestImpact") else {}
                crossed_somewhere |= any(watch.crosses(v) for v in values.values())
                onsets = [w for w in range(windows) if holds(watch, values, calls, w)
                          and not holds(watch, values, calls, w - 1)]
                triggers = []
                for event in mine:
                    data = event["data"]
                    assert data["alert"]["threshold"] == watch.threshold
                    assert data["alert"]["thresholdOperator"] == watch.operator and data["alert"]["granularity"] == g
                    if event["type"].endswith(".triggered"):
                        w, rest = divmod(data["start"] - origin, g)
                        assert rest == 0 and watch.crosses(values[w]), (watch, target, w)  # crossed at that time
                        assert data["alert"]["window"]["value"] == pytest.approx(values[w])
                        assert holds(watch, values, calls, w) and not holds(watch, values, calls, w - 1)
                        triggers.append(w)
                        fired[watch.dataset] += 1
                    else:
                        r = (data["end"] - origin) // g
                        assert not any(holds(watch, values, calls, v) for v in range(r - watch.grace // g, r + 1))
                assert set(triggers) <= set(onsets)
                assert (onsets[0] in triggers) if onsets else not triggers
            if not crossed_somewhere:
                never_crossed += 1
                assert not any(k[:2] == (watch.config_id, watch.level) for k in pending)
    assert not pending, f"events for no config/entity: {list(pending)[:3]}"
    assert set(fired) == set(ce.ALERT_INPUTS), "every config family should fire in the fixture"
    assert never_crossed, "the fixture should hold a config whose threshold is never crossed"
    kinds = {e["data"]["alert"]["timeThreshold"]["type"] for e in events}
    assert kinds == set(TIME_THRESHOLDS)
    assert any(e["type"].endswith(".resolved") and "gracePeriod" in e["data"]["alert"] for e in events)


def _set_thresholds(engine: sa.Engine, config_id: str, value: float) -> None:
    with engine.begin() as conn:
        thresholds = conn.execute(sa.text("SELECT thresholds FROM alert_config WHERE id = :c"), {"c": config_id}
                                  ).scalar_one()
        thresholds = {k: {**v, "value": value} for k, v in thresholds.items()}
        conn.execute(sa.text("UPDATE alert_config SET thresholds = CAST(:t AS jsonb) WHERE id = :c"),
                     {"t": json.dumps(thresholds), "c": config_id})


def test_a_threshold_never_crossed_emits_nothing(runner: CliRunner, engine: sa.Engine, tmp_path: Path) -> None:
    """The same config, with its thresholds moved above every value and then below every value."""
    seed_db(engine, issues=40, dataset_version="1.2.0")

    def alerts(name: str) -> list[dict[str, Any]]:
        return [e for e in read_jsonl(export_file(runner, engine, tmp_path / name, "--datasets", "alert_configs"))
                if e["type"].startswith("com.apmseed.alert.")]

    before = alerts("before.jsonl")
    config = next(e["data"]["alert"] for e in before if e["data"]["alert"]["thresholdOperator"] == ">"
                  and e["data"]["alert"]["timeThreshold"]["type"] == "violationsInSequence")
    mine = [e for e in before if e["data"]["alert"]["configId"] == config["configId"]]
    assert mine

    _set_thresholds(engine, config["configId"], 1e12)
    after = alerts("after.jsonl")
    assert [e for e in after if e["data"]["alert"]["configId"] == config["configId"]] == []
    assert after == [e for e in before if e not in mine]  # the other configs' alerts are untouched

    _set_thresholds(engine, config["configId"], -1.0)  # every window crosses: open from the first possible one
    always = [e for e in alerts("always.jsonl") if e["data"]["alert"]["configId"] == config["configId"]]
    first = END_MS - 60 * MINUTE + (config["timeThreshold"]["timeWindow"] // MINUTE - 1) * MINUTE
    assert always and {e["type"] for e in always} == {"com.apmseed.alert.triggered"}
    assert {e["data"]["start"] for e in always} == {first}
