"""Check an export directory written by `apmseed export jsonl`, so a consumer can trust it before loading it:
JSON syntax, per-record JSON Schemas, cross-file references, time windows, metric consistency and the manifest.

Files are streamed line by line. Memory grows with the number of entities and series (their ids, labels and the
byte offset of each series line), never with the number of metric points: related series (calls and erroneous
calls, latency percentiles) are compared after the main pass by re-reading just their lines, one entity at a
time."""

from __future__ import annotations

import hashlib
import importlib.resources
import itertools
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import IO, Any

import orjson
from jsonschema import Draft202012Validator, ValidationError, validators
from jsonschema.exceptions import best_match
from jsonschema.protocols import Validator

from apmseed import catalog, validation_rules
from apmseed.exporters.datasets import DATASETS
from apmseed.factories.events import ENTITY_NAMES

MANIFEST = "manifest.json"
FILE_DATASETS = {d.file: d.name for d in DATASETS.values()}
# referenced datasets first, so every reference can be checked the moment it is read; datasets this module has
# no rules for (no schema shipped) follow, and get JSON, id-uniqueness and manifest checks only
CHECKED = ("infrastructure_entities", "applications", "services", "endpoints", "issues", "metrics_timeseries")
ORDER = CHECKED + tuple(d for d in DATASETS if d not in CHECKED)
EPOCH_MIN, EPOCH_MAX = 100_000_000_000, 9_999_999_999_999  # the schemas' $defs/epochMs
MAX_PER_FILE = 1_000  # a systematically broken file still gives a readable report
MESSAGE_LIMIT = 160

# metric value ordering within one entity: each chain is non-decreasing at every shared timestamp
AGGREGATION_CHAINS = (("MIN", "P50", "P90", "P95", "P99", "MAX"), ("MIN", "MEAN", "MAX"))
METRIC_ORDER = ((("erroneousCalls", "SUM"), ("calls", "SUM")),)  # (lower, upper)
ALLOWED_AGGREGATIONS: dict[tuple[str, str], frozenset[str]] = {
    (d["entity_kind"], d["metric_id"]): frozenset(d["aggregations"]) for d in catalog.definitions()}
MAX_VALUES: dict[str, float] = {m["metric_id"]: m["max_value"]
                                for m in catalog.TRAFFIC_METRICS + catalog.INFRA_METRICS
                                if m["max_value"] is not None}
EMBEDDED = {"APPLICATION": ("application", "applications"), "SERVICE": ("service", "services"),
            "ENDPOINT": ("endpoint", "endpoints")}
ID_KEYS = {"infrastructure_entities": "snapshotId", "applications": "id", "services": "id", "endpoints": "id"}


def _version_key(version: str) -> tuple[int, ...]:
    return tuple(int(p) for p in version.split(".")[:3] if p.isdigit())


@dataclass(frozen=True)
class Violation:
    """One problem; `line` is 1-based, 0 for a problem with a whole file."""

    file: str
    line: int
    problem: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.problem}"


# -- schemas ---------------------------------------------------------------------------------------------


def load_schema(name: str) -> dict[str, Any]:
    """The JSON Schema of a dataset (or of `manifest`), as shipped in the package."""
    resource = importlib.resources.files("apmseed").joinpath("jsonschemas", f"{name}.schema.json")
    return json.loads(resource.read_text(encoding="utf-8"))


def _is_integer(_checker: Any, instance: object) -> bool:
    """JSON Schema lets 1.0 pass as an integer; epoch-ms and counts must be written as integers."""
    return isinstance(instance, int) and not isinstance(instance, bool)


StrictValidator = validators.extend(
    Draft202012Validator, type_checker=Draft202012Validator.TYPE_CHECKER.redefine("integer", _is_integer))


@cache
def schema_validator(name: str) -> Validator:
    return StrictValidator(load_schema(name))


@cache
def has_schema(name: str) -> bool:
    return importlib.resources.files("apmseed").joinpath("jsonschemas", f"{name}.schema.json").is_file()


