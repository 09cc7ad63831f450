"""CloudEvents 1.0 from the event-like datasets: a JSON Lines file (structured mode, one event a line), a JSON
batch file (`application/cloudevents-batch+json`), or HTTP POSTs to a sink (binary or structured content mode).

A dataset takes part by having an entry in `MAPPINGS`: a function from one of its records to the CloudEvents it
stands for, in causal order (e.g. opened before closed). Alert triggers are the exception: they belong to no
single record but are derived (see `AlertEvaluator`) from the Smart Alert configs and the metric points they
watch, read from the same snapshot as everything else (`ALERT_INPUTS` names the datasets each config dataset
is evaluated on). Every type the export emits is listed in `EVENT_TYPES` and ships a JSON Schema for its `data`
as `jsonschemas/cloudevents/<type>.schema.json`, which the event's `dataschema` names.

Events are buffered and emitted at `close(True)` in one deterministic order: by time, then by position in the
record's lifecycle (so an issue that closes in the millisecond it opens still reads opened-then-closed), then by
id. Files are written to a temporary name next to the target and renamed into place; an HTTP sink cannot be
published atomically, so a failure there leaves the events already delivered (ids are stable: receivers can
drop duplicates when the export is rerun)."""

from __future__ import annotations

import base64
import hashlib
import http.client
import os
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from time import sleep
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

import numpy as np
import orjson

from apmseed import __version__
from apmseed.errors import ApmseedError
from apmseed.exporters.base import Record
from apmseed.exporters.datasets import Dataset

SPECVERSION = "1.0"
SCHEMA_BASE = "https://apmseed.dev/schemas/cloudevents/"
SOURCE_BASE = "/apmseed"
DATA_CONTENT_TYPE = "application/json"
STRUCTURED_CONTENT_TYPE = "application/cloudevents+json"
BATCH_CONTENT_TYPE = "application/cloudevents-batch+json"
FORMATS = ("jsonl", "batch")
MODES = ("binary", "structured")

CloudEvent = dict[str, Any]
EventMapping = Callable[[Record], list[CloudEvent]]

# Every type an entry of MAPPINGS can emit; each has jsonschemas/cloudevents/<type>.schema.json.
EVENT_TYPES: tuple[str, ...] = ("com.apmseed.issue.opened", "com.apmseed.issue.closed",
                                 # dataset 1.1.0 (1.2.0 adds website and mobile app alerts)
                                 "com.apmseed.alert.triggered", "com.apmseed.alert.resolved",
                                 # dataset 1.2.0
                                 "com.apmseed.synthetic.failed",
                                 # dataset 1.3.0
                                 "com.apmseed.incident.opened", "com.apmseed.incident.closed",
                                 "com.apmseed.change.recorded", "com.apmseed.release.created")


# -- attributes -------------------------------------------------------------------------------------------
def rfc3339_ms(epoch_ms: int) -> str:
    """Epoch milliseconds as RFC 3339 UTC with milliseconds: 2025-11-20T14:03:00.000Z."""
    seconds, millis = divmod(int(epoch_ms), 1000)
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%S") + f".{millis:03d}Z"


def dataschema(event_type: str) -> str:
    return f"{SCHEMA_BASE}{event_type}.json"


def schema_resource(event_type: str) -> Traversable:
    """The shipped JSON Schema of a type's `data` (its `$id` is `dataschema(event_type)`)."""
    return resources.files("apmseed") / "jsonschemas" / "cloudevents" / f"{event_type}.schema.json"


ENTITY_SOURCES = {  # entityType -> (collection in the source URI, record key holding the entity's id)
    "APPLICATION": ("applications", "applicationId"),
    "SERVICE": ("services", "serviceId"),
    "ENDPOINT": ("endpoints", "endpointId"),
    "INFRASTRUCTURE": ("infrastructure", "snapshotId"),
}


def entity_source(record: Record) -> str:
    """The URI-reference of the entity an Instana event is about, e.g. /apmseed/services/<serviceId>."""
    collection, key = ENTITY_SOURCES[record["entityType"]]
    return f"{SOURCE_BASE}/{collection}/{quote(str(record[key]), safe='')}"


