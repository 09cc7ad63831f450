"""Cross-file and temporal rules for dataset 1.3.0: releases, traces and calls, events (issues with their
correlated metric windows, incidents, changes).

* releases: applications and services exist under their labels; a service is scoped only to applications that
  contain it and that the release lists; `scopes` is `services[].scopedTo` flattened; lastUpdated >= start.
* application_traces: the root service and endpoint exist, the endpoint is the service's, the application
  contains the service.
* calls: the trace exists and holds the call in time; a trace has one root, the trace's first call; a child is
  a call of a service its parent's service calls on the service map (app_topology), starts after its parent's
  previous child ended and ends within its parent; children + network time fit in the parent's duration; an
  erroneous call only in a minute whose erroneousCalls point of its service and endpoint is > 0, and no more
  sampled calls of a service or endpoint in a minute than its calls point.
* events: an issue is the one in issues.jsonl; every `metrics` window names a series of metrics_timeseries
  whose entity is the issue's (an incident: its triggering issue's), the window is that issue's [start, end)
  (to the end of the series when open), and the series' mean inside the window is above its mean outside it
  (measured on the exported points); a preceding release deployed the issue's service in its application one
  to two minutes before it started; an incident groups issues of its application, starts with the first,
  takes the highest severity, closes with the last; a change is its release's deploy, from start to lastUpdated.

A referenced dataset that was not exported is not checked. Metric points are kept compactly only for the
series these rules need (SERVICE / ENDPOINT calls and erroneousCalls) and as per-window means for the series
of entities with issues; everything else kept is per entity, release, trace or event."""

from __future__ import annotations

from array import array
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from apmseed.validation_rules import Index

KEEP: dict[str, tuple[str, ...]] = {
    "applications": ("label",),
    "services": ("applicationIds", "label"),
    "endpoints": ("serviceId", "label"),
    "issues": ("type", "state", "severity", "start", "end", "problem", "entityType", "applicationId", "serviceId",
               "endpointId", "endpointServiceId", "snapshotId"),
    "metrics_timeseries": ("entityType", "snapshotId", "application", "service", "endpoint", "timeframe",
                           "metricId", "aggregation", "granularity"),
    "releases": ("start", "lastUpdated", "scopes"),
}
ISSUE_KEYS = KEEP["issues"]
RECENT_KEYS = ("start", "end", "severity", "state", "problem", "entityType")  # what recentEvents repeat of an issue
LEAD_MS = (60_000, 120_000)  # a preceding release lands this long before its issue starts
# the rules' own state, kept in the index under names no dataset has
ENTITY_ISSUES, WINDOWS, SIGNALS, EDGES, TRACES, CALLS, USED, SPANS, ISSUE_OK, EVENT_ISSUES = (
    f"v1_3_0:{name}" for name in ("entity_issues", "windows", "signals", "edges", "traces", "calls", "used", "spans",
                                  "issue_ok", "event_issues"))


def check(dataset: str, number: int, record: dict[str, Any], index: Index) -> list[str]:
    try:
        handler = HANDLERS.get(dataset)
        return handler(record, index) if handler else []
    except (KeyError, TypeError, ValueError, AttributeError, IndexError):
        return []  # a malformed record: its schema check reports it


def _read(index: Index, dataset: str) -> bool:
    return bool(index.ids(dataset))


def _state(index: Index, name: str, key: Any, initial: dict[str, Any] | None = None) -> dict[str, Any] | None:
    """A mutable dict kept in the index under (name, key); created from `initial` when missing."""
    found = index.get(name, key)
    if found is None and initial is not None:
        index.add(name, key, initial, tuple(initial))
        found = index.get(name, key)
    return found


def _note_start(index: Index, dataset: str, start: int) -> None:
    """The earliest and latest start exported in a dataset (a --from/--to export cuts references at them)."""
    span = _state(index, SPANS, dataset, {"first": start, "last": start})
    span["first"], span["last"] = min(span["first"], start), max(span["last"], start)  # type: ignore[index]