def _shorten(text: str) -> str:
    return text if len(text) <= MESSAGE_LIMIT else text[:MESSAGE_LIMIT - 3] + "..."


def _condition(schema: dict[str, Any], error: ValidationError) -> str:
    """`(as state is 'closed')` for an error raised inside an if/then/else branch: says why a key is needed."""
    node: Any = schema
    note = ""
    try:
        for part in error.absolute_schema_path:
            if part in ("then", "else") and isinstance(node, dict) and "if" in node:
                for prop, sub in node["if"].get("properties", {}).items():
                    if "const" in sub:
                        verb = "is" if part == "then" else "is not"
                        note = f" (as {prop} {verb} {json.dumps(sub['const'])})"
            if part == "$ref" and isinstance(node, dict) and str(node.get("$ref", "")).startswith("#/"):
                node = _local(schema, node["$ref"])
            else:
                node = node[part]
    except (KeyError, IndexError, TypeError):
        pass
    return note


def _local(schema: dict[str, Any], ref: str) -> Any:
    """The target of a local `#/...` reference."""
    node: Any = schema
    for key in ref[2:].split("/"):
        node = node[key]
    return node


def _describe(schema: dict[str, Any], error: ValidationError) -> str:
    message = error.message
    if error.validator == "not" and isinstance(error.validator_value, dict) and isinstance(error.instance, dict):
        options = error.validator_value.get("anyOf", [error.validator_value])
        keys = [k for option in options for k in option.get("required", []) if k in error.instance]
        if keys:
            message = f"must not have {', '.join(repr(k) for k in keys)}"
    return f"{error.json_path}: {_shorten(message)}{_condition(schema, error)}"


def schema_problem(name: str, record: Any) -> str | None:
    """The most relevant schema error of a record, in one line, or None."""
    validator = schema_validator(name)
    errors = list(validator.iter_errors(record))
    if not errors:
        return None
    text = _describe(validator.schema, best_match(errors))
    return f"{text} (+{len(errors) - 1} more)" if len(errors) > 1 else text


# -- metric points -----------------------------------------------------------------------------------------


@dataclass
class _Finding:
    count: int = 0
    first: str = ""

    def add(self, example: str) -> None:
        if not self.count:
            self.first = example
        self.count += 1


@dataclass
class PointScan:
    """One pass over a series' points: the schema's `$defs/points` rules (checked here, not by jsonschema,
    which costs ~50 us per point) and the temporal and value rules."""

    schema: str | None = None
    findings: dict[str, _Finding] = field(default_factory=dict)

    def note(self, what: str, example: str) -> None:
        self.findings.setdefault(what, _Finding()).add(example)


def scan_points(points: Any, path: str, window: tuple[int, int] | None = None,
                export_window: tuple[int, int] | None = None, step_ms: int | None = None,
                integral: bool = False, max_value: float | None = None) -> PointScan:
    """Mirror of metrics_timeseries.schema.json `$defs/points` (a list of [epoch-ms integer, number >= 0]);
    with the windows also: timestamps inside [from, to) of the series and of the export, strictly increasing,
    on the granularity grid, integer counts, values within the metric's range."""
    scan = PointScan()
    if not isinstance(points, list):
        scan.schema = f"{path}: {_shorten(repr(points))} is not of type 'array'"
        return scan
    previous: int | None = None
    for i, point in enumerate(points):
        if type(point) is not list or len(point) != 2:
            scan.schema = f"{path}[{i}]: {_shorten(repr(point))} is not a [timestamp, value] pair"
            return scan
        ts, value = point
        if type(ts) is not int or not EPOCH_MIN <= ts <= EPOCH_MAX:
            scan.schema = f"{path}[{i}][0]: {ts!r} is not an epoch-ms integer"
            return scan
        if type(value) is not int and type(value) is not float:
            scan.schema = f"{path}[{i}][1]: {_shorten(repr(value))} is not of type 'number'"
            return scan
        if value < 0:
            scan.schema = f"{path}[{i}][1]: {value!r} is less than the minimum of 0"
            return scan
        if window is not None and not window[0] <= ts < window[1]:
            scan.note("outside the series timeframe", f"{ts} (point {i + 1})")
        if export_window is not None and not export_window[0] <= ts < export_window[1]:
            scan.note("outside the export timeframe", f"{ts} (point {i + 1})")
        if previous is not None and ts <= previous:
            scan.note("not after the previous point", f"{ts} (point {i + 1})")
        if step_ms and window is not None and (ts - window[0]) % step_ms:
            scan.note("off the granularity grid", f"{ts} (point {i + 1})")
        if integral and type(value) is not int:
            scan.note("with a non-integer count", f"{value!r} at {ts}")
        if max_value is not None and value > max_value:
            scan.note(f"above the metric's maximum {max_value:g}", f"{value!r} at {ts}")
        previous = ts
    return scan