def make_event(event_type: str, event_id: str, source: str, subject: str, epoch_ms: int,
               data: Record) -> CloudEvent:
    return {"specversion": SPECVERSION, "id": event_id, "source": source, "type": event_type, "subject": subject,
            "time": rfc3339_ms(epoch_ms), "datacontenttype": DATA_CONTENT_TYPE,
            "dataschema": dataschema(event_type), "data": data}


# -- mappings ---------------------------------------------------------------------------------------------
def issue_events(record: Record) -> list[CloudEvent]:
    """An Instana issue: `opened` at its start, carrying the issue as it was then (state open, no end), and,
    once closed, `closed` at its end, carrying the record as exported."""
    event_id, source = record["eventId"], entity_source(record)
    opened = {k: v for k, v in record.items() if k != "end"} | {"state": "open"}
    events = [make_event("com.apmseed.issue.opened", f"{event_id}:opened", source, event_id, record["start"],
                         opened)]
    if record["state"] == "closed":
        events.append(make_event("com.apmseed.issue.closed", f"{event_id}:closed", source, event_id,
                                 record["end"], record))
    return events


def _as_of(event: Record, epoch_ms: int) -> Record:
    """An event as it was at `epoch_ms`: still open (no `end`) unless it had closed by then."""
    if event.get("end") is not None and event["end"] <= epoch_ms:
        return event
    return {k: v for k, v in event.items() if k != "end"} | {"state": "open"}


def incident_and_change_events(record: Record) -> list[CloudEvent]:
    """events.jsonl (dataset 1.3.0) minus its issues, which the `issues` entry already emits. An incident:
    `opened` at its start, carrying it as it was then (open, only the issues that had started, no metric windows
    yet), and, once closed, `closed` at its end with the record as exported. A change: `recorded` at its start."""
    event_id, kind = record["eventId"], record["type"]
    if kind == "incident":
        start = record["start"]
        opened = {k: v for k, v in record.items() if k not in ("end", "metrics")} | {"state": "open"}
        opened["recentEvents"] = [{"event": _as_of(e["event"], start)} for e in record["recentEvents"]
                                  if e["event"]["start"] <= start]
        events = [make_event("com.apmseed.incident.opened", f"{event_id}:opened", entity_source(record), event_id,
                             start, opened)]
        if record["state"] == "closed":
            events.append(make_event("com.apmseed.incident.closed", f"{event_id}:closed", entity_source(record),
                                     event_id, record["end"], record))
        return events
    if kind == "change":
        return [make_event("com.apmseed.change.recorded", f"{event_id}:recorded", entity_source(record), event_id,
                           record["start"], record)]
    return []


def release_events(record: Record) -> list[CloudEvent]:
    """A release (dataset 1.3.0): `created` at its start, carrying the releases.jsonl record."""
    release_id = record["id"]
    return [make_event("com.apmseed.release.created", f"{release_id}:created", f"{SOURCE_BASE}/releases",
                       release_id, record["start"], record)]


def synthetic_failure_events(record: Record) -> list[CloudEvent]:
    """A synthetic test run (dataset 1.2.0) that failed: `failed` at its start, carrying the synthetic_runs.jsonl
    record; the test is both the source and the subject, so a test's failures read in order."""
    if record["metrics"]["status"][0][1] != 0:
        return []
    test_id = record["testId"]
    return [make_event("com.apmseed.synthetic.failed", f"{record['testResultId']}:failed",
                       f"{SOURCE_BASE}/synthetic-tests/{quote(test_id, safe='')}", test_id, record["startTime"],
                       record)]


# dataset name -> record -> CloudEvents (in causal order). A later dataset plugs in with one entry here.
MAPPINGS: dict[str, EventMapping] = {
    "issues": issue_events,
    "synthetic_runs": synthetic_failure_events,  # 1.2.0
    "events": incident_and_change_events,  # 1.3.0
    "releases": release_events,  # 1.3.0
}


# -- alert triggers ---------------------------------------------------------------------------------------
# alert config dataset -> the datasets its configs are evaluated on (entities, their application membership
# and metric points); the CLI reads them along whenever it reads the configs.
ALERT_INPUTS: dict[str, tuple[str, ...]] = {
    "alert_configs": ("services", "metrics_timeseries"),
    "global_alert_configs": ("services", "metrics_timeseries"),
    "infra_alert_configs": ("metrics_timeseries",),
    "website_alert_configs": ("website_config", "website_metrics"),
    "mobile_alert_configs": ("mobile_config", "mobile_metrics"),
}
ALERT_LEVELS = (("warning", 5), ("critical", 10))  # `rules[0].thresholds` key -> Instana severity
ALERT_OPERATORS: dict[str, Callable[[Any, Any], Any]] = {
    ">": np.greater, ">=": np.greater_equal, "<": np.less, "<=": np.less_equal}
