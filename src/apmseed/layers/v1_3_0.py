"""Dataset 1.3.0: releases and their deploy events, incidents, the issue <-> metric correlation, and traces.

Everything is placed so that it explains what the older tables already show: some releases land a minute or
two before a latency or error issue of their service (a bad deploy, sometimes rolled back before the issue
ends), the others at quiet times; incidents group the issues of one application that follow each other; each
issue names the series windows that show its excursion; traces run along the service map, slow and failing
where the metrics are, never more of them than the calls series count, and one exists for every trace id the
1.2.0 log lines carry."""

from __future__ import annotations

import random
import re
from collections import defaultdict
from collections.abc import Iterator
from typing import Any

import numpy as np
import sqlalchemy as sa

from apmseed import load, vocab
from apmseed.factories.base import reseed
from apmseed.factories.releases import ChangeEventFactory, IncidentFactory, ReleaseFactory
from apmseed.factories.traces import (
    CALL_COLUMNS,
    TRACE_COLUMNS,
    LoggedSpan,
    ServiceMap,
    Signals,
    TraceBuilder,
)
from apmseed.layers import LayerContext, Rows, Stream, rechunk

MINUTE_MS = 60_000
BAD_DEPLOY_LEAD_MS = (60_000, 120_000)  # a bad deploy lands this long before its issue starts
BAD_DEPLOY_SHARE = 0.6  # of the latency / error issues of services and endpoints that can have one
ROLLBACK_SHARE = 0.5  # of the bad deploys whose issues all closed
QUIET_MARGIN_MS = (5 * MINUTE_MS, 20 * MINUTE_MS)  # no issue of the service this long before / after
TRAIN_SHARE = 0.25  # quiet releases that ship several services of one application together
INCIDENT_GAP_MS = 10 * MINUTE_MS  # issues of one application this close together form one incident
MAX_SCOPE = 10  # ReleaseWithMetadata: at most 10 applications and 10 services
PROBLEM_KINDS = {texts[0]: kind for kind, texts in vocab.PROBLEMS.items()}
# which series show the excursion of each kind of problem
CORRELATED_METRICS = {"latency": ("latency",), "errors": ("erroneousCalls",), "cpu": ("cpu.used",),
                      "memory": ("memory.used",)}
LOG_TABLE = "log_entry"


def fill(ctx: LayerContext) -> Rows:
    reseed(_int_seed(ctx.seed))
    issues = [dict(r) for r in ctx.rows("SELECT * FROM event WHERE type = 'issue' ORDER BY start_ms, event_id")]
    releases = _releases(ctx, issues)
    incidents, incident_events = _incidents(ctx, issues, releases["release_issue"], releases["release"])
    builder, logged, sampling = _traces(ctx, issues)
    return {
        **releases,
        "incident": incidents,
        "incident_event": incident_events,
        "event_metric": _event_metrics(ctx),
        # calls stream while traces are built; the trace rows (a sixth as many) wait until every call is made
        "call": Stream(CALL_COLUMNS, rechunk(_call_chunks(builder, logged, sampling, ctx.chunk_rows), ctx.chunk_rows),
                       expected=ctx.options.get("calls")),
        "trace": Stream(TRACE_COLUMNS, _trace_chunks(builder, ctx.chunk_rows), expected=lambda: len(builder.traces)),
    }


def _call_chunks(builder: TraceBuilder, logged: list[tuple[str, list[LoggedSpan]]], sampling: Iterator[None],
                 size: int) -> Iterator[list[list[Any]]]:
    """The traces the log lines name first (they must exist; sampled ones may be dropped), then the sampled
    ones; the calls leave in batches of about `size` as they are made."""
    for trace_id, spans in logged:
        builder.logged(trace_id, spans)
        if len(builder.calls) >= size:
            yield builder.take_calls()
    logged.clear()
    for _ in sampling:
        if len(builder.calls) >= size:
            yield builder.take_calls()
    yield builder.take_calls()


def _trace_chunks(builder: TraceBuilder, size: int) -> Iterator[list[tuple[Any, ...]]]:
    """The trace rows, once the call stream has run (tables load in order)."""
    traces, builder.traces = builder.traces, []
    for k in range(0, len(traces), size):
        yield traces[k:k + size]


def _int_seed(seed: int) -> int:
    return (seed * 1_000_003 + 130) % (2**31)


