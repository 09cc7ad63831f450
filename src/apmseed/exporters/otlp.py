"""OpenTelemetry (OTLP) from one snapshot: calls as spans, metric series as OTLP metrics, log lines as OTLP logs;
written as OTLP/JSON files (the OpenTelemetry Collector file exporter's layout) and/or pushed over OTLP/HTTP.

Every request is first built as a plain dict in OTLP/JSON form (lowerCamelCase keys, trace and span ids as hex,
enums as integers, 64-bit integers as decimal strings); a file line is that dict as JSON, a push converts it to
the protobuf message (`opentelemetry-proto`) and POSTs it gzip-compressed to {endpoint}/v1/{signal}.

Mapping:

- traces (dataset 1.3.0 `calls`, plus `application_traces` for the application of a trace): an Instana call is a
  span pair (exit at the caller, entry at the callee). The root call becomes one SERVER span; an HTTP call becomes
  a CLIENT span at the caller and a SERVER span at the callee, its child; a database call a CLIENT span, a
  messaging call a PRODUCER (publish) or CONSUMER (consume) span at the caller (data stores and brokers emit no
  spans of their own). The span standing for the call at its destination keeps the Instana call id as span id
  (so a call's children, whose Instana parent is that call, point at it); a CLIENT span in front of an HTTP
  SERVER span gets a derived id. Trace ids are Instana's 16-hex ids left-padded with zeros to 32 hex (what
  Instana itself does for W3C trace context).
- metrics (`metrics_timeseries`): one OTLP metric per series, named by the Instana metric id: the SUM of a count
  metric (`calls`, `erroneousCalls`) is a monotonic delta sum named by the metric id; every other series is a gauge
  named `<metricId>.<aggregation>` (`latency.p95`, `latency.mean`, `cpu.used.mean`). One point per Instana point,
  covering [t, t + granularity).
- logs (dataset 1.2.0 `logs`): severity number and text, body, `log.iostream`, `exception.*`; traceId and
  spanId only when the trace is part of the same export (the span is the call of the trace that reached the
  line's service, preferring the line's endpoint and the call running at the line's time).

Resources: a span, a log line and the infrastructure metrics of a process share one resource for the same
process (service.name, host.*, container.*, process.*, deployment.environment.name, k8s.* where known,
apmseed.snapshot.id = the Instana snapshot). Application, service and endpoint series get a resource of their
own (apmseed.application.id, service.name + apmseed.service.id, + apmseed.endpoint.id).

Deterministic: the same snapshot gives byte-identical files (no wall-clock time, ordered input, fixed batching).
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import http.client
import os
import re
import urllib.error
import urllib.request
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from time import sleep
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import orjson

from apmseed import __version__, catalog
from apmseed.errors import ApmseedError
from apmseed.exporters.base import Record
from apmseed.exporters.datasets_base import Dataset

SIGNALS = ("traces", "metrics", "logs")
FILE_NAMES = {"traces": "traces.jsonl", "metrics": "metrics.jsonl", "logs": "logs.jsonl"}
URL_PATHS = {"traces": "/v1/traces", "metrics": "/v1/metrics", "logs": "/v1/logs"}
SCOPE_NAME = "apmseed"

# datasets read only to describe resources, and the datasets that become signals
REFERENCE_DATASETS = ("infrastructure_entities", "applications", "services", "endpoints")
SIGNAL_DATASETS = {"metrics_timeseries": "metrics", "logs": "logs", "application_traces": "traces",
                   "calls": "traces"}
OTLP_DATASETS = (*REFERENCE_DATASETS, *SIGNAL_DATASETS)

# batching: one request (one file line, one POST) carries at most this many items; a trace is never split
SPANS_PER_REQUEST = 1000
POINTS_PER_REQUEST = 10_000
LOGS_PER_REQUEST = 1000

# enums (opentelemetry-proto), written as integers as OTLP/JSON requires
SPAN_KIND_SERVER, SPAN_KIND_CLIENT, SPAN_KIND_PRODUCER, SPAN_KIND_CONSUMER = 2, 3, 4, 5
STATUS_CODE_ERROR = 2
AGGREGATION_TEMPORALITY_DELTA = 1
SEVERITY_NUMBERS = {"TRACE": 1, "DEBUG": 5, "INFO": 9, "WARN": 13, "ERROR": 17, "FATAL": 21}

HTTP_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH"})
HTTP_PORT = 8080
# Instana technology of a data store / broker -> db.system.name / messaging.system
DB_SYSTEMS = {"postgreSqlDatabase": "postgresql", "mySqlDatabase": "mysql", "redisDatabase": "redis",
              "elasticsearchCluster": "elasticsearch", "mongoDbDatabase": "mongodb", "cassandraCluster": "cassandra"}
MESSAGING_SYSTEMS = {"kafkaCluster": "kafka", "rabbitMqCluster": "rabbitmq"}
UNITS = {"MILLIS": "ms", "PERCENTAGE": "1", "NUMBER": "1"}
COUNT_UNITS = {"calls": "{call}", "erroneousCalls": "{call}"}
K8S_KEYS = (("k8s.cluster.name", "kubernetes.cluster.name"), ("k8s.namespace.name", "kubernetes.namespace.name"),
            ("k8s.deployment.name", "kubernetes.deployment.name"), ("k8s.pod.name", "kubernetes.pod.name"),
            ("k8s.container.name", "kubernetes.container.name"), ("k8s.node.name", "kubernetes.node.name"))
PARAM_RE = re.compile(r"\{[^}/]*\}")
HEX16_RE = re.compile(r"^[0-9a-f]{16}$")
HEX32_RE = re.compile(r"^[0-9a-f]{32}$")

Json = dict[str, Any]
Attribute = tuple[str, Any]


# -- OTLP/JSON building blocks ----------------------------------------------------------------------------
def any_value(value: Any) -> Json:
    """An OTLP AnyValue in JSON form (int64 as a decimal string)."""
    if isinstance(value, bool):
        return {"boolValue": value}
    if isinstance(value, int):
        return {"intValue": str(value)}
    if isinstance(value, float):
        return {"doubleValue": value}
    if isinstance(value, (list, tuple)):
        return {"arrayValue": {"values": [any_value(v) for v in value]}}
    return {"stringValue": str(value)}


def attributes(pairs: Iterable[Attribute]) -> list[Json]:
    """KeyValue list; None and empty lists are left out."""
    return [{"key": k, "value": any_value(v)} for k, v in pairs if v is not None and v != [] and v != ()]


def nanos(epoch_ms: int | float) -> str:
    return str(int(epoch_ms) * 1_000_000)


def _digest(text: str, size: int) -> str:
    return hashlib.blake2b(text.encode(), digest_size=size).hexdigest()


def trace_id(instana_id: str) -> str:
    """32 hex: Instana's 64-bit trace ids left-padded with zeros (as Instana does for W3C trace context);
    anything else hashed."""
    value = instana_id.lower()
    if HEX16_RE.match(value) and value != "0" * 16:
        return "0" * 16 + value
    if HEX32_RE.match(value) and value != "0" * 32:
        return value
    return _digest(f"trace:{instana_id}", 16)


def span_id(instana_id: str) -> str:
    value = instana_id.lower()
    if HEX16_RE.match(value) and value != "0" * 16:
        return value
    return _digest(f"span:{instana_id}", 8)


def client_span_id(call_id: str) -> str:
    """The id of the CLIENT span in front of an HTTP call's SERVER span (which keeps the call id)."""
    return _digest(f"client:{call_id}", 8)