# -- the validation run ------------------------------------------------------------------------------------


@dataclass(slots=True)
class _Snapshot:
    line: int
    plugin: str
    label: str
    host: str
    tags: list[str]
    start: int
    parent: str | None
    parent_plugin: str | None


@dataclass(slots=True)
class _SeriesRef:
    line: int
    offset: int


class _Run:
    """State of one validation: the entity indexes that references are checked against, and the findings."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.violations: list[Violation] = []
        self.counts: dict[str, int] = {}
        self.present: set[str] = set()  # datasets whose file was read
        self.window: tuple[int, int] | None = None  # the manifest's [from, to)
        # dataset -> id -> what later files are checked against (None: the record failed its schema)
        self.index: dict[str, dict[str, Any]] = {dataset: {} for dataset in ID_KEYS}
        self.snapshots: dict[str, _Snapshot | None] = self.index["infrastructure_entities"]
        self.applications: dict[str, dict[str, Any] | None] = self.index["applications"]
        self.services: dict[str, dict[str, Any] | None] = self.index["services"]
        self.endpoints: dict[str, dict[str, Any] | None] = self.index["endpoints"]
        self.app_labels: set[str] = set()
        self.service_labels: set[str] = set()
        self.endpoint_labels: set[tuple[str, str]] = set()
        self.event_ids: set[str] = set()
        self.series_ids: set[int] = set()
        self.other_ids: dict[str, set[Any]] = {}  # dataset without rules here -> ids seen (registry id_key)
        # (entityType, entity id, granularity) -> (metricId, aggregation) -> where the series line is
        self.series: dict[tuple[str, str, int], dict[tuple[str, str], _SeriesRef]] = {}
        # datasets after 1.0.0 bring their own rules (apmseed.validation_rules), fed with every record
        self.rule_index = validation_rules.Index()
        self.rule_keep = cache(validation_rules.keep_for)

    def report(self, file: str, line: int, problem: str) -> None:
        self.counts[file] = self.counts.get(file, 0) + 1
        if self.counts[file] <= MAX_PER_FILE:
            self.violations.append(Violation(file, line, problem))

    def result(self) -> list[Violation]:
        ordered = sorted(self.violations, key=lambda v: (v.file != MANIFEST, v.file, v.line))
        for file, count in sorted(self.counts.items()):
            if count > MAX_PER_FILE:
                ordered.append(Violation(file, 0, f"{count - MAX_PER_FILE} more violations not listed"))
        return ordered

    # -- manifest --------------------------------------------------------------------------------------

    def manifest(self) -> dict[str, Any] | None:
        """The manifest if it parses as an object (schema problems are reported, not fatal)."""
        path = self.directory / MANIFEST
        try:
            manifest = orjson.loads(path.read_bytes())
        except orjson.JSONDecodeError as exc:
            self.report(MANIFEST, exc.lineno, f"malformed JSON: {exc.msg} (column {exc.colno})")
            return None
        except OSError as exc:
            self.report(MANIFEST, 0, f"cannot read: {exc.strerror}")
            return None
        if not isinstance(manifest, dict):
            self.report(MANIFEST, 1, "not a JSON object")
            return None
        problem = schema_problem("manifest", manifest)
        if problem:
            self.report(MANIFEST, 0, f"schema: {problem}")
        tf = manifest.get("timeframe")
        if isinstance(tf, dict) and all(_is_integer(None, tf.get(k)) for k in ("from", "to", "windowSize")):
            if tf["to"] <= tf["from"] or tf["windowSize"] != tf["to"] - tf["from"]:
                self.report(MANIFEST, 0, f"timeframe {tf['from']}..{tf['to']} is empty or its windowSize "
                                         f"{tf['windowSize']} is not to - from")
            else:
                self.window = (tf["from"], tf["to"])
            if manifest.get("endTime") != tf["to"]:
                self.report(MANIFEST, 0, f"endTime {manifest.get('endTime')} is not timeframe.to {tf['to']}")
            options = manifest.get("options")
            minutes = options.get("minutes") if isinstance(options, dict) else None
            if _is_integer(None, minutes) and minutes * 60_000 != tf["windowSize"]:
                self.report(MANIFEST, 0, f"timeframe.windowSize {tf['windowSize']} is not options.minutes "
                                         f"{minutes} minutes")
        return manifest

    def check_file(self, name: str, entry: Any, dataset: str) -> None:
        """Stream one data file: hash, size and line count against the manifest entry, and every record."""
        path = self.directory / name
        if not path.is_file():
            self.report(name, 0, f"listed in {MANIFEST} but missing" if entry is not None else "missing")
            return
        digest = hashlib.sha256()
        size = lines = 0
        try:
            with open(path, "rb") as fh:
                for lines, raw in enumerate(fh, 1):
                    digest.update(raw)
                    self.line(name, dataset, lines, raw, size)
                    size += len(raw)
        except OSError as exc:
            self.report(name, 0, f"cannot read: {exc.strerror}")
            return
        self.present.add(dataset)
        self.finish(name, dataset)
        if isinstance(entry, dict):
            actual = {"records": lines, "bytes": size, "sha256": digest.hexdigest()}
            for key, value in actual.items():
                if key in entry and entry[key] != value:
                    self.report(name, 0, f"{key} {value} does not match {MANIFEST} ({entry[key]})")

    # -- records -----------------------------------------------------------------------------------------

    def line(self, name: str, dataset: str, number: int, raw: bytes, offset: int) -> None:
        try:
            record = orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            self.report(name, number, f"malformed JSON: {exc.msg} (column {exc.colno})")
            return
        if not isinstance(record, dict):
            self.report(name, number, f"not a JSON object but {type(record).__name__}")
            return
        self.rule_index.add(dataset, record.get(DATASETS[dataset].id_key), record, self.rule_keep(dataset))
        for problem in validation_rules.check(dataset, number, record, self.rule_index):
            self.report(name, number, problem)
        if dataset == "metrics_timeseries":
            self.series_record(name, number, record, offset)
            return
        if dataset not in CHECKED:
            self.other_record(name, number, dataset, record)
            return
        problem = schema_problem(dataset, record)
        if problem:
            self.report(name, number, f"schema: {problem}")
            self.index_invalid(dataset, record)
            return
        getattr(self, f"on_{dataset}")(name, number, record)

    def other_record(self, name: str, number: int, dataset: str, record: dict[str, Any]) -> None:
        """A dataset without rules here: its schema if one ships, and a unique, present id (registry id_key)."""
        if has_schema(dataset):
            problem = schema_problem(dataset, record)
            if problem:
                self.report(name, number, f"schema: {problem}")
        key = DATASETS[dataset].id_key
        ident = record.get(key)
        if ident is None or isinstance(ident, dict | list):
            self.report(name, number, f"no {key} (the dataset's id)")
            return
        seen = self.other_ids.setdefault(dataset, set())
        if ident in seen:
            self.report(name, number, f"duplicate {key} {ident!r}")
        seen.add(ident)

    def index_invalid(self, dataset: str, record: dict[str, Any]) -> None:
        """Keep the id of a record that failed its schema, so references to it are not reported as well."""
        key = ID_KEYS.get(dataset)
        ident = record.get(key) if key else None
        if isinstance(ident, str):
            self.index[dataset].setdefault(ident, None)

    def _unique(self, name: str, number: int, index: dict[str, Any], ident: str, what: str) -> bool:
        if ident in index:
            self.report(name, number, f"duplicate {what} {ident!r}")
            return False
        return True

    def _exists(self, name: str, number: int, dataset: str, index: dict[str, Any], ident: str, what: str) -> bool:
        """Whether a referenced id exists; a dataset missing from the export cannot be checked and passes."""
        if dataset in self.present and ident not in index:
            self.report(name, number, f"{what} {ident!r} not found in {DATASETS[dataset].file}")
            return False
        return True

    def on_infrastructure_entities(self, name: str, number: int, r: dict[str, Any]) -> None:
        if not self._unique(name, number, self.snapshots, r["snapshotId"], "snapshotId"):
            return
        parent = r["data"].get("parent", {})
        self.snapshots[r["snapshotId"]] = _Snapshot(number, r["plugin"], r["label"], r["host"], r["tags"],
                                                    r["from"], parent.get("snapshotId"), parent.get("plugin"))
        if "to" in r and r["to"] < r["from"]:
            self.report(name, number, f"to {r['to']} is before from {r['from']}")
        if self.window and r["from"] >= self.window[1]:
            self.report(name, number, f"from {r['from']} is after the export timeframe ends ({self.window[1]})")

    def on_applications(self, name: str, number: int, r: dict[str, Any]) -> None:
        if self._unique(name, number, self.applications, r["id"], "application id"):
            self.applications[r["id"]] = r
        if r["label"] in self.app_labels:
            self.report(name, number, f"duplicate application label {r['label']!r}")
        self.app_labels.add(r["label"])

    def on_services(self, name: str, number: int, r: dict[str, Any]) -> None:
        if self._unique(name, number, self.services, r["id"], "service id"):
            self.services[r["id"]] = r
        if r["label"] in self.service_labels:
            self.report(name, number, f"duplicate service label {r['label']!r}")
        self.service_labels.add(r["label"])
        for sid in r["snapshotIds"]:
            self._exists(name, number, "infrastructure_entities", self.snapshots, sid, "snapshotId")
        for aid in r["applicationIds"]:
            self._exists(name, number, "applications", self.applications, aid, "applicationId")

    def on_endpoints(self, name: str, number: int, r: dict[str, Any]) -> None:
        if self._unique(name, number, self.endpoints, r["id"], "endpoint id"):
            self.endpoints[r["id"]] = r
        if (r["serviceId"], r["label"]) in self.endpoint_labels:
            self.report(name, number, f"duplicate endpoint label {r['label']!r} in service {r['serviceId']!r}")
        self.endpoint_labels.add((r["serviceId"], r["label"]))
        if self._exists(name, number, "services", self.services, r["serviceId"], "serviceId"):
            service = self.services.get(r["serviceId"])
            if service is not None and r["type"] not in service["types"]:
                self.report(name, number, f"type {r['type']} is not among its service's types {service['types']}")

    def on_issues(self, name: str, number: int, r: dict[str, Any]) -> None:
        if r["eventId"] in self.event_ids:
            self.report(name, number, f"duplicate eventId {r['eventId']!r}")
        self.event_ids.add(r["eventId"])
        start, end = r["start"], r.get("end")
        if end is not None and end < start:
            self.report(name, number, f"end {end} is before start {start}")
        if self.window:
            lo, hi = self.window
            if not lo <= start < hi:
                self.report(name, number, f"start {start} is outside the export timeframe [{lo}, {hi})")
            if end is not None and end > hi:
                self.report(name, number, f"end {end} is after the export timeframe ends ({hi})")
        label: str | None = None
        kind = r["entityType"]
        if kind == "INFRASTRUCTURE":
            snap = self.snapshots.get(r["snapshotId"])
            self._exists(name, number, "infrastructure_entities", self.snapshots, r["snapshotId"], "snapshotId")
            if snap is not None:
                label = snap.label
                if r["entityName"] != ENTITY_NAMES[snap.plugin]:
                    self.report(name, number, f"entityName {r['entityName']!r} does not fit a {snap.plugin} "
                                              f"snapshot ({ENTITY_NAMES[snap.plugin]!r})")
        else:
            self._exists(name, number, "applications", self.applications, r["applicationId"], "applicationId")
            app = self.applications.get(r["applicationId"])
            label = app["label"] if app is not None else None
        if kind == "SERVICE":
            self._issue_service(name, number, r, r["serviceId"], "serviceId")
            service = self.services.get(r["serviceId"])
            label = service["label"] if service is not None else None
        if kind == "ENDPOINT":
            self._exists(name, number, "endpoints", self.endpoints, r["endpointId"], "endpointId")
            self._issue_service(name, number, r, r["endpointServiceId"], "endpointServiceId")
            endpoint = self.endpoints.get(r["endpointId"])
            label = endpoint["label"] if endpoint is not None else None
            if endpoint is not None and endpoint["serviceId"] != r["endpointServiceId"]:
                self.report(name, number, f"endpointServiceId {r['endpointServiceId']!r} is not the endpoint's "
                                          f"serviceId {endpoint['serviceId']!r}")
        if label is not None and r["entityLabel"] != label:
            self.report(name, number, f"entityLabel {r['entityLabel']!r} is not the entity's label {label!r}")

    def _issue_service(self, name: str, number: int, r: dict[str, Any], sid: str, what: str) -> None:
        self._exists(name, number, "services", self.services, sid, what)
        service = self.services.get(sid)
        if service is not None and r["applicationId"] not in service["applicationIds"]:
            self.report(name, number, f"applicationId {r['applicationId']!r} is not one of the service's "
                                      f"applicationIds")

    def series_record(self, name: str, number: int, r: dict[str, Any], offset: int) -> None:
        metrics = r.get("metrics")
        stripped = {**r, "metrics": {k: [] for k in metrics}} if isinstance(metrics, dict) else r
        problem = schema_problem("metrics_timeseries", stripped)
        if problem:
            self.report(name, number, f"schema: {problem}")
            return
        tf = r["timeframe"]
        window = (tf["from"], tf["to"])
        if tf["windowSize"] != tf["to"] - tf["from"] or tf["to"] <= tf["from"]:
            self.report(name, number, f"timeframe {tf['from']}..{tf['to']} is empty or its windowSize "
                                      f"{tf['windowSize']} is not to - from")
        elif self.window and not (self.window[0] <= window[0] and window[1] <= self.window[1]):
            self.report(name, number, f"series timeframe [{window[0]}, {window[1]}) is outside the export "
                                      f"timeframe [{self.window[0]}, {self.window[1]})")
        kind, metric, aggregation = r["entityType"], r["metricId"], r["aggregation"]
        allowed = ALLOWED_AGGREGATIONS.get((kind, metric), frozenset())
        if aggregation not in allowed:
            self.report(name, number, f"aggregation {aggregation} is not defined for {kind} metric {metric}")
        expected = metric if kind == "INFRASTRUCTURE" else f"{metric}.{aggregation.lower()}.{r['granularity']}"
        (key, points), = r["metrics"].items()
        if key != expected:
            self.report(name, number, f"metrics key {key!r} should be {expected!r}")
        scan = scan_points(points, f"$.metrics[{key!r}]", window, self.window, r["granularity"] * 1000,
                           metric in catalog.COUNT_METRICS, MAX_VALUES.get(metric))
        if scan.schema:
            self.report(name, number, f"schema: {scan.schema}")
            return
        for what, finding in scan.findings.items():
            self.report(name, number, f"{finding.count} point(s) {what}, first {finding.first}")
        entity = self.series_entity(name, number, r)
        if r["seriesId"] in self.series_ids:
            self.report(name, number, f"duplicate seriesId {r['seriesId']}")
        self.series_ids.add(r["seriesId"])
        group = self.series.setdefault((kind, entity, r["granularity"]), {})
        if (metric, aggregation) in group:
            self.report(name, number, f"duplicate series: {kind} {entity!r} {metric} {aggregation} at "
                                      f"{r['granularity']} s is also on line {group[metric, aggregation].line}")
        else:
            group[metric, aggregation] = _SeriesRef(number, offset)

    def series_entity(self, name: str, number: int, r: dict[str, Any]) -> str:
        """The id of the series' entity, after checking that it exists and that the embedded copy equals it."""
        kind = r["entityType"]
        if kind == "INFRASTRUCTURE":
            sid = r["snapshotId"]
            if self._exists(name, number, "infrastructure_entities", self.snapshots, sid, "snapshotId"):
                snap = self.snapshots.get(sid)
                if snap is not None:
                    differ = [k for k, v in (("plugin", snap.plugin), ("label", snap.label), ("host", snap.host),
                                             ("tags", snap.tags)) if r[k] != v]
                    if differ:
                        self.report(name, number, f"{', '.join(differ)} differ from snapshot {sid!r} (line "
                                                  f"{snap.line})")
            return sid
        key, dataset = EMBEDDED[kind]
        embedded = r[key]
        index = self.index[dataset]
        if self._exists(name, number, dataset, index, embedded["id"], f"{key}.id"):
            known = index.get(embedded["id"])
            if known is not None:
                if dataset == "services":
                    known = {k: v for k, v in known.items() if k != "applicationIds"}
                differ = sorted(k for k in known.keys() | embedded.keys() if known.get(k) != embedded.get(k))
                if differ:
                    self.report(name, number, f"embedded {key} differs from {DATASETS[dataset].file} in "
                                              f"{', '.join(differ)}")
        return embedded["id"]

    # -- after a whole file ------------------------------------------------------------------------------

    def finish(self, name: str, dataset: str) -> None:
        if dataset == "infrastructure_entities":
            self.check_parents(name)
        elif dataset == "metrics_timeseries":
            self.check_consistency(name)

    def check_parents(self, name: str) -> None:
        """Parents may come after their children in the file, so the tree is checked once it is all read."""
        for snap in self.snapshots.values():
            if snap is None or snap.parent is None:
                continue
            parent = self.snapshots.get(snap.parent)
            if snap.parent not in self.snapshots:
                self.report(name, snap.line, f"data.parent.snapshotId {snap.parent!r} not found")
            elif parent is not None:
                if parent.plugin != snap.parent_plugin:
                    self.report(name, snap.line, f"data.parent.plugin {snap.parent_plugin!r} but the parent is a "
                                                 f"{parent.plugin} (line {parent.line})")
                if parent.host != snap.host:
                    self.report(name, snap.line, f"host {snap.host!r} differs from its parent's {parent.host!r} "
                                                 f"(line {parent.line})")
                if snap.start < parent.start:
                    self.report(name, snap.line, f"from {snap.start} is before its parent's from {parent.start} "
                                                 f"(line {parent.line})")

    def check_consistency(self, name: str) -> None:
        """Related series of one entity, compared at their shared timestamps (one entity in memory at a time)."""
        path = self.directory / name
        with open(path, "rb") as fh:
            for group in self.series.values():
                pairs = list(_ordered_pairs(group))
                if not pairs:
                    continue
                needed = dict.fromkeys(key for pair in pairs for key in pair)
                loaded = {key: _read_points(fh, group[key].offset) for key in needed}
                for lower, upper in pairs:
                    self.compare(name, lower, group[lower].line, loaded[lower], upper, group[upper].line,
                                 loaded[upper])

    def compare(self, name: str, lower: tuple[str, str], lower_line: int, low: dict[int, float],
                upper: tuple[str, str], upper_line: int, high: dict[int, float]) -> None:
        bad = [(ts, v, high[ts]) for ts, v in low.items() if ts in high and v > high[ts]]
        if bad:
            ts, lv, hv = bad[0]
            shared = sum(1 for ts in low if ts in high)
            self.report(name, lower_line, f"{' '.join(lower)} exceeds {' '.join(upper)} (line {upper_line}) at "
                                          f"{len(bad)} of {shared} timestamps, first at {ts}: {lv} > {hv}")