def _kind(issue: dict[str, Any]) -> str | None:
    return PROBLEM_KINDS.get(issue["problem"])


def _slug(label: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", label.lower()).strip("-") or "app"


# -- releases -----------------------------------------------------------------------------------------------
def _releases(ctx: LayerContext, issues: list[dict[str, Any]]) -> Rows:
    rand = ctx.rand
    apps = {r["id"]: dict(r) for r in ctx.rows("SELECT id, label FROM application ORDER BY id")}
    services = {r["id"]: dict(r) for r in ctx.rows("SELECT id, label FROM service ORDER BY id")}
    apps_of: dict[str, list[str]] = defaultdict(list)
    services_of: dict[str, list[str]] = defaultdict(list)
    for r in ctx.rows("SELECT application_id, service_id FROM application_service ORDER BY 1, 2"):
        apps_of[r["service_id"]].append(r["application_id"])
        services_of[r["application_id"]].append(r["service_id"])

    # plans: (start_ms, [service ids], application id for a train or None, rolled-back plan or None, [issues])
    plans: list[dict[str, Any]] = []

    # bad deploys: one to two minutes before some latency / error issues of a service or endpoint
    eligible = [i for i in issues if i["entity_type"] in ("SERVICE", "ENDPOINT")
                and _kind(i) in ("latency", "errors") and i["start_ms"] - BAD_DEPLOY_LEAD_MS[1] >= ctx.start_ms]
    chosen = [i for i in eligible if rand.random() < BAD_DEPLOY_SHARE] or eligible[:1]
    for issue in chosen:
        reuse = next((p for p in plans if p["services"] == [issue["service_id"]]
                      and BAD_DEPLOY_LEAD_MS[0] <= issue["start_ms"] - p["start"] <= BAD_DEPLOY_LEAD_MS[1]), None)
        if reuse is not None:
            reuse["issues"].append(issue)
            continue
        start = issue["start_ms"] - rand.randint(*BAD_DEPLOY_LEAD_MS)
        plans.append({"start": start, "services": [issue["service_id"]], "train": None, "rollback_of": None,
                      "issues": [issue]})

    # rollbacks of some bad deploys, shortly before their issues end
    for plan in list(plans):
        ends = [i["end_ms"] for i in plan["issues"]]
        if None in ends or rand.random() >= ROLLBACK_SHARE:
            continue
        start = min(ends) - rand.randint(30_000, 90_000)
        between = any(p["services"] == plan["services"] and plan["start"] < p["start"] <= start for p in plans)
        if start > plan["start"] + 4 * MINUTE_MS and not between:
            plans.append({"start": start, "services": list(plan["services"]), "train": None, "rollback_of": plan,
                          "issues": []})

    # quiet releases: no issue of their services around them
    busy: dict[str, list[tuple[int, int]]] = defaultdict(list)
    for i in issues:
        if i["service_id"] is not None:
            busy[i["service_id"]].append((i["start_ms"], i["end_ms"] or ctx.end_ms))
    latest_start = ctx.end_ms - 5 * MINUTE_MS
    trains = [a for a in sorted(services_of) if len(services_of[a]) >= 2]
    for _ in range(max(2, len(services) // 2)):
        for _attempt in range(20):
            if trains and rand.random() < TRAIN_SHARE:
                app = rand.choice(trains)
                members = sorted(rand.sample(services_of[app], k=min(len(services_of[app]), rand.randint(2, 3))))
            else:
                app, members = None, [rand.choice(sorted(services))]
            start = rand.randint(ctx.start_ms, max(ctx.start_ms, latest_start))
            lo, hi = start - QUIET_MARGIN_MS[0], start + QUIET_MARGIN_MS[1]
            if all(end <= lo or begin >= hi for s in members for begin, end in busy[s]):
                plans.append({"start": start, "services": members, "train": app, "rollback_of": None, "issues": []})
                break

    plans += _scenario_release_plans(ctx, services, issues)
    plans.sort(key=lambda p: (p["start"], p["services"]))
    return _release_rows(ctx, plans, apps, services, apps_of)


def _scenario_release_plans(ctx: LayerContext, services: dict[str, dict], issues: list[dict[str, Any]]
                            ) -> list[dict[str, Any]]:
    """A scenario's deploys, at their declared time and version; an issue of the service one to two minutes
    later is what the deploy explains (a later one is told by the ground truth instead)."""
    from apmseed.scenarios.plan import from_options

    spec = from_options(ctx.options, ctx.end_ms)
    if spec is None:
        return []
    by_label = {s["label"]: sid for sid, s in services.items()}
    plans = []
    for release in spec.releases:
        sid = by_label.get(release.service)
        if sid is None or not ctx.start_ms <= release.at_ms < ctx.end_ms:
            continue
        explained = [i for i in issues if i["service_id"] == sid
                     and BAD_DEPLOY_LEAD_MS[0] <= i["start_ms"] - release.at_ms <= BAD_DEPLOY_LEAD_MS[1]]
        plans.append({"start": release.at_ms, "services": [sid], "train": None, "rollback_of": None,
                      "issues": explained, "version": release.version})
    return plans


def _release_rows(ctx: LayerContext, plans: list[dict[str, Any]], apps: dict[str, dict], services: dict[str, dict],
                  apps_of: dict[str, list[str]]) -> Rows:
    rand = ctx.rand
    history: dict[str, list[str]] = {}  # service id -> versions deployed, oldest first
    build = rand.randint(1000, 4000)
    releases, rel_apps, rel_services, rel_issues, changes = [], [], [], [], []
    ReleaseFactory.reset_sequence(0, force=True)
    ChangeEventFactory.reset_sequence(0, force=True)
    for n, plan in enumerate(plans):
        if plan["train"] is not None:
            build += rand.randint(1, 40)
            row = ReleaseFactory.build(seed=ctx.seed, n=n, start=plan["start"], version_text=str(build), train=True,
                                       app_slug=_slug(apps[plan["train"]]["label"]))
            scope = {s: [plan["train"]] for s in plan["services"]}
        else:
            (sid,) = plan["services"]
            versions = history.setdefault(sid, [_first_version(rand)])
            if plan["rollback_of"] is not None:
                bad = plan["rollback_of"]["row"]["version"]
                version = versions[versions.index(bad) - 1] if versions.index(bad) > 0 else versions[0]
            else:
                version = plan.get("version") or _next_version(rand, versions[-1])
            versions.append(version)
            row = ReleaseFactory.build(seed=ctx.seed, n=n, start=plan["start"], version_text=version,
                                       service_label=services[sid]["label"],
                                       rollback_of=plan["rollback_of"]["row"] if plan["rollback_of"] else None)
            scope = {sid: apps_of[sid][:MAX_SCOPE]}
        row["last_updated_ms"] = min(row["last_updated_ms"], ctx.end_ms - 1)
        plan["row"] = row
        releases.append(row)
        listed = sorted({a for scoped in scope.values() for a in scoped})
        rel_apps.extend({"release_id": row["id"], "application_id": a} for a in listed)
        rel_services.extend({"release_id": row["id"], "service_id": s, "application_id": a}
                            for s, scoped in sorted(scope.items()) for a in scoped)
        rel_issues.extend({"event_id": i["event_id"], "release_id": row["id"]} for i in plan["issues"])
        single = plan["services"][0] if plan["train"] is None else None
        changes.append(ChangeEventFactory.build(
            seed=ctx.seed, n=n, release=row, services=[services[s]["label"] for s in plan["services"]],
            application=apps[scope[plan["services"][0]][0]], service=services[single] if single else None))
    rel_issues.sort(key=lambda r: r["event_id"])
    return {"release": releases, "release_application": rel_apps, "release_service": rel_services,
            "release_issue": rel_issues, "change_event": changes}


def _first_version(rand: random.Random) -> str:
    return f"{rand.randint(1, 4)}.{rand.randint(0, 30)}.{rand.randint(0, 9)}"


def _next_version(rand: random.Random, version: str) -> str:
    major, minor, patch = (int(p) for p in version.split("."))
    return f"{major}.{minor + 1}.0" if rand.random() < 0.2 else f"{major}.{minor}.{patch + 1}"


# -- incidents ----------------------------------------------------------------------------------------------
def _incidents(ctx: LayerContext, issues: list[dict[str, Any]], release_issues: list[dict[str, Any]],
               releases: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Issues of one application that start within INCIDENT_GAP_MS of the group's latest end form a group; a
    group of two or more, or with a critical issue, is an incident."""
    apps = {r["id"]: dict(r) for r in ctx.rows("SELECT id, label FROM application ORDER BY id")}
    cause_of = {r["event_id"]: r["release_id"] for r in release_issues}
    release_by_id = {r["id"]: r for r in releases}
    by_app: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for issue in issues:
        if issue["application_id"] is not None:
            by_app[issue["application_id"]].append(issue)
    groups: list[tuple[str, list[dict[str, Any]]]] = []
    for app_id in sorted(by_app):
        group: list[dict[str, Any]] = []
        reach = 0
        for issue in by_app[app_id]:  # already by start
            if group and issue["start_ms"] > reach + INCIDENT_GAP_MS:
                groups.append((app_id, group))
                group = []
            group.append(issue)
            reach = max(reach if len(group) > 1 else 0, issue["end_ms"] or ctx.end_ms)
        if group:
            groups.append((app_id, group))
    groups = [(a, g) for a, g in groups if len(g) >= 2 or any(i["severity"] == 10 for i in g)]
    groups.sort(key=lambda item: (item[1][0]["start_ms"], item[1][0]["event_id"]))
    IncidentFactory.reset_sequence(0, force=True)
    incidents, links = [], []
    for n, (app_id, group) in enumerate(groups):
        cause = release_by_id.get(cause_of.get(group[0]["event_id"], ""))
        row = IncidentFactory.build(seed=ctx.seed, n=n, issues=group, application=apps[app_id], cause=cause)
        incidents.append(row)
        links.extend({"incident_id": row["event_id"], "event_id": i["event_id"]} for i in group)
    return incidents, links


# -- issue <-> metric correlation ---------------------------------------------------------------------------
def _event_metrics(ctx: LayerContext) -> list[dict[str, Any]]:
    """For each issue, the series of its entity that its kind of problem moves, over the issue's window
    [start, end) (an open issue: to the end of the series); kept only where the window's mean is above the
    mean of the points outside it."""
    kinds = " ".join(f"WHEN '{title}' THEN ARRAY[{', '.join(repr(m) for m in CORRELATED_METRICS[kind])}]"
                     for title, kind in PROBLEM_KINDS.items())
    rows = ctx.rows(
        "WITH w AS ("
        "  SELECT e.event_id, s.series_id, e.start_ms AS window_from_ms, coalesce(e.end_ms, s.to_ms) AS window_to_ms"
        "  FROM event e JOIN metric_series s ON s.entity_kind = e.entity_type AND CASE e.entity_type"
        "    WHEN 'APPLICATION' THEN s.application_id = e.application_id"
        "    WHEN 'SERVICE' THEN s.service_id = e.service_id"
        "    WHEN 'ENDPOINT' THEN s.endpoint_id = e.endpoint_id"
        "    WHEN 'INFRASTRUCTURE' THEN s.snapshot_id = e.snapshot_id END"
        f"  WHERE e.type = 'issue' AND s.metric_id = ANY (CASE e.problem {kinds} END))"
        " SELECT w.event_id, w.series_id, w.window_from_ms, w.window_to_ms,"
        # least(): the float average of a constant window can exceed its peak by a rounding step
        "  least(avg(p.value) FILTER (WHERE p.ts_ms >= w.window_from_ms AND p.ts_ms < w.window_to_ms),"
        "        max(p.value) FILTER (WHERE p.ts_ms >= w.window_from_ms AND p.ts_ms < w.window_to_ms)) AS window_mean,"
        "  avg(p.value) FILTER (WHERE p.ts_ms < w.window_from_ms OR p.ts_ms >= w.window_to_ms) AS baseline_mean,"
        "  max(p.value) FILTER (WHERE p.ts_ms >= w.window_from_ms AND p.ts_ms < w.window_to_ms) AS peak"
        " FROM w JOIN metric_point p USING (series_id)"
        " GROUP BY w.event_id, w.series_id, w.window_from_ms, w.window_to_ms"
        " ORDER BY w.event_id, w.series_id")
    return [dict(r) for r in rows if r["window_mean"] is not None and r["baseline_mean"] is not None
            and r["window_mean"] > r["baseline_mean"]]


# -- traces -------------------------------------------------------------------------------------------------
def _traces(ctx: LayerContext, issues: list[dict[str, Any]]
            ) -> tuple[TraceBuilder, list[tuple[str, list[LoggedSpan]]], Iterator[None]]:
    """The builder, the traces the log lines need, and the sampling still to run: sampled traces until the
    profile's `calls` target is reached (without that option: a number per service and minute)."""
    world = _service_map(ctx)
    builder = TraceBuilder(world, ctx.rand, ctx.seed)
    focus = [(i["service_id"], i["endpoint_id"], i["start_ms"], i["end_ms"] or ctx.end_ms) for i in issues
             if i["entity_type"] in ("SERVICE", "ENDPOINT")]
    if ctx.options.get("calls") is not None:
        sampling = builder.sampled(focus, until_calls=int(ctx.options["calls"]))
    else:
        sampling = builder.sampled(focus, count=max(24, int(ctx.options["minutes"]) * len(world.services) // 40))
    return builder, _logged_traces(ctx), sampling


def _service_map(ctx: LayerContext) -> ServiceMap:
    step_ms = int(ctx.options["resolution"]) * MINUTE_MS
    services = {r["id"]: dict(r) for r in ctx.rows("SELECT id, label, types, technologies FROM service ORDER BY id")}
    endpoints: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in ctx.rows("SELECT id, service_id, label, type FROM endpoint ORDER BY id"):
        endpoints[r["service_id"]].append(dict(r))
    apps_of: dict[str, list[str]] = defaultdict(list)
    for r in ctx.rows("SELECT application_id, service_id FROM application_service ORDER BY 1, 2"):
        apps_of[r["service_id"]].append(r["application_id"])
    callees: dict[str, list[str]] = defaultdict(list)
    for r in ctx.rows("SELECT from_service_id, to_service_id FROM service_connection ORDER BY 1, 2"):
        callees[r["from_service_id"]].append(r["to_service_id"])
    world = ServiceMap(ctx.start_ms, ctx.end_ms, step_ms, services, dict(endpoints), dict(apps_of), dict(callees))

    points = (ctx.end_ms - ctx.start_ms) // step_ms
    series = {r["series_id"]: (r["entity_kind"], r["eid"], r["metric_id"]) for r in ctx.rows(
        "SELECT s.series_id, s.entity_kind, coalesce(s.service_id, s.endpoint_id) AS eid, s.metric_id"
        " FROM metric_series s"
        " WHERE (s.entity_kind = 'SERVICE' AND (s.metric_id IN ('calls', 'erroneousCalls') OR"
        "        (s.metric_id = 'latency' AND s.aggregation = 'P50')))"
        "    OR (s.entity_kind = 'ENDPOINT' AND (s.metric_id IN ('calls', 'erroneousCalls') OR"
        "        (s.metric_id = 'latency' AND s.aggregation = 'MEAN')))")}
    for series_id, ts, vals in load.series_points(ctx.pg, series):
        kind, eid, metric = series[series_id]
        values = np.zeros(points)  # a missing point counts as 0: no calls, no errors there
        index = (np.asarray(ts, dtype=np.int64) - ctx.start_ms) // step_ms
        inside = (index >= 0) & (index < points)
        values[index[inside]] = np.asarray(vals, dtype=np.float64)[inside]
        signals = (world.service_signals if kind == "SERVICE" else world.endpoint_signals).setdefault(eid, Signals())
        setattr(signals, {"calls": "calls", "erroneousCalls": "errors", "latency": "latency"}[metric], values)
    return world


def _logged_traces(ctx: LayerContext) -> list[tuple[str, list[LoggedSpan]]]:
    """The trace ids of the 1.2.0 log lines, each with the lines that carry it (service, time, error)."""
    if ctx.conn.execute(sa.text("SELECT to_regclass(:t)"), {"t": LOG_TABLE}).scalar() is None:
        return []
    spans: dict[str, list[LoggedSpan]] = defaultdict(list)
    for r in ctx.conn.execute(sa.text(
            f"SELECT trace_id, service_id, endpoint_id, timestamp_ms, level FROM {LOG_TABLE}"
            " WHERE trace_id IS NOT NULL ORDER BY trace_id, timestamp_ms, log_id")):
        spans[r.trace_id].append(LoggedSpan(r.service_id, r.timestamp_ms, r.level == "ERROR", r.endpoint_id))
    return sorted(spans.items())