PLUGIN_NAMES = {"host": "Host", "docker": "Docker Container", "process": "Process"}
ENTITY_NAMES = {"APPLICATION": "Application", "SERVICE": "Service", "ENDPOINT": "Endpoint", "WEBSITE": "Website",
                "MOBILE_APP": "Mobile App"}
Points = tuple[np.ndarray, np.ndarray]  # (epoch ms, values), in time order


@dataclass(frozen=True)
class AlertTarget:
    """One entity a config is evaluated for, with the keys naming it in an Instana EventResult."""

    kind: str  # APPLICATION, SERVICE, ENDPOINT, INFRASTRUCTURE, WEBSITE, MOBILE_APP
    entity_id: str
    ids: tuple[tuple[str, str], ...]  # e.g. (("applicationId", ...), ("serviceId", ...))


@dataclass
class Evaluation:
    """A config's rule on one target, window by window: the value, whether the window has data, and the calls
    it saw (for `requestImpact`)."""

    values: np.ndarray
    present: np.ndarray
    calls: np.ndarray | None
    series_ids: list[int]


def window_values(points: Points, first: int, step: int, count: int, how: str) -> tuple[np.ndarray, np.ndarray]:
    """Points aggregated into `count` windows [first + i*step, first + (i+1)*step): their sum, or their worst
    point (`max`/`min`), and whether a window holds any point."""
    ts, values = points
    index = (ts - first) // step
    keep = (ts >= first) & (index < count)
    index, values = index[keep], values[keep]
    present = np.bincount(index, minlength=count)[:count] > 0
    if how == "sum":
        return np.bincount(index, weights=values, minlength=count)[:count], present
    out = np.full(count, -np.inf if how == "max" else np.inf)
    (np.maximum if how == "max" else np.minimum).at(out, index, values)
    return out, present


