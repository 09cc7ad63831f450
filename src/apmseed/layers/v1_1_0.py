"""Dataset 1.1.0: infrastructure topology (containment edges, plus `connected` edges between the processes
of services that call each other), the service map, and the entity-type catalog."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from apmseed.layers import LayerContext, Rows, v1_1_0_alerting

PLUGIN_LABELS = {"host": "Host", "docker": "Docker Container", "process": "Process"}
# which kinds of service call which: web services call web services further down the chain and datastores
MAX_WEB_CALLEES = 3


def fill(ctx: LayerContext) -> Rows:
    connections = _service_connections(ctx)
    return {
        "entity_type": _entity_types(ctx),
        "service_connection": connections,
        "snapshot_relation": _snapshot_relations(ctx, connections),
        **v1_1_0_alerting.fill(ctx),
    }


def _entity_types(ctx: LayerContext) -> list[dict[str, Any]]:
    return [{"plugin": r["plugin"], "label": PLUGIN_LABELS.get(r["plugin"], r["plugin"]), "snapshot_count": r["n"]}
            for r in ctx.rows("SELECT plugin, count(*) n FROM snapshot GROUP BY plugin ORDER BY plugin")]


def _service_connections(ctx: LayerContext) -> list[dict[str, Any]]:
    services = ctx.rows("SELECT id, label, types FROM service ORDER BY id")
    web = [s for s in services if "HTTP" in s["types"]]
    stores = [s for s in services if "HTTP" not in s["types"]]
    ctx.rand.shuffle(web)  # a random call order: earlier services call later ones, so the graph is a DAG
    edges: set[tuple[str, str]] = set()
    for i, caller in enumerate(web):
        downstream = web[i + 1:]
        for callee in ctx.rand.sample(downstream, k=min(len(downstream), ctx.rand.randint(0, MAX_WEB_CALLEES))):
            edges.add((caller["id"], callee["id"]))
        if stores and ctx.rand.random() < 0.7:
            edges.add((caller["id"], ctx.rand.choice(stores)["id"]))
    edges = _scenario_edges(ctx, services, edges)

    # the callee's own metrics bound what its callers can have sent it
    observed = {r["service_id"]: r for r in ctx.rows(
        "SELECT s.service_id,"
        " sum(p.value) FILTER (WHERE s.metric_id = 'calls') calls,"
        " sum(p.value) FILTER (WHERE s.metric_id = 'erroneousCalls') errors,"
        " avg(p.value) FILTER (WHERE s.metric_id = 'latency' AND s.aggregation = 'P50') p50"
        " FROM metric_series s JOIN metric_point p USING (series_id)"
        " WHERE s.entity_kind = 'SERVICE' GROUP BY s.service_id")}
    callers: dict[str, list[str]] = defaultdict(list)
    for src, dst in sorted(edges):
        callers[dst].append(src)

    minutes = int(ctx.options["minutes"])
    rows = []
    for dst, srcs in sorted(callers.items()):
        seen = observed.get(dst) or {}
        total = seen.get("calls")
        if total is None:  # no series for this service: a plausible volume for the window
            total = float(ctx.rand.randint(20, 400) * minutes)
        error_share = (seen["errors"] / total) if seen.get("errors") is not None and total else ctx.rand.uniform(
            0.001, 0.02)
        p50 = seen.get("p50") or ctx.rand.uniform(5.0, 120.0)
        weights = [ctx.rand.uniform(0.2, 1.0) for _ in srcs]
        inbound = ctx.rand.uniform(0.6, 0.95)  # the rest of its calls come from outside the service map
        for src, w in zip(srcs, weights, strict=True):
            calls = int(total * inbound * w / sum(weights))
            rows.append({
                "from_service_id": src, "to_service_id": dst, "calls": calls,
                "erroneous_calls": min(calls, round(calls * error_share)),
                # what the caller sees: the callee's latency plus a little network time
                "latency_ms": round(float(p50) * 1.05 + ctx.rand.uniform(0.2, 3.0), 1),
                "from_ms": ctx.start_ms, "to_ms": ctx.end_ms,
            })
    rows.sort(key=lambda r: (r["from_service_id"], r["to_service_id"]))
    return rows


def _snapshot_relations(ctx: LayerContext, connections: list[dict[str, Any]]) -> list[dict[str, Any]]:
    edges = {(r["snapshot_id"], r["parent_snapshot_id"], "in") for r in ctx.rows(
        "SELECT snapshot_id, parent_snapshot_id FROM snapshot WHERE parent_snapshot_id IS NOT NULL")}
    runs_on: dict[str, list[str]] = defaultdict(list)
    for r in ctx.rows("SELECT service_id, snapshot_id FROM service_snapshot ORDER BY service_id, snapshot_id"):
        runs_on[r["service_id"]].append(r["snapshot_id"])
    for conn in connections:
        for a in runs_on.get(conn["from_service_id"], [])[:1]:
            for b in runs_on.get(conn["to_service_id"], [])[:1]:
                if a != b:
                    edges.add((a, b, "connected"))
    return [{"source_snapshot_id": s, "destination_snapshot_id": d, "relation": r} for s, d, r in sorted(edges)]


def _scenario_edges(ctx: LayerContext, services: list[Any], edges: set[tuple[str, str]]) -> set[tuple[str, str]]:
    """A scenario's declared services call exactly the services it declares (its cascades follow those calls):
    random edges touching them give way to the declared ones."""
    from apmseed.scenarios.plan import from_options

    spec = from_options(ctx.options, ctx.end_ms)
    if spec is None or not spec.services:
        return edges
    by_label = {s["label"]: s["id"] for s in services}
    pinned = {by_label[d.name] for d in spec.services if d.name in by_label}
    kept = {(a, b) for a, b in edges if a not in pinned and b not in pinned}
    return kept | {(by_label[d.name], by_label[callee]) for d in spec.services for callee in d.calls
                   if d.name in by_label and callee in by_label}