def scope(info: dict[str, Any]) -> Json:
    return {"name": SCOPE_NAME, "version": __version__,
            "attributes": attributes([("apmseed.dataset.version", info.get("dataset_version")),
                                      ("apmseed.seed", info.get("seed"))])}


def _tag(tags: list[str] | None, name: str) -> str | None:
    for tag in tags or ():
        key, sep, value = tag.partition(":")
        if sep and key == name:
            return value
    return None


# -- resources --------------------------------------------------------------------------------------------
@dataclass
class Directory:
    """What resources are built from: the reference datasets, and what the log lines tell about processes."""

    snapshots: dict[str, Record] = field(default_factory=dict)
    applications: dict[str, Record] = field(default_factory=dict)
    services: dict[str, Record] = field(default_factory=dict)
    endpoints: dict[str, Record] = field(default_factory=dict)
    k8s: dict[str, list[Attribute]] = field(default_factory=dict)  # process snapshot id -> k8s.* (from logs)
    _process_services: dict[str, list[str]] | None = None
    _containers: dict[str, str] | None = None
    _resources: dict[tuple[str | None, str | None, str | None], list[Json]] = field(default_factory=dict)

    def add_k8s(self, process_id: str, attrs: list[Attribute]) -> None:
        if attrs and process_id not in self.k8s:
            self.k8s[process_id] = attrs
            self._resources.clear()

    def process_services(self) -> dict[str, list[str]]:
        """process snapshot id -> ids of the services it runs."""
        if self._process_services is None:
            out: dict[str, list[str]] = defaultdict(list)
            for sid in sorted(self.services):
                for snap in self.services[sid].get("snapshotIds", []):
                    out[snap].append(sid)
            self._process_services = dict(out)
        return self._process_services

    def container_snapshot(self, container_id: str) -> str | None:
        if self._containers is None:
            self._containers = {s["data"]["container"]["id"]: sid for sid, s in sorted(self.snapshots.items())
                                if s.get("plugin") == "docker" and "id" in (s.get("data") or {}).get("container", {})}
        return self._containers.get(container_id)

    def chain(self, snapshot_id: str | None) -> list[Record]:
        """The snapshot and its ancestors (process -> container -> host)."""
        out: list[Record] = []
        seen = set()
        while snapshot_id and snapshot_id in self.snapshots and snapshot_id not in seen:
            seen.add(snapshot_id)
            snap = self.snapshots[snapshot_id]
            out.append(snap)
            snapshot_id = ((snap.get("data") or {}).get("parent") or {}).get("snapshotId")
        return out

    def service_attrs(self, service_id: str | None, label: str | None = None) -> list[Attribute]:
        if service_id is None:
            return []
        service = self.services.get(service_id)
        name = service["label"] if service else label
        return [("service.name", name), ("apmseed.service.id", service_id)]

    def infra_attrs(self, snapshot_id: str | None) -> list[Attribute]:
        """host.* / container.* / process.* / cloud.* / deployment.environment.name / k8s.* of a snapshot and its
        ancestors, then apmseed.snapshot.id (the snapshot itself)."""
        chain = self.chain(snapshot_id)
        if not chain:
            return [("apmseed.snapshot.id", snapshot_id)] if snapshot_id else []
        by_plugin = {s["plugin"]: s for s in reversed(chain)}
        attrs: list[Attribute] = []
        host = by_plugin.get("host")
        if host is not None:
            system = host["data"].get("system", {})
            network = host["data"].get("network", {})
            attrs += [("host.name", system.get("hostname") or host["label"]), ("host.type", system.get("instanceType")),
                      ("host.ip", [network["ip"]] if network.get("ip") else None),
                      ("os.type", system.get("os")), ("os.description", system.get("osVersion")),
                      ("cloud.region", network.get("region")),
                      ("cloud.availability_zone", network.get("availabilityZone"))]
        else:
            attrs.append(("host.name", chain[0].get("host")))
        docker = by_plugin.get("docker")
        if docker is not None:
            container = docker["data"].get("container", {})
            image, _, tag = (container.get("image") or "").rpartition(":")
            if not image:
                image, tag = tag, ""
            attrs += [("container.id", container.get("id")), ("container.name", container.get("name")),
                      ("container.image.name", image or None), ("container.image.tags", [tag] if tag else None),
                      ("container.runtime.name", container.get("runtime"))]
        process = by_plugin.get("process")
        if process is not None:
            proc = process["data"].get("process", {})
            executable, args = proc.get("executable"), proc.get("args")
            attrs += [("process.pid", proc.get("pid")), ("process.executable.path", executable),
                      ("process.command_line", " ".join(p for p in (executable, args) if p) or None),
                      ("process.owner", proc.get("user"))]
        attrs.append(("deployment.environment.name", _tag(chain[0].get("tags"), "env")))
        attrs += self.k8s.get(chain[0]["snapshotId"], [])
        attrs.append(("apmseed.snapshot.id", chain[0]["snapshotId"]))
        return attrs

    def process_resource(self, service_id: str | None, process_id: str | None, label: str | None = None
                         ) -> list[Json]:
        """The resource of a service running in a process (spans, logs, the process's metrics)."""
        key = (service_id, process_id, label)
        if key not in self._resources:
            self._resources[key] = attributes([*self.service_attrs(service_id, label), *self.infra_attrs(process_id)])
        return self._resources[key]

    def snapshot_resource(self, snapshot_id: str) -> list[Json]:
        """The resource of an infrastructure entity: a process running exactly one service carries that service,
        so its metrics share the resource of the service's spans and logs in it."""
        services = self.process_services().get(snapshot_id, [])
        return self.process_resource(services[0] if len(services) == 1 else None, snapshot_id)

    def service_processes(self, service_id: str) -> list[str]:
        service = self.services.get(service_id)
        return sorted(service.get("snapshotIds", [])) if service else []