def _cut_off(index: Index, dataset: str, start: Any) -> bool:
    """Whether a record of `dataset` starting at `start` may be missing because the export was cut by
    --from/--to: it starts outside the export's window (the manifest's exportWindow, where the validator passes
    it on) or, without that, outside the starts of the records exported."""
    if not isinstance(start, int):
        return False
    cut = getattr(index, "export_window", None)
    if cut is not None:
        lo, hi = cut
        return (lo is not None and start < lo) or (hi is not None and start >= hi)
    if getattr(index, "window", None) is not None:
        return False  # the validator says what the export holds, and it is not cut
    span = index.get(SPANS, dataset)
    return span is not None and not span["first"] <= start <= span["last"]


def _inside(index: Index, what: str, start: int, end: int | None = None) -> list[str]:
    """[start, end] lies in the data window (the manifest's timeframe), where the validator passes it on."""
    window = getattr(index, "window", None)
    if not window:
        return []
    lo, hi = window
    if not lo <= start < hi or (end is not None and end > hi):
        return [f"{what} [{start}, {end if end is not None else ''}] is outside the data window [{lo}, {hi})"]
    return []


def _entity_key(kind: str, ident: Any) -> str:
    return f"{kind}:{ident}"


def _issue_entity(r: dict[str, Any]) -> str:
    kind = r.get("entityType")
    ident = {"APPLICATION": r.get("applicationId"), "SERVICE": r.get("serviceId"),
             "ENDPOINT": r.get("endpointId"), "INFRASTRUCTURE": r.get("snapshotId")}.get(kind)  # type: ignore[arg-type]
    return _entity_key(str(kind), ident)


def _series_entity(r: dict[str, Any]) -> str:
    kind = r.get("entityType")
    if kind == "INFRASTRUCTURE":
        return _entity_key(kind, r.get("snapshotId"))
    return _entity_key(str(kind), (r.get(str(kind).lower()) or {}).get("id"))


# -- what earlier files leave for later ones ------------------------------------------------------------------
def _on_issue(r: dict[str, Any], index: Index) -> list[str]:
    from apmseed.validation import schema_problem  # the validator imports this package: import when used

    # events.jsonl is compared with issues.jsonl records that are valid themselves (a broken one is reported
    # on its own line, not again on every event that names it)
    index.add(ISSUE_OK, r.get("eventId"), {"ok": schema_problem("issues", r) is None}, ("ok",))
    _note_start(index, "issues", r["start"])
    windows = _state(index, ENTITY_ISSUES, _issue_entity(r), {"windows": []})
    windows["windows"].append((r["start"], r.get("end")))  # type: ignore[index]
    return []