def conditions(violating: np.ndarray, calls: np.ndarray | None, time_threshold: Record,
               step: int) -> tuple[np.ndarray, np.ndarray, np.ndarray | None] | None:
    """Per window: whether the config's time threshold holds once the window is over, the violating windows
    and (`requestImpact` only) the calls in violating windows within its `timeWindow`. None when the kind
    cannot be evaluated from metric points (user impact needs sessions)."""
    kind = time_threshold.get("type")
    span = max(1, int(time_threshold.get("timeWindow") or step) // step)

    def rolling(x: np.ndarray) -> np.ndarray:
        total = np.concatenate(([0.0], np.cumsum(x, dtype=np.float64)))
        return total[1:] - total[np.maximum(np.arange(1, x.size + 1) - span, 0)]

    violations = rolling(violating.astype(np.float64))
    if kind == "violationsInSequence":
        return violations >= span, violations, None
    if kind == "violationsInPeriod":
        return violations >= int(time_threshold["violations"]), violations, None
    if kind == "requestImpact" and calls is not None:
        impacted = rolling(np.where(violating, calls, 0.0))
        return impacted >= int(time_threshold["requests"]), violations, impacted
    return None


def episodes(holds: np.ndarray, step: int, grace_ms: int) -> list[tuple[int, int | None]]:
    """(trigger window, resolve window or None) per alert: it triggers at the first window where the condition
    holds and resolves at the first window where it has not held since at least `grace_ms` (Instana's grace
    period; at once without one), counted from the first window it stopped holding."""
    out: list[tuple[int, int | None]] = []
    start: int | None = None
    clear: int | None = None
    for j, on in enumerate(holds.tolist()):
        if start is None:
            if on:
                start, clear = j, None
        elif on:
            clear = None
        else:
            clear = j if clear is None else clear
            if (j - clear) * step >= grace_ms:
                out.append((start, j))
                start = clear = None
    if start is not None:
        out.append((start, None))
    return out


def alert_event_id(*parts: object) -> str:
    """22 base64url characters, like Instana event ids, from what identifies the alert."""
    digest = hashlib.blake2b("/".join(map(str, parts)).encode(), digest_size=16).digest()
    return base64.urlsafe_b64encode(digest).decode()[:22]


def _number(value: float, count: bool) -> int | float:
    return int(value) if count and float(value).is_integer() else float(value)


class AlertEvaluator:
    """Alert triggers, derived from the export's own records: Smart Alert configs (application, global,
    infrastructure, website, mobile app) and the points of the series they watch.

    A config is evaluated per target entity (its scope: an application, its services or endpoints, one or every
    snapshot of a plugin, a website or mobile app), per severity level of `rules[0].thresholds` that is a
    static threshold, on consecutive windows of `granularity` ms aligned to the dataset window's start (only
    whole windows inside the exported window). A window's value is the sum of its points for SUM rules, calls
    weighted for the error rate (erroneous calls / calls), and otherwise its worst point (the alerting layer's
    convention: a per-minute percentile cannot be re-aggregated); a window violates when that value crosses
    the threshold. The time threshold decides when the alert is open: `violationsInSequence` (every window of
    `timeWindow`), `violationsInPeriod` (at least `violations` of them), `requestImpact` (at least `requests`
    calls in violating windows). So the window an alert triggers at always crosses the threshold itself.
    `triggered` is stamped with that window's start, `resolved` with the start of the first window the
    condition no longer held for `gracePeriod`. Disabled configs, adaptive or historic baselines and user
    impact thresholds are not evaluated: they need baselines or sessions that metric points do not hold."""

    def __init__(self) -> None:
        self.points: dict[tuple[str, str, str, str], tuple[Points, int | None]] = {}  # + series id
        self.labels: dict[tuple[str, str], str] = {}
        self.plugins: dict[str, str] = {}  # snapshot id -> plugin
        self.app_services: dict[str, list[str]] = {}
        self.service_endpoints: dict[str, list[str]] = {}
        self.configs: list[tuple[str, Record]] = []
        self.read: set[str] = set()

    @staticmethod
    def wants(dataset: str) -> bool:
        return dataset in ALERT_INPUTS or any(dataset in inputs for inputs in ALERT_INPUTS.values())

    def add(self, dataset: str, record: Record) -> None:
        self.read.add(dataset)
        if dataset in ALERT_INPUTS:
            self.configs.append((dataset, record))
        elif dataset == "metrics_timeseries":
            self._series(record)
        elif dataset == "services":
            self.labels[("SERVICE", record["id"])] = record["label"]
            for app in record["applicationIds"]:
                self.app_services.setdefault(app, []).append(record["id"])
        elif dataset in ("website_config", "mobile_config"):
            kind = "WEBSITE" if dataset == "website_config" else "MOBILE_APP"
            self.labels[(kind, record["id"])] = record["name"]
        elif dataset in ("website_metrics", "mobile_metrics"):
            kind, key = ("WEBSITE", "websiteId") if dataset == "website_metrics" else ("MOBILE_APP", "mobileAppId")
            for name, pairs in record["metrics"].items():
                metric, aggregation, _ = name.rsplit(".", 2)
                self.points[(kind, record[key], metric, aggregation.upper())] = (_arrays(pairs), None)

    def _series(self, record: Record) -> None:
        kind = record["entityType"]
        if kind == "INFRASTRUCTURE":
            eid = record["snapshotId"]
            self.plugins[eid] = record["plugin"]
            self.labels[(kind, eid)] = record["label"]
        else:
            entity = record[kind.lower()]
            eid = entity["id"]
            self.labels[(kind, eid)] = entity["label"]
            if kind == "ENDPOINT" and eid not in self.service_endpoints.get(entity["serviceId"], []):
                self.service_endpoints.setdefault(entity["serviceId"], []).append(eid)
        pairs = next(iter(record["metrics"].values()), [])
        self.points[(kind, eid, record["metricId"], record["aggregation"])] = (_arrays(pairs), record["seriesId"])

    # -- evaluation ---------------------------------------------------------------------------------------
    def events(self, info: dict[str, Any]) -> list[CloudEvent]:
        missing = sorted({n for d, _ in self.configs for n in ALERT_INPUTS[d]} - self.read)
        if missing:
            raise ApmseedError(f"alert triggers need the dataset(s) {', '.join(missing)}, which were not read",
                               f"export them along (--datasets ...,{','.join(missing)}) or drop the alert configs")
        end = int(info["end_time_ms"])
        origin = end - int(info["options"]["minutes"]) * 60_000
        lo, hi = info.get("export_window") or (None, None)
        lo = origin if lo is None else max(origin, int(lo))
        hi = end if hi is None else min(end, int(hi))
        out: list[CloudEvent] = []
        for dataset, config in self.configs:
            if not config.get("enabled", True):
                continue
            step = int(config["granularity"])
            first = origin + -(-(lo - origin) // step) * step
            count = max(0, (hi - first) // step)
            if count == 0:
                continue
            for target in self.targets(dataset, config):
                evaluation = self.evaluate(config, target, first, step, count)
                if evaluation is not None:
                    out += self._alerts(dataset, config, target, evaluation, first, step)
        return out

    def targets(self, dataset: str, config: Record) -> Iterator[AlertTarget]:
        """The entities a config's scope and evaluation type name, in a fixed order."""
        if dataset == "infra_alert_configs":
            snapshots = [config["snapshotId"]] if config.get("snapshotId") else sorted(
                s for s, plugin in self.plugins.items() if plugin == config["rules"][0]["rule"].get("entityType"))
            for sid in snapshots:
                yield AlertTarget("INFRASTRUCTURE", sid, (("snapshotId", sid),))
            return
        if dataset in ("website_alert_configs", "mobile_alert_configs"):
            website = dataset == "website_alert_configs"
            kind, key = ("WEBSITE", "websiteId") if website else ("MOBILE_APP", "mobileAppId")
            yield AlertTarget(kind, config[key], ((key, config[key]),))
            return
        evaluation = config.get("evaluationType")
        for app, node in sorted(config.get("applications", {}).items()):
            if evaluation == "PER_AP":
                if node["inclusive"]:
                    yield AlertTarget("APPLICATION", app, (("applicationId", app),))
                continue
            if node["inclusive"]:
                services = {s: {"inclusive": True, "endpoints": {}} for s in self.app_services.get(app, [])}
            else:
                services = node["services"]
            for sid, service in sorted(services.items()):
                if evaluation == "PER_AP_SERVICE" and service["inclusive"]:
                    yield AlertTarget("SERVICE", sid, (("applicationId", app), ("serviceId", sid)))
                elif evaluation == "PER_AP_ENDPOINT":
                    endpoints = self.service_endpoints.get(sid, []) if service["inclusive"] else [
                        e for e, n in service["endpoints"].items() if n["inclusive"]]
                    for eid in sorted(endpoints):
                        yield AlertTarget("ENDPOINT", eid, (("applicationId", app), ("endpointId", eid),
                                                            ("endpointServiceId", sid)))

    def evaluate(self, config: Record, target: AlertTarget, first: int, step: int,
                 count: int) -> Evaluation | None:
        """The rule's value per window for one target; None when the target has no series for it."""
        rule = config["rules"][0]["rule"]
        worst = "min" if config["rules"][0]["thresholdOperator"].startswith("<") else "max"
        key = (target.kind, target.entity_id)
        calls = self.points.get((*key, "calls", "SUM"))
        calls_values = window_values(calls[0], first, step, count, "sum")[0] if calls else None
        if rule.get("alertType") == "errorRate":
            errors = self.points.get((*key, "erroneousCalls", "SUM"))
            if errors is None or calls is None or calls_values is None:
                return None
            erroneous, _ = window_values(errors[0], first, step, count, "sum")
            present = calls_values > 0
            values = np.divide(erroneous, calls_values, out=np.zeros(count), where=present)
            return Evaluation(values, present, calls_values, [s for s in (errors[1], calls[1]) if s is not None])
        found = self.points.get((*key, rule.get("metricName"), rule.get("aggregation") or "MEAN"))
        if found is None:
            return None
        how = "sum" if rule.get("aggregation") == "SUM" else worst
        values, present = window_values(found[0], first, step, count, how)
        return Evaluation(values, present, calls_values, [] if found[1] is None else [found[1]])

    def _alerts(self, dataset: str, config: Record, target: AlertTarget, evaluation: Evaluation, first: int,
                step: int) -> list[CloudEvent]:
        rules = config["rules"][0]
        rule, operator = rules["rule"], rules["thresholdOperator"]
        compare = ALERT_OPERATORS.get(operator)
        if compare is None:
            return []
        grace = int(config.get("gracePeriod") or 0)
        source = f"{SOURCE_BASE}/{dataset.replace('_', '-')}/{quote(config['id'], safe='')}"
        label = self.labels.get((target.kind, target.entity_id), target.entity_id)
        if target.kind == "INFRASTRUCTURE":
            name = PLUGIN_NAMES.get(self.plugins.get(target.entity_id, ""), "Host")
        else:
            name = ENTITY_NAMES[target.kind]
        count_metric = rule.get("aggregation") == "SUM"
        out: list[CloudEvent] = []
        for level, severity in ALERT_LEVELS:
            threshold = rules["thresholds"].get(level)
            if not threshold or threshold.get("type") != "staticThreshold":
                continue
            violating = evaluation.present & compare(evaluation.values, threshold["value"])
            found = conditions(violating, evaluation.calls, config["timeThreshold"], step)
            if found is None:
                continue
            holds, violations, impacted = found
            for start, stop in episodes(holds, step, grace):
                t = first + start * step
                value = _number(evaluation.values[start], count_metric)
                event_id = alert_event_id(dataset, config["id"], target.kind, target.entity_id, dict(target.ids),
                                          level, t)
                alert: Record = {
                    "configId": config["id"], "configDataset": dataset, "level": level,
                    "metricName": rule.get("metricName"), "aggregation": rule.get("aggregation"),
                    "thresholdOperator": operator, "threshold": threshold["value"], "granularity": step,
                    "timeThreshold": config["timeThreshold"],
                    "window": {"from": t, "to": t + step, "value": value}, "violations": int(violations[start])}
                if impacted is not None:
                    alert["impactedCalls"] = int(impacted[start])
                if grace:
                    alert["gracePeriod"] = grace
                if evaluation.series_ids:
                    alert["seriesIds"] = evaluation.series_ids
                what = f"{rule.get('metricName')} ({rule.get('aggregation') or 'MEAN'})"
                data: Record = {
                    "eventId": event_id, "type": "issue", "state": "open", "severity": severity, "start": t,
                    "problem": config["name"],
                    "detail": f"{what} of {label} was {value:g} in the {step // 60_000}-minute window from "
                              f"{rfc3339_ms(t)}: {operator} {threshold['value']:g}, the {level} threshold.",
                    "entityType": target.kind, "entityName": name, "entityLabel": label, **dict(target.ids),
                    "eventSpecificationId": config["id"], "alert": alert}
                out.append(make_event("com.apmseed.alert.triggered", f"{event_id}:triggered", source, event_id, t,
                                      data))
                if stop is not None:
                    closed = {**data, "state": "closed", "end": first + stop * step}
                    out.append(make_event("com.apmseed.alert.resolved", f"{event_id}:resolved", source, event_id,
                                          closed["end"], closed))
        return out


def _arrays(pairs: list[Any]) -> Points:
    if not pairs:
        return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.float64)
    ts, values = zip(*pairs, strict=True)
    return np.asarray(ts, dtype=np.int64), np.asarray(values, dtype=np.float64)


# -- serialisation ----------------------------------------------------------------------------------------
def dumps(event: CloudEvent) -> bytes:
    """The structured-mode JSON of one event (sorted keys, so files are byte-for-byte reproducible)."""
    return orjson.dumps(event, option=orjson.OPT_SORT_KEYS)


# HTTP binding 3.1.3.2: printable ASCII other than space, double quote and percent goes into headers as is.
_HEADER_SAFE = "".join(c for c in map(chr, range(0x21, 0x7F)) if c not in ' "%')


def header_value(value: Any) -> str:
    return quote(str(value), safe=_HEADER_SAFE)


def binary_message(event: CloudEvent) -> tuple[dict[str, str], bytes]:
    """HTTP binary content mode: attributes as ce-* headers, datacontenttype as Content-Type, body = data."""
    headers = {"Content-Type": event.get("datacontenttype", DATA_CONTENT_TYPE)}
    for name, value in event.items():
        if name not in ("data", "datacontenttype") and value is not None:
            headers[f"ce-{name}"] = header_value(value)
    return headers, orjson.dumps(event["data"], option=orjson.OPT_SORT_KEYS)


def structured_message(event: CloudEvent) -> tuple[dict[str, str], bytes]:
    return {"Content-Type": f"{STRUCTURED_CONTENT_TYPE}; charset=utf-8"}, dumps(event)


def redact(url: str) -> str:
    """The URL without any password, for messages."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    netloc = f"{parts.username}:***@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))


# -- destinations -----------------------------------------------------------------------------------------
class FileTarget:
    """One file, JSON Lines or a JSON batch, written under a temporary name and renamed when complete."""

    def __init__(self, path: Path, fmt: str = "jsonl") -> None:
        if fmt not in FORMATS:
            raise ApmseedError(f"unknown CloudEvents format {fmt!r}", f"use one of: {', '.join(FORMATS)}")
        self.path = path
        self.format = fmt
        self._tmp: Path | None = None

    def check(self) -> None:
        path = self.path
        if path.is_dir():
            suffix = "json" if self.format == "batch" else "jsonl"
            raise ApmseedError(f"--out {path} is a directory", f"pass a file path, e.g. {path / ('events.' + suffix)}")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ApmseedError(f"cannot create directory {path.parent}: {exc.strerror}",
                               "pass a writable location for --out") from None

    def publish(self, events: list[CloudEvent]) -> dict[str, Any]:
        self._tmp = tmp = self.path.parent / f".{self.path.name}.tmp-{os.getpid()}"
        digest = hashlib.sha256()
        size = 0
        try:
            with open(tmp, "wb", buffering=1 << 20) as fh:
                for chunk in self._chunks(events):
                    fh.write(chunk)
                    digest.update(chunk)
                    size += len(chunk)
            os.replace(tmp, self.path)
        except OSError as exc:
            self.discard()
            raise ApmseedError(f"cannot write {self.path}: {exc.strerror}",
                               "free disk space or pick another --out path") from None
        self._tmp = None
        summary = {"target": "file", "path": str(self.path), "format": self.format, "bytes": size,
                   "sha256": digest.hexdigest()}
        if self.format == "batch":
            summary["contentType"] = BATCH_CONTENT_TYPE
        return summary

    def _chunks(self, events: list[CloudEvent]) -> Iterable[bytes]:
        if self.format == "jsonl":
            for event in events:
                yield dumps(event) + b"\n"
            return
        if not events:
            yield b"[]\n"
            return
        for i, event in enumerate(events):  # one event a line inside the array: still one JSON document
            yield (b"[\n" if i == 0 else b",\n") + dumps(event)
        yield b"\n]\n"

    def discard(self) -> None:
        if self._tmp is not None:
            self._tmp.unlink(missing_ok=True)
            self._tmp = None


class HttpSink:
    """One POST per event, in order. Connection errors, timeouts, 429 and 5xx are retried with exponential
    backoff (`tries` attempts in all); any other answer but 2xx stops the export."""

    def __init__(self, url: str, mode: str = "binary", *, tries: int = 3, backoff: float = 0.5,
                 timeout: float = 10.0) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ApmseedError(f"--sink {redact(url)!r} is not an http(s) URL",
                               "pass e.g. http://127.0.0.1:8080/events")
        if mode not in MODES:
            raise ApmseedError(f"unknown HTTP content mode {mode!r}", f"use one of: {', '.join(MODES)}")
        self.url, self.mode, self.tries, self.backoff, self.timeout = url, mode, max(1, tries), backoff, timeout
        self.retries = 0
        self._opener = urllib.request.build_opener(_NoRedirect)

    def check(self) -> None:
        """Nothing to prepare: reachability shows with the first event."""

    def publish(self, events: list[CloudEvent]) -> dict[str, Any]:
        encode = binary_message if self.mode == "binary" else structured_message
        for delivered, event in enumerate(events):
            headers, body = encode(event)
            self._post(event, headers, body, delivered, len(events))
        return {"target": "http", "sink": redact(self.url), "mode": self.mode, "requests": len(events),
                "retries": self.retries}

    def _post(self, event: CloudEvent, headers: dict[str, str], body: bytes, delivered: int, total: int) -> None:
        headers = {**headers, "User-Agent": f"apmseed/{__version__}"}
        problem = "no answer"
        for attempt in range(self.tries):
            if attempt:
                self.retries += 1
                sleep(self.backoff * 2 ** (attempt - 1))
            request = urllib.request.Request(self.url, data=body, headers=headers, method="POST")
            try:
                with self._opener.open(request, timeout=self.timeout) as response:
                    response.read()
                return
            except urllib.error.HTTPError as exc:
                status = f"HTTP {exc.code} {exc.reason}".strip()
                if exc.code >= 500 or exc.code == 429:
                    problem = status
                    continue
                detail = _first_line(exc.read(300))
                raise ApmseedError(
                    f"the sink {redact(self.url)} rejected CloudEvent {event['id']} with {status}"
                    + (f": {detail}" if detail else "") + f"; {delivered} of {total} events delivered",
                    "check what the sink accepts (--mode binary|structured) and its URL") from None
            except urllib.error.URLError as exc:
                problem = _reason(exc.reason)
            except (OSError, http.client.HTTPException) as exc:  # timeouts, resets, malformed answers
                problem = _reason(exc)
        raise ApmseedError(
            f"cannot deliver CloudEvents to {redact(self.url)} after {self.tries} tries: {problem}; "
            f"{delivered} of {total} events delivered",
            "check that the sink is running and reachable, then rerun; event ids are stable, "
            "so the sink can drop duplicates")

    def discard(self) -> None:
        """Delivered events cannot be recalled."""


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """A redirected POST would arrive as a body-less GET: report the redirect instead of following it."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


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
    return lines[0].strip() if lines else ""


# -- the exporter -----------------------------------------------------------------------------------------
class CloudEventsExporter:
    """`Exporter` for CloudEvents: datasets without an entry in MAPPINGS are skipped unread."""

    def __init__(self, target: FileTarget | HttpSink, mappings: dict[str, EventMapping] | None = None,
                 alerts: bool = True) -> None:
        self.target = target
        self.mappings = MAPPINGS if mappings is None else mappings
        self.alerts = AlertEvaluator() if alerts else None
        self.info: dict[str, Any] = {}
        self.counts: dict[str, int] = {}
        self.skipped: list[str] = []
        self._events: list[tuple[str, int, str, CloudEvent]] = []

    def open(self, info: dict[str, Any]) -> None:
        self.info = info
        self.target.check()

    def export(self, dataset: Dataset, records: Iterable[Record]) -> int:
        mapping = self.mappings.get(dataset.name)
        alerts = self.alerts if self.alerts is not None and self.alerts.wants(dataset.name) else None
        if mapping is None and alerts is None:
            self.skipped.append(dataset.name)
            return 0
        if alerts is not None:
            alerts.read.add(dataset.name)  # read, even when it holds no records
        count = 0
        for record in records:
            if mapping is not None:
                self._add(mapping(record))
            if alerts is not None:
                alerts.add(dataset.name, record)
            count += 1
        self.counts[dataset.name] = count
        return count

    def _add(self, events: list[CloudEvent]) -> None:
        for position, event in enumerate(events):
            self._events.append((event["time"], position, event["id"], event))

    def events(self) -> list[CloudEvent]:
        """Every buffered event, by (time, lifecycle position, id)."""
        return [item[3] for item in sorted(self._events, key=lambda item: item[:3])]

    def close(self, ok: bool) -> dict[str, Any]:
        if not ok:
            self.target.discard()
            self._events.clear()
            return {}
        if self.alerts is not None and self.alerts.configs:
            for event in self.alerts.events(self.info):  # a resolved event after its triggered one
                self._events.append((event["time"], int(event["type"].endswith(".resolved")), event["id"], event))
        events = self.events()
        published = self.target.publish(events)
        return {"tool": "apmseed", "toolVersion": self.info.get("tool_version"),
                "datasetVersion": self.info.get("dataset_version"), "specversion": SPECVERSION, **published,
                "events": len(events), "eventTypes": dict(sorted(Counter(e["type"] for e in events).items())),
                "counts": self.counts, "skipped": self.skipped}


__all__ = ["ALERT_INPUTS", "EVENT_TYPES", "MAPPINGS", "AlertEvaluator", "CloudEventsExporter", "FileTarget",
           "HttpSink", "entity_source", "incident_and_change_events", "issue_events", "release_events", "rfc3339_ms",
           "synthetic_failure_events"]