class Batcher:
    """Items grouped into requests: resource -> one scope -> items, resources in first-seen order."""

    def __init__(self, signal: str, scope_json: Json, emit: Callable[[str, Json], None]) -> None:
        self.signal = signal
        self.scope = scope_json
        self.emit = emit
        self.resources: dict[bytes, tuple[list[Json], list[Json]]] = {}
        self.size = 0
        self.requests = 0

    def add(self, resource: list[Json], item: Json, weight: int = 1) -> None:
        key = orjson.dumps(resource)
        if key not in self.resources:
            self.resources[key] = (resource, [])
        self.resources[key][1].append(item)
        self.size += weight

    def flush(self) -> None:
        if not self.resources:
            return
        outer, inner, items_key = {"traces": ("resourceSpans", "scopeSpans", "spans"),
                                   "metrics": ("resourceMetrics", "scopeMetrics", "metrics"),
                                   "logs": ("resourceLogs", "scopeLogs", "logRecords")}[self.signal]
        request = {outer: [{"resource": {"attributes": resource}, inner: [{"scope": self.scope, items_key: items}]}
                           for resource, items in self.resources.values()]}
        self.resources = {}
        self.size = 0
        self.requests += 1
        self.emit(self.signal, request)


# -- traces -----------------------------------------------------------------------------------------------
def _http_parts(name: str) -> tuple[str | None, str]:
    method, _, rest = name.partition(" ")
    if method.upper() in HTTP_METHODS and rest.startswith("/"):
        return method.upper(), rest.split(" #")[0]
    return None, name


def _fill_route(route: str, call_id: str) -> str:
    """A concrete path for a templated route: every {param} becomes a number derived from the call id."""
    value = str(int(call_id[-6:], 16) % 9000 + 1000) if HEX16_RE.match(call_id) else "1"
    return PARAM_RE.sub(value, route)


def _technology(destination: Record) -> str | None:
    techs = destination.get("technologies") or []
    return techs[0] if techs else None


def call_category(call: Record, directory: Directory) -> str:
    """http | database | messaging | other, from the endpoint type, else the service's types/technology."""
    dest = call["destination"]
    ep_type = (dest.get("endpoint") or {}).get("type")
    service = directory.services.get(dest["service"]["id"]) or {}
    types = set(service.get("types", []))
    if ep_type:
        types.add(ep_type)
    tech = _technology(dest)
    if "DATABASE" in types or tech in DB_SYSTEMS:
        return "database"
    if "MESSAGING" in types or tech in MESSAGING_SYSTEMS:
        return "messaging"
    if "HTTP" in types or _http_parts(call["name"])[0]:
        return "http"
    return "other"