def _ordered_pairs(group: dict[tuple[str, str], Any]) -> Iterator[tuple[tuple[str, str], tuple[str, str]]]:
    """(lower, upper) series keys present in a group whose values must satisfy lower <= upper."""
    pairs: dict[tuple[tuple[str, str], tuple[str, str]], None] = {}
    for metric in sorted({m for m, _ in group}):
        for chain in AGGREGATION_CHAINS:
            present = [(metric, a) for a in chain if (metric, a) in group]
            pairs.update(dict.fromkeys(itertools.pairwise(present)))
    for lower, upper in METRIC_ORDER:
        if lower in group and upper in group:
            pairs[lower, upper] = None
    yield from pairs


def _read_points(fh: IO[bytes], offset: int) -> dict[int, float]:
    fh.seek(offset)
    record = orjson.loads(fh.readline())
    (points,) = record["metrics"].values()
    return {ts: value for ts, value in points}


def _files_to_read(run: _Run, manifest: dict[str, Any] | None) -> list[tuple[str, Any, str]]:
    """(file name, manifest entry, dataset) in reference order. Without a usable manifest: the registry's files
    that are there. Only registry file names are ever opened, whatever the manifest says."""
    files = manifest.get("files") if manifest is not None else None
    if not isinstance(files, dict):
        return [(DATASETS[d].file, None, d) for d in ORDER if (run.directory / DATASETS[d].file).is_file()]
    version = manifest.get("datasetVersion") if manifest is not None else None
    for name, entry in files.items():
        dataset = FILE_DATASETS.get(name)
        if dataset is None:
            run.report(name, 0, f"listed in {MANIFEST} but not a file of any apmseed dataset")
            continue
        if isinstance(entry, dict) and entry.get("dataset") != dataset:
            run.report(name, 0, f"{MANIFEST} names its dataset {entry.get('dataset')!r}, but it is {dataset!r}")
        since = DATASETS[dataset].since
        if isinstance(version, str) and _version_key(version) < _version_key(since):
            run.report(name, 0, f"dataset {dataset} exists since {since}, but the export is of {version}")
    return [(DATASETS[d].file, files[DATASETS[d].file], d) for d in ORDER if DATASETS[d].file in files]


def validate_export(directory: Path | str) -> list[Violation]:
    """Every violation found in an export directory, the manifest's first, then by file and line; empty means
    valid."""
    directory = Path(directory)
    if not directory.exists():
        return [Violation(str(directory), 0, "export directory does not exist")]
    if not directory.is_dir():
        return [Violation(str(directory), 0, "not a directory (pass the directory `apmseed export jsonl` wrote)")]
    if not (directory / MANIFEST).is_file():
        return [Violation(MANIFEST, 0, "missing: not an apmseed export, or the export did not complete")]
    run = _Run(directory)
    manifest = run.manifest()
    run.rule_index.window = run.window
    cut = manifest.get("exportWindow") if isinstance(manifest, dict) else None
    if isinstance(cut, dict):
        run.rule_index.export_window = (cut.get("from"), cut.get("to"))
    for name, entry, dataset in _files_to_read(run, manifest):
        run.check_file(name, entry, dataset)
    files = manifest.get("files") if manifest is not None else None
    if isinstance(files, dict):
        for path in sorted(directory.glob("*.jsonl")):
            if path.name not in files:
                run.report(path.name, 0, f"not listed in {MANIFEST}")
    return run.result()
