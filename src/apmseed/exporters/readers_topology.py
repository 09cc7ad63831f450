"""Readers for dataset 1.1.0: infrastructure topology, service map, metric and plugin catalogs."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from typing import TYPE_CHECKING

import sqlalchemy as sa

from apmseed.exporters.base import Record

if TYPE_CHECKING:
    from apmseed.exporters.snapshot import Snapshot

FORMATTERS = {"NUMBER": "NUMBER", "MILLIS": "MILLIS", "PERCENTAGE": "PERCENTAGE"}


def infra_topology(snap: Snapshot) -> Iterator[Record]:
    """One Instana `Topology` per host: the host, everything in it, and the edges that touch them."""
    nodes = {r.snapshot_id: r for r in snap.conn.execute(sa.text(
        "SELECT snapshot_id, plugin, label, host, parent_snapshot_id FROM snapshot ORDER BY snapshot_id"))}
    root: dict[str, str] = {}

    def host_of(sid: str) -> str:
        if sid not in root:
            parent = nodes[sid].parent_snapshot_id
            root[sid] = sid if parent is None else host_of(parent)
        return root[sid]

    members: dict[str, list[str]] = defaultdict(list)
    for sid in nodes:
        members[host_of(sid)].append(sid)
    edges: dict[str, list[Record]] = defaultdict(list)
    for r in snap.conn.execute(sa.text("SELECT source_snapshot_id s, destination_snapshot_id d, relation"
                                       " FROM snapshot_relation ORDER BY 1, 2, 3")):
        edges[host_of(r.s)].append({"source": r.s, "destination": r.d, "relation": r.relation})
    for host in sorted(members):
        yield {
            "rootSnapshotId": host,
            "nodes": [{"id": sid, "label": nodes[sid].label, "plugin": nodes[sid].plugin,
                       "entityId": {"pluginId": nodes[sid].plugin, "host": nodes[sid].host, "steadyId": sid}}
                      for sid in members[host]],
            "edges": edges[host],
        }


def app_topology(snap: Snapshot) -> Iterator[Record]:
    """One Instana `ServiceMap` per application: its services, the services they call, and the calls."""
    services = {s["id"]: s for s in snap.services()}
    counts = dict(snap.conn.execute(sa.text(
        "SELECT service_id, count(*) FROM event WHERE service_id IS NOT NULL AND state = 'open' GROUP BY 1")).all())
    severities = dict(snap.conn.execute(sa.text(
        "SELECT service_id, max(severity) FROM event WHERE service_id IS NOT NULL AND state = 'open'"
        " GROUP BY 1")).all())
    conns = list(snap.conn.execute(sa.text(
        "SELECT from_service_id src, to_service_id dst, calls, erroneous_calls errs, latency_ms latency"
        " FROM service_connection ORDER BY 1, 2")))
    by_app: dict[str, list[str]] = defaultdict(list)
    for sid, svc in services.items():
        for app in svc["applicationIds"]:
            by_app[app].append(sid)
    for app in sorted(by_app):
        inside = set(by_app[app])
        edges = [c for c in conns if c.src in inside]
        ids = sorted(inside | {c.dst for c in edges})
        yield {
            "applicationId": app,
            "services": [{
                "id": sid, "label": services[sid]["label"], "entityType": "SERVICE",
                "applications": services[sid]["applicationIds"], "snapshotIds": services[sid]["snapshotIds"],
                "technologies": services[sid]["technologies"], "types": services[sid]["types"],
                "numberOfOpenIssues": int(counts.get(sid, 0)), "maxSeverity": int(severities.get(sid, 0)),
            } for sid in ids],
            "connections": [{"from": c.src, "to": c.dst, "calls": int(c.calls),
                             "errorRate": round(c.errs / c.calls, 6) if c.calls else 0.0, "latency": c.latency}
                            for c in edges],
        }


def metrics_catalog(snap: Snapshot) -> Iterator[Record]:
    """Application metrics as `MetricDescription`, infrastructure metrics per plugin as `MetricInstance`:
    exactly the metrics the series use."""
    used = {(r.entity_kind, r.metric_id) for r in snap.conn.execute(sa.text(
        "SELECT DISTINCT entity_kind, metric_id FROM metric_series"))}
    defs = snap.conn.execute(sa.text("SELECT * FROM metric_definition ORDER BY metric_id, entity_kind")).mappings()
    app_metrics: dict[str, Record] = {}
    infra: list = []
    for d in defs:
        if (d["entity_kind"], d["metric_id"]) not in used:
            continue
        if d["entity_kind"] == "INFRASTRUCTURE":
            infra.append(d)
            continue
        item = app_metrics.setdefault(d["metric_id"], {
            "catalogId": f"application:{d['metric_id']}", "catalog": "APPLICATION", "metricId": d["metric_id"],
            "label": d["label"], "formatter": FORMATTERS[d["unit"]], "description": d["description"],
            "aggregations": list(d["aggregations"]), "defaultAggregation": d["aggregations"][0], "entityTypes": []})
        item["entityTypes"].append(d["entity_kind"])
    yield from app_metrics.values()
    plugins = [r.plugin for r in snap.conn.execute(sa.text("SELECT plugin FROM entity_type ORDER BY plugin"))]
    for plugin in plugins:
        for d in infra:
            yield {"catalogId": f"infrastructure:{plugin}:{d['metric_id']}", "catalog": "INFRASTRUCTURE",
                   "metricId": d["metric_id"], "pluginId": plugin, "label": d["label"],
                   "description": d["description"], "formatter": FORMATTERS[d["unit"]], "custom": False}


def entity_types(snap: Snapshot) -> Iterator[Record]:
    for r in snap.conn.execute(sa.text("SELECT plugin, label, snapshot_count FROM entity_type ORDER BY plugin")):
        yield {"plugin": r.plugin, "label": r.label, "snapshotCount": r.snapshot_count}