@dataclass
class TraceMapper:
    """Calls of one trace -> spans. Process choice: the process of a log line of the same trace and service when
    there is one (so logs and spans agree), else one of the service's processes picked by the call id."""

    directory: Directory
    log_processes: dict[tuple[str, str], str]  # (instana trace id, service id) -> process snapshot id
    applications: dict[str, str]  # instana trace id -> application id
    # filled while mapping, for the logs: (instana trace id, service id) -> [(start ms, end ms, span id, endpoint)]
    entry_spans: dict[tuple[str, str], list[tuple[int, int, str, str | None]]] = field(default_factory=dict)
    exported_traces: set[str] = field(default_factory=set)
    spans: int = 0

    def process_of(self, trace: str, service_id: str, call_id: str) -> str | None:
        chosen = self.log_processes.get((trace, service_id))
        if chosen is not None:
            return chosen
        processes = self.directory.service_processes(service_id)
        if not processes:
            return None
        return processes[int(_digest(call_id, 4), 16) % len(processes)]

    def map_trace(self, calls: list[Record]) -> Iterator[tuple[list[Json], Json]]:
        """(resource, span) pairs for one trace's calls."""
        by_id = {c["id"]: c for c in calls}
        where: dict[str, tuple[str, str | None]] = {}  # call id -> (service id, process) where the call landed
        for call in calls:  # parents first (the reader's order)
            dest = call["destination"]["service"]
            where[call["id"]] = (dest["id"], self.process_of(call["traceId"], dest["id"], call["id"]))
        trace = calls[0]["traceId"]
        self.exported_traces.add(trace)
        for call in calls:
            yield from self._spans(call, by_id, where)

    def _spans(self, call: Record, by_id: dict[str, Record], where: dict[str, tuple[str, str | None]]
               ) -> Iterator[tuple[list[Json], Json]]:
        trace, cid = call["traceId"], call["id"]
        dest = call["destination"]
        dst_service, dst_process = where[cid]
        endpoint = dest.get("endpoint") or {}
        start, duration = int(call["timestamp"]), int(call["duration"])
        network = int(call.get("networkTime") or 0)
        error = bool(call.get("errorCount"))
        parent_id = call.get("parentId")
        parent = by_id.get(parent_id) if parent_id else None
        category = call_category(call, self.directory)
        common = [("apmseed.call.id", cid), ("apmseed.endpoint.id", endpoint.get("id"))]
        if parent_id is None:
            common.append(("apmseed.application.id", self.applications.get(trace)))
        base = {"traceId": trace_id(trace)}
        label = dest["service"].get("label")

        if category in ("http", "other") or parent_id is None:
            method, route = _http_parts(call["name"])
            status = 500 if error else 200
            server_attrs: list[Attribute] = []
            if method is not None:
                server_attrs = [("http.request.method", method), ("http.route", route), ("url.scheme", "http"),
                                ("url.path", _fill_route(route, cid)), ("http.response.status_code", status)]
            if error:
                server_attrs.append(("error.type", str(status) if method else "_OTHER"))
            # the caller's side: a CLIENT span in the caller's process, unless this is the root call or the
            # caller is not part of the export (then the SERVER span points at the Instana parent call)
            server_parent = span_id(parent_id) if parent_id else None
            if parent is not None:
                src_service, src_process = where[parent["id"]]
                client_id = client_span_id(cid)
                client_attrs = [("server.address", label), ("server.port", HTTP_PORT), ("peer.service", label)]
                if method is not None:
                    client_attrs = [("http.request.method", method),
                                    ("url.full", f"http://{label}:{HTTP_PORT}{_fill_route(route, cid)}"),
                                    *client_attrs, ("http.response.status_code", status)]
                if error:
                    client_attrs.append(("error.type", str(status) if method else "_OTHER"))
                client = {**base, "spanId": client_id, "parentSpanId": span_id(parent["id"]), "name": call["name"],
                          "kind": SPAN_KIND_CLIENT, "startTimeUnixNano": nanos(start),
                          "endTimeUnixNano": nanos(start + duration),
                          "attributes": attributes([*client_attrs, *common])}
                if error:
                    client["status"] = {"code": STATUS_CODE_ERROR}
                yield self.directory.process_resource(src_service, src_process, None), client
                self.spans += 1
                server_parent = client_id
            own_start = start + network // 2
            server = {**base, "spanId": span_id(cid)}
            if server_parent is not None:
                server["parentSpanId"] = server_parent
            server |= {"name": call["name"], "kind": SPAN_KIND_SERVER, "startTimeUnixNano": nanos(own_start),
                       "endTimeUnixNano": nanos(own_start + duration - network),
                       "attributes": attributes([*server_attrs, *common])}
            if error:
                server["status"] = {"code": STATUS_CODE_ERROR}
            yield self.directory.process_resource(dst_service, dst_process, label), server
            self.spans += 1
            self.entry_spans.setdefault((trace, dst_service), []).append(
                (own_start, own_start + duration - network, span_id(cid), endpoint.get("id")))
            return

        # a data store or a broker: one span at the caller, carrying the call id
        tech = _technology(dest)
        operation, _, target = call["name"].partition(" ")
        target = target.split(" #")[0]
        if category == "database":
            system = DB_SYSTEMS.get(tech or "", (tech or "other_sql").lower())
            kind = SPAN_KIND_CLIENT
            attrs: list[Attribute] = [("db.system.name", system), ("db.system", system),
                                      ("db.operation.name", operation)]
            if system != "redis" and target:
                attrs.append(("db.collection.name", target))
        else:
            system = MESSAGING_SYSTEMS.get(tech or "", (tech or "other").lower())
            consume = operation.lower() in ("consume", "receive", "process")
            kind = SPAN_KIND_CONSUMER if consume else SPAN_KIND_PRODUCER
            attrs = [("messaging.system", system), ("messaging.operation.type", "process" if consume else "send"),
                     ("messaging.operation.name", operation), ("messaging.destination.name", target or None)]
        attrs += [("server.address", label), ("peer.service", label)]
        if error:
            attrs.append(("error.type", "_OTHER"))
        span = {**base, "spanId": span_id(cid), "parentSpanId": span_id(parent_id), "name": call["name"],
                "kind": kind, "startTimeUnixNano": nanos(start), "endTimeUnixNano": nanos(start + duration),
                "attributes": attributes([*attrs, *common])}
        if error:
            span["status"] = {"code": STATUS_CODE_ERROR}
        if parent is not None:
            src_service, src_process = where[parent["id"]]
            resource = self.directory.process_resource(src_service, src_process, None)
        else:  # the caller is outside the export (cut off by --from/--to): OTel's name for an unknown service
            resource = attributes([("service.name", "unknown_service")])
        yield resource, span
        self.spans += 1


# -- metrics ----------------------------------------------------------------------------------------------
_METRIC_DEFS = {m["metric_id"]: m for m in (*catalog.TRAFFIC_METRICS, *catalog.INFRA_METRICS)}


def metric_name(metric_id: str, aggregation: str) -> str:
    """The OTLP metric name of an Instana series: `calls` for the SUM of a count metric (a delta sum), else
    `<metricId>.<aggregation>` in lower case (`latency.p95`, `cpu.used.mean`)."""
    if aggregation == "SUM" and metric_id in catalog.COUNT_METRICS:
        return metric_id
    return f"{metric_id}.{aggregation.lower()}"


def metric_unit(metric_id: str, aggregation: str) -> str:
    definition = _METRIC_DEFS.get(metric_id)
    if metric_id in COUNT_UNITS:
        return COUNT_UNITS[metric_id] + ("/s" if aggregation == "PER_SECOND" else "")
    return UNITS.get(definition["unit"], "1") if definition else "1"


