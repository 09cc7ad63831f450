"""`apmseed export otlp`: OTLP/JSON files checked line by line against the OTLP/JSON rules and parsed strictly into
the opentelemetry-proto request messages; the mapping checked against the snapshot it came from; pushes checked by
real receivers: Jaeger v2 (traces, read back through its query API) and an OpenTelemetry Collector (OTLP receiver
+ file exporter: what it received must equal what was written). The receivers come from APMSEED_TEST_JAEGER_OTLP,
APMSEED_TEST_JAEGER_QUERY, APMSEED_TEST_OTLP_RECEIVER and APMSEED_TEST_OTLP_RECEIVER_OUT, else from
scripts/otel-services.sh (built from the Go module proxy); under CI=true a missing receiver fails the run."""

from __future__ import annotations

import base64
import gzip
import json
import os
import re
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.request
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from click.testing import CliRunner, Result
from google.protobuf import json_format
from google.protobuf.message import Message
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import ExportMetricsServiceRequest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)

from apmseed import catalog
from apmseed.exporters import otlp as otlp_module
from apmseed.exporters.snapshot import open_snapshot
from tests.conftest import END_MS, require_service, run_cli, seed_db, seeded_database

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "scripts" / "otel-services.sh"
SIGNALS = ("traces", "metrics", "logs")
REQUESTS: dict[str, type[Message]] = {"traces": ExportTraceServiceRequest, "metrics": ExportMetricsServiceRequest,
                                      "logs": ExportLogsServiceRequest}
TOP_KEYS = {"traces": "resourceSpans", "metrics": "resourceMetrics", "logs": "resourceLogs"}
SERVICE_ENV = ("APMSEED_TEST_JAEGER_OTLP", "APMSEED_TEST_JAEGER_QUERY", "APMSEED_TEST_OTLP_RECEIVER",
               "APMSEED_TEST_OTLP_RECEIVER_OUT")

# OTLP/JSON rules protobuf's JSON parser does not enforce (it takes base64 ids, names or numbers for enums,
# snake_case keys and bare numbers for 64-bit integers)
CAMEL_RE = re.compile(r"^[a-z][a-zA-Z0-9]*$")
HEX_IDS = {"traceId": re.compile(r"^[0-9a-f]{32}$"), "spanId": re.compile(r"^[0-9a-f]{16}$"),
           "parentSpanId": re.compile(r"^[0-9a-f]{16}$")}
INT64_KEYS = {"timeUnixNano", "startTimeUnixNano", "endTimeUnixNano", "observedTimeUnixNano", "asInt", "intValue",
              "count", "bucketCounts", "timeUnixNanoStart"}
ENUM_KEYS = {"kind", "code", "severityNumber", "aggregationTemporality"}
DIGITS_RE = re.compile(r"^-?[0-9]+$")
HTTP_SEMCONV = {"http.request.method", "http.route", "url.path", "url.scheme", "http.response.status_code"}


@pytest.fixture(autouse=True)
def _no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")


