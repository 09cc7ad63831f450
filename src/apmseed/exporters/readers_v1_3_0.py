"""Readers and dataset entries for dataset 1.3.0: releases, traces and calls, and all events.

issues.jsonl keeps its 1.0.0 shape whatever the version; the 1.3.0 view of events is a file of its own,
events.jsonl (Instana `EventResult`s of type issue, incident and change), where issues carry their correlated
metric windows in `metrics`. So a consumer of 1.0 files reads the same bytes from a 1.3 database."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from apmseed.exporters.base import Record
from apmseed.exporters.datasets_base import Dataset

if TYPE_CHECKING:
    from apmseed.exporters.snapshot import Snapshot


def releases(snap: Snapshot) -> Iterator[Record]:
    """Instana `ReleaseWithMetadata` (GET /api/releases)."""
    apps = dict(snap.conn.execute(sa.text("SELECT id, label FROM application")).all())
    names = dict(snap.conn.execute(sa.text("SELECT id, label FROM service")).all())
    listed: dict[str, list[str]] = defaultdict(list)
    for r in snap.conn.execute(sa.text("SELECT release_id, application_id FROM release_application ORDER BY 1, 2")):
        listed[r.release_id].append(r.application_id)
    scopes: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for r in snap.conn.execute(sa.text(
            "SELECT release_id, service_id, application_id FROM release_service ORDER BY 1, 2, 3")):
        scopes[r.release_id].append((r.service_id, r.application_id))
    rows = snap.conn.execute(sa.text(
        f"SELECT id, name, start_ms, last_updated_ms FROM release WHERE {snap._window('start_ms')} ORDER BY id"))
    for r in rows:
        by_service: dict[str, list[str]] = defaultdict(list)
        for sid, aid in scopes[r.id]:
            by_service[sid].append(aid)
        yield {
            "id": r.id, "name": r.name, "start": r.start_ms, "lastUpdated": r.last_updated_ms,
            "applications": [{"id": a, "name": apps[a]} for a in listed[r.id]],
            "services": [{"id": sid, "name": names[sid],
                          "scopedTo": {"applications": [{"id": a, "name": apps[a]} for a in aids]}}
                         for sid, aids in by_service.items()],
            "scopes": [{"applicationId": aid, "applicationName": apps[aid], "serviceId": sid,
                        "serviceName": names[sid]} for sid, aid in scopes[r.id]],
        }


def application_traces(snap: Snapshot) -> Iterator[Record]:
    """Instana `Trace` (the `trace` of a `TraceResult` item, POST /analyze/traces), + `applicationId`."""
    services = {s["id"]: {k: v for k, v in s.items() if k != "applicationIds"} for s in snap.services()}
    endpoints = {e["id"]: e for e in snap.endpoints()}
    rows = snap.stream("SELECT id, label, start_ms, duration_ms, erroneous, application_id, service_id, endpoint_id"
                       f" FROM trace WHERE {snap._window('start_ms')} ORDER BY id")
    for r in rows:
        item: Record = {"id": r.id, "label": r.label, "startTime": r.start_ms, "duration": r.duration_ms,
                        "erroneous": r.erroneous, "service": services[r.service_id]}
        if r.endpoint_id is not None:
            item["endpoint"] = endpoints[r.endpoint_id]
        item["applicationId"] = r.application_id
        yield item


def calls(snap: Snapshot) -> Iterator[Record]:
    """Instana `GetTraceDownloadResultItem` (the items of GET /v2/analyze/traces/{id}), + `traceId`. A trace's
    calls are together and parents come before their children (by trace, then time); with --from/--to, the calls
    of the traces that start in the window, inside the window."""
    services = {r.id: r for r in snap.conn.execute(sa.text("SELECT id, label, technologies FROM service"))}
    endpoints = {r.id: r for r in snap.conn.execute(sa.text("SELECT id, label, type FROM endpoint"))}
    rows = snap.stream("SELECT c.* FROM call c JOIN trace t ON t.id = c.trace_id"
                       f" WHERE {snap._window('t.start_ms')} AND {snap._window('c.start_ms')}"
                       " ORDER BY c.trace_id, c.start_ms, c.id", mappings=True)
    for r in rows:
        svc = services[r["dst_service_id"]]
        destination: Record = {"service": {"id": svc.id, "label": svc.label}}
        if r["dst_endpoint_id"] is not None:
            ep = endpoints[r["dst_endpoint_id"]]
            destination["endpoint"] = {"id": ep.id, "label": ep.label, "type": ep.type}
        destination["technologies"] = list(svc.technologies)
        item: Record = {"id": r["id"], "traceId": r["trace_id"]}
        if r["parent_id"] is not None:
            item["parentId"] = r["parent_id"]
        item |= {"name": r["name"], "timestamp": r["start_ms"], "duration": r["duration_ms"],
                 "errorCount": r["error_count"], "destination": destination}
        if r["network_time_ms"] is not None:
            item["networkTime"] = r["network_time_ms"]
        yield item


def _metric_windows(snap: Snapshot) -> dict[str, list[Record]]:
    """event id -> `metrics` entries: one object per correlated series, keyed like the series' metrics key."""
    out: dict[str, list[Record]] = defaultdict(list)
    rows = snap.conn.execute(sa.text(
        "SELECT m.*, s.entity_kind, s.metric_id, s.aggregation, s.granularity_s FROM event_metric m"
        " JOIN metric_series s USING (series_id) ORDER BY m.event_id, m.series_id")).mappings()
    for r in rows:
        key = r["metric_id"] if r["entity_kind"] == "INFRASTRUCTURE" else (
            f"{r['metric_id']}.{r['aggregation'].lower()}.{r['granularity_s']}")
        out[r["event_id"]].append({key: {
            "seriesId": r["series_id"], "metricId": r["metric_id"], "aggregation": r["aggregation"],
            "granularity": r["granularity_s"], "from": r["window_from_ms"], "to": r["window_to_ms"],
            "mean": round(r["window_mean"], 6), "baseline": round(r["baseline_mean"], 6), "peak": r["peak"]}})
    return out