def series_metric(record: Record) -> Json:
    """One Instana series as one OTLP metric (its points in time order)."""
    metric_id, aggregation = record["metricId"], record["aggregation"]
    step_ms = int(record["granularity"]) * 1000
    pairs = next(iter(record["metrics"].values()), [])
    definition = _METRIC_DEFS.get(metric_id)
    what = definition["description"] if definition else metric_id
    description = f"{what} ({aggregation} per {record['granularity']} s)"
    metric: Json = {"name": metric_name(metric_id, aggregation), "description": description,
                    "unit": metric_unit(metric_id, aggregation)}
    if aggregation == "SUM" and metric_id in catalog.COUNT_METRICS:
        points = [{"startTimeUnixNano": nanos(t), "timeUnixNano": nanos(t + step_ms), "asInt": str(int(v))}
                  for t, v in pairs]
        metric["sum"] = {"dataPoints": points, "aggregationTemporality": AGGREGATION_TEMPORALITY_DELTA,
                         "isMonotonic": True}
    else:
        points = [{"startTimeUnixNano": nanos(t), "timeUnixNano": nanos(t + step_ms), "asDouble": float(v)}
                  for t, v in pairs]
        metric["gauge"] = {"dataPoints": points}
    return metric


def series_resource(record: Record, directory: Directory) -> list[Json]:
    kind = record["entityType"]
    if kind == "INFRASTRUCTURE":
        return directory.snapshot_resource(record["snapshotId"])
    if kind == "APPLICATION":
        app = record["application"]
        return attributes([("apmseed.application.id", app["id"]), ("apmseed.application.name", app["label"])])
    if kind == "SERVICE":
        service = record["service"]
        return attributes(directory.service_attrs(service["id"], service["label"]))
    endpoint = record["endpoint"]
    return attributes([*directory.service_attrs(endpoint["serviceId"]), ("apmseed.endpoint.id", endpoint["id"]),
                       ("apmseed.endpoint.name", endpoint["label"]), ("apmseed.endpoint.type", endpoint.get("type"))])


# -- logs -------------------------------------------------------------------------------------------------
def log_process(record: Record, directory: Directory) -> str | None:
    """The process snapshot a log line came from: the service's process in the line's container (or on its
    host when it runs in no container)."""
    processes = directory.service_processes(record["log.serviceId"])
    container = record.get("docker.containerId")
    if container is not None:
        docker = directory.container_snapshot(container)
        for pid in processes:
            if docker is not None and ((directory.snapshots[pid].get("data") or {}).get("parent") or {}).get(
                    "snapshotId") == docker:
                return pid
    host_id = record.get("log.hostId")
    for pid in processes:
        chain = directory.chain(pid)
        if container is None and chain and chain[-1]["snapshotId"] == host_id:
            return pid
    return None


def log_fallback_attrs(record: Record) -> list[Attribute]:
    """Resource attributes straight from the log line, when the infrastructure is not part of the export."""
    pid = record.get("log.processId")
    return [("host.name", record.get("log.hostName")), ("container.id", record.get("docker.containerId")),
            ("container.name", record.get("docker.containerName")),
            ("process.pid", int(pid) if pid and str(pid).isdigit() else None)]


def k8s_attrs(record: Record) -> list[Attribute]:
    return [(key, record[src]) for key, src in K8S_KEYS if record.get(src) is not None]


def pick_span(spans: list[tuple[int, int, str, str | None]], ts: int, endpoint: str | None) -> str:
    """The span a log line belongs to: same endpoint first, then the one running at the line's time, then the
    nearest in time, then the smallest id."""
    def key(s: tuple[int, int, str, str | None]) -> tuple[int, int, str]:
        distance = 0 if s[0] <= ts <= s[1] else min(abs(ts - s[0]), abs(ts - s[1]))
        return (0 if endpoint is not None and s[3] == endpoint else 1, distance, s[2])

    return min(spans, key=key)[2]


def log_record(record: Record, span: str | None, exported_trace: bool) -> Json:
    level = str(record.get("log.level") or "INFO").upper()
    ts = nanos(record["log.timestamp"])
    instana_trace = record.get("log.traceId")
    item: Json = {"timeUnixNano": ts, "observedTimeUnixNano": ts,
                  "severityNumber": SEVERITY_NUMBERS.get(level, SEVERITY_NUMBERS["INFO"]), "severityText": level,
                  "body": {"stringValue": record["log.message"]},
                  "attributes": attributes([
                      ("log.iostream", record.get("log.streamName")),
                      ("exception.type", record.get("log.exception.type")),
                      ("exception.message", record.get("log.exception.message")),
                      ("apmseed.log.id", record.get("logId")), ("apmseed.trace.id", instana_trace),
                      ("apmseed.endpoint.id", record.get("endpointId")), ("apmseed.event.id", record.get("eventId")),
                      ("apmseed.application.ids", list(record.get("log.applications") or []))])}
    if instana_trace and exported_trace:
        item["traceId"] = trace_id(instana_trace)
        if span is not None:
            item["spanId"] = span
    return item


# -- OTLP/JSON -> protobuf --------------------------------------------------------------------------------
def request_classes() -> dict[str, Any]:
    try:
        from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
        from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import ExportMetricsServiceRequest
        from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
    except ImportError:
        raise ApmseedError("pushing OTLP needs the opentelemetry-proto package",
                           "install it with `pip install 'apmseed[otlp]'` (or write files with --out)") from None
    return {"traces": ExportTraceServiceRequest, "metrics": ExportMetricsServiceRequest,
            "logs": ExportLogsServiceRequest}


def to_protobuf(signal: str, request: Json, classes: dict[str, Any] | None = None) -> Any:
    """The protobuf request message of an OTLP/JSON request dict, built field by field (protobuf's generic
    json_format is some ten times slower, and it reads ids as base64)."""
    message = (classes or request_classes())[signal]()
    _fill(message, request)
    return message


_FieldInfo = tuple[str, bool, bool, str]  # (field name, repeated, message, scalar kind: hex|b64|int|plain)
_FIELDS: dict[str, dict[str, _FieldInfo]] = {}
_HEX_FIELDS = frozenset({"trace_id", "span_id", "parent_span_id"})