def _on_series(r: dict[str, Any], index: Index) -> list[str]:
    (points,) = r["metrics"].values()
    entity = _series_entity(r)
    tf = r["timeframe"]
    # windows of the entity's issues: mean inside vs outside, measured where the series is exported whole (the
    # layer judged each window against the whole series; a --from/--to cut could hide part of the baseline)
    whole = len(points) * r["granularity"] * 1000 == tf["to"] - tf["from"] and (
        not points or points[0][0] == tf["from"])
    issues = index.get(ENTITY_ISSUES, entity)
    for start, end in (issues or {}).get("windows", []):
        to = end if end is not None else tf["to"]
        inside = [v for t, v in points if start <= t < to]
        outside = [v for t, v in points if not start <= t < to]
        index.add(WINDOWS, f"{r['seriesId']}:{start}:{to}",
                  {"mean": sum(inside) / len(inside) if whole and inside else None,
                   "baseline": sum(outside) / len(outside) if whole and outside else None}, ("mean", "baseline"))
    # calls and erroneous calls of services and endpoints bound the sampled calls
    if r["entityType"] in ("SERVICE", "ENDPOINT") and r["metricId"] in ("calls", "erroneousCalls") and points:
        step = r["granularity"] * 1000
        inside = [(t, v) for t, v in points if tf["from"] <= t < tf["to"] and not (t - tf["from"]) % step]
        first = inside[0][0] if inside else tf["from"]
        values = array("f", [float("nan")]) * ((inside[-1][0] - first) // step + 1 if inside else 0)
        for t, v in inside:
            values[(t - first) // step] = v  # a point missing from the series stays NaN: nothing to compare
        index.add(SIGNALS, f"{entity}:{r['metricId']}", {"first": first, "step": step, "values": values},
                  ("first", "step", "values"))
    return []


def _on_service_map(r: dict[str, Any], index: Index) -> list[str]:
    for c in r.get("connections") or []:
        index.add(EDGES, f"{c['from']}>{c['to']}", {})
    return []


# -- releases -------------------------------------------------------------------------------------------------
def _on_release(r: dict[str, Any], index: Index) -> list[str]:
    _note_start(index, "releases", r["start"])
    problems = _inside(index, "the release", r["start"], r.get("lastUpdated"))
    if r.get("lastUpdated", r["start"]) < r["start"]:
        problems.append(f"lastUpdated {r['lastUpdated']} is before start {r['start']}")
    listed = set()
    for app in r.get("applications") or []:
        listed.add(app["id"])
        problems += _named(index, "applications", app["id"], app.get("name"), "applications[].id")
    flattened = []
    for svc in r.get("services") or []:
        problems += _named(index, "services", svc["id"], svc.get("name"), "services[].id")
        kept = index.get("services", svc["id"])
        for app in (svc.get("scopedTo") or {}).get("applications") or []:
            flattened.append((app["id"], svc["id"]))
            if app["id"] not in listed:
                problems.append(f"service {svc['id']!r} is scoped to application {app['id']!r}, which the release "
                                f"does not list")
            if kept is not None and app["id"] not in (kept.get("applicationIds") or []):
                problems.append(f"service {svc['id']!r} is scoped to application {app['id']!r}, which does not "
                                f"contain it")
    scopes = [(s.get("applicationId"), s.get("serviceId")) for s in r.get("scopes") or []]
    if sorted(scopes) != sorted(flattened):
        problems.append("scopes are not services[].scopedTo.applications flattened")
    return problems


def _named(index: Index, dataset: str, ident: str, name: Any, what: str) -> list[str]:
    if not _read(index, dataset):
        return []
    if not index.has(dataset, ident):
        return [f"{what} {ident!r} does not exist in {dataset}"]
    kept = index.get(dataset, ident)
    if kept is not None and name is not None and kept.get("label") != name:
        return [f"{what} {ident!r} is named {name!r}, but its label is {kept.get('label')!r}"]
    return []


# -- traces and calls -----------------------------------------------------------------------------------------
def _on_trace(r: dict[str, Any], index: Index) -> list[str]:
    problems = _inside(index, "the trace", r["startTime"], r["startTime"] + r["duration"])
    service, endpoint = r["service"]["id"], (r.get("endpoint") or {}).get("id")
    problems += _named(index, "services", service, r["service"].get("label"), "service.id")
    if endpoint is not None:
        problems += _named(index, "endpoints", endpoint, r["endpoint"].get("label"), "endpoint.id")
        if r["endpoint"].get("serviceId") != service:
            problems.append(f"endpoint {endpoint!r} belongs to service {r['endpoint'].get('serviceId')!r}, not to "
                            f"the trace's service {service!r}")
    kept = index.get("services", service)
    if kept is not None and r.get("applicationId") not in (kept.get("applicationIds") or []):
        problems.append(f"applicationId {r.get('applicationId')!r} does not contain the trace's service")
    index.add(TRACES, r["id"], {"start": r["startTime"], "end": r["startTime"] + r["duration"], "service": service,
                                "endpoint": endpoint, "label": r["label"], "erroneous": r.get("erroneous"),
                                "roots": 0, "calls": {}}, ("start", "end", "service", "endpoint", "label",
                                                            "erroneous", "roots", "calls"))
    return problems


def _on_call(r: dict[str, Any], index: Index) -> list[str]:
    problems: list[str] = []
    start, duration = r["timestamp"], r["duration"]
    end = start + duration
    service = r["destination"]["service"]["id"]
    endpoint = (r["destination"].get("endpoint") or {}).get("id")
    trace = index.get(TRACES, r["traceId"])
    if trace is None:
        if _read(index, "application_traces"):
            problems.append(f"traceId {r['traceId']!r} does not exist in application_traces")
        return problems
    cursor = _state(index, CALLS, "cursor", {"trace": None})
    if cursor["trace"] != r["traceId"]:  # type: ignore[index]
        previous = index.get(TRACES, cursor["trace"])  # type: ignore[index]
        if previous is not None:
            previous["calls"] = {}  # a trace's calls come together: forget the finished one
        cursor["trace"] = r["traceId"]  # type: ignore[index]
    if not (trace["start"] <= start and end <= trace["end"]):
        problems.append(f"call [{start}, {end}] is not inside its trace [{trace['start']}, {trace['end']}]")
    if r.get("errorCount") and trace.get("erroneous") is False:
        problems.append("an erroneous call in a trace that is not erroneous")
    parent_id = r.get("parentId")
    if parent_id is None:
        trace["roots"] += 1
        if trace["roots"] > 1:
            problems.append(f"a second root call in trace {r['traceId']!r}")
        if (start, end, service, endpoint, r.get("name")) != (trace["start"], trace["end"], trace["service"],
                                                               trace["endpoint"], trace["label"]):
            problems.append("the root call is not the trace's start, duration, service, endpoint and label")
    else:
        parent = trace["calls"].get(parent_id)
        if parent is None:
            problems.append(f"parentId {parent_id!r} is not an earlier call of trace {r['traceId']!r}")
        else:
            if _read(index, "app_topology") and not index.has(EDGES, f"{parent['service']}>{service}"):
                problems.append(f"service {parent['service']!r} calls {service!r}, which the service map does not "
                                f"connect")
            if start < parent["next"] or end > parent["end"]:
                problems.append(f"call [{start}, {end}] overlaps an earlier sibling or leaves its parent "
                                f"[{parent['start']}, {parent['end']}]")
            parent["next"] = max(parent["next"], end)
            parent["children"] += duration
            if parent["children"] + parent["network"] > parent["duration"]:
                problems.append(f"the children of {parent_id!r} take {parent['children']} ms plus "
                                f"{parent['network']} ms network, more than its {parent['duration']} ms")
    trace["calls"][r["id"]] = {"service": service, "start": start, "end": end, "next": start,
                               "duration": duration, "network": r.get("networkTime") or 0, "children": 0}
    problems += _against_metrics(index, "SERVICE", service, start, bool(r.get("errorCount")))
    if endpoint is not None:
        problems += _against_metrics(index, "ENDPOINT", endpoint, start, bool(r.get("errorCount")))
    return problems


def _against_metrics(index: Index, kind: str, ident: str, ts: int, erroneous: bool) -> list[str]:
    problems = []
    entity = _entity_key(kind, ident)
    calls = index.get(SIGNALS, f"{entity}:calls")
    if calls is not None:
        idx = (ts - calls["first"]) // calls["step"]
        if 0 <= idx < len(calls["values"]) and calls["values"][idx] == calls["values"][idx]:
            used = _state(index, USED, f"{entity}:{idx}", {"n": 0})
            used["n"] += 1  # type: ignore[index]
            if used["n"] > calls["values"][idx]:  # type: ignore[index]
                problems.append(f"more sampled calls of {kind.lower()} {ident!r} in the minute of {ts} than its "
                                f"calls series counts ({calls['values'][idx]:g})")
    errors = index.get(SIGNALS, f"{entity}:erroneousCalls")
    if erroneous and errors is not None:
        idx = (ts - errors["first"]) // errors["step"]
        if 0 <= idx < len(errors["values"]) and errors["values"][idx] <= 0:  # NaN compares False
            problems.append(f"an erroneous call of {kind.lower()} {ident!r} at {ts}, where its erroneousCalls "
                            f"series counts none")
    return problems


# -- events ---------------------------------------------------------------------------------------------------
def _on_event(r: dict[str, Any], index: Index) -> list[str]:
    problems = _inside(index, "the event", r["start"], r.get("end"))
    kind = r.get("type")
    if kind == "issue":
        return problems + _event_issue(r, index)
    if kind == "incident":
        return problems + _event_incident(r, index)
    if kind == "change":
        return problems + _event_change(r, index)
    return problems


def _event_issue(r: dict[str, Any], index: Index) -> list[str]:
    problems: list[str] = []
    index.add(EVENT_ISSUES, r["eventId"], r, ISSUE_KEYS)  # what the incidents later in this file are checked on
    if _read(index, "issues"):
        kept = index.get("issues", r["eventId"])
        if kept is None:
            return [f"issue {r['eventId']!r} does not exist in issues"]
        differ = [k for k in ISSUE_KEYS if kept.get(k) != r.get(k)]
        if differ and (index.get(ISSUE_OK, r["eventId"]) or {}).get("ok"):
            problems.append(f"differs from its issues.jsonl record in {', '.join(differ)}")
    problems += _windows(r, r, r["eventId"], index)
    preceding = (r.get("metadata") or {}).get("precedingRelease")
    if preceding is not None:
        problems += _preceding(r, preceding, index)
    return problems


def _windows(r: dict[str, Any], issue: dict[str, Any], issue_id: str, index: Index) -> list[str]:
    """`metrics` of an event: series of `issue`'s entity over `issue`'s window, showing the excursion."""
    problems: list[str] = []
    for entry in r.get("metrics") or []:
        ((key, window),) = entry.items()
        sid = window["seriesId"]
        if not _read(index, "metrics_timeseries"):
            continue
        series = index.get("metrics_timeseries", sid)
        if series is None:
            problems.append(f"metrics {key!r}: seriesId {sid} does not exist in metrics_timeseries")
            continue
        expected_key = series["metricId"] if series["entityType"] == "INFRASTRUCTURE" else (
            f"{series['metricId']}.{str(series['aggregation']).lower()}.{series['granularity']}")
        if key != expected_key:
            problems.append(f"metrics {key!r} should be keyed {expected_key!r} like series {sid}")
        if _series_entity(series) != _issue_entity(issue):
            problems.append(f"metrics {key!r}: series {sid} is not a series of the issue's entity")
        tf = series["timeframe"]
        to = issue.get("end") if issue.get("end") is not None else tf["to"]
        if (window["from"], window["to"]) != (issue["start"], to):
            problems.append(f"metrics {key!r}: window [{window['from']}, {window['to']}) is not the issue's "
                            f"[{issue['start']}, {to})")
            continue
        if not tf["from"] <= window["from"] < window["to"] <= tf["to"]:
            problems.append(f"metrics {key!r}: window is outside the series' timeframe")
        measured = index.get(WINDOWS, f"{sid}:{window['from']}:{window['to']}")
        if measured is None:
            if index.has("issues", issue_id):  # (an issue missing from issues.jsonl is reported as such)
                problems.append(f"metrics {key!r}: no issue of series {sid}'s entity has this window")
        elif measured["mean"] is None or measured["baseline"] is None:
            continue  # a windowed export left no points on one side: nothing to compare
        elif measured["mean"] <= measured["baseline"]:
            problems.append(f"metrics {key!r}: series {sid} shows no excursion in the window (mean "
                            f"{measured['mean']:g} <= {measured['baseline']:g} outside)")
    return problems


def _preceding(issue: dict[str, Any], ref: dict[str, Any], index: Index) -> list[str]:
    problems: list[str] = []
    release = index.get("releases", ref.get("releaseId"))
    if release is None:
        if _read(index, "releases") and not _cut_off(index, "releases", ref.get("start")):
            problems.append(f"precedingRelease {ref.get('releaseId')!r} does not exist in releases")
        return problems
    lead = issue["start"] - release["start"]
    if not LEAD_MS[0] <= lead <= LEAD_MS[1]:
        problems.append(f"precedingRelease {ref['releaseId']!r} started {lead} ms before the issue, not one to two "
                        f"minutes")
    if ref.get("start") != release["start"]:
        problems.append("precedingRelease.start is not the release's start")
    service = issue.get("serviceId") or issue.get("endpointServiceId")
    scopes = {(s.get("applicationId"), s.get("serviceId")) for s in release.get("scopes") or []}
    if (issue.get("applicationId"), service) not in scopes:
        problems.append(f"precedingRelease {ref['releaseId']!r} did not deploy service {service!r} in application "
                        f"{issue.get('applicationId')!r}")
    if _read(index, "events") and not index.has("events", ref.get("changeEventId")):
        problems.append(f"precedingRelease.changeEventId {ref.get('changeEventId')!r} is not an earlier event")
    return problems


def _event_incident(r: dict[str, Any], index: Index) -> list[str]:
    """Checked on its own `recentEvents` and on the issue records earlier in events.jsonl (an issue comes before
    an incident that starts at the same time), so damage to issues.jsonl is reported once, on the issue."""
    problems: list[str] = []
    grouped = [e["event"] for e in r.get("recentEvents") or []]
    trigger = next((e for e in grouped if e["eventId"] == r.get("triggeringEventId")), None)
    if trigger is None:
        return [f"triggeringEventId {r.get('triggeringEventId')!r} is not one of the recentEvents"]
    if min(e["start"] for e in grouped) != trigger["start"] or r["start"] != trigger["start"]:
        problems.append("the incident does not start with its triggering issue, the first of its issues")
    if r.get("severity") != max(e["severity"] for e in grouped):
        problems.append("severity is not the highest of its issues")
    ends = [e.get("end") for e in grouped]
    closed = all(e is not None for e in ends)
    if (r.get("state") == "closed") != closed or (closed and r.get("end") != max(ends)):  # type: ignore[type-var]
        problems.append("the incident is not closed exactly when its last issue closed")
    for e in grouped:
        known = index.get(EVENT_ISSUES, e["eventId"]) or index.get("issues", e["eventId"])
        if known is None:
            if _read(index, "issues") and not _cut_off(index, "issues", e.get("start")):
                problems.append(f"recentEvents {e['eventId']!r} does not exist in issues")
            continue
        if known.get("applicationId") != r.get("applicationId"):
            problems.append(f"recentEvents {e['eventId']!r} is an issue of another application")
        if index.get(EVENT_ISSUES, e["eventId"]) is not None or (index.get(ISSUE_OK, e["eventId"]) or {}).get("ok"):
            differ = [k for k in RECENT_KEYS if known.get(k) != e.get(k)]
            if differ:
                problems.append(f"recentEvents {e['eventId']!r} differs from the issue in {', '.join(differ)}")
    issue = index.get(EVENT_ISSUES, trigger["eventId"])
    if issue is not None:
        problems += _windows(r, issue, trigger["eventId"], index)
        cause = (r.get("probableCause") or {}).get("release")
        if cause is not None:
            problems += _preceding(issue, cause, index)
    return problems


def _event_change(r: dict[str, Any], index: Index) -> list[str]:
    release = index.get("releases", r.get("releaseId"))
    if release is None:
        return [f"releaseId {r.get('releaseId')!r} does not exist in releases"] if _read(index, "releases") else []
    problems = []
    if (r["start"], r.get("end")) != (release["start"], release["lastUpdated"]):
        problems.append("the change does not run from its release's start to its lastUpdated")
    scopes = {(s.get("applicationId"), s.get("serviceId")) for s in release.get("scopes") or []}
    if r.get("entityType") == "SERVICE" and (r.get("applicationId"), r.get("serviceId")) not in scopes:
        problems.append("the change's service and application are not a scope of its release")
    if r.get("entityType") == "APPLICATION" and r.get("applicationId") not in {a for a, _ in scopes}:
        problems.append("the change's application is not one of its release's")
    return problems


HANDLERS = {
    "issues": _on_issue,
    "metrics_timeseries": _on_series,
    "app_topology": _on_service_map,
    "releases": _on_release,
    "application_traces": _on_trace,
    "calls": _on_call,
    "events": _on_event,
}