def _release_ref(r: Any) -> Record:
    return {"releaseId": r.release_id, "name": r.name, "start": r.start_ms, "changeEventId": r.change_id}


def events(snap: Snapshot) -> Iterator[Record]:
    """Instana `EventResult`s of every type (GET /api/events with eventTypeFilters ISSUE, INCIDENT, CHANGE), by
    start (at the same start: issues, then incidents, then changes). Issues as in issues.jsonl plus `metrics`
    (the correlated series windows) and, after a bad deploy, `metadata.precedingRelease`; incidents with
    `triggeringEventId`, `recentEvents` (the grouped issues), the trigger's `metrics` and, if a release preceded
    the trigger, `probableCause`; changes (the deploy of a release, severity -1) with `releaseId`."""
    from apmseed.exporters.readers_v1_4_0 import event_specification_ids

    metrics = _metric_windows(snap)
    specifications = event_specification_ids(snap.conn)  # empty before 1.4.0
    preceding = {r.event_id: _release_ref(r) for r in snap.conn.execute(sa.text(
        "SELECT ri.event_id, ri.release_id, r.name, r.start_ms, c.event_id AS change_id FROM release_issue ri"
        " JOIN release r ON r.id = ri.release_id JOIN change_event c ON c.release_id = r.id"))}
    items: list[tuple[int, int, str, Record]] = []  # (start, kind, id): issues before the incidents they open
    issues = {}
    for issue in snap.issues():
        issues[issue["eventId"]] = issue
        item = dict(issue)
        if issue["eventId"] in metrics:
            item["metrics"] = metrics[issue["eventId"]]
        if issue["eventId"] in preceding:
            item["metadata"] = {"precedingRelease": preceding[issue["eventId"]]}
        if issue["eventId"] in specifications:
            item["eventSpecificationId"] = specifications[issue["eventId"]]
        items.append((issue["start"], 0, issue["eventId"], item))

    grouped: dict[str, list[Record]] = defaultdict(list)
    for r in snap.conn.execute(sa.text(
            "SELECT ie.incident_id, e.event_id, e.type, e.state, e.severity, e.start_ms, e.end_ms, e.problem,"
            " e.entity_type, e.entity_label FROM incident_event ie JOIN event e ON e.event_id = ie.event_id"
            " ORDER BY ie.incident_id, e.start_ms, e.event_id")):
        recent: Record = {"eventId": r.event_id, "type": r.type, "state": r.state, "severity": r.severity,
                          "start": r.start_ms, "problem": r.problem, "entityType": r.entity_type,
                          "entityLabel": r.entity_label}
        if r.end_ms is not None:
            recent["end"] = r.end_ms
        grouped[r.incident_id].append({"event": recent})
    for r in snap.conn.execute(sa.text(
            f"SELECT * FROM incident WHERE {snap._window('start_ms')} ORDER BY start_ms, event_id")).mappings():
        item = {"eventId": r["event_id"], "type": "incident", "state": r["state"], "severity": r["severity"],
                "start": r["start_ms"], "problem": r["problem"], "detail": r["detail"],
                "fixSuggestion": r["fix_suggestion"], "entityType": "APPLICATION", "entityName": "Application",
                "entityLabel": r["entity_label"]}
        if r["end_ms"] is not None:
            item["end"] = r["end_ms"]
        item |= {"applicationId": r["application_id"], "triggeringEventId": r["triggering_event_id"],
                 "recentEvents": grouped[r["event_id"]]}
        if r["triggering_event_id"] in metrics:
            item["metrics"] = metrics[r["triggering_event_id"]]
        if r["triggering_event_id"] in preceding:
            item["probableCause"] = {"release": preceding[r["triggering_event_id"]]}
        items.append((r["start_ms"], 1, r["event_id"], item))

    for r in snap.conn.execute(sa.text(
            f"SELECT * FROM change_event WHERE {snap._window('start_ms')} ORDER BY start_ms, event_id")).mappings():
        item = {"eventId": r["event_id"], "type": "change", "state": "closed", "severity": -1,
                "start": r["start_ms"], "end": r["end_ms"], "problem": r["problem"], "detail": r["detail"],
                "entityType": r["entity_type"], "entityName": r["entity_type"].capitalize(),
                "entityLabel": r["entity_label"], "applicationId": r["application_id"]}
        if r["service_id"] is not None:
            item["serviceId"] = r["service_id"]
        item["releaseId"] = r["release_id"]
        items.append((r["start_ms"], 2, r["event_id"], item))
    items.sort(key=lambda t: t[:3])
    for *_, item in items:
        yield item


DATASETS: list[Dataset] = [
    Dataset("releases", "releases.jsonl", "id", ("release", "release_application", "release_service"),
            since="1.3.0", time_key="start", reader=releases),
    Dataset("application_traces", "application_traces.jsonl", "id", ("trace",), since="1.3.0",
            time_key="startTime", reader=application_traces, per_row="trace"),
    Dataset("calls", "calls.jsonl", "id", ("call",), since="1.3.0", time_key="timestamp", reader=calls, per_row="call"),
    Dataset("events", "events.jsonl", "eventId",
            ("change_event", "incident", "incident_event", "event_metric", "release_issue"), since="1.3.0",
            time_key="start", reader=events),
]