def _fields(descriptor: Any) -> dict[str, _FieldInfo]:
    fields = _FIELDS.get(descriptor.full_name)
    if fields is None:
        from google.protobuf.descriptor import FieldDescriptor as F

        ints = {F.TYPE_INT64, F.TYPE_UINT64, F.TYPE_FIXED64, F.TYPE_SFIXED64, F.TYPE_SINT64}
        fields = {}
        for fd in descriptor.fields:
            if fd.type == F.TYPE_BYTES:
                kind = "hex" if fd.name in _HEX_FIELDS else "b64"
            else:
                kind = "int" if fd.type in ints else "plain"
            repeated = fd.is_repeated if hasattr(fd, "is_repeated") else fd.label == F.LABEL_REPEATED
            info = (fd.name, repeated, fd.type == F.TYPE_MESSAGE, kind)
            fields[fd.json_name] = fields[fd.name] = info
        _FIELDS[descriptor.full_name] = fields
    return fields


def _scalar(kind: str, value: Any) -> Any:
    if kind == "hex":
        return bytes.fromhex(value)
    if kind == "b64":
        return base64.b64decode(value)
    if kind == "int":
        return int(value)
    return value


def _fill(message: Any, data: Json) -> None:
    fields = _fields(message.DESCRIPTOR)
    for key, value in data.items():
        name, repeated, is_message, kind = fields[key]
        if is_message:
            if repeated:
                container = getattr(message, name)
                for item in value:
                    _fill(container.add(), item)
            else:
                child = getattr(message, name)
                child.SetInParent()
                _fill(child, value)
        elif repeated:
            getattr(message, name).extend(_scalar(kind, v) for v in value)
        else:
            setattr(message, name, _scalar(kind, value))


def response_classes() -> dict[str, Any]:
    from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceResponse
    from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import ExportMetricsServiceResponse
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceResponse

    return {"traces": (ExportTraceServiceResponse, "rejected_spans"),
            "metrics": (ExportMetricsServiceResponse, "rejected_data_points"),
            "logs": (ExportLogsServiceResponse, "rejected_log_records")}


# -- destinations -----------------------------------------------------------------------------------------
def dumps(request: Json) -> bytes:
    return orjson.dumps(request)


def redact(url: str) -> str:
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = f"{parts.username}:***@{parts.hostname or ''}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))


