"""`apmseed export cloudevents`: CloudEvents 1.0 as JSON Lines, as a JSON batch, and POSTed to an HTTP sink
(binary and structured mode), checked against the spec's JSON Schema, the shipped dataschemas and the official
CloudEvents SDK."""

from __future__ import annotations

import json
import re
import socket
import threading
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from http.server import BaseHTTPRequestHandler, HTTPServer
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from click.testing import CliRunner, Result
from jsonschema import Draft7Validator, Draft202012Validator, FormatChecker

from apmseed.cli.export_cloudevents import cloudevents
from apmseed.cli.main import export
from apmseed.exporters import cloudevents as ce
from apmseed.exporters.datasets import DATASETS
from tests.conftest import run_cli, seed_db

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
TIME_RE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
TYPE_RE = re.compile(r"^[a-z][a-z0-9]*(\.[a-z][a-z0-9_]*){2,}$")  # reverse-DNS
URI_REF_RE = re.compile(r"^(?:[A-Za-z0-9\-._~!$&'()*+,;=:@/?#\[\]]|%[0-9A-Fa-f]{2})+$")  # RFC 3986 characters
SOURCE_KEYS = {"applications": "applicationId", "services": "serviceId", "endpoints": "endpointId",
               "infrastructure": "snapshotId"}

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


@pytest.fixture
def events_db(engine: sa.Engine) -> sa.Engine:
    """The tiny profile with more issues: every entity type, open and closed ones. Dataset 1.2.0: the issues
    are then the only events (1.3.0 adds incidents, changes and releases, tested in test_v1_3)."""
    seed_db(engine, issues=40, dataset_version="1.2.0")
    return engine


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
    Draft202012Validator(ISSUE_SCHEMA).validate(data)  # still the Instana-shaped issues.jsonl record
    kind = event["type"].rsplit(".", 1)[1]
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
def test_every_event_is_valid(runner: CliRunner, events_db: sa.Engine, tmp_path: Path) -> None:
    events = read_jsonl(export_file(runner, events_db, tmp_path / "events.jsonl"))
    for event in events:
        check_event(event)
    issues = issues_in_db(events_db)
    closed = {k for k, v in issues.items() if v["state"] == "closed"}
    assert closed and closed != set(issues), "the fixture needs open and closed issues"
    kinds = Counter(e["type"] for e in events)
    assert kinds == {"com.apmseed.issue.opened": len(issues), "com.apmseed.issue.closed": len(closed)}
    assert {e["subject"] for e in events} == set(issues)
    for event in events:
        if event["type"].endswith(".opened"):  # the issue as it was when it opened
            assert event["data"]["state"] == "open" and "end" not in event["data"]
        else:
            assert event["data"]["state"] == "closed" and event["data"]["end"] == issues[event["subject"]]["end"]
    assert len({e["source"].split("/")[2] for e in events}) == 4, "every entity kind should appear"


def test_structured_lines_parse_with_the_sdk(runner: CliRunner, events_db: sa.Engine, tmp_path: Path) -> None:
    data = export_file(runner, events_db, tmp_path / "events.jsonl")
    lines = data.splitlines()
    assert lines
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
    assert events == sorted(events, key=lambda e: (e["time"], e["type"].endswith(".closed"), e["id"]))
    per_subject: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for event in events:
        per_subject[event["subject"]].append(event)
    for subject_events in per_subject.values():
        kinds = [e["type"].rsplit(".", 1)[1] for e in subject_events]
        assert kinds in (["opened"], ["opened", "closed"]), kinds
        assert [e["time"] for e in subject_events] == sorted(e["time"] for e in subject_events)


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


def test_json_summary(runner: CliRunner, events_db: sa.Engine, tmp_path: Path) -> None:
    result = cli(runner, events_db, "--out", tmp_path / "e.json", "--format", "batch", "--json")
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output)
    events = json.loads((tmp_path / "e.json").read_bytes())
    assert summary["events"] == len(events) and summary["counts"] == {"issues": len(issues_in_db(events_db))}
    assert summary["eventTypes"] == dict(Counter(e["type"] for e in events))
    assert summary["contentType"] == "application/cloudevents-batch+json"
    assert summary["bytes"] == (tmp_path / "e.json").stat().st_size


def test_empty_batch(runner: CliRunner, engine: sa.Engine, tmp_path: Path) -> None:
    seed_db(engine, issues=0, dataset_version="1.2.0")
    assert json.loads(export_file(runner, engine, tmp_path / "e.json", "--format", "batch")) == []
    assert export_file(runner, engine, tmp_path / "e.jsonl") == b""


def test_time_window(runner: CliRunner, events_db: sa.Engine, tmp_path: Path) -> None:
    events = read_jsonl(export_file(runner, events_db, tmp_path / "e.jsonl", "--from", "2025-11-20T14:20:00Z",
                                    "--to", "2025-11-20T14:40:00Z"))
    lo, hi = parse_time("2025-11-20T14:20:00Z"), parse_time("2025-11-20T14:40:00Z")
    starts = {k for k, v in issues_in_db(events_db).items() if lo.timestamp() * 1000 <= v["start"] < hi.timestamp()
              * 1000}
    assert starts, "the window should hold some issues"
    assert {e["subject"] for e in events} == starts
    assert all(lo <= parse_time(e["time"]) < hi for e in events if e["type"].endswith(".opened"))


def test_dry_run_writes_and_sends_nothing(runner: CliRunner, events_db: sa.Engine, tmp_path: Path) -> None:
    out = tmp_path / "e.jsonl"
    result = cli(runner, events_db, "--out", out, "--dry-run", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["counts"] == {"issues": len(issues_in_db(events_db))}
    assert not out.exists()
    with http_sink() as sink:
        result = cli(runner, events_db, "--sink", sink.url, "--dry-run")
        assert result.exit_code == 0, result.output
    assert sink.requests == []


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

    assert exporter.export(DATASETS["services"], records()) == 0 and exporter.skipped == ["services"]


def test_header_values_are_percent_encoded() -> None:
    assert ce.header_value('a b"c%d/é:1') == "a%20b%22c%25d/%C3%A9:1"
    headers, body = ce.binary_message(ce.issue_events(_issue("ENDPOINT"))[0])
    assert headers["Content-Type"] == "application/json" and json.loads(body) == _issue("ENDPOINT")
    assert headers["ce-time"] == "2025-11-20T14:03:00.000Z"


def test_every_type_ships_its_dataschema() -> None:
    assert set(ce.MAPPINGS) <= set(DATASETS), "a mapping for a dataset the registry does not know"
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