@pytest.fixture
def delays(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Backoff sleeps of the OTLP/HTTP sink, recorded instead of slept."""
    slept: list[float] = []
    monkeypatch.setattr(otlp_module, "sleep", slept.append)
    return slept


# -- helpers -------------------------------------------------------------------------------------------------
def rule_violations(node: Any, path: str = "$") -> list[str]:
    """Every place a decoded OTLP/JSON document breaks the rules protobuf's parser lets through."""
    out: list[str] = []
    if isinstance(node, dict):
        for key, value in node.items():
            where = f"{path}.{key}"
            if not CAMEL_RE.match(key):
                out.append(f"{where}: key is not lowerCamelCase")
            if key in HEX_IDS:
                if not isinstance(value, str) or not HEX_IDS[key].match(value) or set(value) == {"0"}:
                    out.append(f"{where}: {value!r} is not a valid lowercase hex id of the right length")
                continue
            if key in INT64_KEYS:
                values = value if isinstance(value, list) else [value]
                if not all(isinstance(v, str) and DIGITS_RE.match(v) for v in values):
                    out.append(f"{where}: {value!r}: 64-bit integers must be decimal strings")
                continue
            if key in ENUM_KEYS:
                if not isinstance(value, int) or isinstance(value, bool):
                    out.append(f"{where}: {value!r}: enums must be integers")
                continue
            out += rule_violations(value, where)
    elif isinstance(node, list):
        for i, value in enumerate(node):
            out += rule_violations(value, f"{path}[{i}]")
    return out


def hex_ids_to_base64(node: Any) -> Any:
    """OTLP/JSON ids are hex; protobuf's JSON mapping of `bytes` is base64."""
    if isinstance(node, dict):
        return {k: (base64.b64encode(bytes.fromhex(v)).decode() if k in HEX_IDS and isinstance(v, str)
                    else hex_ids_to_base64(v)) for k, v in node.items()}
    if isinstance(node, list):
        return [hex_ids_to_base64(v) for v in node]
    return node


def parse_line(signal: str, line: str | bytes) -> Message:
    """One line of an OTLP/JSON file: the rules first, then protobuf's strict parser (unknown keys fail)."""
    document = json.loads(line)
    violations = rule_violations(document)
    assert not violations, violations[:5]
    assert set(document) == {TOP_KEYS[signal]}, f"a {signal} line must be one Export*ServiceRequest"
    return json_format.Parse(json.dumps(hex_ids_to_base64(document)), REQUESTS[signal]())


def read_requests(directory: Path, signal: str) -> list[Message]:
    text = (directory / f"{signal}.jsonl").read_text()
    return [parse_line(signal, line) for line in text.splitlines()]


def attrs(key_values: Any) -> dict[str, Any]:
    """KeyValue list -> {key: python value} (arrays as lists)."""
    def value(v: Any) -> Any:
        kind = v.WhichOneof("value")
        if kind == "array_value":
            return [value(x) for x in v.array_value.values]
        return getattr(v, kind) if kind else None

    return {kv.key: value(kv.value) for kv in key_values}


def flatten(signal: str, requests: list[Message]) -> list[tuple[Any, Any, Any]]:
    """(resource, scope, item) for every span / metric / log record."""
    out = []
    for request in requests:
        if signal == "traces":
            for rs in request.resource_spans:
                for ss in rs.scope_spans:
                    out += [(rs.resource, ss.scope, span) for span in ss.spans]
        elif signal == "metrics":
            for rm in request.resource_metrics:
                for sm in rm.scope_metrics:
                    out += [(rm.resource, sm.scope, metric) for metric in sm.metrics]
        else:
            for rl in request.resource_logs:
                for sl in rl.scope_logs:
                    out += [(rl.resource, sl.scope, record) for record in sl.log_records]
    return out


def canonical(signal: str, requests: list[Message]) -> list[tuple[bytes, bytes, bytes]]:
    """Order-free comparable form: serialized (resource, scope, item) triples, sorted. An empty span status is
    the same as none (the Collector writes `"status":{}` for an unset one)."""
    out = []
    for resource, scope, item in flatten(signal, requests):
        if signal == "traces" and item.HasField("status") and not item.status.ByteSize():
            item = type(item).FromString(item.SerializeToString())
            item.ClearField("status")
        out.append((resource.SerializeToString(deterministic=True), scope.SerializeToString(deterministic=True),
                    item.SerializeToString(deterministic=True)))
    return sorted(out)


def export_otlp(runner: CliRunner, engine: sa.Engine, *args: str | Path) -> Result:
    return run_cli(runner, "export", "otlp", *args, "--database-url", engine.url.render_as_string(hide_password=False),
                   "-q")


def summary_of(result: Result) -> dict[str, Any]:
    assert result.exit_code == 0, result.output
    return json.loads(result.output.strip().splitlines()[-1])


def snapshot_records(engine: sa.Engine, dataset: str) -> list[dict[str, Any]]:
    with open_snapshot(engine) as snap:
        return list(snap.records(dataset))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# -- the files ------------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def tiny_db(server_url: str) -> Iterator[sa.Engine]:
    """One database seeded with the tiny profile, seed 7, for every test of this module (exports only read)."""
    with seeded_database(server_url, "totlp") as engine:
        yield engine


@pytest.fixture(scope="module")
def exported(tiny_db: sa.Engine, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    out = tmp_path_factory.mktemp("otlp") / "out"
    summary = summary_of(export_otlp(CliRunner(), tiny_db, "--out", out, "--json"))
    return out, summary


def test_every_line_is_a_strict_otlp_json_request(exported: tuple[Path, dict[str, Any]]) -> None:
    out, summary = exported
    assert sorted(p.name for p in out.iterdir()) == ["logs.jsonl", "metrics.jsonl", "traces.jsonl"]  # no temp
    for signal in SIGNALS:
        requests = read_requests(out, signal)
        assert requests, f"{signal}.jsonl is empty"
        assert len(requests) == summary["files"]["files"][f"{signal}.jsonl"]["requests"]
        for request in requests:
            assert request.ByteSize() > 0
        for resource, scope, item in flatten(signal, requests):
            assert resource.attributes, "every resource has attributes"
            assert scope.name == "apmseed" and scope.version
            if signal == "traces":
                assert len(item.trace_id) == 16 and len(item.span_id) == 8
                assert len(item.parent_span_id) in (0, 8)
                assert item.end_time_unix_nano >= item.start_time_unix_nano > 0
            if signal == "logs":
                assert len(item.trace_id) in (0, 16) and len(item.span_id) in (0, 8)
    spans = flatten("traces", read_requests(out, "traces"))
    assert len(spans) == summary["spans"]
    assert len({s.span_id for _, _, s in spans}) == len(spans), "span ids are unique"
    assert len(flatten("metrics", read_requests(out, "metrics"))) == summary["metrics"]
    assert len(flatten("logs", read_requests(out, "logs"))) == summary["logRecords"]
    assert summary["counts"]["calls"] > 0 and summary["counts"]["logs"] > 0


def test_same_snapshot_gives_byte_identical_files(runner: CliRunner, tiny_db: sa.Engine, tmp_path: Path) -> None:
    first = summary_of(export_otlp(runner, tiny_db, "--out", tmp_path / "a", "--json"))
    second = summary_of(export_otlp(runner, tiny_db, "--out", tmp_path / "b", "--json"))
    for name in ("traces.jsonl", "metrics.jsonl", "logs.jsonl"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name
        assert first["files"]["files"][name]["sha256"] == second["files"]["files"][name]["sha256"]


def test_calls_become_spans_with_current_semantic_conventions(exported: tuple[Path, dict[str, Any]],
                                                              tiny_db: sa.Engine) -> None:
    out, _ = exported
    calls = {c["id"]: c for c in snapshot_records(tiny_db, "calls")}
    services = {s["id"]: s for s in snapshot_records(tiny_db, "services")}
    spans = {s.span_id.hex(): (attrs(r.attributes), s) for r, _, s in flatten("traces", read_requests(out, "traces"))}
    expected_spans = 0
    for cid, call in calls.items():
        resource, span = spans[cid]  # the call's id is the span at its destination
        expected_spans += 1
        assert span.trace_id.hex() == "0" * 16 + call["traceId"]
        assert resource["service.name"] == call["destination"]["service"]["label"]
        assert resource["apmseed.service.id"] == call["destination"]["service"]["id"]
        assert "host.name" in resource and "apmseed.snapshot.id" in resource
        span_attrs = attrs(span.attributes)
        assert span_attrs["apmseed.call.id"] == cid
        assert span.name == call["name"]
        erroneous = call["errorCount"] > 0
        assert span.status.code == (2 if erroneous else 0)
        start, end = call["timestamp"] * 1_000_000, (call["timestamp"] + call["duration"]) * 1_000_000
        if "parentId" not in call:
            assert span.kind == 2 and span.parent_span_id == b""  # SERVER, root
            assert span.start_time_unix_nano == start and span.end_time_unix_nano == end
        else:
            assert call["destination"]["endpoint"]["type"] == "HTTP", "tiny has HTTP services only"
            expected_spans += 1
            client_resource, client = spans[span.parent_span_id.hex()]
            assert span.kind == 2 and client.kind == 3  # SERVER under CLIENT
            assert client.parent_span_id.hex() == call["parentId"]
            assert client.start_time_unix_nano == start and client.end_time_unix_nano == end
            assert client.start_time_unix_nano <= span.start_time_unix_nano <= span.end_time_unix_nano
            assert span.end_time_unix_nano <= client.end_time_unix_nano
            assert span.end_time_unix_nano - span.start_time_unix_nano == (
                call["duration"] - call.get("networkTime", 0)) * 1_000_000
            caller = calls[call["parentId"]]["destination"]["service"]
            assert client_resource["service.name"] == caller["label"]
            assert client_resource == spans[call["parentId"]][0], "the CLIENT span runs in its caller's process"
            client_attrs = attrs(client.attributes)
            assert client_attrs["server.address"] == call["destination"]["service"]["label"]
            assert client_attrs["url.full"].startswith(f"http://{client_attrs['server.address']}:")
            assert client_attrs["http.response.status_code"] == (500 if erroneous else 200)
            assert client.status.code == span.status.code
        method, route = call["name"].split(" ", 1)
        assert set(span_attrs) >= HTTP_SEMCONV
        assert span_attrs["http.request.method"] == method
        assert span_attrs["http.route"] == route
        assert span_attrs["url.path"].startswith("/") and "{" not in span_attrs["url.path"]
        assert span_attrs["http.response.status_code"] == (500 if erroneous else 200)
        if erroneous:
            assert span_attrs["error.type"] == "500"
    assert len(spans) == expected_spans
    assert {r["service.name"] for r, _ in spans.values()} <= {s["label"] for s in services.values()}


def test_data_store_and_broker_calls_become_client_producer_consumer_spans(runner: CliRunner, engine: sa.Engine,
                                                                           tmp_path: Path) -> None:
    # services 26..31 of the vocabulary are data stores and a broker; enough endpoints for each to be called
    seed_db(engine, "tiny", services=32, endpoints=96, entities=60)
    summary = summary_of(export_otlp(runner, engine, "--out", tmp_path / "o", "--datasets", "calls", "--json"))
    calls = {c["id"]: c for c in snapshot_records(engine, "calls")}
    types = {s["id"]: s["types"] for s in snapshot_records(engine, "services")}
    spans = {s.span_id.hex(): (attrs(r.attributes), s) for r, _, s in flatten("traces", read_requests(tmp_path / "o",
                                                                                                        "traces"))}
    seen: dict[str, int] = defaultdict(int)
    for cid, call in calls.items():
        kind_of_service = types[call["destination"]["service"]["id"]][0]
        resource, span = spans[cid]
        span_attrs = attrs(span.attributes)
        operation, target = call["name"].split(" ", 1)
        if kind_of_service == "HTTP":
            assert span.kind == 2
            continue
        seen[kind_of_service] += 1
        caller = calls[call["parentId"]]["destination"]["service"]["label"]
        assert resource["service.name"] == caller, "a data store or broker call is a span of its caller"
        assert span.parent_span_id.hex() == call["parentId"]
        assert span_attrs["server.address"] == call["destination"]["service"]["label"]
        if kind_of_service == "DATABASE":
            assert span.kind == 3  # CLIENT
            assert span_attrs["db.system.name"] in {"postgresql", "redis", "elasticsearch"}
            assert span_attrs["db.operation.name"] == operation
            if span_attrs["db.system.name"] != "redis":
                assert span_attrs["db.collection.name"] == target.split(" #")[0]
        else:
            assert kind_of_service == "MESSAGING"
            assert span.kind == (5 if operation == "consume" else 4)  # CONSUMER / PRODUCER
            assert span_attrs["messaging.system"] == "kafka"
            assert span_attrs["messaging.destination.name"] == target.split(" #")[0]
        assert span.status.code == (2 if call["errorCount"] else 0)
    assert seen["DATABASE"] > 0, "the seeded traces reach data stores"
    servers = sum(1 for c in calls.values() if types[c["destination"]["service"]["id"]][0] == "HTTP")
    clients = sum(1 for c in calls.values() if "parentId" in c)
    assert summary["spans"] == len(spans) == servers + clients


def test_metric_series_become_otlp_metrics(exported: tuple[Path, dict[str, Any]], tiny_db: sa.Engine) -> None:
    out, summary = exported
    series = snapshot_records(tiny_db, "metrics_timeseries")
    metrics = flatten("metrics", read_requests(out, "metrics"))
    assert len(metrics) == len(series) == summary["metrics"]
    by_resource: dict[tuple[tuple[str, Any], ...], dict[str, Any]] = defaultdict(dict)
    for resource, _, metric in metrics:
        key = tuple(sorted((k, str(v)) for k, v in attrs(resource.attributes).items()))
        assert metric.name not in by_resource[key], "one metric of a name per resource"
        by_resource[key][metric.name] = metric
    points = 0
    for record in series:
        kind, metric_id, aggregation = record["entityType"], record["metricId"], record["aggregation"]
        if kind == "INFRASTRUCTURE":
            wanted = {"apmseed.snapshot.id": record["snapshotId"]}
        elif kind == "SERVICE":
            wanted = {"service.name": record["service"]["label"], "apmseed.service.id": record["service"]["id"]}
        elif kind == "ENDPOINT":
            wanted = {"apmseed.endpoint.id": record["endpoint"]["id"]}
        else:
            wanted = {"apmseed.application.id": record["application"]["id"]}
        candidates = [m for key, names in by_resource.items() for name, m in names.items()
                      if all((k, str(v)) in key for k, v in wanted.items())
                      and name == otlp_module.metric_name(metric_id, aggregation)]
        assert len(candidates) == 1, (kind, metric_id, aggregation, wanted)
        metric = candidates[0]
        pairs = next(iter(record["metrics"].values()))
        step = record["granularity"] * 1_000_000_000
        if metric_id in catalog.COUNT_METRICS and aggregation == "SUM":
            assert metric.name == metric_id
            assert metric.WhichOneof("data") == "sum"
            assert metric.sum.aggregation_temporality == 1 and metric.sum.is_monotonic  # DELTA
            got = [(p.start_time_unix_nano, p.time_unix_nano, p.as_int) for p in metric.sum.data_points]
            assert got == [(t * 1_000_000, t * 1_000_000 + step, v) for t, v in pairs]
            assert metric.unit == "{call}"
        else:
            assert metric.name == f"{metric_id}.{aggregation.lower()}"
            assert metric.WhichOneof("data") == "gauge"
            got = [(p.time_unix_nano, p.as_double) for p in metric.gauge.data_points]
            assert got == [(t * 1_000_000 + step, float(v)) for t, v in pairs]
            assert metric.unit == ("ms" if metric_id == "latency" else "1")
        points += len(pairs)
    assert points == summary["dataPoints"]
    names = {m.name for _, _, m in metrics}
    assert {"calls", "erroneousCalls", "latency.p95", "latency.p50", "cpu.used.mean", "memory.used.mean"} <= names

    # infrastructure resources: the snapshot's host, and for a process running one service that service; the
    # same process has one resource across spans, logs and metrics
    snapshots = {s["snapshotId"]: s for s in snapshot_records(tiny_db, "infrastructure_entities")}
    runs: dict[str, list[str]] = defaultdict(list)
    for service in snapshot_records(tiny_db, "services"):
        for snapshot_id in service["snapshotIds"]:
            runs[snapshot_id].append(service["label"])
    elsewhere = {attrs(r.attributes)["apmseed.snapshot.id"]: attrs(r.attributes)
                 for signal in ("traces", "logs") for r, _, _ in flatten(signal, read_requests(out, signal))}
    infra = [attrs(r.attributes) for r, _, _ in metrics if "apmseed.snapshot.id" in attrs(r.attributes)]
    assert infra
    for resource in infra:
        snap = snapshots[resource["apmseed.snapshot.id"]]
        assert resource["host.name"] == snap["host"]
        if len(runs[snap["snapshotId"]]) == 1:
            assert resource["service.name"] == runs[snap["snapshotId"]][0]
            assert resource["process.pid"] == snap["data"]["process"]["pid"]
        else:
            assert "service.name" not in resource
        if snap["snapshotId"] in elsewhere:
            assert resource == elsewhere[snap["snapshotId"]]


def test_log_lines_become_log_records_linked_to_their_spans(exported: tuple[Path, dict[str, Any]],
                                                            tiny_db: sa.Engine) -> None:
    out, _ = exported
    lines = {r["logId"]: r for r in snapshot_records(tiny_db, "logs")}
    spans = {s.span_id: (attrs(r.attributes), s) for r, _, s in flatten("traces", read_requests(out, "traces"))}
    records = flatten("logs", read_requests(out, "logs"))
    assert len(records) == len(lines)
    severities = {"DEBUG": 5, "INFO": 9, "WARN": 13, "ERROR": 17}
    linked = 0
    for resource, _, record in records:
        res, rec = attrs(resource.attributes), attrs(record.attributes)
        line = lines[rec["apmseed.log.id"]]
        assert record.severity_text == line["log.level"]
        assert record.severity_number == severities[line["log.level"]]
        assert record.body.string_value == line["log.message"]
        assert record.time_unix_nano == line["log.timestamp"] * 1_000_000
        assert res["service.name"] == line["log.serviceName"]
        assert res["host.name"] == line["log.hostName"]
        assert res.get("container.id") == line.get("docker.containerId")
        assert rec["log.iostream"] == line["log.streamName"]
        if "log.exception.type" in line:
            assert rec["exception.type"] == line["log.exception.type"]
            assert rec["exception.message"] == line["log.exception.message"]
        if "log.traceId" in line:
            assert record.trace_id.hex() == "0" * 16 + line["log.traceId"]
            assert rec["apmseed.trace.id"] == line["log.traceId"]
        else:
            assert record.trace_id == b"" and record.span_id == b""
        if record.span_id:
            linked += 1
            span_resource, span = spans[record.span_id]  # the span exists, in the same trace and service
            assert span.trace_id == record.trace_id
            assert span_resource["service.name"] == res["service.name"]
            assert span.kind == 2
    assert linked >= sum(1 for line in lines.values() if "log.traceId" in line) * 0.9


def test_subsets_windows_and_older_datasets(runner: CliRunner, tiny_db: sa.Engine, tmp_path: Path) -> None:
    # logs alone: no trace in the export, so no traceId/spanId (Instana's id stays as an attribute)
    summary = summary_of(export_otlp(runner, tiny_db, "--out", tmp_path / "logs", "--datasets", "logs", "--json"))
    assert summary["spans"] == 0 and summary["metrics"] == 0 and summary["logRecords"] > 0
    assert (tmp_path / "logs" / "traces.jsonl").read_bytes() == b""
    records = flatten("logs", read_requests(tmp_path / "logs", "logs"))
    assert all(r.trace_id == b"" and r.span_id == b"" for _, _, r in records)
    assert any("apmseed.trace.id" in attrs(r.attributes) for _, _, r in records)

    # a window: everything still parses, every log's trace/span is in the export
    out = tmp_path / "window"
    summary = summary_of(export_otlp(runner, tiny_db, "--out", out, "--from", "2025-11-20T14:20:00Z",
                                     "--to", "2025-11-20T14:40:00Z", "--json"))
    lo, hi = (END_MS - 40 * 60_000) * 1_000_000, (END_MS - 20 * 60_000) * 1_000_000
    spans = flatten("traces", read_requests(out, "traces"))
    span_ids = {s.span_id for _, _, s in spans}
    assert spans and all(lo <= s.start_time_unix_nano < hi + 60_000_000_000 for _, _, s in spans)
    for _, _, metric in flatten("metrics", read_requests(out, "metrics")):
        points = metric.sum.data_points if metric.WhichOneof("data") == "sum" else metric.gauge.data_points
        assert points and all(lo <= p.start_time_unix_nano < hi for p in points)
    for _, _, record in flatten("logs", read_requests(out, "logs")):
        assert lo <= record.time_unix_nano < hi
        assert not record.span_id or record.span_id in span_ids
    assert summary["dataPoints"] > 0


def test_a_1_0_database_has_metrics_only(runner: CliRunner, engine: sa.Engine, tmp_path: Path) -> None:
    with engine.connect() as conn, conn.begin():
        from apmseed import profiles, seeding
        from apmseed.progress import Reporter

        seeding.seed(conn, profiles.resolve("tiny", {}), 7, END_MS, Reporter(False), dataset_version="1.0.0")
    summary = summary_of(export_otlp(runner, engine, "--out", tmp_path / "o", "--json"))
    assert summary["datasetVersion"] == "1.0.0"
    assert summary["spans"] == 0 and summary["logRecords"] == 0 and summary["metrics"] > 0
    assert (tmp_path / "o" / "traces.jsonl").read_bytes() == (tmp_path / "o" / "logs.jsonl").read_bytes() == b""
    assert read_requests(tmp_path / "o", "metrics")


@pytest.mark.parametrize(("args", "message"), [
    ((), "pass --out DIR, --endpoint URL, or both"),
    (("--out", "DIR", "--header", "a=b"), "--header applies to --endpoint only"),
    (("--endpoint", "ftp://x"), "is not an http(s) URL"),
    (("--endpoint", "http://127.0.0.1:9", "--header", "novalue"), "is not NAME=VALUE"),
    (("--out", "DIR", "--datasets", "issues"), "dataset(s) without an OTLP mapping: issues"),
    (("--out", "DIR", "--datasets", "nope"), "unknown dataset(s): nope"),
    (("--out", "FILE"), "is a file"),
])
def test_option_errors_are_one_line(runner: CliRunner, engine: sa.Engine, tmp_path: Path,
                                    args: tuple[str, ...], message: str) -> None:
    """Checked before the database is read (the database here is empty)."""
    (tmp_path / "FILE").write_text("x")
    real = [str(tmp_path / a) if a in ("DIR", "FILE") else a for a in args]
    result = export_otlp(runner, engine, *real)
    assert result.exit_code != 0
    assert message in result.output
    assert len(result.output.strip().splitlines()) == 1, result.output


# -- pushes to real receivers ---------------------------------------------------------------------------------
@pytest.fixture(scope="session")
def otel_services(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """The receivers: from the environment, else started (and built if need be) by scripts/otel-services.sh."""
    if all(os.environ.get(name) for name in SERVICE_ENV):
        yield {name: os.environ[name] for name in SERVICE_ENV}
        return
    directory = tmp_path_factory.mktemp("otel-services")
    try:
        proc = subprocess.run([str(SCRIPT), "start", str(directory)], capture_output=True, text=True, timeout=2400,
                              check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        require_service(f"OTLP receivers (Jaeger, OpenTelemetry Collector) could not be started: {exc}")
    if proc.returncode != 0:
        last = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        require_service(f"OTLP receivers (Jaeger, OpenTelemetry Collector) could not be started: {last}")
    env = dict(line.split("=", 1) for line in proc.stdout.splitlines() if "=" in line)
    missing = [name for name in SERVICE_ENV if name not in env]
    if missing:
        require_service(f"scripts/otel-services.sh printed no {', '.join(missing)}")
    try:
        yield env
    finally:
        subprocess.run([str(SCRIPT), "stop", str(directory)], capture_output=True, timeout=120, check=False)


def get_json(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=10) as response:
        return json.loads(response.read())


def jaeger_trace(query: str, trace_hex: str) -> dict[str, tuple[str, int, str, str]]:
    """span id -> (parent span id, kind, name, service.name) of one trace, read through Jaeger's API v3 (OTLP)."""
    try:
        document = get_json(f"{query}/api/v3/traces/{trace_hex}")
    except urllib.error.HTTPError as exc:
        if exc.code == 404:
            return {}
        raise
    out = {}
    for rs in document["result"]["resourceSpans"]:
        service = {a["key"]: a["value"].get("stringValue") for a in rs["resource"]["attributes"]}["service.name"]
        for ss in rs["scopeSpans"]:
            for span in ss["spans"]:
                out[span["spanId"]] = (span.get("parentSpanId", ""), span["kind"], span["name"], service)
    return out


def jaeger_kind(kind: Any) -> int:
    names = {"SPAN_KIND_SERVER": 2, "SPAN_KIND_CLIENT": 3, "SPAN_KIND_PRODUCER": 4, "SPAN_KIND_CONSUMER": 5}
    return names.get(kind, kind) if isinstance(kind, str) else int(kind)


def test_traces_pushed_to_jaeger_come_back_with_the_same_spans_and_parents(
        runner: CliRunner, tiny_db: sa.Engine, tmp_path: Path, otel_services: dict[str, str]) -> None:
    out = tmp_path / "pushed"
    endpoint = otel_services["APMSEED_TEST_JAEGER_OTLP"]
    summary = summary_of(export_otlp(runner, tiny_db, "--out", out, "--endpoint", endpoint,
                                     "--datasets", "calls,application_traces", "--json"))
    assert summary["push"]["requests"]["traces"] >= 1 and summary["push"]["retries"] == 0
    assert summary["push"]["requests"]["metrics"] == summary["push"]["requests"]["logs"] == 0
    sent: dict[str, dict[str, tuple[str, int, str, str]]] = defaultdict(dict)
    for resource, _, span in flatten("traces", read_requests(out, "traces")):
        sent[span.trace_id.hex()][span.span_id.hex()] = (
            span.parent_span_id.hex(), span.kind, span.name, attrs(resource.attributes)["service.name"])
    query = otel_services["APMSEED_TEST_JAEGER_QUERY"]
    deadline = time.monotonic() + 60
    pending = set(sent)
    while pending and time.monotonic() < deadline:
        for trace_hex in sorted(pending):
            got = jaeger_trace(query, trace_hex)
            if len(got) >= len(sent[trace_hex]):
                got = {k: (p, jaeger_kind(kind), n, s) for k, (p, kind, n, s) in got.items()}
                assert got == sent[trace_hex], trace_hex
                pending.discard(trace_hex)
        if pending:
            time.sleep(0.5)
    assert not pending, f"{len(pending)} of {len(sent)} traces did not come back from Jaeger"
    # the v1 API tells the same parent links, as CHILD_OF references
    some = sorted(sent)[0]
    v1 = get_json(f"{query}/api/traces/{some}")["data"][0]
    refs = {s["spanID"]: [r["spanID"] for r in s["references"] if r["refType"] == "CHILD_OF"] for s in v1["spans"]}
    assert refs == {k: ([p] if p else []) for k, (p, _, _, _) in sent[some].items()}
    services = get_json(f"{query}/api/services")["data"]
    assert {s for t in sent.values() for _, _, _, s in t.values()} <= set(services)


def read_received(path: Path, offset: int) -> dict[str, list[Message]]:
    """What the Collector's file exporter wrote after `offset`, by signal (the same OTLP/JSON, checked alike)."""
    out: dict[str, list[Message]] = {s: [] for s in SIGNALS}
    if not path.exists():
        return out
    with open(path, "rb") as fh:
        fh.seek(offset)
        data = fh.read()
    complete = data[: data.rfind(b"\n") + 1]
    for line in complete.splitlines():
        key = next(iter(json.loads(line)))
        signal = {v: k for k, v in TOP_KEYS.items()}[key]
        out[signal].append(parse_line(signal, line))
    return out


def test_push_to_an_opentelemetry_collector_delivers_exactly_what_the_files_hold(
        runner: CliRunner, tiny_db: sa.Engine, tmp_path: Path, otel_services: dict[str, str]) -> None:
    received_file = Path(otel_services["APMSEED_TEST_OTLP_RECEIVER_OUT"])
    offset = received_file.stat().st_size if received_file.exists() else 0
    out = tmp_path / "pushed"
    endpoint = otel_services["APMSEED_TEST_OTLP_RECEIVER"]
    summary = summary_of(export_otlp(runner, tiny_db, "--out", out, "--endpoint", endpoint, "--json"))
    for signal in SIGNALS:
        assert summary["push"]["requests"][signal] == summary["files"]["files"][f"{signal}.jsonl"]["requests"] > 0
    sent = {signal: canonical(signal, read_requests(out, signal)) for signal in SIGNALS}
    deadline = time.monotonic() + 60
    while True:
        received = read_received(received_file, offset)
        got = {signal: canonical(signal, received[signal]) for signal in SIGNALS}
        if all(len(got[s]) >= len(sent[s]) for s in SIGNALS) or time.monotonic() > deadline:
            break
        time.sleep(0.3)
    for signal in SIGNALS:
        assert len(got[signal]) == len(sent[signal]), signal
        assert got[signal] == sent[signal], f"the Collector received other {signal} than were written"


# -- the push's failure handling, against small real HTTP servers --------------------------------------------
@contextmanager
def otlp_server(answers: list[tuple[int, dict[str, str], bytes]]) -> Iterator[tuple[str, list[dict[str, Any]]]]:
    """An HTTP server answering POSTs with the given (status, headers, body) in turn (the last one repeats);
    yields its URL and the requests it got (path, headers, decompressed body)."""
    got: list[dict[str, Any]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            if self.headers.get("Content-Encoding") == "gzip":
                body = gzip.decompress(body)
            got.append({"path": self.path, "headers": dict(self.headers), "body": body})
            status, headers, answer = answers[min(len(got), len(answers)) - 1]
            self.send_response(status)
            for name, value in {"Content-Type": "application/x-protobuf", **headers}.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, *args: Any) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", got
    finally:
        server.shutdown()
        server.server_close()


def rpc_status(code: int, message: str) -> bytes:
    """A serialized google.rpc.Status (code = field 1, message = field 2)."""
    text = message.encode()
    return bytes([0x08, code, 0x12, len(text)]) + text


def test_push_retries_503_and_429_honouring_retry_after(runner: CliRunner, tiny_db: sa.Engine, tmp_path: Path,
                                                        delays: list[float]) -> None:
    answers = [(503, {"Retry-After": "2"}, b""), (429, {}, b""), (200, {}, b"")]
    with otlp_server(answers) as (url, got):
        summary = summary_of(export_otlp(runner, tiny_db, "--endpoint", url + "/", "--out", tmp_path / "o",
                                         "--datasets", "calls", "--header", "X-Api-Key=secret", "--json"))
    assert summary["push"]["retries"] == 2
    assert delays == [2.0, 1.0]  # Retry-After beats the first backoff (0.5 s); then 2 x 0.5 s
    assert [g["path"] for g in got] == ["/v1/traces"] * len(got)
    assert len(got) == 2 + summary["push"]["requests"]["traces"]
    first = got[0]["headers"]
    assert first["Content-Type"] == "application/x-protobuf" and first["Content-Encoding"] == "gzip"
    assert first["X-Api-Key"] == "secret"
    pushed = [ExportTraceServiceRequest.FromString(g["body"]) for g in got[2:]]
    assert canonical("traces", pushed) == canonical("traces", read_requests(tmp_path / "o", "traces"))


def test_push_gives_up_with_one_line_when_nothing_listens(runner: CliRunner, tiny_db: sa.Engine, tmp_path: Path,
                                                          delays: list[float]) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    result = export_otlp(runner, tiny_db, "--endpoint", url, "--out", tmp_path / "o")
    assert result.exit_code == 1
    line = result.output.strip()
    assert len(line.splitlines()) == 1
    assert f"cannot deliver OTLP metrics to {url}/v1/metrics after 5 tries" in line
    assert "refused" in line.lower() and "check that the receiver is running" in line
    assert delays == [0.5, 1.0, 2.0, 4.0]
    assert not (tmp_path / "o").exists() or not any((tmp_path / "o").iterdir()), "files are not published"


@pytest.mark.parametrize(("answer", "expected"), [
    ((400, {}, rpc_status(3, "bad span: invalid trace id")), "rejected traces with HTTP 400 Bad Request: bad span"),
    ((200, {}, ExportTraceServiceResponse(partial_success={"rejected_spans": 3, "error_message": "too old"})
      .SerializeToString()), "rejected 3 of"),
    ((404, {"Content-Type": "text/plain"}, b"404 page not found\n"), "HTTP 404 Not Found: 404 page not found"),
])
def test_push_rejections_stop_the_export_with_one_line(runner: CliRunner, tiny_db: sa.Engine, tmp_path: Path,
                                                       delays: list[float], answer: tuple[int, dict[str, str], bytes],
                                                       expected: str) -> None:
    with otlp_server([answer]) as (url, got):
        result = export_otlp(runner, tiny_db, "--endpoint", url, "--datasets", "calls")
    assert result.exit_code == 1
    assert len(result.output.strip().splitlines()) == 1, result.output
    assert expected in result.output
    assert len(got) == 1 and delays == []


def test_dry_run_counts_without_writing(runner: CliRunner, tiny_db: sa.Engine, tmp_path: Path) -> None:
    summary = summary_of(export_otlp(runner, tiny_db, "--out", tmp_path / "o", "--dry-run", "--json"))
    assert summary["dryRun"] is True and summary["counts"]["calls"] > 0
    assert not (tmp_path / "o").exists()