class FileSink:
    """traces.jsonl, metrics.jsonl and logs.jsonl under one directory (the Collector file exporter's format: one
    Export*ServiceRequest in OTLP/JSON a line), written under temporary names and renamed at the end."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._files: dict[str, Any] = {}
        self._tmp: dict[str, Path] = {}
        self._digests = {s: hashlib.sha256() for s in SIGNALS}
        self._sizes = dict.fromkeys(SIGNALS, 0)
        self._lines = dict.fromkeys(SIGNALS, 0)

    def check(self) -> None:
        if self.directory.exists() and not self.directory.is_dir():
            raise ApmseedError(f"--out {self.directory} is a file", "pass a directory for the three .jsonl files")
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            for signal in SIGNALS:
                tmp = self.directory / f".{FILE_NAMES[signal]}.tmp-{os.getpid()}"
                self._tmp[signal] = tmp
                self._files[signal] = open(tmp, "wb", buffering=1 << 20)  # noqa: SIM115 - closed in publish/discard
        except OSError as exc:
            self.discard()
            raise ApmseedError(f"cannot write to {self.directory}: {exc.strerror}",
                               "pass a writable directory for --out") from None

    def send(self, signal: str, request: Json) -> None:
        line = dumps(request) + b"\n"
        try:
            self._files[signal].write(line)
        except OSError as exc:
            raise ApmseedError(f"cannot write {self.directory / FILE_NAMES[signal]}: {exc.strerror}",
                               "free disk space or pick another --out directory") from None
        self._digests[signal].update(line)
        self._sizes[signal] += len(line)
        self._lines[signal] += 1

    def publish(self) -> dict[str, Any]:
        try:
            for signal in SIGNALS:
                self._files.pop(signal).close()
            for signal in SIGNALS:
                os.replace(self._tmp[signal], self.directory / FILE_NAMES[signal])
        except OSError as exc:
            self.discard()
            raise ApmseedError(f"cannot write to {self.directory}: {exc.strerror}",
                               "free disk space or pick another --out directory") from None
        self._tmp = {}
        return {"directory": str(self.directory),
                "files": {FILE_NAMES[s]: {"signal": s, "requests": self._lines[s], "bytes": self._sizes[s],
                                          "sha256": self._digests[s].hexdigest()} for s in SIGNALS}}

    def discard(self) -> None:
        for fh in self._files.values():
            fh.close()
        self._files = {}
        for tmp in self._tmp.values():
            tmp.unlink(missing_ok=True)
        self._tmp = {}


class HttpSink:
    """OTLP/HTTP with binary protobuf bodies, gzip-compressed: POST {endpoint}/v1/traces|metrics|logs. Connection
    errors, timeouts, 429 and 5xx are retried with exponential backoff (a Retry-After of up to 30 s is honoured);
    any other answer but 2xx, or a partial success that rejected items, stops the export."""

    def __init__(self, endpoint: str, *, tries: int = 5, backoff: float = 0.5, timeout: float = 10.0,
                 headers: dict[str, str] | None = None) -> None:
        parts = urlsplit(endpoint)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ApmseedError(f"--endpoint {redact(endpoint)!r} is not an http(s) URL",
                               "pass the receiver's OTLP/HTTP base URL, e.g. http://127.0.0.1:4318")
        self.endpoint = endpoint.rstrip("/")
        for path in URL_PATHS.values():  # a signal URL given as the base: use its base
            if self.endpoint.endswith(path):
                self.endpoint = self.endpoint[: -len(path)]
        self.tries, self.backoff, self.timeout = max(1, tries), backoff, timeout
        self.headers = headers or {}
        self.retries = 0
        self.requests = dict.fromkeys(SIGNALS, 0)
        self.bytes = 0
        self._classes: dict[str, Any] | None = None
        self._opener = urllib.request.build_opener(_NoRedirect)

    def url(self, signal: str) -> str:
        return self.endpoint + URL_PATHS[signal]

    def check(self) -> None:
        self._classes = request_classes()

    def send(self, signal: str, request: Json) -> None:
        message = to_protobuf(signal, request, self._classes)
        body = gzip.compress(message.SerializeToString(deterministic=True), mtime=0)
        self._post(signal, body, _count(signal, request))
        self.requests[signal] += 1
        self.bytes += len(body)

    def _post(self, signal: str, body: bytes, items: int) -> None:
        url = self.url(signal)
        headers = {"Content-Type": "application/x-protobuf", "Content-Encoding": "gzip",
                   "User-Agent": f"apmseed/{__version__}", **self.headers}
        problem = "no answer"
        delay = 0.0
        for attempt in range(self.tries):
            if attempt:
                self.retries += 1
                sleep(max(delay, self.backoff * 2 ** (attempt - 1)))
            delay = 0.0
            request = urllib.request.Request(url, data=body, headers=headers, method="POST")
            try:
                with self._opener.open(request, timeout=self.timeout) as response:
                    answer = response.read()
                    content_type = response.headers.get("Content-Type", "")
                self._check_partial(signal, answer, content_type, items)
                return
            except urllib.error.HTTPError as exc:
                status = f"HTTP {exc.code} {exc.reason}".strip()
                detail = _status_message(exc.read(2000), exc.headers.get("Content-Type", ""))
                if exc.code == 429 or exc.code >= 500:
                    problem = status + (f": {detail}" if detail else "")
                    delay = _retry_after(exc.headers.get("Retry-After"))
                    continue
                raise ApmseedError(
                    f"the OTLP receiver at {redact(url)} rejected {signal} with {status}"
                    + (f": {detail}" if detail else "") + f"; {self._delivered()} delivered before",
                    "check that --endpoint is an OTLP/HTTP receiver's base URL (it accepts protobuf and gzip)"
                ) from None
            except urllib.error.URLError as exc:
                problem = _reason(exc.reason)
            except (OSError, http.client.HTTPException) as exc:
                problem = _reason(exc)
        raise ApmseedError(
            f"cannot deliver OTLP {signal} to {redact(url)} after {self.tries} tries: {problem}; "
            f"{self._delivered()} delivered before",
            "check that the receiver is running and reachable (OTLP/HTTP, usually port 4318), then rerun")

    def _delivered(self) -> str:
        done = [f"{n} {s} request{'s' if n != 1 else ''}" for s, n in self.requests.items() if n]
        return ", ".join(done) if done else "nothing"

    def _check_partial(self, signal: str, answer: bytes, content_type: str, items: int) -> None:
        if not answer:
            return
        cls, field_name = response_classes()[signal]
        message = cls()
        try:
            if "json" in content_type:
                from google.protobuf import json_format

                json_format.Parse(answer, message, ignore_unknown_fields=True)
            else:
                message.ParseFromString(answer)
        except Exception:  # an answer we cannot read is still a 2xx: accepted
            return
        rejected = getattr(message.partial_success, field_name, 0)
        if rejected:
            detail = message.partial_success.error_message
            raise ApmseedError(f"the OTLP receiver at {redact(self.url(signal))} rejected {rejected} of {items} "
                               f"{signal} items" + (f": {detail}" if detail else ""),
                               "check the receiver's limits and logs, then rerun")

    def publish(self) -> dict[str, Any]:
        return {"endpoint": redact(self.endpoint), "requests": dict(self.requests), "bytes": self.bytes,
                "retries": self.retries}

    def discard(self) -> None:
        """Delivered requests cannot be recalled."""


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def _count(signal: str, request: Json) -> int:
    outer, inner, items = {"traces": ("resourceSpans", "scopeSpans", "spans"),
                           "metrics": ("resourceMetrics", "scopeMetrics", "metrics"),
                           "logs": ("resourceLogs", "scopeLogs", "logRecords")}[signal]
    return sum(len(s[items]) for r in request[outer] for s in r[inner])


def _retry_after(value: str | None) -> float:
    try:
        return min(30.0, max(0.0, float(value))) if value else 0.0
    except ValueError:
        return 0.0


def _status_message(body: bytes, content_type: str) -> str:
    """The message of a google.rpc.Status answer (protobuf, as OTLP/HTTP sends it, or JSON), else the body's
    first line."""
    if not body:
        return ""
    if "protobuf" in content_type:
        return _first_line(_rpc_status_message(body))
    try:
        parsed = orjson.loads(body)
        if isinstance(parsed, dict) and parsed.get("message"):
            return _first_line(str(parsed["message"]))
    except orjson.JSONDecodeError:
        pass
    return _first_line(body)


def _rpc_status_message(body: bytes) -> str:
    """Field 2 (`message`) of a serialized google.rpc.Status, read by hand (no googleapis-common-protos)."""
    def varint(pos: int) -> tuple[int, int]:
        value = shift = 0
        while pos < len(body):
            byte = body[pos]
            value |= (byte & 0x7F) << shift
            pos += 1
            if not byte & 0x80:
                return value, pos
            shift += 7
        raise ValueError("truncated varint")

    pos = 0
    try:
        while pos < len(body):
            tag, pos = varint(pos)
            number, wire = tag >> 3, tag & 7
            if wire == 0:
                _, pos = varint(pos)
            elif wire == 2:
                size, pos = varint(pos)
                if number == 2:
                    return body[pos:pos + size].decode("utf-8", "replace")
                pos += size
            elif wire == 1:
                pos += 8
            elif wire == 5:
                pos += 4
            else:
                return ""
    except ValueError:
        return ""
    return ""


def _reason(reason: object) -> str:
    if isinstance(reason, TimeoutError):
        return "timed out"
    if isinstance(reason, OSError) and reason.strerror:
        return reason.strerror
    return _first_line(str(reason)) or type(reason).__name__


def _first_line(text: str | bytes) -> str:
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    lines = text.strip().splitlines()
    return lines[0].strip()[:300] if lines else ""


# -- the exporter -----------------------------------------------------------------------------------------
class OtlpExporter:
    """`Exporter` for OTLP. Reads the reference datasets into a directory of resources, streams metrics and
    traces to the sinks as their batches fill, keeps the log lines until the end (their spans come later in the
    export order) and sends them in `close(True)`."""

    def __init__(self, sinks: list[FileSink | HttpSink]) -> None:
        if not sinks:
            raise ApmseedError("nothing to export to", "pass --out DIR, --endpoint URL, or both")
        self.sinks = sinks
        self.info: dict[str, Any] = {}
        self.directory = Directory()
        self.counts: dict[str, int] = {}
        self.skipped: list[str] = []
        self.items = dict.fromkeys(SIGNALS, 0)
        self.points = 0
        self.empty_series = 0
        self._batchers: dict[str, Batcher] = {}
        self._logs: list[tuple[Record, str | None]] = []  # (record, process snapshot id)
        self._log_processes: dict[tuple[str, str], str] = {}
        self._applications: dict[str, str] = {}
        self._traces: TraceMapper | None = None

    def open(self, info: dict[str, Any]) -> None:
        self.info = info
        scope_json = scope(info)
        self._batchers = {s: Batcher(s, scope_json, self._send) for s in SIGNALS}
        for sink in self.sinks:
            sink.check()

    def _send(self, signal: str, request: Json) -> None:
        for sink in self.sinks:
            sink.send(signal, request)

    def export(self, dataset: Dataset, records: Iterable[Record]) -> int:
        handler = {"infrastructure_entities": self._snapshot, "applications": self._application,
                   "services": self._service, "endpoints": self._endpoint, "metrics_timeseries": self._series,
                   "logs": self._log, "application_traces": self._trace}.get(dataset.name)
        if dataset.name == "calls":
            count = self._calls(records)
        elif handler is None:
            self.skipped.append(dataset.name)
            return 0
        else:
            count = 0
            for record in records:
                handler(record)
                count += 1
        if dataset.name == "metrics_timeseries":
            self._batchers["metrics"].flush()
        self.counts[dataset.name] = count
        return count

    # reference data
    def _snapshot(self, record: Record) -> None:
        self.directory.snapshots[record["snapshotId"]] = record

    def _application(self, record: Record) -> None:
        self.directory.applications[record["id"]] = record

    def _service(self, record: Record) -> None:
        self.directory.services[record["id"]] = record

    def _endpoint(self, record: Record) -> None:
        self.directory.endpoints[record["id"]] = record

    # signals
    def _series(self, record: Record) -> None:
        batcher = self._batchers["metrics"]
        metric = series_metric(record)
        points = len(next(iter(metric[k] for k in ("sum", "gauge") if k in metric))["dataPoints"])
        if not points:  # a series with no point inside --from/--to: OTLP has nothing to say about it
            self.empty_series += 1
            return
        if batcher.size and batcher.size + points > POINTS_PER_REQUEST:
            batcher.flush()
        batcher.add(series_resource(record, self.directory), metric, max(1, points))
        self.items["metrics"] += 1
        self.points += points

    def _log(self, record: Record) -> None:
        process = log_process(record, self.directory)
        if process is not None:
            self.directory.add_k8s(process, k8s_attrs(record))
        trace = record.get("log.traceId")
        if trace and process is not None:
            self._log_processes.setdefault((trace, record["log.serviceId"]), process)
        self._logs.append((record, process))

    def _trace(self, record: Record) -> None:
        if record.get("applicationId"):
            self._applications[record["id"]] = record["applicationId"]

    def _calls(self, records: Iterable[Record]) -> int:
        mapper = self._traces = TraceMapper(self.directory, self._log_processes, self._applications)
        batcher = self._batchers["traces"]
        count = 0
        for calls in _by_trace(records):
            count += len(calls)
            spans = list(mapper.map_trace(calls))
            if batcher.size and batcher.size + len(spans) > SPANS_PER_REQUEST:
                batcher.flush()
            for resource, span in spans:
                batcher.add(resource, span)
        batcher.flush()
        self.items["traces"] = mapper.spans
        return count

    def _flush_logs(self) -> None:
        batcher = self._batchers["logs"]
        mapper = self._traces
        for record, process in self._logs:
            trace = record.get("log.traceId")
            exported = mapper is not None and trace in mapper.exported_traces
            span = None
            if exported and mapper is not None:
                spans = mapper.entry_spans.get((trace, record["log.serviceId"]))
                if spans:
                    span = pick_span(spans, int(record["log.timestamp"]), record.get("endpointId"))
            if process is not None:
                resource = self.directory.process_resource(record["log.serviceId"], process)
            else:
                resource = attributes([*self.directory.service_attrs(record["log.serviceId"],
                                                                     record.get("log.serviceName")),
                                       *log_fallback_attrs(record), *k8s_attrs(record)])
            batcher.add(resource, log_record(record, span, exported))
            self.items["logs"] += 1
            if batcher.size >= LOGS_PER_REQUEST:
                batcher.flush()
        batcher.flush()
        self._logs = []

    def close(self, ok: bool) -> dict[str, Any]:
        if not ok:
            for sink in self.sinks:
                sink.discard()
            return {}
        try:
            self._flush_logs()
            for batcher in self._batchers.values():
                batcher.flush()
            published = [sink.publish() for sink in self.sinks]
        except BaseException:
            for sink in self.sinks:
                sink.discard()
            raise
        summary: dict[str, Any] = {
            "tool": "apmseed", "toolVersion": __version__, "datasetVersion": self.info.get("dataset_version"),
            "spans": self.items["traces"], "metrics": self.items["metrics"], "dataPoints": self.points,
            "emptySeries": self.empty_series, "logRecords": self.items["logs"],
            "requests": {s: b.requests for s, b in self._batchers.items()},
            "counts": self.counts, "skipped": self.skipped}
        for sink, result in zip(self.sinks, published, strict=True):
            summary["files" if isinstance(sink, FileSink) else "push"] = result
        return summary


def _by_trace(records: Iterable[Record]) -> Iterator[list[Record]]:
    """The calls of one trace at a time (the reader keeps a trace's calls together, parents first)."""
    current: list[Record] = []
    for record in records:
        if current and record["traceId"] != current[0]["traceId"]:
            yield current
            current = []
        current.append(record)
    if current:
        yield current


__all__ = ["OTLP_DATASETS", "SIGNALS", "FileSink", "HttpSink", "OtlpExporter", "metric_name", "span_id",
           "to_protobuf", "trace_id"]
